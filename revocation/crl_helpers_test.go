package revocation

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/crlscan"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// crlPKI is a root, an intermediate and a leaf whose CRL distribution
// points are on a testpki.FileServer: the intermediate points at
// /root.crl (the root's CRL), the leaf at /inter.crl. Both start out
// published, empty and current.
type crlPKI struct {
	root, inter, leaf *testpki.Cert
	files             *testpki.FileServer
}

// crlPKIOptions change the certificates minted by newCRLPKI.
type crlPKIOptions struct {
	leaf  testpki.CertOptions // CRLDistributionPoints default to /inter.crl
	inter testpki.CertOptions // CRLDistributionPoints default to /root.crl
	// noLeafDP and noInterDP leave the distribution points out.
	noLeafDP, noInterDP bool
}

func newCRLPKI(t testing.TB, o crlPKIOptions) *crlPKI {
	t.Helper()
	files := testpki.NewFileServer()
	t.Cleanup(files.Close)
	return newCRLPKIWith(t, o, files)
}

// newCRLPKIWith is newCRLPKI on a given file server.
func newCRLPKIWith(t testing.TB, o crlPKIOptions, files *testpki.FileServer) *crlPKI {
	t.Helper()
	p := &crlPKI{files: files}
	p.root = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "CRL Test Root"}))
	if o.inter.CommonName == "" && o.inter.Subject == nil {
		o.inter.CommonName = "CRL Test Intermediate"
	}
	if o.inter.CRLDistributionPoints == nil && !o.noInterDP {
		o.inter.CRLDistributionPoints = []string{p.files.URLFor("/root.crl")}
	}
	p.inter = testpki.Must(p.root.NewIntermediate(o.inter))
	if o.leaf.CRLDistributionPoints == nil && !o.noLeafDP && !crlHasDPExtension(o.leaf) {
		o.leaf.CRLDistributionPoints = []string{p.files.URLFor("/inter.crl")}
	}
	p.leaf = testpki.Must(p.inter.Issue(o.leaf))
	p.publish(t, "/root.crl", p.root, testpki.CRLTemplate{})
	p.publish(t, "/inter.crl", p.inter, testpki.CRLTemplate{})
	return p
}

func crlHasDPExtension(o testpki.CertOptions) bool {
	for _, e := range o.ExtraExtensions {
		if e.Id.Equal(oidExtCRLDP) {
			return true
		}
	}
	return false
}

// publish builds a CRL signed by ca and serves it at path.
func (p *crlPKI) publish(t testing.TB, path string, ca *testpki.Cert, tmpl testpki.CRLTemplate) []byte {
	t.Helper()
	der := testpki.Must(ca.BuildCRL(tmpl))
	p.files.Set(path, der, testpki.Now.Add(-time.Hour))
	return der
}

func (p *crlPKI) url(path string) string { return p.files.URLFor(path) }

// chain is the verified chain, leaf first, root last.
func (p *crlPKI) chain() []*x509.Certificate {
	return []*x509.Certificate{p.leaf.Cert, p.inter.Cert, p.root.Cert}
}

// crlState is what VerifyConnection would see for chain: the chain
// verified, the server's certificates (the chain without its root, plus
// extra), and the fixed time.
func crlState(chain []*x509.Certificate, extra ...*x509.Certificate) *tlsclient.State {
	peers := append(append([]*x509.Certificate(nil), chain[:len(chain)-1]...), extra...)
	st := &tlsclient.State{Now: testpki.Now}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{chain}
	st.ConnectionState.PeerCertificates = peers
	return st
}

// crlHTTP returns a client with a transport of its own, whose idle
// connections are closed when the test ends (so that leak checks see no
// keep-alive goroutines).
func crlHTTP(t testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// crlVerifier is CRL() with the test's HTTP client and a short timeout.
func crlVerifier(t testing.TB, opts ...Option) *checker {
	base := []Option{WithHTTPClient(crlHTTP(t)), WithFetchTimeout(2 * time.Second)}
	return CRL(append(base, opts...)...).(*checker)
}

// crlSourceOf returns a checker's CRL source.
func crlSourceOf(t testing.TB, c *checker) *crlSource {
	for _, s := range c.sources {
		if cs, ok := s.(*crlSource); ok {
			return cs
		}
	}
	t.Fatal("no CRL source")
	return nil
}

// crlCheck returns the check recorded for the certificate with common
// name cn by the "crl" source.
func crlCheck(t testing.TB, st *tlsclient.State, cn string) tlsclient.Check {
	t.Helper()
	for _, c := range st.Checks() {
		if strings.Contains(c.Subject, "CN="+cn) && c.Source == "crl" {
			return c
		}
	}
	t.Fatalf("no crl check for %q in %s", cn, crlDump(st.Checks()))
	return tlsclient.Check{}
}

func crlDump(checks []tlsclient.Check) string {
	var b strings.Builder
	for _, c := range checks {
		b.WriteString("\n  " + c.Outcome.String() + " " + c.Verifier + " [" + c.Subject + "] " + c.Source + " " + c.Detail)
		if c.Error != "" {
			b.WriteString(" ERR " + c.Error)
		}
	}
	return b.String()
}

// crlReasonOf returns the CRLErrorReason inside err, or 0.
func crlReasonOf(err error) CRLErrorReason {
	var ce *CRLError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return 0
}

// crlReasons returns every CRLErrorReason inside err.
func crlReasons(err error) []CRLErrorReason {
	var out []CRLErrorReason
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ce, ok := e.(*CRLError); ok {
			out = append(out, ce.Reason)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// crlWithSerial returns a copy of cert with another serial number (for
// negative and over-long serials, which crypto/x509 no longer mints or
// parses by default).
func crlWithSerial(cert *x509.Certificate, n *big.Int) *x509.Certificate {
	c := *cert
	c.SerialNumber = n
	return &c
}

// crlVerify runs v on st with a deadline.
func crlVerify(v tlsclient.Verifier, st *tlsclient.State) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return v.Verify(ctx, st)
}

// crlLeakCheck fails the test if goroutines started during it are still
// running a few seconds after it (and its cleanups registered later) end.
// Call it first, in a test that does not run in parallel.
func crlLeakCheck(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// crlParseTestDPs turns a distribution points extension back into
// testpki's description (for rewriting URLs); nil when it cannot.
func crlParseTestDPs(v []byte) []testpki.DistributionPoint {
	dps, err := crlscan.ParseDistributionPoints(v)
	if err != nil {
		return nil
	}
	var out []testpki.DistributionPoint
	for _, dp := range dps {
		var d testpki.DistributionPoint
		if dp.HasReasons {
			d.Reasons = uint16(dp.Reasons)
		}
		if dp.Name != nil {
			for _, n := range dp.Name.FullName {
				switch n.Tag {
				case 6:
					d.URIs = append(d.URIs, string(n.Value))
				case 4:
					d.DirectoryName = n.Value
				}
			}
			if dp.Name.RelativeName != nil {
				var set pkix.RelativeDistinguishedNameSET
				if _, err := asn1.UnmarshalWithParams(dp.Name.RelativeName, &set, "set"); err != nil || len(set) == 0 {
					return nil
				}
				d.RelativeCN = fmt.Sprint(set[0].Value)
			}
		}
		if len(dp.CRLIssuer) > 0 {
			d.CRLIssuer = dp.CRLIssuer[0].Value
		}
		out = append(out, d)
	}
	return out
}
