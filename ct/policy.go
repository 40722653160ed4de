package ct

import (
	"crypto/x509"
	"fmt"
	"time"
)

// A Policy decides whether the valid SCTs of a certificate are enough:
// ChromePolicy, ApplePolicy or AtLeast. The zero Policy is invalid.
type Policy struct {
	p policyImpl
}

// String names the policy as the Report does: "chrome", "apple" or
// "at-least(N SCTs, M operators)".
func (p Policy) String() string {
	if p.p == nil {
		return "invalid"
	}
	return p.p.name()
}

type policyImpl interface {
	name() string
	// admits reports whether SCTs from the log may count at all.
	admits(l *Log) bool
	// intervals reports whether an SCT counts only when its log's
	// temporal_interval, if any, holds the certificate's notAfter.
	intervals() bool
	evaluate(leaf *x509.Certificate, cands []candidate) Verdict
}

// candidate is a counted SCT: valid signature, known log that counts at the
// time of check (accepted now, or retired after the SCT was issued), first
// of its log in its source.
type candidate struct {
	log         *Log
	source      Source
	time        time.Time
	operator    string // operator of the log at the SCT's time
	acceptedNow bool   // log Qualified, Usable or ReadOnly at the time of check
}

// Verdict is a policy's decision on one certificate: whether it is
// compliant, by which alternative, and for each alternative every rule with
// the count required and found.
type Verdict struct {
	Policy    string `json:"policy"`
	Compliant bool   `json:"compliant"`
	// SatisfiedBy names the alternative that was met ("embedded",
	// "tls_ocsp", "any"); empty when none was.
	SatisfiedBy  string        `json:"satisfied_by,omitempty"`
	Lifetime     string        `json:"certificate_lifetime,omitempty"`
	Alternatives []Alternative `json:"alternatives"`
}

// Alternative is one way of meeting a policy: a set of rules that must all
// hold.
type Alternative struct {
	Name         string        `json:"name"`
	Met          bool          `json:"met"`
	Requirements []Requirement `json:"requirements"`
}

// Requirement is one rule of an alternative, with the count it requires and
// the count found.
type Requirement struct {
	Rule     string `json:"rule"`
	Required int    `json:"required"`
	Found    int    `json:"found"`
	Met      bool   `json:"met"`

	short string // what is counted, in a word or two, for one-line summaries
}

func req(short, rule string, required, found int) Requirement {
	return Requirement{Rule: rule, Required: required, Found: found, Met: found >= required, short: short}
}

func alternative(name string, reqs ...Requirement) Alternative {
	a := Alternative{Name: name, Met: true, Requirements: reqs}
	for _, r := range reqs {
		a.Met = a.Met && r.Met
	}
	return a
}

func verdict(policy, lifetime string, alts ...Alternative) Verdict {
	v := Verdict{Policy: policy, Lifetime: lifetime, Alternatives: alts}
	for _, a := range alts {
		if a.Met {
			v.Compliant, v.SatisfiedBy = true, a.Name
			break
		}
	}
	return v
}

// Alternative names.
const (
	altEmbedded = "embedded"
	altTLSOCSP  = "tls_ocsp"
	altAny      = "any"
)

// publicLog: Chrome's and Apple's published lists contain only production
// logs; all_logs_list.json also lists test and monitoring-only logs, which
// neither browser accepts.
func publicLog(l *Log) bool {
	return l.Type != LogTypeTest && l.Type != LogTypeMonitoringOnly
}

