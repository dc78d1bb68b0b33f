package report

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats are the formats Render writes.
var Formats = []string{"table", "json", "csv", "dot", "mermaid", "html"}

// RenderOptions tune Render.
type RenderOptions struct {
	// Collapse bounds the drawn formats (table, dot, mermaid, html); json and csv hold every
	// client and vendor.
	Collapse CollapseOptions
	// Rows bounds the long lists of the table and html formats (default 20).
	Rows int
}

// Render writes g in format: table (for a terminal), json (the customs.report schema), csv (one
// row per edge), dot and mermaid (the graph), or html (one self-contained page).
func Render(w io.Writer, g *Graph, format string, o RenderOptions) error {
	o.Rows = cmp.Or(o.Rows, 20)
	switch format {
	case "table":
		return renderTable(w, g.Collapse(o.Collapse), o)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(g)
	case "csv":
		return renderCSV(w, g)
	case "dot":
		return renderDOT(w, g.Collapse(o.Collapse))
	case "mermaid":
		return renderMermaid(w, g.Collapse(o.Collapse))
	case "html":
		return renderHTML(w, g, o)
	}
	return fmt.Errorf("unknown format %q; want one of %s", format, strings.Join(Formats, ", "))
}

// Sparkline draws a series as block characters, one per day, scaled to its maximum.
func Sparkline(series []int64) string {
	const bars = "▁▂▃▄▅▆▇█"
	blocks := []rune(bars)
	m := slices.Max(append([]int64{0}, series...))
	var b strings.Builder
	for _, n := range series {
		switch {
		case n == 0:
			b.WriteRune(' ')
		case m == 0:
			b.WriteRune(blocks[0])
		default:
			b.WriteRune(blocks[min(len(blocks)-1, int(float64(n)/float64(m)*float64(len(blocks)-1)+0.5))])
		}
	}
	return b.String()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func fmtDay(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func windowText(g *Graph) string {
	s := fmt.Sprintf("%s to %s (UTC)", fmtTime(g.Window.Since), fmtTime(g.Window.Until))
	if len(g.Filter) > 0 {
		var parts []string
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range g.Filter {
				if !yield(k) {
					return
				}
			}
		}) {
			parts = append(parts, k+"="+g.Filter[k])
		}
		s += ", flows with " + strings.Join(parts, " ")
	}
	return s
}

func lookbackText(g *Graph) string {
	s := fmt.Sprintf("new = first seen in the window, against the %s before it (from %s)", g.Window.Lookback, fmtDay(g.Window.LookbackSince))
	switch {
	case g.Window.Earliest.IsZero():
	case g.Window.Earliest.After(g.Window.LookbackSince.Add(24 * time.Hour)):
		s += fmt.Sprintf("; the store's oldest flow in that span is from %s, so \"new\" means new since then", fmtDay(g.Window.Earliest))
	}
	return s
}

