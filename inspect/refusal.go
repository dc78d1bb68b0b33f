package inspect

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/flow"
)

// Refusal is the answer a client gets when a policy blocks its request: status 403 and a body in
// the error shape of the vendor it called, so that the vendor's official SDK raises its usual
// exception and the developer reads, in that exception's message, that customs refused the
// request, under which policy and for which classes of data — never the data itself.
type Refusal struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorStyle is the error shape of a vendor API.
type errorStyle int

const (
	styleOpenAI    errorStyle = iota // {"error":{"message","type","param","code"}}: OpenAI and the many OpenAI-compatible APIs
	styleAnthropic                   // {"type":"error","error":{"type","message"}}
	styleGemini                      // {"error":{"code","message","status"}}: Google APIs
	styleMessage                     // {"message": ...}: Cohere, AWS (with x-amzn-ErrorType)
	stylePlain                       // analytics, telemetry and unknown hosts: a plain JSON object
)

func styleOf(f *flow.Flow) errorStyle {
	api := f.API
	switch {
	case strings.HasPrefix(api, "anthropic.") || api == "vertex.anthropic" || f.Vendor.ID == "anthropic":
		return styleAnthropic
	case strings.HasPrefix(api, "gemini.") || strings.HasPrefix(api, "vertex.") ||
		f.Vendor.ID == "google-gemini" || f.Vendor.ID == "google-vertex-ai":
		return styleGemini
	case strings.HasPrefix(api, "bedrock.") || f.Vendor.ID == "aws-bedrock" ||
		strings.HasPrefix(api, "cohere.") || f.Vendor.ID == "cohere":
		return styleMessage
	case strings.HasPrefix(f.Vendor.Category, "ai-"):
		return styleOpenAI
	}
	return stylePlain
}

// RefusalFor builds the refusal for f, blocked by verdict v.
func RefusalFor(f *flow.Flow, v flow.Verdict) Refusal {
	if f.RequestHeader != nil && extract.IsGRPC(f.RequestHeader.Get("Content-Type")) {
		r := grpcRefusal(f, v)
		r.Header.Set("X-Customs-Flow", f.ID)
		if v.Policy != "" {
			r.Header.Set("X-Customs-Policy", v.Policy)
		}
		return r
	}
	msg := refusalMessage(f, v)
	h := http.Header{"Content-Type": {"application/json"}}
	code := v.Policy
	if code == "" {
		code = "customs_policy"
	}
	var body any
	switch styleOf(f) {
	case styleOpenAI:
		body = map[string]any{"error": map[string]any{
			"message": msg, "type": "customs_policy_violation", "param": nil, "code": code,
		}}
	case styleAnthropic:
		body = map[string]any{"type": "error", "error": map[string]any{"type": "permission_error", "message": msg}}
	case styleGemini:
		body = map[string]any{"error": map[string]any{"code": http.StatusForbidden, "message": msg, "status": "PERMISSION_DENIED"}}
	case styleMessage:
		body = map[string]any{"message": msg}
		if strings.HasPrefix(f.API, "bedrock.") || f.Vendor.ID == "aws-bedrock" {
			// boto3 and the AWS SDKs name the exception after this header.
			h.Set("X-Amzn-Errortype", "AccessDeniedException")
		}
	default:
		body = map[string]any{"error": msg, "blocked_by": "customs", "policy": code, "flow_id": f.ID}
	}
	b, _ := json.Marshal(body)
	h.Set("X-Customs-Flow", f.ID)
	if v.Policy != "" {
		h.Set("X-Customs-Policy", v.Policy)
	}
	return Refusal{Status: http.StatusForbidden, Header: h, Body: b}
}

// refusalMessage says who refused, why, and what was found, by detector and class only:
// "customs blocked this request: <policy message> [policy P; found: secret (…); flow F]".
func refusalMessage(f *flow.Flow, v flow.Verdict) string {
	var b strings.Builder
	switch msg := strings.TrimSpace(v.Message); {
	case msg == "":
		b.WriteString("customs blocked this request.")
	case strings.Contains(strings.ToLower(msg), "customs"):
		b.WriteString(msg)
	default:
		b.WriteString("customs blocked this request: ")
		b.WriteString(msg)
	}
	var facts []string
	if v.Policy != "" {
		facts = append(facts, "policy "+v.Policy)
	}
	if found := foundSummary(f.Findings); found != "" {
		facts = append(facts, "found: "+found)
	}
	facts = append(facts, "flow "+f.ID)
	fmt.Fprintf(&b, " [%s]", strings.Join(facts, "; "))
	return b.String()
}

// foundSummary lists the finding classes with their detectors and counts:
// "secret (secret.aws-access-key-id x2), pii (pii.email)".
func foundSummary(fs []flow.Finding) string {
	type key struct{ class, detector string }
	counts := map[key]int{}
	var order []key
	for _, x := range fs {
		k := key{x.Class, x.Detector}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	slices.SortStableFunc(order, func(a, b key) int { return strings.Compare(a.class, b.class) })
	var parts []string
	for i := 0; i < len(order); {
		class := order[i].class
		var dets []string
		for ; i < len(order) && order[i].class == class; i++ {
			d := order[i].detector
			if n := counts[order[i]]; n > 1 {
				d += fmt.Sprintf(" x%d", n)
			}
			dets = append(dets, d)
		}
		parts = append(parts, class+" ("+strings.Join(dets, ", ")+")")
	}
	return strings.Join(parts, ", ")
}
