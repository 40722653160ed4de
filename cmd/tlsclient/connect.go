package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/tlsclient/tlsclient"
)

// defaultPort is the port dialled when the target names none.
const defaultPort = "443"

// connectCmd holds the flags of one connect run.
type connectCmd struct {
	fs     *flag.FlagSet
	json   bool
	groups []optionFlags
}

func newConnectCmd() *connectCmd {
	c := &connectCmd{fs: flag.NewFlagSet("connect", flag.ContinueOnError)}
	c.fs.BoolVar(&c.json, "json", false, "print the result as JSON (schema below) instead of text")
	c.groups = newOptionFlags(c.fs)
	return c
}

func connectUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: tlsclient connect [flags] host[:port]

Connect dials host (port 443 unless given), performs a TLS handshake that
verifies the certificate chain, the host name and the stapled OCSP
response, and prints the protocol, the chain, every check with its outcome
and the verdict. On failure it prints the error, which says what failed and
what to do. The connection is closed without sending data.

The host may be a name, an IPv4 address, or an IPv6 address, with brackets
when a port follows: example.com, example.com:8443, 192.0.2.1:443, [::1]:443,
[::1] or ::1. An IP address is verified against the certificate's IP
addresses and sends no SNI, unless --servername is given. Without --ca, the
system roots are trusted (SSL_CERT_FILE and SSL_CERT_DIR are honoured).

Flags (one or two dashes; they may also follow the host):

`)
	c := newConnectCmd()
	c.fs.SetOutput(w)
	c.fs.PrintDefaults()
	fmt.Fprint(w, `
Exit codes:

  0  the connection was verified
  1  verification failed: chain, host name, TLS version or a check refused
     the server (a *tlsclient.VerificationError)
  2  usage error, bad configuration (e.g. an unreadable --ca file), or a
     network error (refused, unreachable, timed out)

JSON output (--json) is one object on standard output, for every outcome
except a usage error. Its shape, annotated:

  {
    "report": {                 // absent when no handshake took place
      "address": "host:port",   // the address dialled
      "server_name": "host",    // name verified (and sent in SNI)
      "time": "RFC 3339",       // the time everything was judged at
      "version": "TLS 1.3",     // negotiated version, when known
      "cipher_suite": "TLS_AES_128_GCM_SHA256",
      "alpn": "h2",             // negotiated protocol, if any
      "resumed": false,
      "chain": [                // verified chain, leaf first (on a chain
        {                       // failure: the certificates the server sent)
          "subject": "CN=...", "issuer": "CN=...",
          "serial": "HEX", "not_before": "...", "not_after": "...",
          "key_type": "ECDSA P-256",
          "dns_names": ["..."], "ip_addresses": ["..."],
          "sha256": "hex fingerprint"
        }
      ],
      "checks": [               // every check, in order, skips included
        {
          "verifier": "chain" | "hostname" | "staple" | "version" | ...,
          "subject": "the certificate concerned",
          "outcome": "pass" | "fail" | "skip" | "warning",
          "detail": "what was found",
          "source": "staple" | "ocsp" | "crl" | ...,   // optional
          "url": "where it was fetched",               // optional
          "elapsed_ns": 1234,                          // optional
          "error": "why it failed or warned",          // optional
          "data": { ... }                              // optional, per verifier
        }
      ]
    },
    "error": "..."              // absent on success
  }

Examples:

  tlsclient connect example.com
  tlsclient connect --ca ca.pem --servername internal.example 10.0.0.7:8443
  tlsclient connect --json --alpn h2,http/1.1 example.com | jq .report.checks
  tlsclient connect --time 2026-01-15T12:00:00Z [2001:db8::1]:443
`)
}

// connectResult is what connect --json prints: the report of the handshake,
// when there was one, and the error, when the connection failed.
type connectResult struct {
	Report *tlsclient.Report `json:"report,omitempty"`
	Error  string            `json:"error,omitempty"`
}

func runConnect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newConnectCmd()
	pos, code, done := parseArgs(c.fs, args, connectUsage, stdout, stderr)
	if done {
		return code
	}
	switch len(pos) {
	case 0:
		return usageError(stderr, "connect", "missing host[:port]")
	case 1:
	default:
		return usageError(stderr, "connect", "want one host[:port], got %d arguments: %s", len(pos), strings.Join(pos, " "))
	}
	addr, err := parseTarget(pos[0])
	if err != nil {
		return usageError(stderr, "connect", "%v", err)
	}
	opts, err := buildOptions(c.groups)
	if err != nil {
		return usageError(stderr, "connect", "%v", err)
	}
	d, err := tlsclient.New(opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}

	conn, err := d.DialContext(ctx, "tcp", addr)
	var rep *tlsclient.Report
	var verr *tlsclient.VerificationError
	switch {
	case err == nil:
		rep = conn.Report()
		conn.Close()
	case errors.As(err, &verr):
		rep = verr.Report
	}

	if c.json {
		res := connectResult{Report: rep}
		if err != nil {
			res.Error = err.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if e := enc.Encode(res); e != nil {
			fmt.Fprintf(stderr, "tlsclient connect: encoding JSON: %v\n", e)
			return exitUsage
		}
	} else {
		if rep != nil {
			printReport(stdout, rep, err != nil)
		}
		if err != nil {
			w := stdout
			if verr == nil {
				w = stderr // not a verdict: a network or configuration error
			}
			fmt.Fprintf(w, "error:    %v\n", err)
		}
	}
	switch {
	case err == nil:
		return exitOK
	case verr != nil:
		return exitFailed
	default:
		return exitUsage
	}
}

// parseTarget turns host[:port] into a dialable host:port. The port
// defaults to 443; IPv6 literals may be bracketed ("[::1]", "[::1]:8443")
// or bare without a port ("::1").
func parseTarget(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty host")
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#") {
		return "", fmt.Errorf("%q: want host[:port], not a URL", s)
	}
	var host, port string
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		host, port = s[1:len(s)-1], defaultPort
	case strings.HasPrefix(s, "["):
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "", fmt.Errorf("%q: %v", s, splitErr(err))
		}
	case net.ParseIP(s) != nil:
		host, port = s, defaultPort
	case strings.Count(s, ":") > 1:
		// Maybe an IPv6 address with a zone or a typo; a port needs brackets.
		if i := strings.IndexByte(s, '%'); i >= 0 && net.ParseIP(s[:i]) != nil {
			host, port = s, defaultPort
			break
		}
		return "", fmt.Errorf("%q: not a valid host; write an IPv6 address with a port as [addr]:port", s)
	case strings.Contains(s, ":"):
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "", fmt.Errorf("%q: %v", s, splitErr(err))
		}
	default:
		host, port = s, defaultPort
	}
	if host == "" {
		return "", fmt.Errorf("%q: empty host", s)
	}
	if (strings.HasPrefix(s, "[") || strings.Contains(host, ":")) && net.ParseIP(stripZone(host)) == nil {
		return "", fmt.Errorf("%q: %q is not an IPv6 address", s, host)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: invalid port %q (want 1-65535)", s, port)
	}
	return net.JoinHostPort(host, port), nil
}

func stripZone(h string) string {
	if i := strings.IndexByte(h, '%'); i >= 0 {
		return h[:i]
	}
	return h
}

func splitErr(err error) string {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return ae.Err
	}
	return err.Error()
}
