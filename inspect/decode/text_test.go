package decode_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/customs-dev/customs/inspect/decode"
	"github.com/customs-dev/customs/internal/golden"
)

// utf16le, utf16be, utf32le and utf32be encode s without a byte order mark.
func utf16le(s string) []byte { return units16(s, binary.LittleEndian) }
func utf16be(s string) []byte { return units16(s, binary.BigEndian) }
func utf32le(s string) []byte { return units32(s, binary.LittleEndian) }
func utf32be(s string) []byte { return units32(s, binary.BigEndian) }

func units16(s string, order binary.AppendByteOrder) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return b
}

func units32(s string, order binary.AppendByteOrder) []byte {
	var b []byte
	for _, r := range s {
		b = order.AppendUint32(b, uint32(r))
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

const secretJSON = `{"messages":[{"role":"user","content":"key AKIAIOSFODNN7EXAMPLE, café 東京 🔑"}]}`

// TestText renders what Text makes of each body (testdata/text/<name>.golden): the charset it
// chose, the error and its reason, and the text.
func TestText(t *testing.T) {
	ascii := []byte(`{"a":"AKIAIOSFODNN7EXAMPLE"}`)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		limit       int64 // 0 means the package limit
	}{
		{"utf8-json", "application/json", []byte(secretJSON), 0},
		{"utf8-bom", "application/json", cat([]byte("\xEF\xBB\xBF"), ascii), 0},
		{"utf16le-bom", "application/json", cat([]byte("\xFF\xFE"), utf16le(secretJSON)), 0},
		{"utf16be-bom", "application/json", cat([]byte("\xFE\xFF"), utf16be(secretJSON)), 0},
		{"utf32le-bom", "application/json", cat([]byte("\xFF\xFE\x00\x00"), utf32le(secretJSON)), 0},
		{"utf32be-bom", "application/json", cat([]byte("\x00\x00\xFE\xFF"), utf32be(secretJSON)), 0},
		{"utf16le-json-unmarked", "application/json", utf16le(secretJSON), 0},
		{"utf16be-json-unmarked", "application/json", utf16be(secretJSON), 0},
		{"utf32le-json-unmarked", "", utf32le(secretJSON), 0},
		{"utf32be-json-unmarked", "", utf32be(secretJSON), 0},
		{"utf16le-json-array", "application/json", utf16le(`["AKIAIOSFODNN7EXAMPLE"]`), 0},
		{"utf16le-json-string", "application/json", utf16le(`"AKIAIOSFODNN7EXAMPLE"`), 0},
		{"utf16le-json-leading-whitespace", "application/json", utf16le(" \r\n\t " + secretJSON), 0},
		{"utf16be-json-labelled-utf8", "application/json; charset=utf-8", utf16be(secretJSON), 0},
		{"utf16le-json-labelled-latin1", "application/json; charset=latin1", utf16le(secretJSON), 0},
		{"bom-beats-label", "text/plain; charset=utf-16be", cat([]byte("\xFF\xFE"), utf16le("AKIA")), 0},
		{"utf8-bom-beats-utf16-label", "text/plain; charset=utf-16", cat([]byte("\xEF\xBB\xBF"), ascii), 0},
		{"label-utf16le-text", "text/plain; charset=utf-16le", utf16le("AKIAIOSFODNN7EXAMPLE"), 0},
		{"label-utf16-unmarked-guess-be", "text/plain; charset=UTF-16", utf16be("AKIAIOSFODNN7EXAMPLE"), 0},
		{"label-utf16-unmarked-guess-le", "text/plain; charset=utf16", utf16le("AKIAIOSFODNN7EXAMPLE"), 0},
		{"label-underscore-and-case", "text/plain;CHARSET=UTF_16BE", utf16be("AKIA 東京"), 0},
		{"label-quoted", `text/plain; format=flowed; charset="ucs-2"`, utf16le("AKIA"), 0},
		{"label-utf32", "text/plain; charset=utf-32", utf32le("AKIA 🔑"), 0},
		{"label-utf16-on-utf8-json", "application/json; charset=utf-16", []byte(secretJSON), 0},
		{"label-utf16le-ff-fe-nul", "text/plain; charset=utf-16le", []byte("\xFF\xFE\x00\x00A\x00"), 0},
		{"unpaired-surrogates", "text/plain; charset=utf-16le", cat(utf16le("a"), []byte{0x00, 0xD8}, utf16le("b"), []byte{0x00, 0xDC}, utf16le("c"), []byte{0x3D, 0xD8}), 0},
		{"surrogate-pair", "text/plain; charset=utf-16be", utf16be("🔑"), 0},
		{"utf16-odd-trailing-byte", "application/json", cat(utf16le(`{"a":"AKIA`), []byte{'X'}), 0},
		{"utf32-invalid-code-points", "text/plain; charset=utf-32be", []byte("\x00\x00\x00A\x00\x11\x00\x00\x00\x00\xD8\x00\xFF\xFF\xFF\xFF\x00\x00\x00B"), 0},
		{"utf32-trailing-bytes", "text/plain; charset=utf-32le", cat(utf32le("AKIA"), []byte{'X', 0, 0}), 0},
		{"latin1", "text/plain; charset=ISO-8859-1", []byte("caf\xe9 \x80 \xab AKIA \xbb \xff"), 0},
		{"windows-1252-all-c1", "text/plain; charset=windows-1252", func() []byte {
			var b []byte
			for c := 0x80; c < 0xA0; c++ {
				b = append(b, byte(c))
			}
			return b
		}(), 0},
		{"latin1-ascii", "text/plain; charset=latin1", ascii, 0},
		{"us-ascii", "application/json; charset=us-ascii", ascii, 0},
		{"shift-jis", "text/plain; charset=Shift_JIS", []byte("\x93\x8c\x8b\x9e AKIA"), 0},
		{"shift-jis-ascii", "application/json; charset=shift_jis", ascii, 0},
		{"utf7-shifted", "application/json; charset=utf-7", []byte(`{"a":"+AEEASwBJAEE-IOSFODNN7EXAMPLE"}`), 0},
		{"utf7-unshifted", "application/json; charset=utf-7", ascii, 0},
		{"iso-2022-jp-escape", "text/plain; charset=iso-2022-jp", []byte("\x1b$B5~ET\x1b(B AKIA"), 0},
		{"conflicting-charsets", "text/plain; charset=utf-8; charset=koi8-r", []byte("\xf0\xd2\xc9\xd7\xc5\xd4"), 0},
		{"repeated-same-charset", "text/plain; charset=latin1; charset=LATIN1", []byte("caf\xe9"), 0},
		{"binary-with-zeros", "application/octet-stream", []byte("\x00\x01\x00\x02PK\x03\x04"), 0},
		{"empty", "application/json; charset=utf-16", []byte{}, 0},
		{"over-limit-utf8", "application/json", ascii, 10},
		{"over-limit-utf16-cut-at-character", "text/plain; charset=utf-16le", utf16le("ab東京"), 6},
		{"over-limit-latin1", "text/plain; charset=latin1", []byte("\xe9\xe9\xe9"), 5},
		{"zero-limit", "application/json", utf16le(secretJSON), -1},
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
			orig := bytes.Clone(tt.body)
			out, charset, err := decode.Text(tt.contentType, tt.body, lim)
			if !bytes.Equal(tt.body, orig) {
				t.Fatal("Text modified the body")
			}
			if int64(len(out)) > lim {
				t.Errorf("%d bytes out, over the limit %d", len(out), lim)
			}
			if charset == "" && !bytes.HasPrefix(tt.body, out) {
				t.Error(`charset "" but out is not the body`)
			}
			if charset != "" && charset != "utf-8" && !utf8.Valid(out) {
				t.Error("converted text is not valid UTF-8")
			}
			var b strings.Builder
			fmt.Fprintf(&b, "content-type: %q\nbody: %q\nlimit: %d\ncharset: %q\nerror: %v\nreason: %s\nout: %q\n",
				tt.contentType, tt.body, lim, charset, err, decode.Reason(err), out)
			golden.Check(t, filepath.Join("testdata", "text", tt.name+".golden"), []byte(b.String()))
		})
	}
}

