package ocspcheck_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/internal/x509util"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// input is what one case validates. Zero fields default to the leaf of the
// case's PKI, its intermediate, testpki.Now and the default options.
type input struct {
	der    []byte
	cert   *x509.Certificate
	issuer *x509.Certificate
	now    time.Time
	opts   ocspcheck.Options
}

type (
	setupFunc func(t *testing.T, p *testPKI) input
	checkFunc func(t *testing.T, p *testPKI, r *ocspcheck.Result, err error)
	// modFunc edits the default response of a case before it is signed.
	modFunc func(t *testing.T, p *testPKI, r *testpki.OCSPResponse)
)

type validateCase struct {
	name  string
	key   testpki.KeyType // of the intermediate that signs; ECDSA P-256 by default
	setup setupFunc
	check checkFunc
}

// respond is a setup that validates p.response() edited by mods, at Now
// with the default options.
func respond(mods ...modFunc) setupFunc {
	return func(t *testing.T, p *testPKI) input {
		r := p.response()
		for _, m := range mods {
			m(t, p, &r)
		}
		return input{der: marshal(t, r)}
	}
}

// respondWith is respond with options and a validation time.
func respondWith(opts ocspcheck.Options, now time.Time, mods ...modFunc) setupFunc {
	return func(t *testing.T, p *testPKI) input {
		in := respond(mods...)(t, p)
		in.opts, in.now = opts, now
		return in
	}
}

// editSingle edits the (first) SingleResponse.
func editSingle(f func(s *testpki.Single)) modFunc {
	return func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { f(&r.Responses[0]) }
}

// signedByDelegate has the response signed by a delegate of the intermediate
// minted with opts, included in certs, and records it in p.responder.
func signedByDelegate(opts testpki.CertOptions) modFunc {
	return func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
		p.responder = delegate(t, p.ca, opts)
		r.Signer = p.responder
		r.Certs = []*x509.Certificate{p.responder.Cert}
	}
}

// accept expects a result with the given status that is fresh, then runs the
// extra checks.
func accept(status ocspcheck.CertStatus, more ...func(t *testing.T, p *testPKI, r *ocspcheck.Result)) checkFunc {
	return func(t *testing.T, p *testPKI, r *ocspcheck.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if r == nil {
			t.Fatal("Validate returned neither a result nor an error")
		}
		if r.Status != status {
			t.Fatalf("Status = %v, want %v", r.Status, status)
		}
		if r.Single == nil || r.Response == nil {
			t.Fatal("Result.Single or Result.Response is nil")
		}
		if r.Single.Serial.Cmp(p.leaf.Cert.SerialNumber) != 0 {
			t.Errorf("Single.Serial = %v, want the leaf's %v", r.Single.Serial, p.leaf.Cert.SerialNumber)
		}
		if r.Status != r.Single.Status || !r.ThisUpdate.Equal(r.Single.ThisUpdate) || !r.NextUpdate.Equal(r.Single.NextUpdate) {
			t.Errorf("Result %+v disagrees with its Single %+v", r, r.Single)
		}
		for _, f := range more {
			f(t, p, r)
		}
	}
}

// rejectCheck expects Check to refuse the response (Validate returns no
// result).
func rejectCheck(want ocspcheck.Reason) checkFunc {
	return func(t *testing.T, _ *testPKI, r *ocspcheck.Result, err error) {
		t.Helper()
		wantReason(t, err, want)
		if r != nil {
			t.Errorf("Validate returned a result with a Check error: %+v", r)
		}
	}
}

// rejectFresh expects Check to accept the response and Fresh to refuse it
// (Validate returns the result and the error).
func rejectFresh(want ocspcheck.Reason) checkFunc {
	return func(t *testing.T, _ *testPKI, r *ocspcheck.Result, err error) {
		t.Helper()
		wantReason(t, err, want)
		if r == nil {
			t.Errorf("Validate returned no result: the error should come from Fresh, after Check accepted the response")
		}
	}
}

func signerIsIssuer(t *testing.T, _ *testPKI, r *ocspcheck.Result) {
	t.Helper()
	if r.Signer != "issuer" {
		t.Errorf("Signer = %q, want %q", r.Signer, "issuer")
	}
	if !r.SignerNotBefore.IsZero() || !r.SignerNotAfter.IsZero() {
		t.Errorf("SignerNotBefore/After = %v/%v, want zero for the issuer", r.SignerNotBefore, r.SignerNotAfter)
	}
}

func signerIsDelegate(t *testing.T, p *testPKI, r *ocspcheck.Result) {
	t.Helper()
	want := "delegated responder " + p.responder.Cert.Subject.String()
	if r.Signer != want {
		t.Errorf("Signer = %q, want %q", r.Signer, want)
	}
	if !r.SignerNotBefore.Equal(p.responder.Cert.NotBefore) || !r.SignerNotAfter.Equal(p.responder.Cert.NotAfter) {
		t.Errorf("SignerNotBefore/After = %v/%v, want the delegate's %v/%v",
			r.SignerNotBefore, r.SignerNotAfter, p.responder.Cert.NotBefore, p.responder.Cert.NotAfter)
	}
}

func times(this, next time.Time) func(*testing.T, *testPKI, *ocspcheck.Result) {
	return func(t *testing.T, _ *testPKI, r *ocspcheck.Result) {
		t.Helper()
		if !r.ThisUpdate.Equal(this) || !r.NextUpdate.Equal(next) {
			t.Errorf("ThisUpdate/NextUpdate = %v/%v, want %v/%v", r.ThisUpdate, r.NextUpdate, this, next)
		}
	}
}

func revokedAt(at time.Time, reason int) func(*testing.T, *testPKI, *ocspcheck.Result) {
	return func(t *testing.T, _ *testPKI, r *ocspcheck.Result) {
		t.Helper()
		if !r.RevokedAt.Equal(at) || r.Reason != reason {
			t.Errorf("RevokedAt/Reason = %v/%d, want %v/%d", r.RevokedAt, r.Reason, at, reason)
		}
	}
}

func sigAlg(want x509.SignatureAlgorithm) func(*testing.T, *testPKI, *ocspcheck.Result) {
	return func(t *testing.T, _ *testPKI, r *ocspcheck.Result) {
		t.Helper()
		if r.SignatureAlgorithm != want {
			t.Errorf("SignatureAlgorithm = %v, want %v", r.SignatureAlgorithm, want)
		}
	}
}

func detailContains(s string) func(*testing.T, *testPKI, *ocspcheck.Result, error) {
	return func(t *testing.T, _ *testPKI, _ *ocspcheck.Result, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

// both runs several checks.
func both(cs ...checkFunc) checkFunc {
	return func(t *testing.T, p *testPKI, r *ocspcheck.Result, err error) {
		t.Helper()
		for _, c := range cs {
			c(t, p, r, err)
		}
	}
}

func asCheck(f func(*testing.T, *testPKI, *ocspcheck.Result, error)) checkFunc { return f }

var (
	oidUnknownExt     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	oidNonce          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidCRLReferences  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 3}
	oidArchiveCutoff  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 6}
	oidExtendedRevoke = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 9}
	oidInvalidityDate = asn1.ObjectIdentifier{2, 5, 29, 24}
	oidSCTList        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 5}

	oidSHA256   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA224   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA3_256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}
)

var nonceValue = []byte("0123456789abcdef")

func mustMarshal(v any) []byte {
	der, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return der
}

func responseExts(exts ...pkix.Extension) modFunc {
	return func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.Extensions = exts }
}

func singleExts(exts ...pkix.Extension) modFunc {
	return editSingle(func(s *testpki.Single) { s.Extensions = exts })
}

// otherSingle is a SingleResponse of the intermediate for another serial.
func otherSingle(p *testPKI, serial int64, status int) testpki.Single {
	s := p.single()
	s.Cert, s.Serial, s.Status = nil, big.NewInt(serial), status
	return s
}

// hostile edits the ResponseData of a valid response: resign signs it again
// with the intermediate's key, so only the edit is wrong.
func hostile(edit func([]byte) []byte) setupFunc {
	return func(t *testing.T, p *testPKI) input {
		return input{der: resign(t, marshal(t, p.response()), p.ca.Key, edit)}
	}
}

func singleEdit(f func(elems [][]byte) [][]byte) func([]byte) []byte { return mutateSingle(0, f) }

func responseDataEdit(f func(elems [][]byte) [][]byte) func([]byte) []byte {
	return mutateResponseData(f)
}

// rawDER is a setup that validates fixed bytes.
func rawDER(der []byte) setupFunc {
	return func(*testing.T, *testPKI) input { return input{der: der} }
}

// rebuild is a setup that re-assembles a valid response from its parts with
// f editing them: the TBS, the AlgorithmIdentifier, the signature, the
// certificates, bytes appended inside BasicOCSPResponse, and the response
// type. It returns the final DER.
type parts struct {
	tbs, algID, sig []byte
	certs           [][]byte
	extraBasic      []byte
	typ             asn1.ObjectIdentifier
}

