package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/internal/x509util"
	"golang.org/x/crypto/ocsp"
)

func TestOCSPRequestEncoding(t *testing.T) {
	t.Parallel()
	p := oNewPKI(t, oOptions{})
	id, err := newOCSPCertID(p.leaf.Cert, p.inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	der, err := marshalOCSPRequest(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Without a nonce the request is exactly what x/crypto/ocsp (and so
	// most clients) send: byte-identical requests merge and hit HTTP caches.
	want, err := ocsp.CreateRequest(p.leaf.Cert, p.inter.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(der, want) {
		t.Errorf("request\n%x\nwant\n%x", der, want)
	}
	again, _ := marshalOCSPRequest(id, nil)
	if !bytes.Equal(der, again) {
		t.Error("requests without a nonce must be deterministic")
	}
	if oRequestNonce(der) != nil {
		t.Error("nonce in a request without one")
	}

	nonce := []byte("0123456789abcdef")
	withNonce, err := marshalOCSPRequest(id, nonce)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ocsp.ParseRequest(withNonce)
	if err != nil {
		t.Fatalf("x/crypto cannot parse a request with a nonce: %v", err)
	}
	if parsed.SerialNumber.Cmp(p.leaf.Cert.SerialNumber) != 0 || parsed.HashAlgorithm != crypto.SHA1 ||
		!bytes.Equal(parsed.IssuerKeyHash, id.keyHash) || !bytes.Equal(parsed.IssuerNameHash, id.nameHash) {
		t.Errorf("parsed request %+v", parsed)
	}
	if got := oRequestNonce(withNonce); !bytes.Equal(got, nonce) {
		t.Errorf("nonce %x, want %x", got, nonce)
	}

	// The CertID: SHA-1 of the issuer's name and key, and the serial.
	nameHash := sha1.Sum(p.inter.Cert.RawSubject)
	bits, _ := x509util.SubjectPublicKeyBytes(p.inter.Cert)
	keyHash := sha1.Sum(bits)
	wantKey := "ocsp:sha1:" + hex.EncodeToString(nameHash[:]) + ":" + hex.EncodeToString(keyHash[:]) + ":" + p.leaf.Cert.SerialNumber.Text(16)
	if got := id.cacheKey(); got != wantKey {
		t.Errorf("cache key %s, want %s", got, wantKey)
	}
	other, _ := newOCSPCertID(p.inter.Cert, p.root.Cert)
	if other.cacheKey() == id.cacheKey() {
		t.Error("two certificates share a cache key")
	}
}

func TestOCSPGetURL(t *testing.T) {
	t.Parallel()
	// A request whose base64 contains '/' and '+': PathEscape turns '/'
	// into %2F so that the responder sees one path segment.
	der := []byte{0xfb, 0xff, 0xbf, 0x30, 0x03, 0x02, 0x01, 0x01}
	b64 := base64.StdEncoding.EncodeToString(der)
	if !strings.ContainsAny(b64, "/+") {
		t.Fatalf("test input %q should contain / or +", b64)
	}
	got, ok := ocspGetURL("http://ocsp.test", der)
	if !ok || got != "http://ocsp.test/"+strings.ReplaceAll(b64, "/", "%2F") {
		t.Errorf("GET URL %q %v", got, ok)
	}
	if back, err := oDecodeGET(got[strings.LastIndexByte(got, '/')+1:]); err != nil || !bytes.Equal(back, der) {
		t.Errorf("round trip: %x %v", back, err)
	}
	if got, _ := ocspGetURL("http://ocsp.test/path/", der); !strings.HasPrefix(got, "http://ocsp.test/path/") || strings.Contains(got, "path//") {
		t.Errorf("trailing slash: %q", got)
	}
	for _, u := range []string{"http://ocsp.test/?a=b", "http://ocsp.test/?", "http://ocsp.test/#frag"} {
		if _, ok := ocspGetURL(u, der); ok {
			t.Errorf("%s: a path cannot be appended, want POST", u)
		}
	}

	// The size limit is on the escaped request: 255 bytes by GET, more by POST.
	for n := 150; n < 200; n++ {
		der := bytes.Repeat([]byte{0x00}, n) // base64 "AAAA...", no escaping
		enc := len(base64.StdEncoding.EncodeToString(der))
		_, ok := ocspGetURL("http://ocsp.test/", der)
		if ok != (enc <= ocspMaxGET) {
			t.Errorf("%d-byte request (%d encoded): GET=%v", n, enc, ok)
		}
	}
}

// TestOCSPFetch dials servers whose leaf and intermediate name a responder,
// with OCSP() checking every certificate of the chain.
func TestOCSPFetch(t *testing.T) {
	t.Parallel()
	t.Run("good", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		rep, err := p.dial(t, p.serve(t, nil), OCSP())
		if err != nil {
			t.Fatal(err)
		}
		for _, cn := range []string{"oLeaf", "oInter"} {
			c := oCheckFor(t, rep.Checks, "ocsp", cn, "ocsp")
			d := oDetails(t, c)
			if c.Outcome != tlsclient.Pass || c.URL != p.resp.URL || d.Status != "good" || d.Cached ||
				!d.ThisUpdate.Equal(testpki.Now.Add(-time.Hour)) || !d.NextUpdate.Equal(testpki.Now.Add(24*time.Hour)) ||
				c.Elapsed <= 0 || !strings.Contains(c.Detail, "OCSP response from "+p.resp.URL+": good") {
				t.Errorf("%s: %+v", cn, c)
			}
		}
		if hits, gets := p.resp.Hits(); hits != 2 || gets != 2 {
			t.Errorf("responder saw %d requests, %d GETs; want 2 GETs", hits, gets)
		}
		if len(oChecks(rep.Checks, "ocsp")) != 2 {
			t.Errorf("the root is not checked:\n%s", oDump(rep.Checks))
		}
	})
	t.Run("revoked leaf", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		p.setStatus(p.leaf, testpki.StatusRevoked)
		rep, err := p.dial(t, p.serve(t, nil), OCSP())
		var re *RevokedError
		if !errors.Is(err, tlsclient.ErrRevoked) || !errors.As(err, &re) {
			t.Fatalf("want a revocation, got %v", err)
		}
		if re.Serial.Cmp(p.leaf.Cert.SerialNumber) != 0 || !re.RevokedAt.Equal(oRevokedAt) || re.Reason != tlsclient.ReasonKeyCompromise ||
			re.Source != "ocsp" || re.URL != p.resp.URL || re.Subject != "CN=oLeaf" {
			t.Errorf("RevokedError %+v", re)
		}
		c := oCheckFor(t, rep.Checks, "ocsp", "oLeaf", "ocsp")
		if d := oDetails(t, c); c.Outcome != tlsclient.Fail || d.Status != "revoked" || !d.RevokedAt.Equal(oRevokedAt) || d.Reason != "keyCompromise" {
			t.Errorf("check %+v", c)
		}
		if !strings.Contains(err.Error(), "keyCompromise") || !strings.Contains(err.Error(), p.resp.URL) {
			t.Errorf("the error should say why and where: %v", err)
		}
	})
	t.Run("revoked intermediate", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		p.setStatus(p.inter, testpki.StatusRevoked)
		_, err := p.dial(t, p.serve(t, nil), OCSP())
		var re *RevokedError
		if !errors.As(err, &re) || re.Subject != "CN=oInter" || re.Serial.Cmp(p.inter.Cert.SerialNumber) != 0 {
			t.Fatalf("want the intermediate revoked, got %v", err)
		}
		// LeafOnly does not look at the intermediate.
		if _, err := p.dial(t, p.serve(t, nil), OCSP(LeafOnly())); err != nil {
			t.Errorf("LeafOnly: %v", err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		p.setStatus(p.leaf, testpki.StatusUnknown)
		rep, err := p.dial(t, p.serve(t, nil), OCSP())
		var ue *UnavailableError
		if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &ue) || ue.Subject != "CN=oLeaf" {
			t.Fatalf("unknown is not a definitive answer: %v", err)
		}
		c := oCheckFor(t, rep.Checks, "ocsp", "oLeaf", "ocsp")
		if !strings.Contains(c.Detail, "status unknown") || c.Outcome != tlsclient.Skip {
			t.Errorf("check %+v", c)
		}
		rep, err = p.dial(t, p.serve(t, nil), OCSP(SoftFail()))
		if err != nil {
			t.Fatalf("SoftFail: %v", err)
		}
		if w := oCheckFor(t, rep.Checks, "ocsp", "oLeaf", ""); w.Outcome != tlsclient.Warning || !strings.Contains(w.Error, "status unknown") {
			t.Errorf("SoftFail records a warning: %+v", w)
		}
	})
}

// TestOCSPResponseValidation runs the OCSP verifier on hand-built States
// against a responder that sends crafted responses: CertID binding,
// several SingleResponses, responder authorisation, statuses, freshness,
// algorithms. The leaf only is checked.
func TestOCSPResponseValidation(t *testing.T) {
	t.Parallel()
	type mod func(t *testing.T, p *oPKI, r *testpki.OCSPResponse)
	single := func(r *testpki.OCSPResponse) *testpki.Single { return &r.Responses[0] }
	delegate := func(t *testing.T, ca *testpki.Cert, o testpki.CertOptions) *testpki.Cert {
		return testpki.Must(ca.IssueOCSPResponder(o))
	}
	tests := []struct {
		name   string
		opts   oOptions
		vopts  []Option
		mod    mod
		raw    func(p *oPKI) []byte // replaces the response entirely
		status string               // "good", "revoked" or "" when unavailable
		reason ResponseErrorReason  // the ResponseError wanted when unavailable
		detail string               // in the error or the check
	}{
		{name: "good", status: "good"},

		// CertID binding.
		{name: "other serial", reason: ResponseNoMatch, detail: "none of the 1 responses is for serial",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { single(r).Serial = oSerial(12345) }},
		{name: "other issuer name", reason: ResponseNoMatch, detail: "issuerNameHash differs",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { single(r).IssuerNameHash = make([]byte, 20) }},
		{name: "other issuer key", reason: ResponseNoMatch, detail: "issuerKeyHash differs",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { single(r).IssuerKeyHash = make([]byte, 20) }},
		{name: "CertID for the issuer's issuer", reason: ResponseNoMatch,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { single(r).Issuer = p.root.Cert }},
		{name: "CertID hashed with SHA-256", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { single(r).Hash = crypto.SHA256 }},
		{name: "CertID hashed with SHA-384", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { single(r).Hash = crypto.SHA384 }},

		// Several SingleResponses.
		{name: "ours among others", status: "revoked",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				ours := *single(r)
				ours.Status = testpki.StatusRevoked
				r.Responses = []testpki.Single{
					{Cert: p.inter.Cert, Issuer: p.root.Cert, Status: testpki.StatusGood, ThisUpdate: ours.ThisUpdate},
					{Serial: oSerial(7), Issuer: p.inter.Cert, Status: testpki.StatusGood, ThisUpdate: ours.ThisUpdate},
					ours,
				}
			}},
		{name: "agreeing duplicates", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				r.Responses = append(r.Responses, r.Responses[0])
			}},
		{name: "contradictory duplicates", reason: ResponseConflicting, detail: "both good and revoked",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				dup := r.Responses[0]
				dup.Status = testpki.StatusRevoked
				r.Responses = append(r.Responses, dup)
			}},
		{name: "none", reason: ResponseNoMatch, detail: "none of the 0 responses",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { r.Responses = nil }},

		// Responder authorisation (RFC 6960 4.2.2.2).
		{name: "issuer by key", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { r.ByKey = true }},
		{name: "delegate with OCSPSigning", status: "good", detail: "signed by delegated responder",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.inter, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "delegate by key", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.inter, testpki.CertOptions{})
				r.Signer, r.Certs, r.ByKey = d, []*x509.Certificate{d.Cert}, true
			}},
		{name: "delegate without OCSPSigning", reason: ResponseUnauthorizedSigner, detail: "lacks the id-kp-OCSPSigning",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.inter, testpki.CertOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "delegate of another CA", reason: ResponseUnauthorizedSigner, detail: "is not issued by",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				other := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "other CA"}))
				d := delegate(t, other, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "delegate of the root for a leaf", reason: ResponseUnauthorizedSigner,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.root, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "delegate under an issuer's namesake", reason: ResponseUnauthorizedSigner, detail: "does not carry a valid signature",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				other := testpki.Must(testpki.NewRoot(testpki.CertOptions{Subject: &p.inter.Cert.Subject}))
				d := delegate(t, other, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "delegate not included", reason: ResponseUnauthorizedSigner, detail: "names neither the issuer",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				r.Signer = delegate(t, p.inter, testpki.CertOptions{})
			}},
		{name: "expired delegate", reason: ResponseExpired, detail: "expired at",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.inter, testpki.CertOptions{NotBefore: testpki.Now.AddDate(0, -2, 0), NotAfter: testpki.Now.AddDate(0, 0, -1)})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "delegate not yet valid", reason: ResponseNotYetValid, detail: "not valid before",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.inter, testpki.CertOptions{NotBefore: testpki.Now.Add(time.Hour), NotAfter: testpki.Now.AddDate(0, 1, 0)})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "CA including its own certificate", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { r.Certs = []*x509.Certificate{p.inter.Cert} }},
		{name: "CA including its chain", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				r.Certs = []*x509.Certificate{p.root.Cert, p.inter.Cert}
			}},
		{name: "signed by an unrelated key", reason: ResponseUnauthorizedSigner,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				r.Signer = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "unrelated"}))
			}},
		{name: "unrelated key claiming to be the issuer", reason: ResponseBadSignature,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				impostor := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "impostor"}))
				r.Signer = &testpki.Cert{Cert: p.inter.Cert, Key: impostor.Key}
			}},
		{name: "corrupt signature", reason: ResponseBadSignature,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { r.CorruptSignature = true }},
		{name: "signed by the root for a leaf", reason: ResponseUnauthorizedSigner,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { r.Signer = p.root }},

		// Statuses.
		{name: "revoked without reason", status: "revoked",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).Status, single(r).Reason = testpki.StatusRevoked, testpki.NoReason
			}},
		{name: "unknown", detail: "status unknown",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { single(r).Status = testpki.StatusUnknown }},
		{name: "tryLater", reason: ResponseNotSuccessful, detail: "tryLater",
			raw: func(*oPKI) []byte { return testpki.Must((&testpki.OCSPResponse{Status: 3}).Marshal()) }},
		{name: "unauthorized", reason: ResponseNotSuccessful, detail: "unauthorized",
			raw: func(*oPKI) []byte { return testpki.Must((&testpki.OCSPResponse{Status: 6}).Marshal()) }},
		{name: "unknown critical extension", reason: ResponseCriticalExtension,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				r.Extensions = append(r.Extensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}})
			}},
		{name: "unknown non-critical extension", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).Extensions = append(single(r).Extensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{5, 0}})
			}},

		// Freshness.
		{name: "thisUpdate in the future", reason: ResponseNotYetValid, detail: "in the future",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).ThisUpdate = testpki.Now.Add(10 * time.Minute)
			}},
		{name: "thisUpdate in the future within the skew", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).ThisUpdate = testpki.Now.Add(4 * time.Minute)
			}},
		{name: "thisUpdate 1m ahead without skew", vopts: []Option{WithClockSkew(0)}, reason: ResponseNotYetValid,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).ThisUpdate = testpki.Now.Add(time.Minute)
			}},
		{name: "nextUpdate passed", reason: ResponseExpired, detail: "has passed",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).ThisUpdate, single(r).NextUpdate = testpki.Now.Add(-48*time.Hour), testpki.Now.Add(-10*time.Minute)
			}},
		{name: "nextUpdate passed within the skew", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).NextUpdate = testpki.Now.Add(-4 * time.Minute)
			}},
		{name: "nextUpdate passed, larger skew", vopts: []Option{WithClockSkew(time.Hour)}, status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).NextUpdate = testpki.Now.Add(-30 * time.Minute)
			}},
		{name: "no nextUpdate, within the max age", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).ThisUpdate, single(r).NextUpdate = testpki.Now.Add(-23*time.Hour), time.Time{}
			}},
		{name: "no nextUpdate, older than the max age", reason: ResponseTooOld, detail: "older than 24h",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).ThisUpdate, single(r).NextUpdate = testpki.Now.Add(-25*time.Hour), time.Time{}
			}},
		{name: "no nextUpdate, shorter max age", vopts: []Option{WithMaxAge(time.Hour)}, reason: ResponseTooOld,
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				single(r).ThisUpdate, single(r).NextUpdate = testpki.Now.Add(-2*time.Hour), time.Time{}
			}},

		// Algorithms.
		{name: "SHA-1 signature accepted by default", status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA1 }},
		{name: "SHA-1 signature refused", vopts: []Option{RejectSHA1()}, reason: ResponseWeakAlgorithm, detail: "SHA-1 is refused",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA1 }},
		{name: "SHA-256 with RejectSHA1", vopts: []Option{RejectSHA1()}, status: "good"},
		{name: "SHA-1 delegate accepted by default", opts: oOptions{inter: testpki.CertOptions{Key: testpki.RSA2048}}, status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.inter, testpki.CertOptions{SignatureAlgorithm: x509.SHA1WithRSA})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "SHA-1 delegate refused", opts: oOptions{inter: testpki.CertOptions{Key: testpki.RSA2048}}, vopts: []Option{RejectSHA1()},
			reason: ResponseWeakAlgorithm, detail: "signed with SHA-1",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.inter, testpki.CertOptions{SignatureAlgorithm: x509.SHA1WithRSA})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}},
		{name: "RSA issuer", opts: oOptions{inter: testpki.CertOptions{Key: testpki.RSA2048}}, status: "good"},
		{name: "Ed25519 issuer", opts: oOptions{inter: testpki.CertOptions{Key: testpki.Ed25519}}, status: "good"},
		{name: "P-384 issuer", opts: oOptions{inter: testpki.CertOptions{Key: testpki.ECDSAP384}}, status: "good",
			mod: func(t *testing.T, p *oPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA384 }},

		// Not a response at all.
		{name: "empty", reason: ResponseMalformed, raw: func(*oPKI) []byte { return []byte{} }},
		{name: "truncated", reason: ResponseMalformed,
			raw: func(p *oPKI) []byte { der := testpki.Must(p.inter.OCSPGood(p.leaf)); return der[:len(der)/2] }},
		{name: "trailing data", reason: ResponseMalformed,
			raw: func(p *oPKI) []byte { return append(testpki.Must(p.inter.OCSPGood(p.leaf)), 0) }},
		{name: "a certificate", reason: ResponseMalformed, raw: func(p *oPKI) []byte { return p.leaf.Cert.Raw }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := oNewPKI(t, tt.opts)
			p.setBuild(func(r *testpki.OCSPResponse, _ *ocsp.Request) []byte {
				if tt.raw != nil {
					return tt.raw(p)
				}
				if tt.mod != nil {
					tt.mod(t, p, r)
				}
				der, err := r.Marshal()
				if err != nil {
					t.Errorf("building the response: %v", err)
				}
				return der
			})
			st := p.state(nil)
			err := OCSP(append(tt.vopts, LeafOnly())...).Verify(context.Background(), st)
			c := oCheckFor(t, st.Checks(), "", "oLeaf", "ocsp")
			text := c.Detail + " " + c.Error
			if tt.detail != "" && !strings.Contains(text, tt.detail) {
				t.Errorf("want %q in %q", tt.detail, text)
			}
			switch tt.status {
			case "good":
				if err != nil || c.Outcome != tlsclient.Pass {
					t.Fatalf("want good, got %v\n%s", err, oDump(st.Checks()))
				}
			case "revoked":
				var re *RevokedError
				if !errors.As(err, &re) || re.Source != "ocsp" || re.URL != p.resp.URL {
					t.Fatalf("want revoked, got %v", err)
				}
				if tt.name == "revoked without reason" && re.Reason != tlsclient.ReasonAbsent {
					t.Errorf("reason %v, want absent", re.Reason)
				}
			default:
				var ue *UnavailableError
				if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &ue) {
					t.Fatalf("want unavailable, got %v\n%s", err, oDump(st.Checks()))
				}
				if tt.reason != 0 {
					var rerr *ResponseError
					if !errors.As(err, &rerr) || rerr.Reason != tt.reason {
						t.Fatalf("want a ResponseError %v, got %v", tt.reason, err)
					}
				}
				if !strings.Contains(err.Error(), p.resp.URL) {
					t.Errorf("the error should name the responder: %v", err)
				}
				if c.Outcome != tlsclient.Skip {
					t.Errorf("the source's check: %+v", c)
				}
			}
		})
	}
}

