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
// verifier once and share it. The caches are bounded in bytes as well as
// entries: SCTs and staples far larger than real ones, and input that does
// not parse, are checked on every handshake and never kept (see
// WithCacheSize), so a hostile server cannot fill memory with them.
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
// new certificates use. So does having no list at all (a Refresher before
// its first good download). Both fail open by default, as in Chrome; with
// RequireLogList they fail every check instead.
//
// Dates are checked for sense. ParseLogList refuses a list with any
// timestamp in or after the year 9000. A list dated more than a day after
// the time of check is reported as a problem (ListInfo.Future) but still
// used and enforced: its logs and their states are judged at the time of
// check as usual, a check at a past time with a newer list is legitimate,
// and it fails closed, never open; its age is negative, so it never goes
// stale. A Refresher, which has the host's clock to go by, refuses such a
// list outright, from the network or its cache file: kept, it would never
// go stale, and every later list would look like a rollback.
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
// Temporal intervals (temporal_interval, the certificate expiry range of a
// sharded log) do not enter Chrome's policy: Chrome counts SCTs by log
// state, and leaves sharding to the logs, which must refuse certificates
// that expire outside their range. ChromePolicy and AtLeast therefore
// ignore them. Apple's clients enforce them, and so does ApplePolicy: an
// SCT counts only from a log whose interval holds the certificate's
// notAfter, and is otherwise reported as not counted.
//
// # Enforcement scope
//
// CT is a Web PKI mechanism: certificates of a private CA are not logged,
// and enforcing CT on them would refuse every one. OnlyForRoots limits
// enforcement to chains that end in the given roots (the public ones), and
// SkipRoots exempts chains that end in your private roots; connections out
// of scope are recorded as skipped. Without either option every connection
// made with the verifier is checked.
//
// # Fail-open and fail-closed
//
// An enforced policy fails closed: too few valid SCTs abort the handshake
// with a *PolicyError, and a misconfigured verifier (no list, a bad
// option) fails every handshake. The verifier records a warning and lets
// the connection through only where enforcing would be wrong or was not
// asked for: ReportOnly, a log list older than WithMaxListAge (it lacks the
// logs new certificates use), and a LogSource that has no list yet (before
// a Refresher's first success); RequireLogList makes these last two fail
// closed as well. Connections out of scope (OnlyForRoots,
// SkipRoots) are skipped, recorded.
//
// # Resumption
//
// The verifier runs on resumed handshakes too. Go replays the SCTs and the
// staple of the original handshake, and they are judged again at the time
// of the resumption, against the log list current then.
//
// # Caching
//
// Only signature verdicts are cached, per (certificate, SCT) bytes and
// bounded by WithCacheSize; log states, times and the policy are evaluated
// on every handshake. A Refresher keeps the last good list on disk
// (RefresherConfig.CacheFile) and reports its downloads to
// RefresherConfig.Observer. Nothing is global: create the verifier once and
// share it through one tlsclient.Dialer.
package ct
