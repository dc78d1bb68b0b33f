package detectors

import (
	"math"
	"strings"
)

// Entropy is the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// placeholderWords mark values that are templates, not secrets.
var placeholderWords = []string{
	"example", "your-", "your_", "yourkey", "<", "${", "{{", "xxxx", "****", "....", "placeholder",
	"changeme", "redacted", "dummy", "sample", "insert", "replace", "fake",
}

// IsPlaceholder reports values every detector should ignore: documentation keys (AWS's
// …EXAMPLE), template markers (your-api-key-here, ${TOKEN}, <key>), masked values (sk-...xxxx)
// and runs of one repeated character.
func IsPlaceholder(v string) bool {
	if len(v) >= 4 && strings.Count(v, v[:1]) == len(v) {
		return true
	}
	lv := lowerASCII(v)
	for _, w := range placeholderWords {
		if strings.Contains(lv, w) {
			return true
		}
	}
	// A long run of one character inside (sk-proj-xxxxxxxx..., 0000000000) is a mask.
	run := 1
	for i := 1; i < len(lv); i++ {
		if lv[i] == lv[i-1] && lv[i] != '-' {
			run++
			if run >= 8 {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}
