package revocation

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tlsclient/tlsclient/internal/crlscan"
	"github.com/tlsclient/tlsclient/internal/fetch"
	"github.com/tlsclient/tlsclient/internal/fileutil"
)

// crlStore keeps the CRLs fetched from distribution points, per URL,
// issuer certificate and kind (complete, or delta from a Freshest CRL
// pointer):
//
//   - in memory, as a verified index only (no DER), used until nextUpdate,
//     within a byte budget (WithCRLMemoryLimit: the least recently used go
//     first) and dropped a day after their nextUpdate;
//   - as DER in the Cache given to WithCache, and in the WithCRLCacheDir
//     directory, verified again whenever loaded;
//
// and fetches them: one load per key at a time (concurrent dials wait for
// it), with a conditional GET when a previous copy has an ETag or
// Last-Modified, and optionally a background refresh before nextUpdate,
// paced (see maybeRefresh).
//
// CRL URLs are plain http, so what a URL serves is only as good as its
// signature: an on-path attacker can serve any genuine CRL of the CA in
// place of another. So a CRL is kept for a key only as what it was
// fetched as (see admit), CRL numbers are remembered per scope, not per
// URL (see scopeKey and mark), and a CRL that does not cover the
// certificate it was fetched for is evicted from every cache (see refuse):
// a CRL of another scope can neither stay in place of the right one nor
// lock it out as a "rollback".
type crlStore struct {
	src     *crlSource // signer selection and authorization
	opts    *options
	fetcher *fetch.Fetcher
	cache   Cache  // nil: DER is not kept outside the index
	dir     string // "" when there is no directory cache

	mu       sync.Mutex       // guards the fields below and the crlSlots
	clock    func() time.Time // the wall clock that paces refreshes and refetches
	limit    int64            // bytes of the CRLs in memory (see crlEntry.size)
	maxMarks int              // marks kept, unless they are those of CRLs in memory
	slots    map[string]*crlSlot
	lru      list.List // of the *crlSlot holding a CRL, most recently used first
	size     int64     // bytes of the CRLs in lru
	flights  map[string]*crlFlight
	marks    map[string]*crlMark // by scopeKey

	bg sync.WaitGroup // background refreshes in flight
}

// crlEntry is a verified CRL for one key. It does not change once stored.
type crlEntry struct {
	url          string
	crl          *crlscan.CRL
	signer       *x509.Certificate
	etag         string
	lastModified string
	scope        string // scopeKey, set by admit
	size         int64  // the index and crlEntryOverhead
}

// crlSlot is what the store holds for one key: the CRL in memory, if any,
// and the pacing of its refreshes and refetches. Guarded by crlStore.mu.
type crlSlot struct {
	key   string
	entry *crlEntry     // nil: no CRL in memory
	el    *list.Element // in crlStore.lru when entry != nil

	refreshing   bool      // a background refresh is running
	lastFetch    time.Time // when the CRL was last asked of the network
	refreshFails int       // background refreshes failed in a row

	refused      error     // why the last CRL was refused (see refusedLocked)
	refusedUntil time.Time // no fetch before, while refused is set
	refusals     int       // refusals in a row
}

// crlMark is the newest CRL seen for a scope, for rollback protection.
type crlMark struct {
	number *big.Int  // the highest CRL number, nil while none had one
	this   time.Time // the latest thisUpdate
	until  time.Time // the latest end of validity, clock skew included
}

// crlFlight is a load in progress, shared by the dials that need it.
type crlFlight struct {
	done    chan struct{}
	entry   *crlEntry
	cached  bool
	err     error
	waiters int // guarded by crlStore.mu
	cancel  context.CancelFunc
}

