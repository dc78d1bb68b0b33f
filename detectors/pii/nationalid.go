package pii

import "github.com/customs-dev/customs/detectors"

// ---- US Social Security number ----

var ssnContext = newContext("ssn", "social security", "soc sec", "soc. sec", "ss#", "ss #", "ss no", "ss-no", "sozialversicherung",
	"social-security", "taxpayer id")

func ssnDetector(o Options) detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.ssn",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "US Social Security number AAA-GG-SSSS (area not 000, 666 or 900–999, group not " +
				"00, serial not 0000). Dashed: confidence 0.9, 1 next to \"SSN\"/\"social security\"; " +
				"space-separated: 0.6, 1 with context; nine bare digits only next to a context word. " +
				"The invalidated numbers 078-05-1120 and 219-09-9999, 123-45-6789 and one-digit fillers " +
				"(111-11-1111) are not reported.",
			Examples: detectors.Examples{
				Match: []string{
					"SSN: 536-90-4399",
					"her social security number is 212 67 4410.",
					"ssn=536904399",
					"applicant 401-23-5567 approved",
				},
				NoMatch: []string{
					"SSN: 000-12-3456",
					"SSN 666-45-1234",
					"SSN 912-34-5678",
					"SSN 536-00-4399",
					"SSN 536-90-0000",
					"the famous 078-05-1120 card",
					"order 536904399 shipped", // bare digits without context
					"call 536-904-3990",
					"part 1536-90-43990",
					"2024-01-15",
					"request 550e8400-e29b-41d4-a716-446655440000",
					"ORD-536-90-4399",
					"upgrade to v536.90.4399",
					"q 884 75 1062 75 q 784 90", // glyph outline coordinates
				},
			},
		},
		at: o.ssnAt,
		terms: []detectors.RunTerm{term(
			func(p byte, n int) bool { return (n == 3 || n == 9) && mayStart(p) && p != '+' && p != '$' },
			func(c byte, n int) bool { return n != 3 || c == '-' || c == ' ' })},
	}
}

func (o Options) ssnAt(text string, i, j int, emit func(detectors.Match)) int {
	if l := j - i; l != 9 && (l != 3 || j+1 >= len(text) || text[j] != '-' && text[j] != ' ' || !isDigit(text[j+1])) {
		return j
	}
	if !startOK(text, i) || i > 0 && (text[i-1] == '+' || text[i-1] == '$') {
		return j
	}
	var d [9]byte
	var end int
	conf := 0.9
	switch j - i {
	case 3:
		g := readGroups(text, i, "- ", 9)
		if g.n < 3 || g.len(0) != 3 || g.len(1) != 2 || g.len(2) != 4 || !g.sameSep(3) {
			return j
		}
		end = g.end(3)
		g.compact(text, 3, d[:0])
		if g.sep[0] == ' ' {
			conf = 0.6
		}
	case 9:
		end = j
		copy(d[:], text[i:j])
		conf = 0
	default:
		return j
	}
	if !endOK(text, end) || !ssnIssuable(string(d[:])) || o.known(famousSSN(string(d[:]))) {
		return j
	}
	if ssnContext.around(text, i, end, 48, 16) {
		conf = 1
	} else if conf == 0.6 && (i >= 2 && text[i-1] == ' ' && isDigit(text[i-2]) || end+1 < len(text) && text[end] == ' ' && isDigit(text[end+1])) {
		// Three numbers in a longer space-separated list (glyph outlines, coordinates, tables).
		return j
	}
	if conf == 0 {
		return j
	}
	emit(detectors.Match{Start: i, End: end, Confidence: conf})
	return end
}

// SSNValid reports whether the nine digits are an issuable SSN: area 001–665, 667–899, group
// 01–99, serial 0001–9999, and not a famous invalid or filler number.
func SSNValid(d string) bool { return ssnIssuable(d) && !famousSSN(d) }

// famousSSN: the Woolworth wallet-card number, the one from a 1940s advertisement, and the
// number of every form's example field.
func famousSSN(d string) bool { return d == "078051120" || d == "219099999" || d == "123456789" }

