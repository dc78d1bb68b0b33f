package proxy

import (
	"context"
	"log"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// connTracker remembers every client connection, including those goproxy hijacks for CONNECT,
// which http.Server forgets; Shutdown closes what is left after the drain. It wraps the listener
// rather than watching http.ConnState, because a hijacked connection never reports its close.
//
// It also applies the connection limits: a connection accepted over max in total, or over
// perClient from one IP address, is marked refused; serveHTTP answers its first request with a
// 503 and closes it. Refused connections do not count against the limits, and may hold their
// socket for refusedGrace at most.
type connTracker struct {
	mu        sync.Mutex
	conns     map[*trackedConn]struct{}
	max       int
	perClient int
	admitted  int
	byClient  map[netip.Addr]int
}

// refusedGrace bounds how long a connection over a limit may take to send the request that
// gets its 503.
const refusedGrace = 5 * time.Second

func newConnTracker(max, perClient int) *connTracker {
	return &connTracker{conns: make(map[*trackedConn]struct{}), max: max, perClient: perClient, byClient: map[netip.Addr]int{}}
}

// trackedConnKey finds a request's *trackedConn in its context (http.Server.ConnContext).
type trackedConnKey struct{}

func (t *connTracker) listener(ln net.Listener) net.Listener {
	return &trackedListener{Listener: ln, t: t}
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	conns := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

func (t *connTracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

type trackedListener struct {
	net.Listener
	t *connTracker
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: l.t}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		tc.client = ap.Addr().Unmap()
	}
	t := l.t
	t.mu.Lock()
	t.conns[tc] = struct{}{}
	switch {
	case t.admitted >= t.max:
		tc.refused = "max_connections"
	case t.byClient[tc.client] >= t.perClient:
		tc.refused = "max_connections_per_client"
	default:
		tc.admitted = true
		t.admitted++
		t.byClient[tc.client]++
	}
	t.mu.Unlock()
	if tc.refused != "" {
		tc.refuseBy = time.Now().Add(refusedGrace)
		_ = tc.Conn.SetDeadline(tc.refuseBy)
	}
	return tc, nil
}

type trackedConn struct {
	net.Conn
	t        *connTracker
	once     sync.Once
	client   netip.Addr
	admitted bool      // counted against the limits
	refused  string    // the limit it is over ("" when admitted)
	refuseBy time.Time // a refused connection's deadlines never go past this
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		t := c.t
		t.mu.Lock()
		delete(t.conns, c)
		if c.admitted {
			t.admitted--
			if t.byClient[c.client]--; t.byClient[c.client] <= 0 {
				delete(t.byClient, c.client)
			}
		}
		t.mu.Unlock()
	})
	return c.Conn.Close()
}

// SetDeadline and SetReadDeadline keep a refused connection within its grace: the HTTP server
// would otherwise give it the full header timeout.
func (c *trackedConn) SetDeadline(t time.Time) error {
	return c.Conn.SetDeadline(c.clamp(t))
}

func (c *trackedConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.clamp(t))
}

func (c *trackedConn) clamp(t time.Time) time.Time {
	if !c.refuseBy.IsZero() && (t.IsZero() || t.After(c.refuseBy)) {
		return c.refuseBy
	}
	return t
}

// CloseWrite and CloseRead keep TCP half-close working through the wrapper, so a tunnel can pass
// on one side's end of stream without cutting the other.
func (c *trackedConn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return c.Close()
}

func (c *trackedConn) CloseRead() error {
	if hc, ok := c.Conn.(interface{ CloseRead() error }); ok {
		return hc.CloseRead()
	}
	return nil
}

// inflight counts exchanges that have started and not yet finished, so a drain can wait for them.
// A sync.WaitGroup cannot be used: Add may race with Wait while new requests still arrive on
// intercepted keep-alive connections.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed while n == 0
}

func newInflight() *inflight {
	z := make(chan struct{})
	close(z)
	return &inflight{zero: z}
}

func (i *inflight) add() {
	i.mu.Lock()
	if i.n == 0 {
		i.zero = make(chan struct{})
	}
	i.n++
	i.mu.Unlock()
}

func (i *inflight) done() {
	i.mu.Lock()
	i.n--
	if i.n == 0 {
		close(i.zero)
	}
	i.mu.Unlock()
}

func (i *inflight) wait(ctx context.Context) error {
	for {
		i.mu.Lock()
		z, n := i.zero, i.n
		i.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-z:
			// Loop: a new exchange may have started between the close and this wake-up.
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// newStdLogger adapts zerolog for http.Server's ErrorLog (TLS handshake noise, malformed
// requests), at debug level for the same reason as goproxyLogger.
func newStdLogger(l zerolog.Logger) *log.Logger {
	return log.New(stdWriter{l}, "", 0)
}

type stdWriter struct{ log zerolog.Logger }

func (w stdWriter) Write(p []byte) (int, error) {
	w.log.Debug().Str("component", "http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
