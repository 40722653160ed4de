package crlscan

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

// corpusDir is the shared corpus, read in place; tests that need it skip
// when it is absent.
const corpusDir = "../../../shared/corpus"

var oidReasonCodeX = asn1.ObjectIdentifier{2, 5, 29, 21}

// compareWithX509 checks that Parse and x509.ParseRevocationList agree on
// der: both reject (or the scanner rejects with ErrStricter), or both accept
// with the same fields, serials, times and reasons.
func compareWithX509(t testing.TB, der []byte) (*CRL, *x509.RevocationList) {
	t.Helper()
	rl, xerr := x509.ParseRevocationList(der)
	c, err := Parse(der)
	switch {
	case xerr != nil && err != nil:
		return nil, nil
	case xerr != nil:
		t.Fatalf("scanner accepts a CRL crypto/x509 rejects (%v)", xerr)
	case err != nil:
		if !errors.Is(err, ErrStricter) {
			t.Fatalf("scanner rejects a CRL crypto/x509 accepts, without ErrStricter: %v", err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Field == "" {
			t.Fatalf("error %v is not a *Error with a field", err)
		}
		return nil, rl
	}
	if !bytes.Equal(c.RawIssuer, rl.RawIssuer) {
		t.Errorf("issuer differs")
	}
	if c.ThisUpdate.Unix() != rl.ThisUpdate.Unix() || c.NextUpdate.IsZero() != rl.NextUpdate.IsZero() ||
		!c.NextUpdate.IsZero() && c.NextUpdate.Unix() != rl.NextUpdate.Unix() {
		t.Errorf("times differ: %v %v vs %v %v", c.ThisUpdate, c.NextUpdate, rl.ThisUpdate, rl.NextUpdate)
	}
	if (c.Number == nil) != (rl.Number == nil) || c.Number != nil && c.Number.Cmp(rl.Number) != 0 {
		t.Errorf("CRL number differs: %v vs %v", c.Number, rl.Number)
	}
	if !bytes.Equal(c.AuthorityKeyID, rl.AuthorityKeyId) {
		t.Errorf("AKI differs: %x vs %x", c.AuthorityKeyID, rl.AuthorityKeyId)
	}
	if c.SignatureAlgorithm != rl.SignatureAlgorithm && c.SignatureAlgorithmErr == nil {
		t.Errorf("signature algorithm differs: %v vs %v", c.SignatureAlgorithm, rl.SignatureAlgorithm)
	}
	if c.Len() != len(rl.RevokedCertificateEntries) {
		t.Fatalf("%d entries, crypto/x509 has %d", c.Len(), len(rl.RevokedCertificateEntries))
	}
	i := 0
	c.All(func(e Entry) bool {
		x := rl.RevokedCertificateEntries[i]
		if SerialInt(e.Serial).Cmp(x.SerialNumber) != 0 {
			t.Fatalf("entry %d: serial %x, crypto/x509 %x", i, SerialInt(e.Serial), x.SerialNumber)
		}
		if e.RevokedAt != x.RevocationTime.Unix() {
			t.Fatalf("entry %d: time %v, crypto/x509 %v", i, e.Time(), x.RevocationTime)
		}
		hasReason := false
		for _, ext := range x.Extensions {
			if ext.Id.Equal(oidReasonCodeX) {
				hasReason = true
			}
		}
		if !hasReason && e.Reason != NoReason || hasReason && int(e.Reason) != x.ReasonCode {
			t.Fatalf("entry %d: reason %d, crypto/x509 %d (present %v)", i, e.Reason, x.ReasonCode, hasReason)
		}
		// Lookup finds the first entry with this serial.
		got, ok := c.Lookup(x.SerialNumber)
		if !ok || !bytes.Equal(got.Serial, e.Serial) {
			t.Fatalf("entry %d: lookup failed", i)
		}
		i++
		return true
	})
	return c, rl
}

func readCorpus(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, rel))
	if err != nil {
		if os.IsNotExist(err) {
			t.Skipf("corpus file %s absent", rel)
		}
		t.Fatal(err)
	}
	return b
}

