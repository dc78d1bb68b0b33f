package report

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/store"
)

// DigestVersion is the version of Digest's JSON, which crosses the admin API.
const DigestVersion = 1

// Bounds of a digest: what it names per group beyond its counts.
const (
	maxGroupFlowIDs  = 1000 // flows with findings named per group (the earliest)
	maxGroupPreviews = 20   // finding values named per group (the most frequent)
	maxGroupValues   = 1000 // distinct finding values counted per group
)

// Digest is what an exposure needs of the flows one filter selects, per client and vendor:
// counts, first and last flow, what was found (classes, detectors, masked previews) and the
// flows that carried findings. It is computed next to the store and crosses the admin API as
// JSON.
type Digest struct {
	Version int            `json:"version"`
	Flows   int64          `json:"flows"`
	Groups  []*DigestGroup `json:"groups"`
}

// DigestGroup is one client's flows to one vendor.
type DigestGroup struct {
	Client string `json:"client"`
	User   string `json:"user,omitempty"`
	Vendor string `json:"vendor"` // "" for a host outside the catalog
	Host   string `json:"host,omitempty"`
	Counts
	First     Seen             `json:"first"`
	Last      Seen             `json:"last"`
	Detectors map[string]int64 `json:"detectors,omitempty"`
	// Previews are the most frequent finding values: masked previews and keyed hashes.
	Previews []*Preview `json:"previews,omitempty"`
	// FindingFlows are the IDs of the earliest flows that carried a finding (at most 1000);
	// Counts.FlowsWithFindings counts them all.
	FindingFlows []string `json:"finding_flows,omitempty"`
	values       map[findingKey]*Preview
}

// Preview is one finding value in a group.
type Preview struct {
	Detector string `json:"detector"`
	Class    string `json:"class"`
	Severity string `json:"severity"`
	Preview  string `json:"preview"`
	Hash     string `json:"hash"`
	Count    int64  `json:"count"`
	Flows    int64  `json:"flows"`
}

type groupKey struct{ ip, user, vendor string }

// RunDigest digests the flows f selects in s (f.Limit and f.Oldest are ignored).
func RunDigest(ctx context.Context, s *store.Store, f store.Filter) (*Digest, error) {
	opts := store.ScanOptions{}
	return digest(store.ScanWorkers(opts), func(fn func(int, *store.Summary) error) error { return s.Scan(ctx, f, opts, fn) })
}

// EachDigests digests flows read from elsewhere than a store, such as the fleet's stream: Each
// hands over the records a filter selects.
type EachDigests struct {
	Each func(ctx context.Context, f store.Filter, fn func(*store.Record) error) error
}

func (e EachDigests) Digest(ctx context.Context, f store.Filter) (*Digest, error) {
	f.Limit = 0
	return digest(1, func(fn func(int, *store.Summary) error) error {
		return e.Each(ctx, f, func(r *store.Record) error {
			sm := r.Summary()
			return fn(0, &sm)
		})
	})
}

// digest groups what scan hands over from workers goroutines (each with its own number).
func digest(workers int, scan func(fn func(int, *store.Summary) error) error) (*Digest, error) {
	parts := make([]map[groupKey]*DigestGroup, workers)
	for i := range parts {
		parts[i] = map[groupKey]*DigestGroup{}
	}
	flows := make([]int64, len(parts))
	if err := scan(func(w int, sm *store.Summary) error {
		flows[w]++
		k := groupKey{sm.ClientIP, sm.User, sm.Vendor.ID}
		g := parts[w][k]
		if g == nil {
			g = &DigestGroup{Client: sm.ClientIP, User: sm.User, Vendor: sm.Vendor.ID}
			if sm.Vendor.ID == "" {
				g.Host = sm.Host
			}
			parts[w][k] = g
		}
		g.add(sm)
		return nil
	}); err != nil {
		return nil, err
	}
	d := &Digest{Version: DigestVersion}
	all := parts[0]
	for i, p := range parts {
		d.Flows += flows[i]
		if i == 0 {
			continue
		}
		for k, g := range p {
			if x := all[k]; x != nil {
				x.merge(g)
			} else {
				all[k] = g
			}
		}
	}
	for _, g := range all {
		g.finish()
		d.Groups = append(d.Groups, g)
	}
	slices.SortFunc(d.Groups, func(x, y *DigestGroup) int {
		return cmp.Or(cmp.Compare(x.Client, y.Client), cmp.Compare(x.User, y.User), cmp.Compare(x.Vendor, y.Vendor))
	})
	if d.Groups == nil {
		d.Groups = []*DigestGroup{}
	}
	return d, nil
}

