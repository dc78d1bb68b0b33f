package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"listen", "listen", 0}, {"lsiten", "listen", 1}, {"listn", "listen", 1}, {"lisen", "listen", 1},
		{"intercpt", "intercept", 1}, {"abc", "xyz", 3}, {"a", "abcdef", 3}, {"", "ab", 2}, {"opena", "openai", 1},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
