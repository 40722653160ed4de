package adversarial_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// The time budgets of the suite. Fetches get fetchTimeout; a dial gets
// dialTimeout; a case must end within budget, which is generous because
// the race detector and a busy CI machine slow everything down. What the
// budget proves is that nothing waits for a peer that never answers.
const (
	fetchTimeout = 250 * time.Millisecond
	dialTimeout  = 2 * time.Second
	budget       = 5 * time.Second
)

// leakCheck makes the test fail if it leaves goroutines behind. It records
// the number running now and, when the test ends — after the cleanups
// registered later, which close the servers and stop the processes the
// test started — waits for the number to come back down: connections
// wind down asynchronously (an idle keep-alive connection's goroutines
// exit when the server closes it), so it retries for a while before it
// gives up and prints every stack.
//
// The count is process-wide: call leakCheck only from tests that do not
// run in parallel with others (no t.Parallel at the top level), first
// thing. Subtests of such a test may call it too.
func leakCheck(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= base {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutine leak: %d goroutines running, %d before the test\n%s", n, base, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// pki is a root and an intermediate; leaves are minted per case.
type pki struct {
	root, inter *testpki.Cert
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Adversarial Root"}))
	inter := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "Adversarial Intermediate"}))
	return &pki{root: root, inter: inter}
}

// leaf mints a leaf for localhost and 127.0.0.1 under the intermediate.
func (p *pki) leaf(t testing.TB, o testpki.CertOptions) *testpki.Cert {
	t.Helper()
	if o.CommonName == "" {
		o.CommonName = "adversarial.test"
	}
	return testpki.Must(p.inter.Issue(o))
}

// serve starts a TLS server for o, closed when the test ends.
func serve(t testing.TB, o testpki.ServerOptions) string {
	t.Helper()
	srv, err := testpki.StartServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv.Addr
}

// result is what a dial produced.
type result struct {
	err     error
	report  *tlsclient.Report // from the Conn, or the VerificationError
	elapsed time.Duration
}

// dial connects to addr trusting roots, at testpki.Now, with the suite's
// dial timeout and no session cache, plus opts. The connection, if any, is
// closed at once.
func dial(t testing.TB, addr string, roots *x509.CertPool, opts ...tlsclient.Option) result {
	t.Helper()
	base := []tlsclient.Option{tlsclient.WithRootCAs(roots), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithTimeout(dialTimeout), tlsclient.WithSessionCache(nil)}
	start := time.Now()
	conn, err := tlsclient.DialContext(context.Background(), "tcp", addr, append(base, opts...)...)
	r := result{err: err, elapsed: time.Since(start)}
	if r.elapsed > budget {
		t.Errorf("the dial took %v, over the budget of %v", r.elapsed, budget)
	}
	if err == nil {
		r.report = conn.Report()
		conn.Close()
		return r
	}
	if strings.Contains(err.Error(), "panicked") {
		t.Errorf("a verifier panicked: %v", err)
	}
	var ve *tlsclient.VerificationError
	if errors.As(err, &ve) {
		r.report = ve.Report
	}
	return r
}

// refused checks that the dial was refused by a check, with a
// *VerificationError whose Report shows the failure.
func (r result) refused(t testing.TB) *tlsclient.VerificationError {
	t.Helper()
	var ve *tlsclient.VerificationError
	if !errors.As(r.err, &ve) {
		t.Fatalf("want a *tlsclient.VerificationError, got %T: %v", r.err, r.err)
	}
	if ve.Report == nil || ve.Report.OK() {
		t.Fatalf("the report does not show the failure: %v", ve.Report)
	}
	return ve
}

// warned checks that the dial passed with a warning from verifier whose
// error satisfies ok.
func (r result) warned(t testing.TB, verifier string, ok func(error) bool) tlsclient.Check {
	t.Helper()
	if r.err != nil {
		t.Fatalf("want a pass with a warning, got %v", r.err)
	}
	for _, c := range r.report.Find(tlsclient.Warning) {
		if c.Verifier == verifier && c.Err != nil && ok(c.Err) {
			return c
		}
	}
	t.Fatalf("no matching warning from %q in\n%s", verifier, r.report)
	return tlsclient.Check{}
}

// is returns a test for errors.Is(err, target).
func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// as returns a test that errors.As(err, &T) finds a T satisfying ok.
func as[T error](ok func(T) bool) func(error) bool {
	return func(err error) bool {
		var x T
		return errors.As(err, &x) && ok(x)
	}
}

// endpoint is an HTTP server whose handler a test sets after minting the
// certificates that point at it (their URLs need its address first).
type endpoint struct {
	*httptest.Server
	handler atomic.Pointer[http.Handler]
	hits    atomic.Int64
}

func newEndpoint(t testing.TB) *endpoint {
	t.Helper()
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		if h := e.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) set(h http.Handler) { e.handler.Store(&h) }

// startRaw accepts TCP connections on 127.0.0.1 and hands each to handle,
// for servers that misbehave below TLS; the connection is closed when
// handle returns. When the test ends it closes the listener and the
// connections and waits for the handlers, which must return once their
// connection is closed.
func startRaw(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := make(chan net.Conn, 64)
	handlers := make(chan struct{}, 64)
	accepted := 0
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted++
			open <- c
			go func() {
				defer func() { handlers <- struct{}{} }()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-stopped
		for range accepted {
			(<-open).Close()
		}
		for range accepted {
			<-handlers
		}
	})
	return ln.Addr().String()
}

// readHello reads what the client sends first (its ClientHello), so that
// a hostile server answers at the right moment.
func readHello(c net.Conn) {
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(budget))
	c.Read(buf)
	c.SetReadDeadline(time.Time{})
}

// holdOpen keeps the connection open, reading and discarding, until the
// client or the server's cleanup closes it.
func holdOpen(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
