package proxy_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/coder/websocket"
	"github.com/klauspost/compress/zstd"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/proxy"
	"github.com/customs-dev/customs/rules"
)

// The client sees a leaf for exactly the host it asked for, signed by the customs CA, and the flow
// is recorded as intercepted with its vendor.
func TestInterceptedLeafChain(t *testing.T) {
	w := newWorld(t, worldOptions{})
	for _, host := range []string{"api.openai.com", "api.anthropic.com", "myres.openai.azure.com"} {
		t.Run(host, func(t *testing.T) {
			resp, err := w.client(false).Post("https://"+host+"/echo", "text/plain", strings.NewReader("hello"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "hello" {
				t.Fatalf("status %d body %q", resp.StatusCode, body)
			}
			leaf := resp.TLS.PeerCertificates[0]
			if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != host {
				t.Errorf("leaf SANs %v, want [%s]", leaf.DNSNames, host)
			}
			if !issuedBy(leaf, w.customsCA.Cert) {
				t.Errorf("leaf issued by %q, not the customs CA", leaf.Issuer)
			}
			pool := x509.NewCertPool()
			pool.AddCert(w.customsCA.Cert)
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
				t.Errorf("leaf does not verify against the customs CA: %v", err)
			}
			if got := resp.Header.Get("X-Upstream-Host"); got != host {
				t.Errorf("upstream saw Host %q", got)
			}
			f := w.nextFlow()
			if f.Mode != flow.Intercepted || f.Host != host || f.Vendor.ID == "" || f.Status != 200 {
				t.Errorf("flow = mode %s host %s vendor %q status %d", f.Mode, f.Host, f.Vendor.ID, f.Status)
			}
			if f.RequestBytes != 5 || f.ResponseBytes != 5 || string(f.RequestBody) != "hello" {
				t.Errorf("flow bytes out %d in %d body %q", f.RequestBytes, f.ResponseBytes, f.RequestBody)
			}
			if f.Verdict.Action != flow.Allow || f.Client.Addr == "" || f.ID == "" {
				t.Errorf("flow verdict %q client %q id %q", f.Verdict.Action, f.Client.Addr, f.ID)
			}
		})
	}
}

// An upstream whose certificate customs does not trust gets the client a 502 saying why; the
// proxy never falls back to an unverified connection.
func TestUntrustedUpstreamIs502(t *testing.T) {
	w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) {
		o.RootCAs = x509.NewCertPool() // trusts nothing, so the test upstream is untrusted
	}})
	resp, err := w.client(false).Get("https://api.openai.com/echo")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	if !strings.Contains(string(body), "certificate") || !strings.Contains(string(body), "api.openai.com") {
		t.Errorf("502 body does not say why: %q", body)
	}
	f := w.nextFlow()
	if f.ErrorKind != "tls" || f.Status != 502 {
		t.Errorf("flow error kind %q status %d", f.ErrorKind, f.Status)
	}
}

// A host outside the catalog is tunnelled: the client sees the upstream's own certificate, and a
// metadata-only flow is still recorded.
func TestNonCatalogHostIsTunnelled(t *testing.T) {
	w := newWorld(t, worldOptions{})
	c := w.client(true)
	resp, err := c.Post("https://example.org/echo", "text/plain", strings.NewReader("private"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !issuedBy(resp.TLS.PeerCertificates[0], w.upCA.Cert) {
		t.Fatal("tunnelled host not served with the upstream's own certificate")
	}
	c.CloseIdleConnections() // ends the tunnel so its flow is recorded
	f := w.nextFlow()
	if f.Mode != flow.Tunnelled || f.Host != "example.org" || f.Method != "CONNECT" {
		t.Fatalf("flow mode %s host %s method %s", f.Mode, f.Host, f.Method)
	}
	if f.RequestBytes == 0 || f.ResponseBytes == 0 || f.Duration() <= 0 || f.RequestBody != nil {
		t.Errorf("tunnel flow bytes out %d in %d duration %v body %q", f.RequestBytes, f.ResponseBytes, f.Duration(), f.RequestBody)
	}
}

func TestInterceptModes(t *testing.T) {
	tests := []struct {
		name      string
		scope     proxy.Scope
		host      string
		intercept bool
	}{
		{"catalog opens vendor", proxy.Scope{Mode: proxy.InterceptCatalog}, "api.openai.com", true},
		{"catalog tunnels others", proxy.Scope{Mode: proxy.InterceptCatalog}, "example.org", false},
		{"operator list opens", proxy.Scope{Mode: proxy.InterceptCatalog, Intercept: hostSet(t, "*.example.org")}, "llm.example.org", true},
		{"never wins over catalog", proxy.Scope{Mode: proxy.InterceptCatalog, Never: hostSet(t, "api.openai.com")}, "api.openai.com", false},
		{"all opens others", proxy.Scope{Mode: proxy.InterceptAll}, "example.org", true},
		{"never wins over all", proxy.Scope{Mode: proxy.InterceptAll, Never: hostSet(t, "*.org")}, "example.org", false},
		{"none tunnels vendor", proxy.Scope{Mode: proxy.InterceptNone}, "api.openai.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) {
				in := o.Scope.InCatalog
				o.Scope = tt.scope
				o.Scope.InCatalog = in
			}})
			c := w.client(true)
			resp, err := c.Get("https://" + tt.host + "/echo")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			c.CloseIdleConnections()
			issuedByCustoms := issuedBy(resp.TLS.PeerCertificates[0], w.customsCA.Cert)
			if issuedByCustoms != tt.intercept {
				t.Errorf("intercepted = %v, want %v", issuedByCustoms, tt.intercept)
			}
			want := flow.Tunnelled
			if tt.intercept {
				want = flow.Intercepted
			}
			if f := w.nextFlow(); f.Mode != want {
				t.Errorf("flow mode %s, want %s", f.Mode, want)
			}
		})
	}
}

