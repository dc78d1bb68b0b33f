package wsframe

import (
	"encoding/binary"
	"slices"
	"unicode/utf8"
)

// Limits bound what one Reader holds. Zero fields take the defaults.
type Limits struct {
	MaxMessage int // decompressed payload bytes of one message; default 16 MiB
	MaxFrames  int // fragments per message, default 4096
}

const (
	defaultMaxMessage = 16 << 20
	defaultMaxFrames  = 4096
)

func (l Limits) normalize() Limits {
	if l.MaxMessage <= 0 {
		l.MaxMessage = defaultMaxMessage
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = defaultMaxFrames
	}
	return l
}

// maxWire is the most compressed payload a message may carry on the wire. Compressed data can
// be longer than what it decompresses to: an encoder that falls back to fixed Huffman codes on
// incompressible bytes spends up to 9 bits on each, an eighth more. Anything longer is refused
// before it is buffered, so a stream of empty deflate blocks cannot grow the buffer either.
func (l Limits) maxWire(compressed bool) int {
	if !compressed {
		return l.MaxMessage
	}
	return l.MaxMessage + l.MaxMessage/8 + 1024
}

// Reader turns one direction's byte stream into messages, incrementally: Feed may be given any
// split of the stream (one byte at a time included); Next returns complete messages in order.
//
// A Reader holds at most one incomplete data message, whose size Limits bound, plus one control
// frame; the messages it completed wait in a queue for Next, so a caller that feeds a bounded
// amount between calls to Next holds a bounded amount. A Reader is not safe for concurrent use.
type Reader struct {
	role Role // who wrote the stream
	ext  Extension
	lim  Limits
	err  *ProtocolError
	off  int64 // stream offset of the next byte fed

	// The frame being read. hdr collects its header until hdrNeed bytes are in; then remain
	// payload bytes follow.
	hdr       [14]byte
	hdrLen    int
	hdrNeed   int
	inPayload bool
	frameOff  int64
	fin       bool
	op        byte
	masked    bool
	key       [4]byte
	keyPos    int
	remain    uint64

	// A control frame being read (it may arrive between fragments of a data message).
	ctlRaw, ctlPayload []byte

	// The data message being read: open from its first frame to its final fragment. payload is
	// the unmasked wire payload, still compressed if compressed is set.
	open       bool
	msgOp      byte
	compressed bool
	frames     int
	raw        []byte
	payload    []byte

	inflater inflater

	queue []Message
	head  int
}

// NewReader returns a Reader for frames written by role (Client: frames a server receives, which
// must be masked), compressed as ext says.
func NewReader(role Role, ext Extension, lim Limits) *Reader {
	r := &Reader{role: role, ext: ext, lim: lim.normalize(), hdrNeed: 2}
	r.inflater.init(ext.Takeover(role), ext.window(role))
	return r
}

// Feed reads the next bytes of the stream. It returns a *ProtocolError (with a close code: 1002
// protocol error, 1007 invalid UTF-8 in a text message or corrupt compressed data, 1009 too
// big) on malformed input; after an error the Reader stays failed and returns the same error,
// while the messages completed before the bad frame are still returned by Next. Feed does not
// keep p.
func (r *Reader) Feed(p []byte) error {
	for len(p) > 0 && r.err == nil {
		if !r.inPayload {
			n := copy(r.hdr[r.hdrLen:r.hdrNeed], p)
			r.hdrLen += n
			r.off += int64(n)
			p = p[n:]
			if r.hdrLen == r.hdrNeed {
				r.header()
			}
			continue
		}
		n := len(p)
		if uint64(n) > r.remain {
			n = int(r.remain)
		}
		r.payloadBytes(p[:n])
		r.remain -= uint64(n)
		r.off += int64(n)
		p = p[n:]
		if r.remain == 0 {
			r.endFrame()
		}
	}
	if r.err != nil {
		return r.err
	}
	return nil
}

