package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/customs-dev/customs/flow"
)

// ReadOptions bound what Read keeps. The total input is bounded by the caller's reader.
type ReadOptions struct {
	// MaxBody is how many bytes of each request and response body are kept; longer bodies are cut
	// and the flow marked flow.MarkOversize. 0 means DefaultMaxBody.
	MaxBody int
	// MaxEntries is how many entries are examined, skipped ones included; the rest of the file
	// is not read. 0 means DefaultMaxEntries.
	MaxEntries int
}

// ErrNotHAR is wrapped by the error for input that is JSON but not a HAR file.
var ErrNotHAR = errors.New("not a HAR file")

// SyntaxError is input that is not valid JSON, or ends early, at a position in the file.
type SyntaxError struct {
	Offset int64 // bytes from the start of the input
	// Line and Column (1-based, column in bytes) locate Offset; 0 when the offset lay too far
	// behind the reader to count lines (inside one entry larger than a MiB).
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("har: JSON syntax error at %d:%d (byte %d): %s", e.Line, e.Column, e.Offset, e.Msg)
	}
	return fmt.Sprintf("har: JSON syntax error at byte %d: %s", e.Offset, e.Msg)
}

// Read reads a whole HAR file: every entry it could turn into a flow, in file order, and notes
// on what it skipped (which entry and why) or could not read. Entries decoded before a syntax
// error are returned with the error, so a caller may still use a file that was cut short.
//
// Each flow has Source flow.SourceReplay, Mode flow.Intercepted (flow.Tunnelled for CONNECT
// entries), an ID from flow.NewID(startedDateTime) (time-sortable; a fresh one even for a HAR
// customs exported, whose own record is in Entry.Customs), and Client.Addr "har:" followed by
// log.creator.name ("har:WebInspector", "har:Firefox", "har:mitmproxy-exporthar": at most 64
// characters, anything but letters, digits, '.', '_' and '-' turned into '-'), or just "har"
// without a creator. A HAR does not say which machine made the requests: serverIPAddress is the
// server's address, not the client's, and is not used. Notes about a single flow (a body cut at
// MaxBody, a Content-Encoding the exporter had already undone, a field of the wrong type) are on
// the flow's Notes, prefixed "har: ".
func Read(r io.Reader, opts ReadOptions) ([]Entry, []string, error) {
	hr := NewReader(r, opts)
	var out []Entry
	for {
		e, err := hr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, hr.Notes(), err
		}
		out = append(out, e)
	}
	// log.creator may follow log.entries; flows read before it was seen get its name now.
	if addr := hr.clientAddr(); addr != "har" {
		for _, e := range out {
			if e.Flow.Client.Addr == "har" {
				e.Flow.Client.Addr = addr
			}
		}
	}
	return out, hr.Notes(), nil
}

// Reader reads the entries of a HAR file one at a time, so that a large file is never held whole:
// only the entry being converted is in memory.
type Reader struct {
	src     *tailReader
	dec     *json.Decoder
	opts    ReadOptions
	state   int
	creator string
	index   int // entries examined
	notes   []string
	dropped int   // notes over maxNotes
	mark    int64 // input offset where the value being decoded starts
	err     error
}

const (
	stateStart = iota
	stateEntries
	stateDone
)

// maxNotes bounds the notes a Reader keeps; the rest are counted.
const maxNotes = 1000

// NewReader returns a Reader of the HAR file in r.
func NewReader(r io.Reader, opts ReadOptions) *Reader {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	src := &tailReader{r: r, nl: -1, curNL: -1}
	return &Reader{src: src, dec: json.NewDecoder(src), opts: opts}
}

// Notes returns the notes so far: entries skipped and why, limits reached.
func (r *Reader) Notes() []string {
	notes := r.notes
	if r.dropped > 0 {
		notes = append(notes[:len(notes):len(notes)], fmt.Sprintf("%d more notes not kept", r.dropped))
	}
	return notes
}

// Creator is log.creator.name, once read.
func (r *Reader) Creator() string { return r.creator }

