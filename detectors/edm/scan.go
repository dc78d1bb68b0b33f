package edm

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"sync"
)

// maxIDLen bounds the identifiers a scan assembles from parts; longer runs are not looked up.
const maxIDLen = 64

// maxPhoneDigits bounds one phone-shaped run of digits and separators.
const maxPhoneDigits = 24

// cand is one candidate value cut from a text: a kind, its normalised bytes and where it was.
type cand struct {
	k          kind
	start, end int
	off, n     int // normalised bytes: nbuf[off:off+n]
}

type hit struct {
	rc         uint32 // row<<colBits | col
	found      bool   // the row met the row rule
	start, end int
}

// needs is what a group of tables holds, so a scan cuts only the candidates one of them could
// match.
type needs struct {
	kinds     uint16
	nameLens  uint16
	textLens  uint16
	phoneLens uint16
	idAlpha   bool
	ibanLoose bool
	idMin     int
	numMin    int
}

func (n *needs) add(t *Table) {
	if n.kinds == 0 {
		n.idMin, n.numMin = int(t.idMin), int(t.numMin)
	}
	n.kinds |= t.kinds
	n.nameLens |= t.nameLens
	n.textLens |= t.textLens
	n.phoneLens |= t.phoneLens
	n.idAlpha = n.idAlpha || t.idAlpha
	n.ibanLoose = n.ibanLoose || t.ibanLoose
	n.idMin = min(n.idMin, int(t.idMin))
	n.numMin = min(n.numMin, int(t.numMin))
}

func (n *needs) has(k kind) bool { return n.kinds&kindBit(k) != 0 }

// scanner is the per-call scratch of a scan, pooled so a scan allocates little beyond its result.
type scanner struct {
	text   string
	ws     []word
	wbuf   []byte
	wh     []uint64
	cands  []cand
	nbuf   []byte
	ts     []*Table // the group scanned, all under key sk
	sk     sipKey
	hitsBy [][]hit // per table of ts
	reach  []uint64
	spans  [][2]int
	pass   []bool
	join   []bool   // join[i]: word i may follow word i-1 in a name or text sequence
	runs   [][2]int // the ASCII digit runs of the text
	// cache maps words of up to 8 bytes (packed little-endian; no word packs to 0) to their
	// hashes within one scan.
	cache [1 << wordCacheBits]struct{ key, h uint64 }
}

const wordCacheBits = 8

var scanners = sync.Pool{New: func() any { return new(scanner) }}

func (s *scanner) reset(text string) {
	s.text = text
	s.ws, s.wbuf, s.wh = s.ws[:0], s.wbuf[:0], s.wh[:0]
	s.cands, s.nbuf = s.cands[:0], s.nbuf[:0]
}

// maxPooled bounds the words a pooled scanner keeps room for: one huge text must not pin its
// scratch for every later scan.
const maxPooled = 1 << 16

func (s *scanner) release() {
	s.text, s.ts = "", nil
	if cap(s.ws) > maxPooled || cap(s.wbuf) > 8*maxPooled {
		*s = scanner{}
	}
	scanners.Put(s)
}

// Scan reports the table's rows found in text: nil, or one Match.
func (t *Table) Scan(text string) []Match {
	return scanGroup(text, []*Table{t}, nil)
}

// Set scans a text against several tables at once: tables built under the same key share the
// cutting and hashing of candidates.
type Set struct {
	groups [][]*Table
}

// NewSet returns a Set of the tables; nil tables are skipped.
func NewSet(ts ...*Table) *Set {
	s := &Set{}
next:
	for _, t := range ts {
		if t == nil {
			continue
		}
		for i, g := range s.groups {
			if g[0].sk == t.sk {
				s.groups[i] = append(g, t)
				continue next
			}
		}
		s.groups = append(s.groups, []*Table{t})
	}
	return s
}

// Scan reports each table's rows found in text, at most one Match per table, in the order the
// tables were given within each key.
func (s *Set) Scan(text string) []Match {
	var out []Match
	for _, g := range s.groups {
		out = scanGroup(text, g, out)
	}
	return out
}

// Tables returns the set's tables.
func (s *Set) Tables() []*Table {
	var out []*Table
	for _, g := range s.groups {
		out = append(out, g...)
	}
	return out
}

