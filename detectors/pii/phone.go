package pii

import (
	"strings"

	"github.com/customs-dev/customs/detectors"
)

var phoneContext = newContext("phone", "telephone", "téléphone", "telefon", "tel", "mobile", "mobil", "cell",
	"call", "fax", "whatsapp", "sms", "text me", "contact", "handy", "móvil", "movil", "portable", "ph", "mob",
	"dial", "rufnummer", "numéro de", "numero de", "reach me", "ring", "teléfono", "puhelin", "gsm", "mobiel",
	"tlf", "tél", "cellulare", "numer tel", "kontakt", "appel", "llama", "chiama", "bel me")

func phoneDetector() detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.phone",
			Class:    detectors.PII,
			Severity: detectors.Low,
			Description: "Telephone number. International: + (or 00) and an assigned ITU country code, " +
				"8–15 digits in all, national significant number of the country's length (NANP rules for " +
				"+1), spaces, dashes, dots, slashes, (0) and parentheses as printed; confidence 0.9. " +
				"National: US (555) 123-4567 / 555-123-4567 / 1-555-123-4567 with valid area and exchange " +
				"codes (0.7–0.85), French 01 23 45 67 89 pairs (0.8), UK 020 7946 0958 / 07700 900123 " +
				"groupings (0.6); German 030 12345678 forms, Spanish 612 34 56 78, bare 10–11 digit runs, " +
				"9-digit Spanish mobiles and German 015x runs only next to a word such as " +
				"phone/tel/mobile/call (0.6–0.8); the 4–5 digit plans of small territories (+290, +500) " +
				"likewise. A context word raises confidence by 0.2. Dates, " +
				"versions, IP addresses and numbers glued to other numbers are not phones; neither are " +
				"fictional ranges (US 555, Ofcom drama numbers such as 020 7946 0xxx and 07700 900xxx) " +
				"nor runs such as 12345678.",
			Examples: detectors.Examples{
				Match: []string{
					"call me at +1 (415) 867-2309 tomorrow",
					"WhatsApp +44 7911 123456",
					"Tel.: +49 30 2759 4812",
					"Mobil: +33 6 12 48 93 07",
					"reach me on 415-867-2309",
					"fixe : 01 42 68 53 09",
					"phone 07911 123456",
					"Telefon 030 27594812",
					"+4915112839476",
					"Telefon: 015136079708",
					"Teléfono: 612 60 71 66",
					"tel: +500 52595",
				},
				NoMatch: []string{
					"released 2024-01-15 10:30",
					"version 10.4.2.1873",
					"host 192.168.100.200",
					"order 4158672309 shipped",
					"call (555) 123-4567", // fictional 555
					"phone 020 7946 0958", // Ofcom drama range
					"+1 123 456 7890",     // invalid area code
					"ISBN 978-3-16-148410-0",
					"card 4539 1488 0343 6467",
					"tz +05:30",
					"+49 30 12345678", // placeholder run
					"id 12-34-56-78-90",
					"request 550e8400-e29b-41d4-a716-446655440000",
					"commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
					"IBAN GB43 LOYD 0029 7750 8528 16",
					"ref 912012602",    // nine bare digits need a context word
					"seq 015136079708", // so does a bare German mobile
					"+500 52595",
					"g.min.call(g,2147483648,d)", // 2³¹
				},
			},
		},
		at:    phoneAt,
		terms: phoneTerms(),
	}
}

