package fingerprint

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/golden"
)

var (
	testKey = []byte("customs-test-key-0123456789abcdef")
	testNow = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
)

const fixtureLabel = "acme-repo"

// fixtureTree copies testdata/repo to a temporary directory as a git checkout would look: the
// dot-gitignore files become .gitignore (a real one under testdata would keep the ignored
// fixtures out of customs' own repository) and a .git directory holds text that must not be
// indexed.
func fixtureTree(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", "repo")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.Name() == "dot-gitignore" {
			rel = filepath.Join(filepath.Dir(rel), ".gitignore")
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	git := filepath.Join(dst, ".git")
	if err := os.MkdirAll(filepath.Join(git, "info"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(git, "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(git, "COMMIT_EDITMSG"), "pricing: marmalade octopus telescopes whisper about the undocumented rebate ladder for Lisbon\n")
	write(t, filepath.Join(git, "info", "exclude"), "scratch/\n")
	write(t, filepath.Join(dst, "scratch", "notes.md"), "Marmalade octopus telescopes whisper about the undocumented rebate ladder that only the regional directors in Lisbon may grant.\n")
	return dst
}

func write(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFixture(t testing.TB, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "repo", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// lines returns lines from..to (1-based, inclusive) of text.
func lines(text string, from, to int) string {
	ls := strings.SplitAfter(text, "\n")
	return strings.Join(ls[from-1:to], "")
}

func buildFixture(t testing.TB, o Options) (*Index, Stats) {
	t.Helper()
	o.Now = testNow
	b := NewBuilder(testKey, o)
	st, err := b.AddTree(fixtureLabel, "", fixtureTree(t))
	if err != nil {
		t.Fatal(err)
	}
	return b.Build(), st
}

func renderMatches(ms []Match) []byte {
	var b strings.Builder
	if len(ms) == 0 {
		b.WriteString("no match\n")
	}
	for _, m := range ms {
		fmt.Fprintf(&b, "label=%s class=%s file=%s prints=%d file-share=%.2f segment-share=%.2f\n",
			m.Label, m.Class, m.File, m.Prints, m.FileShare, m.SegmentShare)
		b.WriteString("  spans:")
		for _, s := range m.Spans {
			fmt.Fprintf(&b, " [%d,%d)", s[0], s[1])
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func renderStats(st Stats, labels []LabelInfo) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "files=%d (code %d, document %d) bytes=%d prints=%d\n", st.Files, st.CodeFiles, st.DocumentFiles, st.Bytes, st.Prints)
	reasons := make([]string, 0, len(st.Skipped))
	for r := range st.Skipped {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&b, "skipped %q: %d\n", r, st.Skipped[r])
	}
	for _, s := range st.Skips {
		fmt.Fprintf(&b, "skip %s: %s\n", s.Name, s.Reason)
	}
	for _, l := range labels {
		fmt.Fprintf(&b, "label %s class=%s files=%d (code %d, document %d) prints=%d boilerplate=%d bytes=%d built=%s\n",
			l.Label, l.Class, l.Files, l.CodeFiles, l.DocumentFiles, l.Prints, l.Boilerplate, l.Bytes, l.Built.Format(time.RFC3339))
	}
	return []byte(b.String())
}

func goldenCheck(t *testing.T, path string, got []byte) { golden.Check(t, path, got) }

// gorootSrc is $GOROOT/src of the go command running the tests, or "" without one: the Go
// toolchain's own source is the large real tree the benchmarks measure on.
var gorootSrc = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "src")
	if _, err := os.Stat(src); err != nil {
		return ""
	}
	return src
})

func gorootPath(t testing.TB, rel string) string {
	t.Helper()
	src := gorootSrc()
	if src == "" {
		t.Skip("GOROOT source not available (go env GOROOT)")
	}
	return filepath.Join(src, filepath.FromSlash(rel))
}
