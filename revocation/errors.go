package revocation

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/fetch"
	"github.com/tlsclient/tlsclient/internal/ocspcheck"
)

// RevokedError is a definitive revocation (the same type as
// tlsclient.RevokedError). It wraps tlsclient.ErrRevoked.
type RevokedError = tlsclient.RevokedError

// ResponseError is an OCSP response that could not be used: malformed, not
// for this certificate, signed by an unauthorised responder, stale...
// Reason says which.
type ResponseError = ocspcheck.Error

// ResponseErrorReason classifies a ResponseError.
type ResponseErrorReason = ocspcheck.Reason

// Reasons for a ResponseError.
const (
	ResponseMalformed          = ocspcheck.Malformed
	ResponseNotSuccessful      = ocspcheck.NotSuccessful
	ResponseNoMatch            = ocspcheck.NoMatch
	ResponseConflicting        = ocspcheck.Conflicting
	ResponseUnauthorizedSigner = ocspcheck.UnauthorizedSigner
	ResponseBadSignature       = ocspcheck.BadSignature
	ResponseWeakAlgorithm      = ocspcheck.WeakAlgorithm
	ResponseNotYetValid        = ocspcheck.NotYetValid
	ResponseExpired            = ocspcheck.Expired
	ResponseTooOld             = ocspcheck.TooOld
	ResponseCriticalExtension  = ocspcheck.CriticalExtension
	ResponseNonceMismatch      = ocspcheck.NonceMismatch
)

// FetchError is a failed HTTP request for an OCSP response or a CRL: bad
// URL, network failure, timeout, HTTP status, size cap, redirect.
type FetchError = fetch.Error

// FetchErrorKind classifies a FetchError.
type FetchErrorKind = fetch.Kind

// Kinds of FetchError.
const (
	FetchBadURL    = fetch.BadURL
	FetchNetwork   = fetch.Network
	FetchTimeout   = fetch.Timeout
	FetchStatus    = fetch.Status
	FetchTooLarge  = fetch.TooLarge
	FetchRedirects = fetch.Redirects
	FetchCanceled  = fetch.Canceled
	// FetchPrivateAddress: RefusePrivateAddresses refused the address a
	// URL, or a redirect, led to; errors.As reaches an *AddressError.
	FetchPrivateAddress = fetch.PrivateAddress
)

// AddressError is the cause of a FetchPrivateAddress failure: the address
// the connection was about to be made to, and the range that refused it.
type AddressError = fetch.AddressError

// UnavailableError says that no definitive revocation status was obtained
// for a certificate. It wraps tlsclient.ErrRevocationUnavailable and the
// errors of each source that was tried (FetchError, ResponseError,
// CRLError...), so errors.As reaches them.
type UnavailableError struct {
	Subject string
	Serial  *big.Int
	Reason  string
	Errs    []error
}

func (e *UnavailableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "revocation status unavailable for %s: %s", e.Subject, e.Reason)
	for _, err := range e.Errs {
		b.WriteString("; ")
		b.WriteString(err.Error())
	}
	if len(e.Errs) > 0 {
		b.WriteString(" (check that the responders and CRL endpoints are reachable from here; SoftFail() continues without an answer)")
	}
	return b.String()
}

// Unwrap returns tlsclient.ErrRevocationUnavailable and the causes.
func (e *UnavailableError) Unwrap() []error {
	return append([]error{tlsclient.ErrRevocationUnavailable}, e.Errs...)
}
