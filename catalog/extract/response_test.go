package extract_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/internal/golden"
)

// sse renders events as a vendor sends them: "event:" lines where the vendor names its events,
// "data:" lines, blank line between events.
func sseStream(events ...string) []byte {
	var b strings.Builder
	for _, ev := range events {
		if name, data, ok := strings.Cut(ev, "\n"); ok && !strings.HasPrefix(name, "{") {
			b.WriteString("event: " + name + "\n")
			ev = data
		}
		b.WriteString("data: " + ev + "\n\n")
	}
	return []byte(b.String())
}

// awsFrame encodes one AWS event-stream message with its string headers and CRCs, as Bedrock
// sends converse-stream and invoke-with-response-stream answers.
func awsFrame(headers [][2]string, payload []byte) []byte {
	var h bytes.Buffer
	for _, kv := range headers {
		h.WriteByte(byte(len(kv[0])))
		h.WriteString(kv[0])
		h.WriteByte(7)
		_ = binary.Write(&h, binary.BigEndian, uint16(len(kv[1])))
		h.WriteString(kv[1])
	}
	total := 12 + h.Len() + len(payload) + 4
	var m bytes.Buffer
	_ = binary.Write(&m, binary.BigEndian, uint32(total))
	_ = binary.Write(&m, binary.BigEndian, uint32(h.Len()))
	_ = binary.Write(&m, binary.BigEndian, crc32.ChecksumIEEE(m.Bytes()))
	m.Write(h.Bytes())
	m.Write(payload)
	_ = binary.Write(&m, binary.BigEndian, crc32.ChecksumIEEE(m.Bytes()))
	return m.Bytes()
}

func awsEvents(events ...[2]string) []byte {
	var out []byte
	for _, ev := range events {
		out = append(out, awsFrame([][2]string{{":event-type", ev[0]}, {":content-type", "application/json"}, {":message-type", "event"}}, []byte(ev[1]))...)
	}
	return out
}

// invokeChunks wraps provider events as invoke-with-response-stream does: {"bytes": base64}.
func invokeChunks(events ...string) []byte {
	var out []byte
	for _, ev := range events {
		payload, _ := json.Marshal(map[string]string{"bytes": base64.StdEncoding.EncodeToString([]byte(ev)), "p": "abcdefghijklmnopqrstuvwxyzABCDEF"})
		out = append(out, awsFrame([][2]string{{":event-type", "chunk"}, {":content-type", "application/json"}, {":message-type", "event"}}, payload)...)
	}
	return out
}

type responseCase struct {
	name, api, contentType string
	body                   []byte
}

