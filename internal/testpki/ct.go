package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// Object identifiers of Certificate Transparency (RFC 6962).
var (
	OIDSCTList       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
	OIDOCSPSCTList   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 5}
	OIDPrecertPoison = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
)

// Log states of a v3 log list. StateNone lists the log without a state.
const (
	StatePending   = "pending"
	StateQualified = "qualified"
	StateUsable    = "usable"
	StateReadOnly  = "readonly"
	StateRetired   = "retired"
	StateRejected  = "rejected"
	StateNone      = "none"
)

// CTLog is a fake Certificate Transparency log: a key, and what a v3 log
// list says about it. Its fields may be changed before building a list
// with CTLogList.
type CTLog struct {
	Description string
	Operator    string
	Key         crypto.Signer
	// Tiled makes a static-ct-api log: listed under tiled_logs, and its
	// SCTs carry the leaf_index extension.
	Tiled bool
	// State is the log's state in the list (StateUsable when empty;
	// StateNone leaves it out), entered at StateSince (a year before Now
	// when zero).
	State      string
	StateSince time.Time
	// LogType is the optional log_type ("prod", "test").
	LogType string
	// TemporalStart and TemporalEnd, when set, make a temporal shard.
	TemporalStart, TemporalEnd time.Time
	// PreviousOperators ran the log before Operator, each until End.
	PreviousOperators []CTPreviousOperator

	mu        sync.Mutex // guards nextIndex
	nextIndex uint64
}

// CTPreviousOperator is a previous operator of a log.
type CTPreviousOperator struct {
	Name string
	End  time.Time
}

// rsaLogKeys are distinct RSA 2048 keys for fake logs, shared round-robin
// (RSA generation is slow): at most len of them in one list.
var rsaLogKeys = struct {
	sync.Mutex
	keys []crypto.Signer
	next int
}{}

const rsaLogKeyCount = 4

// NewCTLog returns a usable log run by operator, with a fresh ECDSA P-256
// key, or an RSA 2048 key from a pool of four (so one list holds at most
// four RSA logs). Other key types make logs whose keys RFC 6962 refuses.
func NewCTLog(description, operator string, kt KeyType) (*CTLog, error) {
	var key crypto.Signer
	var err error
	if kt == RSA2048 {
		rsaLogKeys.Lock()
		if len(rsaLogKeys.keys) < rsaLogKeyCount {
			key, err = FreshKey(RSA2048)
			if err == nil {
				rsaLogKeys.keys = append(rsaLogKeys.keys, key)
			}
		} else {
			key = rsaLogKeys.keys[rsaLogKeys.next%rsaLogKeyCount]
			rsaLogKeys.next++
		}
		rsaLogKeys.Unlock()
	} else {
		key, err = FreshKey(kt)
	}
	if err != nil {
		return nil, err
	}
	return &CTLog{Description: description, Operator: operator, Key: key}, nil
}

// PublicKeyDER returns the log's SubjectPublicKeyInfo.
func (l *CTLog) PublicKeyDER() []byte {
	der, err := x509.MarshalPKIXPublicKey(l.Key.Public())
	if err != nil {
		panic(err) // the key types NewCTLog makes always marshal
	}
	return der
}

// ID returns the log ID: the SHA-256 hash of the log's public key.
func (l *CTLog) ID() [32]byte { return sha256.Sum256(l.PublicKeyDER()) }

// SCTOptions shape one SCT. The zero value makes a valid v1 SCT issued an
// hour before Now; the other fields build hostile ones.
type SCTOptions struct {
	// Timestamp defaults to an hour before Now.
	Timestamp time.Time
	// Version is written as is (0 is v1).
	Version uint8
	// Extensions are the SCT's extensions; a tiled log adds leaf_index
	// when nil.
	Extensions []byte
	// HashAlgorithm and SignatureAlgorithm override the bytes written
	// (the signature is still made with SHA-256 and the log's key).
	HashAlgorithm, SignatureAlgorithm uint8
	// CorruptSignature flips a bit of the signature.
	CorruptSignature bool
	// TamperTimestamp changes the timestamp after signing, by this much.
	TamperTimestamp time.Duration
}

// SCTForCert returns an SCT for the X.509 entry der (what the TLS
// extension and OCSP responses carry).
func (l *CTLog) SCTForCert(der []byte, o SCTOptions) ([]byte, error) {
	return l.sign(0, nil, der, o)
}

// SCTForPrecert returns an SCT for the precertificate entry: tbs is the
// precertificate's TBSCertificate without the poison, issuer the final
// certificate's issuer.
func (l *CTLog) SCTForPrecert(issuer *x509.Certificate, tbs []byte, o SCTOptions) ([]byte, error) {
	h := sha256.Sum256(issuer.RawSubjectPublicKeyInfo)
	return l.sign(1, h[:], tbs, o)
}

