package decode_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/customs-dev/customs/inspect/decode"
)

// readStream decodes raw through NewReader, reading in chunks of the given size (0: io.ReadAll).
func readStream(t testing.TB, coding string, raw []byte, lim int64, chunk int) ([]byte, error) {
	t.Helper()
	r, err := decode.NewReader(coding, bytes.NewReader(raw), lim)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if chunk == 0 {
		return io.ReadAll(r)
	}
	var out []byte
	buf := make([]byte, chunk)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// TestNewReaderMatchesBody decodes each body both ways: the stream must give what Body gives,
// bytes and error, whatever the read size.
func TestNewReaderMatchesBody(t *testing.T) {
	text := prompt(16 << 10)
	big := prompt(limit + 4096)
	gz := encode(t, "gzip", text)
	tests := []struct {
		name, header string
		raw          []byte
		limit        int64
	}{
		{name: "no header", header: "", raw: text},
		{name: "identity over limit", header: "identity", raw: text, limit: 10},
		{name: "gzip", header: "gzip", raw: gz},
		{name: "x-gzip", header: "X-GZIP", raw: gz},
		{name: "gzip members concatenated", header: "gzip", raw: append(encode(t, "gzip", text[:100]), encode(t, "gzip", text[100:])...)},
		{name: "deflate zlib", header: "deflate", raw: encode(t, "deflate", text)},
		{name: "deflate raw", header: "deflate", raw: encode(t, "deflate/raw", text)},
		{name: "br", header: "br", raw: encode(t, "br", text)},
		{name: "br largest window over limit", header: "br", raw: encode(t, "br/lgwin24", big)},
		{name: "zstd", header: "zstd", raw: encode(t, "zstd", text)},
		{name: "gzip twice", header: "gzip, gzip", raw: encode(t, "gzip, gzip", text)},
		{name: "deflate then zstd then gzip", header: "deflate,zstd,gzip", raw: encode(t, "deflate, zstd, gzip", text)},
		{name: "empty body", header: "gzip", raw: []byte{}},
		{name: "exactly limit", header: "gzip", raw: encode(t, "gzip", big[:limit])},
		{name: "one over limit", header: "gzip", raw: encode(t, "gzip", big[:limit+1])},
		{name: "zero limit", header: "zstd", raw: encode(t, "zstd", text), limit: -1},
		{name: "inner stage over limit", header: "gzip, br", raw: encode(t, "gzip, br", big), limit: 4096},
		{name: "inner stage corrupt", header: "gzip, br", raw: encode(t, "br", gz[:len(gz)/2])},
		{name: "outer stage corrupt", header: "gzip, br", raw: func() []byte { b := encode(t, "gzip, br", text); return b[:len(b)/2] }()},
		{name: "inner stage has trailing garbage", header: "gzip, br", raw: encode(t, "br", append(bytes.Clone(gz), "junk"...))},
		{name: "truncated gzip", header: "gzip", raw: gz[:len(gz)/2]},
		{name: "gzip with trailing garbage", header: "gzip", raw: append(bytes.Clone(gz), "junk"...)},
		{name: "corrupt br", header: "br", raw: []byte("this is not brotli at all")},
		{name: "corrupt zstd", header: "zstd", raw: []byte("\x28\xb5\x2f\xfdnot really zstd")},
		{name: "corrupt deflate", header: "deflate", raw: []byte{0x78, 0x9c, 0xff, 0xff, 0xff}},
		{name: "one byte deflate", header: "deflate", raw: []byte{0x78}},
		{name: "gzip declared, zstd sent", header: "gzip", raw: encode(t, "zstd", text)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := tt.limit
			switch lim {
			case 0:
				lim = limit
			case -1:
				lim = 0
			}
			want, wantErr := decode.Body(tt.header, tt.raw, lim)
			for _, chunk := range []int{0, 1, 7, 4096} {
				got, err := readStream(t, tt.header, tt.raw, lim, chunk)
				if !bytes.Equal(got, want) {
					t.Errorf("chunk %d: %d bytes %.40q, Body gave %d bytes %.40q", chunk, len(got), got, len(want), want)
				}
				if decode.Reason(err) != decode.Reason(wantErr) || (err != nil && err.Error() != wantErr.Error()) {
					t.Errorf("chunk %d: error %v, Body gave %v", chunk, err, wantErr)
				}
			}
		})
	}
}

