package extract

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"net/textproto"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/klauspost/compress/gzip"

	"github.com/customs-dev/customs/flow"
)

// Edit replaces Text[Start:End] of the segment at Path with Replacement. Path, Start and End are
// a segment path and byte span as Extract reported them (a finding's Path, Start and End).
type Edit struct {
	Path        string
	Start, End  int
	Replacement string
}

// Redact returns r's body and raw query with the edits applied, each edited value written back
// the way it was found: JSON string escaping (the rest of the string keeps its own escapes), form
// and query percent-encoding, base64 in the same alphabet, padding and line width, JSON inside a
// JSON string, data: URLs, multipart parts (the boundary stays), NDJSON lines, gzip and deflate
// inside the body. A long JSON number whose edit leaves no number becomes a JSON string. Bytes
// outside the edited values are left as they were. Paths and spans must be those Extract
// reported for the same request with the same limits; a path that names several segments (a
// repeated form key) is accepted only when they hold the same text, and then each is edited.
//
// If any edit cannot be applied safely — an unknown path, a span out of range, overlapping
// edits, a value in an encoding Redact cannot reproduce (PostHog lz64, a truncated gzip stream,
// a Sentry item with a declared length), or a text that is not in the body or query at all (a
// header, the URL path, the #keys names) — Redact returns an error naming the path and the
// reason, and no body: the caller must then block the request rather than send it. As a last
// check the result is extracted again and must show every edited segment as edited.
//
// r.Body is never modified; the body returned is r.Body itself when no edit falls in it.
func Redact(r *Request, lim Limits, edits []Edit) (body []byte, rawQuery string, err error) {
	if len(edits) == 0 {
		return r.Body, r.RawQuery, nil
	}
	for _, ed := range edits {
		if err := rewritable(ed.Path); err != nil {
			return nil, "", err
		}
	}
	rec := newRecorder(r)
	e := &emitter{lim: lim.withDefaults(), rec: rec}
	res := e.request(r)

	byPath := make(map[string][]int, len(res.Segments))
	for i, s := range res.Segments {
		byPath[s.Path] = append(byPath[s.Path], i)
	}
	var edited []int // segment indexes, for the final check
	seen := map[int]bool{}
	for _, ed := range edits {
		idx, err := editTargets(res.Segments, byPath[ed.Path], ed)
		if err != nil {
			return nil, "", err
		}
		for _, i := range idx {
			o := rec.origin(i)
			if o.n == nil {
				return nil, "", fmt.Errorf("redact %s: its text is not in the request body or query (the URL path, a header, a file name)", ed.Path)
			}
			o.n.splices = append(o.n.splices, splice{start: o.off + ed.Start, end: o.off + ed.End, repl: ed.Replacement, path: ed.Path})
			if !seen[i] {
				seen[i] = true
				edited = append(edited, i)
			}
		}
	}

	// Nodes were recorded parents first, so walking them backwards re-encodes every child
	// before the parent it is spliced into.
	newData := map[*node]string{}
	for _, i := range edited {
		newData[rec.origin(i).n] = ""
	}
	for i := len(rec.nodes) - 1; i >= 0; i-- {
		n := rec.nodes[i]
		if len(n.splices) == 0 {
			continue
		}
		sp, err := sortSplices(n.splices)
		if err != nil {
			return nil, "", err
		}
		n.splices = sp
		if _, ok := newData[n]; ok {
			newData[n] = applySplices(n.data, sp)
		}
		if n == rec.body || n == rec.query {
			continue
		}
		if u, ok := n.codec.(unsupportedCodec); ok {
			return nil, "", fmt.Errorf("redact %s: %s", sp[0].path, string(u))
		}
		if n.parent == nil {
			return nil, "", fmt.Errorf("redact %s: %s not found in the request body or query", sp[0].path, n.codec.what())
		}
		raw := n.parent.data[n.start:n.end]
		out, err := n.codec.reencode(raw, n.data, sp)
		if err != nil {
			return nil, "", fmt.Errorf("redact %s: %s: %w", sp[0].path, n.codec.what(), err)
		}
		if out == raw {
			continue
		}
		// Only the bytes that changed are spliced into the parent, so that the parent
		// re-encodes as little as it can and keeps its own escapes around them.
		p, s := commonAffixes(raw, out)
		n.parent.splices = append(n.parent.splices, splice{start: n.start + p, end: n.end - s, repl: out[p : len(out)-s], path: sp[0].path})
	}

	body, rawQuery = r.Body, r.RawQuery
	if n := rec.body; n != nil && len(n.splices) > 0 {
		body = []byte(applySplices(n.data, n.splices))
	}
	if n := rec.query; n != nil && len(n.splices) > 0 {
		for _, s := range n.splices {
			if err := checkQueryBytes(s.repl); err != nil {
				return nil, "", fmt.Errorf("redact %s: query string: %w", s.path, err)
			}
		}
		rawQuery = applySplices(n.data, n.splices)
	}
	if err := verifyRedaction(r, lim, body, rawQuery, res.Segments, edited, rec, newData); err != nil {
		return nil, "", err
	}
	return body, rawQuery, nil
}

