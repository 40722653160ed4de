package tlsclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"
)

// Defaults, in one place. Each is documented on the option that changes it.
const (
	// DefaultTimeout bounds a whole dial: connect, handshake and every
	// verifier, including their network fetches.
	DefaultTimeout = 30 * time.Second
	// DefaultMinVersion is the lowest TLS version offered. Anything lower
	// is refused.
	DefaultMinVersion = tls.VersionTLS12
	// DefaultSessionCacheSize is the number of TLS sessions a Dialer keeps
	// for resumption.
	DefaultSessionCacheSize = 256
	// defaultStapleVerdicts bounds the staple verdict cache of a Dialer.
	defaultStapleVerdicts = 1024
)

// An Option configures a Dialer. Options are applied in order and validated
// once, by New, Dial or NewConfig; an invalid option makes them return an
// error that names it.
type Option func(*config) error

// config is the resolved configuration. It is never mutated after New.
type config struct {
	roots        *x509.CertPool
	caFiles      []string
	serverName   string
	minVersion   uint16
	verifiers    []Verifier
	now          func() time.Time
	timeout      time.Duration
	base         *tls.Config
	clientCerts  []tls.Certificate
	getClientCrt func(*tls.CertificateRequestInfo) (*tls.Certificate, error)
	nextProtos   []string
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	sessions     tls.ClientSessionCache
	sessionsSet  bool
	reportHook   func(*Report)
	observers    []Observer
}

// time returns the configured clock's reading.
func (c *config) time() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *config) dialTimeout() time.Duration {
	if c.timeout == 0 {
		return DefaultTimeout
	}
	return c.timeout
}

// WithRootCAs sets the trust anchors, replacing the system roots.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *config) error {
		if pool == nil {
			return errors.New("tlsclient: WithRootCAs: nil pool (omit the option to use the system roots)")
		}
		c.roots = pool
		return nil
	}
}

// WithCAFile adds the certificates of a PEM bundle to the trust anchors,
// replacing the system roots (like SSL_CTX_load_verify_locations or curl's
// --cacert). It may be given several times; with WithRootCAs, the file's
// certificates are added to that pool.
func WithCAFile(path string) Option {
	return func(c *config) error {
		if path == "" {
			return errors.New("tlsclient: WithCAFile: empty path")
		}
		c.caFiles = append(c.caFiles, path)
		return nil
	}
}

// WithServerName sets the name sent in SNI and verified against the
// certificate. By default it is the host part of the address dialled; an IP
// literal is verified against the certificate's IP SANs and sends no SNI.
func WithServerName(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("tlsclient: WithServerName: empty name")
		}
		c.serverName = name
		return nil
	}
}

// WithMinVersion sets the lowest TLS version offered, TLS 1.2
// (DefaultMinVersion) unless set. Versions below TLS 1.2 are refused with an
// error: they lack modern cipher suites and are deprecated by RFC 8996.
func WithMinVersion(v uint16) Option {
	return func(c *config) error {
		switch v {
		case tls.VersionTLS12, tls.VersionTLS13:
			c.minVersion = v
			return nil
		case tls.VersionTLS10, tls.VersionTLS11, 0x0300: // 0x0300 is SSL 3.0
			return fmt.Errorf("tlsclient: WithMinVersion: %s is below the minimum of TLS 1.2 (RFC 8996 deprecates it); upgrade the server instead", tls.VersionName(v))
		}
		return fmt.Errorf("tlsclient: WithMinVersion: unknown TLS version 0x%04x (use tls.VersionTLS12 or tls.VersionTLS13)", v)
	}
}

// WithVerifiers adds verifiers, run in order after chain and host name
// validation, on full and resumed handshakes. The first one to return an
// error aborts the handshake.
func WithVerifiers(v ...Verifier) Option {
	return func(c *config) error {
		for i, x := range v {
			if x == nil {
				return fmt.Errorf("tlsclient: WithVerifiers: verifier %d is nil", i)
			}
		}
		c.verifiers = append(c.verifiers, v...)
		return nil
	}
}

// WithTime sets the clock used for chain validation and by every verifier,
// so that one time judges the whole connection. Tests and offline checks use
// a fixed clock.
func WithTime(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("tlsclient: WithTime: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithTimeout bounds a whole dial: connect, handshake and verifiers
// (DefaultTimeout, 30s, unless set). A context deadline that comes earlier
// wins. For TLSConfig it bounds the verifiers of each handshake. d < 0
// removes the bound (the context alone then limits the dial).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d == 0 {
			return errors.New("tlsclient: WithTimeout: zero timeout (use a negative value for none)")
		}
		c.timeout = d
		return nil
	}
}

