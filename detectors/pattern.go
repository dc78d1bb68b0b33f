package detectors

import (
	"fmt"
	"regexp"
)

// Pattern is a detector defined by data: a regular expression run only in a small window at each
// hit of its keywords, anchored at the hit, with an optional validator, entropy gate and
// placeholder list. Most secret formats are one of these.
type Pattern struct {
	M Meta
	// Regexp (RE2) is matched at each keyword hit (it is anchored there: write it to start with
	// the keyword, e.g. `(?i)akia[0-9A-Z]{16}` or `ghp_[0-9A-Za-z]{36}`), or Back bytes before it.
	Regexp string
	Group  int // submatch that holds the sensitive value; 0 = the whole match
	Window int // bytes from the hit the match may span; default 512
	// Back lets a match begin up to Back bytes before the keyword hit, for formats whose keyword
	// sits inside them (the "@" of an e-mail, "://" of a URI with a password). The regexp is then
	// tried from each of those starts, so keep Back small.
	Back int
	// Boundary requires that the character before the match and the one after it cannot be part
	// of a token ([0-9A-Za-z_]), so that "xghp_…" or a key glued to more base62 is not taken.
	Boundary bool
	// Validate checks the value offline (checksum, structure); nil accepts every match.
	Validate func(value string) bool
	// MinEntropy is the least Shannon entropy, in bits per character, the value must have;
	// 0 turns the gate off. It keeps "password = changeme" out of generic detectors.
	MinEntropy float64
	// Placeholders are values (compared case-insensitively, whole) known from documentation
	// and templates, such as AKIAIOSFODNN7EXAMPLE; they are never reported.
	Placeholders []string
	// Confidence of a match; 0 means 1.
	Confidence float64

	re          *regexp.Regexp
	placeholder map[string]bool
}

var _ Detector = (*Pattern)(nil)

// Compile checks and prepares the pattern; Engine calls it when it is built.
func (p *Pattern) Compile() error {
	if p.re != nil {
		return nil
	}
	re, err := regexp.Compile(`^(?:` + p.Regexp + `)`)
	if err != nil {
		return fmt.Errorf("detector %s: %w", p.M.ID, err)
	}
	if p.Group < 0 || p.Group > re.NumSubexp() {
		return fmt.Errorf("detector %s: group %d out of range", p.M.ID, p.Group)
	}
	if len(p.M.Keywords) == 0 {
		return fmt.Errorf("detector %s: a pattern needs keywords", p.M.ID)
	}
	if p.Window <= 0 {
		p.Window = 512
	}
	p.placeholder = make(map[string]bool, len(p.Placeholders))
	for _, v := range p.Placeholders {
		p.placeholder[lowerASCII(v)] = true
	}
	p.re = re
	return nil
}

// Meta describes the detector.
func (p *Pattern) Meta() Meta { return p.M }

// Find runs the pattern at each keyword hit.
func (p *Pattern) Find(text string, hits []int, emit func(Match)) {
	last := -1 // end of the last match: hits inside it are the same value again
	for _, h := range hits {
		if h < last {
			continue
		}
		for start := h; start >= 0 && start >= h-p.Back; start-- {
			if start < last {
				break
			}
			end := min(len(text), start+p.Window)
			loc := p.re.FindStringSubmatchIndex(text[start:end])
			if loc == nil {
				continue
			}
			vs, ve := loc[2*p.Group], loc[2*p.Group+1]
			if vs < 0 {
				continue
			}
			ms, me := start+loc[0], start+loc[1]
			if p.Boundary && (ms > 0 && isTokenByte(text[ms-1]) || me < len(text) && isTokenByte(text[me])) {
				continue
			}
			v := text[start+vs : start+ve]
			if !p.accept(v) {
				continue
			}
			conf := p.Confidence
			if conf == 0 {
				conf = 1
			}
			emit(Match{Start: start + vs, End: start + ve, Confidence: conf})
			last = me
			break
		}
	}
}

func (p *Pattern) accept(v string) bool {
	if v == "" || p.placeholder[lowerASCII(v)] || IsPlaceholder(v) {
		return false
	}
	if p.MinEntropy > 0 && Entropy(v) < p.MinEntropy {
		return false
	}
	return p.Validate == nil || p.Validate(v)
}

// isTokenByte: characters that continue a key or token, so a match glued to them is a fragment
// of something longer, not the secret itself. Punctuation ('=', '/', '-', quotes) ends a token:
// TOKEN=ghp_… and https://…/ghp_… must still be found.
func isTokenByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
