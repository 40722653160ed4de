package ocspcheck

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/tlsclient/tlsclient/internal/x509util"
)

// Reason classifies why a response was not accepted.
type Reason int

// Reasons for rejecting a response.
const (
	Malformed          Reason = iota + 1 // not a parseable OCSP response
	NotSuccessful                        // responseStatus other than successful
	NoMatch                              // no SingleResponse for this certificate and issuer
	Conflicting                          // several SingleResponses for the certificate disagree
	UnauthorizedSigner                   // the signer is neither the issuer nor a delegate it authorised
	BadSignature                         // the signature does not verify
	WeakAlgorithm                        // a refused or unsupported algorithm (SHA-1 when refused, MD5, ...)
	NotYetValid                          // thisUpdate (or the delegate) is in the future beyond the skew
	Expired                              // nextUpdate has passed, or the delegate has expired
	TooOld                               // no nextUpdate and thisUpdate is older than the maximum age
	CriticalExtension                    // an unknown critical extension
	NonceMismatch                        // a nonce was sent and the response does not echo it
)

var reasonText = map[Reason]string{
	Malformed:          "malformed",
	NotSuccessful:      "not successful",
	NoMatch:            "no matching response",
	Conflicting:        "conflicting responses",
	UnauthorizedSigner: "unauthorized signer",
	BadSignature:       "bad signature",
	WeakAlgorithm:      "weak or unsupported algorithm",
	NotYetValid:        "not yet valid",
	Expired:            "expired",
	TooOld:             "too old",
	CriticalExtension:  "unknown critical extension",
	NonceMismatch:      "nonce mismatch",
}

func (r Reason) String() string {
	if s, ok := reasonText[r]; ok {
		return s
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Error is an OCSP response that cannot be used. Package revocation exports
// it as ResponseError.
type Error struct {
	Reason Reason
	Detail string // what exactly was wrong
	Err    error  // underlying cause, if any
}

func (e *Error) Error() string {
	msg := "ocsp: " + e.Reason.String()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Options tune validation. The zero value uses the defaults.
type Options struct {
	// Skew is the clock skew tolerated on thisUpdate, nextUpdate and the
	// delegate's validity. Zero means DefaultSkew; negative means none.
	Skew time.Duration
	// MaxAge bounds how long a response without nextUpdate is used after its
	// thisUpdate. Zero means DefaultMaxAge.
	MaxAge time.Duration
	// MaxLifetime, when positive, caps how long after thisUpdate a
	// response is used even if its nextUpdate is later (the CA/Browser
	// Forum allows at most 10 days for subscriber certificates; Firefox
	// enforces the same). Zero means no cap: responses about CA
	// certificates may legitimately last months.
	MaxLifetime time.Duration
	// RejectSHA1 refuses responses (and delegate certificates) signed with SHA-1.
	RejectSHA1 bool
	// Nonce, when non-nil, must be echoed in the response's nonce extension.
	Nonce []byte
}

// Defaults.
const (
	DefaultSkew   = 5 * time.Minute
	DefaultMaxAge = 24 * time.Hour
	// DefaultMaxLifetime is the cap callers use for responses about
	// end-entity certificates (CA/Browser Forum Baseline Requirements
	// 4.9.10: at most 10 days).
	DefaultMaxLifetime = 10 * 24 * time.Hour
)

func (o Options) skew() time.Duration {
	switch {
	case o.Skew == 0:
		return DefaultSkew
	case o.Skew < 0:
		return 0
	}
	return o.Skew
}

func (o Options) maxAge() time.Duration {
	if o.MaxAge <= 0 {
		return DefaultMaxAge
	}
	return o.MaxAge
}

// Result is a response that is bound to a certificate and signed by an
// authorised responder. Whether it is fresh at a given time is a separate
// question: ask Fresh.
type Result struct {
	Status     CertStatus
	RevokedAt  time.Time
	Reason     int // CRLReason, -1 when absent
	ThisUpdate time.Time
	NextUpdate time.Time // zero when absent
	ProducedAt time.Time
	// Signer is "issuer" or the subject of the delegated responder.
	Signer string
	// SignerNotBefore and SignerNotAfter bound a delegate's validity (zero
	// for the issuer itself, whose validity the chain already covers).
	SignerNotBefore, SignerNotAfter time.Time
	SignatureAlgorithm              x509.SignatureAlgorithm
	Single                          *SingleResponse
	Response                        *Response

	summaryOnce sync.Once
	summary     string
}

// Summary describes the result in a few words ("good (thisUpdate ..., signed
// by issuer)"), for reports. It is computed once: a cached Result is
// reported on every handshake.
func (r *Result) Summary() string {
	r.summaryOnce.Do(func() {
		switch r.Status {
		case Revoked:
			r.summary = "revoked at " + stamp(r.RevokedAt)
		default:
			r.summary = r.Status.String()
		}
		r.summary += " (thisUpdate " + stamp(r.ThisUpdate) + ", signed by " + r.Signer + ")"
	})
	return r.summary
}

var (
	oidNonce          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidCRLReferences  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 3}
	oidArchiveCutoff  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 6}
	oidExtendedRevoke = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 9}
	oidInvalidityDate = asn1.ObjectIdentifier{2, 5, 29, 24}
	oidSCTList        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 5}
)

