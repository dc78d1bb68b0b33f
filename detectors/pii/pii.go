// Package pii holds customs' personal-data detectors (payment cards, IBANs, national IDs of 22
// countries, e-mail addresses, phone numbers, passport numbers) and the infrastructure-leak
// detectors (private IP addresses, internal host names).
//
// None of them uses a regular expression over the text: a measured regexp for these shapes ran at
// 4–35 MB/s, while the hand-written passes here run at hundreds of MB/s. Formats without a literal
// prefix are single-pass scanners over digit runs (one word-at-a-time skip over everything that
// is not a digit, then a small parser at each run); formats that are weak on their own (a
// 9-digit BSN passes its 11-proof one time in eleven) are keyword detectors: they look for the
// number only in a window around a context word such as "BSN" or "Steuer-ID", so they cost
// nothing on text without those words. Every value is validated offline (Luhn and IIN ranges,
// IBAN mod-97 and per-country structure, SSN area/group/serial, check characters and check
// digits).
//
// Well-known test and documentation values are not reported unless Options.ReportTestValues is
// set: the payment processors' test cards (4111 1111 1111 1111, 4242 4242 4242 4242, 5555 5555
// 5555 4444, 378282246310005 and the rest of testCards), the example IBANs of banks and the
// ECBS (DE89 3704 0044 0532 0130 00, GB82 WEST 1234 5698 7654 32, …; ibanExamples), the SSNs
// 078-05-1120, 219-09-9999 and 123-45-6789, the textbook codice fiscale RSSMRA85T10A562S, the BSN
// test numbers 111222333 and 123456782, the HETU 131052-308T, and the private addresses every
// user of a product shares (100.100.100.100) or Go's net/netip documents. Always dropped,
// whatever the options: addresses at reserved documentation domains (example.com, *.test),
// placeholder values (one repeated digit, 123456789…), made-up private addresses (10.0.0.1,
// 192.168.1.x) and e-mail addresses in attribution (copyright lines, author lists, commit
// trailers, the contributors and maintainers of a package manifest, the "Contributors:" list of a
// licence file; a "Name <mail>" list under no such heading is still reported).
//
// Real code is full of shapes like these; the scanners stay silent on hex dumps and byte
// tables (06 01 05 05 07 next to 4b or 0x1f is bytes, not a phone number), tables of long
// constants, member-access chains that end in .local or .internal (attr.Name.Local), and
// link-local or network addresses that name no host. `make eval` measures this on
// $(go env GOROOT)/src (go run ./internal/eval/cmd/eval --fp-detail, --code DIR for another tree),
// and internal/eval's TestGorootFalsePositives holds the rate in make test-long.
package pii

import (
	"math/bits"
	"slices"

	"github.com/customs-dev/customs/detectors"
)

// Options change what the detectors report.
type Options struct {
	// ReportTestValues reports the well-known test and documentation values that are
	// suppressed by default (see the package documentation): for a red-team exercise that
	// plants them, or to check that a pipeline sees them at all.
	ReportTestValues bool
}

// known reports whether a value that is on a list of published test values is to be dropped.
func (o Options) known(listed bool) bool { return listed && !o.ReportTestValues }

// Detectors returns the personal-data and infrastructure detectors, most specific first, with
// the default options.
func Detectors() ([]detectors.Detector, error) { return DetectorsWith(Options{}) }

// DetectorsWith returns the personal-data and infrastructure detectors built with opts.
func DetectorsWith(o Options) ([]detectors.Detector, error) {
	return []detectors.Detector{
		cardDetector(o),
		ibanDetector(o),
		ssnDetector(o),
		ninoDetector(),
		nirDetector(),
		steuerIDDetector(),
		dniDetector(),
		codiceFiscaleDetector(o),
		bsnDetector(o),
		peselDetector(),
		beNationalNumberDetector(),
		personnummerDetector(),
		hetuDetector(o),
		fodselsnummerDetector(),
		cprDetector(),
		ahvDetector(),
		ppsDetector(),
		ptCCDetector(),
		svnrDetector(),
		cpfDetector(),
		curpDetector(),
		aadhaarDetector(),
		cnpDetector(),
		isikukoodDetector(),
		passportDetector(),
		emailDetector(),
		phoneDetector(),
		privateIPDetector(o),
		internalHostDetector(),
	}, nil
}

