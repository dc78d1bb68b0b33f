package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/report"
	"github.com/customs-dev/customs/store"
)

var reportHelp = help{
	usage: `customs report [--since 7d] [--until T] [filters] [--lookback 30d]
               [--format table|json|csv|dot|mermaid|html] [--out FILE]
               [--max-clients N] [--max-vendors N] [--rows N]`,
	about: `Draw the supply-chain map of the flows in a window: clients (with the names of the config's
clients:) → vendors (category, headquarters, jurisdiction notes) → the vendors' subprocessors
and other supply-chain links from the catalog (each with verified and its source), with the
requests, bytes out, findings by class and actions on every edge. Then the concentration of
AI traffic (shares per vendor and per headquarters country, HHI overall and per client,
clients on a single AI vendor, analytics vendors fed by clients that also prompt AI), requests
per day per vendor, vendors and client → vendor edges first seen in the window (against
--lookback before it), models and where the model behind a name changed, and the top findings
(masked). json (schema customs.report, report/SCHEMA.md) and csv hold every client and
vendor; the drawn formats keep the busiest (--max-clients, --max-vendors) and merge the rest
into "other" nodes. html is one self-contained page (no network requests).
Filters: --vendor, --category, --client, --user, --detector, --action, --api, --host.
While customs serve runs, serve counts the flows (admin API) and this command draws them.`,
	examples: `customs report                                       # the last 7 days, for a terminal
customs report --since 30d --format html --out supply-chain.html
customs report --format json | jq '.concentration.summary'
customs report --category analytics --format csv > edges.csv
customs report --format dot | dot -Tsvg > map.svg`,
}

// cmdReport is customs report.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	c := newCommand("report", reportHelp, stdout)
	var ff flowFlags
	ff.register(c.fs, "7d", 0, false)
	c.fs.Lookup("json").Usage = "the same as --format json"
	format := c.fs.String("format", "table", "table, json, csv, dot, mermaid or html")
	out := c.fs.String("out", "", "write to this file instead of standard output")
	lookback := c.fs.String("lookback", "30d", `how far before --since flows are read to tell what is new ("first seen")`)
	maxClients := c.fs.Int("max-clients", 25, "drawn formats: the most client nodes before \"other clients\"")
	maxVendors := c.fs.Int("max-vendors", 30, "drawn formats: the most vendor nodes before \"other vendors\"")
	rows := c.fs.Int("rows", 20, "table and html: the most lines of each long list")
	if err := c.noArgs(args); err != nil {
		return err
	}
	switch {
	case c.set("limit"):
		return usageError{errors.New("--limit does not apply: a report counts every flow of the window")}
	case c.set("json") && c.set("format") && *format != "json":
		return usageError{fmt.Errorf("--json and --format %s disagree", *format)}
	case ff.asJSON:
		*format = "json"
	}
	if !slices.Contains(report.Formats, *format) {
		msg := fmt.Sprintf("--format: unknown format %q", *format)
		if s := closestName(*format, report.Formats); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError{fmt.Errorf("%s; want one of %s", msg, strings.Join(report.Formats, ", "))}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"max-clients", *maxClients}, {"max-vendors", *maxVendors}, {"rows", *rows}} {
		if n.v < 1 {
			return usageError{fmt.Errorf("--%s: want 1 or more, got %d", n.name, n.v)}
		}
	}
	lb, err := config.ParseDuration(*lookback)
	if err != nil || lb < 0 {
		return usageError{fmt.Errorf("--lookback: want an age such as 30d or 0, got %q", *lookback)}
	}
	cfg, err := ff.config()
	if err != nil {
		return usageError{err}
	}
	now := time.Now()
	f, err := ff.filter(cfg, now)
	if err != nil {
		return usageError{err}
	}
	if f.Until.IsZero() {
		f.Until = now
	}
	if f.Since.IsZero() || !f.Until.After(f.Since) {
		return usageError{errors.New("--since must be before --until")}
	}
	cat, err := reportCatalog(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	q := report.Query{Filter: f, Lookback: lb}
	agg, err := withReportSource(ctx, cfg, ff.fleet, stderr,
		func(st *store.Store) (*report.Aggregate, error) { return report.Run(ctx, st, q) },
		func(fs *fleetSource) (*report.Aggregate, error) {
			return report.RunEach(q, func(f store.Filter, fn func(*store.Record) error) error { return fs.records(ctx, f, fn) })
		},
		func(a *apiSource) (*report.Aggregate, error) {
			var agg report.Aggregate
			qs := filterToQuery(f)
			qs.Set("lookback", lb.String())
			if err := a.getJSON(ctx, "/api/report/aggregate", qs, &agg); err != nil {
				return nil, err
			}
			agg.Filter = f
			return &agg, nil
		})
	if err != nil {
		return err
	}
	g, err := report.Build(agg, report.Options{Catalog: cat, Namer: cfg.Clients.Namer(), Now: now})
	if err != nil {
		return err
	}
	w := stdout
	var file *os.File
	if *out != "" {
		if file, err = os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
			return usageError{fmt.Errorf("--out: %w", err)}
		}
		w = file
	}
	err = report.Render(w, g, *format, report.RenderOptions{Rows: *rows,
		Collapse: report.CollapseOptions{MaxClients: *maxClients, MaxVendors: *maxVendors}})
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			fmt.Fprintf(stderr, "wrote the %s report to %s\n", *format, *out)
		}
	}
	return err
}

