package crlscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// cryptobyteTime decodes contents v of a time of tag with cryptobyte, as
// crypto/x509 does.
func cryptobyteTime(tag cbasn1.Tag, v []byte) (int64, bool) {
	var b cryptobyte.Builder
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(v) })
	s := cryptobyte.String(b.BytesOrPanic())
	var t time.Time
	if tag == cbasn1.UTCTime && !s.ReadASN1UTCTime(&t) || tag == cbasn1.GeneralizedTime && !s.ReadASN1GeneralizedTime(&t) {
		return 0, false
	}
	return t.Unix(), true
}

// checkDecodeTime fails when decodeTime accepts what cryptobyte refuses,
// or decodes it differently; it returns whether cryptobyte accepts v and
// decodeTime does not (a miss: readTime then falls back to cryptobyte).
func checkDecodeTime(t *testing.T, tag cbasn1.Tag, v []byte) (miss bool) {
	t.Helper()
	want, wok := cryptobyteTime(tag, v)
	got, ok := decodeTime(uint8(tag), v)
	if ok && (!wok || got != want) {
		t.Fatalf("tag %d %q: decodeTime %d, cryptobyte %d (ok %v)", tag, v, got, want, wok)
	}
	// readTime agrees whatever decodeTime says.
	var b cryptobyte.Builder
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(v) })
	s := cryptobyte.String(b.BytesOrPanic())
	if rt, rok := readTime(&s); rok != wok || rok && rt != want {
		t.Fatalf("tag %d %q: readTime %d %v, cryptobyte %d %v", tag, v, rt, rok, want, wok)
	}
	return wok && !ok
}

// TestDecodeTimeAgrees: decodeTime, the allocation-free decoder of entry
// times, never accepts what cryptobyte refuses, decodes what it accepts to
// the same second, and misses nothing cryptobyte accepts, on the forms of
// every field (zones, offsets, fractions, which cryptobyte refuses,
// two-digit years, leap days) and on random strings.
func TestDecodeTimeAgrees(t *testing.T) {
	t.Parallel()
	zones := []string{"Z", "", "z", "+0100", "-0100", "+0000", "-0000", "+2400", "-2400", "+2459", "+2500", "+0060", "+0059",
		"-2359", "+1", "+01", "+0100Z", "Z+0100", "+01:00", " Z", "0Z"}
	fracs := []string{"", ".5", ".05", ".50", ".0", ".000", ".123456789", ".1234567890", ".999999999", ",5", ".", ".5.5", ".-5"}
	stamps2 := []string{"2601151200", "260115120059", "260229120000", "240229120000", "500229120000", "520229120000", "491231235959",
		"500101000000", "690101000000", "681231235959", "000229000000", "991231235959", "261301000000", "260132000000",
		"260115240000", "260115236000", "260115235960", "26011512", "2601151200005", "2601151200590"}
	stamps4 := []string{"20260115120059", "20240229120000", "20230229120000", "19000229000000", "20000229000000", "00000101000000",
		"99991231235959", "16010101000000", "20261301000000", "2026011512005", "202601151200599", "20260115240000"}
	misses := 0
	for _, z := range zones {
		for _, s := range stamps2 {
			if checkDecodeTime(t, cbasn1.UTCTime, []byte(s+z)) {
				misses++
				t.Errorf("UTCTime %q: cryptobyte accepts, decodeTime does not", s+z)
			}
			for _, f := range fracs {
				checkDecodeTime(t, cbasn1.UTCTime, []byte(s+f+z))
			}
		}
		for _, s := range stamps4 {
			for _, f := range fracs {
				if checkDecodeTime(t, cbasn1.GeneralizedTime, []byte(s+f+z)) {
					misses++
					t.Errorf("GeneralizedTime %q: cryptobyte accepts, decodeTime does not", s+f+z)
				}
			}
		}
	}
	// Every offset.
	for sign := range 2 {
		for hh := range 26 {
			for mm := range 62 {
				z := fmt.Sprintf("%c%02d%02d", "+-"[sign], hh, mm)
				checkDecodeTime(t, cbasn1.UTCTime, []byte("260115120059"+z))
				checkDecodeTime(t, cbasn1.UTCTime, []byte("2601151200"+z))
				checkDecodeTime(t, cbasn1.GeneralizedTime, []byte("20260115120059"+z))
				checkDecodeTime(t, cbasn1.GeneralizedTime, []byte("20260115120059.25"+z))
			}
		}
	}
	// Random strings over the characters that matter.
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789000000111122Z+-.,"
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	var buf []byte
	for range n {
		tag := cbasn1.UTCTime
		if rng.IntN(2) == 0 {
			tag = cbasn1.GeneralizedTime
		}
		buf = buf[:0]
		// Mostly digits first, then anything.
		lead := 10 + rng.IntN(6)
		for range lead {
			buf = append(buf, '0'+byte(rng.IntN(3)))
		}
		for range rng.IntN(10) {
			buf = append(buf, alphabet[rng.IntN(len(alphabet))])
		}
		if checkDecodeTime(t, tag, bytes.Clone(buf)) {
			misses++
			if misses < 10 {
				t.Errorf("tag %d %q: cryptobyte accepts, decodeTime does not", tag, buf)
			}
		}
	}
}

// TestReadTimeNoAlloc: decoding entry times allocates nothing, whichever
// form cryptobyte would accept.
func TestReadTimeNoAlloc(t *testing.T) {
	for _, tc := range []struct {
		tag cbasn1.Tag
		v   string
	}{
		{cbasn1.UTCTime, "260115120059Z"},
		{cbasn1.UTCTime, "2601151200Z"},
		{cbasn1.UTCTime, "260115120059+0130"},
		{cbasn1.UTCTime, "2601151200-0130"},
		{cbasn1.GeneralizedTime, "20260115120059Z"},
		{cbasn1.GeneralizedTime, "20260115120059-2400"},
	} {
		var b cryptobyte.Builder
		b.AddASN1(tc.tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(tc.v)) })
		der := b.BytesOrPanic()
		allocs := testing.AllocsPerRun(100, func() {
			s := cryptobyte.String(der)
			if _, ok := readTime(&s); !ok {
				t.Fatalf("%q refused", tc.v)
			}
		})
		if allocs != 0 {
			t.Errorf("%q: %.0f allocations", tc.v, allocs)
		}
	}
}
