package ct

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tlsclient/tlsclient/internal/fileutil"
)

// MaxLogListSize caps the log list files and downloads this package reads.
// Google's all_logs_list.json is about 110 KB.
const MaxLogListSize = 8 << 20

// maxListTime bounds every timestamp of a log list: ParseLogList refuses a
// list with a timestamp at or after it. A real list's timestamps are within
// a few years of today; much later ones are mistakes or attacks, and a
// list dated centuries ahead is beyond what time.Duration measures.
var maxListTime = time.Date(9000, time.January, 1, 0, 0, 0, 0, time.UTC)

// listClockSkew is how far after the time of check a log list may be dated
// (by its log_list_timestamp) before it counts as dated in the future: the
// verifier then reports it, and a Refresher refuses it.
const listClockSkew = 24 * time.Hour

// LogState is the state of a log in a v3 log list, as defined by Chrome's CT
// log lifecycle (log_states.md): pending, qualified, usable, readonly,
// retired or rejected.
type LogState uint8

// Log states. StateNone is a log listed without a state (all_logs_list.json
// lists test logs that way); it never counts towards a policy.
const (
	StateNone LogState = iota
	StatePending
	StateQualified
	StateUsable
	StateReadOnly
	StateRetired
	StateRejected
	// StateUnknown is a state name this package does not know; it never
	// counts towards a policy.
	StateUnknown
)

var stateNames = [...]string{
	StateNone:      "none",
	StatePending:   "pending",
	StateQualified: "qualified",
	StateUsable:    "usable",
	StateReadOnly:  "readonly",
	StateRetired:   "retired",
	StateRejected:  "rejected",
	StateUnknown:   "unknown",
}

func (s LogState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("LogState(%d)", uint8(s))
}

