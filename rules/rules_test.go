package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/golden"
)

// TestGolden loads each file (or directory) under testdata/rules/valid and invalid and compares
// the outcome with NAME.golden next to it: the loaded set as JSON for a valid file, every error
// in caret form for an invalid one.
func TestGolden(t *testing.T) {
	for _, kind := range []string{"valid", "invalid"} {
		entries, err := os.ReadDir(filepath.Join("testdata/rules", kind))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() && filepath.Ext(name) != ".yaml" || e.IsDir() && name == "requests" {
				continue
			}
			n++
			path := filepath.Join("testdata/rules", kind, name)
			base := strings.TrimSuffix(path, ".yaml")
			t.Run(kind+"/"+strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
				set, err := LoadWith(Options{Detectors: testDetectors}, path)
				var got []byte
				switch {
				case kind == "valid" && err != nil:
					t.Fatalf("Load(%s): %v", path, err)
				case kind == "invalid" && err == nil:
					t.Fatalf("Load(%s) succeeded, want errors", path)
				case err != nil:
					var es Errors
					if !errors.As(err, &es) {
						t.Fatalf("error is %T, want Errors: %v", err, err)
					}
					got = []byte(es.Caret() + "\n")
				default:
					got = renderSet(t, set)
				}
				golden.Check(t, base+".golden", got)
			})
		}
		if kind == "invalid" && n < 15 {
			t.Errorf("only %d invalid rule files; the suite promises at least 15", n)
		}
	}
}

// testDetectors stand for the built-in detectors, which rules does not import.
var testDetectors = []string{"secret.aws-access-key-id", "secret.github-token", "pii.email", "pii.phone", "marker.confidential"}