func (g *DigestGroup) add(sm *store.Summary) {
	countFlow(&g.Counts, sm)
	g.First.earlier(sm)
	g.Last.later(sm)
	if len(sm.Findings) == 0 {
		return
	}
	if len(g.FindingFlows) < maxGroupFlowIDs {
		g.FindingFlows = append(g.FindingFlows, sm.FlowID())
	}
	if g.Detectors == nil {
		g.Detectors = map[string]int64{}
		g.values = map[findingKey]*Preview{}
	}
	for i := range sm.Findings {
		f := &sm.Findings[i]
		g.Detectors[f.Detector]++
		k := findingKey{f.Detector, f.Hash}
		p := g.values[k]
		if p == nil {
			if len(g.values) >= maxGroupValues {
				continue
			}
			p = &Preview{Detector: f.Detector, Class: f.Class, Severity: f.Severity, Preview: f.Preview, Hash: f.Hash}
			g.values[k] = p
		}
		p.Count++
		if !slices.ContainsFunc(sm.Findings[:i], func(x flow.Finding) bool { return x.Detector == f.Detector && x.Hash == f.Hash }) {
			p.Flows++
		}
	}
}

func (g *DigestGroup) merge(o *DigestGroup) {
	g.Counts.add(&o.Counts)
	g.First.merge(o.First, true)
	g.Last.merge(o.Last, false)
	g.Detectors = addMap(g.Detectors, o.Detectors)
	g.FindingFlows = append(g.FindingFlows, o.FindingFlows...)
	for k, p := range o.values {
		if g.values == nil {
			g.values = map[findingKey]*Preview{}
		}
		if x := g.values[k]; x != nil {
			x.Count += p.Count
			x.Flows += p.Flows
		} else if len(g.values) < maxGroupValues {
			g.values[k] = p
		}
	}
}

// finish sorts what the group names and cuts it to its bounds: the earliest flows (IDs sort
// by time), the most frequent values.
func (g *DigestGroup) finish() {
	g.First.fix()
	g.Last.fix()
	slices.Sort(g.FindingFlows)
	if len(g.FindingFlows) > maxGroupFlowIDs {
		g.FindingFlows = g.FindingFlows[:maxGroupFlowIDs]
	}
	for _, p := range g.values {
		g.Previews = append(g.Previews, p)
	}
	slices.SortFunc(g.Previews, func(x, y *Preview) int {
		return cmp.Or(cmp.Compare(severityRank(y.Severity), severityRank(x.Severity)), cmp.Compare(y.Flows, x.Flows),
			cmp.Compare(x.Detector, y.Detector), cmp.Compare(x.Hash, y.Hash))
	})
	if len(g.Previews) > maxGroupPreviews {
		g.Previews = g.Previews[:maxGroupPreviews]
	}
	g.values = nil
}

// DigestSource digests flows: the store itself (StoreDigests), or a running serve's admin API.
type DigestSource interface {
	Digest(ctx context.Context, f store.Filter) (*Digest, error)
}

// StoreDigests digests flows from a store.
type StoreDigests struct{ Store *store.Store }

func (s StoreDigests) Digest(ctx context.Context, f store.Filter) (*Digest, error) {
	return RunDigest(ctx, s.Store, f)
}