// phoneTerms are phoneAt's first checks. Most digit runs of prose and code fail them: dates,
// times and versions, and short numbers that are not the first group of a grouped one.
func phoneTerms() []detectors.RunTerm {
	// +44 …, (415) …: the number starts at the sign.
	ts := []detectors.RunTerm{term(func(p byte, n int) bool { return n <= 15 && (p == '+' || p == '(') }, nil)}
	// Otherwise at the run. The terms are disjoint: a run is offered to phoneAt once at most.
	start := func(p byte, n int) bool {
		return n <= 15 && mayStart(p) && p != '+' && p != '(' && p != '$' && p != '#' && p != '@'
	}
	// seven digits and more
	ts = append(ts, startTerms(func(p byte, n int) bool { return n >= 7 && start(p, n) }, nil, nil)...)
	// the first group of a grouped number (555-123-4567, 01 42 68 53 09)
	return append(ts, startTerms(func(p byte, n int) bool { return n < 7 && start(p, n) },
		func(c byte, _ int) bool { return c == ' ' || c == '-' || c == '.' || c == '/' },
		func(c byte) bool { return isDigit(c) || c == '(' })...)
}

// phoneTok: digit groups of a phone-like token and the gaps between them.
type phoneTok struct {
	s, e   [8]int
	paren  [8]bool // group k was written in parentheses
	n      int
	digits int
	plus   bool // starts with '+'
	more   bool // continued beyond what was read
}

func (t *phoneTok) glen(k int) int { return t.e[k] - t.s[k] }

// gap returns the text between group k and k+1.
func (t *phoneTok) gap(text string, k int) string { return text[t.e[k]:t.s[k+1]] }

// end of the first k groups, after a closing parenthesis of the last.
func (t *phoneTok) end(k int) int {
	e := t.e[k-1]
	if t.paren[k-1] {
		e++
	}
	return e
}

func readPhone(t *phoneTok, text string, s int) {
	n := len(text)
	p := s
	if text[p] == '+' {
		t.plus = true
		p++
	}
	for {
		open := false
		if p < n && text[p] == '(' {
			open = true
			p++
		}
		gs := p
		for p < n && isDigit(text[p]) && p-gs <= 15 {
			p++
		}
		if p == gs || p-gs > 15 || open && (p >= n || text[p] != ')') {
			t.more = p-gs > 15
			return
		}
		t.s[t.n], t.e[t.n], t.paren[t.n] = gs, p, open
		t.n++
		t.digits += p - gs
		if t.digits > 17 || t.n == len(t.s) {
			t.more = true
			return
		}
		q := p
		if open {
			q++
		}
		if q < n && (text[q] == ' ' || text[q] == '-' || text[q] == '.' || text[q] == '/') {
			q++
		}
		if q < n && isDigit(text[q]) || q+1 < n && text[q] == '(' && isDigit(text[q+1]) {
			if q == p { // "(0)20": the next group opens right away
				if text[q] != '(' {
					return
				}
			}
			p = q
			continue
		}
		return
	}
}

func phoneAt(text string, i, j int, emit func(detectors.Match)) int {
	l := j - i
	if l > 15 {
		return j
	}
	// Fast reject: a short run that is not prefixed (+44, (415)) must be the first group of a
	// grouped number, followed by a separator and a digit.
	if l < 7 && !(i > 0 && (text[i-1] == '+' || text[i-1] == '(')) &&
		(j+1 >= len(text) || !containsByte(" -./", text[j]) || !isDigit(text[j+1]) && text[j+1] != '(') {
		return j
	}
	s := i
	if i > 0 && (text[i-1] == '+' || text[i-1] == '(') {
		s = i - 1
	}
	if s > 0 {
		c := text[s-1]
		if !startOK(text, s) || c == '+' || c == '$' || c == '#' || c == '@' {
			return j
		}
	}
	if s == i && afterGroup(text, i) {
		return j
	}
	var t phoneTok
	readPhone(&t, text, s)
	if t.n == 0 || t.digits < 7 {
		return j
	}
	for k := t.n; k >= 1; k-- {
		end := t.end(k)
		if k == t.n && t.more || !endOK(text, end) {
			continue
		}
		if k < t.n && !strings.HasPrefix(t.gap(text, k-1), " ") && !(t.paren[k-1] && strings.HasPrefix(t.gap(text, k-1), ") ")) {
			continue // a prefix may only end at a space
		}
		if end+1 < len(text) && text[end] == '-' && isAlnum(text[end+1]) {
			continue // a GUID or a serial: {00020000-0000-0000-C000-…}
		}
		conf, needCtx := classifyPhone(text, &t, k)
		if conf == 0 || hexNeighbour(text, s, end) {
			continue
		}
		if phoneContext.around(text, s, end, 40, 12) {
			conf = min(1, conf+0.2)
		} else if needCtx {
			continue
		}
		emit(detectors.Match{Start: s, End: end, Confidence: conf})
		return end
	}
	return j
}

