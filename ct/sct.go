package ct

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the SCT carriers (RFC 6962 3.3) and of the
// precertificate poison (RFC 6962 3.1).
var (
	// OIDSCTList is the certificate extension holding embedded SCTs.
	OIDSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
	// OIDOCSPSCTList is the OCSP single extension holding SCTs.
	OIDOCSPSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 5}
	// OIDPrecertPoison is the critical extension that marks a
	// precertificate.
	OIDPrecertPoison = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
)

// SCT signature algorithms (RFC 5246 7.4.1.4.1), the only ones RFC 6962
// logs use.
const (
	hashSHA256 = 4
	sigRSA     = 1
	sigECDSA   = 3
)

// Entry types of the signed data (RFC 6962 3.2).
const (
	x509Entry    = 0
	precertEntry = 1
)

// SCT is a parsed version 1 SignedCertificateTimestamp (RFC 6962 3.2).
type SCT struct {
	Version uint8
	LogID   [32]byte
	// Timestamp is in milliseconds since the Unix epoch, as signed.
	Timestamp uint64
	// Extensions are the SCT's extensions, as signed. Logs implementing the
	// static-ct-api put the leaf_index extension here (see LeafIndex).
	Extensions         []byte
	HashAlgorithm      uint8
	SignatureAlgorithm uint8
	Signature          []byte
}

// Time returns the timestamp as a time.Time.
func (s *SCT) Time() time.Time { return time.UnixMilli(int64(s.Timestamp)).UTC() }

// LeafIndex returns the leaf_index extension of a static-ct-api log's SCT
// (c2sp.org/static-ct-api: extension type 0, a 40-bit index), and whether
// there is one.
func (s *SCT) LeafIndex() (uint64, bool) {
	ext := cryptobyte.String(s.Extensions)
	for !ext.Empty() {
		var typ uint8
		var data cryptobyte.String
		if !ext.ReadUint8(&typ) || !ext.ReadUint16LengthPrefixed(&data) {
			return 0, false
		}
		if typ == 0 {
			var hi uint8
			var lo uint32
			if len(data) != 5 || !data.ReadUint8(&hi) || !data.ReadUint32(&lo) {
				return 0, false
			}
			return uint64(hi)<<32 | uint64(lo), true
		}
	}
	return 0, false
}

// maxSCTTimestamp is the last millisecond of the year 9999
// (9999-12-31T23:59:59.999Z), the latest instant RFC 3339, and so the
// Report's JSON, can write. ParseSCT refuses SCTs dated after it: no
// real log issues them, and as a time.Time they could not be reported.
const maxSCTTimestamp = 253402300799999

// ErrMalformedSCT is wrapped by the parse errors of ParseSCT and
// ParseSCTList.
var ErrMalformedSCT = errors.New("ct: malformed SCT")

// ErrUnsupportedVersion is returned by ParseSCT for an SCT whose version is
// not v1: its format is unknown, so it is reported and not counted.
var ErrUnsupportedVersion = errors.New("ct: unsupported SCT version")

// ParseSCT parses one TLS-encoded SignedCertificateTimestamp. It accepts only
// version 1 (returning ErrUnsupportedVersion otherwise), refuses trailing
// bytes and a timestamp after the year 9999.
func ParseSCT(b []byte) (*SCT, error) {
	var sct SCT
	if err := parseSCT(b, &sct); err != nil {
		return nil, err
	}
	return &sct, nil
}

// parseSCT is ParseSCT into sct, without allocating. Extensions and
// Signature alias b.
func parseSCT(b []byte, sct *SCT) error {
	s := cryptobyte.String(b)
	if !s.ReadUint8(&sct.Version) {
		return fmt.Errorf("%w: empty", ErrMalformedSCT)
	}
	if sct.Version != 0 {
		return fmt.Errorf("%w %d (only v1 is defined)", ErrUnsupportedVersion, int(sct.Version)+1)
	}
	var id, ext, sig []byte
	if !s.ReadBytes(&id, 32) || !s.ReadUint64(&sct.Timestamp) ||
		!s.ReadUint16LengthPrefixed((*cryptobyte.String)(&ext)) ||
		!s.ReadUint8(&sct.HashAlgorithm) || !s.ReadUint8(&sct.SignatureAlgorithm) ||
		!s.ReadUint16LengthPrefixed((*cryptobyte.String)(&sig)) {
		return fmt.Errorf("%w: truncated", ErrMalformedSCT)
	}
	if !s.Empty() {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformedSCT, len(s))
	}
	if sct.Timestamp > maxSCTTimestamp {
		return fmt.Errorf("%w: timestamp %d ms is after the year 9999", ErrMalformedSCT, sct.Timestamp)
	}
	copy(sct.LogID[:], id)
	sct.Extensions, sct.Signature = ext, sig
	return nil
}

// ParseSCTList splits a TLS-encoded SignedCertificateTimestampList (RFC 6962
// 3.3) into its serialized SCTs. The list and every SCT must be non-empty
// and there must be no trailing bytes. The returned slices alias b.
func ParseSCTList(b []byte) ([][]byte, error) {
	s := cryptobyte.String(b)
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return nil, fmt.Errorf("%w list: bad length", ErrMalformedSCT)
	}
	if list.Empty() {
		return nil, fmt.Errorf("%w list: empty", ErrMalformedSCT)
	}
	var out [][]byte
	for !list.Empty() {
		var one cryptobyte.String
		if !list.ReadUint16LengthPrefixed(&one) || one.Empty() {
			return nil, fmt.Errorf("%w list: bad SCT %d", ErrMalformedSCT, len(out))
		}
		out = append(out, one)
	}
	return out, nil
}

