package tlsclient_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// httpsServer starts an httptest TLS server with p's leaf that answers with
// the protocol the request came over. h2 enables HTTP/2 (and HTTP/1.1).
func httpsServer(t testing.TB, p *pki, h2 bool) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.Proto, r.URL.Path)
	}))
	s.EnableHTTP2 = h2
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	s.TLS = &tls.Config{Certificates: []tls.Certificate{p.leaf.TLSCertificate()}}
	if h2 {
		s.TLS.NextProtos = []string{"h2", "http/1.1"}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func httpGet(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHTTPClient(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	for _, tt := range []struct {
		name  string
		h2    bool
		extra []tlsclient.Option
		proto string
		alpn  string
	}{
		{name: "HTTP/1.1 server", proto: "HTTP/1.1", alpn: "http/1.1"},
		{name: "HTTP/2 server", h2: true, proto: "HTTP/2.0", alpn: "h2"},
		{name: "HTTP/2 server, WithNextProtos http/1.1", h2: true, extra: []tlsclient.Option{tlsclient.WithNextProtos("http/1.1")}, proto: "HTTP/1.1", alpn: "http/1.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httpsServer(t, p, tt.h2)
			var hooked atomic.Int64
			d, err := tlsclient.New(p.opts(append(tt.extra, tlsclient.WithReportHook(func(*tlsclient.Report) { hooked.Add(1) }))...)...)
			if err != nil {
				t.Fatal(err)
			}
			c := d.HTTPClient()
			defer c.CloseIdleConnections()
			var first *tlsclient.Report
			for i := range 3 {
				resp, body := httpGet(t, c, srv.URL+"/x")
				if resp.Proto != tt.proto || body != tt.proto+" /x" {
					t.Fatalf("request %d: proto %s, body %q; want %s", i, resp.Proto, body, tt.proto)
				}
				rep := tlsclient.ResponseReport(resp)
				if rep == nil {
					t.Fatalf("request %d: no Report", i)
				}
				if !rep.OK() || rep.ALPN != tt.alpn || rep.Version != "TLS 1.3" {
					t.Errorf("request %d: report OK %v, ALPN %q, version %q", i, rep.OK(), rep.ALPN, rep.Version)
				}
				if resp.TLS == nil || resp.TLS.NegotiatedProtocol != tt.alpn {
					t.Errorf("request %d: resp.TLS = %+v", i, resp.TLS)
				}
				if i == 0 {
					first = rep
				} else if rep != first {
					t.Errorf("request %d: another Report, but the connection should have been reused", i)
				}
			}
			if n := hooked.Load(); n != 1 {
				t.Errorf("report hook called %d times, want 1 (one connection)", n)
			}
		})
	}
}

func TestHTTPClientConcurrentHTTP2(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := httpsServer(t, p, true)
	d, err := tlsclient.New(p.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	c := d.HTTPClient()
	defer c.CloseIdleConnections()
	httpGet(t, c, srv.URL) // one connection, then streams on it
	var wg sync.WaitGroup
	reports := make([]*tlsclient.Report, 8)
	for i := range reports {
		wg.Go(func() {
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			reports[i] = tlsclient.ResponseReport(resp)
		})
	}
	wg.Wait()
	for i, r := range reports {
		if r == nil || r != reports[0] || r.ALPN != "h2" {
			t.Errorf("stream %d: report %p (ALPN %v), want the shared h2 connection's", i, r, r)
		}
	}
}

func TestHTTPClientRefused(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := httpsServer(t, p, true)
	other := newPKI(t, testpki.CertOptions{})
	var hooked atomic.Pointer[tlsclient.Report]
	d, err := tlsclient.New(other.opts(tlsclient.WithReportHook(func(r *tlsclient.Report) { hooked.Store(r) }))...)
	if err != nil {
		t.Fatal(err)
	}
	c := d.HTTPClient()
	defer c.CloseIdleConnections()
	resp, err := c.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("an untrusted server was accepted")
	}
	ve := verificationError(t, err)
	if !errors.Is(err, tlsclient.ErrCertificate) || ve.Report.OK() || hooked.Load() != ve.Report {
		t.Errorf("err = %v; report ok %v; hook saw it: %v", err, ve.Report.OK(), hooked.Load() == ve.Report)
	}
}

// TestTransportWithTrace: a caller that builds its own client from
// Transport reaches the Report with ConnReport in its own trace.
func TestTransportWithTrace(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := httpsServer(t, p, false)
	d, err := tlsclient.New(p.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	tr := d.Transport()
	defer tr.CloseIdleConnections()
	var got *tlsclient.Report
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		got = tlsclient.ConnReport(i.Conn)
	}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got == nil || !got.OK() {
		t.Fatalf("ConnReport from the trace = %v", got)
	}
	if tlsclient.ResponseReport(resp) != nil {
		t.Error("ResponseReport of a response from a plain client should be nil")
	}

	// A caller's trace still fires under HTTPClient.
	var gotConn atomic.Bool
	ctx = httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) }})
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	c := d.HTTPClient()
	defer c.CloseIdleConnections()
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !gotConn.Load() || tlsclient.ResponseReport(resp) == nil {
		t.Errorf("caller's GotConn fired: %v; ResponseReport: %v", gotConn.Load(), tlsclient.ResponseReport(resp))
	}
	if tlsclient.ResponseReport(nil) != nil || tlsclient.ConnReport(nil) != nil {
		t.Error("nil response or conn should have no Report")
	}
}

