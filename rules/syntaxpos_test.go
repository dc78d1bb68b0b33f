package rules

import (
	"errors"
	"testing"
)

// A YAML syntax error is placed where the problem is, line and column, not where yaml.v3's
// enclosing block starts and without a column (issue 12).
func TestSyntaxErrorPositions(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
	}{
		{"misindented key", "policies:\n  - id: x\n    when: \"true\"\n   action: block\n", 4, 4},
		{"second colon", "policies:\n  - id: x\n    when: a: b\n", 3, 12},
		{"unclosed quote", "policies:\n  - id: x\n    when: \"true\n", 3, 11},
		{"reserved indicator", "policies:\n  - id: x\n    when: @foo\n", 3, 11},
		{"tab", "policies:\n\t- id: tabbed\n", 2, 1},
		{"unclosed flow", "policies: [a, b\nvendors: []\n", 1, 11},
		{"dedented list item", "policies:\n  - id: x\n    when: \"true\"\n  action: block\n", 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.src))
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("err %v, want rule errors", err)
			}
			if e := es[0]; e.Line != tt.line || e.Col != tt.col {
				t.Fatalf("%s, want %d:%d", e.Caret(nil), tt.line, tt.col)
			}
		})
	}
}
