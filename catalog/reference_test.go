package catalog_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog"
)

// referenceEdges are the supply-chain edges of vendors.yaml (compiled 2026-11-21): 11
// relationships that expand to 36 from -> to pairs, then the 3 that issue 13 added (owners of
// W&B, Langfuse and Windsurf). Written out here rather than read from the reference so that a
// change to either side is a visible diff. Contentsquare, an outside company in the reference,
// is a catalog vendor since issue 13.
var referenceEdges = []struct {
	from, to []string
	kind     string
	verified bool
}{
	{[]string{"openai"}, []string{"mixpanel"}, "web-analytics-on-vendor-frontend", false},
	{[]string{"openai"}, []string{"statsig"}, "acquisition", false},
	{[]string{"openai"}, []string{"intercom"}, "subprocessor", true},
	{[]string{"github-copilot"}, []string{"openai", "anthropic", "xai", "fireworks-ai", "aws-bedrock", "google-vertex-ai", "azure-openai", "fullstory"}, "subprocessor", true},
	{[]string{"cursor"}, []string{"openai", "anthropic", "fireworks-ai", "together-ai"}, "inference-provider", false},
	{[]string{"huggingface"}, []string{"cohere", "fireworks-ai", "groq", "together-ai", "zhipu-ai"}, "router-upstream", true},
	{[]string{"openrouter"}, []string{"openai", "deepseek", "anthropic", "google-gemini"}, "router-upstream", true},
	{[]string{"aws-bedrock", "google-vertex-ai", "azure-openai"}, []string{"anthropic", "mistral"}, "model-hosting", true},
	{[]string{"anthropic"}, []string{"statsig"}, "client-telemetry", false},
	{[]string{"openai"}, []string{"statsig", "sentry", "datadog"}, "client-telemetry", false},
	{[]string{"hotjar", "heap"}, []string{"contentsquare"}, "parent-company", false},
	{[]string{"wandb"}, []string{"coreweave"}, "parent-company", false},
	{[]string{"langfuse"}, []string{"clickhouse"}, "parent-company", false},
	{[]string{"windsurf"}, []string{"cognition"}, "parent-company", false},
}

// externalCompanies are the relationship ends that are not catalog vendors.
var externalCompanies = []string{"coreweave", "clickhouse", "cognition"}

func edgeKey(e catalog.Edge) string {
	return fmt.Sprintf("%s -> %s %s verified=%v", e.From, e.To, e.Kind, e.Verified)
}

// TestBuiltinHasEveryRelationship checks each reference edge from both of its ends, and that the
// catalog holds no edge beyond them.
func TestBuiltinHasEveryRelationship(t *testing.T) {
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, r := range referenceEdges {
		for _, from := range r.from {
			for _, to := range r.to {
				k := edgeKey(catalog.Edge{From: from, To: to, Kind: r.kind, Verified: r.verified})
				want[k] = true
				for _, end := range []string{from, to} {
					if !slices.ContainsFunc(c.Edges(end), func(e catalog.Edge) bool { return edgeKey(e) == k }) {
						t.Errorf("Edges(%q) lacks %s", end, k)
					}
				}
			}
		}
	}
	if len(want) != 36+3 {
		t.Fatalf("reference table has %d edges, want 39", len(want))
	}
	got := map[string]bool{}
	for _, id := range append(vendorIDs(c), externalCompanies...) {
		for _, e := range c.Edges(id) {
			if e.From != id && e.To != id {
				t.Errorf("Edges(%q) returned %s", id, edgeKey(e))
			}
			got[edgeKey(e)] = true
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("catalog has an edge the reference does not: %s", k)
		}
	}
	if len(got) != len(want) {
		t.Errorf("catalog has %d edges, want %d", len(got), len(want))
	}
}

func vendorIDs(c *catalog.Catalog) []string {
	var ids []string
	for _, v := range c.Vendors() {
		ids = append(ids, v.ID)
	}
	return ids
}