func (r *Reader) notef(format string, args ...any) {
	if len(r.notes) >= maxNotes {
		r.dropped++
		return
	}
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// clientAddr is the Client.Addr of flows from this file: "har:" and the creator's name, reduced
// to characters safe in an index key.
func (r *Reader) clientAddr() string {
	name := strings.Map(func(c rune) rune {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
			return c
		}
		return '-'
	}, strings.TrimSpace(r.creator))
	if name == "" {
		return "har"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return "har:" + name
}

// Next returns the next entry, or io.EOF after the last. Malformed entries are skipped with a
// note (see Notes). After an error other than io.EOF the Reader is done and returns that error.
func (r *Reader) Next() (Entry, error) {
	if r.err != nil {
		return Entry{}, r.err
	}
	if r.state == stateStart {
		if err := r.start(); err != nil {
			r.err = err
			return Entry{}, err
		}
	}
	for r.state == stateEntries {
		if r.index >= r.opts.MaxEntries {
			r.notef("only the first %d entries were read (MaxEntries); the rest of the file was not", r.opts.MaxEntries)
			r.state = stateDone
			break
		}
		if !r.dec.More() {
			if _, err := r.token(); err != nil {
				r.err = r.fail(err)
				return Entry{}, r.err
			}
			r.finishLog()
			r.state = stateDone
			break
		}
		idx := r.index
		r.index++
		before := r.dec.InputOffset()
		var he harEntry
		err := r.decode(&he)
		where := func() string { return r.where(idx, before) }
		var typeNote string
		if err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				r.err = r.fail(err)
				return Entry{}, r.err
			}
			if te.Field == "" {
				r.skipped(where, "is "+article(te.Value)+", not an object")
				continue
			}
			if te.Field == "request" {
				r.skipped(where, "request is "+article(te.Value)+", not an object")
				continue
			}
			typeNote = fmt.Sprintf("har: %s is %s, not what HAR 1.2 says; ignored", te.Field, article(te.Value))
		}
		e, reason := r.convert(&he)
		if reason != "" {
			r.skipped(where, reason)
			continue
		}
		if typeNote != "" {
			e.Flow.Notes = append(e.Flow.Notes, typeNote)
		}
		return e, nil
	}
	r.err = io.EOF
	return Entry{}, io.EOF
}

func article(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	case "null":
		return "null"
	}
	return "a " + kind
}

// skipped notes an entry skipped and why.
func (r *Reader) skipped(where func() string, why string) {
	if len(r.notes) >= maxNotes {
		r.dropped++
		return
	}
	r.notes = append(r.notes, where()+": "+why+"; skipped")
}

// where names entry idx for a note: its JSON path and, when known, its line.
func (r *Reader) where(idx int, after int64) string {
	start := r.src.skipSeparators(after)
	if line, _, ok := r.src.position(start); ok {
		return fmt.Sprintf("log.entries[%d] (line %d)", idx, line)
	}
	return fmt.Sprintf("log.entries[%d] (byte %d)", idx, start)
}

// start walks from the top of the file to the first element of log.entries.
func (r *Reader) start() error {
	tok, err := r.token()
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("har: %w: the input is empty", ErrNotHAR)
		}
		return r.fail(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("har: %w: the top level is %s, not an object with \"log\"", ErrNotHAR, describe(tok))
	}
	var keys []string
	for r.dec.More() {
		key, err := r.key()
		if err != nil {
			return err
		}
		if key == "log" {
			return r.startLog()
		}
		keys = append(keys, key)
		if err := r.skip(); err != nil {
			return err
		}
	}
	return fmt.Errorf("har: %w: no \"log\" object at the top level (keys: %s)", ErrNotHAR, listKeys(keys))
}

