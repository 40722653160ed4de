package tlsclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

func get(t testing.TB, c *tlsclient.Conn) (string, error) {
	t.Helper()
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

func TestDialGood(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	c, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body, err := get(t, c)
	if err != nil {
		t.Fatalf("clean close should read to io.EOF, got %v", err)
	}
	if !strings.Contains(body, "hello from localhost") {
		t.Errorf("unexpected body %q", body)
	}
	r := c.Report()
	if !r.OK() || r.ServerName != "localhost" || r.Address != localhost(s.Addr) {
		t.Errorf("report: %+v", r)
	}
	if r.Version != "TLS 1.3" || r.CipherSuite == "" || r.Resumed {
		t.Errorf("connection fields: version %q suite %q resumed %v", r.Version, r.CipherSuite, r.Resumed)
	}
	if !r.Time.Equal(testpki.Now) {
		t.Errorf("report time %v, want the fixed clock %v", r.Time, testpki.Now)
	}
	if len(r.Chain) != 3 || r.Chain[0].Subject != "CN=localhost" || r.Chain[2].Subject != "CN=testpki Root CA" {
		t.Fatalf("chain: %+v", r.Chain)
	}
	leaf := r.Chain[0]
	if leaf.KeyType != "ECDSA P-256" || leaf.Serial == "" || len(leaf.SHA256) != 64 ||
		!leaf.NotAfter.Equal(p.leaf.Cert.NotAfter) || leaf.Issuer != "CN=testpki Intermediate CA" {
		t.Errorf("leaf info: %+v", leaf)
	}
	if got := mustOneCheck(t, r, "chain"); got.Outcome != tlsclient.Pass || !strings.Contains(got.Detail, "testpki Root CA") {
		t.Errorf("chain check: %+v", got)
	}
	if got := mustOneCheck(t, r, "hostname"); got.Outcome != tlsclient.Pass {
		t.Errorf("hostname check: %+v", got)
	}
	if got := mustOneCheck(t, r, "staple"); got.Outcome != tlsclient.Skip || got.Detail != "no stapled OCSP response" {
		t.Errorf("staple check: %+v", got)
	}
	if sni := s.SNIs(); len(sni) != 1 || sni[0] != "localhost" {
		t.Errorf("SNI sent: %q", sni)
	}
}

func TestTruncatedInsideRecord(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf, Handler: func(c *tls.Conn) {
		// Half an application-data record, then the TCP connection ends.
		c.NetConn().Write([]byte{0x17, 0x03, 0x03, 0x00, 0x40, 1, 2, 3})
		c.NetConn().Close()
	}})
	c, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.ReadAll(c); !errors.Is(err, tlsclient.ErrTruncated) {
		t.Fatalf("want ErrTruncated for a cut inside a record, got %v", err)
	}
}

func TestTruncatedConnection(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf, Truncate: true})
	c, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body, err := get(t, c)
	if !errors.Is(err, tlsclient.ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("want ErrTruncated, got %v", err)
	}
	if !strings.Contains(body, "hello") {
		t.Errorf("data before the truncation must still be delivered, got %q", body)
	}
}

