package revocation

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// TestStapled runs Stapled() end to end: the leaf's staple decides, nothing
// is fetched, and the intermediate is not looked at.
func TestStapled(t *testing.T) {
	t.Parallel()
	type staple func(p *oPKI) []byte
	status := func(s int) staple {
		return func(p *oPKI) []byte {
			return testpki.Must(p.inter.OCSPStatus(p.leaf, s, oRevokedAt, int(tlsclient.ReasonSuperseded)))
		}
	}
	stale := func(p *oPKI) []byte {
		return testpki.Must((&testpki.OCSPResponse{Signer: p.inter, Responses: []testpki.Single{{Cert: p.leaf.Cert, Issuer: p.inter.Cert,
			ThisUpdate: testpki.Now.Add(-48 * time.Hour), NextUpdate: testpki.Now.Add(-24 * time.Hour)}}}).Marshal())
	}
	otherSerial := func(p *oPKI) []byte {
		return testpki.Must((&testpki.OCSPResponse{Signer: p.inter, Responses: []testpki.Single{{Serial: oSerial(99), Issuer: p.inter.Cert,
			ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(time.Hour)}}}).Marshal())
	}
	tests := []struct {
		name     string
		must     bool
		staple   staple
		opts     []Option
		wantErr  error // nil: the dial succeeds
		decision tlsclient.Outcome
		detail   string
	}{
		{name: "good", staple: status(testpki.StatusGood), decision: tlsclient.Pass, detail: "stapled OCSP response: good"},
		{name: "revoked", staple: status(testpki.StatusRevoked), wantErr: tlsclient.ErrRevoked, decision: tlsclient.Fail, detail: "revoked"},
		{name: "revoked under SoftFail", staple: status(testpki.StatusRevoked), opts: []Option{SoftFail()}, wantErr: tlsclient.ErrRevoked, decision: tlsclient.Fail},
		{name: "no staple", decision: tlsclient.Skip, detail: "not applicable: no stapled OCSP response"},
		{name: "no staple, RequireStatus", opts: []Option{RequireStatus()}, wantErr: tlsclient.ErrRevocationUnavailable, decision: tlsclient.Fail, detail: "RequireStatus"},
		{name: "unknown", staple: status(testpki.StatusUnknown), wantErr: tlsclient.ErrRevocationUnavailable, decision: tlsclient.Fail, detail: "status unknown"},
		{name: "unknown, SoftFail", staple: status(testpki.StatusUnknown), opts: []Option{SoftFail()}, decision: tlsclient.Warning},
		{name: "stale", staple: stale, wantErr: tlsclient.ErrRevocationUnavailable, decision: tlsclient.Fail, detail: "nextUpdate"},
		{name: "stale, SoftFail", staple: stale, opts: []Option{SoftFail()}, decision: tlsclient.Warning, detail: "nextUpdate"},
		{name: "for another certificate", staple: otherSerial, wantErr: tlsclient.ErrRevocationUnavailable, decision: tlsclient.Fail, detail: "none of the 1 responses"},
		{name: "must-staple, good", must: true, staple: status(testpki.StatusGood), decision: tlsclient.Pass},
		{name: "must-staple, none", must: true, wantErr: tlsclient.ErrMustStaple, decision: tlsclient.Fail, detail: "RFC 7633"},
		{name: "must-staple, none, SoftFail", must: true, opts: []Option{SoftFail()}, wantErr: tlsclient.ErrMustStaple, decision: tlsclient.Fail},
		{name: "must-staple, stale", must: true, staple: stale, opts: []Option{SoftFail()}, wantErr: tlsclient.ErrMustStaple, decision: tlsclient.Fail},
		{name: "must-staple, unknown", must: true, staple: status(testpki.StatusUnknown), wantErr: tlsclient.ErrMustStaple, decision: tlsclient.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := oNewPKI(t, oOptions{leaf: testpki.CertOptions{MustStaple: tt.must}})
			var staple []byte
			if tt.staple != nil {
				staple = tt.staple(p)
			}
			// Verify on a hand-built State: the built-in staple check of
			// a dial would decide some of these before Stapled runs.
			st := p.state(staple)
			err := Stapled(tt.opts...).Verify(context.Background(), st)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("got %v, want %v\n%s", err, tt.wantErr, oDump(st.Checks()))
			}
			checks := st.Checks()
			last := checks[len(checks)-1]
			if last.Outcome != tt.decision || last.Subject != "CN=oLeaf" {
				t.Errorf("decision %+v\n%s", last, oDump(checks))
			}
			if tt.detail != "" && !oContains(checks, tt.detail) {
				t.Errorf("want %q in\n%s", tt.detail, oDump(checks))
			}
			for _, c := range checks {
				if c.Subject != "CN=oLeaf" {
					t.Errorf("Stapled looked at %s", c.Subject)
				}
			}
			var re *RevokedError
			if errors.As(err, &re) {
				if re.Source != "staple" || re.URL != "" || re.Reason != tlsclient.ReasonSuperseded || !re.RevokedAt.Equal(oRevokedAt) ||
					re.Serial.Cmp(p.leaf.Cert.SerialNumber) != 0 {
					t.Errorf("RevokedError %+v", re)
				}
			}
			if hits, _ := p.resp.Hits(); hits != 0 {
				t.Error("Stapled made a request")
			}
		})
	}
}

