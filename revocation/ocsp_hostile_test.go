package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"golang.org/x/crypto/ocsp"
)

// oHostile is one hostile responder and what must come of it.
type oHostile struct {
	name    string
	handler func(p *oPKI) http.Handler
	kind    FetchErrorKind      // the FetchError wanted, or
	reason  ResponseErrorReason // the ResponseError wanted, or neither: the check passes
	detail  string              // in the error
}

// oValid is a valid good response for p's leaf.
func oValid(p *oPKI) []byte { return testpki.Must(p.inter.OCSPGood(p.leaf)) }

func oHostileResponders() []oHostile {
	build := func(f func(p *oPKI, r *testpki.OCSPResponse)) func(p *oPKI) http.Handler {
		return func(p *oPKI) http.Handler {
			r := p.response(&ocsp.Request{SerialNumber: p.leaf.Cert.SerialNumber})
			f(p, r)
			return testpki.BytesHandler("application/ocsp-response", testpki.Must(r.Marshal()))
		}
	}
	return []oHostile{
		{name: "hang", kind: FetchTimeout,
			handler: func(*oPKI) http.Handler { return testpki.HangHandler() }},
		{name: "slow drip", kind: FetchTimeout,
			handler: func(p *oPKI) http.Handler { return testpki.DripHandler(oValid(p), 50*time.Millisecond) }},
		{name: "huge body", kind: FetchTooLarge,
			handler: func(*oPKI) http.Handler { return testpki.HugeHandler(16 << 20) }},
		{name: "huge Content-Length", kind: FetchTooLarge, detail: "Content-Length",
			handler: func(*oPKI) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "1073741824")
					w.Write([]byte{0x30, 0x84})
				})
			}},
		{name: "garbage", reason: ResponseMalformed,
			handler: func(*oPKI) http.Handler {
				return testpki.BytesHandler("application/ocsp-response", []byte("\x00\xff garbage \x30\x84\xff\xff\xff\xff"))
			}},
		{name: "DER length bomb", reason: ResponseMalformed,
			handler: func(*oPKI) http.Handler {
				return testpki.BytesHandler("application/ocsp-response", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x0a, 0x01, 0x00})
			}},
		{name: "truncated DER", reason: ResponseMalformed,
			handler: func(p *oPKI) http.Handler {
				der := oValid(p)
				return testpki.BytesHandler("application/ocsp-response", der[:len(der)-10])
			}},
		{name: "empty body", reason: ResponseMalformed,
			handler: func(*oPKI) http.Handler { return testpki.BytesHandler("application/ocsp-response", nil) }},
		{name: "HTML with 200", reason: ResponseMalformed, detail: `Content-Type "text/html`,
			handler: func(*oPKI) http.Handler {
				return testpki.BytesHandler("text/html; charset=utf-8", []byte("<html><body>Please log in to the Wi-Fi</body></html>"))
			}},
		{name: "wrong content type, valid body",
			handler: func(p *oPKI) http.Handler { return testpki.BytesHandler("text/plain", oValid(p)) }},
		{name: "no content type, valid body",
			handler: func(p *oPKI) http.Handler { return testpki.BytesHandler("", oValid(p)) }},
		{name: "redirect loop", kind: FetchRedirects, detail: "stopped after 3 redirects",
			handler: func(*oPKI) http.Handler { return testpki.RedirectLoopHandler() }},
		{name: "redirect to file", kind: FetchRedirects, detail: `"file"`,
			handler: func(*oPKI) http.Handler { return testpki.RedirectHandler("file:///etc/passwd") }},
		{name: "redirect to ldap", kind: FetchRedirects, detail: `"ldap"`,
			handler: func(*oPKI) http.Handler { return testpki.RedirectHandler("ldap://ldap.test/cn=ocsp") }},
		{name: "server error", kind: FetchStatus, detail: "500",
			handler: func(*oPKI) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) })
			}},
		{name: "connection cut", kind: FetchNetwork,
			handler: func(*oPKI) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					conn, buf, err := http.NewResponseController(w).Hijack()
					if err != nil {
						return
					}
					buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n0\x82")
					buf.Flush()
					conn.Close()
				})
			}},
		{name: "tryLater", reason: ResponseNotSuccessful,
			handler: func(*oPKI) http.Handler {
				return testpki.BytesHandler("application/ocsp-response", testpki.Must((&testpki.OCSPResponse{Status: 3}).Marshal()))
			}},
		{name: "response for another serial", reason: ResponseNoMatch,
			handler: build(func(p *oPKI, r *testpki.OCSPResponse) { r.Responses[0].Serial = oSerial(4242) })},
		{name: "signed by an unrelated key", reason: ResponseUnauthorizedSigner,
			handler: build(func(p *oPKI, r *testpki.OCSPResponse) {
				r.Signer = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "unrelated"}))
			})},
		{name: "expired delegate", reason: ResponseExpired, detail: "expired at",
			handler: build(func(p *oPKI, r *testpki.OCSPResponse) {
				d := testpki.Must(p.inter.IssueOCSPResponder(testpki.CertOptions{NotBefore: testpki.Now.AddDate(0, -3, 0), NotAfter: testpki.Now.AddDate(0, 0, -1)}))
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			})},
	}
}

