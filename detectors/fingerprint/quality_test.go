package fingerprint

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// heldOut are $GOROOT/src directories left out of the quality index: pastes from them are
// unrelated code.
var heldOut = []string{"/archive/", "/image/", "/database/", "/encoding/json/", "/regexp/", "/compress/", "/go/printer/"}

// TestGorootQuality measures, on the Go toolchain's source, how often a 15-line paste of an
// indexed file is found (recall), also re-indented, and how often a paste of unrelated code
// matches a file it has no line in common with (false match). It builds a large index: it is
// skipped with -short and runs in test-long.
func TestGorootQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of $GOROOT/src; runs without -short")
	}
	src := gorootPath(t, "")
	b := NewBuilder(testKey, Options{Ignore: heldOut})
	if _, err := b.AddTree("go", "", src); err != nil {
		t.Fatal(err)
	}
	ix := b.Build()

	var indexed, unrelatedFiles []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.Contains(p, "/testdata/") || strings.Contains(p, "/vendor/") {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		if slices.ContainsFunc(heldOut, func(h string) bool { return strings.Contains("/"+filepath.ToSlash(rel), h) }) {
			unrelatedFiles = append(unrelatedFiles, p)
		} else {
			indexed = append(indexed, p)
		}
		return nil
	})
	r := rand.New(rand.NewPCG(1, 2))
	// window picks 15 lines of a file holding at least 80 code tokens of the file as lexed
	// whole (so not lines of a block comment, which are no code), or "".
	window := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil || skipByContent(data) != "" {
			return ""
		}
		text := string(data)
		var starts []int
		wn := newWinnower(DefaultCodeK, DefaultCodeW, 0, sipKey{})
		wn.tap = func(ts []tok) {
			for _, t := range ts {
				starts = append(starts, t.start)
			}
		}
		wn.reset(nil)
		wn.code(text, false)
		wn.finish()
		ls := strings.SplitAfter(text, "\n")
		if len(ls) < 40 {
			return ""
		}
		for range 5 {
			i := r.IntN(len(ls) - 15)
			from := len(strings.Join(ls[:i], ""))
			w := strings.Join(ls[i:i+15], "")
			n := 0
			for _, s := range starts {
				if s >= from && s < from+len(w) {
					n++
				}
			}
			if n >= 80 {
				return w
			}
		}
		return ""
	}
	const samples = 400
	found, foundReindented, tried := 0, 0, 0
	for tried < samples {
		p := indexed[r.IntN(len(indexed))]
		w := window(p)
		if w == "" {
			continue
		}
		tried++
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		has := func(ms []Match) bool {
			return slices.ContainsFunc(ms, func(m Match) bool { return m.File == rel })
		}
		if has(ix.Scan("Can you explain this code?\n\n" + w + "\nThanks.")) {
			found++
		}
		if has(ix.Scan(strings.ReplaceAll(w, "\t", "  "))) {
			foundReindented++
		}
	}
	falseMatches, copies, unrelatedTried := 0, 0, 0
	for unrelatedTried < samples {
		w := window(unrelatedFiles[r.IntN(len(unrelatedFiles))])
		if w == "" {
			continue
		}
		unrelatedTried++
		ms := ix.Scan(w)
		if len(ms) == 0 {
			continue
		}
		if data, err := os.ReadFile(filepath.Join(src, ms[0].File)); err == nil && sharesLine(w, string(data)) {
			copies++ // GOROOT has copies across packages (html/template of text/template, test tables)
			continue
		}
		falseMatches++
		t.Logf("unrelated paste matched %s (%d prints):\n%s", ms[0].File, ms[0].Prints, w)
	}
	recall := float64(found) / samples
	t.Logf("code: 15-line pastes of %d indexed files found: %.1f%% (re-indented %.1f%%); unrelated pastes matching a file they share no line with: %.1f%% (and %.1f%% matching a copy)",
		len(indexed), 100*recall, 100*float64(foundReindented)/samples, 100*float64(falseMatches)/samples, 100*float64(copies)/samples)
	if recall < 0.9 || foundReindented < found*95/100 {
		t.Errorf("recall too low: %d/%d, re-indented %d", found, samples, foundReindented)
	}
	// what remains are structurally identical idioms of test code (a testdata-reading loop, a
	// benchmark loop): renamed-identifier matching cannot tell them from a renamed copy
	if falseMatches > samples/50 {
		t.Errorf("unrelated code matched %d/%d times", falseMatches, samples)
	}

	// documents: paragraphs of Newton's Opticks (indexed in parts) against the Go spec's
	// paragraphs (unrelated prose)
	opticks, err := os.ReadFile(gorootPath(t, "testdata/Isaac.Newton-Opticks.txt"))
	if err != nil {
		t.Skip(err)
	}
	spec, err := os.ReadFile(filepath.Join(src, "..", "doc", "go_spec.html"))
	if err != nil {
		t.Skip(err)
	}
	paras := strings.Split(string(opticks), "\n\n")
	db := NewBuilder(testKey, Options{})
	for i := 0; i < len(paras); i += 40 {
		db.AddFile("opticks", Document, fmt.Sprintf("part%03d.txt", i/40), strings.Join(paras[i:min(i+40, len(paras))], "\n\n"))
	}
	dix := db.Build()
	pick := func(ps []string) string {
		for {
			if p := ps[r.IntN(len(ps))]; len(strings.Fields(p)) >= 40 && len(strings.Fields(p)) <= 120 {
				return p
			}
		}
	}
	docFound, docFalse := 0, 0
	specParas := strings.Split(string(spec), "\n\n")
	for range samples {
		if len(dix.Scan("Please rewrite this in modern English: "+strings.ReplaceAll(pick(paras), "\n", " "))) > 0 {
			docFound++
		}
		if len(dix.Scan(pick(specParas))) > 0 {
			docFalse++
		}
	}
	t.Logf("documents: pasted paragraphs of 40-120 words found: %.1f%%; unrelated paragraphs matching: %.1f%%",
		100*float64(docFound)/samples, 100*float64(docFalse)/samples)
	if docFound < samples*9/10 || docFalse > 0 {
		t.Errorf("documents: found %d/%d, unrelated matched %d", docFound, samples, docFalse)
	}
}

// sharesLine reports whether a and b have a line of at least 30 characters (trimmed) in common.
func sharesLine(a, b string) bool {
	lines := map[string]bool{}
	for l := range strings.SplitSeq(b, "\n") {
		if l = strings.TrimSpace(l); len(l) >= 30 {
			lines[l] = true
		}
	}
	for l := range strings.SplitSeq(a, "\n") {
		if lines[strings.TrimSpace(l)] {
			return true
		}
	}
	return false
}
