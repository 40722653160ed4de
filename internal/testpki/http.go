package testpki

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPResponder is an OCSP responder on httptest whose answers tests
// control and count. It accepts POST (RFC 6960 A.1) and GET requests.
type OCSPResponder struct {
	*httptest.Server

	mu      sync.Mutex // guards answer, delay and last
	answer  func(*ocsp.Request, []byte) []byte
	delay   time.Duration
	lastReq *ocsp.Request

	hits atomic.Int64
	gets atomic.Int64
}

// NewOCSPResponder starts a responder that answers each parsed request with
// answer(request, raw request bytes). A nil answer, or a nil result, sends
// an unauthorized (6) response.
func NewOCSPResponder(answer func(req *ocsp.Request, raw []byte) []byte) *OCSPResponder {
	r := &OCSPResponder{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// SetAnswer replaces the answer function.
func (r *OCSPResponder) SetAnswer(answer func(req *ocsp.Request, raw []byte) []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = answer
}

// SetDelay makes every answer wait d (bounded by the request's context).
func (r *OCSPResponder) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

// Hits reports how many requests reached the responder, and how many were
// GETs.
func (r *OCSPResponder) Hits() (total, gets int64) { return r.hits.Load(), r.gets.Load() }

// LastRequest returns the last parsed request.
func (r *OCSPResponder) LastRequest() *ocsp.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastReq
}

var unauthorizedResponse = []byte{0x30, 0x03, 0x0a, 0x01, 0x06}

func (r *OCSPResponder) serve(w http.ResponseWriter, req *http.Request) {
	r.hits.Add(1)
	var raw []byte
	switch req.Method {
	case http.MethodPost:
		if ct := req.Header.Get("Content-Type"); ct != "application/ocsp-request" {
			http.Error(w, "want application/ocsp-request", http.StatusUnsupportedMediaType)
			return
		}
		b, err := io.ReadAll(io.LimitReader(req.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		raw = b
	case http.MethodGet:
		r.gets.Add(1)
		p := strings.TrimPrefix(req.URL.EscapedPath(), "/")
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			p = p[i+1:]
		}
		s, err := url.PathUnescape(p)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if raw, err = base64.StdEncoding.DecodeString(s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	parsed, err := ocsp.ParseRequest(raw)
	if err != nil {
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write([]byte{0x30, 0x03, 0x0a, 0x01, 0x01}) // malformedRequest
		return
	}
	r.mu.Lock()
	answer, delay := r.answer, r.delay
	r.lastReq = parsed
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	var out []byte
	if answer != nil {
		out = answer(parsed, raw)
	}
	if out == nil {
		out = unauthorizedResponse
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(out)
}

// FileServer serves byte blobs (CRLs, log lists) by path on httptest, with
// ETag and Last-Modified so that conditional GETs can be tested, and counts
// requests per path.
type FileServer struct {
	*httptest.Server

	mu    sync.Mutex // guards files and delay
	files map[string]file
	delay time.Duration

	hits     sync.Map // path -> *atomic.Int64
	notModif atomic.Int64
}

type file struct {
	data     []byte
	etag     string
	modified time.Time
}

// NewFileServer starts an empty file server.
func NewFileServer() *FileServer {
	f := &FileServer{files: map[string]file{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Set publishes data at path (which starts with "/"), last modified at
// modified.
func (f *FileServer) Set(path string, data []byte, modified time.Time) {
	sum := sha256.Sum256(data)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[path] = file{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, modified: modified}
}

// SetDelay makes every answer wait d (bounded by the request's context).
func (f *FileServer) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// URLFor returns the full URL of path.
func (f *FileServer) URLFor(path string) string { return f.URL + path }

// Hits reports how many requests path received.
func (f *FileServer) Hits(path string) int64 {
	if v, ok := f.hits.Load(path); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// NotModified reports how many requests were answered 304.
func (f *FileServer) NotModified() int64 { return f.notModif.Load() }

func (f *FileServer) serve(w http.ResponseWriter, req *http.Request) {
	v, _ := f.hits.LoadOrStore(req.URL.Path, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	f.mu.Lock()
	fl, ok := f.files[req.URL.Path]
	delay := f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	if !ok {
		http.NotFound(w, req)
		return
	}
	if inm := req.Header.Get("If-None-Match"); inm != "" && inm == fl.etag {
		f.notModif.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", fl.etag)
	if !fl.modified.IsZero() {
		w.Header().Set("Last-Modified", fl.modified.UTC().Format(http.TimeFormat))
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(fl.data)
}

// Hostile HTTP handlers for robustness tests.

// HangHandler never answers until the client gives up.
func HangHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
}

// DripHandler sends data one byte per interval.
func DripHandler(data []byte, interval time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "")
		fl, _ := w.(http.Flusher)
		for _, b := range data {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			select {
			case <-time.After(interval):
			case <-r.Context().Done():
				return
			}
		}
	}
}

// HugeHandler streams n bytes of 0x30 (an endless-looking DER SEQUENCE).
func HugeHandler(n int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 32<<10)
		for i := range buf {
			buf[i] = 0x30
		}
		for sent := int64(0); sent < n; {
			k := min(int64(len(buf)), n-sent)
			if _, err := w.Write(buf[:k]); err != nil {
				return
			}
			sent += k
		}
	}
}

// RedirectLoopHandler redirects every request to itself.
func RedirectLoopHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	}
}

// RedirectHandler redirects every request to target (for example a file://
// or ldap:// URL).
func RedirectHandler(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	}
}

// BytesHandler answers every request with body and the given content type.
func BytesHandler(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}
}
