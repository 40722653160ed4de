package ct

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/fetch"
	"github.com/tlsclient/tlsclient/internal/fileutil"
)

// Refresher defaults.
const (
	// DefaultRefreshTimeout bounds each download of a list or signature.
	DefaultRefreshTimeout = 30 * time.Second
	// DefaultRefreshInterval is how often Run downloads the list.
	DefaultRefreshInterval = 6 * time.Hour
)

// RefresherConfig configures a Refresher.
type RefresherConfig struct {
	// ListURL and SignatureURL are where the v3 JSON list and its detached
	// signature are downloaded from (http or https). Both are required.
	ListURL      string
	SignatureURL string
	// PublicKey verifies the signature (RSA, ECDSA or Ed25519; see
	// ParseSignedLogList). Required.
	PublicKey crypto.PublicKey
	// CacheFile, when set, keeps the last good list on disk: the list in
	// CacheFile and its signature in CacheFile+".sig". NewRefresher loads
	// it (verifying the signature) so that a restart has a list before
	// the first download.
	CacheFile string
	// HTTPClient makes the requests (a private clone of
	// http.DefaultTransport when nil).
	HTTPClient *http.Client
	// Timeout bounds each download (DefaultRefreshTimeout when zero).
	Timeout time.Duration
	// Observer, when set, receives an EventFetchStart and an
	// EventFetchDone (Verifier "ct", Source "log-list") for each download,
	// for logs and metrics (see tlsclient.WithObserver; pass the same
	// function).
	Observer tlsclient.Observer
	// RefusePrivateAddresses refuses to connect to loopback, private,
	// link-local and other non-public addresses, checked when the socket
	// connects (after name resolution, and for every redirect), like
	// revocation.RefusePrivateAddresses: for services where the list URL
	// comes from configuration others can influence. Downloads then
	// connect directly (no proxy), and HTTPClient's Transport must be nil
	// or an *http.Transport. Off by default: a list served from your own
	// network is a legitimate setup. See SECURITY.md.
	RefusePrivateAddresses bool
}

// Refresher keeps a log list current: it downloads the list and its
// signature, verifies the signature, refuses a list older than the one it
// holds (a rollback), swaps the new list in atomically — handshakes in
// progress keep the list they started with — and writes it to the cache
// file. It is a LogSource: pass it to New with WithLogSource. It is safe for
// concurrent use.
type Refresher struct {
	cfg     RefresherConfig
	fetcher *fetch.Fetcher

	list atomic.Pointer[LogList]

	// refreshing serialises Refresh: it holds a token for the whole of a
	// refresh, network I/O included, and a caller waiting for its turn
	// gives up when its context ends.
	refreshing chan struct{}
	etag       string // guarded by refreshing

	mu      sync.Mutex // guards lastErr; never held across I/O
	lastErr error
}

var _ LogSource = (*Refresher)(nil)

// NewRefresher checks cfg and loads the cache file, if any. It does no
// network I/O: call Refresh, or Run, for that. A cache file that cannot be
// read or verified is ignored (Err reports why) and replaced by the next
// good download.
func NewRefresher(cfg RefresherConfig) (*Refresher, error) {
	for _, u := range []string{cfg.ListURL, cfg.SignatureURL} {
		if err := fetch.CheckURL(u); err != nil {
			return nil, fmt.Errorf("ct: NewRefresher: %w", err)
		}
	}
	if cfg.PublicKey == nil {
		return nil, errors.New("ct: NewRefresher: no PublicKey to verify the list's signature with")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRefreshTimeout
	}
	var fetchOpts []fetch.Option
	if cfg.RefusePrivateAddresses {
		fetchOpts = append(fetchOpts, fetch.RefusePrivate())
	}
	r := &Refresher{cfg: cfg, fetcher: fetch.New(cfg.HTTPClient, cfg.Timeout, 3, fetchOpts...)}
	r.refreshing = make(chan struct{}, 1)
	if err := r.fetcher.Err(); err != nil {
		return nil, fmt.Errorf("ct: NewRefresher: RefusePrivateAddresses: %w", err)
	}
	if cfg.CacheFile != "" {
		l, err := LoadSignedLogList(cfg.CacheFile, cfg.CacheFile+".sig", cfg.PublicKey)
		if err == nil {
			err = checkNotFuture(l, time.Now())
		}
		switch {
		case err == nil:
			r.list.Store(l)
		case errors.Is(err, os.ErrNotExist):
		default:
			r.lastErr = fmt.Errorf("ct: cached log list ignored: %w", err)
		}
	}
	return r, nil
}

