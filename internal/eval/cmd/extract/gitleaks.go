package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/customs-dev/customs/internal/eval"
)

// gitleaks's samples are partly generated when its config generator runs
// (utils.GenerateSampleSecrets wraps a secret in 30-odd assignment shapes; secrets.NewSecret
// draws a random value from a regexp), so they are not all literals to parse. The module is
// copied into a temporary directory, utils.Validate is replaced by a recorder, and a small main
// calls every rule constructor the generator lists. Random values are recorded as drawn: the
// committed fixtures are fixed, and regenerating may draw new ones.

// recorder replaces cmd/generate/config/utils/validate.go in the copy.
const recorder = `package utils

import (
	"encoding/json"
	"os"
	"runtime"
	"sort"

	"github.com/zricethezav/gitleaks/v8/config"
)

// Record is what one rule constructor validated.
type Record struct {
	Rule   string
	TPs    []string
	FPs    []string
	Wants  map[string]string // sample -> the secret GenerateSampleSecret(s) put in it
	Origin string
}

var (
	records []Record
	wants   = map[string]string{}
)

func record(rule string, tps, fps []string) {
	_, file, line, _ := runtime.Caller(2)
	w := map[string]string{}
	for _, tp := range tps {
		if s, ok := wants[tp]; ok {
			w[tp] = s
		}
	}
	records = append(records, Record{Rule: rule, TPs: tps, FPs: fps, Wants: w, Origin: file + ":" + itoa(line)})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func Validate(rule config.Rule, truePositives []string, falsePositives []string) *config.Rule {
	record(rule.RuleID, truePositives, falsePositives)
	return &rule
}

func ValidateWithPaths(rule config.Rule, truePositives map[string]string, falsePositives map[string]string) *config.Rule {
	values := func(m map[string]string) []string {
		var out []string
		for _, v := range m {
			out = append(out, v)
		}
		sort.Strings(out)
		return out
	}
	record(rule.RuleID, values(truePositives), values(falsePositives))
	return &rule
}

func GenerateSampleSecret(identifier string, secret string) string {
	s := generateSampleSecretOrig(identifier, secret)
	wants[s] = secret
	return s
}

func GenerateSampleSecrets(identifier string, secret string) []string {
	ss := generateSampleSecretsOrig(identifier, secret)
	sort.Strings(ss) // the generator ranges over a map
	for _, s := range ss {
		wants[s] = secret
	}
	return ss
}

// Dump writes the records as JSON to standard output.
func Dump() {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(records)
}
`

type gitleaksRecord struct {
	Rule   string
	TPs    []string
	FPs    []string
	Wants  map[string]string
	Origin string
}

func extractGitleaks(modDir, out string) error {
	tmp, err := os.MkdirTemp("", "customs-eval-gitleaks-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := copyTree(modDir, tmp); err != nil {
		return err
	}
	utils := filepath.Join(tmp, "cmd/generate/config/utils")
	gen, err := os.ReadFile(filepath.Join(utils, "generate.go"))
	if err != nil {
		return err
	}
	gen = bytes.Replace(gen, []byte("func GenerateSampleSecret("), []byte("func generateSampleSecretOrig("), 1)
	gen = bytes.Replace(gen, []byte("func GenerateSampleSecrets("), []byte("func generateSampleSecretsOrig("), 1)
	if err := os.WriteFile(filepath.Join(utils, "generate.go"), gen, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(utils, "validate.go"), []byte(recorder), 0o644); err != nil {
		return err
	}
	ctors, err := ruleConstructors(filepath.Join(modDir, "cmd/generate/config/main.go"))
	if err != nil {
		return err
	}
	var main strings.Builder
	main.WriteString("package main\n\nimport (\n\t\"github.com/zricethezav/gitleaks/v8/cmd/generate/config/rules\"\n\t\"github.com/zricethezav/gitleaks/v8/cmd/generate/config/utils\"\n)\n\nfunc main() {\n")
	for _, c := range ctors {
		fmt.Fprintf(&main, "\trules.%s()\n", c)
	}
	main.WriteString("\tutils.Dump()\n}\n")
	dump := filepath.Join(tmp, "cmd/customsevaldump")
	if err := os.MkdirAll(dump, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dump, "main.go"), []byte(main.String()), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("go", "run", "./cmd/customsevaldump")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("running the gitleaks rule constructors: %w", err)
	}
	var recs []gitleaksRecord
	if err := json.Unmarshal(raw, &recs); err != nil {
		return err
	}
	var fixtures []eval.Fixture
	for _, r := range recs {
		origin := r.Origin
		if i := strings.Index(origin, "/cmd/generate/"); i >= 0 {
			origin = origin[i+1:]
		}
		prov := eval.ProviderOf("gitleaks", r.Rule)
		seen := map[string]bool{}
		for kind, texts := range map[string][]string{eval.TP: r.TPs, eval.FP: r.FPs} {
			for _, t := range texts {
				if seen[kind+t] || strings.TrimSpace(t) == "" {
					continue
				}
				seen[kind+t] = true
				f := eval.Fixture{Source: "gitleaks", Provider: prov, Rule: r.Rule, Kind: kind, Text: t, Origin: origin}
				if w, ok := r.Wants[t]; ok && kind == eval.TP && strings.Contains(t, w) {
					f.Want = []string{w}
				}
				fixtures = append(fixtures, f)
			}
		}
	}
	sort.SliceStable(fixtures, func(i, j int) bool {
		a, b := fixtures[i], fixtures[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Kind != b.Kind {
			return a.Kind > b.Kind // tp first
		}
		return a.Text < b.Text
	})
	return eval.WriteFile(out, fixtures)
}

// ruleConstructors lists the rules.X() calls of the generator's main, in order.
func ruleConstructors(mainGo string) ([]string, error) {
	file, err := parser.ParseFile(token.NewFileSet(), mainGo, nil, 0)
	if err != nil {
		return nil, err
	}
	var out []string
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == "rules" {
			out = append(out, sel.Sel.Name)
		}
		return true
	})
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rules.X() calls found", mainGo)
	}
	return out, nil
}

// copyTree copies a module directory (read-only in the module cache) into dst, writable.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
