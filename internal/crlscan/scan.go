// Package crlscan reads X.509 CRLs (RFC 5280 section 5) in one pass over the
// DER and keeps only what revocation checking needs: the CRL's own fields and
// extensions, and a compact index of its entries (serial number, revocation
// time, reason) with constant-time lookup.
//
// It is built for CRLs of millions of entries: crypto/x509's
// ParseRevocationList keeps a big.Int, a time.Time, the raw entry and its
// extensions for each entry (about 350 bytes kept, and more allocated); the
// scanner keeps at most 48 bytes per entry and allocates a handful of slices
// for the whole CRL.
//
// # Agreement with crypto/x509
//
// The scanner accepts what x509.ParseRevocationList accepts, with the same
// serial numbers, revocation times (to the second) and reasons, except where
// it is deliberately stricter; those rejections wrap ErrStricter:
//
//   - trailing bytes inside the CertificateList after the signature, inside
//     the TBSCertList after the extensions, after an entry's fields, or
//     inside an extension (crypto/x509 ignores them; bytes after the whole
//     CRL are ignored by both, as real CRLs are published with a stray
//     newline);
//   - an extension repeated in the CRL or in one entry (RFC 5280 4.2);
//   - a reasonCode outside RFC 5280's CRLReason values (0-6, 8-10; the
//     encoding of an integer is checked as crypto/x509 does);
//   - a malformed value in an extension crypto/x509 does not interpret:
//     issuingDistributionPoint, deltaCRLIndicator, freshestCRL,
//     certificateIssuer (an entry extension);
//   - a negative or longer than 20 octets CRL number or BaseCRLNumber
//     (RFC 5280 5.2.3).
//
// The scanner is never laxer: a CRL crypto/x509 rejects, the scanner rejects
// too (FuzzScan checks both directions). Other differences, none of which
// changes a verdict: revocation times with fractional seconds are truncated
// to the second; a serial listed twice is found with its first entry whose
// reason is not removeFromCRL, or its first entry when every one is (see
// Lookup); an unknown signature algorithm is accepted by the parse (as
// crypto/x509 does) and refused by CheckSignature.
//
// # Use
//
// Parse reads everything; it does not verify the signature. A loader that
// wants the signature checked while the entries are indexed calls
// ParseHeader (the envelope, the TBSCertList fields and extensions: enough
// to pick the signer by issuer name and AKI), then CheckSignature and
// ScanEntries concurrently, then Release to drop the reference to the DER.
package crlscan

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/big"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlsclient/tlsclient/internal/x509util"
)

// ErrStricter marks the rejections crypto/x509 would not make (see the
// package documentation).
var ErrStricter = errors.New("stricter than crypto/x509")

// Error is a CRL the scanner could not read. Field names the part of the
// CRL (for example "entry 41: serial number"). It wraps ErrStricter when the
// rejection is one crypto/x509 would not make.
type Error struct {
	Field string
	Msg   string
	Err   error
}

