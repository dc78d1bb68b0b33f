package har

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"
	"unicode/utf8"
)

// bodySource says how a body was stored in the HAR.
type bodySource int

const (
	fromNone   bodySource = iota
	fromText              // a JSON string: text as the exporter rendered it
	fromBase64            // base64 text: exact bytes
	fromParams            // rebuilt from postData.params
)

// harBody is one body as read from the HAR.
type harBody struct {
	data  []byte // at most the cap
	total int    // full length before the cap
	from  bodySource
	note  string // what went wrong reading it, if anything
}

// readText decodes a postData.text or content.text value (raw JSON) per its declared encoding,
// keeping at most max bytes.
func readText(raw []byte, encoding string, max int) harBody {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return harBody{}
	}
	if raw[0] != '"' {
		return harBody{note: "text is " + jsonKind(raw[0]) + ", not a string; ignored"}
	}
	enc := strings.ToLower(strings.TrimSpace(encoding))
	if enc != "base64" {
		data, total, ok := unquote(raw, max)
		if !ok {
			return harBody{note: "text is not a valid JSON string; ignored"}
		}
		b := harBody{data: data, total: total, from: fromText}
		if enc != "" {
			b.note = fmt.Sprintf("unknown text encoding %q; read as plain text", clip(encoding, 32))
		}
		return b
	}
	// Base64 needs 4 characters per 3 bytes, plus line breaks some writers add.
	text, n, ok := unquote(raw, 2*max+64)
	if !ok {
		return harBody{note: "text is not a valid JSON string; ignored"}
	}
	data, total, err := decodeBase64(text, max)
	if n > len(text) {
		total = base64Len(raw) // the text was cut: count what was not decoded
	}
	if err != nil {
		// Some exporters label plain text base64; inspecting the text beats inspecting nothing.
		t, n, _ := unquote(raw, max)
		return harBody{data: t, total: n, from: fromText, note: "text declared base64 but is not (" + err.Error() + "); read as plain text"}
	}
	return harBody{data: data, total: total, from: fromBase64}
}

func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// decodeBase64 decodes text leniently (line breaks, missing padding, the URL alphabet), keeping
// at most max bytes; total estimates the full decoded length.
func decodeBase64(text []byte, max int) ([]byte, int, error) {
	clean := make([]byte, 0, len(text))
	url := false
	for _, c := range text {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '-', '_':
			url = true
		}
		clean = append(clean, c)
	}
	clean = bytes.TrimRight(clean, "=")
	total := len(clean) * 3 / 4
	if limit := (max + 2) / 3 * 4; len(clean) > limit {
		clean = clean[:limit]
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	if err != nil {
		return nil, 0, err
	}
	out = out[:n]
	if len(out) > max {
		out = out[:max]
	}
	return out, total, nil
}

// base64Len is the decoded length of the base64 in JSON string literal raw, counted without
// decoding: alphabet characters (escaped or not) times 3/4; padding, line breaks and other escapes
// do not count.
func base64Len(raw []byte) int {
	n := 0
	for i := 1; i < len(raw)-1; i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw)-1 {
			i++
			switch raw[i] {
			case '/':
				n++
			case 'u':
				i += 4
			}
			continue
		}
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_' {
			n++
		}
	}
	return n * 3 / 4
}

// unquote decodes the JSON string literal raw into bytes, keeping at most max of them; total is
// the full decoded length. It differs from encoding/json where the writer's bytes can be kept:
// invalid UTF-8 is kept as is instead of becoming U+FFFD, and a lone low surrogate \udc80-\udcff
// becomes the byte it stands for, undoing Python's surrogateescape (mitmproxy writes bodies it
// could not decode that way). Other lone surrogates become U+FFFD, as in encoding/json.
func unquote(raw []byte, max int) (out []byte, total int, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, 0, false
	}
	s := raw[1 : len(raw)-1]
	out = make([]byte, 0, min(len(s), max))
	emit := func(b ...byte) {
		total += len(b)
		if room := max - len(out); room > 0 {
			out = append(out, b[:min(room, len(b))]...)
		}
	}
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			emit(s[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(s) {
			return nil, 0, false
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			emit(e)
		case 'b':
			emit('\b')
		case 'f':
			emit('\f')
		case 'n':
			emit('\n')
		case 'r':
			emit('\r')
		case 't':
			emit('\t')
		case 'u':
			r, ok := hex4(s[i+2:])
			if !ok {
				return nil, 0, false
			}
			i += 6
			switch {
			case 0xD800 <= r && r < 0xDC00:
				if lo, ok := hex4(s[min(i+2, len(s)):]); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' && 0xDC00 <= lo && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				} else {
					r = utf8.RuneError
				}
			case 0xDC80 <= r && r < 0xDD00:
				emit(byte(r - 0xDC00))
				continue
			case 0xDC00 <= r && r < 0xE000:
				r = utf8.RuneError
			}
			n := utf8.EncodeRune(buf[:], r)
			emit(buf[:n]...)
			continue
		default:
			return nil, 0, false
		}
		i += 2
	}
	return out, total, true
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// outerCoding is the last coding applied per a Content-Encoding value, the one a body's bytes
// start with; empty when there is none.
func outerCoding(ce string) string {
	parts := strings.Split(ce, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		if c := strings.ToLower(strings.TrimSpace(parts[i])); c != "" && c != "identity" {
			return c
		}
	}
	return ""
}

