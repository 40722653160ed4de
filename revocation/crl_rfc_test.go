package revocation

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// crlCase is one row of the RFC 5280 section 6.3 table.
type crlCase struct {
	name string
	pki  crlPKIOptions
	// setup publishes CRLs and may return another chain (nil: p.chain()),
	// extra certificates sent by the server, and options.
	setup func(t *testing.T, p *crlPKI) (chain, extra []*x509.Certificate, opts []Option)
	// want is "pass", "revoked CN", "unavailable" or "not applicable"
	// (the check passes as a skip, with reason recorded in its error).
	want string
	// reason is a CRLErrorReason the error must contain (unavailable).
	reason CRLErrorReason
	// detail, when set, must appear in the leaf's check detail.
	detail string
}

func crlRevoke(c *testpki.Cert, reason int) testpki.CRLEntry {
	e := testpki.CRLEntry{Serial: c.Cert.SerialNumber, RevokedAt: testpki.Now.Add(-48 * time.Hour)}
	if reason >= 0 {
		e.Reason = testpki.Reason(reason)
	}
	return e
}

var crlUnknownOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}

func crlRFCCases() []crlCase {
	pub := func(path string, ca func(p *crlPKI) *testpki.Cert, tmpl testpki.CRLTemplate) func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
		return func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, path, ca(p), tmpl)
			return nil, nil, nil
		}
	}
	inter := func(p *crlPKI) *testpki.Cert { return p.inter }
	return []crlCase{
		{name: "good", want: "pass", detail: "not revoked: CRL #1"},
		{name: "revoked end entity", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, nil
		}},
		{name: "revoked CA", want: "revoked CRL Test Intermediate", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/root.crl", p.root, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.inter, 2)}})
			return nil, nil, nil
		}},
		{name: "missing CRL", want: "unavailable", reason: CRLFetchFailed, pki: crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"/missing.crl"}}},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				// The option above is rewritten to the server's URL.
				return nil, nil, nil
			}},
		{name: "bad signature", want: "unavailable", reason: CRLBadSignature, setup: pub("/inter.crl", inter, testpki.CRLTemplate{CorruptSignature: true})},
		{name: "unsupported signature algorithm", want: "unavailable", reason: CRLBadSignature,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{RawAlgorithm: []byte{0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04}}), detail: "unsupported signature algorithm"},
		{name: "wrong issuer name", want: "unavailable", reason: CRLWrongIssuer, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{RawIssuer: p.root.Cert.RawSubject})
			return nil, nil, nil
		}},
		{name: "another CA's CRL", want: "unavailable", reason: CRLWrongIssuer, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.root, testpki.CRLTemplate{})
			return nil, nil, nil
		}},
		{name: "AKI mismatch", want: "unavailable", reason: CRLKeyMismatch, setup: pub("/inter.crl", inter, testpki.CRLTemplate{AuthorityKeyID: []byte{1, 2, 3, 4}})},
		{name: "no AKI", want: "pass", setup: pub("/inter.crl", inter, testpki.CRLTemplate{NoAKI: true})},
		{name: "unknown critical CRL extension", want: "unavailable", reason: CRLCriticalExtension,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{Extensions: []pkix.Extension{{Id: crlUnknownOID, Critical: true, Value: []byte{5, 0}}}})},
		{name: "unknown non-critical CRL extension", want: "pass",
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{Extensions: []pkix.Extension{{Id: crlUnknownOID, Value: []byte{5, 0}}}})},
		{name: "unknown critical entry extension", want: "unavailable", reason: CRLCriticalExtension,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(77), Extensions: []pkix.Extension{{Id: crlUnknownOID, Critical: true, Value: []byte{5, 0}}}}}})},
		{name: "old nextUpdate", want: "unavailable", reason: CRLExpired,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{ThisUpdate: testpki.Now.Add(-10 * 24 * time.Hour), NextUpdate: testpki.Now.Add(-24 * time.Hour)})},
		{name: "nextUpdate within clock skew", want: "pass",
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{ThisUpdate: testpki.Now.Add(-24 * time.Hour), NextUpdate: testpki.Now.Add(-2 * time.Minute)})},
		{name: "thisUpdate in the future", want: "unavailable", reason: CRLNotYetValid,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{ThisUpdate: testpki.Now.Add(time.Hour)})},
		{name: "no nextUpdate, recent", want: "pass", setup: pub("/inter.crl", inter, testpki.CRLTemplate{NoNextUpdate: true})},
		{name: "no nextUpdate, older than max age", want: "unavailable", reason: CRLExpired,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{NoNextUpdate: true, ThisUpdate: testpki.Now.Add(-48 * time.Hour)})},
		{name: "generalized times", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{GeneralizedTime: true, Entries: []testpki.CRLEntry{crlRevoke(p.leaf, -1)}})
			return nil, nil, nil
		}},
		{name: "negative serial revoked", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			n := big.NewInt(-4242)
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(4242)}, {Serial: n}}})
			return []*x509.Certificate{crlWithSerial(p.leaf.Cert, n), p.inter.Cert, p.root.Cert}, nil, nil
		}},
		{name: "negative serial, its absolute value listed", want: "pass", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(4242)}, {Serial: big.NewInt(-4243)}}})
			return []*x509.Certificate{crlWithSerial(p.leaf.Cert, big.NewInt(-4242)), p.inter.Cert, p.root.Cert}, nil, nil
		}},
		{name: "long serial revoked", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			n := new(big.Int).Lsh(big.NewInt(0xABCDEF), 190) // 25 octets
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: new(big.Int).Add(n, big.NewInt(1))}, {Serial: n}}})
			return []*x509.Certificate{crlWithSerial(p.leaf.Cert, n), p.inter.Cert, p.root.Cert}, nil, nil
		}},
		{name: "serial with high bit set", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			n := new(big.Int).SetBytes([]byte{0x80, 0, 0, 0, 0, 0, 0, 1}) // DER 00 80 ... 01
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: n}}})
			return []*x509.Certificate{crlWithSerial(p.leaf.Cert, n), p.inter.Cert, p.root.Cert}, nil, nil
		}},
		// Separate certificate and CRL signing keys of one CA.
		{name: "CRL signer unknown", want: "unavailable", reason: CRLKeyMismatch, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			signer := testpki.Must(p.inter.IssueCRLSigner(0))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{})
			return nil, nil, nil
		}},
		{name: "CRL signer supplied", want: "revoked leaf", detail: "", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			signer := testpki.Must(p.inter.IssueCRLSigner(0))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, []Option{WithCRLSigners(signer.Cert)}
		}},
		{name: "CRL signer sent by the server", want: "pass", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			signer := testpki.Must(p.inter.IssueCRLSigner(0))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{})
			return nil, []*x509.Certificate{signer.Cert}, nil
		}},
		{name: "CRL signer of another anchor", want: "unavailable", reason: CRLSignerNotAuthorized, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			otherRoot := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Other Root"}))
			subject := p.inter.Cert.Subject
			twin := testpki.Must(otherRoot.NewIntermediate(testpki.CertOptions{Subject: &subject}))
			signer := testpki.Must(twin.IssueCRLSigner(0))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{})
			return nil, nil, []Option{WithCRLSigners(signer.Cert, twin.Cert)}
		}},
		{name: "CRL signer without cRLSign", want: "unavailable", reason: CRLSignerNotAuthorized, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			signer := testpki.Must(p.inter.IssueCRLSigner(x509.KeyUsageDigitalSignature))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{})
			return nil, nil, []Option{WithCRLSigners(signer.Cert)}
		}},
		{name: "CRL signer without key usage", want: "unavailable", reason: CRLSignerNotAuthorized, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			// An end-entity certificate of the CA with the CA's name and
			// no key usage extension at all.
			subject := p.inter.Cert.Subject
			signer := testpki.Must(p.inter.Issue(testpki.CertOptions{Subject: &subject, NoKeyUsage: true}))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, []Option{WithCRLSigners(signer.Cert)}
		}},
		{name: "CRL signer issued by another CA of the same root", want: "unavailable", reason: CRLSignerNotAuthorized, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			// A sibling CA under the same root mints a certificate with
			// the intermediate's name and cRLSign: it chains to the same
			// anchor, but it is not the intermediate's key.
			sibling := testpki.Must(p.root.NewIntermediate(testpki.CertOptions{CommonName: "Sibling CA"}))
			subject := p.inter.Cert.Subject
			signer := testpki.Must(sibling.Issue(testpki.CertOptions{Subject: &subject, KeyUsage: x509.KeyUsageCRLSign, ExtKeyUsage: []x509.ExtKeyUsage{}}))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, []*x509.Certificate{sibling.Cert}, []Option{WithCRLSigners(signer.Cert)}
		}},
		{name: "CRL signer issued by the issuer's own issuer", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			// The root certifies a CRL-signing key for the intermediate
			// (the same CA per RFC 5280 6.3.3 (f): a sibling of the
			// intermediate's certificate).
			subject := p.inter.Cert.Subject
			signer := testpki.Must(p.root.Issue(testpki.CertOptions{Subject: &subject, KeyUsage: x509.KeyUsageCRLSign, ExtKeyUsage: []x509.ExtKeyUsage{}}))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, []Option{WithCRLSigners(signer.Cert)}
		}},
		{name: "CRL signer expired", want: "unavailable", reason: CRLSignerNotAuthorized, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			subject := p.inter.Cert.Subject
			signer := testpki.Must(p.inter.Issue(testpki.CertOptions{Subject: &subject, KeyUsage: x509.KeyUsageCRLSign, ExtKeyUsage: []x509.ExtKeyUsage{},
				NotBefore: testpki.Now.AddDate(-1, 0, 0), NotAfter: testpki.Now.AddDate(0, 0, -1)}))
			p.publish(t, "/inter.crl", signer, testpki.CRLTemplate{})
			return nil, nil, []Option{WithCRLSigners(signer.Cert)}
		}},
		{name: "issuer key usage without cRLSign", want: "unavailable", reason: CRLSignerNotAuthorized,
			pki: crlPKIOptions{inter: testpki.CertOptions{KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}}},
		{name: "issuer without key usage", want: "pass", pki: crlPKIOptions{inter: testpki.CertOptions{NoKeyUsage: true}}},
		// Distribution points and Issuing Distribution Points.
		{name: "IDP names the distribution point", want: "pass", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://other.invalid/x.crl", p.url("/inter.crl")}}})
			return nil, nil, nil
		}},
		{name: "IDP names another distribution point", want: "unavailable", reason: CRLScope,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://other.invalid/x.crl"}}})},
		{name: "IDP not marked critical still scopes", want: "unavailable", reason: CRLScope,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://other.invalid/x.crl"}, NotCritical: true}})},
		{name: "DP reasons and IDP reasons intersect", want: "unavailable", reason: CRLPartial, detail: "cover keyCompromise;",
			pki:   crlPKIOptions{leaf: testpki.CertOptions{ExtraExtensions: []pkix.Extension{crlDPWith(testpki.DistributionPoint{URIs: []string{"/inter.crl"}, Reasons: 1<<1 | 1<<2})}}},
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlySomeReasons: 1<<1 | 1<<5}})},
		{name: "IDP only user certs, end entity", want: "pass", setup: pub("/inter.crl", inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlyUser: true}})},
		{name: "IDP only user certs, CA", want: "unavailable", reason: CRLScope, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/root.crl", p.root, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlyUser: true}})
			return nil, nil, nil
		}},
		{name: "IDP only CA certs, CA", want: "pass", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/root.crl", p.root, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlyCA: true}})
			return nil, nil, nil
		}},
		{name: "IDP only CA certs, end entity", want: "unavailable", reason: CRLScope, setup: pub("/inter.crl", inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlyCA: true}})},
		{name: "IDP only attribute certs", want: "unavailable", reason: CRLScope, setup: pub("/inter.crl", inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlyAttr: true}})},
		{name: "IDP only some reasons", want: "unavailable", reason: CRLPartial,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlySomeReasons: 1<<1 | 1<<2}})},
		{name: "IDP only some reasons, revoked", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{OnlySomeReasons: 1 << 1}, Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, nil
		}},
		{name: "two partial CRLs cover every reason", want: "pass", pki: crlPKIOptions{leaf: testpki.CertOptions{ExtraExtensions: []pkix.Extension{crlDPs("/a.crl", "/b.crl")}}},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				p.publish(t, "/a.crl", p.inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{p.url("/a.crl")}, OnlySomeReasons: 1<<1 | 1<<2}})
				p.publish(t, "/b.crl", p.inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{p.url("/b.crl")}, OnlySomeReasons: 0x1fe &^ (1<<1 | 1<<2)}})
				return nil, nil, nil
			}, detail: "/b.crl"},
		{name: "distribution point with reasons", want: "unavailable", reason: CRLPartial,
			pki: crlPKIOptions{leaf: testpki.CertOptions{ExtraExtensions: []pkix.Extension{crlDPWith(testpki.DistributionPoint{URIs: []string{"/inter.crl"}, Reasons: 1 << 1})}}}},
		{name: "indirect CRL (IDP)", want: "unavailable", reason: CRLIndirect, setup: pub("/inter.crl", inter, testpki.CRLTemplate{IDP: &testpki.IDPTemplate{Indirect: true}})},
		{name: "indirect CRL (entry certificateIssuer)", want: "unavailable", reason: CRLIndirect, setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{{Serial: big.NewInt(1), CertificateIssuer: p.root.Cert.RawSubject}}})
			return nil, nil, nil
		}},
		{name: "distribution point with cRLIssuer", want: "unavailable", reason: CRLIndirect,
			pki: crlPKIOptions{leaf: testpki.CertOptions{ExtraExtensions: []pkix.Extension{crlDPWith(testpki.DistributionPoint{URIs: []string{"/inter.crl"}, CRLIssuer: []byte{0x30, 0}})}}}},
		// Distribution points that cannot be fetched are not a source,
		// as OCSP responders that are not http or https: not applicable,
		// with the reason recorded, and a failure under RequireStatus.
		{name: "LDAP-only distribution point", want: "not applicable", reason: CRLUnsupported,
			pki: crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"ldap://ldap.example/cn=CA?certificateRevocationList"}}}, detail: "ldap://"},
		{name: "LDAP-only distribution point, RequireStatus", want: "unavailable", reason: CRLUnsupported,
			pki: crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"ldap://ldap.example/cn=CA?certificateRevocationList"}}},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				return nil, nil, []Option{RequireStatus()}
			}},
		{name: "LDAP then HTTP", want: "pass", detail: "not used: ldap://ldap.example/cn=CA: unsupported distribution point",
			pki: crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"ldap://ldap.example/cn=CA", "/inter.crl"}}}},
		{name: "directory name distribution point", want: "not applicable", reason: CRLUnsupported,
			pki: crlPKIOptions{leaf: testpki.CertOptions{ExtraExtensions: []pkix.Extension{testpki.CRLDistributionPointsExtension(testpki.DistributionPoint{DirectoryName: []byte{0x30, 0}})}}}},
		{name: "file URL", want: "not applicable", reason: CRLUnsupported, pki: crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"file:///etc/passwd"}}}},
		{name: "file URL, RequireStatus", want: "unavailable", reason: CRLUnsupported, pki: crlPKIOptions{leaf: testpki.CertOptions{CRLDistributionPoints: []string{"file:///etc/passwd"}}},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				return nil, nil, []Option{RequireStatus()}
			}},
		// Delta CRLs.
		{name: "delta revokes", want: "revoked leaf", detail: "delta CRL", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}})
			p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, nil
		}},
		{name: "hold in base", want: "revoked leaf", detail: "certificateHold", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 6)}})
			return nil, nil, nil
		}},
		{name: "delta removes hold", want: "pass", detail: "delta CRL #6", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}, Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 6)}})
			p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 8)}})
			return nil, nil, nil
		}},
		{name: "delta removeFromCRL does not undo keyCompromise", want: "revoked leaf", detail: "does not undo", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}, Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 8)}})
			return nil, nil, nil
		}},
		{name: "delta lists removeFromCRL and keyCompromise", want: "revoked leaf", detail: "delta CRL", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}, Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 6)}})
			p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 8), crlRevoke(p.leaf, 1)}})
			return nil, nil, nil
		}},
		// Duplicate serials in a complete CRL: removeFromCRL (only
		// meaningful in a delta CRL, RFC 5280 5.3.1) is not a revocation,
		// and never hides one.
		{name: "complete CRL lists removeFromCRL then keyCompromise", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 8), crlRevoke(p.leaf, 1)}})
			return nil, nil, nil
		}},
		{name: "complete CRL lists keyCompromise then removeFromCRL", want: "revoked leaf", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1), crlRevoke(p.leaf, 8)}})
			return nil, nil, nil
		}},
		{name: "complete CRL lists removeFromCRL only", want: "pass", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 8)}})
			return nil, nil, nil
		}},
		{name: "preloaded complete CRL lists removeFromCRL then unspecified", want: "revoked leaf", pki: crlPKIOptions{noLeafDP: true},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				return nil, nil, []Option{WithCRLs(testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 8), crlRevoke(p.leaf, -1)}})))}
			}},
		{name: "delta from the certificate's Freshest CRL", want: "revoked leaf",
			pki: crlPKIOptions{leaf: testpki.CertOptions{ExtraExtensions: []pkix.Extension{testpki.FreshestCRLExtension(testpki.DistributionPoint{URIs: []string{"/delta.crl"}})}}},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5)})
				p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(4), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
				return nil, nil, nil
			}},
		{name: "delta alone", want: "unavailable", reason: CRLDeltaOnly,
			setup: pub("/inter.crl", inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5)})},
		{name: "delta with too-new base number", want: "pass", detail: "delta CRL not applied", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}})
			p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(8), DeltaBase: big.NewInt(7), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, nil
		}},
		{name: "delta with another scope", want: "pass", detail: "different issuing distribution points", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}})
			p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5), IDP: &testpki.IDPTemplate{OnlyUser: true}, Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, nil
		}},
		{name: "delta signed by another key", want: "pass", detail: "delta CRL not applied", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/delta.crl")}})
			p.publish(t, "/delta.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(6), DeltaBase: big.NewInt(5), CorruptSignature: true, Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})
			return nil, nil, nil
		}},
		{name: "delta unreachable", want: "pass", detail: "delta CRL not applied", setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
			p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{Number: big.NewInt(5), FreshestCRL: []string{p.url("/nodelta.crl")}})
			return nil, nil, nil
		}},
		// Preloaded CRLs.
		{name: "preloaded, offline", want: "revoked leaf", pki: crlPKIOptions{noLeafDP: true, noInterDP: true},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				return nil, nil, []Option{WithCRLs(testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}})))}
			}},
		{name: "preloaded IDP names a point the certificate lacks", want: "unavailable", reason: CRLScope, pki: crlPKIOptions{noLeafDP: true},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				return nil, nil, []Option{WithCRLs(testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{IDP: &testpki.IDPTemplate{FullNameURIs: []string{"http://x.invalid/p1.crl"}}})))}
			}},
		{name: "preloaded relative IDP name matches", want: "pass",
			pki: crlPKIOptions{leaf: testpki.CertOptions{ExtraExtensions: []pkix.Extension{testpki.CRLDistributionPointsExtension(testpki.DistributionPoint{DirectoryName: crlRelativeDirName("CRL Test Intermediate", "partition 7")})}}},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				return nil, nil, []Option{WithCRLs(testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{IDP: &testpki.IDPTemplate{RelativeCN: "partition 7"}})))}
			}},
		{name: "preloaded relative IDP name differs", want: "unavailable", reason: CRLScope,
			pki: crlPKIOptions{leaf: testpki.CertOptions{ExtraExtensions: []pkix.Extension{testpki.CRLDistributionPointsExtension(testpki.DistributionPoint{DirectoryName: crlRelativeDirName("CRL Test Intermediate", "partition 7")})}}},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				return nil, nil, []Option{WithCRLs(testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{IDP: &testpki.IDPTemplate{RelativeCN: "partition 8"}})))}
			}},
		{name: "preloaded stale, fetched fresh", want: "pass", detail: "fetched",
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				stale := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{ThisUpdate: testpki.Now.Add(-30 * 24 * time.Hour)}))
				return nil, nil, []Option{WithCRLs(stale)}
			}},
		{name: "preloaded base and delta", want: "revoked leaf", detail: "delta CRL #3 applied", pki: crlPKIOptions{noLeafDP: true},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				base := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(2)}))
				delta := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(3), DeltaBase: big.NewInt(2), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}}))
				return nil, nil, []Option{WithCRLs(delta, base)}
			}},
		{name: "preloaded, newest of two decides", want: "pass", pki: crlPKIOptions{noLeafDP: true},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				held := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(7), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 6)}}))
				released := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(8)}))
				return nil, nil, []Option{WithCRLs(held, released)}
			}, detail: "CRL #8"},
		{name: "preloaded, newest of two revokes", want: "revoked leaf", pki: crlPKIOptions{noLeafDP: true},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				older := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(7)}))
				newer := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(8), Entries: []testpki.CRLEntry{crlRevoke(p.leaf, 1)}}))
				return nil, nil, []Option{WithCRLs(older, newer)}
			}},
		{name: "preloaded delta alone", want: "unavailable", reason: CRLDeltaOnly, pki: crlPKIOptions{noLeafDP: true},
			setup: func(t *testing.T, p *crlPKI) ([]*x509.Certificate, []*x509.Certificate, []Option) {
				delta := testpki.Must(p.inter.BuildCRL(testpki.CRLTemplate{Number: big.NewInt(3), DeltaBase: big.NewInt(2)}))
				return nil, nil, []Option{WithCRLs(delta)}
			}},
	}
}

