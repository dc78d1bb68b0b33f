package catalog

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestParseRejectsBrokenFiles covers what Builtin would return for a broken vendors.json: an
// error, not a panic and not a partial catalog.
func TestParseRejectsBrokenFiles(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"truncated", `{"schema_version": 2, "vendors": [`, "decode vendors.json"},
		{"not json", `vendors: []`, "decode vendors.json"},
		{"unknown key", `{"schema_version": 2, "vendors": [{"id": "a", "regexp": "x"}]}`, `unknown field "regexp"`},
		{"unknown key in a source", `{"schema_version": 2, "vendors": [{"id": "a", "sources": [{"url": "https://a.test", "not": "x"}]}]}`, `unknown field "not"`},
		{"trailing data", `{"schema_version": 2, "vendors": []} {}`, "after the top-level object"},
		{"old schema", `{"schema_version": 1, "vendors": []}`, "schema_version 1, want 2"},
		{"invalid vendor", `{"schema_version": 2, "vendors": [{"id": "A"}]}`, `vendor "A"`},
		{"invalid relationship", `{"schema_version": 2, "vendors": [], "relationships": [{"from": ["a"], "to": ["b"], "kind": "subprocessor"}]}`, `unknown vendor "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse([]byte(tt.json))
			if err == nil || c != nil {
				t.Fatalf("parse = %v, %v; want an error", c, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestBuiltinIsFullyGated keeps the promise of Lookup's cost: a host outside the catalog runs no
// regex unless it shares its last two labels with a pattern host. A new pattern whose regex has
// no literal suffix of two labels would fall back to running on every lookup.
func TestBuiltinIsFullyGated(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range c.ungated {
		t.Errorf("vendor %q: regex %s has no suffix that fixes the last two labels (suffixes %q)", g.vendor.ID, g.re, g.suffixes)
	}
	for key, gates := range c.gated {
		for _, g := range gates {
			for _, s := range g.suffixes {
				if !strings.HasSuffix(s, key) {
					t.Errorf("gate %q of %s filed under %q", s, g.vendor.ID, key)
				}
			}
		}
	}
}

func TestTails(t *testing.T) {
	tests := []struct {
		regex string
		want  []string
	}{
		{`^[a-z0-9][a-z0-9-]*\.openai\.azure\.com$`, []string{".openai.azure.com"}},
		{`^([a-z0-9-]+\.)*cursor\.sh$`, []string{".cursor.sh", "^cursor.sh"}},
		{`^([a-z0-9-]+-)?aiplatform\.googleapis\.com$`, []string{"-aiplatform.googleapis.com", "^aiplatform.googleapis.com"}},
		{`^js(-de)?\.sentry-cdn\.com$`, []string{"^js-de.sentry-cdn.com", "^js.sentry-cdn.com"}},
		{`^a\.x\.com$|^b\.y\.com$`, []string{"^a.x.com", "^b.y.com"}},
		{`^.*$`, []string{""}},
		{`^(?i)api\.acme\.com$`, []string{""}},
	}
	for _, tt := range tests {
		g, err := compile(tt.regex)
		if err != nil {
			t.Fatalf("compile(%q): %v", tt.regex, err)
		}
		if strings.Join(g.suffixes, " ") != strings.Join(tt.want, " ") {
			t.Errorf("suffixes of %q = %q, want %q", tt.regex, g.suffixes, tt.want)
		}
	}
}

// TestBuiltinRoundTrips decodes vendors.json and encodes it again: every key of the file must
// come back with its value, so no fact of the reference is dropped by a field the Go types lack
// or by omitempty on a value that matters (verified: false).
func TestBuiltinRoundTrips(t *testing.T) {
	var raw any
	if err := json.Unmarshal(builtinJSON, &raw); err != nil {
		t.Fatal(err)
	}
	var f file
	if err := json.Unmarshal(builtinJSON, &f); err != nil {
		t.Fatal(err)
	}
	encoded, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back any
	if err := json.Unmarshal(encoded, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(raw, back) {
		t.Errorf("vendors.json changes in a decode/encode round trip:\n%s", diffJSON(raw, back, ""))
	}

	// The reference's counts (vendors.yaml, compiled 2026-11-21: 34 vendors, 130 hosts, 92 API
	// endpoints and 27 ingestion endpoints, two of which it gives as a method pair ("GET/POST",
	// "POST / WebSocket") that the catalog splits in two, 21 subprocessor lists, 104 sources, 11
	// relationships) plus issue 13's additions (71 vendors, 140 hosts, 143 endpoints, 91 sources,
	// 71 subprocessor statements, 3 relationships).
	counts := map[string]int{}
	for _, v := range f.Vendors {
		counts["vendors"]++
		counts["hosts"] += len(v.Hosts)
		counts["endpoints"] += len(v.Endpoints)
		if v.Subprocessors != nil {
			counts["subprocessor lists"]++
			counts["subprocessors"] += len(v.Subprocessors.Entries)
		}
		counts["sources"] += len(v.Sources)
	}
	counts["relationships"] = len(f.Relationships)
	want := map[string]int{
		"vendors": 34 + 71, "hosts": 130 + 140, "endpoints": 121 + 143, "subprocessor lists": 21 + 71,
		"subprocessors": 43, "sources": 104 + 91, "relationships": 11 + 3,
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("counts = %v, want %v", counts, want)
	}
}

// diffJSON names the paths at which two decoded JSON values differ.
func diffJSON(a, b any, path string) string {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %v vs %v\n", path, a, b)
		}
		var out string
		for k := range a {
			out += diffJSON(a[k], bm[k], path+"."+k)
		}
		for k := range bm {
			if _, ok := a[k]; !ok {
				out += fmt.Sprintf("%s.%s: added %v\n", path, k, bm[k])
			}
		}
		return out
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return fmt.Sprintf("%s: %v vs %v\n", path, a, b)
		}
		var out string
		for i := range a {
			out += diffJSON(a[i], bs[i], fmt.Sprintf("%s[%d]", path, i))
		}
		return out
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s: %v vs %v\n", path, a, b)
	}
	return ""
}

func TestSourceJSON(t *testing.T) {
	tests := []struct {
		src  Source
		json string
	}{
		{Source{URL: "https://a.test/x"}, `"https://a.test/x"`},
		{Source{URL: "https://a.test/x", Note: "commit 1234"}, `{"url":"https://a.test/x","note":"commit 1234"}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.src)
		if err != nil || string(got) != tt.json {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.src, got, err, tt.json)
		}
		var back Source
		if err := json.Unmarshal([]byte(tt.json), &back); err != nil || back != tt.src {
			t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", tt.json, back, err, tt.src)
		}
	}
	var s Source
	for _, bad := range []string{`42`, `{"url": "https://a.test", "title": "x"}`, `["https://a.test"]`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("Unmarshal(%s) accepted it as %+v", bad, s)
		}
	}
}

