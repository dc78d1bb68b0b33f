package extract

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zlibBytes(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// segments renders a result as path → text (or "media TYPE N"), for tests that look up paths.
func segments(res Result) map[string]string {
	got := map[string]string{}
	for _, s := range res.Segments {
		if s.Media != "" {
			got[s.Path] = fmt.Sprintf("media %s %d", s.Media, s.Size)
		} else {
			got[s.Path] = s.Text
		}
	}
	return got
}

func checkBounded(t *testing.T, res Result, lim Limits) {
	t.Helper()
	if len(res.Segments) > lim.MaxSegments {
		t.Fatalf("%d segments, over the limit %d", len(res.Segments), lim.MaxSegments)
	}
	n := 0
	for _, s := range res.Segments {
		n += len(s.Text)
	}
	if n > lim.MaxBytes {
		t.Fatalf("%d text bytes, over the limit %d", n, lim.MaxBytes)
	}
	if len(res.Notes) > 50 {
		t.Fatalf("%d notes", len(res.Notes))
	}
}

const awsKey = "AKIAIOSFODNN7EXAMPLE"

var mixpanelEvents = `[{"event":"Prompt Sent","properties":{"token":"0123456789abcdef0123456789abcdef","distinct_id":"u-42","prompt":"use ` + awsKey + ` to deploy","mp_lib":"web"}}]`

// Each vendor's encodings are undone, and each decoded field says which steps it went through.
func TestAnalyticsDecoding(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	posthogEvents := `[{"event":"$pageview","properties":{"$current_url":"https://app.example.com/reset?token=s3cr3t","distinct_id":"d-1","$lib":"web"}}]`
	tests := []struct {
		name                        string
		vendor, method, path, query string
		ctype                       string
		body                        []byte
		api                         string
		want                        map[string]string
		absent                      []string // paths that must not be emitted
		notes                       []string // substrings, one note each, in order
	}{
		{name: "mixpanel form base64", vendor: "mixpanel", method: "POST", path: "/track/", query: "verbose=1&ip=1",
			ctype: "application/x-www-form-urlencoded", body: []byte("data=" + url.QueryEscape(b64([]byte(mixpanelEvents)))),
			api: "mixpanel.track",
			want: map[string]string{"form:data/base64/[0].properties.prompt": "use " + awsKey + " to deploy",
				"form:data/base64/[0].event": "Prompt Sent", "form:data/base64/[0].properties.token": "0123456789abcdef0123456789abcdef",
				"query:verbose": "1", "form:data/base64/[0].properties.mp_lib": "web",
				"#keys": "verbose\nip\ndata\nevent\nproperties\ntoken\ndistinct_id\nprompt\nmp_lib"},
			// The decoded events stand for the base64 text.
			absent: []string{"form:data"}},
		{name: "mixpanel form base64 with unescaped plus", vendor: "mixpanel", method: "POST", path: "/track",
			ctype: "application/x-www-form-urlencoded",
			// "??>" encodes to "Pz8+": a '+' that form decoding turns into a space.
			body: []byte("data=" + b64([]byte(`{"event":"e","properties":{"q":"??>"}}`))),
			api:  "mixpanel.track", want: map[string]string{"form:data/base64/properties.q": "??>"}},
		{name: "mixpanel json data field", vendor: "mixpanel", method: "POST", path: "/track",
			ctype: "application/x-www-form-urlencoded", body: []byte("data=" + url.QueryEscape(mixpanelEvents)),
			api: "mixpanel.track", want: map[string]string{"form:data/json/[0].properties.prompt": "use " + awsKey + " to deploy"}},
		{name: "mixpanel gzip without a header", vendor: "mixpanel", method: "POST", path: "/import", query: "strict=1",
			ctype: "application/json", body: gz(t, mixpanelEvents),
			api: "mixpanel.import", want: map[string]string{"body/gunzip/[0].properties.prompt": "use " + awsKey + " to deploy"}},
		{name: "mixpanel import ndjson", vendor: "mixpanel", method: "POST", path: "/import",
			ctype: "application/x-ndjson", body: []byte(`{"event":"a","properties":{"p":"one"}}` + "\n" + `{"event":"b","properties":{"p":"two"}}`),
			api: "mixpanel.import", want: map[string]string{"[0].properties.p": "one", "[1].properties.p": "two"}},
		{name: "mixpanel invalid base64", vendor: "mixpanel", method: "POST", path: "/track",
			ctype: "application/x-www-form-urlencoded", body: []byte("data=eyJldmVudCI6!!notbase64"),
			api: "mixpanel.track", want: map[string]string{"form:data": "eyJldmVudCI6!!notbase64"},
			notes: []string{"form:data: not base64 JSON: base64: illegal base64 data at input byte 12"}},
		{name: "mixpanel base64 of gzip", vendor: "mixpanel", method: "POST", path: "/engage",
			ctype: "application/x-www-form-urlencoded", body: []byte("data=" + url.QueryEscape(b64(gz(t, `{"$set":{"$email":"ann@example.com"}}`)))),
			api: "mixpanel.engage", want: map[string]string{"form:data/base64/gunzip/$set.$email": "ann@example.com"}},

		{name: "posthog gzip-js", vendor: "posthog", method: "POST", path: "/e/", query: "ip=1&_=1700000000000&ver=1.96.1&compression=gzip-js",
			ctype: "text/plain", body: gz(t, posthogEvents),
			api: "posthog.capture", want: map[string]string{"body/gunzip/[0].properties.$current_url": "https://app.example.com/reset?token=s3cr3t",
				"query:compression": "gzip-js", "body/gunzip/[0].properties.$lib": "web"}},
		{name: "posthog gzip-js truncated", vendor: "posthog", method: "POST", path: "/e/", query: "compression=gzip-js",
			ctype: "text/plain", body: gz(t, posthogEvents)[:60],
			api: "posthog.capture", notes: []string{"body: compression=gzip-js: gunzip: unexpected EOF", "body/gunzip: json: unterminated string"}},
		{name: "posthog lz64 in the form", vendor: "posthog", method: "POST", path: "/e/",
			ctype: "application/x-www-form-urlencoded", body: []byte("data=" + url.QueryEscape(lzCompressToBase64(posthogEvents)) + "&compression=lz64"),
			api: "posthog.capture", want: map[string]string{"form:data/lz64/[0].properties.$current_url": "https://app.example.com/reset?token=s3cr3t",
				"form:compression": "lz64"},
			absent: []string{"form:data"}},
		{name: "posthog lz64 unescaped plus", vendor: "posthog", method: "POST", path: "/e/", query: "compression=lz64",
			ctype: "application/x-www-form-urlencoded", body: []byte("data=" + lzCompressToBase64(posthogEvents)),
			api: "posthog.capture", want: map[string]string{"form:data/lz64/[0].properties.distinct_id": "d-1"}},
		{name: "posthog lz64 garbage", vendor: "posthog", method: "POST", path: "/e/", query: "compression=lz64",
			ctype: "application/x-www-form-urlencoded", body: []byte("data=%25%25not-lz64%25%25"),
			api: "posthog.capture", want: map[string]string{"form:data": "%%not-lz64%%"},
			notes: []string{"form:data: lz64: invalid character '%' at offset 0"}},
		{name: "posthog base64", vendor: "posthog", method: "POST", path: "/e/", query: "compression=base64",
			ctype: "application/x-www-form-urlencoded", body: []byte("data=" + url.QueryEscape(b64([]byte(posthogEvents)))),
			api: "posthog.capture", want: map[string]string{"form:data/base64/[0].event": "$pageview"}},
		{name: "posthog batch json", vendor: "posthog", method: "POST", path: "/batch/",
			ctype: "application/json", body: []byte(`{"api_key":"phc_abc","batch":[{"event":"e","properties":{"prompt":"hi"}}]}`),
			api: "posthog.capture", want: map[string]string{"api_key": "phc_abc", "batch[0].properties.prompt": "hi"}},

		{name: "statsig gz=1", vendor: "statsig", method: "POST", path: "/v1/rgstr", query: "k=client-abc&st=javascript-client&gz=1",
			ctype: "application/json", body: gz(t, `{"events":[{"eventName":"chat","user":{"email":"ann@example.com"}}]}`),
			api: "statsig.events", want: map[string]string{"body/gunzip/events[0].user.email": "ann@example.com", "query:k": "client-abc"}},
		{name: "statsig se=1", vendor: "statsig", method: "POST", path: "/v1/initialize", query: "k=client-abc&se=1",
			ctype: "application/json", body: []byte(reverseASCII(b64([]byte(`{"user":{"userID":"u1","email":"ann@example.com"},"sdkType":"javascript-client"}`)))),
			api: "statsig.initialize", want: map[string]string{"body/base64/user.email": "ann@example.com",
				"body/base64/sdkType": "javascript-client", "url:path": "/v1/initialize"}},

		{name: "datadog deflate ndjson", vendor: "datadog", method: "POST", path: "/api/v2/rum", query: "ddsource=browser&dd-evp-encoding=deflate",
			ctype: "text/plain;charset=UTF-8", body: zlibBytes(t, `{"type":"view","view":{"url":"https://app.example.com/?key=abc"}}`+"\n"+`{"type":"error","error":{"message":"boom"}}`),
			api: "datadog.rum", want: map[string]string{"[0].view.url": "https://app.example.com/?key=abc", "[1].error.message": "boom"}},
		{name: "datadog logs array", vendor: "datadog", method: "POST", path: "/api/v2/logs",
			ctype: "application/json", body: []byte(`[{"message":"login failed for bob","service":"auth"}]`),
			api: "datadog.logs", want: map[string]string{"[0].message": "login failed for bob"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Extract(&Request{Vendor: tc.vendor, Method: tc.method, Path: tc.path, RawQuery: tc.query, ContentType: tc.ctype, Body: tc.body}, Limits{})
			if res.API != tc.api {
				t.Errorf("API = %q, want %q", res.API, tc.api)
			}
			got := segments(res)
			for p, w := range tc.want {
				if g, ok := got[p]; !ok || g != w {
					t.Errorf("%s = %q (present %v), want %q", p, g, ok, w)
				}
			}
			for _, p := range tc.absent {
				if g, ok := got[p]; ok {
					t.Errorf("%s = %q, want no such segment", p, g)
				}
			}
			if len(res.Notes) != len(tc.notes) {
				t.Fatalf("notes = %q, want %q", res.Notes, tc.notes)
			}
			for i, n := range tc.notes {
				if !strings.Contains(res.Notes[i], n) {
					t.Errorf("note %d = %q, want %q", i, res.Notes[i], n)
				}
			}
			if t.Failed() {
				t.Logf("segments: %q", got)
			}
		})
	}
}

func TestGunzipBomb(t *testing.T) {
	bomb := gz(t, strings.Repeat("\x00", 8<<20))
	out, err := gunzip(bomb, 1<<20)
	if !errors.Is(err, errDecodeLimit) || len(out) != 1<<20 {
		t.Fatalf("gunzip = %d bytes, %v; want the limit", len(out), err)
	}
	out, err = inflate(zlibBytes(t, strings.Repeat("x", 1<<20)), 1000)
	if !errors.Is(err, errDecodeLimit) || len(out) != 1000 {
		t.Fatalf("inflate = %d bytes, %v; want the limit", len(out), err)
	}
	// Exactly at the limit is not over it.
	if out, err := gunzip(gz(t, "12345"), 5); err != nil || string(out) != "12345" {
		t.Fatalf("gunzip at the limit = %q, %v", out, err)
	}
	// A bomb in a PostHog body costs the extraction budget, not its full size.
	lim := Limits{MaxBytes: 1 << 16, MaxSegments: 100}
	res := Extract(&Request{Vendor: "posthog", Method: "POST", Path: "/e/", RawQuery: "compression=gzip-js", ContentType: "text/plain",
		Body: gz(t, `{"event":"`+strings.Repeat("A", 4<<20)+`"}`)}, lim)
	checkBounded(t, res, lim)
	if len(res.Notes) == 0 {
		t.Error("no note for a body over the limit")
	}
	if !slices.Contains(res.Limited, LimitBytes) {
		t.Errorf("limited %q, want %q", res.Limited, LimitBytes)
	}
	// And an LZString one.
	res = Extract(&Request{Vendor: "posthog", Method: "POST", Path: "/e/", RawQuery: "compression=lz64", ContentType: "application/x-www-form-urlencoded",
		Body: []byte("data=" + lz64Bomb(300))}, Limits{MaxBytes: 1000, MaxSegments: 100})
	if !slices.Contains(res.Limited, LimitBytes) {
		t.Errorf("lz64: limited %q, want %q (notes %q)", res.Limited, LimitBytes, res.Notes)
	}
}

// fuzzShapes are requests for every analytics decoder, from which FuzzAnalytics varies the
// body and query.
var fuzzShapes = []struct{ vendor, path, ctype string }{
	{"mixpanel", "/track", "application/x-www-form-urlencoded"},
	{"mixpanel", "/import", "application/json"},
	{"posthog", "/e/", "text/plain"},
	{"posthog", "/e/", "application/x-www-form-urlencoded"},
	{"posthog", "/batch/", "application/json"},
	{"sentry", "/api/1/envelope/", "application/x-sentry-envelope"},
	{"datadog", "/api/v2/rum", "text/plain"},
	{"datadog", "/api/v2/logs", "application/json"},
	{"statsig", "/v1/rgstr", "application/json"},
	{"statsig", "/v1/initialize", "application/json"},
	{"segment", "/v1/batch", "application/json"},
	{"amplitude", "/", "application/x-www-form-urlencoded"},
	{"launchdarkly", "/bulk", "application/json"},
	{"intercom", "/messenger/web/ping", "application/x-www-form-urlencoded"},
}

func FuzzAnalytics(f *testing.F) {
	b64 := base64.StdEncoding.EncodeToString
	f.Add(uint8(0), "verbose=1", []byte("data="+url.QueryEscape(b64([]byte(mixpanelEvents)))))
	f.Add(uint8(0), "", []byte("data=eyJldmVudCI6!!notbase64"))
	f.Add(uint8(1), "", gz(f, mixpanelEvents))
	f.Add(uint8(2), "compression=gzip-js", gz(f, `[{"event":"e","properties":{"a":"b"}}]`))
	f.Add(uint8(3), "compression=lz64", []byte("data="+url.QueryEscape(lzCompressToBase64(`[{"event":"e"}]`))))
	f.Add(uint8(3), "compression=lz64", []byte("data="+lz64Bomb(300)))
	f.Add(uint8(3), "", []byte("data="+b64([]byte(`{"event":"e"}`))+"&compression=base64"))
	f.Add(uint8(5), "", []byte("{}\n{\"type\":\"event\",\"length\":9}\n{\"a\":\"b\"}\n"))
	f.Add(uint8(6), "dd-evp-encoding=deflate", zlibBytes(f, "{\"a\":\"b\"}\n{\"c\":\"d\"}"))
	f.Add(uint8(8), "gz=1&se=1", gz(f, string(reverseASCII(b64([]byte(`{"user":{"email":"e"}}`))))))
	f.Add(uint8(11), "", []byte("client=k&e="+url.QueryEscape(`[{"event_type":"x"}]`)))
	f.Fuzz(func(t *testing.T, shape uint8, query string, body []byte) {
		s := fuzzShapes[int(shape)%len(fuzzShapes)]
		lim := Limits{MaxSegments: 500, MaxBytes: 1 << 16}
		res := Extract(&Request{Vendor: s.vendor, Method: "POST", Path: s.path, RawQuery: query, ContentType: s.ctype, Body: body}, lim)
		checkBounded(t, res, lim)
	})
}

// mixpanelBatch is a browser /track batch of about size bytes: form data=base64 of a JSON array
// of events with the properties mixpanel-js sends.
func mixpanelBatch(size int) []byte {
	var events []string
	for i := 0; ; i++ {
		ev := fmt.Sprintf(`{"event":"Prompt Submitted","properties":{"$os":"Mac OS X","$browser":"Chrome","$current_url":"https://app.example.com/chat/%d?ref=sidebar",`+
			`"$browser_version":124,"$screen_height":1117,"$screen_width":1728,"mp_lib":"web","$lib_version":"2.49.0","$insert_id":"pl3sq9m4kx%06d",`+
			`"time":1717000000.%03d,"distinct_id":"$device:18f7c2a1b3d4e5-0a1b2c3d4e5f6a-1f525634-1fa400-18f7c2a1b3d4e5","$device_id":"18f7c2a1b3d4e5-0a1b2c3d4e5f6a",`+
			`"$initial_referrer":"$direct","token":"0123456789abcdef0123456789abcdef","model":"gpt-4o","prompt_chars":%d,`+
			`"prompt_preview":"Summarise the attached incident report for ticket INC-%d and draft a reply to the customer"}}`, i, i, i%1000, 100+i, 4000+i)
		events = append(events, ev)
		if len(events)*len(ev)*4/3 > size {
			break
		}
	}
	js := "[" + strings.Join(events, ",") + "]"
	return []byte("data=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(js))))
}

func BenchmarkExtractMixpanelBatch16K(b *testing.B) {
	body := mixpanelBatch(16 << 10)
	r := &Request{Vendor: "mixpanel", Method: "POST", Path: "/track/", RawQuery: "verbose=1&ip=1&_=1717000000000",
		ContentType: "application/x-www-form-urlencoded", Body: body}
	if res := Extract(r, Limits{}); res.API != "mixpanel.track" || len(res.Segments) < 100 || len(res.Notes) > 0 {
		b.Fatalf("unexpected extraction: %s, %d segments, notes %q", res.API, len(res.Segments), res.Notes)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		Extract(r, Limits{})
	}
}

// A browser batch comes out complete (see TestTypicalRequestsNotLimited).
func TestMixpanelBatchNotLimited(t *testing.T) {
	res := Extract(&Request{Vendor: "mixpanel", Method: "POST", Path: "/track/", RawQuery: "verbose=1&ip=1&_=1717000000000",
		ContentType: "application/x-www-form-urlencoded", Body: mixpanelBatch(64 << 10)}, Limits{})
	if len(res.Limited) > 0 {
		t.Errorf("limited %q, notes %q", res.Limited, res.Notes)
	}
}

func TestUnescapeForm(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "", want: ""},
		{in: "abc", want: "abc"},
		{in: "a+b%2Bc", want: "a b+c"},
		{in: "%2B%2F%3D", want: "+/="},
		{in: "x+%41+y", want: "x A y"},
		{in: "%e2%80%94", want: "—"},
		{in: "50%", err: "invalid percent-encoding at offset 2"},
		{in: "%zz", err: "invalid percent-encoding at offset 0"},
	} {
		got, err := unescapeForm(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("unescapeForm(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("unescapeForm(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if want, _ := url.QueryUnescape(tc.in); want != string(got) {
			t.Errorf("unescapeForm(%q) = %q, url.QueryUnescape says %q", tc.in, got, want)
		}
	}
}

func FuzzUnescapeForm(f *testing.F) {
	for _, s := range []string{"a+b%2Bc", "%e2%80%94", "50%", "%zz", "data=W3s%2B%2F%3D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := unescapeForm(s)
		want, werr := url.QueryUnescape(s)
		if (err == nil) != (werr == nil) || err == nil && string(got) != want {
			t.Fatalf("unescapeForm(%q) = %q, %v; url.QueryUnescape = %q, %v", s, got, err, want, werr)
		}
	})
}
