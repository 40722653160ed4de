package ct

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"hash/maphash"
	"sync"
	"time"
)

// connCache remembers passing verdicts per connection inputs: the log list,
// the leaf, the issuers of the verified chains, the SCTs of the TLS
// extension and the stapled OCSP response. Everything else a verdict
// depends on is the time of check, and only through a few instants: when
// the list goes stale, when a log enters its listed state, when a future
// SCT stops being future. A verdict is kept with the interval between them
// in which it was reached, and a handshake at a time inside it, with the
// same inputs, gets the same verdict for a hash and a comparison of the
// inputs, instead of parsing the SCTs, finding their signature verdicts and
// evaluating the policy again. It is safe for concurrent use.
type connCache struct {
	seed maphash.Seed
	max  int

	mu sync.Mutex // guards m and n
	m  map[uint64][]*connVerdict
	n  int
}

// maxConnVerdictAge bounds how long a verdict is reused, whatever its
// interval, so that a connection is judged from scratch at least that often.
const maxConnVerdictAge = 10 * time.Minute

// maxConnInputBytes bounds the bytes of SCTs (TLS extension) and stapled
// OCSP response a verdict keeps: a hostile server with a compliant
// certificate could otherwise send large, ever-different junk beside it
// and have each copy kept. Real inputs are a few hundred bytes of SCTs and
// a staple of one to three KiB; connections with more are judged afresh
// (their signature verdicts are still cached).
const maxConnInputBytes = 16 << 10

// connVerdict is a passing verdict for one set of inputs, valid for checks
// at times in [from, until).
type connVerdict struct {
	list        *LogList
	leaf        []byte   // the leaf's DER
	issuer      []byte   // the DER of the first chain's issuer, nil without one
	spkis       [][]byte // the issuer SPKI of each verified chain (nil for a chain of one)
	scts        [][]byte // the TLS extension's SCTs
	staple      []byte
	from, until time.Time
	details     *Details      // as recorded, signature verdicts marked cached
	age         time.Duration // the list's age in details, as ageBucket
	detail      string
}

func newConnCache(max int) *connCache {
	return &connCache{seed: maphash.MakeSeed(), max: max, m: make(map[uint64][]*connVerdict)}
}

func writeField(h *maphash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// hash hashes the inputs of cs (the list is compared, not hashed).
func (c *connCache) hash(cs *tls.ConnectionState) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	chains := cs.VerifiedChains
	writeField(&h, chains[0][0].Raw)
	if len(chains[0]) > 1 {
		writeField(&h, chains[0][1].Raw)
	}
	for _, ch := range chains {
		if len(ch) > 1 {
			writeField(&h, ch[1].RawSubjectPublicKeyInfo)
		}
	}
	h.WriteByte(0)
	for _, s := range cs.SignedCertificateTimestamps {
		writeField(&h, s)
	}
	h.WriteByte(0)
	writeField(&h, cs.OCSPResponse)
	return h.Sum64()
}

// matches reports whether e was reached for list and cs.
func (e *connVerdict) matches(list *LogList, cs *tls.ConnectionState) bool {
	chains := cs.VerifiedChains
	if e.list != list || len(e.spkis) != len(chains) || len(e.scts) != len(cs.SignedCertificateTimestamps) ||
		!bytes.Equal(e.leaf, chains[0][0].Raw) || !bytes.Equal(e.staple, cs.OCSPResponse) {
		return false
	}
	if len(chains[0]) > 1 {
		if !bytes.Equal(e.issuer, chains[0][1].Raw) {
			return false
		}
	} else if e.issuer != nil {
		return false
	}
	for i, ch := range chains {
		if len(ch) > 1 {
			if e.spkis[i] == nil || !bytes.Equal(e.spkis[i], ch[1].RawSubjectPublicKeyInfo) {
				return false
			}
		} else if e.spkis[i] != nil {
			return false
		}
	}
	for i, s := range cs.SignedCertificateTimestamps {
		if !bytes.Equal(e.scts[i], s) {
			return false
		}
	}
	return true
}

