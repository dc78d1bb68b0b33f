package report

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/store"
)

// The report benchmarks build one encrypted store of -report.flows flows over ten days, shaped
// like store.BenchmarkLarge's (~1.5 KiB chat bodies and headers, findings on a third of the
// flows; that generator is the store package's unexported test code, so its shape is repeated
// here) but spread over 500 clients and 40 vendors of the built-in catalog with a long tail,
// and time a report and an exposure over all of it:
//
//	go test -run '^$' -bench 'Report|Exposure' -benchtime 3x ./report -report.flows=1000000
var benchFlows = flag.Int("report.flows", 100_000, "flows in the store the report benchmarks build")

const (
	benchClients = 500
	benchVendors = 40
	benchSpan    = 10 * 24 * time.Hour
)

var benchBody = bytes.Repeat([]byte(`{"role":"user","content":"Summarise the deploy log of billing-api and say what is wrong with its configuration."},`), 14)

type benchStore struct {
	dir   string
	key   []byte
	n     int
	start time.Time
	err   error
}

var (
	benchOnce sync.Once
	bench     benchStore
)

// benchVendorList is 40 vendors of the built-in catalog, OpenAI and Mixpanel first: the
// exposure benchmark asks about Mixpanel, behind OpenAI.
func benchVendorList(tb testing.TB) []flow.Vendor {
	cat, err := catalog.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	out := []flow.Vendor{}
	add := func(v *catalog.Vendor) {
		for _, have := range out {
			if have.ID == v.ID {
				return
			}
		}
		out = append(out, flow.Vendor{ID: v.ID, Name: v.Name, Category: v.Category, Country: v.Country})
	}
	for _, id := range []string{"openai", "mixpanel"} {
		v, ok := cat.Vendor(id)
		if !ok {
			tb.Fatalf("the built-in catalog has no %s", id)
		}
		add(v)
	}
	for _, v := range cat.Vendors() {
		if len(out) == benchVendors {
			break
		}
		add(v)
	}
	return out
}

// benchFlow is flow i: client i%500; vendor by a long-tailed split (OpenAI a quarter, Mixpanel
// a tenth, the other 38 the rest, decreasingly); findings on one flow in three.
func benchFlow(i int, t time.Time, vendors []flow.Vendor) *flow.Flow {
	v := vendors[0]
	switch r := i % 100; {
	case r < 25:
	case r < 35:
		v = vendors[1]
	default:
		// 65 slots over 38 vendors, the first ones taking more.
		k := (r - 35) * (r - 35) / 112 // 0..37
		v = vendors[2+k%(len(vendors)-2)]
	}
	c := (i * 7919) % benchClients
	f := &flow.Flow{
		ID: flow.NewID(t), Start: t, End: t.Add(700 * time.Millisecond), Source: flow.SourceProxy, Mode: flow.Intercepted,
		Client: flow.Client{Addr: fmt.Sprintf("10.%d.%d.%d:%d", c/250, c%250, 10+c%7, 30000+i%30000)},
		Host:   "api.example-" + v.ID + ".com", Method: "POST", URL: "https://api.example-" + v.ID + ".com/v1/x", API: "openai.chat",
		RequestHeader: http.Header{"Content-Type": {"application/json"}, "User-Agent": {"OpenAI/Python 1.51.0"}},
		RequestBody:   benchBody, RequestBytes: int64(len(benchBody)), Status: 200, ResponseBytes: 2400, Vendor: v,
		Verdict: flow.Verdict{Action: flow.Allow}, Model: "gpt-4o", ServedModel: "gpt-4o-2024-08-06",
	}
	if i*10 > *benchFlows*6 { // the version behind gpt-4o changes at 60 % of the span
		f.ServedModel = "gpt-4o-2024-11-20"
	}
	if i%3 == 0 {
		h := i % 50
		f.Findings = []flow.Finding{
			{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[0].content", Start: 3, End: 23,
				Preview: "AKIA************PLMR", Hash: fmt.Sprintf("hmac-sha256:%032x", h), Confidence: 1},
			{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[0].content", Start: 40, End: 60,
				Preview: "jane************.com", Hash: fmt.Sprintf("hmac-sha256:%032x", 1000+h%7), Confidence: 0.8},
		}
		f.Verdict = flow.Verdict{Action: flow.Alert, Policy: "alert-on-findings"}
	}
	return f
}

func benchOptions(dir string, key []byte) store.Options {
	return store.Options{Dir: dir, Key: key, Now: func() time.Time { return now }, GCInterval: -1,
		Logger: zerolog.New(os.Stderr).Level(zerolog.WarnLevel)}
}

// getBench builds the store once per test binary, then closes it: each benchmark opens it and
// measures memory from there.
func getBench(b *testing.B) *benchStore {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "customs-report-bench-")
		if err != nil {
			bench.err = err
			return
		}
		key := bytes.Repeat([]byte{7}, 32)
		s, err := store.Open(benchOptions(dir, key))
		if err != nil {
			bench.err = err
			return
		}
		vendors := benchVendorList(b)
		n := *benchFlows
		start := now.Add(-benchSpan)
		step := benchSpan / time.Duration(n)
		t0 := time.Now()
		for i := range n {
			for s.Stats().Queued > 8000 {
				time.Sleep(50 * time.Microsecond)
			}
			s.Record(benchFlow(i, start.Add(time.Duration(i)*step), vendors))
		}
		if err := s.Sync(); err != nil {
			bench.err = err
			return
		}
		if d := s.Stats().Dropped; d > 0 {
			bench.err = fmt.Errorf("%d flows dropped while building the store", d)
			return
		}
		fmt.Printf("report bench store: %d encrypted flows in %v\n", n, time.Since(t0).Round(time.Millisecond))
		if err := s.Close(context.Background()); err != nil {
			bench.err = err
			return
		}
		bench = benchStore{dir: dir, key: key, n: n, start: start}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return &bench
}

