package testpki

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ServerOptions configure a TLS server on 127.0.0.1.
type ServerOptions struct {
	// Cert is the server's certificate; its chain up to the root is sent.
	Cert *Cert
	// Chain, when set, replaces the certificates sent (to send too few or
	// the wrong ones).
	Chain []*x509.Certificate
	// MinVersion and MaxVersion bound the versions served (default TLS 1.2
	// to TLS 1.3). A MaxVersion of TLS 1.1 makes an outdated server.
	MinVersion, MaxVersion uint16
	// Staple is the OCSP response stapled in every handshake (SetStaple
	// changes it).
	Staple []byte
	// SCTs are sent in the signed_certificate_timestamp TLS extension.
	SCTs [][]byte
	// NextProtos are the ALPN protocols accepted.
	NextProtos []string
	// ClientCAs, when set, requires and verifies a client certificate.
	ClientCAs *x509.CertPool
	// Handler serves each connection after the handshake; the default
	// answers one HTTP/1.0-style request and closes with close_notify.
	Handler func(*tls.Conn)
	// Truncate makes the default handler close the TCP connection without
	// close_notify, after the response.
	Truncate bool
	// Time is the server's clock (Now by default).
	Time func() time.Time
}

// Server is a TLS server on 127.0.0.1 for tests.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string

	ln   net.Listener
	opts ServerOptions
	wg   sync.WaitGroup

	mu     sync.Mutex // guards staple and conns
	staple []byte
	conns  map[net.Conn]struct{}
	snis   []string

	handshakes atomic.Int64
	resumed    atomic.Int64
}

// StartServer starts a TLS server; Close stops it.
func StartServer(opts ServerOptions) (*Server, error) {
	if opts.Cert == nil {
		return nil, errors.New("testpki: StartServer without Cert")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, opts: opts, staple: opts.Staple, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Port returns the port the server listens on.
func (s *Server) Port() string {
	_, p, _ := net.SplitHostPort(s.Addr)
	return p
}

// SetStaple changes the OCSP response stapled from the next handshake on.
func (s *Server) SetStaple(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.staple = b
}

// SNIs returns the server names clients sent, one per ClientHello ("" when
// a client sent none).
func (s *Server) SNIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.snis...)
}

// Handshakes reports how many handshakes completed, and how many of them
// resumed a session.
func (s *Server) Handshakes() (total, resumed int64) {
	return s.handshakes.Load(), s.resumed.Load()
}

func (s *Server) config() *tls.Config {
	clock := s.opts.Time
	if clock == nil {
		clock = Clock()
	}
	min, max := s.opts.MinVersion, s.opts.MaxVersion
	if min == 0 {
		min = tls.VersionTLS12
		if max != 0 && max < min {
			min = tls.VersionTLS10
		}
	}
	cfg := &tls.Config{
		MinVersion: min,
		MaxVersion: max,
		Time:       clock,
		NextProtos: s.opts.NextProtos,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			s.mu.Lock()
			s.snis = append(s.snis, hello.ServerName)
			s.mu.Unlock()
			tc := s.opts.Cert.TLSCertificate()
			if s.opts.Chain != nil {
				tc.Certificate = nil
				for _, c := range s.opts.Chain {
					tc.Certificate = append(tc.Certificate, c.Raw)
				}
			}
			s.mu.Lock()
			tc.OCSPStaple = s.staple
			s.mu.Unlock()
			tc.SignedCertificateTimestamps = s.opts.SCTs
			return &tc, nil
		},
	}
	if s.opts.ClientCAs != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = s.opts.ClientCAs
	}
	return cfg
}

func (s *Server) serve() {
	defer s.wg.Done()
	cfg := s.config()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			tc := tls.Server(c, cfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			s.handshakes.Add(1)
			if tc.ConnectionState().DidResume {
				s.resumed.Add(1)
			}
			if s.opts.Handler != nil {
				s.opts.Handler(tc)
				return
			}
			s.answer(tc)
		}()
	}
}

// answer reads a request up to its blank line and replies like an HTTP/1.0
// server, then closes cleanly (or truncates, when configured).
func (s *Server) answer(tc *tls.Conn) {
	r := bufio.NewReader(tc)
	first := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if first == "" {
			first = strings.TrimSpace(line)
		}
		if strings.TrimSpace(line) == "" {
			break
		}
	}
	body := fmt.Sprintf("hello from %s\nyou asked: %s\n", s.opts.Cert.Cert.Subject.CommonName, first)
	fmt.Fprintf(tc, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	if s.opts.Truncate {
		if nc := tc.NetConn(); nc != nil {
			nc.Close()
		}
		return
	}
	tc.Close()
}

// Close stops the server, closes open connections and waits for them.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Drain reads and discards up to 1 MiB from r, for handlers that ignore
// the request.
func Drain(r io.Reader) { io.Copy(io.Discard, io.LimitReader(r, 1<<20)) }
