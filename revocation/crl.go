package revocation

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/crlscan"
	"github.com/tlsclient/tlsclient/internal/fetch"
)

// crlSource checks certificates against CRLs with the semantics of RFC 5280
// section 6.3: preloaded CRLs (WithCRLs) first, then the certificate's
// distribution points over http and https. A CRL is used for a certificate
// only when it is signed by the certificate's issuer (or a CRL-signing
// certificate of the same CA), names the same issuer, is current, has no
// critical extension it cannot interpret and its Issuing Distribution
// Point covers the certificate; delta CRLs are applied to their base.
//
// Indirect CRLs (a cRLIssuer in the distribution point, indirectCRL in the
// IDP, certificateIssuer entries) are refused with CRLIndirect: deciding
// which entries belong to which issuer is where CRL implementations go
// wrong, and the Web PKI does not use them.
//
// A certificate whose distribution points are all unusable (LDAP and
// other non-HTTP URLs, directory names) has no CRL source, like one whose
// OCSP responders are all non-HTTP: it is not applicable, with the reasons
// recorded, and fails under RequireStatus.
type crlSource struct {
	opts      *options
	store     *crlStore
	preloaded map[string][]*preCRL // by raw issuer name
}

// preCRL is a CRL given to WithCRLs. Its DER stays referenced (the caller
// holds it anyway) so that its signature can be checked against each
// issuer it is used for.
type preCRL struct {
	label string // "preloaded CRL 2"
	crl   *crlscan.CRL

	mu      sync.Mutex            // guards signers
	signers map[string]signerMemo // by issuer certificate DER
}

type signerMemo struct {
	signer *x509.Certificate
	err    error
}

var _ offlineSource = (*crlSource)(nil)

// answersOffline marks the CRL source as honouring request.offline: it
// answers from preloaded CRLs and from the CRLs it holds in memory, and
// returns needsNetwork when it would have to load one.
func (*crlSource) answersOffline() {}

func newCRLSource(o *options, f *fetch.Fetcher, c Cache) (*crlSource, error) {
	s := &crlSource{opts: o, preloaded: map[string][]*preCRL{}}
	n := 0
	for i, b := range o.crls {
		ders, err := crlDERs(b)
		if err != nil {
			return nil, fmt.Errorf("revocation: WithCRLs: CRL %d: %w", i, err)
		}
		for j, der := range ders {
			c, err := crlscan.Parse(der)
			if err != nil {
				return nil, fmt.Errorf("revocation: WithCRLs: CRL %d (block %d): %w", i, j, err)
			}
			n++
			p := &preCRL{label: fmt.Sprintf("preloaded CRL %d", n), crl: c, signers: map[string]signerMemo{}}
			s.preloaded[string(c.RawIssuer)] = append(s.preloaded[string(c.RawIssuer)], p)
		}
	}
	// The DER of fetched CRLs goes to a Cache only when the caller chose
	// one: the default in-memory cache would hold each CRL twice (the
	// index is the in-memory cache).
	if o.cache == nil {
		c = nil
	}
	s.store = newCRLStore(s, o, f, c)
	return s, nil
}

