package replay

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/rules"
)

func pipeline(t *testing.T, extra []detectors.Detector, rs *rules.Set) *inspect.Pipeline {
	t.Helper()
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := builtin.Detectors(nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.New(append(ds, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return inspect.New(inspect.Options{Catalog: cat, Detectors: e, Hasher: detectors.NewHasher([]byte("replay test key 0123456789abcdef")), Rules: rs})
}

func chat(id, content string) *flow.Flow {
	return &flow.Flow{ID: id, Source: flow.SourceProxy, Mode: flow.Intercepted, Host: "api.openai.com", Method: "POST",
		URL:           "https://api.openai.com/v1/chat/completions",
		RequestHeader: http.Header{"Content-Type": {"application/json"}},
		RequestBody:   []byte(fmt.Sprintf(`{"model":"gpt-4o","messages":[{"role":"user","content":%q}]}`, content))}
}

// A replay with a new detector and policy reports the old flows it now catches — the new
// finding and the changed action — and nothing for flows whose outcome is the same.
func TestReplayDiffsNewDetectorHits(t *testing.T) {
	old := pipeline(t, nil, rules.Default())
	recorded := []*flow.Flow{
		chat("01A", "what is the status of NIGHTJAR-204?"),
		chat("01B", "write a haiku about autumn"),
		chat("01C", "deploy with AKIAZ7VQ3KXJ5N2WPLMR"),
		{ID: "01D", Source: flow.SourceProxy, Mode: flow.Tunnelled, Host: "example.com", Method: "CONNECT"},
	}
	for _, f := range recorded {
		if f.Mode != flow.Tunnelled {
			old.Inspect(context.Background(), f)
		}
	}
	codename := &detectors.Pattern{M: detectors.Meta{ID: "marker.acme-codename", Class: detectors.Marker, Severity: detectors.High,
		Keywords: []string{"NIGHTJAR"}}, Regexp: `NIGHTJAR-\d{3}`}
	rs, err := rules.Parse("new.yaml", []byte(`
policies:
  - id: block-codenames
    when: has_detector("acme-codename")
    action: block
  - id: block-secrets
    when: has_class("secret")
    action: block
`))
	if err != nil {
		t.Fatal(err)
	}
	now := pipeline(t, []detectors.Detector{codename}, rs)

	i := 0
	next := func() (*flow.Flow, error) {
		if i == len(recorded) {
			return nil, nil
		}
		i++
		return recorded[i-1], nil
	}
	got := map[string]*Diff{}
	totals, err := Run(context.Background(), now, next, func(d *Diff) error { got[d.Flow.ID] = d; return nil }, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id             string
		changed        bool
		added, removed []string
		was, now       string // actions
	}{
		{"01A", true, []string{"marker.acme-codename"}, nil, "allow", "block"},
		{"01B", false, nil, nil, "allow", "allow"},
		{"01C", true, nil, nil, "block", "block"}, // same finding, other deciding policy
		{"01D", false, nil, nil, "", ""},
	}
	for _, tt := range tests {
		d := got[tt.id]
		if d == nil {
			t.Fatalf("%s: no diff reported", tt.id)
		}
		if d.Changed() != tt.changed || string(d.Was.Action) != tt.was || string(d.Flow.Verdict.Action) != tt.now {
			t.Errorf("%s: changed %v, %s -> %s; want %v, %s -> %s", tt.id, d.Changed(), d.Was.Action, d.Flow.Verdict.Action, tt.changed, tt.was, tt.now)
		}
		if ids := detectorIDs(d.Added); fmt.Sprint(ids) != fmt.Sprint(tt.added) {
			t.Errorf("%s: added %v, want %v", tt.id, ids, tt.added)
		}
		if ids := detectorIDs(d.Removed); fmt.Sprint(ids) != fmt.Sprint(tt.removed) {
			t.Errorf("%s: removed %v, want %v", tt.id, ids, tt.removed)
		}
	}
	if totals.Flows != 4 || totals.Inspected != 3 || totals.Changed != 2 || totals.NewFindings != 1 || totals.ActionChanged != 2 {
		t.Errorf("totals %+v", totals)
	}
	// Replaying with the rules of the time changes nothing.
	i = 0
	same, err := Run(context.Background(), old, next, func(*Diff) error { return nil }, Options{})
	if err != nil || same.Changed != 0 {
		t.Errorf("replay with the same rules: %+v, %v", same, err)
	}
}

func detectorIDs(fs []flow.Finding) []string {
	var out []string
	for _, x := range fs {
		out = append(out, x.Detector)
	}
	return out
}