func rebuild(mods []modFunc, f func(t *testing.T, p *testPKI, pt *parts)) setupFunc {
	return func(t *testing.T, p *testPKI) input {
		der := respond(mods...)(t, p).der
		r, err := ocspcheck.Parse(der)
		if err != nil {
			t.Fatalf("parsing the original: %v", err)
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2})
		})
		pt := &parts{tbs: r.TBS, algID: b.BytesOrPanic(), sig: r.Signature, certs: rawCerts(r.Certificates), typ: oidBasic}
		if r.SignatureAlgorithm != x509.ECDSAWithSHA256 {
			t.Fatalf("rebuild expects an ECDSA-SHA256 response, got %v", r.SignatureAlgorithm)
		}
		f(t, p, pt)
		return input{der: envelope(basicResponse(pt.tbs, pt.algID, pt.sig, pt.certs, pt.extraBasic), pt.typ)}
	}
}

func validateCases() []validateCase {
	revokedTime := testpki.Now.Add(-48 * time.Hour)
	cases := []validateCase{
		// Statuses.
		{
			name:  "good",
			setup: respond(),
			check: accept(ocspcheck.Good, signerIsIssuer, times(defThisUpdate, defNextUpdate), sigAlg(x509.ECDSAWithSHA256),
				func(t *testing.T, _ *testPKI, r *ocspcheck.Result) {
					if r.Reason != -1 || !r.RevokedAt.IsZero() {
						t.Errorf("good: Reason/RevokedAt = %d/%v, want -1/zero", r.Reason, r.RevokedAt)
					}
					if !r.ProducedAt.Equal(testpki.Now) {
						t.Errorf("ProducedAt = %v, want %v", r.ProducedAt, testpki.Now)
					}
				}),
		},
		{
			name: "revoked with time and reason",
			setup: respond(editSingle(func(s *testpki.Single) {
				s.Status, s.RevokedAt, s.Reason = testpki.StatusRevoked, revokedTime, 1
			})),
			check: accept(ocspcheck.Revoked, revokedAt(revokedTime, 1)),
		},
		{
			name: "revoked without reason",
			setup: respond(editSingle(func(s *testpki.Single) {
				s.Status, s.RevokedAt, s.Reason = testpki.StatusRevoked, revokedTime, testpki.NoReason
			})),
			check: accept(ocspcheck.Revoked, revokedAt(revokedTime, -1)),
		},
		{
			name: "revoked with reason unspecified (0)",
			setup: respond(editSingle(func(s *testpki.Single) {
				s.Status, s.RevokedAt, s.Reason = testpki.StatusRevoked, revokedTime, 0
			})),
			check: accept(ocspcheck.Revoked, revokedAt(revokedTime, 0)),
		},
		{
			name: "revoked with an out-of-range reason (11)",
			setup: respond(editSingle(func(s *testpki.Single) {
				s.Status, s.Reason = testpki.StatusRevoked, 11
			})),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "unknown",
			setup: respond(editSingle(func(s *testpki.Single) { s.Status = testpki.StatusUnknown })),
			check: accept(ocspcheck.Unknown),
		},

		// CertID binding.
		{
			name:  "wrong serial",
			setup: respond(editSingle(func(s *testpki.Single) { s.Serial = new(big.Int).Add(s.Cert.SerialNumber, big.NewInt(1)) })),
			check: rejectCheck(ocspcheck.NoMatch),
		},
		{
			name:  "wrong issuer name hash",
			setup: respond(editSingle(func(s *testpki.Single) { s.IssuerNameHash = make([]byte, 20) })),
			check: both(rejectCheck(ocspcheck.NoMatch), detailContains("issuerNameHash differs")),
		},
		{
			name:  "wrong issuer key hash",
			setup: respond(editSingle(func(s *testpki.Single) { s.IssuerKeyHash = make([]byte, 20) })),
			check: both(rejectCheck(ocspcheck.NoMatch), detailContains("issuerKeyHash differs")),
		},
		{
			name: "CertID of the same serial under another CA",
			setup: func(t *testing.T, p *testPKI) input {
				other := newPKI(t, testpki.ECDSAP256)
				r := p.response()
				r.Responses[0].Issuer = other.ca.Cert
				return input{der: marshal(t, r)}
			},
			check: rejectCheck(ocspcheck.NoMatch),
		},
		{
			name: "SHA-1 hash id with SHA-256 hash values",
			setup: respond(editSingle(func(s *testpki.Single) {
				sum := sha256.Sum256(s.Issuer.RawSubject)
				s.IssuerNameHash = sum[:]
			})),
			check: rejectCheck(ocspcheck.NoMatch),
		},
		{
			name:  "CertID hash SHA-256",
			setup: respond(editSingle(func(s *testpki.Single) { s.Hash = crypto.SHA256 })),
			check: accept(ocspcheck.Good, hashIs(crypto.SHA256)),
		},
		{
			name:  "CertID hash SHA-384",
			setup: respond(editSingle(func(s *testpki.Single) { s.Hash = crypto.SHA384 })),
			check: accept(ocspcheck.Good, hashIs(crypto.SHA384)),
		},
		{
			name:  "CertID hash SHA-512",
			setup: respond(editSingle(func(s *testpki.Single) { s.Hash = crypto.SHA512 })),
			check: accept(ocspcheck.Good, hashIs(crypto.SHA512)),
		},
		{
			name:  "CertID hash SHA-1 (default)",
			setup: respond(),
			check: accept(ocspcheck.Good, hashIs(crypto.SHA1)),
		},
		{
			name:  "CertID hash unknown OID (SHA3-256)",
			setup: unknownCertIDHash(oidSHA3_256),
			check: both(rejectCheck(ocspcheck.NoMatch), detailContains("unsupported CertID hash")),
		},
		{
			name:  "CertID hash unknown OID (SHA-224)",
			setup: unknownCertIDHash(oidSHA224),
			check: both(rejectCheck(ocspcheck.NoMatch), detailContains("unsupported CertID hash")),
		},
		{
			name: "response for another certificate of the same CA",
			setup: func(t *testing.T, p *testPKI) input {
				r := p.response()
				r.Responses[0].Cert = p.issue(t).Cert
				return input{der: marshal(t, r)}
			},
			check: rejectCheck(ocspcheck.NoMatch),
		},
		{
			name: "no SingleResponse at all",
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) {
				r.Responses = nil
			}),
			check: both(rejectCheck(ocspcheck.NoMatch), detailContains("none of the 0 responses")),
		},

		// Several SingleResponses.
		{
			name: "the right one among 20",
			setup: respond(func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				var singles []testpki.Single
				for i := range 20 {
					singles = append(singles, otherSingle(p, int64(1000+i), testpki.StatusRevoked))
				}
				// Also a response for the leaf's serial under another issuer.
				decoy := p.single()
				decoy.Status, decoy.IssuerKeyHash = testpki.StatusRevoked, make([]byte, 20)
				singles[3] = decoy
				singles[13] = p.single()
				r.Responses = singles
			}),
			check: accept(ocspcheck.Good, func(t *testing.T, _ *testPKI, r *ocspcheck.Result) {
				if len(r.Response.Responses) != 20 || r.Single != &r.Response.Responses[13] {
					t.Errorf("Single is not Responses[13] of 20")
				}
			}),
		},
		{
			name:  "duplicates that agree: the latest thisUpdate wins (latest last)",
			setup: respond(duplicates(testpki.StatusGood, testpki.StatusGood, false)),
			check: accept(ocspcheck.Good, times(defThisUpdate, defNextUpdate)),
		},
		{
			name:  "duplicates that agree: the latest thisUpdate wins (latest first)",
			setup: respond(duplicates(testpki.StatusGood, testpki.StatusGood, true)),
			check: accept(ocspcheck.Good, times(defThisUpdate, defNextUpdate)),
		},
		{
			name:  "duplicates revoked at the same time",
			setup: respond(duplicates(testpki.StatusRevoked, testpki.StatusRevoked, false)),
			check: accept(ocspcheck.Revoked, times(defThisUpdate, defNextUpdate)),
		},
		{
			name:  "contradictory duplicates: good then revoked",
			setup: respond(duplicates(testpki.StatusGood, testpki.StatusRevoked, false)),
			check: rejectCheck(ocspcheck.Conflicting),
		},
		{
			name:  "contradictory duplicates: revoked then good",
			setup: respond(duplicates(testpki.StatusRevoked, testpki.StatusGood, true)),
			check: rejectCheck(ocspcheck.Conflicting),
		},
		{
			name:  "contradictory duplicates: good then unknown",
			setup: respond(duplicates(testpki.StatusGood, testpki.StatusUnknown, false)),
			check: rejectCheck(ocspcheck.Conflicting),
		},
		{
			name: "contradictory duplicates: revoked at different times",
			setup: respond(duplicates(testpki.StatusRevoked, testpki.StatusRevoked, false), func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) {
				r.Responses[0].RevokedAt, r.Responses[1].RevokedAt = revokedTime, revokedTime.Add(-time.Hour)
			}),
			check: rejectCheck(ocspcheck.Conflicting),
		},
		{
			name: "contradiction after an agreeing pair",
			setup: respond(duplicates(testpki.StatusGood, testpki.StatusGood, false), func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				s := p.single()
				s.Status = testpki.StatusRevoked
				r.Responses = append(r.Responses, s)
			}),
			check: rejectCheck(ocspcheck.Conflicting),
		},

		// Responder authorisation (RFC 6960 4.2.2.2).
		{
			name:  "issuer byName",
			setup: respond(),
			check: accept(ocspcheck.Good, signerIsIssuer, responderIs(false)),
		},
		{
			name:  "issuer byKey",
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.ByKey = true }),
			check: accept(ocspcheck.Good, signerIsIssuer, responderIs(true)),
		},
		{
			name: "issuer including its own certificate",
			setup: respond(func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.Certs = []*x509.Certificate{p.ca.Cert}
			}),
			check: accept(ocspcheck.Good, signerIsIssuer),
		},
		{
			name: "issuer byKey including its own certificate and its root",
			setup: respond(func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.ByKey = true
				r.Certs = []*x509.Certificate{p.root.Cert, p.ca.Cert}
			}),
			check: accept(ocspcheck.Good, signerIsIssuer),
		},
		{
			name:  "delegate byName",
			setup: respond(signedByDelegate(testpki.CertOptions{})),
			check: accept(ocspcheck.Good, signerIsDelegate, responderIs(false)),
		},
		{
			name: "delegate byKey",
			setup: respond(signedByDelegate(testpki.CertOptions{}), func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) {
				r.ByKey = true
			}),
			check: accept(ocspcheck.Good, signerIsDelegate, responderIs(true)),
		},
		{
			name: "delegate found among other certificates",
			setup: respond(signedByDelegate(testpki.CertOptions{}), func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.Certs = []*x509.Certificate{p.leaf.Cert, p.root.Cert, p.responder.Cert, p.ca.Cert}
			}),
			check: accept(ocspcheck.Good, signerIsDelegate),
		},
		{
			name: "delegate with an RSA key under an ECDSA issuer",
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				// A key from testpki's shared pool: any key but the
				// issuer's will do, and the issuer's is ECDSA.
				signedByDelegate(testpki.CertOptions{Signer: testpki.Must(testpki.NewKey(testpki.RSA2048))})(t, p, r)
			}),
			check: accept(ocspcheck.Good, signerIsDelegate, sigAlg(x509.SHA256WithRSA)),
		},
		{
			name:  "delegate without the OCSPSigning EKU (no EKU at all)",
			setup: respond(signedByDelegate(testpki.CertOptions{ExtKeyUsage: []x509.ExtKeyUsage{}})),
			check: both(rejectCheck(ocspcheck.UnauthorizedSigner), detailContains("lacks the id-kp-OCSPSigning")),
		},
		{
			name:  "delegate with serverAuth instead of OCSPSigning",
			setup: respond(signedByDelegate(testpki.CertOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name:  "delegate with anyExtendedKeyUsage only",
			setup: respond(signedByDelegate(testpki.CertOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name: "delegate issued by a different CA",
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				otherRoot := must(t)(testpki.NewRoot(testpki.CertOptions{CommonName: "Other Root CA", Signer: freshKey(t, testpki.ECDSAP256)}))
				otherCA := must(t)(otherRoot.NewIntermediate(testpki.CertOptions{CommonName: "Other CA", Signer: freshKey(t, testpki.ECDSAP256)}))
				d := delegate(t, otherCA, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}),
			check: both(rejectCheck(ocspcheck.UnauthorizedSigner), detailContains("is not issued by")),
		},
		{
			name: "delegate issued by a CA with the same name but another key",
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				impostor := must(t)(p.root.NewIntermediate(testpki.CertOptions{
					Subject: &p.ca.Cert.Subject, Signer: freshKey(t, testpki.ECDSAP256),
				}))
				d := delegate(t, impostor, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}),
			check: both(rejectCheck(ocspcheck.UnauthorizedSigner), detailContains("does not carry a valid signature")),
		},
		{
			name: "delegate issued by a same-named CA under another root",
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				otherRoot := must(t)(testpki.NewRoot(testpki.CertOptions{Subject: &p.root.Cert.Subject, Signer: freshKey(t, testpki.ECDSAP256)}))
				impostor := must(t)(otherRoot.NewIntermediate(testpki.CertOptions{
					Subject: &p.ca.Cert.Subject, Signer: freshKey(t, testpki.ECDSAP256),
				}))
				d := delegate(t, impostor, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name: "delegate issued by a sibling intermediate",
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				sibling := must(t)(p.root.NewIntermediate(testpki.CertOptions{CommonName: "Sibling CA", Signer: freshKey(t, testpki.ECDSAP256)}))
				d := delegate(t, sibling, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert}
			}),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name: "delegate issued by the issuer's own root",
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				d := delegate(t, p.root, testpki.CertOptions{})
				r.Signer, r.Certs = d, []*x509.Certificate{d.Cert, p.root.Cert}
			}),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name: "the root signs for the intermediate's leaf",
			setup: respond(func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.Signer, r.Certs = p.root, []*x509.Certificate{p.root.Cert}
			}),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name: "the leaf signs its own response",
			setup: respond(func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.Signer, r.Certs = p.leaf, []*x509.Certificate{p.leaf.Cert}
			}),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name: "delegate not included in certs",
			setup: respond(signedByDelegate(testpki.CertOptions{}), func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) {
				r.Certs = nil
			}),
			check: both(rejectCheck(ocspcheck.UnauthorizedSigner), detailContains("names neither the issuer nor a certificate")),
		},
		{
			name: "delegate byKey not included in certs",
			setup: respond(signedByDelegate(testpki.CertOptions{}), func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.ByKey, r.Certs = true, []*x509.Certificate{p.ca.Cert}
			}),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name: "ResponderID names a stranger",
			setup: respond(signedByDelegate(testpki.CertOptions{}), func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.ResponderName = p.root.Cert.RawSubject
			}),
			check: rejectCheck(ocspcheck.UnauthorizedSigner),
		},
		{
			name: "unrelated key, ResponderID byName naming the issuer",
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.Signer = &testpki.Cert{Cert: p.ca.Cert, Key: freshKey(t, testpki.ECDSAP256)}
			}),
			check: both(rejectCheck(ocspcheck.BadSignature), detailContains("with the issuer key")),
		},
		{
			name: "unrelated key, ResponderID byKey naming the issuer",
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.Signer = &testpki.Cert{Cert: p.ca.Cert, Key: freshKey(t, testpki.ECDSAP256)}
				r.ByKey = true
			}),
			check: rejectCheck(ocspcheck.BadSignature),
		},
		{
			name: "a valid delegate signs but the ResponderID names the issuer",
			setup: respond(signedByDelegate(testpki.CertOptions{}), func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				r.Signer = &testpki.Cert{Cert: p.ca.Cert, Key: p.responder.Key}
			}),
			check: rejectCheck(ocspcheck.BadSignature),
		},
		{
			name:  "corrupt signature (issuer)",
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.CorruptSignature = true }),
			check: rejectCheck(ocspcheck.BadSignature),
		},
		{
			name: "corrupt signature (delegate)",
			setup: respond(signedByDelegate(testpki.CertOptions{}), func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) {
				r.CorruptSignature = true
			}),
			check: both(rejectCheck(ocspcheck.BadSignature), detailContains("delegated responder")),
		},
		{
			name:  "delegate expired",
			setup: respond(signedByDelegate(testpki.CertOptions{NotBefore: testpki.Now.AddDate(0, -1, 0), NotAfter: testpki.Now.Add(-time.Hour)})),
			check: rejectFresh(ocspcheck.Expired),
		},
		{
			name:  "delegate expired less than the skew ago",
			setup: respond(signedByDelegate(testpki.CertOptions{NotBefore: testpki.Now.AddDate(0, -1, 0), NotAfter: testpki.Now.Add(-4 * time.Minute)})),
			check: accept(ocspcheck.Good, signerIsDelegate),
		},
		{
			name:  "delegate not yet valid",
			setup: respond(signedByDelegate(testpki.CertOptions{NotBefore: testpki.Now.Add(time.Hour)})),
			check: rejectFresh(ocspcheck.NotYetValid),
		},
		{
			name:  "delegate valid in less than the skew",
			setup: respond(signedByDelegate(testpki.CertOptions{NotBefore: testpki.Now.Add(4 * time.Minute)})),
			check: accept(ocspcheck.Good, signerIsDelegate),
		},

		// Freshness (default skew 5 minutes, default max age 24 hours).
		{
			name:  "thisUpdate in the future beyond the skew",
			setup: respond(editSingle(func(s *testpki.Single) { s.ThisUpdate = testpki.Now.Add(10 * time.Minute) })),
			check: rejectFresh(ocspcheck.NotYetValid),
		},
		{
			name:  "thisUpdate in the future within the skew",
			setup: respond(editSingle(func(s *testpki.Single) { s.ThisUpdate = testpki.Now.Add(4 * time.Minute) })),
			check: accept(ocspcheck.Good),
		},
		{
			name: "nextUpdate passed",
			setup: respond(editSingle(func(s *testpki.Single) {
				s.ThisUpdate, s.NextUpdate = testpki.Now.Add(-48*time.Hour), testpki.Now.Add(-time.Hour)
			})),
			check: rejectFresh(ocspcheck.Expired),
		},
		{
			name:  "nextUpdate passed by less than the skew",
			setup: respond(editSingle(func(s *testpki.Single) { s.NextUpdate = testpki.Now.Add(-4 * time.Minute) })),
			check: accept(ocspcheck.Good),
		},
		{
			name:  "no nextUpdate, thisUpdate older than the max age",
			setup: respond(editSingle(func(s *testpki.Single) { s.ThisUpdate, s.NextUpdate = testpki.Now.Add(-25*time.Hour), time.Time{} })),
			check: rejectFresh(ocspcheck.TooOld),
		},
		{
			name:  "no nextUpdate, thisUpdate within the max age",
			setup: respond(editSingle(func(s *testpki.Single) { s.ThisUpdate, s.NextUpdate = testpki.Now.Add(-23*time.Hour), time.Time{} })),
			check: accept(ocspcheck.Good, times(testpki.Now.Add(-23*time.Hour), time.Time{})),
		},
		{
			name:  "the max age does not apply when nextUpdate is present",
			setup: respond(editSingle(func(s *testpki.Single) { s.ThisUpdate = testpki.Now.Add(-30 * 24 * time.Hour) })),
			check: accept(ocspcheck.Good),
		},
		{
			name: "custom skew of 1 minute: thisUpdate 2 minutes ahead",
			setup: respondWith(ocspcheck.Options{Skew: time.Minute}, testpki.Now,
				editSingle(func(s *testpki.Single) { s.ThisUpdate = testpki.Now.Add(2 * time.Minute) })),
			check: rejectFresh(ocspcheck.NotYetValid),
		},
		{
			name: "custom skew of 1 hour: thisUpdate 30 minutes ahead",
			setup: respondWith(ocspcheck.Options{Skew: time.Hour}, testpki.Now,
				editSingle(func(s *testpki.Single) { s.ThisUpdate = testpki.Now.Add(30 * time.Minute) })),
			check: accept(ocspcheck.Good),
		},
		{
			name: "custom skew of 1 hour: nextUpdate 30 minutes ago",
			setup: respondWith(ocspcheck.Options{Skew: time.Hour}, testpki.Now,
				editSingle(func(s *testpki.Single) { s.NextUpdate = testpki.Now.Add(-30 * time.Minute) })),
			check: accept(ocspcheck.Good),
		},
		{
			name: "custom skew of 1 minute: nextUpdate 2 minutes ago",
			setup: respondWith(ocspcheck.Options{Skew: time.Minute}, testpki.Now,
				editSingle(func(s *testpki.Single) { s.NextUpdate = testpki.Now.Add(-2 * time.Minute) })),
			check: rejectFresh(ocspcheck.Expired),
		},
		{
			name: "custom max age of 1 hour",
			setup: respondWith(ocspcheck.Options{MaxAge: time.Hour}, testpki.Now,
				editSingle(func(s *testpki.Single) { s.ThisUpdate, s.NextUpdate = testpki.Now.Add(-2*time.Hour), time.Time{} })),
			check: rejectFresh(ocspcheck.TooOld),
		},
		{
			name: "custom max age of 72 hours",
			setup: respondWith(ocspcheck.Options{MaxAge: 72 * time.Hour}, testpki.Now,
				editSingle(func(s *testpki.Single) { s.ThisUpdate, s.NextUpdate = testpki.Now.Add(-48*time.Hour), time.Time{} })),
			check: accept(ocspcheck.Good),
		},
		{
			name: "negative skew means none: thisUpdate 1 second ahead",
			setup: respondWith(ocspcheck.Options{Skew: -1}, testpki.Now,
				editSingle(func(s *testpki.Single) { s.ThisUpdate = testpki.Now.Add(time.Second) })),
			check: rejectFresh(ocspcheck.NotYetValid),
		},
		{
			name: "negative skew means none: nextUpdate 1 second ago",
			setup: respondWith(ocspcheck.Options{Skew: -1}, testpki.Now,
				editSingle(func(s *testpki.Single) { s.NextUpdate = testpki.Now.Add(-time.Second) })),
			check: rejectFresh(ocspcheck.Expired),
		},
		{
			name: "negative skew means none: delegate expired 1 second ago",
			setup: respondWith(ocspcheck.Options{Skew: -1}, testpki.Now,
				signedByDelegate(testpki.CertOptions{NotBefore: testpki.Now.AddDate(0, -1, 0), NotAfter: testpki.Now.Add(-time.Second)})),
			check: rejectFresh(ocspcheck.Expired),
		},
		{
			name:  "validated a week later",
			setup: respondWith(ocspcheck.Options{}, defNextUpdate.Add(6*time.Minute)),
			check: rejectFresh(ocspcheck.Expired),
		},

		// SHA-1.
		{
			name:  "SHA-1 signed response accepted by default",
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA1 }),
			check: accept(ocspcheck.Good, sigAlg(x509.ECDSAWithSHA1)),
		},
		{
			name: "SHA-1 signed response refused with RejectSHA1",
			setup: respondWith(ocspcheck.Options{RejectSHA1: true}, testpki.Now,
				func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA1 }),
			check: rejectCheck(ocspcheck.WeakAlgorithm),
		},
		{
			name:  "RSA SHA-1 signed response accepted by default",
			key:   testpki.RSA2048,
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA1 }),
			check: accept(ocspcheck.Good, sigAlg(x509.SHA1WithRSA)),
		},
		{
			name: "RSA SHA-1 signed response refused with RejectSHA1",
			key:  testpki.RSA2048,
			setup: respondWith(ocspcheck.Options{RejectSHA1: true}, testpki.Now,
				func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA1 }),
			check: rejectCheck(ocspcheck.WeakAlgorithm),
		},
		{
			name:  "SHA-256 signed response accepted with RejectSHA1",
			setup: respondWith(ocspcheck.Options{RejectSHA1: true}, testpki.Now),
			check: accept(ocspcheck.Good),
		},
		{
			name:  "delegate certificate signed with SHA-1 accepted by default",
			setup: respond(signedByDelegate(testpki.CertOptions{SignatureAlgorithm: x509.ECDSAWithSHA1})),
			check: accept(ocspcheck.Good, signerIsDelegate, delegateSignedWith(x509.ECDSAWithSHA1)),
		},
		{
			name: "delegate certificate signed with SHA-1 refused with RejectSHA1",
			setup: respondWith(ocspcheck.Options{RejectSHA1: true}, testpki.Now,
				signedByDelegate(testpki.CertOptions{SignatureAlgorithm: x509.ECDSAWithSHA1})),
			check: both(rejectCheck(ocspcheck.WeakAlgorithm), detailContains("delegated responder")),
		},

		// Signature algorithms.
		{
			name:  "ECDSA P-256 SHA-384",
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA384 }),
			check: accept(ocspcheck.Good, sigAlg(x509.ECDSAWithSHA384)),
		},
		{
			name:  "ECDSA P-384 SHA-384",
			key:   testpki.ECDSAP384,
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA384 }),
			check: accept(ocspcheck.Good, sigAlg(x509.ECDSAWithSHA384)),
		},
		{
			name:  "ECDSA P-384 SHA-512",
			key:   testpki.ECDSAP384,
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA512 }),
			check: accept(ocspcheck.Good, sigAlg(x509.ECDSAWithSHA512)),
		},
		{
			name:  "RSA SHA-256",
			key:   testpki.RSA2048,
			setup: respond(),
			check: accept(ocspcheck.Good, sigAlg(x509.SHA256WithRSA)),
		},
		{
			name:  "RSA SHA-384 byKey",
			key:   testpki.RSA2048,
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash, r.ByKey = crypto.SHA384, true }),
			check: accept(ocspcheck.Good, sigAlg(x509.SHA384WithRSA)),
		},
		{
			name:  "RSA SHA-512",
			key:   testpki.RSA2048,
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.SigHash = crypto.SHA512 }),
			check: accept(ocspcheck.Good, sigAlg(x509.SHA512WithRSA)),
		},
		{
			name:  "RSA-PSS SHA-256",
			key:   testpki.RSA2048,
			setup: pssResponse(crypto.SHA256, 32),
			check: accept(ocspcheck.Good, sigAlg(x509.SHA256WithRSAPSS)),
		},
		{
			name:  "RSA-PSS SHA-512",
			key:   testpki.RSA2048,
			setup: pssResponse(crypto.SHA512, 64),
			check: accept(ocspcheck.Good, sigAlg(x509.SHA512WithRSAPSS)),
		},
		{
			name:  "RSA-PSS with a salt length crypto/x509 does not support",
			key:   testpki.RSA2048,
			setup: pssResponse(crypto.SHA256, 20),
			check: rejectCheck(ocspcheck.WeakAlgorithm),
		},
		{
			name:  "RSA-PSS signature labelled PKCS #1 v1.5",
			key:   testpki.RSA2048,
			setup: pssResponseLabelled(crypto.SHA256, 32, rsaSHA256AlgID()),
			check: rejectCheck(ocspcheck.BadSignature),
		},
		{
			name:  "Ed25519",
			key:   testpki.Ed25519,
			setup: respond(),
			check: accept(ocspcheck.Good, sigAlg(x509.PureEd25519)),
		},
		{
			name: "Ed25519 delegate byKey",
			key:  testpki.Ed25519,
			setup: respond(func(t *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				signedByDelegate(testpki.CertOptions{Signer: freshKey(t, testpki.Ed25519)})(t, p, r)
				r.ByKey = true
			}),
			check: accept(ocspcheck.Good, signerIsDelegate, sigAlg(x509.PureEd25519)),
		},
		{
			name: "ECDSA signature labelled RSA",
			setup: rebuild(nil, func(_ *testing.T, _ *testPKI, pt *parts) {
				pt.algID = rsaSHA256AlgID()
			}),
			check: rejectCheck(ocspcheck.BadSignature),
		},
		{
			name: "MD5 with RSA",
			setup: rebuild(nil, func(_ *testing.T, _ *testPKI, pt *parts) {
				pt.algID = algID(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, true)
			}),
			check: both(rejectCheck(ocspcheck.WeakAlgorithm), isUnsupported),
		},
		{
			name: "unknown signature algorithm",
			setup: rebuild(nil, func(_ *testing.T, _ *testPKI, pt *parts) {
				pt.algID = algID(asn1.ObjectIdentifier{1, 2, 3, 4}, false)
			}),
			check: both(rejectCheck(ocspcheck.WeakAlgorithm), isUnsupported),
		},

		// Extensions.
		{
			name:  "unknown critical response extension",
			setup: respond(responseExts(pkix.Extension{Id: oidUnknownExt, Critical: true, Value: []byte{5, 0}})),
			check: both(rejectCheck(ocspcheck.CriticalExtension), detailContains("response extension 1.3.6.1.4.1.99999.1")),
		},
		{
			name:  "unknown critical single extension",
			setup: respond(singleExts(pkix.Extension{Id: oidUnknownExt, Critical: true, Value: []byte{5, 0}})),
			check: both(rejectCheck(ocspcheck.CriticalExtension), detailContains("single response extension")),
		},
		{
			name: "unknown non-critical extensions are ignored",
			setup: respond(
				responseExts(pkix.Extension{Id: oidUnknownExt, Value: []byte{5, 0}}),
				singleExts(pkix.Extension{Id: oidUnknownExt, Value: []byte{5, 0}}),
			),
			check: accept(ocspcheck.Good, func(t *testing.T, _ *testPKI, r *ocspcheck.Result) {
				if len(r.Response.Extensions) != 1 || !r.Response.Extensions[0].Id.Equal(oidUnknownExt) ||
					len(r.Single.Extensions) != 1 || !r.Single.Extensions[0].Id.Equal(oidUnknownExt) {
					t.Errorf("extensions not reported: %v / %v", r.Response.Extensions, r.Single.Extensions)
				}
			}),
		},
		{
			name: "known critical extensions are accepted",
			setup: respond(
				responseExts(
					pkix.Extension{Id: oidNonce, Critical: true, Value: mustMarshal(nonceValue)},
					pkix.Extension{Id: oidExtendedRevoke, Critical: true, Value: []byte{5, 0}},
					pkix.Extension{Id: oidCRLReferences, Critical: true, Value: []byte{0x30, 0}},
				),
				singleExts(
					pkix.Extension{Id: oidArchiveCutoff, Critical: true, Value: mustMarshal(testpki.Now.AddDate(-1, 0, 0))},
					pkix.Extension{Id: oidInvalidityDate, Critical: true, Value: mustMarshal(testpki.Now.AddDate(0, 0, -3))},
					pkix.Extension{Id: oidSCTList, Critical: true, Value: []byte{4, 0}},
				),
			),
			check: accept(ocspcheck.Good),
		},
		{
			name: "unknown critical extension in another certificate's SingleResponse",
			setup: respond(func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
				s := otherSingle(p, 7, testpki.StatusGood)
				s.Extensions = []pkix.Extension{{Id: oidUnknownExt, Critical: true, Value: []byte{5, 0}}}
				r.Responses = append(r.Responses, s)
			}),
			// Only the extensions of the SingleResponse that is used are
			// judged; see the package report.
			check: accept(ocspcheck.Good),
		},

		// Nonce.
		{
			name: "nonce echoed as an OCTET STRING",
			setup: respondWith(ocspcheck.Options{Nonce: nonceValue}, testpki.Now,
				responseExts(pkix.Extension{Id: oidNonce, Value: mustMarshal(nonceValue)})),
			check: accept(ocspcheck.Good),
		},
		{
			name: "nonce echoed raw",
			setup: respondWith(ocspcheck.Options{Nonce: nonceValue}, testpki.Now,
				responseExts(pkix.Extension{Id: oidNonce, Value: nonceValue})),
			check: accept(ocspcheck.Good),
		},
		{
			name: "nonce among other extensions",
			setup: respondWith(ocspcheck.Options{Nonce: nonceValue}, testpki.Now,
				responseExts(pkix.Extension{Id: oidUnknownExt, Value: []byte{5, 0}}, pkix.Extension{Id: oidNonce, Value: mustMarshal(nonceValue)})),
			check: accept(ocspcheck.Good),
		},
		{
			name:  "nonce missing",
			setup: respondWith(ocspcheck.Options{Nonce: nonceValue}, testpki.Now),
			check: both(rejectCheck(ocspcheck.NonceMismatch), detailContains("carries none")),
		},
		{
			name: "nonce different",
			setup: respondWith(ocspcheck.Options{Nonce: nonceValue}, testpki.Now,
				responseExts(pkix.Extension{Id: oidNonce, Value: mustMarshal([]byte("fedcba9876543210"))})),
			check: both(rejectCheck(ocspcheck.NonceMismatch), detailContains("different nonce")),
		},
		{
			name: "nonce truncated",
			setup: respondWith(ocspcheck.Options{Nonce: nonceValue}, testpki.Now,
				responseExts(pkix.Extension{Id: oidNonce, Value: mustMarshal(nonceValue[:8])})),
			check: rejectCheck(ocspcheck.NonceMismatch),
		},
		{
			name: "nonce only in the SingleResponse",
			setup: respondWith(ocspcheck.Options{Nonce: nonceValue}, testpki.Now,
				singleExts(pkix.Extension{Id: oidNonce, Value: mustMarshal(nonceValue)})),
			check: rejectCheck(ocspcheck.NonceMismatch),
		},
		{
			name:  "a nonce in the response is fine when none was sent",
			setup: respond(responseExts(pkix.Extension{Id: oidNonce, Value: mustMarshal(nonceValue)})),
			check: accept(ocspcheck.Good),
		},

		// Malformed inputs.
		{name: "nil", setup: rawDER(nil), check: rejectCheck(ocspcheck.Malformed)},
		{name: "empty", setup: rawDER([]byte{}), check: rejectCheck(ocspcheck.Malformed)},
		{name: "garbage", setup: rawDER([]byte("HTTP/1.1 200 OK\r\n\r\n<html>")), check: rejectCheck(ocspcheck.Malformed)},
		{name: "empty SEQUENCE", setup: rawDER([]byte{0x30, 0x00}), check: rejectCheck(ocspcheck.Malformed)},
		{name: "indefinite length", setup: rawDER([]byte{0x30, 0x80, 0x0a, 0x01, 0x00, 0x00, 0x00}), check: rejectCheck(ocspcheck.Malformed)},
		{name: "successful without responseBytes", setup: rawDER([]byte{0x30, 0x03, 0x0a, 0x01, 0x00}), check: rejectCheck(ocspcheck.Malformed)},
		{
			name: "PEM instead of DER",
			setup: func(t *testing.T, p *testPKI) input {
				return input{der: []byte("-----BEGIN OCSP RESPONSE-----\nMAMKAQA=\n-----END OCSP RESPONSE-----\n")}
			},
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "trailing data after the response",
			setup: func(t *testing.T, p *testPKI) input {
				return input{der: append(marshal(t, p.response()), 0x00)}
			},
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "a second response appended",
			setup: func(t *testing.T, p *testPKI) input {
				der := marshal(t, p.response())
				return input{der: append(der, der...)}
			},
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "trailing data inside BasicOCSPResponse",
			setup: rebuild(nil, func(_ *testing.T, _ *testPKI, pt *parts) {
				pt.extraBasic = []byte{0x05, 0x00}
			}),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "trailing data inside responseBytes",
			setup: func(t *testing.T, p *testPKI) input {
				der := marshal(t, p.response())
				r, _ := ocspcheck.Parse(der)
				basic := basicResponse(r.TBS, rsaOrECDSAAlgID(r), r.Signature, nil, nil)
				var b cryptobyte.Builder
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Enum(0)
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidBasic)
							b.AddASN1OctetString(basic)
							b.AddASN1NULL()
						})
					})
				})
				return input{der: b.BytesOrPanic()}
			},
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "trailing data inside OCSPResponse after responseBytes",
			setup: func(t *testing.T, p *testPKI) input {
				der := marshal(t, p.response())
				return input{der: seq(append(seqContents(der), 0x05, 0x00))}
			},
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "wrong response type OID",
			setup: rebuild(nil, func(_ *testing.T, _ *testPKI, pt *parts) {
				pt.typ = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 99}
			}),
			check: both(rejectCheck(ocspcheck.Malformed), detailContains("unsupported OCSP response type")),
		},
		{
			name: "BasicOCSPResponse is not a SEQUENCE",
			setup: func(t *testing.T, p *testPKI) input {
				return input{der: envelope([]byte{0x04, 0x01, 0x00}, oidBasic)}
			},
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "garbage in certs",
			setup: rebuild(nil, func(_ *testing.T, _ *testPKI, pt *parts) {
				pt.certs = [][]byte{{0x30, 0x03, 0x02, 0x01, 0x01}}
			}),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "signature with unused bits",
			setup: func(t *testing.T, p *testPKI) input {
				der := marshal(t, p.response())
				r, _ := ocspcheck.Parse(der)
				var b cryptobyte.Builder
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddBytes(r.TBS)
					b.AddBytes(rsaOrECDSAAlgID(r))
					b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
						b.AddUint8(1)
						b.AddBytes(r.Signature[:len(r.Signature)-1])
						b.AddUint8(r.Signature[len(r.Signature)-1] &^ 1)
					})
				})
				return input{der: envelope(b.BytesOrPanic(), oidBasic)}
			},
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "version v2",
			setup: hostile(responseDataEdit(func(e [][]byte) [][]byte {
				return append([][]byte{{0xa0, 0x03, 0x02, 0x01, 0x01}}, e...)
			})),
			check: both(rejectCheck(ocspcheck.Malformed), detailContains("version")),
		},
		{
			name: "version v1 written out",
			setup: hostile(responseDataEdit(func(e [][]byte) [][]byte {
				return append([][]byte{{0xa0, 0x03, 0x02, 0x01, 0x00}}, e...)
			})),
			check: accept(ocspcheck.Good),
		},
		{
			name:  "ResponderID with an unknown tag",
			setup: hostile(responseDataEdit(func(e [][]byte) [][]byte { e[0][0] = 0xa3; return e })),
			check: both(rejectCheck(ocspcheck.Malformed), detailContains("responderID")),
		},
		{
			name:  "producedAt as UTCTime",
			setup: hostile(responseDataEdit(func(e [][]byte) [][]byte { e[1] = mustMarshal(testpki.Now); return e })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "trailing data inside ResponseData",
			setup: hostile(responseDataEdit(func(e [][]byte) [][]byte { return append(e, []byte{0x05, 0x00}) })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "good with content",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { e[1] = []byte{0x80, 0x01, 0x00}; return e })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "unknown with content",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { e[1] = []byte{0x82, 0x01, 0x00}; return e })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "certStatus with an unknown tag",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { e[1] = []byte{0x83, 0x00}; return e })),
			check: both(rejectCheck(ocspcheck.Malformed), detailContains("certStatus")),
		},
		{
			name:  "revoked without revocationTime",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { e[1] = []byte{0xa1, 0x00}; return e })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "RevokedInfo with trailing data",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte {
				var b cryptobyte.Builder
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(revokedTime)
					b.AddASN1NULL()
				})
				e[1] = b.BytesOrPanic()
				return e
			})),
			check: both(rejectCheck(ocspcheck.Malformed), detailContains("RevokedInfo")),
		},
		{
			name: "revocationReason not ENUMERATED",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte {
				var b cryptobyte.Builder
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(revokedTime)
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(1) })
				})
				e[1] = b.BytesOrPanic()
				return e
			})),
			check: both(rejectCheck(ocspcheck.Malformed), detailContains("revocationReason")),
		},
		{
			name:  "thisUpdate as UTCTime",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { e[2] = mustMarshal(testpki.Now); return e })),
			check: both(rejectCheck(ocspcheck.Malformed), detailContains("thisUpdate")),
		},
		{
			name: "thisUpdate with fractional seconds",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte {
				e[2] = append([]byte{0x18, 0x13}, "20260115110000.500Z"...)
				return e
			})),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "nextUpdate without its explicit tag",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { e[3] = e[3][2:]; return e })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "trailing data inside SingleResponse",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { return append(e, []byte{0x05, 0x00}) })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "CertID with trailing data",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { e[0] = seq(append(seqContents(e[0]), 0x05, 0x00)); return e })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name:  "CertID serial is not an INTEGER",
			setup: hostile(singleEdit(func(e [][]byte) [][]byte { e[0] = replaceSerialTag(e[0]); return e })),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "extensions not a SEQUENCE OF",
			setup: hostile(responseDataEdit(func(e [][]byte) [][]byte {
				return append(e, []byte{0xa1, 0x02, 0x05, 0x00})
			})),
			check: rejectCheck(ocspcheck.Malformed),
		},
		{
			name: "extension with a non-BOOLEAN critical",
			setup: hostile(responseDataEdit(func(e [][]byte) [][]byte {
				ext := seq(append(append(oidDER(oidUnknownExt), 0x02, 0x01, 0x01), 0x04, 0x00))
				return append(e, append([]byte{0xa1, byte(len(ext) + 2)}, seq(ext)...))
			})),
			check: rejectCheck(ocspcheck.Malformed),
		},
	}

	// Every response status but successful.
	for _, st := range []ocspcheck.ResponseStatus{ocspcheck.MalformedRequest, ocspcheck.InternalError, ocspcheck.TryLater, 4, ocspcheck.SigRequired, ocspcheck.Unauthorized} {
		cases = append(cases, validateCase{
			name:  "responseStatus " + st.String(),
			setup: respond(func(_ *testing.T, _ *testPKI, r *testpki.OCSPResponse) { r.Status = int(st) }),
			check: both(rejectCheck(ocspcheck.NotSuccessful), detailContains("responder answered "+st.String())),
		})
	}
	// Every revocation reason.
	for reason := 0; reason <= 10; reason++ {
		cases = append(cases, validateCase{
			name: "revoked with reason " + big.NewInt(int64(reason)).String(),
			setup: respond(editSingle(func(s *testpki.Single) {
				s.Status, s.RevokedAt, s.Reason = testpki.StatusRevoked, revokedTime, reason
			})),
			check: accept(ocspcheck.Revoked, revokedAt(revokedTime, reason)),
		})
	}
	return cases
}