// lookup returns the verdict for list and cs valid at now, or nil.
func (c *connCache) lookup(list *LogList, cs *tls.ConnectionState, now time.Time) *connVerdict {
	if list == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	h := c.hash(cs)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.m[h] {
		if e.matches(list, cs) {
			if now.Before(e.from) || !now.Before(e.until) {
				return nil
			}
			return e
		}
	}
	return nil
}

// at returns the Details of a check at now: the stored ones, or a copy
// when the list's age, as reported, has changed since.
func (e *connVerdict) at(now time.Time) *Details {
	age := now.Sub(e.list.Timestamp)
	if ageBucket(age) == e.age {
		return e.details
	}
	d := *e.details
	d.LogList.Age = round(age)
	return &d
}

// ageBucket maps ages that round formats alike to the same value, so that
// they are compared without formatting them.
func ageBucket(d time.Duration) time.Duration {
	switch {
	case d < 0:
		return d
	case d >= 24*time.Hour:
		return d.Truncate(time.Hour)
	}
	return d.Truncate(time.Second)
}

// store remembers that list and cs passed at now with details d (not stale)
// and detail, for as long as nothing that depends on the time of check
// changes: until the list goes stale (maxAge > 0), a log of an SCT enters
// its listed state, or maxConnVerdictAge passes. A verdict with a future
// SCT is not kept (its reason names the time of check), nor one reached
// with a list dated in the future (its problem names the time of check),
// nor one for inputs larger than maxConnInputBytes.
func (c *connCache) store(list *LogList, cs *tls.ConnectionState, now time.Time, maxAge time.Duration, d *Details, detail string) {
	if list == nil || d.LogList.Stale || d.LogList.Future || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return
	}
	size := len(cs.OCSPResponse)
	for _, s := range cs.SignedCertificateTimestamps {
		size += len(s)
	}
	if size > maxConnInputBytes {
		return
	}
	until := now.Add(maxConnVerdictAge)
	if maxAge > 0 {
		until = minTime(until, list.Timestamp.Add(maxAge))
	}
	kept := *d
	kept.SCTs = append([]SCTResult(nil), d.SCTs...)
	for i := range kept.SCTs {
		s := &kept.SCTs[i]
		if s.Status == StatusFuture {
			return
		}
		if l := list.Lookup([32]byte(s.LogID)); l != nil && now.Before(l.StateSince) {
			until = minTime(until, l.StateSince)
		}
		switch s.Status {
		case StatusValid, StatusNotCounted, StatusBadSignature, StatusUnsupportedAlgorithm:
			// Reused, these signature verdicts come from the cache.
			s.Cached = true
		}
	}
	if !now.Before(until) {
		return
	}
	chains := cs.VerifiedChains
	e := &connVerdict{list: list, leaf: chains[0][0].Raw, staple: cs.OCSPResponse, scts: cs.SignedCertificateTimestamps,
		from: now, until: until, details: &kept, age: ageBucket(now.Sub(list.Timestamp)), detail: detail,
		spkis: make([][]byte, len(chains))}
	if len(chains[0]) > 1 {
		e.issuer = chains[0][1].Raw
	}
	for i, ch := range chains {
		if len(ch) > 1 {
			e.spkis[i] = ch[1].RawSubjectPublicKeyInfo
		}
	}
	h := c.hash(cs)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, old := range c.m[h] {
		if old.matches(list, cs) {
			c.m[h][i] = e
			return
		}
	}
	if c.n >= c.max {
		c.evictLocked(now)
	}
	c.m[h] = append(c.m[h], e)
	c.n++
}

// evictLocked drops the verdicts no longer valid at now, and if that is not
// enough an arbitrary eighth of the others (map order is random).
func (c *connCache) evictLocked(now time.Time) {
	for h, es := range c.m {
		kept := es[:0]
		for _, e := range es {
			if now.Before(e.until) {
				kept = append(kept, e)
			}
		}
		c.n -= len(es) - len(kept)
		if len(kept) == 0 {
			delete(c.m, h)
		} else {
			c.m[h] = kept
		}
	}
	target := c.max - max(1, c.max/8)
	for h, es := range c.m {
		if c.n <= target {
			break
		}
		delete(c.m, h)
		c.n -= len(es)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
