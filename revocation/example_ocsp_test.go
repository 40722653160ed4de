package revocation_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
	"golang.org/x/crypto/ocsp"
)

// exampleOCSPPKI is the examples' CA: a root, an issuing CA and a leaf for
// www.example.test whose AIA names responderURL (none when empty). In real
// use these are a public CA and your server; the examples build them in
// process so that they run offline, at the fixed time testpki.Now.
func exampleOCSPPKI(responderURL string) (root, ca, leaf *testpki.Cert) {
	var aia []string
	if responderURL != "" {
		aia = []string{responderURL}
	}
	root = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Example Root CA"}))
	ca = testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "Example Issuing CA", OCSPServers: aia}))
	leaf = testpki.Must(ca.Issue(testpki.CertOptions{CommonName: "www.example.test", DNSNames: []string{"www.example.test"}, OCSPServers: aia}))
	return root, ca, leaf
}

// Stapled checks the OCSP response the server sends in the handshake, with
// no network access of its own.
func ExampleStapled() {
	root, ca, leaf := exampleOCSPPKI("")
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf, Staple: testpki.Must(ca.OCSPGood(leaf))}))
	defer srv.Close()

	conn, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithServerName("www.example.test"),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(revocation.Stapled(revocation.RequireStatus())),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	for _, c := range conn.Report().Checks {
		if d, ok := c.Data.(revocation.Details); ok {
			fmt.Println(c.Outcome, c.Subject)
			fmt.Println(c.Detail)
			fmt.Println("next update:", d.NextUpdate.Format(time.RFC3339))
		}
	}
	// Output:
	// pass CN=www.example.test
	// stapled OCSP response: good (thisUpdate 2026-01-15T11:00:00Z, signed by issuer)
	// next update: 2026-01-22T12:00:00Z
}

// OCSP asks the responders named in each certificate; a revoked
// certificate aborts the handshake with a *revocation.RevokedError.
func ExampleOCSP() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	revokedAt := time.Date(2026, time.January, 10, 8, 0, 0, 0, time.UTC)
	responder.SetAnswer(func(req *ocsp.Request, _ []byte) []byte {
		if req.SerialNumber.Cmp(leaf.Cert.SerialNumber) == 0 {
			return testpki.Must(ca.OCSPRevoked(leaf, revokedAt, int(tlsclient.ReasonKeyCompromise)))
		}
		return testpki.Must(root.OCSPGood(ca))
	})
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	_, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithServerName("www.example.test"),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(revocation.OCSP()),
	)
	var re *revocation.RevokedError
	if errors.As(err, &re) {
		fmt.Printf("refused: %s revoked at %s (%s), according to %s\n", re.Subject, re.RevokedAt.Format(time.RFC3339), re.Reason, re.Source)
	}
	fmt.Println("errors.Is(err, tlsclient.ErrRevoked):", errors.Is(err, tlsclient.ErrRevoked))
	// Output:
	// refused: CN=www.example.test revoked at 2026-01-10T08:00:00Z (keyCompromise), according to ocsp
	// errors.Is(err, tlsclient.ErrRevoked): true
}

// New combines the sources: the staple answers for the leaf, and only the
// issuing CA's status is fetched. Create the verifier once and share it
// (through one tlsclient.Dialer): its caches then serve later dials.
func ExampleNew() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	responder.SetAnswer(func(*ocsp.Request, []byte) []byte { return testpki.Must(root.OCSPGood(ca)) })
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf, Staple: testpki.Must(ca.OCSPGood(leaf))}))
	defer srv.Close()

	dialer, err := tlsclient.New(
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithServerName("www.example.test"),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(revocation.New()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 2 {
		conn, err := dialer.Dial("tcp", srv.Addr)
		if err != nil {
			fmt.Println(err)
			return
		}
		conn.Close()
		var lines []string
		for _, c := range conn.Report().Checks {
			if d, ok := c.Data.(revocation.Details); ok && c.Verifier == "revocation" && c.Outcome == tlsclient.Pass {
				lines = append(lines, fmt.Sprintf("  %s: %s by %s (cached %v)", c.Subject, d.Status, c.Source, d.Cached))
			}
		}
		slices.Sort(lines)
		fmt.Printf("dial %d:\n", i+1)
		for _, l := range lines {
			fmt.Println(l)
		}
	}
	total, _ := responder.Hits()
	fmt.Println("responder requests:", total)
	// Output:
	// dial 1:
	//   CN=Example Issuing CA: good by ocsp (cached false)
	//   CN=www.example.test: good by staple (cached false)
	// dial 2:
	//   CN=Example Issuing CA: good by ocsp (cached true)
	//   CN=www.example.test: good by staple (cached true)
	// responder requests: 1
}

// SoftFail continues when no answer can be had (here, the responder is
// down), recording a warning; a definitive "revoked" would still abort.
// Without it, the dial fails with tlsclient.ErrRevocationUnavailable.
func ExampleSoftFail() {
	down := httptest.NewServer(nil)
	down.Close() // nothing listens there any more
	root, _, leaf := exampleOCSPPKI(down.URL)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()
	dial := func(opts ...revocation.Option) (*tlsclient.Conn, error) {
		return tlsclient.Dial("tcp", srv.Addr,
			tlsclient.WithRootCAs(root.Pool()),
			tlsclient.WithServerName("www.example.test"),
			tlsclient.WithTime(testpki.Clock()),
			tlsclient.WithVerifiers(revocation.OCSP(append(opts, revocation.LeafOnly())...)),
		)
	}

	_, err := dial()
	fmt.Println("hard-fail:", errors.Is(err, tlsclient.ErrRevocationUnavailable))

	conn, err := dial(revocation.SoftFail())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	for _, c := range conn.Report().Find(tlsclient.Warning) {
		var fe *revocation.FetchError
		fmt.Println("soft-fail:", c.Outcome, c.Subject, errors.As(c.Err, &fe) && fe.Kind == revocation.FetchNetwork)
	}
	// Output:
	// hard-fail: true
	// soft-fail: warning CN=www.example.test true
}
