package pii

import (
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// scan runs one detector through the engine, as the built-in examples check does.
func scan(t testing.TB, d detectors.Detector, text string) []detectors.Match {
	t.Helper()
	e, err := detectors.New([]detectors.Detector{d})
	if err != nil {
		t.Fatal(err)
	}
	var ms []detectors.Match
	e.Scan(text, func(_ detectors.Detector, m detectors.Match) { ms = append(ms, m) })
	return ms
}

func TestExamples(t *testing.T) {
	ds, err := Detectors()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := detectors.New(ds); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range ds {
		m := d.Meta()
		ids = append(ids, m.ID)
		t.Run(m.ID, func(t *testing.T) {
			if len(m.Examples.Match) == 0 || len(m.Examples.NoMatch) == 0 || m.Description == "" {
				t.Errorf("%s needs match and no-match examples and a description", m.ID)
			}
			for _, ex := range m.Examples.Match {
				if len(scan(t, d, ex)) == 0 {
					t.Errorf("match example not found: %q", ex)
				}
			}
			for _, ex := range m.Examples.NoMatch {
				if ms := scan(t, d, ex); len(ms) != 0 {
					t.Errorf("no-match example matched: %q at %q", ex, ex[ms[0].Start:ms[0].End])
				}
			}
		})
	}
	if len(ids) < 17 {
		t.Errorf("%d detectors: %v", len(ids), ids)
	}
}
