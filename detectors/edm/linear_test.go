package edm

import (
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/lineartime"
)

// raceEnabled is set by race_on_test.go.
var raceEnabled bool

// Scan is linear in its text whatever the text repeats: digits and separators that chain into
// long phone or ID runs, '@'s, IBAN-like starts, names that hit the index, prose.
func TestScanLinear(t *testing.T) {
	if raceEnabled && testing.Short() {
		// The race detector's overhead varies too much between runs for a timing ratio on
		// small inputs to mean anything; make test-long runs this without it.
		t.Skip("timing ratios are noise under -race -short")
	}
	tb := fixture(t)
	// Both sizes above what a pooled scanner keeps (maxPooled words), so both pay for fresh
	// scratch; -short keeps both under it.
	small := 1 << 20
	if testing.Short() {
		small = 64 << 10 / lineartime.Growth
	}
	for _, c := range []struct{ name, unit string }{
		{"prose", prompt4K},
		{"ones", "1"},
		{"digit-space", "1 "},
		{"digit-dash", "12-"},
		{"at", "@"},
		{"emailish", "a.b@c.de "},
		{"iban-start", "DE89 "},
		{"id-parts", "AC-1/"},
		{"letters-digits", "a1"},
		{"hits", "Maria Gonzalez AC-00412938 maria.gonzalez@example.com "},
		{"words", "Maria "},
		{"dates", "1 March 2001, "},
		{"unicode", "Müller’s ǅ "},
	} {
		lineartime.Check(t, c.name, small, func(n int) func() {
			text := strings.Repeat(c.unit, n/len(c.unit)+1)[:n]
			return func() { tb.Scan(text) }
		})
	}
}