func TestNewReaderRefusesAtConstruction(t *testing.T) {
	tests := []struct {
		header string
		is     error
	}{
		{"compress", decode.ErrUnsupported},
		{"gzip, snappy", decode.ErrUnsupported},
		{"gzip,gzip,gzip,gzip,gzip", decode.ErrTooManyCodings},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			// A reader that fails the test if read: the refusal comes before any reading.
			r, err := decode.NewReader(tt.header, iotest.ErrReader(errors.New("read at construction")), limit)
			if r != nil || !errors.Is(err, tt.is) {
				t.Fatalf("NewReader = %v, %v; want nil and %v", r, err, tt.is)
			}
		})
	}
	if _, err := decode.NewReader("gzip", strings.NewReader(""), -1); err == nil {
		t.Fatal("negative limit accepted")
	}
}

func TestNewReaderReadError(t *testing.T) {
	text := prompt(64 << 10)
	gz := encode(t, "gzip", text)
	broken := errors.New("connection reset")
	for _, header := range []string{"", "gzip"} {
		t.Run(header, func(t *testing.T) {
			raw := text
			if header != "" {
				raw = gz
			}
			src := io.MultiReader(bytes.NewReader(raw[:len(raw)/2]), iotest.ErrReader(broken))
			r, err := decode.NewReader(header, src, limit)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			out, err := io.ReadAll(r)
			if !errors.Is(err, broken) || decode.Reason(err) != "other" {
				t.Fatalf("err = %v (reason %q), want the read error", err, decode.Reason(err))
			}
			if !bytes.HasPrefix(text, out) {
				t.Fatal("output is not a prefix of the text")
			}
		})
	}
}

func TestNewReaderClose(t *testing.T) {
	for _, coding := range []string{"gzip", "deflate", "br", "zstd", "gzip, br"} {
		t.Run(coding, func(t *testing.T) {
			raw := encode(t, coding, prompt(64<<10))
			r, err := decode.NewReader(coding, bytes.NewReader(raw), limit)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Read(make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if n, err := r.Read(make([]byte, 100)); n != 0 || err == nil {
				t.Fatalf("Read after Close = %d, %v", n, err)
			}
			// The pooled decoders went back clean: Body still decodes with them.
			if out, err := decode.Body(strings.Split(coding, ",")[0], encode(t, strings.Split(coding, ",")[0], []byte("hello")), limit); err != nil || string(out) != "hello" {
				t.Fatalf("Body after Close: %q, %v", out, err)
			}
		})
	}
}

// TestNewReaderFixtures streams the bodies made by other encoders.
func TestNewReaderFixtures(t *testing.T) {
	for _, tt := range []struct{ file, coding string }{
		{"prompt.json.gz", "gzip"}, {"prompt.json.zst", "zstd"}, {"prompt.json.zlib", "deflate"},
		{"prompt.json.deflate-raw", "deflate"}, {"prompt.json.truncated.gz", "gzip"}, {"prompt.json.truncated.zst", "zstd"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := decode.Body(tt.coding, raw, limit)
			got, err := readStream(t, tt.coding, raw, limit, 0)
			if !bytes.Equal(got, want) || decode.Reason(err) != decode.Reason(wantErr) {
				t.Fatalf("stream: %d bytes, %v; Body: %d bytes, %v", len(got), err, len(want), wantErr)
			}
		})
	}
}

