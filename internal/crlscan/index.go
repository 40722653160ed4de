package crlscan

import (
	"bytes"
	"hash/maphash"
	"math/bits"
	"slices"
	"sort"
	"sync"
)

// index holds a CRL's entries in flat slices and finds a serial with one
// hash, a short walk over a cluster of slots and (almost always) one
// comparison of serials.
//
// Layout, for n entries with serials of s bytes on average:
//
//	blob    []byte   the serials, concatenated           s bytes/entry
//	offs    []uint32 start of entry i's serial; n+1        4 bytes/entry
//	times   []uint32 revocationDate, Unix seconds          4 bytes/entry
//	                 (farTime for dates before 1970 or
//	                 from 2106: those are kept in far)
//	reasons []uint8  reasonCode or NoReason                1 byte/entry
//	slots   []uint32 open addressing, linear probing:      5.3 bytes/entry
//	                 load factor 3/4, 0 when empty; the low
//	                 idxBits hold entry index + 1, the high bits a
//	                 fingerprint of the hash (12 bits for a million
//	                 entries), so that probing rarely touches a serial
//	                 that does not match
//
// With 16- to 20-byte serials (what CAs issue) that is 30 to 35 bytes per
// entry (measured: 31.1 at 10k, 100k and 1M entries of 16-byte serials).
// A lookup takes 50 to 150 ns from a *big.Int (docs/PERFORMANCE.md). The
// hash is maphash with a seed per CRL, so colliding serials cannot be
// chosen in advance by whoever writes the CRL.
type index struct {
	seed    maphash.Seed
	blob    []byte
	offs    []uint32
	times   []uint32
	far     []farEntry // sorted by entry
	reasons []uint8
	slots   []uint32
	idxBits uint8

	// hashes holds the entries' hashes, from put (which hashes a serial
	// while it is in cache) to build.
	hashes []uint32
}

// farTime marks, in times, an entry whose revocation time is in far.
const farTime = 1<<32 - 1

// farEntry is a revocation time that does not fit in 32 bits of Unix
// seconds; valid CRLs have none.
type farEntry struct {
	i  uint32
	at int64
}

func (x *index) len() int { return len(x.times) }

func (x *index) time(i int) int64 {
	if t := x.times[i]; t != farTime {
		return int64(t)
	}
	k := sort.Search(len(x.far), func(k int) bool { return x.far[k].i >= uint32(i) })
	return x.far[k].at
}

func (x *index) serial(i int) []byte { return x.blob[x.offs[i]:x.offs[i+1]] }

func (x *index) entry(i int) Entry {
	return Entry{Serial: x.serial(i), RevokedAt: x.time(i), Reason: x.reasons[i]}
}

func (x *index) size() int {
	return cap(x.blob) + 4*cap(x.offs) + 4*cap(x.times) + 16*cap(x.far) + cap(x.reasons) + 4*cap(x.slots)
}

// find returns the index of the entry for serial that build chose: the
// first that does not say removeFromCRL, or the first. A serial may have
// more than one entry in the table (see fill): find looks at the whole
// cluster, up to the first empty slot, as it does for a serial that is
// not listed.
func (x *index) find(serial []byte) (int, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	h := uint32(maphash.Bytes(x.seed, serial))
	fp, idxMask := x.fingerprint(h), uint32(1)<<x.idxBits-1
	best := -1
	for p := x.home(h); ; p = x.next(p) {
		e := x.slots[p]
		if e == 0 {
			return best, best >= 0
		}
		if e&^idxMask == fp {
			if i := int(e&idxMask) - 1; bytes.Equal(x.serial(i), serial) && (best < 0 || x.prefer(i, best)) {
				best = i
			}
		}
	}
}

// home is the slot where probing for hash h starts: h mapped onto the
// table, whose size need not be a power of two. It grows with h, so that
// the entries of one stretch of the table are those of a range of hashes.
func (x *index) home(h uint32) int {
	return int(uint64(h) * uint64(len(x.slots)) >> 32)
}

// next is the slot probed after p (linear probing, wrapping around).
func (x *index) next(p int) int {
	if p++; p == len(x.slots) {
		return 0
	}
	return p
}

// fingerprint returns the bits of a slot above the entry index: the
// high bits of h multiplied by an odd constant, which mixes its low bits
// (those that tell apart the hashes of one neighbourhood of the table)
// into them.
func (x *index) fingerprint(h uint32) uint32 {
	if x.idxBits >= 32 {
		return 0
	}
	return (h * 0x9e3779b1) >> x.idxBits << x.idxBits
}

// newIndex allocates an index for n entries whose serials take
// serialBytes in all; put fills it and build makes the hash table.
func newIndex(n, serialBytes int) index {
	return index{
		seed:    maphash.MakeSeed(),
		blob:    make([]byte, serialBytes),
		offs:    make([]uint32, n+1),
		times:   make([]uint32, n),
		reasons: make([]uint8, n),
		hashes:  make([]uint32, n),
	}
}

