package fingerprint

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/golden"
)

func hashes(ps []Print) []uint64 {
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = p.Hash
	}
	return out
}

// TestNormalisation: pairs of texts that must, or must not, give the same prints. Small k and w
// make every token count.
func TestNormalisation(t *testing.T) {
	small := Options{K: 4, W: 3}
	keep := Options{K: 4, W: 3, KeepStrings: true}
	cases := []struct {
		name  string
		class Class
		o     Options
		a, b  string
		same  bool
	}{
		{"code-spacing", Code, small, "a:=b+c(d,e)*f[g]", "a := b + c( d, e ) * f [ g ]", true},
		{"code-newlines", Code, small, "if x > 1 {\n\treturn y\n}\n", "if x > 1 { return y }", true},
		{"code-line-comments", Code, small, "x := f(y) // call f\nz := g(x) // then g\n", "x := f(y)\nz := g(x)\n", true},
		{"code-block-comments", Code, small, "x := f(/* the y */ y)\n/** doc\n * more */\nz := g(x)", "x := f(y)\nz := g(x)", true},
		{"code-hash-comments", Code, small, "x = f(y)  # note\n# whole line\nz = g(x)\n", "x = f(y)\nz = g(x)\n", true},
		{"code-sql-comments", Code, small, "SELECT a FROM t -- why\nWHERE b = 1", "SELECT a FROM t\nWHERE b = 1", true},
		{"code-decrement-is-not-a-comment", Code, small, "for (i = n; i > 0; i--) { f(i) }", "for (i = n; i > 0; i) { f(i) }", false},
		{"code-html-comments", Code, small, "<div><!-- hidden --><p>{x}</p></div>", "<div><p>{x}</p></div>", true},
		{"code-renamed", Code, small, "total := price * qty + tax(price)", "sum := cost * n + levy(cost)", true},
		{"code-strings-placeholder", Code, small, `log.Print("hello", x); y := 'a'`, `log.Print("goodbye", x); y := 'b'`, true},
		{"code-strings-kept", Code, keep, `log.Print("hello", x) + 1`, `log.Print("goodbye", x) + 1`, false},
		{"code-quote-style-kept", Code, keep, `f('abc') + g("x") - 1`, `f("abc") + g('x') - 1`, true},
		{"code-raw-and-triple-strings", Code, small, "x = `multi\nline` + \"\"\"doc\nstring\"\"\" + y()", "x = \"s\" + 's' + y()", true},
		{"code-trailing-commas", Code, small, "f(a, b,\n)\ng(c)", "f(a, b)\ng(c)", true},
		{"code-semicolons", Code, small, "const a = b(c);\nlet d = e(a);", "const a = b(c)\nlet d = e(a)", true},
		{"code-keywords-kept", Code, small, "if x { return y(z) }", "for x { return y(z) }", false},
		{"code-operators-kept", Code, small, "a = b + c * d - e", "a = b - c * d - e", false},
		{"code-numbers-kept", Code, small, "a = b(1) + c(2) * d", "a = b(1) + c(3) * d", false},
		{"code-go-imports", Code, small, "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() { x(1) + y(2) }", "func main() { x(1) + y(2) }", true},
		{"code-python-imports", Code, small, "import os\nfrom x.y import (a,\n    b)\ndef f(): return g(1) + h(2)", "def f(): return g(1) + h(2)", true},
		{"code-js-imports", Code, small, "import { a,\n  b } from './c.js';\nconst d = require('e');\nf(a) + g(b)", "const d = require('e');\nf(a) + g(b)", true},
		{"code-markdown-fence", Code, small, "Look:\n```go\nx := f(y) + g(z)\n```\nok?", "Look:\nx := f(y) + g(z)\nok?", true},
		{"code-unterminated-block-comment", Code, small, "rm -rf /tmp/* now\nx := f(y) + g(z)", "rm -rf /tmp/ * now\nx := f(y) + g(z)", true},
		{"doc-case-punctuation-space", Document, small, "The Quick, brown fox; jumps -- over the lazy dog!", "the quick brown   fox jumps\nover the LAZY dog", true},
		{"doc-unicode-fold", Document, small, "L'ÉCOLE de la Straße à Zürich", "l école de la straße à zürich", true},
		{"doc-words-matter", Document, small, "the quick brown fox jumps over the lazy dog", "the quick brown cat jumps over the lazy dog", false},
		{"doc-licence-paragraph", Document, small, "Copyright (c) 2024 Acme Corp.\nAll rights reserved.\n\nThe plan is to win the market by pricing on usage, not seats.", "The plan is to win the market by pricing on usage, not seats.", true},
		{"doc-licence-line-in-long-paragraph", Document, small,
			strings.Repeat("We price on usage and reward tenure every quarter. ", 30) + "\nCopyright (c) 2024 Acme Corp.\n" + strings.Repeat("Renewals move in July. ", 10),
			strings.Repeat("We price on usage and reward tenure every quarter. ", 30) + "\n" + strings.Repeat("Renewals move in July. ", 10), true},
		{"doc-cjk-per-character", Document, small, "机密：我们的定价策略在第三季度改变", "机密 我们的定价策略 在第三季度改变", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := Fingerprints(testKey, tc.class, tc.a, tc.o)
			b := Fingerprints(testKey, tc.class, tc.b, tc.o)
			if len(a) == 0 {
				t.Fatalf("no prints for %q", tc.a)
			}
			if got := slices.Equal(hashes(a), hashes(b)); got != tc.same {
				t.Errorf("same prints = %v, want %v\n%s\n%s", got, tc.same, renderTokens(tc.class, tc.o, tc.a), renderTokens(tc.class, tc.o, tc.b))
			}
		})
	}
}

