package catalog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog"
)

// hosts turns host strings as an operator writes them into catalog hosts for Extend.
func hosts(patterns ...string) []catalog.Host {
	var hs []catalog.Host
	for _, p := range patterns {
		hs = append(hs, catalog.Host{Pattern: p})
	}
	return hs
}

func gateway(id string, patterns ...string) catalog.Vendor {
	return catalog.Vendor{ID: id, Name: "ACME gateway", Category: "ai-platform", Country: "US", Hosts: hosts(patterns...)}
}

func TestExtend(t *testing.T) {
	base, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ext  []catalog.Vendor
		// lookups that must hold on the extended catalog, host -> vendor ID ("-" for none)
		lookups map[string]string
		// errors as "index field: substring of the message", in order; none for success
		errs []string
	}{
		{
			name: "new vendor",
			ext:  []catalog.Vendor{gateway("corp-llm-gateway", "llm-gateway.corp.example", "*.llm.corp.example")},
			lookups: map[string]string{
				"llm-gateway.corp.example": "corp-llm-gateway", "a.llm.corp.example": "corp-llm-gateway",
				"a.b.llm.corp.example": "corp-llm-gateway", "llm.corp.example": "-", "api.openai.com": "openai",
			},
		},
		{
			name:    "hosts as written by hand",
			ext:     []catalog.Vendor{gateway("corp", "LLM.Corp.Example.", "*.AI.corp.example")},
			lookups: map[string]string{"llm.corp.example": "corp", "x.ai.corp.example": "corp"},
		},
		{
			name:    "hosts added to a built-in vendor",
			ext:     []catalog.Vendor{{ID: "openai", Hosts: hosts("openai-proxy.corp.example", "api.openai.com")}},
			lookups: map[string]string{"openai-proxy.corp.example": "openai", "api.openai.com": "openai", "chatgpt.com": "openai"},
		},
		{
			name:    "two operator vendors",
			ext:     []catalog.Vendor{gateway("a-gw", "a.corp.example"), gateway("b-gw", "*.b.corp.example"), {ID: "mixpanel", Hosts: hosts("mp.corp.example")}},
			lookups: map[string]string{"a.corp.example": "a-gw", "x.b.corp.example": "b-gw", "mp.corp.example": "mixpanel"},
		},
		{
			name: "duplicate id",
			ext:  []catalog.Vendor{gateway("corp", "a.corp.example"), gateway("corp", "b.corp.example"), {ID: "openai"}, {ID: "openai"}},
			errs: []string{`1 id: duplicate vendor "corp" (first given by extension 0)`, `3 id: duplicate vendor "openai" (first given by extension 2)`},
		},
		{
			name: "bad ids",
			ext:  []catalog.Vendor{gateway("", "a.corp.example"), gateway("Corp GW", "b.corp.example")},
			errs: []string{"0 id: is required", `1 id: "Corp GW" must be lower-case`},
		},
		{
			name: "new vendor without its required fields",
			ext:  []catalog.Vendor{{ID: "corp", Category: "ai-platform"}},
			errs: []string{`0 name: is required for a new vendor ("corp" is not in the catalog)`, "0 country: is required", "0 hosts: a new vendor needs at least one host"},
		},
		{
			name: "misspelt built-in vendor",
			ext:  []catalog.Vendor{{ID: "opnai", Hosts: hosts("openai-proxy.corp.example")}},
			errs: []string{`0 id: unknown vendor "opnai" (did you mean "openai"?); a new vendor needs name, category and country`},
		},
		{
			name: "unknown category",
			ext:  []catalog.Vendor{{ID: "corp", Name: "Corp", Category: "ai-platfrom", Country: "US", Hosts: hosts("a.corp.example")}, {ID: "openai", Category: "llm"}},
			errs: []string{`0 category: unknown category "ai-platfrom" (did you mean "ai-platform"?); want one of ai-platform, ai-provider,`, `1 category: unknown category "llm"; want one of`},
		},
		{
			name: "bad countries",
			ext: []catalog.Vendor{
				{ID: "openai", Country: "XX"}, {ID: "anthropic", Country: "us"}, {ID: "mistral", Country: "UK"}, {ID: "cohere", Country: "USA"},
			},
			errs: []string{
				`0 country: "XX" is not an ISO 3166-1 alpha-2 country code`, `1 country: country code "us" must be upper case ("US")`,
				`2 country: "UK" is not an ISO 3166-1 code; the United Kingdom is "GB"`, `3 country: "USA" is not`,
			},
		},
		{
			name: "invalid host patterns",
			ext:  []catalog.Vendor{gateway("corp", "api.*.corp.example", "https://llm.corp.example", "llm.corp.example:443", "*.com", "-llm.corp.example", "", "llm..corp.example", "llm_gw.corp.example", "**.corp.example")},
			errs: []string{
				`0 hosts[0]: invalid host "api.*.corp.example": a wildcard is only allowed as a whole first label`,
				`0 hosts[1]: invalid host "https://llm.corp.example": want a host name without scheme, port or path`,
				`0 hosts[2]: invalid host "llm.corp.example:443": want a host name without scheme, port or path`,
				`0 hosts[3]: invalid host "*.com": a wildcard needs at least two labels`,
				`0 hosts[4]: invalid host "-llm.corp.example": label "-llm" starts or ends with '-'`,
				`0 hosts[5]: empty host`,
				`0 hosts[6]: invalid host "llm..corp.example": empty label`,
				`0 hosts[7]: invalid host "llm_gw.corp.example": character '_'`,
				`0 hosts[8]: invalid host "**.corp.example": a wildcard is only allowed`,
			},
		},
		{
			name: "hosts claimed by built-in vendors",
			ext: []catalog.Vendor{gateway("corp",
				"api.openai.com",     // exact host of openai
				"x.posthog.com",      // matched by posthog's wildcard
				"*.openai.azure.com", // the same hosts as azure-openai's wildcard
				"*.amazonaws.com",    // covers bedrock's templates
				"*.openai.com",       // covers openai's exact hosts
				"*.sentry.io",        // covers sentry's ingest templates
				"llm.corp.example",   // fine
			)},
			errs: []string{
				`0 hosts[0]: host "api.openai.com" already belongs to vendor "openai"`,
				`0 hosts[1]: host "x.posthog.com" already belongs to vendor "posthog"`,
				`0 hosts[2]: host pattern "*.openai.azure.com" overlaps vendor "azure-openai" (both match "a.openai.azure.com")`,
				`0 hosts[3]: host pattern "*.amazonaws.com" overlaps vendor "aws-bedrock" (both match "bedrock-runtime.a.amazonaws.com")`,
				`0 hosts[4]: host pattern "*.openai.com" overlaps vendor "openai" (both match "api.openai.com")`,
				`0 hosts[5]: host pattern "*.sentry.io" overlaps vendor "sentry" (both match "o0.ingest.sentry.io")`,
			},
		},
		{
			name: "hosts claimed by another operator vendor",
			ext: []catalog.Vendor{
				gateway("a-gw", "a.corp.example", "*.b.corp.example"),
				gateway("b-gw", "a.corp.example", "x.b.corp.example", "*.corp.example", "c.corp.example"),
				{ID: "openai", Hosts: hosts("c.corp.example")},
			},
			errs: []string{
				`1 hosts[0]: host "a.corp.example" already belongs to vendor "a-gw"`,
				`1 hosts[1]: host "x.b.corp.example" already belongs to vendor "a-gw"`,
				`1 hosts[2]: host pattern "*.corp.example" overlaps vendor "a-gw" (both match "a.corp.example")`,
				`2 hosts[0]: host "c.corp.example" already belongs to vendor "b-gw"`,
			},
		},
		{
			name: "every problem at once",
			ext: []catalog.Vendor{
				{ID: "corp", Name: "Corp", Category: "nope", Country: "ZZ", Hosts: hosts("api.anthropic.com", "ok.corp.example", "bad host")},
				{ID: "corp"},
			},
			errs: []string{"0 category:", "0 country:", `0 hosts[0]: host "api.anthropic.com" already belongs to vendor "anthropic"`, `0 hosts[2]: invalid host "bad host"`, `1 id: duplicate vendor "corp"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.Extend(base, tt.ext)
			if len(tt.errs) > 0 {
				var es catalog.ExtensionErrors
				if !errors.As(err, &es) {
					t.Fatalf("Extend = %v, %v; want ExtensionErrors", c, err)
				}
				if c != nil {
					t.Error("Extend returned a catalog with its errors")
				}
				var got []string
				for _, e := range es {
					got = append(got, fmt.Sprintf("%d %s: %s", e.Index, e.Field, e.Msg))
					if e.First >= 0 {
						got[len(got)-1] += fmt.Sprintf(" (first given by extension %d)", e.First)
					}
				}
				if len(got) != len(tt.errs) {
					t.Fatalf("errors:\n%s\nwant %d:\n%s", strings.Join(got, "\n"), len(tt.errs), strings.Join(tt.errs, "\n"))
				}
				for i, w := range tt.errs {
					if !strings.HasPrefix(got[i], w) {
						t.Errorf("error %d = %q, want prefix %q", i, got[i], w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Extend: %v", err)
			}
			for host, want := range tt.lookups {
				got := "-"
				if v, ok := c.Lookup(host); ok {
					got = v.ID
				}
				if got != want {
					t.Errorf("Lookup(%q) = %s, want %s", host, got, want)
				}
			}
			// base is untouched: the operator's hosts are only in the new catalog.
			for host, want := range tt.lookups {
				if v, ok := base.Lookup(host); ok && v.ID != want {
					t.Errorf("base.Lookup(%q) = %s after Extend", host, v.ID)
				}
			}
			if len(c.Vendors()) < len(base.Vendors()) {
				t.Errorf("extended catalog has %d vendors, base %d", len(c.Vendors()), len(base.Vendors()))
			}
		})
	}
}

func TestExtendOverrides(t *testing.T) {
	base, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Extend(base, []catalog.Vendor{
		{ID: "mistral", Name: "Mistral (EU contract)", Country: "DE", JurisdictionNotes: "Our contract pins EU processing.", Hosts: hosts("mistral.corp.example", "*.mistral.corp.example")},
		gateway("corp-llm-gateway", "llm-gateway.corp.example"),
	})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.Vendor("mistral")
	orig, _ := base.Vendor("mistral")
	if m.Name != "Mistral (EU contract)" || m.Category != orig.Category || m.Country != "DE" || m.HeadquartersVerified {
		t.Errorf("mistral = %q %q %q verified=%v", m.Name, m.Category, m.Country, m.HeadquartersVerified)
	}
	if m.JurisdictionNotes != "Our contract pins EU processing." || len(m.Endpoints) != len(orig.Endpoints) || len(m.Sources) != len(orig.Sources) {
		t.Errorf("mistral lost or kept the wrong facts: %+v", m)
	}
	if n := len(m.Hosts); n != len(orig.Hosts)+2 {
		t.Errorf("mistral has %d hosts, want %d", n, len(orig.Hosts)+2)
	}
	added := m.Hosts[len(m.Hosts)-1]
	if added.Pattern != "*.mistral.corp.example" || added.Match != catalog.MatchWildcard || added.Verified || added.Evidence != catalog.EvidenceOperator {
		t.Errorf("added host = %+v", added)
	}
	if orig.Name != "Mistral AI" || len(orig.Hosts) != 2 {
		t.Errorf("Extend changed the base vendor: %+v", orig)
	}
	if gw, ok := c.Vendor("corp-llm-gateway"); !ok || gw.Category != "ai-platform" || !catalog.IsAI(gw.Category) {
		t.Errorf("Vendor(corp-llm-gateway) = %+v, %v", gw, ok)
	}
	// Relationships carry over to the extended catalog.
	if len(c.Edges("mistral")) != len(base.Edges("mistral")) || len(c.Edges("mistral")) == 0 {
		t.Errorf("Edges(mistral) = %v, want the built-in ones", c.Edges("mistral"))
	}
}

func TestExtendErrorText(t *testing.T) {
	base, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = catalog.Extend(base, []catalog.Vendor{gateway("corp", "a.corp.example"), gateway("corp", "b.corp.example")})
	want := `catalog: vendor extension 1: id: duplicate vendor "corp" (first given by extension 0)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	var one *catalog.ExtensionError
	if !errors.As(err, &one) || one.Index != 1 || one.Field != "id" || one.First != 0 {
		t.Errorf("errors.As(*ExtensionError) = %+v", one)
	}
}

// FuzzExtendHost checks the reading of operator host patterns: no input panics, and a pattern
// that is accepted leads Lookup back to its vendor.
func FuzzExtendHost(f *testing.F) {
	for _, s := range []string{"llm.corp.example", "*.llm.corp.example", "LLM.corp.example.", "*.com", "api.*.x", "x:1", "", "a..b", "*.a-b.c0", "\u212a.example"} {
		f.Add(s)
	}
	base, err := catalog.New([]catalog.Vendor{{ID: "base", Name: "Base", Category: "analytics", Country: "US", Hosts: []catalog.Host{{Pattern: "base.test", Match: catalog.MatchExact}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		c, err := catalog.Extend(base, []catalog.Vendor{gateway("op", pattern)})
		if err != nil {
			var es catalog.ExtensionErrors
			if !errors.As(err, &es) {
				t.Fatalf("Extend(%q) = %v, want ExtensionErrors", pattern, err)
			}
			return
		}
		v, _ := c.Vendor("op")
		h := v.Hosts[0]
		probe := h.Pattern
		if suffix, ok := strings.CutPrefix(h.Pattern, "*."); ok {
			probe = "x." + suffix
		}
		if got, ok := c.Lookup(probe); !ok || got.ID != "op" {
			t.Fatalf("pattern %q accepted as %+v, but Lookup(%q) = %v, %v", pattern, h, probe, got, ok)
		}
	})
}