// scanGroup scans text against tables that share one key.
func scanGroup(text string, ts []*Table, out []Match) []Match {
	if len(ts) == 0 || text == "" {
		return out
	}
	var nd needs
	for _, t := range ts {
		nd.add(t)
	}
	s := scanners.Get().(*scanner)
	defer s.release()
	s.reset(text)
	s.ts, s.sk = ts, ts[0].sk
	for len(s.hitsBy) < len(ts) {
		s.hitsBy = append(s.hitsBy, nil)
	}
	for i := range ts {
		s.hitsBy[i] = s.hitsBy[i][:0]
	}
	s.collect(&nd)
	s.flush()
	if nd.has(kName) || nd.has(kText) {
		s.hashWords()
	}
	for i, t := range ts {
		if t.has(kName) && t.nameLens != 0 {
			s.hitsBy[i] = s.sequences(t, kName, t.nameLens, 3, s.hitsBy[i])
		}
		if t.has(kText) && t.textLens != 0 {
			s.hitsBy[i] = s.sequences(t, kText, t.textLens, MaxTextWords, s.hitsBy[i])
		}
		if m, ok := s.aggregate(t, s.hitsBy[i]); ok {
			out = append(out, m)
		}
	}
	return out
}

// flush hashes the candidates cut so far and looks them up in every table of the group. The
// scanners call it every flushEvery candidates, so a long text never holds them all.
func (s *scanner) flush() {
	for i := range s.cands {
		c := &s.cands[i]
		h := s.sk.SumTagged(byte(c.k), s.nbuf[c.off:c.off+c.n])
		for ti, t := range s.ts {
			if t.has(c.k) {
				s.hitsBy[ti] = t.lookup(h, c.start, c.end, s.hitsBy[ti])
			}
		}
	}
	s.cands, s.nbuf = s.cands[:0], s.nbuf[:0]
}

const flushEvery = 256

// hashWords hashes every word. Prose repeats its words: a small cache of the short ones saves
// most of the hashing.
func (s *scanner) hashWords() {
	clear(s.cache[:])
	for _, w := range s.ws {
		wb := s.wbuf[w.off : w.off+w.n]
		if len(wb) > 8 {
			s.wh = append(s.wh, s.sk.SumTagged(byte(kWord), wb))
			continue
		}
		var key uint64
		if w.off+8 <= len(s.wbuf) {
			key = binary.LittleEndian.Uint64(s.wbuf[w.off:]) & (1<<(8*len(wb)) - 1)
		} else {
			for i := len(wb) - 1; i >= 0; i-- {
				key = key<<8 | uint64(wb[i])
			}
		}
		e := &s.cache[key*0x9e3779b97f4a7c15>>(64-wordCacheBits)]
		if e.key != key {
			e.key, e.h = key, s.sk.SumTagged(byte(kWord), wb)
		}
		s.wh = append(s.wh, e.h)
	}
}

// collect cuts the text into candidates of the kinds nd holds. Each pass is linear in the text
// and does a bounded amount of work per byte.
func (s *scanner) collect(nd *needs) {
	text := s.text
	words := nd.has(kName) || nd.has(kText) || nd.has(kDate)
	if words {
		// Room for a word per eight bytes up front: growing by doubling copies, and on a long
		// text the copies were most of the time.
		s.ws = slices.Grow(s.ws, len(text)/8)
		s.wbuf = slices.Grow(s.wbuf, len(text))
		s.ws, s.wbuf = appendWords(s.ws, s.wbuf, text)
		s.join = s.join[:0]
		for i, w := range s.ws {
			s.join = append(s.join, i > 0 && joins(text[s.ws[i-1].end:w.start]))
		}
	}
	if nd.has(kEmail) {
		s.emails()
	}
	// Phones, numbers, IBANs and (most) IDs hold digits: their scanners start from the digit
	// runs, which prose has few of, instead of testing every byte again.
	s.digitRuns(words)
	if nd.has(kPhone) {
		s.phones(nd.phoneLens)
	}
	if nd.has(kNumber) {
		s.numbers(nd.numMin)
	}
	if nd.has(kIBAN) {
		s.ibans(nd.ibanLoose)
	}
	if nd.has(kID) {
		if nd.idAlpha {
			s.ids(0, len(text), true, nd.idMin)
		} else {
			s.idsNearDigits(nd.idMin)
		}
	}
	if nd.has(kDate) {
		s.dates()
	}
}

func (s *scanner) add(k kind, start, end int, norm []byte) {
	s.cands = append(s.cands, cand{k: k, start: start, end: end, off: len(s.nbuf), n: len(norm)})
	s.nbuf = append(s.nbuf, norm...)
	if len(s.cands) >= flushEvery {
		s.flush()
	}
}

