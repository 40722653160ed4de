package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// engSource is a scripted source for testing the engine's policy.
type engSource struct {
	delay  time.Duration
	answer func(r *request) answer

	mu    sync.Mutex
	calls []string // subjects asked about
}

func (s *engSource) check(ctx context.Context, r *request) answer {
	s.mu.Lock()
	s.calls = append(s.calls, r.cert.Subject.CommonName)
	s.mu.Unlock()
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return answer{kind: noAnswer, detail: "canceled", err: ctx.Err()}
		}
	}
	return s.answer(r)
}

func (s *engSource) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func engConst(a answer) *engSource { return &engSource{answer: func(*request) answer { return a }} }

// engChain is leaf, two intermediates and a root.
func engChain(t *testing.T, leafOpts testpki.CertOptions) []*x509.Certificate {
	t.Helper()
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{}))
	i1 := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "inter-1"}))
	i2 := testpki.Must(i1.NewIntermediate(testpki.CertOptions{CommonName: "inter-2"}))
	if leafOpts.CommonName == "" {
		leafOpts.CommonName = "leaf"
	}
	leaf := testpki.Must(i2.Issue(leafOpts))
	return []*x509.Certificate{leaf.Cert, i2.Cert, i1.Cert, root.Cert}
}

func engChecker(t *testing.T, names []Source, srcs []source, opts ...Option) *checker {
	t.Helper()
	o, err := applyOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &checker{name: "test", opts: o, sources: srcs, srcName: names}
}

func engState(chain []*x509.Certificate) *tlsclient.State {
	st := &tlsclient.State{Now: testpki.Now}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{chain}
	return st
}

func engOutcomes(st *tlsclient.State) string {
	var parts []string
	for _, c := range st.Checks() {
		cn := c.Subject
		if i := strings.Index(cn, "CN="); i >= 0 {
			cn = cn[i+3:]
		}
		parts = append(parts, cn+"/"+c.Source+"="+c.Outcome.String())
	}
	return strings.Join(parts, " ")
}

func TestEngineFirstDefinitiveAnswerWins(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{})
	unsure := engConst(answer{kind: noAnswer, detail: "responder down", err: errors.New("connection refused")})
	sure := engConst(answer{kind: good, detail: "good"})
	never := engConst(answer{kind: revoked})
	c := engChecker(t, []Source{SourceStaple, SourceCRL, SourceOCSP}, []source{unsure, sure, never}, LeafOnly())
	st := engState(chain)
	if err := c.Verify(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if got := engOutcomes(st); got != "leaf/staple=skip leaf/crl=pass" {
		t.Errorf("checks: %s", got)
	}
	if len(never.asked()) != 0 {
		t.Error("a source after a definitive answer was consulted")
	}
	if ch := st.Checks()[0]; ch.Err == nil || !strings.Contains(ch.Detail, "no definitive answer") {
		t.Errorf("an undecided source is recorded with its reason: %+v", ch)
	}
}

func TestEngineRevoked(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{})
	at := testpki.Now.Add(-time.Hour)
	src := &engSource{answer: func(r *request) answer {
		if r.index == 1 { // inter-2 is revoked
			return answer{kind: revoked, revokedAt: at, reason: tlsclient.ReasonCACompromise, url: "http://crl.test/x.crl", detail: "revoked"}
		}
		return answer{kind: good, detail: "good"}
	}}
	c := engChecker(t, []Source{SourceCRL}, []source{src})
	st := engState(chain)
	err := c.Verify(context.Background(), st)
	var re *RevokedError
	if !errors.Is(err, tlsclient.ErrRevoked) || !errors.As(err, &re) {
		t.Fatalf("want a revocation, got %v", err)
	}
	if re.Subject != "CN=inter-2" || !re.RevokedAt.Equal(at) || re.Reason != tlsclient.ReasonCACompromise ||
		re.Source != "crl" || re.URL != "http://crl.test/x.crl" || re.Serial.Cmp(chain[1].SerialNumber) != 0 {
		t.Errorf("RevokedError %+v", re)
	}
	if got := len(src.asked()); got != 3 {
		t.Errorf("every non-root certificate is checked: %d asked", got)
	}
	for _, ch := range st.Checks() {
		if ch.Subject == "CN=testpki Root CA" {
			t.Error("the trust anchor was checked")
		}
	}
}