func TestOCSPGetPostNonce(t *testing.T) {
	t.Parallel()
	t.Run("GET by default", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		if err := OCSP(LeafOnly()).Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatal(err)
		}
		if hits, gets := p.resp.Hits(); hits != 1 || gets != 1 {
			t.Errorf("%d requests, %d GETs", hits, gets)
		}
		if req := p.resp.LastRequest(); req == nil || req.SerialNumber.Cmp(p.leaf.Cert.SerialNumber) != 0 {
			t.Errorf("last request %+v", req)
		}
		if len(p.seenNonces()) != 0 {
			t.Error("a nonce was sent without WithNonce")
		}
	})
	t.Run("POST with a nonce", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		v := OCSP(LeafOnly(), WithNonce())
		for range 2 {
			if err := v.Verify(context.Background(), p.state(nil)); err != nil {
				t.Fatal(err)
			}
		}
		hits, gets := p.resp.Hits()
		if hits != 2 || gets != 0 {
			t.Errorf("%d requests, %d GETs: want 2 POSTs (nonce responses are not cached)", hits, gets)
		}
		n := p.seenNonces()
		if len(n) != 2 || len(n[0]) != ocspNonceSize || bytes.Equal(n[0], n[1]) {
			t.Errorf("nonces %x: want two distinct %d-byte nonces", n, ocspNonceSize)
		}
	})
	nonceCase := func(name string, edit func(r *testpki.OCSPResponse), detail string) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := oNewPKI(t, oOptions{})
			p.setBuild(func(r *testpki.OCSPResponse, _ *ocsp.Request) []byte {
				edit(r)
				return testpki.Must(r.Marshal())
			})
			err := OCSP(LeafOnly(), WithNonce()).Verify(context.Background(), p.state(nil))
			var rerr *ResponseError
			if !errors.As(err, &rerr) || rerr.Reason != ResponseNonceMismatch || !strings.Contains(err.Error(), detail) {
				t.Fatalf("want a nonce mismatch, got %v", err)
			}
			// Without WithNonce the same responder is fine.
			if err := OCSP(LeafOnly()).Verify(context.Background(), p.state(nil)); err != nil {
				t.Errorf("without a nonce: %v", err)
			}
		})
	}
	nonceCase("nonce not echoed", func(r *testpki.OCSPResponse) { r.Extensions = nil }, "carries none")
	nonceCase("other nonce", func(r *testpki.OCSPResponse) {
		r.Extensions = []pkix.Extension{oNonceExtension([]byte("replayed replayed"))}
	}, "different nonce")
	t.Run("raw nonce echoed", func(t *testing.T) {
		t.Parallel()
		// Some responders echo the nonce bytes without the inner OCTET
		// STRING (pre-RFC 8954 encoding): accepted.
		p := oNewPKI(t, oOptions{})
		p.setBuild(func(r *testpki.OCSPResponse, _ *ocsp.Request) []byte {
			n := p.seenNonces()
			r.Extensions = []pkix.Extension{{Id: oidOCSPNonce, Value: n[len(n)-1]}}
			return testpki.Must(r.Marshal())
		})
		if err := OCSP(LeafOnly(), WithNonce()).Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("responder URL with a query", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{"$/?tenant=a"}})
		if err := OCSP(LeafOnly()).Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatal(err)
		}
		if hits, gets := p.resp.Hits(); hits != 1 || gets != 0 {
			t.Errorf("%d requests, %d GETs: want one POST", hits, gets)
		}
	})
}