// addLower adds text[start:end] lower-cased (ASCII) as the normalised value.
func (s *scanner) addLower(k kind, start, end int) {
	off := len(s.nbuf)
	for i := start; i < end; i++ {
		c := s.text[i]
		if isLetter(c) {
			c |= 0x20
		}
		s.nbuf = append(s.nbuf, c)
	}
	s.cands = append(s.cands, cand{k: k, start: start, end: end, off: off, n: len(s.nbuf) - off})
	if len(s.cands) >= flushEvery {
		s.flush()
	}
}

func (s *scanner) emails() {
	text := s.text
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '@')
		if j < 0 {
			return
		}
		at := i + j
		if a, b, ok := emailAt(text, at); ok {
			s.addLower(kEmail, a, b)
		}
		i = at + 1
	}
}

// phones cuts runs of digits joined by up to two of " -.()" (a leading '+' or '(' allowed) and
// looks up, at the end of each group of digits, the last phoneTail digits so far (and shorter
// tails the table holds): "+44 20 7946 0958", "020 7946 0958" and "02079460958" all end in
// 079460958, and a run that ran on past the number still has it at a group's end. The span
// starts at the run, so a masked number hides its country code too.
func (s *scanner) phones(short uint16) {
	text := s.text
	var d [maxPhoneDigits]byte
	next := 0 // the text before next belongs to a run already cut
	for _, r := range s.runs {
		i := r[0]
		if i < next {
			continue
		}
		var start int
		switch {
		case i > 0 && (text[i-1] == '+' || text[i-1] == '(') && (i < 2 || !isASCIIAlnum(text[i-2])):
			start = i - 1
		case i == 0 || !isASCIIAlnum(text[i-1]):
			start = i
		default:
			continue // digits inside a word
		}
		n := 0
		for {
			for i < len(text) && isDigit(text[i]) && n < maxPhoneDigits {
				d[n] = text[i]
				n++
				i++
			}
			// Every group's end, even of one digit: a number that ends "… 0958 7" and runs on
			// into the next word's digits must still be found where it ends.
			for l := phoneTail; l > 0; l-- {
				if n >= l && (l == phoneTail || short&(1<<l) != 0) {
					s.add(kPhone, start, i, d[n-l:n])
				}
			}
			j := i
			for j < len(text) && j-i < 2 && flags[text[j]]&fPhoneGap != 0 {
				j++
			}
			if n == maxPhoneDigits || j == i || j >= len(text) || !isDigit(text[j]) {
				break
			}
			i = j
		}
		for i < len(text) && isDigit(text[i]) {
			i++
		}
		next = i
	}
}

func (s *scanner) numbers(minDigits int) {
	text := s.text
	next := 0
	for _, r := range s.runs {
		i := r[0]
		if i < next || i > 0 && isASCIIAlnum(text[i-1]) {
			continue
		}
		start := i
		if i > 0 && text[i-1] == '-' && (i < 2 || !isASCIIAlnum(text[i-2])) {
			start = i - 1
		}
		end := numberEnd(text, i)
		if key, digits := numberKey(text[start:end]); digits >= minDigits {
			s.add(kNumber, start, end, []byte(key))
		}
		next = end
	}
}

// digitRuns finds the ASCII digit runs: inside the words with digits when the words are cut
// already (every ASCII digit is in a word), else by a pass over the text.
func (s *scanner) digitRuns(words bool) {
	s.runs = s.runs[:0]
	text := s.text
	lo, hi := 0, len(text)
	for wi := 0; ; wi++ {
		if words {
			for wi < len(s.ws) && s.ws[wi].digits == 0 {
				wi++
			}
			if wi == len(s.ws) {
				return
			}
			lo, hi = s.ws[wi].start, s.ws[wi].end
		} else if wi > 0 {
			return
		}
		for i := lo; i < hi; {
			if !isDigit(text[i]) {
				i++
				continue
			}
			j := i + 1
			for j < hi && isDigit(text[j]) {
				j++
			}
			s.runs = append(s.runs, [2]int{i, j})
			i = j
		}
	}
}

