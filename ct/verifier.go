package ct

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/ocspcheck"
)

// Source is where an SCT came from.
type Source string

// SCT sources.
const (
	// SourceEmbedded: the certificate's SCT list extension, verified as a
	// precert_entry.
	SourceEmbedded Source = "embedded"
	// SourceTLS: the signed_certificate_timestamp TLS extension, verified
	// as an x509_entry.
	SourceTLS Source = "tls"
	// SourceOCSP: the SCT list single extension of the stapled OCSP
	// response, verified as an x509_entry.
	SourceOCSP Source = "ocsp"
)

// SCTStatus is what became of one SCT.
type SCTStatus string

// SCT statuses. Only StatusValid SCTs count towards the policy.
const (
	StatusValid                SCTStatus = "valid"                 // verified, and counted
	StatusNotCounted           SCTStatus = "not_counted"           // verified, but its log does not count (Reason says why)
	StatusBadSignature         SCTStatus = "bad_signature"         // the signature does not verify
	StatusUnknownLog           SCTStatus = "unknown_log"           // the log is not in the list
	StatusFuture               SCTStatus = "future"                // timestamp after the time of check
	StatusUnsupportedVersion   SCTStatus = "unsupported_version"   // not a v1 SCT
	StatusUnsupportedAlgorithm SCTStatus = "unsupported_algorithm" // not SHA-256 with the log's ECDSA or RSA key
	StatusUnsupportedLogKey    SCTStatus = "unsupported_log_key"   // the list gives the log a key RFC 6962 does not allow
	StatusMalformed            SCTStatus = "malformed"             // the SCT does not parse
	StatusNoIssuer             SCTStatus = "no_issuer"             // an embedded SCT, and no issuer in the chain to verify it with
	StatusIgnored              SCTStatus = "ignored"               // beyond MaxSCTs
)

// SCTResult reports one SCT: where it came from, which log issued it, when,
// and what became of it. It is JSON-friendly.
type SCTResult struct {
	Source Source `json:"source"`
	// Index is the SCT's position in its source.
	Index int   `json:"index"`
	LogID LogID `json:"log_id,omitzero"`
	// Log is the log's description, Operator its operator at the SCT's
	// time, LogState its state at the time of check.
	Log       string    `json:"log,omitempty"`
	Operator  string    `json:"operator,omitempty"`
	LogState  string    `json:"log_state,omitempty"`
	Tiled     bool      `json:"tiled,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	// LeafIndex is the static-ct-api leaf_index extension, when present.
	LeafIndex *uint64 `json:"leaf_index,omitempty"`
	// Extensions are the SCT's raw extensions (base64 in JSON).
	Extensions []byte    `json:"extensions,omitempty"`
	Status     SCTStatus `json:"status"`
	// Reason explains a status other than valid.
	Reason string `json:"reason,omitempty"`
	// Cached reports that the signature verdict came from the cache.
	Cached bool `json:"cached,omitempty"`
}

// LogID is a log's ID, the SHA-256 hash of its key. It encodes in base64,
// as log lists write it.
type LogID [32]byte

func (id LogID) String() string { return b64(id[:]) }

// MarshalText encodes the ID in base64.
func (id LogID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// ListInfo describes the log list a verdict was reached with.
type ListInfo struct {
	Version   string    `json:"version,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Age is the list's age at the time of check, MaxAge the configured
	// maximum (zero: none).
	Age    string `json:"age,omitempty"`
	MaxAge string `json:"max_age,omitempty"`
	Stale  bool   `json:"stale"`
	// Future reports a list dated more than a day after the time of check
	// (a wrong clock, a wrong list, or a check at a past time with a newer
	// list). Such a list is still used, and enforced; its age is negative,
	// so it never goes stale. Details.Problems says so too.
	Future bool `json:"future,omitempty"`
}