// renderTable writes the report for a terminal: the figures in sentences, then one table per
// section, each cut at o.Rows lines with a note of what was left out.
func renderTable(w io.Writer, g *Graph, o RenderOptions) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	section := func(title string) { p("\n%s\n%s\n", title, strings.Repeat("-", len([]rune(title)))) }
	table := func(header string, rows [][]string, total int, what string) {
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		_ = tw.Flush()
		if total > len(rows) {
			p("(%d more %s: --format json or csv lists them all)\n", total-len(rows), what)
		}
	}
	cut := func(n int) int { return min(n, o.Rows) }

	p("customs supply-chain map: %s\n", windowText(g))
	p("%s flows from %s to %s (%s AI requests, %s to hosts outside the catalog); %s out\n",
		fmtInt(g.Totals.Requests), plural(g.Totals.Clients, "client", "clients"), plural(g.Totals.Vendors, "catalog vendor", "catalog vendors"),
		fmtInt(g.Totals.AIRequests), fmtInt(g.Totals.OutsideCatalog), fmtBytes(g.Totals.BytesOut))
	if f := mapText(g.Totals.Findings); f != "" {
		p("findings: %s in %s; actions: %s\n", f, plural(int(g.Totals.FlowsWithFindings), "flow", "flows"), mapText(g.Totals.Actions))
	}

	section("Concentration of AI traffic")
	for _, s := range g.Concentration.Summary {
		p("%s\n", s)
	}
	if len(g.Concentration.Jurisdictions) > 0 {
		p("\n")
		var rows [][]string
		for _, j := range g.Concentration.Jurisdictions[:cut(len(g.Concentration.Jurisdictions))] {
			rows = append(rows, []string{j.ID, pct(j.RequestShare), fmtInt(j.Requests), fmt.Sprintf("%d (%s)", j.Clients, pct(j.ClientShare)), strings.Join(j.Vendors, ", ")})
		}
		table("HEADQUARTERS\tSHARE\tAI REQUESTS\tCLIENTS\tVENDORS", rows, len(g.Concentration.Jurisdictions), "jurisdictions")
	}
	if n := len(g.Concentration.SingleVendor); n > 0 {
		p("\n")
		var rows [][]string
		for _, c := range g.Concentration.SingleVendor[:cut(n)] {
			rows = append(rows, []string{clientLabel(c.Client, c.Name), c.TopVendor, fmtInt(c.AIRequests)})
		}
		table("SINGLE-VENDOR CLIENT\tVENDOR\tAI REQUESTS", rows, n, "clients")
	}
	if n := len(g.Concentration.Telemetry); n > 0 {
		p("\n")
		var rows [][]string
		for _, t := range g.Concentration.Telemetry[:cut(n)] {
			rows = append(rows, []string{t.Vendor, t.Category, strconv.Itoa(t.ClientCount), fmtInt(t.Requests), fmtBytes(t.BytesOut), orDash(mapText(t.Findings))})
		}
		table("TELEMETRY VENDOR\tCATEGORY\tPROMPTING CLIENTS\tREQUESTS\tOUT\tFINDINGS", rows, n, "vendors")
	}

	section("Vendors")
	var rows [][]string
	for _, v := range g.Vendors {
		share := "-"
		if v.AI && g.Concentration.AIRequests > 0 {
			share = pct(float64(v.Requests) / float64(g.Concentration.AIRequests))
		}
		hq := orDash(v.Headquarters)
		if v.Headquarters != "" && !v.HeadquartersVerified && v.InCatalog {
			hq += "?"
		}
		name := v.Label()
		if v.ID != OutsideCatalog && v.Merged == 0 {
			name = v.ID
		}
		if v.New {
			name += " (new)"
		}
		rows = append(rows, []string{name, orDash(v.Category), hq, fmtInt(v.Requests), share, strconv.Itoa(v.Clients),
			fmtBytes(v.BytesOut), orDash(mapText(v.Findings)), orDash(mapText(v.Actions)), "|" + Sparkline(v.Daily) + "|"})
	}
	table("VENDOR\tCATEGORY\tHQ\tREQUESTS\tAI SHARE\tCLIENTS\tOUT\tFINDINGS\tACTIONS\tPER DAY", rows, len(rows), "vendors")
	if g.Collapsed != nil && g.Collapsed.Vendors > 0 {
		p("(%d vendors merged into \"other vendors\"; --max-vendors N draws more)\n", g.Collapsed.Vendors)
	}
	p("per day: %s to %s, one character a day; HQ? = headquarters not verified\n", first(g.Window.Days), last(g.Window.Days))
	// Where the data may be held and under which law: the catalog's notes, for the vendors used.
	if notes := jurisdictionNotes(g); len(notes) > 0 {
		p("\nJurisdiction notes (from the catalog):\n")
		for _, v := range notes {
			p("  %s (%s): %s\n", v.ID, orDash(v.Headquarters), v.JurisdictionNotes)
		}
	}

	section("Clients → vendors")
	rows = nil
	for _, e := range g.Edges[:cut(len(g.Edges))] {
		rows = append(rows, []string{clientLabelOf(g, e.Client), e.Vendor, fmtInt(e.Requests), fmtBytes(e.BytesOut),
			orDash(mapText(e.Findings)), orDash(mapText(e.Actions)), newMark(e.New)})
	}
	table("CLIENT\tVENDOR\tREQUESTS\tOUT\tFINDINGS\tACTIONS\tNEW", rows, len(g.Edges), "edges")
	if g.Collapsed != nil && g.Collapsed.Clients > 0 {
		p("(%d clients merged into \"other clients\"; --max-clients N shows more)\n", g.Collapsed.Clients)
	}

	section("Supply chain (vendor → whom it passes data to)")
	rows = nil
	for _, s := range g.SupplyChain[:cut(len(g.SupplyChain))] {
		rows = append(rows, []string{s.Vendor, subLabelOf(g, s.Subprocessor), s.Kind, verifiedText(s.Verified), fmtInt(s.Requests),
			orDash(mapText(s.Findings)), orDash(sourcesText(s))})
	}
	table("VENDOR\tSUBPROCESSOR\tKIND\tVERIFIED\tREQUESTS CARRIED\tFINDINGS\tSOURCE", rows, len(g.SupplyChain), "links")

	section("Changes")
	p("%s\n", lookbackText(g))
	if len(g.Changes.NewVendors) == 0 && len(g.Changes.NewEdges) == 0 {
		p("nothing new\n")
	}
	for _, v := range g.Changes.NewVendors[:cut(len(g.Changes.NewVendors))] {
		p("new vendor %s (%s) on %s, flow %s, used by %s\n", v.Vendor, v.Name, fmtDay(v.FirstSeen.Time), v.FirstSeen.Flow, strings.Join(v.Clients, ", "))
	}
	for _, e := range g.Changes.NewEdges[:cut(len(g.Changes.NewEdges))] {
		p("%s started using %s on %s (flow %s; %s in the window)\n", e.Client, e.Vendor, fmtDay(e.FirstSeen.Time), e.FirstSeen.Flow, plural(int(e.Requests), "request", "requests"))
	}
	if n := len(g.Changes.NewEdges); n > o.Rows {
		p("(%d more new client → vendor edges)\n", n-o.Rows)
	}

	section("Models")
	if len(g.Models.Uses) == 0 {
		p("no flow named a model\n")
	} else {
		rows = nil
		for _, u := range g.Models.Uses[:cut(len(g.Models.Uses))] {
			rows = append(rows, []string{clientLabel(u.Client, u.Name), u.Vendor, orDash(u.Model), orDash(u.Served), fmtInt(u.Requests), fmtDay(u.First.Time), fmtDay(u.Last.Time)})
		}
		table("CLIENT\tVENDOR\tMODEL\tSERVED BY\tREQUESTS\tFIRST\tLAST", rows, len(g.Models.Uses), "model uses")
		for _, c := range g.Models.Changes {
			p("%s %s: served by %s, then by %s from %s (flow %s)\n", c.Vendor, c.Model, c.From, c.To, fmtTime(c.Time), c.Flow)
		}
	}

	section("Top findings (masked)")
	if len(g.TopFindings) == 0 {
		p("none\n")
	} else {
		rows = nil
		for _, f := range g.TopFindings[:cut(len(g.TopFindings))] {
			rows = append(rows, []string{f.Detector, f.Severity, f.Preview, shortHash(f.Hash), fmtInt(f.Flows), strconv.Itoa(len(f.Clients)), strings.Join(vendorNames(f.Vendors), ", "), fmtDay(f.Last.Time)})
		}
		table("DETECTOR\tSEVERITY\tPREVIEW\tHASH\tFLOWS\tCLIENTS\tVENDORS\tLAST", rows, int(g.FindingValues), "finding values")
	}

	if len(g.Hosts) > 0 {
		section("Hosts outside the catalog")
		rows = nil
		for _, h := range g.Hosts[:cut(len(g.Hosts))] {
			rows = append(rows, []string{h.Host, fmtInt(h.Requests), fmtBytes(h.BytesOut), orDash(mapText(h.Findings))})
		}
		table("HOST\tREQUESTS\tOUT\tFINDINGS", rows, len(g.Hosts)+int(g.OtherHosts.Hosts), "hosts")
	}
	return bw.Flush()
}

