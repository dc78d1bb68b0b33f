package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
)

// renderHTML writes one self-contained page: inline CSS, inline SVG, no scripts, fonts or
// images fetched from anywhere. Sources are printed as text, not links, so that opening the
// report makes no request and a link cannot be mistaken for part of the report's content.
func renderHTML(w io.Writer, g *Graph, o RenderOptions) error {
	c := g.Collapse(o.Collapse)
	var svg bytes.Buffer
	if err := RenderSVG(&svg, c, SVGOptions{Title: "Supply-chain map: " + windowText(g)}); err != nil {
		return err
	}
	rows := o.Rows
	data := map[string]any{
		"G":        g,
		"C":        c,
		"SVG":      template.HTML(svg.String()),
		"Window":   windowText(g),
		"Lookback": lookbackText(g),
		"Rows":     rows,
	}
	return htmlPage.Execute(w, data)
}

var htmlFuncs = template.FuncMap{
	"int":      fmtInt,
	"bytes":    fmtBytes,
	"pct":      pct,
	"hhi":      fmtHHI,
	"notes":    jurisdictionNotes,
	"band":     HHIBand,
	"day":      fmtDay,
	"time":     fmtTime,
	"counts":   mapText,
	"hash":     shortHash,
	"join":     strings.Join,
	"vendors":  vendorNames,
	"client":   clientLabel,
	"clientOf": clientLabelOf,
	"subOf":    subLabelOf,
	"color":    classColor,
	"first":    first,
	"last":     last,
	"sources":  sourcesText,
	"dash":     orDash,
	"verified": verifiedText,
	"top": func(n int, xs any) any {
		switch v := xs.(type) {
		case []*Edge:
			return v[:min(n, len(v))]
		case []*SupplyEdge:
			return v[:min(n, len(v))]
		case []*FindingCount:
			return v[:min(n, len(v))]
		case []*NewEdge:
			return v[:min(n, len(v))]
		case []*NewVendor:
			return v[:min(n, len(v))]
		case []*ModelUse:
			return v[:min(n, len(v))]
		case []*ClientConcentration:
			return v[:min(n, len(v))]
		case []*HostCount:
			return v[:min(n, len(v))]
		case []*TelemetryOverlap:
			return v[:min(n, len(v))]
		case []*Share:
			return v[:min(n, len(v))]
		}
		panic(fmt.Sprintf("top: %T", xs))
	},
	"more":  func(total, shown int) int { return max(0, total-shown) },
	"len64": func(n int64) int { return int(n) },
	// bar is a horizontal share bar, 0 to 1.
	"bar": func(f float64) template.HTML {
		return template.HTML(fmt.Sprintf(`<svg class="bar" width="120" height="10" aria-hidden="true"><rect width="120" height="10" fill="#eee"/><rect width="%.1f" height="10" fill="#4a78c2"/></svg>`, 120*f))
	},
	// spark is a vendor's requests per day as a small bar chart, scaled to its own busiest
	// day: the shape of its trend (the requests column compares vendors).
	"spark": func(series []int64) template.HTML {
		const bw, h = 6, 24
		maxDaily := slices.Max(append([]int64{0}, series...))
		var b strings.Builder
		fmt.Fprintf(&b, `<svg class="spark" width="%d" height="%d" aria-hidden="true">`, max(1, len(series))*bw, h)
		for i, n := range series {
			if n == 0 || maxDaily == 0 {
				continue
			}
			bh := max(1, float64(h)*float64(n)/float64(maxDaily))
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="#4a78c2"><title>%d</title></rect>`, i*bw, float64(h)-bh, bw-1, bh, n)
		}
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	},
}

var htmlPage = template.Must(template.New("report").Funcs(htmlFuncs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="customs report">
<title>customs supply-chain map</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;margin:24px auto;max-width:1240px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555}.summary li{margin:2px 0}
table{border-collapse:collapse;margin:6px 0 4px;font-size:13px}th,td{padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{color:#555;font-weight:600;border-bottom:1px solid #ccc}td.n{text-align:right;font-variant-numeric:tabular-nums}
.map{overflow-x:auto;border:1px solid #e3e3e3;border-radius:6px;padding:8px;background:#fff}
.note{color:#666;font-size:12px}.new{color:#b3261e;font-weight:600}.mono{font-family:ui-monospace,monospace;font-size:12px}
dl.notes{font-size:13px}dl.notes dt{font-weight:600;margin-top:6px}dl.notes dd{margin:2px 0 0 16px;color:#333}h3{font-size:15px;margin:18px 0 6px}
.dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:middle}
</style>
</head>
<body>
<h1>customs supply-chain map</h1>
<p class="meta">{{.Window}} · generated {{time .G.Generated}} UTC · {{int .G.Totals.Requests}} flows from {{.G.Totals.Clients}} clients to {{.G.Totals.Vendors}} catalog vendors ({{int .G.Totals.AIRequests}} AI requests, {{int .G.Totals.OutsideCatalog}} to hosts outside the catalog) · {{bytes .G.Totals.BytesOut}} out{{with counts .G.Totals.Findings}} · findings: {{.}}{{end}}</p>

<h2>Concentration of AI traffic</h2>
<ul class="summary">{{range .G.Concentration.Summary}}<li>{{.}}</li>{{end}}</ul>

<h2>Map</h2>
<div class="map">{{.SVG}}</div>
{{with .C.Collapsed}}<p class="note">Drawn: the busiest clients of each vendor and overall; {{.Clients}} clients, {{.Vendors}} vendors and {{.Subprocessors}} subprocessors are merged into "other" nodes (customs report --max-clients, --max-vendors). The tables below and --format json count them all.</p>{{end}}

<h2>Vendors and jurisdictions</h2>
<table><tr><th>vendor</th><th>category</th><th>HQ</th><th>requests</th><th>clients</th><th>per day</th><th>out</th><th>findings</th><th>actions</th></tr>
{{range .G.Vendors}}<tr><td>{{.Label}}{{if .New}} <span class="new">new</span>{{end}}</td><td>{{dash .Category}}</td><td>{{dash .Headquarters}}{{if and .InCatalog (not .HeadquartersVerified)}}?{{end}}</td><td class="n">{{int .Requests}}</td><td class="n">{{.Clients}}</td><td>{{spark .Daily}}</td><td class="n">{{bytes .BytesOut}}</td><td>{{if .WorstClass}}<span class="dot" style="background:{{color .WorstClass}}"></span>{{end}}{{dash (counts .Findings)}}</td><td>{{counts .Actions}}</td></tr>
{{end}}</table>
<p class="note">Per day: {{first .G.Window.Days}} to {{last .G.Window.Days}} (UTC), each vendor scaled to its own busiest day. HQ? = headquarters not verified.</p>
{{with notes .G}}<h3>Jurisdiction notes (from the catalog)</h3>
<dl class="notes">{{range .}}<dt>{{.Label}} ({{dash .Headquarters}})</dt><dd>{{.JurisdictionNotes}}</dd>{{end}}</dl>{{end}}
{{with .G.Concentration}}
<table><tr><th>AI vendor</th><th>share of AI requests</th><th></th><th>clients</th></tr>
{{range top $.Rows .Vendors}}<tr><td>{{.Name}} ({{.ID}})</td><td>{{bar .RequestShare}}</td><td class="n">{{pct .RequestShare}}</td><td class="n">{{.Clients}} ({{pct .ClientShare}})</td></tr>
{{end}}</table>
<table><tr><th>headquarters</th><th>share of AI requests</th><th></th><th>clients</th><th>vendors</th></tr>
{{range top $.Rows .Jurisdictions}}<tr><td>{{.ID}}</td><td>{{bar .RequestShare}}</td><td class="n">{{pct .RequestShare}}</td><td class="n">{{.Clients}} ({{pct .ClientShare}})</td><td>{{join .Vendors ", "}}</td></tr>
{{end}}</table>
<p>HHI across AI vendors: <b>{{hhi .HHI}}</b> ({{band .HHI}}); across jurisdictions: <b>{{hhi .HHIJurisdiction}}</b> ({{band .HHIJurisdiction}}). The index is the sum of the squared percentage shares: 10,000 is one vendor; above 1,800 is highly concentrated.</p>
{{if .SingleVendor}}<table><tr><th>client on a single AI vendor</th><th>vendor</th><th>AI requests</th></tr>
{{range top $.Rows .SingleVendor}}<tr><td>{{client .Client .Name}}</td><td>{{.TopVendor}}</td><td class="n">{{int .AIRequests}}</td></tr>
{{end}}</table>{{with more (len .SingleVendor) $.Rows}}<p class="note">and {{.}} more</p>{{end}}{{end}}
<table><tr><th>client</th><th>AI requests</th><th>vendors</th><th>HHI</th><th>top vendor</th></tr>
{{range top $.Rows .Clients}}<tr><td>{{client .Client .Name}}</td><td class="n">{{int .AIRequests}}</td><td class="n">{{.Vendors}}</td><td class="n">{{hhi .HHI}}</td><td>{{.TopVendor}} ({{pct .TopShare}})</td></tr>
{{end}}</table>{{with more (len .Clients) $.Rows}}<p class="note">and {{.}} more clients</p>{{end}}
{{if .Telemetry}}<table><tr><th>analytics / telemetry vendor</th><th>category</th><th>clients that also prompt AI</th><th>requests</th><th>out</th><th>findings</th></tr>
{{range top $.Rows .Telemetry}}<tr><td>{{.Name}} ({{.Vendor}})</td><td>{{.Category}}</td><td class="n">{{.ClientCount}}</td><td class="n">{{int .Requests}}</td><td class="n">{{bytes .BytesOut}}</td><td>{{dash (counts .Findings)}}</td></tr>
{{end}}</table>{{end}}
{{end}}

<h2>Supply chain</h2>
<table><tr><th>vendor</th><th>passes data to</th><th>kind</th><th>verified</th><th>requests carried</th><th>findings</th><th>source</th></tr>
{{range .G.SupplyChain}}<tr><td>{{.Vendor}}</td><td>{{subOf $.G .Subprocessor}}{{with .Purpose}} <span class="note">({{.}})</span>{{end}}</td><td>{{.Kind}}</td><td>{{verified .Verified}}</td><td class="n">{{int .Requests}}</td><td>{{dash (counts .Findings)}}</td><td class="mono">{{dash (sources .)}}</td></tr>
{{end}}</table>

<h2>Changes</h2>
<p class="note">{{.Lookback}}.</p>
{{if or .G.Changes.NewVendors .G.Changes.NewEdges}}<ul>
{{range top $.Rows .G.Changes.NewVendors}}<li><span class="new">new vendor</span> {{.Name}} ({{.Vendor}}) on {{day .FirstSeen.Time}}, flow <span class="mono">{{.FirstSeen.Flow}}</span>, used by {{join .Clients ", "}}</li>
{{end}}{{range top $.Rows .G.Changes.NewEdges}}<li>{{.Client}} started using {{.Vendor}} on {{day .FirstSeen.Time}} (flow <span class="mono">{{.FirstSeen.Flow}}</span>; {{int .Requests}} requests in the window)</li>
{{end}}</ul>{{with more (len .G.Changes.NewEdges) $.Rows}}<p class="note">and {{.}} more new client → vendor edges</p>{{end}}{{else}}<p>Nothing new.</p>{{end}}

<h2>Models</h2>
{{if .G.Models.Uses}}<table><tr><th>client</th><th>vendor</th><th>model</th><th>served by</th><th>requests</th><th>first</th><th>last</th></tr>
{{range top $.Rows .G.Models.Uses}}<tr><td>{{client .Client .Name}}</td><td>{{.Vendor}}</td><td>{{dash .Model}}</td><td>{{dash .Served}}</td><td class="n">{{int .Requests}}</td><td>{{day .First.Time}}</td><td>{{day .Last.Time}}</td></tr>
{{end}}</table>{{with more (len .G.Models.Uses) $.Rows}}<p class="note">and {{.}} more</p>{{end}}
{{range .G.Models.Changes}}<p>{{.Vendor}} <b>{{.Model}}</b>: served by {{.From}}, then by <b>{{.To}}</b> from {{time .Time}} (flow <span class="mono">{{.Flow}}</span>)</p>
{{end}}{{else}}<p>No flow named a model.</p>{{end}}

<h2>Top findings</h2>
<p class="note">Masked previews and keyed hashes only: the values never leave the store.</p>
{{if .G.TopFindings}}<table><tr><th>detector</th><th>class</th><th>severity</th><th>preview</th><th>hash</th><th>flows</th><th>clients</th><th>vendors</th><th>last</th></tr>
{{range top $.Rows .G.TopFindings}}<tr><td>{{.Detector}}</td><td><span class="dot" style="background:{{color .Class}}"></span>{{.Class}}</td><td>{{.Severity}}</td><td class="mono">{{.Preview}}</td><td class="mono">{{hash .Hash}}</td><td class="n">{{int .Flows}}</td><td class="n">{{len .Clients}}</td><td>{{join (vendors .Vendors) ", "}}</td><td>{{day .Last.Time}}</td></tr>
{{end}}</table>{{with more (len64 .G.FindingValues) $.Rows}}<p class="note">and {{.}} more finding values</p>{{end}}{{else}}<p>None.</p>{{end}}

{{if .G.Hosts}}<h2>Hosts outside the catalog</h2>
<table><tr><th>host</th><th>requests</th><th>out</th><th>findings</th></tr>
{{range top $.Rows .G.Hosts}}<tr><td>{{.Host}}</td><td class="n">{{int .Requests}}</td><td class="n">{{bytes .BytesOut}}</td><td>{{dash (counts .Findings)}}</td></tr>
{{end}}</table>{{end}}
</body>
</html>
`))
