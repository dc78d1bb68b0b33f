package wsframe

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// streamFile is a stream under testdata/streams: comment lines (#), "role:" and "extensions:"
// lines, and the bytes in hex.
type streamFile struct {
	name  string
	role  Role
	ext   Extension
	bytes []byte
}

func loadStreams(t testing.TB) []streamFile {
	t.Helper()
	paths, err := filepath.Glob("testdata/streams/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no streams under testdata/streams: %v", err)
	}
	var out []streamFile
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := streamFile{name: strings.TrimSuffix(filepath.Base(path), ".txt")}
		var hx strings.Builder
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "role:"):
				switch strings.TrimSpace(strings.TrimPrefix(line, "role:")) {
				case "client":
					s.role = Client
				case "server":
					s.role = Server
				default:
					t.Fatalf("%s:%d: role is client or server", path, i+1)
				}
			case strings.HasPrefix(line, "extensions:"):
				v := strings.TrimSpace(strings.TrimPrefix(line, "extensions:"))
				if s.ext, err = ParseExtensions([]string{v}); err != nil {
					t.Fatalf("%s:%d: %v", path, i+1, err)
				}
			default:
				hx.WriteString(strings.ReplaceAll(line, " ", ""))
			}
		}
		if s.bytes, err = hex.DecodeString(hx.String()); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, s)
	}
	return out
}

func TestReaderGolden(t *testing.T) {
	for _, s := range loadStreams(t) {
		t.Run(s.name, func(t *testing.T) {
			msgs, err := readStream(s.role, s.ext, Limits{}, s.bytes)
			checkGolden(t, filepath.Join("testdata", "streams", s.name+".golden"), []byte(render(msgs, err)))
			// Raw is what arrived: the data messages and control frames together are the
			// stream up to the error.
			var n int
			for _, m := range msgs {
				n += len(m.Raw)
			}
			if err == nil && n != len(s.bytes) {
				t.Errorf("Raw of all messages holds %d bytes, the stream %d", n, len(s.bytes))
			}
		})
	}
}

// splitStreams are the golden streams plus some that the Encoder writes.
func splitStreams(t *testing.T) []streamFile {
	out := loadStreams(t)
	for _, role := range []Role{Client, Server} {
		for _, ext := range []Extension{{}, {Deflate: true}, {Deflate: true, ClientNoContextTakeover: true, ServerNoContextTakeover: true}} {
			enc := NewEncoder(role, ext)
			var b []byte
			b = enc.Append(b, OpText, promptText(1, 300), true)
			b = enc.Append(b, OpPing, []byte("p"), false)
			b = enc.Append(b, OpText, promptText(1, 400), true)
			b = enc.Append(b, OpBinary, []byte{0, 1, 2, 3}, true)
			b = enc.Append(b, OpText, nil, true)
			b = append(b, CloseFrame(role, 1001, "going away")...)
			out = append(out, streamFile{name: "encoder-" + role.String(), role: role, ext: ext, bytes: b})
		}
	}
	return out
}

// TestReaderSplits feeds every stream split at every byte boundary, and one byte at a time, and
// wants the same messages and error as when it is fed whole.
func TestReaderSplits(t *testing.T) {
	for _, s := range splitStreams(t) {
		t.Run(s.name, func(t *testing.T) {
			want, wantErr := readStream(s.role, s.ext, Limits{}, s.bytes)
			check := func(how string, got []Message, err error) {
				t.Helper()
				if !reflect.DeepEqual(got, want) || render(got, err) != render(want, wantErr) {
					t.Fatalf("%s:\n%s\nwant:\n%s", how, render(got, err), render(want, wantErr))
				}
			}
			for i := 0; i <= len(s.bytes); i++ {
				r := NewReader(s.role, s.ext, Limits{})
				var got []Message
				err := r.Feed(s.bytes[:i])
				if err == nil && wantErr == nil && r.AtBoundary() != boundaryAt(s, i) {
					t.Fatalf("split at %d: AtBoundary %t", i, r.AtBoundary())
				}
				if err == nil {
					err = r.Feed(s.bytes[i:])
				}
				for m, ok := r.Next(); ok; m, ok = r.Next() {
					got = append(got, m)
				}
				check("split at "+strconv.Itoa(i), got, err)
			}
			got, err := readStream(s.role, s.ext, Limits{}, s.bytes, 1)
			check("one byte at a time", got, err)
			got, err = readStream(s.role, s.ext, Limits{}, s.bytes, 3, 7)
			check("3 then 7 at a time", got, err)
		})
	}
}