func renderSet(t *testing.T, s *Set) []byte {
	t.Helper()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// Directories load their *.yaml and *.yml files in name order, and a file named twice (itself
// and through its directory) is read once rather than clashing with itself.
func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("20-second.yml", "policies: [{id: second, when: 'true', action: alert}]\n")
	write("10-first.yaml", "policies: [{id: first, when: 'false', action: block}]\n")
	write("notes.txt", "not a rule file")
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir, filepath.Join(dir, "10-first.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "10-first.yaml"), filepath.Join(dir, "20-second.yml")}
	if strings.Join(s.Files, ",") != strings.Join(want, ",") {
		t.Errorf("Files = %q, want %q", s.Files, want)
	}
	if len(s.Policies) != 2 || s.Policies[0].ID != "first" || s.Policies[1].ID != "second" {
		t.Errorf("policies out of order: %+v", s.Policies)
	}
}

func TestLoadPathErrors(t *testing.T) {
	empty := t.TempDir()
	_, err := Load("testdata/rules/nope.yaml", empty, "testdata/rules/valid/sections_empty.yaml", "testdata/rules/invalid/bad_action.yaml")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v, want Errors", err)
	}
	got := err.Error()
	for _, want := range []string{
		"testdata/rules/nope.yaml: cannot read rule path: no such file or directory",
		empty + ": no *.yaml or *.yml rule files in directory",
		"testdata/rules/invalid/bad_action.yaml:4:13: policies[0].action: unknown value",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	// Errors of one load come all at once, in the order of the paths.
	if len(es) != 4 || es[0].File != "testdata/rules/nope.yaml" || es[1].File != empty {
		t.Errorf("errors = %q", got)
	}
}

// A test's request is found relative to the rule file, wherever the process runs from.
func TestRequestRelativeToRuleFile(t *testing.T) {
	s, err := Load("testdata/rules/valid/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("testdata/rules/valid", "requests/openai-chat.http")
	if got := s.Tests[0].Request; got != want {
		t.Errorf("Request = %q, want %q", got, want)
	}
	if s.Tests[0].Method != "" || s.Tests[0].Host != "" || s.Tests[0].Client != defaultClient {
		t.Errorf("request test defaults: %+v", s.Tests[0])
	}
	if _, err := Parse("/elsewhere/rules.yaml", mustRead(t, "testdata/rules/valid/full.yaml")); err == nil ||
		!strings.Contains(err.Error(), "/elsewhere/requests/openai-chat.http") {
		t.Errorf("Parse under another directory: err = %v, want the request resolved there", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestErrorFormats(t *testing.T) {
	src := []byte("policies:\n\t- id: x  \n  - when: nope\n")
	tests := []struct {
		err   *Error
		plain string
		caret string
	}{
		{&Error{File: "a.yaml", Line: 3, Col: 11, Msg: "bad"}, "a.yaml:3:11: bad", "a.yaml:3:11: bad\n    - when: nope\n            ^"},
		{&Error{File: "a.yaml", Line: 2, Col: 4, Msg: "tab"}, "a.yaml:2:4: tab", "a.yaml:2:4: tab\n  \t- id: x  \n  \t  ^"},
		{&Error{File: "a.yaml", Line: 2, Msg: "no column"}, "a.yaml:2: no column", "a.yaml:2: no column\n  \t- id: x  "},
		{&Error{File: "a.yaml", Msg: "whole file"}, "a.yaml: whole file", "a.yaml: whole file"},
		{&Error{File: "a.yaml", Line: 9, Col: 1, Msg: "past the end"}, "a.yaml:9:1: past the end", "a.yaml:9:1: past the end"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.plain {
			t.Errorf("Error() = %q, want %q", got, tt.plain)
		}
		if got := tt.err.Caret(src); got != tt.caret {
			t.Errorf("Caret() = %q, want %q", got, tt.caret)
		}
	}
	es := Errors{tests[0].err, tests[3].err}
	if got, want := es.Error(), "a.yaml:3:11: bad\na.yaml: whole file"; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
	var one *Error
	if !errors.As(error(es), &one) || one != tests[0].err {
		t.Errorf("errors.As(Errors, *Error) = %v", one)
	}
}

// CEL reports places inside the condition; they must land on the right character of the file
// whatever the scalar's style.
func TestConditionPositions(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
	}{
		{"plain", "policies: [{id: p, action: block, when: vendor.known && vendr}]\n", 1, 57},
		{"single-quoted", "policies:\n  - id: p\n    action: block\n    when: 'api == ''x'' && vendr'\n", 4, 28},
		{"double-quoted with escapes", "policies:\n  - id: p\n    action: block\n    when: \"api == \\\"x\\\" && vendr\"\n", 4, 28},
		{"literal block", "policies:\n  - id: p\n    action: block\n    when: |\n      vendor.known &&\n        vendr\n", 6, 9},
		{"folded block", "policies:\n  - id: p\n    action: block\n    when: >-\n      vendor.known &&\n      vendr\n", 6, 7},
		{"plain on two lines", "policies:\n  - id: p\n    action: block\n    when: vendor.known &&\n      vendr\n", 5, 7},
		{"end of condition", "policies:\n  - id: p\n    action: block\n    when: vendor.known &&\n", 4, 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.src))
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("err = %v, want one error", err)
			}
			if es[0].Line != tt.line || es[0].Col != tt.col {
				t.Errorf("error at %d:%d, want %d:%d\n%s", es[0].Line, es[0].Col, tt.line, tt.col, es[0].Caret([]byte(tt.src)))
			}
		})
	}
}

func TestHostMatches(t *testing.T) {
	tests := []struct {
		host, pattern string
		want          bool
	}{
		{"api.openai.com", "api.openai.com", true},
		{"API.OpenAI.com.", "api.openai.com", true},
		{"api.openai.com:443", "api.openai.com", true},
		{"api.openai.com", "*.openai.com", true},
		{"a.b.openai.com", "*.openai.com", true},
		{"openai.com", "*.openai.com", false},
		{"evilopenai.com", "*.openai.com", false},
		{"api.openai.com.evil.example", "*.openai.com", false},
		{"api.openai.com", "openai.com", false},
		{"", "*.openai.com", false},
	}
	for _, tt := range tests {
		if got := matchHost(tt.host, tt.pattern); got != tt.want {
			t.Errorf("matchHost(%q, %q) = %v, want %v", tt.host, tt.pattern, got, tt.want)
		}
	}
}

func TestInCIDR(t *testing.T) {
	tests := []struct {
		addr, cidr string
		want       bool
	}{
		{"10.1.2.3", "10.0.0.0/8", true},
		{"10.1.2.3:50000", "10.0.0.0/8", true},
		{"11.1.2.3:50000", "10.0.0.0/8", false},
		{"[fd00::1]:443", "fd00::/8", true},
		{"fd00::1", "fd00::/8", true},
		{"fe80::1%eth0", "fe80::/10", true},
		{"::ffff:10.1.2.3", "10.0.0.0/8", true},
		{"[::ffff:10.1.2.3]:80", "10.0.0.0/8", true},
		{"10.1.2.3", "::ffff:10.0.0.0/104", true},
		{"10.1.2.3", "10.1.2.3", true},
		{"10.1.2.4", "10.1.2.3", false},
		{"not an address", "10.0.0.0/8", false},
		{"", "0.0.0.0/0", false},
		{"192.168.1.1", "::/0", false},
	}
	for _, tt := range tests {
		p, err := parsePrefix(tt.cidr)
		if err != nil {
			t.Fatalf("parsePrefix(%q): %v", tt.cidr, err)
		}
		ip, ok := parseAddr(tt.addr)
		if got := ok && p.Contains(ip); got != tt.want {
			t.Errorf("in_cidr(%q, %q) = %v, want %v", tt.addr, tt.cidr, got, tt.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "corp", "", "10.0.0/8", "::ffff:0:0/90"} {
		if _, err := parsePrefix(bad); err == nil {
			t.Errorf("parsePrefix(%q) succeeded, want an error", bad)
		}
	}
}

// The CEL environment is fixed at build time; building it must not fail, or every load would
// panic.
func TestEnvironment(t *testing.T) {
	if _, err := celEnv(); err != nil {
		t.Fatal(err)
	}
}

// A file with a flood of problems reports the first maxErrors of them and says it stopped.
func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("policies:\n")
	for i := range 500 {
		fmt.Fprintf(&b, "  - {id: p%d, when: 'true', action: deny}\n", i)
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	var es Errors
	if !errors.As(err, &es) || len(es) != maxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(es), maxErrors+1)
	}
	if last := es[len(es)-1]; last.Msg != "too many problems; stopped after 200" || last.Line != 0 {
		t.Errorf("last error = %q", last.Error())
	}
}

// Aliases let a few lines merge exponentially many keys ("billion laughs"); loading must stay
// fast and say why it stopped.
func TestMergeBomb(t *testing.T) {
	src := "policies:\n  - &a0 {id: a, when: 'true', action: block}\n"
	for i := 1; i <= 8; i++ {
		src += fmt.Sprintf("  - &a%d {<<: [", i)
		for j := range 10 {
			if j > 0 {
				src += ", "
			}
			src += fmt.Sprintf("*a%d", i-1)
		}
		src += fmt.Sprintf("], id: a%d}\n", i)
	}
	// The limit is what bounds the work: hitting it is the proof (an unbounded expansion of
	// this bomb would not return at all).
	_, err := Parse("bomb.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "merges more than") {
		t.Errorf("err = %v, want the merge limit", err)
	}
}

// An editor that saves by truncating and rewriting leaves an empty rule file for a moment; read
// as "no policies", it let every flow through until the next save. A file with nothing in it,
// a policies key with nothing after it, and files that define no policy without saying so are
// errors, each reported once; "policies: []" is how to mean none.
func TestEmptyRuleFileIsNotAllowEverything(t *testing.T) {
	const (
		empty      = `empty rule file: no detectors, policies, vendors or tests (write "policies: []" to mean no policies)`
		nullPol    = `policies: expected a list, got null (write "policies: []" to mean no policies)`
		noPolicies = `no policies: f.yaml defines none, so every flow would be allowed (write "policies: []" to mean no policies)`
		detector   = "detectors: [{id: acme-codename, class: marker, keywords: [NIGHTJAR], pattern: 'NIGHTJAR-\\d{3}'}]\n"
	)
	tests := []struct {
		name, src string
		want      string // the one error, "" when the file loads
	}{
		{"empty", "", "f.yaml:1:1: " + empty},
		{"newlines", "\n\n\n", "f.yaml:1:1: " + empty},
		{"crlf and spaces", "  \r\n \r\n", "f.yaml:1:1: " + empty},
		{"tab", "\t\n", "f.yaml:1:1: " + empty},
		{"comments", "# policies: [{id: p, when: 'true', action: block}]\n  # more\n", "f.yaml:1:1: " + empty},
		{"tab before a comment", "\t# x\n", "f.yaml:1:1: " + empty},
		{"byte order mark and a comment", "\uFEFF# x\n", "f.yaml:1:1: " + empty},
		{"document marker", "---\n", "f.yaml:1:1: " + empty},
		{"null document", "~\n", "f.yaml:1:1: " + empty},
		{"empty mapping", "{}\n", "f.yaml:1:1: " + empty},
		{"only null sections", "detectors:\nvendors: ~\n", "f.yaml:1:1: " + empty},
		{"policies null", "policies:\n", "f.yaml:1:1: " + nullPol},
		{"policies tilde after detectors", detector + "policies: ~\n", "f.yaml:2:1: " + nullPol},
		{"policies misspelt", "polices: []\n", `f.yaml:1:1: unknown key "polices" (did you mean "policies"?)`},
		{"detectors only", detector, "f.yaml:1:1: " + noPolicies},
		{"empty list of detectors", "detectors: []\n", "f.yaml:1:1: " + noPolicies},
		{"explicitly none", "policies: []\n", ""},
		{"explicitly none through a merge", "<<: {policies: []}\n", ""},
		{"policies null through a merge", "<<: {policies: ~}\n", "f.yaml:1:6: " + nullPol},
		{"detectors and explicitly none", detector + "policies: []\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("f.yaml", []byte(tt.src))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !s.ExplicitlyEmpty || len(s.Policies) != 0 {
					t.Fatalf("ExplicitlyEmpty = %v with %d policies, want true with none", s.ExplicitlyEmpty, len(s.Policies))
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 || es[0].Error() != tt.want {
				t.Fatalf("err = %v\nwant the one error %s", err, tt.want)
			}
			// An empty file's caret shows no blank line to point at.
			if strings.TrimSpace(tt.src) == "" && es[0].Caret([]byte(tt.src)) != tt.want {
				t.Errorf("Caret = %q", es[0].Caret([]byte(tt.src)))
			}
		})
	}
}