func TestEnginePolicies(t *testing.T) {
	t.Parallel()
	down := answer{kind: noAnswer, detail: "OCSP", err: &FetchError{Kind: FetchTimeout, URL: "http://ocsp.test"}}
	none := answer{kind: notApplicable, detail: "no OCSP responder in the certificate"}
	tests := []struct {
		name    string
		a       answer
		opts    []Option
		wantErr error
		outcome tlsclient.Outcome
	}{
		{"unavailable, hard-fail", down, nil, tlsclient.ErrRevocationUnavailable, tlsclient.Fail},
		{"unavailable, soft-fail", down, []Option{SoftFail()}, nil, tlsclient.Warning},
		{"not applicable", none, nil, nil, tlsclient.Skip},
		{"not applicable, RequireStatus", none, []Option{RequireStatus()}, tlsclient.ErrRevocationUnavailable, tlsclient.Fail},
		{"not applicable, RequireStatus and SoftFail", none, []Option{RequireStatus(), SoftFail()}, tlsclient.ErrRevocationUnavailable, tlsclient.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chain := engChain(t, testpki.CertOptions{})
			c := engChecker(t, []Source{SourceOCSP}, []source{engConst(tt.a)}, append(tt.opts, LeafOnly())...)
			st := engState(chain)
			err := c.Verify(context.Background(), st)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			checks := st.Checks()
			last := checks[len(checks)-1]
			if last.Outcome != tt.outcome || last.Subject != "CN=leaf" {
				t.Errorf("decision %+v", last)
			}
			if tt.wantErr != nil {
				var ue *UnavailableError
				if !errors.As(err, &ue) || ue.Subject != "CN=leaf" {
					t.Errorf("want *UnavailableError, got %v", err)
				}
			}
			if tt.a.err != nil && tt.wantErr != nil {
				var fe *FetchError
				if !errors.As(err, &fe) || fe.Kind != FetchTimeout {
					t.Errorf("the source's error must be reachable: %v", err)
				}
				if !strings.Contains(err.Error(), "SoftFail() continues") {
					t.Errorf("the error should say what to do: %v", err)
				}
			}
		})
	}
}

func TestEngineMustStapleOverrides(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{MustStaple: true})
	staple := engConst(answer{kind: noAnswer, mustStaple: true, detail: "must-staple certificate, no staple", err: errors.New("no staple")})
	ocsp := engConst(answer{kind: good, detail: "good"})
	c := engChecker(t, []Source{SourceStaple, SourceOCSP}, []source{staple, ocsp}, LeafOnly(), SoftFail())
	st := engState(chain)
	err := c.Verify(context.Background(), st)
	if !errors.Is(err, tlsclient.ErrMustStaple) {
		t.Fatalf("must-staple violation must abort even under SoftFail: %v", err)
	}
	if len(ocsp.asked()) != 0 {
		t.Error("no other source may make up for a missing must-staple staple")
	}
}

func TestEngineScope(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{})
	src := engConst(answer{kind: good, detail: "good"})
	c := engChecker(t, []Source{SourceCRL}, []source{src}, LeafOnly())
	if err := c.Verify(context.Background(), engState(chain)); err != nil {
		t.Fatal(err)
	}
	if got := src.asked(); len(got) != 1 || got[0] != "leaf" {
		t.Errorf("LeafOnly asked about %v", got)
	}

	// A chain of one certificate (the trust anchor itself) has nothing to check.
	st := engState(chain[3:])
	if err := engChecker(t, []Source{SourceCRL}, []source{src}).Verify(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if got := engOutcomes(st); got != "testpki Root CA/=skip" {
		t.Errorf("anchor-only chain: %s", got)
	}

	// No chain at all: refuse, and say what the State lacks.
	st = &tlsclient.State{Now: testpki.Now}
	err := engChecker(t, []Source{SourceCRL}, []source{src}).Verify(context.Background(), st)
	if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !strings.Contains(err.Error(), "VerifiedChains") {
		t.Errorf("no chain: %v", err)
	}

	// A source with nothing to say about a certificate and no detail is
	// not recorded (the staple, for intermediates).
	silent := &engSource{answer: func(r *request) answer {
		if r.index > 0 {
			return answer{kind: notApplicable}
		}
		return answer{kind: good, detail: "good"}
	}}
	crl := engConst(answer{kind: good, detail: "good"})
	st = engState(chain)
	if err := engChecker(t, []Source{SourceStaple, SourceCRL}, []source{silent, crl}).Verify(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if got := len(st.Checks()); got != 3 {
		t.Errorf("want one check per certificate, got %s", engOutcomes(st))
	}
}

func TestEngineShortLived(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{NotBefore: testpki.Now.Add(-time.Hour), NotAfter: testpki.Now.Add(6 * 24 * time.Hour)})
	src := engConst(answer{kind: noAnswer, detail: "down", err: errors.New("down")})
	c := engChecker(t, []Source{SourceOCSP}, []source{src}, LeafOnly(), ExemptShortLived(0))
	st := engState(chain)
	if err := c.Verify(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if len(src.asked()) != 0 || !strings.Contains(st.Checks()[0].Detail, "short-lived") {
		t.Errorf("short-lived exemption: %+v", st.Checks())
	}
	// Without the option the same certificate is checked (and fails closed).
	c = engChecker(t, []Source{SourceOCSP}, []source{src}, LeafOnly())
	if err := c.Verify(context.Background(), engState(chain)); !errors.Is(err, tlsclient.ErrRevocationUnavailable) {
		t.Errorf("without the exemption: %v", err)
	}
}

// TestEngineParallel: the certificates of a chain are checked at the same
// time, so a cold chain costs one round trip, not one per certificate.
func TestEngineParallel(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{})
	synctest.Test(t, func(t *testing.T) {
		src := &engSource{delay: time.Second, answer: func(*request) answer { return answer{kind: good, detail: "good"} }}
		c := engChecker(t, []Source{SourceOCSP}, []source{src})
		start := time.Now()
		if err := c.Verify(context.Background(), engState(chain)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("three certificates took %v, want one delay (1s)", d)
		}
	})
}

