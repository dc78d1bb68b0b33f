package edm

import (
	"slices"
	"time"
)

// The index is a bucketed sorted array, the most compact structure with one random read per
// lookup: the top b bits of a value's 64-bit hash pick a bucket, whose entries (four to eight,
// sorted) each pack 32 more hash bits with the row and column:
//
//	entry = fp<<32 | row<<5 | col     fp = uint32(h >> 5)
//
// 8 bytes per entry plus half a byte per entry of directory: 10 M rows × 4 columns is under
// 340 MB. The b+32 hash bits compared make a false hit about one in 2^30 lookups.
//
// The buckets are split into nParts partitions by their top bits, each with its own directory
// and entry array, so a build can move its staged entries into the index a few partitions at a
// time, freeing them as it goes: its peak is the staging plus a quarter of the index, not the
// staging plus all of it.
const (
	colBits   = 5
	colMask   = 1<<colBits - 1
	namesCol  = colMask // a hit on the words of all name columns of a row together
	maxBucket = 27      // bucket bits: b + 32 fingerprint bits must stay clear of the low colBits
	partBits  = 4
	nParts    = 1 << partBits
	minBucket = partBits
)

func fingerprint(h uint64) uint32 { return uint32(h >> colBits) }

// bucketBits sizes the directory for four to eight entries per bucket: half a byte of directory
// per entry, and a bucket's entries in one or two cache lines.
func bucketBits(n int) uint8 {
	b := minBucket
	for b < maxBucket && 1<<b < n/8 {
		b++
	}
	return uint8(b)
}

// part is one partition of the index: dir[i]..dir[i+1] are bucket i's entries in ent.
type part struct {
	dir []uint32
	ent []uint64
}

// Table is a built or loaded index. It is immutable and safe for concurrent Scan.
type Table struct {
	label   string
	cols    []Column
	rows    int64
	built   time.Time
	minCols int
	minRows int
	maxRows int // MaxRowsPerValue at build

	sk  sipKey
	kcv [8]byte

	bbits uint8
	parts [nParts]part
	// filter is a blocked Bloom filter (two bits in one 64-bit word) of the word hashes of every
	// name and text cell: a scan looks up a word sequence only when all its words pass, which
	// spares most lookups of ordinary prose.
	filter []uint64
	fmask  uint64 // len(filter)-1

	// What the table holds, so a scan only cuts the kinds of candidate it can match.
	kinds     uint16 // kindBit of each kind held
	nameLens  uint16 // bit n: some name value has n words (1..3)
	textLens  uint16 // bit n: some text value has n words (1..MaxTextWords)
	phoneLens uint16 // bit n: some phone key has n < phoneTail digits
	idAlpha   bool   // some ID has no digit: every word must then be looked up as an ID
	ibanLoose bool   // some IBAN fails mod-97: IBAN-shaped text is looked up even when it does
	idMin     uint8  // shortest ID indexed
	numMin    uint8  // fewest digits of a number indexed

	field [colMask + 1]uint8 // column → field number; name columns (and namesCol) share one
}

func kindBit(k kind) uint16 {
	switch k {
	case kName:
		return 1 << 0
	case kText:
		return 1 << 1
	case kEmail:
		return 1 << 2
	case kPhone:
		return 1 << 3
	case kIBAN:
		return 1 << 4
	case kID:
		return 1 << 5
	case kNumber:
		return 1 << 6
	case kDate:
		return 1 << 7
	}
	return 0
}

func (t *Table) has(k kind) bool { return t.kinds&kindBit(k) != 0 }

// Info describes the table.
func (t *Table) Info() Info {
	return Info{
		Label: t.label, Columns: slices.Clone(t.cols), Rows: t.rows, Values: t.entries(),
		Built: t.built, MinColumns: t.minCols, MinRows: t.minRows, MaxRowsPerValue: t.maxRows,
		Bytes: t.bytes(),
	}
}

func (t *Table) bytes() int64 {
	n := int64(len(t.filter)) * 8
	for _, p := range t.parts {
		n += int64(len(p.dir))*4 + int64(len(p.ent))*8
	}
	return n
}

