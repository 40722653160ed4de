package adversarial_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// The interop tests run real OpenSSL peers on 127.0.0.1, after
// ../shared/tools/openssl-peer.sh: a CA made with `openssl ca`, its CRL
// made with `openssl ca -gencrl`, and `openssl s_server` serving RSA and
// ECDSA leaves over TLS 1.2 and 1.3, plus badssl-like negatives. They are
// skipped when the openssl command is absent (.ci/run installs it).
// revocation/ocsp_interop_test.go covers `openssl ocsp` and stapling.

const sslConfig = `[ ca ]
default_ca = tiny
[ tiny ]
dir              = .
database         = ./index.txt
new_certs_dir    = ./newcerts
serial           = ./serial
crlnumber        = ./crlnumber
certificate      = ./ca.pem
private_key      = ./ca.key
default_md       = sha256
default_days     = 30
default_crl_days = 7
policy           = pol_any
unique_subject   = no
copy_extensions  = none
[ pol_any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints       = critical, CA:true
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
[ v3_leaf ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = ${ENV::LEAF_SAN}
crlDistributionPoints  = URI:${ENV::CRL_URL}
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ v3_crl ]
authorityKeyIdentifier = keyid
`

// sslPKI is the throw-away PKI, in dir.
type sslPKI struct {
	dir    string
	env    []string
	root   *x509.CertPool
	crl    []byte // DER, as served
	crlPEM []byte
	crlURL string
	now    time.Time // the clock the dials use: OpenSSL dates everything with the real one
}

// ssl runs openssl in dir, failing the test on error.
func (o *sslPKI) ssl(t *testing.T, args ...string) string {
	t.Helper()
	return runSSL(t, o.dir, o.env, args...)
}

func runSSL(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// key makes a private key of kind "ec" (P-256) or "rsa" (2048 bits).
func (o *sslPKI) key(t *testing.T, name, kind string) {
	t.Helper()
	if kind == "rsa" {
		o.ssl(t, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name+".key")
		return
	}
	o.ssl(t, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name+".key")
}

// issue makes a leaf signed by the CA, valid for san; extra are more
// `openssl ca` arguments (-startdate, -enddate).
func (o *sslPKI) issue(t *testing.T, name, kind, cn, san string, extra ...string) {
	t.Helper()
	o.key(t, name, kind)
	o.ssl(t, "req", "-config", "ca.cnf", "-new", "-key", name+".key", "-subj", "/CN="+cn, "-out", name+".csr")
	args := []string{"ca", "-config", "ca.cnf", "-batch", "-notext", "-extensions", "v3_leaf", "-in", name + ".csr", "-out", name + ".pem"}
	cmd := exec.Command("openssl", append(args, extra...)...)
	cmd.Dir = o.dir
	cmd.Env = append(append(os.Environ(), o.env...), "LEAF_SAN="+san)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl ca for %s: %v\n%s", name, err, out)
	}
}

