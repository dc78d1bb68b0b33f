package rules

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/customs-dev/customs/flow"
)

// policies builds a Set from policy lines "id action [continue] : condition".
func policies(t testing.TB, lines ...string) *Set {
	t.Helper()
	var b strings.Builder
	if len(lines) == 0 {
		b.WriteString("policies: []\n") // no policies must be said so
	} else {
		b.WriteString("policies:\n")
	}
	for _, l := range lines {
		head, when, _ := strings.Cut(l, " : ")
		f := strings.Fields(head)
		fmt.Fprintf(&b, "  - id: %s\n    action: %s\n    when: %q\n", f[0], f[1], when)
		if len(f) > 2 && f[2] == "continue" {
			b.WriteString("    continue: true\n")
		}
	}
	s, err := Parse("test.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return s
}

func openaiInput(fs ...flow.Finding) *Input {
	return &Input{
		Vendor:   VendorInfo{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US", Known: true, Verified: true, Subprocessors: []string{"microsoft-azure"}},
		API:      "openai.chat",
		Request:  RequestInfo{Method: "POST", Host: "api.openai.com", Path: "/v1/chat/completions", Headers: http.Header{"X-Team": {"ml"}, "Content-Type": {"application/json"}}},
		Client:   ClientInfo{Addr: "10.20.30.40:51234", User: "alice"},
		Findings: fs,
		Flow:     FlowInfo{Source: flow.SourceProxy, Mode: flow.Intercepted},
	}
}

var (
	awsKey = flow.Finding{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[0].content", Confidence: 0.95}
	email  = flow.Finding{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[0].content", Confidence: 1}
	marker = flow.Finding{Detector: "marker.classification", Class: "marker", Severity: "medium", Path: "[0].properties.title", Confidence: 1}
	code   = flow.Finding{Detector: "code.source", Class: "code", Severity: "medium", Path: "messages[1].content", Confidence: 1}
)

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		policies []string
		in       *Input
		action   flow.Action
		policy   string
		matched  string // IDs of matched policies, space-separated
		errors   int
	}{
		{"first match decides", []string{"a alert : true", "b block : true"}, openaiInput(), flow.Alert, "a", "a", 0},
		{"no match allows", []string{"a block : false", "b alert : findings.size() > 0"}, openaiInput(), flow.Allow, "", "", 0},
		{"no policies allow", nil, openaiInput(awsKey), flow.Allow, "", "", 0},
		{"continue then escalate", []string{"a alert continue : true", "b block : has_class(\"secret\")", "c alert : true"},
			openaiInput(awsKey), flow.Block, "b", "a b", 0},
		{"continue with nothing after", []string{"a alert continue : true", "b block : false"}, openaiInput(), flow.Alert, "a", "a", 0},
		{"continue does not weaken", []string{"a redact continue : true", "b alert : true"}, openaiInput(), flow.Redact, "a", "a b", 0},
		{"first of the strongest decides", []string{"a block continue : true", "b alert continue : true", "c block : true", "d alert : true"},
			openaiInput(), flow.Block, "a", "a b c", 0},
		{"continue to the end", []string{"a alert continue : true", "b redact continue : true"}, openaiInput(), flow.Redact, "b", "a b", 0},
		{"allow policy decides", []string{"internal allow : vendor.id == \"openai\"", "b block : true"}, openaiInput(awsKey), flow.Allow, "internal", "internal", 0},
		{"missing header fails closed for block", []string{"a block : request.headers[\"x-missing\"] == \"1\"", "b alert : true"},
			openaiInput(), flow.Block, "a", "a", 1},
		{"missing header is no match for alert", []string{"a alert : request.headers[\"x-missing\"] == \"1\"", "b redact : true"},
			openaiInput(), flow.Redact, "b", "b", 1},
		{"failed block with continue keeps going", []string{"a block continue : request.headers[\"x-missing\"] == \"1\"", "b alert : true"},
			openaiInput(), flow.Block, "a", "a b", 1},
		{"optional header lookup", []string{"a block : request.headers[?\"x-missing\"].orValue(\"\") == \"1\"", "b alert : true"},
			openaiInput(), flow.Alert, "b", "b", 0},
		{"header names are lower-case", []string{"a block : request.headers[\"x-team\"] == \"ml\" && request.headers[\"content-type\"].startsWith(\"application/json\")"},
			openaiInput(), flow.Block, "a", "a", 0},
		{"in_cidr with port", []string{"a block : in_cidr(client.addr, \"10.0.0.0/8\")"}, openaiInput(), flow.Block, "a", "a", 0},
		{"in_cidr outside", []string{"a block : in_cidr(client.addr, \"192.168.0.0/16\") || in_cidr(client.addr, \"fd00::/8\")"}, openaiInput(), flow.Allow, "", "", 0},
		{"host_matches", []string{"a block : host_matches(request.host, \"*.openai.com\") && !host_matches(request.host, \"*.anthropic.com\")"},
			openaiInput(), flow.Block, "a", "a", 0},
		{"vendor fields", []string{"a block : vendor.known && vendor.verified && \"microsoft-azure\" in vendor.subprocessors && vendor.country == \"US\" && vendor.name == \"OpenAI\""},
			openaiInput(), flow.Block, "a", "a", 0},
		{"request and client fields", []string{"a block : api == \"openai.chat\" && request.method == \"POST\" && request.path.startsWith(\"/v1/\") && client.user == \"alice\""},
			openaiInput(), flow.Block, "a", "a", 0},
		{"flow fields", []string{"a block : flow.source == \"proxy\" && flow.mode == \"intercepted\" && !flow.oversize && flow.marks.size() == 0"},
			openaiInput(), flow.Block, "a", "a", 0},
		{"strings extension", []string{"a block : request.host.upperAscii().split(\".\").size() == 3"}, openaiInput(), flow.Block, "a", "a", 0},
		{"has_detector", []string{"a block : has_detector(\"pii.email\") && !has_detector(\"pii.card\")"}, openaiInput(email), flow.Block, "a", "a", 0},
		{"has_class on a filtered list", []string{"a block : findings.filter(f, f.path.startsWith(\"messages[1]\")).has_class(\"code\")"},
			openaiInput(email, code), flow.Block, "a", "a", 0},
		{"severity and confidence", []string{"a block : findings.exists(f, f.severity in [\"high\", \"critical\"] && f.confidence > 0.9)"},
			openaiInput(email, awsKey), flow.Block, "a", "a", 0},
		{"int compares with double", []string{"a block : findings.exists(f, f.confidence >= 1)"}, openaiInput(email), flow.Block, "a", "a", 0},
		{"list macros over findings", []string{`a block : findings.map(f, f.detector).exists(d, d == "pii.email") && findings.all(f, f.count >= 1) && findings.exists_one(f, f.class == "secret") && findings.filter(f, f.class == "pii").size() == 1`},
			openaiInput(email, awsKey), flow.Block, "a", "a", 0},
		{"findings index, concatenation and nesting", []string{`a block : findings[0].class == "pii" && size(findings + findings) == 2 * findings.size() && findings.exists(x, findings.exists(y, x.detector != y.detector)) && findings == findings`},
			openaiInput(email, awsKey), flow.Block, "a", "a", 0},
		{"objects compare by value", []string{`a block : vendor == vendor && dyn(vendor) != dyn(client)`},
			openaiInput(), flow.Block, "a", "a", 0},
		{"unknown vendor", []string{"a block : !vendor.known && vendor.category == \"\" && vendor.subprocessors.size() == 0"},
			&Input{}, flow.Block, "a", "a", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := policies(t, tt.policies...)
			d := s.Evaluate(tt.in)
			var ids []string
			for _, m := range d.Matched {
				ids = append(ids, m.ID)
			}
			if d.Action != tt.action || d.Policy != tt.policy || strings.Join(ids, " ") != tt.matched || len(d.Errors) != tt.errors {
				t.Errorf("got %s by %q, matched %q, errors %q; want %s by %q, matched %q, %d errors",
					d.Action, d.Policy, ids, d.Errors, tt.action, tt.policy, tt.matched, tt.errors)
			}
		})
	}
}

func TestFailClosedMessage(t *testing.T) {
	s := policies(t, "guard block : request.headers[\"x-missing\"] == \"1\"")
	d := s.Evaluate(openaiInput())
	if !strings.Contains(d.Message, "fails closed") || !d.Matched[0].FailedClosed {
		t.Errorf("decision = %+v, want a fail-closed message", d)
	}
	if len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0], "policy guard: no such key") {
		t.Errorf("errors = %q", d.Errors)
	}
}

