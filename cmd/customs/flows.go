package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/har"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/store"
)

// flowFlags are the filters every command that reads the store takes.
type flowFlags struct {
	configPath, data, admin                                     string
	since, until                                                string
	vendor, category, client, user, detector, action, api, host string
	limit                                                       int
	oldest, asJSON                                              bool
}

func (ff *flowFlags) register(fs *flag.FlagSet, since string, limit int) {
	fs.StringVar(&ff.configPath, "config", "", "config file (data directory, store key, rules)")
	fs.StringVar(&ff.data, "data", "", "data directory (default ./customs-data)")
	fs.StringVar(&ff.admin, "admin", "", "admin address of the running customs serve, used while it holds the store (default: the config's)")
	fs.StringVar(&ff.since, "since", since, "flows from this age (24h, 30d), date (2026-11-20) or time (RFC 3339) on")
	fs.StringVar(&ff.until, "until", "", "flows before this age, date or time")
	fs.StringVar(&ff.vendor, "vendor", "", "catalog vendor ID (customs catalog list)")
	fs.StringVar(&ff.category, "category", "", "vendor category (ai-provider, analytics, ...)")
	fs.StringVar(&ff.client, "client", "", "client IP (any port) or ip:port")
	fs.StringVar(&ff.user, "user", "", "proxy user")
	fs.StringVar(&ff.detector, "detector", "", "flows with a finding of this detector (secret.aws-access-key-id)")
	fs.StringVar(&ff.action, "action", "", "verdict: allow, alert, redact or block")
	fs.StringVar(&ff.api, "api", "", "recognised API (openai.chat)")
	fs.StringVar(&ff.host, "host", "", "request host")
	fs.IntVar(&ff.limit, "limit", limit, "at most this many flows (0: all)")
	fs.BoolVar(&ff.oldest, "oldest", false, "oldest first (default newest first)")
	fs.BoolVar(&ff.asJSON, "json", false, "JSON lines")
}

func (ff *flowFlags) config() (config.Config, error) {
	cfg := config.Default()
	if ff.configPath != "" {
		var err error
		if cfg, err = config.Load(ff.configPath); err != nil {
			return cfg, err
		}
	}
	if ff.data != "" {
		cfg.Data = ff.data
	}
	if ff.admin != "" {
		cfg.Admin = ff.admin
	}
	return cfg, nil
}

func (ff *flowFlags) filter(now time.Time) (store.Filter, error) {
	f := store.Filter{Vendor: ff.vendor, Category: ff.category, Client: ff.client, User: ff.user, Detector: ff.detector,
		Action: ff.action, API: ff.api, Host: ff.host, Limit: ff.limit, Oldest: ff.oldest}
	var err error
	if ff.since != "" {
		if f.Since, err = parseWhen(ff.since, now); err != nil {
			return f, fmt.Errorf("--since: %w", err)
		}
	}
	if ff.until != "" {
		if f.Until, err = parseWhen(ff.until, now); err != nil {
			return f, fmt.Errorf("--until: %w", err)
		}
	}
	if err := checkAction(ff.action); err != nil {
		return f, fmt.Errorf("--action: %w", err)
	}
	return f, nil
}

func checkAction(a string) error {
	switch a {
	case "", "allow", "alert", "redact", "block":
		return nil
	}
	return fmt.Errorf("want allow, alert, redact or block; got %q", a)
}

