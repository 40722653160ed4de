package tlsclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"time"
)

// A Verifier is a check that runs after crypto/tls has validated the chain
// and the host name, inside tls.Config.VerifyConnection, so that an error
// aborts the handshake. Verifiers run in the order they were given.
//
// A Verifier records what it did with State.Record, including skips and
// warnings; it returns nil to pass. It may also implement Name() string, which
// labels its checks in the Report.
//
// A Verifier can be called on its own with a hand-built State, to check a
// saved chain, a stapled response or a CRL offline.
type Verifier interface {
	Verify(ctx context.Context, st *State) error
}

// VerifierFunc returns a Verifier named name that calls f, for checks that
// need no state of their own.
func VerifierFunc(name string, f func(ctx context.Context, st *State) error) Verifier {
	return &funcVerifier{name: name, f: f}
}

type funcVerifier struct {
	name string
	f    func(context.Context, *State) error
}

func (v *funcVerifier) Name() string { return v.name }

func (v *funcVerifier) Verify(ctx context.Context, st *State) error {
	if v.f == nil {
		return fmt.Errorf("tlsclient: verifier %s has no function", v.name)
	}
	return v.f(ctx, st)
}

// State is what a Verifier sees: the connection after chain validation, and
// the time to judge it at.
type State struct {
	// ConnectionState is the state crypto/tls passed to VerifyConnection:
	// VerifiedChains, PeerCertificates, OCSPResponse,
	// SignedCertificateTimestamps, DidResume, ServerName...
	ConnectionState tls.ConnectionState
	// Now is the time every check uses: the Dialer's clock (WithTime) at
	// the moment of verification. When zero, Time returns the current time.
	Now time.Time

	infos   *certInfos // the Dialer's memo of certificate descriptions, if any
	observe Observer   // the Dialer's observers, nil when none (see Emit)
	server  string     // the Report's ServerName, for Events

	mu      sync.Mutex // guards checks and current
	checks  []Check
	current string
}

// CertLabel returns the label checks use for a certificate (see the
// package-level CertLabel), remembered across handshakes of a Dialer.
func (s *State) CertLabel(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	if s.infos == nil {
		return certLabel(c)
	}
	info := s.infos.describe(c)
	if info.Subject != "" {
		return info.Subject
	}
	return "serial " + info.Serial
}

// Time returns Now, or the current time when Now is zero (hand-built States).
func (s *State) Time() time.Time {
	if s.Now.IsZero() {
		return time.Now()
	}
	return s.Now
}

// Chain returns the first verified chain, leaf first, or nil when there is
// none (crypto/tls always provides one to VerifyConnection once the chain
// was validated).
func (s *State) Chain() []*x509.Certificate {
	if len(s.ConnectionState.VerifiedChains) == 0 {
		return nil
	}
	return s.ConnectionState.VerifiedChains[0]
}

// Record adds a check to the report. It is safe to call from several
// goroutines. When c.Verifier is empty it is set to the name of the verifier
// being run.
func (s *State) Record(c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Verifier == "" {
		c.Verifier = s.current
	}
	if c.Err != nil && c.Error == "" {
		c.Error = c.Err.Error()
	}
	s.checks = append(s.checks, c)
}

// Checks returns a copy of the checks recorded so far.
func (s *State) Checks() []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Check(nil), s.checks...)
}

// takeChecks hands the recorded checks over to the report, without a copy:
// the engine's State is not used afterwards.
func (s *State) takeChecks() []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.checks
	s.checks = nil
	return c
}

func (s *State) setCurrent(name string) (recorded int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = name
	return len(s.checks)
}

func (s *State) failedSince(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.checks[n:] {
		if c.Outcome == Fail {
			return true
		}
	}
	return false
}

func (s *State) countSince(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.checks) - n
}

// Outcome is how a check ended.
type Outcome uint8