// A condition that explodes (a comprehension nested in one over many findings) is cut off by
// the cost limit; a block policy then fails closed, an alert policy does not match.
func TestCostLimit(t *testing.T) {
	var fs []flow.Finding
	for i := range 600 {
		fs = append(fs, flow.Finding{Detector: "pii.email", Class: "pii", Path: fmt.Sprintf("messages[%d].content", i)})
	}
	heavy := `findings.exists(a, findings.exists(b, a.path + b.path == "x"))`
	for _, tt := range []struct {
		action flow.Action
		want   flow.Action
	}{{flow.Block, flow.Block}, {flow.Alert, flow.Allow}} {
		s := policies(t, "heavy "+string(tt.action)+" : "+heavy)
		d := s.Evaluate(openaiInput(fs...))
		if d.Action != tt.want || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "cost limit") {
			t.Errorf("%s policy: got %s, errors %q; want %s and a cost-limit error", tt.action, d.Action, d.Errors, tt.want)
		}
	}
}

func TestEvaluateContextInterrupted(t *testing.T) {
	var fs []flow.Finding
	for i := range 200 {
		fs = append(fs, flow.Finding{Detector: "pii.email", Class: "pii", Path: fmt.Sprintf("p%d", i)})
	}
	s := policies(t, `slow block : findings.exists(a, a.path == "nowhere")`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := s.EvaluateContext(ctx, openaiInput(fs...))
	if d.Action != flow.Block || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "interrupt") {
		t.Errorf("got %s, errors %q; want block (fail closed) after an interrupt", d.Action, d.Errors)
	}
	if d := s.EvaluateContext(context.Background(), openaiInput(fs...)); d.Action != flow.Allow || len(d.Errors) != 0 {
		t.Errorf("uncancelled: got %s, errors %q", d.Action, d.Errors)
	}
}

