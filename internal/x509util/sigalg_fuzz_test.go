package x509util_test

import (
	"crypto/x509"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/internal/x509util"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// crlShell wraps the contents of an AlgorithmIdentifier in the smallest
// CRL crypto/x509 parses (the signature is never checked), so that
// crypto/x509 says which algorithm it reads.
func crlShell(ai []byte) []byte {
	name := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "shell"})).Cert.RawSubject
	var b cryptobyte.Builder
	alg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(ai) })
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			alg(b)
			b.AddBytes(name)
			b.AddASN1UTCTime(testpki.Now)
		})
		alg(b)
		b.AddASN1BitString([]byte{0})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil
	}
	return out
}

// FuzzParseSignatureAlgorithm: the signature AlgorithmIdentifier of OCSP
// responses and CRLs. Whatever it maps to an algorithm, crypto/x509 maps
// to the same one (it may refuse more: RSA-PSS parameter sets crypto/x509
// cannot verify). Seeds: testdata/sigalg, written by TestWriteSigAlgSeeds.
func FuzzParseSignatureAlgorithm(f *testing.F) {
	files, _ := filepath.Glob("testdata/sigalg/*.bin")
	if len(files) == 0 {
		f.Fatal("no seeds in testdata/sigalg (X509UTIL_WRITE_SEEDS=1 go test -run TestWriteSigAlgSeeds)")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, ai []byte) {
		alg, err := x509util.ParseSignatureAlgorithm(cryptobyte.String(ai))
		if err != nil {
			if alg != x509.UnknownSignatureAlgorithm {
				t.Fatalf("%v with an error", alg)
			}
			return
		}
		shell := crlShell(ai)
		if shell == nil {
			return // too long to wrap
		}
		rl, xerr := x509.ParseRevocationList(shell)
		if xerr != nil {
			t.Fatalf("mapped to %v, but crypto/x509 refuses the identifier: %v", alg, xerr)
		}
		if rl.SignatureAlgorithm != alg {
			t.Fatalf("mapped to %v, crypto/x509 reads %v", alg, rl.SignatureAlgorithm)
		}
	})
}

// TestParseSignatureAlgorithmFuzzFindings: what FuzzParseSignatureAlgorithm
// found accepted where crypto/x509 refuses, now refused; and bytes after
// the parameters, which crypto/x509 ignores and the parser refuses (it is
// never laxer, sometimes stricter).
func TestParseSignatureAlgorithmFuzzFindings(t *testing.T) {
	t.Parallel()
	sha256RSA := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	std := standardPSS(oidSHA256, 32)
	for _, tc := range []struct {
		name     string
		in       []byte
		stricter bool // crypto/x509 accepts it
	}{
		{"garbage after the OID", ai(sha256RSA, []byte{0x30}), false},
		{"Ed25519 with NULL parameters", ai(asn1.ObjectIdentifier{1, 3, 101, 112}, null), false},
		{"PSS trailer field 2", ai(oidRSAPSS, pss{hash: std.hash, mgf: oidMGF1, mgfHash: std.mgfHash, salt: std.salt, trailer: intDER(2)}.params()), false},
		{"PSS hash with SEQUENCE params", ai(oidRSAPSS, pss{hash: ai2(oidSHA256, []byte{0x30, 0x00}), mgf: oidMGF1, mgfHash: std.mgfHash, salt: std.salt}.params()), false},
		{"PSS MGF hash with a non-empty NULL", ai(oidRSAPSS, pss{hash: std.hash, mgf: oidMGF1, mgfHash: ai2(oidSHA256, []byte{0x05, 0x01, 0x00}), salt: std.salt}.params()), false},
		{"two parameters", ai(sha256RSA, append(append([]byte{}, null...), null...)), true},
		{"PSS with something after", ai(oidRSAPSS, append(std.params(), null...)), true},
	} {
		alg, err := x509util.ParseSignatureAlgorithm(cryptobyte.String(tc.in))
		if err == nil {
			t.Errorf("%s: accepted as %v", tc.name, alg)
		}
		if shell := crlShell(tc.in); shell != nil && !tc.stricter {
			if rl, err := x509.ParseRevocationList(shell); err == nil && rl.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
				t.Errorf("%s: crypto/x509 accepts it as %v: the test is wrong", tc.name, rl.SignatureAlgorithm)
			}
		}
	}
}

// ai2 is a complete AlgorithmIdentifier with raw parameters.
func ai2(oid asn1.ObjectIdentifier, params []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(ai(oid, params)) })
	return b.BytesOrPanic()
}

// TestWriteSigAlgSeeds regenerates testdata/sigalg (X509UTIL_WRITE_SEEDS=1).
func TestWriteSigAlgSeeds(t *testing.T) {
	if os.Getenv("X509UTIL_WRITE_SEEDS") == "" {
		t.Skip("set X509UTIL_WRITE_SEEDS=1 to regenerate testdata/sigalg")
	}
	dir := filepath.Join("testdata", "sigalg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	oid := func(ids ...int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier(ids) }
	seeds := map[string][]byte{
		"sha256-rsa":        ai(oid(1, 2, 840, 113549, 1, 1, 11), null),
		"sha256-rsa-absent": ai(oid(1, 2, 840, 113549, 1, 1, 11), nil),
		"sha1-rsa":          ai(oid(1, 2, 840, 113549, 1, 1, 5), null),
		"ecdsa-sha256":      ai(oid(1, 2, 840, 10045, 4, 3, 2), nil),
		"ecdsa-sha384":      ai(oid(1, 2, 840, 10045, 4, 3, 3), nil),
		"ed25519":           ai(oid(1, 3, 101, 112), nil),
		"pss-sha256":        ai(oidRSAPSS, standardPSS(oidSHA256, 32).params()),
		"pss-sha512":        ai(oidRSAPSS, standardPSS(oidSHA512, 64).params()),
		"pss-default":       ai(oidRSAPSS, pss{noMGF: true}.params()),
		"md5-rsa":           ai(oid(1, 2, 840, 113549, 1, 1, 4), null),
	}
	for name, b := range seeds {
		if err := os.WriteFile(filepath.Join(dir, name+".bin"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
