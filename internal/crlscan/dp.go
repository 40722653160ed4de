package crlscan

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ReasonFlags is the ReasonFlags BIT STRING of RFC 5280 4.2.1.13: bit i
// (1 << i) set when named bit i is.
type ReasonFlags uint16

// ReasonFlags bits.
const (
	FlagKeyCompromise        ReasonFlags = 1 << 1
	FlagCACompromise         ReasonFlags = 1 << 2
	FlagAffiliationChanged   ReasonFlags = 1 << 3
	FlagSuperseded           ReasonFlags = 1 << 4
	FlagCessationOfOperation ReasonFlags = 1 << 5
	FlagCertificateHold      ReasonFlags = 1 << 6
	FlagPrivilegeWithdrawn   ReasonFlags = 1 << 7
	FlagAACompromise         ReasonFlags = 1 << 8
	// AllReasons is every reason (RFC 5280 6.3.3 "all-reasons").
	AllReasons ReasonFlags = 0x1fe
)

// GeneralName is one GeneralName (RFC 5280 4.2.1.6), kept raw: Tag is its
// context-specific tag number (6 for a URI, 4 for a directoryName...) and
// Value its contents (for a directoryName, the DER Name).
type GeneralName struct {
	Tag   uint8
	Value []byte
}

// Equal reports whether two names are the same name, byte for byte.
func (g GeneralName) Equal(o GeneralName) bool {
	return g.Tag == o.Tag && bytes.Equal(g.Value, o.Value)
}

// IsURI reports whether the name is a uniformResourceIdentifier.
func (g GeneralName) IsURI() bool { return g.Tag == 6 }

// DistributionPointName is the name of a distribution point: a list of
// general names (fullName), or a relative name (nameRelativeToCRLIssuer, a
// DER SET, to be appended to the CRL issuer's name).
type DistributionPointName struct {
	FullName     []GeneralName
	RelativeName []byte
}

// DistributionPoint is one entry of a CRL Distribution Points or Freshest
// CRL extension (RFC 5280 4.2.1.13).
type DistributionPoint struct {
	Name       *DistributionPointName
	Reasons    ReasonFlags
	HasReasons bool
	CRLIssuer  []GeneralName
}

// URIs returns the uniformResourceIdentifier names of the distribution
// point's fullName.
func (dp DistributionPoint) URIs() []string {
	if dp.Name == nil {
		return nil
	}
	var out []string
	for _, n := range dp.Name.FullName {
		if n.IsURI() {
			out = append(out, string(n.Value))
		}
	}
	return out
}

// IssuingDistributionPoint is a CRL's IDP extension (RFC 5280 5.2.5).
type IssuingDistributionPoint struct {
	Name                       *DistributionPointName
	OnlyContainsUserCerts      bool
	OnlyContainsCACerts        bool
	OnlyContainsAttributeCerts bool
	IndirectCRL                bool
	OnlySomeReasons            ReasonFlags
	HasOnlySomeReasons         bool
}

// ParseDistributionPoints reads the value of a CRL Distribution Points or
// Freshest CRL extension.
func ParseDistributionPoints(val []byte) ([]DistributionPoint, error) {
	s := cryptobyte.String(val)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errors.New("not a SEQUENCE of DistributionPoint")
	}
	var out []DistributionPoint
	for !seq.Empty() {
		var dpSeq cryptobyte.String
		if !seq.ReadASN1(&dpSeq, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed DistributionPoint")
		}
		var dp DistributionPoint
		var name, reasons, issuer cryptobyte.String
		var hasName, hasIssuer bool
		if !dpSeq.ReadOptionalASN1(&name, &hasName, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
			!dpSeq.ReadOptionalASN1(&reasons, &dp.HasReasons, cbasn1.Tag(1).ContextSpecific()) ||
			!dpSeq.ReadOptionalASN1(&issuer, &hasIssuer, cbasn1.Tag(2).Constructed().ContextSpecific()) ||
			!dpSeq.Empty() {
			return nil, errors.New("malformed DistributionPoint")
		}
		if hasName {
			n, err := parseDPName(name)
			if err != nil {
				return nil, err
			}
			dp.Name = n
		}
		if dp.HasReasons {
			r, err := parseReasonFlags(reasons)
			if err != nil {
				return nil, err
			}
			dp.Reasons = r
		}
		if hasIssuer {
			names, err := parseGeneralNames(issuer)
			if err != nil {
				return nil, fmt.Errorf("cRLIssuer: %w", err)
			}
			dp.CRLIssuer = names
		}
		if !hasName && !hasIssuer {
			return nil, errors.New("DistributionPoint with neither distributionPoint nor cRLIssuer")
		}
		out = append(out, dp)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list of distribution points")
	}
	return out, nil
}

// parseDPName reads the contents of the [0] wrapper of a
// DistributionPointName (a CHOICE, so explicitly tagged).
func parseDPName(s cryptobyte.String) (*DistributionPointName, error) {
	var inner cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&inner, &tag) || !s.Empty() {
		return nil, errors.New("malformed DistributionPointName")
	}
	switch tag {
	case cbasn1.Tag(0).Constructed().ContextSpecific():
		names, err := parseGeneralNames(inner)
		if err != nil {
			return nil, fmt.Errorf("fullName: %w", err)
		}
		return &DistributionPointName{FullName: names}, nil
	case cbasn1.Tag(1).Constructed().ContextSpecific():
		// RelativeDistinguishedName ::= SET SIZE (1..MAX) OF
		// AttributeTypeAndValue, implicitly tagged: rebuild the SET.
		if inner.Empty() {
			return nil, errors.New("empty nameRelativeToCRLIssuer")
		}
		for probe := inner; !probe.Empty(); {
			if !probe.SkipASN1(cbasn1.SEQUENCE) {
				return nil, errors.New("malformed nameRelativeToCRLIssuer")
			}
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(inner) })
		return &DistributionPointName{RelativeName: b.BytesOrPanic()}, nil
	}
	return nil, errors.New("unknown DistributionPointName choice")
}