// crlDPs is a CRL distribution points extension with one point per path
// (rewritten to the file server's URL by newCRLPKICase).
func crlDPs(paths ...string) pkix.Extension {
	var dps []testpki.DistributionPoint
	for _, p := range paths {
		dps = append(dps, testpki.DistributionPoint{URIs: []string{p}})
	}
	return testpki.CRLDistributionPointsExtension(dps...)
}

// crlRelativeDirName is the directory name a nameRelativeToCRLIssuer rel
// stands for when the CRL issuer is CN=issuerCN.
func crlRelativeDirName(issuerCN, rel string) []byte {
	rdns := pkix.Name{CommonName: issuerCN}.ToRDNSequence()
	rdns = append(rdns, pkix.RelativeDistinguishedNameSET{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(rel)}}})
	der, err := asn1.Marshal(rdns)
	if err != nil {
		panic(err)
	}
	return der
}

func crlDPWith(dp testpki.DistributionPoint) pkix.Extension {
	return testpki.CRLDistributionPointsExtension(dp)
}

// newCRLPKICase mints the case's PKI, rewriting relative distribution
// point paths ("/x.crl") to the file server's URLs.
func newCRLPKICase(t *testing.T, o crlPKIOptions) *crlPKI {
	files := testpki.NewFileServer()
	t.Cleanup(files.Close)
	rewrite := func(u string) string {
		if strings.HasPrefix(u, "/") {
			return files.URLFor(u)
		}
		return u
	}
	for i, u := range o.leaf.CRLDistributionPoints {
		o.leaf.CRLDistributionPoints[i] = rewrite(u)
	}
	var exts []pkix.Extension
	for _, e := range o.leaf.ExtraExtensions {
		exts = append(exts, crlRewriteExt(e, rewrite))
	}
	o.leaf.ExtraExtensions = exts
	return newCRLPKIWith(t, o, files)
}

