package ct

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// FuzzSCTListExtension: the SCT list extension of certificates and OCSP
// responses (a DER OCTET STRING around a TLS SignedCertificateTimestampList).
// encoding/asn1 is the oracle for the DER layer. Seeds: testdata/sctext.
func FuzzSCTListExtension(f *testing.F) {
	seeds(f, "sctext")
	f.Fuzz(func(t *testing.T, v []byte) {
		scts, err := parseSCTListExtension(v)
		if err != nil {
			if !errors.Is(err, ErrMalformedSCT) {
				t.Fatalf("error %v does not wrap ErrMalformedSCT", err)
			}
			return
		}
		var inner []byte
		rest, aerr := asn1.Unmarshal(v, &inner)
		if aerr != nil || len(rest) != 0 {
			t.Fatalf("encoding/asn1 does not read an OCTET STRING the parser accepted: %v, %d bytes left", aerr, len(rest))
		}
		again, err := ParseSCTList(inner)
		if err != nil || len(again) != len(scts) {
			t.Fatalf("the list reads differently: %v", err)
		}
		for i, s := range scts {
			if len(s) == 0 || !bytes.Equal(s, again[i]) || !bytes.Contains(v, s) {
				t.Fatalf("SCT %d is empty or not the input's", i)
			}
		}
	})
}

// stapledFixture is testdata/stapled: a leaf without embedded SCTs, its
// issuer and root, and a log list of two logs of two operators; the seeds
// are staples for the leaf whose single response carries SCTs from them.
type stapledFixture struct {
	chain []*x509.Certificate
	list  *LogList
}

func loadStapled(tb testing.TB) *stapledFixture {
	tb.Helper()
	dir := filepath.Join("testdata", "stapled")
	b, err := os.ReadFile(filepath.Join(dir, "chain.pem"))
	if err != nil {
		tb.Fatalf("%v (regenerate with CT_WRITE_SEEDS=1 go test -run TestWriteStapledSeeds)", err)
	}
	fx := &stapledFixture{}
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		fx.chain = append(fx.chain, c)
	}
	if fx.list, err = LoadLogList(filepath.Join(dir, "loglist.json")); err != nil {
		tb.Fatal(err)
	}
	return fx
}

func (fx *stapledFixture) state(staple []byte) *tlsclient.State {
	st := &tlsclient.State{Now: testpki.Now}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{fx.chain}
	st.ConnectionState.PeerCertificates = fx.chain[:2]
	st.ConnectionState.OCSPResponse = staple
	return st
}

// FuzzStapledSCTs: arbitrary bytes stapled by a server whose certificate
// has no SCTs of its own, through a whole CT check. An SCT from a stapled
// response may only count when the response is bound to the certificate
// and signed by its issuer (or a responder it authorised): a pass must come
// with a response ocspcheck.Check accepts; a failure is a *PolicyError.
func FuzzStapledSCTs(f *testing.F) {
	fx := loadStapled(f)
	seeds(f, "stapled")
	f.Fuzz(func(t *testing.T, staple []byte) {
		v := New(fx.list, WithPolicy(AtLeast(2, 2)))
		st := fx.state(staple)
		err := v.Verify(context.Background(), st)
		checks := st.Checks()
		if len(checks) != 1 {
			t.Fatalf("%d checks recorded", len(checks))
		}
		d, _ := checks[0].Data.(*Details)
		if d == nil {
			t.Fatal("no details")
		}
		valid, examined := 0, 0
		for _, s := range d.SCTs {
			if s.Source != SourceOCSP {
				t.Fatalf("an SCT from %s, which the connection does not have", s.Source)
			}
			if s.Status == StatusValid {
				valid++
			}
			if s.Status != StatusIgnored {
				examined++
			}
		}
		if examined > MaxSCTs {
			t.Fatalf("%d SCTs examined, more than MaxSCTs", examined)
		}
		_, cerr := ocspcheck.Check(staple, fx.chain[0], fx.chain[1], ocspcheck.Options{})
		if valid > 0 && cerr != nil {
			t.Fatalf("%d SCTs counted from a staple that is not bound to the certificate: %v", valid, cerr)
		}
		var pe *PolicyError
		switch {
		case err == nil:
			if cerr != nil || valid < 2 {
				t.Fatalf("passed with %d valid SCTs and a staple that checks as %v", valid, cerr)
			}
		case errors.Is(err, tlsclient.ErrCTPolicy) && errors.As(err, &pe):
		default:
			t.Fatalf("untyped error: %v", err)
		}
	})
}

