package report

import (
	"cmp"
	"slices"
)

// CollapseOptions bound how much of the graph is drawn. 500 clients × 40 vendors is 20,000
// edges: unreadable as a picture, and megabytes of SVG. Collapse keeps the clients that matter
// to each vendor and the busiest overall, and merges the rest into "other" nodes.
type CollapseOptions struct {
	// MaxClients is the most client nodes drawn (default 25), "N other clients" aside.
	MaxClients int
	// PerVendor is how many of each drawn vendor's busiest clients are kept before the rest
	// of MaxClients is filled by overall volume (default 3): a small vendor's main users stay
	// visible next to the big vendors' crowds.
	PerVendor int
	// MaxVendors is the most vendor nodes drawn (default 30), "N other vendors" aside.
	MaxVendors int
	// MaxSubprocessors is the most subprocessor nodes drawn (default 40).
	MaxSubprocessors int
}

func (o CollapseOptions) withDefaults() CollapseOptions {
	o.MaxClients = cmp.Or(o.MaxClients, 25)
	o.PerVendor = cmp.Or(o.PerVendor, 3)
	o.MaxVendors = cmp.Or(o.MaxVendors, 30)
	o.MaxSubprocessors = cmp.Or(o.MaxSubprocessors, 40)
	return o
}

// Collapse returns a copy of g with at most the options' numbers of nodes per column; the
// nodes left out are merged into one "other" node per column, whose edges carry their summed
// traffic. The figures (concentration, changes, models, findings) are g's, computed over every
// client and vendor. g is not modified.
func (g *Graph) Collapse(o CollapseOptions) *Graph {
	o = o.withDefaults()
	out := *g
	out.Collapsed = &Collapsed{}

	// Vendors, busiest first (as Build sorts them).
	vendorNode := map[string]string{} // vendor ID -> node it is drawn as
	var other *Vendor
	out.Vendors = nil
	for i, v := range g.Vendors {
		if i < o.MaxVendors {
			out.Vendors = append(out.Vendors, v)
			vendorNode[v.ID] = v.ID
			continue
		}
		if other == nil {
			other = &Vendor{ID: OtherVendors, Name: "other vendors", Daily: make([]int64, len(v.Daily))}
		}
		other.Merged++
		other.Counts.add(&v.Counts)
		other.Clients = max(other.Clients, v.Clients)
		for d, n := range v.Daily {
			if d < len(other.Daily) {
				other.Daily[d] += n
			}
		}
		vendorNode[v.ID] = OtherVendors
	}
	if other != nil {
		other.WorstClass = WorstClass(other.Findings)
		out.Vendors = append(out.Vendors, other)
		out.Collapsed.Vendors = other.Merged
	}

	// Clients: each drawn vendor's busiest, round by round, then the busiest overall.
	byVendor := map[string][]*Edge{}
	for _, e := range g.Edges { // busiest first
		if vendorNode[e.Vendor] == e.Vendor {
			byVendor[e.Vendor] = append(byVendor[e.Vendor], e)
		}
	}
	keep := map[string]bool{}
	for rank := 0; rank < o.PerVendor && len(keep) < o.MaxClients; rank++ {
		for _, v := range out.Vendors {
			if es := byVendor[v.ID]; rank < len(es) && len(keep) < o.MaxClients {
				keep[es[rank].Client] = true
			}
		}
	}
	for _, c := range g.Clients {
		if len(keep) >= o.MaxClients {
			break
		}
		keep[c.ID] = true
	}
	clientNode := map[string]string{}
	var others *Client
	out.Clients = nil
	for _, c := range g.Clients {
		if keep[c.ID] {
			out.Clients = append(out.Clients, c)
			clientNode[c.ID] = c.ID
			continue
		}
		if others == nil {
			others = &Client{ID: OtherClients}
		}
		others.Merged++
		others.Counts.add(&c.Counts)
		others.AIRequests += c.AIRequests
		clientNode[c.ID] = OtherClients
	}
	if others != nil {
		out.Clients = append(out.Clients, others)
		out.Collapsed.Clients = others.Merged
	}

	// Client → vendor edges between the drawn nodes.
	type pair struct{ a, b string }
	edges := map[pair]*Edge{}
	var order []pair
	for _, e := range g.Edges {
		k := pair{clientNode[e.Client], vendorNode[e.Vendor]}
		x := edges[k]
		if x == nil {
			if k.a == e.Client && k.b == e.Vendor {
				edges[k] = e
				order = append(order, k)
				continue
			}
			x = &Edge{Client: k.a, Vendor: k.b}
			edges[k] = x
			order = append(order, k)
		} else if x.Client == e.Client && x.Vendor == e.Vendor {
			continue // cannot happen: an edge per pair
		}
		x.Counts.add(&e.Counts)
		x.New = x.New || e.New
		x.FirstSeen.merge(e.FirstSeen, true)
	}
	out.Edges = nil
	for _, k := range order {
		e := edges[k]
		e.WorstClass = WorstClass(e.Findings)
		out.Edges = append(out.Edges, e)
	}
	slices.SortFunc(out.Edges, func(x, y *Edge) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.Client, y.Client), cmp.Compare(x.Vendor, y.Vendor))
	})

	// Subprocessors: those behind the most vendors first (as Build sorts them).
	subNode := map[string]string{}
	var otherSub *Subprocessor
	out.Subprocessors = nil
	for i, s := range g.Subprocessors {
		if i < o.MaxSubprocessors {
			out.Subprocessors = append(out.Subprocessors, s)
			subNode[s.ID] = s.ID
			continue
		}
		if otherSub == nil {
			otherSub = &Subprocessor{ID: OtherSubprocessor, Name: "other subprocessors"}
		}
		otherSub.Merged++
		subNode[s.ID] = OtherSubprocessor
	}
	if otherSub != nil {
		out.Subprocessors = append(out.Subprocessors, otherSub)
		out.Collapsed.Subprocessors = otherSub.Merged
	}
	type link struct {
		e       *SupplyEdge
		vendors map[string]bool // the vendors whose traffic it carries, counted once each
	}
	type linkKey struct{ vendor, sub, kind string }
	links := map[linkKey]*link{}
	var lorder []linkKey
	vendors := map[string]*Vendor{}
	for _, v := range g.Vendors {
		vendors[v.ID] = v
	}
	for _, l := range g.SupplyChain {
		k := linkKey{vendorNode[l.Vendor], subNode[l.Subprocessor], l.Kind}
		x := links[k]
		if x == nil {
			c := *l
			c.Vendor, c.Subprocessor = k.vendor, k.sub
			c.Sources = slices.Clone(l.Sources)
			x = &link{e: &c, vendors: map[string]bool{l.Vendor: true}}
			links[k] = x
			lorder = append(lorder, k)
			continue
		}
		x.e.Verified = x.e.Verified && l.Verified
		x.e.Sources = appendSources(x.e.Sources, l.Sources...)
		if !x.vendors[l.Vendor] {
			x.vendors[l.Vendor] = true
			x.e.Counts = cloneCounts(x.e.Counts)
			x.e.Counts.add(&vendors[l.Vendor].Counts)
			x.e.WorstClass = WorstClass(x.e.Findings)
		}
	}
	out.SupplyChain = nil
	for _, k := range lorder {
		out.SupplyChain = append(out.SupplyChain, links[k].e)
	}
	if out.Collapsed.Clients == 0 && out.Collapsed.Vendors == 0 && out.Collapsed.Subprocessors == 0 {
		out.Collapsed = nil
	}
	return &out
}
