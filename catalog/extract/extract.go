// Package extract pulls the text out of request bodies, each piece with the path it came from, so
// detectors scan what a vendor actually receives (a prompt, a base64 analytics event, a file in a
// multipart upload) and a finding can say where it was (messages[3].content[0].text).
//
// Known vendor APIs are recognised by vendor, method and path (the tables in ai.go and
// analytics.go) and name the flow's API (openai.chat, mixpanel.track); their bodies are read by a
// shape-specific function, or by content type. Every other body is walked generically: JSON,
// NDJSON, form, multipart, query string and plain text. Inside any text, JSON documents, data:
// URLs, base64 and URL-encoded runs are decoded and scanned too, to a bounded depth.
//
// A secret reaches a vendor from any byte of a request, so the body is not all: the URL path,
// the request headers (but the hop-by-hop ones, SkippedHeaders) and the names of JSON members and
// of query, form and header parameters (#keys) are segments too (see coverage.go). What is not
// read in full because a limit stopped it is listed in Result.Limited, for the caller to refuse.
//
// Nothing here panics or gives up on bad input: a malformed body yields what could be read plus a
// note.
//
// Redact goes the other way: it writes edits of segments (a secret replaced by a placeholder)
// back into the request, re-encoding every layer the text was found under.
package extract

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/customs-dev/customs/flow"
)

// Request is what extraction sees of an HTTP request.
type Request struct {
	Vendor      string // catalog vendor ID; "" when the host is not in the catalog
	Method      string
	Path        string // URL path, without the query
	RawQuery    string
	Header      http.Header // the client's; every header but SkippedHeaders is extracted
	ContentType string
	// Body is the request body after Content-Encoding decoding. Segments may share its memory:
	// it must not be modified while the Result is in use.
	Body []byte
	// GRPCFirst is, for a gRPC body (IsGRPC), the index within its stream of the body's first
	// envelope: 0 for a whole request; k when the caller inspects a client stream one envelope
	// at a time and Body holds the k-th. Segment paths number messages from it (grpc.go).
	GRPCFirst int
}

// Result is what extraction found.
//
// The segments of a request come in this order: the URL path (url:path, then what decodes from
// it), the query string (query:NAME), the body, the request headers (header:NAME, NAME in lower
// case; see SkippedHeaders), and last #keys, the distinct names of JSON members, query, form and
// multipart fields and headers seen, one per line, in first-seen order. Unless Limited says
// otherwise, they hold all the text the vendor receives, but for JSON punctuation, literals and
// numbers shorter than 8 digits, the fields other than data of a text/event-stream body, the
// names of the common headers SDKs send, and the headers in SkippedHeaders.
type Result struct {
	API      string // recognised API shape (openai.chat, mixpanel.track); "" if none
	Segments []flow.Segment
	Notes    []string // what could not be read, and why
	// Limited lists the limits that cut the extraction, so that some of the request was not
	// read or not decoded: LimitSegments, LimitBytes, LimitKeys, LimitJSONDepth,
	// LimitNestedDepth, LimitUnreadable, in that order. Empty when the extraction is complete.
	// A limit that was reached without cutting anything (a text at the decode depth limit with
	// nothing left to decode) is not listed.
	Limited []string

	// Model is the model a request of an AI API asks for (see flow.Flow.Model): the one its
	// URL names where the API names it there, else the body's top-level "model"; ModelPath is
	// the segment path it was read from (url:path, query:model, model), for ModelIn. Params
	// are the request's retention parameters (flow.ParamKeys), nil when it sets none.
	Model, ModelPath string
	Params           map[string]string
	// ServedModel is, for an answer (ExtractResponse), the model it says served the request:
	// the answer's or its stream's "model", Gemini's modelVersion; "" when it names none.
	ServedModel string
}

