package tlsclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// minLifetime is a custom check: it refuses a server whose certificate
// expires within min of the verification time, so that a forgotten renewal
// is caught before it becomes an outage.
type minLifetime struct {
	min time.Duration
}

// Name labels the check in the Report.
func (minLifetime) Name() string { return "lifetime" }

// Verify runs inside the handshake, after crypto/tls has verified the chain
// and the host name. It records what it decided, and returns an error to
// abort the handshake.
func (m minLifetime) Verify(_ context.Context, st *tlsclient.State) error {
	chain := st.Chain() // leaf first; empty only in a hand-built State
	if len(chain) == 0 {
		return errors.New("lifetime: no verified chain")
	}
	leaf := chain[0]
	left := leaf.NotAfter.Sub(st.Time()) // st.Time: the Dialer's clock
	days := int(left.Hours() / 24)
	if left < m.min {
		err := fmt.Errorf("%s expires in %d days, less than the required %d: renew it", tlsclient.CertLabel(leaf), days, int(m.min.Hours()/24))
		st.Record(tlsclient.Check{Subject: tlsclient.CertLabel(leaf), Outcome: tlsclient.Fail, Detail: "expires too soon", Err: err})
		return err
	}
	st.Record(tlsclient.Check{Subject: tlsclient.CertLabel(leaf), Outcome: tlsclient.Pass, Detail: fmt.Sprintf("%d days left", days)})
	return nil
}

var _ tlsclient.Verifier = minLifetime{}

func ExampleWithVerifiers() {
	addr, roots, stop := startExampleServer() // a certificate valid for 90 days
	defer stop()

	for _, days := range []int{30, 120} {
		conn, err := tlsclient.Dial("tcp", addr,
			tlsclient.WithRootCAs(roots),
			tlsclient.WithTime(testpki.Clock()),
			tlsclient.WithVerifiers(minLifetime{min: time.Duration(days) * 24 * time.Hour}),
		)
		var rep *tlsclient.Report
		var ve *tlsclient.VerificationError
		switch {
		case err == nil:
			rep = conn.Report()
			conn.Close()
		case errors.As(err, &ve):
			rep = ve.Report
		default:
			log.Fatal(err)
		}
		fmt.Printf("at least %d days:\n", days)
		for _, c := range rep.Checks {
			fmt.Printf("  %-4s %-8s %s\n", c.Outcome, c.Verifier, c.Detail)
		}
		if err != nil {
			fmt.Println("  error:", errors.Unwrap(err))
		}
	}
	// Output:
	// at least 30 days:
	//   pass chain    verified to trusted root CN=Example Root CA
	//   pass hostname "127.0.0.1" matches the certificate
	//   skip staple   no stapled OCSP response
	//   pass lifetime 90 days left
	// at least 120 days:
	//   pass chain    verified to trusted root CN=Example Root CA
	//   pass hostname "127.0.0.1" matches the certificate
	//   skip staple   no stapled OCSP response
	//   fail lifetime expires too soon
	//   error: CN=localhost expires in 90 days, less than the required 120: renew it
}
