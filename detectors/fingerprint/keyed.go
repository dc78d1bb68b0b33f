package fingerprint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/bits"
)

// MinKeyLen is the shortest installation key accepted. The key makes the prints unguessable: with
// it, an index file cannot be used to test whether a given text was indexed.
const MinKeyLen = 16

var errShortKey = errors.New("fingerprint: key must be at least 16 bytes (use the installation key)")

// sipKey is a SipHash-2-4 key. SipHash is a PRF built for short inputs: it keys one 8-byte
// k-gram hash in ~10 ns without allocating, where HMAC-SHA256 costs ~20x more per print
// (BenchmarkKeyedHash). Only the prints that winnowing selects are keyed, so the keyed hash is
// off the per-token path anyway.
type sipKey struct{ k0, k1 uint64 }

// deriveKey separates the uses of the installation key: one subkey per class (so a code print
// never equals a document print) and one for the key check value stored in index files.
func deriveKey(key []byte, label string) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("customs/fingerprint/v1/"))
	m.Write([]byte(label))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

func classKey(key []byte, c Class) sipKey {
	d := deriveKey(key, "class/"+string(c))
	return sipKey{binary.LittleEndian.Uint64(d[0:8]), binary.LittleEndian.Uint64(d[8:16])}
}

// keyCheck is stored in index files so that loading one with another key fails clearly instead
// of silently matching nothing. It reveals nothing about the key beyond 64 bits of a PRF output.
func keyCheck(key []byte) [8]byte {
	d := deriveKey(key, "key-check")
	var out [8]byte
	copy(out[:], d[:8])
	return out
}

// sum64 is SipHash-2-4 of the 8-byte little-endian encoding of m.
func (k sipKey) sum64(m uint64) uint64 {
	v0 := k.k0 ^ 0x736f6d6570736575
	v1 := k.k1 ^ 0x646f72616e646f6d
	v2 := k.k0 ^ 0x6c7967656e657261
	v3 := k.k1 ^ 0x7465646279746573

	v3 ^= m
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m

	const last = uint64(8) << 56 // message length in the final block
	v3 ^= last
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= last

	v2 ^= 0xff
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	return v0 ^ v1 ^ v2 ^ v3
}

func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}
