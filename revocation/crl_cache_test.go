package revocation

import (
	"context"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// crlDetails returns the Details of a check.
func crlDetails(t *testing.T, c tlsclient.Check) Details {
	t.Helper()
	d, ok := c.Data.(Details)
	if !ok {
		t.Fatalf("check data %T", c.Data)
	}
	return d
}

func TestCRLMemoryCache(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	v := crlVerifier(t, LeafOnly())
	for i := range 3 {
		st := crlState(p.chain())
		if err := crlVerify(v, st); err != nil {
			t.Fatal(err)
		}
		c := crlCheck(t, st, "localhost")
		if d := crlDetails(t, c); d.Cached != (i > 0) || d.Status != "good" || !d.NextUpdate.Equal(testpki.Now.Add(-time.Hour+7*24*time.Hour)) {
			t.Errorf("dial %d: %+v", i, d)
		}
	}
	if n := p.files.Hits("/inter.crl"); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	// Past nextUpdate the CRL is fetched again.
	st := crlState(p.chain())
	st.Now = testpki.Now.Add(8 * 24 * time.Hour)
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(2), ThisUpdate: st.Now.Add(-time.Hour)})
	if err := crlVerify(v, st); err != nil {
		t.Fatal(err)
	}
	if n := p.files.Hits("/inter.crl"); n != 2 {
		t.Errorf("%d downloads, want 2", n)
	}
	if c := crlCheck(t, st, "localhost"); !strings.Contains(c.Detail, "CRL #2") {
		t.Errorf("detail %q", c.Detail)
	}
}