func crlRewriteExt(e pkix.Extension, rewrite func(string) string) pkix.Extension {
	// The paths are short ASCII strings inside IA5String URIs: rebuild
	// the extension by re-parsing and re-encoding.
	dps := crlParseTestDPs(e.Value)
	if dps == nil {
		return e
	}
	for i := range dps {
		for j, u := range dps[i].URIs {
			dps[i].URIs[j] = rewrite(u)
		}
	}
	if e.Id.Equal(oidExtFreshest) {
		return testpki.FreshestCRLExtension(dps...)
	}
	return testpki.CRLDistributionPointsExtension(dps...)
}

func TestCRLRFC5280(t *testing.T) {
	t.Parallel()
	for _, tc := range crlRFCCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newCRLPKICase(t, tc.pki)
			var chain, extra []*x509.Certificate
			var opts []Option
			if tc.setup != nil {
				chain, extra, opts = tc.setup(t, p)
			}
			if chain == nil {
				chain = p.chain()
			}
			v := crlVerifier(t, opts...)
			st := crlState(chain, extra...)
			err := crlVerify(v, st)
			leafCN := chain[0].Subject.CommonName
			t.Logf("err: %v%s", err, crlDump(st.Checks()))
			switch {
			case tc.want == "pass":
				if err != nil {
					t.Fatalf("want pass, got %v%s", err, crlDump(st.Checks()))
				}
				if c := crlCheck(t, st, leafCN); c.Outcome != tlsclient.Pass {
					t.Fatalf("leaf check %v: %s", c.Outcome, c.Detail)
				}
			case strings.HasPrefix(tc.want, "revoked "):
				var re *tlsclient.RevokedError
				if !errors.Is(err, tlsclient.ErrRevoked) || !errors.As(err, &re) {
					t.Fatalf("want revoked, got %v%s", err, crlDump(st.Checks()))
				}
				cn := strings.TrimPrefix(tc.want, "revoked ")
				if cn == "leaf" {
					cn = leafCN
				}
				if !strings.Contains(re.Subject, "CN="+cn) || re.Source != "crl" || re.RevokedAt.IsZero() {
					t.Errorf("RevokedError %+v, want subject %q source crl", re, cn)
				}
				if re.URL == "" && !strings.HasPrefix(tc.name, "preloaded") {
					t.Errorf("RevokedError without URL: %+v", re)
				}
			case tc.want == "not applicable":
				if err != nil {
					t.Fatalf("want not applicable, got %v%s", err, crlDump(st.Checks()))
				}
				c := crlCheck(t, st, leafCN)
				if d, _ := c.Data.(Details); c.Outcome != tlsclient.Skip || d.Status != "not applicable" || !slices.Contains(crlReasons(c.Err), tc.reason) {
					t.Fatalf("leaf check %v %+v, error %v; want a skip, not applicable, with %v", c.Outcome, c.Data, c.Err, tc.reason)
				}
			case tc.want == "unavailable":
				var ue *UnavailableError
				if !errors.Is(err, tlsclient.ErrRevocationUnavailable) || !errors.As(err, &ue) {
					t.Fatalf("want unavailable, got %v%s", err, crlDump(st.Checks()))
				}
				if rs := crlReasons(err); !slices.Contains(rs, tc.reason) {
					t.Errorf("reasons %v, want %v in: %v", rs, tc.reason, err)
				}
			default:
				t.Fatalf("bad want %q", tc.want)
			}
			if tc.detail != "" {
				c := crlCheck(t, st, leafCN)
				if !strings.Contains(c.Detail+" "+c.Error, tc.detail) {
					t.Errorf("leaf check %q (error %q) lacks %q", c.Detail, c.Error, tc.detail)
				}
			}
		})
	}
}
