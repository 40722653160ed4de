package ct

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// Tests for hostile inputs: timestamps that overflow time.Duration, inputs
// sized to fill the caches, and a refresher whose download hangs.

// A log list dated far in the future once made the age computation
// saturate and round recurse forever: a fatal stack overflow, which no
// recover catches.
func TestListTimestampFarFuture(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	for _, ts := range []time.Time{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		js, err := testpki.CTLogList(ts, w.logs["A1"])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseLogList(js); err == nil || !strings.Contains(err.Error(), "log_list_timestamp") {
			t.Errorf("a list dated %s: %v, want refused", ts, err)
		}
	}
	// 300 years ahead: beyond time.Duration, but a date ParseLogList takes.
	far, err := testpki.CTLogList(testpki.Now.AddDate(300, 0, 0), w.logs["A1"], w.logs["B1"])
	if err != nil {
		t.Fatal(err)
	}
	list, err := ParseLogList(far)
	if err != nil {
		t.Fatal(err)
	}
	good := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	bad := w.leaf(t, 90*day, w.emb("A1")...)
	for _, opts := range [][]Option{nil, {WithMaxListAge(0)}} {
		v := New(list, opts...)
		err, chk, d := run(t, v, w.state(good, nil, nil))
		if err != nil || chk.Outcome != tlsclient.Pass {
			t.Errorf("compliant certificate, list from the future: %v %s %q", err, chk.Outcome, chk.Detail)
		}
		if !strings.Contains(chk.Detail, "after the time of check") || len(d.Problems) == 0 {
			t.Errorf("the list's date is not reported as a problem: %q %q", chk.Detail, d.Problems)
		}
		if !strings.HasPrefix(d.LogList.Age, "-") {
			t.Errorf("age %q", d.LogList.Age)
		}
		// Still enforced: a list from the future does not turn CT off.
		if err, _, _ := run(t, v, w.state(bad, nil, nil)); err == nil {
			t.Error("non-compliant certificate passes with a list from the future")
		}
		if _, err := json.Marshal(d); err != nil {
			t.Error(err)
		}
	}
	// A list a few hours ahead (clock skew) is not a problem.
	near, _ := testpki.CTLogList(testpki.Now.Add(3*time.Hour), w.logs["A1"], w.logs["B1"])
	nl, err := ParseLogList(near)
	if err != nil {
		t.Fatal(err)
	}
	if _, chk, d := run(t, New(nl), w.state(good, nil, nil)); chk.Outcome != tlsclient.Pass || len(d.Problems) != 0 {
		t.Errorf("list 3h ahead: %s %q", chk.Outcome, d.Problems)
	}
}

func TestRoundExtremes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{math.MinInt64, "-106751d23h"},
		{math.MinInt64 + 1, "-106751d23h"},
		{math.MaxInt64, "106751d23h"},
		{-90 * time.Minute, "-1h30m0s"},
		{-2 * day, "-2d"},
		{0, "0s"},
		{1500 * time.Millisecond, "1s"},
		{25 * time.Hour, "1d1h"},
	} {
		if got := round(c.d); got != c.want {
			t.Errorf("round(%d) = %q, want %q", int64(c.d), got, c.want)
		}
	}
}

// Apple's lifetime once overflowed for a certificate valid for more than
// 292 years, and came out as 0 days: the lax 180-day row.
func TestAppleLifetimeOverflow(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		nb, na time.Time
		want   int
	}{
		{time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), 106752},
		{testpki.Now, testpki.Now.Add(90*day - time.Second), 90},
		{testpki.Now, testpki.Now.Add(90 * day), 91},
		{testpki.Now, testpki.Now.Add(-day), 0},
	} {
		if got := appleLifetimeDays(&x509.Certificate{NotBefore: c.nb, NotAfter: c.na}); got != c.want {
			t.Errorf("%s to %s: %d days, want %d", c.nb, c.na, got, c.want)
		}
	}
}

// An SCT dated beyond the year 9999 is malformed: its time cannot be
// written in RFC 3339, so the report would not encode as JSON.
func TestSCTTimestampBeyondYear9999(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	cert := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	id := w.logs["A1"].ID()
	for _, ms := range []uint64{1 << 62, 253402300800000} {
		sct := hostileSCT(id, ms, 64, 0)
		if _, err := ParseSCT(sct); err == nil {
			t.Errorf("timestamp %d ms accepted", ms)
		}
		_, _, d := run(t, New(w.list), w.state(cert, [][]byte{sct}, nil))
		if _, err := json.Marshal(d); err != nil {
			t.Errorf("timestamp %d ms: %v", ms, err)
		}
	}
	// The last millisecond of 9999 is still a (future) timestamp.
	if _, err := ParseSCT(hostileSCT(id, 253402300799999, 64, 0)); err != nil {
		t.Error(err)
	}
}

