package wsframe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// These tests check the codec against github.com/coder/websocket, a full implementation that
// uses compress/flate, over loopback sockets.

// wsMsg is a data message as a test sends it; parts > 1 sends it through a Writer in that many
// writes, which coder/websocket turns into fragments.
type wsMsg struct {
	typ   websocket.MessageType
	data  []byte
	parts int
}

func interopMessages() []wsMsg {
	incompressible := make([]byte, 100<<10)
	for i := range incompressible {
		incompressible[i] = byte(i*7919>>3 ^ i>>11*31)
	}
	return []wsMsg{
		{websocket.MessageText, []byte("hello"), 1}, // under the compression threshold
		{websocket.MessageText, promptText(1, 4096), 1},
		{websocket.MessageBinary, promptText(2, 300), 1},
		{websocket.MessageText, promptText(1, 4096), 1}, // the same again: back-references
		{websocket.MessageText, promptText(3, 20<<10), 3},
		{websocket.MessageBinary, incompressible, 4},
		{websocket.MessageText, nil, 1},
	}
}

func writeWS(ctx context.Context, c *websocket.Conn, m wsMsg) error {
	if m.parts <= 1 {
		return c.Write(ctx, m.typ, m.data)
	}
	w, err := c.Writer(ctx, m.typ)
	if err != nil {
		return err
	}
	step := (len(m.data) + m.parts - 1) / m.parts
	for p := m.data; len(p) > 0; {
		n := min(step, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return w.Close()
}

// recConn records what goes through a connection, each way.
type recConn struct {
	net.Conn
	mu      sync.Mutex
	in, out bytes.Buffer
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// afterHeaders returns what follows the HTTP header block at the start of b.
func afterHeaders(t testing.TB, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("no HTTP header block in %q", b)
	}
	return b[i+4:]
}

// responseExtensions parses the handshake response at the start of b.
func responseExtensions(t testing.TB, b []byte) Extension {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := ParseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"))
	if err != nil {
		t.Fatal(err)
	}
	return ext
}

// echoServer is a coder/websocket server that sends every message back, in two writes.
func echoServer(t testing.TB, mode websocket.CompressionMode, got chan<- wsMsg) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: mode})
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 30)
		for {
			typ, data, err := c.Read(r.Context())
			if err != nil {
				return // the close handshake, answered by the library
			}
			if got != nil {
				got <- wsMsg{typ, data, 1}
			}
			if err := writeWS(r.Context(), c, wsMsg{typ, data, 2}); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// captureCoder runs script on a coder/websocket client dialed to an echo server and returns the
// negotiated extension and the frames each side wrote.
func captureCoder(t *testing.T, mode websocket.CompressionMode, script func(ctx context.Context, c *websocket.Conn) error) (ext Extension, client, server []byte) {
	t.Helper()
	srv := echoServer(t, mode, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rc *recConn
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		rc = &recConn{Conn: c}
		return rc, nil
	}}}
	c, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{HTTPClient: hc, CompressionMode: mode})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 30)
	if err := script(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	in := bytes.Clone(rc.in.Bytes())
	return responseExtensions(t, in), afterHeaders(t, rc.out.Bytes()), afterHeaders(t, in)
}

var coderModes = map[string]websocket.CompressionMode{
	"disabled":            websocket.CompressionDisabled,
	"context takeover":    websocket.CompressionContextTakeover,
	"no context takeover": websocket.CompressionNoContextTakeover,
}

