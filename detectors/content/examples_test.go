package content

import (
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// scan runs detectors through the engine, as the built-in examples check does.
func scan(t testing.TB, ds []detectors.Detector, text string) map[string][]detectors.Match {
	t.Helper()
	e, err := detectors.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]detectors.Match{}
	e.Scan(text, func(d detectors.Detector, m detectors.Match) { got[d.Meta().ID] = append(got[d.Meta().ID], m) })
	return got
}

func TestExamples(t *testing.T) {
	ds, err := Detectors([]string{"NIGHTJAR", "Kestrel"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := detectors.New(ds); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		m := d.Meta()
		t.Run(m.ID, func(t *testing.T) {
			if len(m.Examples.Match) == 0 || len(m.Examples.NoMatch) == 0 || m.Description == "" {
				t.Errorf("%s needs match and no-match examples and a description", m.ID)
			}
			one := []detectors.Detector{d}
			for _, ex := range m.Examples.Match {
				if len(scan(t, one, ex)[m.ID]) == 0 {
					t.Errorf("match example not found: %q", ex)
				}
			}
			for _, ex := range m.Examples.NoMatch {
				if ms := scan(t, one, ex)[m.ID]; len(ms) != 0 {
					t.Errorf("no-match example matched: %q at %q", ex, ex[ms[0].Start:ms[0].End])
				}
			}
		})
	}
}
