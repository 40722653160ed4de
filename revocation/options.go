package revocation

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Defaults, in one place. Each is documented on the option that changes it.
const (
	// DefaultClockSkew is tolerated on every thisUpdate and nextUpdate.
	DefaultClockSkew = 5 * time.Minute
	// DefaultMaxAge bounds how long an OCSP response or CRL without
	// nextUpdate is used after its thisUpdate.
	DefaultMaxAge = 24 * time.Hour
	// DefaultMaxResponseLifetime caps how long after its thisUpdate an OCSP
	// response about an end-entity certificate is relied on, whatever its
	// nextUpdate (CA/Browser Forum Baseline Requirements 4.9.10).
	DefaultMaxResponseLifetime = 10 * 24 * time.Hour
	// DefaultFetchTimeout bounds each HTTP request, inside the dial's
	// context.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultMaxOCSPResponseSize caps an OCSP response body.
	DefaultMaxOCSPResponseSize = 64 << 10
	// DefaultMaxCRLSize caps a CRL download; real CRLs reach tens of MB.
	DefaultMaxCRLSize = 64 << 20
	// DefaultCRLMemoryLimit bounds the memory the CRLs a verifier keeps
	// take (their indexes: about 40 bytes per entry).
	DefaultCRLMemoryLimit = 256 << 20
	// DefaultMaxRedirects bounds the redirects a fetch follows (to http or
	// https only).
	DefaultMaxRedirects = 3
	// DefaultShortLived is the lifetime at or under which ExemptShortLived
	// exempts a certificate.
	DefaultShortLived = 7 * 24 * time.Hour
)

// Source names a place a revocation status comes from.
type Source string

// Sources, in the default order of New.
const (
	SourceStaple Source = "staple" // the OCSP response the server stapled (leaf only)
	SourceCRL    Source = "crl"    // CRLs from distribution points, or preloaded
	SourceOCSP   Source = "ocsp"   // OCSP responders from the AIA extension
)

// An Option configures a revocation verifier. An invalid option does not
// panic: the verifier fails every check with an error naming it (the
// constructors cannot return errors, so the mistake surfaces at the first
// handshake, closed).
type Option func(*options) error

type options struct {
	softFail      bool
	requireStatus bool
	leafOnly      bool
	shortLived    time.Duration // 0: no exemption
	order         []Source
	orderSet      bool

	httpClient    *http.Client
	fetchTimeout  time.Duration
	maxRedirects  int
	cache         Cache
	refusePrivate bool // RefusePrivateAddresses

	skew       time.Duration
	maxAge     time.Duration
	rejectSHA1 bool
	// maxLifetime caps OCSP responses about end-entity certificates.
	maxLifetime time.Duration
	nonce       bool
	maxOCSP     int64

	crls       [][]byte
	crlSigners []*x509.Certificate
	maxCRL     int64
	crlDir     string
	refresh    time.Duration // background refresh lead time; 0: off
	crlMemory  int64         // WithCRLMemoryLimit
}

func defaultOptions() *options {
	return &options{
		order:        []Source{SourceStaple, SourceCRL, SourceOCSP},
		fetchTimeout: DefaultFetchTimeout,
		maxRedirects: DefaultMaxRedirects,
		skew:         DefaultClockSkew,
		maxAge:       DefaultMaxAge,
		maxLifetime:  DefaultMaxResponseLifetime,
		maxOCSP:      DefaultMaxOCSPResponseSize,
		maxCRL:       DefaultMaxCRLSize,
		crlMemory:    DefaultCRLMemoryLimit,
	}
}

func applyOptions(opts []Option) (*options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("revocation: nil Option")
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// SoftFail makes a missing answer a warning instead of a failure: when no
// source gives a definitive status for a certificate that advertises one
// (responder down, CRL unreachable or stale), the check is recorded as a
// warning and the handshake continues. A definitive "revoked" still aborts.
//
// WARNING: soft-fail lets an attacker who can block the responder or CRL
// endpoint use a revoked certificate. Prefer the default hard-fail where
// the endpoints are reliable.
func SoftFail() Option {
	return func(o *options) error { o.softFail = true; return nil }
}

// RequireStatus makes a certificate without any usable status source fail
// with ErrRevocationUnavailable (by default it passes, recorded as not
// applicable). With preloaded CRLs this demands a CRL for every CA, like
// OpenSSL's X509_V_FLAG_CRL_CHECK_ALL; with Stapled it demands a staple.
func RequireStatus() Option {
	return func(o *options) error { o.requireStatus = true; return nil }
}

// LeafOnly checks only the server's certificate. By default every
// certificate of the chain except the trust anchor is checked.
func LeafOnly() Option {
	return func(o *options) error { o.leafOnly = true; return nil }
}

// ExemptShortLived skips certificates whose lifetime (notAfter - notBefore)
// is at most d (DefaultShortLived, 7 days, when d is 0), as the CA/Browser
// Forum allows for short-lived certificates that carry no revocation
// information. The exemption is recorded in the Report.
func ExemptShortLived(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("revocation: ExemptShortLived: negative lifetime %s", d)
		}
		if d == 0 {
			d = DefaultShortLived
		}
		o.shortLived = d
		return nil
	}
}

