// Package flight merges concurrent calls for the same key into one, like
// golang.org/x/sync/singleflight, with the cancellation a handshake needs:
// the shared work runs with the first caller's context values but not its
// deadline or cancellation; each caller stops waiting when its own context
// ends; and the work is canceled once every caller waiting for it has left,
// after which a new caller starts afresh instead of joining it.
package flight

import (
	"context"
	"sync"
)

// Group merges calls by key. The zero Group is ready to use. It is safe for
// concurrent use.
type Group[K comparable, V any] struct {
	mu sync.Mutex // guards m
	m  map[K]*call[V]
}

type call[V any] struct {
	done    chan struct{}
	val     V
	waiters int // guarded by Group.mu
	cancel  context.CancelFunc
}

// Do runs work once for all the concurrent callers that ask for key and
// returns its result. shared reports whether the caller joined work already
// in flight. If ctx ends first, Do returns ctx's error (err is nil
// otherwise): the work goes on for the callers still waiting, and is
// canceled when none is left.
func (g *Group[K, V]) Do(ctx context.Context, key K, work func(context.Context) V) (val V, shared bool, err error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[K]*call[V])
	}
	c, shared := g.m[key]
	if shared {
		c.waiters++
	} else {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &call[V]{done: make(chan struct{}), waiters: 1, cancel: cancel}
		g.m[key] = c
		go func() {
			c.val = work(wctx)
			cancel()
			g.mu.Lock()
			if g.m[key] == c {
				delete(g.m, key)
			}
			g.mu.Unlock()
			close(c.done)
		}()
	}
	g.mu.Unlock()

	select {
	case <-c.done:
		return c.val, shared, nil
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			c.cancel()
			if g.m[key] == c {
				delete(g.m, key) // a later caller starts afresh
			}
		}
		g.mu.Unlock()
		return val, shared, ctx.Err()
	}
}
