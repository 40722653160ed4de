package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// serve starts a testpki server for leaf and stops it when the test ends.
func serve(t *testing.T, opts testpki.ServerOptions) *testpki.Server {
	t.Helper()
	s, err := testpki.StartServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func newLeaf(t *testing.T) (root, leaf *testpki.Cert) {
	t.Helper()
	root, err := testpki.NewRoot(testpki.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate(testpki.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err = inter.Issue(testpki.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return root, leaf
}

func TestFetch(t *testing.T) {
	t.Parallel()
	root, leaf := newLeaf(t)
	opts := []tlsclient.Option{tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock())}
	tests := []struct {
		name     string
		truncate bool
		want     ending
	}{
		{"close_notify", false, cleanClose},
		{"truncated", true, truncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, testpki.ServerOptions{Cert: leaf, Truncate: tt.truncate})
			var out bytes.Buffer
			res, err := fetch(t.Context(), srv.Addr, &out, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if res.ending != tt.want {
				t.Errorf("ending = %v, want %v", res.ending, tt.want)
			}
			if !strings.HasPrefix(out.String(), "HTTP/1.0 200 OK\r\n") || !strings.Contains(out.String(), "you asked: GET / HTTP/1.0\n") {
				t.Errorf("response:\n%s", out.String())
			}
			if res.n != int64(out.Len()) {
				t.Errorf("n = %d, wrote %d", res.n, out.Len())
			}
		})
	}
}

// TestFetchRequest checks the request on the wire: GET / HTTP/1.0 with the
// Host header, then our close_notify after the server's.
func TestFetchRequest(t *testing.T) {
	t.Parallel()
	root, leaf := newLeaf(t)
	var (
		mu      sync.Mutex
		lines   []string
		sawEOF  bool
		handled = make(chan struct{})
	)
	srv := serve(t, testpki.ServerOptions{Cert: leaf, Handler: func(c *tls.Conn) {
		defer close(handled)
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			mu.Lock()
			lines = append(lines, line)
			mu.Unlock()
		}
		fmt.Fprint(c, "HTTP/1.0 204 No Content\r\n\r\n")
		c.CloseWrite() // close_notify, keep reading
		_, err := r.ReadByte()
		mu.Lock()
		sawEOF = errors.Is(err, io.EOF) // the client's close_notify
		mu.Unlock()
	}})
	var out bytes.Buffer
	res, err := fetch(t.Context(), srv.Addr, &out, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	if res.ending != cleanClose {
		t.Errorf("ending = %v, want clean", res.ending)
	}
	<-handled
	mu.Lock()
	defer mu.Unlock()
	want := []string{"GET / HTTP/1.0", "Connection: close", "Host: " + srv.Addr}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("request = %q, want %q", lines, want)
	}
	if !sawEOF {
		t.Error("the server did not receive the client's close_notify")
	}
}

func TestFetchVerificationFailure(t *testing.T) {
	t.Parallel()
	_, leaf := newLeaf(t)
	other, _ := newLeaf(t)
	srv := serve(t, testpki.ServerOptions{Cert: leaf})
	_, err := fetch(t.Context(), srv.Addr, &bytes.Buffer{}, tlsclient.WithRootCAs(other.Pool()), tlsclient.WithTime(testpki.Clock()))
	var ve *tlsclient.VerificationError
	if !errors.As(err, &ve) || !errors.Is(err, tlsclient.ErrCertificate) {
		t.Fatalf("err = %v, want a certificate VerificationError", err)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		want       int
		wantStderr string
	}{
		{nil, 0, "closed cleanly with close_notify"},
		{[]string{"-truncate"}, 1, "truncated"},
		{[]string{"-nope"}, 2, "flag provided but not defined"},
		{[]string{"-ca", "x.pem"}, 2, "invalid arguments"},
		{[]string{"extra"}, 2, "invalid arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.want {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr.String())
			}
			if tt.want != 2 && !strings.Contains(stdout.String(), "HTTP/1.0 200 OK") {
				t.Errorf("stdout lacks the response:\n%s", stdout.String())
			}
		})
	}
}

// TestRunAddr uses -addr and -ca against a server whose CA is not the one
// given: the verification failure is reported and the exit code is 1.
func TestRunAddr(t *testing.T) {
	t.Parallel()
	_, leaf := newLeaf(t)
	srv := serve(t, testpki.ServerOptions{Cert: leaf})
	other, _ := newLeaf(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, other.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-addr", srv.Addr, "-ca", caFile}, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "tlsclient: verification of 127.0.0.1 failed") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

func TestHostHeader(t *testing.T) {
	t.Parallel()
	tests := []struct{ addr, sni, want string }{
		{"example.com:443", "example.com", "example.com"},
		{"example.com:8443", "example.com", "example.com:8443"},
		{"192.0.2.1:443", "other.example", "other.example"},
		{"[2001:db8::1]:443", "", "[2001:db8::1]"},
		{"[2001:db8::1]:8443", "", "[2001:db8::1]:8443"},
		{"127.0.0.1:443", "", "127.0.0.1"},
	}
	for _, tt := range tests {
		if got := hostHeader(tt.addr, tt.sni); got != tt.want {
			t.Errorf("hostHeader(%q, %q) = %q, want %q", tt.addr, tt.sni, got, tt.want)
		}
	}
}

// TestFetchMidRecordTruncation cuts the connection inside a TLS record:
// crypto/tls reports io.ErrUnexpectedEOF rather than tlsclient.ErrTruncated,
// and the example must still call it truncated.
func TestFetchMidRecordTruncation(t *testing.T) {
	t.Parallel()
	root, leaf := newLeaf(t)
	srv := serve(t, testpki.ServerOptions{Cert: leaf, Handler: func(c *tls.Conn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || strings.TrimSpace(line) == "" {
				break
			}
		}
		fmt.Fprint(c, "HTTP/1.0 200 OK\r\n\r\npartial")
		// An application data record header announcing 64 bytes, then 5.
		c.NetConn().Write([]byte{0x17, 0x03, 0x03, 0x00, 0x40, 1, 2, 3, 4, 5})
		c.NetConn().Close()
	}})
	var out bytes.Buffer
	res, err := fetch(t.Context(), srv.Addr, &out, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	if res.ending != truncated {
		t.Errorf("ending = %v, want truncated", res.ending)
	}
	if !strings.HasSuffix(out.String(), "partial") {
		t.Errorf("response = %q", out.String())
	}
}
