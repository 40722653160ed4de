package ct

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

func TestModes(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	good := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	bad := w.leaf(t, 90*day, w.emb("A1")...)
	staleJSON, err := testpki.CTLogList(testpki.Now.Add(-71*day), w.logs["A1"], w.logs["B1"])
	if err != nil {
		t.Fatal(err)
	}
	stale, err := ParseLogList(staleJSON)
	if err != nil {
		t.Fatal(err)
	}
	otherRoot, err := testpki.NewRoot(testpki.CertOptions{CommonName: "Other Root"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		v       tlsclient.Verifier
		cert    *testpki.CTCert
		outcome tlsclient.Outcome
		wantErr bool
		detail  string
	}{
		{"enforced pass", New(w.list), good, tlsclient.Pass, false, "chrome policy met by embedded SCTs"},
		{"enforced fail", New(w.list), bad, tlsclient.Fail, true, "chrome policy not met"},
		{"report only never aborts", New(w.list, ReportOnly()), bad, tlsclient.Warning, false, "report only: chrome policy not met"},
		{"stale list stops enforcement", New(stale), bad, tlsclient.Warning, false, "CT not enforced: the log list of 2025-11-05T12:00:00Z is 71d old, more than 70d"},
		{"stale list, compliant, still a warning", New(stale), good, tlsclient.Warning, false, "policy met"},
		{"stale list allowed by WithMaxListAge(0)", New(stale, WithMaxListAge(0)), bad, tlsclient.Fail, true, "not met"},
		{"stale list allowed by a longer max age", New(stale, WithMaxListAge(100*day)), bad, tlsclient.Fail, true, "not met"},
		{"shorter max age makes it stale", New(w.list, WithMaxListAge(time.Hour)), bad, tlsclient.Warning, false, "is 1d old, more than 1h0m0s"},
		{"out of OnlyForRoots scope", New(w.list, OnlyForRoots(otherRoot.Pool())), bad, tlsclient.Skip, false, "outside the roots given to OnlyForRoots"},
		{"in OnlyForRoots scope", New(w.list, OnlyForRoots(w.root.Pool())), bad, tlsclient.Fail, true, "not met"},
		{"SkipRoots", New(w.list, SkipRoots(w.root.Pool())), bad, tlsclient.Skip, false, "one of the roots given to SkipRoots"},
		{"SkipRoots of another root", New(w.list, SkipRoots(otherRoot.Pool())), bad, tlsclient.Fail, true, "not met"},
		{"no list", New(nil), good, tlsclient.Fail, true, "misconfigured"},
		{"list and source", New(w.list, WithLogSource(w.list)), good, tlsclient.Fail, true, "misconfigured"},
		{"source without a list yet", New(nil, WithLogSource(&swap{})), bad, tlsclient.Warning, false, "no list yet"},
		{"source with a list", New(nil, WithLogSource(newSwap(w.list))), bad, tlsclient.Fail, true, "not met"},
		{"invalid AtLeast", New(w.list, WithPolicy(AtLeast(2, 3))), good, tlsclient.Fail, true, "misconfigured"},
		{"zero Policy", New(w.list, WithPolicy(Policy{})), good, tlsclient.Fail, true, "misconfigured"},
		{"nil option", New(w.list, nil), good, tlsclient.Fail, true, "misconfigured"},
		{"nil pools", New(w.list, OnlyForRoots(nil)), good, tlsclient.Fail, true, "misconfigured"},
		{"zero cache", New(w.list, WithCacheSize(0)), good, tlsclient.Fail, true, "misconfigured"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err, chk, _ := run(t, c.v, w.state(c.cert, nil, nil))
			if chk.Outcome != c.outcome || (err != nil) != c.wantErr {
				t.Fatalf("outcome %s, error %v; want %s, error %v\n%s", chk.Outcome, err, c.outcome, c.wantErr, chk.Detail)
			}
			if !strings.Contains(chk.Detail, c.detail) {
				t.Errorf("detail %q does not contain %q", chk.Detail, c.detail)
			}
			if chk.Outcome == tlsclient.Warning && strings.Contains(c.detail, "report only") {
				if _, ok := isPolicyError(chk.Err); !ok {
					t.Errorf("report-only warning without the PolicyError: %v", chk.Err)
				}
			}
		})
	}
}

// swap is a LogSource whose list can be replaced, as a caller would write.
type swap struct {
	mu sync.Mutex
	l  *LogList
}

func newSwap(l *LogList) *swap { return &swap{l: l} }

func (s *swap) LogList() *LogList {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l
}

func (s *swap) set(l *LogList) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.l = l
}

