package quic

import "testing"

func TestReadVarint(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  uint64
		wantN int
	}{
		// RFC 9000 Appendix A.1's examples.
		{"8 bytes", "c2197c5eff14e88c", 151288809941952652, 8},
		{"4 bytes", "9d7f3e7d", 494878333, 4},
		{"2 bytes", "7bbd", 15293, 2},
		{"1 byte", "25", 37, 1},
		{"non-minimal 2 bytes", "4025", 37, 2},
		{"trailing bytes ignored", "25ffff", 37, 1},
		{"max", "ffffffffffffffff", maxVarint, 8},
		{"empty", "", 0, 0},
		{"2-byte cut", "7b", 0, 0},
		{"4-byte cut", "9d7f3e", 0, 0},
		{"8-byte cut", "c2197c5eff14e8", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, n := readVarint(mustHex(tt.in))
			if v != tt.want || n != tt.wantN {
				t.Errorf("readVarint(%s) = %d, %d; want %d, %d", tt.in, v, n, tt.want, tt.wantN)
			}
		})
	}
}
