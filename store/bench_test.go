package store

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
)

// The large-store benchmarks build one store of -store.flows flows (encrypted, realistic ~2 KiB
// chat flows over ten days) and measure queries, replay reads and memory on it:
//
//	go test -run '^$' -bench Large -benchtime 20x ./store -store.flows=1000000
var benchFlows = flag.Int("store.flows", 100_000, "flows in the store the Large benchmarks build")

// benchCodec switches the codec bodies are written with, to compare them (zstd, s2, none).
var benchCodec = flag.String("store.codec", "", "body codec for the benchmarks: zstd, s2 or none (default: the store's)")

var benchCompressMin = flag.Int("store.compressmin", 0, "shortest body compressed, for the benchmarks (default: the store's)")

func setBenchCodec(tb testing.TB) {
	if *benchCompressMin > 0 {
		compressMin = *benchCompressMin
	}
	c, ok := map[string]byte{"": bodyCodec, "zstd": codecZstd, "s2": codecS2, "none": codecRaw}[*benchCodec]
	if !ok {
		tb.Fatalf("-store.codec %q", *benchCodec)
	}
	bodyCodec = c
}

// benchBodies are distinct chat bodies, reused so that making a flow costs little next to
// storing it.
var benchBodies = sync.OnceValue(func() [][]byte {
	out := make([][]byte, 512)
	for i := range out {
		out[i] = chatBody(i, "")
	}
	return out
})

var benchVendors = []flow.Vendor{
	{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"},
	{ID: "anthropic", Name: "Anthropic", Category: "ai-provider", Country: "US"},
	{ID: "google-gemini", Name: "Google Gemini", Category: "ai-provider", Country: "US"},
	{ID: "mixpanel", Name: "Mixpanel", Category: "analytics", Country: "US"},
}

// benchFlow is flow i at t: a ~1.5 KiB chat body and headers, three findings, eight index keys
// (vendor, category, client, user, action, API, host, two detectors). One flow in a hundred
// goes to the rare vendor "mistral", which the window query looks for.
func benchFlow(i int, t time.Time) *flow.Flow {
	f := chatFlow(t, i)
	f.RequestBody = benchBodies()[i%len(benchBodies())]
	f.RequestBytes = int64(len(f.RequestBody))
	f.Vendor = benchVendors[i%len(benchVendors)]
	if i%100 == 0 {
		f.Vendor = flow.Vendor{ID: "mistral", Name: "Mistral AI", Category: "ai-provider", Country: "FR"}
	}
	f.Client = flow.Client{Addr: fmt.Sprintf("10.%d.%d.%d:%d", i%3, i%250, i%200, 30000+i%30000), User: fmt.Sprintf("user%02d", i%50)}
	return f
}

// ingestWith records n flows made by mk, spaced evenly from start by step, as fast as the
// writer takes them (the producer waits when the queue is nearly full, by count or bytes,
// instead of letting flows drop), and waits until all are committed.
func ingestWith(tb testing.TB, s *Store, first, n int, start time.Time, step time.Duration, mk func(int, time.Time) *flow.Flow) {
	tb.Helper()
	high, highBytes := cap(s.queue)-64, s.opts.QueueBytes-(1<<20)
	for i := range n {
		for len(s.queue) >= high || s.queuedBytes.Load() >= highBytes {
			time.Sleep(20 * time.Microsecond)
		}
		s.Record(mk(first+i, start.Add(time.Duration(first+i)*step)))
	}
	if err := s.Sync(); err != nil {
		tb.Fatal(err)
	}
	if d := s.Stats().Dropped; d != 0 {
		tb.Fatalf("%d flows dropped during ingest", d)
	}
}

func benchOptions(dir string, key []byte) Options {
	o := Options{Dir: dir, Key: key, Now: fixedNow, GCInterval: -1, Logger: zerolog.New(os.Stderr).Level(zerolog.WarnLevel)}
	if *benchTune != "" {
		o.tune = func(b *badger.Options) {
			for _, t := range strings.Split(*benchTune, ",") {
				k, v, _ := strings.Cut(t, "=")
				n, _ := strconv.ParseInt(v, 10, 64)
				switch k {
				case "compression":
					b.Compression = map[string]options.CompressionType{"none": options.None, "snappy": options.Snappy, "zstd": options.ZSTD}[v]
				case "memtable":
					b.MemTableSize = n << 20
				case "valuethreshold":
					b.ValueThreshold = n
				case "blockcache":
					b.BlockCacheSize = n << 20
				case "checksum":
					b.ChecksumVerificationMode = options.NoVerification
					b.VerifyValueChecksum = false
				case "compactors":
					b.NumCompactors = int(n)
				case "l0":
					b.NumLevelZeroTables = int(n)
				default:
					panic("-store.tune: " + t)
				}
			}
		}
	}
	return o
}

// benchTune changes badger's options for the benchmarks, to compare them: a comma-separated
// list of compression=none|snappy|zstd, memtable=MiB, valuethreshold=bytes, blockcache=MiB,
// checksum (off), compactors=n, l0=n.
var benchTune = flag.String("store.tune", "", "badger options for the benchmarks (see benchTune)")

// BenchmarkIngest records b.N flows through Record and reports committed flows per second and
// disk bytes per flow (default options: what customs serve runs with).
func BenchmarkIngest(b *testing.B) {
	benchIngest(b, benchFlow)
}

// large is the shared large store.
type large struct {
	s      *Store
	dir    string
	n      int
	start  time.Time
	step   time.Duration
	ingest time.Duration
	// peakAnon is the highest RssAnon (MiB) sampled during ingest.
	peakAnon float64
}

var (
	largeOnce  sync.Once
	largeStore *large
	largeErr   error
)

const largeSpan = 10 * 24 * time.Hour

// benchMix makes the Large benchmarks build their store of the realistic mix (mixFlow)
// instead of ~2 KiB chat flows (benchFlow).
var benchMix = flag.Bool("store.mix", false, "the Large benchmarks store the realistic mix (bodies 0.5–64 KiB)")

func getLarge(b *testing.B) *large {
	largeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "customs-store-bench-")
		if err != nil {
			largeErr = err
			return
		}
		mk := benchFlow
		if *benchMix {
			setBenchCodec(b)
			mk = mixFlow
		}
		largeStore, largeErr = buildLarge(b, dir, *benchFlows, mk)
		if largeErr == nil {
			l, st, mem := largeStore, largeStore.s.Stats(), procStatus()
			fmt.Printf("large store: %d encrypted flows ingested in %v (%.0f flows/s); disk %.1f MiB (%.0f B/flow); "+
				"RssAnon peak during ingest %.0f MiB, after it %s (VmRSS %s, with the value log's mapped pages)\n",
				l.n, l.ingest.Round(time.Millisecond), float64(l.n)/l.ingest.Seconds(), float64(st.DiskBytes)/(1<<20),
				float64(st.DiskBytes)/float64(l.n), l.peakAnon, mem["RssAnon"], mem["VmRSS"])
		}
	})
	if largeErr != nil {
		b.Fatal(largeErr)
	}
	return largeStore
}

