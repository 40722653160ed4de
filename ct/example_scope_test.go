package ct_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// ParseLogList reads a v3 list (logs and tiled_logs) from bytes.
func ExampleParseLogList() {
	d := newDemo()
	list, err := ct.ParseLogList(d.listJSON)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range list.Logs() {
		fmt.Println(l.Description, "-", l.OperatorAt(testpki.Now))
	}
	// Output:
	// Example 'Alpha' log - Alpha Logs
	// Example 'Beta' log - Beta Logs
}

// LoadLogList reads the list from a file you keep current.
func ExampleLoadLogList() {
	d := newDemo()
	dir, err := os.MkdirTemp("", "ct")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log_list.json")
	os.WriteFile(path, d.listJSON, 0o600)

	list, err := ct.LoadLogList(path)
	fmt.Println(len(list.Logs()), list.Timestamp.Format("2006-01-02"), err)
	// Output:
	// 2 2026-01-14 <nil>
}

// WithPolicy picks the policy: Apple's counts differently from Chrome's.
func ExampleWithPolicy() {
	d := newDemo()
	leaf := d.issue(d.a, d.b)
	for _, p := range []ct.Policy{ct.ChromePolicy(), ct.ApplePolicy()} {
		st := d.state(leaf)
		err := ct.New(d.list, ct.WithPolicy(p)).Verify(context.Background(), st)
		fmt.Println(p, err == nil)
	}
	// Output:
	// chrome true
	// apple true
}

// ChromePolicy is the default: two SCTs from distinct logs of two operators
// for a certificate of 180 days or less.
func ExampleChromePolicy() {
	d := newDemo()
	for _, logs := range [][]*testpki.CTLog{{d.a}, {d.a, d.b}} {
		st := d.state(d.issue(logs...))
		err := ct.New(d.list, ct.WithPolicy(ct.ChromePolicy())).Verify(context.Background(), st)
		fmt.Println(len(logs), "SCT(s):", st.Checks()[0].Outcome, err != nil)
	}
	// Output:
	// 1 SCT(s): fail true
	// 2 SCT(s): pass false
}

// OnlyForRoots enforces CT for chains that end in the given roots (the
// public ones) and skips the others, such as a private CA's.
func ExampleOnlyForRoots() {
	d := newDemo()
	public := x509.NewCertPool() // in real code, x509.SystemCertPool()
	other := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Public Root"}))
	public.AddCert(other.Cert)

	st := d.state(d.issue()) // no SCT at all, from a private CA
	err := ct.New(d.list, ct.OnlyForRoots(public)).Verify(context.Background(), st)
	fmt.Println(err, st.Checks()[0].Outcome)
	// Output:
	// <nil> skip
}

// SkipRoots exempts chains that end in your private roots.
func ExampleSkipRoots() {
	d := newDemo()
	private := x509.NewCertPool()
	private.AddCert(d.root.Cert)

	st := d.state(d.issue())
	err := ct.New(d.list, ct.SkipRoots(private)).Verify(context.Background(), st)
	fmt.Println(err, st.Checks()[0].Outcome)
	// Output:
	// <nil> skip
}

// atomicList is a LogSource of your own: a list swapped in by your code
// (a Refresher is the ready-made one).
type atomicList struct{ p atomic.Pointer[ct.LogList] }

func (a *atomicList) LogList() *ct.LogList { return a.p.Load() }

// WithLogSource reads the list at every handshake, for lists that change
// while the program runs. Until there is one, CT is not enforced (a
// warning is recorded).
func ExampleWithLogSource() {
	d := newDemo()
	src := &atomicList{}
	v := ct.New(nil, ct.WithLogSource(src))

	st := d.state(d.issue(d.a))
	fmt.Println(v.Verify(context.Background(), st), st.Checks()[0].Outcome)

	src.p.Store(d.list)
	st = d.state(d.issue(d.a))
	fmt.Println(v.Verify(context.Background(), st) != nil, st.Checks()[0].Outcome)
	// Output:
	// <nil> warning
	// true fail
}

// WithCacheSize bounds the signature verdicts a verifier remembers (one per
// certificate and SCT); a repeated handshake verifies no signature again.
func ExampleWithCacheSize() {
	d := newDemo()
	v := ct.New(d.list, ct.WithCacheSize(1024))
	leaf := d.issue(d.a, d.b)
	for range 2 {
		st := d.state(leaf)
		v.Verify(context.Background(), st)
		details := st.Checks()[0].Data.(*ct.Details)
		fmt.Println("cached:", details.SCTs[0].Cached, details.SCTs[1].Cached)
	}
	// Output:
	// cached: false false
	// cached: true true
}
