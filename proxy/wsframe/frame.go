// Package wsframe reads and writes WebSocket frames (RFC 6455) with the permessage-deflate
// extension (RFC 7692), so that the proxy can look at every message a client sends to an AI
// vendor over a WebSocket (OpenAI's Realtime API) before it passes it on, and rewrite or refuse
// it.
//
// A Reader turns the bytes of one direction into whole messages, incrementally and within
// Limits whatever the peer sends; each Message keeps the exact bytes it arrived as, so that an
// allowed message is forwarded unchanged. An Encoder writes replacement messages for one
// direction with its own compression context.
//
// # Rewriting a compressed stream
//
// With context takeover (the default of permessage-deflate) each compressed message may refer
// back to the decompressed text of earlier messages of its direction: the sender's compressor
// and the receiver's inflater keep the same sliding window. When the proxy rewrites one such
// message, the receiver's window holds the rewritten text while the sender's compressor still
// holds the original, so the sender's later messages no longer decode at the receiver: they
// fail, or worse, decode without error to different text. The same holds when the proxy drops a compressed message or forwards it
// uncompressed. From that message on, the proxy must re-encode every later data message of that
// direction through one Encoder, for the life of the connection:
//
//	payload, changed := rewrite(m.Payload)
//	if isData && (changed || reencode) {
//		out = enc.Append(out, m.Opcode, payload, m.Compressed)
//		reencode = reencode || (m.Compressed && ext.Takeover(role))
//	} else {
//		out = append(out, m.Raw...)
//	}
//
// The Encoder may start with an empty context: it refers back only to what it wrote itself,
// which is also the most recent text in the receiver's window. Control frames do not touch the
// window (nor do uncompressed messages, RFC 7692 section 6.1) and are still forwarded as they
// arrived. Without context takeover for that direction (Extension.Takeover false) a rewrite
// affects only the rewritten message.
package wsframe

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Role says which side wrote a byte stream: client frames must be masked, server frames must not.
type Role int

const (
	Client Role = iota
	Server
)

func (r Role) String() string {
	switch r {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// Opcodes of RFC 6455 section 5.2.
const (
	OpContinuation byte = 0
	OpText         byte = 1
	OpBinary       byte = 2
	OpClose        byte = 8
	OpPing         byte = 9
	OpPong         byte = 10
)

// Close codes a Reader fails with (RFC 6455 section 7.4.1); a ProtocolError carries one so that
// the proxy can close both sides with it.
const (
	CloseProtocolError  uint16 = 1002
	CloseInvalidPayload uint16 = 1007 // invalid UTF-8 in a text message or close reason; corrupt deflate data
	CloseMessageTooBig  uint16 = 1009
)

// maxControlPayload is RFC 6455 section 5.5: control frames carry at most 125 bytes.
const maxControlPayload = 125

// Message is one complete WebSocket message (data: text/binary, all fragments joined) or one
// control frame (close/ping/pong). The caller owns its slices.
type Message struct {
	Opcode     byte   // OpText, OpBinary, OpClose, OpPing, OpPong
	Payload    []byte // unmasked and, if compressed, decompressed
	Compressed bool   // RSV1 was set on the first frame
	Raw        []byte // the exact bytes of every frame of this message as they arrived (for forwarding unchanged)
	Frames     int
}

// ProtocolError is why a Reader refused a stream. Code is the close code to send the peer.
type ProtocolError struct {
	Code   uint16
	Reason string // short and free of payload bytes, so it may go into a close frame or a log
	Offset int64  // stream offset of the first byte of the frame at fault
	Err    error  // the cause, when another package reported it (a flate error)
}

func (e *ProtocolError) Error() string {
	msg := fmt.Sprintf("websocket: %s (close %d, frame at byte %d)", e.Reason, e.Code, e.Offset)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ProtocolError) Unwrap() error { return e.Err }

func isControl(op byte) bool { return op&0x8 != 0 }

func knownOpcode(op byte) bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// validCloseCode is RFC 6455 section 7.4: codes a peer may put on the wire. 1004-1006 and 1015
// are reserved for local use, the rest below 3000 unassigned; 1012-1014 are IANA-registered
// since and sent by real servers.
func validCloseCode(c uint16) bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014, c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// appendHeader appends a frame header with a minimal length encoding. A zero key with masked
// false writes no masking key.
func appendHeader(dst []byte, fin, rsv1 bool, op byte, n int, masked bool, key [4]byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	var b1 byte
	if masked {
		b1 = 0x80
	}
	switch {
	case n <= 125:
		dst = append(dst, b0, b1|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if masked {
		dst = append(dst, key[:]...)
	}
	return dst
}

// mask XORs b in place with key, starting at position pos of the key, and returns the position
// after b. Masking is its own inverse. It works a word at a time: a frame payload is masked
// once on the way in and once more when the Encoder writes it, so this is on the hot path.
func mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	if len(b) >= 16 {
		// Rotate the key so that it starts at pos, then repeat it over 64 bits.
		k32 := binary.LittleEndian.Uint32(key[:])
		k32 = bits.RotateLeft32(k32, -8*pos)
		k64 := uint64(k32) | uint64(k32)<<32
		for len(b) >= 8 {
			v := binary.LittleEndian.Uint64(b)
			binary.LittleEndian.PutUint64(b, v^k64)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= key[pos&3]
		pos++
	}
	return pos & 3
}
