package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// testPKI is shared by the tests: a root, an intermediate and a leaf for
// localhost and 127.0.0.1. Tests only read it.
var testPKI = sync.OnceValues(func() (*demoPKI, error) { return newDemoPKI() })

func pkiFor(t *testing.T) *demoPKI {
	t.Helper()
	p, err := testPKI()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startServer starts a TLS server for the test and stops it at the end.
func startServer(t *testing.T, opts testpki.ServerOptions) *testpki.Server {
	t.Helper()
	s, err := testpki.StartServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// caFile writes the certificate of root to a PEM file in a temporary
// directory and returns its path.
func caFile(t *testing.T, root *testpki.Cert) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, root.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// nowFlag is --time at the fixed test time.
var nowFlag = "--time=" + testpki.Now.Format(time.RFC3339)

// runCmd runs the command in process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// goodServer is a server with the shared leaf, and the --ca flag to trust it.
func goodServer(t *testing.T, opts testpki.ServerOptions) (addr, caFlag string) {
	t.Helper()
	p := pkiFor(t)
	if opts.Cert == nil {
		opts.Cert = p.leaf
	}
	s := startServer(t, opts)
	return s.Addr, "--ca=" + caFile(t, p.root)
}

// closedAddr returns a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestConnectExitCodes(t *testing.T) {
	t.Parallel()
	addr, ca := goodServer(t, testpki.ServerOptions{})
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStdout []string
		wantStderr []string
	}{
		{
			name: "good",
			args: []string{"connect", ca, nowFlag, addr},
			want: exitOK,
			wantStdout: []string{"server:   127.0.0.1 (" + addr + ")", "protocol: TLS 1.3", "chain:", "0 CN=localhost",
				"1 CN=Demo Intermediate CA", "PASS    chain", "PASS    hostname", "SKIP    staple", "verdict:  OK"},
		},
		{
			name:       "flags after the host",
			args:       []string{"connect", addr, ca, nowFlag},
			want:       exitOK,
			wantStdout: []string{"verdict:  OK"},
		},
		{
			name: "wrong host",
			args: []string{"connect", ca, nowFlag, "--servername", "wrong.example", addr},
			want: exitFailed,
			wantStdout: []string{"FAIL    hostname", "verdict:  FAILED",
				`error:    tlsclient: verification of wrong.example failed: hostname mismatch: the certificate is valid for localhost, 127.0.0.1, not for "wrong.example"`},
		},
		{
			name:       "CA file of another root",
			args:       []string{"connect", nowFlag, "--ca=" + caFile(t, mustRoot(t)), addr},
			want:       exitFailed,
			wantStdout: []string{"FAIL    chain", "unknown issuer", "verdict:  FAILED"},
		},
		{
			name:       "connection refused",
			args:       []string{"connect", ca, nowFlag, closedAddr(t)},
			want:       exitUsage,
			wantStderr: []string{"error:", "refused"},
		},
		{
			name:       "bad flag",
			args:       []string{"connect", "--no-such-flag", addr},
			want:       exitUsage,
			wantStderr: []string{"flag provided but not defined: -no-such-flag", "tlsclient help connect"},
		},
		{
			name:       "missing host",
			args:       []string{"connect", ca},
			want:       exitUsage,
			wantStderr: []string{"missing host[:port]"},
		},
		{
			name:       "two hosts",
			args:       []string{"connect", addr, addr},
			want:       exitUsage,
			wantStderr: []string{"want one host[:port]"},
		},
		{
			name:       "URL instead of host",
			args:       []string{"connect", "https://example.com/"},
			want:       exitUsage,
			wantStderr: []string{"not a URL"},
		},
		{
			name:       "bad time",
			args:       []string{"connect", "--time", "yesterday", addr},
			want:       exitUsage,
			wantStderr: []string{`invalid value "yesterday" for flag -time`, "RFC 3339"},
		},
		{
			name:       "zero timeout",
			args:       []string{"connect", "--timeout", "0s", addr},
			want:       exitUsage,
			wantStderr: []string{"--timeout must be positive"},
		},
		{
			name:       "missing CA file",
			args:       []string{"connect", "--ca", filepath.Join(t.TempDir(), "missing.pem"), addr},
			want:       exitUsage,
			wantStderr: []string{"WithCAFile", "missing.pem"},
		},
		{
			name:       "no command",
			args:       nil,
			want:       exitUsage,
			wantStderr: []string{"Usage:", "connect", "demo"},
		},
		{
			name:       "unknown command",
			args:       []string{"fetch"},
			want:       exitUsage,
			wantStderr: []string{`unknown command "fetch"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, stdout, stderr)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func mustRoot(t *testing.T) *testpki.Cert {
	t.Helper()
	r, err := testpki.NewRoot(testpki.CertOptions{CommonName: "Other Root CA"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// jsonOutput mirrors what --json prints, decoded independently of the
// library's types so that the test pins the wire format.
type jsonOutput struct {
	Report *struct {
		Address    string    `json:"address"`
		ServerName string    `json:"server_name"`
		Time       time.Time `json:"time"`
		Version    string    `json:"version"`
		ALPN       string    `json:"alpn"`
		Chain      []struct {
			Subject string `json:"subject"`
		} `json:"chain"`
		Checks []struct {
			Verifier string `json:"verifier"`
			Outcome  string `json:"outcome"`
			Detail   string `json:"detail"`
			Error    string `json:"error"`
		} `json:"checks"`
	} `json:"report"`
	Error *string `json:"error"`
}

func decodeJSON(t *testing.T, stdout string) jsonOutput {
	t.Helper()
	var out jsonOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, stdout)
	}
	// The report may grow; the envelope is exactly {report, error}.
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &envelope); err != nil {
		t.Fatal(err)
	}
	for k := range envelope {
		if k != "report" && k != "error" {
			t.Errorf("unexpected top-level JSON field %q", k)
		}
	}
	return out
}

func TestConnectJSON(t *testing.T) {
	t.Parallel()
	addr, ca := goodServer(t, testpki.ServerOptions{NextProtos: []string{"h2", "http/1.1"}})

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := runCmd(t, "connect", "--json", ca, nowFlag, "--alpn", "h2,http/1.1", addr)
		if code != exitOK {
			t.Fatalf("exit %d, stderr: %s", code, stderr)
		}
		out := decodeJSON(t, stdout)
		if out.Error != nil {
			t.Errorf("error = %q on success, want absent", *out.Error)
		}
		if out.Report == nil {
			t.Fatal("no report")
		}
		r := out.Report
		if r.Address != addr || r.ServerName != "127.0.0.1" || r.Version != "TLS 1.3" || r.ALPN != "h2" {
			t.Errorf("report = %+v", r)
		}
		if !r.Time.Equal(testpki.Now) {
			t.Errorf("time = %s, want %s", r.Time, testpki.Now)
		}
		if len(r.Chain) != 3 || r.Chain[0].Subject != "CN=localhost" || r.Chain[2].Subject != "CN=Demo Root CA" {
			t.Errorf("chain = %+v", r.Chain)
		}
		got := map[string]string{}
		for _, c := range r.Checks {
			got[c.Verifier] = c.Outcome
		}
		want := map[string]string{"chain": "pass", "hostname": "pass", "staple": "skip"}
		for v, o := range want {
			if got[v] != o {
				t.Errorf("check %s: outcome %q, want %q (all: %v)", v, got[v], o, got)
			}
		}
	})

	t.Run("verification failed", func(t *testing.T) {
		t.Parallel()
		code, stdout, _ := runCmd(t, "connect", "--json", ca, nowFlag, "--servername=wrong.example", addr)
		if code != exitFailed {
			t.Fatalf("exit %d, want %d", code, exitFailed)
		}
		out := decodeJSON(t, stdout)
		if out.Error == nil || !strings.Contains(*out.Error, "hostname mismatch") {
			t.Errorf("error = %v, want hostname mismatch", out.Error)
		}
		if out.Report == nil {
			t.Fatal("no report on verification failure")
		}
		var failed []string
		for _, c := range out.Report.Checks {
			if c.Outcome == "fail" {
				failed = append(failed, c.Verifier)
				if c.Error == "" {
					t.Errorf("failed check %s has no error", c.Verifier)
				}
			}
		}
		if len(failed) != 1 || failed[0] != "hostname" {
			t.Errorf("failed checks = %v, want [hostname]", failed)
		}
	})

	t.Run("network error", func(t *testing.T) {
		t.Parallel()
		code, stdout, _ := runCmd(t, "connect", "--json", nowFlag, closedAddr(t))
		if code != exitUsage {
			t.Fatalf("exit %d, want %d", code, exitUsage)
		}
		out := decodeJSON(t, stdout)
		if out.Report != nil {
			t.Errorf("report on a network error: %+v", out.Report)
		}
		if out.Error == nil || !strings.Contains(*out.Error, "refused") {
			t.Errorf("error = %v, want connection refused", out.Error)
		}
	})
}

func TestConnectTime(t *testing.T) {
	t.Parallel()
	addr, ca := goodServer(t, testpki.ServerOptions{})
	// The leaf is valid from an hour before testpki.Now for 90 days.
	tests := []struct {
		at       time.Time
		want     int
		contains string
	}{
		{testpki.Now, exitOK, "time:     2026-01-15T12:00:00Z"},
		{testpki.Now.AddDate(0, 0, 91), exitFailed, "certificate expired"},
		{testpki.Now.Add(-2 * time.Hour), exitFailed, "certificate not yet valid"},
	}
	for _, tt := range tests {
		t.Run(tt.at.Format(time.RFC3339), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, "connect", ca, "--time", tt.at.Format(time.RFC3339), addr)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.want, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.contains) {
				t.Errorf("output lacks %q:\n%s", tt.contains, stdout)
			}
		})
	}
}

func TestConnectRejectsOutdatedServer(t *testing.T) {
	t.Parallel()
	addr, ca := goodServer(t, testpki.ServerOptions{MaxVersion: 0x0302}) // TLS 1.1
	code, stdout, _ := runCmd(t, "connect", ca, nowFlag, addr)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailed, stdout)
	}
	if !strings.Contains(stdout, "FAIL    version") || !strings.Contains(stdout, "TLS version refused") {
		t.Errorf("output:\n%s", stdout)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	connectFlags := []string{"-ca", "-servername", "-json", "-time", "-timeout", "-alpn", "Exit codes", `"report"`, `"error"`, `"outcome"`,
		"-ocsp", "-crl", "-crl-file", "-staple", "-soft-fail", "-leaf-only", "-require-status", "-revocation",
		"-pin", "-pin-leaf", "-ct-log-list", "-ct-policy", "-ct-report-only", "-log",
		"Connection:", "Revocation (OCSP stapling, OCSP, CRLs):", "Certificate Transparency:", "Public key pinning:", "Output:",
		`"data", by verifier`, `"pin": "sha256/BASE64"`, `"scts"`}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"Usage:", "connect", "demo", "Exit codes"}},
		{[]string{"--help"}, []string{"Usage:", "connect", "demo"}},
		{[]string{"help", "connect"}, connectFlags},
		{[]string{"connect", "--help"}, connectFlags},
		{[]string{"connect", "-h"}, connectFlags},
		{[]string{"help", "demo"}, []string{"Usage: tlsclient demo", "-run", "-v", "Exit codes"}},
		{[]string{"demo", "--help"}, []string{"Usage: tlsclient demo"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr: %s", code, stderr)
			}
			for _, s := range tt.want {
				if !strings.Contains(stdout, s) {
					t.Errorf("help lacks %q:\n%s", s, stdout)
				}
			}
		})
	}
	if code, _, _ := runCmd(t, "help", "nope"); code != exitUsage {
		t.Errorf("help nope: exit %d, want %d", code, exitUsage)
	}
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, err string
	}{
		{in: "example.com", want: "example.com:443"},
		{in: "example.com:8443", want: "example.com:8443"},
		{in: "127.0.0.1", want: "127.0.0.1:443"},
		{in: "127.0.0.1:4433", want: "127.0.0.1:4433"},
		{in: "[::1]", want: "[::1]:443"},
		{in: "[::1]:8443", want: "[::1]:8443"},
		{in: "::1", want: "[::1]:443"},
		{in: "2001:db8::1", want: "[2001:db8::1]:443"},
		{in: "[fe80::1%eth0]:443", want: "[fe80::1%eth0]:443"},
		{in: "fe80::1%eth0", want: "[fe80::1%eth0]:443"},
		{in: "", err: "empty host"},
		{in: ":443", err: "empty host"},
		{in: "[]", err: "empty host"},
		{in: "https://example.com", err: "not a URL"},
		{in: "example.com/path", err: "not a URL"},
		{in: "example.com:0", err: "invalid port"},
		{in: "example.com:https", err: "invalid port"},
		{in: "example.com:70000", err: "invalid port"},
		{in: "example.com:", err: "invalid port"},
		{in: "[::1", err: "missing ']'"},
		{in: "[example.com]:443", err: "not an IPv6 address"},
		{in: "gggg::1", err: "[addr]:port"},
	}
	for _, tt := range tests {
		got, err := parseTarget(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseTarget(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
			}
		case err != nil || got != tt.want:
			t.Errorf("parseTarget(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "demo")
	if code != exitOK {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, sc := range scenarios {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sc.name) + `\s+` + regexp.QuoteMeta(sc.want.label) + `\s+.*\sPASS$`)
		if !re.MatchString(stdout) {
			t.Errorf("scenario %q is not listed as PASS:\n%s", sc.name, stdout)
		}
	}
	if strings.Contains(stdout, "FAIL") {
		t.Errorf("demo output has a FAIL:\n%s", stdout)
	}
	if !strings.Contains(stdout, fmt.Sprintf("all %d scenario(s) behaved as expected", len(scenarios))) {
		t.Errorf("no summary:\n%s", stdout)
	}
}

func TestDemoFlags(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCmd(t, "demo", "-v", "-run", "^good$")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	if !strings.Contains(stdout, "1 scenario(s)") || strings.Contains(stdout, "wrong host") {
		t.Errorf("-run did not select one scenario:\n%s", stdout)
	}
	if !strings.Contains(stdout, "| verdict:  OK") {
		t.Errorf("-v did not print the report:\n%s", stdout)
	}
	for _, args := range [][]string{{"demo", "-run", "("}, {"demo", "-run", "^nothing$"}, {"demo", "extra"}} {
		if code, _, _ := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestScenarioNamesUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, sc := range scenarios {
		if sc.name == "" || sc.setup == nil || sc.want.match == nil || sc.want.label == "" {
			t.Errorf("incomplete scenario %+v", sc)
		}
		if seen[sc.name] {
			t.Errorf("duplicate scenario name %q", sc.name)
		}
		seen[sc.name] = true
	}
}

// TestDemoReportsMismatch checks that a scenario that does not behave as
// expected fails the demo.
func TestDemoReportsMismatch(t *testing.T) {
	t.Parallel()
	p := pkiFor(t)
	wrong := scenario{
		name: "good server expected to fail",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			srv, err := env.serve(testpki.ServerOptions{Cert: env.leaf})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil
		},
		want: expectIs(tlsclient.ErrRevoked, "revoked"),
	}
	broken := scenario{
		name:  "setup fails",
		setup: func(*demoEnv) (string, []tlsclient.Option, error) { return "", nil, errors.New("no PKI today") },
		want:  expectOK(),
	}
	panicky := scenario{
		name:  "setup panics",
		setup: func(*demoEnv) (string, []tlsclient.Option, error) { panic("bug") },
		want:  expectOK(),
	}
	results := []demoResult{runScenario(t.Context(), p, wrong), runScenario(t.Context(), p, broken), runScenario(t.Context(), p, panicky)}
	var out bytes.Buffer
	if code := printDemo(&out, results, false); code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	for _, s := range []string{"revoked", "ok", "FAIL", "setup error", "no PKI today", "3 of 3 scenario(s) did not behave as expected", `setup of "setup panics" panicked: bug`} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}

func TestOutcomeLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{&tlsclient.VerificationError{Err: tlsclient.ErrMustStaple}, "must-staple"},
		{errors.New("boom"), "error"},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, "network error"},
		{&tlsclient.VerificationError{Err: tlsclient.ErrCTPolicy}, "CT policy"},
		{&tlsclient.VerificationError{Err: &tlsclient.PinError{}}, "pin mismatch"},
		{&tlsclient.VerificationError{Err: tlsclient.ErrRevocationUnavailable}, "revocation unavailable"},
		{&tlsclient.VerificationError{Err: fmt.Errorf("x: %w", tlsclient.ErrRevoked)}, "revoked"},
		{&tlsclient.VerificationError{Err: &tlsclient.RevokedError{Source: "crl"}}, "revoked (crl)"},
		{&tlsclient.VerificationError{Err: errors.New("custom")}, "verification failed"},
	}
	for _, tt := range tests {
		if got := outcomeLabel(tt.err, nil); got != tt.want {
			t.Errorf("outcomeLabel(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