// rewritable refuses the paths of texts that Redact cannot write back, which only name the body
// and the query: request headers, the URL path and the member names of #keys, and whatever was
// decoded from them (header:authorization/base64@6). Blocking the request is the caller's
// answer.
func rewritable(path string) error {
	base, _, _ := strings.Cut(path, "/")
	switch {
	case strings.HasPrefix(base, "header:"):
		return fmt.Errorf("redact %s: a header value cannot be rewritten", path)
	case base == "url:path" || strings.HasPrefix(base, "url:path["):
		return fmt.Errorf("redact %s: the URL path cannot be rewritten", path)
	case base == "#keys":
		return fmt.Errorf("redact %s: JSON member names (and query, form and header names) cannot be rewritten", path)
	}
	return nil
}

// editTargets finds the segments an edit names and checks its span against them.
func editTargets(segs []flow.Segment, idx []int, ed Edit) ([]int, error) {
	var text []int
	media := ""
	for _, i := range idx {
		if segs[i].Media != "" {
			media = segs[i].Media
			continue
		}
		text = append(text, i)
	}
	switch {
	case len(text) == 0 && media != "":
		return nil, fmt.Errorf("redact %s: the segment is %s media, not text", ed.Path, media)
	case len(text) == 0:
		return nil, fmt.Errorf("redact %s: no segment at this path", ed.Path)
	}
	first := segs[text[0]].Text
	for _, i := range text[1:] {
		if segs[i].Text != first {
			return nil, fmt.Errorf("redact %s: the path names %d segments with different texts", ed.Path, len(text))
		}
	}
	if ed.Start < 0 || ed.End < ed.Start || ed.End > len(first) {
		return nil, fmt.Errorf("redact %s: span %d:%d out of range (the text is %d bytes)", ed.Path, ed.Start, ed.End, len(first))
	}
	return text, nil
}

// verifyRedaction extracts the redacted request again and looks for each edited segment as
// Redact predicts it. A miss means the edit did not land where extraction reads (or changed
// what extraction makes of the request), and sending the result would be a guess.
func verifyRedaction(r *Request, lim Limits, body []byte, rawQuery string, segs []flow.Segment, edited []int, rec *recorder, newData map[*node]string) error {
	again := *r
	again.Body, again.RawQuery = body, rawQuery
	res := Extract(&again, lim)
	have := make(map[string]bool, len(res.Segments))
	for _, s := range res.Segments {
		if s.Media == "" {
			have[s.Text] = true
		}
	}
	for _, i := range edited {
		o := rec.origin(i)
		start, ok1 := newOffset(o.n.splices, o.off, false)
		end, ok2 := newOffset(o.n.splices, o.off+len(segs[i].Text), true)
		if !ok1 || !ok2 {
			return fmt.Errorf("redact %s: edits cross the segment's edge", segs[i].Path)
		}
		want := newData[o.n][start:end]
		if want != "" && !have[want] {
			return fmt.Errorf("redact %s: the redacted request no longer reads back with the edit in place", segs[i].Path)
		}
	}
	return nil
}

// newOffset maps offset x of a node's data to its offset once the splices are applied. x is the
// start of a range unless end is set; an insertion at x belongs to the range either way.
func newOffset(sp []splice, x int, end bool) (int, bool) {
	d := 0
	for _, s := range sp {
		if s.start < x && x < s.end {
			return 0, false
		}
		if s.end < x || s.end == x && (end || s.start < x) {
			d += len(s.repl) - (s.end - s.start)
		}
	}
	return x + d, true
}

