package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
)

// Schema names and versions of the JSON documents (SCHEMA.md).
const (
	GraphSchema     = "customs.report"
	GraphVersion    = 1
	ExposureSchema  = "customs.exposure"
	ExposureVersion = 1
)

// IDs of the nodes that stand for more than one thing. Parentheses never occur in catalog IDs,
// client IPs or host names, so these never collide with a real node.
const (
	OutsideCatalog    = "(outside-catalog)"     // the vendor node of every host outside the catalog
	OtherClients      = "(other-clients)"       // clients merged by Collapse
	OtherVendors      = "(other-vendors)"       // vendors merged by Collapse
	OtherSubprocessor = "(other-subprocessors)" // subprocessors merged by Collapse
)

// Graph is the supply-chain map: clients → vendors → subprocessors, with the traffic on every
// edge, and the figures drawn from it. Its JSON is the documented "customs.report" schema.
type Graph struct {
	Schema    string            `json:"schema"`
	Version   int               `json:"version"`
	Generated time.Time         `json:"generated"`
	Window    Window            `json:"window"`
	Filter    map[string]string `json:"filter,omitempty"`
	Totals    Totals            `json:"totals"`

	Clients       []*Client       `json:"clients"`
	Vendors       []*Vendor       `json:"vendors"`
	Subprocessors []*Subprocessor `json:"subprocessors"`
	// Edges are client → vendor traffic; SupplyChain vendor → subprocessor links, each
	// carrying the traffic its vendor received (what the link may pass on).
	Edges       []*Edge       `json:"edges"`
	SupplyChain []*SupplyEdge `json:"supply_chain"`

	Concentration Concentration `json:"concentration"`
	Changes       Changes       `json:"changes"`
	Models        Models        `json:"models"`
	// TopFindings are the most frequent finding values, worst severity first: masked
	// previews and keyed hashes, never a value.
	TopFindings   []*FindingCount `json:"top_findings"`
	FindingValues int64           `json:"finding_values"`
	// Hosts are the busiest hosts outside the catalog; OtherHosts counts the rest.
	Hosts      []*HostCount `json:"hosts_outside_catalog"`
	OtherHosts HostCount    `json:"other_hosts"`
	// Collapsed says what Collapse merged, when it did.
	Collapsed *Collapsed `json:"collapsed,omitempty"`
}

// Window is the period a report covers and the look-back behind "first seen".
type Window struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Days are the UTC days of the window, the index of every daily series.
	Days []string `json:"days"`
	// Lookback is how far before Since flows were read to decide what is new; Earliest is
	// the oldest flow the store had in that span (later than LookbackSince when it held
	// nothing older).
	Lookback      string    `json:"lookback"`
	LookbackSince time.Time `json:"lookback_since"`
	Earliest      time.Time `json:"earliest,omitzero"`
}

// Totals are the window's figures.
type Totals struct {
	Counts
	Clients        int   `json:"clients"`
	Vendors        int   `json:"vendors"` // catalog vendors with traffic
	AIRequests     int64 `json:"ai_requests"`
	OutsideCatalog int64 `json:"outside_catalog_requests"`
}

// Client is one client: an IP and, with proxy authentication, a user.
type Client struct {
	ID   string `json:"id"` // IP, or user@IP
	IP   string `json:"ip,omitempty"`
	User string `json:"user,omitempty"`
	// Name is the team or app the config's clients: map gives it.
	Name string `json:"name,omitempty"`
	Counts
	Vendors    int   `json:"vendors"` // vendors it sent flows to
	AIRequests int64 `json:"ai_requests"`
	// Merged is how many clients this node stands for (Collapse's "other clients").
	Merged int       `json:"merged,omitempty"`
	First  time.Time `json:"first,omitzero"`
	Last   time.Time `json:"last,omitzero"`
}

// Label is what a client is called on the map: its name, else its ID.
func (c *Client) Label() string {
	switch {
	case c.Merged > 0:
		return plural(c.Merged, "other client", "other clients")
	case c.Name != "":
		return c.Name + " (" + c.ID + ")"
	}
	return c.ID
}