// Outcomes. The zero value is not a valid outcome.
const (
	Pass    Outcome = iota + 1 // the check ran and the connection satisfies it
	Fail                       // the check ran and the connection is refused
	Skip                       // the check did not apply (recorded with the reason)
	Warning                    // the check could not decide and was configured not to abort
)

var outcomeNames = [...]string{Pass: "pass", Fail: "fail", Skip: "skip", Warning: "warning"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// MarshalText encodes the outcome as "pass", "fail", "skip" or "warning".
func (o Outcome) MarshalText() ([]byte, error) {
	if int(o) >= len(outcomeNames) || outcomeNames[o] == "" {
		return nil, fmt.Errorf("tlsclient: invalid outcome %d", uint8(o))
	}
	return []byte(outcomeNames[o]), nil
}

// UnmarshalText decodes what MarshalText produces.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if n != "" && n == string(b) {
			*o = Outcome(i)
			return nil
		}
	}
	return fmt.Errorf("tlsclient: unknown outcome %q", b)
}

// Check is one entry of a Report: what one verifier decided about one
// certificate or aspect of the connection.
type Check struct {
	// Verifier names the check: "chain", "hostname", "staple", or the
	// verifier's Name().
	Verifier string `json:"verifier"`
	// Subject is the certificate (or other scope) the check is about.
	Subject string `json:"subject,omitempty"`
	// Outcome is pass, fail, skip or warning.
	Outcome Outcome `json:"outcome"`
	// Detail says in a few words what was found.
	Detail string `json:"detail"`
	// Source is where the answer came from (for example "staple", "ocsp",
	// "crl", "cache"), when that matters.
	Source string `json:"source,omitempty"`
	// URL is the address that was consulted, if any.
	URL string `json:"url,omitempty"`
	// Elapsed is how long the check took, when it did I/O.
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
	// Err is the error behind a fail or warning. Error is its text, for
	// JSON; Record fills it in.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
	// Data holds verifier-specific details (for example per-SCT results)
	// in a JSON-friendly form.
	Data any `json:"data,omitempty"`
}

// Report says what was checked for one connection and how each check ended.
// It encodes to JSON with stable, snake_case field names.
type Report struct {
	// Address is the network address dialled, when known.
	Address string `json:"address,omitempty"`
	// ServerName is the name sent in SNI and verified against the
	// certificate (an IP literal is verified against IP SANs, no SNI).
	ServerName string `json:"server_name"`
	// Time is the time the chain and every verifier were judged at.
	Time        time.Time `json:"time"`
	Version     string    `json:"version,omitempty"`
	CipherSuite string    `json:"cipher_suite,omitempty"`
	ALPN        string    `json:"alpn,omitempty"`
	Resumed     bool      `json:"resumed"`
	// Chain is the verified chain, leaf first; when verification failed it
	// is the chain the server sent.
	Chain  []CertInfo `json:"chain,omitempty"`
	Checks []Check    `json:"checks"`
}

// CertInfo describes one certificate of a chain.
type CertInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"` // upper-case hex, "-" prefixed when negative
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	KeyType   string    `json:"key_type"` // "ECDSA P-256", "RSA 2048", "Ed25519"
	DNSNames  []string  `json:"dns_names,omitempty"`
	IPs       []string  `json:"ip_addresses,omitempty"`
	SHA256    string    `json:"sha256"` // fingerprint of the DER certificate
	Pin       Pin       `json:"pin"`    // public key pin, "sha256/BASE64" (see ParsePin)
}

// OK reports whether no check failed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if c.Outcome == Fail {
			return false
		}
	}
	return true
}

// Find returns the checks with the given outcome.
func (r *Report) Find(o Outcome) []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Outcome == o {
			out = append(out, c)
		}
	}
	return out
}

