package revocation

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// The CRL fuzz targets feed arbitrary bytes, as a downloaded CRL and as a
// preloaded one, through the CRL verifier, against the fixed PKI in
// testdata/crl (written by TestCRLWriteFuzzTestdata with -crlfuzz.update).
// crypto/x509 is the oracle: a definitive answer (good or revoked) is only
// ever given on a CRL that x509.ParseRevocationList reads, whose signature
// verifies with the issuer's key, which is current, and which lists the
// certificate exactly when the answer is revoked; anything else is a typed
// refusal (*UnavailableError reaching a *CRLError).

var cUpdateFuzzTestdata = flag.Bool("crlfuzz.update", false, "rewrite revocation/testdata/crl")

const cFuzzTestdata = "testdata/crl"

// cFuzzURL is the distribution point of the fuzz leaf; nothing is ever
// fetched from it (the fuzz targets answer in memory).
const cFuzzURL = "http://crl.test/inter.crl"

// TestCRLWriteFuzzTestdata writes the fuzz PKI and the seed CRLs, when
// asked.
func TestCRLWriteFuzzTestdata(t *testing.T) {
	if !*cUpdateFuzzTestdata {
		t.Skip("run with -crlfuzz.update to rewrite testdata/crl")
	}
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "CRL fuzz root"}))
	inter := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "CRL fuzz intermediate"}))
	leaf := testpki.Must(inter.Issue(testpki.CertOptions{CommonName: "CRL fuzz leaf", CRLDistributionPoints: []string{cFuzzURL}}))
	revoke := func(reason int) []testpki.CRLEntry {
		return []testpki.CRLEntry{{Serial: leaf.Cert.SerialNumber, Reason: testpki.Reason(reason)}}
	}
	now := testpki.Now
	seeds := map[string]struct {
		signer *testpki.Cert
		tmpl   testpki.CRLTemplate
	}{
		"good":           {inter, testpki.CRLTemplate{}},
		"revoked":        {inter, testpki.CRLTemplate{Entries: revoke(1)}},
		"hold":           {inter, testpki.CRLTemplate{Entries: revoke(6)}},
		"others":         {inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(1)}, {Serial: big.NewInt(-7)}, {Serial: new(big.Int).Lsh(big.NewInt(1), 150)}}}},
		"generalized":    {inter, testpki.CRLTemplate{GeneralizedTime: true, Entries: revoke(4)}},
		"no-next":        {inter, testpki.CRLTemplate{NoNextUpdate: true}},
		"stale":          {inter, testpki.CRLTemplate{ThisUpdate: now.AddDate(0, 0, -10), NextUpdate: now.AddDate(0, 0, -3)}},
		"future":         {inter, testpki.CRLTemplate{ThisUpdate: now.AddDate(0, 0, 1)}},
		"delta":          {inter, testpki.CRLTemplate{Number: big.NewInt(5), DeltaBase: big.NewInt(4), Entries: revoke(1)}},
		"base-freshest":  {inter, testpki.CRLTemplate{Number: big.NewInt(4), FreshestCRL: []string{"http://crl.test/delta.crl"}}},
		"idp":            {inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{cFuzzURL}, OnlyUser: true}, Entries: revoke(1)}},
		"idp-other":      {inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://crl.test/other.crl"}}}},
		"only-some":      {inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlySomeReasons: 1 << 1}}},
		"indirect":       {inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{Indirect: true}}},
		"critical":       {inter, testpki.CRLTemplate{Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}}},
		"corrupt":        {inter, testpki.CRLTemplate{CorruptSignature: true, Entries: revoke(1)}},
		"no-aki":         {inter, testpki.CRLTemplate{NoAKI: true, NoNumber: true}},
		"root":           {root, testpki.CRLTemplate{Entries: revoke(1)}},
		"trailing-crlf":  {inter, testpki.CRLTemplate{Trailing: []byte("\r\n")}},
		"remove-from-cr": {inter, testpki.CRLTemplate{Entries: revoke(8)}},
	}
	dir := cFuzzTestdata
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var chain []byte
	for _, c := range []*testpki.Cert{leaf, inter, root} {
		chain = append(chain, c.PEM()...)
	}
	write("chain.pem", chain)
	for name, s := range seeds {
		write(name+".der", testpki.Must(s.signer.BuildCRL(s.tmpl)))
	}
	big := testpki.Must(inter.BigCRL(64))
	write("big.der", big)
	good := testpki.Must(inter.BuildCRL(testpki.CRLTemplate{Entries: revoke(1)}))
	write("revoked.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: good}))
}

