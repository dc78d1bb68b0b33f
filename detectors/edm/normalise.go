package edm

import (
	"strings"
)

// kind tags a hashed value with its normalisation, so equal bytes of different kinds never meet
// in the index.
type kind byte

const (
	kWord   kind = 'w' // one folded word: the name/text prefilter and the parts of composites
	kName   kind = 'n' // sorted word hashes of a name
	kText   kind = 't' // word hashes of a text cell, in order
	kEmail  kind = 'e'
	kPhone  kind = 'p'
	kIBAN   kind = 'i'
	kID     kind = 'a'
	kNumber kind = 'x'
	kDate   kind = 'd'
)

// kindOf maps a column type to the kind its values are hashed as.
var kindOf = map[ColumnType]kind{
	Name: kName, Text: kText, Email: kEmail, Phone: kPhone, IBAN: kIBAN, ID: kID, Number: kNumber, Date: kDate,
}

// titles are dropped from name cells: the CSV says "Dr Maria Gonzalez", the prompt "Maria
// Gonzalez".
var titles = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "miss": true, "mx": true, "dr": true, "prof": true,
	"sir": true, "dame": true, "mme": true, "mlle": true, "herr": true, "frau": true, "jr": true,
	"sr": true, "ii": true, "iii": true,
}

// nameWords returns the words of a name cell that take part in matching: no titles, no words
// with digits.
func nameWords(ws []word, buf []byte) []word {
	out := ws[:0]
	for _, w := range ws {
		if w.digits > 0 || titles[string(buf[w.off:w.off+w.n])] {
			continue
		}
		out = append(out, w)
	}
	if len(out) == 0 && len(ws) > 0 {
		// A cell that is only a title ("Dr") stays a (short, dropped) value rather than vanishing.
		for _, w := range ws {
			if w.digits == 0 {
				out = append(out, w)
			}
		}
	}
	return out
}

// --- e-mail ---

