package tlsclient_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// pki is a root, an intermediate and a leaf for "localhost" and 127.0.0.1.
type pki struct {
	root, inter, leaf *testpki.Cert
}

func newPKI(t testing.TB, leafOpts testpki.CertOptions) *pki {
	t.Helper()
	root, err := testpki.NewRoot(testpki.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate(testpki.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.Issue(leafOpts)
	if err != nil {
		t.Fatal(err)
	}
	return &pki{root: root, inter: inter, leaf: leaf}
}

// serve starts a TLS server and stops it when the test ends.
func serve(t testing.TB, opts testpki.ServerOptions) *testpki.Server {
	t.Helper()
	s, err := testpki.StartServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// baseOpts trusts p's root and judges at testpki.Now.
func (p *pki) opts(extra ...tlsclient.Option) []tlsclient.Option {
	return append([]tlsclient.Option{tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(testpki.Clock())}, extra...)
}

// localhost rewrites 127.0.0.1:port to localhost:port.
func localhost(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort("localhost", port)
}

// recorder counts calls and keeps the States it saw.
type recorder struct {
	name string
	err  error
	mu   sync.Mutex
	seen []*tlsclient.State
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Verify(_ context.Context, st *tlsclient.State) error {
	r.mu.Lock()
	r.seen = append(r.seen, st)
	r.mu.Unlock()
	if r.err != nil {
		st.Record(tlsclient.Check{Outcome: tlsclient.Fail, Detail: "refused", Err: r.err})
		return r.err
	}
	st.Record(tlsclient.Check{Outcome: tlsclient.Pass, Detail: "ok"})
	return nil
}

func (r *recorder) calls() []*tlsclient.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tlsclient.State(nil), r.seen...)
}

// checkOf returns the checks of the report made by verifier name.
func checksOf(r *tlsclient.Report, name string) []tlsclient.Check {
	var out []tlsclient.Check
	for _, c := range r.Checks {
		if c.Verifier == name {
			out = append(out, c)
		}
	}
	return out
}

// mustOneCheck returns the single check of verifier name, failing otherwise.
func mustOneCheck(t testing.TB, r *tlsclient.Report, name string) tlsclient.Check {
	t.Helper()
	cs := checksOf(r, name)
	if len(cs) != 1 {
		t.Fatalf("want 1 %q check, got %d in %+v", name, len(cs), r.Checks)
	}
	return cs[0]
}

// verificationError unwraps err into a *VerificationError or fails.
func verificationError(t testing.TB, err error) *tlsclient.VerificationError {
	t.Helper()
	var ve *tlsclient.VerificationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *VerificationError, got %T: %v", err, err)
	}
	if ve.Report == nil {
		t.Fatal("VerificationError without Report")
	}
	return ve
}

// fixedClock is a clock tests can move.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fixedClock { return &fixedClock{t: t} }
func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *fixedClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
