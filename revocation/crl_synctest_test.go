package revocation

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// crlTransport answers requests in process (no sockets, so that it runs
// inside a synctest bubble).
type crlTransport func(*http.Request) (*http.Response, error)

func (f crlTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// crlDripBody yields one byte of data per interval, until the request's
// context ends.
type crlDripBody struct {
	ctx      context.Context
	data     []byte
	interval time.Duration
}

func (d *crlDripBody) Read(b []byte) (int, error) {
	if len(d.data) == 0 {
		return 0, io.EOF
	}
	select {
	case <-d.ctx.Done():
		return 0, d.ctx.Err()
	case <-time.After(d.interval):
	}
	b[0] = d.data[0]
	d.data = d.data[1:]
	return 1, nil
}

func (d *crlDripBody) Close() error { return nil }

// TestCRLTimeoutsSynctest: the fetch timeout and the dial's deadline bound
// a hanging or dripping CRL endpoint exactly, in fake time.
func TestCRLTimeoutsSynctest(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"http://crl.test/ca.crl"}}})
	good := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{}))
	hang := crlTransport(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	drip := crlTransport(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
			Body: &crlDripBody{ctx: r.Context(), data: good, interval: 100 * time.Millisecond}}, nil
	})
	cases := []struct {
		name     string
		rt       http.RoundTripper
		opts     []Option
		deadline time.Duration // the dial's
		want     time.Duration
	}{
		{"hang, default fetch timeout", hang, nil, time.Minute, DefaultFetchTimeout},
		{"hang, dial deadline first", hang, nil, time.Second, time.Second - deadlineMargin(time.Second)},
		{"hang, WithFetchTimeout", hang, []Option{WithFetchTimeout(1500 * time.Millisecond)}, time.Minute, 1500 * time.Millisecond},
		{"slow drip", drip, nil, time.Minute, DefaultFetchTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				v := CRL(append([]Option{WithHTTPClient(&http.Client{Transport: tc.rt}), LeafOnly()}, tc.opts...)...)
				ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
				defer cancel()
				start := time.Now()
				err := v.Verify(ctx, crlState(p.chain()))
				if el := time.Since(start); el != tc.want {
					t.Errorf("gave up after %s, want %s", el, tc.want)
				}
				var fe *FetchError
				if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &fe) || fe.Kind != FetchTimeout {
					t.Errorf("want a fetch timeout, got %v", err)
				}
				synctest.Wait() // every goroutine started has ended
			})
		})
	}
}

// TestCRLBackgroundRefreshSynctest: a background refresh that hangs ends
// with its own timeout, and dials meanwhile are answered from memory.
// Refreshes are paced by the wall clock: lead/8 after the download, twice
// that after a failed refresh.
func TestCRLBackgroundRefreshSynctest(t *testing.T) {
	t.Parallel()
	p := newCRLPKI(t, crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"http://crl.test/ca.crl"}}})
	first := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{NextUpdate: testpki.Now.Add(time.Hour)}))
	synctest.Test(t, func(t *testing.T) {
		requests := 0
		rt := crlTransport(func(r *http.Request) (*http.Response, error) {
			requests++
			if requests == 1 {
				return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r, Body: io.NopCloser(strings.NewReader(string(first)))}, nil
			}
			<-r.Context().Done() // refreshes hang
			return nil, r.Context().Err()
		})
		v := CRL(WithHTTPClient(&http.Client{Transport: rt}), LeafOnly(), WithBackgroundRefresh(2*time.Hour))
		if err := crlVerify(v, crlState(p.chain())); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Hour / 8) // no refresh is due before
		for i := range 5 {
			start := time.Now()
			if err := crlVerify(v, crlState(p.chain())); err != nil {
				t.Fatalf("dial %d: %v", i, err)
			}
			if el := time.Since(start); i > 0 && el != 0 {
				t.Errorf("dial %d waited %s", i, el)
			}
		}
		synctest.Wait()
		if requests != 2 {
			t.Errorf("%d requests, want 2 (one refresh at a time)", requests)
		}
		time.Sleep(DefaultFetchTimeout)
		synctest.Wait() // the refresh has given up and ended
		if err := crlVerify(v, crlState(p.chain())); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if requests != 2 {
			t.Errorf("%d requests, want 2 (no refresh right after a failed one)", requests)
		}
		time.Sleep(2 * 2 * time.Hour / 8) // the back-off after one failure
		if err := crlVerify(v, crlState(p.chain())); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if requests != 3 {
			t.Errorf("%d requests, want 3 (a new refresh after the back-off)", requests)
		}
		time.Sleep(DefaultFetchTimeout)
	})
}