func readCert(t *testing.T, rel string) *x509.Certificate {
	t.Helper()
	b := readCorpus(t, rel)
	if p, _ := pem.Decode(b); p != nil {
		b = p.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCorpusAgreement runs every real CRL of the corpus through both
// parsers, and through the scanner's two paths.
func TestCorpusAgreement(t *testing.T) {
	t.Parallel()
	var files []string
	for _, pat := range []string{"zcrypto/crl-*/*.der", "large-crls/*.crl", "large-crls/*.der"} {
		m, _ := filepath.Glob(filepath.Join(corpusDir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("corpus absent")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			der, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fastAgrees(t, der)
			c, rl := compareWithX509(t, der)
			switch {
			case c != nil:
				t.Logf("%d entries, %d bytes, index %.1f bytes/entry", c.Len(), len(der), float64(c.RetainedBytes())/float64(max(c.Len(), 1)))
			case rl != nil:
				t.Errorf("scanner stricter than crypto/x509 on a real CRL")
			default:
				// Both reject: only the base64 text file is expected here.
				if !strings.HasSuffix(f, "infinite-loop.crl") {
					t.Errorf("both parsers reject %s", f)
				}
			}
		})
	}
}

func TestCorpusLookups(t *testing.T) {
	t.Parallel()
	hex := func(s string) *big.Int {
		n, ok := new(big.Int).SetString(s, 16)
		if !ok {
			t.Fatal(s)
		}
		return n
	}
	t.Run("symantec", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(readCorpus(t, "zcrypto/crl-symantec/symantec-class3-secure-server-ca-g4.crl.der"))
		if err != nil {
			t.Fatal(err)
		}
		issuer := readCert(t, "zcrypto/crl-symantec/issuer-symantec-class3-g4.pem")
		if err := c.CheckSignature(issuer); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if c.Len() != 29408 || c.Number.Int64() != 3525 {
			t.Errorf("len %d number %v", c.Len(), c.Number)
		}
		revoked := readCert(t, "zcrypto/crl-symantec/leaf-the-acey-revoked.pem")
		e, ok := c.Lookup(revoked.SerialNumber)
		if !ok || !e.Time().Equal(time.Date(2017, 9, 8, 1, 9, 49, 0, time.UTC)) || e.Reason != NoReason {
			t.Errorf("the-acey: %v %v", ok, e)
		}
		good := readCert(t, "zcrypto/crl-symantec/leaf-ivccbookstore-not-revoked.pem")
		if _, ok := c.Lookup(good.SerialNumber); ok {
			t.Error("ivccbookstore listed")
		}
		c.Release()
		if err := c.CheckSignature(issuer); err == nil {
			t.Error("CheckSignature after Release succeeded")
		}
	})
	t.Run("incommon", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(readCorpus(t, "zcrypto/crl-incommon/incommon-rsa-server-ca.crl.der"))
		if err != nil {
			t.Fatal(err)
		}
		e, ok := c.Lookup(hex("DF702662F5915CCBB16EBA1BD5A51BEF"))
		if !ok || !e.Time().Equal(time.Date(2018, 4, 18, 18, 8, 12, 0, time.UTC)) {
			t.Errorf("bu.edu: %v %v", ok, e.Time())
		}
	})
	t.Run("reniec", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(readCorpus(t, "large-crls/hgcaclass2.crl"))
		if err != nil {
			t.Fatal(err)
		}
		ca := readCert(t, "large-crls/reniec-class2-high-grade-ca.pem")
		if err := c.CheckSignature(ca); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if c.Len() != 25219 {
			t.Errorf("len %d", c.Len())
		}
	})
	t.Run("globalsign", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(readCorpus(t, "large-crls/http___crl.globalsign.com_gs_gspersonalsign2sha2g2.crl"))
		if err != nil {
			t.Fatal(err)
		}
		for s, want := range map[string]bool{
			"288350169419475868349393253038503091234": true,
			"288350169419475868349393264025423631520": true,
			"111111111111111111111111111":             false,
		} {
			n, _ := new(big.Int).SetString(s, 10)
			e, ok := c.Lookup(n)
			if ok != want || ok && e.Reason != NoReason {
				t.Errorf("%s: listed %v (reason %d), want %v", s, ok, e.Reason, want)
			}
		}
	})
	t.Run("expiredCertsOnCRL", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(readCorpus(t, "large-crls/crl-expiredCertsOnCRL-UTCTime.crl"))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.UnhandledCritical) != 0 || c.Len() != 11219 {
			t.Errorf("critical %v, len %d", c.UnhandledCritical, c.Len())
		}
	})
}

