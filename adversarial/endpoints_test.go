package adversarial_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// site is one leaf whose OCSP responder or CRL distribution point is a
// hostile endpoint, and the TLS server that presents it.
type site struct {
	p    *pki
	leaf *testpki.Cert
	// sibling is another leaf of the same intermediate, for answers about
	// the wrong certificate.
	sibling *testpki.Cert
	addr    string
}

// hostile is one misbehaving endpoint and what must come of it: a
// FetchError of kind, or a ResponseError (OCSP) or CRLError (CRL) of
// reason, and detail in the message.
type hostile struct {
	name    string
	handler func(s *site) http.Handler
	kind    revocation.FetchErrorKind
	ocsp    revocation.ResponseErrorReason
	crl     revocation.CRLErrorReason
	detail  string
	// slow: the case waits for the fetch timeout.
	slow bool
	// sent, when set, counts the bytes the endpoint managed to send.
	sent *atomic.Int64
}

// stream returns a handler that sends n bytes of 0x30 (an endless-looking
// DER SEQUENCE), counting them in sent, until the client hangs up.
func stream(n int64, sent *atomic.Int64) func(*site) http.Handler {
	return func(*site) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			buf := make([]byte, 32<<10)
			for i := range buf {
				buf[i] = 0x30
			}
			for sent.Load() < n {
				k, err := w.Write(buf)
				sent.Add(int64(k))
				if err != nil {
					return
				}
			}
		})
	}
}

// network are the misbehaviours of any HTTP endpoint; what they lead to
// is the same for OCSP and CRLs (a CRL's fetch failure is a CRLError of
// reason CRLFetchFailed wrapping the FetchError).
func network(valid func(*site) []byte) []hostile {
	var sent atomic.Int64
	return []hostile{
		{name: "hangs", kind: revocation.FetchTimeout, slow: true,
			handler: func(*site) http.Handler { return testpki.HangHandler() }},
		{name: "drips a valid answer", kind: revocation.FetchTimeout, slow: true,
			handler: func(s *site) http.Handler { return testpki.DripHandler(valid(s), 20*time.Millisecond) }},
		{name: "sends a gigabyte", kind: revocation.FetchTooLarge, sent: &sent,
			handler: stream(1<<30, &sent)},
		{name: "announces a gigabyte", kind: revocation.FetchTooLarge, detail: "Content-Length 1073741824",
			handler: func(*site) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "1073741824")
					w.Write([]byte{0x30, 0x84, 0x3f, 0xff, 0xff, 0xff})
				})
			}},
		{name: "redirects in a loop", kind: revocation.FetchRedirects, detail: "stopped after 3 redirects",
			handler: func(*site) http.Handler { return testpki.RedirectLoopHandler() }},
		{name: "redirects to file://", kind: revocation.FetchRedirects, detail: `"file"`,
			handler: func(*site) http.Handler { return testpki.RedirectHandler("file:///etc/passwd") }},
		{name: "redirects to ldap://", kind: revocation.FetchRedirects, detail: `"ldap"`,
			handler: func(*site) http.Handler {
				return testpki.RedirectHandler("ldap://ldap.test/cn=CA?certificateRevocationList")
			}},
		{name: "redirects to gopher://", kind: revocation.FetchRedirects, detail: `"gopher"`,
			handler: func(*site) http.Handler { return testpki.RedirectHandler("gopher://127.0.0.1:70/1") }},
		{name: "answers 500", kind: revocation.FetchStatus, detail: "500",
			handler: func(*site) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) })
			}},
		{name: "answers 304 unasked", kind: revocation.FetchStatus, detail: "304",
			handler: func(*site) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
			}},
		{name: "cuts the connection mid-body", kind: revocation.FetchNetwork,
			handler: func(*site) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					conn, buf, err := http.NewResponseController(w).Hijack()
					if err != nil {
						return
					}
					buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n\x30\x82\x13\x84")
					buf.Flush()
					conn.Close()
				})
			}},
		{name: "speaks garbage instead of HTTP", kind: revocation.FetchNetwork,
			handler: func(*site) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					conn, buf, err := http.NewResponseController(w).Hijack()
					if err != nil {
						return
					}
					buf.WriteString("\x16\x03\x01\x00\x05hello, not HTTP\r\n\r\n")
					buf.Flush()
					conn.Close()
				})
			}},
	}
}

