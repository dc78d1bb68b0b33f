package proxy

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
)

// A gRPC call (HTTP/2, application/grpc) is a stream of length-prefixed messages each way, and
// the client's may be a stream too (client-streaming and bidirectional methods), whose next
// message waits for the vendor's answer to the last one. So customs cannot read the whole body
// before deciding, as it does for a request: it reads the call message by message.
//
//   - The first message is read whole and inspected with the request (its URL path, the method,
//     and its headers), as any request body is: allowed, redacted (the message re-encoded with
//     correct lengths), or refused with a gRPC status before anything reaches the vendor.
//   - Every later message is read whole, inspected on its own (InspectGRPCMessage) and only then
//     sent on, re-encoded when redacted. A blocked one ends the call: the vendor's stream is
//     reset, and the client gets PERMISSION_DENIED in the call's trailers (or trailers-only,
//     when the vendor had not answered yet).
//   - The vendor's messages go to the client as they come; they are kept for the record.
//
// A message larger than the inspection limit, a length prefix that lies, a partial message: what
// cannot be read is incomplete, decided by inspection.incomplete (block by default).

// grpcEnvelope reads one message of a gRPC stream: the 5-byte prefix (flags, big-endian length)
// and the message. It returns io.EOF when the stream ends before any of it; a stream that ends
// inside it returns what was read and io.ErrUnexpectedEOF. A message longer than limit returns
// the prefix with errGRPCOversize and its length; its bytes are left unread.
func grpcEnvelope(r io.Reader, limit int64) (env []byte, size uint32, err error) {
	var hdr [5]byte
	n, err := io.ReadFull(r, hdr[:])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		return append([]byte(nil), hdr[:n]...), 0, err
	}
	size = binary.BigEndian.Uint32(hdr[1:])
	if int64(size)+5 > limit {
		return append([]byte(nil), hdr[:]...), size, errGRPCOversize
	}
	env = make([]byte, 5+int(size))
	copy(env, hdr[:])
	n, err = io.ReadFull(r, env[5:])
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return env[:5+n], size, err
	}
	return env, size, nil
}

var errGRPCOversize = errors.New("gRPC message larger than the inspection limit")

// handleGRPC serves a gRPC call; f has passed the checks every request passes.
func (s *Server) handleGRPC(f *flow.Flow, info *connInfo, in *http.Request) *http.Response {
	first, size, err := grpcEnvelope(in.Body, s.opts.InspectLimit)
	var rest io.Reader
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		first = nil // a call without a message: its headers are all there is
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The client ended its stream inside a message: extraction reads what there is, and
		// says it is unreadable.
		f.Notes = append(f.Notes, fmt.Sprintf("grpc: the client's stream ended inside its first message (%d of %d bytes)", max(len(first)-5, 0), size))
	case errors.Is(err, errGRPCOversize):
		f.Mark(flow.MarkOversize)
		f.MarkIncompleteReason("grpc-message-oversize")
		f.Notes = append(f.Notes, fmt.Sprintf("grpc: message 0 is %d bytes, more than the %d-byte inspection limit", size, s.opts.InspectLimit))
		if s.opts.BlockOversize {
			f.RequestHeader = in.Header
			msg := fmt.Sprintf("customs: a gRPC message larger than the %d-byte inspection limit is refused", s.opts.InspectLimit)
			f.Verdict = flow.Verdict{Action: flow.Block, Policy: "oversize", Message: msg}
			return s.finishEarly(f, in, http.StatusRequestEntityTooLarge, msg, "")
		}
		rest = in.Body
	default:
		f.Mark(flow.MarkClientAbort)
		return s.finishEarly(f, in, http.StatusBadRequest, "customs: reading the gRPC call: "+err.Error(), "client")
	}
	f.RequestHeader = in.Header
	f.RequestBody = first
	f.Messages = 0
	if len(first) > 0 {
		f.Messages = 1
	}

	verdict := s.opts.Pipeline.Inspect(in.Context(), f)
	out := first
	if verdict.Action == flow.Redact {
		var red inspect.Redacted
		if red, verdict = s.redact(f, verdict); verdict.Action == flow.Redact {
			out = red.Body
		}
	}
	if verdict.Action == flow.Block {
		return s.blockResponse(f, in, verdict)
	}
	if rest != nil {
		// Let through unread by the operator's choice (inspection.incomplete): the rest of the
		// call is scanned as text as it streams, like any body past the window.
		f.RequestBody = nil
		sr := newScanReader(io.MultiReader(readerOf(first), rest), s.opts.Pipeline.NewStream(in.Context(), f))
		return s.forwardStream(f, info, in, sr, -1)
	}
	if err != nil || first == nil {
		// Nothing follows: the stream ended.
		return s.forward(f, info, in, readerOf(out), int64(len(out)))
	}
	gs := &grpcStream{s: s, ctx: in.Context(), f: f, view: snapshot(f), src: in.Body, n: 1,
		kept: int64(len(first)), ready: out, scanResult: newScanResult(f.Verdict)}
	return s.forwardStream(f, info, in, gs, -1)
}

