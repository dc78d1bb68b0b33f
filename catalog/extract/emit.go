package extract

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/customs-dev/customs/flow"
)

// Limits bound what one extraction may produce, so that a hostile body costs bounded memory and
// time whatever it nests.
type Limits struct {
	MaxSegments  int // default 20000
	MaxBytes     int // total text bytes across segments; default 64 MiB
	MaxNested    int // decode steps inside text (base64 in JSON in base64 ...); default 3
	MaxJSONDepth int // default 256
}

func (l Limits) withDefaults() Limits {
	if l.MaxSegments <= 0 {
		l.MaxSegments = 20000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	if l.MaxNested <= 0 {
		l.MaxNested = 3
	}
	if l.MaxJSONDepth <= 0 {
		l.MaxJSONDepth = 256
	}
	return l
}

// emitter collects segments and notes under the limits, and looks inside each text for encodings
// that hide more text.
type emitter struct {
	lim      Limits
	segs     []flow.Segment
	notes    []string
	bytes    int
	full     bool
	skipKeys map[string]bool // responses only: structural member names whose values are not content
	rec      *recorder       // set by Redact only: where each segment came from
	keys     *keySet         // requests only: the member and parameter names seen, for #keys
	ownKeys  keySet          // what keys points to, kept here to save an allocation
	limited  limitSet        // the limits that cut this extraction
	// facts collects a request's model and retention parameters, or the model an answer
	// names (model.go); nil where nobody asks.
	facts    *reqFacts
	ownFacts reqFacts // what facts points to
}

func (e *emitter) note(format string, args ...any) {
	if len(e.notes) < 50 {
		e.notes = append(e.notes, fmt.Sprintf(format, args...))
	}
}

func (e *emitter) room(n int) bool {
	if e.full {
		return false
	}
	if len(e.segs) >= e.lim.MaxSegments || e.bytes+n > e.lim.MaxBytes {
		e.full = true
		if len(e.segs) >= e.lim.MaxSegments {
			e.limited.set(limSegments)
		} else {
			e.limited.set(limBytes)
		}
		e.note("extraction limit reached (%d segments, %d bytes); the rest was not extracted", len(e.segs), e.bytes)
		return false
	}
	return true
}

// appendText adds a text segment, with no look inside it; the caller has checked room.
func (e *emitter) appendText(path, s string) {
	if e.rec != nil {
		e.rec.segment(len(e.segs), s)
	}
	e.segs = append(e.segs, flow.Segment{Path: path, Text: s})
	e.bytes += len(s)
}

func (e *emitter) media(path, mediaType string, size int) {
	if e.room(0) {
		if e.rec != nil {
			e.rec.segment(len(e.segs), "")
		}
		e.segs = append(e.segs, flow.Segment{Path: path, Media: mediaType, Size: size})
	}
}

// text emits s as a segment at path, then the texts encoded inside it: a JSON document in a
// string (tool-call arguments), a data: URL, base64 or URL-encoded runs that decode to text.
// depth counts the decode steps already taken.
func (e *emitter) text(path, s string, depth int) {
	if s == "" {
		return
	}
	if depth < e.lim.MaxNested {
		if e.nestedJSON(path, s, depth) || e.dataURL(path, s, depth) || e.wholeBinary(path, s) {
			return
		}
	}
	if !e.room(len(s)) {
		return
	}
	e.appendText(path, s)
	if depth < e.lim.MaxNested {
		if len(s) >= minBase64Run {
			e.base64Runs(path, s, depth)
		}
		e.urlEncoded(path, s, depth)
		return
	}
	// At the depth limit the text is scanned as it stands. That cuts the extraction only if
	// something in it would have been decoded; one finding is enough to say so.
	if !e.limited.has(limNestedDepth) && e.wouldDecode(s) {
		e.limited.set(limNestedDepth)
		e.note("%s: encoded text at the decode depth limit (%d); scanned as it stands", path, e.lim.MaxNested)
	}
}

// wouldDecode reports whether text would reveal more text if decoded one step further: it is a
// JSON document, a textual data: URL, or holds a base64 run or percent-encoded run that decodes
// to text. It is text's probe at the depth limit, and emits nothing.
func (e *emitter) wouldDecode(s string) bool {
	if t := strings.TrimSpace(s); isJSONDocument(t) {
		if _, err := walkJSON(bytesView(t), e.lim.MaxJSONDepth, func([]byte, string, string) {}); err == nil {
			return true
		}
	}
	if d, ok := parseDataURL(s); ok && d.err == nil && looksLikeText(d.data) {
		return true
	}
	found := false
	if len(s) >= minBase64Run {
		scanBase64Runs(s, func(int, int, []byte) bool {
			found = true
			return false
		})
	}
	if !found {
		scanURLEncoded(s, func(int, int, string) bool {
			found = true
			return false
		})
	}
	return found
}

// isJSONDocument: t (trimmed) opens and closes like a JSON object or array.
func isJSONDocument(t string) bool {
	return len(t) >= 2 && (t[0] == '{' && t[len(t)-1] == '}' || t[0] == '[' && t[len(t)-1] == ']')
}

// nestedJSON walks a string that is itself a JSON object or array; its leaves stand for it.
func (e *emitter) nestedJSON(path, s string, depth int) bool {
	t := strings.TrimSpace(s)
	if !isJSONDocument(t) {
		return false
	}
	var leaves []flow.Segment
	mark, keyMark := e.rec.mark(), e.keys.mark()
	pj := newPathJoiner(path + "/json")
	_, err := walkJSONRec(bytesView(t), e.lim.MaxJSONDepth, e.rec, e.keys, func(p []byte, _ string, v string) {
		leaves = append(leaves, flow.Segment{Path: pj.join(p), Text: v})
	})
	if err != nil {
		e.rec.rollback(mark)
		e.keys.rollback(keyMark)
		if errors.Is(err, errJSONDepth) {
			// Scanned as text, brackets and escapes and all: its leaves were never read.
			e.limited.set(limJSONDepth)
			e.note("%s: %v", path, err)
		}
		return false // not JSON after all: scan it as text
	}
	// The document itself comes first, marked as a container: its member names are the only
	// context a pasted configuration gives its values. The engine reports a value found both
	// here and in a leaf once, at the leaf.
	if e.room(len(s)) {
		e.appendText(path, s)
		e.segs[len(e.segs)-1].Container = true
	}
	for _, l := range leaves {
		e.text(l.Path, l.Text, depth+1)
	}
	return true
}

// dataURL records a data: URL's media type and size; a textual one is decoded and scanned.
func (e *emitter) dataURL(path, s string, depth int) bool {
	d, ok := parseDataURL(s)
	if !ok {
		return false
	}
	if d.err != nil {
		// Scanned as text, as it stands.
		if d.base64 {
			e.note("%s: data URL with invalid base64", path)
		}
		return false
	}
	if e.rec != nil {
		if d.base64 {
			e.rec.decoded(view(d.data), d.payload, base64Codec{})
		} else {
			e.rec.decoded(view(d.data), d.payload, percentCodec{})
		}
	}
	// Text is scanned whatever type the URL declares: "image/png" costs nothing to write.
	if looksLikeText(d.data) {
		e.text(path+"/dataurl", view(d.data), depth+1)
		return true
	}
	e.media(path, d.mediaType, len(d.data))
	return true
}

// dataURLParts is a data: URL taken apart.
type dataURLParts struct {
	mediaType string // "text/plain" when the URL names none
	payload   string // as written, after the comma
	base64    bool
	data      []byte // the payload decoded; nil when err is set
	err       error  // the payload does not decode
}

// parseDataURL takes a data: URL apart and decodes its payload; ok is false when s is not one.
func parseDataURL(s string) (d dataURLParts, ok bool) {
	if !strings.HasPrefix(s, "data:") {
		return d, false
	}
	meta, payload, ok := strings.Cut(s[5:], ",")
	if !ok {
		return d, false
	}
	d.payload = payload
	d.mediaType, d.base64 = strings.CutSuffix(meta, ";base64")
	if i := strings.IndexByte(d.mediaType, ';'); i >= 0 {
		d.mediaType = d.mediaType[:i]
	}
	if d.mediaType == "" {
		d.mediaType = "text/plain"
	}
	if d.base64 {
		d.data, d.err = decodeBase64(payload)
	} else {
		var u string
		if u, d.err = url.PathUnescape(payload); d.err == nil {
			d.data = []byte(u)
		}
	}
	return d, true
}

// wholeBinary turns a long base64 string that decodes to binary (an inline image or PDF) into a
// media record instead of megabytes of text for the detectors. Short ones stay text: a
// base64-encoded key is exactly what a detector must see.
func (e *emitter) wholeBinary(path, s string) bool {
	if len(s) < 256 || !isBase64Run(s) {
		return false
	}
	data, err := decodeBase64(s)
	if err != nil || looksLikeText(data) {
		return false
	}
	e.media(path, http.DetectContentType(data), len(data))
	return true
}

const minBase64Run = 24

// base64Runs scans s for runs of base64 that decode to text and scans those too.
func (e *emitter) base64Runs(path, s string, depth int) {
	scanBase64Runs(s, func(i, end int, data []byte) bool {
		if e.rec != nil {
			e.rec.decoded(view(data), s[i:end], base64Codec{})
		}
		p := path + "/base64"
		if i > 0 || end < len(s) {
			p = fmt.Sprintf("%s/base64@%d", path, i)
		}
		e.textOrJSON(p, view(data), depth+1)
		return true
	})
}

// scanBase64Runs calls fn with each run of base64 in s (s[i:end], padding included) that
// decodes to text, and what it decodes to, until fn returns false. Any run of at least
// minBase64Run bytes covers a position that is a multiple of minBase64Run, so only those
// positions are probed and widened: prose, whose words are short, costs a fraction of its length.
func scanBase64Runs(s string, fn func(i, end int, data []byte) bool) {
	for k := minBase64Run - 1; k < len(s); k += minBase64Run {
		if !b64Table[s[k]] {
			continue
		}
		i, j := k, k+1
		for i > 0 && b64Table[s[i-1]] {
			i--
		}
		for j < len(s) && b64Table[s[j]] {
			j++
		}
		// MIME and PEM wrap base64 at a fixed width (76, 64): a line whose length is a multiple
		// of four continues on the next, so a secret is not cut at the wrap.
		wrapped := false
		// Line lengths are tracked, not searched for: looking back for the line start at every
		// run made a long line of prose quadratic.
		for lineLen := j - i; lineLen >= 60 && lineLen%4 == 0; {
			n := newlineAt(s, j)
			if n == 0 || !wholeBase64Line(s[j+n:]) {
				break
			}
			j += n
			ls := j
			for j < len(s) && b64Table[s[j]] {
				j++
			}
			lineLen = j - ls
			wrapped = true
		}
		end := j
		for end < len(s) && end-j < 2 && s[end] == '=' {
			end++
		}
		if j-i >= minBase64Run && textPrefix(s[i:j]) {
			run := s[i:end]
			if wrapped {
				run = strings.NewReplacer("\r", "", "\n", "").Replace(run)
			}
			if data, err := decodeBase64(run); err == nil && looksLikeText(data) && !fn(i, end, data) {
				return
			}
		}
		// Continue past this run: the next probe that can start a new run is beyond it.
		if next := end + minBase64Run - 1; next > k {
			k = next - minBase64Run
		}
	}
}

// textPrefix decodes the first eight characters of a base64 run and checks that they are text
// (printable ASCII or well-formed UTF-8), so that the many IDs and hashes that are valid base64
// (device IDs, digests) are turned away before a full decode.
func textPrefix(run string) bool {
	var out [6]byte
	enc := base64.StdEncoding
	if strings.ContainsAny(run[:8], "-_") {
		enc = base64.URLEncoding
	}
	if _, err := enc.Decode(out[:], []byte(run[:8])); err != nil {
		return false
	}
	for i := 0; i < len(out); {
		c := out[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		// Non-ASCII must be well-formed UTF-8; a sequence cut by the end of the probe is fine.
		r, size := utf8.DecodeRune(out[i:])
		if r == utf8.RuneError && size <= 1 && utf8.FullRune(out[i:]) {
			return false
		}
		i += max(size, 1)
	}
	return true
}

// wholeBase64Line reports whether s begins with a line of nothing but base64 (and padding), the
// continuation of a wrapped block rather than the next line of a document ("stringData:").
func wholeBase64Line(s string) bool {
	n := 0
	for n < len(s) && s[n] != '\n' && s[n] != '\r' {
		if !b64Table[s[n]] && s[n] != '=' {
			return false
		}
		n++
	}
	return n > 0
}

// newlineAt returns the length of a line break at s[j] ("\n" or "\r\n"), or 0.
func newlineAt(s string, j int) int {
	switch {
	case j < len(s) && s[j] == '\n':
		return 1
	case j+1 < len(s) && s[j] == '\r' && s[j+1] == '\n':
		return 2
	}
	return 0
}

var b64Table = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isB64Byte(byte(c))
	}
	return t
}()

