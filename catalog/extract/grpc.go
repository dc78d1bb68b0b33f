package extract

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// gRPC requests (issue 17). A gRPC body (application/grpc, application/grpc+proto) is a run of
// envelopes: a flags byte (bit 0: compressed), a 4-byte big-endian length, a protobuf message.
// Every envelope is read, on any vendor and path: gRPC framing does not depend on the service,
// and a secret reaches whichever server receives it. A compressed message is decompressed by the
// request's grpc-encoding (gzip, deflate, zstd, snappy) within the byte budget.
//
// Paths. The method is the URL path (/pkg.Service/Method). A message of a method without a
// schema is walked like any protobuf (protobuf.go) and its fields named by number, joined by dots
// after the method:
//
//	grpc:/pkg.Service/Method/2.1.3      message 0
//	grpc:/pkg.Service/Method[1]/2.1.3   message 1 of a client stream
//	grpc:/pkg.Service/Method/2[1].4     the second of two fields numbered 2
//
// A field number is indexed only where it occurs more than once in its message, so that the path
// of a plain field does not depend on whether the message holds one element or two of a repeated
// field elsewhere. Messages are numbered from Request.GRPCFirst, for a caller that inspects a
// client stream one envelope at a time.
//
// Google's Gemini methods (Vertex AI's PredictionService, the Gemini API's GenerativeService)
// have schemas, with the field names of their JSON form, so that a policy written for the JSON
// APIs reads the same paths here: contents[0].parts[0].text, systemInstruction.parts[0].text,
// model (also the request's model fact). Their later messages are under messages[k]. A field
// number a schema does not know is named by its number. google.protobuf.Struct (function call
// arguments and responses) reads as the JSON object it stands for — functionCall.args.location —
// its keys going to #keys like JSON member names, and maps (labels) likewise.
//
// What cannot be read — an envelope whose length runs past the body, a cut header, a message
// compressed without a known encoding or that fails to decompress, a message that stops parsing
// — is scanned as text where it looks like text (#unread), noted, and reported as
// LimitUnreadable: the caller refuses the request rather than pass what nobody read.
//
// Unlike the other protobuf readers, these texts can be redacted: every length-delimited field
// on the way to a text is a node whose codec writes its length anew (pbLenCodec), the envelope
// writes its own (grpcEnvelopeCodec), and a compressed message is compressed again.

// IsGRPC reports whether contentType is a gRPC call's. The rule is the gRPC servers' own
// (grpc-go's ContentSubtype), in any case: application/grpc, then the end, '+' or ';' — so
// application/grpc+ and application/grpc;x are calls too, in the default codec. What the vendor
// takes for a call must be read as one here, or its framing and compression would be read as
// an ordinary body. gRPC-Web and Connect have types of their own (connectProtoBody).
func IsGRPC(contentType string) bool {
	_, ok := grpcCodec(contentType)
	return ok
}

// grpcCodec returns the codec a gRPC content type names, in lower case: "proto" when it names
// none (application/grpc, application/grpc+, application/grpc;…).
func grpcCodec(contentType string) (string, bool) {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	rest, ok := strings.CutPrefix(ct, "application/grpc")
	if !ok {
		return "", false
	}
	switch {
	case rest == "" || rest[0] == ';':
		return "proto", true
	case rest[0] == '+':
		sub, _, _ := strings.Cut(rest[1:], ";")
		if sub = strings.TrimSpace(sub); sub == "" {
			return "proto", true
		}
		return sub, true
	}
	return "", false
}

const (
	grpcHeaderLen  = 5    // flags byte and 4-byte length
	grpcCompressed = 0x01 // flags bit: the message is compressed by the grpc-encoding
	// grpcMinRun is the shortest run of text scanned out of bytes that are not text: shorter
	// runs turn up by chance in any binary, and hold no credential worth the noise.
	grpcMinRun = 16
	// zstdMaxWindow bounds the memory one zstd frame may ask of the decoder; gRPC messages are
	// compressed one by one, with windows no larger than themselves.
	zstdMaxWindow = 8 << 20
)

// grpcReader reads the envelopes of one gRPC body.
type grpcReader struct {
	e        *emitter
	codec    string     // the messages' encoding: proto, json, or one customs cannot read
	schema   *pbMessage // the method's message; nil: fields by number
	method   string     // the URL path, for numbered paths
	resp     bool       // an answer (ExtractResponse): response: paths, encodings sniffed
	inflated int        // bytes decompressed so far, across envelopes
	failed   int        // messages that failed to decompress
}

