package edm

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkHash compares the keyed hash used for every cell and candidate with HMAC-SHA256 on
// value-sized inputs.
func BenchmarkHash(b *testing.B) {
	sk, _, _ := deriveKeys(testKey)
	for _, n := range []int{8, 16, 32, 64} {
		p := []byte(strings.Repeat("x", n))
		b.Run(fmt.Sprintf("siphash-2-4/%dB", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			var sink uint64
			for b.Loop() {
				sink += sk.SumTagged('e', p)
			}
			_ = sink
		})
		b.Run(fmt.Sprintf("hmac-sha256/%dB", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			m := hmac.New(sha256.New, testKey)
			out := make([]byte, 0, 32)
			for b.Loop() {
				m.Reset()
				m.Write([]byte{'e'})
				m.Write(p)
				out = m.Sum(out[:0])
			}
		})
	}
}

// bigRows is the row count of the scale benchmarks.
const bigRows = 10_000_000

var bigColumns = []Column{{"name", Name}, {"email", Email}, {"account_id", ID}, {"iban", IBAN}}

// buildBig streams bigRows generated rows into BuildTable and returns the table, its stats, the
// wall time, the heap in use after it (over the heap before) and the highest heap in use sampled
// during the build.
func buildBig(b *testing.B) (t *Table, st Stats, took time.Duration, delta, peak uint64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(genCustomers(pw, bigRows, 7)) }()
	start := time.Now()
	t, st, err := BuildTable(pr, testKey, Options{Label: "customers", Columns: bigColumns})
	took = time.Since(start)
	b.Logf("build took %v", took.Round(time.Millisecond))
	close(stop)
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return t, st, took, after.HeapInuse - before.HeapInuse, peak - before.HeapInuse
}

// BenchmarkBuild10M indexes ten million generated rows × 4 columns (name, email, account_id,
// iban), streamed from the generator. It reports the index's exact size, the heap it keeps, the
// peak heap during the build, and rows per second (generation included: it runs alongside).
func BenchmarkBuild10M(b *testing.B) {
	if testing.Short() {
		b.Skip("10 M rows: skipped under -short")
	}
	for b.Loop() {
		t, st, took, delta, peak := buildBig(b)
		b.ReportMetric(float64(st.Bytes)/(1<<20), "index-MiB")
		b.ReportMetric(float64(delta)/(1<<20), "heapinuse-delta-MiB")
		b.ReportMetric(float64(peak)/(1<<20), "build-peak-heap-MiB")
		b.ReportMetric(float64(st.Rows)/took.Seconds(), "rows/s")
		b.ReportMetric(float64(t.entries()), "entries")
		b.Logf("%+v", st)
		runtime.KeepAlive(t)
	}
}

// BenchmarkBuild1M indexes a million generated rows × 4 columns held in memory: the build's own
// rate, without the generator running alongside.
func BenchmarkBuild1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1 M rows: skipped under -short")
	}
	var csv bytes.Buffer
	genCustomers(&csv, 1_000_000, 7)
	for b.Loop() {
		if _, _, err := BuildTable(bytes.NewReader(csv.Bytes()), testKey, Options{Label: "customers", Columns: bigColumns}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1_000_000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// prompt4K is a 4 KiB support-desk prompt carrying two fields of one customer row (name and
// account ID) among the usual noise: other numbers, dates, amounts, an unrelated address, a URL,
// a pasted log line. Its words repeat about as much as real prose does (about 330 distinct of
// 650), so the scan's per-scan word cache is not flattered.
var prompt4K = func() string {
	p := `You are a senior support agent at a retail bank. Draft a reply to the ticket below. Keep it short, polite and specific, and do not promise anything the policy does not allow. Ticket #58213, opened 2026-03-14 09:12 by the branch in Leeds, priority normal, channel: web form.

Customer: Maria Gonzalez (account AC-00412938). She says that on 3 March she was charged twice for the same card payment of 249.99 EUR at an online retailer, and that the second charge is still pending after ten working days. She attached a screenshot of her statement showing both transactions with identical merchant references. She also asks why her overdraft limit was lowered from 1,500 to 750 without any notice, whether she can have it restored before her rent is due on the first of next month, and whether the lower limit will affect her credit file. Her previous ticket (#57102) about a lost debit card was closed on 12 February after a replacement was dispatched by post.

Internal notes from the branch: the duplicate looks like a pre-authorisation that the merchant never released; the acquirer confirmed receipt of our query yesterday afternoon. The overdraft change came from the quarterly automated review, which flagged three returned direct debits in January. Nobody called her beforehand because the letter template was sent to an outdated postal address. Her salary is paid in monthly, and she has banked with us since 2011.

Policy notes: duplicate card charges are disputed through the card scheme; the agent raises a chargeback request once the merchant has had five working days to reverse it, and tells the customer the expected timeline (up to 45 days). Overdraft limits are reviewed every quarter against income and account conduct; customers are told that a review took place, never the internal score. Escalate to the credit team at credit-review@bank.example if the customer disputes the review, and link the help page https://help.bank.example/overdraft-reviews for more details. Apologise once for the missing letter and offer to update her address on file.

Log excerpt: 2026-03-04T18:22:51Z auth ok amount=249.99 ccy=EUR mcc=5732 ref=8841-XQ; 2026-03-04T18:23:07Z auth ok amount=249.99 ccy=EUR mcc=5732 ref=8841-XQ; settlement batch 4471 posted one item.

Style: plain English, no jargon, no more than four short paragraphs, second person, warm but not gushing. Sign off as "The Customer Care Team". Do not mention internal systems, the acquirer, batch numbers or scores by name. If anything is uncertain, say what happens next and when she will hear from us rather than guessing. `
	for len(p) < 4096 {
		p += "Thank you for your patience while we look into this for you. "
	}
	return p[:4096]
}()

var (
	bigOnce  sync.Once
	bigTable *Table
)

// BenchmarkScan4K scans the 4 KiB prompt against the fixture table (2,000 rows, 7 columns: the
// index sits in cache) and, without -short, against the 10 M-row table (it does not).
func BenchmarkScan4K(b *testing.B) {
	if len(prompt4K) != 4096 {
		b.Fatalf("prompt is %d bytes", len(prompt4K))
	}
	run := func(b *testing.B, t *Table) {
		if ms := t.Scan(prompt4K); len(ms) != 1 || ms[0].Rows != 1 || len(ms[0].Columns) != 2 {
			b.Fatalf("want one row with two columns, got %+v", ms)
		}
		b.SetBytes(int64(len(prompt4K)))
		b.ReportAllocs()
		c0 := cpuTime()
		for b.Loop() {
			t.Scan(prompt4K)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/scan")
		if c := cpuTime() - c0; c > 0 {
			b.ReportMetric(float64(c.Nanoseconds())/1e3/float64(b.N), "cpu-µs/scan")
		}
	}
	b.Run("rows=2000", func(b *testing.B) { run(b, fixture(b)) })
	b.Run("rows=10M", func(b *testing.B) {
		if testing.Short() {
			b.Skip("10 M rows: skipped under -short")
		}
		bigOnce.Do(func() { bigTable, _, _, _, _ = buildBig(b) })
		run(b, bigTable)
	})
}

// BenchmarkGenerate is the generator alone, to tell its cost from the build's in Build10M.
func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		genCustomers(io.Discard, 100_000, 7)
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
