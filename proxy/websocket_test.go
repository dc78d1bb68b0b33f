package proxy_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/rules"
)

const wsKey = "AKIAQ3EGRZ7WYH2LXK5N"

// realtimeItem is an OpenAI Realtime conversation.item.create event carrying text.
func realtimeItem(id, text string) string {
	return fmt.Sprintf(`{"type":"conversation.item.create","event_id":%q,"item":{"type":"message","role":"user","content":[{"type":"input_text","text":%q}]}}`, id, text)
}

// TestWebSocketMessagesInspected: every message a client sends through an opened WebSocket is
// inspected before it goes on, whatever framing and compression it uses; a blocked message
// never reaches the vendor, the client reads why (a Realtime error event) and the session
// closes with 1008.
func TestWebSocketMessagesInspected(t *testing.T) {
	w := newWorld(t, worldOptions{detect: true, rules: rules.Default()})
	cases := []struct {
		name   string
		path   string
		mode   websocket.CompressionMode
		frag   bool
		binary bool
	}{
		{"text", "/ws", websocket.CompressionDisabled, false, false},
		{"fragmented", "/ws", websocket.CompressionDisabled, true, false},
		{"binary", "/ws", websocket.CompressionDisabled, false, true},
		{"deflate with context takeover", "/v1/realtime", websocket.CompressionContextTakeover, false, false},
		{"deflate, fragmented", "/v1/realtime", websocket.CompressionContextTakeover, true, false},
		{"deflate without context takeover", "/ws-no-takeover", websocket.CompressionNoContextTakeover, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "wss://api.openai.com"+c.path+"?model=gpt-realtime",
				&websocket.DialOptions{HTTPClient: w.client(false), CompressionMode: c.mode, CompressionThreshold: 1})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.CloseNow()
			typ := websocket.MessageText
			if c.binary {
				typ = websocket.MessageBinary
			}
			send := func(msg string) {
				t.Helper()
				if !c.frag {
					if err := conn.Write(ctx, typ, []byte(msg)); err != nil {
						t.Fatal(err)
					}
					return
				}
				wr, err := conn.Writer(ctx, typ)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < len(msg); i += 7 { // a fragment every 7 bytes, the key split across them
					if _, err := wr.Write([]byte(msg[i:min(i+7, len(msg))])); err != nil {
						t.Fatal(err)
					}
				}
				if err := wr.Close(); err != nil {
					t.Fatal(err)
				}
			}
			// Clean messages pass and are answered, byte for byte.
			for i := 0; i < 3; i++ {
				msg := realtimeItem(fmt.Sprintf("evt_%d", i), fmt.Sprintf("what is the capital of country number %d?", i))
				send(msg)
				_, got, err := conn.Read(ctx)
				if err != nil || string(got) != "echo:"+msg {
					t.Fatalf("message %d: %q %v", i, got, err)
				}
			}
			send(realtimeItem("evt_secret", "why is aws_access_key_id = "+wsKey+" rejected?"))
			_, got, err := conn.Read(ctx)
			if err != nil || !strings.Contains(string(got), `"type":"error"`) || !strings.Contains(string(got), "block-secrets-to-ai") ||
				!strings.Contains(string(got), `"event_id":"evt_secret"`) || strings.Contains(string(got), wsKey) {
				t.Fatalf("after the blocked message: %q %v", got, err)
			}
			_, _, err = conn.Read(ctx)
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation {
				t.Fatalf("close: %v, want 1008", err)
			}
			f := w.nextFlow()
			if !f.HasMark(flow.MarkWebSocket) || f.Messages != 4 || f.Verdict.Action != flow.Block || f.Verdict.Policy != "block-secrets-to-ai" {
				t.Fatalf("flow marks %v messages %d verdict %+v", f.Marks, f.Messages, f.Verdict)
			}
			found := false
			for _, x := range f.Findings {
				found = found || (x.Detector == "secret.aws-access-key-id" && strings.HasPrefix(x.Path, "ws[3]:"))
			}
			if !found {
				t.Fatalf("findings %+v: want the key at ws[3]:", f.Findings)
			}
			if w.seen.saw(wsKey) {
				t.Fatal("the key reached the vendor")
			}
		})
	}
}

