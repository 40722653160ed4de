package adversarial_test

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// The tests in this file are meant for the race detector (go test -race,
// as .ci/run does): many dials share one Dialer, its verifiers and their
// caches, while the caches fill, CRLs refresh in the background and the
// CT log list is swapped.

const dials = 64

// world is a PKI where everything the verifiers can consult is live: the
// intermediate's CRL on a file server, the leaf's OCSP responder, the
// leaf's embedded SCTs from two logs of two operators.
type world struct {
	root, inter *testpki.Cert
	leaf        *testpki.CTCert
	files       *testpki.FileServer
	responder   *testpki.OCSPResponder
	logs        []*testpki.CTLog
	list        *ct.LogList
	addr        string
}

func newWorld(t *testing.T, leafCRL bool) *world {
	t.Helper()
	w := &world{files: testpki.NewFileServer()}
	t.Cleanup(w.files.Close)
	w.root = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Race Root"}))
	w.inter = testpki.Must(w.root.NewIntermediate(testpki.CertOptions{CommonName: "Race Intermediate",
		CRLDistributionPoints: []string{w.files.URLFor("/root.crl")}}))
	w.files.Set("/root.crl", testpki.Must(w.root.BuildCRL(testpki.CRLTemplate{})), testpki.Now)
	// The responder answers about the leaf, minted after it (the leaf
	// names it); the race detector does not see through sockets, so the
	// leaf is handed over atomically.
	var leaf atomic.Pointer[testpki.Cert]
	w.responder = testpki.NewOCSPResponder(func(req *ocsp.Request, _ []byte) []byte {
		return testpki.Must(w.inter.OCSPStatus(leaf.Load(), testpki.StatusGood, time.Time{}, testpki.NoReason))
	})
	t.Cleanup(w.responder.Close)
	w.logs = []*testpki.CTLog{
		testpki.Must(testpki.NewCTLog("Race Log A", "Operator A", testpki.ECDSAP256)),
		testpki.Must(testpki.NewCTLog("Race Log B", "Operator B", testpki.ECDSAP256)),
	}
	opts := testpki.CertOptions{CommonName: "race.test", OCSPServers: []string{w.responder.URL}}
	if leafCRL {
		opts = testpki.CertOptions{CommonName: "race.test", CRLDistributionPoints: []string{w.files.URLFor("/inter.crl")}}
	}
	w.leaf = testpki.Must(w.inter.IssueWithSCTs(opts, testpki.Embed{Log: w.logs[0]}, testpki.Embed{Log: w.logs[1]}))
	leaf.Store(w.leaf.Cert)
	w.list = testpki.Must(ct.ParseLogList(w.listAt(t, testpki.Now.AddDate(0, 0, -1))))
	w.addr = serve(t, testpki.ServerOptions{Cert: w.leaf.Cert})
	return w
}

func (w *world) listAt(t testing.TB, ts time.Time) []byte {
	t.Helper()
	return testpki.Must(testpki.CTLogList(ts, w.logs...))
}

// httpHandlerFunc serves what body returns for the request's path.
func httpHandlerFunc(body func(path string) []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body(r.URL.Path)) })
}

