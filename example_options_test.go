package tlsclient_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// exampleCA is the examples' private CA: a root and an issuing CA. Real
// code has a PEM file of its CA, or trusts the system roots.
func exampleCA() (root, ca *testpki.Cert) {
	root = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Example Root CA"}))
	ca = testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "Example Intermediate CA"}))
	return root, ca
}

// firstLine sends a request and returns the first line of the answer.
func firstLine(conn net.Conn) string {
	fmt.Fprint(conn, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(line)
}

// WithCAFile trusts a private CA from its PEM file, instead of the system
// roots, like curl --cacert.
func ExampleWithCAFile() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()
	f, err := os.CreateTemp("", "ca-*.pem") // in real code, your CA's file
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.Write(root.PEM())
	f.Close()

	conn, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithCAFile(f.Name()),
		tlsclient.WithTime(testpki.Clock()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(conn.Report().Checks[0].Detail)
	// Output:
	// verified to trusted root CN=Example Root CA
}

// WithRootCAs trusts a pool built in code.
func ExampleWithRootCAs() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(root.Cert)

	conn, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(pool), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(firstLine(conn))
	// Output:
	// HTTP/1.0 200 OK
}

// WithServerName sets the name to verify (and send in SNI) when the
// address is not that name: an IP address, a load balancer, a tunnel.
func ExampleWithServerName() {
	root, ca := exampleCA()
	leaf := testpki.Must(ca.Issue(testpki.CertOptions{CommonName: "api.internal.example", DNSNames: []string{"api.internal.example"}}))
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: leaf}))
	defer srv.Close()

	conn, err := tlsclient.Dial("tcp", srv.Addr, // 127.0.0.1:port
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithServerName("api.internal.example"),
		tlsclient.WithTime(testpki.Clock()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(conn.Report().ServerName, conn.Report().Checks[1].Outcome)
	// Output:
	// api.internal.example pass
}

// WithTime judges the chain and every check at a given time: a fixed one
// in tests, or the time a saved connection is audited at.
func ExampleWithTime() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	in100days := func() time.Time { return testpki.Now.AddDate(0, 0, 100) }
	_, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(in100days))
	var ce *tlsclient.CertificateError
	if errors.As(err, &ce) {
		fmt.Println(ce.Reason)
	}
	// Output:
	// certificate expired
}

// WithTimeout bounds the whole dial: connect, handshake and checks. Here
// the server accepts the connection and never answers.
func ExampleWithTimeout() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	_, err = tlsclient.Dial("tcp", ln.Addr().String(), tlsclient.WithTimeout(100*time.Millisecond))
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	fmt.Println(strings.Contains(err.Error(), "timed out after 100ms"))
	// Output:
	// true
	// true
}

// DialContext takes the caller's context; its deadline and WithTimeout
// both bound the dial, whichever comes first.
func ExampleDialContext() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := tlsclient.DialContext(ctx, "tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(conn.Report().OK())
	// Output:
	// true
}

// WithMinVersion raises the floor to TLS 1.3. Anything below TLS 1.2 is
// refused as a configuration error.
func ExampleWithMinVersion() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{})), MaxVersion: tls.VersionTLS12}))
	defer srv.Close()

	_, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithMinVersion(tls.VersionTLS13))
	fmt.Println("TLS 1.2-only server:", errors.Is(err, tlsclient.ErrProtocolVersion))

	_, err = tlsclient.New(tlsclient.WithMinVersion(tls.VersionTLS11))
	fmt.Println(err)
	// Output:
	// TLS 1.2-only server: true
	// tlsclient: WithMinVersion: TLS 1.1 is below the minimum of TLS 1.2 (RFC 8996 deprecates it); upgrade the server instead
}

// WithBaseConfig starts from a *tls.Config for settings tlsclient has no
// option for; one that would disable verification is refused.
func ExampleWithBaseConfig() {
	_, err := tlsclient.New(tlsclient.WithBaseConfig(&tls.Config{
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519},
	}))
	fmt.Println(err)

	_, err = tlsclient.New(tlsclient.WithBaseConfig(&tls.Config{InsecureSkipVerify: true}))
	fmt.Println(err)
	// Output:
	// <nil>
	// tlsclient: WithBaseConfig: InsecureSkipVerify is set; tlsclient always verifies the server
}