// MarshalText encodes the state by its log list name.
func (s LogState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogType is the optional log_type of a log: "prod", "test", or for the
// static-ct-api logs of all_logs_list.json, "monitoring_only". Empty means
// not given (a production log).
type LogType string

// Log types.
const (
	LogTypeProd           LogType = "prod"
	LogTypeTest           LogType = "test"
	LogTypeMonitoringOnly LogType = "monitoring_only"
)

// Interval is a log's temporal_interval: it accepts only certificates whose
// notAfter is in [Start, End).
type Interval struct {
	Start time.Time `json:"start_inclusive"`
	End   time.Time `json:"end_exclusive"`
}

// TreeHead is the final tree head of a read-only log.
type TreeHead struct {
	SHA256RootHash []byte `json:"sha256_root_hash"`
	TreeSize       uint64 `json:"tree_size"`
}

// PreviousOperator is an operator that ran a log before its current one,
// until End (exclusive).
type PreviousOperator struct {
	Name string    `json:"name"`
	End  time.Time `json:"end_time"`
}

// Operator is a log operator of the list, with its logs.
type Operator struct {
	Name  string
	Email []string
	Logs  []*Log
}

// Log is one CT log of a list: an RFC 6962 log (from "logs") or a
// static-ct-api log (from "tiled_logs", Tiled set).
type Log struct {
	Description string
	// ID is the log ID: the SHA-256 hash of Key's DER encoding.
	ID [32]byte
	// Key is the log's public key; KeyDER its SubjectPublicKeyInfo.
	Key    crypto.PublicKey
	KeyDER []byte
	// KeyErr is set when the key is not one RFC 6962 allows (ECDSA P-256,
	// or RSA of at least 2048 bits): the log's SCTs are then reported as
	// "unsupported_log_key" and never count.
	KeyErr error
	// URL is an RFC 6962 log's base URL; SubmissionURL and MonitoringURL
	// are a tiled log's.
	URL           string
	SubmissionURL string
	MonitoringURL string
	// Tiled marks a static-ct-api log (listed under tiled_logs).
	Tiled bool
	MMD   time.Duration
	Type  LogType
	// State is the log's state and StateSince when it was entered.
	State      LogState
	StateName  string // the state's name in the list (for StateUnknown)
	StateSince time.Time
	// FinalTreeHead is set for a read-only log.
	FinalTreeHead *TreeHead
	// Interval is the temporal interval of a sharded log, nil otherwise.
	Interval *Interval
	// PreviousOperators, oldest first.
	PreviousOperators []PreviousOperator
	// Operator is the log's current operator.
	Operator *Operator
}

// OperatorAt returns the name of the operator that ran the log at t: a
// previous operator whose end time is after t, or else the current one.
// Chrome's policy judges operator diversity this way, with t the SCT's
// timestamp.
func (l *Log) OperatorAt(t time.Time) string {
	for _, p := range l.PreviousOperators {
		if t.Before(p.End) {
			return p.Name
		}
	}
	if l.Operator == nil {
		return ""
	}
	return l.Operator.Name
}

// StateAt returns the state the log was in at t, as far as the list tells.
// The list gives only the current state and when it was entered; before that
// time the log was in an earlier state of the lifecycle pending → qualified →
// usable → readonly → retired, so a usable log was qualified, a readonly log
// usable and a retired log at least qualified (reported as qualified) before
// their timestamps. A qualified log was pending, and for the other states
// nothing is known before their timestamp (StateNone).
func (l *Log) StateAt(t time.Time) LogState {
	if l.StateSince.IsZero() || !t.Before(l.StateSince) {
		return l.State
	}
	switch l.State {
	case StateQualified:
		return StatePending
	case StateUsable, StateRetired:
		return StateQualified
	case StateReadOnly:
		return StateUsable
	}
	return StateNone
}

// acceptedAt reports whether the log is Qualified, Usable or ReadOnly at t:
// what both Chrome ("at the time of check") and Apple ("currently
// approved") require of at least one SCT.
func (l *Log) acceptedAt(t time.Time) bool {
	switch l.StateAt(t) {
	case StateQualified, StateUsable, StateReadOnly:
		return true
	}
	return false
}

// countsAt reports whether an SCT from the log issued at sctTime counts at
// check time now: the log is accepted now, or it is Retired now and the SCT
// was issued before its retirement ("once approved").
func (l *Log) countsAt(now, sctTime time.Time) bool {
	if l.acceptedAt(now) {
		return true
	}
	return l.StateAt(now) == StateRetired && sctTime.Before(l.StateSince)
}

// covers reports whether the log's temporal interval, if it has one,
// holds notAfter: a sharded log accepts only certificates that expire
// within [Start, End).
func (l *Log) covers(notAfter time.Time) bool {
	iv := l.Interval
	return iv == nil || !notAfter.Before(iv.Start) && notAfter.Before(iv.End)
}

// LogList is a parsed v3 log list. It is immutable once parsed and safe for
// concurrent use; a LogList is also a LogSource that always returns itself.
type LogList struct {
	Version string
	// Timestamp is the list's log_list_timestamp: how fresh it is.
	Timestamp time.Time
	Operators []*Operator

	byID map[[32]byte]*Log
}

// Lookup returns the log with the given ID, or nil.
func (l *LogList) Lookup(id [32]byte) *Log {
	if l == nil {
		return nil
	}
	return l.byID[id]
}

// Logs returns every log of the list, in list order.
func (l *LogList) Logs() []*Log {
	var out []*Log
	for _, op := range l.Operators {
		out = append(out, op.Logs...)
	}
	return out
}

// LogList returns l itself, so that a fixed list is a LogSource.
func (l *LogList) LogList() *LogList { return l }

// LogSource supplies the log list a verifier uses, read once per handshake.
// A *LogList is a fixed source; a *Refresher replaces its list as it
// downloads new ones. Implementations must be safe for concurrent use.
type LogSource interface {
	LogList() *LogList
}

// ListError says why a log list was refused.
type ListError struct {
	// Log names the log concerned, when the problem is one log's entry.
	Log string
	// Problem says what is wrong.
	Problem string
	Err     error
}

func (e *ListError) Error() string {
	msg := "ct: log list refused: "
	if e.Log != "" {
		msg += fmt.Sprintf("log %q: ", e.Log)
	}
	msg += e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ListError) Unwrap() error { return e.Err }

// ErrListSignature is wrapped by the errors of ParseSignedLogList when the
// signature does not verify.
var ErrListSignature = errors.New("ct: log list signature does not verify")

// The JSON shapes of log_list_schema.json (v3).
type jsonList struct {
	Version   string         `json:"version"`
	Timestamp *time.Time     `json:"log_list_timestamp"`
	Operators []jsonOperator `json:"operators"`
}

type jsonOperator struct {
	Name      string    `json:"name"`
	Email     []string  `json:"email"`
	Logs      []jsonLog `json:"logs"`
	TiledLogs []jsonLog `json:"tiled_logs"`
}

type jsonLog struct {
	Description       string                     `json:"description"`
	LogID             []byte                     `json:"log_id"`
	Key               []byte                     `json:"key"`
	URL               string                     `json:"url"`
	SubmissionURL     string                     `json:"submission_url"`
	MonitoringURL     string                     `json:"monitoring_url"`
	MMD               int64                      `json:"mmd"`
	State             map[string]json.RawMessage `json:"state"`
	TemporalInterval  *Interval                  `json:"temporal_interval"`
	LogType           string                     `json:"log_type"`
	PreviousOperators []PreviousOperator         `json:"previous_operators"`
}

type jsonState struct {
	Timestamp     *time.Time `json:"timestamp"`
	FinalTreeHead *TreeHead  `json:"final_tree_head"`
}

// ParseLogList parses a log list in the v3 JSON schema of Google's and
// Apple's lists (log_list.json, all_logs_list.json): operators with their
// RFC 6962 logs and static-ct-api tiled_logs, each log's key, ID, state with
// its timestamp, temporal interval, log type and previous operators.
//
// It refuses a list without log_list_timestamp, a list with a timestamp
// (of the list, a state, a previous operator or a temporal interval) in or
// after the year 9000, a log whose log_id is not the SHA-256 hash of its
// key, a key that does not parse, duplicate log IDs and a state object that
// does not hold exactly one state. A key of a type
// RFC 6962 does not allow is kept with Log.KeyErr set. The list is not
// authenticated: use ParseSignedLogList for a list fetched from elsewhere.
func ParseLogList(data []byte) (*LogList, error) {
	if len(data) > MaxLogListSize {
		return nil, &ListError{Problem: fmt.Sprintf("%d bytes is more than the %d a log list may have", len(data), MaxLogListSize)}
	}
	var j jsonList
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&j); err != nil {
		return nil, &ListError{Problem: "not a v3 log list (JSON)", Err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ListError{Problem: "trailing data after the JSON object"}
	}
	if j.Timestamp == nil || j.Timestamp.IsZero() {
		return nil, &ListError{Problem: "no log_list_timestamp (it tells how fresh the list is, and is required)"}
	}
	if !j.Timestamp.Before(maxListTime) {
		return nil, &ListError{Problem: fmt.Sprintf("log_list_timestamp %s is not a plausible date", j.Timestamp.UTC().Format(time.RFC3339))}
	}
	list := &LogList{Version: j.Version, Timestamp: *j.Timestamp, byID: map[[32]byte]*Log{}}
	for i := range j.Operators {
		jop := &j.Operators[i]
		if jop.Name == "" {
			return nil, &ListError{Problem: fmt.Sprintf("operator %d has no name", i)}
		}
		op := &Operator{Name: jop.Name, Email: jop.Email}
		for k, group := range [][]jsonLog{jop.Logs, jop.TiledLogs} {
			for n := range group {
				l, err := parseLog(&group[n], k == 1)
				if err != nil {
					return nil, err
				}
				if other, dup := list.byID[l.ID]; dup {
					return nil, &ListError{Log: l.Description, Problem: fmt.Sprintf("log ID %s is also the ID of %q", b64(l.ID[:]), other.Description)}
				}
				l.Operator = op
				list.byID[l.ID] = l
				op.Logs = append(op.Logs, l)
			}
		}
		list.Operators = append(list.Operators, op)
	}
	return list, nil
}

func parseLog(j *jsonLog, tiled bool) (*Log, error) {
	name := j.Description
	if name == "" {
		name = b64(j.LogID)
	}
	bad := func(problem string, err error) error { return &ListError{Log: name, Problem: problem, Err: err} }
	if len(j.Key) == 0 {
		return nil, bad("no key", nil)
	}
	l := &Log{
		Description:   j.Description,
		KeyDER:        j.Key,
		URL:           j.URL,
		SubmissionURL: j.SubmissionURL,
		MonitoringURL: j.MonitoringURL,
		Tiled:         tiled,
		Type:          LogType(j.LogType),
		Interval:      j.TemporalInterval,
	}
	if j.MMD < 0 || j.MMD > 1<<31 {
		return nil, bad(fmt.Sprintf("mmd %d is out of range", j.MMD), nil)
	}
	l.MMD = time.Duration(j.MMD) * time.Second
	l.ID = sha256.Sum256(j.Key)
	if len(j.LogID) != 32 || !bytes.Equal(j.LogID, l.ID[:]) {
		return nil, bad(fmt.Sprintf("log_id %s is not the SHA-256 hash of its key (%s)", b64(j.LogID), b64(l.ID[:])), nil)
	}
	pub, err := x509.ParsePKIXPublicKey(j.Key)
	if err != nil {
		return nil, bad("key is not a DER SubjectPublicKeyInfo", err)
	}
	l.Key = pub
	l.KeyErr = checkLogKey(pub)
	if j.State != nil {
		if len(j.State) != 1 {
			return nil, bad(fmt.Sprintf("state holds %d states, want exactly one", len(j.State)), nil)
		}
		for k, raw := range j.State {
			var s jsonState
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, bad("state "+k, err)
			}
			l.State, l.StateName = stateFromName(k), k
			if s.Timestamp == nil {
				return nil, bad("state "+k+" has no timestamp", nil)
			}
			l.StateSince = *s.Timestamp
			if !l.StateSince.Before(maxListTime) {
				return nil, bad(fmt.Sprintf("state %s timestamp %s is not a plausible date", k, l.StateSince.UTC().Format(time.RFC3339)), nil)
			}
			if l.State == StateReadOnly {
				l.FinalTreeHead = s.FinalTreeHead
			}
		}
	}
	if iv := l.Interval; iv != nil && !iv.End.After(iv.Start) {
		return nil, bad("temporal_interval ends before it starts", nil)
	}
	if iv := l.Interval; iv != nil && !iv.End.Before(maxListTime) {
		return nil, bad(fmt.Sprintf("temporal_interval end %s is not a plausible date", iv.End.UTC().Format(time.RFC3339)), nil)
	}
	for _, p := range j.PreviousOperators {
		if !p.End.Before(maxListTime) {
			return nil, bad(fmt.Sprintf("previous operator %q end_time %s is not a plausible date", p.Name, p.End.UTC().Format(time.RFC3339)), nil)
		}
	}
	if len(j.PreviousOperators) > 0 {
		l.PreviousOperators = append([]PreviousOperator(nil), j.PreviousOperators...)
		sort.SliceStable(l.PreviousOperators, func(a, b int) bool {
			return l.PreviousOperators[a].End.Before(l.PreviousOperators[b].End)
		})
	}
	return l, nil
}