// runScanner is a detector without keywords: Find walks the digit runs of the text once and
// hands each to at, which reports what it finds there and returns where to continue (at least
// the end of the run, so the pass is linear).
type runScanner struct {
	meta detectors.Meta
	// at examines the digit run text[i:j] (text[i] is its first digit).
	at func(text string, i, j int, emit func(detectors.Match)) int
	// terms are at's first checks, on the bytes around the run and its length alone (see
	// detectors.RunFilter); none: every run.
	terms []detectors.RunTerm
}

var (
	_ detectors.Detector  = (*runScanner)(nil)
	_ detectors.RunFilter = (*runScanner)(nil)
)

func (d *runScanner) RunTerms() []detectors.RunTerm {
	if len(d.terms) == 0 {
		return []detectors.RunTerm{{}}
	}
	return d.terms
}

// term is a RunTerm from its two sides (nil: any byte).
func term(prev, next func(b byte, n int) bool) detectors.RunTerm {
	return detectors.RunTerm{Prev: prev, Next: next}
}

// mayStart is startOK seen from the byte before a value alone: a word byte glues, unless it is
// the n, t or r of an escaped line break or tab (which startOK checks with the byte before it).
func mayStart(prev byte) bool {
	return !isWordByte(prev) || prev == 'n' || prev == 't' || prev == 'r'
}

// startTerms are the terms of a value that starts at its run, where startOK must hold: prev and
// next are its other conditions on the bytes around the run, next2 on the byte after next's. By
// the byte before the run they split into startOK's cases, each with its condition on the byte
// before that one: a date, a time or a version (2024-01-15, 10:30, 1.2.3) continues a number,
// and a letter glues unless it is the n, t or r of an escape (\n).
func startTerms(prev, next func(byte, int) bool, next2 func(byte) bool) []detectors.RunTerm {
	joins := func(p byte) bool {
		return p == '-' || p == '/' || p == '.' || p == ':' || p == 'n' || p == 't' || p == 'r'
	}
	cases := []struct{ prev, prev2 func(byte) bool }{
		{func(p byte) bool { return !joins(p) }, nil},
		{func(p byte) bool { return p == '-' || p == '/' }, func(b byte) bool { return !isAlnum(b) }},
		{func(p byte) bool { return p == '.' || p == ':' }, func(b byte) bool { return !isDigit(b) }},
		{func(p byte) bool { return p == 'n' || p == 't' || p == 'r' }, func(b byte) bool { return b == '\\' }},
	}
	ts := make([]detectors.RunTerm, 0, len(cases))
	for _, c := range cases {
		ts = append(ts, detectors.RunTerm{
			Prev:  func(p byte, n int) bool { return c.prev(p) && prev(p, n) },
			Next:  next,
			Prev2: c.prev2,
			Next2: next2,
		})
	}
	return ts
}

func (d *runScanner) Meta() detectors.Meta { return d.meta }

func (d *runScanner) Find(text string, _ []int, emit func(detectors.Match)) {
	n := len(text)
	i := 0
	for i+8 <= n {
		// nextDigit, inlined: most of the text is skipped here eight bytes at a time.
		x := load64(text, i)
		t := x & (lsb * 127)
		r := (lsb*(127+':') - t) & ^x & (t + lsb*(127-'/')) & msb
		if r == 0 {
			i += 8
			continue
		}
		p := i + bits.TrailingZeros64(r)/8
		i = d.FindRun(text, p, runEnd(text, p), emit)
	}
	for ; i < n; i++ {
		if isDigit(text[i]) {
			i = d.FindRun(text, i, runEnd(text, i), emit) - 1
		}
	}
}

// FindRun examines the digit run text[start:end] (a maximal run of ASCII digits) and returns
// where the scan must continue, at least end. Find(text, nil, emit) is exactly: for each digit
// run of text in order, skipping those that start before the position the previous call
// returned, call FindRun. An engine that walks the digit runs once for several detectors can
// call FindRun itself (it is the method set { FindRun(string, int, int, func(Match)) int })
// and spare each of them its own pass over the text, which is most of their cost on prose.
func (d *runScanner) FindRun(text string, start, end int, emit func(detectors.Match)) int {
	return max(d.at(text, start, end, emit), end)
}