func ssnIssuable(d string) bool {
	if len(d) != 9 {
		return false
	}
	for i := 0; i < 9; i++ {
		if !isDigit(d[i]) {
			return false
		}
	}
	b := []byte(d)
	area, group, serial := atoi(b[:3]), atoi(b[3:5]), atoi(b[5:])
	switch {
	case area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0:
		return false
	}
	return !mostlyOneDigit(b, 0)
}

// ---- UK National Insurance number ----

var ninoContext = newContext("national insurance", "nino", "ni number", "ni no", "ni-nummer", "n.i.", "nat ins", "insurance number",
	"ni #", "ni#", "ni num", "national id")

func ninoDetector() detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.nino",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "UK National Insurance number: two prefix letters (first not D F I Q U V, second " +
				"not D F I O Q U V, not BG GB KN NK NT TN ZZ), six digits, suffix A–D; AB123456C or " +
				"AB 12 34 56 C. No check digit: confidence 0.85, 1 next to \"national insurance\"/" +
				"\"NINO\"; without its suffix, or in lower case (hh012345d), only next to such a word. " +
				"The sample AB123456C is not reported.",
			Examples: detectors.Examples{
				Match: []string{
					"NI number: JG 10 37 29 A",
					"employee PX481926B joined",
					"National Insurance no. CE 62 18 45",
					"my NI number is jg103729a",
				},
				NoMatch: []string{
					"NI number: QQ 12 34 56 C", // Q is never a first letter
					"NINO GB481926B",           // administrative prefix
					"TN481926B",
					"NI number AB123456C", // the sample
					"code PX481926E",      // suffix is A-D
					"ref PX481926",        // no suffix, no context
					"px481926b",           // lower case, no context
					"NINO Jg103729a",      // mixed case
					"XPX481926B",          // inside a longer token
					"sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
					"SKU JG1037-29A",
				},
			},
		},
		at: ninoAt,
		terms: []detectors.RunTerm{{
			Prev: func(p byte, n int) bool {
				return n == 6 && (isAlpha(p) || p == ' ' || p == '-') || n == 2 && (p == ' ' || p == '-')
			},
			Next: func(c byte, n int) bool { return n != 2 || c == ' ' || c == '-' },
			// the second letter of the prefix, before the digits or their separator
			Prev2: isAlpha,
		}},
	}
}

// NINOPrefixOK reports whether two upper-case letters may begin a NINO.
func NINOPrefixOK(a, b byte) bool {
	if !isUpper(a) || !isUpper(b) || containsByte("DFIQUV", a) || containsByte("DFIQUVO", b) {
		return false
	}
	switch string([]byte{a, b}) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	return true
}

func ninoAt(text string, i, j int, emit func(detectors.Match)) int {
	if l := j - i; l != 6 && l != 2 {
		return j
	}
	n := len(text)
	var s int
	var sep byte
	switch {
	case i >= 3 && (text[i-1] == ' ' || text[i-1] == '-') && isAlpha(text[i-2]) && isAlpha(text[i-3]):
		s, sep = i-3, text[i-1]
	case i >= 2 && isAlpha(text[i-1]) && isAlpha(text[i-2]):
		s = i - 2
	default:
		return j
	}
	// One case throughout: AB123456C, or ab123456c (only next to a context word).
	lower := !isUpper(text[s])
	if isUpper(text[s+1]) == lower || !startOK(text, s) || !NINOPrefixOK(text[s]&^0x20, text[s+1]&^0x20) {
		return j
	}
	var e int
	var d [6]byte
	switch {
	case j-i == 6:
		e = j
		copy(d[:], text[i:j])
	case sep != 0 && j-i == 2:
		g := readGroups(text, i, string(sep), 6)
		if g.n != 3 || g.len(1) != 2 || g.len(2) != 2 || g.more {
			return j
		}
		e = g.end(3)
		g.compact(text, 3, d[:0])
	default:
		return j
	}
	if string(d[:]) == "123456" || mostlyOneDigit(d[:], 0) {
		return j
	}
	end := -1
	lo := byte('A')
	if lower {
		lo = 'a'
	}
	suffix := func(p int) bool { return p < n && text[p] >= lo && text[p] <= lo+3 && endOK(text, p+1) }
	switch {
	case suffix(e):
		end = e + 1
	case e+1 < n && (text[e] == ' ' || text[e] == sep) && suffix(e+1):
		end = e + 2
	}
	ctx := ninoContext.around(text, s, max(end, e), 48, 8)
	conf := 0.85
	if ctx {
		conf = 1
	}
	if end < 0 || lower {
		if !ctx || end < 0 && !endOK(text, e) {
			return j
		}
		end = max(end, e)
	}
	emit(detectors.Match{Start: s, End: end, Confidence: conf})
	return end
}