// API is one request shape customs recognises.
type API struct {
	Name    string   // namespaced shape name: openai.chat, anthropic.messages, mixpanel.track
	Vendors []string // catalog vendor IDs this shape is served by
	Method  string   // "" for any method
	Paths   []string // path.Match patterns ("*" stays within one path segment)
	// Body reads the body; nil means by content type (JSON, NDJSON, form, multipart, text).
	Body func(r *Request, e *emitter)
	// Skip lists member names whose values are structure, not content (model, role, type).
	// ExtractResponse leaves their values out of an answer, so the record does not wade
	// through them. A request's are extracted like any other value: the API names them, but
	// the client fills them in, and a secret put in "model" reaches the vendor as surely as
	// one in a prompt.
	Skip []string
	// Response reads a response body (a JSON answer or an SSE stream) of this API; nil means
	// generic JSON/text extraction.
	Response func(contentType string, body []byte, e *emitter)

	skip map[string]bool
	// grpc names the request message of each gRPC method of the shape (by the path's last
	// segment), for a body that IsGRPC; nil for a shape that is not served over gRPC.
	grpc map[string]*pbMessage
}

func (a *API) matches(r *Request) bool {
	if a.Method != "" && a.Method != r.Method {
		return false
	}
	vendorOK := false
	for _, v := range a.Vendors {
		if v == r.Vendor {
			vendorOK = true
			break
		}
	}
	if !vendorOK {
		return false
	}
	for _, p := range a.Paths {
		if ok, _ := path.Match(p, r.Path); ok {
			return true
		}
	}
	return false
}

// registry holds every API shape, most specific first within a vendor.
var registry = buildRegistry()

func buildRegistry() []*API {
	var all []*API
	for _, table := range [][]API{aiAPIs, grpcAPIs, analyticsAPIs, observabilityAPIs, moreAnalyticsAPIs} {
		for i := range table {
			a := &table[i]
			a.skip = make(map[string]bool, len(a.Skip))
			for _, k := range a.Skip {
				a.skip[k] = true
			}
			all = append(all, a)
		}
	}
	return all
}

// Lookup returns the API shape a request matches, or nil.
func Lookup(r *Request) *API {
	// Matching walks every shape's path patterns (a microsecond a request); clients call the
	// same few endpoints again and again, so the answer is remembered per vendor, method and
	// path, in a bounded memo.
	key := r.Vendor + "\x00" + r.Method + "\x00" + r.Path
	if len(key) <= 256 {
		if a, ok := lookupMemo.get(key); ok {
			return a
		}
	}
	var found *API
	for _, a := range registry {
		if a.matches(r) {
			found = a
			break
		}
	}
	if len(key) <= 256 {
		lookupMemo.put(key, found)
	}
	return found
}

// lookupMemo remembers Lookup's answers; two generations of at most 4096 paths each.
var lookupMemo = &apiMemo{young: map[string]*API{}}

type apiMemo struct {
	mu         sync.Mutex
	young, old map[string]*API
}

func (m *apiMemo) get(k string) (*API, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.young[k]; ok {
		return a, true
	}
	a, ok := m.old[k]
	if ok {
		m.young[k] = a
	}
	return a, ok
}

func (m *apiMemo) put(k string, a *API) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.young) >= 4096 {
		m.old, m.young = m.young, make(map[string]*API, 1024)
	}
	m.young[k] = a
}

// APIs lists the names of every recognised API shape, for documentation and tests.
func APIs() []string {
	names := make([]string, 0, len(registry))
	seen := map[string]bool{}
	for _, a := range registry {
		if !seen[a.Name] {
			seen[a.Name] = true
			names = append(names, a.Name)
		}
	}
	return names
}

// Extract pulls every text out of r.
func Extract(r *Request, lim Limits) Result {
	e := &emitter{lim: lim.withDefaults()}
	return e.request(r)
}