func knownExtension(id asn1.ObjectIdentifier) bool {
	for _, k := range []asn1.ObjectIdentifier{oidNonce, oidCRLReferences, oidArchiveCutoff, oidExtendedRevoke, oidInvalidityDate, oidSCTList} {
		if id.Equal(k) {
			return true
		}
	}
	return false
}

// Check parses der and verifies everything that does not depend on the
// current time: response status, CertID binding of cert to issuer, the
// signer's authorisation and the signature, critical extensions and the
// nonce. The caller must then call Fresh.
func Check(der []byte, cert, issuer *x509.Certificate, opts Options) (*Result, error) {
	if cert == nil || issuer == nil {
		return nil, errors.New("ocsp: certificate and issuer are required")
	}
	resp, err := Parse(der)
	if err != nil {
		return nil, err
	}
	if resp.Status != Successful {
		return nil, &Error{Reason: NotSuccessful, Detail: "responder answered " + resp.Status.String()}
	}
	single, err := matchSingle(resp, cert, issuer)
	if err != nil {
		return nil, err
	}
	if !single.NextUpdate.IsZero() && single.NextUpdate.Before(single.ThisUpdate) {
		return nil, &Error{Reason: Malformed, Detail: fmt.Sprintf("nextUpdate %s is before thisUpdate %s", stamp(single.NextUpdate), stamp(single.ThisUpdate))}
	}
	if err := checkCritical("response", resp.Extensions); err != nil {
		return nil, err
	}
	if err := checkCritical("single response", single.Extensions); err != nil {
		return nil, err
	}
	if opts.Nonce != nil {
		if err := checkNonce(resp, opts.Nonce); err != nil {
			return nil, err
		}
	}
	if opts.RejectSHA1 && x509util.IsSHA1(resp.SignatureAlgorithm) {
		return nil, &Error{Reason: WeakAlgorithm, Detail: "response signed with " + resp.SignatureAlgorithm.String() + " and SHA-1 is refused"}
	}
	signer, delegate, err := findSigner(resp, issuer, opts)
	if err != nil {
		return nil, err
	}
	if err := signer.CheckSignature(resp.SignatureAlgorithm, resp.TBS, resp.Signature); err != nil {
		return nil, &Error{Reason: BadSignature, Detail: "response signature does not verify with the " + signerName(signer, delegate) + " key", Err: err}
	}
	r := &Result{
		Status:             single.Status,
		RevokedAt:          single.RevokedAt,
		Reason:             single.Reason,
		ThisUpdate:         single.ThisUpdate,
		NextUpdate:         single.NextUpdate,
		ProducedAt:         resp.ProducedAt,
		Signer:             signerName(signer, delegate),
		SignatureAlgorithm: resp.SignatureAlgorithm,
		Single:             single,
		Response:           resp,
	}
	if delegate {
		r.SignerNotBefore, r.SignerNotAfter = signer.NotBefore, signer.NotAfter
	}
	return r, nil
}

func signerName(c *x509.Certificate, delegate bool) string {
	if !delegate {
		return "issuer"
	}
	return "delegated responder " + c.Subject.String()
}

