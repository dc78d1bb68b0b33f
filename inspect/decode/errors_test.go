package decode_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customs-dev/customs/inspect/decode"
	"github.com/customs-dev/customs/internal/golden"
)

func TestCodings(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		want   string
		is     error
		reason string
	}{
		{name: "none", lines: nil, want: ""},
		{name: "one line", lines: []string{"gzip"}, want: "gzip"},
		{name: "gzip twice on two lines", lines: []string{"gzip", "gzip"}, want: "gzip, gzip"},
		{name: "gzip then br on two lines", lines: []string{"gzip", "br"}, want: "gzip, br"},
		{name: "list and line mixed", lines: []string{"deflate, gzip", "zstd"}, want: "deflate, gzip, zstd"},
		{name: "spacing case and empty elements", lines: []string{" GZip ,, ", "", "\tBR\t", ",identity,"}, want: "gzip, br"},
		{name: "x-gzip", lines: []string{"X-Gzip"}, want: "gzip"},
		{name: "only identity", lines: []string{"identity", "Identity"}, want: ""},
		{name: "unknown on a second line", lines: []string{"gzip", "Snappy"}, want: "gzip, snappy", is: decode.ErrUnsupported, reason: "unsupported-coding"},
		{name: "too many across lines", lines: []string{"gzip, gzip", "gzip", "gzip, gzip"}, want: "gzip, gzip, gzip, gzip, gzip", is: decode.ErrTooManyCodings, reason: "too-many-codings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tt.lines {
				h.Add("Content-Encoding", l)
			}
			got, err := decode.Codings(h.Values("Content-Encoding"))
			if got != tt.want {
				t.Errorf("Codings = %q, want %q", got, tt.want)
			}
			if (tt.is == nil) != (err == nil) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
			if r := decode.Reason(err); r != tt.reason {
				t.Errorf("Reason = %q, want %q", r, tt.reason)
			}
			// Body must read the joined list as the same error, or as the same body.
			_, bodyErr := decode.Body(got, []byte("x"), limit)
			if tt.is != nil && decode.Reason(bodyErr) != tt.reason {
				t.Errorf("Body(%q) error %v, want reason %q", got, bodyErr, tt.reason)
			}
		})
	}
}

