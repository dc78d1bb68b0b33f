package fingerprint

import (
	"strings"
)

// gitignore patterns, as git reads them (gitignore(5)): blank lines and #comments skipped, a
// leading ! negates, a trailing / matches directories only, a pattern with a slash other than
// at the end is relative to the file's directory, one without matches a name at any depth; *
// and ? do not cross /, ** does: "**/x" at any depth, "x/**" everything inside, "a/**/b" zero or
// more directories between. The last matching pattern wins.

type ignorePattern struct {
	neg, dirOnly, anchored bool
	segs                   []string // the pattern's /-separated segments; one when not anchored
}

// ignoreList is the patterns of one file, relative to the directory base ("" for the root).
type ignoreList struct {
	base     string
	patterns []ignorePattern
	operator bool // the operator's Options.Ignore rather than a .gitignore
}

func parseIgnore(base string, text string) ignoreList {
	l := ignoreList{base: base}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if p, ok := parseIgnoreLine(line); ok {
			l.patterns = append(l.patterns, p)
		}
	}
	return l
}

func parseIgnoreLine(line string) (ignorePattern, bool) {
	// trailing spaces are ignored unless escaped with a backslash
	for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\\ ") {
		line = line[:len(line)-1]
	}
	if line == "" || line[0] == '#' {
		return ignorePattern{}, false
	}
	var p ignorePattern
	if line[0] == '!' {
		p.neg, line = true, line[1:]
	} else if strings.HasPrefix(line, "\\!") || strings.HasPrefix(line, "\\#") {
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly, line = true, strings.TrimRight(line, "/")
	}
	if strings.HasPrefix(line, "/") {
		p.anchored, line = true, strings.TrimLeft(line, "/")
	}
	if line == "" {
		return ignorePattern{}, false
	}
	if strings.Contains(line, "/") {
		p.anchored = true
	}
	if p.anchored {
		p.segs = strings.Split(line, "/")
	} else {
		p.segs = []string{line}
	}
	return p, true
}

// match reports whether the pattern matches rel, a path relative to the list's base.
func (p *ignorePattern) match(rel string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	if !p.anchored {
		return globSegment(p.segs[0], rel[strings.LastIndexByte(rel, '/')+1:])
	}
	return matchSegments(p.segs, strings.Split(rel, "/"))
}

// matchSegments matches pattern segments against path segments, ** matching any number of
// them, by dynamic programming over (pattern, path) positions so that many ** stay polynomial.
func matchSegments(ps, ns []string) bool {
	// ok[j]: ps[i:] matches ns[j:], computed from the last pattern segment backwards
	ok := make([]bool, len(ns)+1)
	ok[len(ns)] = true
	next := make([]bool, len(ns)+1)
	for i := len(ps) - 1; i >= 0; i-- {
		clear(next)
		if ps[i] == "**" {
			// zero or more segments; a trailing ** ("x/**") matches one or more
			atEnd := i == len(ps)-1
			for j := len(ns); j >= 0; j-- {
				switch {
				case atEnd:
					next[j] = j < len(ns)
				default:
					next[j] = ok[j] || j < len(ns) && next[j+1]
				}
			}
		} else {
			for j := len(ns) - 1; j >= 0; j-- {
				next[j] = ok[j+1] && globSegment(ps[i], ns[j])
			}
		}
		ok, next = next, ok
	}
	return ok[0]
}

// globSegment matches one path segment against a glob of *, ?, [...] and \ escapes. Like git's
// wildmatch it works on bytes (? is one byte). * is matched by the classic single-backtrack
// loop: linear in practice, quadratic at worst.
func globSegment(pat, name string) bool {
	pi, ni := 0, 0
	starP, starN := -1, 0
	for ni < len(name) {
		if pi < len(pat) {
			switch c := pat[pi]; c {
			case '*':
				for pi < len(pat) && pat[pi] == '*' {
					pi++
				}
				starP, starN = pi, ni
				continue
			case '?':
				pi++
				ni++
				continue
			case '[':
				if ok, width, valid := matchClass(pat[pi:], name[ni]); valid {
					if ok {
						pi += width
						ni++
						continue
					}
				} else if name[ni] == '[' { // an unclosed [ is literal
					pi++
					ni++
					continue
				}
			case '\\':
				if pi+1 < len(pat) && pat[pi+1] == name[ni] {
					pi += 2
					ni++
					continue
				}
			default:
				if c == name[ni] {
					pi++
					ni++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starN++
		pi, ni = starP, starN
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

// matchClass matches c against the bracket expression at the start of pat. It returns whether c
// matches, the expression's width, and whether the expression is closed.
func matchClass(pat string, c byte) (ok bool, width int, valid bool) {
	i := 1
	neg := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		neg = true
		i++
	}
	first := true
	for i < len(pat) {
		if pat[i] == ']' && !first {
			return ok != neg, i + 1, true
		}
		first = false
		lo := pat[i]
		if lo == '\\' && i+1 < len(pat) {
			i++
			lo = pat[i]
		}
		hi := lo
		if i+2 < len(pat) && pat[i+1] == '-' && pat[i+2] != ']' {
			hi = pat[i+2]
			if hi == '\\' && i+3 < len(pat) {
				hi = pat[i+3]
				i++
			}
			i += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
		i++
	}
	return false, 0, false
}

// ignored evaluates the lists, outermost first, against rel (relative to the tree root). It
// returns whether the path is ignored and whether the deciding pattern was the operator's.
func ignored(lists []ignoreList, rel string, isDir bool) (bool, bool) {
	ign, byOperator := false, false
	for i := range lists {
		l := &lists[i]
		r := rel
		if l.base != "" {
			var ok bool
			if r, ok = strings.CutPrefix(rel, l.base+"/"); !ok {
				continue
			}
		}
		for j := range l.patterns {
			p := &l.patterns[j]
			if p.match(r, isDir) {
				ign, byOperator = !p.neg, l.operator
			}
		}
	}
	return ign, byOperator
}
