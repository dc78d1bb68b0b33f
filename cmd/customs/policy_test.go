package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// policyProxy starts customs with a config (rules, reload interval, webhook) and a recording
// fake vendor, and returns a client that trusts customs' CA.
type policyProxy struct {
	s        *servedCustoms
	c        *http.Client
	received func() []receivedRequest
	dir      string
}

func startPolicyProxy(t *testing.T, configYAML string, files map[string]string) *policyProxy {
	t.Helper()
	upAddr, upCA, received := fakeVendorRecording(t)
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "customs.yaml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	s := startCustoms(t, "--config", cfg, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	return &policyProxy{s: s, c: proxyClient(t, s.proxy, filepath.Join(data, "ca.pem")), received: received, dir: dir}
}

func (p *policyProxy) post(t *testing.T, rawURL, ctype string, body []byte, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := p.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Blocked requests get their vendor's error shape, name customs, the policy and the finding
// class, carry no value, and never reach the vendor.
func TestPolicyBlockVendorShapes(t *testing.T) {
	p := startPolicyProxy(t, "rules: []\n", nil) // the embedded default pack
	const key = "AKIAZ7VQ3KXJ5N2WPLMR"
	tests := []struct {
		name, url, body string
		check           func(m map[string]any) bool
	}{
		{"openai", "https://api.openai.com/v1/chat/completions",
			`{"model":"gpt-4o","messages":[{"role":"user","content":"use ` + key + `"}]}`,
			func(m map[string]any) bool {
				e, _ := m["error"].(map[string]any)
				return e["type"] == "customs_policy_violation" && e["code"] == "block-secrets-to-ai"
			}},
		{"anthropic", "https://api.anthropic.com/v1/messages",
			`{"model":"claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":"use ` + key + `"}]}`,
			func(m map[string]any) bool {
				e, _ := m["error"].(map[string]any)
				return m["type"] == "error" && e["type"] == "permission_error"
			}},
		{"gemini", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
			`{"contents":[{"parts":[{"text":"use ` + key + `"}]}]}`,
			func(m map[string]any) bool {
				e, _ := m["error"].(map[string]any)
				return e["status"] == "PERMISSION_DENIED" && e["code"] == float64(403)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := p.post(t, tt.url, "application/json", []byte(tt.body), nil)
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || status != http.StatusForbidden || !tt.check(m) {
				t.Fatalf("status %d body %s", status, body)
			}
			if !strings.Contains(string(body), "customs") || !strings.Contains(string(body), "block-secrets-to-ai") ||
				!strings.Contains(string(body), "secret (secret.aws-access-key-id)") || strings.Contains(string(body), key) {
				t.Fatalf("refusal does not say who, which policy and what class, or leaks the key: %s", body)
			}
		})
	}
	if got := p.received(); len(got) != 0 {
		t.Fatalf("%d blocked requests reached the vendor", len(got))
	}
}

// A redacted request reaches the vendor with placeholders in place of the values, and every
// other byte as the client sent it: JSON, gzip-compressed JSON, and a Mixpanel event whose
// payload is base64 in a form field.
func TestPolicyRedactOnTheWire(t *testing.T) {
	rulesYAML := `
policies:
  - id: redact-pii-everywhere
    when: has_class("pii") || has_class("secret")
    action: redact
`
	p := startPolicyProxy(t, "rules: [redact.yaml]\n", map[string]string{"redact.yaml": rulesYAML})
	const email, email2 = "jane.doe@corp-example.org", "ops@corp-example.org"

	chat := `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief.\nUnicode: caf\u00e9"},{"role":"user","content":"mail ` +
		email + ` and ` + email2 + `, again ` + email + `"}],"temperature":0.2}`
	wantChat := strings.NewReplacer(email, "[REDACTED:pii.email#1]", email2, "[REDACTED:pii.email#2]").Replace(chat)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(chat))
	_ = zw.Close()

	event := `[{"event":"Signup","properties":{"token":"mp-project-token","distinct_id":"u-1","email":"` + email + `"}}]`
	mixpanel := "data=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(event))) + "&ip=1"

	tests := []struct {
		name, url, ctype string
		body             []byte
		header           map[string]string
		check            func(t *testing.T, r receivedRequest)
	}{
		{"json", "https://api.openai.com/v1/chat/completions", "application/json", []byte(chat), nil,
			func(t *testing.T, r receivedRequest) {
				if string(r.body) != wantChat || r.length != int64(len(wantChat)) {
					t.Fatalf("upstream got (length %d):\n%s\nwant:\n%s", r.length, r.body, wantChat)
				}
			}},
		{"gzip", "https://api.openai.com/v1/chat/completions", "application/json", gz.Bytes(), map[string]string{"Content-Encoding": "gzip"},
			func(t *testing.T, r receivedRequest) {
				zr, err := gzip.NewReader(bytes.NewReader(r.body))
				if err != nil || r.encoding != "gzip" {
					t.Fatalf("upstream body is not gzip (%q): %v", r.encoding, err)
				}
				plain, _ := io.ReadAll(zr)
				if string(plain) != wantChat || r.length != int64(len(r.body)) {
					t.Fatalf("upstream got:\n%s", plain)
				}
			}},
		{"mixpanel base64", "https://api-js.mixpanel.com/track/?verbose=1", "application/x-www-form-urlencoded", []byte(mixpanel), nil,
			func(t *testing.T, r receivedRequest) {
				form, err := url.ParseQuery(string(r.body))
				if err != nil || form.Get("ip") != "1" {
					t.Fatalf("upstream form %q: %v", r.body, err)
				}
				dec, err := base64.StdEncoding.DecodeString(form.Get("data"))
				want := strings.Replace(event, email, "[REDACTED:pii.email#1]", 1)
				if err != nil || string(dec) != want {
					t.Fatalf("upstream event:\n%s\nwant:\n%s", dec, want)
				}
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := p.post(t, tt.url, tt.ctype, tt.body, tt.header)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			got := p.received()
			if len(got) != i+1 {
				t.Fatalf("vendor received %d requests, want %d", len(got), i+1)
			}
			r := got[i]
			if bytes.Contains(r.body, []byte(email)) {
				t.Fatal("the e-mail address reached the vendor")
			}
			tt.check(t, r)
			p.s.waitLine(t, map[string]any{"message": "flow", "action": "redact", "policy": "redact-pii-everywhere", "host": strings.Split(strings.TrimPrefix(tt.url, "https://"), "/")[0]})
		})
	}
}

