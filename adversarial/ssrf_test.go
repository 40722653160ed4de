package adversarial_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
	"github.com/tlsclient/tlsclient/revocation"
)

// wantPrivate checks that err refused addr (or any address, when empty)
// with RefusePrivateAddresses.
func wantPrivate(t *testing.T, err error, addr string) {
	t.Helper()
	var fe *revocation.FetchError
	if !errors.As(err, &fe) || fe.Kind != revocation.FetchPrivateAddress {
		t.Fatalf("want a FetchError %q, got %v", revocation.FetchPrivateAddress, err)
	}
	var ae *revocation.AddressError
	if !errors.As(err, &ae) {
		t.Fatalf("want a *revocation.AddressError, got %v", err)
	}
	if addr != "" && ae.Addr != netip.MustParseAddr(addr) {
		t.Errorf("refused %v, want %s", ae.Addr, addr)
	}
}

// TestRefusePrivateAddresses: a server dialled by a service that checks
// revocation with RefusePrivateAddresses cannot make it fetch from the
// service's own network, whatever its certificate's URLs say: the check
// fails closed (or warns under SoftFail), and the internal endpoint is
// never reached. Without the option (the default), the same URLs are
// fetched.
func TestRefusePrivateAddresses(t *testing.T) {
	leakCheck(t)
	p := newPKI(t)
	internal := newEndpoint(t)
	internal.set(testpki.BytesHandler("application/ocsp-response", []byte("internal secrets")))
	_, port, _ := net.SplitHostPort(internal.Listener.Addr().String())

	tests := []struct {
		name string
		leaf testpki.CertOptions
		addr string
	}{
		{name: "OCSP responder on 127.0.0.1", addr: "127.0.0.1",
			leaf: testpki.CertOptions{OCSPServers: []string{internal.URL + "/ocsp"}}},
		{name: "OCSP responder named localhost", addr: "",
			leaf: testpki.CertOptions{OCSPServers: []string{"http://localhost:" + port + "/ocsp"}}},
		{name: "CRL on [::1]", addr: "::1",
			leaf: testpki.CertOptions{CRLDistributionPoints: []string{"http://[::1]:" + port + "/crl"}}},
		// Only addresses that stay on this machine even if the check
		// failed: the classification of the others (169.254.169.254,
		// RFC 1918...) is tested in internal/fetch without dialling.
		{name: "CRL on 0.0.0.0", addr: "0.0.0.0",
			leaf: testpki.CertOptions{CRLDistributionPoints: []string{"http://0.0.0.0:" + port + "/crl"}}},
		{name: "CRL on a link-local IPv6 address", addr: "fe80::1%lo",
			leaf: testpki.CertOptions{CRLDistributionPoints: []string{"http://[fe80::1%25lo]:" + port + "/crl"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakCheck(t)
			addr := serve(t, testpki.ServerOptions{Cert: p.leaf(t, tt.leaf)})
			before := internal.hits.Load()

			r := dial(t, addr, p.root.Pool(), tlsclient.WithVerifiers(revocation.New(revocation.LeafOnly(), revocation.RefusePrivateAddresses())))
			r.refused(t)
			if !errors.Is(r.err, tlsclient.ErrRevocationUnavailable) {
				t.Fatalf("want unavailable, got %v", r.err)
			}
			wantPrivate(t, r.err, tt.addr) // at once: not a timeout

			soft := dial(t, addr, p.root.Pool(), tlsclient.WithVerifiers(revocation.New(revocation.LeafOnly(), revocation.RefusePrivateAddresses(), revocation.SoftFail())))
			c := soft.warned(t, "revocation", is(tlsclient.ErrRevocationUnavailable))
			wantPrivate(t, c.Err, tt.addr)
			if n := internal.hits.Load() - before; n != 0 {
				t.Errorf("the internal endpoint was reached %d times", n)
			}
		})
	}

	t.Run("off by default", func(t *testing.T) {
		leakCheck(t)
		// An endpoint of its own: the connection the verifier keeps
		// alive to it ends with it, before the leak check.
		own := newEndpoint(t)
		own.set(testpki.BytesHandler("application/ocsp-response", []byte("internal secrets")))
		leaf := p.leaf(t, testpki.CertOptions{OCSPServers: []string{own.URL + "/ocsp"}})
		addr := serve(t, testpki.ServerOptions{Cert: leaf})
		r := dial(t, addr, p.root.Pool(), tlsclient.WithVerifiers(revocation.New(revocation.LeafOnly())))
		var re *revocation.ResponseError
		if !errors.As(r.err, &re) || re.Reason != revocation.ResponseMalformed {
			t.Fatalf("want the internal answer fetched and refused as malformed, got %v", r.err)
		}
		if own.hits.Load() == 0 {
			t.Error("the endpoint was not asked")
		}
	})
	t.Run("an uncheckable transport fails closed", func(t *testing.T) {
		leakCheck(t)
		leaf := p.leaf(t, testpki.CertOptions{OCSPServers: []string{internal.URL + "/ocsp"}})
		addr := serve(t, testpki.ServerOptions{Cert: leaf})
		rt := roundTripperFunc(func(*http.Request) (*http.Response, error) {
			t.Error("an unchecked transport was used")
			return nil, errors.New("no")
		})
		r := dial(t, addr, p.root.Pool(), tlsclient.WithVerifiers(revocation.New(revocation.RefusePrivateAddresses(),
			revocation.WithHTTPClient(&http.Client{Transport: rt}))))
		r.refused(t)
		if !strings.Contains(r.err.Error(), "RefusePrivateAddresses") || !strings.Contains(r.err.Error(), "*http.Transport") {
			t.Errorf("the error should say why: %v", r.err)
		}
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRefusePrivateAddressesLogList: the ct Refresher's counterpart.
func TestRefusePrivateAddressesLogList(t *testing.T) {
	leakCheck(t)
	key := testpki.Must(testpki.NewKey(testpki.ECDSAP256))
	list, sig := signed(t, key, testpki.Now)
	listEP, sigEP := newEndpoint(t), newEndpoint(t)
	listEP.set(testpki.BytesHandler("application/json", list))
	sigEP.set(testpki.BytesHandler("application/octet-stream", sig))
	cfg := ct.RefresherConfig{ListURL: listEP.URL + "/log_list.json", SignatureURL: sigEP.URL + "/log_list.sig",
		PublicKey: key.Public(), RefusePrivateAddresses: true}
	r, err := ct.NewRefresher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Refresh(context.Background())
	wantPrivate(t, err, "127.0.0.1")
	if r.LogList() != nil || listEP.hits.Load() != 0 {
		t.Error("the list was fetched")
	}
	cfg.RefusePrivateAddresses = false
	r, err = ct.NewRefresher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(context.Background()); err != nil || r.LogList() == nil {
		t.Fatalf("off by default: %v", err)
	}
	cfg.RefusePrivateAddresses = true
	cfg.HTTPClient = &http.Client{Transport: roundTripperFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("no") })}
	if _, err := ct.NewRefresher(cfg); err == nil || !strings.Contains(err.Error(), "*http.Transport") {
		t.Errorf("an uncheckable transport: %v", err)
	}
}