func replaceSerialTag(certID []byte) []byte {
	elems := elements(seqContents(certID))
	last := elems[len(elems)-1]
	last = append([]byte{0x04}, last[1:]...) // INTEGER -> OCTET STRING
	elems[len(elems)-1] = last
	var out []byte
	for _, e := range elems {
		out = append(out, e...)
	}
	return seq(out)
}

func hashIs(h crypto.Hash) func(*testing.T, *testPKI, *ocspcheck.Result) {
	return func(t *testing.T, _ *testPKI, r *ocspcheck.Result) {
		t.Helper()
		if r.Single.HashAlgorithm != h {
			t.Errorf("Single.HashAlgorithm = %v, want %v", r.Single.HashAlgorithm, h)
		}
		if oid, _ := x509util.HashOID(h); !r.Single.HashOID.Equal(oid) {
			t.Errorf("Single.HashOID = %v, want %v", r.Single.HashOID, oid)
		}
	}
}

func responderIs(byKey bool) func(*testing.T, *testPKI, *ocspcheck.Result) {
	return func(t *testing.T, p *testPKI, r *ocspcheck.Result) {
		t.Helper()
		signer := p.ca.Cert
		if p.responder != nil {
			signer = p.responder.Cert
		}
		kh, _ := x509util.KeyHashSHA1(signer)
		switch {
		case byKey && (r.Response.ResponderName != nil || string(r.Response.ResponderKeyHash) != string(kh)):
			t.Errorf("ResponderID: name %x key hash %x, want key hash %x", r.Response.ResponderName, r.Response.ResponderKeyHash, kh)
		case !byKey && (r.Response.ResponderKeyHash != nil || string(r.Response.ResponderName) != string(signer.RawSubject)):
			t.Errorf("ResponderID: name %x key hash %x, want name %x", r.Response.ResponderName, r.Response.ResponderKeyHash, signer.RawSubject)
		}
	}
}

