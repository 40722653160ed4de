package tlsclient_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"sync"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// WithObserver feeds metrics: here, counters of handshakes and checks by
// outcome. With Prometheus, the same switch calls
// handshakes.WithLabelValues(ev.Outcome.String()).Inc(). See
// examples/metrics for fetches and cache lookups.
func ExampleWithObserver() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	var (
		mu     sync.Mutex // the observer runs inside handshakes, concurrently
		counts = map[string]int{}
	)
	observe := func(_ context.Context, ev tlsclient.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Kind {
		case tlsclient.EventHandshake:
			counts["handshake "+ev.Outcome.String()]++
		case tlsclient.EventDecision:
			counts[ev.Verifier+" "+ev.Outcome.String()]++
		}
	}
	d, err := tlsclient.New(tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()), tlsclient.WithObserver(observe))
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		if conn, err := d.Dial("tcp", srv.Addr); err == nil {
			conn.Close()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	fmt.Println(counts)
	// Output:
	// map[chain pass:3 handshake pass:3 hostname pass:3 staple skip:3]
}

// WithLogger logs what the checks do with log/slog: at Debug every fetch,
// cache lookup and decision; warnings at Info; failures at Warn.
func ExampleWithLogger() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelWarn,
		// Drop the time, so that the example's output does not change.
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	_, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithServerName("www.example.com"), // not the certificate's name
		tlsclient.WithLogger(logger),
	)
	fmt.Println("refused:", err != nil)
	// Output:
	// level=WARN msg="tls check" kind=decision server=www.example.com verifier=hostname subject="CN=localhost" outcome=fail detail="hostname mismatch" error="hostname mismatch: the certificate is valid for localhost, 127.0.0.1, not for \"www.example.com\"; dial the name the certificate was issued for, or set the expected name with WithServerName (--servername); if the server hosts several names, it may not have picked the right certificate for the SNI sent"
	// refused: true
}

// A verifier reports its own work, for instance a lookup in a cache of its
// own, with State.Emit; the engine reports its decisions.
func ExampleState_Emit() {
	lookups := tlsclient.VerifierFunc("inventory", func(ctx context.Context, st *tlsclient.State) error {
		// Emit costs nothing without an observer; build costly events
		// only when st.Observing().
		st.Emit(ctx, tlsclient.Event{Kind: tlsclient.EventCacheHit, Source: "inventory", Detail: "server known"})
		st.Record(tlsclient.Check{Outcome: tlsclient.Pass, Detail: "server in the inventory"})
		return nil
	})
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()
	conn, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithServerName("localhost"),
		tlsclient.WithVerifiers(lookups),
		tlsclient.WithObserver(func(_ context.Context, ev tlsclient.Event) {
			if ev.Kind == tlsclient.EventCacheHit {
				fmt.Println(ev.Kind, ev.Verifier, ev.ServerName, ev.Detail)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	conn.Close()
	// Output:
	// cache_hit inventory localhost server known
}
