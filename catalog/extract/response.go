package extract

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
)

// Answers from AI vendors, streamed or whole. A stream is assembled before anything is emitted:
// a detector handed one token per segment would never see "AKIAIOSFODNN7EXAMPLE", which arrives
// as five deltas. Assembled texts take the path the same text has in the vendor's non-streaming
// answer (response:choices[0].message.content), so a rule or a responder need not care whether
// the client streamed.

const respPrefix = "response:"

// responseFunc is the answer reader of an AI shape. Shapes without a streaming form still get
// plainResponse, so every AI answer has response: paths and drops the same bookkeeping.
func responseFunc(name string) func(contentType string, body []byte, e *emitter) {
	switch name {
	case "openai.chat", "openai.completions", "azure.openai.chat", "azure.openai.completions":
		return openAIChatResponse
	case "openai.responses", "azure.openai.responses":
		return openAIResponsesResponse
	case "anthropic.messages", "vertex.anthropic":
		return anthropicResponse
	case "gemini.generateContent", "vertex.gemini":
		return geminiResponse
	case "cohere.chat":
		return cohereResponse
	case "bedrock.converse":
		return converseResponse
	case "bedrock.invoke":
		return bedrockInvokeResponse
	}
	return plainResponse
}

// respSkipKeys are answer bookkeeping: IDs minted per response or per chunk, timestamps, and
// Bedrock's random padding field "p".
var respSkipKeys = map[string]bool{
	"id": true, "created": true, "created_at": true, "system_fingerprint": true,
	"modelVersion": true, "responseId": true, "generation_id": true, "response_id": true,
	"event_type": true, "item_id": true, "p": true,
}

// respSkipped: bookkeeping members, plus whole subtrees that only restate the answer (token
// log-probabilities) or grade it (safety ratings, usage).
func respSkipped(p []byte, key string) bool {
	if respSkipKeys[key] {
		return true
	}
	return bytes.Contains(p, []byte("logprobs")) || bytes.Contains(p, []byte("safetyRatings")) ||
		bytes.HasPrefix(p, []byte("usage")) || bytes.Contains(p, []byte(".usage"))
}

func plainResponse(contentType string, body []byte, e *emitter) {
	if aiIsJSON(contentType, body) {
		e.aiJSON(respPrefix, body, 0, true)
		return
	}
	e.byContentType("response", contentType, body, 0)
}

func respIsSSE(contentType string, body []byte) bool {
	if aiMediaType(contentType) == "text/event-stream" {
		return true
	}
	t := bytes.TrimLeft(body, " \t\r\n")
	return contentType == "" && (bytes.HasPrefix(t, []byte("data:")) || bytes.HasPrefix(t, []byte("event:")))
}

func respIsAWSStream(contentType string, body []byte) bool {
	return aiMediaType(contentType) == "application/vnd.amazon.eventstream" ||
		contentType == "" && len(body) >= 16 && body[0] == 0 // a frame length, not text
}

func isNDJSONType(contentType string) bool {
	switch aiMediaType(contentType) {
	case "application/stream+json", "application/x-ndjson", "application/jsonl", "application/x-jsonlines":
		return true
	}
	return false
}

// respAsm assembles streamed pieces by path, in the order paths first appear, under the emitter's
// byte budget and a bound on distinct paths (a hostile stream may number its choices freely).
type respAsm struct {
	e      *emitter
	parts  []*respAsmPart
	index  map[string]*respAsmPart
	bytes  int
	capped bool
}

type respAsmPart struct {
	path string
	json bool // walk the assembled bytes as JSON under path (streamed tool input)
	buf  []byte
}

const maxRespParts = 1024

func newRespAsm(e *emitter) *respAsm {
	return &respAsm{e: e, index: make(map[string]*respAsmPart)}
}

func (a *respAsm) add(path, s string)     { a.addKind(path, s, false) }
func (a *respAsm) addJSON(path, s string) { a.addKind(path, s, true) }

func (a *respAsm) addKind(path, s string, isJSON bool) {
	if s == "" || a.capped {
		return
	}
	if a.e.bytes+a.bytes+len(s) > a.e.lim.MaxBytes {
		a.capped = true
		a.e.note("response: stream larger than the extraction limit (%d bytes); the rest was not assembled", a.e.lim.MaxBytes)
		return
	}
	p := a.index[path]
	if p == nil {
		if len(a.parts) >= maxRespParts {
			a.capped = true
			a.e.note("response: more than %d streamed parts; the rest was not assembled", maxRespParts)
			return
		}
		p = &respAsmPart{path: path, json: isJSON}
		a.parts = append(a.parts, p)
		a.index[path] = p
	}
	p.buf = append(p.buf, s...)
	a.bytes += len(s)
}