func (e *Error) Error() string {
	s := "malformed CRL: " + e.Field
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil && !errors.Is(e.Err, ErrStricter) {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func malformed(field string) error { return &Error{Field: field} }

func strict(field, msg string) error { return &Error{Field: field, Msg: msg, Err: ErrStricter} }

// Reason values kept in the index: the CRLReason code (RFC 5280 5.3.1),
// or NoReason when the entry has no reasonCode extension.
const (
	ReasonRemoveFromCRL = 8
	NoReason            = 0xFF
)

// validReason reports whether r is a CRLReason of RFC 5280 5.3.1.
func validReason(r int) bool { return r >= 0 && r <= 10 && r != 7 }

// Extension OIDs, as DER contents.
var (
	oidAKI          = []byte{0x55, 0x1d, 0x23} // 2.5.29.35
	oidCRLNumber    = []byte{0x55, 0x1d, 0x14} // 2.5.29.20
	oidDeltaCRL     = []byte{0x55, 0x1d, 0x1b} // 2.5.29.27
	oidIDP          = []byte{0x55, 0x1d, 0x1c} // 2.5.29.28
	oidFreshest     = []byte{0x55, 0x1d, 0x2e} // 2.5.29.46
	oidReasonCode   = []byte{0x55, 0x1d, 0x15} // 2.5.29.21
	oidInvalidity   = []byte{0x55, 0x1d, 0x18} // 2.5.29.24
	oidCertIssuer   = []byte{0x55, 0x1d, 0x1d} // 2.5.29.29
	oidAuthInfoAcc  = []byte{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01}
	oidExpiredCerts = []byte{0x55, 0x1d, 0x3c} // 2.5.29.60 ExpiredCertsOnCRL (X.509 2005), informative
)

// Extension is a CRL or entry extension the scanner does not interpret.
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
}

// CRL is a scanned CRL: its fields and the index of its entries. It is
// immutable after Parse except for Release, and safe for concurrent lookups.
type CRL struct {
	// RawIssuer is the DER issuer Name (a copy).
	RawIssuer []byte
	// SignatureAlgorithm is the algorithm of the signature, or
	// x509.UnknownSignatureAlgorithm (CheckSignature then fails with
	// SignatureAlgorithmErr).
	SignatureAlgorithm    x509.SignatureAlgorithm
	SignatureAlgorithmErr error
	ThisUpdate            time.Time
	// NextUpdate is zero when the CRL has none.
	NextUpdate time.Time
	// Number is the CRL number, nil when absent.
	Number *big.Int
	// AuthorityKeyID is the keyIdentifier of the AKI extension, nil when
	// absent.
	AuthorityKeyID []byte
	// IDP is the Issuing Distribution Point, nil when absent.
	IDP *IssuingDistributionPoint
	// RawIDP is the DER value of the Issuing Distribution Point extension
	// (a copy), nil when absent: with the issuer, it names the CRL's
	// scope.
	RawIDP []byte
	// IDPCritical reports whether the IDP extension is marked critical
	// (RFC 5280 requires it).
	IDPCritical bool
	// BaseCRLNumber is the deltaCRLIndicator of a delta CRL, nil for a
	// complete CRL.
	BaseCRLNumber *big.Int
	// Freshest lists the distribution points of the Freshest CRL (delta
	// CRL) extension.
	Freshest []DistributionPoint
	// UnhandledCritical lists the critical CRL extensions the scanner does
	// not interpret; a relying party must not use the CRL when it is not
	// empty (RFC 5280 5.2).
	UnhandledCritical []asn1.ObjectIdentifier
	// EntryUnhandledCritical lists (once each) the critical entry
	// extensions the scanner does not interpret.
	EntryUnhandledCritical []asn1.ObjectIdentifier
	// IndirectEntries reports that some entry carries a certificateIssuer
	// extension (an indirect CRL).
	IndirectEntries bool

	idx index

	// tbs and sig reference the DER until Release; pending, the entries
	// until ScanEntries.
	tbs, sig, pending []byte
}

// IsDelta reports whether the CRL is a delta CRL (it carries a
// deltaCRLIndicator).
func (c *CRL) IsDelta() bool { return c.BaseCRLNumber != nil }

// Len returns the number of entries.
func (c *CRL) Len() int { return c.idx.len() }

// Entry is one revoked certificate.
type Entry struct {
	// Serial is the serial number as the contents of a DER INTEGER
	// (minimal two's complement, big-endian): equal bytes are equal
	// integers.
	Serial []byte
	// RevokedAt is the revocationDate, in Unix seconds.
	RevokedAt int64
	// Reason is the reasonCode, NoReason when absent.
	Reason uint8
}

// Time returns RevokedAt as a time.Time in UTC.
func (e Entry) Time() time.Time { return time.Unix(e.RevokedAt, 0).UTC() }

// Lookup finds the entry for a serial number. When a serial is listed more
// than once, the first entry that revokes it is returned, that is whose
// reason is not removeFromCRL (an entry without a reason revokes); the
// first entry when none does. A CA-signed CRL that lists a serial both as
// removeFromCRL and as revoked is contradictory, and reading the removal
// first must not hide the revocation.
func (c *CRL) Lookup(serial *big.Int) (Entry, bool) {
	return c.LookupBytes(SerialBytes(serial))
}

// LookupBytes finds the entry for a serial number given as the contents of
// its DER INTEGER (see SerialBytes).
func (c *CRL) LookupBytes(serial []byte) (Entry, bool) {
	i, ok := c.idx.find(serial)
	if !ok {
		return Entry{}, false
	}
	return c.idx.entry(i), true
}

// All calls yield for each entry, in CRL order, until it returns false.
func (c *CRL) All(yield func(Entry) bool) {
	for i := range c.idx.len() {
		if !yield(c.idx.entry(i)) {
			return
		}
	}
}

// RetainedBytes is the memory held by the index, exactly (the CRL's other
// fields are a few hundred bytes).
func (c *CRL) RetainedBytes() int { return c.idx.size() }

// CheckSignature verifies the CRL's signature with signer's public key. It
// does not check signer's key usage or validity: that is the caller's
// policy. It fails after Release.
func (c *CRL) CheckSignature(signer *x509.Certificate) error {
	if c.tbs == nil {
		return errors.New("crlscan: CheckSignature after Release")
	}
	if c.SignatureAlgorithmErr != nil {
		return c.SignatureAlgorithmErr
	}
	return signer.CheckSignature(c.SignatureAlgorithm, c.tbs, c.sig)
}

// Release drops the references to the DER given to Parse, so that only the
// index is retained. CheckSignature fails afterwards.
func (c *CRL) Release() { c.tbs, c.sig, c.pending = nil, nil, nil }

// SerialBytes returns the contents of the DER INTEGER encoding n: minimal
// two's complement, big-endian. It is how serials are compared.
func SerialBytes(n *big.Int) []byte {
	if n == nil {
		return nil
	}
	switch n.Sign() {
	case 0:
		return []byte{0}
	case 1:
		b := n.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Negative: two's complement of the minimal length.
	m := new(big.Int).Not(n) // -n-1 >= 0
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

// SerialInt is the inverse of SerialBytes.
func SerialInt(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return n
}

// validInteger reports whether b is the contents of a DER INTEGER (the
// check cryptobyte applies).
func validInteger(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) == 1 {
		return true
	}
	return !(b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 == 0x80)
}

// Parse scans a DER CRL: envelope, TBSCertList fields, every entry and the
// CRL extensions, and builds the entry index. The CRL keeps references into
// der until Release. It does not verify the signature. It is ParseHeader
// followed by ScanEntries.
func Parse(der []byte) (*CRL, error) {
	c, err := ParseHeader(der)
	if err != nil {
		return nil, err
	}
	if err := c.ScanEntries(); err != nil {
		return nil, err
	}
	return c, nil
}

// ScanEntries reads the entries located by ParseHeader and builds the
// index. It may run concurrently with CheckSignature; lookups must wait for
// it. Calling it again does nothing.
func (c *CRL) ScanEntries() error {
	if c.pending == nil {
		return nil
	}
	err := c.scanEntries(c.pending, true)
	c.pending = nil
	return err
}

// ParseHeader reads everything but the entries, which it only locates:
// signer selection (issuer, AKI) and the signature check can then happen
// before, or while, ScanEntries reads them.
func ParseHeader(der []byte) (*CRL, error) {
	input := cryptobyte.String(der)
	var certList, tbsElem, tbs, outerAI cryptobyte.String
	if !input.ReadASN1(&certList, cbasn1.SEQUENCE) {
		return nil, malformed("CertificateList")
	}
	// Bytes after the CRL are ignored, as crypto/x509 does: real CRLs are
	// published with a stray newline, and the signature does not cover
	// them.
	if !certList.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return nil, malformed("TBSCertList")
	}
	c := &CRL{tbs: tbsElem}
	tbs = tbsElem
	if !tbs.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, malformed("TBSCertList")
	}
	if !tbs.PeekASN1Tag(cbasn1.INTEGER) {
		return nil, &Error{Field: "version", Msg: "absent (v1 CRLs are not supported)"}
	}
	var version int
	if !tbs.ReadASN1Integer(&version) {
		return nil, malformed("version")
	}
	if version != 1 {
		return nil, &Error{Field: "version", Msg: fmt.Sprintf("unsupported version %d", version)}
	}
	var innerAI cryptobyte.String
	if !tbs.ReadASN1(&innerAI, cbasn1.SEQUENCE) {
		return nil, malformed("signature algorithm")
	}
	if !certList.ReadASN1(&outerAI, cbasn1.SEQUENCE) {
		return nil, malformed("signatureAlgorithm")
	}
	if !bytes.Equal(innerAI, outerAI) {
		return nil, &Error{Field: "signature algorithm", Msg: "inner and outer algorithm identifiers differ"}
	}
	if err := checkAI(innerAI); err != nil {
		return nil, err
	}
	c.SignatureAlgorithm, c.SignatureAlgorithmErr = x509util.ParseSignatureAlgorithm(innerAI)
	var sig asn1.BitString
	if !certList.ReadASN1BitString(&sig) {
		return nil, malformed("signature")
	}
	c.sig = sig.RightAlign()
	if !certList.Empty() {
		return nil, strict("CertificateList", "trailing data after the signature")
	}

	var issuer cryptobyte.String
	if !tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) {
		return nil, malformed("issuer")
	}
	if err := checkName(issuer); err != nil {
		return nil, err
	}
	c.RawIssuer = bytes.Clone(issuer)
	this, ok := readTime(&tbs)
	if !ok {
		return nil, malformed("thisUpdate")
	}
	c.ThisUpdate = time.Unix(this, 0).UTC()
	if tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
		next, ok := readTime(&tbs)
		if !ok {
			return nil, malformed("nextUpdate")
		}
		c.NextUpdate = time.Unix(next, 0).UTC()
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		var revoked cryptobyte.String
		if !tbs.ReadASN1(&revoked, cbasn1.SEQUENCE) {
			return nil, malformed("revokedCertificates")
		}
		if len(revoked) > 0 {
			c.pending = revoked
		}
	}
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, malformed("crlExtensions")
	}
	if present {
		if !exts.ReadASN1(&exts, cbasn1.SEQUENCE) {
			return nil, malformed("crlExtensions")
		}
		if err := c.scanExtensions(exts); err != nil {
			return nil, err
		}
	}
	if !tbs.Empty() {
		return nil, strict("TBSCertList", "trailing data after the extensions")
	}
	return c, nil
}

