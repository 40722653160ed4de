package ocspcheck

import (
	"bytes"
	"crypto/x509"
	"errors"
	"sync"
	"time"
)

// maxCacheable bounds the bytes one verdict may hold on to (response,
// certificate and issuer): real staples are a few KiB, and a hostile
// server must not fill memory with huge ones. Larger inputs are validated
// every time.
const maxCacheable = 32 << 10

// negativeTTL is how long a rejected response is remembered: long enough to
// spare a repeated signature check, short enough that a fixed responder is
// noticed.
const negativeTTL = 10 * time.Minute

// VerdictCache remembers the outcome of Check for the exact response bytes,
// certificate and issuer, so that a repeated handshake that presents the same
// staple does not pay for a signature check again. Freshness is still checked
// on every use. It is safe for concurrent use.
//
// Entries are found by the response bytes themselves (a map keyed by them,
// no cryptographic hash to compute) and then by comparing the certificate
// and issuer DER, so a hit costs a map lookup and two comparisons.
type VerdictCache struct {
	max int

	mu sync.Mutex // guards m and n
	m  map[string][]verdict
	n  int // verdicts held, over all keys
}

type verdict struct {
	cert, issuer []byte // DER of the certificate and issuer judged
	rejectSHA1   bool
	r            *Result
	err          error
	expires      time.Time
}

func (v *verdict) matches(cert, issuer []byte, rejectSHA1 bool) bool {
	return v.rejectSHA1 == rejectSHA1 && bytes.Equal(v.cert, cert) && bytes.Equal(v.issuer, issuer)
}

// NewVerdictCache returns a cache holding at most max verdicts (1024 when
// max <= 0).
func NewVerdictCache(max int) *VerdictCache {
	if max <= 0 {
		max = 1024
	}
	return &VerdictCache{max: max, m: make(map[string][]verdict)}
}

// Validate is like the package-level Validate but memoises Check. The second
// result reports whether the verdict came from the cache. Requests with a
// nonce are never cached.
func (c *VerdictCache) Validate(der []byte, cert, issuer *x509.Certificate, now time.Time, opts Options) (*Result, bool, error) {
	if c == nil || opts.Nonce != nil || cert == nil || issuer == nil || len(der)+len(cert.Raw)+len(issuer.Raw) > maxCacheable {
		r, err := Validate(der, cert, issuer, now, opts)
		return r, false, err
	}
	v, ok := c.get(der, cert, issuer, opts, now)
	if !ok {
		v = verdict{cert: cert.Raw, issuer: issuer.Raw, rejectSHA1: opts.RejectSHA1}
		v.r, v.err = Check(der, cert, issuer, opts)
		var perr *Error
		switch {
		case v.err == nil:
			v.expires = v.r.Expires(opts).Add(opts.skew())
			c.put(der, v, now)
		case errors.As(v.err, &perr) && perr.Reason == Malformed:
			// Garbage is cheap to reject again and costly to keep.
		default:
			v.expires = now.Add(negativeTTL)
			c.put(der, v, now)
		}
	}
	if v.err != nil {
		return nil, ok, v.err
	}
	return v.r, ok, v.r.Fresh(now, opts)
}

func (c *VerdictCache) get(der []byte, cert, issuer *x509.Certificate, opts Options, now time.Time) (verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs := c.m[string(der)]
	for i := range vs {
		if !vs[i].matches(cert.Raw, issuer.Raw, opts.RejectSHA1) {
			continue
		}
		if now.After(vs[i].expires) {
			c.removeLocked(string(der), i)
			return verdict{}, false
		}
		return vs[i], true
	}
	return verdict{}, false
}

func (c *VerdictCache) removeLocked(key string, i int) {
	vs := c.m[key]
	vs = append(vs[:i:i], vs[i+1:]...)
	if len(vs) == 0 {
		delete(c.m, key)
	} else {
		c.m[key] = vs
	}
	c.n--
}

func (c *VerdictCache) put(der []byte, v verdict, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n >= c.max {
		for key, vs := range c.m {
			for i := len(vs) - 1; i >= 0; i-- {
				if now.After(vs[i].expires) {
					c.removeLocked(key, i)
					vs = c.m[key]
				}
			}
		}
		for key, vs := range c.m {
			if c.n < c.max {
				break
			}
			delete(c.m, key)
			c.n -= len(vs)
		}
	}
	key := string(der)
	for i := range c.m[key] {
		if c.m[key][i].matches(v.cert, v.issuer, v.rejectSHA1) {
			c.m[key][i] = v // a concurrent miss got here first
			return
		}
	}
	c.m[key] = append(c.m[key], v)
	c.n++
}

// Len reports how many verdicts are held.
func (c *VerdictCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