// TestStapledSeeds keeps the seeds meaningful: the good staple passes,
// the others fail for the reason their names give.
func TestStapledSeeds(t *testing.T) {
	t.Parallel()
	fx := loadStapled(t)
	for name, pass := range map[string]bool{
		"good.der": true, "one-sct.der": false, "wrong-cert.der": false, "wrong-signer.der": false,
		"bad-list.der": false, "no-scts.der": false, "stale.der": true, "corrupt-sct.der": false,
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "stapled", name))
		if err != nil {
			t.Fatal(err)
		}
		err = New(fx.list, WithPolicy(AtLeast(2, 2))).Verify(context.Background(), fx.state(b))
		if (err == nil) != pass {
			t.Errorf("%s: %v, want pass %v", name, err, pass)
		}
	}
}

// TestWriteStapledSeeds regenerates testdata/stapled and testdata/sctext
// (CT_WRITE_SEEDS=1).
func TestWriteStapledSeeds(t *testing.T) {
	if os.Getenv("CT_WRITE_SEEDS") == "" {
		t.Skip("set CT_WRITE_SEEDS=1 to regenerate testdata seeds")
	}
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Stapled SCT root"}))
	inter := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "Stapled SCT intermediate"}))
	leaf := testpki.Must(inter.Issue(testpki.CertOptions{CommonName: "stapled.test"}))
	other := testpki.Must(inter.Issue(testpki.CertOptions{CommonName: "other.test"}))
	a := testpki.Must(testpki.NewCTLog("Stapled log A", "Operator A", testpki.ECDSAP256))
	b := testpki.Must(testpki.NewCTLog("Stapled log B", "Operator B", testpki.RSA2048))
	list := testpki.Must(testpki.CTLogList(testpki.Now.Add(-day), a, b))
	sct := func(l *testpki.CTLog, c *testpki.Cert, o testpki.SCTOptions) []byte {
		return testpki.Must(l.SCTForCert(c.Cert.Raw, o))
	}
	good := [][]byte{sct(a, leaf, testpki.SCTOptions{}), sct(b, leaf, testpki.SCTOptions{})}
	staple := func(signer *testpki.Cert, about *testpki.Cert, this time.Time, ext *pkix.Extension) []byte {
		s := testpki.Single{Cert: about.Cert, Issuer: inter.Cert, Status: testpki.StatusGood, ThisUpdate: this, NextUpdate: this.Add(7 * day)}
		if ext != nil {
			s.Extensions = []pkix.Extension{*ext}
		}
		return testpki.Must((&testpki.OCSPResponse{Signer: signer, Responses: []testpki.Single{s}}).Marshal())
	}
	ext := func(scts ...[]byte) *pkix.Extension {
		e := testpki.Must(testpki.OCSPSCTListExtension(scts...))
		return &e
	}
	stranger := testpki.Must(testpki.NewRoot(testpki.CertOptions{Subject: &inter.Cert.Subject}))
	hour := testpki.Now.Add(-time.Hour)
	badList := pkix.Extension{Id: OIDOCSPSCTList, Value: []byte{0x04, 0x03, 0x00, 0x05, 0x00}}
	files := map[string][]byte{
		"good.der":         staple(inter, leaf, hour, ext(good...)),
		"one-sct.der":      staple(inter, leaf, hour, ext(good[0])),
		"wrong-cert.der":   staple(inter, other, hour, ext(sct(a, other, testpki.SCTOptions{}), sct(b, other, testpki.SCTOptions{}))),
		"wrong-signer.der": staple(stranger, leaf, hour, ext(good...)),
		"bad-list.der":     staple(inter, leaf, hour, &badList),
		"no-scts.der":      staple(inter, leaf, hour, nil),
		"stale.der":        staple(inter, leaf, testpki.Now.AddDate(0, 0, -30), ext(good...)),
		"corrupt-sct.der":  staple(inter, leaf, hour, ext(good[0], sct(b, leaf, testpki.SCTOptions{CorruptSignature: true}))),
	}
	write := func(dir, name string, data []byte) {
		if err := os.MkdirAll(filepath.Join("testdata", dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var chain []byte
	for _, c := range []*testpki.Cert{leaf, inter, root} {
		chain = append(chain, c.PEM()...)
	}
	write("stapled", "chain.pem", chain)
	write("stapled", "loglist.json", list)
	for name, der := range files {
		write("stapled", name, der)
	}
	for i, scts := range [][][]byte{good, good[:1], slices.Repeat(good[:1], 5)} {
		write("sctext", []string{"two.bin", "one.bin", "five.bin"}[i], testpki.Must(testpki.OCSPSCTListExtension(scts...)).Value)
	}
}