// LogList returns the current list, or nil before the first success.
func (r *Refresher) LogList() *LogList { return r.list.Load() }

// Err returns the error of the last refresh (or of loading the cache
// file), nil after a success. It does not wait for a refresh in progress.
func (r *Refresher) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// Refresh downloads the list and its signature once and, if the signature
// verifies and the list is not older than the current one, makes it current
// and writes it to the cache file. A list that has not changed (HTTP 304, or
// the same log_list_timestamp) leaves everything as it is. On error the
// current list stays. A list dated more than a day after this host's clock
// is refused: kept, it would never go stale, and every later list would be
// refused as a rollback.
//
// Refreshes are serialised: a call made while another is in progress waits
// for it (or for ctx to end, returning ctx's error without recording it).
// LogList and Err never wait.
func (r *Refresher) Refresh(ctx context.Context) error {
	select {
	case r.refreshing <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("ct: refreshing the log list: gave up waiting for the refresh in progress: %w", ctx.Err())
	}
	defer func() { <-r.refreshing }()
	err := r.refresh(ctx)
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
	return err
}

// checkNotFuture refuses a list dated more than listClockSkew after now.
func checkNotFuture(l *LogList, now time.Time) error {
	if l.Timestamp.After(now.Add(listClockSkew)) {
		return fmt.Errorf("its log_list_timestamp %s is in the future, more than %s after this host's clock (%s): is the clock right?",
			l.Timestamp.UTC().Format(time.RFC3339), round(listClockSkew), now.UTC().Format(time.RFC3339))
	}
	return nil
}

func (r *Refresher) refresh(ctx context.Context) error {
	cur := r.list.Load()
	req := fetch.Request{URL: r.cfg.ListURL, MaxSize: MaxLogListSize, Accept: "application/json"}
	if cur != nil {
		req.ETag = r.etag
	}
	resp, err := r.do(ctx, req)
	if err != nil {
		return fmt.Errorf("ct: refreshing the log list: %w", err)
	}
	if resp.NotModified {
		return nil
	}
	sigResp, err := r.do(ctx, fetch.Request{URL: r.cfg.SignatureURL, MaxSize: 64 << 10})
	if err != nil {
		return fmt.Errorf("ct: refreshing the log list signature: %w", err)
	}
	l, err := ParseSignedLogList(resp.Body, sigResp.Body, r.cfg.PublicKey)
	if err != nil {
		return fmt.Errorf("ct: refreshed log list from %s refused: %w", r.cfg.ListURL, err)
	}
	if err := checkNotFuture(l, time.Now()); err != nil {
		return fmt.Errorf("ct: refreshed log list from %s refused: %w", r.cfg.ListURL, err)
	}
	if cur != nil {
		if l.Timestamp.Before(cur.Timestamp) {
			return fmt.Errorf("ct: refreshed log list from %s refused: its log_list_timestamp %s is older than the current list's %s (a rollback)",
				r.cfg.ListURL, l.Timestamp.UTC().Format(time.RFC3339), cur.Timestamp.UTC().Format(time.RFC3339))
		}
		if l.Timestamp.Equal(cur.Timestamp) {
			r.etag = resp.ETag
			return nil
		}
	}
	r.list.Store(l)
	r.etag = resp.ETag
	if r.cfg.CacheFile != "" {
		if err := saveList(r.cfg.CacheFile, resp.Body, sigResp.Body); err != nil {
			return fmt.Errorf("ct: the new log list is in use, but keeping it on disk failed: %w", err)
		}
	}
	return nil
}

// saveList writes the list and its signature, each through a temporary file
// renamed into place. The signature goes first: a crash in between leaves a
// pair that does not verify, which NewRefresher ignores, never a list
// trusted under the wrong signature.
func saveList(path string, list, sig []byte) error {
	if err := fileutil.WriteAtomic(path+".sig", sig); err != nil {
		return err
	}
	return fileutil.WriteAtomic(path, list)
}

// Run refreshes now and then every interval (DefaultRefreshInterval when
// interval <= 0) until ctx ends. Each error is passed to onError when it is
// not nil; the current list stays in use.
func (r *Refresher) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	if interval <= 0 {
		interval = DefaultRefreshInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := r.Refresh(ctx); err != nil && onError != nil && ctx.Err() == nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
