package main

import (
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// The Certificate Transparency scenarios: fake logs of two operators in a
// log list the client is given (tlsclient ships none), a leaf with SCTs
// embedded by some of them, and ct.New with Chrome's policy. A 90-day
// certificate needs SCTs from 2 logs of 2 operators.
func init() {
	scenarios = append(scenarios,
		scenario{
			name: "enough SCTs",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ctScenario(env, ctDemoFresh, "alpha", "beta")
			},
			want: expectOK(),
		},
		scenario{
			name: "too few SCTs",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ctScenario(env, ctDemoFresh, "alpha")
			},
			want: expectIs(tlsclient.ErrCTPolicy, "CT policy"),
		},
		scenario{
			name: "SCT from an unknown log",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				return ctScenario(env, ctDemoFresh, "alpha", "unlisted")
			},
			want: expectIs(tlsclient.ErrCTPolicy, "CT policy"),
		},
		scenario{
			name: "stale CT log list",
			setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
				// Too few SCTs, but a list 80 days old: not enforced.
				return ctScenario(env, ctDemoStale, "alpha")
			},
			want: expectWarning("ct"),
		},
	)
}

// ctListAge says how old the scenario's log list is.
type ctListAge int

const (
	ctDemoFresh ctListAge = iota // a day old
	ctDemoStale                  // 80 days old, beyond the 70-day maximum
)

// ctScenario makes three logs — alpha and beta (of two operators) in the
// list, unlisted not — issues a leaf with SCTs from the named logs, starts
// the TLS server and returns the options of a client that checks CT.
func ctScenario(env *demoEnv, age ctListAge, embed ...string) (string, []tlsclient.Option, error) {
	logs := map[string]*testpki.CTLog{}
	for _, l := range []struct{ name, desc, op string }{
		{"alpha", "Demo 'Alpha' log", "Alpha Logs"},
		{"beta", "Demo 'Beta' log", "Beta Logs"},
		{"unlisted", "Demo 'Unlisted' log", "Gamma Logs"},
	} {
		log, err := testpki.NewCTLog(l.desc, l.op, testpki.ECDSAP256)
		if err != nil {
			return "", nil, err
		}
		logs[l.name] = log
	}
	listTime := testpki.Now.Add(-24 * time.Hour)
	if age == ctDemoStale {
		listTime = testpki.Now.Add(-80 * 24 * time.Hour)
	}
	listJSON, err := testpki.CTLogList(listTime, logs["alpha"], logs["beta"])
	if err != nil {
		return "", nil, err
	}
	list, err := ct.ParseLogList(listJSON)
	if err != nil {
		return "", nil, err
	}
	var embeds []testpki.Embed
	for _, name := range embed {
		embeds = append(embeds, testpki.Embed{Log: logs[name]})
	}
	leaf, err := env.inter.IssueWithSCTs(testpki.CertOptions{}, embeds...)
	if err != nil {
		return "", nil, err
	}
	srv, err := env.serve(testpki.ServerOptions{Cert: leaf.Cert})
	if err != nil {
		return "", nil, err
	}
	return srv.Addr, append(env.trust(), tlsclient.WithVerifiers(ct.New(list))), nil
}
