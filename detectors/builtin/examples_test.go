package builtin_test

import (
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
)

// Every built-in detector ships examples, and go test holds it to them: each Match example yields
// a finding of that detector, each NoMatch example none (gitleaks' practice).
func TestBuiltinExamples(t *testing.T) {
	e, err := builtin.Engine([]string{"NIGHTJAR", "KESTREL"})
	if err != nil {
		t.Fatal(err)
	}
	ds := e.Detectors()
	if len(ds) < 60 {
		t.Errorf("%d built-in detectors, want at least 60", len(ds))
	}
	for _, d := range ds {
		m := d.Meta()
		t.Run(m.ID, func(t *testing.T) {
			if len(m.Examples.Match) == 0 || len(m.Examples.NoMatch) == 0 {
				t.Errorf("%s has no match or no no-match examples", m.ID)
			}
			for _, ex := range m.Examples.Match {
				if !found(e, ex, m.ID) {
					t.Errorf("match example not found: %.120q", ex)
				}
			}
			for _, ex := range m.Examples.NoMatch {
				if found(e, ex, m.ID) {
					t.Errorf("no-match example matched: %.120q", ex)
				}
			}
		})
	}
}

func found(e *detectors.Engine, text, id string) bool {
	hit := false
	e.Scan(text, func(d detectors.Detector, _ detectors.Match) {
		if d.Meta().ID == id {
			hit = true
		}
	})
	return hit
}

func TestBuiltinIDsAreNamespacedByClass(t *testing.T) {
	ds, err := builtin.Detectors(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		m := d.Meta()
		if ns, _, _ := strings.Cut(m.ID, "."); ns != string(m.Class) && !(m.Class == detectors.PII && ns == "infra") {
			t.Errorf("%s: namespace %q does not name its class %q", m.ID, ns, m.Class)
		}
	}
}
