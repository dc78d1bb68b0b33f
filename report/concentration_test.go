package report

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestHHI(t *testing.T) {
	tests := []struct {
		name   string
		counts []int64
		want   float64
	}{
		{"no traffic", nil, 0},
		{"zeros", []int64{0, 0}, 0},
		{"one vendor", []int64{5}, 10000},
		{"one vendor and an idle one", []int64{7, 0}, 10000},
		{"two equal", []int64{1, 1}, 5000},
		{"four equal", []int64{3, 3, 3, 3}, 2500},
		{"three quarters and a quarter", []int64{3, 1}, 5625 + 625},
		{"50/30/20", []int64{50, 30, 20}, 2500 + 900 + 400},
		{"thirds, rounded to two decimals", []int64{1, 2}, 5555.56},
		{"order does not matter", []int64{20, 50, 30}, 3800},
		{"a hundred equal", func() []int64 {
			out := make([]int64, 100)
			for i := range out {
				out[i] = 9
			}
			return out
		}(), 100},
	}
	for _, tc := range tests {
		if got := HHI(tc.counts); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: HHI(%v) = %v, want %v", tc.name, tc.counts, got, tc.want)
		}
	}
}

func TestHHIBand(t *testing.T) {
	for _, tc := range []struct {
		h    float64
		want string
	}{{0, "not concentrated"}, {999.99, "not concentrated"}, {1000, "moderately concentrated"}, {1800, "moderately concentrated"},
		{1800.01, "highly concentrated"}, {10000, "highly concentrated"}} {
		if got := HHIBand(tc.h); got != tc.want {
			t.Errorf("HHIBand(%v) = %q, want %q", tc.h, got, tc.want)
		}
	}
}

