package tlsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
)

// A Dialer makes verified TLS connections. It is reusable and safe for
// concurrent use, like an OpenSSL SSL_CTX: it holds one base configuration,
// a session cache (so that a second dial to the same server resumes) and the
// caches of its verifiers. Create it with New.
type Dialer struct {
	cfg       *config
	base      *tls.Config // hardened, without VerifyConnection; cloned per use
	verifiers []Verifier  // the built-in staple check, then cfg.verifiers
	infos     *certInfos  // descriptions of the certificates seen, for Reports
	phrases   phrases     // details of the chain and hostname checks
	observe   Observer    // WithObserver and WithLogger combined; nil when none
	watchdog  watchdog    // the bounds of the dials in flight
	// checksRoom is the most checks a handshake recorded, to size the
	// next one's list.
	checksRoom atomic.Int32
}

// New returns a Dialer configured by opts. With no options it trusts the
// system roots (honouring SSL_CERT_FILE and SSL_CERT_DIR), requires TLS 1.2
// or later, verifies the chain and the host name, and runs the no-network
// staple check.
func New(opts ...Option) (*Dialer, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	d := &Dialer{cfg: cfg, base: cfg.tlsConfig(), infos: &certInfos{}, observe: cfg.observer()}
	d.verifiers = append([]Verifier{newStapleCheck()}, cfg.verifiers...)
	return d, nil
}

// Dial connects to addr ("host:port") on the named network and performs a
// verified TLS handshake. See DialContext.
func Dial(network, addr string, opts ...Option) (*Conn, error) {
	return DialContext(context.Background(), network, addr, opts...)
}

// DialContext connects to addr ("host:port") and performs a verified TLS
// handshake, with a one-off Dialer configured by opts. Use New to reuse
// configuration, sessions and caches across connections.
func DialContext(ctx context.Context, network, addr string, opts ...Option) (*Conn, error) {
	d, err := New(opts...)
	if err != nil {
		return nil, err
	}
	return d.DialContext(ctx, network, addr)
}

// NewConfig returns a hardened *tls.Config that runs the configured checks
// in VerifyConnection, for use where a *tls.Config is expected. It is
// New(opts...).TLSConfig().
func NewConfig(opts ...Option) (*tls.Config, error) {
	d, err := New(opts...)
	if err != nil {
		return nil, err
	}
	return d.TLSConfig(), nil
}

// Dial is DialContext with a background context.
func (d *Dialer) Dial(network, addr string) (*Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext connects to addr ("host:port") and performs a verified TLS
// handshake. ctx bounds the connect, the handshake and every verifier; the
// Dialer's timeout (WithTimeout, DefaultTimeout by default) applies on top.
//
// The server name is WithServerName, or the host of addr. A refused
// handshake returns a *VerificationError carrying the Report; network
// failures return other errors.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (*Conn, error) {
	return d.dial(ctx, network, addr, nil)
}

// dial is DialContext offering protos with ALPN when the Dialer was given
// no protocols of its own (WithNextProtos, or WithBaseConfig's NextProtos).
func (d *Dialer) dial(ctx context.Context, network, addr string, protos []string) (*Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("tlsclient: address %q: %w (want host:port, e.g. example.com:443)", addr, err)
	}
	// The dial's bound applies to the connect, the handshake and the
	// verifiers. The connect and the handshake are watched by the
	// Dialer's watchdog rather than given a deadline each (see
	// watchdog.go); the verifiers get it as a context.
	var start time.Time
	if d.observe != nil {
		start = time.Now() // for EventHandshake's Duration
	}
	// b is nil when the dial has no bound of its own (WithTimeout < 0).
	var b *boundedContext
	vctx := ctx
	if t := d.cfg.dialTimeout(); t > 0 {
		b = &boundedContext{Context: ctx, deadline: time.Now().Add(t), addr: addr, limit: t}
		defer b.release()
		vctx = b
	}

	cfg := d.base.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if protos != nil && len(cfg.NextProtos) == 0 {
		cfg.NextProtos = protos
	}
	rep := &Report{Address: addr, ServerName: cfg.ServerName}
	var verr error
	cfg.VerifyConnection = d.verifyConnection(vctx, rep, &verr)

	var x *watch
	if b != nil {
		x = &watch{deadline: b.deadline}
	}
	raw, err := d.dialRaw(ctx, b, x, network, addr)
	if err != nil {
		return nil, err
	}
	hctx := ctx
	if b != nil && d.cfg.dial != nil && raw.SetDeadline(time.Time{}) != nil {
		// A transport without deadlines, which the watchdog closes
		// rather than interrupts: let crypto/tls watch the bound too.
		hctx = b
	}
	ec := &eofConn{Conn: raw}
	tc := tls.Client(ec, cfg)
	err = tc.HandshakeContext(hctx)
	if x != nil && d.watchdog.disarm(x) {
		if err == nil {
			// Done as the bound passed: undo the interruption.
			err = raw.SetDeadline(time.Time{})
		}
		if err != nil && verr == nil {
			raw.Close()
			return nil, fmt.Errorf("tlsclient: handshake with %s: %w", addr, b.timeout())
		}
	}
	if err != nil {
		raw.Close()
		if rep.Version == "" {
			// Refused before VerifyConnection: keep what was negotiated.
			if cs := tc.ConnectionState(); cs.Version != 0 {
				rep.setConnection(&cs)
			}
		}
		if verr == nil && b != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)) && !time.Now().Before(b.deadline) {
			return nil, fmt.Errorf("tlsclient: handshake with %s: %w", addr, b.timeout())
		}
		return nil, d.handshakeError(ctx, err, verr, rep, start)
	}
	ec.report = rep
	d.done(ctx, rep, nil, start)
	return &Conn{Conn: tc, report: rep, raw: ec}, nil
}