// Details is the Data of the verifier's Check: every SCT with its status,
// the problems met while collecting them, and the policy verdict.
type Details struct {
	Policy string `json:"policy"`
	// Enforced is false in report-only mode, with a stale list, or without
	// a list: the verdict was then recorded and not acted upon.
	Enforced bool     `json:"enforced"`
	LogList  ListInfo `json:"log_list"`
	// SCTs lists every SCT found, embedded first, then TLS, then OCSP.
	SCTs []SCTResult `json:"scts"`
	// Problems are the things that kept SCTs from being examined: a
	// malformed SCT list, a stapled OCSP response not bound to the
	// certificate...
	Problems []string `json:"problems,omitempty"`
	Verdict  *Verdict `json:"verdict,omitempty"`
}

// PolicyError is an enforced CT policy failure. It wraps
// tlsclient.ErrCTPolicy; Verdict holds every rule with its required and
// found counts, and Required and Found summarise the alternative that came
// closest.
type PolicyError struct {
	Policy   string
	Subject  string
	Verdict  Verdict
	Required int
	Found    int
	// SCTs is the number of SCTs found, Valid how many counted.
	SCTs, Valid int
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ct: %s does not meet the %s CT policy", e.Subject, e.Policy)
	for i, a := range e.Verdict.Alternatives {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(altLabel(a.Name) + " SCTs: ")
		first := true
		for _, r := range a.Requirements {
			if r.Met {
				continue
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			fmt.Fprintf(&b, "%d of %d %s", r.Found, r.Required, r.short)
		}
	}
	fmt.Fprintf(&b, " (%d SCTs, %d counted; the report lists each); the certificate needs SCTs from more logs of the list, or the list lacks the logs it uses (is it current?)", e.SCTs, e.Valid)
	return b.String()
}

// Unwrap makes errors.Is(err, tlsclient.ErrCTPolicy) true.
func (e *PolicyError) Unwrap() error { return tlsclient.ErrCTPolicy }

// ErrNoUsableLogList is wrapped, together with tlsclient.ErrCTPolicy, by the
// error of a check that fails under RequireLogList because the verifier has
// no log list, or only a stale one.
var ErrNoUsableLogList = errors.New("ct: no usable log list")

// listUnusable is the error of a check that RequireLogList fails for want of
// a usable list; it names the source's last error when the source has one
// (a Refresher's Err).
func (v *verifier) listUnusable(why string) error {
	if s, ok := v.source.(interface{ Err() error }); ok {
		if err := s.Err(); err != nil {
			why += " (the log source's last error: " + err.Error() + ")"
		}
	}
	return fmt.Errorf("%w: %s, and RequireLogList makes CT required: %w", ErrNoUsableLogList, why, tlsclient.ErrCTPolicy)
}

// verifier is the CT check. It is safe for concurrent use.
type verifier struct {
	opts   *options
	err    error // a configuration error: every check fails with it
	sigs   *sigCache
	conns  *connCache
	ocsp   *ocspcheck.VerdictCache
	only   *rootScope
	skip   *rootScope
	source LogSource
}

var _ tlsclient.Verifier = (*verifier)(nil)

// New returns a verifier that checks the SCTs of each connection against
// list and the policy (ChromePolicy unless WithPolicy says otherwise), inside
// the handshake: a certificate that does not comply aborts it with a
// *PolicyError wrapping tlsclient.ErrCTPolicy, unless ReportOnly is given.
//
// list is the caller's: see the package documentation on log lists. Pass nil
// with WithLogSource for a list that changes. The verifier caches signature
// verdicts: create it once and share it across dials (one
// tlsclient.Dialer).
func New(list *LogList, opts ...Option) tlsclient.Verifier {
	o := defaultOptions()
	v := &verifier{opts: o}
	for _, opt := range opts {
		if opt == nil {
			v.err = errors.New("ct: nil Option")
			break
		}
		if err := opt(o); err != nil {
			v.err = err
			break
		}
	}
	switch {
	case v.err != nil:
	case list != nil && o.source != nil:
		v.err = errors.New("ct: New was given both a log list and WithLogSource; pass nil as the list")
	case list != nil:
		v.source = list
	case o.source != nil:
		v.source = o.source
	default:
		v.err = errors.New("ct: New: no log list (pass one, loaded with LoadLogList or ParseSignedLogList, or use WithLogSource)")
	}
	v.sigs = newSigCache(o.cacheSize)
	v.conns = newConnCache(max(16, o.cacheSize/16))
	// One staple per certificate, against several SCTs: a quarter of the
	// entries, each at most maxCachedStaple bytes.
	v.ocsp = ocspcheck.NewVerdictCache(max(1, o.cacheSize/4))
	if o.only != nil {
		v.only = newRootScope(o.only)
	}
	if o.skip != nil {
		v.skip = newRootScope(o.skip)
	}
	return v
}

// Name labels the verifier's checks in the Report.
func (*verifier) Name() string { return "ct" }

// Verify checks the connection's SCTs. See New.
func (v *verifier) Verify(_ context.Context, st *tlsclient.State) error {
	if v.err != nil {
		st.Record(tlsclient.Check{Outcome: tlsclient.Fail, Detail: "misconfigured CT verifier", Err: v.err})
		return v.err
	}
	chain := st.Chain()
	if len(chain) == 0 {
		err := fmt.Errorf("ct: no verified chain to check (the State has no VerifiedChains): %w", tlsclient.ErrCTPolicy)
		if v.opts.reportOnly {
			st.Record(tlsclient.Check{Outcome: tlsclient.Warning, Detail: "no verified chain: CT not checked", Err: err})
			return nil
		}
		st.Record(tlsclient.Check{Outcome: tlsclient.Fail, Detail: "no verified chain", Err: err})
		return err
	}
	leaf := chain[0]
	subject := st.CertLabel(leaf)
	now := st.Time()
	if skip, why := v.outOfScope(st.ConnectionState.VerifiedChains, now); skip {
		st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Skip, Detail: why})
		return nil
	}
	list := v.source.LogList()
	if e := v.conns.lookup(list, &st.ConnectionState, now); e != nil {
		st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Pass, Data: e.at(now), Detail: e.detail})
		return nil
	}
	d := &Details{Policy: v.opts.policy.String()}
	if list == nil {
		d.Problems = append(d.Problems, "no log list yet")
		if v.opts.requireList && !v.opts.reportOnly {
			err := v.listUnusable("the log source has no list yet (the first download has not succeeded)")
			st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Fail, Data: d, Err: err,
				Detail: "CT required (RequireLogList), and the log source has no list yet: the first download has not succeeded; see the Refresher's error"})
			return err
		}
		st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Warning, Data: d,
			Detail: "CT not enforced: the log source has no list yet (the first download has not succeeded); see the Refresher's error"})
		return nil
	}
	// Sub saturates for instants centuries apart, and round and the
	// comparisons below take any Duration.
	age := now.Sub(list.Timestamp)
	d.LogList = ListInfo{Version: list.Version, Timestamp: list.Timestamp, Age: round(age)}
	if v.opts.maxAge > 0 {
		d.LogList.MaxAge = round(v.opts.maxAge)
		d.LogList.Stale = age > v.opts.maxAge
	}
	if list.Timestamp.After(now.Add(listClockSkew)) {
		// Decision: recorded, not acted upon. A list from the future still
		// names the logs and their states (judged at the time of check),
		// and enforcing with it fails closed; checking at a past time with
		// a newer list is legitimate. The Refresher refuses such lists, so
		// only a list the caller supplies gets here.
		d.LogList.Future = true
		d.Problems = append(d.Problems, fmt.Sprintf("the log list is dated %s, %s after the time of check: is the clock wrong? (its age cannot be judged: it never goes stale)",
			list.Timestamp.UTC().Format(time.RFC3339), round(-age)))
	}
	cands := v.collect(st, chain, list, now, d)
	verdict := v.opts.policy.p.evaluate(leaf, cands)
	d.Verdict = &verdict
	d.Enforced = !v.opts.reportOnly && !d.LogList.Stale
	summary := summarize(d)
	switch {
	case d.LogList.Stale && v.opts.requireList && !v.opts.reportOnly:
		err := v.listUnusable(fmt.Sprintf("the log list of %s is %s old, more than %s",
			list.Timestamp.UTC().Format(time.RFC3339), d.LogList.Age, d.LogList.MaxAge))
		st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Fail, Data: d, Err: err,
			Detail: fmt.Sprintf("CT required (RequireLogList), and the log list of %s is %s old, more than %s (refresh it, or see WithMaxListAge); %s",
				list.Timestamp.UTC().Format(time.RFC3339), d.LogList.Age, d.LogList.MaxAge, summary)})
		return err
	case d.LogList.Stale:
		st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Warning, Data: d,
			Detail: fmt.Sprintf("CT not enforced: the log list of %s is %s old, more than %s (refresh it, or see WithMaxListAge); %s",
				list.Timestamp.UTC().Format(time.RFC3339), d.LogList.Age, d.LogList.MaxAge, summary)})
		return nil
	case verdict.Compliant:
		st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Pass, Data: d, Detail: summary})
		v.conns.store(list, &st.ConnectionState, now, v.opts.maxAge, d, summary)
		return nil
	}
	perr := newPolicyError(subject, verdict, d)
	if v.opts.reportOnly {
		st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Warning, Data: d, Err: perr, Detail: "report only: " + summary})
		return nil
	}
	st.Record(tlsclient.Check{Subject: subject, Outcome: tlsclient.Fail, Data: d, Err: perr, Detail: summary})
	return perr
}