// textOrJSON scans decoded text, walking it as JSON (without a further /json step) when it is.
func (e *emitter) textOrJSON(path, s string, depth int) {
	t := strings.TrimSpace(s)
	if len(t) >= 2 && (t[0] == '{' || t[0] == '[') {
		var leaves []flow.Segment
		mark, keyMark := e.rec.mark(), e.keys.mark()
		pj := newPathJoiner(path)
		_, err := walkJSONRec(bytesView(t), e.lim.MaxJSONDepth, e.rec, e.keys, func(p []byte, key string, v string) {
			leaves = append(leaves, flow.Segment{Path: pj.join(p), Text: v})
		})
		if err == nil {
			// The decoded document itself is scanned too, as one text: some secrets are only
			// recognisable whole (a service-account file: its type and its private key are
			// different leaves). Engine.Find counts a value found again in a leaf once.
			if e.room(len(s)) {
				e.appendText(path, s)
			}
			for _, l := range leaves {
				e.text(l.Path, l.Text, depth)
			}
			return
		}
		e.rec.rollback(mark)
		e.keys.rollback(keyMark)
		if errors.Is(err, errJSONDepth) {
			e.limited.set(limJSONDepth)
			e.note("%s: %v", path, err)
		}
	}
	e.text(path, s, depth)
}

