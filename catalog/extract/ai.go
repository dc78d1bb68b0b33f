package extract

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// aiAPIs are the AI vendors' request shapes. Names are shapes, not vendors: an OpenAI-compatible
// chat call to Groq is openai.chat, because the vendor is recorded on the flow separately and a
// policy about chat prompts should not need a list of every vendor that copied OpenAI's API.
// Azure keeps its own names (azure.openai.*): its deployment URLs, api-version query and
// data-residency story are different enough that policy authors ask for it by name.
var aiAPIs = buildAIAPIs()

// aiSkip names members that are structure in every AI API here: enum-like settings, roles,
// declared media types and server-minted opaque IDs and signatures, which look like
// high-entropy secrets to a detector but are not. Only answers skip them (see API.Skip): in a
// request they are scanned like everything else. Free text, user and metadata fields, names and
// URLs are never listed.
var aiSkip = []string{
	"model", "role", "type", "object", "stream", "status",
	"tool_choice", "reasoning_effort", "service_tier", "truncation", "modalities", "include",
	"detail", "format", "media_type", "mime_type", "mimeType", "responseMimeType", "response_mime_type",
	"encoding_format", "response_format", "voice", "quality", "size", "style", "background", "output_format",
	"anthropic_version", "anthropic_beta", "category", "threshold", "effort", "taskType", "task_type",
	"tool_call_id", "tool_use_id", "toolUseId", "call_id", "previous_response_id", "input_file_id",
	"encrypted_content", "signature", "thoughtSignature", "thought_signature",
	"method", "endpoint", "completion_window",
	"finish_reason", "stop_reason", "finishReason", "stopReason",
}

// aiRoute is one family of request paths of one shape on one vendor.
type aiRoute struct {
	vendor string
	paths  []string
}

// OpenAI's REST surface, as path suffixes under each compatible vendor's base path.
var openAISuffixes = map[string][]string{
	"openai.chat":                 {"/chat/completions"},
	"openai.completions":          {"/completions"},
	"openai.embeddings":           {"/embeddings"},
	"openai.moderations":          {"/moderations"},
	"openai.responses":            {"/responses", "/responses/input_tokens"},
	"openai.files":                {"/files"},
	"openai.uploads.parts":        {"/uploads/*/parts"},
	"openai.batches":              {"/batches"},
	"openai.audio.transcriptions": {"/audio/transcriptions", "/audio/translations"},
	"openai.audio.speech":         {"/audio/speech"},
	"openai.images":               {"/images/generations", "/images/edits", "/images/variations"},
}

// openAIBase says which base paths serve which OpenAI shapes on each OpenAI-compatible vendor
// (from vendors.yaml and the vendors' SDK base URLs).
var openAIBase = []struct {
	vendor string
	bases  []string
	shapes []string
}{
	{"openai", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.moderations",
		"openai.responses", "openai.files", "openai.uploads.parts", "openai.batches", "openai.audio.transcriptions",
		"openai.audio.speech", "openai.images"}},
	{"mistral", []string{"/v1"}, []string{"openai.chat", "openai.embeddings", "openai.moderations", "openai.files", "openai.batches"}},
	{"groq", []string{"/openai/v1"}, []string{"openai.chat", "openai.responses", "openai.embeddings", "openai.files",
		"openai.batches", "openai.audio.transcriptions", "openai.audio.speech"}},
	{"deepseek", []string{"", "/v1", "/beta"}, []string{"openai.chat", "openai.completions"}},
	{"together-ai", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.files",
		"openai.batches", "openai.audio.transcriptions", "openai.audio.speech", "openai.images"}},
	{"fireworks-ai", []string{"/inference/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.responses"}},
	{"openrouter", []string{"/api/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.responses"}},
	{"xai", []string{"/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings", "openai.responses", "openai.images"}},
	{"perplexity", []string{"", "/v1"}, []string{"openai.chat"}},
	{"alibaba-dashscope", []string{"/compatible-mode/v1"}, []string{"openai.chat", "openai.completions", "openai.embeddings",
		"openai.responses", "openai.files", "openai.batches"}},
	// The router takes /v1 and provider-pinned bases (/together/v1, /fireworks-ai/inference/v1).
	{"huggingface", []string{"/v1", "/*/v1", "/*/inference/v1", "/hf-inference/models/*/v1", "/hf-inference/models/*/*/v1"},
		[]string{"openai.chat", "openai.completions", "openai.embeddings"}},
	{"moonshot-ai", []string{"/v1"}, []string{"openai.chat", "openai.files"}},
	{"zhipu-ai", []string{"/api/paas/v4", "/api/coding/paas/v4"}, []string{"openai.chat", "openai.embeddings"}},
	{"google-gemini", []string{"/v1beta/openai"}, []string{"openai.chat", "openai.embeddings", "openai.images"}},
	{"google-vertex-ai", []string{"/v1/projects/*/locations/*/endpoints/openapi", "/v1beta1/projects/*/locations/*/endpoints/openapi"},
		[]string{"openai.chat"}},
	{"cohere", []string{"/compatibility/v1"}, []string{"openai.chat", "openai.embeddings"}},
	{"github-copilot", []string{""}, []string{"openai.chat", "openai.responses"}},
}

