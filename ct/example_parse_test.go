package ct_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// ParseSCTList and ParseSCT read the SCTs a server sends in the TLS
// extension (tls.ConnectionState.SignedCertificateTimestamps holds them one
// by one) or embeds in its certificate (a list).
func ExampleParseSCTList() {
	d := newDemo()
	leaf := d.issue(d.a, d.b)
	sct1 := testpki.Must(d.a.SCTForCert(leaf.Raw, testpki.SCTOptions{}))
	sct2 := testpki.Must(d.b.SCTForCert(leaf.Raw, testpki.SCTOptions{}))
	list := testpki.Must(testpki.SCTList(sct1, sct2))

	scts, err := ct.ParseSCTList(list)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, raw := range scts {
		s, err := ct.ParseSCT(raw)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(d.list.Lookup(s.LogID).Description, s.Time())
	}
	// Output:
	// Example 'Alpha' log 2026-01-15 11:00:00 +0000 UTC
	// Example 'Beta' log 2026-01-15 11:00:00 +0000 UTC
}

// LoadSignedLogList reads a list and its detached signature from files and
// verifies them, as Google publishes log_list.json and log_list.sig.
func ExampleLoadSignedLogList() {
	d := newDemo()
	key := testpki.Must(testpki.NewKey(testpki.RSA2048)) // the publisher's; you get its public key out of band
	dir, err := os.MkdirTemp("", "ct")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "log_list.json"), d.listJSON, 0o600)
	os.WriteFile(filepath.Join(dir, "log_list.sig"), testpki.Must(testpki.SignCTLogList(d.listJSON, key)), 0o600)

	list, err := ct.LoadSignedLogList(filepath.Join(dir, "log_list.json"), filepath.Join(dir, "log_list.sig"), key.Public())
	fmt.Println(len(list.Logs()), err)
	// Output:
	// 2 <nil>
}

// ApplePolicy applies Apple's rules, which count SCTs per operator and
// require a log of the RFC 6962 kind.
func ExampleApplePolicy() {
	d := newDemo()
	st := d.state(d.issue(d.a))
	err := ct.New(d.list, ct.WithPolicy(ct.ApplePolicy())).Verify(context.Background(), st)
	fmt.Println(ct.ApplePolicy(), err != nil, st.Checks()[0].Outcome)
	// Output:
	// apple true fail
}

// NewRefresher downloads a signed list from a URL; Refresh (or Run, in the
// background) keeps it current, refusing bad signatures and rollbacks.
func ExampleNewRefresher() {
	d := newDemo()
	key := testpki.Must(testpki.NewKey(testpki.RSA2048))
	sig := testpki.Must(testpki.SignCTLogList(d.listJSON, key))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/log_list.json":
			w.Write(d.listJSON)
		case "/log_list.sig":
			w.Write(sig)
		}
	}))
	defer srv.Close()

	r, err := ct.NewRefresher(ct.RefresherConfig{
		ListURL:      srv.URL + "/log_list.json",
		SignatureURL: srv.URL + "/log_list.sig",
		PublicKey:    key.Public(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("before:", r.LogList() == nil)
	err = r.Refresh(context.Background())
	fmt.Println("after:", len(r.LogList().Logs()), err)
	// Output:
	// before: true
	// after: 2 <nil>
}

// ParseSCT reads one SCT, as a server sends it in the TLS extension.
func ExampleParseSCT() {
	d := newDemo()
	raw := testpki.Must(d.b.SCTForCert(d.issue().Raw, testpki.SCTOptions{}))
	s, err := ct.ParseSCT(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Version, d.list.Lookup(s.LogID).Description, s.Time().Format("2006-01-02T15:04Z07:00"))
	// Output:
	// 0 Example 'Beta' log 2026-01-15T11:00Z
}