// request is Extract's walk, shared with Redact, which runs it with a recorder.
func (e *emitter) request(r *Request) Result {
	api := Lookup(r)
	e.keys = &e.ownKeys
	// A first guess at the number of segments, so that the list does not grow from nothing by
	// doubling: a 16 KiB prompt makes a hundred-odd segments with its headers.
	e.segs = make([]flow.Segment, 0, min(32+len(r.Header)+len(r.Body)/256, 1024, e.lim.MaxSegments))
	e.urlPath(r.Path)
	if r.RawQuery != "" {
		// Query strings carry API keys (Gemini's ?key=) and whole events (Mixpanel's ?data=).
		e.form("query:", r.RawQuery)
	}
	res := Result{}
	if api != nil {
		res.API = api.Name
		e.facts = &e.ownFacts
	}
	if len(r.Body) > 0 {
		switch {
		case IsGRPC(r.ContentType):
			// gRPC framing is the same on every path, so it is read here whatever shape the
			// path names; the shape only lends its message schemas (grpc.go).
			e.grpcBody(r, api)
		case api != nil && api.Body != nil:
			api.Body(r, e)
		default:
			e.byContentType("", r.ContentType, r.Body, 0)
		}
	}
	e.headers(r.Header)
	e.emitKeys()
	res.Segments, res.Notes, res.Limited = e.segs, e.notes, e.limited.list()
	if api != nil {
		e.facts.finish(api.Name, r, &res)
	}
	return res
}

// ExtractResponse pulls the text out of a response body of the given API (the vendor's answer,
// assembled from its stream where it streams).
func ExtractResponse(apiName, contentType string, body []byte, lim Limits) Result {
	e := &emitter{lim: lim.withDefaults()}
	var api *API
	for _, a := range registry {
		if a.Name == apiName {
			api = a
			break
		}
	}
	if api != nil {
		e.skipKeys = api.skip
		e.facts = &e.ownFacts
		e.ownFacts.resp = true
	}
	if len(body) > 0 {
		if IsGRPC(contentType) {
			e.grpcResponse(apiName, contentType, body)
		} else if api != nil && api.Response != nil {
			api.Response(contentType, body, e)
		} else {
			e.byContentType("response:", contentType, body, 0)
		}
	}
	res := Result{API: apiName, Segments: e.segs, Notes: e.notes, Limited: e.limited.list()}
	if e.ownFacts.model != "" {
		res.ServedModel = strings.Clone(flow.ModelName(e.ownFacts.model))
	}
	return res
}

// byContentType reads a body (or a part of one) by its declared type, sniffing when the type is
// missing or generic.
func (e *emitter) byContentType(prefix, contentType string, body []byte, depth int) {
	mediaType, params, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case mediaType == "application/x-ndjson" || mediaType == "application/jsonl" || mediaType == "application/x-jsonlines":
		e.ndjson(prefix, body, depth)
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") ||
		len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') && (mediaType == "" || mediaType == "text/plain" || mediaType == "application/octet-stream"):
		e.json(prefix, body, depth)
	case mediaType == "application/x-www-form-urlencoded":
		e.form(joinPrefix(prefix, "form:"), view(body))
	case strings.HasPrefix(mediaType, "multipart/"):
		e.multipart(prefix, body, params["boundary"], depth)
	case mediaType == "text/event-stream":
		e.sse(prefix, body, depth)
	case (strings.HasPrefix(mediaType, "image/") || strings.HasPrefix(mediaType, "audio/") || strings.HasPrefix(mediaType, "video/")) &&
		!looksLikeText(body): // a declared type does not hide text
		e.media(orBody(prefix), mediaType, len(body))
	case looksLikeText(body):
		e.text(orBody(prefix), view(body), depth)
	default:
		e.media(orBody(prefix), http.DetectContentType(body), len(body))
	}
}

func orBody(prefix string) string {
	switch {
	case prefix == "":
		return "body"
	case strings.HasSuffix(prefix, ":"):
		return prefix + "body"
	}
	return prefix
}