// ---- French NIR (numéro de sécurité sociale) ----

var nirContext = newContext("nir", "sécurité sociale", "securite sociale", "sécu", "secu", "insee", "numéro de sécurité", "social security",
	"numéro ss", "n° ss", "carte vitale", "immatriculation")

func nirDetector() detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.fr-nir",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "French NIR (numéro de sécurité sociale, INSEE number): 15 digits, sex 1/2 (or " +
				"3/4/7/8), year, month (01–12, 20–42, 50–99), department (2A/2B for Corsica), commune, " +
				"order and the key 97 − (n mod 97); compact or printed 1 85 05 78 006 084 36. Confidence " +
				"1 when printed in groups or next to \"NIR\"/\"sécurité sociale\", 0.9 as a bare run.",
			Examples: detectors.Examples{
				Match: []string{
					"n° sécu : 2 95 10 99 126 111 93",
					"NIR 253072B07300470",
					"numéro 184127645108946 ok",
				},
				NoMatch: []string{
					"n° sécu : 2 95 10 99 126 111 94", // bad key
					"NIR 253072C07300443",             // no department 2C
					"id 295109912611193000",           // longer run
					"ref 595109912611193",             // no sex digit 5
					"tracking 2 95 10 99 126 111",
					"trace 550e8400-e29b-41d4-a716-446655440000 at 2024-01-15T10:30:00Z",
					"order #184127645108947",
				},
			},
		},
		at: nirAt,
		terms: startTerms(
			func(p byte, n int) bool { return (n == 15 || n == 1 || n == 6) && mayStart(p) },
			func(c byte, n int) bool { return n != 1 || c == ' ' || c == '.' }, nil),
	}
}

func nirAt(text string, i, j int, emit func(detectors.Match)) int {
	if l := j - i; l != 15 && l != 1 && l != 6 || !containsByte("123478", text[i]) || !startOK(text, i) {
		return j
	}
	n := len(text)
	var buf [15]byte
	var sep byte
	p := i
	for k := 0; k < 15; k++ {
		if p >= n {
			return j
		}
		switch k {
		case 1:
			if (text[p] == ' ' || text[p] == '.') && p+1 < n && isDigit(text[p+1]) {
				sep = text[p]
				p++
			}
		case 3, 5, 7, 10, 13:
			if sep != 0 {
				if text[p] != sep || p+1 >= n {
					return j
				}
				p++
			}
		}
		c := text[p]
		if !isDigit(c) && !(k == 6 && (c == 'A' || c == 'B') && buf[5] == '2') {
			return j
		}
		buf[k] = c
		p++
	}
	if !endOK(text, p) || !nirValid(buf[:]) {
		return j
	}
	// One value, one finding: fifteen bare digits that are also a card number (Luhn and an
	// issuer range) are the card's, unless a word names the NIR.
	if sep == 0 && iinOK(buf[:]) && luhn(buf[:]) && !nirContext.around(text, i, p, 48, 8) {
		return j
	}
	conf := 1.0
	if sep == 0 && !nirContext.around(text, i, p, 48, 8) {
		conf = 0.9
	}
	emit(detectors.Match{Start: i, End: p, Confidence: conf})
	return p
}

// NIRValid reports whether s is a valid compact NIR (15 characters).
func NIRValid(s string) bool { return len(s) == 15 && nirValid([]byte(s)) }

