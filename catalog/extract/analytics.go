package extract

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// analyticsAPIs are the analytics and telemetry vendors' request shapes. Their SDKs hide event
// text behind encodings of their own (base64 form fields, LZString, gzip signalled in the query
// instead of Content-Encoding, Sentry envelopes), which the Body functions undo; a shape whose
// body is plain JSON, NDJSON or a form is read by content type.
//
// Skip lists stay short on purpose: only enumerations and generated IDs that no user types
// (a library version, a message type, a trace ID), never tokens, identifiers of people or free
// text.
var analyticsAPIs = []API{
	// Mixpanel: browser and server SDKs send `data` as base64 JSON (form, query) or JSON.
	{Name: "mixpanel.track", Vendors: []string{"mixpanel"}, Paths: []string{"/track", "/track/"},
		Body: mixpanelBody, Skip: mixpanelSkip},
	{Name: "mixpanel.engage", Vendors: []string{"mixpanel"}, Paths: []string{"/engage", "/engage/"},
		Body: mixpanelBody, Skip: mixpanelSkip},
	{Name: "mixpanel.groups", Vendors: []string{"mixpanel"}, Paths: []string{"/groups", "/groups/"},
		Body: mixpanelBody, Skip: mixpanelSkip},
	{Name: "mixpanel.import", Vendors: []string{"mixpanel"}, Paths: []string{"/import", "/import/"},
		Body: mixpanelBody, Skip: mixpanelSkip},

	// Segment: one JSON message per call, or {batch:[...]}; analytics.js uses the one-letter
	// paths and text/plain to avoid a CORS preflight.
	{Name: "segment.batch", Vendors: []string{"segment"}, Paths: []string{"/v1/batch", "/v1/batch/", "/v1/import", "/v1/b"},
		Skip: segmentSkip},
	{Name: "segment.track", Vendors: []string{"segment"}, Paths: []string{"/v1/track", "/v1/track/", "/v1/t"}, Skip: segmentSkip},
	{Name: "segment.identify", Vendors: []string{"segment"}, Paths: []string{"/v1/identify", "/v1/identify/", "/v1/i"}, Skip: segmentSkip},
	{Name: "segment.page", Vendors: []string{"segment"}, Paths: []string{"/v1/page", "/v1/page/", "/v1/p"}, Skip: segmentSkip},
	{Name: "segment.screen", Vendors: []string{"segment"}, Paths: []string{"/v1/screen", "/v1/screen/", "/v1/s"}, Skip: segmentSkip},
	{Name: "segment.group", Vendors: []string{"segment"}, Paths: []string{"/v1/group", "/v1/group/", "/v1/g"}, Skip: segmentSkip},
	{Name: "segment.alias", Vendors: []string{"segment"}, Paths: []string{"/v1/alias", "/v1/alias/", "/v1/a"}, Skip: segmentSkip},

	// Amplitude: HTTP V2 and batch APIs take JSON; the legacy amplitude-js posts a form to "/"
	// with the events as JSON in `e`, and identify calls carry `identification`.
	{Name: "amplitude.httpapi", Vendors: []string{"amplitude"}, Paths: []string{"/2/httpapi", "/2/httpapi/"}},
	{Name: "amplitude.batch", Vendors: []string{"amplitude"}, Paths: []string{"/batch", "/batch/"}},
	{Name: "amplitude.identify", Vendors: []string{"amplitude"}, Paths: []string{"/identify", "/identify/", "/groupidentify", "/groupidentify/"}},
	{Name: "amplitude.legacy", Vendors: []string{"amplitude"}, Method: "POST", Paths: []string{"/"}},

	// PostHog: posthog-js compresses per the query (gzip-js, lz64, base64); server SDKs send
	// JSON. Session replay snapshots (/s/) and flag requests use the same scheme.
	{Name: "posthog.capture", Vendors: []string{"posthog"},
		Paths: []string{"/e", "/e/", "/batch", "/batch/", "/i/v0/e", "/i/v0/e/", "/capture", "/capture/", "/track", "/track/", "/engage", "/engage/"},
		Body:  posthogBody, Skip: posthogSkip},
	{Name: "posthog.snapshot", Vendors: []string{"posthog"}, Paths: []string{"/s", "/s/"}, Body: posthogBody, Skip: posthogSkip},
	{Name: "posthog.flags", Vendors: []string{"posthog"}, Paths: []string{"/flags", "/flags/", "/decide", "/decide/"},
		Body: posthogBody, Skip: posthogSkip},

	// Heap's server-side API.
	{Name: "heap.track", Vendors: []string{"heap"}, Paths: []string{"/api/track", "/api/track/"}},
	{Name: "heap.user_properties", Vendors: []string{"heap"}, Paths: []string{"/api/add_user_properties", "/api/add_user_properties/"}},

	// Sentry: envelopes (any content type: browsers send text/plain) and the legacy store.
	{Name: "sentry.envelope", Vendors: []string{"sentry"}, Paths: []string{"/api/*/envelope", "/api/*/envelope/"},
		Body: sentryBody, Skip: sentrySkip},
	{Name: "sentry.store", Vendors: []string{"sentry"}, Paths: []string{"/api/*/store", "/api/*/store/"}, Skip: sentrySkip},

	// Datadog: server logs are JSON; the browser SDK sends NDJSON as text/plain, deflated when
	// the query says dd-evp-encoding=deflate (sendBeacon cannot set Content-Encoding).
	{Name: "datadog.logs", Vendors: []string{"datadog"}, Paths: []string{"/api/v2/logs", "/api/v2/logs/", "/v1/input", "/v1/input/", "/v1/input/*"},
		Body: datadogBody},
	{Name: "datadog.rum", Vendors: []string{"datadog"}, Paths: []string{"/api/v2/rum", "/api/v2/rum/"}, Body: datadogBody},
	{Name: "datadog.replay", Vendors: []string{"datadog"}, Paths: []string{"/api/v2/replay", "/api/v2/replay/"}},

	// Statsig: JSON, gzipped when the query says gz=1 and base64-reversed when it says se=1.
	{Name: "statsig.events", Vendors: []string{"statsig"},
		Paths: []string{"/v1/rgstr", "/v1/rgstr/", "/v1/log_event", "/v1/log_event/", "/v1/log_event_beacon", "/v1/log_event_beacon/"},
		Body:  statsigBody, Skip: statsigSkip},
	{Name: "statsig.initialize", Vendors: []string{"statsig"}, Paths: []string{"/v1/initialize", "/v1/initialize/"},
		Body: statsigBody, Skip: statsigSkip},

	// LaunchDarkly: JSON arrays of events with evaluation contexts (server, client and mobile).
	{Name: "launchdarkly.events", Vendors: []string{"launchdarkly"},
		Paths: []string{"/bulk", "/diagnostic", "/mobile", "/mobile/events", "/mobile/events/bulk", "/mobile/events/diagnostic",
			"/events/bulk/*", "/events/diagnostic/*"},
		Skip: []string{"kind"}},

	// Intercom: the Messenger's form posts on api-iam, and the REST API.
	{Name: "intercom.messenger", Vendors: []string{"intercom"},
		Paths: []string{"/messenger/web/*", "/messenger/web/*/*", "/messenger/web/*/*/*", "/messenger/web/*/*/*/*"}},
	{Name: "intercom.api", Vendors: []string{"intercom"},
		Paths: []string{"/contacts", "/contacts/*", "/contacts/*/*", "/conversations", "/conversations/*", "/conversations/*/*",
			"/events", "/messages", "/tickets", "/tickets/*", "/tickets/*/*", "/users", "/users/*"}},
}

