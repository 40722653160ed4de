package ocspcheck_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// testPKI is a root, an intermediate CA and a leaf it issued, each with a key
// of its own. testpki.NewKey hands out keys round-robin from a small shared
// pool, so two certificates minted by parallel tests may share a key; these
// tests are about which key signed what, so every certificate gets a fresh
// key (FreshKey) instead.
type testPKI struct {
	root, ca, leaf *testpki.Cert
	// responder is set by setups that mint a delegated responder, for the
	// checks to name it.
	responder *testpki.Cert
}

func freshKey(t testing.TB, kt testpki.KeyType) crypto.Signer {
	t.Helper()
	k, err := testpki.FreshKey(kt)
	if err != nil {
		t.Fatalf("FreshKey(%v): %v", kt, err)
	}
	return k
}

// must(t)(c, err) fails the test on err: must(t)(ca.Issue(opts)).
func must(t testing.TB) func(*testpki.Cert, error) *testpki.Cert {
	return func(c *testpki.Cert, err error) *testpki.Cert {
		t.Helper()
		if err != nil {
			t.Fatalf("minting a certificate: %v", err)
		}
		return c
	}
}

// newPKI builds a root, an intermediate and a leaf with fresh keys. The
// intermediate, which signs the responses, has a key of type kt; the root
// and the leaf, whose keys play no part in OCSP, have ECDSA P-256 keys.
func newPKI(t testing.TB, kt testpki.KeyType) *testPKI {
	t.Helper()
	root := must(t)(testpki.NewRoot(testpki.CertOptions{CommonName: "Test Root CA", Signer: freshKey(t, testpki.ECDSAP256)}))
	return newPKIUnder(t, root, kt)
}

// newPKIUnder builds an intermediate under root and a leaf under it.
func newPKIUnder(t testing.TB, root *testpki.Cert, kt testpki.KeyType) *testPKI {
	t.Helper()
	ca := must(t)(root.NewIntermediate(testpki.CertOptions{CommonName: "Test Intermediate CA", Signer: freshKey(t, kt)}))
	leaf := must(t)(ca.Issue(testpki.CertOptions{DNSNames: []string{"leaf.example"}, Signer: freshKey(t, testpki.ECDSAP256)}))
	return &testPKI{root: root, ca: ca, leaf: leaf}
}

// issue mints another leaf of the intermediate.
func (p *testPKI) issue(t testing.TB) *testpki.Cert {
	t.Helper()
	return must(t)(p.ca.Issue(testpki.CertOptions{DNSNames: []string{"other.example"}, Signer: freshKey(t, testpki.ECDSAP256)}))
}

// delegate mints a delegated OCSP responder issued by ca with a fresh key.
func delegate(t testing.TB, ca *testpki.Cert, opts testpki.CertOptions) *testpki.Cert {
	t.Helper()
	if opts.Signer == nil {
		opts.Signer = freshKey(t, testpki.ECDSAP256)
	}
	return must(t)(ca.IssueOCSPResponder(opts))
}

// Times of the default single response.
var (
	defThisUpdate = testpki.Now.Add(-time.Hour)
	defNextUpdate = testpki.Now.Add(7 * 24 * time.Hour)
)

// single is a good SingleResponse for the leaf, thisUpdate an hour before
// Now and nextUpdate a week after.
func (p *testPKI) single() testpki.Single {
	return testpki.Single{
		Cert: p.leaf.Cert, Issuer: p.ca.Cert,
		Status: testpki.StatusGood, Reason: testpki.NoReason,
		ThisUpdate: defThisUpdate, NextUpdate: defNextUpdate,
	}
}

// response is a response signed by the intermediate holding p.single().
func (p *testPKI) response() testpki.OCSPResponse {
	return testpki.OCSPResponse{Signer: p.ca, Responses: []testpki.Single{p.single()}}
}

func marshal(t testing.TB, r testpki.OCSPResponse) []byte {
	t.Helper()
	der, err := r.Marshal()
	if err != nil {
		t.Fatalf("building the OCSP response: %v", err)
	}
	return der
}

// reasonOf returns the Reason of an *ocspcheck.Error in err's chain.
func reasonOf(err error) (ocspcheck.Reason, bool) {
	var e *ocspcheck.Error
	if !errors.As(err, &e) {
		return 0, false
	}
	return e.Reason, true
}

