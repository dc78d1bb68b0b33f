package detectors

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func naiveEntropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[byte]int{}
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h := 0.0
	for _, c := range counts {
		p := float64(c) / float64(len(s))
		h -= p * math.Log2(p)
	}
	return h
}

func TestEntropyMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tests := []string{"", "a", "aaaaaaaa", "ab", "password", "AKIAIOSFODNN7EXAMPLE", strings.Repeat("x", 2000),
		strings.Repeat("ab", 40000)} // the last is over 65535 bytes: the long path
	for range 200 {
		b := make([]byte, 1+r.IntN(3000))
		alpha := 1 + r.IntN(255)
		for i := range b {
			b[i] = byte(r.IntN(alpha))
		}
		tests = append(tests, string(b))
	}
	for _, s := range tests {
		if got, want := Entropy(s), naiveEntropy(s); math.Abs(got-want) > 1e-9 {
			t.Fatalf("Entropy(%.20q… len %d) = %v, want %v", s, len(s), got, want)
		}
	}
}

func TestWordSet(t *testing.T) {
	w := NewWordSet("${", "Getenv", "vault:", "")
	tests := []struct {
		s          string
		in, prefix bool
	}{
		{"os.GETENV(x)", true, false},
		{"getenv", true, true},
		{"VAULT:kv/x", true, true},
		{"abc${X}", true, false},
		{"plain-value-123", false, false},
		{"", false, false},
		{"getenvx", true, true},
		{"xgetenv", true, false},
	}
	for _, tt := range tests {
		if got := w.In(tt.s); got != tt.in {
			t.Errorf("In(%q) = %v, want %v", tt.s, got, tt.in)
		}
		if got := w.Prefix(tt.s); got != tt.prefix {
			t.Errorf("Prefix(%q) = %v, want %v", tt.s, got, tt.prefix)
		}
	}
}