// checkQueryBytes refuses bytes that would end or break a raw query string; the codecs under
// the query escape everything they write, so this only catches a bug.
func checkQueryBytes(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '#' || c >= 0x7f {
			return fmt.Errorf("byte %q at offset %d cannot stand in a query string", c, i)
		}
	}
	return nil
}

// A recorder notes, during a walk that Redact runs, what each decode step made of which bytes,
// and where each segment's text lies. Extraction mostly hands out views of the buffers it
// decodes into (see view), so most texts are located by their memory: a string that lies inside
// a node's data came from that node. Where a step's output is fresh memory (escapes undone,
// base64 decoded), the step records it as a new node.
type recorder struct {
	nodes       []*node
	exact       map[memKey]*node // by data memory: the latest node whose data is exactly that
	origins     []origin         // per segment index
	body, query *node            // the roots
}

// A node is one layer of the request: the body or the query, or what a decode step made of the
// range start:end of its parent's data.
type node struct {
	parent     *node
	start, end int
	data       string
	codec      codec
	shadow     *node    // the node exact held for the same memory before this one
	splices    []splice // changes to data, gathered by Redact
}

type memKey struct {
	p *byte
	n int
}

func keyOf(s string) memKey { return memKey{unsafe.StringData(s), len(s)} }

// origin is where a segment's text lies: data[off:off+len(text)] of node n (nil: unknown).
type origin struct {
	n   *node
	off int
}

// splice replaces data[start:end] of a node with repl; path is the edit it serves, for errors.
type splice struct {
	start, end int
	repl       string
	path       string
}

func newRecorder(r *Request) *recorder {
	rec := &recorder{exact: map[memKey]*node{}}
	if len(r.Body) > 0 {
		rec.body = rec.add(&node{data: view(r.Body), codec: unsupportedCodec("request body")})
	}
	if r.RawQuery != "" {
		rec.query = rec.add(&node{data: r.RawQuery, codec: unsupportedCodec("query string")})
	}
	return rec
}

func (r *recorder) add(n *node) *node {
	k := keyOf(n.data)
	n.shadow = r.exact[k]
	r.exact[k] = n
	r.nodes = append(r.nodes, n)
	return n
}

// decoded records that out was decoded from in by codec c. An in that lies in no node (the URL
// path) gives a node without a parent, which Redact refuses to edit.
func (r *recorder) decoded(out, in string, c codec) {
	if out == "" {
		return
	}
	n := &node{data: out, codec: c}
	if p, off := r.locate(in); p != nil {
		n.parent, n.start, n.end = p, off, off+len(in)
	}
	r.add(n)
}

