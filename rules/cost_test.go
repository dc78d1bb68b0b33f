package rules

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/customs-dev/customs/flow"
)

// Conditions that cannot run long within the envelope get an untracked program; conditions
// that could (nested comprehensions, strings growing with each call) keep only the guarded one.
func TestFastPrograms(t *testing.T) {
	tests := []struct {
		when string
		fast bool
	}{
		{`vendor.category in ["ai-provider", "ai-platform"] && has_class("secret")`, true},
		{`findings.exists(f, f.class == "secret" && f.severity in ["high", "critical"])`, true},
		{`request.headers.exists(k, request.headers[k].contains("x")) || in_cidr(client.addr, "10.0.0.0/8")`, true},
		{`findings.exists(a, findings.exists(b, a.path + b.path == "x"))`, false},
		{`vendor.name.replace("a", vendor.name).replace("a", vendor.name).size() > 3`, false},
		{`request.headers[?"x-team"].orValue("").contains("ml")`, false},
	}
	for _, tt := range tests {
		s := policies(t, "p block : "+tt.when)
		if got := s.Policies[0].fast != nil; got != tt.fast {
			t.Errorf("%s: fast program %v, want %v", tt.when, got, tt.fast)
		}
	}
}

func TestFits(t *testing.T) {
	ok := benchInput()
	if !fits(ok, aggregate(ok.Findings)) {
		t.Fatal("the benchmark's flow does not fit the envelope")
	}
	tests := map[string]func(*Input){
		"long host":          func(in *Input) { in.Request.Host = strings.Repeat("a", maxShort+1) },
		"long path":          func(in *Input) { in.Request.Path = strings.Repeat("/", maxLong+1) },
		"big header":         func(in *Input) { in.Request.Headers = http.Header{"Cookie": {strings.Repeat("c", maxLong)}} },
		"many headers":       func(in *Input) { in.Request.Headers = manyHeaders(maxItems + 1) },
		"many subprocessors": func(in *Input) { in.Vendor.Subprocessors = make([]string, maxItems+1) },
		"many marks":         func(in *Input) { in.Flow.Marks = make([]flow.Mark, maxItems+1) },
		"long finding path":  func(in *Input) { in.Findings[0].Path = strings.Repeat("p", maxLong+1) },
		"long user":          func(in *Input) { in.Client.User = strings.Repeat("u", maxShort+1) },
		"many findings": func(in *Input) {
			for i := range maxFindings {
				in.Findings = append(in.Findings, flow.Finding{Detector: "pii.email", Path: fmt.Sprint(i)})
			}
		},
	}
	for name, change := range tests {
		in := benchInput()
		change(in)
		if fits(in, aggregate(in.Findings)) {
			t.Errorf("%s: fits the envelope", name)
		}
	}
}

func manyHeaders(n int) http.Header {
	h := http.Header{}
	for i := range n {
		h.Set(fmt.Sprintf("X-H%d", i), "v")
	}
	return h
}

// The untracked programs must decide exactly as the guarded ones.
func TestFastAgreesWithGuarded(t *testing.T) {
	s := benchPolicies(t)
	guarded := &Set{}
	for _, p := range s.Policies {
		q := *p
		q.fast = nil
		guarded.Policies = append(guarded.Policies, &q)
	}
	inputs := []*Input{benchInput(), openaiInput(), openaiInput(awsKey), vendorInput("mixpanel", "analytics", marker), {}}
	in := benchInput()
	in.Request.Headers.Set("X-Team", "data")
	in.Client.Addr = "10.2.0.9:1234"
	in.Findings = append(in.Findings, awsKey)
	inputs = append(inputs, in)
	for i, in := range inputs {
		a, b := s.Evaluate(in), guarded.Evaluate(in)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("input %d: fast %+v, guarded %+v", i, a, b)
		}
	}
}
