package detectors

// WordSet answers "does this value contain (or start with) one of these words?",
// case-insensitively, in one automaton pass. Detectors' gates ask it of every candidate value
// (template markers, labels, known prefixes), where a strings.Contains per word was a large part
// of the generic detectors' time.
type WordSet struct {
	a      *automaton
	maxLen int
}

// NewWordSet builds a set from words (matched case-insensitively; empty words are ignored).
func NewWordSet(words ...string) *WordSet {
	var kws []string
	w := &WordSet{}
	for _, s := range words {
		if s == "" {
			continue
		}
		kws = append(kws, lowerASCII(s))
		w.maxLen = max(w.maxLen, len(s))
	}
	w.a = buildAutomaton(kws)
	return w
}

// In reports whether any word occurs in s.
func (w *WordSet) In(s string) bool {
	_, ok := w.a.first(s, false)
	return ok
}

// Prefix reports whether s starts with one of the words.
func (w *WordSet) Prefix(s string) bool {
	if len(s) > w.maxLen {
		s = s[:w.maxLen]
	}
	_, ok := w.a.first(s, true)
	return ok
}
