package extract

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// TestObservabilityLookup pins the routes of issue 13's shapes that fixtures do not cover, and
// paths that must not match.
func TestObservabilityLookup(t *testing.T) {
	cases := []struct{ vendor, method, path, want string }{
		{"langsmith", "PATCH", "/runs/0195f3a2-7c41-7d2e-9b0a-5e8f1c2d3a41", "langsmith.runs"},
		{"langsmith", "POST", "/api/v1/runs/batch", "langsmith.runs.batch"},
		{"langsmith", "POST", "/api/v1/runs/multipart", "langsmith.runs.multipart"},
		{"langsmith", "POST", "/otel/v1/traces", "otlp.traces"},
		{"langsmith", "GET", "/runs/batch", "langsmith.runs"},
		{"langfuse", "POST", "/api/public/otel/v1/traces", "otlp.traces"},
		{"langfuse", "POST", "/api/public/traces", ""},
		{"arize", "POST", "/s/northwind/v1/traces", "otlp.traces"},
		{"wandb", "POST", "/call/upsert_batch", "weave.calls"},
		{"wandb", "POST", "/otel/v1/traces", "otlp.traces"},
		{"braintrust", "POST", "/v1/experiment/e-1/insert", "braintrust.logs"},
		{"humanloop", "POST", "/v5/prompts/call", "humanloop.call"},
		{"helicone", "POST", "/v1/messages", "anthropic.messages"},
		{"helicone", "POST", "/oai/v1/log", "helicone.log"},
		{"portkey", "POST", "/v1/embeddings", "openai.embeddings"},
		{"cloudflare-ai-gateway", "POST", "/v1/acct/gw/openai/chat/completions", "openai.chat"},
		{"cloudflare-ai-gateway", "POST", "/v1/acct/gw/compat/chat/completions", "openai.chat"},
		{"cloudflare-ai-gateway", "POST", "/v1/acct/gw/anthropic/v1/messages", "anthropic.messages"},
		{"cloudflare-ai-gateway", "POST", "/v1/acct/chat/completions", ""},
		{"cerebras", "POST", "/v1/chat/completions", "openai.chat"},
		{"deepinfra", "POST", "/v1/openai/chat/completions", "openai.chat"},
		{"scaleway", "POST", "/3f1b2c4d-5e6f-7081-92a3-b4c5d6e7f809/v1/chat/completions", "openai.chat"},
		{"ovhcloud-ai", "POST", "/api/openai_compat/v1/chat/completions", "openai.chat"},
		{"volcengine-ark", "POST", "/api/v3/chat/completions", "openai.chat"},
		{"voyage-ai", "POST", "/v1/embeddings", "openai.embeddings"},
		{"writer", "POST", "/v1/chat", "openai.chat"},
		{"cursor", "POST", "/aiserver.v1.ChatService/StreamUnifiedChatWithTools", "connect.proto"},
		{"windsurf", "POST", "/exa.api_server_pb.ApiServerService/GetChatMessage", "connect.proto"},
		{"google-analytics", "POST", "/mp/collect", "ga4.mp"},
		{"rudderstack", "POST", "/v1/batch", "segment.batch"},
		{"openai", "POST", "/v1/traces", ""},
	}
	for _, c := range cases {
		got := ""
		if a := Lookup(&Request{Vendor: c.vendor, Method: c.method, Path: c.path}); a != nil {
			got = a.Name
		}
		if got != c.want {
			t.Errorf("Lookup(%s %s %s) = %q, want %q", c.vendor, c.method, c.path, got, c.want)
		}
	}
}

// pb builds protobuf bytes for tests: fields in order, strings and nested messages as
// length-delimited, ints as varints.
type pbf struct {
	num int
	v   any // string, []byte, int, or []pbf (a nested message)
}

func pbEncode(fields ...pbf) []byte {
	var out []byte
	for _, f := range fields {
		switch v := f.v.(type) {
		case int:
			out = binary.AppendUvarint(out, uint64(f.num<<3))
			out = binary.AppendUvarint(out, uint64(v))
		case string:
			out = pbLenField(out, f.num, []byte(v))
		case []byte:
			out = pbLenField(out, f.num, v)
		case []pbf:
			out = pbLenField(out, f.num, pbEncode(v...))
		}
	}
	return out
}

func pbLenField(out []byte, num int, b []byte) []byte {
	out = binary.AppendUvarint(out, uint64(num<<3|2))
	out = binary.AppendUvarint(out, uint64(len(b)))
	return append(out, b...)
}