// classifyPhone returns the confidence that the first k groups are a phone number (0: not one)
// and whether that needs a context word.
func classifyPhone(text string, t *phoneTok, k int) (float64, bool) {
	// Cheap structural rejects first: a national number has at most five groups, a first group
	// of one to five digits (or is one run of 10-11), and a one-digit first group only in
	// 1-800-867-2309; an international one has at most seven groups.
	l0 := t.glen(0)
	intl := t.plus || l0 >= 2 && text[t.s[0]] == '0' && text[t.s[0]+1] == '0' && !t.paren[0]
	switch {
	case intl:
		if k > 7 {
			return 0, false
		}
	case k > 5, k == 1 && (l0 < 9 || l0 > 12), k > 1 && l0 > 5,
		l0 == 1 && (k != 4 || text[t.s[0]] != '1'), l0 == 2 && k != 5 && !(k == 2 && t.glen(1) == 8):
		return 0, false
	}
	var buf [24]byte
	d := buf[:0]
	trunk := -1
	for x := 0; x < k; x++ {
		g := text[t.s[x]:t.e[x]]
		if x == 1 && t.paren[x] && g == "0" && (t.plus || text[t.s[0]] == '0') {
			trunk = x // +44 (0)20 …: the national trunk prefix is not dialled
			continue
		}
		d = append(d, g...)
	}
	if len(d) < 7 {
		return 0, false
	}
	// The shapes reject most candidates (IDs, counts, timestamps): the digit checks below, which
	// read every digit, are only worth it for a number that has a phone's shape.
	conf, needCtx := phoneShape(text, t, k, d, trunk)
	if conf == 0 || mostlyOneDigit(d, 2) || sequential(d, 7) || binary(d) || powerOfTwo(d) {
		return 0, false
	}
	// Separators must be phone-like: no gap may mix kinds beyond "x) (y" shapes.
	for x := 0; x < k-1; x++ {
		if g := t.gap(text, x); len(g) > 2 || g == "//" {
			return 0, false
		}
	}
	return conf, needCtx
}

