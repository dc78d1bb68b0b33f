package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The supply-chain commands through the real binary, against the store a real customs serve
// wrote: customs report --format json and customs exposure mixpanel while serve runs (serve
// scans its store for them through the admin API), then offline once it stopped, with the
// same answers; the export of exposed flows is masked; names come from the config's clients:.
func TestReportAndExposureEndToEnd(t *testing.T) {
	p := startPolicyProxy(t, "clients:\n  127.0.0.0/8: e2e-team\n", nil)
	cfg := filepath.Join(p.dir, "customs.yaml")
	data := filepath.Join(p.dir, "data")
	const key, email = "AKIAZ7VQ3KXJ5N2WPLMR", "jane.doe@corp-example.org"
	p.post(t, "https://api.openai.com/v1/chat/completions?served_model=gpt-4o-2024-11-20", "application/json",
		[]byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"summarise the incident"}]}`), nil)
	p.post(t, "https://api.openai.com/v1/chat/completions", "application/json",
		[]byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"deploy with `+key+`"}]}`), nil)
	p.post(t, "https://api.anthropic.com/v1/messages", "application/json",
		[]byte(`{"model":"claude-sonnet-4","max_tokens":5,"messages":[{"role":"user","content":"hello"}]}`), nil)
	event := base64.StdEncoding.EncodeToString([]byte(`{"event":"signup","properties":{"$email":"` + email + `","token":"t"}}`))
	p.post(t, "https://api-js.mixpanel.com/track", "application/x-www-form-urlencoded", []byte("data="+event), nil)
	p.s.waitLine(t, map[string]any{"message": "flow", "host": "api-js.mixpanel.com"})

	args := func(a ...string) []string { return append(a, "--config", cfg, "--data", data, "--admin", p.s.admin) }
	// While serve runs: the store writes in batches, so wait for the four flows.
	var graph map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, errOut, code := runCustoms(t, ".", args("report", "--format", "json", "--since", "1h")...)
		if code != 0 {
			t.Fatalf("report --format json while serve runs: exit %d\n%s", code, errOut)
		}
		graph = nil
		if err := json.Unmarshal([]byte(out), &graph); err != nil {
			t.Fatalf("report JSON: %v\n%s", err, out)
		}
		if graph["totals"].(map[string]any)["requests"].(float64) == 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkGraph := func(t *testing.T, g map[string]any, raw string) {
		t.Helper()
		if g["schema"] != "customs.report" || g["version"].(float64) != 1 {
			t.Errorf("schema %v version %v", g["schema"], g["version"])
		}
		if n := g["totals"].(map[string]any)["requests"].(float64); n != 4 {
			t.Errorf("totals.requests = %v, want 4", n)
		}
		clients := g["clients"].([]any)
		if len(clients) != 1 || clients[0].(map[string]any)["name"] != "e2e-team" {
			t.Errorf("clients = %v", clients)
		}
		for _, want := range []string{`"id": "openai"`, `"id": "mixpanel"`, `"id": "anthropic"`, `"kind": "web-analytics-on-vendor-frontend"`,
			`"model": "gpt-4o"`, `"served": "gpt-4o-2024-11-20"`, `"secret.aws-access-key-id"`} {
			if !strings.Contains(raw, want) {
				t.Errorf("report JSON lacks %s", want)
			}
		}
		if strings.Contains(raw, key) || strings.Contains(raw, email) {
			t.Error("the report holds a detected value")
		}
	}
	out, _, _ := runCustoms(t, ".", args("report", "--format", "json", "--since", "1h")...)
	checkGraph(t, graph, out)

	exposure := func(t *testing.T, extra ...string) (string, map[string]any) {
		t.Helper()
		out, errOut, code := runCustoms(t, ".", args(append([]string{"exposure", "mixpanel", "--since", "1h"}, extra...)...)...)
		if code != 0 {
			t.Fatalf("exposure mixpanel: exit %d\n%s", code, errOut)
		}
		js, errOut, code := runCustoms(t, ".", args(append([]string{"exposure", "mixpanel", "--since", "1h", "--json"}, extra...)...)...)
		if code != 0 {
			t.Fatalf("exposure mixpanel --json: exit %d\n%s", code, errOut)
		}
		var x map[string]any
		if err := json.Unmarshal([]byte(js), &x); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out+js, key) || strings.Contains(out+js, email) {
			t.Fatal("the exposure holds a detected value")
		}
		return out, x
	}
	checkExposure := func(t *testing.T, out string, x map[string]any) {
		t.Helper()
		// Direct: the Mixpanel flow; indirect: both OpenAI flows, whose vendor's web front
		// end reported to Mixpanel.
		for _, want := range []string{"127.0.0.1 → mixpanel", "127.0.0.1 → openai → mixpanel", "e2e-team (127.0.0.1)", "pii.email"} {
			if !strings.Contains(out, want) {
				t.Errorf("exposure table lacks %q:\n%s", want, out)
			}
		}
		tot := x["totals"].(map[string]any)
		if tot["direct"].(float64) != 1 || tot["indirect"].(float64) < 2 {
			t.Errorf("exposure totals %v", tot)
		}
		if x["schema"] != "customs.exposure" || x["target"].(map[string]any)["id"] != "mixpanel" {
			t.Errorf("exposure %v %v", x["schema"], x["target"])
		}
	}
	out, x := exposure(t)
	checkExposure(t, out, x)

	// Evidence through the API: every exposed flow, masked.
	evidence := filepath.Join(p.dir, "exposed.jsonl")
	if _, errOut, code := runCustoms(t, ".", args("exposure", "mixpanel", "--since", "1h", "--export", "jsonl", "--out", evidence)...); code != 0 {
		t.Fatalf("exposure --export: exit %d\n%s", code, errOut)
	}
	b, err := os.ReadFile(evidence)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n < 3 || strings.Contains(string(b), key) || strings.Contains(string(b), email) {
		t.Errorf("export: %d lines, masked: %v", n, !strings.Contains(string(b), key))
	}

	// Offline, once serve has stopped: the same answers from the store itself.
	if err := p.s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("customs did not exit")
	}
	out, errOut, code := runCustoms(t, ".", args("report", "--format", "json", "--since", "1h")...)
	if code != 0 {
		t.Fatalf("report offline: exit %d\n%s", code, errOut)
	}
	var offline map[string]any
	if err := json.Unmarshal([]byte(out), &offline); err != nil {
		t.Fatal(err)
	}
	checkGraph(t, offline, out)
	out, x = exposure(t)
	checkExposure(t, out, x)

	html := filepath.Join(p.dir, "map.html")
	if _, errOut, code := runCustoms(t, ".", args("report", "--since", "1h", "--format", "html", "--out", html)...); code != 0 {
		t.Fatalf("report --format html: exit %d\n%s", code, errOut)
	}
	page, _ := os.ReadFile(html)
	if !strings.Contains(string(page), "<svg") || regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?https?:`).Match(page) {
		t.Errorf("html page: %d bytes, svg %v", len(page), strings.Contains(string(page), "<svg"))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"exposure", "mixpanl"}, `did you mean "mixpanel"?`},
		{[]string{"report", "--format", "htm"}, `did you mean "html"?`},
		{[]string{"report", "--limit", "3"}, "--limit does not apply"},
		{[]string{"exposure", "mixpanel", "--vendor", "openai"}, "--vendor does not apply"},
		{[]string{"exposure", "mixpanel", "--out", "x"}, "--out is where --export writes"},
		{[]string{"report", "--lookback", "soon"}, "--lookback"},
	} {
		_, errOut, code := runCustoms(t, ".", args(tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
