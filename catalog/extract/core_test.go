package extract_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/flow"
)

func seg(path, text string) string            { return fmt.Sprintf("text %s=%q", path, text) }
func doc(path, text string) string            { return fmt.Sprintf("document %s=%q", path, text) }
func media(path, typ string, size int) string { return fmt.Sprintf("media %s=%s/%d", path, typ, size) }

func flatten(segs []flow.Segment) []string {
	var out []string
	for _, s := range segs {
		switch {
		case s.Media != "":
			out = append(out, media(s.Path, s.Media, s.Size))
		case s.Container:
			out = append(out, doc(s.Path, s.Text))
		default:
			out = append(out, seg(s.Path, s.Text))
		}
	}
	return out
}

var b64 = base64.StdEncoding.EncodeToString

const png1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

// The generic extraction every body gets, whatever its vendor: paths, unescaping, nested
// encodings, framings.
func TestGenericExtraction(t *testing.T) {
	longBinary := b64(bytes.Repeat([]byte{0, 1, 2, 250, 251, 252}, 100))
	multipartBody := "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
		"{\"custom_id\":\"a\",\"body\":{\"messages\":[{\"content\":\"first prompt\"}]}}\n{\"custom_id\":\"b\",\"body\":{\"messages\":[{\"content\":\"second\"}]}}\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\x00\r\n--XyZ--\r\n"
	tests := []struct {
		name, ctype, query, body string
		want                     []string
		notes                    int
	}{
		{"paths and bracketed keys", "application/json", "",
			`{"messages":[{"content":"hi"},{"content":["a",{"text":"b"}]}],"odd.key":{"x y":"z"}}`,
			[]string{seg("messages[0].content", "hi"), seg("messages[1].content[0]", "a"), seg("messages[1].content[1].text", "b"), seg(`["odd.key"]["x y"]`, "z"),
				seg("#keys", "messages\ncontent\ntext\nodd.key\nx y")}, 0},
		{"escapes and surrogate pairs", "application/json", "",
			`{"a":"line\nbreak \u00e9 \ud83d\ude00","k":"AKIA\u0049OSFODNN7EXAMPLE"}`,
			[]string{seg("a", "line\nbreak é 😀"), seg("k", "AKIAIOSFODNN7EXAMPLE"), seg("#keys", "a\nk")}, 0},
		{"root scalar and long numbers", "application/json", "", `{"card":4111111111111111,"n":42,"f":1.5}`,
			[]string{seg("card", "4111111111111111"), seg("#keys", "card\nn\nf")}, 0},
		{"json in a string (tool arguments)", "application/json", "",
			`{"arguments":"{\"query\":\"salary of bob\",\"limit\":5}"}`,
			[]string{doc("arguments", `{"query":"salary of bob","limit":5}`), seg("arguments/json/query", "salary of bob"), seg("#keys", "arguments\nquery\nlimit")}, 0},
		{"base64 json in a query parameter", "", "data=" + b64([]byte(`[{"event":"e","properties":{"prompt":"AKIAIOSFODNN7EXAMPLE"}}]`)) + "&ip=1",
			"",
			[]string{seg("query:data", b64([]byte(`[{"event":"e","properties":{"prompt":"AKIAIOSFODNN7EXAMPLE"}}]`))),
				seg("query:data/base64", `[{"event":"e","properties":{"prompt":"AKIAIOSFODNN7EXAMPLE"}}]`),
				seg("query:data/base64/[0].event", "e"), seg("query:data/base64/[0].properties.prompt", "AKIAIOSFODNN7EXAMPLE"), seg("query:ip", "1"),
				seg("#keys", "data\nevent\nproperties\nprompt\nip")}, 0},
		{"base64 run inside prose", "text/plain", "",
			"the token is " + b64([]byte("password=hunter2-and-more-text")) + " ok",
			[]string{seg("body", "the token is "+b64([]byte("password=hunter2-and-more-text"))+" ok"), seg("body/base64@13", "password=hunter2-and-more-text")}, 0},
		{"base64 wrapped at 76 columns", "text/plain", "",
			"attachment:\n" + wrap76(b64([]byte(strings.Repeat("the deploy key is in the vault; ", 3)+"AKIAZ7VQ3KXJ5N2WPLMR end"))),
			[]string{seg("body", "attachment:\n"+wrap76(b64([]byte(strings.Repeat("the deploy key is in the vault; ", 3)+"AKIAZ7VQ3KXJ5N2WPLMR end")))),
				seg("body/base64@12", strings.Repeat("the deploy key is in the vault; ", 3)+"AKIAZ7VQ3KXJ5N2WPLMR end")}, 0},
		{"long binary base64 is media, short stays text", "application/json", "",
			`{"img":"` + longBinary + `","key":"` + b64([]byte{1, 2, 3, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214}) + `"}`,
			[]string{media("img", "application/octet-stream", 600), seg("key", b64([]byte{1, 2, 3, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214})),
				seg("#keys", "img\nkey")}, 0},
		{"data URLs", "application/json", "",
			`{"image":"data:image/png;base64,` + png1x1 + `","doc":"data:text/plain;base64,` + b64([]byte("confidential memo")) + `"}`,
			[]string{media("image", "image/png", 70), seg("doc/dataurl", "confidential memo"), seg("#keys", "image\ndoc")}, 0},
		{"url-encoded text", "application/json", "", `{"q":"user%40example.com%20wrote%3A%20hi"}`,
			[]string{seg("q", "user%40example.com%20wrote%3A%20hi"), seg("q/urlenc", "user@example.com wrote: hi"), seg("#keys", "q")}, 0},
		{"one escape in a URL inside prose", "application/json", "", `{"q":"opened https://crm.acme-corp.com/c?email=leo.park%40acme-corp.com&tab=2 at 50% zoom"}`,
			[]string{seg("q", "opened https://crm.acme-corp.com/c?email=leo.park%40acme-corp.com&tab=2 at 50% zoom"),
				seg("q/urlenc@7", "https://crm.acme-corp.com/c?email=leo.park@acme-corp.com&tab=2"), seg("#keys", "q")}, 0},
		{"percent signs that are not escapes", "application/json", "", `{"q":"up 50% and %zz and 100%"}`,
			[]string{seg("q", "up 50% and %zz and 100%"), seg("#keys", "q")}, 0},
		{"two encoded runs", "text/plain", "", "a=x%40y.io b=%7B%22k%22%3A1%7D",
			[]string{seg("body", "a=x%40y.io b=%7B%22k%22%3A1%7D"), seg("body/urlenc@0", "a=x@y.io"),
				seg("body/urlenc@11", `b={"k":1}`)}, 0},
		{"form body keeps order", "application/x-www-form-urlencoded", "", "b=2&a=hello+world&b=3",
			[]string{seg("form:b", "2"), seg("form:a", "hello world"), seg("form:b", "3"), seg("#keys", "b\na")}, 0},
		{"ndjson", "application/x-ndjson", "", "{\"m\":\"one\"}\n\n{\"m\":\"two\"}\n",
			[]string{seg("[0].m", "one"), seg("[1].m", "two"), seg("#keys", "m")}, 0},
		{"multipart fields, jsonl file, binary file", "multipart/form-data; boundary=XyZ", "", multipartBody,
			[]string{seg("multipart:purpose", "batch"), seg("multipart:file/filename", "batch.jsonl"),
				seg("multipart:file/header:content-type", "application/octet-stream"),
				seg("multipart:file[0].custom_id", "a"), seg("multipart:file[0].body.messages[0].content", "first prompt"),
				seg("multipart:file[1].custom_id", "b"), seg("multipart:file[1].body.messages[0].content", "second"),
				seg("multipart:image/filename", "x.png"), seg("multipart:image/header:content-type", "image/png"),
				media("multipart:image", "image/png", 10),
				seg("#keys", "purpose\nfile\ncustom_id\nbody\nmessages\ncontent\nimage")}, 0},
		{"sse", "text/event-stream", "", "data: {\"d\":\"a\"}\n\ndata: plain\n\ndata: [DONE]\n\n",
			[]string{seg("body.events[0].d", "a"), seg("body.events[1]", "plain"), seg("#keys", "d")}, 0},
		{"binary body", "application/octet-stream", "", "\x00\x01\x02PK\x03\x04",
			[]string{media("body", "application/octet-stream", 7)}, 0},
		{"truncated json keeps what it read and scans the rest", "application/json", "",
			`{"a":"fine","b":"AKIAIOSFODNN7EXAMPLE cut off`,
			[]string{seg("a", "fine"), seg("body@16", `"AKIAIOSFODNN7EXAMPLE cut off`), seg("#keys", "a\nb")}, 1},
		{"garbage after json", "application/json", "", `{"a":"x"} trailing words`,
			[]string{seg("a", "x"), seg("body@9", "trailing words"), seg("#keys", "a")}, 1},
		{"json lines sent as application/json", "application/json", "", "{\"a\":\"x\"}\n{\"a\":\"y\"}",
			[]string{seg("[0].a", "x"), seg("[1].a", "y"), seg("#keys", "a")}, 0},
		{"two values on one line", "application/json", "", `{"a":"x"} {"a":"y"}`,
			[]string{seg("a", "x"), doc("body@9", `{"a":"y"}`), seg("body@9/json/a", "y"), seg("#keys", "a")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := extract.Extract(&extract.Request{Method: "POST", Path: "/", RawQuery: tt.query, ContentType: tt.ctype, Body: []byte(tt.body)}, extract.Limits{})
			got := flatten(res.Segments)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("segments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(res.Notes) != tt.notes {
				t.Errorf("notes %q, want %d", res.Notes, tt.notes)
			}
			if res.API != "" {
				t.Errorf("api %q for an unknown vendor", res.API)
			}
		})
	}
}