func first(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return ss[0]
}

func last(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return ss[len(ss)-1]
}

func newMark(b bool) string {
	if b {
		return "new"
	}
	return ""
}

func verifiedText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func sourcesText(s *SupplyEdge) string {
	var out []string
	for _, src := range s.Sources {
		out = append(out, src.URL)
	}
	if len(out) == 0 {
		return s.SourceNote
	}
	return strings.Join(out, " ")
}

func vendorNames(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = cmp.Or(id, "(outside the catalog)")
	}
	return out
}

func clientLabel(id, name string) string {
	if name == "" {
		return id
	}
	return name + " (" + id + ")"
}

func clientLabelOf(g *Graph, id string) string {
	for _, c := range g.Clients {
		if c.ID == id {
			return c.Label()
		}
	}
	return id
}

func subLabelOf(g *Graph, id string) string {
	for _, s := range g.Subprocessors {
		if s.ID == id {
			if s.Merged > 0 {
				return s.Label()
			}
			return s.ID
		}
	}
	return id
}

// shortHash cuts a keyed hash to its algorithm and first 16 hex digits, as flows show it.
func shortHash(h string) string {
	if i := strings.IndexByte(h, ':'); i >= 0 && len(h) > i+17 {
		return h[:i+17]
	}
	return h
}

