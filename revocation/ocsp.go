package revocation

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlsclient/tlsclient/internal/fetch"
	"github.com/tlsclient/tlsclient/internal/flight"
	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/x509util"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OCSP request constants (RFC 6960 4.1, RFC 5019 5, RFC 8954).
const (
	// ocspMaxGET is the longest request, base64 encoded and URL-escaped,
	// sent by GET (RFC 5019 5: requests under 255 bytes SHOULD use GET, so
	// that HTTP proxies and CDNs can cache the responses).
	ocspMaxGET = 255
	// ocspNonceSize is the nonce length sent by WithNonce (RFC 8954 asks
	// for 1 to 32 octets; 16 is what OpenSSL and most clients send).
	ocspNonceSize         = 16
	ocspRequestMediaType  = "application/ocsp-request"
	ocspResponseMediaType = "application/ocsp-response"
	// ocspCacheKeyPrefix keeps OCSP entries apart from CRLs in a shared
	// Cache.
	ocspCacheKeyPrefix = "ocsp:"
)

var (
	oidOCSPSHA1  = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// ocspSource asks the OCSP responders of a certificate's AIA extension, in
// the order the certificate lists them, until one gives a definitive answer
// (good or revoked) that validates against the verified chain.
//
// Requests use a SHA-1 CertID (RFC 5019, what every responder supports);
// they go by GET when short enough, by POST otherwise and always when a
// nonce is sent. Only http and https URLs are fetched: a certificate whose
// responders all use other schemes (ldap://, file://) has no usable OCSP
// source and passes as not applicable, recorded, unless RequireStatus.
//
// Definitive responses are kept in the Cache as raw DER under the full
// CertID, for as long as they are fresh (until nextUpdate, or thisUpdate
// plus the maximum age without one) and at most the maximum age (WithMaxAge)
// after they were fetched, so that a responder's new answer is seen at
// least that often. A cached response is validated again at every use, but
// its signature check is remembered in a verdict cache, so a warm hit costs
// a hash and a freshness comparison. Concurrent checks of the same CertID
// share one fetch; with WithNonce every check fetches (and nothing is
// cached), since each request is unique.
type ocspSource struct {
	opts ocspcheck.Options
	// maxLifetime caps responses about end-entity certificates.
	maxLifetime time.Duration
	nonce       bool
	maxSize     int64
	maxAge      time.Duration
	fetcher     *fetch.Fetcher
	cache       Cache
	verdicts    *ocspcheck.VerdictCache

	flights flight.Group[string, ocspFetched] // concurrent fetches of one CertID

	// signatureChecks counts responses validated from scratch (verdict
	// cache misses), so that tests can prove a warm hit costs none.
	signatureChecks atomic.Int64

	targetsMu sync.Mutex // guards targets
	targets   map[[2]*x509.Certificate]*ocspTarget
}

// ocspTarget is what checking a certificate by OCSP needs that depends
// only on the certificate and its issuer: the responders to ask and the
// CertID. It is remembered per (certificate, issuer) pair, by pointer:
// crypto/tls hands the same *x509.Certificate to the handshakes with a
// server while one is in use, and a resumed session keeps its own, so a
// warm check neither parses URLs nor hashes the issuer again.
type ocspTarget struct {
	urls        []string
	unsupported []error
	id          *ocspCertID
	idErr       error
	key         string
}

// maxOCSPTargets bounds the remembered targets; the map is emptied when
// full.
const maxOCSPTargets = 256

// target returns the target for r's certificate and issuer.
func (s *ocspSource) target(r *request) *ocspTarget {
	k := [2]*x509.Certificate{r.cert, r.issuer}
	s.targetsMu.Lock()
	t := s.targets[k]
	s.targetsMu.Unlock()
	if t != nil {
		return t
	}
	t = &ocspTarget{}
	for _, u := range r.cert.OCSPServer {
		if err := fetch.CheckURL(u); err != nil {
			t.unsupported = append(t.unsupported, err)
			continue
		}
		t.urls = append(t.urls, u)
	}
	// Shared by concurrent checks: appending must copy.
	t.urls, t.unsupported = slices.Clip(t.urls), slices.Clip(t.unsupported)
	if len(t.urls) > 0 {
		if t.id, t.idErr = newOCSPCertID(r.cert, r.issuer); t.idErr == nil {
			t.key = t.id.cacheKey()
		}
	}
	s.targetsMu.Lock()
	if s.targets == nil || len(s.targets) >= maxOCSPTargets {
		s.targets = make(map[[2]*x509.Certificate]*ocspTarget)
	}
	s.targets[k] = t
	s.targetsMu.Unlock()
	return t
}

func newOCSPSource(o *options, f *fetch.Fetcher, c Cache) *ocspSource {
	return &ocspSource{
		opts:        ocspcheck.Options{Skew: skewOption(o.skew), MaxAge: o.maxAge, RejectSHA1: o.rejectSHA1},
		maxLifetime: o.maxLifetime,
		nonce:       o.nonce,
		maxSize:     o.maxOCSP,
		maxAge:      o.maxAge,
		fetcher:     f,
		cache:       c,
		verdicts:    ocspcheck.NewVerdictCache(0),
	}
}

// ocspCertID is the CertID of a request (RFC 6960 4.1.1), SHA-1 hashed.
type ocspCertID struct {
	nameHash []byte // SHA-1 of the issuer's DER name, as the certificate spells it
	keyHash  []byte // SHA-1 of the issuer's subjectPublicKey bits
	serial   *big.Int
}

func newOCSPCertID(cert, issuer *x509.Certificate) (*ocspCertID, error) {
	bits, err := x509util.SubjectPublicKeyBytes(issuer)
	if err != nil {
		return nil, fmt.Errorf("revocation: issuer %s: %w", issuer.Subject, err)
	}
	if cert.SerialNumber == nil {
		return nil, errors.New("revocation: certificate without a serial number")
	}
	name := sha1.Sum(cert.RawIssuer)
	key := sha1.Sum(bits)
	return &ocspCertID{nameHash: name[:], keyHash: key[:], serial: cert.SerialNumber}, nil
}

// cacheKey names the CertID in full: hash algorithm, issuer name hash,
// issuer key hash and serial.
func (id *ocspCertID) cacheKey() string {
	return ocspCacheKeyPrefix + "sha1:" + hex.EncodeToString(id.nameHash) + ":" +
		hex.EncodeToString(id.keyHash) + ":" + id.serial.Text(16)
}

// marshalOCSPRequest encodes an unsigned OCSPRequest for id, with a nonce
// extension when nonce is not nil. Without a nonce the encoding is
// deterministic, so concurrent requests are byte-identical and merge.
func marshalOCSPRequest(id *ocspCertID, nonce []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OCSPRequest
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSRequest
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // requestList
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // Request
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CertID
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidOCSPSHA1)
							b.AddASN1NULL()
						})
						b.AddASN1OctetString(id.nameHash)
						b.AddASN1OctetString(id.keyHash)
						b.AddASN1BigInt(id.serial)
					})
				})
			})
			if nonce == nil {
				return
			}
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { // requestExtensions
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidOCSPNonce)
						b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(nonce) // RFC 8954: Nonce ::= OCTET STRING
						})
					})
				})
			})
		})
	})
	return b.Bytes()
}

