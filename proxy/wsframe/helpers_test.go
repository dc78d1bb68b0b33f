package wsframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/golden"
)

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Check(t, path, got)
}

// testKey is the masking key of RFC 6455 section 5.7's examples.
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// fr builds one frame as a test wants it, valid or not.
type fr struct {
	fin     bool
	rsv     byte // RSV1..3 as 0x4, 0x2, 0x1
	op      byte
	key     *[4]byte
	payload []byte
	lenForm int    // 0 minimal, 126 or 127: that length encoding
	length  uint64 // when nonzero, the length written instead of len(payload)
}

func (f fr) bytes() []byte {
	b0 := f.op | f.rsv<<4
	if f.fin {
		b0 |= 0x80
	}
	var m byte
	if f.key != nil {
		m = 0x80
	}
	n := uint64(len(f.payload))
	if f.length != 0 {
		n = f.length
	}
	form := f.lenForm
	if form == 0 {
		switch {
		case n <= 125:
		case n <= 0xffff:
			form = 126
		default:
			form = 127
		}
	}
	var out []byte
	switch form {
	case 126:
		out = binary.BigEndian.AppendUint16([]byte{b0, m | 126}, uint16(n))
	case 127:
		out = binary.BigEndian.AppendUint64([]byte{b0, m | 127}, n)
	default:
		out = []byte{b0, m | byte(n)}
	}
	p := bytes.Clone(f.payload)
	if f.key != nil {
		out = append(out, f.key[:]...)
		mask(*f.key, 0, p)
	}
	return append(out, p...)
}

func cat(frames ...fr) []byte {
	var out []byte
	for _, f := range frames {
		out = append(out, f.bytes()...)
	}
	return out
}

// readStream feeds stream in chunks of the given sizes (the last one repeating; none: all at
// once) and returns the messages and the error.
func readStream(role Role, ext Extension, lim Limits, stream []byte, chunks ...int) ([]Message, error) {
	r := NewReader(role, ext, lim)
	var msgs []Message
	var err error
	for i := 0; len(stream) > 0 && err == nil; i++ {
		n := len(stream)
		if len(chunks) > 0 {
			n = min(n, chunks[min(i, len(chunks)-1)])
		}
		err = r.Feed(stream[:n])
		stream = stream[n:]
		for m, ok := r.Next(); ok; m, ok = r.Next() {
			msgs = append(msgs, m)
		}
	}
	return msgs, err
}

// render is the golden form of what a Reader returned.
func render(msgs []Message, err error) string {
	var b strings.Builder
	for i, m := range msgs {
		fmt.Fprintf(&b, "message %d: %s frames=%d compressed=%t raw=%d\n", i+1, opName(m.Opcode), m.Frames, m.Compressed, len(m.Raw))
		p := m.Payload
		more := ""
		if len(p) > 120 {
			p, more = p[:120], "..."
		}
		fmt.Fprintf(&b, "  payload %d bytes: %q%s\n", len(m.Payload), p, more)
	}
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			fmt.Fprintf(&b, "error: close %d at byte %d: %s\n", pe.Code, pe.Offset, pe.Reason)
		} else {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
	}
	return b.String()
}

func opName(op byte) string {
	switch op {
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("op%d", op)
}

// promptText returns n bytes of prompt-shaped ASCII text: words, punctuation, some code and
// numbers, the way chat prompts look, from a fixed seed.
func promptText(seed uint64, n int) []byte {
	words := strings.Fields(`the a to of and in is for that with on this you it be as are
		function return error value please explain why how does customer order invoice
		table select from where join group by count sum api key token request response
		model assistant user system content message stream true false null json schema
		func main package import fmt string int byte slice map struct interface`)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		switch rng.IntN(12) {
		case 0:
			b.WriteString(". ")
		case 1:
			fmt.Fprintf(&b, " %d ", rng.IntN(100000))
		case 2:
			b.WriteString("\n")
		default:
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}
