package flow

import (
	"strings"
	"time"
	"unicode/utf8"
)

// A vendor that moves an alias (gpt-4o, claude-sonnet-4-5) to a new version changes every app
// that calls it, and a request that asks the vendor to keep what it sends (store: true, a file
// upload, a batch) changes how long the data lives there. Flows record both: Flow.Model (what
// the request asked for), Flow.ServedModel (what the answer says served it) and Flow.Params
// (the retention parameters below).

// The keys of Flow.Params: the request parameters and API calls that decide whether the vendor
// keeps what it is sent. Values are tokens, never what the client wrote: ParamTrue or
// ParamFalse for a boolean as sent, ParamPresent for a parameter whose value is an ID, a
// reference or user data (metadata may hold anything; an ID may be a secret pasted in the
// wrong field), and for ParamPersist the kind of thing the call asks the vendor to keep. A key
// the request did not set is absent.
const (
	// ParamStore is OpenAI's store (chat completions: stored for the dashboard, evals and
	// distillation when true; the Responses API stores unless it is false), as sent.
	ParamStore = "store"
	// ParamBackground is the Responses API's background mode (the response is kept for
	// polling), as sent.
	ParamBackground = "background"
	// ParamPreviousResponseID: the request continues a response the vendor stored.
	ParamPreviousResponseID = "previous_response_id"
	// ParamConversation: the request adds to a conversation the vendor stores.
	ParamConversation = "conversation"
	// ParamMetadata: a non-empty top-level metadata object (stored with the completion,
	// response, batch or thread it labels).
	ParamMetadata = "metadata"
	// ParamUserID: Anthropic's metadata.user_id, an end-user identifier the vendor keeps for
	// abuse detection.
	ParamUserID = "user_id"
	// ParamCachedContent: a Gemini or Vertex request reads a context cache the vendor stores.
	ParamCachedContent = "cachedContent"
	// ParamPersist: the call itself asks the vendor to keep what it sends, until deleted or
	// expired: PersistFile, PersistBatch, PersistThread, PersistAssistant or PersistCache.
	ParamPersist = "persist"
)

// Values of Flow.Params.
const (
	ParamTrue    = "true"
	ParamFalse   = "false"
	ParamPresent = "present"

	PersistFile      = "file"      // a file upload (OpenAI, Azure, Anthropic and Gemini files, upload parts)
	PersistBatch     = "batch"     // a batch job (OpenAI, Azure, Anthropic message batches, Gemini batches)
	PersistThread    = "thread"    // an Assistants thread, its messages and runs
	PersistAssistant = "assistant" // an Assistants API assistant (instructions, tools, files)
	PersistCache     = "cache"     // a Gemini or Vertex context cache (cachedContents)
)

// ParamKeys lists every key Flow.Params may hold. Policies see each of them in api.params,
// "" where the request did not set it.
var ParamKeys = []string{ParamStore, ParamBackground, ParamPreviousResponseID, ParamConversation,
	ParamMetadata, ParamUserID, ParamCachedContent, ParamPersist}

// MaxModelLen bounds a model name as recorded: names are short, and whatever a client puts in
// the field must not make the record, the log line or a policy's input large.
const MaxModelLen = 256

// ModelName is a model name as read from a request or an answer, fit for the record: valid
// UTF-8, at most MaxModelLen bytes, spaces at either end trimmed.
func ModelName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > MaxModelLen {
		s = s[:MaxModelLen]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1] // a sequence cut in two
		}
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// ModelUse is what a report needs of one flow to follow models: who called which vendor for
// which model, and which model answered. store.Record.ModelUse and Flow.ModelUse build it.
type ModelUse struct {
	FlowID string
	Time   time.Time
	Client string // the client's address as recorded (ip:port)
	User   string // the proxy user, when proxy authentication is on
	Vendor string // catalog vendor ID
	API    string
	// Model is the requested model (an alias such as gpt-4o, or a pinned version), "" when
	// the request named none; ServedModel is the one the answer named, "" when it named none
	// or was not read.
	Model, ServedModel string
}

// ModelUse is f's ModelUse.
func (f *Flow) ModelUse() ModelUse {
	return ModelUse{FlowID: f.ID, Time: f.Start, Client: f.Client.Addr, User: f.Client.User, Vendor: f.Vendor.ID,
		API: f.API, Model: f.Model, ServedModel: f.ServedModel}
}

// ModelChange is the first flow whose answer named a different served model than the one
// before it, for the same vendor and requested model: the version behind an alias changed.
type ModelChange struct {
	Vendor string
	Model  string // the requested model (the alias)
	From   string // the served model before
	To     string // the served model from this flow on
	// FlowID and Time are the first flow served by To; PrevFlowID and PrevTime the last one
	// served by From.
	FlowID     string
	Time       time.Time
	PrevFlowID string
	PrevTime   time.Time
}

// ServedModels follows, per vendor and requested model, which model the answers say served
// it, and reports each change. Feed it flows in time order (store.Filter{Oldest: true}).
// Flows that say nothing about the alias are skipped: no requested or no served model (a
// tunnel, a refused request, an answer not read, an API whose answer names no model). A
// request that names a pinned version (gpt-4o-2024-08-06) is followed the same way and
// normally never changes. During a gradual rollout a vendor may serve both versions for a
// while, and each flip is a change: a report may count changes per (From, To) pair. The zero
// value is ready to use; it is not safe for concurrent use.
type ServedModels struct {
	last map[[2]string]servedBy
}

type servedBy struct {
	model, flowID string
	t             time.Time
}

// Observe records one flow and returns the change it shows, if any.
func (s *ServedModels) Observe(u ModelUse) (ModelChange, bool) {
	if u.Model == "" || u.ServedModel == "" || u.Model == MaskedValue {
		return ModelChange{}, false
	}
	if s.last == nil {
		s.last = make(map[[2]string]servedBy)
	}
	k := [2]string{u.Vendor, u.Model}
	prev, seen := s.last[k]
	s.last[k] = servedBy{model: u.ServedModel, flowID: u.FlowID, t: u.Time}
	if !seen || prev.model == u.ServedModel {
		return ModelChange{}, false
	}
	return ModelChange{Vendor: u.Vendor, Model: u.Model, From: prev.model, To: u.ServedModel,
		FlowID: u.FlowID, Time: u.Time, PrevFlowID: prev.flowID, PrevTime: prev.t}, true
}
