package revocation

import (
	"context"
	"errors"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/fetch"
)

// The events of the OCSP and CRL sources (see tlsclient.WithObserver):
// every HTTP request as EventFetchStart and EventFetchDone, every lookup of
// fetched data as EventCacheHit or EventCacheMiss. Nothing is built when no
// observer listens.

// fetchObserved performs req with f, reporting it to r's observers. url is
// the responder or distribution point to report (not an OCSP GET URL,
// whose path is the encoded request).
func fetchObserved(ctx context.Context, r *request, f *fetch.Fetcher, src Source, url string, req fetch.Request) (*fetch.Response, error) {
	if !r.st.Observing() {
		return f.Do(ctx, req)
	}
	subject := r.st.CertLabel(r.cert)
	r.st.Emit(ctx, tlsclient.Event{Kind: tlsclient.EventFetchStart, Verifier: r.verifier, Subject: subject, Source: string(src), URL: url,
		Detail: req.Method})
	start := time.Now()
	resp, err := f.Do(ctx, req)
	ev := tlsclient.Event{Kind: tlsclient.EventFetchDone, Verifier: r.verifier, Subject: subject, Source: string(src), URL: url,
		Detail: req.Method, Duration: time.Since(start), Err: err}
	if err == nil {
		// The fetcher succeeds on 200, and on 304 to a conditional GET.
		ev.Status, ev.Bytes, ev.Shared = 200, int64(len(resp.Body)), resp.Shared
		if resp.NotModified {
			ev.Status = 304
		}
	} else if fe := (*fetch.Error)(nil); errors.As(err, &fe) && fe.Kind == fetch.Status {
		ev.Status = fe.StatusCode
	}
	r.st.Emit(ctx, ev)
	return resp, err
}

// emitCache reports a lookup of the data of src for r's certificate.
func emitCache(ctx context.Context, r *request, hit bool, src Source, url, detail string) {
	if !r.st.Observing() {
		return
	}
	kind := tlsclient.EventCacheMiss
	if hit {
		kind = tlsclient.EventCacheHit
	}
	r.st.Emit(ctx, tlsclient.Event{Kind: kind, Verifier: r.verifier, Subject: r.st.CertLabel(r.cert), Source: string(src), URL: url, Detail: detail})
}