// body returns a handler that answers 200 with data.
func body(contentType string, data func(*site) []byte) func(*site) http.Handler {
	return func(s *site) http.Handler { return testpki.BytesHandler(contentType, data(s)) }
}

func fixed(b []byte) func(*site) []byte { return func(*site) []byte { return b } }

const htmlPage = "<!doctype html><html><body>Please sign in to the hotel Wi-Fi</body></html>"

// ocspAnswer builds a response about cert (the leaf by default).
func ocspAnswer(s *site, f func(r *testpki.OCSPResponse)) []byte {
	r := &testpki.OCSPResponse{Signer: s.p.inter, Responses: []testpki.Single{{
		Cert: s.leaf.Cert, Issuer: s.p.inter.Cert, Status: testpki.StatusGood,
		ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(72 * time.Hour)}}}
	if f != nil {
		f(r)
	}
	return testpki.Must(r.Marshal())
}

func ocspHostile() []hostile {
	valid := func(s *site) []byte { return ocspAnswer(s, nil) }
	stranger := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Stranger CA"}))
	const ct = "application/ocsp-response"
	return append(network(valid),
		hostile{name: "answers HTML", ocsp: revocation.ResponseMalformed, detail: `Content-Type "text/html"`,
			handler: body("text/html", fixed([]byte(htmlPage)))},
		hostile{name: "answers nothing", ocsp: revocation.ResponseMalformed,
			handler: body(ct, fixed(nil))},
		hostile{name: "answers truncated DER", ocsp: revocation.ResponseMalformed,
			handler: body(ct, func(s *site) []byte { b := valid(s); return b[:len(b)-20] })},
		hostile{name: "answers DER with trailing data", ocsp: revocation.ResponseMalformed,
			handler: body(ct, func(s *site) []byte { return append(valid(s), 0, 0) })},
		hostile{name: "answers a length bomb", ocsp: revocation.ResponseMalformed,
			handler: body(ct, fixed([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x0a, 0x01, 0x00}))},
		hostile{name: "answers tryLater", ocsp: revocation.ResponseNotSuccessful,
			handler: body(ct, fixed(testpki.Must((&testpki.OCSPResponse{Status: 3}).Marshal())))},
		hostile{name: "answers for another serial", ocsp: revocation.ResponseNoMatch,
			handler: body(ct, func(s *site) []byte {
				return ocspAnswer(s, func(r *testpki.OCSPResponse) { r.Responses[0].Serial = big.NewInt(4242) })
			})},
		hostile{name: "answers revoked for another certificate", ocsp: revocation.ResponseNoMatch,
			handler: body(ct, func(s *site) []byte {
				return ocspAnswer(s, func(r *testpki.OCSPResponse) {
					r.Responses[0].Cert, r.Responses[0].Status, r.Responses[0].RevokedAt = s.sibling.Cert, testpki.StatusRevoked, testpki.Now.Add(-time.Hour)
				})
			})},
		hostile{name: "answers for another issuer", ocsp: revocation.ResponseNoMatch,
			handler: body(ct, func(s *site) []byte {
				return ocspAnswer(s, func(r *testpki.OCSPResponse) { r.Responses[0].Issuer = s.p.root.Cert })
			})},
		hostile{name: "signs with an unrelated key", ocsp: revocation.ResponseUnauthorizedSigner,
			handler: body(ct, func(s *site) []byte {
				return ocspAnswer(s, func(r *testpki.OCSPResponse) { r.Signer = stranger })
			})},
		hostile{name: "signs with the issuer's name and another key", ocsp: revocation.ResponseBadSignature,
			handler: body(ct, func(s *site) []byte {
				forged := testpki.Must(testpki.NewRoot(testpki.CertOptions{Subject: &s.p.inter.Cert.Subject}))
				return ocspAnswer(s, func(r *testpki.OCSPResponse) { r.Signer = forged })
			})},
		hostile{name: "signs with a delegate lacking OCSPSigning", ocsp: revocation.ResponseUnauthorizedSigner,
			handler: body(ct, func(s *site) []byte {
				d := testpki.Must(s.p.inter.IssueOCSPResponder(testpki.CertOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}))
				return ocspAnswer(s, func(r *testpki.OCSPResponse) { r.Signer, r.Certs = d, []*x509.Certificate{d.Cert} })
			})},
		hostile{name: "answers with a stale response", ocsp: revocation.ResponseExpired,
			handler: body(ct, func(s *site) []byte {
				return ocspAnswer(s, func(r *testpki.OCSPResponse) {
					r.Responses[0].ThisUpdate, r.Responses[0].NextUpdate = testpki.Now.AddDate(0, 0, -10), testpki.Now.AddDate(0, 0, -3)
				})
			})},
		hostile{name: "answers from the future", ocsp: revocation.ResponseNotYetValid,
			handler: body(ct, func(s *site) []byte {
				return ocspAnswer(s, func(r *testpki.OCSPResponse) {
					r.Responses[0].ThisUpdate, r.Responses[0].NextUpdate = testpki.Now.AddDate(0, 0, 1), testpki.Now.AddDate(0, 0, 8)
				})
			})},
		hostile{name: "answers with an unknown critical extension", ocsp: revocation.ResponseCriticalExtension,
			handler: body(ct, func(s *site) []byte {
				return ocspAnswer(s, func(r *testpki.OCSPResponse) {
					r.Extensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}
				})
			})},
		hostile{name: "answers with a corrupt signature", ocsp: revocation.ResponseBadSignature,
			handler: body(ct, func(s *site) []byte {
				return ocspAnswer(s, func(r *testpki.OCSPResponse) { r.CorruptSignature = true })
			})},
	)
}

