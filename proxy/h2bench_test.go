package proxy_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkH2Streams: many concurrent HTTP/2 streams over one client connection, each a 4 KiB
// chat POST answered by a 16 KiB event stream (16 flushed events), direct to a vendor that
// speaks HTTP/2, through a bare goproxy MITM and through customs (full pipeline), HTTP/2 on both
// sides of the proxies. It reports, per number of streams in flight: throughput, p50/p99
// latency, CPU per request (client, proxy and vendor together), the connections each setup has
// opened to the vendor so far (a proxy pools one while the vendor allows that many streams on
// it, Go's default 250), and the heap in use per stream in flight (peak during the load minus
// before, over streams), which says that no stream's body is held whole. Run with
// -benchtime=1x -v (a benchmark's log is cut at ten lines without -v).
func BenchmarkH2Streams(b *testing.B) {
	env := newBenchEnv(b, true)
	proxies := map[string]string{"goproxy": env.bareGoproxy(b, true), "customs": env.customs(b, false)}
	const path = "https://api.openai.com/v1/chat/completions?sse=16"
	window := 2 * time.Second
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-8s %-8s %9s %10s %10s %12s %12s %14s\n", "streams", "setup", "req/s", "p50", "p99", "CPU/req", "vendor conns", "heap/stream")
	opened := map[string]int64{} // connections each setup has opened to the vendor so far
	for _, streams := range []int{1, 64, 200} {
		for _, setup := range []string{"direct", "goproxy", "customs"} {
			conns := env.upConns.Load()
			c := env.h2Client(setup, proxies[setup])
			load(b, c, path, 200*time.Millisecond, streams, env.body, h2Answer) // warm the connections
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			peak := before.HeapInuse
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				t := time.NewTicker(20 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						peak = max(peak, m.HeapInuse)
					}
				}
			}()
			res := load(b, c, path, window, streams, env.body, h2Answer)
			close(stop)
			<-sampled
			opened[setup] += env.upConns.Load() - conns
			perStream := float64(peak-before.HeapInuse) / float64(streams)
			fmt.Fprintf(&sb, "%-8d %-8s %9.0f %10v %10v %12v %12d %11.1f KiB\n", streams, setup, res.rate(), res.pct(50), res.pct(99),
				res.cpuPerReq(), opened[setup], perStream/1024)
			name := fmt.Sprintf("%s_%d", setup, streams)
			b.ReportMetric(res.rate(), name+"_req/s")
			b.ReportMetric(float64(res.pct(99).Microseconds()), name+"_p99_µs")
			b.ReportMetric(perStream/1024, name+"_heap_KiB/stream")
			c.CloseIdleConnections()
		}
	}
	b.Log(sb.String())
}

// h2Client is one HTTP/2 connection's worth of client: to the vendor directly, or through
// customs (a CONNECT, then HTTP/2 inside customs' TLS).
func (e *benchEnv) h2Client(setup, proxyAddr string) *http.Client {
	if setup == "direct" {
		// One connection to the vendor, as the proxies' clients have one to them.
		t := e.upstreamTransport()
		t.ForceAttemptHTTP2 = true
		t.MaxConnsPerHost = 1
		return &http.Client{Transport: t}
	}
	pool := x509.NewCertPool()
	pool.AddCert(e.customsCA.Cert)
	return &http.Client{Transport: &http.Transport{
		Proxy:             http.ProxyURL(&url.URL{Scheme: "http", Host: proxyAddr}),
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
		MaxConnsPerHost:   1,
	}}
}

// h2Answer: the whole event stream, over HTTP/2.
func h2Answer(resp *http.Response, n int64) error {
	if resp.ProtoMajor != 2 || n < 16<<10 {
		return fmt.Errorf("proto %s, body %d bytes", resp.Proto, n)
	}
	return nil
}