// Bounds and pacing of the store.
const (
	// crlEntryOverhead is counted for each CRL in memory beside its index
	// (the CRL's other fields, the slot, the maps).
	crlEntryOverhead = 1 << 10
	// crlStaleGrace: a CRL past its nextUpdate stays in memory this long,
	// as the base of a conditional GET.
	crlStaleGrace = 24 * time.Hour
	// crlMarkHorizon: a scope's mark is kept this long after the newest
	// CRL of the scope seen has expired (see trimMarks).
	crlMarkHorizon = 7 * 24 * time.Hour
	// crlMaxMarks bounds the marks of scopes with no CRL in memory.
	crlMaxMarks = 4096
	// crlRefuseBackoff is how long a URL whose CRL was refused for its
	// scope is not asked again; it doubles with each refusal in a row, up
	// to crlRefuseMaxBackoff, and a quiet crlRefuseMaxBackoff resets it.
	crlRefuseBackoff    = 15 * time.Second
	crlRefuseMaxBackoff = 5 * time.Minute
	// A background refresh follows the previous fetch of the CRL by at
	// least max(lead/crlRefreshDivisor, crlRefreshFloor), doubled for
	// each refresh in a row that failed, up to lead/2.
	crlRefreshDivisor = 8
	crlRefreshFloor   = time.Second
)

func newCRLStore(src *crlSource, o *options, f *fetch.Fetcher, c Cache) *crlStore {
	return &crlStore{src: src, opts: o, fetcher: f, cache: c, dir: o.crlDir,
		clock: time.Now, limit: o.crlMemory, maxMarks: crlMaxMarks,
		slots: map[string]*crlSlot{}, flights: map[string]*crlFlight{}, marks: map[string]*crlMark{}}
}

// errCRLNeedsNetwork is what get returns to a request in offline mode
// when the CRL is not in memory.
var errCRLNeedsNetwork = errors.New("CRL not in memory")

// storeKey names what the store keeps for a URL and an issuer
// certificate: a complete CRL, or with delta a delta CRL (a URL given as
// both a distribution point and a Freshest CRL pointer is two keys).
func storeKey(url string, issuer *x509.Certificate, delta bool) string {
	sum := sha256.Sum256(issuer.Raw)
	key := url + "\x00" + hex.EncodeToString(sum[:12])
	if delta {
		key += "\x00delta"
	}
	return key
}

// scopeKey names the scope of a CRL for rollback protection. RFC 5280
// 5.2.3 numbers CRLs per issuer and scope, complete and delta CRLs of a
// scope in one sequence (a delta's number is above its base's): so the
// key is the issuer (its name, and the key of the issuer certificate), the
// scope (the Issuing Distribution Point, as encoded) and the kind, so that
// a delta's number is never held against its base.
func scopeKey(issuer *x509.Certificate, c *crlscan.CRL, delta bool) string {
	h := sha256.New()
	for _, b := range [][]byte{issuer.RawSubjectPublicKeyInfo, c.RawIssuer, c.RawIDP} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	if delta {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	return string(h.Sum(nil))
}

// fileName is a key's name in the directory cache.
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// expired reports whether c may no longer be used at now.
func (s *crlStore) expired(c *crlscan.CRL, now time.Time) bool {
	return now.After(s.validUntil(c))
}

// validUntil is the end of c's validity: nextUpdate, or thisUpdate plus the
// maximum age, and the clock skew.
func (s *crlStore) validUntil(c *crlscan.CRL) time.Time {
	end := c.NextUpdate
	if end.IsZero() {
		end = c.ThisUpdate.Add(s.opts.maxAge)
	}
	return end.Add(s.opts.skew)
}

// get returns the CRL for (url, r's issuer), a delta CRL with delta: from
// memory when current, or loaded (from the Cache, the directory or the
// network) once for all the dials that ask at the same time. cached
// reports that no download was needed. While a refusal of the URL's CRL
// stands (see refusedLocked), it returns the refusal without fetching.
func (s *crlStore) get(ctx context.Context, r *request, url string, delta bool) (e *crlEntry, cached bool, err error) {
	key := storeKey(url, r.issuer, delta)
	s.mu.Lock()
	sl := s.slots[key]
	if sl != nil && sl.entry != nil && !s.expired(sl.entry.crl, r.now) {
		e := sl.entry
		s.lru.MoveToFront(sl.el)
		s.maybeRefresh(sl, r, url, delta)
		s.mu.Unlock()
		emitCache(ctx, r, true, SourceCRL, url, "CRL index in memory")
		return e, true, nil
	}
	if sl != nil && sl.refused != nil {
		if wait := sl.refusedUntil.Sub(s.clock()); wait > 0 {
			err := sl.refused
			s.mu.Unlock()
			return nil, false, refusedAgain(err, wait)
		}
	}
	if r.offline {
		// Loading means I/O (the Cache, the directory, the network).
		s.mu.Unlock()
		return nil, false, errCRLNeedsNetwork
	}
	f := s.flights[key]
	if f == nil || f.waiters == 0 { // none, or one every waiter left (canceled)
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &crlFlight{done: make(chan struct{}), cancel: cancel}
		s.flights[key] = f
		var prior *crlEntry
		if sl != nil {
			prior = sl.entry
		}
		rr := *r
		go func() {
			defer cancel()
			e, cached, err := s.load(fctx, &rr, url, key, delta, prior)
			s.mu.Lock()
			switch {
			case err == nil:
				s.put(key, e, rr.now, !cached)
			case admissionRefusal(err):
				s.refusedLocked(s.slot(key), err)
			}
			if s.flights[key] == f {
				delete(s.flights, key)
			}
			s.mu.Unlock()
			f.entry, f.cached, f.err = e, cached, err
			close(f.done)
		}()
	}
	f.waiters++
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.entry, f.cached, f.err
	case <-ctx.Done():
		s.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
		}
		s.mu.Unlock()
		kind := fetch.Canceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			kind = fetch.Timeout
		}
		return nil, false, &CRLError{Reason: CRLFetchFailed, URL: url, Detail: "gave up waiting for the download",
			Err: &fetch.Error{Kind: kind, URL: url, Err: context.Cause(ctx)}}
	}
}