// Next returns the next complete message, if any.
func (r *Reader) Next() (Message, bool) {
	if r.head == len(r.queue) {
		return Message{}, false
	}
	m := r.queue[r.head]
	r.queue[r.head] = Message{}
	r.head++
	if r.head == len(r.queue) {
		r.queue, r.head = r.queue[:0], 0
	}
	return m, true
}

// AtBoundary reports whether no partial frame is buffered: the stream read so far ends where a
// frame ends, so a frame may be injected into this direction here. A fragmented data message may
// still be open (see Buffered); then only a control frame may go between its fragments
// (RFC 6455 section 5.4).
func (r *Reader) AtBoundary() bool {
	return r.err == nil && !r.inPayload && r.hdrLen == 0
}

// Buffered returns the bytes held for an incomplete message (so the proxy can bound memory): a
// partial frame and the fragments of an open data message, counting both their raw and their
// unmasked copies. Messages waiting for Next are not counted.
func (r *Reader) Buffered() int {
	return r.hdrLen + len(r.ctlRaw) + len(r.ctlPayload) + len(r.raw) + len(r.payload)
}

func (r *Reader) fail(code uint16, reason string, err error) {
	r.err = &ProtocolError{Code: code, Reason: reason, Offset: r.frameOff, Err: err}
	// A failed Reader reads nothing more: let go of what it held.
	r.inPayload, r.hdrLen = false, 0
	r.ctlRaw, r.ctlPayload, r.raw, r.payload = nil, nil, nil, nil
}

// header handles a header once hdrNeed bytes are in: first the two fixed bytes, which say how
// long the rest is, then the rest. Everything that can be checked is checked at the first two
// bytes, so that a bad stream fails before its payload is buffered.
func (r *Reader) header() {
	if r.hdrNeed == 2 {
		r.frameOff = r.off - 2
		b0, b1 := r.hdr[0], r.hdr[1]
		r.fin = b0&0x80 != 0
		rsv1 := b0&0x40 != 0
		r.op = b0 & 0x0f
		r.masked = b1&0x80 != 0
		n7 := b1 & 0x7f
		switch {
		case b0&0x30 != 0:
			r.fail(CloseProtocolError, "reserved bits RSV2/RSV3 set", nil)
		case !knownOpcode(r.op):
			r.fail(CloseProtocolError, "unknown opcode", nil)
		case isControl(r.op) && !r.fin:
			r.fail(CloseProtocolError, "fragmented control frame", nil)
		case isControl(r.op) && n7 > maxControlPayload:
			r.fail(CloseProtocolError, "control frame longer than 125 bytes", nil)
		case rsv1 && !r.ext.Deflate:
			r.fail(CloseProtocolError, "RSV1 set without permessage-deflate", nil)
		case rsv1 && (isControl(r.op) || r.op == OpContinuation):
			r.fail(CloseProtocolError, "RSV1 set on a control or continuation frame", nil)
		case r.op == OpContinuation && !r.open:
			r.fail(CloseProtocolError, "continuation frame without a message", nil)
		case (r.op == OpText || r.op == OpBinary) && r.open:
			r.fail(CloseProtocolError, "new data message before the last one ended", nil)
		case r.role == Client && !r.masked:
			r.fail(CloseProtocolError, "unmasked client frame", nil)
		case r.role == Server && r.masked:
			r.fail(CloseProtocolError, "masked server frame", nil)
		}
		if r.err != nil {
			return
		}
		if !isControl(r.op) && r.op != OpContinuation {
			r.compressed = rsv1
		}
		switch n7 {
		case 126:
			r.hdrNeed += 2
		case 127:
			r.hdrNeed += 8
		}
		if r.masked {
			r.hdrNeed += 4
		}
		if r.hdrNeed > 2 {
			return // wait for the rest of the header
		}
	}

	// The header is complete.
	var n uint64
	rest := r.hdr[2:r.hdrNeed]
	switch r.hdr[1] & 0x7f {
	case 126:
		n, rest = uint64(binary.BigEndian.Uint16(rest)), rest[2:]
	case 127:
		n, rest = binary.BigEndian.Uint64(rest), rest[8:]
		if n>>63 != 0 {
			r.fail(CloseProtocolError, "64-bit payload length with the top bit set", nil)
			return
		}
	default:
		n = uint64(r.hdr[1] & 0x7f)
	}
	// Non-minimal length encodings are accepted: RFC 6455 asks for minimal ones, but nothing
	// is ambiguous about the others and real peers send them.
	if r.masked {
		copy(r.key[:], rest)
	}
	r.keyPos = 0
	r.remain = n
	r.inPayload = true

	hdr := r.hdr[:r.hdrNeed]
	r.hdrLen, r.hdrNeed = 0, 2
	if isControl(r.op) {
		r.ctlRaw = append(make([]byte, 0, len(hdr)+int(n)), hdr...)
		r.ctlPayload = make([]byte, 0, n)
	} else {
		if !r.open {
			r.open, r.msgOp, r.frames = true, r.op, 0
		}
		r.frames++
		if r.frames > r.lim.MaxFrames {
			r.fail(CloseMessageTooBig, "too many fragments in one message", nil)
			return
		}
		// Checked before any payload is buffered, so that a header claiming 2^62 bytes
		// allocates nothing.
		if n > uint64(r.lim.maxWire(r.compressed)-len(r.payload)) {
			r.fail(CloseMessageTooBig, "message too big", nil)
			return
		}
		// Room for the frame, up to 64 KiB ahead of its bytes: exact for the common small
		// message, and no more than 64 KiB twice for a header that lies.
		grow := int(min(n, 64<<10))
		r.raw = slices.Grow(r.raw, len(hdr)+grow)
		r.payload = slices.Grow(r.payload, grow)
		r.raw = append(r.raw, hdr...)
	}
	if n == 0 {
		r.endFrame()
	}
}

