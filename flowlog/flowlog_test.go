package flowlog_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/golden"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/flowlog"
)

func TestRecordGolden(t *testing.T) {
	start := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	base := func() *flow.Flow {
		return &flow.Flow{
			ID: "01JDQ5Z6B8W3Y2V1T0S9R8Q7P6", Start: start, End: start.Add(1500 * time.Microsecond),
			Source: flow.SourceProxy, Mode: flow.Intercepted,
			Client: flow.Client{Addr: "127.0.0.1:50123"},
			Host:   "generativelanguage.googleapis.com", Method: "POST",
			URL:          "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=AIzaSyD-not-a-real-key",
			RequestBody:  []byte(`{"contents":[{"parts":[{"text":"AKIAIOSFODNN7EXAMPLE"}]}]}`),
			RequestBytes: 58, ResponseBytes: 512, Status: 200,
			Vendor:  flow.Vendor{ID: "google-gemini", Name: "Google Gemini API", Category: "ai-provider", Country: "US"},
			Verdict: flow.Verdict{Action: flow.Allow},
		}
	}
	tests := []struct {
		name string
		flow func() *flow.Flow
	}{
		{"intercepted", base},
		{"finding-alert", func() *flow.Flow {
			f := base()
			f.Client.User = "alice"
			f.API = "gemini.generateContent"
			f.Findings = []flow.Finding{{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high",
				Path: "contents[0].parts[0].text", Start: 0, End: 20, Preview: "AKIA************MPLE", Hash: "hmac-sha256:3f9a"}}
			f.Verdict = flow.Verdict{Action: flow.Alert, Policy: "alert-secrets"}
			return f
		}},
		{"extracted", func() *flow.Flow {
			f := base()
			f.API = "gemini.generateContent"
			f.Segments = []flow.Segment{{Path: "contents[0].parts[0].text", Text: "AKIAIOSFODNN7EXAMPLE"}, {Path: "contents[0].parts[1].inline_data.data", Media: "image/png", Size: 70}}
			f.Notes = []string{"body: json: unexpected end at offset 58"}
			return f
		}},
		{"models", func() *flow.Flow {
			f := base()
			f.Host, f.URL = "api.openai.com", "https://api.openai.com/v1/responses"
			f.Vendor = flow.Vendor{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"}
			f.API, f.Model, f.ServedModel = "openai.responses", "gpt-4o", "gpt-4o-2024-11-20"
			f.Params = map[string]string{flow.ParamStore: flow.ParamTrue, flow.ParamPreviousResponseID: flow.ParamPresent, flow.ParamMetadata: flow.ParamPresent}
			f.Verdict = flow.Verdict{Action: flow.Block, Policy: "refuse-openai-store", Message: "OpenAI may not store our prompts."}
			return f
		}},
		{"tunnelled", func() *flow.Flow {
			f := base()
			f.Mode, f.Method, f.URL, f.Host, f.RequestBody = flow.Tunnelled, "CONNECT", "", "example.org", nil
			f.Vendor = flow.Vendor{}
			return f
		}},
		{"upstream-error", func() *flow.Flow {
			f := base()
			f.Status, f.ResponseBytes = 502, 0
			f.Error, f.ErrorKind = "customs: upstream generativelanguage.googleapis.com presented a certificate customs does not trust: x509: certificate signed by unknown authority", "tls"
			f.Marks = []flow.Mark{flow.MarkOversize}
			return f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			zerolog.TimeFieldFormat = time.RFC3339
			l := zerolog.New(&buf)
			flowlog.New(l).Record(tt.flow())
			got := buf.Bytes()
			for _, secret := range []string{"AIzaSyD", "AKIAIOSFODNN7EXAMPLE", "key="} {
				if bytes.Contains(got, []byte(secret)) {
					t.Errorf("log line leaks %q: %s", secret, got)
				}
			}
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), got)
		})
	}
}

func TestPathDropsQuery(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.openai.com/v1/chat/completions":       "/v1/chat/completions",
		"https://api.mixpanel.com/track?data=eyJldmVudCI6": "/track",
		"https://example.org":                              "/",
		"":                                                 "",
		"https://x/%zz":                                    "/%zz",
		"https://example.org?q=1":                          "/",
		"https://a/b#frag":                                 "/b",
	} {
		if got := flowlog.Path(in); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
	if strings.Contains(flowlog.Path("https://a/b?key=1"), "key") {
		t.Error("query kept")
	}
}
