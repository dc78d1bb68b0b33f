package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/golden"
)

// validate checks a HAR document against the required fields of HAR 1.2
// (http://www.softwareishard.com/blog/har-12-spec/), each with its JSON type, and that every
// field it does not define is a custom one ("_" prefix). postData.encoding is allowed as the
// base64 marker HAR tools use for binary request bodies.
func validate(doc []byte) []string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	var errs []string
	fail := func(path, format string, args ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, args...))
	}
	type field struct {
		name, kind string // kind: string, number, array, object
		required   bool
	}
	check := func(path string, v any, fields []field) map[string]any {
		obj, ok := v.(map[string]any)
		if !ok {
			fail(path, "is %T, not an object", v)
			return nil
		}
		known := map[string]bool{}
		for _, f := range fields {
			known[f.name] = true
			got, present := obj[f.name]
			if !present {
				if f.required {
					fail(path+"."+f.name, "missing")
				}
				continue
			}
			ok := false
			switch f.kind {
			case "string":
				_, ok = got.(string)
			case "number":
				_, ok = got.(json.Number)
			case "array":
				_, ok = got.([]any)
			case "object":
				_, ok = got.(map[string]any)
			}
			if !ok {
				fail(path+"."+f.name, "is %T, want %s", got, f.kind)
			}
		}
		for name := range obj {
			if !known[name] && !strings.HasPrefix(name, "_") {
				fail(path+"."+name, "is not a HAR 1.2 field and not a custom (_) one")
			}
		}
		return obj
	}
	nvList := func(path string, v any, extra ...field) {
		list, _ := v.([]any)
		for i, item := range list {
			check(fmt.Sprintf("%s[%d]", path, i), item, append([]field{{"name", "string", true}, {"value", "string", true}, {"comment", "string", false}}, extra...))
		}
	}
	root := check("", v, []field{{"log", "object", true}})
	if root == nil {
		return errs
	}
	log := check("log", root["log"], []field{{"version", "string", true}, {"creator", "object", true}, {"browser", "object", false},
		{"pages", "array", false}, {"entries", "array", true}, {"comment", "string", false}})
	if log == nil {
		return errs
	}
	if log["version"] != "1.2" {
		fail("log.version", "%v, want 1.2", log["version"])
	}
	check("log.creator", log["creator"], []field{{"name", "string", true}, {"version", "string", true}, {"comment", "string", false}})
	entries, _ := log["entries"].([]any)
	for i, e := range entries {
		p := fmt.Sprintf("log.entries[%d]", i)
		entry := check(p, e, []field{{"pageref", "string", false}, {"startedDateTime", "string", true}, {"time", "number", true},
			{"request", "object", true}, {"response", "object", true}, {"cache", "object", true}, {"timings", "object", true},
			{"serverIPAddress", "string", false}, {"connection", "string", false}, {"comment", "string", false}})
		if entry == nil {
			continue
		}
		if s, _ := entry["startedDateTime"].(string); s != "" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				fail(p+".startedDateTime", "not ISO 8601: %v", err)
			}
		}
		req := check(p+".request", entry["request"], []field{{"method", "string", true}, {"url", "string", true}, {"httpVersion", "string", true},
			{"cookies", "array", true}, {"headers", "array", true}, {"queryString", "array", true}, {"postData", "object", false},
			{"headersSize", "number", true}, {"bodySize", "number", true}, {"comment", "string", false}})
		if req != nil {
			nvList(p+".request.headers", req["headers"])
			nvList(p+".request.queryString", req["queryString"])
			if pd, ok := req["postData"]; ok {
				check(p+".request.postData", pd, []field{{"mimeType", "string", true}, {"params", "array", false}, {"text", "string", false},
					{"encoding", "string", false}, {"comment", "string", false}})
			}
		}
		res := check(p+".response", entry["response"], []field{{"status", "number", true}, {"statusText", "string", true},
			{"httpVersion", "string", true}, {"cookies", "array", true}, {"headers", "array", true}, {"content", "object", true},
			{"redirectURL", "string", true}, {"headersSize", "number", true}, {"bodySize", "number", true}, {"comment", "string", false}})
		if res != nil {
			nvList(p+".response.headers", res["headers"])
			check(p+".response.content", res["content"], []field{{"size", "number", true}, {"compression", "number", false},
				{"mimeType", "string", true}, {"text", "string", false}, {"encoding", "string", false}, {"comment", "string", false}})
		}
		check(p+".timings", entry["timings"], []field{{"blocked", "number", false}, {"dns", "number", false}, {"connect", "number", false},
			{"send", "number", true}, {"wait", "number", true}, {"receive", "number", true}, {"ssl", "number", false}, {"comment", "string", false}})
	}
	return errs
}