// hostileSCT is a v1 SCT from log id with a junk signature of sigLen
// bytes, made distinct by n.
func hostileSCT(id [32]byte, ms uint64, sigLen int, n uint64) []byte {
	b := []byte{0}
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint64(b, ms)
	b = append(b, 0, 0, hashSHA256, sigECDSA)
	b = binary.BigEndian.AppendUint16(b, uint16(sigLen))
	sig := make([]byte, sigLen)
	binary.BigEndian.PutUint64(sig, n)
	return append(b, sig...)
}

// A hostile server with a compliant certificate sends, on each handshake,
// a different large SCT (from a listed log, with a junk signature) and a
// different large stapled OCSP response that parses but does not verify.
// None of it may stay in memory: the caches are bounded in bytes, not only
// in entries.
func TestHostileInputsBoundedMemory(t *testing.T) {
	// Not parallel: the heap is measured.
	w := getWorld(t)
	cert := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	pad := bytes.Repeat([]byte{0xA5}, 24<<10)
	r := testpki.OCSPResponse{Signer: w.inter, CorruptSignature: true, Responses: []testpki.Single{{
		Cert: cert.Cert.Cert, Issuer: w.inter.Cert, Status: testpki.StatusGood,
		ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(day),
		Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: pad}},
	}}}
	staple, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(staple, pad[:64])
	if at < 0 {
		t.Fatal("padding not found")
	}
	v := New(w.list)
	id := w.logs["A1"].ID()
	ms := uint64(testpki.Now.Add(-time.Hour).UnixMilli())
	const n = 1500
	handshake := func(i int) {
		st := append([]byte(nil), staple...)
		binary.BigEndian.PutUint64(st[at:], uint64(i))
		sct := hostileSCT(id, ms, 60<<10, uint64(i))
		err, chk, _ := run(t, v, w.state(cert, [][]byte{sct}, st))
		if err != nil || chk.Outcome != tlsclient.Pass {
			t.Fatalf("handshake %d: %v %s", i, err, chk.Detail)
		}
	}
	handshake(-1) // warm up what is legitimately kept
	before := liveHeap()
	for i := range n {
		handshake(i)
	}
	after := liveHeap()
	runtime.KeepAlive(v)
	grew := int64(after) - int64(before)
	t.Logf("%d handshakes with a 60 KiB SCT and a %d KiB staple each: live heap grew by %.1f MiB", n, len(staple)>>10, float64(grew)/(1<<20))
	if grew > 8<<20 {
		t.Errorf("live heap grew by %.1f MiB, want at most 8", float64(grew)/(1<<20))
	}
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Err and LogList answer at once while a download hangs.
func TestRefresherErrWhileDownloadHangs(t *testing.T) {
	t.Parallel()
	key, _ := testpki.NewKey(testpki.ECDSAP256)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "gone", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	r, err := NewRefresher(RefresherConfig{ListURL: srv.URL + "/list", SignatureURL: srv.URL + "/sig", PublicKey: key.Public(), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Refresh(context.Background()) }()
	<-entered
	answered := make(chan struct{})
	go func() {
		r.Err()
		r.LogList()
		close(answered)
	}()
	select {
	case <-answered:
	case <-time.After(2 * time.Second):
		t.Fatal("Err blocks while a refresh is in progress")
	}
	// A second Refresh waits for the first, but gives up with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Refresh(ctx); err == nil {
		t.Error("a concurrent Refresh with an expired context succeeded")
	}
	unblock()
	select {
	case err := <-done:
		if err == nil || r.Err() != err {
			t.Errorf("refresh: %v, Err: %v", err, r.Err())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh did not end")
	}
}

// A list dated in the future (beyond clock skew) is refused by the
// Refresher, from the network and from its cache file: kept, it would never
// go stale, and every later list would be refused as a rollback.
func TestRefresherRefusesListFromTheFuture(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	key, _ := testpki.NewKey(testpki.ECDSAP256)
	srv := newListServer(t)
	cache := filepath.Join(t.TempDir(), "log_list.json")
	cfg := RefresherConfig{ListURL: srv.URL + "/log_list.json", SignatureURL: srv.URL + "/log_list.sig", PublicKey: key.Public(), CacheFile: cache}
	r, err := NewRefresher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	future, futureSig := signedList(t, key, time.Now().Add(30*day), w.logs["A1"])
	srv.set(future, futureSig)
	if err := r.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "future") || r.LogList() != nil {
		t.Errorf("list dated 30 days ahead: %v", err)
	}
	// A slightly fast clock at the publisher is tolerated.
	soon, soonSig := signedList(t, key, time.Now().Add(time.Hour), w.logs["A1"])
	srv.set(soon, soonSig)
	if err := r.Refresh(context.Background()); err != nil || r.LogList() == nil {
		t.Errorf("list dated an hour ahead: %v", err)
	}
	// The cache file.
	os.WriteFile(cache+".sig", futureSig, 0o600)
	os.WriteFile(cache, future, 0o600)
	r2, err := NewRefresher(cfg)
	if err != nil || r2.LogList() != nil || r2.Err() == nil || !strings.Contains(r2.Err().Error(), "future") {
		t.Errorf("cache file dated 30 days ahead: %v %v", err, r2.Err())
	}
}

