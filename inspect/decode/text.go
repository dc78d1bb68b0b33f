package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Text returns a decoded body as UTF-8 text for inspection, read the way the vendors' parsers
// read it. Detectors look for ASCII secrets in UTF-8; a UTF-16 JSON body, which Python's json,
// Jackson and Node's body-parser all accept, hides a key behind a zero byte between each letter.
//
// The character encoding is chosen in this order:
//  1. A byte order mark: UTF-8 (stripped), UTF-32BE/LE, UTF-16BE/LE. A mark wins over the
//     label, as in the WHATWG decode algorithm and Python's json.detect_encoding.
//  2. For a body that looks like JSON, the pattern of zero bytes in its first four octets
//     (RFC 4627 section 3, read as Python's json.detect_encoding reads it), whatever the label
//     says: a JSON text cannot start with a NUL in UTF-8, and a vendor that ignores the label
//     (most do) reads it so. "Looks like JSON" means the first code unit that is not JSON
//     whitespace is '{', '[' or '"' in that encoding.
//  3. The charset parameter of contentType: utf-8 and us-ascii leave the body as it is;
//     utf-16, utf-32, ucs-2 and their aliases (case-insensitive, '_' read as '-') convert, the
//     byte order taken from the label or else guessed from where the zero bytes fall, UTF-16LE
//     when there are none; iso-8859-1, latin1 and windows-1252 convert by the windows-1252
//     table (as browsers read all three). A UTF-16 or UTF-32 label on a body that looks like
//     UTF-8 JSON is ignored, since the vendors that accept such a body read it as UTF-8.
//     Any other label is ErrCharset, unless the body is printable ASCII (and, for UTF-7 and
//     HZ, holds no shift character), where the charset cannot change the text. Two different
//     charset parameters count as an unknown label.
//
// charset is "" when out is body itself (or its first limit bytes), else the name of what was
// converted: "utf-8" (a mark stripped), "utf-16le", "utf-16be", "utf-32le", "utf-32be" or
// "windows-1252". Unpaired surrogates and code points outside Unicode become U+FFFD. A body cut
// inside a UTF-16 or UTF-32 character returns the converted prefix and an error wrapping
// ErrCorrupt. out is at most limit bytes, cut at a character boundary when converted; past that
// the error wraps ErrTooLarge. With ErrCharset, out is body (at most limit bytes of it) and
// charset is "".
func Text(contentType string, body []byte, limit int64) (out []byte, charset string, err error) {
	if limit < 0 {
		return nil, "", fmt.Errorf("decode text: negative limit %d", limit)
	}
	if len(body) == 0 {
		return body, "", nil
	}
	label := charsetParam(contentType)
	enc, bom := sniff(body, label)
	text := body[bom:]
	switch enc {
	case encUTF8, encUTF8BOM:
		if int64(len(text)) > limit {
			return text[:limit], enc.String(), fmt.Errorf("decode text: %w", ErrTooLarge)
		}
		return text, enc.String(), nil
	case encUnsupported:
		err := fmt.Errorf("decode text: %w %q", ErrCharset, clip(label))
		if int64(len(body)) > limit {
			return body[:limit], "", err
		}
		return body, "", err
	case encUTF16LE, encUTF16BE:
		out, err = fromUTF16(text, enc == encUTF16BE, limit)
	case encUTF32LE, encUTF32BE:
		out, err = fromUTF32(text, enc == encUTF32BE, limit)
	case encWindows1252:
		out, err = fromWindows1252(text, limit)
	}
	switch {
	case errors.Is(err, ErrTooLarge):
		err = fmt.Errorf("decode text: %w", ErrTooLarge)
	case err != nil:
		err = &codingError{coding: enc.String(), text: true, err: err}
	}
	return out, enc.String(), err
}

// encoding is a character encoding Text reads, or encUnsupported.
type encoding uint8

const (
	encUTF8 encoding = iota // as it is
	encUTF8BOM
	encUTF16LE
	encUTF16BE
	encUTF32LE
	encUTF32BE
	encWindows1252
	encUnsupported
)

var encodingNames = [...]string{"", "utf-8", "utf-16le", "utf-16be", "utf-32le", "utf-32be", "windows-1252", ""}

func (e encoding) String() string { return encodingNames[e] }

// family is what a charset label asks for.
type family uint8