// joinPrefix puts a sub-location ("form:") under a prefix ("multipart:file" -> "multipart:file/form:").
func joinPrefix(prefix, sub string) string {
	if prefix == "" {
		return sub
	}
	return prefix + "/" + sub
}

// json walks a JSON document at prefix. On malformed input it keeps the leaves read so far and
// scans the unread rest as plain text, so a truncated body still reaches the detectors.
func (e *emitter) json(prefix string, data []byte, depth int) {
	before, bytesBefore := len(e.segs), e.bytes
	mark := e.rec.mark()
	pj := newPathJoiner(prefix)
	end, err := walkJSONRec(data, e.lim.MaxJSONDepth, e.rec, e.keys, func(p []byte, key string, v string) {
		if e.skipKeys[key] { // responses only
			return
		}
		e.text(orBody(pj.join(p)), v, depth)
	})
	if err != nil {
		e.note("%s: %v", orBody(prefix), err)
		rest := data[min(end, len(data)):]
		if errors.Is(err, errJSONDepth) {
			// Whatever sits at the bottom of a nesting bomb is scanned; its brackets are not,
			// and its strings are scanned with their escapes: the extraction is cut.
			e.limited.set(limJSONDepth)
			rest = bytes.Trim(rest, "[]{}, \t\r\n")
		}
		if looksLikeText(rest) {
			e.text(fmt.Sprintf("%s@%d", orBody(prefix), end), view(rest), depth)
		}
		return
	}
	if tail := bytes.TrimSpace(data[end:]); len(tail) > 0 {
		if (tail[0] == '{' || tail[0] == '[') && bytes.IndexByte(data[end:], '\n') >= 0 {
			// One JSON value per line sent as application/json (JSONL chunks, some SDKs'
			// batches): undo the leaves of the first line and read the body as NDJSON.
			e.segs = e.segs[:before]
			e.bytes = bytesBefore
			e.rec.rollback(mark)
			e.ndjson(prefix, data, depth)
			return
		}
		e.note("%s: data after the JSON value at offset %d", orBody(prefix), end)
		e.text(fmt.Sprintf("%s@%d", orBody(prefix), end), view(tail), depth)
	}
}

// ndjson walks one JSON document per line; line n's leaves are under [n].
func (e *emitter) ndjson(prefix string, data []byte, depth int) {
	n := 0
	for len(data) > 0 && !e.full {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		e.json(joinPath(prefix, fmt.Sprintf("[%d]", n)), line, depth)
		n++
	}
}

// form reads key=value&... pairs in order (url.ParseQuery would lose the order, and with it the
// stability of paths in records and golden files).
func (e *emitter) form(prefix, raw string) { e.formFields(prefix, raw, nil) }

// sse reads a Server-Sent Events stream: each event's data is JSON (walked under events[n]) or
// text.
func (e *emitter) sse(prefix string, body []byte, depth int) {
	n := 0
	for _, ev := range splitSSE(body) {
		p := joinPath(orBody(prefix), fmt.Sprintf("events[%d]", n))
		n++
		switch t := bytes.TrimSpace(ev); {
		case string(t) == "[DONE]": // OpenAI's end-of-stream marker
		case len(t) > 0 && (t[0] == '{' || t[0] == '['):
			e.json(p, ev, depth)
		default:
			e.text(p, string(ev), depth)
		}
	}
}

// splitSSE returns the data of each event in an SSE stream (multi-line data joined by \n).
func splitSSE(body []byte) [][]byte {
	var events [][]byte
	var cur []byte
	has := false
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			if has {
				events = append(events, cur)
			}
			cur, has = nil, false
			continue
		}
		if data, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = bytes.TrimPrefix(data, []byte(" "))
			if has {
				cur = append(cur, '\n')
			}
			cur = append(cur, data...)
			has = true
		}
	}
	if has {
		events = append(events, cur)
	}
	return events
}