// renderCSV writes one row per edge: client → vendor traffic, then vendor → subprocessor links.
func renderCSV(w io.Writer, g *Graph) error {
	cw := &safeCSV{csv.NewWriter(w)}
	_ = cw.Write([]string{"edge", "from", "from_name", "to", "to_name", "category", "headquarters", "kind", "verified",
		"requests", "bytes_out", "bytes_in", "flows_with_findings", "findings", "worst_class", "actions", "first_seen", "first_flow", "new", "sources"})
	clients := map[string]*Client{}
	for _, c := range g.Clients {
		clients[c.ID] = c
	}
	vendors := map[string]*Vendor{}
	for _, v := range g.Vendors {
		vendors[v.ID] = v
	}
	subs := map[string]*Subprocessor{}
	for _, s := range g.Subprocessors {
		subs[s.ID] = s
	}
	kv := func(m map[string]int64) string {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		})
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
		return strings.Join(parts, ";")
	}
	for _, e := range g.Edges {
		v := vendors[e.Vendor]
		_ = cw.Write([]string{"traffic", e.Client, clients[e.Client].Name, e.Vendor, v.Name, v.Category, v.Headquarters, "", "",
			strconv.FormatInt(e.Requests, 10), strconv.FormatInt(e.BytesOut, 10), strconv.FormatInt(e.BytesIn, 10),
			strconv.FormatInt(e.FlowsWithFindings, 10), kv(e.Findings), e.WorstClass, kv(e.Actions),
			rfc3339(e.FirstSeen.Time), e.FirstSeen.Flow, strconv.FormatBool(e.New), ""})
	}
	for _, s := range g.SupplyChain {
		sub := subs[s.Subprocessor]
		var urls []string
		for _, src := range s.Sources {
			urls = append(urls, src.URL)
		}
		_ = cw.Write([]string{"supply", s.Vendor, vendors[s.Vendor].Name, s.Subprocessor, sub.Name, sub.Category, sub.Country, s.Kind,
			strconv.FormatBool(s.Verified), strconv.FormatInt(s.Requests, 10), strconv.FormatInt(s.BytesOut, 10), strconv.FormatInt(s.BytesIn, 10),
			strconv.FormatInt(s.FlowsWithFindings, 10), kv(s.Findings), s.WorstClass, kv(s.Actions), "", "", "", strings.Join(urls, " ")})
	}
	cw.Flush()
	return cw.Error()
}

// safeCSV keeps a spreadsheet from running a cell as a formula: names come from the config and
// the catalog's extensions, hosts from requests, and a cell starting with =, +, -, @ or a
// control character is prefixed with an apostrophe (OWASP's advice for CSV injection).
type safeCSV struct{ *csv.Writer }

func (c *safeCSV) Write(row []string) error {
	for i, cell := range row {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			row[i] = "'" + cell
		}
	}
	return c.Writer.Write(row)
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// dotID and the label quoting follow the DOT language: every ID is a quoted string.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// renderDOT writes the graph for Graphviz: three ranks left to right, edges weighted by
// requests and coloured by their worst finding class, unverified supply links dashed.
func renderDOT(w io.Writer, g *Graph) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("// customs supply-chain map: %s\n", windowText(g))
	p("digraph customs {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n  edge [arrowsize=0.6];\n")
	maxReq := maxRequests(g)
	p("  subgraph cluster_clients {\n    label=\"Clients\"; color=\"#dddddd\";\n")
	for _, c := range g.Clients {
		p("    %s [label=%s, fillcolor=\"#f7f7f7\"];\n", dotQuote("c:"+c.ID), dotQuote(c.Label()))
	}
	p("  }\n  subgraph cluster_vendors {\n    label=\"Vendors\"; color=\"#dddddd\";\n")
	for _, v := range g.Vendors {
		fill := "#fff6e8"
		if v.AI {
			fill = "#eaf2ff"
		}
		label := v.Label()
		if v.Headquarters != "" {
			label += "\n" + v.Headquarters
		}
		if v.New {
			label += " (new)"
		}
		p("    %s [label=%s, fillcolor=%s];\n", dotQuote("v:"+v.ID), dotQuote(label), dotQuote(fill))
	}
	p("  }\n  subgraph cluster_subprocessors {\n    label=\"Subprocessors\"; color=\"#dddddd\";\n")
	for _, s := range g.Subprocessors {
		p("    %s [label=%s, fillcolor=\"#f3f0fa\"];\n", dotQuote("s:"+s.ID), dotQuote(s.Label()))
	}
	p("  }\n")
	for _, e := range g.Edges {
		p("  %s -> %s [penwidth=%.2f, color=%s, tooltip=%s];\n", dotQuote("c:"+e.Client), dotQuote("v:"+e.Vendor),
			penwidth(e.Requests, maxReq), dotQuote(classColor(e.WorstClass)), dotQuote(countsText(&e.Counts)))
	}
	for _, s := range g.SupplyChain {
		style := ""
		if !s.Verified {
			style = ", style=dashed"
		}
		p("  %s -> %s [penwidth=%.2f, color=%s, label=%s%s];\n", dotQuote("v:"+s.Vendor), dotQuote("s:"+s.Subprocessor),
			penwidth(s.Requests, maxReq), dotQuote(classColor(s.WorstClass)), dotQuote(s.Kind), style)
	}
	p("}\n")
	return bw.Flush()
}