// TestOCSPHostileResponders points the leaf at each hostile responder, on
// real sockets: each yields a typed error (or, for a mislabelled valid
// response, a pass) within the time budget, nothing panics, and no
// goroutine is left behind. It does not run in parallel, so that the
// goroutine count means something.
func TestOCSPHostileResponders(t *testing.T) {
	ocspLeakCheck(t)
	const (
		fetchTimeout = 300 * time.Millisecond
		budget       = 3 * time.Second // generous: the machine is noisy
	)
	for _, h := range oHostileResponders() {
		t.Run(h.name, func(t *testing.T) {
			var pp atomic.Pointer[oPKI]
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.handler(pp.Load()).ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			p := oNewPKI(t, oOptions{urls: []string{srv.URL}})
			pp.Store(p)
			st := p.state(nil)
			v := OCSP(LeafOnly(), WithFetchTimeout(fetchTimeout), WithHTTPClient(ocspHTTPClient(t)))
			start := time.Now()
			err := v.Verify(context.Background(), st)
			elapsed := time.Since(start)
			if elapsed > budget {
				t.Errorf("took %v, over the budget of %v", elapsed, budget)
			}
			oCheckHostile(t, h, err, srv.URL)
			if len(st.Checks()) == 0 {
				t.Error("nothing recorded")
			}
		})
	}
	// The same through a handshake: a hanging responder makes the dial
	// fail closed, within the fetch timeout.
	t.Run("dial to a server whose responder hangs", func(t *testing.T) {
		srv := httptest.NewServer(testpki.HangHandler())
		t.Cleanup(srv.Close)
		p := oNewPKI(t, oOptions{urls: []string{srv.URL}})
		start := time.Now()
		_, err := p.dial(t, p.serve(t, nil), New(WithFetchTimeout(fetchTimeout), WithHTTPClient(ocspHTTPClient(t))))
		var fe *FetchError
		if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &fe) || fe.Kind != FetchTimeout {
			t.Fatalf("want a timeout, got %v", err)
		}
		if d := time.Since(start); d > budget {
			t.Errorf("took %v", d)
		}
	})
}

// oCheckHostile checks err against what h wants.
func oCheckHostile(t *testing.T, h oHostile, err error, url string) {
	t.Helper()
	if h.kind == 0 && h.reason == 0 {
		if err != nil {
			t.Fatalf("want a pass, got %v", err)
		}
		return
	}
	var ue *UnavailableError
	if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &ue) {
		t.Fatalf("want *UnavailableError, got %v", err)
	}
	if h.kind != 0 {
		var fe *FetchError
		if !errors.As(err, &fe) || fe.Kind != h.kind {
			t.Fatalf("want a %v FetchError, got %v", h.kind, err)
		}
		if fe.URL != url {
			t.Errorf("FetchError URL %q, want the responder %q", fe.URL, url)
		}
	}
	if h.reason != 0 {
		var rerr *ResponseError
		if !errors.As(err, &rerr) || rerr.Reason != h.reason {
			t.Fatalf("want a %v ResponseError, got %v", h.reason, err)
		}
	}
	if h.detail != "" && !strings.Contains(err.Error(), h.detail) {
		t.Errorf("want %q in %v", h.detail, err)
	}
	if !strings.Contains(err.Error(), url) {
		t.Errorf("the error should name the responder: %v", err)
	}
}

