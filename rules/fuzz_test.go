package rules

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no rule file makes Parse (or evaluating what it accepts) panic, and that
// every error it reports is positioned in the file it was given.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/rules/*/*.yaml")
	more, _ := filepath.Glob("testdata/rules/*/*/*.yaml")
	for _, file := range append(append(files, more...), "default.yaml") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	in := openaiInput(awsKey, email, marker)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			for _, e := range es {
				if e.File != "fuzz.yaml" || e.Msg == "" || e.Line < 0 || e.Col < 0 {
					t.Fatalf("malformed error %q", e.Error())
				}
				_ = e.Caret(data)
			}
			return
		}
		for _, p := range s.Policies {
			if p.guarded == nil {
				t.Fatalf("policy %s accepted without a program", p.ID)
			}
		}
		d := s.Evaluate(in)
		if d.Action.Rank() == 0 && d.Action != "allow" {
			t.Fatalf("decision with action %q", d.Action)
		}
	})
}