// renderTokens shows the token stream of text, a line per source line: $ is the identifier
// placeholder, S the string placeholder.
func renderTokens(class Class, o Options, text string) string {
	p := o.params(class)
	wn := newWinnower(p.k, p.w, p.minStruct(), sipKey{})
	var b strings.Builder
	line := 0
	wn.tap = func(toks []tok) {
		for _, t := range toks {
			if l := 1 + strings.Count(text[:t.start], "\n"); l != line {
				if line > 0 {
					b.WriteByte('\n')
				}
				fmt.Fprintf(&b, "%3d: ", l)
				line = l
			} else {
				b.WriteByte(' ')
			}
			switch {
			case class == Code && t.v == identVal:
				b.WriteByte('$')
			case class == Code && t.v == stringVal:
				b.WriteByte('S')
			default:
				b.WriteString(strings.ToLower(text[t.start:t.end]))
			}
		}
	}
	wn.reset(nil)
	if class == Code {
		wn.code(text, p.keepStrings)
	} else {
		wn.document(text)
	}
	wn.finish()
	b.WriteByte('\n')
	return b.String()
}

// TestTokenStreams pins what the normalisers keep of each fixture file.
func TestTokenStreams(t *testing.T) {
	for _, f := range []string{"pricing/engine.go", "ingest/normalize.py", "web/checkout.js", "docs/strategy.md"} {
		t.Run(f, func(t *testing.T) {
			golden.Check(t, filepath.Join("testdata", "tokens", strings.ReplaceAll(f, "/", "_")+".golden"),
				[]byte(renderTokens(GuessClass(f), Options{}, readFixture(t, f))))
		})
	}
}

func TestPrintSpans(t *testing.T) {
	text := readFixture(t, "pricing/engine.go")
	ps := Fingerprints(testKey, Code, text, Options{})
	if len(ps) < 10 {
		t.Fatalf("only %d prints", len(ps))
	}
	for i, p := range ps {
		if p.Start < 0 || p.End > len(text) || p.Start >= p.End || i > 0 && p.Start <= ps[i-1].Start {
			t.Fatalf("print %d: bad span %d-%d after %d", i, p.Start, p.End, ps[max(i-1, 0)].Start)
		}
	}
	// the same text with another key shares no print
	other := Fingerprints([]byte("another-installation-key-0123456"), Code, text, Options{})
	if len(other) != len(ps) || slices.ContainsFunc(other, func(p Print) bool { return slices.Contains(hashes(ps), p.Hash) }) {
		t.Error("prints under another key overlap")
	}
}

func TestSipHashVector(t *testing.T) {
	// SipHash-2-4 reference vector (Aumasson, Bernstein): key 00..0f, message 00..07
	k := sipKey{K0: 0x0706050403020100, K1: 0x0f0e0d0c0b0a0908}
	if got := k.Sum64(0x0706050403020100); got != 0x93f5f5799a932462 {
		t.Errorf("sum64 = %#x, want 0x93f5f5799a932462", got)
	}
}

func TestShortKeyAndBadClass(t *testing.T) {
	if _, err := NewFingerprinter([]byte("short"), Code, Options{}); err == nil {
		t.Error("short key accepted")
	}
	if _, err := NewFingerprinter(testKey, "spreadsheet", Options{}); err == nil {
		t.Error("bad class accepted")
	}
	b := NewBuilder(testKey, Options{})
	if err := b.AddFile("l", "spreadsheet", "a.go", "x"); err == nil {
		t.Error("AddFile accepted a bad class")
	}
	if err := b.AddFile("", Code, "a.go", "x"); err == nil {
		t.Error("AddFile accepted an empty label")
	}
	b.Build()
	if err := b.AddFile("l", Code, "a.go", "x"); err == nil {
		t.Error("AddFile after Build accepted")
	}
	defer func() {
		if recover() == nil {
			t.Error("NewBuilder accepted a short key")
		}
	}()
	NewBuilder([]byte("short"), Options{})
}

func TestGuessClass(t *testing.T) {
	for name, want := range map[string]Class{
		"a/b/main.go": Code, "x.PY": Code, "web/app.tsx": Code, "Makefile": Code, "Dockerfile.prod": Code,
		"docs/plan.md": Document, "notes.txt": Document, "config.yaml": Document, "README": Document,
	} {
		if got := GuessClass(name); got != want {
			t.Errorf("GuessClass(%q) = %s, want %s", name, got, want)
		}
	}
}
