package wsframe

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// forwarder is the proxy's loop for one direction as the package documentation has it: messages
// pass as they arrived until a compressed one is rewritten; from then on, with context takeover,
// every data message goes through the Encoder.
type forwarder struct {
	role     Role
	ext      Extension
	enc      *Encoder
	reencode bool
	rewrite  func([]byte) ([]byte, bool)
}

func newForwarder(role Role, ext Extension, rewrite func([]byte) ([]byte, bool)) *forwarder {
	return &forwarder{role: role, ext: ext, enc: NewEncoder(role, ext), rewrite: rewrite}
}

func (f *forwarder) forward(dst []byte, m Message) []byte {
	if isControl(m.Opcode) {
		return append(dst, m.Raw...)
	}
	payload, changed := f.rewrite(m.Payload)
	if !changed && !f.reencode {
		return append(dst, m.Raw...)
	}
	if m.Compressed && f.ext.Takeover(f.role) {
		f.reencode = true
	}
	return f.enc.Append(dst, m.Opcode, payload, m.Compressed)
}

const secret = "AKIAIOSFODNN7EXAMPLE"

func redact(p []byte) ([]byte, bool) {
	if !bytes.Contains(p, []byte(secret)) {
		return p, false
	}
	return bytes.ReplaceAll(p, []byte(secret), []byte("[REDACTED]")), true
}

// realtimeEvents are Realtime API client events that repeat most of their text, so that a
// compressor with context takeover refers back across messages; event k carries a secret.
func realtimeEvents(n, k int) (sent, want [][]byte) {
	for i := range n {
		text := fmt.Sprintf("Question %d about the deployment: the service reads its configuration from the vault and retries three times. %s", i, promptText(uint64(i%3), 200))
		if i == k {
			text += " The key is " + secret + ", please check why it fails."
		}
		ev := fmt.Appendf(nil, `{"type":"conversation.item.create","event_id":"evt_%03d","item":{"type":"message","role":"user","content":[{"type":"input_text","text":%q}]}}`, i, text)
		sent = append(sent, ev)
		w, _ := redact(ev)
		want = append(want, w)
	}
	return sent, want
}

