package bench

import (
	"context"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
)

// BenchmarkSCTVerify: SCT verification per handshake, cold and warm, against
// a plain handshake (see the package documentation).
//
//	go test ./bench -run '^$' -bench SCTVerify -benchtime 2000x
func BenchmarkSCTVerify(b *testing.B) { sctVerify(benchRun(b)) }

// sctVerify alternates, r.n times, a plain full handshake, the CT verifier
// on a new verifier (three signatures to check) and on a warm one (three
// cached verdicts), with the world's three embedded SCTs.
func sctVerify(r *run) {
	w := newWorld(r)
	plain := w.plain(false)
	warm := ct.New(w.list)
	ctx := context.Background()
	verify := func(v tlsclient.Verifier) time.Duration {
		st := w.state()
		start := time.Now()
		err := v.Verify(ctx, st)
		d := time.Since(start)
		if err != nil {
			r.Fatal(err)
		}
		if c := st.Checks(); len(c) != 1 || c[0].Outcome != tlsclient.Pass {
			r.Fatalf("CT checks: %+v", c)
		}
		return d
	}
	verify(warm)
	dialOK(r, plain, false)
	var th, tc, tw []time.Duration
	r.resetTimer()
	for i := range r.n {
		for k := range 3 {
			switch (i + k) % 3 {
			case 0:
				start := time.Now()
				dialOK(r, plain, false)
				th = append(th, time.Since(start))
			case 1:
				r.stopTimer()
				cold := ct.New(w.list)
				r.startTimer()
				tc = append(tc, verify(cold))
			case 2:
				tw = append(tw, verify(warm))
			}
		}
	}
	r.stopTimer()
	mh, mc, mw := median(th), median(tc), median(tw)
	r.metric(float64(mc.Nanoseconds()), "cold-ns")
	r.metric(float64(mw.Nanoseconds()), "warm-ns")
	r.metric(float64(mh.Nanoseconds()), "plain-ns/hs")
	r.metric(100*float64(mc)/float64(mh), "cold-%-of-hs")
	r.metric(100*float64(mw)/float64(mh), "warm-%-of-hs")
	r.metric(float64(mc)/float64(mw), "cold/warm")
}
