package builtin_test

import (
	"flag"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/detectors/internal/corpusgen"
)

// Benchmarks of issue 4 (per core: go test -run '^$' -bench . -cpu 1 ./detectors/builtin; a scan
// runs on one goroutine, so -cpu only changes how much the garbage collector runs beside it):
//   - BenchmarkKeywordPrefilter: the keyword automaton alone, target ≥ 300 MiB/s;
//   - BenchmarkAllDetectors: every built-in detector over ≥ 64 MiB of prompt-shaped text,
//     target ≥ 100 MiB/s ("dense": every document carries planted values, as in the labelled
//     corpus; "sparse": one document in ten does, closer to ordinary traffic);
//   - BenchmarkPrompt4KiB: one 4 KiB chat prompt with two secrets, target ≤ 40 µs.

const benchCorpusBytes = 64 << 20

type benchCorpus struct {
	docs  []string
	bytes int64
}

var (
	benchOnce   sync.Once
	benchDense  benchCorpus
	benchSparse benchCorpus
)

func genBench(seed uint64, density float64) benchCorpus {
	g := corpusgen.New(seed)
	g.Density = density
	var c benchCorpus
	for c.bytes < benchCorpusBytes {
		d, _ := g.Next()
		c.docs = append(c.docs, d.Text)
		c.bytes += int64(len(d.Text))
	}
	return c
}

func corpora(b *testing.B) (dense, sparse benchCorpus) {
	benchOnce.Do(func() {
		benchDense = genBench(101, 1)
		benchSparse = genBench(202, 0.1)
	})
	return benchDense, benchSparse
}

func benchEngine(b *testing.B) *detectors.Engine {
	e, err := builtin.Engine(nil)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func BenchmarkKeywordPrefilter(b *testing.B) {
	dense, _ := corpora(b)
	e := benchEngine(b)
	b.SetBytes(dense.bytes)
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		for _, d := range dense.docs {
			n += e.Prefilter(d)
		}
	}
	_ = n
	reportMiBs(b, dense.bytes, cpu0)
}

// reportMiBs adds the throughput in MiB/s of wall time (SetBytes reports decimal MB/s) and,
// from cpu0 (cpuTime before the loop), in MiB/s of the process's CPU time: the measure,
// and the one that holds on a shared 2-core machine where other work steals wall time.
func reportMiBs(b *testing.B, bytes int64, cpu0 time.Duration) {
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/sec/(1<<20), "MiB/s")
	}
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/cpu/(1<<20), "cpu-MiB/s")
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkAllDetectors(b *testing.B) {
	dense, sparse := corpora(b)
	e := benchEngine(b)
	for _, c := range []struct {
		name string
		c    benchCorpus
	}{{"dense", dense}, {"sparse", sparse}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(c.c.bytes)
			b.ReportAllocs()
			n := 0
			emit := func(detectors.Detector, detectors.Match) { n++ }
			cpu0 := cpuTime()
			for b.Loop() {
				for _, d := range c.c.docs {
					e.Scan(d, emit)
				}
			}
			b.ReportMetric(float64(n)/float64(b.N), "findings/op")
			reportMiBs(b, c.c.bytes, cpu0)
		})
	}
}

func BenchmarkPrompt4KiB(b *testing.B) {
	prompt, _ := corpusgen.New(404).Prompt(4096, 2)
	e := benchEngine(b)
	n := 0
	emit := func(detectors.Detector, detectors.Match) { n++ }
	b.SetBytes(int64(len(prompt)))
	b.ReportAllocs()
	for b.Loop() {
		e.Scan(prompt, emit)
	}
	if n == 0 {
		b.Fatal("no finding in the prompt")
	}
}

var benchEach = flag.Bool("each", false, "run BenchmarkEachDetector (one sub-benchmark per built-in detector)")

// BenchmarkEachDetector runs every built-in detector alone (automaton included) over the first
// 8 MiB of the dense corpus, to show where the time of BenchmarkAllDetectors goes. It takes a
// few minutes, so it runs only with -each:
//
//	go test -run '^$' -bench EachDetector -cpu 1 ./detectors/builtin -each
func BenchmarkEachDetector(b *testing.B) {
	if !*benchEach {
		b.Skip("run with -each")
	}
	dense, _ := corpora(b)
	var docs []string
	var size int64
	for _, d := range dense.docs {
		if size >= 8<<20 {
			break
		}
		docs = append(docs, d)
		size += int64(len(d))
	}
	ds, err := builtin.Detectors(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range ds {
		e, err := detectors.New([]detectors.Detector{d})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(d.Meta().ID, func(b *testing.B) {
			b.SetBytes(size)
			emit := func(detectors.Detector, detectors.Match) {}
			cpu0 := cpuTime()
			for b.Loop() {
				for _, t := range docs {
					e.Scan(t, emit)
				}
			}
			reportMiBs(b, size, cpu0)
		})
	}
}