func delegateSignedWith(alg x509.SignatureAlgorithm) func(*testing.T, *testPKI, *ocspcheck.Result) {
	return func(t *testing.T, p *testPKI, _ *ocspcheck.Result) {
		t.Helper()
		if p.responder.Cert.SignatureAlgorithm != alg {
			t.Fatalf("the delegate is signed with %v, want %v: the test did not build what it means to", p.responder.Cert.SignatureAlgorithm, alg)
		}
	}
}

var isUnsupported = asCheck(func(t *testing.T, _ *testPKI, _ *ocspcheck.Result, err error) {
	t.Helper()
	if !errors.Is(err, x509util.ErrUnsupportedAlgorithm) {
		t.Errorf("error %q does not wrap x509util.ErrUnsupportedAlgorithm", err)
	}
})

// duplicates puts two SingleResponses for the leaf in the response, with
// statuses a and b. One has the default times, the other is an hour older:
// the first, or with latestFirst the second.
func duplicates(a, b int, latestFirst bool) modFunc {
	return func(_ *testing.T, p *testPKI, r *testpki.OCSPResponse) {
		older := p.single()
		older.ThisUpdate, older.NextUpdate = defThisUpdate.Add(-time.Hour), defNextUpdate.Add(-time.Hour)
		newer := p.single()
		first, second := older, newer
		if latestFirst {
			first, second = newer, older
		}
		first.Status, second.Status = a, b
		r.Responses = []testpki.Single{first, second}
	}
}

