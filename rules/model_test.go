package rules

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/customs-dev/customs/flow"
)

// TestAPIContext: api stays the API's name, a string, as rule files compare it, and has the
// fields api.model, api.served_model and api.params.
func TestAPIContext(t *testing.T) {
	stored := openaiInput()
	stored.Model, stored.ServedModel = "gpt-4o", "gpt-4o-2024-11-20"
	stored.Params = map[string]string{flow.ParamStore: flow.ParamTrue, flow.ParamMetadata: flow.ParamPresent}
	plain := openaiInput()
	plain.Model = "gpt-4o-mini"
	upload := openaiInput()
	upload.API, upload.Params = "openai.files", map[string]string{flow.ParamPersist: flow.PersistFile}
	none := &Input{}

	cases := []struct {
		when string
		in   *Input
		want bool
	}{
		// The forms rule files use today.
		{`api == "openai.chat"`, stored, true},
		{`"openai.chat" == api`, stored, true},
		{`api != ""`, stored, true},
		{`api.startsWith("openai.")`, stored, true},
		{`api in ["openai.chat", "openai.responses"]`, stored, true},
		{`api.startsWith("openai.files")`, upload, true},
		{`api == ""`, none, true},
		// Models.
		{`api.model == "gpt-4o"`, stored, true},
		{`!(api.model in ["gpt-4o-mini", "claude-3-5-haiku-20241022"])`, stored, true},
		{`!(api.model in ["gpt-4o-mini", "claude-3-5-haiku-20241022"])`, plain, false},
		{`api.model.startsWith("gpt-4o")`, plain, true},
		{`api.served_model == "gpt-4o-2024-11-20"`, stored, true},
		{`api.served_model != "" && api.served_model != api.model`, stored, true},
		{`api.served_model != "" && api.served_model != api.model`, plain, false},
		{`api.model == "" && api.served_model == ""`, none, true},
		// Retention parameters: every key is there, "" when not set.
		{`api.params.store == "true"`, stored, true},
		{`api.params.store == "true"`, plain, false},
		{`api.params.store == "true"`, none, false},
		{`api.params["metadata"] == "present"`, stored, true},
		{`api.params.persist == "file"`, upload, true},
		{`api.params.persist != ""`, stored, false},
		{`api.params[?"store"].orValue("") == "true"`, stored, true},
		{`api.params.exists(k, api.params[k] != "")`, plain, false},
		{`size(api.params) == 8`, plain, true},
		{`vendor.id == "openai" && api.params.store == "true" && api.model.startsWith("gpt-")`, stored, true},
	}
	for _, c := range cases {
		t.Run(c.when, func(t *testing.T) {
			d := policies(t, "p block : "+c.when).Evaluate(c.in)
			if len(d.Errors) > 0 {
				t.Fatalf("errors: %v", d.Errors)
			}
			if got := d.Action == flow.Block; got != c.want {
				t.Fatalf("%s = %v, want %v", c.when, got, c.want)
			}
		})
	}
}

// TestAPIContextFromFlow: NewInput carries a flow's model, served model and parameters.
func TestAPIContextFromFlow(t *testing.T) {
	f := &flow.Flow{Host: "api.openai.com", URL: "https://api.openai.com/v1/responses", API: "openai.responses",
		Model: "o3", ServedModel: "o3-2025-04-16", Params: map[string]string{flow.ParamBackground: flow.ParamTrue}}
	s := policies(t, `p block : api == "openai.responses" && api.model == "o3" && api.served_model == "o3-2025-04-16" && api.params.background == "true"`)
	if d := s.Evaluate(NewInput(f)); d.Action != flow.Block || len(d.Errors) > 0 {
		t.Fatalf("decision %+v", d)
	}
}

// TestAPIContextOutsideEnvelope: a flow too large for the untracked programs (more parameters
// than the envelope, a model name past its bound) gets the same answer from the tracked ones.
func TestAPIContextOutsideEnvelope(t *testing.T) {
	in := openaiInput()
	in.Model = strings.Repeat("m", maxShort+1)
	in.Params = map[string]string{flow.ParamStore: flow.ParamTrue}
	for i := range maxItems + 1 {
		in.Params["x"+strings.Repeat("y", i)] = "z"
	}
	s := policies(t, `p block : api.params.store == "true" && size(api.model) > 256`)
	if groups := aggregate(in.Findings); fits(in, groups) {
		t.Fatal("the input fits the envelope")
	}
	if d := s.Evaluate(in); d.Action != flow.Block || len(d.Errors) > 0 {
		t.Fatalf("decision %+v", d)
	}
}

func TestReadsServedModel(t *testing.T) {
	if policies(t, `p alert : api.model != ""`).ReadsServedModel() {
		t.Error("a policy on the requested model reads the served one")
	}
	if !policies(t, `a alert : api.model != ""`, `b alert : api.served_model.startsWith("gpt-4o-2024")`).ReadsServedModel() {
		t.Error("a policy on the served model does not")
	}
	var none *Set
	if none.ReadsServedModel() {
		t.Error("no set reads it")
	}
}

// TestREADMEModelPolicies: the model and retention policies the README gives as examples load,
// and decide as it says.
func TestREADMEModelPolicies(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	var src []byte
	for _, b := range blocks {
		if strings.Contains(string(b[1]), "api.model") || strings.Contains(string(b[1]), "api.params") {
			src = append(src, b[1]...)
		}
	}
	if len(src) == 0 {
		t.Fatal("the README gives no example policy on api.model or api.params")
	}
	s, err := Parse("README.md", src)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	approved := openaiInput()
	approved.Model = "gpt-4o-mini"
	other := openaiInput()
	other.Model = "gpt-4.5-preview"
	store := openaiInput()
	store.Model, store.Params = "gpt-4o-mini", map[string]string{flow.ParamStore: flow.ParamTrue}
	for _, c := range []struct {
		name string
		in   *Input
		want flow.Action
	}{
		{"an approved model", approved, flow.Allow},
		{"another model", other, flow.Alert},
		{"store: true to OpenAI", store, flow.Block},
	} {
		if d := s.Evaluate(c.in); d.Action != c.want {
			t.Errorf("%s: %s (policy %s), want %s", c.name, d.Action, d.Policy, c.want)
		}
	}
}