// aiRoutes lists every other shape with its paths, most specific first within a vendor.
var aiRoutes = []struct {
	name   string
	routes []aiRoute
}{
	{"openai.assistants", []aiRoute{{"openai", []string{"/v1/assistants", "/v1/assistants/*"}}}},
	{"openai.threads.runs", []aiRoute{{"openai", []string{"/v1/threads/runs", "/v1/threads/*/runs", "/v1/threads/*/runs/*/submit_tool_outputs"}}}},
	{"openai.threads.messages", []aiRoute{{"openai", []string{"/v1/threads/*/messages", "/v1/threads"}}}},
	{"openai.realtime.client_secrets", []aiRoute{{"openai", []string{"/v1/realtime/client_secrets", "/v1/realtime/sessions", "/v1/realtime/transcription_sessions"}}}},
	// The Realtime API's WebSocket (GET with Upgrade): its events are inspected one by one.
	{"openai.realtime", []aiRoute{{"openai", []string{"/v1/realtime"}}, {"azure-openai", []string{"/openai/realtime", "/openai/v1/realtime"}}}},
	{"openai.vector_stores.search", []aiRoute{{"openai", []string{"/v1/vector_stores/*/search"}}}},
	{"openai.chat", []aiRoute{{"mistral", []string{"/v1/agents/completions"}}}},
	// Fill-in-the-middle: prompt + suffix, the legacy completions shape.
	{"openai.completions", []aiRoute{{"mistral", []string{"/v1/fim/completions"}}, {"deepseek", []string{"/beta/completions"}}}},
	{"openai.moderations", []aiRoute{{"mistral", []string{"/v1/chat/moderations"}}}},

	{"anthropic.messages.batches", []aiRoute{{"anthropic", []string{"/v1/messages/batches"}}}},
	// The Files API (beta): documents kept until deleted, referenced by file_id.
	{"anthropic.files", []aiRoute{{"anthropic", []string{"/v1/files"}}}},
	{"anthropic.count_tokens", []aiRoute{
		{"anthropic", []string{"/v1/messages/count_tokens"}},
		{"deepseek", []string{"/anthropic/v1/messages/count_tokens"}},
		{"moonshot-ai", []string{"/anthropic/v1/messages/count_tokens"}},
	}},
	{"anthropic.messages", []aiRoute{
		{"anthropic", []string{"/v1/messages"}},
		{"deepseek", []string{"/anthropic/v1/messages"}},
		{"moonshot-ai", []string{"/anthropic/v1/messages"}},
		{"zhipu-ai", []string{"/api/anthropic/v1/messages"}},
		{"xai", []string{"/v1/messages"}},
		{"alibaba-dashscope", []string{"/apps/anthropic/v1/messages"}},
		{"azure-openai", []string{"/anthropic/v1/messages"}},
		{"openrouter", []string{"/api/v1/messages"}},
	}},

	{"gemini.generateContent", []aiRoute{{"google-gemini", geminiPaths(
		[]string{"/v1beta/models/*", "/v1/models/*", "/v1alpha/models/*", "/v1beta/tunedModels/*"},
		"generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents")}}},
	{"vertex.gemini", []aiRoute{{"google-vertex-ai", geminiPaths(
		[]string{"/v1/projects/*/locations/*/publishers/google/models/*", "/v1beta1/projects/*/locations/*/publishers/google/models/*",
			"/v1/projects/*/locations/*/endpoints/*", "/v1beta1/projects/*/locations/*/endpoints/*",
			"/v1/publishers/google/models/*", "/v1beta1/publishers/google/models/*"},
		"generateContent", "streamGenerateContent", "countTokens")}}},
	// Calls that ask Google to keep what they send: file uploads (the resumable upload's
	// start and its bytes), context caches, batch jobs.
	{"gemini.files", []aiRoute{{"google-gemini", []string{"/upload/v1beta/files", "/v1beta/files"}}}},
	{"gemini.cachedContents", []aiRoute{{"google-gemini", []string{"/v1beta/cachedContents", "/v1/cachedContents"}}}},
	{"gemini.batches", []aiRoute{{"google-gemini", geminiPaths([]string{"/v1beta/models/*"},
		"batchGenerateContent", "asyncBatchEmbedContent")}}},
	{"vertex.cachedContents", []aiRoute{{"google-vertex-ai", []string{"/v1/projects/*/locations/*/cachedContents",
		"/v1beta1/projects/*/locations/*/cachedContents"}}}},
	{"vertex.batches", []aiRoute{{"google-vertex-ai", []string{"/v1/projects/*/locations/*/batchPredictionJobs",
		"/v1beta1/projects/*/locations/*/batchPredictionJobs"}}}},
	{"vertex.anthropic", []aiRoute{{"google-vertex-ai", geminiPaths(
		[]string{"/v1/projects/*/locations/*/publishers/anthropic/models/*", "/v1beta1/projects/*/locations/*/publishers/anthropic/models/*"},
		"rawPredict", "streamRawPredict")}}},

	// A model ID that is an ARN (…:inference-profile/us.anthropic…) arrives URL-escaped, and its
	// '/' becomes a second path segment once the path is decoded.
	{"bedrock.converse", []aiRoute{{"aws-bedrock", []string{"/model/*/converse", "/model/*/converse-stream",
		"/model/*/*/converse", "/model/*/*/converse-stream"}}}},
	{"bedrock.invoke", []aiRoute{{"aws-bedrock", []string{"/model/*/invoke", "/model/*/invoke-with-response-stream",
		"/model/*/*/invoke", "/model/*/*/invoke-with-response-stream"}}}},

	{"cohere.chat", []aiRoute{{"cohere", []string{"/v1/chat", "/v2/chat"}}}},

	{"azure.openai.chat", []aiRoute{{"azure-openai", []string{"/openai/deployments/*/chat/completions",
		"/openai/deployments/*/extensions/chat/completions", "/openai/v1/chat/completions",
		"/v1/chat/completions", "/chat/completions", "/models/chat/completions"}}}},
	{"azure.openai.completions", []aiRoute{{"azure-openai", []string{"/openai/deployments/*/completions", "/openai/v1/completions", "/v1/completions"}}}},
	{"azure.openai.embeddings", []aiRoute{{"azure-openai", []string{"/openai/deployments/*/embeddings", "/openai/v1/embeddings",
		"/v1/embeddings", "/embeddings", "/models/embeddings"}}}},
	{"azure.openai.responses", []aiRoute{{"azure-openai", []string{"/openai/responses", "/openai/v1/responses"}}}},
	{"azure.openai.images", []aiRoute{{"azure-openai", []string{"/openai/deployments/*/images/generations",
		"/openai/deployments/*/images/edits", "/openai/v1/images/generations", "/openai/v1/images/edits"}}}},
	{"azure.openai.audio.transcriptions", []aiRoute{{"azure-openai", []string{"/openai/deployments/*/audio/transcriptions",
		"/openai/deployments/*/audio/translations", "/openai/v1/audio/transcriptions", "/openai/v1/audio/translations"}}}},
	{"azure.openai.audio.speech", []aiRoute{{"azure-openai", []string{"/openai/deployments/*/audio/speech", "/openai/v1/audio/speech"}}}},
	{"azure.openai.files", []aiRoute{{"azure-openai", []string{"/openai/files", "/openai/v1/files"}}}},
	{"azure.openai.batches", []aiRoute{{"azure-openai", []string{"/openai/batches", "/openai/v1/batches"}}}},
}

