package ocspcheck_test

import (
	"crypto/x509/pkix"
	"encoding/asn1"
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

func TestMaxLifetime(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	r := p.response()
	r.Responses[0].ThisUpdate = testpki.Now.Add(-11 * 24 * time.Hour)
	r.Responses[0].NextUpdate = testpki.Now.Add(24 * time.Hour) // a 12-day response
	der := marshal(t, r)
	if _, err := ocspcheck.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{}); err != nil {
		t.Fatalf("without a cap the response is fresh until nextUpdate: %v", err)
	}
	opts := ocspcheck.Options{MaxLifetime: ocspcheck.DefaultMaxLifetime}
	res, err := ocspcheck.Validate(der, p.leaf.Cert, p.ca.Cert, testpki.Now, opts)
	wantReason(t, err, ocspcheck.TooOld)
	if want := r.Responses[0].ThisUpdate.Add(ocspcheck.DefaultMaxLifetime); !res.Expires(opts).Equal(want) {
		t.Errorf("Expires %v, want the cap %v", res.Expires(opts), want)
	}
	// Within the cap, nextUpdate still rules.
	if err := res.Fresh(testpki.Now.Add(-2*24*time.Hour), opts); err != nil {
		t.Errorf("nine days after thisUpdate: %v", err)
	}
}

// TestVerdictCacheBounded: a hostile server cannot make the cache hold
// large responses, and garbage is not kept at all.
func TestVerdictCacheBounded(t *testing.T) {
	t.Parallel()
	p := newPKI(t, testpki.ECDSAP256)
	r := p.response()
	r.Extensions = append(r.Extensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: make([]byte, 40<<10)})
	huge := marshal(t, r)
	vc := ocspcheck.NewVerdictCache(4)
	for i := range 2 {
		if _, cached, err := vc.Validate(huge, p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{}); err != nil || cached {
			t.Fatalf("call %d: cached %v, err %v", i, cached, err)
		}
	}
	vc.Validate([]byte("garbage"), p.leaf.Cert, p.ca.Cert, testpki.Now, ocspcheck.Options{})
	if n := vc.Len(); n != 0 {
		t.Errorf("Len() = %d: large and malformed responses must not be kept", n)
	}
}
