package revocation

// Test helpers of the OCSP and staple tests. Every identifier starts with
// "o" or "ocsp", so that they cannot clash with the CRL tests' helpers.

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"
)

// oPKI is a root, an intermediate and a leaf for 127.0.0.1 whose AIA
// extensions name one OCSP responder on httptest. The responder answers
// for the leaf (signed by the intermediate) and the intermediate (signed by
// the root), "good" unless told otherwise, echoing a nonce when the request
// carries one.
type oPKI struct {
	root, inter, leaf *testpki.Cert
	resp              *testpki.OCSPResponder

	mu     sync.Mutex // guards status, build and nonces
	status map[string]int
	// build, when set, replaces the response the responder sends: it gets
	// the default response (to adjust) and the request's nonce.
	build  func(r *testpki.OCSPResponse, req *ocsp.Request) []byte
	nonces [][]byte
}

type oOptions struct {
	leaf  testpki.CertOptions
	inter testpki.CertOptions
	// urls replaces the AIA OCSP URLs of the leaf and the intermediate
	// (the responder's URL by default). "$" stands for the responder's URL.
	urls []string
}

func oNewPKI(t testing.TB, o oOptions) *oPKI {
	t.Helper()
	p := &oPKI{status: map[string]int{}}
	p.resp = testpki.NewOCSPResponder(p.answer)
	t.Cleanup(p.resp.Close)
	urls := []string{p.resp.URL}
	if o.urls != nil {
		urls = nil
		for _, u := range o.urls {
			urls = append(urls, strings.ReplaceAll(u, "$", p.resp.URL))
		}
	}
	p.root = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "oRoot"}))
	if o.inter.CommonName == "" {
		o.inter.CommonName = "oInter"
	}
	if o.inter.OCSPServers == nil {
		o.inter.OCSPServers = urls
	}
	p.inter = testpki.Must(p.root.NewIntermediate(o.inter))
	if o.leaf.CommonName == "" {
		o.leaf.CommonName = "oLeaf"
	}
	if o.leaf.OCSPServers == nil {
		o.leaf.OCSPServers = urls
	}
	p.leaf = testpki.Must(p.inter.Issue(o.leaf))
	return p
}

// setStatus sets what the responder says about c.
func (p *oPKI) setStatus(c *testpki.Cert, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status[c.Cert.SerialNumber.String()] = status
}

// setBuild replaces the responses (see oPKI.build).
func (p *oPKI) setBuild(f func(r *testpki.OCSPResponse, req *ocsp.Request) []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.build = f
}

// seenNonces returns the nonces of the requests received.
func (p *oPKI) seenNonces() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.nonces...)
}

// oRevokedAt is when the responders say revoked certificates were revoked.
var oRevokedAt = testpki.Now.Add(-48 * time.Hour).Truncate(time.Second)

// response is the default response the responder gives for req.
func (p *oPKI) response(req *ocsp.Request) *testpki.OCSPResponse {
	var cert *testpki.Cert
	for _, c := range []*testpki.Cert{p.leaf, p.inter} {
		if c.Cert.SerialNumber.Cmp(req.SerialNumber) == 0 {
			cert = c
		}
	}
	if cert == nil { // a serial the CA never issued
		return &testpki.OCSPResponse{Signer: p.inter, Responses: []testpki.Single{{
			Serial: req.SerialNumber, IssuerNameHash: req.IssuerNameHash, IssuerKeyHash: req.IssuerKeyHash,
			Status: testpki.StatusUnknown, ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(24 * time.Hour)}}}
	}
	p.mu.Lock()
	status := p.status[cert.Cert.SerialNumber.String()]
	p.mu.Unlock()
	return &testpki.OCSPResponse{Signer: cert.Issuer, Responses: []testpki.Single{{
		Cert: cert.Cert, Issuer: cert.Issuer.Cert, Status: status, RevokedAt: oRevokedAt, Reason: int(tlsclient.ReasonKeyCompromise),
		ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(24 * time.Hour)}}}
}

