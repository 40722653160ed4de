// Package ocspcheck parses and validates OCSP responses (RFC 6960) against a
// certificate and its issuer taken from a verified chain. It is shared by the
// root package's default staple check and by package revocation.
//
// Unlike golang.org/x/crypto/ocsp it checks the full CertID (hash algorithm,
// issuer name hash, issuer key hash, serial), finds the signer through the
// ResponderID, requires a delegated responder to be issued by the issuer with
// id-kp-OCSPSigning and to be valid at the time, searches every SingleResponse
// and rejects contradictory duplicates, and checks freshness separately so
// that a verdict can be cached and re-checked cheaply.
package ocspcheck

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient/internal/x509util"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ResponseStatus is the outer OCSPResponseStatus (RFC 6960 4.2.1).
type ResponseStatus int

// The response statuses of RFC 6960 4.2.1.
const (
	Successful       ResponseStatus = 0
	MalformedRequest ResponseStatus = 1
	InternalError    ResponseStatus = 2
	TryLater         ResponseStatus = 3
	SigRequired      ResponseStatus = 5
	Unauthorized     ResponseStatus = 6
)

func (s ResponseStatus) String() string {
	switch s {
	case Successful:
		return "successful"
	case MalformedRequest:
		return "malformedRequest"
	case InternalError:
		return "internalError"
	case TryLater:
		return "tryLater"
	case SigRequired:
		return "sigRequired"
	case Unauthorized:
		return "unauthorized"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// CertStatus is the status a SingleResponse gives a certificate.
type CertStatus int

// Certificate statuses.
const (
	Good CertStatus = iota
	Revoked
	Unknown
)

func (s CertStatus) String() string {
	switch s {
	case Good:
		return "good"
	case Revoked:
		return "revoked"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("CertStatus(%d)", int(s))
}

// SingleResponse is one entry of a response's responses list.
type SingleResponse struct {
	HashAlgorithm  crypto.Hash // 0 when the CertID uses an unknown hash
	HashOID        asn1.ObjectIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	Serial         *big.Int
	Status         CertStatus
	RevokedAt      time.Time
	Reason         int // CRLReason; -1 when absent
	ThisUpdate     time.Time
	NextUpdate     time.Time // zero when absent
	Extensions     []pkix.Extension
}

// Response is a parsed OCSPResponse. For a status other than Successful only
// Status is set.
type Response struct {
	Status             ResponseStatus
	TBS                []byte // DER of ResponseData, what the signature covers
	ResponderName      []byte // raw Name when ResponderID is byName
	ResponderKeyHash   []byte // SHA-1 key hash when ResponderID is byKey
	ProducedAt         time.Time
	Responses          []SingleResponse
	Extensions         []pkix.Extension
	SignatureAlgorithm x509.SignatureAlgorithm
	Signature          []byte
	Certificates       []*x509.Certificate
}

const basicResponseOID = "1.3.6.1.5.5.7.48.1.1"

// Parse decodes a DER OCSPResponse. It performs no validation beyond
// structure: use Check and Result.Fresh for that.
func Parse(der []byte) (*Response, error) {
	malformed := func(what string) error {
		return &Error{Reason: Malformed, Detail: "malformed OCSP response: " + what}
	}
	input := cryptobyte.String(der)
	var outer cryptobyte.String
	if !input.ReadASN1(&outer, cbasn1.SEQUENCE) || !input.Empty() {
		return nil, malformed("not a DER SEQUENCE")
	}
	var status int
	if !outer.ReadASN1Enum(&status) {
		return nil, malformed("responseStatus")
	}
	resp := &Response{Status: ResponseStatus(status)}
	if resp.Status != Successful {
		return resp, nil
	}
	var rb, rbSeq cryptobyte.String
	if !outer.ReadASN1(&rb, cbasn1.Tag(0).Constructed().ContextSpecific()) || !outer.Empty() ||
		!rb.ReadASN1(&rbSeq, cbasn1.SEQUENCE) || !rb.Empty() {
		return nil, malformed("responseBytes")
	}
	var typ asn1.ObjectIdentifier
	var basic cryptobyte.String
	if !rbSeq.ReadASN1ObjectIdentifier(&typ) || !rbSeq.ReadASN1(&basic, cbasn1.OCTET_STRING) || !rbSeq.Empty() {
		return nil, malformed("responseBytes")
	}
	if typ.String() != basicResponseOID {
		return nil, &Error{Reason: Malformed, Detail: fmt.Sprintf("unsupported OCSP response type %v (only id-pkix-ocsp-basic)", typ)}
	}
	var br cryptobyte.String
	if !basic.ReadASN1(&br, cbasn1.SEQUENCE) || !basic.Empty() {
		return nil, malformed("BasicOCSPResponse")
	}
	var tbs, sigAlg cryptobyte.String
	if !br.ReadASN1Element(&tbs, cbasn1.SEQUENCE) || !br.ReadASN1(&sigAlg, cbasn1.SEQUENCE) {
		return nil, malformed("BasicOCSPResponse")
	}
	resp.TBS = tbs
	alg, err := x509util.ParseSignatureAlgorithm(sigAlg)
	if err != nil {
		return nil, &Error{Reason: WeakAlgorithm, Detail: "OCSP response signature algorithm", Err: err}
	}
	resp.SignatureAlgorithm = alg
	var sig asn1.BitString
	if !br.ReadASN1BitString(&sig) || sig.BitLength%8 != 0 {
		return nil, malformed("signature")
	}
	resp.Signature = sig.Bytes
	var certsField cryptobyte.String
	var hasCerts bool
	if !br.ReadOptionalASN1(&certsField, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, malformed("certs")
	}
	if hasCerts {
		var certs cryptobyte.String
		if !certsField.ReadASN1(&certs, cbasn1.SEQUENCE) {
			return nil, malformed("certs")
		}
		for !certs.Empty() {
			var c cryptobyte.String
			if !certs.ReadASN1Element(&c, cbasn1.SEQUENCE) {
				return nil, malformed("certs")
			}
			cert, err := x509.ParseCertificate(c)
			if err != nil {
				return nil, &Error{Reason: Malformed, Detail: "malformed certificate in OCSP response", Err: err}
			}
			resp.Certificates = append(resp.Certificates, cert)
		}
	}
	if !br.Empty() {
		return nil, malformed("trailing data in BasicOCSPResponse")
	}
	if err := parseResponseData(resp, tbs); err != nil {
		return nil, err
	}
	return resp, nil
}

func parseResponseData(resp *Response, tbs cryptobyte.String) error {
	malformed := func(what string) error {
		return &Error{Reason: Malformed, Detail: "malformed OCSP ResponseData: " + what}
	}
	var rd cryptobyte.String
	if !tbs.ReadASN1(&rd, cbasn1.SEQUENCE) {
		return malformed("not a SEQUENCE")
	}
	var ver cryptobyte.String
	var hasVer bool
	if !rd.ReadOptionalASN1(&ver, &hasVer, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return malformed("version")
	}
	if hasVer {
		var v int64
		if !ver.ReadASN1Integer(&v) || v != 0 {
			return malformed("version is not v1")
		}
	}
	var rid cryptobyte.String
	var ridTag cbasn1.Tag
	if !rd.ReadAnyASN1(&rid, &ridTag) {
		return malformed("responderID")
	}
	switch ridTag {
	case cbasn1.Tag(1).Constructed().ContextSpecific():
		var name cryptobyte.String
		if !rid.ReadASN1Element(&name, cbasn1.SEQUENCE) {
			return malformed("responderID byName")
		}
		resp.ResponderName = name
	case cbasn1.Tag(2).Constructed().ContextSpecific():
		var kh cryptobyte.String
		if !rid.ReadASN1(&kh, cbasn1.OCTET_STRING) {
			return malformed("responderID byKey")
		}
		resp.ResponderKeyHash = kh
	default:
		return malformed("responderID")
	}
	if !readGeneralizedTime(&rd, &resp.ProducedAt) {
		return malformed("producedAt")
	}
	var singles cryptobyte.String
	if !rd.ReadASN1(&singles, cbasn1.SEQUENCE) {
		return malformed("responses")
	}
	for !singles.Empty() {
		var s cryptobyte.String
		if !singles.ReadASN1(&s, cbasn1.SEQUENCE) {
			return malformed("SingleResponse")
		}
		sr, err := parseSingle(s)
		if err != nil {
			return err
		}
		resp.Responses = append(resp.Responses, sr)
	}
	var exts cryptobyte.String
	var hasExts bool
	if !rd.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return malformed("responseExtensions")
	}
	if hasExts {
		var err error
		if resp.Extensions, err = parseExtensions(exts); err != nil {
			return err
		}
	}
	if !rd.Empty() {
		return malformed("trailing data")
	}
	return nil
}

func parseSingle(s cryptobyte.String) (SingleResponse, error) {
	malformed := func(what string) error {
		return &Error{Reason: Malformed, Detail: "malformed OCSP SingleResponse: " + what}
	}
	sr := SingleResponse{Reason: -1}
	var certID, hashAI cryptobyte.String
	if !s.ReadASN1(&certID, cbasn1.SEQUENCE) || !certID.ReadASN1(&hashAI, cbasn1.SEQUENCE) ||
		!hashAI.ReadASN1ObjectIdentifier(&sr.HashOID) {
		return sr, malformed("certID")
	}
	sr.HashAlgorithm = x509util.HashFromOID(sr.HashOID)
	var nameHash, keyHash cryptobyte.String
	sr.Serial = new(big.Int)
	if !certID.ReadASN1(&nameHash, cbasn1.OCTET_STRING) || !certID.ReadASN1(&keyHash, cbasn1.OCTET_STRING) ||
		!certID.ReadASN1Integer(sr.Serial) || !certID.Empty() {
		return sr, malformed("certID")
	}
	sr.IssuerNameHash, sr.IssuerKeyHash = nameHash, keyHash
	var status cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&status, &tag) {
		return sr, malformed("certStatus")
	}
	switch tag {
	case cbasn1.Tag(0).ContextSpecific():
		if !status.Empty() {
			return sr, malformed("good is not NULL")
		}
		sr.Status = Good
	case cbasn1.Tag(1).Constructed().ContextSpecific():
		sr.Status = Revoked
		if !readGeneralizedTime(&status, &sr.RevokedAt) {
			return sr, malformed("revocationTime")
		}
		var reason cryptobyte.String
		var hasReason bool
		if !status.ReadOptionalASN1(&reason, &hasReason, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return sr, malformed("revocationReason")
		}
		if hasReason {
			var r int
			if !reason.ReadASN1Enum(&r) || r < 0 || r > 10 {
				return sr, malformed("revocationReason")
			}
			sr.Reason = r
		}
		if !status.Empty() {
			return sr, malformed("RevokedInfo")
		}
	case cbasn1.Tag(2).ContextSpecific():
		if !status.Empty() {
			return sr, malformed("unknown is not NULL")
		}
		sr.Status = Unknown
	default:
		return sr, malformed("certStatus")
	}
	if !readGeneralizedTime(&s, &sr.ThisUpdate) {
		return sr, malformed("thisUpdate")
	}
	var next cryptobyte.String
	var hasNext bool
	if !s.ReadOptionalASN1(&next, &hasNext, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return sr, malformed("nextUpdate")
	}
	if hasNext && !readGeneralizedTime(&next, &sr.NextUpdate) {
		return sr, malformed("nextUpdate")
	}
	var exts cryptobyte.String
	var hasExts bool
	if !s.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return sr, malformed("singleExtensions")
	}
	if hasExts {
		var err error
		if sr.Extensions, err = parseExtensions(exts); err != nil {
			return sr, err
		}
	}
	if !s.Empty() {
		return sr, malformed("trailing data")
	}
	return sr, nil
}

