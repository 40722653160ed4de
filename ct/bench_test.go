package ct

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// BenchmarkHandshake compares, in one run, full TLS handshakes (session
// resumption disabled) with a plain crypto/tls client and with the same
// client running the CT verifier (warm cache) in VerifyConnection, against
// the same testpki server. The two kinds alternate, so that drift affects
// both alike; ct/plain is the ratio of their mean times (the target is
// under 1.02), and verify/plain the time spent inside the verifier over the
// plain handshakes' time, which measures the same overhead without the
// noise of comparing two handshakes. The tlsclient-dialer pair does the same through
// tlsclient.Dialer, with and without the verifier.
func BenchmarkHandshake(b *testing.B) {
	w := getWorld(b)
	cert := w.leaf(b, 90*day, w.emb("A1", "B1", "C1")...)
	srv, err := testpki.StartServer(testpki.ServerOptions{Cert: cert.Cert, Handler: func(c *tls.Conn) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	v := New(w.list)

	plain := &tls.Config{RootCAs: w.root.Pool(), ServerName: "localhost", Time: testpki.Clock()}
	withCT := plain.Clone()
	var inVerify time.Duration // time spent in the verifier (one goroutine at a time)
	withCT.VerifyConnection = func(cs tls.ConnectionState) error {
		start := time.Now()
		err := v.Verify(context.Background(), &tlsclient.State{ConnectionState: cs, Now: testpki.Now})
		inVerify += time.Since(start)
		return err
	}
	handshake := func(cfg *tls.Config) time.Duration {
		start := time.Now()
		raw, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			b.Fatal(err)
		}
		c := tls.Client(raw, cfg)
		if err := c.Handshake(); err != nil {
			b.Fatal(err)
		}
		c.Close()
		return time.Since(start)
	}
	dialer := func(vs ...tlsclient.Verifier) *tlsclient.Dialer {
		d, err := tlsclient.New(tlsclient.WithRootCAs(w.root.Pool()), tlsclient.WithTime(testpki.Clock()),
			tlsclient.WithSessionCache(nil), tlsclient.WithServerName("localhost"), tlsclient.WithVerifiers(vs...))
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	dPlain, dCT := dialer(), dialer(v)
	dial := func(d *tlsclient.Dialer) time.Duration {
		start := time.Now()
		c, err := d.Dial("tcp", srv.Addr)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
		return time.Since(start)
	}
	// Warm up: caches, connections, the scheduler.
	for range 20 {
		handshake(plain)
		handshake(withCT)
		dial(dPlain)
		dial(dCT)
	}

	b.Run("crypto-tls", func(b *testing.B) {
		var tPlain, tCT time.Duration
		inVerify = 0
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				tPlain += handshake(plain)
				tCT += handshake(withCT)
			} else {
				tCT += handshake(withCT)
				tPlain += handshake(plain)
			}
		}
		b.ReportMetric(float64(tPlain.Nanoseconds())/float64(b.N), "plain-ns/hs")
		b.ReportMetric(float64(tCT.Nanoseconds())/float64(b.N), "ct-ns/hs")
		b.ReportMetric(float64(tCT)/float64(tPlain), "ct/plain")
		// The verifier's own time against a plain handshake: the same
		// overhead, without the scheduling noise of two handshakes.
		b.ReportMetric(float64(inVerify)/float64(tPlain), "verify/plain")
	})
	b.Run("tlsclient-dialer", func(b *testing.B) {
		var tPlain, tCT time.Duration
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				tPlain += dial(dPlain)
				tCT += dial(dCT)
			} else {
				tCT += dial(dCT)
				tPlain += dial(dPlain)
			}
		}
		b.ReportMetric(float64(tPlain.Nanoseconds())/float64(b.N), "plain-ns/hs")
		b.ReportMetric(float64(tCT.Nanoseconds())/float64(b.N), "ct-ns/hs")
		b.ReportMetric(float64(tCT)/float64(tPlain), "ct/plain")
	})
}

// BenchmarkVerifyWarm is the verifier alone on a warm cache: what a
// repeated handshake adds.
func BenchmarkVerifyWarm(b *testing.B) {
	w := getWorld(b)
	cert := w.leaf(b, 90*day, w.emb("A1", "B1", "C1")...)
	v := New(w.list)
	cs := w.state(cert, nil, nil).ConnectionState
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(ctx, &tlsclient.State{ConnectionState: cs, Now: testpki.Now}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCold verifies three SCTs' signatures each time.
func BenchmarkVerifyCold(b *testing.B) {
	w := getWorld(b)
	cert := w.leaf(b, 90*day, w.emb("A1", "B1", "C1")...)
	cs := w.state(cert, nil, nil).ConnectionState
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v := New(w.list)
		if err := v.Verify(ctx, &tlsclient.State{ConnectionState: cs, Now: testpki.Now}); err != nil {
			b.Fatal(err)
		}
	}
}