// TestCRLConcurrentDialsOneDownload: 64 concurrent dials sharing a
// verifier download the CRL once.
func TestCRLConcurrentDialsOneDownload(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.files.SetDelay(200 * time.Millisecond)
	v := crlVerifier(t, LeafOnly())
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Go(func() { errs[i] = crlVerify(v, crlState(p.chain())) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
	}
	if n := p.files.Hits("/inter.crl"); n != 1 {
		t.Errorf("%d downloads for 64 dials, want 1", n)
	}
}

// TestCRLWaiterCancellation: a dial that gives up early does not spoil a
// shared download for the others.
func TestCRLWaiterCancellation(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.files.SetDelay(300 * time.Millisecond)
	v := crlVerifier(t, LeafOnly())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var impatient, patient error
	wg.Go(func() { impatient = v.Verify(ctx, crlState(p.chain())) })
	wg.Go(func() { patient = crlVerify(v, crlState(p.chain())) })
	wg.Wait()
	var fe *FetchError
	if !errors.As(impatient, &fe) || fe.Kind != FetchTimeout {
		t.Errorf("impatient dial: %v", impatient)
	}
	if patient != nil {
		t.Errorf("patient dial: %v", patient)
	}

	// A dial that arrives after every waiter of a load has left starts a
	// new load instead of joining the canceled one.
	q := newCRLPKI(t, crlPKIOptions{})
	q.files.SetDelay(300 * time.Millisecond)
	v = crlVerifier(t, LeafOnly())
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := v.Verify(ctx2, crlState(q.chain())); err == nil {
		t.Fatal("impatient dial succeeded")
	}
	if err := crlVerify(v, crlState(q.chain())); err != nil {
		t.Errorf("dial after a canceled load: %v", err)
	}
}

// TestCRLSharedCache: the DER goes to the Cache given with WithCache, and
// another verifier sharing it needs no download.
func TestCRLSharedCache(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	cache := NewMemoryCache(0)
	for i := range 2 {
		v := crlVerifier(t, LeafOnly(), WithCache(cache))
		st := crlState(p.chain())
		if err := crlVerify(v, st); err != nil {
			t.Fatal(err)
		}
		if d := crlDetails(t, crlCheck(t, st, "localhost")); d.Cached != (i == 1) {
			t.Errorf("verifier %d: cached %v", i, d.Cached)
		}
	}
	if n := p.files.Hits("/inter.crl"); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	// A tampered cache entry is verified again, refused, and the CRL is
	// downloaded.
	key := cacheKey(storeKey(p.url("/inter.crl"), p.inter.Cert, false))
	val, ok := cache.Get(context.Background(), key)
	if !ok {
		t.Fatal("no cache entry")
	}
	bad := append([]byte(nil), val...)
	bad[len(bad)-10] ^= 0xff
	cache.Put(context.Background(), key, bad, time.Hour)
	v := crlVerifier(t, LeafOnly(), WithCache(cache))
	if err := crlVerify(v, crlState(p.chain())); err != nil {
		t.Fatal(err)
	}
	if n := p.files.Hits("/inter.crl"); n != 2 {
		t.Errorf("%d downloads after tampering, want 2", n)
	}
}

// TestCRLCacheDir: a directory cache survives the verifier, holds DER
// files written atomically, and is verified again when loaded.
func TestCRLCacheDir(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	dir := t.TempDir()
	v := crlVerifier(t, LeafOnly(), WithCRLCacheDir(dir))
	if err := crlVerify(v, crlState(p.chain())); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.crl"))
	if len(files) != 1 {
		t.Fatalf("cache dir holds %v", files)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	der, _ := os.ReadFile(files[0])
	if len(der) == 0 || der[0] != 0x30 {
		t.Errorf("not DER: % x", der[:min(8, len(der))])
	}
	// A new verifier (a restart) reads it without downloading.
	v2 := crlVerifier(t, LeafOnly(), WithCRLCacheDir(dir))
	st := crlState(p.chain())
	if err := crlVerify(v2, st); err != nil {
		t.Fatal(err)
	}
	if d := crlDetails(t, crlCheck(t, st, "localhost")); !d.Cached {
		t.Error("not served from the directory")
	}
	if n := p.files.Hits("/inter.crl"); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	// A tampered file is refused and the CRL downloaded again.
	der[len(der)-5] ^= 0xff
	if err := os.WriteFile(files[0], der, 0o600); err != nil {
		t.Fatal(err)
	}
	v3 := crlVerifier(t, LeafOnly(), WithCRLCacheDir(dir))
	if err := crlVerify(v3, crlState(p.chain())); err != nil {
		t.Fatal(err)
	}
	if n := p.files.Hits("/inter.crl"); n != 2 {
		t.Errorf("%d downloads after tampering, want 2", n)
	}
}

// TestCRLConditionalGET: an expired copy is revalidated with
// If-None-Match; a 304 leaves it expired (the CA has not published a newer
// one), and a new CRL is downloaded in full.
func TestCRLConditionalGET(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{NextUpdate: testpki.Now.Add(time.Hour)})
	v := crlVerifier(t, LeafOnly())
	if err := crlVerify(v, crlState(p.chain())); err != nil {
		t.Fatal(err)
	}
	later := crlState(p.chain())
	later.Now = testpki.Now.Add(3 * time.Hour)
	err := crlVerify(v, later)
	if crlReasonOf(err) != CRLExpired {
		t.Fatalf("want CRLExpired after a 304, got %v", err)
	}
	if p.files.NotModified() != 1 {
		t.Errorf("%d 304 answers, want 1", p.files.NotModified())
	}
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(2), ThisUpdate: later.Now.Add(-time.Minute)})
	later = crlState(p.chain())
	later.Now = testpki.Now.Add(3 * time.Hour)
	if err := crlVerify(v, later); err != nil {
		t.Fatal(err)
	}
	if n := p.files.Hits("/inter.crl"); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestCRLRollback: a CRL with a lower number than one seen for the same
