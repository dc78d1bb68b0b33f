package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/store"
)

// AggregateVersion is the version of Aggregate's JSON, which crosses the admin API: a CLI
// refuses an aggregate of another version rather than misread it.
const AggregateVersion = 1

// Query says what a report covers: the flows of Filter's window (Since inclusive, Until
// exclusive; both required) that match its other fields, and for "first seen" the same flows
// in the Lookback before Since.
type Query struct {
	Filter   store.Filter
	Lookback time.Duration
}

// Limits bound what an aggregate keeps of its long tails, so that its size (and the admin
// API's answer) does not grow with the number of distinct values in the store.
const (
	maxHosts         = 10_000 // distinct hosts outside the catalog counted by name
	maxFindingKeys   = 50_000 // distinct (detector, hash) pairs counted
	topFindings      = 200    // kept in the aggregate
	maxFindingClient = 64     // clients counted per finding value
	maxFindingVendor = 16     // vendors named per finding value
)

// Aggregate is what a report counts in the store, before the catalog is joined: traffic per
// client and vendor, per vendor per day, first sightings, models, findings. It is computed
// next to the store (offline, or by serve for its admin API) and is JSON so that it can cross
// the admin API; Build turns it into a Graph.
type Aggregate struct {
	Version  int          `json:"version"`
	Since    time.Time    `json:"since"`
	Until    time.Time    `json:"until"`
	Lookback Duration     `json:"lookback"`
	Filter   store.Filter `json:"-"`
	// FilterDesc is the filter's fields other than the window, as query parameters.
	FilterDesc map[string]string `json:"filter,omitempty"`
	// Earliest is the oldest flow seen, look-back included: when it is later than the
	// look-back's start, the store held no older flow (retention, or a new install).
	Earliest time.Time `json:"earliest,omitzero"`
	Flows    int64     `json:"flows"` // in the window
	// Edges are the client→vendor pairs with flows in the window, sorted by client then
	// vendor. Vendor "" is every host outside the catalog (see Hosts).
	Edges   []*AggEdge   `json:"edges"`
	Vendors []*AggVendor `json:"vendors"`
	// Hosts are the hosts outside the catalog, by requests; past maxHosts distinct hosts the
	// rest are counted in OtherHosts.
	Hosts      []*HostCount `json:"hosts,omitempty"`
	OtherHosts HostCount    `json:"other_hosts"`
	// Findings are the most frequent finding values (detector and keyed hash), worst
	// severity first; FindingValues is how many distinct ones there were.
	Findings      []*FindingCount `json:"findings,omitempty"`
	FindingValues int64           `json:"finding_values"`
	Models        []*ModelCount   `json:"models,omitempty"`
}

// Duration is a time.Duration written as Go writes it ("720h0m0s") in JSON.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Counts are the traffic of an edge or a node.
type Counts struct {
	Requests int64 `json:"requests"`
	BytesOut int64 `json:"bytes_out"`
	BytesIn  int64 `json:"bytes_in"`
	// Findings counts findings by class (secret, pii, ...); FlowsWithFindings the flows that
	// had at least one.
	Findings          map[string]int64 `json:"findings,omitempty"`
	FlowsWithFindings int64            `json:"flows_with_findings,omitempty"`
	// BlockedWithFindings counts the flows with findings that customs blocked: their values
	// never left. An exposure is about the others.
	BlockedWithFindings int64 `json:"blocked_with_findings,omitempty"`
	// Actions counts flows by verdict (allow, alert, redact, block).
	Actions map[string]int64 `json:"actions,omitempty"`
	// AIPrompts counts requests to AI vendors that carried a body: prompts, files, audio.
	AIPrompts int64 `json:"ai_prompts,omitempty"`
}

func (c *Counts) add(o *Counts) {
	c.Requests += o.Requests
	c.BytesOut += o.BytesOut
	c.BytesIn += o.BytesIn
	c.FlowsWithFindings += o.FlowsWithFindings
	c.BlockedWithFindings += o.BlockedWithFindings
	c.AIPrompts += o.AIPrompts
	c.Findings = addMap(c.Findings, o.Findings)
	c.Actions = addMap(c.Actions, o.Actions)
}

func addMap(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]int64, len(src))
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

// Seen is when something was first (or last) seen and the flow it was seen in.
type Seen struct {
	Time time.Time `json:"time"`
	Flow string    `json:"flow"`
	// id is Flow in binary while counting: formatting a flow ID for every flow that moves a
	// "last seen" forward cost more than the rest of counting it. fix writes Flow.
	id [16]byte
}

