package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// crlDial dials a TLS server for p's leaf (sending chain, when set) with v,
// at the fixed time.
func crlDial(t *testing.T, p *crlPKI, chain []*x509.Certificate, v tlsclient.Verifier) (*tlsclient.Report, error) {
	t.Helper()
	srv, err := testpki.StartServer(testpki.ServerOptions{Cert: p.leaf, Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := tlsclient.DialContext(ctx, "tcp", srv.Addr,
		tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(testpki.Clock()), tlsclient.WithVerifiers(v))
	if err != nil {
		var ve *tlsclient.VerificationError
		if errors.As(err, &ve) {
			return ve.Report, err
		}
		return nil, err
	}
	defer conn.Close()
	return conn.Report(), nil
}

func crlReportChecks(r *tlsclient.Report, verifier string) []tlsclient.Check {
	var out []tlsclient.Check
	for _, c := range r.Checks {
		if c.Verifier == verifier {
			out = append(out, c)
		}
	}
	return out
}

func TestCRLDial(t *testing.T) {
	t.Parallel()
	t.Run("good", func(t *testing.T) {
		t.Parallel()
		p := newCRLPKI(t, crlPKIOptions{})
		r, err := crlDial(t, p, nil, crlVerifier(t))
		if err != nil {
			t.Fatal(err)
		}
		checks := crlReportChecks(r, "crl")
		if len(checks) != 2 || checks[0].Outcome != tlsclient.Pass || checks[1].Outcome != tlsclient.Pass {
			t.Fatalf("checks:%s", crlDump(r.Checks))
		}
		for _, c := range checks {
			if c.Source != "crl" || !strings.HasPrefix(c.URL, "http://127.0.0.1") {
				t.Errorf("check %+v", c)
			}
		}
	})
	t.Run("revoked", func(t *testing.T) {
		t.Parallel()
		p := newCRLPKI(t, crlPKIOptions{})
		p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
		r, err := crlDial(t, p, nil, crlVerifier(t))
		var re *tlsclient.RevokedError
		var ve *tlsclient.VerificationError
		if !errors.As(err, &ve) || !errors.As(err, &re) || re.Source != "crl" || re.URL != p.url("/inter.crl") ||
			re.Reason != tlsclient.ReasonKeyCompromise || !re.RevokedAt.Equal(testpki.Now.Add(-48*time.Hour)) || re.Serial.Cmp(p.leaf.Cert.SerialNumber) != 0 {
			t.Fatalf("err %v, RevokedError %+v", err, re)
		}
		if r == nil || r.OK() {
			t.Fatal("report does not show the failure")
		}
	})
	t.Run("endpoint down, hard-fail", func(t *testing.T) {
		t.Parallel()
		p := newCRLPKI(t, crlPKIOptions{})
		p.files.Close()
		_, err := crlDial(t, p, nil, crlVerifier(t))
		var fe *FetchError
		if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &fe) || fe.Kind != FetchNetwork {
			t.Fatalf("%v", err)
		}
	})
	t.Run("endpoint down, soft-fail", func(t *testing.T) {
		t.Parallel()
		p := newCRLPKI(t, crlPKIOptions{})
		p.files.Close()
		r, err := crlDial(t, p, nil, crlVerifier(t, SoftFail()))
		if err != nil {
			t.Fatal(err)
		}
		if w := r.Find(tlsclient.Warning); len(w) != 2 {
			t.Fatalf("want a warning per certificate:%s", crlDump(r.Checks))
		}
	})
	t.Run("CRL signer sent by the server", func(t *testing.T) {
		t.Parallel()
		p := newCRLPKI(t, crlPKIOptions{})
		signer := testpki.Must(p.inter.IssueCRLSigner(0))
		p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
		_, err := crlDial(t, p, []*x509.Certificate{p.leaf.Cert, p.inter.Cert, signer.Cert}, crlVerifier(t))
		if !errors.Is(err, tlsclient.ErrRevoked) {
			t.Fatalf("%v", err)
		}
		// Without it, the CRL cannot be attributed to the CA.
		_, err = crlDial(t, p, nil, crlVerifier(t))
		if crlReasonOf(err) != CRLKeyMismatch {
			t.Fatalf("without the signer: %v", err)
		}
	})
}

// TestCRLCombinedOrder: New() consults the staple, then CRLs, then OCSP; a
// definitive CRL answer means no OCSP request.
func TestCRLCombinedOrder(t *testing.T) {
	t.Parallel()
	responder := testpki.NewOCSPResponder(func(*ocsp.Request, []byte) []byte { return nil })
	t.Cleanup(responder.Close)
	for _, revokedLeaf := range []bool{false, true} {
		p := newCRLPKI(t, crlPKIOptions{leaf: testpki.CertOptions{OCSPServers: []string{responder.URL}}})
		if revokedLeaf {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 4)}})
		}
		v := New(WithHTTPClient(crlHTTP(t)), LeafOnly())
		r, err := crlDial(t, p, nil, v)
		if revokedLeaf {
			var re *tlsclient.RevokedError
			if !errors.As(err, &re) || re.Source != "crl" || re.Reason != tlsclient.ReasonSuperseded {
				t.Fatalf("revoked: %v", err)
			}
		} else if err != nil {
			t.Fatalf("good: %v", err)
		}
		var sources []string
		for _, c := range crlReportChecks(r, "revocation") {
			sources = append(sources, c.Source)
		}
		if strings.Contains(strings.Join(sources, ","), "ocsp") {
			t.Errorf("OCSP consulted after a definitive CRL answer: %v", sources)
		}
	}
	if total, _ := responder.Hits(); total != 0 {
		t.Errorf("the OCSP responder got %d requests", total)
	}
}

