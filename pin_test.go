package tlsclient_test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

func TestParsePin(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	sum := sha256.Sum256(p.leaf.Cert.RawSubjectPublicKeyInfo)
	b64 := base64.StdEncoding.EncodeToString(sum[:])
	want := tlsclient.PinOf(p.leaf.Cert)
	if [32]byte(want) != sum {
		t.Fatal("PinOf is not the SHA-256 of the SubjectPublicKeyInfo")
	}
	for _, s := range []string{"sha256/" + b64, "sha256//" + b64} {
		got, err := tlsclient.ParsePin(s)
		if err != nil || got != want {
			t.Errorf("ParsePin(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if want.String() != "sha256/"+b64 {
		t.Errorf("String() = %q", want.String())
	}
	for _, tt := range []struct{ in, err string }{
		{"", "want sha256/BASE64"},
		{b64, "want sha256/BASE64"},
		{"sha1/" + b64, "want sha256/BASE64"},
		{"SHA256/" + b64, "want sha256/BASE64"},
		{"sha256/" + b64[:21], "bad base64"},
		{"sha256/" + base64.StdEncoding.EncodeToString(sum[:20]), "20 bytes, want the 32"},
		{"sha256/" + strings.TrimRight(b64, "="), "bad base64"},
	} {
		if _, err := tlsclient.ParsePin(tt.in); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParsePin(%q) error = %v, want %q", tt.in, err, tt.err)
		}
	}

	// A pin whose base64 starts with '/' (a digit of the alphabet), in
	// both forms.
	var slash tlsclient.Pin
	slash[0] = 0xfc // 111111.. encodes as '/'
	slashB64 := base64.StdEncoding.EncodeToString(slash[:])
	if slashB64[0] != '/' {
		t.Fatalf("test pin %s does not start with '/'", slashB64)
	}
	for _, s := range []string{"sha256/" + slashB64, "sha256//" + slashB64} {
		if got, err := tlsclient.ParsePin(s); err != nil || got != slash {
			t.Errorf("ParsePin(%q) = %v, %v", s, got, err)
		}
	}
	if got, err := tlsclient.ParsePin(slash.String()); err != nil || got != slash {
		t.Errorf("String() does not round-trip: %q: %v", slash.String(), err)
	}

	// Text and JSON forms.
	var back tlsclient.Pin
	if err := back.UnmarshalText([]byte(want.String())); err != nil || back != want {
		t.Errorf("UnmarshalText: %v, %v", back, err)
	}
	if err := back.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText accepted nonsense")
	}
	js, err := json.Marshal(struct{ P tlsclient.Pin }{want})
	if err != nil || string(js) != `{"P":"`+want.String()+`"}` {
		t.Errorf("JSON = %s, %v", js, err)
	}
}

// pinState is a hand-built State with the given verified chains.
func pinState(chains ...[]*x509.Certificate) *tlsclient.State {
	return &tlsclient.State{ConnectionState: tls.ConnectionState{VerifiedChains: chains}, Now: testpki.Now}
}

func TestPinVerifierOffline(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	chain := []*x509.Certificate{p.leaf.Cert, p.inter.Cert, p.root.Cert}
	other := newPKI(t, testpki.CertOptions{})
	// A cross-signed path: the same leaf and intermediate, another root.
	cross := []*x509.Certificate{p.leaf.Cert, p.inter.Cert, other.root.Cert}
	pin := tlsclient.PinOf
	tests := []struct {
		name    string
		scope   tlsclient.PinScope
		pins    []tlsclient.Pin
		chains  [][]*x509.Certificate
		ok      bool
		matched string
	}{
		{"leaf, chain scope", tlsclient.PinChain, []tlsclient.Pin{pin(p.leaf.Cert)}, [][]*x509.Certificate{chain}, true, "CN=localhost"},
		{"intermediate, chain scope", tlsclient.PinChain, []tlsclient.Pin{pin(other.leaf.Cert), pin(p.inter.Cert)}, [][]*x509.Certificate{chain}, true, p.inter.Cert.Subject.String()},
		{"root, chain scope", tlsclient.PinChain, []tlsclient.Pin{pin(p.root.Cert)}, [][]*x509.Certificate{chain}, true, p.root.Cert.Subject.String()},
		{"root of the second verified chain", tlsclient.PinChain, []tlsclient.Pin{pin(other.root.Cert)}, [][]*x509.Certificate{chain, cross}, true, other.root.Cert.Subject.String()},
		{"leaf, leaf scope", tlsclient.PinLeaf, []tlsclient.Pin{pin(p.leaf.Cert)}, [][]*x509.Certificate{chain}, true, "CN=localhost"},
		{"intermediate, leaf scope", tlsclient.PinLeaf, []tlsclient.Pin{pin(p.inter.Cert)}, [][]*x509.Certificate{chain}, false, ""},
		{"another PKI", tlsclient.PinChain, []tlsclient.Pin{pin(other.leaf.Cert), pin(other.inter.Cert)}, [][]*x509.Certificate{chain}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := pinState(tt.chains...)
			err := tlsclient.PinVerifier(tt.scope, tt.pins...).Verify(t.Context(), st)
			checks := st.Checks()
			if len(checks) != 1 {
				t.Fatalf("checks = %+v", checks)
			}
			c := checks[0]
			d, _ := c.Data.(tlsclient.PinDetails)
			if tt.ok {
				if err != nil || c.Outcome != tlsclient.Pass || d.Matched == nil || d.Matched.Subject != tt.matched {
					t.Errorf("err %v, check %+v", err, c)
				}
				return
			}
			var pe *tlsclient.PinError
			if !errors.Is(err, tlsclient.ErrPinMismatch) || !errors.As(err, &pe) || c.Outcome != tlsclient.Fail || d.Matched != nil {
				t.Fatalf("err %v, check %+v", err, c)
			}
			wantKeys := 3
			if tt.scope == tlsclient.PinLeaf {
				wantKeys = 1
			}
			if len(pe.Keys) != wantKeys || pe.Keys[0].Pin != pin(p.leaf.Cert) || pe.Subject != "CN=localhost" || len(pe.Pins) != len(tt.pins) {
				t.Errorf("PinError = %+v", pe)
			}
			msg := err.Error()
			for _, s := range []string{"public key pin mismatch", "CN=localhost: " + pin(p.leaf.Cert).String(), "pinned: " + tt.pins[0].String(), "update the pins"} {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q: %s", s, msg)
				}
			}
		})
	}
}