func isLocalByte(c byte) bool {
	return isASCIIAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomainByte(c byte) bool { return isASCIIAlnum(c) || c == '.' || c == '-' }

// emailAt returns the e-mail address around the '@' at s[at]: the local part reaches left over
// local-part bytes, the domain right over domain bytes, without leading or trailing dots. It
// never crosses another '@', so finding every address in a text is linear.
func emailAt(s string, at int) (start, end int, ok bool) {
	start = at
	for start > 0 && isLocalByte(s[start-1]) {
		start--
	}
	for start < at && s[start] == '.' {
		start++
	}
	end = at + 1
	for end < len(s) && isDomainByte(s[end]) {
		end++
	}
	for end > at+1 && (s[end-1] == '.' || s[end-1] == '-') {
		end--
	}
	dom := s[at+1 : end]
	dot := strings.LastIndexByte(dom, '.')
	if start == at || dot <= 0 || dot > len(dom)-3 || dom[0] == '-' || strings.Contains(dom, "..") {
		return 0, 0, false
	}
	return start, end, true
}

// normEmail returns the lower-cased address of a cell that holds exactly one address, as a scan
// would cut it from a text.
func normEmail(cell string) (string, bool) {
	cell = strings.TrimSpace(cell)
	if len(cell) > 7 && strings.EqualFold(cell[:7], "mailto:") {
		cell = cell[7:]
	}
	at := strings.IndexByte(cell, '@')
	if at < 0 {
		return "", false
	}
	s, e, ok := emailAt(cell, at)
	if !ok || s != 0 || e != len(cell) {
		return "", false
	}
	return strings.ToLower(cell), true
}

// --- phone ---

// phoneTail is how many trailing digits identify a phone number: enough for a subscriber
// number with its area code in every numbering plan seen, few enough that "+44 20 7946 0958"
// and "020 7946 0958" (or "(415) 555-0123" and "+1 415 555 0123") share them.
const phoneTail = 9

// normPhone returns the phone key of a cell (its last phoneTail digits, or all if fewer) and how
// many digits the cell has. Cells with letters are not phone numbers.
func normPhone(cell string) (key string, digits int, ok bool) {
	var d []byte
	for i := 0; i < len(cell); i++ {
		c := cell[i]
		switch {
		case isDigit(c):
			d = append(d, c)
		case strings.IndexByte(" +-.()/\t", c) >= 0:
		default:
			return "", 0, false
		}
	}
	if len(d) > phoneTail {
		return string(d[len(d)-phoneTail:]), len(d), true
	}
	return string(d), len(d), len(d) > 0
}

// --- IBAN ---

// normIBAN returns a cell's IBAN upper-cased without spaces or dashes, if it has an IBAN's
// shape; strict also requires the mod-97 check to pass.
func normIBAN(cell string, strict bool) (string, bool) {
	b := make([]byte, 0, 34)
	for i := 0; i < len(cell); i++ {
		c := cell[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
		case isASCIIAlnum(c):
			if isLetter(c) {
				c &^= 0x20
			}
			b = append(b, c)
		default:
			return "", false
		}
	}
	if !ibanShape(b) || strict && !ibanValid(b) {
		return "", false
	}
	return string(b), true
}

func ibanShape(b []byte) bool {
	return len(b) >= 15 && len(b) <= 34 && isLetter(b[0]) && isLetter(b[1]) && isDigit(b[2]) && isDigit(b[3])
}

// ibanValid is the ISO 13616 check: the country code and check digits moved to the end, letters
// as 10..35, the number mod 97 is 1.
func ibanValid(b []byte) bool {
	if !ibanShape(b) {
		return false
	}
	// Reduce mod 97 only every few digits: a build checks ten million IBANs, a division per
	// digit was most of the cost, and 97·10^16 still fits in 64 bits.
	var r uint64
	n := 0
	for i := range b {
		c := b[(i+4)%len(b)]
		if isDigit(c) {
			r, n = r*10+uint64(c-'0'), n+1
		} else {
			r, n = r*100+uint64(c&^0x20-'A'+10), n+2
		}
		if n >= 14 {
			r, n = r%97, 0
		}
	}
	return r%97 == 1
}

// --- ID ---

// maxIDParts bounds how many separated parts an ID may have: a scan looks up every run of up to
// this many adjacent parts, so it bounds the work per word. A UUID has five.
const maxIDParts = 6

// idSep reports whether c may sit between two parts of one identifier ("AC-0041", "x.y", "a/b",
// "AC 0041").
func idSep(c byte) bool { return flags[c]&fIDSep != 0 }

// normID returns a cell's letters and digits, lower-cased. Like a scan, it refuses more than
// maxIDParts parts, and parts of under two characters on average ("1-2-3-4").
func normID(cell string) (string, bool) {
	b := make([]byte, 0, len(cell))
	parts := 0
	for i := 0; i < len(cell); i++ {
		c := cell[i]
		if !isASCIIAlnum(c) {
			continue
		}
		if i == 0 || !isASCIIAlnum(cell[i-1]) {
			parts++
		}
		if isLetter(c) {
			c |= 0x20
		}
		b = append(b, c)
	}
	return string(b), len(b) > 0 && parts <= maxIDParts && len(b) >= 2*parts
}

// --- number ---

// numberKey normalises a number token (digits with single ',' or '.' between them, an optional
// leading '-'): the separator that comes last is the decimal point when the other kind also
// appears or it is a lone '.', grouping otherwise; leading zeros and trailing fraction zeros go.
func numberKey(tok string) (key string, digits int) {
	neg := strings.HasPrefix(tok, "-")
	tok = strings.TrimPrefix(tok, "-")
	dots, commas := strings.Count(tok, "."), strings.Count(tok, ",")
	dec := byte(0)
	switch {
	case dots == 1 && commas == 0:
		dec = '.'
	case dots > 0 && commas > 0:
		dec = tok[max(strings.LastIndexByte(tok, '.'), strings.LastIndexByte(tok, ','))]
		if strings.Count(tok, string(dec)) > 1 {
			dec = 0
		}
	}
	var intPart, frac []byte
	seenDec := false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case isDigit(c) && seenDec:
			frac = append(frac, c)
		case isDigit(c):
			intPart = append(intPart, c)
		case c == dec:
			seenDec = true
		}
	}
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	b := make([]byte, 0, len(intPart)+len(frac)+2)
	if neg && !(string(intPart) == "0" && len(frac) == 0) {
		b = append(b, '-')
	}
	if len(intPart) == 0 {
		intPart = []byte{'0'}
	}
	b = append(b, intPart...)
	if len(frac) > 0 {
		b = append(append(b, '.'), frac...)
	}
	return string(b), len(intPart) + len(frac) - b2i(string(intPart) == "0")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// numberEnd returns the end of the number token starting with a digit at s[i].
func numberEnd(s string, i int) int {
	for i < len(s) {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i+1 < len(s) && (s[i] == ',' || s[i] == '.') && isDigit(s[i+1]) {
			i++
			continue
		}
		break
	}
	return i
}

// normNumber reads a cell holding one number, with an optional currency sign.
func normNumber(cell string) (key string, digits int, ok bool) {
	cell = strings.TrimSpace(cell)
	for _, p := range []string{"$", "€", "£", "¥"} {
		cell = strings.TrimSpace(strings.TrimPrefix(cell, p))
	}
	neg := strings.HasPrefix(cell, "-")
	body := strings.TrimPrefix(cell, "-")
	if body == "" || !isDigit(body[0]) || numberEnd(body, 0) != len(body) {
		return "", 0, false
	}
	if neg {
		body = "-" + body
	}
	key, digits = numberKey(body)
	return key, digits, true
}

