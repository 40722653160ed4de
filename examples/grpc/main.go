// Command grpc calls a gRPC service over a connection verified by
// tlsclient: the Dialer's TLSConfig goes into credentials.NewTLS, so the
// chain, the host name, the staple and every verifier of the Dialer run
// inside each handshake gRPC makes, and WithReportHook sees what was
// checked (gRPC holds the connections, not the caller).
//
// It runs offline: it mints a CA and a server certificate with crypto/x509,
// starts a gRPC server with the standard health service on 127.0.0.1, and
// calls it three times: trusting the CA; pinning another key, which a
// tlsclient verifier refuses (with a Report); trusting another CA, which
// crypto/tls refuses before any verifier runs (no Report: chain failures
// in handshakes gRPC makes come back as gRPC errors only).
//
//	cd examples/grpc && go run .
//
// This example is a module of its own, so that tlsclient itself does not
// depend on gRPC.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tlsclient/tlsclient"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// now is the fixed time the example's certificates are minted and verified
// at, so that it behaves the same whenever it runs. Real code leaves
// tlsclient.WithTime out.
var now = time.Date(2026, time.January, 15, 12, 0, 0, 0, time.UTC)

// service is the name the health server reports on.
const service = "example.Greeter"

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	ca, err := newCA("gRPC Example Root CA")
	if err != nil {
		return err
	}
	serverCert, err := ca.issue("localhost")
	if err != nil {
		return err
	}
	addr, stop, err := startServer(serverCert)
	if err != nil {
		return err
	}
	defer stop()

	// A client that trusts the CA.
	st, rep, err := check(addr, ca.pool())
	if err != nil {
		return fmt.Errorf("trusted server: %w", err)
	}
	fmt.Fprintf(w, "health of %s: %s\n", service, st)
	fmt.Fprint(w, summary(rep))

	// A client that pins another key: a tlsclient verifier refuses the
	// handshake, the RPC fails, and the report hook says why.
	other, err := newCA("Another Root CA")
	if err != nil {
		return err
	}
	otherPin := tlsclient.PinOf(other.cert)
	_, rep, err = check(addr, ca.pool(), tlsclient.WithVerifiers(tlsclient.PinVerifier(tlsclient.PinChain, otherPin)))
	if err == nil {
		return fmt.Errorf("a server without the pinned key was accepted")
	}
	fmt.Fprintln(w, "pinned to another key: the call failed")
	fmt.Fprint(w, summary(rep))

	// A client that trusts another CA: crypto/tls itself refuses the
	// chain, before any tlsclient code runs, so there is no Report; the
	// RPC's error says why.
	_, rep, err = check(addr, other.pool())
	if err == nil {
		return fmt.Errorf("a server of an untrusted CA was accepted")
	}
	fmt.Fprintf(w, "untrusted CA: the call failed (report: %v): %v\n", rep != nil, firstLine(err))
	return nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.Index(s, "x509: "); i >= 0 {
		return strings.TrimRight(s[i:], `")`)
	}
	return s
}

// check calls the health service at addr with a client that trusts roots
// (and has the extra options), and returns the status and the Report of
// the last handshake, if any.
func check(addr string, roots *x509.CertPool, extra ...tlsclient.Option) (string, *tlsclient.Report, error) {
	var (
		mu   sync.Mutex
		last *tlsclient.Report
	)
	d, err := tlsclient.New(append([]tlsclient.Option{
		tlsclient.WithRootCAs(roots),
		// The name to verify; without it gRPC takes the target's host
		// (here an IP address, checked against the IP SANs).
		tlsclient.WithServerName("localhost"),
		tlsclient.WithTime(func() time.Time { return now }),
		tlsclient.WithReportHook(func(r *tlsclient.Report) {
			mu.Lock()
			defer mu.Unlock()
			last = r
		}),
	}, extra...)...)
	if err != nil {
		return "", nil, err
	}
	// The one line that matters: gRPC's TLS credentials from the Dialer's
	// hardened, verifying configuration. gRPC sets the server name from
	// the target when the Dialer has none, and offers "h2".
	creds := credentials.NewTLS(d.TLSConfig())
	conn, err := grpc.NewClient("dns:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return "", nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	mu.Lock()
	rep := last
	mu.Unlock()
	if err != nil {
		return "", rep, fmt.Errorf("%s", status.Convert(err).Message())
	}
	return resp.GetStatus().String(), rep, nil
}

// summary is a Report in a few lines: the protocol and each check.
func summary(r *tlsclient.Report) string {
	if r == nil {
		return "  (no report)\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s, ALPN %s, verified: %v\n", r.Version, r.ALPN, r.OK())
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %-4s %-8s %s\n", c.Outcome, c.Verifier, c.Detail)
	}
	return b.String()
}

// startServer serves the health service with cert on 127.0.0.1.
func startServer(cert tls.Certificate) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	})))
	hs := health.NewServer()
	hs.SetServingStatus(service, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(ln)
	return ln.Addr().String(), srv.Stop, nil
}

// ca is a self-signed CA. The example's PKI is minted with crypto/x509
// (tlsclient's own test PKI is internal to its module).
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(name string) (*ca, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.AddDate(-1, 0, 0),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &ca{cert: cert, key: key}, nil
}

func (c *ca) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// issue mints a server certificate for name and 127.0.0.1.
func (c *ca) issue(name string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 0, 90),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key}, nil
}
