package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/flow"
)

// WebSocket sessions are one flow each, but every message a client sends is inspected and
// decided on its own, before it goes on: extraction (an OpenAI Realtime event is JSON: its
// instructions, item texts and tool outputs are leaves, its audio a media segment), the
// detectors, the policies over that message's findings. The session's flow collects every
// message's findings under ws[n]: paths, and its verdict is the strongest one taken.

// MessageVerdict is the decision on one WebSocket message.
type MessageVerdict struct {
	Verdict    flow.Verdict
	Segments   []flow.Segment // paths under ws[n]:
	Findings   []flow.Finding // paths under ws[n]:
	Incomplete []string       // why the message could not be read completely
	// Payload is the message rewritten with placeholders when Verdict is Redact.
	Payload []byte
}

// wsPrefix is the path prefix of message n's segments.
func wsPrefix(n int) string { return fmt.Sprintf("ws[%d]:", n) }

// messageRequest is what extraction sees of a message: a body without a request line.
func messageRequest(f *flow.Flow, text bool, payload []byte) *extract.Request {
	ct := "application/octet-stream" // binary frames: text if they read as text, else media
	if text {
		ct = "text/plain; charset=utf-8"
		if t := bytes.TrimLeft(payload, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			ct = "application/json"
		}
	}
	return &extract.Request{Vendor: f.Vendor.ID, Method: "MESSAGE", ContentType: ct, Body: payload}
}

// InspectMessage inspects message n (0-based) that the client sent in the WebSocket session f,
// and decides on it. f is read, not changed: the caller adds the result to the session.
func (p *Pipeline) InspectMessage(ctx context.Context, f *flow.Flow, n int, text bool, payload []byte) MessageVerdict {
	return p.inspectMessage(ctx, f, messageRequest(f, text, payload), wsPrefix(n), nil)
}

// InspectGRPCMessage inspects envelope n (0-based in the call's client stream: flags, length,
// message) of the gRPC call f, and decides on it. A call's first message is inspected with its
// request (Inspect); the later ones of a client stream come here one by one, each before it goes
// on. Their paths name the message: grpc:/pkg.Service/Method[n]/2.1 (see extract). f is read,
// not changed.
func (p *Pipeline) InspectGRPCMessage(ctx context.Context, f *flow.Flow, n int, envelope []byte) MessageVerdict {
	er := &extract.Request{Vendor: f.Vendor.ID, Method: f.Method, Body: envelope, GRPCFirst: n}
	if u, err := url.Parse(f.URL); err == nil {
		er.Path = u.Path
	}
	if f.RequestHeader != nil {
		er.ContentType = f.RequestHeader.Get("Content-Type")
		// The message's own compression; the other headers were inspected with the request.
		if enc := f.RequestHeader.Values("Grpc-Encoding"); len(enc) > 0 {
			er.Header = http.Header{"Grpc-Encoding": enc}
		}
	}
	return p.inspectMessage(ctx, f, er, "", bodyOnly)
}

// bodyOnly keeps the segments of a message's body (and the names it holds, #keys): its URL path
// and headers are the request's, inspected once with it.
func bodyOnly(s flow.Segment) bool {
	return !strings.HasPrefix(s.Path, "url:") && !strings.HasPrefix(s.Path, "header:")
}

func (p *Pipeline) inspectMessage(ctx context.Context, f *flow.Flow, er *extract.Request, prefix string, keep func(flow.Segment) bool) MessageVerdict {
	sn := p.cur.Load()
	vendor := sn.vendorOf(f)
	res := extract.Extract(er, p.limits)
	mv := MessageVerdict{Verdict: flow.Verdict{Action: flow.Allow}}
	for _, s := range res.Segments {
		if keep != nil && !keep(s) {
			continue
		}
		s.Path = prefix + s.Path
		mv.Segments = append(mv.Segments, s)
	}
	for _, l := range res.Limited {
		mv.Incomplete = append(mv.Incomplete, "extraction-limit:"+l)
	}
	mv.Findings = dropOwnCredentials(vendor, sn.find(mv.Segments))
	// The policies judge this message: its findings, the session's request and connection.
	// Deciding appends to the view's marks and notes: they must not share the session's
	// arrays, which other goroutines append to.
	view := *f
	view.Findings, view.Segments, view.Incomplete = mv.Findings, mv.Segments, mv.Incomplete
	view.Marks, view.Notes = slices.Clone(f.Marks), slices.Clone(f.Notes)
	if sn.rules != nil {
		mv.Verdict = sn.decide(ctx, &view, vendor)
	}
	mv.Verdict = p.applyIncomplete(&view, vendor != nil, mv.Verdict)
	if mv.Verdict.Action == flow.Redact {
		out, err := redactMessage(er, p.limits, mv.Findings, prefix)
		if err != nil {
			mv.Verdict = flow.Verdict{Action: flow.Block, Policy: mv.Verdict.Policy, Matched: mv.Verdict.Matched,
				Message: mv.Verdict.Message + " (the message could not be rewritten: " + err.Error() + ")"}
		} else {
			mv.Payload = out
		}
	}
	return mv
}

func redactMessage(er *extract.Request, lim extract.Limits, fs []flow.Finding, prefix string) ([]byte, error) {
	local := make([]flow.Finding, 0, len(fs))
	for _, x := range fs {
		x.Path = strings.TrimPrefix(x.Path, prefix)
		local = append(local, x)
	}
	edits := redactionEdits(local, func(x flow.Finding, n int) string { return fmt.Sprintf("[REDACTED:%s#%d]", x.Detector, n) })
	body, _, err := extract.Redact(er, lim, edits)
	return body, err
}

// InspectServerMessage reads message n that the vendor sent in session f, for the record only
// (it has already gone to the client): its segments and findings, under response:ws[n]:.
func (p *Pipeline) InspectServerMessage(f *flow.Flow, n int, text bool, payload []byte) ([]flow.Segment, []flow.Finding) {
	sn := p.cur.Load()
	res := extract.Extract(messageRequest(f, text, payload), p.limits)
	prefix := "response:" + wsPrefix(n)
	segs := make([]flow.Segment, 0, len(res.Segments))
	for _, s := range res.Segments {
		s.Path = prefix + s.Path
		segs = append(segs, s)
	}
	return segs, sn.find(segs)
}

func (sn *snapshot) vendorOf(f *flow.Flow) *catalog.Vendor {
	if sn.catalog == nil {
		return nil
	}
	v, _ := sn.catalog.Lookup(f.Host)
	return v
}

// MessageRefusal is what a client is sent in place of a blocked WebSocket message, before the
// session is closed with 1008 (policy violation): an error event in the shape of the vendor's
// realtime protocol (OpenAI's Realtime "error" event, which its SDKs raise), never the data.
func MessageRefusal(f *flow.Flow, mv MessageVerdict, clientEventID string) []byte {
	view := *f
	view.Findings = mv.Findings
	v := mv.Verdict
	msg := refusalMessage(&view, v)
	code := v.Policy
	if code == "" {
		code = "customs_policy"
	}
	errObj := map[string]any{"type": "invalid_request_error", "code": code, "message": msg, "param": nil}
	if clientEventID != "" {
		errObj["event_id"] = clientEventID
	}
	b, _ := json.Marshal(map[string]any{"type": "error", "event_id": "customs_" + f.ID, "error": errObj})
	return b
}

// EventID returns the event_id of a JSON realtime event, "" when it has none.
func EventID(payload []byte) string {
	var ev struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(payload, &ev) != nil {
		return ""
	}
	return ev.EventID
}
