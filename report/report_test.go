package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/golden"
	"github.com/customs-dev/customs/store"
)

func buildFixture(t *testing.T, s *store.Store, q Query) *Graph {
	t.Helper()
	agg, err := Run(context.Background(), s, q)
	if err != nil {
		t.Fatal(err)
	}
	// The aggregate crosses the admin API as JSON: build from what arrives.
	b, err := json.Marshal(agg)
	if err != nil {
		t.Fatal(err)
	}
	var wire Aggregate
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	g, err := Build(&wire, Options{Catalog: fixtureCatalog(t), Namer: fixtureNames, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGolden renders the fixture's report in every format; -update rewrites the files.
func TestGolden(t *testing.T) {
	s := fixtureStore(t)
	g := buildFixture(t, s, fixtureQuery())
	ext := map[string]string{"table": "txt", "json": "json", "csv": "csv", "dot": "dot", "mermaid": "mmd", "html": "html"}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, g, format, RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/report."+ext[format], b.Bytes())
		})
	}
	// Collapsed hard, the drawn formats merge the long tail into "other" nodes.
	t.Run("table-collapsed", func(t *testing.T) {
		var b bytes.Buffer
		if err := Render(&b, g, "table", RenderOptions{Collapse: CollapseOptions{MaxClients: 2, PerVendor: 1, MaxVendors: 3, MaxSubprocessors: 2}, Rows: 3}); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, "testdata/report-collapsed.txt", b.Bytes())
	})
	t.Run("svg", func(t *testing.T) {
		var b bytes.Buffer
		if err := RenderSVG(&b, g.Collapse(CollapseOptions{}), SVGOptions{Href: func(col, id string) string { return "#" + col + "-" + id }}); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, "testdata/map.svg", b.Bytes())
	})
}

// TestFixtureFigures pins the figures the golden files show, so that a change in them is read
// as a change in meaning, not only in bytes.
func TestFixtureFigures(t *testing.T) {
	g := buildFixture(t, fixtureStore(t), fixtureQuery())
	c := g.Concentration
	if c.AIClients != 6 {
		t.Errorf("AI clients = %d, want 6", c.AIClients)
	}
	if c.Jurisdictions[0].ID != "US" || c.Vendors[0].ID != "openai" {
		t.Errorf("top jurisdiction %s, top vendor %s", c.Jurisdictions[0].ID, c.Vendors[0].ID)
	}
	single := map[string]string{}
	for _, s := range c.SingleVendor {
		single[s.Client] = s.TopVendor
	}
	// billing-api uses OpenAI alone, and so does data-team's main host in the window (its
	// Anthropic was in the look-back); its second host DeepSeek alone; 10.4.0.9 Mistral. Only
	// research uses two.
	if len(single) != 5 {
		t.Errorf("single-vendor clients: %v", single)
	}
	for client, vendor := range map[string]string{"10.1.0.10": "openai", "10.3.0.7": "openai", "10.1.0.11": "deepseek", "10.4.0.9": "mistral", "10.5.0.2": "cursor"} {
		if single[client] != vendor {
			t.Errorf("single-vendor %s = %q, want %s (all: %v)", client, single[client], vendor, single)
		}
	}
	var tele []string
	for _, x := range c.Telemetry {
		tele = append(tele, x.Vendor)
	}
	// Mixpanel gets data from data-team (which prompts OpenAI) and from 10.4.0.9 (Mistral);
	// Sentry from billing-api.
	if strings.Join(tele, ",") != "mixpanel,sentry" {
		t.Errorf("telemetry overlap = %v", tele)
	}
	var news []string
	for _, e := range g.Changes.NewEdges {
		news = append(news, e.Client+">"+e.Vendor)
	}
	// In first-seen order. research's Anthropic is new for research though Anthropic is not
	// new; 10.4.0.9's Mixpanel and billing-api's OpenAI were seen in the look-back; the hosts
	// outside the catalog are not a vendor.
	if got, want := strings.Join(news, ","), "data-team>mixpanel,billing-api>sentry,research>anthropic,10.5.0.2>cursor,data-team>deepseek,10.4.0.9>mistral"; got != want {
		t.Errorf("new edges =\n%s\nwant\n%s", got, want)
	}
	var newVendors []string
	for _, v := range g.Changes.NewVendors {
		newVendors = append(newVendors, v.Vendor)
	}
	if got := strings.Join(newVendors, ","); got != "sentry,cursor,deepseek,mistral" {
		t.Errorf("new vendors = %s", got)
	}
	if len(g.Models.Changes) != 1 || g.Models.Changes[0].From != "gpt-4o-2024-08-06" || g.Models.Changes[0].To != "gpt-4o-2024-11-20" {
		t.Errorf("model changes = %+v", g.Models.Changes)
	}
	if g.Totals.Requests != g.Concentration.AIRequests+countOf(g, "mixpanel")+countOf(g, "sentry")+g.Totals.OutsideCatalog {
		t.Errorf("totals do not add up: %+v", g.Totals)
	}
}

