package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"math/big"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// Tests for the findings of the security review of the CRL code: cache
// poisoning with CRLs of another scope, background refresh pacing, memory
// bounds, separate CRL signers, duplicate serials, non-HTTP distribution
// points.

// crlFiles lists the CRL files of a cache directory.
func crlFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.crl"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// crlAt is crlState at another verification time.
func crlAt(p *crlPKI, now time.Time) *tlsclient.State {
	st := crlState(p.chain())
	st.Now = now
	return st
}

// TestCRLPoisonAnotherShard: an on-path attacker answers the leaf's
// distribution point once with a genuine CRL of another shard of the same
// CA (its Issuing Distribution Point names the other shard's URL, and its
// number is higher). It is refused before it is kept anywhere, the
// endpoint is not asked again for a short while, and then the real CRL is
// used: no lockout until the other shard's nextUpdate, and no "rollback"
// of the real CRL, whose number is lower.
func TestCRLPoisonAnotherShard(t *testing.T) {
	t.Parallel()
	p := newCRLPKICase(t, crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"/shard1.crl"}}})
	shard1 := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(10),
		IDP: &testpki.IDPTemplate{FullNameURIs: []string{p.url("/shard1.crl")}}}))
	shard2 := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(20), NextUpdate: testpki.Now.Add(30 * 24 * time.Hour),
		IDP: &testpki.IDPTemplate{FullNameURIs: []string{p.url("/shard2.crl")}}}))
	dir := t.TempDir()
	cache := NewMemoryCache(0)
	v := crlVerifier(t, LeafOnly(), WithCRLCacheDir(dir), WithCache(cache))
	clock := newCRLFakeClock()
	crlSetClock(crlSourceOf(t, v).store, clock.Now)

	p.files.Set("/shard1.crl", shard2, testpki.Now) // the attack
	err := crlVerify(v, crlState(p.chain()))
	if crlReasonOf(err) != CRLScope || !strings.Contains(err.Error(), p.url("/shard2.crl")) {
		t.Fatalf("poisoned dial: want CRLScope naming the other shard, got %v", err)
	}
	if f := crlFiles(t, dir); len(f) != 0 {
		t.Errorf("the other shard's CRL was saved in the cache directory: %v", f)
	}
	if _, ok := cache.Get(context.Background(), cacheKey(storeKey(p.url("/shard1.crl"), p.inter.Cert, false))); ok {
		t.Error("the other shard's CRL was put in the Cache")
	}

	p.files.Set("/shard1.crl", shard1, testpki.Now) // the attacker is gone
	// Within the back-off the refusal stands, without a download.
	if err := crlVerify(v, crlState(p.chain())); crlReasonOf(err) != CRLScope {
		t.Errorf("within the back-off: want the refusal again, got %v", err)
	}
	if n := p.files.Hits("/shard1.crl"); n != 1 {
		t.Errorf("%d downloads within the back-off, want 1", n)
	}
	clock.Advance(time.Minute)
	st := crlState(p.chain())
	if err := crlVerify(v, st); err != nil {
		t.Fatalf("after the back-off: %v%s", err, crlDump(st.Checks()))
	}
	if c := crlCheck(t, st, "localhost"); !strings.Contains(c.Detail, "CRL #10") {
		t.Errorf("detail %q", c.Detail)
	}
	// A restart (a new verifier on the same directory and Cache) finds
	// the real CRL.
	v2 := crlVerifier(t, LeafOnly(), WithCRLCacheDir(dir), WithCache(cache))
	st = crlState(p.chain())
	if err := crlVerify(v2, st); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if d := crlDetails(t, crlCheck(t, st, "localhost")); !d.Cached {
		t.Error("after a restart: not served from the caches")
	}
	// Rollback protection still holds for the shard's own numbers.
	old := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(9), ThisUpdate: testpki.Now.Add(6 * 24 * time.Hour),
		NextUpdate: testpki.Now.Add(30 * 24 * time.Hour), IDP: &testpki.IDPTemplate{FullNameURIs: []string{p.url("/shard1.crl")}}}))
	p.files.Set("/shard1.crl", old, testpki.Now)
	if err := crlVerify(v, crlAt(p, testpki.Now.Add(8*24*time.Hour))); crlReasonOf(err) != CRLRollback {
		t.Errorf("an older CRL of the shard: want CRLRollback, got %v", err)
	}
}

