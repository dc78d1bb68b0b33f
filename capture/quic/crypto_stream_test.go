package quic

import (
	"bytes"
	"errors"
	"testing"
)

func TestCryptoStream(t *testing.T) {
	const text = "0123456789abcdefghijklmnopqrstuvwxyz"
	piece := func(from, to int) []byte { return []byte(text[from:to]) }
	type add struct {
		off  uint64
		data []byte
		err  error
	}
	tests := []struct {
		name  string
		limit int
		adds  []add
		want  string
	}{
		{"nothing", 0, nil, ""},
		{"in order", 0, []add{{0, piece(0, 10), nil}, {10, piece(10, 36), nil}}, text},
		{"reversed", 0, []add{{20, piece(20, 36), nil}, {10, piece(10, 20), nil}, {0, piece(0, 10), nil}}, text},
		{"gap keeps the prefix short", 0, []add{{0, piece(0, 5), nil}, {6, piece(6, 36), nil}}, text[:5]},
		{"gap filled last", 0, []add{{0, piece(0, 5), nil}, {6, piece(6, 36), nil}, {5, piece(5, 6), nil}}, text},
		{"missing start", 0, []add{{1, piece(1, 36), nil}}, ""},
		{"duplicates", 0, []add{{0, piece(0, 10), nil}, {0, piece(0, 10), nil}, {10, piece(10, 20), nil}, {0, piece(0, 20), nil}}, text[:20]},
		{"overlaps", 0, []add{{5, piece(5, 15), nil}, {0, piece(0, 8), nil}, {12, piece(12, 36), nil}}, text},
		{"one byte at a time, backwards", 0, func() []add {
			var a []add
			for i := len(text) - 1; i >= 0; i-- {
				a = append(a, add{uint64(i), piece(i, i+1), nil})
			}
			return a
		}(), text},
		{"empty adds are no-ops", 0, []add{{0, nil, nil}, {100, []byte{}, nil}, {0, piece(0, 3), nil}}, text[:3]},
		{"changed retransmission", 0, []add{{0, piece(0, 10), nil}, {5, []byte("XX"), ErrInconsistent}}, text[:10]},
		{"changed overlap still fills the hole", 0, []add{{0, piece(0, 4), nil}, {2, []byte("XX4567"), ErrInconsistent}}, text[:8]},
		{"exactly the limit", 36, []add{{0, piece(0, 36), nil}}, text},
		{"one past the limit", 35, []add{{0, piece(0, 36), ErrTooLarge}, {0, piece(0, 35), nil}}, text[:35]},
		{"offset past the limit", 64, []add{{65, nil, ErrTooLarge}, {1 << 62, []byte("x"), ErrTooLarge}}, ""},
		{"offset overflow", 64, []add{{^uint64(0), []byte("xy"), ErrTooLarge}}, ""},
		{"default limit", 0, []add{{DefaultCryptoLimit, []byte("x"), ErrTooLarge}, {DefaultCryptoLimit - 1, []byte("x"), nil}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCryptoStream(tt.limit)
			for i, a := range tt.adds {
				if err := c.Add(a.off, a.data); !errors.Is(err, a.err) {
					t.Fatalf("add %d (%d bytes at %d): err = %v, want %v", i, len(a.data), a.off, err, a.err)
				}
			}
			if got := c.Contiguous(); string(got) != tt.want {
				t.Errorf("Contiguous() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCryptoStreamZeroValue(t *testing.T) {
	var c CryptoStream
	if err := c.Add(0, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(DefaultCryptoLimit, []byte("x")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("zero value past the default limit: %v", err)
	}
}

// TestCryptoStreamBounded: memory follows the limit however the data comes.
func TestCryptoStreamBounded(t *testing.T) {
	const limit = 5000
	c := NewCryptoStream(limit)
	for off := uint64(limit - 1); ; off -= 7 {
		_ = c.Add(off, []byte{byte(off)})
		if off < 7 {
			break
		}
	}
	if cap(c.buf) > limit || cap(c.have)*64 > limit+63 {
		t.Errorf("backwards: buffer capacity %d, bitmap %d words, for a limit of %d", cap(c.buf), cap(c.have), limit)
	}

	// Forwards, the doubling growth must stop at the limit.
	c = NewCryptoStream(limit)
	chunk := make([]byte, 700)
	for off := 0; off+len(chunk) <= limit; off += len(chunk) {
		if err := c.Add(uint64(off), chunk); err != nil {
			t.Fatal(err)
		}
	}
	if cap(c.buf) > limit || cap(c.have)*64 > limit+63 {
		t.Errorf("forwards: buffer capacity %d, bitmap %d words, for a limit of %d", cap(c.buf), cap(c.have), limit)
	}
}

// TestCryptoStreamPrefixStable: a slice from Contiguous keeps its bytes
// while the stream grows and reallocates.
func TestCryptoStreamPrefixStable(t *testing.T) {
	c := NewCryptoStream(1 << 20)
	_ = c.Add(0, []byte("stable"))
	p := c.Contiguous()
	for i := 1; i < 100; i++ {
		_ = c.Add(uint64(i*1000), bytes.Repeat([]byte{'x'}, 1000))
	}
	if string(p) != "stable" {
		t.Errorf("earlier prefix changed to %q", p)
	}
}

func TestClientHelloBytes(t *testing.T) {
	hello := rfcClientHello(t) // 01 0000ed ...: 4 + 237 bytes
	tests := []struct {
		name   string
		stream []byte
		ok     bool
		want   []byte
	}{
		{"complete", hello, true, hello},
		{"followed by more", concat(hello, []byte{0x02, 0, 0, 0}), true, hello},
		{"one byte short", hello[:len(hello)-1], false, nil},
		{"header only", hello[:4], false, nil},
		{"three bytes", hello[:3], false, nil},
		{"empty", nil, false, nil},
		{"ServerHello", concat([]byte{0x02}, hello[1:]), false, nil},
		{"zero-length body", []byte{1, 0, 0, 0}, true, []byte{1, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCryptoStream(0)
			if err := c.Add(0, tt.stream); err != nil {
				t.Fatal(err)
			}
			got, ok := ClientHelloBytes(c)
			if ok != tt.ok || !bytes.Equal(got, tt.want) {
				t.Errorf("ClientHelloBytes = %x, %v; want %x, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := ClientHelloBytes(nil); ok {
		t.Error("nil stream reported a ClientHello")
	}
}

// TestCryptoStreamBitmapEdges puts single-byte gaps around the 64-byte words
// of the arrival bitmap, where an off-by-one would stop or run past a gap.
func TestCryptoStreamBitmapEdges(t *testing.T) {
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(i)
	}
	for _, gap := range []int{0, 1, 62, 63, 64, 65, 127, 128, 191, 192, 255, 256, 299} {
		c := NewCryptoStream(len(data))
		if err := c.Add(0, data[:gap]); err != nil {
			t.Fatal(err)
		}
		if err := c.Add(uint64(gap+1), data[gap+1:]); err != nil {
			t.Fatal(err)
		}
		if got := len(c.Contiguous()); got != gap {
			t.Errorf("gap at %d: %d contiguous bytes, want %d", gap, got, gap)
		}
		if err := c.Add(uint64(gap), data[gap:gap+1]); err != nil {
			t.Fatal(err)
		}
		if got := c.Contiguous(); !bytes.Equal(got, data) {
			t.Errorf("gap at %d filled: %d contiguous bytes, want %d", gap, len(got), len(data))
		}
	}
}
