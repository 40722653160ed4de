package bench

import (
	"crypto/tls"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// BenchmarkColdChain: a cold dial of a chain whose responder is slow (see
// the package documentation).
//
//	go test ./bench -run '^$' -bench ColdChain -benchtime 20x
func BenchmarkColdChain(b *testing.B) { coldChain(benchRun(b), 50*time.Millisecond) }

// BenchmarkConcurrentColdDials: 64 concurrent dials through one cold
// Dialer (see the package documentation).
func BenchmarkConcurrentColdDials(b *testing.B) {
	concurrentCold(benchRun(b), 64, 20*time.Millisecond)
}

// coldClient is the HTTP client of the cold verifiers: one transport, its
// idle connections closed after each dial, so that every dial connects
// afresh and none leak.
func coldClient() (*http.Client, *http.Transport) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: tr}, tr
}

// closingServer starts a TLS server for leaf that closes each connection
// after the handshake.
func closingServer(tb testing.TB, leaf *testpki.Cert) *testpki.Server {
	tb.Helper()
	srv, err := testpki.StartServer(testpki.ServerOptions{Cert: leaf, Handler: func(c *tls.Conn) { c.Close() }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Close)
	return srv
}

func plainDial(addr string, cfg *tls.Config) error {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = io.Copy(io.Discard, c)
	return err
}

func tlsclientDial(d *tlsclient.Dialer, addr string) error {
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = io.Copy(io.Discard, c)
	return err
}

// coldDialer returns a new Dialer trusting root, with a new revocation.New()
// fetching through client: nothing cached.
func coldDialer(tb testing.TB, root *testpki.Cert, client *http.Client) *tlsclient.Dialer {
	tb.Helper()
	d, err := tlsclient.New(tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithServerName(serverName), tlsclient.WithSessionCache(nil),
		tlsclient.WithVerifiers(revocation.New(revocation.WithHTTPClient(client))))
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// coldChain dials, r.n times, a server whose chain is leaf, two
// intermediates and a root, each of the three below the root with the same
// OCSP responder, which answers after delay; every dial has a new Dialer and
// verifier, so nothing is cached. Plain crypto/tls dials alternate with
// them.
func coldChain(r *run, delay time.Duration) {
	resp := testpki.NewOCSPResponder(nil)
	r.Cleanup(resp.Close)
	urls := []string{resp.URL}
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Cold Root"}))
	i1 := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "Cold Intermediate 1", OCSPServers: urls}))
	i2 := testpki.Must(i1.NewIntermediate(testpki.CertOptions{CommonName: "Cold Intermediate 2", OCSPServers: urls}))
	leaf := testpki.Must(i2.Issue(testpki.CertOptions{OCSPServers: urls}))
	resp.SetAnswer(goodFor(leaf, i2, i1))
	resp.SetDelay(delay)
	srv := closingServer(r, leaf)
	client, tr := coldClient()
	plain := &tls.Config{RootCAs: root.Pool(), ServerName: serverName, Time: testpki.Clock()}

	var tc, tp []time.Duration
	r.resetTimer()
	for i := range r.n {
		for k := range 2 {
			start := time.Now()
			if (i+k)%2 == 0 {
				if err := tlsclientDial(coldDialer(r, root, client), srv.Addr); err != nil {
					r.Fatal(err)
				}
				tc = append(tc, time.Since(start))
				tr.CloseIdleConnections()
			} else {
				if err := plainDial(srv.Addr, plain); err != nil {
					r.Fatal(err)
				}
				tp = append(tp, time.Since(start))
			}
		}
	}
	r.stopTimer()
	if hits, _ := resp.Hits(); hits != int64(3*r.n) {
		r.Fatalf("%d OCSP requests for %d cold dials of 3 certificates", hits, r.n)
	}
	mc, mp := median(tc), median(tp)
	r.metric(float64(mc)/float64(delay), "delays/dial")
	r.metric(float64(mc-mp)/float64(delay), "extra-delays/dial")
	r.metric(float64(mc.Nanoseconds()), "ns/dial")
	r.metric(float64(mp.Nanoseconds()), "plain-ns/dial")
}

// concurrentCold makes, r.n times, a batch of n concurrent dials through
// one new Dialer (cold caches) to one server, whose leaf is checked
// against its issuer's CRL and whose intermediate by OCSP, both served
// after delay; and a batch of n concurrent plain crypto/tls dials.
func concurrentCold(r *run, n int, delay time.Duration) {
	resp := testpki.NewOCSPResponder(nil)
	r.Cleanup(resp.Close)
	files := testpki.NewFileServer()
	r.Cleanup(files.Close)
	const crlPath = "/intermediate.crl"
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Concurrent Root"}))
	inter := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "Concurrent Intermediate", OCSPServers: []string{resp.URL}}))
	leaf := testpki.Must(inter.Issue(testpki.CertOptions{CRLDistributionPoints: []string{files.URLFor(crlPath)}}))
	files.Set(crlPath, testpki.Must(inter.CRL(testpki.CRLOptions{})), testpki.Now.Add(-time.Hour))
	resp.SetAnswer(goodFor(inter))
	resp.SetDelay(delay)
	files.SetDelay(delay)
	srv := closingServer(r, leaf)
	client, tr := coldClient()
	plain := &tls.Config{RootCAs: root.Pool(), ServerName: serverName, Time: testpki.Clock()}
	const urls = 2 // the CRL and the intermediate's OCSP request

	batch := func(dial func() error) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				if err := dial(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			r.Fatal(err)
		}
		return time.Since(start)
	}
	var tc, tp []time.Duration
	var fetches []float64
	r.resetTimer()
	for i := range r.n {
		for k := range 2 {
			if (i+k)%2 == 0 {
				ocspBefore, _ := resp.Hits()
				crlBefore := files.Hits(crlPath)
				d := coldDialer(r, root, client)
				tc = append(tc, batch(func() error { return tlsclientDial(d, srv.Addr) }))
				ocspAfter, _ := resp.Hits()
				got := float64(ocspAfter-ocspBefore+files.Hits(crlPath)-crlBefore) / urls
				fetches = append(fetches, got)
				tr.CloseIdleConnections()
			} else {
				tp = append(tp, batch(func() error { return plainDial(srv.Addr, plain) }))
			}
		}
	}
	r.stopTimer()
	mc, mp := median(tc), median(tp)
	r.metric(medianFloat(fetches), "fetches/URL")
	r.metric(slices.Max(fetches), "max-fetches/URL")
	r.metric(float64(mc.Nanoseconds()), "ns/batch")
	r.metric(float64(mp.Nanoseconds()), "plain-ns/batch")
	r.metric(float64(mc)/float64(mp), "batch/plain")
	r.metric(float64(mc-mp)/float64(delay), "extra-delays/batch")
}