// checkAI mirrors crypto/x509's parseAI: an OID, then optionally one
// element.
func checkAI(ai cryptobyte.String) error {
	var oid asn1.ObjectIdentifier
	if !ai.ReadASN1ObjectIdentifier(&oid) {
		return malformed("signature algorithm OID")
	}
	if ai.Empty() {
		return nil
	}
	var params cryptobyte.String
	var tag cbasn1.Tag
	if !ai.ReadAnyASN1Element(&params, &tag) {
		return malformed("signature algorithm parameters")
	}
	return nil
}

// scanExtensions reads the crlExtensions.
func (c *CRL) scanExtensions(exts cryptobyte.String) error {
	var seen [8]bool
	for !exts.Empty() {
		var ext cryptobyte.String
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) {
			return malformed("CRL extension")
		}
		oid, critical, val, err := readExtension(ext)
		if err != nil {
			return err
		}
		known := -1
		for i, k := range [][]byte{oidAKI, oidCRLNumber, oidDeltaCRL, oidIDP, oidFreshest, oidAuthInfoAcc, oidExpiredCerts} {
			if bytes.Equal(oid, k) {
				known = i
			}
		}
		if known < 0 {
			id, err := parseOID(oid)
			if err != nil {
				return err
			}
			for _, prev := range c.UnhandledCritical {
				if prev.Equal(id) {
					return strict("CRL extension "+id.String(), "repeated")
				}
			}
			if critical {
				c.UnhandledCritical = append(c.UnhandledCritical, id)
			}
			continue
		}
		if seen[known] {
			id, _ := parseOID(oid)
			return strict("CRL extension "+id.String(), "repeated")
		}
		seen[known] = true
		switch known {
		case 0: // authorityKeyIdentifier, read as crypto/x509 does
			var aki cryptobyte.String
			if !val.ReadASN1(&aki, cbasn1.SEQUENCE) {
				return malformed("authorityKeyIdentifier")
			}
			if aki.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()) {
				var kid cryptobyte.String
				if !aki.ReadASN1(&kid, cbasn1.Tag(0).ContextSpecific()) {
					return malformed("authorityKeyIdentifier")
				}
				c.AuthorityKeyID = bytes.Clone(kid)
			}
		case 1:
			n := new(big.Int)
			if !val.ReadASN1Integer(n) {
				return malformed("cRLNumber")
			}
			if err := checkCRLNumber("cRLNumber", n, val); err != nil {
				return err
			}
			c.Number = n
		case 2:
			n := new(big.Int)
			if !val.ReadASN1Integer(n) {
				return strict("deltaCRLIndicator", "not an INTEGER")
			}
			if err := checkCRLNumber("deltaCRLIndicator", n, val); err != nil {
				return err
			}
			c.BaseCRLNumber = n
		case 3:
			idp, err := parseIDP(val)
			if err != nil {
				return err
			}
			c.IDP, c.IDPCritical, c.RawIDP = idp, critical, bytes.Clone(val)
		case 4:
			dps, err := ParseDistributionPoints(val)
			if err != nil {
				return strict("freshestCRL", err.Error())
			}
			c.Freshest = dps
		}
	}
	return nil
}

