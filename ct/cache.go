package ct

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"time"
)

// sigVerdict is the outcome of verifying one SCT's signature over one
// certificate entry. It depends only on the bytes (the log key is fixed by
// the log ID in the SCT), so it never expires.
type sigVerdict struct {
	status SCTStatus
	reason string
}

// sigCache remembers signature verdicts per (entry type, certificate hash,
// issuer key hash, SCT bytes), bounded; it is safe for concurrent use. Keys
// are the bytes themselves (see sigKey), so a lookup costs no hashing
// beyond the map's and no allocation.
//
// It is bounded in bytes too: callers put only SCTs of at most
// maxCachedSCT bytes, so an entry holds at most 65+maxCachedSCT bytes of
// key, and put keeps only the verdicts a signature verification decided
// (valid or bad signature), never those of input that does not parse or
// uses an unsupported algorithm, which are cheap to reach again.
type sigCache struct {
	max int

	mu sync.Mutex // guards m
	m  map[string]sigVerdict
}

func newSigCache(max int) *sigCache {
	return &sigCache{max: max, m: make(map[string]sigVerdict)}
}

func (c *sigCache) get(k []byte) (sigVerdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[string(k)]
	return v, ok
}

func (c *sigCache) put(k []byte, v sigVerdict) {
	if v.status != StatusValid && v.status != StatusBadSignature {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[string(k)]; !ok && len(c.m) >= c.max {
		// Evict an arbitrary eighth (map order is random): cheap, and
		// a hot entry evicted is merely verified again.
		n := max(1, c.max/8)
		for key := range c.m {
			if n == 0 {
				break
			}
			delete(c.m, key)
			n--
		}
	}
	c.m[string(k)] = v
}

func (c *sigCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// rootScope answers whether a root belongs to a pool, remembering the
// answer per root. crypto/x509 has no membership test for a CertPool, so
// the root is verified against the pool: a root in the pool (or one with the
// same subject and key) verifies as a chain of one.
type rootScope struct {
	pool *x509.CertPool

	mu sync.Mutex // guards m
	m  map[[32]byte]bool
}

const maxScopeEntries = 256

func newRootScope(pool *x509.CertPool) *rootScope {
	return &rootScope{pool: pool, m: map[[32]byte]bool{}}
}

func (s *rootScope) contains(root *x509.Certificate, now time.Time) bool {
	k := sha256.Sum256(root.Raw)
	s.mu.Lock()
	in, ok := s.m[k]
	s.mu.Unlock()
	if ok {
		return in
	}
	_, err := root.Verify(x509.VerifyOptions{
		Roots:       s.pool,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	in = err == nil
	s.mu.Lock()
	if len(s.m) >= maxScopeEntries {
		clear(s.m)
	}
	s.m[k] = in
	s.mu.Unlock()
	return in
}