func TestTextNegativeLimit(t *testing.T) {
	if _, _, err := decode.Text("", []byte("x"), -1); err == nil {
		t.Fatal("negative limit accepted")
	}
}

// TestTextFixtures reads bodies encoded by Python (see testdata/README.md), and checks each with
// the content types a client might send with it.
func TestTextFixtures(t *testing.T) {
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	unicode, latin := read("unicode.json"), read("latin.txt")
	tests := []struct {
		file, contentType, charset string
		want                       []byte
	}{
		{"unicode.json", "application/json", "", unicode},
		{"unicode.json.utf-8-sig", "application/json", "utf-8", unicode},
		{"unicode.json.utf-16", "application/json", "utf-16le", unicode},
		{"unicode.json.utf-16", "application/json; charset=utf-16", "utf-16le", unicode},
		{"unicode.json.utf-16be", "application/json", "utf-16be", unicode},
		{"unicode.json.utf-16be", "application/json; charset=utf-16", "utf-16be", unicode},
		{"unicode.json.utf-16be", "application/json; charset=utf-8", "utf-16be", unicode},
		{"unicode.json.utf-32le", "application/json", "utf-32le", unicode},
		{"unicode.json.utf-32", "application/json", "utf-32le", unicode},
		{"latin.txt.cp1252", "text/plain; charset=windows-1252", "windows-1252", latin},
		{"latin.txt.cp1252", "text/plain; charset=cp1252", "windows-1252", latin},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.contentType, func(t *testing.T) {
			out, charset, err := decode.Text(tt.contentType, read(tt.file), limit)
			if err != nil {
				t.Fatal(err)
			}
			if charset != tt.charset {
				t.Errorf("charset %q, want %q", charset, tt.charset)
			}
			if !bytes.Equal(out, tt.want) {
				t.Errorf("got %q\nwant %q", out, tt.want)
			}
		})
	}
}