// Fresh reports whether the result may be relied on at now: thisUpdate not in
// the future beyond the skew, nextUpdate not passed (or, without nextUpdate,
// thisUpdate within the maximum age), and a delegated signer valid at now.
func (r *Result) Fresh(now time.Time, opts Options) error {
	skew := opts.skew()
	if r.ThisUpdate.After(now.Add(skew)) {
		return &Error{Reason: NotYetValid, Detail: fmt.Sprintf("thisUpdate %s is in the future (now %s)", stamp(r.ThisUpdate), stamp(now))}
	}
	if !r.NextUpdate.IsZero() {
		if now.After(r.NextUpdate.Add(skew)) {
			return &Error{Reason: Expired, Detail: fmt.Sprintf("nextUpdate %s has passed (now %s)", stamp(r.NextUpdate), stamp(now))}
		}
		if opts.MaxLifetime > 0 && now.After(r.ThisUpdate.Add(opts.MaxLifetime).Add(skew)) {
			return &Error{Reason: TooOld, Detail: fmt.Sprintf("thisUpdate %s is more than %s ago, the longest a response is relied on (its nextUpdate %s is later)", stamp(r.ThisUpdate), opts.MaxLifetime, stamp(r.NextUpdate))}
		}
	} else if now.After(r.ThisUpdate.Add(opts.maxAge()).Add(skew)) {
		return &Error{Reason: TooOld, Detail: fmt.Sprintf("no nextUpdate and thisUpdate %s is older than %s", stamp(r.ThisUpdate), opts.maxAge())}
	}
	if !r.SignerNotAfter.IsZero() {
		if now.Add(skew).Before(r.SignerNotBefore) {
			return &Error{Reason: NotYetValid, Detail: fmt.Sprintf("%s is not valid before %s", r.Signer, stamp(r.SignerNotBefore))}
		}
		if now.Add(-skew).After(r.SignerNotAfter) {
			return &Error{Reason: Expired, Detail: fmt.Sprintf("%s expired at %s", r.Signer, stamp(r.SignerNotAfter))}
		}
	}
	return nil
}

// Expires is when the result stops being fresh by its own dates: nextUpdate,
// or thisUpdate plus the maximum age, bounded by a delegate's notAfter. It is
// the horizon for caching it.
func (r *Result) Expires(opts Options) time.Time {
	exp := r.NextUpdate
	if exp.IsZero() {
		exp = r.ThisUpdate.Add(opts.maxAge())
	} else if opts.MaxLifetime > 0 && exp.After(r.ThisUpdate.Add(opts.MaxLifetime)) {
		exp = r.ThisUpdate.Add(opts.MaxLifetime)
	}
	if !r.SignerNotAfter.IsZero() && r.SignerNotAfter.Before(exp) {
		exp = r.SignerNotAfter
	}
	return exp
}