// boundaryAt reports whether offset i of a valid stream is where a frame ends, by walking the
// frame headers independently of the Reader.
func boundaryAt(s streamFile, i int) bool {
	b := s.bytes
	off := 0
	for off < i && off+2 <= len(b) {
		n := int(b[off+1] & 0x7f)
		h := 2
		switch n {
		case 126:
			if off+4 > len(b) {
				return false
			}
			n, h = int(binary.BigEndian.Uint16(b[off+2:])), 4
		case 127:
			if off+10 > len(b) {
				return false
			}
			n64 := binary.BigEndian.Uint64(b[off+2:])
			if n64 > uint64(len(b)) {
				return false
			}
			n, h = int(n64), 10
		}
		if b[off+1]&0x80 != 0 {
			h += 4
		}
		off += h + n
	}
	return off == i
}

func TestProtocolErrors(t *testing.T) {
	k := &testKey
	deflate := Extension{Deflate: true}
	closeBody := func(code uint16, reason string) []byte {
		return append(binary.BigEndian.AppendUint16(nil, code), reason...)
	}
	tests := []struct {
		name   string
		role   Role
		ext    Extension
		lim    Limits
		stream []byte
		code   uint16 // 0: valid
	}{
		{name: "RSV2 set", role: Server, stream: cat(fr{fin: true, rsv: 2, op: OpText}), code: 1002},
		{name: "RSV3 set", role: Server, stream: cat(fr{fin: true, rsv: 1, op: OpText}), code: 1002},
		{name: "RSV1 without deflate", role: Server, stream: cat(fr{fin: true, rsv: 4, op: OpText, payload: []byte{0}}), code: 1002},
		{name: "RSV1 on a continuation", role: Server, ext: deflate, stream: cat(
			fr{rsv: 4, op: OpText, payload: []byte{0xf2, 0x48}}, fr{fin: true, rsv: 4, op: OpContinuation, payload: []byte{0xcd, 0xc9, 0xc9, 0x07, 0x00}}), code: 1002},
		{name: "RSV1 on a ping", role: Server, ext: deflate, stream: cat(fr{fin: true, rsv: 4, op: OpPing}), code: 1002},
		{name: "RSV1 on a close", role: Client, ext: deflate, stream: cat(fr{fin: true, rsv: 4, op: OpClose, key: k}), code: 1002},
		{name: "opcode 3", role: Server, stream: cat(fr{fin: true, op: 3}), code: 1002},
		{name: "opcode 7", role: Server, stream: cat(fr{fin: true, op: 7}), code: 1002},
		{name: "opcode 0xb", role: Server, stream: cat(fr{fin: true, op: 0xb}), code: 1002},
		{name: "opcode 0xf", role: Client, stream: cat(fr{fin: true, op: 0xf, key: k}), code: 1002},
		{name: "fragmented ping", role: Server, stream: cat(fr{op: OpPing, payload: []byte("a")}), code: 1002},
		{name: "fragmented close", role: Client, stream: cat(fr{op: OpClose, key: k}), code: 1002},
		{name: "ping of 126 bytes", role: Server, stream: cat(fr{fin: true, op: OpPing, payload: make([]byte, 126)}), code: 1002},
		{name: "ping of 125 bytes in a 16-bit length", role: Server, stream: cat(fr{fin: true, op: OpPing, payload: make([]byte, 125), lenForm: 126}), code: 1002},
		{name: "ping of 125 bytes", role: Server, stream: cat(fr{fin: true, op: OpPing, payload: make([]byte, 125)})},
		{name: "continuation without a message", role: Server, stream: cat(fr{fin: true, op: OpContinuation, payload: []byte("x")}), code: 1002},
		{name: "continuation after a final frame", role: Server, stream: cat(fr{fin: true, op: OpText, payload: []byte("a")}, fr{fin: true, op: OpContinuation}), code: 1002},
		{name: "text while a message is open", role: Server, stream: cat(fr{op: OpText, payload: []byte("a")}, fr{fin: true, op: OpText, payload: []byte("b")}), code: 1002},
		{name: "binary while a message is open", role: Client, stream: cat(fr{op: OpBinary, key: k}, fr{fin: true, op: OpBinary, key: k}), code: 1002},
		{name: "unmasked client frame", role: Client, stream: cat(fr{fin: true, op: OpText, payload: []byte("a")}), code: 1002},
		{name: "unmasked client ping", role: Client, stream: cat(fr{fin: true, op: OpPing}), code: 1002},
		{name: "masked server frame", role: Server, stream: cat(fr{fin: true, op: OpText, key: k, payload: []byte("a")}), code: 1002},
		{name: "64-bit length with the top bit", role: Server, stream: cat(fr{fin: true, op: OpBinary, lenForm: 127, length: 1 << 63}), code: 1002},
		{name: "non-minimal 16-bit length", role: Server, stream: cat(fr{fin: true, op: OpText, payload: []byte("hi"), lenForm: 126})},
		{name: "non-minimal 64-bit length", role: Client, stream: cat(fr{fin: true, op: OpText, payload: []byte("hi"), lenForm: 127, key: k})},
		{name: "close with a 1-byte body", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: []byte{3}}), code: 1002},
		{name: "close empty", role: Server, stream: cat(fr{fin: true, op: OpClose})},
		{name: "close 1000 with reason", role: Client, stream: cat(fr{fin: true, op: OpClose, key: k, payload: closeBody(1000, "done")})},
		{name: "close 4999", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(4999, "")})},
		{name: "close 1013", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(1013, "")})},
		{name: "close 999", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(999, "")}), code: 1002},
		{name: "close 1005", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(1005, "")}), code: 1002},
		{name: "close 1006", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(1006, "")}), code: 1002},
		{name: "close 1015", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(1015, "")}), code: 1002},
		{name: "close 2000", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(2000, "")}), code: 1002},
		{name: "close 5000", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(5000, "")}), code: 1002},
		{name: "close reason not UTF-8", role: Server, stream: cat(fr{fin: true, op: OpClose, payload: closeBody(1000, "\xc3(")}), code: 1007},
		{name: "text not UTF-8", role: Server, stream: cat(fr{fin: true, op: OpText, payload: []byte("a\xffb")}), code: 1007},
		{name: "text with a surrogate", role: Server, stream: cat(fr{fin: true, op: OpText, payload: []byte("\xed\xa0\x80")}), code: 1007},
		{name: "text with a rune cut at the end", role: Client, stream: cat(fr{fin: true, op: OpText, key: k, payload: []byte("caf\xc3")}), code: 1007},
		{name: "text with a rune split over fragments", role: Server, stream: cat(fr{op: OpText, payload: []byte("caf\xc3")}, fr{fin: true, op: OpContinuation, payload: []byte("\xa9")})},
		{name: "binary not UTF-8", role: Server, stream: cat(fr{fin: true, op: OpBinary, payload: []byte{0xff}})},
		{name: "compressed text not UTF-8", role: Server, ext: deflate, stream: cat(fr{fin: true, rsv: 4, op: OpText, payload: deflateRaw(t, []byte("\xff\xfe"))}), code: 1007},
		{name: "corrupt compressed data", role: Server, ext: deflate, stream: cat(fr{fin: true, rsv: 4, op: OpText, payload: []byte{0xff, 0xff, 0xff}}), code: 1007},
		{name: "message over the limit in one frame", role: Server, lim: Limits{MaxMessage: 4}, stream: cat(fr{fin: true, op: OpBinary, payload: []byte("12345")}), code: 1009},
		{name: "message at the limit", role: Server, lim: Limits{MaxMessage: 5}, stream: cat(fr{fin: true, op: OpBinary, payload: []byte("12345")})},
		{name: "message over the limit in fragments", role: Client, lim: Limits{MaxMessage: 5}, stream: cat(
			fr{op: OpText, key: k, payload: []byte("123")}, fr{fin: true, op: OpContinuation, key: k, payload: []byte("456")}), code: 1009},
		{name: "compressed message over the limit", role: Server, ext: deflate, lim: Limits{MaxMessage: 100}, stream: cat(
			fr{fin: true, rsv: 4, op: OpText, payload: deflateRaw(t, bytes.Repeat([]byte("a"), 101))}), code: 1009},
		{name: "compressed message at the limit", role: Server, ext: deflate, lim: Limits{MaxMessage: 100}, stream: cat(
			fr{fin: true, rsv: 4, op: OpText, payload: deflateRaw(t, bytes.Repeat([]byte("a"), 100))})},
		{name: "too many fragments", role: Server, lim: Limits{MaxFrames: 3}, stream: cat(
			fr{op: OpText}, fr{op: OpContinuation}, fr{op: OpContinuation}, fr{fin: true, op: OpContinuation}), code: 1009},
		{name: "as many fragments as allowed", role: Server, lim: Limits{MaxFrames: 3}, stream: cat(
			fr{op: OpText}, fr{op: OpContinuation, payload: []byte("a")}, fr{fin: true, op: OpContinuation})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := readStream(tt.role, tt.ext, tt.lim, tt.stream)
			if tt.code == 0 {
				if err != nil || len(msgs) != 1 {
					t.Fatalf("got %d messages, error %v; want one message", len(msgs), err)
				}
				return
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%d messages), want a ProtocolError with close %d", err, len(msgs), tt.code)
			}
			if pe.Code != tt.code {
				t.Fatalf("got close %d (%v), want %d", pe.Code, err, tt.code)
			}
		})
	}
}

