package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/har"
	"github.com/customs-dev/customs/store"
)

// flowFlags are the filters every command that reads the store takes.
type flowFlags struct {
	configPath, data, admin                                     string
	since, until                                                string
	vendor, category, client, user, detector, action, api, host string
	run                                                         string
	limit                                                       int
	oldest, asJSON                                              bool
	fleet                                                       fleetRead
}

// register adds the flags. Replay reads oldest first whatever it is told, so it has no
// --oldest; the listing's default limit is given, 0 for all.
func (ff *flowFlags) register(fs *flag.FlagSet, since string, limit int, oldest bool) {
	fs.StringVar(&ff.configPath, "config", "", "config file (data directory, store key, rules)")
	fs.StringVar(&ff.data, "data", "", "data directory (default ./customs-data)")
	fs.StringVar(&ff.admin, "admin", "", "admin address of the running customs serve, used while it holds the store (default: the config's)")
	fs.StringVar(&ff.since, "since", since, "flows from this age (24h, 30d), date (2026-11-20) or time (RFC 3339) on")
	fs.StringVar(&ff.until, "until", "", "flows before this age, date or time")
	fs.StringVar(&ff.vendor, "vendor", "", "catalog vendor ID (customs catalog list)")
	fs.StringVar(&ff.category, "category", "", "vendor category: "+strings.Join(catalog.Categories(), ", "))
	fs.StringVar(&ff.client, "client", "", "client IP (any port) or ip:port")
	fs.StringVar(&ff.user, "user", "", "proxy user")
	fs.StringVar(&ff.run, "run", "", "flows of one customs run (its run `ID`)")
	fs.StringVar(&ff.detector, "detector", "", "flows with a finding of this detector ID (secret.aws-access-key-id)")
	fs.StringVar(&ff.action, "action", "", "verdict: allow, alert, redact or block")
	fs.StringVar(&ff.api, "api", "", "recognised API name (openai.chat)")
	fs.StringVar(&ff.host, "host", "", "request host")
	fs.IntVar(&ff.limit, "limit", limit, "at most this many flows (0: all)")
	if oldest {
		fs.BoolVar(&ff.oldest, "oldest", false, "oldest first (default newest first)")
	}
	fs.BoolVar(&ff.asJSON, "json", false, "JSON lines")
	ff.fleet.register(fs)
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

// filter is the store filter the flags describe. Names are checked against what customs knows
// (the catalog, the detectors, the APIs), so that a typo is an error naming what was meant
// rather than an empty list.
func (ff *flowFlags) filter(cfg config.Config, now time.Time) (store.Filter, error) {
	f := store.Filter{Vendor: ff.vendor, Category: ff.category, Client: ff.client, User: ff.user, Run: ff.run, Detector: ff.detector,
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
	if ff.limit < 0 {
		return f, fmt.Errorf("--limit: want 0 (all) or more, got %d", ff.limit)
	}
	if err := checkAction(ff.action); err != nil {
		return f, fmt.Errorf("--action: %w", err)
	}
	if err := checkCategory(ff.category); err != nil {
		return f, fmt.Errorf("--category: %w", err)
	}
	if err := checkAPI(ff.api); err != nil {
		return f, fmt.Errorf("--api: %w", err)
	}
	if ff.vendor == "" && ff.detector == "" {
		return f, nil
	}
	// Vendors and detectors come from the config and its rule files too.
	pol, err := loadPolicy(cfg, cfg.Rules)
	if err != nil {
		return f, fmt.Errorf("the rules of the configuration, which name vendors and detectors: %w", err)
	}
	if ff.vendor != "" {
		if _, ok := pol.catalog.Vendor(ff.vendor); !ok {
			return f, fmt.Errorf("--vendor: %w", unknownVendor(pol.catalog, ff.vendor))
		}
	}
	if ff.detector != "" {
		if f.Detector, err = checkDetector(pol, ff.detector); err != nil {
			return f, fmt.Errorf("--detector: %w", err)
		}
	}
	return f, nil
}

func checkAction(a string) error {
	switch a {
	case "", "allow", "alert", "redact", "block":
		return nil
	}
	msg := fmt.Sprintf("unknown action %q", a)
	if s := closestName(a, []string{"allow", "alert", "redact", "block"}); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return errors.New(msg + "; want allow, alert, redact or block")
}

// checkAPI refuses an API name no extractor recognises.
func checkAPI(api string) error {
	names := extract.APIs()
	if api == "" || slices.Contains(names, api) {
		return nil
	}
	msg := fmt.Sprintf("unknown API %q", api)
	if s := closestName(api, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	slices.Sort(names)
	return fmt.Errorf("%s; the APIs are %s", msg, strings.Join(names, ", "))
}

// checkDetector returns the full ID of a detector named in full or without its namespace
// (aws-access-key-id), as rule files may name it, or an error naming the closest.
func checkDetector(pol *policy, id string) (string, error) {
	var full []string
	for _, d := range pol.engine.Detectors() {
		full = append(full, d.Meta().ID)
	}
	if slices.Contains(full, id) {
		return id, nil
	}
	var short []string
	for _, f := range full {
		if _, s, ok := strings.Cut(f, "."); ok && s == id {
			short = append(short, f)
		}
	}
	if len(short) == 1 {
		return short[0], nil
	}
	msg := fmt.Sprintf("unknown detector %q", id)
	if s := closestName(id, full); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return "", errors.New(msg + "; the built-in detectors and those of the config's rule files are known")
}

// The --json of a listing, an export and flows show: detected values are never in clear
// unless --reveal, which is recorded.

func cmdFlows(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "show" {
		return cmdFlowsShow(args[1:], stdout, stderr)
	}
	c := newCommand("flows", flowsHelp, stdout)
	var ff flowFlags
	ff.register(c.fs, "24h", 50, true)
	export := c.fs.String("export", "", "write the matching flows as evidence: jsonl or har (with --out)")
	out := c.fs.String("out", "", "file to export to (0600)")
	reveal := c.fs.Bool("reveal", false, "export: write the detected values in clear (recorded in DIR/audit.log)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		msg := fmt.Sprintf("unexpected argument %q", positional[0])
		if s := closestName(positional[0], []string{"show"}); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError{fmt.Errorf("%s; %s", msg, c.hint())}
	}
	if err := checkExportFlags(*export, *out, *reveal, ff.asJSON, `--reveal applies to --export (and to "flows show ID --body")`,
		"--json is for listings; --export jsonl writes JSON lines"); err != nil {
		return err
	}
	cfg, err := ff.config()
	if err != nil {
		return usageError{err}
	}
	if *export != "" && !c.set("limit") {
		ff.limit = 0 // evidence is every matching flow unless told otherwise
	}
	f, err := ff.filter(cfg, time.Now())
	if err != nil {
		return usageError{err}
	}
	src, closeSrc, err := ff.fleet.source(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeSrc()
	ctx := context.Background()
	if *export != "" {
		return exportFlows(ctx, src, f, *export, *out, *reveal, stderr)
	}
	n := 0
	var more bool
	if ff.asJSON {
		enc := json.NewEncoder(stdout)
		more, err = src.Each(ctx, f, readOptions{}, func(v *view) error { n++; return enc.Encode(toWire(v)) })
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tFLOW\tCLIENT\tVENDOR\tAPI\tACTION\tFINDINGS")
		more, err = src.Each(ctx, f, readOptions{}, func(v *view) error {
			n++
			client := v.Client.Addr
			if v.Client.User != "" {
				client += " (" + v.Client.User + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Start.Local().Format("2006-01-02 15:04:05"), v.ID, client,
				orDash(v.Vendor.ID, v.Host), orDash(v.API, ""), actionOf(v.Verdict), summarize(v.Findings))
			return nil
		})
		_ = tw.Flush()
	}
	if err != nil {
		return err
	}
	switch {
	case n == 0:
		fmt.Fprintln(stderr, "no flows match")
	case more:
		fmt.Fprintf(stderr, "%s shown, newest first; more match: --limit N to see more (0: all)\n", plural(n, "flow", ""))
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
	c := newCommand("flows show", flowsShowHelp, stdout)
	configPath := c.fs.String("config", "", "config file")
	data := c.fs.String("data", "", "data directory (default ./customs-data)")
	adminAddr := c.fs.String("admin", "", "admin address of the running customs serve (default: the config's)")
	body := c.fs.Bool("body", false, "add the headers, bodies and the texts customs read, detected values masked")
	reveal := c.fs.Bool("reveal", false, "with --body: the detected values in clear (recorded in DIR/audit.log)")
	asJSON := c.fs.Bool("json", false, "the record as JSON")
	var fr fleetRead
	fr.register(c.fs)
	ids, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		return usageError{fmt.Errorf("flows show takes one flow ID; %s", c.hint())}
	}
	if *reveal && !*body {
		// What is revealed is the bodies: a reveal without them would be recorded for nothing.
		return usageError{errors.New("--reveal shows the bodies in clear: give --body too")}
	}
	ff := flowFlags{configPath: *configPath, data: *data, admin: *adminAddr, fleet: fr}
	cfg, err := ff.config()
	if err != nil {
		return usageError{err}
	}
	src, closeSrc, err := ff.fleet.source(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeSrc()
	o := readOptions{}
	switch {
	case *reveal:
		o = readOptions{bodies: clearBodies, texts: true, reveal: "flow " + ids[0]}
	case *body:
		o = readOptions{bodies: maskedBodies, texts: true}
	}
	v, err := src.Get(context.Background(), ids[0], o)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return usageError{err}
		}
		return err
	}
	if *reveal {
		// Shown decoded, as the masked view is.
		m, err := newMasker(cfg)
		if err != nil {
			return err
		}
		texts := v.texts
		v = m.revealed(&v.Record, false)
		v.texts = texts
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(toWire(v))
	}
	printRecord(stdout, v)
	if *body {
		printBodies(stdout, v)
	}
	return nil
}

func printRecord(w io.Writer, v *view) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, val string) {
		if val != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, val)
		}
	}
	r := &v.Record
	row("flow", r.ID)
	row("time", r.Start.Local().Format(time.RFC3339Nano))
	row("duration", r.Duration().String())
	row("source", string(r.Source)+", "+string(r.Mode))
	row("client", r.Client.Addr)
	row("user", r.Client.User)
	if r.Client.Run != "" {
		row("run", r.Client.Run+" ("+r.Client.Command+")")
	}
	request := r.Method + " " + r.Host + shownPath(v)
	if v.HasBodies && r.URL != "" {
		request = r.Method + " " + r.URL // with the query: masked, or revealed
	}
	row("request", request)
	row("server", r.Server)
	row("tls", strings.TrimSpace(r.TLSVersion+" "+r.ALPN))
	row("ja4", r.JA4)
	if r.Vendor.ID != "" {
		row("vendor", fmt.Sprintf("%s (%s, %s, %s)", r.Vendor.ID, r.Vendor.Name, r.Vendor.Category, r.Vendor.Country))
	}
	row("api", r.API)
	row("model", r.Model)
	row("served by", r.ServedModel)
	if len(r.Params) > 0 {
		var ps []string
		for _, k := range slices.Sorted(maps.Keys(r.Params)) {
			ps = append(ps, k+"="+r.Params[k])
		}
		row("params", strings.Join(ps, " "))
	}
	row("status", fmt.Sprint(r.Status))
	row("bytes", fmt.Sprintf("%d out, %d in", r.RequestBytes, r.ResponseBytes))
	verdict := string(actionOf(r.Verdict))
	if r.Verdict.Policy != "" {
		verdict += " (policy " + r.Verdict.Policy + ")"
	}
	row("verdict", verdict)
	row("reason", r.Verdict.Message)
	for _, n := range r.Notes {
		row("note", n)
	}
	for _, m := range r.Marks {
		row("mark", string(m))
	}
	errText := r.Error
	if !v.masked {
		errText = scrubURL(r.Error, r.URL, har.MaskURL(flow.MaskURL(r.URL, r.Findings)))
	}
	row("error", errText)
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

