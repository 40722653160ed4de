package ct

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// TestRefresherObserver: each download is reported as a fetch, with its
// status, size and duration.
func TestRefresherObserver(t *testing.T) {
	t.Parallel()
	key, err := testpki.NewKey(testpki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := newListServer(t)
	log, err := testpki.NewCTLog("observed log", "Operator", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	srv.set(signedList(t, key, testpki.Now, log))
	var (
		mu  sync.Mutex
		evs []tlsclient.Event
	)
	r, err := NewRefresher(RefresherConfig{ListURL: srv.URL + "/log_list.json", SignatureURL: srv.URL + "/log_list.sig", PublicKey: key.Public(),
		Observer: func(_ context.Context, ev tlsclient.Event) {
			mu.Lock()
			defer mu.Unlock()
			evs = append(evs, ev)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(t.Context()); err != nil { // 304 Not Modified
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, ev := range evs {
		s := ev.Kind.String()
		if ev.Kind == tlsclient.EventFetchDone {
			s += " " + http.StatusText(ev.Status)
		}
		got = append(got, s)
		if ev.Verifier != "ct" || ev.Source != "log-list" || !strings.HasPrefix(ev.URL, srv.URL) {
			t.Errorf("event %+v", ev)
		}
	}
	want := "fetch_start|fetch_done OK|fetch_start|fetch_done OK|fetch_start|fetch_done Not Modified"
	if strings.Join(got, "|") != want {
		t.Errorf("events:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	if evs[1].Bytes == 0 || evs[1].URL != srv.URL+"/log_list.json" {
		t.Errorf("list fetch_done = %+v", evs[1])
	}
}