// TestCRLPoisonDelta: the CA's own delta CRL, injected once at the base
// CRL's URL, is refused before its number is recorded; once it would have
// expired, the base CRL (whose number is lower than the delta's, as RFC
// 5280 numbers them in one sequence) is not taken for a rollback.
func TestCRLPoisonDelta(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	base := p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(10), FreshestCRL: []string{p.url("/delta.crl")}})
	delta := p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(11), DeltaBase: big.NewInt(10), NextUpdate: testpki.Now.Add(time.Hour)})
	v := crlVerifier(t, LeafOnly())
	clock := newCRLFakeClock()
	crlSetClock(crlSourceOf(t, v).store, clock.Now)

	p.files.Set("/inter.crl", delta, testpki.Now) // the attack
	if err := crlVerify(v, crlState(p.chain())); crlReasonOf(err) != CRLDeltaOnly {
		t.Fatalf("delta at the base URL: want CRLDeltaOnly, got %v", err)
	}
	p.files.Set("/inter.crl", base, testpki.Now)
	clock.Advance(time.Minute)
	st := crlAt(p, testpki.Now.Add(2*time.Hour)) // the delta has expired
	err := crlVerify(v, st)
	if err != nil {
		t.Fatalf("the base after the attack: %v%s", err, crlDump(st.Checks()))
	}
	if c := crlCheck(t, st, "localhost"); !strings.Contains(c.Detail, "CRL #10") {
		t.Errorf("detail %q", c.Detail)
	}
}

// TestCRLPoisonScopeEvicted: a CRL whose scope can only be judged against
// the certificate (here the CA's CRL of CA certificates, with an IDP
// without a name) is admitted, fails the scope check for the certificate
// it was fetched for, and is then evicted: after a short back-off the
// real CRL is fetched. A hostile endpoint that goes on serving it gets a
// request only now and then, with growing intervals.
func TestCRLPoisonScopeEvicted(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	dir := t.TempDir()
	v := crlVerifier(t, LeafOnly(), WithCRLCacheDir(dir))
	clock := newCRLFakeClock()
	crlSetClock(crlSourceOf(t, v).store, clock.Now)

	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(30), IDP: &testpki.IDPTemplate{OnlyCA: true},
		NextUpdate: testpki.Now.Add(30 * 24 * time.Hour)})
	if err := crlVerify(v, crlState(p.chain())); crlReasonOf(err) != CRLScope {
		t.Fatalf("CA-only CRL: want CRLScope, got %v", err)
	}
	if f := crlFiles(t, dir); len(f) != 0 {
		t.Errorf("the evicted CRL is still in the cache directory: %v", f)
	}
	// The endpoint goes on serving it: a dial a second for ten minutes.
	for range 600 {
		clock.Advance(time.Second)
		if err := crlVerify(v, crlState(p.chain())); crlReasonOf(err) != CRLScope {
			t.Fatalf("want CRLScope, got %v", err)
		}
	}
	if n := p.files.Hits("/inter.crl"); n < 3 || n > 8 {
		t.Errorf("%d downloads in ten minutes of dials against a hostile endpoint, want a few (back-off)", n)
	}
	// The real CRL (a lower number, in another scope) is used once the
	// back-off has passed.
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5)})
	clock.Advance(10 * time.Minute)
	st := crlState(p.chain())
	if err := crlVerify(v, st); err != nil {
		t.Fatalf("the real CRL: %v%s", err, crlDump(st.Checks()))
	}
}

