// Package bench measures what tlsclient costs, each benchmark against its
// baseline in the same run. It holds no code of its own: the benchmarks are
// in its test files, and docs/PERFORMANCE.md publishes their results.
//
//	bench/run.sh                 # -count 6, benchstat, and the ratio table
//	go test ./bench -run '^$' -bench . -benchtime 1000x
//
// # Method
//
// The machines these run on are shared and noisy, so the benchmarks compare
// ratios, not absolute times: the variants of a comparison run interleaved,
// one after the other in each iteration, in an order that rotates, and the
// ratios are taken between the medians of their samples. Absolute times are
// reported too, for context. The quick tests (TestFixtures) run every
// benchmark body with a couple of iterations and check what does not
// depend on timing (fetch counts, bytes per entry, resumption); the
// allocation budgets (TestAllocBudgets) are exact counts, not timings.
//
// # Benchmarks and targets
//
// BenchmarkHandshake: a full TLS handshake (no resumption) on loopback with
// a 3-certificate chain (leaf, intermediate, root), the leaf carrying three
// embedded SCTs and a stapled OCSP response, the intermediate an OCSP
// responder whose answer is cached. Sub-benchmarks pair plain crypto/tls
// with tlsclient and its defaults ("tlsclient"), with revocation.New()
// warm ("revocation"), with ct.New() warm ("ct"), and with both ("all").
// Each reports the median of both variants (ns/hs, plain-ns/hs), the
// overhead in percent (overhead-%), and the allocations per handshake of
// the variant and its excess over plain crypto/tls (allocs/hs,
// extra-allocs/hs; these count the in-process server's allocations too,
// which are the same for both). Target: overhead-% at most 3 for "all".
//
// BenchmarkResumed: the same with session caches on, every handshake a
// TLS 1.3 resumption (the verifiers still run: VerifyConnection is called
// on resumed sessions). Target: overhead-% at most 3 for "all".
//
// BenchmarkColdChain: a dial with cold caches (a new Dialer and a new
// revocation.New() each time) of a chain of leaf, two intermediates and a
// root, whose OCSP responder answers after a fixed delay (50ms), against a
// plain crypto/tls dial of the same server. The three certificates are
// checked in parallel. Reports delays/dial (the median dial over the delay)
// and extra-delays/dial (the median cold dial minus the median plain dial,
// over the delay). Target: about 1, not 3.
//
// BenchmarkConcurrentColdDials: 64 dials at once, through one Dialer whose
// caches are cold, to one server whose leaf is checked by CRL and whose
// intermediate by OCSP, both answering after 20ms; against 64 concurrent
// plain crypto/tls dials. Reports fetches/URL (requests that reached the
// CRL server and the responder, per distinct URL), the batch times and
// their ratio. Target: fetches/URL = 1.
//
// BenchmarkCRLLoad: loading a CRL of 10k, 100k and 1M entries (RSA 2048
// signature) as package revocation does (internal/crlscan: header, then
// signature check and entry scan at once, DER released), interleaved with
// x509.ParseRevocationList of the same bytes, and with the same signature
// check after it (what crypto/x509 needs to reach the same state).
// Reports speedup (x509 parse over load; the target: 20 at 1M),
// speedup-verified (x509 parse and signature over load), B/entry (bytes the
// index retains per entry; target: at most 48) and lookup-ns (a listed or
// unlisted serial, given as a *big.Int); at 1M, lookup-vs-10k compares it
// with the lookup in a 10k-entry CRL built in the same run (O(1): about 1).
//
// BenchmarkSCTVerify: the CT verifier on a hand-built State with three
// embedded SCTs, cold (a new verifier: three signature checks) and warm
// (cached verdicts), interleaved with a plain full handshake. Reports
// cold-ns and warm-ns per handshake, each as a percentage of the
// handshake (cold-%-of-hs, warm-%-of-hs), and cold/warm.
//
// BenchmarkDial: each variant of BenchmarkHandshake and BenchmarkResumed
// alone, with b.ReportAllocs: not a comparison, but the loop to profile.
//
// BenchmarkWarmVerify: the hot path alone, on a warm cache, with
// allocations: revocation.New(), ct.New() and the whole tlsclient engine
// with both (the Dialer's VerifyConnection, given the ConnectionState of
// a real handshake). TestAllocBudgets fails when these exceed their
// budgets (see allocBudgets).
package bench