func TestOCSPResponderURLs(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // its port now refuses connections
	t.Run("first down, second answers", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{closed.URL, "$"}})
		st := p.state(nil)
		if err := OCSP(LeafOnly()).Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		c := oCheckFor(t, st.Checks(), "", "oLeaf", "ocsp")
		if c.URL != p.resp.URL || c.Outcome != tlsclient.Pass {
			t.Errorf("check %+v", c)
		}
	})
	t.Run("first unknown, second answers", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{"$/first", "$/second"}})
		p.setBuild(func(r *testpki.OCSPResponse, _ *ocsp.Request) []byte {
			if hits, _ := p.resp.Hits(); hits == 1 {
				r.Responses[0].Status = testpki.StatusUnknown
			}
			return testpki.Must(r.Marshal())
		})
		st := p.state(nil)
		if err := OCSP(LeafOnly()).Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		if c := oCheckFor(t, st.Checks(), "", "oLeaf", "ocsp"); c.URL != p.resp.URL+"/second" {
			t.Errorf("check %+v", c)
		}
	})
	t.Run("all down", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{closed.URL, "$/broken"}})
		p.setBuild(func(*testpki.OCSPResponse, *ocsp.Request) []byte { return []byte("<html>") })
		st := p.state(nil)
		err := OCSP(LeafOnly()).Verify(context.Background(), st)
		var fe *FetchError
		var rerr *ResponseError
		if !errors.As(err, &fe) || fe.Kind != FetchNetwork || fe.URL != closed.URL || !errors.As(err, &rerr) || rerr.Reason != ResponseMalformed {
			t.Fatalf("want both failures reachable, got %v", err)
		}
		if c := oCheckFor(t, st.Checks(), "", "oLeaf", "ocsp"); !strings.Contains(c.Detail, "2 responders failed") {
			t.Errorf("check %+v", c)
		}
	})
	t.Run("unsupported schemes", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{"ldap://ldap.test/cn=ocsp", "file:///etc/passwd"}})
		st := p.state(nil)
		if err := OCSP(LeafOnly()).Verify(context.Background(), st); err != nil {
			t.Fatalf("no usable responder is not applicable: %v", err)
		}
		c := oCheckFor(t, st.Checks(), "", "oLeaf", "ocsp")
		var fe *FetchError
		if c.Outcome != tlsclient.Skip || !strings.Contains(c.Detail, "only http and https") || !errors.As(c.Err, &fe) || fe.Kind != FetchBadURL ||
			!strings.Contains(c.Error, `"ldap"`) || !strings.Contains(c.Error, `"file"`) {
			t.Errorf("check %+v", c)
		}
		err := OCSP(LeafOnly(), RequireStatus()).Verify(context.Background(), p.state(nil))
		if !errors.Is(err, tlsclient.ErrRevocationUnavailable) {
			t.Errorf("RequireStatus: %v", err)
		}
		if hits, _ := p.resp.Hits(); hits != 0 {
			t.Error("the responder was asked")
		}
	})
	t.Run("unsupported then http", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{"ldap://ldap.test/", "$"}})
		if err := OCSP(LeafOnly()).Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no responder", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{}})
		st := p.state(nil)
		if err := OCSP().Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		for _, cn := range []string{"oLeaf", "oInter"} {
			// One check per certificate says why nothing applied.
			if c := oCheckFor(t, st.Checks(), "", cn, "ocsp"); c.Outcome != tlsclient.Skip || c.Detail != "not applicable: no OCSP responder in the certificate" {
				t.Errorf("%s: %+v", cn, c)
			}
		}
		err := OCSP(RequireStatus()).Verify(context.Background(), p.state(nil))
		var ue *UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "RequireStatus") {
			t.Errorf("RequireStatus: %v", err)
		}
	})
}

