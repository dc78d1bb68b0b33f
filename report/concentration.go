package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Concentration is how much the AI traffic (vendors of the ai-provider, ai-platform and
// ai-tool categories) depends on few vendors and few jurisdictions.
type Concentration struct {
	AIRequests int64 `json:"ai_requests"`
	AIClients  int   `json:"ai_clients"` // clients with at least one AI request
	// Vendors and Jurisdictions are each one's share of the AI requests and of the AI
	// clients, largest first. A jurisdiction is the headquarters country.
	Vendors       []*Share `json:"vendors"`
	Jurisdictions []*Share `json:"jurisdictions"`
	// HHI is the Herfindahl-Hirschman index of the AI requests across vendors, and
	// HHIJurisdiction across headquarters countries: the sum of the squared shares in
	// percent, from near 0 (spread thin) to 10,000 (one vendor).
	HHI             float64 `json:"hhi"`
	HHIJurisdiction float64 `json:"hhi_jurisdiction"`
	// Clients are each AI client's own index across the vendors it uses, most concentrated
	// first; SingleVendor those whose every AI request went to one vendor.
	Clients      []*ClientConcentration `json:"clients"`
	SingleVendor []*ClientConcentration `json:"single_vendor"`
	// Telemetry are the analytics and telemetry vendors (every category but the AI ones) that
	// received data from clients which also send prompts to AI vendors.
	Telemetry []*TelemetryOverlap `json:"telemetry"`
	// Summary says the above in sentences.
	Summary []string `json:"summary"`
}

// Share is one vendor's or one jurisdiction's part of the AI traffic.
type Share struct {
	ID           string   `json:"id"` // vendor ID or country code
	Name         string   `json:"name,omitempty"`
	Requests     int64    `json:"requests"`
	RequestShare float64  `json:"request_share"` // of the AI requests, 0 to 1
	Clients      int      `json:"clients"`
	ClientShare  float64  `json:"client_share"`      // of the AI clients, 0 to 1
	Vendors      []string `json:"vendors,omitempty"` // a jurisdiction's vendors
}

// ClientConcentration is one client's AI use across vendors.
type ClientConcentration struct {
	Client     string  `json:"client"`
	Name       string  `json:"name,omitempty"`
	AIRequests int64   `json:"ai_requests"`
	Vendors    int     `json:"vendors"`
	HHI        float64 `json:"hhi"`
	TopVendor  string  `json:"top_vendor"`
	TopShare   float64 `json:"top_share"`
}

// TelemetryOverlap is a non-AI vendor that received data from clients which also send prompts
// to AI vendors: where prompts, or what surrounds them, can end up in analytics.
type TelemetryOverlap struct {
	Vendor   string   `json:"vendor"`
	Name     string   `json:"name"`
	Category string   `json:"category"`
	Clients  []string `json:"clients"` // those clients, at most 50
	// ClientCount counts them all; Counts is their traffic to this vendor.
	ClientCount int `json:"client_count"`
	Counts
}

// HHI is the Herfindahl-Hirschman index of a market split into counts: the sum of the squared
// percentage shares, 10,000 for one participant, 0 for none.
func HHI(counts []int64) float64 {
	var total int64
	for _, n := range counts {
		total += n
	}
	if total <= 0 {
		return 0
	}
	var h float64
	for _, n := range counts {
		s := 100 * float64(n) / float64(total)
		h += s * s
	}
	// Rounded to two decimals so that the figure (and a golden file) does not depend on the
	// order the shares were summed in.
	return math.Round(h*100) / 100
}

// HHIBand names a concentration the way the 2023 US Merger Guidelines do: above 1,800 highly
// concentrated, from 1,000 moderately, below that not concentrated.
func HHIBand(h float64) string {
	switch {
	case h > 1800:
		return "highly concentrated"
	case h >= 1000:
		return "moderately concentrated"
	}
	return "not concentrated"
}

// share is n/total, 0 when total is 0.
func share(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

// concentration computes the figures over the graph's client → vendor edges.
func concentration(g *Graph) Concentration {
	vendors := map[string]*Vendor{}
	for _, v := range g.Vendors {
		vendors[v.ID] = v
	}
	clients := map[string]*Client{}
	for _, c := range g.Clients {
		clients[c.ID] = c
	}
	c := Concentration{Vendors: []*Share{}, Jurisdictions: []*Share{}, Clients: []*ClientConcentration{},
		SingleVendor: []*ClientConcentration{}, Telemetry: []*TelemetryOverlap{}, Summary: []string{}}
	byVendor := map[string]*Share{}
	byCountry := map[string]*Share{}
	vendorClients := map[string]stringSet{}
	countryClients := map[string]stringSet{}
	perClient := map[string]map[string]int64{}
	prompting := stringSet{} // clients that send prompts to AI vendors
	for _, e := range g.Edges {
		v := vendors[e.Vendor]
		if v == nil || !v.AI || e.Requests == 0 {
			continue
		}
		c.AIRequests += e.Requests
		if e.AIPrompts > 0 {
			prompting[e.Client] = struct{}{}
		}
		country := cmp.Or(v.Headquarters, "unknown")
		for _, x := range []struct {
			m   map[string]*Share
			set map[string]stringSet
			id  string
		}{{byVendor, vendorClients, v.ID}, {byCountry, countryClients, country}} {
			s := x.m[x.id]
			if s == nil {
				s = &Share{ID: x.id}
				x.m[x.id] = s
				x.set[x.id] = stringSet{}
			}
			s.Requests += e.Requests
			x.set[x.id][e.Client] = struct{}{}
		}
		if !slices.Contains(byCountry[country].Vendors, v.ID) {
			byCountry[country].Vendors = append(byCountry[country].Vendors, v.ID)
		}
		if perClient[e.Client] == nil {
			perClient[e.Client] = map[string]int64{}
		}
		perClient[e.Client][v.ID] += e.Requests
	}
	c.AIClients = len(perClient)
	finish := func(m map[string]*Share, set map[string]stringSet) []*Share {
		out := []*Share{}
		for id, s := range m {
			s.RequestShare = share(s.Requests, c.AIRequests)
			s.Clients = len(set[id])
			s.ClientShare = share(int64(s.Clients), int64(c.AIClients))
			slices.Sort(s.Vendors)
			out = append(out, s)
		}
		slices.SortFunc(out, func(x, y *Share) int { return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.ID, y.ID)) })
		return out
	}
	c.Vendors = finish(byVendor, vendorClients)
	c.Jurisdictions = finish(byCountry, countryClients)
	for _, s := range c.Vendors {
		s.Name = vendors[s.ID].Name
	}
	c.HHI = HHI(requestsOf(c.Vendors))
	c.HHIJurisdiction = HHI(requestsOf(c.Jurisdictions))

	for id, byV := range perClient {
		cc := &ClientConcentration{Client: id, Name: clients[id].Name, Vendors: len(byV)}
		counts := make([]int64, 0, len(byV))
		for vid, n := range byV {
			cc.AIRequests += n
			counts = append(counts, n)
			if n > byV[cc.TopVendor] || (n == byV[cc.TopVendor] && (cc.TopVendor == "" || vid < cc.TopVendor)) {
				cc.TopVendor = vid
			}
		}
		cc.HHI = HHI(counts)
		cc.TopShare = share(byV[cc.TopVendor], cc.AIRequests)
		c.Clients = append(c.Clients, cc)
		if cc.Vendors == 1 {
			c.SingleVendor = append(c.SingleVendor, cc)
		}
	}
	order := func(x, y *ClientConcentration) int {
		return cmp.Or(cmp.Compare(y.HHI, x.HHI), cmp.Compare(y.AIRequests, x.AIRequests), cmp.Compare(x.Client, y.Client))
	}
	slices.SortFunc(c.Clients, order)
	slices.SortFunc(c.SingleVendor, order)

	tele := map[string]*TelemetryOverlap{}
	for _, e := range g.Edges {
		v := vendors[e.Vendor]
		if v == nil || v.AI || !v.InCatalog {
			continue
		}
		if _, ok := prompting[e.Client]; !ok {
			continue
		}
		t := tele[v.ID]
		if t == nil {
			t = &TelemetryOverlap{Vendor: v.ID, Name: v.Name, Category: v.Category, Clients: []string{}}
			tele[v.ID] = t
		}
		t.ClientCount++
		t.Counts.add(&e.Counts)
		t.Clients = append(t.Clients, e.Client)
	}
	for _, t := range tele {
		slices.Sort(t.Clients)
		if len(t.Clients) > 50 {
			t.Clients = t.Clients[:50]
		}
		c.Telemetry = append(c.Telemetry, t)
	}
	slices.SortFunc(c.Telemetry, func(x, y *TelemetryOverlap) int {
		return cmp.Or(cmp.Compare(y.ClientCount, x.ClientCount), cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.Vendor, y.Vendor))
	})
	c.Summary = summarize(&c)
	return c
}

