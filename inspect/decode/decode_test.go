package decode_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/customs-dev/customs/inspect/decode"
)

// encoders compress for the tests. Names are Content-Encoding codings, except that a suffix after
// '/' picks a variant that is sent under the same coding.
var encoders = map[string]func(io.Writer) io.WriteCloser{
	"gzip": func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
	"deflate": func(w io.Writer) io.WriteCloser {
		zw, _ := zlib.NewWriterLevel(w, zlib.BestSpeed)
		return zw
	},
	"deflate/raw": func(w io.Writer) io.WriteCloser {
		fw, _ := flate.NewWriter(w, flate.BestSpeed)
		return fw
	},
	"br": func(w io.Writer) io.WriteCloser { return brotli.NewWriterLevel(w, 5) },
	// The largest window brotli allows, as the brotli CLI writes by default.
	"br/lgwin24": func(w io.Writer) io.WriteCloser {
		return brotli.NewWriterOptions(w, brotli.WriterOptions{Quality: 1, LGWin: 24})
	},
	"zstd": func(w io.Writer) io.WriteCloser {
		zw, _ := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(8<<20))
		return zw
	},
}

// encode applies the comma-separated codings in order, as a client building that
// Content-Encoding would.
func encode(t testing.TB, codings string, data []byte) []byte {
	t.Helper()
	for _, c := range strings.Split(codings, ",") {
		enc, ok := encoders[strings.TrimSpace(c)]
		if !ok {
			t.Fatalf("no encoder for %q", c)
		}
		var buf bytes.Buffer
		w := enc(&buf)
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		data = buf.Bytes()
	}
	return data
}

