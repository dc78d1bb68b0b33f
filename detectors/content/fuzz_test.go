package content

import (
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

func fuzzSeeds(f *testing.F) {
	for _, d := range all(f) {
		m := d.Meta()
		for _, s := range append(m.Examples.Match, m.Examples.NoMatch...) {
			f.Add(s)
		}
	}
	for _, c := range codeSamples {
		f.Add(c.code)
	}
	f.Add("")
	f.Add("```")
	f.Add("```go\n")
	f.Add("\xff\xfe\n\x00}")
	f.Add(strings.Repeat("}\n", 20))
}

// FuzzCode: any bytes; no panic; blocks are inside the text, ordered, non-overlapping; and
// GuessLanguage answers for any block.
func FuzzCode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		last := 0
		scanCode(s, func(start, end int, conf float64) {
			if start < last || end > len(s) || start >= end || conf <= 0 || conf > 1 {
				t.Fatalf("bad block [%d,%d) %.2f after %d in %q", start, end, conf, last, s)
			}
			last = end
			GuessLanguage(s[start:end])
		})
		GuessLanguage(s)
	})
}

// FuzzMarkers: every content detector over any bytes, with the hits the engine would give.
func FuzzMarkers(f *testing.F) {
	fuzzSeeds(f)
	ds := all(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range ds {
			d.Find(s, keywordHits(s, d.Meta().Keywords), func(m detectors.Match) {
				if m.Start < 0 || m.End > len(s) || m.Start >= m.End || m.Confidence <= 0 || m.Confidence > 1 {
					t.Fatalf("%s: bad match %+v in %q", d.Meta().ID, m, s)
				}
			})
		}
	})
}

// keywordHits finds keyword starts ignoring ASCII case, as the engine does.
func keywordHits(text string, kws []string) []int {
	if len(kws) == 0 {
		return nil
	}
	b := []byte(text)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	lt := string(b)
	var hits []int
	for i := 0; i < len(lt); i++ {
		for _, k := range kws {
			if strings.HasPrefix(lt[i:], k) {
				hits = append(hits, i)
				break
			}
		}
	}
	return hits
}
