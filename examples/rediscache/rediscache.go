// Package rediscache is a revocation.Cache backed by Redis, so that a fleet
// of clients shares the OCSP responses and CRLs one of them fetched: a new
// instance starts warm, and a responder sees one request per fleet, not one
// per process. It is an example of how small such an adapter is — Get and
// Put map to GET and SET with PX — with the two details that matter in
// production: errors are misses (the cache serves availability, never
// correctness), and an optional in-process tier in front of Redis, so that
// a warm handshake costs no round trip.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379",
//		DialTimeout: 200 * time.Millisecond, ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond,
//		DialerRetries: 1, MaxRetries: -1}) // fail fast: a miss is cheaper than a slow handshake
//	cache := rediscache.New(rdb, rediscache.WithLocal(32<<20))
//	d, err := tlsclient.New(tlsclient.WithVerifiers(revocation.New(revocation.WithCache(cache))))
//
// Nothing read from Redis is trusted: the revocation package validates
// every OCSP response and CRL it gets from a Cache (signature, issuer,
// freshness) exactly as if it had just been downloaded, so whoever can
// write to Redis can at worst make clients fetch again, or fail to
// (a denial of service, as with the network itself).
//
// It lives in a module of its own so that tlsclient does not depend on
// go-redis; copy it, or write the same twenty lines for memcached.
package rediscache

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tlsclient/tlsclient/revocation"
)

// DefaultPrefix is put before every key, so that the entries are easy to
// find, expire or flush, and stay apart from other data in the database.
const DefaultPrefix = "tlsclient:"

// Cache is a revocation.Cache in Redis. It is safe for concurrent use.
type Cache struct {
	rdb     redis.Cmdable
	prefix  string
	local   *revocation.MemoryCache // nil: every Get asks Redis
	onError func(error)
}

var _ revocation.Cache = (*Cache)(nil)

// An Option configures a Cache.
type Option func(*Cache)

// WithPrefix replaces DefaultPrefix.
func WithPrefix(p string) Option { return func(c *Cache) { c.prefix = p } }

// WithLocal keeps up to maxBytes of entries in process memory in front of
// Redis (a revocation.MemoryCache): a Get answered locally costs no round
// trip. Entries found in Redis are kept locally for the time Redis has left
// on them, so that no process uses an entry longer than the fleet does.
func WithLocal(maxBytes int64) Option {
	return func(c *Cache) { c.local = revocation.NewMemoryCache(maxBytes) }
}

// WithErrorHandler calls f with every Redis error (after which Get reports
// a miss and Put drops the value), for logs and metrics. f must be safe for
// concurrent use and must not block.
func WithErrorHandler(f func(error)) Option { return func(c *Cache) { c.onError = f } }

// New returns a Cache that stores entries in rdb (a *redis.Client, a
// *redis.ClusterClient, a *redis.Ring...). Give rdb short timeouts and few
// retries (go-redis retries a failed dial 5 times, 100ms apart, by
// default): Get is called during TLS handshakes, and a Redis that is slow
// or down should turn into a miss quickly, not into a slow handshake.
func New(rdb redis.Cmdable, opts ...Option) *Cache {
	c := &Cache{rdb: rdb, prefix: DefaultPrefix}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Get implements revocation.Cache. A Redis error is a miss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool) {
	if c.local != nil {
		if v, ok := c.local.Get(ctx, key); ok {
			return v, true
		}
	}
	k := c.prefix + key
	if c.local == nil {
		v, err := c.rdb.Get(ctx, k).Bytes()
		if err != nil {
			c.fail(err)
			return nil, false
		}
		return v, true
	}
	// One round trip for the value and the time it has left.
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, k)
		ttl = p.PTTL(ctx, k)
		return nil
	})
	if err != nil {
		c.fail(err)
		return nil, false
	}
	v, err := get.Bytes()
	if err != nil {
		c.fail(err)
		return nil, false
	}
	if left := ttl.Val(); left > 0 {
		c.local.Put(ctx, key, v, left)
	}
	return v, true
}

// Put implements revocation.Cache: SET with an expiry of ttl. A Redis error
// drops the value.
func (c *Cache) Put(ctx context.Context, key string, value []byte, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	if c.local != nil {
		c.local.Put(ctx, key, value, ttl)
	}
	if ttl < time.Millisecond {
		ttl = time.Millisecond // Redis expiries are in milliseconds
	}
	c.fail(c.rdb.Set(ctx, c.prefix+key, value, ttl).Err())
}

// fail reports err unless it is nil or a plain miss.
func (c *Cache) fail(err error) {
	if err == nil || errors.Is(err, redis.Nil) || c.onError == nil {
		return
	}
	c.onError(err)
}