// parseGeneralNames reads GeneralName elements up to the end of s.
func parseGeneralNames(s cryptobyte.String) ([]GeneralName, error) {
	var out []GeneralName
	for !s.Empty() {
		var v cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1(&v, &tag) {
			return nil, errors.New("malformed GeneralName")
		}
		if tag&0xc0 != 0x80 || tag&0x1f > 8 {
			return nil, fmt.Errorf("GeneralName with tag %#x", uint8(tag))
		}
		g := GeneralName{Tag: uint8(tag & 0x1f), Value: bytes.Clone(v)}
		if g.Tag == 4 { // directoryName: [4] EXPLICIT Name
			var name cryptobyte.String
			if !v.ReadASN1Element(&name, cbasn1.SEQUENCE) || !v.Empty() {
				return nil, errors.New("malformed directoryName")
			}
			g.Value = bytes.Clone(name)
		}
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, errors.New("empty GeneralNames")
	}
	return out, nil
}

// parseReasonFlags reads the contents of an implicitly tagged ReasonFlags
// BIT STRING.
func parseReasonFlags(v []byte) (ReasonFlags, error) {
	if len(v) == 0 || v[0] > 7 || len(v) == 1 && v[0] != 0 {
		return 0, errors.New("malformed ReasonFlags")
	}
	var f ReasonFlags
	for i, b := range v[1:] {
		for j := range 8 {
			if b&(0x80>>j) != 0 {
				bit := i*8 + j
				if bit > 15 {
					continue // reasons not defined by RFC 5280
				}
				f |= 1 << bit
			}
		}
	}
	return f, nil
}

// parseIDP reads the value of an issuingDistributionPoint extension.
func parseIDP(val cryptobyte.String) (*IssuingDistributionPoint, error) {
	fail := func(msg string) (*IssuingDistributionPoint, error) {
		return nil, strict("issuingDistributionPoint", msg)
	}
	var seq cryptobyte.String
	if !val.ReadASN1(&seq, cbasn1.SEQUENCE) || !val.Empty() {
		return fail("not a SEQUENCE")
	}
	idp := &IssuingDistributionPoint{}
	var name cryptobyte.String
	var hasName bool
	if !seq.ReadOptionalASN1(&name, &hasName, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return fail("malformed distributionPoint")
	}
	if hasName {
		n, err := parseDPName(name)
		if err != nil {
			return fail(err.Error())
		}
		idp.Name = n
	}
	readBool := func(tag int, out *bool) bool {
		var v cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&v, &present, cbasn1.Tag(tag).ContextSpecific()) {
			return false
		}
		if present {
			if len(v) != 1 || v[0] != 0 && v[0] != 0xff {
				return false
			}
			*out = v[0] == 0xff
		}
		return true
	}
	if !readBool(1, &idp.OnlyContainsUserCerts) || !readBool(2, &idp.OnlyContainsCACerts) {
		return fail("malformed onlyContains flag")
	}
	var reasons cryptobyte.String
	if !seq.ReadOptionalASN1(&reasons, &idp.HasOnlySomeReasons, cbasn1.Tag(3).ContextSpecific()) {
		return fail("malformed onlySomeReasons")
	}
	if idp.HasOnlySomeReasons {
		r, err := parseReasonFlags(reasons)
		if err != nil {
			return fail(err.Error())
		}
		idp.OnlySomeReasons = r
	}
	if !readBool(4, &idp.IndirectCRL) || !readBool(5, &idp.OnlyContainsAttributeCerts) {
		return fail("malformed indirectCRL or onlyContainsAttributeCerts")
	}
	if !seq.Empty() {
		return fail("unexpected field")
	}
	n := 0
	for _, b := range []bool{idp.OnlyContainsUserCerts, idp.OnlyContainsCACerts, idp.OnlyContainsAttributeCerts} {
		if b {
			n++
		}
	}
	if n > 1 {
		return fail("more than one of onlyContainsUserCerts, onlyContainsCACerts and onlyContainsAttributeCerts")
	}
	return idp, nil
}

// Names returns the general names a distribution point name stands for: its
// fullName, or for a nameRelativeToCRLIssuer the directoryName made of
// crlIssuer (a DER Name) followed by the relative name (RFC 5280 4.2.1.13).
func (n *DistributionPointName) Names(crlIssuer []byte) []GeneralName {
	if n == nil {
		return nil
	}
	if n.RelativeName == nil {
		return n.FullName
	}
	in := cryptobyte.String(crlIssuer)
	var rdns cryptobyte.String
	if !in.ReadASN1(&rdns, cbasn1.SEQUENCE) {
		return nil
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(rdns)
		b.AddBytes(n.RelativeName)
	})
	return []GeneralName{{Tag: 4, Value: b.BytesOrPanic()}}
}
