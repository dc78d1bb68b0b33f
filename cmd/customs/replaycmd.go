package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/detectors/jewels"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/har"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/replay"
	"github.com/customs-dev/customs/store"
)

// cmdReplay re-inspects stored flows (or a HAR file) with today's detectors and policies.
func cmdReplay(args []string, stdout, stderr io.Writer) error {
	c := newCommand("replay", replayHelp, stdout)
	fs := c.fs
	var ff flowFlags
	ff.register(fs, "30d", 0, false)
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "rule file or directory to replay with (repeatable; default: the config's rules, else the embedded pack)")
	diff := fs.Bool("diff", false, "report only flows whose findings or verdict differ from what was recorded")
	harFile := fs.String("har", "", "inspect the flows of this HAR file instead of the store")
	keep := fs.Bool("store", false, "with --har: keep the inspected flows in the store")
	if err := c.noArgs(args); err != nil {
		return err
	}
	cfg, err := ff.config()
	if err != nil {
		return usageError{err}
	}
	pol, hasher, err := loadPolicyAndKey(cfg, rulePaths, stderr)
	if err != nil {
		return err
	}
	js, err := loadJewels(cfg)
	if err != nil {
		return err
	}
	// The echo is computed over the replayed window: flows are read oldest first, so a
	// telemetry event is checked against the prompts that came before it.
	var echo *jewels.Echo
	if key, err := findingKey(cfg, false); err == nil {
		if echo, err = newEcho(cfg, key); err != nil {
			return err
		}
	}
	p := inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: hasher, Rules: pol.set,
		DecodeLimit: int64(cfg.Body.DecodeLimit), Incomplete: flow.Action(cfg.Inspection.Incomplete), Jewels: js, Echo: echo})
	ctx := context.Background()

	var next func() (*flow.Flow, error)
	var sink *store.Store
	if *harFile != "" {
		f, err := os.Open(*harFile)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		hr := har.NewReader(f, har.ReadOptions{})
		next = func() (*flow.Flow, error) {
			e, err := hr.Next()
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", *harFile, err)
			}
			e.Flow.ResponseBody = e.ResponseBody
			if h := e.Flow.ResponseHeader; h != nil {
				// Exporters mostly store the answer decoded while keeping its Content-Encoding
				// header: what is left on the body is what the reader says.
				h = h.Clone()
				h.Del("Content-Encoding")
				if e.ResponseEncoding != "" {
					h.Set("Content-Encoding", e.ResponseEncoding)
				}
				e.Flow.ResponseHeader = h
			}
			return e.Flow, nil
		}
		defer func() {
			for _, n := range hr.Notes() {
				fmt.Fprintf(stderr, "note: %s\n", n)
			}
		}()
		if *keep {
			if sink, err = openStore(cfg, zerolog.New(stderr).Level(zerolog.WarnLevel), true); err != nil {
				return err
			}
			defer sink.Close(context.Background())
		}
	} else {
		if *keep {
			return usageError{errors.New("--store keeps the flows of a --har file")}
		}
		filter, err := ff.filter(cfg, time.Now())
		if err != nil {
			return usageError{err}
		}
		filter.Oldest = true // replay in time order
		src, closeSrc, err := ff.fleet.source(cfg, stderr)
		if err != nil {
			return err
		}
		defer closeSrc()
		next = streamRecords(ctx, src, filter)
	}

	progress := progressBar(stderr)
	enc := json.NewEncoder(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	header := false
	actions := map[flow.Action]int{}
	findings, tooOld := 0, 0
	cutoff := time.Now().Add(-cfg.Store.Retention.D())
	report := func(d *replay.Diff) error {
		actions[d.Flow.Verdict.Action]++
		findings += len(d.Flow.Findings)
		if sink != nil {
			if d.Flow.Start.Before(cutoff) {
				tooOld++ // the store would drop it with its day; keeping it would only cost disk
			} else {
				sink.Record(d.Flow)
			}
		}
		if *diff && !d.Changed() {
			return nil
		}
		if ff.asJSON {
			return enc.Encode(diffJSON(d, *harFile != ""))
		}
		if !header {
			if *harFile != "" {
				fmt.Fprintln(tw, "TIME\tFLOW\tHOST\tAPI\tACTION\tFINDINGS")
			} else {
				fmt.Fprintln(tw, "TIME\tFLOW\tHOST\tWAS\tNOW\tNEW FINDINGS\tGONE")
			}
			header = true
		}
		f := d.Flow
		if *harFile != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Start.Local().Format("2006-01-02 15:04:05"), f.ID, f.Host, orDash(f.API, ""),
				verdictText(f.Verdict), summarize(f.Findings))
			return nil
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Start.Local().Format("2006-01-02 15:04:05"), f.ID, f.Host,
			verdictText(d.Was), verdictText(f.Verdict), summarize(d.Added), summarize(d.Removed))
		return nil
	}
	ropts := replay.Options{Progress: progress}
	if echo != nil {
		// The echo needs the flows in time order: a telemetry event is checked against the
		// prompts remembered before it, which parallel workers would race.
		ropts.Workers = 1
	}
	totals, err := replay.Run(ctx, p, next, report, ropts)
	if progress != nil {
		fmt.Fprintln(stderr)
	}
	_ = tw.Flush()
	if err != nil {
		return err
	}
	mbs := float64(totals.Bytes) / (1 << 20) / max(totals.Elapsed.Seconds(), 1e-9)
	summary := fmt.Sprintf("%s, %d inspected (%.1f MiB of bodies, %.0f MiB/s), %d changed: %s, %d gone, %s changed",
		plural(totals.Flows, "flow", ""), totals.Inspected, float64(totals.Bytes)/(1<<20), mbs, totals.Changed,
		plural(totals.NewFindings, "new finding", ""), totals.GoneFindings, plural(totals.ActionChanged, "verdict", ""))
	if *harFile != "" {
		// A HAR file has no outcome of its own to compare with: say what customs decides.
		summary = fmt.Sprintf("%s, %d inspected (%.1f MiB of bodies): %s; %d blocked, %d redacted, %d alerted, %d allowed",
			plural(totals.Flows, "flow", ""), totals.Inspected, float64(totals.Bytes)/(1<<20), plural(findings, "finding", ""), actions[flow.Block], actions[flow.Redact],
			actions[flow.Alert], actions[flow.Allow])
		if sink != nil {
			summary += fmt.Sprintf("; %d kept in the store", totals.Flows-tooOld)
			if tooOld > 0 {
				summary += fmt.Sprintf(" (%d older than its retention, %s, were not)", tooOld, cfg.Store.Retention)
			}
		}
	}
	if ff.asJSON {
		return enc.Encode(map[string]any{"totals": map[string]any{"flows": totals.Flows, "inspected": totals.Inspected,
			"changed": totals.Changed, "new_findings": totals.NewFindings, "gone_findings": totals.GoneFindings,
			"verdicts_changed": totals.ActionChanged, "bytes": totals.Bytes, "seconds": totals.Elapsed.Seconds()}})
	}
	fmt.Fprintln(stdout, summary)
	return nil
}