// grpcMaxFailed: after this many messages that fail to decompress, the rest are not tried. A
// decompressor costs tens of microseconds to set up, so a body of thousands of tiny broken
// messages would cost a second; the extraction is unreadable by then whatever follows.
const grpcMaxFailed = 8

// grpcBody reads a gRPC request body; api (nil when none matched) lends the method's schema.
func (e *emitter) grpcBody(r *Request, api *API) {
	g := &grpcReader{e: e, method: r.Path}
	g.codec, _ = grpcCodec(r.ContentType)
	if api != nil && api.grpc != nil {
		g.schema = api.grpc[r.Path[strings.LastIndexByte(r.Path, '/')+1:]]
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Grpc-Encoding")))
	g.envelopes(r.Body, max(r.GRPCFirst, 0), enc)
}

// grpcResponse reads a gRPC answer of the given API. ExtractResponse has no headers to name the
// encoding of a compressed message, so it is told by its magic number.
func (e *emitter) grpcResponse(apiName, contentType string, body []byte) {
	g := &grpcReader{e: e, resp: true, schema: grpcResponses[apiName]}
	g.codec, _ = grpcCodec(contentType)
	g.envelopes(body, 0, "")
}

// root is the path under which message k's fields are named. A root ending in '/' or ':' takes
// a field's name as it is; any other is followed by a dot.
func (g *grpcReader) root(k int) string {
	ks := strconv.Itoa(k)
	switch {
	case g.resp && k == 0:
		return respPrefix
	case g.resp && g.schema != nil:
		return respPrefix + "messages[" + ks + "]"
	case g.resp:
		return respPrefix + "[" + ks + "]/"
	case g.schema != nil && k == 0:
		return ""
	case g.schema != nil:
		return "messages[" + ks + "]"
	case k == 0:
		return "grpc:" + g.method + "/"
	}
	return "grpc:" + g.method + "[" + ks + "]/"
}

func (g *grpcReader) envelopes(body []byte, first int, enc string) {
	e := g.e
	var bn *node // the body's node, parent of every envelope's
	if e.rec != nil && !g.resp {
		bn = e.rec.body
	}
	for off, k := 0, first; off < len(body) && !e.full; k++ {
		root, rest := g.root(k), body[off:]
		if len(rest) < grpcHeaderLen {
			e.limited.set(limUnreadable)
			e.note("body: gRPC message %d at offset %d: %d bytes left, not a whole envelope header", k, off, len(rest))
			e.rec.child(bn, off, len(body), rest, unsupportedCodec("a cut gRPC envelope header cannot be re-encoded"))
			g.unreadBytes(unreadPath(root), rest)
			return
		}
		flags, size := rest[0], binary.BigEndian.Uint32(rest[1:grpcHeaderLen])
		if uint64(size) > uint64(len(rest)-grpcHeaderLen) {
			// The length lies, or the body was cut: what follows is read as far as it goes, and
			// the extraction is not complete whatever it finds.
			e.limited.set(limUnreadable)
			e.note("body: gRPC message %d at offset %d: its envelope declares %d bytes, %d follow", k, off, size, len(rest)-grpcHeaderLen)
			region := rest[grpcHeaderLen:]
			un := e.rec.child(bn, off+grpcHeaderLen, len(body), region, unsupportedCodec("a gRPC envelope whose length runs past the body cannot be re-encoded"))
			if flags&grpcCompressed == 0 {
				g.walk(region, root, un, 0, k, true)
			} else {
				g.unreadBytes(unreadPath(root), region)
			}
			return
		}
		next := off + grpcHeaderLen + int(size)
		msg := rest[grpcHeaderLen : grpcHeaderLen+int(size)]
		en := e.rec.child(bn, off, next, msg, grpcEnvelopeCodec{})
		if flags&grpcCompressed == 0 {
			g.walk(msg, root, en, 0, k, false)
		} else {
			g.compressed(msg, root, en, enc, k, off)
		}
		off = next
	}
}

// compressed decompresses one message and walks it; en is the envelope's node.
func (g *grpcReader) compressed(msg []byte, root string, en *node, enc string, k, off int) {
	e := g.e
	if g.resp && enc == "" {
		enc = sniffEncoding(msg)
	}
	if g.failed >= grpcMaxFailed {
		e.limited.set(limUnreadable)
		e.note("body: gRPC message %d at offset %d: compressed; not tried after %d messages that failed to decompress", k, off, g.failed)
		e.rec.child(en, 0, len(msg), msg, unsupportedCodec("a gRPC message that was not decompressed cannot be re-encoded"))
		g.unreadBytes(unreadPath(root), msg)
		return
	}
	limit := max(min(e.budget(), e.lim.MaxBytes-g.inflated), 0)
	var out []byte
	var err error
	var c codec
	switch enc {
	case "gzip":
		out, err = gunzip(msg, limit)
		c = gzipCodec{}
	case "deflate":
		out, err = inflate(msg, limit)
		c = deflateCodec{}
	case "zstd":
		out, err = unzstd(msg, limit)
		c = zstdCodec{}
	case "snappy":
		out, err = unsnappy(msg, limit)
		c = snappyCodec{}
	default:
		what := fmt.Sprintf("grpc-encoding %q", enc)
		if enc == "" || enc == "identity" {
			what = "no grpc-encoding to undo"
		}
		e.limited.set(limUnreadable)
		e.note("body: gRPC message %d at offset %d: compressed, with %s; not read", k, off, what)
		e.rec.child(en, 0, len(msg), msg, unsupportedCodec("a gRPC message in an encoding customs cannot read cannot be re-encoded"))
		g.unreadBytes(unreadPath(root), msg)
		return
	}
	g.inflated += len(out)
	cut := false
	switch {
	case errors.Is(err, errDecodeLimit):
		e.limited.set(limBytes)
		e.note("body: gRPC message %d at offset %d: %v", k, off, err)
		cut = true
	case err != nil:
		g.failed++
		e.limited.set(limUnreadable)
		e.note("body: gRPC message %d at offset %d: %v", k, off, err)
		if len(out) == 0 {
			e.rec.child(en, 0, len(msg), msg, unsupportedCodec(enc+" that could not be read cannot be re-encoded"))
			g.unreadBytes(unreadPath(root), msg)
			return
		}
	}
	if err != nil {
		c = unsupportedCodec(fmt.Sprintf("%s that could not be read whole cannot be re-encoded: %v", c.what(), err))
	}
	// Decompressed bytes are fresh memory: the node is tied to its envelope explicitly.
	dn := e.rec.child(en, 0, len(msg), out, c)
	g.walk(out, root, dn, 1, k, cut)
}

// walk reads message k (data, held by node n) at root. depth is the decode steps taken to reach
// it (1 once decompressed); cut says the data is known to stop short (a decompressor stopped at
// the budget, an envelope whose length lies), whose end is expected to be broken.
func (g *grpcReader) walk(data []byte, root string, n *node, depth, k int, cut bool) {
	switch g.codec {
	case "proto":
	case "json":
		// gRPC with the JSON codec: each message is a JSON document, read as any JSON body.
		g.e.byContentType(root, "application/json", data, depth)
		return
	default:
		// Thrift, FlatBuffers, a codec of the application's own: its framing is read, not
		// its messages; their text is scanned as it stands, and the call is not complete.
		g.e.limited.set(limUnreadable)
		g.e.note("body: gRPC message %d: codec %q, which customs does not read", k, g.codec)
		g.unreadBytes(unreadPath(root), data)
		return
	}
	w := grpcWalker{e: g.e, depth: depth, cut: cut, resp: g.resp}
	w.facts = !g.resp && k == 0 && g.schema != nil && g.e.facts != nil
	w.message(data, g.schema, root, n, 0, msgOpt{top: true})
}

// grpcWalker walks one message's fields, emitting texts and recording (when Redact runs) a node
// for every length-delimited field it enters.
type grpcWalker struct {
	e     *emitter
	depth int
	cut   bool
	resp  bool
	facts bool // the top-level fields of message 0 of a named method tell e.facts
}

type msgOpt struct {
	top     bool // the message of an envelope, not a field
	scanned bool // its bytes were scanned whole as text already
	keyed   bool // a map entry whose key is in its path: the key field is not emitted
}

// message walks the fields of data (held by node n, nil when not redacting) at path, named by
// m (nil: by number).
func (w *grpcWalker) message(data []byte, m *pbMessage, path string, n *node, nest int, opt msgOpt) {
	counts := pbCounts(data)
	seen := make(map[int]int, len(counts))
	keySkipped := false
	for i := 0; i < len(data); {
		if w.e.full {
			return
		}
		num, wire, val, next, err := pbNext(data, i)
		if err != nil {
			w.unread(data, i, path, n, err, opt.scanned)
			return
		}
		idx := seen[num]
		seen[num]++
		start := i
		i = next
		if wire != pbLen || len(val) == 0 {
			continue // numbers, enums, booleans: not text
		}
		f, known := pbField{}, false
		if m != nil {
			f, known = m.fields[num]
		}
		if known && m.mapEntry && opt.keyed {
			if num == 1 && !keySkipped {
				keySkipped = true // the key that names the path, in #keys
				continue
			}
			f.name = ""
		}
		if w.resp && (respSkipKeys[f.name] || w.e.skipKeys[f.name]) {
			if f.served && utf8.Valid(val) {
				w.e.served(view(val))
			}
			continue // answer bookkeeping, as in the JSON answers
		}
		var fp string
		switch {
		case known:
			fp = joinPB(path, f.name)
			if f.repeated && (f.msg == nil || !f.msg.mapEntry) {
				fp += "[" + strconv.Itoa(idx) + "]"
			}
		default:
			fp = joinPB(path, strconv.Itoa(num))
			if counts[num] > 1 {
				fp += "[" + strconv.Itoa(idx) + "]"
			}
		}
		_, tagLen := pbVarintAt(data, start)
		// The field's node spans its length varint and its value: a new value is written
		// with a new length.
		cn := w.e.rec.child(n, start+tagLen, next, val, pbLenCodec{})
		switch {
		case known && f.msg != nil && f.msg.mapEntry:
			ep, o := fp+"["+strconv.Itoa(idx)+"]", msgOpt{}
			if key, ok := pbKey(val); ok {
				ep, o.keyed = joinPB(fp, string(key)), true
				w.e.keys.add(string(key))
			}
			w.nested(val, f.msg, ep, cn, nest, o)
		case known && f.msg != nil:
			w.nested(val, f.msg, fp, cn, nest, msgOpt{})
		case known && f.binary:
			w.binary(fp, val, pbMediaType(data, f.mimeField), false)
		case known && utf8.Valid(val):
			w.text(fp, val)
			if opt.top && w.facts {
				v := view(val)
				if f.name == "model" {
					v = grpcModel(v)
				}
				w.e.facts.member(f.name, '"', v, false)
			}
			if f.served {
				w.e.served(view(val))
			}
		case known:
			w.binary(fp, val, "", true)
		default:
			w.unknown(val, fp, cn, nest)
		}
	}
}

// nested walks a length-delimited value as a message. A value that is also text is scanned as
// text too: text can be crafted to parse as protobuf, and what the walk skips (fixed64 and
// varint fields, the framing) would hide a secret from the detectors. The one exception is a
// message of a single length-delimited field whose value is text: scanned whole, it would only
// add its two-odd framing bytes to the text its field gives, and repeat every short Vertex part.
func (w *grpcWalker) nested(val []byte, m *pbMessage, path string, n *node, nest int, opt msgOpt) {
	if grpcIsText(val) && !pbSingleText(val) {
		w.text(path, val)
		opt.scanned = true
	}
	if nest+1 > w.e.lim.MaxJSONDepth {
		w.e.limited.set(limJSONDepth)
		w.e.note("%s: protobuf nesting deeper than %d; scanned as it stands", path, w.e.lim.MaxJSONDepth)
		if !opt.scanned {
			w.unreadBytes(path, val)
		}
		return
	}
	w.message(val, m, path, n, nest+1, opt)
}

// unknown reads a length-delimited field of no known type: a nested message if it parses as one
// with a length-delimited field of its own, else text, else binary data.
func (w *grpcWalker) unknown(val []byte, path string, n *node, nest int) {
	if pbLooksLikeMessage(val) {
		w.nested(val, nil, path, n, nest, msgOpt{})
		return
	}
	if looksLikeText(val) {
		w.text(path, val)
		return
	}
	w.binary(path, val, "", true)
}

func (w *grpcWalker) text(path string, val []byte) {
	w.e.text(orBody(path), view(val), w.depth)
}

// binary records bytes that are not text as media (the declared type, else a sniffed one), and
// with runs set scans the runs of text inside them. Bytes that are text are scanned as text
// whatever type they declare.
func (w *grpcWalker) binary(path string, val []byte, mediaType string, runs bool) {
	if looksLikeText(val) {
		w.text(path, val)
		return
	}
	if len(val) >= minProtoBinary {
		if mediaType == "" {
			mediaType = http.DetectContentType(val)
		}
		w.e.media(orBody(path), mediaType, len(val))
	}
	if runs {
		w.textRuns(path, val)
	}
}

// textRuns scans the runs of text in binary bytes, each at path@offset.
func (w *grpcWalker) textRuns(path string, b []byte) {
	for i := 0; i < len(b) && !w.e.full; {
		j := i
		for j < len(b) {
			c := b[j]
			if c < utf8.RuneSelf {
				if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
					break
				}
				j++
				continue
			}
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			j += size
		}
		if j-i >= grpcMinRun {
			w.text(orBody(path)+"@"+strconv.Itoa(i), b[i:j])
		}
		i = max(j, i+1)
	}
}