// ChromePolicy returns Chrome's CT policy as published at
// https://googlechrome.github.io/CertificateTransparency/ct_policy.html
// ("For certificates issued on-or-after 15 April 2022"). A certificate
// complies when either:
//
// Embedded SCTs (from the certificate's SCT list extension):
//  1. at least one from a log Qualified, Usable or ReadOnly at the time of
//     check; and
//  2. SCTs from at least N distinct logs that were Qualified, Usable,
//     ReadOnly or Retired at the time of check, N being 2 for a lifetime
//     (notAfter − notBefore) of 180 days or less and 3 above; and
//  3. among those, SCTs from at least two distinct log operators.
//
// SCTs delivered by OCSP or TLS (the stapled response and the TLS
// extension, together):
//  1. at least two from logs Qualified, Usable or ReadOnly at the time of
//     check; and
//  2. among those, SCTs from at least two distinct log operators.
//
// An SCT from a Retired log counts only if it was issued before the log's
// retirement ("Important Notes"). Chrome compares the earliest SCT presented
// with the retirement time; this implementation compares each SCT's own
// timestamp, which is stricter only for a certificate logged across a
// retirement. The operator of a log is the one at the SCT's time, taking
// previous_operators into account. Certificates issued before 15 April 2022
// are judged by the same rules: under the old rules' 398-day maximum
// lifetime, every such certificate has expired.
//
// Log temporal intervals (temporal_interval) play no part, as in Chrome:
// its policy counts SCTs by log state only, and temporal sharding is
// enforced by the logs, which must refuse certificates that expire outside
// their interval (Chrome's CT Log Policy, "Temporal Sharding"); Chrome's own
// log data carries no interval.
func ChromePolicy() Policy { return Policy{chromePolicy{}} }

type chromePolicy struct{}

func (chromePolicy) name() string       { return "chrome" }
func (chromePolicy) admits(l *Log) bool { return publicLog(l) }
func (chromePolicy) intervals() bool    { return false }
func (p chromePolicy) evaluate(leaf *x509.Certificate, cands []candidate) Verdict {
	lifetime := leaf.NotAfter.Sub(leaf.NotBefore)
	n := 3
	if lifetime <= 180*24*time.Hour {
		n = 2
	}
	var emb, other []candidate
	for _, c := range cands {
		if c.source == SourceEmbedded {
			emb = append(emb, c)
		} else if c.acceptedNow {
			other = append(other, c)
		}
	}
	embLogs := distinctLogs(emb, nil)
	return verdict("chrome", describeLifetime(lifetime),
		alternative(altEmbedded,
			req("logs", "embedded SCTs from distinct logs Qualified, Usable, ReadOnly or Retired (SCT before retirement)", n, embLogs),
			req("accepted now", "embedded SCTs from a log Qualified, Usable or ReadOnly now", 1, distinctLogs(emb, func(c candidate) bool { return c.acceptedNow })),
			req("operators", "distinct log operators among them", 2, distinctOperators(emb)),
		),
		alternative(altTLSOCSP,
			req("logs", "TLS-extension or OCSP SCTs from distinct logs Qualified, Usable or ReadOnly now", 2, distinctLogs(other, nil)),
			req("operators", "distinct log operators among them", 2, distinctOperators(other)),
		),
	)
}

// ApplePolicy returns Apple's CT policy as published at
// https://support.apple.com/en-us/103214. A certificate complies when it has
// SCTs from at least two logs once or currently approved at the time of
// check, and either:
//
// TLS/OCSP: at least two SCTs from distinct currently approved logs, with
// at least one of them presented via the TLS extension or OCSP stapling; or
//
// Embedded: at least one embedded SCT from a currently approved log, and
// embedded SCTs from at least N distinct once or currently approved logs,
// counting at most M per log operator:
//
//	certificate lifetime   N (distinct logs)   M (max per operator)
//	180 days or less       2                   1
//	181 days or more       3                   2
//
// In both cases at least one counted SCT must come from a log compliant
// with RFC 6962 (listed under "logs", not "tiled_logs"). The lifetime is
// measured as RFC 5280 4.1.2.5 defines validity, "from notBefore through
// notAfter, inclusive", in days of 86,400 seconds, any part of a day
// counting as a day. Apple's table ends at 398 days, the longest lifetime
// its platforms accept; longer lifetimes are held to the 181-398 day row.
//
// "Currently approved" is read as Qualified, Usable or ReadOnly at the time
// of check, and "once approved" as Retired with the SCT issued before the
// retirement, the states of Apple's log program
// (https://support.apple.com/en-us/103703), which Apple's log list shares
// with Chrome's. Apple devices stop enforcing after 60 days without a list
// update; WithMaxListAge(60*24*time.Hour) matches that.
//
// Unlike Chrome, Apple's clients enforce log temporal intervals themselves
// (Apple, on the ct-policy list, proposing an "Expired" log state:
// "temporal intervals are enforced locally by clients"): an SCT from a log
// with a temporal_interval counts only if the certificate's notAfter is
// within [start_inclusive, end_exclusive); otherwise it is reported as not
// counted.
func ApplePolicy() Policy { return Policy{applePolicy{}} }

