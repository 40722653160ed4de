// Package fetch makes the HTTP requests of revocation and log-list checks
// safely: every request has a context and its own timeout, a size cap, only
// http and https URLs, a bounded number of redirects (to http or https
// only), and concurrent requests for the same thing are merged into one.
// Optionally (RefusePrivate), connections to loopback, private, link-local
// and other non-public addresses are refused.
package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tlsclient/tlsclient/internal/flight"
)

// Defaults.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxRedirects = 3
)

// Kind classifies a fetch failure.
type Kind int

// Kinds of fetch failures.
const (
	BadURL    Kind = iota + 1 // not an absolute http or https URL
	Network                   // connection or protocol failure
	Timeout                   // the request's time budget ran out
	Status                    // an HTTP status other than 200 (or 304 when asked)
	TooLarge                  // the body exceeds the size cap
	Redirects                 // too many redirects, or one to another scheme
	Canceled                  // the caller's context was canceled
	// PrivateAddress: the URL, or a redirect, leads to an address that
	// is not public (RefusePrivate); Err is an *AddressError.
	PrivateAddress
)

var kindText = map[Kind]string{
	BadURL: "unsupported URL", Network: "network error", Timeout: "timed out", Status: "bad HTTP status",
	TooLarge: "response too large", Redirects: "bad redirect", Canceled: "canceled",
	PrivateAddress: "non-public address refused",
}