// TestOCSPFetchLimits: size cap, redirects, and the caller's HTTP client.
func TestOCSPFetchLimits(t *testing.T) {
	t.Parallel()
	fetchErr := func(t *testing.T, err error, kind FetchErrorKind) *FetchError {
		t.Helper()
		var fe *FetchError
		if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &fe) || fe.Kind != kind {
			t.Fatalf("want a %v FetchError, got %v", kind, err)
		}
		return fe
	}
	t.Run("size cap", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		err := OCSP(LeafOnly(), WithMaxOCSPResponseSize(64)).Verify(context.Background(), p.state(nil))
		if fe := fetchErr(t, err, FetchTooLarge); fe.URL != p.resp.URL {
			t.Errorf("the error names %s, want the responder", fe.URL)
		}
		if err := OCSP(LeafOnly(), WithMaxOCSPResponseSize(4096)).Verify(context.Background(), p.state(nil)); err != nil {
			t.Errorf("under the cap: %v", err)
		}
	})
	t.Run("redirects", func(t *testing.T) {
		t.Parallel()
		var target atomic.Pointer[string]
		hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, *target.Load()+r.URL.EscapedPath(), http.StatusFound)
		}))
		t.Cleanup(hop.Close)
		p := oNewPKI(t, oOptions{urls: []string{hop.URL}})
		target.Store(&p.resp.URL)
		// One hop to the real responder is followed...
		if err := OCSP(LeafOnly()).Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatalf("one redirect: %v", err)
		}
		if hits, gets := p.resp.Hits(); hits != 1 || gets != 1 {
			t.Errorf("%d requests, %d GETs", hits, gets)
		}
		// ... unless no redirect is allowed.
		fe := fetchErr(t, OCSP(LeafOnly(), WithMaxRedirects(0)).Verify(context.Background(), p.state(nil)), FetchRedirects)
		if fe.URL != hop.URL {
			t.Errorf("the error names %s", fe.URL)
		}
	})
	t.Run("redirect loop", func(t *testing.T) {
		t.Parallel()
		loop := httptest.NewServer(testpki.RedirectLoopHandler())
		t.Cleanup(loop.Close)
		p := oNewPKI(t, oOptions{urls: []string{loop.URL}})
		fe := fetchErr(t, OCSP(LeafOnly()).Verify(context.Background(), p.state(nil)), FetchRedirects)
		if !strings.Contains(fe.Error(), "stopped after 3 redirects") {
			t.Errorf("error %v", fe)
		}
	})
	t.Run("redirect to file", func(t *testing.T) {
		t.Parallel()
		bad := httptest.NewServer(testpki.RedirectHandler("file:///etc/passwd"))
		t.Cleanup(bad.Close)
		p := oNewPKI(t, oOptions{urls: []string{bad.URL}})
		fe := fetchErr(t, OCSP(LeafOnly()).Verify(context.Background(), p.state(nil)), FetchRedirects)
		if !strings.Contains(fe.Error(), `"file"`) {
			t.Errorf("error %v", fe)
		}
	})
	t.Run("caller's HTTP client", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		var used atomic.Int64
		var checked atomic.Int64
		base := &http.Transport{}
		t.Cleanup(base.CloseIdleConnections)
		client := &http.Client{
			Transport: oRoundTripper(func(r *http.Request) (*http.Response, error) {
				used.Add(1)
				return base.RoundTrip(r)
			}),
			CheckRedirect: func(*http.Request, []*http.Request) error { checked.Add(1); return nil },
		}
		v := OCSP(WithHTTPClient(client))
		if _, err := p.dial(t, p.serve(t, nil), v); err != nil {
			t.Fatal(err)
		}
		if used.Load() != 2 {
			t.Errorf("the caller's transport made %d requests, want 2", used.Load())
		}
		if client.Timeout != 0 || checked.Load() != 0 {
			t.Error("the caller's client was modified or misused")
		}
	})
	t.Run("HTTP status", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}))
		t.Cleanup(srv.Close)
		p := oNewPKI(t, oOptions{urls: []string{srv.URL}})
		if fe := fetchErr(t, OCSP(LeafOnly()).Verify(context.Background(), p.state(nil)), FetchStatus); fe.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %d", fe.StatusCode)
		}
	})
}