func verdictText(v flow.Verdict) string {
	if v.Policy == "" {
		return string(actionOf(v))
	}
	return string(actionOf(v)) + " (" + v.Policy + ")"
}

// streamRecords feeds replay from the store in time order without holding every flow: Each
// runs on its own goroutine, handing records over one at a time.
func streamRecords(ctx context.Context, src flowSource, filter store.Filter) func() (*flow.Flow, error) {
	ch := make(chan *flow.Flow, 64)
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(ch)
		// The values in clear: replay re-inspects them and prints only masked findings.
		_, err := src.Each(ctx, filter, readOptions{bodies: clearBodies}, func(v *view) error {
			select {
			case ch <- v.Flow():
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		errc <- err
	}()
	return func() (*flow.Flow, error) {
		f, ok := <-ch
		if ok {
			return f, nil
		}
		cancel()
		return nil, <-errc
	}
}

func diffJSON(d *replay.Diff, har bool) map[string]any {
	f := d.Flow
	m := map[string]any{"flow_id": f.ID, "time": f.Start, "host": f.Host, "api": f.API, "vendor": f.Vendor.ID,
		"action": actionOf(f.Verdict), "policy": f.Verdict.Policy, "findings": wireFindings(f.Findings)}
	if !har {
		m["was"] = map[string]any{"action": actionOf(d.Was), "policy": d.Was.Policy}
		m["new_findings"] = wireFindings(d.Added)
		m["gone_findings"] = wireFindings(d.Removed)
		m["changed"] = d.Changed()
	}
	return m
}

// progressBar draws the flows done on a terminal; elsewhere (a pipe, a file, CI) it draws nothing.
func progressBar(stderr io.Writer) func(int) {
	f, ok := stderr.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	start := time.Now()
	return func(done int) {
		rate := float64(done) / max(time.Since(start).Seconds(), 1e-9)
		fmt.Fprintf(f, "\rreplay: %s (%.0f/s)%s", plural(done, "flow", ""), rate, strings.Repeat(" ", 8))
	}
}
