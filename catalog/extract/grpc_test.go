package extract_test

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/internal/golden"
)

// Protobuf builders: bodies are written field by field, as a client library encodes them.

func pbStr(num int, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, protowire.Number(num), protowire.BytesType), s)
}

func pbMsgF(num int, fields ...[]byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, protowire.Number(num), protowire.BytesType), bytes.Join(fields, nil))
}

func pbVarint(num int, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, protowire.Number(num), protowire.VarintType), v)
}

func pbFixed64(num int, v uint64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(nil, protowire.Number(num), protowire.Fixed64Type), v)
}

func pbFixed32(num int, v uint32) []byte {
	return protowire.AppendFixed32(protowire.AppendTag(nil, protowire.Number(num), protowire.Fixed32Type), v)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// envelope frames a message: flags, 4-byte big-endian length, message.
func envelope(flags byte, msg []byte) []byte {
	h := []byte{flags, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(h[1:], uint32(len(msg)))
	return append(h, msg...)
}

func compress(t testing.TB, enc string, b []byte) []byte {
	var buf bytes.Buffer
	switch enc {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
	case "deflate":
		return zlibbed(string(b))
	case "deflate-raw":
		w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
		w.Write(b)
		w.Close()
	case "zstd":
		w, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		return w.EncodeAll(b, nil)
	case "snappy":
		w := snappy.NewBufferedWriter(&buf)
		w.Write(b)
		w.Close()
	case "snappy-block":
		return snappy.Encode(nil, b)
	default:
		t.Fatalf("no compressor %q", enc)
	}
	return buf.Bytes()
}

func grpcRequest(vendor, path, enc string, first int, body []byte) *extract.Request {
	h := http.Header{"Te": {"trailers"}, "User-Agent": {"grpc-go/1.70.0"}}
	if enc != "" {
		h.Set("Grpc-Encoding", enc)
	}
	return &extract.Request{Vendor: vendor, Method: "POST", Path: path, Header: h,
		ContentType: "application/grpc", Body: body, GRPCFirst: first}
}

const (
	vertexGenerate = "/google.cloud.aiplatform.v1.PredictionService/GenerateContent"
	geminiGenerate = "/google.ai.generativelanguage.v1beta.GenerativeService/GenerateContent"
	unknownMethod  = "/acme.assist.v2.Chat/Send"
)

// Vertex AI's GenerateContentRequest (aiplatform v1): model 5, contents 2, system_instruction
// 8, cached_content 9, tools 6, labels 10, generation_config 4; Content: role 1, parts 2;
// Part: text 1, inline_data 2, file_data 3, function_call 5, function_response 6; Blob:
// mime_type 1, data 2.
func vertexRequest(prompt string) []byte {
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 1, 2, 0xfe}, 80)...)
	args := cat( // google.protobuf.Struct: {"city": "Lisbon", "stops": ["Belém", {"n": 2}]}
		pbMsgF(1, pbStr(1, "city"), pbMsgF(2, pbStr(3, "Lisbon"))),
		pbMsgF(1, pbStr(1, "stops"), pbMsgF(2, pbMsgF(6,
			pbMsgF(1, pbStr(3, "Belém")),
			pbMsgF(1, pbMsgF(5, pbMsgF(1, pbStr(1, "n"), pbMsgF(2, pbFixed64(2, 0x4000000000000000)))))))),
	)
	return cat(
		pbStr(5, "projects/acme/locations/us-central1/publishers/google/models/gemini-2.0-flash"),
		pbMsgF(2, pbStr(1, "user"),
			pbMsgF(2, pbStr(1, prompt)),
			pbMsgF(2, pbMsgF(2, pbStr(1, "image/png"), pbStr(2, string(png)))),
			pbMsgF(2, pbMsgF(3, pbStr(1, "application/pdf"), pbStr(2, "gs://acme-docs/q3.pdf")))),
		pbMsgF(2, pbStr(1, "model"),
			pbMsgF(2, pbMsgF(5, pbStr(1, "get_weather"), pbMsgF(2, args)))),
		pbMsgF(8, pbMsgF(2, pbStr(1, "You are a careful assistant."))),
		pbStr(9, "projects/acme/locations/us-central1/cachedContents/c-42"),
		pbMsgF(10, pbStr(1, "team"), pbStr(2, "ml-platform")),
		pbMsgF(4, pbFixed32(1, 0x3f000000), pbStr(6, "END"), pbStr(13, "text/plain")),
		pbStr(99, "a field the schema does not know"),
	)
}

