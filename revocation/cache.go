package revocation

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Cache keeps fetched revocation data (DER OCSP responses, and DER CRLs
// behind a short header with their ETag) between dials. Values are raw
// bytes and are validated again whenever they are
// used (signature, issuer, freshness), so a Cache need not be trusted for
// integrity, only for availability: a Redis or memcached adapter is a few
// lines, and lets a fleet of clients share what one of them fetched (see
// examples/rediscache in the repository). A Cache must be safe for
// concurrent use.
//
// The contract, for adapters:
//
//   - Keys are opaque strings of any bytes (NUL included) and may be a few
//     hundred bytes long (they name a CertID, or a CRL URL and its issuer);
//     OCSP keys start with "ocsp:", CRL keys with "crl". A store with
//     restrictions (memcached: 250 bytes, no spaces or control characters)
//     hashes them, with SHA-256 for instance. Add a prefix of your own to
//     share a database.
//   - Values are up to WithMaxOCSPResponseSize (64 KiB) for OCSP and
//     WithMaxCRLSize (64 MiB) for CRLs; a store that cannot hold a value
//     drops it (memcached's default item limit is 1 MiB). Callers never
//     modify a value passed to Put or returned by Get.
//   - Put stores for at most ttl (always positive), so that nothing is
//     used after the fleet's copy expired; evicting earlier is fine.
//   - Errors are misses: Get returns false and Put drops the value. A
//     Cache cannot fail a handshake, only make it fetch.
//   - Get runs inside TLS handshakes with the handshake's context: it must
//     honour the context and return quickly (short network timeouts, few
//     retries). The verifiers ask a Cache other than a *MemoryCache only
//     when what they hold in memory does not answer, and put in it only
//     what they fetched.
//   - OCSP responses are always kept in the Cache (a *MemoryCache by
//     default); CRLs, which the verifiers index in memory, go to the Cache
//     only when WithCache is given, and are verified again when loaded
//     from it, as from WithCRLCacheDir.
type Cache interface {
	// Get returns the value stored under key, if any.
	Get(ctx context.Context, key string) ([]byte, bool)
	// Put stores value under key for at most ttl. Implementations may
	// evict earlier.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration)
}

// DefaultMemoryCacheSize is the byte budget of NewMemoryCache(0).
const DefaultMemoryCacheSize = 256 << 20

// MemoryCache is the default Cache: in memory, bounded in bytes, least
// recently used entries evicted first, entries dropped after their ttl.
type MemoryCache struct {
	max int64

	mu    sync.Mutex // guards the fields below
	size  int64
	lru   *list.List // of *memEntry, most recent first
	items map[string]*list.Element
}

type memEntry struct {
	key     string
	value   []byte
	expires time.Time // monotonic wall clock of the process
}

var _ Cache = (*MemoryCache)(nil)

// NewMemoryCache returns a cache holding at most maxBytes of values
// (DefaultMemoryCacheSize when maxBytes <= 0).
func NewMemoryCache(maxBytes int64) *MemoryCache {
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryCacheSize
	}
	return &MemoryCache{max: maxBytes, lru: list.New(), items: map[string]*list.Element{}}
}

// Get implements Cache.
func (m *MemoryCache) Get(_ context.Context, key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*memEntry)
	if time.Now().After(e.expires) {
		m.remove(el)
		return nil, false
	}
	m.lru.MoveToFront(el)
	return e.value, true
}

// Put implements Cache. A value larger than the whole budget is not kept.
func (m *MemoryCache) Put(_ context.Context, key string, value []byte, ttl time.Duration) {
	if ttl <= 0 || int64(len(value)) > m.max {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.items[key]; ok {
		m.remove(el)
	}
	e := &memEntry{key: key, value: value, expires: time.Now().Add(ttl)}
	m.items[key] = m.lru.PushFront(e)
	m.size += int64(len(value))
	for m.size > m.max {
		m.remove(m.lru.Back())
	}
}

func (m *MemoryCache) remove(el *list.Element) {
	e := m.lru.Remove(el).(*memEntry)
	delete(m.items, e.key)
	m.size -= int64(len(e.value))
}

// Len reports the number of entries held.
func (m *MemoryCache) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}
