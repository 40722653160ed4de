package ct

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Defaults, in one place. Each is documented on the option that changes it.
const (
	// DefaultMaxListAge is how old (by its log_list_timestamp, against the
	// time of check) a log list may be before enforcement stops: 70 days,
	// as Chrome ("CT Enforcement Timeout").
	DefaultMaxListAge = 70 * 24 * time.Hour
	// DefaultCacheSize bounds the verdicts a verifier remembers, one per
	// (certificate, SCT) pair.
	DefaultCacheSize = 4096
	// maxCachedSCT and maxCachedStaple are the largest SCT and stapled
	// OCSP response whose verdicts are cached (see WithCacheSize). A real
	// SCT is about 120 bytes (up to about 600 with an RSA-4096 log key);
	// a real staple one to three KiB, a little more with a delegated
	// responder's certificate and SCTs.
	maxCachedSCT    = 1 << 10
	maxCachedStaple = 8 << 10
	// MaxSCTs bounds the SCTs examined per connection, over the three
	// sources; the rest are reported as ignored. Real certificates carry
	// two to five.
	MaxSCTs = 64
)

// An Option configures a CT verifier. An invalid option does not panic: the
// verifier fails every check with an error naming it (New cannot return an
// error, so the mistake surfaces, closed, at the first handshake).
type Option func(*options) error

type options struct {
	policy      Policy
	maxAge      time.Duration // <= 0: never stale
	reportOnly  bool
	requireList bool // no list, or a stale one: fail instead of warn
	only        *x509.CertPool
	skip        *x509.CertPool
	source      LogSource
	cacheSize   int
}

func defaultOptions() *options {
	return &options{policy: ChromePolicy(), maxAge: DefaultMaxListAge, cacheSize: DefaultCacheSize}
}

// WithPolicy sets the policy SCTs are judged by: ChromePolicy (the
// default), ApplePolicy, or AtLeast for private logs.
func WithPolicy(p Policy) Option {
	return func(o *options) error {
		if p.p == nil {
			return errors.New("ct: WithPolicy: the zero Policy (use ChromePolicy, ApplePolicy or AtLeast)")
		}
		if a, ok := p.p.(atLeast); ok {
			if err := a.valid(); err != nil {
				return err
			}
		}
		o.policy = p
		return nil
	}
}

// WithMaxListAge sets how old the log list may be, judged by its
// log_list_timestamp against the time of check (State.Time), before the
// verifier stops enforcing: with an older list it still verifies and reports
// every SCT, but records the verdict as a warning and never aborts (a list
// that old may miss new logs, so certificates logged to them would fail for
// no fault of theirs). The default is DefaultMaxListAge, 70 days, as Chrome.
// d <= 0 makes the list never stale. With RequireLogList, a stale list
// fails every check instead.
func WithMaxListAge(d time.Duration) Option {
	return func(o *options) error {
		o.maxAge = d
		return nil
	}
}

// RequireLogList makes the verifier fail closed when it has no usable log
// list: when its LogSource has no list (a Refresher whose first download
// has not succeeded and whose cache file is missing or does not verify),
// or when the list is stale (older than WithMaxListAge), every check fails
// with an error that wraps both ErrNoUsableLogList and tlsclient.ErrCTPolicy,
// instead of recording a warning and letting the handshake through.
//
// Without it (the default), a missing or stale list turns enforcement off,
// as in Chrome: CT is then a check that can stop working, but never one
// that stops every connection because a list could not be downloaded. Use
// RequireLogList where an unchecked connection is worse than no connection.
// To keep enforcing with an old list rather than fail, add
// WithMaxListAge(0) (the list never goes stale; certificates logged only to
// logs newer than the list then fail). In report-only mode nothing aborts:
// the missing list is recorded as a warning.
func RequireLogList() Option {
	return func(o *options) error {
		o.requireList = true
		return nil
	}
}

// ReportOnly records the policy verdict and every SCT in the Report but
// never aborts the handshake: a certificate that does not comply is
// recorded as a warning. Use it to observe before enforcing.
func ReportOnly() Option {
	return func(o *options) error {
		o.reportOnly = true
		return nil
	}
}

// OnlyForRoots limits enforcement to chains that end in a root of pool
// (typically the public roots, x509.SystemCertPool), so that certificates of
// a private PKI, which are not logged, are not refused. Connections outside
// the scope are recorded as skipped. With several verified chains, the
// connection is in scope when any of them ends in pool.
func OnlyForRoots(pool *x509.CertPool) Option {
	return func(o *options) error {
		if pool == nil {
			return errors.New("ct: OnlyForRoots: nil pool")
		}
		o.only = pool
		return nil
	}
}

// SkipRoots exempts chains that end in a root of pool (your private CAs)
// from CT: they are recorded as skipped. With several verified chains, the
// connection is exempt only when every one of them ends in pool.
func SkipRoots(pool *x509.CertPool) Option {
	return func(o *options) error {
		if pool == nil {
			return errors.New("ct: SkipRoots: nil pool")
		}
		o.skip = pool
		return nil
	}
}

// WithLogSource makes the verifier read its log list from src at every
// handshake, for lists that change while it runs (a Refresher, or your own
// LogSource). Pass a nil list to New with it. While src has no list yet,
// CT is not enforced and a warning is recorded (with RequireLogList, every
// check fails instead).
func WithLogSource(src LogSource) Option {
	return func(o *options) error {
		if src == nil {
			return errors.New("ct: WithLogSource: nil source")
		}
		o.source = src
		return nil
	}
}

// WithCacheSize bounds the verdict cache (DefaultCacheSize unless set). Each
// SCT signature is verified once per certificate and remembered, so that
// repeated handshakes with a server cost no signature verification.
//
// The caches are bounded in bytes as well as in entries, so that a hostile
// server cannot fill memory by sending large or ever-changing SCTs and
// staples: an SCT larger than 1 KiB, or a stapled OCSP response larger
// than 8 KiB, is verified on every handshake and never remembered (real
// ones are about 120 bytes and one to three KiB), and inputs that do not
// parse are never remembered. The OCSP cache holds a quarter as many
// entries as the signature cache, so at the default size the caches keep
// at most about 4.5 MiB of SCTs and 8 MiB of staples.
func WithCacheSize(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("ct: WithCacheSize: %d is not a positive size", n)
		}
		o.cacheSize = n
		return nil
	}
}