func newPolicyError(subject string, v Verdict, d *Details) *PolicyError {
	e := &PolicyError{Policy: v.Policy, Subject: subject, Verdict: v, SCTs: len(d.SCTs)}
	for _, s := range d.SCTs {
		if s.Status == StatusValid {
			e.Valid++
		}
	}
	best := -1.0
	for _, a := range v.Alternatives {
		if len(a.Requirements) == 0 {
			continue
		}
		score := 0.0
		for _, r := range a.Requirements {
			if r.Required > 0 {
				score += min(1, float64(r.Found)/float64(r.Required))
			}
		}
		score /= float64(len(a.Requirements))
		if score > best {
			best = score
			e.Required, e.Found = a.Requirements[0].Required, a.Requirements[0].Found
			for _, r := range a.Requirements {
				if !r.Met {
					e.Required, e.Found = r.Required, r.Found
					break
				}
			}
		}
	}
	return e
}

// summarize is the one-line Detail of the check. It runs on every
// handshake, so it appends rather than formats.
func summarize(d *Details) string {
	b := make([]byte, 0, 256)
	v := d.Verdict
	counts := func(reqs []Requirement, onlyUnmet bool) {
		first := true
		for _, r := range reqs {
			if onlyUnmet && r.Met {
				continue
			}
			if !first {
				b = append(b, ", "...)
			}
			first = false
			b = strconv.AppendInt(b, int64(r.Found), 10)
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(r.Required), 10)
			b = append(b, ' ')
			b = append(b, r.short...)
		}
	}
	b = append(b, v.Policy...)
	if v.Compliant {
		for _, a := range v.Alternatives {
			if a.Name == v.SatisfiedBy {
				b = append(b, " policy met by "...)
				b = append(b, altLabel(a.Name)...)
				b = append(b, " SCTs ("...)
				counts(a.Requirements, false)
				b = append(b, ')')
			}
		}
	} else {
		b = append(b, " policy not met"...)
		for _, a := range v.Alternatives {
			b = append(b, "; "...)
			b = append(b, altLabel(a.Name)...)
			b = append(b, ": "...)
			counts(a.Requirements, true)
		}
	}
	b = append(b, "; "...)
	b = strconv.AppendInt(b, int64(len(d.SCTs)), 10)
	b = append(b, " SCTs"...)
	// Statuses by count, valid first, then in order of appearance.
	var order [16]SCTStatus
	var n [16]int
	k := 0
	for _, s := range d.SCTs {
		i := 0
		for i < k && order[i] != s.Status {
			i++
		}
		if i == k {
			if k == len(order) {
				continue
			}
			order[k] = s.Status
			k++
		}
		n[i]++
	}
	sep := ": "
	for pass := range 2 {
		for i := range k {
			if (order[i] == StatusValid) != (pass == 0) {
				continue
			}
			b = append(b, sep...)
			sep = ", "
			b = strconv.AppendInt(b, int64(n[i]), 10)
			b = append(b, ' ')
			for _, c := range []byte(order[i]) {
				if c == '_' {
					c = ' '
				}
				b = append(b, c)
			}
		}
	}
	for _, p := range d.Problems {
		b = append(b, "; "...)
		b = append(b, p...)
	}
	return string(b)
}

