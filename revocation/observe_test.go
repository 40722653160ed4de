package revocation_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
	"golang.org/x/crypto/ocsp"
)

// evLog records the events of an Observer, except decisions and handshakes
// (the root package tests those).
type evLog struct {
	mu  sync.Mutex
	evs []tlsclient.Event
}

func (l *evLog) observe(_ context.Context, ev tlsclient.Event) {
	if ev.Kind == tlsclient.EventDecision || ev.Kind == tlsclient.EventHandshake {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, ev)
}

// take returns the events so far and forgets them.
func (l *evLog) take() []tlsclient.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.evs
	l.evs = nil
	return evs
}

func kindsOf(evs []tlsclient.Event) string {
	var s []string
	for _, ev := range evs {
		s = append(s, ev.Kind.String())
	}
	return strings.Join(s, " ")
}

// observePKI mints a root, an intermediate and a leaf for www.example.test
// with the given revocation pointers, and serves the leaf.
func observePKI(t *testing.T, opts testpki.CertOptions) (root, inter, leaf *testpki.Cert, addr string) {
	t.Helper()
	root = testpki.Must(testpki.NewRoot(testpki.CertOptions{}))
	inter = testpki.Must(root.NewIntermediate(testpki.CertOptions{}))
	opts.DNSNames = []string{"www.example.test"}
	leaf = testpki.Must(inter.Issue(opts))
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	t.Cleanup(srv.Close)
	return root, inter, leaf, srv.Addr
}

func observedDialer(t *testing.T, root *testpki.Cert, l *evLog, v tlsclient.Verifier) *tlsclient.Dialer {
	t.Helper()
	d, err := tlsclient.New(tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithServerName("www.example.test"), tlsclient.WithObserver(l.observe), tlsclient.WithVerifiers(v))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestObserveOCSP(t *testing.T) {
	t.Parallel()
	responder := testpki.NewOCSPResponder(nil)
	t.Cleanup(responder.Close)
	root, inter, leaf, addr := observePKI(t, testpki.CertOptions{OCSPServers: []string{responder.URL}})
	responder.SetAnswer(func(*ocsp.Request, []byte) []byte { return testpki.Must(inter.OCSPGood(leaf)) })
	var l evLog
	d := observedDialer(t, root, &l, revocation.OCSP())

	if c, err := d.Dial("tcp", addr); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
	evs := l.take()
	if got := kindsOf(evs); got != "cache_miss fetch_start fetch_done" {
		t.Fatalf("first dial: %s (%+v)", got, evs)
	}
	for _, ev := range evs {
		if ev.Verifier != "ocsp" || ev.Source != "ocsp" || ev.URL != responder.URL || ev.Subject != "CN=www.example.test" || ev.ServerName != "www.example.test" {
			t.Errorf("event %s: %+v", ev.Kind, ev)
		}
	}
	if done := evs[2]; done.Status != http.StatusOK || done.Bytes == 0 || done.Duration <= 0 || done.Err != nil || done.Detail != http.MethodGet {
		t.Errorf("fetch_done = %+v", done)
	}

	if c, err := d.Dial("tcp", addr); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
	if got := kindsOf(l.take()); got != "cache_hit" {
		t.Errorf("second dial: %s", got)
	}
}

func TestObserveCRL(t *testing.T) {
	t.Parallel()
	files := testpki.NewFileServer()
	t.Cleanup(files.Close)
	url := files.URLFor("/ca.crl")
	root, inter, _, addr := observePKI(t, testpki.CertOptions{CRLDistributionPoints: []string{url}})
	files.Set("/ca.crl", testpki.Must(inter.BuildCRL(testpki.CRLTemplate{})), testpki.Now.Add(-time.Hour))
	var l evLog
	d := observedDialer(t, root, &l, revocation.CRL())
	for i, want := range []string{"cache_miss fetch_start fetch_done", "cache_hit"} {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		evs := l.take()
		if got := kindsOf(evs); got != want {
			t.Fatalf("dial %d: %s, want %s", i+1, got, want)
		}
		for _, ev := range evs {
			if ev.Verifier != "crl" || ev.Source != "crl" || ev.URL != url {
				t.Errorf("dial %d: event %+v", i+1, ev)
			}
		}
		if i == 0 && (evs[2].Status != 200 || evs[2].Bytes == 0) {
			t.Errorf("fetch_done = %+v", evs[2])
		}
		if i == 1 && !strings.Contains(evs[0].Detail, "in memory") {
			t.Errorf("cache_hit detail = %q", evs[0].Detail)
		}
	}
}

// TestObserveFetchFailures: the HTTP status when there is one, the error
// always.
func TestObserveFetchFailures(t *testing.T) {
	t.Parallel()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(broken.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/ocsp"
	ln.Close()
	for _, tt := range []struct {
		name   string
		url    string
		status int
	}{
		{"HTTP 503", broken.URL, http.StatusServiceUnavailable},
		{"connection refused", closed, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, _, _, addr := observePKI(t, testpki.CertOptions{OCSPServers: []string{tt.url}})
			var l evLog
			d := observedDialer(t, root, &l, revocation.OCSP(revocation.SoftFail()))
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			evs := l.take()
			if got := kindsOf(evs); got != "cache_miss fetch_start fetch_done" {
				t.Fatalf("events: %s", got)
			}
			if done := evs[2]; done.Status != tt.status || done.Err == nil || done.Bytes != 0 {
				t.Errorf("fetch_done = %+v", done)
			}
		})
	}
}

// TestObserveSharedCache: two Dialers (two processes of a fleet) share a
// Cache; the second finds the first one's response.
func TestObserveSharedCache(t *testing.T) {
	t.Parallel()
	responder := testpki.NewOCSPResponder(nil)
	t.Cleanup(responder.Close)
	root, inter, leaf, addr := observePKI(t, testpki.CertOptions{OCSPServers: []string{responder.URL}})
	responder.SetAnswer(func(*ocsp.Request, []byte) []byte { return testpki.Must(inter.OCSPGood(leaf)) })
	shared := revocation.NewMemoryCache(0)
	for i, want := range []string{"cache_miss fetch_start fetch_done", "cache_hit"} {
		var l evLog
		d := observedDialer(t, root, &l, revocation.OCSP(revocation.WithCache(shared)))
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if got := kindsOf(l.take()); got != want {
			t.Errorf("dialer %d: %s, want %s", i+1, got, want)
		}
	}
	if total, _ := responder.Hits(); total != 1 {
		t.Errorf("responder asked %d times, want 1", total)
	}
}
