package tlsclient

import (
	"context"
	"net"
	"sync"
	"time"
)

// A watchdog enforces the bounds of a Dialer's dials in flight (see
// Dialer.dial) with one runtime timer, set for the earliest deadline,
// instead of a timer per dial.
//
// A deadline on a connection, or a context with a deadline handed to
// package net, arms a runtime timer per dial and per phase (connect,
// handshake), and arming a timer may wake the network poller: on a
// loopback resumed handshake that was about 0.7% of its time. Here a dial
// takes a lock twice, and the timer is touched only when a dial's
// deadline comes before every other's: with one bound for all dials,
// deadlines arrive in order and the timer fires about once per bound,
// finds dials long finished, and moves on to the oldest still in flight.
//
// It is per Dialer, not per process, so that its timer lives where the
// Dialer does (a testing/synctest bubble, say). The zero value is ready.
type watchdog struct {
	mu    sync.Mutex // guards everything below, and the list links of watches
	head  *watch     // the watches armed, most recent first
	timer *time.Timer
	when  time.Time // when timer fires; zero when it is stopped
}

// A watch is one dial's bound. When its deadline passes while it is armed,
// the watchdog cancels the dial's connect and interrupts the I/O of its
// connection (see fire).
type watch struct {
	deadline time.Time

	// Guarded by the watchdog's mu.
	prev, next *watch
	armed      bool
	fired      bool
	cancel     context.CancelFunc // the connect's context
	conn       net.Conn           // the connection, once connected

	// expiring is held while the watch's expiry runs, so that disarm
	// can wait for it.
	expiring sync.Mutex
}

// arm starts watching x.
func (w *watchdog) arm(x *watch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	x.armed, x.prev, x.next = true, nil, w.head
	if w.head != nil {
		w.head.prev = x
	}
	w.head = x
	if w.when.IsZero() || x.deadline.Before(w.when) {
		w.schedule(x.deadline)
	}
}

// schedule sets the timer to fire at t. w.mu is held.
func (w *watchdog) schedule(t time.Time) {
	w.when = t
	if w.timer == nil {
		w.timer = time.AfterFunc(time.Until(t), w.fire)
		return
	}
	w.timer.Reset(time.Until(t))
}

// connected records the connection whose I/O an expiry interrupts. It
// reports false when x expired already: the caller's connection is then
// past its bound.
func (w *watchdog) connected(x *watch, c net.Conn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	x.conn, x.cancel = c, nil
	return !x.fired
}

// disarm stops watching x and reports whether it expired; when it did,
// the expiry has run by the time disarm returns.
func (w *watchdog) disarm(x *watch) (expired bool) {
	w.mu.Lock()
	if x.armed {
		w.unlink(x)
	}
	expired = x.fired
	w.mu.Unlock()
	if expired {
		x.expiring.Lock() // held by fire until the expiry has run
		x.expiring.Unlock()
	}
	return expired
}

func (w *watchdog) unlink(x *watch) {
	if x.prev != nil {
		x.prev.next = x.next
	} else {
		w.head = x.next
	}
	if x.next != nil {
		x.next.prev = x.prev
	}
	x.armed, x.prev, x.next = false, nil, nil
}

// fire expires the watches whose deadline has passed and sets the timer
// for the earliest of the others. The expiries run outside w.mu: a
// connection's SetDeadline is the caller's code when the Dialer has a
// dial function of its own.
func (w *watchdog) fire() {
	// An expired watch, with what its expiry acts on, read under w.mu.
	type expiry struct {
		x      *watch
		cancel context.CancelFunc
		conn   net.Conn
	}
	var expired []expiry
	now := time.Now()
	w.mu.Lock()
	var earliest time.Time
	for x := w.head; x != nil; {
		next := x.next
		if !now.Before(x.deadline) {
			w.unlink(x)
			x.fired = true
			x.expiring.Lock()
			expired = append(expired, expiry{x, x.cancel, x.conn})
		} else if earliest.IsZero() || x.deadline.Before(earliest) {
			earliest = x.deadline
		}
		x = next
	}
	w.when = time.Time{}
	if !earliest.IsZero() {
		w.schedule(earliest)
	}
	w.mu.Unlock()
	for _, e := range expired {
		if e.cancel != nil {
			e.cancel()
		} else if e.conn != nil {
			// Blocked reads and writes return os.ErrDeadlineExceeded;
			// a connection without deadlines is closed instead.
			if e.conn.SetDeadline(aLongTimeAgo) != nil {
				e.conn.Close()
			}
		}
		e.x.expiring.Unlock()
	}
}

// aLongTimeAgo is a deadline that has passed.
var aLongTimeAgo = time.Unix(1, 0)
