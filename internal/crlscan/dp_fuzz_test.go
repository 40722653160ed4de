package crlscan

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

// FuzzDistributionPoints feeds arbitrary bytes to ParseDistributionPoints,
// which reads the CRL Distribution Points and Freshest CRL extensions of
// the certificates a server sends (and a CRL's Freshest CRL extension).
// crypto/x509 reads the same extension when it parses a certificate, more
// leniently and for URIs only; it is the oracle:
//
//   - what the parser accepts, crypto/x509 accepts too, unless a point is
//     named relative to the CRL issuer (which crypto/x509 refuses);
//   - when both accept, the URIs crypto/x509 finds are found too, in order
//     (crypto/x509 stops at a point's first name that is not a URI);
//   - every URI found is in the input, and names rebuilt from a relative
//     name are well-formed DER Names.
//
// Seeds: testdata/dp, extension values written by TestWriteDPSeeds.
func FuzzDistributionPoints(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/dp/*.der")
	if len(seeds) == 0 {
		f.Fatal("no seeds in testdata/dp (CRLSCAN_WRITE_SEEDS=1 go test -run TestWriteDPSeeds)")
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	shell := newCertShell(f)
	issuer := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Fuzz CRL Issuer"})).Cert.RawSubject
	f.Fuzz(func(t *testing.T, val []byte) {
		dps, err := ParseDistributionPoints(val)
		cert, xerr := x509.ParseCertificate(shell.with(val))
		if err != nil {
			if dps != nil {
				t.Fatal("points and an error")
			}
			return
		}
		if len(dps) == 0 {
			t.Fatal("no error and no point")
		}
		relative := false
		var uris []string
		for _, dp := range dps {
			if dp.Name == nil && dp.CRLIssuer == nil {
				t.Fatal("a point with neither name nor cRLIssuer")
			}
			if !dp.HasReasons && dp.Reasons != 0 {
				t.Fatal("reasons without HasReasons")
			}
			for _, u := range dp.URIs() {
				if !bytes.Contains(val, []byte(u)) {
					t.Fatalf("URI %q is not in the input", u)
				}
			}
			uris = append(uris, dp.URIs()...)
			if dp.Name != nil && dp.Name.RelativeName != nil {
				relative = true
				names := dp.Name.Names(issuer)
				if len(names) != 1 || names[0].Tag != 4 {
					t.Fatalf("relative name rebuilt as %v", names)
				}
				var rdn asn1.RawValue
				if rest, err := asn1.Unmarshal(names[0].Value, &rdn); err != nil || len(rest) != 0 {
					t.Fatalf("relative name rebuilt as a malformed Name: %v", err)
				}
			}
		}
		if xerr != nil {
			if !relative {
				t.Fatalf("crypto/x509 refuses what the parser accepts: %v", xerr)
			}
			return
		}
		// crypto/x509's URIs are a subsequence of ours.
		i := 0
		for _, u := range uris {
			if i < len(cert.CRLDistributionPoints) && cert.CRLDistributionPoints[i] == u {
				i++
			}
		}
		if i != len(cert.CRLDistributionPoints) {
			t.Fatalf("crypto/x509 finds URIs %q, the parser %q", cert.CRLDistributionPoints, uris)
		}
	})
}

// certShell builds certificates that differ only by the value of their
// CRL Distribution Points extension, for crypto/x509 to parse: the
// signature is never checked, so it is not even made.
type certShell struct {
	spki []byte
	name []byte
}

func newCertShell(tb testing.TB) *certShell {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return &certShell{spki: spki, name: testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "shell"})).Cert.RawSubject}
}

var (
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidCRLDPExt        = asn1.ObjectIdentifier{2, 5, 29, 31}
)

func (s *certShell) with(val []byte) []byte {
	var b cryptobyte.Builder
	alg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSCertificate
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
			b.AddASN1Int64(1)
			alg(b)
			b.AddBytes(s.name)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1UTCTime(testpki.Now.AddDate(-1, 0, 0))
				b.AddASN1UTCTime(testpki.Now.AddDate(1, 0, 0))
			})
			b.AddBytes(s.name)
			b.AddBytes(s.spki)
			b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidCRLDPExt)
						b.AddASN1OctetString(val)
					})
				})
			})
		})
		alg(b)
		b.AddASN1BitString([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	})
	return b.BytesOrPanic()
}

// TestCertShell checks that the shell is a certificate crypto/x509 reads,
// with the extension given.
func TestCertShell(t *testing.T) {
	t.Parallel()
	val := testpki.CRLDistributionPointsExtension(testpki.DistributionPoint{URIs: []string{"http://a.test/1.crl", "ldap://b.test/"}}).Value
	c, err := x509.ParseCertificate(newCertShell(t).with(val))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.CRLDistributionPoints, []string{"http://a.test/1.crl", "ldap://b.test/"}) {
		t.Fatalf("CRLDistributionPoints %q", c.CRLDistributionPoints)
	}
}

// TestWriteDPSeeds regenerates testdata/dp when CRLSCAN_WRITE_SEEDS is set.
func TestWriteDPSeeds(t *testing.T) {
	if os.Getenv("CRLSCAN_WRITE_SEEDS") == "" {
		t.Skip("set CRLSCAN_WRITE_SEEDS=1 to regenerate testdata/dp")
	}
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Seed CA"}))
	seeds := map[string][]testpki.DistributionPoint{
		"one-uri":       {{URIs: []string{"http://crl.test/ca.crl"}}},
		"two-uris":      {{URIs: []string{"http://crl.test/ca.crl", "ldap://ldap.test/cn=CA?certificateRevocationList;binary"}}},
		"two-points":    {{URIs: []string{"http://a.test/a.crl"}}, {URIs: []string{"https://b.test/b.crl"}, Reasons: 1<<1 | 1<<2}},
		"dirname":       {{URIs: []string{"http://crl.test/ca.crl"}, DirectoryName: ca.Cert.RawSubject}},
		"relative":      {{RelativeCN: "partition 7"}},
		"reasons":       {{URIs: []string{"http://crl.test/kc.crl"}, Reasons: 1 << 1}, {URIs: []string{"http://crl.test/rest.crl"}, Reasons: 0x1fc}},
		"crl-issuer":    {{URIs: []string{"http://crl.test/indirect.crl"}, CRLIssuer: ca.Cert.RawSubject}},
		"only-issuer":   {{CRLIssuer: ca.Cert.RawSubject}},
		"all-reasons-9": {{URIs: []string{"http://crl.test/9.crl"}, Reasons: 0xffff}},
	}
	dir := filepath.Join("testdata", "dp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, dps := range seeds {
		if err := os.WriteFile(filepath.Join(dir, name+".der"), testpki.CRLDistributionPointsExtension(dps...).Value, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
