package tlsclient_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"crypto/x509"

	"github.com/google/go-cmp/cmp"
	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

func TestReportJSON(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	failing := &recorder{name: "policy", err: fmt.Errorf("nope: %w", tlsclient.ErrCTPolicy)}
	_, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts(tlsclient.WithVerifiers(failing))...)
	ve := verificationError(t, err)
	b, err := json.Marshal(ve.Report)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ServerName string `json:"server_name"`
		Version    string `json:"version"`
		Resumed    *bool  `json:"resumed"`
		Chain      []map[string]any
		Checks     []map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.ServerName != "localhost" || got.Version != "TLS 1.3" || got.Resumed == nil || len(got.Chain) != 3 {
		t.Errorf("report JSON: %s", b)
	}
	for _, k := range []string{"subject", "issuer", "serial", "not_before", "not_after", "key_type", "sha256"} {
		if _, ok := got.Chain[0][k]; !ok {
			t.Errorf("chain entry lacks %q: %v", k, got.Chain[0])
		}
	}
	var outcomes []string
	for _, c := range got.Checks {
		outcomes = append(outcomes, fmt.Sprint(c["verifier"], "=", c["outcome"]))
	}
	want := []string{"chain=pass", "hostname=pass", "staple=skip", "policy=fail"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if e := got.Checks[3]["error"]; e != "nope: certificate transparency policy not met" {
		t.Errorf("error text in JSON: %v", e)
	}

	// Round trip of the outcome encoding.
	var back tlsclient.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Checks[3].Outcome != tlsclient.Fail || back.Checks[2].Outcome != tlsclient.Skip {
		t.Errorf("outcomes decoded as %v", back.Checks)
	}
	if _, err := json.Marshal(tlsclient.Check{}); err == nil {
		t.Error("a check without outcome must not encode silently")
	}
}

func TestReportString(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	s := serve(t, testpki.ServerOptions{Cert: p.leaf})
	c, err := tlsclient.Dial("tcp", localhost(s.Addr), p.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	out := c.Report().String()
	for _, want := range []string{"server:   localhost", "protocol: TLS 1.3", "cert 0:   CN=localhost", "PASS     chain", "SKIP     staple", "verdict:  OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("report text lacks %q:\n%s", want, out)
		}
	}
}

func TestOutcomeText(t *testing.T) {
	for o, s := range map[tlsclient.Outcome]string{tlsclient.Pass: "pass", tlsclient.Fail: "fail", tlsclient.Skip: "skip", tlsclient.Warning: "warning"} {
		var back tlsclient.Outcome
		if err := back.UnmarshalText([]byte(s)); err != nil || back != o || o.String() != s {
			t.Errorf("%v <-> %q", o, s)
		}
	}
	var o tlsclient.Outcome
	if err := o.UnmarshalText([]byte("maybe")); err == nil {
		t.Error("unknown outcome accepted")
	}
}

// TestStandaloneVerifier: a verifier can be run on a hand-built State, and
// Record works on a zero State.
func TestStandaloneVerifier(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	st := &tlsclient.State{Now: testpki.Now}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{{p.leaf.Cert, p.inter.Cert, p.root.Cert}}
	rec := &recorder{name: "rec"}
	if err := rec.Verify(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	checks := st.Checks()
	if len(checks) != 1 || checks[0].Outcome != tlsclient.Pass {
		t.Errorf("checks %+v", checks)
	}
	if len(st.Chain()) != 3 || !st.Time().Equal(testpki.Now) {
		t.Error("State accessors")
	}
	var empty tlsclient.State
	if empty.Chain() != nil || empty.Time().IsZero() {
		t.Error("zero State accessors")
	}
}

func TestTLSConfigWithHTTP(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.leaf.TLSCertificate()}}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	url := "https://" + localhost(srv.Listener.Addr().String())

	var reports atomic.Int64
	rec := &recorder{name: "rec"}
	d, err := tlsclient.New(p.opts(tlsclient.WithVerifiers(rec), tlsclient.WithReportHook(func(r *tlsclient.Report) {
		if r.OK() && len(r.Chain) == 3 {
			reports.Add(1)
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: d.TLSConfig(), ForceAttemptHTTP2: true}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("HTTP/2 should keep working, got %s", resp.Proto)
	}
	if len(rec.calls()) != 1 || reports.Load() != 1 {
		t.Errorf("verifier calls %d, hook reports %d", len(rec.calls()), reports.Load())
	}

	// An IP literal: crypto/tls sends no SNI and checks the IP SANs.
	var hostDetail atomic.Value
	ipDialer, err := tlsclient.New(p.opts(tlsclient.WithReportHook(func(r *tlsclient.Report) {
		for _, c := range r.Checks {
			if c.Verifier == "hostname" {
				hostDetail.Store(c.Detail)
			}
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: ipDialer.TLSConfig()}}
	resp, err = client.Get("https://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d, _ := hostDetail.Load().(string); !strings.Contains(d, "IP SANs") {
		t.Errorf("hostname check for an IP literal: %q", d)
	}

	refusing, err := tlsclient.New(p.opts(tlsclient.WithVerifiers(&recorder{name: "no", err: tlsclient.ErrRevoked}))...)
	if err != nil {
		t.Fatal(err)
	}
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: refusing.TLSConfig()}}
	_, err = client.Get(url)
	var ve *tlsclient.VerificationError
	if !errors.Is(err, tlsclient.ErrRevoked) || !errors.As(err, &ve) || ve.Report == nil {
		t.Fatalf("net/http must surface the refusal: %v", err)
	}
}