func (r *Reader) startLog() error {
	tok, err := r.token()
	if err != nil {
		return r.fail(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("har: %w: \"log\" is %s, not an object", ErrNotHAR, describe(tok))
	}
	var keys []string
	for r.dec.More() {
		key, err := r.key()
		if err != nil {
			return err
		}
		switch key {
		case "entries":
			tok, err := r.token()
			if err != nil {
				return r.fail(err)
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return fmt.Errorf("har: %w: log.entries is %s, not an array", ErrNotHAR, describe(tok))
			}
			r.state = stateEntries
			return nil
		case "creator":
			if err := r.readCreator(); err != nil {
				return err
			}
		case "version":
			var v any
			if err := r.decode(&v); err != nil && !isTypeError(err) {
				return r.fail(err)
			}
			if s, _ := v.(string); s != "1.1" && s != "1.2" {
				r.notef("log.version is %s, not 1.2; read as HAR 1.2", clip(fmt.Sprint(v), 16))
			}
		default:
			if err := r.skip(); err != nil {
				return err
			}
		}
		keys = append(keys, key)
	}
	return fmt.Errorf("har: %w: log has no \"entries\" array (keys: %s)", ErrNotHAR, listKeys(keys))
}

// finishLog reads what follows log.entries for a creator that came late. Problems there do not
// spoil the entries already read.
func (r *Reader) finishLog() {
	for r.dec.More() {
		key, err := r.key()
		if err != nil {
			r.notef("after log.entries: %v", err)
			return
		}
		if key == "creator" && r.creator == "" {
			if err := r.readCreator(); err != nil {
				r.notef("after log.entries: %v", err)
				return
			}
			continue
		}
		if err := r.skip(); err != nil {
			r.notef("after log.entries: %v", err)
			return
		}
	}
}

func (r *Reader) readCreator() error {
	var c struct {
		Name string `json:"name"`
	}
	if err := r.decode(&c); err != nil && !isTypeError(err) {
		return r.fail(err)
	}
	r.creator = c.Name
	return nil
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// token and decode remember where the value they read starts, so that a syntax error in it can
// be located (json.Decoder counts SyntaxError.Offset from where its scanner started, not from the
// start of the input).
func (r *Reader) token() (json.Token, error) {
	r.mark = r.dec.InputOffset()
	return r.dec.Token()
}

func (r *Reader) decode(v any) error {
	r.mark = r.dec.InputOffset()
	return r.dec.Decode(v)
}

func (r *Reader) key() (string, error) {
	tok, err := r.token()
	if err != nil {
		return "", r.fail(err)
	}
	k, _ := tok.(string)
	return k, nil
}

// skip discards the next value without keeping it.
func (r *Reader) skip() error {
	if err := r.decode(&discard{}); err != nil {
		return r.fail(err)
	}
	return nil
}

type discard struct{}

func (*discard) UnmarshalJSON([]byte) error { return nil }

// fail turns a decoding error into the error Read returns.
func (r *Reader) fail(err error) error {
	if r.err != nil {
		return r.err
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return r.syntaxError(r.locate(se))
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return r.syntaxError(r.src.off, "unexpected end of input: the file is cut short")
	}
	return fmt.Errorf("har: reading: %w", err)
}

// locate finds where a syntax error is, by scanning the value that failed again from its start
// (kept in the tail). An error that does not recur there came from the decoder's token checks
// (a missing comma or colon), whose offsets are from the start of the input already.
func (r *Reader) locate(se *json.SyntaxError) (int64, string) {
	from := r.src.skipSeparators(r.mark)
	sub, ok := r.src.from(from)
	if !ok {
		return r.mark, se.Error() + " (in the value that starts here)"
	}
	var again *json.SyntaxError
	if errors.As(json.NewDecoder(bytes.NewReader(sub)).Decode(&discard{}), &again) {
		return from + again.Offset - 1, again.Error()
	}
	return se.Offset, se.Error()
}

func (r *Reader) syntaxError(off int64, msg string) error {
	e := &SyntaxError{Offset: off + r.src.bom, Msg: msg}
	if line, col, ok := r.src.position(off); ok {
		e.Line, e.Column = line, col
	}
	if off <= 1 {
		switch h := r.src.head; {
		case len(h) >= 2 && h[0] == 0x1f && h[1] == 0x8b:
			e.Msg += " (the input is gzip-compressed; decompress it first)"
		case zlibHeader(h):
			e.Msg += " (the input looks zlib-compressed, as mitmproxy writes .zhar files; decompress it first)"
		}
	}
	return e
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "something else"
}

func listKeys(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	out := make([]string, 0, 8)
	for i, k := range keys {
		if i == 8 {
			out = append(out, "…")
			break
		}
		out = append(out, strconv.Quote(clip(k, 32)))
	}
	return strings.Join(out, ", ")
}

// The HAR shapes Read decodes. Numbers are lenient (exporters write strings, floats and nulls);
// a field of the wrong JSON type is noted on the flow and otherwise ignored.
type harEntry struct {
	StartedDateTime string       `json:"startedDateTime"`
	Time            jnum         `json:"time"`
	Request         *harRequest  `json:"request"`
	Response        *harResponse `json:"response"`
	FromCache       string       `json:"_fromCache"`
	WebSocket       present      `json:"_webSocketMessages"`
	Customs         *Customs     `json:"_customs"`
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Headers     []harNV      `json:"headers"`
	PostData    *harPostData `json:"postData"`
	BodySize    jnum         `json:"bodySize"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPostData struct {
	MimeType string          `json:"mimeType"`
	Text     json.RawMessage `json:"text"`
	Params   []harParam      `json:"params"`
	Encoding string          `json:"encoding"`
}

type harParam struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
}

type harResponse struct {
	Status   jnum        `json:"status"`
	Headers  []harNV     `json:"headers"`
	Content  *harContent `json:"content"`
	BodySize jnum        `json:"bodySize"`
	Error    string      `json:"_error"`
}

type harContent struct {
	Size     jnum            `json:"size"`
	Text     json.RawMessage `json:"text"`
	Encoding string          `json:"encoding"`
}

// jnum is a number as exporters write them: a JSON number, a numeric string, or null.
type jnum struct {
	v  float64
	ok bool
}

func (n *jnum) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		n.v, n.ok = f, true
	}
	return nil
}

// int returns n as an integer when it is one within [lo, hi].
func (n jnum) int(lo, hi int64) (int64, bool) {
	if !n.ok || n.v < float64(lo) || n.v > float64(hi) {
		return 0, false
	}
	return int64(n.v), true
}

// present records whether a field held anything but null or an empty array.
type present bool

func (p *present) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*p = present(!bytes.Equal(b, []byte("null")) && !bytes.Equal(b, []byte("[]")))
	return nil
}

// maxSize bounds sizes read from a file (2^53, the largest exact float).
const maxSize = 1 << 53

// convert builds the Entry for he, or says why it cannot.
func (r *Reader) convert(he *harEntry) (Entry, string) {
	req := he.Request
	if req == nil {
		return Entry{}, "no request"
	}
	method := strings.TrimSpace(req.Method)
	if method == "" {
		return Entry{}, "request has no method"
	}
	if !isToken(method) {
		return Entry{}, fmt.Sprintf("request method %q is not an HTTP method", clip(method, 24))
	}
	rawURL := strings.TrimSpace(req.URL)
	if rawURL == "" {
		return Entry{}, "request has no url"
	}

	f := &flow.Flow{
		Source:        flow.SourceReplay,
		Mode:          flow.Intercepted,
		Client:        flow.Client{Addr: r.clientAddr()},
		Method:        method,
		RequestHeader: http.Header{},
	}
	note := func(format string, args ...any) { f.Notes = append(f.Notes, "har: "+fmt.Sprintf(format, args...)) }
	pseudo := map[string]string{}
	for _, h := range req.Headers {
		name := strings.TrimSpace(h.Name)
		if strings.HasPrefix(name, ":") {
			pseudo[strings.ToLower(name)] = h.Value
			continue
		}
		if name != "" {
			f.RequestHeader.Add(name, h.Value)
		}
	}

	// Host: the Host header, else HTTP/2's :authority, else the URL's.
	hostSrc := strings.TrimSpace(cmpOr(f.RequestHeader.Get("Host"), pseudo[":authority"]))
	if method == http.MethodConnect {
		// Tunnels are recorded as "host:port", "https://host" or "http://host:443".
		authority := rawURL
		if i := strings.Index(authority, "://"); i >= 0 {
			authority = authority[i+3:]
		}
		if i := strings.IndexAny(authority, "/?#"); i >= 0 {
			authority = authority[:i]
		}
		f.Mode = flow.Tunnelled
		f.Host = normalizeHost(cmpOr(authority, hostSrc))
	} else {
		u, err := url.Parse(rawURL)
		if err != nil {
			return Entry{}, "request url is not a URL"
		}
		switch scheme := strings.ToLower(u.Scheme); scheme {
		case "http", "https":
		case "ws", "wss":
			f.Mark(flow.MarkWebSocket)
		case "":
			if u.Host != "" || !strings.HasPrefix(rawURL, "/") || hostSrc == "" {
				return Entry{}, "request url is neither absolute nor a path with a Host header"
			}
			scheme = strings.ToLower(cmpOr(pseudo[":scheme"], "https"))
			if scheme != "http" && scheme != "https" {
				return Entry{}, fmt.Sprintf("request :scheme %q is not HTTP", clip(scheme, 16))
			}
			rawURL = scheme + "://" + hostSrc + rawURL
			if u, err = url.Parse(rawURL); err != nil {
				return Entry{}, "request url is not a URL"
			}
			note("url had no scheme and host; taken from the headers")
		default:
			return Entry{}, fmt.Sprintf("url scheme %q is not HTTP", clip(scheme, 16))
		}
		if u.Host == "" && hostSrc != "" && !strings.HasPrefix(rawURL, "/") {
			// "https:" or "https:///x": the host is only in the headers.
			u.Host = hostSrc
			rawURL = u.String()
			if _, err := url.Parse(rawURL); err != nil {
				return Entry{}, "request url has no host and the Host header is not one"
			}
			note("url had no host; taken from the headers")
		}
		f.URL = rawURL
		urlHost := normalizeHost(u.Host)
		f.Host = normalizeHost(cmpOr(hostSrc, u.Host))
		if urlHost != "" && urlHost != f.Host {
			note("url host %q differs from the Host header %q; the Host header is what the server saw", clip(urlHost, 64), clip(f.Host, 64))
		}
	}
	if f.Host == "" {
		return Entry{}, "request has no host"
	}
	if !validHost(f.Host) {
		return Entry{}, fmt.Sprintf("request host %q is not a host name", clip(f.Host, 64))
	}
	if he.WebSocket {
		f.Mark(flow.MarkWebSocket)
	}
	if f.HasMark(flow.MarkWebSocket) {
		note("WebSocket messages are not imported; only the handshake was")
	}

	switch t, ok := parseStarted(he.StartedDateTime); {
	case ok && t.Location() == time.UTC && !hasZone(he.StartedDateTime):
		note("startedDateTime has no time zone; read as UTC")
		fallthrough
	case ok:
		f.Start = t
	case he.StartedDateTime == "":
		note("startedDateTime missing; start time unknown")
	default:
		note("startedDateTime %q is not a date; start time unknown", clip(he.StartedDateTime, 40))
	}
	if f.Start.IsZero() {
		f.ID = flow.NewID(time.UnixMilli(0))
	} else {
		f.ID = flow.NewID(f.Start)
		if ms := he.Time.v; he.Time.ok && ms >= 0 && ms < 1e12 {
			f.End = f.Start.Add(time.Duration(ms * float64(time.Millisecond)))
		}
	}
	if he.FromCache != "" {
		note("served from the browser's %s cache: nothing was sent", clip(he.FromCache, 16))
	}

	r.requestBody(f, req, note)

	e := Entry{Flow: f, HTTPVersion: req.HTTPVersion, Customs: he.Customs}
	if res := he.Response; res != nil {
		r.response(&e, res, note)
	} else {
		note("no response recorded")
	}
	return e, ""
}

// requestBody sets the request body, its sizes and its Content-Encoding from postData.
func (r *Reader) requestBody(f *flow.Flow, req *harRequest, note func(string, ...any)) {
	var b harBody
	ctype := ""
	if pd := req.PostData; pd != nil {
		ctype = pd.MimeType
		b = readText(pd.Text, pd.Encoding, r.opts.MaxBody)
		if b.note != "" {
			note("request postData.%s", b.note)
		}
		if len(b.data) == 0 && len(pd.Params) > 0 {
			var data []byte
			data, ctype = rebuildParams(pd.Params, pd.MimeType)
			b = harBody{data: data[:min(len(data), r.opts.MaxBody)], total: len(data), from: fromParams}
			note("request body rebuilt from postData.params as %s", strings.SplitN(ctype, ";", 2)[0])
		}
	}
	if f.RequestHeader.Get("Content-Type") == "" && ctype != "" && b.total > 0 {
		f.RequestHeader.Set("Content-Type", ctype)
		note("Content-Type %q taken from postData", clip(ctype, 64))
	}

	data, state, recovered := classify(f.RequestHeader.Get("Content-Encoding"), b)
	f.RequestBody = data
	f.ContentEncoding = f.RequestHeader.Get("Content-Encoding")
	ce := clip(f.ContentEncoding, 32)
	switch {
	case recovered:
		note("postData.text held the %s-encoded body as Latin-1 text; its bytes were recovered", ce)
	case state == decoded:
		f.ContentEncoding = ""
		note("postData holds the body already decoded from Content-Encoding %q; inspected as recorded", ce)
	case state == lossy:
		f.ContentEncoding = ""
		f.Mark(flow.MarkDecodeError)
		note("postData.text is a lossy text copy of the %s-encoded body (the exporter lost its bytes); only what survived was inspected", ce)
	}

	if recovered && b.total == len(b.data) {
		b.total = len(data) // the bytes, not their text
	}
	b.data = data
	size, sized := req.BodySize.int(0, maxSize)
	f.RequestBytes = int64(b.total)
	if sized && size > 0 {
		f.RequestBytes = size
	}
	switch {
	case b.total > len(b.data):
		f.Mark(flow.MarkOversize)
		note("request body of %d bytes cut to the first %d (MaxBody)", b.total, len(b.data))
	case b.total > 0 && sized && size > int64(b.total) && state == stillEncoded:
		f.Mark(flow.MarkOversize)
		note("the HAR holds %d of the request body's %d bytes", b.total, size)
	case b.total == 0 && sized && size > 0 && f.Mode != flow.Tunnelled:
		note("request body of %d bytes not recorded in the HAR", size)
	}
}

// response sets the status, headers, sizes and content of e from res.
func (r *Reader) response(e *Entry, res *harResponse, note func(string, ...any)) {
	f := e.Flow
	if st, ok := res.Status.int(0, 999); ok {
		f.Status = int(st)
	} else if res.Status.ok {
		note("response status %v is not an HTTP status", res.Status.v)
	}
	f.ResponseHeader = http.Header{}
	for _, h := range res.Headers {
		if name := strings.TrimSpace(h.Name); name != "" && !strings.HasPrefix(name, ":") {
			f.ResponseHeader.Add(name, h.Value)
		}
	}
	if res.Error != "" {
		f.Error = clip(res.Error, 200)
	}
	var b harBody
	contentSize := int64(-1)
	if c := res.Content; c != nil {
		b = readText(c.Text, c.Encoding, r.opts.MaxBody)
		if b.note != "" {
			note("response content.%s", b.note)
		}
		if n, ok := c.Size.int(0, maxSize); ok {
			contentSize = n
		}
	}
	data, state, recovered := classify(f.ResponseHeader.Get("Content-Encoding"), b)
	e.ResponseBody = data
	if state == stillEncoded && len(data) > 0 {
		e.ResponseEncoding = f.ResponseHeader.Get("Content-Encoding")
	}
	switch {
	case recovered:
		note("content.text held the %s-encoded response as Latin-1 text; its bytes were recovered", clip(e.ResponseEncoding, 32))
	case state == lossy:
		note("content.text is a lossy text copy of the %s-encoded response", clip(f.ResponseHeader.Get("Content-Encoding"), 32))
	}
	if b.total > len(b.data) {
		note("response content of %d bytes cut to the first %d (MaxBody)", b.total, len(b.data))
	}
	// ResponseBytes counts bytes on the wire: bodySize is that; content.size is the decoded size.
	switch n, ok := res.BodySize.int(0, maxSize); {
	case ok:
		f.ResponseBytes = n
	case contentSize >= 0:
		f.ResponseBytes = contentSize
	default:
		f.ResponseBytes = int64(b.total)
	}
}

// parseStarted reads startedDateTime: ISO 8601 as exporters write it (Chrome "…123Z", Firefox
// "…123+02:00", Python isoformat "…123456+00:00", .NET "…1234567+02:00"), and without a zone.
func parseStarted(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func hasZone(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return true
	}
	i := strings.LastIndexAny(s, "+-")
	return i > 10 // past the date's own dashes
}

// normalizeHost lower-cases a host and drops its port, brackets and trailing dot, as the proxy
// does (catalog.Normalize).
func normalizeHost(host string) string {
	host = strings.TrimSpace(host)
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			host = host[1:end]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	var b strings.Builder
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// validHost reports whether a normalized host could be a DNS name or an IP address: no spaces,
// control characters or URL delimiters.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if c := h[i]; c <= ' ' || c == 0x7f || strings.IndexByte(`/?#@\[]"<>{}|^`+"`", c) >= 0 {
			return false
		}
	}
	return len(h) <= 255
}

