package extract

// The vendors that copied OpenAI's (or Anthropic's) request shapes, beyond those in ai.go: model
// vendors, inference hosts, routers and gateways whose base paths the catalog records (issue
// 13). Their requests get the shape names of the API they copied (openai.chat,
// anthropic.messages), as in ai.go, and buildAIAPIs reads these tables after its own.

// openAICompatible says which base paths serve which OpenAI shapes on each vendor, from the
// vendors' documented or observed base URLs (see vendors.json).
var openAICompatible = []struct {
	vendor string
	bases  []string
	shapes []string
}{
	{"ai21", []string{"/studio/v1"}, []string{"openai.chat"}},
	{"aleph-alpha", []string{"/openai", "/openai/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings"}},
	{"reka", []string{"/v1"}, []string{"openai.chat"}},
	{"baidu-qianfan", []string{"/v2"}, []string{"openai.chat", "openai.embeddings"}},
	{"minimax", []string{"/v1"}, []string{"openai.chat"}},
	{"tencent-hunyuan", []string{"/v1"}, []string{"openai.chat", "openai.embeddings"}},
	{"volcengine-ark", []string{"/api/v3"}, []string{"openai.chat", "openai.embeddings", "openai.images"}},
	{"sambanova", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.audio.transcriptions"}},
	{"cerebras", []string{"/v1"}, []string{"openai.chat", "openai.completions"}},
	{"nebius", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.images"}},
	{"voyage-ai", []string{"/v1"}, []string{"openai.embeddings"}},
	{"jina-ai", []string{"/v1"}, []string{"openai.embeddings"}},
	{"nvidia-nim", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings"}},
	{"baseten", []string{"/v1"}, []string{"openai.chat", "openai.completions"}},
	{"lepton-ai", []string{"/api/v1"}, []string{"openai.chat", "openai.completions"}},
	{"anyscale", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings"}},
	{"deepinfra", []string{"/v1/openai"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.images"}},
	{"novita-ai", []string{"/v3/openai", "/openai/v1", "/openai"}, []string{"openai.chat", "openai.completions", "openai.embeddings"}},
	{"hyperbolic", []string{"/v1"}, []string{"openai.chat", "openai.completions"}},
	{"lambda", []string{"/v1"}, []string{"openai.chat", "openai.completions"}},
	{"scaleway", []string{"/v1", "/*/v1"}, []string{"openai.chat", "openai.embeddings", "openai.audio.transcriptions"}},
	{"ovhcloud-ai", []string{"/v1", "/api/openai_compat/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings"}},
	{"upstage", []string{"/v1", "/v1/solar"}, []string{"openai.chat", "openai.embeddings"}},
	{"writer", []string{"/v1"}, []string{"openai.chat"}},
	{"sarvam", []string{"/v1", ""}, []string{"openai.chat"}},
	{"meta-llama-api", []string{"/v1", "/compat/v1"}, []string{"openai.chat"}},
	{"sourcegraph", []string{"/.api/llm"}, []string{"openai.chat"}},
	// Gateways carry whatever the client would have sent the vendor behind them.
	{"portkey", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.moderations",
		"openai.responses", "openai.files", "openai.uploads.parts", "openai.batches", "openai.audio.transcriptions",
		"openai.audio.speech", "openai.images"}},
	{"helicone", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.responses",
		"openai.audio.transcriptions", "openai.audio.speech", "openai.images"}},
	{"cloudflare-ai-gateway", []string{"/v1/*/*/openai", "/v1/*/*/compat", "/v1/*/*/workers-ai/v1", "/v1/*/*/groq",
		"/v1/*/*/deepseek", "/v1/*/*/mistral/v1", "/v1/*/*/perplexity-ai", "/v1/*/*/cerebras", "/v1/*/*/grok/v1",
		"/v1/*/*/openrouter", "/v1/*/*/huggingface"},
		[]string{"openai.chat", "openai.completions", "openai.embeddings", "openai.responses", "openai.images",
			"openai.audio.transcriptions", "openai.audio.speech"}},
}

// compatRoutes are the other shapes these vendors copied, path by path.
var compatRoutes = []struct {
	name   string
	routes []aiRoute
}{
	// Writer's own chat path takes OpenAI-shaped messages.
	{"openai.chat", []aiRoute{{"writer", []string{"/v1/chat"}}}},
	{"anthropic.messages", []aiRoute{
		{"helicone", []string{"/v1/messages"}},
		{"portkey", []string{"/v1/messages"}},
		{"cloudflare-ai-gateway", []string{"/v1/*/*/anthropic/v1/messages"}},
		{"minimax", []string{"/anthropic/v1/messages"}},
	}},
}
