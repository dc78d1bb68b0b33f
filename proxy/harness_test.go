package proxy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/proxy"
	"github.com/customs-dev/customs/proxy/ca"
)

// world is one end-to-end test setup on loopback: a fake vendor upstream that serves any host
// name over TLS from a test CA, and a real customs proxy in front of it whose resolver sends every
// host to that upstream.
type world struct {
	t         *testing.T
	customsCA *ca.CA
	upCA      *ca.CA
	upstream  *httptest.Server
	plain     *httptest.Server // plain-HTTP upstream
	proxy     *proxy.Server
	proxyURL  *url.URL
	leaves    *ca.Leaves
	flows     chan *flow.Flow
	release   chan struct{} // lets /sse send its second event
}

type worldOptions struct {
	mutate      func(*proxy.Options)
	stages      []inspect.Stage
	decodeLimit int64
	detect      bool // run the built-in detectors
}

func newWorld(t *testing.T, wo worldOptions) *world {
	t.Helper()
	w := &world{t: t, flows: make(chan *flow.Flow, 1000), release: make(chan struct{})}
	var err error
	if w.customsCA, err = ca.Create(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if w.upCA, err = ca.Create(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	upLeaves := ca.NewLeaves(w.upCA, ca.LeafOptions{})
	w.upstream = httptest.NewUnstartedServer(w.vendorHandler())
	w.upstream.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		name := h.ServerName
		if name == "" {
			name = "127.0.0.1"
		}
		return upLeaves.Get(name)
	}}
	w.upstream.StartTLS()
	t.Cleanup(w.upstream.Close)
	w.plain = httptest.NewServer(w.vendorHandler())
	t.Cleanup(w.plain.Close)

	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	popts := inspect.Options{Catalog: cat, Stages: wo.stages, DecodeLimit: wo.decodeLimit}
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
	resolver, err := proxy.ParseResolve([]string{"api.mistral.ai=" + plainAddr, "example.net=" + plainAddr, "*=" + upAddr})
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
	mux.HandleFunc("/ws", wsEcho)
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