func checkCRLNumber(field string, n *big.Int, rest cryptobyte.String) error {
	if !rest.Empty() {
		return strict(field, "trailing data")
	}
	if n.Sign() < 0 || len(n.Bytes()) > 20 {
		return strict(field, "negative or longer than 20 octets")
	}
	return nil
}

// readExtension reads an Extension's fields as crypto/x509's parseExtension
// does, returning the OID's DER contents.
func readExtension(ext cryptobyte.String) (oid []byte, critical bool, val cryptobyte.String, err error) {
	var o cryptobyte.String
	if !ext.ReadASN1(&o, cbasn1.OBJECT_IDENTIFIER) {
		return nil, false, nil, malformed("extension OID")
	}
	if ext.PeekASN1Tag(cbasn1.BOOLEAN) {
		if !ext.ReadASN1Boolean(&critical) {
			return nil, false, nil, malformed("extension critical flag")
		}
	}
	if !ext.ReadASN1(&val, cbasn1.OCTET_STRING) {
		return nil, false, nil, malformed("extension value")
	}
	if !ext.Empty() {
		return nil, false, nil, strict("extension", "trailing data")
	}
	return o, critical, val, nil
}

// parseOID decodes an OID's contents with cryptobyte's rules (those of
// crypto/x509).
func parseOID(contents []byte) (asn1.ObjectIdentifier, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	el := cryptobyte.String(b.BytesOrPanic())
	var id asn1.ObjectIdentifier
	if !el.ReadASN1ObjectIdentifier(&id) {
		return nil, malformed("extension OID")
	}
	return id, nil
}

