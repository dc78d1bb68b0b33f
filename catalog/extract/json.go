package extract

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// jsonLeaf is called for every string leaf (unescaped) and every long number leaf of a JSON
// document, with the leaf's path (messages[2].content). key is the leaf's own member name ("" for
// array elements), so callers can skip structural fields without parsing the path.
type jsonLeaf func(path []byte, key string, value string)

// errJSONDepth stops a walk at the nesting limit: a 100k-deep document must cost neither stack nor
// time.
var errJSONDepth = errors.New("nesting deeper than the limit")

// walkJSON visits the leaves of one JSON value in data. It is a hand-written scanner rather than
// encoding/json because it runs over every intercepted body: it allocates only for strings that
// carry escapes and for the paths it hands out, and it never recurses. On malformed input it
// returns an error that says where, after having visited every leaf before that point, so a
// truncated body still yields what it holds. It returns the offset just past the value.
func walkJSON(data []byte, maxDepth int, visit jsonLeaf) (int, error) {
	return walkJSONRec(data, maxDepth, nil, nil, visit)
}

// walkJSONRec is walkJSON that also tells rec, when not nil, where each leaf's raw form lies and
// how it is encoded (before visiting it), so that Redact can write an edited leaf back, and adds
// every member name it reads to keys, when not nil: a name is sent to the vendor like a value,
// and a secret can be made a name as easily.
func walkJSONRec(data []byte, maxDepth int, rec *recorder, keys *keySet, visit jsonLeaf) (int, error) {
	return walkJSONFacts(data, maxDepth, rec, keys, nil, visit)
}

// walkJSONFacts is walkJSONRec that also tells facts, when not nil, of every member of a
// top-level object (see reqFacts.member): the model and the retention parameters of a request
// are read in the same pass as its text.
func walkJSONFacts(data []byte, maxDepth int, rec *recorder, keys *keySet, facts *reqFacts, visit jsonLeaf) (int, error) {
	w := jsonWalker{data: data, visit: visit, maxDepth: maxDepth, rec: rec, keys: keys, facts: facts}
	if err := w.run(); err != nil {
		// Point at the token that failed, so the caller can still scan it (a truncated string
		// may hold half a secret).
		return w.tokStart, err
	}
	return w.pos, nil
}

type frame struct {
	array   bool
	index   int
	pathLen int // length of path before this container's element was appended
}

type jsonWalker struct {
	data     []byte
	pos      int
	path     []byte
	stack    []frame
	maxDepth int
	visit    jsonLeaf
	rec      *recorder
	keys     *keySet
	facts    *reqFacts
	scratch  []byte
	tokStart int // where the value or member name being read began
}

func (w *jsonWalker) errorf(format string, args ...any) error {
	return fmt.Errorf("json: %s at offset %d", fmt.Sprintf(format, args...), w.pos)
}

