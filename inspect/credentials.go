package inspect

import (
	"strings"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
)

// A request to a vendor carries the vendor's own credential — OpenAI's key in Authorization,
// Gemini's in ?key=, an AWS access key ID in a Bedrock SigV4 header, a session cookie for
// chatgpt.com. Now that headers and the URL are scanned, that credential is found on every
// request; but sending a vendor its own key is how the API is used, not a leak. So a finding is
// the request's own credential, and left out of the findings, when both hold:
//
//   - it sits where vendors read credentials: a credential header (credentialHeaders, plus the
//     headers the catalog's auth notes name for the vendor) or a credential query parameter;
//   - its detector is a generic credential shape (a bearer token, a JWT) or belongs to the
//     destination vendor itself (ownDetectors).
//
// Anything else stays a finding: an AWS key in Authorization to OpenAI, a GitHub token in
// X-Debug, a password in a Cookie to Mixpanel, any value in a body.

// credentialHeaders are header names (lower case) that carry the caller's own credential for the
// destination.
var credentialHeaders = map[string]bool{
	"authorization": true, "cookie": true, "x-api-key": true, "api-key": true, "apikey": true,
	"x-goog-api-key": true, "dd-api-key": true, "dd-application-key": true,
	"x-sentry-auth": true, "x-amz-security-token": true,
}

// credentialParams are query parameters that carry the caller's own credential.
var credentialParams = map[string]bool{
	"key": true, "api_key": true, "apikey": true, "sentry_key": true, "dd-api-key": true, "access_token": true,
}

// genericCredentials are detectors of credential shapes that any vendor may issue.
var genericCredentials = map[string]bool{"secret.authorization-header": true, "secret.jwt": true}

// ownDetectors lists, per catalog vendor, the ID prefixes of the detectors that find the
// vendor's own credentials.
var ownDetectors = map[string][]string{
	"openai":           {"secret.openai-"},
	"anthropic":        {"secret.anthropic-"},
	"google-gemini":    {"secret.google-api-key"},
	"google-vertex-ai": {"secret.google-api-key", "secret.gcp-"},
	"mistral":          {"secret.mistral-"},
	"cohere":           {"secret.cohere-"},
	"xai":              {"secret.xai-"},
	"groq":             {"secret.groq-"},
	"huggingface":      {"secret.huggingface-"},
	"azure-openai":     {"secret.azure-ad-", "secret.azure-shared-access-key"},
	"aws-bedrock":      {"secret.aws-access-key-id", "secret.aws-session-token"},
	"github-copilot":   {"secret.github-"},
	"datadog":          {"secret.datadog-"},
	"sentry":           {"secret.sentry-"},
	"cerebras":         {"secret.cerebras-"},
	"nvidia-nim":       {"secret.nvidia-"},
	"replicate":        {"secret.replicate-"},
	"langsmith":        {"secret.langsmith-"},
	"langfuse":         {"secret.langfuse-"},
	"notion":           {"secret.notion-"},
	"slack":            {"secret.slack-"},
	// Gateways forward the caller's key for the vendor behind them: sending it is how they work.
	"helicone":              append([]string{"secret.helicone-"}, gatewayUpstreams...),
	"portkey":               gatewayUpstreams,
	"cloudflare-ai-gateway": gatewayUpstreams,
}

// gatewayUpstreams are the detectors of the model vendors' own keys that an AI gateway receives
// in its credential headers to pass on.
var gatewayUpstreams = []string{
	"secret.openai-", "secret.anthropic-", "secret.google-api-key", "secret.mistral-", "secret.cohere-",
	"secret.xai-", "secret.groq-", "secret.huggingface-", "secret.cerebras-", "secret.nvidia-", "secret.replicate-",
}

// ownCredential reports whether x is the destination vendor's own credential, in a place the
// vendor reads credentials from. v may be nil (a host outside the catalog): then only generic
// shapes in the standard credential headers count.
func ownCredential(v *catalog.Vendor, x flow.Finding) bool {
	if x.Class != "secret" {
		return false
	}
	if !inCredentialPosition(v, x.Path) {
		return false
	}
	if genericCredentials[x.Detector] {
		return true
	}
	if v == nil {
		return false
	}
	for _, p := range ownDetectors[v.ID] {
		if strings.HasPrefix(x.Detector, p) {
			return true
		}
	}
	return false
}

func inCredentialPosition(v *catalog.Vendor, path string) bool {
	name := ""
	var set map[string]bool
	switch {
	case strings.HasPrefix(path, "header:"):
		name, set = path[len("header:"):], credentialHeaders
	case strings.HasPrefix(path, "query:"):
		name, set = path[len("query:"):], credentialParams
	default:
		return false
	}
	// header:authorization/base64 (Basic credentials decoded) is still the same header.
	if i := strings.IndexAny(name, "/[@"); i >= 0 {
		name = name[:i]
	}
	name = strings.ToLower(name)
	if set[name] {
		return true
	}
	return v != nil && strings.HasPrefix(path, "header:") && vendorAuthHeader(v, name)
}

// vendorAuthHeader reports whether the catalog's auth note for v names header name ("header:
// x-api-key: <key>; header: anthropic-version: ...").
func vendorAuthHeader(v *catalog.Vendor, name string) bool {
	for part := range strings.SplitSeq(v.Auth, "header:") {
		h, _, _ := strings.Cut(strings.TrimSpace(part), ":")
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" && h == name {
			return true
		}
	}
	return false
}

// dropOwnCredentials removes the vendor's own credentials from fs (in place).
func dropOwnCredentials(v *catalog.Vendor, fs []flow.Finding) []flow.Finding {
	out := fs[:0]
	for _, x := range fs {
		if !ownCredential(v, x) {
			out = append(out, x)
		}
	}
	return out
}
