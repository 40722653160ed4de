package bench

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// A run is one execution of a benchmark body: n iterations, whose metrics
// go to the benchmark, or, in a quick test (TestFixtures), to the log and
// to metrics, for the checks that do not depend on timing.
type run struct {
	testing.TB
	n       int
	b       *testing.B // nil in a test
	metrics map[string]float64
}

func benchRun(b *testing.B) *run {
	return &run{TB: b, n: b.N, b: b, metrics: map[string]float64{}}
}

func testRun(t *testing.T, n int) *run {
	return &run{TB: t, n: n, metrics: map[string]float64{}}
}

// metric reports v in unit.
func (r *run) metric(v float64, unit string) {
	r.metrics[unit] = v
	if r.b != nil {
		r.b.ReportMetric(v, unit)
		return
	}
	r.Logf("%-22s %.4g", unit, v)
}

// resetTimer and stopTimer bracket the measured loop of a benchmark.
func (r *run) resetTimer() {
	if r.b != nil {
		r.b.ResetTimer()
	}
}

func (r *run) stopTimer() {
	if r.b != nil {
		r.b.StopTimer()
	}
}

func (r *run) startTimer() {
	if r.b != nil {
		r.b.StartTimer()
	}
}

// median returns the median of ds (the mean of the middle two when even).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func medianFloat(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// overhead is how much slower a is than base, in percent.
func overhead(a, base time.Duration) float64 {
	return 100 * (float64(a)/float64(base) - 1)
}