// grow makes room for n entries whose serials take serialBytes in all
// (when newIndex's prediction was short).
func (x *index) grow(n, serialBytes int) {
	if n > len(x.times) {
		x.offs = append(x.offs, make([]uint32, n-len(x.times))...)
		x.times = append(x.times, make([]uint32, n-len(x.times))...)
		x.reasons = append(x.reasons, make([]uint8, n-len(x.reasons))...)
		x.hashes = append(x.hashes, make([]uint32, n-len(x.hashes))...)
	}
	if serialBytes > len(x.blob) {
		x.blob = append(x.blob, make([]byte, serialBytes-len(x.blob))...)
	}
}

// trim cuts the index to its first n entries, and copies it to slices of
// the right size when the prediction was long by more than 1/8.
func (x *index) trim(n int) {
	used := int(x.offs[n])
	x.offs, x.times, x.reasons, x.blob = x.offs[:n+1], x.times[:n], x.reasons[:n], x.blob[:used]
	x.hashes = x.hashes[:n]
	if cap(x.times)-n > n/8+16 {
		x.offs, x.times, x.reasons = slices.Clip(slices.Clone(x.offs)), slices.Clip(slices.Clone(x.times)), slices.Clip(slices.Clone(x.reasons))
	}
	if cap(x.blob)-used > used/8+64 {
		x.blob = slices.Clip(slices.Clone(x.blob))
	}
}

// put stores entry i (entries are put in order, 0 first). It reports false
// when the serials overflow the size given to newIndex.
func (x *index) put(i int, serial []byte, at int64, reason uint8) bool {
	pos := int(x.offs[i])
	if len(serial) > len(x.blob)-pos {
		return false
	}
	copy(x.blob[pos:], serial)
	x.offs[i+1] = uint32(pos + len(serial))
	if at >= 0 && at < farTime {
		x.times[i] = uint32(at)
	} else {
		x.times[i] = farTime
		x.far = append(x.far, farEntry{uint32(i), at})
	}
	x.reasons[i] = reason
	x.hashes[i] = uint32(maphash.Bytes(x.seed, serial))
	return true
}

// Building the table of a large CRL by inserting the entries in CRL order
// would probe slots all over a table of megabytes: a cache miss per entry,
// which was most of the cost of loading. build instead sorts the entries
// by stretch of the table (a radix pass: count, then scatter), then fills
// each stretch, which fits in the CPU's cache, from counts of its entries
// by home slot: the entries of a home take the slots from the first one
// after the entries of lower homes, which is where linear probing would
// have put them, without probing.
const (
	// partitionFrom is the number of entries from which build sorts them
	// first: below it, the table fits in cache anyway.
	partitionFrom = 1 << 14
	// partitionBits sets the number of stretches: at most 512, of 4096
	// slots (16 KiB) for a million entries.
	partitionBits = 9
	// parallelBuild is the number of entries from which two goroutines
	// share the build.
	parallelBuild = 1 << 16
	// maxStretchFactor times the width of a stretch is the number of
	// entries above which its entries are placed one by one, by probing,
	// which keeps one entry per serial: a stretch holds about 3/4 of its
	// width on average (the hashes are uniform), more only when serials
	// repeat (copies share a home). Below it, copies each take a slot
	// (see fill), so that a cluster of slots never holds more than about
	// twice a stretch's width in copies.
	maxStretchFactor = 2
)

// pendingSlot is an entry on its way into the table: its home slot and
// its slot value (fingerprint and entry index + 1).
type pendingSlot struct{ home, val uint32 }

// slotOf returns entry i's home and slot value.
func (x *index) slotOf(i int) pendingSlot {
	h := x.hashes[i]
	return pendingSlot{uint32(x.home(h)), x.fingerprint(h) | uint32(i+1)}
}