// WithOrder sets the order in which New consults the sources (default
// staple, CRL, OCSP); the first definitive answer wins. Sources left out are
// not consulted.
func WithOrder(sources ...Source) Option {
	return func(o *options) error {
		if len(sources) == 0 {
			return errors.New("revocation: WithOrder: no source")
		}
		seen := map[Source]bool{}
		for _, s := range sources {
			switch s {
			case SourceStaple, SourceCRL, SourceOCSP:
			default:
				return fmt.Errorf("revocation: WithOrder: unknown source %q", s)
			}
			if seen[s] {
				return fmt.Errorf("revocation: WithOrder: source %q given twice", s)
			}
			seen[s] = true
		}
		o.order = append([]Source(nil), sources...)
		o.orderSet = true
		return nil
	}
}

// WithHTTPClient sets the client used for OCSP and CRL requests. It is
// copied, not modified: the verifier adds its own redirect policy and
// per-request timeout. By default a private clone of http.DefaultTransport
// is used (which honours HTTP_PROXY).
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("revocation: WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	}
}

// RefusePrivateAddresses makes OCSP and CRL fetches refuse to connect to
// addresses that are not public: loopback, private (RFC 1918 and IPv6
// unique local), link-local (169.254.169.254, the cloud metadata services,
// included), unspecified, multicast, shared (RFC 6598) and the other
// special-purpose ranges. Use it in services that dial hosts chosen by
// others (webhooks, crawlers, federation), so that a responder URL, or a
// redirect from one, cannot make them reach into their own network
// (server-side request forgery). A refusal is a *FetchError of kind
// FetchPrivateAddress.
//
// The address is checked when the socket connects, after name resolution,
// so a name that resolves to a private address is refused whatever it
// looks like (DNS rebinding included), and so is every redirect target.
// To keep the check unavoidable, fetches then connect directly: a proxy
// (HTTP_PROXY included) and the dial functions of a WithHTTPClient
// transport are not used, and a transport that is not an *http.Transport
// is refused (the verifier then fails every check, closed).
//
// WARNING: it is off by default. The URLs fetched come from certificates
// that have already been validated to a trusted root, so an attacker needs
// a CA's help, or control of the plain-HTTP path to a responder (which lets
// them inject a redirect), to choose them. Private PKIs routinely publish
// OCSP and CRLs on internal addresses, and refusing those by default would
// make hard-fail revocation refuse every connection. Turn it on wherever
// the hosts dialled are not your own; see SECURITY.md.
func RefusePrivateAddresses() Option {
	return func(o *options) error { o.refusePrivate = true; return nil }
}

// WithFetchTimeout bounds each HTTP request (DefaultFetchTimeout, 5s, by
// default). Requests also end with the dial's context.
func WithFetchTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("revocation: WithFetchTimeout: %s is not positive", d)
		}
		o.fetchTimeout = d
		return nil
	}
}

// WithMaxRedirects bounds the redirects a fetch follows (DefaultMaxRedirects
// by default; 0 follows none). Redirects to schemes other than http and
// https are never followed.
func WithMaxRedirects(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("revocation: WithMaxRedirects: %d is negative", n)
		}
		o.maxRedirects = n
		return nil
	}
}

// WithCache sets where fetched OCSP responses and CRLs are kept between
// dials (an in-memory cache per verifier by default). Share one Cache
// between verifiers, or back it with a shared store for a fleet.
func WithCache(c Cache) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("revocation: WithCache: nil cache")
		}
		o.cache = c
		return nil
	}
}

// WithClockSkew sets the tolerance on thisUpdate and nextUpdate
// (DefaultClockSkew, 5 minutes, by default).
func WithClockSkew(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("revocation: WithClockSkew: %s is negative", d)
		}
		o.skew = d
		return nil
	}
}

// WithMaxAge bounds how long an OCSP response or a CRL without nextUpdate
// is used after its thisUpdate (DefaultMaxAge, 24 hours, by default). It
// also caps how long a fetched OCSP response is cached.
func WithMaxAge(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("revocation: WithMaxAge: %s is not positive", d)
		}
		o.maxAge = d
		return nil
	}
}

// WithMaxResponseLifetime caps how long after its thisUpdate an OCSP
// response about an end-entity certificate (stapled or fetched) is relied
// on, even when its nextUpdate is later (DefaultMaxResponseLifetime, 10
// days, by default, the Baseline Requirements' maximum; Firefox applies the
// same cap). Responses about CA certificates are not capped: the
// requirements allow them to last a year. d <= 0 removes the cap.
func WithMaxResponseLifetime(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			d = 0
		}
		o.maxLifetime = d
		return nil
	}
}

