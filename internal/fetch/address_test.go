package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

func TestAddressRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string // a substring of the range name; "" for public
	}{
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"169.254.169.254", "link-local"}, // cloud metadata services
		{"100.100.100.200", "shared"},     // RFC 6598, also a metadata address
		{"0.0.0.0", "this network"},
		{"0.1.2.3", "this network"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"198.18.0.1", "benchmarking"},
		{"192.0.2.1", "documentation"},
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"}, // IPv4-mapped
		{"::ffff:10.0.0.1", "private"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"fc00::1", "unique local"},
		{"fd00:ec2::254", "unique local"}, // AWS IPv6 metadata
		{"ff02::1", "multicast"},
		{"fec0::1", "site-local"},
		{"64:ff9b::7f00:1", "NAT64 of a loopback"},
		{"64:ff9b::a9fe:a9fe", "NAT64 of a link-local"},
		{"64:ff9b:1::1", "NAT64"},
		{"2002:7f00:1::1", "6to4 of a loopback"},
		{"2001:db8::1", "documentation"},
		{"100::1", "discard"},
		{"4000::1", "reserved"},
		// Public.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8: IPv6-only hosts must reach public servers
		{"2002:808:808::1", ""},
		{"2606:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
	}
	for _, tt := range tests {
		got := AddressRange(netip.MustParseAddr(tt.addr))
		switch {
		case tt.want == "" && got != "":
			t.Errorf("%s: refused as %q, want public", tt.addr, got)
		case tt.want != "" && !strings.Contains(got, tt.want):
			t.Errorf("%s: range %q, want %q", tt.addr, got, tt.want)
		}
	}
	if AddressRange(netip.Addr{}) == "" {
		t.Error("the invalid address is public")
	}
}

// refused checks that err is a PrivateAddress failure for addr.
func refused(t *testing.T, err error, addr string) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != PrivateAddress {
		t.Fatalf("want a PrivateAddress *fetch.Error, got %v", err)
	}
	var ae *AddressError
	if !errors.As(err, &ae) {
		t.Fatalf("want an *AddressError inside, got %v", err)
	}
	if addr != "" && ae.Addr.String() != addr {
		t.Errorf("refused %s, want %s (%v)", ae.Addr, addr, err)
	}
}

// TestRefusePrivate: with the option, URLs that lead to non-public
// addresses are refused before any connection is made (the refused
// addresses need no listener); without it, they are fetched.
func TestRefusePrivate(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	open := New(nil, time.Second, 3)
	if resp, err := open.Do(context.Background(), Request{URL: srv.URL, MaxSize: 10}); err != nil || string(resp.Body) != "ok" {
		t.Fatalf("without the option, 127.0.0.1 is fetched: %v", err)
	}

	f := New(nil, 10*time.Second, 3, RefusePrivate())
	if f.Err() != nil {
		t.Fatal(f.Err())
	}
	before := hits.Load()
	tests := []struct{ name, url, addr string }{
		{"IPv4 loopback", srv.URL, "127.0.0.1"},
		{"a name that resolves to loopback", "http://localhost:" + port + "/", ""},
		{"IPv6 loopback", "http://[::1]:" + port + "/", "::1"},
		{"IPv6 link-local", "http://[fe80::1%25lo]:" + port + "/", "fe80::1%lo"},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:" + port + "/", "127.0.0.1"},
		{"unspecified", "http://0.0.0.0:" + port + "/", "0.0.0.0"},
		{"IPv6 multicast", "http://[ff02::1%25lo]:" + port + "/", "ff02::1%lo"},
		{"https too", "https://127.0.0.1:" + port + "/", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := f.Do(context.Background(), Request{URL: tt.url, MaxSize: 10})
			refused(t, err, tt.addr)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("a refusal took %v: it must not wait for anything", d)
			}
			if !strings.Contains(err.Error(), "non-public address refused") {
				t.Errorf("message %q", err)
			}
		})
	}
	if hits.Load() != before {
		t.Errorf("the server was reached %d times despite the refusal", hits.Load()-before)
	}
}

// TestRefusePrivateRedirect: a redirect from an allowed host to a refused
// one is refused, because redirects are dialled through the same check.
// 127.0.0.2 stands in for a public address (everything stays on the
// loopback interface).
func TestRefusePrivateRedirect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	var internal atomic.Int64
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internal.Add(1)
		w.Write([]byte("secret"))
	}))
	t.Cleanup(inside.Close)
	outside := httptest.NewUnstartedServer(testpki.RedirectHandler(inside.URL + "/latest/meta-data/"))
	outside.Listener.Close()
	outside.Listener = ln
	outside.Start()
	t.Cleanup(outside.Close)

	onlyDotTwo := func(a netip.Addr) string {
		if a == netip.MustParseAddr("127.0.0.2") {
			return ""
		}
		return AddressRange(a)
	}
	f := New(nil, time.Second, 3, refuseWith(onlyDotTwo))
	_, err = f.Do(context.Background(), Request{URL: outside.URL + "/ocsp", MaxSize: 100})
	refused(t, err, "127.0.0.1")
	if !strings.Contains(err.Error(), "redirected to "+inside.URL) {
		t.Errorf("the error should name the redirect: %v", err)
	}
	var fe *Error
	errors.As(err, &fe)
	if fe.URL != outside.URL+"/ocsp" {
		t.Errorf("URL %q, want the one asked for", fe.URL)
	}
	if internal.Load() != 0 {
		t.Error("the internal server was reached")
	}
	// The allowed host itself is fetched.
	direct := httptest.NewUnstartedServer(testpki.BytesHandler("text/plain", []byte("public")))
	ln2, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	direct.Listener.Close()
	direct.Listener = ln2
	direct.Start()
	t.Cleanup(direct.Close)
	if resp, err := f.Do(context.Background(), Request{URL: direct.URL, MaxSize: 100}); err != nil || string(resp.Body) != "public" {
		t.Fatalf("the allowed address: %v", err)
	}
}

// TestRefusePrivateClient: a caller's *http.Transport keeps its settings
// but loses its proxy and dialers (they could bypass the check); another
// RoundTripper cannot be checked and makes every fetch fail.
func TestRefusePrivateClient(t *testing.T) {
	t.Parallel()
	var dialed atomic.Int64
	tr := &http.Transport{
		Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 7,
	}
	f := New(&http.Client{Transport: tr}, time.Second, 3, RefusePrivate())
	if f.Err() != nil {
		t.Fatal(f.Err())
	}
	got := f.client.Transport.(*http.Transport)
	if got == tr || got.Proxy != nil || got.MaxIdleConnsPerHost != 7 {
		t.Errorf("transport not cloned and guarded: %+v", got)
	}
	_, err := f.Do(context.Background(), Request{URL: "http://127.0.0.1:1/", MaxSize: 10})
	refused(t, err, "127.0.0.1")
	if dialed.Load() != 0 {
		t.Error("the caller's dialer was used: it would bypass the check")
	}
	if tr.Proxy == nil || tr.DialContext == nil {
		t.Error("the caller's transport was modified")
	}

	other := New(&http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		t.Error("an unchecked transport was used")
		return nil, errors.New("no")
	})}, time.Second, 3, RefusePrivate())
	if other.Err() == nil || !strings.Contains(other.Err().Error(), "*http.Transport") {
		t.Fatalf("Err: %v", other.Err())
	}
	_, err = other.Do(context.Background(), Request{URL: "http://ocsp.test/", MaxSize: 10})
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != PrivateAddress {
		t.Fatalf("want every fetch refused, got %v", err)
	}
}