// checkName mirrors crypto/x509's parseName: a SEQUENCE of SETs of
// AttributeTypeAndValue whose values are string types it can decode.
func checkName(raw cryptobyte.String) error {
	if !raw.ReadASN1(&raw, cbasn1.SEQUENCE) {
		return malformed("issuer Name")
	}
	for !raw.Empty() {
		var set cryptobyte.String
		if !raw.ReadASN1(&set, cbasn1.SET) {
			return malformed("issuer Name")
		}
		for !set.Empty() {
			var atav cryptobyte.String
			var oid asn1.ObjectIdentifier
			var value cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atav, cbasn1.SEQUENCE) || !atav.ReadASN1ObjectIdentifier(&oid) || !atav.ReadAnyASN1(&value, &tag) {
				return malformed("issuer Name attribute")
			}
			if !validString(tag, value) {
				return malformed("issuer Name attribute value")
			}
		}
	}
	return nil
}

// validString mirrors crypto/x509's parseASN1String acceptance.
func validString(tag cbasn1.Tag, v []byte) bool {
	switch tag {
	case cbasn1.T61String:
		return true
	case cbasn1.PrintableString:
		for _, b := range v {
			if !isPrintable(b) {
				return false
			}
		}
		return true
	case cbasn1.UTF8String:
		return utf8.Valid(v)
	case cbasn1.Tag(asn1.TagBMPString):
		if len(v)%2 != 0 {
			return false
		}
		if l := len(v); l >= 2 && v[l-1] == 0 && v[l-2] == 0 {
			v = v[:l-2]
		}
		for ; len(v) > 0; v = v[2:] {
			p := uint16(v[0])<<8 | uint16(v[1])
			if p == 0xfffe || p == 0xffff || p >= 0xfdd0 && p <= 0xfdef || p >= 0xd800 && p <= 0xdfff {
				return false
			}
		}
		return true
	case cbasn1.IA5String:
		for _, b := range v {
			if b >= 0x80 {
				return false
			}
		}
		return true
	case cbasn1.Tag(asn1.TagNumericString):
		for _, b := range v {
			if !('0' <= b && b <= '9' || b == ' ') {
				return false
			}
		}
		return true
	}
	return false
}

func isPrintable(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		'\'' <= b && b <= ')' || '+' <= b && b <= '/' ||
		b == ' ' || b == ':' || b == '=' || b == '?' || b == '*' || b == '&'
}

// minEntrySize is the size of the smallest entry crypto/x509 accepts: a
// SEQUENCE header (2 bytes), a one-octet INTEGER (3) and a UTCTime
// without seconds, "YYMMDDhhmmZ" (13).
const minEntrySize = 2 + 3 + 13