// oCountingCache wraps a MemoryCache and records what is stored.
type oCountingCache struct {
	*MemoryCache
	mu   sync.Mutex
	puts map[string]time.Duration
	gets atomic.Int64
}

func oNewCountingCache() *oCountingCache {
	return &oCountingCache{MemoryCache: NewMemoryCache(0), puts: map[string]time.Duration{}}
}

func (c *oCountingCache) Get(ctx context.Context, key string) ([]byte, bool) {
	c.gets.Add(1)
	return c.MemoryCache.Get(ctx, key)
}

func (c *oCountingCache) Put(ctx context.Context, key string, v []byte, ttl time.Duration) {
	c.mu.Lock()
	c.puts[key] = ttl
	c.mu.Unlock()
	c.MemoryCache.Put(ctx, key, v, ttl)
}

func (c *oCountingCache) stored() map[string]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]time.Duration{}
	for k, v := range c.puts {
		out[k] = v
	}
	return out
}

// ocspSourceOf returns the OCSP source of a verifier built by OCSP or New.
func ocspSourceOf(t testing.TB, v tlsclient.Verifier) *ocspSource {
	t.Helper()
	for _, s := range v.(*checker).sources {
		if o, ok := s.(*ocspSource); ok {
			return o
		}
	}
	t.Fatal("no OCSP source")
	return nil
}