// slot returns key's slot, made when there is none. s.mu must be held.
func (s *crlStore) slot(key string) *crlSlot {
	sl := s.slots[key]
	if sl == nil {
		sl = &crlSlot{key: key}
		s.slots[key] = sl
	}
	return sl
}

// put makes e the CRL in memory for key, at the verification time now;
// fetched says it came from the network (a refresh is then not due before
// the refresh interval). s.mu must be held.
func (s *crlStore) put(key string, e *crlEntry, now time.Time, fetched bool) {
	sl := s.slot(key)
	if sl.entry != nil {
		s.size -= sl.entry.size
		s.lru.MoveToFront(sl.el)
	} else {
		sl.el = s.lru.PushFront(sl)
	}
	sl.entry = e
	s.size += e.size
	sl.refused = nil // the back-off itself stays, to grow if it is refused again
	if fetched {
		sl.lastFetch = s.clock()
	}
	s.trim(now)
}

// dropEntry removes sl's CRL from memory. s.mu must be held.
func (s *crlStore) dropEntry(sl *crlSlot) {
	s.lru.Remove(sl.el)
	s.size -= sl.entry.size
	sl.entry, sl.el = nil, nil
}

// trim drops, at the verification time now, what the store no longer
// needs: the least recently used CRLs beyond the memory limit (never the
// one most recently used, however large: it is what a dial is about to
// use), CRLs a day past their nextUpdate, slots left with nothing to pace,
// and old marks. s.mu must be held. It walks every slot: it runs once per
// CRL loaded, and dials that find their CRL in memory never call it.
func (s *crlStore) trim(now time.Time) {
	for s.size > s.limit && s.lru.Len() > 1 {
		s.dropEntry(s.lru.Back().Value.(*crlSlot))
	}
	wall := s.clock()
	front := s.lru.Front()
	for key, sl := range s.slots {
		if sl.entry != nil && sl.el != front && s.expired(sl.entry.crl, now.Add(-crlStaleGrace)) {
			s.dropEntry(sl)
		}
		if sl.entry == nil && !sl.refreshing && wall.After(sl.refusedUntil.Add(crlRefuseMaxBackoff)) {
			delete(s.slots, key)
		}
	}
	s.trimMarks(now)
}

