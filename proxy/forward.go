package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
)

// handleRequest serves one request, intercepted (inside a CONNECT) or plain (absolute URI): it
// inspects, enforces the verdict, forwards, and returns the response for goproxy to write. It
// always returns a response, so goproxy never round-trips on its own and every failure reaches
// the client as an HTTP answer that says why.
func (s *Server) handleRequest(in *http.Request, ctx *goproxy.ProxyCtx) (_ *http.Request, resp *http.Response) {
	info, mode := s.requestInfo(in, ctx)
	if cc := info.conn; mode == flow.Intercepted && cc != nil {
		// No client deadline while this request is served; the idle one once its answer is out.
		cc.requestStart()
		defer func() { resp = cc.track(resp) }()
		if info.tls && in.URL.Scheme == "http" {
			// customs terminated the client's TLS itself (see open), so goproxy read plaintext
			// and named the scheme after it.
			in.URL.Scheme = "https"
		}
	}
	f := s.newFlow(in, info, mode)
	// goproxy serves intercepted connections on goroutines without a recover: a panic anywhere in
	// inspection would take the whole proxy down. One bad request must only fail itself.
	defer func() {
		if p := recover(); p != nil {
			s.opts.Logger.Error().Str("flow_id", f.ID).Str("host", f.Host).Any("panic", p).
				Bytes("stack", debug.Stack()).Msg("recovered from a panic while handling a request")
			f.Verdict = flow.Verdict{}
			resp = s.finishEarly(f, in, http.StatusInternalServerError, "customs: internal error handling this request (flow "+f.ID+")", "internal")
		}
	}()
	if s.isDraining() {
		return in, s.finishEarly(f, in, http.StatusServiceUnavailable, "customs: shutting down", "")
	}
	if f.Host == "" {
		return in, s.finishEarly(f, in, http.StatusBadRequest, "customs: request has no host", "client")
	}
	if mode == flow.Intercepted && f.Host != info.name {
		// The scope decision, the certificate and the record were all for the opened name; a
		// request for another host inside that session would be forwarded to a host customs
		// never chose to open (domain fronting).
		return in, s.finishEarly(f, in, http.StatusMisdirectedRequest,
			fmt.Sprintf("customs: request for host %q inside a tunnel opened for %q", f.Host, info.name), "client")
	}
	if mode == flow.Intercepted && info.port != "" && urlPort(in.URL) != info.port {
		// The same for the port: the CONNECT's port is the one the port rule allowed.
		return in, s.finishEarly(f, in, http.StatusMisdirectedRequest,
			fmt.Sprintf("customs: request for port %s inside a tunnel opened for port %s", urlPort(in.URL), info.port), "client")
	}
	if mode == flow.Plain {
		if refusal := s.checkTarget(in.Context(), f.Host, urlPort(in.URL), false); refusal != nil {
			f.Verdict = flow.Verdict{Action: flow.Block, Policy: refusal.Policy, Message: refusal.Error()}
			return in, s.finishEarly(f, in, http.StatusForbidden, refusal.Error(), "")
		}
		if _, err := netip.ParseAddr(f.Host); err == nil {
			f.Mark(flow.MarkIPTarget)
		}
		if !s.opensPlain(f) {
			// Out-of-scope plain HTTP passes through like a tunnel: metadata only, body unread.
			s.opts.Pipeline.Classify(f)
			return in, s.forward(f, info, in, in.Body, in.ContentLength)
		}
	}

	for _, name := range []string{"Content-Type", "Grpc-Encoding"} {
		if len(in.Header.Values(name)) > 1 {
			// A server may read the first value or the last (gRPC's the last encoding, and any
			// content type of several that names gRPC): customs would inspect one request and
			// the vendor read another.
			return in, s.finishEarly(f, in, http.StatusBadRequest, "customs: a request with more than one "+name+" header is ambiguous and is refused", "client")
		}
	}
	if in.ProtoMajor == 2 && extract.IsGRPC(in.Header.Get("Content-Type")) {
		return in, s.handleGRPC(f, info, in)
	}
	window, rest, err := readWindow(in.Body, in.ContentLength, s.opts.InspectLimit)
	if err != nil {
		f.Mark(flow.MarkClientAbort)
		return in, s.finishEarly(f, in, http.StatusBadRequest, "customs: reading request body: "+err.Error(), "client")
	}
	if len(in.Trailer) > 0 {
		// Trailers come after the body, past inspection; no AI API reads request trailers, so
		// they are dropped (outbound) rather than sent unseen.
		names := make([]string, 0, len(in.Trailer))
		for k := range in.Trailer {
			names = append(names, k)
		}
		slices.Sort(names)
		f.Notes = append(f.Notes, "request trailers not forwarded: "+strings.Join(names, ", "))
	}
	f.RequestHeader = in.Header // the inbound request is read-only from here on
	if isUpgrade(in.Header) && !isWebSocket(in.Header) {
		// After a 101 the connection would carry a protocol customs does not read (h2c, a
		// vendor's own): bytes to the vendor nobody inspects. That is a decision for
		// inspection.incomplete, like any request customs cannot read whole.
		f.MarkIncompleteReason("upgrade:" + strings.ToLower(in.Header.Get("Upgrade")))
	}
	f.RequestBody = window
	// Several Content-Encoding lines are one list (RFC 9110 5.3), and the vendor decodes them
	// all.
	f.ContentEncoding = strings.Join(in.Header.Values("Content-Encoding"), ", ")
	body, length := io.Reader(bytes.NewReader(window)), int64(len(window))
	if rest != nil {
		f.Mark(flow.MarkOversize)
		if s.opts.BlockOversize {
			msg := fmt.Sprintf("customs: request body larger than the %d-byte inspection limit is refused", s.opts.InspectLimit)
			f.Verdict = flow.Verdict{Action: flow.Block, Policy: "oversize", Message: msg}
			return in, s.finishEarly(f, in, http.StatusRequestEntityTooLarge, msg, "")
		}
		length = in.ContentLength
	}

	verdict := s.opts.Pipeline.Inspect(in.Context(), f)
	if verdict.Action == flow.Redact {
		var red inspect.Redacted
		if red, verdict = s.redact(f, verdict); verdict.Action == flow.Redact {
			out := in
			if red.RawQuery != in.URL.RawQuery {
				out = in.Clone(in.Context())
				out.URL.RawQuery = red.RawQuery
			}
			return in, s.forward(f, info, out, bytes.NewReader(red.Body), int64(len(red.Body)))
		}
	}
	if verdict.Action == flow.Block {
		return in, s.blockResponse(f, in, verdict)
	}
	if rest != nil {
		// Past the window the body is scanned as it streams upstream.
		sr := newScanReader(io.MultiReader(bytes.NewReader(window), rest), s.opts.Pipeline.NewStream(in.Context(), f))
		return in, s.forwardStream(f, info, in, sr, length)
	}
	return in, s.forward(f, info, in, body, length)
}

