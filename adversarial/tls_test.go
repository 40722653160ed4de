package adversarial_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// wantCertificate checks a chain or host name refusal.
func wantCertificate(reason tlsclient.CertificateReason) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		r.refused(t)
		var ce *tlsclient.CertificateError
		if !errors.Is(r.err, tlsclient.ErrCertificate) || !errors.As(r.err, &ce) {
			t.Fatalf("want a *tlsclient.CertificateError, got %v", r.err)
		}
		if ce.Reason != reason {
			t.Fatalf("reason %q, want %q: %v", ce.Reason, reason, r.err)
		}
		if ce.Hint == "" {
			t.Error("the error does not say what to do")
		}
	}
}

// wantRefusal checks a refusal by a verifier, with errors.Is(err, sentinel)
// and, when extra is not nil, extra(err).
func wantRefusal(sentinel error, extra func(error) bool) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		r.refused(t)
		if !errors.Is(r.err, sentinel) {
			t.Fatalf("want %v, got %v", sentinel, r.err)
		}
		if extra != nil && !extra(r.err) {
			t.Fatalf("not the error wanted: %v", r.err)
		}
	}
}

// wantWarning checks a pass with a warning from the built-in staple check.
func wantWarning(ok func(error) bool) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		r.warned(t, "staple", ok)
	}
}

// wantTransport checks a failure below verification: no VerificationError
// (nothing was verified, so nothing may be claimed), and an error that
// satisfies ok.
func wantTransport(ok func(error) bool) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if r.err == nil {
			t.Fatal("the dial succeeded")
		}
		var ve *tlsclient.VerificationError
		if errors.As(r.err, &ve) {
			t.Fatalf("a transport failure reported as a verification: %v", r.err)
		}
		if !ok(r.err) {
			t.Fatalf("not the error wanted: %T %v", r.err, r.err)
		}
	}
}

func responseReason(reason revocation.ResponseErrorReason) func(error) bool {
	return as(func(e *revocation.ResponseError) bool { return e.Reason == reason })
}

// staple builds a response about cert, signed by signer, valid from
// this to next.
func staple(t testing.TB, signer, issuer *testpki.Cert, cert *testpki.Cert, status int, this, next time.Time) []byte {
	t.Helper()
	r := &testpki.OCSPResponse{Signer: signer, Responses: []testpki.Single{{
		Cert: cert.Cert, Issuer: issuer.Cert, Status: status, RevokedAt: testpki.Now.Add(-48 * time.Hour),
		Reason: 1, ThisUpdate: this, NextUpdate: next}}}
	return testpki.Must(r.Marshal())
}