// TestCRLHostileEndpoints: every hostile endpoint gives a typed error
// within the budget, without panicking or leaving goroutines behind.
func TestCRLHostileEndpoints(t *testing.T) {
	crlLeakCheck(t)
	p := newCRLPKI(t, crlPKIOptions{noLeafDP: true})
	good := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{}))
	otherCA := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Someone Else"}))
	cases := []struct {
		name    string
		handler http.Handler
		kind    FetchErrorKind
		reason  CRLErrorReason
	}{
		{"hang", testpki.HangHandler(), FetchTimeout, CRLFetchFailed},
		{"slow drip", testpki.DripHandler(good, 20*time.Millisecond), FetchTimeout, CRLFetchFailed},
		{"huge body", testpki.HugeHandler(8 << 20), FetchTooLarge, CRLFetchFailed},
		{"HTML", testpki.BytesHandler("text/html", []byte("<html><body>It works!</body></html>")), 0, CRLMalformed},
		{"empty", testpki.BytesHandler("application/pkix-crl", nil), 0, CRLMalformed},
		{"truncated DER", testpki.BytesHandler("application/pkix-crl", good[:len(good)-20]), 0, CRLMalformed},
		{"wrong issuer", testpki.BytesHandler("application/pkix-crl", testpki.Must(otherCA.BuildCRL(testpki.CRLTemplate{}))), 0, CRLWrongIssuer},
		{"bad signature", testpki.BytesHandler("application/pkix-crl", testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{CorruptSignature: true}))), 0, CRLBadSignature},
		{"redirect loop", testpki.RedirectLoopHandler(), FetchRedirects, CRLFetchFailed},
		{"redirect to file", testpki.RedirectHandler("file:///etc/passwd"), FetchRedirects, CRLFetchFailed},
		{"server error", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) }), FetchStatus, CRLFetchFailed},
	}
	const budget = 300 * time.Millisecond
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			leaf := testpki.Must(p.inter.Issue(testpki.CertOptions{CRLDistributionPoints: []string{srv.URL + "/ca.crl"}}))
			client := crlHTTP(t)
			v := CRL(WithHTTPClient(client), WithFetchTimeout(budget), WithMaxCRLSize(1<<20), LeafOnly())
			start := time.Now()
			err := crlVerify(v, crlState([]*x509.Certificate{leaf.Cert, p.inter.Cert, p.root.Cert}))
			if el := time.Since(start); el > budget+time.Second {
				t.Errorf("took %s, budget %s", el, budget)
			}
			if !errors.Is(err, tlsclient.ErrRevocationUnavailable) {
				t.Fatalf("%v", err)
			}
			if got := crlReasonOf(err); got != tc.reason {
				t.Errorf("reason %v, want %v: %v", got, tc.reason, err)
			}
			var fe *FetchError
			if tc.kind != 0 && (!errors.As(err, &fe) || fe.Kind != tc.kind) {
				t.Errorf("want fetch error %v, got %v", tc.kind, err)
			}
			if !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error does not name the URL: %v", err)
			}
		})
	}
}

// TestCRLDialDeadline: the dial's context bounds the CRL download.
func TestCRLDialDeadline(t *testing.T) {
	crlLeakCheck(t)
	srv := httptest.NewServer(testpki.HangHandler())
	t.Cleanup(srv.Close)
	p := newCRLPKI(t, crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{srv.URL + "/ca.crl"}}})
	v := CRL(WithHTTPClient(crlHTTP(t)), WithFetchTimeout(time.Minute), LeafOnly())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := v.Verify(ctx, crlState(p.chain()))
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Kind != FetchTimeout {
		t.Fatalf("%v", err)
	}
}
