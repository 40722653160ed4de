package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CRLTemplate describes a CRL field by field, for BuildCRL. Zero fields get
// the values of a well-formed CRL; the others make it as strange as a test
// needs (a delta CRL, an Issuing Distribution Point, unknown critical
// extensions, hostile encodings).
type CRLTemplate struct {
	// Version is the version field's value (default 1, meaning v2);
	// OmitVersion leaves the field out, as in a v1 CRL.
	Version     int
	OmitVersion bool
	// RawAlgorithm, when set, replaces the DER AlgorithmIdentifier in the
	// TBSCertList and, unless RawOuterAlgorithm is set, in the envelope.
	RawAlgorithm      []byte
	RawOuterAlgorithm []byte
	// RawIssuer replaces the issuer Name (default: the signer's subject).
	RawIssuer []byte
	// ThisUpdate defaults to an hour before Now and NextUpdate to a week
	// after ThisUpdate; NoNextUpdate leaves nextUpdate out.
	ThisUpdate, NextUpdate time.Time
	NoNextUpdate           bool
	// GeneralizedTime encodes every time as GeneralizedTime (UTCTime by
	// default for years 1950 to 2049).
	GeneralizedTime bool
	Entries         []CRLEntry
	// RawEntries, when set, is used as the contents of
	// revokedCertificates instead of Entries (for hostile encodings).
	RawEntries []byte
	// Number is the CRL number (default 1); NoNumber leaves it out.
	Number   *big.Int
	NoNumber bool
	// AuthorityKeyID defaults to the signer's subject key identifier;
	// NoAKI leaves the extension out.
	AuthorityKeyID []byte
	NoAKI          bool
	// IDP adds an Issuing Distribution Point extension.
	IDP *IDPTemplate
	// DeltaBase makes a delta CRL: the deltaCRLIndicator's BaseCRLNumber.
	DeltaBase *big.Int
	// FreshestCRL adds a Freshest CRL extension pointing at these URIs.
	FreshestCRL []string
	// Extensions are appended to the CRL extensions.
	Extensions []pkix.Extension
	// CorruptSignature flips a bit of the signature.
	CorruptSignature bool
	// Trailing is appended after the CRL's DER.
	Trailing []byte
}

// CRLEntry is one revoked certificate of a CRLTemplate.
type CRLEntry struct {
	Serial *big.Int
	// RawSerial, when set, is used as the DER INTEGER contents instead of
	// Serial (for hostile encodings).
	RawSerial []byte
	// RevokedAt defaults to a day before Now.
	RevokedAt time.Time
	// Reason is the reasonCode; nil leaves the extension out (see Reason).
	Reason *int
	// InvalidityDate adds the invalidityDate extension.
	InvalidityDate time.Time
	// CertificateIssuer adds a certificateIssuer extension naming this
	// DER Name (as in an indirect CRL).
	CertificateIssuer []byte
	// Extensions are appended to the entry's extensions.
	Extensions []pkix.Extension
}

// Reason returns a pointer to a reason code, for CRLEntry.Reason.
func Reason(code int) *int { return &code }

// IDPTemplate describes an Issuing Distribution Point (RFC 5280 5.2.5).
type IDPTemplate struct {
	// FullNameURIs names the distribution point by URIs;
	// RelativeCN by a common name relative to the CRL issuer. At most one.
	FullNameURIs []string
	RelativeCN   string
	OnlyUser     bool
	OnlyCA       bool
	OnlyAttr     bool
	Indirect     bool
	// OnlySomeReasons is a ReasonFlags bit mask (1<<1 keyCompromise ...);
	// 0 leaves the field out.
	OnlySomeReasons uint16
	// NotCritical marks the extension non-critical (RFC 5280 requires
	// critical).
	NotCritical bool
}

// DistributionPoint describes one entry of a CRL Distribution Points or
// Freshest CRL extension, for DistributionPointsExtension.
type DistributionPoint struct {
	// URIs are the fullName's uniformResourceIdentifiers; DirectoryName
	// (a DER Name) is added to fullName as a directoryName when set.
	URIs          []string
	DirectoryName []byte
	// RelativeCN names the point relative to the CRL issuer instead.
	RelativeCN string
	// Reasons is a ReasonFlags bit mask; 0 leaves the field out.
	Reasons uint16
	// CRLIssuer (a DER Name) adds a cRLIssuer field.
	CRLIssuer []byte
}

