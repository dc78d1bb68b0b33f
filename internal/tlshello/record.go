package tlshello

import (
	"fmt"
)

// MaxMessageSize bounds a handshake message, header included. The 24-bit length field allows
// 16 MiB; real ClientHellos (post-quantum key shares included) stay under 8 KiB and certificate
// chains under 16 KiB, so a larger announcement is refused rather than waited for.
const MaxMessageSize = 64 << 10

const (
	recordAlert     = 21
	recordHandshake = 22

	// maxRecordLen is the largest record payload accepted: RFC 8446 5.1 limits plaintext records
	// to 2^14 bytes, RFC 5246 6.2.3 lets ciphertext grow by 2048; accepting the latter costs
	// nothing and spares arguing with odd stacks.
	maxRecordLen = 1<<14 + 2048

	typeClientHello = 1
	typeServerHello = 2
	typeCertificate = 11
)

// flight reassembles the handshake messages carried by the consecutive handshake records at the
// start of one direction of a connection. A message may span records and a record may carry
// several messages (a TLS 1.2 server sends ServerHello, Certificate and ServerHelloDone in one).
type flight struct {
	stream  []byte
	who     string
	next    int    // offset in stream of the next record header
	buf     []byte // handshake bytes read from records and not yet taken as messages
	records int    // handshake records read so far
	cut     bool   // the last record read was cut short: nothing after it is available yet
}

// otherRecordError reports a non-handshake record after the first: the end of the handshake
// flight, which the server parser takes as "no certificate follows" and the client parser as a
// broken hello.
type otherRecordError struct {
	who      string
	typ      byte
	off, got int
}

func (e *otherRecordError) Error() string {
	return fmt.Sprintf("%s: record of type %d at stream offset %d, after %d bytes of handshake message", e.who, e.typ, e.off, e.got)
}

func (e *otherRecordError) Unwrap() error { return ErrMalformed }

// fill reads records until buf holds at least n bytes.
func (f *flight) fill(n int) error {
	for len(f.buf) < n {
		if f.cut || f.next >= len(f.stream) {
			return ErrNeedMore
		}
		h := f.stream[f.next:]
		first := f.next == 0
		if h[0] != recordHandshake {
			if first {
				return fmt.Errorf("%s: first byte %#02x is not a handshake record: %w", f.who, h[0], ErrNotTLS)
			}
			return &otherRecordError{who: f.who, typ: h[0], off: f.next, got: len(f.buf)}
		}
		// Every TLS version from SSL 3.0 to 1.3 writes 3.x here; the first record is held to a
		// known x too, which is what tells a stray 0x16 from TLS.
		if len(h) >= 2 && h[1] != 3 {
			if first {
				return fmt.Errorf("%s: record version %d.x: %w", f.who, h[1], ErrNotTLS)
			}
			return fmt.Errorf("%s: record version %d.x at stream offset %d: %w", f.who, h[1], f.next, ErrMalformed)
		}
		if first && len(h) >= 3 && h[2] > 4 {
			return fmt.Errorf("%s: record version 3.%d: %w", f.who, h[2], ErrNotTLS)
		}
		if len(h) < 5 {
			return ErrNeedMore
		}
		size := int(h[3])<<8 | int(h[4])
		if size == 0 || size > maxRecordLen {
			// RFC 8446 5.1 forbids empty handshake fragments; longer is past any TLS record.
			return fmt.Errorf("%s: record length %d at stream offset %d: %w", f.who, size, f.next, ErrMalformed)
		}
		payload := h[5:]
		if len(payload) < size {
			// Keep what there is: the message may end inside this record, and the rest of the
			// record cannot change it.
			f.cut = true
			f.next = len(f.stream)
		} else {
			payload = payload[:size]
			f.next += 5 + size
		}
		f.records++
		if len(f.buf) == 0 {
			// The capacity limit makes a later append copy instead of writing into the caller's
			// stream; a hello in one record is never copied at all.
			f.buf = payload[:len(payload):len(payload)]
		} else {
			f.buf = append(f.buf, payload...)
		}
	}
	return nil
}

// message returns the next whole handshake message, header included. want, when not zero, is
// the handshake type the message must have; it is checked as soon as the type byte is there, so
// a wrong message fails before it is complete.
func (f *flight) message(want byte) ([]byte, error) {
	err := f.fill(4)
	if want != 0 && len(f.buf) > 0 && f.buf[0] != want {
		return nil, fmt.Errorf("%s: handshake message type %d, want %d: %w", f.who, f.buf[0], want, ErrMalformed)
	}
	if err != nil {
		return nil, err
	}
	size := 4 + (int(f.buf[1])<<16 | int(f.buf[2])<<8 | int(f.buf[3]))
	if size > MaxMessageSize {
		return nil, fmt.Errorf("%s: handshake message of %d bytes, limit %d: %w", f.who, size, MaxMessageSize, ErrTooLarge)
	}
	if want := min(size, len(f.buf)+len(f.stream)-f.next); cap(f.buf) < want {
		// One allocation for a message spread over records, sized by what the stream holds
		// rather than by what the header claims.
		f.buf = append(make([]byte, 0, want), f.buf...)
	}
	if err := f.fill(size); err != nil {
		return nil, err
	}
	msg := f.buf[:size:size]
	f.buf = f.buf[size:]
	return msg, nil
}

// bareMessage checks a handshake message given without the record layer, as QUIC carries it.
func bareMessage(who string, b []byte, want byte) ([]byte, error) {
	if len(b) > 0 && b[0] != want {
		return nil, fmt.Errorf("%s: handshake message type %d, want %d: %w", who, b[0], want, ErrMalformed)
	}
	if len(b) < 4 {
		return nil, ErrNeedMore
	}
	size := 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3]))
	if size > MaxMessageSize {
		return nil, fmt.Errorf("%s: handshake message of %d bytes, limit %d: %w", who, size, MaxMessageSize, ErrTooLarge)
	}
	if len(b) < size {
		return nil, ErrNeedMore
	}
	return b[:size:size], nil
}