// prompt returns a chat-completion body of about n bytes whose text varies enough that it does not
// compress absurdly well.
func prompt(n int) []byte {
	words := strings.Fields(`the deploy pipeline printed staging credentials into build log bucket rotation
		vault injector scrubber alert access key customer impact engineers platform group owner ticket
		migration incident report weekly security review summary database replica failover latency`)
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString(`{"model":"gpt-4o","messages":[`)
	for i := 0; b.Len() < n-64; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"role":"user","content":"`)
		for j := 0; j < 40; j++ {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, `AKIAIOSFODNN7EXAMPLE %d"}`, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

const limit = 1 << 20

func TestBody(t *testing.T) {
	text := prompt(16 << 10)
	big := prompt(limit + 4096)
	gz := encode(t, "gzip", text)

	tests := []struct {
		name    string
		header  string
		raw     []byte
		limit   int64
		want    []byte
		wantErr string // substring of the error; empty for none
		is      error  // errors.Is target, if any
	}{
		{name: "no header", header: "", raw: text, want: text},
		{name: "identity", header: "identity", raw: text, want: text},
		{name: "identity over limit", header: "identity", raw: text, limit: 10, want: text[:10], is: decode.ErrTooLarge},
		{name: "gzip", header: "gzip", raw: gz, want: text},
		{name: "x-gzip", header: "x-gzip", raw: gz, want: text},
		{name: "upper case and spaces", header: " GZip ", raw: gz, want: text},
		{name: "identity before gzip", header: "identity, gzip", raw: gz, want: text},
		{name: "deflate zlib", header: "deflate", raw: encode(t, "deflate", text), want: text},
		{name: "deflate raw", header: "deflate", raw: encode(t, "deflate/raw", text), want: text},
		{name: "br", header: "br", raw: encode(t, "br", text), want: text},
		{name: "br largest window", header: "br", raw: encode(t, "br/lgwin24", text), want: text},
		{name: "br largest window over limit", header: "br", raw: encode(t, "br/lgwin24", big), want: big[:limit], is: decode.ErrTooLarge},
		{name: "zstd", header: "zstd", raw: encode(t, "zstd", text), want: text},
		{name: "gzip then br", header: "gzip, br", raw: encode(t, "gzip, br", text), want: text},
		{name: "deflate then zstd then gzip", header: "deflate,zstd,gzip", raw: encode(t, "deflate, zstd, gzip", text), want: text},
		{name: "gzip members concatenated", header: "gzip", raw: append(encode(t, "gzip", text[:100]), encode(t, "gzip", text[100:])...), want: text},
		{name: "empty body", header: "gzip", raw: []byte{}, want: []byte{}},
		{name: "exactly limit", header: "gzip", raw: encode(t, "gzip", big[:limit]), want: big[:limit]},
		{name: "one over limit", header: "gzip", raw: encode(t, "gzip", big[:limit+1]), want: big[:limit], is: decode.ErrTooLarge},
		{name: "zero limit", header: "zstd", raw: encode(t, "zstd", text), limit: -1, want: []byte{}, is: decode.ErrTooLarge},
		{name: "inner stage over limit", header: "gzip, br", raw: encode(t, "gzip, br", big), limit: 4096, want: big[:4096], is: decode.ErrTooLarge},
		{name: "unknown coding", header: "compress", raw: text, want: text, is: decode.ErrUnsupported, wantErr: `"compress"`},
		{name: "unknown coding in a stack", header: "gzip, snappy", raw: gz, want: gz, is: decode.ErrUnsupported, wantErr: `"snappy"`},
		{name: "too many stacked codings", header: "gzip,gzip,gzip,gzip,gzip", raw: gz, want: gz, is: decode.ErrUnsupported},
		{name: "truncated gzip", header: "gzip", raw: gz[:len(gz)/2], wantErr: "decode gzip: unexpected EOF"},
		{name: "gzip with trailing garbage", header: "gzip", raw: append(bytes.Clone(gz), "junk"...), want: text, wantErr: "decode gzip:"},
		{name: "corrupt br", header: "br", raw: []byte("this is not brotli at all"), wantErr: "decode br:"},
		{name: "corrupt zstd", header: "zstd", raw: []byte("\x28\xb5\x2f\xfdnot really zstd"), wantErr: "decode zstd:"},
		{name: "corrupt deflate", header: "deflate", raw: []byte{0x78, 0x9c, 0xff, 0xff, 0xff}, wantErr: "decode deflate:"},
		{name: "gzip declared, zstd sent", header: "gzip", raw: encode(t, "zstd", text), wantErr: "decode gzip:"},
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
			got, err := decode.Body(tt.header, tt.raw, lim)
			if int64(len(got)) > lim && !errors.Is(err, decode.ErrUnsupported) {
				t.Errorf("returned %d bytes, over the limit of %d", len(got), lim)
			}
			if tt.want != nil && !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tt.want), tt.want)
			}
			if tt.want == nil && !bytes.HasPrefix(text, got) {
				t.Errorf("got %.40q, want a prefix of the text", got)
			}
			switch {
			case tt.is == nil && tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("error %v, want one wrapping %v", err, tt.is)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBodyNegativeLimit(t *testing.T) {
	if _, err := decode.Body("gzip", encode(t, "gzip", []byte("x")), -1); err == nil {
		t.Fatal("negative limit accepted")
	}
}

// TestBodyLeavesRawUntouched pins that decoding works on a copy: the proxy forwards raw upstream
// after inspection, so a decoder that patched it in place (the brotli window clamp rewrites the
// first byte it reads) would corrupt the request.
func TestBodyLeavesRawUntouched(t *testing.T) {
	text := prompt(limit + 4096)
	for _, coding := range []string{"gzip", "deflate", "deflate/raw", "br", "br/lgwin24", "zstd"} {
		t.Run(coding, func(t *testing.T) {
			raw := encode(t, coding, text)
			orig := bytes.Clone(raw)
			if _, err := decode.Body(strings.Split(coding, "/")[0], raw, 4096); !errors.Is(err, decode.ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if !bytes.Equal(raw, orig) {
				t.Fatal("Body modified raw")
			}
		})
	}
}

// TestFixtures decodes bodies made by other encoders (see testdata/README.md).
func TestFixtures(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "prompt.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, coding string
		wantErr      string // substring; a non-empty one means only a prefix decodes
		mayBeEmpty   bool   // zstd decodes whole blocks (up to 128 KiB), so a cut block yields nothing
	}{
		{file: "prompt.json.gz", coding: "gzip"},
		{file: "prompt.json.zst", coding: "zstd"},
		{file: "prompt.json.zlib", coding: "deflate"},
		{file: "prompt.json.deflate-raw", coding: "deflate"},
		{file: "prompt.json.truncated.gz", coding: "gzip", wantErr: "decode gzip: unexpected EOF"},
		{file: "prompt.json.truncated.zst", coding: "zstd", wantErr: "decode zstd:", mayBeEmpty: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode.Body(tt.coding, raw, limit)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("decoded %d bytes, want the %d of prompt.json", len(got), len(want))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if (len(got) == 0 && !tt.mayBeEmpty) || !bytes.HasPrefix(want, got) {
				t.Fatalf("decoded %d bytes, want a prefix of prompt.json", len(got))
			}
		})
	}
}

// zeros writes n zero bytes to w without holding more than 1 MiB of them.
func zeros(t testing.TB, w io.Writer, n int64) {
	t.Helper()
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
}

// TestCompressionBomb feeds each coding 1 GiB of zeros compressed (a few hundred KiB to 1 MiB on
// the wire) and checks that decoding stops at the limit without allocating for the rest.
func TestCompressionBomb(t *testing.T) {
	bombSize := int64(1 << 30)
	if testing.Short() || raceEnabled {
		bombSize = 64 << 20
	}
	for _, coding := range []string{"gzip", "deflate", "deflate/raw", "br", "br/lgwin24", "zstd"} {
		t.Run(coding, func(t *testing.T) {
			var buf bytes.Buffer
			w := encoders[coding](&buf)
			zeros(t, w, bombSize)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			bomb := buf.Bytes()

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			out, err := decode.Body(strings.Split(coding, "/")[0], bomb, limit)
			runtime.ReadMemStats(&after)

			if !errors.Is(err, decode.ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge", err)
			}
			if len(out) != limit {
				t.Errorf("len(out) = %d, want %d", len(out), limit)
			}
			if bytes.IndexFunc(out, func(r rune) bool { return r != 0 }) >= 0 {
				t.Error("output holds non-zero bytes")
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte bomb: allocated %.1f MiB decoding", len(bomb), float64(allocated)/(1<<20))
			if budget := uint64(4*limit + 8<<20); allocated > budget {
				t.Errorf("allocated %d bytes, budget %d", allocated, budget)
			}
		})
	}
}

func FuzzBody(f *testing.F) {
	text := prompt(2 << 10)
	for _, coding := range []string{"gzip", "deflate", "deflate/raw", "br", "br/lgwin24", "zstd"} {
		f.Add(strings.Split(coding, "/")[0], encode(f, coding, text))
	}
	f.Add("gzip, br", encode(f, "gzip, br", text))
	f.Add("gzip, gzip", encode(f, "gzip, gzip", text))
	f.Add("deflate, zstd", encode(f, "deflate, zstd", text))
	f.Add("identity", text)
	f.Add("compress", text)
	for _, name := range []string{"prompt.json.gz", "prompt.json.zst", "prompt.json.zlib", "prompt.json.deflate-raw", "prompt.json.truncated.gz"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		coding := map[string]string{".gz": "gzip", ".zst": "zstd"}[filepath.Ext(name)]
		if coding == "" {
			coding = "deflate"
		}
		f.Add(coding, raw)
	}

	const small, large = 1 << 10, 64 << 10
	f.Fuzz(func(t *testing.T, coding string, raw []byte) {
		orig := bytes.Clone(raw)
		outSmall, errSmall := decode.Body(coding, raw, small)
		outLarge, errLarge := decode.Body(coding, raw, large)
		if !bytes.Equal(raw, orig) {
			t.Fatal("Body modified raw")
		}
		for _, err := range []error{errSmall, errLarge} {
			if err != nil && decode.Reason(err) == "other" {
				t.Fatalf("error outside the taxonomy: %v", err)
			}
		}
		if errors.Is(errSmall, decode.ErrUnsupported) {
			if !bytes.Equal(outSmall, raw) {
				t.Fatal("unsupported coding did not return raw unchanged")
			}
			return
		}
		if len(outSmall) > small || len(outLarge) > large {
			t.Fatalf("returned %d and %d bytes for limits %d and %d", len(outSmall), len(outLarge), small, large)
		}
		// A stack may overflow in an inner stage and then decode less than the limit.
		if errors.Is(errSmall, decode.ErrTooLarge) && !strings.Contains(coding, ",") && len(outSmall) != small {
			t.Fatalf("ErrTooLarge with %d bytes, want %d", len(outSmall), small)
		}
		// The limit only cuts the output short; it must not change the bytes before the cut. This
		// is what the brotli window clamp relies on.
		shorter, longer := outSmall, outLarge
		if len(shorter) > len(longer) {
			shorter, longer = longer, shorter
		}
		if !bytes.HasPrefix(longer, shorter) {
			t.Fatalf("limit %d decoded %.40q, limit %d decoded %.40q: not prefixes of one stream", small, outSmall, large, outLarge)
		}
		if errLarge == nil && errSmall == nil && !bytes.Equal(outSmall, outLarge) {
			t.Fatal("two clean decodes differ")
		}
	})
}

func BenchmarkBody(b *testing.B) {
	text := prompt(64 << 10)
	for _, coding := range []string{"identity", "gzip", "deflate", "br", "zstd"} {
		raw := text
		if coding != "identity" {
			raw = encode(b, coding, text)
		}
		b.Run(coding, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decode.Body(coding, raw, limit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(raw))/float64(len(text)), "ratio")
		})
	}
}
