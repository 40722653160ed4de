// Package x509util holds small X.509 helpers shared by the OCSP and CRL code:
// mapping signature AlgorithmIdentifiers to crypto/x509 algorithms and pulling
// raw fields out of certificates without re-parsing them.
package x509util

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidRSAPSS          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// ErrUnsupportedAlgorithm is returned for signature or hash algorithms that
// are unknown, malformed or deliberately not supported (MD5, non-standard
// RSA-PSS parameters).
var ErrUnsupportedAlgorithm = errors.New("unsupported algorithm")

// HashFromOID maps a hash AlgorithmIdentifier OID (as used in OCSP CertIDs) to
// a crypto.Hash; it returns 0 for anything else.
func HashFromOID(oid asn1.ObjectIdentifier) crypto.Hash {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1
	case oid.Equal(oidSHA256):
		return crypto.SHA256
	case oid.Equal(oidSHA384):
		return crypto.SHA384
	case oid.Equal(oidSHA512):
		return crypto.SHA512
	}
	return 0
}

// HashOID is the inverse of HashFromOID.
func HashOID(h crypto.Hash) (asn1.ObjectIdentifier, bool) {
	switch h {
	case crypto.SHA1:
		return oidSHA1, true
	case crypto.SHA256:
		return oidSHA256, true
	case crypto.SHA384:
		return oidSHA384, true
	case crypto.SHA512:
		return oidSHA512, true
	}
	return nil, false
}

// ParseSignatureAlgorithm reads the contents of a signature AlgorithmIdentifier
// (the bytes inside the SEQUENCE) and maps it to an x509.SignatureAlgorithm.
// RSA-PSS is accepted only with the parameter sets crypto/x509 supports (MGF1
// with the same hash, salt length equal to the hash size).
func ParseSignatureAlgorithm(ai cryptobyte.String) (x509.SignatureAlgorithm, error) {
	var oid asn1.ObjectIdentifier
	if !ai.ReadASN1ObjectIdentifier(&oid) {
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("malformed signature algorithm identifier")
	}
	// The parameters, when present, are one DER element (as crypto/x509
	// requires), and nothing follows them (found by
	// FuzzParseSignatureAlgorithm: anything used to be accepted).
	if params := ai; !params.Empty() {
		var tag cbasn1.Tag
		var el cryptobyte.String
		if !params.ReadAnyASN1Element(&el, &tag) || !params.Empty() {
			return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: malformed signature algorithm parameters", ErrUnsupportedAlgorithm)
		}
		if oid.Equal(oidEd25519) {
			// RFC 8410 3: the parameters MUST be absent.
			return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: Ed25519 with parameters", ErrUnsupportedAlgorithm)
		}
	}
	switch {
	case oid.Equal(oidSHA1WithRSA):
		return x509.SHA1WithRSA, nil
	case oid.Equal(oidSHA256WithRSA):
		return x509.SHA256WithRSA, nil
	case oid.Equal(oidSHA384WithRSA):
		return x509.SHA384WithRSA, nil
	case oid.Equal(oidSHA512WithRSA):
		return x509.SHA512WithRSA, nil
	case oid.Equal(oidECDSAWithSHA1):
		return x509.ECDSAWithSHA1, nil
	case oid.Equal(oidECDSAWithSHA256):
		return x509.ECDSAWithSHA256, nil
	case oid.Equal(oidECDSAWithSHA384):
		return x509.ECDSAWithSHA384, nil
	case oid.Equal(oidECDSAWithSHA512):
		return x509.ECDSAWithSHA512, nil
	case oid.Equal(oidEd25519):
		return x509.PureEd25519, nil
	case oid.Equal(oidRSAPSS):
		return parsePSS(ai)
	}
	return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: signature algorithm %v", ErrUnsupportedAlgorithm, oid)
}