// scanEntries reads revokedCertificates into the index, in one pass.
//
// The index is allocated once, for the number of entries the first ones
// predict (estimateSample of them are read ahead: their average size and
// the size of the body), a little more; it grows when the prediction was
// short, and is trimmed at the end when it was long, so that it keeps no
// more than it needs. The entries read ahead are checked as the scan
// checks them (each a SEQUENCE that starts with a valid INTEGER and has
// room for a revocationDate after it), so that a body of garbage (say
// 64 MiB of empty SEQUENCEs, 32M "entries") is refused before anything is
// allocated; whatever the body, the index never holds more entries than
// it has room for (minEntrySize bytes each), so that it stays smaller
// than the body.
//
// The loop reads DER headers itself (with cryptobyte's rules: definite,
// minimal lengths) and decodes the common encodings directly; anything
// unusual goes through cryptobyte.
func (c *CRL) scanEntries(revoked cryptobyte.String, fast bool) error {
	if uint64(len(revoked)) > math.MaxUint32 {
		return &Error{Field: "revokedCertificates", Msg: "larger than 4 GiB"}
	}
	buf := []byte(revoked)
	sample, sampleEnd, sampleSerials := 0, 0, 0
	for sampleEnd < len(buf) && sample < estimateSample {
		s0, s1, end, err := entryBounds(buf, sampleEnd, sample)
		if err != nil {
			return err
		}
		sampleSerials += s1 - s0
		sampleEnd = end
		sample++
	}
	x := newIndex(estimate(len(buf), sampleEnd, sample, sampleSerials))
	var lastYMD uint64 // the last YYMMDD decoded, packed, and its day
	var lastDays int64 = -1
	i := 0
	for off := 0; off < len(buf); i++ {
		// The common entry, read in place: short-form lengths, a
		// UTCTime with seconds in UTC, and no extension or only a
		// non-critical reasonCode. Anything else takes the general path
		// below. (fast is false only in tests that check the two paths
		// agree.)
		if e := buf[off:]; fast && len(e) >= minEntrySize+2 && e[0] == 0x30 && e[1] < 0x80 && e[2] == 0x02 && e[3] < 0x80 && i < x.len() {
			n, t := int(e[1])+2, 4+int(e[3]) // the entry's size; where its revocationDate starts
			if n <= len(e) && t > 4 && t+15 <= n && e[t] == 0x17 && e[t+1] == 13 && e[t+14] == 'Z' && validInteger(e[4:t]) {
				reason, extOK := uint8(NoReason), n == t+15
				if r := e[t+15 : n]; len(r) == 14 && r[0] == 0x30 && r[1] == 12 &&
					binary.LittleEndian.Uint64(r[2:]) == reasonOnlyHead && binary.LittleEndian.Uint32(r[10:])&0xffffff == reasonOnlyTail && validReason(int(r[13])) {
					reason, extOK = r[13], true
				}
				d := e[t+2 : t+14] // YYMMDDhhmmss
				ymd := uint64(binary.BigEndian.Uint32(d))<<16 | uint64(binary.BigEndian.Uint16(d[4:]))
				var at int64
				timeOK := false
				if lastDays >= 0 && ymd == lastYMD {
					// clock, inlined (it is too large for the compiler to).
					h0, h1, m0, m1, s0, s1 := d[6]-'0', d[7]-'0', d[8]-'0', d[9]-'0', d[10]-'0', d[11]-'0'
					if h0 <= 9 && h1 <= 9 && m0 <= 9 && m1 <= 9 && s0 <= 9 && s1 <= 9 {
						hour, minute, sec := int(h0)*10+int(h1), int(m0)*10+int(m1), int(s0)*10+int(s1)
						at, timeOK = lastDays*86400+int64(hour*3600+minute*60+sec), hour <= 23 && minute <= 59 && sec <= 59
					}
				} else if at, timeOK = civil(d, 2); timeOK && at >= 0 {
					lastYMD, lastDays = ymd, at/86400
				}
				serial := e[4:t]
				if pos := int(x.offs[i]); extOK && timeOK && at >= 0 && at < farTime && len(serial) <= len(x.blob)-pos {
					copy(x.blob[pos:], serial)
					x.offs[i+1] = uint32(pos + len(serial))
					x.times[i] = uint32(at)
					x.reasons[i] = reason
					x.hashes[i] = uint32(maphash.Bytes(x.seed, serial))
					off += n
					continue
				}
			}
		}
		// The general path.
		s0, s1, end, err := entryBounds(buf, off, i)
		if err != nil {
			return err
		}
		if i == x.len() { // predicted short
			n, serials := estimate(len(buf), off, i, int(x.offs[i]))
			x.grow(max(n, i+1), serials)
		}
		off = end
		serial := buf[s0:s1]
		p := s1
		var at int64
		tag, t0, t1, ok := tlv(buf, p, end)
		switch {
		case ok && tag == 0x17 && t1-t0 == 13 && buf[t1-1] == 'Z':
			// Entries are often in date order: reuse the day.
			d := buf[t0 : t0+12]
			ymd := uint64(binary.BigEndian.Uint32(d))<<16 | uint64(binary.BigEndian.Uint16(d[4:]))
			if lastDays >= 0 && ymd == lastYMD {
				at, ok = clock(d[6:], lastDays)
			} else if at, ok = civil(d, 2); ok && at >= 0 {
				lastYMD, lastDays = ymd, at/86400 // (only days from 1970: at/86400 rounds toward zero)
			}
		case ok && tag == 0x18 && t1-t0 == 15 && buf[t1-1] == 'Z':
			at, ok = civil(buf[t0:t0+14], 4)
		default:
			ok = false
		}
		if ok {
			p = t1
		} else {
			rest := cryptobyte.String(buf[p:end])
			if at, ok = readTime(&rest); !ok {
				return malformed(fmt.Sprintf("entry %d: revocationDate", i))
			}
			p = end - len(rest)
		}
		reason := uint8(NoReason)
		if p < end {
			tag, e0, e1, ok := tlv(buf, p, end)
			if !ok || tag != 0x30 {
				return strict(fmt.Sprintf("entry %d", i), "unexpected data after revocationDate")
			}
			if e1 != end {
				return strict(fmt.Sprintf("entry %d", i), "trailing data after the extensions")
			}
			if r := buf[e0:e1]; len(r) == len(reasonOnly) && binary.LittleEndian.Uint64(r) == reasonOnlyHead && binary.LittleEndian.Uint32(r[8:])&0xffffff == reasonOnlyTail && validReason(int(r[11])) {
				reason = r[len(r)-1] // the usual single reasonCode extension
			} else {
				var err error
				if reason, err = c.scanEntryExtensions(i, cryptobyte.String(r)); err != nil {
					return err
				}
			}
		}
		if !x.put(i, serial, at, reason) {
			// The serials were predicted short.
			x.grow(estimate(len(buf), off, i+1, int(x.offs[i])+len(serial)))
			if !x.put(i, serial, at, reason) {
				return malformed(fmt.Sprintf("entry %d: serial number", i)) // cannot happen
			}
		}
	}
	x.trim(i)
	x.build()
	c.idx = x
	return nil
}

