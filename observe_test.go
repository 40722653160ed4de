package tlsclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// events records what an Observer receives.
type events struct {
	mu   sync.Mutex
	list []tlsclient.Event
	ctxs []context.Context
}

func (e *events) observe(ctx context.Context, ev tlsclient.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
	e.ctxs = append(e.ctxs, ctx)
}

func (e *events) all() []tlsclient.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]tlsclient.Event(nil), e.list...)
}

func (e *events) kinds() []string {
	var out []string
	for _, ev := range e.all() {
		s := ev.Kind.String()
		if ev.Kind == tlsclient.EventDecision {
			s += ":" + ev.Verifier + ":" + ev.Outcome.String()
		}
		out = append(out, s)
	}
	return out
}

type ctxKey struct{}

func TestObserverDecisionsAndHandshake(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := serve(t, testpki.ServerOptions{Cert: p.leaf})

	// A custom verifier emits an event of its own.
	custom := tlsclient.VerifierFunc("custom", func(ctx context.Context, st *tlsclient.State) error {
		if !st.Observing() {
			t.Error("Observing() is false with an observer")
		}
		st.Emit(ctx, tlsclient.Event{Kind: tlsclient.EventCacheHit, Source: "mine", Detail: "custom event"})
		st.Record(tlsclient.Check{Outcome: tlsclient.Pass, Detail: "fine"})
		return nil
	})
	var a, b events
	d, err := tlsclient.New(p.opts(tlsclient.WithObserver(a.observe), tlsclient.WithObserver(b.observe),
		tlsclient.WithServerName("localhost"), tlsclient.WithVerifiers(custom))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(t.Context(), ctxKey{}, "dial ctx")
	conn, err := d.DialContext(ctx, "tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()

	want := []string{"cache_hit", "decision:chain:pass", "decision:hostname:pass", "decision:staple:skip", "decision:custom:pass", "handshake"}
	if got := a.kinds(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events:\n got %v\nwant %v", got, want)
	}
	if got := b.kinds(); len(got) != len(want) {
		t.Errorf("second observer got %v", got)
	}
	evs := a.all()
	if ev := evs[0]; ev.Verifier != "custom" || ev.ServerName != "localhost" || ev.Source != "mine" {
		t.Errorf("custom event = %+v; want Verifier and ServerName filled in", ev)
	}
	for i, c := range a.ctxs {
		if c.Value(ctxKey{}) != "dial ctx" {
			t.Errorf("event %d (%s) got another context", i, evs[i].Kind)
		}
	}
	hs := evs[len(evs)-1]
	if hs.Outcome != tlsclient.Pass || hs.Report != conn.Report() || hs.Err != nil || hs.Duration <= 0 || hs.ServerName != "localhost" {
		t.Errorf("handshake event = %+v", hs)
	}
	if dec := evs[1]; dec.Subject != "CN=localhost" || !strings.Contains(dec.Detail, "verified to trusted root") {
		t.Errorf("chain decision = %+v", dec)
	}
}

func TestObserverRefused(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := serve(t, testpki.ServerOptions{Cert: p.leaf})
	refuse := errors.New("no thanks")
	var e events
	_, err := tlsclient.Dial("tcp", srv.Addr, p.opts(tlsclient.WithObserver(e.observe),
		tlsclient.WithVerifiers(&recorder{name: "refuser", err: refuse}, &recorder{name: "after"}))...)
	if !errors.Is(err, refuse) {
		t.Fatalf("err = %v", err)
	}
	want := "decision:chain:pass decision:hostname:pass decision:staple:skip decision:refuser:fail decision:after:skip handshake"
	if got := strings.Join(e.kinds(), " "); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	evs := e.all()
	if dec := evs[3]; !errors.Is(dec.Err, refuse) {
		t.Errorf("fail decision Err = %v", dec.Err)
	}
	if hs := evs[len(evs)-1]; hs.Outcome != tlsclient.Fail || !errors.Is(hs.Err, refuse) || hs.Report == nil || hs.Report.OK() {
		t.Errorf("handshake event = %+v", hs)
	}

	// A chain failure, before any verifier, is observed too.
	var e2 events
	_, err = tlsclient.Dial("tcp", srv.Addr, p.opts(tlsclient.WithObserver(e2.observe), tlsclient.WithServerName("wrong.example"))...)
	if !errors.Is(err, tlsclient.ErrCertificate) {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(e2.kinds(), " "); got != "decision:hostname:fail decision:staple:skip handshake" {
		t.Errorf("events on a chain failure: %s", got)
	}
}

func TestObserverTLSConfig(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := httpsServer(t, p, false)
	var e events
	d, err := tlsclient.New(p.opts(tlsclient.WithObserver(e.observe))...)
	if err != nil {
		t.Fatal(err)
	}
	// net/http makes the handshake itself, with the Dialer's TLSConfig.
	tr := &http.Transport{TLSClientConfig: d.TLSConfig()}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := "decision:chain:pass decision:hostname:pass decision:staple:skip handshake"
	if got := strings.Join(e.kinds(), " "); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	if e.ctxs[0] == nil {
		t.Error("nil context")
	}
}

func TestLogger(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := serve(t, testpki.ServerOptions{Cert: p.leaf})
	warn := tlsclient.VerifierFunc("soft", func(_ context.Context, st *tlsclient.State) error {
		st.Record(tlsclient.Check{Outcome: tlsclient.Warning, Detail: "could not decide", Err: errors.New("responder down")})
		return nil
	})
	for _, tt := range []struct {
		level slog.Level
		want  []string // msg/level/verifier of each line
	}{
		{slog.LevelDebug, []string{"tls check DEBUG chain", "tls check DEBUG hostname", "tls check DEBUG staple", "tls check INFO soft", "tls handshake DEBUG "}},
		{slog.LevelInfo, []string{"tls check INFO soft"}},
	} {
		t.Run(tt.level.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			conn, err := tlsclient.Dial("tcp", srv.Addr, p.opts(tlsclient.WithLogger(l), tlsclient.WithVerifiers(warn))...)
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("%v: %s", err, line)
				}
				v, _ := m["verifier"].(string)
				got = append(got, m["msg"].(string)+" "+m["level"].(string)+" "+v)
				if v == "soft" && (m["error"] != "responder down" || m["outcome"] != "warning" || m["server"] != "127.0.0.1") {
					t.Errorf("warning line lacks attributes: %s", line)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("log lines:\n got %q\nwant %q\n%s", got, tt.want, buf.String())
			}
		})
	}

	// A failure logs at Warn.
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	_, err := tlsclient.Dial("tcp", srv.Addr, p.opts(tlsclient.WithLogger(l), tlsclient.WithServerName("wrong.example"))...)
	if err == nil {
		t.Fatal("wrong name accepted")
	}
	if s := buf.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, `msg="tls check"`) || !strings.Contains(s, "verifier=hostname") || strings.Count(s, "\n") != 1 {
		t.Errorf("Warn log:\n%s", s)
	}
}

