package extract_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/flow"
)

// TestRequestModels pins where each API names the requested model and which parameters ask
// the vendor to keep what it is sent. The fixtures' goldens cover the SDKs' own requests;
// these are the shapes around them.
func TestRequestModels(t *testing.T) {
	long := strings.Repeat("m", 300)
	cases := []struct {
		name, vendor, path, query, ct, body string
		model, at                           string
		params                              map[string]string
	}{
		{name: "chat store true", vendor: "openai", path: "/v1/chat/completions",
			body:  `{"model":"gpt-4o","store":true,"metadata":{"team":"fin"},"messages":[{"role":"user","content":"hi","model":"not this"}]}`,
			model: "gpt-4o", at: "model", params: map[string]string{"store": "true", "metadata": "present"}},
		{name: "chat store false, empty metadata", vendor: "openai", path: "/v1/chat/completions",
			body:  `{"messages":[],"store":false,"metadata":{},"model":"gpt-4o-mini"}`,
			model: "gpt-4o-mini", at: "model", params: map[string]string{"store": "false"}},
		{name: "null and empty values are not set", vendor: "openai", path: "/v1/responses",
			body:  `{"model":"gpt-4.1","store":null,"previous_response_id":"","conversation":null,"metadata":null,"input":"hi"}`,
			model: "gpt-4.1", at: "model"},
		{name: "responses continued in the background", vendor: "openai", path: "/v1/responses",
			body:  `{"model":"o3","background":true,"previous_response_id":"resp_abc","conversation":{"id":"conv_1"},"input":"go on"}`,
			model: "o3", at: "model", params: map[string]string{"background": "true", "previous_response_id": "present", "conversation": "present"}},
		{name: "escaped model, last of two", vendor: "openai", path: "/v1/chat/completions",
			body:  `{"model":"gpt-3.5","model":"gpt\u002d4o","messages":[]}`,
			model: "gpt-4o", at: "model"},
		{name: "model not a string", vendor: "openai", path: "/v1/chat/completions",
			body: `{"model":{"name":"gpt-4o"},"messages":[]}`},
		{name: "model cut to its bound", vendor: "openai", path: "/v1/chat/completions",
			body:  `{"model":"` + long + `","messages":[]}`,
			model: long[:flow.MaxModelLen], at: "model"},
		{name: "model before a truncation", vendor: "openai", path: "/v1/chat/completions",
			body:  `{"model":"gpt-4o","store":true,"messages":[{"role":"user","content":"cut her`,
			model: "gpt-4o", at: "model", params: map[string]string{"store": "true"}},
		{name: "anthropic user id", vendor: "anthropic", path: "/v1/messages",
			body:  `{"model":"claude-sonnet-4-5","max_tokens":10,"metadata":{"user_id":"u-1"},"messages":[]}`,
			model: "claude-sonnet-4-5", at: "model", params: map[string]string{"metadata": "present", "user_id": "present"}},
		{name: "anthropic files", vendor: "anthropic", path: "/v1/files", ct: "multipart/form-data; boundary=b",
			body:   "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n",
			params: map[string]string{"persist": "file"}},
		{name: "gemini model in the path, cached content", vendor: "google-gemini", path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
			body:  `{"cachedContent":"cachedContents/abc","contents":[{"parts":[{"text":"hi"}]}]}`,
			model: "gemini-2.5-pro", at: "url:path", params: map[string]string{"cachedContent": "present"}},
		{name: "gemini tuned model", vendor: "google-gemini", path: "/v1beta/tunedModels/ledger-v2:generateContent",
			body: `{"contents":[]}`, model: "tunedModels/ledger-v2", at: "url:path"},
		{name: "gemini cache creation", vendor: "google-gemini", path: "/v1beta/cachedContents",
			body:  `{"model":"models/gemini-2.0-flash-001","contents":[{"parts":[{"text":"the contract"}]}],"ttl":"3600s"}`,
			model: "models/gemini-2.0-flash-001", at: "model", params: map[string]string{"persist": "cache"}},
		{name: "gemini file upload", vendor: "google-gemini", path: "/upload/v1beta/files",
			body: `{"file":{"display_name":"q3.pdf"}}`, params: map[string]string{"persist": "file"}},
		{name: "gemini batch", vendor: "google-gemini", path: "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
			body:  `{"batch":{"display_name":"b","input_config":{"requests":{"requests":[]}}}}`,
			model: "gemini-2.5-flash", at: "url:path", params: map[string]string{"persist": "batch"}},
		{name: "vertex publisher model", vendor: "google-vertex-ai", path: "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict",
			body: `{"anthropic_version":"vertex-2023-10-16","messages":[]}`, model: "claude-sonnet-4-5@20250929", at: "url:path"},
		{name: "vertex endpoint", vendor: "google-vertex-ai", path: "/v1/projects/p/locations/europe-west4/endpoints/1234567890:generateContent",
			body: `{"contents":[]}`, model: "endpoints/1234567890", at: "url:path"},
		{name: "vertex cache", vendor: "google-vertex-ai", path: "/v1/projects/p/locations/us-central1/cachedContents",
			body:  `{"model":"projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001","contents":[]}`,
			model: "projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001", at: "model", params: map[string]string{"persist": "cache"}},
		{name: "bedrock inference profile ARN", vendor: "aws-bedrock", path: "/model/arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0/converse-stream",
			body: `{"messages":[]}`, model: "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0", at: "url:path"},
		{name: "azure deployment wins over the body", vendor: "azure-openai", path: "/openai/deployments/gpt4o-eu/chat/completions", query: "api-version=2024-10-21",
			body: `{"model":"gpt-4o","store":true,"messages":[]}`, model: "gpt4o-eu", at: "url:path", params: map[string]string{"store": "true"}},
		{name: "azure v1 names the model in the body", vendor: "azure-openai", path: "/openai/v1/chat/completions",
			body: `{"model":"gpt-4.1-mini-deploy","messages":[]}`, model: "gpt-4.1-mini-deploy", at: "model"},
		{name: "azure batch", vendor: "azure-openai", path: "/openai/batches",
			body: `{"input_file_id":"file-1","endpoint":"/chat/completions","completion_window":"24h"}`, params: map[string]string{"persist": "batch"}},
		{name: "realtime in the query", vendor: "openai", path: "/v1/realtime", query: "model=gpt-realtime&foo=1",
			model: "gpt-realtime", at: "query:model"},
		{name: "assistants thread", vendor: "openai", path: "/v1/threads/thread_1/messages",
			body: `{"role":"user","content":"hi"}`, params: map[string]string{"persist": "thread"}},
		{name: "no model, no API", vendor: "mixpanel", path: "/track",
			body: `{"model":"gpt-4o","store":true}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "POST"
			if c.path == "/v1/realtime" {
				method = "GET"
			}
			ct := c.ct
			if ct == "" {
				ct = "application/json"
			}
			r := &extract.Request{Vendor: c.vendor, Method: method, Path: c.path, RawQuery: c.query, ContentType: ct, Body: []byte(c.body)}
			res := extract.Extract(r, extract.Limits{})
			if res.Model != c.model || res.ModelPath != c.at {
				t.Errorf("model %q at %q, want %q at %q (api %s)", res.Model, res.ModelPath, c.model, c.at, res.API)
			}
			if !maps.Equal(res.Params, c.params) {
				t.Errorf("params %v, want %v", res.Params, c.params)
			}
			paramsValid(t, res.Params)
		})
	}
}

// paramsValid checks that params hold only the documented keys and tokens: never a value a
// client wrote.
func paramsValid(t *testing.T, params map[string]string) {
	t.Helper()
	values := []string{flow.ParamTrue, flow.ParamFalse, flow.ParamPresent, flow.PersistFile, flow.PersistBatch,
		flow.PersistThread, flow.PersistAssistant, flow.PersistCache}
	for k, v := range params {
		if !slices.Contains(flow.ParamKeys, k) || !slices.Contains(values, v) {
			t.Fatalf("param %q=%q is not in the vocabulary", k, v)
		}
	}
}

// TestServedModels pins where each answer names the model that served it, streamed or whole.
func TestServedModels(t *testing.T) {
	cases := []struct {
		name, api, ct string
		body          []byte
		want          string
	}{
		{"openai chat json", "openai.chat", "application/json",
			[]byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"hi","model":"not this"}}]}`),
			"gpt-4o-2024-08-06"},
		{"openai chat stream", "openai.chat", "text/event-stream", sseStream(
			`{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"a"}}]}`,
			`{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"b"}}]}`,
			`[DONE]`), "gpt-4o-mini-2024-07-18"},
		{"openai-compatible stream without content type", "openai.chat", "", sseStream(
			`{"id":"c","model":"mistral-large-2411","choices":[{"index":0,"delta":{"content":"a"}}]}`), "mistral-large-2411"},
		{"responses json", "openai.responses", "application/json",
			[]byte(`{"id":"resp_1","object":"response","status":"completed","model":"gpt-4.1-2025-04-14","output":[]}`), "gpt-4.1-2025-04-14"},
		{"responses stream", "openai.responses", "text/event-stream", sseStream(
			"response.created\n"+`{"type":"response.created","response":{"id":"resp_1","model":"o3-2025-04-16","output":[]}}`,
			"response.output_text.delta\n"+`{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"hi"}`), "o3-2025-04-16"},
		{"anthropic json", "anthropic.messages", "application/json",
			[]byte(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"hi"}]}`),
			"claude-sonnet-4-5-20250929"},
		{"anthropic stream", "anthropic.messages", "text/event-stream", sseStream(
			"message_start\n"+`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-4-1-20250805","content":[]}}`,
			"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}`), "claude-opus-4-1-20250805"},
		{"gemini json", "gemini.generateContent", "application/json",
			[]byte(`{"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"}}],"modelVersion":"gemini-2.5-flash-preview-05-20"}`),
			"gemini-2.5-flash-preview-05-20"},
		{"gemini stream, sse", "gemini.generateContent", "text/event-stream", sseStream(
			`{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"}}],"modelVersion":"gemini-2.0-flash-001"}`,
			`{"candidates":[{"content":{"parts":[{"text":"b"}],"role":"model"}}],"modelVersion":"gemini-2.0-flash-001"}`), "gemini-2.0-flash-001"},
		{"gemini stream, json array", "vertex.gemini", "application/json",
			[]byte(`[{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"}}],"modelVersion":"gemini-2.5-pro"}]`), "gemini-2.5-pro"},
		{"bedrock invoke claude stream", "bedrock.invoke", "application/vnd.amazon.eventstream", invokeChunks(
			`{"type":"message_start","message":{"id":"msg_bdrk_1","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219","content":[]}}`,
			`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}`), "claude-3-7-sonnet-20250219"},
		{"bedrock converse names none", "bedrock.converse", "application/json",
			[]byte(`{"output":{"message":{"content":[{"text":"hi"}],"role":"assistant"}},"stopReason":"end_turn"}`), ""},
		{"an error names none", "openai.chat", "application/json",
			[]byte(`{"error":{"message":"The model gpt-5o does not exist","type":"invalid_request_error","code":"model_not_found"}}`), ""},
		{"model cut to its bound", "openai.chat", "application/json",
			[]byte(`{"model":"` + strings.Repeat("é", 200) + `","choices":[]}`), strings.Repeat("é", flow.MaxModelLen/2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := extract.ExtractResponse(c.api, c.ct, c.body, extract.Limits{})
			if res.ServedModel != c.want {
				t.Errorf("served model %q, want %q", res.ServedModel, c.want)
			}
		})
	}
}

