package inspect

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/golden"
)

// Each vendor family's refusal is pinned in a golden file: the SDKs parse these shapes, so a
// change to one is a change to what developers see in their exceptions.
func TestRefusalShapes(t *testing.T) {
	findings := []flow.Finding{
		{Detector: "secret.aws-access-key-id", Class: "secret", Preview: "AKIA************MPLE", Hash: "h1"},
		{Detector: "secret.aws-access-key-id", Class: "secret", Preview: "AKIA************WXYZ", Hash: "h2"},
		{Detector: "pii.email", Class: "pii", Preview: "a***@example.com", Hash: "h3"},
	}
	v := flow.Verdict{Action: flow.Block, Policy: "block-secrets-to-ai", Message: "Credentials may not be sent to AI vendors"}
	tests := []struct {
		name     string
		vendor   flow.Vendor
		api      string
		verdict  flow.Verdict
		findings []flow.Finding
	}{
		{"openai", flow.Vendor{ID: "openai", Category: "ai-provider"}, "openai.chat", v, findings},
		{"groq-openai-compatible", flow.Vendor{ID: "groq", Category: "ai-provider"}, "", v, findings},
		{"anthropic", flow.Vendor{ID: "anthropic", Category: "ai-provider"}, "anthropic.messages", v, findings},
		{"vertex-anthropic", flow.Vendor{ID: "google-vertex-ai", Category: "ai-platform"}, "vertex.anthropic", v, findings},
		{"gemini", flow.Vendor{ID: "google-gemini", Category: "ai-provider"}, "gemini.generateContent", v, findings},
		{"bedrock", flow.Vendor{ID: "aws-bedrock", Category: "ai-platform"}, "bedrock.converse", v, findings},
		{"cohere", flow.Vendor{ID: "cohere", Category: "ai-provider"}, "cohere.chat", v, findings},
		{"mixpanel", flow.Vendor{ID: "mixpanel", Category: "analytics"}, "mixpanel.track", v, findings},
		{"unknown-host-no-message", flow.Vendor{}, "", flow.Verdict{Action: flow.Block, Policy: "block-all"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flow.Flow{ID: "01JTESTFLOW0000000000000000", Vendor: tt.vendor, API: tt.api, Findings: tt.findings}
			r := RefusalFor(f, tt.verdict)
			if r.Status != 403 {
				t.Fatalf("status %d", r.Status)
			}
			var pretty map[string]any
			if err := json.Unmarshal(r.Body, &pretty); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			for _, x := range tt.findings {
				if strings.Contains(string(r.Body), x.Preview) || strings.Contains(string(r.Body), x.Hash) {
					t.Fatal("the refusal carries a finding's preview or hash")
				}
			}
			out, _ := json.MarshalIndent(pretty, "", "  ")
			var hdr strings.Builder
			for _, k := range []string{"Content-Type", "X-Amzn-Errortype", "X-Customs-Flow", "X-Customs-Policy"} {
				if v := r.Header.Get(k); v != "" {
					fmt.Fprintf(&hdr, "%s: %s\n", k, v)
				}
			}
			golden.Check(t, filepath.Join("testdata", "refusal", tt.name+".txt"), []byte(hdr.String()+"\n"+string(out)+"\n"))
		})
	}
}
