package extract_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/flow"
)

// Made-up credentials in the shapes detectors know.
const (
	ghToken   = "ghp_R8xQ2mZ7vK4pL9wN3tY6bH1cJ5dF0gS2aE7u"
	oaKey     = "sk-proj-abc-def-ghi.Xq3EXAMPLEk9TzEXAMPLEa1B2c3D4"
	awsKeyID  = "AKIAIOSFODNN7EXAMPLE"
	slackTok  = "xoxb-2048-4096-EXAMPLEt0k3n.v1"
	basicCred = "svc-deploy:Tr0ub4dor&3-prod"
)

// Each way an attacker found to get a secret past extraction: the secret must be in the text of
// some segment, and the extraction must be complete.
func TestSecretsOutsideTheBody(t *testing.T) {
	chat := func(body string) *extract.Request {
		return &extract.Request{Vendor: "openai", Method: "POST", Path: "/v1/chat/completions", ContentType: "application/json", Body: []byte(body)}
	}
	// hdr sets headers as they came, without canonicalising their names (net/http would turn
	// AKIA… into Akia…; HTTP/2 sends names in lower case).
	hdr := func(r *extract.Request, kv ...string) *extract.Request {
		r.Header = http.Header{}
		for i := 0; i < len(kv); i += 2 {
			r.Header[kv[i]] = append(r.Header[kv[i]], kv[i+1])
		}
		return r
	}
	tests := []struct {
		name   string
		req    *extract.Request
		secret string
		path   string // where the secret is expected (a prefix of the segment's path)
	}{
		{"header value", hdr(chat(`{"model":"gpt-4o"}`), "X-Debug", ghToken), ghToken, "header:x-debug"},
		{"repeated header value", hdr(chat(`{}`), "X-Debug", "fine", "X-Debug", ghToken), ghToken, "header:x-debug"},
		{"authorization is extracted", hdr(chat(`{}`), "Authorization", "Bearer "+oaKey), oaKey, "header:authorization"},
		{"cookie is extracted", hdr(chat(`{}`), "Cookie", "session=1; debug="+ghToken), ghToken, "header:cookie"},
		{"basic auth in a header, base64", hdr(chat(`{}`), "Authorization", "Basic "+b64([]byte(basicCred))), basicCred, "header:authorization/base64"},
		{"percent-encoded header value", hdr(chat(`{}`), "X-Ctx", url.QueryEscape("key="+awsKeyID+" ok")), "key=" + awsKeyID + " ok", "header:x-ctx/urlenc"},
		{"header name", hdr(chat(`{}`), awsKeyID, "1"), awsKeyID, "#keys"},
		{"path with a token with an underscore", &extract.Request{Vendor: "openai", Method: "GET", Path: "/v1/files/" + ghToken}, ghToken, "url:path"},
		{"path with a key with dashes and dots", &extract.Request{Vendor: "openai", Method: "GET", Path: "/v1/files/" + oaKey + "/content"}, oaKey, "url:path"},
		{"path with a slack token", &extract.Request{Method: "DELETE", Path: "/api/" + slackTok}, slackTok, "url:path"},
		{"percent-encoded path", &extract.Request{Vendor: "openai", Method: "GET", Path: "/v1/files/" + strings.ReplaceAll(url.PathEscape(oaKey), "-", "%2D")}, oaKey, "url:path/urlenc"},
		{"base64 path segment", &extract.Request{Method: "GET", Path: "/sdk/evalx/env/contexts/" + b64URL([]byte(`{"kind":"user","key":"`+awsKeyID+`"}`))}, awsKeyID, "url:path[5]/base64"},
		{"model", chat(`{"model":"` + oaKey + `","messages":[{"role":"user","content":"hi"}]}`), oaKey, "model"},
		{"role", chat(`{"model":"gpt-4o","messages":[{"role":"` + awsKeyID + `","content":"hi"}]}`), awsKeyID, "messages[0].role"},
		{"tool_choice", chat(`{"model":"gpt-4o","tool_choice":"` + ghToken + `"}`), ghToken, "tool_choice"},
		{"service_tier", chat(`{"model":"gpt-4o","service_tier":"` + ghToken + `"}`), ghToken, "service_tier"},
		{"a vendor-shaped ID", chat(`{"messages":[{"role":"tool","tool_call_id":"call_` + awsKeyID + `","content":"x"}]}`), awsKeyID, "messages[0].tool_call_id"},
		{"anthropic type and media_type", &extract.Request{Vendor: "anthropic", Method: "POST", Path: "/v1/messages", ContentType: "application/json",
			Body: []byte(`{"messages":[{"role":"user","content":[{"type":"text ` + awsKeyID + `","text":"hi"}]}]}`)}, awsKeyID, "messages[0].content[0].type"},
		{"analytics skip member", &extract.Request{Vendor: "mixpanel", Method: "POST", Path: "/track", ContentType: "application/json",
			Body: []byte(`[{"event":"e","properties":{"mp_lib":"` + ghToken + `"}}]`)}, ghToken, "[0].properties.mp_lib"},
		{"JSON member name", chat(`{"` + awsKeyID + `":1}`), awsKeyID, "#keys"},
		{"escaped JSON member name", chat(`{"\u0041KIA` + awsKeyID[4:] + `":true}`), awsKeyID, "#keys"},
		{"base64 JSON member name", chat(`{"` + b64([]byte("aws key "+awsKeyID)) + `":1}`), "aws key " + awsKeyID, "#keys/base64"},
		{"nested JSON member name in tool-call arguments", chat(`{"messages":[{"role":"assistant","tool_calls":[{"id":"call_1","type":"function",` +
			`"function":{"name":"f","arguments":"{\"` + awsKeyID + `\":\"x\"}"}}]}]}`), awsKeyID, "#keys"},
		{"JSON member name in an NDJSON line", &extract.Request{Method: "POST", Path: "/ingest", ContentType: "application/x-ndjson",
			Body: []byte("{\"a\":\"b\"}\n{\"" + ghToken + "\":\"c\"}\n")}, ghToken, "#keys"},
		{"JSON member name in base64 in a form value", &extract.Request{Vendor: "mixpanel", Method: "POST", Path: "/track", ContentType: "application/x-www-form-urlencoded",
			Body: []byte("data=" + url.QueryEscape(b64([]byte(`{"event":"e","properties":{"`+awsKeyID+`":"v"}}`))))}, awsKeyID, "#keys"},
		{"JSON member name in a multipart part", &extract.Request{Vendor: "openai", Method: "POST", Path: "/v1/files", ContentType: "multipart/form-data; boundary=b",
			Body: []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n{\"" + awsKeyID + "\":1}\n\r\n--b--\r\n")}, awsKeyID, "#keys"},
		{"query parameter name", &extract.Request{Method: "GET", Path: "/v1/models", RawQuery: awsKeyID + "=1&x=2"}, awsKeyID, "#keys"},
		{"percent-encoded query parameter name", &extract.Request{Method: "GET", Path: "/v1/models", RawQuery: url.QueryEscape("k "+ghToken) + "=1"}, "k " + ghToken, "#keys"},
		{"form field name", &extract.Request{Method: "POST", Path: "/submit", ContentType: "application/x-www-form-urlencoded",
			Body: []byte("user=dana&" + ghToken + "=1")}, ghToken, "#keys"},
		{"multipart field name", &extract.Request{Method: "POST", Path: "/upload", ContentType: "multipart/form-data; boundary=b",
			Body: []byte("--b\r\nContent-Disposition: form-data; name=\"" + ghToken + "\"\r\n\r\nx\r\n--b--\r\n")}, ghToken, "#keys"},
		{"multipart file name with a directory", &extract.Request{Method: "POST", Path: "/upload", ContentType: "multipart/form-data; boundary=b",
			Body: []byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"" + ghToken + "/a.txt\"\r\n\r\nx\r\n--b--\r\n")}, ghToken, "multipart:f/header:content-disposition"},
		{"multipart part header", &extract.Request{Method: "POST", Path: "/upload", ContentType: "multipart/form-data; boundary=b",
			Body: []byte("--b\r\nContent-Disposition: form-data; name=\"f\"\r\nX-Note: " + ghToken + "\r\n\r\nx\r\n--b--\r\n")}, ghToken, "multipart:f/header:x-note"},
		{"multipart preamble", &extract.Request{Method: "POST", Path: "/upload", ContentType: "multipart/form-data; boundary=b",
			Body: []byte(ghToken + "\r\n--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b--\r\n")}, ghToken, "multipart#preamble"},
		{"multipart epilogue", &extract.Request{Method: "POST", Path: "/upload", ContentType: "multipart/form-data; boundary=b",
			Body: []byte("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b--\r\n" + ghToken)}, ghToken, "multipart#epilogue"},
		{"multipart body without parts", &extract.Request{Method: "POST", Path: "/upload", ContentType: "multipart/form-data; boundary=b",
			Body: []byte("no parts here, only " + ghToken)}, ghToken, "body"},
		{"text declared as an image", &extract.Request{Method: "POST", Path: "/upload", ContentType: "image/png", Body: []byte("key " + ghToken)}, ghToken, "body"},
		{"text in an image data URL", chat(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,` +
			b64([]byte("key "+awsKeyID+" and more text to pass as an image")) + `"}}]}]}`), awsKeyID, "messages[0].content[0].image_url.url/dataurl"},
		{"sentry item header", &extract.Request{Vendor: "sentry", Method: "POST", Path: "/api/1/envelope/", ContentType: "text/plain",
			Body: []byte("{}\n{\"type\":\"event\",\"x\":\"" + ghToken + "\"}\n{\"message\":\"m\"}\n")}, ghToken, "items[0](event)#header.x"},
		{"the 300th encoded run of a text", chat(`{"messages":[{"role":"user","content":"` + strings.Repeat("a%20b ", 300) + url.QueryEscape("k="+ghToken) + `"}]}`),
			"k=" + ghToken, "messages[0].content/urlenc@1536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := extract.Extract(tt.req, extract.Limits{})
			if len(res.Limited) > 0 {
				t.Errorf("limited %q, notes %q", res.Limited, res.Notes)
			}
			for _, s := range res.Segments {
				if strings.Contains(s.Text, tt.secret) && strings.HasPrefix(s.Path, tt.path) {
					return
				}
			}
			t.Errorf("%q is in no segment under %s:\n%s", tt.secret, tt.path, strings.Join(flatten(res.Segments), "\n"))
		})
	}
}

