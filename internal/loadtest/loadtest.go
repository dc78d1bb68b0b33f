// Package loadtest holds the parts that the proxy benchmarks and make loadtest share: a vendor
// that answers chat completions, the baseline they measure customs against (a bare goproxy
// MITM with no pipeline), and the load loop.
package loadtest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

// Result is what Load measured: the answers that passed, their latencies (sorted), and the
// requests that failed.
type Result struct {
	N, Errors int
	FirstErr  error
	Elapsed   time.Duration
	Latencies []time.Duration
}

// Percentile is the latency below which a fraction p of the answers came.
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[min(len(r.Latencies)-1, int(p*float64(len(r.Latencies))))]
}

// Load keeps concurrency POSTs of body to target in flight for d, each answer read to the end
// and judged: a status other than 200, or check's error when check is given, counts as failed.
func Load(c *http.Client, target string, body []byte, d time.Duration, concurrency int, check func(*http.Response, int64) error) *Result {
	var mu sync.Mutex
	res := &Result{}
	var errs atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := post(c, target, body, check); err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						res.FirstErr = err
						mu.Unlock()
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.Latencies = append(res.Latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.N, res.Errors = len(res.Latencies), int(errs.Load())
	slices.Sort(res.Latencies)
	return res
}

func post(c *http.Client, target string, body []byte, check func(*http.Response, int64) error) error {
	resp, err := c.Post(target, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d", resp.StatusCode)
	case check != nil:
		return check(resp, n)
	}
	return nil
}
