package flight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestMerged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[string, int]
		var runs atomic.Int64
		work := func(ctx context.Context) int {
			runs.Add(1)
			time.Sleep(time.Second)
			return 42
		}
		var wg sync.WaitGroup
		var shared atomic.Int64
		for range 16 {
			wg.Go(func() {
				v, s, err := g.Do(context.Background(), "k", work)
				if err != nil || v != 42 {
					t.Errorf("got %d, %v", v, err)
				}
				if s {
					shared.Add(1)
				}
			})
		}
		wg.Wait()
		if runs.Load() != 1 || shared.Load() != 15 {
			t.Errorf("runs %d, shared %d", runs.Load(), shared.Load())
		}
		// Once done, the next call runs the work again.
		g.Do(context.Background(), "k", work)
		if runs.Load() != 2 {
			t.Errorf("runs %d after a finished flight", runs.Load())
		}
	})
}

// TestCanceledWhenAllLeave: the work is canceled when its last waiter
// leaves, and a new caller then starts afresh instead of joining it.
func TestCanceledWhenAllLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[string, error]
		release := make(chan struct{})
		first := func(ctx context.Context) error {
			<-ctx.Done()
			<-release // still winding down when the next caller comes
			return ctx.Err()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, _, err := g.Do(ctx, "k", first); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("first caller: %v", err)
		}
		v, shared, err := g.Do(context.Background(), "k", func(context.Context) error { return nil })
		if err != nil || v != nil || shared {
			t.Fatalf("second caller joined the canceled work: %v %v %v", v, shared, err)
		}
		close(release)
	})
}

// TestWaiterLeavesOthersStay: one caller leaving does not cancel the work
// for the others.
func TestWaiterLeavesOthersStay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[int, string]
		work := func(ctx context.Context) string {
			select {
			case <-time.After(2 * time.Second):
				return "done"
			case <-ctx.Done():
				return "canceled"
			}
		}
		short, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var got string
		wg.Go(func() { got, _, _ = g.Do(context.Background(), 1, work) })
		time.Sleep(time.Millisecond)
		if _, shared, err := g.Do(short, 1, work); !shared || err == nil {
			t.Errorf("short caller: shared %v, err %v", shared, err)
		}
		wg.Wait()
		if got != "done" {
			t.Errorf("the remaining caller got %q", got)
		}
	})
}
