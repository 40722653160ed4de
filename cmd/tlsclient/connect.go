package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
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

// jsonUsage documents --json, which connect registers itself.
const jsonUsage = "print the result as JSON (the schema is below) instead of text"

func newConnectCmd() *connectCmd {
	c := &connectCmd{fs: flag.NewFlagSet("connect", flag.ContinueOnError)}
	c.fs.BoolVar(&c.json, "json", false, jsonUsage)
	c.groups = newOptionFlags(c.fs)
	return c
}

func connectUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: tlsclient connect [flags] host[:port]

Connect dials host (port 443 unless given), performs a TLS handshake that
verifies the certificate chain, the host name and the stapled OCSP
response, and the checks the flags ask for (revocation, Certificate
Transparency, public key pins), inside the handshake, so that a failed
check aborts it. It prints the protocol, the chain (with each
certificate's public key pin), every check with its outcome and details,
and the verdict; on failure, the error, which says what failed, and advice
on what to do. The connection is closed without sending data.

The host may be a name, an IPv4 address, or an IPv6 address, with brackets
when a port follows: example.com, example.com:8443, 192.0.2.1:443, [::1]:443,
[::1] or ::1. An IP address is verified against the certificate's IP
addresses and sends no SNI, unless --servername is given. Without --ca, the
system roots are trusted (SSL_CERT_FILE and SSL_CERT_DIR are honoured).

Flags may be written with one or two dashes, and may also follow the host.
Checks run in the order of the sections below.
`)
	var groups []optionFlags
	for _, mk := range optionGroups {
		groups = append(groups, mk())
	}
	slices.SortStableFunc(groups, func(a, b optionFlags) int {
		ra, _ := a.section()
		rb, _ := b.section()
		return cmp.Compare(ra, rb)
	})
	for _, g := range groups {
		rank, title := g.section()
		fs := flag.NewFlagSet(title, flag.ContinueOnError)
		g.register(fs)
		if rank == rankOutput {
			fs.Bool("json", false, jsonUsage)
		}
		fmt.Fprintf(w, "\n%s:\n\n", title)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprint(w, `
Checks, in the order of the report:

  chain       the chain verifies to a trusted root at --time (crypto/tls)
  hostname    the certificate is valid for --servername or the host
  staple      built-in, no network: a stapled OCSP response that says
              revoked fails; a must-staple certificate (RFC 7633) without a
              valid staple fails; otherwise an unusable staple is a warning
              and a missing one a skip
  pin         --pin: a key of the verified chain (or the leaf, --pin-leaf)
              is pinned
  ct          --ct-log-list: the SCTs meet the CT policy
  ocsp-staple --staple=require: a valid, good staple is required
  revocation  --revocation: per certificate, staple, then CRLs, then OCSP
  crl, ocsp   --crl / --crl-file, --ocsp: per certificate of the chain (the
              root excepted, or the leaf only with --leaf-only)

Outcomes: pass; fail (the connection is refused); skip (the check did not
apply, with the reason); warning (the check could not decide and the policy,
e.g. --soft-fail or --ct-report-only, let the connection through).

Exit codes:

  0  the connection was verified
  1  verification failed: chain, host name, TLS version or a check refused
     the server (a *tlsclient.VerificationError)
  2  usage error, bad configuration (e.g. an unreadable --ca or --crl-file),
     or a network error (refused, unreachable, timed out)

JSON output (--json) is one object on standard output, for every outcome
except a usage error. The schema is stable: fields are only ever added.
Annotated:

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
          "sha256": "hex fingerprint of the certificate",
          "pin": "sha256/BASE64"  // public key pin, for --pin
        }
      ],
      "checks": [               // every check, in order, skips included
        {
          "verifier": "chain" | "hostname" | "staple" | "version" | "pin" |
                      "ct" | "ocsp-staple" | "revocation" | "crl" | "ocsp",
          "subject": "the certificate concerned",
          "outcome": "pass" | "fail" | "skip" | "warning",
          "detail": "what was found",
          "source": "staple" | "ocsp" | "crl",         // optional
          "url": "where it was fetched",               // optional
          "elapsed_ns": 1234,                          // optional
          "error": "why it failed or warned",          // optional
          "data": { ... }                              // optional, below
        }
      ]
    },
    "error": "..."              // absent on success
  }

"data", by verifier:

  staple       {"status": "good"|"revoked"|"unknown", "this_update",
                "next_update", "signer", "cached": bool}
  ocsp-staple, revocation, crl, ocsp
               {"source": "staple"|"crl"|"ocsp", "status": "good"|"revoked"|
                "unknown"|"not applicable", "this_update", "next_update",
                "revoked_at", "reason": "keyCompromise"..., "cached": bool}
  pin          {"scope": "chain"|"leaf", "pins": ["sha256/..."],
                "matched": {"subject", "pin"}}      // matched: on success
  ct           {"policy": "chrome", "enforced": bool,
                "log_list": {"version", "timestamp", "age", "max_age",
                             "stale": bool},
                "scts": [{"source": "embedded"|"tls"|"ocsp", "index",
                          "log_id", "log", "operator", "log_state",
                          "timestamp", "status": "valid"|"not_counted"|
                          "bad_signature"|"unknown_log"|"future"|...,
                          "reason", "cached": bool}],
                "problems": ["..."],
                "verdict": {"policy", "compliant": bool, "satisfied_by",
                            "alternatives": [{"name", "met": bool,
                              "requirements": [{"rule", "required",
                                                "found", "met": bool}]}]}}

Examples:

  tlsclient connect example.com
  tlsclient connect --revocation example.com
  tlsclient connect --ocsp --soft-fail --leaf-only example.com
  tlsclient connect --crl-file ca.crl --ca ca.pem --servername internal.example 10.0.0.7:8443
  tlsclient connect --staple=require --pin sha256/AAAA...= example.com
  tlsclient connect --ct-log-list log_list.json --ct-policy chrome example.com
  tlsclient connect --json --alpn h2,http/1.1 example.com | jq .report.checks
  tlsclient connect --time 2026-01-15T12:00:00Z --log debug [2001:db8::1]:443
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
	opts, err := buildOptions(c.groups, stdout, stderr)
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
			for i, line := range advice(err) {
				label := "advice:   "
				if i > 0 {
					label = detailIndent
				}
				fmt.Fprintf(w, "%s%s\n", label, line)
			}
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
