package wsframe

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
)

// Encoder writes messages for one direction, compressing when the extension says so, with its
// own compression context (context takeover per the Extension for that role). Use one Encoder
// per direction for the life of the connection: with context takeover its context is part of
// the receiver's state. The first compressed message allocates the compressor, some 0.8 MiB
// (1 MiB for a window under 32 KiB); an Encoder that never compresses allocates nothing. An
// Encoder is not safe for concurrent use.
type Encoder struct {
	role     Role
	deflate  bool
	takeover bool
	window   int
	fw       *flate.Writer // created at the first compressed message
	buf      bytes.Buffer  // fw writes here
}

// NewEncoder returns an Encoder for frames that role writes (Client: masked).
func NewEncoder(role Role, ext Extension) *Encoder {
	return &Encoder{role: role, deflate: ext.Deflate, takeover: ext.Takeover(role), window: ext.window(role)}
}

// Append appends one unfragmented frame to dst and returns it; client role masks with a fresh
// random key (crypto/rand). compress is honoured for data messages when permessage-deflate was
// negotiated and ignored otherwise; a compressed message joins the Encoder's context, an
// uncompressed one does not (RFC 7692 section 6.1). Append panics on an opcode that is not a
// message's (OpContinuation or unknown) and on a control payload over 125 bytes: those are
// bugs in the caller, which forwards what a Reader returned.
func (e *Encoder) Append(dst []byte, opcode byte, payload []byte, compress bool) []byte {
	if !knownOpcode(opcode) || opcode == OpContinuation {
		panic(fmt.Sprintf("wsframe: Append with opcode %d", opcode))
	}
	if isControl(opcode) && len(payload) > maxControlPayload {
		panic(fmt.Sprintf("wsframe: Append of a %d-byte control frame", len(payload)))
	}
	compress = compress && e.deflate && !isControl(opcode)
	if compress {
		payload = e.compressMessage(payload)
	}
	return appendFrame(dst, e.role, compress, opcode, payload)
}

// compressMessage returns the message compressed per RFC 7692 section 7.2.1: DEFLATE data
// ended by a sync flush, without the flush's final 00 00 ff ff. The result is valid until the
// next call.
func (e *Encoder) compressMessage(p []byte) []byte {
	e.buf.Reset()
	if e.fw == nil || !e.takeover {
		e.resetWriter()
	}
	// Writes into a bytes.Buffer do not fail, so neither does the flate.Writer.
	if _, err := e.fw.Write(p); err != nil {
		panic("wsframe: flate write: " + err.Error())
	}
	if err := e.fw.Flush(); err != nil {
		panic("wsframe: flate flush: " + err.Error())
	}
	out, ok := bytes.CutSuffix(e.buf.Bytes(), deflateTail)
	if !ok {
		panic("wsframe: flate flush did not end in an empty stored block")
	}
	return out
}

func (e *Encoder) resetWriter() {
	if e.fw != nil {
		e.fw.Reset(&e.buf)
		return
	}
	var err error
	if e.window >= 1<<15 {
		// BestSpeed: the proxy re-encodes on the request path; prompts are text and compress
		// well at any level.
		e.fw, err = flate.NewWriter(&e.buf, flate.BestSpeed)
	} else {
		// A server that asked for a smaller window allocated only that much: never refer back
		// further.
		e.fw, err = flate.NewWriterWindow(&e.buf, e.window)
	}
	if err != nil {
		panic("wsframe: " + err.Error()) // the level and window are constants in range
	}
}

// appendFrame appends a final frame carrying payload, masked when role is Client.
func appendFrame(dst []byte, role Role, rsv1 bool, op byte, payload []byte) []byte {
	if role != Client {
		dst = appendHeader(dst, true, rsv1, op, len(payload), false, [4]byte{})
		return append(dst, payload...)
	}
	var key [4]byte
	// RFC 6455 section 10.3: an unpredictable key per frame, so that a client cannot choose
	// the bytes an intermediary sees. crypto/rand.Read does not fail (Go 1.24+).
	_, _ = rand.Read(key[:])
	dst = appendHeader(dst, true, rsv1, op, len(payload), true, key)
	start := len(dst)
	dst = append(dst, payload...)
	mask(key, 0, dst[start:])
	return dst
}

// CloseFrame returns a close control frame for role to send. code 1005 (no status, which may
// not go on the wire) yields an empty close body; otherwise the body is the code and reason,
// the reason made valid UTF-8 and truncated to fit 123 bytes at a UTF-8 boundary.
func CloseFrame(role Role, code uint16, reason string) []byte {
	var body []byte
	if code != 1005 {
		reason = strings.ToValidUTF8(reason, "\uFFFD")
		if len(reason) > maxControlPayload-2 {
			cut := maxControlPayload - 2
			for cut > 0 && !utf8.RuneStart(reason[cut]) {
				cut--
			}
			reason = reason[:cut]
		}
		body = binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), code)
		body = append(body, reason...)
	}
	return appendFrame(nil, role, false, OpClose, body)
}