// TestStapledDial: the same through a handshake, and the verdict cache: a
// repeated handshake with the same staple does not check its signature
// again.
func TestStapledDial(t *testing.T) {
	t.Parallel()
	p := oNewPKI(t, oOptions{})
	srv := p.serve(t, p.goodStaple(t))
	d, err := tlsclient.New(tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(Stapled()), tlsclient.WithSessionCache(nil))
	if err != nil {
		t.Fatal(err)
	}
	for i, wantCached := range []bool{false, true, true} {
		c, err := d.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		ch := oCheckFor(t, c.Report().Checks, "ocsp-staple", "oLeaf", "staple")
		if d := oDetails(t, ch); d.Cached != wantCached || d.Status != "good" || ch.Outcome != tlsclient.Pass {
			t.Errorf("dial %d: %+v", i, ch)
		}
	}
	if hits, _ := p.resp.Hits(); hits != 0 {
		t.Error("Stapled made a request")
	}
}

// TestNewStapleFirst: New() decides the leaf by its staple and fetches only
// what is still unknown.
func TestNewStapleFirst(t *testing.T) {
	t.Parallel()
	t.Run("staple for the leaf, fetch for the intermediate", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		rep, err := p.dial(t, p.serve(t, p.goodStaple(t)), New())
		if err != nil {
			t.Fatal(err)
		}
		if hits, _ := p.resp.Hits(); hits != 1 {
			t.Errorf("%d requests, want 1 (the intermediate)", hits)
		}
		if req := p.resp.LastRequest(); req.SerialNumber.Cmp(p.inter.Cert.SerialNumber) != 0 {
			t.Error("the leaf was fetched although stapled")
		}
		if c := oCheckFor(t, rep.Checks, "revocation", "oLeaf", "staple"); c.Outcome != tlsclient.Pass {
			t.Errorf("leaf %+v", c)
		}
		if c := oCheckFor(t, rep.Checks, "revocation", "oInter", "ocsp"); c.Outcome != tlsclient.Pass {
			t.Errorf("intermediate %+v", c)
		}
		if len(oChecks(rep.Checks, "revocation")) != 3 { // leaf: staple; intermediate: CRL skip, OCSP
			t.Errorf("checks:\n%s", oDump(rep.Checks))
		}
	})
	t.Run("no staple: both fetched", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		rep, err := p.dial(t, p.serve(t, nil), New())
		if err != nil {
			t.Fatal(err)
		}
		if hits, _ := p.resp.Hits(); hits != 2 {
			t.Errorf("%d requests, want 2", hits)
		}
		if c := oCheckFor(t, rep.Checks, "revocation", "oLeaf", "staple"); c.Outcome != tlsclient.Skip {
			t.Errorf("leaf %+v", c)
		}
	})
	t.Run("stale staple: the leaf is fetched", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		stale := testpki.Must((&testpki.OCSPResponse{Signer: p.inter, Responses: []testpki.Single{{Cert: p.leaf.Cert, Issuer: p.inter.Cert,
			ThisUpdate: testpki.Now.Add(-48 * time.Hour), NextUpdate: testpki.Now.Add(-24 * time.Hour)}}}).Marshal())
		rep, err := p.dial(t, p.serve(t, stale), New())
		if err != nil {
			t.Fatal(err)
		}
		if c := oCheckFor(t, rep.Checks, "revocation", "oLeaf", "staple"); c.Outcome != tlsclient.Skip || !strings.Contains(c.Error, "nextUpdate") {
			t.Errorf("staple %+v", c)
		}
		if c := oCheckFor(t, rep.Checks, "revocation", "oLeaf", "ocsp"); c.Outcome != tlsclient.Pass {
			t.Errorf("fetch %+v", c)
		}
	})
	t.Run("revoked staple wins", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		revoked := testpki.Must(p.inter.OCSPRevoked(p.leaf, oRevokedAt, 1))
		// A verifier on a State: the dial's built-in staple check would
		// refuse the revoked staple before New runs.
		err := New().Verify(context.Background(), p.state(revoked))
		var re *RevokedError
		if !errors.As(err, &re) || re.Source != "staple" {
			t.Fatalf("want revoked by staple, got %v", err)
		}
	})
	t.Run("must-staple without staple", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{leaf: testpki.CertOptions{MustStaple: true}})
		st := p.state(nil)
		err := New(SoftFail()).Verify(context.Background(), st)
		if !errors.Is(err, tlsclient.ErrMustStaple) {
			t.Fatalf("want must-staple, got %v", err)
		}
		for _, c := range st.Checks() {
			if c.Subject == "CN=oLeaf" && c.Source == "ocsp" {
				t.Errorf("a fetch cannot make up for a missing must-staple staple: %+v", c)
			}
		}
		// Through a dial, the built-in staple check refuses it first.
		if _, err := p.dial(t, p.serve(t, nil), New()); !errors.Is(err, tlsclient.ErrMustStaple) {
			t.Errorf("dial: %v", err)
		}
	})
}