func TestSerialBytes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "-256", "-257",
		"123456789012345678901234567890123456789012345678901234567890", "-98765432109876543210987654321098765432109876543210"} {
		n, _ := new(big.Int).SetString(s, 10)
		b := SerialBytes(n)
		var bld cryptobyte.Builder
		bld.AddASN1BigInt(n)
		der := bld.BytesOrPanic()
		in := cryptobyte.String(der)
		var contents cryptobyte.String
		in.ReadASN1(&contents, cbasn1.INTEGER)
		if !bytes.Equal(b, contents) {
			t.Errorf("%s: %x, DER contents %x", s, b, []byte(contents))
		}
		if SerialInt(b).Cmp(n) != 0 {
			t.Errorf("%s: round trip %v", s, SerialInt(b))
		}
		if !validInteger(b) {
			t.Errorf("%s: not minimal", s)
		}
	}
}

// TestTimes checks the fast time decoder against cryptobyte's on valid and
// invalid values.
func TestTimes(t *testing.T) {
	t.Parallel()
	utc := []string{"260115120000Z", "491231235959Z", "500101000000Z", "991231235959Z", "000229000000Z",
		"010229000000Z", "260230000000Z", "261301000000Z", "260100000000Z", "262400000000Z", "260115126000Z",
		"260115120060Z", "2601151200Z", "260115120000+0100", "26011512000aZ", "520229120000Z", "260431000000Z"}
	gen := []string{"20260115120000Z", "19000229000000Z", "20000229000000Z", "00000101000000Z", "99991231235959Z",
		"20260115120000.5Z", "20260115120000.50Z", "20260115120000+0130", "2026011512000Z", "20261301000000Z",
		"18500101000000Z", "2026011512000-Z"}
	check := func(tag cbasn1.Tag, v string) {
		var b cryptobyte.Builder
		b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(v)) })
		der := b.BytesOrPanic()
		s1, s2 := cryptobyte.String(der), cryptobyte.String(der)
		got, ok := readTime(&s1)
		var want time.Time
		var wok bool
		if tag == cbasn1.UTCTime {
			wok = s2.ReadASN1UTCTime(&want)
		} else {
			wok = s2.ReadASN1GeneralizedTime(&want)
		}
		if ok != wok || ok && got != want.Unix() {
			t.Errorf("%s: got %v %v, cryptobyte %v %v", v, got, ok, want.Unix(), wok)
		}
	}
	for _, v := range utc {
		check(cbasn1.UTCTime, v)
	}
	for _, v := range gen {
		check(cbasn1.GeneralizedTime, v)
	}
	// Every day of four years around the century boundaries.
	for _, start := range []time.Time{time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2048, 1, 1, 23, 59, 59, 0, time.UTC), time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)} {
		for d := 0; d < 4*366; d++ {
			tm := start.AddDate(0, 0, d)
			if tm.Year() >= 1950 && tm.Year() < 2050 {
				check(cbasn1.UTCTime, tm.Format("060102150405Z"))
			}
			check(cbasn1.GeneralizedTime, tm.Format("20060102150405Z"))
		}
	}
}

