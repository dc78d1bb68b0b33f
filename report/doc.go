// Package report draws the supply-chain map from the flow store: which clients send what to
// which vendors, in which jurisdictions, and whom those vendors pass it on to (their
// subprocessors and the catalog's other supply-chain edges); how concentrated AI use is; what
// changed over time; which models answer; and, for an incident, every flow whose data may have
// reached a given vendor, directly or through the supply chain.
//
// The work is in three steps, so that the heavy one runs next to the store:
//
//	agg, err := report.Run(ctx, st, report.Query{Filter: f, Lookback: 30 * 24 * time.Hour}) // one scan of the store
//	g := report.Build(agg, report.Options{Catalog: cat, Namer: names, Now: time.Now()})     // joins the catalog
//	err = report.Render(w, g, "html", report.RenderOptions{})                             // or table, json, csv, dot, mermaid
//
// Run reads metadata only (store.Scan: no bodies, no URL) on every core; serve runs it for its
// admin API, whose answer (the Aggregate, JSON) a CLI then builds and renders with its own
// catalog and client names. RenderSVG draws the graph alone, for the web console.
//
// Exposure answers "what of ours reached this vendor?": see Exposure.
//
// The JSON formats are documented in report/SCHEMA.md; their "version" changes when a field
// changes meaning or goes away (new fields may appear in any version).
package report
