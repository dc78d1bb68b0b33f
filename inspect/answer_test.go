package inspect_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/rules"
)

// TestAnswerFindingsRaiseAlerts: what the vendor sends back is judged by the policies too. It has
// already reached the client, so a policy that would block or redact it is recorded as an alert.
func TestAnswerFindingsRaiseAlerts(t *testing.T) {
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := builtin.Engine(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := inspect.New(inspect.Options{Catalog: cat, Detectors: eng, Hasher: detectors.NewHasher([]byte("test key for finding hashes 0123")), Rules: rules.Default()})
	cases := []struct {
		name, request, answer string
		want                  flow.Action
		policy                string
	}{
		{"clean answer", "hello", `{"choices":[{"message":{"role":"assistant","content":"hi"}}]}`, flow.Allow, ""},
		{"a key in the answer", "hello", `{"choices":[{"message":{"role":"assistant","content":"use aws_access_key_id = AKIAQ3EGRZ7WYH2LXK5N"}}]}`,
			flow.Alert, "alert-on-findings"},
		{"an address in the answer", "hello", `{"choices":[{"message":{"role":"assistant","content":"write to jane.doe@acme-corp.com"}}]}`,
			flow.Alert, "alert-on-findings"},
		{"an alert already stands", "why is this slow?\n\nfunc (s *Store) Get(id string) (*Flow, error) {\n\ts.mu.Lock()\n\tdefer s.mu.Unlock()\n\tf, ok := s.m[id]\n\tif !ok {\n\t\treturn nil, ErrNotFound\n\t}\n\treturn f, nil\n}",
			`{"choices":[{"message":{"role":"assistant","content":"mail jane.doe@acme-corp.com"}}]}`, flow.Alert, "alert-on-findings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &flow.Flow{Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions",
				RequestHeader: http.Header{"Content-Type": {"application/json"}},
				RequestBody:   []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":` + quoteJSON(c.request) + `}]}`)}
			if v := p.Inspect(context.Background(), f); v.Action.Rank() > flow.Alert.Rank() {
				t.Fatalf("request verdict %+v", v)
			}
			p.InspectResponse(f, http.Header{"Content-Type": {"application/json"}}, []byte(c.answer))
			if f.Verdict.Action != c.want || f.Verdict.Policy != c.policy {
				t.Fatalf("verdict %+v, want %s by %q", f.Verdict, c.want, c.policy)
			}
		})
	}
	// A pack whose block policy does not tell the answer from the request: the block is
	// recorded as an alert, and says why.
	strict, err := rules.Parse("strict.yaml", []byte("policies:\n  - {id: no-secrets, when: 'has_class(\"secret\")', action: block, message: no secrets}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p.Swap(cat, eng, detectors.NewHasher([]byte("test key for finding hashes 0123")), strict)
	f := &flow.Flow{Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions",
		RequestHeader: http.Header{"Content-Type": {"application/json"}}, RequestBody: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}
	p.Inspect(context.Background(), f)
	p.InspectResponse(f, http.Header{"Content-Type": {"application/json"}}, []byte(`{"choices":[{"message":{"content":"AKIAQ3EGRZ7WYH2LXK5N"}}]}`))
	if f.Verdict.Action != flow.Alert || f.Verdict.Policy != "no-secrets" || !strings.Contains(f.Verdict.Message, "vendor's answer") {
		t.Fatalf("verdict %+v", f.Verdict)
	}
}

func quoteJSON(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