// --- date ---

var months = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
	"oct": 10, "nov": 11, "dec": 12,
}

// dateKey is a date as YYYYMMDD.
type dateKey [8]byte

func mkDate(y, m, d int) (dateKey, bool) {
	if y < 1800 || y > 2199 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return dateKey{}, false
	}
	var k dateKey
	v := y*10000 + m*100 + d
	for i := 7; i >= 0; i-- {
		k[i] = byte('0' + v%10)
		v /= 10
	}
	return k, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// wordNum returns the value of an all-digit folded word of 1 to maxLen digits, or of a day
// ordinal ("2nd", "31st") when ordinal is set.
func wordNum(w []byte, maxLen int, ordinal bool) (int, bool) {
	n, i := 0, 0
	for i < len(w) && isDigit(w[i]) {
		n = n*10 + int(w[i]-'0')
		i++
	}
	if i == 0 || i > maxLen {
		return 0, false
	}
	if i == len(w) {
		return n, true
	}
	if ordinal && i <= 2 {
		switch string(w[i:]) {
		case "st", "nd", "rd", "th":
			return n, true
		}
	}
	return 0, false
}

// gapOK reports whether the text between two words of a date is one or two separator bytes.
func gapOK(s string, a, b word, seps string) bool {
	g := s[a.end:b.start]
	if len(g) < 1 || len(g) > 2 {
		return false
	}
	for i := 0; i < len(g); i++ {
		if strings.IndexByte(seps, g[i]) < 0 {
			return false
		}
	}
	return true
}

// datesAt returns the dates that start at word ws[0] of text s (up to two: 03/04/2001 reads
// both ways) and how many words they take.
func datesAt(s string, ws []word, buf []byte) (out [2]dateKey, n, used int) {
	add := func(y, m, d int) {
		if k, ok := mkDate(y, m, d); ok && (n == 0 || out[0] != k) {
			out[n] = k
			n++
		}
	}
	wb := func(i int) []byte { return buf[ws[i].off : ws[i].off+ws[i].n] }
	if w := wb(0); len(w) == 8 && ws[0].digits == 8 {
		y, _ := wordNum(w[:4], 4, false)
		m, _ := wordNum(w[4:6], 2, false)
		d, _ := wordNum(w[6:], 2, false)
		add(y, m, d)
		if n > 0 {
			return out, n, 1
		}
	}
	if len(ws) < 3 {
		return out, 0, 0
	}
	w0, w1, w2 := wb(0), wb(1), wb(2)
	numeric := gapOK(s, ws[0], ws[1], "-/. ") && gapOK(s, ws[1], ws[2], "-/. ")
	if y, ok := wordNum(w0, 4, false); ok && len(w0) == 4 && numeric {
		m, ok1 := wordNum(w1, 2, false)
		d, ok2 := wordNum(w2, 2, false)
		if ok1 && ok2 {
			add(y, m, d)
		}
	} else if a, ok := wordNum(w0, 2, false); ok && numeric {
		b, ok1 := wordNum(w1, 2, false)
		y, ok2 := wordNum(w2, 4, false)
		if ok1 && ok2 && len(w2) == 4 {
			add(y, a, b)
			add(y, b, a)
		}
	}
	if n > 0 {
		return out, n, 3
	}
	if !gapOK(s, ws[0], ws[1], " -/.,") || !gapOK(s, ws[1], ws[2], " -/.,") {
		return out, 0, 0
	}
	y, ok := wordNum(w2, 4, false)
	if !ok || len(w2) != 4 {
		return out, 0, 0
	}
	if m, ok := months[string(w1)]; ok {
		if d, ok := wordNum(w0, 2, true); ok {
			add(y, m, d)
		}
	} else if m, ok := months[string(w0)]; ok {
		if d, ok := wordNum(w1, 2, true); ok {
			add(y, m, d)
		}
	}
	if n > 0 {
		return out, n, 3
	}
	return out, 0, 0
}

// normDate reads a cell holding one date (a time of day after it is ignored).
func normDate(cell string) ([]dateKey, bool) {
	cell = strings.TrimSpace(cell)
	if len(cell) > 10 && (cell[10] == 'T' || cell[10] == ' ') && isDigit(cell[0]) {
		cell = cell[:10]
	}
	ws, buf := appendWords(nil, nil, cell)
	if len(ws) == 0 {
		return nil, false
	}
	d, n, used := datesAt(cell, ws, buf)
	if n == 0 || used != len(ws) {
		return nil, false
	}
	return d[:n], true
}