func stateFromName(s string) LogState {
	for i, n := range stateNames {
		if n == s && LogState(i) != StateNone && LogState(i) != StateUnknown {
			return LogState(i)
		}
	}
	return StateUnknown
}

// checkLogKey accepts the keys RFC 6962 section 2.1.4 allows logs: ECDSA on
// NIST P-256, or RSA (of at least 2048 bits, as Chrome's log policy asks).
func checkLogKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("ECDSA key on %s: only P-256 is allowed for CT logs (RFC 6962 2.1.4)", k.Curve.Params().Name)
		}
		return nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits: at least 2048 are required", k.N.BitLen())
		}
		return nil
	}
	return fmt.Errorf("%T key: CT logs sign with ECDSA P-256 or RSA (RFC 6962 2.1.4)", pub)
}

// ParseSignedLogList verifies sig over data with pub, then parses data with
// ParseLogList. Google signs its lists (log_list.json with log_list.sig)
// with RSA PKCS #1 v1.5 and SHA-256; ECDSA signatures (ASN.1, over SHA-256
// for P-256, SHA-384 for P-384, SHA-512 for P-521) and Ed25519 are accepted
// too. RSA keys must have at least 2048 bits.
func ParseSignedLogList(data, sig []byte, pub crypto.PublicKey) (*LogList, error) {
	if err := verifyListSignature(data, sig, pub); err != nil {
		return nil, err
	}
	return ParseLogList(data)
}