// responseCases are answers as the vendors stream or send them. Secrets are split across
// deltas on purpose: only an assembled text shows them whole.
var responseCases = []responseCase{
	{"openai-chat-stream", "openai.chat", "text/event-stream; charset=utf-8", sseStream(
		`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}`,
		`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":{"content":"Rotate the key "},"logprobs":null,"finish_reason":null}]}`,
		`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":{"content":"AKIA"},"logprobs":null,"finish_reason":null}]}`,
		`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":{"content":"IOSFODNN7"},"logprobs":null,"finish_reason":null}]}`,
		`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":{"content":"EXAMPLE now, then run:\n    aws configure"},"logprobs":null,"finish_reason":null}]}`,
		`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`,
		`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[],"usage":{"prompt_tokens":31,"completion_tokens":24,"total_tokens":55}}`,
		`[DONE]`)},
	{"openai-chat-stream-tools", "openai.chat", "text/event-stream", sseStream(
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"send_email","arguments":""}}]},"finish_reason":null}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"to\": \"dana.whit"}}]},"finish_reason":null}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"field@northwind-example.com\", \"subject\": \"Your"}}]},"finish_reason":null}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" new password\"}"}}]},"finish_reason":null}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Q2wT9yLm3KcV8bNx1ZsR4pJf","type":"function","function":{"name":"create_ticket","arguments":"{\"title\":"}}]},"finish_reason":null}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"Reset VPN\"}"}}]},"finish_reason":null}]}`,
		`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`[DONE]`)},
	{"openai-chat-json", "openai.chat", "application/json", []byte(`{
  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Your connection string contains the password Tr0ub4dor&3-prod-2025!; move it to a secret store.",
        "refusal": null,
        "tool_calls": [
          {"id": "call_abc123", "type": "function", "function": {"name": "open_ticket", "arguments": "{\"owner\":\"dana.whitfield@northwind-example.com\"}"}}
        ],
        "annotations": []
      },
      "logprobs": {"content": [{"token": "Your", "logprob": -0.1, "bytes": [89, 111, 117, 114], "top_logprobs": []}]},
      "finish_reason": "stop"
    }
  ],
  "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29, "completion_tokens_details": {"reasoning_tokens": 0}},
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}`)},
	{"azure-chat-stream", "azure.openai.chat", "text/event-stream", sseStream(
		`{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"}}}]}`,
		`{"choices":[{"content_filter_results":{},"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570100,"id":"chatcmpl-AzX","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_b705f0c291"}`,
		`{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"The VPN ticket #5521"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570100,"id":"chatcmpl-AzX","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_b705f0c291"}`,
		`{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":" is assigned to network ops."},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570100,"id":"chatcmpl-AzX","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_b705f0c291"}`,
		`[DONE]`)},
	{"deepseek-reasoning-stream", "openai.chat", "text/event-stream; charset=utf-8", sseStream(
		`{"id":"5c9ef3a1","object":"chat.completion.chunk","created":1741570200,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"The user pasted "},"logprobs":null,"finish_reason":null}]}`,
		`{"id":"5c9ef3a1","object":"chat.completion.chunk","created":1741570200,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"a secret key wJalrXUtnFEMI/K7MDENG/"},"logprobs":null,"finish_reason":null}]}`,
		`{"id":"5c9ef3a1","object":"chat.completion.chunk","created":1741570200,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"bPxRfiCYEXAMPLEKEY."},"logprobs":null,"finish_reason":null}]}`,
		`{"id":"5c9ef3a1","object":"chat.completion.chunk","created":1741570200,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"Please revoke that key.","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}]}`,
		`[DONE]`)},
	{"openai-completions-stream", "openai.completions", "text/event-stream", sseStream(
		`{"id":"cmpl-1","object":"text_completion","created":1741570300,"choices":[{"text":" rotate","index":0,"logprobs":null,"finish_reason":null}],"model":"gpt-3.5-turbo-instruct"}`,
		`{"id":"cmpl-1","object":"text_completion","created":1741570300,"choices":[{"text":" it with boto3","index":0,"logprobs":null,"finish_reason":"length"}],"model":"gpt-3.5-turbo-instruct"}`,
		`[DONE]`)},
	{"openai-responses-stream", "openai.responses", "text/event-stream; charset=utf-8", sseStream(
		"response.created\n"+`{"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","instructions":"Be brief. Never repeat credentials verbatim.","model":"gpt-4.1-2025-04-14","output":[],"tools":[]}}`,
		"response.output_item.added\n"+`{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}`,
		"response.reasoning_summary_text.delta\n"+`{"type":"response.reasoning_summary_text.delta","sequence_number":2,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Looking up the ticket"}`,
		"response.reasoning_summary_text.delta\n"+`{"type":"response.reasoning_summary_text.delta","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":" INC-20931."}`,
		"response.output_item.added\n"+`{"type":"response.output_item.added","sequence_number":4,"output_index":1,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}`,
		"response.content_part.added\n"+`{"type":"response.content_part.added","sequence_number":5,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}`,
		"response.output_text.delta\n"+`{"type":"response.output_text.delta","sequence_number":6,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hi Dana, the key AKIAIOSF"}`,
		"response.output_text.delta\n"+`{"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"ODNN7EXAMPLE has been disabled."}`,
		"response.output_text.done\n"+`{"type":"response.output_text.done","sequence_number":8,"item_id":"msg_1","output_index":1,"content_index":0,"text":"Hi Dana, the key AKIAIOSFODNN7EXAMPLE has been disabled."}`,
		"response.output_item.added\n"+`{"type":"response.output_item.added","sequence_number":9,"output_index":2,"item":{"id":"fc_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_2","name":"notify"}}`,
		"response.function_call_arguments.delta\n"+`{"type":"response.function_call_arguments.delta","sequence_number":10,"item_id":"fc_1","output_index":2,"delta":"{\"to\":\"dana.whitfield@"}`,
		"response.function_call_arguments.delta\n"+`{"type":"response.function_call_arguments.delta","sequence_number":11,"item_id":"fc_1","output_index":2,"delta":"northwind-example.com\"}"}`,
		"response.completed\n"+`{"type":"response.completed","sequence_number":12,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","status":"completed","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Hi Dana, the key AKIAIOSFODNN7EXAMPLE has been disabled.","annotations":[]}]}],"usage":{"input_tokens":37,"output_tokens":11,"total_tokens":48}}}`)},
	{"openai-responses-json", "openai.responses", "application/json", []byte(`{"id":"resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41","object":"response","created_at":1741476777,"status":"completed","error":null,"instructions":null,"model":"gpt-4o-2024-08-06","output":[{"type":"message","id":"msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41","status":"completed","role":"assistant","content":[{"type":"output_text","text":"The image shows a floor plan; the Wi-Fi password on the whiteboard reads Winter2025!vpn.","annotations":[]}]}],"parallel_tool_calls":true,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":328,"output_tokens":52,"total_tokens":380},"user":null,"metadata":{}}`)},
	{"anthropic-stream", "anthropic.messages", "text/event-stream; charset=utf-8", sseStream(
		"message_start\n"+`{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"model":"claude-3-7-sonnet-20250219","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2}}}`,
		"content_block_start\n"+`{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The code has a hard-coded password "}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Tr0ub4dor&3-prod-2025!"}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":0}`,
		"content_block_start\n"+`{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`,
		"ping\n"+`{"type": "ping"}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Move the password to "}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Vault and rotate it."}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":1}`,
		"content_block_start\n"+`{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"open_ticket","input":{}}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"owner\": \"dana.whitfield@north"}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"wind-example.com\", \"type\": \"secret-rotation\"}"}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":2}`,
		"message_delta\n"+`{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}`,
		"message_stop\n"+`{"type":"message_stop"}`)},
	{"anthropic-stream-truncated", "anthropic.messages", "text/event-stream", sseStream(
		"message_start\n"+`{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-3-5-haiku-20241022"}}`,
		"content_block_start\n"+`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01","name":"run_sql","input":{}}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"SELECT email FROM users WHERE password = 'hun"}}`)},
	{"anthropic-error", "anthropic.messages", "text/event-stream", sseStream(
		"error\n" + `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`)},
	{"anthropic-json", "anthropic.messages", "application/json", []byte(`{"id":"msg_01EcyWo6m4hyW8KHs2y2pei5","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219","content":[{"type":"text","text":"I'll check the logs for billing_svc."},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"query_logs","input":{"service":"billing","type":"auth","contact":"dana.whitfield@northwind-example.com"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":2095,"output_tokens":503}}`)},
	{"gemini-sse", "gemini.generateContent", "text/event-stream", []byte(
		"data: " + `{"candidates": [{"content": {"parts": [{"text": "**Checking the floor plan** I see a whiteboard","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 258,"totalTokenCount": 258},"modelVersion": "gemini-2.5-flash","responseId": "mwzWaNHxGPnunvgP0Pry0Qo"}` + "\r\n\r\n" +
			"data: " + `{"candidates": [{"content": {"parts": [{"text": " with credentials.","thought": true}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-flash","responseId": "mwzWaNHxGPnunvgP0Pry0Qo"}` + "\r\n\r\n" +
			"data: " + `{"candidates": [{"content": {"parts": [{"text": "It is raining in Lisbon (19 °C). The whiteboard shows the password "}],"role": "model"},"index": 0,"safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT","probability": "NEGLIGIBLE"}]}],"modelVersion": "gemini-2.5-flash","responseId": "mwzWaNHxGPnunvgP0Pry0Qo"}` + "\r\n\r\n" +
			"data: " + `{"candidates": [{"content": {"parts": [{"text": "Winter2025!vpn, which should be erased.","thoughtSignature": "CiQB0e2Kb0Ry+VgEXAMPLEsignature=="}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-flash","responseId": "mwzWaNHxGPnunvgP0Pry0Qo"}` + "\r\n\r\n" +
			"data: " + `{"candidates": [{"content": {"parts": [{"functionCall": {"name": "file_ticket","args": {"summary": "Erase whiteboard password","reporter": "dana.whitfield@northwind-example.com"}}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 258,"candidatesTokenCount": 40,"totalTokenCount": 298},"modelVersion": "gemini-2.5-flash","responseId": "mwzWaNHxGPnunvgP0Pry0Qo"}` + "\r\n\r\n")},
	{"gemini-array", "vertex.gemini", "application/json; charset=UTF-8", []byte(`[{
  "candidates": [{"content": {"role": "model","parts": [{"text": "Label: billing. The customer Dana"}]}}],
  "usageMetadata": {"trafficType": "ON_DEMAND"},
  "modelVersion": "gemini-2.0-flash-001",
  "createTime": "2025-03-12T10:15:30.123456Z",
  "responseId": "Qv7RZ-CjBMWgmecP0LHp4Ao"
}
,
{
  "candidates": [{"content": {"role": "model","parts": [{"text": " Whitfield reports card 4242 charged twice."}]},"finishReason": "STOP","avgLogprobs": -0.05}],
  "usageMetadata": {"promptTokenCount": 40,"candidatesTokenCount": 17,"totalTokenCount": 57},
  "modelVersion": "gemini-2.0-flash-001",
  "responseId": "Qv7RZ-CjBMWgmecP0LHp4Ao"
}
]`)},
	{"gemini-json", "gemini.generateContent", "application/json; charset=UTF-8", []byte(`{
  "candidates": [
    {
      "content": {"parts": [{"text": "Ledger entry 4471 matches the receipt; forward it to dana.whitfield@northwind-example.com."}], "role": "model"},
      "finishReason": "STOP",
      "citationMetadata": {"citationSources": [{"startIndex": 0, "endIndex": 20, "uri": "https://wiki.northwind.example/finance/ledger"}]},
      "avgLogprobs": -0.12
    }
  ],
  "usageMetadata": {"promptTokenCount": 1041, "candidatesTokenCount": 22, "totalTokenCount": 1063},
  "modelVersion": "gemini-2.0-flash"
}`)},
	{"cohere-v2-stream", "cohere.chat", "text/event-stream", sseStream(
		"message-start\n"+`{"id":"29f14a5a-11de-4cae-9800-25e4747408ea","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}`,
		"tool-plan-delta\n"+`{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will look up "}}}`,
		"tool-plan-delta\n"+`{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"the Dublin leave policy."}}}`,
		"tool-call-start\n"+`{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"search_hr_wiki_9n3c","type":"function","function":{"name":"search_hr_wiki","arguments":""}}}}}`,
		"tool-call-delta\n"+`{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\"query\": \"parental"}}}}}`,
		"tool-call-delta\n"+`{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":" leave Dublin\"}"}}}}}`,
		"tool-call-end\n"+`{"type":"tool-call-end","index":0}`,
		"content-start\n"+`{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}`,
		"content-delta\n"+`{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"26 weeks paid; ask hr-ie@"}}}}`,
		"content-delta\n"+`{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"northwind-example.com."}}}}`,
		"citation-start\n"+`{"type":"citation-start","index":0,"delta":{"message":{"citations":{"start":0,"end":14,"text":"26 weeks paid","sources":[{"type":"document","id":"doc-1","document":{"snippet":"26 weeks paid"}}]}}}}`,
		"content-end\n"+`{"type":"content-end","index":0}`,
		"message-end\n"+`{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":120,"output_tokens":14}}}}`)},
	{"cohere-v1-stream", "cohere.chat", "application/stream+json", []byte(
		`{"is_finished":false,"event_type":"stream-start","generation_id":"d686011c-e1bb-41c1-9964-823d9b94d394"}` + "\n" +
			`{"is_finished":false,"event_type":"text-generation","text":"The prospect dana.whitfield"}` + "\n" +
			`{"is_finished":false,"event_type":"text-generation","text":"@northwind-example.com has a EUR 40k budget."}` + "\n" +
			`{"is_finished":true,"event_type":"stream-end","response":{"response_id":"r1","text":"The prospect dana.whitfield@northwind-example.com has a EUR 40k budget.","generation_id":"d686011c"},"finish_reason":"COMPLETE"}` + "\n")},
	{"cohere-v2-json", "cohere.chat", "application/json", []byte(`{"id":"c14c80c3-18eb-4519-9460-6c92edd8cfb4","message":{"role":"assistant","content":[{"type":"text","text":"Parental leave in Dublin is 26 weeks paid."}],"citations":[{"start":27,"end":40,"text":"26 weeks paid","sources":[{"type":"document","id":"doc-1","document":{"id":"doc-1","snippet":"26 weeks paid"}}]}]},"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":5,"output_tokens":11},"tokens":{"input_tokens":71,"output_tokens":11}}}`)},
	{"bedrock-converse-stream", "bedrock.converse", "application/vnd.amazon.eventstream", awsEvents(
		[2]string{"messageStart", `{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ","role":"assistant"}`},
		[2]string{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hi Dana, please complete the security "},"p":"abcdefghijk"}`},
		[2]string{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"training by Friday."},"p":"abcdefghijklmnopqrstu"}`},
		[2]string{"contentBlockStop", `{"contentBlockIndex":0,"p":"abcd"}`},
		[2]string{"contentBlockStart", `{"contentBlockIndex":1,"p":"abcdef","start":{"toolUse":{"name":"send_email","toolUseId":"tooluse_Ab3dEf6hIj9kLm2nOp5qRs"}}}`},
		[2]string{"contentBlockDelta", `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"to\": \"dana.whitfield@"}},"p":"ab"}`},
		[2]string{"contentBlockDelta", `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"northwind-example.com\"}"}},"p":"abcdefgh"}`},
		[2]string{"contentBlockStop", `{"contentBlockIndex":1,"p":"abcdefghijklmnopqrs"}`},
		[2]string{"messageStop", `{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS","stopReason":"tool_use"}`},
		[2]string{"metadata", `{"metrics":{"latencyMs":812},"p":"abcdefghijklmnopqrstuvwxyzABCDEF","usage":{"inputTokens":41,"outputTokens":37,"totalTokens":78}}`})},
	{"bedrock-converse-json", "bedrock.converse", "application/json", []byte(`{"metrics":{"latencyMs":1203},"output":{"message":{"content":[{"text":"Invoice total EUR 1,240.00; IBAN GB82 WEST 1234 5698 7654 32."}],"role":"assistant"}},"stopReason":"end_turn","usage":{"inputTokens":1533,"outputTokens":24,"totalTokens":1557}}`)},
	{"bedrock-invoke-stream", "bedrock.invoke", "application/vnd.amazon.eventstream", invokeChunks(
		`{"type":"message_start","message":{"id":"msg_bdrk_01","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219","content":[],"stop_reason":null}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Don't commit it: the password "}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Tr0ub4dor&3-prod-2025! is hard-coded."}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":21}}`,
		`{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":412,"outputTokenCount":21,"invocationLatency":1234,"firstByteLatency":301}}`)},
	{"bedrock-invoke-nova-stream", "bedrock.invoke", "application/vnd.amazon.eventstream", invokeChunks(
		`{"messageStart":{"role":"assistant"}}`,
		`{"contentBlockDelta":{"delta":{"text":"Reminder for dana."},"contentBlockIndex":0}}`,
		`{"contentBlockDelta":{"delta":{"text":"whitfield@northwind-example.com"},"contentBlockIndex":0}}`,
		`{"messageStop":{"stopReason":"end_turn"}}`)},
	{"bedrock-exception", "bedrock.converse", "application/vnd.amazon.eventstream",
		awsFrame([][2]string{{":exception-type", "throttlingException"}, {":content-type", "application/json"}, {":message-type", "exception"}},
			[]byte(`{"message":"Too many requests, please wait before trying again."}`))},
}