// parseSCTListExtension reads a certificate or OCSP extension value: a DER
// OCTET STRING holding a SignedCertificateTimestampList.
func parseSCTListExtension(v []byte) ([][]byte, error) {
	s := cryptobyte.String(v)
	var inner cryptobyte.String
	if !s.ReadASN1(&inner, cbasn1.OCTET_STRING) || !s.Empty() {
		return nil, fmt.Errorf("%w list: the extension is not an OCTET STRING", ErrMalformedSCT)
	}
	return ParseSCTList(inner)
}

// precertTBS rebuilds the TBSCertificate a log signed for a precertificate:
// the final certificate's TBSCertificate without its SCT list extension
// (RFC 6962 3.2: the precertificate's TBS without the poison, and the final
// certificate differs from it only by the SCT list in place of the poison).
// Every other byte is kept as is.
func precertTBS(rawTBS []byte) ([]byte, error) {
	bad := func(what string) error { return fmt.Errorf("ct: malformed TBSCertificate: %s", what) }
	in := cryptobyte.String(rawTBS)
	var tbs cryptobyte.String
	if !in.ReadASN1(&tbs, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad("not a SEQUENCE")
	}
	var b cryptobyte.Builder
	found := false
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for !tbs.Empty() {
			var elem, body cryptobyte.String
			var tag cbasn1.Tag
			if !tbs.ReadAnyASN1Element(&elem, &tag) {
				b.SetError(bad("element"))
				return
			}
			if tag != cbasn1.Tag(3).Constructed().ContextSpecific() {
				b.AddBytes(elem)
				continue
			}
			if !tbs.Empty() {
				b.SetError(bad("data after the extensions"))
				return
			}
			var exts cryptobyte.String
			if !elem.ReadASN1(&body, tag) || !body.ReadASN1(&exts, cbasn1.SEQUENCE) || !body.Empty() {
				b.SetError(bad("extensions"))
				return
			}
			var kept [][]byte
			for !exts.Empty() {
				var ext, outer, e cryptobyte.String
				var oid asn1.ObjectIdentifier
				if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
					b.SetError(bad("extension"))
					return
				}
				outer = ext
				if !outer.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&oid) {
					b.SetError(bad("extension"))
					return
				}
				if oid.Equal(OIDSCTList) {
					if found {
						b.SetError(bad("two SCT list extensions"))
						return
					}
					found = true
					continue
				}
				kept = append(kept, ext)
			}
			if len(kept) == 0 {
				continue // extensions are SIZE (1..MAX): none left, no field
			}
			b.AddASN1(tag, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, e := range kept {
						b.AddBytes(e)
					}
				})
			})
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, bad("no SCT list extension")
	}
	return out, nil
}

// signedData builds the digitally-signed struct of RFC 6962 3.2 for a v1
// SCT: version, signature type certificate_timestamp, timestamp, entry type,
// the entry (an ASN.1 certificate, or the issuer key hash and the precert
// TBSCertificate), and the SCT's extensions.
func signedData(sct *SCT, entryType uint16, issuerKeyHash *[32]byte, entry []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint8(0) // v1
	b.AddUint8(0) // certificate_timestamp
	b.AddUint64(sct.Timestamp)
	b.AddUint16(entryType)
	if entryType == precertEntry {
		if issuerKeyHash == nil {
			return nil, errors.New("ct: precert entry without an issuer key hash")
		}
		b.AddBytes(issuerKeyHash[:])
	}
	if len(entry) == 0 || len(entry) >= 1<<24 {
		return nil, errors.New("ct: entry of invalid length")
	}
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(entry) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sct.Extensions) })
	return b.Bytes()
}

// errAlgorithm and errSignature classify verifySignature's failures.
var (
	errAlgorithm = errors.New("unsupported signature algorithm")
	errSignature = errors.New("signature does not verify")
)

// verifySignature checks the SCT's signature over data with the log's key:
// SHA-256 with ECDSA (P-256) or RSA PKCS #1 v1.5 (2048 bits or more), the
// signature algorithm matching the key.
func verifySignature(key crypto.PublicKey, sct *SCT, data []byte) error {
	if sct.HashAlgorithm != hashSHA256 {
		return fmt.Errorf("%w: hash algorithm %d (only SHA-256, 4, is allowed)", errAlgorithm, sct.HashAlgorithm)
	}
	sum := sha256.Sum256(data)
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if sct.SignatureAlgorithm != sigECDSA {
			return fmt.Errorf("%w: signature algorithm %d with an ECDSA log key", errAlgorithm, sct.SignatureAlgorithm)
		}
		if !ecdsa.VerifyASN1(k, sum[:], sct.Signature) {
			return errSignature
		}
		return nil
	case *rsa.PublicKey:
		if sct.SignatureAlgorithm != sigRSA {
			return fmt.Errorf("%w: signature algorithm %d with an RSA log key", errAlgorithm, sct.SignatureAlgorithm)
		}
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sct.Signature) != nil {
			return errSignature
		}
		return nil
	}
	return fmt.Errorf("%w: log key of type %T", errAlgorithm, key)
}
