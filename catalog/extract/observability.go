package extract

// observabilityAPIs are the trace- and log-ingestion shapes of the LLM-observability services
// (issue 13). Each request carries what an application's LLM calls sent and received — the
// prompt and the answer whole — so it is a prompt sent to a third party, wholesale. Most are
// JSON and read as JSON, so paths say where the prompt sits (post[0].inputs.messages[0].content,
// batch[1].body.input, events[0].output); OTLP traces have a reader of their own (otlp.go).
//
// Shapes whose bodies are OpenAI or Anthropic requests (Helicone's, Portkey's and Cloudflare's
// proxies) are in compat.go under the shape names they copied.
var observabilityAPIs = buildObservabilityAPIs()

func buildObservabilityAPIs() []API {
	apis := []API{
		// LangSmith: one run, {post: [...], patch: [...]} batches, and multipart batches whose
		// parts are post.<id>, post.<id>.inputs, post.<id>.outputs, patch.<id>.outputs, each
		// JSON (the generic multipart reader names them multipart:post.<id>.inputs...).
		{Name: "langsmith.runs.batch", Vendors: []string{"langsmith"}, Method: "POST",
			Paths: []string{"/runs/batch", "/api/v1/runs/batch"}},
		{Name: "langsmith.runs.multipart", Vendors: []string{"langsmith"}, Method: "POST",
			Paths: []string{"/runs/multipart", "/api/v1/runs/multipart"}},
		{Name: "langsmith.runs", Vendors: []string{"langsmith"},
			Paths: []string{"/runs", "/api/v1/runs", "/runs/*", "/api/v1/runs/*"}},

		// Langfuse: the batch ingestion API ({batch: [{id, type, timestamp, body}]}).
		{Name: "langfuse.ingestion", Vendors: []string{"langfuse"}, Method: "POST", Paths: []string{"/api/public/ingestion"}},

		// Helicone's asynchronous logging: the provider request and response after the fact.
		{Name: "helicone.log", Vendors: []string{"helicone"}, Method: "POST",
			Paths: []string{"/custom/v1/log", "/oai/v1/log", "/anthropic/v1/log"}},

		// W&B Weave's trace server: {start: {...inputs}}, {end: {...output}}, and the SDK's
		// batches of both.
		{Name: "weave.calls", Vendors: []string{"wandb"}, Method: "POST",
			Paths: []string{"/call/start", "/call/end", "/call/upsert_batch", "/calls/upsert_batch"}},

		// Braintrust: span and log events into project logs, experiments and datasets.
		{Name: "braintrust.logs", Vendors: []string{"braintrust"}, Method: "POST",
			Paths: []string{"/v1/project_logs/*/insert", "/v1/experiment/*/insert", "/v1/dataset/*/insert"}},

		// Humanloop: logs of calls made elsewhere, and calls Humanloop makes and logs itself.
		{Name: "humanloop.log", Vendors: []string{"humanloop"}, Method: "POST",
			Paths: []string{"/v5/prompts/log", "/v5/flows/log", "/v5/tools/log", "/v5/evaluators/log", "/v5/agents/log",
				"/v5/prompts/*/log", "/v5/flows/*/log", "/v5/agents/*/log"}},
		{Name: "humanloop.call", Vendors: []string{"humanloop"}, Method: "POST",
			Paths: []string{"/v5/prompts/call", "/v5/agents/call"}},

		// Lunary: {events: [{type, event: start | end, runId, input, output}]}.
		{Name: "lunary.ingest", Vendors: []string{"lunary"}, Method: "POST", Paths: []string{"/v1/runs/ingest", "/api/report"}},

		// Comet Opik's trace and span batches.
		{Name: "opik.traces", Vendors: []string{"comet-opik"}, Method: "POST",
			Paths: []string{"/opik/api/v1/private/traces", "/opik/api/v1/private/traces/batch",
				"/opik/api/v1/private/spans", "/opik/api/v1/private/spans/batch"}},

		// Connect-RPC and gRPC-Web calls of AI coding tools: protobuf without a schema.
		{Name: "connect.proto", Vendors: []string{"cursor"}, Method: "POST", Paths: []string{"/aiserver.v1.*/*", "/agent.v1.*/*"},
			Body: connectProtoBody},
		{Name: "connect.proto", Vendors: []string{"windsurf"}, Method: "POST", Paths: []string{"/exa.*/*"},
			Body: connectProtoBody},
	}
	// OTLP/HTTP trace exports, on each service's own path.
	for _, o := range []struct {
		vendor string
		paths  []string
	}{
		{"arize", []string{"/v1/traces", "/s/*/v1/traces"}},
		{"langfuse", []string{"/api/public/otel/v1/traces"}},
		{"langsmith", []string{"/otel/v1/traces", "/api/v1/otel/v1/traces"}},
		{"wandb", []string{"/otel/v1/traces"}},
		{"braintrust", []string{"/otel/v1/traces"}},
		{"traceloop", []string{"/v1/traces"}},
	} {
		apis = append(apis, API{Name: "otlp.traces", Vendors: []string{o.vendor}, Method: "POST", Paths: o.paths, Body: otlpBody})
	}
	return apis
}

// moreAnalyticsAPIs are analytics shapes added with the catalog of issue 13; their bodies are
// JSON, read as JSON.
var moreAnalyticsAPIs = []API{
	// GA4 Measurement Protocol: {client_id, user_id, events: [{name, params}], user_properties}.
	{Name: "ga4.mp", Vendors: []string{"google-analytics"}, Method: "POST", Paths: []string{"/mp/collect", "/debug/mp/collect"}},
	// Snowplow's tracker protocol: {schema, data: [events]}, self-describing events and
	// contexts as base64url JSON in ue_px and cx (read by the base64 walker).
	{Name: "snowplow.tp2", Vendors: []string{"snowplow"}, Method: "POST", Paths: []string{"/com.snowplowanalytics.snowplow/tp2"}},
	// Segment-compatible CDPs.
	{Name: "segment.batch", Vendors: []string{"rudderstack", "customer-io"}, Method: "POST", Paths: []string{"/v1/batch"}, Skip: segmentSkip},
	{Name: "segment.track", Vendors: []string{"rudderstack", "customer-io"}, Method: "POST", Paths: []string{"/v1/track"}, Skip: segmentSkip},
	{Name: "segment.identify", Vendors: []string{"rudderstack", "customer-io"}, Method: "POST", Paths: []string{"/v1/identify"}, Skip: segmentSkip},
	{Name: "segment.page", Vendors: []string{"rudderstack", "customer-io"}, Method: "POST", Paths: []string{"/v1/page"}, Skip: segmentSkip},
}
