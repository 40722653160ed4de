package main

import (
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"golang.org/x/crypto/ocsp"
)

// responder is an OCSP responder for the test whose answer for any
// certificate the test can change: a status, or down (nothing listens).
type responder struct {
	*testpki.OCSPResponder
	status atomic.Int64 // testpki.StatusGood, StatusRevoked...
}

// newResponder starts a responder that answers status for the certificates
// issue (set later) issued.
func newResponder(t *testing.T, status int) *responder {
	t.Helper()
	r := &responder{}
	r.status.Store(int64(status))
	r.OCSPResponder = testpki.NewOCSPResponder(nil)
	t.Cleanup(r.Close)
	return r
}

// answerFor makes r answer for leaf, issued by ca.
func (r *responder) answerFor(ca, leaf *testpki.Cert) {
	r.SetAnswer(func(req *ocsp.Request, _ []byte) []byte {
		if req.SerialNumber.Cmp(leaf.Cert.SerialNumber) != 0 {
			return nil
		}
		der, err := ca.OCSPStatus(leaf, int(r.status.Load()), testpki.Now.Add(-24*time.Hour), int(tlsclient.ReasonKeyCompromise))
		if err != nil {
			return nil
		}
		return der
	})
}

// ocspServer serves a leaf of the shared intermediate whose AIA names r
// (stopped first when down), stapling staple(leaf) when staple is set.
func ocspServer(t *testing.T, r *responder, down bool, staple func(ca, leaf *testpki.Cert) ([]byte, error)) (addr, caFlag string) {
	t.Helper()
	p := pkiFor(t)
	leaf, err := p.inter.Issue(testpki.CertOptions{OCSPServers: []string{r.URL}})
	if err != nil {
		t.Fatal(err)
	}
	r.answerFor(p.inter, leaf)
	if down {
		r.Close()
	}
	opts := testpki.ServerOptions{Cert: leaf}
	if staple != nil {
		if opts.Staple, err = staple(p.inter, leaf); err != nil {
			t.Fatal(err)
		}
	}
	return goodServer(t, opts)
}

func goodStaple(ca, leaf *testpki.Cert) ([]byte, error) { return ca.OCSPGood(leaf) }

// crlServer serves a leaf of the shared intermediate whose distribution
// point holds the intermediate's CRL, listing the leaf when revoked.
func crlServer(t *testing.T, revoked, withDP bool) (addr, caFlag string, crl []byte) {
	t.Helper()
	p := pkiFor(t)
	files := testpki.NewFileServer()
	t.Cleanup(files.Close)
	var opts testpki.CertOptions
	if withDP {
		opts.CRLDistributionPoints = []string{files.URLFor("/inter.crl")}
	}
	leaf, err := p.inter.Issue(opts)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl testpki.CRLTemplate
	if revoked {
		tmpl.Entries = []testpki.CRLEntry{{Serial: leaf.Cert.SerialNumber, RevokedAt: testpki.Now.Add(-24 * time.Hour),
			Reason: testpki.Reason(int(tlsclient.ReasonKeyCompromise))}}
	}
	if crl, err = p.inter.BuildCRL(tmpl); err != nil {
		t.Fatal(err)
	}
	files.Set("/inter.crl", crl, testpki.Now.Add(-time.Hour))
	addr, caFlag = goodServer(t, testpki.ServerOptions{Cert: leaf})
	return addr, caFlag, crl
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// connectCase is one run of connect and what its output must hold.
type connectCase struct {
	name       string
	setup      func(t *testing.T) (addr string, args []string)
	code       int
	stdout     []string
	notStdout  []string
	stderr     []string
	jsonChecks map[string]string // verifier -> outcome, with --json
}

func runConnectCases(t *testing.T, cases []connectCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr, args := c.setup(t)
			argv := append(append([]string{"connect", nowFlag}, args...), addr)
			code, stdout, stderr := runCmd(t, argv...)
			if code != c.code {
				t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, c.code, stdout, stderr)
			}
			for _, s := range c.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range c.notStdout {
				if strings.Contains(stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, stdout)
				}
			}
			for _, s := range c.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if c.jsonChecks == nil {
				return
			}
			code, stdout, _ = runCmd(t, append([]string{"connect", "--json", nowFlag}, append(args, addr)...)...)
			if code != c.code {
				t.Errorf("--json: exit %d, want %d", code, c.code)
			}
			out := decodeJSON(t, stdout)
			// A verifier's outcome is its most severe check's.
			severity := map[string]int{"skip": 1, "pass": 2, "warning": 3, "fail": 4}
			got := map[string]string{}
			for _, ch := range out.Report.Checks {
				if severity[ch.Outcome] > severity[got[ch.Verifier]] {
					got[ch.Verifier] = ch.Outcome
				}
			}
			for v, o := range c.jsonChecks {
				if got[v] != o {
					t.Errorf("--json: %s is %q, want %q (all %v)", v, got[v], o, got)
				}
			}
		})
	}
}

