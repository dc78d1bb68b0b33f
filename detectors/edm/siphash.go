package edm

import (
	"encoding/binary"
	"math/bits"
)

// sipKey is a SipHash-2-4 key. SipHash is used instead of HMAC-SHA256 because a scan hashes a
// few hundred short values and a build tens of millions: SipHash is a PRF built for short
// inputs, several times cheaper than HMAC here (see BenchmarkHash), and a 64-bit output is all
// the index keeps anyway.
type sipKey struct{ k0, k1 uint64 }

// sum returns SipHash-2-4 of tag followed by p. The tag byte separates the value kinds, so an
// e-mail and an account ID with the same bytes never share an index key.
func (k sipKey) sum(tag byte, p []byte) uint64 {
	v0 := k.k0 ^ 0x736f6d6570736575
	v1 := k.k1 ^ 0x646f72616e646f6d
	v2 := k.k0 ^ 0x6c7967656e657261
	v3 := k.k1 ^ 0x7465646279746573
	n := len(p) + 1
	// The message is tag||p; m carries it shifted by one byte, so each block is the previous
	// byte of p (or the tag) followed by the next seven.
	carry := uint64(tag)
	for len(p) >= 8 {
		w := binary.LittleEndian.Uint64(p)
		m := carry | w<<8
		carry = w >> 56
		p = p[8:]
		v3 ^= m
		for range 2 {
			v0 += v1
			v1 = bits.RotateLeft64(v1, 13) ^ v0
			v0 = bits.RotateLeft64(v0, 32)
			v2 += v3
			v3 = bits.RotateLeft64(v3, 16) ^ v2
			v0 += v3
			v3 = bits.RotateLeft64(v3, 21) ^ v0
			v2 += v1
			v1 = bits.RotateLeft64(v1, 17) ^ v2
			v2 = bits.RotateLeft64(v2, 32)
		}
		v0 ^= m
	}
	// Seven or fewer bytes of p remain after the carried byte: one more full block if there are
	// seven, then the final block with the length.
	var t uint64
	for i := len(p) - 1; i >= 0; i-- {
		t = t<<8 | uint64(p[i])
	}
	t = carry | t<<8
	if len(p) == 7 {
		v3 ^= t
		for range 2 {
			v0 += v1
			v1 = bits.RotateLeft64(v1, 13) ^ v0
			v0 = bits.RotateLeft64(v0, 32)
			v2 += v3
			v3 = bits.RotateLeft64(v3, 16) ^ v2
			v0 += v3
			v3 = bits.RotateLeft64(v3, 21) ^ v0
			v2 += v1
			v1 = bits.RotateLeft64(v1, 17) ^ v2
			v2 = bits.RotateLeft64(v2, 32)
		}
		v0 ^= t
		t = 0
	}
	last := t | uint64(n)<<56
	v3 ^= last
	for range 2 {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13) ^ v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16) ^ v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21) ^ v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17) ^ v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	v0 ^= last
	v2 ^= 0xff
	for range 4 {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13) ^ v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16) ^ v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21) ^ v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17) ^ v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	return v0 ^ v1 ^ v2 ^ v3
}
