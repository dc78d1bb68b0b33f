package fingerprint

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The document normaliser cuts words: runs of letters and digits (any script; marks stay with
// their letter), case-folded. Punctuation, markup and whitespace only separate words. Han, kana
// and other scripts written without spaces give one token per character. Paragraphs (blank-line
// separated) that carry a licence or copyright notice are dropped whole: such notices are the
// same in countless documents, so they could only ever produce false matches.

// docWord: ASCII letters and digits (bytes >= 0x80 are looked at as runes)
var docWord [256]bool

func init() {
	for c := 0; c < 128; c++ {
		docWord[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
}

// licencePhrases mark boilerplate paragraphs. Each is specific enough not to occur in prose that
// merely talks about licensing. A phrase is looked for at its rarest word (after the |), so the
// per-word check is one bit test that almost always fails.
var licencePhrases = []struct {
	words  []uint64
	anchor int
}{}

// licenceAnchor has bit (v mod 4096) set for each anchor word.
var licenceAnchor [64]uint64

func init() {
	for _, p := range []string{
		"all rights |reserved",
		"permission is |hereby granted",
		"|licensed under the apache license",
		"|licensed under the mit license",
		"|gnu general public license",
		"|gnu lesser general public license",
		"|gnu affero general public license",
		"|mozilla public license",
		"creative |commons attribution",
		"|spdx license identifier",
		"|redistribution and use in source and binary forms",
		"this program is |free software",
		"the software is |provided as is",
		"provided by the copyright |holders and contributors",
		"use of this source code is |governed by",
		"|copyright c",
	} {
		var words []uint64
		anchor := 0
		for i, w := range strings.Fields(p) {
			if w[0] == '|' {
				w, anchor = w[1:], i
			}
			words = append(words, hashASCII(w, true, tagWord))
		}
		licencePhrases = append(licencePhrases, struct {
			words  []uint64
			anchor int
		}{words, anchor})
		a := words[anchor] & 4095
		licenceAnchor[a>>6] |= 1 << (a & 63)
	}
}

func (wn *winnower) document(s string) {
	n := len(s)
	para := wn.para[:0]
	i := 0
	for i < n {
		c := s[i]
		switch {
		case c < utf8.RuneSelf && !docWord[c]:
			if c == '\n' && blankLineAfter(s, i+1) {
				wn.flushParagraph(s, para)
				para = para[:0]
			}
			i++
			continue
		case c < utf8.RuneSelf:
			j := i + 1
			for j < n && docWord[s[j]] {
				j++
			}
			if j < n && s[j] >= utf8.RuneSelf {
				if r, _ := utf8.DecodeRuneInString(s[j:]); wordRune(r) && !soloRune(r) {
					v, e := foldWord(s, i) // an ASCII start of a word with accents
					para = append(para, tok{v, i, e})
					i = e
					break
				}
			}
			para = append(para, tok{hashWordAt(s, i, j), i, j})
			i = j
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case soloRune(r):
				para = append(para, tok{fmix64(tagWord ^ uint64(unicode.ToLower(r))*mul1), i, i + size})
				i += size
			case wordRune(r):
				v, e := foldWord(s, i)
				para = append(para, tok{v, i, e})
				i = e
			default:
				i += size
			}
		}
		if len(para) >= maxParaWords {
			wn.flushParagraph(s, para)
			para = para[:0]
		}
	}
	wn.flushParagraph(s, para)
	wn.para = para[:0]
}

// blankLineAfter reports whether the line starting at i holds only spaces.
func blankLineAfter(s string, i int) bool {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r':
		case '\n':
			return true
		default:
			return false
		}
	}
	return true
}

func wordRune(r rune) bool {
	return r < utf8.RuneSelf && docWord[r] || r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
}

// soloRune is a character of a script written without spaces between words.
func soloRune(r rune) bool {
	return r >= 0x2e80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r))
}

// foldWord hashes the word starting at i that holds a non-ASCII letter, rune by rune, lower-cased.
// A word that is all ASCII never comes here, so each word has one hash.
func foldWord(s string, i int) (uint64, int) {
	h := uint64(tagWord ^ 0x5bd1e995)
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !wordRune(r) || soloRune(r) {
			break
		}
		h = mix(h, uint64(unicode.ToLower(r)))
		i += size
	}
	return fmix64(h), i
}

// maxNoticeWords is the longest paragraph dropped whole for a licence phrase. In a longer one
// (a pasted document whose blank lines were lost) only the lines holding a phrase are dropped, so
// a copyright line cannot hide the text around it.
const maxNoticeWords = 200

// maxParaWords bounds the paragraph buffer: a longer paragraph is checked in pieces of this
// many words (a phrase across two pieces is missed, which costs nothing but a licence line).
const maxParaWords = 4096

func (wn *winnower) flushParagraph(s string, para []tok) {
	at, plen, anchor := licenceAt(para, 0)
	if at < 0 {
		wn.feed(para)
		return
	}
	if len(para) <= maxNoticeWords {
		return
	}
	// byte range of the lines dropped for the phrases seen so far; searches for line ends stay
	// within the paragraph and behind the previous range, so that the work is linear
	lo, hi := para[0].start, para[len(para)-1].end
	skipFrom, skipTo := lo, lo
	for i, t := range para {
		for at >= 0 && at <= i {
			if p := para[at].start; p >= skipTo {
				skipFrom = skipTo + strings.LastIndexByte(s[skipTo:p], '\n') + 1
			}
			if last := para[at+plen-1].start; last >= skipTo {
				// the phrase may wrap onto the next line
				skipTo = hi
				if e := strings.IndexByte(s[last:hi], '\n'); e >= 0 {
					skipTo = last + e
				}
			}
			at, plen, anchor = licenceAt(para, anchor+1)
		}
		if t.start >= skipFrom && t.start < skipTo {
			continue
		}
		wn.push(t.v, t.start, t.end)
	}
	wn.feed(wn.batch) // before the next paragraph, which is fed directly
	wn.batch = wn.batch[:0]
}

// licenceAt finds the first licence phrase whose anchor word is at or after token from: it
// returns the index of the phrase's first token, its length and the anchor's index (at = -1:
// none).
func licenceAt(para []tok, from int) (at, length, anchor int) {
	for i := from; i < len(para); i++ {
		v := para[i].v
		if a := v & 4095; licenceAnchor[a>>6]&(1<<(a&63)) == 0 {
			continue
		}
	phrases:
		for _, p := range licencePhrases {
			at := i - p.anchor
			if v != p.words[p.anchor] || at < 0 || at+len(p.words) > len(para) {
				continue
			}
			for j, w := range p.words {
				if para[at+j].v != w {
					continue phrases
				}
			}
			return at, len(p.words), i
		}
	}
	return -1, 0, 0
}