// connectProxy is an HTTP proxy that only tunnels CONNECT requests.
func connectProxy(t *testing.T) (proxyURL *url.URL, tunnels *atomic.Int64) {
	t.Helper()
	tunnels = new(atomic.Int64)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		tunnels.Add(1)
		down, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer down.Close()
		fmt.Fprint(rw, "HTTP/1.1 200 Connection established\r\n\r\n")
		rw.Flush()
		done := make(chan struct{}, 2)
		go func() { io.Copy(up, rw); done <- struct{}{} }()
		go func() { io.Copy(down, up); done <- struct{}{} }()
		<-done
	}))
	t.Cleanup(s.Close)
	u, _ := url.Parse(s.URL)
	return u, tunnels
}

// TestTransportProxy: through a CONNECT proxy, net/http makes the
// handshake with TLSClientConfig, which verifies just the same.
func TestTransportProxy(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := httpsServer(t, p, true)
	proxy, tunnels := connectProxy(t)
	for _, trusted := range []bool{true, false} {
		t.Run(fmt.Sprint("trusted=", trusted), func(t *testing.T) {
			t.Parallel()
			var hooked atomic.Pointer[tlsclient.Report]
			opts := p.opts(tlsclient.WithReportHook(func(r *tlsclient.Report) { hooked.Store(r) }))
			if !trusted {
				opts = newPKI(t, testpki.CertOptions{}).opts(tlsclient.WithReportHook(func(r *tlsclient.Report) { hooked.Store(r) }))
			}
			d, err := tlsclient.New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			tr := d.Transport()
			tr.Proxy = http.ProxyURL(proxy)
			defer tr.CloseIdleConnections()
			before := tunnels.Load()
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
			if tunnels.Load() == before {
				t.Fatal("the request did not go through the proxy")
			}
			if !trusted {
				if err == nil {
					resp.Body.Close()
					t.Fatal("an untrusted server was accepted through the proxy")
				}
				if !errors.Is(err, tlsclient.ErrCertificate) && !strings.Contains(err.Error(), "certificate") {
					t.Errorf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if r := hooked.Load(); r == nil || !r.OK() || r.ALPN != "h2" {
				t.Errorf("hook report = %+v", r)
			}
		})
	}
}

// TestConnReportOfConn: a Conn's Report is reachable from the Conn and from
// its *tls.Conn.
func TestConnReportOfConn(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := serve(t, testpki.ServerOptions{Cert: p.leaf})
	conn, err := tlsclient.Dial("tcp", srv.Addr, p.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tlsclient.ConnReport(conn) != conn.Report() || tlsclient.ConnReport(conn.Conn) != conn.Report() {
		t.Error("ConnReport does not find the Conn's Report")
	}
	fmt.Fprint(conn, "GET / HTTP/1.0\r\n\r\n")
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
}

// TestTLSConfigCopiesSlices: appending to a TLSConfig's NextProtos (as
// net/http's HTTP/2 setup does) does not reach the Dialer or other copies.
func TestTLSConfigCopiesSlices(t *testing.T) {
	t.Parallel()
	d, err := tlsclient.New(tlsclient.WithNextProtos("a", "b", "c"))
	if err != nil {
		t.Fatal(err)
	}
	one, two := d.TLSConfig(), d.TLSConfig()
	one.NextProtos = append(one.NextProtos, "one")
	two.NextProtos = append(two.NextProtos, "two")
	one.NextProtos[0] = "changed"
	if got := strings.Join(two.NextProtos, ","); got != "a,b,c,two" {
		t.Errorf("second copy's NextProtos = %s", got)
	}
	if got := strings.Join(d.TLSConfig().NextProtos, ","); got != "a,b,c" {
		t.Errorf("the Dialer's NextProtos became %s", got)
	}
}
