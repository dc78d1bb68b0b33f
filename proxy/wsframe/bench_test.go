package wsframe

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"testing"

	"github.com/klauspost/compress/flate"
)

// benchStream is 64 client messages of 4 KiB prompt-shaped text, as a client writes them.
func benchStream(b *testing.B, ext Extension) []byte {
	enc := NewEncoder(Client, ext)
	var s []byte
	for i := range 64 {
		s = enc.Append(s, OpText, promptText(uint64(i), 4096), true)
	}
	return s
}

// BenchmarkReader reports MB/s of the wire stream, masked client frames, fed 32 KiB at a time.
func BenchmarkReader(b *testing.B) {
	for _, bc := range []struct {
		name string
		ext  Extension
	}{
		{"plain", Extension{}},
		{"deflate", Extension{Deflate: true}},
		{"deflate-no-context-takeover", Extension{Deflate: true, ClientNoContextTakeover: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			stream := benchStream(b, bc.ext)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			var payload int64
			for b.Loop() {
				r := NewReader(Client, bc.ext, Limits{})
				for p := stream; len(p) > 0; {
					n := min(len(p), 32<<10)
					if err := r.Feed(p[:n]); err != nil {
						b.Fatal(err)
					}
					p = p[n:]
					for m, ok := r.Next(); ok; m, ok = r.Next() {
						payload += int64(len(m.Payload))
					}
				}
			}
			b.ReportMetric(float64(payload)/float64(b.N)/float64(len(stream)), "payload/wire")
		})
	}
}

// BenchmarkEncoder reports MB/s of payload re-encoded as client frames, 4 KiB messages that
// differ from one another (with context takeover, a message repeated would be nearly free).
func BenchmarkEncoder(b *testing.B) {
	var msgs [][]byte
	for i := range 64 {
		msgs = append(msgs, promptText(uint64(i), 4096))
	}
	for _, bc := range []struct {
		name string
		ext  Extension
	}{
		{"plain", Extension{}},
		{"deflate", Extension{Deflate: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			enc := NewEncoder(Client, bc.ext)
			b.SetBytes(4096)
			b.ReportAllocs()
			var out []byte
			i := 0
			for b.Loop() {
				out = enc.Append(out[:0], OpText, msgs[i%len(msgs)], true)
				i++
			}
		})
	}
}

// BenchmarkInflate compares the two DEFLATE implementations on what the Reader does per
// message: reset with the window as dictionary, inflate 4 KiB (the choice in inflate.go).
func BenchmarkInflate(b *testing.B) {
	var compressed [][]byte
	var window [][]byte
	enc := NewEncoder(Server, Extension{Deflate: true})
	hist := []byte{}
	for i := range 16 {
		p := promptText(uint64(i), 4096)
		c := append([]byte(nil), enc.compressMessage(p)...)
		compressed = append(compressed, append(c, deflateTail...))
		window = append(window, append([]byte(nil), hist[max(0, len(hist)-32768):]...))
		hist = append(hist, p...)
	}
	run := func(b *testing.B, fr io.ReadCloser, reset func(r io.Reader, dict []byte) error) {
		b.SetBytes(16 * 4096)
		buf := make([]byte, 8192)
		var src bytes.Reader
		for b.Loop() {
			for i, c := range compressed {
				src.Reset(c)
				if err := reset(&src, window[i]); err != nil {
					b.Fatal(err)
				}
				n, err := io.ReadFull(fr, buf)
				if n != 4096 || err != io.ErrUnexpectedEOF {
					b.Fatalf("read %d, %v", n, err)
				}
			}
		}
	}
	b.Run("klauspost", func(b *testing.B) {
		fr := flate.NewReader(nil)
		run(b, fr, fr.(flate.Resetter).Reset)
	})
	b.Run("stdlib", func(b *testing.B) {
		fr := stdflate.NewReader(nil)
		run(b, fr, fr.(stdflate.Resetter).Reset)
	})
}