// TestHostileTLSServers dials servers that present bad chains and bad
// staples. Each is refused with the typed error a caller tests for, or,
// where the default policy only warns (an unusable staple on a
// certificate that does not demand one), passes with that warning in the
// Report.
func TestHostileTLSServers(t *testing.T) {
	leakCheck(t)
	p := newPKI(t)
	roots := p.root.Pool()
	now := testpki.Now
	good := func(c *testpki.Cert) []byte {
		return staple(t, p.inter, p.inter, c, testpki.StatusGood, now.Add(-time.Hour), now.Add(72*time.Hour))
	}
	sibling := p.leaf(t, testpki.CertOptions{CommonName: "sibling.test"})
	stranger := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Stranger Root"}))
	strangerInter := testpki.Must(stranger.NewIntermediate(testpki.CertOptions{CommonName: "Stranger Intermediate"}))
	strangerLeaf := testpki.Must(strangerInter.Issue(testpki.CertOptions{}))
	selfSigned := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "self-signed.test",
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}))
	// An intermediate named like ours, with another key: what a forger
	// would sign staples with.
	forged := testpki.Must(testpki.NewRoot(testpki.CertOptions{Subject: &p.inter.Cert.Subject}))

	tests := []struct {
		name   string
		server func() testpki.ServerOptions
		opts   []tlsclient.Option
		check  func(*testing.T, result)
	}{
		// Chains.
		{name: "expired leaf", check: wantCertificate(tlsclient.Expired),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{NotBefore: now.AddDate(0, -3, 0), NotAfter: now.AddDate(0, 0, -1)})}
			}},
		{name: "leaf not yet valid", check: wantCertificate(tlsclient.NotYetValid),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{NotBefore: now.AddDate(0, 0, 1), NotAfter: now.AddDate(0, 3, 0)})}
			}},
		{name: "expired intermediate", check: wantCertificate(tlsclient.Expired),
			server: func() testpki.ServerOptions {
				inter := testpki.Must(p.root.NewIntermediate(testpki.CertOptions{CommonName: "Expired Intermediate",
					NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(0, 0, -1)}))
				return testpki.ServerOptions{Cert: testpki.Must(inter.Issue(testpki.CertOptions{}))}
			}},
		{name: "wrong host", check: wantCertificate(tlsclient.HostnameMismatch),
			opts:   []tlsclient.Option{tlsclient.WithServerName("bank.example")},
			server: func() testpki.ServerOptions { return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{})} }},
		{name: "wrong IP", check: wantCertificate(tlsclient.HostnameMismatch),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{IPAddresses: []net.IP{net.IPv4(10, 0, 0, 1)}})}
			}},
		{name: "missing intermediate", check: wantCertificate(tlsclient.UnknownIssuer),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{})
				return testpki.ServerOptions{Cert: l, Chain: []*x509.Certificate{l.Cert}}
			}},
		{name: "self-signed", check: wantCertificate(tlsclient.UntrustedRoot),
			server: func() testpki.ServerOptions { return testpki.ServerOptions{Cert: selfSigned} }},
		{name: "untrusted root, full chain", check: wantCertificate(tlsclient.UntrustedRoot),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: strangerLeaf, Chain: []*x509.Certificate{strangerLeaf.Cert, strangerInter.Cert, stranger.Cert}}
			}},
		{name: "untrusted issuer", check: wantCertificate(tlsclient.UnknownIssuer),
			server: func() testpki.ServerOptions { return testpki.ServerOptions{Cert: strangerLeaf} }},
		{name: "our intermediate's name, another key", check: wantCertificate(tlsclient.UnknownIssuer),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: testpki.Must(forged.Issue(testpki.CertOptions{}))}
			}},
		{name: "client-auth certificate", check: wantCertificate(tlsclient.WrongUsage),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})}
			}},
		{name: "TLS 1.1 only", check: wantRefusal(tlsclient.ErrProtocolVersion, nil),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{}), MaxVersion: tls.VersionTLS11}
			}},

		// Staples, through the built-in check.
		{name: "revoked staple", check: wantRefusal(tlsclient.ErrRevoked, as(func(e *tlsclient.RevokedError) bool {
			return e.Source == "staple" && e.Reason == tlsclient.ReasonKeyCompromise
		})),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{})
				return testpki.ServerOptions{Cert: l, Staple: staple(t, p.inter, p.inter, l, testpki.StatusRevoked, now.Add(-time.Hour), now.Add(72*time.Hour))}
			}},
		{name: "stale staple", check: wantWarning(responseReason(revocation.ResponseExpired)),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{})
				return testpki.ServerOptions{Cert: l, Staple: staple(t, p.inter, p.inter, l, testpki.StatusGood, now.AddDate(0, 0, -10), now.AddDate(0, 0, -3))}
			}},
		{name: "staple from the future", check: wantWarning(responseReason(revocation.ResponseNotYetValid)),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{})
				return testpki.ServerOptions{Cert: l, Staple: staple(t, p.inter, p.inter, l, testpki.StatusGood, now.AddDate(0, 0, 1), now.AddDate(0, 0, 8))}
			}},
		{name: "another certificate's staple", check: wantWarning(responseReason(revocation.ResponseNoMatch)),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{}), Staple: good(sibling)}
			}},
		{name: "another certificate's revoked staple does not revoke", check: wantWarning(responseReason(revocation.ResponseNoMatch)),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{}),
					Staple: staple(t, p.inter, p.inter, sibling, testpki.StatusRevoked, now.Add(-time.Hour), now.Add(72*time.Hour))}
			}},
		{name: "staple signed by another key in the issuer's name", check: wantWarning(responseReason(revocation.ResponseBadSignature)),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{})
				return testpki.ServerOptions{Cert: l, Staple: staple(t, forged, p.inter, l, testpki.StatusRevoked, now.Add(-time.Hour), now.Add(72*time.Hour))}
			}},
		{name: "staple signed by an unrelated CA", check: wantWarning(responseReason(revocation.ResponseUnauthorizedSigner)),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{})
				return testpki.ServerOptions{Cert: l, Staple: staple(t, stranger, p.inter, l, testpki.StatusRevoked, now.Add(-time.Hour), now.Add(72*time.Hour))}
			}},
		{name: "staple signed by an unrelated CA's delegate", check: wantWarning(responseReason(revocation.ResponseUnauthorizedSigner)),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{})
				d := testpki.Must(strangerInter.IssueOCSPResponder(testpki.CertOptions{}))
				r := &testpki.OCSPResponse{Signer: d, Certs: []*x509.Certificate{d.Cert}, Responses: []testpki.Single{{
					Cert: l.Cert, Issuer: p.inter.Cert, Status: testpki.StatusRevoked, RevokedAt: now.Add(-time.Hour), Reason: 1,
					ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}}}
				return testpki.ServerOptions{Cert: l, Staple: testpki.Must(r.Marshal())}
			}},
		{name: "garbage staple", check: wantWarning(responseReason(revocation.ResponseMalformed)),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{}), Staple: []byte("\x30\x82\xff\xff<html>not OCSP</html>")}
			}},

		// Staples, under policies that do not forgive.
		{name: "stale staple, Stapled()", check: wantRefusal(tlsclient.ErrRevocationUnavailable, responseReason(revocation.ResponseExpired)),
			opts: []tlsclient.Option{tlsclient.WithVerifiers(revocation.Stapled())},
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{})
				return testpki.ServerOptions{Cert: l, Staple: staple(t, p.inter, p.inter, l, testpki.StatusGood, now.AddDate(0, 0, -10), now.AddDate(0, 0, -3))}
			}},
		{name: "another certificate's staple, Stapled()", check: wantRefusal(tlsclient.ErrRevocationUnavailable, responseReason(revocation.ResponseNoMatch)),
			opts: []tlsclient.Option{tlsclient.WithVerifiers(revocation.Stapled())},
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{}), Staple: good(sibling)}
			}},
		{name: "no staple, Stapled(RequireStatus())", check: wantRefusal(tlsclient.ErrRevocationUnavailable, as(func(*revocation.UnavailableError) bool { return true })),
			opts:   []tlsclient.Option{tlsclient.WithVerifiers(revocation.Stapled(revocation.RequireStatus()))},
			server: func() testpki.ServerOptions { return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{})} }},
		{name: "must-staple, no staple", check: wantRefusal(tlsclient.ErrMustStaple, nil),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{MustStaple: true})}
			}},
		{name: "must-staple, stale staple", check: wantRefusal(tlsclient.ErrMustStaple, responseReason(revocation.ResponseExpired)),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{MustStaple: true})
				return testpki.ServerOptions{Cert: l, Staple: staple(t, p.inter, p.inter, l, testpki.StatusGood, now.AddDate(0, 0, -10), now.AddDate(0, 0, -3))}
			}},
		{name: "must-staple, another certificate's staple", check: wantRefusal(tlsclient.ErrMustStaple, responseReason(revocation.ResponseNoMatch)),
			server: func() testpki.ServerOptions {
				return testpki.ServerOptions{Cert: p.leaf(t, testpki.CertOptions{MustStaple: true}), Staple: good(sibling)}
			}},
		{name: "must-staple, forged staple", check: wantRefusal(tlsclient.ErrMustStaple, responseReason(revocation.ResponseBadSignature)),
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{MustStaple: true})
				return testpki.ServerOptions{Cert: l, Staple: staple(t, forged, p.inter, l, testpki.StatusGood, now.Add(-time.Hour), now.Add(72*time.Hour))}
			}},
		{name: "must-staple, good staple", check: func(t *testing.T, r result) {
			if r.err != nil {
				t.Fatal(r.err)
			}
		},
			server: func() testpki.ServerOptions {
				l := p.leaf(t, testpki.CertOptions{MustStaple: true})
				return testpki.ServerOptions{Cert: l, Staple: good(l)}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakCheck(t)
			addr := serve(t, tt.server())
			tt.check(t, dial(t, addr, roots, tt.opts...))
		})
	}
}

