package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/revocation"
)

// TestConnectCTDetails: the human report lists the log list, each SCT and
// the rules not met.
func TestConnectCTDetails(t *testing.T) {
	t.Parallel()
	addr, caFlag, list := ctFixture(t, 24*time.Hour, "a")
	code, stdout, _ := runCmd(t, "connect", caFlag, nowFlag, "--ct-log-list", list, addr)
	if code != exitFailed {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	for _, s := range []string{
		detailIndent + "policy chrome, enforced; log list of 2026-01-14T12:00:00Z (version 1.0), 1d old, max 70d; 1 SCT(s)",
		detailIndent + "  sct embedded #0: valid, CLI 'a' log (Operator a, usable), 2026-01-15T11:00:00Z",
		detailIndent + "  unmet (embedded): 1 of 2 embedded SCTs from distinct logs",
		"advice:   the certificate does not carry the SCTs the CT policy requires",
	} {
		if !strings.Contains(stdout, s) {
			t.Errorf("output lacks %q:\n%s", s, stdout)
		}
	}
}

func TestDataLines(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	var pin tlsclient.Pin
	tests := []struct {
		data any
		want string
	}{
		{nil, ""},
		{"unknown type", ""},
		{revocation.Details{Status: "revoked", RevokedAt: at, Reason: "keyCompromise", Cached: true},
			"status revoked; revoked at 2026-01-15T12:00:00Z (keyCompromise); from cache"},
		{&revocation.Details{Status: "good", ThisUpdate: at, NextUpdate: at.Add(time.Hour)},
			"status good; this update 2026-01-15T12:00:00Z; next update 2026-01-15T13:00:00Z"},
		{tlsclient.StapleDetails{Status: "good", ThisUpdate: at, Signer: "issuer"},
			"status good; this update 2026-01-15T12:00:00Z; signed by issuer"},
		{tlsclient.PinDetails{Scope: tlsclient.PinLeaf, Pins: []tlsclient.Pin{pin}},
			"scope leaf; pinned " + pin.String()},
		{tlsclient.PinDetails{Matched: &tlsclient.CertPin{Subject: "CN=x", Pin: pin}, Pins: []tlsclient.Pin{pin}},
			"matched " + pin.String() + " (CN=x); scope chain; pinned " + pin.String()},
	}
	for _, tt := range tests {
		if got := strings.Join(dataLines(tt.data), "\n"); got != tt.want {
			t.Errorf("dataLines(%#v) = %q, want %q", tt.data, got, tt.want)
		}
	}
}

func TestAdvice(t *testing.T) {
	t.Parallel()
	ve := func(err error) error { return &tlsclient.VerificationError{Err: err} }
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ve(tlsclient.ErrMustStaple), "must enable OCSP stapling"},
		{ve(&tlsclient.RevokedError{}), "Do not work around this"},
		{ve(tlsclient.ErrProtocolVersion), "TLS 1.2 or 1.3"},
		{ve(&tlsclient.PinError{}), "update --pin"},
		{ve(&tlsclient.CertificateError{Reason: tlsclient.WrongUsage, Hint: "use serverAuth"}), "use serverAuth"},
		{ve(errors.New("custom")), "a check refused the server"},
		{errors.New("something else"), ""},
	}
	for _, tt := range tests {
		got := strings.Join(advice(tt.err), " ")
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("advice(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