func TestConnectRevocationFlags(t *testing.T) {
	t.Parallel()
	runConnectCases(t, []connectCase{
		{
			name: "--ocsp good",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusGood), false, nil)
				return addr, []string{ca, "--ocsp"}
			},
			code:       exitOK,
			stdout:     []string{"PASS    ocsp", "OCSP response from http://", "status good; this update 2026-01-15T11:00:00Z", "SKIP    ocsp       [CN=Demo Intermediate CA]", "verdict:  OK"},
			jsonChecks: map[string]string{"ocsp": "pass", "staple": "skip"},
		},
		{
			name: "--ocsp revoked",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusRevoked), false, nil)
				return addr, []string{ca, "--ocsp"}
			},
			code: exitFailed,
			stdout: []string{"FAIL    ocsp", "status revoked; revoked at 2026-01-14T12:00:00Z (keyCompromise)", "verdict:  FAILED",
				"error:    tlsclient: verification of 127.0.0.1 failed: certificate revoked", "advice:   the server's certificate (or an intermediate) is revoked"},
			jsonChecks: map[string]string{"ocsp": "fail"},
		},
		{
			name: "--ocsp, responder down: hard-fail",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusGood), true, nil)
				return addr, []string{ca, "--ocsp"}
			},
			code:   exitFailed,
			stdout: []string{"FAIL    ocsp", "revocation status unavailable (hard-fail)", "advice:   no revocation status could be obtained", "--soft-fail"},
		},
		{
			name: "--ocsp --soft-fail, responder down",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusGood), true, nil)
				return addr, []string{ca, "--ocsp", "--soft-fail"}
			},
			code:       exitOK,
			stdout:     []string{"WARNING ocsp", "continuing (SoftFail)", "verdict:  OK"},
			jsonChecks: map[string]string{"ocsp": "warning"},
		},
		{
			name: "--crl revoked",
			setup: func(t *testing.T) (string, []string) {
				addr, ca, _ := crlServer(t, true, true)
				return addr, []string{ca, "--crl"}
			},
			code:       exitFailed,
			stdout:     []string{"FAIL    crl", "according to the CRL", "status revoked", "verdict:  FAILED"},
			jsonChecks: map[string]string{"crl": "fail"},
		},
		{
			name: "--crl good",
			setup: func(t *testing.T) (string, []string) {
				addr, ca, _ := crlServer(t, false, true)
				return addr, []string{ca, "--crl"}
			},
			code:   exitOK,
			stdout: []string{"PASS    crl", "not revoked: CRL #", "verdict:  OK"},
		},
		{
			name: "--crl-file DER, revoked",
			setup: func(t *testing.T) (string, []string) {
				addr, ca, crl := crlServer(t, true, false)
				return addr, []string{ca, "--crl-file", writeFile(t, "inter.crl", crl)}
			},
			code:   exitFailed,
			stdout: []string{"FAIL    crl", "preloaded CRL 1"},
		},
		{
			name: "--crl-file PEM, good",
			setup: func(t *testing.T) (string, []string) {
				addr, ca, crl := crlServer(t, false, false)
				f := writeFile(t, "inter.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}))
				return addr, []string{ca, "--crl-file=" + f}
			},
			code:   exitOK,
			stdout: []string{"PASS    crl", "not revoked: preloaded CRL 1", "SKIP    crl        [CN=Demo Intermediate CA]"},
		},
		{
			name: "--crl-file, --require-status: the intermediate has no CRL",
			setup: func(t *testing.T) (string, []string) {
				addr, ca, crl := crlServer(t, false, false)
				return addr, []string{ca, "--crl-file", writeFile(t, "inter.crl", crl), "--require-status"}
			},
			code:   exitFailed,
			stdout: []string{"FAIL    crl        [CN=Demo Intermediate CA] no revocation source (RequireStatus)"},
		},
		{
			name: "--crl-file --leaf-only --require-status",
			setup: func(t *testing.T) (string, []string) {
				addr, ca, crl := crlServer(t, false, false)
				return addr, []string{ca, "--crl-file", writeFile(t, "inter.crl", crl), "--require-status", "--leaf-only"}
			},
			code:      exitOK,
			stdout:    []string{"PASS    crl", "verdict:  OK"},
			notStdout: []string{"CN=Demo Intermediate CA] "},
		},
		{
			name: "--revocation: the staple decides",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusRevoked), false, goodStaple)
				return addr, []string{ca, "--revocation"}
			},
			code:       exitOK,
			stdout:     []string{"PASS    revocation [CN=localhost] stapled OCSP response: good", "verdict:  OK"},
			jsonChecks: map[string]string{"revocation": "pass"},
		},
		{
			name: "--revocation --staple=off: OCSP decides",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusRevoked), false, goodStaple)
				return addr, []string{ca, "--revocation", "--staple=off"}
			},
			code:   exitFailed,
			stdout: []string{"FAIL    revocation [CN=localhost]", "source ocsp"},
		},
		{
			name: "--staple=require with a good staple",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusGood), false, goodStaple)
				return addr, []string{ca, "--staple=require"}
			},
			code:       exitOK,
			stdout:     []string{"PASS    ocsp-staple", "PASS    staple"},
			jsonChecks: map[string]string{"ocsp-staple": "pass"},
		},
		{
			name: "--staple=require without a staple",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusGood), false, nil)
				return addr, []string{ca, "--staple", "require"}
			},
			code:   exitFailed,
			stdout: []string{"FAIL    ocsp-staple", "RequireStatus", "verdict:  FAILED"},
		},
		{
			name: "--staple=check is the default",
			setup: func(t *testing.T) (string, []string) {
				addr, ca := ocspServer(t, newResponder(t, testpki.StatusGood), false, nil)
				return addr, []string{ca, "--staple=check"}
			},
			code:      exitOK,
			stdout:    []string{"SKIP    staple"},
			notStdout: []string{"ocsp-staple"},
		},
		{
			name: "--leaf-only skips a down responder of the intermediate",
			setup: func(t *testing.T) (string, []string) {
				p := pkiFor(t)
				down := newResponder(t, testpki.StatusGood)
				down.Close()
				up := newResponder(t, testpki.StatusGood)
				inter, err := p.root.NewIntermediate(testpki.CertOptions{CommonName: "Responder-down CA", OCSPServers: []string{down.URL}})
				if err != nil {
					t.Fatal(err)
				}
				leaf, err := inter.Issue(testpki.CertOptions{OCSPServers: []string{up.URL}})
				if err != nil {
					t.Fatal(err)
				}
				up.answerFor(inter, leaf)
				addr, ca := goodServer(t, testpki.ServerOptions{Cert: leaf})
				return addr, []string{ca, "--ocsp", "--leaf-only"}
			},
			code:      exitOK,
			stdout:    []string{"PASS    ocsp       [CN=localhost]"},
			notStdout: []string{"Responder-down CA]"},
		},
	})
}

