// Command http10 is the blocking TLS client of the OpenSSL guide
// ("Simple blocking TLS client", ossl-guide-tls-client-block) written with
// tlsclient: it connects, verifies the server, sends "GET / HTTP/1.0" with a
// Host header, prints the response until the server closes the connection,
// tells a clean close (close_notify) from a truncated one, and closes
// properly.
//
// With no flags it starts a local server on 127.0.0.1 with an in-process
// CA, and trusts that CA at a fixed time, so that it runs offline:
//
//	go run ./examples/http10
//	go run ./examples/http10 -truncate   # the server closes without close_notify
//
// With -addr it connects to a real server, trusting the system roots or the
// CA file given with -ca:
//
//	go run ./examples/http10 -addr www.example.com:443
//
// The response goes to standard output, the outcome to standard error. The
// exit code is 0 for a complete response ended by close_notify, 1 for a
// truncated response or a failed connection, 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// ending is how the server ended the response.
type ending int

const (
	// cleanClose: the server sent close_notify, so the response is complete.
	cleanClose ending = iota + 1
	// truncated: the TCP connection ended without close_notify, so the
	// response may have been cut short (by an attacker or a failure).
	truncated
)

func (e ending) String() string {
	switch e {
	case cleanClose:
		return "closed cleanly with close_notify: the response is complete"
	case truncated:
		return "truncated: the server closed the TCP connection without close_notify, so the response may be incomplete"
	}
	return "unknown ending"
}

// result is what one request observed.
type result struct {
	ending   ending
	n        int64 // bytes of response received
	closeErr error // error sending our close_notify, if any (not fatal)
}

// fetch connects to addr, sends "GET / HTTP/1.0" with a Host header, copies
// the response to out until the server ends the connection, and closes the
// connection. It returns how the response ended; err is a connection,
// verification or read error.
func fetch(ctx context.Context, addr string, out io.Writer, opts ...tlsclient.Option) (result, error) {
	// Connect and verify: chain, host name, staple, all inside the
	// handshake. On failure err is a *tlsclient.VerificationError whose
	// text says what to fix.
	conn, err := tlsclient.DialContext(ctx, "tcp", addr, opts...)
	if err != nil {
		return result{}, err
	}
	closed := false
	defer func() {
		if !closed {
			conn.Close() // early returns; the normal path closes below
		}
	}()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}

	// Send the request. HTTP/1.0 without keep-alive: the server answers
	// and then closes the connection, which is how we know the response
	// is over.
	req := fmt.Sprintf("GET / HTTP/1.0\r\nConnection: close\r\nHost: %s\r\n\r\n", hostHeader(addr, conn.ConnectionState().ServerName))
	if _, err := io.WriteString(conn, req); err != nil {
		return result{}, fmt.Errorf("sending the request: %w", err)
	}

	// Read until the end of the stream. tlsclient's Conn.Read returns
	// io.EOF only after the server's close_notify, and ErrTruncated
	// (which wraps io.ErrUnexpectedEOF) when the connection ended
	// without it; io.ErrUnexpectedEOF alone means it ended in the middle
	// of a TLS record.
	var res result
	buf := make([]byte, 4096)
	for res.ending == 0 {
		n, err := conn.Read(buf)
		if n > 0 {
			res.n += int64(n)
			if _, werr := out.Write(buf[:n]); werr != nil {
				return res, fmt.Errorf("writing the response: %w", werr)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			res.ending = cleanClose
		case errors.Is(err, tlsclient.ErrTruncated), errors.Is(err, io.ErrUnexpectedEOF):
			res.ending = truncated
		default:
			return res, fmt.Errorf("reading the response: %w", err)
		}
	}

	// Close properly: send our own close_notify (OpenSSL's SSL_shutdown)
	// and release the socket. The server may already have gone, so a
	// failure to send it is reported but does not change the outcome.
	res.closeErr = conn.Close()
	closed = true
	return res, nil
}

// hostHeader returns the Host header for addr: the server name (or the host
// of addr), with the port unless it is 443.
func hostHeader(addr, serverName string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if serverName != "" {
		host = serverName
	}
	if port == "443" {
		if net.ParseIP(host) != nil && net.ParseIP(host).To4() == nil {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

// localServer starts the offline demo server: a chain from an in-process
// CA for 127.0.0.1, answering one HTTP/1.0 request. It returns the address
// and the options that trust the CA at the fixed time testpki.Now.
func localServer(truncate bool) (*testpki.Server, []tlsclient.Option, error) {
	root, err := testpki.NewRoot(testpki.CertOptions{CommonName: "http10 Example Root CA"})
	if err != nil {
		return nil, nil, err
	}
	inter, err := root.NewIntermediate(testpki.CertOptions{CommonName: "http10 Example Intermediate CA"})
	if err != nil {
		return nil, nil, err
	}
	leaf, err := inter.Issue(testpki.CertOptions{})
	if err != nil {
		return nil, nil, err
	}
	srv, err := testpki.StartServer(testpki.ServerOptions{Cert: leaf, Truncate: truncate})
	if err != nil {
		return nil, nil, err
	}
	return srv, []tlsclient.Option{tlsclient.WithRootCAs(root.Pool()), tlsclient.WithTime(testpki.Clock())}, nil
}

// run is main without the process, for tests: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("http10", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "connect to this `host:port` instead of the local demo server")
	ca := fs.String("ca", "", "with -addr, trust the CA certificates of this PEM `file` instead of the system roots")
	serverName := fs.String("servername", "", "with -addr, the `name` to verify (default: the host of -addr)")
	truncate := fs.Bool("truncate", false, "without -addr, make the local server close without close_notify")
	timeout := fs.Duration("timeout", 30*time.Second, "bound on the whole exchange")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: http10 [-addr host:port [-ca file] [-servername name]] [-truncate] [-timeout d]\n\n"+
			"Sends GET / HTTP/1.0 over verified TLS and tells a clean close from a truncated one.\n"+
			"Without -addr it uses a local server on 127.0.0.1, offline.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *timeout <= 0 || (*addr == "" && (*ca != "" || *serverName != "")) || (*addr != "" && *truncate) {
		fmt.Fprintln(stderr, "http10: invalid arguments")
		fs.Usage()
		return 2
	}

	var opts []tlsclient.Option
	target := *addr
	if target == "" {
		srv, local, err := localServer(*truncate)
		if err != nil {
			fmt.Fprintf(stderr, "http10: starting the local server: %v\n", err)
			return 1
		}
		defer srv.Close()
		target, opts = srv.Addr, local
		fmt.Fprintf(stderr, "http10: using the local demo server at %s\n", target)
	} else {
		if *ca != "" {
			opts = append(opts, tlsclient.WithCAFile(*ca))
		}
		if *serverName != "" {
			opts = append(opts, tlsclient.WithServerName(*serverName))
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := fetch(ctx, target, stdout, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "http10: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "http10: received %d bytes; the connection was %s\n", res.n, res.ending)
	if res.closeErr != nil {
		fmt.Fprintf(stderr, "http10: note: closing: %v\n", res.closeErr)
	}
	if res.ending != cleanClose {
		return 1
	}
	return 0
}