// unknownCertIDHash builds a SHA-256 CertID and relabels its hash OID with
// another of the same length, signing again.
func unknownCertIDHash(oid asn1.ObjectIdentifier) setupFunc {
	return func(t *testing.T, p *testPKI) input {
		r := p.response()
		r.Responses[0].Hash = crypto.SHA256
		return input{der: resign(t, marshal(t, r), p.ca.Key, func(tbs []byte) []byte {
			return replaceOnce(t, tbs, oidDER(oidSHA256), oidDER(oid))
		})}
	}
}

func algID(oid asn1.ObjectIdentifier, withNull bool) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if withNull {
			b.AddASN1NULL()
		}
	})
	return b.BytesOrPanic()
}

func rsaSHA256AlgID() []byte { return algID(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, true) }

func rsaOrECDSAAlgID(r *ocspcheck.Response) []byte {
	if r.SignatureAlgorithm == x509.SHA256WithRSA {
		return rsaSHA256AlgID()
	}
	return algID(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, false)
}

// pssAlgID is an RSASSA-PSS AlgorithmIdentifier with explicit parameters.
func pssAlgID(h crypto.Hash, salt int64) []byte {
	hashOID, _ := x509util.HashOID(h)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(algID(hashOID, true))
			})
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8})
					b.AddBytes(algID(hashOID, true))
				})
			})
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1Int64(salt)
			})
		})
	})
	return b.BytesOrPanic()
}