func TestOCSPCache(t *testing.T) {
	t.Parallel()
	t.Run("warm hit", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		cache := oNewCountingCache()
		v := OCSP(WithCache(cache))
		src := ocspSourceOf(t, v)
		if err := v.Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatal(err)
		}
		if n := src.signatureChecks.Load(); n != 2 {
			t.Errorf("%d signature checks for two cold responses", n)
		}
		st := p.state(nil)
		if err := v.Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		if hits, _ := p.resp.Hits(); hits != 2 {
			t.Errorf("the responder was asked %d times, want 2 (one per certificate)", hits)
		}
		if n := src.signatureChecks.Load(); n != 2 {
			t.Errorf("a warm hit re-verified the signature (%d checks)", n)
		}
		for _, cn := range []string{"oLeaf", "oInter"} {
			c := oCheckFor(t, st.Checks(), "", cn, "ocsp")
			if d := oDetails(t, c); !d.Cached || c.Outcome != tlsclient.Pass || !strings.HasPrefix(c.Detail, "cached OCSP response: good") {
				t.Errorf("%s: %+v", cn, c)
			}
		}
		// Keyed by the full CertID, kept until nextUpdate (24h away) but
		// no longer than the max age (24h): here both are 24h.
		id, _ := newOCSPCertID(p.leaf.Cert, p.inter.Cert)
		if ttl, ok := cache.stored()[id.cacheKey()]; !ok || ttl != 24*time.Hour {
			t.Errorf("stored %v", cache.stored())
		}
	})
	t.Run("ttl", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name      string
			this      time.Time
			next      time.Time
			maxAge    time.Duration
			wantTTL   time.Duration
			wantCache bool
		}{
			{"nextUpdate soon", testpki.Now.Add(-time.Hour), testpki.Now.Add(time.Hour), 0, time.Hour, true},
			{"nextUpdate after the max age", testpki.Now.Add(-time.Hour), testpki.Now.Add(7 * 24 * time.Hour), 0, 24 * time.Hour, true},
			{"shorter max age", testpki.Now.Add(-time.Hour), testpki.Now.Add(7 * 24 * time.Hour), 2 * time.Hour, 2 * time.Hour, true},
			{"no nextUpdate", testpki.Now.Add(-time.Hour), time.Time{}, 0, 23 * time.Hour, true},
			{"expiring within the skew", testpki.Now.Add(-time.Hour), testpki.Now.Add(-time.Minute), 0, 0, false},
		}
		for _, tt := range tests {
			p := oNewPKI(t, oOptions{})
			p.setBuild(func(r *testpki.OCSPResponse, _ *ocsp.Request) []byte {
				r.Responses[0].ThisUpdate, r.Responses[0].NextUpdate = tt.this, tt.next
				return testpki.Must(r.Marshal())
			})
			cache := oNewCountingCache()
			opts := []Option{WithCache(cache), LeafOnly()}
			if tt.maxAge > 0 {
				opts = append(opts, WithMaxAge(tt.maxAge))
			}
			if err := OCSP(opts...).Verify(context.Background(), p.state(nil)); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			id, _ := newOCSPCertID(p.leaf.Cert, p.inter.Cert)
			ttl, ok := cache.stored()[id.cacheKey()]
			if ok != tt.wantCache || ttl != tt.wantTTL {
				t.Errorf("%s: stored %v for %v, want %v", tt.name, ok, ttl, tt.wantTTL)
			}
		}
	})
	t.Run("stale entry refetched", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		v := OCSP(LeafOnly())
		if err := v.Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatal(err)
		}
		// A day and an hour later (the cache's TTL runs on the real clock,
		// our judgement on the State's) the cached response is stale.
		p.setBuild(func(r *testpki.OCSPResponse, _ *ocsp.Request) []byte {
			r.Responses[0].ThisUpdate = testpki.Now.Add(24 * time.Hour)
			r.Responses[0].NextUpdate = testpki.Now.Add(48 * time.Hour)
			return testpki.Must(r.Marshal())
		})
		st := p.state(nil)
		st.Now = testpki.Now.Add(25 * time.Hour)
		if err := v.Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		if hits, _ := p.resp.Hits(); hits != 2 {
			t.Errorf("%d requests, want a refetch", hits)
		}
		if d := oDetails(t, oCheckFor(t, st.Checks(), "", "oLeaf", "ocsp")); d.Cached || !d.ThisUpdate.Equal(testpki.Now.Add(24*time.Hour)) {
			t.Errorf("details %+v", d)
		}
	})
	t.Run("unknown is not cached", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		p.setStatus(p.leaf, testpki.StatusUnknown)
		cache := oNewCountingCache()
		v := OCSP(LeafOnly(), WithCache(cache), SoftFail())
		for range 2 {
			if err := v.Verify(context.Background(), p.state(nil)); err != nil {
				t.Fatal(err)
			}
		}
		if hits, _ := p.resp.Hits(); hits != 2 || len(cache.stored()) != 0 {
			t.Errorf("%d requests, %d stored", hits, len(cache.stored()))
		}
	})
	t.Run("revoked from the cache", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		p.setStatus(p.leaf, testpki.StatusRevoked)
		v := OCSP(LeafOnly())
		for i := range 2 {
			err := v.Verify(context.Background(), p.state(nil))
			var re *RevokedError
			if !errors.As(err, &re) || re.Source != "ocsp" || !re.RevokedAt.Equal(oRevokedAt) {
				t.Fatalf("dial %d: %v", i, err)
			}
		}
		if hits, _ := p.resp.Hits(); hits != 1 {
			t.Errorf("%d requests", hits)
		}
	})
	t.Run("shared between verifiers", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		cache := NewMemoryCache(0)
		if err := OCSP(WithCache(cache)).Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatal(err)
		}
		if err := New(WithCache(cache)).Verify(context.Background(), p.state(nil)); err != nil {
			t.Fatal(err)
		}
		if hits, _ := p.resp.Hits(); hits != 2 {
			t.Errorf("%d requests, want 2 (the second verifier uses the cache)", hits)
		}
	})
	t.Run("poisoned cache", func(t *testing.T) {
		t.Parallel()
		// A Cache is trusted for availability only: what it returns is
		// validated again. A response for another certificate, garbage or
		// a revoked status for the wrong serial are ignored.
		p := oNewPKI(t, oOptions{})
		other := testpki.Must(p.inter.Issue(testpki.CertOptions{}))
		cache := NewMemoryCache(0)
		id, _ := newOCSPCertID(p.leaf.Cert, p.inter.Cert)
		for _, bad := range [][]byte{[]byte("garbage"), testpki.Must(p.inter.OCSPRevoked(other, oRevokedAt, 1))} {
			cache.Put(context.Background(), id.cacheKey(), bad, time.Hour)
			if err := OCSP(LeafOnly(), WithCache(cache)).Verify(context.Background(), p.state(nil)); err != nil {
				t.Fatal(err)
			}
		}
		if hits, _ := p.resp.Hits(); hits != 2 {
			t.Errorf("%d requests", hits)
		}
	})
}