// hostile CRLs built field by field: each must be handled as crypto/x509
// does, or rejected with ErrStricter.
func TestAgreementBuilt(t *testing.T) {
	t.Parallel()
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "crlscan CA"}))
	ext := func(id asn1.ObjectIdentifier, critical bool, v []byte) pkix.Extension {
		return pkix.Extension{Id: id, Critical: critical, Value: v}
	}
	unknown := asn1.ObjectIdentifier{1, 2, 3, 4, 5}
	neg := big.NewInt(-12345)
	long := new(big.Int).Lsh(big.NewInt(1), 200)
	tests := []struct {
		name   string
		tmpl   testpki.CRLTemplate
		strict bool // the scanner must reject with ErrStricter
		both   bool // both must reject
		check  func(t *testing.T, c *CRL)
	}{
		{name: "empty", tmpl: testpki.CRLTemplate{}},
		{name: "entries", tmpl: testpki.CRLTemplate{Entries: []testpki.CRLEntry{
			{Serial: big.NewInt(1), Reason: testpki.Reason(1)}, {Serial: neg}, {Serial: long, Reason: testpki.Reason(6)},
			{Serial: big.NewInt(0)}, {Serial: big.NewInt(128), InvalidityDate: testpki.Now}}},
			check: func(t *testing.T, c *CRL) {
				for _, n := range []*big.Int{big.NewInt(1), neg, long, big.NewInt(0), big.NewInt(128)} {
					if _, ok := c.Lookup(n); !ok {
						t.Errorf("%v not found", n)
					}
				}
				for _, n := range []*big.Int{big.NewInt(12345), big.NewInt(-1), new(big.Int).Neg(long), big.NewInt(2)} {
					if _, ok := c.Lookup(n); ok {
						t.Errorf("%v found", n)
					}
				}
			}},
		{name: "generalized times", tmpl: testpki.CRLTemplate{GeneralizedTime: true, Entries: []testpki.CRLEntry{{Serial: big.NewInt(5)}}}},
		{name: "far future", tmpl: testpki.CRLTemplate{ThisUpdate: time.Date(2070, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "no next update", tmpl: testpki.CRLTemplate{NoNextUpdate: true}},
		{name: "no extensions", tmpl: testpki.CRLTemplate{NoAKI: true, NoNumber: true}},
		{name: "v1", tmpl: testpki.CRLTemplate{OmitVersion: true}, both: true},
		{name: "v3", tmpl: testpki.CRLTemplate{Version: 2}, both: true},
		{name: "algorithm mismatch", tmpl: testpki.CRLTemplate{RawOuterAlgorithm: []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}}, both: true},
		{name: "unknown algorithm", tmpl: testpki.CRLTemplate{RawAlgorithm: []byte{0x30, 0x03, 0x06, 0x01, 0x2a}},
			check: func(t *testing.T, c *CRL) {
				if c.SignatureAlgorithmErr == nil || c.CheckSignature(ca.Cert) == nil {
					t.Error("unknown algorithm verified")
				}
			}},
		{name: "non-minimal serial", tmpl: testpki.CRLTemplate{Entries: []testpki.CRLEntry{{RawSerial: []byte{0x00, 0x01}}}}, both: true},
		{name: "empty serial", tmpl: testpki.CRLTemplate{Entries: []testpki.CRLEntry{{RawSerial: []byte{}}}}, both: true},
		{name: "trailing newline", tmpl: testpki.CRLTemplate{Trailing: []byte("\r\n")}},
		{name: "unknown critical CRL extension", tmpl: testpki.CRLTemplate{Extensions: []pkix.Extension{ext(unknown, true, []byte{5, 0})}},
			check: func(t *testing.T, c *CRL) {
				if len(c.UnhandledCritical) != 1 || !c.UnhandledCritical[0].Equal(unknown) {
					t.Errorf("UnhandledCritical %v", c.UnhandledCritical)
				}
			}},
		{name: "unknown critical entry extension", tmpl: testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(1), Extensions: []pkix.Extension{ext(unknown, true, nil)}}}},
			check: func(t *testing.T, c *CRL) {
				if len(c.EntryUnhandledCritical) != 1 {
					t.Errorf("EntryUnhandledCritical %v", c.EntryUnhandledCritical)
				}
			}},
		{name: "repeated CRL number", tmpl: testpki.CRLTemplate{Extensions: []pkix.Extension{ext(asn1.ObjectIdentifier{2, 5, 29, 20}, false, []byte{2, 1, 5})}}, strict: true},
		{name: "reason 7", tmpl: testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(1), Reason: testpki.Reason(7)}}}, strict: true},
		{name: "reason 99", tmpl: testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(1), Reason: testpki.Reason(99)}}}, strict: true},
		{name: "malformed reason", tmpl: testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(1), Extensions: []pkix.Extension{ext(oidReasonCodeX, false, []byte{2, 1, 1})}}}}, both: true},
		{name: "indirect entry", tmpl: testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(1), CertificateIssuer: ca.Cert.RawSubject}}},
			check: func(t *testing.T, c *CRL) {
				if !c.IndirectEntries {
					t.Error("IndirectEntries not set")
				}
			}},
		{name: "delta", tmpl: testpki.CRLTemplate{DeltaBase: big.NewInt(4), Number: big.NewInt(6)},
			check: func(t *testing.T, c *CRL) {
				if !c.IsDelta() || c.BaseCRLNumber.Int64() != 4 {
					t.Error("not a delta with base 4")
				}
			}},
		{name: "idp", tmpl: testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://a/b.crl"}, OnlyUser: true, OnlySomeReasons: 1<<1 | 1<<8}, FreshestCRL: []string{"http://a/delta.crl"}},
			check: func(t *testing.T, c *CRL) {
				if c.IDP == nil || !c.IDPCritical || !c.IDP.OnlyContainsUserCerts || c.IDP.OnlySomeReasons != FlagKeyCompromise|FlagAACompromise ||
					len(c.IDP.Name.FullName) != 1 || string(c.IDP.Name.FullName[0].Value) != "http://a/b.crl" {
					t.Errorf("IDP %+v", c.IDP)
				}
				if len(c.Freshest) != 1 || c.Freshest[0].URIs()[0] != "http://a/delta.crl" {
					t.Errorf("Freshest %+v", c.Freshest)
				}
			}},
		{name: "idp relative", tmpl: testpki.CRLTemplate{IDP: &testpki.IDPTemplate{RelativeCN: "part 2", OnlyCA: true, Indirect: true}},
			check: func(t *testing.T, c *CRL) {
				if c.IDP == nil || c.IDP.Name.RelativeName == nil || !c.IDP.IndirectCRL || !c.IDP.OnlyContainsCACerts {
					t.Errorf("IDP %+v", c.IDP)
				}
			}},
		{name: "idp two flags", tmpl: testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlyUser: true, OnlyCA: true}}, strict: true},
		{name: "malformed idp", tmpl: testpki.CRLTemplate{Extensions: []pkix.Extension{ext(asn1.ObjectIdentifier{2, 5, 29, 28}, true, []byte{4, 0})}}, strict: true},
		{name: "negative CRL number", tmpl: testpki.CRLTemplate{Number: big.NewInt(-1)}, strict: true},
		{name: "wrong issuer bytes", tmpl: testpki.CRLTemplate{RawIssuer: []byte{0x30, 0x03, 0x31, 0x01, 0x00}}, both: true},
		{name: "bad printable string", tmpl: testpki.CRLTemplate{RawIssuer: []byte{0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x01, '@'}}, both: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			der, err := ca.BuildCRL(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			c, rl := compareWithX509(t, der)
			switch {
			case tt.both && (c != nil || rl != nil):
				t.Fatalf("accepted (scanner %v, x509 %v)", c != nil, rl != nil)
			case tt.strict && (c != nil || rl == nil):
				t.Fatalf("want a stricter rejection (scanner %v, x509 %v)", c != nil, rl != nil)
			case !tt.both && !tt.strict && c == nil:
				_, err := Parse(der)
				t.Fatalf("rejected: %v", err)
			}
			if c != nil {
				if c.SignatureAlgorithmErr == nil {
					if err := c.CheckSignature(ca.Cert); err != nil {
						t.Errorf("signature: %v", err)
					}
				}
				if tt.check != nil {
					tt.check(t, c)
				}
			}
		})
	}
}