// TestChainFailures covers the troubleshooting cases of the OpenSSL guide:
// each comes back as a *VerificationError wrapping a *CertificateError whose
// message says what to check.
func TestChainFailures(t *testing.T) {
	t.Parallel()
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{}))
	inter := testpki.Must(root.NewIntermediate(testpki.CertOptions{}))
	otherRoot := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Other Root"}))

	tests := []struct {
		name     string
		leaf     func() *testpki.Cert
		chain    func(leaf *testpki.Cert) []*x509.Certificate
		dialHost string
		reason   tlsclient.CertificateReason
		check    string
		x509Err  any
		hint     string
	}{
		{
			name: "hostname mismatch",
			leaf: func() *testpki.Cert {
				return testpki.Must(inter.Issue(testpki.CertOptions{DNSNames: []string{"other.test"}}))
			},
			reason:  tlsclient.HostnameMismatch,
			check:   "hostname",
			x509Err: &x509.HostnameError{},
			hint:    `valid for other.test, not for "localhost"`,
		},
		{
			name: "expired",
			leaf: func() *testpki.Cert {
				return testpki.Must(inter.Issue(testpki.CertOptions{NotBefore: testpki.Now.AddDate(-1, 0, 0), NotAfter: testpki.Now.Add(-time.Hour)}))
			},
			reason:  tlsclient.Expired,
			check:   "chain",
			x509Err: &x509.CertificateInvalidError{},
			hint:    "the server must renew its certificate",
		},
		{
			name: "not yet valid",
			leaf: func() *testpki.Cert {
				return testpki.Must(inter.Issue(testpki.CertOptions{NotBefore: testpki.Now.Add(time.Hour)}))
			},
			reason:  tlsclient.NotYetValid,
			check:   "chain",
			x509Err: &x509.CertificateInvalidError{},
			hint:    "check this machine's clock",
		},
		{
			name:    "unknown CA",
			leaf:    func() *testpki.Cert { return testpki.Must(otherRoot.Issue(testpki.CertOptions{})) },
			reason:  tlsclient.UnknownIssuer,
			check:   "chain",
			x509Err: &x509.UnknownAuthorityError{},
			hint:    `issued by "CN=Other Root"`,
		},
		{
			name: "missing intermediate",
			leaf: func() *testpki.Cert { return testpki.Must(inter.Issue(testpki.CertOptions{})) },
			chain: func(leaf *testpki.Cert) []*x509.Certificate {
				return []*x509.Certificate{leaf.Cert}
			},
			reason:  tlsclient.UnknownIssuer,
			check:   "chain",
			x509Err: &x509.UnknownAuthorityError{},
			hint:    "the server is missing it from its chain",
		},
		{
			name: "self-signed",
			leaf: func() *testpki.Cert {
				return testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "localhost", DNSNames: []string{"localhost"}}))
			},
			chain: func(leaf *testpki.Cert) []*x509.Certificate {
				return []*x509.Certificate{leaf.Cert}
			},
			reason:  tlsclient.UntrustedRoot,
			check:   "chain",
			x509Err: &x509.UnknownAuthorityError{},
			hint:    "is self-signed and not trusted",
		},
		{
			name: "wrong usage",
			leaf: func() *testpki.Cert {
				return testpki.Must(inter.Issue(testpki.CertOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}))
			},
			reason:  tlsclient.WrongUsage,
			check:   "chain",
			x509Err: &x509.CertificateInvalidError{},
			hint:    "serverAuth",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			leaf := tt.leaf()
			opts := testpki.ServerOptions{Cert: leaf}
			if tt.chain != nil {
				opts.Chain = tt.chain(leaf)
			}
			s := serve(t, opts)
			_, err := tlsclient.Dial("tcp", localhost(s.Addr), tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()))
			ve := verificationError(t, err)
			if !errors.Is(err, tlsclient.ErrCertificate) {
				t.Errorf("errors.Is(err, ErrCertificate) is false: %v", err)
			}
			var ce *tlsclient.CertificateError
			if !errors.As(err, &ce) {
				t.Fatalf("no *CertificateError in %v", err)
			}
			if ce.Reason != tt.reason {
				t.Errorf("reason %v, want %v (%v)", ce.Reason, tt.reason, err)
			}
			if !errors.As(err, tt.x509Err) {
				t.Errorf("the crypto/x509 error %T is not reachable from %v", tt.x509Err, err)
			}
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("error %q does not contain %q", err, tt.hint)
			}
			r := ve.Report
			if r.OK() {
				t.Error("report says OK")
			}
			got := mustOneCheck(t, r, tt.check)
			if got.Outcome != tlsclient.Fail || got.Error == "" {
				t.Errorf("%s check: %+v", tt.check, got)
			}
			if st := mustOneCheck(t, r, "staple"); st.Outcome != tlsclient.Skip {
				t.Errorf("verifiers that did not run must be recorded as skipped: %+v", st)
			}
			if r.Version == "" || r.CipherSuite == "" {
				t.Errorf("the negotiated version and suite belong in the report of a refused handshake: %q %q", r.Version, r.CipherSuite)
			}
			if len(r.Chain) == 0 || r.Chain[0].SHA256 == "" {
				t.Errorf("report should describe the chain the server sent: %+v", r.Chain)
			}
		})
	}
}

