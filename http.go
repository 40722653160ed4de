package tlsclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// httpProtos are the ALPN protocols the HTTP helpers offer when the Dialer
// was given none: HTTP/2 first, HTTP/1.1 as the fallback.
var httpProtos = []string{"h2", "http/1.1"}

// Transport returns a new *http.Transport whose HTTPS connections are made
// and verified by d: each one is a DialContext, with the Dialer's verifiers,
// session cache, timeout and hooks, so every connection has its own Report
// (see ResponseReport and ConnReport). HTTP/2 keeps working: the transport
// has ForceAttemptHTTP2 set and offers "h2" and "http/1.1" with ALPN unless
// the Dialer was given protocols of its own (WithNextProtos).
//
// The other settings are those of http.DefaultTransport: proxies from the
// environment (HTTPS_PROXY, NO_PROXY...), 100 idle connections, 90s idle
// timeout. An HTTPS request through an HTTP proxy is tunnelled with CONNECT
// and its TLS handshake made by net/http with TLSClientConfig, which is
// d.TLSConfig(): it is verified the same way, but its Report reaches only
// WithReportHook and the observers (ResponseReport returns nil for it). The
// connect timeout of a proxied or plain-HTTP connection is the Dialer's
// timeout; WithDialFunc, when given, makes those connections too.
//
// The transport is the caller's to adjust (MaxIdleConnsPerHost, Proxy...),
// but DialTLSContext and TLSClientConfig must be left alone: they are what
// verifies the server. Each call returns a new transport with its own pool
// of connections; build one and reuse it.
func (d *Dialer) Transport() *http.Transport {
	dial := d.cfg.dial
	if dial == nil {
		nd := &net.Dialer{KeepAlive: 30 * time.Second}
		if t := d.cfg.dialTimeout(); t > 0 {
			nd.Timeout = t
		}
		dial = nd.DialContext
	}
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: dial,
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.dial(ctx, network, addr, httpProtos)
			if err != nil {
				return nil, err
			}
			// net/http needs the *tls.Conn itself to speak HTTP/2 and to
			// fill in Response.TLS; ConnReport finds the Report from it.
			return c.Conn, nil
		},
		TLSClientConfig:       d.TLSConfig(),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// HTTPClient returns an *http.Client that uses a new Transport of d, and
// lets ResponseReport find the Report of the connection each response came
// over, whether that connection was dialled for the request or reused
// (HTTP/1.1 keep-alive, HTTP/2 streams). A server that fails verification
// makes the request fail with an error that errors.As turns into the
// *VerificationError, with its Report.
//
// The client has no overall timeout (http.Client.Timeout); set one, or use
// request contexts, as for any client. Its Transport is not an
// *http.Transport but a thin wrapper around one: to tune the transport,
// build the client yourself from Transport, and use ConnReport with an
// httptrace.ClientTrace to reach the Reports.
func (d *Dialer) HTTPClient() *http.Client {
	return &http.Client{Transport: &reportTransport{base: d.Transport()}}
}

// reportTransport remembers, for each request, the connection it was sent
// on, so that ResponseReport can find that connection's Report.
type reportTransport struct {
	base *http.Transport
}

// connHolder is the Report of the connection a request went out on; the
// last one when net/http retried on another connection.
type connHolder struct {
	report atomic.Pointer[Report]
}

type connHolderKey struct{}

func (t *reportTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := new(connHolder)
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		h.report.Store(ConnReport(info.Conn))
	}}
	// WithClientTrace composes with a trace the caller installed.
	ctx := context.WithValue(httptrace.WithClientTrace(req.Context(), trace), connHolderKey{}, h)
	return t.base.RoundTrip(req.WithContext(ctx))
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (t *reportTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// ResponseReport returns the Report of the TLS connection that resp came
// over, for responses of a client made by Dialer.HTTPClient; nil for other
// responses (another client, plain HTTP, an HTTPS request tunnelled through
// a proxy). Responses that share a connection share its Report; a resumed
// connection has Report.Resumed set. The Report must not be modified.
func ResponseReport(resp *http.Response) *Report {
	if resp == nil || resp.Request == nil {
		return nil
	}
	h, _ := resp.Request.Context().Value(connHolderKey{}).(*connHolder)
	if h == nil {
		return nil
	}
	return h.report.Load()
}

// ConnReport returns the Report of a connection made by a Dialer: a *Conn,
// or the *tls.Conn that a Dialer's Transport hands to net/http (which is
// what httptrace.GotConnInfo.Conn holds). It returns nil for connections
// made otherwise, including handshakes made by crypto/tls with TLSConfig
// (those Reports reach WithReportHook).
func ConnReport(c net.Conn) *Report {
	switch c := c.(type) {
	case *Conn:
		return c.report
	case *tls.Conn:
		if ec, ok := c.NetConn().(*eofConn); ok {
			return ec.report
		}
	}
	return nil
}
