package ct

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// world is the shared test PKI: a root, an intermediate, and fake logs in
// every state, with a fresh list naming them all.
type world struct {
	root, inter *testpki.Cert
	logs        map[string]*testpki.CTLog
	listJSON    []byte
	list        *LogList
}

// Log names: the letter is the operator.
//
//	A1 usable ECDSA, A2 usable RSA (operator A)
//	B1 usable, B2 usable (operator B)
//	C1 usable, tiled (static-ct-api) (operator C)
//	D1 qualified, E1 readonly (operators D, E)
//	R1 retired 30 days before Now (operator R)
//	P1 pending, X1 rejected, T1 usable test log
//	M1 usable, run by operator A until 200 days before Now, then by M
//	F1 usable since 10 days after Now (so qualified at Now)
//	G1 usable, tiled (operator G); S1 retired 40 days before Now, RSA (S)
var worldLogs = []struct {
	name, op string
	key      testpki.KeyType
	state    string
	since    time.Duration // from Now
	tiled    bool
	logType  string
}{
	{"A1", "A", testpki.ECDSAP256, testpki.StateUsable, -365 * day, false, ""},
	{"A2", "A", testpki.RSA2048, testpki.StateUsable, -365 * day, false, "prod"},
	{"B1", "B", testpki.ECDSAP256, testpki.StateUsable, -365 * day, false, ""},
	{"B2", "B", testpki.ECDSAP256, testpki.StateUsable, -365 * day, false, ""},
	{"C1", "C", testpki.ECDSAP256, testpki.StateUsable, -100 * day, true, ""},
	{"D1", "D", testpki.ECDSAP256, testpki.StateQualified, -20 * day, false, ""},
	{"E1", "E", testpki.ECDSAP256, testpki.StateReadOnly, -50 * day, false, ""},
	{"R1", "R", testpki.ECDSAP256, testpki.StateRetired, -30 * day, false, ""},
	{"P1", "P", testpki.ECDSAP256, testpki.StatePending, -5 * day, false, ""},
	{"X1", "X", testpki.ECDSAP256, testpki.StateRejected, -5 * day, false, ""},
	{"T1", "T", testpki.ECDSAP256, testpki.StateUsable, -5 * day, false, "test"},
	{"M1", "M", testpki.ECDSAP256, testpki.StateUsable, -365 * day, false, ""},
	{"F1", "F", testpki.ECDSAP256, testpki.StateUsable, 10 * day, false, ""},
	{"G1", "G", testpki.ECDSAP256, testpki.StateUsable, -100 * day, true, ""},
	{"S1", "S", testpki.RSA2048, testpki.StateRetired, -40 * day, false, ""},
}

const day = 24 * time.Hour

var sharedWorld = sync.OnceValues(func() (*world, error) {
	w := &world{logs: map[string]*testpki.CTLog{}}
	var err error
	if w.root, err = testpki.NewRoot(testpki.CertOptions{CommonName: "CT Test Root"}); err != nil {
		return nil, err
	}
	if w.inter, err = w.root.NewIntermediate(testpki.CertOptions{CommonName: "CT Test Intermediate"}); err != nil {
		return nil, err
	}
	var all []*testpki.CTLog
	for _, d := range worldLogs {
		l, err := testpki.NewCTLog("Test '"+d.name+"' log", d.op, d.key)
		if err != nil {
			return nil, err
		}
		l.State, l.StateSince, l.Tiled, l.LogType = d.state, testpki.Now.Add(d.since), d.tiled, d.logType
		if d.name == "M1" {
			l.PreviousOperators = []testpki.CTPreviousOperator{{Name: "A", End: testpki.Now.Add(-200 * day)}}
		}
		if d.name == "C1" {
			l.TemporalStart, l.TemporalEnd = testpki.Now.AddDate(-1, 0, 0), testpki.Now.AddDate(2, 0, 0)
		}
		w.logs[d.name] = l
		all = append(all, l)
	}
	if w.listJSON, err = testpki.CTLogList(testpki.Now.Add(-day), all...); err != nil {
		return nil, err
	}
	if w.list, err = ParseLogList(w.listJSON); err != nil {
		return nil, err
	}
	return w, nil
})