// payloadBytes takes the next bytes of the current frame's payload.
func (r *Reader) payloadBytes(p []byte) {
	raw, payload := &r.raw, &r.payload
	if isControl(r.op) {
		raw, payload = &r.ctlRaw, &r.ctlPayload
	}
	*raw = append(*raw, p...)
	start := len(*payload)
	*payload = append(*payload, p...)
	if r.masked {
		r.keyPos = mask(r.key, r.keyPos, (*payload)[start:])
	}
}

// endFrame handles a frame whose payload is complete.
func (r *Reader) endFrame() {
	r.inPayload = false
	if isControl(r.op) {
		m := Message{Opcode: r.op, Payload: r.ctlPayload, Raw: r.ctlRaw, Frames: 1}
		r.ctlRaw, r.ctlPayload = nil, nil
		if r.op == OpClose && !r.checkClose(m.Payload) {
			return
		}
		r.queue = append(r.queue, m)
		return
	}
	if !r.fin {
		return
	}
	m := Message{Opcode: r.msgOp, Payload: r.payload, Compressed: r.compressed, Raw: r.raw, Frames: r.frames}
	r.open, r.raw, r.payload = false, nil, nil
	if m.Compressed {
		out, err := r.inflater.inflate(m.Payload, r.lim.MaxMessage)
		switch {
		case err == errTooBig:
			r.fail(CloseMessageTooBig, "message too big once decompressed", nil)
			return
		case err != nil:
			r.fail(CloseInvalidPayload, "corrupt compressed message", err)
			return
		}
		m.Payload = out
	}
	if m.Opcode == OpText && !utf8.Valid(m.Payload) {
		r.fail(CloseInvalidPayload, "text message is not valid UTF-8", nil)
		return
	}
	r.queue = append(r.queue, m)
}

// checkClose is RFC 6455 section 5.5.1: an empty close body, or a valid code and a UTF-8 reason.
func (r *Reader) checkClose(p []byte) bool {
	switch {
	case len(p) == 0:
		return true
	case len(p) == 1:
		r.fail(CloseProtocolError, "close frame with a 1-byte body", nil)
	case !validCloseCode(binary.BigEndian.Uint16(p)):
		r.fail(CloseProtocolError, "invalid close code", nil)
	case !utf8.Valid(p[2:]):
		r.fail(CloseInvalidPayload, "close reason is not valid UTF-8", nil)
	default:
		return true
	}
	return false
}
