package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/proxy/wsframe"
)

// A WebSocket to an opened host is inspected message by message. goproxy relays the upgraded
// connection by copying client bytes into the session's Write and the session's Read into the
// client; the session sits in both directions:
//
//   - client to vendor: frames are parsed (fragments joined, permessage-deflate undone) and
//     each whole message is inspected before any of it goes on. Allowed messages go as they
//     came, byte for byte; a redacted one is re-framed (and, with a compression context shared
//     across messages, every later message re-encoded, see wsframe); a blocked one is dropped,
//     the client is sent an error event and a close 1008, and the vendor's connection is closed.
//   - vendor to client: frames are parsed for the record only (the first wsRecordBytes of
//     text), never held back.
//
// What cannot be read (a protocol error, a message over the size limit) is incomplete and
// decided by inspection.incomplete like any request.

const (
	// closePolicyViolation is RFC 6455's close code 1008.
	closePolicyViolation uint16 = 1008
	// wsMaxMessage bounds one client message customs holds to inspect; a larger one cannot be
	// inspected.
	wsMaxMessage = 16 << 20
	// wsRecordBytes bounds what of the vendor's messages is extracted for the record.
	wsRecordBytes = 1 << 20
	// wsMaxSegments bounds the segments a session keeps on its flow (a voice session sends
	// thousands of audio events).
	wsMaxSegments = 2000
	// maxSessionFindings bounds the findings a session or a call keeps on its flow: each
	// message is still decided on all of its own, but a client that streams a million of them
	// does not hold a million findings in the proxy.
	maxSessionFindings = 10000
)

// addMessage adds one message's segments, findings and incomplete reasons to the flow of its
// WebSocket session or gRPC call, within the bounds above. The caller holds the flow.
func addMessage(f *flow.Flow, mv inspect.MessageVerdict) {
	if room := maxSessionFindings - len(f.Findings); room >= len(mv.Findings) {
		f.Findings = append(f.Findings, mv.Findings...)
	} else {
		if room > 0 {
			f.Findings = append(f.Findings, mv.Findings[:room]...)
		}
		if !slices.Contains(f.Notes, findingsCutNote) {
			f.Notes = append(f.Notes, findingsCutNote)
		}
	}
	if room := wsMaxSegments - len(f.Segments); room > 0 {
		f.Segments = append(f.Segments, mv.Segments[:min(room, len(mv.Segments))]...)
	}
	for _, r := range mv.Incomplete {
		f.MarkIncompleteReason(r)
	}
}

var findingsCutNote = fmt.Sprintf("findings past the first %d of the session are not kept (each message was decided on all of its own)", maxSessionFindings)

type wsSession struct {
	*flowBody // the vendor's side: counts bytes, finishes the flow
	s         *Server
	ctx       context.Context
	conn      io.ReadWriteCloser // the vendor's side
	ext       wsframe.Extension

	// client to vendor, used by goproxy's client-copy goroutine only
	in       *wsframe.Reader
	enc      *wsframe.Encoder
	reencode bool
	n        int
	stopped  bool // blocked: the rest of the client's bytes are dropped
	raw      bool // unreadable but let through (inspection.incomplete): bytes pass unparsed

	// vendor to client, used by the other goroutine only
	out      *wsframe.Reader
	outN     int
	outBytes int
	pending  error // an upstream read error held while bytes went out first

	// set by the client side under flowBody.mu, sent by the vendor side at a frame boundary
	inject []byte
}

// newWSSession wraps an upgraded vendor connection. A session whose negotiated extensions
// customs cannot read is refused at once (incomplete), before any message passes.
func (s *Server) newWSSession(ctx context.Context, f *flow.Flow, resp *http.Response, up io.ReadWriteCloser, rb *flowBody) *wsSession {
	ws := &wsSession{flowBody: rb, s: s, ctx: ctx, conn: up}
	ext, err := wsframe.ParseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"))
	ws.ext = ext
	lim := wsframe.Limits{MaxMessage: wsMaxMessage}
	ws.in = wsframe.NewReader(wsframe.Client, ext, lim)
	ws.out = wsframe.NewReader(wsframe.Server, ext, wsframe.Limits{MaxMessage: wsRecordBytes})
	ws.enc = wsframe.NewEncoder(wsframe.Client, ext)
	if err != nil {
		ws.mu.Lock()
		f.Notes = append(f.Notes, "websocket: "+err.Error())
		ws.mu.Unlock()
		ws.unreadable("websocket-extension", wsframe.CloseProtocolError)
	}
	return ws
}