// isToken reports whether s is an HTTP token (RFC 9110), as a method must be.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return len(s) > 0 && len(s) <= 32
}

// tailReader counts what the JSON decoder reads and keeps the last bytes of it, so that an offset
// near the read position can be given as line:column without holding the file.
type tailReader struct {
	r     io.Reader
	off   int64  // bytes passed to the decoder
	tail  []byte // the last bytes passed, ending at off
	lines int    // line breaks before tail
	nl    int64  // offset of the last line break before tail, -1 if none
	head  []byte // the first bytes of the input, for telling compressed input apart
	// cur is the last position counted, so that increasing offsets are counted once.
	cur     int64
	curLine int
	curNL   int64
	bom     int64 // length of a UTF-8 byte-order mark skipped at the start
	began   bool
}

const tailKeep = 1 << 20

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if !t.began && n > 0 {
		t.began = true
		t.head = append([]byte(nil), p[:min(n, 4)]...)
		if n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf {
			// Windows tools write a byte-order mark, which JSON forbids.
			copy(p, p[3:n])
			n -= 3
			t.bom = 3
		}
	}
	if n > 0 {
		t.tail = append(t.tail, p[:n]...)
		t.off += int64(n)
		if len(t.tail) > 2*tailKeep {
			drop := len(t.tail) - tailKeep
			start := t.off - int64(len(t.tail))
			for i, c := range t.tail[:drop] {
				if c == '\n' {
					t.lines++
					t.nl = start + int64(i)
				}
			}
			t.tail = append(t.tail[:0], t.tail[drop:]...)
		}
	}
	return n, err
}

// position gives the 1-based line and byte column of offset off, if off is still in the tail.
func (t *tailReader) position(off int64) (line, col int, ok bool) {
	start := t.off - int64(len(t.tail))
	if off < start || off > t.off {
		return 0, 0, false
	}
	from, line, nl := start, t.lines, t.nl
	if t.cur >= start && t.cur <= off {
		from, line, nl = t.cur, t.curLine, t.curNL
	}
	for i, c := range t.tail[from-start : off-start] {
		if c == '\n' {
			line++
			nl = from + int64(i)
		}
	}
	t.cur, t.curLine, t.curNL = off, line, nl
	col = int(off - nl)
	if line == 0 {
		col += int(t.bom)
	}
	return line + 1, col, true
}

// skipSeparators moves off past the whitespace, comma or colon before a value, when they are in
// the tail.
func (t *tailReader) skipSeparators(off int64) int64 {
	start := t.off - int64(len(t.tail))
	for off >= start && off < t.off {
		switch t.tail[off-start] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

// from returns the tail from offset off on, if off is still in it.
func (t *tailReader) from(off int64) ([]byte, bool) {
	start := t.off - int64(len(t.tail))
	if off < start || off > t.off {
		return nil, false
	}
	return t.tail[off-start:], true
}