// issuedBy checks the signature, not the name: the test CAs share a subject.
func issuedBy(leaf, issuer *x509.Certificate) bool {
	return leaf.CheckSignatureFrom(issuer) == nil
}

func hostSet(t *testing.T, patterns ...string) proxy.HostSet {
	hs, err := proxy.NewHostSet(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// A streamed response reaches the client piece by piece: the first event arrives while the
// upstream is still holding back the last one (goproxy #794, #475: SSE stuck in a buffer).
func TestStreamingResponsesArriveAsSent(t *testing.T) {
	for _, tt := range []struct{ name, url, last string }{
		{"sse intercepted", "https://api.openai.com/sse", "[DONE]"},
		{"ndjson intercepted", "https://api.openai.com/ndjson", "done"},
		{"sse plain http", "http://api.mistral.ai/sse", "[DONE]"},
		{"ndjson plain http", "http://api.mistral.ai/ndjson", "done"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			assertStreams(t, w, w.client(false), tt.url, tt.last)
		})
	}
}

// Bodiless responses must not be sent chunked (goproxy #732, #770, #800: pip hung on them).
func TestBodilessResponsesDoNotHang(t *testing.T) {
	w := newWorld(t, worldOptions{})
	c := w.client(false)
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/status/204", 204},
		{"GET", "/status/304", 304},
		{"HEAD", "/echo", 200},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			// Twice on one keep-alive connection: a stray chunk terminator would corrupt the second.
			for i := 0; i < 2; i++ {
				req, _ := http.NewRequest(tt.method, "https://api.openai.com"+tt.path, nil)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				resp, err := c.Do(req.WithContext(ctx))
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				cancel()
				if err != nil || resp.StatusCode != tt.status || len(b) != 0 {
					t.Fatalf("status %d body %q err %v", resp.StatusCode, b, err)
				}
			}
		})
	}
}

