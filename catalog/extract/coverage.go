package extract

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// What a request carries besides its body, and what extraction reports when it cannot read all
// of it. A secret reaches the vendor from anywhere in the request — a header, the URL path, a
// JSON member name — so each of those is a segment too, and a limit that leaves bytes unread
// or undecoded is reported as data (Result.Limited), for the caller to refuse the request
// rather than pass what nobody scanned.

// The tokens of Result.Limited.
const (
	// LimitSegments: Limits.MaxSegments was reached; the rest of the request was not extracted.
	LimitSegments = "segments"
	// LimitBytes: Limits.MaxBytes was reached, by segments or by a decompressor's output; the
	// rest was not extracted.
	LimitBytes = "bytes"
	// LimitKeys: more distinct member and parameter names than #keys holds (MaxKeyNames,
	// MaxKeyBytes); the rest of the names were not extracted.
	LimitKeys = "keys"
	// LimitJSONDepth: a JSON document nests deeper than Limits.MaxJSONDepth; what lies below
	// was scanned as raw text (escapes and all), not as JSON.
	LimitJSONDepth = "json-depth"
	// LimitNestedDepth: a text at Limits.MaxNested decode steps would have been decoded once
	// more (it holds base64 or percent-encoding of text, a textual data: URL or a JSON
	// document); it was scanned as it stands.
	LimitNestedDepth = "nested-depth"
	// LimitUnreadable: part of the body is in a framing or an encoding customs could not read
	// (a gRPC envelope whose length runs past the body, a compression it does not know or that
	// fails to decompress, a protobuf message that stops parsing). What of it looked like text
	// was scanned as it stands; the rest was not read.
	LimitUnreadable = "unreadable"
)

// limitSet is the set of limits that cut an extraction.
type limitSet uint8

const (
	limSegments limitSet = 1 << iota
	limBytes
	limKeys
	limJSONDepth
	limNestedDepth
	limUnreadable
)

var limitTokens = []struct {
	bit   limitSet
	token string
}{
	{limSegments, LimitSegments}, {limBytes, LimitBytes}, {limKeys, LimitKeys},
	{limJSONDepth, LimitJSONDepth}, {limNestedDepth, LimitNestedDepth}, {limUnreadable, LimitUnreadable},
}

func (l *limitSet) set(bit limitSet)     { *l |= bit }
func (l limitSet) has(bit limitSet) bool { return l&bit != 0 }

// list returns the tokens in a fixed order, or nil.
func (l limitSet) list() []string {
	if l == 0 {
		return nil
	}
	var out []string
	for _, t := range limitTokens {
		if l.has(t.bit) {
			out = append(out, t.token)
		}
	}
	return out
}

// Bounds on #keys. Real requests name tens of distinct members, a large analytics batch a few
// hundred; past these a body is built to exhaust the scan.
const (
	MaxKeyNames = 10000   // distinct names
	MaxKeyBytes = 1 << 20 // bytes of the #keys text
)

// keySet gathers distinct names in first-seen order. A nil *keySet ignores everything, so
// callers that do not collect (responses) need no check. Names come back in the order they came
// first (every event of a batch has the same members), so the name after the last one seen is
// tried first; a request names a few tens of distinct members, so the rest are found by a scan of
// a fixed array, which costs no allocation, and only past it does a map take over.
type keySet struct {
	seen  map[string]int // index in names; nil until names outgrows small
	small [32]string
	names []string
	next  int  // index of the name expected next
	size  int  // length of the names joined by newlines
	over  bool // a name was dropped at a bound
}

func (k *keySet) add(name string) {
	if k == nil || name == "" {
		return
	}
	if k.next < len(k.names) && k.names[k.next] == name {
		k.next++
		return
	}
	if i := k.index(name); i >= 0 {
		k.next = i + 1
		return
	}
	n := len(name)
	if len(k.names) > 0 {
		n++
	}
	if len(k.names) >= MaxKeyNames || k.size+n > MaxKeyBytes {
		k.over = true
		return
	}
	switch {
	case k.names == nil:
		k.names = k.small[:0]
	case k.seen == nil && len(k.names) == len(k.small):
		k.seen = make(map[string]int, 4*len(k.small))
		for i, n := range k.names {
			k.seen[n] = i
		}
	}
	if k.seen != nil {
		k.seen[name] = len(k.names)
	}
	k.names = append(k.names, name)
	k.next = len(k.names)
	k.size += n
}