func (t *Table) entries() int64 {
	var n int64
	for _, p := range t.parts {
		n += int64(len(p.ent))
	}
	return n
}

// setFields numbers the fields: each column its own, all name columns one.
func (t *Table) setFields() {
	nameField := -1
	for i, c := range t.cols {
		t.field[i] = uint8(i)
		if c.Type == Name {
			if nameField < 0 {
				nameField = i
			}
			t.field[i] = uint8(nameField)
		}
	}
	if nameField >= 0 {
		t.field[namesCol] = uint8(nameField)
	}
}

// lookup appends a hit at [start, end) for each entry whose hash is h.
func (t *Table) lookup(h uint64, start, end int, hits []hit) []hit {
	b := h >> (64 - uint(t.bbits))
	lb := uint(t.bbits) - partBits
	p := &t.parts[b>>lb]
	b &= 1<<lb - 1
	lo, hi := p.dir[b], p.dir[b+1]
	fp := fingerprint(h)
	for _, e := range p.ent[lo:hi] {
		switch f := uint32(e >> 32); {
		case f == fp:
			hits = append(hits, hit{rc: uint32(e), start: start, end: end})
		case f > fp:
			return hits
		}
	}
	return hits
}

// filterBits are the two bits a word hash sets in its filter word: one memory access per test
// (a blocked Bloom filter).
func filterBits(wh uint64) uint64 { return 1<<(wh>>52&63) | 1<<(wh>>58) }

func (t *Table) filterHas(wh uint64) bool {
	m := filterBits(wh)
	return t.filter[wh&t.fmask]&m == m
}

// staging collects a build's entries in row order, 8 bytes each: the hash with its low colBits
// replaced by the column. The row is implicit: perRow counts each row's entries.
type staging struct {
	chunks [][]uint64
	perRow []uint8
	n      int
}

const chunkSize = 1 << 20

func (s *staging) add(h uint64, col int) {
	if len(s.chunks) == 0 || len(s.chunks[len(s.chunks)-1]) == chunkSize {
		s.chunks = append(s.chunks, make([]uint64, 0, chunkSize))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, h&^colMask|uint64(col))
	s.n++
	s.perRow[len(s.perRow)-1]++
}

// finish moves the staged entries into the index a few partitions at a time: each pass
// scatters its partitions' entries into their buckets and packs the rest of the staging down
// over them, releasing the chunks that empties. Four passes of four partitions walk the
// staging 2.5 times and add a quarter of the index to the peak; sixteen passes of one were
// measured at three times the time for a tenth less memory. Then each bucket is sorted, and
// each run of one fingerprint kept only if it spans at most maxRows distinct rows; exact
// duplicates go.
func (s *staging) finish(maxRows int) (bbits uint8, parts [nParts]part, droppedCommon int64) {
	const perPass = 4
	bbits = bucketBits(s.n)
	shift := 64 - uint(bbits)
	lbits := uint(bbits) - partBits
	lmask := uint64(1)<<lbits - 1
	for p := range parts {
		parts[p].dir = make([]uint32, 1<<lbits+1)
	}
	for _, c := range s.chunks {
		for _, e := range c {
			b := e >> shift
			parts[b>>lbits].dir[b&lmask+1]++
		}
	}
	for first := 0; first < nParts; first += perPass {
		var ents [perPass][]uint64
		for q := range perPass {
			dir := parts[first+q].dir
			for i := 1; i < len(dir); i++ {
				dir[i] += dir[i-1]
			}
			ents[q] = make([]uint64, dir[len(dir)-1])
		}
		// Scatter with dir[b] as bucket b's cursor; afterwards dir[b] is the end of bucket b,
		// so shifting by one restores the starts without a second directory.
		row, left := 0, -1
		wc, wk := 0, 0 // where the next entry of a later pass is packed down to
		for _, c := range s.chunks {
			for _, e := range c {
				for left <= 0 {
					if left == 0 {
						row++
					}
					left = int(s.perRow[row])
				}
				left--
				b := e >> shift
				if q := int(b>>lbits) - first; q >= 0 && q < perPass {
					dir := parts[first+q].dir
					ents[q][dir[b&lmask]] = uint64(fingerprint(e))<<32 | uint64(row)<<colBits | e&colMask
					dir[b&lmask]++
					s.perRow[row]--
					continue
				}
				s.chunks[wc][wk] = e
				if wk++; wk == len(s.chunks[wc]) {
					wc, wk = wc+1, 0
				}
			}
		}
		keep := wc
		if wk > 0 {
			s.chunks[wc] = s.chunks[wc][:wk]
			keep++
		}
		clear(s.chunks[keep:])
		s.chunks = s.chunks[:keep]
		for q := range perPass {
			dir := parts[first+q].dir
			copy(dir[1:], dir[:len(dir)-1])
			dir[0] = 0
			var dropped int64
			parts[first+q].ent, dropped = compact(dir, ents[q], maxRows)
			droppedCommon += dropped
		}
	}
	s.chunks, s.perRow = nil, nil
	return bbits, parts, droppedCommon
}

