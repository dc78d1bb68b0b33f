package fingerprint

import (
	"strings"
)

// The code normaliser is one lexer for every language, used both on indexed files and on
// scanned prompts. A prompt has no file name, so the index side cannot use a per-language lexer
// either: what matters is that both sides cut the same tokens. It drops comments (// and /* */,
// #, "-- " and <!-- -->), whitespace, commas and semicolons (trailing commas and automatic
// semicolon insertion differ between formatters), and import/package/use statements at the start
// of a line; it replaces identifiers that are not keywords of a common language with one
// placeholder and string literals with another (unless KeepStrings). Every other punctuation byte
// is a token of its own, so `a:=b` and `a := b` agree.

const (
	chPunct = iota
	chSpace
	chNewline
	chIdent
	chDigit
	chQuote
	chBacktick
	chSlash
	chHash
	chDash
	chLess
	chDrop
)

var (
	codeClass [256]uint8
	identCont [256]bool
	punctVal  [256]uint64
)

func init() {
	for c := 0; c < 256; c++ {
		punctVal[c] = structural(fmix64(tagPunct + uint64(c)*mul1))
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c < 0x20 && c != '\n':
			codeClass[c] = chSpace
		case c == '\n':
			codeClass[c] = chNewline
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c >= 0x80:
			codeClass[c] = chIdent
			identCont[c] = true
		case c >= '0' && c <= '9':
			codeClass[c] = chDigit
			identCont[c] = true
		case c == '"' || c == '\'':
			codeClass[c] = chQuote
		case c == '`':
			codeClass[c] = chBacktick
		case c == '/':
			codeClass[c] = chSlash
		case c == '#':
			codeClass[c] = chHash
		case c == '-':
			codeClass[c] = chDash
		case c == '<':
			codeClass[c] = chLess
		case c == ',' || c == ';':
			codeClass[c] = chDrop
		}
	}
}

// Skipping modes for import-like statements.
const (
	skipNone = iota
	skipLine
	skipBalanced // to the end of the line where brackets opened in the statement are closed
)

// maxSkip bounds a skipped statement, so that an unbalanced bracket after "use" in prose cannot
// hide the rest of a prompt.
const maxSkip = 8 << 10

