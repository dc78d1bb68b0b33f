package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/internal/golden"
	"github.com/customs-dev/customs/rules"
)

const (
	emptyFileMsg = `:1:1: empty rule file: no detectors, policies, vendors or tests (write "policies: []" to mean no policies)`
	nullPolicies = `:1:1: policies: expected a list, got null (write "policies: []" to mean no policies)`
	awsKeyPrompt = `{"model":"gpt-4o","messages":[{"role":"user","content":"deploy with AKIAZ7VQ3KXJ5N2WPLMR"}]}`
)

// replaceRuleFile gives path new content with a modification time of its own, so that the
// reloader's poll sees every change. Content replaces the file by rename, as an atomic save
// does, so that the reloader never sees a half-written state the test did not ask for; nil
// truncates the file in place, as a non-atomic save does first.
func replaceRuleFile(t *testing.T, path string, content []byte, mtime time.Time) {
	t.Helper()
	if content == nil {
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
	} else {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// The attack: an editor's non-atomic save leaves the rule file empty for a moment, and a reload
// that read it as "no policies" let every flow through until the next save. Through the real
// binary, with the default pack's policies in a rule file polled for changes: the file cut to
// nothing, to white space, to comments and to a "policies:" with no list is each rejected with
// its file:1:1 message and counted, and a flow blocked before stays blocked. Only "policies: []"
// means no policies.
func TestReloadRejectsTruncatedRuleFile(t *testing.T) {
	p := startPolicyProxy(t, "rules: [policy.yaml]\nrules_reload: 100ms\n", map[string]string{"policy.yaml": string(rules.DefaultSource())})
	p.s.waitLine(t, map[string]any{"message": "rules loaded", "policies": len(rules.Default().Policies)})
	const url = "https://api.openai.com/v1/chat/completions"
	blocked := func(when string) {
		t.Helper()
		status, body := p.post(t, url, "application/json", []byte(awsKeyPrompt), nil)
		if status != http.StatusForbidden || !strings.Contains(string(body), "block-secrets-to-ai") {
			t.Fatalf("%s: status %d %s, want 403 from block-secrets-to-ai", when, status, body)
		}
	}
	blocked("before any reload")

	path := filepath.Join(p.dir, "policy.yaml")
	mtime := time.Now().Add(time.Hour)
	steps := []struct {
		name    string
		content []byte
		want    string
	}{
		{"truncated to empty", nil, path + emptyFileMsg},
		{"white space", []byte("  \n\t\n"), path + emptyFileMsg},
		{"comments", []byte("# policies for the AI egress\n"), path + emptyFileMsg},
		{"cut after its first line", []byte("policies:\n"), path + nullPolicies},
	}
	for i, st := range steps {
		mtime = mtime.Add(time.Second)
		replaceRuleFile(t, path, st.content, mtime)
		line := waitRejected(t, p.s, i+1)
		errs, _ := line["errors"].([]any)
		if len(errs) != 1 || errs[0] != st.want || line["trigger"] != "rule files changed" || line["level"] != "error" {
			t.Fatalf("%s: rejected reload %v\nwant the one error %s", st.name, line, st.want)
		}
		blocked("after the file was " + st.name)
	}
	if got := p.received(); len(got) != 0 {
		t.Fatalf("%d requests with a key reached the vendor", len(got))
	}
	metrics := adminGet(t, p.s, "/metrics")
	for _, want := range []string{"customs_rules_reload_failures_total 4\n", "customs_rules_reloads_total 0\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// Said explicitly, no policies is what the operator gets, with a warning.
	replaceRuleFile(t, path, []byte("policies: []\n"), mtime.Add(time.Second))
	p.s.waitLine(t, map[string]any{"message": "rules reloaded", "policies": 0, "level": "warn"})
	if status, body := p.post(t, url, "application/json", []byte(awsKeyPrompt), nil); status != http.StatusOK {
		t.Fatalf("after an explicit \"policies: []\": status %d %s, want 200", status, body)
	}
}

// waitRejected waits for the n-th rejected reload and returns its log line.
func waitRejected(t *testing.T, s *servedCustoms, n int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var rejected []map[string]any
		for _, l := range s.logLines() {
			if l["message"] == "rules reload rejected; the rules in force stay" {
				rejected = append(rejected, l)
			}
		}
		if len(rejected) > n {
			t.Fatalf("%d rejected reloads, want %d: %v", len(rejected), n, rejected)
		}
		if len(rejected) == n {
			return rejected[n-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no rejected reload #%d; have %v", n, s.logLines())
	return nil
}

func adminGet(t *testing.T, s *servedCustoms, path string) string {
	t.Helper()
	r, err := http.Get("http://" + s.admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", path, r.StatusCode)
	}
	return string(b)
}

// The reloader itself, without a process: a rule file truncated to nothing is a failed reload,
// logged with its reason, and the set in force still decides; a set with no policies that does
// not say so is refused even if it reaches the reloader; "policies: []" is taken.
func TestReloaderKeepsPoliciesOnEmptyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, rules.DefaultSource(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data = t.TempDir()
	pol, err := loadPolicy(cfg, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	hasher := detectors.NewHasher(make([]byte, 32))
	pipeline := inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: hasher, Rules: pol.set})
	var logs bytes.Buffer
	r := &reloader{cfg: cfg, paths: []string{path}, hasher: hasher, pipeline: pipeline, logger: zerolog.New(&logs)}
	decide := func() flow.Verdict {
		f := &flow.Flow{Source: flow.SourceProxy, Mode: flow.Intercepted, Host: "api.openai.com", Method: "POST",
			URL: "https://api.openai.com/v1/chat/completions", RequestHeader: http.Header{"Content-Type": {"application/json"}},
			RequestBody: []byte(awsKeyPrompt), Client: flow.Client{Addr: "10.0.0.7:50000"}}
		return pipeline.Inspect(context.Background(), f)
	}
	if v := decide(); v.Action != flow.Block || v.Policy != "block-secrets-to-ai" {
		t.Fatalf("before: verdict %+v, want block by block-secrets-to-ai", v)
	}

	replaceRuleFile(t, path, nil, time.Now().Add(time.Hour))
	if r.reload("test") {
		t.Fatal("a reload of an empty rule file took effect")
	}
	if r.failed.Load() != 1 || r.ok.Load() != 0 || pipeline.Rules() != pol.set {
		t.Fatalf("failed %d ok %d; the set in force changed: %v", r.failed.Load(), r.ok.Load(), pipeline.Rules() != pol.set)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if errs, _ := line["errors"].([]any); line["message"] != "rules reload rejected; the rules in force stay" || len(errs) != 1 || errs[0] != path+emptyFileMsg {
		t.Fatalf("rejection logged as %v", line)
	}
	if v := decide(); v.Action != flow.Block || v.Policy != "block-secrets-to-ai" {
		t.Fatalf("after: verdict %+v, want block by block-secrets-to-ai", v)
	}

	// Whatever reaches the reloader, no policies in place of some must be said.
	err = dropsEveryPolicy(pol.set, &rules.Set{Files: []string{path}})
	if want := fmt.Sprintf(`the rule files (%s) define no policies where %d are in force; write "policies: []" in one of them to mean no policies`, path, len(rules.Default().Policies)); err == nil ||
		len(pol.set.Policies) != len(rules.Default().Policies) || err.Error() != want {
		t.Errorf("dropsEveryPolicy = %v, want %s", err, want)
	}
	if err := dropsEveryPolicy(pol.set, &rules.Set{Files: []string{path}, ExplicitlyEmpty: true}); err != nil {
		t.Errorf("explicitly empty: %v", err)
	}
	if err := dropsEveryPolicy(&rules.Set{}, &rules.Set{}); err != nil {
		t.Errorf("none before, none after: %v", err)
	}

	replaceRuleFile(t, path, []byte("policies: []\n"), time.Now().Add(2*time.Hour))
	logs.Reset()
	if !r.reload("test") || !pipeline.Rules().ExplicitlyEmpty || r.ok.Load() != 1 {
		t.Fatalf("an explicit \"policies: []\" was not taken: %s", logs.String())
	}
	if v := decide(); v.Action != flow.Allow {
		t.Fatalf("with no policies: verdict %+v, want allow", v)
	}
}

// customs rules lint on a file with nothing in it, or with detectors and no policies, exits 2
// with the file:line:col message; "policies: []" lints clean.
func TestRulesLintEmpty(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"lint-empty", []string{"rules", "lint", "empty.yaml"}, 2},
		{"lint-detectors-only", []string{"rules", "lint", "detectors-only.yaml"}, 2},
		{"lint-no-policies", []string{"rules", "lint", "no-policies.yaml"}, 0},
		{"lint-empty-with-policies", []string{"rules", "lint", "team.yaml", "empty.yaml"}, 2},
		{"test-empty", []string{"rules", "test", "empty.yaml"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCustoms(t, "testdata/rules", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			golden.Check(t, filepath.Join("testdata", "rules", "out", tt.name+".golden"), []byte(out+"--- stderr\n"+errOut))
		})
	}
	// serve refuses to start on it, rather than start with no policy.
	_, errOut, code := runCustoms(t, "testdata/rules", "serve", "--rules", "empty.yaml", "--data", t.TempDir(),
		"--listen", "127.0.0.1:0", "--admin", "off")
	if code != 2 || !strings.Contains(errOut, "empty.yaml"+emptyFileMsg) {
		t.Fatalf("serve with an empty rule file: exit %d, stderr %q", code, errOut)
	}
}
