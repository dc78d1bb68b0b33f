package extract

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// OpenTelemetry traces (OTLP/HTTP, /v1/traces): the channel through which LLM-observability
// services (Arize, Phoenix, Langfuse, LangSmith, Traceloop, W&B Weave, Braintrust) receive
// whole prompts and answers, as span attributes: OpenInference's input.value, output.value and
// llm.input_messages.N.message.content, the GenAI conventions' gen_ai.prompt.N.content and
// gen_ai.input.messages. A JSON body (ExportTraceServiceRequest in the protobuf JSON mapping)
// and a protobuf one give the same paths, with every attribute value named by its key:
//
//	resourceSpans[0].scopeSpans[0].spans[0].attributes(input.value).stringValue
//
// The attribute's key is a segment of its own too (attributes[3].key): it reaches the vendor.

// otlpTraceSchema is ExportTraceServiceRequest (opentelemetry-proto, trace/v1), with field
// names as the JSON mapping spells them.
var otlpTraceSchema = buildOTLPSchema()

func buildOTLPSchema() *pbMessage {
	msg := func(fields map[int]pbField) *pbMessage { return &pbMessage{fields: fields} }
	anyValue := msg(nil)
	keyValue := &pbMessage{keyed: true, fields: map[int]pbField{1: {name: "key"}, 2: {name: "value", msg: anyValue}}}
	anyValue.fields = map[int]pbField{
		1: {name: "stringValue"},
		5: {name: "arrayValue", msg: msg(map[int]pbField{1: {name: "values", msg: anyValue, repeated: true}})},
		6: {name: "kvlistValue", msg: msg(map[int]pbField{1: {name: "values", msg: keyValue, repeated: true}})},
		7: {name: "bytesValue", binary: true},
	}
	attrs := func(n int) map[int]pbField {
		return map[int]pbField{n: {name: "attributes", msg: keyValue, repeated: true}}
	}
	scope := msg(attrs(3))
	scope.fields[1], scope.fields[2] = pbField{name: "name"}, pbField{name: "version"}
	event := msg(attrs(3))
	event.fields[2] = pbField{name: "name"}
	link := msg(attrs(4))
	link.fields[1], link.fields[2], link.fields[3] = pbField{name: "traceId", binary: true}, pbField{name: "spanId", binary: true}, pbField{name: "traceState"}
	span := msg(attrs(9))
	for n, f := range map[int]pbField{
		1: {name: "traceId", binary: true}, 2: {name: "spanId", binary: true}, 3: {name: "traceState"},
		4: {name: "parentSpanId", binary: true}, 5: {name: "name"}, 11: {name: "events", msg: event, repeated: true},
		13: {name: "links", msg: link, repeated: true}, 15: {name: "status", msg: msg(map[int]pbField{2: {name: "message"}})},
	} {
		span.fields[n] = f
	}
	scopeSpans := msg(map[int]pbField{1: {name: "scope", msg: scope}, 2: {name: "spans", msg: span, repeated: true}, 3: {name: "schemaUrl"}})
	resourceSpans := msg(map[int]pbField{1: {name: "resource", msg: msg(attrs(1))}, 2: {name: "scopeSpans", msg: scopeSpans, repeated: true}, 3: {name: "schemaUrl"}})
	return msg(map[int]pbField{1: {name: "resourceSpans", msg: resourceSpans, repeated: true}})
}

// otlpBody reads an OTLP/HTTP export: JSON by the JSON mapping, protobuf without its .proto.
func otlpBody(r *Request, e *emitter) {
	switch mt := aiMediaType(r.ContentType); {
	case mt == "application/x-protobuf" || mt == "application/protobuf" || mt == "application/vnd.google.protobuf":
		e.protoBody("", r.Body, otlpTraceSchema, 0)
	case aiIsJSON(r.ContentType, r.Body):
		e.otlpJSON("", r.Body, 0)
	case mt == "" && !looksLikeText(r.Body):
		e.protoBody("", r.Body, otlpTraceSchema, 0)
	default:
		e.byContentType("", r.ContentType, r.Body, 0)
	}
}

// otlpJSON walks an OTLP JSON document, naming attribute values by their keys. Leaves are
// collected first, since a key may follow its value in the document.
func (e *emitter) otlpJSON(prefix string, data []byte, depth int) {
	type leaf struct{ path, v string }
	var leaves []leaf
	keys := map[string]string{} // path of a key/value element -> its key
	end, err := walkJSONRec(data, e.lim.MaxJSONDepth, e.rec, e.keys, func(p []byte, key, v string) {
		if key == "key" && bytes.HasSuffix(p, []byte("].key")) && otlpKeyOK(v) {
			keys[string(p[:len(p)-len(".key")])] = v
		}
		leaves = append(leaves, leaf{string(p), v})
	})
	pj := newPathJoiner(prefix)
	for _, l := range leaves {
		e.text(orBody(pj.join([]byte(otlpName(l.path, keys)))), l.v, depth)
	}
	if err != nil {
		e.note("%s: %v", orBody(prefix), err)
		if errors.Is(err, errJSONDepth) {
			e.limited.set(limJSONDepth)
		}
		if rest := data[min(end, len(data)):]; looksLikeText(rest) && !errors.Is(err, errJSONDepth) {
			e.text(fmt.Sprintf("%s@%d", orBody(prefix), end), view(rest), depth)
		}
		return
	}
	if tail := bytes.TrimSpace(data[end:]); len(tail) > 0 {
		e.note("%s: data after the JSON value at offset %d", orBody(prefix), end)
		e.text(fmt.Sprintf("%s@%d", orBody(prefix), end), view(tail), depth)
	}
}

