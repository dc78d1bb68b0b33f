package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/golden"
)

// TestCatalogGolden runs `customs catalog` as users do; each golden file holds stdout, then
// stderr when there is any.
func TestCatalogGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"list", []string{"list"}, 0},
		{"list-category", []string{"list", "--category", "session-replay"}, 0},
		{"list-config", []string{"list", "--config", "vendors.yaml", "--category", "ai-platform"}, 0},
		{"show-openai", []string{"show", "openai"}, 0},
		{"show-mixpanel-json", []string{"show", "mixpanel", "--json"}, 0},
		{"show-hotjar", []string{"show", "--json=false", "hotjar"}, 0},
		{"show-config", []string{"show", "corp-llm-gateway", "--config", "vendors.yaml"}, 0},
		{"show-unknown", []string{"show", "opnai"}, 2},
		{"show-external", []string{"show", "coreweave"}, 2},
		{"show-no-id", []string{"show"}, 2},
		{"bad-config", []string{"list", "--config", "bad-vendors.yaml"}, 2},
		{"unknown-category", []string{"list", "--category", "llm"}, 2},
		{"no-subcommand", nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCustoms(t, "testdata/catalog", append([]string{"catalog"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			got := out
			if errOut != "" {
				got += "--- stderr\n" + errOut
			}
			golden.Check(t, filepath.Join("testdata", "catalog", tt.name+".golden"), []byte(got))
		})
	}
}

// The --json forms are for tools: one object per line for list, one document for show, both
// carrying the same vendor fields.
func TestCatalogJSON(t *testing.T) {
	out, errOut, code := runCustoms(t, t.TempDir(), "catalog", "list", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 105 {
		t.Errorf("%d JSON lines, want one per vendor (105)", len(lines))
	}
	for _, l := range lines {
		var v struct {
			ID    string            `json:"id"`
			Hosts []json.RawMessage `json:"hosts"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.ID == "" || len(v.Hosts) == 0 {
			t.Errorf("line %q: %v", l, err)
		}
	}

	out, _, code = runCustoms(t, t.TempDir(), "catalog", "show", "--json", "statsig")
	var v struct {
		ID    string `json:"id"`
		Edges []struct {
			From, To, Kind string
		} `json:"edges"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 {
		t.Fatalf("show --json: exit %d, %v", code, err)
	}
	if v.ID != "statsig" || len(v.Edges) != 3 {
		t.Errorf("show --json statsig = %+v, want 3 edges", v)
	}
}

// serve intercepts and attributes the hosts of the operator's vendors: the config's catalog is
// the one the proxy uses, not only the one `catalog show` prints.
func TestServeUsesConfigVendors(t *testing.T) {
	upAddr, upCA := fakeVendor(t)
	data := t.TempDir()
	cfg, err := filepath.Abs("testdata/catalog/vendors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := startCustoms(t, "--config", cfg, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
	for _, url := range []string{"https://llm-gateway.corp.example/v1/chat/completions", "https://eu.llm.corp.example/v1/models", "https://openai-proxy.corp.example/v1/models"} {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s.waitLine(t, map[string]any{"message": "flow", "host": "llm-gateway.corp.example", "vendor": "corp-llm-gateway", "category": "ai-platform", "mode": "intercepted"})
	s.waitLine(t, map[string]any{"message": "flow", "host": "eu.llm.corp.example", "vendor": "corp-llm-gateway", "mode": "intercepted"})
	s.waitLine(t, map[string]any{"message": "flow", "host": "openai-proxy.corp.example", "vendor": "openai", "mode": "intercepted"})
}
