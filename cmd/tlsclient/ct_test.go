package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

// ctFixture: two logs in a list file, and a server whose leaf has SCTs
// from the given ones.
func ctFixture(t *testing.T, listAge time.Duration, embed ...string) (addr, caFlag, listFile string) {
	t.Helper()
	p := pkiFor(t)
	logs := map[string]*testpki.CTLog{}
	for _, n := range []string{"a", "b"} {
		l, err := testpki.NewCTLog("CLI '"+n+"' log", "Operator "+n, testpki.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		logs[n] = l
	}
	js, err := testpki.CTLogList(testpki.Now.Add(-listAge), logs["a"], logs["b"])
	if err != nil {
		t.Fatal(err)
	}
	listFile = filepath.Join(t.TempDir(), "log_list.json")
	if err := os.WriteFile(listFile, js, 0o600); err != nil {
		t.Fatal(err)
	}
	var e []testpki.Embed
	for _, n := range embed {
		e = append(e, testpki.Embed{Log: logs[n]})
	}
	leaf, err := p.inter.IssueWithSCTs(testpki.CertOptions{}, e...)
	if err != nil {
		t.Fatal(err)
	}
	addr, caFlag = goodServer(t, testpki.ServerOptions{Cert: leaf.Cert})
	return addr, caFlag, listFile
}

func TestConnectCT(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		embed  []string
		age    time.Duration
		flags  []string
		code   int
		output string
	}{
		{"enough SCTs", []string{"a", "b"}, 24 * time.Hour, nil, exitOK, "PASS    ct"},
		{"too few SCTs", []string{"a"}, 24 * time.Hour, nil, exitFailed, "does not meet the chrome CT policy"},
		{"too few, N policy", []string{"a"}, 24 * time.Hour, []string{"--ct-policy=1"}, exitOK, "at-least(1 SCTs, 1 operators) policy met"},
		{"N/M policy", []string{"a", "b"}, 24 * time.Hour, []string{"--ct-policy", "2/2"}, exitOK, "policy met"},
		{"apple", []string{"a"}, 24 * time.Hour, []string{"--ct-policy=apple"}, exitFailed, "apple CT policy"},
		{"report only", []string{"a"}, 24 * time.Hour, []string{"--ct-report-only"}, exitOK, "report only"},
		{"stale list", []string{"a"}, 80 * 24 * time.Hour, nil, exitOK, "CT not enforced"},
		{"stale list, max age lifted", []string{"a"}, 80 * 24 * time.Hour, []string{"--ct-max-list-age=0"}, exitFailed, "does not meet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr, caFlag, list := ctFixture(t, c.age, c.embed...)
			args := append([]string{"connect", caFlag, nowFlag, "--ct-log-list", list}, c.flags...)
			code, stdout, stderr := runCmd(t, append(args, addr)...)
			if code != c.code || !strings.Contains(stdout, c.output) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
		})
	}
}

func TestConnectCTJSON(t *testing.T) {
	t.Parallel()
	addr, caFlag, list := ctFixture(t, 24*time.Hour, "a", "b")
	code, stdout, _ := runCmd(t, "connect", "--json", caFlag, nowFlag, "--ct-log-list="+list, addr)
	if code != exitOK || !strings.Contains(stdout, `"scts"`) || !strings.Contains(stdout, `"log": "CLI 'a' log"`) || !strings.Contains(stdout, `"satisfied_by": "embedded"`) {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
}

func TestConnectCTSignedList(t *testing.T) {
	t.Parallel()
	addr, caFlag, list := ctFixture(t, 24*time.Hour, "a", "b")
	key, err := testpki.NewKey(testpki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := os.ReadFile(list)
	sig, err := testpki.SignCTLogList(js, key)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	dir := t.TempDir()
	sigFile, keyFile := filepath.Join(dir, "log_list.sig"), filepath.Join(dir, "key.pem")
	os.WriteFile(sigFile, sig, 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
	code, stdout, stderr := runCmd(t, "connect", caFlag, nowFlag, "--ct-log-list", list, "--ct-log-list-sig", sigFile, "--ct-log-list-key", keyFile, addr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	os.WriteFile(sigFile, append(sig, 0), 0o600)
	if code, _, stderr := runCmd(t, "connect", caFlag, nowFlag, "--ct-log-list", list, "--ct-log-list-sig", sigFile, "--ct-log-list-key", keyFile, addr); code != exitUsage || !strings.Contains(stderr, "signature does not verify") {
		t.Errorf("bad signature: exit %d: %s", code, stderr)
	}
}

func TestConnectCTFlagErrors(t *testing.T) {
	t.Parallel()
	_, _, list := ctFixture(t, 24*time.Hour)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ct-policy=chrome"}, "--ct-policy needs --ct-log-list"},
		{[]string{"--ct-policy=lots", "--ct-log-list", list}, "want chrome, apple, N or N/M"},
		{[]string{"--ct-policy=2/3", "--ct-log-list", list}, "M must be between 1 and N"},
		{[]string{"--ct-log-list", filepath.Join(t.TempDir(), "missing.json")}, "--ct-log-list"},
		{[]string{"--ct-log-list", list, "--ct-log-list-sig", list}, "go together"},
		{[]string{"--ct-log-list", list, "--ct-max-list-age=soon"}, "invalid"},
	} {
		code, _, stderr := runCmd(t, append(append([]string{"connect"}, c.args...), "127.0.0.1:1")...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
}
