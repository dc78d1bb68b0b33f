package content

import (
	"math/rand/v2"
	"testing"
)

func countBytes(t string) uint64 {
	var c uint64
	for k := 0; k < len(t); k++ {
		c += byteCounts[t[k]]
	}
	return c
}

// hasOperator skips the search on counts alone: it must not miss a digraph that the search finds.
func TestHasOperatorEveryDigraph(t *testing.T) {
	for prev := 0; prev < 256; prev++ {
		for c := 0; c < 256; c++ {
			if !isDigraph(byte(prev), byte(c)) {
				continue
			}
			for _, s := range []string{string([]byte{byte(prev), byte(c)}), "x " + string([]byte{byte(prev), byte(c)}) + " y"} {
				if !hasOperator(s, countBytes(s)) {
					t.Errorf("hasOperator(%q) = false", s)
				}
			}
		}
	}
}

func TestHasOperatorMatchesSearch(t *testing.T) {
	// Few operator bytes, so that many strings hold no digraph or only one, anywhere.
	const alphabet = "abcdefgh ,.:=!+-<>&|()/;{}\"'*$"
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, maxLine)
	for range 200000 {
		b = b[:r.IntN(24)]
		for k := range b {
			b[k] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		want := false
		for k := 1; k < len(s); k++ {
			want = want || isDigraph(s[k-1], s[k])
		}
		if got := hasDigraph(s); got != want {
			t.Fatalf("hasDigraph(%q) = %v, want %v", s, got, want)
		}
		if got := hasOperator(s, countBytes(s)); got != want {
			t.Fatalf("hasOperator(%q) = %v, want %v", s, got, want)
		}
	}
	long := make([]byte, maxLine)
	for k := range long {
		long[k] = '|'
	}
	if c := countBytes(string(long)); int(c>>fSym&fMask) != maxLine || c>>fSpace&fMask != 0 || c>>fTwice&fMask != maxLine {
		t.Errorf("a line of %d bytes overflows its counts: %x", maxLine, c)
	}
}