// cFuzzChain loads the fuzz PKI, leaf first, and the seed CRLs.
func cFuzzChain(tb testing.TB) ([]*x509.Certificate, [][]byte) {
	b, err := os.ReadFile(filepath.Join(cFuzzTestdata, "chain.pem"))
	if err != nil {
		tb.Fatalf("%v (run the tests with -crlfuzz.update)", err)
	}
	var chain []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) != 3 {
		tb.Fatalf("chain.pem holds %d certificates", len(chain))
	}
	var seeds [][]byte
	files, _ := filepath.Glob(filepath.Join(cFuzzTestdata, "*.*"))
	for _, name := range files {
		if filepath.Base(name) == "chain.pem" {
			continue
		}
		d, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, d)
	}
	if len(seeds) == 0 {
		tb.Fatal("no seed CRLs in testdata/crl")
	}
	return chain, seeds
}

// cFuzzState is the State for the fuzz chain at testpki.Now.
func cFuzzState(chain []*x509.Certificate) *tlsclient.State {
	st := &tlsclient.State{Now: testpki.Now}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{chain}
	st.ConnectionState.PeerCertificates = chain[:len(chain)-1]
	return st
}

// cCandidates returns the CRLs in b as the verifier reads them: b itself,
// or each X509 CRL block of PEM.
func cCandidates(b []byte) [][]byte {
	if ders, err := crlDERs(b); err == nil {
		return ders
	}
	return nil
}

// cCheckFuzzVerdict checks what the CRL verifier made of b.
func cCheckFuzzVerdict(t *testing.T, err error, b []byte, chain []*x509.Certificate, st *tlsclient.State) {
	t.Helper()
	leaf, issuer := chain[0], chain[1]
	var re *RevokedError
	if err == nil || errors.As(err, &re) {
		// A definitive answer: some CRL in b must justify it.
		var why []string
		for _, der := range cCandidates(b) {
			rl, xerr := x509.ParseRevocationList(der)
			if xerr != nil {
				why = append(why, "x509: "+xerr.Error())
				continue
			}
			if serr := rl.CheckSignatureFrom(issuer); serr != nil {
				why = append(why, "signature: "+serr.Error())
				continue
			}
			if rl.ThisUpdate.After(testpki.Now.Add(DefaultClockSkew)) ||
				!rl.NextUpdate.IsZero() && rl.NextUpdate.Add(DefaultClockSkew).Before(testpki.Now) {
				why = append(why, "not current")
				continue
			}
			listed := false
			for _, e := range rl.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(leaf.SerialNumber) == 0 && e.ReasonCode != 8 {
					listed = true
				}
			}
			if listed == (re != nil) {
				why = nil
				break
			}
			why = append(why, "the listing disagrees")
		}
		if why != nil || len(cCandidates(b)) == 0 {
			t.Fatalf("definitive answer (%v) that no CRL of the input justifies: %v", err, why)
		}
		if re != nil && (re.Source != "crl" || re.Serial.Cmp(leaf.SerialNumber) != 0) {
			t.Fatalf("RevokedError %+v", re)
		}
	} else {
		var ue *UnavailableError
		var ce *CRLError
		if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &ue) || !errors.As(err, &ce) {
			t.Fatalf("untyped refusal: %T %v", err, err)
		}
	}
	if len(st.Checks()) == 0 {
		t.Fatal("nothing recorded")
	}
}

// cServe is a transport that answers every request with body (or 404 when
// body is nil), in memory.
func cServe(body []byte) *http.Client {
	return &http.Client{Transport: oRoundTripper(func(r *http.Request) (*http.Response, error) {
		if body == nil {
			return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}, Request: r, Body: http.NoBody}, nil
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: r, ContentLength: int64(len(body)),
			Body: io.NopCloser(bytes.NewReader(body))}, nil
	})}
}

// FuzzCRLFetched: arbitrary bytes served at the leaf's distribution point,
// through the download path, the signature check, the index and the
// in-memory store.
func FuzzCRLFetched(f *testing.F) {
	chain, seeds := cFuzzChain(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v := CRL(LeafOnly(), WithHTTPClient(cServe(b)))
		for range 2 { // downloaded, then from memory when it was kept
			st := cFuzzState(chain)
			cCheckFuzzVerdict(t, v.Verify(context.Background(), st), b, chain, st)
		}
	})
}

// FuzzCRLPreloaded: arbitrary bytes given to WithCRLs (the distribution
// point answers 404, so only the preloaded CRL can decide).
func FuzzCRLPreloaded(f *testing.F) {
	chain, seeds := cFuzzChain(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return // refused by WithCRLs itself
		}
		v := CRL(LeafOnly(), WithCRLs(b), WithHTTPClient(cServe(nil)))
		st := cFuzzState(chain)
		err := v.Verify(context.Background(), st)
		if c := v.(*checker); c.err != nil {
			// A CRL that does not parse is a configuration error: the
			// verifier fails every check, closed, and says which.
			if err == nil || !strings.Contains(err.Error(), "WithCRLs") {
				t.Fatalf("misconfigured verifier returned %v", err)
			}
			return
		}
		cCheckFuzzVerdict(t, err, b, chain, st)
	})
}

