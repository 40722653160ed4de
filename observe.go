package tlsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// EventKind says what an Event reports.
type EventKind uint8

// Kinds of Event. The zero value is not a valid kind.
const (
	// EventFetchStart: a verifier is about to make an HTTP request (an
	// OCSP query, a CRL or log list download). URL and Source are set.
	EventFetchStart EventKind = iota + 1
	// EventFetchDone: the request ended. Status is the HTTP status (0 when
	// no response arrived), Bytes the body's size, Duration how long it
	// took, Shared whether it was merged with an identical request in
	// flight, and Err why it failed.
	EventFetchDone
	// EventCacheHit: revocation data (an OCSP response, a CRL) was
	// found in a cache and no request was needed. Detail says which cache.
	EventCacheHit
	// EventCacheMiss: the data was not cached (or no longer usable) and
	// will be fetched.
	EventCacheMiss
	// EventDecision: one Check of the Report: Verifier, Subject, Outcome,
	// Detail, Source, URL, Duration (the check's Elapsed) and Err are set.
	EventDecision
	// EventHandshake: a handshake ended, verified (Outcome Pass) or
	// refused (Outcome Fail, Err the reason); Report is its Report and
	// Duration, for dials, the time from the start of the dial.
	EventHandshake
)

var eventKindNames = [...]string{
	EventFetchStart: "fetch_start",
	EventFetchDone:  "fetch_done",
	EventCacheHit:   "cache_hit",
	EventCacheMiss:  "cache_miss",
	EventDecision:   "decision",
	EventHandshake:  "handshake",
}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && eventKindNames[k] != "" {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// MarshalText encodes the kind as "fetch_start", "fetch_done",
// "cache_hit", "cache_miss", "decision" or "handshake".
func (k EventKind) MarshalText() ([]byte, error) {
	if int(k) >= len(eventKindNames) || eventKindNames[k] == "" {
		return nil, fmt.Errorf("tlsclient: invalid event kind %d", uint8(k))
	}
	return []byte(eventKindNames[k]), nil
}

// An Event is something a Dialer or one of its verifiers did, for logs and
// metrics: a fetch, a cache lookup, a decision, a handshake. Fields that do
// not apply to the Kind are zero. Observers receive Events by value and may
// keep them; Report, when set, must not be modified.
//
// Label cardinality: URL is the responder or distribution point as the
// certificate names it (never an OCSP GET URL with the request encoded in
// it), so it is a reasonable metrics label; Subject and ServerName are
// unbounded and belong in logs rather than labels.
type Event struct {
	Kind EventKind
	// ServerName is the name verified for the connection.
	ServerName string
	// Verifier names the verifier concerned ("ocsp", "crl", "revocation",
	// "ct", "pin", "chain"...).
	Verifier string
	// Subject is the certificate concerned, as in Check.Subject.
	Subject string
	// Source is the kind of data or place involved: "ocsp", "crl",
	// "staple", "log-list"...
	Source string
	// URL is the address fetched or consulted.
	URL string
	// Outcome is the decision's (EventDecision) or the handshake's
	// (EventHandshake) outcome.
	Outcome Outcome
	// Detail says in a few words what happened.
	Detail string
	// Status is the HTTP status of a fetch (EventFetchDone), 0 when no
	// response arrived.
	Status int
	// Bytes is the size of a fetched body.
	Bytes int64
	// Duration is how long a fetch, a check or a handshake took.
	Duration time.Duration
	// Shared reports that a fetch was merged with an identical one in
	// flight and made no request of its own.
	Shared bool
	// Err is why a fetch failed, or the error behind a decision or a
	// refused handshake.
	Err error
	// Report is the handshake's Report (EventHandshake only).
	Report *Report
}

// An Observer receives the Events of a Dialer (see WithObserver). It is
// called synchronously, from the goroutine doing the work (often inside a
// handshake), so it must be fast, must not block and must be safe for
// concurrent use: increment counters, record a histogram, write a log line.
type Observer func(ctx context.Context, ev Event)

// WithObserver calls obs with every Event of the Dialer's handshakes: the
// fetches and cache lookups of its verifiers, one EventDecision per Check
// of each Report, and one EventHandshake per handshake. It is how metrics
// (Prometheus, OpenTelemetry, expvar) are wired without tlsclient depending
// on them. It may be given several times (with WithLogger too); observers
// are called in order.
//
// Decisions and the handshake event are emitted once the handshake's Report
// is complete, after the fetch and cache events of that handshake. Fetch
// events of a request shared by several handshakes reach the observer of
// the handshake that started it; a background refresh (WithBackgroundRefresh
// in package revocation) reports to the observer of the handshake that
// triggered it, after that handshake. The ctx passed is the dial's context
// (context.Background for handshakes made through TLSConfig, which has none).
// A dial that fails before there is a Report (connection refused, a
// timeout during the handshake) emits no EventHandshake: its error goes to
// the caller, as do the chain failures of handshakes crypto/tls makes with
// TLSConfig (see Dialer.TLSConfig).
//
// With no observer, nothing is built: an Event costs nothing unless someone
// listens.
func WithObserver(obs Observer) Option {
	return func(c *config) error {
		if obs == nil {
			return errors.New("tlsclient: WithObserver: nil observer")
		}
		c.observers = append(c.observers, obs)
		return nil
	}
}

// WithLogger logs the Dialer's Events with l: fetches, cache lookups,
// passed and skipped checks and handshakes at slog.LevelDebug, warnings at
// slog.LevelInfo (a check that could not decide and that the policy let
// through), failed checks at slog.LevelWarn. The messages are stable
// ("tls fetch", "tls cache", "tls check", "tls handshake"); the details are
// attributes (kind, server, verifier, subject, source, url, outcome,
// status, bytes, duration, shared, error). WithLogger is an Observer and
// combines with WithObserver.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("tlsclient: WithLogger: nil logger")
		}
		c.observers = append(c.observers, logObserver(l))
		return nil
	}
}

