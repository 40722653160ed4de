package revocation

import (
	"context"

	"github.com/tlsclient/tlsclient/internal/fetch"
)

// ocspSource asks the OCSP responders of a certificate's AIA extension.
// (Placeholder until the OCSP fetching work lands: it answers "no answer",
// so a hard-fail policy refuses rather than passes.)
type ocspSource struct{}

func newOCSPSource(o *options, f *fetch.Fetcher, c Cache) *ocspSource { return &ocspSource{} }

func (s *ocspSource) check(ctx context.Context, r *request) answer {
	if len(r.cert.OCSPServer) == 0 {
		return answer{kind: notApplicable, detail: "no OCSP responder in the certificate"}
	}
	return answer{kind: noAnswer, detail: "OCSP", err: errNotImplemented}
}
