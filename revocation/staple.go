package revocation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tlsclient/tlsclient"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
)

// stapleSource reads the OCSP response the server stapled for its leaf.
type stapleSource struct {
	opts    ocspcheck.Options
	verdict *ocspcheck.VerdictCache
}

func newStapleSource(o *options) *stapleSource {
	return &stapleSource{
		opts:    ocspcheck.Options{Skew: skewOption(o.skew), MaxAge: o.maxAge, RejectSHA1: o.rejectSHA1, MaxLifetime: o.maxLifetime},
		verdict: ocspcheck.NewVerdictCache(0),
	}
}

// skewOption maps our skew (0 means none) to ocspcheck's (0 means default).
func skewOption(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// answersOffline marks the staple source as never blocking (offlineSource).
func (*stapleSource) answersOffline() {}

func (s *stapleSource) check(_ context.Context, r *request) answer {
	if r.index != 0 {
		return answer{kind: notApplicable} // a staple covers the leaf only
	}
	must := mustStaple(r.cert)
	staple := r.st.ConnectionState.OCSPResponse
	if len(staple) == 0 {
		if must {
			return answer{kind: noAnswer, mustStaple: true, detail: "must-staple certificate, no staple",
				err: errors.New("the certificate carries the TLS Feature status_request extension (RFC 7633) but the server stapled no OCSP response; the server must enable OCSP stapling")}
		}
		return answer{kind: notApplicable, detail: "no stapled OCSP response"}
	}
	what := "stapled OCSP response"
	if r.st.ConnectionState.DidResume {
		// Go replays the original handshake's staple: it is judged again
		// at the time of the resumption.
		what += " (replayed by the resumed session)"
	}
	res, cached, err := s.verdict.Validate(staple, r.cert, r.issuer, r.now, s.opts)
	if err != nil {
		a := answer{kind: noAnswer, mustStaple: must, detail: what + " unusable", err: fmt.Errorf("%s: %w", what, err)}
		if res != nil {
			a.this, a.next = res.ThisUpdate, res.NextUpdate
		}
		return a
	}
	return ocspAnswer(res, cached, what, "", must)
}

// ocspAnswer turns a validated OCSP result into an answer. what names the
// response ("stapled OCSP response", "OCSP response"), url where it came
// from. An unknown status is not a definitive answer; for a must-staple
// certificate's staple it is a broken promise.
func ocspAnswer(res *ocspcheck.Result, cached bool, what, url string, must bool) answer {
	a := answer{url: url, cached: cached, this: res.ThisUpdate, next: res.NextUpdate}
	switch res.Status {
	case ocspcheck.Good:
		a.kind = good
		a.detail = what + ": " + res.Summary()
	case ocspcheck.Revoked:
		a.kind = revoked
		a.revokedAt = res.RevokedAt
		a.reason = tlsclient.RevocationReason(res.Reason)
		a.detail = fmt.Sprintf("%s: revoked at %s (%s)", what, stamp(res.RevokedAt), a.reason)
	default:
		a.kind = noAnswer
		a.mustStaple = must
		a.detail = what + ": status unknown"
		a.err = fmt.Errorf("%s: the responder does not know the certificate (status unknown)", what)
	}
	return a
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