// index is where name is in names, or -1.
func (k *keySet) index(name string) int {
	if k.seen != nil {
		if i, ok := k.seen[name]; ok {
			return i
		}
		return -1
	}
	for i, n := range k.names {
		if n == name {
			return i
		}
	}
	return -1
}

// keyMark is a keySet's state, to return to when a walk's names must be forgotten (text that
// turned out not to be JSON is scanned whole, names and all).
type keyMark struct {
	n, size int
	over    bool
}

func (k *keySet) mark() keyMark {
	if k == nil {
		return keyMark{}
	}
	return keyMark{len(k.names), k.size, k.over}
}

func (k *keySet) rollback(m keyMark) {
	if k == nil {
		return
	}
	if k.seen != nil {
		for _, name := range k.names[m.n:] {
			delete(k.seen, name)
		}
	}
	k.names, k.size, k.over = k.names[:m.n], m.size, m.over
	k.next = len(k.names)
}

// join returns the names, one per line, in one allocation.
func (k *keySet) join() string {
	b := make([]byte, 0, k.size)
	for i, name := range k.names {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, name...)
	}
	return view(b)
}

// emitKeys emits the names gathered so far as the #keys segment, through text so that a name
// that is base64 or percent-encoded is decoded like any value. Names of JSON found inside the
// names (a key that is itself a JSON document) make one more #keys segment, and so on; the
// decode depth bounds the rounds.
func (e *emitter) emitKeys() {
	for depth := 0; e.keys != nil; depth++ {
		k := e.keys
		e.keys = nil
		if k.over {
			e.limited.set(limKeys)
			e.note("#keys: more than %d distinct names or %d bytes of them; the rest were not extracted", MaxKeyNames, MaxKeyBytes)
		}
		if len(k.names) == 0 || e.full {
			return
		}
		text := k.join()
		*k = keySet{} // the names are in text now: the set collects the next round
		e.keys = k
		e.text("#keys", text, depth)
		if len(k.names) == 0 && !k.over {
			e.keys = nil
		}
	}
}

// urlPath emits the URL path whole, then what decodes from it: percent-encoded runs, and base64
// runs in each path segment (url:path[i]/base64). Some clients put keys or encoded user
// contexts in the path itself (Datadog's legacy /v1/input/{api_key}, LaunchDarkly's
// /sdk/evalx/{env}/contexts/{base64 context}), and an attacker can put anything there.
// Base64 is looked for per segment rather than in the whole path, as text would: '/' is a base64
// character, so whole-path runs fuse segments into one undecodable run, and a long token could
// turn the whole path into a binary "media" record that no detector reads.
func (e *emitter) urlPath(p string) {
	if p == "" || p == "/" || !e.room(len(p)) {
		return
	}
	const path = "url:path"
	e.appendText(path, p)
	e.urlEncoded(path, p, 0)
	for i, start := 0, 0; start <= len(p); i++ {
		end := strings.IndexByte(p[start:], '/')
		if end < 0 {
			end = len(p)
		} else {
			end += start
		}
		if end-start >= minBase64Run {
			e.base64Runs(fmt.Sprintf("%s[%d]", path, i), p[start:end], 0)
		}
		start = end + 1
	}
}

// SkippedHeaders are the request headers Extract does not emit: hop-by-hop headers, which the
// proxy removes before forwarding (RFC 9110 section 7.6.1), and framing headers the proxy
// parses and rewrites itself. Headers named in a Connection header are hop-by-hop too and are
// skipped as well (see SkippedHeader). Every other header, Authorization and Cookie included,
// reaches the vendor and is extracted at header:NAME.
var SkippedHeaders = []string{
	"Host", "Content-Length", "Connection", "Proxy-Connection", "Keep-Alive",
	"Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
}

// SkippedHeader reports whether Extract skips the header name (any case) of a request with
// headers h: it is in SkippedHeaders or named in one of h's Connection headers. h may be nil.
func SkippedHeader(h http.Header, name string) bool {
	return hopByHop(name) || connectionNames(connectionValues(h), name)
}