// Files merge before policies are counted: a file of detectors, vendors or tests loads with a file
// of policies, and "policies: []" in one file means none only when no file defines any.
func TestNoPoliciesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	detectors := write("detectors.yaml", "detectors: [{id: acme-codename, class: marker, keywords: [NIGHTJAR], pattern: 'NIGHTJAR-\\d{3}'}]\n")
	vendors := write("vendors.yaml", "vendors: [{id: corp-llm, hosts: [llm.corp.example]}]\n")
	policies := write("policies.yaml", "policies: [{id: block-codenames, when: 'has_detector(\"acme-codename\")', action: block}]\n")
	none := write("none.yaml", "policies: []\n")
	empty := write("empty.yaml", "")

	s, err := Load(detectors, vendors, policies)
	if err != nil || len(s.Policies) != 1 || s.ExplicitlyEmpty {
		t.Fatalf("detectors, vendors and policies: %v (ExplicitlyEmpty %v)", err, s != nil && s.ExplicitlyEmpty)
	}
	if s, err = Load(none, policies); err != nil || len(s.Policies) != 1 || s.ExplicitlyEmpty {
		t.Fatalf("none and policies: %v", err)
	}
	if s, err = Load(detectors, none); err != nil || len(s.Policies) != 0 || !s.ExplicitlyEmpty {
		t.Fatalf("detectors and none: %v", err)
	}

	_, err = Load(detectors, vendors)
	want := fmt.Sprintf(`%s:1:1: no policies: none of the 2 rule files (%s, %s) defines one, so every flow would be allowed (write "policies: []" in one of them to mean no policies)`,
		detectors, detectors, vendors)
	if err == nil || err.Error() != want {
		t.Errorf("detectors and vendors: err = %v\nwant %s", err, want)
	}
	// The empty file is the problem, wherever it is; the others still load.
	_, err = Load(policies, empty, detectors)
	want = empty + `:1:1: empty rule file: no detectors, policies, vendors or tests (write "policies: []" to mean no policies)`
	if err == nil || err.Error() != want {
		t.Errorf("with an empty file: err = %v\nwant %s", err, want)
	}
}