// deflateRaw compresses p as one permessage-deflate message with compress/flate.
func deflateRaw(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(p)
	w.Flush()
	out, ok := bytes.CutSuffix(b.Bytes(), deflateTail)
	if !ok {
		t.Fatal("no sync flush tail")
	}
	return out
}

func TestReaderStaysFailed(t *testing.T) {
	good := cat(fr{fin: true, op: OpText, key: &testKey, payload: []byte("first")})
	r := NewReader(Client, Extension{}, Limits{})
	err := r.Feed(append(good, cat(fr{fin: true, op: OpText, payload: []byte("unmasked")})...))
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Code != 1002 || pe.Offset != int64(len(good)) {
		t.Fatalf("Feed: %v, want close 1002 at byte %d", err, len(good))
	}
	if err2 := r.Feed(good); err2 != err {
		t.Errorf("Feed after the error: %v, want the same error", err2)
	}
	if m, ok := r.Next(); !ok || string(m.Payload) != "first" {
		t.Errorf("Next: %q, %t; want the message before the error", m.Payload, ok)
	}
	if _, ok := r.Next(); ok {
		t.Errorf("Next returned a message after the error")
	}
	if r.AtBoundary() {
		t.Errorf("AtBoundary after an error")
	}
}

// TestReaderBuffered checks what Buffered counts and AtBoundary says as a fragmented message
// with a control frame between its fragments arrives.
func TestReaderBuffered(t *testing.T) {
	k := &testKey
	f1 := fr{op: OpText, key: k, payload: []byte("abcd")}.bytes()
	ping := fr{fin: true, op: OpPing, key: k, payload: []byte("p")}.bytes()
	f2 := fr{fin: true, op: OpContinuation, key: k, payload: []byte("ef")}.bytes()
	r := NewReader(Client, Extension{}, Limits{})
	steps := []struct {
		feed     []byte
		buffered int
		boundary bool
		msgs     int
	}{
		{f1[:1], 1, false, 0},
		{f1[1:8], 6 + 2 + 2, false, 0}, // header in raw, 2 payload bytes twice
		{f1[8:], len(f1) + 4, true, 0},
		{ping[:6], len(f1) + 4 + 6, false, 0},
		{ping[6:], len(f1) + 4, true, 1},
		{f2, 0, true, 1},
	}
	for i, s := range steps {
		if err := r.Feed(s.feed); err != nil {
			t.Fatal(err)
		}
		if got := r.Buffered(); got != s.buffered {
			t.Errorf("step %d: Buffered %d, want %d", i, got, s.buffered)
		}
		if got := r.AtBoundary(); got != s.boundary {
			t.Errorf("step %d: AtBoundary %t, want %t", i, got, s.boundary)
		}
		var n int
		for _, ok := r.Next(); ok; _, ok = r.Next() {
			n++
		}
		if n != s.msgs {
			t.Errorf("step %d: %d messages, want %d", i, n, s.msgs)
		}
	}
}

