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

// The real binary with a policy that refuses requests asking OpenAI to store them (the
// README's example): such a request is blocked before it goes, in OpenAI's error shape, and
// its flow line names the model and the parameter; a request without it goes through, and its
// line names the model the answer says served it. Both are in the store, read back by flows.
func TestServeModelsAndStore(t *testing.T) {
	upAddr, upCA, received := fakeVendorRecording(t)
	data := t.TempDir()
	rulesFile := filepath.Join(t.TempDir(), "models.yaml")
	if err := os.WriteFile(rulesFile, []byte(`policies:
  - id: refuse-openai-store
    when: vendor.id == "openai" && api.params.store == "true"
    action: block
    message: OpenAI may not keep our prompts; send store false.
  - id: allow-the-rest
    when: "true"
    action: allow
`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startCustoms(t, "--data", data, "--rules", rulesFile, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))

	post := func(query, body string) (int, []byte) {
		t.Helper()
		resp, err := c.Post("https://api.openai.com/v1/chat/completions"+query, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	status, answer := post("", `{"model":"gpt-4o-mini","store":true,"metadata":{"team":"finance"},"messages":[{"role":"user","content":"Q3 numbers"}]}`)
	var oai struct {
		Error struct{ Message, Type, Code string }
	}
	if err := json.Unmarshal(answer, &oai); err != nil || status != http.StatusForbidden || oai.Error.Code != "refuse-openai-store" ||
		!strings.Contains(oai.Error.Message, "send store false") {
		t.Fatalf("store: true: %d %s", status, answer)
	}
	if got := received(); len(got) != 0 {
		t.Fatalf("a refused request reached the vendor: %+v", got)
	}
	blocked := s.waitLine(t, map[string]any{"message": "flow", "action": "block"})
	if blocked["model"] != "gpt-4o-mini" || blocked["policy"] != "refuse-openai-store" || blocked["api"] != "openai.chat" {
		t.Errorf("blocked flow line %v", blocked)
	}
	if p, _ := blocked["params"].(map[string]any); p["store"] != "true" || p["metadata"] != "present" || len(p) != 2 {
		t.Errorf("blocked flow line params %v", blocked["params"])
	}
	if _, ok := blocked["served_model"]; ok {
		t.Errorf("a refused request has a served model: %v", blocked)
	}

	status, answer = post("?served_model=gpt-4o-mini-2024-07-18", `{"model":"gpt-4o-mini","store":false,"messages":[{"role":"user","content":"Q3 numbers"}]}`)
	if status != http.StatusOK {
		t.Fatalf("store: false: %d %s", status, answer)
	}
	allowed := s.waitLine(t, map[string]any{"message": "flow", "action": "allow", "host": "api.openai.com"})
	if allowed["model"] != "gpt-4o-mini" || allowed["served_model"] != "gpt-4o-mini-2024-07-18" {
		t.Errorf("allowed flow line %v", allowed)
	}
	if p, _ := allowed["params"].(map[string]any); p["store"] != "false" {
		t.Errorf("allowed flow line params %v", allowed["params"])
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("customs did not exit")
	}
	out, errOut, code := runCustoms(t, ".", "flows", "--data", data, "--json", "--oldest")
	if code != 0 {
		t.Fatalf("flows: exit %d: %s", code, errOut)
	}
	var recs []wireRecord
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var w wireRecord
		if err := json.Unmarshal([]byte(l), &w); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		recs = append(recs, w)
	}
	if len(recs) != 2 || recs[0].Model != "gpt-4o-mini" || recs[0].Params["store"] != "true" || recs[0].Action != "block" ||
		recs[1].ServedModel != "gpt-4o-mini-2024-07-18" || recs[1].Params["store"] != "false" {
		t.Fatalf("stored flows: %s", out)
	}
	out, _, code = runCustoms(t, ".", "flows", "show", recs[1].ID, "--data", data)
	if code != 0 || !strings.Contains(out, "gpt-4o-mini-2024-07-18") || !strings.Contains(out, "store=false") {
		t.Fatalf("flows show: exit %d\n%s", code, out)
	}
}