// Compressed request bodies are decoded for inspection while the original bytes go upstream, and
// a compression bomb is cut at the decode limit.
func TestContentEncodingDecodedForInspection(t *testing.T) {
	prompt := []byte(strings.Repeat(`{"role":"user","content":"summarise the quarterly numbers"}`, 200))
	var seen sync.Map // flow ID -> decoded body
	capture := stageFunc(func(_ context.Context, r *inspect.Request) error {
		seen.Store(r.Flow.ID, append([]byte(nil), r.Body...))
		return nil
	})
	const decodeLimit = 1 << 20
	w := newWorld(t, worldOptions{stages: []inspect.Stage{capture}, decodeLimit: decodeLimit})
	bomb := gzipBytes(t, bytes.Repeat([]byte{0}, 64<<20)) // 64 MiB of zeros, ~64 KiB compressed
	gz := func(b []byte) []byte { return gzipBytes(t, b) }
	tests := []struct {
		encodings  []string // one header line each
		body       []byte
		wantLen    int
		wantMarks  []flow.Mark
		incomplete string // the reason the request is refused; "" when it goes through
	}{
		{[]string{"gzip"}, gz(prompt), len(prompt), nil, ""},
		{[]string{"deflate"}, zlibBytes(t, prompt), len(prompt), nil, ""},
		{[]string{"br"}, brBytes(t, prompt), len(prompt), nil, ""},
		{[]string{"zstd"}, zstdBytes(t, prompt), len(prompt), nil, ""},
		{[]string{"identity"}, prompt, len(prompt), nil, ""},
		// Two header lines are one list (RFC 9110): both codings are undone, last first.
		{[]string{"gzip", "gzip"}, gz(gz(prompt)), len(prompt), nil, ""},
		{[]string{"gzip", "br"}, brBytes(t, gz(prompt)), len(prompt), nil, ""},
		{[]string{"gzip, gzip"}, gz(gz(prompt)), len(prompt), nil, ""},
		// What cannot be decoded whole is refused, not passed with a mark.
		{[]string{"gzip"}, bomb, decodeLimit, []flow.Mark{flow.MarkDecodeTruncated, flow.MarkIncomplete}, "decode-limit"},
		{[]string{"x-unknown"}, prompt, len(prompt), []flow.Mark{flow.MarkDecodeError, flow.MarkIncomplete}, "unsupported-coding"},
		{[]string{"gzip"}, prompt, 0, []flow.Mark{flow.MarkDecodeError, flow.MarkIncomplete}, "corrupt-coding"}, // not actually gzip
		{[]string{"gzip", "gzip", "gzip", "gzip", "gzip"}, gz(gz(gz(gz(gz(prompt))))), 0, []flow.Mark{flow.MarkIncomplete}, "too-many-codings"},
	}
	c := w.client(false)
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d-%s", i, strings.Join(tt.encodings, "+")), func(t *testing.T) {
			req, _ := http.NewRequest("POST", "https://api.openai.com/echo", bytes.NewReader(tt.body))
			for _, e := range tt.encodings {
				req.Header.Add("Content-Encoding", e)
			}
			before := w.seen.count()
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			echoed, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			f := w.nextFlow()
			if tt.incomplete != "" {
				if resp.StatusCode != http.StatusForbidden || w.seen.count() != before || !strings.Contains(string(echoed), tt.incomplete) {
					t.Fatalf("status %d, upstream requests %d→%d, body %q: want a 403 naming %s, nothing upstream", resp.StatusCode, before, w.seen.count(), echoed, tt.incomplete)
				}
				if !slices.Contains(f.Incomplete, tt.incomplete) || f.Verdict.Policy != "incomplete" {
					t.Fatalf("flow incomplete %v verdict %+v", f.Incomplete, f.Verdict)
				}
			} else if !bytes.Equal(echoed, tt.body) || resp.Header.Get("X-Upstream-Content-Encoding") != tt.encodings[0] {
				t.Fatalf("upstream did not receive the original bytes (got %d bytes, encoding %q)", len(echoed), resp.Header.Get("X-Upstream-Content-Encoding"))
			}
			if tt.wantLen > 0 && int(f.DecodedBytes) != tt.wantLen {
				t.Errorf("decoded %d bytes, want %d", f.DecodedBytes, tt.wantLen)
			}
			for _, m := range tt.wantMarks {
				if !f.HasMark(m) {
					t.Errorf("flow marks %v, want %s", f.Marks, m)
				}
			}
			if len(tt.wantMarks) == 0 {
				got, _ := seen.Load(f.ID)
				if !bytes.Equal(got.([]byte), prompt) {
					t.Errorf("inspection saw %d bytes, not the decoded prompt", len(got.([]byte)))
				}
			}
		})
	}
}

type stageFunc func(context.Context, *inspect.Request) error

func (f stageFunc) Run(ctx context.Context, r *inspect.Request) error { return f(ctx, r) }

func gzipBytes(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write(p)
	_ = zw.Close()
	return b.Bytes()
}

func zlibBytes(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	// RFC 9110 "deflate" is zlib-wrapped.
	b.Write([]byte{0x78, 0x9c})
	fw, _ := flate.NewWriter(&b, flate.DefaultCompression)
	_, _ = fw.Write(p)
	_ = fw.Close()
	var sum [4]byte
	a := adler32(p)
	sum[0], sum[1], sum[2], sum[3] = byte(a>>24), byte(a>>16), byte(a>>8), byte(a)
	b.Write(sum[:])
	return b.Bytes()
}

func adler32(p []byte) uint32 {
	const mod = 65521
	a, b := uint32(1), uint32(0)
	for _, c := range p {
		a = (a + uint32(c)) % mod
		b = (b + a) % mod
	}
	return b<<16 | a
}