func TestConnectRevocationFlagErrors(t *testing.T) {
	t.Parallel()
	notCRL := writeFile(t, "x.crl", []byte("not a CRL"))
	pemCert := writeFile(t, "cert.pem", pkiFor(t).root.PEM())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--soft-fail"}, "--soft-fail applies to revocation checks"},
		{[]string{"--leaf-only"}, "--leaf-only applies to revocation checks"},
		{[]string{"--require-status", "--staple=off"}, "--require-status applies"},
		{[]string{"--revocation", "--ocsp"}, "--revocation already consults"},
		{[]string{"--staple=maybe"}, "want require, check or off"},
		{[]string{"--crl-file", filepath.Join(t.TempDir(), "missing.crl")}, "--crl-file"},
		{[]string{"--crl-file", notCRL}, "not a DER or PEM CRL"},
		{[]string{"--crl-file", pemCert}, "PEM without an X509 CRL block"},
		{[]string{"--ocsp=maybe"}, "want true or false"},
		{[]string{"--log=loud"}, "want debug, info or warn"},
	} {
		code, _, stderr := runCmd(t, append(append([]string{"connect"}, c.args...), "127.0.0.1:1")...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
}

func TestConnectPin(t *testing.T) {
	t.Parallel()
	p := pkiFor(t)
	leafPin := tlsclient.PinOf(p.leaf.Cert).String()
	interPin := tlsclient.PinOf(p.inter.Cert).String()
	otherPin := tlsclient.PinOf(mustRoot(t).Cert).String()
	curlStyle := "sha256//" + strings.TrimPrefix(leafPin, "sha256/")
	server := func(t *testing.T) (string, []string) {
		addr, ca := goodServer(t, testpki.ServerOptions{})
		return addr, []string{ca}
	}
	with := func(args ...string) func(t *testing.T) (string, []string) {
		return func(t *testing.T) (string, []string) {
			addr, a := server(t)
			return addr, append(a, args...)
		}
	}
	runConnectCases(t, []connectCase{
		{name: "pin of the intermediate", setup: with("--pin", interPin), code: exitOK,
			stdout:     []string{"PASS    pin", "the key of CN=Demo Intermediate CA matches pin " + interPin, "pin     " + leafPin},
			jsonChecks: map[string]string{"pin": "pass"}},
		{name: "one of several pins", setup: with("--pin", otherPin, "--pin", leafPin), code: exitOK,
			stdout: []string{"PASS    pin", "matched " + leafPin + " (CN=localhost)"}},
		{name: "curl's sha256// form, leaf only", setup: with("--pin", curlStyle, "--pin-leaf"), code: exitOK,
			stdout: []string{"PASS    pin", "scope leaf"}},
		{name: "intermediate pinned, leaf only", setup: with("--pin", interPin, "--pin-leaf"), code: exitFailed,
			stdout: []string{"FAIL    pin", "the server's key matches no pin", "public key pin mismatch", "advice:   none of the chain's keys is pinned"}},
		{name: "no pin matches", setup: with("--pin", otherPin), code: exitFailed,
			stdout:     []string{"FAIL    pin", "no key of the verified chain matches a pin", "CN=Demo Root CA: " + tlsclient.PinOf(p.root.Cert).String()},
			jsonChecks: map[string]string{"pin": "fail"}},
	})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--pin", "sha1/AAAA"}, "want sha256/BASE64"},
		{[]string{"--pin", "sha256/AAAA"}, "want the 32 of a SHA-256 hash"},
		{[]string{"--pin", "sha256/!!"}, "bad base64"},
		{[]string{"--pin-leaf"}, "--pin-leaf needs --pin"},
	} {
		code, _, stderr := runCmd(t, append(append([]string{"connect"}, c.args...), "127.0.0.1:1")...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
}

func TestConnectLog(t *testing.T) {
	t.Parallel()
	addr, ca := ocspServer(t, newResponder(t, testpki.StatusGood), false, nil)
	code, stdout, stderr := runCmd(t, "connect", nowFlag, ca, "--ocsp", "--log", "debug", addr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, s := range []string{`level=DEBUG msg="tls fetch"`, "server=127.0.0.1 verifier=ocsp subject=\"CN=localhost\" source=ocsp", "kind=fetch_start", "kind=fetch_done", "status=200", "kind=cache_miss", `msg="tls check"`, "verifier=ocsp", `msg="tls handshake"`} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
	if strings.Contains(stdout, "level=") {
		t.Errorf("logs on stdout:\n%s", stdout)
	}
	// At warn, a verified connection logs nothing.
	if _, _, stderr := runCmd(t, "connect", nowFlag, ca, "--ocsp", "--log=warn", addr); stderr != "" {
		t.Errorf("--log=warn on success logged:\n%s", stderr)
	}
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	// A server that accepts and never answers the ClientHello.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	start := time.Now()
	code, stdout, stderr := runCmd(t, "connect", nowFlag, "--timeout", "300ms", ln.Addr().String())
	if code != exitUsage || !strings.Contains(stderr, "timed out after 300ms") || !strings.Contains(stderr, "--timeout") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestConnectServerNameAndALPN(t *testing.T) {
	t.Parallel()
	addr, ca := goodServer(t, testpki.ServerOptions{NextProtos: []string{"h2", "http/1.1"}})
	code, stdout, stderr := runCmd(t, "connect", nowFlag, ca, "--servername", "localhost", "--alpn", "http/1.1", addr)
	if code != exitOK || !strings.Contains(stdout, "server:   localhost ("+addr+")") || !strings.Contains(stdout, "ALPN http/1.1") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCmd(t, "connect", nowFlag, ca, "--alpn", "h2,,x", addr); code != exitUsage || !strings.Contains(stderr, "empty protocol name") {
		t.Errorf("--alpn h2,,x: exit %d %s", code, stderr)
	}
}

// TestConnectAdvice: each kind of failure comes with advice in terms of
// the flags.
func TestConnectAdvice(t *testing.T) {
	t.Parallel()
	addr, ca := goodServer(t, testpki.ServerOptions{})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{ca, "--servername", "wrong.example"}, "advice:   connect with the name the certificate was issued for"},
		{[]string{"--ca", caFile(t, mustRoot(t))}, "advice:   if the server uses a private CA, trust it with --ca FILE"},
		{[]string{ca, "--time", "2027-01-01T00:00:00Z"}, "advice:   the server must renew its certificate"},
	} {
		code, stdout, _ := runCmd(t, append(append([]string{"connect", nowFlag}, c.args...), addr)...)
		if code != exitFailed || !strings.Contains(stdout, c.want) {
			t.Errorf("%v: exit %d\n%s", c.args, code, stdout)
		}
	}
	code, _, stderr := runCmd(t, "connect", nowFlag, closedAddr(t))
	if code != exitUsage || !strings.Contains(stderr, "advice:   no TLS server could be reached at this address") {
		t.Errorf("refused: exit %d\n%s", code, stderr)
	}
}

// TestConnectJSONData pins the wire format of the data of the checks.
func TestConnectJSONData(t *testing.T) {
	t.Parallel()
	addr, ca := ocspServer(t, newResponder(t, testpki.StatusGood), false, goodStaple)
	pin := tlsclient.PinOf(pkiFor(t).inter.Cert).String()
	code, stdout, stderr := runCmd(t, "connect", "--json", nowFlag, ca, "--revocation", "--pin", pin, addr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var out struct {
		Report struct {
			Chain []struct {
				Pin string `json:"pin"`
			} `json:"chain"`
			Checks []struct {
				Verifier string                     `json:"verifier"`
				Subject  string                     `json:"subject"`
				Data     map[string]json.RawMessage `json:"data"`
			} `json:"checks"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Report.Chain[1].Pin != pin {
		t.Errorf("chain[1].pin = %q, want %q", out.Report.Chain[1].Pin, pin)
	}
	want := map[string][]string{
		"staple":     {"status", "this_update", "next_update", "signer", "cached"},
		"pin":        {"scope", "pins", "matched"},
		"revocation": {"source", "status", "this_update", "next_update", "cached"},
	}
	seen := map[string]bool{}
	for _, c := range out.Report.Checks {
		keys, ok := want[c.Verifier]
		if !ok || c.Data == nil || seen[c.Verifier] {
			continue
		}
		seen[c.Verifier] = true
		for _, k := range keys {
			if _, ok := c.Data[k]; !ok {
				t.Errorf("%s data lacks %q: %v", c.Verifier, k, c.Data)
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("data seen for %v, want %v\n%s", seen, want, stdout)
	}
}
