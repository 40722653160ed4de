package revocation

import (
	"sync"
	"time"
)

// Test hooks into the CRL store, kept apart so that the tests using them
// read as behaviour.

// crlFakeClock is a wall clock the test moves by hand (the store paces
// refreshes and refetches by the wall clock, not by the State's time).
type crlFakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newCRLFakeClock() *crlFakeClock { return &crlFakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *crlFakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *crlFakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// crlSetClock makes the store pace itself by clock.
func crlSetClock(s *crlStore, clock func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = clock
}

// crlSetMaxMarks sets how many CRL-number marks the store keeps beyond
// those of the CRLs in memory.
func crlSetMaxMarks(s *crlStore, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxMarks = n
}

// crlStoreStats reports the CRLs in memory, the bytes they take, the
// CRL-number marks kept, and whether every CRL in memory has its mark.
func crlStoreStats(s *crlStore) (entries int, size int64, marks int, liveMarked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	liveMarked = true
	for el := s.lru.Front(); el != nil; el = el.Next() {
		sl := el.Value.(*crlSlot)
		if sl.entry.crl.Number != nil && s.marks[sl.entry.scope] == nil {
			liveMarked = false
		}
	}
	return s.lru.Len(), s.size, len(s.marks), liveMarked
}
