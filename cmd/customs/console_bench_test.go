package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/console"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/store"
)

// BenchmarkConsole builds one encrypted store of -console.flows realistic chat flows over
// ten days (as store's BenchmarkLarge does) and measures the web console's flow list, server
// side: the request through the console's handler (access check, filter, store walk, the flow
// API's record for each flow, JSON, ETag), what a page load and each poll of the live list cost.
//
//	go test -run '^$' -bench 'Console/List' -benchtime 50x ./cmd/customs -console.flows=1000000
var consoleBenchFlows = flag.Int("console.flows", 100_000, "flows in the store BenchmarkConsole builds")

var benchVendors = []flow.Vendor{
	{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"},
	{ID: "anthropic", Name: "Anthropic", Category: "ai-provider", Country: "US"},
	{ID: "google-gemini", Name: "Google Gemini", Category: "ai-provider", Country: "US"},
	{ID: "mixpanel", Name: "Mixpanel", Category: "analytics", Country: "US"},
}

// benchChat is a ~1.5 KiB chat request body.
func benchChat(i int) []byte {
	return fmt.Appendf(nil, `{"model":"gpt-4o","stream":true,"messages":[{"role":"system","content":"You are a careful assistant for the platform team. Answer briefly, cite the runbook section, and never guess at credentials or hostnames you were not given."},`+
		`{"role":"user","content":"Request %d: our deploy of billing-api failed with the following log. Can you tell me what is wrong with the configuration and how to fix it?"},`+
		`{"role":"user","content":"2026-03-10T11:58:01Z ERROR failed to connect: dial tcp 10.20.%d.7:5432: connect: connection refused\nDATABASE_URL=postgres://billing:hunter2-%d@db.internal.example:5432/billing\nAWS_ACCESS_KEY_ID=AKIAZ7Q2EXAMPLEKEY%02d contact ops-oncall@example.com"},`+
		`{"role":"user","content":"For context, the service was migrated last week from the old cluster to the new one, the secret was rotated by the platform team on Friday, and the deploy pipeline reads credentials from the vault path billing/prod/db. Nothing else changed in the manifests as far as I can tell from the diff, and the on-call engineer confirmed the network policy was unchanged."}]}`,
		i, i%250, i, i%100)
}

// benchFlow is flow i at t: a chat body and headers, three findings, eight index keys; one flow
// in a hundred goes to the rare vendor "mistral".
func benchFlow(i int, t time.Time) *flow.Flow {
	body := benchChat(i % 512)
	v := benchVendors[i%len(benchVendors)]
	if i%100 == 0 {
		v = flow.Vendor{ID: "mistral", Name: "Mistral AI", Category: "ai-provider", Country: "FR"}
	}
	return &flow.Flow{ID: flow.NewID(t), Start: t, End: t.Add(850 * time.Millisecond), Source: flow.SourceProxy, Mode: flow.Intercepted,
		Client: flow.Client{Addr: fmt.Sprintf("10.%d.%d.%d:%d", i%3, i%250, i%200, 30000+i%30000), User: fmt.Sprintf("user%02d", i%50)},
		Host:   "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions", API: "openai.chat",
		RequestHeader: http.Header{"Content-Type": {"application/json"}, "User-Agent": {"OpenAI/Python 1.51.0"}},
		RequestBody:   body, RequestBytes: int64(len(body)), Status: 200, ResponseBytes: 2400, Vendor: v, Model: "gpt-4o",
		Segments: []flow.Segment{{Path: "messages[0].content"}, {Path: "messages[1].content"}, {Path: "messages[2].content"}, {Path: "messages[3].content"}},
		Findings: []flow.Finding{
			{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[2].content", Start: 120, End: 140,
				Preview: "AKIA************EY01", Hash: "hmac-sha256:3f1a9c0de2b4", Confidence: 1},
			{Detector: "secret.database-url", Class: "secret", Severity: "high", Path: "messages[2].content", Start: 60, End: 110,
				Preview: "post************ling", Hash: "hmac-sha256:77aa01bc99de", Confidence: 0.9},
			{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[2].content", Start: 150, End: 172,
				Preview: "ops-************.com", Hash: "hmac-sha256:0011aabbccdd", Confidence: 0.8},
		},
		Verdict: flow.Verdict{Action: flow.Alert, Policy: "alert-on-findings", Message: "Credentials sent to an AI vendor.", Matched: []string{"alert-on-findings"}},
	}
}

// consoleBench is the large store and the console over it.
type consoleBench struct {
	h   http.Handler
	st  *store.Store
	dir string
}

func (cb *consoleBench) close() {
	_ = cb.st.Close(context.Background())
	_ = os.RemoveAll(cb.dir)
}

func buildConsoleBench() (*consoleBench, error) {
	dir, err := os.MkdirTemp("", "customs-console-bench-")
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	st, err := store.Open(store.Options{Dir: filepath.Join(dir, "store"), Key: key, GCInterval: -1, QueueSize: 8192, Logger: zerolog.Nop()})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cb := &consoleBench{st: st, dir: dir}
	n := *consoleBenchFlows
	const span = 10 * 24 * time.Hour
	end := time.Now().Add(-time.Minute)
	start, step := end.Add(-span), span/time.Duration(n)
	t0 := time.Now()
	for i := range n {
		for st.Stats().Queued >= 8000 {
			time.Sleep(50 * time.Microsecond)
		}
		st.Record(benchFlow(i, start.Add(time.Duration(i)*step)))
	}
	if err := st.Sync(); err != nil {
		cb.close()
		return nil, err
	}
	if d := st.Stats().Dropped; d != 0 {
		cb.close()
		return nil, fmt.Errorf("%d flows dropped during ingest", d)
	}
	fmt.Printf("console bench store: %d encrypted flows over 10 days, ingested in %v\n", n, time.Since(t0).Round(time.Millisecond))

	cfg := config.Default()
	cfg.Data = dir
	pol, err := loadPolicy(cfg, nil)
	if err != nil {
		cb.close()
		return nil, err
	}
	p := inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: detectors.NewHasher(make([]byte, 32)), Rules: pol.set})
	rl := &reloader{cfg: cfg, pipeline: p, logger: zerolog.Nop()}
	rl.inForce(pol, time.Now())
	cb.h = console.New(consoleOptions(cfg, st, nil, p, rl, apiToken, zerolog.Nop()))
	return cb, nil
}

