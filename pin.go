package tlsclient

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// A Pin is the SHA-256 hash of a certificate's SubjectPublicKeyInfo: the
// "pin-sha256" of HPKP (RFC 7469), OkHttp's CertificatePinner and curl's
// --pinnedpubkey. It names a key, not a certificate, so it survives
// renewals that keep the key. Its text form is "sha256/" followed by the
// standard base64 of the hash.
type Pin [sha256.Size]byte

// ParsePin reads a pin written "sha256/BASE64" (OkHttp, this package) or
// "sha256//BASE64" (curl), where BASE64 is the standard, padded base64 of
// the SHA-256 hash of a SubjectPublicKeyInfo. To compute the pin of a
// certificate:
//
//	openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform der |
//	  openssl dgst -sha256 -binary | openssl enc -base64
//
// or run tlsclient connect, which prints each certificate's pin, or call
// PinOf.
func ParsePin(s string) (Pin, error) {
	var p Pin
	rest, ok := strings.CutPrefix(s, "sha256/")
	if !ok {
		return p, fmt.Errorf("tlsclient: pin %q: want sha256/BASE64 (the base64 SHA-256 hash of a SubjectPublicKeyInfo)", s)
	}
	// curl writes sha256//BASE64. A '/' is also a base64 digit, so only a
	// slash beyond the 44 characters of an encoded SHA-256 is curl's.
	if len(rest) == base64.StdEncoding.EncodedLen(sha256.Size)+1 && rest[0] == '/' {
		rest = rest[1:]
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return p, fmt.Errorf("tlsclient: pin %q: bad base64: %w", s, err)
	}
	if len(b) != sha256.Size {
		return p, fmt.Errorf("tlsclient: pin %q: %d bytes, want the %d of a SHA-256 hash", s, len(b), sha256.Size)
	}
	copy(p[:], b)
	return p, nil
}

// PinOf returns the pin of cert's public key.
func PinOf(cert *x509.Certificate) Pin {
	return Pin(sha256.Sum256(cert.RawSubjectPublicKeyInfo))
}

// String returns the pin as "sha256/BASE64".
func (p Pin) String() string { return "sha256/" + base64.StdEncoding.EncodeToString(p[:]) }

