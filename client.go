package tlsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
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
	d := &Dialer{cfg: cfg, base: cfg.tlsConfig(), infos: &certInfos{}}
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
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("tlsclient: address %q: %w (want host:port, e.g. example.com:443)", addr, err)
	}
	// The dial's bound applies as a context to the connect and to the
	// verifiers, and as a deadline on the connection during the handshake:
	// crypto/tls watches a cancelable context with a goroutine of its own
	// per handshake, which a deadline avoids when the caller's context
	// cannot be canceled.
	var deadline time.Time
	var timeout error
	if t := d.cfg.dialTimeout(); t > 0 {
		deadline = time.Now().Add(t)
		timeout = &timeoutError{addr: addr, d: t}
	}
	bound := func() (context.Context, context.CancelFunc) {
		if deadline.IsZero() {
			return ctx, func() {}
		}
		return context.WithDeadlineCause(ctx, deadline, timeout)
	}

	cfg := d.base.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	rep := &Report{Address: addr, ServerName: cfg.ServerName}
	var verr error
	cfg.VerifyConnection = d.verifyConnection(bound, rep, &verr)

	raw, err := d.dialRaw(ctx, bound, deadline, timeout, network, addr)
	if err != nil {
		return nil, err
	}
	hctx := ctx
	if !deadline.IsZero() && raw.SetDeadline(deadline) != nil {
		// A transport without deadlines: let crypto/tls watch the bound.
		var cancel context.CancelFunc
		hctx, cancel = bound()
		defer cancel()
	}
	ec := &eofConn{Conn: raw}
	tc := tls.Client(ec, cfg)
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		if rep.Version == "" {
			// Refused before VerifyConnection: keep what was negotiated.
			if cs := tc.ConnectionState(); cs.Version != 0 {
				rep.setConnection(&cs)
			}
		}
		if verr == nil && timeout != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)) && !time.Now().Before(deadline) {
			return nil, fmt.Errorf("tlsclient: handshake with %s: %w", addr, timeout)
		}
		return nil, d.handshakeError(ctx, err, verr, rep)
	}
	if !deadline.IsZero() {
		raw.SetDeadline(time.Time{})
	}
	if d.cfg.reportHook != nil {
		d.cfg.reportHook(rep)
	}
	return &Conn{Conn: tc, report: rep, raw: ec}, nil
}

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

// dialRaw makes the transport connection within the dial's bound. The
// default dialer takes the bound as a deadline, which spares the goroutine
// package net starts to watch a cancelable context; a custom dial function
// gets it as a context.
func (d *Dialer) dialRaw(ctx context.Context, bound func() (context.Context, context.CancelFunc), deadline time.Time, timeout error, network, addr string) (net.Conn, error) {
	var raw net.Conn
	var err error
	var dctx context.Context
	if d.cfg.dial != nil {
		var cancel context.CancelFunc
		dctx, cancel = bound()
		defer cancel()
		raw, err = d.cfg.dial(dctx, network, addr)
	} else {
		dctx = ctx
		nd := net.Dialer{Deadline: deadline}
		raw, err = nd.DialContext(ctx, network, addr)
	}
	if err == nil {
		return raw, nil
	}
	if dctx.Err() != nil {
		return nil, context.Cause(dctx)
	}
	var ne net.Error
	if timeout != nil && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(deadline) {
		return nil, timeout
	}
	return nil, fmt.Errorf("tlsclient: dial %s: %w", addr, err)
}

// handshakeError turns a failed handshake into a *VerificationError when a
// check refused it, recording the failure in the report.
func (d *Dialer) handshakeError(ctx context.Context, err, verr error, rep *Report) error {
	if verr != nil {
		// A verifier refused the connection; this wins over a context
		// error that crypto/tls may report once the connection is closed.
		return d.refused(rep, verr)
	}
	if rep.Time.IsZero() {
		rep.Time = d.cfg.time()
	}
	if cerr := classifyCertificateError(err, rep.Time); cerr != nil {
		rep.setChain(cerr.chain, d.infos)
		rep.Checks = append(rep.Checks, Check{Verifier: cerr.checkName(), Subject: cerr.Subject, Outcome: Fail,
			Detail: cerr.Reason.String(), Err: cerr, Error: cerr.Error()})
		d.recordNotRun(rep, "chain verification failed")
		return d.refused(rep, cerr)
	}
	if verErr := classifyVersionError(err); verErr != nil {
		rep.Checks = append(rep.Checks, Check{Verifier: "version", Outcome: Fail,
			Detail: "no common TLS version at or above " + tls.VersionName(d.base.MinVersion), Err: verErr, Error: verErr.Error()})
		d.recordNotRun(rep, "the handshake did not complete")
		return d.refused(rep, verErr)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("tlsclient: handshake with %s: %w", rep.Address, context.Cause(ctx))
	}
	return fmt.Errorf("tlsclient: handshake with %s: %w", rep.Address, err)
}

func (d *Dialer) refused(rep *Report, err error) error {
	if d.cfg.reportHook != nil {
		d.cfg.reportHook(rep)
	}
	return &VerificationError{Report: rep, Err: err}
}

func (d *Dialer) recordNotRun(rep *Report, why string) {
	for _, v := range d.verifiers {
		rep.Checks = append(rep.Checks, Check{Verifier: verifierName(v), Outcome: Skip, Detail: "not run: " + why})
	}
}

// verifyConnection returns the VerifyConnection callback for one handshake:
// it records the connection and the chain crypto/tls verified, then runs the
// verifiers with ctx. A verifier error is also stored in *verr.
func (d *Dialer) verifyConnection(bound func() (context.Context, context.CancelFunc), rep *Report, verr *error) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		ctx, cancel := bound()
		defer cancel()
		now := d.cfg.time()
		rep.Time = now
		rep.setConnection(&cs)
		// Room for the chain and hostname checks and a few per verifier.
		st := &State{ConnectionState: cs, Now: now, infos: d.infos, checks: make([]Check, 0, 2+4*len(d.verifiers))}
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
		detail := "verified to trusted root " + st.CertLabel(chain[len(chain)-1])
		if cs.DidResume {
			detail += " (resumed session, re-validated at " + now.UTC().Format(time.RFC3339) + ")"
		}
		st.Record(Check{Verifier: "chain", Subject: leafLabel, Outcome: Pass, Detail: detail})
		hostDetail := strconv.Quote(rep.ServerName) + " matches the certificate"
		if rep.ServerName == "" {
			// TLSConfig used for an IP literal: crypto/tls sent no SNI and
			// verified the IP against the certificate's IP SANs.
			hostDetail = "the dialled IP address matches the certificate's IP SANs (no SNI sent)"
		}
		st.Record(Check{Verifier: "hostname", Subject: leafLabel, Outcome: Pass, Detail: hostDetail})
		err := runVerifiers(ctx, st, d.verifiers)
		rep.Checks = st.takeChecks()
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
// *VerificationError; WithReportHook sees every Report.
func (d *Dialer) TLSConfig() *tls.Config {
	cfg := d.base.Clone()
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		bound := func() (context.Context, context.CancelFunc) {
			if t := d.cfg.dialTimeout(); t > 0 {
				return context.WithTimeout(context.Background(), t)
			}
			return context.Background(), func() {}
		}
		rep := &Report{ServerName: cs.ServerName}
		var verr error
		if err := d.verifyConnection(bound, rep, &verr)(cs); err != nil {
			return d.refused(rep, err)
		}
		if d.cfg.reportHook != nil {
			d.cfg.reportHook(rep)
		}
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