func TestEngineMisconfigured(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{})
	tests := []struct {
		v    tlsclient.Verifier
		want string
	}{
		{OCSP(WithOrder(SourceCRL)), "WithOrder applies to New"},
		{New(WithOrder(SourceOCSP, SourceOCSP)), "given twice"},
		{New(WithOrder("ldap")), "unknown source"},
		{CRL(WithFetchTimeout(-time.Second)), "WithFetchTimeout"},
		{New(nil), "nil Option"},
		{CRL(WithCRLs(nil)), "CRL 0 is empty"},
		{OCSP(WithHTTPClient(nil)), "nil client"},
		{New(ExemptShortLived(-1)), "negative lifetime"},
	}
	for _, tt := range tests {
		st := engState(chain)
		err := tt.v.Verify(context.Background(), st)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("want an error containing %q, got %v", tt.want, err)
			continue
		}
		if cs := st.Checks(); len(cs) != 1 || cs[0].Outcome != tlsclient.Fail {
			t.Errorf("a misconfigured verifier records its failure: %+v", cs)
		}
	}
}

func TestMemoryCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemoryCache(10)
	m.Put(ctx, "a", []byte("12345"), time.Hour)
	m.Put(ctx, "b", []byte("67890"), time.Hour)
	if v, ok := m.Get(ctx, "a"); !ok || string(v) != "12345" {
		t.Fatal("a missing")
	}
	m.Put(ctx, "c", []byte("xyz"), time.Hour) // over budget: evicts b, the least recently used
	if _, ok := m.Get(ctx, "b"); ok {
		t.Error("b should have been evicted")
	}
	if _, ok := m.Get(ctx, "a"); !ok {
		t.Error("a was used recently and should stay")
	}
	m.Put(ctx, "big", make([]byte, 11), time.Hour)
	if _, ok := m.Get(ctx, "big"); ok {
		t.Error("a value over the whole budget must not be kept")
	}
	synctest.Test(t, func(t *testing.T) {
		m := NewMemoryCache(0)
		m.Put(ctx, "k", []byte("v"), time.Minute)
		time.Sleep(59 * time.Second)
		if _, ok := m.Get(ctx, "k"); !ok {
			t.Error("expired early")
		}
		time.Sleep(2 * time.Second)
		if _, ok := m.Get(ctx, "k"); ok || m.Len() != 0 {
			t.Error("not expired after its ttl")
		}
	})
}

// TestEngineSoftFailBeforeDeadline: under SoftFail, network sources give up
// before the dial's deadline, so the warning is recorded while there is
// still time to finish the handshake.
func TestEngineSoftFailBeforeDeadline(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{})
	synctest.Test(t, func(t *testing.T) {
		hang := &engSource{delay: time.Hour, answer: func(*request) answer { return answer{kind: good, detail: "late"} }}
		c := engChecker(t, []Source{SourceOCSP}, []source{hang}, LeafOnly(), SoftFail())
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st := engState(chain)
		start := time.Now()
		if err := c.Verify(ctx, st); err != nil {
			t.Fatalf("SoftFail: %v", err)
		}
		if d := time.Since(start); d != time.Second-deadlineMargin(time.Second) {
			t.Errorf("gave up after %v", d)
		}
		if ctx.Err() != nil {
			t.Error("the dial's own deadline must not have passed yet")
		}
		if cs := st.Checks(); cs[len(cs)-1].Outcome != tlsclient.Warning {
			t.Errorf("checks: %s", engOutcomes(st))
		}
	})
}

// TestEnginePanicInParallelCheck: a panicking source on one of the
// goroutines that check a chain fails that certificate closed.
func TestEnginePanicInParallelCheck(t *testing.T) {
	t.Parallel()
	chain := engChain(t, testpki.CertOptions{})
	boom := &engSource{answer: func(r *request) answer {
		if r.offline {
			return answer{kind: needsNetwork}
		}
		if r.index == 1 {
			panic("source bug")
		}
		return answer{kind: good, detail: "good"}
	}}
	c := engChecker(t, []Source{SourceOCSP}, []source{engOfflineSource{boom}})
	err := c.Verify(context.Background(), engState(chain))
	if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("want a fail-closed error naming the panic, got %v", err)
	}
}

// engOfflineSource marks a scripted source as able to answer offline.
type engOfflineSource struct{ *engSource }

func (engOfflineSource) answersOffline() {}
