// Package revocation checks whether the certificates of a verified chain
// have been revoked: by the OCSP response the server stapled (Stapled), by
// asking OCSP responders (OCSP), by CRLs (CRL), or by all three in turn
// (New). Each constructor returns a tlsclient.Verifier to pass to
// tlsclient.WithVerifiers; it runs inside the handshake, so a revoked
// certificate aborts the connection.
//
// # Fail-open and fail-closed
//
// A definitive "revoked" always aborts with an error wrapping
// tlsclient.ErrRevoked (a *RevokedError). When no source gives a definitive
// answer for a certificate that advertises one, the default is hard-fail:
// the handshake aborts with tlsclient.ErrRevocationUnavailable (an
// *UnavailableError). SoftFail records a warning instead. A certificate that
// advertises no source passes, recorded as not applicable, unless
// RequireStatus is given.
//
// # Caching
//
// Every verifier keeps what it fetched, until the response's nextUpdate, in
// a Cache (in memory by default; see WithCache), and remembers verdicts on
// the exact bytes it validated, so a repeated handshake costs no signature
// check. Create a verifier once and share it across dials (through one
// tlsclient.Dialer): its caches are its own, and concurrent requests for the
// same URL are merged into one.
package revocation
