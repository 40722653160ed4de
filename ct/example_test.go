package ct_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// demo is a small CT world: a CA, two logs of two operators, and their
// list.
type demo struct {
	root, ca *testpki.Cert
	a, b     *testpki.CTLog
	list     *ct.LogList
	listJSON []byte
}

func newDemo() *demo {
	d := &demo{}
	d.root = testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Example Root"}))
	d.ca = testpki.Must(d.root.NewIntermediate(testpki.CertOptions{CommonName: "Example CA"}))
	d.a = testpki.Must(testpki.NewCTLog("Example 'Alpha' log", "Alpha Logs", testpki.ECDSAP256))
	d.b = testpki.Must(testpki.NewCTLog("Example 'Beta' log", "Beta Logs", testpki.ECDSAP256))
	d.listJSON = testpki.Must(testpki.CTLogList(testpki.Now.Add(-24*time.Hour), d.a, d.b))
	d.list = testpki.Must(ct.ParseLogList(d.listJSON))
	return d
}

// issue mints a 90-day certificate with SCTs embedded from logs.
func (d *demo) issue(logs ...*testpki.CTLog) *x509.Certificate {
	var e []testpki.Embed
	for _, l := range logs {
		e = append(e, testpki.Embed{Log: l})
	}
	c := testpki.Must(d.ca.IssueWithSCTs(testpki.CertOptions{CommonName: "www.example"}, e...))
	return c.Cert.Cert
}

func (d *demo) state(leaf *x509.Certificate) *tlsclient.State {
	chain := []*x509.Certificate{leaf, d.ca.Cert, d.root.Cert}
	st := &tlsclient.State{Now: testpki.Now}
	st.ConnectionState.VerifiedChains = [][]*x509.Certificate{chain}
	return st
}

// A verifier checks the SCTs of every connection of a Dialer. The log list
// is yours to choose and keep current.
func ExampleNew() {
	list, err := ct.LoadLogList("log_list.json")
	if err != nil {
		log.Fatal(err)
	}
	d, err := tlsclient.New(tlsclient.WithVerifiers(ct.New(list, ct.WithPolicy(ct.ChromePolicy()))))
	if err != nil {
		log.Fatal(err)
	}
	conn, err := d.Dial("tcp", "example.com:443")
	if errors.Is(err, tlsclient.ErrCTPolicy) {
		log.Fatalf("not logged as Chrome requires: %v", err)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
}

// A verifier can also be run on a saved chain, with a hand-built State.
func ExampleNew_offline() {
	d := newDemo()
	v := ct.New(d.list)
	st := d.state(d.issue(d.a, d.b))
	err := v.Verify(context.Background(), st)
	c := st.Checks()[0]
	fmt.Println(err, c.Outcome)
	fmt.Println(c.Detail)
	for _, s := range c.Data.(*ct.Details).SCTs {
		fmt.Println(s.Source, s.Log, s.Operator, s.LogState, s.Status)
	}
	// Output:
	// <nil> pass
	// chrome policy met by embedded SCTs (2/2 logs, 2/1 accepted now, 2/2 operators); 2 SCTs: 2 valid
	// embedded Example 'Alpha' log Alpha Logs usable valid
	// embedded Example 'Beta' log Beta Logs usable valid
}

// An enforced failure is a *PolicyError wrapping tlsclient.ErrCTPolicy,
// with the counts required and found.
func ExamplePolicyError() {
	d := newDemo()
	st := d.state(d.issue(d.a))
	err := ct.New(d.list).Verify(context.Background(), st)
	var pe *ct.PolicyError
	if errors.As(err, &pe) && errors.Is(err, tlsclient.ErrCTPolicy) {
		fmt.Printf("%s policy: %d of %d required\n", pe.Policy, pe.Found, pe.Required)
	}
	// Output:
	// chrome policy: 1 of 2 required
}

// ReportOnly records the verdict and never aborts.
func ExampleReportOnly() {
	d := newDemo()
	st := d.state(d.issue(d.a))
	err := ct.New(d.list, ct.ReportOnly()).Verify(context.Background(), st)
	fmt.Println(err, st.Checks()[0].Outcome)
	// Output:
	// <nil> warning
}

// A private deployment with its own logs sets its own count.
func ExampleAtLeast() {
	d := newDemo()
	st := d.state(d.issue(d.a))
	err := ct.New(d.list, ct.WithPolicy(ct.AtLeast(1, 1))).Verify(context.Background(), st)
	fmt.Println(err, st.Checks()[0].Detail)
	// Output:
	// <nil> at-least(1 SCTs, 1 operators) policy met by all SCTs (1/1 logs, 1/1 operators); 1 SCTs: 1 valid
}

// A list older than the maximum age (70 days by default) stops enforcement.
func ExampleWithMaxListAge() {
	d := newDemo()
	st := d.state(d.issue(d.a))
	st.Now = testpki.Now.Add(90 * 24 * time.Hour)
	err := ct.New(d.list).Verify(context.Background(), st)
	fmt.Println(err, st.Checks()[0].Outcome)
	// Output:
	// <nil> warning
}

// Google signs its lists with RSA (log_list.json and log_list.sig).
func ExampleParseSignedLogList() {
	d := newDemo()
	key := testpki.Must(testpki.NewKey(testpki.RSA2048))
	sig := testpki.Must(testpki.SignCTLogList(d.listJSON, key))
	list, err := ct.ParseSignedLogList(d.listJSON, sig, key.Public())
	fmt.Println(len(list.Logs()), err)
	_, err = ct.ParseSignedLogList(append(d.listJSON, ' '), sig, key.Public())
	fmt.Println(errors.Is(err, ct.ErrListSignature))
	// Output:
	// 2 <nil>
	// true
}

// A Refresher keeps a signed list current and on disk; the verifier reads
// the newest list at every handshake. Enforce only for the public roots,
// so that internal servers with a private CA still connect.
func ExampleRefresher() {
	pub := loadGoogleListKey() // the list publisher's key, obtained out of band
	r, err := ct.NewRefresher(ct.RefresherConfig{
		ListURL:      "https://lists.example/log_list.json",
		SignatureURL: "https://lists.example/log_list.sig",
		PublicKey:    pub,
		CacheFile:    "/var/lib/myapp/log_list.json",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go r.Run(ctx, 6*time.Hour, func(err error) { log.Print(err) })

	public, err := x509.SystemCertPool()
	if err != nil {
		log.Fatal(err)
	}
	_, err = tlsclient.New(tlsclient.WithVerifiers(ct.New(nil, ct.WithLogSource(r), ct.OnlyForRoots(public))))
	if err != nil {
		log.Fatal(err)
	}
}

// loadGoogleListKey reads the PEM public key that signs the list.
func loadGoogleListKey() any {
	b, err := os.ReadFile("log_list_pubkey.pem")
	if err != nil {
		log.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		log.Fatal("log_list_pubkey.pem: no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	return pub
}