// allocated returns the bytes f allocates: the least of three runs, as the count is
// process-wide and another goroutine (a test server winding down) may allocate meanwhile.
func allocated(f func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

func TestLimits(t *testing.T) {
	// A deflate bomb: 4 MiB of zeros in some 16 KiB, against a limit of 256 KiB.
	var bomb bytes.Buffer
	w, _ := flate.NewWriter(&bomb, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range 4 {
		w.Write(zeros)
	}
	w.Flush()
	bombMsg := cat(fr{fin: true, rsv: 4, op: OpBinary, key: &testKey, payload: bytes.TrimSuffix(bomb.Bytes(), deflateTail)})

	// Empty stored blocks: compressed bytes without end that decompress to nothing, in
	// fragments each under the limit.
	empty := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, 8<<10)
	emptyBlocks := cat(fr{rsv: 4, op: OpBinary, key: &testKey, payload: empty})
	for range 8 {
		emptyBlocks = append(emptyBlocks, cat(fr{op: OpContinuation, key: &testKey, payload: empty})...)
	}

	tests := []struct {
		name     string
		ext      Extension
		lim      Limits
		stream   []byte
		maxAlloc uint64
	}{
		{"deflate bomb", Extension{Deflate: true}, Limits{MaxMessage: 256 << 10}, bombMsg, 2 << 20},
		{"header claiming 2^62 bytes", Extension{}, Limits{}, cat(fr{fin: true, op: OpBinary, key: &testKey, lenForm: 127, length: 1 << 62}), 64 << 10},
		{"compressed header claiming 2^62 bytes", Extension{Deflate: true}, Limits{}, cat(fr{fin: true, rsv: 4, op: OpBinary, key: &testKey, lenForm: 127, length: 1 << 62}), 64 << 10},
		{"header one byte over the default limit", Extension{}, Limits{}, cat(fr{fin: true, op: OpBinary, key: &testKey, lenForm: 127, length: 16<<20 + 1}), 64 << 10},
		{"endless empty deflate blocks", Extension{Deflate: true}, Limits{MaxMessage: 64 << 10}, emptyBlocks, 1 << 20},
		{"too many fragments", Extension{}, Limits{MaxFrames: 100}, bytes.Repeat(cat(fr{op: OpContinuation, key: &testKey}), 1000), 64 << 10},
	}
	// The fragment flood needs a first frame.
	tests[len(tests)-1].stream = append(cat(fr{op: OpBinary, key: &testKey}), tests[len(tests)-1].stream...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			var maxBuffered int
			n := allocated(func() {
				err, maxBuffered = nil, 0
				r := NewReader(Client, tt.ext, tt.lim)
				for p := tt.stream; len(p) > 0 && err == nil; {
					c := min(len(p), 4096)
					err = r.Feed(p[:c])
					p = p[c:]
					maxBuffered = max(maxBuffered, r.Buffered())
				}
			})
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != CloseMessageTooBig {
				t.Fatalf("got %v, want close 1009", err)
			}
			t.Logf("%v; allocated %d bytes, buffered at most %d", err, n, maxBuffered)
			lim := tt.lim.normalize()
			if bound := lim.maxWire(true) + 14*lim.MaxFrames; maxBuffered > 2*bound {
				t.Errorf("Buffered reached %d, over twice the limit %d", maxBuffered, bound)
			}
			if n > tt.maxAlloc {
				t.Errorf("allocated %d bytes, want at most %d", n, tt.maxAlloc)
			}
		})
	}
}

