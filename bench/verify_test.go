package bench

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// allocBudgets bounds the heap allocations of each hot path (a warm
// verification, see hotPaths), a little above what it measures today
// (in parentheses, with Go 1.26), so that a change that adds allocations
// to every handshake fails TestAllocBudgets. Raise a budget only for
// allocations that buy something, and say so next to it.
var allocBudgets = map[string]float64{
	"revocation":      36, // (33) revocation.New(): staple for the leaf, cached OCSP response for the intermediate
	"ct":              12, // (10) ct.New(): three embedded SCTs, a cached connection verdict
	"engine/defaults": 9,  // (7) a Dialer's VerifyConnection: chain, host name, built-in staple check
	"engine/all":      23, // (20) the same with revocation.New() and ct.New()
}

// A hotPath is what a warm handshake runs beyond crypto/tls: one verifier
// given a State, or a Dialer's whole VerifyConnection.
type hotPath struct {
	name string
	run  func() error
}

// hotPaths returns the hot paths, their caches warm, each verifying the
// ConnectionState of a real handshake with the world's server.
func hotPaths(tb testing.TB, w *world) []hotPath {
	tb.Helper()
	c, err := tls.Dial("tcp", w.srv.Addr, &tls.Config{RootCAs: w.root.Pool(), ServerName: serverName, Time: testpki.Clock()})
	if err != nil {
		tb.Fatal(err)
	}
	cs := c.ConnectionState()
	c.Close()
	ctx := context.Background()
	verifier := func(v tlsclient.Verifier) func() error {
		return func() error {
			return v.Verify(ctx, &tlsclient.State{ConnectionState: cs, Now: testpki.Now})
		}
	}
	engine := func(vs ...tlsclient.Verifier) func() error {
		vc := w.dialer(tb, false, vs...).TLSConfig().VerifyConnection
		return func() error { return vc(cs) }
	}
	paths := []hotPath{
		{"revocation", verifier(revocation.New())},
		{"ct", verifier(ct.New(w.list))},
		{"engine/defaults", engine()},
		{"engine/all", engine(revocation.New(), ct.New(w.list))},
	}
	for _, p := range paths {
		for range 3 { // warm: fetched, then cached
			if err := p.run(); err != nil {
				tb.Fatalf("%s: %v", p.name, err)
			}
		}
	}
	return paths
}

// BenchmarkWarmVerify: each hot path alone, with its allocations.
//
//	go test ./bench -run '^$' -bench WarmVerify -benchmem
func BenchmarkWarmVerify(b *testing.B) {
	w := newWorld(b)
	for _, p := range hotPaths(b, w) {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAllocBudgets fails when a hot path allocates more than its budget
// (allocBudgets). It counts allocations, which do not depend on the
// machine's load. Under the race detector, which makes sync.Pool drop
// items at random, one more allocation is tolerated.
func TestAllocBudgets(t *testing.T) {
	slack := 0.0
	if raceEnabled {
		slack = 1
	}
	w := newWorld(t)
	for _, p := range hotPaths(t, w) {
		budget, ok := allocBudgets[p.name]
		if !ok {
			t.Errorf("%s: no budget", p.name)
			continue
		}
		var err error
		got := testing.AllocsPerRun(200, func() {
			if e := p.run(); e != nil {
				err = e
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		t.Logf("%-16s %3.0f allocations (budget %.0f)", p.name, got, budget)
		if got > budget+slack {
			t.Errorf("%s: %.0f allocations per warm verification, over the budget of %.0f: find the new ones (go test ./bench -run '^$' -bench WarmVerify/%s -memprofile mem.out; go tool pprof -sample_index=alloc_objects mem.out), and cut them or raise the budget in allocBudgets with the reason", p.name, got, budget, p.name)
		}
	}
}