// ibans cuts IBAN-shaped runs (two letters, two digits, then letters and digits in groups split
// by one space or dash) at the start of a word, and looks up every prefix that ends at a group
// boundary, is long enough, and passes mod-97 (unless the table holds IBANs that fail it): the
// run may carry on into the next word.
func (s *scanner) ibans(loose bool) {
	text := s.text
	var b [34]byte
	// An IBAN starts two letters before a digit run, at the start of a word.
	for _, r := range s.runs {
		k := r[0]
		if k < 2 || r[1]-k < 2 || !isLetter(text[k-1]) || !isLetter(text[k-2]) || k > 2 && isASCIIAlnum(text[k-3]) {
			continue
		}
		i := k - 2
		n, j := 0, i
		for j < len(text) {
			for j < len(text) && isASCIIAlnum(text[j]) && n < len(b) {
				c := text[j]
				if isLetter(c) {
					c &^= 0x20
				}
				b[n] = c
				n++
				j++
			}
			if j < len(text) && isASCIIAlnum(text[j]) {
				break // longer than any IBAN
			}
			if n >= 15 && (loose || ibanValid(b[:n])) {
				s.add(kIBAN, i, j, b[:n])
			}
			if j+1 < len(text) && (text[j] == ' ' || text[j] == '-') && isASCIIAlnum(text[j+1]) && n < len(b) {
				j++
				continue
			}
			break
		}
	}
}

// ids cuts runs of ASCII letters and digits joined by single separators ("AC-00412938",
// "AC 00412938", "ref:AC00412938") in text[lo:hi] and looks up every window of up to
// maxIDParts adjacent parts that holds a digit (any window, with alpha), letters and digits
// only, lower-cased.
func (s *scanner) ids(lo, hi int, alpha bool, minLen int) {
	text := s.text
	type part struct {
		start, end int
		digit      bool
	}
	var ring [maxIDParts]part
	n := 0          // parts of the current chain, at most maxIDParts kept
	lastDigit := -1 // n-1 of the chain's last part with a digit
	for i := lo; i < hi; {
		if !isASCIIAlnum(text[i]) {
			i++
			continue
		}
		p := part{start: i}
		var cl uint8
		for i < hi && class[text[i]] != 0 {
			cl |= class[text[i]]
			i++
		}
		p.end, p.digit = i, cl&cDigit != 0
		if n > 0 {
			// A space joins parts only towards digits ("AC 00412938", "0041 2938"): prose
			// words around a number are no identifier.
			prev := ring[(n-1)%maxIDParts]
			sep := text[prev.end]
			if p.start != prev.end+1 || !idSep(sep) || sep == ' ' && !(p.digit && (prev.digit || prev.end-prev.start <= 4)) {
				n, lastDigit = 0, -1
			}
		}
		ring[n%maxIDParts] = p
		n++
		if p.digit {
			lastDigit = n - 1
		}
		if !alpha && (lastDigit < 0 || n-1-lastDigit >= maxIDParts) {
			// No window ending here holds a digit: the common case in prose.
			continue
		}
		length, digit := 0, false
		for k := 0; k < min(n, maxIDParts); k++ {
			q := ring[(n-1-k)%maxIDParts]
			length += q.end - q.start
			digit = digit || q.digit
			if length > maxIDLen {
				break
			}
			// Parts of one or two characters on average ("1-2-3-4") make no identifier: skipping
			// them keeps runs of tiny numbers from costing a lookup per window.
			if length < minLen || !digit && !alpha || length < 2*(k+1) {
				continue
			}
			off := len(s.nbuf)
			for m := k; m >= 0; m-- {
				r := ring[(n-1-m)%maxIDParts]
				for x := r.start; x < r.end; x++ {
					c := text[x]
					if isLetter(c) {
						c |= 0x20
					}
					s.nbuf = append(s.nbuf, c)
				}
			}
			s.cands = append(s.cands, cand{k: kID, start: q.start, end: p.end, off: off, n: len(s.nbuf) - off})
			if len(s.cands) >= flushEvery {
				s.flush()
			}
		}

	}
}