func brBytes(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	bw := brotli.NewWriter(&b)
	_, _ = bw.Write(p)
	_ = bw.Close()
	return b.Bytes()
}

func zstdBytes(t testing.TB, p []byte) []byte {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(p, nil)
}

// A body larger than the inspection limit is still forwarded whole, streamed, and marked; with
// BlockOversize it is refused with 413.
func TestOversizeBody(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 10<<10)
	t.Run("forward", func(t *testing.T) {
		w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) { o.InspectLimit = 1 << 10 }})
		resp, err := w.client(false).Post("https://api.openai.com/count", "text/plain", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != strconv.Itoa(len(body)) {
			t.Fatalf("upstream received %s bytes, want %d", got, len(body))
		}
		f := w.nextFlow()
		if !f.HasMark(flow.MarkOversize) || len(f.RequestBody) != 1<<10 || f.RequestBytes != int64(len(body)) {
			t.Errorf("marks %v window %d sent %d", f.Marks, len(f.RequestBody), f.RequestBytes)
		}
	})
	t.Run("block", func(t *testing.T) {
		w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) { o.InspectLimit = 1 << 10; o.BlockOversize = true }})
		resp, err := w.client(false).Post("https://api.openai.com/count", "text/plain", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
		if f := w.nextFlow(); f.Verdict.Action != flow.Block || f.Verdict.Policy != "oversize" || f.Vendor.ID != "openai" {
			t.Errorf("verdict %+v", f.Verdict)
		}
	})
}

// A WebSocket (e.g. a realtime API) upgrades through an intercepted host and echoes.
func TestWebSocketThroughInterceptedHost(t *testing.T) {
	w := newWorld(t, worldOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "wss://api.openai.com/ws", &websocket.DialOptions{HTTPClient: w.client(false)})
	if err != nil {
		t.Fatalf("dial: %v (resp %v)", err, resp)
	}
	for i := 0; i < 3; i++ {
		msg := fmt.Sprintf(`{"type":"conversation.item.create","n":%d}`, i)
		if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "echo:"+msg {
			t.Fatalf("got %q", got)
		}
	}
	_ = conn.Close(websocket.StatusNormalClosure, "")
	f := w.nextFlow()
	if !f.HasMark(flow.MarkWebSocket) || f.Status != 101 || f.RequestBytes == 0 || f.ResponseBytes == 0 {
		t.Errorf("ws flow marks %v status %d out %d in %d", f.Marks, f.Status, f.RequestBytes, f.ResponseBytes)
	}
}

// Plain-HTTP proxy requests (absolute URI) are inspected for catalog hosts and passed through for
// others.
func TestPlainHTTPProxyRequests(t *testing.T) {
	w := newWorld(t, worldOptions{})
	for _, tt := range []struct {
		host    string
		vendor  string
		hasBody bool
	}{{"api.mistral.ai", "mistral", true}, {"example.net", "", false}} {
		t.Run(tt.host, func(t *testing.T) {
			resp, err := w.client(false).Post("http://"+tt.host+"/echo", "text/plain", strings.NewReader("plain prompt"))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "plain prompt" {
				t.Fatalf("got %q", b)
			}
			f := w.nextFlow()
			if f.Mode != flow.Plain || f.Vendor.ID != tt.vendor || (f.RequestBody != nil) != tt.hasBody || f.RequestBytes != 12 {
				t.Errorf("flow mode %s vendor %q body %q sent %d", f.Mode, f.Vendor.ID, f.RequestBody, f.RequestBytes)
			}
		})
	}
}