func TestProtocolVersion(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	t.Run("TLS 1.1 server", func(t *testing.T) {
		t.Parallel()
		s := serve(t, testpki.ServerOptions{Cert: p.leaf, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		_, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts()...)
		ve := verificationError(t, err)
		if !errors.Is(err, tlsclient.ErrProtocolVersion) {
			t.Fatalf("want ErrProtocolVersion, got %v", err)
		}
		if !strings.Contains(err.Error(), "upgrade the server") {
			t.Errorf("error should say what to do: %v", err)
		}
		if c := mustOneCheck(t, ve.Report, "version"); c.Outcome != tlsclient.Fail {
			t.Errorf("version check: %+v", c)
		}
	})
	t.Run("min TLS 1.3 against a TLS 1.2 server", func(t *testing.T) {
		t.Parallel()
		s := serve(t, testpki.ServerOptions{Cert: p.leaf, MaxVersion: tls.VersionTLS12})
		_, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts(tlsclient.WithMinVersion(tls.VersionTLS13))...)
		if !errors.Is(err, tlsclient.ErrProtocolVersion) {
			t.Fatalf("want ErrProtocolVersion, got %v", err)
		}
	})
	t.Run("TLS 1.2 server", func(t *testing.T) {
		t.Parallel()
		s := serve(t, testpki.ServerOptions{Cert: p.leaf, MaxVersion: tls.VersionTLS12})
		c, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts()...)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.Report().Version != "TLS 1.2" {
			t.Errorf("version %q", c.Report().Version)
		}
	})
}

func TestIPLiteral(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{}) // SANs: localhost, 127.0.0.1
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	c, err := tlsclient.Dial("tcp", s.Addr, p.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := c.Report().ServerName; got != "127.0.0.1" {
		t.Errorf("server name %q", got)
	}
	if sni := s.SNIs(); len(sni) != 1 || sni[0] != "" {
		t.Errorf("an IP literal must not be sent as SNI, server saw %q", sni)
	}

	noIP := newPKI(t, testpki.CertOptions{DNSNames: []string{"localhost"}})
	s2 := serve(t, testpki.ServerOptions{Cert: noIP.leaf})
	_, err = tlsclient.Dial("tcp", s2.Addr, noIP.opts()...)
	var ce *tlsclient.CertificateError
	if !errors.As(err, &ce) || ce.Reason != tlsclient.HostnameMismatch {
		t.Fatalf("a certificate without the IP SAN must not verify for the IP: %v", err)
	}

	// WithServerName overrides the host of the address.
	c, err = tlsclient.Dial("tcp", s2.Addr, noIP.opts(tlsclient.WithServerName("localhost"))...)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if sni := s2.SNIs(); sni[len(sni)-1] != "localhost" {
		t.Errorf("WithServerName not sent as SNI: %q", sni)
	}
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("not a certificate\n"), 0o600)
	tests := []struct {
		name string
		opt  tlsclient.Option
		want string
	}{
		{"TLS 1.1 minimum", tlsclient.WithMinVersion(tls.VersionTLS11), "below the minimum of TLS 1.2"},
		{"TLS 1.0 minimum", tlsclient.WithMinVersion(tls.VersionTLS10), "below the minimum of TLS 1.2"},
		{"unknown version", tlsclient.WithMinVersion(0x0305), "unknown TLS version"},
		{"InsecureSkipVerify", tlsclient.WithBaseConfig(&tls.Config{InsecureSkipVerify: true}), "InsecureSkipVerify"},
		{"VerifyPeerCertificate", tlsclient.WithBaseConfig(&tls.Config{VerifyPeerCertificate: func([][]byte, [][]*x509.Certificate) error { return nil }}), "VerifyPeerCertificate"},
		{"VerifyConnection", tlsclient.WithBaseConfig(&tls.Config{VerifyConnection: func(tls.ConnectionState) error { return nil }}), "VerifyConnection"},
		{"base MinVersion", tlsclient.WithBaseConfig(&tls.Config{MinVersion: tls.VersionTLS10}), "below TLS 1.2"},
		{"base MaxVersion", tlsclient.WithBaseConfig(&tls.Config{MaxVersion: tls.VersionTLS11}), "below TLS 1.2"},
		{"nil base", tlsclient.WithBaseConfig(nil), "nil config"},
		{"missing CA file", tlsclient.WithCAFile(filepath.Join(dir, "absent.pem")), "no such file"},
		{"CA file without certificates", tlsclient.WithCAFile(empty), "holds no PEM certificate"},
		{"nil root pool", tlsclient.WithRootCAs(nil), "nil pool"},
		{"nil verifier", tlsclient.WithVerifiers(nil), "verifier 0 is nil"},
		{"nil clock", tlsclient.WithTime(nil), "nil clock"},
		{"zero timeout", tlsclient.WithTimeout(0), "zero timeout"},
		{"empty ALPN", tlsclient.WithNextProtos(""), "invalid protocol name"},
		{"client cert without key", tlsclient.WithClientCertificate(tls.Certificate{}), "missing"},
		{"client cert files", tlsclient.WithClientCertificateFile(empty, empty), "WithClientCertificateFile"},
		{"nil option", nil, "nil Option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tlsclient.New(tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "tlsclient: ") {
				t.Fatalf("New: got %v, want an error containing %q", err, tt.want)
			}
			if _, err := tlsclient.NewConfig(tt.opt); err == nil {
				t.Error("NewConfig accepted it")
			}
			if _, err := tlsclient.Dial("tcp", "127.0.0.1:1", tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Dial: got %v", err)
			}
		})
	}
}

