package tlsclient_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

func TestDefaultStapleCheck(t *testing.T) {
	t.Parallel()
	type pkis struct{ plain, must *pki }
	build := func(t *testing.T) pkis {
		return pkis{plain: newPKI(t, testpki.CertOptions{}), must: newPKI(t, testpki.CertOptions{MustStaple: true})}
	}
	resp := func(t *testing.T, p *pki, r testpki.OCSPResponse) []byte {
		t.Helper()
		if r.Signer == nil {
			r.Signer = p.inter
		}
		for i := range r.Responses {
			if r.Responses[i].Cert == nil {
				r.Responses[i].Cert = p.leaf.Cert
			}
			r.Responses[i].Issuer = p.inter.Cert
			if r.Responses[i].NextUpdate.IsZero() {
				r.Responses[i].NextUpdate = testpki.Now.Add(24 * time.Hour)
			}
		}
		return testpki.Must(r.Marshal())
	}
	good := func(t *testing.T, p *pki) []byte {
		return resp(t, p, testpki.OCSPResponse{Responses: []testpki.Single{{Status: testpki.StatusGood}}})
	}
	tests := []struct {
		name    string
		must    bool
		staple  func(t *testing.T, p pkis, leaf *pki) []byte
		outcome tlsclient.Outcome
		wantErr error  // nil: the dial succeeds
		detail  string // in the check's Detail or Error
	}{
		{name: "no staple", outcome: tlsclient.Skip, detail: "no stapled OCSP response"},
		{name: "good staple", outcome: tlsclient.Pass, detail: "good",
			staple: func(t *testing.T, _ pkis, l *pki) []byte { return good(t, l) }},
		{name: "revoked staple", outcome: tlsclient.Fail, wantErr: tlsclient.ErrRevoked, detail: "revoked",
			staple: func(t *testing.T, _ pkis, l *pki) []byte {
				return resp(t, l, testpki.OCSPResponse{Responses: []testpki.Single{{Status: testpki.StatusRevoked, RevokedAt: testpki.Now.Add(-48 * time.Hour), Reason: 1}}})
			}},
		{name: "unknown staple", outcome: tlsclient.Warning, detail: "status unknown",
			staple: func(t *testing.T, _ pkis, l *pki) []byte {
				return resp(t, l, testpki.OCSPResponse{Responses: []testpki.Single{{Status: testpki.StatusUnknown}}})
			}},
		{name: "stale staple", outcome: tlsclient.Warning, detail: "nextUpdate",
			staple: func(t *testing.T, _ pkis, l *pki) []byte {
				return resp(t, l, testpki.OCSPResponse{Responses: []testpki.Single{{Status: testpki.StatusGood, ThisUpdate: testpki.Now.Add(-72 * time.Hour), NextUpdate: testpki.Now.Add(-time.Hour)}}})
			}},
		{name: "staple older than the 10-day lifetime", outcome: tlsclient.Warning, detail: "more than 240h0m0s ago",
			staple: func(t *testing.T, _ pkis, l *pki) []byte {
				return resp(t, l, testpki.OCSPResponse{Responses: []testpki.Single{{Status: testpki.StatusGood, ThisUpdate: testpki.Now.Add(-11 * 24 * time.Hour), NextUpdate: testpki.Now.Add(24 * time.Hour)}}})
			}},
		{name: "staple for another certificate", outcome: tlsclient.Warning, detail: "no matching response",
			staple: func(t *testing.T, p pkis, l *pki) []byte {
				other := testpki.Must(l.inter.Issue(testpki.CertOptions{}))
				return resp(t, l, testpki.OCSPResponse{Responses: []testpki.Single{{Cert: other.Cert, Status: testpki.StatusRevoked}}})
			}},
		{name: "staple signed by an unrelated key", outcome: tlsclient.Warning, detail: "bad signature",
			staple: func(t *testing.T, p pkis, l *pki) []byte {
				// The ResponderID names the issuer, the key is someone else's.
				impostor := &testpki.Cert{Cert: l.inter.Cert, Key: testpki.Must(testpki.FreshKey(testpki.ECDSAP256))}
				return resp(t, l, testpki.OCSPResponse{Signer: impostor, Responses: []testpki.Single{{Status: testpki.StatusRevoked}}})
			}},
		{name: "garbage staple", outcome: tlsclient.Warning, detail: "malformed",
			staple: func(*testing.T, pkis, *pki) []byte { return []byte("<html>not ocsp</html>") }},
		{name: "must-staple, no staple", must: true, outcome: tlsclient.Fail, wantErr: tlsclient.ErrMustStaple, detail: "must enable OCSP stapling"},
		{name: "must-staple, good staple", must: true, outcome: tlsclient.Pass, detail: "good",
			staple: func(t *testing.T, _ pkis, l *pki) []byte { return good(t, l) }},
		{name: "must-staple, stale staple", must: true, outcome: tlsclient.Fail, wantErr: tlsclient.ErrMustStaple, detail: "nextUpdate",
			staple: func(t *testing.T, _ pkis, l *pki) []byte {
				return resp(t, l, testpki.OCSPResponse{Responses: []testpki.Single{{Status: testpki.StatusGood, ThisUpdate: testpki.Now.Add(-72 * time.Hour), NextUpdate: testpki.Now.Add(-time.Hour)}}})
			}},
		{name: "must-staple, unknown staple", must: true, outcome: tlsclient.Fail, wantErr: tlsclient.ErrMustStaple, detail: "unknown",
			staple: func(t *testing.T, _ pkis, l *pki) []byte {
				return resp(t, l, testpki.OCSPResponse{Responses: []testpki.Single{{Status: testpki.StatusUnknown}}})
			}},
		{name: "must-staple, revoked staple", must: true, outcome: tlsclient.Fail, wantErr: tlsclient.ErrRevoked, detail: "revoked",
			staple: func(t *testing.T, _ pkis, l *pki) []byte {
				return resp(t, l, testpki.OCSPResponse{Responses: []testpki.Single{{Status: testpki.StatusRevoked}}})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := build(t)
			l := p.plain
			if tt.must {
				l = p.must
			}
			var staple []byte
			if tt.staple != nil {
				staple = tt.staple(t, p, l)
			}
			s := serve(t, testpki.ServerOptions{Cert: l.leaf, Staple: staple})
			c, err := tlsclient.Dial("tcp", localhost(s.Addr), l.opts()...)
			var r *tlsclient.Report
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c.Close()
				r = c.Report()
			} else {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("want %v, got %v", tt.wantErr, err)
				}
				r = verificationError(t, err).Report
			}
			got := mustOneCheck(t, r, "staple")
			if got.Outcome != tt.outcome {
				t.Errorf("outcome %v, want %v: %+v", got.Outcome, tt.outcome, got)
			}
			if !strings.Contains(got.Detail+" "+got.Error, tt.detail) {
				t.Errorf("check %q / %q does not mention %q", got.Detail, got.Error, tt.detail)
			}
			if got.Subject != "CN=localhost" || got.Source != "staple" {
				t.Errorf("subject %q source %q", got.Subject, got.Source)
			}
		})
	}
}

