package pii

import (
	"math/rand/v2"
	"testing"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/internal/corpusgen"
)

// TestRunFilterImpliedByAt checks the RunFilter contract the engine relies on: wherever a
// scanner's run terms all say no, its at reports nothing and returns the run's end. A filter that
// is too strict would silently drop findings, so it is checked on the labelled corpus (where
// every value sits) and on random near-miss text dense in digits, capitals and separators.
func TestRunFilterImpliedByAt(t *testing.T) {
	var texts []string
	g := corpusgen.New(7)
	for range 400 {
		d, _ := g.Next()
		texts = append(texts, d.Text)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789012345678901234567890123456789 -./+()XYZABDEGNRTIS$#@\\ntr:,_ab"
	for range 3000 {
		b := make([]byte, 20+r.IntN(60))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		texts = append(texts, string(b))
	}
	ds, err := Detectors()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, d := range ds {
		rs, ok := d.(*runScanner)
		if !ok || len(rs.terms) == 0 {
			continue
		}
		t.Run(rs.meta.ID, func(t *testing.T) {
			rejected := 0
			for _, text := range texts {
				for i := nextDigit(text, 0); i < len(text); i = nextDigit(text, i) {
					j := runEnd(text, i)
					var prev, after, prev2, after2 byte
					if i > 0 {
						prev = text[i-1]
					}
					if j < len(text) {
						after = text[j]
					}
					if i > 1 {
						prev2 = text[i-2]
					}
					if j+1 < len(text) {
						after2 = text[j+1]
					}
					if !wanted(rs.terms, prev2, prev, after, after2, min(j-i, detectors.MaxRunBucket)) {
						rejected++
						found := false
						next := rs.at(text, i, j, func(detectors.Match) { found = true })
						if found || next > j {
							t.Fatalf("no term holds for (%q, %q, %d) but at found something in %q at %d", prev, after, j-i, text, i)
						}
					}
					i = j
				}
			}
			if rejected == 0 {
				t.Fatal("the filter never rejected a run: the test exercises nothing")
			}
			checked++
		})
	}
	if checked < 8 {
		t.Fatalf("checked %d run filters, want the 8 scanners", checked)
	}
}

func wanted(terms []detectors.RunTerm, prev2, prev, next, next2 byte, n int) bool {
	for _, t := range terms {
		if (t.Prev == nil || t.Prev(prev, n)) && (t.Next == nil || t.Next(next, n)) &&
			(t.Prev2 == nil || t.Prev2(prev2)) && (t.Next2 == nil || t.Next2(next2)) {
			return true
		}
	}
	return false
}