var (
	oidCRLDP       = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidFreshestCRL = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidIDP         = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidDeltaCRL    = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidCRLNumber   = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidAKI         = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidReasonCode  = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidity  = asn1.ObjectIdentifier{2, 5, 29, 24}
	oidCertIssuer  = asn1.ObjectIdentifier{2, 5, 29, 29}
	oidCommonName  = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// CRLDistributionPointsExtension builds a CRL Distribution Points
// extension (for CertOptions.ExtraExtensions) with any mix of URIs,
// directory names, relative names, reasons and cRLIssuer.
func CRLDistributionPointsExtension(dps ...DistributionPoint) pkix.Extension {
	return pkix.Extension{Id: oidCRLDP, Value: distributionPoints(dps)}
}

// FreshestCRLExtension builds a Freshest CRL extension for a certificate.
func FreshestCRLExtension(dps ...DistributionPoint) pkix.Extension {
	return pkix.Extension{Id: oidFreshestCRL, Value: distributionPoints(dps)}
}

func distributionPoints(dps []DistributionPoint) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, dp := range dps {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if len(dp.URIs) > 0 || dp.DirectoryName != nil || dp.RelativeCN != "" {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						addDPName(b, dp.URIs, dp.DirectoryName, dp.RelativeCN)
					})
				}
				if dp.Reasons != 0 {
					b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { addReasonFlags(b, dp.Reasons) })
				}
				if dp.CRLIssuer != nil {
					b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(dp.CRLIssuer) })
					})
				}
			})
		}
	})
	return b.BytesOrPanic()
}

// addDPName adds the contents of a DistributionPointName's [0] wrapper.
func addDPName(b *cryptobyte.Builder, uris []string, dirName []byte, relCN string) {
	if relCN != "" {
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidCommonName)
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(relCN)) })
			})
		})
		return
	}
	b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		for _, u := range uris {
			b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
		}
		if dirName != nil {
			b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(dirName) })
		}
	})
}

// addReasonFlags adds the contents of a ReasonFlags BIT STRING (minimal
// DER: no trailing zero bits).
func addReasonFlags(b *cryptobyte.Builder, flags uint16) {
	high := 15
	for high > 0 && flags&(1<<high) == 0 {
		high--
	}
	out := make([]byte, high/8+1)
	for i := 0; i <= high; i++ {
		if flags&(1<<i) != 0 {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	b.AddUint8(uint8(7 - high%8))
	b.AddBytes(out)
}

// sigAlg returns the AlgorithmIdentifier DER and the hash for a key.
func sigAlg(key crypto.Signer) ([]byte, crypto.Hash, error) {
	var b cryptobyte.Builder
	var h crypto.Hash
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		oid := asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
		h = crypto.SHA256
		if k.Curve == elliptic.P384() {
			oid, h = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, crypto.SHA384
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	case *rsa.PublicKey:
		h = crypto.SHA256
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11})
			b.AddASN1NULL()
		})
	case ed25519.PublicKey:
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 101, 112})
		})
	default:
		return nil, 0, fmt.Errorf("testpki: unsupported key %T", key.Public())
	}
	der, err := b.Bytes()
	return der, h, err
}

func sign(key crypto.Signer, h crypto.Hash, tbs []byte) ([]byte, error) {
	digest := tbs
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(tbs)
		digest = s[:]
	case crypto.SHA384:
		s := sha512.Sum384(tbs)
		digest = s[:]
	}
	return key.Sign(rand.Reader, digest, h)
}

func addTime(b *cryptobyte.Builder, t time.Time, generalized bool) {
	t = t.UTC()
	if !generalized && t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
		return
	}
	b.AddASN1GeneralizedTime(t)
}

func addExtension(b *cryptobyte.Builder, id asn1.ObjectIdentifier, critical bool, value []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(id)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1OctetString(value)
	})
}

func bigInt(n *big.Int) []byte {
	var b cryptobyte.Builder
	b.AddASN1BigInt(n)
	return b.BytesOrPanic()
}

