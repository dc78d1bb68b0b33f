package quic

import "fmt"

// CryptoFrame is one CRYPTO frame: a piece of the TLS handshake byte stream
// at Offset. Feed it to a CryptoStream to put the pieces back in order.
type CryptoFrame struct {
	Offset uint64
	Data   []byte
}

// ConnectionClose is a CONNECTION_CLOSE frame of type 0x1c, the only kind
// allowed in Initial packets: a peer giving up during the handshake, e.g. a
// server refusing the ClientHello.
type ConnectionClose struct {
	ErrorCode uint64 // a QUIC transport error code; 0x0100-0x01ff carry a TLS alert
	FrameType uint64 // the frame type that triggered it, 0 if none
	Reason    []byte
}

// Frame types allowed in Initial packets (RFC 9000 §12.4, Table 3).
const (
	framePadding         = 0x00
	framePing            = 0x01
	frameAck             = 0x02
	frameAckECN          = 0x03
	frameCrypto          = 0x06
	frameConnectionClose = 0x1c
)

// frames is what an Initial packet's payload says that this package reports.
type frames struct {
	crypto []CryptoFrame
	close  *ConnectionClose
}

// parseFrames reads the frames of a decrypted Initial payload. Data slices
// alias p. Any frame type outside Table 3's Initial column is an error, as it
// is for a server (RFC 9000 §12.4): seeing one means a decryption or parsing
// bug, or a peer not speaking QUIC.
func parseFrames(p []byte) (frames, error) {
	var f frames
	for len(p) > 0 {
		typ, n := readVarint(p)
		if n == 0 {
			return f, fmt.Errorf("frame type: %w", ErrTruncated)
		}
		body := p[n:]
		var used int
		var err error
		switch typ {
		case framePadding:
			// Clients pad Initials to 1200 bytes, so runs are long.
			for used < len(body) && body[used] == 0 {
				used++
			}
		case framePing:
		case frameAck, frameAckECN:
			used, err = skipAck(body, typ == frameAckECN)
		case frameCrypto:
			var c CryptoFrame
			c, used, err = parseCrypto(body)
			if err == nil {
				f.crypto = append(f.crypto, c)
			}
		case frameConnectionClose:
			var cc ConnectionClose
			cc, used, err = parseConnectionClose(body)
			if err == nil && f.close == nil {
				f.close = &cc
			}
		default:
			return f, fmt.Errorf("frame type %#x not allowed in an Initial packet: %w", typ, ErrMalformed)
		}
		if err != nil {
			return f, err
		}
		p = body[used:]
	}
	return f, nil
}

// skipAck steps over an ACK frame (RFC 9000 §19.3). The ranges are not
// checked for consistency: what the peer acknowledges does not change what
// the ClientHello says, and a server that accepts a frame we rejected would
// make the observer blind.
func skipAck(b []byte, ecn bool) (int, error) {
	off := 0
	// Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range.
	var fields [4]uint64
	for i := range fields {
		v, n := readVarint(b[off:])
		if n == 0 {
			return 0, fmt.Errorf("ACK frame: %w", ErrTruncated)
		}
		fields[i] = v
		off += n
	}
	// Each range is two varints of at least a byte, so a huge count runs
	// out of input long before it runs out of iterations.
	for i := uint64(0); i < fields[2]; i++ {
		for range 2 { // Gap, ACK Range Length
			_, n := readVarint(b[off:])
			if n == 0 {
				return 0, fmt.Errorf("ACK range %d: %w", i, ErrTruncated)
			}
			off += n
		}
	}
	if ecn {
		for range 3 { // ECT0, ECT1, ECN-CE counts
			_, n := readVarint(b[off:])
			if n == 0 {
				return 0, fmt.Errorf("ACK ECN counts: %w", ErrTruncated)
			}
			off += n
		}
	}
	return off, nil
}

// parseCrypto reads a CRYPTO frame body (RFC 9000 §19.6).
func parseCrypto(b []byte) (CryptoFrame, int, error) {
	offset, n1 := readVarint(b)
	if n1 == 0 {
		return CryptoFrame{}, 0, fmt.Errorf("CRYPTO offset: %w", ErrTruncated)
	}
	length, n2 := readVarint(b[n1:])
	if n2 == 0 {
		return CryptoFrame{}, 0, fmt.Errorf("CRYPTO length: %w", ErrTruncated)
	}
	off := n1 + n2
	if length > uint64(len(b)-off) {
		return CryptoFrame{}, 0, fmt.Errorf("CRYPTO data of %d bytes with %d left: %w", length, len(b)-off, ErrTruncated)
	}
	if offset+length > maxVarint { // both are below 2^62, so no overflow
		return CryptoFrame{}, 0, fmt.Errorf("CRYPTO data ends past 2^62-1: %w", ErrMalformed)
	}
	end := off + int(length)
	return CryptoFrame{Offset: offset, Data: b[off:end:end]}, end, nil
}

// parseConnectionClose reads a CONNECTION_CLOSE body of type 0x1c (RFC 9000
// §19.19).
func parseConnectionClose(b []byte) (ConnectionClose, int, error) {
	var cc ConnectionClose
	off := 0
	var reasonLen uint64
	for _, dst := range []*uint64{&cc.ErrorCode, &cc.FrameType, &reasonLen} {
		v, n := readVarint(b[off:])
		if n == 0 {
			return cc, 0, fmt.Errorf("CONNECTION_CLOSE: %w", ErrTruncated)
		}
		*dst = v
		off += n
	}
	if reasonLen > uint64(len(b)-off) {
		return cc, 0, fmt.Errorf("CONNECTION_CLOSE reason of %d bytes: %w", reasonLen, ErrTruncated)
	}
	end := off + int(reasonLen)
	cc.Reason = b[off:end:end]
	return cc, end, nil
}