func countOf(g *Graph, vendor string) int64 {
	for _, v := range g.Vendors {
		if v.ID == vendor {
			return v.Requests
		}
	}
	return 0
}

// TestLookbackLimitsNew: with no look-back, everything in the window is new; the report says
// how far it looked.
func TestLookbackLimitsNew(t *testing.T) {
	q := fixtureQuery()
	q.Lookback = 0
	g := buildFixture(t, fixtureStore(t), q)
	if len(g.Changes.NewVendors) != len(g.Vendors)-1 { // all but the hosts outside the catalog
		t.Errorf("%d new vendors of %d", len(g.Changes.NewVendors), len(g.Vendors))
	}
	if g.Window.Lookback != "0s" || !g.Window.LookbackSince.Equal(g.Window.Since) {
		t.Errorf("window %+v", g.Window)
	}
}

// TestFilteredReport: the usual flow filters narrow the report.
func TestFilteredReport(t *testing.T) {
	q := fixtureQuery()
	q.Filter.Client = "10.1.0.10"
	g := buildFixture(t, fixtureStore(t), q)
	if len(g.Clients) != 1 || g.Clients[0].ID != "10.1.0.10" || g.Filter["client"] != "10.1.0.10" {
		t.Fatalf("clients %v, filter %v", g.Clients, g.Filter)
	}
}

var httpRef = regexp.MustCompile(`(?i)\b(src|href|xlink:href|action|srcset|poster|data)\s*=\s*["']?\s*(https?:)?//`)

// TestHTMLSelfContained: the page fetches nothing: no src or href to a network address, no
// script, no @import or url() in its styles.
func TestHTMLSelfContained(t *testing.T) {
	g := buildFixture(t, fixtureStore(t), fixtureQuery())
	var b bytes.Buffer
	if err := Render(&b, g, "html", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, b.String())
}

func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	if m := httpRef.FindString(page); m != "" {
		t.Errorf("the page refers to the network: %q", m)
	}
	for _, bad := range []string{"<script", "@import", "url(", "<link", "<iframe", "<img", "<object", "<embed"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
}

