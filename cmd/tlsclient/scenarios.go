package main

import (
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// A scenario is one row of the demo: a situation set up on 127.0.0.1 with
// the in-process PKI, and what tlsclient must make of it.
type scenario struct {
	// name is the row's label; it must be unique.
	name string
	// setup starts the servers (and responders...) the scenario needs,
	// registering their shutdown with env.onClose, and returns the address
	// to dial and the client options. The demo adds the fixed clock
	// (testpki.Now) and a timeout after these options.
	setup func(env *demoEnv) (addr string, opts []tlsclient.Option, err error)
	// want is the expected outcome of the dial.
	want expectation
}

// An expectation is a named predicate on the result of a dial: its error
// (nil on success) and its report (nil when there was no handshake).
type expectation struct {
	label string // what is expected, in a few words
	match func(err error, rep *tlsclient.Report) bool
}

// scenarios is the demo's registry, run in order. The scenarios below come
// first; other files of this package add theirs from init functions, which
// Go runs in file name order:
//
//	func init() { scenarios = append(scenarios, scenario{...}) }
var scenarios = []scenario{
	{
		name: "good",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			srv, err := env.serve(testpki.ServerOptions{Cert: env.leaf})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil
		},
		want: expectOK(),
	},
	{
		name: "wrong host",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			srv, err := env.serve(testpki.ServerOptions{Cert: env.leaf})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, append(env.trust(), tlsclient.WithServerName("wrong.example")), nil
		},
		want: expectCertificate(tlsclient.HostnameMismatch),
	},
	{
		name: "expired",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			leaf, err := env.inter.Issue(testpki.CertOptions{
				NotBefore: testpki.Now.AddDate(0, 0, -100),
				NotAfter:  testpki.Now.AddDate(0, 0, -10),
			})
			if err != nil {
				return "", nil, err
			}
			srv, err := env.serve(testpki.ServerOptions{Cert: leaf})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil
		},
		want: expectCertificate(tlsclient.Expired),
	},
	{
		name: "unknown CA",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			otherRoot, err := testpki.NewRoot(testpki.CertOptions{CommonName: "Unknown Demo Root CA"})
			if err != nil {
				return "", nil, err
			}
			otherInter, err := otherRoot.NewIntermediate(testpki.CertOptions{CommonName: "Unknown Demo Intermediate CA"})
			if err != nil {
				return "", nil, err
			}
			leaf, err := otherInter.Issue(testpki.CertOptions{})
			if err != nil {
				return "", nil, err
			}
			srv, err := env.serve(testpki.ServerOptions{Cert: leaf})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil // trusts the demo root, not otherRoot
		},
		want: expectCertificate(tlsclient.UnknownIssuer),
	},
	{
		name: "TLS 1.1 only server",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			srv, err := env.serve(testpki.ServerOptions{Cert: env.leaf, MaxVersion: tls.VersionTLS11})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil
		},
		want: expectIs(tlsclient.ErrProtocolVersion, "TLS version refused"),
	},
	{
		name: "revoked staple",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			leaf, err := env.inter.Issue(testpki.CertOptions{})
			if err != nil {
				return "", nil, err
			}
			staple, err := env.inter.OCSPRevoked(leaf, testpki.Now.Add(-24*time.Hour), int(tlsclient.ReasonKeyCompromise))
			if err != nil {
				return "", nil, err
			}
			srv, err := env.serve(testpki.ServerOptions{Cert: leaf, Staple: staple})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil
		},
		want: expectRevoked("staple"),
	},
	{
		name: "stale staple",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			leaf, err := env.inter.Issue(testpki.CertOptions{})
			if err != nil {
				return "", nil, err
			}
			// A good response whose nextUpdate has passed: not usable, and
			// without must-staple only worth a warning.
			staple, err := (&testpki.OCSPResponse{Signer: env.inter, Responses: []testpki.Single{{
				Cert: leaf.Cert, Issuer: env.inter.Cert, Status: testpki.StatusGood,
				ThisUpdate: testpki.Now.AddDate(0, 0, -8), NextUpdate: testpki.Now.AddDate(0, 0, -1),
			}}}).Marshal()
			if err != nil {
				return "", nil, err
			}
			srv, err := env.serve(testpki.ServerOptions{Cert: leaf, Staple: staple})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil
		},
		want: expectWarning("staple"),
	},
	{
		name: "must-staple without staple",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			leaf, err := env.inter.Issue(testpki.CertOptions{MustStaple: true})
			if err != nil {
				return "", nil, err
			}
			srv, err := env.serve(testpki.ServerOptions{Cert: leaf})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil
		},
		want: expectIs(tlsclient.ErrMustStaple, "must-staple"),
	},
	{
		name: "must-staple with good staple",
		setup: func(env *demoEnv) (string, []tlsclient.Option, error) {
			leaf, err := env.inter.Issue(testpki.CertOptions{MustStaple: true})
			if err != nil {
				return "", nil, err
			}
			staple, err := env.inter.OCSPGood(leaf)
			if err != nil {
				return "", nil, err
			}
			srv, err := env.serve(testpki.ServerOptions{Cert: leaf, Staple: staple})
			if err != nil {
				return "", nil, err
			}
			return srv.Addr, env.trust(), nil
		},
		want: expectOK(),
	},
}

