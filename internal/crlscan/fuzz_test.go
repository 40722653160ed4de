package crlscan

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

// FuzzScan checks the scanner against x509.ParseRevocationList: whatever
// crypto/x509 rejects, the scanner rejects; whatever both accept has the
// same fields, serials (as integers), revocation times and reasons; and
// what only crypto/x509 accepts is one of the documented stricter checks
// (ErrStricter). Seeds: testdata/seeds, and CRLs built field by field.
func FuzzScan(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/seeds/*.der")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, der := range fuzzSeedCRLs() {
		f.Add(der)
	}
	// A small real CRL from the shared corpus, when present (it is not
	// copied into testdata: its licence is the corpus's).
	if b, err := os.ReadFile(filepath.Join(corpusDir, "large-crls", "CA-5358AA45-Full.crl")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		fastAgrees(t, der)
		c, _ := compareWithX509(t, der)
		if c == nil {
			return
		}
		// Lookups never panic, listed or not.
		c.Lookup(big.NewInt(1))
		c.Lookup(big.NewInt(-1))
		c.LookupBytes(nil)
		if c.IDP != nil && c.IDP.Name != nil {
			c.IDP.Name.Names(c.RawIssuer)
		}
	})
}

// fastAgrees checks that the scanner's fast path for common entries and
// its general path read der alike: both fail, or both read the same
// entries.
func fastAgrees(t *testing.T, der []byte) {
	t.Helper()
	scan := func(fast bool) ([]Entry, error) {
		c, err := ParseHeader(der)
		if err != nil || c.pending == nil {
			return nil, err
		}
		if err := c.scanEntries(c.pending, fast); err != nil {
			return nil, err
		}
		var es []Entry
		for e := range c.All {
			es = append(es, e)
		}
		return es, nil
	}
	fe, ferr := scan(true)
	ge, gerr := scan(false)
	if (ferr == nil) != (gerr == nil) {
		t.Fatalf("fast path: %v; general path: %v", ferr, gerr)
	}
	if len(fe) != len(ge) {
		t.Fatalf("fast path reads %d entries, general path %d", len(fe), len(ge))
	}
	for i := range fe {
		if !bytes.Equal(fe[i].Serial, ge[i].Serial) || fe[i].RevokedAt != ge[i].RevokedAt || fe[i].Reason != ge[i].Reason {
			t.Fatalf("entry %d: fast path %+v, general path %+v", i, fe[i], ge[i])
		}
	}
}

// fuzzSeedCRLs builds a few CRLs exercising every field the scanner reads.
func fuzzSeedCRLs() [][]byte {
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Fuzz CA"}))
	long := new(big.Int).Lsh(big.NewInt(3), 170)
	tmpls := []testpki.CRLTemplate{
		{},
		{NoNextUpdate: true, NoAKI: true, NoNumber: true},
		{GeneralizedTime: true, Entries: []testpki.CRLEntry{{Serial: big.NewInt(-5), Reason: testpki.Reason(6)}, {Serial: long, InvalidityDate: testpki.Now}}},
		{Number: big.NewInt(9), DeltaBase: big.NewInt(8), FreshestCRL: []string{"http://x/d.crl"},
			IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://x/b.crl"}, OnlySomeReasons: 1<<1 | 1<<6, OnlyUser: true}},
		{IDP: &testpki.IDPTemplate{RelativeCN: "p1", Indirect: true, OnlyCA: true},
			Entries: []testpki.CRLEntry{{Serial: big.NewInt(1), CertificateIssuer: ca.Cert.RawSubject, Reason: testpki.Reason(1),
				Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte{5, 0}}}}},
			Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 4}, Critical: true, Value: []byte{5, 0}}}},
		{ThisUpdate: time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	var out [][]byte
	for _, tmpl := range tmpls {
		out = append(out, testpki.Must(ca.BuildCRL(tmpl)))
	}
	out = append(out, testpki.Must(ca.BigCRL(3)))
	return out
}

// TestWriteFuzzSeeds regenerates testdata/seeds when CRLSCAN_WRITE_SEEDS
// is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("CRLSCAN_WRITE_SEEDS") == "" {
		t.Skip("set CRLSCAN_WRITE_SEEDS=1 to regenerate testdata/seeds")
	}
	for i, der := range fuzzSeedCRLs() {
		if err := os.WriteFile(filepath.Join("testdata", "seeds", "built-"+string(rune('a'+i))+".der"), der, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