// phrases remembers the details of the chain and hostname checks, built
// from a few recurring names (roots, server names), so that a handshake does
// not format them again. It is safe for concurrent use.
type phrases struct {
	mu sync.Mutex // guards m
	m  map[phraseKey]string
}

type phraseKey struct {
	kind uint8
	name string
}

const (
	phraseRoot uint8 = iota
	phraseRootResumed
	phraseHost
)

func (p *phrases) get(kind uint8, name string) string {
	k := phraseKey{kind, name}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.m[k]; ok {
		return s
	}
	var s string
	switch kind {
	case phraseRoot:
		s = "verified to trusted root " + name
	case phraseRootResumed:
		s = "verified to trusted root " + name + " (resumed session, re-validated at the report's time)"
	case phraseHost:
		s = strconv.Quote(name) + " matches the certificate"
		if name == "" {
			// TLSConfig used for an IP literal: crypto/tls sent no SNI and
			// verified the IP against the certificate's IP SANs.
			s = "the dialled IP address matches the certificate's IP SANs (no SNI sent)"
		}
	}
	if p.m == nil || len(p.m) >= 1024 {
		p.m = make(map[phraseKey]string)
	}
	p.m[k] = s
	return s
}

// boundedContext is ctx bounded by the dial's deadline, as
// context.WithDeadlineCause would make it, except that its timer starts only
// when something needs it (Done, or the Value lookups context.Cause and
// derived contexts make): a handshake whose verifiers answer from memory
// never starts one, and a timer per dial is measurable next to a resumed
// handshake.
type boundedContext struct {
	context.Context // the caller's
	deadline        time.Time
	addr            string        // dialled, for the timeout error
	limit           time.Duration // the dial's bound, for the timeout error

	mu     sync.Mutex // guards real and cancel
	real   context.Context
	cancel context.CancelFunc
}

func (b *boundedContext) materialize() context.Context {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.real == nil {
		b.real, b.cancel = context.WithDeadlineCause(b.Context, b.deadline, b.timeout())
	}
	return b.real
}

// timeout is the error of a dial that ran out of time.
func (b *boundedContext) timeout() error { return &timeoutError{addr: b.addr, d: b.limit} }

// release stops the timer, if one was started.
func (b *boundedContext) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancel != nil {
		b.cancel()
	}
}

func (b *boundedContext) Deadline() (time.Time, bool) {
	if d, ok := b.Context.Deadline(); ok && d.Before(b.deadline) {
		return d, true
	}
	return b.deadline, true
}

func (b *boundedContext) Done() <-chan struct{} { return b.materialize().Done() }