// crlOf builds a CRL for the site's intermediate.
func crlOf(s *site, signer *testpki.Cert, t testpki.CRLTemplate) []byte {
	if signer == nil {
		signer = s.p.inter
	}
	return testpki.Must(signer.BuildCRL(t))
}

func crlHostile() []hostile {
	valid := func(s *site) []byte { return crlOf(s, nil, testpki.CRLTemplate{}) }
	const ct = "application/pkix-crl"
	return append(network(valid),
		hostile{name: "answers HTML", crl: revocation.CRLMalformed,
			handler: body("text/html", fixed([]byte(htmlPage)))},
		hostile{name: "answers nothing", crl: revocation.CRLMalformed,
			handler: body(ct, fixed(nil))},
		hostile{name: "answers truncated DER", crl: revocation.CRLMalformed,
			handler: body(ct, func(s *site) []byte { b := valid(s); return b[:len(b)-20] })},
		// Bytes after a whole CRL are ignored, as crypto/x509 does: real
		// CRLs are published with a stray newline (see package crlscan).
		hostile{name: "answers a PEM block of garbage", crl: revocation.CRLMalformed,
			handler: body(ct, fixed([]byte("-----BEGIN X509 CRL-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END X509 CRL-----\n")))},
		hostile{name: "answers another CA's CRL", crl: revocation.CRLWrongIssuer,
			handler: body(ct, func(s *site) []byte { return crlOf(s, s.p.root, testpki.CRLTemplate{}) })},
		hostile{name: "signs with the issuer's name and another key", crl: revocation.CRLKeyMismatch,
			handler: body(ct, func(s *site) []byte {
				forged := testpki.Must(testpki.NewRoot(testpki.CertOptions{Subject: &s.p.inter.Cert.Subject}))
				return crlOf(s, forged, testpki.CRLTemplate{})
			})},
		hostile{name: "signs with another key, no AKI", crl: revocation.CRLBadSignature,
			handler: body(ct, func(s *site) []byte {
				forged := testpki.Must(testpki.NewRoot(testpki.CertOptions{Subject: &s.p.inter.Cert.Subject}))
				return crlOf(s, forged, testpki.CRLTemplate{NoAKI: true})
			})},
		hostile{name: "answers with a corrupt signature", crl: revocation.CRLBadSignature,
			handler: body(ct, func(s *site) []byte { return crlOf(s, nil, testpki.CRLTemplate{CorruptSignature: true}) })},
		hostile{name: "answers with a stale CRL", crl: revocation.CRLExpired,
			handler: body(ct, func(s *site) []byte {
				return crlOf(s, nil, testpki.CRLTemplate{ThisUpdate: testpki.Now.AddDate(0, 0, -10), NextUpdate: testpki.Now.AddDate(0, 0, -3)})
			})},
		hostile{name: "answers from the future", crl: revocation.CRLNotYetValid,
			handler: body(ct, func(s *site) []byte {
				return crlOf(s, nil, testpki.CRLTemplate{ThisUpdate: testpki.Now.AddDate(0, 0, 1), NextUpdate: testpki.Now.AddDate(0, 0, 8)})
			})},
		hostile{name: "answers with a delta CRL alone", crl: revocation.CRLDeltaOnly,
			handler: body(ct, func(s *site) []byte {
				return crlOf(s, nil, testpki.CRLTemplate{Number: big.NewInt(5), DeltaBase: big.NewInt(4)})
			})},
		hostile{name: "answers with an unknown critical extension", crl: revocation.CRLCriticalExtension,
			handler: body(ct, func(s *site) []byte {
				return crlOf(s, nil, testpki.CRLTemplate{Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}})
			})},
		hostile{name: "answers with another partition's CRL", crl: revocation.CRLScope,
			handler: body(ct, func(s *site) []byte {
				return crlOf(s, nil, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://crl.test/partition-7.crl"}}})
			})},
		hostile{name: "answers with a CA-only CRL", crl: revocation.CRLScope,
			handler: body(ct, func(s *site) []byte {
				return crlOf(s, nil, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlyCA: true}})
			})},
		hostile{name: "answers with an indirect CRL", crl: revocation.CRLIndirect,
			handler: body(ct, func(s *site) []byte {
				return crlOf(s, nil, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{Indirect: true}})
			})},
		hostile{name: "answers with a keyCompromise-only CRL", crl: revocation.CRLPartial,
			handler: body(ct, func(s *site) []byte {
				return crlOf(s, nil, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlySomeReasons: 1 << 1}})
			})},
	)
}

