package extract_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog/extract"
)

// aiFixtureVendors are the fixture directories of AI vendors, whose requests seed FuzzExtractAI.
var aiFixtureVendors = []string{
	"openai", "anthropic", "google-gemini", "aws-bedrock", "google-vertex-ai", "cohere", "azure-openai",
	"mistral", "groq", "deepseek", "together-ai", "fireworks-ai", "openrouter", "xai", "perplexity",
	"alibaba-dashscope", "huggingface", "moonshot-ai", "zhipu-ai",
}

func TestAIAPIsRegistered(t *testing.T) {
	want := []string{
		"openai.chat", "openai.responses", "openai.completions", "openai.embeddings", "openai.moderations",
		"openai.assistants", "openai.threads.messages", "openai.threads.runs", "openai.files",
		"openai.uploads.parts", "openai.batches", "openai.audio.transcriptions", "openai.audio.speech",
		"openai.images", "openai.realtime.client_secrets", "openai.vector_stores.search",
		"anthropic.messages", "anthropic.messages.batches", "anthropic.count_tokens",
		"gemini.generateContent", "bedrock.converse", "bedrock.invoke", "vertex.gemini", "vertex.anthropic",
		"cohere.chat", "azure.openai.chat", "azure.openai.embeddings", "azure.openai.responses",
	}
	have := extract.APIs()
	for _, name := range want {
		if !slices.Contains(have, name) {
			t.Errorf("%s is not registered", name)
		}
	}
}

// TestAILookup pins routes that fixtures do not cover: escaped ARNs, provider-pinned router
// paths, regional and express Vertex paths, and paths that must not match.
func TestAILookup(t *testing.T) {
	cases := []struct{ vendor, path, want string }{
		{"openai", "/v1/chat/completions", "openai.chat"},
		{"openai", "/v1/responses/input_tokens", "openai.responses"},
		{"openai", "/v1/threads/thread_1/runs", "openai.threads.runs"},
		{"openai", "/v1/threads", "openai.threads.messages"},
		{"openai", "/v1/uploads/upload_1/parts", "openai.uploads.parts"},
		{"openai", "/v1/audio/translations", "openai.audio.transcriptions"},
		{"openai", "/v1/images/edits", "openai.images"},
		{"openai", "/v1/realtime/sessions", "openai.realtime.client_secrets"},
		{"openai", "/v2/chat/completions", ""},
		{"anthropic", "/v1/messages", "anthropic.messages"},
		{"anthropic", "/v1/messages/batches", "anthropic.messages.batches"},
		{"anthropic", "/v1/messages/count_tokens", "anthropic.count_tokens"},
		{"google-gemini", "/v1/models/gemini-2.0-flash:streamGenerateContent", "gemini.generateContent"},
		{"google-gemini", "/v1beta/models/gemini-embedding-001:batchEmbedContents", "gemini.generateContent"},
		{"google-gemini", "/v1beta/models/gemini-2.0-flash:predict", ""},
		{"google-vertex-ai", "/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent", "vertex.gemini"},
		{"google-vertex-ai", "/v1/publishers/google/models/gemini-2.5-flash:generateContent", "vertex.gemini"},
		{"google-vertex-ai", "/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict", "vertex.anthropic"},
		{"google-vertex-ai", "/v1/projects/p/locations/us-central1/endpoints/openapi/chat/completions", "openai.chat"},
		{"aws-bedrock", "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke-with-response-stream", "bedrock.invoke"},
		{"aws-bedrock", "/model/arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3/converse-stream", "bedrock.converse"},
		{"azure-openai", "/openai/deployments/gpt-4o/audio/transcriptions", "azure.openai.audio.transcriptions"},
		{"azure-openai", "/models/chat/completions", "azure.openai.chat"},
		{"azure-openai", "/anthropic/v1/messages", "anthropic.messages"},
		{"huggingface", "/together/v1/chat/completions", "openai.chat"},
		{"huggingface", "/hf-inference/models/Qwen/Qwen2.5-7B-Instruct/v1/chat/completions", "openai.chat"},
		{"deepseek", "/beta/completions", "openai.completions"},
		{"deepseek", "/anthropic/v1/messages", "anthropic.messages"},
		{"zhipu-ai", "/api/coding/paas/v4/chat/completions", "openai.chat"},
		{"zhipu-ai", "/api/anthropic/v1/messages", "anthropic.messages"},
		{"alibaba-dashscope", "/compatible-mode/v1/embeddings", "openai.embeddings"},
		{"mistral", "/v1/fim/completions", "openai.completions"},
		{"cohere", "/v2/chat", "cohere.chat"},
		{"cohere", "/compatibility/v1/chat/completions", "openai.chat"},
		{"xai", "/v1/messages", "anthropic.messages"},
		{"github-copilot", "/chat/completions", "openai.chat"},
		{"mixpanel", "/v1/chat/completions", ""},
	}
	for _, c := range cases {
		got := ""
		if a := extract.Lookup(&extract.Request{Vendor: c.vendor, Method: "POST", Path: c.path}); a != nil {
			got = a.Name
		}
		if got != c.want {
			t.Errorf("%s %s: got %q, want %q", c.vendor, c.path, got, c.want)
		}
	}
	if a := extract.Lookup(&extract.Request{Vendor: "openai", Method: "GET", Path: "/v1/chat/completions"}); a != nil {
		t.Errorf("GET matched %s", a.Name)
	}
}