// maxURLEncodedRuns bounds the percent-encoded runs decoded in one text: a text made of
// thousands of tiny escaped tokens would otherwise become as many segments.
const maxURLEncodedRuns = 256

// urlEncoded decodes the percent-encoded runs of s — each whitespace- or quote-delimited token
// with a valid %XX escape, such as a URL whose query holds email=leo.park%40acme-corp.com — and
// scans what they decode to. One escape is enough (a single %40 hides an address), and a stray
// '%' elsewhere ("50% off") does not stop the rest from being decoded.
//
// Past maxURLEncodedRuns the rest of the text, from the next run on, is decoded as one piece
// (escapes that are not valid stay as written), so that a text of many runs still has every
// one of them decoded, in a bounded number of segments.
func (e *emitter) urlEncoded(path, s string, depth int) {
	runs := 0
	scanURLEncoded(s, func(i, j int, u string) bool {
		tok := s[i:j]
		if runs == maxURLEncodedRuns {
			tok = s[i:]
			u = unescapeLenient(tok)
		}
		runs++
		if e.rec != nil {
			e.rec.decoded(u, tok, formCodec{})
		}
		p := path + "/urlenc"
		if i > 0 || i+len(tok) < len(s) {
			p = fmt.Sprintf("%s/urlenc@%d", path, i)
		}
		e.textOrJSON(p, u, depth+1)
		return runs <= maxURLEncodedRuns
	})
}