func TestBaseConfigClonedNotMutated(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	base := &tls.Config{NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	d, err := tlsclient.New(append(p.opts(), tlsclient.WithBaseConfig(base))...)
	if err != nil {
		t.Fatal(err)
	}
	base.NextProtos[0] = "mutated"
	base.InsecureSkipVerify = true // after New: must not leak into the Dialer
	s := serve(t, testpki.ServerOptions{Cert: p.leaf, NextProtos: []string{"http/1.1"}})
	c, err := d.Dial("tcp", localhost(s.Addr))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if base.VerifyConnection != nil || base.RootCAs != nil || base.Time != nil {
		t.Error("the base config was modified")
	}
	cfg := d.TLSConfig()
	if cfg.InsecureSkipVerify || cfg.VerifyConnection == nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLSConfig not hardened: skip=%v verify=%v min=%x", cfg.InsecureSkipVerify, cfg.VerifyConnection != nil, cfg.MinVersion)
	}
	if cfg.CipherSuites != nil || cfg.CurvePreferences != nil {
		t.Error("cipher suites and curves must not be pinned")
	}
}

func TestDefaultsHardened(t *testing.T) {
	t.Parallel()
	cfg, err := tlsclient.NewConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.InsecureSkipVerify || cfg.VerifyConnection == nil ||
		cfg.RootCAs != nil || cfg.ClientSessionCache == nil || cfg.CipherSuites != nil {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestVerifiersOrderAndAbort(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	var order []string
	var mu sync.Mutex
	mark := func(name string, err error) tlsclient.Verifier {
		return tlsclient.VerifierFunc(name, func(_ context.Context, st *tlsclient.State) error {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			if len(st.Chain()) != 3 || st.ConnectionState.ServerName != "localhost" {
				return fmt.Errorf("verifier %s ran without the verified chain", name)
			}
			return err
		})
	}
	sentinel := fmt.Errorf("policy says no: %w", tlsclient.ErrCTPolicy)
	_, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts(tlsclient.WithVerifiers(mark("first", nil), mark("second", sentinel), mark("third", nil)))...)
	ve := verificationError(t, err)
	if !errors.Is(err, tlsclient.ErrCTPolicy) || !errors.Is(err, sentinel) {
		t.Fatalf("the verifier's error must be reachable: %v", err)
	}
	if strings.Join(order, ",") != "first,second" {
		t.Errorf("ran %v, want first,second", order)
	}
	r := ve.Report
	if c := mustOneCheck(t, r, "first"); c.Outcome != tlsclient.Pass || c.Detail != "verifier passed" {
		t.Errorf("a silent passing verifier is recorded as passed: %+v", c)
	}
	if c := mustOneCheck(t, r, "second"); c.Outcome != tlsclient.Fail || c.Err != sentinel {
		t.Errorf("second: %+v", c)
	}
	if c := mustOneCheck(t, r, "third"); c.Outcome != tlsclient.Skip || !strings.Contains(c.Detail, "not run") {
		t.Errorf("third must be recorded as not run: %+v", c)
	}
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Verifier)
	}
	if got := strings.Join(names, ","); got != "chain,hostname,staple,first,second,third" {
		t.Errorf("check order %s", got)
	}
	if total, _ := s.Handshakes(); total != 0 {
		t.Errorf("the server completed %d handshakes; the abort must happen inside the handshake", total)
	}
}