func (p *oPKI) answer(req *ocsp.Request, raw []byte) []byte {
	r := p.response(req)
	nonce := oRequestNonce(raw)
	if nonce != nil {
		r.Extensions = append(r.Extensions, oNonceExtension(nonce))
	}
	p.mu.Lock()
	build := p.build
	if nonce != nil {
		p.nonces = append(p.nonces, nonce)
	}
	p.mu.Unlock()
	if build != nil {
		return build(r, req)
	}
	der, err := r.Marshal()
	if err != nil {
		panic(err)
	}
	return der
}

// oRequestNonce returns the nonce extension's value of a DER OCSPRequest,
// or nil.
func oRequestNonce(raw []byte) []byte {
	in := cryptobyte.String(raw)
	var req, tbs cryptobyte.String
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !req.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil
	}
	tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific())
	tbs.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific())
	if !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return nil
	}
	var exts, seq cryptobyte.String
	var has bool
	if !tbs.ReadOptionalASN1(&exts, &has, cbasn1.Tag(2).Constructed().ContextSpecific()) || !has ||
		!exts.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil
	}
	for !seq.Empty() {
		var ext, val cryptobyte.String
		var id asn1.ObjectIdentifier
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) ||
			!ext.SkipOptionalASN1(cbasn1.BOOLEAN) || !ext.ReadASN1(&val, cbasn1.OCTET_STRING) {
			return nil
		}
		if !id.Equal(oidOCSPNonce) {
			continue
		}
		var nonce cryptobyte.String
		if !val.ReadASN1(&nonce, cbasn1.OCTET_STRING) {
			return nil
		}
		return append([]byte{}, nonce...)
	}
	return nil
}

// oNonceExtension is the response extension that echoes nonce (RFC 8954).
func oNonceExtension(nonce []byte) pkix.Extension {
	v, _ := asn1.Marshal(nonce)
	return pkix.Extension{Id: oidOCSPNonce, Value: v}
}

// chain is the verified chain of the leaf: leaf, intermediate, root.
func (p *oPKI) chain() []*x509.Certificate {
	return []*x509.Certificate{p.leaf.Cert, p.inter.Cert, p.root.Cert}
}

// state is a hand-built State for p's chain at testpki.Now, with staple.
func (p *oPKI) state(staple []byte) *tlsclient.State {
	return oState(p.chain(), staple)
}

func oState(chain []*x509.Certificate, staple []byte) *tlsclient.State {
	st := &tlsclient.State{Now: testpki.Now}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{chain}
	st.ConnectionState.PeerCertificates = chain[:len(chain)-1]
	st.ConnectionState.OCSPResponse = staple
	return st
}

// goodStaple is a good stapled response for the leaf.
func (p *oPKI) goodStaple(t testing.TB) []byte {
	t.Helper()
	return testpki.Must(p.inter.OCSPGood(p.leaf))
}