func (b *boundedContext) Err() error {
	if err := b.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(b.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (b *boundedContext) Value(key any) any { return b.materialize().Value(key) }

// timeoutError is the cause of a dial that ran out of time. Its message is
// built only when read: most dials never time out.
type timeoutError struct {
	addr string
	d    time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("tlsclient: dial %s timed out after %s (see WithTimeout): %v", e.addr, e.d, context.DeadlineExceeded)
}

func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// dialRaw makes the transport connection within the dial's bound b (nil:
// none), watched by x (nil when b is), which it arms and leaves armed on
// success, with the connection recorded. The default dialer gets a context
// that the watchdog cancels; a dial function of the Dialer's own gets the
// bound as a context.
func (d *Dialer) dialRaw(ctx context.Context, b *boundedContext, x *watch, network, addr string) (net.Conn, error) {
	var raw net.Conn
	var err error
	if d.cfg.dial != nil {
		dctx := ctx
		if b != nil {
			dctx = b
			d.watchdog.arm(x)
		}
		raw, err = d.cfg.dial(dctx, network, addr)
	} else {
		var nd net.Dialer
		dctx := ctx
		if b != nil {
			var cancel context.CancelFunc
			dctx, cancel = context.WithCancel(ctx)
			defer cancel()
			x.cancel = cancel
			d.watchdog.arm(x)
		}
		raw, err = nd.DialContext(dctx, network, addr)
	}
	if err == nil {
		if x == nil || d.watchdog.connected(x, raw) {
			return raw, nil
		}
		// Connected as the bound passed.
		raw.Close()
		d.watchdog.disarm(x)
		return nil, b.timeout()
	}
	expired := x != nil && d.watchdog.disarm(x)
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	var ne net.Error
	if b != nil && (expired || b.Err() != nil || errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(b.deadline)) {
		return nil, b.timeout()
	}
	return nil, fmt.Errorf("tlsclient: dial %s: %w", addr, err)
}

// handshakeError turns a failed handshake into a *VerificationError when a
// check refused it, recording the failure in the report.
func (d *Dialer) handshakeError(ctx context.Context, err, verr error, rep *Report, start time.Time) error {
	if verr != nil {
		// A verifier refused the connection; this wins over a context
		// error that crypto/tls may report once the connection is closed.
		return d.refused(ctx, rep, verr, start)
	}
	if rep.Time.IsZero() {
		rep.Time = d.cfg.time()
	}
	if cerr := classifyCertificateError(err, rep.Time); cerr != nil {
		rep.setChain(cerr.chain, d.infos)
		rep.Checks = append(rep.Checks, Check{Verifier: cerr.checkName(), Subject: cerr.Subject, Outcome: Fail,
			Detail: cerr.Reason.String(), Err: cerr, Error: cerr.Error()})
		d.recordNotRun(rep, "chain verification failed")
		return d.refused(ctx, rep, cerr, start)
	}
	if verErr := classifyVersionError(err); verErr != nil {
		rep.Checks = append(rep.Checks, Check{Verifier: "version", Outcome: Fail,
			Detail: "no common TLS version at or above " + tls.VersionName(d.base.MinVersion), Err: verErr, Error: verErr.Error()})
		d.recordNotRun(rep, "the handshake did not complete")
		return d.refused(ctx, rep, verErr, start)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("tlsclient: handshake with %s: %w", rep.Address, context.Cause(ctx))
	}
	return fmt.Errorf("tlsclient: handshake with %s: %w", rep.Address, err)
}

func (d *Dialer) refused(ctx context.Context, rep *Report, err error, start time.Time) error {
	d.done(ctx, rep, err, start)
	return &VerificationError{Report: rep, Err: err}
}

// done hands a finished Report to the report hook and the observers. err
// is the refusal, nil for a verified connection; start is when the dial
// began (zero when unknown, or when nobody observes).
func (d *Dialer) done(ctx context.Context, rep *Report, err error, start time.Time) {
	if d.cfg.reportHook != nil {
		d.cfg.reportHook(rep)
	}
	if d.observe != nil {
		d.observeReport(ctx, rep, err, start)
	}
}

func (d *Dialer) recordNotRun(rep *Report, why string) {
	for _, v := range d.verifiers {
		rep.Checks = append(rep.Checks, Check{Verifier: verifierName(v), Outcome: Skip, Detail: "not run: " + why})
	}
}

// verifyConnection returns the VerifyConnection callback for one handshake:
// it records the connection and the chain crypto/tls verified, then runs the
// verifiers with ctx. A verifier error is also stored in *verr.
func (d *Dialer) verifyConnection(ctx context.Context, rep *Report, verr *error) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		now := d.cfg.time()
		rep.Time = now
		rep.setConnection(&cs)
		// Room for as many checks as the most any handshake of this
		// Dialer recorded: the chain and hostname checks and, at first,
		// two per verifier.
		room := int(d.checksRoom.Load())
		if room == 0 {
			room = 2 + 2*len(d.verifiers)
		}
		st := &State{ConnectionState: cs, Now: now, infos: d.infos, observe: d.observe, server: rep.ServerName, checks: make([]Check, 0, room)}
		chain := st.Chain()
		if len(chain) == 0 {
			// crypto/tls verified the chain before calling us, so this
			// cannot happen unless verification was disabled: fail closed.
			err := fmt.Errorf("%w: no verified chain", ErrCertificate)
			rep.Checks = append(rep.Checks, Check{Verifier: "chain", Outcome: Fail, Detail: "no verified chain", Err: err, Error: err.Error()})
			*verr = err
			return err
		}
		rep.setChain(chain, d.infos)
		leafLabel := st.CertLabel(chain[0])
		kind := phraseRoot
		if cs.DidResume {
			kind = phraseRootResumed // the time of re-validation is the Report's Time
		}
		detail := d.phrases.get(kind, st.CertLabel(chain[len(chain)-1]))
		st.Record(Check{Verifier: "chain", Subject: leafLabel, Outcome: Pass, Detail: detail})
		st.Record(Check{Verifier: "hostname", Subject: leafLabel, Outcome: Pass, Detail: d.phrases.get(phraseHost, rep.ServerName)})
		err := runVerifiers(ctx, st, d.verifiers)
		rep.Checks = st.takeChecks()
		if n := len(rep.Checks); n > room {
			d.checksRoom.Store(int32(n))
		}
		if err != nil {
			*verr = err
		}
		return err
	}
}