// ocspGetURL returns the RFC 6960 A.1 / RFC 5019 GET URL for a request to
// responder: the responder URL, a "/" if it lacks one, and the
// URL-escaped standard base64 of the request. ok is false when the escaped
// request is longer than ocspMaxGET, the responder URL has a query or a
// fragment that a path cannot be appended to, or the URL would not carry
// the request intact; the request then goes by POST.
func ocspGetURL(responder string, der []byte) (string, bool) {
	enc := url.PathEscape(base64.StdEncoding.EncodeToString(der))
	if len(enc) > ocspMaxGET {
		return "", false
	}
	u, err := url.Parse(responder)
	if err != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	if !strings.HasSuffix(responder, "/") {
		responder += "/"
	}
	get := responder + enc
	// The request line is the URL's EscapedPath: when the responder's
	// path is not validly escaped (a space, say), Go re-escapes the
	// decoded path, and the %2F of a base64 "/" would turn into a path
	// separator, cutting the request in two (found by FuzzOCSPRequestURL).
	if g, err := url.Parse(get); err != nil || !strings.HasSuffix(g.EscapedPath(), "/"+enc) {
		return "", false
	}
	return get, true
}

// ocspFetched is what asking the responders of one CertID produced: the
// first definitive answer and where it came from, or the reasons there is
// none.
type ocspFetched struct {
	res     *ocspcheck.Result // nil: no definitive answer
	url     string            // the responder that answered, or the last one asked
	cached  bool              // res came from the Cache, not the network
	unknown *ocspcheck.Result // the last "unknown" answer, when there is no res
	errs    []error           // one per responder that failed
}

// answersOffline marks the OCSP source as honouring request.offline.
func (*ocspSource) answersOffline() {}

