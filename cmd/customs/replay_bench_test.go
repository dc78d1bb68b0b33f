package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/replay"
	"github.com/customs-dev/customs/store"
)

// replayBenchFlows is the size of the store BenchmarkReplayStore re-inspects: about 40 MiB of
// request bodies, enough for the store's reads and the pipeline to reach a steady state.
const replayBenchFlows = 10_000

// replayPrompt is a prompt-shaped chat body of about 4 KiB (prose, a code excerpt, a log line);
// one flow in ten carries a secret and one in twenty an e-mail address, so that replay finds,
// decides and compares as it would over real traffic.
func replayPrompt(i int) []byte {
	var b strings.Builder
	for b.Len() < 3500 {
		fmt.Fprintf(&b, "Summarise the quarterly review for team %d: latency rose %d%% after the cache change, "+
			"the on-call rota moved to Tuesdays and the migration of service-%d is blocked on review. ", i%37, i%13, i%101)
		fmt.Fprintf(&b, "func handle%d(w http.ResponseWriter, r *http.Request) { if err := serve(r); err != nil { log.Printf(\"handle: %%v\", err) } }\n", i%29)
		fmt.Fprintf(&b, "2026-03-%02dT10:%02d:00Z INFO request id=%08x status=200 bytes=%d\n", 1+i%28, i%60, i*2654435761, 512+i%4096)
	}
	if i%10 == 0 {
		b.WriteString(" deploy with AKIAZ7VQ3KXJ5N2WPLMR please")
	}
	if i%20 == 5 {
		b.WriteString(" and mail jane.doe@corp-example.org the numbers")
	}
	body, _ := json.Marshal(map[string]any{"model": "gpt-4o", "messages": []map[string]string{{"role": "user", "content": b.String()}}})
	return body
}

// BenchmarkReplayStore measures `customs replay` over an encrypted store: the stored flows are
// read with their bodies, re-inspected by the full pipeline (extraction, every built-in detector,
// the default policy pack) on all cores, and diffed against what was recorded. It reports MB/s
// of stored request bodies (the target is 50).
func BenchmarkReplayStore(b *testing.B) {
	dir := b.TempDir()
	key := make([]byte, 32)
	copy(key, "replay benchmark key 0123456789a")
	s, err := store.Open(store.Options{Dir: dir, Key: key, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())

	cfg := config.Default()
	cfg.Data = b.TempDir()
	pol, err := loadPolicy(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	hasher := detectors.NewHasher([]byte("replay benchmark finding key 0123"))
	p := inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: hasher, Rules: pol.set})

	// Record what serve would have recorded: each flow inspected once, at the time.
	start := time.Now().Add(-48 * time.Hour)
	for i := range replayBenchFlows {
		f := &flow.Flow{ID: flow.NewID(start.Add(time.Duration(i) * time.Second)), Start: start.Add(time.Duration(i) * time.Second),
			Source: flow.SourceProxy, Mode: flow.Intercepted, Client: flow.Client{Addr: "10.0.0.7:50000"},
			Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions",
			RequestHeader: http.Header{"Content-Type": {"application/json"}}, RequestBody: replayPrompt(i), Status: 200}
		f.RequestBytes = int64(len(f.RequestBody))
		p.Inspect(context.Background(), f)
		for s.Stats().Queued > 4096 { // Record drops when the queue is full; a benchmark must not
			time.Sleep(time.Millisecond)
		}
		s.Record(f)
	}
	if err := s.Sync(); err != nil {
		b.Fatal(err)
	}
	if d := s.Stats().Dropped; d != 0 {
		b.Fatalf("%d flows dropped while building the store", d)
	}

	var totals replay.Totals
	b.ResetTimer()
	for b.Loop() {
		next := streamRecords(context.Background(), &storeSource{st: s}, store.Filter{Oldest: true})
		totals, err = replay.Run(context.Background(), p, next, func(*replay.Diff) error { return nil }, replay.Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if totals.Inspected != replayBenchFlows || totals.Changed != 0 {
		b.Fatalf("replay inspected %d of %d flows, %d changed; want all, none changed", totals.Inspected, replayBenchFlows, totals.Changed)
	}
	b.SetBytes(totals.Bytes)
	b.ReportMetric(float64(replayBenchFlows*b.N)/b.Elapsed().Seconds(), "flows/s")
}