// TestHostileOCSPResponders and TestHostileCRLEndpoints dial a server
// whose leaf names a hostile OCSP responder or CRL distribution point,
// with revocation.New: hard-fail refuses the connection with an
// *UnavailableError reaching the typed cause, SoftFail lets it through
// with the same cause as a warning. Each case ends within its budget,
// downloads no more than the size cap, and leaves no goroutine behind.
func TestHostileOCSPResponders(t *testing.T) {
	leakCheck(t)
	runHostile(t, "ocsp", ocspHostile())
}

func TestHostileCRLEndpoints(t *testing.T) {
	leakCheck(t)
	runHostile(t, "crl", crlHostile())
}

// maxCRL is the CRL size cap of the CRL cases, so that the gigabyte case
// is quick; the OCSP cases use the default cap (64 KiB).
const maxCRL = 1 << 20

func runHostile(t *testing.T, source string, cases []hostile) {
	p := newPKI(t)
	for _, h := range cases {
		t.Run(h.name, func(t *testing.T) {
			leakCheck(t)
			ep := newEndpoint(t)
			s := &site{p: p, sibling: p.leaf(t, testpki.CertOptions{CommonName: "sibling.test"})}
			o := testpki.CertOptions{}
			if source == "ocsp" {
				o.OCSPServers = []string{ep.URL + "/ocsp"}
			} else {
				o.CRLDistributionPoints = []string{ep.URL + "/inter.crl"}
			}
			s.leaf = p.leaf(t, o)
			ep.set(h.handler(s))
			s.addr = serve(t, testpki.ServerOptions{Cert: s.leaf})
			for _, soft := range []bool{false, true} {
				// The cases that wait for the fetch timeout get a short
				// one; the others a long one, so that a slow machine
				// cannot turn them into timeouts.
				ft := 10 * time.Second
				if h.slow {
					ft = fetchTimeout
				}
				opts := []revocation.Option{revocation.LeafOnly(), revocation.WithFetchTimeout(ft), revocation.WithMaxCRLSize(maxCRL)}
				if soft {
					opts = append(opts, revocation.SoftFail())
				}
				if h.sent != nil {
					h.sent.Store(0)
				}
				r := dial(t, s.addr, p.root.Pool(), tlsclient.WithVerifiers(revocation.New(opts...)))
				var cause error
				if soft {
					c := r.warned(t, "revocation", is(tlsclient.ErrRevocationUnavailable))
					cause = c.Err
				} else {
					r.refused(t)
					cause = r.err
				}
				checkCause(t, h, source, ep.URL, cause)
				if h.slow && r.elapsed < fetchTimeout {
					t.Errorf("ended after %v, before the fetch timeout: what ended it?", r.elapsed)
				}
				if h.sent != nil {
					if n := h.sent.Load(); n > 64<<20 {
						t.Errorf("the endpoint sent %d MiB: the download was not cut at the cap", n>>20)
					}
				}
			}
		})
	}
}

