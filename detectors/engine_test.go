package detectors_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// kwDetector reports every keyword hit as a 1-byte match, to observe what the engine hands over.
type kwDetector struct {
	m    detectors.Meta
	seen *[][]int
}

func (k kwDetector) Meta() detectors.Meta { return k.m }
func (k kwDetector) Find(text string, hits []int, emit func(detectors.Match)) {
	*k.seen = append(*k.seen, slices.Clone(hits))
	for _, h := range hits {
		emit(detectors.Match{Start: h, End: h + 1, Confidence: 1})
	}
}

// naiveHits is the reference: every case-insensitive occurrence of every keyword.
func naiveHits(text string, kws []string) []int {
	lt := strings.ToLower(text)
	var out []int
	for _, kw := range kws {
		for i := 0; i+len(kw) <= len(lt); i++ {
			if lt[i:i+len(kw)] == strings.ToLower(kw) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// naiveCount counts the occurrences of every keyword, each (keyword, start) once.
func naiveCount(text string, kws []string) int {
	lt := strings.ToLower(text)
	n := 0
	for _, kw := range kws {
		for i := 0; i+len(kw) <= len(lt); i++ {
			if lt[i:i+len(kw)] == strings.ToLower(kw) {
				n++
			}
		}
	}
	return n
}

func TestAutomatonMatchesNaiveSearch(t *testing.T) {
	kws := []string{"akia", "ghp_", "sk-", "sk-proj-", "ia", "a", "-----BEGIN", "xoxb-", "password"}
	texts := []string{
		"", "AKIA", "xAkIaAKIAakia", "sk-proj-abc sk-ant ghp_x", "-----begin rsa", "PASSWORD=passwordpassword",
		strings.Repeat("a", 100),
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := "akiAKI_-spghoxbrw PASSWORDd"
	for i := 0; i < 400; i++ {
		size := r.IntN(60)
		switch i % 4 {
		case 0:
			size = 200 + r.IntN(3000) // long enough to be walked as four parts
		case 1:
			size = 60 + r.IntN(100) // four short parts, keywords across their ends
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = alphabet[r.IntN(len(alphabet))]
		}
		texts = append(texts, string(b))
	}
	var seen [][]int
	e, err := detectors.New([]detectors.Detector{kwDetector{m: detectors.Meta{ID: "test.kw", Class: detectors.Secret, Keywords: kws}, seen: &seen}})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range texts {
		seen = seen[:0]
		var got []int
		e.Scan(text, func(_ detectors.Detector, m detectors.Match) { got = append(got, m.Start) })
		want := naiveHits(text, kws)
		if !slices.Equal(got, want) {
			t.Fatalf("text %q: hits %v, want %v", text, got, want)
		}
		if n, want := e.Prefilter(text), naiveCount(text, kws); n != want {
			t.Fatalf("text %q: prefilter counted %d hits, want %d (each keyword occurrence once)", text, n, want)
		}
	}
}

func TestNewRejectsBadDetectors(t *testing.T) {
	var seen [][]int
	mk := func(id string, class detectors.Class, kws ...string) detectors.Detector {
		return kwDetector{m: detectors.Meta{ID: id, Class: class, Keywords: kws}, seen: &seen}
	}
	tests := []struct {
		name string
		ds   []detectors.Detector
		want string
	}{
		{"not namespaced", []detectors.Detector{mk("aws", detectors.Secret, "akia")}, "namespaced"},
		{"upper case", []detectors.Detector{mk("secret.AWS", detectors.Secret, "akia")}, "namespaced"},
		{"duplicate", []detectors.Detector{mk("secret.a", detectors.Secret, "x1"), mk("secret.a", detectors.Secret, "x2")}, "duplicate"},
		{"bad class", []detectors.Detector{mk("secret.a", "nope", "x1")}, "unknown class"},
		{"empty keyword", []detectors.Detector{mk("secret.a", detectors.Secret, "")}, "empty keyword"},
		{"bad regexp", []detectors.Detector{&detectors.Pattern{M: detectors.Meta{ID: "secret.b", Class: detectors.Secret, Keywords: []string{"b"}}, Regexp: "b(("}}, "secret.b"},
		{"pattern without keywords", []detectors.Detector{&detectors.Pattern{M: detectors.Meta{ID: "secret.c", Class: detectors.Secret}, Regexp: "c"}}, "needs keywords"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := detectors.New(tt.ds)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPatternWindowsBoundariesAndGates(t *testing.T) {
	p := &detectors.Pattern{
		M:        detectors.Meta{ID: "secret.test-token", Class: detectors.Secret, Keywords: []string{"tok_"}},
		Regexp:   `tok_[0-9a-zA-Z]{12}`,
		Boundary: true, MinEntropy: 2.5,
		Placeholders: []string{"tok_abcdefghijkl"},
		Validate:     func(v string) bool { return !strings.HasSuffix(v, "0") },
	}
	e, err := detectors.New([]detectors.Detector{p})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want []string
	}{
		{"key tok_Q2w8Zr5Lm1Xc, then", []string{"tok_Q2w8Zr5Lm1Xc"}},
		{"(tok_Q2w8Zr5Lm1Xc)? and TOK_Q2w8Zr5Lm1Xc.", []string{"tok_Q2w8Zr5Lm1Xc"}}, // the regexp is case-sensitive; the keyword is not
		{"xtok_Q2w8Zr5Lm1Xc", nil},                              // glued to a token before
		{"KEY=tok_Q2w8Zr5Lm1Xc/", []string{"tok_Q2w8Zr5Lm1Xc"}}, // punctuation ends a token
		{"tok_Q2w8Zr5Lm1XcMORE", nil},                           // glued to a token after
		{"tok_abcdefghijkl", nil},                               // placeholder
		{"tok_aaaaaaaaaaab", nil},                               // low entropy
		{"tok_Q2w8Zr5Lm1X0", nil},                               // validator refuses
		{"tok_Q2w8", nil},                                       // too short
		{"tok_your-key-here!!", nil},                            // template
		{strings.Repeat("tok_", 10000), nil},                    // many hits, no match: still linear
	}
	for _, tt := range tests {
		var got []string
		e.Scan(tt.text, func(_ detectors.Detector, m detectors.Match) { got = append(got, tt.text[m.Start:m.End]) })
		if !slices.Equal(got, tt.want) {
			t.Errorf("%.40q: got %q, want %q", tt.text, got, tt.want)
		}
	}
}