func maxRequests(g *Graph) int64 {
	m := int64(1)
	for _, e := range g.Edges {
		m = max(m, e.Requests)
	}
	for _, e := range g.SupplyChain {
		m = max(m, e.Requests)
	}
	return m
}

func penwidth(n, maxReq int64) float64 {
	return 0.5 + 7.5*float64(n)/float64(maxReq)
}

// renderMermaid writes the graph as a Mermaid flowchart: IDs are numbered (Mermaid IDs allow
// few characters), labels quoted, edges labelled with their requests and styled by their worst
// finding class through linkStyle.
func renderMermaid(w io.Writer, g *Graph) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	label := func(s string) string {
		// Mermaid reads #quot; and friends; a quote or a bracket would end the label.
		return `"` + strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s) + `"`
	}
	ids := map[string]string{}
	id := func(key string) string {
		if x, ok := ids[key]; ok {
			return x
		}
		x := fmt.Sprintf("n%d", len(ids))
		ids[key] = x
		return x
	}
	p("%%%% customs supply-chain map: %s\n", windowText(g))
	p("flowchart LR\n")
	p("  subgraph clients [Clients]\n")
	for _, c := range g.Clients {
		p("    %s[%s]\n", id("c:"+c.ID), label(c.Label()))
	}
	p("  end\n  subgraph vendors [Vendors]\n")
	for _, v := range g.Vendors {
		l := v.Label()
		if v.Headquarters != "" {
			l += " · " + v.Headquarters
		}
		if v.New {
			l += " (new)"
		}
		p("    %s[%s]\n", id("v:"+v.ID), label(l))
	}
	p("  end\n  subgraph subprocessors [Subprocessors]\n")
	for _, s := range g.Subprocessors {
		p("    %s[%s]\n", id("s:"+s.ID), label(s.Label()))
	}
	p("  end\n")
	var styles []string
	maxReq := maxRequests(g)
	n := 0
	for _, e := range g.Edges {
		p("  %s -->|%s| %s\n", id("c:"+e.Client), label(fmtInt(e.Requests)), id("v:"+e.Vendor))
		styles = append(styles, fmt.Sprintf("  linkStyle %d stroke:%s,stroke-width:%.1fpx", n, classColor(e.WorstClass), penwidth(e.Requests, maxReq)))
		n++
	}
	for _, s := range g.SupplyChain {
		arrow := "-->"
		if !s.Verified {
			arrow = "-.->"
		}
		p("  %s %s|%s| %s\n", id("v:"+s.Vendor), arrow, label(s.Kind), id("s:"+s.Subprocessor))
		styles = append(styles, fmt.Sprintf("  linkStyle %d stroke:%s,stroke-width:%.1fpx", n, classColor(s.WorstClass), penwidth(s.Requests, maxReq)))
		n++
	}
	for _, s := range styles {
		p("%s\n", s)
	}
	return bw.Flush()
}

// jurisdictionNotes are the vendors in g with the catalog's jurisdiction notes, in g's order.
func jurisdictionNotes(g *Graph) []*Vendor {
	var out []*Vendor
	for _, v := range g.Vendors {
		if v.JurisdictionNotes != "" {
			out = append(out, v)
		}
	}
	return out
}
