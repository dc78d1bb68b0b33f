package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/customs-dev/customs/internal/eval"
)

// trufflehog's pattern tests (pkg/detectors/<provider>/<provider>_test.go) are tables of
// {name, input, want}: the input a chunk of text, want the values the detector must report.
// They are read here with go/ast and a small evaluator of the expressions they use (string
// literals, constants, concatenation, fmt.Sprintf, strings.Repeat); an entry whose input it
// cannot evaluate is left out. Only the test strings are taken (the module is AGPL-3.0).

func extractTrufflehog(modDir, out string) error {
	root := filepath.Join(modDir, "pkg/detectors")
	var fixtures []eval.Fixture
	skipped := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") || strings.HasSuffix(p, "_integration_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(modDir, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) < 4 { // pkg/detectors/x_test.go: the framework's own tests
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "//go:build detectors") {
			return nil // verification tests against live services: no pattern tables
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			return nil
		}
		fs, n := trufflehogTables(fset, file, filepath.ToSlash(rel), parts[2])
		fixtures = append(fixtures, fs...)
		skipped += n
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "trufflehog: %d fixtures, %d table entries not evaluable\n", len(fixtures), skipped)
	sort.SliceStable(fixtures, func(i, j int) bool { return fixtures[i].Origin < fixtures[j].Origin })
	return eval.WriteFile(out, fixtures)
}

func trufflehogTables(fset *token.FileSet, file *ast.File, rel, dir string) ([]eval.Fixture, int) {
	ev := &evaluator{env: map[string]any{}}
	// Collect every named value in the file, package-level and local, in a few passes so that
	// definitions can refer to each other in any order. Shadowing is rare in these tables.
	for range 4 {
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i < len(n.Values) {
						if v, ok := ev.eval(n.Values[i]); ok {
							ev.env[name.Name] = v
						}
					}
				}
			case *ast.AssignStmt:
				if len(n.Lhs) == len(n.Rhs) {
					for i, l := range n.Lhs {
						if id, ok := l.(*ast.Ident); ok {
							if v, ok := ev.eval(n.Rhs[i]); ok {
								ev.env[id.Name] = v
							}
						}
					}
				}
			}
			return true
		})
	}
	provider := eval.ProviderOf("trufflehog", dir)
	var out []eval.Fixture
	skipped := 0
	ast.Inspect(file, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		arr, ok := lit.Type.(*ast.ArrayType)
		if !ok {
			return true
		}
		st, ok := arr.Elt.(*ast.StructType)
		if !ok || !hasFields(st, "input", "want") {
			return true
		}
		for _, el := range lit.Elts {
			row, ok := el.(*ast.CompositeLit)
			if !ok {
				continue
			}
			var name, input string
			var want []string
			okInput, okWant := false, true
			for _, kv := range row.Elts {
				kv, ok := kv.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, _ := kv.Key.(*ast.Ident)
				if key == nil {
					continue
				}
				v, ok := ev.eval(kv.Value)
				switch key.Name {
				case "name":
					name, _ = v.(string)
				case "input":
					input, okInput = v.(string)
					okInput = okInput && ok
				case "want":
					if id, isIdent := kv.Value.(*ast.Ident); isIdent && id.Name == "nil" {
						break
					}
					want, okWant = v.([]string)
					okWant = okWant && ok
				}
			}
			if !okInput || !okWant || strings.TrimSpace(input) == "" {
				skipped++
				continue
			}
			f := eval.Fixture{
				Source: "trufflehog", Provider: provider, Rule: dir + "/" + name, Kind: eval.FP, Text: input,
				Origin: fmt.Sprintf("%s:%d", rel, fset.Position(row.Pos()).Line),
			}
			if len(want) > 0 {
				f.Kind = eval.TP
				// A want that is not in the input is a derived value (key:secret pairs, a
				// decoded token): the fixture then counts a finding anywhere in the text.
				for _, w := range want {
					if w != "" && strings.Contains(input, w) {
						f.Want = append(f.Want, w)
					}
				}
			}
			out = append(out, f)
		}
		return true
	})
	return out, skipped
}

func hasFields(st *ast.StructType, names ...string) bool {
	have := map[string]bool{}
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			have[n.Name] = true
		}
	}
	for _, n := range names {
		if !have[n] {
			return false
		}
	}
	return true
}

// evaluator computes the constant expressions of a test file: strings, ints and []string.
type evaluator struct{ env map[string]any }

func (ev *evaluator) eval(e ast.Expr) (any, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		switch e.Kind {
		case token.STRING:
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case token.CHAR:
			r, _, _, err := strconv.UnquoteChar(strings.Trim(e.Value, "'"), '\'')
			return string(r), err == nil
		case token.INT:
			n, err := strconv.Atoi(e.Value)
			return n, err == nil
		}
	case *ast.ParenExpr:
		return ev.eval(e.X)
	case *ast.Ident:
		v, ok := ev.env[e.Name]
		return v, ok
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return nil, false
		}
		a, ok1 := ev.eval(e.X)
		b, ok2 := ev.eval(e.Y)
		if !ok1 || !ok2 {
			return nil, false
		}
		as, ok1 := a.(string)
		bs, ok2 := b.(string)
		if ok1 && ok2 {
			return as + bs, true
		}
		ai, ok1 := a.(int)
		bi, ok2 := b.(int)
		if ok1 && ok2 {
			return ai + bi, true
		}
	case *ast.CompositeLit:
		arr, ok := e.Type.(*ast.ArrayType)
		if !ok {
			return nil, false
		}
		if id, ok := arr.Elt.(*ast.Ident); !ok || id.Name != "string" {
			return nil, false
		}
		out := []string{}
		for _, el := range e.Elts {
			v, ok := ev.eval(el)
			s, isStr := v.(string)
			if !ok || !isStr {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	case *ast.CallExpr:
		return ev.call(e)
	}
	return nil, false
}

func (ev *evaluator) call(e *ast.CallExpr) (any, bool) {
	sel, ok := e.Fun.(*ast.SelectorExpr)
	if !ok {
		if id, ok := e.Fun.(*ast.Ident); ok && id.Name == "string" && len(e.Args) == 1 {
			return ev.eval(e.Args[0]) // string("...") or string([]byte(...))
		}
		if _, ok := e.Fun.(*ast.ArrayType); ok && len(e.Args) == 1 {
			return ev.eval(e.Args[0]) // []byte("...")
		}
		return nil, false
	}
	pkg, _ := sel.X.(*ast.Ident)
	if pkg == nil {
		return nil, false
	}
	args := make([]any, len(e.Args))
	for i, a := range e.Args {
		v, ok := ev.eval(a)
		if !ok {
			return nil, false
		}
		args[i] = v
	}
	switch pkg.Name + "." + sel.Sel.Name {
	case "fmt.Sprintf":
		if len(args) == 0 {
			return nil, false
		}
		if format, ok := args[0].(string); ok {
			return fmt.Sprintf(format, args[1:]...), true
		}
	case "strings.Repeat":
		s, ok1 := args[0].(string)
		n, ok2 := args[1].(int)
		if ok1 && ok2 && n >= 0 && n < 1<<16 {
			return strings.Repeat(s, n), true
		}
	case "strings.Join":
		ss, ok1 := args[0].([]string)
		sep, ok2 := args[1].(string)
		if ok1 && ok2 {
			return strings.Join(ss, sep), true
		}
	case "strings.ToUpper", "strings.ToLower":
		if s, ok := args[0].(string); ok {
			if sel.Sel.Name == "ToUpper" {
				return strings.ToUpper(s), true
			}
			return strings.ToLower(s), true
		}
	}
	return nil, false
}