func readerOf(b []byte) io.Reader {
	r := &sliceReader{b: b}
	return r
}

// sliceReader is bytes.Reader without the seeking, so that the transport sees a stream.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// grpcStream is the client's side of a gRPC call after its first message: each message is read
// whole and inspected before it is released upstream. It is a bodyScan (see forwardStream).
//
// The stream runs on the transport's goroutine while the answer is copied and recorded on
// others. It judges each message against view, the flow as the request left it, and changes
// the live flow only through change: under its own lock and, once the answer is flowing, the
// answer's (flowBody.mu), and never after it is over (done), when the flow is being recorded.
type grpcStream struct {
	s    *Server
	ctx  context.Context
	f    *flow.Flow
	view flow.Flow // f when the stream began: what each message is judged with
	src  io.Reader
	n    int   // messages read
	kept int64 // bytes of the call kept on the flow (RequestBody)

	ready []byte // released: may go upstream
	skip  int64  // bytes of a message let through unread (inspection.incomplete) still to pass

	scanResult             // its mu also guards the fields below
	fb         *flowBody   // the answer's side, once there is one
	closed     bool        // over: the flow is no longer the stream's to change
	status     http.Header // the status a blocked call ends with
}

// change applies fn to the live flow unless the stream is over.
func (g *grpcStream) change(fn func(f *flow.Flow)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	if g.fb != nil {
		g.fb.mu.Lock()
		defer g.fb.mu.Unlock()
	}
	fn(g.f)
}

// attach tells the stream the answer's side, whose goroutines change the flow too.
func (g *grpcStream) attach(fb *flowBody) {
	g.mu.Lock()
	g.fb = fb
	g.mu.Unlock()
}