// The Gemini API's GenerateContentRequest (generativelanguage v1beta): model 1, contents 2,
// system_instruction 8; Content: parts 1, role 2; Part: text 2, function_response 5.
func geminiRequest(prompt string) []byte { return geminiRequestSI(prompt, "Answer in French.") }

func geminiRequestSI(prompt, instruction string) []byte {
	return cat(
		pbStr(1, "models/gemini-2.5-flash"),
		pbMsgF(8, pbMsgF(1, pbStr(2, instruction))),
		pbMsgF(2, pbMsgF(1, pbStr(2, prompt)), pbStr(2, "user")),
		pbMsgF(2, pbMsgF(1, pbMsgF(5, pbStr(1, "lookup"), pbMsgF(2, pbMsgF(1, pbStr(1, "result"), pbMsgF(2, pbStr(3, "42 rows")))))), pbStr(2, "function")),
	)
}

// unknownRequest has field 2 twice, field 1 three levels deep and a field with a number.
func unknownRequest(deep string) []byte {
	return cat(
		pbVarint(4, 7),
		pbMsgF(1, pbMsgF(1, pbMsgF(3, pbStr(1, deep), pbVarint(2, 1)), pbStr(2, "second level")), pbVarint(9, 3)),
		pbMsgF(2, pbStr(1, "first of two")),
		pbMsgF(2, pbStr(1, "second of two"), pbStr(5, "x-"+strings.Repeat("y", 20)), pbStr(5, "again")),
	)
}

// hiddenText is text that parses as protobuf: '!' opens a fixed64 field (4) whose eight bytes
// hold half of a key, and '"' a string field (4) of ' ' (32) bytes.
var hiddenText = "!AKIAIOSF\" " + strings.Repeat("ordinary words ", 2) + "xx"

type grpcCase struct {
	name string
	req  *extract.Request
}