// serve starts a TLS server for the leaf, stopped when the test ends.
func (p *oPKI) serve(t testing.TB, staple []byte) *testpki.Server {
	t.Helper()
	s, err := testpki.StartServer(testpki.ServerOptions{Cert: p.leaf, Staple: staple})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// dial connects to s with v, trusting p's root at testpki.Now.
func (p *oPKI) dial(t testing.TB, s *testpki.Server, v tlsclient.Verifier, extra ...tlsclient.Option) (*tlsclient.Report, error) {
	t.Helper()
	opts := append([]tlsclient.Option{tlsclient.WithRootCAs(p.root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(v)}, extra...)
	c, err := tlsclient.Dial("tcp", s.Addr, opts...)
	if err != nil {
		var ve *tlsclient.VerificationError
		if errors.As(err, &ve) {
			return ve.Report, err
		}
		return nil, err
	}
	c.Close()
	return c.Report(), nil
}

// oChecks returns the checks of r (a Report or a State) made by verifier.
func oChecks(checks []tlsclient.Check, verifier string) []tlsclient.Check {
	var out []tlsclient.Check
	for _, c := range checks {
		if c.Verifier == verifier {
			out = append(out, c)
		}
	}
	return out
}

// oCheckFor returns the single check of verifier about the certificate
// with common name cn (or the label cn, when it holds an "=") and source
// src ("" for the decision).
func oCheckFor(t testing.TB, checks []tlsclient.Check, verifier, cn, src string) tlsclient.Check {
	t.Helper()
	label := cn
	if !strings.Contains(cn, "=") {
		label = "CN=" + cn
	}
	var found []tlsclient.Check
	for _, c := range oChecks(checks, verifier) {
		if c.Subject == label && c.Source == src {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s check for %s from %q, got %d in:\n%s", verifier, cn, src, len(found), oDump(checks))
	}
	return found[0]
}

// oDump renders checks one per line, for failure messages.
func oDump(checks []tlsclient.Check) string {
	var b strings.Builder
	for _, c := range checks {
		b.WriteString("  " + c.Outcome.String() + " " + c.Verifier + " [" + c.Subject + "] " + c.Source + ": " + c.Detail)
		if c.Error != "" {
			b.WriteString(" -- " + c.Error)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// oDetails returns the Details of a check.
func oDetails(t testing.TB, c tlsclient.Check) Details {
	t.Helper()
	d, ok := c.Data.(Details)
	if !ok {
		t.Fatalf("check has no Details: %+v", c)
	}
	return d
}

// ocspHTTPClient is an HTTP client without keep-alives, whose connections
// are closed when the test ends, so that goroutine counts settle.
func ocspHTTPClient(t testing.TB) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// ocspLeakCheck fails the test if it ends with more goroutines than it
// started with, once what it started has had a few seconds to wind down.
// Call it first, so that its cleanup runs last. runtime.NumGoroutine counts
// the whole process, so it is only meaningful in tests that do not call
// t.Parallel (the Go runner pauses parallel tests while sequential ones
// run); parallel tests rely on synctest bubbles, which refuse to end with
// goroutines left.
func ocspLeakCheck(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d goroutines before the test, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// oRoundTripper is an in-memory http.RoundTripper, for synctest bubbles
// (which cannot contain real sockets).
type oRoundTripper func(*http.Request) (*http.Response, error)

func (f oRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// oHandlerTransport serves requests with h, in memory.
func oHandlerTransport(h http.Handler) oRoundTripper {
	return func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			defer r.Body.Close()
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		resp := rec.Result()
		resp.Request = r
		return resp, nil
	}
}

// oResponderHandler answers OCSP requests (GET or POST) with answer, like
// testpki.OCSPResponder but in memory.
func oResponderHandler(answer func(req *ocsp.Request, raw []byte) []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := oReadRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req, err := ocsp.ParseRequest(raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(answer(req, raw))
	}
}

// oReadRequest extracts the DER request of a GET or POST.
func oReadRequest(r *http.Request) ([]byte, error) {
	if r.Method == http.MethodPost {
		return io.ReadAll(io.LimitReader(r.Body, 1<<16))
	}
	p := r.URL.EscapedPath()
	p = p[strings.LastIndexByte(p, '/')+1:]
	return oDecodeGET(p)
}

// oDecodeGET decodes the last path segment of an OCSP GET URL.
func oDecodeGET(seg string) ([]byte, error) {
	s, err := url.PathUnescape(seg)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

// oDripBody is a body that yields one byte per interval of (virtual) time,
// until its request is canceled.
type oDripBody struct {
	ctx      context.Context
	data     []byte
	interval time.Duration
}

func (d *oDripBody) Read(b []byte) (int, error) {
	if len(d.data) == 0 {
		return 0, io.EOF
	}
	select {
	case <-time.After(d.interval):
	case <-d.ctx.Done():
		return 0, d.ctx.Err()
	}
	b[0] = d.data[0]
	d.data = d.data[1:]
	return 1, nil
}

func (d *oDripBody) Close() error { return nil }

// oSerial is a short helper for big serials.
func oSerial(n int64) *big.Int { return big.NewInt(n) }

// oContains reports whether any check's detail or error contains s.
func oContains(checks []tlsclient.Check, s string) bool {
	for _, c := range checks {
		if strings.Contains(c.Detail, s) || strings.Contains(c.Error, s) {
			return true
		}
	}
	return false
}

// oSerialHex parses a hexadecimal serial.
func oSerialHex(t testing.TB, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad serial %q", s)
	}
	return n
}