func TestPinVerifierMisconfigured(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	chain := []*x509.Certificate{p.leaf.Cert, p.inter.Cert, p.root.Cert}
	for _, v := range []tlsclient.Verifier{
		tlsclient.PinVerifier(tlsclient.PinChain),
		tlsclient.PinVerifier(tlsclient.PinScope(7), tlsclient.PinOf(p.leaf.Cert)),
	} {
		st := pinState(chain)
		if err := v.Verify(t.Context(), st); err == nil || st.Checks()[0].Outcome != tlsclient.Fail {
			t.Errorf("misconfigured verifier passed: %v", err)
		}
	}
	// No chain: fail closed.
	st := pinState()
	if err := tlsclient.PinVerifier(tlsclient.PinChain, tlsclient.PinOf(p.leaf.Cert)).Verify(t.Context(), st); !errors.Is(err, tlsclient.ErrPinMismatch) {
		t.Errorf("no chain: %v", err)
	}
	for _, opt := range []tlsclient.Option{tlsclient.WithPins(), tlsclient.WithPins("sha256/nope")} {
		if _, err := tlsclient.New(opt); err == nil || !strings.Contains(err.Error(), "WithPins") {
			t.Errorf("WithPins: %v", err)
		}
	}
	if tlsclient.PinLeaf.String() != "leaf" || tlsclient.PinChain.String() != "chain" || tlsclient.PinScope(9).String() != "PinScope(9)" {
		t.Error("PinScope.String")
	}
}

// TestWithPinsDial: pins are checked in the handshake, full and resumed,
// and the chain's pins are in the Report.
func TestWithPinsDial(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.CertOptions{})
	srv := serve(t, testpki.ServerOptions{Cert: p.leaf})
	d, err := tlsclient.New(p.opts(tlsclient.WithPins(tlsclient.PinOf(p.inter.Cert).String()))...)
	if err != nil {
		t.Fatal(err)
	}
	for i, resumed := range []bool{false, true} {
		conn, err := d.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n")
		io.Copy(io.Discard, conn) // receive the session ticket
		conn.Close()
		rep := conn.Report()
		c := mustOneCheck(t, rep, "pin")
		if rep.Resumed != resumed || c.Outcome != tlsclient.Pass {
			t.Errorf("dial %d: resumed %v, pin %+v", i+1, rep.Resumed, c)
		}
		if rep.Chain[1].Pin != tlsclient.PinOf(p.inter.Cert) {
			t.Errorf("dial %d: chain pin = %v", i+1, rep.Chain[1].Pin)
		}
	}

	other := newPKI(t, testpki.CertOptions{})
	_, err = tlsclient.Dial("tcp", srv.Addr, p.opts(tlsclient.WithPins(tlsclient.PinOf(other.inter.Cert).String()))...)
	if !errors.Is(err, tlsclient.ErrPinMismatch) {
		t.Fatalf("err = %v", err)
	}
	if c := mustOneCheck(t, verificationError(t, err).Report, "pin"); c.Outcome != tlsclient.Fail {
		t.Errorf("pin check = %+v", c)
	}
}

// FuzzParsePin: whatever parses round-trips through String, and nothing
// panics.
func FuzzParsePin(f *testing.F) {
	for _, s := range []string{"sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
		"sha256///AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sha256/", "sha1/AAAA", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := tlsclient.ParsePin(s)
		if err != nil {
			return
		}
		back, err := tlsclient.ParsePin(p.String())
		if err != nil || back != p {
			t.Fatalf("%q parsed to %v, which does not round-trip: %v", s, p, err)
		}
	})
}
