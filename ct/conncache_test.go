package ct

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// TestConnCacheAgreesWithFreshVerifier: a verifier that has seen a
// connection before (its verdict cached) decides, at every time around the
// instants a verdict depends on, exactly as a new verifier does, in either
// order of the times.
func TestConnCacheAgreesWithFreshVerifier(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	f1 := w.list.Lookup(w.logs["F1"].ID()).StateSince               // F1 becomes usable (qualified before)
	stale := w.list.Timestamp.Add(DefaultMaxListAge)                // the list goes stale after this
	soon := testpki.Now.Add(time.Minute).Truncate(time.Millisecond) // a future SCT's timestamp
	around := func(at time.Time) []time.Time {
		return []time.Time{at.Add(-2 * time.Minute), at.Add(-time.Millisecond), at.Add(-time.Nanosecond), at, at.Add(time.Nanosecond), at.Add(time.Minute)}
	}
	embFuture := append(w.emb("A1", "B1"), testpki.Embed{Log: w.logs["D1"], Options: testpki.SCTOptions{Timestamp: soon}})
	cases := []struct {
		name  string
		cert  *testpki.CTCert
		tls   func(*testpki.CTCert) [][]byte
		times []time.Time
	}{
		{"log state change", w.leaf(t, 90*day, w.emb("A1", "F1")...), nil, around(f1)},
		{"TLS SCTs, log state change", w.leaf(t, 90*day), func(c *testpki.CTCert) [][]byte { return w.scts(t, c, "B1", "F1") }, around(f1)},
		{"list goes stale", w.leaf(t, 90*day, w.emb("A1", "B1")...), nil, around(stale)},
		{"future SCT", w.leaf(t, 90*day, embFuture...), nil, around(soon)},
		{"retired log", w.leaf(t, 90*day, w.emb("A1", "R1", "B1")...), nil, around(testpki.Now)},
	}
	opts := []cmp.Option{cmpopts.IgnoreUnexported(Requirement{}), cmpopts.IgnoreFields(SCTResult{}, "Cached")}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tlsSCTs [][]byte
			if tc.tls != nil {
				tlsSCTs = tc.tls(tc.cert)
			}
			for _, order := range []string{"forward", "backward"} {
				times := append([]time.Time(nil), tc.times...)
				if order == "backward" {
					for i, j := 0, len(times)-1; i < j; i, j = i+1, j-1 {
						times[i], times[j] = times[j], times[i]
					}
				}
				warm := New(w.list)
				for _, at := range times {
					for round := range 2 {
						st := w.state(tc.cert, tlsSCTs, nil)
						st.Now = at
						gotErr, got, gotD := run(t, warm, st)
						st = w.state(tc.cert, tlsSCTs, nil)
						st.Now = at
						wantErr, want, wantD := run(t, New(w.list), st)
						if (gotErr == nil) != (wantErr == nil) || gotErr != nil && !errors.Is(gotErr, tlsclient.ErrCTPolicy) {
							t.Fatalf("%s, %s (round %d): error %v, want %v", order, at, round, gotErr, wantErr)
						}
						if got.Outcome != want.Outcome || got.Detail != want.Detail {
							t.Errorf("%s, %s (round %d): %s %q, want %s %q", order, at, round, got.Outcome, got.Detail, want.Outcome, want.Detail)
						}
						if diff := cmp.Diff(wantD, gotD, opts...); diff != "" {
							t.Errorf("%s, %s (round %d): details (-fresh +warm):\n%s", order, at, round, diff)
						}
					}
				}
			}
		})
	}
}

// TestConnCacheHit: a repeated connection is answered from the cache,
// with its signature verdicts marked cached; another staple, other TLS
// SCTs or another list is a different connection.
func TestConnCacheHit(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	cert := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	v := New(w.list).(*verifier)
	_, _, first := run(t, v, w.state(cert, nil, nil))
	_, _, second := run(t, v, w.state(cert, nil, nil))
	if v.conns.n != 1 {
		t.Fatalf("%d connection verdicts cached, want 1", v.conns.n)
	}
	for i := range first.SCTs {
		if first.SCTs[i].Cached || !second.SCTs[i].Cached {
			t.Errorf("SCT %d: cached %v, then %v; want false, then true", i, first.SCTs[i].Cached, second.SCTs[i].Cached)
		}
	}
	if e := v.conns.lookup(w.list, &w.state(cert, nil, nil).ConnectionState, testpki.Now); e == nil {
		t.Error("no verdict for the same connection")
	}
	other := []*tlsclient.State{
		w.state(cert, w.scts(t, cert, "C1"), nil),
		w.state(cert, nil, w.ocsp(t, cert)),
		w.state(w.leaf(t, 90*day, w.emb("A1", "B1")...), nil, nil),
	}
	for i, st := range other {
		if e := v.conns.lookup(w.list, &st.ConnectionState, testpki.Now); e != nil {
			t.Errorf("connection %d: found the verdict of another", i)
		}
	}
	list, err := ParseLogList(w.listJSON)
	if err != nil {
		t.Fatal(err)
	}
	if e := v.conns.lookup(list, &w.state(cert, nil, nil).ConnectionState, testpki.Now); e != nil {
		t.Error("found a verdict reached with another list")
	}
	// Bounded.
	small := New(w.list, WithCacheSize(16)).(*verifier)
	for range 40 {
		run(t, small, w.state(w.leaf(t, 90*day, w.emb("A1", "B1")...), nil, nil))
	}
	if n := small.conns.n; n > small.conns.max {
		t.Errorf("%d connection verdicts held, bound %d", n, small.conns.max)
	}
}
