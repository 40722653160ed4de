package revocation_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
	"golang.org/x/crypto/ocsp"
)

// exampleDial dials srv trusting root, verifying www.example.test with v,
// and returns the Report (of the refusal too) and the error.
func exampleDial(srv *testpki.Server, root *testpki.Cert, v tlsclient.Verifier) (*tlsclient.Report, error) {
	conn, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithServerName("www.example.test"),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithVerifiers(v),
	)
	var ve *tlsclient.VerificationError
	switch {
	case err == nil:
		conn.Close()
		return conn.Report(), nil
	case errors.As(err, &ve):
		return ve.Report, err
	}
	return nil, err
}

// goodResponder answers "good" for every certificate of the PKI.
func goodResponder(responder *testpki.OCSPResponder, root, ca, leaf *testpki.Cert) {
	responder.SetAnswer(func(req *ocsp.Request, _ []byte) []byte {
		if req.SerialNumber.Cmp(leaf.Cert.SerialNumber) == 0 {
			return testpki.Must(ca.OCSPGood(leaf))
		}
		return testpki.Must(root.OCSPGood(ca))
	})
}

// RequireStatus refuses a certificate that names no revocation source; by
// default it passes, recorded as not applicable.
func ExampleRequireStatus() {
	root, _, leaf := exampleOCSPPKI("") // no OCSP responder, no CRL
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	rep, err := exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly()))
	fmt.Println("default:", err == nil, rep.Checks[3].Outcome, rep.Checks[3].Detail)
	_, err = exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly(), revocation.RequireStatus()))
	fmt.Println("RequireStatus:", errors.Is(err, tlsclient.ErrRevocationUnavailable))
	// Output:
	// default: true skip not applicable: no OCSP responder in the certificate
	// RequireStatus: true
}

// LeafOnly checks the server's certificate only; by default every
// certificate of the chain but the trust anchor is checked.
func ExampleLeafOnly() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	goodResponder(responder, root, ca, leaf)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	for _, opts := range [][]revocation.Option{nil, {revocation.LeafOnly()}} {
		rep, err := exampleDial(srv, root, revocation.OCSP(opts...))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("checked:", len(rep.Checks)-3) // after chain, hostname, staple
	}
	// Output:
	// checked: 2
	// checked: 1
}

// countingCache is a Cache of your own: here a map, in real life Redis or
// memcached (see the Cache contract, and examples/rediscache).
type countingCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	hits int
}

func (c *countingCache) Get(_ context.Context, key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if ok {
		c.hits++
	}
	return v, ok
}

func (c *countingCache) Put(_ context.Context, key string, value []byte, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = value // a real store honours the ttl
}

// WithCache shares fetched responses between verifiers: here two, as two
// processes of a fleet would through Redis. The responder is asked once.
func ExampleWithCache() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	goodResponder(responder, root, ca, leaf)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	shared := &countingCache{m: map[string][]byte{}}
	for range 2 {
		if _, err := exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly(), revocation.WithCache(shared))); err != nil {
			fmt.Println(err)
			return
		}
	}
	total, _ := responder.Hits()
	fmt.Printf("responder requests: %d; cache hits: %d\n", total, shared.hits)
	// Output:
	// responder requests: 1; cache hits: 1
}

// NewMemoryCache is the default Cache; give one to several verifiers to
// share it, with a budget of your choice.
func ExampleNewMemoryCache() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	goodResponder(responder, root, ca, leaf)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	cache := revocation.NewMemoryCache(16 << 20) // 16 MiB
	exampleDial(srv, root, revocation.OCSP(revocation.WithCache(cache)))
	rep, _ := exampleDial(srv, root, revocation.New(revocation.WithCache(cache)))
	for _, c := range rep.Checks[3:] {
		if d, ok := c.Data.(revocation.Details); ok && c.Outcome == tlsclient.Pass {
			fmt.Println(c.Subject, d.Status, "cached:", d.Cached)
		}
	}
	fmt.Println("entries:", cache.Len())
	// Unordered output:
	// CN=www.example.test good cached: true
	// CN=Example Issuing CA good cached: true
	// entries: 2
}

// ExemptShortLived skips certificates that live a week or less, which
// carry no revocation information under the CA/Browser Forum's rules.
func ExampleExemptShortLived() {
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Example Root CA"}))
	ca := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "Example Issuing CA"}))
	leaf := testpki.Must(ca.Issue(testpki.CertOptions{DNSNames: []string{"www.example.test"},
		NotBefore: testpki.Now.Add(-time.Hour), NotAfter: testpki.Now.Add(6*24*time.Hour - time.Hour)}))
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	rep, err := exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly(), revocation.RequireStatus(), revocation.ExemptShortLived(0)))
	fmt.Println(err == nil, rep.Checks[3].Outcome, rep.Checks[3].Detail)
	// Output:
	// true skip short-lived certificate (144h0m0s) exempt from revocation checking
}

// WithOrder changes which sources New consults, and in which order: here
// OCSP only, so that a staple is not taken as the answer.
func ExampleWithOrder() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	goodResponder(responder, root, ca, leaf)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf, Staple: testpki.Must(ca.OCSPGood(leaf))}))
	defer srv.Close()

	for _, opts := range [][]revocation.Option{nil, {revocation.WithOrder(revocation.SourceOCSP)}} {
		rep, err := exampleDial(srv, root, revocation.New(append(opts, revocation.LeafOnly())...))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("leaf decided by:", rep.Find(tlsclient.Pass)[3].Source)
	}
	// Output:
	// leaf decided by: staple
	// leaf decided by: ocsp
}

// WithCRLCacheDir keeps downloaded CRLs on disk: a restarted process (here,
// a second verifier) starts with them and downloads nothing.
func ExampleWithCRLCacheDir() {
	files := testpki.NewFileServer()
	defer files.Close()
	root, _, leaf, crl := exampleCRLPKI(files.URLFor("/issuing-ca.crl"), false)
	files.Set("/issuing-ca.crl", crl, testpki.Now)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()
	dir, err := os.MkdirTemp("", "crls")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	for run := 1; run <= 2; run++ { // two runs of a program
		v := revocation.CRL(revocation.LeafOnly(), revocation.WithCRLCacheDir(dir))
		if _, err := exampleDial(srv, root, v); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("run %d: CRL downloads so far: %d\n", run, files.Hits("/issuing-ca.crl"))
	}
	// Output:
	// run 1: CRL downloads so far: 1
	// run 2: CRL downloads so far: 1
}

// WithFetchTimeout bounds each request: a responder slower than that
// counts as unavailable (a warning under SoftFail).
func ExampleWithFetchTimeout() {
	responder := testpki.NewOCSPResponder(nil)
	defer responder.Close()
	root, ca, leaf := exampleOCSPPKI(responder.URL)
	goodResponder(responder, root, ca, leaf)
	responder.SetDelay(2 * time.Second)
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	rep, err := exampleDial(srv, root, revocation.OCSP(revocation.LeafOnly(), revocation.SoftFail(),
		revocation.WithFetchTimeout(100*time.Millisecond)))
	for _, c := range rep.Find(tlsclient.Warning) {
		var fe *revocation.FetchError
		fmt.Println(err == nil, c.Detail, errors.As(c.Err, &fe) && fe.Kind == revocation.FetchTimeout)
	}
	// Output:
	// true revocation status unknown; continuing (SoftFail) true
}
