package crlscan

import (
	"bytes"
	"errors"
	"math/big"
	"runtime"
	"testing"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

// allocated returns the bytes allocated while f runs (all goroutines: run
// it from a test that is not parallel).
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileEntriesAllocation: a CRL body made of entries that cannot be
// valid (empty SEQUENCEs, SEQUENCEs holding only a serial, entries too
// short to hold a serial and a time) is refused before the index is
// allocated. Before the first pass checked the entries, 64 MiB of `30 00`
// made the scanner allocate 416 MiB (offsets, times and reasons for 32M
// entries) before it failed at the first one.
//
// Not parallel: it measures the process's allocations.
func TestHostileEntriesAllocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 64 MiB CRLs")
	}
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Hostile CA"}))
	const size = 64 << 20
	cases := []struct {
		name    string
		entry   []byte
		maxMul  float64 // allocation bound, as a multiple of the body
		maxFlat uint64  // plus this
	}{
		// SEQUENCE {}: no serial.
		{"empty entries", []byte{0x30, 0x00}, 0, 1 << 20},
		// SEQUENCE { INTEGER 1 }: a serial and nothing else.
		{"serial only", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, 0, 1 << 20},
		// SEQUENCE { OCTET STRING }: no INTEGER where the serial goes.
		{"no INTEGER", []byte{0x30, 0x12, 0x04, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 1 << 20},
		// SEQUENCE { INTEGER 1, UTCTime "9999999999Z" }: 18 bytes, the
		// smallest entry that may be valid, with a time that is not. The
		// index is allocated (the first pass checks only the serial and
		// the size) and must stay below the body's size.
		{"smallest entries, bad time", append([]byte{0x30, 0x10, 0x02, 0x01, 0x01, 0x17, 0x0b}, []byte("9999999999Z")...), 1.0, 1 << 20},
		// The same entries, valid: times without seconds (and, below,
		// with an offset), which crypto/x509 accepts. The index is built:
		// 15 bytes per entry with its hash table, plus 12 bytes per entry
		// the build uses and drops (the hashes, and the entries sorted
		// by stretch of the table), 1.5x an 18-byte entry in all;
		// decoding the times must not allocate, or a forged CRL of 64
		// MiB would make 450 MiB of garbage before its signature is found
		// bad.
		{"smallest valid entries, times without seconds", append([]byte{0x30, 0x10, 0x02, 0x01, 0x01, 0x17, 0x0b}, []byte("2601010000Z")...), 1.6, 1 << 20},
		{"valid entries, times with an offset", append([]byte{0x30, 0x16, 0x02, 0x03, 0x01, 0x02, 0x03, 0x17, 0x0f}, []byte("2601010000+0100")...), 1.6, 1 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := bytes.Repeat(tc.entry, size/len(tc.entry))
			der := testpki.Must(ca.BuildCRL(testpki.CRLTemplate{RawEntries: raw}))
			var err error
			n := allocated(func() {
				var c *CRL
				if c, err = ParseHeader(der); err == nil {
					err = c.ScanEntries()
				}
			})
			var e *Error
			if tc.maxMul < 1.6 && !errors.As(err, &e) {
				t.Fatalf("want a *Error, got %v", err)
			}
			limit := uint64(tc.maxMul*float64(len(raw))) + tc.maxFlat
			t.Logf("%s: %d MiB body, %.1f MiB allocated (%.2fx), limit %.1f MiB: %v",
				tc.name, len(raw)>>20, float64(n)/(1<<20), float64(n)/float64(len(raw)), float64(limit)/(1<<20), err)
			if n > limit {
				t.Errorf("allocated %d bytes for a %d-byte body, want at most %d", n, len(raw), limit)
			}
		})
	}
}

// TestDuplicateSerials: a serial listed twice is found with a revoking
// entry when there is one, whichever comes first; removeFromCRL (8) loses
// to any other reason, and to an entry without a reason.
func TestDuplicateSerials(t *testing.T) {
	t.Parallel()
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Duplicates CA"}))
	x := big.NewInt(0x4242)
	entry := func(reason int) testpki.CRLEntry {
		e := testpki.CRLEntry{Serial: x}
		if reason >= 0 {
			e.Reason = testpki.Reason(reason)
		}
		return e
	}
	cases := []struct {
		name    string
		reasons []int // -1: no reasonCode
		want    uint8
	}{
		{"remove, then keyCompromise", []int{ReasonRemoveFromCRL, 1}, 1},
		{"keyCompromise, then remove", []int{1, ReasonRemoveFromCRL}, 1},
		{"remove, then no reason", []int{ReasonRemoveFromCRL, -1}, NoReason},
		{"remove, remove, hold", []int{ReasonRemoveFromCRL, ReasonRemoveFromCRL, 6}, 6},
		{"two revoking: the first", []int{4, 1}, 4},
		{"remove alone", []int{ReasonRemoveFromCRL}, ReasonRemoveFromCRL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tmpl testpki.CRLTemplate
			// Other serials around, so that the duplicates are not alone
			// in the table.
			for i := range 50 {
				tmpl.Entries = append(tmpl.Entries, testpki.CRLEntry{Serial: big.NewInt(int64(i + 1))})
			}
			for _, r := range tc.reasons {
				tmpl.Entries = append(tmpl.Entries, entry(r))
			}
			for i := range 50 {
				tmpl.Entries = append(tmpl.Entries, testpki.CRLEntry{Serial: big.NewInt(int64(100000 + i))})
			}
			der := testpki.Must(ca.BuildCRL(tmpl))
			c, _ := compareWithX509(t, der)
			if c == nil {
				t.Fatal("rejected")
			}
			e, ok := c.Lookup(x)
			if !ok || e.Reason != tc.want {
				t.Errorf("lookup: listed %v, reason %d; want reason %d", ok, e.Reason, tc.want)
			}
		})
	}
}