// locate finds the innermost node whose data holds s, and where. Nodes are recorded parents
// first, so the last one that holds s is the innermost.
func (r *recorder) locate(s string) (*node, int) {
	if s == "" {
		return nil, 0
	}
	if n := r.exact[keyOf(s)]; n != nil {
		return n, 0
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	for i := len(r.nodes) - 1; i >= 0; i-- {
		n := r.nodes[i]
		q := uintptr(unsafe.Pointer(unsafe.StringData(n.data)))
		if p >= q && p+uintptr(len(s)) <= q+uintptr(len(n.data)) {
			return n, int(p - q)
		}
	}
	return nil, 0
}

// segment records where the text of segment i lies ("" for media). Indexes may be reused after
// the emitter drops segments (the NDJSON retry), hence the truncation.
func (r *recorder) segment(i int, s string) {
	for len(r.origins) < i {
		r.origins = append(r.origins, origin{})
	}
	var o origin
	o.n, o.off = r.locate(s)
	r.origins = append(r.origins[:i], o)
}

func (r *recorder) origin(i int) origin {
	if i < len(r.origins) {
		return r.origins[i]
	}
	return origin{}
}

// mark and rollback forget the nodes of a walk whose leaves were not emitted (text that turned
// out not to be JSON) or were emitted again (the NDJSON retry): left in place, they would claim
// memory that belongs to their parent. Both accept a nil recorder, so callers need no check.
func (r *recorder) mark() int {
	if r == nil {
		return 0
	}
	return len(r.nodes)
}

func (r *recorder) rollback(mark int) {
	if r == nil {
		return
	}
	for i := len(r.nodes) - 1; i >= mark; i-- {
		n := r.nodes[i]
		if k := keyOf(n.data); r.exact[k] == n {
			if n.shadow != nil {
				r.exact[k] = n.shadow
			} else {
				delete(r.exact, k)
			}
		}
		r.nodes[i] = nil
	}
	r.nodes = r.nodes[:mark]
}

// formValue records a form or query value; a value with invalid percent-encoding was scanned
// as it stands and cannot be written back in a form Redact knows.
func (r *recorder) formValue(val, raw string, invalid bool) {
	if invalid {
		r.decoded(val, raw, unsupportedCodec("a form value with invalid percent-encoding cannot be re-encoded"))
		return
	}
	r.decoded(val, raw, formCodec{})
}

// multipartPart records a part's content (data, which multipart.Reader copied) as the range of
// body it was read from, found from offset at; it returns where the next search starts.
func (r *recorder) multipartPart(body []byte, at int, boundary string, data []byte, h textproto.MIMEHeader, readErr error) int {
	switch start, ok := multipartPartAt(body, at, boundary, data); {
	case readErr != nil:
		r.decoded(view(data), "", unsupportedCodec("a multipart part cut short cannot be re-encoded"))
	case !ok:
		r.decoded(view(data), "", unsupportedCodec("multipart part not found where the body framed it"))
	case h.Get("Content-Length") != "":
		r.decoded(view(data), view(body[start:start+len(data)]), unsupportedCodec("a multipart part with a Content-Length cannot change length"))
		return start + len(data)
	default:
		r.decoded(view(data), view(body[start:start+len(data)]), multipartCodec{boundary: boundary})
		return start + len(data)
	}
	return at
}

// multipartPartAt finds a part's content in a multipart body, from offset from: after a boundary
// line and the part's headers, and followed by the next boundary.
func multipartPartAt(body []byte, from int, boundary string, data []byte) (int, bool) {
	dash := []byte("--" + boundary)
	for from < len(body) {
		k := bytes.Index(body[from:], dash)
		if k < 0 {
			return 0, false
		}
		k += from
		from = k + len(dash)
		if k > 0 && body[k-1] != '\n' {
			continue
		}
		// The rest of a boundary line may only be blanks (RFC 2046 transport padding).
		i := from
		for i < len(body) && (body[i] == ' ' || body[i] == '\t') {
			i++
		}
		if i < len(body) && body[i] == '\r' {
			i++
		}
		if i >= len(body) || body[i] != '\n' {
			continue
		}
		i++
		for { // the part's headers end at the first empty line
			nl := bytes.IndexByte(body[i:], '\n')
			if nl < 0 {
				return 0, false
			}
			line := body[i : i+nl]
			i += nl + 1
			if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
				break
			}
		}
		if !bytes.HasPrefix(body[i:], data) {
			continue
		}
		rest := body[i+len(data):]
		if bytes.HasPrefix(rest, []byte("\r\n--"+boundary)) || bytes.HasPrefix(rest, []byte("\n--"+boundary)) {
			return i, true
		}
	}
	return 0, false
}

// sentryItem records an envelope item's payload, whose framing limits what an edit may do.
func (r *recorder) sentryItem(it *sentryItem) {
	if len(it.payload) == 0 {
		return
	}
	p := view(it.payload)
	_, hasLength, err := it.header.length()
	if hasLength || err != nil || it.problem != "" {
		r.decoded(p, p, unsupportedCodec("a Sentry envelope item with a declared length cannot change length"))
		return
	}
	r.decoded(p, p, lineCodec{})
}

// recDecoded records a decode step of a body-level decoder (gunzip, base64 of a form field);
// a step that failed (a truncated stream, one over the limit) cannot be written back. Every
// such decoder reports here, so this is also where a decompressor stopped at the byte budget
// marks the extraction as cut.
func (e *emitter) recDecoded(out, in []byte, c codec, err error) {
	if errors.Is(err, errDecodeLimit) {
		e.limited.set(limBytes)
	}
	if e.rec == nil {
		return
	}
	if err != nil {
		c = unsupportedCodec(fmt.Sprintf("%s that could not be read whole cannot be re-encoded: %v", c.what(), err))
	}
	e.rec.decoded(view(out), view(in), c)
}

