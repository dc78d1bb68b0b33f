package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Size is a number of bytes. In YAML it is an integer (bytes) or a string
// with a unit, such as "8MiB"; see ParseSize. Decoding goes through the text
// methods, which also serve flags (flag.TextVar) and keep yaml.v3's types
// out of this package's API.
type Size int64

// Binary units come first so that String prefers them: limits are usually
// powers of two.
var sizeUnits = []struct {
	name string
	n    int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

// ParseSize parses a byte count: a non-negative integer, optionally followed
// by a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers
// of 1024). Units are case-insensitive and may follow a space ("64 MB").
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes or a number with a unit, such as \"8MiB\"", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	unit := strings.TrimSpace(t[i:])
	if unit == "" {
		return Size(n), nil
	}
	if unit[0] == '.' {
		return 0, fmt.Errorf("invalid size %q: fractions are not supported; use a smaller unit, such as \"1536MiB\"", s)
	}
	for _, u := range sizeUnits {
		if strings.EqualFold(unit, u.name) {
			if n > math.MaxInt64/u.n {
				return 0, fmt.Errorf("invalid size %q: too large", s)
			}
			return Size(n * u.n), nil
		}
	}
	return 0, fmt.Errorf("invalid size %q: unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, unit)
}

// String gives the size in the largest unit, binary or decimal, that
// divides it exactly, so that 64MB stays "64MB" rather than "62500KiB";
// ParseSize(s.String()) == s for any s >= 0.
func (s Size) String() string {
	best := int64(1)
	name := ""
	for _, u := range sizeUnits {
		if s != 0 && int64(s)%u.n == 0 && u.n > best {
			best, name = u.n, u.name
		}
	}
	return strconv.FormatInt(int64(s)/best, 10) + name
}

func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Duration is a time.Duration written as a Go duration string ("30s", "5m")
// in YAML and in flags (flag.TextVar), through its text methods.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	if day := 24 * time.Hour; d > 0 && time.Duration(d)%day == 0 {
		return fmt.Sprintf("%dd", time.Duration(d)/day)
	}
	return time.Duration(d).String()
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a Go duration ("90s", "24h") or a whole number of days ("30d"), the
// unit retention periods and responders' time windows are thought in.
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.ParseUint(n, 10, 16); err == nil {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		// time's message repeats the value and omits what would be accepted.
		return 0, fmt.Errorf("invalid duration %q: want a number with a unit, such as \"30s\", \"5m\", \"24h\" or \"30d\"", s)
	}
	return v, nil
}
