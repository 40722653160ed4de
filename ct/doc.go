// Package ct checks Certificate Transparency (RFC 6962) inside the TLS
// handshake: it collects the Signed Certificate Timestamps a server presents,
// verifies each against a CT log list, and applies a policy — Chrome's,
// Apple's, or a count of your choice — so that a certificate that was not
// logged as required aborts the connection.
//
//	list, err := ct.LoadLogList("log_list.json") // a list you chose and keep current
//	...
//	d, err := tlsclient.New(tlsclient.WithVerifiers(ct.New(list)))
//
// SCTs come from three places, and all three are examined:
//
//   - the certificate's SCT list extension (1.3.6.1.4.1.11129.2.4.2), verified
//     as precertificate entries: the TBSCertificate is rebuilt without the SCT
//     list, and the issuer key hash is that of the issuer in the verified
//     chain (never a certificate the server merely sent);
//   - the signed_certificate_timestamp TLS extension, verified as X.509
//     entries over the certificate;
//   - the stapled OCSP response's SCT list single extension
//     (1.3.6.1.4.1.11129.2.4.5), also X.509 entries, taken only from a
//     response bound to the certificate by its full CertID and validly signed
//     by the issuer or its authorised responder (freshness is not required:
//     the SCTs vouch for the certificate, not for its status).
//
// Only version 1 SCTs signed with SHA-256 and ECDSA P-256 or RSA (2048 bits
// or more) verify, and an SCT whose timestamp is after the time of check
// (State.Time) is refused. SCT extensions are kept and reported, including
// the leaf_index of static-ct-api logs. Two SCTs from one log in one source
// count once. Every SCT appears in the Report (Check.Data is a *Details)
// with its source, log, operator at its time, the log's state now, its
// timestamp and its status (valid, bad signature, unknown log, future, not
// counted and why...), followed by the policy verdict with the counts
// required and found. An enforced failure is a *PolicyError wrapping
// tlsclient.ErrCTPolicy.
//
// Signature verdicts are cached per (certificate, SCT), so a repeated
// handshake with the same server verifies no signature again; log states,
// times and the policy are re-evaluated on every handshake. Create the
// verifier once and share it.
//
// # Log lists
//
// This package ships no log list for enforcement, and never fetches one on
// its own: Chrome's published lists (log_list.json) may not be used to
// enforce CT in other clients without Google's permission, and Apple's come
// with their own terms. The caller chooses and supplies a list in the v3
// JSON schema: from a file (LoadLogList, LoadSignedLogList), from bytes
// (ParseLogList, ParseSignedLogList, which verifies a detached RSA or ECDSA
// signature such as Google's log_list.sig), or from a URL kept current by a
// Refresher, which verifies each download's signature, refuses rollbacks,
// swaps lists atomically between handshakes and keeps the last good list on
// disk. A private deployment writes its own list of its own logs.
//
// Both logs and tiled_logs (static-ct-api) are read, with their states and
// state timestamps, temporal intervals, log types and previous operators.
// A list older than its maximum age (70 days by default, as Chrome; see
// WithMaxListAge), judged by its log_list_timestamp against the time of
// check, stops enforcement: SCTs are still verified and reported, but the
// verdict is recorded as a warning, because an old list lacks the logs that
// new certificates use.
//
// # Policies
//
// ChromePolicy (the default) and ApplePolicy implement the published
// policies as of 2026, with their rules quoted on each function:
// the number of distinct logs required by certificate lifetime, the log
// states that count at the time of check (Qualified, Usable, ReadOnly, and
// Retired only for SCTs issued before the retirement), operator diversity
// judged with each log's operator at the SCT's time, Apple's per-operator
// caps and its RFC 6962 log requirement, and the separate rules for SCTs
// delivered by TLS or OCSP. AtLeast(n, operators) is for private logs and
// custom lists. ReportOnly records the verdict without ever aborting.
//
// # Enforcement scope
//
// CT is a Web PKI mechanism: certificates of a private CA are not logged,
// and enforcing CT on them would refuse every one. OnlyForRoots limits
// enforcement to chains that end in the given roots (the public ones), and
// SkipRoots exempts chains that end in your private roots; connections out
// of scope are recorded as skipped. Without either option every connection
// made with the verifier is checked.
package ct
