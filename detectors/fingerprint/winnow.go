package fingerprint

import "math"

// Winnowing (Schleimer, Wilkerson, Aiken, SIGMOD 2003): hash every k-gram of tokens and keep, in
// each window of w consecutive k-gram hashes, the minimum (robust variant: on a tie the earlier
// selection stays). Two texts that share a run of at least w+k-1 tokens are guaranteed to share a
// selected print, whatever surrounds the run, and about 2/(w+1) of the k-grams are selected.
//
// Selection compares the unkeyed rolling hashes; only selected k-grams are then keyed with
// SipHash, which keeps the keyed PRF off the per-token path. The unkeyed values never leave the
// process, so an index still holds nothing computable without the key.
//
// Lexers append tokens to a batch and feed runs the rolling hash and the window over the batch
// with its state in locals: calling a method per token that kept the state in the struct cost
// three times as much.

const (
	rollBase = 0x100000001b3 // odd, so multiplication is invertible mod 2^64
	// unselectable marks a k-gram that may not be chosen (too little structure).
	unselectable = math.MaxUint64
	maxK         = 256
	maxW         = 1024
	batchLen     = 1024
)

// tok is one token: its value and its byte span in the text.
type tok struct {
	v          uint64
	start, end int
}

// winnower turns a token stream into selected prints. It is reused across texts (reset) so the
// hot path allocates nothing but the output.
type winnower struct {
	k, w     int
	minStruc int // code: fewest structural tokens (see structural) in a selectable k-gram
	key      sipKey
	bk       uint64 // rollBase^(k-1): the weight of the oldest token, removed before the shift

	// The last k+w tokens (values and spans) and the last w k-grams' selection values, in
	// power-of-two rings indexed by token and k-gram number: a selected k-gram's span is read
	// back from its tokens when it is emitted.
	ring       []tok
	mv         []uint64
	mask       int
	ntok       int
	h          uint64
	struc      int // structural tokens among the last k
	minIdx     int // k-gram index of the current minimum
	minVal     uint64
	emittedIdx int

	batch []tok
	para  []tok // document: the current paragraph
	out   []Print
	tap   func([]tok) // tests: sees every token
}

func newWinnower(k, w, minStruc int, key sipKey) *winnower {
	bk := uint64(1)
	for range k - 1 {
		bk *= rollBase
	}
	n := 1
	for n < k+w {
		n <<= 1
	}
	return &winnower{
		k: k, w: w, minStruc: minStruc, key: key, bk: bk,
		ring: make([]tok, n), mv: make([]uint64, n), mask: n - 1,
		batch: make([]tok, 0, batchLen),
	}
}

func (wn *winnower) reset(out []Print) {
	wn.ntok, wn.h, wn.struc = 0, 0, 0
	wn.minIdx, wn.minVal, wn.emittedIdx = 0, unselectable, -1
	wn.batch = wn.batch[:0]
	wn.out = out
}

// push appends one token to the batch.
func (wn *winnower) push(v uint64, start, end int) {
	wn.batch = append(wn.batch, tok{v, start, end})
	if len(wn.batch) == batchLen {
		wn.feed(wn.batch)
		wn.batch = wn.batch[:0]
	}
}

// feed runs tokens through the rolling hash and the window.
func (wn *winnower) feed(toks []tok) {
	if wn.tap != nil {
		wn.tap(toks)
	}
	k, w, mask := wn.k, wn.w, wn.mask
	ring, mv := wn.ring[:mask+1], wn.mv[:mask+1]
	ntok, h, struc, bk := wn.ntok, wn.h, wn.struc, wn.bk
	minIdx, minVal, emitted := wn.minIdx, wn.minVal, wn.emittedIdx
	minStruc := wn.minStruc
	for _, t := range toks {
		if ntok >= k {
			out := ring[(ntok-k)&mask].v
			h -= out * bk
			struc -= int(out & 1)
		}
		h = h*rollBase + t.v
		struc += int(t.v & 1)
		ring[ntok&mask] = t
		ntok++
		if ntok < k {
			continue
		}
		// The rolling hash itself is the selection value: its high bits, which decide the
		// comparisons, depend on every token (measured: density stays 2/(w+1) without a mix).
		m := uint64(unselectable)
		if struc >= minStruc {
			m = h
			if m == unselectable {
				m--
			}
		}
		i := ntok - k // this k-gram's index: the index of its first token
		mv[i&mask] = m
		switch {
		case m < minVal:
			minIdx, minVal = i, m
		case i-minIdx >= w:
			// the minimum left the window: find the new one, the rightmost on a tie, so that it
			// stays longest
			minVal = unselectable
			for j := i - w + 1; j <= i; j++ {
				if v := mv[j&mask]; v <= minVal {
					minIdx, minVal = j, v
				}
			}
		}
		if i >= w-1 && minIdx != emitted && minVal != unselectable {
			emitted = minIdx
			wn.out = append(wn.out, Print{Hash: wn.key.Sum64(minVal), Start: ring[minIdx&mask].start, End: ring[(minIdx+k-1)&mask].end})
		}
	}
	wn.ntok, wn.h, wn.struc = ntok, h, struc
	wn.minIdx, wn.minVal, wn.emittedIdx = minIdx, minVal, emitted
}

// emit appends the print of k-gram i, whose selection value is m.
func (wn *winnower) emit(i int, m uint64) {
	wn.emittedIdx = i
	wn.out = append(wn.out, Print{Hash: wn.key.Sum64(m), Start: wn.ring[i&wn.mask].start, End: wn.ring[(i+wn.k-1)&wn.mask].end})
}

// finish feeds the last batch and returns the prints. A text shorter than one window gets its
// minimum k-gram as its print, so that the same short text on both sides still matches.
func (wn *winnower) finish() []Print {
	wn.feed(wn.batch)
	wn.batch = wn.batch[:0]
	if nk := wn.ntok - wn.k + 1; nk > 0 && nk < wn.w && wn.minVal != unselectable {
		wn.emit(wn.minIdx, wn.minVal)
	}
	return wn.out
}

// fmix64 is MurmurHash3's finaliser: it turns small distinct numbers (punctuation bytes, tags,
// code points) into well-spread token values.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