// checkCause checks the error behind a refusal or a warning.
func checkCause(t *testing.T, h hostile, source, url string, err error) {
	t.Helper()
	var ue *revocation.UnavailableError
	if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &ue) {
		t.Fatalf("want a *revocation.UnavailableError, got %v", err)
	}
	if errors.Is(err, tlsclient.ErrRevoked) {
		t.Fatalf("a hostile endpoint made a certificate look revoked: %v", err)
	}
	switch source {
	case "crl":
		want := h.crl
		if want == 0 {
			want = revocation.CRLFetchFailed
		}
		var ce *revocation.CRLError
		if !errors.As(err, &ce) || ce.Reason != want {
			t.Fatalf("want a CRLError %q, got %v", want, err)
		}
		if !strings.HasPrefix(ce.URL, url) {
			t.Errorf("CRLError URL %q, want the distribution point", ce.URL)
		}
	case "ocsp":
		if h.ocsp != 0 {
			var re *revocation.ResponseError
			if !errors.As(err, &re) || re.Reason != h.ocsp {
				t.Fatalf("want a ResponseError %q, got %v", h.ocsp, err)
			}
		}
	}
	if h.kind != 0 && (source == "ocsp" || h.crl == 0) {
		var fe *revocation.FetchError
		if !errors.As(err, &fe) || fe.Kind != h.kind {
			t.Fatalf("want a FetchError %q, got %v", h.kind, err)
		}
		if !strings.HasPrefix(fe.URL, url) {
			t.Errorf("FetchError URL %q, want the endpoint", fe.URL)
		}
	}
	if h.detail != "" && !strings.Contains(err.Error(), h.detail) {
		t.Errorf("want %q in %v", h.detail, err)
	}
	if !strings.Contains(err.Error(), url) {
		t.Errorf("the error does not name the endpoint: %v", err)
	}
}

// TestHostileEndpointDeadlines: a responder that hangs longer than the
// dial's own deadline is abandoned when the dial's deadline comes, not
// the (longer) fetch timeout's; and a chain whose every certificate
// points at hanging endpoints is checked in parallel, so the dial waits
// one timeout, not one per certificate.
func TestHostileEndpointDeadlines(t *testing.T) {
	leakCheck(t)
	p := newPKI(t)
	ep := newEndpoint(t)
	ep.set(testpki.HangHandler())

	t.Run("dial deadline first", func(t *testing.T) {
		leakCheck(t)
		leaf := p.leaf(t, testpki.CertOptions{OCSPServers: []string{ep.URL}})
		addr := serve(t, testpki.ServerOptions{Cert: leaf})
		r := dial(t, addr, p.root.Pool(), tlsclient.WithTimeout(300*time.Millisecond),
			tlsclient.WithVerifiers(revocation.New(revocation.WithFetchTimeout(time.Minute))))
		r.refused(t)
		var fe *revocation.FetchError
		if !errors.As(r.err, &fe) || fe.Kind != revocation.FetchTimeout {
			t.Fatalf("want a FetchError timeout, got %v", r.err)
		}
		if r.elapsed > 2*time.Second {
			t.Errorf("took %v: the dial's 300ms deadline was not honoured", r.elapsed)
		}
	})
	t.Run("every certificate hangs", func(t *testing.T) {
		leakCheck(t)
		root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Deep Root"}))
		ca := root
		for i := range 4 {
			ca = testpki.Must(ca.NewIntermediate(testpki.CertOptions{CommonName: fmt.Sprintf("Deep Intermediate %d", i),
				OCSPServers: []string{ep.URL + "/ocsp"}, CRLDistributionPoints: []string{ep.URL + "/crl"}}))
		}
		leaf := testpki.Must(ca.Issue(testpki.CertOptions{OCSPServers: []string{ep.URL + "/ocsp"}, CRLDistributionPoints: []string{ep.URL + "/crl"}}))
		addr := serve(t, testpki.ServerOptions{Cert: leaf})
		r := dial(t, addr, root.Pool(), tlsclient.WithTimeout(30*time.Second),
			tlsclient.WithVerifiers(revocation.New(revocation.WithFetchTimeout(fetchTimeout))))
		r.refused(t)
		if !errors.Is(r.err, tlsclient.ErrRevocationUnavailable) {
			t.Fatalf("want unavailable, got %v", r.err)
		}
		// Five certificates, each a CRL then an OCSP timeout: in
		// parallel, two timeouts; in sequence it would be ten.
		if r.elapsed >= 10*fetchTimeout {
			t.Errorf("took %v for 5 certificates with hanging endpoints (fetch timeout %v): not checked in parallel", r.elapsed, fetchTimeout)
		}
	})
}
