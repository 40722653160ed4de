package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"golang.org/x/crypto/ocsp"
)

// TestMaxResponseLifetime: a response about the leaf is relied on for at
// most 10 days after its thisUpdate, whatever its nextUpdate; responses
// about CA certificates are not capped.
func TestMaxResponseLifetime(t *testing.T) {
	t.Parallel()
	var caResp []byte
	responder := testpki.NewOCSPResponder(func(*ocsp.Request, []byte) []byte { return caResp })
	defer responder.Close()
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{}))
	inter := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "lifetime inter", OCSPServers: []string{responder.URL}}))
	leaf := testpki.Must(inter.Issue(testpki.CertOptions{CommonName: "lifetime leaf"}))
	long := func(signer *testpki.Cert, cert *x509.Certificate) []byte {
		return testpki.Must((&testpki.OCSPResponse{Signer: signer, Responses: []testpki.Single{{
			Cert: cert, Issuer: signer.Cert, Status: testpki.StatusGood,
			ThisUpdate: testpki.Now.Add(-11 * 24 * time.Hour), NextUpdate: testpki.Now.Add(30 * 24 * time.Hour),
		}}}).Marshal())
	}
	state := func(staple []byte) *tlsclient.State {
		st := &tlsclient.State{Now: testpki.Now}
		st.ConnectionState.VerifiedChains = [][]*x509.Certificate{{leaf.Cert, inter.Cert, root.Cert}}
		st.ConnectionState.OCSPResponse = staple
		return st
	}

	st := state(long(inter, leaf.Cert))
	err := Stapled(RequireStatus()).Verify(context.Background(), st)
	var re *ResponseError
	if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &re) || re.Reason != ResponseTooOld ||
		!strings.Contains(err.Error(), "more than 240h0m0s ago") {
		t.Fatalf("an 11-day-old staple about the leaf: %v", err)
	}
	if err := Stapled(RequireStatus(), WithMaxResponseLifetime(0)).Verify(context.Background(), state(long(inter, leaf.Cert))); err != nil {
		t.Errorf("without the cap nextUpdate rules: %v", err)
	}

	// The same dates on a response about the intermediate are fine.
	caResp = long(root, inter.Cert)
	st = state(nil)
	if err := OCSP().Verify(context.Background(), st); err != nil {
		t.Fatalf("a long-lived response about a CA certificate: %v", err)
	}
	if hits, _ := responder.Hits(); hits != 1 {
		t.Errorf("responder hits %d", hits)
	}
}