// estimateSample is the number of entries read ahead to predict how many
// there are.
const estimateSample = 256

// estimateSpare is the part added to the prediction, so that an index
// grows only when the entries read ahead were unusually large.
const estimateSpare = 1.0 / 32

// estimate predicts the number of entries of a body of size bytes, and
// the bytes their serials take, from its first n entries (done bytes,
// whose serials take serials bytes), with estimateSpare to spare. It never
// predicts more entries than the body has room for.
func estimate(size, done, n, serials int) (entries, serialBytes int) {
	if n == 0 || done == 0 {
		return 0, 0
	}
	rest := size - done
	entries = n + int(float64(rest)*float64(n)/float64(done)*(1+estimateSpare)) + 1
	entries = min(entries, n+rest/minEntrySize)
	serialBytes = serials + int(float64(rest)*float64(serials)/float64(done)*(1+estimateSpare)) + 64
	return entries, min(serialBytes, serials+rest)
}

// entryBounds reads the headers of entry i at buf[off:]: the entry ends
// at end and its serial's contents are buf[s0:s1]. It checks that the entry is a SEQUENCE that starts with a
// valid INTEGER and has room for a revocationDate after it.
func entryBounds(buf []byte, off, i int) (s0, s1, end int, err error) {
	tag, start, end, ok := tlv(buf, off, len(buf))
	if !ok || tag != 0x30 {
		return 0, 0, 0, malformed(fmt.Sprintf("entry %d", i))
	}
	tag, s0, s1, ok = tlv(buf, start, end)
	if !ok || tag != 0x02 || !validInteger(buf[s0:s1]) {
		return 0, 0, 0, malformed(fmt.Sprintf("entry %d: serial number", i))
	}
	if end-s1 < minEntrySize-5 {
		return 0, 0, 0, malformed(fmt.Sprintf("entry %d: revocationDate", i))
	}
	return s0, s1, end, nil
}

