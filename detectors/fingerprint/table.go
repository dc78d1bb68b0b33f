package fingerprint

import "math/bits"

// table maps print hashes to file IDs in about 4 bytes per entry. Entries are sorted by hash and
// bucketed by the hash's top bBits bits (8 to 16 entries a bucket); an entry packs the next rBits
// bits of the hash and the file ID into rBits+fBits bits of a bit array. The remaining hash bits
// are dropped: a lookup then finds a wrong entry about once in 5,000 (12/2^16), that is about
// once in 15 scans of 16 KiB, each time for a random file, while a match needs 2 or 3 prints of
// one file: a spurious hit cannot make one. Each residue bit more would cost 3% of the index.
type table struct {
	bBits, rBits, fBits uint
	buckets             []uint32 // entry offsets: bucket i is entries [buckets[i], buckets[i+1])
	words               []uint64 // packed entries, plus one zero word so reads need no bounds branch
	n                   int
}

const (
	residueBits   = 16
	bucketEntries = 16
)

// entry is a print hash and the file it was found in, during Build.
type entry struct {
	h uint64
	f uint32
}

// newTable sizes a table for about n entries of nFiles files.
func newTable(n, nFiles int) table {
	t := table{rBits: residueBits, fBits: uint(max(1, bits.Len(uint(max(nFiles-1, 0)))))}
	for n>>t.bBits > bucketEntries && t.bBits < 40 {
		t.bBits++
	}
	return t
}

// fill packs entries, which must be sorted by (key, file) with no two equal.
func (t *table) fill(es []entry) {
	t.n = len(es)
	t.buckets = make([]uint32, (1<<t.bBits)+1)
	width := t.rBits + t.fBits
	t.words = make([]uint64, (uint(len(es))*width+63)/64+1)
	for i, e := range es {
		b, r := t.split(e.h)
		t.buckets[b+1] = uint32(i + 1)
		t.put(i, r<<t.fBits|uint64(e.f))
	}
	for i := 1; i < len(t.buckets); i++ { // empty buckets end where the previous one did
		t.buckets[i] = max(t.buckets[i], t.buckets[i-1])
	}
}

// split returns a hash's bucket and residue.
func (t *table) split(h uint64) (uint64, uint64) {
	var b uint64
	if t.bBits > 0 {
		b = h >> (64 - t.bBits)
	}
	return b, h << t.bBits >> (64 - t.rBits)
}

// trunc clears the bits of a hash the table does not keep: entries whose truncated hashes are
// equal are one print.
func (t *table) trunc(h uint64) uint64 {
	return h >> (64 - t.bBits - t.rBits) << (64 - t.bBits - t.rBits)
}

func (t *table) put(i int, v uint64) {
	width := t.rBits + t.fBits
	bit := uint(i) * width
	w, off := bit>>6, bit&63
	t.words[w] |= v << off
	if off+width > 64 {
		t.words[w+1] |= v >> (64 - off)
	}
}

func (t *table) get(i uint32) uint64 {
	width := t.rBits + t.fBits
	bit := uint(i) * width
	w, off := bit>>6, bit&63
	v := t.words[w]>>off | t.words[w+1]<<(64-off) // a shift by 64 is 0 in Go
	return v & (1<<width - 1)
}

// lookupAll appends to sc.hits a hit for each file of class that holds one of prints. It reads
// all the bucket bounds first and then all the buckets: in a table too large for the caches each
// read misses, and independent reads in a row overlap where a lookup at a time would wait for
// each miss in turn.
func (t *table) lookupAll(prints []Print, ix uint32, class uint8, files []fileInfo, sc *scanScratch) []hit {
	hits := sc.hits
	if t.n == 0 {
		return hits
	}
	bounds := sc.bounds[:0]
	for _, p := range prints {
		b, _ := t.split(p.Hash)
		bounds = append(bounds, [2]uint32{t.buckets[b], t.buckets[b+1]})
	}
	sc.bounds = bounds
	fmask := uint64(1)<<t.fBits - 1
	for pi, p := range prints {
		_, r := t.split(p.Hash)
		for i, end := bounds[pi][0], bounds[pi][1]; i < end; i++ {
			v := t.get(i)
			vr := v >> t.fBits
			if vr > r { // entries are sorted
				break
			}
			if f := uint32(v & fmask); vr == r && files[f].class == class {
				hits = append(hits, hit{ix, f, uint32(pi), p.Hash})
			}
		}
	}
	return hits
}

func (t *table) memSize() int64 {
	return int64(len(t.buckets))*4 + int64(len(t.words))*8
}
