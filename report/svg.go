package report

import (
	"bufio"
	"cmp"
	"fmt"
	"html"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// SVGOptions tune RenderSVG.
type SVGOptions struct {
	// Width is the drawing's width in pixels (default 1200); its height follows from the
	// longest column.
	Width int
	// RowHeight is the vertical space of one node (default 30).
	RowHeight int
	// IDPrefix prefixes the ids of the SVG's elements, so that several drawings can share a
	// page.
	IDPrefix string
	// Href, when set, makes nodes links: it returns the URL of a node (column "client",
	// "vendor" or "subprocessor"; the node's ID), "" for none. Relative URLs keep a
	// self-contained page self-contained.
	Href func(column, id string) string
	// Title is the drawing's accessible title (default "Supply-chain map").
	Title string
}

// ClassColors are the colours of the finding classes on the map (edges are coloured by the
// worst class they carried); "" is an edge without findings.
var ClassColors = map[string]string{
	"secret": "#d62728", "record": "#8c564b", "pii": "#ff7f0e", "marker": "#9467bd", "document": "#1f77b4", "code": "#17becf",
	"": "#9aa5b1",
}

const otherClassColor = "#8c564b"

func classColor(c string) string {
	if col, ok := ClassColors[c]; ok {
		return col
	}
	return otherClassColor
}

// RenderSVG draws g as three columns — clients, vendors, subprocessors — with an edge for
// every client → vendor and vendor → subprocessor link, its width growing with the requests it
// carried and its colour that of the worst finding class on it (ClassColors); a supply-chain
// link the catalog has not verified is dashed. Every node and edge has a tooltip with its
// figures. RenderSVG draws every node it is given: pass g.Collapse(...) for a large graph. The
// output is a standalone <svg> element with no external references (no fonts, images or
// scripts), fit for a self-contained page.
func RenderSVG(w io.Writer, g *Graph, o SVGOptions) error {
	o.Width = cmp.Or(o.Width, 1200)
	o.RowHeight = cmp.Or(o.RowHeight, 30)
	o.Title = cmp.Or(o.Title, "Supply-chain map")
	l := layout(g, o)
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p(`<svg xmlns="http://www.w3.org/2000/svg" class="customs-map" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-labelledby="%stitle" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`+"\n",
		o.Width, l.height, o.Width, l.height, esc(o.IDPrefix))
	p(`<title id="%stitle">%s</title>`+"\n", esc(o.IDPrefix), esc(o.Title))
	for i, h := range []string{"Clients", "Vendors", "Subprocessors"} {
		p(`<text x="%d" y="24" font-weight="600" font-size="14" fill="#333">%s</text>`+"\n", l.colX[i], esc(h))
	}
	if len(g.Clients) == 0 && len(g.Vendors) == 0 {
		p(`<text x="%d" y="60" fill="#666">No flows in the window.</text>`+"\n", l.colX[0])
	}

	// Edges first, under the nodes; thin ones last, so that they stay visible over thick ones.
	maxReq := int64(1)
	for _, e := range g.Edges {
		maxReq = max(maxReq, e.Requests)
	}
	for _, e := range g.SupplyChain {
		maxReq = max(maxReq, e.Requests)
	}
	width := func(n int64) float64 { return 1.25 + 11*math.Sqrt(float64(n)/float64(maxReq)) }
	p(`<g class="edges" fill="none" stroke-opacity="0.55">` + "\n")
	edges := slices.Clone(g.Edges)
	slices.SortStableFunc(edges, func(x, y *Edge) int { return cmp.Compare(y.Requests, x.Requests) })
	for _, e := range edges {
		a, aok := l.pos["c:"+e.Client]
		b, bok := l.pos["v:"+e.Vendor]
		if !aok || !bok {
			continue
		}
		tip := fmt.Sprintf("%s → %s: %s", l.label["c:"+e.Client], l.label["v:"+e.Vendor], countsText(&e.Counts))
		if e.New {
			tip += "; new in the window"
		}
		curve(bw, l.colX[0]+l.nodeW, a, l.colX[1], b, width(e.Requests), classColor(e.WorstClass), "", tip)
	}
	supply := slices.Clone(g.SupplyChain)
	slices.SortStableFunc(supply, func(x, y *SupplyEdge) int { return cmp.Compare(y.Requests, x.Requests) })
	for _, s := range supply {
		a, aok := l.pos["v:"+s.Vendor]
		b, bok := l.pos["s:"+s.Subprocessor]
		if !aok || !bok {
			continue
		}
		dash := ""
		state := "verified"
		if !s.Verified {
			dash, state = "6 4", "not verified"
		}
		tip := fmt.Sprintf("%s → %s: %s (%s); carries %s", l.label["v:"+s.Vendor], l.label["s:"+s.Subprocessor], s.Kind, state, countsText(&s.Counts))
		if s.Purpose != "" {
			tip += "; purpose: " + s.Purpose
		}
		curve(bw, l.colX[1]+l.nodeW, a, l.colX[2], b, width(s.Requests), classColor(s.WorstClass), dash, tip)
	}
	p("</g>\n")

	// Nodes.
	node := func(column, key, id string, col int, fill, stroke, label, badge, tip string, bold bool) {
		y := l.pos[key] - float64(l.nodeH)/2
		href := ""
		if o.Href != nil {
			href = o.Href(column, id)
		}
		if href != "" {
			p(`<a href="%s">`, esc(href))
		}
		p(`<g class="node %s"><title>%s</title>`, column, esc(tip))
		p(`<rect x="%d" y="%.1f" width="%d" height="%d" rx="4" fill="%s" stroke="%s" stroke-width="1.5"/>`, l.colX[col], y, l.nodeW, l.nodeH, fill, stroke)
		weight := ""
		if bold {
			weight = ` font-weight="600"`
		}
		room := l.nodeW - 12
		if badge != "" {
			room -= 7*len(badge) + 8
			p(`<text x="%d" y="%.1f" text-anchor="end" fill="#555" font-size="11">%s</text>`, l.colX[col]+l.nodeW-6, l.pos[key]+4, esc(badge))
		}
		p(`<text x="%d" y="%.1f" fill="#111"%s>%s</text></g>`, l.colX[col]+6, l.pos[key]+4, weight, esc(truncate(label, room/7)))
		if href != "" {
			p(`</a>`)
		}
		p("\n")
	}
	p(`<g class="nodes">` + "\n")
	for _, c := range g.Clients {
		key := "c:" + c.ID
		tip := l.label[key] + ": " + countsText(&c.Counts)
		if c.AIRequests > 0 {
			tip += fmt.Sprintf("; %s AI requests", fmtInt(c.AIRequests))
		}
		fill := "#f7f7f7"
		if c.Merged > 0 {
			fill = "#ececec"
		}
		node("client", key, c.ID, 0, fill, classColor(WorstClass(c.Findings)), l.label[key], "", tip, false)
	}
	for _, v := range g.Vendors {
		key := "v:" + v.ID
		fill := "#fff6e8" // analytics and telemetry
		switch {
		case v.AI:
			fill = "#eaf2ff"
		case v.ID == OutsideCatalog || v.Merged > 0:
			fill = "#ececec"
		}
		tip := fmt.Sprintf("%s (%s", l.label[key], cmp.Or(v.Category, "not in the catalog"))
		if v.Headquarters != "" {
			tip += ", headquarters " + v.Headquarters
			if !v.HeadquartersVerified {
				tip += " (not verified)"
			}
		}
		tip += fmt.Sprintf("): %s from %s", countsText(&v.Counts), plural(v.Clients, "client", "clients"))
		if v.JurisdictionNotes != "" {
			tip += "; " + v.JurisdictionNotes
		}
		if v.New {
			tip += "; first seen in the window"
		}
		badge := v.Headquarters
		if v.New {
			badge = strings.TrimSpace("new " + badge)
		}
		node("vendor", key, v.ID, 1, fill, classColor(v.WorstClass), l.label[key], badge, tip, v.New)
	}
	for _, s := range g.Subprocessors {
		key := "s:" + s.ID
		what := "not in the catalog"
		switch {
		case s.InCatalog:
			what = cmp.Or(s.Category, "catalog vendor")
		case s.External:
			what = "company named by the catalog"
		}
		tip := fmt.Sprintf("%s (%s)", l.label[key], what)
		if len(s.Countries) > 0 {
			tip += "; processing in " + strings.Join(s.Countries, ", ")
		}
		if len(s.Vendors) > 0 {
			tip += "; behind " + strings.Join(s.Vendors, ", ")
		}
		fill := "#f3f0fa"
		if s.Merged > 0 {
			fill = "#ececec"
		}
		node("subprocessor", key, s.ID, 2, fill, "#b9aee0", l.label[key], s.Country, tip, false)
	}
	p("</g>\n")

	// Legend.
	y := l.height - 22
	x := l.colX[0]
	p(`<g class="legend" font-size="11" fill="#333">`)
	p(`<text x="%d" y="%d">worst finding on an edge:</text>`, x, y+4)
	x += 150
	for _, c := range append(slices.Clone(classRank), "") {
		name := c
		if c == "" {
			name = "none"
		}
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="4"/><text x="%d" y="%d">%s</text>`, x, y, x+18, y, classColor(c), x+22, y+4, name)
		x += 30 + 7*len(name)
	}
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#9aa5b1" stroke-width="2" stroke-dasharray="6 4"/><text x="%d" y="%d">link not verified</text>`, x+10, y, x+40, y, x+44, y+4)
	p(`<text x="%d" y="%d">edge width: requests</text>`, x+170, y+4)
	p("</g>\n</svg>\n")
	return bw.Flush()
}

// svgLayout is where RenderSVG puts things.
type svgLayout struct {
	colX   [3]int
	nodeW  int
	nodeH  int
	height int
	pos    map[string]float64 // node key ("c:ID", "v:ID", "s:ID") -> centre y
	label  map[string]string
}

// layout orders each column to keep edges short — vendors by volume, clients and
// subprocessors by the mean position of the vendors they link to (the barycentre heuristic) —
// and centres the shorter columns against the longest.
func layout(g *Graph, o SVGOptions) svgLayout {
	const margin, top = 16, 40
	l := svgLayout{pos: map[string]float64{}, label: map[string]string{}}
	l.nodeW = max(120, (o.Width-2*margin)/5)
	l.nodeH = max(12, o.RowHeight-8)
	l.colX = [3]int{margin, o.Width/2 - l.nodeW/2, o.Width - margin - l.nodeW}

	vendorIdx := map[string]float64{}
	for i, v := range g.Vendors {
		vendorIdx[v.ID] = float64(i)
		l.label["v:"+v.ID] = v.Label()
	}
	type ranked struct {
		key       string
		center    float64
		volume    int64
		otherNode bool
	}
	// Clients by the request-weighted mean index of their vendors.
	sum, weight := map[string]float64{}, map[string]float64{}
	for _, e := range g.Edges {
		if i, ok := vendorIdx[e.Vendor]; ok {
			w := float64(max(e.Requests, 1))
			sum[e.Client] += i * w
			weight[e.Client] += w
		}
	}
	var clients []ranked
	for _, c := range g.Clients {
		r := ranked{key: "c:" + c.ID, volume: c.Requests, otherNode: c.Merged > 0, center: math.Inf(1)}
		if weight[c.ID] > 0 {
			r.center = sum[c.ID] / weight[c.ID]
		}
		clients = append(clients, r)
		l.label[r.key] = c.Label()
	}
	// Subprocessors by the mean index of the vendors behind them.
	ssum, scount := map[string]float64{}, map[string]float64{}
	for _, s := range g.SupplyChain {
		if i, ok := vendorIdx[s.Vendor]; ok {
			ssum[s.Subprocessor] += i
			scount[s.Subprocessor]++
		}
	}
	var subs []ranked
	for _, s := range g.Subprocessors {
		r := ranked{key: "s:" + s.ID, otherNode: s.Merged > 0, center: math.Inf(1), volume: int64(len(s.Vendors))}
		if scount[s.ID] > 0 {
			r.center = ssum[s.ID] / scount[s.ID]
		}
		subs = append(subs, r)
		l.label[r.key] = s.Label()
	}
	order := func(rs []ranked) {
		slices.SortStableFunc(rs, func(x, y ranked) int {
			return cmp.Or(boolOrder(x.otherNode, y.otherNode), cmp.Compare(x.center, y.center), cmp.Compare(y.volume, x.volume), cmp.Compare(x.key, y.key))
		})
	}
	order(clients)
	order(subs)
	var vendors []ranked
	for _, v := range g.Vendors {
		vendors = append(vendors, ranked{key: "v:" + v.ID})
	}
	n := max(len(clients), len(vendors), len(subs), 1)
	for _, col := range [][]ranked{clients, vendors, subs} {
		off := float64(n-len(col)) * float64(o.RowHeight) / 2
		for i, r := range col {
			l.pos[r.key] = top + off + float64(i)*float64(o.RowHeight) + float64(o.RowHeight)/2
		}
	}
	l.height = top + n*o.RowHeight + 44
	return l
}

// curve draws one edge from (x1, y1) to (x2, y2) as a horizontal S-curve.
func curve(w io.Writer, x1 int, y1 float64, x2 int, y2 float64, width float64, color, dash, tip string) {
	mid := float64(x1+x2) / 2
	d := ""
	if dash != "" {
		d = ` stroke-dasharray="` + dash + `"`
	}
	fmt.Fprintf(w, `<path d="M%d %.1f C%.1f %.1f, %.1f %.1f, %d %.1f" stroke="%s" stroke-width="%.2f"%s><title>%s</title></path>`+"\n",
		x1, y1, mid, y1, mid, y2, x2, y2, color, width, d, esc(tip))
}

// countsText is a one-line summary of counts for tooltips and tables.
func countsText(c *Counts) string {
	s := fmt.Sprintf("%s, %s out", plural(int(c.Requests), "request", "requests"), fmtBytes(c.BytesOut))
	if f := mapText(c.Findings); f != "" {
		s += "; findings: " + f
	}
	if a := mapText(c.Actions); a != "" {
		s += "; " + a
	}
	return s
}

// mapText writes counts as "k n, k n", largest first.
func mapText(m map[string]int64) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if m[k] > 0 {
			parts = append(parts, k+" "+fmtInt(m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// fmtBytes writes a byte count in binary units.
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 5 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTP"[i-1])
}

func truncate(s string, n int) string {
	r := []rune(s)
	if n < 2 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// esc escapes text for XML and HTML content and attribute values.
func esc(s string) string { return html.EscapeString(s) }