func TestModelIn(t *testing.T) {
	cases := []struct {
		modelPath, path string
		want            bool
	}{
		{"model", "model", true},
		{"model", "model/base64", true},
		{"model", "model@12", true},
		{"model", "modelVersion", false},
		{"model", "messages[0].model", false},
		{"url:path", "url:path", true},
		{"url:path", "url:path[3]/base64/email", true},
		{"query:model", "query:model", true},
		{"query:model", "query:models", false},
		{"", "model", false},
	}
	for _, c := range cases {
		if got := extract.ModelIn(c.modelPath, c.path); got != c.want {
			t.Errorf("ModelIn(%q, %q) = %v, want %v", c.modelPath, c.path, got, c.want)
		}
	}
}

// modelBounded checks what any extraction says of models and parameters, whatever the input.
func modelBounded(t *testing.T, res extract.Result) {
	t.Helper()
	for _, m := range []string{res.Model, res.ServedModel} {
		if len(m) > flow.MaxModelLen || !utf8.ValidString(m) {
			t.Fatalf("model %q: longer than %d bytes or not UTF-8", m, flow.MaxModelLen)
		}
	}
	if (res.Model == "") != (res.ModelPath == "") {
		t.Fatalf("model %q read from %q", res.Model, res.ModelPath)
	}
	paramsValid(t, res.Params)
}