func (s *ocspSource) check(ctx context.Context, r *request) answer {
	if len(r.cert.OCSPServer) == 0 {
		return answer{kind: notApplicable, detail: "no OCSP responder in the certificate"}
	}
	t := s.target(r)
	urls, unsupported := t.urls, t.unsupported
	if len(urls) == 0 {
		return answer{kind: notApplicable, url: r.cert.OCSPServer[0], err: ocspJoin(unsupported),
			detail: fmt.Sprintf("no usable OCSP responder: %s (only http and https URLs are fetched)", strings.Join(r.cert.OCSPServer, ", "))}
	}
	if t.idErr != nil {
		return answer{kind: noAnswer, url: urls[0], detail: "cannot build an OCSP request", err: t.idErr}
	}
	id, key := t.id, t.key
	var err error

	var out ocspFetched
	if s.nonce {
		if r.offline {
			return answer{kind: needsNetwork}
		}
		out = s.fetch(ctx, r, id, urls, key)
	} else {
		// Offline (see offlineSource), only an in-memory cache is asked:
		// another Cache may be a network service.
		if _, inMemory := s.cache.(*MemoryCache); inMemory || !r.offline {
			if res, ok := s.fromCache(ctx, key, r); ok {
				emitCache(ctx, r, true, SourceOCSP, urls[0], "OCSP response from the cache")
				return s.answer(ocspFetched{res: res, cached: true}, unsupported)
			}
		}
		if r.offline {
			return answer{kind: needsNetwork}
		}
		emitCache(ctx, r, false, SourceOCSP, urls[0], "no usable OCSP response in the cache")
		var shared bool
		out, shared, err = s.shared(ctx, key, urls[0], func(ctx context.Context) ocspFetched {
			return s.fetch(ctx, r, id, urls, key)
		})
		if err != nil {
			return answer{kind: noAnswer, url: urls[0], detail: "OCSP request not completed", err: ocspJoin(append(unsupported, err))}
		}
		if shared && out.res != nil {
			// The fetch was made for another dial, perhaps at another
			// time: judge freshness at ours.
			if err := out.res.Fresh(r.now, s.optsFor(r)); err != nil {
				return answer{kind: noAnswer, url: out.url, this: out.res.ThisUpdate, next: out.res.NextUpdate,
					detail: "OCSP response unusable", err: fmt.Errorf("OCSP response from %s: %w", out.url, err)}
			}
		}
	}
	return s.answer(out, unsupported)
}

// answer turns what the responders said into the engine's answer.
func (s *ocspSource) answer(out ocspFetched, unsupported []error) answer {
	if out.res != nil {
		what := "OCSP response from " + out.url
		if out.cached {
			what = "cached OCSP response"
		}
		return ocspAnswer(out.res, out.cached, what, out.url, false)
	}
	errs := append(unsupported, out.errs...)
	a := answer{kind: noAnswer, url: out.url, err: ocspJoin(errs)}
	switch n := len(out.errs); {
	case out.unknown != nil && n == 1:
		a.detail = "OCSP response from " + out.url + ": status unknown"
		a.this, a.next = out.unknown.ThisUpdate, out.unknown.NextUpdate
	case n == 1:
		a.detail = "OCSP request to " + out.url + " failed"
	default:
		a.detail = fmt.Sprintf("OCSP requests to %d responders failed", n)
	}
	return a
}

// fromCache returns a cached response for key that is valid and fresh for
// r. A stale or invalid entry is ignored (and replaced by the next fetch).
func (s *ocspSource) fromCache(ctx context.Context, key string, r *request) (*ocspcheck.Result, bool) {
	der, ok := s.cache.Get(ctx, key)
	if !ok {
		return nil, false
	}
	res, err := s.validate(der, r, s.optsFor(r))
	if err != nil || res.Status == ocspcheck.Unknown {
		return nil, false
	}
	return res, true
}

// optsFor is the validation options for r's certificate: responses about
// end-entity certificates are relied on for at most maxLifetime after their
// thisUpdate, whatever their nextUpdate says.
func (s *ocspSource) optsFor(r *request) ocspcheck.Options {
	o := s.opts
	if !r.cert.IsCA {
		o.MaxLifetime = s.maxLifetime
	}
	return o
}

// validate checks der for r through the verdict cache.
func (s *ocspSource) validate(der []byte, r *request, opts ocspcheck.Options) (*ocspcheck.Result, error) {
	res, hit, err := s.verdicts.Validate(der, r.cert, r.issuer, r.now, opts)
	if !hit {
		s.signatureChecks.Add(1)
	}
	return res, err
}

