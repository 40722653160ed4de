package x509util_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/internal/x509util"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidRSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
)

// ai builds the contents of an AlgorithmIdentifier: the OID and, if not
// nil, the raw parameters.
func ai(oid asn1.ObjectIdentifier, params []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(oid)
	b.AddBytes(params)
	return b.BytesOrPanic()
}

var null = []byte{0x05, 0x00}

// hashAI is a complete hash AlgorithmIdentifier, with NULL parameters or
// none.
func hashAI(oid asn1.ObjectIdentifier, withNull bool) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if withNull {
			b.AddBytes(null)
		}
	})
	return b.BytesOrPanic()
}

// pss describes RSASSA-PSS-params; nil fields are left out.
type pss struct {
	hash    []byte // complete hash AlgorithmIdentifier
	mgf     asn1.ObjectIdentifier
	mgfHash []byte // complete hash AlgorithmIdentifier inside the MGF
	salt    []byte // complete DER of the salt length (an INTEGER, or not)
	trailer []byte // complete DER of the trailer field
	noMGF   bool
}

func intDER(n int64) []byte {
	var b cryptobyte.Builder
	b.AddASN1Int64(n)
	return b.BytesOrPanic()
}

func (p pss) params() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if p.hash != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(p.hash) })
		}
		if !p.noMGF {
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(p.mgf)
					b.AddBytes(p.mgfHash)
				})
			})
		}
		if p.salt != nil {
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(p.salt) })
		}
		if p.trailer != nil {
			b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(p.trailer) })
		}
	})
	return b.BytesOrPanic()
}

// standardPSS is the parameter set crypto/x509 writes for hash h.
func standardPSS(oid asn1.ObjectIdentifier, saltLen int64) pss {
	return pss{hash: hashAI(oid, true), mgf: oidMGF1, mgfHash: hashAI(oid, true), salt: intDER(saltLen)}
}