func cleanupBench() {
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	cleanupBench()
	os.Exit(code)
}

// memPeak samples the process's anonymous memory (RssAnon: the Go heap, badger's caches and
// tables in memory; not the value log's mapped pages, which are file-backed and reclaimable)
// every 10 ms until stopped, and returns the peak in MiB.
func memPeak() (stop func() float64) {
	done := make(chan struct{})
	peak := make(chan float64)
	go func() {
		var m float64
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for {
			if a := rssAnonMiB(); a > m {
				m = a
			}
			select {
			case <-done:
				peak <- m
				return
			case <-tk.C:
			}
		}
	}()
	return func() float64 { close(done); return <-peak }
}

func rssAnonMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb)
			return kb / 1024
		}
	}
	return 0
}

// openBench opens the benchmark store after returning what the build left to the system, so
// that the memory measured is the report's.
func openBench(b *testing.B, bs *benchStore) *store.Store {
	runtime.GC()
	debug.FreeOSMemory()
	s, err := store.Open(benchOptions(bs.dir, bs.key))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// BenchmarkReport times customs report over every flow of the store: the scan and counts
// (Run), the catalog join and figures (Build) and the HTML page (Render), and reports the
// peak anonymous memory of the process while it runs.
func BenchmarkReport(b *testing.B) {
	bs := getBench(b)
	s := openBench(b, bs)
	cat, err := catalog.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	q := Query{Filter: store.Filter{Since: bs.start, Until: now}, Lookback: 30 * 24 * time.Hour}
	before := rssAnonMiB()
	stop := memPeak()
	ru0 := rusage()
	var size int
	var run, build, render time.Duration
	for b.Loop() {
		t0 := time.Now()
		agg, err := Run(context.Background(), s, q)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		g, err := Build(agg, Options{Catalog: cat, Now: now})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		var cw countWriter
		if err := Render(&cw, g, "html", RenderOptions{}); err != nil {
			b.Fatal(err)
		}
		run, build, render = run+t1.Sub(t0), build+t2.Sub(t1), render+time.Since(t2)
		size = cw.n
		if g.Totals.Requests != int64(bs.n) {
			b.Fatalf("report counted %d flows, want %d", g.Totals.Requests, bs.n)
		}
	}
	peak := stop()
	ru1 := rusage()
	n := float64(b.N)
	b.ReportMetric(ru1.cpu.Sub(ru0.cpu).Seconds()/n, "cpu-s/report")
	b.ReportMetric(float64(ru1.majflt-ru0.majflt)/n, "major-faults/report")
	b.ReportMetric(float64(bs.n)*n/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(b.Elapsed().Seconds()/n, "s/report")
	b.ReportMetric(run.Seconds()/n, "s-scan")
	b.ReportMetric(build.Seconds()/n, "s-build")
	b.ReportMetric(render.Seconds()/n, "s-html")
	b.ReportMetric(float64(size)/1024, "html-KiB")
	b.ReportMetric(before, "RssAnon-before-MiB")
	b.ReportMetric(peak, "RssAnon-peak-MiB")
}

// BenchmarkExposure times customs exposure mixpanel over the store: Mixpanel's own flows and
// OpenAI's (OpenAI's web front end reported to Mixpanel), read through their vendor indexes.
func BenchmarkExposure(b *testing.B) {
	bs := getBench(b)
	s := openBench(b, bs)
	cat, err := catalog.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	t, err := ResolveTarget(cat, "mixpanel")
	if err != nil {
		b.Fatal(err)
	}
	f := store.Filter{Since: bs.start, Until: now}
	stop := memPeak()
	ru0 := rusage()
	var flows int64
	for b.Loop() {
		x, err := RunExposure(context.Background(), StoreDigests{s}, t, f, ExposureOptions{Catalog: cat, Now: now})
		if err != nil {
			b.Fatal(err)
		}
		var tb countWriter
		if err := WriteExposureTable(&tb, x); err != nil {
			b.Fatal(err)
		}
		flows = x.Totals.Requests
	}
	peak := stop()
	ru1 := rusage()
	b.ReportMetric(ru1.cpu.Sub(ru0.cpu).Seconds()/float64(b.N), "cpu-s/exposure")
	b.ReportMetric(float64(ru1.majflt-ru0.majflt)/float64(b.N), "major-faults/exposure")
	if flows < int64(bs.n)/3 {
		b.Fatalf("exposure counted %d flows of %d", flows, bs.n)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/exposure")
	b.ReportMetric(float64(flows), "flows-exposed")
	b.ReportMetric(float64(flows)*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(peak, "RssAnon-peak-MiB")
}

type usage struct {
	cpu    time.Time // user+system CPU as a time offset from zero, for Sub
	majflt int64
}

// rusage is the process's CPU time and major page faults (reads that went to the disk).
func rusage() usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return usage{cpu: time.Unix(0, ru.Utime.Nano()+ru.Stime.Nano()), majflt: ru.Majflt}
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