func requestsOf(ss []*Share) []int64 {
	out := make([]int64, len(ss))
	for i, s := range ss {
		out[i] = s.Requests
	}
	return out
}

// summarize says the concentration in sentences, as the README explains them.
func summarize(c *Concentration) []string {
	if c.AIRequests == 0 {
		return []string{"No AI requests in the window."}
	}
	var out []string
	{ // AI requests mean at least one vendor and one jurisdiction
		j := c.Jurisdictions[0]
		where := "headquartered in " + j.ID
		if j.ID == "unknown" {
			where = "whose headquarters the catalog does not know"
		}
		s := fmt.Sprintf("%s of AI requests, from %d of %d AI clients, go to vendors %s", pct(j.RequestShare), j.Clients, c.AIClients, where)
		if v := c.Vendors[0]; len(c.Vendors) > 1 {
			s += fmt.Sprintf("; %s to one vendor, %s (%s)", pct(v.RequestShare), v.Name, v.ID)
		} else {
			s += fmt.Sprintf("; all of them to one vendor, %s (%s)", v.Name, v.ID)
		}
		out = append(out, s+".")
	}
	out = append(out, fmt.Sprintf("Concentration (HHI, 0-10,000) across AI vendors: %s, %s; across jurisdictions: %s.",
		fmtHHI(c.HHI), HHIBand(c.HHI), fmtHHI(c.HHIJurisdiction)))
	switch n := len(c.SingleVendor); {
	case n == c.AIClients && n > 0:
		out = append(out, fmt.Sprintf("Every AI client (%d) uses a single AI vendor.", n))
	case n > 0:
		out = append(out, fmt.Sprintf("%d of %d AI clients depend on a single AI vendor.", n, c.AIClients))
	default:
		out = append(out, "No AI client depends on a single AI vendor.")
	}
	if n := len(c.Telemetry); n > 0 {
		names := make([]string, 0, 3)
		for _, t := range c.Telemetry[:min(3, n)] {
			names = append(names, t.Vendor)
		}
		more := ""
		if n > 3 {
			more = ", ..."
		}
		verb := "receive"
		if n == 1 {
			verb = "receives"
		}
		out = append(out, fmt.Sprintf("%s %s data from clients that also send prompts to AI vendors (%s%s).",
			plural(n, "analytics or telemetry vendor", "analytics and telemetry vendors"), verb, joinList(names), more))
	}
	return out
}

func joinList(ss []string) string { return strings.Join(ss, ", ") }

// pct writes a share as a whole percentage: "<1%" for a non-zero share that rounds to 0,
// ">99%" for a share short of all that rounds to 100.
func pct(f float64) string {
	s := fmt.Sprintf("%.0f%%", 100*f)
	switch {
	case f > 0 && s == "0%":
		return "<1%"
	case f < 1 && s == "100%":
		return ">99%"
	}
	return s
}

func fmtHHI(h float64) string { return fmtInt(int64(math.Round(h))) }

// fmtInt writes n with thousands separators.
func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