// unread handles a message that stops parsing at byte i: the fields before were read; the rest
// is scanned where it is text, and cannot be redacted.
func (w *grpcWalker) unread(data []byte, i int, path string, n *node, err error, scanned bool) {
	rest := data[i:]
	w.e.note("%s: %v at byte %d of the message; %d bytes not read as protobuf", strings.TrimSuffix(orBody(path), "/"), err, i, len(rest))
	if scanned {
		return // the message was scanned whole as text: nothing in it went unread
	}
	if !w.cut {
		w.e.limited.set(limUnreadable)
	}
	w.e.rec.child(n, i, len(data), rest, unsupportedCodec("bytes after a malformed protobuf field cannot be re-encoded"))
	w.unreadBytes(unreadPath(path), rest)
}

// unreadBytes scans bytes that could not be read: whole where they look like text, else their
// runs of text.
func (g *grpcReader) unreadBytes(path string, b []byte) {
	w := grpcWalker{e: g.e, resp: g.resp}
	w.unreadBytes(path, b)
}

func (w *grpcWalker) unreadBytes(path string, b []byte) {
	if len(b) == 0 {
		return
	}
	if looksLikeText(b) {
		w.text(path, b)
		return
	}
	if len(b) >= minProtoBinary {
		w.e.media(orBody(path), "application/octet-stream", len(b))
	}
	w.textRuns(path, b)
}