// TestUTF16JSONSecretIsSeen pins the attack Text exists for: a chat request in UTF-16, which the
// vendor's JSON parser reads and the detectors, looking at UTF-8, did not.
func TestUTF16JSONSecretIsSeen(t *testing.T) {
	const key = "AKIAIOSFODNN7EXAMPLE"
	for name, body := range map[string][]byte{
		"utf-16le":     utf16le(secretJSON),
		"utf-16be":     utf16be(secretJSON),
		"utf-16le+bom": cat([]byte("\xFF\xFE"), utf16le(secretJSON)),
		"utf-32be":     utf32be(secretJSON),
	} {
		t.Run(name, func(t *testing.T) {
			if bytes.Contains(body, []byte(key)) {
				t.Fatal("the raw body shows the key; the test does not pin the attack")
			}
			out, _, err := decode.Text("application/json", body, limit)
			if err != nil || !bytes.Contains(out, []byte(key)) {
				t.Fatalf("key not in the text (%v): %q", err, out)
			}
		})
	}
}

// TestTextLimitIsOutput checks that the limit bounds the converted text, which is longer than
// the body for most non-ASCII text.
func TestTextLimitIsOutput(t *testing.T) {
	s := strings.Repeat("東", 1000) // 2000 bytes of UTF-16, 3000 of UTF-8
	body := utf16le(s)
	out, _, err := decode.Text("text/plain; charset=utf-16le", body, 2999)
	if !errors.Is(err, decode.ErrTooLarge) || len(out) != 2997 {
		t.Fatalf("%d bytes, %v; want 2997 bytes (999 characters) and ErrTooLarge", len(out), err)
	}
	out, _, err = decode.Text("text/plain; charset=utf-16le", body, 3000)
	if err != nil || string(out) != s {
		t.Fatalf("%d bytes, %v; want the whole text", len(out), err)
	}
}

// TestTextMatchesReference converts text with one non-ASCII character at every offset (so that it
// falls on every lane of the four-units-at-a-time path) under every limit, and compares with the
// reference conversion.
func TestTextMatchesReference(t *testing.T) {
	for _, odd := range []string{"é", "東", "🔑", "\ufffd"} {
		for at := range 12 {
			s := strings.Repeat("a", at) + odd + strings.Repeat("b", 11-at)
			for _, enc := range []struct {
				charset string
				body    []byte
			}{
				{"utf-16le", utf16le(s)}, {"utf-16be", utf16be(s)}, {"utf-32le", utf32le(s)}, {"utf-32be", utf32be(s)},
			} {
				want, _, _ := reference(enc.charset, enc.body)
				for lim := int64(0); lim <= int64(len(want))+1; lim++ {
					out, charset, err := decode.Text("text/plain; charset="+enc.charset, enc.body, lim)
					if charset != enc.charset {
						t.Fatalf("%s %q: charset %q", enc.charset, s, charset)
					}
					if int64(len(want)) <= lim {
						if err != nil || string(out) != want {
							t.Fatalf("%s %q limit %d: %q, %v; want %q", enc.charset, s, lim, out, err, want)
						}
						continue
					}
					// Cut at the last whole character that fits.
					cut := int(lim)
					for cut > 0 && !utf8.RuneStart(want[cut]) {
						cut--
					}
					if !errors.Is(err, decode.ErrTooLarge) || string(out) != want[:cut] {
						t.Fatalf("%s %q limit %d: %q, %v; want %q and ErrTooLarge", enc.charset, s, lim, out, err, want[:cut])
					}
				}
			}
		}
	}
}

// reference converts body from charset the slow, obvious way, for FuzzText to compare with.
// trailing is how many bytes at the end make no whole code unit.
func reference(charset string, body []byte) (text string, trailing int, ok bool) {
	switch charset {
	case "utf-16le", "utf-16be":
		var order binary.ByteOrder = binary.LittleEndian
		bom := []byte("\xFF\xFE")
		if charset == "utf-16be" {
			order, bom = binary.BigEndian, []byte("\xFE\xFF")
		}
		body = bytes.TrimPrefix(body, bom)
		var units []uint16
		for i := 0; i+2 <= len(body); i += 2 {
			units = append(units, order.Uint16(body[i:]))
		}
		return string(utf16.Decode(units)), len(body) % 2, true
	case "utf-32le", "utf-32be":
		var order binary.ByteOrder = binary.LittleEndian
		bom := []byte("\xFF\xFE\x00\x00")
		if charset == "utf-32be" {
			order, bom = binary.BigEndian, []byte("\x00\x00\xFE\xFF")
		}
		body = bytes.TrimPrefix(body, bom)
		var b strings.Builder
		for i := 0; i+4 <= len(body); i += 4 {
			u := order.Uint32(body[i:])
			if u > utf8.MaxRune {
				u = utf8.RuneError
			}
			b.WriteRune(rune(u)) // surrogates become U+FFFD here too
		}
		return b.String(), len(body) % 4, true
	}
	return "", 0, false
}