// String renders the report for people, one line per certificate and check.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server:   %s", r.ServerName)
	if r.Address != "" {
		fmt.Fprintf(&b, " (%s)", r.Address)
	}
	b.WriteByte('\n')
	if r.Version != "" {
		fmt.Fprintf(&b, "protocol: %s, %s", r.Version, r.CipherSuite)
		if r.ALPN != "" {
			fmt.Fprintf(&b, ", ALPN %s", r.ALPN)
		}
		if r.Resumed {
			b.WriteString(", resumed")
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "time:     %s\n", r.Time.UTC().Format(time.RFC3339))
	for i, c := range r.Chain {
		fmt.Fprintf(&b, "cert %d:   %s\n          issuer %s, serial %s, %s\n          valid %s to %s\n",
			i, c.Subject, c.Issuer, c.Serial, c.KeyType,
			c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-8s %-10s", strings.ToUpper(c.Outcome.String()), c.Verifier)
		if c.Subject != "" {
			fmt.Fprintf(&b, " [%s]", c.Subject)
		}
		fmt.Fprintf(&b, " %s", c.Detail)
		if c.Error != "" && !strings.Contains(c.Detail, c.Error) {
			fmt.Fprintf(&b, ": %s", c.Error)
		}
		b.WriteByte('\n')
	}
	if r.OK() {
		b.WriteString("verdict:  OK\n")
	} else {
		b.WriteString("verdict:  FAILED\n")
	}
	return b.String()
}

func (r *Report) setConnection(cs *tls.ConnectionState) {
	if cs.ServerName != "" { // empty for IP literals, which send no SNI
		r.ServerName = cs.ServerName
	}
	r.Version = tls.VersionName(cs.Version)
	r.CipherSuite = suiteName(cs.CipherSuite)
	r.ALPN = cs.NegotiatedProtocol
	r.Resumed = cs.DidResume
}

func (r *Report) setChain(chain []*x509.Certificate, infos *certInfos) {
	r.Chain = make([]CertInfo, 0, len(chain))
	for _, c := range chain {
		r.Chain = append(r.Chain, infos.describe(c))
	}
}

// certInfos remembers the description of the certificates a Dialer has
// seen, keyed by their DER, so that a repeated handshake does not hash and
// format the same chain again. It is safe for concurrent use; a nil
// *certInfos describes without remembering.
type certInfos struct {
	mu    sync.Mutex // guards m and byPtr
	m     map[string]CertInfo
	byPtr map[*x509.Certificate]CertInfo
}

const (
	maxCertInfos = 1024
	// maxCertInfoPtrs bounds the certificates the memo keeps alive (as
	// keys of byPtr): those of the few chains a Dialer sees again and
	// again, whose parsed certificates crypto/tls shares between
	// connections (its certificate cache) and resumed sessions replay.
	maxCertInfoPtrs = 64
)

func (ci *certInfos) describe(c *x509.Certificate) CertInfo {
	if ci == nil {
		return describe(c)
	}
	ci.mu.Lock()
	// The same parsed certificate first: a pointer is cheaper to hash
	// than a DER of a kilobyte.
	info, ok := ci.byPtr[c]
	if !ok {
		if info, ok = ci.m[string(c.Raw)]; ok {
			ci.rememberPtr(c, info)
		}
	}
	ci.mu.Unlock()
	if ok {
		return info
	}
	info = describe(c)
	ci.mu.Lock()
	if ci.m == nil || len(ci.m) >= maxCertInfos {
		ci.m = make(map[string]CertInfo)
	}
	ci.m[string(c.Raw)] = info
	ci.rememberPtr(c, info)
	ci.mu.Unlock()
	return info
}

// rememberPtr records info for the parsed certificate c. ci.mu is held.
func (ci *certInfos) rememberPtr(c *x509.Certificate, info CertInfo) {
	if ci.byPtr == nil || len(ci.byPtr) >= maxCertInfoPtrs {
		ci.byPtr = make(map[*x509.Certificate]CertInfo)
	}
	ci.byPtr[c] = info
}

// suiteNames names the cipher suites once: tls.CipherSuiteName builds the
// list of suites on every call. It is never modified after init.
var suiteNames = func() map[uint16]string {
	m := map[uint16]string{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[cs.ID] = cs.Name
	}
	return m
}()

func suiteName(id uint16) string {
	if n, ok := suiteNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}

func describe(c *x509.Certificate) CertInfo {
	sum := sha256.Sum256(c.Raw)
	ci := CertInfo{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		Serial:    serialHex(c.SerialNumber),
		NotBefore: c.NotBefore,
		NotAfter:  c.NotAfter,
		KeyType:   keyType(c.PublicKey),
		DNSNames:  c.DNSNames,
		SHA256:    hex.EncodeToString(sum[:]),
		Pin:       PinOf(c),
	}
	for _, ip := range c.IPAddresses {
		ci.IPs = append(ci.IPs, ip.String())
	}
	return ci
}

func serialHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	if n.Sign() < 0 {
		return fmt.Sprintf("-%X", new(big.Int).Neg(n))
	}
	return fmt.Sprintf("%X", n)
}

