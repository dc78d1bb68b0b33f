package tlshello_test

import (
	"testing"

	"github.com/customs-dev/customs/internal/tlshello"
)

// The capture parses one ClientHello and computes one JA4 per TLS connection.

func BenchmarkParseClientHello(b *testing.B) {
	for _, name := range []string{"go-sni-alpn", "openssl-sni-alpn"} {
		stream := fixture(b, "client/"+name+".hex", nil)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(stream)))
			for b.Loop() {
				if _, err := tlshello.ParseClientHello(stream); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// A hello in 7-byte records: the reassembly path.
	split := refragment(fixture(b, "client/go-sni-alpn.hex", nil), 7)
	b.Run("go-sni-alpn-7-byte-records", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tlshello.ParseClientHello(split); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The answer while a hello is still arriving.
	partial := fixture(b, "client/go-sni-alpn.hex", nil)[:700]
	b.Run("need-more", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tlshello.ParseClientHello(partial); err != tlshello.ErrNeedMore {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJA4(b *testing.B) {
	ch, err := tlshello.ParseClientHello(fixture(b, "client/openssl-sni-alpn.hex", nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("JA4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = tlshello.JA4(ch, tlshello.TransportTCP)
		}
	})
	b.Run("JA4Raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = tlshello.JA4Raw(ch, tlshello.TransportTCP)
		}
	})
}

func BenchmarkParseServerHello(b *testing.B) {
	for _, name := range []string{"go-tls12", "go-tls13"} {
		stream := fixture(b, "server/"+name+".hex", nil)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tlshello.ParseServerHello(stream); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
