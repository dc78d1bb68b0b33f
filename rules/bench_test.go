package rules

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/customs-dev/customs/flow"
)

// benchPolicies are 50 policies of the kinds operators write, over the vendors, detectors and
// networks of a mid-sized company; for the benchmark's flow only a few of them match.
func benchPolicies(tb testing.TB) *Set {
	var b strings.Builder
	b.WriteString("policies:\n")
	add := func(id, action, when string, cont bool) {
		fmt.Fprintf(&b, "  - id: %s\n    action: %s\n    when: %q\n", id, action, when)
		if cont {
			b.WriteString("    continue: true\n")
		}
	}
	teams := []string{"ml", "data", "web", "infra", "sales", "legal", "finance", "support"}
	nets := []string{"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "192.168.0.0/16", "172.16.0.0/12", "fd00:1::/32"}
	vendors := []string{"anthropic", "google-gemini", "mistral", "cohere", "deepseek", "groq"}
	add("audit-ml-team", "alert", `request.headers[?"x-team"].orValue("") == "ml" && findings.size() > 0`, true)
	for i := range 6 {
		add(fmt.Sprintf("allow-gateway-%d", i), "allow", fmt.Sprintf(`host_matches(request.host, "*.llm%d.corp.example")`, i), false)
	}
	for i, t := range teams {
		add(fmt.Sprintf("block-%s-secrets", t), "block",
			fmt.Sprintf(`request.headers[?"x-team"].orValue("") == %q && vendor.category in ["ai-provider", "ai-platform"] && findings.exists(f, f.class == "secret" && f.severity in ["high", "critical"]) && in_cidr(client.addr, %q)`,
				t, nets[i%len(nets)]), false)
	}
	for i, v := range vendors {
		add(fmt.Sprintf("redact-pii-%s", v), "redact",
			fmt.Sprintf(`vendor.id == %q && findings.exists(f, f.class == "pii" && f.count > %d)`, v, i+1), false)
		add(fmt.Sprintf("block-code-%s", v), "block",
			fmt.Sprintf(`vendor.id == %q && has_detector("code.source") && !in_cidr(client.addr, "10.99.0.0/16")`, v), false)
	}
	for i, c := range []string{"analytics", "error-tracking", "observability", "feature-flags", "session-replay", "customer-messaging"} {
		add(fmt.Sprintf("block-telemetry-%d", i), "block",
			fmt.Sprintf(`vendor.category == %q && findings.exists(f, f.class in ["secret", "pii", "marker", "code"])`, c), false)
	}
	for i := range 8 {
		add(fmt.Sprintf("alert-detector-%d", i), "alert",
			fmt.Sprintf(`findings.exists(f, f.detector == "acme.codename-%d" && f.confidence > 0.5)`, i), true)
	}
	for i, country := range []string{"CN", "RU", "KP"} {
		add(fmt.Sprintf("block-unverified-%d", i), "block",
			fmt.Sprintf(`!vendor.verified && vendor.country == %q && findings.size() > 0`, country), false)
	}
	add("block-oversize-uploads", "block", `flow.oversize && api.startsWith("openai.files") && client.user != "svc-batch"`, false)
	add("block-subprocessor", "block", `"bytedance" in vendor.subprocessors && findings.size() > 0`, false)
	add("alert-unknown-vendor", "alert", `!vendor.known && findings.size() > 0`, false)
	add("block-secrets-to-ai", "block", `vendor.category in ["ai-provider", "ai-platform", "ai-tool"] && has_class("secret")`, false)
	add("redact-pii-to-ai", "redact", `vendor.category in ["ai-provider", "ai-platform", "ai-tool"] && has_class("pii")`, false)
	add("alert-on-findings", "alert", `findings.size() > 0`, false)
	s, err := Parse("bench.yaml", []byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	if len(s.Policies) != 50 {
		tb.Fatalf("%d policies, want 50", len(s.Policies))
	}
	return s
}

// benchInput is an OpenAI chat flow with five findings: two e-mail addresses in one message,
// a phone number, a classification marker and a block of code.
func benchInput() *Input {
	return &Input{
		Vendor: VendorInfo{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US", Known: true, Verified: true,
			Subprocessors: []string{"microsoft-azure", "snowflake", "cloudflare"}},
		API: "openai.chat",
		Request: RequestInfo{Method: "POST", Host: "api.openai.com", Path: "/v1/chat/completions", Headers: http.Header{
			"Content-Type": {"application/json"}, "Authorization": {"Bearer x"}, "User-Agent": {"OpenAI/Python 1.59.7"},
			"X-Team": {"ml"}, "X-Stainless-Lang": {"python"}, "Accept": {"application/json"},
		}},
		Client: ClientInfo{Addr: "10.1.7.20:53122", User: "alice"},
		Findings: []flow.Finding{
			{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[1].content", Confidence: 1},
			{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[1].content", Confidence: 1},
			{Detector: "pii.phone", Class: "pii", Severity: "low", Path: "messages[1].content", Confidence: 0.8},
			{Detector: "marker.classification", Class: "marker", Severity: "medium", Path: "messages[0].content", Confidence: 1},
			{Detector: "code.source", Class: "code", Severity: "medium", Path: "messages[2].content", Confidence: 1},
		},
		Flow: FlowInfo{Source: flow.SourceProxy, Mode: flow.Intercepted},
	}
}

func TestBenchPolicies(t *testing.T) {
	d := benchPolicies(t).Evaluate(benchInput())
	if d.Action != flow.Redact || d.Policy != "redact-pii-to-ai" || len(d.Matched) != 2 || len(d.Errors) != 0 {
		t.Errorf("decision = %+v", d)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	s, in := benchPolicies(b), benchInput()
	b.ReportAllocs()
	for b.Loop() {
		s.Evaluate(in)
	}
}
