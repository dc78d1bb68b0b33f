package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Sentry envelopes (https://develop.sentry.dev/sdk/envelopes/): a JSON header line, then items,
// each a JSON item-header line ({"type":..., "length":N, "content_type":..., "filename":...})
// followed by its payload: length bytes and a newline, or, without a length, up to the next
// newline.
//
// Segment paths:
//   - envelope.<path>            the envelope header (dsn, trace.user_segment, ...)
//   - items[i](TYPE).<path>      a JSON item: items[0](event).exception.values[0].value,
//     items[0](event).breadcrumbs.values[2].message, items[1](session).attrs.release
//   - items[i](attachment)       a text attachment as it stands (or walked, if JSON), with
//     items[i](attachment).filename for its file name; a binary one is a media record
//
// The item index i counts items in the envelope, so paths match the order in which Sentry reads
// them. Framing errors (a header that is not JSON, a length past the end, a missing newline)
// become notes; parsing resumes at the next line where it can and never reads past the body. A
// length that ends a payload short of its newline is taken to be wrong and the payload runs on to
// that newline instead: cutting it at the declared length could split a secret in two.

// sentryItemHeader is what the framing needs from an item header; the rest of the header is
// structure (type, lengths, attachment kinds) except the file name.
type sentryItemHeader struct {
	Type        string          `json:"type"`
	Length      json.RawMessage `json:"length"`
	ContentType string          `json:"content_type"`
	Filename    string          `json:"filename"`
}

// sentryItem is one item as framed: its header, payload and any framing problem.
type sentryItem struct {
	header    sentryItemHeader
	rawHeader []byte // the header line as sent
	payload   []byte
	problem   string // a framing note
}

// sentryEnvelope splits an envelope into its header line and items. It never fails: whatever
// cannot be framed ends up in rest (to be scanned as text) with a note in problem.
type sentryEnvelope struct {
	header  []byte
	items   []sentryItem
	rest    []byte // unframed bytes from the point where framing gave up
	restAt  int    // offset of rest in the body
	problem string
}

// maxSentryItems bounds the work on an envelope of many empty items; Sentry itself caps
// envelopes far lower (100 sessions).
const maxSentryItems = 10000

func parseSentryEnvelope(body []byte) sentryEnvelope {
	var env sentryEnvelope
	line, pos := nextLine(body, 0)
	env.header = line
	for pos < len(body) {
		if len(env.items) == maxSentryItems {
			env.problem = fmt.Sprintf("more than %d items; the rest was not framed", maxSentryItems)
			env.rest, env.restAt = body[pos:], pos
			return env
		}
		start := pos
		line, pos = nextLine(body, pos)
		if len(bytes.TrimSpace(line)) == 0 {
			// Blank lines between items are tolerated (and the final newline is optional).
			continue
		}
		it := sentryItem{rawHeader: line}
		if err := json.Unmarshal(line, &it.header); err != nil || line[0] != '{' {
			env.problem = fmt.Sprintf("item %d: header is not a JSON object", len(env.items))
			env.rest, env.restAt = body[start:], start
			return env
		}
		n, hasLength, err := it.header.length()
		switch {
		case err != nil:
			it.problem = err.Error() + "; read up to the next newline"
			fallthrough
		case !hasLength:
			it.payload, pos = nextLine(body, pos)
		case n > len(body)-pos:
			it.problem = fmt.Sprintf("length %d exceeds the %d bytes left (truncated envelope)", n, len(body)-pos)
			it.payload, pos = body[pos:], len(body)
		case pos+n < len(body) && body[pos+n] != '\n':
			it.problem = fmt.Sprintf("payload of length %d is not followed by a newline; read up to the next one", n)
			rest, next := nextLine(body, pos+n)
			it.payload, pos = body[pos:pos+n+len(rest)], next
		default:
			it.payload, pos = body[pos:pos+n], min(pos+n+1, len(body))
		}
		env.items = append(env.items, it)
	}
	return env
}

// nextLine returns the line at pos (without its newline) and the position after the newline.
func nextLine(body []byte, pos int) ([]byte, int) {
	rest := body[pos:]
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		return rest[:i], pos + i + 1
	}
	return rest, len(body)
}