// Vendor is one vendor with traffic in the window.
type Vendor struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Category  string `json:"category,omitempty"`
	AI        bool   `json:"ai"`
	InCatalog bool   `json:"in_catalog"`
	// Headquarters is the ISO 3166-1 alpha-2 code of the operating company's head office.
	Headquarters         string `json:"headquarters,omitempty"`
	HeadquartersVerified bool   `json:"headquarters_verified"`
	JurisdictionNotes    string `json:"jurisdiction_notes,omitempty"`
	Counts
	Clients    int    `json:"clients"`
	WorstClass string `json:"worst_class,omitempty"`
	// FirstSeen is its first flow in the look-back and the window; New says it falls in the
	// window.
	FirstSeen Seen    `json:"first_seen"`
	New       bool    `json:"new"`
	Daily     []int64 `json:"daily"`
	Merged    int     `json:"merged,omitempty"`
	// Hosts, for OutsideCatalog, is how many distinct hosts it stands for.
	Hosts int `json:"hosts,omitempty"`
}

// Label is what a vendor is called on the map.
func (v *Vendor) Label() string {
	switch {
	case v.Merged > 0:
		return plural(v.Merged, "other vendor", "other vendors")
	case v.ID == OutsideCatalog:
		return "hosts outside the catalog"
	}
	return v.Name
}

// Subprocessor is a company a vendor passes data to: a catalog vendor, a company the catalog
// names (external), or an entry of a vendor's published subprocessor list.
type Subprocessor struct {
	ID        string   `json:"id"` // catalog or external ID, else a slug of the listed name
	Name      string   `json:"name"`
	InCatalog bool     `json:"in_catalog"`
	External  bool     `json:"external,omitempty"`
	Category  string   `json:"category,omitempty"`
	Country   string   `json:"headquarters,omitempty"`
	Countries []string `json:"countries,omitempty"` // processing locations a list gives
	Vendors   []string `json:"vendors"`             // the vendors on the map that pass data to it
	Merged    int      `json:"merged,omitempty"`
}

// Label is what a subprocessor is called on the map.
func (s *Subprocessor) Label() string {
	if s.Merged > 0 {
		return plural(s.Merged, "other subprocessor", "other subprocessors")
	}
	return s.Name
}

// Edge is the traffic of one client to one vendor.
type Edge struct {
	Client string `json:"client"`
	Vendor string `json:"vendor"`
	Counts
	WorstClass string `json:"worst_class,omitempty"`
	First      Seen   `json:"first,omitzero"`
	Last       Seen   `json:"last,omitzero"`
	FirstSeen  Seen   `json:"first_seen"`
	New        bool   `json:"new"`
}

// SupplyEdge is one link from a vendor to a company it passes data to.
type SupplyEdge struct {
	Vendor       string `json:"vendor"`
	Subprocessor string `json:"subprocessor"`
	// Kind is the catalog's relationship kind (subprocessor, router-upstream, acquisition,
	// ...); Direction says how data moves along it: "to" (from the vendor to the
	// subprocessor) or, for an acquisition, "acquirer" (the vendor was bought by it).
	Kind       string           `json:"kind"`
	Direction  string           `json:"direction"`
	Verified   bool             `json:"verified"`
	Sources    []catalog.Source `json:"sources,omitempty"`
	SourceNote string           `json:"source_note,omitempty"`
	Detail     string           `json:"detail,omitempty"`
	Evidence   string           `json:"evidence,omitempty"`
	// Purpose and Countries come from the vendor's published subprocessor list, when the link
	// is on it; List is that list's source.
	Purpose     string   `json:"purpose,omitempty"`
	Countries   []string `json:"countries,omitempty"`
	List        string   `json:"list,omitempty"`
	ListVersion string   `json:"list_version,omitempty"`
	// Counts are the vendor's traffic in the window: what the link may have carried on.
	Counts
	WorstClass string `json:"worst_class,omitempty"`
}

// Changes are what appeared in the window that the look-back had not seen.
type Changes struct {
	NewVendors []*NewVendor `json:"new_vendors"`
	NewEdges   []*NewEdge   `json:"new_edges"`
}

// NewVendor is a vendor first seen in the window.
type NewVendor struct {
	Vendor    string   `json:"vendor"`
	Name      string   `json:"name"`
	FirstSeen Seen     `json:"first_seen"`
	Clients   []string `json:"clients"` // client labels
}