func FuzzText(f *testing.F) {
	for _, s := range []string{secretJSON, `["a"]`, ` "x"`, "AKIA 東京 🔑"} {
		f.Add("application/json", utf16le(s))
		f.Add("application/json", utf16be(s))
		f.Add("", utf32le(s))
		f.Add("text/plain; charset=utf-32be", utf32be(s))
		f.Add("application/json; charset=utf-8", []byte(s))
	}
	f.Add("text/plain; charset=utf-16", cat([]byte("\xFE\xFF"), utf16be("AKIA")))
	f.Add("text/plain; charset=latin1", []byte("caf\xe9 \x80"))
	f.Add("text/plain; charset=shift_jis", []byte("\x93\x8c AKIA"))
	f.Add("text/plain; charset=utf-7", []byte("+AEE-"))
	f.Add("application/json", []byte("\xEF\xBB\xBF{}"))

	const small, large = 64, 64 << 10
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		orig := bytes.Clone(body)
		outL, charset, errL := decode.Text(contentType, body, large)
		outS, charsetS, errS := decode.Text(contentType, body, small)
		if !bytes.Equal(body, orig) {
			t.Fatal("Text modified the body")
		}
		if len(outL) > large || len(outS) > small {
			t.Fatalf("%d and %d bytes out for limits %d and %d", len(outL), len(outS), large, small)
		}
		if charset != charsetS {
			t.Fatalf("charset %q with limit %d, %q with limit %d", charset, large, charsetS, small)
		}
		if !bytes.HasPrefix(outL, outS) {
			t.Fatalf("limit %d gave %q, not a prefix of %q", small, outS, outL)
		}
		if errL == nil && errS == nil && !bytes.Equal(outL, outS) {
			t.Fatal("two clean conversions differ")
		}
		if errors.Is(errS, decode.ErrTooLarge) != (len(outL) > small || errors.Is(errL, decode.ErrTooLarge)) &&
			!errors.Is(errS, decode.ErrCharset) {
			t.Fatalf("limit %d: err %v, but the text is %d bytes (%v)", small, errS, len(outL), errL)
		}
		for _, err := range []error{errL, errS} {
			if err != nil && decode.Reason(err) == "other" {
				t.Fatalf("error outside the taxonomy: %v", err)
			}
		}
		switch charset {
		case "":
			if !bytes.HasPrefix(body, outL) {
				t.Fatal(`charset "" but the text is not the body`)
			}
		case "utf-8":
			if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) || !bytes.HasPrefix(body[3:], outL) {
				t.Fatal(`charset "utf-8" but the text is not the body after its mark`)
			}
		case "windows-1252":
			if !utf8.Valid(outL) || (errL == nil && utf8.RuneCount(outL) != len(body)) {
				t.Fatalf("windows-1252: %d characters from %d bytes", utf8.RuneCount(outL), len(body))
			}
		default:
			want, trailing, ok := reference(charset, body)
			if !ok {
				t.Fatalf("unexpected charset %q", charset)
			}
			if !utf8.Valid(outL) {
				t.Fatal("converted text is not valid UTF-8")
			}
			switch {
			case errors.Is(errL, decode.ErrTooLarge):
				if !strings.HasPrefix(want, string(outL)) || len(want) <= large {
					t.Fatal("cut text is not a prefix of a longer reference")
				}
			case errL != nil:
				if trailing == 0 || string(outL) != want {
					t.Fatalf("error %v with %d trailing bytes", errL, trailing)
				}
			default:
				if trailing != 0 || string(outL) != want {
					t.Fatalf("got %q, reference %q (trailing %d)", outL, want, trailing)
				}
			}
		}
	})
}

func BenchmarkText(b *testing.B) {
	text := prompt(32 << 10)
	body := utf16le(string(text)) // 64 KiB of UTF-16LE JSON
	b.Run("utf-16le", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			out, _, err := decode.Text("application/json", body, limit)
			if err != nil || len(out) != len(text) {
				b.Fatal(len(out), err)
			}
		}
	})
	b.Run("utf-8", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decode.Text("application/json; charset=utf-8", text, limit); err != nil {
				b.Fatal(err)
			}
		}
	})
}