func (k Kind) String() string {
	if s, ok := kindText[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a failed fetch. Package revocation exports it as FetchError.
type Error struct {
	Kind Kind
	URL  string
	// StatusCode is the HTTP status for Kind Status.
	StatusCode int
	Err        error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("fetch %s: %s", e.URL, e.Kind)
	if e.Kind == Status {
		msg += fmt.Sprintf(" %d", e.StatusCode)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Request is one HTTP request.
type Request struct {
	URL         string
	Method      string // GET (default) or POST
	Body        []byte // POST body
	ContentType string // POST content type
	Accept      string
	// ETag and LastModified make a conditional GET; a 304 answer sets
	// Response.NotModified.
	ETag         string
	LastModified string
	// MaxSize caps the body; it must be positive.
	MaxSize int64
}

// Response is a successful fetch.
type Response struct {
	Body         []byte
	NotModified  bool
	ETag         string
	LastModified string
	ContentType  string
	// FinalURL is the URL after redirects.
	FinalURL string
	// Shared reports that the request was merged with a concurrent one.
	Shared  bool
	Elapsed time.Duration
}

// Fetcher performs requests. It is safe for concurrent use.
type Fetcher struct {
	client  *http.Client
	timeout time.Duration
	err     error // a configuration error, returned by every Do

	flights flight.Group[[32]byte, result] // identical requests in flight
}

// New returns a Fetcher that uses client (a private clone of
// http.DefaultTransport when nil), at most maxRedirects redirects, and
// timeout per request (DefaultTimeout when zero). The client is copied, not
// modified. An option that cannot be honoured with client makes every Do
// fail; Err reports it.
func New(client *http.Client, timeout time.Duration, maxRedirects int, opts ...Option) *Fetcher {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	var c http.Client
	if client != nil {
		c = *client
	} else {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	var cfgErr error
	if s.refuse != nil {
		c.Transport, cfgErr = guardedTransport(c.Transport, s.refuse)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if maxRedirects < 0 {
		maxRedirects = 0
	}
	userCheck := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return &redirectError{fmt.Sprintf("stopped after %d redirects", maxRedirects)}
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return &redirectError{fmt.Sprintf("redirect to unsupported scheme %q", req.URL.Scheme)}
		}
		if userCheck != nil {
			return userCheck(req, via)
		}
		return nil
	}
	return &Fetcher{client: &c, timeout: timeout, err: cfgErr}
}

// Err returns the configuration error that makes every Do fail, if any.
func (f *Fetcher) Err() error { return f.err }

// CheckURL accepts only absolute http and https URLs with a host.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return &Error{Kind: BadURL, URL: raw, Err: err}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &Error{Kind: BadURL, URL: raw, Err: fmt.Errorf("scheme %q is not fetched (only http and https)", u.Scheme)}
	}
	if u.Host == "" {
		return &Error{Kind: BadURL, URL: raw, Err: errors.New("no host")}
	}
	return nil
}

func (r *Request) key() [32]byte {
	h := sha256.New()
	for _, s := range []string{r.Method, r.URL, r.ContentType, r.Accept, r.ETag, r.LastModified, strconv.FormatInt(r.MaxSize, 10)} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	h.Write(r.Body)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// Do performs req, merging it with an identical request in flight. The
// shared request runs under its own timeout and ends early only when every
// caller waiting for it has gone; a caller whose ctx ends stops waiting at
// once.
func (f *Fetcher) Do(ctx context.Context, req Request) (*Response, error) {
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	if err := CheckURL(req.URL); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, &Error{Kind: PrivateAddress, URL: req.URL, Err: f.err}
	}
	if req.MaxSize <= 0 {
		return nil, &Error{Kind: TooLarge, URL: req.URL, Err: errors.New("no size cap given")}
	}
	resp, shared, err := f.flights.Do(ctx, req.key(), func(ctx context.Context) result {
		r, err := f.do(ctx, req)
		return result{r, err}
	})
	if err != nil {
		kind := Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			kind = Timeout
		}
		return nil, &Error{Kind: kind, URL: req.URL, Err: context.Cause(ctx)}
	}
	if resp.err != nil {
		return nil, resp.err
	}
	out := *resp.resp
	out.Shared = shared
	return &out, nil
}

// result is what a shared request returns to each of its callers.
type result struct {
	resp *Response
	err  error
}

func (f *Fetcher) do(ctx context.Context, req Request) (*Response, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, &Error{Kind: BadURL, URL: req.URL, Err: err}
	}
	if req.ContentType != "" {
		hreq.Header.Set("Content-Type", req.ContentType)
	}
	if req.Accept != "" {
		hreq.Header.Set("Accept", req.Accept)
	}
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}
	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, classify(ctx, req.URL, err)
	}
	defer resp.Body.Close()
	out := &Response{
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		ContentType:  resp.Header.Get("Content-Type"),
		FinalURL:     resp.Request.URL.String(),
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && (req.ETag != "" || req.LastModified != ""):
		out.NotModified = true
		out.Elapsed = time.Since(start)
		return out, nil
	case resp.StatusCode != http.StatusOK:
		return nil, &Error{Kind: Status, URL: req.URL, StatusCode: resp.StatusCode}
	}
	if resp.ContentLength > req.MaxSize {
		return nil, &Error{Kind: TooLarge, URL: req.URL, Err: fmt.Errorf("Content-Length %d exceeds the cap of %d bytes", resp.ContentLength, req.MaxSize)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, req.MaxSize+1))
	if err != nil {
		return nil, classify(ctx, req.URL, err)
	}
	if int64(len(b)) > req.MaxSize {
		return nil, &Error{Kind: TooLarge, URL: req.URL, Err: fmt.Errorf("body exceeds the cap of %d bytes", req.MaxSize)}
	}
	out.Body = b
	out.Elapsed = time.Since(start)
	return out, nil
}

// redirectError is what the redirect policy returns; http.Client wraps it
// in a *url.Error.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

func classify(ctx context.Context, u string, err error) error {
	var re *redirectError
	if errors.As(err, &re) {
		return &Error{Kind: Redirects, URL: u, Err: re}
	}
	if ae, ok := isAddressError(err); ok {
		var ue *url.Error
		if errors.As(err, &ue) && ue.URL != u {
			// A redirect led there: say where.
			return &Error{Kind: PrivateAddress, URL: u, Err: fmt.Errorf("redirected to %s: %w", ue.URL, ae)}
		}
		return &Error{Kind: PrivateAddress, URL: u, Err: ae}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Kind: Timeout, URL: u, Err: err}
	case ctx.Err() != nil:
		return &Error{Kind: Canceled, URL: u, Err: err}
	}
	return &Error{Kind: Network, URL: u, Err: err}
}