// sortSplices orders a node's splices and refuses overlapping ones; the same change asked twice
// (two detectors on one secret) is made once.
func sortSplices(sp []splice) ([]splice, error) {
	sort.SliceStable(sp, func(i, j int) bool {
		if sp[i].start != sp[j].start {
			return sp[i].start < sp[j].start
		}
		return sp[i].end < sp[j].end
	})
	out := sp[:0]
	for _, s := range sp {
		if len(out) > 0 {
			prev := out[len(out)-1]
			if s.start == prev.start && s.end == prev.end && s.repl == prev.repl {
				continue
			}
			if s.start < prev.end || s.start == prev.start && s.end == prev.end {
				if s.path == prev.path {
					return nil, fmt.Errorf("redact %s: overlapping edits", s.path)
				}
				return nil, fmt.Errorf("redact %s and %s: overlapping edits", prev.path, s.path)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func applySplices(s string, sp []splice) string {
	n := len(s)
	for _, x := range sp {
		n += len(x.repl) - (x.end - x.start)
	}
	var b strings.Builder
	b.Grow(n)
	pos := 0
	for _, x := range sp {
		b.WriteString(s[pos:x.start])
		b.WriteString(x.repl)
		pos = x.end
	}
	b.WriteString(s[pos:])
	return b.String()
}

// commonAffixes returns the lengths of the common prefix and suffix of a and b, which do not
// overlap in either.
func commonAffixes(a, b string) (int, int) {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	return p, s
}

// A codec writes a node back into its parent's bytes.
type codec interface {
	// what names the encoding, for errors.
	what() string
	// reencode returns raw, the node's bytes in its parent, with the splices (sorted, disjoint,
	// in the coordinates of data, the node's decoded bytes) applied. It fails rather than
	// produce bytes that do not decode to what it was given.
	reencode(raw, data string, sp []splice) (string, error)
}

var errNotReproduced = errors.New("the original bytes do not re-encode to themselves")

// unsupportedCodec is a decode step Redact cannot undo; the string says why.
type unsupportedCodec string

func (c unsupportedCodec) what() string { return string(c) }
func (c unsupportedCodec) reencode(string, string, []splice) (string, error) {
	return "", errors.New(string(c))
}

// identity checks that a node's bytes are its parent's as they stand.
func identity(raw, data string, sp []splice) (string, error) {
	if raw != data {
		return "", errNotReproduced
	}
	return applySplices(data, sp), nil
}

// multipartCodec is a part's content, whose only constraint is its boundary.
type multipartCodec struct{ boundary string }

func (multipartCodec) what() string { return "multipart part" }
func (c multipartCodec) reencode(raw, data string, sp []splice) (string, error) {
	out, err := identity(raw, data, sp)
	if err == nil && strings.Contains(out, "--"+c.boundary) {
		return "", fmt.Errorf("the edited part would contain its boundary %q", c.boundary)
	}
	return out, err
}

// lineCodec is a payload framed by the newline that ends it (a Sentry item without a length).
type lineCodec struct{}

func (lineCodec) what() string { return "Sentry envelope item" }
func (lineCodec) reencode(raw, data string, sp []splice) (string, error) {
	out, err := identity(raw, data, sp)
	if err == nil && strings.IndexByte(out, '\n') >= 0 {
		return "", errors.New("a newline would end the item early")
	}
	return out, err
}

// jsonNumberCodec is a long JSON number leaf. An edit that leaves no number writes a string in
// its place: the request stays JSON, and the value is gone.
type jsonNumberCodec struct{}

func (jsonNumberCodec) what() string { return "JSON number" }
func (jsonNumberCodec) reencode(raw, data string, sp []splice) (string, error) {
	out, err := identity(raw, data, sp)
	if err != nil || isJSONNumber(out) {
		return out, err
	}
	var b strings.Builder
	b.WriteByte('"')
	jsonStyle{}.escape(&b, out)
	b.WriteByte('"')
	return b.String(), nil
}

func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// esc is one escape sequence of an escaped text: raw[raw:raw+rawLen] decodes to
// dec[dec:dec+decLen]. Bytes outside escapes stand for themselves, one for one.
type esc struct{ raw, rawLen, dec, decLen int }

// reencodeEscaped writes splices back into an escaped text (a JSON string, a percent-encoded
// value). Only the stretch an edit covers is escaped anew, widened to whole escape sequences;
// every other byte, escapes included, is copied from raw.
func reencodeEscaped(raw, data string, sp []splice, dec []byte, escs []esc, ok bool, escape func(*strings.Builder, string)) (string, error) {
	if !ok || string(dec) != data {
		return "", errNotReproduced
	}
	// firstEnding is the first escape that ends after decoded offset x.
	firstEnding := func(x int) int {
		return sort.Search(len(escs), func(k int) bool { return escs[k].dec+escs[k].decLen > x })
	}
	widen := func(x int, right bool) int {
		if k := firstEnding(x); k < len(escs) && escs[k].dec < x {
			if right {
				return escs[k].dec + escs[k].decLen
			}
			return escs[k].dec
		}
		return x
	}
	toRaw := func(x int) int { // x is not inside an escape
		k := firstEnding(x)
		if k == 0 {
			return x
		}
		e := escs[k-1]
		return e.raw + e.rawLen + x - (e.dec + e.decLen)
	}
	var b, region strings.Builder
	b.Grow(len(raw))
	rawPos := 0
	for k := 0; k < len(sp); {
		ws, we := widen(sp[k].start, false), widen(sp[k].end, true)
		j := k + 1
		for j < len(sp) && widen(sp[j].start, false) < we {
			we = max(we, widen(sp[j].end, true))
			j++
		}
		rs := toRaw(ws)
		b.WriteString(raw[rawPos:rs])
		region.Reset()
		pos := ws
		for _, s := range sp[k:j] {
			region.WriteString(data[pos:s.start])
			region.WriteString(s.repl)
			pos = s.end
		}
		region.WriteString(data[pos:we])
		escape(&b, region.String())
		rawPos = toRaw(we)
		k = j
	}
	b.WriteString(raw[rawPos:])
	return b.String(), nil
}

// jsonStringCodec is the inside of a JSON string (without its quotes).
type jsonStringCodec struct{}

func (jsonStringCodec) what() string { return "JSON string" }
func (jsonStringCodec) reencode(raw, data string, sp []splice) (string, error) {
	dec, escs, ok := scanJSONString(raw)
	return reencodeEscaped(raw, data, sp, dec, escs, ok, jsonStyleOf(raw, escs).escape)
}

// scanJSONString decodes the inside of a JSON string exactly as jsonWalker.escape does (lone
// surrogates become U+FFFD), listing its escapes.
func scanJSONString(raw string) ([]byte, []esc, bool) {
	dec := make([]byte, 0, len(raw))
	var escs []esc
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dec = append(dec, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return nil, nil, false
		}
		start, d0 := i, len(dec)
		switch e := raw[i+1]; e {
		case '"', '\\', '/':
			dec = append(dec, e)
			i += 2
		case 'b':
			dec = append(dec, '\b')
			i += 2
		case 'f':
			dec = append(dec, '\f')
			i += 2
		case 'n':
			dec = append(dec, '\n')
			i += 2
		case 'r':
			dec = append(dec, '\r')
			i += 2
		case 't':
			dec = append(dec, '\t')
			i += 2
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return nil, nil, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				pair := utf8.RuneError
				if r < 0xdc00 && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2, ok := hex4(raw[i+2:]); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
						pair = utf16.DecodeRune(r, r2)
						i += 6
					}
				}
				r = pair
			}
			dec = utf8.AppendRune(dec, r)
		default:
			return nil, nil, false
		}
		escs = append(escs, esc{raw: start, rawLen: i - start, dec: d0, decLen: len(dec) - d0})
	}
	return dec, escs, true
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		d := unhex(s[i])
		if d < 0 {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// jsonStyle is how a JSON encoder escaped a string, so that new text is escaped alike: ASCII
// only (Python's json.dumps), HTML-safe (Go's encoding/json), slashes escaped (PHP), upper-case
// hex digits.
type jsonStyle struct{ ascii, html, slash, upper bool }

// jsonStyleOf infers a string's style from its escapes: a style holds when the string escapes
// such characters and never writes one plainly.
func jsonStyleOf(raw string, escs []esc) jsonStyle {
	var escNonASCII, escHTML, escSlash, sawHex bool
	var st jsonStyle
	for _, e := range escs {
		switch raw[e.raw+1] {
		case '/':
			escSlash = true
		case 'u':
			r, _ := hex4(raw[e.raw+2:])
			escNonASCII = escNonASCII || r >= 0x80
			escHTML = escHTML || r == '<' || r == '>' || r == '&'
			for _, h := range raw[e.raw+2 : e.raw+6] {
				if !sawHex && (h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
					sawHex, st.upper = true, h <= 'F'
				}
			}
		}
	}
	plainNonASCII, plainHTML, plainSlash := false, false, false
	k := 0
	for i := 0; i < len(raw); i++ {
		if k < len(escs) && i == escs[k].raw {
			i += escs[k].rawLen - 1
			k++
			continue
		}
		switch c := raw[i]; {
		case c >= 0x80:
			plainNonASCII = true
		case c == '<' || c == '>' || c == '&':
			plainHTML = true
		case c == '/':
			plainSlash = true
		}
	}
	st.ascii = escNonASCII && !plainNonASCII
	st.html = escHTML && !plainHTML
	st.slash = escSlash && !plainSlash
	return st
}

func (st jsonStyle) escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '/' && st.slash:
			b.WriteString(`\/`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20 || st.html && (c == '<' || c == '>' || c == '&'):
			st.u(b, rune(c))
		case c >= 0x80 && st.ascii:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				b.WriteByte(c) // not UTF-8: the decoder passes such bytes through, so must we
				i++
				continue
			}
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				st.u(b, r1)
				st.u(b, r2)
			} else {
				st.u(b, r)
			}
			i += size
			continue
		default:
			b.WriteByte(c)
		}
		i++
	}
}