func TestVerifierPanicFailsClosed(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	boom := tlsclient.VerifierFunc("boom", func(context.Context, *tlsclient.State) error { panic("bug") })
	_, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts(tlsclient.WithVerifiers(boom))...)
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("want a refusal naming the panic, got %v", err)
	}
}

func TestOneClock(t *testing.T) {
	t.Parallel()
	// A chain valid only in 2019: it verifies when the clock says 2019,
	// and every verifier sees the same time.
	at := time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC)
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(1, 0, 0)}))
	leaf := testpki.Must(root.Issue(testpki.CertOptions{NotBefore: at.Add(-time.Hour), NotAfter: at.Add(time.Hour)}))
	s := serve(t, testpki.ServerOptions{Cert: leaf})
	rec := &recorder{name: "rec"}
	c, err := tlsclient.Dial("tcp", localhost(s.Addr), tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithTime(func() time.Time { return at }), tlsclient.WithVerifiers(rec))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if calls := rec.calls(); len(calls) != 1 || !calls[0].Now.Equal(at) || !calls[0].Time().Equal(at) {
		t.Errorf("verifier saw %+v", calls)
	}
	// A base config's clock is the one clock too.
	rec2 := &recorder{name: "rec"}
	c, err = tlsclient.Dial("tcp", localhost(s.Addr), tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithBaseConfig(&tls.Config{Time: func() time.Time { return at }}), tlsclient.WithVerifiers(rec2))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if calls := rec2.calls(); len(calls) != 1 || !calls[0].Now.Equal(at) {
		t.Errorf("with a base config's clock the verifier saw %+v", calls)
	}
	// The real clock (2026) rejects it: the option drives chain validation.
	_, err = tlsclient.Dial("tcp", localhost(s.Addr), tlsclient.WithRootCAs(root.Pool()))
	var ce *tlsclient.CertificateError
	if !errors.As(err, &ce) || ce.Reason != tlsclient.Expired {
		t.Errorf("without WithTime the chain is expired, got %v", err)
	}
}

func TestResumption(t *testing.T) {
	t.Parallel()
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			t.Parallel()
			p := newPKI(t, testpki.CertOptions{})
			s := serve(t, testpki.ServerOptions{Cert: p.leaf, MaxVersion: v})
			rec := &recorder{name: "rec"}
			d, err := tlsclient.New(p.opts(tlsclient.WithVerifiers(rec))...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				c, err := d.Dial("tcp", localhost(s.Addr))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := get(t, c); err != nil { // reads the TLS 1.3 ticket
					t.Fatal(err)
				}
				c.Close()
				r := c.Report()
				if r.Resumed != (i == 1) {
					t.Errorf("dial %d: resumed=%v", i, r.Resumed)
				}
				if i == 1 && !strings.Contains(mustOneCheck(t, r, "chain").Detail, "resumed session") {
					t.Errorf("resumed chain check should say so: %+v", r.Checks)
				}
				if len(r.Chain) != 3 {
					t.Errorf("dial %d: chain %d certificates", i, len(r.Chain))
				}
			}
			calls := rec.calls()
			if len(calls) != 2 || !calls[1].ConnectionState.DidResume {
				t.Fatalf("verifiers must run on the resumed handshake too: %d calls", len(calls))
			}
			if _, resumed := s.Handshakes(); resumed != 1 {
				t.Errorf("server saw %d resumptions", resumed)
			}
		})
	}
}

