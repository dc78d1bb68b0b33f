package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	byteorder "encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/andybalholm/brotli"
	"github.com/coder/websocket"

	"github.com/customs-dev/customs/inspect/decode"
	"github.com/customs-dev/customs/proxy/ca"
)

// The attacks of issue 11: each tries to get a credential that the default policy blocks past
// customs to a vendor. Every case runs through the real binary against a fake vendor that
// records what it received, decoded as a vendor would decode it (content codings, UTF-16/32,
// WebSocket messages); none may see the key, and the flow must say why it was stopped.

const bypassKey = "AKIAQ3EGRZ7WYH2LXK5N"

// vendorLog is everything the fake vendor received, decoded.
type vendorLog struct {
	mu  sync.Mutex
	got []string
}

func (l *vendorLog) add(s string) {
	l.mu.Lock()
	l.got = append(l.got, s)
	l.mu.Unlock()
}

func (l *vendorLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got[min(n, len(l.got)):]...)
}

func (l *vendorLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

// bypassVendor serves any name over TLS (certificates from its own CA) and plain HTTP, and a
// WebSocket echo at /v1/realtime.
func bypassVendor(t *testing.T, log *vendorLog) (tlsAddr, plainAddr, caFile string) {
	dir := t.TempDir()
	upCA, err := ca.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/realtime" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			var head strings.Builder
			_ = r.Header.Write(&head)
			log.add("ws handshake " + r.URL.String() + "\n" + head.String())
			c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionContextTakeover})
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				typ, msg, err := c.Read(r.Context())
				if err != nil {
					return
				}
				log.add("ws message " + string(msg))
				_ = c.Write(r.Context(), typ, []byte(`{"type":"ack"}`))
			}
		}
		raw, err := io.ReadAll(r.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %s\nHost: %s\n", r.Method, r.URL.RequestURI(), r.Proto, r.Host)
		_ = r.Header.Write(&b)
		_ = r.Trailer.Write(&b)
		b.Write(raw)
		// As the vendor reads it: every content coding undone, the charset turned to UTF-8.
		if ce := strings.Join(r.Header.Values("Content-Encoding"), ","); ce != "" {
			if out, _ := decode.Body(ce, raw, 1<<30); len(out) > 0 {
				raw = out
				b.WriteString("\n--decoded--\n")
				b.Write(raw)
			}
		}
		if out, cs, _ := decode.Text(r.Header.Get("Content-Type"), raw, 1<<30); cs != "" {
			b.WriteString("\n--text--\n")
			b.Write(out)
		}
		if err == nil {
			b.WriteString("\n<<complete>>")
		}
		log.add(b.String())
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"chat.completion","choices":[]}`)
	})
	leaves := ca.NewLeaves(upCA, ca.LeafOptions{})
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{GetCertificate: func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
		return leaves.Get(cmpOr(hi.ServerName, "127.0.0.1"))
	}}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	plain := httptest.NewServer(h)
	t.Cleanup(plain.Close)
	return srv.Listener.Addr().String(), plain.Listener.Addr().String(), filepath.Join(dir, ca.CertFile)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type bypassEnv struct {
	s      *servedCustoms
	caPool *x509.CertPool
	client *http.Client
	h2     *http.Client
}

// connectTLS opens TLS with sni ("" for none) inside a CONNECT to target.
func (e *bypassEnv) connectTLS(t *testing.T, target, sni string, alpn ...string) *tls.Conn {
	t.Helper()
	raw := e.connect(t, target)
	cfg := &tls.Config{ServerName: sni, RootCAs: e.caPool, NextProtos: cmpSlice(alpn, []string{"http/1.1"})}
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		t.Fatalf("TLS through CONNECT %s (SNI %q): %v", target, sni, err)
	}
	return c
}

func cmpSlice(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// connect sends a CONNECT and returns the tunnel.
func (e *bypassEnv) connect(t *testing.T, target string) net.Conn {
	t.Helper()
	raw, err := net.DialTimeout("tcp", e.s.proxy, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	_ = raw.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(raw, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(raw)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT %s: %v %v", target, resp, err)
	}
	if br.Buffered() > 0 {
		t.Fatal("bytes after the CONNECT answer")
	}
	return raw
}

// connectStatus sends a CONNECT and returns the status of the answer (a refusal comes before
// any 200).
func (e *bypassEnv) connectStatus(t *testing.T, target string) int {
	t.Helper()
	raw, err := net.DialTimeout("tcp", e.s.proxy, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(raw, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	resp, err := http.ReadResponse(bufio.NewReader(raw), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

// rawExchange writes req on conn and reads as many responses as want.
func rawExchange(t *testing.T, conn net.Conn, req string, want int) []int {
	t.Helper()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var codes []int
	for range want {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", len(codes)+1, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	return codes
}

func (e *bypassEnv) post(t *testing.T, c *http.Client, rawURL string, header http.Header, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs // as given: repeated lines and odd case stay
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func chatBody(content string) []byte {
	return []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":` + quote(content) + `}]}`)
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func br(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func utf16le(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = byteorder.LittleEndian.AppendUint16(out, u)
	}
	return out
}