// phoneShape is classifyPhone on the grouping and leading digits of the first k groups alone;
// d holds their digits but the trunk group's (trunk, or -1).
func phoneShape(text string, t *phoneTok, k int, d []byte, trunk int) (float64, bool) {
	l0 := t.glen(0)
	switch {
	case t.plus:
		if t.paren[0] {
			return 0, false
		}
		return intlPhone(d, t, k, 0.9)
	case l0 >= 2 && text[t.s[0]] == '0' && text[t.s[0]+1] == '0' && !t.paren[0]:
		// 00 international prefix: 0044 20 …, 0049 30 …; as one bare run (00211933733) only
		// next to a context word.
		conf, _ := intlPhone(d[2:], t, k, 0.6)
		return conf, k == 1
	}
	if trunk >= 0 {
		return 0, false
	}
	// National formats.
	lens := func(ls ...int) bool {
		if len(ls) != k {
			return false
		}
		for x, l := range ls {
			if t.glen(x) != l {
				return false
			}
		}
		return true
	}
	sameGaps := func(from int) (string, bool) {
		if k-1 <= from {
			return "", true
		}
		g := t.gap(text, from)
		for x := from + 1; x < k-1; x++ {
			if t.gap(text, x) != g {
				return "", false
			}
		}
		return g, true
	}
	switch {
	case t.paren[0] && lens(3, 3, 4):
		// (415) 867-2309
		if g := t.gap(text, 1); g != "-" && g != " " && g != "." || !nanpValid(d) {
			return 0, false
		}
		return 0.85, false
	case t.paren[0] && d[0] == '0' && l0 >= 3 && l0 <= 5 && k >= 2 && k <= 3 && len(d) >= 9 && len(d) <= 12:
		// (030) 2759 4812
		return 0.8, true
	case t.paren[0]:
		return 0, false
	case lens(3, 3, 2, 2) && d[0] == '0' && d[1] != '0':
		// Swedish 070-123 45 67
		if g := t.gap(text, 0); g != "-" && g != " " || t.gap(text, 1) != " " || t.gap(text, 2) != " " {
			return 0, false
		}
		return 0.7, true
	case lens(3, 3, 4) && d[0] != '0':
		g, same := sameGaps(0)
		if !same || !nanpValid(d) || g != "-" && g != "." && g != " " {
			return 0, false
		}
		switch g {
		case "-":
			return 0.7, false
		case ".":
			return 0.6, false
		}
		return 0.7, true
	case lens(1, 3, 3, 4) && d[0] == '1':
		g, same := sameGaps(0)
		if !same || !nanpValid(d[1:]) || g != "-" && g != "." && g != " " {
			return 0, false
		}
		return 0.7, g == " "
	case lens(2, 2, 2, 2, 2) && d[0] == '0' && d[1] != '0':
		// 01 42 68 53 09
		if g, same := sameGaps(0); !same || g != " " && g != "." && g != "-" {
			return 0, false
		}
		return 0.8, false
	case d[0] == '0' && d[1] != '0' && (len(d) == 10 || len(d) == 11) && k >= 2 &&
		(lens(5, 6) || lens(3, 4, 4) || lens(4, 3, 4) || lens(5, 3, 3) || lens(4, 6)) &&
		containsByte("12378", d[1]):
		// UK: 020 7946 0958, 07911 123456, 0161 496 0000
		g, same := sameGaps(0)
		if !same || ukDrama(d[1:]) {
			return 0, false
		}
		return 0.6, g != " "
	case d[0] == '0' && d[1] != '0' && len(d) >= 9 && len(d) <= 12 && k >= 2 && k <= 4 && l0 >= 3 && l0 <= 5:
		// German 030 27594812, 0151/2345678, 089-1234567
		if g, same := sameGaps(0); !same || g != " " && g != "/" && g != "-" {
			return 0, false
		}
		return 0.8, true
	// National formats that other numbers share, so only next to a word such as phone/
	// teléfono/Handy: Spanish and Polish 612 345 678, Dutch 06-12345678, Swedish 070-123 45 67,
	// Belgian 0470 12 34 56, and the bare runs of a Spanish, Polish, Portuguese or German mobile.
	case lens(3, 3, 3) && containsByte("56789", d[0]):
		if g, same := sameGaps(0); !same || g != " " && g != "-" && g != "." {
			return 0, false
		}
		return 0.6, true
	case lens(2, 8) && d[0] == '0' && d[1] == '6':
		if g := t.gap(text, 0); g != "-" && g != " " {
			return 0, false
		}
		return 0.7, true
	case lens(4, 2, 2, 2) && d[0] == '0' && d[1] != '0':
		if g, same := sameGaps(0); !same || g != " " && g != "." && g != "/" {
			return 0, false
		}
		return 0.7, true
	case lens(3, 2, 2, 2) && containsByte("6789", d[0]):
		// Spanish 612 34 56 78, as libphonenumber and Spaniards group mobiles.
		if g, same := sameGaps(0); !same || g != " " && g != "." {
			return 0, false
		}
		return 0.6, true
	case k == 1 && len(d) == 9 && containsByte("67", d[0]):
		// Nine bare digits of a Spanish mobile. Polish and Portuguese ones (5, 8, 9) are left:
		// next to "call" they are as often counts and IDs in code.
		return 0.6, true
	case k == 1 && len(d) == 12 && d[0] == '0' && d[1] == '1' && containsByte("567", d[2]):
		// A German mobile written in one run: 015112345678.
		return 0.8, true
	case k == 1 && len(d) == 10 && d[0] >= '2' && nanpValid(d):
		return 0.8, true
	case k == 1 && len(d) == 11 && d[0] == '1' && nanpValid(d[1:]):
		return 0.8, true
	case k == 1 && (len(d) == 10 || len(d) == 11) && d[0] == '0' && d[1] != '0':
		if len(d) == 11 && ukDrama(d[1:]) {
			return 0, false
		}
		return 0.8, true
	}
	return 0, false
}

