package proxy

import (
	"context"
	"log"
	"net"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// connTracker remembers every client connection, including those goproxy hijacks for CONNECT,
// which http.Server forgets; Shutdown closes what is left after the drain. It wraps the listener
// rather than watching http.ConnState, because a hijacked connection never reports its close.
type connTracker struct {
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func newConnTracker() *connTracker { return &connTracker{conns: make(map[*trackedConn]struct{})} }

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
	l.t.mu.Lock()
	l.t.conns[tc] = struct{}{}
	l.t.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
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
