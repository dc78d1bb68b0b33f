package edm

import (
	"unicode"
	"unicode/utf8"
)

// foldTable maps lower-case Latin letters with diacritics to their base letters. The standard
// library has no Unicode decomposition and golang.org/x/text is not a dependency of this
// package; the Latin-1 Supplement and Latin Extended-A/B cover the names of European
// customers, and combining marks (decomposed input) are dropped separately.
var foldTable = func() map[rune]string {
	m := map[rune]string{}
	for base, accented := range map[string]string{
		"a": "àáâãäåāăąǎǻȁȃȧǟǡ", "c": "çćĉċč", "d": "ďđð", "e": "èéêëēĕėęěȅȇȩ",
		"g": "ĝğġģǧǵ", "h": "ĥħ", "i": "ìíîïĩīĭįıǐȉȋ", "j": "ĵǰ", "k": "ķǩ", "l": "ĺļľŀł",
		"n": "ñńņňŉǹ", "o": "òóôõöøōŏőǒǿȍȏȯȱȫȭ", "r": "ŕŗřȑȓ", "s": "śŝşšșſ", "t": "ţťŧț",
		"u": "ùúûüũūŭůűųǔǖǘǚǜȕȗ", "w": "ŵ", "y": "ýÿŷȳ", "z": "źżžƶ",
		"ae": "æǽǣ", "oe": "œ", "ss": "ß", "th": "þ", "ij": "ĳ",
	} {
		for _, r := range accented {
			m[r] = base
		}
	}
	return m
}()

// appendFold appends the folded form of the letter or digit r: lower case without diacritics.
func appendFold(b []byte, r rune) []byte {
	r = unicode.ToLower(r)
	if s, ok := foldTable[r]; ok {
		return append(b, s...)
	}
	return utf8.AppendRune(b, r)
}

// word is one run of letters and digits in a text, folded into a shared buffer.
type word struct {
	start, end int // byte span in the text
	off, n     int // folded bytes: buf[off:off+n]
	digits     int // ASCII digits among them
}

// Byte classes, looked up rather than compared: the scanners test several per byte.
const (
	cDigit = 1 << iota
	cLetter
	cAlnum = cDigit | cLetter
)

// class holds cDigit or cLetter for ASCII letters and digits, 0 for any other byte. The other
// sets tested per byte are in flags.
var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-32] = cLetter, cLetter
	}
	return t
}()

const (
	fJoin     = 1 << iota // may sit between two words of one name or text value
	fIDSep                // may sit between two parts of one identifier
	fPhoneGap             // may sit between two groups of a phone number
)

var flags = func() (t [256]uint8) {
	for _, c := range []byte(" \t\r\n,.;:!?-/&") {
		t[c] |= fJoin
	}
	for _, c := range []byte("-_./ :#\\") {
		t[c] |= fIDSep
	}
	for _, c := range []byte(" -.()") {
		t[c] |= fPhoneGap
	}
	return t
}()

func isASCIIAlnum(c byte) bool { return class[c] != 0 }

func isDigit(c byte) bool { return class[c] == cDigit }

func isLetter(c byte) bool { return class[c] == cLetter }

// letterAt reports whether a letter (of any script) starts at s[i].
func letterAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	if s[i] < utf8.RuneSelf {
		return isLetter(s[i])
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// appendWords appends the words of s: maximal runs of letters and digits, case and diacritics
// folded, combining marks and in-word apostrophes dropped (O'Brien is "obrien"), a possessive
// "'s" cut off (Gonzalez's is "gonzalez"). Build and scan both cut text with it, so a cell and
// its mention in a prompt fold to the same words.
func appendWords(ws []word, buf []byte, s string) ([]word, []byte) {
	// The word being cut lives in locals, not a word value: the loop runs per byte and the
	// struct copies were a third of its time.
	in := false
	start, off, digits := 0, 0, 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if class[c] != 0 {
				if !in {
					in, start, off, digits = true, i, len(buf), 0
				}
				// A run of ASCII letters and digits at once: OR 0x20 lower-cases the letters and
				// leaves the digits as they are.
				j := i
				for j < len(s) && class[s[j]] != 0 {
					digits += int(class[s[j]] & cDigit)
					j++
				}
				n := len(buf)
				buf = append(buf, s[i:j]...)
				for k := n; k < len(buf); k++ {
					buf[k] |= 0x20
				}
				i = j
				continue
			}
			if c == '\'' && in {
				if apostrophe(s, i, 1) {
					i++
					continue
				}
				if possessive(s, i, 1) {
					ws = append(ws, word{start: start, end: i, off: off, n: len(buf) - off, digits: digits})
					in = false
					i += 2
					continue
				}
			}
			if in {
				ws = append(ws, word{start: start, end: i, off: off, n: len(buf) - off, digits: digits})
				in = false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\u2019' && in && apostrophe(s, i, size):
		case r == '\u2019' && in && possessive(s, i, size):
			ws = append(ws, word{start: start, end: i, off: off, n: len(buf) - off, digits: digits})
			in = false
			size++
		case unicode.Is(unicode.Mn, r):
			// A combining mark belongs to the letter before it: dropping it strips the diacritic
			// of decomposed text.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !in {
				in, start, off, digits = true, i, len(buf), 0
			}
			buf = appendFold(buf, r)
		default:
			if in {
				ws = append(ws, word{start: start, end: i, off: off, n: len(buf) - off, digits: digits})
				in = false
			}
		}
		i += size
	}
	if in {
		ws = append(ws, word{start: start, end: len(s), off: off, n: len(buf) - off, digits: digits})
	}
	return ws, buf
}

// apostrophe reports whether the apostrophe of width size at s[i] joins two parts of one word
// (O'Brien, D’Angelo) rather than ending a possessive or a quote.
func apostrophe(s string, i, size int) bool {
	return letterAt(s, i+size) && !possessive(s, i, size)
}

// possessive reports whether s[i:] is an apostrophe of width size followed by a lone "s".
func possessive(s string, i, size int) bool {
	j := i + size
	return j < len(s) && s[j]|0x20 == 's' && !letterAt(s, j+1) && (j+1 >= len(s) || !isDigit(s[j+1]))
}