// LeafIndexExtension returns the static-ct-api SCT extensions holding
// leaf_index i.
func LeafIndexExtension(i uint64) []byte {
	return []byte{0, 0, 5, byte(i >> 32), byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
}

func (l *CTLog) sign(entryType uint16, issuerKeyHash, entry []byte, o SCTOptions) ([]byte, error) {
	ts := o.Timestamp
	if ts.IsZero() {
		ts = Now.Add(-time.Hour)
	}
	ms := uint64(ts.UnixMilli())
	ext := o.Extensions
	if ext == nil && l.Tiled {
		l.mu.Lock()
		ext = LeafIndexExtension(l.nextIndex)
		l.nextIndex++
		l.mu.Unlock()
	}
	var sd cryptobyte.Builder
	sd.AddUint8(0)
	sd.AddUint8(0)
	sd.AddUint64(ms)
	sd.AddUint16(entryType)
	if entryType == 1 {
		sd.AddBytes(issuerKeyHash)
	}
	sd.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(entry) })
	sd.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ext) })
	msg, err := sd.Bytes()
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(msg)
	sig, err := l.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	if o.CorruptSignature {
		sig[len(sig)/2] ^= 0x10
	}
	hashAlg, sigAlg := uint8(4), uint8(3)
	if _, ok := l.Key.Public().(*rsa.PublicKey); ok {
		sigAlg = 1
	}
	if o.HashAlgorithm != 0 {
		hashAlg = o.HashAlgorithm
	}
	if o.SignatureAlgorithm != 0 {
		sigAlg = o.SignatureAlgorithm
	}
	if o.TamperTimestamp != 0 {
		ms = uint64(int64(ms) + o.TamperTimestamp.Milliseconds())
	}
	id := l.ID()
	var b cryptobyte.Builder
	b.AddUint8(o.Version)
	b.AddBytes(id[:])
	b.AddUint64(ms)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ext) })
	b.AddUint8(hashAlg)
	b.AddUint8(sigAlg)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sig) })
	return b.Bytes()
}

// SCTList encodes SCTs as a TLS SignedCertificateTimestampList.
func SCTList(scts ...[]byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, s := range scts {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s) })
		}
	})
	return b.Bytes()
}

// SCTListExtension returns the certificate extension embedding scts.
func SCTListExtension(scts ...[]byte) (pkix.Extension, error) {
	v, err := sctListValue(scts)
	return pkix.Extension{Id: OIDSCTList, Value: v}, err
}

// OCSPSCTListExtension returns the OCSP single extension carrying scts.
func OCSPSCTListExtension(scts ...[]byte) (pkix.Extension, error) {
	v, err := sctListValue(scts)
	return pkix.Extension{Id: OIDOCSPSCTList, Value: v}, err
}

func sctListValue(scts [][]byte) ([]byte, error) {
	list, err := SCTList(scts...)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1OctetString(list)
	return b.Bytes()
}

// PoisonExtension is the critical precertificate poison extension.
func PoisonExtension() pkix.Extension {
	return pkix.Extension{Id: OIDPrecertPoison, Critical: true, Value: []byte{0x05, 0x00}}
}

// Embed is one SCT to embed in a certificate: signed by Log with Options
// over the precertificate, or Raw bytes as they are (for hostile cases).
type Embed struct {
	Log     *CTLog
	Options SCTOptions
	Raw     []byte
}

// CTCert is a certificate issued with embedded SCTs, with its
// precertificate and the SCTs.
type CTCert struct {
	*Cert
	// Precert is the precertificate the logs signed (poison extension,
	// no SCT list).
	Precert *x509.Certificate
	// PrecertTBS is what the logs signed: the precertificate's
	// TBSCertificate without the poison.
	PrecertTBS []byte
	// SCTs are the embedded SCTs, in order.
	SCTs [][]byte
}

// IssueWithSCTs issues a precertificate (poison extension, critical), has
// each log sign it, and issues the final certificate with the SCTs
// embedded: the same TBSCertificate with the SCT list in place of the
// poison. The key and serial of opts are fixed for both.
func (ca *Cert) IssueWithSCTs(opts CertOptions, embeds ...Embed) (*CTCert, error) {
	if opts.Signer == nil {
		k, err := NewKey(opts.Key)
		if err != nil {
			return nil, err
		}
		opts.Signer = k
	}
	if opts.Serial == nil {
		s, err := randomSerial()
		if err != nil {
			return nil, err
		}
		opts.Serial = s
	}
	extra := append([]pkix.Extension(nil), opts.ExtraExtensions...)
	// The TBS the logs sign: the certificate without poison and SCTs,
	// minted independently of any TBS surgery.
	plain, err := ca.Issue(opts)
	if err != nil {
		return nil, err
	}
	pre := opts
	pre.ExtraExtensions = append(append([]pkix.Extension(nil), extra...), PoisonExtension())
	precert, err := ca.Issue(pre)
	if err != nil {
		return nil, err
	}
	out := &CTCert{Precert: precert.Cert, PrecertTBS: plain.Cert.RawTBSCertificate}
	for _, e := range embeds {
		if e.Raw != nil {
			out.SCTs = append(out.SCTs, e.Raw)
			continue
		}
		if e.Log == nil {
			return nil, errors.New("testpki: Embed without Log or Raw")
		}
		s, err := e.Log.SCTForPrecert(ca.Cert, out.PrecertTBS, e.Options)
		if err != nil {
			return nil, err
		}
		out.SCTs = append(out.SCTs, s)
	}
	ext, err := SCTListExtension(out.SCTs...)
	if err != nil {
		return nil, err
	}
	final := opts
	final.ExtraExtensions = append(append([]pkix.Extension(nil), extra...), ext)
	c, err := ca.Issue(final)
	if err != nil {
		return nil, err
	}
	out.Cert = c
	return out, nil
}

