package admin_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customs-dev/customs/admin"
	"github.com/customs-dev/customs/flow"
)

func TestMetricsAndEndpoints(t *testing.T) {
	m := admin.NewMetrics()
	start := time.Now()
	m.Record(&flow.Flow{Mode: flow.Intercepted, Start: start, End: start.Add(30 * time.Millisecond), RequestBytes: 4096, ResponseBytes: 100,
		Vendor: flow.Vendor{ID: "openai", Category: "ai-provider"}, Verdict: flow.Verdict{Action: flow.Allow},
		Findings: []flow.Finding{{Detector: "secret.aws-access-key-id", Class: "secret"}}})
	m.Record(&flow.Flow{Mode: flow.Tunnelled, Start: start, End: start.Add(time.Second), Verdict: flow.Verdict{Action: flow.Allow}})
	m.Record(&flow.Flow{Mode: flow.Intercepted, Status: 502, ErrorKind: "tls", Vendor: flow.Vendor{ID: "openai", Category: "ai-provider"}, Verdict: flow.Verdict{Action: flow.Allow}})
	m.Record(&flow.Flow{Mode: flow.Intercepted, Incomplete: []string{"decode-limit"}, Vendor: flow.Vendor{ID: "openai", Category: "ai-provider"}, Verdict: flow.Verdict{Action: flow.Block}})
	m.Record(&flow.Flow{Source: flow.SourceCapture, Mode: flow.TLS, Marks: []flow.Mark{flow.MarkBypass}, Vendor: flow.Vendor{ID: "anthropic", Category: "ai-provider"},
		Verdict: flow.Verdict{Action: flow.Alert}})
	m.GaugeFunc("customs_test_gauge", "test", func() float64 { return 7 })

	var ready atomic.Bool
	h := admin.Handler(m, &ready)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz before ready: %d", code)
	}
	ready.Store(true)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/nope": 404} {
		if code, _ := get(path); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	_, body := get("/metrics")
	for _, want := range []string{
		`customs_flows_total{action="allow",category="ai-provider",mode="intercepted",vendor="openai"} 2`,
		`customs_flows_total{action="allow",category="none",mode="tunnelled",vendor="none"} 1`,
		`customs_flow_errors_total{kind="tls",vendor="openai"} 1`,
		`customs_bytes_total{direction="out",mode="intercepted"} 4096`,
		`customs_flow_duration_seconds_bucket{mode="intercepted",le="0.05"} 3`,
		`customs_findings_total{class="secret",detector="secret.aws-access-key-id"} 1`,
		`customs_incomplete_total{action="block",reason="decode-limit"} 1`,
		`customs_bypass_flows_total{category="ai-provider",vendor="anthropic"} 1`,
		`customs_flows_total{action="alert",category="ai-provider",mode="tls",vendor="anthropic"} 1`,
		`customs_test_gauge 7`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
