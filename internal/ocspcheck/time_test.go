package ocspcheck_test

import (
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/ocspcheck"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

func generalizedTime(s string) []byte { return append([]byte{0x18, byte(len(s))}, s...) }

// TestFractionalSeconds: some responders send thisUpdate with fractional
// seconds; they are accepted (as by x/crypto/ocsp), non-DER fractions are not.
func TestFractionalSeconds(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	base := marshal(t, p.response())
	tests := []struct {
		stamp string
		want  time.Time
		ok    bool
	}{
		{"20260115110000.5Z", time.Date(2026, 1, 15, 11, 0, 0, 5e8, time.UTC), true},
		{"20260115110000.123456Z", time.Date(2026, 1, 15, 11, 0, 0, 123456000, time.UTC), true},
		{"20260115110000.50Z", time.Time{}, false}, // trailing zero is not DER
		{"20260115110000.Z", time.Time{}, false},
		{"20260115110000,5Z", time.Time{}, false},
		{"20260115110000+0100", time.Time{}, false}, // not UTC
		{"202601151100Z", time.Time{}, false},
	}
	for _, tt := range tests {
		der := resign(t, base, p.ca.Key, mutateSingle(0, func(e [][]byte) [][]byte {
			e[2] = generalizedTime(tt.stamp)
			return e
		}))
		r, err := ocspcheck.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
		if !tt.ok {
			wantReason(t, err, ocspcheck.Malformed)
			continue
		}
		if err != nil || !r.ThisUpdate.Equal(tt.want) {
			t.Errorf("%s: %v %v", tt.stamp, r, err)
		}
	}
}

func TestNextUpdateBeforeThisUpdate(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	r := p.response()
	r.Responses[0].ThisUpdate = testpki.Now.Add(-time.Hour)
	r.Responses[0].NextUpdate = testpki.Now.Add(-2 * time.Hour)
	_, err := ocspcheck.Check(marshal(t, r), p.leaf.Cert, p.ca.Cert, ocspcheck.Options{})
	wantReason(t, err, ocspcheck.Malformed)
}
