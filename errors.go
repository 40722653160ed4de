package tlsclient

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// CertificateReason says why the server's certificate was refused.
type CertificateReason int

// Reasons for a CertificateError, after the troubleshooting cases of the
// OpenSSL client guide.
const (
	// UntrustedRoot: the chain ends in a self-signed certificate that is
	// not a trusted root (a self-signed server, or a private CA not given
	// to WithCAFile or WithRootCAs).
	UntrustedRoot CertificateReason = iota + 1
	// UnknownIssuer: the issuer of the last certificate the server sent is
	// neither sent nor trusted — usually a missing intermediate, or a
	// private CA that is not configured.
	UnknownIssuer
	// HostnameMismatch: the certificate is not valid for the server name.
	HostnameMismatch
	// Expired: a certificate of the chain has expired.
	Expired
	// NotYetValid: a certificate of the chain is not valid yet.
	NotYetValid
	// WrongUsage: the certificate is not valid for TLS server
	// authentication (extended key usage).
	WrongUsage
	// InvalidChain: anything else wrong with the chain (insecure signature
	// algorithm, name constraints, a non-CA issuer...).
	InvalidChain
)

var certificateReasonText = map[CertificateReason]string{
	UntrustedRoot:    "untrusted root",
	UnknownIssuer:    "unknown issuer",
	HostnameMismatch: "hostname mismatch",
	Expired:          "certificate expired",
	NotYetValid:      "certificate not yet valid",
	WrongUsage:       "certificate not for server authentication",
	InvalidChain:     "invalid chain",
}

func (r CertificateReason) String() string {
	if s, ok := certificateReasonText[r]; ok {
		return s
	}
	return fmt.Sprintf("CertificateReason(%d)", int(r))
}

// CertificateError is a chain or host name failure, with what to check.
// It wraps ErrCertificate and the crypto/x509 error (x509.HostnameError,
// x509.UnknownAuthorityError, x509.CertificateInvalidError...).
type CertificateError struct {
	Reason  CertificateReason
	Subject string // the certificate concerned
	Problem string // what is wrong, in a sentence
	Hint    string // what to do about it
	Err     error  // the crypto/x509 or crypto/tls error

	chain []*x509.Certificate
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("%s: %s; %s", e.Reason, e.Problem, e.Hint)
}

// Unwrap returns ErrCertificate and the underlying error.
func (e *CertificateError) Unwrap() []error { return []error{ErrCertificate, e.Err} }

func (e *CertificateError) checkName() string {
	if e.Reason == HostnameMismatch {
		return "hostname"
	}
	return "chain"
}