func newSSLPKI(t *testing.T) *sslPKI {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not on PATH")
	}
	files := testpki.NewFileServer()
	t.Cleanup(files.Close)
	o := &sslPKI{dir: t.TempDir(), crlURL: files.URLFor("/ca.crl")}
	o.env = []string{"CRL_URL=" + o.crlURL, "LEAF_SAN=DNS:placeholder.test"}
	for name, data := range map[string]string{"ca.cnf": sslConfig, "index.txt": "", "serial": "1000\n", "crlnumber": "01\n"} {
		if err := os.WriteFile(filepath.Join(o.dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(o.dir, "newcerts"), 0o700); err != nil {
		t.Fatal(err)
	}
	o.key(t, "ca", "ec")
	o.ssl(t, "req", "-config", "ca.cnf", "-new", "-x509", "-key", "ca.key", "-sha256", "-days", "30",
		"-subj", "/CN=tlsclient interop CA", "-extensions", "v3_ca", "-out", "ca.pem")
	san := "DNS:good.test,IP:127.0.0.1"
	o.issue(t, "good-ec", "ec", "good.test", san)
	o.issue(t, "good-rsa", "rsa", "good.test", san)
	o.issue(t, "revoked-ec", "ec", "revoked.test", "DNS:revoked.test,IP:127.0.0.1")
	o.issue(t, "revoked-rsa", "rsa", "revoked.test", "DNS:revoked.test,IP:127.0.0.1")
	o.issue(t, "expired", "ec", "expired.test", "DNS:expired.test", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z")
	o.ssl(t, "ca", "-config", "ca.cnf", "-batch", "-revoke", "revoked-ec.pem", "-crl_reason", "keyCompromise")
	o.ssl(t, "ca", "-config", "ca.cnf", "-batch", "-revoke", "revoked-rsa.pem", "-crl_reason", "superseded")
	o.ssl(t, "ca", "-config", "ca.cnf", "-batch", "-gencrl", "-crlexts", "v3_crl", "-out", "crl.pem")
	o.ssl(t, "crl", "-in", "crl.pem", "-outform", "der", "-out", "crl.der")

	// badssl-like negatives, as in openssl-peer.sh.
	o.ssl(t, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "selfsigned.key",
		"-subj", "/CN=selfsigned.test", "-addext", "subjectAltName=DNS:selfsigned.test", "-days", "7", "-out", "selfsigned.pem")
	o.ssl(t, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "rogue.key",
		"-subj", "/CN=rogue (untrusted) root", "-addext", "basicConstraints=critical,CA:true",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign", "-days", "7", "-out", "rogue.pem")
	o.key(t, "untrusted", "ec")
	o.ssl(t, "req", "-new", "-key", "untrusted.key", "-subj", "/CN=untrusted.test", "-out", "untrusted.csr")
	if err := os.WriteFile(filepath.Join(o.dir, "untrusted.ext"), []byte("subjectAltName=DNS:untrusted.test\nbasicConstraints=CA:false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o.ssl(t, "x509", "-req", "-in", "untrusted.csr", "-CA", "rogue.pem", "-CAkey", "rogue.key", "-CAcreateserial", "-days", "7",
		"-extfile", "untrusted.ext", "-out", "untrusted.pem")

	o.now = time.Now().Add(time.Minute)
	o.root = x509.NewCertPool()
	o.root.AddCert(o.cert(t, "ca.pem"))
	o.crl = o.read(t, "crl.der")
	o.crlPEM = o.read(t, "crl.pem")
	files.Set("/ca.crl", o.crl, o.now)
	return o
}

func (o *sslPKI) read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(o.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (o *sslPKI) cert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(o.read(t, name))
	if blk == nil {
		t.Fatalf("%s: no PEM", name)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// procLog is a process's output, safe to read while it is written.
type procLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *procLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *procLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// server starts `openssl s_server` on 127.0.0.1 with the given certificate
// and key files and extra arguments (-tls1_2, -cert_chain...). The process
// is killed, by its PID, when the test ends.
func (o *sslPKI) server(t *testing.T, cert, key string, extra ...string) string {
	t.Helper()
	return o.start(t, false, cert, key, extra...)
}

// start is server; with optional, a server that exits at once (an OpenSSL
// built without what extra asks for) skips the test instead of failing it.
func (o *sslPKI) start(t *testing.T, optional bool, cert, key string, extra ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"s_server", "-accept", addr, "-cert", cert, "-key", key, "-www"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = o.dir
	out := new(procLog)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("openssl s_server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel() // kills cmd.Process, the one started here
		<-exited
	})
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "ACCEPT"); {
		select {
		case <-exited:
			if optional {
				t.Skipf("openssl s_server %s exited:\n%s", strings.Join(extra, " "), out)
			}
			t.Fatalf("openssl s_server exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("openssl s_server did not start:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr
}

// dial connects to addr as name, at the PKI's time.
func (o *sslPKI) dial(t *testing.T, addr, name string, opts ...tlsclient.Option) result {
	t.Helper()
	base := []tlsclient.Option{tlsclient.WithRootCAs(o.root), tlsclient.WithServerName(name),
		tlsclient.WithTime(func() time.Time { return o.now }), tlsclient.WithTimeout(10 * time.Second), tlsclient.WithSessionCache(nil)}
	start := time.Now()
	conn, err := tlsclient.Dial("tcp", addr, append(base, opts...)...)
	r := result{err: err, elapsed: time.Since(start)}
	if err == nil {
		r.report = conn.Report()
		conn.Close()
		return r
	}
	var ve *tlsclient.VerificationError
	if errors.As(err, &ve) {
		r.report = ve.Report
	}
	return r
}

// TestOpenSSLInterop: RSA and ECDSA leaves served by openssl s_server over
// TLS 1.2 and 1.3, checked against the CRL `openssl ca -gencrl` made,
// fetched from its distribution point or preloaded (DER and PEM); the
// verdicts agree with `openssl verify -crl_check`.
func TestOpenSSLInterop(t *testing.T) {
	leakCheck(t)
	o := newSSLPKI(t)
	for _, kind := range []string{"ec", "rsa"} {
		for _, version := range []struct {
			flag string
			name string
		}{{"-tls1_2", "TLS 1.2"}, {"-tls1_3", "TLS 1.3"}} {
			t.Run(kind+" "+version.name, func(t *testing.T) {
				good := o.server(t, "good-"+kind+".pem", "good-"+kind+".key", "-cert_chain", "ca.pem", version.flag)
				revoked := o.server(t, "revoked-"+kind+".pem", "revoked-"+kind+".key", "-cert_chain", "ca.pem", version.flag)
				for _, v := range []struct {
					name     string
					verifier func() tlsclient.Verifier
					url      string
				}{
					{"fetched", func() tlsclient.Verifier { return revocation.CRL() }, o.crlURL},
					{"New", func() tlsclient.Verifier { return revocation.New() }, o.crlURL},
					{"preloaded DER", func() tlsclient.Verifier { return revocation.CRL(revocation.WithCRLs(o.crl)) }, ""},
					{"preloaded PEM", func() tlsclient.Verifier { return revocation.CRL(revocation.WithCRLs(o.crlPEM)) }, ""},
				} {
					r := o.dial(t, good, "good.test", tlsclient.WithVerifiers(v.verifier()))
					if r.err != nil {
						t.Fatalf("%s: good: %v", v.name, r.err)
					}
					if r.report.Version != version.name {
						t.Errorf("%s: negotiated %s", v.name, r.report.Version)
					}
					if c := findCheck(r.report, "crl"); c == nil || c.Outcome != tlsclient.Pass || c.URL != v.url {
						t.Errorf("%s: no passing CRL check from %q in\n%s", v.name, v.url, r.report)
					}

					r = o.dial(t, revoked, "revoked.test", tlsclient.WithVerifiers(v.verifier()))
					var re *tlsclient.RevokedError
					if !errors.As(r.err, &re) || re.Source != "crl" || re.URL != v.url {
						t.Fatalf("%s: want revoked by the CRL, got %v", v.name, r.err)
					}
					want := tlsclient.ReasonKeyCompromise
					if kind == "rsa" {
						want = tlsclient.ReasonSuperseded
					}
					if re.Reason != want {
						t.Errorf("%s: reason %v, want %v", v.name, re.Reason, want)
					}
				}
			})
		}
	}
	t.Run("agrees with openssl verify -crl_check", func(t *testing.T) {
		for _, name := range []string{"good-ec", "good-rsa", "revoked-ec", "revoked-rsa"} {
			cmd := exec.Command("openssl", "verify", "-CAfile", "ca.pem", "-CRLfile", "crl.pem", "-crl_check", name+".pem")
			cmd.Dir = o.dir
			out, _ := cmd.CombinedOutput()
			theirs := strings.Contains(string(out), "certificate revoked")
			if !theirs && !strings.Contains(string(out), name+".pem: OK") {
				t.Fatalf("openssl verify %s: %s", name, out)
			}
			st := &tlsclient.State{Now: o.now}
			st.ConnectionState.VerifiedChains = [][]*x509.Certificate{{o.cert(t, name+".pem"), o.cert(t, "ca.pem")}}
			err := revocation.CRL(revocation.WithCRLs(o.crl)).Verify(context.Background(), st)
			ours := errors.Is(err, tlsclient.ErrRevoked)
			if !ours && err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if ours != theirs {
				t.Errorf("%s: openssl says revoked=%v, tlsclient %v (%v)", name, theirs, ours, err)
			}
		}
	})
}

// TestOpenSSLNegativeServers: badssl-like servers run by openssl s_server
// are refused with the CertificateError reason a caller can act on.
func TestOpenSSLNegativeServers(t *testing.T) {
	leakCheck(t)
	o := newSSLPKI(t)
	tests := []struct {
		name, cert, key, serverName string
		extra                       []string
		want                        tlsclient.CertificateReason
	}{
		{"expired", "expired.pem", "expired.key", "expired.test", []string{"-cert_chain", "ca.pem"}, tlsclient.Expired},
		{"self-signed", "selfsigned.pem", "selfsigned.key", "selfsigned.test", nil, tlsclient.UntrustedRoot},
		{"untrusted root, sent", "untrusted.pem", "untrusted.key", "untrusted.test", []string{"-cert_chain", "rogue.pem"}, tlsclient.UntrustedRoot},
		{"untrusted root, not sent", "untrusted.pem", "untrusted.key", "untrusted.test", nil, tlsclient.UnknownIssuer},
		{"hostname mismatch", "good-ec.pem", "good-ec.key", "wrong.test", []string{"-cert_chain", "ca.pem"}, tlsclient.HostnameMismatch},
		{"hostname mismatch, RSA, TLS 1.2", "good-rsa.pem", "good-rsa.key", "wrong.test", []string{"-cert_chain", "ca.pem", "-tls1_2"}, tlsclient.HostnameMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := o.server(t, tt.cert, tt.key, tt.extra...)
			r := o.dial(t, addr, tt.serverName)
			wantCertificate(tt.want)(t, r)
			if r.report == nil || len(r.report.Chain) == 0 {
				t.Error("the report does not show the chain the server sent")
			}
		})
	}
	t.Run("TLS 1.1 only", func(t *testing.T) {
		addr := o.start(t, true, "good-ec.pem", "good-ec.key", "-cert_chain", "ca.pem", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
		r := o.dial(t, addr, "good.test")
		r.refused(t)
		if !errors.Is(r.err, tlsclient.ErrProtocolVersion) {
			t.Fatalf("want ErrProtocolVersion, got %v", r.err)
		}
	})
}

func findCheck(r *tlsclient.Report, source string) *tlsclient.Check {
	for i := range r.Checks {
		if r.Checks[i].Source == source {
			return &r.Checks[i]
		}
	}
	return nil
}
