package extract

import (
	"errors"
	"fmt"
	"unicode/utf16"
)

// LZString's decompressFromBase64 (pieroxy/lz-string 1.4), which posthog-js uses for
// compression=lz64. It is an LZW variant over UTF-16 code units: each token is a dictionary
// index of the current width (literals are introduced by codes 0 and 1, code 2 ends the stream),
// and each new entry is the previous entry plus the first unit of the next one.
//
// Written by hand rather than ported naively because the reference keeps every dictionary entry
// as a separate string: n tokens can make O(n²) bytes of dictionary and of output, so a few
// hundred kilobytes of input can ask for gigabytes (an "lz64 bomb"). Here every entry is an
// (offset, length) window into the output decoded so far — an entry is always a run that was
// already written — so memory is the output plus 8 bytes per entry, and output stops at a cap.

var (
	errLZ64Truncated = errors.New("lz64: input ends before the end-of-stream code")
	errLZ64Limit     = errors.New("lz64: decoded size exceeds the limit")
)

// lz64Alphabet maps a base64 character to its 6-bit value; -1 marks bytes outside the
// alphabet. '=' is padding and reads as zero bits, as in the reference.
var lz64Alphabet = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = int8(i)
	}
	t['='] = 0
	return t
}()

// lz64Reader yields the bits of the input, most significant of each 6-bit character first.
type lz64Reader struct {
	in    string
	index int   // next character to load
	val   int   // current character's value
	mask  int   // next bit of val to hand out; 0 when val is spent
	err   error // first bad character or the end of the input
}

func (r *lz64Reader) bits(n int) int {
	v := 0
	for i := 0; i < n; i++ {
		if r.mask == 0 {
			if r.index >= len(r.in) {
				if r.err == nil {
					r.err = errLZ64Truncated
				}
				return v
			}
			c := lz64Alphabet[r.in[r.index]]
			if c < 0 {
				if r.err == nil {
					r.err = fmt.Errorf("lz64: invalid character %q at offset %d", r.in[r.index], r.index)
				}
				return v
			}
			r.val, r.mask = int(c), 32
			r.index++
		}
		if r.val&r.mask != 0 {
			v |= 1 << i
		}
		r.mask >>= 1
	}
	return v
}

// lz64Entry is a dictionary entry: out[off:off+n].
type lz64Entry struct{ off, n uint32 }

// lz64MaxUnits caps any one decode whatever the caller's budget: the dictionary costs up to
// 16 bytes per output unit (a literal token adds two entries), so 4 Mi units bound a bomb to
// about 80 MB while leaving room for posthog-js batches, which are far smaller.
const lz64MaxUnits = 4 << 20

// decodeLZ64 decompresses s, produced by LZString.compressToBase64, into at most limit UTF-16
// code units (at most 3*limit bytes of UTF-8). On bad or truncated input, or at the limit, it
// returns what it decoded with the error.
func decodeLZ64(s string, limit int) (string, error) {
	limit = min(max(limit, 0), lz64MaxUnits)
	if s == "" {
		return "", nil
	}
	r := &lz64Reader{in: s}
	out := make([]uint16, 0, min(len(s)*3, limit))
	// Codes 0-2 are control codes; entries start at 3 as in the reference.
	dict := make([]lz64Entry, 3, 64)
	numBits, enlargeIn := 3, 4
	w := lz64Entry{} // the entry written last

	for token := 0; ; token++ {
		width := numBits
		if token == 0 {
			width = 2 // the first token is narrower, and must be a literal
		}
		c := r.bits(width)
		if r.err != nil {
			return decodeUTF16(out), r.err
		}
		var lit uint16
		isLit := false
		switch c {
		case 0, 1:
			lit = uint16(r.bits(8 << c))
			if r.err != nil {
				return decodeUTF16(out), r.err
			}
			isLit = true
			c = len(dict)
			dict = append(dict, lz64Entry{uint32(len(out)), 1})
			if token > 0 {
				enlargeIn--
			}
		case 2:
			return decodeUTF16(out), nil
		default:
			if token == 0 {
				return "", fmt.Errorf("lz64: stream starts with code %d, not a literal", c)
			}
		}
		if enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}

		start := len(out)
		switch {
		case isLit:
			if start+1 > limit {
				return decodeUTF16(out), errLZ64Limit
			}
			out = append(out, lit)
		case c >= 3 && c < len(dict):
			ent := dict[c]
			if start+int(ent.n) > limit {
				return decodeUTF16(out), errLZ64Limit
			}
			out = append(out, out[ent.off:ent.off+ent.n]...)
		case c == len(dict):
			// The entry this token is about to define: w plus w's first unit.
			if start+int(w.n)+1 > limit {
				return decodeUTF16(out), errLZ64Limit
			}
			out = append(out, out[w.off:w.off+w.n]...)
			out = append(out, out[w.off])
		default:
			return decodeUTF16(out), fmt.Errorf("lz64: invalid code %d at offset %d (dictionary has %d entries)", c, r.index, len(dict))
		}
		if token > 0 {
			// w plus the first unit written now is the run from w's start to one unit past its
			// end, because this entry was written right after w.
			dict = append(dict, lz64Entry{w.off, w.n + 1})
			enlargeIn--
			if enlargeIn == 0 {
				enlargeIn = 1 << numBits
				numBits++
			}
		}
		w = lz64Entry{uint32(start), uint32(len(out) - start)}
	}
}

// decodeUTF16 turns the reference's JavaScript string (UTF-16 units) into UTF-8; lone
// surrogates become U+FFFD.
func decodeUTF16(u []uint16) string {
	return string(utf16.Decode(u))
}
