package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/detectors/jewels"
	"github.com/customs-dev/customs/internal/golden"
	"github.com/customs-dev/customs/rules"
)

// customs rules lint|test|default through the binary, as a policy repository's CI runs them:
// output pinned in golden files, exit codes as design.md says (0 ok, 1 a failing test, 2 a rule
// file that does not load).
func TestRulesCommands(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"lint-ok", []string{"rules", "lint", "team.yaml"}, 0},
		{"lint-errors", []string{"rules", "lint", "broken.yaml"}, 2},
		{"lint-default", []string{"rules", "lint"}, 0},
		{"test-ok", []string{"rules", "test", "team.yaml", "-v"}, 0},
		{"test-failures", []string{"rules", "test", "failing.yaml"}, 1},
		{"test-default-pack", []string{"rules", "test", "-v"}, 0},
		{"test-broken", []string{"rules", "test", "broken.yaml"}, 2},
		{"no-subcommand", []string{"rules"}, 2},
		{"lint-typos", []string{"rules", "lint", "typos.yaml"}, 2},
		{"lint-syntax", []string{"rules", "lint", "syntax.yaml"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCustoms(t, "testdata/rules", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			golden.Check(t, filepath.Join("testdata", "rules", "out", tt.name+".golden"), []byte(out+"--- stderr\n"+errOut))
		})
	}
	out, _, code := runCustoms(t, "testdata/rules", "rules", "default")
	if code != 0 || out != string(rules.DefaultSource()) {
		t.Fatalf("rules default: exit %d, output differs from the embedded pack", code)
	}
	if !strings.Contains(out, "policies:") {
		t.Fatal("rules default printed no policies")
	}
}

// The embedded pack names only detectors and classes that exist: the check rule files get at
// load time (issue 12) holds for the pack loaded without it.
func TestDefaultPackNamesKnownDetectors(t *testing.T) {
	all, err := builtin.Detectors(nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range all {
		ids = append(ids, d.Meta().ID)
	}
	ids = append(ids, jewels.IDs...) // as loadPolicy adds them
	if _, err := rules.ParseWith(rules.Options{Detectors: ids}, rules.DefaultFile, rules.DefaultSource()); err != nil {
		t.Fatal(err)
	}
}