var (
	mixpanelSkip = []string{"mp_lib", "$lib_version", "$os", "$browser", "$mp_api_endpoint"}
	segmentSkip  = []string{"type", "messageId"}
	posthogSkip  = []string{"$lib", "$lib_version", "$os", "$browser", "$device_type", "uuid"}
	sentrySkip   = []string{"event_id", "trace_id", "span_id", "parent_span_id", "sent_at", "timestamp", "start_timestamp"}
	statsigSkip  = []string{"sdkType", "sdkVersion"}
)

// Decode steps that take a body apart name themselves in segment paths the same way the emitter
// does for base64 (form:data/base64/...), so a finding says which layer hid it.
const (
	stepGunzip = "gunzip"
	stepLZ64   = "lz64"
	stepBase64 = "base64"
)

// errDecodeLimit stops a decompressor at the extraction budget: anything past it could not be
// emitted, and reading it would let a bomb cost memory.
var errDecodeLimit = errors.New("decoded size exceeds the extraction limit")

// budget is how many more decoded bytes are worth producing.
func (e *emitter) budget() int {
	return max(e.lim.MaxBytes-e.bytes, 0)
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// isZlib checks the RFC 1950 header: deflate method, a window the format allows, and the
// header checksum.
func isZlib(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// gunzip decompresses a gzip body (concatenated members included) to at most limit bytes. On a
// truncated or corrupt stream it returns what it could read with the error, so a cut-off upload
// still reaches the detectors.
func gunzip(data []byte, limit int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	out, err := readLimited(zr, len(data), limit)
	if err != nil {
		return out, fmt.Errorf("gunzip: %w", err)
	}
	return out, nil
}

// inflate decompresses zlib (RFC 1950), or raw DEFLATE when the zlib header is absent, to at
// most limit bytes, returning what it read on error.
func inflate(data []byte, limit int) ([]byte, error) {
	var r io.Reader
	if isZlib(data) {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("inflate: %w", err)
		}
		r = zr
	} else {
		r = flate.NewReader(bytes.NewReader(data))
	}
	out, err := readLimited(r, len(data), limit)
	if err != nil {
		return out, fmt.Errorf("inflate: %w", err)
	}
	return out, nil
}

// readLimited reads r to its end but never holds more than limit bytes: the buffer doubles from
// a guess up to limit+1 (the extra byte tells a body of exactly limit bytes from a longer one),
// so a compression bomb costs at most the limit.
func readLimited(r io.Reader, rawLen, limit int) ([]byte, error) {
	limit = max(limit, 0)
	buf := make([]byte, 0, min(max(rawLen*4, 512), limit+1))
	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf[:limit], errDecodeLimit
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// queryParam returns the first value of key in a raw query or form string, unescaped.
func queryParam(raw, key string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k == key {
			if u, err := queryUnescape(v); err == nil {
				return u
			}
			return v
		}
	}
	return ""
}

// formFields reads a form like emitter.form, in order, but first offers each field to special
// with its value still percent-encoded (so that a decoder of its own can avoid a copy); fields
// it does not take are emitted as text at prefix+key.
func (e *emitter) formFields(prefix, raw string, special func(path, key, rawVal string) bool) {
	for raw != "" && !e.full {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := queryUnescape(k)
		if err != nil {
			key = k
		}
		e.keys.add(key)
		if err == nil && special != nil && special(prefix+key, key, v) {
			continue
		}
		val, err2 := queryUnescape(v)
		if err != nil || err2 != nil {
			e.note("%s%s: invalid percent-encoding", prefix, k)
			val = v
		}
		if e.rec != nil {
			e.rec.formValue(val, v, err != nil || err2 != nil)
		}
		e.text(prefix+key, val, 0)
	}
}

// unescapeForm decodes a form value (%XX escapes, '+' for space) into a new byte slice. It copies
// the runs between escapes whole, where url.QueryUnescape builds a string byte by byte and then
// copies it: base64 values are percent-encoded every twenty bytes or so, and 16 KiB of them
// must cost microseconds.
func unescapeForm(s string) ([]byte, error) {
	out := make([]byte, len(s))
	n := 0
	plus := strings.IndexByte(s, '+') >= 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '%')
		if j < 0 {
			j = len(s) - i
		}
		n += copy(out[n:], s[i:i+j])
		i += j
		if plus {
			// A literal '+' in the run just copied is a space; an escaped %2B stays '+'.
			for k := n - j; k < n; k++ {
				if out[k] == '+' {
					out[k] = ' '
				}
			}
		}
		if i == len(s) {
			break
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return nil, fmt.Errorf("invalid percent-encoding at offset %d", i)
		}
		out[n] = byte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		n++
		i += 3
	}
	return out[:n], nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// decodeBase64Value decodes a base64 form or query value, padded or not, in either alphabet,
