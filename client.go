package tlsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
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
	d := &Dialer{cfg: cfg, base: cfg.tlsConfig()}
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
	if t := d.cfg.dialTimeout(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t,
			fmt.Errorf("tlsclient: dial %s timed out after %s (see WithTimeout): %w", addr, t, context.DeadlineExceeded))
		defer cancel()
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("tlsclient: address %q: %w (want host:port, e.g. example.com:443)", addr, err)
	}
	cfg := d.base.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	rep := &Report{Address: addr, ServerName: cfg.ServerName}
	var verr error
	cfg.VerifyConnection = d.verifyConnection(ctx, rep, &verr)

	raw, err := d.dialRaw(ctx, network, addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("tlsclient: dial %s: %w", addr, err)
	}
	ec := &eofConn{Conn: raw}
	tc := tls.Client(ec, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		if rep.Version == "" {
			// Refused before VerifyConnection: keep what was negotiated.
			if cs := tc.ConnectionState(); cs.Version != 0 {
				rep.setConnection(&cs)
			}
		}
		return nil, d.handshakeError(ctx, err, verr, rep)
	}
	if d.cfg.reportHook != nil {
		d.cfg.reportHook(rep)
	}
	return &Conn{Conn: tc, report: rep, raw: ec}, nil
}

func (d *Dialer) dialRaw(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.cfg.dial != nil {
		return d.cfg.dial(ctx, network, addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
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
		rep.setChain(cerr.chain)
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
func (d *Dialer) verifyConnection(ctx context.Context, rep *Report, verr *error) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		now := d.cfg.time()
		rep.Time = now
		rep.setConnection(&cs)
		st := &State{ConnectionState: cs, Now: now}
		chain := st.Chain()
		if len(chain) == 0 {
			// crypto/tls verified the chain before calling us, so this
			// cannot happen unless verification was disabled: fail closed.
			err := fmt.Errorf("%w: no verified chain", ErrCertificate)
			rep.Checks = append(rep.Checks, Check{Verifier: "chain", Outcome: Fail, Detail: "no verified chain", Err: err, Error: err.Error()})
			*verr = err
			return err
		}
		rep.setChain(chain)
		detail := "verified to trusted root " + certLabel(chain[len(chain)-1])
		if cs.DidResume {
			detail += " (resumed session, re-validated at " + now.UTC().Format(time.RFC3339) + ")"
		}
		st.Record(Check{Verifier: "chain", Subject: certLabel(chain[0]), Outcome: Pass, Detail: detail})
		hostDetail := fmt.Sprintf("%q matches the certificate", rep.ServerName)
		if rep.ServerName == "" {
			// TLSConfig used for an IP literal: crypto/tls sent no SNI and
			// verified the IP against the certificate's IP SANs.
			hostDetail = "the dialled IP address matches the certificate's IP SANs (no SNI sent)"
		}
		st.Record(Check{Verifier: "hostname", Subject: certLabel(chain[0]), Outcome: Pass, Detail: hostDetail})
		err := runVerifiers(ctx, st, d.verifiers)
		rep.Checks = st.Checks()
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
		ctx := context.Background()
		if t := d.cfg.dialTimeout(); t > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
		rep := &Report{ServerName: cs.ServerName}
		var verr error
		if err := d.verifyConnection(ctx, rep, &verr)(cs); err != nil {
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
