package fingerprint

import "math/bits"

// Token values are unkeyed 64-bit hashes: they only feed the rolling k-gram hash, and what is
// stored is a keyed hash of selected k-grams. Each kind of token has its own tag so that, say,
// the identifier placeholder never equals a number or a word.
const (
	tagIdent   = 0x8a5cd789635d2dff
	tagString  = 0x121fd2155c472f96
	tagNumber  = 0x5c4d3a6e8f1b2c07
	tagKeyword = 0x3f7a9d2e4b6c8e15
	tagPunct   = 0x6b2f8e4d1c3a5b79
	tagWord    = 0x1d8e4e27c47d124f
)

// The low bit of a code token value says whether the token is structural: punctuation, a number
// or a string, as opposed to an identifier or keyword. A code k-gram needs a share of structural
// tokens to be selectable: prose read as code is identifiers and keywords ("for", "in", "is",
// "not") with a period now and then, and would otherwise match any prose of the same shape.
func structural(v uint64) uint64 { return v | 1 }
func wordish(v uint64) uint64    { return v &^ 1 }

var (
	identVal  = wordish(fmix64(tagIdent))
	stringVal = structural(fmix64(tagString))
)

const mul1 = 0x9e3779b97f4a7c15

// hashASCII hashes s 8 bytes at a time. With fold, ASCII letters are lower-cased by setting bit
// 0x20, which is only a case fold for letters: callers pass fold only for strings of letters and
// digits (digits already have the bit), where it is exact and costs nothing per byte. The result
// is a token value, mixed again as part of each k-gram: one multiply per 8 bytes is enough.
func hashASCII(s string, fold bool, tag uint64) uint64 {
	var or uint64
	if fold {
		or = 0x2020202020202020
	}
	h := tag ^ uint64(len(s))*mul1
	for len(s) >= 8 {
		h = mix(h, load64(s)|or)
		s = s[8:]
	}
	if len(s) > 0 {
		var c uint64
		for i := 0; i < len(s); i++ {
			c |= uint64(s[i]) << (8 * i)
		}
		h = mix(h, c|(or>>(64-8*len(s))))
	}
	return h
}

// hashWordAt is hashASCII(s[i:j], true, tagWord) for a word of letters and digits, reading the
// tail with one 8-byte load when the text extends far enough (most words are shorter than 8).
func hashWordAt(s string, i, j int) uint64 {
	n := j - i
	if n <= 8 && i+8 <= len(s) {
		c := load64(s[i:]) & (^uint64(0) >> (64 - 8*n))
		return mix(tagWord^uint64(n)*mul1, c|(0x2020202020202020>>(64-8*n)))
	}
	return hashASCII(s[i:j], true, tagWord)
}

func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func mix(h, c uint64) uint64 {
	hi, lo := bits.Mul64(h^c, mul1)
	return hi ^ lo
}
