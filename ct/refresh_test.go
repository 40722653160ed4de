package ct

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

// listServer serves a log list and its signature, which tests replace.
type listServer struct {
	*httptest.Server
	mu        sync.Mutex
	list, sig []byte
	hits      int
}

func newListServer(t *testing.T) *listServer {
	s := &listServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits++
		switch r.URL.Path {
		case "/log_list.json":
			etag := `"` + string(rune('a'+len(s.list)%26)) + `"`
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
			w.Write(s.list)
		case "/log_list.sig":
			w.Write(s.sig)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *listServer) set(list, sig []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list, s.sig = list, sig
}

func signedList(t *testing.T, key crypto.Signer, ts time.Time, logs ...*testpki.CTLog) ([]byte, []byte) {
	t.Helper()
	list, err := testpki.CTLogList(ts, logs...)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := testpki.SignCTLogList(list, key)
	if err != nil {
		t.Fatal(err)
	}
	return list, sig
}

func TestRefresher(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	key, err := testpki.NewKey(testpki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := newListServer(t)
	cache := filepath.Join(t.TempDir(), "log_list.json")
	cfg := RefresherConfig{ListURL: srv.URL + "/log_list.json", SignatureURL: srv.URL + "/log_list.sig", PublicKey: key.Public(), CacheFile: cache}
	r, err := NewRefresher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.LogList() != nil || r.Err() != nil {
		t.Fatal("a list before any download")
	}
	ctx := context.Background()

	// Used by a verifier before the first download: not enforced.
	v := New(nil, WithLogSource(r))
	cert := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	if _, chk, _ := run(t, v, w.state(cert, nil, nil)); !strings.Contains(chk.Detail, "no list yet") {
		t.Errorf("before the first list: %s", chk.Detail)
	}

	// First list: only A1 — the certificate fails.
	srv.set(signedList(t, key, testpki.Now.Add(-2*day), w.logs["A1"]))
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	first := r.LogList()
	if err, _, _ := run(t, v, w.state(cert, nil, nil)); err == nil {
		t.Error("passes with a list lacking B1")
	}
	// Not modified: same list.
	if err := r.Refresh(ctx); err != nil || r.LogList() != first {
		t.Fatalf("304: %v", err)
	}

	// A newer list with B1: swapped in; the verifier sees it at once.
	newer, newerSig := signedList(t, key, testpki.Now.Add(-day), w.logs["A1"], w.logs["B1"])
	srv.set(newer, newerSig)
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if r.LogList() == first {
		t.Fatal("not swapped")
	}
	if err, _, _ := run(t, v, w.state(cert, nil, nil)); err != nil {
		t.Errorf("with the newer list: %v", err)
	}
	if b, _ := os.ReadFile(cache); string(b) != string(newer) {
		t.Error("the cache file does not hold the newer list")
	}

	// Refused: a rollback, a bad signature, a list that does not parse, a
	// server error. The current list stays.
	cur := r.LogList()
	old, oldSig := signedList(t, key, testpki.Now.Add(-3*day), w.logs["A1"], w.logs["B1"], w.logs["C1"])
	other, _ := testpki.NewKey(testpki.ECDSAP256)
	forged, forgedSig := signedList(t, other, testpki.Now, w.logs["A1"], w.logs["B1"], w.logs["C1"])
	junkSig, _ := testpki.SignCTLogList([]byte("not json"), key)
	for _, c := range []struct {
		name      string
		list, sig []byte
		want      string
	}{
		{"rollback", old, oldSig, "rollback"},
		{"forged", forged, forgedSig, "signature does not verify"},
		{"not a list", []byte("not json"), junkSig, "not a v3 log list"},
	} {
		srv.set(c.list, c.sig)
		err := r.Refresh(ctx)
		if err == nil || !strings.Contains(err.Error(), c.want) || r.Err() != err {
			t.Errorf("%s: %v", c.name, err)
		}
		if r.LogList() != cur {
			t.Errorf("%s: the list changed", c.name)
		}
	}
	bad := cfg
	bad.ListURL = srv.URL + "/missing"
	r404, _ := NewRefresher(bad)
	var fe interface{ Unwrap() error }
	if err := r404.Refresh(ctx); err == nil || !errors.As(err, &fe) {
		t.Errorf("404: %v", err)
	}

	// A restart loads the last good list from disk, verified.
	r2, err := NewRefresher(cfg)
	if err != nil || r2.LogList() == nil || !r2.LogList().Timestamp.Equal(cur.Timestamp) || r2.Err() != nil {
		t.Fatalf("restart: %v %v", err, r2.Err())
	}
	// A cache file that does not verify is ignored, with the reason.
	os.WriteFile(cache, forged, 0o600)
	r3, err := NewRefresher(cfg)
	if err != nil || r3.LogList() != nil || r3.Err() == nil {
		t.Fatalf("tampered cache used: %v", r3.Err())
	}
}

func TestRefresherRun(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	key, _ := testpki.NewKey(testpki.ECDSAP256)
	srv := newListServer(t)
	srv.set(signedList(t, key, testpki.Now, w.logs["A1"]))
	r, err := NewRefresher(RefresherConfig{ListURL: srv.URL + "/log_list.json", SignatureURL: srv.URL + "/log_list.sig", PublicKey: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.Run(ctx, time.Hour, func(err error) { t.Errorf("refresh: %v", err) })
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); r.LogList() == nil && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if r.LogList() == nil {
		t.Fatal("Run did not refresh")
	}
}

func TestNewRefresherErrors(t *testing.T) {
	t.Parallel()
	key, _ := testpki.NewKey(testpki.ECDSAP256)
	for _, cfg := range []RefresherConfig{
		{ListURL: "file:///etc/passwd", SignatureURL: "https://x.invalid/sig", PublicKey: key.Public()},
		{ListURL: "https://x.invalid/list", SignatureURL: "", PublicKey: key.Public()},
		{ListURL: "https://x.invalid/list", SignatureURL: "https://x.invalid/sig"},
	} {
		if _, err := NewRefresher(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