func TestValidatorCatchesMistakes(t *testing.T) {
	// mitmproxy writes "content": {} for a flow without a response: HAR 1.2 requires size and
	// mimeType there.
	data := harJSON(`{"startedDateTime": "2025-05-14T09:42:27.901154+00:00", "time": 1, "request": {"method": "GET", "url": "https://a.example/",
		"httpVersion": "HTTP/1.1", "cookies": [], "headers": [{"name": "a"}], "queryString": [], "headersSize": -1, "bodySize": "0"},
		"response": {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [], "content": {}, "redirectURL": "",
		"headersSize": -1, "bodySize": -1, "extra": 1}, "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}}`)
	got := validate([]byte(data))
	want := []string{
		"log.entries[0].request.bodySize: is string, want number",
		"log.entries[0].request.headers[0].value: missing",
		"log.entries[0].response.content.size: missing",
		"log.entries[0].response.content.mimeType: missing",
		"log.entries[0].response.extra: is not a HAR 1.2 field and not a custom (_) one",
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("validator missed %q; said %q", w, got)
		}
	}
}

// sample returns flows of every shape an export meets, with fixed IDs and times.
func sample() []Entry {
	start := time.Date(2025, 5, 14, 9, 14, 3, 118_000_000, time.UTC)
	chat := &flow.Flow{
		ID: "01JV7Q8X6E0000000000000001", Start: start, End: start.Add(2519383 * time.Microsecond),
		Source: flow.SourceProxy, Mode: flow.Intercepted, Client: flow.Client{Addr: "10.1.2.3:51544", User: "jellis"},
		Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions", API: "openai.chat",
		RequestHeader: http.Header{
			"Authorization":   {"Bearer sk-proj-fixture0000000000000000000000000000000000"},
			"Content-Type":    {"application/json"},
			"User-Agent":      {"OpenAI/Python 1.78.1"},
			"X-Stainless-Os":  {"Linux"},
			"Openai-Project":  {"proj_acme"},
			"Cookie":          {"__cf_bm=abc"},
			"X-Session-Token": {"tok"},
		},
		RequestBody:  []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"key AKIAZ7VQ3KXJ5N2WPLMR, mail jordan.ellis@acme-corp.com"}]}`),
		RequestBytes: 117,
		Status:       200,
		ResponseHeader: http.Header{
			"Content-Type":                 {"application/json"},
			"Set-Cookie":                   {"__cf_bm=def; path=/", "_cfuvid=ghi; path=/"},
			"X-Ratelimit-Remaining-Tokens": {"29999790"},
		},
		ResponseBytes: 412,
		Vendor:        flow.Vendor{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"},
		Notes:         []string{"content-encoding: none"},
		Findings: []flow.Finding{
			{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[0].content", Start: 4, End: 24, Preview: "AKIA************WPLMR", Hash: "h1:5f2c9a"},
			{Detector: "pii.email", Class: "pii", Severity: "medium", Path: "messages[0].content", Start: 31, End: 57, Preview: "j***@acme-corp.com", Hash: "h1:0b7e11"},
		},
		Verdict: flow.Verdict{Action: flow.Block, Policy: "block-secrets-to-ai", Message: "Credentials may not be sent to AI vendors.", Matched: []string{"block-secrets-to-ai"}},
	}
	gz := gzipped(`{"contents":[{"parts":[{"text":"hello"}]}]}`)
	gemini := &flow.Flow{
		ID: "01JV7Q8X6E0000000000000002", Start: start.Add(time.Second), End: start.Add(1500 * time.Millisecond),
		Source: flow.SourceProxy, Mode: flow.Intercepted, Client: flow.Client{Addr: "10.1.2.4:50000"},
		Host: "generativelanguage.googleapis.com", Method: "POST",
		URL:           "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?alt=json&key=AIzaFixture000000000000000000000000000#frag",
		RequestHeader: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}},
		RequestBody:   gz, RequestBytes: int64(len(gz)), ContentEncoding: "gzip",
		Status:         200,
		ResponseHeader: http.Header{"Content-Type": {"application/json; charset=UTF-8"}, "Content-Encoding": {"gzip"}},
		ResponseBytes:  int64(len(gz)),
		Verdict:        flow.Verdict{Action: flow.Allow},
	}
	models := &flow.Flow{
		ID: "01JV7Q8X6E0000000000000003", Start: start.Add(2 * time.Second), End: start.Add(2*time.Second + 90*time.Millisecond),
		Source: flow.SourceCapture, Mode: flow.Intercepted, Client: flow.Client{Addr: "10.1.2.5:40000"},
		Host: "api.openai.com", Method: "GET", URL: "https://api.openai.com/v1/models",
		RequestHeader:  http.Header{"Accept": {"application/json"}},
		Status:         200,
		ResponseHeader: http.Header{"Content-Type": {"audio/mpeg"}},
		ResponseBytes:  6,
		Verdict:        flow.Verdict{Action: flow.Alert, Policy: "alert-all"},
	}
	big := bytes.Repeat([]byte("A"), 64)
	upload := &flow.Flow{
		ID: "01JV7Q8X6E0000000000000004", Start: start.Add(3 * time.Second), End: start.Add(4 * time.Second),
		Source: flow.SourceProxy, Mode: flow.Intercepted, Client: flow.Client{Addr: "10.1.2.6:40000"},
		Host: "api.anthropic.com", Method: "POST", URL: "https://api.anthropic.com/v1/files",
		RequestHeader: http.Header{"Content-Type": {"application/octet-stream"}, "X-Api-Key": {"sk-ant-fixture"}, "Anthropic-Version": {"2023-06-01"}},
		RequestBody:   big, RequestBytes: 1 << 30, Marks: []flow.Mark{flow.MarkOversize},
		Status:         413,
		ResponseHeader: http.Header{"Content-Type": {"text/plain"}},
		ResponseBytes:  17,
		Verdict:        flow.Verdict{Action: flow.Block, Policy: "oversize", Message: "too large"},
	}
	tunnel := &flow.Flow{
		ID: "01JV7Q8X6E0000000000000005", Start: start.Add(5 * time.Second), End: start.Add(65 * time.Second),
		Source: flow.SourceProxy, Mode: flow.Tunnelled, Client: flow.Client{Addr: "10.1.2.7:40000"},
		Host: "example.org", Method: "CONNECT", RequestBytes: 5120, ResponseBytes: 88231,
		Verdict: flow.Verdict{Action: flow.Allow},
		Error:   "upstream: connection reset", ErrorKind: "upstream",
	}
	return []Entry{
		{Flow: chat, ResponseBody: []byte(`{"error":{"message":"Credentials may not be sent to AI vendors.","type":"customs_blocked"}}`), HTTPVersion: "HTTP/1.1"},
		{Flow: gemini, ResponseBody: gz, ResponseEncoding: "gzip", HTTPVersion: "HTTP/1.1"},
		{Flow: models, ResponseBody: []byte{0xff, 0xf3, 0x00, 0x01, 0x80, 0x7f}},
		{Flow: upload, ResponseBody: []byte("payload too large")},
		{Flow: tunnel},
	}
}

func TestWriteGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sample(), WriteOptions{Version: "0.9.0"}); err != nil {
		t.Fatal(err)
	}
	if errs := validate(buf.Bytes()); len(errs) > 0 {
		t.Errorf("export is not valid HAR 1.2:\n%s", strings.Join(errs, "\n"))
	}
	golden.Check(t, "testdata/golden/export.har", buf.Bytes())
}

func TestWriteValidates(t *testing.T) {
	tests := map[string][]Entry{
		"none":   nil,
		"sample": sample(),
		"zero":   {{Flow: &flow.Flow{}}},
	}
	for name, entries := range tests {
		t.Run(name, func(t *testing.T) {
			for _, reveal := range []bool{false, true} {
				var buf bytes.Buffer
				if err := Write(&buf, entries, WriteOptions{RevealHeaders: reveal}); err != nil {
					t.Fatal(err)
				}
				if errs := validate(buf.Bytes()); len(errs) > 0 {
					t.Errorf("reveal=%v: not valid HAR 1.2:\n%s\n%s", reveal, strings.Join(errs, "\n"), buf.Bytes())
				}
			}
		})
	}
}

func TestWriteMasksCredentials(t *testing.T) {
	var masked, revealed bytes.Buffer
	if err := Write(&masked, sample(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&revealed, sample(), WriteOptions{RevealHeaders: true}); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"sk-proj-fixture", "__cf_bm=abc", "__cf_bm=def", "_cfuvid", "AIzaFixture", "sk-ant-fixture", `"tok"`} {
		if strings.Contains(masked.String(), secret) {
			t.Errorf("masked export contains %q", secret)
		}
		if !strings.Contains(revealed.String(), secret) {
			t.Errorf("revealed export lacks %q", secret)
		}
	}
	for _, kept := range []string{`"Linux"`, "proj_acme", "29999790", "alt=json", "2023-06-01", "#frag"} {
		if !strings.Contains(masked.String(), kept) {
			t.Errorf("masked export lost %q, which is no credential", kept)
		}
	}
	if !strings.Contains(masked.String(), "key=%5Bredacted+by+customs%5D") {
		t.Errorf("query key not masked in the url")
	}
	// Findings are exported as previews and hashes; nothing in _customs holds the value.
	entries, _, err := Read(&masked, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := entries[0].Customs
	if c == nil || len(c.Findings) != 2 || c.Findings[0].Preview != "AKIA************WPLMR" {
		t.Fatalf("_customs %+v", c)
	}
	raw, _ := json.Marshal(c)
	if strings.Contains(string(raw), "AKIAZ7VQ3KXJ5N2WPLMR") || strings.Contains(string(raw), "jordan.ellis") {
		t.Errorf("_customs holds a detected value: %s", raw)
	}
}

func TestSensitiveNames(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "proxy-authorization": true, "Cookie": true, "Set-Cookie": true, "X-Api-Key": true,
		"api-key": true, "X-Goog-Api-Key": true, "X-Amz-Security-Token": true, "X-Client-Secret": true, "Sec-WebSocket-Key": true,
		"X-Csrf-Token": true, "x-session-id": true, "key": true, "access_token": true, "X-Sentry-Auth": true,
		"Content-Type": false, "Keep-Alive": false, "User-Agent": false, "Openai-Organization": false, "Accept-Encoding": false,
		"x-ratelimit-remaining-tokens": false, "anthropic-ratelimit-input-tokens-limit": false, "alt": false,
	} {
		if got := sensitive(name); got != want {
			t.Errorf("sensitive(%q) = %v, want %v", name, got, want)
		}
	}
}

// Read(Write(x)) gives back the flows' fields; what a HAR cannot carry is listed in the test.
func TestRoundTrip(t *testing.T) {
	in := sample()
	var buf bytes.Buffer
	if err := Write(&buf, in, WriteOptions{RevealHeaders: true}); err != nil {
		t.Fatal(err)
	}
	out, notes, err := Read(&buf, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) > 0 || len(out) != len(in) {
		t.Fatalf("%d of %d entries, notes %q", len(out), len(in), notes)
	}
	for i := range in {
		a, b := in[i].Flow, out[i].Flow
		t.Run(a.ID, func(t *testing.T) {
			if b.Source != flow.SourceReplay || b.Client.Addr != "har:customs" || b.ID == "" || b.ID == a.ID {
				t.Errorf("source %s client %q id %s", b.Source, b.Client.Addr, b.ID)
			}
			if !b.Start.Equal(a.Start.Truncate(time.Millisecond)) || b.End.Sub(a.End).Abs() >= time.Millisecond {
				t.Errorf("times %s..%s, want %s..%s", b.Start, b.End, a.Start, a.End)
			}
			wantHeader := a.RequestHeader
			if wantHeader == nil {
				wantHeader = http.Header{}
			}
			wantResponseHeader := a.ResponseHeader
			if wantResponseHeader == nil {
				wantResponseHeader = http.Header{}
			}
			for _, c := range []struct {
				name      string
				got, want any
			}{
				{"Mode", b.Mode, a.Mode},
				{"Host", b.Host, a.Host},
				{"Method", b.Method, a.Method},
				{"URL", b.URL, a.URL},
				{"RequestHeader", b.RequestHeader, wantHeader},
				{"RequestBody", string(b.RequestBody), string(a.RequestBody)},
				{"RequestBytes", b.RequestBytes, a.RequestBytes},
				{"ContentEncoding", b.ContentEncoding, a.ContentEncoding},
				{"Status", b.Status, a.Status},
				{"ResponseHeader", b.ResponseHeader, wantResponseHeader},
				{"ResponseBytes", b.ResponseBytes, a.ResponseBytes},
				{"ResponseBody", string(out[i].ResponseBody), string(in[i].ResponseBody)},
				{"ResponseEncoding", out[i].ResponseEncoding, in[i].ResponseEncoding},
				{"Marks", b.Marks, a.Marks},
				{"Error", b.Error, a.Error},
				{"Customs", out[i].Customs, customs(a)},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestWriterStreams(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, WriteOptions{})
	for _, e := range sample() {
		before := buf.Len()
		if err := w.Add(e); err != nil {
			t.Fatal(err)
		}
		if buf.Len() == before {
			t.Errorf("Add held entry %s back", e.Flow.ID)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(sample()[0]); err == nil {
		t.Error("Add after Close accepted")
	}
	if err := NewWriter(&buf, WriteOptions{}).Add(Entry{}); err == nil {
		t.Error("entry without a flow accepted")
	}
	failing := NewWriter(failWriter{}, WriteOptions{})
	if err := failing.Add(sample()[0]); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error %v", err)
	}
	if err := failing.Close(); err == nil {
		t.Error("Close after a failed write succeeded")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// The masking rule of HAR exports, for other evidence formats (customs flows --export jsonl).
func TestMaskHeadersAndURL(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer sk-live"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Type": {"application/json"},
		"X-Ratelimit-Remaining-Tokens": {"900"}}
	got := MaskHeaders(h)
	want := http.Header{"Authorization": {mask}, "Set-Cookie": {mask, mask}, "Content-Type": {"application/json"},
		"X-Ratelimit-Remaining-Tokens": {"900"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MaskHeaders = %v, want %v", got, want)
	}
	if h.Get("Authorization") != "Bearer sk-live" {
		t.Error("MaskHeaders changed its argument")
	}
	if MaskHeaders(nil) != nil {
		t.Error("MaskHeaders(nil) != nil")
	}
	for in, want := range map[string]string{
		"https://g.example/v1/m:generate?key=AIzaSyA&alt=sse": "https://g.example/v1/m:generate?key=%5Bredacted+by+customs%5D&alt=sse",
		"https://x.example/p?q=1#frag":                        "https://x.example/p?q=1#frag",
		"https://x.example/p":                                 "https://x.example/p",
	} {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}