// Target is what an exposure asks about.
type Target struct {
	// Kind is "vendor" (a catalog vendor: flows to it are direct), "host" (a host outside the
	// catalog: flows to it are direct, nothing is indirect) or "company" (a company the
	// catalog names only as someone's subprocessor or relation: every flow is indirect).
	Kind     string `json:"kind"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	Host     string `json:"host,omitempty"`
	Category string `json:"category,omitempty"`
	Country  string `json:"headquarters,omitempty"`
	// Note says how the name given was understood ("host api.openai.com is vendor openai").
	Note string `json:"note,omitempty"`
}

// ErrUnknownTarget is returned by ResolveTarget for a name that is no vendor, host or company
// the catalog knows; its message names the closest vendor.
var ErrUnknownTarget = errors.New("unknown vendor")

// ResolveTarget reads the name given to an exposure: a catalog vendor ID, a host (one of a
// vendor's, or any host outside the catalog), or a company the catalog names (an external
// party of a relationship, an entry of a published subprocessor list).
func ResolveTarget(cat *catalog.Catalog, name string) (Target, error) {
	name = strings.TrimSpace(name)
	id := strings.ToLower(name)
	if v, ok := cat.Vendor(id); ok {
		return Target{Kind: "vendor", ID: v.ID, Name: v.Name, Category: v.Category, Country: v.Country}, nil
	}
	if strings.Contains(id, ".") {
		host := catalog.Normalize(id)
		if v, ok := cat.Lookup(host); ok {
			return Target{Kind: "vendor", ID: v.ID, Name: v.Name, Category: v.Category, Country: v.Country,
				Note: fmt.Sprintf("host %s is vendor %s in the catalog", host, v.ID)}, nil
		}
		return Target{Kind: "host", ID: host, Name: host, Host: host}, nil
	}
	if len(cat.Edges(id)) > 0 {
		return Target{Kind: "company", ID: id, Name: name, Note: "a company the catalog names in its supply-chain relationships"}, nil
	}
	if n := normalizeName(name); n != "" {
		for _, v := range cat.Vendors() {
			if v.Subprocessors == nil {
				continue
			}
			for _, e := range v.Subprocessors.Entries {
				if normalizeName(e.Name) == n {
					return Target{Kind: "company", ID: slug(e.Name), Name: e.Name,
						Note: "named on published subprocessor lists of catalog vendors"}, nil
				}
			}
		}
	}
	msg := fmt.Sprintf("%q", name)
	if s := cat.Suggest(id); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return Target{}, fmt.Errorf("%w %s; name a catalog vendor (customs catalog list), a host (llm.internal.example) or a subprocessor", ErrUnknownTarget, msg)
}

// Hop is one supply-chain link on a path.
type Hop struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Kind     string   `json:"kind"`
	Verified bool     `json:"verified"`
	Sources  []string `json:"sources,omitempty"`
	// Reverse: the catalog records the link the other way (an acquisition: From was bought
	// by To), and data moves to the acquirer.
	Reverse bool `json:"reverse,omitempty"`
}

// Path is a way a vendor's data can reach the target: Vendor's hops, in order.
type Path struct {
	Vendor string `json:"vendor"`
	Hops   []Hop  `json:"hops"`
}

// Names is the path as node names: vendor, then each hop's company.
func (p *Path) Names() []string {
	out := []string{p.Vendor}
	for _, h := range p.Hops {
		out = append(out, h.To)
	}
	return out
}

// pathLimit bounds the paths an exposure follows, whatever the catalog's shape.
const pathLimit = 1000

// FirstPartyKinds are the links that carry what a vendor's own users send it — its web front
// end's analytics, its client apps' telemetry — and nothing it receives from anyone else. They
// lead to the target only from the vendor a client sent its flows to: prompts Cursor sends on
// to OpenAI for inference do not appear in OpenAI's web analytics.
var FirstPartyKinds = map[string]bool{"web-analytics-on-vendor-frontend": true, "client-telemetry": true}

// Paths finds every vendor whose data can reach the target through the catalog's supply
// chain, with the paths it can take: links followed in the direction data moves
// (DataTargets), and the vendors' published subprocessor lists, at most maxDepth links long
// (each path visits a company once, so cycles end there), a first-party link
// (FirstPartyKinds) only as a path's first, only verified links when verifiedOnly. Paths come
// shortest first.
func Paths(cat *catalog.Catalog, t Target, maxDepth int, verifiedOnly bool) []*Path {
	if t.Kind == "host" || maxDepth < 1 {
		return nil
	}
	names := nameIndex(cat)
	// into[x] are the links whose data reaches x.
	into := map[string][]Hop{}
	for _, v := range cat.Vendors() {
		for _, dt := range DataTargets(cat, v.ID) {
			e := dt.Edge
			h := Hop{From: v.ID, To: dt.ID, Kind: e.Kind, Verified: e.Verified, Reverse: dt.Reverse}
			for _, s := range e.Sources {
				h.Sources = append(h.Sources, s.URL)
			}
			into[dt.ID] = append(into[dt.ID], h)
		}
		if l := v.Subprocessors; l != nil {
			for _, entry := range l.Entries {
				to := slug(entry.Name)
				if id, ok := names[normalizeName(entry.Name)]; ok {
					to = id
				}
				if to == v.ID || slices.ContainsFunc(into[to], func(h Hop) bool { return h.From == v.ID && h.Kind == "subprocessor" }) {
					continue // the catalog's own subprocessor edge says it already
				}
				h := Hop{From: v.ID, To: to, Kind: "subprocessor", Verified: l.Verified == nil || *l.Verified}
				if l.Source != "" {
					h.Sources = []string{l.Source}
				}
				into[to] = append(into[to], h)
			}
		}
	}
	var out []*Path
	// Walk back from the target; onPath holds the companies of the path being built.
	onPath := map[string]bool{t.ID: true}
	var walk func(at string, suffix []Hop)
	walk = func(at string, suffix []Hop) {
		for _, h := range into[at] {
			if len(out) >= pathLimit || onPath[h.From] || (verifiedOnly && !h.Verified) {
				continue
			}
			hops := append([]Hop{h}, suffix...)
			if _, ok := cat.Vendor(h.From); ok {
				out = append(out, &Path{Vendor: h.From, Hops: hops})
			}
			if len(hops) < maxDepth && !FirstPartyKinds[h.Kind] {
				onPath[h.From] = true
				walk(h.From, hops)
				delete(onPath, h.From)
			}
		}
	}
	walk(t.ID, nil)
	slices.SortFunc(out, func(x, y *Path) int {
		return cmp.Or(cmp.Compare(len(x.Hops), len(y.Hops)), cmp.Compare(x.Vendor, y.Vendor),
			slices.Compare(x.Names(), y.Names()), cmp.Compare(x.Hops[0].Kind, y.Hops[0].Kind))
	})
	return out
}

// ExposureOptions are what an exposure joins to the digests.
type ExposureOptions struct {
	Catalog *catalog.Catalog
	Namer   func(ip, user string) string
	Now     time.Time
	// MaxDepth bounds the supply-chain links followed (default 4); VerifiedOnly follows only
	// links the catalog verified.
	MaxDepth     int
	VerifiedOnly bool
}

// Exposure is every flow whose data may have reached a vendor: sent to it directly, or sent to
// a vendor with a path to it through the supply chain. Its JSON is the documented
// "customs.exposure" schema.
type Exposure struct {
	Schema    string            `json:"schema"`
	Version   int               `json:"version"`
	Generated time.Time         `json:"generated"`
	Since     time.Time         `json:"since"`
	Until     time.Time         `json:"until"`
	Filter    map[string]string `json:"filter,omitempty"`
	Target    Target            `json:"target"`
	// MaxDepth and VerifiedOnly are how the supply chain was followed; Paths are the paths
	// found, whether or not flows took them.
	MaxDepth     int     `json:"max_depth"`
	VerifiedOnly bool    `json:"verified_only"`
	Paths        []*Path `json:"paths"`
	Totals       struct {
		Counts
		Clients  int   `json:"clients"`
		Direct   int64 `json:"direct"`
		Indirect int64 `json:"indirect"`
	} `json:"totals"`
	Clients []*ExposedClient `json:"clients"`
	// Filters are the store filters whose flows the exposure counts: one per vendor (or the
	// host), for an export of the same flows.
	Filters []store.Filter `json:"-"`
}

// ExposedClient is one client's exposed flows.
type ExposedClient struct {
	ID   string `json:"id"`
	IP   string `json:"ip"`
	User string `json:"user,omitempty"`
	Name string `json:"name,omitempty"`
	Counts
	First  time.Time       `json:"first"`
	Last   time.Time       `json:"last"`
	Routes []*ExposedRoute `json:"routes"`
}

// ExposedRoute is a client's flows to one vendor and how they reach the target: "direct", or
// "indirect" through Paths (every path the supply chain offers from that vendor).
type ExposedRoute struct {
	Via    string  `json:"via"`
	Vendor string  `json:"vendor"`
	Host   string  `json:"host,omitempty"`
	Paths  []*Path `json:"paths,omitempty"`
	*DigestGroup
}

// RunExposure digests, through src, the flows of f's window (and its other fields) that went
// to the target or to a vendor with a path to it, and groups them by client.
func RunExposure(ctx context.Context, src DigestSource, t Target, f store.Filter, o ExposureOptions) (*Exposure, error) {
	cat := o.Catalog
	if cat == nil {
		var err error
		if cat, err = catalog.Builtin(); err != nil {
			return nil, err
		}
	}
	o.MaxDepth = cmp.Or(o.MaxDepth, 4)
	namer := o.Namer
	if namer == nil {
		namer = func(string, string) string { return "" }
	}
	f.Limit, f.Oldest, f.Vendor, f.Host = 0, true, "", ""
	x := &Exposure{Schema: ExposureSchema, Version: ExposureVersion, Generated: o.Now.UTC(), Since: f.Since.UTC(), Until: f.Until.UTC(),
		Filter: filterDesc(f), Target: t, MaxDepth: o.MaxDepth, VerifiedOnly: o.VerifiedOnly, Clients: []*ExposedClient{}}
	x.Paths = Paths(cat, t, o.MaxDepth, o.VerifiedOnly)
	if x.Paths == nil {
		x.Paths = []*Path{}
	}
	byVendor := map[string][]*Path{}
	var vendors []string
	for _, p := range x.Paths {
		if byVendor[p.Vendor] == nil {
			vendors = append(vendors, p.Vendor)
		}
		byVendor[p.Vendor] = append(byVendor[p.Vendor], p)
	}
	slices.Sort(vendors)
	type query struct {
		f   store.Filter
		via string
	}
	var queries []query
	switch t.Kind {
	case "vendor":
		q := f
		q.Vendor = t.ID
		queries = append(queries, query{q, "direct"})
	case "host":
		q := f
		q.Host = t.Host
		queries = append(queries, query{q, "direct"})
	}
	for _, v := range vendors {
		q := f
		q.Vendor = v
		queries = append(queries, query{q, "indirect"})
	}
	clients := map[string]*ExposedClient{}
	for _, q := range queries {
		x.Filters = append(x.Filters, q.f)
		d, err := src.Digest(ctx, q.f)
		if err != nil {
			return nil, err
		}
		if d.Version != DigestVersion {
			return nil, fmt.Errorf("report: digest version %d, want %d (customs serve and this customs differ in version)", d.Version, DigestVersion)
		}
		for _, g := range d.Groups {
			cid := ClientID(g.Client, g.User)
			c := clients[cid]
			if c == nil {
				c = &ExposedClient{ID: cid, IP: g.Client, User: g.User, Name: namer(g.Client, g.User)}
				clients[cid] = c
			}
			r := &ExposedRoute{Via: q.via, Vendor: g.Vendor, Host: g.Host, DigestGroup: g}
			if q.via == "indirect" {
				r.Paths = byVendor[q.f.Vendor]
				x.Totals.Indirect += g.Requests
			} else {
				x.Totals.Direct += g.Requests
			}
			c.Routes = append(c.Routes, r)
			c.Counts.add(&g.Counts)
			if c.First.IsZero() || g.First.Time.Before(c.First) {
				c.First = g.First.Time
			}
			if g.Last.Time.After(c.Last) {
				c.Last = g.Last.Time
			}
			x.Totals.Counts.add(&g.Counts)
		}
	}
	for _, c := range clients {
		slices.SortFunc(c.Routes, func(a, b *ExposedRoute) int {
			return cmp.Or(cmp.Compare(a.Via, b.Via), cmp.Compare(b.FlowsWithFindings, a.FlowsWithFindings), cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Vendor, b.Vendor))
		})
		x.Clients = append(x.Clients, c)
	}
	slices.SortFunc(x.Clients, func(a, b *ExposedClient) int {
		return cmp.Or(cmp.Compare(b.FlowsWithFindings, a.FlowsWithFindings), cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.ID, b.ID))
	})
	x.Totals.Clients = len(x.Clients)
	return x, nil
}

// WriteExposureJSON writes x as indented JSON.
func WriteExposureJSON(w io.Writer, x *Exposure) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(x)
}

// WriteExposureTable writes x for a terminal: the paths considered, the totals, then one line
// per client and route with what was found.
func WriteExposureTable(w io.Writer, x *Exposure) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	t := x.Target
	about := t.Name
	if t.Kind == "vendor" {
		about = fmt.Sprintf("%s (%s, %s, headquarters %s)", t.ID, t.Name, t.Category, orDash(t.Country))
	}
	p("customs exposure: %s; flows from %s to %s (UTC)", about, fmtTime(x.Since), fmtTime(x.Until))
	if len(x.Filter) > 0 {
		p(", with %s", strings.Join(filterParts(x.Filter), " "))
	}
	p("\n")
	if t.Note != "" {
		p("(%s)\n", t.Note)
	}
	p("\nWays data reaches %s (supply chain followed %s deep%s):\n", t.ID, plural(x.MaxDepth, "link", "links"), map[bool]string{true: ", verified links only"}[x.VerifiedOnly])
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	if t.Kind != "company" {
		fmt.Fprintf(tw, "  direct\tclient → %s\t\n", t.ID)
	}
	for _, path := range x.Paths {
		var kinds []string
		for _, h := range path.Hops {
			k := h.Kind
			if !h.Verified {
				k += " (not verified)"
			}
			kinds = append(kinds, k)
		}
		fmt.Fprintf(tw, "  indirect\tclient → %s\t%s\n", strings.Join(path.Names(), " → "), strings.Join(kinds, ", "))
	}
	_ = tw.Flush()
	if len(x.Paths) == 0 && t.Kind != "host" {
		p("  no catalog vendor passes data to %s\n", t.ID)
	}
	p("\n%s from %s may have reached %s: %s directly, %s through the supply chain; %s carried findings",
		plural(int(x.Totals.Requests), "flow", "flows"), plural(x.Totals.Clients, "client", "clients"), t.ID,
		fmtInt(x.Totals.Direct), fmtInt(x.Totals.Indirect), fmtInt(x.Totals.FlowsWithFindings))
	if f := mapText(x.Totals.Findings); f != "" {
		p(" (%s)", f)
	}
	p(".\n")
	// A blocked flow was answered by customs: nothing of it reached the vendor.
	if b := x.Totals.Actions["block"]; b > 0 {
		p("customs blocked %s of them (nothing of those left), %s with findings: %s with findings left.\n",
			fmtInt(b), fmtInt(x.Totals.BlockedWithFindings), fmtInt(x.Totals.FlowsWithFindings-x.Totals.BlockedWithFindings))
	}
	if len(x.Clients) == 0 {
		return bw.Flush()
	}
	p("\n")
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tROUTE\tFLOWS\tBLOCKED\tFIRST\tLAST\tFINDINGS\tFOUND (masked)")
	for _, c := range x.Clients {
		label := clientLabel(c.ID, c.Name)
		for i, r := range c.Routes {
			route := c.ID + " → " + t.ID
			if r.Via == "indirect" {
				route = c.ID + " → " + strings.Join(r.Paths[0].Names(), " → ")
				if len(r.Paths) > 1 {
					route += " (+" + plural(len(r.Paths)-1, "path", "paths") + ")"
				}
			} else if r.Host != "" && t.Kind == "host" {
				route = c.ID + " → " + r.Host
			}
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, route, fmtInt(r.Requests), fmtInt(r.Actions["block"]), fmtTime(r.First.Time), fmtTime(r.Last.Time),
				orDash(mapText(r.Findings)), orDash(previewText(r.Previews, 3)))
		}
	}
	_ = tw.Flush()
	p("\n--json names the flows that carried findings; --export har|jsonl --out FILE writes every flow above (masked).\n")
	return bw.Flush()
}

func filterParts(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// previewText lists the first n values: "secret.aws-access-key-id AKIA****PLMR ×3".
func previewText(ps []*Preview, n int) string {
	var parts []string
	for _, p := range ps[:min(n, len(ps))] {
		s := p.Detector + " " + p.Preview
		if p.Flows > 1 {
			s += fmt.Sprintf(" ×%d", p.Flows)
		}
		parts = append(parts, s)
	}
	if len(ps) > n {
		parts = append(parts, fmt.Sprintf("+%d more", len(ps)-n))
	}
	return strings.Join(parts, "; ")
}
