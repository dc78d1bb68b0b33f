package detectors

import (
	"math"
	"strings"
)

// Entropy is the Shannon entropy of s in bits per byte. It runs on every candidate of the
// generic detectors, so the logarithms of small counts come from a table:
// H = log2(n) - (1/n)·Σ c·log2(c).
func Entropy(s string) float64 {
	n := len(s)
	if n == 0 {
		return 0
	}
	if n > 1<<16-1 {
		return entropyLong(s)
	}
	// Σ c·log2(c) grows by f(c+1)-f(c) as each byte's count c goes up: one pass over the value,
	// no second pass over 256 counters (values are mostly 8 to 100 bytes).
	var counts [256]uint16
	sum := 0.0
	for i := 0; i < n; i++ {
		c := counts[s[i]]
		counts[s[i]] = c + 1
		sum += xlogDelta(int(c))
	}
	return log2Count(n) - sum/float64(n)
}

// xlogDelta is (c+1)·log2(c+1) - c·log2(c).
func xlogDelta(c int) float64 {
	if c < len(xlogDeltaTable) {
		return xlogDeltaTable[c]
	}
	return float64(c+1)*math.Log2(float64(c+1)) - float64(c)*math.Log2(float64(c))
}

var xlogDeltaTable = func() (t [1024]float64) {
	xlog := func(c int) float64 {
		if c < 2 {
			return 0
		}
		return float64(c) * math.Log2(float64(c))
	}
	for c := range t {
		t[c] = xlog(c+1) - xlog(c)
	}
	return t
}()

func entropyLong(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	sum := 0.0
	for _, c := range counts {
		if c > 1 {
			sum += float64(c) * log2Count(c)
		}
	}
	return log2Count(len(s)) - sum/float64(len(s))
}

var log2Table = func() (t [1024]float64) {
	for i := 1; i < len(t); i++ {
		t[i] = math.Log2(float64(i))
	}
	return t
}()

func log2Count(c int) float64 {
	if c < len(log2Table) {
		return log2Table[c]
	}
	return math.Log2(float64(c))
}

// placeholderWords mark values that are templates, not secrets.
var placeholderWords = []string{
	"example", "your-", "your_", "yourkey", "<", "${", "{{", "xxxx", "****", "....", "placeholder",
	"changeme", "redacted", "dummy", "sample", "insert", "replace", "fake",
}

var placeholderAutomaton = buildAutomaton(placeholderWords)

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// IsPlaceholder reports values every detector should ignore: documentation keys (AWS's
// …EXAMPLE), template markers (your-api-key-here, ${TOKEN}, <key>), masked values (sk-...xxxx)
// and runs of one repeated character.
func IsPlaceholder(v string) bool {
	if len(v) >= 4 && strings.Count(v, v[:1]) == len(v) {
		return true
	}
	// One case-insensitive automaton pass for every placeholder word instead of a lower-cased
	// copy and a search per word: this runs on every candidate value.
	if _, found := placeholderAutomaton.first(v, false); found {
		return true
	}
	// A long run of one character inside (sk-proj-xxxxxxxx..., 0000000000) is a mask.
	lv := v
	run := 1
	for i := 1; i < len(lv); i++ {
		if lower(lv[i]) == lower(lv[i-1]) && lv[i] != '-' {
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
