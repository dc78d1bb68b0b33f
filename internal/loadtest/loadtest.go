// Package loadtest holds the parts that the proxy benchmarks and make loadtest share: a vendor
// that answers chat completions, and the baseline they measure customs against, a bare goproxy
// MITM with no pipeline.
package loadtest

import (
	"crypto/tls"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/elazarl/goproxy"
)

// Vendor answers a chat completion as OpenAI does, reading the request to its end; ?sse=N
// streams the answer in N events of about 1 KiB, each flushed, as a chat stream is.
func Vendor(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if n, err := strconv.Atoi(r.URL.Query().Get("sse")); err == nil {
		w.Header().Set("Content-Type", "text/event-stream")
		prose := strings.Repeat("The meeting agreed on three actions for the next sprint. ", 17)
		event := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"` + prose + `"}}]}` + "\n\n"
		for range n {
			_, _ = io.WriteString(w, event)
			w.(http.Flusher).Flush()
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Sure: here is the summary you asked for."},"finish_reason":"stop"}]}`)
}

// BareGoproxy is goproxy's own MITM of every CONNECT with the leaf certificates of leaf and the
// upstream transport tr, and nothing else: no inspection, logging or metrics. h2 offers HTTP/2
// to clients and to the vendor, as customs speaks it.
func BareGoproxy(leaf func(host string) (*tls.Certificate, error), tr *http.Transport, h2 bool) http.Handler {
	gp := goproxy.NewProxyHttpServer()
	gp.Logger = nopLogger{}
	gp.Tr = tr
	gp.AllowHTTP2, gp.Tr.ForceAttemptHTTP2 = h2, h2
	gp.ConnectDial = nil
	mitm := &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: func(host string, _ *goproxy.ProxyCtx) (*tls.Config, error) {
		cert, err := leaf(host)
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{*cert}}, nil
	}}
	gp.OnRequest().HandleConnectFunc(func(host string, _ *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
		return mitm, host
	})
	return gp
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
