package detectors

import (
	"fmt"
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

// Previews keep a value's ends and its length, never its middle; long values (code blocks, keys)
// are summarised instead of printing a star per character, and control characters never reach
// a log line.
func TestMask(t *testing.T) {
	long := "package main\n\nfunc main() {\n" + strings.Repeat("\tprintln(\"x\")\n", 40) + "}"
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "***"},
		{"hunter22", "hu******"},
		{"Tr0ub4dor-prod-77", "Tr0u*********d-77"},
		{"AKIAZ7VQ3KXJ5N2WPLMR", "AKIA************PLMR"},
		{"jane.doe@corp-example.org", "jane*****************.org"},
		{long, "pack****(" + fmt.Sprint(len([]rune(long))) + " chars)****\") }"},
		{"\tkey\nsecret-value-xyz\n", " key**************xyz "},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%.30q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.ContainsAny(Mask(tt.in), "\n\r\t") {
			t.Errorf("Mask(%.30q) keeps a control character", tt.in)
		}
	}
}