// wantReason fails unless err is an *ocspcheck.Error with the given reason
// and a message that says so.
func wantReason(t testing.TB, err error, want ocspcheck.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	got, ok := reasonOf(err)
	if !ok {
		t.Fatalf("error %q (%T) is not an *ocspcheck.Error, want reason %v", err, err, want)
	}
	if got != want {
		t.Fatalf("reason = %v (%q), want %v", got, err, want)
	}
	if !strings.HasPrefix(err.Error(), "ocsp: "+want.String()) {
		t.Errorf("message %q does not start with %q", err, "ocsp: "+want.String())
	}
}

// Hand-built encodings, for responses testpki cannot express.

var oidBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

// basicResponse encodes a BasicOCSPResponse. tbs and algID are complete DER
// elements; extra is appended inside the SEQUENCE after the certificates.
func basicResponse(tbs, algID, sig []byte, certs [][]byte, extra []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(algID)
		b.AddASN1BitString(sig)
		if len(certs) > 0 {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, c := range certs {
						b.AddBytes(c)
					}
				})
			})
		}
		b.AddBytes(extra)
	})
	return b.BytesOrPanic()
}

// envelope wraps a BasicOCSPResponse (or anything) in a successful
// OCSPResponse with the given response type.
func envelope(basic []byte, typ asn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(typ)
				b.AddASN1OctetString(basic)
			})
		})
	})
	return b.BytesOrPanic()
}

// seq wraps contents in a SEQUENCE.
func seq(contents []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	return b.BytesOrPanic()
}

// seqContents returns the contents of a DER SEQUENCE. Like elements, it is
// only given DER that the tests built, and panics on anything else.
func seqContents(der []byte) []byte {
	s := cryptobyte.String(der)
	var c cryptobyte.String
	if !s.ReadASN1(&c, cbasn1.SEQUENCE) || !s.Empty() {
		panic("seqContents: not a single DER SEQUENCE")
	}
	return c
}

// resign rebuilds der with its ResponseData passed through mutate and signed
// again by key (SHA-256, or Ed25519), keeping the certificates.
func resign(t testing.TB, der []byte, key crypto.Signer, mutate func(tbs []byte) []byte) []byte {
	t.Helper()
	r, err := ocspcheck.Parse(der)
	if err != nil {
		t.Fatalf("resign: parsing the original: %v", err)
	}
	tbs := mutate(bytes.Clone(r.TBS))
	algID, sig, err := testpki.Sign(key, crypto.SHA256, tbs)
	if err != nil {
		t.Fatalf("resign: %v", err)
	}
	return envelope(basicResponse(tbs, algID, sig, rawCerts(r.Certificates), nil), oidBasic)
}

func rawCerts(cs []*x509.Certificate) [][]byte {
	var out [][]byte
	for _, c := range cs {
		out = append(out, c.Raw)
	}
	return out
}

// replaceOnce replaces the only occurrence of old in b, failing if there is
// not exactly one.
func replaceOnce(t testing.TB, b, old, new []byte) []byte {
	t.Helper()
	if n := bytes.Count(b, old); n != 1 {
		t.Fatalf("replaceOnce: %x occurs %d times", old, n)
	}
	return bytes.Replace(b, old, new, 1)
}

func oidDER(oid asn1.ObjectIdentifier) []byte {
	der, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return der
}

// elements splits the contents of a constructed value into its elements.
func elements(contents []byte) [][]byte {
	s := cryptobyte.String(contents)
	var out [][]byte
	for !s.Empty() {
		var e cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1Element(&e, &tag) {
			panic("elements: malformed DER")
		}
		out = append(out, e)
	}
	return out
}

// mutateResponseData returns a function for resign that edits the elements
// of ResponseData (responderID, producedAt, responses, [extensions]).
func mutateResponseData(f func(elems [][]byte) [][]byte) func([]byte) []byte {
	return func(tbs []byte) []byte {
		return seq(bytes.Join(f(elements(seqContents(tbs))), nil))
	}
}

// mutateSingle returns a function for resign that edits the elements of the
// i-th SingleResponse (certID, certStatus, thisUpdate, [nextUpdate],
// [extensions]).
func mutateSingle(i int, f func(elems [][]byte) [][]byte) func([]byte) []byte {
	return mutateResponseData(func(rd [][]byte) [][]byte {
		for j, e := range rd {
			if e[0] != 0x30 { // responses is the only SEQUENCE of ResponseData
				continue
			}
			singles := elements(seqContents(e))
			singles[i] = seq(bytes.Join(f(elements(seqContents(singles[i]))), nil))
			rd[j] = seq(bytes.Join(singles, nil))
			return rd
		}
		panic("mutateSingle: no responses in ResponseData")
	})
}
