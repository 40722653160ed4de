package ct

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

func TestParseLogList(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	l := w.list
	if !l.Timestamp.Equal(testpki.Now.Add(-day)) || l.Version != "1.0" || len(l.Logs()) != len(worldLogs) {
		t.Fatalf("list: %s %s, %d logs", l.Version, l.Timestamp, len(l.Logs()))
	}
	get := func(name string) *Log {
		t.Helper()
		lg := l.Lookup(w.logs[name].ID())
		if lg == nil {
			t.Fatalf("log %s missing", name)
		}
		return lg
	}
	c1 := get("C1")
	if !c1.Tiled || c1.SubmissionURL == "" || c1.MonitoringURL == "" || c1.URL != "" || c1.Interval == nil || c1.MMD != time.Minute {
		t.Errorf("tiled log: %+v", c1)
	}
	if a1 := get("A1"); a1.Tiled || a1.URL == "" || a1.Operator.Name != "A" || a1.KeyErr != nil || a1.State != StateUsable {
		t.Errorf("A1: %+v", a1)
	}
	if get("A2").Type != LogTypeProd || get("T1").Type != LogTypeTest {
		t.Error("log types")
	}
	if e1 := get("E1"); e1.State != StateReadOnly || e1.FinalTreeHead == nil || e1.FinalTreeHead.TreeSize != 1000 {
		t.Errorf("readonly: %+v", e1)
	}
	m1 := get("M1")
	if m1.OperatorAt(testpki.Now.Add(-300*day)) != "A" || m1.OperatorAt(testpki.Now.Add(-200*day)) != "M" || m1.OperatorAt(testpki.Now) != "M" {
		t.Error("OperatorAt")
	}
	for name, want := range map[string]LogState{"D1": StateQualified, "R1": StateRetired, "P1": StatePending, "X1": StateRejected, "F1": StateUsable} {
		if s := get(name).State; s != want {
			t.Errorf("%s: %s, want %s", name, s, want)
		}
	}
}

func TestStateAt(t *testing.T) {
	t.Parallel()
	since := testpki.Now
	before, after := since.Add(-time.Second), since
	for _, c := range []struct {
		state          LogState
		before         LogState
		acceptedBefore bool
	}{
		{StatePending, StateNone, false},
		{StateQualified, StatePending, false},
		{StateUsable, StateQualified, true},
		{StateReadOnly, StateUsable, true},
		{StateRetired, StateQualified, true},
		{StateRejected, StateNone, false},
	} {
		l := &Log{State: c.state, StateSince: since}
		if got := l.StateAt(before); got != c.before {
			t.Errorf("%s before its timestamp: %s, want %s", c.state, got, c.before)
		}
		if got := l.StateAt(after); got != c.state {
			t.Errorf("%s at its timestamp: %s", c.state, got)
		}
		if l.acceptedAt(before) != c.acceptedBefore {
			t.Errorf("%s accepted before: %v", c.state, !c.acceptedBefore)
		}
	}
	r := &Log{State: StateRetired, StateSince: since}
	if !r.countsAt(after, before) || r.countsAt(after, after) || r.acceptedAt(after) {
		t.Error("retired: counts only for SCTs before the retirement")
	}
}

// edit parses the world's list JSON, lets f change it, and parses it again.
func edit(t *testing.T, f func(m map[string]any)) ([]byte, error) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(getWorld(t).listJSON, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	_, perr := ParseLogList(b)
	return b, perr
}

func firstLog(m map[string]any) map[string]any {
	return m["operators"].([]any)[0].(map[string]any)["logs"].([]any)[0].(map[string]any)
}

func TestParseLogListErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"no timestamp", func(m map[string]any) { delete(m, "log_list_timestamp") }, "no log_list_timestamp"},
		{"log_id not the key hash", func(m map[string]any) { firstLog(m)["log_id"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }, "not the SHA-256 hash of its key"},
		{"no key", func(m map[string]any) { delete(firstLog(m), "key") }, "no key"},
		{"key not DER", func(m map[string]any) {
			firstLog(m)["key"] = "AAAA"
			firstLog(m)["log_id"] = "cJ6AyISHokEeHuTfufIqhhSS0gxHZRUMDHlKvXD4FHw=" // SHA-256 of 00 00 00
		}, "not a DER SubjectPublicKeyInfo"},
		{"two states", func(m map[string]any) {
			firstLog(m)["state"] = map[string]any{"usable": map[string]any{"timestamp": "2025-01-01T00:00:00Z"}, "retired": map[string]any{"timestamp": "2025-01-01T00:00:00Z"}}
		}, "exactly one"},
		{"state without timestamp", func(m map[string]any) { firstLog(m)["state"] = map[string]any{"usable": map[string]any{}} }, "no timestamp"},
		{"interval backwards", func(m map[string]any) {
			firstLog(m)["temporal_interval"] = map[string]any{"start_inclusive": "2026-01-01T00:00:00Z", "end_exclusive": "2025-01-01T00:00:00Z"}
		}, "ends before it starts"},
		{"duplicate log", func(m map[string]any) {
			op := m["operators"].([]any)[1].(map[string]any)
			op["logs"] = append(op["logs"].([]any), firstLog(m))
		}, "also the ID of"},
		{"operator without name", func(m map[string]any) { m["operators"].([]any)[0].(map[string]any)["name"] = "" }, "has no name"},
		{"negative mmd", func(m map[string]any) { firstLog(m)["mmd"] = -1 }, "out of range"},
		{"not a list", func(m map[string]any) { m["operators"] = "x" }, "not a v3 log list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := edit(t, c.edit)
			var le *ListError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want a ListError about %q", err, c.want)
			}
		})
	}
	// An unknown state is kept, and never counts.
	b, err := edit(t, func(m map[string]any) {
		firstLog(m)["state"] = map[string]any{"frozen": map[string]any{"timestamp": "2025-01-01T00:00:00Z"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ParseLogList(b)
	if lg := l.Logs()[0]; lg.State != StateUnknown || lg.StateName != "frozen" || lg.acceptedAt(testpki.Now) {
		t.Errorf("unknown state: %+v", lg)
	}
	for _, bad := range [][]byte{nil, []byte("{}"), []byte(`{"log_list_timestamp":"2026-01-01T00:00:00Z"} {}`), bytes.Repeat([]byte(" "), MaxLogListSize+1)} {
		if _, err := ParseLogList(bad); err == nil {
			t.Errorf("%.20q accepted", bad)
		}
	}
}

func TestParseSignedLogList(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	data := w.listJSON
	rsaKey, err := testpki.NewKey(testpki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := testpki.NewKey(testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := testpki.NewKey(testpki.ECDSAP384)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		name string
		sign func([]byte) []byte
		pub  any
	}{
		{"RSA PKCS1v15 SHA-256 (Google's)", func(b []byte) []byte { s, _ := testpki.SignCTLogList(b, rsaKey); return s }, rsaKey.Public()},
		{"ECDSA P-256", func(b []byte) []byte { s, _ := testpki.SignCTLogList(b, ecKey); return s }, ecKey.Public()},
		{"ECDSA P-384 SHA-384", func(b []byte) []byte {
			_, s, _ := testpki.Sign(p384, crypto.SHA384, b)
			return s
		}, p384.Public()},
		{"Ed25519", func(b []byte) []byte { return ed25519.Sign(edPriv, b) }, edPub},
	} {
		t.Run(k.name, func(t *testing.T) {
			sig := k.sign(data)
			l, err := ParseSignedLogList(data, sig, k.pub)
			if err != nil || l.Lookup(w.logs["A1"].ID()) == nil {
				t.Fatalf("%v", err)
			}
			tampered := bytes.Replace(data, []byte(`"usable"`), []byte(`"retired"`), 1)
			if _, err := ParseSignedLogList(tampered, sig, k.pub); !errors.Is(err, ErrListSignature) {
				t.Errorf("tampered list: %v", err)
			}
			if _, err := ParseSignedLogList(data, nil, k.pub); !errors.Is(err, ErrListSignature) {
				t.Errorf("no signature: %v", err)
			}
		})
	}
	smallSig, _ := rsa.SignPKCS1v15(rand.Reader, small, crypto.SHA256, make([]byte, 32))
	for _, pub := range []any{nil, &small.PublicKey, "key", &ecdsa.PublicKey{}} {
		if _, err := ParseSignedLogList(data, append(smallSig, 1), pub); !errors.Is(err, ErrListSignature) {
			t.Errorf("%T: %v", pub, err)
		}
	}
	if _, err := ParseSignedLogList(data, testpki.Must(testpki.SignCTLogList(data, ecKey)), rsaKey.Public()); !errors.Is(err, ErrListSignature) {
		t.Errorf("wrong key: %v", err)
	}
}

func TestLoadLogList(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "list.json")
	if err := os.WriteFile(path, w.listJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := LoadLogList(path)
	if err != nil || len(l.Logs()) != len(worldLogs) {
		t.Fatalf("%v", err)
	}
	key, _ := testpki.NewKey(testpki.ECDSAP256)
	sig, _ := testpki.SignCTLogList(w.listJSON, key)
	os.WriteFile(path+".sig", sig, 0o600)
	if _, err := LoadSignedLogList(path, path+".sig", key.Public()); err != nil {
		t.Error(err)
	}
	if _, err := LoadLogList(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadSignedLogList(path, filepath.Join(dir, "missing.sig"), key.Public()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing signature: %v", err)
	}
	os.WriteFile(path, []byte("{"), 0o600)
	if _, err := LoadLogList(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad file: %v", err)
	}
}