const (
	famUTF8 family = iota // also no label, and ASCII
	famUTF16
	famUTF16LE
	famUTF16BE
	famUTF32
	famUTF32LE
	famUTF32BE
	famLatin
	famUTF7 // 7-bit, but '+' shifts into base64 UTF-16
	famHZ   // 7-bit, but '~{' shifts into GB2312
	famOther
)

// families maps charset labels, lower-cased and with '_' as '-', to what they ask for: the
// WHATWG Encoding Standard's labels for these encodings, plus the aliases of Python's codecs and
// of Java's charsets that clients are known to send.
var families = map[string]family{
	"": famUTF8, "utf-8": famUTF8, "utf8": famUTF8, "unicode-1-1-utf-8": famUTF8,
	"unicode11utf8": famUTF8, "unicode20utf8": famUTF8, "x-unicode20utf8": famUTF8,
	"us-ascii": famUTF8, "ascii": famUTF8, "us": famUTF8, "iso646-us": famUTF8,
	"ansi-x3.4-1968": famUTF8, "csascii": famUTF8, "cp367": famUTF8, "ibm367": famUTF8,

	"utf-16": famUTF16, "utf16": famUTF16, "u16": famUTF16, "ucs-2": famUTF16, "ucs2": famUTF16,
	"iso-10646-ucs-2": famUTF16, "csunicode": famUTF16, "unicode": famUTF16,
	"unicodefeff": famUTF16LE, "utf-16le": famUTF16LE, "utf16le": famUTF16LE,
	"x-utf-16le": famUTF16LE, "unicodelittleunmarked": famUTF16LE,
	"unicodefffe": famUTF16BE, "utf-16be": famUTF16BE, "utf16be": famUTF16BE,
	"x-utf-16be": famUTF16BE, "unicodebigunmarked": famUTF16BE,

	"utf-32": famUTF32, "utf32": famUTF32, "u32": famUTF32, "ucs-4": famUTF32, "ucs4": famUTF32,
	"iso-10646-ucs-4": famUTF32, "csucs4": famUTF32,
	"utf-32le": famUTF32LE, "utf32le": famUTF32LE, "x-utf-32le": famUTF32LE,
	"utf-32be": famUTF32BE, "utf32be": famUTF32BE, "x-utf-32be": famUTF32BE,

	"windows-1252": famLatin, "cp1252": famLatin, "x-cp1252": famLatin, "iso-8859-1": famLatin,
	"iso8859-1": famLatin, "iso88591": famLatin, "iso-8859-1:1987": famLatin, "iso-ir-100": famLatin,
	"latin1": famLatin, "latin-1": famLatin, "l1": famLatin, "cp819": famLatin, "ibm819": famLatin,
	"csisolatin1": famLatin, "8859": famLatin, "latin": famLatin,

	"utf-7": famUTF7, "utf7": famUTF7, "unicode-1-1-utf-7": famUTF7, "csunicode11utf7": famUTF7,
	"x-utf-7":    famUTF7,
	"hz-gb-2312": famHZ, "hz": famHZ, "hzgb": famHZ,
}

// charsetParam returns the normalized charset parameter of a Content-Type value. It reads
// leniently (mime.ParseMediaType rejects values that the vendors' own parsers accept), and two
// different charset parameters come back as both, joined by ',', which no label matches.
func charsetParam(contentType string) string {
	var labels []string
	_, params, _ := strings.Cut(contentType, ";")
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "charset") {
			continue
		}
		v = strings.TrimSpace(strings.Trim(strings.TrimSpace(v), `"'`))
		v = strings.ReplaceAll(strings.ToLower(v), "_", "-")
		if !slices.Contains(labels, v) {
			labels = append(labels, v)
		}
	}
	return strings.Join(labels, ",")
}

