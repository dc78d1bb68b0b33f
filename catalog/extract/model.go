package extract

import (
	"net/url"
	"strings"

	"github.com/customs-dev/customs/flow"
)

// Models and retention parameters. The model a request asks for and the parameters that ask
// the vendor to keep what it is sent are read in the pass that extracts the body's text (the
// JSON walker tells reqFacts of every top-level member), from the URL where the API names the
// model there, and from the API itself for calls whose purpose is to store (file uploads,
// batches, threads, caches). The model the answer names is read by the answer's reader.

// reqFacts collects what a request (or, with resp, an answer) says about models and retention.
type reqFacts struct {
	resp      bool
	model     string // a view into the body until finish copies it
	modelPath string
	params    map[string]string
}

// member is told of one member of the top-level object: its name, the first byte of its
// value ('"', '{', '[', 't', 'f' or 'n'), the string for a string value, and whether the value
// is empty ("", {}, []).
func (f *reqFacts) member(key string, kind byte, s string, empty bool) {
	if f.resp {
		// OpenAI, Anthropic and OpenAI-compatible answers name the model that served them;
		// Gemini's name it modelVersion.
		if (key == "model" || key == "modelVersion") && kind == '"' && s != "" && f.model == "" {
			f.model = s
		}
		return
	}
	switch key {
	case "model":
		if kind == '"' && s != "" {
			f.model, f.modelPath = s, "model"
		}
	case "store", "background":
		switch kind {
		case 't':
			f.set(key, flow.ParamTrue)
		case 'f':
			f.set(key, flow.ParamFalse)
		case 'n':
		default:
			f.set(key, flow.ParamPresent)
		}
	case "previous_response_id", "conversation", "metadata":
		if present(kind, empty) {
			f.set(key, flow.ParamPresent)
		}
	case "cachedContent", "cached_content":
		if present(kind, empty) {
			f.set(flow.ParamCachedContent, flow.ParamPresent)
		}
	}
}

// present: a value other than null, "", {} or [] (false counts: a client that sends it set
// the parameter).
func present(kind byte, empty bool) bool {
	return kind != 'n' && !empty
}

// served is told of a model named by an event of a streamed answer; the first one stands
// (every chunk of an OpenAI stream repeats it).
func (e *emitter) served(model string) {
	if f := e.facts; f != nil && f.resp && f.model == "" && model != "" {
		f.model = model
	}
}

func (f *reqFacts) set(k, v string) {
	if f.params == nil {
		f.params = make(map[string]string, 2)
	}
	f.params[k] = v
}

// leaf is told of the string leaves named user_id or model: Anthropic's metadata.user_id,
// and the model of a Realtime session (session.model) where the body has none of its own.
func (f *reqFacts) leaf(p []byte, v string) {
	if f.resp || v == "" {
		return
	}
	switch string(p) {
	case "metadata.user_id":
		f.set(flow.ParamUserID, flow.ParamPresent)
	case "session.model":
		if f.model == "" {
			f.model, f.modelPath = v, "session.model"
		}
	}
}

// persistOf names what an API call asks the vendor to keep (flow.ParamPersist).
var persistOf = map[string]string{
	"openai.files":               flow.PersistFile,
	"openai.uploads.parts":       flow.PersistFile,
	"azure.openai.files":         flow.PersistFile,
	"anthropic.files":            flow.PersistFile,
	"gemini.files":               flow.PersistFile,
	"openai.batches":             flow.PersistBatch,
	"azure.openai.batches":       flow.PersistBatch,
	"anthropic.messages.batches": flow.PersistBatch,
	"gemini.batches":             flow.PersistBatch,
	"vertex.batches":             flow.PersistBatch,
	"openai.threads.runs":        flow.PersistThread,
	"openai.threads.messages":    flow.PersistThread,
	"openai.assistants":          flow.PersistAssistant,
	"gemini.cachedContents":      flow.PersistCache,
	"vertex.cachedContents":      flow.PersistCache,
}

// finish puts what the request said about its model and retention into res: the model the
// URL names wins over the body's (Azure routes by deployment, whatever the body says).
func (f *reqFacts) finish(api string, r *Request, res *Result) {
	if m, at := urlModel(api, r.Path, r.RawQuery); m != "" {
		res.Model, res.ModelPath = flow.ModelName(m), at
	} else if f.model != "" {
		res.Model, res.ModelPath = strings.Clone(flow.ModelName(f.model)), f.modelPath
	} else if aiMediaType(r.ContentType) == "multipart/form-data" {
		// Uploads (transcriptions, image edits) name the model in a form field.
		for _, s := range res.Segments {
			if s.Path == "multipart:model" && s.Text != "" {
				res.Model, res.ModelPath = strings.Clone(flow.ModelName(s.Text)), s.Path
				break
			}
		}
	}
	if p := persistOf[api]; p != "" {
		f.set(flow.ParamPersist, p)
	}
	res.Params = f.params
}

// urlModel is the model an API names in its URL, and the segment path it is read from (so
// that a finding there masks it): Gemini's and Vertex's models/{model}:method (tunedModels/
// {name} for a tuned model, endpoints/{id} for a Vertex endpoint), Bedrock's
// /model/{modelId}/ (an inference profile's ARN spans two segments once decoded), an Azure
// deployment's name, the Realtime API's ?model= (Azure: ?deployment=).
func urlModel(api, path, rawQuery string) (model, at string) {
	switch {
	case strings.HasPrefix(api, "gemini.") || api == "vertex.gemini" || api == "vertex.anthropic" || api == "vertex.batches":
		for _, marker := range []string{"/models/", "/tunedModels/", "/endpoints/"} {
			i := strings.LastIndex(path, marker)
			if i < 0 {
				continue
			}
			name, _, _ := strings.Cut(path[i+len(marker):], ":")
			if name == "" || strings.Contains(name, "/") {
				continue
			}
			if marker != "/models/" {
				name = marker[1:] + name
			}
			return name, "url:path"
		}
	case strings.HasPrefix(api, "bedrock."):
		rest, ok := strings.CutPrefix(path, "/model/")
		if i := strings.LastIndexByte(rest, '/'); ok && i > 0 {
			return rest[:i], "url:path"
		}
	case strings.HasPrefix(api, "azure.openai."):
		if rest, ok := strings.CutPrefix(path, "/openai/deployments/"); ok {
			if name, _, _ := strings.Cut(rest, "/"); name != "" {
				return name, "url:path"
			}
		}
	case api == "openai.realtime":
		if rawQuery == "" {
			return "", ""
		}
		q, _ := url.ParseQuery(rawQuery)
		for _, k := range []string{"model", "deployment"} {
			if m := q.Get(k); m != "" {
				return m, "query:" + k
			}
		}
	}
	return "", ""
}

// ModelIn reports whether a finding at path lies where a request's model was read (res's
// ModelPath): the model is then not shown in clear. A URL's model is masked by any finding in
// the URL path, whose spans name path segments or decoded layers rather than the model.
func ModelIn(modelPath, path string) bool {
	if modelPath == "" {
		return false
	}
	if modelPath == "url:path" {
		return strings.HasPrefix(path, "url:path")
	}
	rest, ok := strings.CutPrefix(path, modelPath)
	return ok && (rest == "" || rest[0] == '/' || rest[0] == '@' || rest[0] == '[')
}