// An alert lets the request through unchanged, writes the alert line, and POSTs the alert to
// the webhook.
func TestPolicyAlertLineAndWebhook(t *testing.T) {
	var mu sync.Mutex
	var hooks [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, b)
		mu.Unlock()
	}))
	defer hook.Close()
	rulesYAML := `
policies:
  - id: watch-openai
    when: vendor.id == "openai" && has_class("pii")
    action: alert
    message: personal data to OpenAI
`
	cfg := "rules: [alert.yaml]\nalerts:\n  webhook: " + hook.URL + "\n  headers: {Authorization: Bearer test}\n"
	p := startPolicyProxy(t, cfg, map[string]string{"alert.yaml": rulesYAML})
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"write to jane.doe@corp-example.org"}]}`
	if status, b := p.post(t, "https://api.openai.com/v1/chat/completions", "application/json", []byte(body), nil); status != 200 {
		t.Fatalf("status %d: %s", status, b)
	}
	if got := p.received(); len(got) != 1 || string(got[0].body) != body {
		t.Fatalf("alerted request was changed or not sent: %+v", got)
	}
	line := p.s.waitLine(t, map[string]any{"type": "alert", "message": "alert", "action": "alert", "policy": "watch-openai", "vendor": "openai"})
	if fs, _ := line["findings"].([]any); len(fs) != 1 || strings.Contains(line["findings"].([]any)[0].(map[string]any)["preview"].(string), "jane.doe") {
		t.Fatalf("alert line findings: %v", line["findings"])
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(hooks)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the webhook got no alert")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var rec map[string]any
	if err := json.Unmarshal(hooks[0], &rec); err != nil || rec["type"] != "alert" || rec["policy"] != "watch-openai" || strings.Contains(string(hooks[0]), "jane.doe@") {
		t.Fatalf("webhook record %s: %v", hooks[0], err)
	}
}

// A rule file changed on disk reloads; a broken one is rejected with its errors and the rules in
// force stay (the request is still blocked); SIGHUP reloads too.
func TestPolicyHotReload(t *testing.T) {
	block := `
