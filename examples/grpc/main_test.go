package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestGRPC(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"health of example.Greeter: SERVING",
		"TLS 1.3, ALPN h2, verified: true",
		"pass chain    verified to trusted root CN=gRPC Example Root CA",
		`pass hostname "localhost" matches the certificate`,
		"pinned to another key: the call failed",
		"verified: false",
		"fail pin      no key of the verified chain matches a pin",
		"untrusted CA: the call failed (report: false): x509: certificate signed by unknown authority",
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}
