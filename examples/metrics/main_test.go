package main

import (
	"bytes"
	"encoding/json"
	"expvar"
	"testing"
)

func counter(t *testing.T, m *expvar.Map, key string) int64 {
	t.Helper()
	v, ok := m.Get(key).(*expvar.Int)
	if !ok {
		return 0
	}
	return v.Value()
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	if err := run(m, 3); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		m    *expvar.Map
		key  string
		want int64
	}{
		{m.handshakes, "pass", 3},
		{m.handshakes, "fail", 3},
		{m.decisions, "chain pass", 6},
		{m.decisions, "revocation fail", 3},
		{m.decisions, "revocation pass", 9},
		// The leaves and the CA are each fetched once, then cached
		// (revoked answers too).
		{m.fetches, "ocsp 200", 3},
		{m.cache, "ocsp miss", 3},
		{m.cache, "ocsp hit", 9},
	}
	for _, w := range want {
		if got := counter(t, w.m, w.key); got != w.want {
			t.Errorf("%s = %d, want %d", w.key, got, w.want)
		}
	}
	if counter(t, m.fetchBytes, "ocsp") == 0 || m.fetchTime.Value() <= 0 {
		t.Errorf("fetch_bytes %d, fetch_seconds %v", counter(t, m.fetchBytes, "ocsp"), m.fetchTime.Value())
	}

	var out bytes.Buffer
	if err := m.print(&out); err != nil {
		t.Fatal(err)
	}
	var decoded map[string]map[string]float64
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if decoded["handshakes"]["pass"] != 3 || decoded["fetch_seconds"] != nil {
		t.Errorf("printed:\n%s", out.String())
	}
}

// TestMetricsIndependent: two sets of counters do not share state.
func TestMetricsIndependent(t *testing.T) {
	t.Parallel()
	a, b := newMetrics(), newMetrics()
	if err := run(a, 1); err != nil {
		t.Fatal(err)
	}
	if got := counter(t, b.handshakes, "pass"); got != 0 {
		t.Errorf("b counted %d handshakes of a", got)
	}
	if got := counter(t, a.handshakes, "pass"); got != 1 {
		t.Errorf("a counted %d handshakes, want 1", got)
	}
}
