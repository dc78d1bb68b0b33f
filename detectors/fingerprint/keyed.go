package fingerprint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"github.com/customs-dev/customs/internal/siphash"
)

// MinKeyLen is the shortest installation key accepted. The key makes the prints unguessable: with
// it, an index file cannot be used to test whether a given text was indexed.
const MinKeyLen = 16

var errShortKey = errors.New("fingerprint: key must be at least 16 bytes (use the installation key)")

// sipKey is a SipHash-2-4 key. SipHash is a PRF built for short inputs: it keys one 8-byte
// k-gram hash in ~10 ns without allocating, where HMAC-SHA256 costs ~20x more per print
// (BenchmarkKeyedHash). Only the prints that winnowing selects are keyed, so the keyed hash is
// off the per-token path anyway.
type sipKey = siphash.Key

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
	return sipKey{K0: binary.LittleEndian.Uint64(d[0:8]), K1: binary.LittleEndian.Uint64(d[8:16])}
}

// keyCheck is stored in index files so that loading one with another key fails clearly instead
// of silently matching nothing. It reveals nothing about the key beyond 64 bits of a PRF output.
func keyCheck(key []byte) [8]byte {
	d := deriveKey(key, "key-check")
	var out [8]byte
	copy(out[:], d[:8])
	return out
}
