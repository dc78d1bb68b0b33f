package wsframe

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzConfig reads the fuzzer's mode byte: bit 0 the role, bit 1 deflate, bit 2 no context
// takeover, bits 3-4 the window bits, bits 5-7 how the stream is cut into Feed calls.
func fuzzConfig(mode uint8) (Role, Extension, int) {
	role := Role(mode & 1)
	bits := [4]int{15, 8, 10, 12}[mode>>3&3]
	ext := Extension{
		Deflate:                 mode&2 != 0,
		ClientNoContextTakeover: mode&4 != 0,
		ServerNoContextTakeover: mode&4 != 0,
		ClientMaxWindowBits:     bits,
		ServerMaxWindowBits:     bits,
	}
	chunk := [8]int{0, 1, 2, 3, 7, 13, 64, 1000}[mode>>5]
	return role, ext, chunk
}

// FuzzReader feeds random bytes to a Reader (both roles, with and without deflate): it must not
// panic, must keep within its limits, and must return the same whatever the Feed boundaries.
// The same bytes, read as a list of messages, go through an Encoder and must come back.
func FuzzReader(f *testing.F) {
	// Seeds from the table tests; more are under testdata/fuzz/FuzzReader.
	for _, s := range loadStreams(f) {
		mode := uint8(s.role)
		if s.ext.Deflate {
			mode |= 2
		}
		f.Add(s.bytes, mode)
		f.Add(s.bytes, mode|3<<5)
	}
	k := &testKey
	f.Add(cat(fr{op: OpText, key: k, payload: []byte("a")}, fr{fin: true, op: OpPing, key: k}, fr{fin: true, op: OpContinuation, key: k, payload: []byte("b")}), uint8(0))
	f.Add(cat(fr{fin: true, rsv: 4, op: OpBinary, key: k, payload: []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}), uint8(2|1<<5))
	f.Add(cat(fr{fin: true, op: OpClose, payload: []byte{0x03, 0xe8, 'o', 'k'}}), uint8(1))
	f.Add([]byte("\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00"), uint8(1))

	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		role, ext, chunk := fuzzConfig(mode)
		lim := Limits{MaxMessage: 4096, MaxFrames: 16}
		checkRandomStream(t, role, ext, lim, chunk, data)
		checkRoundTrip(t, role, ext, data)
	})
}

func checkRandomStream(t *testing.T, role Role, ext Extension, lim Limits, chunk int, data []byte) {
	r := NewReader(role, ext, lim)
	l := lim.normalize()
	bound := 2*(l.maxWire(true)+14*l.MaxFrames) + 2*(14+maxControlPayload) + 14
	var msgs []Message
	var err error
	for p := data; len(p) > 0 && err == nil; {
		n := len(p)
		if chunk > 0 {
			n = min(n, chunk)
		}
		err = r.Feed(p[:n])
		p = p[n:]
		if b := r.Buffered(); b > bound {
			t.Fatalf("Buffered %d over the bound %d", b, bound)
		}
		for m, ok := r.Next(); ok; m, ok = r.Next() {
			msgs = append(msgs, m)
		}
	}
	if err != nil {
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("Feed returned %T %v, want a *ProtocolError", err, err)
		}
		if pe.Code != CloseProtocolError && pe.Code != CloseInvalidPayload && pe.Code != CloseMessageTooBig {
			t.Fatalf("close code %d", pe.Code)
		}
		if pe.Offset < 0 || pe.Offset > int64(len(data)) {
			t.Fatalf("error offset %d outside the %d-byte stream", pe.Offset, len(data))
		}
	}
	var raw int
	for _, m := range msgs {
		raw += len(m.Raw)
		switch {
		case isControl(m.Opcode):
			if len(m.Payload) > maxControlPayload || m.Compressed || m.Frames != 1 {
				t.Fatalf("control message %d: %d bytes, compressed %t, %d frames", m.Opcode, len(m.Payload), m.Compressed, m.Frames)
			}
		case m.Opcode == OpText || m.Opcode == OpBinary:
			if len(m.Payload) > l.MaxMessage || m.Frames < 1 || m.Frames > l.MaxFrames {
				t.Fatalf("data message of %d bytes in %d frames over the limits", len(m.Payload), m.Frames)
			}
			if m.Opcode == OpText && !utf8.Valid(m.Payload) {
				t.Fatalf("text message is not UTF-8")
			}
			if m.Compressed && !ext.Deflate {
				t.Fatalf("compressed message without deflate")
			}
			if !m.Compressed && len(m.Payload) > len(m.Raw) {
				t.Fatalf("uncompressed payload %d bytes, raw %d", len(m.Payload), len(m.Raw))
			}
		default:
			t.Fatalf("message with opcode %d", m.Opcode)
		}
	}
	if raw > len(data) {
		t.Fatalf("messages hold %d raw bytes of a %d-byte stream", raw, len(data))
	}
	// Fed whole, the stream reads the same.
	whole, werr := readStream(role, ext, lim, data)
	if !reflect.DeepEqual(whole, msgs) || render(whole, werr) != render(msgs, err) {
		t.Fatalf("fed in chunks of %d:\n%s\nfed whole:\n%s", chunk, render(msgs, err), render(whole, werr))
	}
}

// checkRoundTrip reads data as a list of messages (a control byte, a length byte, the payload),
// writes them with an Encoder and reads them back.
func checkRoundTrip(t *testing.T, role Role, ext Extension, data []byte) {
	type msg struct {
		op       byte
		payload  []byte
		compress bool
	}
	var msgs []msg
	for total := 0; len(data) >= 2 && total < 1<<20; { // the bound keeps each run fast
		c, n := data[0], int(data[1])
		data = data[2:]
		if c&0x40 != 0 {
			n *= 97 // some messages longer than 125 and 65535 bytes
		}
		p := bytes.Repeat(data[:min(n, len(data))], 1+n/max(1, len(data)))[:min(n, len(data)*(1+n/max(1, len(data))))]
		data = data[min(n, len(data)):]
		m := msg{op: [4]byte{OpText, OpBinary, OpPing, OpPong}[c&3], payload: p, compress: c&4 != 0}
		switch {
		case isControl(m.op) && len(p) > maxControlPayload:
			m.payload = p[:maxControlPayload]
		case m.op == OpText:
			m.payload = []byte(strings.ToValidUTF8(string(p), "?"))
		}
		msgs = append(msgs, m)
		total += len(m.payload)
	}
	enc := NewEncoder(role, ext)
	var stream []byte
	for _, m := range msgs {
		stream = enc.Append(stream, m.op, m.payload, m.compress)
	}
	got, err := readStream(role, ext, Limits{}, stream)
	if err != nil {
		t.Fatalf("reading the Encoder's stream: %v", err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("%d messages back, %d sent", len(got), len(msgs))
	}
	for i, m := range msgs {
		if got[i].Opcode != m.op || !bytes.Equal(got[i].Payload, m.payload) {
			t.Fatalf("message %d: op %d %q, want op %d %q", i, got[i].Opcode, got[i].Payload, m.op, m.payload)
		}
	}
}
