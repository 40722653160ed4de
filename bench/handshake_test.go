package bench

import (
	"testing"
	"time"
)

// BenchmarkHandshake: full handshakes, plain crypto/tls against each
// tlsclient variant (see the package documentation).
//
//	go test ./bench -run '^$' -bench 'Handshake$' -benchtime 2000x
func BenchmarkHandshake(b *testing.B) { benchHandshakes(b, false) }

// BenchmarkResumed: resumed handshakes (TLS 1.3 session tickets), plain
// crypto/tls against each tlsclient variant.
func BenchmarkResumed(b *testing.B) { benchHandshakes(b, true) }

func benchHandshakes(b *testing.B, sessions bool) {
	w := newWorld(b)
	vs := w.variants(b, sessions)
	hits := warmUp(b, w, vs, sessions)
	for _, v := range vs[1:] {
		b.Run(v.name, func(b *testing.B) { pair(benchRun(b), w, vs[0], v, sessions, hits) })
	}
}

// warmUp dials with every variant until their caches are warm (and, with
// sessions, each holds a session) and returns the responder's hit count,
// which the measured dials must leave unchanged.
func warmUp(tb testing.TB, w *world, vs []variant, sessions bool) int64 {
	tb.Helper()
	for _, v := range vs {
		if _, err := v.dial(); err != nil {
			tb.Fatalf("%s: %v", v.name, err)
		}
	}
	for range 10 {
		for _, v := range vs {
			dialOK(tb, v, sessions)
		}
	}
	hits, _ := w.resp.Hits()
	// revocation and all each asked for the intermediate once; the leaf
	// is decided by its staple.
	if hits != 2 {
		tb.Fatalf("warm-up: %d OCSP requests, want 2", hits)
	}
	return hits
}

// pair runs base and v alternately, r.n times each, and reports the medians
// and v's overhead, then the allocations per handshake of each.
func pair(r *run, w *world, base, v variant, sessions bool, hits int64) {
	tb, tv := make([]time.Duration, 0, r.n), make([]time.Duration, 0, r.n)
	r.resetTimer()
	for i := range r.n {
		for k := range 2 {
			start := time.Now()
			if (i+k)%2 == 0 {
				dialOK(r, base, sessions)
				tb = append(tb, time.Since(start))
			} else {
				dialOK(r, v, sessions)
				tv = append(tv, time.Since(start))
			}
		}
	}
	r.stopTimer()
	if h, _ := w.resp.Hits(); h != hits {
		r.Fatalf("%d OCSP requests during the measured dials: the warm path fetched", h-hits)
	}
	mb, mv := median(tb), median(tv)
	r.metric(float64(mv.Nanoseconds()), "ns/hs")
	r.metric(float64(mb.Nanoseconds()), "plain-ns/hs")
	r.metric(overhead(mv, mb), "overhead-%")

	runs := 200
	if r.b == nil {
		runs = 3
	}
	dial := func(v variant) func() error {
		return func() error { _, err := v.dial(); return err }
	}
	ab := allocsPer(r, runs, dial(base))
	av := allocsPer(r, runs, dial(v))
	r.metric(av, "allocs/hs")
	r.metric(av-ab, "extra-allocs/hs")
}

// BenchmarkDial: each variant alone, full and resumed, with b.ReportAllocs:
// not a comparison (the machine's drift is not cancelled), but the loop to
// profile.
//
//	go test ./bench -run '^$' -bench 'Dial/resumed/all' -benchtime 3000x -cpuprofile cpu.out
func BenchmarkDial(b *testing.B) {
	for _, mode := range []struct {
		name     string
		sessions bool
	}{{"full", false}, {"resumed", true}} {
		b.Run(mode.name, func(b *testing.B) {
			w := newWorld(b)
			vs := w.variants(b, mode.sessions)
			warmUp(b, w, vs, mode.sessions)
			for _, v := range vs {
				b.Run(v.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						dialOK(b, v, mode.sessions)
					}
				})
			}
		})
	}
}
