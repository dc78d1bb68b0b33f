package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/customs-dev/customs/report"
	"github.com/customs-dev/customs/store"
)

var exposureHelp = help{
	usage: `customs exposure VENDOR|HOST [--since 30d] [--until T] [--client ADDR] [--user U]
                 [--detector ID] [--action A] [--depth 4] [--verified] [--json]
customs exposure VENDOR|HOST [filters] --export har|jsonl --out FILE [--reveal]`,
	about: `When a vendor announces a breach: every flow whose data reached it, directly (flows to
the vendor) or through the supply chain (flows to a vendor that has it as a subprocessor or
another supply-chain link, followed transitively up to --depth links, each company once per
path), grouped by client, with the route (client → openai → mixpanel), the number of flows,
the first and last, and what was found in them: classes, detectors, masked previews. VENDOR
is a catalog vendor ID, a host (a vendor's, or any host outside the catalog:
llm.internal.example) or a company the catalog names as a subprocessor. --json (schema
customs.exposure, report/SCHEMA.md) lists the flows that carried findings; --export writes
every flow above as evidence, masked unless --reveal (recorded in DIR/audit.log).
While customs serve runs, serve reads the store for this command (admin API).`,
	examples: `customs exposure mixpanel --since 180d
customs exposure mixpanel --since 180d --json > mixpanel-exposure.json
customs exposure mixpanel --since 180d --export har --out mixpanel-evidence.har
customs exposure llm.internal.example --client 10.1.2.3
customs exposure openai --verified --depth 1`,
}

// cmdExposure is customs exposure.
func cmdExposure(args []string, stdout, stderr io.Writer) error {
	c := newCommand("exposure", exposureHelp, stdout)
	var ff flowFlags
	ff.register(c.fs, "30d", 0, false)
	c.fs.Lookup("json").Usage = "the exposure as JSON (schema customs.exposure)"
	depth := c.fs.Int("depth", 4, "the most supply-chain links followed from the vendor a flow went to")
	verified := c.fs.Bool("verified", false, "follow only the supply-chain links the catalog verified")
	export := c.fs.String("export", "", "write every exposed flow as evidence: jsonl or har (with --out)")
	out := c.fs.String("out", "", "file to export to (0600)")
	reveal := c.fs.Bool("reveal", false, "export: write the detected values in clear (recorded in DIR/audit.log)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usageError{fmt.Errorf("want one vendor ID or host: customs exposure mixpanel; %s", c.hint())}
	}
	for _, name := range []string{"vendor", "category", "host", "api", "limit"} {
		if c.set(name) {
			return usageError{fmt.Errorf("--%s does not apply: the vendor (or host) is the argument, and every flow that reached it counts", name)}
		}
	}
	if *depth < 1 {
		return usageError{fmt.Errorf("--depth: want 1 or more, got %d", *depth)}
	}
	if err := checkExportFlags(*export, *out, *reveal, ff.asJSON, "--reveal applies to --export",
		"--json prints the exposure; --export writes the flows: give one"); err != nil {
		return err
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
	cat, err := reportCatalog(cfg)
	if err != nil {
		return err
	}
	target, err := report.ResolveTarget(cat, positional[0])
	if err != nil {
		return usageError{err}
	}
	ctx := context.Background()
	src, closeSrc, err := ff.fleet.source(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeSrc()
	var digests report.DigestSource
	switch s := src.(type) {
	case *storeSource:
		digests = report.StoreDigests{Store: s.st}
	case *apiSource:
		digests = apiDigests{s}
	case *fleetSource:
		digests = report.EachDigests{Each: s.records}
	default:
		return fmt.Errorf("exposure cannot read %T", src)
	}
	x, err := report.RunExposure(ctx, digests, target, f, report.ExposureOptions{Catalog: cat, Namer: cfg.Clients.Namer(), Now: now,
		MaxDepth: *depth, VerifiedOnly: *verified})
	if err != nil {
		return err
	}
	switch {
	case *export != "":
		return exportExposure(ctx, src, x, *export, *out, *reveal, stderr)
	case ff.asJSON:
		return report.WriteExposureJSON(stdout, x)
	}
	return report.WriteExposureTable(stdout, x)
}

// apiDigests digests flows through a running serve's admin API.
type apiDigests struct{ a *apiSource }

func (d apiDigests) Digest(ctx context.Context, f store.Filter) (*report.Digest, error) {
	var out report.Digest
	if err := d.a.getJSON(ctx, "/api/report/digest", filterToQuery(f), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// exportExposure writes every flow of the exposure's filters (the vendor's or host's, and each
// vendor's with a path to it) as JSON lines or HAR 1.2, oldest first per filter, masked unless
// reveal, with the flows command's rules: 0600, a reveal recorded before anything is read, an
// incomplete file said to be so.
func exportExposure(ctx context.Context, src flowSource, x *report.Exposure, format, path string, reveal bool, stderr io.Writer) error {
	var parts []exportPart
	for _, f := range x.Filters {
		f.Limit, f.Oldest = 0, true
		o := readOptions{bodies: maskedBodies}
		if reveal {
			o = readOptions{bodies: clearBodies, reveal: fmt.Sprintf("exposure export to %s (target %s; filter %s)", path, x.Target.ID, filterToQuery(f).Encode())}
		}
		parts = append(parts, exportPart{f, o})
	}
	n, _, err := writeEvidence(ctx, src, parts, format, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %s that may have reached %s to %s (%s%s)\n", plural(n, "flow", ""), x.Target.ID, path, format, maskedState(reveal))
	return nil
}