func TestRevokedStapleError(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	at := testpki.Now.Add(-48 * time.Hour).Truncate(time.Second)
	staple := testpki.Must(p.inter.OCSPRevoked(p.leaf, at, 1))
	s := serve(t, testpki.ServerOptions{Cert: p.leaf, Staple: staple})
	_, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts()...)
	var re *tlsclient.RevokedError
	if !errors.As(err, &re) {
		t.Fatalf("want *RevokedError, got %v", err)
	}
	if re.Serial.Cmp(p.leaf.Cert.SerialNumber) != 0 || !re.RevokedAt.Equal(at) || re.Reason != tlsclient.ReasonKeyCompromise ||
		re.Source != "staple" || re.Subject != "CN=localhost" {
		t.Errorf("RevokedError: %+v", re)
	}
	for _, want := range []string{"keyCompromise", "staple", "revoked at"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestResumedStapleRechecked: on resumption crypto/tls replays the staple of
// the original handshake; the check must judge it at the current time.
func TestResumedStapleRechecked(t *testing.T) {
	t.Parallel()
	for _, must := range []bool{false, true} {
		name := "plain"
		if must {
			name = "must-staple"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := newPKI(t, testpki.CertOptions{MustStaple: must})
			staple := testpki.Must((&testpki.OCSPResponse{Signer: p.inter, Responses: []testpki.Single{{
				Cert: p.leaf.Cert, Issuer: p.inter.Cert, Status: testpki.StatusGood,
				ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(12 * time.Hour),
			}}}).Marshal())
			s := serve(t, testpki.ServerOptions{Cert: p.leaf, Staple: staple})
			clock := newClock(testpki.Now)
			d, err := tlsclient.New(tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.Dial("tcp", localhost(s.Addr))
			if err != nil {
				t.Fatal(err)
			}
			get(t, c)
			c.Close()
			if got := mustOneCheck(t, c.Report(), "staple"); got.Outcome != tlsclient.Pass {
				t.Fatalf("first dial: %+v", got)
			}
			// A day later the server no longer staples; the resumed
			// session still carries the old, now stale, response.
			s.SetStaple(nil)
			clock.Set(testpki.Now.Add(24 * time.Hour))
			c, err = d.Dial("tcp", localhost(s.Addr))
			var r *tlsclient.Report
			if must {
				if !errors.Is(err, tlsclient.ErrMustStaple) {
					t.Fatalf("resumed must-staple with a stale staple: %v", err)
				}
				r = verificationError(t, err).Report
			} else {
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				r = c.Report()
			}
			if !r.Resumed {
				t.Fatal("second dial did not resume")
			}
			got := mustOneCheck(t, r, "staple")
			if !strings.Contains(got.Error, "nextUpdate") {
				t.Errorf("the replayed staple must be judged stale: %+v", got)
			}
		})
	}
}

// TestStapleVerdictCached: a repeated handshake with the same staple does not
// validate the response again.
func TestStapleVerdictCached(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf, Staple: testpki.Must(p.inter.OCSPGood(p.leaf))})
	d, err := tlsclient.New(append(p.opts(), tlsclient.WithSessionCache(nil))...)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true} {
		c, err := d.Dial("tcp", localhost(s.Addr))
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		data, ok := mustOneCheck(t, c.Report(), "staple").Data.(tlsclient.StapleDetails)
		if !ok || data.Cached != want || data.Status != "good" {
			t.Errorf("dial %d: details %+v", i, data)
		}
	}
}