// compact sorts each bucket and drops common values and duplicates, writing the kept entries
// down over ent and the new bucket starts over dir.
func compact(dir []uint32, ent []uint64, maxRows int) ([]uint64, int64) {
	var dropped int64
	w := uint32(0)
	lo := dir[0]
	for b := 0; b+1 < len(dir); b++ {
		hi := dir[b+1]
		dir[b] = w
		bucket := ent[lo:hi]
		slices.Sort(bucket)
		for i := 0; i < len(bucket); {
			j, rows := i+1, 1
			for j < len(bucket) && bucket[j]>>32 == bucket[i]>>32 {
				if uint32(bucket[j])>>colBits != uint32(bucket[j-1])>>colBits {
					rows++
				}
				j++
			}
			if rows > maxRows {
				dropped += int64(j - i)
				i = j
				continue
			}
			for k := i; k < j; k++ {
				if k == i || bucket[k] != bucket[k-1] {
					ent[w] = bucket[k]
					w++
				}
			}
			i = j
		}
		lo = hi
	}
	dir[len(dir)-1] = w
	ent = ent[:w]
	if cap(ent)-len(ent) > len(ent)/8 {
		ent = slices.Clip(slices.Clone(ent))
	}
	return ent, dropped
}

// bloom is the word filter under construction. A small table's word hashes are kept until the
// end and the filter sized for them; past bloomPending words it switches to a filter of the
// largest size, folded down at the end, which a filter indexed by the low bits of the hash
// allows (OR the halves).
type bloom struct {
	pending []uint64
	words   []uint64
	adds    int64
}

const (
	bloomMaxBits = 1 << 25 // 4 MiB: stays mostly in the last-level cache during a scan
	bloomMinBits = 1 << 12
	bloomPending = 1 << 16
)

func (f *bloom) add(wh uint64) {
	f.adds++
	if f.words == nil {
		if f.pending = append(f.pending, wh); len(f.pending) < bloomPending {
			return
		}
		f.words = make([]uint64, bloomMaxBits/64)
		for _, h := range f.pending {
			f.words[h&(bloomMaxBits/64-1)] |= filterBits(h)
		}
		f.pending = nil
		return
	}
	f.words[wh&(bloomMaxBits/64-1)] |= filterBits(wh)
}

// fold returns the filter at about 16 bits per added word (about 1.5% false passes), between
// bloomMinBits and bloomMaxBits. Folding keeps each word's bits within its filter word, so
// it stays valid.
func (f *bloom) fold() []uint64 {
	nbits := bloomMinBits
	for nbits < bloomMaxBits && int64(nbits) < 16*f.adds {
		nbits <<= 1
	}
	if f.words == nil {
		w := make([]uint64, nbits/64)
		for _, h := range f.pending {
			w[h&uint64(len(w)-1)] |= filterBits(h)
		}
		return w
	}
	w := f.words
	for len(w)*64 > nbits {
		half := len(w) / 2
		for i := 0; i < half; i++ {
			w[i] |= w[half+i]
		}
		w = w[:half]
	}
	return slices.Clip(slices.Clone(w))
}