// leaves is the fallback for events of no known shape: every string leaf is appended at its own
// path, which assembles any stream whose chunks repeat one layout (Titan, Llama, Nova chunks).
func (a *respAsm) leaves(prefix string, data []byte) {
	end, err := walkJSON(data, a.e.lim.MaxJSONDepth, func(p []byte, key, v string) {
		if a.e.aiSkipLeaf(p, key, v) {
			return
		}
		path := prefix + string(p)
		switch {
		case len(p) == 0:
			path = prefix + "events"
		case prefix != respPrefix && p[0] != '[':
			path = prefix + "." + string(p)
		}
		a.add(path, v)
	})
	if err != nil {
		// A stream cut mid-event still holds text (half a key is worth scanning).
		a.add(respPrefix+"events", string(data[min(end, len(data)):])+"\n")
	}
}

func (a *respAsm) flush() {
	for _, p := range a.parts {
		if p.json {
			a.e.aiJSON(p.path, p.buf, 0, true)
		} else {
			a.e.text(p.path, string(p.buf), 0)
		}
	}
	a.parts, a.index = nil, nil
}

func respItoa(i int) string { return strconv.Itoa(i) }

// respSSE runs fn over the JSON data of each event in an SSE stream ([DONE] and blanks
// dropped), stopping once the emitter is full.
func respSSE(e *emitter, body []byte, fn func(data []byte)) {
	for _, ev := range splitSSE(body) {
		if e.full {
			return
		}
		t := bytes.TrimSpace(ev)
		if len(t) == 0 || string(t) == "[DONE]" {
			continue
		}
		fn(t)
	}
}

// ---- OpenAI chat completions (and legacy completions) ----

