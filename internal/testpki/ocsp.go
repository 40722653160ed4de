package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/tlsclient/tlsclient/internal/x509util"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OCSP certificate statuses, as in RFC 6960.
const (
	StatusGood    = 0
	StatusRevoked = 1
	StatusUnknown = 2
)

// Single is one SingleResponse. Unset fields are derived from Cert and
// Issuer; the override fields build hostile responses.
type Single struct {
	Cert   *x509.Certificate // the certificate the response is about
	Issuer *x509.Certificate // its issuer (for the CertID hashes)
	// Hash is the CertID hash algorithm, SHA-1 by default (RFC 5019).
	Hash       crypto.Hash
	Status     int // StatusGood, StatusRevoked, StatusUnknown
	RevokedAt  time.Time
	Reason     int // CRLReason; -1 (or NoReason) leaves it out
	ThisUpdate time.Time
	NextUpdate time.Time // zero leaves it out
	Extensions []pkix.Extension

	Serial         *big.Int // overrides Cert's serial
	IssuerNameHash []byte   // overrides the computed hash
	IssuerKeyHash  []byte   // overrides the computed hash
}

// NoReason leaves revocationReason out of a revoked response.
const NoReason = -1

// OCSPResponse describes a response to build.
type OCSPResponse struct {
	// Status is the outer responseStatus; non-zero builds an unsuccessful
	// response without responseBytes.
	Status    int
	Responses []Single
	// Signer signs the response: the issuer, or a delegated responder.
	Signer *Cert
	// ByKey uses ResponderID byKey instead of byName.
	ByKey bool
	// ResponderName overrides the ResponderID byName bytes.
	ResponderName []byte
	// Certs are included in the response (a delegate's certificate).
	Certs      []*x509.Certificate
	ProducedAt time.Time // defaults to Now
	Extensions []pkix.Extension
	// SigHash is the hash to sign with (SHA-256 by default; SHA-1 for the
	// legacy responses still seen in the wild).
	SigHash crypto.Hash
	// CorruptSignature flips a bit of the signature.
	CorruptSignature bool
}

// Marshal builds and signs the response.
func (r *OCSPResponse) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(int64(r.Status))
		if r.Status != 0 {
			return
		}
		basic, err := r.basic()
		if err != nil {
			b.SetError(err)
			return
		}
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1})
				b.AddASN1OctetString(basic)
			})
		})
	})
	return b.Bytes()
}

func (r *OCSPResponse) basic() ([]byte, error) {
	if r.Signer == nil {
		return nil, fmt.Errorf("testpki: OCSPResponse without Signer")
	}
	tbs, err := r.tbs()
	if err != nil {
		return nil, err
	}
	h := r.SigHash
	if h == 0 {
		h = crypto.SHA256
	}
	algID, sig, err := Sign(r.Signer.Key, h, tbs)
	if err != nil {
		return nil, err
	}
	if r.CorruptSignature {
		sig[len(sig)/2] ^= 0x40
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(algID)
		b.AddASN1BitString(sig)
		if len(r.Certs) > 0 {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, c := range r.Certs {
						b.AddBytes(c.Raw)
					}
				})
			})
		}
	})
	return b.Bytes()
}

func (r *OCSPResponse) tbs() ([]byte, error) {
	produced := r.ProducedAt
	if produced.IsZero() {
		produced = Now
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if r.ByKey {
			kh, err := x509util.KeyHashSHA1(r.Signer.Cert)
			if err != nil {
				b.SetError(err)
				return
			}
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(kh)
			})
		} else {
			name := r.ResponderName
			if name == nil {
				name = r.Signer.Cert.RawSubject
			}
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(name)
			})
		}
		b.AddASN1GeneralizedTime(produced.UTC())
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range r.Responses {
				if err := r.Responses[i].marshal(b); err != nil {
					b.SetError(err)
					return
				}
			}
		})
		addExtensions(b, 1, r.Extensions)
	})
	return b.Bytes()
}

