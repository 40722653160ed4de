package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient"
)

// printReport writes rep for people: connection, chain, checks, verdict.
// The verdict is FAILED when a check failed or refused is set (the dial
// returned a verification error).
func printReport(w io.Writer, rep *tlsclient.Report, refused bool) {
	server := rep.ServerName
	if server == "" {
		server = "(no name)"
	}
	if rep.Address != "" {
		server += " (" + rep.Address + ")"
	}
	fmt.Fprintf(w, "server:   %s\n", server)
	if rep.Version != "" {
		proto := rep.Version + ", " + rep.CipherSuite
		if rep.ALPN != "" {
			proto += ", ALPN " + rep.ALPN
		}
		if rep.Resumed {
			proto += ", resumed session"
		}
		fmt.Fprintf(w, "protocol: %s\n", proto)
	}
	if !rep.Time.IsZero() {
		fmt.Fprintf(w, "time:     %s\n", stamp(rep.Time))
	}
	if len(rep.Chain) > 0 {
		fmt.Fprintln(w, "chain:")
		for i, c := range rep.Chain {
			fmt.Fprintf(w, "  %d %s\n", i, c.Subject)
			fmt.Fprintf(w, "      issuer  %s\n", c.Issuer)
			fmt.Fprintf(w, "      valid   %s to %s\n", stamp(c.NotBefore), stamp(c.NotAfter))
			fmt.Fprintf(w, "      key     %s, serial %s\n", c.KeyType, c.Serial)
			if names := append(append([]string(nil), c.DNSNames...), c.IPs...); len(names) > 0 {
				fmt.Fprintf(w, "      names   %s\n", strings.Join(names, ", "))
			}
			fmt.Fprintf(w, "      sha256  %s\n", c.SHA256)
		}
	}
	fmt.Fprintln(w, "checks:")
	if len(rep.Checks) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "  %-7s %-10s", strings.ToUpper(c.Outcome.String()), c.Verifier)
		if c.Subject != "" {
			fmt.Fprintf(w, " [%s]", c.Subject)
		}
		fmt.Fprintf(w, " %s", c.Detail)
		var extra []string
		if c.Source != "" && c.Source != c.Verifier {
			extra = append(extra, "source "+c.Source)
		}
		if c.URL != "" {
			extra = append(extra, c.URL)
		}
		if c.Elapsed > 0 {
			extra = append(extra, c.Elapsed.Round(time.Millisecond).String())
		}
		if len(extra) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(extra, ", "))
		}
		fmt.Fprintln(w)
		if c.Error != "" && !strings.Contains(c.Detail, c.Error) {
			fmt.Fprintf(w, "          %s\n", c.Error)
		}
	}
	if rep.OK() && !refused {
		fmt.Fprintln(w, "verdict:  OK")
	} else {
		fmt.Fprintln(w, "verdict:  FAILED")
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
