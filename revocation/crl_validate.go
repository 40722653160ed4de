package revocation

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient/internal/crlscan"
)

var (
	oidExtCRLDP    = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidExtFreshest = asn1.ObjectIdentifier{2, 5, 29, 46}
)

// certPoints reads a certificate's CRL Distribution Points (or, with
// freshest, its Freshest CRL) extension from the raw bytes: crypto/x509
// keeps only the fullName URIs, and scope checks need the names, reasons
// and cRLIssuer too.
func certPoints(cert *x509.Certificate, freshest bool) ([]crlscan.DistributionPoint, error) {
	id := oidExtCRLDP
	if freshest {
		id = oidExtFreshest
	}
	for _, e := range cert.Extensions {
		if e.Id.Equal(id) {
			return crlscan.ParseDistributionPoints(e.Value)
		}
	}
	return nil, nil
}

// pointLabel names a distribution point in messages.
func pointLabel(dp crlscan.DistributionPoint) string {
	if u := dp.URIs(); len(u) > 0 {
		return strings.Join(u, ", ")
	}
	switch {
	case dp.Name != nil && dp.Name.RelativeName != nil:
		return "a name relative to the CRL issuer"
	case dp.Name != nil:
		return "a directory name"
	}
	return "a cRLIssuer only"
}

func isCA(c *x509.Certificate) bool { return c.BasicConstraintsValid && c.IsCA }

// scope checks that crl's Issuing Distribution Point covers cert (RFC 5280
// 6.3.3 b.2) and returns the reasons it covers. dp is the distribution
// point of the certificate the CRL was fetched from, nil for a preloaded
// CRL (then the certificate's distribution points, dps, are matched).
func scope(c *crlscan.CRL, cert *x509.Certificate, dp *crlscan.DistributionPoint, dps []crlscan.DistributionPoint, url string) (crlscan.ReasonFlags, error) {
	covered := crlscan.AllReasons
	idp := c.IDP
	if idp != nil && (idp.IndirectCRL || c.IndirectEntries) || idp == nil && c.IndirectEntries {
		return 0, crlErr(CRLIndirect, url, "the CRL is an indirect CRL (it lists certificates of other issuers)")
	}
	if idp != nil && idp.Name != nil {
		idpNames := idp.Name.Names(c.RawIssuer)
		matches := func(p crlscan.DistributionPoint) bool {
			for _, a := range p.Name.Names(cert.RawIssuer) {
				for _, b := range idpNames {
					if a.Equal(b) {
						return true
					}
				}
			}
			return false
		}
		found := false
		if dp != nil {
			found = dp.Name != nil && matches(*dp)
		} else {
			for i := range dps {
				if dps[i].Name != nil && dps[i].CRLIssuer == nil && matches(dps[i]) {
					found, dp = true, &dps[i]
					break
				}
			}
		}
		if !found {
			return 0, crlErr(CRLScope, url, "its issuing distribution point (%s) is not one of the certificate's CRL distribution points", idpLabel(idp, c.RawIssuer))
		}
	}
	if idp != nil {
		switch {
		case idp.OnlyContainsUserCerts && isCA(cert):
			return 0, crlErr(CRLScope, url, "it covers only end-entity certificates and this is a CA certificate")
		case idp.OnlyContainsCACerts && !isCA(cert):
			return 0, crlErr(CRLScope, url, "it covers only CA certificates and this is an end-entity certificate")
		case idp.OnlyContainsAttributeCerts:
			return 0, crlErr(CRLScope, url, "it covers only attribute certificates")
		}
		if idp.HasOnlySomeReasons {
			covered &= idp.OnlySomeReasons
		}
	}
	if dp != nil && dp.HasReasons {
		covered &= dp.Reasons
	}
	return covered, nil
}

func idpLabel(idp *crlscan.IssuingDistributionPoint, issuer []byte) string {
	var parts []string
	for _, n := range idp.Name.Names(issuer) {
		switch {
		case n.IsURI():
			parts = append(parts, string(n.Value))
		case n.Tag == 4:
			parts = append(parts, "directoryName "+nameText(n.Value))
		default:
			parts = append(parts, fmt.Sprintf("a general name of type %d", n.Tag))
		}
	}
	return strings.Join(parts, ", ")
}