func grpcCases(t testing.TB) []grpcCase {
	prompt := "Summarise the deploy log: AWS_ACCESS_KEY_ID=" + plantedKey + " region eu-west-1"
	unk := unknownRequest("deep " + plantedKey)
	cases := []grpcCase{
		{"vertex-unary", grpcRequest("google-vertex-ai", vertexGenerate, "", 0, envelope(0, vertexRequest(prompt)))},
		{"vertex-stream-two-messages", grpcRequest("google-vertex-ai", "/google.cloud.aiplatform.v1beta1.PredictionService/StreamGenerateContent", "", 0,
			cat(envelope(0, pbMsgF(2, pbMsgF(2, pbStr(1, "first")))), envelope(0, cat(pbStr(5, "publishers/google/models/x"), pbMsgF(2, pbMsgF(2, pbStr(1, prompt)))))))},
		{"vertex-count-tokens", grpcRequest("google-vertex-ai", "/google.cloud.aiplatform.v1.PredictionService/CountTokens", "", 0,
			envelope(0, cat(pbStr(3, "publishers/google/models/gemini-2.0-flash"), pbMsgF(2, pbStr(3, "an instance")), pbMsgF(4, pbMsgF(2, pbStr(1, prompt))))))},
		{"gemini-unary", grpcRequest("google-gemini", geminiGenerate, "", 0, envelope(0, geminiRequest(prompt)))},
		{"gemini-batch-embed", grpcRequest("google-gemini", "/google.ai.generativelanguage.v1.GenerativeService/BatchEmbedContents", "", 0,
			envelope(0, cat(pbStr(1, "models/text-embedding-004"), pbMsgF(2, pbStr(1, "models/text-embedding-004"), pbMsgF(2, pbMsgF(1, pbStr(2, prompt))), pbVarint(3, 2), pbStr(4, "a title")))))},
		{"unknown-method", grpcRequest("", unknownMethod, "", 0, envelope(0, unk))},
		{"unknown-stream-two-messages", grpcRequest("", unknownMethod, "", 0, cat(envelope(0, pbStr(1, "hello")), envelope(0, unk)))},
		{"unknown-grpc-first-3", grpcRequest("", unknownMethod, "", 3, envelope(0, unk))},
		{"named-grpc-first-3", grpcRequest("google-gemini", geminiGenerate, "", 3, envelope(0, geminiRequest(prompt)))},
		{"content-type-params", &extract.Request{Method: "POST", Path: unknownMethod, ContentType: "Application/GRPC+Proto; charset=utf-8", Body: envelope(0, pbStr(1, "hi there"))}},
		{"unknown-encoding", grpcRequest("", unknownMethod, "br", 0, cat(envelope(0, pbStr(1, "plain one")), envelope(1, []byte("\x1b\x03not really brotli but text-looking"))))},
		{"compressed-without-encoding", grpcRequest("", unknownMethod, "identity", 0, envelope(1, cat([]byte{0x8b, 0x1f, 0}, []byte(strings.Repeat("\x00\x01", 10)), []byte("key="+plantedKey+" binary"))))},
		{"lying-length", grpcRequest("", unknownMethod, "", 0, cat(envelope(0, pbStr(1, "ok")), []byte{0, 0, 0, 1, 0}, pbStr(1, "cut short "+plantedKey), pbStr(2, "more")))},
		{"trailing-partial-envelope", grpcRequest("", unknownMethod, "", 0, cat(envelope(0, pbStr(1, "whole")), []byte{0, 0, 0}))},
		{"garbage-protobuf", grpcRequest("", unknownMethod, "", 0, envelope(0, cat(pbStr(1, "read before"), []byte{0x0b}, []byte("group start, then text with "+plantedKey))))},
		{"named-garbage-field", grpcRequest("google-vertex-ai", vertexGenerate, "", 0, envelope(0, cat(pbMsgF(2, pbMsgF(2, pbStr(1, "fine")), []byte{0x1a, 0x40, 'x'}), pbStr(5, "m"))))},
		{"text-parses-as-protobuf", grpcRequest("", unknownMethod, "", 0, envelope(0, pbStr(3, hiddenText)))},
		{"vertex-part-text-as-protobuf", grpcRequest("google-vertex-ai", vertexGenerate, "", 0, envelope(0, pbMsgF(2, pbMsgF(2, pbStr(1, hiddenText)))))},
		{"json-codec", withType(grpcRequest("", unknownMethod, "", 0, cat(envelope(0, []byte(`{"prompt":"hello","meta":{"user":"jane"}}`)),
			envelope(0, []byte(`{"prompt":"token=`+plantedKey+`"}`)))), "application/grpc+json")},
		{"unknown-codec", withType(grpcRequest("", unknownMethod, "", 0, envelope(0, []byte("\x0b\x00\x01\x00\x00\x00\x05hello world, thrift text here"))), "application/grpc+thrift")},
		{"binary-with-text-run", grpcRequest("", unknownMethod, "", 0, envelope(0, pbStr(7, "\x00\x01\x02\x03\xff\xfe"+"token="+plantedKey+"\x00\x00\x01")))},
	}
	for _, enc := range []string{"gzip", "deflate", "deflate-raw", "zstd", "snappy", "snappy-block"} {
		header := strings.TrimSuffix(strings.TrimSuffix(enc, "-raw"), "-block")
		cases = append(cases, grpcCase{"compressed-" + enc, grpcRequest("google-vertex-ai", vertexGenerate, header, 0,
			cat(envelope(1, compress(t, enc, vertexRequest(prompt))), envelope(0, pbMsgF(2, pbMsgF(2, pbStr(1, "uncompressed second")))))),
		})
	}
	truncated := compress(t, "gzip", unk)
	cases = append(cases, grpcCase{"compressed-truncated-gzip", grpcRequest("", unknownMethod, "gzip", 0, envelope(1, truncated[:len(truncated)-12]))})
	return cases
}

func withType(r *extract.Request, contentType string) *extract.Request {
	r.ContentType = contentType
	return r
}