// redact rewrites f's request for a redact verdict. When it cannot be rewritten, sending it with
// the value in it is what the policy forbids, so refusing it is the only safe answer left: the
// verdict becomes a block.
func (s *Server) redact(f *flow.Flow, verdict flow.Verdict) (inspect.Redacted, flow.Verdict) {
	red, err := s.opts.Pipeline.Redact(f)
	if err != nil {
		verdict = flow.Verdict{Action: flow.Block, Policy: verdict.Policy, Matched: verdict.Matched,
			Message: "the request had to be redacted, and " + err.Error()}
		f.Verdict = verdict
		f.Notes = append(f.Notes, "redact: "+err.Error())
		return red, verdict
	}
	f.Notes = append(f.Notes, fmt.Sprintf("redact: %d values replaced", red.Values))
	return red, verdict
}

// urlPort is the port a request URL names, or its scheme's default.
func urlPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" || u.Scheme == "wss" {
		return "443"
	}
	return "80"
}

// opensPlain reports whether a plain-HTTP proxy request is read: when its host is in scope, and
// when it names an IP address — cleartext costs nothing to read, and an address says nothing of
// the vendor behind it.
func (s *Server) opensPlain(f *flow.Flow) bool {
	if s.opts.Scope.Opens(f.Host) {
		return true
	}
	return f.HasMark(flow.MarkIPTarget) && s.opts.Scope.Mode != InterceptNone && !s.opts.Scope.Never.Match(f.Host)
}

