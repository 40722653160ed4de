package ocspcheck_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// The fuzz seeds in testdata/fuzz/{FuzzParse,FuzzCheck} are responses about
// the leaf in testdata/fuzzpki issued by the CA there, so that FuzzCheck
// starts from inputs that reach the signature and freshness checks. Rebuild
// them all together (new keys, new seeds) with
//
//	OCSPCHECK_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds ./internal/ocspcheck/
const writeSeedsEnv = "OCSPCHECK_WRITE_SEEDS"

// handSeeds are small hostile inputs that need no keys.
var handSeeds = [][]byte{
	nil,
	{0x30, 0x00},
	{0x30, 0x03, 0x0a, 0x01, 0x00}, // successful without responseBytes
	{0x30, 0x03, 0x0a, 0x01, 0x03}, // tryLater
	{0x30, 0x03, 0x0a, 0x01, 0x06}, // unauthorized
	{0x30, 0x80, 0x0a, 0x01, 0x00, 0x00, 0x00},       // BER indefinite length
	{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x01}, // huge length
	{0x30, 0x05, 0x0a, 0x01, 0x00, 0xa0, 0x00},       // empty responseBytes
}

// seedResponses builds the seed responses for leaf and its issuer ca. Each
// exercises a different path of Parse and Check.
func seedResponses(t testing.TB, p *testPKI) map[string][]byte {
	d := delegate(t, p.ca, testpki.CertOptions{})
	noEKU := delegate(t, p.ca, testpki.CertOptions{ExtKeyUsage: []x509.ExtKeyUsage{}})
	seeds := map[string][]byte{}
	add := func(name string, edit func(r *testpki.OCSPResponse)) {
		r := p.response()
		edit(&r)
		seeds[name] = marshal(t, r)
	}
	add("good", func(*testpki.OCSPResponse) {})
	add("good-bykey-sha256-certid", func(r *testpki.OCSPResponse) {
		r.ByKey, r.Responses[0].Hash = true, crypto.SHA256
	})
	add("revoked-reason", func(r *testpki.OCSPResponse) {
		r.Responses[0].Status, r.Responses[0].Reason = testpki.StatusRevoked, 1
	})
	add("unknown-no-nextupdate", func(r *testpki.OCSPResponse) {
		r.Responses[0].Status, r.Responses[0].NextUpdate = testpki.StatusUnknown, time.Time{}
	})
	add("delegate", func(r *testpki.OCSPResponse) {
		r.Signer, r.Certs = d, []*x509.Certificate{d.Cert, p.ca.Cert}
	})
	add("delegate-no-eku", func(r *testpki.OCSPResponse) {
		r.Signer, r.Certs = noEKU, []*x509.Certificate{noEKU.Cert}
	})
	add("twenty-responses", func(r *testpki.OCSPResponse) {
		for i := range 19 {
			r.Responses = append(r.Responses, otherSingle(p, int64(i+1), i%3))
		}
	})
	add("conflicting", func(r *testpki.OCSPResponse) {
		s := p.single()
		s.Status = testpki.StatusRevoked
		r.Responses = append(r.Responses, s)
	})
	add("extensions-nonce", func(r *testpki.OCSPResponse) {
		r.Extensions = []pkix.Extension{
			{Id: oidNonce, Critical: true, Value: mustMarshal(nonceValue)},
			{Id: oidUnknownExt, Value: []byte{5, 0}},
		}
		r.Responses[0].Extensions = []pkix.Extension{{Id: oidInvalidityDate, Value: mustMarshal(testpki.Now)}}
	})
	add("critical-unknown", func(r *testpki.OCSPResponse) {
		r.Responses[0].Extensions = []pkix.Extension{{Id: oidUnknownExt, Critical: true, Value: []byte{5, 0}}}
	})
	add("sha1", func(r *testpki.OCSPResponse) { r.SigHash = crypto.SHA1 })
	add("corrupt-signature", func(r *testpki.OCSPResponse) { r.CorruptSignature = true })
	add("stale", func(r *testpki.OCSPResponse) {
		r.Responses[0].ThisUpdate, r.Responses[0].NextUpdate = testpki.Now.AddDate(0, 0, -10), testpki.Now.AddDate(0, 0, -3)
	})
	add("try-later", func(r *testpki.OCSPResponse) { r.Status = 3 })
	good := seeds["good"]
	seeds["trailing-data"] = append(bytes.Clone(good), 0)
	seeds["truncated"] = good[:len(good)/2]
	r, err := ocspcheck.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	seeds["wrong-type"] = envelope(basicResponse(r.TBS, rsaOrECDSAAlgID(r), r.Signature, nil, nil), asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 99})
	return seeds
}

func fuzzPKIDir() string { return filepath.Join("testdata", "fuzzpki") }