// TestGRPCJSONCodec: a call with the JSON codec is redacted inside its JSON, and its envelope's
// length follows.
func TestGRPCJSONCodec(t *testing.T) {
	first := envelope(0, []byte(`{"prompt":"hello"}`))
	r := withType(grpcRequest("", unknownMethod, "", 0, cat(first, envelope(0, []byte(`{"prompt":"key `+plantedKey+` end"}`)))), "application/grpc+json")
	res := extract.Extract(r, extract.Limits{})
	path := "grpc:" + unknownMethod + "[1]/prompt"
	var text string
	for _, sg := range res.Segments {
		if sg.Path == path {
			text = sg.Text
		}
	}
	at := strings.Index(text, plantedKey)
	if at < 0 || len(res.Limited) > 0 {
		t.Fatalf("segments %v limited %v", res.Segments, res.Limited)
	}
	body, _, err := extract.Redact(r, extract.Limits{}, []extract.Edit{{Path: path, Start: at, End: at + len(plantedKey), Replacement: "[REDACTED]"}})
	if err != nil {
		t.Fatal(err)
	}
	want := cat(first, envelope(0, []byte(`{"prompt":"key [REDACTED] end"}`)))
	if !bytes.Equal(body, want) {
		t.Fatalf("redacted\n%q\nwant\n%q", body, want)
	}
}

func TestGRPC(t *testing.T) {
	for _, tc := range grpcCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			orig := bytes.Clone(tc.req.Body)
			res := extract.Extract(tc.req, extract.Limits{})
			if !bytes.Equal(orig, tc.req.Body) {
				t.Fatal("Extract modified the body")
			}
			golden.Check(t, filepath.Join("testdata", "grpc", tc.name+".golden"), render(res))
		})
	}
}

// TestGRPCFacts pins what the golden files show of the named methods: the API, the model fact
// and where it was read, and that a finding there masks it.
func TestGRPCFacts(t *testing.T) {
	for _, c := range []struct {
		r            *extract.Request
		api, model   string
		cachedParams bool
	}{
		{grpcRequest("google-vertex-ai", vertexGenerate, "", 0, envelope(0, vertexRequest("hi"))), "vertex.gemini",
			"gemini-2.0-flash", true},
		{grpcRequest("google-gemini", geminiGenerate, "", 0, envelope(0, geminiRequest("hi"))), "gemini.generateContent", "gemini-2.5-flash", false},
		{grpcRequest("google-vertex-ai", vertexGenerate, "", 0, envelope(0, pbStr(5, "projects/p/locations/l/endpoints/123"))), "vertex.gemini", "endpoints/123", false},
		{grpcRequest("google-gemini", geminiGenerate, "", 1, envelope(0, geminiRequest("hi"))), "gemini.generateContent", "", false},
		{grpcRequest("", unknownMethod, "", 0, envelope(0, pbStr(5, "m"))), "", "", false},
	} {
		res := extract.Extract(c.r, extract.Limits{})
		if res.API != c.api || res.Model != c.model {
			t.Errorf("%s: api %q model %q, want %q %q", c.r.Path, res.API, res.Model, c.api, c.model)
		}
		if c.model != "" && (res.ModelPath != "model" || !extract.ModelIn(res.ModelPath, "model")) {
			t.Errorf("%s: model path %q", c.r.Path, res.ModelPath)
		}
		if got := res.Params["cached_content"] != "" || len(res.Params) > 0; got != c.cachedParams {
			t.Errorf("%s: params %v", c.r.Path, res.Params)
		}
		if len(res.Limited) > 0 {
			t.Errorf("%s: limited %v (%v)", c.r.Path, res.Limited, res.Notes)
		}
	}
}

func TestIsGRPC(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/grpc": true, "application/grpc+proto": true, "Application/GRPC; charset=x": true,
		" application/grpc+proto ;a=b": true, "application/grpc-web+proto": false, "application/grpc+json": true,
		"application/grpc+": true, "application/grpc;": true, "application/grpc+thrift": true, "application/grpc+json; x=y": true,
		"application/connect+proto": false, "": false, "application/grpcx": false,
	} {
		if extract.IsGRPC(ct) != want {
			t.Errorf("IsGRPC(%q) = %v", ct, !want)
		}
	}
}

// TestGRPCLimited: every unreadable framing or encoding cuts the extraction, and nothing else
// does.
func TestGRPCLimited(t *testing.T) {
	want := map[string][]string{
		"unknown-encoding":            {extract.LimitUnreadable},
		"compressed-without-encoding": {extract.LimitUnreadable},
		"lying-length":                {extract.LimitUnreadable},
		"trailing-partial-envelope":   {extract.LimitUnreadable},
		"garbage-protobuf":            {extract.LimitUnreadable},
		"named-garbage-field":         {extract.LimitUnreadable},
		"compressed-truncated-gzip":   {extract.LimitUnreadable},
		"unknown-codec":               {extract.LimitUnreadable},
	}
	for _, tc := range grpcCases(t) {
		res := extract.Extract(tc.req, extract.Limits{})
		if !slices.Equal(res.Limited, want[tc.name]) {
			t.Errorf("%s: limited %q, want %q (notes %q)", tc.name, res.Limited, want[tc.name], res.Notes)
		}
	}
}