// pssResponse signs the default response with RSASSA-PSS (the intermediate
// must have an RSA key).
func pssResponse(h crypto.Hash, salt int) setupFunc {
	return pssResponseLabelled(h, salt, pssAlgID(h, int64(salt)))
}

// pssResponseLabelled is pssResponse with the given AlgorithmIdentifier.
func pssResponseLabelled(h crypto.Hash, salt int, label []byte) setupFunc {
	return func(t *testing.T, p *testPKI) input {
		r, err := ocspcheck.Parse(marshal(t, p.response()))
		if err != nil {
			t.Fatal(err)
		}
		hh := h.New()
		hh.Write(r.TBS)
		sig, err := rsa.SignPSS(rand.Reader, p.ca.Key.(*rsa.PrivateKey), h, hh.Sum(nil), &rsa.PSSOptions{SaltLength: salt, Hash: h})
		if err != nil {
			t.Fatal(err)
		}
		return input{der: envelope(basicResponse(r.TBS, label, sig, nil, nil), oidBasic)}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range validateCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPKI(t, tc.key)
			in := tc.setup(t, p)
			if in.cert == nil {
				in.cert = p.leaf.Cert
			}
			if in.issuer == nil {
				in.issuer = p.ca.Cert
			}
			if in.now.IsZero() {
				in.now = testpki.Now
			}
			r, err := ocspcheck.Validate(in.der, in.cert, in.issuer, in.now, in.opts)

			// Validate is Check then Fresh: the two must agree with it.
			cr, cerr := ocspcheck.Check(in.der, in.cert, in.issuer, in.opts)
			switch {
			case cerr != nil:
				if r != nil || err == nil || err.Error() != cerr.Error() {
					t.Errorf("Check failed with %v but Validate returned %v, %v", cerr, r, err)
				}
			default:
				ferr := cr.Fresh(in.now, in.opts)
				if (ferr == nil) != (err == nil) || (ferr != nil && ferr.Error() != err.Error()) {
					t.Errorf("Check+Fresh returned %v, Validate %v", ferr, err)
				}
			}
			tc.check(t, p, r, err)
		})
	}
}