policies:
  - id: block-codename
    when: request.body_contains_codename || has_detector("acme-codename")
    action: block
detectors:
  - id: acme-codename
    class: marker
    keywords: [NIGHTJAR]
    pattern: 'NIGHTJAR-\d{3}'
`
	block = strings.Replace(block, "request.body_contains_codename || ", "", 1)
	p := startPolicyProxy(t, "rules: [policy.yaml]\nrules_reload: 100ms\n", map[string]string{"policy.yaml": block})
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"status of NIGHTJAR-204?"}]}`)
	send := func() int {
		status, _ := p.post(t, "https://api.openai.com/v1/chat/completions", "application/json", body, nil)
		return status
	}
	if got := send(); got != http.StatusForbidden {
		t.Fatalf("before reload: status %d, want 403", got)
	}
	path := filepath.Join(p.dir, "policy.yaml")
	writeLater := func(content string) {
		// A new modification time even on file systems with coarse timestamps.
		time.Sleep(20 * time.Millisecond)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		future := time.Now().Add(time.Duration(len(content)) * time.Millisecond)
		_ = os.Chtimes(path, future, future)
	}
	writeLater(strings.Replace(block, "action: block", "action: blok", 1))
	line := p.s.waitLine(t, map[string]any{"message": "rules reload rejected; the rules in force stay"})
	if errs, _ := line["errors"].([]any); len(errs) == 0 || !strings.Contains(errs[0].(string), "policy.yaml:5:13") {
		t.Fatalf("rejected reload without its file:line:col: %v", line)
	}
	if got := send(); got != http.StatusForbidden {
		t.Fatalf("after a broken reload: status %d, want 403 (old rules)", got)
	}
	writeLater(strings.Replace(block, "action: block", "action: allow", 1))
	p.s.waitLine(t, map[string]any{"message": "rules reloaded", "trigger": "rule files changed"})
	if got := send(); got != http.StatusOK {
		t.Fatalf("after a good reload: status %d, want 200", got)
	}
	if err := p.s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.s.waitLine(t, map[string]any{"message": "rules reloaded", "trigger": "SIGHUP"})
}

// A body customs cannot redact safely under a redact policy is blocked, not sent with the value,
// and the flow says why: here a body larger than the inspection window, whose unseen rest may
// hold more of the same.
func TestPolicyRedactFailsClosed(t *testing.T) {
	rulesYAML := `
policies:
  - id: redact-pii
    when: has_class("pii")
    action: redact
`
	p := startPolicyProxy(t, "rules: [redact.yaml]\nbody: {inspect_limit: 4096}\n", map[string]string{"redact.yaml": rulesYAML})
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"mail jane.doe@corp-example.org ` + strings.Repeat("lorem ipsum ", 1000) + `"}]}`
	status, answer := p.post(t, "https://api.openai.com/v1/chat/completions", "application/json", []byte(body), nil)
	if status != http.StatusForbidden || !strings.Contains(string(answer), "redact") {
		t.Fatalf("status %d: %s", status, answer)
	}
	if got := p.received(); len(got) != 0 {
		t.Fatalf("an unredactable body reached the vendor: %d requests", len(got))
	}
	line := p.s.waitLine(t, map[string]any{"message": "flow", "host": "api.openai.com", "action": "block", "policy": "redact-pii"})
	if notes := fmt.Sprint(line["notes"]); !strings.Contains(notes, "cannot redact safely") {
		t.Fatalf("the flow does not say why it was blocked: %v", line)
	}
}
