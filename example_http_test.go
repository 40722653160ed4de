package tlsclient_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// startHTTPSServer starts an HTTPS server that speaks HTTP/2 and HTTP/1.1,
// with a certificate from a private CA for localhost and 127.0.0.1.
func startHTTPSServer() (url string, root *testpki.Cert, stop func()) {
	root, ca := exampleCA()
	leaf := testpki.Must(ca.Issue(testpki.CertOptions{}))
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s\n", r.Proto)
	}))
	s.EnableHTTP2 = true
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	s.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, NextProtos: []string{"h2", "http/1.1"}}
	s.StartTLS()
	return s.URL, root, s.Close
}

// HTTPClient is an *http.Client whose connections are verified by the
// Dialer, HTTP/2 included; ResponseReport says what was checked for the
// connection a response came over.
func ExampleDialer_HTTPClient() {
	url, root, stop := startHTTPSServer()
	defer stop()

	d, err := tlsclient.New(
		tlsclient.WithRootCAs(root.Pool()), // omit to trust the system roots
		tlsclient.WithTime(testpki.Clock()),
	)
	if err != nil {
		log.Fatal(err)
	}
	client := d.HTTPClient() // build once, reuse: it pools connections
	defer client.CloseIdleConnections()

	for range 2 {
		resp, err := client.Get(url)
		if err != nil {
			// errors.As(err, &ve) with a *tlsclient.VerificationError
			// gives the Report of a refused server.
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		rep := tlsclient.ResponseReport(resp)
		fmt.Printf("%s%s %s, ALPN %s, verified %v\n", body, rep.Version, rep.Checks[0].Detail, rep.ALPN, rep.OK())
	}
	// Output:
	// hello over HTTP/2.0
	// TLS 1.3 verified to trusted root CN=Example Root CA, ALPN h2, verified true
	// hello over HTTP/2.0
	// TLS 1.3 verified to trusted root CN=Example Root CA, ALPN h2, verified true
}

// A server that fails verification makes the request fail; the
// *VerificationError carries the Report.
func ExampleResponseReport() {
	url, _, stop := startHTTPSServer()
	defer stop()
	otherRoot, _ := exampleCA() // not the server's CA

	d, err := tlsclient.New(tlsclient.WithRootCAs(otherRoot.Pool()), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	client := d.HTTPClient()
	defer client.CloseIdleConnections()
	_, err = client.Get(url)
	var ve *tlsclient.VerificationError
	if errors.As(err, &ve) {
		for _, c := range ve.Report.Find(tlsclient.Fail) {
			fmt.Println(c.Verifier, c.Detail)
		}
	}
	// Output:
	// chain unknown issuer
}

// Transport is the *http.Transport to tune and wrap yourself; ConnReport,
// in an httptrace.ClientTrace, finds the Report of each connection.
func ExampleDialer_Transport() {
	url, root, stop := startHTTPSServer()
	defer stop()

	d, err := tlsclient.New(tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	tr := d.Transport()
	tr.MaxIdleConnsPerHost = 16
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		rep := tlsclient.ConnReport(info.Conn)
		fmt.Printf("connection reused %v, ALPN %s, verified %v\n", info.Reused, rep.ALPN, rep.OK())
	}}
	for range 2 {
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Output:
	// connection reused false, ALPN h2, verified true
	// connection reused true, ALPN h2, verified true
}

// ConnReport finds the Report of a connection a Dialer made, from the Conn
// or from the *tls.Conn net/http holds.
func ExampleConnReport() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()
	conn, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(tlsclient.ConnReport(conn) == conn.Report(), tlsclient.ConnReport(conn.Conn) == conn.Report())
	// Output:
	// true true
}
