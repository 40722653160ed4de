package bench

import (
	"testing"
	"time"
)

// TestFixtures runs every benchmark body for a couple of iterations, so
// that the fixtures are exercised by go test ./..., and checks what does
// not depend on timing. Timings are only logged.
func TestFixtures(t *testing.T) {
	t.Run("Handshake", func(t *testing.T) {
		t.Parallel()
		quickHandshakes(t, false)
	})
	t.Run("Resumed", func(t *testing.T) {
		t.Parallel()
		quickHandshakes(t, true)
	})
	t.Run("ColdChain", func(t *testing.T) {
		t.Parallel()
		// coldChain fails unless each cold dial asked for 3 statuses.
		coldChain(testRun(t, 2), 20*time.Millisecond)
	})
	t.Run("ConcurrentColdDials", func(t *testing.T) {
		t.Parallel()
		r := testRun(t, 1)
		concurrentCold(r, 64, 20*time.Millisecond)
		if got := r.metrics["max-fetches/URL"]; got != 1 {
			t.Errorf("64 concurrent cold dials: %v fetches per URL, want 1", got)
		}
	})
	t.Run("CRLLoad", func(t *testing.T) {
		t.Parallel()
		r := testRun(t, 2)
		crlLoad(r, 10_000)
		if got := r.metrics["B/entry"]; got > 48 {
			t.Errorf("the index retains %.1f bytes per entry, want at most 48", got)
		}
	})
	t.Run("SCTVerify", func(t *testing.T) {
		t.Parallel()
		sctVerify(testRun(t, 2))
	})
}

// quickHandshakes pairs plain crypto/tls with each tlsclient variant for
// two iterations; pair fails if a handshake did not resume as expected or
// a warm dial fetched.
func quickHandshakes(t *testing.T, sessions bool) {
	w := newWorld(t)
	vs := w.variants(t, sessions)
	hits := warmUp(t, w, vs, sessions)
	for _, v := range vs[1:] {
		pair(testRun(t, 2), w, vs[0], v, sessions, hits)
	}
}