func geminiPaths(bases []string, methods ...string) []string {
	var out []string
	for _, b := range bases {
		for _, m := range methods {
			out = append(out, b+":"+m)
		}
	}
	return out
}

func buildAIAPIs() []API {
	var out []API
	add := func(name, vendor string, paths []string) {
		method := "POST"
		if name == "openai.realtime" {
			method = "GET" // a WebSocket upgrade
		}
		out = append(out, API{
			Name: name, Vendors: []string{vendor}, Method: method, Paths: paths,
			Body: aiBody, Skip: aiSkip, Response: responseFunc(name),
		})
	}
	for _, r := range slices.Concat(aiRoutes, compatRoutes) { // compat.go: issue 13's vendors
		for _, rt := range r.routes {
			add(r.name, rt.vendor, rt.paths)
		}
	}
	for _, v := range slices.Concat(openAIBase, openAICompatible) {
		for _, shape := range v.shapes {
			var paths []string
			for _, b := range v.bases {
				for _, s := range openAISuffixes[shape] {
					paths = append(paths, b+s)
				}
			}
			add(shape, v.vendor, paths)
		}
	}
	return out
}

// aiBody reads an AI request: JSON with the media walker, anything else (multipart uploads,
// NDJSON) by content type.
func aiBody(r *Request, e *emitter) {
	if aiIsJSON(r.ContentType, r.Body) {
		e.aiJSON("", r.Body, 0, false)
		return
	}
	e.byContentType("", r.ContentType, r.Body, 0)
}