// TestNewReaderBomb streams 1 GiB of zeros, compressed on the fly into a pipe and never held
// whole, and checks that decoding stops at the limit with the live heap growing by a bounded
// amount that does not depend on how much was decoded.
func TestNewReaderBomb(t *testing.T) {
	const bombSize = int64(1 << 30)
	maxDecoded := int64(256 << 20)
	if testing.Short() || raceEnabled {
		maxDecoded = 64 << 20
	}
	// zstdFrames writes 1 GiB of zeros as 16 copies of one zstd frame of 64 MiB: the frame is a
	// few KiB, and a zstd encoder run live would put its own 20 MiB of tables into the heap
	// being measured.
	var frame bytes.Buffer
	zw := encoders["zstd"](&frame)
	if err := writeZeros(zw, 64<<20); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zstdFrames := func(w io.Writer) error {
		for range bombSize / (64 << 20) {
			if _, err := w.Write(frame.Bytes()); err != nil {
				return err
			}
		}
		return nil
	}
	tests := []struct {
		coding string
		write  func(io.Writer) error // nil: the encoders of coding, run live
		budget int64                 // live heap growth allowed: windows, buffers and garbage
	}{
		{"gzip", nil, 8 << 20},
		{"gzip, gzip", nil, 8 << 20},
		{"zstd", zstdFrames, 16 << 20}, // an 8 MiB window
	}
	for _, tt := range tests {
		t.Run(tt.coding, func(t *testing.T) {
			// The encoders are made before the heap is measured: they run on the client's side
			// of the pipe. The coding listed last was applied last, so its encoder writes to the
			// pipe and the first one listed is the one the zeros go into.
			pr, pw := io.Pipe()
			write := tt.write
			if write == nil {
				w := io.Writer(pw)
				var closers []io.Closer
				codings := strings.Split(tt.coding, ",")
				for i := len(codings) - 1; i >= 0; i-- {
					enc := encoders[strings.TrimSpace(codings[i])](w)
					closers = append([]io.Closer{enc}, closers...)
					w = enc
				}
				write = func(io.Writer) error {
					err := writeZeros(w, bombSize)
					for _, c := range closers {
						if cerr := c.Close(); err == nil {
							err = cerr
						}
					}
					return err
				}
			}

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)

			done := make(chan struct{})
			go func() {
				defer close(done)
				// The writer stops when the reader side closes the pipe.
				pw.CloseWithError(write(pw))
			}()
			r, err := decode.NewReader(tt.coding, pr, maxDecoded)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			var n int64
			var nonZero bool
			for {
				k, err := r.Read(buf)
				n += int64(k)
				nonZero = nonZero || bytes.IndexFunc(buf[:k], func(r rune) bool { return r != 0 }) >= 0
				if err != nil {
					if !errors.Is(err, decode.ErrTooLarge) {
						t.Errorf("err = %v, want ErrTooLarge", err)
					}
					break
				}
			}
			runtime.ReadMemStats(&after)
			r.Close()
			pr.CloseWithError(errors.New("reader done"))
			<-done

			if n != maxDecoded {
				t.Errorf("decoded %d bytes, want %d", n, maxDecoded)
			}
			if nonZero {
				t.Error("output holds non-zero bytes")
			}
			growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("decoded %d MiB; live heap grew %.1f MiB", n>>20, float64(growth)/(1<<20))
			if growth > tt.budget {
				t.Errorf("heap grew %d bytes, budget %d", growth, tt.budget)
			}
		})
	}
}

// writeZeros writes n zero bytes to w, 1 MiB at a time.
func writeZeros(w io.Writer, n int64) error {
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func FuzzNewReader(f *testing.F) {
	text := prompt(1 << 10)
	for _, coding := range []string{"gzip", "deflate", "deflate/raw", "br", "zstd"} {
		f.Add(strings.Split(coding, "/")[0], encode(f, coding, text))
	}
	f.Add("gzip, gzip", encode(f, "gzip, gzip", text))
	f.Add("", text)

	const small, large = 1 << 10, 64 << 10
	f.Fuzz(func(t *testing.T, coding string, raw []byte) {
		for _, lim := range []int64{small, large} {
			want, wantErr := decode.Body(coding, raw, lim)
			r, err := decode.NewReader(coding, bytes.NewReader(raw), lim)
			if err != nil {
				if decode.Reason(err) != decode.Reason(wantErr) {
					t.Fatalf("NewReader refused with %v, Body said %v", err, wantErr)
				}
				continue
			}
			got, err := io.ReadAll(r)
			r.Close()
			if int64(len(got)) > lim {
				t.Fatalf("%d bytes, over the limit %d", len(got), lim)
			}
			// Under the limit and whole, the stream must be the body; and a short one must
			// fall short the same way.
			if wantErr == nil && (err != nil || !bytes.Equal(got, want)) {
				t.Fatalf("limit %d: stream gave %d bytes, %v; Body %d bytes", lim, len(got), err, len(want))
			}
			if decode.Reason(err) != decode.Reason(wantErr) {
				t.Fatalf("limit %d: stream error %v, Body error %v", lim, err, wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("limit %d: stream gave %d bytes %.40q, Body %d bytes %.40q (%v)", lim, len(got), got, len(want), want, wantErr)
			}
		}
	})
}

func BenchmarkNewReader(b *testing.B) {
	text := prompt(1 << 20)
	for _, coding := range []string{"gzip", "zstd"} {
		raw := encode(b, coding, text)
		b.Run(coding, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			src := bytes.NewReader(raw)
			for b.Loop() {
				src.Reset(raw)
				r, err := decode.NewReader(coding, src, 2*limit)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, r)
				if err != nil || n != int64(len(text)) {
					b.Fatal(n, err)
				}
				r.Close()
			}
		})
	}
}
