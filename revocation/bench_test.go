package revocation

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// The benchmarks compare alternatives inside one run, iteration by
// iteration, and report ratios: the machine is noisy, ratios less so.
//
//	go test ./revocation -run '^$' -bench . -benchtime 2000x

// oBenchDialers are the three ways BenchmarkHandshake dials the same
// server: plain crypto/tls, tlsclient without extra verifiers, and
// tlsclient with revocation.New(), its caches warm.
type oBenchDialers struct {
	addr    string
	plain   *tls.Config
	bare    *tlsclient.Dialer
	revoked *tlsclient.Dialer
}

func oNewBenchDialers(b *testing.B) (*oBenchDialers, *oPKI) {
	p := oNewPKI(b, oOptions{})
	srv := p.serve(b, p.goodStaple(b))
	clock := testpki.Clock()
	plain := &tls.Config{RootCAs: p.root.Pool(), Time: clock, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	// No session cache anywhere: every iteration is a full handshake.
	bare, err := tlsclient.New(tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(clock), tlsclient.WithSessionCache(nil))
	if err != nil {
		b.Fatal(err)
	}
	rev, err := tlsclient.New(tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(clock), tlsclient.WithSessionCache(nil),
		tlsclient.WithVerifiers(New()))
	if err != nil {
		b.Fatal(err)
	}
	return &oBenchDialers{addr: srv.Addr, plain: plain, bare: bare, revoked: rev}, p
}

func (d *oBenchDialers) dialPlain(b *testing.B) {
	c, err := tls.Dial("tcp", d.addr, d.plain)
	if err != nil {
		b.Fatal(err)
	}
	if len(c.ConnectionState().OCSPResponse) == 0 {
		b.Fatal("no staple")
	}
	c.Close()
}

func (d *oBenchDialers) dial(b *testing.B, t *tlsclient.Dialer) {
	c, err := t.Dial("tcp", d.addr)
	if err != nil {
		b.Fatal(err)
	}
	c.Close()
}

// BenchmarkHandshake: a full handshake (no resumption) on loopback with a
// stapled leaf and an intermediate whose OCSP response is cached, with
// revocation.New(), against plain crypto/tls on the same server. The
// three are interleaved in each iteration; the metrics are the median ns
// per handshake and the overheads in percent of the medians: of tlsclient
// itself over plain crypto/tls, of revocation.New() over plain crypto/tls
// (the target: revocation-overhead-% <= 3), and of the verifier alone
// (tlsclient with New() over tlsclient without it).
func BenchmarkHandshake(b *testing.B) {
	d, p := oNewBenchDialers(b)
	// Warm up: caches filled, the responder asked once for the
	// intermediate (the leaf is decided by its staple).
	for range 20 {
		d.dialPlain(b)
		d.dial(b, d.bare)
		d.dial(b, d.revoked)
	}
	if hits, _ := p.resp.Hits(); hits != 1 {
		b.Fatalf("warm-up: %d responder hits, want 1", hits)
	}
	times := [3][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Rotate the order, so that no variant always follows another.
		for k := range 3 {
			v := (i + k) % 3
			start := time.Now()
			switch v {
			case 0:
				d.dialPlain(b)
			case 1:
				d.dial(b, d.bare)
			case 2:
				d.dial(b, d.revoked)
			}
			times[v] = append(times[v], time.Since(start))
		}
	}
	b.StopTimer()
	if hits, _ := p.resp.Hits(); hits != 1 {
		b.Errorf("%d responder hits: the warm path fetched", hits)
	}
	// Medians resist the load spikes of a shared machine; means are
	// reported too.
	plain, bare, rev := oMedian(times[0]), oMedian(times[1]), oMedian(times[2])
	b.ReportMetric(float64(plain.Nanoseconds()), "plain-median-ns/hs")
	b.ReportMetric(float64(rev.Nanoseconds()), "revocation-median-ns/hs")
	b.ReportMetric(100*(float64(bare)/float64(plain)-1), "tlsclient-overhead-%")
	b.ReportMetric(100*(float64(rev)/float64(plain)-1), "revocation-overhead-%")
	b.ReportMetric(100*(float64(rev)/float64(bare)-1), "verifier-overhead-%")
	b.ReportMetric(100*(float64(oMean(times[2]))/float64(oMean(times[0]))-1), "revocation-mean-overhead-%")
}

// oMedian and oMean summarise durations.
func oMedian(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func oMean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// BenchmarkHandshakePlain and BenchmarkHandshakeRevocation are the two ends
// of BenchmarkHandshake on their own, for profiling
// (-cpuprofile with -bench HandshakeRevocation).
func BenchmarkHandshakePlain(b *testing.B) {
	d, _ := oNewBenchDialers(b)
	b.ResetTimer()
	for range b.N {
		d.dialPlain(b)
	}
}

func BenchmarkHandshakeRevocation(b *testing.B) {
	d, _ := oNewBenchDialers(b)
	d.dial(b, d.revoked)
	b.ResetTimer()
	for range b.N {
		d.dial(b, d.revoked)
	}
}

// BenchmarkColdChain: a chain of three certificates (leaf and two
// intermediates, no staple) whose responder answers after a fixed delay,
// each iteration with new, cold caches. The certificates are checked in
// parallel, so a dial costs about one delay: delays/dial should be close
// to 1, not 3.
func BenchmarkColdChain(b *testing.B) {
	resp := testpki.NewOCSPResponder(nil)
	b.Cleanup(resp.Close)
	certs := oLongChain(b, resp.URL)
	resp.SetAnswer(oGoodFor(certs))
	const delay = 50 * time.Millisecond
	resp.SetDelay(delay)
	srv, err := testpki.StartServer(testpki.ServerOptions{Cert: certs[0]})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	pool := certs[3].Pool()
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		c, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(pool), tlsclient.WithTime(testpki.Clock()),
			tlsclient.WithVerifiers(New()))
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
		total += time.Since(start)
	}
	b.StopTimer()
	if hits, _ := resp.Hits(); hits != int64(3*b.N) {
		b.Errorf("%d responder hits for %d cold dials of 3 certificates", hits, b.N)
	}
	b.ReportMetric(float64(total)/float64(b.N)/float64(delay), "delays/dial")
}

// BenchmarkOCSPVerdict: checking a certificate against a cached response,
// with the verdict cache (what a warm dial pays) and without it (a
// signature check every time). The ratio is what the verdict cache saves.
func BenchmarkOCSPVerdict(b *testing.B) {
	p := oNewPKI(b, oOptions{})
	der := p.goodStaple(b)
	chain := []*x509.Certificate{p.leaf.Cert, p.inter.Cert, p.root.Cert}
	v := Stapled()
	st := oState(chain, der)
	if err := v.Verify(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	var warm, cold time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := v.Verify(context.Background(), oState(chain, der)); err != nil {
			b.Fatal(err)
		}
		warm += time.Since(start)
		start = time.Now()
		if _, err := ocspcheck.Validate(der, p.leaf.Cert, p.inter.Cert, testpki.Now, ocspcheck.Options{}); err != nil {
			b.Fatal(err)
		}
		cold += time.Since(start)
	}
	b.ReportMetric(float64(warm.Nanoseconds())/float64(b.N), "warm-ns/check")
	b.ReportMetric(float64(cold.Nanoseconds())/float64(b.N), "validate-ns/check")
	b.ReportMetric(float64(cold)/float64(warm), "speedup")
}
