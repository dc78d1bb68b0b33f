package fingerprint

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/golden"
)

// renamedReformatted is tieredCost from pricing/engine.go with every local renamed, the comment
// and a message changed, and the layout of a different formatter (or none).
const renamedReformatted = `Can you make this faster?

func (eng *Engine) tieredCost(n int64) (int64, []string) {
    var total float64; var msgs []string
    left := n; var prev int64
    for _, tier := range eng.tiers {
        if left <= 0 { break }
        chunk := left
        if tier.UpTo > 0 && n > tier.UpTo {
            chunk = tier.UpTo - prev
            if chunk > left { chunk = left }
        }
        chunkCost := float64(chunk) / 1000 * tier.UnitCents
        if tier.Floor > 0 && chunkCost < float64(tier.Floor) {
            chunkCost = float64(tier.Floor)
            msgs = append(msgs, fmt.Sprintf("minimum %d applied (band %d)", tier.Floor, tier.UpTo))
        }
        total += chunkCost
        left -= chunk
        prev = tier.UpTo
    }
    return int64(math.Round(total)), msgs
}
`

// reindent halves the indentation of every line (4 spaces to 2) and renames session to s.
func reindent(text string) string {
	lead := regexp.MustCompile(`(?m)^( +)`)
	text = lead.ReplaceAllStringFunc(text, func(sp string) string { return strings.Repeat(" ", len(sp)/2) })
	return regexp.MustCompile(`\bsession\b`).ReplaceAllString(text, "s")
}

// reorderParagraphs reverses the order of the blank-line separated paragraphs and re-wraps each
// into one line, upper-casing headings.
func reorderParagraphs(text string) string {
	paras := strings.Split(text, "\n\n")
	for i, j := 0, len(paras)-1; i < j; i, j = i+1, j-1 {
		paras[i], paras[j] = paras[j], paras[i]
	}
	for i, p := range paras {
		p = strings.ReplaceAll(p, "\n", " ")
		if strings.HasPrefix(p, "#") {
			p = strings.ToUpper(p)
		}
		paras[i] = p
	}
	return strings.Join(paras, "\n\n")
}

func goroot(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(gorootPath(t, rel))
	if err != nil {
		t.Skipf("GOROOT source not available: %v", err)
	}
	return string(data)
}

func TestScan(t *testing.T) {
	ix, _ := buildFixture(t, Options{})
	engine := readFixture(t, "pricing/engine.go")
	cases := []struct {
		name  string
		text  func(t *testing.T) string
		found string // file expected among the matches; "" = no match at all
	}{
		{"renamed-reformatted-go", func(*testing.T) string { return renamedReformatted }, "pricing/engine.go"},
		{"reindented-python", func(t *testing.T) string {
			return "Refactor this:\n\n" + reindent(lines(readFixture(t, "ingest/normalize.py"), 52, 66))
		}, "ingest/normalize.py"},
		{"reindented-tabs-python", func(t *testing.T) string {
			return strings.ReplaceAll(lines(readFixture(t, "ingest/normalize.py"), 52, 66), "    ", "\t")
		}, "ingest/normalize.py"},
		{"paragraphs-reordered", func(t *testing.T) string {
			return "Summarise this for the sales kickoff:\n\n" + reorderParagraphs(readFixture(t, "docs/strategy.md"))
		}, "docs/strategy.md"},
		{"one-paragraph", func(t *testing.T) string {
			p := strings.Split(readFixture(t, "docs/strategy.md"), "\n\n")[5] // "We will retire ..."
			return "Make this paragraph punchier: " + strings.ReplaceAll(p, "\n", " ")
		}, "docs/strategy.md"},
		{"partial-15-lines-js", func(t *testing.T) string {
			return "Why does this say expired for 12/25 cards?\n\n```js\n" +
				lines(readFixture(t, "web/checkout.js"), 46, 60) + "```\nThanks!"
		}, "web/checkout.js"},
		{"whole-file-go", func(t *testing.T) string { return readFixture(t, "pricing/discount.go") }, "pricing/discount.go"},
		{"licence-header-and-imports", func(*testing.T) string { return lines(engine, 1, 14) }, ""},
		{"few-shared-lines", func(*testing.T) string {
			return "What does this do?\n" + lines(engine, 105, 107)
		}, ""},
		{"unrelated-go-stdlib", func(t *testing.T) string { return lines(goroot(t, "strings/strings.go"), 330, 420) }, ""},
		{"unrelated-prose", func(t *testing.T) string {
			return lines(goroot(t, "testdata/Isaac.Newton-Opticks.txt"), 400, 460)
		}, ""},
		{"gitignored-file", func(t *testing.T) string { return readFixture(t, "config.local.yaml") }, ""},
		{"gitignored-directory", func(t *testing.T) string { return readFixture(t, "build/report.txt") }, ""},
		{"nested-gitignore", func(t *testing.T) string { return readFixture(t, "web/checkout.test.js.snap") }, ""},
		{"generated-file", func(t *testing.T) string { return readFixture(t, "pricing/tables_gen.go") }, ""},
		{"vendored-file", func(t *testing.T) string { return readFixture(t, "vendor/github.com/acme/retry/retry.go") }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.text(t)
			ms := ix.Scan(text)
			golden.Check(t, filepath.Join("testdata", "scan", tc.name+".golden"), renderMatches(ms))
			if tc.found == "" {
				if len(ms) > 0 {
					t.Errorf("want no match, got %+v", ms)
				}
				return
			}
			for _, m := range ms {
				if m.File == tc.found {
					for _, s := range m.Spans {
						if s[0] < 0 || s[1] > len(text) || s[0] >= s[1] {
							t.Errorf("span %v outside the text (%d bytes)", s, len(text))
						}
					}
					return
				}
			}
			t.Errorf("want a match of %s, got %+v", tc.found, ms)
		})
	}
}

func TestAddTreeStats(t *testing.T) {
	ix, st := buildFixture(t, Options{})
	golden.Check(t, filepath.Join("testdata", "tree.golden"), renderStats(st, ix.Labels()))
}