// TestReadCoder reads with Reader what coder/websocket wrote, both ways: masked client frames
// and server frames, compressed or not, fragmented or not.
func TestReadCoder(t *testing.T) {
	msgs := interopMessages()
	for name, mode := range coderModes {
		t.Run(name, func(t *testing.T) {
			ext, client, server := captureCoder(t, mode, func(ctx context.Context, c *websocket.Conn) error {
				for _, m := range msgs {
					if err := writeWS(ctx, c, m); err != nil {
						return err
					}
					if _, _, err := c.Read(ctx); err != nil {
						return err
					}
				}
				return nil
			})
			if ext.Deflate != (mode != websocket.CompressionDisabled) {
				t.Fatalf("negotiated %+v", ext)
			}
			for _, side := range []struct {
				role   Role
				stream []byte
			}{{Client, client}, {Server, server}} {
				// Fed in odd-sized chunks, as a TCP stream arrives.
				got, err := readStream(side.role, ext, Limits{}, side.stream, 1, 1000, 3, 16<<10)
				if err != nil {
					t.Fatalf("%s stream: %v", side.role, err)
				}
				if len(got) != len(msgs)+1 {
					t.Fatalf("%s stream: %d messages, want %d", side.role, len(got), len(msgs)+1)
				}
				var compressed, fragmented int
				for i, m := range msgs {
					if got[i].Opcode != byte(m.typ) || !bytes.Equal(got[i].Payload, m.data) {
						t.Errorf("%s message %d: op %d, %d bytes; want op %d, %d bytes", side.role, i, got[i].Opcode, len(got[i].Payload), m.typ, len(m.data))
					}
					if got[i].Compressed {
						compressed++
					}
					if got[i].Frames > 1 {
						fragmented++
					}
				}
				if c := got[len(msgs)]; c.Opcode != OpClose || !bytes.Equal(c.Payload, []byte("\x03\xe8bye")) {
					t.Errorf("%s stream ends with op %d %q, want close 1000 bye", side.role, c.Opcode, c.Payload)
				}
				if ext.Deflate && compressed < 3 {
					t.Errorf("%s stream: only %d compressed messages", side.role, compressed)
				}
				if fragmented < 2 {
					t.Errorf("%s stream: only %d fragmented messages", side.role, fragmented)
				}
			}
		})
	}
}

// handshake performs the client side of the opening handshake on conn and returns the
// negotiated extension and a reader positioned at the first frame.
func handshake(t testing.TB, conn net.Conn, host, offer string) (Extension, *bufio.Reader) {
	t.Helper()
	req := "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if offer != "" {
		req += "Sec-WebSocket-Extensions: " + offer + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	ext, err := ParseExtensions(resp.Header.Values("Sec-WebSocket-Extensions"))
	if err != nil {
		t.Fatal(err)
	}
	return ext, br
}

// readMessages reads frames from br with a Reader until it has n data messages or a close.
func readMessages(t testing.TB, br io.Reader, role Role, ext Extension, n int) []Message {
	t.Helper()
	r := NewReader(role, ext, Limits{})
	var out []Message
	buf := make([]byte, 4096)
	for len(out) < n {
		k, err := br.Read(buf)
		if ferr := r.Feed(buf[:k]); ferr != nil {
			t.Fatal(ferr)
		}
		for m, ok := r.Next(); ok; m, ok = r.Next() {
			out = append(out, m)
			if m.Opcode == OpClose {
				return out
			}
		}
		if err != nil {
			t.Fatalf("after %d messages: %v", len(out), err)
		}
	}
	return out
}

// TestEncoderToCoderServer sends Encoder frames as a client to a coder/websocket server, which
// must read every message; its echo is read back with Reader.
func TestEncoderToCoderServer(t *testing.T) {
	msgs := interopMessages()
	for _, tt := range []struct {
		name  string
		mode  websocket.CompressionMode
		offer string
	}{
		{"no extension", websocket.CompressionDisabled, ""},
		{"context takeover", websocket.CompressionContextTakeover, "permessage-deflate; client_max_window_bits"},
		{"client no context takeover", websocket.CompressionContextTakeover, "permessage-deflate; client_no_context_takeover"},
		{"no context takeover", websocket.CompressionNoContextTakeover, "permessage-deflate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan wsMsg, len(msgs))
			srv := echoServer(t, tt.mode, got)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			ext, br := handshake(t, conn, srv.Listener.Addr().String(), tt.offer)
			if ext.Deflate != (tt.offer != "") {
				t.Fatalf("negotiated %+v", ext)
			}
			enc := NewEncoder(Client, ext)
			var out []byte
			for _, m := range msgs {
				out = enc.Append(out, byte(m.typ), m.data, true)
			}
			out = append(out, CloseFrame(Client, 1000, "done")...)
			go conn.Write(out)

			echoed := readMessages(t, br, Server, ext, len(msgs)+1)
			for i, m := range msgs {
				g := <-got
				if g.typ != m.typ || !bytes.Equal(g.data, m.data) {
					t.Errorf("server read message %d as type %v, %d bytes; want %v, %d bytes", i, g.typ, len(g.data), m.typ, len(m.data))
				}
				if e := echoed[i]; e.Opcode != byte(m.typ) || !bytes.Equal(e.Payload, m.data) {
					t.Errorf("echo %d: op %d, %d bytes", i, e.Opcode, len(e.Payload))
				}
			}
			if c := echoed[len(echoed)-1]; c.Opcode != OpClose || !bytes.Equal(c.Payload, []byte("\x03\xe8done")) {
				t.Errorf("server answered the close with %d %q", c.Opcode, c.Payload)
			}
		})
	}
}

