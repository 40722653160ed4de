package ocspcheck_test

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// cacheCall is one VerdictCache.Validate and what it must return.
type cacheCall struct {
	der          []byte
	cert, issuer *x509.Certificate
	now          time.Time
	opts         ocspcheck.Options
	wantCached   bool
	wantReason   ocspcheck.Reason // 0: no error
	wantResult   bool             // a Result is returned (with or without an error)
}

func (c cacheCall) run(t *testing.T, vc *ocspcheck.VerdictCache) *ocspcheck.Result {
	t.Helper()
	r, cached, err := vc.Validate(c.der, c.cert, c.issuer, c.now, c.opts)
	if cached != c.wantCached {
		t.Errorf("cached = %v, want %v (err %v)", cached, c.wantCached, err)
	}
	switch {
	case c.wantReason == 0 && err != nil:
		t.Errorf("unexpected error %v", err)
	case c.wantReason != 0:
		if got, ok := reasonOf(err); !ok || got != c.wantReason {
			t.Errorf("error %v, want reason %v", err, c.wantReason)
		}
	}
	if (r != nil) != c.wantResult {
		t.Errorf("result %v, want a result: %v", r, c.wantResult)
	}
	return r
}

func TestVerdictCache(t *testing.T) {
	t.Parallel()
	type env struct {
		p    *testPKI
		good []byte // good for p.leaf, thisUpdate Now-1h, nextUpdate Now+7d
	}
	ok := func(der []byte, cert, issuer *x509.Certificate, now time.Time, cached bool) cacheCall {
		return cacheCall{der: der, cert: cert, issuer: issuer, now: now, wantCached: cached, wantResult: true}
	}
	for _, tc := range []struct {
		name  string
		calls func(t *testing.T, e env) []cacheCall
		len   int // Len() after the calls
	}{
		{
			name: "second call with the same bytes is a hit",
			calls: func(t *testing.T, e env) []cacheCall {
				return []cacheCall{
					ok(e.good, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					ok(e.good, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, true),
					ok(e.good, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now.Add(time.Hour), true),
				}
			},
			len: 1,
		},
		{
			name: "different staple bytes miss",
			calls: func(t *testing.T, e env) []cacheCall {
				r := e.p.response()
				r.ProducedAt = testpki.Now.Add(-time.Minute)
				other := marshal(t, r)
				return []cacheCall{
					ok(e.good, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					ok(other, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					ok(other, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, true),
					ok(e.good, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, true),
				}
			},
			len: 2,
		},
		{
			name: "a different certificate misses, and its rejection is cached",
			calls: func(t *testing.T, e env) []cacheCall {
				other := e.p.issue(t).Cert
				return []cacheCall{
					ok(e.good, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					{der: e.good, cert: other, issuer: e.p.ca.Cert, now: testpki.Now, wantReason: ocspcheck.NoMatch},
					{der: e.good, cert: other, issuer: e.p.ca.Cert, now: testpki.Now, wantReason: ocspcheck.NoMatch, wantCached: true},
				}
			},
			len: 2,
		},
		{
			name: "a different issuer misses",
			calls: func(t *testing.T, e env) []cacheCall {
				other := newPKI(t, testpki.ECDSAP256)
				return []cacheCall{
					ok(e.good, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					{der: e.good, cert: e.p.leaf.Cert, issuer: other.ca.Cert, now: testpki.Now, wantReason: ocspcheck.NoMatch},
				}
			},
			len: 2,
		},
		{
			name: "RejectSHA1 is part of the key",
			calls: func(t *testing.T, e env) []cacheCall {
				r := e.p.response()
				r.SigHash = crypto.SHA1
				sha1DER := marshal(t, r)
				return []cacheCall{
					ok(sha1DER, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					{der: sha1DER, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: testpki.Now, opts: ocspcheck.Options{RejectSHA1: true}, wantReason: ocspcheck.WeakAlgorithm},
					{der: sha1DER, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: testpki.Now, opts: ocspcheck.Options{RejectSHA1: true}, wantReason: ocspcheck.WeakAlgorithm, wantCached: true},
					ok(sha1DER, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, true),
				}
			},
			len: 2,
		},
		{
			name: "a cached good response expires with nextUpdate",
			calls: func(t *testing.T, e env) []cacheCall {
				c := func(now time.Time, cached bool, reason ocspcheck.Reason) cacheCall {
					return cacheCall{der: e.good, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: now, wantCached: cached, wantReason: reason, wantResult: true}
				}
				return []cacheCall{
					c(testpki.Now, false, 0),
					c(defNextUpdate.Add(-time.Second), true, 0),
					c(defNextUpdate.Add(ocspcheck.DefaultSkew), true, 0),
					// Past the entry's horizon: dropped, checked again, stale.
					c(defNextUpdate.Add(ocspcheck.DefaultSkew+time.Second), false, ocspcheck.Expired),
				}
			},
			len: 1,
		},
		{
			name: "freshness is re-checked on a hit: not yet valid",
			calls: func(t *testing.T, e env) []cacheCall {
				return []cacheCall{
					ok(e.good, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					{der: e.good, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: defThisUpdate.Add(-time.Hour),
						wantCached: true, wantReason: ocspcheck.NotYetValid, wantResult: true},
				}
			},
			len: 1,
		},
		{
			name: "freshness is re-checked on a hit: each caller's max age",
			calls: func(t *testing.T, e env) []cacheCall {
				r := e.p.response()
				r.Responses[0].NextUpdate = time.Time{}
				der := marshal(t, r)
				return []cacheCall{
					ok(der, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					{der: der, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: testpki.Now.Add(time.Hour), opts: ocspcheck.Options{MaxAge: time.Hour},
						wantCached: true, wantReason: ocspcheck.TooOld, wantResult: true},
					ok(der, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now.Add(time.Hour), true),
				}
			},
			len: 1,
		},
		{
			name: "a cached delegated response expires with the delegate",
			calls: func(t *testing.T, e env) []cacheCall {
				d := delegate(t, e.p.ca, testpki.CertOptions{NotAfter: testpki.Now.Add(time.Hour)})
				r := e.p.response()
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
				der := marshal(t, r)
				return []cacheCall{
					ok(der, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now, false),
					ok(der, e.p.leaf.Cert, e.p.ca.Cert, testpki.Now.Add(time.Hour), true),
					{der: der, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: testpki.Now.Add(2 * time.Hour),
						wantReason: ocspcheck.Expired, wantResult: true},
				}
			},
			len: 1,
		},
		{
			name: "negative results are cached for a while",
			calls: func(t *testing.T, e env) []cacheCall {
				r := e.p.response()
				r.CorruptSignature = true
				bad := marshal(t, r)
				c := func(now time.Time, cached bool) cacheCall {
					return cacheCall{der: bad, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: now, wantCached: cached, wantReason: ocspcheck.BadSignature}
				}
				return []cacheCall{
					c(testpki.Now, false),
					c(testpki.Now, true),
					c(testpki.Now.Add(9*time.Minute), true),
					// The negative TTL (10 minutes) has passed.
					c(testpki.Now.Add(11*time.Minute), false),
					c(testpki.Now.Add(11*time.Minute), true),
				}
			},
			len: 1,
		},
		{
			name: "unsuccessful responses are cached, malformed ones are not",
			calls: func(t *testing.T, e env) []cacheCall {
				c := func(der []byte, cached bool, reason ocspcheck.Reason) cacheCall {
					return cacheCall{der: der, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: testpki.Now, wantCached: cached, wantReason: reason}
				}
				tryLater := []byte{0x30, 0x03, 0x0a, 0x01, 0x03}
				return []cacheCall{
					c([]byte("garbage"), false, ocspcheck.Malformed),
					c([]byte("garbage"), false, ocspcheck.Malformed),
					c(tryLater, false, ocspcheck.NotSuccessful),
					c(tryLater, true, ocspcheck.NotSuccessful),
				}
			},
			len: 1,
		},
		{
			name: "requests with a nonce are never cached",
			calls: func(t *testing.T, e env) []cacheCall {
				opts := ocspcheck.Options{Nonce: nonceValue}
				return []cacheCall{
					{der: e.good, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: testpki.Now, opts: opts, wantReason: ocspcheck.NonceMismatch},
					{der: e.good, cert: e.p.leaf.Cert, issuer: e.p.ca.Cert, now: testpki.Now, opts: opts, wantReason: ocspcheck.NonceMismatch},
				}
			},
			len: 0,
		},
		{
			name: "a nil certificate is refused, not cached",
			calls: func(t *testing.T, e env) []cacheCall {
				return []cacheCall{{der: e.good, issuer: e.p.ca.Cert, now: testpki.Now}}
			},
			len: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPKI(t, testpki.ECDSAP256)
			e := env{p: p, good: marshal(t, p.response())}
			vc := ocspcheck.NewVerdictCache(16)
			for i, c := range tc.calls(t, e) {
				t.Logf("call %d at %s", i, c.now.Format(time.RFC3339))
				if c.wantReason == 0 && !c.wantResult && c.cert == nil {
					// The nil-certificate case: a plain error.
					if _, cached, err := vc.Validate(c.der, c.cert, c.issuer, c.now, c.opts); err == nil || cached {
						t.Errorf("nil certificate: cached %v, err %v", cached, err)
					}
					continue
				}
				c.run(t, vc)
			}
			if got := vc.Len(); got != tc.len {
				t.Errorf("Len() = %d, want %d", got, tc.len)
			}
		})
	}
}

// TestVerdictCacheHitIsSameResult checks that a hit skips Check: it returns
// the very Result the first call built.
func TestVerdictCacheHitIsSameResult(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	der := marshal(t, p.response())
	vc := ocspcheck.NewVerdictCache(4)
	r1, cached1, err1 := vc.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
	r2, cached2, err2 := vc.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
	if err1 != nil || err2 != nil || cached1 || !cached2 {
		t.Fatalf("first %v/%v, second %v/%v", cached1, err1, cached2, err2)
	}
	if r1 != r2 {
		t.Error("the hit returned a different Result: Check ran again")
	}
	// The cached verdict agrees with an uncached one.
	r3, err3 := ocspcheck.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
	if err3 != nil || r3.Status != r1.Status || !r3.ThisUpdate.Equal(r1.ThisUpdate) || r3.Signer != r1.Signer {
		t.Errorf("uncached %+v, %v; cached %+v", r3, err3, r1)
	}
}

func TestVerdictCacheNil(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	der := marshal(t, p.response())
	var vc *ocspcheck.VerdictCache
	for range 2 {
		r, cached, err := vc.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
		if err != nil || cached || r == nil || r.Status != ocspcheck.Good {
			t.Fatalf("nil cache: %v, %v, %v", r, cached, err)
		}
	}
}

func TestVerdictCacheEviction(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	// Responses about other serials are rejected before any signature
	// check and cached like any verdict: cheap distinct entries.
	var junkMu sync.Mutex
	junkDER := map[int][]byte{}
	junk := func(i int) []byte {
		junkMu.Lock()
		defer junkMu.Unlock()
		if b, ok := junkDER[i]; ok {
			return b
		}
		r := p.response()
		r.Responses[0].Serial = big.NewInt(int64(1_000_000 + i))
		junkDER[i] = marshal(t, r)
		return junkDER[i]
	}

	t.Run("bounded", func(t *testing.T) {
		t.Parallel()
		const max = 8
		vc := ocspcheck.NewVerdictCache(max)
		for i := range 100 {
			vc.Validate(junk(i), p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
			if n := vc.Len(); n > max || n != min(i+1, max) {
				t.Fatalf("after %d insertions Len() = %d, want %d", i+1, n, min(i+1, max))
			}
		}
	})

	t.Run("default size", func(t *testing.T) {
		t.Parallel()
		for _, size := range []int{0, -1} {
			vc := ocspcheck.NewVerdictCache(size)
			for i := range 1100 {
				vc.Validate(junk(i), p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
			}
			if n := vc.Len(); n != 1024 {
				t.Errorf("NewVerdictCache(%d): Len() = %d after 1100 insertions, want the default 1024", size, n)
			}
		}
	})

	t.Run("expired entries go first", func(t *testing.T) {
		t.Parallel()
		const max = 8
		vc := ocspcheck.NewVerdictCache(max)
		good := marshal(t, p.response())
		if _, cached, err := vc.Validate(good, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{}); cached || err != nil {
			t.Fatalf("first call: cached %v, err %v", cached, err)
		}
		for i := range max - 1 {
			vc.Validate(junk(i), p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
		}
		// An hour later the negative verdicts have expired; a new entry
		// makes room by dropping them, not the good verdict.
		later := testpki.Now.Add(time.Hour)
		vc.Validate(junk(1000), p.leaf.Cert, p.ca.Cert, later, ocspcheck.Options{})
		if n := vc.Len(); n != 2 {
			t.Errorf("Len() = %d, want 2 (the good verdict and the new one)", n)
		}
		if _, cached, err := vc.Validate(good, p.leaf.Cert, p.ca.Cert, later, ocspcheck.Options{}); !cached || err != nil {
			t.Errorf("the good verdict was evicted: cached %v, err %v", cached, err)
		}
	})
}

// TestVerdictCacheConcurrent hammers a small cache from many goroutines with
// a mix of good, revoked, bad and stale lookups, so that hits, misses and
// evictions race. Run with -race.
func TestVerdictCacheConcurrent(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	other := p.issue(t)
	revokedLeaf := p.issue(t)
	r := p.response()
	r.Responses = append(r.Responses, testpki.Single{Cert: revokedLeaf.Cert, Issuer: p.ca.Cert, Status: testpki.StatusRevoked,
		Reason: 1, ThisUpdate: defThisUpdate, NextUpdate: defNextUpdate})
	multi := marshal(t, r)
	r.CorruptSignature = true
	corrupt := marshal(t, r)

	type lookup struct {
		der        []byte
		cert       *x509.Certificate
		now        time.Time
		wantStatus ocspcheck.CertStatus
		wantReason ocspcheck.Reason
	}
	lookups := []lookup{
		{der: multi, cert: p.leaf.Cert, now: testpki.Now, wantStatus: ocspcheck.Good},
		{der: multi, cert: revokedLeaf.Cert, now: testpki.Now, wantStatus: ocspcheck.Revoked},
		{der: multi, cert: other.Cert, now: testpki.Now, wantReason: ocspcheck.NoMatch},
		{der: corrupt, cert: p.leaf.Cert, now: testpki.Now, wantReason: ocspcheck.BadSignature},
		{der: multi, cert: p.leaf.Cert, now: defNextUpdate.Add(time.Hour), wantReason: ocspcheck.Expired},
		{der: []byte("junk"), cert: p.leaf.Cert, now: testpki.Now, wantReason: ocspcheck.Malformed},
	}
	vc := ocspcheck.NewVerdictCache(3) // smaller than the working set: evictions race with hits
	const goroutines, rounds = 32, 60
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	var hits sync.Map
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				l := lookups[(g+i)%len(lookups)]
				res, cached, err := vc.Validate(l.der, l.cert, p.ca.Cert, l.now, ocspcheck.Options{})
				if cached {
					hits.Store(g, true)
				}
				if l.wantReason != 0 {
					if got, _ := reasonOf(err); got != l.wantReason {
						errs <- fmt.Errorf("goroutine %d round %d: %v, want %v", g, i, err, l.wantReason)
						return
					}
					continue
				}
				if err != nil || res.Status != l.wantStatus {
					errs <- fmt.Errorf("goroutine %d round %d: %v, %v; want %v", g, i, res, err, l.wantStatus)
					return
				}
				if n := vc.Len(); n > 3 {
					errs <- fmt.Errorf("Len() = %d > 3", n)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n := 0
	hits.Range(func(any, any) bool { n++; return true })
	if n == 0 {
		t.Error("no goroutine ever hit the cache")
	}
}

func benchmarkInput(b *testing.B) (der []byte, p *testPKI) {
	p = newPKI(b, testpki.ECDSAP256)
	return marshal(b, p.response()), p
}

// BenchmarkVerdictCacheHit measures a hit; it also reports how many times
// faster than an uncached Validate it is.
func BenchmarkVerdictCacheHit(b *testing.B) {
	der, p := benchmarkInput(b)
	vc := ocspcheck.NewVerdictCache(0)
	if _, _, err := vc.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, cached, err := vc.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{}); !cached || err != nil {
			b.Fatalf("cached %v, err %v", cached, err)
		}
	}
	hit := float64(b.Elapsed().Nanoseconds()) / float64(b.N)

	// Time a few uncached validations for the ratio (wall time spent
	// measuring, not a validation time: validation uses testpki.Now).
	const n = 200
	start := time.Now()
	for range n {
		if _, err := ocspcheck.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	uncached := float64(time.Since(start).Nanoseconds()) / n
	b.ReportMetric(uncached/hit, "x-faster-than-uncached")
}

func BenchmarkValidateUncached(b *testing.B) {
	der, p := benchmarkInput(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ocspcheck.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