func TestProxyAuthentication(t *testing.T) {
	w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) {
		o.Authenticate = func(u, p string) bool { return u == "alice" && p == "s3cret" }
	}})
	tests := []struct {
		name       string
		user       *url.Userinfo
		target     string
		wantStatus int
	}{
		{"no credentials, CONNECT", nil, "https://api.openai.com/echo", 407},
		{"wrong password, CONNECT", url.UserPassword("alice", "nope"), "https://api.openai.com/echo", 407},
		{"no credentials, plain", nil, "http://api.mistral.ai/echo", 407},
		{"good credentials, CONNECT", url.UserPassword("alice", "s3cret"), "https://api.openai.com/echo", 200},
		{"good credentials, plain", url.UserPassword("alice", "s3cret"), "http://api.mistral.ai/echo", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pu := *w.proxyURL
			pu.User = tt.user
			c := w.client(false)
			c.Transport.(*http.Transport).Proxy = http.ProxyURL(&pu)
			resp, err := c.Get(tt.target)
			status := 0
			if err == nil {
				status = resp.StatusCode
				if status == 407 && resp.Header.Get("Proxy-Authenticate") == "" {
					t.Error("407 without a Proxy-Authenticate challenge")
				}
				if got := resp.Header.Get("X-Upstream-Proxy-Authorization"); got != "" {
					t.Errorf("proxy credentials leaked upstream: %q", got)
				}
				resp.Body.Close()
			} else if strings.Contains(err.Error(), "Proxy Authentication Required") {
				status = 407 // Go's transport turns a refused CONNECT into an error
			} else {
				t.Fatal(err)
			}
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d", status, tt.wantStatus)
			}
			f := w.nextFlow()
			if tt.wantStatus == 200 && f.Client.User != "alice" {
				t.Errorf("flow user %q, want alice", f.Client.User)
			}
			if tt.wantStatus == 407 && (f.Verdict.Action != flow.Block || f.Verdict.Policy != "proxy_auth") {
				t.Errorf("refusal flow verdict %+v", f.Verdict)
			}
		})
	}
}

func TestClientAllowList(t *testing.T) {
	w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) {
		o.AllowClients = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	}})
	resp, err := w.client(false).Get("http://api.mistral.ai/echo")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "allow_clients") {
		t.Fatalf("status %d body %q", resp.StatusCode, b)
	}
	if f := w.nextFlow(); f.Verdict.Policy != "allow_clients" {
		t.Errorf("verdict %+v", f.Verdict)
	}
}