func keyType(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// certLabel is how checks name a certificate: its subject.
func certLabel(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "serial " + serialHex(c.SerialNumber)
}

// CertLabel returns the label checks use for a certificate in the Report
// (its subject, or its serial when the subject is empty), so that verifiers
// in other packages name certificates the same way.
func CertLabel(c *x509.Certificate) string { return certLabel(c) }

// Sentinel errors mark the decisions verifiers make; test for them with
// errors.Is. Typed errors (RevokedError, CertificateError...) carry details
// and wrap these.
var (
	// ErrRevoked: a definitive answer (staple, OCSP or CRL) says a
	// certificate of the chain is revoked.
	ErrRevoked = errors.New("certificate revoked")
	// ErrRevocationUnavailable: no definitive revocation status could be
	// obtained and the policy is hard-fail.
	ErrRevocationUnavailable = errors.New("revocation status unavailable")
	// ErrMustStaple: the certificate carries the TLS Feature (must-staple,
	// RFC 7633) extension and the server sent no valid OCSP response.
	ErrMustStaple = errors.New("must-staple certificate without a valid stapled OCSP response")
	// ErrCTPolicy: the certificate transparency policy is not met.
	ErrCTPolicy = errors.New("certificate transparency policy not met")
	// ErrCertificate: the chain or the host name did not verify; the
	// error is a *CertificateError.
	ErrCertificate = errors.New("certificate verification failed")
	// ErrProtocolVersion: the server does not speak a TLS version the
	// client allows (TLS 1.2 or later).
	ErrProtocolVersion = errors.New("TLS version refused")
	// ErrPinMismatch: public-key pinning is configured (WithPins,
	// PinVerifier) and no certificate in scope has a pinned key; the
	// error is a *PinError.
	ErrPinMismatch = errors.New("public key pin mismatch")
)

// VerificationError is returned by Dial when the handshake was refused by a
// check: chain, host name, TLS version, or a Verifier. It carries the Report
// of everything checked up to the failure and wraps the cause, so errors.Is
// and errors.As reach the sentinels and typed errors beneath.
type VerificationError struct {
	Report *Report
	Err    error
}

func (e *VerificationError) Error() string {
	name := ""
	if e.Report != nil {
		name = e.Report.ServerName
		if name == "" {
			name = e.Report.Address
		}
	}
	if name == "" {
		return "tlsclient: verification failed: " + e.Err.Error()
	}
	return fmt.Sprintf("tlsclient: verification of %s failed: %v", name, e.Err)
}

func (e *VerificationError) Unwrap() error { return e.Err }

// RevocationReason is a CRLReason code (RFC 5280 5.3.1).
type RevocationReason int

// CRLReason codes. ReasonAbsent means the source gave no reason.
const (
	ReasonAbsent               RevocationReason = -1
	ReasonUnspecified          RevocationReason = 0
	ReasonKeyCompromise        RevocationReason = 1
	ReasonCACompromise         RevocationReason = 2
	ReasonAffiliationChanged   RevocationReason = 3
	ReasonSuperseded           RevocationReason = 4
	ReasonCessationOfOperation RevocationReason = 5
	ReasonCertificateHold      RevocationReason = 6
	ReasonRemoveFromCRL        RevocationReason = 8
	ReasonPrivilegeWithdrawn   RevocationReason = 9
	ReasonAACompromise         RevocationReason = 10
)

var reasonNames = map[RevocationReason]string{
	ReasonAbsent:               "no reason given",
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonCACompromise:         "cACompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonRemoveFromCRL:        "removeFromCRL",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	ReasonAACompromise:         "aACompromise",
}

func (r RevocationReason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// MarshalText encodes the reason by its RFC 5280 name.
func (r RevocationReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// RevokedError is a definitive revocation: a certificate of the chain is
// revoked according to Source. It wraps ErrRevoked. Package revocation
// exports the same type.
type RevokedError struct {
	Subject   string           // the revoked certificate
	Serial    *big.Int         // its serial number
	RevokedAt time.Time        // when it was revoked
	Reason    RevocationReason // why, ReasonAbsent when not given
	Source    string           // "staple", "ocsp" or "crl"
	URL       string           // where the answer came from, if fetched
}

func (e *RevokedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "certificate revoked: %s (serial %s) was revoked at %s", e.Subject, serialHex(e.Serial), e.RevokedAt.UTC().Format(time.RFC3339))
	if e.Reason != ReasonAbsent {
		fmt.Fprintf(&b, ", reason %s", e.Reason)
	}
	fmt.Fprintf(&b, ", according to %s", e.Source)
	if e.URL != "" {
		fmt.Fprintf(&b, " (%s)", e.URL)
	}
	b.WriteString("; the server must be given a new certificate")
	return b.String()
}

// Unwrap makes errors.Is(err, ErrRevoked) true.
func (e *RevokedError) Unwrap() error { return ErrRevoked }

// verifierName labels a verifier's checks.
func verifierName(v Verifier) string {
	if n, ok := v.(interface{ Name() string }); ok {
		if s := n.Name(); s != "" {
			return s
		}
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" {
		return t.Name()
	}
	return t.String()
}

// runVerifiers runs the engine inside VerifyConnection: the built-in checks
// first, then each verifier in order. The first error stops the run; the
// verifiers not reached are recorded as skipped. Every verifier leaves at
// least one check in the report.
func runVerifiers(ctx context.Context, st *State, vs []Verifier) error {
	for i, v := range vs {
		name := verifierName(v)
		n := st.setCurrent(name)
		start := time.Now()
		err := safeVerify(ctx, v, st)
		if err == nil && ctx.Err() != nil {
			err = fmt.Errorf("%s: %w", name, context.Cause(ctx))
		}
		if err != nil {
			if !st.failedSince(n) {
				st.Record(Check{Outcome: Fail, Detail: "verifier failed", Err: err, Elapsed: time.Since(start)})
			}
			for _, rest := range vs[i+1:] {
				st.Record(Check{Verifier: verifierName(rest), Outcome: Skip, Detail: "not run: an earlier check failed"})
			}
			return err
		}
		if st.countSince(n) == 0 {
			st.Record(Check{Outcome: Pass, Detail: "verifier passed", Elapsed: time.Since(start)})
		}
	}
	return nil
}

// safeVerify turns a panicking verifier into an error, so that a bug in a
// check fails the connection closed instead of crashing the process.
func safeVerify(ctx context.Context, v Verifier, st *State) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tlsclient: verifier %s panicked: %v", verifierName(v), r)
		}
	}()
	return v.Verify(ctx, st)
}

// MarshalJSON keeps Outcome readable when a Check is encoded on its own.
func (c Check) MarshalJSON() ([]byte, error) {
	type plain Check
	p := plain(c)
	if p.Err != nil && p.Error == "" {
		p.Error = p.Err.Error()
	}
	return json.Marshal(p)
}