// oClock is a clock tests can move.
type oClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *oClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *oClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// oGet sends a request and reads the answer, which also makes the client
// read the TLS 1.3 session ticket.
func oGet(t testing.TB, c *tlsclient.Conn) {
	t.Helper()
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(c); err != nil {
		t.Fatal(err)
	}
}

// TestStapleResumption: a resumed session replays the staple of the
// original handshake; its freshness is judged again at the time of the
// resumption.
func TestStapleResumption(t *testing.T) {
	t.Parallel()
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, tc := range []struct {
			name    string
			must    bool
			v       func() tlsclient.Verifier
			wantErr error
		}{
			{"Stapled", false, func() tlsclient.Verifier { return Stapled() }, tlsclient.ErrRevocationUnavailable},
			{"New", false, func() tlsclient.Verifier { return New(WithOrder(SourceStaple)) }, tlsclient.ErrRevocationUnavailable},
			{"must-staple", true, func() tlsclient.Verifier { return Stapled() }, tlsclient.ErrMustStaple},
		} {
			t.Run(tls.VersionName(version)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				p := oNewPKI(t, oOptions{leaf: testpki.CertOptions{MustStaple: tc.must}})
				shortLived := testpki.Must((&testpki.OCSPResponse{Signer: p.inter, Responses: []testpki.Single{{Cert: p.leaf.Cert, Issuer: p.inter.Cert,
					ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(time.Hour)}}}).Marshal())
				srv, err := testpki.StartServer(testpki.ServerOptions{Cert: p.leaf, Staple: shortLived, MaxVersion: version})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(srv.Close)
				clock := &oClock{t: testpki.Now}
				d, err := tlsclient.New(tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(clock.now), tlsclient.WithVerifiers(tc.v()))
				if err != nil {
					t.Fatal(err)
				}
				c, err := d.Dial("tcp", srv.Addr)
				if err != nil {
					t.Fatal(err)
				}
				oGet(t, c)
				c.Close()
				if c.Report().Resumed {
					t.Fatal("the first dial resumed")
				}

				// The server now staples a fresh response, but a resumed
				// session replays the old one; at +2h it is stale.
				srv.SetStaple(p.goodStaple(t))
				clock.set(testpki.Now.Add(2 * time.Hour))
				_, err = d.Dial("tcp", srv.Addr)
				ve := new(tlsclient.VerificationError)
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &ve) {
					t.Fatalf("resumed with a stale staple: %v", err)
				}
				if !ve.Report.Resumed {
					t.Fatalf("the second dial did not resume; the test proves nothing\n%s", ve.Report)
				}
				var rerr *ResponseError
				if !errors.As(err, &rerr) || rerr.Reason != ResponseExpired {
					t.Errorf("want the staple's expiry as the cause, got %v", err)
				}
				// (For a must-staple certificate the Dialer's built-in
				// check refuses the replayed staple before Stapled runs.)
				if !tc.must && !oContains(ve.Report.Checks, "replayed by the resumed session") {
					t.Errorf("the report should say the staple was replayed:\n%s", oDump(ve.Report.Checks))
				}
			})
		}
	}

	// Control: resuming within the staple's validity passes, and is
	// judged at the new time.
	t.Run("fresh", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		srv := p.serve(t, p.goodStaple(t))
		clock := &oClock{t: testpki.Now}
		d, err := tlsclient.New(tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(clock.now), tlsclient.WithVerifiers(Stapled()))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			clock.set(testpki.Now.Add(time.Duration(i) * time.Hour))
			c, err := d.Dial("tcp", srv.Addr)
			if err != nil {
				t.Fatal(err)
			}
			oGet(t, c)
			c.Close()
			if c.Report().Resumed != (i == 1) {
				t.Errorf("dial %d resumed=%v", i, c.Report().Resumed)
			}
			if ch := oCheckFor(t, c.Report().Checks, "ocsp-staple", "oLeaf", "staple"); ch.Outcome != tlsclient.Pass ||
				(i == 1 && !strings.Contains(ch.Detail, "replayed by the resumed session")) {
				t.Errorf("dial %d: %+v", i, ch)
			}
		}
	})
}

// TestStapleSourceIgnoresIntermediates: the staple is the leaf's; for
// other certificates the staple source is silent.
func TestStapleSourceIgnoresIntermediates(t *testing.T) {
	t.Parallel()
	p := oNewPKI(t, oOptions{urls: []string{}})
	st := p.state(p.goodStaple(t))
	if err := New(WithOrder(SourceStaple, SourceOCSP)).Verify(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Checks() {
		if c.Subject == "CN=oInter" && c.Source == "staple" {
			t.Errorf("staple check for the intermediate: %+v", c)
		}
	}
}