func TestEdges(t *testing.T) {
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		want []string // edges in catalog order, "from -> to kind"
	}{
		{"mixpanel", []string{"openai -> mixpanel web-analytics-on-vendor-frontend"}},
		{"statsig", []string{"openai -> statsig acquisition", "anthropic -> statsig client-telemetry", "openai -> statsig client-telemetry"}},
		{"mistral", []string{"aws-bedrock -> mistral model-hosting", "google-vertex-ai -> mistral model-hosting", "azure-openai -> mistral model-hosting"}},
		{"contentsquare", []string{"hotjar -> contentsquare parent-company", "heap -> contentsquare parent-company"}},
		{"perplexity", nil},
		{"no-such-vendor", nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			var got []string
			for _, e := range c.Edges(tt.id) {
				got = append(got, e.From+" -> "+e.To+" "+e.Kind)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Edges(%q) =\n%s\nwant\n%s", tt.id, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}

	hotjar := c.Edges("hotjar")
	if len(hotjar) != 1 || hotjar[0].FromExternal || hotjar[0].ToExternal {
		t.Errorf("Edges(hotjar) = %+v, want one edge to a catalog vendor", hotjar)
	}
	wandb := c.Edges("wandb")
	if len(wandb) != 1 || wandb[0].FromExternal || !wandb[0].ToExternal || wandb[0].To != "coreweave" {
		t.Errorf("Edges(wandb) = %+v, want one edge to an external company", wandb)
	}
	openai := c.Edges("openai")
	openai[0].From = "changed"
	if c.Edges("openai")[0].From == "changed" {
		t.Error("Edges exposes the catalog's own slice")
	}
}

func TestVendor(t *testing.T) {
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range vendorIDs(c) {
		v, ok := c.Vendor(id)
		if !ok || v.ID != id {
			t.Errorf("Vendor(%q) = %v, %v", id, v, ok)
		}
	}
	for _, id := range []string{"", "OpenAI", "coreweave", "openai "} {
		if v, ok := c.Vendor(id); ok || v != nil {
			t.Errorf("Vendor(%q) = %v, %v; want none", id, v, ok)
		}
	}
	// Spot checks that the facts beyond hosts made it into the catalog.
	openai, _ := c.Vendor("openai")
	if openai.Subprocessors == nil || openai.Subprocessors.VersionSeen != "2025-04-30" || len(openai.Subprocessors.Entries) != 12 {
		t.Errorf("openai subprocessors = %+v", openai.Subprocessors)
	}
	if e := openai.Endpoints[0]; e.Method != "POST" || e.Path != "/v1/chat/completions" || !slices.Contains(e.PromptFields, "messages[].content") {
		t.Errorf("openai first endpoint = %+v", e)
	}
	if openai.Sources[0].Note == "" {
		t.Error("openai's first source lost the commit it was read at")
	}
	ms, _ := c.Vendor("microsoft")
	if ms != nil {
		t.Error("microsoft is a subprocessor, not a catalog vendor")
	}
	hotjar, _ := c.Vendor("hotjar")
	if hotjar.Country != "MT" || hotjar.HeadquartersVerified || !strings.Contains(hotjar.HeadquartersNote, "Malta") {
		t.Errorf("hotjar headquarters = %q verified=%v note=%q", hotjar.Country, hotjar.HeadquartersVerified, hotjar.HeadquartersNote)
	}
}

func TestSuggest(t *testing.T) {
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"opnai":      "openai",
		"OpenAI":     "openai",
		"mistal":     "mistral",
		"antrhopic":  "anthropic",
		"gemini":     "google-gemini",
		"bedrock":    "aws-bedrock",
		"copilot":    "github-copilot",
		"kimi":       "moonshot-ai",
		"google":     "", // gemini or vertex: no single answer
		"ai":         "",
		"":           "",
		"salesforce": "",
	} {
		if got := c.Suggest(in); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