func verifyListSignature(data, sig []byte, pub crypto.PublicKey) error {
	if len(sig) == 0 {
		return fmt.Errorf("%w: the signature is empty", ErrListSignature)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: RSA key of %d bits is too small (want 2048 or more)", ErrListSignature, k.N.BitLen())
		}
		sum := sha256.Sum256(data)
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig); err != nil {
			return fmt.Errorf("%w with the RSA key (PKCS #1 v1.5, SHA-256): is the list or the key wrong?", ErrListSignature)
		}
		return nil
	case *ecdsa.PublicKey:
		var h crypto.Hash
		switch k.Curve {
		case elliptic.P256():
			h = crypto.SHA256
		case elliptic.P384():
			h = crypto.SHA384
		case elliptic.P521():
			h = crypto.SHA512
		default:
			return fmt.Errorf("%w: unsupported ECDSA curve", ErrListSignature)
		}
		hh := h.New()
		hh.Write(data)
		if !ecdsa.VerifyASN1(k, hh.Sum(nil), sig) {
			return fmt.Errorf("%w with the ECDSA key (%s): is the list or the key wrong?", ErrListSignature, h)
		}
		return nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize || !ed25519.Verify(k, data, sig) {
			return fmt.Errorf("%w with the Ed25519 key: is the list or the key wrong?", ErrListSignature)
		}
		return nil
	case nil:
		return fmt.Errorf("%w: no public key given", ErrListSignature)
	}
	return fmt.Errorf("%w: unsupported key type %T", ErrListSignature, pub)
}

// LoadLogList reads and parses an unsigned log list file (at most
// MaxLogListSize bytes). Use it for a list you obtained and checked
// yourself, or for a private list.
func LoadLogList(path string) (*LogList, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	l, err := ParseLogList(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// LoadSignedLogList reads a log list and its detached signature and parses
// them with ParseSignedLogList.
func LoadSignedLogList(path, sigPath string, pub crypto.PublicKey) (*LogList, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	sig, err := readCapped(sigPath)
	if err != nil {
		return nil, err
	}
	l, err := ParseSignedLogList(data, sig, pub)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// readCapped reads a log list file of at most MaxLogListSize bytes.
func readCapped(path string) ([]byte, error) {
	data, err := fileutil.ReadCapped(path, MaxLogListSize)
	if err != nil {
		return nil, fmt.Errorf("ct: reading log list: %w", err)
	}
	return data, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
