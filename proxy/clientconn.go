package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/customs-dev/customs/flow"
)

// Deadlines inside opened tunnels. goproxy reads an intercepted connection without any: a
// client that sends a CONNECT and nothing more, that finishes TLS and goes quiet, or that sends
// half a header, held its connection (and goroutines) for ever, and a 256 MiB header was read
// whole and forwarded. So customs terminates the client's TLS itself (open), and hands goproxy
// the plaintext through a clientConn, which knows what the connection is doing and arms the
// read deadline that fits:
//
//   - from the CONNECT's 200 to the end of the client's TLS handshake: ClientHandshakeTimeout;
//   - reading a request's header (HTTP/1.x), from its first byte, or from the handshake for a
//     connection's first request: ClientHeaderTimeout, and at most MaxHeaderBytes (431 beyond);
//   - while requests are in flight (handleRequest to the response's end): none, so uploads and
//     streamed answers (SSE) take as long as they take;
//   - between requests: ClientIdleTimeout;
//   - after a WebSocket upgrade: none, for the life of the session.
//
// Over HTTP/2 the frames keep arriving while streams are open, so only the idle deadline
// applies (no stream in flight); the HTTP/2 server caps header lists itself (431).

// open terminates an opened tunnel's client side and hands the plaintext to goproxy, which reads
// the requests and calls handleRequest for each. first holds what customs already read of the
// client (its ClientHello, or the start of a cleartext request); answered says the client
// already has its 200.
func (s *Server) open(r *http.Request, client net.Conn, info *connInfo, first []byte, answered bool) {
	if !answered {
		if _, err := io.WriteString(client, connectResponseLine(r)); err != nil {
			_ = client.Close()
			return
		}
	}
	deadline := time.Now().Add(s.opts.ClientHandshakeTimeout)
	_ = client.SetReadDeadline(deadline)
	first, err := readStart(client, first)
	if len(first) == 0 {
		s.clientTimedOut(r, info, err, "sent nothing after its CONNECT")
		_ = client.Close()
		return
	}
	conn := net.Conn(&replayConn{Conn: client, r: io.MultiReader(bytes.NewReader(first), client)})
	h2 := false
	if first[0] == 22 { // a TLS handshake record
		tc := tls.Server(conn, s.leafConfig(info))
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			s.opts.Logger.Debug().Str("component", "proxy").Str("client", info.addr).Str("host", info.name).Err(err).
				Msg("client TLS handshake failed")
			s.clientTimedOut(r, info, err, "did not finish its TLS handshake")
			_ = client.Close()
			return
		}
		info.tls = true
		h2 = tc.ConnectionState().NegotiatedProtocol == "h2"
		conn = tc
		if h2 {
			// A client that chose HTTP/2 must open with its preface; anything else would be
			// read by goproxy as an HTTP/1 request it was never meant to be.
			_ = tc.SetReadDeadline(time.Now().Add(s.opts.ClientHeaderTimeout))
			preface := make([]byte, len(http2Preface))
			n, err := io.ReadFull(tc, preface)
			if err != nil || string(preface) != http2Preface {
				s.brokenPreface(r, info, preface[:n], err)
				_ = client.Close()
				return
			}
			conn = &replayConn{Conn: tc, r: io.MultiReader(bytes.NewReader(preface), tc)}
		}
	} else {
		h2 = bytes.HasPrefix(first, []byte(http2Preface))
	}
	_ = client.SetReadDeadline(time.Time{})
	cc := &clientConn{Conn: conn, s: s, r: r, info: info, h2: h2}
	info.conn = cc
	cc.begin()
	req := r.WithContext(context.WithValue(r.Context(), reentryKey{}, info))
	s.gp.ServeHTTP(&hijackWriter{conn: &swallowConn{Conn: cc}, h: http.Header{}}, req)
}

const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// brokenPreface records a client that negotiated HTTP/2 and then did not speak it: closed,
// with what it sent instead (its length and first bytes, quoted), for whoever looks at why.
func (s *Server) brokenPreface(r *http.Request, info *connInfo, got []byte, err error) {
	f := s.newFlow(r, info, flow.Intercepted)
	s.opts.Pipeline.Classify(f)
	what := fmt.Sprintf("%d bytes that are not the HTTP/2 preface (%.16q)", len(got), got)
	if err != nil {
		what += ", then " + err.Error()
	}
	f.Error = "customs: the client negotiated HTTP/2 and sent " + what
	f.ErrorKind = "client"
	f.End = time.Now()
	_ = s.record(f)
}

