package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

func server(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

func kindOf(t *testing.T, err error) Kind {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("want *fetch.Error, got %T: %v", err, err)
	}
	return fe.Kind
}

// goroutinesSettle waits for the goroutine count to come back to base.
func goroutinesSettle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGetAndPost(t *testing.T) {
	var got atomic.Value
	url := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(bytes.Buffer)
		b.ReadFrom(r.Body)
		got.Store(r.Method + " " + r.Header.Get("Content-Type") + " " + b.String())
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte("hello"))
	}))
	f := New(nil, time.Second, 3)
	resp, err := f.Do(context.Background(), Request{URL: url, MaxSize: 10})
	if err != nil || string(resp.Body) != "hello" || resp.ETag != `"v1"` || resp.FinalURL != url {
		t.Fatalf("GET: %+v %v", resp, err)
	}
	_, err = f.Do(context.Background(), Request{URL: url, Method: http.MethodPost, Body: []byte("req"), ContentType: "application/x", MaxSize: 10})
	if err != nil || got.Load() != "POST application/x req" {
		t.Fatalf("POST: %v %v", got.Load(), err)
	}
}

func TestConditionalGet(t *testing.T) {
	fs := testpki.NewFileServer()
	t.Cleanup(fs.Close)
	fs.Set("/a.crl", []byte("data"), testpki.Now)
	f := New(nil, time.Second, 3)
	first, err := f.Do(context.Background(), Request{URL: fs.URLFor("/a.crl"), MaxSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.Do(context.Background(), Request{URL: fs.URLFor("/a.crl"), ETag: first.ETag, MaxSize: 100})
	if err != nil || !again.NotModified || again.Body != nil {
		t.Fatalf("conditional GET: %+v %v", again, err)
	}
	if fs.NotModified() != 1 {
		t.Errorf("server answered 304 %d times", fs.NotModified())
	}
}

func TestFailures(t *testing.T) {
	base := runtime.NumGoroutine()
	tests := []struct {
		name    string
		handler http.Handler
		url     string // overrides the server URL
		req     Request
		kind    Kind
		text    string
	}{
		{name: "ldap URL", url: "ldap://ldap.example.com/cn=CRL", kind: BadURL, text: `scheme "ldap"`},
		{name: "file URL", url: "file:///etc/passwd", kind: BadURL},
		{name: "relative URL", url: "/crl", kind: BadURL},
		{name: "no size cap", handler: testpki.BytesHandler("x", nil), req: Request{MaxSize: -1}, kind: TooLarge},
		{name: "404", handler: http.NotFoundHandler(), kind: Status, text: "404"},
		{name: "too large by Content-Length", handler: testpki.BytesHandler("application/pkix-crl", make([]byte, 2000)), kind: TooLarge, text: "Content-Length 2000"},
		{name: "too large streamed", handler: testpki.HugeHandler(1 << 20), kind: TooLarge},
		{name: "hang", handler: testpki.HangHandler(), kind: Timeout},
		{name: "slow drip", handler: testpki.DripHandler(make([]byte, 100), 50*time.Millisecond), kind: Timeout},
		{name: "redirect loop", handler: testpki.RedirectLoopHandler(), kind: Redirects, text: "stopped after 3 redirects"},
		{name: "redirect to file", handler: testpki.RedirectHandler("file:///etc/passwd"), kind: Redirects, text: `scheme "file"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			if tt.handler != nil {
				url = server(t, tt.handler)
			}
			req := tt.req
			req.URL = url
			if req.MaxSize == 0 {
				req.MaxSize = 1000
			}
			f := New(nil, 300*time.Millisecond, 3)
			start := time.Now()
			_, err := f.Do(context.Background(), req)
			if k := kindOf(t, err); k != tt.kind {
				t.Errorf("kind %v, want %v (%v)", k, tt.kind, err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q lacks %q", err, tt.text)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v, beyond the budget", d)
			}
		})
	}
	goroutinesSettle(t, base)
}

func TestCallerContextEndsWait(t *testing.T) {
	url := server(t, testpki.HangHandler())
	f := New(nil, time.Minute, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.Do(ctx, Request{URL: url, MaxSize: 10})
	if kindOf(t, err) != Timeout || time.Since(start) > 5*time.Second {
		t.Fatalf("want a prompt timeout from the caller's context, got %v after %v", err, time.Since(start))
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := f.Do(ctx, Request{URL: url, MaxSize: 10}); kindOf(t, err) != Canceled {
		t.Errorf("canceled context: %v", err)
	}
}

// TestMerged: concurrent identical requests make one HTTP request; when
// every waiter gives up, the shared request is canceled too.
func TestMerged(t *testing.T) {
	var hits atomic.Int64
	release := make(chan struct{})
	url := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte("shared"))
	}))
	f := New(nil, 10*time.Second, 3)
	var wg sync.WaitGroup
	var shared atomic.Int64
	for range 64 {
		wg.Go(func() {
			resp, err := f.Do(context.Background(), Request{URL: url, MaxSize: 10})
			if err != nil || string(resp.Body) != "shared" {
				t.Errorf("%v %v", resp, err)
				return
			}
			if resp.Shared {
				shared.Add(1)
			}
		})
	}
	for hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let every caller join the flight
	close(release)
	wg.Wait()
	if hits.Load() != 1 || shared.Load() != 63 {
		t.Errorf("hits %d, shared %d; want 1 and 63", hits.Load(), shared.Load())
	}

	// All waiters leave: the request in flight is canceled.
	var canceled atomic.Bool
	url2 := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		canceled.Store(true)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	f.Do(ctx, Request{URL: url2, MaxSize: 10})
	deadline := time.Now().Add(5 * time.Second)
	for !canceled.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !canceled.Load() {
		t.Error("the shared request outlived every waiter")
	}
}

func TestCallerClientKeptAndCopied(t *testing.T) {
	var seen atomic.Int64
	url := server(t, testpki.BytesHandler("x", []byte("ok")))
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	client := &http.Client{Transport: rt}
	f := New(client, time.Second, 3)
	if _, err := f.Do(context.Background(), Request{URL: url, MaxSize: 10}); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != 1 {
		t.Error("the caller's transport was not used")
	}
	if client.CheckRedirect != nil || client.Timeout != 0 {
		t.Error("the caller's client was modified")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestNoJoinAfterEveryoneLeft: a request whose waiters all gave up is
// canceled; a new caller must start afresh rather than join it, even while
// the canceled request is still winding down.
func TestNoJoinAfterEveryoneLeft(t *testing.T) {
	var calls atomic.Int64
	linger := make(chan struct{})
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // canceled when its only waiter leaves...
			<-linger             // ...but still in flight for a while
			return nil, r.Context().Err()
		}
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r, Header: http.Header{}}, nil
	})
	f := New(&http.Client{Transport: rt}, time.Minute, 3)
	req := Request{URL: "http://crl.test/a.crl", MaxSize: 10}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.Do(ctx, req); kindOf(t, err) != Timeout {
		t.Fatalf("first caller: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	resp, err := f.Do(ctx2, req)
	close(linger)
	if err != nil || resp.Shared {
		t.Fatalf("second caller must make its own request: %+v %v", resp, err)
	}
	if calls.Load() != 2 {
		t.Errorf("round trips: %d", calls.Load())
	}
}
