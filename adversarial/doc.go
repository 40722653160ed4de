// Package adversarial holds no code: it is the test suite that proves, in
// one place, that no input from the network can crash, hang or fool a
// tlsclient client. Run it with
//
//	go test -race ./adversarial
//
// Every test plays a hostile peer on 127.0.0.1 against the public API
// (tlsclient.Dial with the revocation and ct verifiers), as a user would
// meet it:
//
//   - tls_test.go: TLS servers that send expired, not yet valid, wrong-host,
//     untrusted and wrong-usage chains; stale, revoked, malformed and
//     wrong (another certificate's, an unrelated key's) staples, with and
//     without must-staple; servers that hang mid-handshake, cut the
//     connection, speak another protocol or send oversized handshake
//     messages.
//   - endpoints_test.go: OCSP responders and CRL endpoints that hang, drip
//     bytes, stream gigabytes, announce huge bodies, redirect in loops or
//     to non-HTTP schemes, fail, cut the connection, return HTML or
//     truncated DER, answer for another serial or issuer, sign with an
//     unrelated key, or serve stale or future data.
//   - loglist_test.go: log-list sources for ct.Refresher that do the same,
//     plus bad signatures and rollbacks.
//   - ssrf_test.go: revocation.RefusePrivateAddresses and its ct
//     counterpart, end to end.
//   - race_test.go: 64 concurrent dials sharing one Dialer with
//     revocation.New and ct.New while caches fill, CRLs refresh in the
//     background and a ct.Refresher swaps lists (run under -race).
//   - interop_test.go: real OpenSSL peers (openssl s_server, openssl ca
//     -gencrl), TLS 1.2 and 1.3, RSA and ECDSA, good, revoked and
//     badssl-like negative servers; skipped when openssl is not installed.
//
// Each case asserts three things: the dial fails with the typed error a
// caller would test for (errors.Is on the tlsclient sentinels, errors.As on
// *tlsclient.CertificateError, *revocation.UnavailableError,
// *revocation.FetchError, *revocation.CRLError, *revocation.ResponseError
// ...), or passes with the warning the policy promises; it ends inside its
// time budget; and it leaves no goroutine behind (see leakCheck in
// helpers_test.go). A panic anywhere fails the test binary.
//
// Goroutine counts are process-wide, so the top-level tests of this
// package never call t.Parallel: each one's count is its own. Subtests may
// run in parallel under a parent that checks for leaks after them.
package adversarial