func (s *Server) requestInfo(in *http.Request, ctx *goproxy.ProxyCtx) (*connInfo, flow.Mode) {
	if info, ok := ctx.UserData.(*connInfo); ok {
		return info, flow.Intercepted
	}
	if info, ok := in.Context().Value(connInfoKey{}).(*connInfo); ok {
		return info, flow.Plain
	}
	return &connInfo{addr: in.RemoteAddr}, flow.Plain
}

// readWindow reads up to limit bytes for inspection. If the body is longer it returns the window
// and a reader for the rest, so the whole body still streams upstream without being held.
func readWindow(body io.ReadCloser, length, limit int64) (window []byte, rest io.Reader, err error) {
	if body == nil || body == http.NoBody {
		return nil, nil, nil
	}
	if length >= 0 && length <= limit {
		// The common case: a declared length within the limit is read in one allocation.
		window = make([]byte, length)
		if _, err := io.ReadFull(body, window); err != nil {
			return nil, nil, err
		}
		return window, nil, nil
	}
	window, err = io.ReadAll(io.LimitReader(body, limit))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(window)) < limit {
		return window, nil, nil
	}
	// Probe one byte to tell "exactly limit" from "more than limit".
	var probe [1]byte
	n, err := io.ReadFull(body, probe[:])
	if n == 0 {
		if errors.Is(err, io.EOF) {
			return window, nil, nil
		}
		return nil, nil, err
	}
	return window, io.MultiReader(bytes.NewReader(probe[:]), body), nil
}