// with line breaks (which the decoder skips). Clients that do not percent-encode the value let
// form decoding turn each '+' into a space; that is undone, on a copy, on the slow path.
func decodeBase64Value(b []byte) ([]byte, error) {
	b = bytes.TrimRight(b, "=\r\n")
	dst := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
	n, err := base64.RawStdEncoding.Decode(dst, b)
	if err == nil {
		return dst[:n], nil
	}
	enc := base64.RawStdEncoding
	switch {
	case bytes.IndexByte(b, ' ') >= 0:
		b = bytes.ReplaceAll(b, []byte(" "), []byte("+"))
	case bytes.ContainsAny(b, "-_"):
		enc = base64.RawURLEncoding
	default:
		return nil, fmt.Errorf("base64: %w", err)
	}
	n, err = enc.Decode(dst, b)
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	return dst[:n], nil
}

// isForm says whether a body is a form: by its declared type, or, when the type is missing or
// generic, by its shape (key=value with a key such as "data").
func isForm(contentType string, body []byte) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	if mt == "application/x-www-form-urlencoded" {
		return true
	}
	if mt != "" && mt != "text/plain" && mt != "application/octet-stream" {
		return false
	}
	i := bytes.IndexByte(body, '=')
	if i <= 0 || i > 64 {
		return false
	}
	for _, c := range body[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '%') {
			return false
		}
	}
	return true
}