// unreadPath names the unread rest of the message at path.
func unreadPath(path string) string {
	path = strings.TrimSuffix(path, "/")
	if path == "" || strings.HasSuffix(path, ":") {
		path += "body"
	}
	return path + "#unread"
}

// joinPB appends a field's name to a path; a field without a name stands for its message.
func joinPB(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "" || strings.HasSuffix(path, "/") || strings.HasSuffix(path, ":"):
		return path + name
	}
	return path + "." + name
}

// grpcModel is the model a gRPC request names, as the JSON API's URL names it (urlModel): the
// resource name's last models/{model}, or tunedModels/{name}, endpoints/{id}.
func grpcModel(s string) string {
	for _, marker := range []string{"tunedModels/", "endpoints/"} {
		if i := strings.LastIndex(s, marker); i >= 0 && !strings.Contains(s[i+len(marker):], "/") {
			return s[i:]
		}
	}
	if i := strings.LastIndex(s, "models/"); i >= 0 && i+len("models/") < len(s) && !strings.Contains(s[i+len("models/"):], "/") {
		return s[i+len("models/"):]
	}
	return s
}

// pbCounts counts the occurrences of each field number in a message, as far as it parses.
func pbCounts(data []byte) map[int]int {
	counts := map[int]int{}
	for i := 0; i < len(data); {
		num, _, _, next, err := pbNext(data, i)
		if err != nil {
			break
		}
		counts[num]++
		i = next
	}
	return counts
}

