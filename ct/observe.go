package ct

import (
	"context"
	"errors"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/fetch"
)

// do performs one download of the Refresher, reporting it to
// RefresherConfig.Observer when there is one.
func (r *Refresher) do(ctx context.Context, req fetch.Request) (*fetch.Response, error) {
	obs := r.cfg.Observer
	if obs == nil {
		return r.fetcher.Do(ctx, req)
	}
	ev := tlsclient.Event{Kind: tlsclient.EventFetchStart, Verifier: "ct", Source: "log-list", URL: req.URL, Detail: "GET"}
	obs(ctx, ev)
	start := time.Now()
	resp, err := r.fetcher.Do(ctx, req)
	ev.Kind, ev.Duration, ev.Err = tlsclient.EventFetchDone, time.Since(start), err
	if err == nil {
		ev.Status, ev.Bytes, ev.Shared = 200, int64(len(resp.Body)), resp.Shared
		if resp.NotModified {
			ev.Status = 304
		}
	} else if fe := (*fetch.Error)(nil); errors.As(err, &fe) && fe.Kind == fetch.Status {
		ev.Status = fe.StatusCode
	}
	obs(ctx, ev)
	return resp, err
}
