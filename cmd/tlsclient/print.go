package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/revocation"
)

// detailIndent starts the lines that detail a check, under its text.
const detailIndent = "          "

// printReport writes rep for people: connection, chain, checks with their
// details (each SCT, each revocation answer...), verdict. The verdict is
// FAILED when a check failed or refused is set (the dial returned a
// verification error).
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
			fmt.Fprintf(w, "      pin     %s\n", c.Pin)
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
		for _, line := range dataLines(c.Data) {
			fmt.Fprintf(w, "%s%s\n", detailIndent, line)
		}
		if c.Error != "" && !strings.Contains(c.Detail, c.Error) {
			fmt.Fprintf(w, "%serror: %s\n", detailIndent, c.Error)
		}
	}
	if rep.OK() && !refused {
		fmt.Fprintln(w, "verdict:  OK")
	} else {
		fmt.Fprintln(w, "verdict:  FAILED")
	}
}

// dataLines renders the verifier-specific details of a check, one line per
// item: each SCT of a CT check, the dates of an OCSP response or CRL, the
// pin that matched.
func dataLines(data any) []string {
	switch d := data.(type) {
	case *ct.Details:
		return ctLines(d)
	case ct.Details:
		return ctLines(&d)
	case revocation.Details:
		return []string{statusLine(d.Status, d.ThisUpdate, d.NextUpdate, d.RevokedAt, d.Reason, "", d.Cached)}
	case *revocation.Details:
		return dataLines(*d)
	case tlsclient.StapleDetails:
		return []string{statusLine(d.Status, d.ThisUpdate, d.NextUpdate, time.Time{}, "", d.Signer, d.Cached)}
	case *tlsclient.StapleDetails:
		return dataLines(*d)
	case tlsclient.PinDetails:
		pins := make([]string, len(d.Pins))
		for i, p := range d.Pins {
			pins[i] = p.String()
		}
		line := fmt.Sprintf("scope %s; pinned %s", d.Scope, strings.Join(pins, ", "))
		if d.Matched != nil {
			line = fmt.Sprintf("matched %s (%s); %s", d.Matched.Pin, d.Matched.Subject, line)
		}
		return []string{line}
	}
	return nil
}

// statusLine is one line of an OCSP response's or a CRL's facts.
func statusLine(status string, this, next, revokedAt time.Time, reason, signer string, cached bool) string {
	parts := []string{"status " + status}
	if !revokedAt.IsZero() {
		r := "revoked at " + stamp(revokedAt)
		if reason != "" {
			r += " (" + reason + ")"
		}
		parts = append(parts, r)
	}
	if !this.IsZero() {
		parts = append(parts, "this update "+stamp(this))
	}
	if !next.IsZero() {
		parts = append(parts, "next update "+stamp(next))
	}
	if signer != "" {
		parts = append(parts, "signed by "+signer)
	}
	if cached {
		parts = append(parts, "from cache")
	}
	return strings.Join(parts, "; ")
}

// ctLines renders a CT check: the log list, each SCT, the rules not met.
func ctLines(d *ct.Details) []string {
	var lines []string
	mode := "enforced"
	if !d.Enforced {
		mode = "not enforced"
	}
	list := "no log list"
	if !d.LogList.Timestamp.IsZero() {
		list = "log list of " + stamp(d.LogList.Timestamp)
		if d.LogList.Version != "" {
			list += " (version " + d.LogList.Version + ")"
		}
		if d.LogList.Age != "" {
			list += ", " + d.LogList.Age + " old"
		}
		if d.LogList.MaxAge != "" {
			list += ", max " + d.LogList.MaxAge
		}
		if d.LogList.Stale {
			list += ", STALE"
		}
	}
	lines = append(lines, fmt.Sprintf("policy %s, %s; %s; %d SCT(s)", d.Policy, mode, list, len(d.SCTs)))
	for _, s := range d.SCTs {
		line := fmt.Sprintf("  sct %s #%d: %s", s.Source, s.Index, s.Status)
		who := s.Log
		if who == "" {
			who = "log " + s.LogID.String()
		}
		if s.Operator != "" {
			who += " (" + s.Operator
			if s.LogState != "" {
				who += ", " + s.LogState
			}
			who += ")"
		}
		line += ", " + who
		if !s.Timestamp.IsZero() {
			line += ", " + stamp(s.Timestamp)
		}
		if s.Reason != "" {
			line += ": " + s.Reason
		}
		lines = append(lines, line)
	}
	for _, p := range d.Problems {
		lines = append(lines, "  problem: "+p)
	}
	if v := d.Verdict; v != nil && !v.Compliant {
		for _, a := range v.Alternatives {
			for _, r := range a.Requirements {
				if !r.Met {
					lines = append(lines, fmt.Sprintf("  unmet (%s): %d of %d %s", a.Name, r.Found, r.Required, r.Rule))
				}
			}
		}
	}
	return lines
}

// advice says what to do about a failed connect, in terms of the flags.
func advice(err error) []string {
	var (
		ce  *tlsclient.CertificateError
		pe  *tlsclient.PinError
		ne  net.Error
		ope *net.OpError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		switch ce.Reason {
		case tlsclient.UntrustedRoot, tlsclient.UnknownIssuer:
			return []string{
				"if the server uses a private CA, trust it with --ca FILE (its PEM certificate);",
				"if the issuer is an intermediate the server did not send, the server's certificate bundle must include it.",
			}
		case tlsclient.HostnameMismatch:
			return []string{"connect with the name the certificate was issued for (see the chain's names above), or set it with --servername NAME."}
		case tlsclient.Expired, tlsclient.NotYetValid:
			return []string{"the server must renew its certificate; if the dates look wrong, check this machine's clock (--time checks at another time)."}
		}
		return []string{"the server's certificate must be reissued: " + ce.Hint}
	case errors.Is(err, tlsclient.ErrRevoked):
		return []string{"the server's certificate (or an intermediate) is revoked: the server must get a new one. Do not work around this."}
	case errors.Is(err, tlsclient.ErrMustStaple):
		return []string{"the certificate requires an OCSP staple (must-staple) and the server sent none that is usable: the server must enable OCSP stapling."}
	case errors.Is(err, tlsclient.ErrRevocationUnavailable):
		return []string{
			"no revocation status could be obtained: check that the OCSP and CRL URLs above are reachable from here (proxy, firewall),",
			"or accept the risk with --soft-fail (a definitive \"revoked\" would still fail).",
		}
	case errors.Is(err, tlsclient.ErrCTPolicy):
		return []string{
			"the certificate does not carry the SCTs the CT policy requires (each SCT is listed above);",
			"check that --ct-log-list is current, try --ct-policy, or observe with --ct-report-only.",
		}
	case errors.As(err, &pe):
		return []string{"none of the chain's keys is pinned (their pins are listed above): if the server's keys changed legitimately, update --pin; otherwise the connection may be intercepted."}
	case errors.Is(err, tlsclient.ErrProtocolVersion):
		return []string{"the server speaks only TLS versions below 1.2: it must be upgraded to TLS 1.2 or 1.3."}
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return []string{"the server did not answer in time: check the host and port, and any firewall; allow more time with --timeout."}
	case errors.As(err, &ope) && ope.Op == "dial":
		return []string{"no TLS server could be reached at this address: check the host name and port (443 unless given), and any firewall or proxy."}
	}
	var ve *tlsclient.VerificationError
	if errors.As(err, &ve) {
		return []string{"a check refused the server: see its error above."}
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