// Apple clients enforce temporal intervals; Chrome's policy does not look
// at them.
func TestTemporalInterval(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	shard, err := testpki.NewCTLog("Test 'Z2027' log", "Z", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	shard.StateSince = testpki.Now.Add(-100 * day)
	shard.TemporalStart, shard.TemporalEnd = testpki.Now.AddDate(1, 0, 0), testpki.Now.AddDate(2, 0, 0)
	js, err := testpki.CTLogList(testpki.Now.Add(-day), w.logs["A1"], w.logs["B1"], w.logs["C1"], shard)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ParseLogList(js)
	if err != nil {
		t.Fatal(err)
	}
	outside := w.leaf(t, 90*day, testpki.Embed{Log: w.logs["A1"]}, testpki.Embed{Log: shard})
	inside := w.leaf(t, 90*day, w.emb("A1", "C1")...) // C1's interval holds the notAfter
	if err, _, d := run(t, New(list, WithPolicy(ApplePolicy())), w.state(outside, nil, nil)); err == nil || d.SCTs[1].Status != StatusNotCounted || !strings.Contains(d.SCTs[1].Reason, "temporal interval") {
		t.Errorf("apple, SCT from a shard whose interval excludes the certificate: %v %+v", err, d.SCTs)
	}
	if err, _, d := run(t, New(list, WithPolicy(ApplePolicy())), w.state(inside, nil, nil)); err != nil {
		t.Errorf("apple, inside the interval: %v\n%s", err, dump(d))
	}
	if err, _, d := run(t, New(list, WithPolicy(ChromePolicy())), w.state(outside, nil, nil)); err != nil || d.SCTs[1].Status != StatusValid {
		t.Errorf("chrome ignores temporal intervals: %v %v", err, statuses(d))
	}
}

// RequireLogList fails closed without a usable list: none yet, or a stale
// one. The default is unchanged: a warning, and the handshake goes on.
func TestRequireLogList(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	good := w.leaf(t, 90*day, w.emb("A1", "B1")...)
	bad := w.leaf(t, 90*day, w.emb("A1")...)
	staleJSON, err := testpki.CTLogList(testpki.Now.Add(-71*day), w.logs["A1"], w.logs["B1"])
	if err != nil {
		t.Fatal(err)
	}
	stale, err := ParseLogList(staleJSON)
	if err != nil {
		t.Fatal(err)
	}
	unusable := func(err error) bool {
		return errors.Is(err, tlsclient.ErrCTPolicy) && errors.Is(err, ErrNoUsableLogList)
	}
	cases := []struct {
		name    string
		v       tlsclient.Verifier
		cert    *testpki.CTCert
		outcome tlsclient.Outcome
		check   func(error) bool
		detail  string
	}{
		{"no list, default", New(nil, WithLogSource(&swap{})), good, tlsclient.Warning, nil, "CT not enforced"},
		{"no list, required", New(nil, WithLogSource(&swap{}), RequireLogList()), good, tlsclient.Fail, unusable, "CT required (RequireLogList), and the log source has no list yet"},
		{"no list, required, report only", New(nil, WithLogSource(&swap{}), RequireLogList(), ReportOnly()), good, tlsclient.Warning, nil, "CT not enforced"},
		{"stale list, default", New(stale), good, tlsclient.Warning, nil, "CT not enforced"},
		{"stale list, required", New(stale, RequireLogList()), good, tlsclient.Fail, unusable, "CT required (RequireLogList), and the log list of 2025-11-05T12:00:00Z is 71d old"},
		{"stale list, required, report only", New(stale, RequireLogList(), ReportOnly()), good, tlsclient.Warning, nil, "CT not enforced"},
		{"stale list allowed, required: enforced", New(stale, RequireLogList(), WithMaxListAge(0)), good, tlsclient.Pass, nil, "policy met"},
		{"stale list allowed, required: enforced, failing", New(stale, RequireLogList(), WithMaxListAge(0)), bad, tlsclient.Fail,
			func(err error) bool { _, ok := isPolicyError(err); return ok && !errors.Is(err, ErrNoUsableLogList) }, "not met"},
		{"fresh list, required", New(w.list, RequireLogList()), good, tlsclient.Pass, nil, "policy met"},
		{"fresh list, required, failing", New(w.list, RequireLogList()), bad, tlsclient.Fail,
			func(err error) bool { _, ok := isPolicyError(err); return ok }, "not met"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err, chk, _ := run(t, c.v, w.state(c.cert, nil, nil))
			if chk.Outcome != c.outcome || (err != nil) != (c.check != nil) || c.check != nil && !c.check(err) {
				t.Fatalf("outcome %s, error %v; want %s\n%s", chk.Outcome, err, c.outcome, chk.Detail)
			}
			if !strings.Contains(chk.Detail, c.detail) {
				t.Errorf("detail %q does not contain %q", chk.Detail, c.detail)
			}
			if err != nil && chk.Err != err {
				t.Errorf("the check records %v, Verify returned %v", chk.Err, err)
			}
		})
	}

	// A Refresher whose cache file does not verify and whose URL cannot be
	// reached: the error says why there is no list.
	t.Run("refresher without a list", func(t *testing.T) {
		t.Parallel()
		key, _ := testpki.NewKey(testpki.ECDSAP256)
		other, _ := testpki.NewKey(testpki.ECDSAP256)
		cache := filepath.Join(t.TempDir(), "log_list.json")
		list, sig := signedList(t, other, testpki.Now, w.logs["A1"], w.logs["B1"])
		os.WriteFile(cache, list, 0o600)
		os.WriteFile(cache+".sig", sig, 0o600)
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		r, err := NewRefresher(RefresherConfig{ListURL: dead.URL + "/list", SignatureURL: dead.URL + "/sig", PublicKey: key.Public(), CacheFile: cache, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Refresh(context.Background()); err == nil {
			t.Fatal("refresh from a closed server succeeded")
		}
		for _, required := range []bool{false, true} {
			opts := []Option{WithLogSource(r)}
			if required {
				opts = append(opts, RequireLogList())
			}
			err, chk, _ := run(t, New(nil, opts...), w.state(good, nil, nil))
			if !required {
				if err != nil || chk.Outcome != tlsclient.Warning {
					t.Errorf("default: %v %s", err, chk.Outcome)
				}
				continue
			}
			if !unusable(err) || !strings.Contains(err.Error(), "refreshing the log list") {
				t.Errorf("required: %v", err)
			}
		}
	})
}

// Every timestamp of a list must be a plausible date.
func TestListImplausibleTimestamps(t *testing.T) {
	t.Parallel()
	far := time.Date(9500, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		set  func(*testpki.CTLog)
		want string
	}{
		{"state", func(l *testpki.CTLog) { l.StateSince = far }, "state usable timestamp"},
		{"previous operator", func(l *testpki.CTLog) { l.PreviousOperators = []testpki.CTPreviousOperator{{Name: "Old", End: far}} }, "end_time"},
		{"temporal interval", func(l *testpki.CTLog) { l.TemporalStart, l.TemporalEnd = testpki.Now, far }, "temporal_interval end"},
	} {
		l, err := testpki.NewCTLog("Test 'far' log", "F", testpki.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		c.set(l)
		js, err := testpki.CTLogList(testpki.Now, l)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseLogList(js); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "not a plausible date") {
			t.Errorf("%s in the year 9500: %v", c.name, err)
		}
	}
}