type applePolicy struct{}

func (applePolicy) name() string       { return "apple" }
func (applePolicy) admits(l *Log) bool { return publicLog(l) }
func (applePolicy) intervals() bool    { return true }
func (p applePolicy) evaluate(leaf *x509.Certificate, cands []candidate) Verdict {
	days := appleLifetimeDays(leaf)
	n, perOp := 3, 2
	if days <= 180 {
		n, perOp = 2, 1
	}
	lifetime := fmt.Sprintf("%d days (inclusive)", days)
	rfc6962 := func(c candidate) bool { return !c.log.Tiled }
	now := func(c candidate) bool { return c.acceptedNow }

	// TLS/OCSP alternative: over every source, logs currently approved.
	var approved []candidate
	for _, c := range cands {
		if c.acceptedNow {
			approved = append(approved, c)
		}
	}
	tls := alternative(altTLSOCSP,
		req("logs", "SCTs from distinct logs currently approved (any source)", 2, distinctLogs(approved, nil)),
		req("via TLS/OCSP", "of which presented via the TLS extension or OCSP stapling", 1, distinctLogs(approved, func(c candidate) bool { return c.source != SourceEmbedded })),
		req("RFC 6962 logs", "from an RFC 6962 log", 1, distinctLogs(approved, rfc6962)),
	)

	var emb []candidate
	for _, c := range cands {
		if c.source == SourceEmbedded {
			emb = append(emb, c)
		}
	}
	reqs := []Requirement{
		req("logs", fmt.Sprintf("embedded SCTs from distinct logs once or currently approved, at most %d per operator", perOp), n, capped(uniqueByLog(emb), perOp)),
		req("approved now", "embedded SCTs from a currently approved log", 1, distinctLogs(emb, now)),
		req("RFC 6962 logs", "embedded SCTs from an RFC 6962 log", 1, distinctLogs(emb, rfc6962)),
	}
	embAlt := alternative(altEmbedded, reqs...)
	if embAlt.Met && bestSelection(uniqueByLog(emb), perOp, now, rfc6962) < n {
		// Each rule holds on its own, but the per-operator cap keeps
		// them from holding in one selection of SCTs.
		embAlt = alternative(altEmbedded, append(reqs,
			req("logs together", fmt.Sprintf("one selection of %d SCTs meeting all the rules above together", n), n, bestSelection(uniqueByLog(emb), perOp, now, rfc6962)))...)
	}
	return verdict("apple", lifetime, embAlt, tls)
}

// appleLifetimeDays is the certificate's validity period, notBefore through
// notAfter inclusive (so one second more than their difference), in days of
// 86,400 seconds, rounded up.
//
// Sub saturates for validity periods beyond about 292 years, and nothing
// here adds to a Duration that could be the maximum: such a certificate
// counts as 106,752 days, never wraps to a short lifetime.
func appleLifetimeDays(leaf *x509.Certificate) int {
	d := leaf.NotAfter.Sub(leaf.NotBefore)
	if d < 0 {
		if d+time.Second <= 0 { // d < 0: no overflow
			return 0
		}
		return 1
	}
	const day = 24 * time.Hour
	days := d / day
	rest := d%day + time.Second // < a day and a second: no overflow
	days += rest / day
	if rest%day != 0 {
		days++
	}
	return int(days)
}

// AtLeast returns a policy for private deployments and custom lists: SCTs
// (from any source) from at least n distinct logs that are Qualified, Usable
// or ReadOnly at the time of check, or Retired after issuing the SCT, run
// by at least operators distinct operators. Logs of every log_type count,
// and temporal intervals are not checked.
// n must be at least 1 and operators between 1 and n; otherwise the
// verifier fails every check with an error naming the mistake.
func AtLeast(n, operators int) Policy { return Policy{atLeast{n, operators}} }