// WithBaseConfig starts from a copy of base, for settings this package has
// no option for (cipher suites for FIPS, curve preferences, KeyLogWriter,
// EncryptedClientHelloConfigList...). base is cloned, never modified. A base
// that sets InsecureSkipVerify, VerifyPeerCertificate or VerifyConnection, or
// that allows a version below TLS 1.2, is refused: verification is not
// optional.
func WithBaseConfig(base *tls.Config) Option {
	return func(c *config) error {
		if base == nil {
			return errors.New("tlsclient: WithBaseConfig: nil config")
		}
		switch {
		case base.InsecureSkipVerify:
			return errors.New("tlsclient: WithBaseConfig: InsecureSkipVerify is set; tlsclient always verifies the server")
		case base.VerifyPeerCertificate != nil:
			return errors.New("tlsclient: WithBaseConfig: VerifyPeerCertificate is set; add checks with WithVerifiers (they also run on resumed sessions)")
		case base.VerifyConnection != nil:
			return errors.New("tlsclient: WithBaseConfig: VerifyConnection is set; add checks with WithVerifiers")
		case base.MinVersion != 0 && base.MinVersion < tls.VersionTLS12:
			return fmt.Errorf("tlsclient: WithBaseConfig: MinVersion %s is below TLS 1.2", tls.VersionName(base.MinVersion))
		case base.MaxVersion != 0 && base.MaxVersion < tls.VersionTLS12:
			return fmt.Errorf("tlsclient: WithBaseConfig: MaxVersion %s is below TLS 1.2", tls.VersionName(base.MaxVersion))
		}
		c.base = base.Clone()
		// Clone copies slices shallowly: own them, so that a caller
		// changing its config later cannot reach into the Dialer.
		c.base.NextProtos = slices.Clone(base.NextProtos)
		c.base.CipherSuites = slices.Clone(base.CipherSuites)
		c.base.CurvePreferences = slices.Clone(base.CurvePreferences)
		c.base.Certificates = slices.Clone(base.Certificates)
		return nil
	}
}

// WithClientCertificate presents cert when the server asks for one (mutual
// TLS). It may be given several times; crypto/tls picks the first one that
// matches the server's request.
func WithClientCertificate(cert tls.Certificate) Option {
	return func(c *config) error {
		if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
			return errors.New("tlsclient: WithClientCertificate: certificate or private key missing")
		}
		c.clientCerts = append(c.clientCerts, cert)
		return nil
	}
}

// WithClientCertificateFile loads a PEM certificate chain and its key for
// mutual TLS (like curl's --cert and --key).
func WithClientCertificateFile(certFile, keyFile string) Option {
	return func(c *config) error {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("tlsclient: WithClientCertificateFile: %w", err)
		}
		c.clientCerts = append(c.clientCerts, cert)
		return nil
	}
}

// WithGetClientCertificate sets a callback that chooses the client
// certificate per handshake (for rotating credentials).
func WithGetClientCertificate(f func(*tls.CertificateRequestInfo) (*tls.Certificate, error)) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("tlsclient: WithGetClientCertificate: nil function")
		}
		c.getClientCrt = f
		return nil
	}
}

// WithNextProtos sets the ALPN protocols offered, in order of preference
// (for example "h2", "http/1.1").
func WithNextProtos(protos ...string) Option {
	return func(c *config) error {
		for _, p := range protos {
			if p == "" || len(p) > 255 {
				return fmt.Errorf("tlsclient: WithNextProtos: invalid protocol name %q", p)
			}
		}
		c.nextProtos = append([]string(nil), protos...)
		return nil
	}
}

// WithDialFunc sets how the underlying connection is made (a proxy, a Unix
// socket, an in-memory pipe). The default is a net.Dialer. The TLS handshake
// and verification are the same whatever the transport.
func WithDialFunc(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(c *config) error {
		if dial == nil {
			return errors.New("tlsclient: WithDialFunc: nil function")
		}
		c.dial = dial
		return nil
	}
}

// WithSessionCache sets the TLS session cache shared by the dials of a
// Dialer. By default each Dialer has its own LRU cache of
// DefaultSessionCacheSize sessions; nil disables resumption.
func WithSessionCache(cache tls.ClientSessionCache) Option {
	return func(c *config) error {
		c.sessions = cache
		c.sessionsSet = true
		return nil
	}
}

// WithReportHook calls f with the Report of every handshake, successful or
// not, made through the Dialer or its TLSConfig. It is how callers that do
// not hold the Conn (net/http, gRPC) see what was checked. f must be safe for
// concurrent use and must not block.
func WithReportHook(f func(*Report)) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("tlsclient: WithReportHook: nil function")
		}
		c.reportHook = f
		return nil
	}
}

// newConfig applies the options and resolves everything that can fail.
func newConfig(opts []Option) (*config, error) {
	c := &config{minVersion: DefaultMinVersion}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("tlsclient: nil Option")
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if len(c.caFiles) > 0 {
		pool := x509.NewCertPool()
		if c.roots != nil {
			pool = c.roots.Clone()
		}
		for _, f := range c.caFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("tlsclient: WithCAFile: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tlsclient: WithCAFile: %s holds no PEM certificate", f)
			}
		}
		c.roots = pool
	}
	if c.now == nil && c.base != nil && c.base.Time != nil {
		// One clock: the base config's, for the chain and the verifiers.
		c.now = c.base.Time
	}
	if !c.sessionsSet {
		c.sessions = tls.NewLRUClientSessionCache(DefaultSessionCacheSize)
	}
	return c, nil
}

// tlsConfig builds the hardened base configuration: verification on, TLS 1.2
// minimum, no pinned cipher suites or curves. VerifyConnection is set per use.
func (c *config) tlsConfig() *tls.Config {
	t := &tls.Config{}
	if c.base != nil {
		t = c.base.Clone()
	}
	t.InsecureSkipVerify = false
	if c.roots != nil {
		t.RootCAs = c.roots
	}
	if t.MinVersion < c.minVersion {
		t.MinVersion = c.minVersion
	}
	if c.serverName != "" {
		t.ServerName = c.serverName
	}
	if c.now != nil {
		t.Time = c.now
	}
	if len(c.clientCerts) > 0 {
		t.Certificates = append(t.Certificates, c.clientCerts...)
	}
	if c.getClientCrt != nil {
		t.GetClientCertificate = c.getClientCrt
	}
	if c.nextProtos != nil {
		t.NextProtos = c.nextProtos
	}
	t.ClientSessionCache = c.sessions
	return t
}