// distribution point is refused.
func TestCRLRollback(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), NextUpdate: testpki.Now.Add(time.Hour)})
	v := crlVerifier(t, LeafOnly())
	if err := crlVerify(v, crlState(p.chain())); err != nil {
		t.Fatal(err)
	}
	// An older CRL (valid-looking, but number 4) is served next.
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(4), NextUpdate: testpki.Now.Add(30 * 24 * time.Hour)})
	st := crlState(p.chain())
	st.Now = testpki.Now.Add(2 * time.Hour)
	err := crlVerify(v, st)
	if crlReasonOf(err) != CRLRollback || !errors.Is(err, tlsclient.ErrRevocationUnavailable) {
		t.Fatalf("want CRLRollback, got %v", err)
	}
	// Without CRL numbers, an older thisUpdate is a rollback too.
	q := newCRLPKI(t, crlPKIOptions{})
	q.publish(t, "/inter.crl", q.inter, testpki.CRLTemplate{NoNumber: true, NextUpdate: testpki.Now.Add(time.Hour)})
	vq := crlVerifier(t, LeafOnly())
	if err := crlVerify(vq, crlState(q.chain())); err != nil {
		t.Fatal(err)
	}
	q.publish(t, "/inter.crl", q.inter, testpki.CRLTemplate{NoNumber: true, ThisUpdate: testpki.Now.Add(-2 * time.Hour), NextUpdate: testpki.Now.Add(30 * 24 * time.Hour)})
	stq := crlState(q.chain())
	stq.Now = testpki.Now.Add(2 * time.Hour)
	if err := crlVerify(vq, stq); crlReasonOf(err) != CRLRollback {
		t.Fatalf("older thisUpdate without numbers: %v", err)
	}
	// The same number again is fine.
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), ThisUpdate: testpki.Now.Add(time.Hour)})
	if err := crlVerify(v, st); err != nil {
		t.Fatal(err)
	}
}

// TestCRLBackgroundRefresh: within the lead time of nextUpdate, dials are
// answered from memory while one refresh per URL runs in the background.
func TestCRLBackgroundRefresh(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{NextUpdate: testpki.Now.Add(time.Hour)})
	v := crlVerifier(t, LeafOnly(), WithBackgroundRefresh(2*time.Hour))
	store := crlSourceOf(t, v).store
	clock := newCRLFakeClock()
	crlSetClock(store, clock.Now)
	if err := crlVerify(v, crlState(p.chain())); err != nil {
		t.Fatal(err)
	}
	store.bg.Wait() // the first dial loads; no refresh yet
	// Refreshes follow a download by lead/8 at least.
	clock.Advance(15 * time.Minute)
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(2), NextUpdate: testpki.Now.Add(48 * time.Hour)})
	p.files.SetDelay(time.Second)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			st := crlState(p.chain())
			start := time.Now()
			if err := crlVerify(v, st); err != nil {
				t.Error(err)
			}
			if d := crlDetails(t, crlCheck(t, st, "localhost")); !d.Cached {
				t.Error("a dial waited for the refresh")
			}
			if el := time.Since(start); el > 500*time.Millisecond {
				t.Errorf("dial took %s", el)
			}
		})
	}
	wg.Wait()
	store.bg.Wait()
	if n := p.files.Hits("/inter.crl"); n != 2 {
		t.Errorf("%d downloads, want 2 (one refresh for 16 dials)", n)
	}
	st := crlState(p.chain())
	if err := crlVerify(v, st); err != nil {
		t.Fatal(err)
	}
	if c := crlCheck(t, st, "localhost"); !strings.Contains(c.Detail, "CRL #2") {
		t.Errorf("refreshed CRL not used: %s", c.Detail)
	}
	store.bg.Wait()
	if n := p.files.Hits("/inter.crl"); n != 2 {
		t.Errorf("%d downloads, want 2: the new CRL is not within the lead time", n)
	}
}

// TestCRLPolicies: hard-fail, SoftFail and RequireStatus.
func TestCRLPolicies(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.files.Set("/inter.crl", []byte("<html>down for maintenance</html>"), testpki.Now)

	st := crlState(p.chain())
	err := crlVerify(crlVerifier(t), st)
	if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || crlReasonOf(err) != CRLMalformed {
		t.Fatalf("hard-fail: %v", err)
	}

	st = crlState(p.chain())
	if err := crlVerify(crlVerifier(t, SoftFail()), st); err != nil {
		t.Fatalf("SoftFail: %v", err)
	}
	var warned bool
	for _, c := range st.Checks() {
		if c.Outcome == tlsclient.Warning && strings.Contains(c.Subject, "localhost") && strings.Contains(c.Error, "malformed CRL") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning recorded:%s", crlDump(st.Checks()))
	}

	// RequireStatus with preloaded CRLs: every CA must have one
	// (OpenSSL's CRL_CHECK_ALL). The certificates here name no
	// distribution point.
	q := newCRLPKI(t, crlPKIOptions{noLeafDP: true, noInterDP: true})
	rootCRL := testpki.Must(q.root.BuildCRL(testpki.CRLTemplate{}))
	interCRL := testpki.Must(q.inter.BuildCRL(testpki.CRLTemplate{}))
	st = crlState(q.chain())
	if err := crlVerify(crlVerifier(t, WithCRLs(rootCRL)), st); err != nil {
		t.Fatalf("without RequireStatus: %v", err)
	}
	st = crlState(q.chain())
	err = crlVerify(crlVerifier(t, WithCRLs(rootCRL), RequireStatus()), st)
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Subject, "localhost") {
		t.Fatalf("RequireStatus without the intermediate's CRL: %v", err)
	}
	st = crlState(q.chain())
	if err := crlVerify(crlVerifier(t, WithCRLs(rootCRL, interCRL), RequireStatus()), st); err != nil {
		t.Fatalf("RequireStatus with every CRL: %v%s", err, crlDump(st.Checks()))
	}
	if n := q.files.Hits("/inter.crl") + q.files.Hits("/root.crl"); n != 0 {
		t.Errorf("preloaded setup fetched %d times", n)
	}
}