func aiIsJSON(contentType string, body []byte) bool {
	mt := contentType
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		return true
	}
	if mt != "" && mt != "text/plain" && mt != "application/octet-stream" {
		return false
	}
	t := bytes.TrimLeft(body, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// aiJSON walks a JSON document like emitter.json, but knows the AI APIs' inline media: a base64
// "data" or "bytes" member whose sibling (or, for Bedrock, parent's sibling) declares the media
// type becomes a media record of that type and size instead of megabytes of base64. Declared
// types are trusted only for binary payloads: base64 that decodes to text is scanned as text
// whatever it claims to be.
//
// Paths are prefix+path: prefix is "" for a request, "response:" for an answer, or a location
// under which a streamed JSON fragment is walked (response:content[1].input).
func (e *emitter) aiJSON(prefix string, data []byte, depth int, resp bool) {
	w := mediaWalk{e: e, prefix: prefix, depth: depth, resp: resp}
	if prefix == "" || prefix == respPrefix {
		// The whole body of a request or an answer: its top-level members name the model.
		w.facts = e.facts
	}
	end, err := walkJSONFacts(data, e.lim.MaxJSONDepth, e.rec, e.keys, w.facts, w.leaf)
	w.resolve()
	loc := w.loc()
	if err != nil {
		e.note("%s: %v", loc, err)
		rest := data[min(end, len(data)):]
		// Past the nesting limit the unread rest begins with the bomb's brackets; scanning them
		// as text would hand detectors megabytes of '['. What follows them is still scanned,
		// but not as JSON: the extraction is cut.
		if errors.Is(err, errJSONDepth) {
			e.limited.set(limJSONDepth)
			n := aiBracketRun(rest)
			rest, end = rest[n:], end+n
		}
		if looksLikeText(rest) {
			e.text(fmt.Sprintf("%s@%d", loc, end), view(rest), depth)
		}
		return
	}
	if tail := bytes.TrimSpace(data[end:]); len(tail) > 0 {
		e.note("%s: data after the JSON value at offset %d", loc, end)
		e.text(fmt.Sprintf("%s@%d", loc, end), view(tail), depth)
	}
}

// aiBracketRun is the length of the leading run of brackets, commas and blanks in b.
func aiBracketRun(b []byte) int {
	for i, c := range b {
		switch c {
		case '[', ']', '{', '}', ',', ' ', '\t', '\r', '\n':
		default:
			return i
		}
	}
	return len(b)
}

type pendingMedia struct {
	seg    int    // index in e.segs
	parent string // path of the object holding the payload
	key    string // "data" or "bytes"
	path   string // the payload's segment path
}

type mediaWalk struct {
	e       *emitter
	prefix  string
	depth   int
	resp    bool
	facts   *reqFacts         // the whole body's: see aiJSON
	types   map[string]string // object path -> declared media type or format
	pending []pendingMedia
	invalid []pendingMedia // payloads that are not base64
}

// minInlineMedia: shorter base64 payloads stay text whatever they decode to, because a
// base64-encoded credential is about this long and is exactly what a detector must see.
const minInlineMedia = 128

func (w *mediaWalk) loc() string {
	switch w.prefix {
	case "":
		return "body"
	case respPrefix:
		return "response"
	}
	return w.prefix
}

func (w *mediaWalk) path(p []byte) string {
	switch {
	case len(p) == 0:
		return w.loc()
	case w.prefix == "" || w.prefix == respPrefix:
		return w.prefix + string(p)
	case p[0] == '[':
		return w.prefix + string(p)
	default:
		return w.prefix + "." + string(p)
	}
}

func (w *mediaWalk) leaf(p []byte, key, v string) {
	e := w.e
	switch key {
	case "media_type", "mime_type", "mimeType", "format":
		if w.types == nil {
			w.types = make(map[string]string)
		}
		w.types[string(aiParentOf(p, key))] = v
	case "data", "bytes":
		if len(v) >= minInlineMedia && w.inlineMedia(p, key, v) {
			return
		}
	}
	if w.facts != nil && (key == "user_id" || key == "model") {
		w.facts.leaf(p, v)
	}
	if w.resp && e.aiSkipLeaf(p, key, v) {
		return
	}
	e.text(w.path(p), v, w.depth)
}

// aiSkipLeaf decides whether a leaf of an answer is structure, left out of the record. Requests
// skip nothing: every value a client sends is its own, and is scanned. Array elements are
// judged by the member that holds the array (modalities: ["text"]); IDs by their value, since a
// vendor-minted ID (call_…, toolu_…) is recognisable and looks like a random secret to an
// entropy detector, while an ID a user chose may be anything.
func (e *emitter) aiSkipLeaf(p []byte, key, v string) bool {
	if key == "" {
		// Indexing with string(name) does not allocate.
		name := aiArrayOwner(p)
		if e.skipKeys[string(name)] || respSkipped(p, string(name)) {
			return !aiFreeForm(p)
		}
		return false
	}
	if e.skipKeys[key] || respSkipped(p, key) || aiIsIDKey(key) && aiVendorID(v) {
		return !aiFreeForm(p)
	}
	return false
}

// aiArrayOwner is the member name an array element belongs to: "include" for include[0],
// "" for a top-level array.
func aiArrayOwner(p []byte) []byte {
	for len(p) > 0 && p[len(p)-1] == ']' {
		i := bytes.LastIndexByte(p, '[')
		if i < 0 {
			return nil
		}
		p = p[:i]
	}
	return p[bytes.LastIndexByte(p, '.')+1:]
}

func aiIsIDKey(name string) bool {
	return name == "id" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "Id")
}

