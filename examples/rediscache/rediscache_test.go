package rediscache

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/revocation"
)

// startRedis starts a throwaway redis-server on 127.0.0.1 for the test,
// without persistence, and returns a client for it. The test is skipped
// when redis-server is not installed (.ci/run installs it).
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not on PATH (apt-get install redis-server); skipping the tests against a real Redis")
	}
	var addr string
	var cmd *exec.Cmd
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		cmd = exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", t.TempDir(), "--logfile", "")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr = net.JoinHostPort("127.0.0.1", port)
		if waitForRedis(addr, cmd) {
			break
		}
		cmd.Process.Kill()
		cmd.Wait()
		cmd = nil
	}
	if cmd == nil {
		t.Fatal("redis-server did not start")
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	rdb := newClient(addr)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func newClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
		DialerRetries: 1, MaxRetries: -1})
}

// freePort returns a port nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// waitForRedis waits up to 10s for a PONG, and gives up early when the
// process exits (the port was taken).
func waitForRedis(addr string, cmd *exec.Cmd) bool {
	exited := make(chan struct{})
	go func() {
		cmd.Process.Wait()
		close(exited)
	}()
	rdb := newClient(addr)
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestCache(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	ctx := t.Context()
	c := New(rdb, WithPrefix("test:"))
	if _, ok := c.Get(ctx, "missing"); ok {
		t.Error("hit on a missing key")
	}
	c.Put(ctx, "k", []byte("v1"), time.Minute)
	if v, ok := c.Get(ctx, "k"); !ok || string(v) != "v1" {
		t.Errorf("Get = %q, %v", v, ok)
	}
	if n, err := rdb.Exists(ctx, "test:k").Result(); err != nil || n != 1 {
		t.Errorf("the key is not stored under its prefix: %d, %v", n, err)
	}
	if ttl := rdb.PTTL(ctx, "test:k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("PTTL = %s, want (0, 1m]", ttl)
	}
	c.Put(ctx, "zero", []byte("x"), 0)
	if _, ok := c.Get(ctx, "zero"); ok {
		t.Error("a zero ttl was stored")
	}
	c.Put(ctx, "short", []byte("x"), 50*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := c.Get(ctx, "short"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the entry did not expire")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCacheLocalTier(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	ctx := t.Context()
	writer := New(rdb)
	writer.Put(ctx, "k", []byte("shared"), time.Minute)

	reader := New(rdb, WithLocal(1<<20))
	if v, ok := reader.Get(ctx, "k"); !ok || string(v) != "shared" {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	// Now held locally: Redis is not asked again.
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if v, ok := reader.Get(ctx, "k"); !ok || string(v) != "shared" {
		t.Errorf("local tier: Get = %q, %v", v, ok)
	}
	if _, ok := writer.Get(ctx, "k"); ok {
		t.Error("flushed entry still in Redis")
	}
}

// TestCacheErrors: a Redis that is down makes misses, not failures.
func TestCacheErrors(t *testing.T) {
	t.Parallel()
	var errs atomic.Int64
	rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", freePort(t)), DialTimeout: 200 * time.Millisecond,
		DialerRetries: 1, MaxRetries: -1})
	defer rdb.Close()
	for _, c := range []*Cache{New(rdb, WithErrorHandler(func(error) { errs.Add(1) })), New(rdb, WithLocal(0), WithErrorHandler(func(error) { errs.Add(1) }))} {
		if _, ok := c.Get(t.Context(), "k"); ok {
			t.Error("hit with Redis down")
		}
		c.Put(t.Context(), "k", []byte("v"), time.Minute)
	}
	if errs.Load() != 4 {
		t.Errorf("%d errors reported, want 4", errs.Load())
	}
}

// TestFleet: two clients (two processes of a fleet, each with its own Redis
// client and verifier) share the CRL the first one downloaded.
func TestFleet(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	now := time.Date(2026, time.January, 15, 12, 0, 0, 0, time.UTC)
	w := newWorld(t, now)

	var fetched []int64
	for i := range 2 {
		peer := newClient(rdb.Options().Addr) // another process's client
		t.Cleanup(func() { peer.Close() })
		var hits atomic.Int64
		d, err := tlsclient.New(
			tlsclient.WithRootCAs(w.roots),
			tlsclient.WithServerName("localhost"),
			tlsclient.WithTime(func() time.Time { return now }),
			tlsclient.WithVerifiers(revocation.CRL(revocation.WithCache(New(peer)))),
			tlsclient.WithObserver(func(_ context.Context, ev tlsclient.Event) {
				if ev.Kind == tlsclient.EventCacheHit {
					hits.Add(1)
				}
			}),
		)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := d.Dial("tcp", w.addr)
		if err != nil {
			t.Fatalf("client %d: %v", i+1, err)
		}
		rep := conn.Report()
		conn.Close()
		if !rep.OK() {
			t.Fatalf("client %d: %v", i+1, rep)
		}
		fetched = append(fetched, w.crlHits.Load())
		if i == 1 && hits.Load() != 1 {
			t.Errorf("client 2 saw %d cache hits, want 1", hits.Load())
		}
	}
	if fetched[0] != 1 || fetched[1] != 1 {
		t.Errorf("CRL downloads after each client: %v, want [1 1]", fetched)
	}
}

// world is a CA whose leaf names a CRL distribution point, the CRL server
// and a TLS server, all on 127.0.0.1, minted with crypto/x509.
type world struct {
	roots   *x509.CertPool
	addr    string
	crlHits atomic.Int64
}

func newWorld(t *testing.T, now time.Time) *world {
	t.Helper()
	w := &world{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Fleet Root CA"},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	must(err)
	ca, err := x509.ParseCertificate(caDER)
	must(err)
	w.roots = x509.NewCertPool()
	w.roots.AddCert(ca)

	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour)}, ca, caKey)
	must(err)
	crlSrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		w.crlHits.Add(1)
		rw.Header().Set("Content-Type", "application/pkix-crl")
		rw.Write(crl)
	}))
	t.Cleanup(crlSrv.Close)

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 0, 30),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		CRLDistributionPoints: []string{crlSrv.URL + "/root.crl"}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, leafKey.Public(), caKey)
	must(err)

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}})
	must(err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil && !errors.Is(err, net.ErrClosed) {
					return
				}
				c.Read(make([]byte, 1)) // until the client closes
			}()
		}
	}()
	w.addr = ln.Addr().String()
	return w
}