func nirValid(b []byte) bool {
	if len(b) != 15 || !containsByte("123478", b[0]) {
		return false
	}
	var num [13]byte
	copy(num[:], b[:13])
	switch {
	case b[5] == '2' && b[6] == 'A':
		num[5], num[6] = '1', '9'
	case b[5] == '2' && b[6] == 'B':
		num[5], num[6] = '1', '8'
	}
	for _, c := range num {
		if !isDigit(c) {
			return false
		}
	}
	if !isDigit(b[13]) || !isDigit(b[14]) {
		return false
	}
	m := atoi2(b[3:5])
	if m == 0 || m > 12 && m < 20 || m > 42 && m < 50 {
		return false
	}
	r := 0
	for _, c := range num {
		r = (r*10 + int(c-'0')) % 97
	}
	return 97-r == atoi2(b[13:15])
}

// ---- Spanish DNI / NIE ----

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

var dniContext = newContext("dni", "nie", "nif", "documento nacional", "d.n.i", "n.i.e", "identidad", "extranjero",
	"documento de identidad", "número de identificación", "numero de identificacion", "national id")

func dniDetector() detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.es-dni",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Spanish DNI (8 digits and a check letter, 12345678-Z style too) and NIE (X, Y " +
				"or Z, 7 digits, check letter); the letter must be the mod-23 letter. Confidence 0.9, 1 " +
				"next to \"DNI\"/\"NIE\"/\"NIF\"; a NIE in lower case or with a dash after its first letter " +
				"(x-2482300w) only next to such a word. The sample 12345678Z and one-digit fillers are not " +
				"reported.",
			Examples: detectors.Examples{
				Match: []string{
					"DNI 98272814R",
					"mi NIE es Y8519549H",
					"NIE: x-2482300w",
					"titular: 71.588.835-R",
					"cliente 16034816-K registrado",
				},
				NoMatch: []string{
					"DNI 98272814T",  // wrong letter
					"DNI 12345678Z",  // the sample
					"NIE W8519549H",  // no such prefix
					"ref 198272814R", // nine digits
					"id 98272814Rx",  // glued
					"ref x-2482300w", // lower case needs a context word
					"sha1 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
					"version 10.4.2-rc1, build 2024011512",
				},
			},
		},
		at: dniAt,
		terms: []detectors.RunTerm{term(
			func(p byte, n int) bool {
				return n == 7 && ((p|0x20)-'x' < 3 || p == '-') || (n == 8 || n == 2) && mayStart(p)
			},
			func(c byte, n int) bool { return n != 2 || c == '.' })},
	}
}

func dniAt(text string, i, j int, emit func(detectors.Match)) int {
	n := len(text)
	s := i
	var d [8]byte
	var e int
	weak := false // a lower-case or dashed NIE (x-2482300w): only next to a context word
	switch {
	case j-i == 7 && i > 0 && containsByte("XYZ", text[i-1]):
		s = i - 1
		d[0] = "012"[text[i-1]-'X']
		copy(d[1:], text[i:j])
		e = j
	case j-i == 7 && i > 0 && containsByte("xyz", text[i-1]) || j-i == 7 && i > 1 && text[i-1] == '-' && containsByte("XYZxyz", text[i-2]):
		s = i - 1
		if text[s] == '-' {
			s--
		}
		d[0] = "012"[text[s]|0x20-'x']
		copy(d[1:], text[i:j])
		e, weak = j, true
	case j-i == 8:
		copy(d[:], text[i:j])
		e = j
	case j-i == 2 && j+1 < n && text[j] == '.' && isDigit(text[j+1]):
		g := readGroups(text, i, ".", 8)
		if g.n != 3 || g.len(1) != 3 || g.len(2) != 3 || g.more {
			return j
		}
		g.compact(text, 3, d[:0])
		e = g.end(3)
	default:
		return j
	}
	if !startOK(text, s) {
		return j
	}
	p := e
	if p+1 < n && (text[p] == '-' || text[p] == ' ') && isAlpha(text[p+1]) {
		p++
	}
	if p >= n || !isAlpha(text[p]) || !endOK(text, p+1) || !isUpper(text[p]) && !weak {
		return j
	}
	if dniLetters[atoi(d[:])%23] != text[p]&^0x20 {
		return j
	}
	if string(d[:]) == "12345678" || mostlyOneDigit(d[:], 0) {
		return j
	}
	conf := 0.9
	if dniContext.around(text, s, p+1, 48, 8) {
		conf = 1
	} else if weak {
		return j
	}
	emit(detectors.Match{Start: s, End: p + 1, Confidence: conf})
	return p + 1
}