// TestOCSPConcurrentDials: 64 dials through one Dialer that all need the
// same response make one request.
func TestOCSPConcurrentDials(t *testing.T) {
	t.Parallel()
	p := oNewPKI(t, oOptions{})
	p.resp.SetDelay(20 * time.Millisecond) // keep the first request in flight while the others arrive
	srv := p.serve(t, nil)
	d, err := tlsclient.New(tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(OCSP(LeafOnly())), tlsclient.WithSessionCache(nil))
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c, err := d.Dial("tcp", srv.Addr)
			if err != nil {
				errs[i] = err
				return
			}
			c.Close()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
	}
	if hits, _ := p.resp.Hits(); hits != 1 {
		t.Errorf("64 concurrent dials made %d requests, want 1", hits)
	}

	// The same without the handshakes: 64 concurrent checks of a chain,
	// all cold, make one request per certificate.
	p2 := oNewPKI(t, oOptions{})
	p2.resp.SetDelay(20 * time.Millisecond)
	v := OCSP()
	var wg2 sync.WaitGroup
	for range n {
		wg2.Go(func() {
			if err := v.Verify(context.Background(), p2.state(nil)); err != nil {
				t.Error(err)
			}
		})
	}
	wg2.Wait()
	if hits, _ := p2.resp.Hits(); hits != 2 {
		t.Errorf("64 concurrent checks made %d requests, want 2", hits)
	}
	if n := ocspSourceOf(t, v).signatureChecks.Load(); n != 2 {
		t.Errorf("%d signature checks, want 2", n)
	}
}

// oLongChain is a leaf under two intermediates, each naming the responder.
func oLongChain(t testing.TB, url string) []*testpki.Cert {
	t.Helper()
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "oRoot"}))
	i1 := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "oInter1", OCSPServers: []string{url}}))
	i2 := testpki.Must(i1.NewIntermediate(testpki.CertOptions{CommonName: "oInter2", OCSPServers: []string{url}}))
	leaf := testpki.Must(i2.Issue(testpki.CertOptions{CommonName: "oLeaf", OCSPServers: []string{url}}))
	return []*testpki.Cert{leaf, i2, i1, root}
}

// oGoodFor answers good for any certificate of certs, signed by its issuer.
func oGoodFor(certs []*testpki.Cert) func(*ocsp.Request, []byte) []byte {
	return func(req *ocsp.Request, _ []byte) []byte {
		for _, c := range certs {
			if c.Issuer != nil && c.Cert.SerialNumber.Cmp(req.SerialNumber) == 0 {
				return testpki.Must((&testpki.OCSPResponse{Signer: c.Issuer, Responses: []testpki.Single{{
					Cert: c.Cert, Issuer: c.Issuer.Cert, Status: testpki.StatusGood,
					ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(24 * time.Hour)}}}).Marshal())
			}
		}
		return nil
	}
}

