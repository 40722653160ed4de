package tlsclient

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// FuzzStapleCheck feeds arbitrary bytes, as the server's staple, to the
// built-in staple check every Dialer runs. The seeds and the PKI are
// package revocation's (revocation/testdata/ocsp). ocspcheck.Validate is
// the oracle: a staple aborts the handshake as revoked only when it is a
// valid response saying so, a leaf that does not demand a staple never
// fails otherwise, and every staple leaves exactly one check.
func FuzzStapleCheck(f *testing.F) {
	dir := filepath.Join("revocation", "testdata", "ocsp")
	b, err := os.ReadFile(filepath.Join(dir, "chain.pem"))
	if err != nil {
		f.Fatal(err)
	}
	var chain []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			f.Fatal(err)
		}
		chain = append(chain, c)
	}
	seeds, _ := filepath.Glob(filepath.Join(dir, "*.der"))
	if len(chain) != 3 || len(seeds) == 0 {
		f.Fatalf("revocation/testdata/ocsp: %d certificates, %d responses", len(chain), len(seeds))
	}
	for _, s := range seeds {
		der, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	check := newStapleCheck()
	f.Fuzz(func(t *testing.T, staple []byte) {
		st := &State{Now: testpki.Now}
		st.ConnectionState.VerifiedChains = [][]*x509.Certificate{chain}
		st.ConnectionState.OCSPResponse = staple
		err := check.Verify(context.Background(), st) // shared: its verdict cache too
		if n := len(st.Checks()); n != 1 {
			t.Fatalf("%d checks recorded", n)
		}
		res, verr := ocspcheck.Validate(staple, chain[0], chain[1], testpki.Now, ocspcheck.Options{})
		var re *RevokedError
		switch {
		case err == nil:
			if verr == nil && res.Status == ocspcheck.Revoked {
				t.Fatal("a valid revoked staple passed")
			}
		case errors.As(err, &re):
			if verr != nil || res.Status != ocspcheck.Revoked || !re.RevokedAt.Equal(res.RevokedAt) || re.Source != "staple" {
				t.Fatalf("refused as revoked on a staple that validates as %v, %v", res, verr)
			}
		default:
			t.Fatalf("the leaf does not demand a staple, yet: %v", err)
		}
	})
}