func TestObserverOptions(t *testing.T) {
	t.Parallel()
	if _, err := tlsclient.New(tlsclient.WithObserver(nil)); err == nil || !strings.Contains(err.Error(), "WithObserver") {
		t.Errorf("WithObserver(nil): %v", err)
	}
	if _, err := tlsclient.New(tlsclient.WithLogger(nil)); err == nil || !strings.Contains(err.Error(), "WithLogger") {
		t.Errorf("WithLogger(nil): %v", err)
	}
	// A hand-built State has no observer: Emit does nothing, and costs
	// nothing.
	st := &tlsclient.State{}
	if st.Observing() {
		t.Error("hand-built State is observing")
	}
	var nilState *tlsclient.State
	nilState.Emit(t.Context(), tlsclient.Event{Kind: tlsclient.EventFetchStart})
	for k, s := range map[tlsclient.EventKind]string{tlsclient.EventFetchStart: "fetch_start", tlsclient.EventHandshake: "handshake", 0: "EventKind(0)"} {
		if k.String() != s {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), s)
		}
	}
	if b, err := json.Marshal(tlsclient.EventCacheMiss); err != nil || string(b) != `"cache_miss"` {
		t.Errorf("EventCacheMiss encodes as %s, %v", b, err)
	}
	if _, err := json.Marshal(tlsclient.EventKind(99)); err == nil {
		t.Error("invalid kind encoded")
	}
}

// TestEmitWithoutObserverAllocs is not parallel: testing.AllocsPerRun
// refuses to run beside other tests.
func TestEmitWithoutObserverAllocs(t *testing.T) {
	st := &tlsclient.State{}
	ctx := t.Context()
	err := errors.New("x")
	allocs := testing.AllocsPerRun(100, func() {
		st.Emit(ctx, tlsclient.Event{Kind: tlsclient.EventFetchDone, URL: "http://x.test/", Duration: time.Second, Err: err})
	})
	if allocs != 0 {
		t.Errorf("Emit without an observer: %v allocations", allocs)
	}
}