// length reads the length header: absent, or a non-negative integer.
func (h *sentryItemHeader) length() (n int, ok bool, err error) {
	raw := bytes.TrimSpace(h.Length)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	n, err = strconv.Atoi(string(raw))
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("invalid length %.20s", raw)
	}
	return n, true, nil
}

// sentryBody reads an envelope, whatever the declared content type: browser SDKs send
// text/plain to avoid a CORS preflight.
func sentryBody(r *Request, e *emitter) {
	env := parseSentryEnvelope(r.Body)
	if h := bytes.TrimSpace(env.header); len(h) > 0 {
		if h[0] == '{' {
			e.json("envelope", h, 0)
		} else {
			e.note("envelope: header line is not a JSON object")
			e.text("envelope", string(h), 0)
		}
	}
	for i, it := range env.items {
		if e.full {
			return
		}
		typ := it.header.Type
		if typ == "" {
			typ = "unknown"
		}
		p := fmt.Sprintf("items[%d](%s)", i, typ)
		if it.problem != "" {
			e.note("%s: %s", p, it.problem)
		}
		if e.rec != nil {
			e.rec.sentryItem(&it)
		}
		e.sentryItem(p, &it)
	}
	if env.problem != "" {
		e.note("envelope: %s", env.problem)
	}
	if len(env.rest) > 0 {
		e.text(fmt.Sprintf("envelope@%d", env.restAt), string(env.rest), 0)
	}
}

func (e *emitter) sentryItem(p string, it *sentryItem) {
	payload := it.payload
	if it.header.Filename != "" {
		e.text(p+".filename", it.header.Filename, 0)
	}
	e.sentryItemHeader(p, it.rawHeader)
	if len(payload) == 0 {
		return
	}
	ctype := it.header.ContentType
	switch it.header.Type {
	case "attachment":
		mt, _, _ := mime.ParseMediaType(ctype)
		switch {
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			e.json(p, payload, 0)
		case isTextual(mt) || looksLikeText(payload): // text whatever type it declares
			e.text(p, string(payload), 0)
		default:
			if mt == "" || mt == "application/octet-stream" {
				mt = http.DetectContentType(payload)
			}
			e.media(p, mt, len(payload))
		}
	case "replay_recording":
		// {"segment_id":N}\n then the rrweb events, zlib-compressed by the browser SDK.
		head, rec, ok := bytes.Cut(payload, []byte("\n"))
		if !ok {
			e.jsonOrNDJSON(p, "", payload, 0)
			return
		}
		e.json(p+".header", head, 0)
		if isZlib(rec) {
			data, err := inflate(rec, e.budget())
			if err != nil {
				e.note("%s: %v", p, err)
			}
			e.recDecoded(data, rec, deflateCodec{}, err)
			rec = data
		}
		e.structured(p+".recording", rec, 0)
	default:
		// event, transaction, session(s), client_report, user_report, check_in, log, span,
		// profile, statsd, ...: JSON by the protocol; anything else by its content type.
		if t := bytes.TrimLeft(payload, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			e.jsonOrNDJSON(p, "application/json", payload, 0)
			return
		}
		e.byContentType(p, ctype, payload, 0)
	}
}

// sentryItemHeader emits the members of an item header other than its file name (emitted
// above) at items[i](TYPE)#header.NAME: framing to Sentry, but bytes that reach it, which a
// client may fill with anything. They are scanned but never redacted: an edit could break the
// framing (a length), so the walk runs without the recorder and Redact refuses such a path.
func (e *emitter) sentryItemHeader(p string, line []byte) {
	rec := e.rec
	e.rec = nil
	defer func() { e.rec = rec }()
	pj := newPathJoiner(p + "#header")
	// The line was parsed as a JSON object already; an error here can only be its depth.
	if _, err := walkJSONRec(line, e.lim.MaxJSONDepth, nil, e.keys, func(path []byte, key, v string) {
		if key == "filename" && len(path) == len(key) {
			return
		}
		e.text(pj.join(path), v, 0)
	}); err != nil {
		e.note("%s#header: %v", p, err)
		if errors.Is(err, errJSONDepth) {
			e.limited.set(limJSONDepth)
		}
		e.text(p+"#header", string(line), 0)
	}
}
