package revocation

import (
	"fmt"
	"strings"
)

// CRLErrorReason classifies a CRLError, like crypto/x509's
// CertificateInvalidError reasons.
type CRLErrorReason int

// Reasons a CRL could not be used for a certificate.
const (
	// CRLFetchFailed: the download failed; Err is a *FetchError (network,
	// timeout, HTTP status, size cap, redirects).
	CRLFetchFailed CRLErrorReason = iota + 1
	// CRLMalformed: the bytes are not a CRL this package can read (HTML,
	// truncated DER, a v1 CRL...); Err says where.
	CRLMalformed
	// CRLUnsupported: the distribution point cannot be used: an LDAP or
	// other non-HTTP URL, or a point named only by a directory name. When
	// no distribution point of a certificate can be used, the CRL source
	// does not apply to it (as OCSP with only non-HTTP responders): the
	// errors are recorded with the skip, and RequireStatus fails it.
	CRLUnsupported
	// CRLWrongIssuer: the CRL's issuer name is not the certificate's
	// issuer name (raw bytes compared).
	CRLWrongIssuer
	// CRLKeyMismatch: the CRL's authority key identifier matches neither
	// the issuer's key nor a known CRL-signing certificate.
	CRLKeyMismatch
	// CRLBadSignature: the signature does not verify with the issuer's key
	// or with any CRL-signing certificate of the same CA.
	CRLBadSignature
	// CRLSignerNotAuthorized: the key that signed the CRL may not sign
	// CRLs: the issuer's key usage extension lacks cRLSign, or a separate
	// CRL-signing certificate lacks a key usage extension with cRLSign, is
	// not valid at the verification time, or is issued neither by the
	// certificate's issuer nor by that issuer's own issuer (see
	// WithCRLSigners).
	CRLSignerNotAuthorized
	// CRLNotYetValid: thisUpdate is in the future (beyond the clock skew).
	CRLNotYetValid
	// CRLExpired: nextUpdate has passed (beyond the clock skew), or a CRL
	// without nextUpdate is older than the maximum age.
	CRLExpired
	// CRLCriticalExtension: the CRL or one of its entries carries a
	// critical extension this package does not understand (RFC 5280 5.2).
	CRLCriticalExtension
	// CRLIndirect: an indirect CRL (indirectCRL in the Issuing
	// Distribution Point, certificateIssuer entries, or a distribution
	// point with a cRLIssuer); these are refused, not guessed at.
	CRLIndirect
	// CRLScope: the CRL's Issuing Distribution Point does not cover the
	// certificate (another distribution point, only CA or only end-entity
	// certificates, only attribute certificates), or names URIs none of
	// which is the URL the CRL was fetched from. Such a CRL is not kept,
	// and its URL is not asked again for a short, growing while.
	CRLScope
	// CRLPartial: the usable CRLs cover only some revocation reasons
	// (onlySomeReasons, or distribution points with reasons).
	CRLPartial
	// CRLDeltaOnly: a delta CRL was found without a usable base CRL; a
	// delta is never used alone.
	CRLDeltaOnly
	// CRLDeltaMismatch: a delta CRL does not apply to the base CRL at
	// hand (BaseCRLNumber newer than the base, or another scope).
	CRLDeltaMismatch
	// CRLRollback: the CRL's number is lower than one already seen for
	// the same issuer and scope (Issuing Distribution Point; complete and
	// delta CRLs apart), or, numbers equal or absent, its thisUpdate is
	// older.
	CRLRollback
)

var crlReasonText = map[CRLErrorReason]string{
	CRLFetchFailed:         "download failed",
	CRLMalformed:           "malformed CRL",
	CRLUnsupported:         "unsupported distribution point",
	CRLWrongIssuer:         "CRL issued by another CA",
	CRLKeyMismatch:         "authority key identifier mismatch",
	CRLBadSignature:        "bad signature",
	CRLSignerNotAuthorized: "signer not authorized to sign CRLs",
	CRLNotYetValid:         "CRL not yet valid",
	CRLExpired:             "CRL expired",
	CRLCriticalExtension:   "unknown critical extension",
	CRLIndirect:            "indirect CRL not supported",
	CRLScope:               "CRL does not cover the certificate",
	CRLPartial:             "CRLs cover only some reasons",
	CRLDeltaOnly:           "delta CRL without its base",
	CRLDeltaMismatch:       "delta CRL does not match its base",
	CRLRollback:            "CRL number rolled back",
}

var crlReasonHint = map[CRLErrorReason]string{
	CRLFetchFailed:         "check that the CRL endpoint is reachable from here, or preload the CRL with WithCRLs",
	CRLMalformed:           "the endpoint did not serve a DER (or PEM) X.509 v2 CRL; check the URL",
	CRLUnsupported:         "only http and https distribution points are fetched; preload the CRL with WithCRLs",
	CRLWrongIssuer:         "the distribution point serves another CA's CRL; the CA's configuration is wrong",
	CRLKeyMismatch:         "the CRL was signed with another key of the CA; supply its CRL-signing certificate with WithCRLSigners",
	CRLBadSignature:        "the CRL was altered or signed by another key; if the CA uses a separate CRL-signing key, supply its certificate with WithCRLSigners",
	CRLSignerNotAuthorized: "a key that signs CRLs needs the cRLSign key usage; a separate CRL-signing certificate must also be current and issued by the certificate's issuer or by that issuer's own issuer",
	CRLNotYetValid:         "check this machine's clock (or WithTime)",
	CRLExpired:             "the CA has not published a newer CRL, or a cache served an old one; check the clock, the endpoint, or refresh the preloaded CRL",
	CRLCriticalExtension:   "the CRL uses an extension this client cannot interpret, so it cannot be relied on",
	CRLIndirect:            "indirect CRLs are not supported; use OCSP for this CA, or SoftFail",
	CRLScope:               "the CRL is for another partition of the CA's certificates; the certificate's distribution point should name the right one",
	CRLPartial:             "no CRL covers every revocation reason for this certificate",
	CRLDeltaOnly:           "provide the complete (base) CRL too",
	CRLDeltaMismatch:       "the delta CRL needs a newer base CRL than the one available",
	CRLRollback:            "an older CRL was served after a newer one (a replay, or a misconfigured mirror); it is refused",
}

func (r CRLErrorReason) String() string {
	if s, ok := crlReasonText[r]; ok {
		return s
	}
	return fmt.Sprintf("CRLErrorReason(%d)", int(r))
}

// CRLError says why a CRL could not be used for a certificate. Reason
// classifies it; URL is where the CRL came from ("" for a preloaded CRL);
// Err is the cause, when there is one (a *FetchError for CRLFetchFailed).
// It appears among the errors of an *UnavailableError.
type CRLError struct {
	Reason CRLErrorReason
	URL    string
	Detail string
	Err    error
}

func (e *CRLError) Error() string {
	var b strings.Builder
	b.WriteString("CRL")
	if e.URL != "" {
		fmt.Fprintf(&b, " %s", e.URL)
	} else {
		b.WriteString(" (preloaded)")
	}
	fmt.Fprintf(&b, ": %s", e.Reason)
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if h := crlReasonHint[e.Reason]; h != "" {
		fmt.Fprintf(&b, " (%s)", h)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *CRLError) Unwrap() error { return e.Err }

func crlErr(reason CRLErrorReason, url, format string, args ...any) *CRLError {
	return &CRLError{Reason: reason, URL: url, Detail: fmt.Sprintf(format, args...)}
}