func (st jsonStyle) u(b *strings.Builder, r rune) {
	digits := "0123456789abcdef"
	if st.upper {
		digits = "0123456789ABCDEF"
	}
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(digits[r>>shift&0xf])
	}
}

// formCodec is a form or query value: %XX escapes and '+' for a space (url.QueryUnescape).
type formCodec struct{}

func (formCodec) what() string { return "form value" }
func (formCodec) reencode(raw, data string, sp []splice) (string, error) {
	dec, escs, ok := scanPercent(raw, true)
	return reencodeEscaped(raw, data, sp, dec, escs, ok, percentStyleOf(raw, escs, true).escape)
}

// percentCodec is %XX escaping without '+' for a space (url.PathUnescape: data: URLs).
type percentCodec struct{}

func (percentCodec) what() string { return "percent-encoded text" }
func (percentCodec) reencode(raw, data string, sp []splice) (string, error) {
	dec, escs, ok := scanPercent(raw, false)
	return reencodeEscaped(raw, data, sp, dec, escs, ok, percentStyleOf(raw, escs, false).escape)
}

// percentStyle escapes like url.QueryEscape (plus) or url.PathEscape, except that printable
// bytes the original wrote unescaped stay unescaped (a client that sends '=' or '/' as they
// are), unless they would change the framing ('&' ends a form value, '+' is a space).
type percentStyle struct {
	plus, lower bool
	plain       [128]bool
}