func TestParseSignatureAlgorithm(t *testing.T) {
	t.Parallel()
	const unsupported, malformed = 1, 2
	edit := func(p pss, f func(*pss)) pss { f(&p); return p }
	std256 := standardPSS(oidSHA256, 32)
	for _, tc := range []struct {
		name string
		in   []byte
		want x509.SignatureAlgorithm
		err  int // 0, unsupported (wraps ErrUnsupportedAlgorithm) or malformed (any error)
	}{
		{"sha1WithRSA", ai(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, null), x509.SHA1WithRSA, 0},
		{"sha256WithRSA", ai(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, null), x509.SHA256WithRSA, 0},
		{"sha256WithRSA without NULL", ai(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, nil), x509.SHA256WithRSA, 0},
		{"sha384WithRSA", ai(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, null), x509.SHA384WithRSA, 0},
		{"sha512WithRSA", ai(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, null), x509.SHA512WithRSA, 0},
		{"ecdsa-with-SHA1", ai(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, nil), x509.ECDSAWithSHA1, 0},
		{"ecdsa-with-SHA256", ai(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, nil), x509.ECDSAWithSHA256, 0},
		{"ecdsa-with-SHA384", ai(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, nil), x509.ECDSAWithSHA384, 0},
		{"ecdsa-with-SHA512", ai(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, nil), x509.ECDSAWithSHA512, 0},
		{"Ed25519", ai(asn1.ObjectIdentifier{1, 3, 101, 112}, nil), x509.PureEd25519, 0},
		{"md5WithRSA", ai(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, null), 0, unsupported},
		{"md2WithRSA", ai(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 2}, null), 0, unsupported},
		{"dsa-with-sha1", ai(asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}, nil), 0, unsupported},
		{"Ed448", ai(asn1.ObjectIdentifier{1, 3, 101, 113}, nil), 0, unsupported},
		{"unknown OID", ai(asn1.ObjectIdentifier{1, 2, 3, 4}, nil), 0, unsupported},
		{"empty", nil, 0, malformed},
		{"not an OID", null, 0, malformed},

		{"PSS SHA-256", ai(oidRSAPSS, std256.params()), x509.SHA256WithRSAPSS, 0},
		{"PSS SHA-384", ai(oidRSAPSS, standardPSS(oidSHA384, 48).params()), x509.SHA384WithRSAPSS, 0},
		{"PSS SHA-512", ai(oidRSAPSS, standardPSS(oidSHA512, 64).params()), x509.SHA512WithRSAPSS, 0},
		{"PSS SHA-256, hashes without NULL parameters", ai(oidRSAPSS, pss{
			hash: hashAI(oidSHA256, false), mgf: oidMGF1, mgfHash: hashAI(oidSHA256, false), salt: intDER(32),
		}.params()), x509.SHA256WithRSAPSS, 0},
		{"PSS with the trailer field written out", ai(oidRSAPSS, edit(std256, func(p *pss) { p.trailer = intDER(1) }).params()), x509.SHA256WithRSAPSS, 0},
		{"PSS without parameters", ai(oidRSAPSS, nil), 0, unsupported},
		{"PSS with NULL parameters", ai(oidRSAPSS, null), 0, unsupported},
		{"PSS all defaults (empty SEQUENCE)", ai(oidRSAPSS, []byte{0x30, 0x00}), 0, unsupported},
		{"PSS without hash (default SHA-1)", ai(oidRSAPSS, edit(std256, func(p *pss) { p.hash = nil }).params()), 0, unsupported},
		{"PSS without MGF", ai(oidRSAPSS, edit(std256, func(p *pss) { p.noMGF = true }).params()), 0, unsupported},
		{"PSS without salt length (default 20)", ai(oidRSAPSS, edit(std256, func(p *pss) { p.salt = nil }).params()), 0, unsupported},
		{"PSS SHA-1", ai(oidRSAPSS, standardPSS(oidSHA1, 20).params()), 0, unsupported},
		{"PSS SHA-224", ai(oidRSAPSS, standardPSS(oidSHA224, 28).params()), 0, unsupported},
		{"PSS unknown hash", ai(oidRSAPSS, edit(std256, func(p *pss) { p.hash = hashAI(asn1.ObjectIdentifier{1, 2, 3}, false) }).params()), 0, unsupported},
		{"PSS hash not an AlgorithmIdentifier", ai(oidRSAPSS, edit(std256, func(p *pss) { p.hash = null }).params()), 0, unsupported},
		{"PSS MGF is not MGF1", ai(oidRSAPSS, edit(std256, func(p *pss) { p.mgf = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9} }).params()), 0, unsupported},
		{"PSS MGF1 with another hash", ai(oidRSAPSS, edit(std256, func(p *pss) { p.mgfHash = hashAI(oidSHA384, true) }).params()), 0, unsupported},
		{"PSS MGF1 with SHA-1", ai(oidRSAPSS, edit(std256, func(p *pss) { p.mgfHash = hashAI(oidSHA1, true) }).params()), 0, unsupported},
		{"PSS MGF1 without a hash", ai(oidRSAPSS, edit(std256, func(p *pss) { p.mgfHash = nil }).params()), 0, unsupported},
		{"PSS salt 20 with SHA-256", ai(oidRSAPSS, edit(std256, func(p *pss) { p.salt = intDER(20) }).params()), 0, unsupported},
		{"PSS salt 64 with SHA-256", ai(oidRSAPSS, edit(std256, func(p *pss) { p.salt = intDER(64) }).params()), 0, unsupported},
		{"PSS salt 0", ai(oidRSAPSS, edit(std256, func(p *pss) { p.salt = intDER(0) }).params()), 0, unsupported},
		{"PSS negative salt", ai(oidRSAPSS, edit(std256, func(p *pss) { p.salt = intDER(-32) }).params()), 0, unsupported},
		{"PSS huge salt", ai(oidRSAPSS, edit(std256, func(p *pss) { p.salt = []byte{0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x20} }).params()), 0, unsupported},
		{"PSS salt not an INTEGER", ai(oidRSAPSS, edit(std256, func(p *pss) { p.salt = []byte{0x04, 0x01, 0x20} }).params()), 0, unsupported},
		{"PSS truncated parameters", ai(oidRSAPSS, std256.params()[:20]), 0, unsupported},
		{"PSS fields out of order", ai(oidRSAPSS, func() []byte {
			// [1] mgf, [0] hash, [2] salt
			p := std256.params()
			c := cryptobyte.String(p)
			var inner cryptobyte.String
			c.ReadASN1(&inner, cbasn1.SEQUENCE)
			var h, m, s cryptobyte.String
			inner.ReadASN1Element(&h, cbasn1.Tag(0).Constructed().ContextSpecific())
			inner.ReadASN1Element(&m, cbasn1.Tag(1).Constructed().ContextSpecific())
			inner.ReadASN1Element(&s, cbasn1.Tag(2).Constructed().ContextSpecific())
			var b cryptobyte.Builder
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(m); b.AddBytes(h); b.AddBytes(s) })
			return b.BytesOrPanic()
		}()), 0, unsupported},
	} {
		got, err := x509util.ParseSignatureAlgorithm(cryptobyte.String(tc.in))
		switch tc.err {
		case 0:
			if err != nil || got != tc.want {
				t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
			}
		case unsupported:
			if !errors.Is(err, x509util.ErrUnsupportedAlgorithm) || got != x509.UnknownSignatureAlgorithm {
				t.Errorf("%s: %v, %v; want ErrUnsupportedAlgorithm", tc.name, got, err)
			}
		case malformed:
			if err == nil || got != x509.UnknownSignatureAlgorithm {
				t.Errorf("%s: %v, %v; want an error", tc.name, got, err)
			}
		}
	}
}

