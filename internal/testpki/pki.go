// Package testpki is an in-process PKI for tests and the demo: roots,
// intermediates and leaves with chosen names, validity, keys, must-staple,
// AIA and CRL distribution points; OCSP responses built field by field
// (hostile ones included); OCSP responders, CRL servers and TLS servers on
// 127.0.0.1. Everything is judged at a fixed time, Now.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"
)

// Now is the fixed time tests and the demo verify at.
var Now = time.Date(2026, time.January, 15, 12, 0, 0, 0, time.UTC)

// Clock returns a clock that always reads Now.
func Clock() func() time.Time { return func() time.Time { return Now } }

// Must panics on error; for tests and the demo, where a PKI that cannot be
// built is a bug.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// KeyType selects the key of a certificate.
type KeyType int

// Key types.
const (
	ECDSAP256 KeyType = iota
	ECDSAP384
	RSA2048
	RSA3072
	Ed25519
)

// rsaPool shares generated RSA keys: RSA generation is slow and tests mint
// many certificates. ECDSA and Ed25519 keys are cheap and always fresh.
var rsaPool = struct {
	sync.Mutex
	keys map[KeyType][]crypto.Signer
	next map[KeyType]int
}{keys: map[KeyType][]crypto.Signer{}, next: map[KeyType]int{}}

const rsaKeysPerType = 16

// NewKey returns a key of the given type. ECDSA and Ed25519 keys are always
// new. RSA keys are drawn round-robin from a pool of 16 per size, so two RSA
// certificates may share a key: a test that depends on which RSA key signed
// what must use FreshKey.
func NewKey(t KeyType) (crypto.Signer, error) {
	if t != RSA2048 && t != RSA3072 {
		return FreshKey(t)
	}
	rsaPool.Lock()
	defer rsaPool.Unlock()
	if len(rsaPool.keys[t]) < rsaKeysPerType {
		k, err := FreshKey(t)
		if err != nil {
			return nil, err
		}
		rsaPool.keys[t] = append(rsaPool.keys[t], k)
		return k, nil
	}
	i := rsaPool.next[t] % rsaKeysPerType
	rsaPool.next[t]++
	return rsaPool.keys[t][i], nil
}

// FreshKey generates a new key that is not shared with any other
// certificate.
func FreshKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("testpki: unknown key type %d", t)
}

// CertOptions describe a certificate to mint. Zero fields get defaults that
// suit the kind of certificate (root, intermediate, leaf).
type CertOptions struct {
	CommonName  string
	DNSNames    []string
	IPAddresses []net.IP
	// NotBefore and NotAfter default to one hour before Now and, for a
	// leaf, 90 days after; for CAs 1 year before and 10 years after.
	NotBefore, NotAfter time.Time
	Key                 KeyType
	// Signer, when set, is used instead of a key of type Key.
	Signer crypto.Signer
	// Serial defaults to a random 128-bit positive number.
	Serial *big.Int
	// MustStaple adds the TLS Feature extension with status_request.
	MustStaple            bool
	OCSPServers           []string
	CRLDistributionPoints []string
	IssuingCertificateURL []string
	// KeyUsage and ExtKeyUsage default to what a CA or a TLS server needs.
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	// NoKeyUsage leaves the key usage extension out entirely.
	NoKeyUsage      bool
	ExtraExtensions []pkix.Extension
	// SignatureAlgorithm defaults to what crypto/x509 picks for the issuer key.
	SignatureAlgorithm x509.SignatureAlgorithm
	// MaxPathLen for CAs; 0 means unset.
	MaxPathLen int
	// Subject overrides CommonName with a full name.
	Subject *pkix.Name
}

// Cert is a certificate with its private key and issuer.
type Cert struct {
	Cert   *x509.Certificate
	Key    crypto.Signer
	Issuer *Cert // nil for a root
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func keyID(pub any) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:], nil
}

var oidTLSFeature = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}

// MustStapleExtension is the TLS Feature extension listing status_request.
func MustStapleExtension() pkix.Extension {
	v, _ := asn1.Marshal([]int{5})
	return pkix.Extension{Id: oidTLSFeature, Value: v}
}