func cmdFlows(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "show" {
		return cmdFlowsShow(args[1:], stdout, stderr)
	}
	fs := newFlagSet("flows", stderr)
	var ff flowFlags
	ff.register(fs, "24h", 50)
	export := fs.String("export", "", "write the matching flows as evidence: jsonl or har (with --out)")
	out := fs.String("out", "", "file to export to")
	reveal := fs.Bool("reveal", false, "export: write bodies and secret headers in clear (logged); default masks every detected value")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := ff.config()
	if err != nil {
		return usageError{err}
	}
	f, err := ff.filter(time.Now())
	if err != nil {
		return usageError{err}
	}
	src, closeSrc, err := openFlowSource(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeSrc()
	ctx := context.Background()
	if *export != "" {
		if *out == "" {
			return usageError{errors.New("--export needs --out FILE")}
		}
		return exportFlows(ctx, cfg, src, f, *export, *out, *reveal, stderr)
	}
	if ff.asJSON {
		enc := json.NewEncoder(stdout)
		return src.Each(ctx, f, false, func(r *store.Record) error { return enc.Encode(toWire(r)) })
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tFLOW\tCLIENT\tVENDOR\tAPI\tACTION\tFINDINGS")
	n := 0
	err = src.Each(ctx, f, false, func(r *store.Record) error {
		n++
		client := r.Client.Addr
		if r.Client.User != "" {
			client += " (" + r.Client.User + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Start.Local().Format("2006-01-02 15:04:05"), r.ID, client,
			orDash(r.Vendor.ID, r.Host), orDash(r.API, ""), r.Verdict.Action, summarize(r.Findings))
		return nil
	})
	_ = tw.Flush()
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stderr, "no flows match")
	}
	return nil
}

func orDash(s, alt string) string {
	switch {
	case s != "":
		return s
	case alt != "":
		return "(" + alt + ")"
	}
	return "-"
}

// summarize lists the detectors of the findings with counts: "secret.aws-access-key-id, pii.email x2".
func summarize(fs []flow.Finding) string {
	if len(fs) == 0 {
		return "-"
	}
	counts := map[string]int{}
	var order []string
	for _, x := range fs {
		if counts[x.Detector] == 0 {
			order = append(order, x.Detector)
		}
		counts[x.Detector]++
	}
	parts := make([]string, len(order))
	for i, d := range order {
		parts[i] = d
		if counts[d] > 1 {
			parts[i] += fmt.Sprintf(" x%d", counts[d])
		}
	}
	return strings.Join(parts, ", ")
}

func cmdFlowsShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flows show", stderr)
	configPath := fs.String("config", "", "config file")
	data := fs.String("data", "", "data directory (default ./customs-data)")
	adminAddr := fs.String("admin", "", "admin address of the running customs serve (default: the config's)")
	body := fs.Bool("body", false, "print the request and response bodies, detected values masked")
	reveal := fs.Bool("reveal", false, "with --body: print detected values in clear (this is logged)")
	asJSON := fs.Bool("json", false, "the record as JSON")
	ids, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		return usageError{errors.New("flows show takes one flow ID")}
	}
	ff := flowFlags{configPath: *configPath, data: *data, admin: *adminAddr}
	cfg, err := ff.config()
	if err != nil {
		return usageError{err}
	}
	src, closeSrc, err := openFlowSource(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeSrc()
	if a, ok := src.(*apiSource); ok {
		a.metaOnly = !*body
	}
	rec, err := src.Get(context.Background(), ids[0])
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return usageError{err}
		}
		return err
	}
	if *reveal {
		if err := auditReveal(cfg, stderr, rec.ID); err != nil {
			return err
		}
	}
	var m *masker
	if *body {
		if m, err = newMasker(cfg); err != nil {
			return err
		}
	}
	if *asJSON {
		if !*body {
			rec.RequestBody, rec.ResponseBody, rec.HasBodies = nil, nil, false
		} else if !*reveal {
			masked, err := m.record(&rec)
			if err != nil {
				return err
			}
			rec = masked
		}
		return json.NewEncoder(stdout).Encode(toWire(&rec))
	}
	printRecord(stdout, &rec)
	if *body {
		printBodies(stdout, m, &rec, *reveal)
	}
	return nil
}

// auditReveal records that someone read stored values in clear: in DIR/audit.log (0600, append
// only) and on stderr. A reveal that cannot be recorded does not happen.
func auditReveal(cfg config.Config, stderr io.Writer, what string) error {
	path := filepath.Join(cfg.Data, "audit.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("--reveal is recorded in %s, which cannot be written: %w", path, err)
	}
	defer f.Close()
	user := os.Getenv("USER")
	if user == "" {
		user = strconv.Itoa(os.Getuid())
	}
	for _, w := range []io.Writer{f, stderr} {
		l := zerolog.New(w).With().Timestamp().Logger()
		l.Warn().Str("type", "audit").Str("flows", what).Str("os_user", user).Msg("stored values revealed in clear")
	}
	return f.Sync()
}

