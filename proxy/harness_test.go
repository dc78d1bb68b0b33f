package proxy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/inspect/decode"
	"github.com/customs-dev/customs/proxy"
	"github.com/customs-dev/customs/proxy/ca"
	"github.com/customs-dev/customs/rules"
)

// world is one end-to-end test setup on loopback: a fake vendor upstream that serves any host
// name over TLS from a test CA, and a real customs proxy in front of it whose resolver sends every
// host to that upstream.
type world struct {
	t         *testing.T
	customsCA *ca.CA
	upCA      *ca.CA
	upstream  *httptest.Server
	// upstreamConns counts the connections customs opened to the TLS fake.
	upstreamConns atomic.Int64
	plain         *httptest.Server // plain-HTTP upstream
	proxy         *proxy.Server
	proxyURL      *url.URL
	leaves        *ca.Leaves
	flows         chan *flow.Flow
	release       chan struct{} // lets /sse send its second event
	seen          *upstreamLog  // what the fake vendor received
}

type worldOptions struct {
	mutate      func(*proxy.Options)
	stages      []inspect.Stage
	decodeLimit int64
	detect      bool       // run the built-in detectors
	rules       *rules.Set // policies; nil allows everything
	// resolve replaces the default resolve rules (which send every name to the fakes); "UP" and
	// "PLAIN" in an address stand for the TLS and plain fakes' addresses.
	resolve []string
	budget  *decode.Budget // the pipeline's decode budget (nil: none)
	// upstreamH2: the TLS fake offers HTTP/2, as most vendors do (its HTTP/1-only handlers —
	// hijacked resets, Connection-named hop headers — then behave as HTTP/2 makes them).
	upstreamH2 bool
	// incomplete is inspection.incomplete: what happens to what cannot be read ("": block).
	incomplete flow.Action
}

func newWorld(t *testing.T, wo worldOptions) *world {
	t.Helper()
	w := &world{t: t, flows: make(chan *flow.Flow, 1000), release: make(chan struct{}), seen: &upstreamLog{}}
	var err error
	if w.customsCA, err = ca.Create(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if w.upCA, err = ca.Create(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	upLeaves := ca.NewLeaves(w.upCA, ca.LeafOptions{})
	w.upstream = httptest.NewUnstartedServer(w.seen.wrap(w.vendorHandler()))
	w.upstream.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		name := h.ServerName
		if name == "" {
			name = "127.0.0.1"
		}
		return upLeaves.Get(name)
	}}
	w.upstream.EnableHTTP2 = wo.upstreamH2
	w.upstream.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			w.upstreamConns.Add(1)
		}
	}
	w.upstream.StartTLS()
	t.Cleanup(w.upstream.Close)
	w.plain = httptest.NewServer(w.seen.wrap(w.vendorHandler()))
	t.Cleanup(w.plain.Close)

	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	popts := inspect.Options{Catalog: cat, Stages: wo.stages, DecodeLimit: wo.decodeLimit, Rules: wo.rules, DecodeBudget: wo.budget,
		Incomplete: wo.incomplete}
	if wo.detect {
		if popts.Detectors, err = builtin.Engine(nil); err != nil {
			t.Fatal(err)
		}
		popts.Hasher = detectors.NewHasher([]byte("test key for finding hashes 0123"))
	}
	pipeline := inspect.New(popts)
	w.leaves = ca.NewLeaves(w.customsCA, ca.LeafOptions{})
	roots := x509.NewCertPool()
	roots.AddCert(w.upCA.Cert)
	upAddr := w.upstream.Listener.Addr().String()
	plainAddr := w.plain.Listener.Addr().String()
	// 192.0.2.80 stands for a vendor's address reached over plain HTTP: a client may not name
	// the loopback fakes themselves (the destination rule), the operator's resolve rules may.
	resolveRules := []string{"api.mistral.ai=" + plainAddr, "example.net=" + plainAddr, "192.0.2.80=" + plainAddr, "*=" + upAddr}
	if wo.resolve != nil {
		resolveRules = nil
		for _, r := range wo.resolve {
			resolveRules = append(resolveRules, strings.NewReplacer("UP", upAddr, "PLAIN", plainAddr).Replace(r))
		}
	}
	resolver, err := proxy.ParseResolve(resolveRules)
	if err != nil {
		t.Fatal(err)
	}
	opts := proxy.Options{
		Leaves:   w.leaves,
		Pipeline: pipeline,
		Recorder: recorderFunc(func(f *flow.Flow) { w.flows <- f }),
		Logger:   zerolog.Nop(),
		Scope:    proxy.Scope{Mode: proxy.InterceptCatalog, InCatalog: pipeline.Known},
		Resolve:  resolver,
		RootCAs:  roots,
	}
	if wo.mutate != nil {
		wo.mutate(&opts)
	}
	w.proxy, err = proxy.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.proxy.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = w.proxy.Shutdown(ctx)
	})
	w.proxyURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	return w
}