// sniff picks the encoding of body and the length of its byte order mark, in the order Text
// documents.
func sniff(body []byte, label string) (encoding, int) {
	fam, known := families[label]
	if !known {
		fam = famOther
	}
	switch {
	case bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")):
		return encUTF8BOM, 3
	case bytes.HasPrefix(body, []byte("\x00\x00\xFE\xFF")):
		return encUTF32BE, 4
	// FF FE 00 00 is also a UTF-16LE mark and a NUL; a UTF-16 label settles which.
	case bytes.HasPrefix(body, []byte("\xFF\xFE\x00\x00")) && fam != famUTF16 && fam != famUTF16LE && fam != famUTF16BE:
		return encUTF32LE, 4
	case bytes.HasPrefix(body, []byte("\xFE\xFF")):
		return encUTF16BE, 2
	case bytes.HasPrefix(body, []byte("\xFF\xFE")):
		return encUTF16LE, 2
	}

	if len(body) >= 4 && (body[0] == 0 || body[1] == 0) {
		// Python's json.detect_encoding: 00 00 -- -- UTF-32BE, 00 xx -- -- UTF-16BE,
		// xx 00 00 00 UTF-32LE, xx 00 -- -- otherwise UTF-16LE.
		var enc encoding
		switch {
		case body[0] == 0 && body[1] == 0:
			enc = encUTF32BE
		case body[0] == 0:
			enc = encUTF16BE
		case body[2] == 0 && body[3] == 0:
			enc = encUTF32LE
		default:
			enc = encUTF16LE
		}
		if looksJSON(body, enc) {
			return enc, 0
		}
	}

	switch fam {
	case famUTF8:
		return encUTF8, 0
	case famUTF16, famUTF16LE, famUTF16BE, famUTF32, famUTF32LE, famUTF32BE:
		if looksJSON(body, encUTF8) {
			return encUTF8, 0
		}
	}
	switch fam {
	case famUTF16:
		if zeroBias(body, 2) {
			return encUTF16BE, 0
		}
		return encUTF16LE, 0
	case famUTF16LE:
		return encUTF16LE, 0
	case famUTF16BE:
		return encUTF16BE, 0
	case famUTF32:
		if zeroBias(body, 4) {
			return encUTF32BE, 0
		}
		return encUTF32LE, 0
	case famUTF32LE:
		return encUTF32LE, 0
	case famUTF32BE:
		return encUTF32BE, 0
	case famLatin:
		if ascii(body) {
			return encUTF8, 0
		}
		return encWindows1252, 0
	case famUTF7:
		if printable(body) && bytes.IndexByte(body, '+') < 0 {
			return encUTF8, 0
		}
	case famHZ:
		if printable(body) && bytes.IndexByte(body, '~') < 0 {
			return encUTF8, 0
		}
	default:
		if printable(body) {
			return encUTF8, 0
		}
	}
	return encUnsupported, 0
}