func TestResponses(t *testing.T) {
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			res := extract.ExtractResponse(tc.api, tc.contentType, tc.body, extract.Limits{})
			golden.Check(t, filepath.Join("testdata", "responses", tc.name+".golden"), render(res))
		})
	}
}

// TestResponseStreamLimits pins the bound on assembly: a stream longer than the byte budget
// yields at most the budget and says so.
func TestResponseStreamLimits(t *testing.T) {
	var events []string
	for range 2000 {
		events = append(events, `{"choices":[{"index":0,"delta":{"content":"0123456789abcdef"}}]}`)
	}
	lim := extract.Limits{MaxBytes: 4096}
	res := extract.ExtractResponse("openai.chat", "text/event-stream", sseStream(events...), lim)
	total := 0
	for _, s := range res.Segments {
		total += len(s.Text)
	}
	if total > lim.MaxBytes {
		t.Errorf("assembled %d bytes, limit %d", total, lim.MaxBytes)
	}
	if len(res.Notes) == 0 {
		t.Error("no note about the limit")
	}

	// Choice indexes are the sender's: a million distinct ones must not mean a million parts.
	events = events[:0]
	for i := range 5000 {
		events = append(events, `{"choices":[{"index":`+strInt(i*977)+`,"delta":{"content":"x"}}]}`)
	}
	res = extract.ExtractResponse("openai.chat", "text/event-stream", sseStream(events...), extract.Limits{})
	if len(res.Segments) > 1024 {
		t.Errorf("%d segments from distinct choice indexes", len(res.Segments))
	}
}

func strInt(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