// TestWebSocketRedaction: personal data in a message is replaced before it goes on, and with a
// compression context shared across messages the vendor still reads every later message.
func TestWebSocketRedaction(t *testing.T) {
	w := newWorld(t, worldOptions{detect: true, rules: rules.Default()})
	for _, path := range []string{"/v1/realtime", "/ws"} {
		t.Run(path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "wss://api.openai.com"+path,
				&websocket.DialOptions{HTTPClient: w.client(false), CompressionMode: websocket.CompressionContextTakeover, CompressionThreshold: 1})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.CloseNow()
			msgs := []string{
				realtimeItem("a", "draft a reply to the invoice question"),
				realtimeItem("b", "draft a reply to jane.doe@acme-corp.com about the invoice question"),
				realtimeItem("c", "draft a reply to the invoice question, again, about the invoice"),
			}
			for i, msg := range msgs {
				if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				_, got, err := conn.Read(ctx)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				want := "echo:" + strings.ReplaceAll(msg, "jane.doe@acme-corp.com", "[REDACTED:pii.email#1]")
				if string(got) != want {
					t.Fatalf("message %d: vendor read %q, want %q", i, got, want)
				}
			}
			_ = conn.Close(websocket.StatusNormalClosure, "")
			f := w.nextFlow()
			if f.Messages != 3 || f.Verdict.Action != flow.Redact || w.seen.saw("jane.doe@acme-corp.com") {
				t.Fatalf("flow messages %d verdict %+v; vendor saw the address: %v", f.Messages, f.Verdict, w.seen.saw("jane.doe@acme-corp.com"))
			}
		})
	}
}

// TestWebSocketHandshakeHeaderInspected: the upgrade request is a request like any other.
func TestWebSocketHandshakeHeaderInspected(t *testing.T) {
	w := newWorld(t, worldOptions{detect: true, rules: rules.Default()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "wss://api.openai.com/v1/realtime", &websocket.DialOptions{HTTPClient: w.client(false),
		HTTPHeader: map[string][]string{"X-Debug": {"aws_access_key_id=" + wsKey}}})
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("dial: %v, response %v: want a 403", err, resp)
	}
	if f := w.nextFlow(); f.Verdict.Action != flow.Block || w.seen.saw(wsKey) {
		t.Fatalf("verdict %+v", f.Verdict)
	}
}

// TestWebSocketControlFramePayloads: a ping's payload reaches the vendor (which echoes it in its
// pong); a key sent that way is refused like one in a message.
func TestWebSocketControlFramePayloads(t *testing.T) {
	w := newWorld(t, worldOptions{detect: true, rules: rules.Default()})
	conn := dialThroughProxy(t, w, "api.openai.com")
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: api.openai.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	// A masked ping carrying the key (RFC 6455 5.5.2), as a raw frame.
	payload := []byte("aws_access_key_id=" + wsKey)
	frame := []byte{0x89, 0x80 | byte(len(payload)), 1, 2, 3, 4}
	for i, c := range payload {
		frame = append(frame, c^[]byte{1, 2, 3, 4}[i%4])
	}
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), `"type":"error"`) || !strings.Contains(string(rest), "\x03\xf0") { // close 1008
		t.Fatalf("after the ping: %q", rest)
	}
	f := w.nextFlow()
	if f.Verdict.Action != flow.Block || w.seen.saw(wsKey) {
		t.Fatalf("verdict %+v, vendor saw the key: %v", f.Verdict, w.seen.saw(wsKey))
	}
}

// An upgrade to anything but a WebSocket would leave a connection to the vendor carrying a
// protocol customs does not read: it is incomplete, and refused by default before the vendor
// sees it.
func TestUnreadableUpgradeRefused(t *testing.T) {
	w := newWorld(t, worldOptions{detect: true, rules: rules.Default()})
	for _, proto := range []string{"h2c", "acme-stream/1"} {
		before := w.seen.count()
		req, err := http.NewRequest(http.MethodGet, "https://api.openai.com/v1/realtime", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", proto)
		resp, err := w.client(false).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		f := w.nextFlow()
		if resp.StatusCode != http.StatusForbidden || f.Verdict.Action != flow.Block || !slices.Contains(f.Incomplete, "upgrade:"+proto) {
			t.Fatalf("%s: status %d verdict %+v incomplete %v", proto, resp.StatusCode, f.Verdict, f.Incomplete)
		}
		if w.seen.count() != before {
			t.Fatalf("%s: the upgrade reached the vendor", proto)
		}
	}
}
