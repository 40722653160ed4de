package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/fetch"
	"github.com/tlsclient/tlsclient/internal/x509util"
)

// Stapled returns a verifier that checks the OCSP response the server
// stapled for its certificate, without network access. A revoked staple
// aborts; a must-staple certificate without a valid staple aborts with
// ErrMustStaple; a missing or unusable staple is otherwise recorded (a
// failure under RequireStatus, a warning under SoftFail).
func Stapled(opts ...Option) tlsclient.Verifier {
	return newChecker("ocsp-staple", []Source{SourceStaple}, opts)
}

// OCSP returns a verifier that asks the OCSP responders named in each
// certificate's AIA extension, in order, for its status. Responses are
// cached until their nextUpdate.
func OCSP(opts ...Option) tlsclient.Verifier {
	return newChecker("ocsp", []Source{SourceOCSP}, opts)
}

// CRL returns a verifier that checks each certificate against the CRLs of
// its distribution points (or CRLs preloaded with WithCRLs), with RFC 5280
// semantics: signature and issuer, scope (Issuing Distribution Point), delta
// CRLs, freshness. CRLs are cached until their nextUpdate.
func CRL(opts ...Option) tlsclient.Verifier {
	return newChecker("crl", []Source{SourceCRL}, opts)
}

// New returns the combined verifier: for each certificate it consults the
// staple (leaf only), then CRLs, then OCSP (see WithOrder), and the first
// definitive answer wins. Only what the staple left unknown is fetched.
func New(opts ...Option) tlsclient.Verifier {
	return newChecker("revocation", nil, opts)
}

// kind is what a source concluded about one certificate.
type kind int

const (
	notApplicable kind = iota // the source has nothing for this certificate
	good                      // definitive: not revoked
	revoked                   // definitive: revoked
	noAnswer                  // applicable, but no usable answer (err says why)
	needsNetwork              // only when request.offline: the answer must be fetched
)

// answer is one source's conclusion about one certificate.
type answer struct {
	kind      kind
	revokedAt time.Time
	reason    tlsclient.RevocationReason
	detail    string // what was found, in a few words
	err       error  // why there is no answer (noAnswer, notApplicable)
	url       string
	cached    bool
	this      time.Time
	next      time.Time
	// mustStaple marks a staple failure that must abort whatever the
	// other sources say (RFC 7633).
	mustStaple bool
}

// request is one certificate to check.
type request struct {
	st     *tlsclient.State
	chain  []*x509.Certificate // verified chain, leaf first, anchor last
	index  int                 // position of cert in chain
	cert   *x509.Certificate
	issuer *x509.Certificate
	now    time.Time
	// offline asks the sources to answer from memory, or with
	// needsNetwork, without blocking (see offlineSource); the checks
	// recorded meanwhile are held in buf.
	offline bool
	buf     []tlsclient.Check
	// verifier is the checker's Name, for events (see observe.go).
	verifier string
}

// An offlineSource honours request.offline: asked with it set, it answers
// from what it holds in memory, or returns needsNetwork without blocking.
// The engine first checks the certificates of a chain one after the other
// in that mode, and checks in parallel only those that need the network,
// so that a warm chain costs no goroutine (which, in a handshake, costs
// more than the checks themselves).
type offlineSource interface {
	source
	answersOffline()
}

// source is one way to learn a certificate's status.
type source interface {
	check(ctx context.Context, r *request) answer
}

