package extract_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/internal/golden"
)

const (
	plantedKey  = "AKIAIOSFODNN7EXAMPLE"
	plantedKey2 = "AKIAI44QH8DHBEXAMPLE"
	placeholder = "[REDACTED:secret.aws-access-key-id#1]"
)

// redactEdit names an edit by the text it removes: the first occurrence of target in the
// segment at path.
type redactEdit struct{ path, target, repl string }

type redactCase struct {
	name  string
	req   func(t testing.TB) *extract.Request
	edits []redactEdit
	// carriers are other segments that hold the edited value in another encoding (the base64
	// text a leaf was decoded from): they must change, and lose the target.
	carriers []string
	raw      []extract.Edit // edits as given, for the error cases
	wantErr  string
}

func fixture(file string) func(t testing.TB) *extract.Request {
	return func(t testing.TB) *extract.Request {
		r, _ := loadFixture(t, filepath.Join(fixtureRoot, file))
		return r
	}
}

func request(vendor, method, path, query, ctype, body string) func(t testing.TB) *extract.Request {
	return func(testing.TB) *extract.Request {
		return &extract.Request{Vendor: vendor, Method: method, Path: path, RawQuery: query, ContentType: ctype, Body: []byte(body)}
	}
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

var b64URL = base64.RawURLEncoding.EncodeToString

var redactCases = []redactCase{
	{name: "openai-chat-fixture", req: fixture("openai/chat.http"),
		edits: []redactEdit{{path: "messages[1].content[0].text", target: plantedKey}}},
	{name: "openai-chat-escapes", req: request("openai", "POST", "/v1/chat/completions", "", "application/json",
		`{"model":"gpt-4o","messages":[{"role":"user","content":"caf\u00e9 \"quoted\"\n\tkey=`+plantedKey+` \ud83d\ude00 \u2014 end"}]}`),
		edits: []redactEdit{{path: "messages[0].content", target: plantedKey}}},
	{name: "json-escaped-replacement", req: request("openai", "POST", "/v1/chat/completions", "", "application/json",
		`{"messages":[{"role":"user","content":"caf\u00e9 key `+plantedKey+` \u003cb\u003e"}]}`),
		edits: []redactEdit{{path: "messages[0].content", target: plantedKey, repl: "\"née\" <x>\n"}}},
	{name: "anthropic-messages-fixture", req: fixture("anthropic/messages.http"),
		edits: []redactEdit{{path: "messages[2].content[1].text", target: plantedKey}}},
	{name: "gemini-contents-parts", req: request("google-gemini", "POST", "/v1beta/models/gemini-2.0-flash:generateContent", "key=AIzaSyD3EXAMPLEfakeKEY0000000000000000", "application/json",
		`{"contents":[{"role":"user","parts":[{"text":"Summarise this."},{"text":"deploy log:\nAWS_ACCESS_KEY_ID=`+plantedKey+`\nok"}]}],"generationConfig":{"temperature":0.1}}`),
		edits: []redactEdit{{path: "contents[0].parts[1].text", target: plantedKey}}},
	{name: "tool-call-arguments", req: request("openai", "POST", "/v1/chat/completions", "", "application/json",
		`{"messages":[{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"run","arguments":"{\"cmd\":\"export AWS_ACCESS_KEY_ID=`+plantedKey+`\",\"note\":\"caf\\u00e9\",\"n\":1}"}}]}]}`),
		carriers: []string{"messages[0].tool_calls[0].function.arguments"}, // the document, a segment of its own
		edits:    []redactEdit{{path: "messages[0].tool_calls[0].function.arguments/json/cmd", target: plantedKey, repl: `"` + placeholder + `"`}}},
	// A finding in a pasted JSON document (found with its member name beside it): the edit
	// lands in the document, and so in its leaf.
	{name: "pasted-json-document", req: request("openai", "POST", "/v1/chat/completions", "", "application/json",
		`{"messages":[{"role":"user","content":"{\"region\": \"eu-west-1\", \"api_key\": \"`+plantedKey+`\"}"}]}`),
		carriers: []string{"messages[0].content/json/api_key"},
		edits:    []redactEdit{{path: "messages[0].content", target: plantedKey}}},
	{name: "data-url-base64", req: request("openai", "POST", "/v1/chat/completions", "", "application/json",
		`{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/plain;base64,`+b64([]byte("aws_access_key_id = "+plantedKey+"\nregion = eu-west-1\n"))+`"}}]}]}`),
		edits: []redactEdit{{path: "messages[0].content[0].file.file_data/dataurl", target: plantedKey}}},
	{name: "base64-run-in-text", req: request("", "POST", "/unknown", "", "application/json",
		`{"prompt":"decode this for me: `+b64URL([]byte("key "+plantedKey+" secret?"))+` thanks"}`),
		carriers: []string{"prompt"},
		edits:    []redactEdit{{path: "prompt/base64@20", target: plantedKey}}},
	{name: "base64-mime-wrapped", req: request("", "POST", "/unknown", "", "text/plain",
		"attachment:\r\n"+strings.ReplaceAll(wrap76(b64([]byte(strings.Repeat("lorem ipsum dolor sit amet ", 4)+"aws_access_key_id="+plantedKey+" "+strings.Repeat("consectetur adipiscing ", 4)))), "\n", "\r\n")+"\r\nend\r\n"),
		carriers: []string{"body"},
		edits:    []redactEdit{{path: "body/base64@13", target: plantedKey}}},
	{name: "mixpanel-form-fixture", req: fixture("mixpanel/track.http"),
		edits: []redactEdit{{path: "form:data/base64/[1].properties.prompt", target: plantedKey}}},
	{name: "mixpanel-query", req: request("mixpanel", "GET", "/track", "ip=1&data="+url.QueryEscape(b64([]byte(`{"event":"Prompt","properties":{"token":"3f1b2c4d5e6f708192a3b4c5d6e7f809","prompt":"use `+plantedKey+` for s3 ~~~ ???"}}`)))+"&verbose=1", "", ""),
		carriers: []string{"query:data", "query:data/base64"},
		edits:    []redactEdit{{path: "query:data/base64/properties.prompt", target: plantedKey}}},
	// The same value found in the decoded document and in its leaf: one change, made once.
	{name: "same-secret-in-document-and-leaf", req: request("mixpanel", "GET", "/track", "data="+url.QueryEscape(b64([]byte(`{"event":"Prompt","properties":{"prompt":"use `+plantedKey+` now"}}`))), "", ""),
		carriers: []string{"query:data"},
		edits: []redactEdit{{path: "query:data/base64", target: plantedKey},
			{path: "query:data/base64/properties.prompt", target: plantedKey}}},
	{name: "mixpanel-form-unescaped-plus", req: request("mixpanel", "POST", "/track", "", "application/x-www-form-urlencoded",
		"data="+b64([]byte(`[{"event":"e","properties":{"prompt":"key `+plantedKey+` ~~~ ~>~"}}]`))),
		edits: []redactEdit{{path: "form:data/base64/[0].properties.prompt", target: plantedKey}}},
	// A client that escaped some '/' and not others: only the changed stretch is escaped anew.
	{name: "mixpanel-form-mixed-escapes", req: request("mixpanel", "POST", "/track", "", "application/x-www-form-urlencoded",
		"data="+unescapeLast(url.QueryEscape(b64([]byte(`[{"event":"e","properties":{"url":"???","prompt":"key `+plantedKey+` ??? ???"}}]`))), "%2F", "/")),
		edits: []redactEdit{{path: "form:data/base64/[0].properties.prompt", target: plantedKey}}},
	{name: "form-urlencoded", req: request("", "POST", "/submit", "", "application/x-www-form-urlencoded",
		"user=dana&prompt=why+does+"+plantedKey+"+fail%3F+%E2%80%94+help&x=1"),
		edits: []redactEdit{{path: "form:prompt", target: plantedKey, repl: placeholder + " & co"}}},
	{name: "multipart-text-part", req: request("openai", "POST", "/v1/files", "", "multipart/form-data; boundary=XyZ",
		"--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"+
			"--XyZ\r\nContent-Disposition: form-data; name=\"notes\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n"+
			"deploy notes\r\nkey: "+plantedKey+"\r\n\r\n--XyZ--\r\n"),
		edits: []redactEdit{{path: "multipart:notes", target: plantedKey}}},
	{name: "multipart-jsonl-fixture", req: fixture("openai/files-batch.http"),
		edits: []redactEdit{{path: "multipart:file[1].body.messages[1].content", target: plantedKey}}},
	{name: "ndjson-batch", req: request("", "POST", "/ingest", "", "application/x-ndjson",
		"{\"message\":\"start\"}\n{\"message\":\"leaked "+plantedKey+" here\",\"level\":\"warn\"}\n{\"message\":\"end\"}\n"),
		edits: []redactEdit{{path: "[1].message", target: plantedKey}}},
	{name: "statsig-gunzip-fixture", req: fixture("statsig/rgstr-gzip.http"),
		edits: []redactEdit{{path: "body/gunzip/events[1].metadata.text", target: "Tr0ub4dor&3"}}},
	{name: "posthog-gzip-js", req: request("posthog", "POST", "/e/", "compression=gzip-js&ver=1.200.0", "text/plain",
		gzipped(`[{"event":"prompt","properties":{"text":"use `+plantedKey+`","token":"phc_x"}}]`)),
		edits: []redactEdit{{path: "body/gunzip/[0].properties.text", target: plantedKey}}},
	{name: "statsig-reversed-base64-fixture", req: fixture("statsig/initialize.http"),
		edits: []redactEdit{{path: "body/base64/user.email", target: "omar.haddad@example.com", repl: "[REDACTED:pii.email]"}}},
	{name: "datadog-deflate-fixture", req: fixture("datadog/logs-browser-deflate.http"),
		edits: []redactEdit{{path: "[0].message", target: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTUwMSJ9.EXAMPLEsig", repl: "[REDACTED:secret.jwt]"}}},
	{name: "sentry-envelope-fixture", req: fixture("sentry/envelope-browser.http"),
		edits: []redactEdit{{path: "items[0](event).user.email", target: "chloe.martin@example.com", repl: "[REDACTED:pii.email]"}}},
	{name: "url-encoded-run-in-text", req: request("", "POST", "/unknown", "", "application/json",
		`{"prompt":"the callback was https://example.com/cb?state=%7B%22key%22%3A%22`+plantedKey+`%22%7D&x=1 and it failed"}`),
		carriers: []string{"prompt"},
		edits:    []redactEdit{{path: "prompt/urlenc@17", target: plantedKey, repl: placeholder + " \"x\""}}},
	{name: "data-url-percent", req: request("openai", "POST", "/v1/chat/completions", "", "application/json",
		`{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/plain,key%20`+plantedKey+`%0Anext/line"}}]}]}`),
		edits: []redactEdit{{path: "messages[0].content[0].file.file_data/dataurl", target: plantedKey, repl: placeholder + " 50%"}}},
	{name: "json-slash-escapes", req: request("", "POST", "/unknown", "", "application/json",
		`{"url":"https:\/\/example.com\/ok","note":"path \/tmp\/`+plantedKey+` \ud83d\ude00"}`),
		edits: []redactEdit{{path: "note", target: plantedKey, repl: "a/b 😀 " + placeholder}}},
	{name: "anthropic-inline-base64-text", req: request("anthropic", "POST", "/v1/messages", "", "application/json",
		`{"model":"claude","messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"`+
			b64([]byte(strings.Repeat("config line\n", 8)+"aws_access_key_id = "+plantedKey+"\n"+strings.Repeat("more config\n", 4)))+`"}}]}]}`),
		edits: []redactEdit{{path: "messages[0].content[0].source.data/base64", target: plantedKey}}},
	{name: "query-and-body", req: request("google-gemini", "POST", "/v1beta/models/gemini-2.0-flash:generateContent", "key=AIzaSyD3EXAMPLEfakeKEY0000000000000000&alt=sse", "application/json",
		`{"contents":[{"parts":[{"text":"key `+plantedKey+`"}]}]}`),
		edits: []redactEdit{{path: "query:key", target: "AIzaSyD3EXAMPLEfakeKEY0000000000000000", repl: "[REDACTED:secret.gcp-api-key]"}, {path: "contents[0].parts[0].text", target: plantedKey}}},
	// A repeated key holding the same value: the path names both, and both are edited.
	{name: "repeated-key-same-text", req: request("", "POST", "/submit", "", "application/x-www-form-urlencoded",
		"k="+plantedKey+"&x=1&k="+plantedKey),
		edits: []redactEdit{{path: "form:k", target: plantedKey}}},
	{name: "json-number", req: request("", "POST", "/unknown", "", "application/json", `{"card":4111111111111111,"n":1}`),
		edits: []redactEdit{{path: "card", target: "4111111111111111", repl: "[REDACTED:pii.card]"}}},
	{name: "two-edits-one-string", req: request("anthropic", "POST", "/v1/messages", "", "application/json",
		`{"model":"claude","messages":[{"role":"user","content":"first `+plantedKey+` then \"`+plantedKey2+`\" done"}]}`),
		edits: []redactEdit{{path: "messages[0].content", target: plantedKey}, {path: "messages[0].content", target: plantedKey2, repl: "[REDACTED:secret.aws-access-key-id#2]"}}},
	// Structural members are ordinary values in a request: a secret in "model" is redacted like
	// one in a prompt.
	{name: "secret-in-model", req: request("openai", "POST", "/v1/chat/completions", "", "application/json",
		`{"model":"gpt-4o `+plantedKey+`","messages":[{"role":"user","content":"hi"}],"tool_choice":"auto"}`),
		edits: []redactEdit{{path: "model", target: plantedKey}}},
	{name: "secret-in-role-and-service-tier", req: request("anthropic", "POST", "/v1/messages", "", "application/json",
		`{"model":"claude","service_tier":"`+plantedKey2+`","messages":[{"role":"user `+plantedKey+`","content":"hi"}]}`),
		edits: []redactEdit{{path: "messages[0].role", target: plantedKey}, {path: "service_tier", target: plantedKey2, repl: "[REDACTED:secret.aws-access-key-id#2]"}}},
	{name: "two-segments", req: request("openai", "POST", "/v1/chat/completions", "", "application/json",
		`{"messages":[{"role":"system","content":"key `+plantedKey+`"},{"role":"user","content":"other \u00e9 `+plantedKey2+`"}]}`),
		edits: []redactEdit{{path: "messages[0].content", target: plantedKey}, {path: "messages[1].content", target: plantedKey2}}},

	{name: "error-posthog-lz64", req: fixture("posthog/e-lz64.http"),
		edits:   []redactEdit{{path: "form:data/lz64/[1].properties.note", target: "4242"}},
		wantErr: "form:data/lz64/[1].properties.note: PostHog lz64 compression cannot be re-encoded"},
	{name: "error-unknown-path", req: fixture("openai/chat.http"),
		raw:     []extract.Edit{{Path: "messages[9].content", Start: 0, End: 4, Replacement: placeholder}},
		wantErr: "messages[9].content: no segment at this path"},
	{name: "error-span-out-of-range", req: fixture("openai/chat.http"),
		raw:     []extract.Edit{{Path: "messages[4].content", Start: 3, End: 400, Replacement: placeholder}},
		wantErr: "messages[4].content: span 3:400 out of range"},
	{name: "error-overlapping-edits", req: fixture("openai/chat.http"),
		raw: []extract.Edit{
			{Path: "messages[1].content[0].text", Start: 60, End: 80, Replacement: placeholder},
			{Path: "messages[1].content[0].text", Start: 70, End: 90, Replacement: placeholder}},
		wantErr: "messages[1].content[0].text: overlapping edits"},
	{name: "error-overlap-through-encodings", req: request("", "POST", "/unknown", "", "application/json",
		`{"prompt":"decode this for me: `+b64([]byte("key "+plantedKey+" secret?"))+` thanks"}`),
		raw: []extract.Edit{
			{Path: "prompt", Start: 25, End: 30, Replacement: "x"},
			{Path: "prompt/base64@20", Start: 4, End: 24, Replacement: placeholder}},
		wantErr: "overlapping edits"},
	{name: "error-url-path", req: fixture("datadog/legacy-key-in-path.http"),
		raw:     []extract.Edit{{Path: "url:path", Start: 0, End: 4, Replacement: "x"}},
		wantErr: "redact url:path: the URL path cannot be rewritten"},
	{name: "error-url-path-segment", req: fixture("datadog/legacy-key-in-path.http"),
		raw:     []extract.Edit{{Path: "url:path[3]", Start: 0, End: 4, Replacement: "x"}},
		wantErr: "redact url:path[3]: the URL path cannot be rewritten"},
	{name: "error-header", req: withHeader(request("openai", "POST", "/v1/chat/completions", "", "application/json", `{"model":"gpt-4o"}`),
		"X-Debug", plantedKey),
		raw:     []extract.Edit{{Path: "header:x-debug", Start: 0, End: 20, Replacement: placeholder}},
		wantErr: "redact header:x-debug: a header value cannot be rewritten"},
	{name: "error-header-decoded", req: withHeader(request("", "POST", "/x", "", "application/json", `{}`),
		"X-Debug", "token "+b64([]byte("key "+plantedKey+" here"))),
		raw:     []extract.Edit{{Path: "header:x-debug/base64@6", Start: 4, End: 24, Replacement: placeholder}},
		wantErr: "redact header:x-debug/base64@6: a header value cannot be rewritten"},
	{name: "error-keys", req: request("", "POST", "/x", "", "application/json", `{"`+plantedKey+`":1}`),
		raw:     []extract.Edit{{Path: "#keys", Start: 0, End: 20, Replacement: placeholder}},
		wantErr: "redact #keys: JSON member names"},
	{name: "error-filename", req: request("openai", "POST", "/v1/files", "", "multipart/form-data; boundary=XyZ",
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\""+plantedKey+".txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n"),
		raw:     []extract.Edit{{Path: "multipart:file/filename", Start: 0, End: 20, Replacement: placeholder}},
		wantErr: "its text is not in the request body or query"},
	{name: "error-media", req: fixture("openai/chat.http"),
		raw:     []extract.Edit{{Path: "messages[1].content[1].image_url.url", Start: 0, End: 4, Replacement: "x"}},
		wantErr: "is image/png media"},
	{name: "error-ambiguous-path", req: request("", "POST", "/submit", "a=1&a=2", "", ""),
		raw:     []extract.Edit{{Path: "query:a", Start: 0, End: 1, Replacement: "x"}},
		wantErr: "query:a: the path names 2 segments with different texts"},
	// A replacement that makes the value read as something else (here JSON, whose leaves would
	// stand for it) cannot be checked, so it is refused.
	{name: "error-replacement-changes-reading", req: request("", "POST", "/submit", "", "application/json", `{"prompt":"`+plantedKey+`"}`),
		edits:   []redactEdit{{path: "prompt", target: plantedKey, repl: `data:text/plain,v`}}, // read back as the URL's text
		wantErr: "prompt: the redacted request no longer reads back with the edit in place"},
	{name: "error-sentry-item-length", req: fixture("sentry/envelope.http"),
		edits:   []redactEdit{{path: "items[0](event).exception.values[0].stacktrace.frames[0].vars.dsn", target: "S3cure-Ord3rs-2024"}},
		wantErr: "a Sentry envelope item with a declared length cannot change length"},
	{name: "error-truncated-gzip", req: request("posthog", "POST", "/e/", "compression=gzip-js", "text/plain",
		gzipped(`[{"event":"prompt","properties":{"text":"use ` + plantedKey + ` ` + strings.Repeat("padding ", 40) + `"}}]`)[:90]),
		edits:   []redactEdit{{path: "body/gunzip/[0].properties.text", target: plantedKey}},
		wantErr: "gzip that could not be read whole cannot be re-encoded"},
}

func TestRedact(t *testing.T) {
	lim := extract.Limits{}
	for _, tc := range redactCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req(t)
			origBody := bytes.Clone(r.Body)
			before := extract.Extract(r, lim)
			edits := tc.raw
			expect := map[string]string{} // edited path -> its text after the edits
			var targets []string
			for _, ed := range tc.edits {
				s := segmentAt(t, before, ed.path)
				i := strings.Index(s, ed.target)
				if i < 0 {
					t.Fatalf("%s: %q not in %q", ed.path, ed.target, s)
				}
				repl := ed.repl
				if repl == "" {
					repl = placeholder
				}
				edits = append(edits, extract.Edit{Path: ed.path, Start: i, End: i + len(ed.target), Replacement: repl})
				targets = append(targets, ed.target)
			}
			for _, ed := range tc.edits {
				expect[ed.path] = applyEdits(segmentAt(t, before, ed.path), edits, ed.path)
			}

			body, query, err := extract.Redact(r, lim, edits)
			if !bytes.Equal(r.Body, origBody) {
				t.Fatal("Redact modified the request body")
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if body != nil || query != "" {
					t.Fatal("a failed Redact returned a partial result")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}

			// (a) Only the edited leaves' raw bytes changed.
			checkChangedWithin(t, lim, r, edits, "body", string(r.Body), string(body), false)
			checkChangedWithin(t, lim, r, edits, "query", r.RawQuery, query, true)

			// (b) Extraction of the result differs only in the edited segments (and the
			// encodings that carry them).
			after := extract.Extract(&extract.Request{Vendor: r.Vendor, Method: r.Method, Path: r.Path, RawQuery: query,
				Header: r.Header, ContentType: r.ContentType, Body: body}, lim)
			if len(after.Segments) != len(before.Segments) {
				t.Fatalf("segments: %d before, %d after:\n%s\n----\n%s", len(before.Segments), len(after.Segments),
					strings.Join(flatten(before.Segments), "\n"), strings.Join(flatten(after.Segments), "\n"))
			}
			for i, b := range before.Segments {
				a := after.Segments[i]
				switch want, edited := expect[b.Path]; {
				case a.Path != b.Path:
					t.Errorf("segment %d: path %s, was %s", i, a.Path, b.Path)
				case edited:
					if a.Text != want {
						t.Errorf("%s = %q, want %q", a.Path, a.Text, want)
					}
				case contains(tc.carriers, b.Path):
					if a.Text == b.Text {
						t.Errorf("%s: carrier did not change", a.Path)
					}
					for _, s := range targets {
						if strings.Contains(a.Text, s) {
							t.Errorf("%s still holds %q", a.Path, s)
						}
					}
				case a != b:
					t.Errorf("%s changed:\n%q\nwas\n%q", a.Path, a.Text, b.Text)
				}
			}
			if !slicesEqual(after.Notes, before.Notes) {
				t.Errorf("notes: %q, were %q", after.Notes, before.Notes)
			}

			// (c) The redacted request as it goes out.
			golden.Check(t, filepath.Join("testdata", "redact", tc.name+".golden"), renderRedacted(t, query, body))
		})
	}
}

func segmentAt(t testing.TB, res extract.Result, path string) string {
	t.Helper()
	for _, s := range res.Segments {
		if s.Path == path {
			return s.Text
		}
	}
	t.Fatalf("no segment %s in:\n%s", path, strings.Join(flatten(res.Segments), "\n"))
	return ""
}

// applyEdits applies the edits at path to text, as the test expects Redact to.
func applyEdits(text string, edits []extract.Edit, path string) string {
	var mine []extract.Edit
	for _, e := range edits {
		if e.Path == path {
			mine = append(mine, e)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Start > mine[j].Start })
	for _, e := range mine {
		text = text[:e.Start] + e.Replacement + text[e.End:]
	}
	return text
}

// checkChangedWithin checks that old and new differ only inside the raw spans of the edited
// segments that lie in this part of the request (body or query).
func checkChangedWithin(t *testing.T, lim extract.Limits, r *extract.Request, edits []extract.Edit, what, old, new string, query bool) {
	t.Helper()
	lo, hi := len(old), 0
	for _, e := range edits {
		inQuery, start, end, ok := extract.RawSpan(r, lim, e.Path)
		if !ok {
			t.Fatalf("%s: no raw span", e.Path)
		}
		if inQuery == query {
			lo, hi = min(lo, start), max(hi, end)
		}
	}
	if old == new {
		return
	}
	p := 0
	for p < len(old) && p < len(new) && old[p] == new[p] {
		p++
	}
	s := 0
	for s < len(old)-p && s < len(new)-p && old[len(old)-1-s] == new[len(new)-1-s] {
		s++
	}
	if p < lo || len(old)-s > hi {
		t.Errorf("%s changed at %d:%d, outside the edited values at %d:%d", what, p, len(old)-s, lo, hi)
	}
}

func renderRedacted(t testing.TB, query string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "query: %s\n", query)
	if len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("body (gzip, shown decompressed):\n")
		b.Write(plain)
	} else {
		b.WriteString("body:\n")
		b.Write(body)
	}
	b.WriteString("\n")
	return b.Bytes()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzRedact redacts the start of the first and of the last text segment of the body or query of
// whatever extraction finds: Redact must not panic or touch its input, and what it returns must
// extract again with the edit in place and no byte changed outside the edited value. An edit of
// a header, the URL path or #keys must be refused.
func FuzzRedact(f *testing.F) {
	for _, tc := range redactCases {
		r := tc.req(f)
		var hdr strings.Builder
		for name, vs := range r.Header {
			for _, v := range vs {
				hdr.WriteString(name + ": " + v + "\n")
			}
		}
		f.Add(r.Vendor, r.Path, r.ContentType, r.RawQuery, hdr.String(), r.Body)
	}
	f.Add("", "/x", "application/json", "", "", []byte(`{"a":"\ud83d\ude00\u00e9\"x","b":["eyJrIjoiQUtJQUlPU0ZPRE5ON0VYQU1QTEUifQ=="]}`))
	f.Add("", "/x", "text/plain", "q=%7B%22a%22%3A%22b%22%7D", "", []byte("see data:,hello%20world and %41%42%43%44 %e2%80%94"))
	f.Add("sentry", "/api/1/envelope/", "text/plain", "", "", []byte("{}\n{\"type\":\"event\",\"x\":\"y\"}\n{\"message\":\"AKIAIOSFODNN7EXAMPLE\"}\n"))
	f.Add("datadog", "/api/v2/logs", "text/plain", "dd-evp-encoding=deflate", "", zlibbed("{\"message\":\"key AKIAIOSFODNN7EXAMPLE\"}\n{\"message\":\"b\"}"))
	f.Add("statsig", "/v1/initialize", "text/plain", "se=1", "", reverseBytes(base64.StdEncoding.EncodeToString([]byte(`{"user":{"email":"a@b.c"}}`))))
	// Secrets outside the body, and structural members in it.
	f.Add("openai", "/v1/files/sk-proj-abc-def.ghi%2Djkl/x", "application/json", "AKIAIOSFODNN7EXAMPLE=1", "X-Debug: "+plantedKey+"\nAuthorization: Basic "+b64([]byte("user:pass-word-123")),
		[]byte(`{"model":"gpt-4o `+plantedKey+`","messages":[{"role":"user","content":"hi"}],"tool_choice":"auto","service_tier":"x","`+plantedKey2+`":{"k":"v"}}`))
	f.Add("openai", "/v1/chat/completions", "application/json", "", "", []byte(`{"messages":[{"role":"tool","tool_call_id":"call_1","content":"x","tool_calls":[{"function":{"arguments":"{\"`+plantedKey+`\":\"v\"}"}}]}]}`))
	// OTLP traces: JSON attributes are rewritable, protobuf strings are not.
	for _, fx := range []struct{ file, vendor, path, ctype string }{
		{"arize/otlp-traces", "arize", "/v1/traces", "application/json"},
		{"langfuse/otel-traces-protobuf", "langfuse", "/api/public/otel/v1/traces", "application/x-protobuf"},
	} {
		if raw, err := os.ReadFile(filepath.Join(fixtureRoot, fx.file+".http")); err == nil {
			if _, body, ok := bytes.Cut(raw, []byte("\r\n\r\n")); ok {
				f.Add(fx.vendor, fx.path, fx.ctype, "", "", bytes.TrimSuffix(body, []byte("\n")))
			}
		}
	}
	f.Add("", "/x", "multipart/form-data; boundary=b", "", "", []byte("pre\r\n--b\r\nContent-Disposition: form-data; name=\"k "+plantedKey+"\"\r\nX-Note: n\r\n\r\nvalue\r\n--b--\r\npost"))
	f.Fuzz(func(t *testing.T, vendor, path, ctype, query, header string, body []byte) {
		lim := extract.Limits{MaxSegments: 300, MaxBytes: 1 << 16}
		r := &extract.Request{Vendor: vendor, Method: "POST", Path: path, RawQuery: query, Header: parseFuzzHeader(header), ContentType: ctype, Body: body}
		orig := bytes.Clone(body)
		res := extract.Extract(r, lim)
		var picks []int
		for i, s := range res.Segments {
			if s.Media != "" {
				continue
			}
			if unrewritable(s.Path) {
				ed := extract.Edit{Path: s.Path, Start: 0, End: min(len(s.Text), 8), Replacement: placeholder}
				if b, q, err := extract.Redact(r, lim, []extract.Edit{ed}); err == nil || b != nil || q != "" {
					t.Fatalf("edit of %s: error %v, want a refusal", s.Path, err)
				}
				continue
			}
			if len(picks) < 2 {
				picks = append(picks, i)
			} else {
				picks[1] = i
			}
		}
		for _, i := range picks {
			s := res.Segments[i]
			ed := extract.Edit{Path: s.Path, Start: 0, End: min(len(s.Text), 8), Replacement: placeholder}
			newBody, newQuery, err := extract.Redact(r, lim, []extract.Edit{ed})
			if !bytes.Equal(body, orig) {
				t.Fatal("Redact modified the request body")
			}
			if err != nil {
				if newBody != nil || newQuery != "" {
					t.Fatalf("partial result with error %v", err)
				}
				continue
			}
			want := placeholder + s.Text[ed.End:]
			again := extract.Extract(&extract.Request{Vendor: vendor, Method: "POST", Path: path, RawQuery: newQuery, Header: r.Header, ContentType: ctype, Body: newBody}, lim)
			found := false
			for _, a := range again.Segments {
				found = found || a.Text == want
			}
			if !found {
				t.Fatalf("edit of %s: no segment reads %q after redaction:\n%s", s.Path, want, strings.Join(flatten(again.Segments), "\n"))
			}
			inQuery, start, end, ok := extract.RawSpan(r, lim, s.Path)
			if !ok {
				t.Fatalf("%s: redacted, but has no raw span", s.Path)
			}
			old, new := string(body), string(newBody)
			if inQuery {
				old, new = query, newQuery
				if !bytes.Equal(newBody, body) {
					t.Fatalf("%s: edit in the query changed the body", s.Path)
				}
			} else if newQuery != query {
				t.Fatalf("%s: edit in the body changed the query", s.Path)
			}
			p, sfx := 0, 0
			for p < len(old) && p < len(new) && old[p] == new[p] {
				p++
			}
			for sfx < len(old)-p && sfx < len(new)-p && old[len(old)-1-sfx] == new[len(new)-1-sfx] {
				sfx++
			}
			if p < start || len(old)-sfx > end {
				t.Fatalf("%s: changed %d:%d, outside its value at %d:%d", s.Path, p, len(old)-sfx, start, end)
			}
		}
	})
}

// withHeader adds a request header to a request builder.
func withHeader(req func(testing.TB) *extract.Request, name, value string) func(testing.TB) *extract.Request {
	return func(t testing.TB) *extract.Request {
		r := req(t)
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Add(name, value)
		return r
	}
}

// unrewritable: the paths of texts that are not in the body or query, which Redact refuses.
func unrewritable(path string) bool {
	return strings.HasPrefix(path, "header:") || strings.HasPrefix(path, "url:path") || strings.HasPrefix(path, "#keys")
}

func unescapeLast(s, escaped, plain string) string {
	i := strings.LastIndex(s, escaped)
	return s[:i] + plain + s[i+len(escaped):]
}

func zlibbed(s string) []byte {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func reverseBytes(s string) []byte {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}