// reasonsText lists the reasons of a mask, for messages.
func reasonsText(f crlscan.ReasonFlags) string {
	names := []string{1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
		5: "cessationOfOperation", 6: "certificateHold", 7: "privilegeWithdrawn", 8: "aACompromise"}
	var out []string
	for i := 1; i <= 8; i++ {
		if f&(1<<i) != 0 {
			out = append(out, names[i])
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// checkTimes checks thisUpdate and nextUpdate against now, with the clock
// skew; a CRL without nextUpdate is used up to maxAge after thisUpdate.
func (s *crlSource) checkTimes(c *crlscan.CRL, now time.Time, url string) error {
	skew := s.opts.skew
	if c.ThisUpdate.After(now.Add(skew)) {
		return crlErr(CRLNotYetValid, url, "thisUpdate %s is after the verification time %s", stamp(c.ThisUpdate), stamp(now))
	}
	if c.NextUpdate.IsZero() {
		if limit := c.ThisUpdate.Add(s.opts.maxAge); now.After(limit.Add(skew)) {
			return crlErr(CRLExpired, url, "it has no nextUpdate and was issued at %s, more than %s before the verification time %s", stamp(c.ThisUpdate), s.opts.maxAge, stamp(now))
		}
		return nil
	}
	if now.After(c.NextUpdate.Add(skew)) {
		return crlErr(CRLExpired, url, "nextUpdate %s has passed (verification time %s)", stamp(c.NextUpdate), stamp(now))
	}
	return nil
}

// checkExtensions refuses CRLs with critical extensions the scanner does
// not interpret, at CRL or entry level.
func checkExtensions(c *crlscan.CRL, url string) error {
	if len(c.UnhandledCritical) > 0 {
		return crlErr(CRLCriticalExtension, url, "CRL extension %v is critical", c.UnhandledCritical[0])
	}
	if len(c.EntryUnhandledCritical) > 0 {
		return crlErr(CRLCriticalExtension, url, "entry extension %v is critical", c.EntryUnhandledCritical[0])
	}
	return nil
}

// selectSigner finds who signed c for the certificate of r: r's issuer, or
// a separate CRL-signing certificate of the same CA (found among the
// certificates the server sent or supplied by WithCRLSigners) that is
// authorized (see authorized).
func (s *crlSource) selectSigner(r *request, c *crlscan.CRL, url string) (*x509.Certificate, error) {
	cands, err := s.signerCandidates(r, c, url)
	if err != nil {
		return nil, err
	}
	return s.verifySigner(r, c, cands, url)
}

// signerCandidates makes the cheap checks on c's header, before its
// entries are read: its issuer name is the certificate's issuer, its
// authority key identifier names the issuer's key or that of a candidate
// CRL-signing certificate with the CA's name, and its signature algorithm
// is supported. It returns the candidates for verifySigner.
func (s *crlSource) signerCandidates(r *request, c *crlscan.CRL, url string) ([]*x509.Certificate, error) {
	if !bytes.Equal(c.RawIssuer, r.cert.RawIssuer) {
		return nil, crlErr(CRLWrongIssuer, url, "the CRL is issued by %s, the certificate by %s", nameText(c.RawIssuer), nameText(r.cert.RawIssuer))
	}
	cands := []*x509.Certificate{r.issuer}
	seen := map[string]bool{string(r.issuer.Raw): true}
	for _, list := range [][]*x509.Certificate{s.opts.crlSigners, r.st.ConnectionState.PeerCertificates} {
		for _, c := range list {
			if c != nil && !seen[string(c.Raw)] {
				seen[string(c.Raw)] = true
				cands = append(cands, c)
			}
		}
	}
	var keyMatch []*x509.Certificate
	for _, cand := range cands {
		if !bytes.Equal(cand.RawSubject, c.RawIssuer) {
			continue
		}
		if c.AuthorityKeyID != nil && len(cand.SubjectKeyId) > 0 && !bytes.Equal(cand.SubjectKeyId, c.AuthorityKeyID) {
			continue
		}
		keyMatch = append(keyMatch, cand)
	}
	if len(keyMatch) == 0 {
		return nil, crlErr(CRLKeyMismatch, url, "its authority key identifier %X is not the issuer's key (%X) nor that of a known CRL-signing certificate", c.AuthorityKeyID, r.issuer.SubjectKeyId)
	}
	if c.SignatureAlgorithmErr != nil {
		return nil, &CRLError{Reason: CRLBadSignature, URL: url, Detail: "unsupported signature algorithm", Err: c.SignatureAlgorithmErr}
	}
	return keyMatch, nil
}

// verifySigner checks c's signature with each candidate of
// signerCandidates and returns the first that verifies it and may sign
// CRLs. It does not touch the entries, so it may run while ScanEntries
// reads them.
func (s *crlSource) verifySigner(r *request, c *crlscan.CRL, keyMatch []*x509.Certificate, url string) (*x509.Certificate, error) {
	var errs []error
	var sigErr error
	for _, cand := range keyMatch {
		if err := c.CheckSignature(cand); err != nil {
			sigErr = err
			continue
		}
		if err := s.authorized(r, cand, url); err != nil {
			errs = append(errs, err)
			continue
		}
		return cand, nil
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	what := "the issuer's key"
	if len(keyMatch) > 1 || keyMatch[0] != r.issuer {
		what = fmt.Sprintf("any of %d candidate keys of the CA", len(keyMatch))
	}
	return nil, &CRLError{Reason: CRLBadSignature, URL: url, Detail: "the signature does not verify with " + what, Err: sigErr}
}

// authorized checks that signer may sign CRLs for r's certificate. The
// issuer itself may, unless it has a key usage extension without cRLSign
// (RFC 5280 4.2.1.3 and 6.3.3 (f): key usage is checked when present; real
// CA certificates without it exist). A separate CRL-signing certificate (it
// has the issuer's name: signerCandidates) must be a key of the same CA,
// which is narrower than RFC 5280's "the same trust anchor": a key usage
// extension with cRLSign (absent key usage is not enough, or any end-entity
// certificate with the CA's name would do), issued by the issuer itself or
// by the issuer's own issuer in the verified chain (the CA that certified
// the issuer's key), and valid at the verification time.
func (s *crlSource) authorized(r *request, signer *x509.Certificate, url string) error {
	if signer.Equal(r.issuer) {
		if signer.KeyUsage != 0 && signer.KeyUsage&x509.KeyUsageCRLSign == 0 {
			return crlErr(CRLSignerNotAuthorized, url, "the issuer %q has a key usage extension without cRLSign", signer.Subject)
		}
		return nil
	}
	if signer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		if signer.KeyUsage == 0 {
			return crlErr(CRLSignerNotAuthorized, url, "the CRL-signing certificate %q (serial %X) has no key usage extension: a separate CRL signer needs cRLSign", signer.Subject, signer.SerialNumber)
		}
		return crlErr(CRLSignerNotAuthorized, url, "the CRL-signing certificate %q (serial %X) has a key usage extension without cRLSign", signer.Subject, signer.SerialNumber)
	}
	if r.now.Before(signer.NotBefore) || r.now.After(signer.NotAfter) {
		return crlErr(CRLSignerNotAuthorized, url, "the CRL-signing certificate %q (serial %X) is not valid at %s (valid %s to %s)",
			signer.Subject, signer.SerialNumber, stamp(r.now), stamp(signer.NotBefore), stamp(signer.NotAfter))
	}
	parents := []*x509.Certificate{r.issuer}
	if i := r.index + 2; i < len(r.chain) && r.chain[i] != nil {
		parents = append(parents, r.chain[i])
	}
	var sigErr error
	for _, p := range parents {
		if !bytes.Equal(signer.RawIssuer, p.RawSubject) {
			continue
		}
		if sigErr = signer.CheckSignatureFrom(p); sigErr == nil {
			return nil
		}
	}
	want := "not by the certificate's issuer"
	if len(parents) > 1 {
		want = fmt.Sprintf("neither by the certificate's issuer nor by the issuer's own issuer %q", parents[1].Subject)
	}
	return &CRLError{Reason: CRLSignerNotAuthorized, URL: url,
		Detail: fmt.Sprintf("the CRL-signing certificate %q (serial %X) is issued by %s, %s: it is not a key of the same CA", signer.Subject, signer.SerialNumber, nameText(signer.RawIssuer), want),
		Err:    sigErr}
}

// nameText renders a DER Name for messages.
func nameText(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return fmt.Sprintf("an unparsable name (%d bytes)", len(raw))
	}
	return fmt.Sprintf("%q", seq.String())
}