// TestRewriteWithContextTakeover rewrites message k of a client stream that coder/websocket
// compressed with context takeover. The stream the proxy forwards must decode, at a fresh
// server-side Reader, to the rewritten messages; forwarding the later messages unchanged must
// not (which is why they are re-encoded).
func TestRewriteWithContextTakeover(t *testing.T) {
	const n, k = 10, 3
	sent, want := realtimeEvents(n, k)
	ext, client, _ := captureCoder(t, websocket.CompressionContextTakeover, func(ctx context.Context, c *websocket.Conn) error {
		for _, ev := range sent {
			if err := c.Write(ctx, websocket.MessageText, ev); err != nil {
				return err
			}
			if _, _, err := c.Read(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if !ext.Takeover(Client) {
		t.Fatalf("negotiated %+v, want client context takeover", ext)
	}
	msgs, err := readStream(Client, ext, Limits{}, client)
	if err != nil {
		t.Fatal(err)
	}
	msgs = msgs[:n] // then the close
	for i, m := range msgs {
		if !m.Compressed || !bytes.Equal(m.Payload, sent[i]) {
			t.Fatalf("message %d: compressed %t, %q", i, m.Compressed, m.Payload)
		}
	}
	// The later messages do refer back into earlier ones: they are much smaller on the wire.
	if last, first := len(msgs[n-1].Raw), len(msgs[0].Raw); last > first/2 {
		t.Fatalf("message %d is %d bytes on the wire, message 0 %d: no context shared", n-1, last, first)
	}

	t.Run("re-encoded", func(t *testing.T) {
		f := newForwarder(Client, ext, redact)
		var out []byte
		for _, m := range msgs {
			out = f.forward(out, m)
		}
		got, err := readStream(Client, ext, Limits{}, out)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d messages, want %d", len(got), n)
		}
		for i := range got {
			if !bytes.Equal(got[i].Payload, want[i]) {
				t.Errorf("message %d decodes to %q\nwant %q", i, got[i].Payload, want[i])
			}
			if i < k && !bytes.Equal(got[i].Raw, msgs[i].Raw) {
				t.Errorf("message %d before the rewrite was not forwarded unchanged", i)
			}
		}
	})

	t.Run("later messages forwarded unchanged", func(t *testing.T) {
		var out []byte
		for i, m := range msgs {
			if i == k {
				out = NewEncoder(Client, ext).Append(out, m.Opcode, want[k], true)
				continue
			}
			out = append(out, m.Raw...)
		}
		got, err := readStream(Client, ext, Limits{}, out)
		wrong := 0
		for i := k + 1; i < len(got); i++ {
			if !bytes.Equal(got[i].Payload, want[i]) {
				wrong++
			}
		}
		// With coder/websocket's compressor the later messages decode without an error, to
		// the wrong text: the worse of the two outcomes.
		t.Logf("forwarded unchanged: %d messages, %d of them after the rewrite wrong, error %v", len(got), wrong, err)
		if err == nil && len(got) == n && wrong == 0 {
			t.Fatal("the stream decoded correctly without re-encoding: the test does not exercise the shared window")
		}
	})
}

// TestRewriteProxyLive puts the forwarder between a coder/websocket client and server, both
// with context takeover: the server must read every message, the secret redacted.
func TestRewriteProxyLive(t *testing.T) {
	const n, k = 10, 3
	sent, want := realtimeEvents(n, k)
	got := make(chan wsMsg, n)
	backend := echoServer(t, websocket.CompressionContextTakeover, got)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	proxyErr := make(chan error, 1)
	go func() { proxyErr <- proxyOnce(ln, backend.Listener.Addr().String()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String(), &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for i, ev := range sent {
		if err := c.Write(ctx, websocket.MessageText, ev); err != nil {
			t.Fatal(err)
		}
		_, echo, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if !bytes.Equal(echo, want[i]) {
			t.Errorf("echo %d: %q", i, echo)
		}
	}
	for i := range n {
		if m := <-got; !bytes.Equal(m.data, want[i]) {
			t.Errorf("server read message %d as %q\nwant %q", i, m.data, want[i])
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
	if err := <-proxyErr; err != nil {
		t.Fatalf("proxy: %v", err)
	}
}

// proxyOnce relays one WebSocket connection: the handshake and the server's frames as they are,
// the client's messages through a Reader and a forwarder.
func proxyOnce(ln net.Listener, backend string) error {
	cc, err := ln.Accept()
	if err != nil {
		return err
	}
	defer cc.Close()
	sc, err := net.Dial("tcp", backend)
	if err != nil {
		return err
	}
	defer sc.Close()
	deadline := time.Now().Add(30 * time.Second)
	cc.SetDeadline(deadline)
	sc.SetDeadline(deadline)

	cr, sr := bufio.NewReader(cc), bufio.NewReader(sc)
	req, err := http.ReadRequest(cr)
	if err != nil {
		return err
	}
	if err := req.Write(sc); err != nil {
		return err
	}
	resp, err := http.ReadResponse(sr, req)
	if err != nil {
		return err
	}
	ext, err := ParseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"))
	if err != nil {
		return err
	}
	if err := resp.Write(cc); err != nil {
		return err
	}
	go io.Copy(cc, sr) // the server's frames, unchanged

	r := NewReader(Client, ext, Limits{})
	f := newForwarder(Client, ext, redact)
	buf := make([]byte, 32<<10)
	for {
		n, rerr := cr.Read(buf)
		if err := r.Feed(buf[:n]); err != nil {
			sc.Write(CloseFrame(Client, err.(*ProtocolError).Code, ""))
			return err
		}
		var out []byte
		closed := false
		for m, ok := r.Next(); ok; m, ok = r.Next() {
			out = f.forward(out, m)
			closed = closed || m.Opcode == OpClose
		}
		if _, err := sc.Write(out); err != nil {
			return err
		}
		if closed {
			// Wait for the client to hang up, so that the server's close (copied above)
			// reaches it before the deferred Close.
			io.Copy(io.Discard, cr)
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}
