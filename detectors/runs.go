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
	i = max(i, 0) // lets the compiler drop the bounds checks of the loads
	for ; i <= n-8; i += 8 {
		// After the xor a digit is a byte below 10 (Bit Twiddling Hacks, hasless): the lowest
		// flagged byte is exact, as only a byte below 10 borrows from the next one, and a byte
		// with its top bit set is never flagged.
		x := load64(s, i) ^ lsb*'0'
		if r := (x - lsb*10) &^ x & msb; r != 0 {
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