func printRecord(w io.Writer, r *store.Record) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("flow", r.ID)
	row("time", r.Start.Local().Format(time.RFC3339Nano))
	row("duration", r.Duration().String())
	row("source", string(r.Source)+", "+string(r.Mode))
	row("client", r.Client.Addr)
	row("user", r.Client.User)
	row("request", r.Method+" "+r.Host+pathOf(flow.MaskURL(r.URL, r.Findings)))
	if r.Vendor.ID != "" {
		row("vendor", fmt.Sprintf("%s (%s, %s, %s)", r.Vendor.ID, r.Vendor.Name, r.Vendor.Category, r.Vendor.Country))
	}
	row("api", r.API)
	row("status", fmt.Sprint(r.Status))
	row("bytes", fmt.Sprintf("%d out, %d in", r.RequestBytes, r.ResponseBytes))
	v := string(r.Verdict.Action)
	if r.Verdict.Policy != "" {
		v += " (policy " + r.Verdict.Policy + ")"
	}
	row("verdict", v)
	row("reason", r.Verdict.Message)
	for _, n := range r.Notes {
		row("note", n)
	}
	for _, m := range r.Marks {
		row("mark", string(m))
	}
	row("error", r.Error)
	_ = tw.Flush()
	if len(r.Findings) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DETECTOR\tCLASS\tSEVERITY\tPATH\tSPAN\tPREVIEW\tHASH")
		for _, x := range r.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d-%d\t%s\t%s\n", x.Detector, x.Class, x.Severity, x.Path, x.Start, x.End, x.Preview, shortHash(x.Hash))
		}
		_ = tw.Flush()
	}
}

func shortHash(h string) string {
	if i := strings.IndexByte(h, ':'); i >= 0 && len(h) > i+17 {
		return h[:i+17]
	}
	return h
}

// printBodies prints the stored request and response bodies: decoded, and with each detected
// value replaced by its detector and masked preview unless reveal.
func printBodies(w io.Writer, m *masker, r *store.Record, reveal bool) {
	shown := *r
	if reveal {
		shown.RequestBody = m.revealed(r)
	} else {
		masked, err := m.record(r)
		if err != nil {
			fmt.Fprintf(w, "\nbodies not shown: %v (--reveal prints them in clear)\n", err)
			return
		}
		shown = masked
	}
	req, resp, segs := shown.RequestBody, shown.ResponseBody, m.segments(&shown)
	fmt.Fprintf(w, "\n--- request body (%d bytes stored%s%s)\n%s\n", len(r.RequestBody), truncatedNote(r.RequestTruncated),
		map[bool]string{true: ", decoded", false: ""}[r.ContentEncoding != ""], req)
	if len(segs) > 0 {
		fmt.Fprintf(w, "--- read by customs (%d segments)\n", len(segs))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, sg := range segs {
			if sg.Media != "" {
				fmt.Fprintf(tw, "%s\t[%s, %d bytes]\n", sg.Path, sg.Media, sg.Size)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\n", sg.Path, quoteShort(sg.Text, 200))
		}
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "--- response body (%d bytes stored%s)\n%s\n", len(r.ResponseBody), truncatedNote(r.ResponseTruncated), resp)
}

func truncatedNote(t bool) string {
	if t {
		return ", truncated"
	}
	return ""
}

// masker shows stored flows to a responder: bodies decoded, each detected value replaced by its
// detector and masked preview, and the texts customs read in them. It compiles the rules and
// detectors once for all the flows of a command.
type masker struct{ p *inspect.Pipeline }

func newMasker(cfg config.Config) (*masker, error) {
	pol, err := loadPolicy(cfg, cfg.Rules)
	if err != nil {
		return nil, err
	}
	hasher, err := loadHasher(cfg, false)
	if err != nil {
		return nil, err
	}
	return &masker{p: inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: hasher})}, nil
}

