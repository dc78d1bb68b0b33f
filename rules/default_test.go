package rules

import (
	"strings"
	"testing"

	"github.com/customs-dev/customs/flow"
)

func TestDefaultLoads(t *testing.T) {
	s := Default()
	if len(s.Policies) != 7 || len(s.Tests) == 0 {
		t.Fatalf("default pack: %d policies, %d tests", len(s.Policies), len(s.Tests))
	}
	if Default() != s {
		t.Error("Default() compiled the pack twice")
	}
	if _, err := Parse(DefaultFile, DefaultSource()); err != nil {
		t.Fatalf("default pack source: %v", err)
	}
	for _, p := range s.Policies {
		if p.Message == "" || !strings.Contains(p.Message, "customs") {
			t.Errorf("policy %s: the message must name customs and say why: %q", p.ID, p.Message)
		}
	}
}

func vendorInput(id, category string, fs ...flow.Finding) *Input {
	return &Input{Vendor: VendorInfo{ID: id, Category: category, Known: id != ""}, Findings: fs}
}

func TestDefaultDecisions(t *testing.T) {
	document := flow.Finding{Detector: "acme.board-pack", Class: "document", Severity: "high"}
	jewel := func(share, segShare float64) flow.Finding {
		return flow.Finding{Detector: "jewel.code", Class: "code", Severity: "high", Path: "messages[0].content", Label: "billing", Ref: "refund.go", Share: share, SegmentShare: segShare}
	}
	record := flow.Finding{Detector: "record.match", Class: "record", Severity: "critical", Label: "customers", Rows: 1, Columns: []string{"name", "iban"}}
	echo := flow.Finding{Detector: "echo.prompt", Class: "document", Severity: "high", Path: "[0].properties.prompt", Ref: "01KABC", Share: 0.8}
	inAnswer := jewel(0.9, 0.9)
	inAnswer.Path = "response:choices[0].message.content"
	tests := []struct {
		name   string
		in     *Input
		action flow.Action
		policy string
	}{
		{"secret to openai", vendorInput("openai", "ai-provider", awsKey), flow.Block, "block-secrets-to-ai"},
		{"secret and pii to bedrock", vendorInput("aws-bedrock", "ai-platform", email, awsKey), flow.Block, "block-secrets-to-ai"},
		{"secret to a coding assistant", vendorInput("cursor", "ai-tool", awsKey), flow.Block, "block-secrets-to-ai"},
		{"pii to openai", vendorInput("openai", "ai-provider", email), flow.Redact, "redact-pii-to-ai"},
		{"marker to openai", vendorInput("openai", "ai-provider", marker), flow.Alert, "alert-on-findings"},
		{"code to anthropic", vendorInput("anthropic", "ai-provider", code), flow.Alert, "alert-on-findings"},
		{"marker to mixpanel", vendorInput("mixpanel", "analytics", marker), flow.Block, "block-crown-jewels-to-telemetry"},
		{"pii to sentry", vendorInput("sentry", "error-tracking", email), flow.Block, "block-crown-jewels-to-telemetry"},
		{"secret to datadog", vendorInput("datadog", "observability", awsKey), flow.Block, "block-crown-jewels-to-telemetry"},
		{"code to launchdarkly", vendorInput("launchdarkly", "feature-flags", code), flow.Block, "block-crown-jewels-to-telemetry"},
		{"document to fullstory", vendorInput("fullstory", "session-replay", document), flow.Block, "block-crown-jewels-to-telemetry"},
		{"pii to intercom", vendorInput("intercom", "customer-messaging", email), flow.Block, "block-crown-jewels-to-telemetry"},
		{"pii to a vendor of another category", vendorInput("cdn-co", "cdn", email), flow.Alert, "alert-on-findings"},
		{"secret to an unknown host", vendorInput("", "", awsKey), flow.Alert, "alert-on-findings"},
		{"secret to a bare IP address", func() *Input {
			in := vendorInput("", "", awsKey)
			in.Flow.Marks = []flow.Mark{flow.MarkIPTarget}
			return in
		}(), flow.Block, "block-secrets-to-bare-ip"},
		{"pii to a bare IP address", func() *Input {
			in := vendorInput("", "", email)
			in.Flow.Marks = []flow.Mark{flow.MarkIPTarget}
			return in
		}(), flow.Alert, "alert-on-findings"},
		{"a fifth of our file to openai", vendorInput("openai", "ai-provider", jewel(0.2, 0.1)), flow.Block, "block-crown-jewels-to-ai"},
		{"a prompt that is mostly our file", vendorInput("anthropic", "ai-provider", jewel(0.02, 0.7)), flow.Block, "block-crown-jewels-to-ai"},
		{"a few lines of our file", vendorInput("openai", "ai-provider", jewel(0.05, 0.2)), flow.Alert, "alert-on-findings"},
		{"our file in the answer", vendorInput("openai", "ai-provider", inAnswer), flow.Alert, "alert-on-findings"},
		{"a customer row to a coding assistant", vendorInput("cursor", "ai-tool", record), flow.Block, "block-crown-jewels-to-ai"},
		{"a customer row to mixpanel", vendorInput("mixpanel", "analytics", record), flow.Block, "block-crown-jewels-to-telemetry"},
		{"our file to sentry", vendorInput("sentry", "error-tracking", jewel(0.05, 0.2)), flow.Block, "block-crown-jewels-to-telemetry"},
		{"a prompt echoed to mixpanel", vendorInput("mixpanel", "analytics", echo), flow.Alert, "alert-prompt-echo-to-telemetry"},
		{"a prompt echoed with a key to sentry", vendorInput("sentry", "error-tracking", echo, awsKey), flow.Block, "block-crown-jewels-to-telemetry"},
		{"nothing to openai", vendorInput("openai", "ai-provider"), flow.Allow, ""},
		{"nothing to mixpanel", vendorInput("mixpanel", "analytics"), flow.Allow, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Default().Evaluate(tt.in)
			if d.Action != tt.action || d.Policy != tt.policy || len(d.Errors) != 0 {
				t.Errorf("got %s by %q (errors %q), want %s by %q", d.Action, d.Policy, d.Errors, tt.action, tt.policy)
			}
		})
	}
}

// The pack's own tests must agree with its policies. Without the detector engine (rules may
// not import it) each test's expected detectors stand in for its findings, and the hosts it
// uses for the catalog.
func TestDefaultPackTestsAgree(t *testing.T) {
	categories := map[string]string{"api.openai.com": "ai-provider", "api.anthropic.com": "ai-provider", "api-js.mixpanel.com": "analytics"}
	for _, tc := range Default().Tests {
		t.Run(tc.Name, func(t *testing.T) {
			if tc.Request != "" {
				t.Fatal("the embedded pack cannot ship request files: use an inline body")
			}
			in := &Input{Vendor: VendorInfo{Category: categories[tc.Host], Known: categories[tc.Host] != ""},
				Request: RequestInfo{Method: tc.Method, Host: tc.Host, Path: tc.Path}}
			for _, id := range tc.Expect.Detectors {
				class, _, _ := strings.Cut(id, ".")
				in.Findings = append(in.Findings, flow.Finding{Detector: id, Class: class, Severity: "high"})
			}
			d := Default().Evaluate(in)
			if tc.Expect.Action != "" && d.Action != tc.Expect.Action || tc.Expect.Policy != "" && d.Policy != tc.Expect.Policy {
				t.Errorf("got %s by %q, the test expects %s by %q", d.Action, d.Policy, tc.Expect.Action, tc.Expect.Policy)
			}
		})
	}
}