// TLSConfig returns a hardened *tls.Config that runs the Dialer's verifiers
// in VerifyConnection, for http.Transport, gRPC credentials and database
// drivers. It shares the Dialer's session cache and verifier caches; each
// call returns a new copy that the caller may adjust (but must not disable
// verification on).
//
// Without a dial context, the verifiers of each handshake are bounded by the
// Dialer's timeout. A refusal is returned to crypto/tls as a
// *VerificationError; WithReportHook and the observers see the Report of
// every handshake that reaches VerifyConnection. A chain or host name
// failure does not: crypto/tls detects it first and returns its own
// *tls.CertificateVerificationError, with no Report (Dial, DialContext and
// Transport's direct connections classify and report those too).
func (d *Dialer) TLSConfig() *tls.Config {
	cfg := d.base.Clone()
	// Clone copies slices shallowly: the caller may append to these (as
	// net/http's HTTP/2 setup does to NextProtos), which must not reach
	// the Dialer's base or another copy.
	cfg.NextProtos = slices.Clone(cfg.NextProtos)
	cfg.Certificates = slices.Clone(cfg.Certificates)
	cfg.CipherSuites = slices.Clone(cfg.CipherSuites)
	cfg.CurvePreferences = slices.Clone(cfg.CurvePreferences)
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		var ctx context.Context = context.Background()
		if t := d.cfg.dialTimeout(); t > 0 {
			b := &boundedContext{Context: ctx, deadline: time.Now().Add(t), addr: cs.ServerName, limit: t}
			defer b.release()
			ctx = b
		}
		rep := &Report{ServerName: cs.ServerName}
		var verr error
		if err := d.verifyConnection(ctx, rep, &verr)(cs); err != nil {
			return d.refused(context.Background(), rep, err, time.Time{})
		}
		d.done(context.Background(), rep, nil, time.Time{})
		return nil
	}
	return cfg
}

// Conn is a verified TLS connection. It embeds *tls.Conn, so it is a
// net.Conn with ConnectionState, CloseWrite and the rest.
type Conn struct {
	*tls.Conn
	report *Report
	raw    *eofConn
}

// Report returns what was checked during the handshake and how each check
// ended. The caller must not modify it.
func (c *Conn) Report() *Report { return c.report }

// ErrTruncated is returned by Conn.Read when the peer closed the TCP
// connection without sending a TLS close_notify alert: the data read so far
// may have been cut short by an attacker or a failure. Protocols that
// delimit their own messages (HTTP with Content-Length, for instance) may
// choose to ignore it; protocols that read until the end of the stream must
// not. It wraps io.ErrUnexpectedEOF.
var ErrTruncated = fmt.Errorf("tlsclient: connection closed without close_notify (truncated): %w", io.ErrUnexpectedEOF)

// Read reads application data. At the end of the stream it returns io.EOF
// when the peer sent close_notify, and ErrTruncated when the transport ended
// without it, at a record boundary or inside a record (crypto/tls itself
// reports the first as io.EOF).
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if (err == io.EOF || err == io.ErrUnexpectedEOF) && c.raw.eof.Load() {
		// The transport ended without close_notify: at a record
		// boundary crypto/tls says io.EOF, inside a record
		// io.ErrUnexpectedEOF. Either way the stream was cut.
		return n, ErrTruncated
	}
	return n, err
}

// eofConn notes whether the transport itself reached end of file, which is
// how a clean close (close_notify first) is told from a truncated one.
type eofConn struct {
	net.Conn
	eof atomic.Bool
	// report is the connection's Report, set once the handshake
	// succeeded, before the connection is handed out (see ConnReport).
	report *Report
}

func (c *eofConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if errors.Is(err, io.EOF) {
		c.eof.Store(true)
	}
	return n, err
}

// newStapleCheck is the built-in, no-network staple check every Dialer runs.
func newStapleCheck() *stapleCheck {
	return &stapleCheck{cache: ocspcheck.NewVerdictCache(defaultStapleVerdicts)}
}