func TestLogSourceSwap(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	cert := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	onlyA, err := testpki.CTLogList(testpki.Now.Add(-day), w.logs["A1"])
	if err != nil {
		t.Fatal(err)
	}
	small, err := ParseLogList(onlyA)
	if err != nil {
		t.Fatal(err)
	}
	src := newSwap(small)
	v := New(nil, WithLogSource(src))
	if err, _, d := run(t, v, w.state(cert, nil, nil)); err == nil || d.SCTs[1].Status != StatusUnknownLog {
		t.Fatalf("with the small list: %v %v", err, statuses(d))
	}
	src.set(w.list)
	if err, _, _ := run(t, v, w.state(cert, nil, nil)); err != nil {
		t.Fatalf("after the swap: %v", err)
	}
}

func TestNoChainAndAnchorLeaf(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	err, chk, _ := run(t, New(w.list), &tlsclient.State{Now: testpki.Now})
	if !errors.Is(err, tlsclient.ErrCTPolicy) || chk.Outcome != tlsclient.Fail {
		t.Errorf("no chain: %v %s", err, chk.Outcome)
	}
	_, chk, _ = run(t, New(w.list, ReportOnly()), &tlsclient.State{Now: testpki.Now})
	if chk.Outcome != tlsclient.Warning {
		t.Errorf("no chain, report only: %s", chk.Outcome)
	}
	// A leaf that is itself the trust anchor: embedded SCTs cannot be
	// verified, for lack of an issuer key.
	cert := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	st := &tlsclient.State{Now: testpki.Now, ConnectionState: tlsConnState([][]*x509.Certificate{{cert.Cert.Cert, cert.Cert.Cert}}, nil, nil)}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{{cert.Cert.Cert}}
	err, _, d := run(t, New(w.list), st)
	if err == nil || d.SCTs[0].Status != StatusNoIssuer {
		t.Errorf("anchor leaf: %v %v", err, statuses(d))
	}
}

func TestIssuerFromAnyVerifiedChain(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	cert := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	// The first chain names an issuer with another key (as a broken
	// cross-sign would): the second chain's issuer verifies the SCTs.
	other, err := w.root.NewIntermediate(testpki.CertOptions{CommonName: "CT Test Intermediate", Key: testpki.ECDSAP384})
	if err != nil {
		t.Fatal(err)
	}
	st := &tlsclient.State{Now: testpki.Now, ConnectionState: tlsConnState([][]*x509.Certificate{
		{cert.Cert.Cert, other.Cert, w.root.Cert},
		{cert.Cert.Cert, w.inter.Cert, w.root.Cert},
	}, nil, nil)}
	if err, _, d := run(t, New(w.list), st); err != nil {
		t.Fatalf("%v\n%s", err, dump(d))
	}
	// With only the wrong issuer, the signatures fail.
	st = &tlsclient.State{Now: testpki.Now, ConnectionState: tlsConnState([][]*x509.Certificate{{cert.Cert.Cert, other.Cert, w.root.Cert}}, nil, nil)}
	if err, _, d := run(t, New(w.list), st); err == nil || d.SCTs[0].Status != StatusBadSignature {
		t.Fatalf("wrong issuer: %v %v", err, statuses(d))
	}
}

func TestSCTFromAnotherCertificate(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	donor := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	// Embedded: SCTs over another precertificate.
	cert := w.leaf(t, 90*day, testpki.Embed{Raw: donor.SCTs[0]}, testpki.Embed{Raw: donor.SCTs[1]})
	if err, _, d := run(t, New(w.list), w.state(cert, nil, nil)); err == nil || d.SCTs[0].Status != StatusBadSignature || d.SCTs[1].Status != StatusBadSignature {
		t.Fatalf("embedded from another certificate: %v %v", err, statuses(d))
	}
	// TLS: x509 SCTs over another certificate, and a precert SCT sent
	// in the TLS extension (wrong entry type).
	plain := w.leaf(t, 90*day)
	tlsSCTs := append(w.scts(t, donor, "A1"), donor.SCTs[1])
	if err, _, d := run(t, New(w.list), w.state(plain, tlsSCTs, nil)); err == nil || d.SCTs[0].Status != StatusBadSignature || d.SCTs[1].Status != StatusBadSignature {
		t.Fatalf("TLS SCTs of another certificate: %v %v", err, statuses(d))
	}
}

