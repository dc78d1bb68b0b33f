package wsframe

import (
	"bytes"
	"errors"
	"io"

	// klauspost/compress/flate rather than compress/flate: its NewWriterWindow is the only way to
	// honour a negotiated max_window_bits below 15 when the Encoder compresses, and it inflates
	// faster (BenchmarkInflate, 4 KiB prompt-shaped messages each reset with a 32 KiB
	// dictionary: 1.4x to 3x on a loaded 2-core VM, best runs 240 vs 70 MB/s). Its BestSpeed
	// writer is also the smallest (0.8 MiB against 1.2 MiB). Both speak plain DEFLATE, so peers
	// using either interoperate (coder/websocket, in the tests, uses compress/flate).
	"github.com/klauspost/compress/flate"
)

var errTooBig = errors.New("decompressed message exceeds the limit")

// deflateTail is what RFC 7692 section 7.2.2 has the receiver append to a compressed message:
// the end of the empty stored block of the sync flush that the sender removed.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// inflater decompresses the messages of one direction. With context takeover it carries the
// LZ77 window from one compressed message to the next as a preset dictionary: the last size
// bytes of decompressed output, where size is 2^max_window_bits of the sender, the most a
// conforming sender may refer back. A dictionary rather than one long-lived inflater because a
// message may end its DEFLATE stream (BFINAL set, RFC 7692 section 7.2.3.3) and the next one
// still share the window; and because it leaves no inflater state half-way through a message.
type inflater struct {
	takeover bool
	size     int
	window   []byte // only with takeover; grows to size
	fr       io.ReadCloser
	src      bytes.Reader
}

func (f *inflater) init(takeover bool, size int) {
	f.takeover, f.size = takeover, size
}

// inflate decompresses one message's payload (p is modified: the tail is appended). It fails
// with errTooBig as soon as the output would pass limit: the output buffer doubles as it fills
// but never past limit+1 bytes.
func (f *inflater) inflate(p []byte, limit int) ([]byte, error) {
	p = append(p, deflateTail...)
	f.src.Reset(p)
	var dict []byte
	if f.takeover {
		dict = f.window
	}
	if f.fr == nil {
		f.fr = flate.NewReaderDict(&f.src, dict)
	} else if err := f.fr.(flate.Resetter).Reset(&f.src, dict); err != nil {
		return nil, err
	}

	out := make([]byte, 0, min(limit+1, max(512, 4*len(p))))
	for {
		if len(out) == cap(out) {
			if len(out) > limit {
				return nil, errTooBig
			}
			grown := make([]byte, len(out), min(limit+1, 2*cap(out)))
			copy(grown, out)
			out = grown
		}
		n, err := f.fr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			// EOF: the message ended its DEFLATE stream (BFINAL). ErrUnexpectedEOF: the input
			// ran out, which is how every message ends after the tail's empty stored block;
			// like other implementations we do not tell it from compressed data cut short.
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(out) > limit {
		return nil, errTooBig
	}
	if f.takeover {
		f.remember(out)
	}
	return out, nil
}

// remember keeps the last size bytes of the output for the next message.
func (f *inflater) remember(out []byte) {
	if f.window == nil {
		f.window = make([]byte, 0, f.size)
	}
	if len(out) >= f.size {
		f.window = append(f.window[:0], out[len(out)-f.size:]...)
		return
	}
	if keep := f.size - len(out); len(f.window) > keep {
		n := copy(f.window, f.window[len(f.window)-keep:])
		f.window = f.window[:n]
	}
	f.window = append(f.window, out...)
}