func pbAttr(key string, value any) pbf {
	switch v := value.(type) {
	case string:
		return pbf{9, []pbf{{1, key}, {2, []pbf{{1, v}}}}}
	case []pbf: // a kvlist
		return pbf{9, []pbf{{1, key}, {2, []pbf{{6, v}}}}}
	}
	return pbf{9, []pbf{{1, key}, {2, []pbf{{3, value.(int)}}}}}
}

// otlpProtoSpan is an ExportTraceServiceRequest with one span holding the given attributes.
func otlpProtoSpan(attrs ...pbf) []byte {
	span := append([]pbf{{1, bytes.Repeat([]byte{0x5b}, 16)}, {2, bytes.Repeat([]byte{0xee}, 8)}, {5, "llm"}}, attrs...)
	return pbEncode(pbf{1, []pbf{{2, []pbf{{2, span}}}}})
}

func extractedTexts(res Result) map[string]string {
	m := map[string]string{}
	for _, s := range res.Segments {
		if s.Media == "" {
			m[s.Path] = s.Text
		}
	}
	return m
}

// An OTLP span in protobuf and in JSON gives the same paths, attribute values named by key,
// nested key/value lists and arrays included; IDs are binary and left out.
func TestOTLPProtoAndJSONAgree(t *testing.T) {
	const prompt = "summarise INC-4821 for dana@northwind-example.com"
	kvlist := []pbf{{1, []pbf{{1, "gen_ai.prompt"}, {2, []pbf{{1, prompt}}}}}}
	body := otlpProtoSpan(pbAttr("input.value", prompt), pbAttr("llm.token_count.prompt", 61), pbAttr("gen_ai.meta", kvlist))
	res := Extract(&Request{Vendor: "arize", Method: "POST", Path: "/v1/traces", ContentType: "application/x-protobuf", Body: body}, Limits{})
	got := extractedTexts(res)
	want := map[string]string{
		"resourceSpans[0].scopeSpans[0].spans[0].name":                                                                  "llm",
		"resourceSpans[0].scopeSpans[0].spans[0].attributes[0].key":                                                     "input.value",
		"resourceSpans[0].scopeSpans[0].spans[0].attributes(input.value).stringValue":                                   prompt,
		"resourceSpans[0].scopeSpans[0].spans[0].attributes(gen_ai.meta).kvlistValue.values[0].key":                     "gen_ai.prompt",
		"resourceSpans[0].scopeSpans[0].spans[0].attributes(gen_ai.meta).kvlistValue.values(gen_ai.prompt).stringValue": prompt,
	}
	for p, v := range want {
		if got[p] != v {
			t.Errorf("protobuf: %s = %q, want %q\n%v", p, got[p], v, got)
		}
	}
	if res.API != "otlp.traces" || len(res.Notes) > 0 {
		t.Errorf("API %q, notes %q", res.API, res.Notes)
	}

	js := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"llm","attributes":[` +
		`{"value":{"stringValue":"` + prompt + `"},"key":"input.value"},` +
		`{"key":"gen_ai.meta","value":{"kvlistValue":{"values":[{"key":"gen_ai.prompt","value":{"stringValue":"` + prompt + `"}}]}}}]}]}]}]}`
	res = Extract(&Request{Vendor: "arize", Method: "POST", Path: "/v1/traces", ContentType: "application/json", Body: []byte(js)}, Limits{})
	got = extractedTexts(res)
	for p, v := range want {
		if strings.HasSuffix(p, "attributes[0].key") {
			p = strings.Replace(p, "[0].key", "[0].key", 1) // the key follows its value here: still named
		}
		if got[p] != v {
			t.Errorf("JSON: %s = %q, want %q\n%v", p, got[p], v, got)
		}
	}
}

func TestOTLPName(t *testing.T) {
	keys := map[string]string{"a.attributes[3]": "input.value", "a.attributes[3].value.kvlistValue.values[0]": "k"}
	for in, want := range map[string]string{
		"a.attributes[3].value.stringValue":                             "a.attributes(input.value).stringValue",
		"a.attributes[3].value.kvlistValue.values[0].value.stringValue": "a.attributes(input.value).kvlistValue.values(k).stringValue",
		"a.attributes[3].key":                                           "a.attributes[3].key",
		"a.attributes[4].value.stringValue":                             "a.attributes[4].value.stringValue",
		"a.attributes[3].values":                                        "a.attributes[3].values",
		"a.attributes[3].value":                                         "a.attributes(input.value)",
		"a.attributes[3].value.kvlistValue.values[0].value.arrayValue.values[1].stringValue": "a.attributes(input.value).kvlistValue.values(k).arrayValue.values[1].stringValue",
	} {
		if got := otlpName(in, keys); got != want {
			t.Errorf("otlpName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A prompt in an OTLP JSON attribute can be redacted in place; one in protobuf cannot (its
// length prefixes would have to change), and Redact says so instead of corrupting the body.
func TestOTLPRedact(t *testing.T) {
	const key = "AKIAQ3EGRZ7WYH2LXK5N"
	js := []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"input.value","value":{"stringValue":"use ` + key + ` now"}}]}]}]}]}`)
	r := &Request{Vendor: "arize", Method: "POST", Path: "/v1/traces", ContentType: "application/json", Body: js}
	path := "resourceSpans[0].scopeSpans[0].spans[0].attributes(input.value).stringValue"
	body, _, err := Redact(r, Limits{}, []Edit{{Path: path, Start: 4, End: 4 + len(key), Replacement: "[REDACTED]"}})
	if err != nil || !bytes.Contains(body, []byte(`"use [REDACTED] now"`)) {
		t.Fatalf("JSON redaction: %v\n%s", err, body)
	}

	pb := otlpProtoSpan(pbAttr("input.value", "use "+key+" now"))
	r = &Request{Vendor: "arize", Method: "POST", Path: "/v1/traces", ContentType: "application/x-protobuf", Body: pb}
	body, _, err = Redact(r, Limits{}, []Edit{{Path: path, Start: 4, End: 4 + len(key), Replacement: "[REDACTED]"}})
	if err == nil || body != nil || !strings.Contains(err.Error(), "protobuf") {
		t.Fatalf("protobuf redaction: body %q, err %v; want a refusal", body, err)
	}
}

