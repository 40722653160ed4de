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
// the server or given to WithCRLSigners, with cRLSign, issued by the issuer
// or by the issuer's own issuer: see WithCRLSigners), its issuer name and
// authority key identifier match, it is fresh (thisUpdate and nextUpdate,
// give or take the clock skew), it carries no critical extension it does
// not understand, and its Issuing Distribution Point covers the
// certificate. Delta CRLs are applied to their base, never used alone; a
// delta's removeFromCRL releases a certificateHold of the base and undoes
// no other revocation, and in a complete CRL removeFromCRL is not a
// revocation (nor hides one listed for the same serial). CRL numbers never
// go back, per issuer and scope. Indirect CRLs are refused with an error
// saying so. CRLs come from the certificate's distribution points (http
// and https only: a certificate whose points are all LDAP or other URLs is
// not applicable, as for OCSP) or, offline, from WithCRLs.
//
// CRL URLs are plain http, so an on-path attacker can serve any genuine
// CRL of the CA in place of the right one: another shard's, the delta
// CRL. Such a CRL is never kept for the URL: a CRL fetched from a
// distribution point whose Issuing Distribution Point names URIs must name
// the URL requested (redirects do not matter), a delta CRL is accepted
// only from a Freshest CRL pointer and a complete CRL only from a
// distribution point, and a CRL that does not cover the certificate it was
// fetched for is evicted from every cache. The URL is then not asked again
// for 15 seconds, doubling up to 5 minutes while it goes on, so the attack
// lasts as long as the attacker stays on the path, not until the other
// CRL's nextUpdate.
//
// # Caching
//
// Every verifier keeps what it fetched until it expires, and remembers
// verdicts on the exact bytes it validated, so a repeated handshake costs no
// signature check and starts no goroutine. OCSP responses are kept as DER in
// a Cache (in memory by default; see WithCache). CRLs are kept as compact
// indexes in memory (a 1M-entry CRL takes about 40 MB), within
// WithCRLMemoryLimit (least recently used dropped first); their DER goes to
// WithCache and WithCRLCacheDir only when those are given, and is verified
// again when loaded. WithBackgroundRefresh fetches a CRL before it
// expires, paced so that an endpoint sees a request now and then. Create a verifier once and share it across dials
// (through one tlsclient.Dialer): its caches are its own, and concurrent
// requests for the same URL are merged into one.
//
// A fleet of clients shares one store by giving each verifier the same
// kind of Cache (Redis, memcached: see the Cache contract): a new process
// then starts warm and a responder sees one request per fleet. What comes
// from a Cache is validated like a download, so a shared store is trusted
// for availability only.
//
// # Resumption
//
// The verifiers run on resumed handshakes too (tlsclient calls them from
// VerifyConnection). Go replays the staple of the original handshake, which
// is judged again at the time of the resumption: a staple that has expired
// since no longer counts, and a certificate learnt revoked since (from a
// CRL or OCSP) is refused.
//
// # Security model
//
// Only the verified chain is used: issuers are never fetched (no AIA
// chasing), responses and CRLs are bound to the certificate and issuer of
// the chain, and every fetch has a context, a timeout (WithFetchTimeout), a
// size cap and at most a few redirects, to http and https only. Revocation
// narrows what chain validation accepts; it never widens it.
//
// # Observability
//
// With tlsclient.WithObserver (or WithLogger) on the Dialer, the verifiers
// report each HTTP request as an EventFetchStart and an EventFetchDone
// (URL, status, bytes, duration, merged or not) and each lookup of their
// data as an EventCacheHit or EventCacheMiss; the decisions are the
// Report's checks. Without an observer nothing is built.
package revocation