// TestParseSignatureAlgorithmPSSFromCryptoX509 parses the RSASSA-PSS
// AlgorithmIdentifiers crypto/x509 writes into certificates it signs.
func TestParseSignatureAlgorithmPSSFromCryptoX509(t *testing.T) {
	t.Parallel()
	key := testpki.Must(testpki.NewKey(testpki.RSA2048))
	for _, alg := range []x509.SignatureAlgorithm{x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS} {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pss"},
			NotBefore: testpki.Now.Add(-time.Hour), NotAfter: testpki.Now.Add(time.Hour),
			SignatureAlgorithm: alg,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
		s := cryptobyte.String(der)
		var cert, sigAlg cryptobyte.String
		if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.SkipASN1(cbasn1.SEQUENCE) || !cert.ReadASN1(&sigAlg, cbasn1.SEQUENCE) {
			t.Fatal("cannot find the certificate's signatureAlgorithm")
		}
		got, err := x509util.ParseSignatureAlgorithm(sigAlg)
		if err != nil || got != alg {
			t.Errorf("%v: parsed as %v, %v", alg, got, err)
		}
	}
}

func TestHashOID(t *testing.T) {
	t.Parallel()
	for h, oid := range map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA1: oidSHA1, crypto.SHA256: oidSHA256, crypto.SHA384: oidSHA384, crypto.SHA512: oidSHA512,
	} {
		got, ok := x509util.HashOID(h)
		if !ok || !got.Equal(oid) {
			t.Errorf("HashOID(%v) = %v, %v; want %v", h, got, ok, oid)
		}
		if back := x509util.HashFromOID(oid); back != h {
			t.Errorf("HashFromOID(%v) = %v, want %v", oid, back, h)
		}
	}
	for _, h := range []crypto.Hash{crypto.MD5, crypto.SHA224, crypto.SHA3_256, 0} {
		if oid, ok := x509util.HashOID(h); ok {
			t.Errorf("HashOID(%v) = %v, want none", h, oid)
		}
	}
	for _, oid := range []asn1.ObjectIdentifier{oidSHA224, {1, 2, 840, 113549, 2, 5}, {2, 16, 840, 1, 101, 3, 4, 2, 8}, nil} {
		if h := x509util.HashFromOID(oid); h != 0 {
			t.Errorf("HashFromOID(%v) = %v, want 0", oid, h)
		}
	}
}

