package proxy

import (
	"errors"
	"io"
	"sync"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
)

// errStreamBlocked aborts an upstream request whose body a streamed scan blocked.
var errStreamBlocked = errors.New("customs: request body blocked by policy while streaming")

// scanChunk is how much of a body past the window is read, scanned and held at a time.
const scanChunk = 1 << 20

// scanReader forwards a body larger than the inspection window while it is scanned: each chunk
// is given to the stream scan before it is released upstream, and the last chunk is held back
// until the scan of the whole body is done, so a block can still stop the request before the
// vendor has all of it. Memory stays at two chunks whatever the body's size.
type scanReader struct {
	src    io.Reader
	stream *inspect.Stream

	ready []byte // released: may go upstream
	held  []byte // read and scanned, not yet released
	buf   [2][]byte
	cur   int

	eof bool

	scanResult
}

// scanResult is what a body scan (scanReader, grpcStream) has decided so far, and whether it
// is over: forwardStream asks it (see bodyScan) from another goroutine than the scan's.
type scanResult struct {
	mu      sync.Mutex
	verdict flow.Verdict
	blocked bool

	once sync.Once
	done chan struct{} // closed once the scan is over (end of body, block, or abandoned)
}

func newScanResult(v flow.Verdict) scanResult {
	return scanResult{verdict: v, done: make(chan struct{})}
}

func newScanReader(src io.Reader, st *inspect.Stream) *scanReader {
	return &scanReader{src: src, stream: st, scanResult: newScanResult(flow.Verdict{}),
		buf: [2][]byte{make([]byte, scanChunk), make([]byte, scanChunk)}}
}

func (r *scanReader) Read(p []byte) (int, error) {
	for len(r.ready) == 0 {
		if _, blocked := r.state(); blocked {
			return 0, errStreamBlocked
		}
		if r.eof {
			return 0, io.EOF
		}
		chunk := r.buf[r.cur]
		n, err := io.ReadFull(r.src, chunk)
		chunk = chunk[:n]
		if n > 0 {
			if v := r.stream.Write(chunk); v.Action == flow.Block {
				r.block(v)
				return 0, errStreamBlocked
			}
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			// The whole body has been read: finish the scan before the last part goes.
			v := r.stream.Close()
			if v.Action == flow.Block {
				r.block(v)
				return 0, errStreamBlocked
			}
			r.mu.Lock()
			r.verdict = v
			r.mu.Unlock()
			r.eof = true
			r.ready = append(r.held, chunk...)
			r.held = nil
			r.finish()
		case err != nil:
			r.finish()
			return 0, err
		default:
			r.ready, r.held = r.held, chunk
			r.cur ^= 1
		}
	}
	n := copy(p, r.ready)
	r.ready = r.ready[n:]
	return n, nil
}

// verdictNow reports whether the scan has blocked the body so far, without waiting.
func (r *scanResult) verdictNow() (flow.Verdict, bool) {
	select {
	case <-r.done:
		return r.state()
	default:
		return flow.Verdict{}, false
	}
}

func (r *scanResult) state() (flow.Verdict, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.verdict, r.blocked
}

// end marks the scan over.
func (r *scanResult) end() { r.once.Do(func() { close(r.done) }) }

// outcome waits until the scan is over and reports its verdict and whether it blocked the
// body. The flow's findings are the scan's to change until then.
func (r *scanResult) outcome() (flow.Verdict, bool) {
	<-r.done
	return r.state()
}

func (r *scanReader) block(v flow.Verdict) {
	r.mu.Lock()
	r.verdict, r.blocked = v, true
	r.mu.Unlock()
	r.ready, r.held = nil, nil
	r.finish()
}

func (r *scanReader) finish() { r.end() }

// Close is called by the transport once it stops reading the body (sent, or given up on).
func (r *scanReader) Close() error {
	select {
	case <-r.done:
	default:
		// Abandoned before its end: what was scanned so far is the verdict.
		r.stream.Abort()
		r.mu.Lock()
		r.verdict = r.stream.Verdict()
		r.mu.Unlock()
	}
	r.finish()
	return nil
}