func mint(opts CertOptions, isCA bool, parent *Cert) (*Cert, error) {
	key := opts.Signer
	if key == nil {
		var err error
		if key, err = NewKey(opts.Key); err != nil {
			return nil, err
		}
	}
	serial := opts.Serial
	if serial == nil {
		var err error
		if serial, err = randomSerial(); err != nil {
			return nil, err
		}
	}
	nb, na := opts.NotBefore, opts.NotAfter
	if nb.IsZero() {
		nb = Now.Add(-time.Hour)
		if isCA {
			nb = Now.AddDate(-1, 0, 0)
		}
	}
	if na.IsZero() {
		na = Now.AddDate(0, 0, 90)
		if isCA {
			na = Now.AddDate(10, 0, 0)
		}
	}
	subject := pkix.Name{CommonName: opts.CommonName}
	if opts.Subject != nil {
		subject = *opts.Subject
	}
	ski, err := keyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             nb,
		NotAfter:              na,
		DNSNames:              opts.DNSNames,
		IPAddresses:           opts.IPAddresses,
		OCSPServer:            opts.OCSPServers,
		CRLDistributionPoints: opts.CRLDistributionPoints,
		IssuingCertificateURL: opts.IssuingCertificateURL,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		SubjectKeyId:          ski,
		ExtraExtensions:       append([]pkix.Extension(nil), opts.ExtraExtensions...),
		SignatureAlgorithm:    opts.SignatureAlgorithm,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		if opts.MaxPathLen > 0 {
			tmpl.MaxPathLen = opts.MaxPathLen
		}
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.Public().(*rsa.PublicKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if opts.KeyUsage != 0 {
		tmpl.KeyUsage = opts.KeyUsage
	}
	if opts.NoKeyUsage {
		tmpl.KeyUsage = 0
	}
	if opts.ExtKeyUsage != nil {
		tmpl.ExtKeyUsage = opts.ExtKeyUsage
	}
	if opts.MustStaple {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, MustStapleExtension())
	}
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.Key, parent.Cert
		tmpl.AuthorityKeyId = parent.Cert.SubjectKeyId
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("testpki: create %q: %w", subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: cert, Key: key, Issuer: parent}, nil
}

// NewRoot mints a self-signed root CA.
func NewRoot(opts CertOptions) (*Cert, error) {
	if opts.CommonName == "" && opts.Subject == nil {
		opts.CommonName = "testpki Root CA"
	}
	return mint(opts, true, nil)
}

// NewIntermediate mints a CA certificate issued by ca.
func (ca *Cert) NewIntermediate(opts CertOptions) (*Cert, error) {
	if opts.CommonName == "" && opts.Subject == nil {
		opts.CommonName = "testpki Intermediate CA"
	}
	return mint(opts, true, ca)
}

// Issue mints an end-entity certificate issued by ca. Without names it is
// valid for "localhost" and 127.0.0.1.
func (ca *Cert) Issue(opts CertOptions) (*Cert, error) {
	if len(opts.DNSNames) == 0 && len(opts.IPAddresses) == 0 {
		opts.DNSNames = []string{"localhost"}
		opts.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	if opts.CommonName == "" && opts.Subject == nil {
		if len(opts.DNSNames) > 0 {
			opts.CommonName = opts.DNSNames[0]
		} else {
			opts.CommonName = opts.IPAddresses[0].String()
		}
	}
	return mint(opts, false, ca)
}

// IssueOCSPResponder mints a delegated OCSP responder certificate (EKU
// id-kp-OCSPSigning) issued by ca.
func (ca *Cert) IssueOCSPResponder(opts CertOptions) (*Cert, error) {
	if opts.CommonName == "" {
		opts.CommonName = ca.Cert.Subject.CommonName + " OCSP Responder"
	}
	if opts.ExtKeyUsage == nil {
		opts.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	}
	if len(opts.DNSNames) == 0 {
		opts.DNSNames = []string{"ocsp.invalid"}
	}
	return mint(opts, false, ca)
}

// Chain returns the certificate followed by its issuers up to, but not
// including, the root: what a server sends.
func (c *Cert) Chain() []*x509.Certificate {
	var out []*x509.Certificate
	for x := c; x != nil && x.Issuer != nil; x = x.Issuer {
		out = append(out, x.Cert)
	}
	if len(out) == 0 {
		out = append(out, c.Cert)
	}
	return out
}

// Root returns the root at the top of the certificate's chain.
func (c *Cert) Root() *Cert {
	x := c
	for x.Issuer != nil {
		x = x.Issuer
	}
	return x
}

// TLSCertificate returns the certificate, its intermediates and key for a
// tls.Config.
func (c *Cert) TLSCertificate() tls.Certificate {
	tc := tls.Certificate{PrivateKey: c.Key, Leaf: c.Cert}
	for _, x := range c.Chain() {
		tc.Certificate = append(tc.Certificate, x.Raw)
	}
	return tc
}

// Pool returns a pool holding only this certificate (use it on a root).
func (c *Cert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// PEM encodes the certificate.
func (c *Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// KeyPEM encodes the private key in PKCS #8.
func (c *Cert) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ErrNoIssuer is returned when an operation needs the issuer of a root.
var ErrNoIssuer = errors.New("testpki: certificate has no issuer")