// buildLarge opens an encrypted store in dir and records n flows made by mk, spread evenly
// over the ten days before base, sampling RssAnon every 100 ms while it ingests.
func buildLarge(tb testing.TB, dir string, n int, mk func(int, time.Time) *flow.Flow) (*large, error) {
	s, err := Open(benchOptions(dir, randomKey(tb)))
	if err != nil {
		return nil, err
	}
	l := &large{s: s, dir: dir, n: n, start: base.Add(-largeSpan), step: largeSpan / time.Duration(n)}
	stop := make(chan struct{})
	peak := make(chan float64)
	go func() { // peak anonymous memory while ingesting, sampled every 100 ms
		var max float64
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				peak <- max
				return
			case <-tk.C:
				if a := kB(procStatus()["RssAnon"]); a > max {
					max = a
				}
			}
		}
	}()
	t0 := time.Now()
	ingestWith(tb, s, 0, n, l.start, l.step, mk)
	l.ingest = time.Since(t0)
	close(stop)
	l.peakAnon = <-peak
	runtime.GC()
	return l, nil
}

// procStatus reads the memory lines of /proc/self/status.
func procStatus() map[string]string {
	out := map[string]string{}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && (k == "VmRSS" || k == "RssAnon" || k == "VmHWM" || k == "RssFile") {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func kB(s string) float64 {
	var n float64
	fmt.Sscanf(s, "%f kB", &n)
	return n / 1024
}

// BenchmarkLarge measures queries and replay reads over the large store; its memory is reported
// as metrics of the Memory sub-benchmark.
func BenchmarkLarge(b *testing.B) {
	l := getLarge(b)
	ctx := context.Background()
	// A window holding 10,000 flows holds 100 of the rare vendor, in the middle of the store.
	mid := l.start.Add(time.Duration(l.n/2) * l.step)
	window := Filter{Vendor: "mistral", Since: mid, Until: mid.Add(10_000 * l.step)}
	b.Run("QueryVendorWindow", func(b *testing.B) {
		var got int
		for b.Loop() {
			rs, err := l.s.Query(ctx, window)
			if err != nil {
				b.Fatal(err)
			}
			got = len(rs)
		}
		if got != min(100, l.n/100) {
			b.Fatalf("window query returned %d flows", got)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
	})
	for _, q := range []struct {
		name string
		f    Filter
	}{
		{"QueryNewest100", Filter{Limit: 100}},
		{"QueryVendorNewest100", Filter{Vendor: "openai", Limit: 100}},
		{"QueryUserDetectorOldest100", Filter{User: "user07", Detector: "pii.email", Oldest: true, Limit: 100}},
		{"QueryClient100", Filter{Client: "10.1.17.17", Limit: 100}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				rs, err := l.s.Query(ctx, q.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(rs) == 0 {
					b.Fatal("no flows")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
	b.Run("EachWithBodies", func(b *testing.B) {
		// Replay-style: every flow of a 20,000-flow window, headers and bodies.
		f := Filter{Since: mid, Until: mid.Add(20_000 * l.step), Oldest: true}
		var bodyBytes, flows int64
		for b.Loop() {
			bodyBytes, flows = 0, 0
			err := l.s.Each(ctx, f, true, func(r *Record) error {
				bodyBytes += int64(len(r.RequestBody) + len(r.ResponseBody))
				flows++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(bodyBytes)
		b.ReportMetric(float64(flows*int64(b.N))/b.Elapsed().Seconds(), "flows/s")
	})
	b.Run("OpenChecks", func(b *testing.B) {
		// What Open reads before badger may write: the MANIFEST, every block of every table,
		// the write-ahead logs and the last value-log file (the store is idle: nothing changes).
		var fc *fileCheck
		for b.Loop() {
			var err error
			if fc, err = checkFiles(l.dir, l.s.opts.Key, checkOpen, badgerLogger{zerolog.Nop()}); err != nil {
				b.Fatal(err)
			}
			if len(fc.problems) > 0 {
				b.Fatal(fc.problems)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/open")
		b.ReportMetric(float64(fc.tables), "tables")
		b.ReportMetric(float64(fc.keys), "table-keys")
	})
	b.Run("Memory", func(b *testing.B) {
		// After ingest and the queries above, without forcing the heap back to the system.
		mem := procStatus()
		for b.Loop() {
		}
		st := l.s.Stats()
		b.ReportMetric(kB(mem["VmRSS"]), "VmRSS-MiB")
		b.ReportMetric(kB(mem["RssAnon"]), "RssAnon-MiB")
		b.ReportMetric(l.peakAnon, "peak-RssAnon-MiB")
		b.ReportMetric(float64(st.DiskBytes)/float64(l.n), "disk-B/flow")
		b.ReportMetric(float64(l.n)/l.ingest.Seconds(), "ingest-flows/s")
	})
	b.Run("RetentionDropDay", func(b *testing.B) {
		// Each run expires one more of the oldest days (at most three; later runs find nothing
		// to drop) and measures the drop, value-log GC and the disk it frees.
		before := diskUsage(l.dir)
		var dropped int
		var busy time.Duration
		for i := 0; b.Loop(); i++ {
			now := l.start.Add(l.s.opts.Retention + time.Duration(min(i, 2)+1)*24*time.Hour)
			t0 := time.Now()
			n, err := l.s.RunRetention(now)
			if err != nil {
				b.Fatal(err)
			}
			if n > 0 {
				busy += time.Since(t0)
				dropped += n
			}
		}
		after := diskUsage(l.dir)
		if dropped == 0 {
			b.Fatal("nothing dropped")
		}
		b.ReportMetric(float64(busy.Milliseconds())/float64(dropped), "ms/day-dropped")
		b.ReportMetric(float64(dropped), "days-dropped")
		b.ReportMetric(float64(before-after)/(1<<20), "MiB-freed")
		b.ReportMetric(100*float64(after)/float64(before), "%disk-left")
	})
}

func cleanupLarge() {
	if largeStore != nil {
		largeStore.s.Close(context.Background())
		os.RemoveAll(largeStore.dir)
	}
}

// BenchmarkDurability compares, in one run, the default async recording (Record: queued,
// committed in batches, never synced) with RecordDurable (each call waits for its batch to be
// committed and fsynced; group commit) from 64 concurrent callers, as the proxy's handlers
// would call it. It reports flows/s and the latency of each call; for async also the queue
// depth seen every millisecond — what a kill -9 loses (the queue, plus the batch being
// committed) — and the same as time at that throughput.
//
//	go test -run '^$' -bench Durability -benchtime 20000x ./store
func BenchmarkDurability(b *testing.B) {
	for _, mode := range []string{"async", "async-5k", "sync"} {
		b.Run(mode, func(b *testing.B) {
			s, err := Open(benchOptions(b.TempDir(), randomKey(b)))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(context.Background())
			start := base.Add(-24 * time.Hour)
			var lat []time.Duration
			var queued []int
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() { // queue depth every millisecond
				defer close(sampled)
				tk := time.NewTicker(time.Millisecond)
				defer tk.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tk.C:
						queued = append(queued, len(s.queue))
					}
				}
			}()
			b.ResetTimer()
			t0 := time.Now()
			if strings.HasPrefix(mode, "async") {
				lat = make([]time.Duration, 0, b.N)
				high := cap(s.queue) - 64
				// async-5k records at 5,000 flows/s, about what the proxy served with the store
				// on this machine, 5 flows a millisecond; async records as fast as it can.
				paced := mode == "async-5k"
				for i := range b.N {
					for len(s.queue) >= high {
						time.Sleep(20 * time.Microsecond)
					}
					if paced && i%5 == 0 {
						if d := time.Until(t0.Add(time.Duration(i) * 200 * time.Microsecond)); d > 0 {
							time.Sleep(d)
						}
					}
					c := time.Now()
					s.Record(benchFlow(i, start.Add(time.Duration(i)*time.Millisecond)))
					lat = append(lat, time.Since(c))
				}
				if err := s.Sync(); err != nil {
					b.Fatal(err)
				}
			} else {
				const callers = 64
				var mu sync.Mutex
				var wg sync.WaitGroup
				var next atomic.Int64
				for range callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						mine := make([]time.Duration, 0, b.N/callers+1)
						for {
							i := int(next.Add(1)) - 1
							if i >= b.N {
								break
							}
							c := time.Now()
							if err := s.RecordDurable(benchFlow(i, start.Add(time.Duration(i)*time.Millisecond))); err != nil {
								b.Error(err)
								return
							}
							mine = append(mine, time.Since(c))
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					}()
				}
				wg.Wait()
			}
			el := time.Since(t0)
			b.StopTimer()
			close(stop)
			<-sampled
			if st := s.Stats(); st.Dropped != 0 || st.WriteErrors != 0 {
				b.Fatalf("dropped %d, write errors %d", st.Dropped, st.WriteErrors)
			}
			rate := float64(b.N) / el.Seconds()
			b.ReportMetric(rate, "flows/s")
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			}
			b.ReportMetric(float64(b.N)/float64(max(s.Stats().Batches, 1)), "flows/batch")
			if strings.HasPrefix(mode, "async") && len(queued) > 0 {
				var sum int
				for _, q := range queued {
					sum += q
				}
				mean := float64(sum) / float64(len(queued))
				b.ReportMetric(mean, "mean-queued")
				b.ReportMetric(float64(slices.Max(queued)), "max-queued")
				b.ReportMetric(mean/rate*1000, "mean-queued-ms")
			}
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The realistic mix of issue 18: 70% of flows allowed without findings, the rest with one to
// three findings (alerted, a few blocked or redacted); request bodies of 0.5–16 KiB (log-uniform:
// many small, a few large), answers of 0.5–16 KiB of JSON or, for one flow in five, a stream
// (SSE) of 8–64 KiB. Bodies are drawn from pools built once from a vocabulary of a few hundred
// words, so that they compress about as well as chat traffic does and making a flow costs
// little next to storing it.

var mixWords = strings.Fields(`the a to of and in is for that with on as this be are it not by or
from at your you we can our should will have has was were but if when then than which what
deploy service cluster database secret rotate pipeline config manifest network request response
error warning retry timeout connection refused upstream billing invoice customer report incident
review meeting action owner date team platform runbook section summary please explain rewrite
translate code function return value variable string number list map struct interface package
import module test build release version branch merge commit diff patch file directory path
user assistant system model token prompt answer question context window output input stream
json yaml kubernetes docker container pod node replica scale memory cpu disk latency throughput
query index table row column schema migration backup restore retention policy audit log metric
alert dashboard graph trace span event message queue topic consumer producer offset partition
http https header body cookie session auth login password credential key certificate tls dns
python go rust java typescript javascript sql bash shell script loop error handling exception
null true false nil empty default option flag argument parameter setting environment variable
analysis data model training evaluation accuracy precision recall dataset sample feature label
customer contract legal compliance privacy personal data gdpr retention deletion request export
marketing campaign email newsletter subscriber segment conversion funnel revenue forecast quarter
design document proposal draft feedback comment approve reject pending status priority blocker
monday tuesday wednesday thursday friday morning afternoon evening week month year today tomorrow
first second third next last previous final initial current new old large small fast slow`)

// mixText is about n bytes of words drawn from mixWords (Zipf-like: the first words oftener).
func mixText(r *rand.Rand, n int) string {
	var b strings.Builder
	b.Grow(n + 16)
	for b.Len() < n {
		w := mixWords[int(float64(len(mixWords))*r.Float64()*r.Float64())]
		b.WriteString(w)
		if r.IntN(12) == 0 {
			b.WriteString(". ")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// logUniform is a size between lo and hi, log-uniformly.
func logUniform(r *rand.Rand, lo, hi int) int {
	f := r.Float64()
	return int(float64(lo) * math.Pow(float64(hi)/float64(lo), f))
}

type mixPools struct {
	clients, users []string
	requests       [][]byte // chat requests, 0.5–16 KiB
	responses      [][]byte // JSON answers, 0.5–16 KiB
	streams        [][]byte // SSE answers, 8–64 KiB
}

var mixBodies = sync.OnceValue(func() *mixPools {
	r := rand.New(rand.NewPCG(18, 2026))
	p := &mixPools{}
	for i := range 3000 { // as benchFlow's
		p.clients = append(p.clients, fmt.Sprintf("10.%d.%d.%d:%d", i%3, i%250, i%200, 30000+i%30000))
	}
	for i := range 50 {
		p.users = append(p.users, fmt.Sprintf("user%02d", i))
	}
	for i := range 512 {
		n := logUniform(r, 512, 16<<10)
		var b strings.Builder
		fmt.Fprintf(&b, `{"model":"gpt-4o","temperature":0.2,"stream":%v,"messages":[{"role":"system","content":%q}`, i%5 == 0, mixText(r, 120))
		for b.Len() < n-40 {
			role := "user"
			if r.IntN(3) == 0 {
				role = "assistant"
			}
			fmt.Fprintf(&b, `,{"role":%q,"content":%q}`, role, mixText(r, min(n-b.Len(), 200+r.IntN(1500))))
		}
		b.WriteString(`]}`)
		p.requests = append(p.requests, []byte(b.String()))
	}
	for i := range 256 {
		n := logUniform(r, 512, 16<<10)
		p.responses = append(p.responses, []byte(fmt.Sprintf(`{"id":"chatcmpl-%016x","object":"chat.completion","created":%d,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`,
			r.Uint64(), 1773144000+i, mixText(r, max(n-300, 64)), 100+i, n/4, 100+i+n/4)))
	}
	for i := range 128 {
		n := logUniform(r, 8<<10, 64<<10)
		var b strings.Builder
		id := r.Uint64()
		for b.Len() < n {
			fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-%016x\",\"object\":\"chat.completion.chunk\",\"created\":%d,\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n",
				id, 1773144000+i, mixText(r, 2+r.IntN(14)))
		}
		b.WriteString("data: [DONE]\n\n")
		p.streams = append(p.streams, []byte(b.String()))
	}
	return p
})

var (
	jsonAnswerHeader = http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_0123456789abcdef"}, "Openai-Processing-Ms": {"812"}}
	sseAnswerHeader  = http.Header{"Content-Type": {"text/event-stream"}, "X-Request-Id": {"req_0123456789abcdef"}, "Openai-Processing-Ms": {"1530"}}
)

// mixFlow is flow i of the realistic mix at t. Like benchFlow, one flow in a hundred goes to
// the rare vendor "mistral"; unlike it, it formats nothing, so that the benchmark's CPU is the
// store's.
func mixFlow(i int, t time.Time) *flow.Flow {
	p := mixBodies()
	h := splitmix(uint64(i))
	f := &flow.Flow{
		ID:     flow.NewID(t),
		Start:  t,
		End:    t.Add(850 * time.Millisecond),
		Source: flow.SourceProxy,
		Mode:   flow.Intercepted,
		Client: flow.Client{Addr: p.clients[i%len(p.clients)], User: p.users[i%len(p.users)]},
		Host:   "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions",
		API:           "openai.chat",
		RequestHeader: chatHeader,
		Status:        200,
		Vendor:        benchVendors[i%len(benchVendors)],
		Segments:      mixSegments,
		Findings:      mixFindings,
		Verdict:       flow.Verdict{Action: flow.Alert, Policy: "alert-secrets", Message: "Credentials sent to an AI vendor.", Matched: []string{"alert-secrets"}},
	}
	if i%100 == 0 {
		f.Vendor = mistral
	}
	f.RequestBody = p.requests[h%uint64(len(p.requests))]
	f.RequestBytes = int64(len(f.RequestBody))
	h >>= 10
	if h%5 == 0 {
		f.ResponseBody, f.ResponseHeader = p.streams[(h>>3)%uint64(len(p.streams))], sseAnswerHeader
	} else {
		f.ResponseBody, f.ResponseHeader = p.responses[(h>>3)%uint64(len(p.responses))], jsonAnswerHeader
	}
	f.ResponseBytes = int64(len(f.ResponseBody))
	h >>= 12
	switch c := h % 100; {
	case c < 70: // allowed, nothing found
		f.Findings = nil
		f.Verdict = flow.Verdict{Action: flow.Allow}
	case c < 90: // alerted
		f.Findings = f.Findings[:1+int(h>>8)%3]
	case c < 95:
		f.Findings = f.Findings[:2]
		f.Verdict = flow.Verdict{Action: flow.Block, Policy: "block-secrets", Message: "Credentials sent to an AI vendor.", Matched: []string{"block-secrets"}}
		f.Status, f.ResponseBody, f.ResponseHeader, f.ResponseBytes = 403, nil, blockedHeader, 0
	default:
		f.Findings = f.Findings[2:]
		f.Verdict = flow.Verdict{Action: flow.Redact, Policy: "redact-pii", Matched: []string{"redact-pii"}}
	}
	return f
}

var (
	mistral       = flow.Vendor{ID: "mistral", Name: "Mistral AI", Category: "ai-provider", Country: "FR"}
	blockedHeader = http.Header{"Content-Type": {"application/json"}}
	mixSegments   = chatFlow(base, 0).Segments
	mixFindings   = chatFlow(base, 0).Findings
)

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// BenchmarkIngestMix is BenchmarkIngest with the realistic mix (mixFlow): committed flows per
// second, CPU per flow and disk bytes per flow, encrypted and plain.
//
//	go test -run '^$' -bench IngestMix -benchtime 100000x ./store
func BenchmarkIngestMix(b *testing.B) {
	benchIngest(b, mixFlow)
}

// benchIngest records b.N flows made by mk through Record, encrypted and plain.
func benchIngest(b *testing.B, mk func(int, time.Time) *flow.Flow) {
	setBenchCodec(b)
	for _, enc := range []bool{true, false} {
		name := "plain"
		if enc {
			name = "encrypted"
		}
		b.Run(name, func(b *testing.B) {
			var key []byte
			if enc {
				key = randomKey(b)
			}
			s, err := Open(benchOptions(b.TempDir(), key))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(context.Background())
			var bytes int64
			for i := range 1000 {
				f := mk(i, base)
				bytes += int64(len(f.RequestBody) + len(f.ResponseBody) + 400)
			}
			b.SetBytes(bytes / 1000) // bodies, headers and metadata
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			ingestWith(b, s, 0, b.N, base.Add(-24*time.Hour), time.Millisecond, mk)
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "flows/s")
			// CPU per flow (user and system, every goroutine: badger's compactions too) tells
			// more than throughput on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/flow")
			if err := s.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(diskUsage(s.opts.Dir))/float64(b.N), "disk-B/flow")
		})
	}
}
