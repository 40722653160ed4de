package tlsclient_test

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// startExampleServer starts a TLS server on 127.0.0.1 for the examples. Its
// certificate, for localhost and 127.0.0.1, comes from a private CA whose
// root is returned as a pool; it is valid at testpki.Now, the fixed time
// the examples verify at. It answers one HTTP/1.0-style request and closes
// with close_notify. In real code the address is your server's, and the
// pool your private CA's (or leave WithRootCAs out to trust the system
// roots).
func startExampleServer() (addr string, roots *x509.CertPool, stop func()) {
	root, err := testpki.NewRoot(testpki.CertOptions{CommonName: "Example Root CA"})
	if err != nil {
		log.Fatal(err)
	}
	inter, err := root.NewIntermediate(testpki.CertOptions{CommonName: "Example Intermediate CA"})
	if err != nil {
		log.Fatal(err)
	}
	leaf, err := inter.Issue(testpki.CertOptions{})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := testpki.StartServer(testpki.ServerOptions{Cert: leaf})
	if err != nil {
		log.Fatal(err)
	}
	return srv.Addr, root.Pool(), srv.Close
}

func ExampleDial() {
	addr, roots, stop := startExampleServer()
	defer stop()

	conn, err := tlsclient.Dial("tcp", addr,
		tlsclient.WithRootCAs(roots),        // omit to trust the system roots
		tlsclient.WithTime(testpki.Clock()), // omit to verify at the current time
	)
	if err != nil {
		// A *tlsclient.VerificationError if a check refused the server.
		log.Fatal(err)
	}
	defer conn.Close()

	// The connection is verified: chain, host name, staple. Use it.
	fmt.Fprint(conn, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.TrimSpace(status))
	fmt.Println("verified:", conn.Report().OK())
	// Output:
	// HTTP/1.0 200 OK
	// verified: true
}

func ExampleNew() {
	addr, roots, stop := startExampleServer()
	defer stop()

	// A Dialer is built once and reused, like an SSL_CTX: it keeps TLS
	// sessions (and its verifiers' caches) across connections.
	d, err := tlsclient.New(
		tlsclient.WithRootCAs(roots),
		tlsclient.WithServerName("localhost"), // the name to verify, as addr is an IP address
		tlsclient.WithTime(testpki.Clock()),
	)
	if err != nil {
		log.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprint(conn, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
		// Reading to the end also receives the TLS 1.3 session ticket
		// that the second connection resumes with; io.Copy returns nil
		// at a clean close_notify, ErrTruncated otherwise.
		if _, err := io.Copy(io.Discard, conn); err != nil {
			log.Fatal(err)
		}
		conn.Close()
		rep := conn.Report()
		// Resumed sessions are verified again: VerifyConnection runs
		// on them too.
		fmt.Printf("connection %d: resumed %v, verified %v\n", i, rep.Resumed, rep.OK())
	}
	// Output:
	// connection 1: resumed false, verified true
	// connection 2: resumed true, verified true
}

func ExampleConn_Report() {
	addr, roots, stop := startExampleServer()
	defer stop()

	conn, err := tlsclient.Dial("tcp", addr, tlsclient.WithRootCAs(roots), tlsclient.WithTime(testpki.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	rep := conn.Report()
	fmt.Println("leaf:", rep.Chain[0].Subject, rep.Chain[0].DNSNames, rep.Chain[0].IPs)
	for _, c := range rep.Checks {
		fmt.Printf("%-4s %-8s %s\n", c.Outcome, c.Verifier, c.Detail)
	}
	fmt.Println("ok:", rep.OK())

	// Reports, and each of their checks, encode to JSON.
	b, err := json.Marshal(rep.Checks[0])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// leaf: CN=localhost [localhost] [127.0.0.1]
	// pass chain    verified to trusted root CN=Example Root CA
	// pass hostname "127.0.0.1" matches the certificate
	// skip staple   no stapled OCSP response
	// ok: true
	// {"verifier":"chain","subject":"CN=localhost","outcome":"pass","detail":"verified to trusted root CN=Example Root CA"}
}

func ExampleDialer_TLSConfig() {
	addr, roots, stop := startExampleServer()
	defer stop()

	// net/http does not hold the Conn, so a report hook shows what was
	// checked. It must be safe for concurrent use.
	var (
		mu      sync.Mutex
		reports []*tlsclient.Report
	)
	d, err := tlsclient.New(
		tlsclient.WithRootCAs(roots),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithReportHook(func(r *tlsclient.Report) {
			mu.Lock()
			defer mu.Unlock()
			reports = append(reports, r)
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: d.TLSConfig()}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		log.Fatal(err) // a refused server makes the request fail
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	fmt.Print(string(body))

	mu.Lock()
	defer mu.Unlock()
	for _, r := range reports {
		fmt.Print("handshake verified: ", r.OK(), ";")
		for _, c := range r.Checks {
			fmt.Print(" ", c.Verifier, " ", c.Outcome)
		}
		fmt.Println()
	}
	// Output:
	// 200 OK
	// hello from localhost
	// you asked: GET / HTTP/1.1
	// handshake verified: true; chain pass hostname pass staple skip
}

func ExampleVerificationError() {
	addr, roots, stop := startExampleServer()
	defer stop()

	// The certificate is for localhost and 127.0.0.1, not www.example.com.
	_, err := tlsclient.Dial("tcp", addr,
		tlsclient.WithRootCAs(roots),
		tlsclient.WithTime(testpki.Clock()),
		tlsclient.WithServerName("www.example.com"),
	)

	// The Report says what was checked before the refusal.
	var ve *tlsclient.VerificationError
	if errors.As(err, &ve) {
		for _, c := range ve.Report.Checks {
			fmt.Printf("%-4s %-8s %s\n", c.Outcome, c.Verifier, c.Detail)
		}
	}
	// Sentinels classify the failure; typed errors carry the details.
	fmt.Println("certificate problem:", errors.Is(err, tlsclient.ErrCertificate))
	var ce *tlsclient.CertificateError
	if errors.As(err, &ce) {
		fmt.Println("reason: ", ce.Reason)
		fmt.Println("problem:", ce.Problem)
		fmt.Println("hint:   ", ce.Hint)
	}
	// Output:
	// fail hostname hostname mismatch
	// skip staple   not run: chain verification failed
	// certificate problem: true
	// reason:  hostname mismatch
	// problem: the certificate is valid for localhost, 127.0.0.1, not for "www.example.com"
	// hint:    dial the name the certificate was issued for, or set the expected name with WithServerName (--servername); if the server hosts several names, it may not have picked the right certificate for the SNI sent
}