// record re-inspects the stored request with the current detectors and returns the record with
// its request body decoded and masked, and its response body withheld when a detector finds
// something in it.
func (m *masker) record(r *store.Record) (store.Record, error) {
	f := r.Flow()
	f.Findings, f.Notes, f.Segments, f.Marks = nil, nil, nil, nil
	m.p.Inspect(context.Background(), f)
	body, err := m.p.Masked(f)
	if err != nil {
		return store.Record{}, fmt.Errorf("the request body cannot be masked safely: %w", err)
	}
	out := *r
	out.RequestBody = body // decoded: what it says about its coding no longer applies
	out.ContentEncoding = ""
	if out.RequestHeader != nil {
		out.RequestHeader = out.RequestHeader.Clone()
		out.RequestHeader.Del("Content-Encoding")
	}
	if len(r.ResponseBody) > 0 {
		rf := &flow.Flow{API: f.API}
		m.p.InspectResponse(rf, r.ResponseHeader, r.ResponseBody)
		if len(rf.Findings) > 0 {
			out.ResponseBody = []byte(fmt.Sprintf("[withheld: %s found in the response; --reveal prints it]", summarize(rf.Findings)))
		}
	}
	return out, nil
}

// segments are the texts customs reads in r's request body, path by path.
func (m *masker) segments(r *store.Record) []flow.Segment {
	f := r.Flow()
	f.Findings, f.Notes, f.Segments, f.Marks = nil, nil, nil, nil
	m.p.Inspect(context.Background(), f)
	return f.Segments
}

// revealed returns the request body decoded (Content-Encoding undone), values in clear.
func (m *masker) revealed(r *store.Record) []byte {
	f := r.Flow()
	f.Findings = nil // nothing to replace: Masked returns the decoded body as it is
	body, err := m.p.Masked(f)
	if err != nil {
		return r.RequestBody
	}
	return body
}

// exportFlows writes the matching flows as JSON lines or HAR 1.2, bodies masked unless reveal.
func exportFlows(ctx context.Context, cfg config.Config, src flowSource, f store.Filter, format, path string, reveal bool, stderr io.Writer) error {
	if format != "jsonl" && format != "har" {
		return usageError{fmt.Errorf("--export: want jsonl or har, got %q", format)}
	}
	if reveal {
		if err := auditReveal(cfg, stderr, fmt.Sprintf("export to %s (filter %s)", path, filterToQuery(f).Encode())); err != nil {
			return err
		}
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	var m *masker
	if !reveal {
		if m, err = newMasker(cfg); err != nil {
			out.Close()
			return err
		}
	}
	var hw *har.Writer
	enc := json.NewEncoder(out)
	if format == "har" {
		hw = har.NewWriter(out, har.WriteOptions{RevealHeaders: reveal})
	}
	n := 0
	err = src.Each(ctx, f, true, func(r *store.Record) error {
		rec := *r
		if !reveal && len(rec.RequestBody) > 0 {
			masked, err := m.record(&rec)
			if err != nil {
				rec.RequestBody, rec.ContentEncoding = []byte(fmt.Sprintf("[withheld: %v]", err)), ""
			} else {
				rec = masked
			}
		}
		n++
		if hw != nil {
			return hw.Add(har.Entry{Flow: rec.Flow(), ResponseBody: rec.ResponseBody})
		}
		if !reveal {
			rec.URL = har.MaskURL(flow.MaskURL(rec.URL, rec.Findings))
			rec.RequestHeader, rec.ResponseHeader = har.MaskHeaders(rec.RequestHeader), har.MaskHeaders(rec.ResponseHeader)
		}
		return enc.Encode(toWire(&rec))
	})
	if err == nil && hw != nil {
		err = hw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr // evidence that did not reach the disk is not exported
	}
	if err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	fmt.Fprintf(stderr, "exported %d flows to %s (%s%s)\n", n, path, format, map[bool]string{true: ", values in clear", false: ", values masked"}[reveal])
	return nil
}