// looksEncoded reports whether b plausibly starts a body in the given coding.
func looksEncoded(coding string, b []byte) bool {
	switch coding {
	case "gzip", "x-gzip":
		return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
	case "zstd":
		return len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd
	case "deflate":
		return zlibHeader(b) || !textual(b)
	default:
		// br and codings without a magic number: compressed data is not text.
		return !textual(b)
	}
}

func zlibHeader(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// textual reports whether the start of b reads as text: valid UTF-8 without control bytes other
// than tab, line breaks and form feed.
func textual(b []byte) bool {
	const window = 1024
	if len(b) > window {
		b = b[:window]
		// Do not count a rune cut at the window as invalid.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f {
			return false
		}
	}
	return true
}

// latin1 returns the bytes b spells when its code points are all below 256, as text written from
// bytes decoded as Latin-1 is.
func latin1(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r > 0xff || r == utf8.RuneError && n <= 1 {
			return nil, false
		}
		out = append(out, byte(r))
		b = b[n:]
	}
	return out, true
}

// encodingState is what a body's bytes say about its Content-Encoding.
type encodingState int

const (
	stillEncoded encodingState = iota // the bytes are the encoded body: decode them
	decoded                           // the exporter recorded the decoded body
	lossy                             // text standing for encoded bytes that the export lost
)

// classify decides whether body b, recorded under Content-Encoding ce, still carries that
// coding, recovering the bytes of a Latin-1 rendering. It returns the (possibly recovered)
// bytes and their state.
func classify(ce string, b harBody) ([]byte, encodingState, bool) {
	coding := outerCoding(ce)
	if coding == "" || len(b.data) == 0 {
		return b.data, stillEncoded, false
	}
	if b.from == fromParams {
		return b.data, decoded, false
	}
	if looksEncoded(coding, b.data) {
		return b.data, stillEncoded, false
	}
	if b.from != fromText {
		return b.data, decoded, false
	}
	if raw, ok := latin1(b.data); ok && !bytes.Equal(raw, b.data) && looksEncoded(coding, raw) {
		return raw, stillEncoded, true
	}
	if bytes.Contains(b.data, []byte("\uFFFD")) || !textual(b.data) {
		return b.data, lossy, false
	}
	return b.data, decoded, false
}

// rebuildParams re-encodes postData.params as the body they came from: multipart/form-data when
// the MIME type says so, else application/x-www-form-urlencoded. It returns the body and the
// Content-Type it has.
func rebuildParams(params []harParam, mimeType string) ([]byte, string) {
	mt, p, err := mime.ParseMediaType(mimeType)
	if err == nil && mt == "multipart/form-data" {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		if b := p["boundary"]; b != "" {
			if w.SetBoundary(b) != nil {
				w = multipart.NewWriter(&buf)
			}
		}
		for _, pr := range params {
			h := textproto.MIMEHeader{}
			disp := `form-data; name="` + quoteEscaper.Replace(pr.Name) + `"`
			if pr.FileName != "" {
				disp += `; filename="` + quoteEscaper.Replace(pr.FileName) + `"`
				h.Set("Content-Type", cmpOr(pr.ContentType, "application/octet-stream"))
			}
			h.Set("Content-Disposition", disp)
			pw, err := w.CreatePart(h)
			if err == nil {
				_, _ = pw.Write([]byte(pr.Value))
			}
		}
		_ = w.Close()
		return buf.Bytes(), w.FormDataContentType()
	}
	var buf bytes.Buffer
	for i, pr := range params {
		if i > 0 {
			buf.WriteByte('&')
		}
		buf.WriteString(url.QueryEscape(pr.Name))
		buf.WriteByte('=')
		buf.WriteString(url.QueryEscape(pr.Value))
	}
	return buf.Bytes(), "application/x-www-form-urlencoded"
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "%0D", "\n", "%0A")

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// clip shortens s for a note and drops control characters, so that a hostile file cannot put
// line breaks or megabytes into a log line.
func clip(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