// DNIValid reports whether s is a valid compact DNI (12345678Z) or NIE (X1234567L).
func DNIValid(s string) bool {
	if len(s) != 9 {
		return false
	}
	var d [8]byte
	switch {
	case containsByte("XYZ", s[0]):
		d[0] = "012"[s[0]-'X']
		copy(d[1:], s[1:8])
	default:
		copy(d[:], s[:8])
	}
	for _, c := range d {
		if !isDigit(c) {
			return false
		}
	}
	return dniLetters[atoi(d[:])%23] == s[8]
}

// ---- Italian codice fiscale ----

var cfExamples = map[string]bool{"RSSMRA85T10A562S": true, "RSSMRA80A01H501U": true, "MRTMTT25D09F205Z": true}

func codiceFiscaleDetector(o Options) detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.it-codice-fiscale",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Italian codice fiscale of a person: 16 upper-case characters (surname, name, " +
				"birth year, month letter, day (+40 for women), place code, check letter), omocodia " +
				"substitutions allowed; the check letter and the birth date must be valid. The textbook " +
				"RSSMRA85T10A562S is not reported.",
			Examples: detectors.Examples{
				Match: []string{
					"codice fiscale: RCCMNL83S18D969H",
					"CF CNTCHR83T41D969D, residente a Roma",
				},
				NoMatch: []string{
					"codice fiscale: RCCMNL83S18D969A", // wrong check letter
					"codice fiscale RSSMRA85T10A562S",  // textbook example
					"RCCMNL83S18D969HX",                // longer token
					"build ABCDEF12G34H567I",
					"sha 9F86D081884C7D659A2FEAA0C55AD015",
					"UUID 550E8400-E29B-41D4-A716-446655440000",
				},
			},
		},
		at: o.codiceFiscaleAt,
		terms: []detectors.RunTerm{{
			Prev: func(p byte, _ int) bool { return isUpper(p) },
			// the check character, last, is a letter: a run inside a code is followed by one
			Next: func(c byte, _ int) bool { return isUpper(c) },
			// six characters at least precede the first digit (RSSMRA85…)
			Prev2: isUpperOrDigit,
		}},
	}
}

func isUpperOrDigit(c byte) bool { return isUpper(c) || isDigit(c) }

func (o Options) codiceFiscaleAt(text string, i, j int, emit func(detectors.Match)) int {
	if i == 0 || !isUpper(text[i-1]) && !isDigit(text[i-1]) {
		return j
	}
	s := i
	for s > 0 && i-s < 16 && isUpperOrDigit(text[s-1]) {
		s--
	}
	if i-s < 6 || s > 0 && isWordByte(text[s-1]) {
		return j
	}
	e := i
	for e < len(text) && e-s <= 16 && isUpperOrDigit(text[e]) {
		e++
	}
	if e-s != 16 || !endOK(text, e) {
		return max(e, j)
	}
	v := text[s:e]
	if !CodiceFiscaleValid(v) || o.known(cfExamples[v]) {
		return e
	}
	emit(detectors.Match{Start: s, End: e, Confidence: 1})
	return e
}

const cfOmocodia = "LMNPQRSTUV"

// cfDigit returns the value of a digit position (a digit or its omocodia letter).
func cfDigit(c byte) (int, bool) {
	if isDigit(c) {
		return int(c - '0'), true
	}
	for k := 0; k < len(cfOmocodia); k++ {
		if cfOmocodia[k] == c {
			return k, true
		}
	}
	return 0, false
}

var cfOdd = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23} // A-Z