type atLeast struct{ n, ops int }

func (p atLeast) name() string {
	return fmt.Sprintf("at-least(%d SCTs, %d operators)", p.n, p.ops)
}
func (atLeast) admits(*Log) bool { return true }
func (atLeast) intervals() bool  { return false }

func (p atLeast) valid() error {
	if p.n < 1 || p.ops < 1 || p.ops > p.n {
		return fmt.Errorf("ct: AtLeast(%d, %d): want at least 1 SCT and between 1 and %d operators", p.n, p.ops, max(p.n, 1))
	}
	return nil
}

func (p atLeast) evaluate(leaf *x509.Certificate, cands []candidate) Verdict {
	return verdict(p.name(), describeLifetime(leaf.NotAfter.Sub(leaf.NotBefore)),
		alternative(altAny,
			req("logs", "SCTs from distinct accepted logs (any source)", p.n, distinctLogs(cands, nil)),
			req("operators", "distinct log operators among them", p.ops, distinctOperators(cands)),
		),
	)
}

func describeLifetime(d time.Duration) string {
	days := d / (24 * time.Hour)
	rest := d % (24 * time.Hour)
	if rest == 0 {
		return fmt.Sprintf("%d days", days)
	}
	return fmt.Sprintf("%d days %s", days, rest)
}

// distinctLogs counts the distinct logs of the candidates that satisfy
// keep (all when nil). Candidates are few (at most MaxSCTs): a linear scan
// beats a map.
func distinctLogs(cands []candidate, keep func(candidate) bool) int {
	n := 0
	for i, c := range cands {
		if keep != nil && !keep(c) {
			continue
		}
		dup := false
		for _, p := range cands[:i] {
			if p.log == c.log && (keep == nil || keep(p)) {
				dup = true
				break
			}
		}
		if !dup {
			n++
		}
	}
	return n
}

func distinctOperators(cands []candidate) int {
	n := 0
	for i, c := range cands {
		dup := false
		for _, p := range cands[:i] {
			if p.operator == c.operator {
				dup = true
				break
			}
		}
		if !dup {
			n++
		}
	}
	return n
}

// uniqueByLog keeps one candidate per log, preferring one from a log
// accepted now.
func uniqueByLog(cands []candidate) []candidate {
	idx := make(map[*Log]int, len(cands))
	var out []candidate
	for _, c := range cands {
		if i, ok := idx[c.log]; ok {
			if c.acceptedNow && !out[i].acceptedNow {
				out[i] = c
			}
			continue
		}
		idx[c.log] = len(out)
		out = append(out, c)
	}
	return out
}

// capped counts the candidates (one per log) that count when at most perOp
// may come from one operator.
func capped(cands []candidate, perOp int) int {
	per := map[string]int{}
	total := 0
	for _, c := range cands {
		if per[c.operator] < perOp {
			per[c.operator]++
			total++
		}
	}
	return total
}

// bestSelection is the size of the largest set of candidates (one per log)
// with at most perOp per operator that contains, for each of needs, at least
// one candidate satisfying it; 0 when no such set exists. It tries each pair
// of witnesses for the two needs, then fills up greedily: the candidates
// are few (bounded by MaxSCTs).
func bestSelection(cands []candidate, perOp int, needA, needB func(candidate) bool) int {
	best := 0
	for i, a := range cands {
		if !needA(a) {
			continue
		}
		for j, b := range cands {
			if !needB(b) {
				continue
			}
			per := map[string]int{a.operator: 1}
			size := 1
			if j != i {
				if per[b.operator] >= perOp {
					continue
				}
				per[b.operator]++
				size++
			}
			for k, c := range cands {
				if k == i || k == j {
					continue
				}
				if per[c.operator] < perOp {
					per[c.operator]++
					size++
				}
			}
			best = max(best, size)
		}
	}
	return best
}