// TestHTMLScale: 500 clients × 40 vendors stays readable (the drawn graph is collapsed) and
// the page stays under 2 MB.
func TestHTMLScale(t *testing.T) {
	cat := fixtureCatalog(t)
	a := &Aggregate{Version: AggregateVersion, Since: now.Add(-7 * 24 * time.Hour), Until: now, Lookback: Duration(30 * 24 * time.Hour)}
	var ids []string
	for _, v := range cat.Vendors() {
		ids = append(ids, v.ID)
	}
	for i := len(ids); len(ids) < 40; i++ {
		ids = append(ids, "vendor-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	for _, id := range ids {
		a.Vendors = append(a.Vendors, &AggVendor{ID: id, Name: id, Category: "ai-provider", Country: "US", Daily: make([]int64, 7),
			FirstSeen: Seen{Time: now.Add(-40 * 24 * time.Hour), Flow: "01KB"}})
	}
	for c := range 500 {
		for v, id := range ids {
			if (c+v)%3 == 0 {
				continue
			}
			n := int64(1 + (c*7+v*13)%97)
			a.Edges = append(a.Edges, &AggEdge{Client: "10.20." + strconv.Itoa(c/250) + "." + strconv.Itoa(c%250), Vendor: id,
				Counts:    Counts{Requests: n, BytesOut: 1000 * n, Actions: map[string]int64{"allow": n}, Findings: map[string]int64{"pii": n % 3}},
				First:     Seen{Time: now.Add(-6 * 24 * time.Hour), Flow: "01KC"},
				Last:      Seen{Time: now.Add(-time.Hour), Flow: "01KD"},
				FirstSeen: Seen{Time: now.Add(-time.Duration(c%30) * 24 * time.Hour), Flow: "01KE"}})
		}
	}
	g, err := Build(a, Options{Catalog: cat, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Render(&b, g, "html", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("500 clients × 40 vendors, %d edges: HTML %d bytes", len(g.Edges), b.Len())
	if b.Len() > 2<<20 {
		t.Errorf("HTML is %d bytes, want under 2 MiB", b.Len())
	}
	checkSelfContained(t, b.String())
	c := g.Collapse(CollapseOptions{})
	if len(c.Clients) > 26 || len(c.Vendors) > 31 {
		t.Errorf("collapsed to %d clients and %d vendors", len(c.Clients), len(c.Vendors))
	}
	// Collapsing keeps every request.
	var total, drawn int64
	for _, e := range g.Edges {
		total += e.Requests
	}
	for _, e := range c.Edges {
		drawn += e.Requests
	}
	if total != drawn {
		t.Errorf("collapsed edges carry %d requests, want %d", drawn, total)
	}
}

// TestExposureGolden: Mixpanel's exposure in the fixture: data-team's and 10.4.0.9's direct
// flows, and everything sent to OpenAI, whose web front end reported to Mixpanel (not what
// Cursor sent on to OpenAI); a host outside the catalog; a vendor named by its host; a
// company on a subprocessor list; a company the catalog names as a parent.
func TestExposureGolden(t *testing.T) {
	s := fixtureStore(t)
	cat := fixtureCatalog(t)
	f := store.Filter{Since: now.Add(-30 * 24 * time.Hour), Until: now}
	for _, c := range []struct{ name, target string }{
		{"mixpanel", "mixpanel"}, {"host", "llm.internal.example"}, {"vendor-host", "api-js.mixpanel.com"},
		{"company", "Snowflake"}, {"external", "twilio"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tg, err := ResolveTarget(cat, c.target)
			if err != nil {
				t.Fatal(err)
			}
			x, err := RunExposure(context.Background(), StoreDigests{s}, tg, f, ExposureOptions{Catalog: cat, Namer: fixtureNames, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			var tb, jb bytes.Buffer
			if err := WriteExposureTable(&tb, x); err != nil {
				t.Fatal(err)
			}
			if err := WriteExposureJSON(&jb, x); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/exposure-"+c.name+".txt", tb.Bytes())
			golden.Check(t, "testdata/exposure-"+c.name+".json", jb.Bytes())
		})
	}
}

func TestResolveTargetUnknown(t *testing.T) {
	_, err := ResolveTarget(fixtureCatalog(t), "mixpanl")
	if !errors.Is(err, ErrUnknownTarget) || !strings.Contains(err.Error(), `did you mean "mixpanel"?`) {
		t.Errorf("err = %v", err)
	}
}

// TestPaths: links are followed in the direction data moves, transitively up to the depth,
// each company once per path (the Segment ⇄ Mixpanel cycle ends), acquisitions towards the
// acquirer, first-party links only first, unverified links dropped with verifiedOnly.
func TestPaths(t *testing.T) {
	cat := fixtureCatalog(t)
	names := func(ps []*Path) []string {
		var out []string
		for _, p := range ps {
			out = append(out, strings.Join(p.Names(), ">"))
		}
		return out
	}
	tests := []struct {
		target       string
		depth        int
		verifiedOnly bool
		want         string
	}{
		// OpenAI's web analytics and Segment's telemetry reach Mixpanel; what Cursor sends
		// OpenAI for inference does not appear in OpenAI's web analytics (a first-party link
		// only starts a path).
		{"mixpanel", 4, false, "openai>mixpanel segment>mixpanel"},
		{"mixpanel", 1, false, "openai>mixpanel segment>mixpanel"},
		{"mixpanel", 4, true, ""},
		{"segment", 4, false, "mixpanel>segment"},
		// Cursor's data reaches OpenAI twice: as its inference provider, and on its
		// (unverified) subprocessor list; Statsig's, since OpenAI bought it.
		{"openai", 4, false, "cursor>openai cursor>openai statsig>openai"},
		// The catalog's edge and the list's entry make one link, not two.
		{"intercom", 4, true, "openai>intercom statsig>openai>intercom"},
		{"intercom", 1, true, "openai>intercom"},
		// Snowflake is only on OpenAI's list: whatever reaches OpenAI reaches it.
		{"snowflake", 4, false, "openai>snowflake cursor>openai>snowflake cursor>openai>snowflake statsig>openai>snowflake"},
		// Through Segment's parent; the Segment ⇄ Mixpanel cycle ends at the first repeat.
		{"twilio", 4, false, "segment>twilio mixpanel>segment>twilio"},
		{"llm.internal.example", 4, false, ""},
	}
	for _, tc := range tests {
		tg, err := ResolveTarget(cat, tc.target)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(names(Paths(cat, tg, tc.depth, tc.verifiedOnly)), " ")
		if got != tc.want {
			t.Errorf("Paths(%s, depth %d, verified %v) = %q, want %q", tc.target, tc.depth, tc.verifiedOnly, got, tc.want)
		}
	}
}

// A name or host that a spreadsheet would run as a formula is written as text.
func TestCSVFormulaCells(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "'+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"data-team", "data-team"},
		{"10.1.2.3", "10.1.2.3"},
		{"", ""},
	} {
		var b bytes.Buffer
		w := &safeCSV{csv.NewWriter(&b)}
		if err := w.Write([]string{tc.in}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		got, err := csv.NewReader(&b).Read()
		if tc.in == "" {
			continue
		}
		if err != nil || got[0] != tc.want {
			t.Errorf("%q: wrote %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}