// earlier records sm when it is earlier than what s holds.
func (s *Seen) earlier(sm *store.Summary) {
	if s.Time.IsZero() || sm.Start.Before(s.Time) || sm.Start.Equal(s.Time) && bytes.Compare(sm.ID[:], s.id[:]) < 0 {
		s.Time, s.id = sm.Start, sm.ID
	}
}

// later records sm when it is later than what s holds.
func (s *Seen) later(sm *store.Summary) {
	if s.Time.IsZero() || sm.Start.After(s.Time) || sm.Start.Equal(s.Time) && bytes.Compare(sm.ID[:], s.id[:]) > 0 {
		s.Time, s.id = sm.Start, sm.ID
	}
}

// fix formats the flow ID counted in binary.
func (s *Seen) fix() {
	if s.id != ([16]byte{}) {
		s.Flow = ulid.ULID(s.id).String()
	}
}

// key is what orders two sightings of the same time: the flow ID, binary or text.
func (s *Seen) key() string {
	if s.id != ([16]byte{}) {
		return ulid.ULID(s.id).String()
	}
	return s.Flow
}

func (s *Seen) merge(o Seen, earlier bool) {
	switch {
	case o.Time.IsZero():
	case s.Time.IsZero(), earlier && o.Time.Before(s.Time), !earlier && o.Time.After(s.Time),
		o.Time.Equal(s.Time) && (o.key() < s.key()) == earlier:
		*s = o
	}
}

// AggEdge is the traffic of one client (IP and proxy user) to one vendor in the window.
type AggEdge struct {
	Client string `json:"client"` // IP, without port
	User   string `json:"user,omitempty"`
	Vendor string `json:"vendor"`
	Counts
	First Seen `json:"first,omitzero"` // first flow in the window
	Last  Seen `json:"last,omitzero"`
	// FirstSeen is the edge's first flow in the look-back and the window.
	FirstSeen Seen `json:"first_seen"`
}

// AggVendor is a vendor as the flows recorded it, with its first sighting and its requests per
// day of the window (Daily[0] is Since's UTC day).
type AggVendor struct {
	ID        string  `json:"id"` // "" for the hosts outside the catalog
	Name      string  `json:"name,omitempty"`
	Category  string  `json:"category,omitempty"`
	Country   string  `json:"country,omitempty"`
	FirstSeen Seen    `json:"first_seen"`
	Daily     []int64 `json:"daily"`
}

// HostCount is the traffic to one host outside the catalog.
type HostCount struct {
	Host string `json:"host,omitempty"`
	Counts
	Hosts int64 `json:"hosts,omitempty"` // in OtherHosts: how many hosts it stands for
}

// FindingCount is one finding value (a detector and the keyed hash of what it found) across
// the window: never the value, only its masked preview.
type FindingCount struct {
	Detector string    `json:"detector"`
	Class    string    `json:"class"`
	Severity string    `json:"severity"`
	Preview  string    `json:"preview"`
	Hash     string    `json:"hash"`
	Count    int64     `json:"count"` // occurrences
	Flows    int64     `json:"flows"`
	First    Seen      `json:"first"`
	Last     Seen      `json:"last"`
	Vendors  []string  `json:"vendors"`           // vendor IDs ("" outside the catalog), at most maxFindingVendor
	Clients  []string  `json:"clients,omitempty"` // client IDs, at most maxFindingClient
	clients  stringSet // while counting
}

// ModelCount is one client's use of one model at one vendor: the model the requests asked for
// and the one the answers named.
type ModelCount struct {
	Client   string `json:"client"`
	User     string `json:"user,omitempty"`
	Vendor   string `json:"vendor"`
	Model    string `json:"model"`
	Served   string `json:"served,omitempty"`
	Requests int64  `json:"requests"`
	First    Seen   `json:"first"`
	Last     Seen   `json:"last"`
}

// ClientID names a client in a report: its IP, or user@IP when a proxy user was recorded.
func ClientID(ip, user string) string {
	if user == "" {
		return ip
	}
	return user + "@" + ip
}

type stringSet map[string]struct{}

type edgeKey struct{ ip, user, vendor string }

type findingKey struct{ detector, hash string }

type modelKey struct{ ip, user, vendor, model, served string }