// idsNearDigits runs ids over the stretches of text around the digit runs: every window
// holding a digit lies within maxIDParts-1 parts of one, so the rest of the text need not be
// cut into parts at all.
func (s *scanner) idsNearDigits(minLen int) {
	text := s.text
	// partStart and partEnd find the ends of the part around i.
	partStart := func(i int) int {
		for i > 0 && isASCIIAlnum(text[i-1]) {
			i--
		}
		return i
	}
	partEnd := func(i int) int {
		for i < len(text) && isASCIIAlnum(text[i]) {
			i++
		}
		return i
	}
	lo, hi := -1, -1
	for _, r := range s.runs {
		if r[0] < hi {
			continue // inside the stretch already taken
		}
		a, b := partStart(r[0]), partEnd(r[1])
		for range maxIDParts - 1 {
			if a < 2 || !idSep(text[a-1]) || !isASCIIAlnum(text[a-2]) {
				break
			}
			a = partStart(a - 1)
		}
		for range maxIDParts - 1 {
			if b+1 >= len(text) || !idSep(text[b]) || !isASCIIAlnum(text[b+1]) {
				break
			}
			b = partEnd(b + 1)
		}
		if a < hi {
			hi = b // overlaps the stretch before: extend it
			continue
		}
		if hi > lo {
			s.ids(lo, hi, false, minLen)
		}
		lo, hi = a, b
	}
	if hi > lo {
		s.ids(lo, hi, false, minLen)
	}
}

func (s *scanner) dates() {
	for i, w := range s.ws {
		// Every date form starts with a day, month or year of 1, 2, 4 or 8 digits (or an
		// ordinal like "2nd"), or with a month name before such a word.
		switch {
		case w.digits == 0:
			if i+1 == len(s.ws) || s.ws[i+1].digits == 0 || w.n < 3 || w.n > 9 {
				continue
			}
		case w.digits == w.n:
			if w.n != 1 && w.n != 2 && w.n != 4 && w.n != 8 {
				continue
			}
		case w.digits > 2 || w.n-w.digits != 2:
			continue
		}
		if w.digits == 0 {
			if _, ok := months[string(s.wbuf[w.off:w.off+w.n])]; !ok {
				continue
			}
		}
		ds, n, used := datesAt(s.text, s.ws[i:min(i+3, len(s.ws))], s.wbuf)
		for _, d := range ds[:n] {
			s.add(kDate, w.start, s.ws[i+used-1].end, d[:])
		}
	}
}

// joins reports whether the gap between two words keeps them in one name or text value:
// spaces and light punctuation ("Gonzalez, Maria", "J. Smith", "maria.gonzalez"), not an '@',
// a bracket or a quote, so "Müller <jose" is no name.
func joins(gap string) bool {
	if len(gap) > 3 {
		return false
	}
	for i := 0; i < len(gap); i++ {
		if flags[gap[i]]&fJoin == 0 {
			return false
		}
	}
	return true
}

// sequences looks up runs of up to maxWords words whose every word passes t's word filter: a
// name's words in sorted order, a text cell's in text order. Words with digits are no name's.
func (s *scanner) sequences(t *Table, k kind, lens uint16, maxWords int, hits []hit) []hit {
	s.pass = s.pass[:0]
	for i, w := range s.ws {
		s.pass = append(s.pass, (k != kName || w.digits == 0) && t.filterHas(s.wh[i]))
	}
	maxWords = min(maxWords, bits.Len16(lens)-1) // no longer value is held
	var hs [MaxTextWords]uint64
	for i := range s.ws {
		if !s.pass[i] {
			continue
		}
		for n := 1; n <= maxWords && i+n <= len(s.ws) && s.pass[i+n-1] && (n == 1 || s.join[i+n-1]); n++ {
			if lens&(1<<n) == 0 {
				continue
			}
			copy(hs[:n], s.wh[i:i+n])
			if k == kName {
				slices.Sort(hs[:n])
			}
			start, end := s.ws[i].start, s.ws[i+n-1].end
			hits = t.lookup(composite(t.sk, k, hs[:n]), start, end, hits)
		}
		// "Maria E. Gonzalez" is also "Maria Gonzalez": a middle initial is skipped.
		if k == kName && lens&(1<<2) != 0 && i+2 < len(s.ws) && s.pass[i+2] &&
			s.ws[i+1].n == 1 && s.ws[i+1].digits == 0 && s.join[i+1] && s.join[i+2] {
			hs[0], hs[1] = min(s.wh[i], s.wh[i+2]), max(s.wh[i], s.wh[i+2])
			hits = t.lookup(composite(t.sk, k, hs[:2]), s.ws[i].start, s.ws[i+2].end, hits)
		}
	}
	return hits
}