// intlPhone checks an international number: d holds the country code and national number.
func intlPhone(d []byte, t *phoneTok, k int, conf float64) (float64, bool) {
	if len(d) < 7 || len(d) > 15 {
		return 0, false
	}
	cc := countryCode(d)
	if cc == 0 {
		return 0, false
	}
	needCtx := false
	nsn := d[cc:]
	// A date is not a phone: +2024-01-15 reads as groups 4-2-2.
	if k == 3 && t.glen(0) == 4 && t.glen(1) == 2 && t.glen(2) == 2 {
		return 0, false
	}
	code := string(d[:cc])
	min, max := 6, 13
	switch code {
	case "1":
		if len(nsn) != 10 || !nanpValid(nsn) {
			return 0, false
		}
		return conf, false
	case "44":
		min, max = 9, 10
		if ukDrama(nsn) {
			return 0, false
		}
	case "33", "34", "31", "48", "41", "351", "61":
		min, max = 9, 9
	case "32":
		min, max = 8, 9
	case "39":
		min, max = 6, 11
	case "45", "47":
		min, max = 8, 8
	case "7", "91", "52":
		min, max = 10, 10
	case "86":
		min, max = 10, 11
	case "81":
		min, max = 9, 10
	case "55":
		min, max = 10, 11
	case "49", "43":
		min, max = 6, 13
	case "247", "290", "500", "682", "690":
		// Ascension, St Helena and Tristan da Cunha, the Falklands, the Cook Islands, Tokelau:
		// plans of four or five digits, too short to tell apart without a word such as phone.
		min, max, needCtx = 4, 5, true
	}
	if len(nsn) < min || len(nsn) > max || len(d) < 8 && !needCtx {
		return 0, false
	}
	// Italy and the plans that moved to ten digits starting 0 (Côte d'Ivoire, Benin, Gabon,
	// Congo) dial the 0; elsewhere it is the trunk prefix, never dialled after the code.
	if nsn[0] == '0' && code != "39" && code != "225" && code != "229" && code != "241" && code != "242" {
		return 0, false
	}
	return conf, needCtx
}

// nanpValid checks ten NANP digits: area code and exchange start 2–9 and are not N11; 555 (the
// fictional exchange, and an unassigned area code) is not a real number either.
func nanpValid(d []byte) bool {
	if len(d) != 10 || d[0] < '2' || d[3] < '2' {
		return false
	}
	if d[1] == '1' && d[2] == '1' || d[4] == '1' && d[5] == '1' {
		return false
	}
	if d[0] == '5' && d[1] == '5' && d[2] == '5' || d[3] == '5' && d[4] == '5' && d[5] == '5' {
		return false
	}
	return true
}

