package ocspcheck_test

// Interoperability with real responses from public CAs, kept in
// /work/shared/corpus/zcrypto (see its MANIFEST.md for provenance and for
// what OpenSSL and x/crypto say about each file). The files are read in
// place; the tests skip when the corpus is absent.

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/x509util"
)

const corpusDir = "../../../shared/corpus/zcrypto"

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, filepath.FromSlash(name)))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("corpus file %s not present", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corpusCert reads a certificate in PEM or DER.
func corpusCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	b := readCorpus(t, name)
	if block, _ := pem.Decode(b); block != nil {
		b = block.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// symantec is case C of the MANIFEST: two responses of the delegated
// responder of "Symantec Class 3 Secure Server CA - G4", byKey, SHA-1 with
// RSA, judged on 2018-08-01.
type symantec struct {
	good, revoked      []byte
	issuer, ivcc, acey *x509.Certificate
}

func loadSymantec(t *testing.T) symantec {
	return symantec{
		good:    readCorpus(t, "ocsp-symantec/ocsp-good-ivccbookstore.der"),
		revoked: readCorpus(t, "ocsp-symantec/ocsp-revoked-the-acey.der"),
		issuer:  corpusCert(t, "ocsp-symantec/issuer-symantec-class3-g4.pem"),
		ivcc:    corpusCert(t, "ocsp-symantec/leaf-ivccbookstore.pem"),
		acey:    corpusCert(t, "ocsp-symantec/leaf-the-acey.pem"),
	}
}

const symantecSigner = "delegated responder CN=Symantec Class 3 Secure Server CA - G4 OCSP Responder"

var symantecDay = utc("2018-08-01T00:00:00Z")

func TestCorpusSymantecGood(t *testing.T) {
	t.Parallel()
	s := loadSymantec(t)
	r, err := ocspcheck.Validate(s.good, s.ivcc, s.issuer, symantecDay, ocspcheck.Options{})
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if r.Status != ocspcheck.Good || r.Reason != -1 {
		t.Errorf("Status %v Reason %d, want good", r.Status, r.Reason)
	}
	if r.Signer != symantecSigner {
		t.Errorf("Signer = %q, want %q", r.Signer, symantecSigner)
	}
	if !r.SignerNotBefore.Equal(utc("2018-06-10T00:00:00Z")) || !r.SignerNotAfter.Equal(utc("2018-09-08T23:59:59Z")) {
		t.Errorf("signer validity %v … %v", r.SignerNotBefore, r.SignerNotAfter)
	}
	if !r.ThisUpdate.Equal(utc("2018-07-27T08:17:34Z")) || !r.NextUpdate.Equal(utc("2018-08-03T08:17:34Z")) {
		t.Errorf("window %v … %v", r.ThisUpdate, r.NextUpdate)
	}
	if r.SignatureAlgorithm != x509.SHA1WithRSA || r.Single.HashAlgorithm != crypto.SHA1 {
		t.Errorf("SignatureAlgorithm %v, CertID hash %v", r.SignatureAlgorithm, r.Single.HashAlgorithm)
	}
	// The ResponderID (byKey) is the key hash of the embedded delegate.
	if len(r.Response.Certificates) != 1 {
		t.Fatalf("%d embedded certificates, want 1", len(r.Response.Certificates))
	}
	kh, _ := x509util.KeyHashSHA1(r.Response.Certificates[0])
	if r.Response.ResponderName != nil || !bytes.Equal(r.Response.ResponderKeyHash, kh) {
		t.Errorf("ResponderID: name %x, key hash %x; want key hash %x", r.Response.ResponderName, r.Response.ResponderKeyHash, kh)
	}
}

func TestCorpusSymantecRevoked(t *testing.T) {
	t.Parallel()
	s := loadSymantec(t)
	r, err := ocspcheck.Validate(s.revoked, s.acey, s.issuer, symantecDay, ocspcheck.Options{})
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if r.Status != ocspcheck.Revoked || !r.RevokedAt.Equal(utc("2017-09-08T01:09:49Z")) || r.Reason != 5 {
		t.Errorf("Status %v RevokedAt %v Reason %d; want revoked at 2017-09-08T01:09:49Z, cessationOfOperation (5)", r.Status, r.RevokedAt, r.Reason)
	}
	if r.Signer != symantecSigner {
		t.Errorf("Signer = %q", r.Signer)
	}
}

func TestCorpusSymantecRejections(t *testing.T) {
	t.Parallel()
	s := loadSymantec(t)
	corrupt := func(der []byte) []byte {
		r, err := ocspcheck.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(der, r.Signature)
		if i < 0 {
			t.Fatal("signature not found in the response")
		}
		out := bytes.Clone(der)
		out[i+len(r.Signature)/2] ^= 0x01
		return out
	}
	for _, tc := range []struct {
		name         string
		der          []byte
		cert, issuer *x509.Certificate
		now          time.Time
		opts         ocspcheck.Options
		want         ocspcheck.Reason // 0: accepted
	}{
		{name: "good response checked against the-acey", der: s.good, cert: s.acey, issuer: s.issuer, now: symantecDay, want: ocspcheck.NoMatch},
		{name: "revoked response checked against ivccbookstore", der: s.revoked, cert: s.ivcc, issuer: s.issuer, now: symantecDay, want: ocspcheck.NoMatch},
		{name: "the leaf as its own issuer", der: s.good, cert: s.ivcc, issuer: s.ivcc, now: symantecDay, want: ocspcheck.NoMatch},
		{name: "after nextUpdate and the skew", der: s.good, cert: s.ivcc, issuer: s.issuer, now: utc("2018-08-03T08:22:35Z"), want: ocspcheck.Expired},
		{name: "after nextUpdate, within the skew", der: s.good, cert: s.ivcc, issuer: s.issuer, now: utc("2018-08-03T08:22:34Z")},
		{name: "before thisUpdate and the skew", der: s.good, cert: s.ivcc, issuer: s.issuer, now: utc("2018-07-27T08:12:33Z"), want: ocspcheck.NotYetValid},
		{name: "after the delegate expired", der: s.revoked, cert: s.acey, issuer: s.issuer, now: utc("2018-09-10T00:00:00Z"), want: ocspcheck.Expired},
		{name: "SHA-1 refused", der: s.good, cert: s.ivcc, issuer: s.issuer, now: symantecDay, opts: ocspcheck.Options{RejectSHA1: true}, want: ocspcheck.WeakAlgorithm},
		{name: "a nonce was sent", der: s.good, cert: s.ivcc, issuer: s.issuer, now: symantecDay, opts: ocspcheck.Options{Nonce: []byte{1, 2, 3}}, want: ocspcheck.NonceMismatch},
		{name: "corrupt signature", der: corrupt(s.good), cert: s.ivcc, issuer: s.issuer, now: symantecDay, want: ocspcheck.BadSignature},
	} {
		_, err := ocspcheck.Validate(tc.der, tc.cert, tc.issuer, tc.now, tc.opts)
		if tc.want == 0 {
			if err != nil {
				t.Errorf("%s: %v, want accepted", tc.name, err)
			}
			continue
		}
		if got, ok := reasonOf(err); !ok || got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestCorpusStartCom is the 2010 StartCom response (MANIFEST case D): good
// for serial 01D0FA, signed with SHA-1 by a delegate whose certificate is
// itself signed with SHA-1. The leaf is not in the corpus; the CertID only
// needs its serial and issuer name, so a stub stands in for it.
//
// The intermediate in the corpus (serial 0x18) is a re-issue of the CA that
// signed the delegate: same name and key, but the delegate's AKI names
// authorityCertSerialNumber 0x0A. Our check identifies the issuer of a
// delegate by its name (RawIssuer) and by verifying the delegate's signature
// with the issuer's key; the AKI issuer and serial are not consulted (RFC
// 5280 path building does not require them to match). So, like Go's
// x/crypto/ocsp and unlike OpenSSL 3 ("unable to get local issuer
// certificate"), we accept the response.
func TestCorpusStartCom(t *testing.T) {
	t.Parallel()
	der := readCorpus(t, "ocsp-legacy-xcrypto/startcom-class1-ocsp-good.resp.der")
	signer := corpusCert(t, "ocsp-legacy-xcrypto/startcom-class1-ocsp-signer.cert.der")
	issuer := corpusCert(t, "ocsp-legacy-xcrypto/startcom-class1-intermediate-serial18.cert.der")
	leaf := &x509.Certificate{SerialNumber: big.NewInt(0x01D0FA), RawIssuer: issuer.RawSubject}
	at := utc("2010-07-07T16:00:00Z")

	if issuer.SerialNumber.Int64() != 0x18 {
		t.Fatalf("the intermediate has serial %x, want 18 (the re-issued CA certificate)", issuer.SerialNumber)
	}
	r, err := ocspcheck.Validate(der, leaf, issuer, at, ocspcheck.Options{})
	if err != nil {
		t.Fatalf("Validate: %v (the re-issued CA, same name and key, authorises the delegate)", err)
	}
	if r.Status != ocspcheck.Good {
		t.Errorf("Status = %v, want good", r.Status)
	}
	const wantSigner = "delegated responder CN=StartCom Class 1 OCSP Signer,O=StartCom Ltd.,C=IL"
	if r.Signer != wantSigner {
		t.Errorf("Signer = %q, want %q", r.Signer, wantSigner)
	}
	if len(r.Response.Certificates) != 1 || !r.Response.Certificates[0].Equal(signer) {
		t.Error("the embedded delegate is not the corpus's signer certificate")
	}
	if r.SignatureAlgorithm != x509.SHA1WithRSA || signer.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Errorf("response signed with %v, delegate with %v; the corpus says SHA-1 for both", r.SignatureAlgorithm, signer.SignatureAlgorithm)
	}
	if !r.ThisUpdate.Equal(utc("2010-07-07T15:01:05Z")) || !r.NextUpdate.Equal(utc("2010-07-07T18:35:17Z")) {
		t.Errorf("window %v … %v", r.ThisUpdate, r.NextUpdate)
	}

	if _, err := ocspcheck.Validate(der, leaf, issuer, at, ocspcheck.Options{RejectSHA1: true}); !isReason(err, ocspcheck.WeakAlgorithm) {
		t.Errorf("RejectSHA1: %v, want WeakAlgorithm", err)
	}
	if _, err := ocspcheck.Validate(der, leaf, issuer, utc("2010-07-07T18:40:18Z"), ocspcheck.Options{}); !isReason(err, ocspcheck.Expired) {
		t.Errorf("after nextUpdate: %v, want Expired", err)
	}
	other := &x509.Certificate{SerialNumber: big.NewInt(0x01D0FB), RawIssuer: issuer.RawSubject}
	if _, err := ocspcheck.Validate(der, other, issuer, at, ocspcheck.Options{}); !isReason(err, ocspcheck.NoMatch) {
		t.Errorf("another serial: %v, want NoMatch", err)
	}
	// The delegate itself as the issuer: it names nobody it signed.
	if _, err := ocspcheck.Validate(der, &x509.Certificate{SerialNumber: leaf.SerialNumber, RawIssuer: signer.RawSubject}, signer, at, ocspcheck.Options{}); !isReason(err, ocspcheck.NoMatch) {
		t.Errorf("delegate as issuer: %v, want NoMatch", err)
	}
}

func isReason(err error, want ocspcheck.Reason) bool {
	got, ok := reasonOf(err)
	return ok && got == want
}

// TestCorpusTreasury is the 2015 US Treasury response with 20
// SingleResponses. The OCIO CA certificate is not in the corpus, so the
// responder cannot be authorised: Parse only, and the response's signature
// checked against the embedded signer as x/crypto does.
func TestCorpusTreasury(t *testing.T) {
	t.Parallel()
	der := readCorpus(t, "ocsp-legacy-xcrypto/treasury-multi-response.resp.der")
	leaf := corpusCert(t, "ocsp-legacy-xcrypto/treasury-pki.treas.gov.cert.der")
	resp, err := ocspcheck.Parse(der)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(resp.Responses) != 20 {
		t.Fatalf("%d responses, want 20", len(resp.Responses))
	}
	want := big.NewInt(0x54566573)
	if leaf.SerialNumber.Cmp(want) != 0 {
		t.Fatalf("the corpus leaf has serial %X, want %X", leaf.SerialNumber, want)
	}
	var found *ocspcheck.SingleResponse
	for i := range resp.Responses {
		s := &resp.Responses[i]
		if wantSerial := big.NewInt(0x5456656A + int64(i)); s.Serial.Cmp(wantSerial) != 0 {
			t.Errorf("Responses[%d].Serial = %X, want %X", i, s.Serial, wantSerial)
		}
		if s.Status != ocspcheck.Good || !s.ThisUpdate.Equal(utc("2015-06-02T09:02:07Z")) || !s.NextUpdate.Equal(utc("2015-06-03T10:00:30Z")) {
			t.Errorf("Responses[%d] = %v %v … %v", i, s.Status, s.ThisUpdate, s.NextUpdate)
		}
		if s.Serial.Cmp(want) == 0 {
			found = s
		}
	}
	if found == nil {
		t.Fatal("no response for serial 54566573")
	}
	// Its CertID names the leaf's issuer (the name hash is all we can check
	// without the issuer's certificate).
	nameHash := sha1.Sum(leaf.RawIssuer)
	if found.HashAlgorithm != crypto.SHA1 || !bytes.Equal(found.IssuerNameHash, nameHash[:]) {
		t.Errorf("CertID: hash %v, issuerNameHash %x; want SHA-1 and %x", found.HashAlgorithm, found.IssuerNameHash, nameHash)
	}
	if !resp.ProducedAt.Equal(utc("2015-06-02T10:00:30Z")) || resp.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Errorf("ProducedAt %v, SignatureAlgorithm %v", resp.ProducedAt, resp.SignatureAlgorithm)
	}
	if len(resp.Certificates) != 1 {
		t.Fatalf("%d embedded certificates, want 1", len(resp.Certificates))
	}
	signer := resp.Certificates[0]
	kh, _ := x509util.KeyHashSHA1(signer)
	if !bytes.Equal(resp.ResponderKeyHash, kh) {
		t.Errorf("ResponderKeyHash %x is not the embedded signer's key hash %x", resp.ResponderKeyHash, kh)
	}
	if err := signer.CheckSignature(resp.SignatureAlgorithm, resp.TBS, resp.Signature); err != nil {
		t.Errorf("the response does not verify with the embedded signer: %v", err)
	}
	// The signer is issued by the OCIO CA, the leaf's issuer, which we do
	// not have: Check against the signer as a stand-in issuer refuses.
	if _, err := ocspcheck.Check(der, leaf, signer, ocspcheck.Options{}); !isReason(err, ocspcheck.NoMatch) {
		t.Errorf("Check with the wrong issuer: %v, want NoMatch", err)
	}
}