// aggregate applies t's rule to the hits: a row is found when it has MinColumns fields in as
// many separate places of the text; the table is found when a row is, or when MinRows rows are
// touched through as many separate values (a bulk paste). Separate places keep one piece of
// text from counting twice: "maria.gonzalez@example.com" holds the name too.
func (s *scanner) aggregate(t *Table, hits []hit) (Match, bool) {
	if len(hits) == 0 {
		return Match{}, false
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.rc>>colBits != b.rc>>colBits {
			return int(a.rc>>colBits) - int(b.rc>>colBits)
		}
		return a.end - b.end
	})
	rows, full, best := 0, 0, 0
	for i := 0; i < len(hits); {
		row := hits[i].rc >> colBits
		j := i
		for j < len(hits) && hits[j].rc>>colBits == row {
			j++
		}
		f := s.fieldsApart(t, hits[i:j])
		rows++
		if f >= t.minCols {
			full++
			best = max(best, f)
			for k := i; k < j; k++ {
				hits[k].found = true
			}
		}
		i = j
	}
	bulk := false
	if t.minRows > 0 && rows >= t.minRows {
		bulk = s.places(hits, false) >= t.minRows
	}
	if full == 0 && !bulk {
		return Match{}, false
	}
	m := Match{Label: t.label, Rows: full}
	if bulk {
		m.Rows = rows
	}
	var cols uint32
	for _, h := range hits {
		if bulk || h.found {
			c := h.rc & colMask
			if c == namesCol {
				for i, col := range t.cols {
					if col.Type == Name {
						cols |= 1 << i
					}
				}
			} else {
				cols |= 1 << c
			}
		}
	}
	for i, c := range t.cols {
		if cols&(1<<i) != 0 {
			m.Columns = append(m.Columns, c.Name)
		}
	}
	s.places(hits, !bulk)
	m.Spans = slices.Clone(s.spans)
	m.Confidence = 1 - 1/float64(uint(1)<<min(best, 30))
	if bulk {
		m.Confidence = max(m.Confidence, 0.75)
	}
	return m, true
}

// fieldsApart returns how many different fields hs (one row's hits, sorted by end) show in
// pairwise separate places. Greedy choice fails here (an ID's digits can also be a phone's
// tail), so it is exact: reach[i] is the set of field masks that separate hits among the first
// i can show, a bitset over masks, for up to six fields; a row with more takes the greedy
// answer, which is then at least six.
func (s *scanner) fieldsApart(t *Table, hs []hit) int {
	var local [colMask + 1]int8
	for i := range local {
		local[i] = -1
	}
	nf := 0
	for _, h := range hs {
		if f := t.field[h.rc&colMask]; local[f] < 0 {
			local[f] = int8(nf)
			nf++
		}
	}
	if nf > 6 {
		var used uint32
		n, end := 0, -1
		for _, h := range hs {
			if bit := uint32(1) << local[t.field[h.rc&colMask]]; used&bit == 0 && h.start >= end {
				used |= bit
				n++
				end = h.end
			}
		}
		return n
	}
	reach := append(s.reach[:0], 1) // only the empty mask before any hit
	for i, h := range hs {
		// Hits sorted by end: those ending by h.start are a prefix.
		p, _ := slices.BinarySearchFunc(hs[:i], h.start+1, func(x hit, v int) int { return x.end - v })
		b := uint(1) << local[t.field[h.rc&colMask]]
		var add uint64
		for src := reach[p]; src != 0; src &= src - 1 {
			if m := uint(bits.TrailingZeros64(src)); m&b == 0 {
				add |= 1 << (m | b)
			}
		}
		reach = append(reach, reach[i]|add)
	}
	s.reach = reach
	best := 0
	for src := reach[len(hs)]; src != 0; src &= src - 1 {
		best = max(best, bits.OnesCount(uint(bits.TrailingZeros64(src))))
	}
	return best
}

// places merges the spans of the hits (only of rows found, when marked) into s.spans and
// returns how many of them can be picked without overlap.
func (s *scanner) places(hits []hit, marked bool) int {
	s.spans = s.spans[:0]
	for _, h := range hits {
		if !marked || h.found {
			s.spans = append(s.spans, [2]int{h.start, h.end})
		}
	}
	slices.SortFunc(s.spans, func(a, b [2]int) int {
		if a[1] != b[1] {
			return a[1] - b[1]
		}
		return a[0] - b[0]
	})
	n, end := 0, -1
	for _, sp := range s.spans {
		if sp[0] >= end {
			n++
			end = sp[1]
		}
	}
	slices.SortFunc(s.spans, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	out := s.spans[:0]
	for _, sp := range s.spans {
		if k := len(out); k > 0 && sp[0] < out[k-1][1] {
			out[k-1][1] = max(out[k-1][1], sp[1])
			continue
		}
		out = append(out, sp)
	}
	s.spans = out
	return n
}