// get serves one console request as the browser sends it (with the token) and checks it.
func (cb *consoleBench) get(b *testing.B, path string, want int, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	cb.h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s: %d %.200s", path, rec.Code, rec.Body.String())
	}
	return rec
}

// timed runs get b.N times and reports the mean, the 99th percentile and the worst.
func (cb *consoleBench) timed(b *testing.B, path string, want int, check func(*httptest.ResponseRecorder), header ...string) {
	var lat []time.Duration
	for b.Loop() {
		t := time.Now()
		rec := cb.get(b, path, want, header...)
		lat = append(lat, time.Since(t))
		if check != nil {
			check(rec)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/req")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

func BenchmarkConsole(b *testing.B) {
	cb, err := buildConsoleBench()
	if err != nil {
		b.Fatal(err)
	}
	defer cb.close()
	for _, q := range []struct{ name, query string }{
		{"Newest50", "since=24h&limit=50"},           // the page's first load
		{"Newest50Over30d", "since=30d&limit=50"},    // a wider window: the same walk
		{"RareVendor50", "since=30d&vendor=mistral"}, // 1 flow in 100
		{"Detector50", "since=30d&detector=pii.email"},
		{"ClientUser50", "since=30d&client=10.1.17.17&user=user17"},
		{"Oldest50", "since=30d&limit=50&oldest=1"},
		{"Newest1000", "since=30d&limit=1000"}, // the console's largest page
	} {
		b.Run("List/"+q.name, func(b *testing.B) {
			cb.timed(b, "/ui/api/flows?"+q.query, 200, func(rec *httptest.ResponseRecorder) {
				if !strings.Contains(rec.Body.String(), `"flow_id"`) {
					b.Fatalf("no flows: %.200s", rec.Body.String())
				}
			})
		})
	}
	b.Run("List/PollUnchanged", func(b *testing.B) {
		etag := cb.get(b, "/ui/api/flows?since=24h&limit=50", 200).Header().Get("ETag")
		cb.timed(b, "/ui/api/flows?since=24h&limit=50", 304, nil, "If-None-Match", etag)
	})
	// The map (report.Run over the window and the 30 days before it, Build, Collapse,
	// RenderSVG) and an exposure: whole scans of their windows, not bounded by a limit as the
	// list is.
	b.Run("Map/24h", func(b *testing.B) { cb.timed(b, "/ui/api/map?since=24h", 200, nil) })
	b.Run("Map/7d", func(b *testing.B) { cb.timed(b, "/ui/api/map?since=7d", 200, nil) })
	b.Run("Exposure/openai-30d", func(b *testing.B) { cb.timed(b, "/ui/api/exposure?vendor=openai&since=30d", 200, nil) })
}