// TestCRLFuzzSeeds checks that the seeds mean what their names say, so
// that the fuzz targets start from deep inputs.
func TestCRLFuzzSeeds(t *testing.T) {
	t.Parallel()
	chain, _ := cFuzzChain(t)
	want := map[string]string{
		"good": "pass", "revoked": "revoked", "revoked.pem": "revoked", "hold": "revoked", "others": "pass",
		"generalized": "revoked", "no-next": "pass", "stale": "CRL expired", "future": "CRL not yet valid",
		"delta": "delta CRL without its base", "base-freshest": "pass", "idp": "revoked",
		"idp-other": "CRL does not cover the certificate", "only-some": "CRLs cover only some reasons",
		"indirect": "indirect CRL not supported", "critical": "unknown critical extension", "corrupt": "bad signature",
		"no-aki": "pass", "root": "CRL issued by another CA", "trailing-crlf": "pass", "remove-from-cr": "pass", "big": "pass",
	}
	for name, outcome := range want {
		file := filepath.Join(cFuzzTestdata, name)
		if !strings.Contains(name, ".") {
			file += ".der"
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v (run with -crlfuzz.update)", name, err)
		}
		st := cFuzzState(chain)
		err = CRL(LeafOnly(), WithHTTPClient(cServe(b))).Verify(context.Background(), st)
		got := "pass"
		var ce *CRLError
		switch {
		case errors.Is(err, tlsclient.ErrRevoked):
			got = "revoked"
		case errors.As(err, &ce):
			got = ce.Reason.String()
		case err != nil:
			got = err.Error()
		}
		if got != outcome {
			t.Errorf("%s: %s, want %s", name, got, outcome)
		}
		cCheckFuzzVerdict(t, err, b, chain, st)
	}
}

// FuzzOCSPRequestURL: the OCSP request for any serial, and its GET URL for
// any responder URL a certificate may name. x/crypto/ocsp is the oracle
// for the request; the GET URL must keep the responder's scheme and host,
// carry the request intact in its last path segment, and stay within the
// RFC 5019 length, else the request goes by POST. Seeds:
// testdata/ocsp-request/responders.txt, one URL a line.
func FuzzOCSPRequestURL(f *testing.F) {
	chain, _ := oFuzzPKI(f)
	issuer := chain[1]
	fl, err := os.Open("testdata/ocsp-request/responders.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(fl)
	for i := 0; sc.Scan(); i++ {
		f.Add(sc.Text(), big.NewInt(int64(i)*0x1234567).Bytes(), i%3 == 0)
	}
	fl.Close()
	f.Fuzz(func(t *testing.T, responder string, serialBytes []byte, negative bool) {
		serial := new(big.Int).SetBytes(serialBytes)
		if negative {
			serial.Neg(serial)
		}
		cert := &x509.Certificate{SerialNumber: serial, RawIssuer: issuer.RawSubject}
		id, err := newOCSPCertID(cert, issuer)
		if err != nil {
			t.Fatal(err)
		}
		der, err := marshalOCSPRequest(id, nil)
		if err != nil {
			t.Fatalf("request for serial %v: %v", serial, err)
		}
		req, err := ocsp.ParseRequest(der)
		if err != nil || req.SerialNumber.Cmp(serial) != 0 || !bytes.Equal(req.IssuerKeyHash, id.keyHash) || !bytes.Equal(req.IssuerNameHash, id.nameHash) {
			t.Fatalf("x/crypto/ocsp reads the request for %v as %+v (%v)", serial, req, err)
		}
		if err := supportedURL(responder); err != nil {
			return // never fetched
		}
		get, ok := ocspGetURL(responder, der)
		if !ok {
			enc := url.PathEscape(base64.StdEncoding.EncodeToString(der))
			if len(enc) <= ocspMaxGET {
				u, err := url.Parse(responder)
				if err == nil && u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && u.Opaque == "" {
					// Only a path that would not carry the request
					// intact justifies a POST.
					g, err := url.Parse(strings.TrimSuffix(responder, "/") + "/" + enc)
					if err == nil && strings.HasSuffix(g.EscapedPath(), "/"+enc) {
						t.Fatalf("a short request to %q not sent by GET", responder)
					}
				}
			}
			return
		}
		u, err := url.Parse(get)
		if err != nil {
			t.Fatalf("GET URL %q does not parse: %v", get, err)
		}
		r, _ := url.Parse(responder)
		if u.Scheme != r.Scheme || u.Host != r.Host {
			t.Fatalf("GET URL %q leaves the responder %q", get, responder)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("GET URL %q has a query or fragment", get)
		}
		esc := u.EscapedPath()
		last := esc[strings.LastIndexByte(esc, '/')+1:]
		if len(last) > ocspMaxGET {
			t.Fatalf("GET request of %d bytes", len(last))
		}
		raw, err := url.PathUnescape(last)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := base64.StdEncoding.DecodeString(raw); err != nil || !bytes.Equal(got, der) {
			t.Fatalf("GET URL %q does not carry the request (%v)", get, err)
		}
		if !strings.HasPrefix(get, responder) {
			t.Fatalf("GET URL %q does not extend %q", get, responder)
		}
	})
}
