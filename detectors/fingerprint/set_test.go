package fingerprint

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/customs-dev/customs/internal/golden"
)

const legalMemo = `Privileged and confidential: prepared at the request of counsel.

The settlement with Corvid Systems caps our exposure at four million euros provided that the
Kestrel tiers do not launch in Germany before the first of October. Counsel advises that a
launch through the Austrian entity would not breach the standstill, but the board should expect
Corvid to argue otherwise in the arbitration scheduled for November.

Any disclosure of this memo, including to pricing partners, waives privilege over the whole
file. Forward questions to the general counsel only.`

func TestSet(t *testing.T) {
	repo, _ := buildFixture(t, Options{})
	b := NewBuilder(testKey, Options{Now: testNow})
	if err := b.AddFile("legal", Document, "memos/corvid-settlement.txt", legalMemo); err != nil {
		t.Fatal(err)
	}
	legal := b.Build()
	s := NewSet(repo, legal)
	if n := len(s.groups); n != 2 {
		t.Errorf("%d normalisation groups, want 2 (code, document: both indexes share the document one)", n)
	}
	text := "Two things. First, is this memo accurate?\n\n" + strings.ReplaceAll(legalMemo, "\n", " ") +
		"\n\nSecond, review this:\n" + renamedReformatted
	ms := s.Scan(text)
	golden.Check(t, filepath.Join("testdata", "scan", "set.golden"), renderMatches(ms))
	labels := map[string]bool{}
	for _, m := range ms {
		labels[m.Label] = true
	}
	if !labels["legal"] || !labels[fixtureLabel] {
		t.Errorf("want matches of both labels, got %+v", ms)
	}
	if got := s.Labels(); len(got) != 2 || got[1].Label != "legal" || got[1].Class != Document {
		t.Errorf("labels: %+v", got)
	}

	// concurrent scans agree (run under -race)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got := s.Scan(text); !reflect.DeepEqual(got, ms) {
					t.Error("concurrent scan differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestScanOptions(t *testing.T) {
	ix, _ := buildFixture(t, Options{})
	text := lines(readFixture(t, "web/checkout.js"), 46, 60)
	if ms := ix.Scan(text); len(ms) != 1 {
		t.Fatalf("default: %+v", ms)
	}
	if ms := ix.ScanWith(text, ScanOptions{MinPrints: 100}); len(ms) != 0 {
		t.Errorf("MinPrints 100: %+v", ms)
	}
	if ms := ix.ScanWith(text, ScanOptions{MinShare: 0.9}); len(ms) != 1 {
		t.Errorf("MinShare 0.9 (segment share is 1): %+v", ms)
	}
	if ms := ix.Scan(""); ms != nil {
		t.Errorf("empty text: %+v", ms)
	}
	empty := NewBuilder(testKey, Options{}).Build()
	if ms := empty.Scan(text); ms != nil || len(empty.Labels()) != 0 {
		t.Errorf("empty index: %+v", ms)
	}
}

// TestBoilerplate: a k-gram in many files is dropped at Build; below BoilerplateMinFiles or
// under MaxFileShare it stays.
func TestBoilerplate(t *testing.T) {
	shared := readFixture(t, "pricing/discount.go")
	build := func(o Options, copies int) *Index {
		o.Now = testNow
		b := NewBuilder(testKey, o)
		for i := range copies {
			if err := b.AddFile("l", Code, "f"+string(rune('a'+i))+".go", shared); err != nil {
				t.Fatal(err)
			}
		}
		return b.Build()
	}
	if ms := build(Options{}, 5).Scan(shared); len(ms) != 0 {
		t.Errorf("a text in all 5 files is boilerplate, got %d matches", len(ms))
	}
	if ms := build(Options{}, 3).Scan(shared); len(ms) != 3 {
		t.Errorf("a text in 3 files (< BoilerplateMinFiles 4) is kept, got %d matches", len(ms))
	}
	if ms := build(Options{MaxFileShare: 0.9, BoilerplateMinFiles: 2}, 5).Scan(shared); len(ms) != 0 {
		t.Errorf("5 of 5 files > 90%%: boilerplate, got %d", len(ms))
	}
	ix := build(Options{}, 5)
	if l := ix.Labels()[0]; l.Prints != 0 || l.Boilerplate == 0 {
		t.Errorf("label counts: %+v", l)
	}
}

// synthCode returns a distinct, code-shaped text for seed: random operators, numbers and
// keywords, so that its prints are its own.
func synthCode(seed int) string {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	ops := []string{"+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "==", "!=", "<", ">"}
	kws := []string{"if", "for", "return", "switch", "case", "else", "go", "defer", "range"}
	var b strings.Builder
	for f := range 6 {
		fmt.Fprintf(&b, "func f%d(a, b int) int {\n", f)
		for range 8 {
			fmt.Fprintf(&b, "\t%s x[%d] %s y(%d) %s z.w(%d) {\n", kws[r.IntN(len(kws))], r.IntN(100),
				ops[r.IntN(len(ops))], r.IntN(1000), ops[r.IntN(len(ops))], r.IntN(10))
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// TestManyFiles: with hundreds of files (file IDs of 9 bits and more) each file's own text finds
// it, before and after a round trip through the file format.
func TestManyFiles(t *testing.T) {
	const n = 700
	b := NewBuilder(testKey, Options{Now: testNow})
	for i := range n {
		if err := b.AddFile("many", "", fmt.Sprintf("pkg%d/file%d.go", i/50, i), synthCode(i)); err != nil {
			t.Fatal(err)
		}
	}
	ix := b.Build()
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := ReadIndex(&buf, testKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Index{ix, loaded} {
		for i := 0; i < n; i += 7 {
			want := fmt.Sprintf("pkg%d/file%d.go", i/50, i)
			ms := x.Scan(synthCode(i))
			if len(ms) != 1 || ms[0].File != want || ms[0].FileShare != 1 {
				t.Fatalf("file %d: got %+v, want only %s", i, ms, want)
			}
		}
	}
}

func TestSortEntries(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 3, 100, 5000} {
		var chunks [][]entry
		var all []entry
		for i := 0; i < n; {
			c := make([]entry, 0, 7)
			for ; i < n && len(c) < cap(c); i++ {
				e := entry{r.Uint64(), uint32(r.IntN(50))}
				if i%10 == 0 {
					e.h = 42 // many files share a print
				}
				c = append(c, e)
				all = append(all, e)
			}
			chunks = append(chunks, c)
		}
		got := sortEntries(chunks, n)
		slices.SortFunc(all, func(x, y entry) int { return cmp.Or(cmp.Compare(x.h, y.h), cmp.Compare(x.f, y.f)) })
		if !slices.Equal(got, all) {
			t.Fatalf("n=%d: sortEntries differs from a sort", n)
		}
	}
}