// TestGRPCHiddenText: text crafted to parse as protobuf is walked and scanned whole, so the
// bytes of its fixed64 field reach the detectors.
func TestGRPCHiddenText(t *testing.T) {
	for _, r := range []*extract.Request{
		grpcRequest("", unknownMethod, "", 0, envelope(0, pbStr(3, hiddenText))),
		grpcRequest("google-vertex-ai", vertexGenerate, "", 0, envelope(0, pbMsgF(2, pbMsgF(2, pbStr(1, hiddenText))))),
	} {
		res := extract.Extract(r, extract.Limits{})
		found := false
		for _, s := range res.Segments {
			found = found || s.Text == hiddenText
		}
		if !found {
			t.Errorf("%s: %q not scanned whole:\n%s", r.Path, hiddenText, strings.Join(flatten(res.Segments), "\n"))
		}
	}
}

// TestGRPCDecodeBudget: a compression bomb stops at the byte budget.
func TestGRPCDecodeBudget(t *testing.T) {
	bomb := compress(t, "gzip", pbStr(1, strings.Repeat("a", 1<<20)))
	res := extract.Extract(grpcRequest("", unknownMethod, "gzip", 0, cat(envelope(1, bomb), envelope(1, bomb))), extract.Limits{MaxBytes: 1 << 16})
	if !slices.Contains(res.Limited, extract.LimitBytes) {
		t.Errorf("limited %q, want bytes (notes %q)", res.Limited, res.Notes)
	}
}

func TestGRPCResponse(t *testing.T) {
	vertex := cat(
		pbMsgF(2, pbMsgF(2, pbStr(1, "model"), pbMsgF(2, pbStr(1, "The whiteboard shows Winter2025!vpn."))), pbVarint(3, 1)),
		pbStr(11, "gemini-2.0-flash-001"), pbStr(13, "resp-123"),
	)
	gemini := pbMsgF(1, pbMsgF(1, pbMsgF(1, pbStr(2, "Bonjour")), pbStr(2, "model")))
	for _, c := range []struct {
		name, api string
		body      []byte
	}{
		{"response-vertex", "vertex.gemini", cat(envelope(0, vertex), envelope(1, compress(t, "gzip", vertex)))},
		{"response-gemini", "gemini.generateContent", envelope(0, gemini)},
		{"response-unknown", "connect.proto", envelope(0, pbMsgF(4, pbStr(1, "an answer")))},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := extract.ExtractResponse(c.api, "application/grpc", c.body, extract.Limits{})
			golden.Check(t, filepath.Join("testdata", "grpc", c.name+".golden"), render(res))
		})
	}
}

// grpcRedactCase builds a body around a secret; the redacted body must be the body built around
// the replacement, byte for byte, once every compressed message is decompressed.
type grpcRedactCase struct {
	name, path, vendor, method, enc string
	first                           int
	build                           func(secret string) [][]byte // messages, uncompressed
	compressed                      []bool
}