// Each malformed request gets a clear error on its own connection, and the proxy keeps serving.
func TestMalformedRequestsDoNotAffectOthers(t *testing.T) {
	w := newWorld(t, worldOptions{})
	tests := []struct {
		name, raw  string
		wantStatus string
	}{
		{"CONNECT without target", "CONNECT  HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"CONNECT empty host", "CONNECT :443 HTTP/1.1\r\nHost: :443\r\n\r\n", "400"},
		{"CONNECT bad port", "CONNECT api.openai.com:99999 HTTP/1.1\r\nHost: api.openai.com:99999\r\n\r\n", "400"},
		{"CONNECT junk host", "CONNECT a%00b:443 HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"garbage line", "HELLO\r\n\r\n", "400"},
		{"bad Host header", "GET http://api.mistral.ai/echo HTTP/1.1\r\nHost: a b\r\n\r\n", "400"},
		{"origin-form to proxy", "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "400"},
		{"header too large", "GET http://api.mistral.ai/echo HTTP/1.1\r\nHost: api.mistral.ai\r\nX: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", "431"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", w.proxyURL.Host, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			go func() { _, _ = io.WriteString(conn, tt.raw) }()
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if !strings.Contains(line, " "+tt.wantStatus+" ") {
				t.Fatalf("answer %q, want status %s", line, tt.wantStatus)
			}
			drainFlows(w)
			assertServes(t, w)
		})
	}
}

func drainFlows(w *world) {
	for {
		select {
		case <-w.flows:
		default:
			return
		}
	}
}

func assertServes(t *testing.T, w *world) {
	t.Helper()
	resp, err := w.client(false).Post("https://api.openai.com/echo", "text/plain", strings.NewReader("still here"))
	if err != nil {
		t.Fatalf("proxy stopped serving: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "still here" {
		t.Fatalf("proxy stopped serving: %q", b)
	}
	drainFlows(w)
}

// A client that disconnects in the middle of its body leaves a client-abort flow and nothing else.
func TestClientDisconnectMidBody(t *testing.T) {
	w := newWorld(t, worldOptions{})
	conn := dialThroughProxy(t, w, "api.openai.com")
	_, _ = io.WriteString(conn, "POST /count HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 100000\r\n\r\npartial body")
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	f := w.nextFlow()
	if !f.HasMark(flow.MarkClientAbort) || f.ErrorKind != "client" {
		t.Errorf("flow marks %v error kind %q (%s)", f.Marks, f.ErrorKind, f.Error)
	}
	assertServes(t, w)
}

// dialThroughProxy opens an intercepted TLS connection to host through the proxy by hand.
func dialThroughProxy(t *testing.T, w *world, host string) *tls.Conn {
	t.Helper()
	raw, err := net.DialTimeout("tcp", w.proxyURL.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(raw, "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", host, host)
	br := bufio.NewReader(raw)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, " 200 ") {
		t.Fatalf("CONNECT answer %q: %v", line, err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(w.customsCA.Cert)
	conn := tls.Client(raw, &tls.Config{ServerName: host, RootCAs: pool})
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	return conn
}

// Inside an intercepted session, a request for another host than the CONNECT target is refused:
// customs opened, certified and recorded the session for that host only.
func TestHostMismatchInsideConnectIs421(t *testing.T) {
	w := newWorld(t, worldOptions{})
	conn := dialThroughProxy(t, w, "api.openai.com")
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(conn, "GET /echo HTTP/1.1\r\nHost: example.org\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(string(b), "example.org") {
		t.Fatalf("status %d body %q", resp.StatusCode, b)
	}
	if f := w.nextFlow(); f.ErrorKind != "client" || f.Host != "example.org" {
		t.Errorf("flow host %q error kind %q", f.Host, f.ErrorKind)
	}
}

// An upstream that resets before answering gets the client a 502, and only that client.
func TestUpstreamResetIs502(t *testing.T) {
	w := newWorld(t, worldOptions{})
	resp, err := w.client(false).Post("https://api.openai.com/reset", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "api.openai.com") {
		t.Fatalf("status %d body %q", resp.StatusCode, b)
	}
	if f := w.nextFlow(); f.ErrorKind == "" || f.Status != 502 {
		t.Errorf("flow error kind %q status %d", f.ErrorKind, f.Status)
	}
	assertServes(t, w)
}

// Closed tunnels and intercepted sessions are forgotten: a long-running proxy must not keep every
// connection it ever hijacked.
func TestClosedConnectionsAreForgotten(t *testing.T) {
	w := newWorld(t, worldOptions{})
	for _, target := range []string{"https://api.openai.com/echo", "https://example.org/echo", "http://api.mistral.ai/echo"} {
		c := w.client(true)
		resp, err := c.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		c.CloseIdleConnections()
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.proxy.ClientConns() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d client connections still tracked after every client closed", w.proxy.ClientConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An upstream that resets after sending headers: the client sees a truncated body (nothing else
// is honest once the status line is out), the flow records the failure, and others are served.
func TestUpstreamResetMidResponse(t *testing.T) {
	w := newWorld(t, worldOptions{})
	resp, err := w.client(false).Get("https://api.openai.com/reset-mid")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(b) >= 1000 {
		t.Fatalf("client read %d bytes, err %v: a truncated body must not look complete", len(b), err)
	}
	f := w.nextFlow()
	if f.ErrorKind == "" || f.Status != 200 || f.ResponseBytes != 500 {
		t.Errorf("flow error kind %q (%s) status %d in %d", f.ErrorKind, f.Error, f.Status, f.ResponseBytes)
	}
	assertServes(t, w)
}

// Concurrent first requests for one new host mint its leaf once.
func TestConcurrentFirstRequestsMintOnce(t *testing.T) {
	w := newWorld(t, worldOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := w.client(false).Get("https://api.groq.com/echo")
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := w.leaves.Minted(); n != 1 {
		t.Errorf("minted %d leaves for one host, want 1", n)
	}
}

// Shutdown lets a request in flight finish, refuses new connections, and returns.
func TestShutdownDrainsInFlight(t *testing.T) {
	w := newWorld(t, worldOptions{})
	// An idle pooled tunnel must not hold the drain: customs cannot see requests inside it.
	idle := w.client(true)
	if resp, err := idle.Get("https://example.org/echo"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	done := make(chan string, 1)
	go func() {
		resp, err := w.client(false).Get("https://api.openai.com/slow?d=500ms")
		if err != nil {
			done <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	time.Sleep(200 * time.Millisecond) // the request is now waiting on the upstream
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.proxy.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if got := <-done; got != "slow done" {
		t.Fatalf("in-flight request got %q", got)
	}
	if _, err := net.DialTimeout("tcp", w.proxyURL.Host, time.Second); err == nil {
		t.Error("proxy still accepts connections after shutdown")
	}
}

// A 1 GiB upload streams through with bounded memory (design: ~64 MiB RSS growth at most).
// TestHugeUploadBoundedMemory: a 1 GiB upload streams through with memory bounded, scanned as it
// goes by every built-in detector under the default policies; with a key in its last bytes the
// request is refused and the vendor never receives it whole.
func TestHugeUploadBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB transfers; run without -short")
	}
	w := newWorld(t, worldOptions{detect: true, rules: rules.Default()})
	const size = 1 << 30
	const key = "aws_access_key_id = AKIAQ3EGRZ7WYH2LXK5N\n"
	for _, tc := range []struct {
		name   string
		tail   string
		status int
	}{
		{"clean", "", http.StatusOK},
		{"key at the end", key, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			debug.FreeOSMemory()
			// Reset the peak-RSS mark so earlier work (a compression bomb) does not count.
			if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
				t.Skipf("cannot reset peak RSS: %v", err)
			}
			before := rssKiB(t)
			completeBefore := w.seen.countOf("<<complete>>")
			head := `{"model":"gpt-4o","messages":[{"role":"user","content":"`
			end := tc.tail + `"}]}`
			body := io.MultiReader(strings.NewReader(head), io.LimitReader(&proseReader{}, size-int64(len(head)+len(end))), strings.NewReader(end))
			req, _ := http.NewRequest("POST", "https://api.openai.com/count", body)
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := w.client(false).Do(req)
			var got []byte
			if err == nil {
				got, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			elapsed := time.Since(start)
			peak := peakRSSKiB(t)
			growth := (peak - before) / 1024
			t.Logf("%s: RSS before %d MiB, peak %d MiB, growth %d MiB; %.0f MB/s end to end (client, proxy and upstream in one process)",
				tc.name, before/1024, peak/1024, growth, float64(size)/elapsed.Seconds()/1e6)
			if growth > 64 {
				t.Errorf("RSS grew %d MiB for a 1 GiB upload, want <= 64 MiB", growth)
			}
			f := w.nextFlow()
			switch tc.status {
			case http.StatusOK:
				if err != nil || resp.StatusCode != 200 || string(got) != strconv.Itoa(size) {
					t.Fatalf("err %v, upstream received %s bytes", err, got)
				}
				if !f.HasMark(flow.MarkOversize) || f.RequestBytes != size || f.Verdict.Action != flow.Allow {
					t.Errorf("flow marks %v sent %d verdict %+v", f.Marks, f.RequestBytes, f.Verdict)
				}
			default:
				// The client may see the 403, or a reset while it still writes the body.
				if err == nil && resp.StatusCode != http.StatusForbidden {
					t.Fatalf("status %d body %q", resp.StatusCode, got)
				}
				if f.Verdict.Action != flow.Block || f.Verdict.Policy != "block-secrets-to-ai" || f.RequestBytes >= size {
					t.Fatalf("flow verdict %+v sent %d of %d", f.Verdict, f.RequestBytes, size)
				}
				if w.seen.countOf("<<complete>>") != completeBefore {
					t.Fatal("the upstream received the whole body")
				}
			}
		})
	}
}

// proseReader yields prompt-like text for ever: what the detectors scan at their usual pace, not
// a run of zeros they skip.
type proseReader struct{ off int }

const prose = "The quarterly report shows revenue up 4% on the prior period; the team will review the " +
	"forecast with finance on Thursday and circulate the notes afterwards. Please summarise the risks. "

func (r *proseReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], prose[r.off:])
		n += c
		r.off = (r.off + c) % len(prose)
	}
	return n, nil
}

func rssKiB(t *testing.T) int64     { return procStatus(t, "VmRSS:") }
func peakRSSKiB(t *testing.T) int64 { return procStatus(t, "VmHWM:") }

func procStatus(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	t.Fatalf("%s not in /proc/self/status", field)
	return 0
}

// A panic inside inspection fails that request with a 500 and nothing else: goproxy serves
// intercepted connections without a recover of its own.
func TestPanicInInspectionFailsOnlyThatRequest(t *testing.T) {
	boom := stageFunc(func(_ context.Context, r *inspect.Request) error {
		if bytes.Contains(r.Body, []byte("poison")) {
			panic("detector bug")
		}
		return nil
	})
	w := newWorld(t, worldOptions{stages: []inspect.Stage{boom}})
	resp, err := w.client(false).Post("https://api.openai.com/echo", "text/plain", strings.NewReader("poison"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), "internal error") {
		t.Fatalf("status %d body %q", resp.StatusCode, b)
	}
	if f := w.nextFlow(); f.ErrorKind != "internal" {
		t.Errorf("flow error kind %q", f.ErrorKind)
	}
	assertServes(t, w)
}

// An upstream that does not send headers within the response-header timeout gets a 504.
func TestUpstreamResponseHeaderTimeoutIs504(t *testing.T) {
	w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) { o.ResponseHeaderTimeout = 200 * time.Millisecond }})
	resp, err := w.client(false).Get("https://api.openai.com/slow?d=2s")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(b), "timed out") {
		t.Fatalf("status %d body %q", resp.StatusCode, b)
	}
	if f := w.nextFlow(); f.ErrorKind != "timeout" {
		t.Errorf("flow error kind %q", f.ErrorKind)
	}
}

// With intercept all, an IP-literal CONNECT target gets a leaf with an IP SAN.
func TestIPLiteralGetsIPSAN(t *testing.T) {
	w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) { o.Scope.Mode = proxy.InterceptAll }})
	resp, err := w.client(false).Get("https://127.0.0.1/echo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	leaf := resp.TLS.PeerCertificates[0]
	if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || len(leaf.DNSNames) != 0 {
		t.Errorf("leaf IPs %v DNS %v", leaf.IPAddresses, leaf.DNSNames)
	}
	if !issuedBy(leaf, w.customsCA.Cert) {
		t.Error("leaf not issued by the customs CA")
	}
}

