package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The responder's commands through the real binary, against the store a real customs serve
// wrote: flows (while serve runs, through its admin API, and after it stopped, from the store
// itself), filters, show with masked bodies, evidence export, and replay with a new detector.
func TestFlowsAndReplayEndToEnd(t *testing.T) {
	upAddr, upCA, _ := fakeVendorRecording(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startCustoms(t, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
	p := &policyProxy{s: s, c: c}
	const key, email = "AKIAZ7VQ3KXJ5N2WPLMR", "jane.doe@corp-example.org"
	sends := []struct{ url, body string }{
		{"https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"deploy with ` + key + `"}]}`},
		{"https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"status of NIGHTJAR-204?"}]}`},
		{"https://api.anthropic.com/v1/messages", `{"model":"claude-sonnet-4","max_tokens":5,"messages":[{"role":"user","content":"mail ` + email + `"}]}`},
	}
	for _, snd := range sends {
		p.post(t, snd.url, "application/json", []byte(snd.body), nil)
	}
	s.waitLine(t, map[string]any{"message": "flow", "host": "api.anthropic.com"})

	// While serve runs, it holds the store: flows reads through the admin API.
	var out string
	deadline := time.Now().Add(10 * time.Second)
	for {
		var code int
		out, _, code = runCustoms(t, ".", "flows", "--data", data, "--admin", s.admin, "--json")
		if code == 0 && strings.Count(out, "\n") == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the store writes in batches, off the request path
	}
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("flows --json line %q: %v", l, err)
		}
		rows = append(rows, m)
	}
	if len(rows) != 3 || rows[0]["host"] != "api.anthropic.com" || rows[2]["action"] != "block" {
		t.Fatalf("flows (newest first) while serve runs: %s", out)
	}
	blockedID, allowedID := rows[2]["flow_id"].(string), rows[1]["flow_id"].(string)
	if strings.Contains(out, key) || strings.Contains(out, email) {
		t.Fatal("flows printed a detected value")
	}

	// flows show through the API: bodies come masked, which is no reveal; serve audits reveals
	// only (TestMaskedOutputsLeakNothing has them).
	bodyReads := func() int {
		n := 0
		for _, l := range s.logLines() {
			if l["type"] == "audit" {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		args      []string
		want      string
		bodyReads int
	}{
		{[]string{"flows", "show", blockedID}, "block-secrets-to-ai", 0},
		{[]string{"flows", "show", blockedID, "--body"}, "AKIA************PLMR", 0},
	} {
		out, errOut, code := runCustoms(t, ".", append(tc.args, "--data", data, "--admin", s.admin)...)
		if code != 0 || !strings.Contains(out, tc.want) || strings.Contains(out, key) {
			t.Fatalf("%v through the API: exit %d\n%s%s", tc.args, code, out, errOut)
		}
		deadline := time.Now().Add(5 * time.Second)
		for bodyReads() != tc.bodyReads && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if got := bodyReads(); got != tc.bodyReads {
			t.Fatalf("after %v: %d body reads audited, want %d", tc.args, got, tc.bodyReads)
		}
	}

	// The store's own metrics: what it wrote, dropped, lost and holds.
	r, err := http.Get("http://" + s.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(r.Body)
	r.Body.Close()
	for _, want := range []string{"customs_store_flows_written_total 3", "customs_store_flows_dropped_total 0",
		"customs_store_write_errors_total 0", "customs_store_days_dropped_total 0", "customs_store_queued_flows 0", "customs_store_disk_bytes "} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// SIGTERM: serve flushes the store and exits; flows then opens the store itself.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("customs did not exit")
	}
	tests := []struct {
		name string
		args []string
		want []string // substrings of stdout
		not  []string
	}{
		{"all", []string{"flows"}, []string{"anthropic.messages", "block", "redact", "secret.aws-access-key-id"}, []string{key, email}},
		{"vendor and action", []string{"flows", "--vendor", "openai", "--action", "block"}, []string{blockedID}, []string{"anthropic"}},
		{"detector", []string{"flows", "--detector", "pii.email"}, []string{"anthropic"}, []string{"openai"}},
		{"api", []string{"flows", "--api", "anthropic.messages", "--json"}, []string{`"api":"anthropic.messages"`}, []string{"openai.chat"}},
		{"client", []string{"flows", "--client", "127.0.0.1", "--limit", "1"}, []string{"anthropic.messages"}, []string{"openai"}},
		{"window", []string{"flows", "--until", "1h"}, nil, []string{"openai", "anthropic"}},
		{"show masked", []string{"flows", "show", blockedID, "--body"}, []string{"secret.aws-access-key-id AKIA************PLMR", "block-secrets-to-ai",
			"--- read by customs (", "\nmessages[0].content ", ` "deploy with [secret.aws-access-key-id AKIA************PLMR]"`}, []string{key}},
		{"show response", []string{"flows", "show", allowedID, "--body"}, []string{"NIGHTJAR-204", `{"object":"chat.completion","choices":[]}`}, nil},
		{"replay same rules", []string{"replay", "--diff"}, []string{"3 flows, 3 inspected", "0 changed"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCustoms(t, ".", append(tt.args, "--data", data)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}

	// A new codename detector, replayed over last hour's flows, finds the old prompt.
	rulesFile := filepath.Join(dir, "codename.yaml")
	if err := os.WriteFile(rulesFile, []byte(`
detectors:
  - id: acme-codename
    class: marker
    keywords: [NIGHTJAR]
    pattern: 'NIGHTJAR-\d{3}'
policies:
  - id: block-codenames
    when: has_detector("acme-codename")
    action: block
  - id: block-secrets
    when: has_class("secret")
    action: block
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCustoms(t, ".", "replay", "--data", data, "--rules", rulesFile, "--diff", "--json")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var codename, totals map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("replay line %q: %v", l, err)
		}
		if tot, ok := m["totals"].(map[string]any); ok {
			totals = tot
		} else if strings.Contains(l, "marker.acme-codename") {
			codename = m
		}
	}
	if codename == nil || codename["action"] != "block" || codename["was"].(map[string]any)["action"] != "allow" {
		t.Fatalf("replay did not report the codename flow as newly blocked:\n%s", out)
	}
	if totals["flows"] != float64(3) || totals["new_findings"] != float64(1) {
		t.Fatalf("replay totals %v", totals)
	}

	// Evidence export: HAR 1.2, values masked.
	harPath := filepath.Join(dir, "evidence.har")
	if _, errOut, code := runCustoms(t, ".", "flows", "--data", data, "--export", "har", "--out", harPath); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(harPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Log struct {
			Version string
			Entries []map[string]any
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Log.Version != "1.2" || len(doc.Log.Entries) != 3 {
		t.Fatalf("exported HAR: version %q, %d entries, %v", doc.Log.Version, len(doc.Log.Entries), err)
	}
	if strings.Contains(string(raw), key) || strings.Contains(string(raw), email) {
		t.Fatal("the masked export carries a detected value")
	}
	if st, _ := os.Stat(harPath); st.Mode().Perm() != 0o600 {
		t.Fatalf("export mode %v, want 0600", st.Mode().Perm())
	}

	// JSON lines, masked and revealed; every reveal is in the audit log, which never holds a value.
	auditPath := filepath.Join(data, "audit.log")
	if _, err := os.Stat(auditPath); err == nil {
		t.Fatal("audit.log exists before any --reveal")
	}
	for _, tc := range []struct {
		name    string
		args    []string
		clear   bool // the key is in the file
		audited string
	}{
		{"jsonl masked", []string{"--export", "jsonl", "--vendor", "openai"}, false, ""},
		{"jsonl revealed", []string{"--export", "jsonl", "--vendor", "openai", "--reveal"}, true, "export to "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".jsonl")
			_, errOut, code := runCustoms(t, ".", append([]string{"flows", "--data", data, "--out", path}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil || m["flow_id"] == nil || m["vendor"] == nil {
					t.Fatalf("export line %q: %v", l, err)
				}
			}
			if len(lines) != 2 {
				t.Fatalf("%d flows exported, want the 2 to openai", len(lines))
			}
			if got := strings.Contains(string(raw), key); got != tc.clear {
				t.Fatalf("key in the export: %v, want %v", got, tc.clear)
			}
			audit, _ := os.ReadFile(auditPath)
			if tc.audited != "" && !strings.Contains(string(audit), tc.audited) {
				t.Fatalf("audit.log lacks %q:\n%s", tc.audited, audit)
			}
		})
	}
	out, errOut, code = runCustoms(t, ".", "flows", "show", blockedID, "--body", "--reveal", "--data", data)
	if code != 0 || !strings.Contains(out, key) || !strings.Contains(errOut, "revealed") {
		t.Fatalf("show --reveal: exit %d\n%s%s", code, out, errOut)
	}
	audit, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(audit), `"type":"audit"`) != 2 || !strings.Contains(string(audit), blockedID) || strings.Contains(string(audit), key) {
		t.Fatalf("audit.log after two reveals:\n%s", audit)
	}
	if st, _ := os.Stat(auditPath); st.Mode().Perm() != 0o600 {
		t.Fatalf("audit.log mode %v, want 0600", st.Mode().Perm())
	}
	// A reveal that cannot be recorded does not happen.
	if err := os.Chmod(auditPath, 0o400); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		out, _, code = runCustoms(t, ".", "flows", "show", blockedID, "--body", "--reveal", "--data", data)
		if code == 0 || strings.Contains(out, key) {
			t.Fatalf("show --reveal with an unwritable audit log: exit %d\n%s", code, out)
		}
	}
}

// A HAR file exported by a browser is inspected like proxied traffic, and --store keeps its
// flows for flows and later replays.
func TestReplayHAR(t *testing.T) {
	raw, err := os.ReadFile("../../har/testdata/chrome.har")
	if err != nil {
		t.Fatal(err)
	}
	// Today's date, so that the flows are inside the store's retention.
	today := time.Now().UTC().Format("2006-01-02")
	recent := strings.ReplaceAll(string(raw), "2025-05-14T", today+"T")
	dir := t.TempDir()
	harPath := filepath.Join(dir, "session.har")
	if err := os.WriteFile(harPath, []byte(recent), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	out, errOut, code := runCustoms(t, ".", "replay", "--har", harPath, "--data", data, "--store")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"openai.chat", "block (block-secrets-to-ai)", "mixpanel.track", "7 flows, 7 inspected", "7 kept in the store"} {
		if !strings.Contains(out, want) {
			t.Errorf("replay --har output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "AKIA") && !strings.Contains(out, "AKIA****") {
		t.Error("replay printed a key")
	}
	out, errOut, code = runCustoms(t, ".", "flows", "--data", data, "--since", "2d", "--action", "block")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "har:") {
		t.Fatalf("flows after --store: exit %d\n%s%s", code, out, errOut)
	}
}

// Bodies are what clients and vendors sent: flows show must not hand their escape sequences to
// the responder's terminal.
func TestTerminalSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text\nwith lines\tand tabs\r\n", "plain text\nwith lines\tand tabs\r\n"},
		{"a prompt whose answer retitles the terminal \x1b]0;pwned\x07 and then clears it \x1b[2J, hoping nobody reads",
			`a prompt whose answer retitles the terminal \x1b]0;pwned\x07 and then clears it \x1b[2J, hoping nobody reads`},
		{"and the eight-bit form of a control sequence, \u009b31m, that some terminals obey", `and the eight-bit form of a control sequence, \x9b31m, that some terminals obey`},
		{"\x00\x01\x02 binary", "00000000  00 01 02 20 62 69 6e 61  72 79                    |... binary|"},
		{"\xff\xfe not utf-8", "00000000  ff fe 20 6e 6f 74 20 75  74 66 2d 38              |.. not utf-8|"},
	} {
		if got := terminalSafe([]byte(tc.in)); got != tc.want {
			t.Errorf("terminalSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
