package tlsclient

import (
	"context"
	"fmt"
	"time"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/x509util"
)

// stapleCheck is the built-in check every Dialer runs, without network
// access: a valid stapled OCSP response that says revoked aborts the
// handshake; a must-staple certificate (RFC 7633) without a valid, good
// staple aborts with ErrMustStaple; an invalid or stale staple is otherwise
// recorded as a warning, and no staple is recorded as a skip. Package
// revocation's Stapled verifier offers the stricter policies.
type stapleCheck struct {
	cache *ocspcheck.VerdictCache
}

var _ Verifier = (*stapleCheck)(nil)

func (*stapleCheck) Name() string { return "staple" }

// StapleDetails is the Data of a staple check: the parsed response's dates
// and whether its verdict was served from the Dialer's cache.
type StapleDetails struct {
	Status     string    `json:"status"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	Signer     string    `json:"signer"`
	Cached     bool      `json:"cached"`
}

func (s *stapleCheck) Verify(_ context.Context, st *State) error {
	chain := st.Chain()
	if len(chain) < 2 {
		st.Record(Check{Outcome: Skip, Detail: "the server's certificate is itself a trust anchor: nothing to check a staple against"})
		return nil
	}
	leaf, issuer := chain[0], chain[1]
	subject := st.CertLabel(leaf)
	must := x509util.MustStaple(leaf)
	staple := st.ConnectionState.OCSPResponse
	if len(staple) == 0 {
		if must {
			err := fmt.Errorf("%w: %s carries the TLS Feature status_request extension (RFC 7633) but the server sent no OCSP response; the server must enable OCSP stapling", ErrMustStaple, subject)
			st.Record(Check{Subject: subject, Outcome: Fail, Source: "staple", Detail: "must-staple certificate, no staple", Err: err})
			return err
		}
		st.Record(Check{Subject: subject, Outcome: Skip, Source: "staple", Detail: "no stapled OCSP response"})
		return nil
	}
	// A staple is about the leaf: relied on for at most 10 days after its
	// thisUpdate, as the Baseline Requirements and Firefox have it.
	r, cached, err := s.cache.Validate(staple, leaf, issuer, st.Time(), ocspcheck.Options{MaxLifetime: ocspcheck.DefaultMaxLifetime})
	if err != nil {
		if must {
			err = fmt.Errorf("%w: %s: the stapled response is not usable: %w", ErrMustStaple, subject, err)
			st.Record(Check{Subject: subject, Outcome: Fail, Source: "staple", Detail: "must-staple certificate, invalid staple", Err: err})
			return err
		}
		st.Record(Check{Subject: subject, Outcome: Warning, Source: "staple", Detail: "stapled OCSP response ignored", Err: err})
		return nil
	}
	details := StapleDetails{Status: r.Status.String(), ThisUpdate: r.ThisUpdate, NextUpdate: r.NextUpdate, Signer: r.Signer, Cached: cached}
	switch r.Status {
	case ocspcheck.Good:
		st.Record(Check{Subject: subject, Outcome: Pass, Source: "staple", Data: details,
			Detail: "stapled OCSP response: " + r.Summary()})
		return nil
	case ocspcheck.Revoked:
		err := &RevokedError{Subject: subject, Serial: leaf.SerialNumber, RevokedAt: r.RevokedAt, Reason: RevocationReason(r.Reason), Source: "staple"}
		st.Record(Check{Subject: subject, Outcome: Fail, Source: "staple", Data: details, Detail: "stapled OCSP response: revoked", Err: err})
		return err
	default:
		if must {
			err := fmt.Errorf("%w: %s: the stapled response says the responder does not know the certificate (status unknown)", ErrMustStaple, subject)
			st.Record(Check{Subject: subject, Outcome: Fail, Source: "staple", Data: details, Detail: "must-staple certificate, staple status unknown", Err: err})
			return err
		}
		st.Record(Check{Subject: subject, Outcome: Warning, Source: "staple", Data: details, Detail: "stapled OCSP response: status unknown (not a definitive answer)"})
		return nil
	}
}
