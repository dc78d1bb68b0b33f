package wsframe

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncoderRoundTrip(t *testing.T) {
	type msg struct {
		op       byte
		payload  []byte
		compress bool
	}
	msgs := []msg{
		{OpText, []byte("Hello"), true},
		{OpText, nil, true},
		{OpBinary, []byte{0, 1, 2, 255}, true},
		{OpPing, []byte("ping"), true}, // compress is ignored for control frames
		{OpText, promptText(1, 4096), true},
		{OpText, promptText(1, 4096), true}, // refers back to the previous one with takeover
		{OpText, []byte("uncompressed in between"), false},
		{OpBinary, bytes.Repeat([]byte{0xaa}, 70000), true}, // 64-bit length uncompressed
		{OpText, promptText(2, 200), false},
		{OpBinary, promptText(3, 70000), false},
		{OpPong, nil, false},
		{OpClose, []byte{0x03, 0xe8}, false},
	}
	exts := map[string]Extension{
		"none":                {},
		"deflate":             {Deflate: true},
		"no context takeover": {Deflate: true, ClientNoContextTakeover: true, ServerNoContextTakeover: true},
		"window bits 8":       {Deflate: true, ClientMaxWindowBits: 8, ServerMaxWindowBits: 8},
		"window bits 11":      {Deflate: true, ClientMaxWindowBits: 11, ServerMaxWindowBits: 11},
	}
	for name, ext := range exts {
		for _, role := range []Role{Client, Server} {
			t.Run(name+"/"+role.String(), func(t *testing.T) {
				enc := NewEncoder(role, ext)
				var stream []byte
				for _, m := range msgs {
					stream = enc.Append(stream, m.op, m.payload, m.compress)
				}
				got, err := readStream(role, ext, Limits{}, stream)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(msgs) {
					t.Fatalf("got %d messages, want %d", len(got), len(msgs))
				}
				for i, m := range msgs {
					g := got[i]
					wantCompressed := m.compress && ext.Deflate && !isControl(m.op)
					if g.Opcode != m.op || !bytes.Equal(g.Payload, m.payload) || g.Compressed != wantCompressed || g.Frames != 1 {
						t.Errorf("message %d: got op %d, %d bytes, compressed %t; want op %d, %d bytes, compressed %t",
							i, g.Opcode, len(g.Payload), g.Compressed, m.op, len(m.payload), wantCompressed)
					}
				}
			})
		}
	}
}

// TestEncoderContext checks that the Encoder keeps its compression context across messages
// exactly when the extension says so.
func TestEncoderContext(t *testing.T) {
	p := promptText(5, 2000)
	for _, tt := range []struct {
		ext      Extension
		takeover bool
	}{
		{Extension{Deflate: true}, true},
		{Extension{Deflate: true, ClientNoContextTakeover: true}, false},
		{Extension{Deflate: true, ClientMaxWindowBits: 12}, true},
	} {
		enc := NewEncoder(Client, tt.ext)
		first := len(enc.Append(nil, OpText, p, true))
		second := len(enc.Append(nil, OpText, p, true))
		if shared := second < first/4; shared != tt.takeover {
			t.Errorf("%+v: first message %d bytes, second %d; want context shared: %t", tt.ext, first, second, tt.takeover)
		}
	}
}

func TestEncoderMasking(t *testing.T) {
	payload := []byte("same payload")
	c := NewEncoder(Client, Extension{})
	a, b := c.Append(nil, OpText, payload, false), c.Append(nil, OpText, payload, false)
	if a[1]&0x80 == 0 {
		t.Errorf("client frame not masked: % x", a)
	}
	if bytes.Equal(a[2:6], b[2:6]) {
		t.Errorf("two client frames share the masking key % x", a[2:6])
	}
	if bytes.Contains(a, payload) {
		t.Errorf("masked frame carries the payload in clear: % x", a)
	}
	s := NewEncoder(Server, Extension{}).Append(nil, OpText, payload, false)
	if want := append([]byte{0x81, byte(len(payload))}, payload...); !bytes.Equal(s, want) {
		t.Errorf("server frame % x, want % x", s, want)
	}
}

func TestEncoderAppendsToDst(t *testing.T) {
	dst := []byte("prefix")
	out := NewEncoder(Server, Extension{Deflate: true}).Append(dst, OpText, []byte("Hello"), true)
	// The compressor is klauspost's, not zlib, so the bytes may differ from RFC 7692's example;
	// what matters is the prefix and that it reads back.
	if !bytes.HasPrefix(out, dst) {
		t.Fatalf("Append dropped dst: % x", out)
	}
	msgs, err := readStream(Server, Extension{Deflate: true}, Limits{}, out[len(dst):])
	if err != nil || len(msgs) != 1 || string(msgs[0].Payload) != "Hello" || out[len(dst)] != 0xc1 {
		t.Fatalf("got %v, %v from % x", msgs, err, out)
	}
}

func TestEncoderPanics(t *testing.T) {
	for _, tt := range []struct {
		name    string
		op      byte
		payload []byte
	}{
		{"continuation", OpContinuation, nil},
		{"unknown opcode", 3, nil},
		{"ping of 126 bytes", OpPing, make([]byte, 126)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Append did not panic")
				}
			}()
			NewEncoder(Server, Extension{}).Append(nil, tt.op, tt.payload, false)
		})
	}
}

func TestCloseFrame(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes; 123 is inside a rune
	tests := []struct {
		name   string
		code   uint16
		reason string
		want   []byte // the close body
	}{
		{"code only", 1000, "", []byte{0x03, 0xe8}},
		{"code and reason", 1008, "policy", append([]byte{0x03, 0xf0}, "policy"...)},
		{"no status", 1005, "ignored", nil},
		{"long reason cut at a rune", 1009, long, append([]byte{0x03, 0xf1}, long[:122]...)},
		{"invalid UTF-8 replaced", 4000, "a\xffb", append([]byte{0x0f, 0xa0}, "a\uFFFDb"...)},
	}
	for _, tt := range tests {
		for _, role := range []Role{Client, Server} {
			t.Run(tt.name+"/"+role.String(), func(t *testing.T) {
				f := CloseFrame(role, tt.code, tt.reason)
				msgs, err := readStream(role, Extension{}, Limits{}, f)
				if err != nil || len(msgs) != 1 {
					t.Fatalf("got %d messages, %v", len(msgs), err)
				}
				m := msgs[0]
				if m.Opcode != OpClose || !bytes.Equal(m.Payload, tt.want) {
					t.Fatalf("got op %d body %q, want %q", m.Opcode, m.Payload, tt.want)
				}
				if len(m.Payload) > 125 || !utf8.Valid(m.Payload[min(2, len(m.Payload)):]) {
					t.Fatalf("body %q is not a valid close body", m.Payload)
				}
				if len(m.Payload) >= 2 && binary.BigEndian.Uint16(m.Payload) != tt.code {
					t.Fatalf("code %d", binary.BigEndian.Uint16(m.Payload))
				}
			})
		}
	}
}

func TestMask(t *testing.T) {
	// The word-at-a-time path must agree with byte-by-byte masking at every start position
	// and length.
	key := [4]byte{1, 2, 3, 4}
	for pos := range 4 {
		for n := range 40 {
			b := promptText(uint64(n), n)
			want := bytes.Clone(b)
			for i := range want {
				want[i] ^= key[(pos+i)%4]
			}
			if next := mask(key, pos, b); next != (pos+n)%4 || !bytes.Equal(b, want) {
				t.Fatalf("pos %d len %d: got % x next %d, want % x", pos, n, b, next, want)
			}
		}
	}
}