func hopByHop(name string) bool {
	for _, s := range SkippedHeaders {
		if len(s) == len(name) && strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// connectionValues returns the values of h's Connection header, whatever the case of its key.
func connectionValues(h http.Header) []string {
	var conn []string
	for k, vs := range h {
		if len(k) == len("Connection") && strings.EqualFold(k, "Connection") {
			if conn == nil {
				conn = vs
			} else {
				conn = append(slices.Clip(conn), vs...)
			}
		}
	}
	return conn
}

// connectionNames reports whether a Connection header value lists name.
func connectionNames(conn []string, name string) bool {
	for _, v := range conn {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(tok), name) {
				return true
			}
		}
	}
	return false
}

// headers emits every header value at header:NAME (lower case; a repeated header gives the same
// path again), in order of name, and adds the names to #keys: a header name reaches the vendor
// like a JSON key. The names SDKs and browsers send (knownHeaders) are left out of #keys, as
// none of them is a secret.
func (e *emitter) headers(h http.Header) {
	if len(h) == 0 || e.full {
		return
	}
	var buf [32]string // most requests carry fewer headers: no allocation for the list
	names := buf[:0]
	var conn []string
	for k, vs := range h {
		switch {
		case len(k) == len("Connection") && strings.EqualFold(k, "Connection"):
			if conn == nil {
				conn = vs
			} else {
				conn = append(slices.Clip(conn), vs...) // Connection and connection both set
			}
		case !hopByHop(k):
			names = append(names, k)
		}
	}
	if len(conn) > 0 {
		names = slices.DeleteFunc(names, func(k string) bool { return connectionNames(conn, k) })
	}
	slices.SortFunc(names, compareFold)
	for _, k := range names {
		p := headerPath(k)
		for _, v := range h[k] {
			e.text(p, v, 0)
		}
	}
	for _, k := range names {
		if _, known := knownHeaders[k]; !known {
			e.keys.add(k)
		}
	}
}

// compareFold orders header names as their lower-case paths do, then by their bytes, so that
// the order does not depend on map iteration.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lowerASCII(a[i]), lowerASCII(b[i])
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// headerPath is "header:" and the name in lower case. The paths of known headers are built once,
// so that a request's headers cost no allocation for their paths.
func headerPath(name string) string {
	if p, ok := knownHeaders[name]; ok {
		return p
	}
	return "header:" + strings.ToLower(name)
}

// knownHeaders maps the canonical names of the headers that AI and analytics SDKs and browsers
// send to their paths.
var knownHeaders = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request",
		"Anthropic-Beta", "Anthropic-Dangerous-Direct-Browser-Access", "Anthropic-Version", "Api-Key",
		"Authorization", "Baggage", "Cache-Control", "Content-Encoding", "Content-Language", "Content-Type",
		"Cookie", "Dd-Api-Key", "Dnt", "Http-Referer", "Idempotency-Key", "Intercom-Version", "Openai-Beta",
		"Openai-Organization", "Openai-Project", "Origin", "Pragma", "Priority", "Referer", "Sec-Ch-Ua",
		"Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site",
		"Sentry-Trace", "Traceparent", "Tracestate", "User-Agent", "X-Amz-Content-Sha256", "X-Amz-Date",
		"X-Amz-Security-Token", "X-Amz-User-Agent", "X-Api-Key", "X-Client-Name", "X-Fern-Language",
		"X-Fern-Sdk-Name", "X-Fern-Sdk-Version", "X-Goog-Api-Client", "X-Goog-Api-Key", "X-Goog-User-Project",
		"X-Launchdarkly-Event-Schema", "X-Launchdarkly-Payload-Id", "X-Launchdarkly-User-Agent",
		"X-Ms-Client-Request-Id", "X-Request-Id", "X-Sentry-Auth", "X-Stainless-Arch", "X-Stainless-Async",
		"X-Stainless-Helper-Method", "X-Stainless-Lang", "X-Stainless-Os", "X-Stainless-Package-Version",
		"X-Stainless-Read-Timeout", "X-Stainless-Retry-Count", "X-Stainless-Runtime",
		"X-Stainless-Runtime-Version", "X-Stainless-Timeout", "X-Title",
	} {
		m[name] = "header:" + strings.ToLower(name)
	}
	return m
}()