func TestCountries(t *testing.T) {
	if len(countries) != 249 {
		t.Errorf("%d country codes, want the 249 assigned ones", len(countries))
	}
	for cc, want := range map[string]bool{
		"US": true, "GB": true, "NO": true, "CN": true, "MT": true, "FR": true, "AX": true, "SS": true,
		"UK": false, "EU": false, "XK": false, "ZZ": false, "AA": false, "us": false, "": false,
	} {
		if countries[cc] != want {
			t.Errorf("countries[%q] = %v, want %v", cc, countries[cc], want)
		}
	}
}

func TestSamples(t *testing.T) {
	tests := []struct {
		regex string
		want  []string
	}{
		{`^api\.acme\.test$`, []string{"api.acme.test"}},
		{`^[a-z0-9][a-z0-9-]*\.openai\.azure\.com$`, []string{"a.openai.azure.com", "aa.openai.azure.com"}},
		{`^([a-z0-9-]+\.)*cursor\.sh$`, []string{"cursor.sh", "a.cursor.sh"}},
		{`^js(-de)?\.sentry-cdn\.com$`, []string{"js.sentry-cdn.com", "js-de.sentry-cdn.com"}},
		{`^o[0-9]+\.ingest\.(us\.|de\.)?sentry\.io$`, []string{"o0.ingest.sentry.io", "o0.ingest.us.sentry.io", "o0.ingest.de.sentry.io"}},
	}
	for _, tt := range tests {
		g, err := compile(tt.regex)
		if err != nil {
			t.Fatal(err)
		}
		if got := samples(g.re); !slices.Equal(got, tt.want) {
			t.Errorf("samples(%s) = %q, want %q", tt.regex, got, tt.want)
		}
	}
}