type oaChunk struct {
	Choices []struct {
		Index int    `json:"index"`
		Text  string `json:"text"`
		Delta struct {
			Content          json.RawMessage `json:"content"`
			Refusal          string          `json:"refusal"`
			ReasoningContent string          `json:"reasoning_content"`
			Reasoning        string          `json:"reasoning"`
			ToolCalls        []struct {
				Index    int `json:"index"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
			FunctionCall *struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function_call"`
		} `json:"delta"`
	} `json:"choices"`
	Model string          `json:"model"`
	Error json.RawMessage `json:"error"`
}

func openAIChatResponse(contentType string, body []byte, e *emitter) {
	if !respIsSSE(contentType, body) {
		plainResponse(contentType, body, e)
		return
	}
	a := newRespAsm(e)
	respSSE(e, body, func(data []byte) {
		var c oaChunk
		if err := json.Unmarshal(data, &c); err != nil {
			a.leaves(respPrefix, data)
			return
		}
		e.served(c.Model)
		for _, ch := range c.Choices {
			p := respPrefix + "choices[" + respItoa(ch.Index) + "]"
			a.add(p+".text", ch.Text)
			m := p + ".message"
			d := &ch.Delta
			switch {
			case len(d.Content) > 0 && d.Content[0] == '"':
				var s string
				if json.Unmarshal(d.Content, &s) == nil {
					a.add(m+".content", s)
				}
			case len(d.Content) > 0 && d.Content[0] != 'n':
				// Content parts (Mistral's thinking chunks): assemble each part's leaves.
				a.leaves(m+".content", d.Content)
			}
			a.add(m+".refusal", d.Refusal)
			a.add(m+".reasoning_content", d.ReasoningContent)
			a.add(m+".reasoning", d.Reasoning)
			for _, tc := range d.ToolCalls {
				tp := m + ".tool_calls[" + respItoa(tc.Index) + "].function"
				a.add(tp+".name", tc.Function.Name)
				a.add(tp+".arguments", tc.Function.Arguments)
			}
			if fc := d.FunctionCall; fc != nil {
				a.add(m+".function_call.name", fc.Name)
				a.add(m+".function_call.arguments", fc.Arguments)
			}
		}
		if respHasValue(c.Error) {
			e.aiJSON(respPrefix+"error", c.Error, 0, true)
		}
	})
	a.flush()
}

func respHasValue(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// ---- OpenAI Responses API ----

type rsEvent struct {
	Type         string `json:"type"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	SummaryIndex int    `json:"summary_index"`
	Delta        string `json:"delta"`
	Item         struct {
		Name string `json:"name"`
	} `json:"item"`
	Response struct {
		Model string          `json:"model"`
		Error json.RawMessage `json:"error"`
	} `json:"response"`
}

func openAIResponsesResponse(contentType string, body []byte, e *emitter) {
	if !respIsSSE(contentType, body) {
		plainResponse(contentType, body, e)
		return
	}
	a := newRespAsm(e)
	respSSE(e, body, func(data []byte) {
		var ev rsEvent
		if err := json.Unmarshal(data, &ev); err != nil || ev.Type == "" {
			a.leaves(respPrefix, data)
			return
		}
		// response.created, .in_progress and .completed carry the response, with its model.
		e.served(ev.Response.Model)
		out := respPrefix + "output[" + respItoa(ev.OutputIndex) + "]"
		content := out + ".content[" + respItoa(ev.ContentIndex) + "]"
		switch ev.Type {
		case "response.output_text.delta", "response.reasoning_text.delta":
			a.add(content+".text", ev.Delta)
		case "response.refusal.delta":
			a.add(content+".refusal", ev.Delta)
		case "response.reasoning_summary_text.delta":
			a.add(out+".summary["+respItoa(ev.SummaryIndex)+"].text", ev.Delta)
		case "response.function_call_arguments.delta", "response.mcp_call_arguments.delta", "response.mcp_call.arguments.delta":
			a.add(out+".arguments", ev.Delta)
		case "response.custom_tool_call_input.delta":
			a.add(out+".input", ev.Delta)
		case "response.code_interpreter_call_code.delta":
			a.add(out+".code", ev.Delta)
		case "response.audio.transcript.delta", "response.output_audio_transcript.delta":
			a.add(respPrefix+"output_audio.transcript", ev.Delta)
		case "response.output_item.added":
			a.add(out+".name", ev.Item.Name)
		case "error":
			e.aiJSON(respPrefix+"error", data, 0, true)
		case "response.failed", "response.incomplete":
			if respHasValue(ev.Response.Error) {
				e.aiJSON(respPrefix+"error", ev.Response.Error, 0, true)
			}
		}
		// Every other event restates what the deltas carried (…done, response.completed) or
		// echoes the request (response.created): skipped, or each text would count twice.
	})
	a.flush()
}

// ---- Anthropic Messages (also Vertex rawPredict and Bedrock invoke for Claude) ----

type anEvent struct {
	Type         string          `json:"type"`
	Index        int             `json:"index"`
	ContentBlock json.RawMessage `json:"content_block"`
	Message      struct {
		Model string `json:"model"`
	} `json:"message"` // message_start
	Delta struct {
		Type        string          `json:"type"`
		Text        string          `json:"text"`
		PartialJSON string          `json:"partial_json"`
		Thinking    string          `json:"thinking"`
		Citation    json.RawMessage `json:"citation"`
	} `json:"delta"`
	Error json.RawMessage `json:"error"`
}

type anBlock struct {
	Type     string          `json:"type"`
	Name     string          `json:"name"`
	Text     string          `json:"text"`
	Thinking string          `json:"thinking"`
	Input    json.RawMessage `json:"input"`
}

// anthropicStream follows one Anthropic event stream, assembling each content block.
type anthropicStream struct {
	e         *emitter
	a         *respAsm
	citations map[int]int
}

func newAnthropicStream(e *emitter, a *respAsm) *anthropicStream {
	return &anthropicStream{e: e, a: a, citations: make(map[int]int)}
}

// event handles one event and reports whether it was an Anthropic event at all.
func (s *anthropicStream) event(data []byte) bool {
	var ev anEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.Type == "" {
		return false
	}
	a := s.a
	block := respPrefix + "content[" + respItoa(ev.Index) + "]"
	switch ev.Type {
	case "message_start":
		s.e.served(ev.Message.Model)
	case "content_block_start":
		var b anBlock
		if json.Unmarshal(ev.ContentBlock, &b) != nil {
			a.leaves(block, ev.ContentBlock)
			return true
		}
		switch b.Type {
		case "text", "thinking", "tool_use", "server_tool_use", "mcp_tool_use":
			a.add(block+".name", b.Name)
			a.add(block+".text", b.Text)
			a.add(block+".thinking", b.Thinking)
			if t := bytes.TrimSpace(b.Input); len(t) > 0 && string(t) != "{}" && string(t) != "null" {
				a.addJSON(block+".input", string(t))
			}
		default:
			// Blocks that arrive whole (web search results, redacted thinking).
			a.addJSON(block, string(ev.ContentBlock))
		}
	case "content_block_delta":
		switch ev.Delta.Type {
		case "text_delta":
			a.add(block+".text", ev.Delta.Text)
		case "input_json_delta":
			a.addJSON(block+".input", ev.Delta.PartialJSON)
		case "thinking_delta":
			a.add(block+".thinking", ev.Delta.Thinking)
		case "citations_delta":
			if respHasValue(ev.Delta.Citation) {
				n := s.citations[ev.Index]
				s.citations[ev.Index] = n + 1
				a.addJSON(block+".citations["+respItoa(n)+"]", string(ev.Delta.Citation))
			}
		}
	case "error":
		if respHasValue(ev.Error) {
			s.e.aiJSON(respPrefix+"error", ev.Error, 0, true)
		}
	}
	return true
}

func anthropicResponse(contentType string, body []byte, e *emitter) {
	if !respIsSSE(contentType, body) {
		plainResponse(contentType, body, e)
		return
	}
	a := newRespAsm(e)
	s := newAnthropicStream(e, a)
	respSSE(e, body, func(data []byte) {
		if !s.event(data) {
			a.leaves(respPrefix, data)
		}
	})
	a.flush()
}

// ---- Gemini generateContent / streamGenerateContent (also Vertex) ----

type gmChunk struct {
	Candidates []struct {
		Index   *int `json:"index"`
		Content struct {
			Parts []json.RawMessage `json:"parts"`
		} `json:"content"`
	} `json:"candidates"`
	ModelVersion string          `json:"modelVersion"`
	Error        json.RawMessage `json:"error"`
}

type gmPart struct {
	Text    *string `json:"text"`
	Thought bool    `json:"thought"`
}

type gmCandidate struct {
	parts int
	last  int // kind of the last part: 0 answer text, 1 thought text, -1 anything else
}

// geminiStream rebuilds each candidate's parts as the non-streaming answer has them: consecutive
// text chunks of one kind (thought or answer) join into one part; other parts stand alone.
type geminiStream struct {
	e     *emitter
	a     *respAsm
	cands map[int]*gmCandidate
}

func (g *geminiStream) chunk(data []byte) {
	var c gmChunk
	if err := json.Unmarshal(data, &c); err != nil {
		g.a.leaves(respPrefix, data)
		return
	}
	g.e.served(c.ModelVersion)
	for i, cand := range c.Candidates {
		idx := i
		if cand.Index != nil {
			idx = *cand.Index
		}
		st := g.cands[idx]
		if st == nil {
			if len(g.cands) >= maxRespParts {
				continue
			}
			st = &gmCandidate{last: -1}
			g.cands[idx] = st
		}
		base := respPrefix + "candidates[" + respItoa(idx) + "].content.parts["
		for _, raw := range cand.Content.Parts {
			var p gmPart
			if json.Unmarshal(raw, &p) == nil && p.Text != nil {
				kind := 0
				if p.Thought {
					kind = 1
				}
				if st.last != kind {
					st.parts++
					st.last = kind
				}
				g.a.add(base+respItoa(st.parts-1)+"].text", *p.Text)
				continue
			}
			st.parts++
			st.last = -1
			g.a.addJSON(base+respItoa(st.parts-1)+"]", string(raw))
		}
	}
	if respHasValue(c.Error) {
		g.e.aiJSON(respPrefix+"error", c.Error, 0, true)
	}
}

func geminiResponse(contentType string, body []byte, e *emitter) {
	g := &geminiStream{e: e, a: newRespAsm(e), cands: make(map[int]*gmCandidate)}
	switch t := bytes.TrimLeft(body, " \t\r\n"); {
	case respIsSSE(contentType, body):
		// ?alt=sse
		respSSE(e, body, g.chunk)
	case len(t) > 0 && t[0] == '[':
		// Without alt=sse the stream is one JSON array, sent element by element.
		respJSONArray(e, t, g.chunk)
	default:
		plainResponse(contentType, body, e)
		return
	}
	g.a.flush()
}

// respJSONArray runs fn over each element of a JSON array; a truncated array yields the
// elements before the cut and a note.
func respJSONArray(e *emitter, data []byte, fn func([]byte)) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		e.note("response: %v", err)
		return
	}
	for dec.More() && !e.full {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			e.note("response: stream element: %v", err)
			return
		}
		fn(raw)
	}
}

// ---- Cohere chat (v2 SSE events, v1 NDJSON events) ----

type coEvent struct {
	Type  string `json:"type"`
	Index int    `json:"index"`
	Delta struct {
		Message struct {
			Content   json.RawMessage `json:"content"`
			ToolPlan  string          `json:"tool_plan"`
			ToolCalls json.RawMessage `json:"tool_calls"`
		} `json:"message"`
	} `json:"delta"`
	EventType string          `json:"event_type"`
	Text      string          `json:"text"`
	ToolCalls json.RawMessage `json:"tool_calls"`
}

func cohereResponse(contentType string, body []byte, e *emitter) {
	var each func(*emitter, []byte, func([]byte))
	switch {
	case respIsSSE(contentType, body):
		each = respSSE
	case isNDJSONType(contentType):
		each = respLines
	default:
		plainResponse(contentType, body, e)
		return
	}
	a := newRespAsm(e)
	each(e, body, func(data []byte) {
		var ev coEvent
		if err := json.Unmarshal(data, &ev); err != nil || ev.Type == "" && ev.EventType == "" {
			a.leaves(respPrefix, data)
			return
		}
		msg := respPrefix + "message"
		switch ev.Type {
		case "content-start", "content-delta":
			if c := ev.Delta.Message.Content; len(c) > 0 && c[0] == '{' {
				var part struct{ Text, Thinking string }
				if json.Unmarshal(c, &part) == nil {
					p := msg + ".content[" + respItoa(ev.Index) + "]"
					a.add(p+".text", part.Text)
					a.add(p+".thinking", part.Thinking)
				}
			}
		case "tool-plan-delta":
			a.add(msg+".tool_plan", ev.Delta.Message.ToolPlan)
		case "tool-call-start", "tool-call-delta":
			if c := ev.Delta.Message.ToolCalls; len(c) > 0 && c[0] == '{' {
				var tc struct {
					Function struct{ Name, Arguments string }
				}
				if json.Unmarshal(c, &tc) == nil {
					p := msg + ".tool_calls[" + respItoa(ev.Index) + "].function"
					a.add(p+".name", tc.Function.Name)
					a.add(p+".arguments", tc.Function.Arguments)
				}
			}
		}
		switch ev.EventType {
		case "text-generation":
			a.add(respPrefix+"text", ev.Text)
		case "tool-calls-generation":
			if respHasValue(ev.ToolCalls) {
				a.addJSON(respPrefix+"tool_calls", string(ev.ToolCalls))
			}
		}
		// Citations quote the request's documents, and the end events restate the answer.
	})
	a.flush()
}

func respLines(e *emitter, body []byte, fn func([]byte)) {
	for len(body) > 0 && !e.full {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			fn(line)
		}
	}
}

// ---- Bedrock (AWS event-stream framing) ----

type cvEvent struct {
	ContentBlockIndex int `json:"contentBlockIndex"`
	Start             struct {
		ToolUse *struct {
			Name string `json:"name"`
		} `json:"toolUse"`
	} `json:"start"`
	Delta struct {
		Text    *string `json:"text"`
		ToolUse *struct {
			Input string `json:"input"`
		} `json:"toolUse"`
		ReasoningContent *struct {
			Text string `json:"text"`
		} `json:"reasoningContent"`
	} `json:"delta"`
}

func converseResponse(contentType string, body []byte, e *emitter) {
	if !respIsAWSStream(contentType, body) {
		plainResponse(contentType, body, e)
		return
	}
	a := newRespAsm(e)
	err := eachEventStreamFrame(body, func(msgType, evType string, payload []byte) {
		switch {
		case e.full:
		case msgType == "exception" || msgType == "error":
			e.aiJSON(respPrefix+evType, payload, 0, true)
		case evType == "contentBlockStart" || evType == "contentBlockDelta":
			var ev cvEvent
			if json.Unmarshal(payload, &ev) != nil {
				a.leaves(respPrefix, payload)
				return
			}
			p := respPrefix + "output.message.content[" + respItoa(ev.ContentBlockIndex) + "]"
			if tu := ev.Start.ToolUse; tu != nil {
				a.add(p+".toolUse.name", tu.Name)
			}
			if t := ev.Delta.Text; t != nil {
				a.add(p+".text", *t)
			}
			if tu := ev.Delta.ToolUse; tu != nil {
				a.addJSON(p+".toolUse.input", tu.Input)
			}
			if rc := ev.Delta.ReasoningContent; rc != nil {
				a.add(p+".reasoningContent.reasoningText.text", rc.Text)
			}
		case evType == "":
			a.leaves(respPrefix, payload)
		}
		// messageStart, contentBlockStop, messageStop and metadata carry no text.
	})
	a.flush()
	if err != nil {
		e.note("response: event stream: %v", err)
	}
}

// bedrockInvokeResponse reads InvokeModel answers: the model provider's JSON, or for
// invoke-with-response-stream event-stream frames whose payload {"bytes": base64} holds one
// provider event (Anthropic's for Claude).
func bedrockInvokeResponse(contentType string, body []byte, e *emitter) {
	if !respIsAWSStream(contentType, body) {
		plainResponse(contentType, body, e)
		return
	}
	a := newRespAsm(e)
	an := newAnthropicStream(e, a)
	err := eachEventStreamFrame(body, func(msgType, evType string, payload []byte) {
		if e.full {
			return
		}
		if msgType == "exception" || msgType == "error" {
			e.aiJSON(respPrefix+evType, payload, 0, true)
			return
		}
		var chunk struct {
			Bytes string `json:"bytes"`
		}
		if json.Unmarshal(payload, &chunk) != nil || chunk.Bytes == "" {
			a.leaves(respPrefix, payload)
			return
		}
		data, err := decodeBase64(chunk.Bytes)
		if err != nil {
			e.note("response: event stream chunk: invalid base64")
			a.add(respPrefix+"events", chunk.Bytes+"\n")
			return
		}
		if !an.event(data) {
			a.leaves(respPrefix, data)
		}
	})
	a.flush()
	if err != nil {
		e.note("response: event stream: %v", err)
	}
}

// eachEventStreamFrame walks AWS event-stream messages: total length, headers length, prelude
// CRC, headers, payload, message CRC. CRCs are not checked: a corrupt frame is still worth
// reading, and the framing lengths bound every slice.
func eachEventStreamFrame(body []byte, fn func(msgType, evType string, payload []byte)) error {
	for off := 0; len(body) > 0; {
		if len(body) < 16 {
			return fmt.Errorf("truncated frame at offset %d", off)
		}
		total := binary.BigEndian.Uint32(body[0:4])
		hlen := binary.BigEndian.Uint32(body[4:8])
		if total < 16 || uint64(total) > uint64(len(body)) || uint64(hlen) > uint64(total)-16 {
			return fmt.Errorf("bad frame lengths at offset %d", off)
		}
		msgType, evType := eventStreamHeaders(body[12 : 12+hlen])
		fn(msgType, evType, body[12+hlen:total-4])
		body = body[total:]
		off += int(total)
	}
	return nil
}

// eventStreamHeaders returns the :message-type and the :event-type (or :exception-type).
func eventStreamHeaders(h []byte) (msgType, evType string) {
	for len(h) > 0 {
		n := int(h[0])
		if len(h) < 1+n+1 {
			return
		}
		name := string(h[1 : 1+n])
		typ := h[1+n]
		h = h[2+n:]
		var size int
		switch typ {
		case 0, 1:
		case 2:
			size = 1
		case 3:
			size = 2
		case 4:
			size = 4
		case 5, 8:
			size = 8
		case 9:
			size = 16
		case 6, 7:
			if len(h) < 2 {
				return
			}
			size = int(binary.BigEndian.Uint16(h))
			h = h[2:]
		default:
			return
		}
		if len(h) < size {
			return
		}
		if typ == 7 {
			switch name {
			case ":message-type":
				msgType = string(h[:size])
			case ":event-type", ":exception-type", ":error-code":
				evType = string(h[:size])
			}
		}
		h = h[size:]
	}
	return
}