func altLabel(name string) string {
	switch name {
	case altTLSOCSP:
		return "TLS/OCSP"
	case altAny:
		return "all"
	}
	return name
}

// round writes d in days and hours, or below a day to the second. It takes
// any Duration, including the saturated ones time.Time.Sub returns for
// instants centuries apart: the magnitude is computed in uint64, where
// -math.MinInt64 does not overflow, and nothing recurses.
func round(d time.Duration) string {
	sign, u := "", uint64(d)
	if d < 0 {
		sign, u = "-", -u // two's complement: the magnitude, even of MinInt64
	}
	const day, hour = uint64(24 * time.Hour), uint64(time.Hour)
	days, hours := u/day, u%day/hour
	switch {
	case days >= 1 && hours > 0:
		return fmt.Sprintf("%s%dd%dh", sign, days, hours)
	case days >= 1:
		return fmt.Sprintf("%s%dd", sign, days)
	}
	return sign + time.Duration(u).Truncate(time.Second).String() // u < a day: no overflow
}

// handshake holds what the SCTs of one connection are checked against.
type handshake struct {
	leaf       *x509.Certificate
	leafHash   [32]byte
	issuers    [][32]byte // SHA-256 of each distinct issuer SPKI of the verified chains
	tbs        []byte     // the precert TBS, built on first need
	tbsErr     error
	list       *LogList
	now        time.Time
	nowMillis  uint64
	seen       map[seenKey]bool // (source, log) pairs already counted
	candidates []candidate
	key        []byte // scratch space for cache keys
}