func percentStyleOf(raw string, escs []esc, plus bool) *percentStyle {
	st := &percentStyle{plus: plus}
	for _, e := range escs {
		if h := raw[e.raw+1 : e.raw+3]; strings.ContainsAny(h, "abcdef") {
			st.lower = true
			break
		} else if strings.ContainsAny(h, "ABCDEF") {
			break
		}
	}
	k := 0
	for i := 0; i < len(raw); i++ {
		if k < len(escs) && i == escs[k].raw {
			i += escs[k].rawLen - 1
			k++
			continue
		}
		if c := raw[i]; c > ' ' && c < 0x7f && c != '%' && c != '#' && !(plus && (c == '&' || c == '+' || c == ';')) {
			st.plain[c] = true
		}
	}
	return st
}

func (st *percentStyle) escape(b *strings.Builder, s string) {
	digits := "0123456789ABCDEF"
	if st.lower {
		digits = "0123456789abcdef"
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' && st.plus:
			b.WriteByte('+')
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~',
			c < 0x80 && st.plain[c]:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(digits[c>>4])
			b.WriteByte(digits[c&0xf])
		}
	}
}

func scanPercent(raw string, plus bool) ([]byte, []esc, bool) {
	dec := make([]byte, 0, len(raw))
	var escs []esc
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '%':
			if i+2 >= len(raw) || unhex(raw[i+1]) < 0 || unhex(raw[i+2]) < 0 {
				return nil, nil, false
			}
			escs = append(escs, esc{raw: i, rawLen: 3, dec: len(dec), decLen: 1})
			dec = append(dec, byte(unhex(raw[i+1])<<4|unhex(raw[i+2])))
			i += 2
		case c == '+' && plus:
			dec = append(dec, ' ') // one byte for one: no escape to widen to
		default:
			dec = append(dec, c)
		}
	}
	return dec, escs, true
}

