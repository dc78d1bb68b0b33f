package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/admin"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/console"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/store"
)

// consoleFixture is serve's admin listener with the console over a store holding the flows of
// apiFixture: one with a key in its query and its body.
func consoleFixture(t *testing.T) (srv *httptest.Server, data string, rl *reloader) {
	t.Helper()
	data = t.TempDir()
	st, err := store.Open(store.Options{Dir: filepath.Join(data, "store"), Logger: zerolog.Nop(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	cfg := config.Default()
	cfg.Data = data
	pol, err := loadPolicy(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: detectors.NewHasher(make([]byte, 32)), Rules: pol.set})
	now := time.Now()
	for i, v := range []string{"openai", "mixpanel", "anthropic"} {
		f := &flow.Flow{ID: flow.NewID(now.Add(time.Duration(i) * time.Millisecond)), Start: now, End: now, Source: flow.SourceProxy,
			Mode: flow.Intercepted, Host: "api." + v + ".com", Method: "POST", URL: "https://api." + v + ".com/v1/x",
			Client: flow.Client{Addr: "127.0.0.1:1"}, RequestHeader: http.Header{"Content-Type": {"application/json"}},
			RequestBody: []byte(`{"messages":[{"role":"user","content":"hello"}]}`)}
		if i == 0 {
			f.URL += "?key=" + apiKey
			f.RequestBody = []byte(`{"messages":[{"role":"user","content":"deploy ` + bodyKey + `"}]}`)
		}
		p.Inspect(context.Background(), f)
		st.Record(f)
	}
	if err := st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rl = &reloader{cfg: cfg, pipeline: p, logger: zerolog.Nop()}
	rl.inForce(pol, now)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := consoleOptions(cfg, st, nil, p, rl, apiToken, zerolog.Nop())
	o.Loopback = true
	var ready atomic.Bool
	h := admin.HandlerWith(admin.NewMetrics(), &ready, map[string]http.Handler{"/ui/": console.New(o)})
	srv = httptest.NewUnstartedServer(adminHandler(h, "127.0.0.1:0", ln.Addr(), apiToken))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, data, rl
}

func consoleGet(t *testing.T, srv *httptest.Server, method, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The console reads through serve's masking: the list carries no headers or bodies and a
// masked path; a flow's bodies are masked; a reveal is in DIR/audit.log (via web console)
// before the values leave, and refused when it cannot be written; filters are checked as
// customs flows checks its flags.
func TestConsoleFlows(t *testing.T) {
	srv, data, _ := consoleFixture(t)
	status, list := consoleGet(t, srv, "GET", "/ui/api/flows?since=1h", apiToken)
	if status != 200 || strings.Count(list, `"flow_id"`) != 3 || strings.Contains(list, apiKey) || strings.Contains(list, bodyKey) || strings.Contains(list, "request_body") {
		t.Fatalf("list: %d %s", status, list)
	}
	var got struct {
		Flows []struct {
			ID     string `json:"flow_id"`
			Vendor struct{ ID string }
		}
	}
	if err := json.Unmarshal([]byte(list), &got); err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, f := range got.Flows {
		if f.Vendor.ID == "openai" {
			id = f.ID
		}
	}
	status, one := consoleGet(t, srv, "GET", "/ui/api/flows/"+id, apiToken)
	if status != 200 || strings.Contains(one, apiKey) || strings.Contains(one, bodyKey) || !strings.Contains(one, "AKIA************PLMR") ||
		!strings.Contains(one, `"masked":true`) || !strings.Contains(one, `"texts"`) {
		t.Errorf("masked flow: %d %s", status, one)
	}

	status, clear := consoleGet(t, srv, "POST", "/ui/api/flows/"+id+"/reveal", apiToken)
	audit, _ := os.ReadFile(filepath.Join(data, "audit.log"))
	if status != 200 || !strings.Contains(clear, bodyKey) || !strings.Contains(string(audit), `"via":"web console"`) ||
		!strings.Contains(string(audit), id) || strings.Contains(string(audit), bodyKey) {
		t.Errorf("reveal: %d, audit %s", status, audit)
	}
	// An audit log that cannot be written: no reveal.
	if err := os.Remove(filepath.Join(data, "audit.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(data, "audit.log"), 0o700); err != nil {
		t.Fatal(err)
	}
	status, refused := consoleGet(t, srv, "POST", "/ui/api/flows/"+id+"/reveal", apiToken)
	if status != 500 || strings.Contains(refused, bodyKey) || !strings.Contains(refused, "audit.log") {
		t.Errorf("reveal without an audit log: %d %s", status, refused)
	}

	for q, want := range map[string]string{
		"vendor=opnai":            `did you mean \"openai\"`,
		"detector=aws-access-key": "unknown detector",
		"category=analytic":       "category",
		"api=openai.chats":        "unknown API",
		"action=blok":             "unknown action",
		"since=yesterday-ish":     "since",
	} {
		if status, body := consoleGet(t, srv, "GET", "/ui/api/flows?"+q, apiToken); status != 400 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s", q, status, body)
		}
	}
	// A detector named without its namespace, as customs flows takes it.
	if status, body := consoleGet(t, srv, "GET", "/ui/api/flows?since=1h&detector=aws-access-key-id", apiToken); status != 200 || strings.Count(body, `"flow_id"`) != 1 {
		t.Errorf("detector filter: %d %s", status, body)
	}
	if status, body := consoleGet(t, srv, "GET", "/ui/api/flows", ""); status != 401 || strings.Contains(body, "openai") {
		t.Errorf("no token: %d %s", status, body)
	}
}

// The rules page says what reload.go knows: the rules in force, when they were loaded, and the
// last reload with its errors.
func TestConsoleRules(t *testing.T) {
	srv, data, rl := consoleFixture(t)
	status, body := consoleGet(t, srv, "GET", "/ui/api/rules", "")
	if status != 200 || !strings.Contains(body, `"from":"the embedded default pack"`) || !strings.Contains(body, "block-secrets-to-ai") ||
		strings.Contains(body, "last_reload") || !strings.Contains(body, `"id":"secret.aws-access-key-id"`) {
		t.Errorf("rules: %d %.400s", status, body)
	}
	bad := filepath.Join(data, "bad.yaml")
	if err := os.WriteFile(bad, []byte("policies:\n  - id: x\n    when: nope(\n    action: block\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rl.paths = []string{bad}
	if rl.reload("SIGHUP") {
		t.Fatal("a broken rule file reloaded")
	}
	_, body = consoleGet(t, srv, "GET", "/ui/api/rules", "")
	var got struct {
		Policies []struct{ ID string }
		Failures int
		Last     *console.Reload `json:"last_reload"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Last == nil || got.Last.OK || got.Last.Trigger != "SIGHUP" || len(got.Last.Errors) == 0 || !strings.Contains(got.Last.Errors[0], "bad.yaml:") ||
		got.Failures != 1 || len(got.Policies) == 0 || got.Policies[0].ID != "block-secrets-to-ai" {
		t.Errorf("after a rejected reload: %s", body)
	}
	good := filepath.Join(data, "good.yaml")
	if err := os.WriteFile(good, []byte("policies:\n  - id: only-this\n    when: \"true\"\n    action: alert\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rl.paths = []string{good}
	if !rl.reload("rule files changed") {
		t.Fatal("the good file did not load")
	}
	_, body = consoleGet(t, srv, "GET", "/ui/api/rules", "")
	if !strings.Contains(body, `"id":"only-this"`) || !strings.Contains(body, `"ok":true`) || !strings.Contains(body, good) {
		t.Errorf("after a good reload: %s", body)
	}
}

// The console is on serve's admin listener, behind its Host check: the real binary serves the
// page, refuses the flow data without the token and any request naming another host.
func TestServeConsole(t *testing.T) {
	data := t.TempDir()
	s := startCustoms(t, "--data", data)
	token, err := os.ReadFile(filepath.Join(data, adminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	// The start line says where the console is and which file signs in, never the token.
	s.waitLine(t, map[string]any{"message": "customs listening", "console": "http://" + s.admin + "/ui/", "token_file": filepath.Join(data, adminTokenFile)})
	for _, l := range s.logLines() {
		if b, _ := json.Marshal(l); bytes.Contains(b, bytes.TrimSpace(token)) {
			t.Errorf("a log line holds the admin token: %s", b)
		}
	}
	for _, tt := range []struct {
		path, host, token string
		want              int
	}{
		{"/ui/", "", "", 200},
		{"/ui/api/catalog", "", "", 200},
		{"/ui/api/flows", "", "", 401},
		{"/ui/api/flows", "", strings.TrimSpace(string(token)), 200},
		{"/ui/api/map", "", "", 401},
		{"/ui/", "customs.evil.test", "", 421},
		{"/ui/api/flows", "customs.evil.test", strings.TrimSpace(string(token)), 421},
	} {
		req, _ := http.NewRequest("GET", "http://"+s.admin+tt.path, nil)
		if tt.host != "" {
			req.Host = tt.host
		}
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s (Host %q): %d, want %d", tt.path, tt.host, resp.StatusCode, tt.want)
		}
		if tt.want == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: CSP %q", tt.path, resp.Header.Get("Content-Security-Policy"))
		}
	}
}