type seenKey struct {
	source Source
	log    *Log
}

// collect examines every SCT of the connection, records it in d and returns
// those that count.
func (v *verifier) collect(st *tlsclient.State, chain []*x509.Certificate, list *LogList, now time.Time, d *Details) []candidate {
	h := &handshake{leaf: chain[0], list: list, now: now, leafHash: sha256.Sum256(chain[0].Raw)}
	if ms := now.UnixMilli(); ms > 0 {
		h.nowMillis = uint64(ms)
	}
	for _, c := range st.ConnectionState.VerifiedChains {
		if len(c) < 2 {
			continue
		}
		kh := sha256.Sum256(c[1].RawSubjectPublicKeyInfo)
		dup := false
		for _, k := range h.issuers {
			dup = dup || k == kh
		}
		if !dup {
			h.issuers = append(h.issuers, kh)
		}
	}
	budget := MaxSCTs
	h.key = make([]byte, 0, 256)
	d.SCTs = make([]SCTResult, 0, 4)
	h.candidates = make([]candidate, 0, 4)
	examine := func(src Source, scts [][]byte) {
		for i, b := range scts {
			if budget == 0 {
				d.SCTs = append(d.SCTs, SCTResult{Source: src, Index: i, Status: StatusIgnored,
					Reason: fmt.Sprintf("more than %d SCTs in the connection: not examined", MaxSCTs)})
				continue
			}
			budget--
			d.SCTs = append(d.SCTs, v.check(h, src, i, b))
		}
	}
	// Embedded SCTs.
	for _, e := range h.leaf.Extensions {
		if !e.Id.Equal(OIDSCTList) {
			continue
		}
		scts, err := parseSCTListExtension(e.Value)
		if err != nil {
			d.Problems = append(d.Problems, "embedded SCT list ignored: "+err.Error())
			break
		}
		examine(SourceEmbedded, scts)
		break
	}
	// The TLS extension.
	examine(SourceTLS, st.ConnectionState.SignedCertificateTimestamps)
	// The stapled OCSP response.
	if staple := st.ConnectionState.OCSPResponse; len(staple) > 0 {
		if scts, problem := v.ocspSCTs(staple, chain, now); problem != "" {
			d.Problems = append(d.Problems, problem)
		} else {
			examine(SourceOCSP, scts)
		}
	}
	return h.candidates
}