func TestIsSHA1(t *testing.T) {
	t.Parallel()
	for alg, want := range map[x509.SignatureAlgorithm]bool{
		x509.SHA1WithRSA: true, x509.ECDSAWithSHA1: true, x509.DSAWithSHA1: true,
		x509.SHA256WithRSA: false, x509.ECDSAWithSHA256: false, x509.SHA256WithRSAPSS: false, x509.PureEd25519: false,
		x509.MD5WithRSA: false, x509.UnknownSignatureAlgorithm: false,
	} {
		if got := x509util.IsSHA1(alg); got != want {
			t.Errorf("IsSHA1(%v) = %v, want %v", alg, got, want)
		}
	}
}

// TestKeyHash compares SubjectPublicKeyBytes and KeyHashSHA1 with an
// independent decoding (encoding/asn1) for each key type.
func TestKeyHash(t *testing.T) {
	t.Parallel()
	for _, kt := range []testpki.KeyType{testpki.ECDSAP256, testpki.ECDSAP384, testpki.RSA2048, testpki.Ed25519} {
		c := testpki.Must(testpki.NewRoot(testpki.CertOptions{Key: kt}))
		var spki struct {
			Algorithm pkix.AlgorithmIdentifier
			Key       asn1.BitString
		}
		if _, err := asn1.Unmarshal(c.Cert.RawSubjectPublicKeyInfo, &spki); err != nil {
			t.Fatal(err)
		}
		bits, err := x509util.SubjectPublicKeyBytes(c.Cert)
		if err != nil || !bytes.Equal(bits, spki.Key.Bytes) {
			t.Errorf("key type %d: SubjectPublicKeyBytes = %x, %v; want %x", kt, bits, err, spki.Key.Bytes)
		}
		want := sha1.Sum(spki.Key.Bytes)
		kh, err := x509util.KeyHashSHA1(c.Cert)
		if err != nil || !bytes.Equal(kh, want[:]) {
			t.Errorf("key type %d: KeyHashSHA1 = %x, %v; want %x", kt, kh, err, want)
		}
	}
	bad := &x509.Certificate{RawSubjectPublicKeyInfo: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}
	if _, err := x509util.SubjectPublicKeyBytes(bad); err == nil {
		t.Error("SubjectPublicKeyBytes accepted a malformed SPKI")
	}
	if _, err := x509util.KeyHashSHA1(&x509.Certificate{}); err == nil {
		t.Error("KeyHashSHA1 accepted an empty SPKI")
	}
}

func TestMustStaple(t *testing.T) {
	t.Parallel()
	oidTLSFeature := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}
	feature := func(value []byte) *x509.Certificate {
		return &x509.Certificate{Extensions: []pkix.Extension{{Id: oidTLSFeature, Value: value}}}
	}
	ints := func(v ...int) []byte {
		der, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		want bool
	}{
		{"no extensions", &x509.Certificate{}, false},
		{"status_request", feature(ints(5)), true},
		{"status_request among others", feature(ints(17, 5)), true},
		{"status_request_v2 only", feature(ints(17)), false},
		{"empty feature list", feature(ints()), false},
		{"malformed value: fail closed", feature([]byte{0x04, 0x00}), true},
		{"malformed feature: fail closed", feature([]byte{0x30, 0x02, 0x05, 0x00}), true},
		{"trailing garbage after the list", feature(append(ints(17), 0xff)), false},
		{"another extension with the same value", &x509.Certificate{Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Value: ints(5)}}}, false},
		{"testpki MustStapleExtension", &x509.Certificate{Extensions: []pkix.Extension{testpki.MustStapleExtension()}}, true},
	} {
		if got := x509util.MustStaple(tc.cert); got != tc.want {
			t.Errorf("%s: MustStaple = %v, want %v", tc.name, got, tc.want)
		}
	}

	// Through crypto/x509: minted and parsed certificates.
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{}))
	staple := testpki.Must(root.Issue(testpki.CertOptions{MustStaple: true}))
	plain := testpki.Must(root.Issue(testpki.CertOptions{}))
	if !x509util.MustStaple(staple.Cert) {
		t.Error("a must-staple certificate is not detected")
	}
	if x509util.MustStaple(plain.Cert) || x509util.MustStaple(root.Cert) {
		t.Error("a certificate without the TLS Feature extension is must-staple")
	}
}