// classifyCertificateError recognises the chain failures crypto/tls reports
// and explains them; it returns nil for other errors.
func classifyCertificateError(err error, now time.Time) *CertificateError {
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		return nil
	}
	chain := cve.UnverifiedCertificates
	e := &CertificateError{Err: cve.Err, chain: chain}
	var (
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		insecure  x509.InsecureAlgorithmError
		sysRootsE x509.SystemRootsError
	)
	switch {
	case errors.As(cve.Err, &hostname):
		e.Reason = HostnameMismatch
		e.Subject = certLabel(hostname.Certificate)
		e.Problem = fmt.Sprintf("the certificate is valid for %s, not for %q", validNames(hostname.Certificate), hostname.Host)
		e.Hint = "dial the name the certificate was issued for, or set the expected name with WithServerName (--servername); if the server hosts several names, it may not have picked the right certificate for the SNI sent"
	case errors.As(cve.Err, &unknown):
		var last *x509.Certificate
		if len(chain) > 0 {
			last = chain[len(chain)-1]
		} else {
			last = unknown.Cert
		}
		e.Subject = certLabel(last)
		if last != nil && bytes.Equal(last.RawIssuer, last.RawSubject) {
			e.Reason = UntrustedRoot
			if len(chain) == 1 {
				e.Problem = fmt.Sprintf("the server's certificate %q is self-signed and not trusted", last.Subject)
			} else {
				e.Problem = fmt.Sprintf("the chain ends in %q, which is not a trusted root", last.Subject)
			}
			e.Hint = "if you trust this CA, pass its certificate with WithCAFile (--ca) or WithRootCAs; otherwise the server is not who it claims to be"
		} else {
			e.Reason = UnknownIssuer
			issuer := "an unknown issuer"
			if last != nil {
				issuer = fmt.Sprintf("%q", last.Issuer)
			}
			e.Problem = fmt.Sprintf("the server sent %d certificate(s) and the last one is issued by %s, which it did not send and which is not a trusted root", len(chain), issuer)
			e.Hint = "if that issuer is an intermediate CA, the server is missing it from its chain (fix the server's certificate bundle); if it is your private CA, pass it with WithCAFile (--ca)"
		}
	case errors.As(cve.Err, &invalid):
		e.Subject = certLabel(invalid.Cert)
		switch invalid.Reason {
		case x509.Expired:
			c := invalid.Cert
			if c != nil && now.Before(c.NotBefore) {
				e.Reason = NotYetValid
				e.Problem = fmt.Sprintf("%q is not valid before %s (verification time %s)", c.Subject, stamp(c.NotBefore), stamp(now))
				e.Hint = "check this machine's clock; if it is right, the server installed its new certificate too early"
			} else {
				e.Reason = Expired
				e.Problem = fmt.Sprintf("%q expired at %s (verification time %s)", subjectOf(c), notAfterOf(c), stamp(now))
				e.Hint = "the server must renew its certificate; if the dates look wrong, check this machine's clock (or WithTime)"
			}
		case x509.IncompatibleUsage:
			e.Reason = WrongUsage
			e.Problem = fmt.Sprintf("%q is not valid for TLS server authentication (extended key usage)", subjectOf(invalid.Cert))
			e.Hint = "the server must use a certificate issued for serverAuth"
		default:
			e.Reason = InvalidChain
			e.Problem = invalid.Error()
			e.Hint = "the chain is malformed or violates its CA's constraints; the server's certificate must be reissued"
		}
	case errors.As(cve.Err, &insecure):
		e.Reason = InvalidChain
		e.Problem = insecure.Error()
		e.Hint = "the chain uses an algorithm that is no longer accepted (SHA-1 or MD5); the server needs a new certificate"
	case errors.As(cve.Err, &sysRootsE):
		e.Reason = UnknownIssuer
		e.Problem = "no system roots are available"
		e.Hint = "install the CA certificates (e.g. ca-certificates), set SSL_CERT_FILE or SSL_CERT_DIR, or pass a CA with WithCAFile (--ca)"
	default:
		e.Reason = InvalidChain
		e.Problem = cve.Err.Error()
		e.Hint = "the server's chain could not be verified"
	}
	if e.Subject == "" && len(chain) > 0 {
		e.Subject = certLabel(chain[0])
	}
	return e
}

func subjectOf(c *x509.Certificate) string {
	if c == nil {
		return "a certificate"
	}
	return c.Subject.String()
}

func notAfterOf(c *x509.Certificate) string {
	if c == nil {
		return "an earlier time"
	}
	return stamp(c.NotAfter)
}

func validNames(c *x509.Certificate) string {
	if c == nil {
		return "other names"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no DNS or IP name (it has no subjectAltName)"
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return strings.Join(names, ", ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// classifyVersionError recognises a handshake that failed because the server
// speaks only TLS versions below the client's minimum.
func classifyVersionError(err error) error {
	var op *net.OpError
	remote := errors.As(err, &op) && op.Op == "remote error" && op.Err != nil &&
		strings.Contains(op.Err.Error(), "protocol version")
	local := strings.Contains(err.Error(), "server selected unsupported protocol version")
	if !remote && !local {
		return nil
	}
	return fmt.Errorf("%w: the server supports only TLS versions below TLS 1.2, which tlsclient refuses (RFC 8996); upgrade the server to TLS 1.2 or 1.3: %w", ErrProtocolVersion, err)
}
