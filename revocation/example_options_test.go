package revocation_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// stapledState is a hand-built State: a saved chain and the OCSP response
// the server stapled, judged at the time at.
func stapledState(root, ca, leaf *testpki.Cert, staple []byte, at time.Time) *tlsclient.State {
	st := &tlsclient.State{Now: at}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{{leaf.Cert, ca.Cert, root.Cert}}
	st.ConnectionState.OCSPResponse = staple
	return st
}

// outcome runs v on st and says how it ended.
func outcome(v tlsclient.Verifier, st *tlsclient.State) string {
	if err := v.Verify(context.Background(), st); err != nil {
		if errors.Is(err, tlsclient.ErrRevocationUnavailable) {
			return "refused: no usable answer"
		}
		return "refused: " + err.Error()
	}
	return "accepted"
}

// WithClockSkew sets the tolerance on thisUpdate and nextUpdate (5 minutes
// by default): here a staple checked 3 minutes after its nextUpdate.
func ExampleWithClockSkew() {
	root, ca, leaf := exampleOCSPPKI("")
	staple := testpki.Must(ca.OCSPGood(leaf)) // nextUpdate: testpki.Now + 7 days
	at := testpki.Now.Add(7*24*time.Hour + 3*time.Minute)

	fmt.Println("default:", outcome(revocation.Stapled(), stapledState(root, ca, leaf, staple, at)))
	fmt.Println("no skew:", outcome(revocation.Stapled(revocation.WithClockSkew(0)), stapledState(root, ca, leaf, staple, at)))
	// Output:
	// default: accepted
	// no skew: refused: no usable answer
}

// WithMaxAge bounds the use of a response without nextUpdate (24 hours by
// default) after its thisUpdate.
func ExampleWithMaxAge() {
	root, ca, leaf := exampleOCSPPKI("")
	resp := &testpki.OCSPResponse{Signer: ca, Responses: []testpki.Single{{
		Cert: leaf.Cert, Issuer: ca.Cert, Status: testpki.StatusGood,
		ThisUpdate: testpki.Now.Add(-2 * time.Hour), // and no nextUpdate
	}}}
	staple := testpki.Must(resp.Marshal())

	fmt.Println("default:", outcome(revocation.Stapled(), stapledState(root, ca, leaf, staple, testpki.Now)))
	fmt.Println("1 hour:", outcome(revocation.Stapled(revocation.WithMaxAge(time.Hour)), stapledState(root, ca, leaf, staple, testpki.Now)))
	// Output:
	// default: accepted
	// 1 hour: refused: no usable answer
}

// RejectSHA1 refuses responses signed with SHA-1, still common in the wild
// and accepted by default.
func ExampleRejectSHA1() {
	root, ca, leaf := exampleOCSPPKI("")
	resp := &testpki.OCSPResponse{Signer: ca, SigHash: crypto.SHA1, Responses: []testpki.Single{{
		Cert: leaf.Cert, Issuer: ca.Cert, Status: testpki.StatusGood,
		ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(24 * time.Hour),
	}}}
	staple := testpki.Must(resp.Marshal())

	fmt.Println("default:", outcome(revocation.Stapled(), stapledState(root, ca, leaf, staple, testpki.Now)))
	fmt.Println("RejectSHA1:", outcome(revocation.Stapled(revocation.RejectSHA1()), stapledState(root, ca, leaf, staple, testpki.Now)))
	// Output:
	// default: accepted
	// RejectSHA1: refused: no usable answer
}

// countingTransport counts the requests it carries.
type countingTransport struct {
	n    atomic.Int64
	base http.RoundTripper
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

// WithHTTPClient makes the OCSP and CRL requests with your client: a proxy,
// custom TLS for an internal responder, instrumentation.
func ExampleWithHTTPClient() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	goodResponder(responder, root, ca, leaf)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	tr := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	client := &http.Client{Transport: tr}
	_, err := exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly(), revocation.WithHTTPClient(client)))
	fmt.Println(err, "requests through the client:", tr.n.Load())
	// Output:
	// <nil> requests through the client: 1
}

// WithMaxRedirects bounds the redirects a fetch follows (3 by default);
// with 0 none is followed.
func ExampleWithMaxRedirects() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, responder.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer moved.Close()
	root, ca, leaf := exampleOCSPPKI(moved.URL) // the certificate names the old URL
	goodResponder(responder, root, ca, leaf)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	_, err := exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly()))
	fmt.Println("default:", err == nil)
	_, err = exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly(), revocation.WithMaxRedirects(0)))
	var fe *revocation.FetchError
	fmt.Println("no redirects:", errors.As(err, &fe) && fe.Kind == revocation.FetchRedirects)
	// Output:
	// default: true
	// no redirects: true
}

// WithMaxOCSPResponseSize caps a response body (64 KiB by default).
func ExampleWithMaxOCSPResponseSize() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	goodResponder(responder, root, ca, leaf)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	_, err := exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly(), revocation.WithMaxOCSPResponseSize(64)))
	var fe *revocation.FetchError
	fmt.Println(errors.Is(err, tlsclient.ErrRevocationUnavailable), errors.As(err, &fe) && fe.Kind == revocation.FetchTooLarge)
	// Output:
	// true true
}

// WithMaxCRLSize caps a CRL download (64 MiB by default).
func ExampleWithMaxCRLSize() {
	files := testpki.NewFileServer()
	defer files.Close()
	root, _, leaf, crl := exampleCRLPKI(files.URLFor("/ca.crl"), false)
	files.Set("/ca.crl", crl, testpki.Now)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	_, err := exampleDial(srv, root, revocation.CRL(revocation.LeafOnly(), revocation.WithMaxCRLSize(64)))
	var fe *revocation.FetchError
	fmt.Println(errors.Is(err, tlsclient.ErrRevocationUnavailable), errors.As(err, &fe) && fe.Kind == revocation.FetchTooLarge)
	// Output:
	// true true
}

// WithCRLSigners supplies the certificate of a separate CRL-signing key of
// the CA, for CRLs it signed (the server may also send it).
func ExampleWithCRLSigners() {
	root, ca, leaf, _ := exampleCRLPKI("", false)
	signer := testpki.Must(ca.IssueCRLSigner(0)) // same subject as the CA, cRLSign only
	crl := testpki.Must(signer.BuildCRL(testpki.CRLTemplate{}))
	state := func() *tlsclient.State { return stapledState(root, ca, leaf, nil, testpki.Now) }

	fmt.Println("without the signer:", outcome(revocation.CRL(revocation.LeafOnly(), revocation.WithCRLs(crl)), state()))
	fmt.Println("with it:", outcome(revocation.CRL(revocation.LeafOnly(), revocation.WithCRLs(crl), revocation.WithCRLSigners(signer.Cert)), state()))
	// Output:
	// without the signer: refused: no usable answer
	// with it: accepted
}

// WithNonce sends a nonce in each OCSP request and requires the response to
// echo it: replayed responses are refused, at the cost of caching. Enable
// it only for responders known to support nonces.
func ExampleWithNonce() {
	d, err := tlsclient.New(tlsclient.WithVerifiers(revocation.OCSP(revocation.WithNonce())))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = d // dial internal services whose responder echoes nonces
}

// WithBackgroundRefresh downloads a cached CRL again in the background when
// it is within the lead time of its nextUpdate, so that no dial waits for a
// download in steady state.
func ExampleWithBackgroundRefresh() {
	crls := revocation.CRL(revocation.WithBackgroundRefresh(time.Hour))
	d, err := tlsclient.New(tlsclient.WithVerifiers(crls))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = d // one Dialer for the life of the program: its CRLs stay fresh
}