// crlDERs returns the DER CRLs in b: b itself, or every "X509 CRL" block
// when b is PEM.
func crlDERs(b []byte) ([][]byte, error) {
	trimmed := strings.TrimSpace(string(b[:min(len(b), 64)]))
	if !strings.HasPrefix(trimmed, "-----BEGIN") {
		return [][]byte{b}, nil
	}
	var out [][]byte
	for {
		var p *pem.Block
		p, b = pem.Decode(b)
		if p == nil {
			break
		}
		if p.Type == "X509 CRL" {
			out = append(out, p.Bytes)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("PEM without an X509 CRL block")
	}
	return out, nil
}

// crlEval accumulates what the CRLs consulted for one certificate say.
type crlEval struct {
	// needsNetwork: in offline mode, a CRL had to be loaded.
	needsNetwork bool
	covered      crlscan.ReasonFlags
	errs         []error
	used         []string // what was used, for the detail
	ans          answer   // url, cached, this, next of the first CRL used
	any          bool
}

// use records that a usable CRL (base, with its delta note) covered the
// reasons in covered.
func (ev *crlEval) use(what string, covered crlscan.ReasonFlags, c *crlscan.CRL, url string, cached bool) {
	ev.covered |= covered
	ev.used = append(ev.used, what)
	if !ev.any {
		ev.any = true
		ev.ans.url, ev.ans.cached, ev.ans.this, ev.ans.next = url, cached, c.ThisUpdate, c.NextUpdate
	}
}

func (ev *crlEval) complete() bool { return ev.covered == crlscan.AllReasons }

func (s *crlSource) check(ctx context.Context, r *request) answer {
	dps, err := certPoints(r.cert, false)
	if err != nil {
		return answer{kind: noAnswer, detail: "unreadable CRL distribution points extension",
			err: &CRLError{Reason: CRLMalformed, Detail: "the certificate's CRL distribution points extension", Err: err}}
	}
	pre := s.preloaded[string(r.cert.RawIssuer)]
	if len(dps) == 0 && len(pre) == 0 {
		return answer{kind: notApplicable, detail: "no CRL distribution point in the certificate and no preloaded CRL for its issuer"}
	}
	if len(pre) == 0 {
		if a, none := noUsablePoint(dps); none {
			return a
		}
	}
	ev := &crlEval{}
	if len(pre) > 0 {
		if a, done := s.checkPreloaded(r, pre, dps, ev); done {
			return a
		}
	}
	for i := range dps {
		a, done := s.checkPoint(ctx, r, &dps[i], ev)
		if ev.needsNetwork {
			return answer{kind: needsNetwork}
		}
		if done {
			return a
		}
		if ev.complete() {
			break
		}
	}
	return ev.finish()
}

// noUsablePoint returns, when no distribution point of the certificate can
// be fetched (LDAP, file and other URLs; points named by a directory name
// only), the answer the OCSP source gives for responders it cannot ask:
// not applicable, with the reasons, as the certificate names no source this
// package can use (RequireStatus then fails it). A distribution point with
// a cRLIssuer counts as usable: it is an indirect CRL, refused explicitly.
func noUsablePoint(dps []crlscan.DistributionPoint) (answer, bool) {
	var errs []error
	var names []string
	for i := range dps {
		dp := &dps[i]
		if dp.CRLIssuer != nil {
			return answer{}, false
		}
		uris := dp.URIs()
		if len(uris) == 0 {
			errs = append(errs, crlErr(CRLUnsupported, "", "the distribution point is named by %s, not by a URL", pointLabel(*dp)))
			names = append(names, pointLabel(*dp))
		}
		for _, u := range uris {
			err := supportedURL(u)
			if err == nil {
				return answer{}, false
			}
			errs = append(errs, &CRLError{Reason: CRLUnsupported, URL: u, Detail: "not fetched", Err: err})
			names = append(names, u)
		}
	}
	err := errs[0]
	if len(errs) > 1 {
		err = errors.Join(errs...)
	}
	a := answer{kind: notApplicable, err: err,
		detail: fmt.Sprintf("no usable CRL distribution point: %s (only http and https URLs are fetched)", strings.Join(names, ", "))}
	for _, err := range errs {
		if ce := err.(*CRLError); ce.URL != "" {
			a.url = ce.URL
			break
		}
	}
	return a, true
}

// finish turns what was found into a good answer or no answer.
func (ev *crlEval) finish() answer {
	a := ev.ans
	switch {
	case ev.complete():
		a.kind = good
		a.detail = "not revoked: " + strings.Join(ev.used, "; ")
		if len(ev.errs) > 0 {
			// Record what was passed over (an LDAP point, a stale
			// preloaded CRL...).
			var skipped []string
			for _, err := range ev.errs {
				var ce *CRLError
				if errors.As(err, &ce) {
					where := ce.URL
					if where == "" {
						where = "preloaded CRL"
					}
					skipped = append(skipped, where+": "+ce.Reason.String())
				} else {
					skipped = append(skipped, err.Error())
				}
			}
			a.detail += "; not used: " + strings.Join(skipped, "; ")
		}
		return a
	case ev.any:
		a.kind = noAnswer
		a.detail = "CRLs cover only some revocation reasons"
		err := crlErr(CRLPartial, a.url, "the usable CRLs (%s) cover %s; no CRL covers %s",
			strings.Join(ev.used, "; "), reasonsText(ev.covered), reasonsText(crlscan.AllReasons&^ev.covered))
		a.err = errors.Join(append([]error{err}, ev.errs...)...)
		return a
	}
	a.kind = noAnswer
	a.detail = "no usable CRL"
	if len(ev.errs) == 0 {
		ev.errs = append(ev.errs, crlErr(CRLUnsupported, "", "no distribution point of the certificate could be used"))
	}
	if len(ev.errs) == 1 {
		a.err = ev.errs[0]
		var ce *CRLError
		if errors.As(a.err, &ce) {
			a.detail = "no usable CRL: " + ce.Reason.String()
			a.url = ce.URL
		}
	} else {
		a.err = errors.Join(ev.errs...)
	}
	return a
}

// checkPreloaded consults the preloaded CRLs of the certificate's issuer.
func (s *crlSource) checkPreloaded(r *request, pre []*preCRL, dps []crlscan.DistributionPoint, ev *crlEval) (answer, bool) {
	var bases, deltas []*preCRL
	for _, p := range pre {
		if p.crl.IsDelta() {
			deltas = append(deltas, p)
		} else {
			bases = append(bases, p)
		}
	}
	var usable []*preCRL
	for _, p := range bases {
		if err := s.usablePreloaded(r, p); err != nil {
			ev.errs = append(ev.errs, err)
			continue
		}
		usable = append(usable, p)
	}
	// CRLs are cumulative: the newest decides (an older one may still
	// list a certificate whose hold was released, or miss a revocation).
	slices.SortStableFunc(usable, func(a, b *preCRL) int { return newer(b.crl, a.crl) })
	if len(usable) == 0 && len(bases) == 0 && len(deltas) > 0 {
		ev.errs = append(ev.errs, crlErr(CRLDeltaOnly, "", "%s is a delta CRL (base CRL number %v) and no complete CRL of the issuer is preloaded", deltas[0].label, deltas[0].crl.BaseCRLNumber))
	}
	for _, p := range usable {
		covered, err := scope(p.crl, r.cert, nil, dps, "")
		if err != nil {
			ev.errs = append(ev.errs, err)
			continue
		}
		// The newest applicable delta, if any.
		var delta *crlscan.CRL
		var note string
		for _, d := range deltas {
			if err := s.usablePreloaded(r, d); err != nil {
				note = "; delta " + d.label + " not applied: " + err.Error()
				continue
			}
			if err := deltaFits(p.crl, d.crl, ""); err != nil {
				note = "; delta " + d.label + " not applied: " + err.Error()
				continue
			}
			if delta == nil || d.crl.Number != nil && delta.Number != nil && d.crl.Number.Cmp(delta.Number) > 0 {
				delta, note = d.crl, fmt.Sprintf("; delta CRL #%v applied", d.crl.Number)
			}
		}
		what := fmt.Sprintf("%s (CRL #%v, thisUpdate %s)%s", p.label, numberText(p.crl), stamp(p.crl.ThisUpdate), note)
		if a, revokedNow := lookup(r, p.crl, delta, what, "", true); revokedNow {
			return a, true
		}
		ev.use(what, covered, p.crl, "", true)
		if ev.complete() {
			return ev.finish(), true
		}
	}
	return answer{}, false
}

// usablePreloaded checks a preloaded CRL's issuer, signature, times and
// extensions for r's certificate.
func (s *crlSource) usablePreloaded(r *request, p *preCRL) error {
	p.mu.Lock()
	memo, ok := p.signers[string(r.issuer.Raw)]
	p.mu.Unlock()
	if !ok {
		signer, err := s.selectSigner(r, p.crl, "")
		memo = signerMemo{signer, err}
		if err == nil && signer == r.issuer {
			// Only a verdict on the issuer itself holds for every
			// connection; a separate signer is judged per chain.
			p.mu.Lock()
			p.signers[string(r.issuer.Raw)] = memo
			p.mu.Unlock()
		}
	}
	if memo.err != nil {
		return labelErr(memo.err, p.label)
	}
	if err := s.checkTimes(p.crl, r.now, ""); err != nil {
		return labelErr(err, p.label)
	}
	if err := checkExtensions(p.crl, ""); err != nil {
		return labelErr(err, p.label)
	}
	return nil
}

// labelErr names a preloaded CRL in a CRLError's detail.
func labelErr(err error, label string) error {
	var ce *CRLError
	if errors.As(err, &ce) {
		c := *ce
		c.Detail = label + ": " + c.Detail
		return &c
	}
	return err
}

// checkPoint consults one distribution point of the certificate.
func (s *crlSource) checkPoint(ctx context.Context, r *request, dp *crlscan.DistributionPoint, ev *crlEval) (answer, bool) {
	if dp.CRLIssuer != nil {
		ev.errs = append(ev.errs, crlErr(CRLIndirect, firstURI(dp), "the distribution point (%s) names a cRLIssuer: its CRL is issued by another entity than the certificate's issuer", pointLabel(*dp)))
		return answer{}, false
	}
	var fetchable []string
	for _, u := range dp.URIs() {
		if err := supportedURL(u); err != nil {
			ev.errs = append(ev.errs, &CRLError{Reason: CRLUnsupported, URL: u, Detail: "not fetched", Err: err})
			continue
		}
		fetchable = append(fetchable, u)
	}
	if len(fetchable) == 0 {
		if len(dp.URIs()) == 0 {
			ev.errs = append(ev.errs, crlErr(CRLUnsupported, "", "the distribution point is named by %s, not by a URL", pointLabel(*dp)))
		}
		return answer{}, false
	}
	// The URIs of one distribution point are alternatives: the first that
	// gives a usable CRL is enough.
	for _, u := range fetchable {
		// The store admits only a complete CRL here (see crlStore.admit).
		e, cached, err := s.store.get(ctx, r, u, false)
		if err == errCRLNeedsNetwork {
			ev.needsNetwork = true
			return answer{}, false
		}
		if err != nil {
			ev.errs = append(ev.errs, err)
			continue
		}
		c := e.crl
		if err := s.checkTimes(c, r.now, u); err != nil {
			ev.errs = append(ev.errs, err)
			continue
		}
		if err := checkExtensions(c, u); err != nil {
			ev.errs = append(ev.errs, err)
			continue
		}
		if e.signer != r.issuer && !e.signer.Equal(r.issuer) {
			// Re-judge a separate signer against this chain.
			if err := s.authorized(r, e.signer, u); err != nil {
				ev.errs = append(ev.errs, err)
				continue
			}
		}
		covered, err := scope(c, r.cert, dp, nil, u)
		if err != nil {
			if ce, ok := err.(*CRLError); ok && ce.Reason == CRLScope {
				// Not the CRL of the point it came from: the CA's
				// configuration is wrong, or an on-path attacker served
				// another genuine CRL of the CA in its place. It is not
				// kept (see crlStore.refuse).
				s.store.refuse(r, u, false, e, err)
			}
			ev.errs = append(ev.errs, err)
			continue
		}
		delta, note, offline := s.deltaFor(ctx, r, c, u)
		if offline {
			ev.needsNetwork = true
			return answer{}, false
		}
		src := "fetched"
		if cached {
			src = "cached"
		}
		what := fmt.Sprintf("CRL #%v from %s (%s; thisUpdate %s, nextUpdate %s)%s", numberText(c), u, src, stamp(c.ThisUpdate), stampOr(c.NextUpdate), note)
		if a, revokedNow := lookup(r, c, delta, what, u, cached); revokedNow {
			return a, true
		}
		ev.use(what, covered, c, u, cached)
		return answer{}, false
	}
	return answer{}, false
}

// deltaFor fetches the delta CRL the base (or the certificate) points at
// and returns it when it applies. A delta that cannot be fetched or does
// not apply leaves the base alone in charge, and the note says why.
// needsNetwork reports, in offline mode, that a delta is not in memory.
func (s *crlSource) deltaFor(ctx context.Context, r *request, base *crlscan.CRL, baseURL string) (delta *crlscan.CRL, note string, needsNetwork bool) {
	var urls []string
	seen := map[string]bool{}
	certFresh, _ := certPoints(r.cert, true)
	for _, list := range [][]crlscan.DistributionPoint{base.Freshest, certFresh} {
		for _, dp := range list {
			if dp.CRLIssuer != nil {
				continue
			}
			for _, u := range dp.URIs() {
				if !seen[u] && supportedURL(u) == nil {
					seen[u] = true
					urls = append(urls, u)
				}
			}
		}
	}
	var notes []string
	for _, u := range urls {
		// The store admits only a delta CRL here (see crlStore.admit).
		e, _, err := s.store.get(ctx, r, u, true)
		if err == errCRLNeedsNetwork {
			return nil, "", true
		}
		if err == nil {
			d := e.crl
			if err = s.checkTimes(d, r.now, u); err == nil {
				if err = checkExtensions(d, u); err == nil {
					if e.signer != r.issuer && !e.signer.Equal(r.issuer) {
						err = s.authorized(r, e.signer, u)
					}
					if err == nil {
						if err = deltaFits(base, d, u); err != nil && deltaForeign(base, d) {
							// Another scope's delta, or one older than the
							// base: not the delta of this base, not kept.
							s.store.refuse(r, u, true, e, err)
						}
					}
				}
			}
			if err == nil {
				return d, fmt.Sprintf("; delta CRL #%v from %s applied", numberText(d), u), false
			}
		}
		notes = append(notes, err.Error())
	}
	if len(notes) > 0 {
		return nil, "; delta CRL not applied: " + strings.Join(notes, "; "), false
	}
	return nil, "", false
}

// deltaFits checks that delta applies to base (RFC 5280 5.2.4, 6.3.3):
// the same scope, and a BaseCRLNumber no newer than the base's number.
func deltaFits(base, delta *crlscan.CRL, url string) error {
	if base.Number == nil {
		return crlErr(CRLDeltaMismatch, url, "the base CRL has no CRL number")
	}
	if delta.BaseCRLNumber.Cmp(base.Number) > 0 {
		return crlErr(CRLDeltaMismatch, url, "the delta needs base CRL #%v or later and the base at hand is #%v", delta.BaseCRLNumber, base.Number)
	}
	if delta.Number != nil && delta.Number.Cmp(base.Number) <= 0 {
		return crlErr(CRLDeltaMismatch, url, "the delta (#%v) is not newer than the base (#%v)", delta.Number, base.Number)
	}
	if !reflect.DeepEqual(base.IDP, delta.IDP) {
		return crlErr(CRLDeltaMismatch, url, "the delta and the base have different issuing distribution points")
	}
	return nil
}

// deltaForeign reports whether deltaFits refused delta for not being a
// delta of base's scope, or for being older than base (rather than for
// needing a newer base).
func deltaForeign(base, delta *crlscan.CRL) bool {
	return !reflect.DeepEqual(base.IDP, delta.IDP) ||
		base.Number != nil && delta.Number != nil && delta.Number.Cmp(base.Number) <= 0
}

// lookup looks the certificate up in base and delta. It returns a revoked
// answer and true when the certificate is revoked (a certificateHold
// included).
//
// removeFromCRL (reason 8) belongs in delta CRLs (RFC 5280 5.3.1): there it
// releases a certificateHold listed in the base. It does not undo a
// revocation for any other reason, which is permanent (RFC 5280 3.3; the
// other use of removeFromCRL, a certificate that expired, does not arise
// for a certificate of a verified chain). In a complete CRL an entry with
// removeFromCRL is not a revocation, and when a serial is listed twice the
// index returns a revoking entry over a removeFromCRL one (see
// crlscan.CRL.Lookup), so a CRL listing [X removeFromCRL, X keyCompromise]
// revokes X.
func lookup(r *request, base, delta *crlscan.CRL, what, url string, cached bool) (answer, bool) {
	serial := crlscan.SerialBytes(r.cert.SerialNumber)
	e, listed := base.LookupBytes(serial)
	from, note := base, ""
	if delta != nil {
		if d, ok := delta.LookupBytes(serial); ok {
			switch {
			case d.Reason != crlscan.ReasonRemoveFromCRL:
				e, listed, from = d, true, delta // the latest word
			case !listed || e.Reason == crlscan.ReasonRemoveFromCRL || e.Reason == reasonCertificateHold:
				listed = false // released from hold
			default:
				note = "; the delta CRL's removeFromCRL does not undo a revocation other than certificateHold"
			}
		}
	}
	if !listed || e.Reason == crlscan.ReasonRemoveFromCRL {
		return answer{}, false
	}
	reason := tlsclient.ReasonAbsent
	if e.Reason != crlscan.NoReason {
		reason = tlsclient.RevocationReason(e.Reason)
	}
	kind := "CRL"
	if from == delta {
		kind = "delta CRL"
	}
	return answer{kind: revoked, revokedAt: e.Time(), reason: reason, url: url, cached: cached,
		this: base.ThisUpdate, next: base.NextUpdate,
		detail: fmt.Sprintf("revoked at %s (%s) according to the %s: %s%s", stamp(e.Time()), reason, kind, what, note)}, true
}

// reasonCertificateHold is the CRLReason of a hold (RFC 5280 5.3.1).
const reasonCertificateHold = 6

// supportedURL accepts absolute http and https URLs.
func supportedURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return err
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return fmt.Errorf("scheme %q is not supported (only http and https)", p.Scheme)
	}
	if p.Host == "" {
		return errors.New("no host")
	}
	return nil
}

func firstURI(dp *crlscan.DistributionPoint) string {
	if u := dp.URIs(); len(u) > 0 {
		return u[0]
	}
	return ""
}

// newer compares two CRLs of one issuer by CRL number, then thisUpdate:
// positive when a is newer.
func newer(a, b *crlscan.CRL) int {
	if a.Number != nil && b.Number != nil {
		if c := a.Number.Cmp(b.Number); c != 0 {
			return c
		}
	}
	return a.ThisUpdate.Compare(b.ThisUpdate)
}

func numberText(c *crlscan.CRL) string {
	if c.Number == nil {
		return "(no number)"
	}
	return c.Number.String()
}