// TestCRLPoisonDeltaScope: a delta CRL of another scope at the Freshest
// CRL pointer is not applied and not kept: after the back-off, the right
// delta is fetched and applied.
func TestCRLPoisonDeltaScope(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}})
	p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(9), DeltaBase: big.NewInt(5),
		IDP: &testpki.IDPTemplate{OnlyCA: true}, NextUpdate: testpki.Now.Add(30 * 24 * time.Hour)})
	v := crlVerifier(t, LeafOnly())
	clock := newCRLFakeClock()
	crlSetClock(crlSourceOf(t, v).store, clock.Now)
	st := crlState(p.chain())
	if err := crlVerify(v, st); err != nil {
		t.Fatal(err)
	}
	if c := crlCheck(t, st, "localhost"); !strings.Contains(c.Detail, "different issuing distribution points") {
		t.Fatalf("detail %q", c.Detail)
	}
	p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
	clock.Advance(time.Minute)
	if err := crlVerify(v, crlState(p.chain())); !errors.Is(err, tlsclient.ErrRevoked) {
		t.Fatalf("the right delta: want revoked, got %v", err)
	}
}

// TestCRLRefreshPacing: within the refresh lead time, a CRL the server
// does not replace is fetched again at most every lead/8 (not after every
// dial, and not right after it was downloaded), and failed refreshes back
// off exponentially.
func TestCRLRefreshPacing(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{NextUpdate: testpki.Now.Add(time.Hour)})
	v := crlVerifier(t, LeafOnly(), WithBackgroundRefresh(2*time.Hour))
	store := crlSourceOf(t, v).store
	clock := newCRLFakeClock()
	crlSetClock(store, clock.Now)
	dials := func(n int) {
		for range n {
			if err := crlVerify(v, crlState(p.chain())); err != nil {
				t.Fatal(err)
			}
			store.bg.Wait()
			clock.Advance(time.Second)
		}
	}
	dials(50) // the first loads: no refresh is due for lead/8
	if n := p.files.Hits("/inter.crl"); n != 1 {
		t.Errorf("%d downloads for 50 dials, want 1", n)
	}
	clock.Advance(15 * time.Minute) // lead/8
	dials(50)
	// One refresh (answered 304: the CRL is still within the lead time).
	if n := p.files.Hits("/inter.crl"); n != 2 {
		t.Errorf("%d downloads for 50 more dials after lead/8, want 2", n)
	}
	clock.Advance(15 * time.Minute) // lead/8
	dials(10)
	if n := p.files.Hits("/inter.crl"); n != 3 {
		t.Errorf("%d downloads after lead/8, want 3", n)
	}
	// Failures back off: 15 minutes, then 30, then 60.
	p.files.Set("/inter.crl", []byte("<html>oops</html>"), testpki.Now)
	clock.Advance(15 * time.Minute)
	dials(1)
	if n := p.files.Hits("/inter.crl"); n != 4 {
		t.Fatalf("%d downloads, want 4", n)
	}
	clock.Advance(16 * time.Minute)
	dials(20)
	if n := p.files.Hits("/inter.crl"); n != 4 {
		t.Errorf("%d downloads 16 minutes after a failed refresh, want 4 (backing off for 30)", n)
	}
	clock.Advance(15 * time.Minute)
	dials(1)
	if n := p.files.Hits("/inter.crl"); n != 5 {
		t.Errorf("%d downloads 31 minutes after a failed refresh, want 5", n)
	}
}