// ocspSCTs returns the SCTs of the stapled OCSP response's SingleResponse
// for the leaf. They are taken only from a response that ocspcheck.Check
// accepts: bound to the leaf by its full CertID and signed by the issuer or
// a responder it authorised. A stale response still vouches for its SCTs
// (they are promises about the certificate, not about its status), so
// freshness is not required. Without that binding a server could staple any
// response carrying SCTs; they would not verify for this certificate anyway,
// but refusing them up front keeps the report honest and the work bounded.
func (v *verifier) ocspSCTs(staple []byte, chain []*x509.Certificate, now time.Time) ([][]byte, string) {
	if len(chain) < 2 {
		if ocspHasSCTs(staple) {
			return nil, "SCTs in the stapled OCSP response ignored: the chain has no issuer to check the response against"
		}
		return nil, ""
	}
	cache := v.ocsp
	if len(staple) > maxCachedStaple {
		cache = nil // not a real staple: validated every time, never kept
	}
	r, _, err := cache.Validate(staple, chain[0], chain[1], now, ocspcheck.Options{})
	if r == nil {
		if ocspHasSCTs(staple) {
			return nil, fmt.Sprintf("SCTs in the stapled OCSP response ignored: the response is not bound to the certificate or not validly signed (%v)", err)
		}
		return nil, ""
	}
	for _, e := range r.Single.Extensions {
		if e.Id.Equal(OIDOCSPSCTList) {
			scts, err := parseSCTListExtension(e.Value)
			if err != nil {
				return nil, "SCT list of the stapled OCSP response ignored: " + err.Error()
			}
			return scts, ""
		}
	}
	return nil, ""
}

func ocspHasSCTs(der []byte) bool {
	resp, err := ocspcheck.Parse(der)
	if err != nil {
		return false
	}
	for _, s := range resp.Responses {
		for _, e := range s.Extensions {
			if e.Id.Equal(OIDOCSPSCTList) {
				return true
			}
		}
	}
	return false
}