// otlpKeyOK: a key that can stand in a path.
func otlpKeyOK(k string) bool {
	return k != "" && len(k) <= 128 && !strings.ContainsAny(k, "()\n\r\t")
}

// otlpName renames every "<element>.value" of path whose element has a key to "<list>(key)":
// attributes[3].value.stringValue -> attributes(input.value).stringValue.
func otlpName(path string, keys map[string]string) string {
	if len(keys) == 0 || !strings.Contains(path, "].value") {
		return path
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(path); {
		j := strings.Index(path[i:], "].value")
		if j < 0 {
			break
		}
		j += i + 1 // just past ']'
		after := j + len(".value")
		if after < len(path) && path[after] != '.' && path[after] != '[' {
			i = j
			continue
		}
		key, ok := keys[path[:j]]
		if !ok {
			i = j
			continue
		}
		open := strings.LastIndexByte(path[:j], '[')
		b.WriteString(path[last:open])
		b.WriteString("(" + key + ")")
		last, i = after, after
	}
	if last == 0 {
		return path
	}
	b.WriteString(path[last:])
	return b.String()
}

// protoBody reads a protobuf message (schema nil: unknown) at prefix, recording its strings as
// not rewritable.
func (e *emitter) protoBody(prefix string, data []byte, schema *pbMessage, depth int) {
	loc := orBody(prefix)
	err := walkProto(data, schema, prefix, e.lim.MaxJSONDepth, protoVisit{
		text: func(path string, s []byte) {
			v := view(s)
			if e.rec != nil {
				e.rec.decoded(v, v, unsupportedCodec("a protobuf string cannot change length (its length is written before it)"))
			}
			e.text(orBody(path), v, depth)
		},
		binary: func(path string, size int) {
			e.media(orBody(path), "application/octet-stream", size)
		},
	})
	if err != nil {
		e.note("%s: %v", loc, err)
		if errors.Is(err, errProtoDepth) {
			e.limited.set(limJSONDepth)
		}
	}
}

// connectProto reads a Connect or gRPC-Web call: a bare message (application/proto,
// application/x-protobuf) or a stream of enveloped messages (application/connect+proto,
// application/grpc-web+proto: a flags byte, a 4-byte length, the message), each at
// frames[n]. A compressed frame is gunzipped when the headers say gzip; an end-of-stream frame
// carries JSON (Connect) or trailers (gRPC-Web) and is read as text.
func connectProtoBody(r *Request, e *emitter) {
	mt := aiMediaType(r.ContentType)
	switch {
	case mt == "application/connect+proto" || strings.HasPrefix(mt, "application/grpc-web"):
		e.protoFrames(r, mt)
	case mt == "application/proto" || mt == "application/x-protobuf" || mt == "application/protobuf" ||
		mt == "" && !looksLikeText(r.Body):
		e.protoBody("", r.Body, nil, 0)
	default:
		e.byContentType("", r.ContentType, r.Body, 0)
	}
}

func (e *emitter) protoFrames(r *Request, mt string) {
	enc := r.Header.Get("Connect-Content-Encoding")
	if enc == "" {
		enc = r.Header.Get("Grpc-Encoding")
	}
	body := r.Body
	for n := 0; len(body) > 0 && !e.full; n++ {
		prefix := "frames[" + strconv.Itoa(n) + "]"
		if len(body) < 5 {
			e.note("body: %s: %d bytes left, not a whole envelope", prefix, len(body))
			e.text(prefix, view(body), 0)
			return
		}
		flags, size := body[0], binary.BigEndian.Uint32(body[1:5])
		if uint64(size) > uint64(len(body)-5) {
			e.note("body: %s: envelope of %d bytes, %d left", prefix, size, len(body)-5)
			e.protoBody(prefix, body[5:], nil, 0)
			return
		}
		msg := body[5 : 5+size]
		body = body[5+size:]
		switch {
		case flags&0x02 != 0 && mt == "application/connect+proto", flags&0x80 != 0:
			e.text(prefix, view(msg), 0) // end of stream: JSON or trailers
		case flags&0x01 != 0:
			if enc != "gzip" {
				e.note("body: %s: compressed with %q, not read", prefix, enc)
				e.media(prefix, "application/octet-stream", len(msg))
				continue
			}
			data, err := gunzip(msg, e.budget())
			if err != nil {
				e.note("body: %s: %v", prefix, err)
			}
			// Fresh memory: Redact finds no origin for these texts and refuses them.
			e.protoBody(prefix+"/"+stepGunzip, data, nil, 1)
		default:
			e.protoBody(prefix, msg, nil, 0)
		}
	}
}