// ukDrama: Ofcom's numbers reserved for TV and radio drama (national significant number, the
// leading 0 dropped).
func ukDrama(nsn []byte) bool {
	s := string(nsn)
	for _, p := range []string{"1134960", "1144960", "1154960", "1164960", "1174960", "1184960", "1214960",
		"1314960", "1414960", "1514960", "1614960", "2079460", "2890180", "2920180", "1632960", "7700900",
		"8081570", "9098790", "3069990"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// countryCodes are the assigned ITU-T E.164 country codes.
var countryCodes [1000]bool

func init() {
	for _, c := range []int{1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
		51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
		211, 212, 213, 216, 218, 290, 291, 297, 298, 299, 420, 421, 423, 670, 800, 808, 850, 852, 853, 855,
		856, 870, 878, 880, 881, 882, 883, 886, 888, 992, 993, 994, 995, 996, 998} {
		countryCodes[c] = true
	}
	for c := 220; c <= 269; c++ {
		countryCodes[c] = c != 259
	}
	for c := 350; c <= 389; c++ {
		countryCodes[c] = c != 384
	}
	for c := 500; c <= 509; c++ {
		countryCodes[c] = true
	}
	for c := 590; c <= 599; c++ {
		countryCodes[c] = true
	}
	for c := 672; c <= 692; c++ {
		countryCodes[c] = c != 684
	}
	for c := 960; c <= 979; c++ {
		countryCodes[c] = c != 969 && c != 978
	}
}

// countryCode returns the length of the country code d starts with (codes are prefix-free), or 0.
func countryCode(d []byte) int {
	v := 0
	for l := 1; l <= 3 && l <= len(d); l++ {
		v = v*10 + int(d[l-1]-'0')
		if countryCodes[v] && (l > 1 || v == 1 || v == 7) {
			return l
		}
	}
	return 0
}

// binary: only zeros and ones (bit patterns in comments and tests).
// powerOfTwo reports whether the digits are 2ⁿ or 2ⁿ−1 (2147483648, 4294967295): integer
// limits and buffer sizes in code, not phone numbers.
func powerOfTwo(d []byte) bool {
	if len(d) > 18 || d[0] == '0' {
		return false
	}
	v := uint64(0)
	for _, c := range d {
		v = v*10 + uint64(c-'0')
	}
	return v&(v-1) == 0 || v&(v+1) == 0
}

func binary(d []byte) bool {
	for _, c := range d {
		if c > '1' {
			return false
		}
	}
	return true
}

// hexNeighbour reports whether the candidate text[s:e] sits in a hex dump or a byte table: the
// token just before or after it is a hex byte or word ("4b", "a0", "0x1f", "00cc") rather than
// a word. "06 01 05 05 07" in `50 4b 06 01 05 05 07 ff` is bytes, not a French mobile number.
func hexNeighbour(text string, s, e int) bool {
	p := s
	if p > 0 && isByteSep(text[p-1]) {
		p--
		q := p
		for q > 0 && p-q < 10 && isAlnum(text[q-1]) {
			q--
		}
		if hexToken(text[q:p]) {
			return true
		}
	}
	p = e
	if p < len(text) && isByteSep(text[p]) {
		p++
		q := p
		for q < len(text) && q-p < 10 && isAlnum(text[q]) {
			q++
		}
		if hexToken(text[p:q]) {
			return true
		}
		// "bf" alone may be a word; "bf 36" after a number is a dump (od -x: 0000150 54 62 11 bf 36).
		if q-p == 2 && hexPair(text[p:q]) && q+3 <= len(text) && isByteSep(text[q]) && hexPair(text[q+1:q+3]) &&
			(q+3 == len(text) || !isAlnum(text[q+3])) {
			return true
		}
	}
	return false
}

// hexPair: two hex digits, letters or not.
func hexPair(t string) bool {
	for k := 0; k < len(t); k++ {
		if c := t[k]; !isDigit(c) && (c|0x20)-'a' >= 6 {
			return false
		}
	}
	return true
}

func isByteSep(c byte) bool { return c == ' ' || c == '\t' || c == ',' || c == ';' || c == ':' }

// hexToken: 0x…, a two-character hex byte with a digit (4b, 00, 7f), or a hex word of four
// or eight characters with both a letter and a digit (00cc, 3c0a).
func hexToken(t string) bool {
	if len(t) >= 3 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		return true
	}
	if len(t) != 2 && len(t) != 4 && len(t) != 8 {
		return false
	}
	digits, letters := 0, 0
	for k := 0; k < len(t); k++ {
		switch c := t[k]; {
		case isDigit(c):
			digits++
		case (c|0x20)-'a' < 6:
			letters++
		default:
			return false
		}
	}
	if len(t) == 2 {
		return digits > 0
	}
	return digits > 0 && letters > 0
}