// TestEncoderToCoderClient is a hand-made server that writes Encoder frames to a
// coder/websocket client, which must read every message.
func TestEncoderToCoderClient(t *testing.T) {
	msgs := interopMessages()
	for _, tt := range []struct {
		name   string
		mode   websocket.CompressionMode
		answer string // the server's Sec-WebSocket-Extensions
	}{
		{"no extension", websocket.CompressionDisabled, ""},
		{"context takeover", websocket.CompressionContextTakeover, "permessage-deflate"},
		{"server no context takeover", websocket.CompressionContextTakeover, "permessage-deflate; server_no_context_takeover"},
		{"small server window", websocket.CompressionContextTakeover, "permessage-deflate; server_max_window_bits=9"},
		{"no context takeover", websocket.CompressionNoContextTakeover, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			clientSent := make(chan []Message, 1)
			go func() {
				defer close(clientSent)
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(30 * time.Second))
				br := bufio.NewReader(conn)
				req, err := http.ReadRequest(br)
				if err != nil {
					t.Error(err)
					return
				}
				sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
				resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
				if tt.answer != "" {
					resp += "Sec-WebSocket-Extensions: " + tt.answer + "\r\n"
				}
				ext, err := ParseExtensions([]string{tt.answer})
				if err != nil {
					t.Error(err)
					return
				}
				enc := NewEncoder(Server, ext)
				out := []byte(resp + "\r\n")
				for _, m := range msgs {
					out = enc.Append(out, byte(m.typ), m.data, true)
				}
				if _, err := conn.Write(out); err != nil {
					t.Error(err)
					return
				}
				// The client sends one message back, then closes.
				clientSent <- readMessages(t, br, Client, ext, 2)
				conn.Write(CloseFrame(Server, 1000, ""))
			}()

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String(), &websocket.DialOptions{CompressionMode: tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.SetReadLimit(1 << 30)
			for i, m := range msgs {
				typ, data, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("client read %d: %v", i, err)
				}
				if typ != m.typ || !bytes.Equal(data, m.data) {
					t.Errorf("client read message %d as %v, %d bytes; want %v, %d bytes", i, typ, len(data), m.typ, len(m.data))
				}
			}
			want := promptText(9, 1000)
			if err := c.Write(ctx, websocket.MessageText, want); err != nil {
				t.Fatal(err)
			}
			err = c.Close(websocket.StatusGoingAway, "")
			var ce websocket.CloseError
			if err != nil && !errors.As(err, &ce) && !errors.Is(err, io.EOF) {
				t.Logf("close: %v", err) // the hand-made server's close handshake is minimal
			}
			sent := <-clientSent
			if len(sent) != 2 || !bytes.Equal(sent[0].Payload, want) || sent[1].Opcode != OpClose {
				t.Errorf("the server read %s", strings.TrimSpace(render(sent, nil)))
			}
		})
	}
}

// String helps failure messages.
func (m wsMsg) String() string { return fmt.Sprintf("%v %d bytes", m.typ, len(m.data)) }
