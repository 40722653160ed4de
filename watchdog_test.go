package tlsclient

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// deadlineConn records the deadlines set on it; with refuse set, it has
// none (SetDeadline fails) and records Close instead.
type deadlineConn struct {
	net.Conn
	mu        sync.Mutex
	deadlines []time.Time
	refuse    bool
	closed    bool
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refuse {
		return errors.New("no deadlines")
	}
	c.deadlines = append(c.deadlines, t)
	return nil
}

func (c *deadlineConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

func (c *deadlineConn) interrupted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.deadlines) == 1 && c.deadlines[0].Equal(aLongTimeAgo)
}

// TestWatchdog: each watch expires at its own deadline, whatever the
// order in which they were armed; a watch disarmed in time never expires;
// a connect is canceled, a connection's I/O interrupted (or, without
// deadlines, the connection closed); and the timer keeps going after
// firing for watches disarmed since.
func TestWatchdog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w watchdog
		start := time.Now()
		at := func(d time.Duration) *watch { return &watch{deadline: start.Add(d)} }

		// Armed latest first: the timer moves earlier each time.
		ctx, cancel := context.WithCancel(context.Background())
		connecting := at(3 * time.Second)
		connecting.cancel = cancel
		w.arm(connecting)
		plain := &deadlineConn{}
		handshaking := at(2 * time.Second)
		w.arm(handshaking)
		if !w.connected(handshaking, plain) {
			t.Fatal("expired before its deadline")
		}
		closing := &deadlineConn{refuse: true}
		noDeadlines := at(time.Second)
		w.arm(noDeadlines)
		w.connected(noDeadlines, closing)
		early := at(500 * time.Millisecond)
		w.arm(early)

		// A dial that finishes in time.
		time.Sleep(400 * time.Millisecond)
		if w.disarm(early) {
			t.Fatal("a watch disarmed before its deadline expired")
		}
		// The timer still fires at 500ms, finds nothing, and moves on.
		time.Sleep(time.Second - 400*time.Millisecond)
		synctest.Wait()
		if !closing.closed || plain.interrupted() || ctx.Err() != nil {
			t.Fatalf("at 1s: closed %v, interrupted %v, canceled %v; want only the connection without deadlines closed", closing.closed, plain.interrupted(), ctx.Err())
		}
		if !w.disarm(noDeadlines) {
			t.Error("disarm after the deadline must report the expiry")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if !plain.interrupted() || ctx.Err() != nil {
			t.Fatalf("at 2s: interrupted %v, canceled %v", plain.interrupted(), ctx.Err())
		}
		if w.connected(handshaking, plain) {
			t.Error("connected after the expiry must report it")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if ctx.Err() == nil {
			t.Fatal("at 3s: the connect is not canceled")
		}
		if !w.disarm(connecting) || !w.disarm(handshaking) {
			t.Error("expired watches must say so")
		}
		if w.head != nil || !w.when.IsZero() {
			t.Errorf("nothing armed, yet head %v, timer set for %v", w.head, w.when)
		}

		// Armed again after going idle: the timer restarts.
		again := at(4 * time.Second)
		w.arm(again)
		time.Sleep(time.Second)
		synctest.Wait()
		if !w.disarm(again) {
			t.Error("a watch armed after the timer stopped must still expire")
		}
	})
}

// TestWatchdogConcurrent: many dials arm and disarm at once; only those
// past their deadline expire.
func TestWatchdogConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w watchdog
		var wg sync.WaitGroup
		var mu sync.Mutex
		expired := 0
		for i := range 200 {
			wg.Go(func() {
				x := &watch{deadline: time.Now().Add(time.Duration(1+i%10) * 100 * time.Millisecond)}
				w.arm(x)
				if i%2 == 0 {
					time.Sleep(50 * time.Millisecond) // in time
				} else {
					time.Sleep(2 * time.Second) // too late
				}
				if w.disarm(x) {
					mu.Lock()
					expired++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if expired != 100 {
			t.Errorf("%d watches expired, want the 100 that overran", expired)
		}
	})
}