// pbSingleText: the message is one length-delimited field whose value is text.
func pbSingleText(data []byte) bool {
	_, wire, val, next, err := pbNext(data, 0)
	return err == nil && wire == pbLen && next == len(data) && pbIsText(val)
}

// pbMediaType is the string field num of a message when it reads as a media type (a Blob's
// mimeType), else "".
func pbMediaType(data []byte, num int) string {
	if num == 0 {
		return ""
	}
	for i := 0; i < len(data); {
		n, wire, val, next, err := pbNext(data, i)
		if err != nil {
			return ""
		}
		if n == num && wire == pbLen {
			if len(val) <= 127 && pbIsText(val) && bytes.IndexByte(val, '/') > 0 && !bytes.ContainsAny(val, " \t\r\n") {
				return string(val)
			}
			return ""
		}
		i = next
	}
	return ""
}

// grpcIsText is pbIsText, failing fast on the first control byte: it runs on every nested
// message, at every depth.
func grpcIsText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(b)
}

// sniffEncoding names the compression of a message by its magic number, for answers, whose
// grpc-encoding header ExtractResponse is not given.
func sniffEncoding(b []byte) string {
	switch {
	case isGzip(b):
		return "gzip"
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	case bytes.HasPrefix(b, snappyMagic):
		return "snappy"
	case isZlib(b):
		return "deflate"
	}
	return ""
}