// TestHostileTLSPeers dials servers that misbehave below TLS: they hang,
// cut the connection, speak another protocol or send malformed or
// oversized handshake messages. Each dial fails within the dial's time
// budget with the error crypto/tls reports, not dressed up as a
// verification, and no goroutine is left waiting.
func TestHostileTLSPeers(t *testing.T) {
	leakCheck(t)
	roots := newPKI(t).root.Pool()
	timedOut := func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }
	recordHeader := func(err error) bool {
		var rh tls.RecordHeaderError
		return errors.As(err, &rh)
	}
	localAlert := func(err error) bool {
		var oe *net.OpError
		return errors.As(err, &oe) && oe.Op == "local error"
	}
	// crypto/tls has no error type for these: its message is matched.
	says := func(text string) func(error) bool {
		return func(err error) bool { return strings.Contains(err.Error(), text) }
	}
	eof := func(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) }
	record := func(typ byte, body []byte) []byte {
		return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
	}
	tests := []struct {
		name   string
		handle func(net.Conn)
		ok     func(error) bool
		// slow: the case waits for the dial's timeout.
		slow bool
	}{
		{name: "accepts and never answers", slow: true, ok: timedOut, handle: holdOpen},
		{name: "hangs mid-record", slow: true, ok: timedOut, handle: func(c net.Conn) {
			readHello(c)
			c.Write([]byte{22, 3, 3, 0x01, 0x00, 2, 0, 0}) // 256 bytes announced, 3 sent
			holdOpen(c)
		}},
		{name: "drips a handshake", slow: true, ok: timedOut, handle: func(c net.Conn) {
			readHello(c)
			for _, b := range []byte{22, 3, 3, 0x40, 0x00, 2, 0, 0x3f, 0xfc} {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
			holdOpen(c)
		}},
		{name: "closes after the ClientHello", ok: eof, handle: func(c net.Conn) { readHello(c) }},
		{name: "answers in HTTP", ok: recordHeader, handle: func(c net.Conn) {
			readHello(c)
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			holdOpen(c)
		}},
		{name: "sends an SSH banner", ok: recordHeader, handle: func(c net.Conn) {
			c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			holdOpen(c)
		}},
		{name: "oversized record", ok: recordHeader, handle: func(c net.Conn) {
			readHello(c)
			c.Write([]byte{22, 3, 3, 0xff, 0xff})
			holdOpen(c)
		}},
		{name: "unknown handshake message", ok: localAlert, handle: func(c net.Conn) {
			readHello(c)
			c.Write(record(22, []byte{0xfe, 0, 0, 4, 1, 2, 3, 4}))
			holdOpen(c)
		}},
		{name: "handshake message of 16 MiB announced", ok: says("exceeds maximum"), handle: func(c net.Conn) {
			readHello(c)
			c.Write(record(22, []byte{2, 0xff, 0xff, 0xff}))
			holdOpen(c)
		}},
		{name: "garbage ServerHello", ok: localAlert, handle: func(c net.Conn) {
			readHello(c)
			hello := append([]byte{3, 3}, make([]byte, 32)...) // version, random
			hello = append(hello, 0xff, 1, 2)                  // a session ID longer than the message
			c.Write(record(22, append([]byte{2, 0, 0, byte(len(hello))}, hello...)))
			holdOpen(c)
		}},
		{name: "endless empty records", ok: localAlert, handle: func(c net.Conn) {
			readHello(c)
			for {
				if _, err := c.Write(record(22, nil)); err != nil {
					return
				}
			}
		}},
		{name: "endless warning alerts", ok: says("too many ignored records"), handle: func(c net.Conn) {
			readHello(c)
			for {
				if _, err := c.Write(record(21, []byte{1, 90})); err != nil { // warning, user_canceled
					return
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakCheck(t)
			addr := startRaw(t, tt.handle)
			// A peer that breaks the protocol is dropped at once: it
			// gets a dial timeout it must not reach. One that stalls
			// gets a short one, which must end it.
			timeout := 4 * time.Second
			if tt.slow {
				timeout = 500 * time.Millisecond
			}
			r := dial(t, addr, roots, tlsclient.WithServerName("localhost"), tlsclient.WithTimeout(timeout))
			wantTransport(tt.ok)(t, r)
			if !tt.slow && errors.Is(r.err, context.DeadlineExceeded) {
				t.Errorf("waited for the dial timeout (%v) instead of dropping the peer", r.elapsed)
			}
			if tt.slow && r.elapsed > 3*time.Second {
				t.Errorf("took %v, well over the dial timeout of %v", r.elapsed, timeout)
			}
		})
	}
}