// TestAIInlineMedia pins the media walker: the declared type wins over the sniffed one, a
// declaration after the payload still counts, base64 text is scanned whatever it claims, and
// structural members, in tool inputs or not, are content.
func TestAIInlineMedia(t *testing.T) {
	png := "iVBORw0KGgoAAAANSUhEUgAAABgAAAAYCAIAAABvFaqvAAAAj0lEQVR4nGNgGAWjYBSMglEwCkbBKBgFo2AUjIJRMApGwSgYBaNgFIyCUTAKRsEoGAWjYBSMglEwCkbBKBgFo2AUjIJRMApGwSgYBaNgFIyCUTAKRsEoGAWjYBSMglEwCkbBKBgFo2AUjIJRMApGwSgYBaNgFIyCUTAKRsEoGAWjYBSMglEwCkbBKBgFo2AUjIJRMApGwSgAAM3IAQGy6D8ZAAAAAElFTkSuQmCC"
	text := "QUtJQUlPU0ZPRE5ON0VYQU1QTEUgaXMgdGhlIGtleSB3ZSB1c2UgaW4gcHJvZHVjdGlvbiBmb3IgYmlsbGluZywgZG8gbm90IHNoYXJlIGl0IHdpdGggYW55b25lIG91dHNpZGUgdGhlIHRlYW0u"
	body := `{"messages":[{"role":"user","content":[` +
		`{"type":"image","source":{"type":"base64","data":"` + png + `","media_type":"image/webp"}},` +
		`{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"` + text + `"}},` +
		`{"type":"tool_use","id":"toolu_01","name":"lookup","input":{"model":"NW-LT-00917","type":"laptop"}}]}],` +
		`"model":"claude-3-7-sonnet-20250219"}`
	res := extract.Extract(&extract.Request{Vendor: "anthropic", Method: "POST", Path: "/v1/messages",
		ContentType: "application/json", Body: []byte(body)}, extract.Limits{})
	got := map[string]string{}
	for _, s := range res.Segments {
		if s.Media != "" {
			got[s.Path] = s.Media
		} else {
			got[s.Path] = s.Text
		}
	}
	want := map[string]string{
		"messages[0].content[0].source.data":        "image/webp",
		"messages[0].content[1].source.data/base64": "AKIAIOSFODNN7EXAMPLE is the key we use in production for billing, do not share it with anyone outside the team.",
		"messages[0].content[2].name":               "lookup",
		"messages[0].content[2].input.model":        "NW-LT-00917",
		"messages[0].content[2].input.type":         "laptop",
		"url:path":                                  "/v1/messages",
		"messages[0].role":                          "user",
		"messages[0].content[0].type":               "image",
		"messages[0].content[0].source.type":        "base64",
		"messages[0].content[0].source.media_type":  "image/webp",
		"messages[0].content[1].type":               "document",
		"messages[0].content[1].source.type":        "base64",
		"messages[0].content[1].source.media_type":  "application/pdf",
		"messages[0].content[2].type":               "tool_use",
		"messages[0].content[2].id":                 "toolu_01",
		"model":                                     "claude-3-7-sonnet-20250219",
		"#keys":                                     "messages\nrole\ncontent\ntype\nsource\ndata\nmedia_type\nid\nname\ninput\nmodel",
	}
	for p, v := range want {
		if got[p] != v {
			t.Errorf("%s = %q, want %q", p, got[p], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("segments %v, want %v", got, want)
	}
}

// aiBounded checks the invariants every extraction keeps whatever the input.
func aiBounded(t *testing.T, res extract.Result, lim extract.Limits) {
	t.Helper()
	total := 0
	for _, s := range res.Segments {
		if s.Path == "" {
			t.Fatalf("segment without a path: %+v", s)
		}
		if s.Media != "" && s.Text != "" {
			t.Fatalf("media segment with text at %s", s.Path)
		}
		total += len(s.Text)
	}
	if len(res.Segments) > lim.MaxSegments || total > lim.MaxBytes {
		t.Fatalf("%d segments, %d bytes: over the limits %+v", len(res.Segments), total, lim)
	}
	if len(res.Notes) > 50 {
		t.Fatalf("%d notes", len(res.Notes))
	}
}

var aiFuzzLimits = extract.Limits{MaxSegments: 500, MaxBytes: 1 << 18, MaxNested: 3, MaxJSONDepth: 64}

// aiFuzzVendors: one vendor per family of shapes; a fuzzed path is tried against each until one
// recognises it.
var aiFuzzVendors = []string{"openai", "anthropic", "google-gemini", "aws-bedrock", "google-vertex-ai", "cohere", "azure-openai", "huggingface"}

func FuzzExtractAI(f *testing.F) {
	for _, v := range aiFixtureVendors {
		files, _ := filepath.Glob(filepath.Join(fixtureRoot, v, "*.http"))
		for _, file := range files {
			r, _ := loadFixture(f, file)
			if len(r.Body) > 64<<10 {
				// The mutator and minimizer slow to a crawl on huge inputs; a small nesting
				// bomb below stands in for the 100k-deep fixture.
				continue
			}
			f.Add(r.Path, r.ContentType, r.Body)
		}
	}
	f.Add("/v1/messages", "application/json", []byte(`{"messages":[{"role":"user","content":`+strings.Repeat("[", 2000)+strings.Repeat("]", 2000)+`}],"model":"m"}`))
	// Where models and retention parameters are read: the top-level members, nested
	// metadata and sessions, URL paths that name a model.
	f.Add("/v1/responses", "application/json", []byte(`{"model":"gpt-4.1","store":false,"background":true,"previous_response_id":"resp_1","conversation":{"id":"c"},"metadata":{"a":"b"},"input":"hi"}`))
	f.Add("/v1/messages", "application/json", []byte(`{"model":"claude-sonnet-4-5","metadata":{"user_id":"u"},"messages":[]}`))
	f.Add("/v1/realtime/client_secrets", "application/json", []byte(`{"session":{"model":"gpt-realtime"}}`))
	f.Add("/v1beta/models/gemini-2.5-pro:generateContent", "application/json", []byte(`{"cachedContent":"cachedContents/x","contents":[]}`))
	f.Add("/v1beta/cachedContents", "application/json", []byte(`{"model":"models/gemini-2.0-flash-001","contents":[]}`))
	f.Add("/model/arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0/converse", "application/json", []byte(`{"messages":[]}`))
	f.Add("/openai/deployments/gpt4o-eu/chat/completions", "application/json", []byte(`{"model":"x","store":true}`))
	f.Add("/v1/chat/completions", "application/json", []byte(`{"model":"gpt\u002d4o","model":7,"store":"yes","metadata":[],"messages":[`))
	f.Fuzz(func(t *testing.T, path, contentType string, body []byte) {
		r := &extract.Request{Vendor: "openai", Method: "POST", Path: path, ContentType: contentType, Body: body}
		for _, v := range aiFuzzVendors {
			if extract.Lookup(&extract.Request{Vendor: v, Method: "POST", Path: path}) != nil {
				r.Vendor = v
				break
			}
		}
		res := extract.Extract(r, aiFuzzLimits)
		aiBounded(t, res, aiFuzzLimits)
		modelBounded(t, res)
	})
}

func FuzzResponse(f *testing.F) {
	for _, c := range responseCases {
		f.Add(c.api, c.contentType, c.body)
	}
	f.Add("anthropic.messages", "text/event-stream", sseStream("message_start\n"+`{"type":"message_start","message":{"model":"claude-opus-4-1-20250805","content":[]}}`))
	f.Add("gemini.generateContent", "application/json", []byte(`[{"modelVersion":"gemini-2.5-pro","candidates":[]}`))
	f.Add("openai.responses", "text/event-stream", sseStream(`{"type":"response.created","response":{"model":"o3"}}`))
	f.Fuzz(func(t *testing.T, api, contentType string, body []byte) {
		res := extract.ExtractResponse(api, contentType, body, aiFuzzLimits)
		aiBounded(t, res, aiFuzzLimits)
		modelBounded(t, res)
	})
}

// openAIChat16K is a chat completion request of 16 KiB as a coding assistant sends it: a long
// system prompt, several user and assistant turns with code and prose, one tool call and its
// result.
func openAIChat16K() []byte {
	prose := []string{
		"We are migrating the billing service from the monolith to its own deployment. ",
		"The invoices table has 40 million rows and the nightly job takes four hours; ",
		"finance wants the reconciliation report before 7am CET, so the job must finish by 5am. ",
		"Please keep the public API unchanged and explain any schema change you propose. ",
	}
	code := "func (s *Store) Invoices(ctx context.Context, since time.Time) ([]Invoice, error) {\n" +
		"\trows, err := s.db.QueryContext(ctx, `SELECT id, customer_id, total_cents, issued_at FROM invoices WHERE issued_at >= $1`, since)\n" +
		"\tif err != nil {\n\t\treturn nil, fmt.Errorf(\"query invoices: %w\", err)\n\t}\n\tdefer rows.Close()\n"
	var msgs []map[string]any
	msgs = append(msgs, map[string]any{"role": "system", "content": strings.Repeat("You are a senior Go engineer at Northwind. Answer with code first, then a short explanation. ", 12)})
	for i := 0; ; i++ {
		var b strings.Builder
		for j := range 6 {
			b.WriteString(prose[(i+j)%len(prose)])
		}
		if i%2 == 0 {
			b.WriteString("\n```go\n" + code + "```\n")
		}
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		msgs = append(msgs, map[string]any{"role": role, "content": b.String()})
		if i == 3 {
			msgs = append(msgs,
				map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
					"id": "call_9pw1qnYScqvGrCH58HWCvFjM", "type": "function",
					"function": map[string]any{"name": "run_query", "arguments": `{"sql":"EXPLAIN ANALYZE SELECT count(*) FROM invoices WHERE issued_at >= now() - interval '1 day'","database":"billing-replica"}`}}}},
				map[string]any{"role": "tool", "tool_call_id": "call_9pw1qnYScqvGrCH58HWCvFjM",
					"content": "Aggregate  (cost=912345.12..912345.13 rows=1 width=8) (actual time=5321.004..5321.006 rows=1 loops=1)\n  ->  Seq Scan on invoices  (cost=0.00..902345.00 rows=4000048 width=0)\nPlanning Time: 0.210 ms\nExecution Time: 5321.120 ms"})
		}
		body, _ := json.Marshal(map[string]any{"model": "gpt-4o", "messages": msgs, "temperature": 0.2, "stream": true,
			"tools": []any{map[string]any{"type": "function", "function": map[string]any{"name": "run_query", "description": "Run read-only SQL on a replica",
				"parameters": map[string]any{"type": "object", "properties": map[string]any{"sql": map[string]any{"type": "string"}, "database": map[string]any{"type": "string"}}, "required": []string{"sql"}}}}}})
		if len(body) >= 16<<10 {
			return body
		}
	}
}

func BenchmarkExtractOpenAIChat16K(b *testing.B) {
	body := openAIChat16K()
	r := &extract.Request{Vendor: "openai", Method: "POST", Path: "/v1/chat/completions", ContentType: "application/json", Body: body}
	if res := extract.Extract(r, extract.Limits{}); res.API != "openai.chat" || len(res.Segments) < 10 {
		b.Fatalf("unexpected extraction: %s, %d segments, notes %v", res.API, len(res.Segments), res.Notes)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		extract.Extract(r, extract.Limits{})
	}
}

// TestOpenAIChat16KShape keeps the benchmark honest about its input.
func TestOpenAIChat16KShape(t *testing.T) {
	body := openAIChat16K()
	if n := len(body); n < 16<<10 || n > 20<<10 {
		t.Fatalf("body is %d bytes", n)
	}
}