// MarshalText encodes the pin as "sha256/BASE64".
func (p Pin) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes what ParsePin accepts.
func (p *Pin) UnmarshalText(b []byte) error {
	v, err := ParsePin(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// PinScope says which certificates a pin may match.
type PinScope uint8

// Pin scopes.
const (
	// PinChain: any certificate of a verified chain, leaf, intermediates
	// or root, as HPKP and OkHttp do. Pinning your intermediate CA or an
	// offline backup key keeps working across leaf renewals.
	PinChain PinScope = iota
	// PinLeaf: the server's own certificate only, as curl's
	// --pinnedpubkey does.
	PinLeaf
)

func (s PinScope) String() string {
	switch s {
	case PinChain:
		return "chain"
	case PinLeaf:
		return "leaf"
	}
	return fmt.Sprintf("PinScope(%d)", uint8(s))
}

// MarshalText encodes the scope as "chain" or "leaf".
func (s PinScope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// CertPin is a certificate and the pin of its key, as a PinError and
// PinDetails list them.
type CertPin struct {
	Subject string `json:"subject"`
	Pin     Pin    `json:"pin"`
}

// PinError is a pinning failure: no certificate in scope has a pinned key.
// It wraps ErrPinMismatch.
type PinError struct {
	// Subject is the server's certificate.
	Subject string
	Scope   PinScope
	// Pins are the pins configured.
	Pins []Pin
	// Keys are the certificates considered (the first verified chain, or
	// the leaf), leaf first, with their pins.
	Keys []CertPin
}

func (e *PinError) Error() string {
	var b strings.Builder
	what := "no certificate of the verified chain"
	if e.Scope == PinLeaf {
		what = "the server's certificate"
	}
	fmt.Fprintf(&b, "%s: %s of %s has a pinned key (", ErrPinMismatch, what, e.Subject)
	for i, k := range e.Keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", k.Subject, k.Pin)
	}
	fmt.Fprintf(&b, "; pinned: ")
	for i, p := range e.Pins {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	b.WriteString("); if the server's keys changed legitimately, update the pins; otherwise the connection may be intercepted")
	return b.String()
}

// Unwrap makes errors.Is(err, ErrPinMismatch) true.
func (e *PinError) Unwrap() error { return ErrPinMismatch }

// PinDetails is the Data of a pin check in the Report.
type PinDetails struct {
	Scope PinScope `json:"scope"`
	// Matched is the certificate whose key matched, absent on failure.
	Matched *CertPin `json:"matched,omitempty"`
	// Pins are the pins configured.
	Pins []Pin `json:"pins"`
}

// PinVerifier returns a verifier, named "pin", that accepts the connection
// only when a certificate in scope — any certificate of a verified chain
// (PinChain), or the server's certificate (PinLeaf) — has one of the
// pinned keys. It refuses with a *PinError (ErrPinMismatch) otherwise. Give
// several pins to allow a key rollover: the current key and the next one,
// or a backup key kept offline.
//
// Pinning runs after chain validation, never instead of it: a pinned key in
// an untrusted chain is still refused. With several verified chains (a
// cross-signed intermediate), a match in any of them is enough.
//
// WARNING: a pinned client refuses the server as soon as its keys change
// unexpectedly, which is the point and also the risk: keep a backup pin, and
// a way to update the pins without a release.
func PinVerifier(scope PinScope, pins ...Pin) Verifier {
	v := &pinVerifier{scope: scope, pins: append([]Pin(nil), pins...)}
	switch {
	case len(pins) == 0:
		v.err = errors.New("tlsclient: PinVerifier: no pins given")
	case scope != PinChain && scope != PinLeaf:
		v.err = fmt.Errorf("tlsclient: PinVerifier: unknown scope %d (use PinChain or PinLeaf)", uint8(scope))
	}
	return v
}

// WithPins adds a PinVerifier with scope PinChain for pins, written as
// ParsePin reads them ("sha256/BASE64"). A malformed pin makes New fail
// with an error naming it. Use WithVerifiers(PinVerifier(PinLeaf, ...)) to
// pin the server's certificate only.
func WithPins(pins ...string) Option {
	return func(c *config) error {
		if len(pins) == 0 {
			return errors.New("tlsclient: WithPins: no pins given")
		}
		ps := make([]Pin, 0, len(pins))
		for _, s := range pins {
			p, err := ParsePin(s)
			if err != nil {
				return fmt.Errorf("tlsclient: WithPins: %w", err)
			}
			ps = append(ps, p)
		}
		c.verifiers = append(c.verifiers, PinVerifier(PinChain, ps...))
		return nil
	}
}

type pinVerifier struct {
	scope PinScope
	pins  []Pin
	err   error // a configuration error: every check fails with it
}

var _ Verifier = (*pinVerifier)(nil)

// Name labels the verifier's checks in the Report.
func (*pinVerifier) Name() string { return "pin" }

func (v *pinVerifier) Verify(_ context.Context, st *State) error {
	if v.err != nil {
		st.Record(Check{Outcome: Fail, Detail: "misconfigured pin verifier", Err: v.err})
		return v.err
	}
	chains := st.ConnectionState.VerifiedChains
	if len(chains) == 0 || len(chains[0]) == 0 {
		err := fmt.Errorf("%w: no verified chain to check the pins against", ErrPinMismatch)
		st.Record(Check{Outcome: Fail, Detail: "no verified chain", Err: err})
		return err
	}
	subject := st.CertLabel(chains[0][0])
	for _, chain := range chains {
		certs := chain
		if v.scope == PinLeaf {
			certs = chain[:1]
		}
		for _, c := range certs {
			if v.match(PinOf(c)) {
				label := st.CertLabel(c)
				d := PinDetails{Scope: v.scope, Matched: &CertPin{Subject: label, Pin: PinOf(c)}, Pins: v.pins}
				st.Record(Check{Subject: subject, Outcome: Pass, Data: d,
					Detail: "the key of " + label + " matches pin " + d.Matched.Pin.String()})
				return nil
			}
		}
		if v.scope == PinLeaf {
			break // every chain starts with the same leaf
		}
	}
	certs := chains[0]
	if v.scope == PinLeaf {
		certs = certs[:1]
	}
	keys := make([]CertPin, len(certs))
	for i, c := range certs {
		keys[i] = CertPin{Subject: st.CertLabel(c), Pin: PinOf(c)}
	}
	err := &PinError{Subject: subject, Scope: v.scope, Pins: v.pins, Keys: keys}
	detail := "no key of the verified chain matches a pin"
	if v.scope == PinLeaf {
		detail = "the server's key matches no pin"
	}
	st.Record(Check{Subject: subject, Outcome: Fail, Data: PinDetails{Scope: v.scope, Pins: v.pins}, Detail: detail, Err: err})
	return err
}

// match compares in constant time: pins are not secret, but there is no
// reason to leak which one matched through timing either.
func (v *pinVerifier) match(p Pin) bool {
	found := 0
	for i := range v.pins {
		found |= subtle.ConstantTimeCompare(v.pins[i][:], p[:])
	}
	return found == 1
}