// BuildCRL builds and signs a CRL described field by field. The CRL is
// signed with ca's key and names ca as its issuer unless the template says
// otherwise.
func (ca *Cert) BuildCRL(t CRLTemplate) ([]byte, error) {
	alg, h, err := sigAlg(ca.Key)
	if err != nil {
		return nil, err
	}
	if t.RawAlgorithm != nil {
		alg = t.RawAlgorithm
	}
	outer := alg
	if t.RawOuterAlgorithm != nil {
		outer = t.RawOuterAlgorithm
	}
	issuer := ca.Cert.RawSubject
	if t.RawIssuer != nil {
		issuer = t.RawIssuer
	}
	this, next := t.ThisUpdate, t.NextUpdate
	if this.IsZero() {
		this = Now.Add(-time.Hour)
	}
	if next.IsZero() {
		next = this.Add(7 * 24 * time.Hour)
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if !t.OmitVersion {
			v := t.Version
			if v == 0 {
				v = 1
			}
			b.AddASN1Int64(int64(v))
		}
		b.AddBytes(alg)
		b.AddBytes(issuer)
		addTime(b, this, t.GeneralizedTime)
		if !t.NoNextUpdate {
			addTime(b, next, t.GeneralizedTime)
		}
		if t.RawEntries != nil {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(t.RawEntries) })
		} else if len(t.Entries) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range t.Entries {
					addEntry(b, e, t.GeneralizedTime)
				}
			})
		}
		exts := crlExtensions(ca, t)
		if len(exts) > 0 {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(exts) })
			})
		}
	})
	tbs, err := tb.Bytes()
	if err != nil {
		return nil, err
	}
	sig, err := sign(ca.Key, h, tbs)
	if err != nil {
		return nil, err
	}
	if t.CorruptSignature {
		sig[len(sig)/2] ^= 0x01
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(outer)
		b.AddASN1BitString(sig)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return append(der, t.Trailing...), nil
}

func addEntry(b *cryptobyte.Builder, e CRLEntry, generalized bool) {
	at := e.RevokedAt
	if at.IsZero() {
		at = Now.Add(-24 * time.Hour)
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if e.RawSerial != nil {
			b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(e.RawSerial) })
		} else {
			b.AddASN1BigInt(e.Serial)
		}
		addTime(b, at, generalized)
		if e.Reason == nil && e.InvalidityDate.IsZero() && e.CertificateIssuer == nil && len(e.Extensions) == 0 {
			return
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if e.Reason != nil {
				var v cryptobyte.Builder
				v.AddASN1Enum(int64(*e.Reason))
				addExtension(b, oidReasonCode, false, v.BytesOrPanic())
			}
			if !e.InvalidityDate.IsZero() {
				var v cryptobyte.Builder
				v.AddASN1GeneralizedTime(e.InvalidityDate.UTC())
				addExtension(b, oidInvalidity, false, v.BytesOrPanic())
			}
			if e.CertificateIssuer != nil {
				var v cryptobyte.Builder
				v.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(e.CertificateIssuer) })
				})
				addExtension(b, oidCertIssuer, true, v.BytesOrPanic())
			}
			for _, x := range e.Extensions {
				addExtension(b, x.Id, x.Critical, x.Value)
			}
		})
	})
}

// crlExtensions returns the concatenated Extension elements of a template.
func crlExtensions(ca *Cert, t CRLTemplate) []byte {
	var b cryptobyte.Builder
	if !t.NoAKI {
		kid := ca.Cert.SubjectKeyId
		if t.AuthorityKeyID != nil {
			kid = t.AuthorityKeyID
		}
		if kid != nil {
			var v cryptobyte.Builder
			v.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(kid) })
			})
			addExtension(&b, oidAKI, false, v.BytesOrPanic())
		}
	}
	if !t.NoNumber {
		n := t.Number
		if n == nil {
			n = big.NewInt(1)
		}
		addExtension(&b, oidCRLNumber, false, bigInt(n))
	}
	if t.DeltaBase != nil {
		addExtension(&b, oidDeltaCRL, true, bigInt(t.DeltaBase))
	}
	if t.IDP != nil {
		addExtension(&b, oidIDP, !t.IDP.NotCritical, idpValue(t.IDP))
	}
	if len(t.FreshestCRL) > 0 {
		addExtension(&b, oidFreshestCRL, false, distributionPoints([]DistributionPoint{{URIs: t.FreshestCRL}}))
	}
	for _, x := range t.Extensions {
		addExtension(&b, x.Id, x.Critical, x.Value)
	}
	return b.BytesOrPanic()
}