// A Mixpanel event whose base64 data hides an AWS key: the flow carries the decoded property as a
// segment with its path, which is what the detectors will scan and a finding will name.
func TestAnalyticsEventSegmentsThroughProxy(t *testing.T) {
	w := newWorld(t, worldOptions{})
	event := `{"event":"prompt_submitted","properties":{"token":"proj-token","prompt":"deploy with AKIAIOSFODNN7EXAMPLE please"}}`
	data := base64.StdEncoding.EncodeToString([]byte(event))
	batch := base64.StdEncoding.EncodeToString([]byte("[" + event + "]"))
	tests := []struct {
		name, method, url, ctype, body, path string
	}{
		{"query", "GET", "https://api.mixpanel.com/track?ip=1&data=" + url.QueryEscape(data), "", "", "query:data/base64/properties.prompt"},
		{"form", "POST", "https://api.mixpanel.com/track", "application/x-www-form-urlencoded", "data=" + url.QueryEscape(batch) + "&verbose=1", "form:data/base64/[0].properties.prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := w.client(false).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			f := w.nextFlow()
			if f.Vendor.ID != "mixpanel" {
				t.Fatalf("vendor %q", f.Vendor.ID)
			}
			var found bool
			for _, s := range f.Segments {
				if s.Path == tt.path && strings.Contains(s.Text, "AKIAIOSFODNN7EXAMPLE") {
					found = true
				}
			}
			if !found {
				t.Errorf("no segment %s holding the key; segments: %+v", tt.path, f.Segments)
			}
		})
	}
}