// parsePSS reads RSASSA-PSS-params (RFC 4055) and accepts the three
// combinations in common use.
func parsePSS(params cryptobyte.String) (x509.SignatureAlgorithm, error) {
	var seq cryptobyte.String
	if !params.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: RSA-PSS without parameters", ErrUnsupportedAlgorithm)
	}
	readHash := func(s cryptobyte.String) (crypto.Hash, bool) {
		var ai cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !s.ReadASN1(&ai, cbasn1.SEQUENCE) || !ai.ReadASN1ObjectIdentifier(&oid) {
			return 0, false
		}
		// Parameters absent or NULL, as crypto/x509 requires.
		var null cryptobyte.String
		if !ai.Empty() && !(ai.ReadASN1(&null, cbasn1.NULL) && null.Empty() && ai.Empty()) {
			return 0, false
		}
		h := HashFromOID(oid)
		return h, h != 0 && h != crypto.SHA1
	}
	var hashField, mgfField, saltField, trailerField cryptobyte.String
	var hasHash, hasMGF, hasSalt, hasTrailer bool
	if !seq.ReadOptionalASN1(&hashField, &hasHash, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&mgfField, &hasMGF, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&saltField, &hasSalt, cbasn1.Tag(2).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&trailerField, &hasTrailer, cbasn1.Tag(3).Constructed().ContextSpecific()) ||
		!seq.Empty() || !params.Empty() {
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: malformed RSA-PSS parameters", ErrUnsupportedAlgorithm)
	}
	// The trailer field is 1 (trailerFieldBC), written out or not, as
	// crypto/x509 requires (found by FuzzParseSignatureAlgorithm).
	var trailer int64
	if hasTrailer && (!trailerField.ReadASN1Int64WithTag(&trailer, cbasn1.INTEGER) || !trailerField.Empty() || trailer != 1) {
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: RSA-PSS trailer field", ErrUnsupportedAlgorithm)
	}
	if !hasHash || !hasMGF || !hasSalt {
		// The defaults (SHA-1, salt 20) are not supported by crypto/x509.
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: RSA-PSS with default (SHA-1) parameters", ErrUnsupportedAlgorithm)
	}
	h, ok := readHash(hashField)
	if !ok {
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: RSA-PSS hash", ErrUnsupportedAlgorithm)
	}
	var mgf cryptobyte.String
	var mgfOID asn1.ObjectIdentifier
	if !mgfField.ReadASN1(&mgf, cbasn1.SEQUENCE) || !mgf.ReadASN1ObjectIdentifier(&mgfOID) || !mgfOID.Equal(oidMGF1) {
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: RSA-PSS mask generation function", ErrUnsupportedAlgorithm)
	}
	if mh, ok := readHash(mgf); !ok || mh != h {
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: RSA-PSS MGF1 hash differs from message hash", ErrUnsupportedAlgorithm)
	}
	var salt int64
	if !saltField.ReadASN1Int64WithTag(&salt, cbasn1.INTEGER) || salt != int64(h.Size()) {
		return x509.UnknownSignatureAlgorithm, fmt.Errorf("%w: RSA-PSS salt length", ErrUnsupportedAlgorithm)
	}
	switch h {
	case crypto.SHA256:
		return x509.SHA256WithRSAPSS, nil
	case crypto.SHA384:
		return x509.SHA384WithRSAPSS, nil
	default:
		return x509.SHA512WithRSAPSS, nil
	}
}

// IsSHA1 reports whether a signature algorithm hashes with SHA-1.
func IsSHA1(a x509.SignatureAlgorithm) bool {
	return a == x509.SHA1WithRSA || a == x509.ECDSAWithSHA1 || a == x509.DSAWithSHA1
}

// SubjectPublicKeyBytes returns the contents of the subjectPublicKey BIT STRING
// of a certificate (what OCSP's issuerKeyHash and ResponderID byKey hash).
func SubjectPublicKeyBytes(cert *x509.Certificate) ([]byte, error) {
	spki := cryptobyte.String(cert.RawSubjectPublicKeyInfo)
	var seq cryptobyte.String
	var bits asn1.BitString
	if !spki.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.SkipASN1(cbasn1.SEQUENCE) || !seq.ReadASN1BitString(&bits) {
		return nil, errors.New("malformed subjectPublicKeyInfo")
	}
	return bits.Bytes, nil
}

// KeyHashSHA1 is the SHA-1 hash of a certificate's subjectPublicKey bits, as
// used by OCSP ResponderID byKey (RFC 6960 4.2.1).
func KeyHashSHA1(cert *x509.Certificate) ([]byte, error) {
	b, err := SubjectPublicKeyBytes(cert)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(b)
	return sum[:], nil
}

// oidTLSFeature is the TLS Feature extension (RFC 7633).
var oidTLSFeature = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}

// MustStaple reports whether cert carries the TLS Feature extension with
// status_request (5), the "must-staple" marker of RFC 7633. A malformed
// extension is treated as must-staple: failing closed is the safe reading.
func MustStaple(cert *x509.Certificate) bool {
	for _, e := range cert.Extensions {
		if !e.Id.Equal(oidTLSFeature) {
			continue
		}
		v := cryptobyte.String(e.Value)
		var seq cryptobyte.String
		if !v.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return true
		}
		for !seq.Empty() {
			var f int64
			if !seq.ReadASN1Integer(&f) {
				return true
			}
			if f == 5 {
				return true
			}
		}
	}
	return false
}