// demoPKI is the demo's CA, shared by the scenarios: a root the client
// trusts, an intermediate, and a leaf for localhost and 127.0.0.1.
type demoPKI struct {
	root, inter, leaf *testpki.Cert
}

func newDemoPKI() (*demoPKI, error) {
	root, err := testpki.NewRoot(testpki.CertOptions{CommonName: "Demo Root CA"})
	if err != nil {
		return nil, err
	}
	inter, err := root.NewIntermediate(testpki.CertOptions{CommonName: "Demo Intermediate CA"})
	if err != nil {
		return nil, err
	}
	leaf, err := inter.Issue(testpki.CertOptions{})
	if err != nil {
		return nil, err
	}
	return &demoPKI{root: root, inter: inter, leaf: leaf}, nil
}

// demoEnv is what a scenario's setup works with: the shared PKI and the
// shutdown functions of what it started.
type demoEnv struct {
	*demoPKI
	closers []func()
}

// onClose registers f to run when the scenario ends, in reverse order.
func (e *demoEnv) onClose(f func()) { e.closers = append(e.closers, f) }

// close stops everything the scenario started.
func (e *demoEnv) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// serve starts a TLS server on 127.0.0.1, stopped when the scenario ends.
func (e *demoEnv) serve(opts testpki.ServerOptions) (*testpki.Server, error) {
	srv, err := testpki.StartServer(opts)
	if err != nil {
		return nil, err
	}
	e.onClose(srv.Close)
	return srv, nil
}

// trust returns the options that trust the demo root.
func (e *demoEnv) trust() []tlsclient.Option {
	return []tlsclient.Option{tlsclient.WithRootCAs(e.root.Pool())}
}

// Expectations.

// expectOK expects the dial to succeed with no warning in the report.
func expectOK() expectation {
	return expectation{label: "ok", match: func(err error, rep *tlsclient.Report) bool {
		return err == nil && rep != nil && len(rep.Find(tlsclient.Warning)) == 0
	}}
}

// expectWarning expects the dial to succeed with a warning recorded by
// verifier (a soft-fail policy, for instance).
func expectWarning(verifier string) expectation {
	return expectation{label: "ok with warning", match: func(err error, rep *tlsclient.Report) bool {
		if err != nil || rep == nil {
			return false
		}
		for _, c := range rep.Find(tlsclient.Warning) {
			if c.Verifier == verifier {
				return true
			}
		}
		return false
	}}
}

// expectCertificate expects a *tlsclient.CertificateError with reason r.
func expectCertificate(r tlsclient.CertificateReason) expectation {
	return expectation{label: r.String(), match: func(err error, _ *tlsclient.Report) bool {
		var ce *tlsclient.CertificateError
		return isVerification(err) && errors.Is(err, tlsclient.ErrCertificate) && errors.As(err, &ce) && ce.Reason == r
	}}
}

// expectIs expects a verification error that wraps target.
func expectIs(target error, label string) expectation {
	return expectation{label: label, match: func(err error, _ *tlsclient.Report) bool {
		return isVerification(err) && errors.Is(err, target)
	}}
}

// expectRevoked expects a *tlsclient.RevokedError from source ("staple",
// "ocsp", "crl").
func expectRevoked(source string) expectation {
	return expectation{label: "revoked (" + source + ")", match: func(err error, _ *tlsclient.Report) bool {
		var re *tlsclient.RevokedError
		return isVerification(err) && errors.Is(err, tlsclient.ErrRevoked) && errors.As(err, &re) && re.Source == source
	}}
}

func isVerification(err error) bool {
	var ve *tlsclient.VerificationError
	return errors.As(err, &ve)
}

// outcomeLabel names what a dial actually produced, in the vocabulary of
// the expectations.
func outcomeLabel(err error, rep *tlsclient.Report) string {
	if err == nil {
		if rep != nil && len(rep.Find(tlsclient.Warning)) > 0 {
			return "ok with warning"
		}
		return "ok"
	}
	var ve *tlsclient.VerificationError
	if !errors.As(err, &ve) {
		var ne net.Error
		if errors.As(err, &ne) {
			return "network error"
		}
		return "error"
	}
	var (
		ce *tlsclient.CertificateError
		re *tlsclient.RevokedError
	)
	switch {
	case errors.As(err, &ce):
		return ce.Reason.String()
	case errors.As(err, &re):
		return "revoked (" + re.Source + ")"
	case errors.Is(err, tlsclient.ErrRevoked):
		return "revoked"
	case errors.Is(err, tlsclient.ErrProtocolVersion):
		return "TLS version refused"
	case errors.Is(err, tlsclient.ErrMustStaple):
		return "must-staple"
	case errors.Is(err, tlsclient.ErrRevocationUnavailable):
		return "revocation unavailable"
	case errors.Is(err, tlsclient.ErrCTPolicy):
		return "CT policy"
	case errors.Is(err, tlsclient.ErrPinMismatch):
		return "pin mismatch"
	}
	return "verification failed"
}