func TestCheckNeedsCertAndIssuer(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	der := marshal(t, p.response())
	if _, err := ocspcheck.Check(der, nil, p.ca.Cert, ocspcheck.Options{}); err == nil {
		t.Error("Check with a nil certificate succeeded")
	}
	if _, err := ocspcheck.Check(der, p.leaf.Cert, nil, ocspcheck.Options{}); err == nil {
		t.Error("Check with a nil issuer succeeded")
	}
	if _, err := ocspcheck.Validate(der, nil, nil, testpki.Now, ocspcheck.Options{}); err == nil {
		t.Error("Validate with a nil certificate and issuer succeeded")
	}
}

// TestCheckWrongIssuer checks the response against the right leaf but
// another CA as issuer: the CertID does not bind them.
func TestCheckWrongIssuer(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	other := newPKI(t, testpki.ECDSAP256)
	der := marshal(t, p.response())
	_, err := ocspcheck.Check(der, p.leaf.Cert, other.ca.Cert, ocspcheck.Options{})
	wantReason(t, err, ocspcheck.NoMatch)
}

// TestTruncated feeds every prefix of valid responses, of several shapes, to
// Parse and Check: each must fail as Malformed, never panic.
func TestTruncated(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	d := delegate(t, p.ca, testpki.CertOptions{})
	shapes := map[string]testpki.OCSPResponse{
		"good": p.response(),
		"revoked with extensions, delegate": {
			Signer: d, Certs: []*x509.Certificate{d.Cert},
			Extensions: []pkix.Extension{{Id: oidNonce, Value: mustMarshal(nonceValue)}},
			Responses: []testpki.Single{
				otherSingle(p, 42, testpki.StatusGood),
				{Cert: p.leaf.Cert, Issuer: p.ca.Cert, Status: testpki.StatusRevoked, Reason: 4, ThisUpdate: defThisUpdate,
					Extensions: []pkix.Extension{{Id: oidInvalidityDate, Value: mustMarshal(testpki.Now)}}},
			},
		},
	}
	for name, shape := range shapes {
		der := marshal(t, shape)
		if _, err := ocspcheck.Check(der, p.leaf.Cert, p.ca.Cert, ocspcheck.Options{}); err != nil {
			t.Fatalf("%s: the whole response does not check: %v", name, err)
		}
		for n := range len(der) {
			prefix := der[:n:n]
			if _, err := ocspcheck.Parse(prefix); err == nil {
				t.Fatalf("%s: Parse accepted a %d-byte prefix of %d", name, n, len(der))
			} else if got, _ := reasonOf(err); got != ocspcheck.Malformed {
				t.Fatalf("%s: Parse of a %d-byte prefix: %v, want Malformed", name, n, err)
			}
			_, err := ocspcheck.Check(prefix, p.leaf.Cert, p.ca.Cert, ocspcheck.Options{})
			wantReason(t, err, ocspcheck.Malformed)
		}
	}
}