// hopHeaders are meaningful only between one client and the proxy (RFC 9110 7.6.1).
var hopHeaders = []string{"Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// outbound builds the upstream request from the inbound one, which stays untouched (as
// httputil.ProxyRequest does): the same method, URL, headers and body, minus hop-by-hop headers.
func outbound(in *http.Request, body io.Reader, length int64) *http.Request {
	out := in.Clone(in.Context())
	out.RequestURI = ""
	out.Close = false
	out.Trailer = nil // see handleRequest: trailers would reach the vendor uninspected
	upgrade := isUpgrade(in.Header)
	removeHopHeaders(out.Header)
	if in.ProtoMajor == 2 && extract.IsGRPC(in.Header.Get("Content-Type")) && headerHasToken(in.Header, "Te", "trailers") {
		// gRPC servers ask for it (RFC 9113 8.2.2 lets "trailers" through), and customs does
		// pass the vendor's trailers on.
		out.Header.Set("Te", "trailers")
	}
	if upgrade {
		// A WebSocket upgrade needs its hop-by-hop pair to reach the vendor.
		out.Header.Set("Connection", "Upgrade")
		out.Header.Set("Upgrade", in.Header.Get("Upgrade"))
		wsOfferable(out.Header)
	}
	if body == nil || length == 0 {
		out.Body, out.ContentLength = http.NoBody, 0
		if in.Method == http.MethodGet || in.Method == http.MethodHead {
			out.Body = nil
		}
	} else {
		out.Body, out.ContentLength = io.NopCloser(body), length
		if length >= 0 {
			out.TransferEncoding = nil
		}
	}
	return out
}

// removeHopHeaders deletes the hop-by-hop headers and those the Connection header names.
func removeHopHeaders(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	h.Del("Connection")
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

func isWebSocket(h http.Header) bool {
	return headerHasToken(h, "Upgrade", "websocket")
}

func isUpgrade(h http.Header) bool {
	return headerHasToken(h, "Connection", "upgrade") && h.Get("Upgrade") != ""
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// forward sends the request upstream and returns the response with its body wrapped so that the
// flow is recorded when the client has received it all (or gone away).
func (s *Server) forward(f *flow.Flow, info *connInfo, in *http.Request, body io.Reader, length int64) *http.Response {
	return s.forwardStream(f, info, in, body, length)
}

// bodyScan is a request body inspected as it goes upstream: a body past the inspection window
// (scanReader), a gRPC client stream (grpcStream).
type bodyScan interface {
	io.ReadCloser
	// verdictNow reports whether the scan has blocked the body so far, without waiting.
	verdictNow() (flow.Verdict, bool)
	// outcome waits until the scan is over and reports its verdict and whether it blocked the
	// body. The flow's findings are the scan's to change until then.
	outcome() (flow.Verdict, bool)
}

// forwardStream is forward for a body that may be a bodyScan: a scan that blocks the body
// aborts the upstream request and answers the client with the block, and the flow is recorded
// only once the scan is over.
func (s *Server) forwardStream(f *flow.Flow, info *connInfo, in *http.Request, body io.Reader, length int64) *http.Response {
	s.inflight.add()
	sr, _ := body.(bodyScan)
	var sent countingReader
	if body != nil && body != http.NoBody {
		sent.r = body
		body = &sent
	}
	out := outbound(in, body, length)
	if sr != nil {
		// The transport closes the body when it is done with it; the scan must hear of it.
		out.Body = struct {
			io.Reader
			io.Closer
		}{out.Body, sr}
	}
	if f.Mode == flow.Intercepted {
		if addr := info.dialAddr(); addr != "" {
			// The client chose the address (a CONNECT to an IP); the name it authenticated is
			// still what the upstream certificate is verified against.
			out = out.WithContext(context.WithValue(out.Context(), dialAddrKey{}, addr))
		}
	}
	resp, err := s.transport.RoundTrip(out)
	if sr != nil {
		// A failed round trip may be the scan's abort: wait for the scan to say. A response
		// may come before the body is all sent (a full-duplex API); the scan then goes on, and
		// the flow takes its verdict when it is recorded.
		v, blocked := sr.verdictNow()
		if err != nil {
			v, blocked = sr.outcome()
		}
		if blocked {
			if err == nil {
				_ = resp.Body.Close() // an early answer to a request the vendor never got whole
			}
			f.RequestBytes = sent.n.Load()
			f.Verdict = v
			resp := s.blockResponse(f, in, v)
			s.inflight.done()
			return resp
		}
	}
	var refusal *DestinationError
	if errors.As(err, &refusal) {
		// Refused at dial time: the name resolved to a refused address (DNS rebinding).
		f.RequestBytes = sent.n.Load()
		f.Verdict = flow.Verdict{Action: flow.Block, Policy: refusal.Policy, Message: refusal.Error()}
		resp := s.finishEarly(f, in, http.StatusForbidden, refusal.Error(), "")
		s.inflight.done()
		return resp
	}
	if err != nil {
		f.RequestBytes = sent.n.Load()
		if in.Context().Err() != nil {
			f.Mark(flow.MarkClientAbort)
		}
		kind, msg := classifyUpstreamError(f.Host, err)
		status := http.StatusBadGateway
		if kind == "timeout" {
			status = http.StatusGatewayTimeout
		}
		resp := s.finishEarly(f, in, status, msg, kind)
		s.inflight.done()
		return resp
	}
	f.Status = resp.StatusCode
	f.ResponseHeader = resp.Header
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// Hop-by-hop headers describe the vendor's connection to customs, not customs' to the
		// client; an HTTP/2 client rejects a response that carries them.
		removeHopHeaders(resp.Header)
	}
	if f.Mode == flow.Plain && resp.ContentLength < 0 && in.Method != http.MethodHead {
		// goproxy's plain-HTTP path flushes each write only for SSE or a chunked response
		// header; without this, a streamed NDJSON or JSON-array answer (Gemini's
		// streamGenerateContent) would sit in the server's buffer until it ends.
		resp.Header.Set("Transfer-Encoding", "chunked")
	}
	gs, _ := sr.(*grpcStream)
	if gs != nil {
		if resp.ContentLength == 0 {
			// The vendor answered trailers-only: the call is over, whatever the client still
			// sends (waiting for its stream's end would hold the answer back from it).
			gs.finish()
		}
		resp.Body = &grpcTail{rc: resp.Body, resp: resp, g: gs}
	}
	rb := &flowBody{rc: resp.Body, f: f, finish: func(f *flow.Flow, up int64, answer []byte) error {
		if sr != nil {
			// The stream's findings and verdict are final only once the body has been read.
			f.Verdict, _ = sr.outcome()
		}
		f.RequestBytes = sent.n.Load() + up
		f.ResponseBody = answer
		if len(answer) > 0 && f.API != "" {
			s.opts.Pipeline.InspectResponse(f, resp.Header, answer)
		} else if f.HasMark(flow.MarkWebSocket) && slices.ContainsFunc(f.Findings, func(x flow.Finding) bool { return strings.HasPrefix(x.Path, "response:") }) {
			s.opts.Pipeline.DecideAnswer(in.Context(), f) // what the vendor sent in the session
		}
		err := s.finish(f)
		s.inflight.done()
		return err
	}}
	if gs != nil {
		gs.attach(rb)
	}
	if _, ok := s.opts.Recorder.(flow.DurableRecorder); ok && resp.StatusCode != http.StatusSwitchingProtocols {
		rb.durable, rb.length = true, resp.ContentLength
		if resp.ContentLength == 0 || in.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
			// A bodiless answer is whole as soon as its head is sent: record before.
			if err := rb.settle(); err != nil {
				_ = resp.Body.Close()
				return textResponse(in, http.StatusServiceUnavailable, "customs: the exchange could not be recorded durably ("+err.Error()+"); the answer is withheld")
			}
		}
	}
	if s.opts.ResponseLimit > 0 && resp.StatusCode != http.StatusSwitchingProtocols {
		// Keep the vendor's answer (bounded): for the record, and for extraction once the client
		// has it when the API is one customs reads.
		rb.keep = int(s.opts.ResponseLimit)
		if resp.ContentLength > 0 {
			rb.answer = make([]byte, 0, min(resp.ContentLength, s.opts.ResponseLimit))
		}
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		f.Mark(flow.MarkWebSocket)
		if rw, ok := resp.Body.(io.ReadWriteCloser); ok {
			if f.RequestHeader != nil && isWebSocket(in.Header) {
				// An inspected request: every message of its session is inspected too.
				resp.Body = s.newWSSession(in.Context(), f, resp, rw, rb)
				return resp
			}
			resp.Body = &flowConn{flowBody: rb, w: rw}
			return resp
		}
	}
	resp.Body = rb
	return resp
}

// finishEarly answers the client without reaching upstream and records the flow.
func (s *Server) finishEarly(f *flow.Flow, in *http.Request, status int, msg, kind string) *http.Response {
	if f.Vendor.ID == "" {
		s.opts.Pipeline.Classify(f) // refused or failed flows still say which vendor they were for
	}
	f.Status = status
	if kind != "" {
		f.Error, f.ErrorKind = msg, kind
	}
	_ = s.finish(f) // customs' own answer: given even when the record fails (logged)
	return textResponse(in, status, msg)
}

// blockResponse refuses a request the policy blocked, in the error shape of the vendor the
// client called (see inspect.RefusalFor). Nothing reaches the upstream.
func (s *Server) blockResponse(f *flow.Flow, in *http.Request, v flow.Verdict) *http.Response {
	r := inspect.RefusalFor(f, v)
	if r.Status == http.StatusOK && in.ProtoMajor < 2 {
		// A gRPC-shaped refusal says it in trailers-only headers, which only HTTP/2 gRPC
		// clients read; anyone else must not take the 200 for a success.
		r.Status = http.StatusForbidden
	}
	f.Status = r.Status
	_ = s.finish(f) // a refusal leaks nothing: given even when the record fails (logged)
	resp := goproxy.NewResponse(in, r.Header.Get("Content-Type"), r.Status, string(r.Body))
	for k, vs := range r.Header {
		resp.Header[k] = vs
	}
	return resp
}

func (s *Server) finish(f *flow.Flow) error {
	if f.End.IsZero() {
		f.End = time.Now()
	}
	if f.Verdict.Action == "" {
		f.Verdict.Action = flow.Allow
	}
	return s.record(f)
}

// record hands a finished flow to the recorders. With a durable recorder (store.durability:
// sync) it returns once the flow is committed and synced, or with the reason it is not; the
// caller decides what that means for the client (see flowBody.settle).
func (s *Server) record(f *flow.Flow) error {
	d, ok := s.opts.Recorder.(flow.DurableRecorder)
	if !ok {
		s.opts.Recorder.Record(f)
		return nil
	}
	if err := d.RecordDurable(f); err != nil {
		s.opts.Logger.Error().Str("flow_id", f.ID).Err(err).Msg("flow not recorded durably")
		return err
	}
	return nil
}

func textResponse(in *http.Request, status int, msg string) *http.Response {
	if in != nil && in.ProtoMajor == 2 && extract.IsGRPC(in.Header.Get("Content-Type")) {
		// A gRPC client reads the call's status, not a body: the same message, as a status.
		resp := goproxy.NewResponse(in, "application/grpc", http.StatusOK, "")
		for k, v := range inspect.GRPCStatus(inspect.GRPCCode(status), msg) {
			resp.Header[k] = v
		}
		return resp
	}
	return goproxy.NewResponse(in, "text/plain; charset=utf-8", status, msg+"\n")
}

// countingReader counts the body bytes the transport has read. The transport's write loop may
// make its last Read while the response is already being recorded, hence the atomic.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// flowBody counts the response bytes the client reads and finishes the flow exactly once, when
// goproxy closes the body after writing it (or after the client went away). For a WebSocket the
// two directions run in two goroutines and Close may come from a third, hence the mutex.
type flowBody struct {
	rc     io.ReadCloser
	f      *flow.Flow
	finish func(f *flow.Flow, up int64, answer []byte) error
	keep   int    // response bytes to keep for extraction
	answer []byte // the first keep bytes of the response

	mu   sync.Mutex
	down int64 // bytes read from upstream
	up   int64 // bytes written upstream after an upgrade
	eof  bool
	err  error
	done bool

	// With a durable recorder the end of the answer is held back until the flow is committed
	// and synced: the last byte when the length is known, else the end of the stream (the
	// final chunk, END_STREAM or close, which is what completes the answer for the client).
	durable bool
	length  int64  // the answer's Content-Length, -1 when unknown
	ending  bool   // the upstream body is whole; what is held goes once settled
	held    []byte // the held last byte
	settled bool
	setErr  error
}

func (b *flowBody) Read(p []byte) (int, error) {
	if !b.durable {
		return b.read(p)
	}
	if b.ending {
		if err := b.settle(); err != nil {
			return 0, fmt.Errorf("customs: the exchange could not be recorded durably, the answer's end is withheld: %w", err)
		}
		if len(b.held) > 0 {
			n := copy(p, b.held)
			b.held = b.held[n:]
			return n, nil
		}
		return 0, io.EOF
	}
	n, err := b.read(p)
	switch {
	case b.length > 0 && b.downNow() >= b.length && n > 0:
		b.held = append(b.held[:0], p[n-1])
		b.ending = true
		return n - 1, nil
	case errors.Is(err, io.EOF):
		b.ending = true
		return n, nil
	}
	return n, err
}

func (b *flowBody) downNow() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.down
}