func grpcRedactCases() []grpcRedactCase {
	return []grpcRedactCase{
		{name: "vertex-contents-text", path: "contents[0].parts[0].text", vendor: "google-vertex-ai", method: vertexGenerate,
			build: func(s string) [][]byte { return [][]byte{vertexRequest("deploy key " + s + " thanks")} }},
		{name: "vertex-function-args", path: "contents[1].parts[0].functionCall.args.city", vendor: "google-vertex-ai", method: vertexGenerate,
			build: func(s string) [][]byte {
				return [][]byte{cat(pbMsgF(2, pbMsgF(2, pbStr(1, "a"))), pbMsgF(2, pbMsgF(2, pbMsgF(5, pbStr(1, "f"), pbMsgF(2, pbMsgF(1, pbStr(1, "city"), pbMsgF(2, pbStr(3, "key "+s))))))))}
			}},
		{name: "gemini-system-instruction", path: "systemInstruction.parts[0].text", vendor: "google-gemini", method: geminiGenerate,
			build: func(s string) [][]byte { return [][]byte{geminiRequestSI("x", "Answer in French; the key is "+s+".")} }},
		{name: "unknown-three-deep", path: "grpc:" + unknownMethod + "/1.1.3.1", method: unknownMethod,
			build: func(s string) [][]byte { return [][]byte{unknownRequest("deep " + s)} }},
		{name: "gzip-envelope", path: "contents[0].parts[0].text", vendor: "google-vertex-ai", method: vertexGenerate, enc: "gzip",
			build:      func(s string) [][]byte { return [][]byte{vertexRequest("deploy key " + s + " thanks")} },
			compressed: []bool{true}},
		{name: "zstd-envelope", path: "grpc:" + unknownMethod + "/1.1.3.1", method: unknownMethod, enc: "zstd",
			build:      func(s string) [][]byte { return [][]byte{unknownRequest("deep " + s)} },
			compressed: []bool{true}},
		{name: "snappy-envelope", path: "grpc:" + unknownMethod + "/1.1.3.1", method: unknownMethod, enc: "snappy",
			build:      func(s string) [][]byte { return [][]byte{unknownRequest("deep " + s)} },
			compressed: []bool{true}},
		{name: "deflate-envelope", path: "grpc:" + unknownMethod + "/1.1.3.1", method: unknownMethod, enc: "deflate",
			build:      func(s string) [][]byte { return [][]byte{unknownRequest("deep " + s)} },
			compressed: []bool{true}},
		{name: "second-of-two-envelopes", path: "grpc:" + unknownMethod + "[1]/2[1].1", method: unknownMethod,
			build: func(s string) [][]byte {
				return [][]byte{pbStr(1, "first message"), cat(pbMsgF(2, pbStr(1, "a")), pbMsgF(2, pbStr(1, "secret "+s+" here")))}
			}},
		{name: "second-message-compressed", path: "messages[1].contents[0].parts[0].text", vendor: "google-vertex-ai",
			method: "/google.cloud.aiplatform.v1.PredictionService/StreamGenerateContent", enc: "gzip",
			build: func(s string) [][]byte {
				return [][]byte{vertexRequest("first"), vertexRequest("key " + s)}
			},
			compressed: []bool{false, true}},
	}
}

func (c grpcRedactCase) body(t testing.TB, secret string) []byte {
	var out []byte
	for i, m := range c.build(secret) {
		if i < len(c.compressed) && c.compressed[i] {
			out = append(out, envelope(1, compress(t, c.enc, m))...)
		} else {
			out = append(out, envelope(0, m)...)
		}
	}
	return out
}