// Without a schema, nested messages are found by parsing, strings by being text, and binary
// fields of some size are media; malformed and too-deep input stops with a note, keeping what
// was read before.
func TestProtoUnknownSchema(t *testing.T) {
	big := bytes.Repeat([]byte{0x89, 0x50, 0x4e, 0x47, 0x00}, 100)
	msg := pbEncode(pbf{1, "hello"}, pbf{2, []pbf{{1, "nested text"}, {3, 7}, {4, []pbf{{2, "deeper"}}}}}, pbf{2, []pbf{{1, "second"}}}, pbf{5, big}, pbf{6, []byte{0x01, 0x02}})
	r := &Request{Vendor: "cursor", Method: "POST", Path: "/aiserver.v1.ChatService/GetChat", ContentType: "application/proto", Body: msg}
	res := Extract(r, Limits{})
	got := extractedTexts(res)
	for p, v := range map[string]string{"1[0]": "hello", "2[0].1[0]": "nested text", "2[0].4[0].2[0]": "deeper", "2[1].1[0]": "second"} {
		if got[p] != v {
			t.Errorf("%s = %q, want %q (all: %v)", p, got[p], v, got)
		}
	}
	media := 0
	for _, s := range res.Segments {
		if s.Media != "" {
			media++
			if s.Path != "5[0]" || s.Size != len(big) {
				t.Errorf("media %s %d", s.Path, s.Size)
			}
		}
	}
	if media != 1 || res.API != "connect.proto" {
		t.Errorf("%d media segments, API %q", media, res.API)
	}

	// Truncated: what came before the cut is kept, and a note says where reading stopped.
	res = Extract(&Request{Vendor: "cursor", Method: "POST", Path: "/aiserver.v1.X/Y", ContentType: "application/proto", Body: msg[:len(msg)-3]}, Limits{})
	if got := extractedTexts(res); got["1[0]"] != "hello" || len(res.Notes) == 0 {
		t.Errorf("truncated: %v, notes %q", got, res.Notes)
	}

	// A nesting bomb stops at the depth limit.
	deep := pbEncode(pbf{1, "bottom"})
	for range 400 {
		deep = pbEncode(pbf{1, deep}, pbf{2, "x"})
	}
	res = Extract(&Request{Vendor: "cursor", Method: "POST", Path: "/aiserver.v1.X/Y", ContentType: "application/proto", Body: deep}, Limits{})
	if !slices.Contains(res.Limited, LimitJSONDepth) || len(res.Notes) == 0 {
		t.Errorf("nesting bomb: limited %q, notes %q", res.Limited, res.Notes)
	}
	// Read by the OTLP schema the same bytes are not a bomb but a malformed span list.
	res = Extract(&Request{Vendor: "arize", Method: "POST", Path: "/v1/traces", ContentType: "application/x-protobuf", Body: deep}, Limits{})
	if len(res.Limited) == 0 && len(res.Notes) == 0 {
		t.Errorf("OTLP nesting bomb: no limit or note (%d segments)", len(res.Segments))
	}
}

