package content

import (
	"fmt"
	"github.com/customs-dev/customs/internal/lineartime"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

func all(t testing.TB) []detectors.Detector {
	t.Helper()
	ds, err := Detectors([]string{"NIGHTJAR", "Kestrel", "Project Blue Harbor"})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

type found struct {
	value string
	conf  float64
}

func findAll(t testing.TB, id, text string) []found {
	var out []found
	for _, m := range scan(t, all(t), text)[id] {
		out = append(out, found{text[m.Start:m.End], m.Confidence})
	}
	return out
}

func TestMarkers(t *testing.T) {
	for _, c := range []struct {
		id, text string
		want     []found
	}{
		{"marker.classification", "CONFIDENTIAL", []found{{"CONFIDENTIAL", 1}}},
		{"marker.classification", "# CONFIDENTIAL\n", []found{{"CONFIDENTIAL", 1}}},
		{"marker.classification", "Subject: CONFIDENTIAL - Q3 numbers", []found{{"CONFIDENTIAL", 1}}},
		{"marker.classification", "CONFIDENTIAL: do not forward", []found{{"CONFIDENTIAL", 1}}},
		{"marker.classification", "this is CONFIDENTIAL, ok?", []found{{"CONFIDENTIAL", 0.7}}},
		{"marker.classification", "Confidential\n", []found{{"Confidential", 0.9}}},
		{"marker.classification", "Confidential information must be protected at all times.", []found{{"Confidential information", 0.3}}},
		{"marker.classification", "keep it confidential", []found{{"confidential", 0.3}}},
		{"marker.classification", "confidential: true", nil},
		{"marker.classification", `{"confidential": true}`, nil},
		{"marker.classification", "data_classification = \"confidential\"", []found{{"confidential", 0.9}}},
		{"marker.classification", "INTERNAL USE ONLY", []found{{"INTERNAL USE ONLY", 1}}},
		{"marker.classification", "For Internal Use Only", []found{{"For Internal Use Only", 0.9}}},
		{"marker.classification", "this endpoint is internal only.", []found{{"internal only", 0.4}}},
		{"marker.classification", "RESTRICTED\nBoard minutes", []found{{"RESTRICTED", 0.8}}},
		{"marker.classification", "a restricted area", nil},
		{"marker.classification", "TOP SECRET//SCI", []found{{"TOP SECRET", 1}}},
		{"marker.classification", "(S//NF) SECRET//NOFORN", []found{{"SECRET//NOFORN", 1}}},
		{"marker.classification", "top secret recipe", []found{{"top secret", 0.2}}},
		{"marker.classification", "TLP:RED", []found{{"TLP:RED", 1}}},
		{"marker.classification", "TLP: AMBER advisory", []found{{"TLP: AMBER", 1}}},
		{"marker.classification", "TLP:GREEN and TLP:CLEAR", nil},
		{"marker.classification", "OFFICIAL-SENSITIVE", []found{{"OFFICIAL-SENSITIVE", 1}}},
		{"marker.legal-privilege", "PRIVILEGED & CONFIDENTIAL", []found{{"PRIVILEGED & CONFIDENTIAL", 1}}},
		{"marker.legal-privilege", "PRIVILEGED\n", []found{{"PRIVILEGED", 0.8}}},
		{"marker.legal-privilege", "Is this covered by attorney-client privilege?", []found{{"attorney-client privilege", 0.5}}},
		{"marker.legal-privilege", "securityContext:\n  privileged: true\n", nil},
		{"marker.trade-secret", "[TRADE SECRET]", []found{{"TRADE SECRET", 1}}},
		{"marker.nda", "UNDER NDA", []found{{"UNDER NDA", 1}}},
		{"marker.nda", "we signed an NDA last week", nil},
		{"marker.distribution", "do not distribute this", []found{{"do not distribute", 0.6}}},
		{"marker.distribution", "Do not share your password with anyone.", []found{{"Do not share", 0.3}}},
		{"marker.codename", "NIGHTJAR ships in May; nightjar is late; nightjars", []found{{"NIGHTJAR", 1}, {"nightjar", 0.8}}},
		{"marker.codename", "the kestrel migration", []found{{"kestrel", 0.8}}},
		{"marker.codename", "Kestrel", []found{{"Kestrel", 1}}},
		{"marker.codename", "status of project blue harbor?", []found{{"project blue harbor", 0.8}}},
		{"marker.codename", "kestrels and xNIGHTJAR and NIGHTJAR_v2", nil},
	} {
		got := findAll(t, c.id, c.text)
		if len(got) != len(c.want) {
			t.Errorf("%s in %q: got %v, want %v", c.id, c.text, got, c.want)
			continue
		}
		for i := range got {
			if got[i].value != c.want[i].value || got[i].conf < c.want[i].conf-1e-9 || got[i].conf > c.want[i].conf+1e-9 {
				t.Errorf("%s in %q: got %v, want %v", c.id, c.text, got, c.want)
				break
			}
		}
	}
}

func TestCodenames(t *testing.T) {
	ds, err := Detectors(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Meta().ID == "marker.codename" {
			t.Error("a codename detector without codenames")
		}
	}
	for _, bad := range [][]string{{""}, {"  "}, {"ab"}, {"ok-name", "x"}, {"two\nlines"}} {
		if _, err := Detectors(bad); err == nil {
			t.Errorf("codenames %q accepted", bad)
		}
	}
	ds, err = Detectors([]string{"Falcon", "FALCON", " falcon "})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if m := d.Meta(); m.ID == "marker.codename" && len(m.Keywords) != 1 {
			t.Errorf("keywords %q, want one", m.Keywords)
		}
	}
}

func TestIDsAndClasses(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range all(t) {
		m := d.Meta()
		if seen[m.ID] {
			t.Errorf("duplicate %s", m.ID)
		}
		seen[m.ID] = true
		ns, _, _ := strings.Cut(m.ID, ".")
		if ns != string(m.Class) {
			t.Errorf("%s has class %s", m.ID, m.Class)
		}
	}
}

var raceFactor = 1

// Pathological inputs are linear.
func TestHugeInputs(t *testing.T) {
	e, err := detectors.New(all(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"a", "\n", "}\n", "x;\n", "```\n", "CONFIDENTIAL ", "nightjar ", "  def f(x):\n", "@", "1"} {
		lineartime.Check(t, fmt.Sprintf("%q", unit), (10<<20)/lineartime.Growth/raceFactor, func(n int) func() {
			text := strings.Repeat(unit, n/len(unit))
			return func() { e.Scan(text, func(detectors.Detector, detectors.Match) {}) }
		})
	}
}