// aiVendorIDPrefixes start the IDs that OpenAI, Anthropic and Bedrock mint for calls, messages,
// files and runs.
var aiVendorIDPrefixes = []string{
	"call_", "toolu_", "srvtoolu_", "tooluse_", "fc_", "ctc_", "msg_", "rs_", "resp_", "chatcmpl-",
	"file-", "file_", "asst_", "thread_", "run_", "step_", "batch_", "msgbatch_", "vs_", "upload_",
	"mcp_", "ws_", "ig_", "ci_",
}

func aiVendorID(v string) bool {
	if len(v) > 128 || strings.ContainsAny(v, " \t\r\n") {
		return false
	}
	for _, pre := range aiVendorIDPrefixes {
		if strings.HasPrefix(v, pre) {
			return true
		}
	}
	return false
}

// inlineMedia records a base64 payload as media, or scans what it decodes to when that is text.
// It returns false to leave v to the ordinary text path (not base64 at all).
func (w *mediaWalk) inlineMedia(p []byte, key, v string) bool {
	e := w.e
	s := strings.TrimRight(v, "=")
	if !isBase64Run(v) || len(s)%4 == 1 {
		if !strings.ContainsAny(v, " \t\r\n") {
			// Worth a note only if the object declares a media type, known once it is read.
			w.invalid = append(w.invalid, pendingMedia{seg: -1, parent: string(aiParentOf(p, key)), key: key, path: w.path(p)})
		}
		return false
	}
	// A prefix tells binary from text without decoding a whole image.
	n := len(s)
	if n > 1024 {
		n = 1024
	}
	head, err := decodeBase64(s[:n])
	if err != nil {
		return false
	}
	if looksLikeTextHead(head) {
		full, err := decodeBase64(s)
		if err != nil || !looksLikeText(full) {
			return false
		}
		if e.rec != nil {
			e.rec.decoded(view(full), v, base64Codec{})
		}
		e.textOrJSON(w.path(p)+"/base64", view(full), w.depth+1)
		return true
	}
	before := len(e.segs)
	e.media(w.path(p), http.DetectContentType(head), len(s)*6/8)
	if len(e.segs) > before {
		w.pending = append(w.pending, pendingMedia{seg: before, parent: string(aiParentOf(p, key)), key: key})
	}
	return true
}