func TestGRPCRedact(t *testing.T) {
	lim := extract.Limits{}
	for _, c := range grpcRedactCases() {
		t.Run(c.name, func(t *testing.T) {
			secret := plantedKey
			r := grpcRequest(c.vendor, c.method, c.enc, c.first, c.body(t, secret))
			orig := bytes.Clone(r.Body)
			res := extract.Extract(r, lim)
			text := segmentAt(t, res, c.path)
			i := strings.Index(text, secret)
			if i < 0 {
				t.Fatalf("%s = %q, without %q", c.path, text, secret)
			}
			body, _, err := extract.Redact(r, lim, []extract.Edit{{Path: c.path, Start: i, End: i + len(secret), Replacement: placeholder}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Body, orig) {
				t.Fatal("Redact modified the request body")
			}
			want := c.build(placeholder)
			got := readEnvelopes(t, body, c.enc)
			if len(got) != len(want) {
				t.Fatalf("%d messages after redaction, want %d", len(got), len(want))
			}
			for k := range want {
				if !bytes.Equal(got[k].msg, want[k]) {
					t.Errorf("message %d:\n got %q\nwant %q", k, got[k].msg, want[k])
				}
				if wantFlag := k < len(c.compressed) && c.compressed[k]; got[k].compressed != wantFlag {
					t.Errorf("message %d: compressed %v", k, got[k].compressed)
				}
				checkProto(t, got[k].msg)
			}
			// Messages not edited keep their bytes, compressed or not.
			oldEnv, newEnv := splitEnvelopes(t, orig), splitEnvelopes(t, body)
			for k := range oldEnv {
				if !bytes.Equal(c.build(secret)[k], c.build(placeholder)[k]) {
					continue
				}
				if !bytes.Equal(oldEnv[k], newEnv[k]) {
					t.Errorf("envelope %d changed though nothing in it was edited", k)
				}
			}
			after := extract.Extract(&extract.Request{Vendor: r.Vendor, Method: "POST", Path: r.Path, Header: r.Header, ContentType: r.ContentType, Body: body}, lim)
			if s := segmentAt(t, after, c.path); s != text[:i]+placeholder+text[i+len(secret):] {
				t.Errorf("%s after redaction = %q", c.path, s)
			}
			if len(after.Limited) > 0 {
				t.Errorf("limited after redaction: %v", after.Limited)
			}
		})
	}
}

type grpcMessage struct {
	compressed bool
	msg        []byte
}

// readEnvelopes parses a body as gRPC envelopes, decompressing each compressed message.
func readEnvelopes(t *testing.T, body []byte, enc string) []grpcMessage {
	t.Helper()
	var out []grpcMessage
	for _, env := range splitEnvelopes(t, body) {
		m := grpcMessage{compressed: env[0]&1 != 0, msg: env[5:]}
		if m.compressed {
			m.msg = decompress(t, enc, m.msg)
		}
		out = append(out, m)
	}
	return out
}

func splitEnvelopes(t *testing.T, body []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(body) > 0 {
		if len(body) < 5 {
			t.Fatalf("%d bytes left, not an envelope", len(body))
		}
		n := int(binary.BigEndian.Uint32(body[1:5]))
		if n > len(body)-5 {
			t.Fatalf("envelope of %d bytes, %d left", n, len(body)-5)
		}
		out = append(out, body[:5+n])
		body = body[5+n:]
	}
	return out
}

func decompress(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var out []byte
	var err error
	switch enc {
	case "gzip":
		zr, e := gzip.NewReader(bytes.NewReader(b))
		if e != nil {
			t.Fatal(e)
		}
		out, err = readAll(zr)
	case "deflate":
		zr, e := zlib.NewReader(bytes.NewReader(b))
		if e != nil {
			t.Fatal(e)
		}
		out, err = readAll(zr)
	case "zstd":
		d, e := zstd.NewReader(nil)
		if e != nil {
			t.Fatal(e)
		}
		defer d.Close()
		out, err = d.DecodeAll(b, nil)
	case "snappy":
		out, err = readAll(snappy.NewReader(bytes.NewReader(b)))
	default:
		t.Fatalf("no decompressor for %q", enc)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readAll(r interface{ Read([]byte) (int, error) }) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

// checkProto parses a message with protowire, field by field, to its end.
func checkProto(t *testing.T, b []byte) {
	t.Helper()
	for len(b) > 0 {
		_, _, n := protowire.ConsumeField(b)
		if n < 0 {
			t.Fatalf("invalid protobuf: %v", protowire.ParseError(n))
		}
		b = b[n:]
	}
}

func TestGRPCRedactRefused(t *testing.T) {
	lim := extract.Limits{}
	for _, c := range []struct {
		name, path, target, want string
		r                        *extract.Request
	}{
		{"unread-region", "grpc:" + unknownMethod + "#unread", plantedKey, "bytes after a malformed protobuf field cannot be re-encoded",
			grpcRequest("", unknownMethod, "", 0, envelope(0, cat(pbStr(1, "read before"), []byte{0x0b}, []byte("group start, then text with "+plantedKey))))},
		{"lying-length", "grpc:" + unknownMethod + "[1]/1", plantedKey, "a gRPC envelope whose length runs past the body cannot be re-encoded",
			grpcRequest("", unknownMethod, "", 0, cat(envelope(0, pbStr(1, "ok")), []byte{0, 0, 0, 1, 0}, pbStr(1, "cut short "+plantedKey), pbStr(2, "more")))},
		{"unknown-encoding", "grpc:" + unknownMethod + "#unread", "not really", "an encoding customs cannot read",
			grpcRequest("", unknownMethod, "br", 0, envelope(1, []byte("\x1b\x03not really brotli but text-looking")))},
		{"truncated-gzip", "grpc:" + unknownMethod + "/1.1.3.1", plantedKey, "could not be read whole",
			grpcRequest("", unknownMethod, "gzip", 0, envelope(1, dropTail(compress(t, "gzip", unknownRequest("deep "+plantedKey)), 4)))},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := extract.Extract(c.r, lim)
			s := segmentAt(t, res, c.path)
			i := strings.Index(s, c.target)
			if i < 0 {
				t.Fatalf("%q not in %q", c.target, s)
			}
			body, _, err := extract.Redact(c.r, lim, []extract.Edit{{Path: c.path, Start: i, End: i + len(c.target), Replacement: placeholder}})
			if err == nil || !strings.Contains(err.Error(), c.want) || body != nil {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// dropTail cuts n bytes off b: a gzip stream without its trailer decompresses whole, but
// fails its end check.
func dropTail(b []byte, n int) []byte { return b[:len(b)-n] }

// grpcFuzzEncodings are the grpc-encoding values FuzzGRPC chooses from by its first byte.
var grpcFuzzEncodings = []string{"", "identity", "gzip", "deflate", "zstd", "snappy", "br"}

var grpcFuzzMethods = []struct{ vendor, path string }{
	{"", unknownMethod}, {"google-vertex-ai", vertexGenerate}, {"google-gemini", geminiGenerate},
}

// FuzzGRPC feeds arbitrary gRPC bodies through Extract and, where it finds text, through Redact
// of the first bytes of the first and the last text segment of the body: neither may panic or
// touch its input, and a redaction that succeeds must read back with the edit in place. The
// first input byte picks the grpc-encoding, the second the method.
func FuzzGRPC(f *testing.F) {
	for _, c := range grpcCases(f) {
		f.Add(fuzzGRPCInput(c.req))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 2 {
			return
		}
		m := grpcFuzzMethods[int(in[1])%len(grpcFuzzMethods)]
		r := grpcRequest(m.vendor, m.path, grpcFuzzEncodings[int(in[0])%len(grpcFuzzEncodings)], int(in[1])/16, in[2:])
		lim := extract.Limits{MaxSegments: 300, MaxBytes: 1 << 16}
		orig := bytes.Clone(r.Body)
		res := extract.Extract(r, lim)
		var picks []int
		for i, s := range res.Segments {
			if s.Media != "" || unrewritable(s.Path) {
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
			body, _, err := extract.Redact(r, lim, []extract.Edit{ed})
			if !bytes.Equal(r.Body, orig) {
				t.Fatal("Redact modified the request body")
			}
			if err != nil {
				if body != nil {
					t.Fatalf("partial result with error %v", err)
				}
				continue
			}
			want := placeholder + s.Text[ed.End:]
			again := extract.Extract(&extract.Request{Vendor: r.Vendor, Method: "POST", Path: r.Path, Header: r.Header,
				ContentType: r.ContentType, Body: body, GRPCFirst: r.GRPCFirst}, lim)
			found := false
			for _, a := range again.Segments {
				found = found || a.Text == want
			}
			if !found {
				t.Fatalf("edit of %s: no segment reads %q after redaction:\n%s", s.Path, want, strings.Join(flatten(again.Segments), "\n"))
			}
		}
	})
}

// fuzzGRPCInput encodes a request as FuzzGRPC's input.
func fuzzGRPCInput(r *extract.Request) []byte {
	e, m := 0, 0
	for i, x := range grpcFuzzEncodings {
		if x == r.Header.Get("Grpc-Encoding") {
			e = i
		}
	}
	for i, x := range grpcFuzzMethods {
		if x.path == r.Path {
			m = i
		}
	}
	return append([]byte{byte(e), byte(m)}, r.Body...)
}

// TestGRPCFailedDecompressCap: past a few messages that fail to decompress, the rest are not
// tried, and the extraction says so.
func TestGRPCFailedDecompressCap(t *testing.T) {
	var body []byte
	for i := 0; i < 20; i++ {
		body = append(body, envelope(1, []byte{0xff, 0xff, 0xff})...)
	}
	res := extract.Extract(grpcRequest("", unknownMethod, "deflate", 0, body), extract.Limits{})
	if !slices.Equal(res.Limited, []string{extract.LimitUnreadable}) || !strings.Contains(strings.Join(res.Notes, "\n"), "not tried after 8 messages") {
		t.Errorf("limited %q, notes %q", res.Limited, res.Notes)
	}
}