// Connect streams: enveloped frames, one compressed as the headers say, and the end-of-stream
// frame as text.
func TestConnectFrames(t *testing.T) {
	frame := func(flags byte, msg []byte) []byte {
		return append(binary.BigEndian.AppendUint32([]byte{flags}, uint32(len(msg))), msg...)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(pbEncode(pbf{1, []pbf{{2, "compressed prompt text"}}}))
	zw.Close()
	body := slicesConcat(frame(0, pbEncode(pbf{1, "first prompt"})), frame(1, zb.Bytes()), frame(2, []byte(`{"metadata":{"trace":"t-1"}}`)))
	h := http.Header{"Connect-Content-Encoding": {"gzip"}}
	res := Extract(&Request{Vendor: "cursor", Method: "POST", Path: "/aiserver.v1.ChatService/StreamChat", ContentType: "application/connect+proto", Header: h, Body: body}, Limits{})
	got := extractedTexts(res)
	for p, v := range map[string]string{"frames[0].1[0]": "first prompt", "frames[1]/gunzip.1[0].2[0]": "compressed prompt text", "frames[2]/json/metadata.trace": "t-1"} {
		if got[p] != v {
			t.Errorf("%s = %q, want %q (all: %v, notes %q)", p, got[p], v, got, res.Notes)
		}
	}
}

func slicesConcat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// within reports whether s lies inside data's memory.
func within(s, data []byte) bool {
	if len(s) == 0 {
		return true
	}
	p, q := uintptr(unsafe.Pointer(&s[0])), uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	return p >= q && p+uintptr(len(s)) <= q+uintptr(len(data))
}

// FuzzProtoWalk: on any input the walker ends without panicking, every string it reports is
// valid UTF-8 lying inside the input, and Extract of an OTLP or Connect body stays within its
// limits.
func FuzzProtoWalk(f *testing.F) {
	f.Add(otlpProtoSpan(pbAttr("input.value", "prompt"), pbAttr("n", 3)))
	f.Add(pbEncode(pbf{1, "hello"}, pbf{2, []pbf{{1, "nested"}}}))
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})                                     // a length past the end
	f.Add([]byte{0x0b, 0x0c})                                                             // groups
	f.Add([]byte{0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}) // an 11-byte varint
	if pb, err := os.ReadFile("../../testdata/requests/langfuse/otel-traces-protobuf.http"); err == nil {
		if _, body, ok := bytes.Cut(pb, []byte("\r\n\r\n")); ok {
			f.Add(bytes.TrimSuffix(body, []byte("\n")))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, schema := range []*pbMessage{nil, otlpTraceSchema} {
			err := walkProto(data, schema, "", 64, protoVisit{
				text: func(path string, s []byte) {
					if !within(s, data) || !bytes.Equal(bytes.ToValidUTF8(s, nil), s) {
						t.Fatalf("%s: %q is not valid text inside the input", path, s)
					}
				},
				binary: func(string, int) {},
			})
			if err != nil && !errors.Is(err, errProtoTruncated) && !errors.Is(err, errProtoWireType) && !errors.Is(err, errProtoField) && !errors.Is(err, errProtoDepth) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		lim := Limits{MaxSegments: 300, MaxBytes: 1 << 16}
		for _, r := range []*Request{
			{Vendor: "arize", Method: "POST", Path: "/v1/traces", ContentType: "application/x-protobuf", Body: data},
			{Vendor: "arize", Method: "POST", Path: "/v1/traces", ContentType: "application/json", Body: data},
			{Vendor: "cursor", Method: "POST", Path: "/aiserver.v1.X/Y", ContentType: "application/connect+proto",
				Header: http.Header{"Connect-Content-Encoding": {"gzip"}}, Body: data},
		} {
			checkBounded(t, Extract(r, lim), lim)
		}
	})
}