// TestWriteFuzzSeeds regenerates testdata/fuzzpki and the seed corpora. It
// only runs when OCSPCHECK_WRITE_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv(writeSeedsEnv) != "1" {
		t.Skipf("set %s=1 to rewrite the fuzz seeds", writeSeedsEnv)
	}
	p := newPKI(t, testpki.ECDSAP256)
	if err := os.MkdirAll(fuzzPKIDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*testpki.Cert{"issuer.pem": p.ca, "leaf.pem": p.leaf} {
		if err := os.WriteFile(filepath.Join(fuzzPKIDir(), name), c.PEM(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seeds := seedResponses(t, p)
	for i, s := range handSeeds {
		seeds[fmt.Sprintf("hand-%d", i)] = s
	}
	for _, fuzzer := range []string{"FuzzParse", "FuzzCheck"} {
		dir := filepath.Join("testdata", "fuzz", fuzzer)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, der := range seeds {
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", der)
			if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// loadFuzzPKI reads the leaf and issuer the seeds were made for.
func loadFuzzPKI(tb testing.TB) (leaf, issuer *x509.Certificate) {
	tb.Helper()
	read := func(name string) *x509.Certificate {
		b, err := os.ReadFile(filepath.Join(fuzzPKIDir(), name))
		if err != nil {
			tb.Fatalf("%v (regenerate with %s=1)", err, writeSeedsEnv)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			tb.Fatalf("%s: no PEM block", name)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	return read("leaf.pem"), read("issuer.pem")
}

// addCorpusSeeds adds the real responses of the shared corpus, read in
// place, when present.
func addCorpusSeeds(f *testing.F) {
	for _, name := range []string{
		"ocsp-symantec/ocsp-good-ivccbookstore.der",
		"ocsp-symantec/ocsp-revoked-the-acey.der",
		"ocsp-legacy-xcrypto/startcom-class1-ocsp-good.resp.der",
		"ocsp-legacy-xcrypto/treasury-multi-response.resp.der",
	} {
		if b, err := os.ReadFile(filepath.Join(corpusDir, name)); err == nil {
			f.Add(b)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range handSeeds {
		f.Add(s)
	}
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ocspcheck.Parse(data)
		if err != nil {
			var e *ocspcheck.Error
			if !errors.As(err, &e) || (e.Reason != ocspcheck.Malformed && e.Reason != ocspcheck.WeakAlgorithm) {
				t.Fatalf("Parse error %v (%T) is not a Malformed or WeakAlgorithm *ocspcheck.Error", err, err)
			}
			if r != nil {
				t.Fatal("Parse returned a response and an error")
			}
			return
		}
		// Parsing again, from a copy, gives the same response.
		r2, err := ocspcheck.Parse(bytes.Clone(data))
		if err != nil {
			t.Fatalf("second Parse failed: %v", err)
		}
		if diff := diffResponses(r, r2); diff != "" {
			t.Fatalf("Parse is not stable: %s", diff)
		}
		if r.Status != ocspcheck.Successful {
			if r.TBS != nil || r.Responses != nil {
				t.Fatal("an unsuccessful response carries ResponseData")
			}
			return
		}
		if !bytes.Contains(data, r.TBS) || len(r.TBS) == 0 {
			t.Fatal("TBS is not part of the input")
		}
		if (r.ResponderName == nil) == (r.ResponderKeyHash == nil) {
			t.Fatal("exactly one of ResponderName and ResponderKeyHash must be set")
		}
		for _, s := range r.Responses {
			if s.Serial == nil || s.Status < ocspcheck.Good || s.Status > ocspcheck.Unknown || s.Reason < -1 || s.Reason > 10 {
				t.Fatalf("impossible SingleResponse %+v", s)
			}
			if s.Status != ocspcheck.Revoked && (s.Reason != -1 || !s.RevokedAt.IsZero()) {
				t.Fatalf("a %v response with revocation details: %+v", s.Status, s)
			}
		}
	})
}

// diffResponses compares two parses field by field ("" when equal).
func diffResponses(a, b *ocspcheck.Response) string {
	switch {
	case a.Status != b.Status:
		return "Status"
	case !bytes.Equal(a.TBS, b.TBS), !bytes.Equal(a.ResponderName, b.ResponderName), !bytes.Equal(a.ResponderKeyHash, b.ResponderKeyHash):
		return "TBS or ResponderID"
	case !a.ProducedAt.Equal(b.ProducedAt), a.SignatureAlgorithm != b.SignatureAlgorithm, !bytes.Equal(a.Signature, b.Signature):
		return "ProducedAt, SignatureAlgorithm or Signature"
	case !reflect.DeepEqual(a.Responses, b.Responses):
		return "Responses"
	case !reflect.DeepEqual(a.Extensions, b.Extensions):
		return "Extensions"
	case len(a.Certificates) != len(b.Certificates):
		return "Certificates"
	}
	for i := range a.Certificates {
		if !a.Certificates[i].Equal(b.Certificates[i]) {
			return "Certificates"
		}
	}
	return ""
}

func FuzzCheck(f *testing.F) {
	leaf, issuer := loadFuzzPKI(f)
	for _, s := range handSeeds {
		f.Add(s)
	}
	addCorpusSeeds(f)
	optionSets := []ocspcheck.Options{
		{},
		{RejectSHA1: true, Skew: -1, MaxAge: time.Hour},
		{Nonce: nonceValue},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range optionSets {
			r, err := ocspcheck.Check(data, leaf, issuer, opts)
			if err != nil {
				var e *ocspcheck.Error
				if !errors.As(err, &e) || e.Reason < ocspcheck.Malformed || e.Reason > ocspcheck.NonceMismatch {
					t.Fatalf("Check error %v (%T) is not an *ocspcheck.Error with a known reason", err, err)
				}
				if r != nil {
					t.Fatal("Check returned a result and an error")
				}
			} else {
				if r.Single == nil || r.Single.Serial.Cmp(leaf.SerialNumber) != 0 {
					t.Fatal("Check accepted a SingleResponse for another serial")
				}
				if r.Signer == "" || r.Response == nil || r.Response.Status != ocspcheck.Successful {
					t.Fatalf("incomplete result %+v", r)
				}
				if opts.RejectSHA1 && (r.SignatureAlgorithm == x509.SHA1WithRSA || r.SignatureAlgorithm == x509.ECDSAWithSHA1) {
					t.Fatal("RejectSHA1 let a SHA-1 signature through")
				}
				_ = r.Fresh(testpki.Now, opts)
				_ = r.Expires(opts)
			}

			// Validate and the cache agree with Check, and a cache hit
			// with the miss.
			vr, verr := ocspcheck.Validate(data, leaf, issuer, testpki.Now, opts)
			vc := ocspcheck.NewVerdictCache(2)
			for i := range 2 {
				cr, _, cerr := vc.Validate(data, leaf, issuer, testpki.Now, opts)
				if fmt.Sprint(cerr) != fmt.Sprint(verr) || (cr == nil) != (vr == nil) {
					t.Fatalf("cache call %d: %v, %v; Validate: %v, %v", i, cr, cerr, vr, verr)
				}
			}
			if (err == nil) != (vr != nil) {
				t.Fatalf("Check %v but Validate returned %v, %v", err, vr, verr)
			}
		}
	})
}

// TestFuzzSeedsCheck keeps the seeds honest: the seed PKI and responses in
// testdata still mean what their names say (e.g. "good" is still good at
// Now for the seed leaf), so that the fuzzers start from deep inputs.
func TestFuzzSeedsCheck(t *testing.T) {
	t.Parallel()
	leaf, issuer := loadFuzzPKI(t)
	want := map[string]ocspcheck.Reason{
		"good": 0, "good-bykey-sha256-certid": 0, "revoked-reason": 0, "unknown-no-nextupdate": 0, "delegate": 0,
		"twenty-responses": 0, "extensions-nonce": 0, "sha1": 0,
		"delegate-no-eku": ocspcheck.UnauthorizedSigner, "conflicting": ocspcheck.Conflicting,
		"critical-unknown": ocspcheck.CriticalExtension, "corrupt-signature": ocspcheck.BadSignature,
		"stale": ocspcheck.Expired, "try-later": ocspcheck.NotSuccessful, "trailing-data": ocspcheck.Malformed,
		"truncated": ocspcheck.Malformed, "wrong-type": ocspcheck.Malformed,
	}
	for name, reason := range want {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzCheck", "seed-"+name))
		if err != nil {
			t.Errorf("%s: %v (regenerate with %s=1)", name, err, writeSeedsEnv)
			continue
		}
		der := decodeSeed(t, b)
		_, err = ocspcheck.Validate(der, leaf, issuer, testpki.Now, ocspcheck.Options{})
		if reason == 0 {
			if err != nil {
				t.Errorf("seed %s: %v, want accepted", name, err)
			}
		} else if !isReason(err, reason) {
			t.Errorf("seed %s: %v, want %v", name, err, reason)
		}
	}
}

// decodeSeed reads a one-[]byte "go test fuzz v1" file.
func decodeSeed(t *testing.T, b []byte) []byte {
	t.Helper()
	const header = "go test fuzz v1\n[]byte("
	if !bytes.HasPrefix(b, []byte(header)) || !bytes.HasSuffix(b, []byte(")\n")) {
		t.Fatalf("not a go test fuzz v1 []byte file")
	}
	s, err := strconv.Unquote(string(b[len(header) : len(b)-2]))
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return []byte(s)
}
