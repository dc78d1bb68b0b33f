package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
	"github.com/customs-dev/customs/store"
)

const (
	apiToken = "s3cret-token"
	apiKey   = "AKIAV3PZ7QX2N4KWLMRS" // in the query of the first flow
	bodyKey  = "AKIAZ7VQ3KXJ5N2WPLMR" // in its body
)

// apiFixture is the flow API of a store holding three flows, one of which failed (it has an
// error field), served on loopback as serve serves it.
func apiFixture(t *testing.T) (srv *httptest.Server, data string) {
	t.Helper()
	data = t.TempDir()
	st, err := store.Open(store.Options{Dir: filepath.Join(data, "store"), Logger: zerolog.Nop(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	pol, err := loadPolicy(config.Default(), nil)
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
		switch i {
		case 0:
			f.URL += "?key=" + apiKey
			f.RequestBody = []byte(`{"messages":[{"role":"user","content":"deploy ` + bodyKey + `"}]}`)
		case 1:
			f.Error, f.ErrorKind = "dial tcp 10.9.9.9:443: connect: connection refused", "dial"
		}
		p.Inspect(context.Background(), f)
		st.Record(f)
	}
	if err := st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := flowsAPI(flowsAPIOptions{Store: st, Token: apiToken, Pipeline: p, Data: data, Logger: zerolog.Nop()})
	srv = httptest.NewUnstartedServer(adminHandler(api, "127.0.0.1:0", ln.Addr(), apiToken))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, data
}

// The flow API on loopback: the token on every request (issue 12: loopback gave anyone on the
// host every stored body), the listener's own names in Host (a DNS-rebinding page sends its
// own), values masked unless reveal=1, and every reveal in DIR/audit.log.
func TestFlowsAPI(t *testing.T) {
	srv, data := apiFixture(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	tests := []struct {
		name, path, token, host string
		status                  int
		want, not               []string
		audits                  int // lines audit.log has after the request
	}{
		{name: "no token", path: "/api/flows", status: 401, want: []string{"bearer token"}, not: []string{"openai"}},
		{name: "wrong token", path: "/api/flows", token: "nope", status: 401, not: []string{"openai"}},
		{name: "no token, bodies", path: "/api/flows?bodies=1", status: 401, not: []string{bodyKey}},
		{name: "rebinding host", path: "/api/flows", token: apiToken, host: "evil.example:" + port, status: 421, not: []string{"openai"}},
		{name: "rebinding host, healthz stays open", path: "/healthz", host: "evil.example", status: 404},
		{name: "localhost", path: "/api/flows", token: apiToken, host: "localhost:" + port, status: 200, want: []string{`"id":"openai"`}},
		{name: "ipv6 loopback", path: "/api/flows", token: apiToken, host: "[::1]:" + port, status: 200, want: []string{`"id":"openai"`}},
		{name: "list", path: "/api/flows", token: apiToken, status: 200,
			want: []string{`"id":"openai"`, `"error":"dial tcp`, `{"stream":{"end":true}}`}, not: []string{apiKey, bodyKey}},
		{name: "filter and limit", path: "/api/flows?vendor=openai&since=1h&limit=1", token: apiToken, status: 200,
			want: []string{`"id":"openai"`, `{"stream":{"end":true}}`}, not: []string{"mixpanel"}},
		{name: "more than the limit", path: "/api/flows?limit=2", token: apiToken, status: 200, want: []string{`{"stream":{"end":true,"more":true}}`}},
		{name: "bodies masked", path: "/api/flows?bodies=1", token: apiToken, status: 200,
			want: []string{`"masked":true`, "[secret.aws-access-key-id AKIA************PLMR]", "key=%5Bredacted+by+customs%5D", `"segments":[{"path":"url:path"}`},
			not:  []string{apiKey, bodyKey, `"Path"`}},
		{name: "bad filter", path: "/api/flows?since=yesterday-ish", token: apiToken, status: 400, want: []string{"since"}},
		{name: "reveal", path: "/api/flows?bodies=1&reveal=1&purpose=evidence", token: apiToken, status: 200,
			want: []string{apiKey, bodyKey}, audits: 1},
		{name: "unknown flow", path: "/api/flows/01ARZ3NDEKTSV4RRFFQ69G5FAV?body=1", token: apiToken, status: 404,
			want: []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV"}, audits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("answer lacks %q: %s", w, b)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(b), n) {
					t.Errorf("answer has %q: %s", n, b)
				}
			}
			audit, _ := os.ReadFile(filepath.Join(data, "audit.log"))
			if got := bytes.Count(audit, []byte(`"type":"audit"`)); got != tt.audits {
				t.Fatalf("%d audit lines, want %d:\n%s", got, tt.audits, audit)
			}
		})
	}
	audit, _ := os.ReadFile(filepath.Join(data, "audit.log"))
	if !strings.Contains(string(audit), `"via":"admin API"`) || !strings.Contains(string(audit), "evidence") || strings.Contains(string(audit), bodyKey) {
		t.Errorf("audit line: %s", audit)
	}
}

