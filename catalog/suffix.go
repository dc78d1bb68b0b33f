package catalog

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// compile compiles a pattern host's regex and works out the literal suffixes of the hosts it can
// match, which Lookup checks before paying for the regex.
func compile(expr string) (gate, error) {
	if expr == "" {
		return gate{}, fmt.Errorf("missing regex")
	}
	// The catalog promises anchored regexes; requiring the anchors in the text catches a pattern
	// that was written unanchored by mistake. Wrapping anchors every alternative as well (^a|b$
	// would otherwise match any host containing b).
	if !strings.HasPrefix(expr, "^") || !strings.HasSuffix(expr, "$") {
		return gate{}, fmt.Errorf("regex %q is not anchored with ^ and $", expr)
	}
	wrapped := `^(?:` + expr + `)$`
	re, err := regexp.Compile(wrapped)
	if err != nil {
		return gate{}, fmt.Errorf("compile regex: %w", err)
	}
	parsed, err := syntax.Parse(wrapped, syntax.Perl)
	if err != nil {
		return gate{}, fmt.Errorf("parse regex: %w", err)
	}
	var suffixes []string
	for _, t := range tails(parsed.Simplify()) {
		s := t.s
		if t.anchored {
			s = "^" + s
		}
		suffixes = append(suffixes, s)
	}
	return gate{suffixes: minimal(suffixes), re: re}, nil
}

// tail is a literal that ends every string in some share of a regex's language.
type tail struct {
	s string
	// full: the whole string is s, so what precedes it in a concatenation extends the tail.
	full bool
	// anchored: the string starts at the beginning of the text, so it is the whole match.
	anchored bool
}

// maxTails bounds the enumeration of alternatives; past it a regex is treated as having no
// usable suffix, which costs speed, never correctness.
const maxTails = 64

// tails returns literals such that every string re matches ends with one of them. An empty,
// non-anchored tail means nothing is known.
func tails(re *syntax.Regexp) []tail {
	unknown := []tail{{}}
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return unknown
		}
		return []tail{{s: string(re.Rune), full: true}}
	case syntax.OpEmptyMatch, syntax.OpEndText:
		return []tail{{full: true}}
	case syntax.OpBeginText:
		return []tail{{anchored: true}}
	case syntax.OpCharClass:
		// Small classes (such as [35] from us3|us5) are enumerated; large ones end the tail.
		var out []tail
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == 4 {
					return unknown
				}
				out = append(out, tail{s: string(r), full: true})
			}
		}
		return out
	case syntax.OpCapture:
		return tails(re.Sub[0])
	case syntax.OpQuest:
		return append(tails(re.Sub[0]), tail{full: true})
	case syntax.OpStar:
		return append(partial(tails(re.Sub[0])), tail{full: true})
	case syntax.OpPlus:
		return partial(tails(re.Sub[0]))
	case syntax.OpAlternate:
		var out []tail
		for _, sub := range re.Sub {
			out = append(out, tails(sub)...)
			if len(out) > maxTails {
				return unknown
			}
		}
		return out
	case syntax.OpConcat:
		out := []tail{{full: true}}
		for i := len(re.Sub) - 1; i >= 0; i-- {
			var next []tail
			var subTails []tail // computed once, when some tail still extends
			for _, t := range out {
				if !t.full {
					next = append(next, t)
					continue
				}
				if subTails == nil {
					subTails = tails(re.Sub[i])
				}
				for _, st := range subTails {
					next = append(next, tail{s: st.s + t.s, full: st.full, anchored: st.anchored})
				}
			}
			if len(next) > maxTails {
				return unknown
			}
			out = next
		}
		return out
	default:
		// Repeats are gone after Simplify; anything else (., \b, ^ in multi-line mode) ends the
		// tail.
		return unknown
	}
}

func partial(ts []tail) []tail {
	out := make([]tail, len(ts))
	for i, t := range ts {
		out[i] = tail{s: t.s, anchored: t.anchored}
	}
	return out
}

// minimal drops duplicates and suffixes made redundant by a shorter suffix of theirs: a host that
// ends in ".a.b.c" also ends in ".b.c". Anchored entries ("^host") are kept apart since they name
// a whole host.
func minimal(suffixes []string) []string {
	slices.Sort(suffixes)
	suffixes = slices.Compact(suffixes)
	var out []string
	for _, s := range suffixes {
		redundant := false
		for _, o := range suffixes {
			if o != s && !strings.HasPrefix(o, "^") && strings.HasSuffix(strings.TrimPrefix(s, "^"), o) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	return out
}