func TestCRLPreloadedFormats(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{noLeafDP: true})
	der := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}}))
	pemCRLs := append(crlPEM(testpki.Must(p.root.BuildCRL(testpki.CRLTemplate{}))), crlPEM(der)...)
	err := crlVerify(crlVerifier(t, WithCRLs(pemCRLs)), crlState(p.chain()))
	var re *RevokedError
	if !errors.As(err, &re) || re.Reason != tlsclient.ReasonKeyCompromise {
		t.Fatalf("PEM bundle: %v", err)
	}
	for name, bad := range map[string][]byte{
		"garbage":     []byte("not a CRL"),
		"PEM, no CRL": []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"truncated":   der[:len(der)/2],
	} {
		st := crlState(p.chain())
		err := crlVerify(crlVerifier(t, WithCRLs(bad)), st)
		if err == nil || !strings.Contains(err.Error(), "WithCRLs") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func crlPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// TestCRLFetcherMerges: below the store's one-load-per-key, the fetcher
// itself merges identical requests in flight.
func TestCRLFetcherMerges(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.files.SetDelay(200 * time.Millisecond)
	store := crlSourceOf(t, crlVerifier(t)).store
	chain := p.chain()
	r := &request{st: crlState(chain), chain: chain, cert: chain[0], issuer: chain[1], now: testpki.Now}
	url := p.url("/inter.crl")
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if _, _, err := store.load(context.Background(), r, url, storeKey(url, r.issuer, false), false, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := p.files.Hits("/inter.crl"); n != 1 {
		t.Errorf("%d downloads for 64 concurrent loads, want 1", n)
	}
}

// TestCRLOffline: asked in offline mode (the engine's first, goroutine-free
// pass), the source answers from memory or preloaded CRLs, and otherwise
// says it needs the network without doing any I/O.
func TestCRLOffline(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}})
	p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
	src := crlSourceOf(t, crlVerifier(t))
	chain := p.chain()
	req := func(offline bool) *request {
		return &request{st: crlState(chain), chain: chain, cert: chain[0], issuer: chain[1], now: testpki.Now, offline: offline}
	}
	if a := src.check(context.Background(), req(true)); a.kind != needsNetwork {
		t.Fatalf("cold, offline: %+v", a)
	}
	if n := p.files.Hits("/inter.crl"); n != 0 {
		t.Fatalf("offline mode fetched")
	}
	online := src.check(context.Background(), req(false))
	if online.kind != revoked {
		t.Fatalf("online: %+v", online)
	}
	warm := src.check(context.Background(), req(true))
	if warm.kind != revoked || !warm.revokedAt.Equal(online.revokedAt) || warm.reason != online.reason || warm.url != online.url || !warm.cached {
		t.Fatalf("warm, offline: %+v, want %+v", warm, online)
	}
	if n := p.files.Hits("/inter.crl") + p.files.Hits("/delta.crl"); n != 2 {
		t.Errorf("%d downloads, want 2", n)
	}
	// Preloaded CRLs answer offline.
	pre := crlSourceOf(t, crlVerifier(t, WithCRLs(testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{})))))
	if a := pre.check(context.Background(), req(true)); a.kind != good {
		t.Fatalf("preloaded, offline: %+v", a)
	}
}