// printBodies prints the request headers and body, the texts customs read in the request, and
// the response body: as the view holds them (masked unless revealed).
func printBodies(w io.Writer, v *view) {
	r := &v.Record
	if len(r.RequestHeader) > 0 {
		fmt.Fprintln(w, "\n--- request headers")
		printHeaders(w, r.RequestHeader)
	}
	state := ", values masked"
	if !v.masked {
		state = ", values in clear"
	}
	if r.ContentEncoding != "" {
		state = ", " + r.ContentEncoding + "-encoded as stored" + state
	}
	fmt.Fprintf(w, "\n--- request body (%d bytes%s%s)\n%s\n", len(r.RequestBody), truncatedNote(r.RequestTruncated), state, terminalSafe(r.RequestBody))
	if len(v.texts) > 0 {
		fmt.Fprintf(w, "--- read by customs (%s)\n", plural(len(v.texts), "segment", ""))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, sg := range v.texts {
			if sg.Media != "" {
				fmt.Fprintf(tw, "%s\t[%s, %d bytes]\n", sg.Path, sg.Media, sg.Size)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\n", sg.Path, quoteShort(sg.Text, 200))
		}
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "--- response body (%d bytes%s)\n%s\n", len(r.ResponseBody), truncatedNote(r.ResponseTruncated), terminalSafe(r.ResponseBody))
}

// terminalSafe is a body as a terminal may show it. A body is whatever a client or a vendor
// sent: its escape sequences would drive the responder's terminal (retitle it, rewrite what is
// on screen), so control bytes are written as \xNN. A body that is not text (protobuf, an image)
// is shown as a hex dump, whose right column still shows the text inside it.
func terminalSafe(b []byte) string {
	if !utf8.Valid(b) {
		return strings.TrimSuffix(hex.Dump(b), "\n")
	}
	controls := 0
	for _, r := range string(b) {
		if isTerminalControl(r) {
			controls++
		}
	}
	switch {
	case controls == 0:
		return string(b)
	case controls*20 > len(b):
		// Binary (one byte in twenty a control): hexdump -C.
		return strings.TrimSuffix(hex.Dump(b), "\n")
	}
	var sb strings.Builder
	for _, r := range string(b) {
		if isTerminalControl(r) {
			fmt.Fprintf(&sb, "\\x%02x", r)
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// isTerminalControl: the C0 controls but tab and line ends, DEL, and the C1 controls (U+009B is
// a CSI to some terminals).
func isTerminalControl(r rune) bool {
	return r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r >= 0x7f && r < 0xa0
}

func printHeaders(w io.Writer, h map[string][]string) {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, v := range h[n] {
			fmt.Fprintf(w, "%s: %s\n", n, v)
		}
	}
}

func truncatedNote(t bool) string {
	if t {
		return ", truncated"
	}
	return ""
}

// exportFlows writes the matching flows as JSON lines or HAR 1.2, values masked unless reveal.
func exportFlows(ctx context.Context, src flowSource, f store.Filter, format, path string, reveal bool, stderr io.Writer) error {
	o := readOptions{bodies: maskedBodies}
	if reveal {
		o = readOptions{bodies: clearBodies, reveal: fmt.Sprintf("export to %s (filter %s)", path, filterToQuery(f).Encode())}
	}
	n, more, err := writeEvidence(ctx, src, []exportPart{{f, o}}, format, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %s to %s (%s%s)\n", plural(n, "flow", ""), path, format, maskedState(reveal))
	if more {
		fmt.Fprintf(stderr, "more flows match than --limit %d exported\n", f.Limit)
	}
	return nil
}

// exportPart is one read of an export: its filter, and how bodies are read (a reveal is
// recorded per read, with its filter).
type exportPart struct {
	f store.Filter
	o readOptions
}

// writeEvidence writes the flows of each part, in turn, to path (0600) as JSON lines or HAR
// 1.2: n flows, and more when a part had more flows than its limit. A file that could not be
// written whole is said to be incomplete.
func writeEvidence(ctx context.Context, src flowSource, parts []exportPart, format, path string) (n int, more bool, err error) {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, false, usageError{fmt.Errorf("--out: %w", err)}
	}
	var hw *har.Writer
	enc := json.NewEncoder(out)
	if format == "har" {
		// A masked view is masked already, by the same rules the writer applies (flow.MaskURL,
		// har.MaskURL, har.MaskHeaders) and more: the writer must not mask it again, which
		// would shift the path spans of its findings onto the masked text.
		hw = har.NewWriter(out, har.WriteOptions{RevealHeaders: true})
	}
	for _, part := range parts {
		var m bool
		m, err = src.Each(ctx, part.f, part.o, func(v *view) error {
			n++
			rec := v.Record
			rec.Verdict.Action = actionOf(rec.Verdict)
			if hw != nil {
				return hw.Add(har.Entry{Flow: rec.Flow(), ResponseBody: rec.ResponseBody})
			}
			v.Record = rec
			return enc.Encode(toWire(v))
		})
		more = more || m
		if err != nil {
			break
		}
	}
	if err == nil && hw != nil {
		err = hw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr // evidence that did not reach the disk is not exported
	}
	if err != nil {
		return n, more, fmt.Errorf("export to %s (%s written, the file is incomplete): %w", path, plural(n, "flow", ""), err)
	}
	return n, more, nil
}

func maskedState(reveal bool) string {
	if reveal {
		return ", values in clear"
	}
	return ", values masked"
}

// checkExportFlags checks --export, --out and --reveal as flows and exposure take them;
// revealAlone and withJSON are the command's own words for those two mistakes.
func checkExportFlags(export, out string, reveal, asJSON bool, revealAlone, withJSON string) error {
	switch {
	case export == "" && out != "":
		return usageError{errors.New("--out is where --export writes: give --export jsonl or --export har")}
	case export == "" && reveal:
		return usageError{errors.New(revealAlone)}
	case export != "" && export != "jsonl" && export != "har":
		return usageError{fmt.Errorf("--export: want jsonl or har, got %q", export)}
	case export != "" && out == "":
		return usageError{errors.New("--export needs --out FILE")}
	case export != "" && asJSON:
		return usageError{errors.New(withJSON)}
	}
	return nil
}