// Hostile bodies: bounded time and output, a note, never a panic.
func TestHostileBodies(t *testing.T) {
	deep := strings.Repeat("[", 100000) + `"x"` + strings.Repeat("]", 100000)
	manyStrings := "[" + strings.Repeat(`"a",`, 100000) + `"a"]`
	nested := `"x"`
	for i := 0; i < 10; i++ {
		nested = fmt.Sprintf("%q", b64([]byte(nested)))
	}
	tests := []struct {
		name    string
		body    string
		lim     extract.Limits
		maxSeg  int
		limited []string
	}{
		{"100k-deep nesting", deep, extract.Limits{}, 2, []string{extract.LimitJSONDepth}},
		{"segment limit", manyStrings, extract.Limits{MaxSegments: 1000}, 1000, []string{extract.LimitSegments}},
		{"byte limit", `{"a":"` + strings.Repeat("x ", 1<<19) + `","b":"y"}`, extract.Limits{MaxBytes: 1000}, 0, []string{extract.LimitBytes}},
		{"base64 nested ten deep", `{"a":` + nested + `}`, extract.Limits{}, 10, []string{extract.LimitNestedDepth}},
		// Regression: looking back for the start of the line at every base64 probe made one long
		// line of prose quadratic (10% of all proxy CPU on 4 KiB prompts).
		{"4 MiB single line of prose", `{"a":"` + strings.Repeat("word ", 4<<20/5) + `"}`, extract.Limits{}, 2, nil},
		{"many distinct keys", manyKeys(extract.MaxKeyNames + 1), extract.Limits{}, extract.MaxKeyNames + 3, []string{extract.LimitKeys}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No clock is read: a loaded machine makes any bound flaky. A quadratic walk over
			// these bodies takes minutes, and the test binary's -timeout catches it.
			res := extract.Extract(&extract.Request{Method: "POST", Path: "/", ContentType: "application/json", Body: []byte(tt.body)}, tt.lim)
			if len(res.Segments) > tt.maxSeg {
				t.Errorf("%d segments, want at most %d", len(res.Segments), tt.maxSeg)
			}
			if tt.limited != nil && len(res.Notes) == 0 {
				t.Error("no note says what was not read")
			}
			if !slices.Equal(res.Limited, tt.limited) {
				t.Errorf("limited %q, want %q", res.Limited, tt.limited)
			}
		})
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("application/json", "/", "", "", []byte(`{"messages":[{"content":"hi \u00e9"}],"a":"eyJhIjoiYiJ9"}`))
	f.Add("application/x-www-form-urlencoded", "/", "data=eyJhIjoiYiJ9", "", []byte("data=eyJhIjoiYiJ9&x=%zz"))
	f.Add("multipart/form-data; boundary=b", "/", "", "", []byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.jsonl\"\r\n\r\n{\"a\":1}\n\r\n--b--\r\n"))
	f.Add("text/event-stream", "/", "", "", []byte("data: {\"a\":\"b\"}\n\n"))
	f.Add("application/x-ndjson", "/", "", "", []byte("{\"a\":\"b\"}\n[1,2\n"))
	f.Add("text/plain", "/", "", "", []byte("data:text/plain;base64,aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ="))
	f.Add("application/json", "/", "", "", []byte(`["\ud83d","\u12","`))
	// The shapes of TestSecretsOutsideTheBody: headers, the URL path, structural members, names.
	f.Add("application/json", "/v1/chat/completions", "", "X-Debug: "+ghToken+"\nAuthorization: Basic "+b64([]byte(basicCred))+"\nConnection: x-hop\nX-Hop: 1", []byte(`{"model":"gpt-4o"}`))
	f.Add("", "/v1/files/"+oaKey+"/content", "", "", []byte(nil))
	f.Add("", "/v1/files/sk%2Dproj%2Dabc/"+b64URL([]byte(`{"key":"`+awsKeyID+`"}`)), "", "", []byte(nil))
	f.Add("application/json", "/v1/chat/completions", "", "", []byte(`{"model":"`+oaKey+`","service_tier":"x","tool_choice":"y","messages":[{"role":"`+awsKeyID+`","content":"hi"}]}`))
	f.Add("application/json", "/x", "", "", []byte(`{"`+awsKeyID+`":1,"`+b64([]byte("aws key "+awsKeyID))+`":{"\u0041":[]}}`))
	f.Add("application/json", "/x", "", "", []byte(`{"function":{"arguments":"{\"`+awsKeyID+`\":\"x\"}"}}`))
	f.Add("application/x-www-form-urlencoded", "/x", awsKeyID+"=1&"+url.QueryEscape("k "+ghToken)+"=2", "", []byte(ghToken+"=1&a=b"))
	f.Add("multipart/form-data; boundary=b", "/x", "", "", []byte("pre\r\n--b\r\nContent-Disposition: form-data; name=\""+ghToken+"\"; filename=\"d/a.txt\"\r\nX-Note: n\r\n\r\nx\r\n--b--\r\npost"))
	f.Add("image/png", "/x", "", "", []byte("key "+ghToken))
	f.Fuzz(func(t *testing.T, ctype, path, query, header string, body []byte) {
		lim := extract.Limits{MaxSegments: 500, MaxBytes: 1 << 20}
		h := parseFuzzHeader(header)
		res := extract.Extract(&extract.Request{Method: "POST", Path: path, RawQuery: query, Header: h, ContentType: ctype, Body: body}, lim)
		total := 0
		for _, s := range res.Segments {
			total += len(s.Text)
		}
		if len(res.Segments) > lim.MaxSegments || total > lim.MaxBytes {
			t.Fatalf("%d segments, %d bytes: over the limits", len(res.Segments), total)
		}
		if err := segmentOrderOK(res.Segments); err != nil {
			t.Fatal(err)
		}
		known := []string{extract.LimitSegments, extract.LimitBytes, extract.LimitKeys, extract.LimitJSONDepth, extract.LimitNestedDepth}
		for i, l := range res.Limited {
			if k := slices.Index(known, l); k < 0 || i > 0 && k <= slices.Index(known, res.Limited[i-1]) {
				t.Fatalf("limited %q: unknown token or out of order", res.Limited)
			}
		}
		if len(res.Limited) > 0 {
			return
		}
		// Complete: every header that reaches the vendor is in some segment.
		for name, vs := range h {
			if extract.SkippedHeader(h, name) {
				continue
			}
			for _, v := range vs {
				if v == "" || strings.HasPrefix(strings.TrimSpace(v), "{") || strings.HasPrefix(strings.TrimSpace(v), "[") {
					continue // a JSON document with no leaves has nothing to emit
				}
				p := "header:" + strings.ToLower(name)
				if !slices.ContainsFunc(res.Segments, func(s flow.Segment) bool { return strings.HasPrefix(s.Path, p) }) {
					t.Fatalf("header %s: no segment", name)
				}
			}
		}
	})
}

// parseFuzzHeader reads "Name: value" lines into a header, names as written.
func parseFuzzHeader(s string) http.Header {
	h := http.Header{}
	for line := range strings.Lines(s) {
		if name, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":"); ok {
			h[name] = append(h[name], strings.TrimLeft(v, " "))
		}
	}
	return h
}

// manyKeys is a JSON object with n distinct member names.
func manyKeys(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":"v"`, i)
	}
	b.WriteString("}")
	return b.String()
}

// wrap76 breaks base64 into MIME lines of 76 characters.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}