// trimMarks bounds the marks. A mark protects a scope against the replay
// of an older CRL only while such a CRL may still look current; once the
// newest CRL of the scope seen has expired, older ones normally have too.
// So a mark goes crlMarkHorizon after that (a margin for CAs that shorten
// the validity of their CRLs: an older CRL that outlives the newer one is
// the one replay this lets through, after the horizon), and beyond
// maxMarks the marks that expire first go first. The marks of the CRLs in
// memory are always kept: no CRL in use can be rolled back. s.mu must be
// held.
func (s *crlStore) trimMarks(now time.Time) {
	var old []string
	for k, m := range s.marks {
		if now.After(m.until.Add(crlMarkHorizon)) {
			old = append(old, k)
		}
	}
	if len(old) == 0 && len(s.marks) <= s.maxMarks {
		return
	}
	live := make(map[string]bool, s.lru.Len())
	for el := s.lru.Front(); el != nil; el = el.Next() {
		live[el.Value.(*crlSlot).entry.scope] = true
	}
	for _, k := range old {
		if !live[k] {
			delete(s.marks, k)
		}
	}
	if len(s.marks) <= s.maxMarks {
		return
	}
	var cands []string
	for k := range s.marks {
		if !live[k] {
			cands = append(cands, k)
		}
	}
	slices.SortFunc(cands, func(a, b string) int { return s.marks[a].until.Compare(s.marks[b].until) })
	for _, k := range cands {
		if len(s.marks) <= s.maxMarks {
			break
		}
		delete(s.marks, k)
	}
}

// maybeRefresh starts a background refresh of sl's CRL when it is within
// the refresh lead time of its nextUpdate. At most one runs per key, and
// it ends within the fetch timeout. Refreshes are paced: one follows the
// previous fetch of the CRL by at least refreshInterval, so that a CA that
// publishes late, or an endpoint that fails, gets a request now and then,
// not one per dial. s.mu must be held.
func (s *crlStore) maybeRefresh(sl *crlSlot, r *request, url string, delta bool) {
	lead := s.opts.refresh
	e := sl.entry
	if lead <= 0 || sl.refreshing || e.crl.NextUpdate.IsZero() || r.now.Before(e.crl.NextUpdate.Add(-lead)) {
		return
	}
	if !sl.lastFetch.IsZero() && s.clock().Before(sl.lastFetch.Add(refreshInterval(lead, sl.refreshFails))) {
		return
	}
	sl.refreshing = true
	rr := *r
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		// Not part of any handshake: the refresh has its own budget.
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.fetchTimeout)
		defer cancel()
		ne, _, err := s.load(ctx, &rr, url, sl.key, delta, e)
		s.mu.Lock()
		defer s.mu.Unlock()
		sl.refreshing = false
		sl.lastFetch = s.clock()
		if err != nil {
			// A refusal here leaves the CRL at hand alone: it is
			// current, and the refresh failed like any other.
			sl.refreshFails++
			return
		}
		sl.refreshFails = 0
		if ne != e && sl.entry == e && s.slots[sl.key] == sl {
			s.put(sl.key, ne, rr.now, false)
		}
	}()
}

// refreshInterval is the least time between two fetches of a CRL within
// the refresh lead time: max(lead/8, 1s), doubled for each failed refresh
// in a row, up to lead/2.
func refreshInterval(lead time.Duration, fails int) time.Duration {
	d := max(lead/crlRefreshDivisor, crlRefreshFloor)
	limit := max(d, lead/2)
	for range min(fails, 32) {
		if d *= 2; d >= limit {
			return limit
		}
	}
	return d
}