// reportCatalog is the catalog reports join: the built-in one with the config's vendors and
// those of its rule files, as serve sees it.
func reportCatalog(cfg config.Config) (*catalog.Catalog, error) {
	pol, err := loadPolicy(cfg, cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("the rules of the configuration, which may add vendors: %w", err)
	}
	return pol.catalog, nil
}

// withReportSource runs offline on the store, on the fleet's record (--fleet), or — while serve
// holds the store — through serve's admin API, which runs the scan next to the store and
// answers with its result.
func withReportSource[T any](ctx context.Context, cfg config.Config, fr fleetRead, stderr io.Writer,
	offline func(*store.Store) (T, error), onFleet func(*fleetSource) (T, error), online func(*apiSource) (T, error)) (T, error) {
	var zero T
	src, closeSrc, err := fr.source(cfg, stderr)
	if err != nil {
		return zero, err
	}
	defer closeSrc()
	switch s := src.(type) {
	case *storeSource:
		return offline(s.st)
	case *fleetSource:
		return onFleet(s)
	case *apiSource:
		return online(s)
	}
	return zero, fmt.Errorf("no flow source")
}

// getJSON GETs path from the admin API and decodes its JSON answer into v.
func (a *apiSource) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	resp, err := a.get(ctx, path, q)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("the running customs serve has no %s (an older version?)", path)
	} else if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("admin API %s: %w", path, err)
	}
	return nil
}

// reportAPI serves the report's scan for a CLI while serve holds the store:
// GET /api/report/aggregate (the flow filter's parameters, with since and until, and
// lookback) answers a report.Aggregate, GET /api/report/digest (the filter) a report.Digest.
// Both hold counts, masked previews, keyed hashes and flow IDs: never a value.
func reportAPI(st *store.Store) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /api/report/aggregate", func(w http.ResponseWriter, r *http.Request) {
		f, err := filterFromQuery(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if f.Until.IsZero() {
			f.Until = time.Now()
		}
		if f.Since.IsZero() {
			http.Error(w, "since is required", http.StatusBadRequest)
			return
		}
		var lb time.Duration
		if v := r.URL.Query().Get("lookback"); v != "" {
			if lb, err = config.ParseDuration(v); err != nil || lb < 0 {
				http.Error(w, fmt.Sprintf("lookback: want an age, got %q", v), http.StatusBadRequest)
				return
			}
		}
		agg, err := report.Run(r.Context(), st, report.Query{Filter: f, Lookback: lb})
		reply(w, agg, err)
	})
	mux.HandleFunc("GET /api/report/digest", func(w http.ResponseWriter, r *http.Request) {
		f, err := filterFromQuery(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		d, err := report.RunDigest(r.Context(), st, f)
		reply(w, d, err)
	})
	return mux
}
