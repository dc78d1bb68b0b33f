package eval

import "strings"

// Mask hides the tokens of a text so that a list of misses can be shared: a token (a run
// without spaces, quotes, brackets or URL and assignment punctuation) longer than 12 characters keeps its first 4
// and last 2 characters, the rest become '*'. Line breaks show as ⏎ and the text is cut to max
// characters.
func Mask(s string, max int) string {
	var b strings.Builder
	flush := func(tok string) {
		if len(tok) > 12 {
			b.WriteString(tok[:4])
			b.WriteString(strings.Repeat("*", min(len(tok)-6, 40)))
			b.WriteString(tok[len(tok)-2:])
			return
		}
		b.WriteString(tok)
	}
	start := -1
	for i := 0; i < len(s); i++ {
		if isSep(s[i]) {
			if start >= 0 {
				flush(s[start:i])
				start = -1
			}
			switch s[i] {
			case '\n':
				b.WriteString("⏎")
			case '\r', '\t':
				b.WriteByte(' ')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		flush(s[start:])
	}
	out := b.String()
	if max > 0 && len([]rune(out)) > max {
		out = string([]rune(out)[:max]) + "…"
	}
	return out
}

func isSep(c byte) bool {
	switch c {
	case ' ', '\n', '\r', '\t', '"', '\'', '`', '(', ')', '[', ']', '{', '}', '<', '>', ',', ';',
		'/', ':', '=', '@', '&', '.':
		return true
	}
	return false
}