// TestWindowBits checks that the window a Reader carries between messages is the one the
// sender's max_window_bits allows, no more: a reference further back fails the stream as it
// would fail at a receiver that allocated only the negotiated window.
func TestWindowBits(t *testing.T) {
	x := promptText(7, 1000)
	for _, bits := range []int{8, 9, 12, 15} {
		ext := Extension{Deflate: true, ServerMaxWindowBits: bits, ClientMaxWindowBits: 15}
		t.Run("bits="+strconv.Itoa(bits), func(t *testing.T) {
			enc := NewEncoder(Server, ext)
			stream := enc.Append(nil, OpText, x, true)
			stream = enc.Append(stream, OpText, x, true)
			msgs, err := readStream(Server, ext, Limits{}, stream)
			if err != nil || len(msgs) != 2 || !bytes.Equal(msgs[1].Payload, x) {
				t.Fatalf("got %d messages, %v", len(msgs), err)
			}
		})
	}
	// A 32 KiB window encoder's second message refers 1000 bytes back: a Reader told the server
	// keeps 256 bytes fails it.
	enc := NewEncoder(Server, Extension{Deflate: true})
	stream := enc.Append(nil, OpText, x, true)
	second := enc.Append(nil, OpText, x, true)
	if len(second) > len(stream)/4 {
		t.Fatalf("second message is %d bytes, the first %d: no back-reference to test", len(second), len(stream))
	}
	_, err := readStream(Server, Extension{Deflate: true, ServerMaxWindowBits: 8}, Limits{}, append(stream, second...))
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Code != CloseInvalidPayload {
		t.Fatalf("got %v, want close 1007", err)
	}
}