// Details is the Data of a revocation check in the Report.
type Details struct {
	Source     Source    `json:"source,omitempty"`
	Status     string    `json:"status"` // good, revoked, unknown, not applicable
	ThisUpdate time.Time `json:"this_update,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	Reason     string    `json:"reason,omitempty"`
	Cached     bool      `json:"cached"`
}

// checker is every revocation verifier: a list of sources consulted in
// order for each certificate, and the policy that turns their answers into
// a decision.
type checker struct {
	name    string
	opts    *options
	err     error // a configuration error, returned by every Verify
	sources []source
	srcName []Source
	fetcher *fetch.Fetcher
	cache   Cache
}

var _ tlsclient.Verifier = (*checker)(nil)

func newChecker(name string, only []Source, opts []Option) *checker {
	c := &checker{name: name}
	o, err := applyOptions(opts)
	if err != nil {
		c.err = err
		return c
	}
	c.opts = o
	if only != nil {
		if o.orderSet {
			c.err = fmt.Errorf("revocation: WithOrder applies to New, not to %s()", name)
			return c
		}
		o.order = only
	}
	if len(only) == 1 && only[0] == SourceStaple {
		o.leafOnly = true // a staple only ever covers the leaf
	}
	var fetchOpts []fetch.Option
	if o.refusePrivate {
		fetchOpts = append(fetchOpts, fetch.RefusePrivate())
	}
	c.fetcher = fetch.New(o.httpClient, o.fetchTimeout, o.maxRedirects, fetchOpts...)
	if err := c.fetcher.Err(); err != nil {
		c.err = fmt.Errorf("revocation: RefusePrivateAddresses: %w", err)
		return c
	}
	c.cache = o.cache
	if c.cache == nil {
		c.cache = NewMemoryCache(0)
	}
	for _, s := range o.order {
		src, err := c.newSource(s)
		if err != nil {
			c.err = err
			return c
		}
		c.sources = append(c.sources, src)
		c.srcName = append(c.srcName, s)
	}
	return c
}

// Name labels the verifier's checks in the Report: "ocsp-staple", "ocsp",
// "crl" or "revocation" (the Dialer's built-in staple check is "staple").
func (c *checker) Name() string { return c.name }

// certResult is the decision for one certificate.
type certResult struct {
	revoked *tlsclient.RevokedError
	err     error // a failure that aborts (unavailable under hard-fail, must-staple)
	// deferred: checked with request.offline, a source needs the network
	// (nothing was recorded).
	deferred bool
}

// Verify checks every certificate of the verified chain (or the leaf only),
// those that need the network in parallel, and returns the first failure in
// chain order.
func (c *checker) Verify(ctx context.Context, st *tlsclient.State) error {
	if c.err != nil {
		st.Record(tlsclient.Check{Outcome: tlsclient.Fail, Detail: "misconfigured verifier", Err: c.err})
		return c.err
	}
	chain := st.Chain()
	if len(chain) == 0 {
		err := fmt.Errorf("%w: revocation: no verified chain in the State (put the chain, leaf first and trust anchor last, in ConnectionState.VerifiedChains)", tlsclient.ErrRevocationUnavailable)
		st.Record(tlsclient.Check{Outcome: tlsclient.Fail, Detail: "no verified chain", Err: err})
		return err
	}
	if len(chain) == 1 {
		st.Record(tlsclient.Check{Subject: st.CertLabel(chain[0]), Outcome: tlsclient.Skip,
			Detail: "the server's certificate is itself a trust anchor: nothing to check"})
		return nil
	}
	n := len(chain) - 1 // the trust anchor is not checked
	if c.opts.leafOnly {
		n = 1
	}
	now := st.Time()
	results := make([]certResult, n)
	var pending []*request
	for i := range n {
		r := &request{st: st, chain: chain, index: i, cert: chain[i], issuer: chain[i+1], now: now, verifier: c.name}
		// First from memory, in order; what needs the network, later.
		r.offline = true
		res := c.checkCert(ctx, r)
		r.offline = false
		if res.deferred {
			r.buf = nil
			pending = append(pending, r)
			continue
		}
		for _, ch := range r.buf {
			st.Record(ch)
		}
		r.buf = nil
		results[i] = res
	}
	if len(pending) > 0 {
		// Network sources give up a little before the dial's deadline,
		// so that under SoftFail the handshake can still finish.
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin(time.Until(dl))))
			defer cancel()
		}
		if len(pending) == 1 {
			results[pending[0].index] = c.checkCertSafe(ctx, pending[0])
		} else {
			var wg sync.WaitGroup
			for _, r := range pending {
				wg.Go(func() { results[r.index] = c.checkCertSafe(ctx, r) })
			}
			wg.Wait()
		}
	}
	var errs []error
	for _, res := range results {
		if res.revoked != nil {
			return res.revoked
		}
		if res.err != nil {
			errs = append(errs, res.err)
		}
	}
	return errors.Join(errs...)
}

// deadlineMargin is how long before the dial's deadline network sources
// give up, given the time left: a tenth of it, between 20ms and 1s.
func deadlineMargin(left time.Duration) time.Duration {
	return min(max(left/10, 20*time.Millisecond), time.Second)
}

// checkCertSafe is checkCert on its own goroutine's terms: a panic in a
// source fails that certificate closed instead of crashing the process
// (the engine's own recover does not reach other goroutines).
func (c *checker) checkCertSafe(ctx context.Context, r *request) (res certResult) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("%w: revocation: checking %s panicked: %v", tlsclient.ErrRevocationUnavailable, r.st.CertLabel(r.cert), p)
			r.st.Record(tlsclient.Check{Subject: r.st.CertLabel(r.cert), Outcome: tlsclient.Fail, Detail: "internal error", Err: err})
			res = certResult{err: err}
		}
	}()
	return c.checkCert(ctx, r)
}

// checkCert consults the sources in order for one certificate and records
// each one consulted, then the decision.
func (c *checker) checkCert(ctx context.Context, r *request) certResult {
	subject := r.st.CertLabel(r.cert)
	record := func(ch tlsclient.Check) {
		ch.Subject = subject
		if r.offline {
			r.buf = append(r.buf, ch)
			return
		}
		r.st.Record(ch)
	}
	if c.opts.shortLived > 0 {
		if life := r.cert.NotAfter.Sub(r.cert.NotBefore); life <= c.opts.shortLived {
			record(tlsclient.Check{Outcome: tlsclient.Skip, Detail: fmt.Sprintf("short-lived certificate (%s) exempt from revocation checking", life.Round(time.Minute))})
			return certResult{}
		}
	}
	var failures []error
	// Sources with nothing for the certificate are held back: if another
	// source answers, they are recorded before it, to show why it was
	// asked; if none does, one summary check says why nothing applied.
	var held []tlsclient.Check
	flush := func() {
		for _, h := range held {
			record(h)
		}
		held = nil
	}
	for i, src := range c.sources {
		name := c.srcName[i]
		var start time.Time
		if !r.offline { // offline, answers come from memory: no Elapsed
			start = time.Now()
		}
		if _, ok := src.(offlineSource); r.offline && !ok {
			return certResult{deferred: true}
		}
		a := src.check(ctx, r)
		if a.kind == needsNetwork {
			return certResult{deferred: true}
		}
		var elapsed time.Duration
		if !r.offline {
			elapsed = time.Since(start)
		}
		d := Details{Source: name, ThisUpdate: a.this, NextUpdate: a.next, Cached: a.cached}
		ch := tlsclient.Check{Source: string(name), URL: a.url, Elapsed: elapsed}
		if a.kind != notApplicable {
			flush()
		}
		switch a.kind {
		case good:
			d.Status = "good"
			ch.Outcome, ch.Detail, ch.Data = tlsclient.Pass, a.detail, d
			record(ch)
			return certResult{}
		case revoked:
			d.Status, d.RevokedAt, d.Reason = "revoked", a.revokedAt, a.reason.String()
			rerr := &tlsclient.RevokedError{Subject: subject, Serial: r.cert.SerialNumber, RevokedAt: a.revokedAt,
				Reason: a.reason, Source: string(name), URL: a.url}
			ch.Outcome, ch.Detail, ch.Err, ch.Data = tlsclient.Fail, a.detail, rerr, d
			record(ch)
			return certResult{revoked: rerr}
		case notApplicable:
			if a.detail == "" {
				continue // structurally irrelevant (a staple for an intermediate)
			}
			d.Status = "not applicable"
			ch.Outcome, ch.Detail, ch.Err, ch.Data = tlsclient.Skip, a.detail, a.err, d
			held = append(held, ch)
			continue
		}
		d.Status = "unknown"
		if a.mustStaple {
			// RFC 7633: the server promised a staple and broke the
			// promise; no other source can make up for it.
			err := fmt.Errorf("%w: %s: %w", tlsclient.ErrMustStaple, subject, a.err)
			ch.Outcome, ch.Detail, ch.Err, ch.Data = tlsclient.Fail, a.detail, err, d
			record(ch)
			return certResult{err: err}
		}
		failures = append(failures, a.err)
		ch.Outcome, ch.Detail, ch.Err, ch.Data = tlsclient.Skip, a.detail+"; no definitive answer", a.err, d
		record(ch)
	}
	if len(failures) == 0 {
		why := c.noSourceHint(r)
		var whyErrs []error
		if len(held) > 0 {
			parts := make([]string, len(held))
			for i, h := range held {
				parts[i] = h.Source + ": " + h.Detail
				if h.Err != nil {
					whyErrs = append(whyErrs, h.Err)
				}
			}
			why = strings.Join(parts, "; ")
		}
		if c.opts.requireStatus {
			err := &UnavailableError{Subject: subject, Serial: r.cert.SerialNumber,
				Reason: "no revocation source is available for it and RequireStatus is set (" + why + ")", Errs: whyErrs}
			record(tlsclient.Check{Outcome: tlsclient.Fail, Detail: "no revocation source (RequireStatus)", Err: err})
			return certResult{err: err}
		}
		summary := tlsclient.Check{Outcome: tlsclient.Skip, Detail: "not applicable: " + why, Err: errors.Join(whyErrs...)}
		if len(held) == 1 {
			summary.Source, summary.Data, summary.Detail = held[0].Source, held[0].Data, "not applicable: "+held[0].Detail
		}
		record(summary)
		return certResult{}
	}
	err := &UnavailableError{Subject: subject, Serial: r.cert.SerialNumber, Reason: "no source gave a definitive answer", Errs: failures}
	if c.opts.softFail {
		record(tlsclient.Check{Outcome: tlsclient.Warning, Detail: "revocation status unknown; continuing (SoftFail)", Err: err})
		return certResult{}
	}
	record(tlsclient.Check{Outcome: tlsclient.Fail, Detail: "revocation status unavailable (hard-fail)", Err: err})
	return certResult{err: err}
}

func (c *checker) noSourceHint(r *request) string {
	switch {
	case len(c.sources) == 1 && c.srcName[0] == SourceStaple:
		return "the server stapled no OCSP response"
	case len(r.cert.OCSPServer) == 0 && len(r.cert.CRLDistributionPoints) == 0:
		return "the certificate names no OCSP responder and no CRL distribution point"
	}
	return "none of the configured sources covers the certificate"
}

// newSource builds the source named s. Each source lives in its own file.
func (c *checker) newSource(s Source) (source, error) {
	switch s {
	case SourceStaple:
		return newStapleSource(c.opts), nil
	case SourceOCSP:
		return newOCSPSource(c.opts, c.fetcher, c.cache), nil
	case SourceCRL:
		return newCRLSource(c.opts, c.fetcher, c.cache)
	}
	return nil, fmt.Errorf("revocation: unknown source %q", s)
}

// mustStaple reports whether cert requires a stapled OCSP response.
func mustStaple(cert *x509.Certificate) bool { return x509util.MustStaple(cert) }