// readStart reads the client's first bytes when the peek has not: enough to tell TLS (one
// byte) from cleartext, and for cleartext enough to tell HTTP/2's preface from HTTP/1.
func readStart(c net.Conn, first []byte) ([]byte, error) {
	var err error
	buf := make([]byte, len(http2Preface))
	for len(first) == 0 || first[0] != 22 && len(first) < len(http2Preface) && strings.HasPrefix(http2Preface, string(first)) {
		var n int
		n, err = c.Read(buf[:len(http2Preface)-len(first)])
		first = append(first, buf[:n]...)
		if err != nil {
			break
		}
	}
	return first, err
}

// clientTimedOut records a client that opened a tunnel and then ran out of time in it, so a
// security team sees who holds connections open; other handshake failures (a client that does
// not trust the customs CA, a scanner) are only logged at debug level.
func (s *Server) clientTimedOut(r *http.Request, info *connInfo, err error, what string) {
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return
	}
	f := s.newFlow(r, info, flow.Intercepted)
	s.opts.Pipeline.Classify(f)
	f.Error = fmt.Sprintf("customs: the client %s within %s", what, s.opts.ClientHandshakeTimeout)
	f.ErrorKind = "timeout"
	f.End = time.Now()
	_ = s.record(f)
}

type connPhase int

const (
	phaseHeader connPhase = iota // reading a request's header (HTTP/1.x)
	phaseBusy                    // requests in flight
	phaseIdle                    // between requests
)

// clientConn is the plaintext of an opened tunnel as goproxy reads it, with the deadlines and
// the header cap described above. Reads come from goproxy's goroutine (HTTP/1.x) or the HTTP/2
// server's reader; requests start and end on other goroutines, hence the mutex.
type clientConn struct {
	net.Conn // *tls.Conn, or the cleartext stream
	s        *Server
	r        *http.Request // the CONNECT
	info     *connInfo
	h2       bool

	mu       sync.Mutex
	phase    connPhase
	active   int  // requests between handleRequest and the end of their response
	upgraded bool // a WebSocket: no deadline any more
	head     int  // bytes of the header being read
	line     []byte
}

// begin arms the first deadline once the tunnel is open.
func (c *clientConn) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.h2 {
		c.idleLocked()
		return
	}
	c.headerLocked()
}

func (c *clientConn) headerLocked() {
	c.phase, c.head, c.line = phaseHeader, 0, c.line[:0]
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.s.opts.ClientHeaderTimeout))
}

func (c *clientConn) idleLocked() {
	c.phase = phaseIdle
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.s.opts.ClientIdleTimeout))
}

// errHeaderTooLarge ends goproxy's read of a request whose header is over the cap; the client
// has had its 431 by then.
var errHeaderTooLarge = errors.New("customs: request header too large")

// headerSlack is read past MaxHeaderBytes before the cap applies, as net/http allows: the
// reader's buffer may hold the start of the body with the end of the header.
const headerSlack = 4096

func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n == 0 || c.h2 {
		return n, err
	}
	c.mu.Lock()
	if c.phase == phaseIdle {
		// The first byte of the next request: its header has ClientHeaderTimeout from now.
		c.headerLocked()
	}
	if c.phase == phaseHeader {
		c.head += n
		if room := 256 - len(c.line); room > 0 {
			c.line = append(c.line, p[:min(n, room)]...)
		}
		if c.head > c.s.opts.MaxHeaderBytes+headerSlack {
			line := string(c.line)
			c.mu.Unlock()
			c.refuseHeader(line)
			return 0, errHeaderTooLarge
		}
	}
	c.mu.Unlock()
	return n, err
}

// requestStart is called by handleRequest once goproxy has read a request's header: no deadline
// while it is served (its body may take long to upload, its answer long to stream).
func (c *clientConn) requestStart() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active++
	c.phase = phaseBusy
	_ = c.Conn.SetReadDeadline(time.Time{})
}