func utf16be(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = byteorder.BigEndian.AppendUint16(out, u)
	}
	return out
}

func utf32le(s string) []byte {
	var out []byte
	for _, r := range s {
		out = byteorder.LittleEndian.AppendUint32(out, uint32(r))
	}
	return out
}

// TestBypassAttempts is the table of issue 11's attacks, and more.
func TestBypassAttempts(t *testing.T) {
	log := &vendorLog{}
	tlsAddr, plainAddr, upCA := bypassVendor(t, log)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "customs.yaml")
	// allow_ports: the h2c case below CONNECTs to port 80, which the port rule refuses by default.
	if err := os.WriteFile(cfg, []byte("body:\n  inspect_limit: 1MiB\n  decode_limit: 4MiB\nallow_ports: [443, 80]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	s := startCustoms(t, "--config", cfg, "--data", data, "--upstream-ca", upCA,
		"--resolve", "104.18.7.193="+plainAddr, "--resolve", "*="+tlsAddr)
	pem, err := os.ReadFile(filepath.Join(data, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	env := &bypassEnv{s: s, caPool: pool, client: proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))}
	env.h2 = proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
	env.h2.Transport.(*http.Transport).ForceAttemptHTTP2 = true

	const openai = "https://api.openai.com/v1/chat/completions"
	keyed := chatBody("why does boto3 reject aws_access_key_id = " + bypassKey + " ?")
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h[kv[i]] = append(h[kv[i]], kv[i+1])
		}
		return h
	}
	rawPost := func(host, path, extraHeaders, body string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s", path, host, len(body), extraHeaders, body)
	}
	many := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(`{"model":"gpt-4o","messages":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"role":"user","content":"line %d"}`, i)
		}
		b.WriteString(`,{"role":"user","content":"aws_access_key_id = ` + bypassKey + `"}]}`)
		return b.Bytes()
	}
	big := func(size int) []byte {
		filler := strings.Repeat("The quarterly report shows revenue up 4% on the prior period. ", size/62)
		return chatBody(filler + "aws_access_key_id = " + bypassKey)
	}
	bomb := func() []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		zeros := make([]byte, 1<<20)
		for range 8 { // 8 MiB of zeros past the 4 MiB decode limit, then the key
			_, _ = w.Write(zeros)
		}
		_, _ = w.Write(keyed)
		_ = w.Close()
		return b.Bytes()
	}

	type attempt struct {
		name   string
		run    func(t *testing.T) int // the status the client saw (0: the session was closed)
		status int
		policy string // the flow's deciding policy, or "incomplete:<reason>"
	}
	attempts := []attempt{
		// Scope by what the client really talks to.
		{"CONNECT to a vendor's IP address with the vendor's SNI", func(t *testing.T) int {
			return rawExchange(t, env.connectTLS(t, "104.18.7.192:443", "api.openai.com"), rawPost("api.openai.com", "/v1/chat/completions", "", string(keyed)), 1)[0]
		}, 403, "block-secrets-to-ai"},
		{"CONNECT to an IPv4-mapped IPv6 address", func(t *testing.T) int {
			return rawExchange(t, env.connectTLS(t, "[::ffff:104.18.7.192]:443", "api.openai.com"), rawPost("api.openai.com", "/v1/chat/completions", "", string(keyed)), 1)[0]
		}, 403, "block-secrets-to-ai"},
		{"CONNECT to an IPv6 address", func(t *testing.T) int {
			return rawExchange(t, env.connectTLS(t, "[2606:4700::6812:7c0]:443", "api.openai.com"), rawPost("api.openai.com", "/v1/chat/completions", "", string(keyed)), 1)[0]
		}, 403, "block-secrets-to-ai"},
		{"CONNECT to another name with the vendor's SNI", func(t *testing.T) int {
			return rawExchange(t, env.connectTLS(t, "notvendor.test:443", "api.openai.com"), rawPost("api.openai.com", "/v1/chat/completions", "", string(keyed)), 1)[0]
		}, 403, "block-secrets-to-ai"},
		{"upper case and a trailing dot", func(t *testing.T) int {
			return rawExchange(t, env.connectTLS(t, "API.OPENAI.COM.:443", "API.OpenAI.com."), rawPost("API.OpenAI.com.", "/v1/chat/completions", "", string(keyed)), 1)[0]
		}, 403, "block-secrets-to-ai"},
		{"plain HTTP to an IP address", func(t *testing.T) int {
			return env.post(t, env.client, "http://104.18.7.193/v1/chat/completions", hdr("Host", "api.openai.com"), keyed)
		}, 403, "block-secrets-to-bare-ip"},
		// Issue 12: the proxy is not a path into the host (the other destinations are the proxy
		// package's tests: here --resolve "*" sends every name to the fake vendor).
		{"CONNECT to SSH on the proxy's host", func(t *testing.T) int {
			return env.connectStatus(t, "127.0.0.1:22")
		}, 403, "port"},

		// Look everywhere the bytes can go.
		{"a header", func(t *testing.T) int {
			return env.post(t, env.client, openai, hdr("X-Debug", "aws_access_key_id="+bypassKey), chatBody("hello"))
		}, 403, "block-secrets-to-ai"},
		{"a header in odd case, twice", func(t *testing.T) int {
			return rawExchange(t, env.connectTLS(t, "api.openai.com:443", "api.openai.com"),
				rawPost("api.openai.com", "/v1/chat/completions", "x-dEbUg: fine\r\nX-DEBUG: "+bypassKey+"\r\n", string(chatBody("hello"))), 1)[0]
		}, 403, "block-secrets-to-ai"},
		{"the URL path", func(t *testing.T) int {
			return env.post(t, env.client, "https://api.openai.com/v1/files/"+bypassKey+"/content", nil, chatBody("hello"))
		}, 403, "block-secrets-to-ai"},
		{"the URL path, percent-encoded", func(t *testing.T) int {
			return env.post(t, env.client, "https://api.openai.com/v1/files/%41%4B%49%41Q3EGRZ7WYH2LXK5N", nil, chatBody("hello"))
		}, 403, "block-secrets-to-ai"},
		{"model", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, []byte(`{"model":"`+bypassKey+`","messages":[{"role":"user","content":"hi"}]}`))
		}, 403, "block-secrets-to-ai"},
		{"role", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, []byte(`{"model":"gpt-4o","messages":[{"role":"`+bypassKey+`","content":"hi"}]}`))
		}, 403, "block-secrets-to-ai"},
		{"tool_choice", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, []byte(`{"model":"gpt-4o","tool_choice":"`+bypassKey+`","messages":[]}`))
		}, 403, "block-secrets-to-ai"},
		{"service_tier", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, []byte(`{"model":"gpt-4o","service_tier":"`+bypassKey+`","messages":[]}`))
		}, 403, "block-secrets-to-ai"},
		{"a JSON object key", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, []byte(`{"model":"gpt-4o","metadata":{"`+bypassKey+`":1},"messages":[]}`))
		}, 403, "block-secrets-to-ai"},
		{"a query parameter name", func(t *testing.T) int {
			return env.post(t, env.client, openai+"?"+bypassKey+"=1", nil, chatBody("hello"))
		}, 403, "block-secrets-to-ai"},

		// Decode as the vendor will.
		{"two Content-Encoding lines: gzip, gzip", func(t *testing.T) int {
			return env.post(t, env.client, openai, hdr("Content-Encoding", "gzip", "Content-Encoding", "gzip"), gz(t, gz(t, keyed)))
		}, 403, "block-secrets-to-ai"},
		{"two Content-Encoding lines: gzip, br", func(t *testing.T) int {
			return env.post(t, env.client, openai, hdr("Content-Encoding", "gzip", "Content-Encoding", "br"), br(gz(t, keyed)))
		}, 403, "block-secrets-to-ai"},
		{"an upper-case coding name", func(t *testing.T) int {
			return env.post(t, env.client, openai, hdr("Content-Encoding", "GZIP"), gz(t, keyed))
		}, 403, "block-secrets-to-ai"},
		{"five stacked codings", func(t *testing.T) int {
			return env.post(t, env.client, openai, hdr("Content-Encoding", "gzip, gzip, gzip, gzip, gzip"), gz(t, gz(t, gz(t, gz(t, gz(t, keyed))))))
		}, 403, "incomplete:too-many-codings"},
		{"an unknown coding", func(t *testing.T) int {
			return env.post(t, env.client, openai, hdr("Content-Encoding", "x-custom"), gz(t, keyed))
		}, 403, "incomplete:unsupported-coding"},
		{"a body that decodes past the decode limit", func(t *testing.T) int {
			return env.post(t, env.client, openai, hdr("Content-Encoding", "gzip"), bomb())
		}, 403, "incomplete:decode-limit"},
		{"UTF-16LE JSON with a BOM", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, utf16le(string(keyed), true))
		}, 403, "block-secrets-to-ai"},
		{"UTF-16BE JSON without a BOM", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, utf16be(string(keyed)))
		}, 403, "block-secrets-to-ai"},
		{"UTF-32LE JSON by its charset", func(t *testing.T) int {
			return env.post(t, env.client, openai, hdr("Content-Type", "application/json; charset=utf-32le"), utf32le(string(keyed)))
		}, 403, "block-secrets-to-ai"},

		// Limits are decisions, not passes.
		{"a body over the inspection window, the key at the end", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, big(3<<20))
		}, 403, "block-secrets-to-ai"},
		{"a gzip body over the window, the key at the end", func(t *testing.T) int {
			// Incompressible enough to stay over 1 MiB coded, under the 4 MiB decode limit.
			var b strings.Builder
			for i := range 160_000 {
				fmt.Fprintf(&b, "%x ", uint32(i)*2654435761)
			}
			return env.post(t, env.client, openai, hdr("Content-Encoding", "gzip"), gz(t, chatBody(b.String()+"aws_access_key_id = "+bypassKey)))
		}, 403, "block-secrets-to-ai"},
		{"a UTF-16 body over the inspection window", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, utf16le(string(big(1<<20)), true))
		}, 403, "incomplete:oversize-charset"},
		{"more messages than extraction reads", func(t *testing.T) int {
			return env.post(t, env.client, openai, nil, many(25_000))
		}, 403, "incomplete:extraction-limit:segments"},

		// HTTP/1.1 framing and HTTP/2.
		{"chunked with chunk extensions", func(t *testing.T) int {
			body := string(keyed)
			req := "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
				fmt.Sprintf("%x;name=\"x\"\r\n%s\r\n%x;ext\r\n%s\r\n0\r\n\r\n", 20, body[:20], len(body)-20, body[20:])
			return rawExchange(t, env.connectTLS(t, "api.openai.com:443", "api.openai.com"), req, 1)[0]
		}, 403, "block-secrets-to-ai"},
		{"a request trailer", func(t *testing.T) int {
			body := string(chatBody("hello"))
			req := "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nTrailer: X-Debug\r\n\r\n" +
				fmt.Sprintf("%x\r\n%s\r\n0\r\nX-Debug: %s\r\n\r\n", len(body), body, bypassKey)
			return rawExchange(t, env.connectTLS(t, "api.openai.com:443", "api.openai.com"), req, 1)[0]
		}, 200, ""},
		{"pipelined: a clean request, then the key", func(t *testing.T) int {
			clean := rawPost("api.openai.com", "/v1/chat/completions", "", string(chatBody("hello")))
			codes := rawExchange(t, env.connectTLS(t, "api.openai.com:443", "api.openai.com"), clean+rawPost("api.openai.com", "/v1/chat/completions", "", string(keyed)), 2)
			if codes[0] != 200 {
				t.Errorf("the clean first request got %d", codes[0])
			}
			return codes[1]
		}, 403, "block-secrets-to-ai"},
		{"HTTP/2, the key in a header", func(t *testing.T) int {
			return env.post(t, env.h2, openai, hdr("X-Debug", bypassKey), chatBody("hello"))
		}, 403, "block-secrets-to-ai"},
		{"HTTP/2 cleartext (h2c) inside a CONNECT", func(t *testing.T) int {
			var protos http.Protocols
			protos.SetUnencryptedHTTP2(true) // prior knowledge: the HTTP/2 preface, no upgrade
			tr := &http.Transport{Protocols: &protos, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return env.connect(t, "api.openai.com:80"), nil
			}}
			c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
			return env.post(t, c, "http://api.openai.com/v1/chat/completions", nil, keyed)
		}, 403, "block-secrets-to-ai"},

		// WebSocket.
		{"a WebSocket message to the Realtime API", func(t *testing.T) int {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "wss://api.openai.com/v1/realtime?model=gpt-realtime",
				&websocket.DialOptions{HTTPClient: env.client, CompressionMode: websocket.CompressionContextTakeover})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			ev := `{"type":"session.update","session":{"instructions":"use aws_access_key_id = ` + bypassKey + `"}}`
			if err := conn.Write(ctx, websocket.MessageText, []byte(ev)); err != nil {
				t.Fatal(err)
			}
			_, msg, err := conn.Read(ctx)
			if err != nil || !strings.Contains(string(msg), `"type":"error"`) {
				t.Fatalf("want an error event, got %q %v", msg, err)
			}
			_, _, err = conn.Read(ctx)
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation {
				t.Fatalf("close: %v", err)
			}
			return 0
		}, 0, "block-secrets-to-ai"},
		{"a WebSocket handshake header", func(t *testing.T) int {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, resp, err := websocket.Dial(ctx, "wss://api.openai.com/v1/realtime",
				&websocket.DialOptions{HTTPClient: env.client, HTTPHeader: hdr("X-Debug", bypassKey)})
			if err == nil || resp == nil {
				t.Fatalf("dial: %v", err)
			}
			return resp.StatusCode
		}, 403, "block-secrets-to-ai"},
	}

	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			before := log.len()
			flowsBefore := countFlowLines(s)
			if got := a.run(t); got != a.status {
				t.Errorf("client got status %d, want %d", got, a.status)
			}
			action := "block"
			if a.policy == "" {
				action = "allow" // nothing to block: the key went nowhere
			}
			line := waitFlowLine(t, s, flowsBefore, action)
			if policy, reason := fmt.Sprint(line["policy"]), fmt.Sprint(line["reason"]); a.policy == "" {
				if line["policy"] != nil {
					t.Errorf("flow policy %q (reason %q), want none", policy, reason)
				}
			} else if strings.HasPrefix(a.policy, "incomplete:") {
				want := strings.TrimPrefix(a.policy, "incomplete:")
				if policy != "incomplete" || !strings.Contains(reason, want) || !strings.Contains(fmt.Sprint(line["incomplete"]), want) {
					t.Errorf("flow policy %q reason %q incomplete %v, want incomplete for %s", policy, reason, line["incomplete"], want)
				}
			} else if policy != a.policy {
				t.Errorf("flow policy %q (reason %q), want %s", policy, reason, a.policy)
			}
			for _, got := range log.since(before) {
				if strings.Contains(got, bypassKey) && strings.Contains(got, "<<complete>>") || strings.HasPrefix(got, "ws ") && strings.Contains(got, bypassKey) {
					t.Fatalf("the vendor received the key:\n%.600s", got)
				}
			}
		})
	}
	// Nothing customs wrote names the key: not the path it sat in, not a header, not a note.
	for _, l := range s.logLines() {
		if b, _ := json.Marshal(l); strings.Contains(string(b), bypassKey) || strings.Contains(string(b), "Q3EGRZ7WYH2LXK5N") {
			t.Errorf("the key is in a log line: %s", b)
		}
	}
}

func countFlowLines(s *servedCustoms) int {
	n := 0
	for _, l := range s.logLines() {
		if l["message"] == "flow" {
			n++
		}
	}
	return n
}

// waitFlowLine waits for a flow line after the first skip ones with the given action.
func waitFlowLine(t *testing.T, s *servedCustoms, skip int, action string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		n := 0
		for _, l := range s.logLines() {
			if l["message"] != "flow" {
				continue
			}
			n++
			if n > skip && l["action"] == action {
				return l
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	var recent []map[string]any
	for _, l := range s.logLines() {
		if l["message"] == "flow" {
			recent = append(recent, l)
		}
	}
	t.Fatalf("no %s flow line after %d; flows: %v", action, skip, recent[min(skip, len(recent)):])
	return nil
}