func (s *Single) marshal(b *cryptobyte.Builder) error {
	h := s.Hash
	if h == 0 {
		h = crypto.SHA1
	}
	hashOID, ok := x509util.HashOID(h)
	if !ok {
		return fmt.Errorf("testpki: unsupported CertID hash %v", h)
	}
	serial := s.Serial
	if serial == nil {
		if s.Cert == nil {
			return fmt.Errorf("testpki: Single needs Cert or Serial")
		}
		serial = s.Cert.SerialNumber
	}
	nameHash, keyHash := s.IssuerNameHash, s.IssuerKeyHash
	if nameHash == nil || keyHash == nil {
		if s.Issuer == nil {
			return fmt.Errorf("testpki: Single needs Issuer or explicit hashes")
		}
		hh := h.New()
		hh.Write(s.Issuer.RawSubject)
		if nameHash == nil {
			nameHash = hh.Sum(nil)
		}
		bits, err := x509util.SubjectPublicKeyBytes(s.Issuer)
		if err != nil {
			return err
		}
		hh.Reset()
		hh.Write(bits)
		if keyHash == nil {
			keyHash = hh.Sum(nil)
		}
	}
	this := s.ThisUpdate
	if this.IsZero() {
		this = Now.Add(-time.Hour)
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(hashOID)
				b.AddASN1NULL()
			})
			b.AddASN1OctetString(nameHash)
			b.AddASN1OctetString(keyHash)
			b.AddASN1BigInt(serial)
		})
		switch s.Status {
		case StatusGood:
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
		case StatusRevoked:
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				at := s.RevokedAt
				if at.IsZero() {
					at = Now.Add(-24 * time.Hour)
				}
				b.AddASN1GeneralizedTime(at.UTC())
				if s.Reason >= 0 {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1Enum(int64(s.Reason))
					})
				}
			})
		default:
			b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
		}
		b.AddASN1GeneralizedTime(this.UTC())
		if !s.NextUpdate.IsZero() {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1GeneralizedTime(s.NextUpdate.UTC())
			})
		}
		addExtensions(b, 1, s.Extensions)
	})
	return nil
}

func addExtensions(b *cryptobyte.Builder, tag uint8, exts []pkix.Extension) {
	if len(exts) == 0 {
		return
	}
	b.AddASN1(cbasn1.Tag(tag).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, e := range exts {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(e.Id)
					if e.Critical {
						b.AddASN1Boolean(true)
					}
					b.AddASN1OctetString(e.Value)
				})
			}
		})
	})
}

// Sign signs msg with key using hash h, and returns the DER
// AlgorithmIdentifier and the signature. Ed25519 ignores h.
func Sign(key crypto.Signer, h crypto.Hash, msg []byte) (algID, sig []byte, err error) {
	var oid asn1.ObjectIdentifier
	withNull := false
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		switch h {
		case crypto.SHA1:
			oid = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
		case crypto.SHA256:
			oid = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
		case crypto.SHA384:
			oid = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
		case crypto.SHA512:
			oid = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
		}
	case *rsa.PublicKey:
		withNull = true
		switch h {
		case crypto.SHA1:
			oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
		case crypto.SHA256:
			oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
		case crypto.SHA384:
			oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
		case crypto.SHA512:
			oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
		}
	case ed25519.PublicKey:
		oid = asn1.ObjectIdentifier{1, 3, 101, 112}
		h = 0
	}
	if oid == nil {
		return nil, nil, fmt.Errorf("testpki: cannot sign with %T and %v", key.Public(), h)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if withNull {
			b.AddASN1NULL()
		}
	})
	algID, err = b.Bytes()
	if err != nil {
		return nil, nil, err
	}
	digest := msg
	if h != 0 {
		hh := h.New()
		hh.Write(msg)
		digest = hh.Sum(nil)
	}
	var opts crypto.SignerOpts = h
	sig, err = key.Sign(rand.Reader, digest, opts)
	return algID, sig, err
}

// OCSPGood returns a good response for leaf signed by ca (leaf's issuer),
// valid from an hour before Now for a week.
func (ca *Cert) OCSPGood(leaf *Cert) ([]byte, error) {
	return ca.OCSPStatus(leaf, StatusGood, time.Time{}, NoReason)
}

// OCSPRevoked returns a revoked response for leaf signed by ca.
func (ca *Cert) OCSPRevoked(leaf *Cert, at time.Time, reason int) ([]byte, error) {
	return ca.OCSPStatus(leaf, StatusRevoked, at, reason)
}

// OCSPStatus returns a response with the given status for leaf, signed by ca
// itself, thisUpdate an hour before Now and nextUpdate a week later.
func (ca *Cert) OCSPStatus(leaf *Cert, status int, revokedAt time.Time, reason int) ([]byte, error) {
	r := &OCSPResponse{
		Signer: ca,
		Responses: []Single{{
			Cert: leaf.Cert, Issuer: ca.Cert, Status: status, RevokedAt: revokedAt, Reason: reason,
			ThisUpdate: Now.Add(-time.Hour), NextUpdate: Now.Add(7 * 24 * time.Hour),
		}},
	}
	return r.Marshal()
}
