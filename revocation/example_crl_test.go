package revocation_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// exampleCRLPKI mints a CA and a server certificate whose CRL distribution
// point is url, and a CRL revoking it when revoke is set.
func exampleCRLPKI(url string, revoke bool) (root, inter, leaf *testpki.Cert, crl []byte) {
	root = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Example Root CA"}))
	inter = testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "Example Issuing CA"}))
	var dps []string
	if url != "" {
		dps = []string{url}
	}
	leaf = testpki.Must(inter.Issue(testpki.CertOptions{CommonName: "www.example.test", DNSNames: []string{"www.example.test"}, CRLDistributionPoints: dps}))
	var tmpl testpki.CRLTemplate
	if revoke {
		tmpl.Entries = []testpki.CRLEntry{{Serial: leaf.Cert.SerialNumber, RevokedAt: testpki.Now.Add(-24 * time.Hour),
			Reason: testpki.Reason(int(tlsclient.ReasonKeyCompromise))}}
	}
	crl = testpki.Must(inter.BuildCRL(tmpl))
	return root, inter, leaf, crl
}

// CRL checks every certificate of the chain against the CRL of its
// distribution point; a revoked certificate aborts the handshake.
func ExampleCRL() {
	files := testpki.NewFileServer() // the CA's CRL endpoint
	defer files.Close()
	root, _, leaf, crl := exampleCRLPKI(files.URLFor("/issuing-ca.crl"), true)
	files.Set("/issuing-ca.crl", crl, testpki.Now)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	_, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithServerName("www.example.test"),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(revocation.CRL()),
	)
	var re *tlsclient.RevokedError
	if errors.As(err, &re) {
		fmt.Println("refused:", re.Subject, "revoked,", re.Reason, "according to", re.Source)
	}
	fmt.Println("errors.Is(err, tlsclient.ErrRevoked):", errors.Is(err, tlsclient.ErrRevoked))
	// Output:
	// refused: CN=www.example.test revoked, keyCompromise according to crl
	// errors.Is(err, tlsclient.ErrRevoked): true
}

// WithCRLs preloads CRLs, like curl --crlfile: nothing is fetched for an
// issuer whose CRL is given. With RequireStatus every CA of the chain must
// have one (OpenSSL's X509_V_FLAG_CRL_CHECK_ALL).
func ExampleWithCRLs() {
	root, _, leaf, interCRL := exampleCRLPKI("", false) // no distribution point at all
	rootCRL := testpki.Must(root.BuildCRL(testpki.CRLTemplate{}))
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	dial := func(crls ...[]byte) (*tlsclient.Report, error) {
		conn, err := tlsclient.Dial("tcp", srv.Addr,
			tlsclient.WithRootCAs(root.Pool()),
			tlsclient.WithServerName("www.example.test"),
			tlsclient.WithTime(testpki.Clock()),
			tlsclient.WithVerifiers(revocation.CRL(revocation.WithCRLs(crls...), revocation.RequireStatus())),
		)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return conn.Report(), nil
	}

	if _, err := dial(rootCRL); err != nil {
		fmt.Println("root CRL only:", errors.Is(err, tlsclient.ErrRevocationUnavailable))
	}
	report, err := dial(rootCRL, interCRL)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Certificates are checked in parallel: sort the lines.
	var lines []string
	for _, c := range report.Checks {
		if c.Verifier == "crl" && c.Outcome == tlsclient.Pass {
			lines = append(lines, fmt.Sprint(c.Outcome, " ", c.Subject))
		}
	}
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// root CRL only: true
	// pass CN=Example Issuing CA
	// pass CN=www.example.test
}

// A verifier can be run on its own, offline: here a saved chain is checked
// against a CRL file, as `openssl verify -crl_check -CRLfile` would.
func ExampleCRL_offline() {
	root, inter, leaf, crl := exampleCRLPKI("", true)

	st := &tlsclient.State{Now: testpki.Now}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{{leaf.Cert, inter.Cert, root.Cert}}
	err := revocation.CRL(revocation.WithCRLs(crl), revocation.LeafOnly()).Verify(context.Background(), st)

	var re *tlsclient.RevokedError
	if errors.As(err, &re) {
		fmt.Printf("%s: revoked at %s (%s)\n", re.Subject, re.RevokedAt.Format(time.DateOnly), re.Reason)
	}
	for _, c := range st.Checks() {
		fmt.Println(c.Outcome, c.Source)
	}
	// Output:
	// CN=www.example.test: revoked at 2026-01-14 (keyCompromise)
	// fail crl
}
