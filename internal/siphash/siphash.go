// Package siphash is SipHash-2-4 (Aumasson and Bernstein), the keyed hash of the crown-jewel
// indexes: a PRF built for short inputs, 7–20× cheaper than HMAC-SHA256 on the 8–64 byte values
// and k-gram hashes the indexes key (detectors/fingerprint, detectors/edm benchmarks), with the
// 64-bit output the indexes keep. Written by hand because the hot paths need a sum of one
// uint64 and of a tag byte and a slice without allocating; checked against the reference
// vectors.
package siphash

import (
	"encoding/binary"
	"math/bits"
)

// Key is a 128-bit SipHash key, as two little-endian words.
type Key struct{ K0, K1 uint64 }

func (k Key) init() (v0, v1, v2, v3 uint64) {
	return k.K0 ^ 0x736f6d6570736575, k.K1 ^ 0x646f72616e646f6d, k.K0 ^ 0x6c7967656e657261, k.K1 ^ 0x7465646279746573
}

// round is one SipRound; two per block, four to finish.
func round(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
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
	return v0, v1, v2, v3
}

func block(v0, v1, v2, v3, m uint64) (uint64, uint64, uint64, uint64) {
	v3 ^= m
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	return v0 ^ m, v1, v2, v3
}

func finish(v0, v1, v2, v3 uint64) uint64 {
	v2 ^= 0xff
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	return v0 ^ v1 ^ v2 ^ v3
}

// Sum64 is SipHash-2-4 of the 8-byte little-endian encoding of m.
func (k Key) Sum64(m uint64) uint64 {
	v0, v1, v2, v3 := k.init()
	v0, v1, v2, v3 = block(v0, v1, v2, v3, m)
	v0, v1, v2, v3 = block(v0, v1, v2, v3, uint64(8)<<56)
	return finish(v0, v1, v2, v3)
}

// SumTagged is SipHash-2-4 of tag followed by p. The tag byte separates kinds of values, so two
// kinds with the same bytes never share a hash.
func (k Key) SumTagged(tag byte, p []byte) uint64 {
	v0, v1, v2, v3 := k.init()
	n := len(p) + 1
	// The message is tag||p; each block is the previous byte (or the tag) and the next seven.
	carry := uint64(tag)
	for len(p) >= 8 {
		w := binary.LittleEndian.Uint64(p)
		v0, v1, v2, v3 = block(v0, v1, v2, v3, carry|w<<8)
		carry = w >> 56
		p = p[8:]
	}
	var t uint64
	for i := len(p) - 1; i >= 0; i-- {
		t = t<<8 | uint64(p[i])
	}
	t = carry | t<<8
	if len(p) == 7 { // the carried byte and seven more: a full block before the last
		v0, v1, v2, v3 = block(v0, v1, v2, v3, t)
		t = 0
	}
	v0, v1, v2, v3 = block(v0, v1, v2, v3, t|uint64(n)<<56)
	return finish(v0, v1, v2, v3)
}
