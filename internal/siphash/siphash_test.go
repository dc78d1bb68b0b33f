package siphash

import (
	"encoding/binary"
	"testing"
)

// The reference vectors of the SipHash paper's implementation (vectors.h): key 00..0f, message
// 00..n-1, read as little-endian words; lengths around and across block boundaries.
func TestVectors(t *testing.T) {
	k := Key{0x0706050403020100, 0x0f0e0d0c0b0a0908}
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = byte(i)
	}
	for _, tt := range []struct {
		n    int
		want uint64
	}{
		{1, 0x74f839c593dc67fd},
		{2, 0x0d6c8009d9a94f5a},
		{6, 0xcbc9466e58fee3ce},
		{7, 0xab0200f58b01d137},
		{8, 0x93f5f5799a932462},
		{15, 0xa129ca6149be45e5},
		{16, 0x3f2acc7f57c29bdb},
		{63, 0x958a324ceb064572},
	} {
		if got := k.SumTagged(msg[0], msg[1:tt.n]); got != tt.want {
			t.Errorf("length %d: %#016x, want %#016x", tt.n, got, tt.want)
		}
	}
	if got := k.Sum64(binary.LittleEndian.Uint64(msg)); got != 0x93f5f5799a932462 {
		t.Errorf("Sum64: %#016x", got)
	}
}
