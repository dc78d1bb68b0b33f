package quic

// maxVarint is the largest value a QUIC variable-length integer can hold
// (RFC 9000 §16), and so the largest valid stream offset.
const maxVarint = 1<<62 - 1

// readVarint decodes a variable-length integer (RFC 9000 §16) from the front
// of b and returns it with the number of bytes it took; n is 0 when b is too
// short. Non-minimal encodings are accepted, as RFC 9000 requires.
func readVarint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}