// CTLogList returns a v3 log list (log_list_schema.json) holding logs,
// grouped by operator in order of first appearance, with timestamp as its
// log_list_timestamp.
func CTLogList(timestamp time.Time, logs ...*CTLog) ([]byte, error) {
	type state struct {
		Timestamp     time.Time      `json:"timestamp"`
		FinalTreeHead map[string]any `json:"final_tree_head,omitempty"`
	}
	type jlog struct {
		Description       string            `json:"description"`
		LogID             []byte            `json:"log_id"`
		Key               []byte            `json:"key"`
		URL               string            `json:"url,omitempty"`
		SubmissionURL     string            `json:"submission_url,omitempty"`
		MonitoringURL     string            `json:"monitoring_url,omitempty"`
		MMD               int               `json:"mmd"`
		State             map[string]state  `json:"state,omitempty"`
		TemporalInterval  map[string]string `json:"temporal_interval,omitempty"`
		LogType           string            `json:"log_type,omitempty"`
		PreviousOperators []map[string]any  `json:"previous_operators,omitempty"`
	}
	type jop struct {
		Name      string   `json:"name"`
		Email     []string `json:"email"`
		Logs      []jlog   `json:"logs"`
		TiledLogs []jlog   `json:"tiled_logs"`
	}
	var ops []*jop
	byName := map[string]*jop{}
	for i, l := range logs {
		op := byName[l.Operator]
		if op == nil {
			op = &jop{Name: l.Operator, Email: []string{fmt.Sprintf("ct%d@operator.invalid", len(ops))}, Logs: []jlog{}, TiledLogs: []jlog{}}
			byName[l.Operator] = op
			ops = append(ops, op)
		}
		id := l.ID()
		j := jlog{Description: l.Description, LogID: id[:], Key: l.PublicKeyDER(), MMD: 86400, LogType: l.LogType}
		base := fmt.Sprintf("https://ct%d.log.invalid/", i)
		if l.Tiled {
			j.SubmissionURL, j.MonitoringURL, j.MMD = base, base+"monitor/", 60
		} else {
			j.URL = base
		}
		st := l.State
		if st == "" {
			st = StateUsable
		}
		if st != StateNone {
			since := l.StateSince
			if since.IsZero() {
				since = Now.AddDate(-1, 0, 0)
			}
			s := state{Timestamp: since.UTC()}
			if st == StateReadOnly {
				s.FinalTreeHead = map[string]any{"sha256_root_hash": make([]byte, 32), "tree_size": 1000}
			}
			j.State = map[string]state{st: s}
		}
		if !l.TemporalStart.IsZero() || !l.TemporalEnd.IsZero() {
			j.TemporalInterval = map[string]string{
				"start_inclusive": l.TemporalStart.UTC().Format(time.RFC3339),
				"end_exclusive":   l.TemporalEnd.UTC().Format(time.RFC3339),
			}
		}
		for _, p := range l.PreviousOperators {
			j.PreviousOperators = append(j.PreviousOperators, map[string]any{"name": p.Name, "end_time": p.End.UTC().Format(time.RFC3339)})
		}
		if l.Tiled {
			op.TiledLogs = append(op.TiledLogs, j)
		} else {
			op.Logs = append(op.Logs, j)
		}
	}
	return json.MarshalIndent(map[string]any{
		"version":            "1.0",
		"log_list_timestamp": timestamp.UTC().Format(time.RFC3339),
		"operators":          ops,
	}, "", "  ")
}

// SignCTLogList signs a log list as Google signs log_list.json: RSA PKCS #1
// v1.5 with SHA-256, or for an ECDSA key an ASN.1 ECDSA signature over
// SHA-256.
func SignCTLogList(list []byte, key crypto.Signer) ([]byte, error) {
	digest := sha256.Sum256(list)
	switch key.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return key.Sign(rand.Reader, digest[:], crypto.SHA256)
	}
	return nil, fmt.Errorf("testpki: cannot sign a log list with %T", key.Public())
}
