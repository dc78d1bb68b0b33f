package detectors

import "math/bits"

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// NextDigit returns the index of the first ASCII digit in s at or after i, or len(s). It tests
// eight bytes at a time: prose has few digits, so most of a text is skipped a word at a time.
func NextDigit(s string, i int) int {
	n := len(s)
	for ; i+8 <= n; i += 8 {
		x := load64(s, i)
		// Bytes strictly between '/' and ':' (Bit Twiddling Hacks, hasbetween): exact per byte,
		// no carries cross byte boundaries.
		t := x & (lsb * 127)
		r := (lsb*(127+':') - t) & ^x & (t + lsb*(127-'/')) & msb
		if r != 0 {
			return i + bits.TrailingZeros64(r)/8
		}
	}
	for ; i < n; i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return i
		}
	}
	return n
}

// load64 reads s[i:i+8] as a little-endian word (the compiler merges the byte loads into one).
func load64(s string, i int) uint64 {
	b := s[i : i+8]
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