// looksJSON reports whether the first code unit of body in enc that is not JSON whitespace
// starts an object, an array or a string. Leading whitespace is read to its end however long it
// is, so padding cannot push the JSON out of sight.
func looksJSON(body []byte, enc encoding) bool {
	size, be := 1, false
	switch enc {
	case encUTF16LE:
		size = 2
	case encUTF16BE:
		size, be = 2, true
	case encUTF32LE:
		size = 4
	case encUTF32BE:
		size, be = 4, true
	}
	for i := 0; i+size <= len(body); i += size {
		var u uint32
		for j := range size {
			if be {
				u = u<<8 | uint32(body[i+j])
			} else {
				u |= uint32(body[i+j]) << (8 * j)
			}
		}
		switch u {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[', '"':
			return true
		}
		return false
	}
	return false
}

// zeroBias guesses the byte order of unmarked UTF-16 (size 2) or UTF-32 (size 4) text as
// iconv-lite does: mostly-ASCII text has its zero bytes at the high end of each unit, first in
// big-endian. It reports big-endian when zeros lead more often than they trail.
func zeroBias(body []byte, size int) bool {
	var lead, trail int
	for i := 0; i+size <= len(body) && i < 4096; i += size {
		if body[i] == 0 {
			lead++
		}
		if body[i+size-1] == 0 {
			trail++
		}
	}
	return lead > trail
}

// ascii reports whether body has no byte above 0x7F.
func ascii(body []byte) bool {
	for _, b := range body {
		if b >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// printable reports whether body is printable ASCII, tab, CR and LF only: text that reads the
// same in every ASCII-compatible charset. Other control bytes are excluded because the
// ISO-2022 family shifts with ESC and SCSU with bytes below 0x20.
func printable(body []byte) bool {
	for _, b := range body {
		if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b > 0x7E {
			return false
		}
	}
	return true
}

// room makes out able to take n more bytes without its capacity passing limit, or reports that
// the text would be longer than limit.
func room(out []byte, n int, limit int64) ([]byte, bool) {
	need := int64(len(out) + n)
	if need > limit {
		return out, false
	}
	if len(out)+n <= cap(out) {
		return out, true
	}
	grown := min(max(2*int64(cap(out)), need, 512), limit)
	return append(make([]byte, 0, grown), out...), true
}

// firstCap is the capacity to start a conversion with: what mostly-ASCII text needs, never past
// the limit.
func firstCap(units int, limit int64) int {
	return int(min(int64(units)+16, limit))
}

var errTrailing = errors.New("text ends inside a character")

// fromUTF16 converts UTF-16 to UTF-8, at most limit bytes of it.
func fromUTF16(src []byte, be bool, limit int64) ([]byte, error) {
	out := make([]byte, 0, firstCap(len(src)/2, limit))
	// ascii has a bit set in a 64-bit little-endian load of four code units unless all four are
	// below 0x80: most of a JSON body is, and taking them four at a time is what makes the
	// conversion cost about as much as a copy.
	ascii := uint64(0xFF80FF80FF80FF80)
	if be {
		ascii = 0x80FF80FF80FF80FF
	}
	var ok bool
	i := 0
	for i+2 <= len(src) {
		if i+8 <= len(src) && len(out)+4 <= cap(out) {
			if v := binary.LittleEndian.Uint64(src[i:]); v&ascii == 0 {
				if be {
					v >>= 8
				}
				out = append(out, byte(v), byte(v>>16), byte(v>>32), byte(v>>48))
				i += 8
				continue
			}
		}
		var u uint16
		if be {
			u = binary.BigEndian.Uint16(src[i:])
		} else {
			u = binary.LittleEndian.Uint16(src[i:])
		}
		i += 2
		if u < utf8.RuneSelf {
			if len(out) == cap(out) {
				if out, ok = room(out, 1, limit); !ok {
					return out, ErrTooLarge
				}
			}
			out = append(out, byte(u))
			continue
		}
		r := rune(u)
		if utf16.IsSurrogate(r) {
			r = utf8.RuneError
			if u < 0xDC00 && i+2 <= len(src) {
				var u2 uint16
				if be {
					u2 = binary.BigEndian.Uint16(src[i:])
				} else {
					u2 = binary.LittleEndian.Uint16(src[i:])
				}
				if 0xDC00 <= u2 && u2 < 0xE000 {
					r = utf16.DecodeRune(rune(u), rune(u2))
					i += 2
				}
			}
		}
		if out, ok = room(out, utf8.RuneLen(r), limit); !ok {
			return out, ErrTooLarge
		}
		out = utf8.AppendRune(out, r)
	}
	if i < len(src) {
		return out, errTrailing
	}
	return out, nil
}

// fromUTF32 converts UTF-32 to UTF-8, at most limit bytes of it.
func fromUTF32(src []byte, be bool, limit int64) ([]byte, error) {
	out := make([]byte, 0, firstCap(len(src)/4, limit))
	var ok bool
	i := 0
	for ; i+4 <= len(src); i += 4 {
		var u uint32
		if be {
			u = uint32(src[i])<<24 | uint32(src[i+1])<<16 | uint32(src[i+2])<<8 | uint32(src[i+3])
		} else {
			u = uint32(src[i]) | uint32(src[i+1])<<8 | uint32(src[i+2])<<16 | uint32(src[i+3])<<24
		}
		r := utf8.RuneError
		if u <= utf8.MaxRune && !utf16.IsSurrogate(rune(u)) {
			r = rune(u)
		}
		if out, ok = room(out, utf8.RuneLen(r), limit); !ok {
			return out, ErrTooLarge
		}
		out = utf8.AppendRune(out, r)
	}
	if i < len(src) {
		return out, errTrailing
	}
	return out, nil
}

// windows1252 holds the characters of bytes 0x80-0x9F. The five bytes windows-1252 leaves
// undefined map to the C1 controls of the same value, as in the WHATWG index.
var windows1252 = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

// fromWindows1252 converts windows-1252 (and so ISO-8859-1) to UTF-8, at most limit bytes of it.
func fromWindows1252(src []byte, limit int64) ([]byte, error) {
	out := make([]byte, 0, firstCap(len(src), limit))
	var ok bool
	for _, b := range src {
		if b < utf8.RuneSelf {
			if len(out) == cap(out) {
				if out, ok = room(out, 1, limit); !ok {
					return out, ErrTooLarge
				}
			}
			out = append(out, b)
			continue
		}
		r := rune(b)
		if b < 0xA0 {
			r = windows1252[b-0x80]
		}
		if out, ok = room(out, utf8.RuneLen(r), limit); !ok {
			return out, ErrTooLarge
		}
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}