// load reads the CRL from the persistent stores or the network. prior is
// the copy in memory, if any (stale, or about to be), used for a
// conditional GET and kept when the server says it has not changed.
func (s *crlStore) load(ctx context.Context, r *request, url, key string, delta bool, prior *crlEntry) (*crlEntry, bool, error) {
	if prior == nil {
		if e := s.loadPersisted(r, url, key, delta); e != nil {
			if !s.expired(e.crl, r.now) {
				emitCache(ctx, r, true, SourceCRL, url, "CRL from the persistent cache (WithCache or WithCRLCacheDir)")
				return e, true, nil
			}
			prior = e
		}
	}
	if r.st.Observing() {
		what := "no current CRL in the caches"
		if prior != nil {
			what = "the CRL at hand is stale or due for refresh"
		}
		emitCache(ctx, r, false, SourceCRL, url, what)
	}
	req := fetch.Request{URL: url, Accept: "application/pkix-crl", MaxSize: s.opts.maxCRL}
	if prior != nil {
		req.ETag, req.LastModified = prior.etag, prior.lastModified
	}
	resp, err := fetchObserved(ctx, r, s.fetcher, SourceCRL, url, req)
	if err != nil {
		return nil, false, &CRLError{Reason: CRLFetchFailed, URL: url, Err: err}
	}
	if resp.NotModified {
		if prior == nil {
			return nil, false, crlErr(CRLMalformed, url, "the server answered 304 Not Modified to an unconditional request")
		}
		return prior, true, nil
	}
	e, err := s.build(r, url, resp.Body)
	if err != nil {
		return nil, false, err
	}
	e.etag, e.lastModified = resp.ETag, resp.LastModified
	// Before anything is kept, saved or remembered of it.
	if err := s.admit(r, e, url, delta); err != nil {
		return nil, false, err
	}
	if err := s.mark(e, url); err != nil {
		return nil, false, err
	}
	s.persist(r, key, e, resp.Body)
	return e, false, nil
}

// admit checks that a verified CRL may be kept for what it was fetched
// as, and sets its scope: a delta CRL only from a Freshest CRL pointer, a
// complete CRL only from a distribution point, and then, when its Issuing
// Distribution Point names URIs, only from one of them. The URL compared
// is the one requested (from the certificate), not where redirects led:
// it is what binds the CRL to the certificate, and CAs may redirect to a
// CDN. (The IDP of a delta CRL names its base's distribution point, and
// deltaFits matches it with the base.) A CRL whose IDP names no URI is
// judged by scope, for the certificate, and refused then (see refuse).
func (s *crlStore) admit(r *request, e *crlEntry, url string, delta bool) error {
	c := e.crl
	switch {
	case !delta && c.IsDelta():
		return crlErr(CRLDeltaOnly, url, "the distribution point serves a delta CRL (base CRL number %v); a delta is never used alone", c.BaseCRLNumber)
	case delta && !c.IsDelta():
		return crlErr(CRLDeltaMismatch, url, "the Freshest CRL pointer serves a complete CRL, not a delta")
	}
	if !delta && c.IDP != nil && c.IDP.Name != nil {
		var uris []string
		for _, n := range c.IDP.Name.FullName {
			if n.IsURI() {
				uris = append(uris, string(n.Value))
			}
		}
		if len(uris) > 0 && !slices.Contains(uris, url) {
			return crlErr(CRLScope, url, "it is the CRL of another distribution point: its issuing distribution point names %s, not the URL it was fetched from", strings.Join(uris, ", "))
		}
	}
	e.scope = scopeKey(r.issuer, c, delta)
	return nil
}

// admissionRefusal reports whether err is one of admit's refusals (load
// returns these reasons for nothing else): the URL served the CRL of
// another scope, or of another kind, which an on-path attacker can do with
// any CRL of the CA. They are not fetched again at once (refusedLocked).
func admissionRefusal(err error) bool {
	var ce *CRLError
	return errors.As(err, &ce) && (ce.Reason == CRLScope || ce.Reason == CRLDeltaOnly || ce.Reason == CRLDeltaMismatch)
}

