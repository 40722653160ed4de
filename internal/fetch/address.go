package fetch

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// An Option configures a Fetcher.
type Option func(*settings)

type settings struct {
	// refuse, when set, judges every address a connection is about to be
	// made to: a non-empty range name refuses it.
	refuse func(netip.Addr) string
}

// RefusePrivate makes the Fetcher refuse to connect to any address that is
// not public unicast: loopback, private (RFC 1918, IPv6 unique local),
// link-local, unspecified, multicast, shared (RFC 6598), reserved and the
// other special-purpose ranges (see AddressRange). It is the defence of a
// service that dials hosts chosen by others against server-side request
// forgery through revocation or log-list URLs.
//
// The check runs in the net.Dialer's Control function, on the address the
// socket is about to connect to, after name resolution: a name that
// resolves to a refused address (DNS rebinding included) is refused, and so
// is every redirect target, since redirects are dialled the same way.
// Nothing is sent to a refused address, not even a TCP SYN.
//
// To keep the check unavoidable, the client's proxy and dial functions are
// replaced: a proxy (HTTP_PROXY included) or a custom dialer would connect
// to places the check cannot see. The client's Transport must therefore be
// nil or an *http.Transport; any other RoundTripper makes every fetch fail
// (see Fetcher.Err).
func RefusePrivate() Option {
	return func(s *settings) { s.refuse = AddressRange }
}

// refuseWith is RefusePrivate with another policy, for tests that need a
// loopback address to stand in for a public one.
func refuseWith(policy func(netip.Addr) string) Option {
	return func(s *settings) { s.refuse = policy }
}

// AddressError is the cause of a PrivateAddress failure: the address a
// connection was about to be made to, and the range that refused it.
type AddressError struct {
	Addr  netip.Addr
	Range string // "loopback", "private (RFC 1918)", ...
	// Raw is the address as the dialer gave it, when it could not be
	// parsed (Addr is then invalid).
	Raw string
}

func (e *AddressError) Error() string {
	if !e.Addr.IsValid() {
		return fmt.Sprintf("refused to connect to %q: not an IP address, and only public addresses are allowed", e.Raw)
	}
	return fmt.Sprintf("refused to connect to %s, a %s address: only public addresses are allowed (RefusePrivateAddresses), and the URL or a redirect leads into a non-public network; if the endpoint is legitimately internal, leave the option off for this PKI or preload its CRLs", e.Addr, e.Range)
}

// special lists the ranges that are not public unicast, by name. IPv4
// ranges are matched on the unmapped address; NAT64 and 6to4 addresses are
// judged by the IPv4 address they embed (see AddressRange).
var special = func() []struct {
	prefix netip.Prefix
	name   string
} {
	table := []struct{ prefix, name string }{
		{"0.0.0.0/8", `"this network" (RFC 791)`},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "shared address space (RFC 6598)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "IETF protocol assignment (RFC 6890)"},
		{"192.0.2.0/24", "documentation (RFC 5737)"},
		{"192.88.99.0/24", "6to4 relay anycast (RFC 7526)"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"198.18.0.0/15", "benchmarking (RFC 2544)"},
		{"198.51.100.0/24", "documentation (RFC 5737)"},
		{"203.0.113.0/24", "documentation (RFC 5737)"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved (RFC 1112, broadcast included)"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "IPv4-compatible (deprecated, RFC 4291)"},
		{"64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"},
		{"100::/64", "discard-only (RFC 6666)"},
		{"2001::/23", "IETF protocol assignment (RFC 2928)"},
		{"2001:db8::/32", "documentation (RFC 3849)"},
		{"fc00::/7", "unique local (private, RFC 4193)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local (deprecated, RFC 3879)"},
		{"ff00::/8", "multicast"},
	}
	out := make([]struct {
		prefix netip.Prefix
		name   string
	}, len(table))
	for i, r := range table {
		out[i].prefix, out[i].name = netip.MustParsePrefix(r.prefix), r.name
	}
	return out
}()

var (
	nat64         = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052 well-known prefix
	sixToFour     = netip.MustParsePrefix("2002::/16")    // RFC 3056
	globalUnicast = netip.MustParsePrefix("2000::/3")     // RFC 4291 2.4
)

// AddressRange returns the name of the special-purpose range addr belongs
// to, or "" when it is public unicast. IPv4-mapped IPv6 addresses are
// judged as IPv4; an address of the NAT64 well-known prefix or of 6to4 is
// judged by the IPv4 address it embeds, so that an IPv6-only host still
// reaches public servers through NAT64 and never private ones. An invalid
// address is refused.
func AddressRange(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid"
	}
	addr = addr.Unmap()
	switch {
	case nat64.Contains(addr):
		b := addr.As16()
		v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		if r := AddressRange(v4); r != "" {
			return "NAT64 of a " + r
		}
		return ""
	case sixToFour.Contains(addr):
		b := addr.As16()
		v4 := netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		if r := AddressRange(v4); r != "" {
			return "6to4 of a " + r
		}
		return ""
	}
	addr = addr.WithZone("")
	for _, r := range special {
		if r.prefix.Contains(addr) {
			return r.name
		}
	}
	if addr.Is6() && !globalUnicast.Contains(addr) {
		return "reserved (outside IPv6 global unicast, RFC 4291)"
	}
	return ""
}

// control is a net.Dialer Control function that refuses, before the
// connect system call, the addresses policy names.
func control(policy func(netip.Addr) string) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &AddressError{Raw: address}
		}
		if r := policy(ap.Addr()); r != "" {
			return &AddressError{Addr: ap.Addr(), Range: r}
		}
		return nil
	}
}

// guardedTransport returns a copy of the client's transport (a clone of
// http.DefaultTransport when it has none) that dials only through a
// net.Dialer checking each address with policy, and never through a proxy.
func guardedTransport(rt http.RoundTripper, policy func(netip.Addr) string) (http.RoundTripper, error) {
	var t *http.Transport
	switch x := rt.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		t = x.Clone()
	default:
		return nil, fmt.Errorf("fetch: refusing private addresses needs the HTTP client's Transport to be nil or an *http.Transport, not %T (whose connections cannot be checked)", rt)
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: control(policy)}
	t.Proxy = nil
	t.DialContext = d.DialContext
	// The older dial hooks would take precedence over DialContext.
	t.Dial = nil
	t.DialTLSContext = nil
	t.DialTLS = nil
	return t, nil
}

// isAddressError reports whether err comes from a refused address.
func isAddressError(err error) (*AddressError, bool) {
	var ae *AddressError
	ok := errors.As(err, &ae)
	return ae, ok
}