func getWorld(t testing.TB) *world {
	t.Helper()
	w, err := sharedWorld()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// leaf issues a certificate from the intermediate, valid from an hour
// before Now for lifetime, with the given embedded SCTs (none: no SCT list
// at all).
func (w *world) leaf(t testing.TB, lifetime time.Duration, embeds ...testpki.Embed) *testpki.CTCert {
	t.Helper()
	opts := testpki.CertOptions{NotBefore: testpki.Now.Add(-time.Hour)}
	opts.NotAfter = opts.NotBefore.Add(lifetime)
	if len(embeds) == 0 {
		c, err := w.inter.Issue(opts)
		if err != nil {
			t.Fatal(err)
		}
		return &testpki.CTCert{Cert: c}
	}
	c, err := w.inter.IssueWithSCTs(opts, embeds...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// emb makes Embeds for the named logs, with default options.
func (w *world) emb(names ...string) []testpki.Embed {
	var out []testpki.Embed
	for _, n := range names {
		out = append(out, testpki.Embed{Log: w.logs[n]})
	}
	return out
}

// scts makes x509_entry SCTs over c for the named logs.
func (w *world) scts(t testing.TB, c *testpki.CTCert, names ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, n := range names {
		s, err := w.logs[n].SCTForCert(c.Cert.Cert.Raw, testpki.SCTOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// ocsp returns a good OCSP response for c signed by the intermediate, whose
// single response carries scts.
func (w *world) ocsp(t testing.TB, c *testpki.CTCert, scts ...[]byte) []byte {
	t.Helper()
	ext, err := testpki.OCSPSCTListExtension(scts...)
	if err != nil {
		t.Fatal(err)
	}
	r := &testpki.OCSPResponse{Signer: w.inter, Responses: []testpki.Single{{
		Cert: c.Cert.Cert, Issuer: w.inter.Cert, Status: testpki.StatusGood,
		ThisUpdate: testpki.Now.Add(-time.Hour), NextUpdate: testpki.Now.Add(7 * day),
		Extensions: []pkix.Extension{ext},
	}}}
	der, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// state is a hand-built State for c, verified to the world's root.
func (w *world) state(c *testpki.CTCert, tls [][]byte, staple []byte) *tlsclient.State {
	return &tlsclient.State{
		ConnectionState: tlsConnState([][]*x509.Certificate{{c.Cert.Cert, w.inter.Cert, w.root.Cert}}, tls, staple),
		Now:             testpki.Now,
	}
}

// run verifies st with v and returns the error, the check recorded and its
// details.
func run(t testing.TB, v tlsclient.Verifier, st *tlsclient.State) (error, tlsclient.Check, *Details) {
	t.Helper()
	err := v.Verify(context.Background(), st)
	checks := st.Checks()
	if len(checks) != 1 {
		t.Fatalf("want one check, got %d: %+v", len(checks), checks)
	}
	d, _ := checks[0].Data.(*Details)
	if err != nil && checks[0].Outcome != tlsclient.Fail {
		t.Fatalf("error %v with outcome %s", err, checks[0].Outcome)
	}
	return err, checks[0], d
}

func statuses(d *Details) []SCTStatus {
	var out []SCTStatus
	for _, s := range d.SCTs {
		out = append(out, s.Status)
	}
	return out
}

func isPolicyError(err error) (*PolicyError, bool) {
	var pe *PolicyError
	return pe, errors.Is(err, tlsclient.ErrCTPolicy) && errors.As(err, &pe)
}

func tlsConnState(chains [][]*x509.Certificate, scts [][]byte, staple []byte) tls.ConnectionState {
	return tls.ConnectionState{
		Version:                     tls.VersionTLS13,
		HandshakeComplete:           true,
		PeerCertificates:            chains[0][:len(chains[0])-1],
		VerifiedChains:              chains,
		SignedCertificateTimestamps: scts,
		OCSPResponse:                staple,
	}
}
