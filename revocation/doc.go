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
// # OCSP
//
// A response, stapled or fetched, is used only when its CertID (hash
// algorithm, issuer name and key hashes, serial) names the certificate and
// its issuer in the verified chain, when it is signed by that issuer or by
// a delegate the issuer certified with id-kp-OCSPSigning and valid at the
// time, and when it is fresh at the State's time: thisUpdate not in the
// future and nextUpdate not passed, give or take WithClockSkew, or, without
// nextUpdate, thisUpdate within WithMaxAge. SHA-1 signatures, still common,
// are accepted unless RejectSHA1 is given. "Unknown" is not a definitive
// answer.
//
// OCSP asks the responders of a certificate's AIA extension in the order
// listed, until one answers good or revoked. Requests use a SHA-1 CertID
// (RFC 5019) and go by GET when the encoded request fits in 255 bytes, by
// POST otherwise; WithNonce adds a nonce, sent by POST, required in the
// response and never cached. Only http and https URLs are fetched: a
// certificate that names only other responders (ldap://, file://) has no
// usable OCSP source and is recorded as not applicable. A fetched response
// is cached until it expires, and for at most WithMaxAge.
//
// # CRL
//
// A CRL is used for a certificate only when its signature verifies with the
// issuer's key (or a separate CRL-signing certificate of the same CA, sent by
// the server or given to WithCRLSigners, that chains to the same trust
// anchor and may sign CRLs), its issuer name and authority key identifier
// match, it is fresh (thisUpdate and nextUpdate, give or take the clock
// skew), it carries no critical extension it does not understand, and its
// Issuing Distribution Point covers the certificate. Delta CRLs are applied
// to their base, never used alone; CRL numbers never go back. Indirect CRLs
// are refused with an error saying so. CRLs come from the certificate's
// distribution points (http and https only) or, offline, from WithCRLs.
//
// # Caching
//
// Every verifier keeps what it fetched until it expires, and remembers
// verdicts on the exact bytes it validated, so a repeated handshake costs no
// signature check and starts no goroutine. OCSP responses are kept as DER in
// a Cache (in memory by default; see WithCache). CRLs are kept as compact
// indexes in memory (a 1M-entry CRL takes about 40 MB); their DER goes to
// WithCache and WithCRLCacheDir only when those are given, and is verified
// again when loaded. Create a verifier once and share it across dials
// (through one tlsclient.Dialer): its caches are its own, and concurrent
// requests for the same URL are merged into one.
package revocation
