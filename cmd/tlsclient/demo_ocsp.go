package main

import (
	"sync/atomic"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
	"golang.org/x/crypto/ocsp"
)

// The OCSP scenarios: a leaf whose AIA names an OCSP responder the
// scenario starts (or stops), checked by revocation.OCSP or revocation.New.
func init() {
	scenarios = append(scenarios,
		scenario{
			name: "revoked by OCSP fetch",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ocspScenario(env, ocspAnswers(testpki.StatusRevoked), false, nil, revocation.OCSP())
			},
			want: expectRevoked("ocsp"),
		},
		scenario{
			name: "good by OCSP fetch",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ocspScenario(env, ocspAnswers(testpki.StatusGood), false, nil, revocation.OCSP())
			},
			want: expectOK(),
		},
		scenario{
			name: "OCSP responder down (hard-fail)",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ocspScenario(env, ocspDown, false, nil, revocation.OCSP())
			},
			want: expectIs(tlsclient.ErrRevocationUnavailable, "revocation unavailable"),
		},
		scenario{
			name: "OCSP responder down (soft-fail)",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ocspScenario(env, ocspDown, false, nil, revocation.OCSP(revocation.SoftFail()))
			},
			want: expectWarning("ocsp"),
		},
		scenario{
			name: "must-staple, staple decides (revocation.New)",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ocspScenario(env, ocspAnswers(testpki.StatusGood), true, env.inter.OCSPGood, revocation.New())
			},
			want: expectOK(),
		},
		scenario{
			name: "must-staple, no staple, OCSP good (revocation.New)",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ocspScenario(env, ocspAnswers(testpki.StatusGood), true, nil, revocation.New(revocation.SoftFail()))
			},
			want: expectIs(tlsclient.ErrMustStaple, "must-staple"),
		},
	)
}

// ocspResponder is how a scenario's responder behaves: nil means nothing
// listens at its URL; otherwise it answers for the leaf.
type ocspResponder func(inter, leaf *testpki.Cert) ([]byte, error)

// ocspDown is a responder that is down.
var ocspDown ocspResponder

// ocspAnswers returns a responder that gives the leaf status.
func ocspAnswers(status int) ocspResponder {
	return func(inter, leaf *testpki.Cert) ([]byte, error) {
		return inter.OCSPStatus(leaf, status, testpki.Now.Add(-24*time.Hour), int(tlsclient.ReasonKeyCompromise))
	}
}

// ocspScenario starts an OCSP responder (stopped at once when answer is
// ocspDown), mints a leaf that names it (with must-staple when must is
// set), starts a TLS server that staples staple(leaf) when staple is not
// nil, and returns the options of a client verifying with v.
func ocspScenario(env *demoEnv, answer ocspResponder, must bool, staple func(*testpki.Cert) ([]byte, error), v tlsclient.Verifier) (string, []tlsclient.Option, error) {
	var minted atomic.Pointer[testpki.Cert] // the leaf, known once minted with the responder's URL
	responder := testpki.NewOCSPResponder(func(req *ocsp.Request, _ []byte) []byte {
		leaf := minted.Load()
		if answer == nil || leaf == nil || req.SerialNumber.Cmp(leaf.Cert.SerialNumber) != 0 {
			return nil // unauthorized
		}
		der, err := answer(env.inter, leaf)
		if err != nil {
			return nil
		}
		return der
	})
	env.onClose(responder.Close)
	leaf, err := env.inter.Issue(testpki.CertOptions{MustStaple: must, OCSPServers: []string{responder.URL}})
	if err != nil {
		return "", nil, err
	}
	minted.Store(leaf)
	if answer == nil {
		responder.Close() // its port now refuses connections
	}
	opts := testpki.ServerOptions{Cert: leaf}
	if staple != nil {
		if opts.Staple, err = staple(leaf); err != nil {
			return "", nil, err
		}
	}
	srv, err := env.serve(opts)
	if err != nil {
		return "", nil, err
	}
	return srv.Addr, append(env.trust(), tlsclient.WithVerifiers(v)), nil
}