// NewEdge is a client (or a team: clients that share a name count as one) that started
// sending to a vendor in the window.
type NewEdge struct {
	Client    string   `json:"client"`  // the label: the clients: name, else the client ID
	Clients   []string `json:"clients"` // the client IDs behind it
	Vendor    string   `json:"vendor"`
	FirstSeen Seen     `json:"first_seen"`
	Requests  int64    `json:"requests"` // in the window
}

// Models are which models clients asked vendors for, which answered, and where the model
// behind a name changed.
type Models struct {
	Uses    []*ModelUse    `json:"uses"`
	Changes []*ModelChange `json:"changes"`
}

// ModelUse is one client's requests for one model at one vendor, by the model that answered.
type ModelUse struct {
	Client   string `json:"client"`
	Name     string `json:"name,omitempty"`
	Vendor   string `json:"vendor"`
	Model    string `json:"model"`
	Served   string `json:"served,omitempty"`
	Requests int64  `json:"requests"`
	First    Seen   `json:"first"`
	Last     Seen   `json:"last"`
}

// ModelChange is the first flow in the window that a vendor answered, for a requested model,
// with a served model it had not answered that model with before in the window.
type ModelChange struct {
	Vendor string    `json:"vendor"`
	Model  string    `json:"model"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Flow   string    `json:"flow"`
	Time   time.Time `json:"time"`
}

// Collapsed says what Collapse merged into the "other" nodes.
type Collapsed struct {
	Clients       int `json:"clients"`
	Vendors       int `json:"vendors"`
	Subprocessors int `json:"subprocessors"`
}

// Options are what Build joins to an aggregate.
type Options struct {
	// Catalog gives vendors' facts and supply chains; nil means the built-in catalog.
	Catalog *catalog.Catalog
	// Namer names a client (the config's clients: map); nil names none.
	Namer func(ip, user string) string
	// Now is the report's generation time.
	Now time.Time
}

// classRank orders finding classes from worst: an edge is coloured by the worst class it
// carried. Classes a rule file adds rank after these.
var classRank = []string{"secret", "record", "pii", "marker", "document", "code"}

// WorstClass is the worst class among the counts' findings, "" when there are none.
func WorstClass(findings map[string]int64) string {
	for _, c := range classRank {
		if findings[c] > 0 {
			return c
		}
	}
	var other []string
	for c, n := range findings {
		if n > 0 {
			other = append(other, c)
		}
	}
	if len(other) == 0 {
		return ""
	}
	slices.Sort(other)
	return other[0]
}

// Build joins an aggregate to the catalog and the client names and computes the figures.
func Build(a *Aggregate, o Options) (*Graph, error) {
	if a.Version != AggregateVersion {
		return nil, fmt.Errorf("report: aggregate version %d, want %d (customs serve and this customs differ in version)", a.Version, AggregateVersion)
	}
	cat := o.Catalog
	if cat == nil {
		var err error
		if cat, err = catalog.Builtin(); err != nil {
			return nil, err
		}
	}
	namer := o.Namer
	if namer == nil {
		namer = func(string, string) string { return "" }
	}
	g := &Graph{Schema: GraphSchema, Version: GraphVersion, Generated: o.Now.UTC(), Filter: a.FilterDesc,
		FindingValues: a.FindingValues, OtherHosts: a.OtherHosts}
	g.Window = Window{Since: a.Since.UTC(), Until: a.Until.UTC(), Lookback: formatAge(time.Duration(a.Lookback)),
		LookbackSince: a.Since.Add(-time.Duration(a.Lookback)).UTC(), Earliest: a.Earliest.UTC()}
	if a.Earliest.IsZero() {
		g.Window.Earliest = time.Time{}
	}
	for d := dayNumber(a.Since); d <= dayNumber(a.Until.Add(-time.Nanosecond)); d++ {
		g.Window.Days = append(g.Window.Days, time.Unix(d*86400, 0).UTC().Format(time.DateOnly))
	}

	aggVendors := map[string]*AggVendor{}
	for _, v := range a.Vendors {
		aggVendors[v.ID] = v
	}
	vendors := map[string]*Vendor{}
	clients := map[string]*Client{}
	vendorClients := map[string]stringSet{}
	for _, ae := range a.Edges {
		cid := ClientID(ae.Client, ae.User)
		vid := ae.Vendor
		if vid == "" {
			vid = OutsideCatalog
		}
		c := clients[cid]
		if c == nil {
			c = &Client{ID: cid, IP: ae.Client, User: ae.User, Name: namer(ae.Client, ae.User)}
			clients[cid] = c
		}
		v := vendors[vid]
		if v == nil {
			v = newVendor(cat, vid, aggVendors[ae.Vendor], len(g.Window.Days))
			vendors[vid] = v
		}
		e := &Edge{Client: cid, Vendor: vid, Counts: cloneCounts(ae.Counts), WorstClass: WorstClass(ae.Findings),
			First: ae.First, Last: ae.Last, FirstSeen: ae.FirstSeen, New: !ae.FirstSeen.Time.Before(a.Since)}
		g.Edges = append(g.Edges, e)
		c.Counts.add(&ae.Counts)
		c.Vendors++
		if v.AI {
			c.AIRequests += ae.Requests
		}
		if c.First.IsZero() || ae.First.Time.Before(c.First) {
			c.First = ae.First.Time
		}
		if ae.Last.Time.After(c.Last) {
			c.Last = ae.Last.Time
		}
		v.Counts.add(&ae.Counts)
		if vendorClients[vid] == nil {
			vendorClients[vid] = stringSet{}
		}
		vendorClients[vid][cid] = struct{}{}
		g.Totals.Counts.add(&ae.Counts)
		if v.AI {
			g.Totals.AIRequests += ae.Requests
		}
		if vid == OutsideCatalog {
			g.Totals.OutsideCatalog += ae.Requests
		}
	}
	for id, v := range vendors {
		v.Clients = len(vendorClients[id])
		v.WorstClass = WorstClass(v.Findings)
		if id != OutsideCatalog {
			g.Totals.Vendors++
		} else {
			v.Hosts = len(a.Hosts) + int(a.OtherHosts.Hosts)
		}
		g.Vendors = append(g.Vendors, v)
	}
	slices.SortFunc(g.Vendors, func(x, y *Vendor) int {
		return cmp.Or(boolOrder(x.ID == OutsideCatalog, y.ID == OutsideCatalog), cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.ID, y.ID))
	})
	for _, c := range clients {
		g.Clients = append(g.Clients, c)
	}
	slices.SortFunc(g.Clients, func(x, y *Client) int { return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.ID, y.ID)) })
	g.Totals.Clients = len(g.Clients)
	slices.SortFunc(g.Edges, func(x, y *Edge) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.Client, y.Client), cmp.Compare(x.Vendor, y.Vendor))
	})

	g.supplyChain(cat)
	g.Concentration = concentration(g)
	g.Changes = changes(g, a, clients)
	g.Models = models(a, clients)
	g.TopFindings = a.Findings
	if g.TopFindings == nil {
		g.TopFindings = []*FindingCount{}
	}
	g.Hosts = a.Hosts
	if g.Hosts == nil {
		g.Hosts = []*HostCount{}
	}
	return g, nil
}

func boolOrder(x, y bool) int {
	switch {
	case x == y:
		return 0
	case x:
		return 1
	}
	return -1
}

func cloneCounts(c Counts) Counts {
	c.Findings = maps.Clone(c.Findings)
	c.Actions = maps.Clone(c.Actions)
	return c
}

// newVendor is a vendor node: the catalog's facts today where it knows the vendor, else what
// the flows recorded.
func newVendor(cat *catalog.Catalog, id string, av *AggVendor, days int) *Vendor {
	v := &Vendor{ID: id, Name: id}
	if av != nil {
		v.FirstSeen, v.Daily = av.FirstSeen, slices.Clone(av.Daily)
		if av.Name != "" {
			v.Name, v.Category, v.Headquarters = av.Name, av.Category, av.Country
		}
	}
	if len(v.Daily) != days {
		v.Daily = make([]int64, days)
	}
	if id == OutsideCatalog {
		v.Name = "hosts outside the catalog"
		return v
	}
	if cv, ok := cat.Vendor(id); ok {
		v.InCatalog = true
		v.Name, v.Category, v.Headquarters = cv.Name, cv.Category, cv.Country
		v.HeadquartersVerified, v.JurisdictionNotes = cv.HeadquartersVerified, cv.JurisdictionNotes
	}
	v.AI = isAI(v.Category)
	return v
}

// supplyChain links every vendor on the map to whom it passes data: the catalog's edges along
// which its data moves (DataTargets), and the entries of its published subprocessor list, an
// entry that names a catalog vendor merged with the catalog's edge to it.
func (g *Graph) supplyChain(cat *catalog.Catalog) {
	names := nameIndex(cat)
	subs := map[string]*Subprocessor{}
	type key struct{ vendor, sub, kind string }
	links := map[key]*SupplyEdge{}
	var order []key
	sub := func(id, name string, inCatalog, external bool) *Subprocessor {
		s := subs[id]
		if s == nil {
			s = &Subprocessor{ID: id, Name: name, InCatalog: inCatalog, External: external}
			if cv, ok := cat.Vendor(id); ok && inCatalog {
				s.Name, s.Category, s.Country = cv.Name, cv.Category, cv.Country
			}
			subs[id] = s
		}
		return s
	}
	link := func(v *Vendor, s *Subprocessor, kind string) *SupplyEdge {
		k := key{v.ID, s.ID, kind}
		l := links[k]
		if l == nil {
			l = &SupplyEdge{Vendor: v.ID, Subprocessor: s.ID, Kind: kind, Direction: "to",
				Counts: cloneCounts(v.Counts), WorstClass: v.WorstClass}
			links[k] = l
			order = append(order, k)
			if !slices.Contains(s.Vendors, v.ID) {
				s.Vendors = append(s.Vendors, v.ID)
			}
		}
		return l
	}
	for _, v := range g.Vendors {
		if !v.InCatalog {
			continue
		}
		for _, t := range DataTargets(cat, v.ID) {
			e := t.Edge
			l := link(v, sub(t.ID, t.ID, !t.External, t.External), e.Kind)
			if t.Reverse {
				l.Direction = "acquirer"
			}
			l.Verified = l.Verified || e.Verified
			l.Sources = appendSources(l.Sources, e.Sources...)
			l.SourceNote, l.Detail, l.Evidence = cmp.Or(l.SourceNote, e.SourceNote), cmp.Or(l.Detail, e.Detail), cmp.Or(l.Evidence, e.Evidence)
		}
		cv, _ := cat.Vendor(v.ID)
		if cv.Subprocessors == nil {
			continue
		}
		list := cv.Subprocessors
		listVerified := list.Verified == nil || *list.Verified
		for _, entry := range list.Entries {
			var s *Subprocessor
			if id, ok := names[normalizeName(entry.Name)]; ok && id != v.ID {
				s = sub(id, id, true, false)
			} else {
				s = sub(slug(entry.Name), entry.Name, false, false)
			}
			l := link(v, s, "subprocessor")
			l.Verified = l.Verified || listVerified
			l.Purpose = cmp.Or(l.Purpose, entry.Purpose)
			l.Countries = entry.Countries
			if len(l.Countries) == 0 && entry.Location != "" {
				l.Countries = []string{entry.Location}
			}
			for _, c := range entry.Countries {
				if !slices.Contains(s.Countries, c) {
					s.Countries = append(s.Countries, c)
				}
			}
			l.List, l.ListVersion = list.Source, list.VersionSeen
			if list.Source != "" {
				l.Sources = appendSources(l.Sources, catalog.Source{URL: list.Source})
			}
		}
	}
	for _, k := range order {
		g.SupplyChain = append(g.SupplyChain, links[k])
	}
	for _, s := range subs {
		slices.Sort(s.Countries)
		g.Subprocessors = append(g.Subprocessors, s)
	}
	// Most used first: a subprocessor behind more vendors, then behind more traffic.
	traffic := map[string]int64{}
	for _, l := range g.SupplyChain {
		traffic[l.Subprocessor] += l.Requests
	}
	slices.SortFunc(g.Subprocessors, func(x, y *Subprocessor) int {
		return cmp.Or(cmp.Compare(len(y.Vendors), len(x.Vendors)), cmp.Compare(traffic[y.ID], traffic[x.ID]), cmp.Compare(x.ID, y.ID))
	})
	if g.Subprocessors == nil {
		g.Subprocessors = []*Subprocessor{}
	}
	if g.SupplyChain == nil {
		g.SupplyChain = []*SupplyEdge{}
	}
}

func appendSources(dst []catalog.Source, src ...catalog.Source) []catalog.Source {
	for _, s := range src {
		if !slices.ContainsFunc(dst, func(d catalog.Source) bool { return d.URL == s.URL }) {
			dst = append(dst, s)
		}
	}
	return dst
}

// DataTarget is a company a vendor's data moves to along one catalog edge.
type DataTarget struct {
	ID       string
	External bool // not a catalog vendor: a company the catalog names
	// Reverse: the edge points the other way (an acquisition: the vendor was bought by ID).
	Reverse bool
	Edge    catalog.Edge
}

// DataTargets are the companies vendor id's data moves to along the catalog's edges: the "to"
// of every edge it is the "from" of, except for an acquisition, whose data moves the other
// way — what a company holds becomes its acquirer's. Every other kind (subprocessor,
// router-upstream, inference-provider, model-hosting, client-telemetry,
// web-analytics-on-vendor-frontend, parent-company) is followed from → to.
func DataTargets(cat *catalog.Catalog, id string) []DataTarget {
	var out []DataTarget
	for _, e := range cat.Edges(id) {
		switch {
		case e.Kind == "acquisition" && e.To == id:
			out = append(out, DataTarget{ID: e.From, External: e.FromExternal, Reverse: true, Edge: e})
		case e.Kind != "acquisition" && e.From == id:
			out = append(out, DataTarget{ID: e.To, External: e.ToExternal, Edge: e})
		}
	}
	return out
}

// nameIndex maps the normalised names and IDs of catalog vendors to their IDs, so that a
// subprocessor list's "Intercom, Inc." is the catalog's intercom.
func nameIndex(cat *catalog.Catalog) map[string]string {
	m := map[string]string{}
	for _, v := range cat.Vendors() {
		for _, n := range []string{v.Name, strings.ReplaceAll(v.ID, "-", " ")} {
			if k := normalizeName(n); k != "" {
				if _, taken := m[k]; !taken {
					m[k] = v.ID
				}
			}
		}
	}
	return m
}

// companySuffixes are dropped when names are compared.
var companySuffixes = map[string]bool{"inc": true, "llc": true, "ltd": true, "limited": true, "pbc": true, "corp": true,
	"corporation": true, "co": true, "gmbh": true, "sa": true, "sas": true, "bv": true, "plc": true, "ag": true, "lp": true}

// normalizeName lowers a company name to its words, without punctuation, parenthesised
// asides or legal-form suffixes: "Intercom, Inc." and "intercom" are equal.
func normalizeName(s string) string {
	if i := strings.IndexByte(s, '('); i > 0 {
		s = s[:i]
	}
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for len(words) > 1 && companySuffixes[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	return strings.Join(words, " ")
}

// slug is an ID for a listed company the catalog does not know.
func slug(name string) string {
	return strings.ReplaceAll(normalizeName(name), " ", "-")
}

// changes lists the vendors and the client→vendor edges first seen in the window. Clients that
// share a name count as one: "data-team started using deepseek" is news once, not once per
// address.
func changes(g *Graph, a *Aggregate, clients map[string]*Client) Changes {
	ch := Changes{NewVendors: []*NewVendor{}, NewEdges: []*NewEdge{}}
	vendorNew := map[string]*NewVendor{}
	for _, v := range g.Vendors {
		if v.ID == OutsideCatalog {
			continue
		}
		v.New = !v.FirstSeen.Time.IsZero() && !v.FirstSeen.Time.Before(a.Since)
		if v.New {
			nv := &NewVendor{Vendor: v.ID, Name: v.Name, FirstSeen: v.FirstSeen, Clients: []string{}}
			vendorNew[v.ID] = nv
			ch.NewVendors = append(ch.NewVendors, nv)
		}
	}
	type key struct{ label, vendor string }
	edges := map[key]*NewEdge{}
	old := map[key]bool{}
	for _, e := range g.Edges {
		if e.Vendor == OutsideCatalog {
			continue
		}
		c := clients[e.Client]
		label := cmp.Or(c.Name, c.ID)
		k := key{label, e.Vendor}
		if !e.New {
			old[k] = true
			continue
		}
		ne := edges[k]
		if ne == nil {
			ne = &NewEdge{Client: label, Vendor: e.Vendor}
			edges[k] = ne
		}
		ne.Clients = append(ne.Clients, e.Client)
		ne.Requests += e.Requests
		ne.FirstSeen.merge(e.FirstSeen, true)
		if nv := vendorNew[e.Vendor]; nv != nil && !slices.Contains(nv.Clients, label) {
			nv.Clients = append(nv.Clients, label)
		}
	}
	for k, ne := range edges {
		if old[k] {
			continue // another client of the same name used the vendor before
		}
		slices.Sort(ne.Clients)
		ch.NewEdges = append(ch.NewEdges, ne)
	}
	for _, nv := range ch.NewVendors {
		slices.Sort(nv.Clients)
	}
	slices.SortFunc(ch.NewVendors, func(x, y *NewVendor) int {
		return cmp.Or(x.FirstSeen.Time.Compare(y.FirstSeen.Time), cmp.Compare(x.Vendor, y.Vendor))
	})
	slices.SortFunc(ch.NewEdges, func(x, y *NewEdge) int {
		return cmp.Or(x.FirstSeen.Time.Compare(y.FirstSeen.Time), cmp.Compare(x.Client, y.Client), cmp.Compare(x.Vendor, y.Vendor))
	})
	return ch
}

// models lists the models in use and, per vendor and requested model, each served model that
// appeared after another had answered: the first flow it answered is where the version behind
// the name changed.
func models(a *Aggregate, clients map[string]*Client) Models {
	m := Models{Uses: []*ModelUse{}, Changes: []*ModelChange{}}
	type key struct{ vendor, model string }
	served := map[key]map[string]Seen{}
	for _, mc := range a.Models {
		cid := ClientID(mc.Client, mc.User)
		u := &ModelUse{Client: cid, Vendor: mc.Vendor, Model: mc.Model, Served: mc.Served, Requests: mc.Requests, First: mc.First, Last: mc.Last}
		if c := clients[cid]; c != nil {
			u.Name = c.Name
		}
		m.Uses = append(m.Uses, u)
		if mc.Model == "" || mc.Served == "" || mc.Model == flow.MaskedValue {
			continue
		}
		k := key{mc.Vendor, mc.Model}
		if served[k] == nil {
			served[k] = map[string]Seen{}
		}
		s := served[k][mc.Served]
		s.merge(mc.First, true)
		served[k][mc.Served] = s
	}
	for k, byServed := range served {
		type first struct {
			served string
			seen   Seen
		}
		var fs []first
		for s, seen := range byServed {
			fs = append(fs, first{s, seen})
		}
		slices.SortFunc(fs, func(x, y first) int {
			return cmp.Or(x.seen.Time.Compare(y.seen.Time), cmp.Compare(x.seen.Flow, y.seen.Flow))
		})
		for i := 1; i < len(fs); i++ {
			m.Changes = append(m.Changes, &ModelChange{Vendor: k.vendor, Model: k.model, From: fs[i-1].served, To: fs[i].served,
				Flow: fs[i].seen.Flow, Time: fs[i].seen.Time})
		}
	}
	slices.SortFunc(m.Uses, func(x, y *ModelUse) int {
		return cmp.Or(cmp.Compare(x.Vendor, y.Vendor), cmp.Compare(x.Model, y.Model), cmp.Compare(y.Requests, x.Requests),
			cmp.Compare(x.Client, y.Client), cmp.Compare(x.Served, y.Served))
	})
	slices.SortFunc(m.Changes, func(x, y *ModelChange) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.Vendor, y.Vendor), cmp.Compare(x.Model, y.Model))
	})
	return m
}

// formatAge writes a duration in days when it is whole days ("30d"), as the flags take it.
func formatAge(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
