// Package tlsclient makes verified TLS client connections in one call. It
// builds a hardened *tls.Config, dials, and runs pluggable checks —
// OCSP stapling, OCSP, CRLs, Certificate Transparency — inside the
// handshake, after crypto/tls has validated the chain and the host name, so
// that a failing check aborts the connection. Every connection comes with a
// Report of what was checked and how each check ended.
//
//	conn, err := tlsclient.Dial("tcp", "example.com:443")
//	if err != nil {
//		// *VerificationError when a check refused the server; its
//		// message says what failed and what to do.
//	}
//	defer conn.Close()
//	fmt.Print(conn.Report())
//
// Use Dial or DialContext for one-off connections, New for a reusable
// Dialer (sessions and verifier caches shared across connections, like an
// OpenSSL SSL_CTX), and Dialer.TLSConfig or NewConfig where a *tls.Config is
// expected: net/http's Transport, gRPC credentials, database drivers.
// Packages revocation and ct provide the OCSP, CRL and CT verifiers, passed
// with WithVerifiers.
//
// # Security model
//
// What is verified, in order, during the handshake:
//
//  1. The TLS version: TLS 1.2 at least (DefaultMinVersion), TLS 1.3
//     preferred. A server that offers only older versions is refused with
//     ErrProtocolVersion. Cipher suites and curves are crypto/tls's
//     defaults; tlsclient never pins them.
//  2. The certificate chain and the host name, by crypto/tls itself, at the
//     time given by WithTime (the current time by default), against the
//     trust anchors: the system roots by default (on Unix, crypto/x509
//     honours the SSL_CERT_FILE and SSL_CERT_DIR environment variables), or
//     WithRootCAs and WithCAFile. The name is WithServerName, or the host of
//     the address dialled; an IP literal is matched against the
//     certificate's IP addresses and no SNI is sent. A failure is a
//     *CertificateError (wrapping ErrCertificate) whose Reason tells an
//     unknown issuer or missing intermediate from an untrusted root, a
//     host name mismatch, an expired or not yet valid certificate.
//  3. The verifiers, in tls.Config.VerifyConnection, which crypto/tls calls
//     on every handshake, full or resumed, after step 2 and before any
//     application data is exchanged: first the built-in staple check, then
//     those given with WithVerifiers, in order. Each sees a State with the
//     verified chain, the stapled OCSP response and the SCTs, and one clock
//     reading for all of them. The first error aborts the handshake; the
//     verifiers not reached are recorded as skipped.
//
// Public-key pinning (WithPins, PinVerifier) is one of these verifiers:
// it narrows what the trust anchors allow, never replaces chain
// validation.
//
// The built-in staple check needs no network. A valid stapled OCSP response
// that says revoked aborts the handshake (ErrRevoked, as a *RevokedError). A
// certificate with the TLS Feature extension (must-staple, RFC 7633) without
// a valid, good staple aborts it (ErrMustStaple). Otherwise an invalid or
// stale staple is recorded as a warning, and a missing one as a skip; asking
// an OCSP responder or a CRL is the job of package revocation.
//
// Verification cannot be turned off. A base configuration given with
// WithBaseConfig is cloned, never modified, and is refused if it sets
// InsecureSkipVerify, VerifyPeerCertificate or VerifyConnection, or allows
// a version below TLS 1.2. A *tls.Config from TLSConfig may be adjusted
// (ServerName, NextProtos...) but must not have its verification changed.
//
// The whole dial — connect, handshake and verifiers with their network
// fetches — is bounded by the context and by WithTimeout (DefaultTimeout).
//
// # Fail-open and fail-closed
//
// tlsclient fails closed. Anything that cannot be verified refuses the
// connection: an unverifiable chain, a wrong name, a refused version, a
// verifier that returns an error, a verifier that panics (the panic becomes
// an error), a context that ends while verifiers run. Failures come back as
// a *VerificationError carrying the Report; network failures that happen
// before any check (connection refused, timeout) are plain errors.
//
// The only answers that do not abort are the ones a policy explicitly
// allows, and they are never silent: each appears in the Report as a
// Warning (a check that could not decide and was configured not to abort)
// or a Skip (a check that did not apply), with the reason. The built-in
// staple check warns on an unusable staple unless the certificate demands
// one. Package revocation is hard-fail by default (no definitive answer:
// ErrRevocationUnavailable) and soft-fail only with revocation.SoftFail;
// package ct enforces its policy unless ct.ReportOnly is given. To require a
// clean report, check Report.Find(Warning) after dialling.
//
// # Resumption
//
// Each Dialer keeps a session cache (DefaultSessionCacheSize sessions, see
// WithSessionCache), so a second connection to the same server resumes its
// TLS session. Resumption does not skip verification: crypto/tls calls
// VerifyConnection on resumed handshakes too (unlike VerifyPeerCertificate,
// which tlsclient therefore never uses). Before offering a saved session,
// crypto/tls checks, at the Dialer's clock (WithTime), that the leaf has not
// expired, that it is valid for the server name and that its chain still
// verifies to the current roots; a session that fails is dropped and a full
// handshake made. On resumption Go replays the certificates, the stapled OCSP
// response and the SCTs of the original handshake, and every verifier runs
// again on them at the current time: a staple that has gone stale since, or
// a revocation learnt since, refuses the resumed connection just as it
// would a new one.
// Report.Resumed tells resumed connections apart.
//
// # Caching
//
// A Dialer caches so that a repeated handshake with a server costs about
// what a plain crypto/tls handshake costs, and never so that a decision
// changes:
//
//   - TLS sessions, for resumption (DefaultSessionCacheSize, see
//     WithSessionCache and Resumption above);
//   - the verdicts of the built-in staple check, keyed by the exact bytes
//     of the stapled response and the certificates it is checked for: a
//     cached verdict skips the signature check, while freshness is judged
//     again at every handshake's time;
//   - the descriptions of the certificates seen, for Reports.
//
// The verifiers keep caches of their own, held by the verifier value:
// package revocation keeps fetched OCSP responses and CRLs until they
// expire (in memory by default; revocation.WithCache takes any store, such
// as Redis for a fleet of clients, see revocation.Cache), and package ct
// keeps SCT signature verdicts. Create the Dialer, and its verifiers, once,
// and share them: every dial through it, and every connection of its
// TLSConfig, Transport and HTTPClient, uses the same caches. Two Dialers
// share nothing unless they are given the same verifier or Cache values.
// Nothing is global.
//
// # Observability
//
// WithObserver receives an Event for every fetch (URL, bytes, duration,
// status), every cache lookup (hit or miss) and every decision (one per
// Check of a Report), and one per handshake: enough to count and time
// what tlsclient does with Prometheus, OpenTelemetry or expvar, without
// tlsclient depending on any of them (examples/metrics wires expvar
// counters). WithLogger logs the same events with log/slog. With neither,
// no Event is built. Verifiers emit their own events with State.Emit.
//
// # HTTP and gRPC
//
// Dialer.HTTPClient and Dialer.Transport make net/http clients whose TLS
// connections are made and verified by the Dialer, HTTP/2 included;
// ResponseReport returns the Report of the connection a response came
// over, and a refused server makes the request fail with a
// *VerificationError. For gRPC and other libraries that make their own
// handshakes, pass Dialer.TLSConfig (credentials.NewTLS(d.TLSConfig()),
// see examples/grpc) and read the Reports with WithReportHook. In
// handshakes made by crypto/tls with a TLSConfig, a chain or host name
// failure is detected by crypto/tls before any tlsclient code runs: it
// comes back as crypto/tls's own error, without a Report.
//
// # Reports
//
// Every connection has a Report (Conn.Report, VerificationError.Report, or
// WithReportHook for callers that do not hold the Conn, such as net/http):
// the server name, the time everything was judged at, the protocol version,
// cipher suite and ALPN protocol, the verified chain (or, when the chain
// failed, the certificates the server sent), and one Check per decision,
// skips and warnings included: which verifier, about which certificate,
// with which Outcome (Pass, Fail, Skip, Warning), a short detail, the source
// and URL consulted and the error when there was one. Report.String renders
// it for people; it encodes to JSON with stable snake_case field names, and
// Outcome encodes as "pass", "fail", "skip" or "warning". Verifiers add
// their own checks with State.Record.
//
// A Verifier can also be called on its own with a hand-built State, to
// check a saved chain, a stapled response or a CRL offline.
package tlsclient