// CodiceFiscaleValid reports whether s is a valid 16-character personal codice fiscale.
func CodiceFiscaleValid(s string) bool {
	if len(s) != 16 {
		return false
	}
	for k := 0; k < 6; k++ {
		if !isUpper(s[k]) {
			return false
		}
	}
	var dv [7]int
	for x, k := range []int{6, 7, 9, 10, 12, 13, 14} {
		v, ok := cfDigit(s[k])
		if !ok {
			return false
		}
		dv[x] = v
	}
	if !containsByte("ABCDEHLMPRST", s[8]) || !isUpper(s[11]) || !isUpper(s[15]) {
		return false
	}
	day := (dv[2]*10 + dv[3]) % 40
	if day < 1 || day > 31 {
		return false
	}
	sum := 0
	for k := 0; k < 15; k++ {
		c := s[k]
		idx := 0
		if isDigit(c) {
			idx = int(c - '0')
		} else {
			idx = 10 + int(c-'A')
		}
		if k%2 == 0 { // odd positions, counting from 1
			sum += cfOdd[idx]
		} else if isDigit(c) {
			sum += int(c - '0')
		} else {
			sum += int(c - 'A')
		}
	}
	return s[15] == byte('A'+sum%26)
}

// ---- Dutch BSN (keyword) ----

var bsnTest = map[string]bool{"111222333": true, "123456782": true, "999999990": true}

func bsnDetector(o Options) detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.nl-bsn",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Dutch burgerservicenummer: 9 digits (123456782, 1234.56.782, 123 456 782) " +
				"passing the 11-proof (or 8, a leading zero dropped), reported only within 64 bytes after (or 32 before) the words " +
				"BSN, burgerservicenummer or sofinummer: one random 9-digit number in eleven passes the " +
				"check. The test numbers 111222333 and 123456782 are not reported.",
			Keywords: []string{"bsn", "national id", "burgerservicenummer", "sofinummer", "sofi-nummer", "citizen service number", "bsn-nummer"},
			Examples: detectors.Examples{
				Match: []string{
					"BSN: 603328222",
					"burgerservicenummer 6487.07.763 van de klant",
					"de sofinummer is 330 429 346.",
					"Mijn BSN is 40645678.", // 040645678, its leading zero dropped
				},
				NoMatch: []string{
					"BSN: 603328223",              // fails the 11-proof
					"order 603328222 shipped",     // no context word
					"BSN 111222333",               // test number
					"BSN 6033282221",              // ten digits
					"BSN-formulier op 2024-01-15", // date
				},
			},
		},
		before: 32, after: 64, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, " .-", 9)
			var k int
			pad := false
			switch {
			case g.n >= 1 && g.len(0) == 9:
				k = 1
			case g.n >= 1 && g.len(0) == 8:
				// Eight digits: a BSN whose leading zero was dropped (spreadsheets do), read as 0…
				k, pad = 1, true
			case g.n >= 3 && g.sameSep(3) && (g.len(0) == 3 && g.len(1) == 3 || g.len(0) == 4 && g.len(1) == 2) && g.len(2) == 3:
				k = 3
			default:
				return 0, 0, false
			}
			var buf [9]byte
			d := g.compact(text, k, buf[:0])
			if pad {
				d = append([]byte{'0'}, d...)
			}
			e := g.end(k)
			if !endOK(text, e) || !BSNValid(string(d)) || o.known(bsnTest[string(d)]) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

// BSNValid reports whether the nine digits pass the BSN 11-proof.
func BSNValid(d string) bool {
	if len(d) != 9 || d == "000000000" {
		return false
	}
	sum := 0
	for k := 0; k < 9; k++ {
		if !isDigit(d[k]) {
			return false
		}
		w := 9 - k
		if k == 8 {
			w = -1
		}
		sum += w * int(d[k]-'0')
	}
	return sum%11 == 0
}

// ---- German Steuer-ID (keyword) ----

func steuerIDDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.de-steuer-id",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "German steuerliche Identifikationsnummer (IdNr): 11 digits (or 12 345 678 901), " +
				"first not 0, in the first ten exactly one digit repeated twice or three times (never " +
				"three in a row), ISO 7064 MOD 11,10 check digit; reported only within 80 bytes after " +
				"(or 32 before) Steuer-ID, IdNr, Steueridentifikationsnummer or \"tax ID\".",
			Keywords: []string{"steuer-id", "national id", "steuerid", "steuer id", "steuer_id", "steuer-idnr", "steueridentifikationsnummer",
				"identifikationsnummer", "idnr", "id-nr", "tax id", "tax_id", "tax identification", "steuer-identifikationsnummer",
				"steuerliche identifikationsnummer"},
			Examples: detectors.Examples{
				Match: []string{
					"Steuer-ID: 23 680 475 183",
					"Steueridentifikationsnummer 56172908559",
					"tax ID (IdNr) 28409713571 attached",
				},
				NoMatch: []string{
					"Steuer-ID: 36574261890", // check digit
					"Steuer-ID: 36554266806", // too many repeated digits
					"invoice 23680475183",    // no context word
					"Steuer-ID 236804751830",
				},
			},
		},
		before: 32, after: 80, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, " /.", 11)
			var k int
			switch {
			case g.n >= 1 && g.len(0) == 11:
				k = 1
			case g.n >= 4 && g.sameSep(4) && g.len(0) == 2 && g.len(1) == 3 && g.len(2) == 3 && g.len(3) == 3:
				k = 4
			default:
				return 0, 0, false
			}
			var buf [11]byte
			d := g.compact(text, k, buf[:0])
			e := g.end(k)
			if !endOK(text, e) || !SteuerIDValid(string(d)) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

// SteuerIDValid reports whether d is a valid German tax identification number.
func SteuerIDValid(d string) bool {
	if len(d) != 11 || d[0] == '0' {
		return false
	}
	var count [10]int
	for k := 0; k < 11; k++ {
		if !isDigit(d[k]) {
			return false
		}
		if k < 10 {
			count[d[k]-'0']++
		}
	}
	rep := 0
	for _, c := range count {
		switch {
		case c == 2 || c == 3:
			rep++
		case c > 3:
			return false
		}
	}
	if rep != 1 {
		return false
	}
	for k := 2; k < 10; k++ {
		if d[k] == d[k-1] && d[k] == d[k-2] {
			return false
		}
	}
	return mod1110(d[:10]) == int(d[10]-'0')
}

// mod1110 is the ISO 7064 MOD 11,10 check digit of the digits.
func mod1110(d string) int {
	p := 10
	for k := 0; k < len(d); k++ {
		s := (int(d[k]-'0') + p) % 10
		if s == 0 {
			s = 10
		}
		p = (2 * s) % 11
	}
	return (11 - p) % 10
}

// ---- Polish PESEL (keyword) ----

func peselDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.pl-pesel",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Polish PESEL: 11 digits, birth date (month +20/+40/+60/+80 for other " +
				"centuries), weighted check digit; only within 64 bytes after (or 32 before) \"PESEL\".",
			Keywords: []string{"pesel", "national id", "numer ewidencyjny"},
			Examples: detectors.Examples{
				Match:   []string{"PESEL: 74092800462", "nr PESEL 77291835983."},
				NoMatch: []string{"PESEL: 74092800463", "numer 74092800462", "PESEL 74132800462"},
			},
		},
		before: 32, after: 64, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if j-i != 11 || !startOK(text, i) || !endOK(text, j) || !PESELValid(text[i:j]) {
				return 0, 0, false
			}
			return i, j, true
		},
	}
}

// PESELValid reports whether d is a valid PESEL.
func PESELValid(d string) bool {
	if len(d) != 11 {
		return false
	}
	w := [10]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for k := 0; k < 11; k++ {
		if !isDigit(d[k]) {
			return false
		}
		if k < 10 {
			sum += w[k] * int(d[k]-'0')
		}
	}
	b := []byte(d)
	m, day := atoi2(b[2:4])%20, atoi2(b[4:6])
	if m < 1 || m > 12 || day < 1 || day > 31 || mostlyOneDigit(b, 0) {
		return false
	}
	return (10-sum%10)%10 == int(d[10]-'0')
}

// ---- Belgian national register number (keyword) ----

func beNationalNumberDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.be-national-number",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Belgian national register number (rijksregisternummer / numéro national, " +
				"INSZ/NISS): YY.MM.DD-XXX.CC or 11 digits, check 97 − (n mod 97) (with the 2000s " +
				"variant); only within 64 bytes after (or 32 before) a word naming it.",
			Keywords: []string{"rijksregisternummer", "national id", "rijksregister", "registre national", "numéro national",
				"numero national", "national number", "nationaal nummer", "insz", "niss", "ssin", "rijksregister-nummer",
				"national register number", "numéro de registre national"},
			Examples: detectors.Examples{
				Match:   []string{"Rijksregisternummer: 29.07.20-130.25", "numéro national 48122326837"},
				NoMatch: []string{"Rijksregisternummer: 29.07.20-130.26", "invoice 29.07.20-130.25"},
			},
		},
		before: 32, after: 64, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, ".- ", 11)
			var k int
			switch {
			case g.n >= 1 && g.len(0) == 11:
				k = 1
			case g.n >= 3 && g.len(0) == 6 && g.len(1) == 3 && g.len(2) == 2:
				k = 3
			case g.n >= 5 && g.len(0) == 2 && g.len(1) == 2 && g.len(2) == 2 && g.len(3) == 3 && g.len(4) == 2:
				k = 5
			default:
				return 0, 0, false
			}
			var buf [11]byte
			d := g.compact(text, k, buf[:0])
			e := g.end(k)
			if !endOK(text, e) || !BENationalNumberValid(string(d)) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

// BENationalNumberValid reports whether d (11 digits) is a valid Belgian national number.
func BENationalNumberValid(d string) bool {
	if len(d) != 11 {
		return false
	}
	for k := 0; k < 11; k++ {
		if !isDigit(d[k]) {
			return false
		}
	}
	b := []byte(d)
	m, day := atoi2(b[2:4]), atoi2(b[4:6])
	if m > 52 || m%20 > 12 || day > 31 || mostlyOneDigit(b, 0) {
		return false
	}
	n := atoi(b[:9])
	c := atoi2(b[9:])
	return 97-n%97 == c || 97-(2000000000+n)%97 == c
}

// ---- Swedish personnummer (keyword) ----

func personnummerDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.se-personnummer",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Swedish personnummer or samordningsnummer: YYMMDD-NNNC, YYMMDD+NNNC, " +
				"YYYYMMDD-NNNC or 10/12 bare digits; valid date (day +60 for samordningsnummer) and " +
				"Luhn check digit; only within 64 bytes after (or 32 before) \"personnummer\".",
			Keywords: []string{"personnummer", "national id", "personnr", "person-nr", "samordningsnummer", "personal identity number",
				"pnr", "p-nr", "personnumret", "swedish id"},
			Examples: detectors.Examples{
				Match:   []string{"personnummer: 630715-7716", "Personnummer 19980213-2846", "pnr 630715-7716", "mitt personnummer är 630715-7716"},
				NoMatch: []string{"personnummer: 630715-7717", "order 630715-7716"},
			},
		},
		before: 32, after: 64, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, "-+", 12)
			var k int
			switch {
			case g.n >= 1 && (g.len(0) == 10 || g.len(0) == 12):
				k = 1
			case g.n >= 2 && (g.len(0) == 6 || g.len(0) == 8 && g.sep[0] == '-') && g.len(1) == 4:
				k = 2
			default:
				return 0, 0, false
			}
			var buf [12]byte
			d := g.compact(text, k, buf[:0])
			e := g.end(k)
			if !endOK(text, e) || !PersonnummerValid(string(d)) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

// PersonnummerValid reports whether d (10 or 12 digits, no separator) is a valid Swedish
// personnummer or samordningsnummer.
func PersonnummerValid(d string) bool {
	if len(d) == 12 {
		d = d[2:]
	}
	if len(d) != 10 {
		return false
	}
	for k := 0; k < 10; k++ {
		if !isDigit(d[k]) {
			return false
		}
	}
	b := []byte(d)
	m, day := atoi2(b[2:4]), atoi2(b[4:6])
	if m < 1 || m > 12 || !(day >= 1 && day <= 31 || day >= 61 && day <= 91) || mostlyOneDigit(b, 0) {
		return false
	}
	return luhn(b)
}