// dialAll makes n dials at once through d and returns their errors.
func dialAll(d *tlsclient.Dialer, addr string, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestRaceSharedDialer: 64 concurrent dials through one Dialer with
// revocation.New and ct.New, all cold: every cache fills concurrently
// (OCSP responses, CRLs, verdicts, SCT signatures, certificate
// descriptions, TLS sessions), and each URL is fetched once.
func TestRaceSharedDialer(t *testing.T) {
	leakCheck(t)
	w := newWorld(t, false)
	w.responder.SetDelay(50 * time.Millisecond) // keep the first request in flight while the others arrive
	d, err := tlsclient.New(tlsclient.WithRootCAs(w.root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(revocation.New(revocation.WithFetchTimeout(10*time.Second)), ct.New(w.list)))
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 { // cold, then warm (resumed sessions, cached answers)
		for i, err := range dialAll(d, w.addr, dials) {
			if err != nil {
				t.Fatalf("round %d, dial %d: %v", round, i, err)
			}
		}
	}
	if hits, _ := w.responder.Hits(); hits != 1 {
		t.Errorf("%d OCSP requests for %d dials, want 1", hits, 3*dials)
	}
	if n := w.files.Hits("/root.crl"); n != 1 {
		t.Errorf("%d CRL downloads for %d dials, want 1", n, 3*dials)
	}
}

// TestRaceCRLRefresh: dials read a CRL while background refreshes replace
// it and the CA publishes new ones; then the CA revokes the leaf, and
// dials go on until a refresh brings the news. Every dial ends either
// verified or refused as revoked — never anything in between.
func TestRaceCRLRefresh(t *testing.T) {
	leakCheck(t)
	w := newWorld(t, true)
	var number atomic.Int64
	publish := func(revoked bool) {
		// nextUpdate within the refresh lead of the (fixed) time of
		// check: every read may start a refresh, paced by the store
		// (at most one a second with this lead).
		tmpl := testpki.CRLTemplate{Number: big.NewInt(number.Add(1)), ThisUpdate: testpki.Now.Add(-time.Hour),
			NextUpdate: testpki.Now.Add(5 * time.Second)}
		if revoked {
			tmpl.Entries = []testpki.CRLEntry{{Serial: w.leaf.Cert.Cert.SerialNumber, Reason: testpki.Reason(1)}}
		}
		w.files.Set("/inter.crl", testpki.Must(w.inter.BuildCRL(tmpl)), testpki.Now)
	}
	publish(false)
	d, err := tlsclient.New(tlsclient.WithRootCAs(w.root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(revocation.CRL(revocation.WithBackgroundRefresh(8*time.Second), revocation.WithFetchTimeout(10*time.Second))))
	if err != nil {
		t.Fatal(err)
	}
	// The CA publishes while the dials run.
	stop := make(chan struct{})
	var publisher sync.WaitGroup
	publisher.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				publish(false)
			}
		}
	})
	rounds := 0
	for deadline := time.Now().Add(20 * time.Second); w.files.Hits("/inter.crl") < 3; rounds++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d downloads in %d rounds: the background refresh did not run", w.files.Hits("/inter.crl"), rounds)
		}
		for i, err := range dialAll(d, w.addr, dials) {
			if err != nil {
				t.Fatalf("round %d, dial %d: %v", rounds, i, err)
			}
		}
	}
	close(stop)
	publisher.Wait()
	t.Logf("%d dials, %d CRL downloads (CRL #%d published)", rounds*dials, w.files.Hits("/inter.crl"), number.Load())

	publish(true)
	deadline := time.Now().Add(20 * time.Second)
	for revoked := false; !revoked; {
		if time.Now().After(deadline) {
			t.Fatal("the revocation was never seen")
		}
		for i, err := range dialAll(d, w.addr, dials) {
			switch {
			case err == nil:
			case errors.Is(err, tlsclient.ErrRevoked):
				revoked = true
			default:
				t.Fatalf("dial %d: neither verified nor revoked: %v", i, err)
			}
		}
	}
}

// TestRaceLogListSwap: dials read the CT log list while a ct.Refresher
// swaps in new ones as fast as it can download them.
func TestRaceLogListSwap(t *testing.T) {
	leakCheck(t)
	w := newWorld(t, false)
	key := testpki.Must(testpki.NewKey(testpki.ECDSAP256))
	var cur atomic.Pointer[[2][]byte]
	setList := func(ts time.Time) {
		l := w.listAt(t, ts)
		cur.Store(&[2][]byte{l, testpki.Must(testpki.SignCTLogList(l, key))})
	}
	setList(testpki.Now.AddDate(0, 0, -10))
	src := newEndpoint(t)
	src.set(httpHandlerFunc(func(path string) []byte {
		p := cur.Load()
		if path == "/log_list.sig" {
			return p[1]
		}
		return p[0]
	}))
	r, err := ct.NewRefresher(ct.RefresherConfig{ListURL: src.URL + "/log_list.json", SignatureURL: src.URL + "/log_list.sig", PublicKey: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, err := tlsclient.New(tlsclient.WithRootCAs(w.root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(ct.New(nil, ct.WithLogSource(r))))
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var refresher sync.WaitGroup
	var swaps atomic.Int64
	refresher.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			setList(testpki.Now.AddDate(0, 0, -10).Add(time.Duration(i) * time.Minute))
			if err := r.Refresh(context.Background()); err != nil {
				t.Errorf("refresh %d: %v", i, err)
				return
			}
			swaps.Add(1)
		}
	})
	for round := range 3 {
		for i, err := range dialAll(d, w.addr, dials) {
			if err != nil {
				t.Fatalf("round %d, dial %d: %v", round, i, err)
			}
		}
	}
	close(stop)
	refresher.Wait()
	if swaps.Load() < 2 {
		t.Errorf("%d swaps during the dials", swaps.Load())
	}
	t.Logf("%d dials, %d list swaps", 3*dials, swaps.Load())
}
