package inspect

import (
	"testing"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
)

// A vendor's own key where it reads keys is how its API is used; the same key anywhere else, or
// another vendor's key, stays a finding. Gateways receive the key of the vendor behind them.
func TestOwnCredential(t *testing.T) {
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		vendor, path, detector string
		own                    bool
	}{
		{"langsmith", "header:x-api-key", "secret.langsmith-api-key", true},
		{"langsmith", "post[0].inputs.messages[0].content", "secret.langsmith-api-key", false},
		{"langsmith", "header:x-api-key", "secret.openai-project-key", false},
		{"langfuse", "header:authorization/base64@6", "secret.langfuse-secret-key", true},
		{"langfuse", "header:authorization", "secret.openai-project-key", false},
		{"helicone", "header:helicone-auth", "secret.helicone-api-key", true},
		{"helicone", "header:authorization", "secret.openai-project-key", true},
		{"helicone", "messages[0].content", "secret.openai-project-key", false},
		{"portkey", "header:authorization", "secret.anthropic-api-key", true},
		{"portkey", "header:x-debug", "secret.anthropic-api-key", false},
		{"cloudflare-ai-gateway", "header:authorization", "secret.groq-api-key", true},
		{"cerebras", "header:authorization", "secret.cerebras-api-key", true},
		{"cerebras", "header:authorization", "secret.aws-access-key-id", false},
		{"nvidia-nim", "header:authorization", "secret.nvidia-api-key", true},
		{"arize", "header:arize-api-key", "secret.authorization-header", true},
		{"wandb", "header:authorization", "secret.langsmith-api-key", false},
	}
	for _, tt := range tests {
		v, ok := cat.Vendor(tt.vendor)
		if !ok {
			t.Fatalf("no vendor %q", tt.vendor)
		}
		x := flow.Finding{Detector: tt.detector, Class: "secret", Path: tt.path}
		if got := ownCredential(v, x); got != tt.own {
			t.Errorf("%s: %s at %s: own = %v, want %v", tt.vendor, tt.detector, tt.path, got, tt.own)
		}
	}
}
