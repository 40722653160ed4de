package revocation

import (
	"context"

	"github.com/tlsclient/tlsclient/internal/fetch"
)

// crlSource checks CRLs. (Placeholder until the CRL work lands: it answers
// "no answer", so a hard-fail policy refuses rather than passes.)
type crlSource struct{}

func newCRLSource(o *options, f *fetch.Fetcher, c Cache) (*crlSource, error) {
	return &crlSource{}, nil
}

func (s *crlSource) check(ctx context.Context, r *request) answer {
	if len(r.cert.CRLDistributionPoints) == 0 {
		return answer{kind: notApplicable, detail: "no CRL distribution point in the certificate"}
	}
	return answer{kind: noAnswer, detail: "CRL", err: errNotImplemented}
}