func TestNoSessionCache(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	d, err := tlsclient.New(p.opts(tlsclient.WithSessionCache(nil))...)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := d.Dial("tcp", localhost(s.Addr))
		if err != nil {
			t.Fatal(err)
		}
		get(t, c)
		c.Close()
		if c.Report().Resumed {
			t.Error("resumed without a session cache")
		}
	}
}

func TestContextReachesVerifiers(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	type key struct{}
	var gotValue any
	var deadline bool
	v := tlsclient.VerifierFunc("ctx", func(ctx context.Context, _ *tlsclient.State) error {
		gotValue = ctx.Value(key{})
		_, deadline = ctx.Deadline()
		return nil
	})
	ctx := context.WithValue(context.Background(), key{}, "dial-ctx")
	c, err := tlsclient.DialContext(ctx, "tcp", localhost(s.Addr), p.opts(tlsclient.WithVerifiers(v))...)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if gotValue != "dial-ctx" || !deadline {
		t.Errorf("verifier context: value %v, deadline %v", gotValue, deadline)
	}
}

func TestCanceledDuringVerifier(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	ctx, cancel := context.WithCancel(context.Background())
	blocking := tlsclient.VerifierFunc("slow", func(ctx context.Context, _ *tlsclient.State) error {
		cancel()
		<-ctx.Done()
		return fmt.Errorf("slow: %w", ctx.Err())
	})
	_, err := tlsclient.DialContext(ctx, "tcp", localhost(s.Addr), p.opts(tlsclient.WithVerifiers(blocking))...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	ve := verificationError(t, err)
	if c := mustOneCheck(t, ve.Report, "slow"); c.Outcome != tlsclient.Fail {
		t.Errorf("the interrupted verifier must be recorded: %+v", c)
	}
}

// TestTimeoutBoundsHandshake uses an in-memory pipe whose far end never
// answers; synctest's fake clock shows the dial ends exactly at the bound.
func TestTimeoutBoundsHandshake(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts []tlsclient.Option
		want time.Duration
	}{
		{"default", nil, tlsclient.DefaultTimeout},
		{"WithTimeout", []tlsclient.Option{tlsclient.WithTimeout(2 * time.Second)}, 2 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var peers []net.Conn
				dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
					a, b := net.Pipe()
					peers = append(peers, b)
					go io.Copy(io.Discard, b) // swallows the ClientHello, never answers
					return a, nil
				}
				start := time.Now()
				_, err := tlsclient.Dial("tcp", "silent.test:443", append(tt.opts, tlsclient.WithDialFunc(dial))...)
				if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after") {
					t.Fatalf("want a timeout naming the bound, got %v", err)
				}
				var ve *tlsclient.VerificationError
				if errors.As(err, &ve) {
					t.Error("a timeout is not a verification failure")
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("dial took %v, want %v", got, tt.want)
				}
				for _, p := range peers {
					p.Close()
				}
			})
		})
	}
}

func TestWithDialFunc(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	var dialed []string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		var d net.Dialer
		return d.DialContext(ctx, "tcp", s.Addr) // a "proxy" to the real server
	}
	c, err := tlsclient.Dial("tcp", "localhost:443", p.opts(tlsclient.WithDialFunc(dial))...)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if len(dialed) != 1 || dialed[0] != "localhost:443" {
		t.Errorf("dial func saw %v", dialed)
	}
}

