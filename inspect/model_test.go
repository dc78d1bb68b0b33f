package inspect_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/rules"
)

func modelPipeline(t *testing.T, policies string) *inspect.Pipeline {
	t.Helper()
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := builtin.Engine(nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := rules.Default()
	if policies != "" {
		if rs, err = rules.Parse("models.yaml", []byte(policies)); err != nil {
			t.Fatal(err)
		}
	}
	return inspect.New(inspect.Options{Catalog: cat, Detectors: eng, Hasher: detectors.NewHasher([]byte("test key for finding hashes 0123")), Rules: rs})
}

func chatFlow(url, body string) *flow.Flow {
	return &flow.Flow{Host: "api.openai.com", Method: "POST", URL: url,
		RequestHeader: http.Header{"Content-Type": {"application/json"}}, RequestBody: []byte(body)}
}

// TestRequestedModelDecides: the model and the retention parameters are on the flow before
// the policies run, so that a policy refuses a request before it goes.
func TestRequestedModelDecides(t *testing.T) {
	p := modelPipeline(t, `policies:
  - id: refuse-openai-store
    when: vendor.id == "openai" && api.params.store == "true"
    action: block
  - id: approved-models
    when: api != "" && !(api.model in ["gpt-4o-mini"])
    action: alert
`)
	cases := []struct {
		name, url, body string
		model           string
		params          map[string]string
		want            flow.Action
		policy          string
	}{
		{"approved, not stored", "https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`,
			"gpt-4o-mini", nil, flow.Allow, ""},
		{"asks OpenAI to store it", "https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o-mini","store":true,"messages":[{"role":"user","content":"hi"}]}`,
			"gpt-4o-mini", map[string]string{"store": "true"}, flow.Block, "refuse-openai-store"},
		{"another model", "https://api.openai.com/v1/responses", `{"model":"gpt-4.5-preview","store":false,"input":"hi"}`,
			"gpt-4.5-preview", map[string]string{"store": "false"}, flow.Alert, "approved-models"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := chatFlow(c.url, c.body)
			v := p.Inspect(context.Background(), f)
			if v.Action != c.want || v.Policy != c.policy {
				t.Fatalf("verdict %+v, want %s by %q", v, c.want, c.policy)
			}
			if f.Model != c.model || len(f.Params) != len(c.params) {
				t.Fatalf("model %q params %v, want %q %v", f.Model, f.Params, c.model, c.params)
			}
			for k, want := range c.params {
				if f.Params[k] != want {
					t.Fatalf("params %v, want %v", f.Params, c.params)
				}
			}
		})
	}
}

// TestModelWithSecretIsMasked: a credential pasted into "model" is found like any other value,
// and the model is recorded masked, since it is logged and listed.
func TestModelWithSecretIsMasked(t *testing.T) {
	p := modelPipeline(t, "")
	f := chatFlow("https://api.openai.com/v1/chat/completions", `{"model":"AKIAQ3EGRZ7WYH2LXK5N","messages":[{"role":"user","content":"hi"}]}`)
	if v := p.Inspect(context.Background(), f); v.Action != flow.Block {
		t.Fatalf("verdict %+v", v)
	}
	if f.Model != flow.MaskedValue {
		t.Fatalf("model %q", f.Model)
	}
	// A Gemini model is read from the URL: a secret anywhere in the path masks it.
	g := &flow.Flow{Host: "generativelanguage.googleapis.com", Method: "POST",
		URL:           "https://generativelanguage.googleapis.com/v1beta/models/AKIAQ3EGRZ7WYH2LXK5N:generateContent",
		RequestHeader: http.Header{"Content-Type": {"application/json"}}, RequestBody: []byte(`{"contents":[]}`)}
	p.Inspect(context.Background(), g)
	if g.Model != flow.MaskedValue {
		t.Fatalf("model %q, findings %+v", g.Model, g.Findings)
	}
}

// TestServedModelAfterTheAnswer: the served model is read with the answer; a policy on it is
// decided again then, and, the answer having reached the client, can only alert.
func TestServedModelAfterTheAnswer(t *testing.T) {
	p := modelPipeline(t, `policies:
  - id: pinned-version
    when: api.served_model != "" && api.served_model != "gpt-4o-2024-08-06"
    action: block
    message: gpt-4o moved to a new version.
`)
	f := chatFlow("https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	if v := p.Inspect(context.Background(), f); v.Action != flow.Allow {
		t.Fatalf("request verdict %+v", v)
	}
	p.InspectResponse(f, http.Header{"Content-Type": {"text/event-stream"}},
		[]byte("data: {\"id\":\"c\",\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"))
	if f.ServedModel != "gpt-4o-2024-11-20" {
		t.Fatalf("served model %q", f.ServedModel)
	}
	if f.Verdict.Action != flow.Alert || f.Verdict.Policy != "pinned-version" {
		t.Fatalf("verdict %+v", f.Verdict)
	}
	// The same answer under the default pack, which reads no served model: nothing to decide.
	d := modelPipeline(t, "")
	g := chatFlow("https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	d.Inspect(context.Background(), g)
	d.InspectResponse(g, http.Header{"Content-Type": {"application/json"}}, []byte(`{"model":"gpt-4o-2024-11-20","choices":[]}`))
	if g.ServedModel != "gpt-4o-2024-11-20" || g.Verdict.Action != flow.Allow {
		t.Fatalf("served %q, verdict %+v", g.ServedModel, g.Verdict)
	}
}