// requestDone is called when a request's response has been written (or abandoned).
func (c *clientConn) requestDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active--
	if c.active == 0 && !c.upgraded {
		c.idleLocked()
	}
}

// track ties the end of a request to the end of its response: goproxy closes the body once it
// has written it to the client. A WebSocket session keeps the connection busy until it ends.
func (c *clientConn) track(resp *http.Response) *http.Response {
	if resp == nil || resp.Body == nil {
		c.requestDone()
		return resp
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		c.mu.Lock()
		c.upgraded = true
		c.mu.Unlock()
		if rw, ok := resp.Body.(io.ReadWriteCloser); ok {
			// goproxy relays an upgrade through the body as an io.ReadWriter.
			resp.Body = &doneConn{ReadWriteCloser: rw, done: c.requestDone}
			return resp
		}
	}
	resp.Body = &doneBody{ReadCloser: resp.Body, done: c.requestDone}
	return resp
}

// refuseHeader answers a header over the cap with 431 and records it. The request was never
// parsed, so the flow has what the first bytes said: the method.
func (c *clientConn) refuseHeader(line string) {
	s := c.s
	msg := fmt.Sprintf("customs: request header larger than %d bytes (max_header_bytes)", s.opts.MaxHeaderBytes)
	_ = c.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = fmt.Fprintf(c.Conn, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s\n", len(msg)+1, msg)
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite()
	}
	f := s.newFlow(c.r, c.info, flow.Intercepted)
	if m, _, ok := strings.Cut(line, " "); ok && m != "" && len(m) <= 16 && strings.Trim(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
		f.Method = m
	}
	s.opts.Pipeline.Classify(f)
	f.Status = http.StatusRequestHeaderFieldsTooLarge
	f.Verdict = flow.Verdict{Action: flow.Block, Policy: "max_header_bytes", Message: msg}
	s.finish(f)
	// What net/http does before it closes a connection with unread input: give the answer time
	// to reach the client, or the close's reset may discard it there.
	time.Sleep(500 * time.Millisecond)
}

// doneBody calls done once, when the response body is closed.
type doneBody struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// doneConn is doneBody for an upgraded connection, which goproxy also writes to.
type doneConn struct {
	io.ReadWriteCloser
	done func()
	once sync.Once
}

func (b *doneConn) Close() error {
	err := b.ReadWriteCloser.Close()
	b.once.Do(b.done)
	return err
}

// replayConn is a client connection with bytes already read from it put back in front.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite keeps half-close working through the wrapper.
func (c *replayConn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return c.Conn.Close()
}

// swallowConn drops the response head goproxy writes when an opened tunnel is handed to it (it
// answers the CONNECT again); the client already has its 200.
type swallowConn struct {
	net.Conn
	headDone bool
	head     []byte
}

func (c *swallowConn) Write(p []byte) (int, error) {
	if c.headDone {
		return c.Conn.Write(p)
	}
	c.head = append(c.head, p...)
	i := bytes.Index(c.head, []byte("\r\n\r\n"))
	if i < 0 {
		return len(p), nil
	}
	c.headDone = true
	if rest := c.head[i+4:]; len(rest) > 0 {
		if _, err := c.Conn.Write(rest); err != nil {
			return 0, err
		}
	}
	c.head = nil
	return len(p), nil
}

// hijackWriter lets goproxy "hijack" a connection customs already holds.
type hijackWriter struct {
	conn net.Conn
	h    http.Header
}

func (w *hijackWriter) Header() http.Header         { return w.h }
func (w *hijackWriter) Write(p []byte) (int, error) { return w.conn.Write(p) }
func (w *hijackWriter) WriteHeader(int)             {}
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

// recordRefusal records a destination or port refusal as a blocked flow.
func (s *Server) recordRefusal(f *flow.Flow, e *DestinationError) {
	s.opts.Pipeline.Classify(f)
	f.Status = http.StatusForbidden
	f.Verdict = flow.Verdict{Action: flow.Block, Policy: e.Policy, Message: e.Error()}
	f.End = time.Now()
	_ = s.record(f)
}
