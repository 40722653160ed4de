package ocspcheck

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
)

// negativeTTL is how long a rejected response is remembered: long enough to
// spare a repeated signature check, short enough that a fixed responder is
// noticed.
const negativeTTL = 10 * time.Minute

// VerdictCache remembers the outcome of Check for the exact response bytes,
// certificate and issuer, so that a repeated handshake that presents the same
// staple does not pay for a signature check again. Freshness is still checked
// on every use. It is safe for concurrent use.
type VerdictCache struct {
	max int

	mu sync.Mutex // guards m
	m  map[[32]byte]verdict
}

type verdict struct {
	r       *Result
	err     error
	expires time.Time
}

// NewVerdictCache returns a cache holding at most max verdicts.
func NewVerdictCache(max int) *VerdictCache {
	if max <= 0 {
		max = 1024
	}
	return &VerdictCache{max: max, m: make(map[[32]byte]verdict)}
}

func verdictKey(der []byte, cert, issuer *x509.Certificate, opts Options) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, b := range [][]byte{der, cert.Raw, issuer.Raw} {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	if opts.RejectSHA1 {
		h.Write([]byte{1})
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// Validate is like the package-level Validate but memoises Check. The second
// result reports whether the verdict came from the cache. Requests with a
// nonce are never cached.
func (c *VerdictCache) Validate(der []byte, cert, issuer *x509.Certificate, now time.Time, opts Options) (*Result, bool, error) {
	if c == nil || opts.Nonce != nil || cert == nil || issuer == nil {
		r, err := Validate(der, cert, issuer, now, opts)
		return r, false, err
	}
	k := verdictKey(der, cert, issuer, opts)
	c.mu.Lock()
	v, ok := c.m[k]
	if ok && now.After(v.expires) {
		delete(c.m, k)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		v.r, v.err = Check(der, cert, issuer, opts)
		if v.err != nil {
			v.expires = now.Add(negativeTTL)
		} else {
			v.expires = v.r.Expires(opts).Add(opts.skew())
		}
		c.put(k, v, now)
	}
	if v.err != nil {
		return nil, ok, v.err
	}
	return v.r, ok, v.r.Fresh(now, opts)
}

func (c *VerdictCache) put(k [32]byte, v verdict, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, old := range c.m {
			if now.After(old.expires) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = v
}

// Len reports how many verdicts are held.
func (c *VerdictCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
