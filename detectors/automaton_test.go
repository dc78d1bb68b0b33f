package detectors

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestAutomatonWideStates checks the 4-byte table, used when the states outgrow 2-byte entries
// (the built-in keywords use the 2-byte one, which TestAutomatonMatchesNaiveSearch covers):
// every hit of scan and first is checked against a naive search.
func TestAutomatonWideStates(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = "abcdefghij"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	var kws []string
	for range 8000 {
		kws = append(kws, word(6+r.IntN(8)))
	}
	kws = append(kws, "ab", "j")
	a := buildAutomaton(kws)
	if a.trans32 == nil {
		t.Fatalf("%d states: want the 4-byte table", len(a.depth))
	}
	type hit struct{ kw, start int }
	for i := range 60 {
		text := word(r.IntN(400))
		if i%2 == 0 {
			text = strings.ToUpper(text)
		}
		var got, want []hit
		a.scan(text, func(kw, start int) { got = append(got, hit{kw, start}) })
		lt := strings.ToLower(text)
		for k, kw := range kws {
			for s := 0; s+len(kw) <= len(lt); s++ {
				if lt[s:s+len(kw)] == kw {
					want = append(want, hit{k, s})
				}
			}
		}
		cmp := func(x, y hit) int {
			if x.start != y.start {
				return x.start - y.start
			}
			return x.kw - y.kw
		}
		slices.SortFunc(got, cmp)
		slices.SortFunc(want, cmp)
		if !slices.Equal(got, want) {
			t.Fatalf("text %q: %d hits, want %d", text, len(got), len(want))
		}
		start, ok := a.first(text, false)
		if ok != (len(want) > 0) || ok && !slices.ContainsFunc(want, func(h hit) bool { return h.start == start }) {
			t.Fatalf("text %q: first = %d, %v", text, start, ok)
		}
	}
}