// WithClientCertificate presents a certificate to servers that ask for one
// (mutual TLS).
func ExampleWithClientCertificate() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{
		Cert:      testpki.Must(ca.Issue(testpki.CertOptions{})),
		ClientCAs: root.Pool(), // the server requires a client certificate from this CA
	}))
	defer srv.Close()
	client := testpki.Must(ca.Issue(testpki.CertOptions{CommonName: "client 42", DNSNames: []string{"client42.example"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}))

	conn, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithClientCertificate(client.TLSCertificate()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(firstLine(conn))
	// Output:
	// HTTP/1.0 200 OK
}

// WithGetClientCertificate picks the client certificate at each handshake,
// for credentials that rotate.
func ExampleWithGetClientCertificate() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{})), ClientCAs: root.Pool()}))
	defer srv.Close()
	var current atomic.Pointer[tls.Certificate] // replaced by a rotation job
	cert := testpki.Must(ca.Issue(testpki.CertOptions{CommonName: "client", DNSNames: []string{"client.example"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})).TLSCertificate()
	current.Store(&cert)

	conn, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithGetClientCertificate(func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return current.Load(), nil
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(firstLine(conn))
	// Output:
	// HTTP/1.0 200 OK
}

// WithNextProtos offers ALPN protocols; the Report says which one the
// server chose.
func ExampleWithNextProtos() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{})), NextProtos: []string{"h2", "http/1.1"}}))
	defer srv.Close()

	conn, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithNextProtos("http/1.1"))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(conn.Report().ALPN)
	// Output:
	// http/1.1
}

// WithDialFunc makes the underlying connection: through a SOCKS proxy, a
// Unix socket, an SSH tunnel... Verification is the same.
func ExampleWithDialFunc() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	var dialled []string
	conn, err := tlsclient.Dial("tcp", "localhost:443", // the name, verified; the dial function picks the route
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithDialFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialled = append(dialled, addr)
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Addr)
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(dialled, conn.Report().Checks[1].Detail)
	// Output:
	// [localhost:443] "localhost" matches the certificate
}

// WithSessionCache(nil) disables resumption: every connection makes a full
// handshake.
func ExampleWithSessionCache() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	for _, cache := range []tls.ClientSessionCache{tls.NewLRUClientSessionCache(16), nil} {
		d, err := tlsclient.New(tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()), tlsclient.WithSessionCache(cache))
		if err != nil {
			log.Fatal(err)
		}
		var resumed []bool
		for range 2 {
			conn, err := d.Dial("tcp", srv.Addr)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Fprint(conn, "GET / HTTP/1.0\r\n\r\n")
			io.Copy(io.Discard, conn) // receives the session ticket
			conn.Close()
			resumed = append(resumed, conn.Report().Resumed)
		}
		fmt.Println("cache:", cache != nil, "resumed:", resumed)
	}
	// Output:
	// cache: true resumed: [false true]
	// cache: false resumed: [false false]
}

// WithReportHook sees the Report of every handshake of the Dialer, verified
// or refused; it is how code that does not hold the Conn (a connection
// pool, a driver) learns what was checked.
func ExampleWithReportHook() {
	root, ca := exampleCA()
	good := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer good.Close()
	other := testpki.Must(ca.Issue(testpki.CertOptions{CommonName: "other.example", DNSNames: []string{"other.example"}}))
	wrong := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: other}))
	defer wrong.Close()

	d, err := tlsclient.New(tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithReportHook(func(r *tlsclient.Report) {
			// Must be safe for concurrent use, and quick.
			failed := ""
			for _, c := range r.Find(tlsclient.Fail) {
				failed += " " + c.Verifier
			}
			fmt.Printf("handshake with %s: ok %v%s\n", r.ServerName, r.OK(), failed)
		}))
	if err != nil {
		log.Fatal(err)
	}
	for _, addr := range []string{good.Addr, wrong.Addr} {
		if conn, err := d.Dial("tcp", addr); err == nil {
			conn.Close()
		}
	}
	// Output:
	// handshake with 127.0.0.1: ok true
	// handshake with 127.0.0.1: ok false hostname
}