func (w *jsonWalker) skipSpace() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// run walks iteratively: the stack holds open containers, path holds the current path.
func (w *jsonWalker) run() error {
	key := ""
	for {
		w.skipSpace()
		if w.pos >= len(w.data) {
			return w.errorf("unexpected end")
		}
		// A value.
		w.tokStart = w.pos
		switch c := w.data[w.pos]; {
		case c == '{' || c == '[':
			if len(w.stack) >= w.maxDepth {
				return fmt.Errorf("json: %w (%d) at offset %d", errJSONDepth, w.maxDepth, w.pos)
			}
			w.pos++
			top := w.atTop()
			w.stack = append(w.stack, frame{array: c == '[', pathLen: len(w.path)})
			w.skipSpace()
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			empty := w.pos < len(w.data) && w.data[w.pos] == closer
			if top {
				w.facts.member(key, c, "", empty)
			}
			if empty {
				w.pos++
				w.stack = w.stack[:len(w.stack)-1]
				break
			}
			var err error
			if key, err = w.enterElement(); err != nil {
				return err
			}
			continue
		case c == '"':
			s, err := w.readString()
			if err != nil {
				return err
			}
			if w.rec != nil {
				w.rec.decoded(s, view(w.data[w.tokStart+1:w.pos-1]), jsonStringCodec{})
			}
			if w.atTop() {
				w.facts.member(key, c, s, s == "")
			}
			w.visit(w.path, key, s)
		case c == '-' || c >= '0' && c <= '9':
			start := w.pos
			for w.pos < len(w.data) && isNumberByte(w.data[w.pos]) {
				w.pos++
			}
			// Long integers can be card, phone or account numbers written as JSON numbers.
			if w.pos-start >= 8 {
				v := string(w.data[start:w.pos])
				if w.rec != nil {
					w.rec.decoded(v, view(w.data[start:w.pos]), jsonNumberCodec{})
				}
				w.visit(w.path, key, v)
			}
		case c == 't' || c == 'f' || c == 'n':
			lit := "null"
			switch c {
			case 't':
				lit = "true"
			case 'f':
				lit = "false"
			}
			if err := w.literal(lit); err != nil {
				return err
			}
			if w.atTop() {
				w.facts.member(key, c, "", false)
			}
		default:
			return w.errorf("unexpected %q", c)
		}
		// After a value: close containers or move to the next element.
		for {
			if len(w.stack) == 0 {
				return nil
			}
			w.skipSpace()
			if w.pos >= len(w.data) {
				return w.errorf("unexpected end")
			}
			top := &w.stack[len(w.stack)-1]
			c := w.data[w.pos]
			if c == ',' {
				w.pos++
				top.index++
				var err error
				if key, err = w.enterElement(); err != nil {
					return err
				}
				break
			}
			if (top.array && c == ']') || (!top.array && c == '}') {
				w.pos++
				w.path = w.path[:top.pathLen]
				w.stack = w.stack[:len(w.stack)-1]
				continue
			}
			return w.errorf("unexpected %q after a value", c)
		}
	}
}

// atTop reports whether facts are wanted and the value being read is a member of a top-level
// object.
func (w *jsonWalker) atTop() bool {
	return w.facts != nil && len(w.stack) == 1 && !w.stack[0].array
}

// enterElement sets the path for the next element of the innermost container, reading the member
// name of an object, and returns that name.
func (w *jsonWalker) enterElement() (string, error) {
	top := &w.stack[len(w.stack)-1]
	w.path = w.path[:top.pathLen]
	if top.array {
		w.path = append(w.path, '[')
		w.path = strconv.AppendInt(w.path, int64(top.index), 10)
		w.path = append(w.path, ']')
		return "", nil
	}
	w.skipSpace()
	w.tokStart = w.pos
	if w.pos >= len(w.data) || w.data[w.pos] != '"' {
		return "", w.errorf("expected a member name")
	}
	name, err := w.readString()
	if err != nil {
		return "", err
	}
	w.skipSpace()
	if w.pos >= len(w.data) || w.data[w.pos] != ':' {
		return "", w.errorf("expected ':' after member name")
	}
	w.pos++
	w.keys.add(name)
	w.path = appendKey(w.path, name)
	return name, nil
}