// A reveal the audit log cannot record is refused, through the API as on the command line.
func TestFlowsAPIRevealNotRecordedIsRefused(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only files")
	}
	srv, data := apiFixture(t)
	if err := os.WriteFile(filepath.Join(data, "audit.log"), nil, 0o400); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/flows?bodies=1&reveal=1", nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(b), bodyKey) {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
}

// The client reads every flow of a stream, a flow's own "error" included (issue 12: the first
// failed flow ended every listing, export and replay), and a stream cut before its status line
// is an error, not a shorter list.
func TestAPISourceStream(t *testing.T) {
	srv, _ := apiFixture(t)
	a := &apiSource{base: srv.URL, token: apiToken, client: srv.Client(), stderr: io.Discard}
	var ids []string
	more, err := a.Each(context.Background(), store.Filter{}, readOptions{}, func(v *view) error {
		ids = append(ids, v.Vendor.ID+":"+v.Error)
		return nil
	})
	if err != nil || more || len(ids) != 3 || !strings.Contains(strings.Join(ids, ","), "mixpanel:dial tcp") {
		t.Fatalf("flows %v, more %v, err %v", ids, more, err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"cut", `{"flow_id":"a","error":"x"}` + "\n", "without its end line"},
		{"stream error", `{"flow_id":"a"}` + "\n" + `{"stream":{"error":"disk on fire"}}` + "\n", "disk on fire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, tc.body) }))
			defer cut.Close()
			a := &apiSource{base: cut.URL, token: "t", client: cut.Client(), stderr: io.Discard}
			n := 0
			_, err := a.Each(context.Background(), store.Filter{}, readOptions{}, func(*view) error { n++; return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) || n != 1 {
				t.Fatalf("%d flows, err %v; want %q", n, err, tc.want)
			}
		})
	}
	if _, err := a.Get(context.Background(), "01ARZ3NDEKTSV4RRFFQ69G5FAV", readOptions{}); !errors.Is(err, store.ErrNotFound) ||
		!strings.Contains(err.Error(), "01ARZ3NDEKTSV4RRFFQ69G5FAV") {
		t.Fatalf("unknown ID: %v", err)
	}
}

// The wire's status line and a flow never read as each other.
func TestStreamLineKeys(t *testing.T) {
	var l streamLine
	if err := json.Unmarshal([]byte(`{"flow_id":"x","error":"upstream failed"}`), &l); err != nil || l.Stream != nil || l.Error != "upstream failed" {
		t.Fatalf("%+v %v", l, err)
	}
	b, _ := json.Marshal(streamEnd{&streamStatus{Error: "e"}})
	if string(b) != `{"stream":{"error":"e"}}` {
		t.Fatalf("status line %s", b)
	}
}

// The admin listener's guard, by address: a Host naming the listener everywhere but the
// probes, and the token for /metrics off loopback.
func TestAdminHandler(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	tests := []struct {
		name, configured, bound, local, host, path, token string
		status                                            int
	}{
		{"loopback metrics", "127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", "/metrics", "", 200},
		{"loopback metrics, localhost", "127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", "localhost:8081", "/metrics", "", 200},
		{"loopback, forwarded port", "127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", "localhost:9000", "/metrics", "", 200},
		{"loopback, rebinding page", "127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", "attacker.example:8081", "/metrics", "", 421},
		{"loopback, rebinding page, no port", "127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", "attacker.example", "/api/flows", "", 421},
		{"no host", "127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", "", "/metrics", "", 421},
		{"probe with any host", "127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081", "attacker.example", "/healthz", "", 200},
		{"readyz with any host", "0.0.0.0:8081", "0.0.0.0:8081", "10.0.0.5:8081", "lb.internal", "/readyz", "", 200},
		{"network metrics without token", "10.0.0.5:8081", "10.0.0.5:8081", "10.0.0.5:8081", "10.0.0.5:8081", "/metrics", "", 401},
		{"network metrics, wrong token", "10.0.0.5:8081", "10.0.0.5:8081", "10.0.0.5:8081", "10.0.0.5:8081", "/metrics", "nope", 401},
		{"network metrics with token", "10.0.0.5:8081", "10.0.0.5:8081", "10.0.0.5:8081", "10.0.0.5:8081", "/metrics", apiToken, 200},
		{"wildcard, the address dialled", "0.0.0.0:8081", "0.0.0.0:8081", "10.0.0.5:8081", "10.0.0.5:8081", "/metrics", apiToken, 200},
		{"wildcard, another address", "0.0.0.0:8081", "0.0.0.0:8081", "10.0.0.5:8081", "10.0.0.6:8081", "/metrics", apiToken, 421},
		{"configured name", "admin.corp.example:8081", "10.0.0.5:8081", "10.0.0.5:8081", "Admin.Corp.Example:8081", "/metrics", apiToken, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := adminHandler(inner, tt.configured, tcp(tt.bound), apiToken)
			r := httptest.NewRequest("GET", "http://x"+tt.path, nil)
			r.Host = tt.host
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tcp(tt.local)))
			if tt.token != "" {
				r.Header.Set("Authorization", "Bearer "+tt.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
		})
	}
}