// Validate is Check followed by Fresh at now.
func Validate(der []byte, cert, issuer *x509.Certificate, now time.Time, opts Options) (*Result, error) {
	r, err := Check(der, cert, issuer, opts)
	if err != nil {
		return nil, err
	}
	if err := r.Fresh(now, opts); err != nil {
		return r, err
	}
	return r, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func checkCritical(where string, exts []pkix.Extension) error {
	for _, e := range exts {
		if e.Critical && !knownExtension(e.Id) {
			return &Error{Reason: CriticalExtension, Detail: fmt.Sprintf("%s extension %v is critical and not understood", where, e.Id)}
		}
	}
	return nil
}

// matchSingle finds the SingleResponse whose CertID names cert under issuer.
// Several matches must agree on the status.
func matchSingle(resp *Response, cert, issuer *x509.Certificate) (*SingleResponse, error) {
	keyBits, err := x509util.SubjectPublicKeyBytes(issuer)
	if err != nil {
		return nil, &Error{Reason: NoMatch, Detail: "issuer key", Err: err}
	}
	var match *SingleResponse
	var nearMiss string
	for i := range resp.Responses {
		s := &resp.Responses[i]
		if s.Serial.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		if s.HashAlgorithm == 0 || !s.HashAlgorithm.Available() {
			nearMiss = fmt.Sprintf("a response for serial %s uses an unsupported CertID hash %v", hexSerial(s.Serial), s.HashOID)
			continue
		}
		h := s.HashAlgorithm.New()
		h.Write(cert.RawIssuer)
		nameHash := h.Sum(nil)
		h.Reset()
		h.Write(keyBits)
		keyHash := h.Sum(nil)
		if !bytes.Equal(nameHash, s.IssuerNameHash) {
			nearMiss = fmt.Sprintf("a response for serial %s names a different issuer (issuerNameHash differs)", hexSerial(s.Serial))
			continue
		}
		if !bytes.Equal(keyHash, s.IssuerKeyHash) {
			nearMiss = fmt.Sprintf("a response for serial %s names a different issuer key (issuerKeyHash differs)", hexSerial(s.Serial))
			continue
		}
		if match == nil {
			match = s
			continue
		}
		if match.Status != s.Status || (s.Status == Revoked && !match.RevokedAt.Equal(s.RevokedAt)) {
			return nil, &Error{Reason: Conflicting, Detail: fmt.Sprintf("serial %s is both %s and %s in one response", hexSerial(s.Serial), match.Status, s.Status)}
		}
		if s.ThisUpdate.After(match.ThisUpdate) {
			match = s
		}
	}
	if match == nil {
		detail := fmt.Sprintf("none of the %d responses is for serial %s issued by %s", len(resp.Responses), hexSerial(cert.SerialNumber), issuer.Subject)
		if nearMiss != "" {
			detail += "; " + nearMiss
		}
		return nil, &Error{Reason: NoMatch, Detail: detail}
	}
	return match, nil
}

func hexSerial(n *big.Int) string {
	if n.Sign() < 0 {
		return "-" + fmt.Sprintf("%X", new(big.Int).Neg(n))
	}
	return fmt.Sprintf("%X", n)
}

// findSigner returns the certificate the ResponderID designates: the issuer,
// or a delegate included in the response that the issuer signed and marked
// with id-kp-OCSPSigning (RFC 6960 4.2.2.2).
func findSigner(resp *Response, issuer *x509.Certificate, opts Options) (*x509.Certificate, bool, error) {
	issuerKeyHash, err := x509util.KeyHashSHA1(issuer)
	if err != nil {
		return nil, false, &Error{Reason: UnauthorizedSigner, Detail: "issuer key", Err: err}
	}
	names := func(c *x509.Certificate, keyHash []byte) bool {
		if resp.ResponderName != nil {
			return bytes.Equal(resp.ResponderName, c.RawSubject)
		}
		return bytes.Equal(resp.ResponderKeyHash, keyHash)
	}
	if names(issuer, issuerKeyHash) {
		return issuer, false, nil
	}
	var reasons []string
	for _, c := range resp.Certificates {
		kh, err := x509util.KeyHashSHA1(c)
		if err != nil || !names(c, kh) {
			continue
		}
		if bytes.Equal(c.RawSubject, issuer.RawSubject) && bytes.Equal(c.RawSubjectPublicKeyInfo, issuer.RawSubjectPublicKeyInfo) {
			// The CA included (a copy of) its own certificate.
			return issuer, false, nil
		}
		if !bytes.Equal(c.RawIssuer, issuer.RawSubject) {
			reasons = append(reasons, fmt.Sprintf("%s is not issued by %s", c.Subject, issuer.Subject))
			continue
		}
		if opts.RejectSHA1 && x509util.IsSHA1(c.SignatureAlgorithm) {
			return nil, false, &Error{Reason: WeakAlgorithm, Detail: fmt.Sprintf("delegated responder %s is signed with SHA-1, which is refused", c.Subject)}
		}
		if err := issuer.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s does not carry a valid signature of %s (%v)", c.Subject, issuer.Subject, err))
			continue
		}
		if !hasOCSPSigning(c) {
			reasons = append(reasons, fmt.Sprintf("%s lacks the id-kp-OCSPSigning extended key usage", c.Subject))
			continue
		}
		return c, true, nil
	}
	detail := "the response's ResponderID names neither the issuer nor a certificate included in the response"
	if len(reasons) > 0 {
		detail = "the responder is not authorised by the issuer: " + reasons[0]
		for _, r := range reasons[1:] {
			detail += "; " + r
		}
	}
	return nil, false, &Error{Reason: UnauthorizedSigner, Detail: detail}
}

func hasOCSPSigning(c *x509.Certificate) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageOCSPSigning {
			return true
		}
	}
	return false
}

func checkNonce(resp *Response, nonce []byte) error {
	for _, e := range resp.Extensions {
		if !e.Id.Equal(oidNonce) {
			continue
		}
		// RFC 8954: the value is an OCTET STRING; some responders put the
		// raw bytes directly. Accept either encoding of the same bytes.
		v := e.Value
		var inner []byte
		if rest, err := asn1.Unmarshal(v, &inner); err == nil && len(rest) == 0 && bytes.Equal(inner, nonce) {
			return nil
		}
		if bytes.Equal(v, nonce) {
			return nil
		}
		return &Error{Reason: NonceMismatch, Detail: "the response carries a different nonce (a replayed or cached response)"}
	}
	return &Error{Reason: NonceMismatch, Detail: "a nonce was sent and the response carries none"}
}
