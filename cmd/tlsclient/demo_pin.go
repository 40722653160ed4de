package main

import (
	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// The public key pinning scenarios: the demo's server, with the
// intermediate's key pinned, or a key the chain does not have.
func init() {
	scenarios = append(scenarios,
		scenario{
			name: "pinned key (intermediate CA)",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return pinScenario(env, tlsclient.PinOf(env.inter.Cert))
			},
			want: expectOK(),
		},
		scenario{
			name: "pin mismatch",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				other, err := testpki.NewRoot(testpki.CertOptions{CommonName: "Unpinned Root CA"})
				if err != nil {
					return "", nil, err
				}
				return pinScenario(env, tlsclient.PinOf(other.Cert))
			},
			want: expectIs(tlsclient.ErrPinMismatch, "pin mismatch"),
		},
	)
}

// pinScenario serves the demo's leaf to a client that pins pin.
func pinScenario(env *demoEnv, pin tlsclient.Pin) (string, []tlsclient.Option, error) {
	srv, err := env.serve(testpki.ServerOptions{Cert: env.leaf})
	if err != nil {
		return "", nil, err
	}
	return srv.Addr, append(env.trust(), tlsclient.WithPins(pin.String())), nil
}