// RejectSHA1 refuses OCSP responses and delegated responder certificates
// signed with SHA-1. They are accepted by default because they are still
// common in the wild.
func RejectSHA1() Option {
	return func(o *options) error { o.rejectSHA1 = true; return nil }
}

// WithNonce sends a random nonce in each OCSP request and requires the
// response to echo it. Requests with a nonce are sent by POST and their
// responses are not cached; many public responders ignore nonces, so enable
// it only for responders known to support them.
func WithNonce() Option {
	return func(o *options) error { o.nonce = true; return nil }
}

// WithMaxOCSPResponseSize caps an OCSP response body
// (DefaultMaxOCSPResponseSize, 64 KiB, by default).
func WithMaxOCSPResponseSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("revocation: WithMaxOCSPResponseSize: %d is not positive", n)
		}
		o.maxOCSP = n
		return nil
	}
}

// WithCRLs preloads DER (or PEM) CRLs for offline use, like curl --crlfile
// or an OpenSSL CRL store. A certificate whose issuer has a preloaded CRL is
// checked against it without fetching its distribution points. Malformed
// CRLs make the verifier fail closed with an error naming them.
func WithCRLs(ders ...[]byte) Option {
	return func(o *options) error {
		for i, d := range ders {
			if len(d) == 0 {
				return fmt.Errorf("revocation: WithCRLs: CRL %d is empty", i)
			}
		}
		o.crls = append(o.crls, ders...)
		return nil
	}
}

// WithCRLSigners supplies certificates that may have signed CRLs on behalf
// of a CA that signs its CRLs with a separate key (RFC 5280 6.3.3 (f)).
// Such a certificate is used for the CRL of a certificate only when:
//
//   - its subject is the certificate's issuer name (the CRL's issuer) and,
//     when the CRL has an authority key identifier, its subject key
//     identifier matches it;
//   - it has a key usage extension with cRLSign (a certificate without key
//     usage, an end-entity certificate for instance, is never a CRL
//     signer);
//   - it is issued by the certificate's issuer itself, or by the issuer's
//     own issuer in the verified chain (the CA that certified the
//     issuer's key): its signature is checked, and it must be valid at the
//     verification time. A certificate with the issuer's name from any
//     other CA, even under the same root, is refused.
//
// Certificates the server sent are considered too, on the same terms.
// (The issuer itself signs its CRLs with cRLSign when its key usage
// extension is present.)
func WithCRLSigners(certs ...*x509.Certificate) Option {
	return func(o *options) error {
		for i, c := range certs {
			if c == nil {
				return fmt.Errorf("revocation: WithCRLSigners: certificate %d is nil", i)
			}
		}
		o.crlSigners = append(o.crlSigners, certs...)
		return nil
	}
}

// WithMaxCRLSize caps a CRL download (DefaultMaxCRLSize, 64 MiB, by default).
func WithMaxCRLSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("revocation: WithMaxCRLSize: %d is not positive", n)
		}
		o.maxCRL = n
		return nil
	}
}

// WithCRLCacheDir keeps downloaded CRLs in dir, so that they survive
// restarts. Files hold the raw DER and are verified again when loaded.
func WithCRLCacheDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("revocation: WithCRLCacheDir: empty directory")
		}
		o.crlDir = dir
		return nil
	}
}

// WithCRLMemoryLimit bounds the memory taken by the CRLs a verifier keeps
// (their indexes, about 40 bytes per entry, and a kilobyte each;
// DefaultCRLMemoryLimit, 256 MiB, by default). Beyond it the least
// recently used CRLs are dropped, to be loaded again when needed (from
// WithCache or WithCRLCacheDir when given); the CRL a dial is using is
// always kept, even alone above the limit. CRLs are also dropped a day
// after their nextUpdate.
func WithCRLMemoryLimit(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("revocation: WithCRLMemoryLimit: %d is not positive", n)
		}
		o.crlMemory = n
		return nil
	}
}

// WithBackgroundRefresh refreshes a cached CRL in the background once it is
// within lead of its nextUpdate, so that dials do not wait for a download in
// steady state. Refreshes are paced: a CRL is fetched again at most every
// lead/8 (and at most every second), and after a failed refresh the wait
// doubles, up to lead/2, so that a CA that publishes late, or an endpoint
// that fails, sees a request now and then, not one per dial.
func WithBackgroundRefresh(lead time.Duration) Option {
	return func(o *options) error {
		if lead <= 0 {
			return fmt.Errorf("revocation: WithBackgroundRefresh: %s is not positive", lead)
		}
		o.refresh = lead
		return nil
	}
}
