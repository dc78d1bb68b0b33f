package catalog

import (
	"strings"
	"testing"
)

// TestParseRejectsBrokenFiles covers what Builtin would return for a broken vendors.json: an
// error, not a panic and not a partial catalog.
func TestParseRejectsBrokenFiles(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"truncated", `{"schema_version": 1, "vendors": [`, "decode vendors.json"},
		{"not json", `vendors: []`, "decode vendors.json"},
		{"unknown key", `{"schema_version": 1, "vendors": [{"id": "a", "regexp": "x"}]}`, `unknown field "regexp"`},
		{"trailing data", `{"schema_version": 1, "vendors": []} {}`, "after the top-level object"},
		{"wrong schema", `{"schema_version": 2, "vendors": []}`, "schema_version 2"},
		{"invalid vendor", `{"schema_version": 1, "vendors": [{"id": "A"}]}`, `vendor "A"`},
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