func parseExtensions(field cryptobyte.String) ([]pkix.Extension, error) {
	bad := &Error{Reason: Malformed, Detail: "malformed OCSP extensions"}
	var seq cryptobyte.String
	if !field.ReadASN1(&seq, cbasn1.SEQUENCE) || !field.Empty() {
		return nil, bad
	}
	var out []pkix.Extension
	for !seq.Empty() {
		var e cryptobyte.String
		var ext pkix.Extension
		if !seq.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&ext.Id) {
			return nil, bad
		}
		// critical BOOLEAN DEFAULT FALSE is not tagged: ReadOptionalASN1Boolean
		// would expect a BOOLEAN wrapped in another one.
		if e.PeekASN1Tag(cbasn1.BOOLEAN) && !e.ReadASN1Boolean(&ext.Critical) {
			return nil, bad
		}
		var v cryptobyte.String
		if !e.ReadASN1(&v, cbasn1.OCTET_STRING) || !e.Empty() {
			return nil, bad
		}
		ext.Value = v
		out = append(out, ext)
	}
	return out, nil
}

// readGeneralizedTime reads a GeneralizedTime in UTC ("Z"), with or without
// fractional seconds: RFC 5280 forbids fractions in certificates, but some
// OCSP responders send them and other clients accept them.
func readGeneralizedTime(s *cryptobyte.String, out *time.Time) bool {
	var raw cryptobyte.String
	if !s.ReadASN1(&raw, cbasn1.GeneralizedTime) {
		return false
	}
	str := string(raw)
	if len(str) < len("20060102150405Z") || str[len(str)-1] != 'Z' {
		return false
	}
	layout := "20060102150405Z"
	if len(str) > len(layout) {
		frac := str[len("20060102150405") : len(str)-1]
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' || frac[len(frac)-1] == '0' {
			return false // DER: no trailing zeros, at least one digit
		}
		for _, c := range frac[1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
		layout = "20060102150405." + strings.Repeat("9", len(frac)-1) + "Z"
	}
	t, err := time.Parse(layout, str)
	if err != nil {
		return false
	}
	*out = t.UTC()
	return true
}