// structured reads a decoded body (the result of a decode step at prefix): JSON, NDJSON, a form,
// or text, by its shape, since the declared content type described the encoded bytes.
func (e *emitter) structured(prefix string, data []byte, depth int) {
	t := bytes.TrimSpace(data)
	switch {
	case len(t) == 0:
	case looksLikeNDJSON(t):
		e.growSegments(len(t))
		e.ndjson(prefix, t, depth)
	case t[0] == '{' || t[0] == '[':
		e.growSegments(len(t))
		e.json(prefix, t, depth)
	case isForm("", t):
		e.form(prefix+"/form:", view(t))
	case looksLikeText(t):
		e.text(prefix, view(t), depth)
	default:
		e.byContentType(prefix, "", t, depth)
	}
}

// growSegments sizes the segment list once for a decoded batch of n bytes of JSON, about one
// leaf per 48 bytes: a batch is hundreds of leaves, and growing the list as they come costs a
// tenth of the time on a 16 KiB Mixpanel batch.
func (e *emitter) growSegments(n int) {
	e.segs = slices.Grow(e.segs, max(min(n/48, e.lim.MaxSegments-len(e.segs)), 0))
}

// looksLikeNDJSON tells NDJSON from one pretty-printed document: its first line is a whole object and
// another object line follows.
func looksLikeNDJSON(t []byte) bool {
	first, rest, ok := bytes.Cut(t, []byte("\n"))
	first = bytes.TrimSpace(first)
	if !ok || len(first) < 2 || first[0] != '{' || first[len(first)-1] != '}' {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && rest[0] == '{'
}

// jsonOrNDJSON reads an intake body that is either one JSON document or one per line, whatever
// its declared type says (browser SDKs send both as text/plain).
func (e *emitter) jsonOrNDJSON(prefix, contentType string, body []byte, depth int) {
	t := bytes.TrimSpace(body)
	if looksLikeNDJSON(t) {
		e.ndjson(prefix, t, depth)
		return
	}
	e.byContentType(prefix, contentType, body, depth)
}
