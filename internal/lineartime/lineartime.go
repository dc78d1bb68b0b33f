// Package lineartime checks, in tests, that work grows linearly with its input: it times the
// same work on two sizes in the same run and compares the ratio, never an absolute time, so a
// busy or slow machine (or the race detector) cannot fail it while a quadratic scanner still
// does.
package lineartime

import (
	"testing"
	"time"
)

// Growth is how much larger the second input is than the first.
const Growth = 8

// Slack is how far above linear the ratio may go: linear work takes about Growth times as long
// on the larger input, quadratic work Growth² (64) times; cache and collector effects on a
// busy machine were seen to push linear work to 31 times.
const Slack = 5

// floor is the least time the smaller input is counted as taking: below it, timer resolution
// and fixed costs make the ratio meaningless, and work that finishes the large input under
// Growth*slack*floor is fast enough whatever its shape.
const floor = 200 * time.Microsecond

// Ratio times the work that setup(small) and setup(Growth*small) return, the best of tries runs
// each, and returns the two times and their ratio (with the smaller time raised to the floor).
// setup is not timed: building a 10 MiB input (and the garbage it leaves) is not the work
// measured.
func Ratio(small, tries int, setup func(n int) func()) (ts, tl time.Duration, ratio float64) {
	best := func(n int) time.Duration {
		work := setup(n)
		var b time.Duration
		for i := range tries {
			start := time.Now()
			work()
			if d := time.Since(start); i == 0 || d < b {
				b = d
			}
		}
		return b
	}
	ts = best(small)
	tl = best(Growth * small)
	return ts, tl, float64(tl) / float64(max(ts, floor))
}

// Check fails t when work on Growth times more input took more than Slack*Growth times as long.
func Check(t testing.TB, name string, small int, setup func(n int) func()) {
	t.Helper()
	ts, tl, r := Ratio(small, 3, setup)
	if r > Slack*Growth {
		t.Errorf("%s: %d bytes took %v, %d bytes %v: %.0f times as long for %d times the input (linear ≈ %d, quadratic ≈ %d)",
			name, small, ts, Growth*small, tl, r, Growth, Growth, Growth*Growth)
		return
	}
	t.Logf("%s: %d bytes %v, %d bytes %v (%.1f×)", name, small, ts.Round(time.Microsecond), Growth*small, tl.Round(time.Microsecond), r)
}