func oCertsOf(cs []*testpki.Cert) []*x509.Certificate {
	out := make([]*x509.Certificate, len(cs))
	for i, c := range cs {
		out[i] = c.Cert
	}
	return out
}

// TestOCSPChainInParallel: the certificates of a cold chain are checked at
// the same time, so that it costs one round trip to the slowest responder,
// not the sum. The responder holds every request until all three are in
// flight: checked one after the other, they would wait in vain. (The time
// it saves is measured by BenchmarkColdChain, and exactly, with a virtual
// clock, by TestEngineOfflineFirst.)
func TestOCSPChainInParallel(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		inFlight int
		maxSeen  int
		all      = make(chan struct{})
	)
	var answer atomic.Pointer[func(*ocsp.Request, []byte) []byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		if inFlight == 3 {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
		}
		oResponderHandler(*answer.Load())(w, r)
	}))
	t.Cleanup(srv.Close)
	certs := oLongChain(t, srv.URL)
	good := oGoodFor(certs)
	answer.Store(&good)
	if err := OCSP().Verify(context.Background(), oState(oCertsOf(certs), nil)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if maxSeen != 3 {
		t.Errorf("at most %d requests were in flight together, want 3", maxSeen)
	}
}

func TestOCSPPolicies(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	t.Run("hard-fail by default", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{closed.URL}})
		rep, err := p.dial(t, p.serve(t, nil), OCSP())
		var ue *UnavailableError
		var fe *FetchError
		if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &ue) || !errors.As(err, &fe) || fe.Kind != FetchNetwork {
			t.Fatalf("want unavailable with a FetchError, got %v", err)
		}
		if !strings.Contains(err.Error(), "SoftFail() continues") || !strings.Contains(err.Error(), closed.URL) {
			t.Errorf("the error should say what failed and what to do: %v", err)
		}
		if c := oCheckFor(t, rep.Checks, "ocsp", "oLeaf", ""); c.Outcome != tlsclient.Fail {
			t.Errorf("decision %+v", c)
		}
	})
	t.Run("hard-fail on an invalid response", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		p.setBuild(func(*testpki.OCSPResponse, *ocsp.Request) []byte { return []byte("not DER") })
		_, err := p.dial(t, p.serve(t, nil), OCSP())
		var rerr *ResponseError
		if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &rerr) || rerr.Reason != ResponseMalformed {
			t.Fatalf("want unavailable with a ResponseError, got %v", err)
		}
	})
	t.Run("soft-fail", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{urls: []string{closed.URL}})
		rep, err := p.dial(t, p.serve(t, nil), OCSP(SoftFail()))
		if err != nil {
			t.Fatal(err)
		}
		for _, cn := range []string{"oLeaf", "oInter"} {
			c := oCheckFor(t, rep.Checks, "ocsp", cn, "")
			var fe *FetchError
			if c.Outcome != tlsclient.Warning || !errors.Is(c.Err, tlsclient.ErrRevocationUnavailable) || !errors.As(c.Err, &fe) {
				t.Errorf("%s: %+v", cn, c)
			}
		}
		// A definitive revoked still aborts under SoftFail.
		p2 := oNewPKI(t, oOptions{})
		p2.setStatus(p2.leaf, testpki.StatusRevoked)
		if _, err := p2.dial(t, p2.serve(t, nil), OCSP(SoftFail())); !errors.Is(err, tlsclient.ErrRevoked) {
			t.Errorf("revoked under SoftFail: %v", err)
		}
	})
	t.Run("LeafOnly", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		rep, err := p.dial(t, p.serve(t, nil), OCSP(LeafOnly()))
		if err != nil {
			t.Fatal(err)
		}
		if hits, _ := p.resp.Hits(); hits != 1 || len(oChecks(rep.Checks, "ocsp")) != 1 {
			t.Errorf("%d requests; checks:\n%s", hits, oDump(rep.Checks))
		}
	})
	t.Run("ExemptShortLived", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{leaf: testpki.CertOptions{NotBefore: testpki.Now.Add(-time.Hour), NotAfter: testpki.Now.Add(5 * 24 * time.Hour)}})
		p.setStatus(p.leaf, testpki.StatusRevoked) // not asked
		rep, err := p.dial(t, p.serve(t, nil), OCSP(ExemptShortLived(0)))
		if err != nil {
			t.Fatal(err)
		}
		if c := oCheckFor(t, rep.Checks, "ocsp", "oLeaf", ""); c.Outcome != tlsclient.Skip || !strings.Contains(c.Detail, "short-lived") {
			t.Errorf("leaf %+v", c)
		}
		if hits, _ := p.resp.Hits(); hits != 1 {
			t.Errorf("%d requests, want 1 (the intermediate is still checked)", hits)
		}
		if _, err := p.dial(t, p.serve(t, nil), OCSP()); !errors.Is(err, tlsclient.ErrRevoked) {
			t.Errorf("without the exemption: %v", err)
		}
	})
	t.Run("dial deadline", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		p.resp.SetDelay(10 * time.Second)
		start := time.Now()
		_, err := p.dial(t, p.serve(t, nil), OCSP(), tlsclient.WithTimeout(300*time.Millisecond))
		if err == nil || time.Since(start) > 3*time.Second {
			t.Fatalf("the dial's timeout bounds the fetch: %v after %v", err, time.Since(start))
		}
	})
}

// TestOCSPCheckRecordsEverything: one check per certificate and source, and
// the decision, with the report fields filled in.
func TestOCSPCheckRecordsEverything(t *testing.T) {
	t.Parallel()
	p := oNewPKI(t, oOptions{})
	rep, err := p.dial(t, p.serve(t, nil), OCSP())
	if err != nil {
		t.Fatal(err)
	}
	checks := oChecks(rep.Checks, "ocsp")
	if len(checks) != 2 {
		t.Fatalf("checks:\n%s", oDump(rep.Checks))
	}
	for _, c := range checks {
		if c.Source != "ocsp" || c.URL == "" || c.Elapsed <= 0 || c.Data == nil {
			t.Errorf("check %+v", c)
		}
	}
	js := fmt.Sprintf("%+v", rep.Checks)
	if !strings.Contains(js, "ocsp") {
		t.Error(js)
	}
}