func TestOCSPSources(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	cert := w.leaf(t, 200*day)
	scts := w.scts(t, cert, "A1", "B1")
	other := w.leaf(t, 200*day)
	ext, err := testpki.OCSPSCTListExtension(scts...)
	if err != nil {
		t.Fatal(err)
	}
	resp := func(r testpki.OCSPResponse) []byte {
		t.Helper()
		der, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	single := func(c *testpki.CTCert) testpki.Single {
		return testpki.Single{Cert: c.Cert.Cert, Issuer: w.inter.Cert, ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(day), Extensions: []pkix.Extension{ext}}
	}
	stale := single(cert)
	stale.ThisUpdate, stale.NextUpdate = testpki.Now.Add(-30*day), testpki.Now.Add(-20*day)
	otherCA, err := w.root.NewIntermediate(testpki.CertOptions{CommonName: "Other CA"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		staple  []byte
		ok      bool
		problem string
	}{
		{"bound and signed", resp(testpki.OCSPResponse{Signer: w.inter, Responses: []testpki.Single{single(cert)}}), true, ""},
		{"stale but bound and signed", resp(testpki.OCSPResponse{Signer: w.inter, Responses: []testpki.Single{stale}}), true, ""},
		{"for another certificate", resp(testpki.OCSPResponse{Signer: w.inter, Responses: []testpki.Single{single(other)}}), false, "not bound to the certificate"},
		{"bad signature", resp(testpki.OCSPResponse{Signer: w.inter, CorruptSignature: true, Responses: []testpki.Single{single(cert)}}), false, "not validly signed"},
		{"unauthorised signer", resp(testpki.OCSPResponse{Signer: otherCA, Responses: []testpki.Single{single(cert)}}), false, "ignored"},
		{"not OCSP at all", []byte("garbage"), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err, _, d := run(t, New(w.list), w.state(cert, nil, c.staple))
			if (err == nil) != c.ok {
				t.Fatalf("error %v, want ok %v\n%s", err, c.ok, dump(d))
			}
			if c.ok && (len(d.SCTs) != 2 || d.SCTs[0].Source != SourceOCSP) {
				t.Errorf("SCTs %+v", d.SCTs)
			}
			if c.problem != "" && !strings.Contains(strings.Join(d.Problems, "|"), c.problem) {
				t.Errorf("problems %q lack %q", d.Problems, c.problem)
			}
		})
	}
}

func TestMalformedEmbeddedListAndLimits(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	c, err := w.inter.Issue(testpki.CertOptions{ExtraExtensions: []pkix.Extension{{Id: OIDSCTList, Value: []byte{0x04, 0x02, 0x00, 0x00}}}})
	if err != nil {
		t.Fatal(err)
	}
	cert := &testpki.CTCert{Cert: c}
	err, chk, d := run(t, New(w.list), w.state(cert, nil, nil))
	if err == nil || len(d.Problems) != 1 || !strings.Contains(chk.Detail, "embedded SCT list ignored") {
		t.Fatalf("malformed list: %v %q", err, chk.Detail)
	}
	// More than MaxSCTs: the rest are reported, not examined.
	plain := w.leaf(t, 90*day)
	one := w.scts(t, plain, "A1")[0]
	many := make([][]byte, MaxSCTs+6)
	for i := range many {
		many[i] = one
	}
	_, _, d = run(t, New(w.list), w.state(plain, many, nil))
	ignored := 0
	for _, s := range d.SCTs {
		if s.Status == StatusIgnored {
			ignored++
		}
	}
	if len(d.SCTs) != MaxSCTs+6 || ignored != 6 {
		t.Errorf("%d SCTs, %d ignored", len(d.SCTs), ignored)
	}
}

func TestUnsupportedLogKey(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	p384, err := testpki.NewCTLog("P-384 log", "Z", testpki.ECDSAP384)
	if err != nil {
		t.Fatal(err)
	}
	js, err := testpki.CTLogList(testpki.Now.Add(-day), p384, w.logs["A1"])
	if err != nil {
		t.Fatal(err)
	}
	list, err := ParseLogList(js)
	if err != nil {
		t.Fatal(err)
	}
	if l := list.Lookup(p384.ID()); l == nil || l.KeyErr == nil {
		t.Fatalf("P-384 log key accepted: %+v", l)
	}
	cert := w.leaf(t, 90*day, testpki.Embed{Log: p384}, testpki.Embed{Log: w.logs["A1"]})
	err, _, d := run(t, New(list), w.state(cert, nil, nil))
	if err == nil || d.SCTs[0].Status != StatusUnsupportedLogKey {
		t.Errorf("%v %v", err, statuses(d))
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	cert := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	staple := w.ocsp(t, cert, w.scts(t, cert, "C1")...)
	v := New(w.list).(*verifier)
	for i := range 3 {
		err, _, d := run(t, v, w.state(cert, w.scts(t, cert, "A2"), staple))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range d.SCTs {
			// The TLS SCT is signed anew each round, but by A2, an
			// RSA log (PKCS #1 v1.5 is deterministic), so its bytes
			// repeat: everything is cached from the second round on.
			if s.Cached != (i > 0) {
				t.Errorf("round %d: %s SCT cached=%v", i, s.Source, s.Cached)
			}
		}
	}
	if n := v.sigs.len(); n != 4 {
		t.Errorf("%d verdicts cached, want 4", n)
	}
	// Bounded.
	small := New(w.list, WithCacheSize(2)).(*verifier)
	for range 5 {
		c := w.leaf(t, 90*day, w.emb("A1", "B1")...)
		run(t, small, w.state(c, nil, nil))
	}
	if n := small.sigs.len(); n > 2 {
		t.Errorf("cache of 2 holds %d", n)
	}
}

func TestConcurrentVerify(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	v := New(w.list, WithCacheSize(8))
	certs := []*testpki.CTCert{
		w.leaf(t, 90*day, w.emb("A1", "B1")...),
		w.leaf(t, 90*day, w.emb("A2")...),
		w.leaf(t, 200*day, w.emb("A1", "B1", "C1")...),
	}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			c := certs[i%len(certs)]
			err, _, _ := run(t, v, w.state(c, nil, nil))
			if (err == nil) != (i%len(certs) != 1) {
				t.Errorf("cert %d: %v", i%len(certs), err)
			}
		})
	}
	wg.Wait()
}

