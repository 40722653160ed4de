package adversarial_test

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// signed returns a v3 log list of two logs, at ts, and its signature.
func signed(t testing.TB, key crypto.Signer, ts time.Time) ([]byte, []byte) {
	t.Helper()
	a := testpki.Must(testpki.NewCTLog("Adversarial A", "Operator A", testpki.ECDSAP256))
	b := testpki.Must(testpki.NewCTLog("Adversarial B", "Operator B", testpki.ECDSAP256))
	list := testpki.Must(testpki.CTLogList(ts, a, b))
	return list, testpki.Must(testpki.SignCTLogList(list, key))
}

// TestHostileLogListSources refreshes a ct.Refresher from sources that
// misbehave. Every refresh fails with a typed error inside its budget,
// the list in use stays the last good one, and no goroutine is left.
func TestHostileLogListSources(t *testing.T) {
	leakCheck(t)
	key := testpki.Must(testpki.NewKey(testpki.ECDSAP256))
	otherKey := testpki.Must(testpki.NewKey(testpki.ECDSAP256))
	goodList, goodSig := signed(t, key, testpki.Now.AddDate(0, 0, -2))
	older, olderSig := signed(t, key, testpki.Now.AddDate(0, 0, -5))
	forged, forgedSig := signed(t, otherKey, testpki.Now)
	signedJunk := func(b []byte) ([]byte, []byte) { return b, testpki.Must(testpki.SignCTLogList(b, key)) }
	junk, junkSig := signedJunk([]byte("<html>not JSON</html>"))
	deep, deepSig := signedJunk([]byte(strings.Repeat("[", 200000)))
	noTime, noTimeSig := signedJunk([]byte(`{"version":"1","operators":[]}`))
	var sent atomic.Int64

	fetchKind := func(k revocation.FetchErrorKind) func(error) bool {
		return as(func(e *revocation.FetchError) bool { return e.Kind == k })
	}
	serveBytes := func(b []byte) http.Handler { return testpki.BytesHandler("application/json", b) }
	tests := []struct {
		name      string
		list, sig http.Handler // nil: the good one
		ok        func(error) bool
		slow      bool
		sent      *atomic.Int64
	}{
		{name: "list hangs", list: testpki.HangHandler(), ok: fetchKind(revocation.FetchTimeout), slow: true},
		{name: "signature hangs", sig: testpki.HangHandler(), ok: fetchKind(revocation.FetchTimeout), slow: true},
		{name: "list drips", list: testpki.DripHandler(goodList, 20*time.Millisecond), ok: fetchKind(revocation.FetchTimeout), slow: true},
		{name: "list is a gigabyte", list: stream(1<<30, &sent)(nil), ok: fetchKind(revocation.FetchTooLarge), sent: &sent},
		{name: "signature is a gigabyte", sig: stream(1<<30, &sent)(nil), ok: fetchKind(revocation.FetchTooLarge), sent: &sent},
		{name: "list announces a gigabyte", ok: fetchKind(revocation.FetchTooLarge),
			list: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1073741824")
				w.Write([]byte("{"))
			})},
		{name: "list redirects in a loop", list: testpki.RedirectLoopHandler(), ok: fetchKind(revocation.FetchRedirects)},
		{name: "list redirects to file://", list: testpki.RedirectHandler("file:///etc/passwd"), ok: fetchKind(revocation.FetchRedirects)},
		{name: "list answers 503", list: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", 503) }),
			ok: fetchKind(revocation.FetchStatus)},
		{name: "HTML for both", list: serveBytes([]byte(htmlPage)), sig: serveBytes([]byte(htmlPage)), ok: is(ct.ErrListSignature)},
		{name: "list signed by another key", list: serveBytes(forged), sig: serveBytes(forgedSig), ok: is(ct.ErrListSignature)},
		{name: "truncated signature", sig: serveBytes(goodSig[:len(goodSig)/2]), ok: is(ct.ErrListSignature)},
		{name: "empty signature", sig: serveBytes(nil), ok: is(ct.ErrListSignature)},
		{name: "another list's signature", list: serveBytes(older), sig: serveBytes(goodSig), ok: is(ct.ErrListSignature)},
		{name: "signed HTML", list: serveBytes(junk), sig: serveBytes(junkSig), ok: as(func(*ct.ListError) bool { return true })},
		{name: "signed deeply nested JSON", list: serveBytes(deep), sig: serveBytes(deepSig), ok: as(func(*ct.ListError) bool { return true })},
		{name: "signed list without a timestamp", list: serveBytes(noTime), sig: serveBytes(noTimeSig), ok: as(func(*ct.ListError) bool { return true })},
		{name: "rollback to an older signed list", list: serveBytes(older), sig: serveBytes(olderSig),
			ok: func(err error) bool { return strings.Contains(err.Error(), "rollback") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakCheck(t)
			listEP, sigEP := newEndpoint(t), newEndpoint(t)
			listEP.set(serveBytes(goodList))
			sigEP.set(serveBytes(goodSig))
			timeout := 10 * time.Second
			if tt.slow {
				timeout = fetchTimeout
			}
			r, err := ct.NewRefresher(ct.RefresherConfig{ListURL: listEP.URL + "/log_list.json", SignatureURL: sigEP.URL + "/log_list.sig",
				PublicKey: key.Public(), Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), budget)
			defer cancel()
			if err := r.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			good := r.LogList()
			if tt.list != nil {
				listEP.set(tt.list)
			}
			if tt.sig != nil {
				sigEP.set(tt.sig)
			}
			sent.Store(0)
			start := time.Now()
			err = r.Refresh(ctx)
			elapsed := time.Since(start)
			if err == nil || !tt.ok(err) {
				t.Fatalf("not the error wanted: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "ct: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
			if r.Err() != err {
				t.Errorf("Err() = %v, want the refresh's error", r.Err())
			}
			if r.LogList() != good {
				t.Error("the list in use changed")
			}
			if elapsed > budget {
				t.Errorf("took %v, over the budget", elapsed)
			}
			if tt.sent != nil && tt.sent.Load() > 64<<20 {
				t.Errorf("the source sent %d MiB: the download was not cut at the cap", tt.sent.Load()>>20)
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				t.Error("the refresh needed the caller's deadline to end")
			}
		})
	}
}