// resolve replaces sniffed media types with the ones the request declared, now that the whole
// object has been read (the declaration may come after the payload).
func (w *mediaWalk) resolve() {
	for _, m := range w.pending {
		obj, declared, ok := w.declared(m)
		if !ok {
			continue
		}
		if t := aiMediaTypeOf(aiLastSegment(obj), declared); t != "" {
			w.e.segs[m.seg].Media = t
		}
	}
	for _, m := range w.invalid {
		if _, declared, ok := w.declared(m); ok {
			w.e.note("%s: declared %s but not valid base64; scanned as text", m.path, declared)
		}
	}
}

// declared finds the media type declared for a payload: a sibling of "data", or for Bedrock's
// {"image": {"format": "png", "source": {"bytes": …}}} a sibling of the parent.
func (w *mediaWalk) declared(m pendingMedia) (obj, declared string, ok bool) {
	obj = m.parent
	if m.key == "bytes" {
		obj = string(aiParentOf([]byte(obj), aiLastSegment(obj)))
	}
	declared, ok = w.types[obj]
	return obj, declared, ok
}

// aiParentOf strips the last member name (".key" or a bare top-level "key") from a path.
func aiParentOf(p []byte, key string) []byte {
	if len(p) > len(key) {
		return p[:len(p)-len(key)-1]
	}
	return nil
}

func aiLastSegment(path string) string {
	return path[strings.LastIndexAny(path, ".]")+1:]
}

// aiMediaTypeOf turns a declared type into a MIME type: full types pass, bare formats ("png",
// "wav", "pdf") are qualified by the kind of block that holds them. Unknown formats give "",
// keeping the sniffed type.
func aiMediaTypeOf(kind, declared string) string {
	d := strings.ToLower(declared)
	if strings.Contains(d, "/") {
		return d
	}
	kind = strings.ToLower(kind)
	switch {
	case strings.Contains(kind, "image"):
		if d == "jpg" {
			d = "jpeg"
		}
		return "image/" + d
	case strings.Contains(kind, "audio"):
		switch d {
		case "mp3":
			return "audio/mpeg"
		case "pcm16", "pcm":
			return "audio/pcm"
		}
		return "audio/" + d
	case strings.Contains(kind, "video"):
		switch d {
		case "mov":
			return "video/quicktime"
		case "mkv":
			return "video/x-matroska"
		case "three_gp":
			return "video/3gpp"
		}
		return "video/" + d
	}
	return aiDocumentTypes[d]
}

// aiDocumentTypes are Bedrock's document formats. A fixed table, not mime.TypeByExtension, whose
// answer depends on the host's mime files.
var aiDocumentTypes = map[string]string{
	"pdf":  "application/pdf",
	"csv":  "text/csv",
	"doc":  "application/msword",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xls":  "application/vnd.ms-excel",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"html": "text/html",
	"txt":  "text/plain",
	"md":   "text/markdown",
}

// aiFreeForm reports whether a path lies inside a member whose keys are chosen by users or
// models rather than the API (tool inputs, function-call args, tool results as JSON,
// metadata): there a "type" or "model" member is content, not structure.
func aiFreeForm(p []byte) bool {
	for _, m := range aiFreeFormMarkers {
		if bytes.Contains(p, m) {
			return true
		}
	}
	return bytes.HasPrefix(p, []byte("metadata."))
}

var aiFreeFormMarkers = [][]byte{
	[]byte(".input."), []byte(".args."), []byte(".response."), []byte(".json."), []byte(".metadata."),
	[]byte(".arguments."),
}

// looksLikeTextHead is looksLikeText for a prefix cut at an arbitrary byte, which may split
// the last UTF-8 sequence.
func looksLikeTextHead(b []byte) bool {
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return looksLikeText(b)
}

// aiMediaType is mime.ParseMediaType's type, lower case, or "" when absent or unparsable.
func aiMediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}