// build parses and verifies a downloaded CRL for r's issuer: the header
// first, and the issuer's name and key identifier (a CRL of another issuer
// is refused before its entries are read); then the signature, checked
// while the entries are indexed.
func (s *crlStore) build(r *request, url string, body []byte) (*crlEntry, error) {
	ders, err := crlDERs(body)
	if err != nil {
		return nil, &CRLError{Reason: CRLMalformed, URL: url, Err: err}
	}
	c, err := crlscan.ParseHeader(ders[0])
	if err != nil {
		return nil, &CRLError{Reason: CRLMalformed, URL: url, Err: err}
	}
	cands, err := s.src.signerCandidates(r, c, url)
	if err != nil {
		return nil, err
	}
	var scanErr error
	var wg sync.WaitGroup
	wg.Go(func() { scanErr = c.ScanEntries() })
	signer, err := s.src.verifySigner(r, c, cands, url)
	wg.Wait()
	c.Release()
	if scanErr != nil {
		return nil, &CRLError{Reason: CRLMalformed, URL: url, Err: scanErr}
	}
	if err != nil {
		return nil, err
	}
	return &crlEntry{url: url, crl: c, signer: signer, size: int64(c.RetainedBytes()) + crlEntryOverhead}, nil
}

// mark refuses e's CRL when it is older than the newest CRL seen for its
// scope (a lower CRL number or, numbers equal or absent, an older
// thisUpdate), and otherwise records it.
func (s *crlStore) mark(e *crlEntry, url string) error {
	c := e.crl
	until := s.validUntil(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.marks[e.scope]
	if m == nil {
		s.marks[e.scope] = &crlMark{number: c.Number, this: c.ThisUpdate, until: until}
		return nil
	}
	older := c.ThisUpdate.Before(m.this)
	if c.Number != nil && m.number != nil && c.Number.Cmp(m.number) != 0 {
		older = c.Number.Cmp(m.number) < 0
	}
	if older {
		return crlErr(CRLRollback, url, "the CRL served (#%s, thisUpdate %s) is older than one seen before for the same issuer and scope (#%s, thisUpdate %s)",
			numberText(c), stamp(c.ThisUpdate), markNumber(m), stamp(m.this))
	}
	if c.Number != nil && (m.number == nil || c.Number.Cmp(m.number) > 0) {
		m.number = c.Number
	}
	if c.ThisUpdate.After(m.this) {
		m.this = c.ThisUpdate
	}
	if until.After(m.until) {
		m.until = until
	}
	return nil
}

func markNumber(m *crlMark) string {
	if m.number == nil {
		return "(no number)"
	}
	return m.number.String()
}

// refuse evicts e, the CRL held for (url, r's issuer), after it failed a
// scope check for the certificate it was fetched for: it is not the CRL of
// that distribution point (an on-path attacker can serve any genuine CRL
// of the CA in its place), so it is dropped from memory, the Cache and the
// directory, and fetched again after a back-off (see refusedLocked). A CRL
// already replaced is left alone.
func (s *crlStore) refuse(r *request, url string, delta bool, e *crlEntry, err error) {
	key := storeKey(url, r.issuer, delta)
	s.mu.Lock()
	sl := s.slots[key]
	if sl == nil || sl.entry != e {
		s.mu.Unlock()
		return
	}
	s.refusedLocked(sl, err)
	s.mu.Unlock()
	s.unpersist(key)
}

// refusedLocked records that sl's URL served a CRL refused for its scope
// or kind, and drops the CRL in memory: until the back-off ends, get
// returns err without fetching. The back-off is crlRefuseBackoff, doubled
// for each refusal in a row up to crlRefuseMaxBackoff, so that an endpoint
// that keeps serving the wrong CRL is asked now and then, not on every
// dial; a refusal after a quiet crlRefuseMaxBackoff starts again from the
// shortest. s.mu must be held.
func (s *crlStore) refusedLocked(sl *crlSlot, err error) {
	now := s.clock()
	if sl.entry != nil {
		s.dropEntry(sl)
	}
	if now.After(sl.refusedUntil.Add(crlRefuseMaxBackoff)) {
		sl.refusals = 0
	}
	d := min(crlRefuseBackoff<<min(sl.refusals, 16), crlRefuseMaxBackoff)
	sl.refusals++
	sl.refused, sl.refusedUntil = err, now.Add(d)
}

// refusedAgain is the error of a dial that finds its CRL's URL in a
// back-off after a refusal.
func refusedAgain(err error, wait time.Duration) error {
	var ce *CRLError
	if !errors.As(err, &ce) {
		return err
	}
	c := *ce
	c.Detail += fmt.Sprintf(" (refused recently: not fetched again for %s)", wait.Round(time.Second))
	return &c
}

// Persistence: the Cache holds "tlsclient-crl 1\n" ETag "\n" Last-Modified
// "\n" DER; the directory holds KEY.crl (the DER, readable by openssl crl)
// and KEY.meta (URL, ETag and Last-Modified, one a line).

const cacheMagic = "tlsclient-crl 1\n"

func cacheKey(key string) string { return "crl\x00" + key }

func (s *crlStore) persist(r *request, key string, e *crlEntry, der []byte) {
	ttl := s.opts.maxAge
	if !e.crl.NextUpdate.IsZero() {
		ttl = e.crl.NextUpdate.Sub(r.now) + s.opts.skew
	}
	if s.cache != nil && ttl > 0 {
		v := make([]byte, 0, len(cacheMagic)+len(e.etag)+len(e.lastModified)+2+len(der))
		v = append(v, cacheMagic...)
		v = append(v, e.etag+"\n"+e.lastModified+"\n"...)
		v = append(v, der...)
		s.cache.Put(context.Background(), cacheKey(key), v, ttl)
	}
	if s.dir != "" {
		base := filepath.Join(s.dir, fileName(key))
		meta := e.url + "\n" + e.etag + "\n" + e.lastModified + "\n"
		// Errors are not fatal: the directory is a cache.
		if fileutil.WriteAtomic(base+".crl", der) == nil {
			fileutil.WriteAtomic(base+".meta", []byte(meta))
		}
	}
}

// unpersist removes key's CRL from the Cache (with a tombstone: a Cache
// has no delete) and from the directory.
func (s *crlStore) unpersist(key string) {
	if s.cache != nil {
		s.cache.Put(context.Background(), cacheKey(key), []byte("tlsclient-crl refused\n"), crlRefuseMaxBackoff)
	}
	if s.dir != "" {
		base := filepath.Join(s.dir, fileName(key))
		os.Remove(base + ".crl")
		os.Remove(base + ".meta")
	}
}

// loadPersisted returns the CRL for key from the Cache or the directory,
// verified and admitted again (a copy saved by an earlier version, or
// planted in a shared Cache, is judged as a download would be), or nil. A
// copy older than a CRL seen since for its scope is not used.
func (s *crlStore) loadPersisted(r *request, url, key string, delta bool) *crlEntry {
	try := func(der []byte, etag, lm string) *crlEntry {
		e, err := s.build(r, url, der)
		if err != nil || s.admit(r, e, url, delta) != nil || s.mark(e, url) != nil {
			return nil
		}
		e.etag, e.lastModified = etag, lm
		return e
	}
	if s.cache != nil {
		if v, ok := s.cache.Get(context.Background(), cacheKey(key)); ok && bytes.HasPrefix(v, []byte(cacheMagic)) {
			parts := bytes.SplitN(v[len(cacheMagic):], []byte("\n"), 3)
			if len(parts) == 3 {
				if e := try(parts[2], string(parts[0]), string(parts[1])); e != nil {
					return e
				}
			}
		}
	}
	if s.dir != "" {
		base := filepath.Join(s.dir, fileName(key))
		der, err := fileutil.ReadCapped(base+".crl", s.opts.maxCRL)
		if err != nil {
			return nil
		}
		var etag, lm string
		if meta, err := fileutil.ReadCapped(base+".meta", 4096); err == nil {
			lines := strings.Split(string(meta), "\n")
			if len(lines) >= 3 && lines[0] == url {
				etag, lm = lines[1], lines[2]
			}
		}
		return try(der, etag, lm)
	}
	return nil
}

func stampOr(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return stamp(t)
}