func TestClientCertificate(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	clientCA := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Client CA"}))
	client := testpki.Must(clientCA.Issue(testpki.CertOptions{CommonName: "client", DNSNames: []string{"client.test"}}))
	var peer string
	s := serve(t, testpki.ServerOptions{Cert: p.leaf, ClientCAs: clientCA.Pool(), Handler: func(c *tls.Conn) {
		if cs := c.ConnectionState(); len(cs.PeerCertificates) > 0 {
			peer = cs.PeerCertificates[0].Subject.CommonName
		}
		c.Write([]byte("hi"))
		c.Close()
	}})
	c, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts(tlsclient.WithClientCertificate(client.TLSCertificate()))...)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(c)
	c.Close()
	if peer != "client" {
		t.Errorf("server saw client %q", peer)
	}

	dir := t.TempDir()
	keyPEM := testpki.Must(client.KeyPEM())
	os.WriteFile(filepath.Join(dir, "c.pem"), client.PEM(), 0o600)
	os.WriteFile(filepath.Join(dir, "k.pem"), keyPEM, 0o600)
	c, err = tlsclient.Dial("tcp", localhost(s.Addr), p.opts(tlsclient.WithClientCertificateFile(filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")))...)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	// Without a certificate the server refuses: not a verification error
	// of ours, but an error all the same.
	c, err = tlsclient.Dial("tcp", localhost(s.Addr), p.opts()...)
	if err == nil {
		// In TLS 1.3 the client learns of the refusal on first read.
		_, err = io.ReadAll(c)
		c.Close()
	}
	if err == nil {
		t.Error("server accepted a client without certificate")
	}
}

func TestALPN(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf, NextProtos: []string{"h2", "http/1.1"}})
	c, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts(tlsclient.WithNextProtos("h2", "http/1.1"))...)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := c.Report().ALPN; got != "h2" {
		t.Errorf("ALPN %q", got)
	}
}

func TestNetworkErrorIsNotVerification(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = tlsclient.Dial("tcp", addr)
	var ve *tlsclient.VerificationError
	if err == nil || errors.As(err, &ve) {
		t.Fatalf("want a plain network error, got %v", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error should name the address: %v", err)
	}
	if _, err := tlsclient.Dial("tcp", "localhost"); err == nil || !strings.Contains(err.Error(), "want host:port") {
		t.Errorf("address without port: %v", err)
	}
}

func TestConcurrentDials(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	rec := &recorder{name: "rec"}
	d, err := tlsclient.New(p.opts(tlsclient.WithVerifiers(rec))...)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			c, err := d.DialContext(context.Background(), "tcp", localhost(s.Addr))
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if _, err := get(t, c); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(rec.calls()); n != 32 {
		t.Errorf("verifier ran %d times", n)
	}
}

// TestSystemRootsFromEnv checks that with no options the system roots are
// used, and that they honour SSL_CERT_FILE: the test re-runs itself in a
// child process whose environment points at the test PKI's root.
func TestSystemRootsFromEnv(t *testing.T) {
	if addr := os.Getenv("TLSCLIENT_TEST_DIAL"); addr != "" {
		// Child: dial with defaults only (no WithRootCAs), fixed clock.
		c, err := tlsclient.Dial("tcp", addr, tlsclient.WithTime(testpki.Clock()))
		if err != nil {
			fmt.Println("CHILD-ERR", err)
			os.Exit(3)
		}
		c.Close()
		fmt.Println("CHILD-OK")
		os.Exit(0)
	}
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	dir := t.TempDir()
	rootFile := filepath.Join(dir, "root.pem")
	os.WriteFile(rootFile, p.root.PEM(), 0o600)
	emptyDir := filepath.Join(dir, "empty")
	os.Mkdir(emptyDir, 0o700)

	run := func(env ...string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSystemRootsFromEnv$")
		cmd.Env = append(os.Environ(), append([]string{"TLSCLIENT_TEST_DIAL=" + localhost(s.Addr)}, env...)...)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := run("SSL_CERT_FILE="+rootFile, "SSL_CERT_DIR="+emptyDir); !strings.Contains(out, "CHILD-OK") {
		t.Errorf("with SSL_CERT_FILE=root the dial should succeed:\n%s", out)
	}
	if out := run("SSL_CERT_FILE="+filepath.Join(dir, "none.pem"), "SSL_CERT_DIR="+emptyDir); !strings.Contains(out, "CHILD-ERR") ||
		!strings.Contains(out, "unknown issuer") {
		t.Errorf("without the root the dial should fail with unknown issuer:\n%s", out)
	}
}