// build makes the hash table once every entry is put. Lookups find the
// same entry for a serial whatever the order of insertion (see prefer),
// so the table does not depend on how build splits the work.
func (x *index) build() {
	n := len(x.times)
	defer func() { x.hashes = nil }()
	if n == 0 {
		return
	}
	// Load factor at most 3/4, without rounding up to a power of two
	// (which would leave a million-entry table half empty).
	m := n + n/3 + 1
	x.slots = make([]uint32, m)
	x.idxBits = uint8(bits.Len(uint(n)))
	if n < partitionFrom {
		for i := range n {
			x.place(x.slotOf(i), 0, m, true)
		}
		return
	}
	shift := uint(max(bits.Len(uint(m))-partitionBits, 0))
	parts := int((m-1)>>shift) + 1
	workers := 1
	if n >= parallelBuild {
		workers = 2
	}
	// Radix pass: each worker counts the entries of its share by
	// stretch, then scatters them to their places in sorted.
	type share struct {
		from, to int
		next     [1 << partitionBits]int
	}
	shares := make([]share, workers)
	for w := range shares {
		shares[w].from, shares[w].to = n*w/workers, n*(w+1)/workers
	}
	x.parallel(workers, func(w int) {
		sh := &shares[w]
		for _, h := range x.hashes[sh.from:sh.to] {
			sh.next[x.home(h)>>shift]++
		}
	})
	var bounds [1<<partitionBits + 1]int
	at := 0
	for p := range parts {
		bounds[p] = at
		for w := range shares {
			c := shares[w].next[p]
			shares[w].next[p] = at
			at += c
		}
	}
	bounds[parts] = n
	sorted := make([]pendingSlot, n)
	x.parallel(workers, func(w int) {
		sh := &shares[w]
		for i := sh.from; i < sh.to; i++ {
			s := x.slotOf(i)
			p := s.home >> shift
			sorted[sh.next[p]] = s
			sh.next[p]++
		}
	})
	// Fill: two workers, each the stretches of its half of the table,
	// writing only there; the entries that would spill into the other
	// half (or wrap around) wait, and are placed once both are done.
	var spills [2][]pendingSlot
	if workers == 1 {
		spills[0] = x.fill(sorted, bounds[:parts+1], shift, m)
	} else {
		half := parts / 2
		x.parallel(2, func(w int) {
			if w == 0 {
				spills[0] = x.fill(sorted, bounds[:half+1], shift, half<<shift)
			} else {
				spills[1] = x.fill(sorted, bounds[half:parts+1], shift, m)
			}
		})
	}
	for _, sp := range spills {
		for _, s := range sp {
			x.place(s, 0, m, true)
		}
	}
}

// parallel runs f(0) ... f(workers-1) at once and waits for them.
func (x *index) parallel(workers int, f func(w int)) {
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { f(w) })
	}
	f(0)
	wg.Wait()
}

// fill puts the entries of consecutive stretches in the table, below
// limit: the entries of a stretch are ss[bounds[k]:bounds[k+1]]. It
// returns the entries that would go at or after limit.
//
// Within a stretch, the entries are counted by home slot; the entries of
// home h then take consecutive slots (in CRL order) from max(h, the slot
// after the entries of lower homes). A serial listed more than once (a
// CRL that does so is malformed anyway) has a slot per copy, all in one
// cluster, and find picks among them as prefer says.
func (x *index) fill(ss []pendingSlot, bounds []int, shift uint, limit int) (spill []pendingSlot) {
	width := 1 << shift
	count := make([]int32, width)
	cur := 0 // the first slot after the entries placed
	for k := 0; k+1 < len(bounds); k++ {
		part := ss[bounds[k]:bounds[k+1]]
		if len(part) == 0 {
			continue
		}
		if len(part) > maxStretchFactor*width {
			// Repeated serials (a hostile CRL): probe.
			for _, s := range part {
				if p := x.place(s, 0, limit, false); p < 0 {
					spill = append(spill, s)
				} else {
					cur = max(cur, p+1)
				}
			}
			continue
		}
		base := int(part[0].home>>shift) << shift
		clear(count)
		for _, s := range part {
			count[int(s.home)-base]++
		}
		// Each home's count becomes the slot of its first entry.
		for h, c := range count {
			cur = max(cur, base+h)
			count[h] = int32(cur)
			cur += int(c)
		}
		for _, s := range part {
			h := int(s.home) - base
			p := int(count[h])
			count[h]++
			if p >= limit {
				spill = append(spill, s)
				continue
			}
			x.slots[p] = s.val
		}
	}
	return spill
}

// place puts s in the first free slot from its home, probing up to hi and
// then, when wrap is set, from lo, and returns the slot; -1 when it
// reached hi without wrap. A slot holding the same serial is kept or
// replaced as prefer says (and returned).
func (x *index) place(s pendingSlot, lo, hi int, wrap bool) int {
	idxMask := uint32(1)<<x.idxBits - 1
	fp, i := s.val&^idxMask, int(s.val&idxMask)-1
	for p := int(s.home); ; p++ {
		if p >= hi {
			if !wrap {
				return -1
			}
			p = lo
		}
		e := x.slots[p]
		if e == 0 {
			x.slots[p] = s.val
			return p
		}
		if e&^idxMask != fp {
			continue
		}
		if j := int(e&idxMask) - 1; bytes.Equal(x.serial(j), x.serial(i)) {
			// A repeated serial: keep the preferred entry.
			if x.prefer(i, j) {
				x.slots[p] = s.val
			}
			return p
		}
	}
}

// prefer reports whether entry i, rather than j, should stand for their
// common serial: an entry that revokes over one that says removeFromCRL,
// and otherwise the first. That is "the first entry wins, unless it says
// removeFromCRL and a later one revokes", whatever the order of insertion.
func (x *index) prefer(i, j int) bool {
	ri, rj := x.reasons[i] != ReasonRemoveFromCRL, x.reasons[j] != ReasonRemoveFromCRL
	if ri != rj {
		return ri
	}
	return i < j
}