// Through tlsclient.Dial against testpki TLS servers: every source, both
// TLS versions, resumption, and the refusal.
func TestDial(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	embedded := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	few := w.leaf(t, 90*day, w.emb("A1")...)
	plain := w.leaf(t, 90*day)
	cases := []struct {
		name   string
		opts   testpki.ServerOptions
		policy Policy
		ok     bool
		source Source
	}{
		{"embedded", testpki.ServerOptions{Cert: embedded.Cert}, ChromePolicy(), true, SourceEmbedded},
		{"embedded, TLS 1.2", testpki.ServerOptions{Cert: embedded.Cert, MaxVersion: tls.VersionTLS12}, ChromePolicy(), true, SourceEmbedded},
		{"TLS extension", testpki.ServerOptions{Cert: plain.Cert, SCTs: w.scts(t, plain, "A1", "B1")}, ChromePolicy(), true, SourceTLS},
		{"TLS extension, TLS 1.2", testpki.ServerOptions{Cert: plain.Cert, SCTs: w.scts(t, plain, "A2", "C1"), MaxVersion: tls.VersionTLS12}, ChromePolicy(), true, SourceTLS},
		{"stapled OCSP", testpki.ServerOptions{Cert: plain.Cert, Staple: w.ocsp(t, plain, w.scts(t, plain, "A1", "B1")...)}, ChromePolicy(), true, SourceOCSP},
		{"apple, embedded and TLS", testpki.ServerOptions{Cert: few.Cert, SCTs: w.scts(t, few, "B1")}, ApplePolicy(), true, SourceEmbedded},
		{"too few SCTs", testpki.ServerOptions{Cert: few.Cert}, ChromePolicy(), false, SourceEmbedded},
		{"no SCTs", testpki.ServerOptions{Cert: plain.Cert}, ChromePolicy(), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, err := testpki.StartServer(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			d, err := tlsclient.New(tlsclient.WithRootCAs(w.root.Pool()), tlsclient.WithTime(testpki.Clock()),
				tlsclient.WithVerifiers(New(w.list, WithPolicy(c.policy))))
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 { // the second dial resumes: CT is checked again
				conn, err := d.Dial("tcp", srv.Addr)
				var rep *tlsclient.Report
				if c.ok {
					if err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
					rep = conn.Report()
					if round == 1 && !conn.ConnectionState().DidResume {
						t.Error("second dial did not resume")
					}
					// Read the answer, and with it the TLS 1.3 session ticket.
					fmt.Fprint(conn, "GET / HTTP/1.0\r\n\r\n")
					io.Copy(io.Discard, conn)
					conn.Close()
				} else {
					var ve *tlsclient.VerificationError
					if _, ok := isPolicyError(err); !ok || !errors.As(err, &ve) {
						t.Fatalf("want a VerificationError wrapping a PolicyError, got %v", err)
					}
					rep = ve.Report
				}
				var chk *tlsclient.Check
				for i := range rep.Checks {
					if rep.Checks[i].Verifier == "ct" {
						chk = &rep.Checks[i]
					}
				}
				if chk == nil {
					t.Fatalf("no ct check in %s", rep)
				}
				d := chk.Data.(*Details)
				if c.source != "" && (len(d.SCTs) == 0 || d.SCTs[0].Source != c.source) {
					t.Errorf("SCTs %+v, want from %s", d.SCTs, c.source)
				}
				if round == 1 && c.ok {
					for _, s := range d.SCTs {
						if !s.Cached {
							t.Errorf("resumed handshake verified an SCT again: %+v", s)
						}
					}
				}
			}
		})
	}
}