// check examines one SCT: parse, log lookup, time, signature (cached), and
// whether its log counts.
func (v *verifier) check(h *handshake, src Source, index int, raw []byte) SCTResult {
	res := SCTResult{Source: src, Index: index}
	var sct SCT
	if err := parseSCT(raw, &sct); err != nil {
		res.Status, res.Reason = StatusMalformed, err.Error()
		if errors.Is(err, ErrUnsupportedVersion) {
			res.Status = StatusUnsupportedVersion
		}
		return res
	}
	res.LogID = LogID(sct.LogID)
	res.Timestamp = sct.Time()
	if len(sct.Extensions) > 0 {
		res.Extensions = sct.Extensions
	}
	if li, ok := sct.LeafIndex(); ok {
		res.LeafIndex = &li
	}
	log := h.list.Lookup(sct.LogID)
	if log == nil {
		res.Status, res.Reason = StatusUnknownLog, "the log is not in the log list"
		return res
	}
	res.Log, res.Tiled = log.Description, log.Tiled
	res.Operator = log.OperatorAt(res.Timestamp)
	res.LogState = log.StateAt(h.now).String()
	if log.KeyErr != nil {
		res.Status, res.Reason = StatusUnsupportedLogKey, log.KeyErr.Error()
		return res
	}
	if sct.Timestamp > h.nowMillis {
		res.Status = StatusFuture
		res.Reason = fmt.Sprintf("timestamp %s is after the time of check %s", res.Timestamp.Format(time.RFC3339Nano), h.now.UTC().Format(time.RFC3339))
		return res
	}
	res.Status, res.Reason, res.Cached = v.verifySCT(h, src, &sct, raw, log)
	if res.Status != StatusValid {
		return res
	}
	// The signature is good: does the log count, for this policy, now?
	policy := v.opts.policy.p
	switch {
	case !policy.admits(log):
		res.Status, res.Reason = StatusNotCounted, fmt.Sprintf("a %s log, which the %s policy does not accept", log.Type, policy.name())
	case policy.intervals() && !log.covers(h.leaf.NotAfter):
		res.Status, res.Reason = StatusNotCounted, fmt.Sprintf("the certificate expires at %s, outside the log's temporal interval [%s, %s), which the %s policy enforces",
			h.leaf.NotAfter.UTC().Format(time.RFC3339), log.Interval.Start.UTC().Format(time.RFC3339), log.Interval.End.UTC().Format(time.RFC3339), policy.name())
	case !log.countsAt(h.now, res.Timestamp):
		res.Status, res.Reason = StatusNotCounted, notCountedReason(log, h.now)
	case h.seen[seenKey{src, log}]:
		res.Status, res.Reason = StatusNotCounted, "duplicate: another SCT from this log in the same source is counted"
	default:
		if h.seen == nil {
			h.seen = map[seenKey]bool{}
		}
		h.seen[seenKey{src, log}] = true
		h.candidates = append(h.candidates, candidate{
			log: log, source: src, time: res.Timestamp, operator: res.Operator, acceptedNow: log.acceptedAt(h.now),
		})
	}
	return res
}

func notCountedReason(l *Log, now time.Time) string {
	s := l.StateAt(now)
	switch s {
	case StateRetired:
		return fmt.Sprintf("the log retired at %s, before this SCT was issued", l.StateSince.UTC().Format(time.RFC3339))
	case StateNone:
		if l.State != StateNone {
			return fmt.Sprintf("the log entered state %s at %s, after the time of check, and its earlier state is not known", l.State, l.StateSince.UTC().Format(time.RFC3339))
		}
		return "the log has no state in the list"
	case StateUnknown:
		return fmt.Sprintf("the log is in state %q, which this package does not know", l.StateName)
	}
	return fmt.Sprintf("the log is %s at the time of check (only qualified, usable, readonly, or retired after the SCT, count)", s)
}