// base64Codec is base64 text, re-encoded whole in the form it was found in; reversed is
// Statsig's base64 written backwards.
type base64Codec struct{ reversed bool }

func (base64Codec) what() string { return "base64" }
func (c base64Codec) reencode(raw, data string, sp []splice) (string, error) {
	f := parseBase64Form(raw, c.reversed)
	if f.encode(data) != raw {
		return "", errNotReproduced
	}
	return f.encode(applySplices(data, sp)), nil
}

// base64Form is how a base64 text was written: alphabet and padding, '+' turned into ' ' by a
// form decoder (a client that did not escape it), line width and separator, trailing newlines.
type base64Form struct {
	enc          *base64.Encoding
	spaceForPlus bool
	width        int
	sep, trailer string
	reversed     bool
}

func parseBase64Form(raw string, reversed bool) base64Form {
	f := base64Form{reversed: reversed}
	s := raw
	if reversed {
		s = string(reverseASCII(s))
	}
	core := strings.TrimRight(s, "\r\n")
	f.trailer = s[len(core):]
	chars := core
	if i := strings.IndexByte(core, '\n'); i >= 0 {
		first := core[:i]
		f.sep = "\n"
		if strings.HasSuffix(first, "\r") {
			f.sep, first = "\r\n", first[:len(first)-1]
		}
		f.width = len(first)
		chars = strings.NewReplacer("\r", "", "\n", "").Replace(core)
	}
	urlSafe := strings.ContainsAny(chars, "-_")
	f.spaceForPlus = strings.IndexByte(chars, ' ') >= 0
	// Without padding to show it, a length that needs none says nothing: URL-safe base64 is
	// usually unpadded (JWTs), standard base64 usually padded.
	padded := strings.HasSuffix(chars, "=") || len(chars)%4 == 0 && !urlSafe
	switch {
	case urlSafe && padded:
		f.enc = base64.URLEncoding
	case urlSafe:
		f.enc = base64.RawURLEncoding
	case padded:
		f.enc = base64.StdEncoding
	default:
		f.enc = base64.RawStdEncoding
	}
	return f
}

func (f base64Form) encode(data string) string {
	s := f.enc.EncodeToString(bytesView(data))
	if f.spaceForPlus {
		s = strings.ReplaceAll(s, "+", " ")
	}
	if f.width > 0 && len(s) > f.width {
		var b strings.Builder
		for len(s) > f.width {
			b.WriteString(s[:f.width])
			b.WriteString(f.sep)
			s = s[f.width:]
		}
		b.WriteString(s)
		s = b.String()
	}
	s += f.trailer
	if f.reversed {
		s = string(reverseASCII(s))
	}
	return s
}

// gzipCodec is a gzip stream read whole; it is compressed again, with the original header.
type gzipCodec struct{}

func (gzipCodec) what() string { return "gzip" }
func (gzipCodec) reencode(raw, data string, sp []splice) (string, error) {
	zr, err := gzip.NewReader(strings.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("reading the header: %w", err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Header = zr.Header
	if _, err := zw.Write(bytesView(applySplices(data, sp))); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// deflateCodec is a zlib or raw DEFLATE stream read whole (see inflate).
type deflateCodec struct{}

func (deflateCodec) what() string { return "deflate" }
func (deflateCodec) reencode(raw, data string, sp []splice) (string, error) {
	var b bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	if isZlib(bytesView(raw)) {
		w = zlib.NewWriter(&b)
	} else {
		fw, err := flate.NewWriter(&b, flate.DefaultCompression)
		if err != nil {
			return "", err
		}
		w = fw
	}
	if _, err := w.Write(bytesView(applySplices(data, sp))); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}