// shared runs work once for all the concurrent checks that ask for key
// (see internal/flight). A caller whose ctx ends stops waiting at once, with
// a FetchError naming responder. shared reports whether the caller joined a
// fetch in progress.
func (s *ocspSource) shared(ctx context.Context, key, responder string, work func(context.Context) ocspFetched) (out ocspFetched, shared bool, err error) {
	out, shared, err = s.flights.Do(ctx, key, work)
	if err != nil {
		kind := FetchCanceled
		if errors.Is(err, context.DeadlineExceeded) {
			kind = FetchTimeout
		}
		return ocspFetched{}, shared, &FetchError{Kind: kind, URL: responder, Err: context.Cause(ctx)}
	}
	return out, shared, nil
}

// fetch asks the responders in order until one gives a definitive answer,
// and caches it. It first looks in the cache again: a fetch that completed
// between the caller's lookup and now has stored its answer there.
func (s *ocspSource) fetch(ctx context.Context, r *request, id *ocspCertID, urls []string, key string) ocspFetched {
	if !s.nonce {
		if res, ok := s.fromCache(ctx, key, r); ok {
			return ocspFetched{res: res, cached: true}
		}
	}
	var out ocspFetched
	for _, u := range urls {
		out.url = u
		if ctx.Err() != nil {
			kind := FetchCanceled
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				kind = FetchTimeout
			}
			out.errs = append(out.errs, &FetchError{Kind: kind, URL: u, Err: context.Cause(ctx)})
			break
		}
		res, der, err := s.ask(ctx, r, id, u)
		if err != nil {
			out.errs = append(out.errs, err)
			continue
		}
		if res.Status == ocspcheck.Unknown {
			out.unknown = res
			out.errs = append(out.errs, fmt.Errorf("OCSP response from %s: the responder does not know the certificate (status unknown)", u))
			continue
		}
		if !s.nonce {
			if ttl := s.ttl(res, r); ttl > 0 {
				s.cache.Put(ctx, key, der, ttl)
			}
		}
		return ocspFetched{res: res, url: u}
	}
	return out
}

// ttl is how long a response may stay in the cache: while it is fresh,
// and no longer than the maximum age.
func (s *ocspSource) ttl(res *ocspcheck.Result, r *request) time.Duration {
	return min(res.Expires(s.optsFor(r)).Sub(r.now), s.maxAge)
}

// ask sends one request to responder and validates the response.
func (s *ocspSource) ask(ctx context.Context, r *request, id *ocspCertID, responder string) (*ocspcheck.Result, []byte, error) {
	var nonce []byte
	opts := s.optsFor(r)
	if s.nonce {
		nonce = make([]byte, ocspNonceSize)
		rand.Read(nonce)
		opts.Nonce = nonce
	}
	der, err := marshalOCSPRequest(id, nonce)
	if err != nil {
		return nil, nil, fmt.Errorf("revocation: building the OCSP request: %w", err)
	}
	req := fetch.Request{URL: responder, Method: http.MethodPost, Body: der,
		ContentType: ocspRequestMediaType, Accept: ocspResponseMediaType, MaxSize: s.maxSize}
	if nonce == nil {
		if get, ok := ocspGetURL(responder, der); ok {
			req = fetch.Request{URL: get, Method: http.MethodGet, Accept: ocspResponseMediaType, MaxSize: s.maxSize}
		}
	}
	resp, err := fetchObserved(ctx, r, s.fetcher, SourceOCSP, responder, req)
	if err != nil {
		var fe *FetchError
		if errors.As(err, &fe) {
			// Name the responder, not the long GET URL, once (the
			// *url.Error inside repeats the URL).
			cp := *fe
			cp.URL = responder
			var ue *url.Error
			if errors.As(cp.Err, &ue) && ue.URL == req.URL {
				cp.Err = ue.Err
			}
			err = &cp
		}
		return nil, nil, err
	}
	// The Content-Type is not trusted either way: many responders get it
	// wrong, and a captive portal's HTML page says text/html. The body is
	// parsed; the type only helps explain a failure.
	res, err := s.validate(resp.Body, r, opts)
	if err != nil {
		if ct := resp.ContentType; ct != "" && ct != ocspResponseMediaType {
			return nil, nil, fmt.Errorf("OCSP response from %s (Content-Type %q): %w", responder, ct, err)
		}
		return nil, nil, fmt.Errorf("OCSP response from %s: %w", responder, err)
	}
	return res, resp.Body, nil
}

// ocspErrors is several failures, on one line, reachable with errors.Is
// and errors.As.
type ocspErrors []error

func (e ocspErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e ocspErrors) Unwrap() []error { return e }

// ocspJoin returns nil, the only error, or all of them as one.
func ocspJoin(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return ocspErrors(append([]error(nil), errs...))
}
