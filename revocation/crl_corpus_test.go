package revocation

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/crlscan"
)

// crlCorpus is the shared corpus of real CRLs, read in place.
const crlCorpus = "../../shared/corpus"

func crlCorpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(crlCorpus, rel))
	if err != nil {
		if os.IsNotExist(err) {
			t.Skipf("corpus file %s absent", rel)
		}
		t.Fatal(err)
	}
	return b
}

func crlCorpusCert(t *testing.T, rel string) *x509.Certificate {
	t.Helper()
	b := crlCorpusFile(t, rel)
	if p, _ := pem.Decode(b); p != nil {
		b = p.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// crlOffline checks cert (issued by issuer, which stands as the trust
// anchor) against preloaded CRLs at now.
func crlOffline(t *testing.T, cert, issuer *x509.Certificate, now time.Time, crls ...[]byte) (*tlsclient.State, error) {
	st := crlState([]*x509.Certificate{cert, issuer})
	st.Now = now
	return st, crlVerify(CRL(WithCRLs(crls...)), st)
}

// TestCRLRealSymantec: Symantec's CRL #3525 (29,408 entries), signed by
// its issuer, as of 2018-08-01: the-acey.com revoked at
// 2017-09-08T01:09:49Z without a reason, ivccbookstore.com not revoked.
func TestCRLRealSymantec(t *testing.T) {
	t.Parallel()
	crl := crlCorpusFile(t, "zcrypto/crl-symantec/symantec-class3-secure-server-ca-g4.crl.der")
	issuer := crlCorpusCert(t, "zcrypto/crl-symantec/issuer-symantec-class3-g4.pem")
	now := time.Date(2018, 8, 1, 0, 0, 0, 0, time.UTC)

	_, err := crlOffline(t, crlCorpusCert(t, "zcrypto/crl-symantec/leaf-the-acey-revoked.pem"), issuer, now, crl)
	var re *RevokedError
	if !errors.As(err, &re) || !re.RevokedAt.Equal(time.Date(2017, 9, 8, 1, 9, 49, 0, time.UTC)) || re.Reason != tlsclient.ReasonAbsent || re.Source != "crl" {
		t.Fatalf("the-acey: %v", err)
	}
	st, err := crlOffline(t, crlCorpusCert(t, "zcrypto/crl-symantec/leaf-ivccbookstore-not-revoked.pem"), issuer, now, crl)
	if err != nil {
		t.Fatalf("ivccbookstore: %v%s", err, crlDump(st.Checks()))
	}
	// A week later the CRL has expired.
	_, err = crlOffline(t, crlCorpusCert(t, "zcrypto/crl-symantec/leaf-ivccbookstore-not-revoked.pem"), issuer, now.AddDate(0, 0, 8), crl)
	if crlReasonOf(err) != CRLExpired {
		t.Fatalf("a week later: %v", err)
	}
}

// TestCRLRealNoKeyUsage: RENIEC's CA certificate has no keyUsage
// extension at all; RFC 5280 6.3.3 (f) checks cRLSign only when key usage
// is present, so its CRL is accepted (x509-limbo
// crl::issuer-no-keyusage-extension expects the same; DSS refuses it).
func TestCRLRealNoKeyUsage(t *testing.T) {
	t.Parallel()
	crl := crlCorpusFile(t, "large-crls/hgcaclass2.crl")
	ca := crlCorpusCert(t, "large-crls/reniec-class2-high-grade-ca.pem")
	if ca.KeyUsage != 0 {
		t.Fatalf("the corpus CA has key usage %v", ca.KeyUsage)
	}
	now := time.Date(2019, 12, 20, 12, 0, 0, 0, time.UTC)
	parsed, err := crlscan.Parse(crl)
	if err != nil {
		t.Fatal(err)
	}
	var first crlscan.Entry
	parsed.All(func(e crlscan.Entry) bool { first = e; return false })

	subject := func(serial *big.Int) *x509.Certificate {
		return &x509.Certificate{RawIssuer: ca.RawSubject, Issuer: ca.Subject, SerialNumber: serial}
	}
	_, err = crlOffline(t, subject(crlscan.SerialInt(first.Serial)), ca, now, crl)
	var re *RevokedError
	if !errors.As(err, &re) || !re.RevokedAt.Equal(first.Time()) {
		t.Fatalf("listed serial: %v", err)
	}
	if st, err := crlOffline(t, subject(big.NewInt(1234567)), ca, now, crl); err != nil {
		t.Fatalf("unlisted serial: %v%s", err, crlDump(st.Checks()))
	}
}