// nearWord is a detector for a weak format that is only reported next to a context word, its
// keywords: at each keyword hit it looks for a value starting in the window from before bytes
// ahead of the hit to after bytes past it.
type nearWord struct {
	meta          detectors.Meta
	before, after int
	// at parses a value at the digit run text[i:j]; it returns the value's span and ok.
	at func(text string, i, j int) (start, end int, ok bool)
	// confidence of a value found next to the context word.
	confidence float64
	// wordStart: a keyword counts only at the start of a word (PPS, not the pps of apps).
	wordStart bool
}

var _ detectors.Detector = (*nearWord)(nil)

func (d *nearWord) Meta() detectors.Meta { return d.meta }

func (d *nearWord) Find(text string, hits []int, emit func(detectors.Match)) {
	n := len(text)
	done := 0 // text before done has been examined
	for _, h := range hits {
		if h < 0 || h >= n || d.wordStart && h > 0 && isAlpha(text[h-1]) {
			continue
		}
		if h >= done {
			if col, sep, _, le, ok := headerColumn(text, h); ok {
				// A column name: the values are in that column of the rows below.
				done = columnValues(text, le, col, sep, func(fs, fe int) {
					for i := nextDigit(text, fs); i < fe; i = nextDigit(text, i) {
						j := runEnd(text, i)
						if s, e, ok := d.at(text, i, j); ok && e <= fe {
							emit(detectors.Match{Start: s, End: e, Confidence: d.confidence})
							j = max(j, e)
						}
						i = j
					}
				})
				continue
			}
		}
		lo := max(h-d.before, done)
		hi := min(n, h+d.after)
		if lo >= hi {
			continue
		}
		// Start at a run boundary: a run cut by the window's edge is not a value.
		if lo > 0 && isDigit(text[lo]) && isDigit(text[lo-1]) {
			lo = runEnd(text, lo)
		}
		i := nextDigit(text, lo)
		for i < hi {
			j := runEnd(text, i)
			if s, e, ok := d.at(text, i, j); ok {
				emit(detectors.Match{Start: s, End: e, Confidence: d.confidence})
				j = max(j, e)
			}
			i = nextDigit(text, j)
		}
		done = max(hi, min(i, n))
	}
}

// Byte classes.

func isDigit(c byte) bool { return c-'0' < 10 }
func isUpper(c byte) bool { return c-'A' < 26 }
func isAlpha(c byte) bool { return (c|0x20)-'a' < 26 }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// isWordByte: a byte that continues an identifier, so a number glued to it is part of something
// longer (order_4111…, x9, 123abc).
func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

// isJoin: bytes that join digit groups into one longer number or structure (a date, a version,
// an IP address, a time): a candidate glued to one of these and a digit is a fragment.
func isJoin(c byte) bool { return c == '-' || c == '.' || c == '/' || c == ':' }

// startOK reports whether a value may start at s: it is not glued to a word or to a longer
// number on its left. A comma never glues (CSV fields, lists); '-' and '/' glue to any letter
// or digit (ORD-4111…, /orders/4111…), '.' and ':' only to a digit (1.5, 10:30; but "No.",
// "card:").
func startOK(text string, s int) bool {
	if s == 0 {
		return true
	}
	c := text[s-1]
	if isWordByte(c) {
		// \n, \t, \r: an escaped line break or tab in raw JSON separates like the real one.
		return s >= 2 && text[s-2] == '\\' && (c == 'n' || c == 't' || c == 'r')
	}
	if s >= 2 {
		p := text[s-2]
		switch c {
		case '-', '/':
			return !isAlnum(p)
		case '.', ':':
			return !isDigit(p)
		}
	}
	return true
}