// child records that data (a sub-slice of the parent's bytes or a decoding of them) is what
// codec c makes of parent.data[start:end]. Unlike decoded, the parent is given, not searched for:
// a message of thousands of fields would otherwise cost a scan of every node per field.
func (r *recorder) child(parent *node, start, end int, data []byte, c codec) *node {
	if r == nil || parent == nil || len(data) == 0 {
		return nil
	}
	return r.add(&node{parent: parent, start: start, end: end, data: view(data), codec: c})
}

// pbLenCodec is a length-delimited protobuf field: its length varint and its value.
type pbLenCodec struct{}

func (pbLenCodec) what() string { return "protobuf field" }
func (pbLenCodec) reencode(raw, data string, sp []splice) (string, error) {
	l, n := pbVarintAt(bytesView(raw), 0)
	if n == 0 || l != uint64(len(raw)-n) || raw[n:] != data {
		return "", errNotReproduced
	}
	out := applySplices(data, sp)
	return string(binary.AppendUvarint(nil, uint64(len(out)))) + out, nil
}

// grpcEnvelopeCodec is a gRPC envelope: flags, 4-byte length, message.
type grpcEnvelopeCodec struct{}

func (grpcEnvelopeCodec) what() string { return "gRPC envelope" }
func (grpcEnvelopeCodec) reencode(raw, data string, sp []splice) (string, error) {
	if len(raw) < grpcHeaderLen || raw[grpcHeaderLen:] != data || binary.BigEndian.Uint32(bytesView(raw[1:grpcHeaderLen])) != uint32(len(data)) {
		return "", errNotReproduced
	}
	out := applySplices(data, sp)
	if uint64(len(out)) > math.MaxUint32 {
		return "", fmt.Errorf("a message of %d bytes does not fit a gRPC envelope", len(out))
	}
	var h [grpcHeaderLen]byte
	h[0] = raw[0]
	binary.BigEndian.PutUint32(h[1:], uint32(len(out)))
	return string(h[:]) + out, nil
}

// unzstd decompresses a zstd stream to at most limit bytes, returning what it read on error.
func unzstd(data []byte, limit int) ([]byte, error) {
	d, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(zstdMaxWindow))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	defer d.Close()
	out, err := readLimited(d, len(data), limit)
	if err != nil {
		return out, fmt.Errorf("zstd: %w", err)
	}
	return out, nil
}

// snappyMagic opens a snappy stream (the framing format), which gRPC's snappy compressors
// write; anything else is taken for a bare snappy block.
var snappyMagic = []byte("\xff\x06\x00\x00sNaPpY")

// unsnappy decompresses snappy (stream or block) to at most limit bytes. A block says its size
// first, so one over the limit is not decoded at all.
func unsnappy(data []byte, limit int) ([]byte, error) {
	if bytes.HasPrefix(data, snappyMagic) {
		out, err := readLimited(snappy.NewReader(bytes.NewReader(data)), len(data), limit)
		if err != nil {
			return out, fmt.Errorf("snappy: %w", err)
		}
		return out, nil
	}
	n, err := snappy.DecodedLen(data)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("snappy: a block of %d bytes: %w", n, errDecodeLimit)
	}
	out, err := snappy.Decode(nil, data)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return out, nil
}

// zstdEncoder compresses redacted zstd messages; EncodeAll may be called concurrently.
var zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
})

// zstdCodec is a zstd stream read whole; it is compressed again.
type zstdCodec struct{}

func (zstdCodec) what() string { return "zstd" }
func (zstdCodec) reencode(raw, data string, sp []splice) (string, error) {
	enc, err := zstdEncoder()
	if err != nil {
		return "", err
	}
	return string(enc.EncodeAll(bytesView(applySplices(data, sp)), nil)), nil
}

// snappyCodec is snappy read whole; it is compressed again in the same format (stream or block).
type snappyCodec struct{}

func (snappyCodec) what() string { return "snappy" }
func (snappyCodec) reencode(raw, data string, sp []splice) (string, error) {
	out := bytesView(applySplices(data, sp))
	if !strings.HasPrefix(raw, string(snappyMagic)) {
		return string(snappy.Encode(nil, out)), nil
	}
	var b bytes.Buffer
	w := snappy.NewBufferedWriter(&b)
	if _, err := w.Write(out); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}
