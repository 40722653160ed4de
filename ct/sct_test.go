package ct

import (
	"bytes"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

func TestParseSCT(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	cert := w.leaf(t, 90*day)
	raw, err := w.logs["C1"].SCTForCert(cert.Cert.Cert.Raw, testpki.SCTOptions{Timestamp: time.UnixMilli(1234567890123)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSCT(raw)
	if err != nil {
		t.Fatal(err)
	}
	if s.LogID != w.logs["C1"].ID() || s.Timestamp != 1234567890123 || !s.Time().Equal(time.UnixMilli(1234567890123)) ||
		s.HashAlgorithm != 4 || s.SignatureAlgorithm != 3 || len(s.Signature) == 0 {
		t.Errorf("parsed %+v", s)
	}
	if _, ok := s.LeafIndex(); !ok {
		t.Error("tiled log SCT without leaf_index")
	}
	// Every strict prefix is malformed; so are trailing bytes.
	for n := range len(raw) {
		if _, err := ParseSCT(raw[:n]); !errors.Is(err, ErrMalformedSCT) {
			t.Fatalf("prefix of %d bytes: %v", n, err)
		}
	}
	if _, err := ParseSCT(append(bytes.Clone(raw), 0)); !errors.Is(err, ErrMalformedSCT) {
		t.Errorf("trailing byte: %v", err)
	}
	v2 := bytes.Clone(raw)
	v2[0] = 1
	if _, err := ParseSCT(v2); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("v2: %v", err)
	}
}

func TestLeafIndex(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ext  []byte
		want uint64
		ok   bool
	}{
		{testpki.LeafIndexExtension(0), 0, true},
		{testpki.LeafIndexExtension(1<<40 - 1), 1<<40 - 1, true},
		{append([]byte{7, 0, 1, 9}, testpki.LeafIndexExtension(42)...), 42, true}, // after an unknown extension
		{nil, 0, false},
		{[]byte{0, 0, 4, 1, 2, 3, 4}, 0, false}, // wrong length
		{[]byte{0, 0}, 0, false},                // truncated
	} {
		s := SCT{Extensions: c.ext}
		got, ok := s.LeafIndex()
		if got != c.want || ok != c.ok {
			t.Errorf("%x: %d %v, want %d %v", c.ext, got, ok, c.want, c.ok)
		}
	}
}

func TestParseSCTList(t *testing.T) {
	t.Parallel()
	list, err := testpki.SCTList([]byte{1, 2}, []byte{3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSCTList(list)
	if err != nil || len(got) != 2 || !bytes.Equal(got[0], []byte{1, 2}) || !bytes.Equal(got[1], []byte{3}) {
		t.Fatalf("%x %v", got, err)
	}
	for _, bad := range [][]byte{
		nil, {0}, {0, 0}, // empty list
		{0, 2, 0, 0},       // empty SCT
		{0, 3, 0, 2, 1},    // truncated SCT
		{0, 3, 0, 1, 1, 9}, // trailing
		{0, 4, 0, 1, 1, 0}, // bad inner length
		{0xff, 0xff, 0, 1}, // list length too long
		append(list, 0),    // trailing after the list
	} {
		if _, err := ParseSCTList(bad); !errors.Is(err, ErrMalformedSCT) {
			t.Errorf("%x accepted: %v", bad, err)
		}
	}
	if _, err := parseSCTListExtension(list); err == nil {
		t.Error("extension value without the OCTET STRING accepted")
	}
}

// precertTBS must give back exactly what the log signed: the
// precertificate's TBS without the poison. testpki mints that TBS
// independently (a certificate with neither poison nor SCTs).
func TestPrecertTBS(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	for _, extra := range [][]pkix.Extension{
		nil,
		{{Id: []int{1, 2, 3, 4}, Value: []byte{5, 0}}},
		{testpki.MustStapleExtension()},
	} {
		c, err := w.inter.IssueWithSCTs(testpki.CertOptions{ExtraExtensions: extra}, w.emb("A1")...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := precertTBS(c.Cert.Cert.RawTBSCertificate)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.PrecertTBS) {
			t.Fatalf("rebuilt TBS differs from the precertificate's")
		}
		// And the precertificate carries the critical poison.
		poisoned := false
		for _, e := range c.Precert.Extensions {
			poisoned = poisoned || (e.Id.Equal(OIDPrecertPoison) && e.Critical)
		}
		if !poisoned {
			t.Error("precertificate without a critical poison")
		}
	}
	if _, err := precertTBS(w.leaf(t, day).Cert.Cert.RawTBSCertificate); err == nil {
		t.Error("TBS without SCTs accepted")
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00, 0x00}, {0x30, 0x03, 0xa3, 0x01, 0x00}, {0x30, 0x02, 0x02, 0x00}} {
		if _, err := precertTBS(bad); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
}

func TestSignedDataLimits(t *testing.T) {
	t.Parallel()
	s := &SCT{}
	if _, err := signedData(s, precertEntry, nil, []byte{1}); err == nil {
		t.Error("precert entry without issuer key hash")
	}
	if _, err := signedData(s, x509Entry, nil, nil); err == nil {
		t.Error("empty entry")
	}
	if err := verifySignature("not a key", &SCT{HashAlgorithm: 4}, nil); !errors.Is(err, errAlgorithm) {
		t.Errorf("unknown key: %v", err)
	}
}