// NewConfig returns a *tls.Config for code that makes its own handshakes:
// crypto/tls runs tlsclient's checks in VerifyConnection.
func ExampleNewConfig() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	refuse := tlsclient.VerifierFunc("policy", func(_ context.Context, st *tlsclient.State) error {
		return errors.New("not today")
	})
	cfg, err := tlsclient.NewConfig(tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()), tlsclient.WithVerifiers(refuse))
	if err != nil {
		log.Fatal(err)
	}
	_, err = tls.Dial("tcp", srv.Addr, cfg)
	var ve *tlsclient.VerificationError
	fmt.Println(errors.As(err, &ve), ve.Report.Checks[len(ve.Report.Checks)-1].Verifier)
	// Output:
	// true policy
}

// VerifierFunc turns a function into a named check.
func ExampleVerifierFunc() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	ecdsaOnly := tlsclient.VerifierFunc("key-type", func(_ context.Context, st *tlsclient.State) error {
		leaf := st.Chain()[0]
		if leaf.PublicKeyAlgorithm != x509.ECDSA {
			return fmt.Errorf("%s has a %s key, want ECDSA", tlsclient.CertLabel(leaf), leaf.PublicKeyAlgorithm)
		}
		st.Record(tlsclient.Check{Subject: tlsclient.CertLabel(leaf), Outcome: tlsclient.Pass, Detail: "ECDSA key"})
		return nil
	})
	conn, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()), tlsclient.WithVerifiers(ecdsaOnly))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c := conn.Report().Checks[3]
	fmt.Println(c.Verifier, c.Outcome, c.Detail)
	// Output:
	// key-type pass ECDSA key
}

// Find lists the checks with a given outcome: here, what was skipped.
func ExampleReport_Find() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{}))}))
	defer srv.Close()

	conn, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	for _, c := range conn.Report().Find(tlsclient.Skip) {
		fmt.Println(c.Verifier, "skipped:", c.Detail)
	}
	fmt.Println("warnings:", len(conn.Report().Find(tlsclient.Warning)))
	// Output:
	// staple skipped: no stapled OCSP response
	// warnings: 0
}

// WithClientCertificateFile loads the client certificate chain and key
// from PEM files, like curl's --cert and --key.
func ExampleWithClientCertificateFile() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{})), ClientCAs: root.Pool()}))
	defer srv.Close()
	client := testpki.Must(ca.Issue(testpki.CertOptions{CommonName: "client", DNSNames: []string{"client.example"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}))
	dir, err := os.MkdirTemp("", "client-cert")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	certFile, keyFile := dir+"/client.pem", dir+"/client-key.pem"
	os.WriteFile(certFile, append(client.PEM(), ca.PEM()...), 0o600)
	os.WriteFile(keyFile, testpki.Must(client.KeyPEM()), 0o600)

	conn, err := tlsclient.Dial("tcp", srv.Addr,
		tlsclient.WithRootCAs(root.Pool()),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithClientCertificateFile(certFile, keyFile),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(firstLine(conn))
	// Output:
	// HTTP/1.0 200 OK
}

// Read tells a clean end of stream (close_notify, io.EOF) from a truncated
// one (ErrTruncated): here the server closes the TCP connection without
// close_notify after its response.
func ExampleConn_Read() {
	root, ca := exampleCA()
	srv := testpki.Must(testpki.StartServer(testpki.ServerOptions{Cert: testpki.Must(ca.Issue(testpki.CertOptions{})), Truncate: true}))
	defer srv.Close()

	conn, err := tlsclient.Dial("tcp", srv.Addr, tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET / HTTP/1.0\r\n\r\n")
	_, err = io.ReadAll(conn)
	fmt.Println(errors.Is(err, tlsclient.ErrTruncated))
	// Output:
	// true
}

// CertLabel names certificates the way checks do, so that a verifier of
// your own reports them consistently.
func ExampleCertLabel() {
	root, ca := exampleCA()
	fmt.Println(tlsclient.CertLabel(ca.Cert))
	fmt.Println(tlsclient.CertLabel(root.Cert))
	// Output:
	// CN=Example Intermediate CA
	// CN=Example Root CA
}