type recorderFunc func(*flow.Flow)

func (f recorderFunc) Record(fl *flow.Flow) { f(fl) }

// client returns an HTTP client that goes through the proxy and trusts the customs CA (and,
// with trustUpstream, the upstream's own CA, for tunnelled hosts).
func (w *world) client(trustUpstream bool) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(w.customsCA.Cert)
	if trustUpstream {
		pool.AddCert(w.upCA.Cert)
	}
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			Proxy:               http.ProxyURL(w.proxyURL),
			TLSClientConfig:     &tls.Config{RootCAs: pool},
			DisableCompression:  true,
			MaxIdleConnsPerHost: 16,
		},
	}
}

// h2client is like client, but negotiates HTTP/2 with the proxy inside intercepted TLS.
func (w *world) h2client() *http.Client {
	c := w.client(false)
	c.Transport.(*http.Transport).ForceAttemptHTTP2 = true
	return c
}

// nextFlow waits for the next recorded flow.
func (w *world) nextFlow() *flow.Flow {
	w.t.Helper()
	select {
	case f := <-w.flows:
		return f
	case <-time.After(10 * time.Second):
		w.t.Fatal("no flow recorded within 10s")
		return nil
	}
}

// vendorHandler impersonates vendor APIs with behaviours the tests need.
func (w *world) vendorHandler() http.Handler {
	mux := http.NewServeMux()
	var mu sync.Mutex
	mux.HandleFunc("/echo", func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		rw.Header().Set("X-Upstream-Host", r.Host)
		rw.Header().Set("X-Upstream-Content-Encoding", r.Header.Get("Content-Encoding"))
		rw.Header().Set("X-Upstream-Proxy-Authorization", r.Header.Get("Proxy-Authorization"))
		rw.Header().Set("Content-Type", "application/octet-stream")
		_, _ = rw.Write(body)
	})
	mux.HandleFunc("/count", func(rw http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(rw, n)
	})
	mux.HandleFunc("/v1/chat/completions", func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rw.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(rw, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}]}`)
	})
	mux.HandleFunc("/sse", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/event-stream")
		fl := rw.(http.Flusher)
		_, _ = io.WriteString(rw, "data: {\"delta\":\"first\"}\n\n")
		fl.Flush()
		select {
		case <-w.release:
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(rw, "data: [DONE]\n\n")
	})
	mux.HandleFunc("/ndjson", func(rw http.ResponseWriter, r *http.Request) {
		// A chunked stream that is not SSE, as Gemini's streamGenerateContent (JSON array) or
		// NDJSON APIs send.
		rw.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = io.WriteString(rw, "{\"delta\":\"first\"}\n")
		rw.(http.Flusher).Flush()
		select {
		case <-w.release:
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(rw, "{\"done\":true}\n")
	})
	mux.HandleFunc("/status/", func(rw http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Path[len("/status/"):])
		rw.WriteHeader(code)
	})
	mux.HandleFunc("/slow", func(rw http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		time.Sleep(d)
		_, _ = io.WriteString(rw, "slow done")
	})
	mux.HandleFunc("/reset", func(rw http.ResponseWriter, r *http.Request) {
		resetConnection(rw)
	})
	mux.HandleFunc("/hop", func(rw http.ResponseWriter, r *http.Request) {
		// What many vendors' HTTP/1.1 front ends send; illegal to relay to an HTTP/2 client.
		rw.Header().Set("Connection", "keep-alive, X-Hop")
		rw.Header().Set("Keep-Alive", "timeout=5")
		rw.Header().Set("X-Hop", "private to this hop")
		rw.Header().Set("X-End-To-End", "kept")
		_, _ = io.WriteString(rw, "hop ok")
	})
	mux.HandleFunc("/reset-mid", func(rw http.ResponseWriter, r *http.Request) {
		// Headers and half a body, then a reset: what a crashing vendor node looks like.
		rw.Header().Set("Content-Length", "1000")
		rw.WriteHeader(200)
		_, _ = io.WriteString(rw, strings.Repeat("x", 500))
		rw.(http.Flusher).Flush()
		resetConnection(rw)
	})
	mux.HandleFunc("/ws", w.wsEcho(websocket.CompressionDisabled))
	mux.HandleFunc("/v1/realtime", w.wsEcho(websocket.CompressionContextTakeover))
	mux.HandleFunc("/ws-no-takeover", w.wsEcho(websocket.CompressionNoContextTakeover))
	return mux
}

// resetConnection ends the exchange with a TCP RST, not a FIN, as a crashed server would.
func resetConnection(rw http.ResponseWriter) {
	conn, _, err := http.NewResponseController(rw).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*tls.Conn); ok {
		if nc, ok := tc.NetConn().(*net.TCPConn); ok {
			_ = nc.SetLinger(0)
		}
	}
	_ = conn.Close()
}

// assertStreams checks that the first line of a streamed response (headers included) arrives
// while the upstream still holds the rest back, then releases the upstream and reads the end.
func assertStreams(t *testing.T, w *world, c *http.Client, url, last string) {
	t.Helper()
	var br *bufio.Reader
	got := make(chan string, 1)
	go func() {
		resp, err := c.Get(url)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		t.Cleanup(func() { resp.Body.Close() })
		br = bufio.NewReader(resp.Body)
		line, _ := br.ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if !strings.Contains(line, "first") {
			t.Fatalf("first line %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first event not delivered while the stream was open: the proxy buffers")
	}
	close(w.release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), last) {
		t.Fatalf("rest of stream %q", rest)
	}
}

// upstreamLog remembers what the fake vendor received — request line, headers and the first MiB
// of each body — so a test can assert that a secret never reached it, decoded as a vendor would
// see it.
type upstreamLog struct {
	mu   sync.Mutex
	reqs []string
}

const upstreamKeep = 1 << 20

func (l *upstreamLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %s\nHost: %s\n", r.Method, r.URL.RequestURI(), r.Proto, r.Host)
		for k, vs := range r.Header {
			for _, v := range vs {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		entry := len(l.add(b.String())) - 1
		r.Body = &keepBody{rc: r.Body, log: l, entry: entry}
		h.ServeHTTP(rw, r)
	})
}

func (l *upstreamLog) add(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, s)
	return l.reqs
}

// saw reports whether any received request (or WebSocket message) contains s.
func (l *upstreamLog) saw(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.reqs {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

// countOf counts the received requests that contain s.
func (l *upstreamLog) countOf(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		if strings.Contains(r, s) {
			n++
		}
	}
	return n
}

func (l *upstreamLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

type keepBody struct {
	rc       io.ReadCloser
	log      *upstreamLog
	entry    int
	kept     int
	complete bool
}

func (k *keepBody) Read(p []byte) (int, error) {
	n, err := k.rc.Read(p)
	if errors.Is(err, io.EOF) && !k.complete {
		// The vendor has the whole body: only now could it act on it.
		k.complete = true
		k.log.mu.Lock()
		k.log.reqs[k.entry] += "\n<<complete>>"
		k.log.mu.Unlock()
	}
	if room := upstreamKeep - k.kept; room > 0 && n > 0 {
		k.log.mu.Lock()
		k.log.reqs[k.entry] += string(p[:min(n, room)])
		k.log.mu.Unlock()
		k.kept += min(n, room)
	}
	return n, err
}

func (k *keepBody) Close() error { return k.rc.Close() }

// wsEcho answers each WebSocket message with "echo:" and the message, and logs what it received
// (decoded, as the vendor reads it) for the tests that check what reached it.
func (w *world) wsEcho(mode websocket.CompressionMode) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(rw, r, &websocket.AcceptOptions{CompressionMode: mode, CompressionThreshold: 1})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				w.seen.add("ws-closed: " + err.Error())
				return
			}
			w.seen.add("ws-message: " + string(msg))
			if err := c.Write(r.Context(), typ, append([]byte("echo:"), msg...)); err != nil {
				return
			}
		}
	}
}
