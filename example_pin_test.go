package tlsclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// WithPins accepts the server only if a certificate of its verified chain
// has a pinned key. Pin your CA's key, or the server's key and a backup.
func ExampleWithPins() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()
	caPin := tlsclient.PinOf(ca.Cert).String() // "sha256/...": tlsclient connect prints them

	conn, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithPins(caPin))
	if err != nil {
		log.Fatal(err)
	}
	conn.Close()
	c := conn.Report().Checks[3]
	fmt.Println(c.Verifier, c.Outcome, c.Data.(tlsclient.PinDetails).Matched.Subject)

	_, otherCA := exampleCA()
	_, err = tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithPins(tlsclient.PinOf(otherCA.Cert).String()))
	fmt.Println(errors.Is(err, tlsclient.ErrPinMismatch))
	// Output:
	// pin pass CN=Example Intermediate CA
	// true
}

// PinVerifier with PinLeaf pins the server's own key, as curl's
// --pinnedpubkey does. Like every verifier, it can check a saved chain
// offline, with a hand-built State.
func ExamplePinVerifier() {
	_, ca := exampleCA()
	leaf := testpki.Must(ca.Issue(testpki.CertOptions{}))
	chain := []*x509.Certificate{leaf.Cert, ca.Cert, ca.Issuer.Cert}
	v := tlsclient.PinVerifier(tlsclient.PinLeaf, tlsclient.PinOf(ca.Cert)) // the CA's key, not the leaf's

	st := &tlsclient.State{ConnectionState: tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{chain}}, Now: testpki.Now}
	err := v.Verify(context.Background(), st)
	var pe *tlsclient.PinError
	if errors.As(err, &pe) {
		fmt.Println(st.Checks()[0].Detail)
		fmt.Println("the server's key:", pe.Keys[0].Pin == tlsclient.PinOf(leaf.Cert))
	}
	// Output:
	// the server's key matches no pin
	// the server's key: true
}

// ParsePin reads OkHttp's sha256/BASE64 and curl's sha256//BASE64 forms.
func ExampleParsePin() {
	for _, s := range []string{
		"sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
		"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
		"sha1/AAAA",
	} {
		p, err := tlsclient.ParsePin(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(p)
	}
	// Output:
	// sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
	// sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
	// tlsclient: pin "sha1/AAAA": want sha256/BASE64 (the base64 SHA-256 hash of a SubjectPublicKeyInfo)
}

// PinOf computes the pin of a certificate's key, to configure WithPins.
func ExamplePinOf() {
	_, ca := exampleCA()
	pin := tlsclient.PinOf(ca.Cert)
	parsed, err := tlsclient.ParsePin(pin.String())
	fmt.Println(parsed == pin, err, len(pin.String()))
	// Output:
	// true <nil> 51
}