// logObserver returns the Observer of WithLogger.
func logObserver(l *slog.Logger) Observer {
	return func(ctx context.Context, ev Event) {
		level, msg := slog.LevelDebug, "tls event"
		switch ev.Kind {
		case EventFetchStart, EventFetchDone:
			msg = "tls fetch"
		case EventCacheHit, EventCacheMiss:
			msg = "tls cache"
		case EventDecision:
			msg = "tls check"
			switch ev.Outcome {
			case Warning:
				level = slog.LevelInfo
			case Fail:
				level = slog.LevelWarn
			}
		case EventHandshake:
			msg = "tls handshake"
		}
		if !l.Enabled(ctx, level) {
			return
		}
		attrs := make([]slog.Attr, 0, 12)
		attrs = append(attrs, slog.String("kind", ev.Kind.String()))
		str := func(key, v string) {
			if v != "" {
				attrs = append(attrs, slog.String(key, v))
			}
		}
		str("server", ev.ServerName)
		str("verifier", ev.Verifier)
		str("subject", ev.Subject)
		str("source", ev.Source)
		str("url", ev.URL)
		if ev.Outcome != 0 {
			str("outcome", ev.Outcome.String())
		}
		str("detail", ev.Detail)
		if ev.Status != 0 {
			attrs = append(attrs, slog.Int("status", ev.Status))
		}
		if ev.Kind == EventFetchDone {
			attrs = append(attrs, slog.Int64("bytes", ev.Bytes))
		}
		if ev.Duration != 0 {
			attrs = append(attrs, slog.Duration("duration", ev.Duration))
		}
		if ev.Shared {
			attrs = append(attrs, slog.Bool("shared", true))
		}
		if ev.Err != nil {
			attrs = append(attrs, slog.String("error", ev.Err.Error()))
		}
		l.LogAttrs(ctx, level, msg, attrs...)
	}
}

// observers combines the configured observers into one, or nil.
func (c *config) observer() Observer {
	switch len(c.observers) {
	case 0:
		return nil
	case 1:
		return c.observers[0]
	}
	obs := append([]Observer(nil), c.observers...)
	return func(ctx context.Context, ev Event) {
		for _, o := range obs {
			o(ctx, ev)
		}
	}
}

// Observing reports whether an Observer listens to this State's Events. A
// verifier checks it before building an Event that costs something to
// build; Emit checks it too.
func (s *State) Observing() bool { return s != nil && s.observe != nil }

// Emit passes ev to the Dialer's observers (WithObserver, WithLogger), and
// does nothing when there are none (or for a hand-built State). It fills in
// ServerName and, when empty, Verifier (the verifier being run). Verifiers
// use it for their fetches and cache lookups; decisions need no Emit: the
// engine emits one EventDecision per recorded Check. It is safe to call
// from several goroutines, during or after Verify.
func (s *State) Emit(ctx context.Context, ev Event) {
	if s == nil || s.observe == nil {
		return
	}
	if ev.ServerName == "" {
		ev.ServerName = s.server
		if ev.ServerName == "" {
			ev.ServerName = s.ConnectionState.ServerName
		}
	}
	if ev.Verifier == "" {
		s.mu.Lock()
		ev.Verifier = s.current
		s.mu.Unlock()
	}
	s.observe(ctx, ev)
}

// observeReport emits the decisions of a finished Report and the
// handshake event. err is the refusal, nil for a verified connection;
// start is when the dial began (zero for TLSConfig handshakes).
func (d *Dialer) observeReport(ctx context.Context, rep *Report, err error, start time.Time) {
	obs := d.observe
	server := rep.ServerName
	for i := range rep.Checks {
		c := &rep.Checks[i]
		ev := Event{Kind: EventDecision, ServerName: server, Verifier: c.Verifier, Subject: c.Subject,
			Source: c.Source, URL: c.URL, Outcome: c.Outcome, Detail: c.Detail, Duration: c.Elapsed, Err: c.Err}
		if ev.Err == nil && c.Error != "" {
			ev.Err = errors.New(c.Error)
		}
		obs(ctx, ev)
	}
	ev := Event{Kind: EventHandshake, ServerName: server, Outcome: Pass, Detail: "verified", Err: err, Report: rep}
	if err != nil {
		ev.Outcome, ev.Detail = Fail, "refused"
	}
	if rep.Version != "" {
		ev.Detail += ", " + rep.Version
	}
	if rep.Resumed {
		ev.Detail += ", resumed"
	}
	if !start.IsZero() {
		ev.Duration = time.Since(start)
	}
	obs(ctx, ev)
}