// afterGroup reports whether the run at s follows, after one space or dash, a short token of
// upper-case letters and digits in a chain that holds a digit ("SE96 5587 …", "GB43 LOYD 0029
// …", "1234 5678 …"): the run is then a middle group of a longer grouped number (an IBAN, an
// account number), not the start of a value.
func afterGroup(text string, s int) bool {
	for tokens := 0; tokens < 2; tokens++ {
		if s < 3 || text[s-1] != ' ' && text[s-1] != '-' {
			return false
		}
		k, digit, lower := s-1, false, false
		for k > 0 && s-1-k < 6 && isAlnum(text[k-1]) {
			k--
			digit = digit || isDigit(text[k])
			lower = lower || isAlpha(text[k]) && !isUpper(text[k])
		}
		l := s - 1 - k
		if l < 2 || l > 5 || k > 0 && (isWordByte(text[k-1]) || text[k-1] == '+') || lower && (!digit || tokens > 0) {
			return false // a lower-case group counts only as an IBAN's first one (de89 …)
		}
		if digit {
			return true
		}
		s = k // an all-letter group (WEST, LOYD): look one further back
	}
	return false
}

// endOK reports whether a value may end at e: it is not glued to a word or continued as a
// longer number on its right (-123, .5, /2024, :30). A comma ends a value (CSV).
func endOK(text string, e int) bool {
	if e >= len(text) {
		return true
	}
	c := text[e]
	if isWordByte(c) {
		return false
	}
	return !isJoin(c) || e+1 >= len(text) || !isDigit(text[e+1])
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// nextDigit returns the index of the first ASCII digit in s at or after i, or len(s).
func nextDigit(s string, i int) int { return detectors.NextDigit(s, i) }

// load64 reads s[i:i+8] as a little-endian word (the compiler merges the byte loads into one).
func load64(s string, i int) uint64 {
	b := s[i : i+8]
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// runEnd returns the end of the digit run starting at i.
func runEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// groups are digit groups read by readGroups: "4111 1111 1111 1111" is four groups of four
// joined by spaces.
type groups struct {
	s, e   [8]int  // group k is text[s[k]:e[k]]
	sep    [8]byte // sep[k] joins group k and k+1
	n      int
	digits int
	more   bool // the text continues with digits that did not fit
	// moreSep is the separator before the group that did not fit (0: the last group itself
	// ran on).
	moreSep byte
}

func (g *groups) len(k int) int { return g.e[k] - g.s[k] }

// end of the first k groups.
func (g *groups) end(k int) int { return g.e[k-1] }

// sameSep reports whether the first k groups are joined by one separator (or k == 1).
func (g *groups) sameSep(k int) bool {
	for x := 1; x < k-1; x++ {
		if g.sep[x] != g.sep[0] {
			return false
		}
	}
	return true
}

// compact copies the digits of the first k groups into buf and returns them.
func (g *groups) compact(text string, k int, buf []byte) []byte {
	buf = buf[:0]
	for x := 0; x < k; x++ {
		buf = append(buf, text[g.s[x]:g.e[x]]...)
	}
	return buf
}

// readGroups reads digit groups starting at the digit text[i], each joined to the next by
// exactly one byte of seps (any group followed by a separator and then a digit continues the
// number), reading at most maxDigits digits in all. Work is bounded by maxDigits+len(g.s).
func readGroups(text string, i int, seps string, maxDigits int) groups {
	var g groups
	n := len(text)
	j := i
	for {
		k := j
		for k < n && isDigit(text[k]) {
			k++
			if g.digits+k-j > maxDigits {
				g.more = true
				if j > i {
					g.moreSep = text[j-1]
				}
				return g
			}
		}
		g.s[g.n], g.e[g.n] = j, k
		g.n++
		g.digits += k - j
		if k+1 >= n || !isDigit(text[k+1]) || !containsByte(seps, text[k]) {
			return g
		}
		if g.n == len(g.s) {
			g.more, g.moreSep = true, text[k]
			return g
		}
		g.sep[g.n-1] = text[k]
		j = k + 1
	}
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// context holds lower-case context words ("ssn", "social security"); a word must start at a
// word boundary in the text ("tel" does not match inside "hotel").
//
// The words are sorted by their first byte, so a search walks the window once and, at each
// word start whose byte begins some word, compares only the words beginning with it.
type context struct {
	words []string
	// off[b]:off[b+1] are the words starting with byte b (words sorted by first byte).
	off [257]uint16
	// first[c]: some word starts with c, ASCII letters in either case.
	first [256]bool
}

func newContext(words ...string) *context {
	c := &context{words: slices.Clone(words)}
	for _, w := range words {
		if w == "" {
			panic("pii: empty context word")
		}
	}
	slices.SortStableFunc(c.words, func(a, b string) int { return int(a[0]) - int(b[0]) })
	for _, w := range c.words {
		c.off[int(w[0])+1]++
		c.first[w[0]] = true
		if isUpper(w[0] - ('a' - 'A')) {
			c.first[w[0]-('a'-'A')] = true
		}
	}
	for b := 1; b < len(c.off); b++ {
		c.off[b] += c.off[b-1]
	}
	return c
}

// lowerByte lower-cases an ASCII letter.
func lowerByte(ch byte) byte {
	if isUpper(ch) {
		ch += 'a' - 'A'
	}
	return ch
}

// near reports whether one of the words occurs in text[lo:hi] (clamped; at most 256 bytes are
// examined, the ones closest to the value at hi-after... callers pass small windows). A word
// must start at lo or after a byte that is not a letter.
func (c *context) near(text string, lo, hi int) bool {
	lo, hi = max(lo, 0), min(hi, len(text))
	if hi-lo > 256 {
		lo = hi - 256
	}
	if lo >= hi {
		return false
	}
	w := text[lo:hi]
	prevAlpha := false
	for p := 0; p < len(w); p++ {
		ch := w[p]
		if !prevAlpha && c.first[ch] && c.at(w, p) {
			return true
		}
		prevAlpha = isAlpha(ch)
	}
	return false
}

// at reports whether a word starts at w[p] and ends within w.
func (c *context) at(w string, p int) bool {
	b := lowerByte(w[p])
	for _, word := range c.words[c.off[b]:c.off[int(b)+1]] {
		if len(word) <= len(w)-p && hasPrefixFold(w[p+1:], word[1:]) {
			return true
		}
	}
	return false
}

// nearWhole is near for whole words: the word must also end at a word boundary ("host" does
// not match in "hostLookup", "addr" not in "address").
func (c *context) nearWhole(text string, lo, hi int) bool {
	lo, hi = max(lo, 0), min(hi, len(text))
	if hi-lo > 256 {
		lo = hi - 256
	}
	for p := lo; p < hi; p++ {
		ch := text[p]
		if !c.first[ch] || p > 0 && isAlpha(text[p-1]) {
			continue
		}
		b := lowerByte(ch)
		for _, word := range c.words[c.off[b]:c.off[int(b)+1]] {
			e := p + len(word)
			if e <= hi && hasPrefixFold(text[p+1:], word[1:]) && (e >= len(text) || !isAlpha(text[e])) {
				return true
			}
		}
	}
	return false
}

// around reports whether a context word occurs within before bytes ahead of [s,e) or after
// bytes past it.
func (c *context) around(text string, s, e, before, after int) bool {
	return c.near(text, s-before, e+after)
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// hasSuffixFold reports whether s ends with the lower-case ASCII suffix, ignoring case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && hasPrefixFold(s[len(s)-len(suffix):], suffix)
}

// mostlyOneDigit reports whether all but at most slack of the digits are one digit
// (4000 0000 0000 0002), or the digits run up or down in sequence (1234567890…): test and
// placeholder values, not real ones.
func mostlyOneDigit(d []byte, slack int) bool {
	var count [10]int
	top := 0
	for _, c := range d {
		count[c-'0']++
		top = max(top, count[c-'0'])
	}
	return top >= len(d)-slack
}

// sequential reports whether d holds a run of at least k digits counting up or down by one
// (123456, 987654), wrapping 9→0 upward.
func sequential(d []byte, k int) bool {
	up, down := 1, 1
	for i := 1; i < len(d); i++ {
		if d[i] == d[i-1]+1 || d[i-1] == '9' && d[i] == '0' {
			up++
		} else {
			up = 1
		}
		if d[i]+1 == d[i-1] {
			down++
		} else {
			down = 1
		}
		if up >= k || down >= k {
			return true
		}
	}
	return false
}

// luhn reports whether the digits pass the Luhn (mod 10) check.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i] - '0')
		if double {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		double = !double
	}
	return len(d) > 0 && sum%10 == 0
}

// atoi2 reads two digits.
func atoi2(d []byte) int { return int(d[0]-'0')*10 + int(d[1]-'0') }

func atoi(d []byte) int {
	v := 0
	for _, c := range d {
		v = v*10 + int(c-'0')
	}
	return v
}