func TestSignatureTampered(t *testing.T) {
	t.Parallel()
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "crlscan CA", Key: testpki.RSA2048}))
	der, err := ca.BuildCRL(testpki.CRLTemplate{CorruptSignature: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSignature(ca.Cert); err == nil {
		t.Fatal("corrupted signature verified")
	}
	other := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "crlscan CA", Key: testpki.RSA2048, Signer: testpki.Must(testpki.FreshKey(testpki.RSA2048))}))
	good, _ := ca.BuildCRL(testpki.CRLTemplate{})
	c, _ = Parse(good)
	if err := c.CheckSignature(other.Cert); err == nil {
		t.Fatal("signature verified with another key")
	}
	if err := c.CheckSignature(ca.Cert); err != nil {
		t.Fatal(err)
	}
}

// TestTruncations cuts a CRL at every length: the scanner must never panic
// and must reject whenever crypto/x509 does.
func TestTruncations(t *testing.T) {
	t.Parallel()
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "crlscan CA"}))
	der, err := ca.BuildCRL(testpki.CRLTemplate{Entries: []testpki.CRLEntry{
		{Serial: big.NewInt(1), Reason: testpki.Reason(1)}, {Serial: big.NewInt(2)}},
		IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://x/y"}}})
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(der) {
		compareWithX509(t, der[:n])
		flipped := bytes.Clone(der)
		flipped[n] ^= 0xff
		compareWithX509(t, flipped)
	}
}

func TestDistributionPoints(t *testing.T) {
	t.Parallel()
	issuer := []byte{0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 't', 'e', 's', 't'}
	e := testpki.CRLDistributionPointsExtension(
		testpki.DistributionPoint{URIs: []string{"ldap://x/cn=y", "http://a/b.crl"}, Reasons: 1<<1 | 1<<2},
		testpki.DistributionPoint{RelativeCN: "part 1"},
		testpki.DistributionPoint{CRLIssuer: issuer},
	)
	dps, err := ParseDistributionPoints(e.Value)
	if err != nil {
		t.Fatal(err)
	}
	if len(dps) != 3 {
		t.Fatalf("%d points", len(dps))
	}
	if u := dps[0].URIs(); len(u) != 2 || u[1] != "http://a/b.crl" || !dps[0].HasReasons || dps[0].Reasons != FlagKeyCompromise|FlagCACompromise {
		t.Errorf("dp 0: %+v", dps[0])
	}
	names := dps[1].Name.Names(issuer)
	if len(names) != 1 || names[0].Tag != 4 {
		t.Fatalf("relative names %+v", names)
	}
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(names[0].Value, &rdn); err != nil || len(rdn) != 2 || rdn[1][0].Value != "part 1" {
		t.Errorf("relative name %v %v", rdn, err)
	}
	if dps[2].Name != nil || len(dps[2].CRLIssuer) != 1 || !bytes.Equal(dps[2].CRLIssuer[0].Value, issuer) {
		t.Errorf("dp 2: %+v", dps[2])
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, {0x30, 0x02, 0x30, 0x00}, {0x30, 0x04, 0x30, 0x02, 0x81, 0x00}} {
		if _, err := ParseDistributionPoints(bad); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
}

// TestParallelBuildDuplicates: in a table large enough to be built by two
// goroutines, a repeated serial still resolves to the first revoking entry
// (or the first entry when none revokes), wherever its copies fall.
func TestParallelBuildDuplicates(t *testing.T) {
	t.Parallel()
	n := 3 * parallelBuild
	serial := func(i int) []byte { return []byte{0x01, byte(i >> 16), byte(i >> 8), byte(i)} }
	dupA, dupB := []byte{0x7f, 0xaa}, []byte{0x7f, 0xbb}
	place := map[int][]byte{10: dupA, n/2 + 5: dupA, n - 3: dupA, 20: dupB, n/2 + 9: dupB}
	reasons := map[int]uint8{10: ReasonRemoveFromCRL, n/2 + 5: 1, n - 3: 4, 20: ReasonRemoveFromCRL, n/2 + 9: ReasonRemoveFromCRL}
	for round := range 5 {
		total := 0
		for i := range n {
			s := serial(i)
			if d, ok := place[i]; ok {
				s = d
			}
			total += len(s)
		}
		x := newIndex(n, total)
		for i := range n {
			s, r := serial(i), uint8(NoReason)
			if d, ok := place[i]; ok {
				s, r = d, reasons[i]
			}
			if !x.put(i, s, int64(i), r) {
				t.Fatal("put overflowed")
			}
		}
		x.build()
		if i, ok := x.find(dupA); !ok || i != n/2+5 {
			t.Fatalf("round %d: dupA resolves to %d, want the first revoking entry %d", round, i, n/2+5)
		}
		if i, ok := x.find(dupB); !ok || i != 20 {
			t.Fatalf("round %d: dupB resolves to %d, want the first entry 20", round, i)
		}
		for _, i := range []int{0, 1, n / 2, n - 1} {
			if j, ok := x.find(serial(i)); !ok || j != i {
				t.Fatalf("round %d: serial %d found at %d, %v", round, i, j, ok)
			}
		}
		if _, ok := x.find([]byte{0x55}); ok {
			t.Fatal("absent serial found")
		}
	}
}

// TestBuildManyCopies: a stretch of the table crowded with copies of one
// serial (placed by probing) does not hide the distinct serials around
// it, in a table built by one goroutine and in one built by two.
func TestBuildManyCopies(t *testing.T) {
	t.Parallel()
	for _, n := range []int{partitionFrom + 1000, 4 * parallelBuild} {
		copies := n / 2
		dup := []byte{0x42}
		serial := func(i int) []byte { return []byte{0x01, byte(i >> 16), byte(i >> 8), byte(i)} }
		x := newIndex(n, 4*n)
		for i := range n {
			s, r := serial(i), uint8(NoReason)
			if i%2 == 0 && i/2 < copies {
				s, r = dup, ReasonRemoveFromCRL
				if i == n/2 {
					r = 1 // the only copy that revokes
				}
			}
			if !x.put(i, s, int64(i), r) {
				t.Fatal("put overflowed")
			}
		}
		x.build()
		if i, ok := x.find(dup); !ok || i != n/2 {
			t.Errorf("n=%d: the repeated serial resolves to %d, %v; want the revoking copy %d", n, i, ok, n/2)
		}
		for i := 1; i < n; i += 2 {
			if j, ok := x.find(serial(i)); !ok || j != i {
				t.Fatalf("n=%d: serial %d found at %d, %v", n, i, j, ok)
			}
		}
	}
}

// TestEstimateShortAndLong: the index is sized from the first entries;
// when the rest are larger (the index grows) or smaller (it is trimmed),
// every entry is still read as crypto/x509 reads it, and the index keeps
// no more than it needs.
func TestEstimateShortAndLong(t *testing.T) {
	t.Parallel()
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Estimate CA"}))
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	small := func(i int) testpki.CRLEntry { // 1- or 2-byte serial, no reason: about 20 bytes
		return testpki.CRLEntry{Serial: big.NewInt(int64(i % 30000)), RevokedAt: base.Add(time.Duration(i) * time.Second)}
	}
	large := func(i int) testpki.CRLEntry { // 20-byte serial and a reason: about 50 bytes
		s := new(big.Int).Lsh(big.NewInt(int64(i+1)), 140)
		return testpki.CRLEntry{Serial: s, RevokedAt: base.Add(-time.Duration(i) * time.Hour), Reason: testpki.Reason(i % 6)}
	}
	for _, tc := range []struct {
		name         string
		first, then  func(int) testpki.CRLEntry
		nFirst, nAll int
	}{
		{"small entries first: more entries predicted, fewer serial bytes", small, large, estimateSample + 10, 20000},
		{"large entries first: fewer entries predicted", large, small, estimateSample + 10, 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var entries []testpki.CRLEntry
			for i := range tc.nAll {
				if i < tc.nFirst {
					entries = append(entries, tc.first(i))
				} else {
					entries = append(entries, tc.then(i))
				}
			}
			der := testpki.Must(ca.BuildCRL(testpki.CRLTemplate{Entries: entries}))
			c, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			rl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			if c.Len() != len(rl.RevokedCertificateEntries) {
				t.Fatalf("%d entries, crypto/x509 reads %d", c.Len(), len(rl.RevokedCertificateEntries))
			}
			i := 0
			for e := range c.All {
				want := rl.RevokedCertificateEntries[i]
				if SerialInt(e.Serial).Cmp(want.SerialNumber) != 0 || !e.Time().Equal(want.RevocationTime) || (want.ReasonCode != 0) != (e.Reason != NoReason && e.Reason != 0) {
					t.Fatalf("entry %d: %x %v %d, crypto/x509 reads %x %v %d", i, e.Serial, e.Time(), e.Reason, want.SerialNumber, want.RevocationTime, want.ReasonCode)
				}
				i++
			}
			for _, j := range []int{0, tc.nFirst - 1, tc.nFirst, tc.nAll - 1} {
				s := entries[j].Serial
				if _, ok := c.Lookup(s); !ok {
					t.Errorf("entry %d (serial %x) not found", j, s)
				}
			}
			// What the entries need, with the hash table: the serials,
			// 9 bytes of offsets, times and reasons, and 4/(3/4) of
			// slots; the prediction may leave 1/8 more.
			need := 0
			for _, e := range entries {
				need += len(SerialBytes(e.Serial)) + 9 + 6
			}
			if got := c.RetainedBytes(); float64(got) > 1.125*float64(need)+1024 {
				t.Errorf("the index keeps %d bytes, want about %d", got, need)
			}
			t.Logf("%d entries: %d bytes kept (%.1f per entry), %d needed", c.Len(), c.RetainedBytes(), float64(c.RetainedBytes())/float64(c.Len()), need)
		})
	}
}

// TestFastPathAgrees: the fast path for common entries reads what the
// general path reads, on entries around its edges: dates either side of
// 1970 and of the UTCTime range (the day of the previous entry is reused
// only from 1970), every reason code, serials of every sign and length,
// extensions other than a lone reasonCode. (TestCorpusAgreement and
// FuzzScan check it on real CRLs and on fuzzed ones.)
func TestFastPathAgrees(t *testing.T) {
	t.Parallel()
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Fast CA"}))
	var entries []testpki.CRLEntry
	days := []time.Time{
		time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 22, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC), time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC),
		time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	serials := []*big.Int{big.NewInt(0), big.NewInt(-1), big.NewInt(127), big.NewInt(128), big.NewInt(-129),
		new(big.Int).Lsh(big.NewInt(1), 159), new(big.Int).Lsh(big.NewInt(1), 300)}
	k := 0
	for _, d := range days {
		for _, s := range serials {
			for r := -1; r <= 10; r++ {
				e := testpki.CRLEntry{Serial: new(big.Int).Add(s, big.NewInt(int64(k*1000))), RevokedAt: d.Add(time.Duration(k%3) * time.Second)}
				if r >= 0 && r != 7 {
					e.Reason = testpki.Reason(r)
				}
				if k%17 == 0 {
					e.InvalidityDate = d
				}
				entries = append(entries, e)
				k++
			}
		}
	}
	der := testpki.Must(ca.BuildCRL(testpki.CRLTemplate{Entries: entries}))
	fastAgrees(t, der)
	c, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	// The entries of 1969-12-31 keep their day, after an entry of the
	// same day was read.
	for i, e := range entries {
		got, ok := c.Lookup(e.Serial)
		if !ok || got.RevokedAt != e.RevokedAt.Unix() {
			t.Fatalf("entry %d: %v, %v; want revoked at %v", i, got.Time(), ok, e.RevokedAt)
		}
	}
}