// acc is one scan worker's counts.
type acc struct {
	since, until time.Time
	days         int
	day0         int64 // Since's UTC day number
	flows        int64
	earliest     time.Time
	edges        map[edgeKey]*AggEdge
	vendors      map[string]*AggVendor
	hosts        map[string]*HostCount
	otherHosts   HostCount
	findings     map[findingKey]*FindingCount
	findingOver  int64 // finding values past maxFindingKeys, counted only there
	models       map[modelKey]*ModelCount
}

func newAcc(since, until time.Time) *acc {
	day0 := dayNumber(since)
	return &acc{since: since, until: until, day0: day0, days: int(dayNumber(until.Add(-time.Nanosecond))-day0) + 1,
		edges: map[edgeKey]*AggEdge{}, vendors: map[string]*AggVendor{}, hosts: map[string]*HostCount{},
		findings: map[findingKey]*FindingCount{}, models: map[modelKey]*ModelCount{}}
}

func dayNumber(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// add counts one flow.
func (a *acc) add(sm *store.Summary) {
	t := sm.Start
	if a.earliest.IsZero() || t.Before(a.earliest) {
		a.earliest = t
	}
	k := edgeKey{sm.ClientIP, sm.User, sm.Vendor.ID}
	e := a.edges[k]
	if e == nil {
		e = &AggEdge{Client: sm.ClientIP, User: sm.User, Vendor: sm.Vendor.ID}
		a.edges[k] = e
	}
	e.FirstSeen.earlier(sm)
	v := a.vendors[sm.Vendor.ID]
	if v == nil {
		v = &AggVendor{ID: sm.Vendor.ID, Daily: make([]int64, a.days)}
		if sm.Vendor.ID != "" {
			v.Name, v.Category, v.Country = sm.Vendor.Name, sm.Vendor.Category, sm.Vendor.Country
		}
		a.vendors[sm.Vendor.ID] = v
	}
	v.FirstSeen.earlier(sm)
	if t.Before(a.since) {
		return // look-back: first sightings only
	}
	a.flows++
	e.First.earlier(sm)
	e.Last.later(sm)
	if d := dayNumber(t) - a.day0; d >= 0 && d < int64(len(v.Daily)) {
		v.Daily[d]++
	}
	countFlow(&e.Counts, sm)
	if sm.Vendor.ID == "" {
		h := a.hosts[sm.Host]
		if h == nil {
			if len(a.hosts) >= maxHosts {
				countFlow(&a.otherHosts.Counts, sm)
				return
			}
			h = &HostCount{Host: sm.Host}
			a.hosts[sm.Host] = h
		}
		countFlow(&h.Counts, sm)
	}
	for i := range sm.Findings {
		a.finding(&sm.Findings[i], sm, i)
	}
	if sm.Model != "" || sm.ServedModel != "" {
		mk := modelKey{sm.ClientIP, sm.User, sm.Vendor.ID, sm.Model, sm.ServedModel}
		m := a.models[mk]
		if m == nil {
			m = &ModelCount{Client: sm.ClientIP, User: sm.User, Vendor: sm.Vendor.ID, Model: sm.Model, Served: sm.ServedModel}
			a.models[mk] = m
		}
		m.Requests++
		m.First.earlier(sm)
		m.Last.later(sm)
	}
}

// countFlow counts one flow in c.
func countFlow(c *Counts, sm *store.Summary) {
	c.Requests++
	c.BytesOut += sm.RequestBytes
	c.BytesIn += sm.ResponseBytes
	if len(sm.Findings) > 0 {
		c.FlowsWithFindings++
		if sm.Action == flow.Block {
			c.BlockedWithFindings++
		}
		if c.Findings == nil {
			c.Findings = make(map[string]int64, 2)
		}
		for i := range sm.Findings {
			c.Findings[sm.Findings[i].Class]++
		}
	}
	if c.Actions == nil {
		c.Actions = make(map[string]int64, 2)
	}
	c.Actions[string(actionOf(sm.Action))]++
	if sm.RequestBytes > 0 && isAI(sm.Vendor.Category) {
		c.AIPrompts++
	}
}

func isAI(category string) bool { return catalog.IsAI(category) }

// actionOf is a flow's action: a tunnel let through is recorded without a verdict.
func actionOf(a flow.Action) flow.Action {
	if a == "" {
		return flow.Allow
	}
	return a
}

func (a *acc) finding(f *flow.Finding, sm *store.Summary, i int) {
	k := findingKey{f.Detector, f.Hash}
	fc := a.findings[k]
	if fc == nil {
		if len(a.findings) >= maxFindingKeys {
			a.findingOver++
			return
		}
		fc = &FindingCount{Detector: f.Detector, Class: f.Class, Severity: f.Severity, Preview: f.Preview, Hash: f.Hash}
		a.findings[k] = fc
	}
	fc.Count++
	// A value found twice in one flow counts that flow once.
	for j := range i {
		if sm.Findings[j].Detector == f.Detector && sm.Findings[j].Hash == f.Hash {
			return
		}
	}
	fc.Flows++
	fc.First.earlier(sm)
	fc.Last.later(sm)
	if len(fc.Vendors) < maxFindingVendor && !slices.Contains(fc.Vendors, sm.Vendor.ID) {
		fc.Vendors = append(fc.Vendors, sm.Vendor.ID)
	}
	if len(fc.clients) < maxFindingClient {
		if fc.clients == nil {
			fc.clients = stringSet{}
		}
		fc.clients[ClientID(sm.ClientIP, sm.User)] = struct{}{}
	}
}

// merge adds b's counts to a.
func (a *acc) merge(b *acc) {
	a.flows += b.flows
	if a.earliest.IsZero() || (!b.earliest.IsZero() && b.earliest.Before(a.earliest)) {
		a.earliest = b.earliest
	}
	for k, e := range b.edges {
		if x := a.edges[k]; x != nil {
			x.Counts.add(&e.Counts)
			x.First.merge(e.First, true)
			x.Last.merge(e.Last, false)
			x.FirstSeen.merge(e.FirstSeen, true)
		} else {
			a.edges[k] = e
		}
	}
	for k, v := range b.vendors {
		if x := a.vendors[k]; x != nil {
			x.FirstSeen.merge(v.FirstSeen, true)
			for i, n := range v.Daily {
				x.Daily[i] += n
			}
			if x.Name == "" {
				x.Name, x.Category, x.Country = v.Name, v.Category, v.Country
			}
		} else {
			a.vendors[k] = v
		}
	}
	for k, h := range b.hosts {
		if x := a.hosts[k]; x != nil {
			x.Counts.add(&h.Counts)
		} else if len(a.hosts) < maxHosts {
			a.hosts[k] = h
		} else {
			a.otherHosts.Counts.add(&h.Counts)
			a.otherHosts.Hosts++
		}
	}
	a.otherHosts.Counts.add(&b.otherHosts.Counts)
	a.otherHosts.Hosts += b.otherHosts.Hosts
	a.findingOver += b.findingOver
	for k, f := range b.findings {
		x := a.findings[k]
		if x == nil {
			if len(a.findings) >= maxFindingKeys {
				a.findingOver++
				continue
			}
			a.findings[k] = f
			continue
		}
		x.Count += f.Count
		x.Flows += f.Flows
		x.First.merge(f.First, true)
		x.Last.merge(f.Last, false)
		for _, v := range f.Vendors {
			if len(x.Vendors) < maxFindingVendor && !slices.Contains(x.Vendors, v) {
				x.Vendors = append(x.Vendors, v)
			}
		}
		for c := range f.clients {
			if len(x.clients) >= maxFindingClient {
				break
			}
			if x.clients == nil {
				x.clients = stringSet{}
			}
			x.clients[c] = struct{}{}
		}
	}
	for k, m := range b.models {
		if x := a.models[k]; x != nil {
			x.Requests += m.Requests
			x.First.merge(m.First, true)
			x.Last.merge(m.Last, false)
		} else {
			a.models[k] = m
		}
	}
}

// Run aggregates the flows q selects in s. The scan reads several days at once (one worker
// per core), each worker counting on its own; the counts are merged at the end.
func Run(ctx context.Context, s *store.Store, q Query) (*Aggregate, error) {
	scan, err := q.scanFilter()
	if err != nil {
		return nil, err
	}
	since, until := q.Filter.Since, q.Filter.Until
	opts := store.ScanOptions{}
	accs := make([]*acc, store.ScanWorkers(opts))
	for i := range accs {
		accs[i] = newAcc(since, until)
	}
	if err := s.Scan(ctx, scan, opts, func(w int, sm *store.Summary) error {
		accs[w].add(sm)
		return nil
	}); err != nil {
		return nil, err
	}
	for _, b := range accs[1:] {
		accs[0].merge(b)
	}
	return accs[0].aggregate(q), nil
}

// scanFilter is the filter of the flows a report reads: its window and the lookback before it.
func (q Query) scanFilter() (store.Filter, error) {
	f := q.Filter
	if f.Since.IsZero() || f.Until.IsZero() || !f.Until.After(f.Since) {
		return f, fmt.Errorf("report: the window needs a start before its end (since %s, until %s)", f.Since, f.Until)
	}
	f.Since = f.Since.Add(-q.Lookback)
	f.Limit = 0
	return f, nil
}

// RunEach aggregates what each hands over: the records q's filter (with its lookback) selects,
// read from elsewhere than a local store, such as the fleet's stream.
func RunEach(q Query, each func(f store.Filter, fn func(*store.Record) error) error) (*Aggregate, error) {
	scan, err := q.scanFilter()
	if err != nil {
		return nil, err
	}
	a := newAcc(q.Filter.Since, q.Filter.Until)
	if err := each(scan, func(r *store.Record) error {
		sm := r.Summary()
		a.add(&sm)
		return nil
	}); err != nil {
		return nil, err
	}
	return a.aggregate(q), nil
}

// aggregate turns the merged counts into the aggregate, sorted so that the same flows give the
// same bytes.
func (a *acc) aggregate(q Query) *Aggregate {
	out := &Aggregate{Version: AggregateVersion, Since: a.since, Until: a.until, Lookback: Duration(q.Lookback),
		Filter: q.Filter, FilterDesc: filterDesc(q.Filter), Earliest: a.earliest, Flows: a.flows,
		OtherHosts: a.otherHosts, FindingValues: int64(len(a.findings)) + a.findingOver}
	for _, e := range a.edges {
		if e.Requests > 0 { // edges seen in the look-back only have no traffic to show
			e.First.fix()
			e.Last.fix()
			e.FirstSeen.fix()
			out.Edges = append(out.Edges, e)
		}
	}
	slices.SortFunc(out.Edges, func(x, y *AggEdge) int {
		return cmp.Or(cmp.Compare(x.Client, y.Client), cmp.Compare(x.User, y.User), cmp.Compare(x.Vendor, y.Vendor))
	})
	for _, v := range a.vendors {
		v.FirstSeen.fix()
		out.Vendors = append(out.Vendors, v)
	}
	slices.SortFunc(out.Vendors, func(x, y *AggVendor) int { return cmp.Compare(x.ID, y.ID) })
	for _, h := range a.hosts {
		out.Hosts = append(out.Hosts, h)
	}
	slices.SortFunc(out.Hosts, func(x, y *HostCount) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.Host, y.Host))
	})
	for _, f := range a.findings {
		f.First.fix()
		f.Last.fix()
		f.Clients = slices.Sorted(maps.Keys(f.clients))
		slices.Sort(f.Vendors)
		out.Findings = append(out.Findings, f)
	}
	slices.SortFunc(out.Findings, compareFindings)
	if len(out.Findings) > topFindings {
		out.Findings = out.Findings[:topFindings]
	}
	for _, m := range a.models {
		m.First.fix()
		m.Last.fix()
		out.Models = append(out.Models, m)
	}
	slices.SortFunc(out.Models, func(x, y *ModelCount) int {
		return cmp.Or(cmp.Compare(x.Vendor, y.Vendor), cmp.Compare(x.Model, y.Model), cmp.Compare(x.Served, y.Served),
			cmp.Compare(x.Client, y.Client), cmp.Compare(x.User, y.User))
	})
	return out
}

// compareFindings orders finding values worst first: by severity, then by flows, then by
// detector and hash for a stable order.
func compareFindings(x, y *FindingCount) int {
	return cmp.Or(cmp.Compare(severityRank(y.Severity), severityRank(x.Severity)), cmp.Compare(y.Flows, x.Flows),
		cmp.Compare(y.Count, x.Count), cmp.Compare(x.Detector, y.Detector), cmp.Compare(x.Hash, y.Hash))
}

func severityRank(s string) int {
	switch s {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

// filterDesc is the filter's fields other than the window, by flag name.
func filterDesc(f store.Filter) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"vendor": f.Vendor, "category": f.Category, "client": f.Client, "user": f.User,
		"detector": f.Detector, "action": f.Action, "api": f.API, "host": f.Host} {
		if v != "" {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
