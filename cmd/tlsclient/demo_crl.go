package main

import (
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// The CRL scenarios: a leaf whose CRL distribution point is served by a
// file server the scenario starts (or stops), checked by revocation.CRL.
func init() {
	scenarios = append(scenarios,
		scenario{
			name: "revoked by CRL",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return crlScenario(env, crlPublished, testpki.CRLTemplate{}, true)
			},
			want: expectRevoked("crl"),
		},
		scenario{
			name: "good CRL",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return crlScenario(env, crlPublished, testpki.CRLTemplate{}, false)
			},
			want: expectOK(),
		},
		scenario{
			name: "CRL endpoint down (hard-fail)",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return crlScenario(env, crlDown, testpki.CRLTemplate{}, false)
			},
			want: expectIs(tlsclient.ErrRevocationUnavailable, "revocation unavailable"),
		},
		scenario{
			name: "CRL endpoint down (soft-fail)",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return crlScenario(env, crlDown, testpki.CRLTemplate{}, false, revocation.SoftFail())
			},
			want: expectWarning("crl"),
		},
		scenario{
			name: "stale CRL",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				stale := testpki.CRLTemplate{
					ThisUpdate: testpki.Now.Add(-10 * 24 * time.Hour),
					NextUpdate: testpki.Now.Add(-3 * 24 * time.Hour),
				}
				return crlScenario(env, crlPublished, stale, false)
			},
			want: expectIs(tlsclient.ErrRevocationUnavailable, "revocation unavailable"),
		},
	)
}

// crlEndpoint is the state of the scenario's CRL distribution point.
type crlEndpoint int

const (
	crlPublished crlEndpoint = iota // the CRL is served
	crlDown                         // nothing listens at the URL
)

// crlScenario mints a leaf whose distribution point is on a file server,
// publishes the intermediate's CRL there (listing the leaf when revoke is
// set), starts the TLS server and returns the options of a client that
// checks CRLs with opts.
func crlScenario(env *demoEnv, ep crlEndpoint, tmpl testpki.CRLTemplate, revoke bool, opts ...revocation.Option) (string, []tlsclient.Option, error) {
	files := testpki.NewFileServer()
	env.onClose(files.Close)
	url := files.URLFor("/intermediate.crl")
	leaf, err := env.inter.Issue(testpki.CertOptions{CRLDistributionPoints: []string{url}})
	if err != nil {
		return "", nil, err
	}
	if revoke {
		tmpl.Entries = append(tmpl.Entries, testpki.CRLEntry{
			Serial:    leaf.Cert.SerialNumber,
			RevokedAt: testpki.Now.Add(-24 * time.Hour),
			Reason:    testpki.Reason(int(tlsclient.ReasonKeyCompromise)),
		})
	}
	crl, err := env.inter.BuildCRL(tmpl)
	if err != nil {
		return "", nil, err
	}
	files.Set("/intermediate.crl", crl, testpki.Now.Add(-time.Hour))
	if ep == crlDown {
		files.Close()
	}
	srv, err := env.serve(testpki.ServerOptions{Cert: leaf})
	if err != nil {
		return "", nil, err
	}
	opts = append(opts, revocation.WithFetchTimeout(2*time.Second))
	return srv.Addr, append(env.trust(), tlsclient.WithVerifiers(revocation.CRL(opts...))), nil
}