// verifySCT checks the signature, through the cache. Embedded SCTs are
// precert entries: the TBS rebuilt without the SCT list, and the issuer key
// hash of an issuer from the verified chains; the others are x509 entries
// over the leaf.
//
// Only SCTs of at most maxCachedSCT bytes are cached, and only verdicts a
// signature verification decided (valid, bad signature): a larger SCT is
// not a real one, and is verified again on each handshake, so that a
// hostile server cannot fill the cache with large junk.
func (v *verifier) verifySCT(h *handshake, src Source, sct *SCT, raw []byte, log *Log) (SCTStatus, string, bool) {
	cacheable := len(raw) <= maxCachedSCT
	if src != SourceEmbedded {
		if !cacheable {
			vd := verifyEntry(log, sct, x509Entry, nil, h.leaf.Raw)
			return vd.status, vd.reason, false
		}
		key := sigKey(h.key[:0], x509Entry, &h.leafHash, nil, raw)
		h.key = key
		if vd, ok := v.sigs.get(key); ok {
			return vd.status, vd.reason, true
		}
		vd := verifyEntry(log, sct, x509Entry, nil, h.leaf.Raw)
		v.sigs.put(key, vd)
		return vd.status, vd.reason, false
	}
	if len(h.issuers) == 0 {
		return StatusNoIssuer, "the certificate is itself the trust anchor: there is no issuer key to verify an embedded SCT with", false
	}
	var last sigVerdict
	for i := range h.issuers {
		var key []byte
		if cacheable {
			key = sigKey(h.key[:0], precertEntry, &h.leafHash, &h.issuers[i], raw)
			h.key = key
			if vd, ok := v.sigs.get(key); ok {
				if vd.status == StatusValid || i == len(h.issuers)-1 {
					return vd.status, vd.reason, true
				}
				last = vd
				continue
			}
		}
		if h.tbs == nil && h.tbsErr == nil {
			h.tbs, h.tbsErr = precertTBS(h.leaf.RawTBSCertificate)
		}
		if h.tbsErr != nil {
			return StatusMalformed, h.tbsErr.Error(), false
		}
		last = verifyEntry(log, sct, precertEntry, &h.issuers[i], h.tbs)
		if cacheable {
			v.sigs.put(key, last)
		}
		if last.status == StatusValid {
			return last.status, last.reason, false
		}
	}
	return last.status, last.reason, false
}

func verifyEntry(log *Log, sct *SCT, entryType uint16, issuerKeyHash *[32]byte, entry []byte) sigVerdict {
	data, err := signedData(sct, entryType, issuerKeyHash, entry)
	if err != nil {
		return sigVerdict{StatusMalformed, err.Error()}
	}
	switch err := verifySignature(log.Key, sct, data); {
	case err == nil:
		return sigVerdict{StatusValid, ""}
	case errors.Is(err, errAlgorithm):
		return sigVerdict{StatusUnsupportedAlgorithm, err.Error()}
	}
	what := "the certificate"
	if entryType == precertEntry {
		what = "the precertificate rebuilt from the certificate with the issuer's key hash"
	}
	return sigVerdict{StatusBadSignature, "the log's signature does not verify over " + what}
}

// sigKey appends to buf the cache key of an SCT's verdict: the entry type,
// the SHA-256 of the certificate, the issuer key hash (zero for X.509
// entries) and the SCT itself. The log key is fixed by the log ID inside
// the SCT, which ParseLogList checks is the hash of the key.
func sigKey(buf []byte, entryType byte, leafHash, issuerKeyHash *[32]byte, sct []byte) []byte {
	buf = append(buf[:0], entryType)
	buf = append(buf, leafHash[:]...)
	if issuerKeyHash != nil {
		buf = append(buf, issuerKeyHash[:]...)
	} else {
		buf = append(buf, make([]byte, 32)...)
	}
	return append(buf, sct...)
}

// outOfScope applies OnlyForRoots and SkipRoots to the verified chains.
func (v *verifier) outOfScope(chains [][]*x509.Certificate, now time.Time) (bool, string) {
	if v.only == nil && v.skip == nil {
		return false, ""
	}
	var roots []*x509.Certificate
	for _, c := range chains {
		if len(c) > 0 {
			roots = append(roots, c[len(c)-1])
		}
	}
	if len(roots) == 0 {
		return false, ""
	}
	if v.only != nil {
		in := false
		for _, r := range roots {
			in = in || v.only.contains(r, now)
		}
		if !in {
			return true, fmt.Sprintf("CT not enforced: the chain ends in %s, outside the roots given to OnlyForRoots", tlsclient.CertLabel(roots[0]))
		}
	}
	if v.skip != nil {
		all := true
		for _, r := range roots {
			all = all && v.skip.contains(r, now)
		}
		if all {
			return true, fmt.Sprintf("CT not enforced: the chain ends in %s, one of the roots given to SkipRoots", tlsclient.CertLabel(roots[0]))
		}
	}
	return false, ""
}
