package testpki

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"time"
)

// CRLOptions describe a CRL built with crypto/x509 (package revocation's
// tests build the exotic ones: delta CRLs, IDPs, hostile encodings).
type CRLOptions struct {
	Entries    []x509.RevocationListEntry
	Number     int64 // defaults to 1
	ThisUpdate time.Time
	NextUpdate time.Time
}

// CRL returns a DER CRL signed by ca: thisUpdate an hour before Now and
// nextUpdate a week later unless set.
func (ca *Cert) CRL(opts CRLOptions) ([]byte, error) {
	this, next := opts.ThisUpdate, opts.NextUpdate
	if this.IsZero() {
		this = Now.Add(-time.Hour)
	}
	if next.IsZero() {
		next = this.Add(7 * 24 * time.Hour)
	}
	n := opts.Number
	if n == 0 {
		n = 1
	}
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(n),
		ThisUpdate:                this,
		NextUpdate:                next,
		RevokedCertificateEntries: opts.Entries,
	}
	return x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
}