// TestRepeatedContentEncodingLines pins the attack that repeated header lines were used for: a
// body gzipped twice and declared on two lines was decoded once, leaving the secret compressed.
func TestRepeatedContentEncodingLines(t *testing.T) {
	text := prompt(4 << 10)
	tests := []struct {
		lines   []string
		applied string // the codings as the client applied them
	}{
		{[]string{"gzip", "gzip"}, "gzip, gzip"},
		{[]string{"gzip", "br"}, "gzip, br"},
		{[]string{"DEFLATE ", " , zstd"}, "deflate, zstd"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.lines, "+"), func(t *testing.T) {
			h := http.Header{}
			for _, l := range tt.lines {
				h.Add("Content-Encoding", l)
			}
			raw := encode(t, tt.applied, text)
			ce, err := decode.Codings(h.Values("Content-Encoding"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode.Body(ce, raw, limit)
			if err != nil || !bytes.Equal(got, text) {
				t.Fatalf("Body(%q): %d bytes, %v; want the text", ce, len(got), err)
			}
			// What reading only the first line did: the secret stays out of sight.
			if once, _ := decode.Body(h.Get("Content-Encoding"), raw, limit); bytes.Contains(once, []byte("AKIAIOSFODNN7EXAMPLE")) {
				t.Fatal("the first line alone decoded the text; the test does not pin the attack")
			}
		})
	}
}

// TestErrorTaxonomy renders, for every way Body, NewReader and Text fall short, the error, its
// reason token and the sentinels it matches (testdata/errors/<name>.golden), and checks that
// each sentinel is told apart by errors.Is.
func TestErrorTaxonomy(t *testing.T) {
	text := prompt(8 << 10)
	gz := encode(t, "gzip", text)
	big := prompt(64 << 10)
	sentinels := []struct {
		name string
		err  error
	}{
		{"ErrUnsupported", decode.ErrUnsupported},
		{"ErrTooManyCodings", decode.ErrTooManyCodings},
		{"ErrCorrupt", decode.ErrCorrupt},
		{"ErrTooLarge", decode.ErrTooLarge},
		{"ErrCharset", decode.ErrCharset},
		{"ErrBudget", decode.ErrBudget},
	}
	type result struct {
		out []byte
		err error
	}
	body := func(ce string, raw []byte, lim int64) func() result {
		return func() result {
			out, err := decode.Body(ce, raw, lim)
			return result{out, err}
		}
	}
	stream := func(ce string, raw []byte, lim int64) func() result {
		return func() result {
			r, err := decode.NewReader(ce, bytes.NewReader(raw), lim)
			if err != nil {
				return result{nil, err}
			}
			defer r.Close()
			out, err := io.ReadAll(r)
			return result{out, err}
		}
	}
	// A budget of 64 KiB in all, with no wait: less than any decoder's state and room.
	budgeted := func(ce string, raw []byte, lim int64, streamed bool) func() result {
		return func() result {
			l := decode.NewBudget(64<<10, 0, 0).Lease(context.Background(), "client")
			defer l.Release()
			if streamed {
				_, err := decode.NewReaderWithin(ce, bytes.NewReader(raw), lim, l)
				return result{nil, err}
			}
			out, err := decode.BodyWithin(ce, raw, lim, l)
			return result{out, err}
		}
	}
	text16 := func(ct string, raw []byte, lim int64) func() result {
		return func() result {
			out, _, err := decode.Text(ct, raw, lim)
			return result{out, err}
		}
	}
	tests := []struct {
		name   string
		run    func() result
		reason string
		is     []string // sentinels errors.Is must match; every other must not match
	}{
		{"body-unsupported", body("compress", gz, limit), "unsupported-coding", []string{"ErrUnsupported"}},
		{"body-too-many-codings", body("gzip,gzip,gzip,gzip,gzip", gz, limit), "too-many-codings", []string{"ErrUnsupported", "ErrTooManyCodings"}},
		{"body-corrupt-gzip", body("gzip", gz[:len(gz)/2], limit), "corrupt-coding", []string{"ErrCorrupt"}},
		{"body-corrupt-br", body("br", []byte("this is not brotli at all"), limit), "corrupt-coding", []string{"ErrCorrupt"}},
		{"body-corrupt-inner-stage", body("gzip, br", encode(t, "br", gz[:len(gz)/2]), limit), "corrupt-coding", []string{"ErrCorrupt"}},
		{"body-too-large", body("gzip", encode(t, "gzip", big), 4096), "decode-limit", []string{"ErrTooLarge"}},
		{"body-too-large-inner-stage", body("gzip, br", encode(t, "gzip, br", big), 4096), "decode-limit", []string{"ErrTooLarge"}},
		{"body-negative-limit", body("gzip", gz, -1), "other", nil},
		{"stream-unsupported", stream("compress", gz, limit), "unsupported-coding", []string{"ErrUnsupported"}},
		{"stream-too-many-codings", stream("br,br,br,br,br", gz, limit), "too-many-codings", []string{"ErrUnsupported", "ErrTooManyCodings"}},
		{"stream-corrupt-gzip", stream("gzip", gz[:len(gz)/2], limit), "corrupt-coding", []string{"ErrCorrupt"}},
		{"stream-too-large", stream("gzip", encode(t, "gzip", big), 4096), "decode-limit", []string{"ErrTooLarge"}},
		{"text-unsupported-charset", text16("text/plain; charset=Shift_JIS", []byte("\x93\xfa\x96\x7b AKIA"), limit), "unsupported-charset", []string{"ErrCharset"}},
		{"text-utf16-odd-byte", text16("application/json; charset=utf-16le", []byte("{\x00\"\x00a"), limit), "corrupt-charset", []string{"ErrCorrupt"}},
		{"text-too-large", text16("application/json", utf16le(`{"a":"AKIAIOSFODNN7EXAMPLE"}`), 8), "decode-limit", []string{"ErrTooLarge"}},
		{"body-over-budget", budgeted("gzip", gz, limit, false), "decode-budget", []string{"ErrBudget"}},
		{"stream-over-budget", budgeted("br", encode(t, "br", big), limit, true), "decode-budget", []string{"ErrBudget"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.run()
			if res.err == nil {
				t.Fatal("no error")
			}
			if got := decode.Reason(res.err); got != tt.reason {
				t.Errorf("Reason = %q, want %q", got, tt.reason)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "error: %v\nreason: %s\nis:", res.err, decode.Reason(res.err))
			for _, s := range sentinels {
				want := false
				for _, n := range tt.is {
					want = want || n == s.name
				}
				if got := errors.Is(res.err, s.err); got != want {
					t.Errorf("errors.Is(err, %s) = %v, want %v", s.name, got, want)
				}
				if want {
					fmt.Fprintf(&b, " %s", s.name)
				}
			}
			fmt.Fprintf(&b, "\nreturned: %d bytes\n", len(res.out))
			golden.Check(t, filepath.Join("testdata", "errors", tt.name+".golden"), []byte(b.String()))
		})
	}
}

func TestReasonNil(t *testing.T) {
	if r := decode.Reason(nil); r != "" {
		t.Fatalf("Reason(nil) = %q", r)
	}
	if r := decode.Reason(io.ErrUnexpectedEOF); r != "other" {
		t.Fatalf("Reason(foreign error) = %q", r)
	}
	// Wrapped by a caller, the reason holds.
	if r := decode.Reason(fmt.Errorf("inspect: %w", fmt.Errorf("decode x: %w", decode.ErrTooLarge))); r != "decode-limit" {
		t.Fatalf("Reason(wrapped) = %q", r)
	}
}