// Hop-by-hop and framing headers are not emitted; every other header is, in order of name, after
// the body and before #keys.
func TestHeaderSegments(t *testing.T) {
	h := http.Header{}
	for _, name := range extract.SkippedHeaders {
		h.Set(name, "skipped-"+name)
	}
	h.Set("Connection", "keep-alive, X-Hop")
	h.Set("X-Hop", "skipped")
	h.Set("User-Agent", "sdk/1.0")
	h.Set("Authorization", "Bearer t")
	h.Add("X-Debug", "one")
	h.Add("X-Debug", "two")
	h["x-lower"] = []string{"set by hand"}
	h.Set("Empty", "")
	res := extract.Extract(&extract.Request{Method: "POST", Path: "/v1/x", RawQuery: "q=1", ContentType: "application/json", Header: h, Body: []byte(`{"a":"b"}`)}, extract.Limits{})
	want := []string{
		seg("url:path", "/v1/x"), seg("query:q", "1"), seg("a", "b"),
		seg("header:authorization", "Bearer t"), seg("header:user-agent", "sdk/1.0"),
		seg("header:x-debug", "one"), seg("header:x-debug", "two"), seg("header:x-lower", "set by hand"),
		seg("#keys", "q\na\nEmpty\nX-Debug\nx-lower"),
	}
	if got := flatten(res.Segments); !slices.Equal(got, want) {
		t.Errorf("segments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, name := range append(slices.Clone(extract.SkippedHeaders), "x-hop", "proxy-authorization", "te") {
		if !extract.SkippedHeader(h, name) {
			t.Errorf("SkippedHeader(%q) = false", name)
		}
	}
	for _, name := range []string{"Authorization", "Cookie", "X-Debug"} {
		if extract.SkippedHeader(h, name) {
			t.Errorf("SkippedHeader(%q) = true", name)
		}
	}
	if extract.SkippedHeader(nil, "X-Hop") || !extract.SkippedHeader(nil, "Keep-Alive") {
		t.Error("SkippedHeader with no headers must check the fixed list only")
	}
}

// The whole path is one segment, decoded once; base64 is looked for per path segment, and
// ordinary API paths add nothing else.
func TestURLPathSegments(t *testing.T) {
	ctx := b64URL([]byte(`{"kind":"user","key":"u-42","email":"ann@example.com"}`))
	tests := []struct {
		path string
		want []string
	}{
		{"", nil},
		{"/", nil},
		{"/v1/chat/completions", []string{seg("url:path", "/v1/chat/completions")}},
		{"/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent",
			[]string{seg("url:path", "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent")}},
		{"/v1/files/a%20b", []string{seg("url:path", "/v1/files/a%20b"), seg("url:path/urlenc", "/v1/files/a b")}},
		{"/sdk/evalx/env/contexts/" + ctx, []string{seg("url:path", "/sdk/evalx/env/contexts/"+ctx),
			seg("url:path[5]/base64", `{"kind":"user","key":"u-42","email":"ann@example.com"}`),
			seg("url:path[5]/base64/kind", "user"), seg("url:path[5]/base64/key", "u-42"), seg("url:path[5]/base64/email", "ann@example.com"),
			seg("#keys", "kind\nkey\nemail")}},
	}
	for _, tt := range tests {
		res := extract.Extract(&extract.Request{Method: "GET", Path: tt.path}, extract.Limits{})
		if got := flatten(res.Segments); !slices.Equal(got, tt.want) {
			t.Errorf("%q:\n%s\nwant:\n%s", tt.path, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

// A limit is reported only when it cut something: a text at the decode depth limit with nothing
// left to decode is complete.
func TestLimitedNestedDepth(t *testing.T) {
	once := b64([]byte("plain words, nothing encoded here"))
	twice := b64([]byte("see " + b64([]byte("hidden "+awsKeyID+" inside")) + " ok"))
	jsonTwice := b64([]byte(`{"k":"` + b64([]byte("hidden "+awsKeyID+" inside")) + `"}`))
	lim := extract.Limits{MaxNested: 1}
	tests := []struct {
		name, body string
		want       []string
	}{
		{"nothing to decode at the limit", `{"a":"` + once + `"}`, nil},
		{"base64 at the limit", `{"a":"` + twice + `"}`, []string{extract.LimitNestedDepth}},
		{"base64 in JSON at the limit", `{"a":"` + jsonTwice + `"}`, []string{extract.LimitNestedDepth}},
		{"percent-encoding at the limit", `{"a":"` + b64([]byte("go to https://x.example/?q=a%40b.c now")) + `"}`, []string{extract.LimitNestedDepth}},
		{"a percent sign that is no escape", `{"a":"` + b64([]byte("it went up 50% this quarter")) + `"}`, nil},
		{"decoded JSON with plain leaves at the limit", `{"a":"` + b64([]byte(`[{"k":"v"},{"k":"w"}]`)) + `x"}`, nil},
		{"JSON text at the limit", `{"a":"{\"b\":\"{\\\"c\\\":\\\"d\\\"}\"}"}`, []string{extract.LimitNestedDepth}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := extract.Extract(&extract.Request{Method: "POST", Path: "/", ContentType: "application/json", Body: []byte(tt.body)}, lim)
			if !slices.Equal(res.Limited, tt.want) {
				t.Errorf("limited %q, want %q:\n%s", res.Limited, tt.want, strings.Join(flatten(res.Segments), "\n"))
			}
			if len(tt.want) > 0 && len(res.Notes) == 0 {
				t.Error("no note")
			}
		})
	}
}

// The requests SDKs send every day come out complete: the caller refuses any other.
func TestTypicalRequestsNotLimited(t *testing.T) {
	sdkHeaders := http.Header{
		"Authorization": {"Bearer " + oaKey}, "Content-Type": {"application/json"}, "User-Agent": {"OpenAI/Python 1.59.7"},
		"X-Stainless-Lang": {"python"}, "Connection": {"keep-alive"}, "Accept-Encoding": {"gzip, deflate"},
	}
	var ndjson, jsonl strings.Builder
	for i := range 200 {
		fmt.Fprintf(&ndjson, `{"message":"GET /api/orders/%d 200 in %dms","status":"info","service":"orders","ddtags":"env:prod,version:1.%d","http":{"url":"https://app.example.com/orders/%d?ref=a%%20b","useragent":"Mozilla/5.0"},"usr":{"id":"u-%d","email":"user%d@example.com"}}`+"\n", i, i%97, i%10, i, i, i)
		fmt.Fprintf(&jsonl, `{"custom_id":"req-%d","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Classify the ticket."},{"role":"user","content":"Ticket %d: the invoice PDF will not open"}],"max_tokens":50}}`+"\n", i, i)
	}
	tests := []struct {
		name string
		req  *extract.Request
	}{
		{"generic 16 KiB chat", &extract.Request{Method: "POST", Path: "/v1/chat/completions", ContentType: "application/json", Header: sdkHeaders, Body: chatRequest(16 << 10)}},
		{"openai 16 KiB chat", &extract.Request{Vendor: "openai", Method: "POST", Path: "/v1/chat/completions", ContentType: "application/json", Header: sdkHeaders, Body: openAIChat16K()}},
		{"datadog NDJSON logs", &extract.Request{Vendor: "datadog", Method: "POST", Path: "/api/v2/logs", RawQuery: "ddsource=browser&dd-api-key=pub0123456789abcdef", ContentType: "text/plain", Body: []byte(ndjson.String())}},
		{"generic NDJSON", &extract.Request{Method: "POST", Path: "/ingest", ContentType: "application/x-ndjson", Body: []byte(ndjson.String())}},
		{"openai batch JSONL upload", &extract.Request{Vendor: "openai", Method: "POST", Path: "/v1/files", ContentType: "multipart/form-data; boundary=b", Header: sdkHeaders,
			Body: []byte("--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
				jsonl.String() + "\r\n--b--\r\n")}},
	}
	for _, tt := range tests {
		res := extract.Extract(tt.req, extract.Limits{})
		if len(res.Limited) > 0 {
			t.Errorf("%s: limited %q, notes %q", tt.name, res.Limited, res.Notes)
		}
		if last := res.Segments[len(res.Segments)-1]; last.Path != "#keys" {
			t.Errorf("%s: last segment is %s, want #keys", tt.name, last.Path)
		}
	}
}

// segmentOrderOK checks Result's order: url:path first, #keys last, headers just before it.
func segmentOrderOK(segs []flow.Segment) error {
	stage := 0 // 0 url, 1 query and body, 2 headers, 3 keys
	for _, s := range segs {
		st := 1
		switch {
		case strings.HasPrefix(s.Path, "url:path"):
			st = 0
		case strings.HasPrefix(s.Path, "header:"):
			st = 2
		case strings.HasPrefix(s.Path, "#keys"):
			st = 3
		}
		if st < stage {
			return fmt.Errorf("%s after a later stage", s.Path)
		}
		stage = st
	}
	return nil
}