func (g *grpcStream) Read(p []byte) (n int, err error) {
	defer func() {
		// This runs on the HTTP/2 transport's goroutine, where no handler's recover reaches:
		// a bug in inspecting one message must end this call only, as refused.
		if v := recover(); v != nil {
			g.s.opts.Logger.Error().Str("flow_id", g.f.ID).Any("panic", v).Bytes("stack", debug.Stack()).
				Msg("recovered from a panic while inspecting a gRPC message")
			g.block(inspect.MessageVerdict{Verdict: flow.Verdict{Action: flow.Block, Policy: "internal",
				Message: "customs: internal error inspecting this call (flow " + g.f.ID + ")"}})
			n, err = 0, errStreamBlocked
		}
	}()
	for len(g.ready) == 0 {
		if _, blocked := g.state(); blocked {
			return 0, errStreamBlocked
		}
		select {
		case <-g.done:
			return 0, io.EOF
		default:
		}
		if g.skip > 0 {
			n, err = g.src.Read(p[:min(int64(len(p)), g.skip)])
			g.skip -= int64(n)
			if errors.Is(err, io.EOF) && g.skip > 0 {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		env, size, err := grpcEnvelope(g.src, g.s.opts.InspectLimit)
		select {
		case <-g.done:
			// The call ended while this message arrived: it goes nowhere.
			return 0, io.EOF
		default:
		}
		switch {
		case errors.Is(err, io.EOF):
			g.finish()
			return 0, io.EOF
		case errors.Is(err, errGRPCOversize):
			note := fmt.Sprintf("grpc: message %d is %d bytes, more than the %d-byte inspection limit", g.n, size, g.s.opts.InspectLimit)
			if g.s.opts.BlockOversize {
				g.note(note)
				mv := inspect.MessageVerdict{Verdict: flow.Verdict{Action: flow.Block, Policy: "oversize",
					Message: fmt.Sprintf("customs: a gRPC message larger than the %d-byte inspection limit is refused", g.s.opts.InspectLimit)},
					Incomplete: []string{"grpc-message-oversize"}}
				g.record(mv, nil)
				g.block(mv)
				return 0, errStreamBlocked
			}
			if !g.unreadable(note, "grpc-message-oversize") {
				return 0, errStreamBlocked
			}
			// Let through unread by the operator's choice: this message only. The next one
			// is read and inspected like any other.
			g.ready, g.skip = env, int64(size)
			continue
		case errors.Is(err, io.ErrUnexpectedEOF):
			// Inspected for what there is: extraction reports the partial message unreadable.
			g.note(fmt.Sprintf("grpc: the client's stream ended inside message %d (%d of %d bytes)", g.n, max(len(env)-5, 0), size))
		case err != nil:
			g.change(func(f *flow.Flow) { f.Mark(flow.MarkClientAbort) })
			g.finish()
			return 0, err
		}
		mv := g.s.opts.Pipeline.InspectGRPCMessage(g.ctx, &g.view, g.n, env)
		g.record(mv, env)
		switch mv.Verdict.Action {
		case flow.Block:
			g.block(mv)
			return 0, errStreamBlocked
		case flow.Redact:
			g.ready = mv.Payload
		default:
			g.ready = env
		}
	}
	n = copy(p, g.ready)
	g.ready = g.ready[n:]
	return n, nil
}

// record adds message n's inspection to the call's flow.
func (g *grpcStream) record(mv inspect.MessageVerdict, env []byte) {
	k := g.n
	g.n++
	g.change(func(f *flow.Flow) {
		f.Messages = g.n
		if g.kept+int64(len(env)) <= g.s.opts.InspectLimit {
			// The record keeps the call's messages as the client sent them, for replay, up
			// to the limit a request body is kept to.
			f.RequestBody = append(f.RequestBody, env...)
			g.kept += int64(len(env))
		} else if g.kept <= g.s.opts.InspectLimit {
			g.kept = g.s.opts.InspectLimit + 1
			f.Notes = append(f.Notes, fmt.Sprintf("grpc: messages from %d on are not kept in the record (inspection limit)", k))
		}
		addMessage(f, mv)
		if mv.Verdict.Action == flow.Redact {
			f.Notes = append(f.Notes, fmt.Sprintf("redact: message %d rewritten", k))
		}
	})
	g.mu.Lock()
	if mv.Verdict.Action.Rank() > g.verdict.Action.Rank() {
		g.verdict = mv.Verdict
	}
	g.mu.Unlock()
}

func (g *grpcStream) note(s string) {
	g.change(func(f *flow.Flow) { f.Notes = append(f.Notes, s) })
}

// unreadable decides on a message customs cannot read (inspection.incomplete, through the
// policies, as for a request): true lets the rest of the call through unread.
func (g *grpcStream) unreadable(note, reason string) bool {
	g.note(note)
	view := g.view
	view.Incomplete = append(append([]string(nil), view.Incomplete...), reason)
	view.Mark(flow.MarkIncomplete)
	mv := inspect.MessageVerdict{Verdict: g.s.opts.Pipeline.Decide(g.ctx, &view), Incomplete: []string{reason}}
	g.record(mv, nil)
	if mv.Verdict.Action == flow.Block {
		g.block(mv)
		return false
	}
	return true
}

// snapshot copies a flow for judging messages against while the live one changes: the slices
// a decision appends to (marks, notes, incomplete reasons) are its own.
func snapshot(f *flow.Flow) flow.Flow {
	v := *f
	v.Marks, v.Notes, v.Incomplete = slices.Clone(f.Marks), slices.Clone(f.Notes), slices.Clone(f.Incomplete)
	return v
}

func (g *grpcStream) block(mv inspect.MessageVerdict) {
	view := g.view
	view.Findings = mv.Findings
	g.mu.Lock()
	g.verdict, g.blocked = mv.Verdict, true
	g.status = inspect.RefusalFor(&view, mv.Verdict).Header
	g.mu.Unlock()
	g.ready = nil
	g.finish()
}

// finish ends the stream's hold on the flow; outcome's callers read it from then on.
func (g *grpcStream) finish() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.end()
}

// Close is called by the transport once it stops reading the body: the call is over, or given
// up on (the vendor ended it, the client went away).
func (g *grpcStream) Close() error {
	g.finish()
	return nil
}

// trailers is the status a call blocked mid-stream ends with, nil when it was not blocked.
func (g *grpcStream) trailers() http.Header {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.blocked {
		return nil
	}
	return g.status
}

// grpcTail ends the vendor's answer to a call blocked mid-stream with customs' status: the vendor's
// stream was reset, and the client reads PERMISSION_DENIED in the trailers instead of a broken
// stream.
type grpcTail struct {
	rc   io.ReadCloser
	resp *http.Response
	g    *grpcStream
}

func (t *grpcTail) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if err == nil {
		return n, nil
	}
	// The vendor's side of the call is over: so is the stream's hold on the flow, whatever the
	// client still sends.
	t.g.finish()
	if st := t.g.trailers(); st != nil {
		tr := http.Header{}
		for _, k := range []string{"Grpc-Status", "Grpc-Message", "X-Customs-Flow", "X-Customs-Policy"} {
			if v := st.Values(k); len(v) > 0 {
				tr[k] = v
			}
		}
		t.resp.Trailer = tr
		return n, io.EOF
	}
	return n, err
}

func (t *grpcTail) Close() error { return t.rc.Close() }