func TestPct(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{{0, "0%"}, {0.004, "<1%"}, {0.005, "<1%"}, {0.0051, "1%"}, {0.41, "41%"}, {0.62, "62%"}, {0.994, "99%"}, {0.996, ">99%"}, {1, "100%"}} {
		if got := pct(tc.f); got != tc.want {
			t.Errorf("pct(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestWorstClass(t *testing.T) {
	for _, tc := range []struct {
		m    map[string]int64
		want string
	}{
		{nil, ""},
		{map[string]int64{"pii": 0}, ""},
		{map[string]int64{"code": 3, "pii": 1}, "pii"},
		{map[string]int64{"secret": 1, "pii": 9, "marker": 4}, "secret"},
		{map[string]int64{"marker": 1, "document": 1}, "marker"},
		{map[string]int64{"zeta": 1, "alpha": 2}, "alpha"}, // classes of rule files rank after the built-in ones
		{map[string]int64{"zeta": 1, "code": 1}, "code"},
	} {
		if got := WorstClass(tc.m); got != tc.want {
			t.Errorf("WorstClass(%v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

// TestConcentration: shares of requests and of clients per vendor and per headquarters
// country, the index overall and per client, single-vendor clients, and the analytics vendors
// fed by clients that prompt AI — over AI traffic only.
func TestConcentration(t *testing.T) {
	v := func(id, cat, hq string) *Vendor {
		return &Vendor{ID: id, Name: strings.ToUpper(id), Category: cat, AI: isAI(cat), InCatalog: true, Headquarters: hq}
	}
	e := func(client, vendor string, n, prompts int64) *Edge {
		return &Edge{Client: client, Vendor: vendor, Counts: Counts{Requests: n, AIPrompts: prompts}}
	}
	g := &Graph{
		Vendors: []*Vendor{v("openai", "ai-provider", "US"), v("anthropic", "ai-provider", "US"), v("mistral", "ai-provider", "FR"),
			v("copilot", "ai-tool", "US"), v("mixpanel", "analytics", "US"), v("sentry", "error-tracking", "US"),
			{ID: OutsideCatalog, Name: "hosts outside the catalog"}},
		Clients: []*Client{{ID: "a"}, {ID: "b", Name: "team-b"}, {ID: "c"}, {ID: "d"}, {ID: "e"}},
		Edges: []*Edge{
			// a: 60 OpenAI + 20 Mistral; b: 40 OpenAI only; c: 10 Anthropic + 10 Copilot (tunnelled: no prompts);
			// d: analytics only; e: hosts outside the catalog and Sentry.
			e("a", "openai", 60, 60), e("a", "mistral", 20, 20), e("b", "openai", 40, 40), e("c", "anthropic", 10, 10),
			e("c", "copilot", 10, 0), e("a", "mixpanel", 500, 0), e("b", "mixpanel", 5, 0), e("d", "mixpanel", 7, 0),
			e("e", "sentry", 3, 0), e("e", OutsideCatalog, 99, 0), e("c", "sentry", 2, 0),
		},
	}
	c := concentration(g)
	if c.AIRequests != 140 || c.AIClients != 3 {
		t.Fatalf("AI requests %d, clients %d; want 140 and 3", c.AIRequests, c.AIClients)
	}
	shares := func(ss []*Share) map[string][3]float64 {
		out := map[string][3]float64{}
		for _, s := range ss {
			out[s.ID] = [3]float64{float64(s.Requests), math.Round(s.RequestShare*1e4) / 1e4, math.Round(s.ClientShare*1e4) / 1e4}
		}
		return out
	}
	wantVendors := map[string][3]float64{
		"openai": {100, 0.7143, 0.6667}, "mistral": {20, 0.1429, 0.3333}, "anthropic": {10, 0.0714, 0.3333}, "copilot": {10, 0.0714, 0.3333},
	}
	if got := shares(c.Vendors); !reflect.DeepEqual(got, wantVendors) {
		t.Errorf("vendor shares %v, want %v", got, wantVendors)
	}
	if c.Vendors[0].ID != "openai" || c.Vendors[1].ID != "mistral" || c.Vendors[2].ID != "anthropic" {
		t.Errorf("vendors not largest first: %v", c.Vendors)
	}
	wantJ := map[string][3]float64{"US": {120, 0.8571, 1}, "FR": {20, 0.1429, 0.3333}}
	if got := shares(c.Jurisdictions); !reflect.DeepEqual(got, wantJ) {
		t.Errorf("jurisdiction shares %v, want %v", got, wantJ)
	}
	if got := c.Jurisdictions[0].Vendors; !reflect.DeepEqual(got, []string{"anthropic", "copilot", "openai"}) {
		t.Errorf("US vendors %v", got)
	}
	// 100/140, 20/140, 10/140, 10/140 in percent, squared.
	if want := HHI([]int64{100, 20, 10, 10}); c.HHI != want || math.Abs(want-(5102.04+204.08+51.02+51.02)) > 0.02 {
		t.Errorf("HHI %v, want %v", c.HHI, want)
	}
	if want := HHI([]int64{120, 20}); c.HHIJurisdiction != want {
		t.Errorf("HHI by jurisdiction %v, want %v", c.HHIJurisdiction, want)
	}
	per := map[string]ClientConcentration{}
	for _, cc := range c.Clients {
		per[cc.Client] = *cc
	}
	if a := per["a"]; a.HHI != 6250 || a.TopVendor != "openai" || a.TopShare != 0.75 || a.Vendors != 2 || a.AIRequests != 80 {
		t.Errorf("client a: %+v", a)
	}
	if b := per["b"]; b.HHI != 10000 || b.TopShare != 1 || b.Name != "team-b" {
		t.Errorf("client b: %+v", b)
	}
	// c splits evenly: the top vendor is the first by ID.
	if cc := per["c"]; cc.HHI != 5000 || cc.TopVendor != "anthropic" || cc.TopShare != 0.5 {
		t.Errorf("client c: %+v", cc)
	}
	if len(c.SingleVendor) != 1 || c.SingleVendor[0].Client != "b" {
		t.Errorf("single vendor %v", c.SingleVendor)
	}
	if c.Clients[0].Client != "b" {
		t.Errorf("clients not most concentrated first: %v", c.Clients[0])
	}
	// Mixpanel gets data from a and b, which prompt AI; d prompts nothing; c's Sentry counts
	// (c prompts Anthropic), e's does not; traffic outside the catalog is no vendor.
	var tele []string
	for _, x := range c.Telemetry {
		tele = append(tele, x.Vendor+":"+strings.Join(x.Clients, "+"))
	}
	if got := strings.Join(tele, " "); got != "mixpanel:a+b sentry:c" {
		t.Errorf("telemetry %q", got)
	}
	if c.Telemetry[0].Requests != 505 {
		t.Errorf("mixpanel requests from prompting clients %d, want 505", c.Telemetry[0].Requests)
	}
	want := []string{
		"86% of AI requests, from 3 of 3 AI clients, go to vendors headquartered in US; 71% to one vendor, OPENAI (openai).",
		"Concentration (HHI, 0-10,000) across AI vendors: 5,408, highly concentrated; across jurisdictions: 7,551.",
		"1 of 3 AI clients depend on a single AI vendor.",
		"2 analytics and telemetry vendors receive data from clients that also send prompts to AI vendors (mixpanel, sentry).",
	}
	if !reflect.DeepEqual(c.Summary, want) {
		t.Errorf("summary:\n%s\nwant:\n%s", strings.Join(c.Summary, "\n"), strings.Join(want, "\n"))
	}
	if got := concentration(&Graph{}).Summary; !reflect.DeepEqual(got, []string{"No AI requests in the window."}) {
		t.Errorf("empty: %v", got)
	}
}