// appendKey adds .name, or ["name"] when the name would be ambiguous in a dotted path.
func appendKey(path []byte, name string) []byte {
	plain := name != ""
	for i := 0; i < len(name) && plain; i++ {
		c := name[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$' || c == '@'
	}
	if plain {
		if len(path) > 0 {
			path = append(path, '.')
		}
		return append(path, name...)
	}
	path = append(path, '[')
	path = strconv.AppendQuote(path, name)
	return append(path, ']')
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func (w *jsonWalker) literal(lit string) error {
	if len(w.data)-w.pos < len(lit) || string(w.data[w.pos:w.pos+len(lit)]) != lit {
		return w.errorf("invalid literal")
	}
	w.pos += len(lit)
	return nil
}

// readString reads a JSON string at w.pos (which holds the opening quote) and returns it
// unescaped. Strings without escapes, the common case, cost one copy.
func (w *jsonWalker) readString() (string, error) {
	w.pos++
	start := w.pos
	// The closing quote by a vectorised search; a backslash before it sends the string to the
	// escape-aware path.
	q := bytes.IndexByte(w.data[start:], '"')
	if q < 0 {
		w.pos = len(w.data)
		return "", w.errorf("unterminated string")
	}
	if bytes.IndexByte(w.data[start:start+q], '\\') >= 0 {
		return w.readEscaped(start)
	}
	w.pos = start + q + 1
	return view(w.data[start : start+q]), nil
}

// readEscaped reads a string with escapes from start. Stretches between escapes are copied
// whole; the closing quote is searched again only when an escape swallowed the one found, which
// keeps the work linear however many escapes a prompt has (prompts are full of \n and \").
func (w *jsonWalker) readEscaped(start int) (string, error) {
	buf := w.scratch[:0]
	w.pos = start
	quote := -1
	for {
		if quote < w.pos {
			q := bytes.IndexByte(w.data[w.pos:], '"')
			if q < 0 {
				w.pos = len(w.data)
				return "", w.errorf("unterminated string")
			}
			quote = w.pos + q
		}
		b := bytes.IndexByte(w.data[w.pos:quote], '\\')
		if b < 0 {
			buf = append(buf, w.data[w.pos:quote]...)
			w.pos = quote + 1
			w.scratch = buf
			return string(buf), nil
		}
		buf = append(buf, w.data[w.pos:w.pos+b]...)
		w.pos += b
		var err error
		if buf, err = w.escape(buf); err != nil {
			return "", err
		}
	}
}

// escape decodes the escape sequence at w.pos (a backslash) onto buf.
func (w *jsonWalker) escape(buf []byte) ([]byte, error) {
	if w.pos+1 >= len(w.data) {
		w.pos = len(w.data)
		return nil, w.errorf("unterminated string")
	}
	e := w.data[w.pos+1]
	w.pos += 2
	switch e {
	case '"', '\\', '/':
		buf = append(buf, e)
	case 'b':
		buf = append(buf, '\b')
	case 'f':
		buf = append(buf, '\f')
	case 'n':
		buf = append(buf, '\n')
	case 'r':
		buf = append(buf, '\r')
	case 't':
		buf = append(buf, '\t')
	case 'u':
		r, ok := w.hex4()
		if !ok {
			return nil, w.errorf("invalid \\u escape")
		}
		if utf16.IsSurrogate(r) {
			// A surrogate pair spells one character across two escapes (an emoji, or a secret
			// someone escaped to hide it). A lone half is U+FFFD, and the escape after it, if
			// not its other half, is read on its own.
			pair := utf8.RuneError
			if r < 0xdc00 && w.pos+1 < len(w.data) && w.data[w.pos] == '\\' && w.data[w.pos+1] == 'u' {
				save := w.pos
				w.pos += 2
				if r2, ok := w.hex4(); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
					pair = utf16.DecodeRune(r, r2)
				} else {
					w.pos = save
				}
			}
			r = pair
		}
		buf = utf8.AppendRune(buf, r)
	default:
		return nil, w.errorf("invalid escape \\%c", e)
	}
	return buf, nil
}

func (w *jsonWalker) hex4() (rune, bool) {
	if len(w.data)-w.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range w.data[w.pos : w.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	w.pos += 4
	return r, true
}

// view returns b as a string without copying it. Extraction never writes to the bodies it reads,
// and Extract's contract forbids the caller to while the result is in use, so segments may share
// the body's memory: on a 16 KiB prompt this saves a copy of most of its bytes.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// bytesView is view's inverse, for handing a string to a reader of []byte that never writes to
// it (walkJSON): a decoded JSON document is walked where it lies instead of in a copy, so its
// leaves point into it and Redact can tell where they came from.
func bytesView(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