// TestOCSPHostileSynctest replays the timing cases in a synctest bubble,
// with an in-memory transport: the timeouts are exact, and the bubble
// refuses to end while a goroutine it started is still running.
func TestOCSPHostileSynctest(t *testing.T) {
	t.Parallel()
	p := oNewPKI(t, oOptions{urls: []string{"http://ocsp.test/a"}})
	hang := oRoundTripper(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	drip := oRoundTripper(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: -1, Request: r,
			Body: &oDripBody{ctx: r.Context(), data: oValid(p), interval: time.Second}}, nil
	})
	tests := []struct {
		name    string
		rt      oRoundTripper
		ctx     time.Duration // the dial's deadline; 0: none
		opts    []Option
		urls    int
		elapsed time.Duration
	}{
		{name: "hang, default fetch timeout", rt: hang, urls: 1, elapsed: DefaultFetchTimeout},
		{name: "hang, WithFetchTimeout", rt: hang, urls: 1, opts: []Option{WithFetchTimeout(time.Second)}, elapsed: time.Second},
		{name: "drip", rt: drip, urls: 1, elapsed: DefaultFetchTimeout},
		{name: "the dial's deadline first", rt: hang, urls: 1, ctx: 2 * time.Second, elapsed: 2*time.Second - deadlineMargin(2*time.Second)},
		{name: "two responders, one timeout each", rt: hang, urls: 2, elapsed: 2 * DefaultFetchTimeout},
		{name: "two responders, the dial's deadline", rt: hang, urls: 2, ctx: 7 * time.Second, elapsed: 7*time.Second - deadlineMargin(7*time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chain := p.chain()
			urls := []string{"http://ocsp.test/a", "http://ocsp.test/b"}[:tt.urls]
			chain[0] = testpki.Must(p.inter.Issue(testpki.CertOptions{CommonName: "oLeaf", OCSPServers: urls})).Cert
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				if tt.ctx > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.ctx)
					defer cancel()
				}
				v := OCSP(append(tt.opts, LeafOnly(), WithHTTPClient(&http.Client{Transport: tt.rt}))...)
				start := time.Now()
				err := v.Verify(ctx, oState(chain, nil))
				if d := time.Since(start); d != tt.elapsed {
					t.Errorf("took %v, want %v", d, tt.elapsed)
				}
				var fe *FetchError
				if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &fe) || fe.Kind != FetchTimeout {
					t.Errorf("want a timeout, got %v", err)
				}
			})
		})
	}
}

// TestOCSPSharedFetchCancellation: checks that share a fetch each wait as
// long as their own context allows; the fetch goes on while anyone waits
// and stops when everyone has given up.
func TestOCSPSharedFetchCancellation(t *testing.T) {
	t.Parallel()
	p := oNewPKI(t, oOptions{urls: []string{"http://ocsp.test/"}})
	chain := p.chain()
	chain[0] = testpki.Must(p.inter.Issue(testpki.CertOptions{CommonName: "oLeaf", OCSPServers: []string{"http://ocsp.test/"}})).Cert
	p.leaf = &testpki.Cert{Cert: chain[0], Key: p.leaf.Key, Issuer: p.inter}
	synctest.Test(t, func(t *testing.T) {
		var asked, canceled atomic.Int64
		slow := oResponderHandler(p.answer)
		rt := oHandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked.Add(1)
			select {
			case <-time.After(2 * time.Second):
				slow(w, r)
			case <-r.Context().Done():
				canceled.Add(1)
			}
		}))
		v := OCSP(LeafOnly(), WithHTTPClient(&http.Client{Transport: rt}))

		// A gives up after 1s; B waits and gets the answer at 2s.
		ctxA, cancelA := context.WithTimeout(context.Background(), time.Second)
		defer cancelA()
		var wg sync.WaitGroup
		var errA, errB error
		var tA, tB time.Duration
		start := time.Now()
		wg.Go(func() { errA = v.Verify(ctxA, oState(chain, nil)); tA = time.Since(start) })
		wg.Go(func() { errB = v.Verify(context.Background(), oState(chain, nil)); tB = time.Since(start) })
		wg.Wait()
		var fe *FetchError
		// A's sources give up a little before its deadline (deadlineMargin).
		if !errors.As(errA, &fe) || fe.Kind != FetchTimeout || tA != time.Second-deadlineMargin(time.Second) {
			t.Errorf("A: %v after %v", errA, tA)
		}
		if errB != nil || tB != 2*time.Second {
			t.Errorf("B: %v after %v", errB, tB)
		}
		if asked.Load() != 1 || canceled.Load() != 0 {
			t.Errorf("%d requests, %d canceled; want one, completed", asked.Load(), canceled.Load())
		}

		// Both give up: the request is canceled, and no goroutine remains
		// (synctest.Test would not return otherwise).
		chain2 := append([]*x509.Certificate(nil), chain...)
		chain2[0] = testpki.Must(p.inter.Issue(testpki.CertOptions{CommonName: "oLeaf2", OCSPServers: []string{"http://ocsp.test/"}})).Cert
		for range 2 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				if err := v.Verify(ctx, oState(chain2, nil)); !errors.Is(err, tlsclient.ErrRevocationUnavailable) {
					t.Errorf("want unavailable, got %v", err)
				}
			})
		}
		wg.Wait()
		synctest.Wait()
		if asked.Load() != 2 || canceled.Load() != 1 {
			t.Errorf("%d requests, %d canceled; want the second one canceled", asked.Load(), canceled.Load())
		}
	})
}
