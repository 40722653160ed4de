package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// The fuzz targets feed arbitrary bytes, as a staple and as a responder's
// answer, through the verifiers, against the fixed PKI in testdata/ocsp
// (certificates and responses written by TestOCSPWriteTestdata with
// -ocsp.update). The seeds are the responses there.

var oUpdateTestdata = flag.Bool("ocsp.update", false, "rewrite revocation/testdata/ocsp")

const oTestdata = "testdata/ocsp"

// TestOCSPWriteTestdata writes the fuzz PKI and seed responses, when asked.
func TestOCSPWriteTestdata(t *testing.T) {
	if !*oUpdateTestdata {
		t.Skip("run with -ocsp.update to rewrite testdata/ocsp")
	}
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "fuzz root", Signer: testpki.Must(testpki.FreshKey(testpki.ECDSAP256))}))
	inter := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "fuzz intermediate", Signer: testpki.Must(testpki.FreshKey(testpki.ECDSAP256))}))
	leaf := testpki.Must(inter.Issue(testpki.CertOptions{CommonName: "fuzz leaf", OCSPServers: []string{"http://ocsp.test/"},
		Signer: testpki.Must(testpki.FreshKey(testpki.ECDSAP256))}))
	delegate := testpki.Must(inter.IssueOCSPResponder(testpki.CertOptions{Signer: testpki.Must(testpki.FreshKey(testpki.ECDSAP256))}))
	single := func(status int) testpki.Single {
		return testpki.Single{Cert: leaf.Cert, Issuer: inter.Cert, Status: status, RevokedAt: testpki.Now.Add(-48 * time.Hour), Reason: 1,
			ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(24 * time.Hour)}
	}
	noNext := single(testpki.StatusGood)
	noNext.NextUpdate = time.Time{}
	sha256ID := single(testpki.StatusGood)
	sha256ID.Hash = crypto.SHA256
	responses := map[string]*testpki.OCSPResponse{
		"good":          {Signer: inter, Responses: []testpki.Single{single(testpki.StatusGood)}},
		"revoked":       {Signer: inter, Responses: []testpki.Single{single(testpki.StatusRevoked)}},
		"unknown":       {Signer: inter, Responses: []testpki.Single{single(testpki.StatusUnknown)}},
		"by-key":        {Signer: inter, ByKey: true, Responses: []testpki.Single{single(testpki.StatusGood)}},
		"delegate":      {Signer: delegate, Certs: []*x509.Certificate{delegate.Cert}, Responses: []testpki.Single{single(testpki.StatusGood)}},
		"sha1":          {Signer: inter, SigHash: crypto.SHA1, Responses: []testpki.Single{single(testpki.StatusGood)}},
		"sha256-certid": {Signer: inter, Responses: []testpki.Single{sha256ID}},
		"no-next":       {Signer: inter, Responses: []testpki.Single{noNext}},
		"multi": {Signer: inter, Responses: []testpki.Single{
			{Serial: oSerial(1), Issuer: inter.Cert, ThisUpdate: testpki.Now.Add(-time.Hour)},
			single(testpki.StatusRevoked),
			{Cert: inter.Cert, Issuer: root.Cert, ThisUpdate: testpki.Now.Add(-time.Hour)}}},
		"extensions": {Signer: inter, Responses: []testpki.Single{single(testpki.StatusGood)}, Extensions: []pkix.Extension{
			oNonceExtension([]byte("0123456789abcdef")), {Id: asn1.ObjectIdentifier{1, 2, 3}, Value: []byte{5, 0}}}},
		"trylater": {Status: 3},
	}
	dir := oTestdata
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
	for name, r := range responses {
		write(name+".der", testpki.Must(r.Marshal()))
	}
}

// oFuzzPKI loads testdata/ocsp: the chain and the seed responses.
func oFuzzPKI(f testing.TB) ([]*x509.Certificate, map[string][]byte) {
	b, err := os.ReadFile(filepath.Join(oTestdata, "chain.pem"))
	if err != nil {
		f.Fatal(err)
	}
	var chain []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			f.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) != 3 {
		f.Fatalf("chain.pem holds %d certificates", len(chain))
	}
	seeds := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join(oTestdata, "*.der"))
	for _, name := range files {
		der, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds[strings.TrimSuffix(filepath.Base(name), ".der")] = der
	}
	if len(seeds) == 0 {
		f.Fatal("no seed responses in testdata/ocsp")
	}
	return chain, seeds
}