// settle finishes the flow (its record included) once, before the end of the answer goes to
// the client.
func (b *flowBody) settle() error {
	if b.settled {
		return b.setErr
	}
	b.settled = true
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return nil
	}
	b.done = true
	b.eof = true
	f := b.f
	f.ResponseBytes = b.down
	up, answer := b.up, b.answer
	b.mu.Unlock()
	b.setErr = b.finish(f, up, answer)
	return b.setErr
}

func (b *flowBody) read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	b.down += int64(n)
	if room := b.keep - len(b.answer); room > 0 && n > 0 {
		b.answer = append(b.answer, p[:min(n, room)]...)
	}
	if errors.Is(err, io.EOF) {
		b.eof = true
	} else if err != nil && b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	return n, err
}

func (b *flowBody) Close() error {
	err := b.rc.Close()
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return err
	}
	b.done = true
	f := b.f
	f.ResponseBytes = b.down
	switch {
	case f.HasMark(flow.MarkWebSocket):
		// A session ends when either side hangs up; neither is an error.
	case b.err != nil:
		f.ErrorKind, f.Error = classifyUpstreamError(f.Host, b.err)
	case !b.eof:
		f.Mark(flow.MarkClientAbort)
	}
	up, answer := b.up, b.answer
	b.mu.Unlock()
	_ = b.finish(f, up, answer)
	return err
}

// flowConn is a WebSocket session's upstream side: goproxy writes client frames into it and reads
// vendor frames from it; both directions are counted.
type flowConn struct {
	*flowBody
	w io.Writer
}

func (c *flowConn) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.mu.Lock()
	c.up += int64(n)
	c.mu.Unlock()
	return n, err
}
