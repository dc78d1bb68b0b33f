package quic

import (
	"bytes"
	"testing"
)

func BenchmarkParseDatagram(b *testing.B) {
	short := append([]byte{0x40}, bytes.Repeat([]byte{0x17}, 1199)...)
	for _, bc := range []struct {
		name string
		in   []byte
	}{
		{"rfc9001-client-initial", readHex(b, "rfc9001_a2_client_initial.hex")},
		{"rfc9369-client-initial", readHex(b, "rfc9369_a2_client_initial.hex")},
		{"short-header", short},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				if _, err := ParseDatagram(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCryptoStream(b *testing.B) {
	hello := bytes.Repeat([]byte{0x42}, 1800) // a ClientHello with a post-quantum key share
	b.ReportAllocs()
	b.SetBytes(int64(len(hello)))
	for b.Loop() {
		var c CryptoStream
		for off := len(hello) - 100; off >= 0; off -= 100 { // backwards, 100 bytes at a time
			_ = c.Add(uint64(off), hello[off:off+100])
		}
		if len(c.Contiguous()) != len(hello) {
			b.Fatal("incomplete")
		}
	}
}