// TestCRLMemoryBound: the CRLs kept in memory are bounded in bytes (least
// recently used evicted first, the one just loaded always kept), CRLs long
// past their nextUpdate are dropped, and the CRL-number marks are bounded
// too, except those of the CRLs in memory.
func TestCRLMemoryBound(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{})
	// Six leaves, each with its own distribution point and a CRL of
	// 2000 entries in its own scope (about 36 kB of index each).
	var leaves []*testpki.Cert
	for i := range 6 {
		path := "/shard" + string(rune('a'+i)) + ".crl"
		leaf := testpki.Must(p.inter.Issue(testpki.CertOptions{CRLDistributionPoints: []string{p.url(path)}}))
		leaves = append(leaves, leaf)
		tmpl := testpki.CRLTemplate{Number: big.NewInt(int64(100 + i)), IDP: &testpki.IDPTemplate{FullNameURIs: []string{p.url(path)}}}
		for j := range 2000 {
			tmpl.Entries = append(tmpl.Entries, testpki.CRLEntry{Serial: big.NewInt(int64(1_000_000*i + j + 1))})
		}
		if i == 5 {
			tmpl.NextUpdate = testpki.Now.Add(time.Hour)
		}
		p.publish(t, path, p.inter, tmpl)
	}
	chainOf := func(leaf *testpki.Cert) *tlsclient.State {
		return crlState(append([]*x509.Certificate{leaf.Cert}, p.chain()[1:]...))
	}
	const limit = 90_000 // room for two
	v := crlVerifier(t, LeafOnly(), WithCRLMemoryLimit(limit))
	store := crlSourceOf(t, v).store
	crlSetMaxMarks(store, 2)
	for _, leaf := range leaves[:5] {
		if err := crlVerify(v, chainOf(leaf)); err != nil {
			t.Fatal(err)
		}
	}
	entries, size, marks, liveMarked := crlStoreStats(store)
	t.Logf("%d CRLs in memory, %d bytes, %d marks", entries, size, marks)
	if entries != 2 || size > limit {
		t.Errorf("%d CRLs, %d bytes in memory; want 2 within %d bytes", entries, size, limit)
	}
	if marks > 2+entries || !liveMarked {
		t.Errorf("%d marks (live marked: %v), want at most %d, every CRL in memory marked", marks, liveMarked, 2+entries)
	}
	// The least recently used went first: shard a is downloaded again,
	// shard e (the last) is not.
	for _, leaf := range []*testpki.Cert{leaves[4], leaves[0]} {
		if err := crlVerify(v, chainOf(leaf)); err != nil {
			t.Fatal(err)
		}
	}
	if a, e := p.files.Hits("/sharda.crl"), p.files.Hits("/sharde.crl"); a != 2 || e != 1 {
		t.Errorf("downloads: shard a %d (want 2), shard e %d (want 1)", a, e)
	}

	// Past nextUpdate and a grace period, a CRL is dropped.
	v = crlVerifier(t, LeafOnly())
	store = crlSourceOf(t, v).store
	if err := crlVerify(v, chainOf(leaves[5])); err != nil {
		t.Fatal(err)
	}
	later := chainOf(leaves[0])
	later.Now = testpki.Now.Add(3 * 24 * time.Hour)
	if err := crlVerify(v, later); err != nil {
		t.Fatal(err)
	}
	if entries, _, marks, _ := crlStoreStats(store); entries != 1 || marks != 2 {
		t.Errorf("%d CRLs and %d marks in memory, want 1 and 2 (shard f's mark outlives its CRL)", entries, marks)
	}
	// Marks go too, a while after the CRLs they protect expired.
	much := chainOf(leaves[1])
	much.Now = testpki.Now.Add(40 * 24 * time.Hour)
	p.publish(t, "/shardb.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(200), ThisUpdate: much.Now.Add(-time.Hour),
		IDP: &testpki.IDPTemplate{FullNameURIs: []string{p.url("/shardb.crl")}}})
	if err := crlVerify(v, much); err != nil {
		t.Fatal(err)
	}
	if entries, _, marks, _ := crlStoreStats(store); entries != 1 || marks != 1 {
		t.Errorf("%d CRLs and %d marks in memory, want 1 and 1", entries, marks)
	}
}

// TestCRLBuildChecksIssuerFirst: a downloaded CRL of another issuer is
// refused from its header, before its entries are scanned and indexed.
//
// Not parallel: it measures the process's allocations.
func TestCRLBuildChecksIssuerFirst(t *testing.T) {
	p := newCRLPKI(t, crlPKIOptions{})
	other := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Another CA"}))
	body := testpki.Must(other.BigCRL(200_000))
	store := crlSourceOf(t, crlVerifier(t)).store
	chain := p.chain()
	r := &request{st: crlState(chain), chain: chain, cert: chain[0], issuer: chain[1], now: testpki.Now}
	var err error
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = store.build(r, p.url("/inter.crl"), body)
	runtime.ReadMemStats(&after)
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte CRL of another issuer: %d bytes allocated: %v", len(body), n, err)
	if crlReasonOf(err) != CRLWrongIssuer {
		t.Fatalf("want CRLWrongIssuer, got %v", err)
	}
	if n > 1<<20 {
		t.Errorf("%d bytes allocated to refuse a CRL of another issuer, want under 1 MiB (no scan)", n)
	}
}
