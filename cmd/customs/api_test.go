package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/store"
)

// The flow API needs the bearer token when customs listens beyond loopback: without it (or
// with a wrong one) 401 and nothing else; with it, the same filters as customs flows.
func TestFlowsAPIToken(t *testing.T) {
	st, err := store.Open(store.Options{Dir: t.TempDir(), Logger: zerolog.Nop(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	now := time.Now()
	for i, v := range []string{"openai", "mixpanel"} {
		st.Record(&flow.Flow{ID: flow.NewID(now.Add(time.Duration(i) * time.Millisecond)), Start: now, End: now, Source: flow.SourceProxy,
			Mode: flow.Intercepted, Host: "h" + v, Method: "POST", URL: "https://h/x?key=sk-secret", Vendor: flow.Vendor{ID: v},
			Client: flow.Client{Addr: "127.0.0.1:1"}, Verdict: flow.Verdict{Action: flow.Allow}})
	}
	if err := st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(flowsAPI(st, "s3cret-token", zerolog.Nop()))
	defer srv.Close()
	tests := []struct {
		name, path, token string
		status            int
		want, not         string
	}{
		{"no token", "/api/flows", "", 401, "bearer token", "openai"},
		{"wrong token", "/api/flows", "nope", 401, "", "openai"},
		{"all", "/api/flows", "s3cret-token", 200, `"vendor":{"id":"mixpanel"`, "sk-secret"},
		{"filter", "/api/flows?vendor=openai&since=1h", "s3cret-token", 200, `"id":"openai"`, "mixpanel"},
		{"bad filter", "/api/flows?since=yesterday-ish", "s3cret-token", 400, "since", ""},
		{"unknown flow", "/api/flows/01ARZ3NDEKTSV4RRFFQ69G5FAV", "s3cret-token", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) || (tt.not != "" && strings.Contains(string(b), tt.not)) {
				t.Fatalf("status %d body %s", resp.StatusCode, b)
			}
		})
	}
}
