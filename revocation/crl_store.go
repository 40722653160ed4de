package revocation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tlsclient/tlsclient/internal/crlscan"
	"github.com/tlsclient/tlsclient/internal/fetch"
)

// crlStore keeps the CRLs fetched from distribution points, per URL and
// issuer certificate:
//
//   - in memory, as a verified index only (no DER), used until nextUpdate;
//   - as DER in the Cache given to WithCache, and in the WithCRLCacheDir
//     directory, verified again whenever loaded;
//
// and fetches them: one load per key at a time (concurrent dials wait for
// it), with a conditional GET when a previous copy has an ETag or
// Last-Modified, and optionally a background refresh before nextUpdate.
type crlStore struct {
	src     *crlSource // signer selection and authorization
	opts    *options
	fetcher *fetch.Fetcher
	cache   Cache  // nil: DER is not kept outside the index
	dir     string // "" when there is no directory cache

	mu      sync.Mutex // guards entries, flights, highest and crlEntry.refreshing
	entries map[string]*crlEntry
	flights map[string]*crlFlight
	highest map[string]*big.Int // highest CRL number seen per key

	bg sync.WaitGroup // background refreshes in flight
}

// crlEntry is a verified CRL for one (URL, issuer). Its fields do not
// change once it is stored, except refreshing.
type crlEntry struct {
	url          string
	crl          *crlscan.CRL
	signer       *x509.Certificate
	etag         string
	lastModified string
	refreshing   bool // a background refresh is running (guarded by crlStore.mu)
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

func newCRLStore(src *crlSource, o *options, f *fetch.Fetcher, c Cache) *crlStore {
	return &crlStore{src: src, opts: o, fetcher: f, cache: c, dir: o.crlDir,
		entries: map[string]*crlEntry{}, flights: map[string]*crlFlight{}, highest: map[string]*big.Int{}}
}

// errCRLNeedsNetwork is what get returns to a request in offline mode
// when the CRL is not in memory.
var errCRLNeedsNetwork = errors.New("CRL not in memory")

// storeKey names a CRL scope: its URL and the issuer certificate.
func storeKey(url string, issuer *x509.Certificate) string {
	sum := sha256.Sum256(issuer.Raw)
	return url + "\x00" + hex.EncodeToString(sum[:12])
}

// fileName is a key's name in the directory cache.
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// expired reports whether c may no longer be used at now.
func (s *crlStore) expired(c *crlscan.CRL, now time.Time) bool {
	end := c.NextUpdate
	if end.IsZero() {
		end = c.ThisUpdate.Add(s.opts.maxAge)
	}
	return now.After(end.Add(s.opts.skew))
}

// get returns the CRL for (url, r's issuer): from memory when current, or
// loaded (from the Cache, the directory or the network) once for all the
// dials that ask at the same time. cached reports that no download was
// needed.
func (s *crlStore) get(ctx context.Context, r *request, url string) (e *crlEntry, cached bool, err error) {
	key := storeKey(url, r.issuer)
	s.mu.Lock()
	if e := s.entries[key]; e != nil && !s.expired(e.crl, r.now) {
		s.maybeRefresh(key, e, r)
		s.mu.Unlock()
		return e, true, nil
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
		prior := s.entries[key]
		rr := *r
		go func() {
			defer cancel()
			e, cached, err := s.load(fctx, &rr, url, key, prior)
			s.mu.Lock()
			if err == nil {
				s.entries[key] = e
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

// maybeRefresh starts a background refresh of e when it is within the
// refresh lead time of its nextUpdate. At most one runs per key; it ends
// within the fetch timeout. s.mu must be held.
func (s *crlStore) maybeRefresh(key string, e *crlEntry, r *request) {
	lead := s.opts.refresh
	if lead <= 0 || e.refreshing || e.crl.NextUpdate.IsZero() || r.now.Before(e.crl.NextUpdate.Add(-lead)) {
		return
	}
	e.refreshing = true
	rr := *r
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		// Not part of any handshake: the refresh has its own budget.
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.fetchTimeout)
		defer cancel()
		ne, _, err := s.load(ctx, &rr, e.url, key, e)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err == nil && ne != e && s.entries[key] == e {
			s.entries[key] = ne
		}
		e.refreshing = false
	}()
}

// load reads the CRL from the persistent stores or the network. prior is
// the copy in memory, if any (stale, or about to be), used for a
// conditional GET and kept when the server says it has not changed.
func (s *crlStore) load(ctx context.Context, r *request, url, key string, prior *crlEntry) (*crlEntry, bool, error) {
	if prior == nil {
		if e := s.loadPersisted(r, url, key); e != nil {
			if !s.expired(e.crl, r.now) {
				s.noteNumber(key, e.crl)
				return e, true, nil
			}
			prior = e
		}
	}
	req := fetch.Request{URL: url, Accept: "application/pkix-crl", MaxSize: s.opts.maxCRL}
	if prior != nil {
		req.ETag, req.LastModified = prior.etag, prior.lastModified
	}
	resp, err := s.fetcher.Do(ctx, req)
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
	if prior != nil && newer(e.crl, prior.crl) < 0 {
		// Also catches CRLs without a number: an older thisUpdate.
		return nil, false, crlErr(CRLRollback, url, "the CRL served (#%s, thisUpdate %s) is older than the copy at hand (#%s, thisUpdate %s)",
			numberText(e.crl), stamp(e.crl.ThisUpdate), numberText(prior.crl), stamp(prior.crl.ThisUpdate))
	}
	if err := s.checkRollback(key, e.crl, url); err != nil {
		return nil, false, err
	}
	s.persist(r, key, e, resp.Body)
	return e, false, nil
}

// build parses and verifies a downloaded CRL for r's issuer: the header
// first, then the signature checked while the entries are indexed.
func (s *crlStore) build(r *request, url string, body []byte) (*crlEntry, error) {
	ders, err := crlDERs(body)
	if err != nil {
		return nil, &CRLError{Reason: CRLMalformed, URL: url, Err: err}
	}
	c, err := crlscan.ParseHeader(ders[0])
	if err != nil {
		return nil, &CRLError{Reason: CRLMalformed, URL: url, Err: err}
	}
	var scanErr error
	var wg sync.WaitGroup
	wg.Go(func() { scanErr = c.ScanEntries() })
	signer, err := s.src.selectSigner(r, c, url)
	wg.Wait()
	c.Release()
	if scanErr != nil {
		return nil, &CRLError{Reason: CRLMalformed, URL: url, Err: scanErr}
	}
	if err != nil {
		return nil, err
	}
	return &crlEntry{url: url, crl: c, signer: signer}, nil
}

// checkRollback refuses a CRL whose number is lower than one seen before
// for the same key, and remembers the highest.
func (s *crlStore) checkRollback(key string, c *crlscan.CRL, url string) error {
	if c.Number == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.highest[key]; h != nil && c.Number.Cmp(h) < 0 {
		return crlErr(CRLRollback, url, "CRL #%v was served after CRL #%v", c.Number, h)
	}
	s.highest[key] = c.Number
	return nil
}

// noteNumber records the number of a CRL loaded from a persistent store.
func (s *crlStore) noteNumber(key string, c *crlscan.CRL) {
	if c.Number == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.highest[key]; h == nil || c.Number.Cmp(h) > 0 {
		s.highest[key] = c.Number
	}
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
		if writeAtomic(base+".crl", der) == nil {
			writeAtomic(base+".meta", []byte(meta))
		}
	}
}

// loadPersisted returns the CRL for key from the Cache or the directory,
// verified again, or nil.
func (s *crlStore) loadPersisted(r *request, url, key string) *crlEntry {
	try := func(der []byte, etag, lm string) *crlEntry {
		e, err := s.build(r, url, der)
		if err != nil {
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
		der, err := readCapped(base+".crl", s.opts.maxCRL)
		if err != nil {
			return nil
		}
		var etag, lm string
		if meta, err := readCapped(base+".meta", 4096); err == nil {
			lines := strings.Split(string(meta), "\n")
			if len(lines) >= 3 && lines[0] == url {
				etag, lm = lines[1], lines[2]
			}
		}
		return try(der, etag, lm)
	}
	return nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename, so that readers never see a partial file.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-crl-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// readCapped reads a file of at most max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: %d bytes exceeds the cap of %d", path, fi.Size(), max)
	}
	return os.ReadFile(path)
}

func stampOr(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return stamp(t)
}
