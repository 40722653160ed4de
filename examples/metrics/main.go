// Command metrics shows how to turn tlsclient's events into metrics with
// tlsclient.WithObserver, here with the standard library's expvar counters
// (served at /debug/vars by any program that imports expvar and runs an
// HTTP server). The same observer, a dozen lines, feeds Prometheus or
// OpenTelemetry: see the comments on observe. tlsclient itself depends on
// neither.
//
// It runs offline: an in-process CA, an OCSP responder and two TLS servers
// on 127.0.0.1, one good, one whose certificate the responder says is
// revoked. It dials each a few times through one Dialer with
// revocation.New, then prints the counters as JSON:
//
//	go run ./examples/metrics
//
// handshakes counts verified and refused handshakes; decisions counts the
// checks of their Reports by verifier and outcome; fetches counts HTTP
// requests by source and status (the first dial asks the responder, the
// next ones find its answer in the cache); cache counts lookups by source
// and result; fetch_bytes sums the bytes fetched by source.
package main

import (
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
	"golang.org/x/crypto/ocsp"
)

func main() {
	m := newMetrics()
	// A real program publishes the counters once, at start-up, and serves
	// them with net/http (import _ "net/http/pprof" or expvar.Handler).
	expvar.Publish("tlsclient", m.root)
	if err := run(m, 3); err != nil {
		log.Fatal(err)
	}
	if err := m.print(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// metrics are the counters, in an expvar.Map of expvar.Maps. They are not
// package-level: each Dialer (or test) may have its own.
type metrics struct {
	root       *expvar.Map
	handshakes *expvar.Map   // by outcome: pass, fail
	decisions  *expvar.Map   // by "verifier outcome"
	fetches    *expvar.Map   // by "source status"
	fetchBytes *expvar.Map   // by source
	fetchTime  *expvar.Float // seconds spent fetching, summed
	cache      *expvar.Map   // by "source hit|miss"
}

func newMetrics() *metrics {
	m := &metrics{
		root:       new(expvar.Map).Init(),
		handshakes: new(expvar.Map).Init(),
		decisions:  new(expvar.Map).Init(),
		fetches:    new(expvar.Map).Init(),
		fetchBytes: new(expvar.Map).Init(),
		fetchTime:  new(expvar.Float),
		cache:      new(expvar.Map).Init(),
	}
	m.root.Set("handshakes", m.handshakes)
	m.root.Set("decisions", m.decisions)
	m.root.Set("fetches", m.fetches)
	m.root.Set("fetch_bytes", m.fetchBytes)
	m.root.Set("fetch_seconds", m.fetchTime)
	m.root.Set("cache", m.cache)
	return m
}

// observe is the tlsclient.Observer. It runs inside handshakes, so it only
// increments counters. With Prometheus it would read, for instance:
//
//	case tlsclient.EventFetchDone:
//		fetches.WithLabelValues(ev.Source, strconv.Itoa(ev.Status)).Inc()
//		fetchSeconds.WithLabelValues(ev.Source).Observe(ev.Duration.Seconds())
//
// Keep labels bounded: Source, Status, Verifier and Outcome are; ServerName,
// Subject and URL are not (they are for logs, see tlsclient.WithLogger).
func (m *metrics) observe(_ context.Context, ev tlsclient.Event) {
	switch ev.Kind {
	case tlsclient.EventHandshake:
		m.handshakes.Add(ev.Outcome.String(), 1)
	case tlsclient.EventDecision:
		m.decisions.Add(ev.Verifier+" "+ev.Outcome.String(), 1)
	case tlsclient.EventFetchDone:
		status := strconv.Itoa(ev.Status)
		if ev.Status == 0 {
			status = "error" // no HTTP response: refused, timed out...
		}
		m.fetches.Add(ev.Source+" "+status, 1)
		m.fetchBytes.Add(ev.Source, ev.Bytes)
		m.fetchTime.Add(ev.Duration.Seconds())
	case tlsclient.EventCacheHit:
		m.cache.Add(ev.Source+" hit", 1)
	case tlsclient.EventCacheMiss:
		m.cache.Add(ev.Source+" miss", 1)
	}
}

// print writes the counters as indented JSON, without the time spent
// fetching (which differs from run to run).
func (m *metrics) print(w io.Writer) error {
	out := map[string]json.RawMessage{}
	m.root.Do(func(kv expvar.KeyValue) {
		if kv.Key != "fetch_seconds" {
			out[kv.Key] = json.RawMessage(kv.Value.String())
		}
	})
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// run dials a good and a revoked server n times each through one Dialer
// that reports to m.
func run(m *metrics, n int) error {
	env, err := newEnv()
	if err != nil {
		return err
	}
	defer env.close()

	d, err := tlsclient.New(
		tlsclient.WithRootCAs(env.root.Pool()),
		tlsclient.WithServerName("localhost"),
		tlsclient.WithTime(testpki.Clock()), // the in-process PKI's fixed time
		tlsclient.WithVerifiers(revocation.New()),
		tlsclient.WithObserver(m.observe),
	)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range n {
		for _, addr := range []string{env.good.Addr, env.revoked.Addr} {
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				conn.Close()
			}
			// A refusal is counted by the observer; a real program
			// would also handle it here.
		}
	}
	return nil
}

// env is the offline world: a CA whose certificates name an OCSP
// responder, and two servers.
type env struct {
	root          *testpki.Cert
	responder     *testpki.OCSPResponder
	good, revoked *testpki.Server
}

func newEnv() (*env, error) {
	e := &env{responder: testpki.NewOCSPResponder(nil)}
	aia := []string{e.responder.URL}
	var err error
	if e.root, err = testpki.NewRoot(testpki.CertOptions{CommonName: "Metrics Example Root CA"}); err != nil {
		return nil, err
	}
	inter, err := e.root.NewIntermediate(testpki.CertOptions{CommonName: "Metrics Example CA", OCSPServers: aia})
	if err != nil {
		return nil, err
	}
	good, err := inter.Issue(testpki.CertOptions{OCSPServers: aia})
	if err != nil {
		return nil, err
	}
	revoked, err := inter.Issue(testpki.CertOptions{OCSPServers: aia})
	if err != nil {
		return nil, err
	}
	e.responder.SetAnswer(func(req *ocsp.Request, _ []byte) []byte {
		var (
			der []byte
			err error
		)
		switch {
		case req.SerialNumber.Cmp(inter.Cert.SerialNumber) == 0:
			der, err = e.root.OCSPGood(inter)
		case req.SerialNumber.Cmp(good.Cert.SerialNumber) == 0:
			der, err = inter.OCSPGood(good)
		case req.SerialNumber.Cmp(revoked.Cert.SerialNumber) == 0:
			der, err = inter.OCSPRevoked(revoked, testpki.Now.Add(-24*time.Hour), int(tlsclient.ReasonKeyCompromise))
		}
		if err != nil {
			return nil
		}
		return der
	})
	if e.good, err = testpki.StartServer(testpki.ServerOptions{Cert: good}); err != nil {
		e.close()
		return nil, err
	}
	if e.revoked, err = testpki.StartServer(testpki.ServerOptions{Cert: revoked}); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) close() {
	for _, s := range []*testpki.Server{e.good, e.revoked} {
		if s != nil {
			s.Close()
		}
	}
	e.responder.Close()
}
