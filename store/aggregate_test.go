package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// BenchmarkLargeScan reads every flow of the large store for a report: Each without bodies
// (what a report would otherwise use) against the aggregate scan, on one worker and on the
// default number.
//
//	go test -run '^$' -bench LargeScan -benchtime 3x ./store -store.flows=1000000
func BenchmarkLargeScan(b *testing.B) {
	l := getLarge(b)
	ctx := context.Background()
	var cpu0 time.Duration
	report := func(b *testing.B, flows int64) {
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/scan")
		b.ReportMetric(float64(flows)*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/scan")
	}
	b.Run("EachMeta", func(b *testing.B) {
		var n int64
		cpu0 = cpuTime()
		for b.Loop() {
			n = 0
			if err := l.s.Each(ctx, Filter{Oldest: true}, false, func(r *Record) error {
				n++
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		if n != int64(l.n) {
			b.Fatalf("%d flows, want %d", n, l.n)
		}
		report(b, n)
	})
	for _, c := range []struct {
		name     string
		w        int
		prefetch bool
	}{{"Scan1", 1, false}, {"ScanDefault", 0, false}} {
		w := c.w
		b.Run(c.name, func(b *testing.B) {
			cpu0 = cpuTime()
			var n atomic.Int64
			for b.Loop() {
				n.Store(0)
				if err := l.s.Scan(ctx, Filter{}, ScanOptions{Workers: w}, func(_ int, sm *Summary) error {
					n.Add(1)
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			if n.Load() != int64(l.n) {
				b.Fatalf("%d flows, want %d", n.Load(), l.n)
			}
			report(b, n.Load())
		})
	}
}

// summaryOf is what Scan should hand out for r: the projection of what Each reads.
func summaryOf(r *Record) Summary {
	sm := r.Summary()
	sm.Findings = slices.Clone(sm.Findings)
	return sm
}

func scanAll(t *testing.T, s *Store, f Filter, workers int) map[string]Summary {
	t.Helper()
	var mu sync.Mutex
	got := map[string]Summary{}
	err := s.Scan(context.Background(), f, ScanOptions{Workers: workers}, func(w int, sm *Summary) error {
		if w < 0 || w >= max(workers, 1) {
			t.Errorf("worker %d of %d", w, workers)
		}
		c := *sm
		c.Findings = nil
		if len(sm.Findings) > 0 {
			c.Findings = slices.Clone(sm.Findings)
		}
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[sm.FlowID()]; dup {
			t.Errorf("flow %s handed out twice", sm.FlowID())
		}
		got[sm.FlowID()] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestScanMatchesEach: for every filter, the aggregate scan hands out exactly the flows Each
// returns, each summary the projection of Each's record, whatever the number of workers.
func TestScanMatchesEach(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	spread(t, s)
	// A flow with a model and an IPv4-mapped client, which the client index unmaps.
	at := base.Add(-90 * time.Minute)
	m := chatFlow(at, 1)
	m.Client.Addr = "[::ffff:10.9.9.9]:4242"
	m.Model, m.ServedModel = "gpt-4o", "gpt-4o-2024-11-20"
	s.Record(m)
	sync_(t, s)
	for _, f := range []Filter{
		{}, {Vendor: "openai"}, {Category: "ai-provider"}, {Client: "10.0.0.1"}, {Client: "10.0.0.2:5007"},
		{Client: "::1"}, {Client: "10.9.9.9"}, {User: "alice"}, {Detector: "pii.email"}, {Action: "block"},
		{Host: "example.org"}, {Vendor: "openai", User: "bob", Detector: "secret.aws-access-key-id"},
		{Since: base.Add(-50 * time.Hour), Until: base.Add(-20 * time.Hour)}, {Vendor: "nope"},
		{Limit: 3, Oldest: false}, // ignored by Scan
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			each := f
			each.Limit, each.Oldest = 0, true
			want := map[string]Summary{}
			if err := s.Each(context.Background(), each, false, func(r *Record) error {
				want[r.ID] = summaryOf(r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if f.Vendor != "nope" && len(want) == 0 {
				t.Fatal("the filter selects nothing: a useless case")
			}
			for _, w := range []int{1, 3} {
				got := scanAll(t, s, f, w)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%d workers: %d summaries, want %d", w, len(got), len(want))
					for id, g := range got {
						if !reflect.DeepEqual(g, want[id]) {
							t.Errorf("flow %s:\n got %+v\nwant %+v", id, g, want[id])
							break
						}
					}
				}
			}
		})
	}
}

// TestSummaryDecode: the summary decoder reads every record decodeMeta reads, of every format
// version, to the same values, and refuses what decodeMeta refuses.
func TestSummaryDecode(t *testing.T) {
	for name, r := range codecCases() {
		t.Run(name, func(t *testing.T) {
			r.ID = ulid.Make().String()
			meta := appendMeta(nil, &r, true)
			checkSummaryDecode(t, meta)
			for i := range meta {
				checkSummaryDecode(t, meta[:i])
			}
		})
	}
}

// checkSummaryDecode decodes b both ways and compares.
func checkSummaryDecode(t *testing.T, b []byte) {
	t.Helper()
	var r Record
	_, err := decodeMeta(b, &r)
	sc := &scanner{in: newInterner()}
	p := plan{}
	ok, serr := sc.decode(b, &p)
	if (err == nil) != (serr == nil) {
		t.Fatalf("decodeMeta: %v; summary: %v", err, serr)
	}
	if err != nil {
		return
	}
	if !ok {
		t.Fatal("an empty filter did not match")
	}
	want := summaryOf(&Record{ID: ulid.ULID{}.String(), Start: r.Start, Mode: r.Mode, Client: r.Client, Host: r.Host,
		API: r.API, Vendor: r.Vendor, RequestBytes: r.RequestBytes, ResponseBytes: r.ResponseBytes, Status: r.Status,
		Verdict: r.Verdict, Model: r.Model, ServedModel: r.ServedModel, Findings: r.Findings})
	got := sc.sm
	for i := range want.Findings {
		// A summary has no columns or spans.
		want.Findings[i].Columns, want.Findings[i].Spans = nil, nil
	}
	if len(got.Findings) == 0 {
		got.Findings = nil
	}
	if len(want.Findings) == 0 {
		want.Findings = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("summary:\n got %+v\nwant %+v", got, want)
	}
}

func FuzzSummaryDecode(f *testing.F) {
	for _, r := range codecCases() {
		f.Add(appendMeta(nil, &r, true))
	}
	f.Fuzz(func(t *testing.T, meta []byte) {
		checkSummaryDecode(t, meta)
	})
}

// TestScanStops: an error from the function, or a cancelled context, ends the scan with it.
func TestScanStops(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	spread(t, s)
	boom := errors.New("boom")
	var n atomic.Int64
	err := s.Scan(context.Background(), Filter{}, ScanOptions{Workers: 2}, func(int, *Summary) error {
		if n.Add(1) == 5 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Scan(ctx, Filter{}, ScanOptions{}, func(int, *Summary) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	closeStore(t, s)
	if err := s.Scan(context.Background(), Filter{}, ScanOptions{}, func(int, *Summary) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: err = %v", err)
	}
}