// TestBuildAgainstMap: tables of every size that build handles
// differently (probing only; sorted by stretch and filled by one
// goroutine; by two), with serials of random lengths, some repeated with
// random reasons, find the entry prefer picks, as a map computed
// directly says, and nothing else.
func TestBuildAgainstMap(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, partitionFrom - 1, partitionFrom + 3, parallelBuild + 11, 3 * parallelBuild} {
		serials := make([][]byte, n)
		reasons := make([]uint8, n)
		total := 0
		for i := range n {
			if i > 0 && rng.IntN(20) == 0 {
				serials[i] = serials[rng.IntN(i)] // a repeat
			} else {
				s := make([]byte, 1+rng.IntN(20))
				for k := range s {
					s[k] = byte(rng.Uint32())
				}
				serials[i] = s
			}
			reasons[i] = []uint8{NoReason, 1, ReasonRemoveFromCRL}[rng.IntN(3)]
			total += len(serials[i])
		}
		x := newIndex(n, total)
		want := map[string]int{}
		for i := range n {
			if !x.put(i, serials[i], int64(i), reasons[i]) {
				t.Fatal("put overflowed")
			}
			k := string(serials[i])
			if j, ok := want[k]; !ok || x.prefer(i, j) {
				want[k] = i
			}
		}
		x.build()
		for k, i := range want {
			if got, ok := x.find([]byte(k)); !ok || got != i {
				t.Fatalf("n=%d: serial %x found at %d, %v; want %d", n, k, got, ok, i)
			}
		}
		for range 1000 {
			s := make([]byte, 21) // longer than any serial put
			for k := range s {
				s[k] = byte(rng.Uint32())
			}
			if _, ok := x.find(s); ok {
				t.Fatalf("n=%d: an absent serial was found", n)
			}
		}
	}
}