// reasonOnly is the DER of an entry's extensions holding only a
// non-critical reasonCode; its last byte is the code.
var reasonOnly = []byte{0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x00}

// reasonOnlyHead and reasonOnlyTail are reasonOnly's first 8 and next 3
// bytes (the last one masked in), little-endian: compared as integers.
var (
	reasonOnlyHead = binary.LittleEndian.Uint64(reasonOnly)
	reasonOnlyTail = binary.LittleEndian.Uint32(reasonOnly[8:]) // its code, 0, masked out
)

// tlv reads the DER header at b[i:limit] as cryptobyte does (definite,
// minimal lengths of at most 4 bytes) and returns the tag and the bounds
// of the contents.
func tlv(b []byte, i, limit int) (tag byte, start, end int, ok bool) {
	// limit <= len(b) always: it is len(b) or the end of an enclosing
	// element.
	if i+1 < limit {
		if l := int(b[i+1]); l < 0x80 && l <= limit-i-2 {
			return b[i], i + 2, i + 2 + l, true // short form, inlined
		}
	}
	return tlvLong(b, i, limit)
}

// tlvLong is tlv for long-form lengths and errors.
func tlvLong(b []byte, i, limit int) (tag byte, start, end int, ok bool) {
	if i+2 > limit {
		return 0, 0, 0, false
	}
	tag, l := b[i], int(b[i+1])
	start = i + 2
	if l >= 0x80 {
		n := l & 0x7f
		if n == 0 || n > 4 || start+n > limit {
			return 0, 0, 0, false
		}
		l = 0
		for _, c := range b[start : start+n] {
			l = l<<8 | int(c)
		}
		if l < 0x80 || b[start] == 0 {
			return 0, 0, 0, false
		}
		start += n
	}
	if l > limit-start {
		return 0, 0, 0, false
	}
	return tag, start, start + l, true
}

// scanEntryExtensions reads one entry's extensions and returns its reason.
func (c *CRL) scanEntryExtensions(i int, exts cryptobyte.String) (uint8, error) {
	reason := uint8(NoReason)
	var seenReason, seenInvalidity, seenIssuer bool
	var others []asn1.ObjectIdentifier
	for !exts.Empty() {
		var ext cryptobyte.String
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) {
			return 0, malformed(fmt.Sprintf("entry %d: extension", i))
		}
		oid, critical, val, err := readExtension(ext)
		if err != nil {
			return 0, err
		}
		switch {
		case bytes.Equal(oid, oidReasonCode):
			var r int
			if !val.ReadASN1Enum(&r) {
				return 0, malformed(fmt.Sprintf("entry %d: reasonCode", i))
			}
			if seenReason {
				return 0, strict(fmt.Sprintf("entry %d: reasonCode", i), "repeated")
			}
			if !val.Empty() {
				return 0, strict(fmt.Sprintf("entry %d: reasonCode", i), "trailing data")
			}
			if !validReason(r) {
				return 0, strict(fmt.Sprintf("entry %d: reasonCode", i), fmt.Sprintf("%d is not a CRLReason", r))
			}
			seenReason, reason = true, uint8(r)
		case bytes.Equal(oid, oidInvalidity):
			// Informative (RFC 5280 5.3.2); not used for decisions.
			if seenInvalidity {
				return 0, strict(fmt.Sprintf("entry %d: invalidityDate", i), "repeated")
			}
			seenInvalidity = true
		case bytes.Equal(oid, oidCertIssuer):
			if seenIssuer {
				return 0, strict(fmt.Sprintf("entry %d: certificateIssuer", i), "repeated")
			}
			var names cryptobyte.String
			if !val.ReadASN1(&names, cbasn1.SEQUENCE) || !val.Empty() {
				return 0, strict(fmt.Sprintf("entry %d: certificateIssuer", i), "not GeneralNames")
			}
			seenIssuer = true
			c.IndirectEntries = true
		default:
			id, err := parseOID(oid)
			if err != nil {
				return 0, err
			}
			for _, o := range others {
				if o.Equal(id) {
					return 0, strict(fmt.Sprintf("entry %d: extension %s", i, id), "repeated")
				}
			}
			others = append(others, id)
			if critical {
				c.addEntryCritical(id)
			}
		}
	}
	return reason, nil
}

func (c *CRL) addEntryCritical(id asn1.ObjectIdentifier) {
	for _, o := range c.EntryUnhandledCritical {
		if o.Equal(id) {
			return
		}
	}
	c.EntryUnhandledCritical = append(c.EntryUnhandledCritical, id)
}