// scanURLEncoded calls fn with each percent-encoded run of s (s[i:j]) and what it decodes to,
// until fn returns false.
func scanURLEncoded(s string, fn func(i, j int, u string) bool) {
	for k := strings.IndexByte(s, '%'); k >= 0; {
		i, j := k, k
		for i > 0 && !urlRunEnd(s[i-1]) {
			i--
		}
		for j < len(s) && !urlRunEnd(s[j]) {
			j++
		}
		if tok := s[i:j]; hasPercentEscape(tok) {
			if u, err := url.QueryUnescape(tok); err == nil && u != tok && !fn(i, j, u) {
				return
			}
		}
		next := strings.IndexByte(s[j:], '%')
		if next < 0 {
			return
		}
		k = j + next
	}
}

// unescapeLenient decodes %XX escapes and '+' like url.QueryUnescape, but keeps a '%' that
// starts no valid escape as it is instead of failing ("50% off").
func unescapeLenient(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' && i+2 < len(s) && unhex(s[i+1]) >= 0 && unhex(s[i+2]) >= 0:
			b = append(b, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
			i += 2
		case c == '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// urlRunEnd: bytes that cannot be part of a percent-encoded token (an encoder escapes them).
func urlRunEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`'
}

func hasPercentEscape(s string) bool {
	for k := strings.IndexByte(s, '%'); k >= 0 && k+2 < len(s); {
		if unhex(s[k+1]) >= 0 && unhex(s[k+2]) >= 0 {
			return true
		}
		n := strings.IndexByte(s[k+1:], '%')
		if n < 0 {
			return false
		}
		k += 1 + n
	}
	return false
}

// joinPath appends a JSON path to a location. After a decode step the inner path follows a '/'
// (query:data/base64/[0].properties.prompt); inside one document it continues the dotted path
// (messages[0] + content, messages + [0]). The rule lives in pathJoiner; this is its one-off
// form for the few places that join a single path.
func joinPath(prefix, p string) string {
	if p == "" {
		return prefix
	}
	j := newPathJoiner(prefix)
	return j.join([]byte(p))
}

// pathJoiner joins one prefix to the many leaf paths of a document into a reused buffer: one
// allocation per leaf instead of two, on the hottest line of extraction.
type pathJoiner struct {
	prefix string
	sep    string // between prefix and a path that starts with a member name
	brack  string // between prefix and a path that starts with [
	buf    []byte
}

func newPathJoiner(prefix string) *pathJoiner {
	j := &pathJoiner{prefix: prefix}
	switch {
	case prefix == "" || strings.HasSuffix(prefix, ":") || strings.HasSuffix(prefix, "/"):
		// A gRPC message's root (grpc:/pkg.Service/Method/) ends in '/' already.
	case endsInDecodeStep(prefix):
		j.sep, j.brack = "/", "/"
	default:
		j.sep = "."
	}
	return j
}

func (j *pathJoiner) join(p []byte) string {
	if len(p) == 0 {
		return j.prefix
	}
	j.buf = append(j.buf[:0], j.prefix...)
	if j.prefix != "" {
		if p[0] == '[' {
			j.buf = append(j.buf, j.brack...)
		} else {
			j.buf = append(j.buf, j.sep...)
		}
	}
	j.buf = append(j.buf, p...)
	return string(j.buf)
}

func endsInDecodeStep(prefix string) bool {
	step := prefix[strings.LastIndexByte(prefix, '/')+1:]
	if i := strings.IndexByte(step, '@'); i >= 0 {
		step = step[:i]
	}
	switch step {
	case "json", "base64", "urlenc", "dataurl", "gunzip", "inflate", "lz64":
		return true
	}
	return false
}

func isB64Byte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

func isBase64Run(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isB64Byte(s[i]) && !(s[i] == '=' && i >= len(s)-2) {
			return false
		}
	}
	return true
}

// decodeBase64 accepts standard and URL alphabets, with or without padding, as clients send both.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// looksLikeText: valid UTF-8, no NUL, and mostly printable, so that random bytes that happen to be
// valid base64 are not scanned as text.
func looksLikeText(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	// A byte loop rather than a range over string(b): that conversion copied the body whole,
	// one memmove of up to the decode limit that the scheduler cannot preempt (it held up
	// garbage collections, and so every request, under a flood of compression bombs). b is valid
	// UTF-8, so every rune past ASCII is printable and counts at its first byte.
	printable, runes := 0, 0
	for _, c := range b {
		switch {
		case c >= utf8.RuneSelf:
			if utf8.RuneStart(c) {
				printable++
				runes++
			}
		case c >= 0x20 && c != 0x7f || c == '\n' || c == '\r' || c == '\t':
			printable++
			runes++
		default:
			runes++
		}
	}
	return printable*10 >= runes*9
}

func isTextual(mediaType string) bool {
	return strings.HasPrefix(mediaType, "text/") || mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") ||
		mediaType == "application/xml" || mediaType == "application/x-ndjson" || mediaType == "application/jsonl"
}