// TestTruncatedResponseData truncates the contents of ResponseData and
// re-signs them in a well-formed envelope, so that each prefix reaches the
// inner parser with a valid signature. Every prefix must be refused, except
// the one that ends exactly before the optional responseExtensions.
func TestTruncatedResponseData(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	r := p.response()
	r.Extensions = []pkix.Extension{{Id: oidUnknownExt, Value: []byte{5, 0}}}
	r.Responses = append(r.Responses, otherSingle(p, 42, testpki.StatusRevoked))
	der := marshal(t, r)
	parsed, err := ocspcheck.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	contents := seqContents(parsed.TBS)
	rd := elements(contents)
	withoutExts := len(contents) - len(rd[len(rd)-1])
	for n := range len(contents) {
		cut := resign(t, der, p.ca.Key, func([]byte) []byte { return seq(contents[:n]) })
		res, err := ocspcheck.Check(cut, p.leaf.Cert, p.ca.Cert, ocspcheck.Options{})
		if n == withoutExts {
			if err != nil || len(res.Response.Extensions) != 0 {
				t.Errorf("ResponseData cut before its extensions: %v, %v; want a valid response without extensions", res, err)
			}
			continue
		}
		if got, _ := reasonOf(err); err == nil || got != ocspcheck.Malformed {
			t.Fatalf("ResponseData cut to %d of %d bytes: %v, want Malformed", n, len(contents), err)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	d := delegate(t, p.ca, testpki.CertOptions{})
	r := p.response()
	r.Signer, r.Certs, r.ByKey = d, []*x509.Certificate{d.Cert, p.ca.Cert}, true
	r.ProducedAt = testpki.Now.Add(-time.Minute)
	r.Extensions = []pkix.Extension{{Id: oidNonce, Critical: true, Value: mustMarshal(nonceValue)}}
	revoked := otherSingle(p, 77, testpki.StatusRevoked)
	revoked.Reason, revoked.RevokedAt, revoked.NextUpdate = 1, testpki.Now.Add(-72*time.Hour), time.Time{}
	r.Responses = append(r.Responses, revoked)
	der := marshal(t, r)

	resp, err := ocspcheck.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	kh, _ := x509util.KeyHashSHA1(d.Cert)
	if resp.Status != ocspcheck.Successful || resp.ResponderName != nil || string(resp.ResponderKeyHash) != string(kh) {
		t.Errorf("Status %v, ResponderName %x, ResponderKeyHash %x", resp.Status, resp.ResponderName, resp.ResponderKeyHash)
	}
	if !resp.ProducedAt.Equal(r.ProducedAt) || resp.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("ProducedAt %v, SignatureAlgorithm %v", resp.ProducedAt, resp.SignatureAlgorithm)
	}
	if len(resp.Certificates) != 2 || !resp.Certificates[0].Equal(d.Cert) || !resp.Certificates[1].Equal(p.ca.Cert) {
		t.Errorf("Certificates = %d certificates, want the delegate and the CA", len(resp.Certificates))
	}
	if len(resp.Extensions) != 1 || !resp.Extensions[0].Id.Equal(oidNonce) || !resp.Extensions[0].Critical ||
		string(resp.Extensions[0].Value) != string(mustMarshal(nonceValue)) {
		t.Errorf("Extensions = %+v", resp.Extensions)
	}
	if len(resp.Responses) != 2 {
		t.Fatalf("%d responses, want 2", len(resp.Responses))
	}
	s := resp.Responses[1]
	if s.Serial.Int64() != 77 || s.Status != ocspcheck.Revoked || s.Reason != 1 || !s.RevokedAt.Equal(revoked.RevokedAt) ||
		!s.ThisUpdate.Equal(defThisUpdate) || !s.NextUpdate.IsZero() || s.HashAlgorithm != crypto.SHA1 ||
		len(s.IssuerNameHash) != 20 || len(s.IssuerKeyHash) != 20 {
		t.Errorf("Responses[1] = %+v", s)
	}
	if err := d.Cert.CheckSignature(resp.SignatureAlgorithm, resp.TBS, resp.Signature); err != nil {
		t.Errorf("TBS and Signature do not verify with the signer's key: %v", err)
	}

	// An unsuccessful response has only its status.
	unsuccessful, err := ocspcheck.Parse([]byte{0x30, 0x03, 0x0a, 0x01, 0x03})
	if err != nil || unsuccessful.Status != ocspcheck.TryLater || unsuccessful.TBS != nil || unsuccessful.Responses != nil {
		t.Errorf("Parse(tryLater) = %+v, %v", unsuccessful, err)
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{ocspcheck.Successful.String(), "successful"},
		{ocspcheck.MalformedRequest.String(), "malformedRequest"},
		{ocspcheck.InternalError.String(), "internalError"},
		{ocspcheck.TryLater.String(), "tryLater"},
		{ocspcheck.SigRequired.String(), "sigRequired"},
		{ocspcheck.Unauthorized.String(), "unauthorized"},
		{ocspcheck.ResponseStatus(4).String(), "status(4)"},
		{ocspcheck.Good.String(), "good"},
		{ocspcheck.Revoked.String(), "revoked"},
		{ocspcheck.Unknown.String(), "unknown"},
		{ocspcheck.CertStatus(9).String(), "CertStatus(9)"},
		{ocspcheck.NoMatch.String(), "no matching response"},
		{ocspcheck.Reason(0).String(), "Reason(0)"},
		{(&ocspcheck.Error{Reason: ocspcheck.Expired}).Error(), "ocsp: expired"},
		{(&ocspcheck.Error{Reason: ocspcheck.BadSignature, Detail: "d", Err: errors.New("e")}).Error(), "ocsp: bad signature: d: e"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for r := ocspcheck.Malformed; r <= ocspcheck.NonceMismatch; r++ {
		if strings.HasPrefix(r.String(), "Reason(") {
			t.Errorf("Reason %d has no text", int(r))
		}
	}
	cause := errors.New("cause")
	if err := error(&ocspcheck.Error{Reason: ocspcheck.Malformed, Err: cause}); !errors.Is(err, cause) {
		t.Error("Error does not unwrap to its cause")
	}
}

// TestFresh judges hand-made results at the edges of their windows.
func TestFresh(t *testing.T) {
	t.Parallel()
	now := testpki.Now
	window := func(this, next time.Time) *ocspcheck.Result {
		return &ocspcheck.Result{ThisUpdate: this, NextUpdate: next}
	}
	delegated := func(nb, na time.Time) *ocspcheck.Result {
		return &ocspcheck.Result{ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour), Signer: "delegated responder CN=x",
			SignerNotBefore: nb, SignerNotAfter: na}
	}
	for _, tc := range []struct {
		name string
		r    *ocspcheck.Result
		opts ocspcheck.Options
		want ocspcheck.Reason // 0: fresh
	}{
		{"inside", window(now.Add(-time.Hour), now.Add(time.Hour)), ocspcheck.Options{}, 0},
		{"thisUpdate exactly now+skew", window(now.Add(ocspcheck.DefaultSkew), time.Time{}), ocspcheck.Options{}, 0},
		{"thisUpdate now+skew+1s", window(now.Add(ocspcheck.DefaultSkew+time.Second), time.Time{}), ocspcheck.Options{}, ocspcheck.NotYetValid},
		{"nextUpdate exactly now-skew", window(now.Add(-time.Hour), now.Add(-ocspcheck.DefaultSkew)), ocspcheck.Options{}, 0},
		{"nextUpdate now-skew-1s", window(now.Add(-time.Hour), now.Add(-ocspcheck.DefaultSkew-time.Second)), ocspcheck.Options{}, ocspcheck.Expired},
		{"no nextUpdate, exactly max age+skew", window(now.Add(-ocspcheck.DefaultMaxAge-ocspcheck.DefaultSkew), time.Time{}), ocspcheck.Options{}, 0},
		{"no nextUpdate, max age+skew+1s", window(now.Add(-ocspcheck.DefaultMaxAge-ocspcheck.DefaultSkew-time.Second), time.Time{}), ocspcheck.Options{}, ocspcheck.TooOld},
		{"negative MaxAge means the default", window(now.Add(-23*time.Hour), time.Time{}), ocspcheck.Options{MaxAge: -time.Hour}, 0},
		{"negative MaxAge means the default, too old", window(now.Add(-25*time.Hour), time.Time{}), ocspcheck.Options{MaxAge: -time.Hour}, ocspcheck.TooOld},
		{"no skew: thisUpdate now", window(now, time.Time{}), ocspcheck.Options{Skew: -1}, 0},
		{"no skew: nextUpdate now", window(now.Add(-time.Hour), now), ocspcheck.Options{Skew: -1}, 0},
		{"no skew: max age exactly", window(now.Add(-time.Hour), time.Time{}), ocspcheck.Options{Skew: -1, MaxAge: time.Hour}, 0},
		{"no skew: max age+1s", window(now.Add(-time.Hour-time.Second), time.Time{}), ocspcheck.Options{Skew: -1, MaxAge: time.Hour}, ocspcheck.TooOld},
		{"future thisUpdate wins over passed nextUpdate", window(now.Add(time.Hour), now.Add(-time.Hour)), ocspcheck.Options{}, ocspcheck.NotYetValid},
		{"delegate valid", delegated(now.Add(-time.Hour), now.Add(time.Hour)), ocspcheck.Options{}, 0},
		{"delegate notAfter now-skew", delegated(now.Add(-time.Hour), now.Add(-ocspcheck.DefaultSkew)), ocspcheck.Options{}, 0},
		{"delegate notAfter now-skew-1s", delegated(now.Add(-time.Hour), now.Add(-ocspcheck.DefaultSkew-time.Second)), ocspcheck.Options{}, ocspcheck.Expired},
		{"delegate notBefore now+skew", delegated(now.Add(ocspcheck.DefaultSkew), now.Add(time.Hour)), ocspcheck.Options{}, 0},
		{"delegate notBefore now+skew+1s", delegated(now.Add(ocspcheck.DefaultSkew+time.Second), now.Add(time.Hour)), ocspcheck.Options{}, ocspcheck.NotYetValid},
		{"delegate with a custom skew", delegated(now.Add(-time.Hour), now.Add(-10*time.Minute)), ocspcheck.Options{Skew: 15 * time.Minute}, 0},
	} {
		err := tc.r.Fresh(now, tc.opts)
		if tc.want == 0 {
			if err != nil {
				t.Errorf("%s: %v, want fresh", tc.name, err)
			}
			continue
		}
		if got, ok := reasonOf(err); !ok || got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestExpires(t *testing.T) {
	t.Parallel()
	now := testpki.Now
	for _, tc := range []struct {
		name string
		r    *ocspcheck.Result
		opts ocspcheck.Options
		want time.Time
	}{
		{"nextUpdate", &ocspcheck.Result{ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, ocspcheck.Options{}, now.Add(time.Hour)},
		{"no nextUpdate", &ocspcheck.Result{ThisUpdate: now}, ocspcheck.Options{}, now.Add(ocspcheck.DefaultMaxAge)},
		{"no nextUpdate, custom max age", &ocspcheck.Result{ThisUpdate: now}, ocspcheck.Options{MaxAge: time.Hour}, now.Add(time.Hour)},
		{"delegate expires first", &ocspcheck.Result{ThisUpdate: now, NextUpdate: now.Add(time.Hour), SignerNotAfter: now.Add(time.Minute)}, ocspcheck.Options{}, now.Add(time.Minute)},
		{"delegate expires later", &ocspcheck.Result{ThisUpdate: now, NextUpdate: now.Add(time.Hour), SignerNotAfter: now.Add(2 * time.Hour)}, ocspcheck.Options{}, now.Add(time.Hour)},
	} {
		if got := tc.r.Expires(tc.opts); !got.Equal(tc.want) {
			t.Errorf("%s: Expires = %v, want %v", tc.name, got, tc.want)
		}
	}
}
