// Package replay re-runs inspection — today's catalog, detectors and policies — over flows that
// were recorded earlier (from the store or a HAR file), and says where the outcome differs from
// what was decided at the time: a new finding (a new key format, a new codename), a finding that
// is gone, a changed action. It is how a responder asks "would today's rules have caught it?".
package replay

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
)

// Diff is how one flow's outcome changed.
type Diff struct {
	Flow    *flow.Flow     // as re-inspected (request fields as recorded; findings and verdict new)
	Was     flow.Verdict   // recorded at the time
	Added   []flow.Finding // found now, not then
	Removed []flow.Finding // found then, not now
}

// Changed reports whether anything differs.
func (d *Diff) Changed() bool {
	return len(d.Added) > 0 || len(d.Removed) > 0 || d.ActionChanged()
}

// ActionChanged reports whether the verdict's action or deciding policy differs.
func (d *Diff) ActionChanged() bool {
	return d.Was.Action != d.Flow.Verdict.Action || d.Was.Policy != d.Flow.Verdict.Policy
}

// Totals summarise a replay.
type Totals struct {
	Flows         int // flows read
	Inspected     int // flows with a request to inspect (tunnels and bodiless records are counted, not inspected)
	Changed       int
	NewFindings   int
	GoneFindings  int
	ActionChanged int
	Bytes         int64 // request body bytes inspected
	Elapsed       time.Duration
}

// Options tune a replay.
type Options struct {
	Workers int // parallel inspections; 0 means GOMAXPROCS
	// Progress, when set, is called now and then with the flows done so far.
	Progress func(done int)
}

// Run reads recorded flows from next until it returns nil, re-inspects each with p, and calls
// report with each flow's diff, in the order read (report may ignore unchanged ones). It stops at
// the first error of next or report, or when ctx ends.
func Run(ctx context.Context, p *inspect.Pipeline, next func() (*flow.Flow, error), report func(*Diff) error, opts Options) (Totals, error) {
	start := time.Now()
	workers := cmp.Or(opts.Workers, runtime.GOMAXPROCS(0))
	type job struct {
		seq int
		rec *flow.Flow
		res chan *Diff
	}
	jobs := make(chan job, workers*4)
	ordered := make(chan job, workers*4)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.res <- Inspect(ctx, p, j.rec)
			}
		}()
	}
	var t Totals
	var readErr error
	go func() {
		defer close(jobs)
		defer close(ordered)
		for seq := 0; ; seq++ {
			if ctx.Err() != nil {
				readErr = ctx.Err()
				return
			}
			rec, err := next()
			if err != nil {
				readErr = err
				return
			}
			if rec == nil {
				return
			}
			j := job{seq: seq, rec: rec, res: make(chan *Diff, 1)}
			ordered <- j
			jobs <- j
		}
	}()
	var repErr error
	for j := range ordered {
		d := <-j.res
		if repErr != nil {
			continue // drain, so the reader and workers finish
		}
		t.Flows++
		if inspectable(j.rec) {
			t.Inspected++
			t.Bytes += int64(len(j.rec.RequestBody))
		}
		if d.Changed() {
			t.Changed++
			t.NewFindings += len(d.Added)
			t.GoneFindings += len(d.Removed)
			if d.ActionChanged() {
				t.ActionChanged++
			}
		}
		if err := report(d); err != nil {
			repErr = err
		}
		if opts.Progress != nil && t.Flows%256 == 0 {
			opts.Progress(t.Flows)
		}
	}
	wg.Wait()
	t.Elapsed = time.Since(start)
	if opts.Progress != nil {
		opts.Progress(t.Flows)
	}
	return t, cmp.Or(repErr, readErr)
}

// inspectable: a flow whose request customs saw (not a tunnel, not a refusal before the body).
func inspectable(rec *flow.Flow) bool {
	return rec.Mode != flow.Tunnelled && rec.Method != "" && rec.Method != "CONNECT"
}

// Inspect re-inspects one recorded flow and compares the outcome with what was recorded.
func Inspect(ctx context.Context, p *inspect.Pipeline, rec *flow.Flow) *Diff {
	f := &flow.Flow{
		ID: rec.ID, Start: rec.Start, End: rec.End, Source: rec.Source, Mode: rec.Mode, Client: rec.Client,
		Host: rec.Host, Method: rec.Method, URL: rec.URL, RequestHeader: rec.RequestHeader,
		RequestBody: rec.RequestBody, RequestBytes: rec.RequestBytes, ContentEncoding: rec.ContentEncoding,
		Status: rec.Status, ResponseHeader: rec.ResponseHeader, ResponseBytes: rec.ResponseBytes,
		ResponseBody: rec.ResponseBody, Error: rec.Error, ErrorKind: rec.ErrorKind,
	}
	for _, m := range rec.Marks {
		if m == flow.MarkOversize || m == flow.MarkClientAbort || m == flow.MarkWebSocket {
			f.Mark(m) // what happened on the wire, not what inspection concluded
		}
	}
	d := &Diff{Flow: f, Was: rec.Verdict}
	if !inspectable(rec) {
		p.Classify(f)
		f.Verdict, f.Findings = rec.Verdict, rec.Findings
		return d
	}
	p.Inspect(ctx, f)
	if len(rec.ResponseBody) > 0 && f.API != "" && rec.ResponseHeader != nil {
		p.InspectResponse(f, rec.ResponseHeader, rec.ResponseBody)
	}
	d.Added, d.Removed = compareFindings(rec.Findings, f.Findings)
	return d
}

// findingKey identifies a finding across inspections: the same detector, at the same place,
// with the same value (by its keyed hash).
func findingKey(x flow.Finding) string {
	return x.Detector + "\x00" + x.Path + "\x00" + x.Hash
}

func compareFindings(was, now []flow.Finding) (added, removed []flow.Finding) {
	before := map[string]int{}
	for _, x := range was {
		before[findingKey(x)]++
	}
	after := map[string]int{}
	for _, x := range now {
		k := findingKey(x)
		after[k]++
		if after[k] > before[k] {
			added = append(added, x)
		}
	}
	seen := map[string]int{}
	for _, x := range was {
		k := findingKey(x)
		seen[k]++
		if seen[k] > after[k] {
			removed = append(removed, x)
		}
	}
	order := func(a, b flow.Finding) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Start, b.Start), strings.Compare(a.Detector, b.Detector))
	}
	slices.SortStableFunc(added, order)
	slices.SortStableFunc(removed, order)
	return added, removed
}