// Evaluation errors are logged: the values a condition was reading must not be in them.
func TestErrorsKeepValuesOut(t *testing.T) {
	in := openaiInput()
	in.Request.Headers.Set("Authorization", "Bearer sk-proj-abcdefghij0123456789")
	s := policies(t, `a alert : timestamp(request.headers["authorization"]) > timestamp("2020-01-01T00:00:00Z")`)
	d := s.Evaluate(in)
	if len(d.Errors) != 1 || strings.Contains(d.Errors[0], "sk-proj") || !strings.Contains(d.Errors[0], "timestamp") {
		t.Errorf("errors = %q, want the failure without the header's value", d.Errors)
	}
	for in, want := range map[string]string{
		"no such key: x-team": "no such key: x-team",
		"found no matching overload for '_==_' applied to '(int, string)'": "found no matching overload for '_==_' applied to '…'",
		`invalid RFC 3339 timestamp "Bearer hunter2"`:                      `invalid RFC 3339 timestamp "…"`,
		"type conversion error from 'string' to 'int'":                     "type conversion error from 'string' to 'int'",
	} {
		if got := scrub(in); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultMessage(t *testing.T) {
	tests := []struct {
		action flow.Action
		fs     []flow.Finding
		want   string
	}{
		{flow.Block, []flow.Finding{awsKey, email, awsKey}, "blocked by customs policy p: found pii, secret"},
		{flow.Redact, []flow.Finding{email}, "redacted by customs policy p: found pii"},
		{flow.Alert, []flow.Finding{code}, "flagged by customs policy p: found code"},
		{flow.Allow, nil, "allowed by customs policy p"},
	}
	for _, tt := range tests {
		s := policies(t, "p "+string(tt.action)+" : true")
		if got := s.Evaluate(openaiInput(tt.fs...)).Message; got != tt.want {
			t.Errorf("%s: message %q, want %q", tt.action, got, tt.want)
		}
	}
	// A message the policy gives is used as written.
	s, err := Parse("m.yaml", []byte("policies: [{id: p, when: 'true', action: block, message: No keys to AI vendors., severity: high}]"))
	if err != nil {
		t.Fatal(err)
	}
	d := s.Evaluate(nil)
	if d.Message != "No keys to AI vendors." || d.Severity != "high" {
		t.Errorf("decision = %+v", d)
	}
	if v := d.Verdict(); v.Action != flow.Block || v.Policy != "p" || v.Message != d.Message {
		t.Errorf("Verdict() = %+v", v)
	}
}

func TestAggregate(t *testing.T) {
	low := email
	high := email
	high.Severity, high.Confidence = "high", 0.4
	other := email
	other.Path = "messages[1].content"
	got := Aggregate([]flow.Finding{low, awsKey, high, other, low})
	want := []Finding{
		{Detector: "pii.email", Class: "pii", Severity: "high", Path: "messages[0].content", Count: 3, Confidence: 1},
		{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[0].content", Count: 1, Confidence: 0.95},
		{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[1].content", Count: 1, Confidence: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Aggregate =\n%v\nwant\n%v", got, want)
	}
	// Policies see the same groups.
	s := policies(t, `a block : findings.size() == 3 && findings.exists(f, f.detector == "pii.email" && f.count == 3 && f.severity == "high")`)
	if d := s.Evaluate(openaiInput(low, awsKey, high, other, low)); d.Action != flow.Block {
		t.Errorf("count not seen by policies: %+v", d)
	}
	// Past the linear scan's limit the grouping is the same.
	var many []flow.Finding
	for i := range 200 {
		many = append(many, flow.Finding{Detector: "pii.email", Path: fmt.Sprint(i % 100)})
	}
	groups := Aggregate(many)
	if len(groups) != 100 || groups[0].Count != 2 || groups[99].Path != "99" {
		t.Errorf("Aggregate of 200 findings over 100 paths: %d groups, first %+v", len(groups), groups[0])
	}
}

func TestNewInput(t *testing.T) {
	f := &flow.Flow{
		Source: flow.SourceCapture, Mode: flow.Plain, Client: flow.Client{Addr: "10.0.0.1:4000", User: "bob"},
		Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/files?purpose=batch", API: "openai.files",
		RequestHeader: http.Header{"X-Team": {"ml"}},
		Vendor:        flow.Vendor{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"},
		Findings:      []flow.Finding{awsKey},
		Marks:         []flow.Mark{flow.MarkOversize},
	}
	in := NewInput(f)
	if in.Request.Path != "/v1/files" || !in.Vendor.Known || !in.Flow.Oversize || in.Client.User != "bob" || in.API != "openai.files" {
		t.Errorf("NewInput = %+v", in)
	}
	s := policies(t, `a block : flow.oversize && "oversize" in flow.marks && request.path == "/v1/files" && has_class("secret") && flow.source == "capture"`)
	if d := s.Evaluate(in); d.Action != flow.Block {
		t.Errorf("decision = %+v", d)
	}
	if in := NewInput(&flow.Flow{}); in.Vendor.Known {
		t.Errorf("a flow without a vendor is known: %+v", in.Vendor)
	}
}

// Policies built in code never went through the compiler: evaluating one is an error, not a
// panic, and a block among them fails closed.
func TestUncompiledPolicy(t *testing.T) {
	s := &Set{Policies: []*Policy{{ID: "raw", When: "true", Action: flow.Block}}}
	d := s.Evaluate(openaiInput())
	if d.Action != flow.Block || len(d.Errors) != 1 {
		t.Errorf("decision = %+v", d)
	}
	var nilSet *Set
	if d := nilSet.Evaluate(nil); d.Action != flow.Allow {
		t.Errorf("nil set: %+v", d)
	}
}

// Evaluate is called from many proxy goroutines at once on one Set.
func TestEvaluateConcurrent(t *testing.T) {
	s := policies(t, `a alert continue : request.headers["x-team"] == "ml"`, `b block : has_class("secret")`)
	done := make(chan bool)
	for range 8 {
		go func() {
			ok := true
			for range 200 {
				d := s.Evaluate(openaiInput(awsKey))
				ok = ok && d.Action == flow.Block && len(d.Matched) == 2
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("wrong decision under concurrency")
		}
	}
}