// With the detectors on, a key hidden in a base64 analytics event is found where it sits, masked,
// hashed, and never in clear on the flow's finding.
func TestDetectorsFindSecretsThroughProxy(t *testing.T) {
	w := newWorld(t, worldOptions{detect: true})
	const key = "AKIAZ7VQ3KXJ5N2WPLMR"
	event := `{"event":"prompt_submitted","properties":{"prompt":"deploy with ` + key + ` please"}}`
	u := "https://api.mixpanel.com/track?data=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(event)))
	resp, err := w.client(false).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f := w.nextFlow()
	var got *flow.Finding
	for i, x := range f.Findings {
		if x.Detector == "secret.aws-access-key-id" && x.Path == "query:data/base64/properties.prompt" {
			got = &f.Findings[i]
		}
	}
	if got == nil {
		t.Fatalf("no aws-access-key-id finding at query:data/base64/properties.prompt: %+v", f.Findings)
	}
	if got.Preview != "AKIA************PLMR" || !strings.HasPrefix(got.Hash, "hmac-sha256:") || strings.Contains(got.Preview+got.Hash, key) {
		t.Errorf("finding preview %q hash %q", got.Preview, got.Hash)
	}
}

// The vendor's answer to a recognised API call is extracted after it reached the client, under
// response: paths.
func TestResponseTextExtracted(t *testing.T) {
	w := newWorld(t, worldOptions{})
	resp, err := w.client(false).Post("https://api.openai.com/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"say ok"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	f := w.nextFlow()
	var req, answer bool
	for _, s := range f.Segments {
		req = req || s.Path == "messages[0].content" && s.Text == "say ok"
		answer = answer || s.Path == "response:choices[0].message.content" && s.Text == "ok"
	}
	if f.API != "openai.chat" || !req || !answer {
		t.Errorf("api %q, request segment %v, answer segment %v: %+v", f.API, req, answer, f.Segments)
	}
}