// oCheckFuzzVerdict checks what a verifier made of arbitrary bytes: a
// typed decision, consistent with validating the bytes directly.
func oCheckFuzzVerdict(t *testing.T, err error, der []byte, chain []*x509.Certificate, st *tlsclient.State) {
	t.Helper()
	res, verr := ocspcheck.Validate(der, chain[0], chain[1], testpki.Now, ocspcheck.Options{})
	var re *RevokedError
	switch {
	case err == nil:
		if verr != nil || res.Status != ocspcheck.Good {
			t.Fatalf("passed, but the response does not validate as good: %v", verr)
		}
	case errors.As(err, &re):
		if verr != nil || res.Status != ocspcheck.Revoked || !re.RevokedAt.Equal(res.RevokedAt) {
			t.Fatalf("revoked, but the response does not validate as revoked: %v", verr)
		}
	case errors.Is(err, tlsclient.ErrRevocationUnavailable):
		var ue *UnavailableError
		if !errors.As(err, &ue) {
			t.Fatalf("unavailable without *UnavailableError: %v", err)
		}
		if verr == nil && res.Status != ocspcheck.Unknown {
			t.Fatalf("refused a response that validates (%v): %v", res.Status, err)
		}
	default:
		t.Fatalf("untyped error: %v", err)
	}
	if len(st.Checks()) == 0 {
		t.Fatal("nothing recorded")
	}
}

// FuzzOCSPStaple: arbitrary bytes stapled by the server.
func FuzzOCSPStaple(f *testing.F) {
	chain, seeds := oFuzzPKI(f)
	for _, der := range seeds {
		f.Add(der)
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x00})
	v := Stapled()
	f.Fuzz(func(t *testing.T, der []byte) {
		st := oState(chain, der)
		err := v.Verify(context.Background(), st)
		if len(der) == 0 {
			if err != nil {
				t.Fatalf("no staple is not applicable: %v", err)
			}
			return
		}
		oCheckFuzzVerdict(t, err, der, chain, st)
	})
}

// FuzzOCSPFetched: arbitrary bytes answered by a responder, through the
// fetch path (in memory), the response cache and the verdict cache.
func FuzzOCSPFetched(f *testing.F) {
	chain, seeds := oFuzzPKI(f)
	for _, der := range seeds {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		rt := oRoundTripper(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r, ContentLength: int64(len(der)),
				Body: io.NopCloser(bytes.NewReader(der))}, nil
		})
		v := OCSP(LeafOnly(), WithHTTPClient(&http.Client{Transport: rt}))
		for range 2 { // cold, then from the cache when it was kept
			st := oState(chain, nil)
			err := v.Verify(context.Background(), st)
			oCheckFuzzVerdict(t, err, der, chain, st)
		}
	})
}

// TestOCSPFuzzSeeds checks that the seeds say what their names say, so
// that the fuzz targets start from meaningful inputs.
func TestOCSPFuzzSeeds(t *testing.T) {
	t.Parallel()
	chain, seeds := oFuzzPKI(t)
	want := map[string]string{
		"good": "pass", "revoked": "revoked", "unknown": "unavailable", "by-key": "pass", "delegate": "pass",
		"sha1": "pass", "sha256-certid": "pass", "no-next": "pass", "multi": "revoked", "extensions": "pass", "trylater": "unavailable",
	}
	if len(seeds) != len(want) {
		t.Errorf("%d seeds, %d described", len(seeds), len(want))
	}
	for name, outcome := range want {
		der, ok := seeds[name]
		if !ok {
			t.Fatalf("seed %s missing", name)
		}
		err := Stapled().Verify(context.Background(), oState(chain, der))
		got := "pass"
		switch {
		case errors.Is(err, tlsclient.ErrRevoked):
			got = "revoked"
		case errors.Is(err, tlsclient.ErrRevocationUnavailable):
			got = "unavailable"
		case err != nil:
			got = err.Error()
		}
		if got != outcome {
			t.Errorf("%s: %s, want %s (%v)", name, got, outcome, err)
		}
	}
}