// Write takes bytes the client sent and passes on what the policies allow. It never returns an
// error for a refused message: goproxy would then end the session before the client has read
// why.
func (ws *wsSession) Write(p []byte) (int, error) {
	if ws.stopped {
		return len(p), nil
	}
	if ws.raw {
		return ws.writeUp(p)
	}
	if err := ws.in.Feed(p); err != nil {
		var pe *wsframe.ProtocolError
		code, reason := wsframe.CloseProtocolError, "websocket-protocol"
		if errors.As(err, &pe) {
			code = pe.Code
			if pe.Code == wsframe.CloseMessageTooBig {
				reason = "websocket-message-too-big"
			}
		}
		ws.mu.Lock()
		ws.f.Notes = append(ws.f.Notes, err.Error())
		ws.mu.Unlock()
		// What the reader held of the unreadable frame is lost either way; what follows may
		// pass if the operator lets unreadable sessions through.
		ws.unreadable(reason, code)
		return len(p), nil
	}
	var out []byte
	for {
		m, ok := ws.in.Next()
		if !ok {
			break
		}
		if m.Opcode != wsframe.OpText && m.Opcode != wsframe.OpBinary {
			// Ping, pong and close: never compressed, forwarded as they came, but their payload
			// (up to 125 bytes, echoed by the vendor) is data too: it is inspected, and since a
			// control frame is not rewritten, anything but allow or alert refuses the session.
			payload := m.Payload
			if m.Opcode == wsframe.OpClose && len(payload) >= 2 {
				payload = payload[2:] // the status code, then the reason
			}
			if len(payload) > 0 {
				mv := ws.s.opts.Pipeline.InspectMessage(ws.ctx, ws.f, ws.n, true, payload)
				if mv.Verdict.Action == flow.Redact {
					mv.Verdict.Action = flow.Block
					mv.Verdict.Message += " (a control frame is not rewritten)"
				}
				// Named after the frame (ws[3](ping):body) and not counted as a message.
				relabel(&mv, fmt.Sprintf("ws[%d]:", ws.n), fmt.Sprintf("ws[%d](%s):", ws.n, controlName(m.Opcode)))
				ws.recordControl(mv)
				if mv.Verdict.Action == flow.Block {
					if len(out) > 0 {
						_, _ = ws.writeUp(out)
					}
					ws.refuse(mv, "", closePolicyViolation)
					return len(p), nil
				}
			}
			out = append(out, m.Raw...)
			continue
		}
		mv := ws.s.opts.Pipeline.InspectMessage(ws.ctx, ws.f, ws.n, m.Opcode == wsframe.OpText, m.Payload)
		ws.record(mv)
		switch mv.Verdict.Action {
		case flow.Block:
			if len(out) > 0 {
				_, _ = ws.writeUp(out)
			}
			ws.refuse(mv, inspect.EventID(m.Payload), closePolicyViolation)
			return len(p), nil
		case flow.Redact:
			out = ws.enc.Append(out, m.Opcode, mv.Payload, m.Compressed)
			ws.reencode = ws.reencode || (m.Compressed && ws.ext.Takeover(wsframe.Client))
		default:
			if ws.reencode {
				out = ws.enc.Append(out, m.Opcode, m.Payload, m.Compressed)
			} else {
				out = append(out, m.Raw...)
			}
		}
	}
	if len(out) > 0 {
		if _, err := ws.writeUp(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (ws *wsSession) writeUp(b []byte) (int, error) {
	n, err := ws.conn.Write(b)
	ws.mu.Lock()
	ws.up += int64(n)
	ws.mu.Unlock()
	return n, err
}

// record adds one client message's inspection to the session's flow.
func (ws *wsSession) record(mv inspect.MessageVerdict) {
	ws.n++
	ws.mu.Lock()
	ws.f.Messages = ws.n
	ws.mu.Unlock()
	ws.recordControl(mv)
}

// recordControl adds an inspection to the session's flow without counting a message.
func (ws *wsSession) recordControl(mv inspect.MessageVerdict) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	f := ws.f
	addMessage(f, mv)
	if mv.Verdict.Action.Rank() > f.Verdict.Action.Rank() {
		f.Verdict = mv.Verdict
	}
}

// unreadable ends a session whose client stream customs cannot read: the reason is recorded,
// and inspection.incomplete decides (through the policies, as for a request) whether the
// session may go on unread.
func (ws *wsSession) unreadable(reason string, code uint16) {
	ws.mu.Lock()
	view := *ws.f
	ws.mu.Unlock()
	view.Incomplete = append(append([]string(nil), view.Incomplete...), reason)
	view.Mark(flow.MarkIncomplete)
	v := ws.s.opts.Pipeline.Decide(ws.ctx, &view)
	mv := inspect.MessageVerdict{Verdict: v, Incomplete: []string{reason}}
	ws.record(mv)
	if v.Action != flow.Block {
		// Let the rest through unread: the operator chose to (inspection.incomplete), and the
		// flow says so.
		ws.passThrough()
		return
	}
	ws.refuse(mv, "", code)
}

// passThrough stops parsing the client's stream: what it sends from now on goes as it is.
func (ws *wsSession) passThrough() { ws.raw = true }

// refuse ends the session for a blocked message: the vendor gets a close 1008, the client an
// error event and a close with code.
func (ws *wsSession) refuse(mv inspect.MessageVerdict, eventID string, code uint16) {
	ws.stopped = true
	ws.mu.Lock()
	frames := wsframe.NewEncoder(wsframe.Server, wsframe.Extension{}).Append(nil, wsframe.OpText,
		inspect.MessageRefusal(ws.f, mv, eventID), false)
	frames = append(frames, wsframe.CloseFrame(wsframe.Server, code, "customs: "+closeReason(mv.Verdict))...)
	ws.inject = frames
	ws.mu.Unlock()
	// The vendor's connection is closed without a close frame: a close frame would be echoed,
	// and the echo could reach the client before the refusal. Closing ends the other
	// goroutine's read, which then delivers the refusal to the client and ends the session.
	_ = ws.conn.Close()
}

// relabel renames the paths of an inspection from one prefix to another.
func relabel(mv *inspect.MessageVerdict, from, to string) {
	for i := range mv.Segments {
		mv.Segments[i].Path = to + strings.TrimPrefix(mv.Segments[i].Path, from)
	}
	for i := range mv.Findings {
		mv.Findings[i].Path = to + strings.TrimPrefix(mv.Findings[i].Path, from)
	}
}

func controlName(op byte) string {
	switch op {
	case wsframe.OpPing:
		return "ping"
	case wsframe.OpPong:
		return "pong"
	}
	return "close"
}

func closeReason(v flow.Verdict) string {
	if v.Policy != "" {
		return "blocked by policy " + v.Policy
	}
	return "blocked"
}

// Read passes on what the vendor sends, and a refusal when a message was blocked.
func (ws *wsSession) Read(p []byte) (int, error) {
	if b := ws.takeInject(); b != nil {
		return copy(p, b), nil // frames of a few hundred bytes; goproxy reads 32 KiB at a time
	}
	if ws.pending != nil {
		return 0, ws.pending
	}
	n, err := ws.flowBody.Read(p)
	if n > 0 {
		ws.observe(p[:n])
	}
	if err != nil {
		if b := ws.takeInject(); b != nil && n == 0 {
			return copy(p, b), nil
		}
		if n > 0 {
			ws.pending = err
			return n, nil
		}
	}
	return n, err
}

// takeInject returns the refusal frames once, when the vendor's stream is at a frame boundary
// (else the client would read them as the rest of a vendor frame, and only the close is lost).
func (ws *wsSession) takeInject() []byte {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.inject == nil || (ws.out != nil && !ws.out.AtBoundary()) {
		return nil
	}
	b := ws.inject
	ws.inject = nil
	return b
}

// observe extracts the vendor's messages for the record.
func (ws *wsSession) observe(b []byte) {
	if ws.out == nil || ws.outBytes >= wsRecordBytes {
		return
	}
	if err := ws.out.Feed(b); err != nil {
		ws.out = nil // a stream customs cannot parse is only counted
		return
	}
	for {
		m, ok := ws.out.Next()
		if !ok {
			return
		}
		if m.Opcode != wsframe.OpText && m.Opcode != wsframe.OpBinary {
			continue
		}
		ws.outBytes += len(m.Payload)
		segs, fs := ws.s.opts.Pipeline.InspectServerMessage(ws.f, ws.outN, m.Opcode == wsframe.OpText, m.Payload)
		ws.outN++
		ws.mu.Lock()
		if room := wsMaxSegments - len(ws.f.Segments); room > 0 {
			ws.f.Segments = append(ws.f.Segments, segs[:min(room, len(segs))]...)
		}
		ws.f.Findings = append(ws.f.Findings, fs...)
		ws.mu.Unlock()
	}
}

// wsOfferable keeps of a client's Sec-WebSocket-Extensions offer only what customs can read
// (permessage-deflate), so that the vendor cannot accept an extension that would hide the
// messages from inspection.
func wsOfferable(h http.Header) {
	var keep []string
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for _, ext := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if strings.EqualFold(strings.TrimSpace(name), "permessage-deflate") {
				keep = append(keep, strings.TrimSpace(ext))
			}
		}
	}
	h.Del("Sec-WebSocket-Extensions")
	if len(keep) > 0 {
		h.Set("Sec-WebSocket-Extensions", strings.Join(keep, ", "))
	}
}
