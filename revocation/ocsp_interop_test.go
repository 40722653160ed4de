package revocation

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
)

// oOpenSSL is a throw-away PKI built with the openssl command in a
// temporary directory, after ../shared/tools/openssl-peer.sh: a root CA,
// a delegated OCSP responder (id-kp-OCSPSigning), a good and a revoked
// leaf for 127.0.0.1 whose AIA names the responder, and `openssl ocsp`
// answering from the CA's index.
type oOpenSSL struct {
	dir      string
	ocspURL  string
	root     *x509.Certificate
	good     *x509.Certificate
	revoked  *x509.Certificate
	respLog  *oLog
	clockNow time.Time
}

// oRun runs openssl with args in dir, failing the test on error.
func oRun(t *testing.T, dir string, env []string, args ...string) string {
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

// oFreePort returns a port that was free on 127.0.0.1 a moment ago.
func oFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// oLog is the output of a process, safe to read while it is written.
type oLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *oLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *oLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// wait waits until the log says s.
func (l *oLog) wait(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("openssl did not say %q:\n%s", s, l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// oStart starts a long-running openssl process, killed (by its own PID)
// when the test ends.
func oStart(t *testing.T, dir string, args ...string) *oLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	out := new(oLog)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("openssl %s: %v", args[0], err)
	}
	t.Cleanup(func() {
		cancel() // kills cmd.Process, which is ours
		cmd.Wait()
	})
	return out
}

func oReadPEM(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const oOpenSSLConfig = `[ ca ]
default_ca = tiny
[ tiny ]
dir              = .
database         = ./index.txt
new_certs_dir    = ./newcerts
serial           = ./serial
certificate      = ./ca.pem
private_key      = ./ca.key
default_md       = sha256
default_days     = 30
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
[ v3_ocsp ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = OCSPSigning
noCheck                = ignored
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = IP:127.0.0.1
authorityInfoAccess    = OCSP;URI:${ENV::OCSP_URL}
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
`

// oNewOpenSSL builds the PKI and starts the responder. The responder is
// `openssl ocsp -port N`: OpenSSL 3.0's responder takes a port number only
// ("-port 127.0.0.1:N" is refused) and listens on every interface; it is
// reached on 127.0.0.1 only, answers OCSP requests for this throw-away CA
// only, and lives for the duration of the test.
func oNewOpenSSL(t *testing.T) *oOpenSSL {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not on PATH")
	}
	dir := t.TempDir()
	port := oFreePort(t)
	o := &oOpenSSL{dir: dir, ocspURL: fmt.Sprintf("http://127.0.0.1:%d/", port)}
	env := []string{"OCSP_URL=" + o.ocspURL}
	for name, data := range map[string]string{"ca.cnf": oOpenSSLConfig, "index.txt": "", "serial": "1000\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "newcerts"), 0o700); err != nil {
		t.Fatal(err)
	}
	oRun(t, dir, env, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
	oRun(t, dir, env, "req", "-config", "ca.cnf", "-new", "-x509", "-key", "ca.key", "-sha256", "-days", "30",
		"-subj", "/CN=openssl interop root CA", "-extensions", "v3_ca", "-out", "ca.pem")
	issue := func(name, cn, ext string) {
		oRun(t, dir, env, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name+".key")
		oRun(t, dir, env, "req", "-config", "ca.cnf", "-new", "-key", name+".key", "-subj", "/CN="+cn, "-out", name+".csr")
		oRun(t, dir, env, "ca", "-config", "ca.cnf", "-batch", "-notext", "-extensions", ext, "-in", name+".csr", "-out", name+".pem")
	}
	issue("ocsp", "openssl interop OCSP responder", "v3_ocsp")
	issue("good", "good.test", "v3_leaf")
	issue("revoked", "revoked.test", "v3_leaf")
	oRun(t, dir, env, "ca", "-config", "ca.cnf", "-batch", "-revoke", "revoked.pem", "-crl_reason", "keyCompromise")
	o.root, o.good, o.revoked = oReadPEM(t, filepath.Join(dir, "ca.pem")), oReadPEM(t, filepath.Join(dir, "good.pem")), oReadPEM(t, filepath.Join(dir, "revoked.pem"))
	o.clockNow = time.Now()

	o.respLog = oStart(t, dir, "ocsp", "-index", "index.txt", "-port", fmt.Sprint(port), "-CA", "ca.pem",
		"-rsigner", "ocsp.pem", "-rkey", "ocsp.key", "-rmd", "sha256", "-nmin", "10", "-ignore_err")
	// Wait for the banner: OpenSSL 3.0's responder serves one connection
	// at a time, and a bare TCP probe would block it.
	o.respLog.wait(t, "waiting for OCSP client connections")
	return o
}

// staple asks the responder for name's status with the openssl client and
// returns the DER response, for s_server -status_file.
func (o *oOpenSSL) staple(t *testing.T, name string) string {
	t.Helper()
	out := name + ".ocsp.der"
	oRun(t, o.dir, nil, "ocsp", "-issuer", "ca.pem", "-cert", name+".pem", "-url", o.ocspURL, "-CAfile", "ca.pem",
		"-timeout", "5", "-respout", out)
	return out
}

// server starts `openssl s_server` on 127.0.0.1 for name, stapling the
// response in file staple when it is not empty.
func (o *oOpenSSL) server(t *testing.T, name, staple string) string {
	t.Helper()
	port := oFreePort(t)
	args := []string{"s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port), "-cert", name + ".pem", "-key", name + ".key",
		"-cert_chain", "ca.pem", "-www"}
	if staple != "" {
		args = append(args, "-status_file", staple)
	}
	oStart(t, o.dir, args...).wait(t, "ACCEPT")
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// dial connects with v at the time the PKI was made (the responder dates
// its answers with the real clock).
func (o *oOpenSSL) dial(addr string, v tlsclient.Verifier) (*tlsclient.Report, error) {
	pool := x509.NewCertPool()
	pool.AddCert(o.root)
	now := o.clockNow.Add(time.Minute)
	c, err := tlsclient.Dial("tcp", addr, tlsclient.WithRootCAs(pool), tlsclient.WithTime(func() time.Time { return now }),
		tlsclient.WithVerifiers(v), tlsclient.WithTimeout(20*time.Second))
	if err != nil {
		var ve *tlsclient.VerificationError
		if errors.As(err, &ve) {
			return ve.Report, err
		}
		return nil, err
	}
	c.Close()
	return c.Report(), nil
}

// TestOCSPOpenSSLInterop checks tlsclient against real OpenSSL peers on
// 127.0.0.1: staples served by `openssl s_server -status_file` and
// responses fetched from `openssl ocsp`, good and revoked.
func TestOCSPOpenSSLInterop(t *testing.T) {
	o := oNewOpenSSL(t)
	goodStaple, revokedStaple := o.staple(t, "good"), o.staple(t, "revoked")

	t.Run("staple good", func(t *testing.T) {
		rep, err := o.dial(o.server(t, "good", goodStaple), Stapled())
		if err != nil {
			t.Fatal(err)
		}
		c := oCheckFor(t, rep.Checks, "ocsp-staple", "good.test", "staple")
		if c.Outcome != tlsclient.Pass || !strings.Contains(c.Detail, "delegated responder CN=openssl interop OCSP responder") {
			t.Errorf("check %+v", c)
		}
	})
	t.Run("staple revoked", func(t *testing.T) {
		addr := o.server(t, "revoked", revokedStaple)
		// Through a dial the built-in staple check refuses it first...
		if _, err := o.dial(addr, Stapled()); !errors.Is(err, tlsclient.ErrRevoked) {
			t.Fatalf("dial: %v", err)
		}
		// ... so check Stapled itself on the state of a plain handshake.
		pool := x509.NewCertPool()
		pool.AddCert(o.root)
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1",
			Time: func() time.Time { return o.clockNow.Add(time.Minute) }})
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		st := &tlsclient.State{ConnectionState: conn.ConnectionState(), Now: o.clockNow.Add(time.Minute)}
		err = Stapled().Verify(context.Background(), st)
		var re *RevokedError
		if !errors.As(err, &re) || re.Source != "staple" || re.Reason != tlsclient.ReasonKeyCompromise ||
			re.Serial.Cmp(o.revoked.SerialNumber) != 0 {
			t.Fatalf("want revoked (keyCompromise) by staple, got %v", err)
		}
	})
	t.Run("fetch good", func(t *testing.T) {
		rep, err := o.dial(o.server(t, "good", ""), OCSP())
		if err != nil {
			t.Fatalf("%v\nresponder log:\n%s", err, o.respLog)
		}
		if c := oCheckFor(t, rep.Checks, "ocsp", "good.test", "ocsp"); c.Outcome != tlsclient.Pass || c.URL != o.ocspURL {
			t.Errorf("check %+v", c)
		}
	})
	t.Run("fetch revoked", func(t *testing.T) {
		_, err := o.dial(o.server(t, "revoked", ""), OCSP())
		var re *RevokedError
		if !errors.As(err, &re) || re.Source != "ocsp" || re.URL != o.ocspURL || re.Reason != tlsclient.ReasonKeyCompromise {
			t.Fatalf("want revoked by OCSP fetch, got %v\nresponder log:\n%s", err, o.respLog)
		}
	})
	t.Run("fetch with a nonce", func(t *testing.T) {
		// openssl ocsp echoes nonces: the POST with a nonce passes.
		if _, err := o.dial(o.server(t, "good", ""), OCSP(WithNonce())); err != nil {
			t.Fatalf("%v\nresponder log:\n%s", err, o.respLog)
		}
	})
	t.Run("New: staple for the leaf", func(t *testing.T) {
		rep, err := o.dial(o.server(t, "good", goodStaple), New())
		if err != nil {
			t.Fatal(err)
		}
		if c := oCheckFor(t, rep.Checks, "revocation", "good.test", "staple"); c.Outcome != tlsclient.Pass {
			t.Errorf("check %+v", c)
		}
	})
}

// oCorpus is ../shared/corpus/zcrypto, read in place.
const oCorpus = "../../shared/corpus/zcrypto"

func oCorpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(oCorpus, rel))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("corpus file %s is absent", rel)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func oCorpusCert(t *testing.T, rel string) *x509.Certificate {
	t.Helper()
	b := oCorpusFile(t, rel)
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOCSPRealResponses checks real responses from public CAs, signed by
// delegated responders and with SHA-1 (../shared/corpus/zcrypto/MANIFEST.md).
func TestOCSPRealResponses(t *testing.T) {
	t.Parallel()
	at := time.Date(2018, 8, 1, 0, 0, 0, 0, time.UTC)
	issuer := oCorpusCert(t, "ocsp-symantec/issuer-symantec-class3-g4.pem")
	goodLeaf := oCorpusCert(t, "ocsp-symantec/leaf-ivccbookstore.pem")
	revokedLeaf := oCorpusCert(t, "ocsp-symantec/leaf-the-acey.pem")
	goodResp := oCorpusFile(t, "ocsp-symantec/ocsp-good-ivccbookstore.der")
	revokedResp := oCorpusFile(t, "ocsp-symantec/ocsp-revoked-the-acey.der")
	state := func(leaf *x509.Certificate, staple []byte, now time.Time) *tlsclient.State {
		st := oState([]*x509.Certificate{leaf, issuer}, staple) // the issuer stands in for the anchor
		st.Now = now
		return st
	}

	t.Run("good", func(t *testing.T) {
		st := state(goodLeaf, goodResp, at)
		if err := Stapled().Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		c := oCheckFor(t, st.Checks(), "", tlsclient.CertLabel(goodLeaf), "staple")
		if !strings.Contains(c.Detail, "delegated responder") {
			t.Errorf("check %+v", c)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		err := Stapled().Verify(context.Background(), state(revokedLeaf, revokedResp, at))
		var re *RevokedError
		if !errors.As(err, &re) || re.Reason != tlsclient.ReasonCessationOfOperation ||
			!re.RevokedAt.Equal(time.Date(2017, 9, 8, 1, 9, 49, 0, time.UTC)) {
			t.Fatalf("want revoked (cessationOfOperation) at 2017-09-08T01:09:49Z, got %v", err)
		}
	})
	t.Run("response for another certificate", func(t *testing.T) {
		err := Stapled().Verify(context.Background(), state(revokedLeaf, goodResp, at))
		var rerr *ResponseError
		if !errors.As(err, &rerr) || rerr.Reason != ResponseNoMatch {
			t.Fatalf("want no match, got %v", err)
		}
	})
	t.Run("SHA-1 refused", func(t *testing.T) {
		err := Stapled(RejectSHA1()).Verify(context.Background(), state(goodLeaf, goodResp, at))
		var rerr *ResponseError
		if !errors.As(err, &rerr) || rerr.Reason != ResponseWeakAlgorithm {
			t.Fatalf("the responses are signed with SHA-1: want a refusal, got %v", err)
		}
	})
	t.Run("stale", func(t *testing.T) {
		err := Stapled().Verify(context.Background(), state(goodLeaf, goodResp, time.Date(2018, 8, 4, 0, 0, 0, 0, time.UTC)))
		var rerr *ResponseError
		if !errors.As(err, &rerr) || rerr.Reason != ResponseExpired {
			t.Fatalf("after nextUpdate: %v", err)
		}
	})
	t.Run("fetched", func(t *testing.T) {
		// The leaves name http://ss.symcd.com: an in-memory transport
		// answers in its place, so nothing leaves the machine.
		var asked []string
		rt := oRoundTripper(func(r *http.Request) (*http.Response, error) {
			asked = append(asked, r.Method+" "+r.URL.Host)
			if r.URL.Host != "ss.symcd.com" {
				return nil, fmt.Errorf("unexpected host %s", r.URL.Host)
			}
			body := goodResp
			if raw, err := oReadRequest(r); err == nil && bytes.Contains(raw, revokedLeaf.SerialNumber.Bytes()) {
				body = revokedResp
			}
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/ocsp-response"}},
				Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
		})
		v := OCSP(LeafOnly(), WithHTTPClient(&http.Client{Transport: rt}))
		if err := v.Verify(context.Background(), state(goodLeaf, nil, at)); err != nil {
			t.Fatal(err)
		}
		err := v.Verify(context.Background(), state(revokedLeaf, nil, at))
		var re *RevokedError
		if !errors.As(err, &re) || re.URL != "http://ss.symcd.com" || re.Source != "ocsp" {
			t.Fatalf("want revoked by OCSP, got %v", err)
		}
		if len(asked) != 2 || !strings.HasPrefix(asked[0], "GET ") {
			t.Errorf("requests: %v", asked)
		}
	})
	t.Run("legacy StartCom delegate", func(t *testing.T) {
		// A 2010 response whose delegate's AKI names a re-issued CA
		// certificate (same name and key, other serial). Like Go's
		// x/crypto, and unlike OpenSSL 3.0, tlsclient accepts it: RFC
		// 6960 asks for a delegate issued by the CA (its key), not for
		// an AKI issuer/serial match.
		inter := oCorpusCert(t, "ocsp-legacy-xcrypto/startcom-class1-intermediate-serial18.cert.der")
		resp := oCorpusFile(t, "ocsp-legacy-xcrypto/startcom-class1-ocsp-good.resp.der")
		// The leaf is not in the corpus: stand one in with the serial
		// the response is for, issued (by name) by the intermediate.
		leaf := &x509.Certificate{SerialNumber: oSerialHex(t, "01D0FA"), RawIssuer: inter.RawSubject}
		st := oState([]*x509.Certificate{leaf, inter}, resp)
		st.Now = time.Date(2010, 7, 7, 16, 0, 0, 0, time.UTC)
		if err := Stapled().Verify(context.Background(), st); err != nil {
			t.Fatalf("%v\n%s", err, oDump(st.Checks()))
		}
	})
}