// code feeds the tokens of s to wn.
func (wn *winnower) code(s string, keepStrings bool) {
	n := len(s)
	lineStart := true
	skip, depth, skipFrom := skipNone, 0, 0
	// unterminated[q]: every opening of quote kind q before this offset is known to be
	// unterminated, so it is a punctuation token without rescanning (keeps the lexer linear).
	var unterminated [7]int
	const (
		qDouble = iota
		qSingle
		qTripleDouble
		qTripleSingle
		qBacktick
		qBlock  // /* */
		qMarkup // <!-- -->
	)
	batch := wn.batch[:0]
	i := 0
	for i < n {
		c := s[i]
		cl := codeClass[c]
		switch cl {
		case chSpace:
			i++
			continue
		case chNewline:
			i++
			lineStart = true
			if skip != skipNone && (depth <= 0 || i-skipFrom > maxSkip) {
				skip, depth = skipNone, 0
			}
			continue
		case chDrop:
			i++
			continue
		case chSlash:
			if i+1 < n && s[i+1] == '/' {
				i = lineEnd(s, i)
				continue
			}
			if i+1 < n && s[i+1] == '*' && i >= unterminated[qBlock] {
				if e := strings.Index(s[i+2:], "*/"); e >= 0 {
					i += 2 + e + 2
					continue
				}
				// "/*" in prose ("rm /tmp/*") must not hide the rest of the text
				unterminated[qBlock] = n
			}
		case chHash:
			i = lineEnd(s, i)
			continue
		case chDash:
			if i+1 < n && s[i+1] == '-' && (i == 0 || isSpace(s[i-1])) && (i+2 == n || isSpace(s[i+2])) {
				i = lineEnd(s, i)
				continue
			}
		case chLess:
			if strings.HasPrefix(s[i:], "<!--") && i >= unterminated[qMarkup] {
				if e := strings.Index(s[i+4:], "-->"); e >= 0 {
					i += 4 + e + 3
					continue
				}
				unterminated[qMarkup] = n
			}
		}
		start := i
		atLineStart := lineStart
		lineStart = false
		var v uint64
		switch cl {
		case chIdent:
			j := i + 1
			for j < n && identCont[s[j]] {
				j++
			}
			word := s[i:j]
			i = j
			if atLineStart && skip == skipNone {
				if m := importStmt(word, s[j:]); m != skipNone {
					skip, depth, skipFrom = m, 0, start
					continue
				}
			}
			if kv, ok := keyword(word); ok {
				v = kv
			} else {
				v = identVal
			}
		case chDigit:
			j := i + 1
			for j < n && (identCont[s[j]] || s[j] == '.') {
				j++
			}
			v = structural(hashASCII(s[i:j], true, tagNumber))
			i = j
		case chQuote, chBacktick:
			q, close := qDouble, c
			switch {
			case c == '`' && strings.HasPrefix(s[i:], "```"):
				// a Markdown fence (and its language tag) in a prompt is not code
				i = lineEnd(s, i)
				lineStart = true
				continue
			case c == '`':
				q = qBacktick
			case c == '"' && i+2 < n && s[i+1] == c && s[i+2] == c:
				q = qTripleDouble
			case c == '\'' && i+2 < n && s[i+1] == c && s[i+2] == c:
				q = qTripleSingle
			case c == '\'':
				q = qSingle
			}
			end := -1 // offset just past the closing quote
			if i >= unterminated[q] {
				switch q {
				case qBacktick:
					if e := strings.IndexByte(s[i+1:], '`'); e >= 0 {
						end = i + 1 + e + 1
					}
				case qTripleDouble, qTripleSingle:
					if e := strings.Index(s[i+3:], s[i:i+3]); e >= 0 {
						end = i + 3 + e + 3
					}
				default:
					end = quoted(s, i+1, close)
				}
				if end < 0 {
					if q == qDouble || q == qSingle {
						unterminated[q] = lineEnd(s, i)
					} else {
						unterminated[q] = n
					}
				}
			}
			isTriple := q == qTripleDouble || q == qTripleSingle
			if end < 0 && isTriple {
				// """ with no closing """ is an empty string followed by a lone quote
				end, isTriple = i+2, false
			}
			if end < 0 {
				v = punctVal[c]
				i++
				break
			}
			if keepStrings {
				body := s[i+1 : end-1]
				if isTriple {
					body = s[i+3 : end-3]
				}
				v = structural(hashASCII(body, false, tagString))
			} else {
				v = stringVal
			}
			i = end
		default:
			v = punctVal[c]
			i++
		}
		if skip != skipNone {
			if skip == skipBalanced {
				switch c {
				case '(', '{', '[':
					depth++
				case ')', '}', ']':
					depth--
				}
			}
			if i-skipFrom > maxSkip {
				skip, depth = skipNone, 0
			}
			continue
		}
		batch = append(batch, tok{v, start, i})
		if len(batch) == batchLen {
			wn.feed(batch)
			batch = batch[:0]
		}
	}
	wn.batch = batch
}

// quoted returns the offset past the closing quote of a one-line string starting before from,
// honouring backslash escapes, or -1 when the line ends first.
func quoted(s string, from int, q byte) int {
	for j := from; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j + 1
		case '\n':
			return -1
		}
	}
	return -1
}

// lineEnd returns the offset of the newline ending the line holding i (or len(s)).
func lineEnd(s string, i int) int {
	if e := strings.IndexByte(s[i:], '\n'); e >= 0 {
		return i + e
	}
	return len(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// importStmt says whether a line starting with word is an import-like statement, and how far it
// runs. Imports are the same in every file of a project and name public packages: they are
// boilerplate, and a renamed import alias must not change the prints of the code below it.
func importStmt(word, rest string) int {
	switch word {
	case "import", "from", "use":
		r := strings.TrimLeft(rest, " \t")
		if r == "" || r[0] == '.' || r[0] == ':' || r[0] == '=' {
			return skipNone // import.meta, use::, from = 1
		}
		return skipBalanced
	case "package", "using":
		r := strings.TrimLeft(rest, " \t")
		if r == "" || r[0] == '(' || r[0] == '=' || r[0] == '.' || r[0] == ':' {
			return skipNone // using (...) is a statement; package = 1 an assignment
		}
		return skipLine
	}
	return skipNone
}