func idpValue(p *IDPTemplate) []byte {
	var b cryptobyte.Builder
	flag := func(b *cryptobyte.Builder, tag int, on bool) {
		if on {
			b.AddASN1(cbasn1.Tag(tag).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
		}
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if len(p.FullNameURIs) > 0 || p.RelativeCN != "" {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				addDPName(b, p.FullNameURIs, nil, p.RelativeCN)
			})
		}
		flag(b, 1, p.OnlyUser)
		flag(b, 2, p.OnlyCA)
		if p.OnlySomeReasons != 0 {
			b.AddASN1(cbasn1.Tag(3).ContextSpecific(), func(b *cryptobyte.Builder) { addReasonFlags(b, p.OnlySomeReasons) })
		}
		flag(b, 4, p.Indirect)
		flag(b, 5, p.OnlyAttr)
	})
	return b.BytesOrPanic()
}

// IssueCRLSigner mints a separate CRL-signing certificate for ca: the same
// subject as ca, issued by ca, with keyUsage cRLSign (or ku when not 0) and
// no extended key usage. CRLs it signs name ca as their issuer.
func (ca *Cert) IssueCRLSigner(ku x509.KeyUsage) (*Cert, error) {
	if ku == 0 {
		ku = x509.KeyUsageCRLSign
	}
	subject := ca.Cert.Subject
	return mint(CertOptions{Subject: &subject, KeyUsage: ku, ExtKeyUsage: []x509.ExtKeyUsage{}}, false, ca)
}

// BigCRLSerial is the serial of entry i of a BigCRL: 16 bytes, positive,
// distinct for distinct i.
func BigCRLSerial(i int) []byte {
	var s [16]byte
	binary.BigEndian.PutUint64(s[8:], uint64(i))
	h := sha256.Sum256(s[8:])
	copy(s[:8], h[:8])
	s[0] = s[0]&0x7f | 0x40 // positive, and 16 bytes long
	return s[:]
}

// BigCRL builds, fast, a CRL of n entries signed once by ca: serials
// BigCRLSerial(0..n-1), revocation times spread over the year before Now,
// every third entry with a reasonCode (keyCompromise). It is for
// benchmarks: a million entries take a few hundred milliseconds.
func (ca *Cert) BigCRL(n int) ([]byte, error) {
	if n < 0 {
		return nil, errors.New("testpki: BigCRL: negative size")
	}
	var reasonExt cryptobyte.Builder
	reasonExt.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		var v cryptobyte.Builder
		v.AddASN1Enum(1)
		addExtension(b, oidReasonCode, false, v.BytesOrPanic())
	})
	reason := reasonExt.BytesOrPanic()
	var entries []byte
	entries = make([]byte, 0, n*48)
	base := Now.Add(-365 * 24 * time.Hour).UTC()
	for i := range n {
		at := base.Add(time.Duration(i%(365*24*3600)) * time.Second)
		var e cryptobyte.Builder
		e.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(BigCRLSerial(i)) })
			b.AddASN1UTCTime(at)
			if i%3 == 0 {
				b.AddBytes(reason)
			}
		})
		entries = append(entries, e.BytesOrPanic()...)
	}
	alg, h, err := sigAlg(ca.Key)
	if err != nil {
		return nil, err
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddBytes(alg)
		b.AddBytes(ca.Cert.RawSubject)
		b.AddASN1UTCTime(Now.Add(-time.Hour).UTC())
		b.AddASN1UTCTime(Now.Add(7 * 24 * time.Hour).UTC())
		if n > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(entries) })
		}
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(crlExtensions(ca, CRLTemplate{})) })
		})
	})
	tbs, err := tb.Bytes()
	if err != nil {
		return nil, err
	}
	sig, err := sign(ca.Key, h, tbs)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(alg)
		b.AddASN1BitString(sig)
	})
	return b.Bytes()
}