// allocsPer returns the mean number of heap allocations of f over n calls,
// counted by the runtime for the whole process (what testing.AllocsPerRun
// does, for a function that may fail).
func allocsPer(tb testing.TB, n int, f func() error) float64 {
	tb.Helper()
	if err := f(); err != nil { // warm: a first call may allocate caches
		tb.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		if err := f(); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(n)
}

// world is the PKI of the handshake benchmarks: a root, an intermediate
// whose OCSP responder is resp, and a leaf (ECDSA P-256, valid 90 days)
// with three embedded SCTs from logs of three operators and the same
// responder in its AIA; the server staples a good response for the leaf.
type world struct {
	root, inter *testpki.Cert
	leaf        *testpki.CTCert
	staple      []byte
	resp        *testpki.OCSPResponder
	list        *ct.LogList
	srv         *testpki.Server
}

// newWorld builds the PKI and starts its OCSP responder and TLS server,
// stopped when tb ends. The server closes each connection, with
// close_notify, right after the handshake.
func newWorld(tb testing.TB) *world {
	tb.Helper()
	w := &world{}
	w.resp = testpki.NewOCSPResponder(nil)
	tb.Cleanup(w.resp.Close)
	var err error
	if w.root, err = testpki.NewRoot(testpki.CertOptions{CommonName: "Bench Root"}); err != nil {
		tb.Fatal(err)
	}
	if w.inter, err = w.root.NewIntermediate(testpki.CertOptions{CommonName: "Bench Intermediate", OCSPServers: []string{w.resp.URL}}); err != nil {
		tb.Fatal(err)
	}
	var logs []*testpki.CTLog
	var embeds []testpki.Embed
	for _, op := range []string{"A", "B", "C"} {
		l, err := testpki.NewCTLog("Bench log "+op, "Operator "+op, testpki.ECDSAP256)
		if err != nil {
			tb.Fatal(err)
		}
		logs = append(logs, l)
		embeds = append(embeds, testpki.Embed{Log: l})
	}
	if w.leaf, err = w.inter.IssueWithSCTs(testpki.CertOptions{OCSPServers: []string{w.resp.URL}}, embeds...); err != nil {
		tb.Fatal(err)
	}
	listJSON, err := testpki.CTLogList(testpki.Now.Add(-24*time.Hour), logs...)
	if err != nil {
		tb.Fatal(err)
	}
	if w.list, err = ct.ParseLogList(listJSON); err != nil {
		tb.Fatal(err)
	}
	if w.staple, err = w.inter.OCSPGood(w.leaf.Cert); err != nil {
		tb.Fatal(err)
	}
	w.resp.SetAnswer(goodFor(w.leaf.Cert, w.inter))
	w.srv, err = testpki.StartServer(testpki.ServerOptions{Cert: w.leaf.Cert, Staple: w.staple,
		Handler: func(c *tls.Conn) { c.Close() }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(w.srv.Close)
	return w
}

// goodFor answers "good", signed by the issuer, for any of certs.
func goodFor(certs ...*testpki.Cert) func(*ocsp.Request, []byte) []byte {
	return func(req *ocsp.Request, _ []byte) []byte {
		for _, c := range certs {
			if c.Issuer != nil && c.Cert.SerialNumber.Cmp(req.SerialNumber) == 0 {
				return testpki.Must((&testpki.OCSPResponse{Signer: c.Issuer, Responses: []testpki.Single{{
					Cert: c.Cert, Issuer: c.Issuer.Cert, Status: testpki.StatusGood,
					ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(24 * time.Hour)}}}).Marshal())
			}
		}
		return nil
	}
}

// chain is the verified chain, leaf first.
func (w *world) chain() []*x509.Certificate {
	return []*x509.Certificate{w.leaf.Cert.Cert, w.inter.Cert, w.root.Cert}
}

// state is a hand-built State as VerifyConnection would see it.
func (w *world) state() *tlsclient.State {
	return &tlsclient.State{ConnectionState: w.connState(), Now: testpki.Now}
}

func (w *world) connState() tls.ConnectionState {
	chain := w.chain()
	return tls.ConnectionState{
		Version:           tls.VersionTLS13,
		HandshakeComplete: true,
		ServerName:        "localhost",
		PeerCertificates:  chain[:2],
		VerifiedChains:    [][]*x509.Certificate{chain},
		OCSPResponse:      w.staple,
	}
}

// A variant is one way to dial the world's server.
type variant struct {
	name string
	dial func() (resumed bool, err error)
}

// serverName is what every variant verifies; they dial 127.0.0.1.
const serverName = "localhost"

// plain returns the crypto/tls variant: tls.Dial with a Config as its
// documentation suggests, and a session cache when sessions is set.
func (w *world) plain(sessions bool) variant {
	cfg := &tls.Config{RootCAs: w.root.Pool(), ServerName: serverName, Time: testpki.Clock()}
	if sessions {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return variant{name: "plain", dial: func() (bool, error) {
		c, err := tls.Dial("tcp", w.srv.Addr, cfg)
		if err != nil {
			return false, err
		}
		defer c.Close()
		// Read to the server's close_notify: what an application does,
		// and how a TLS 1.3 client receives its session ticket.
		if _, err := io.Copy(io.Discard, c); err != nil {
			return false, err
		}
		return c.ConnectionState().DidResume, nil
	}}
}

// tlsclientVariant returns a variant dialling through a tlsclient.Dialer
// with verifiers vs, its default session cache when sessions is set.
func (w *world) tlsclientVariant(tb testing.TB, name string, sessions bool, vs ...tlsclient.Verifier) variant {
	tb.Helper()
	d := w.dialer(tb, sessions, vs...)
	return variant{name: name, dial: func() (bool, error) {
		c, err := d.Dial("tcp", w.srv.Addr)
		if err != nil {
			return false, err
		}
		defer c.Close()
		if _, err := io.Copy(io.Discard, c); err != nil {
			return false, err
		}
		if !c.Report().OK() {
			return false, errors.New("report not OK")
		}
		return c.ConnectionState().DidResume, nil
	}}
}

func (w *world) dialer(tb testing.TB, sessions bool, vs ...tlsclient.Verifier) *tlsclient.Dialer {
	tb.Helper()
	opts := []tlsclient.Option{tlsclient.WithRootCAs(w.root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithServerName(serverName)}
	if !sessions {
		opts = append(opts, tlsclient.WithSessionCache(nil))
	}
	if len(vs) > 0 {
		opts = append(opts, tlsclient.WithVerifiers(vs...))
	}
	d, err := tlsclient.New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// variants returns plain crypto/tls and the four tlsclient variants, each
// with verifiers of its own (so that their caches are separate).
func (w *world) variants(tb testing.TB, sessions bool) []variant {
	return []variant{
		w.plain(sessions),
		w.tlsclientVariant(tb, "tlsclient", sessions),
		w.tlsclientVariant(tb, "revocation", sessions, revocation.New()),
		w.tlsclientVariant(tb, "ct", sessions, ct.New(w.list)),
		w.tlsclientVariant(tb, "all", sessions, revocation.New(), ct.New(w.list)),
	}
}

// dialOK dials with v and fails tb on error, or when the handshake did not
// resume as expected.
func dialOK(tb testing.TB, v variant, wantResumed bool) {
	tb.Helper()
	resumed, err := v.dial()
	if err != nil {
		tb.Fatalf("%s: %v", v.name, err)
	}
	if resumed != wantResumed {
		tb.Fatalf("%s: resumed %v, want %v", v.name, resumed, wantResumed)
	}
}
