package pii

import (
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// National identity numbers of more countries. Those with a weak shape (a run of digits that a
// date and a check digit pass one time in ten or a hundred) are keyword detectors (nearWord),
// like the BSN; those whose shape is strong on its own (the Mexican CURP, the dotted Swiss AHV
// number) are single-pass run scanners.

// ---- Norwegian fødselsnummer / D-nummer (keyword) ----

func fodselsnummerDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.no-fodselsnummer",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Norwegian fødselsnummer (or D-nummer, day +40): 11 digits DDMMYYIIIKK or " +
				"DDMMYY IIIKK, a real birth date and two mod-11 check digits; only within 64 bytes after " +
				"(or 32 before) fødselsnummer, personnummer, fnr or D-nummer.",
			Keywords: []string{"fødselsnummer", "fodselsnummer", "foedselsnummer", "fødselsnr", "fødselsnummeret", "personnummer",
				"fnr", "f.nr", "d-nummer", "national id", "norwegian id", "national identity number"},
			Examples: detectors.Examples{
				Match: []string{
					"Fødselsnummer: 15108695088",
					"mitt fødselsnummer er 151086 95088",
					"fnr 01010750160",
					"D-nummer 41018036736",
				},
				NoMatch: []string{
					"Fødselsnummer: 15108695089", // check digit
					"Fødselsnummer: 32108695088", // no 32nd day
					"ordre 15108695088",          // no context word
					"fnr 151086950881",
				},
			},
		},
		before: 32, after: 64, confidence: 0.9, wordStart: true,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, " ", 11)
			var k int
			switch {
			case g.n >= 1 && g.len(0) == 11:
				k = 1
			case g.n >= 2 && g.len(0) == 6 && g.len(1) == 5:
				k = 2
			default:
				return 0, 0, false
			}
			var buf [11]byte
			d := g.compact(text, k, buf[:0])
			e := g.end(k)
			if !endOK(text, e) || !FodselsnummerValid(string(d)) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

// FodselsnummerValid reports whether d (11 digits) is a valid Norwegian fødselsnummer or
// D-nummer.
func FodselsnummerValid(d string) bool {
	if len(d) != 11 || !allDigits(d) {
		return false
	}
	b := []byte(d)
	day, month := atoi2(b[0:2]), atoi2(b[2:4])
	if day > 40 {
		day -= 40 // D-nummer
	}
	if month > 40 {
		month -= 40 // H-nummer
	}
	if !dayOK(day, month) || mostlyOneDigit(b, 0) {
		return false
	}
	k1 := mod11Check(b[:9], []int{3, 7, 6, 1, 8, 9, 4, 5, 2})
	k2 := mod11Check(b[:10], []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
	return k1 == int(b[9]-'0') && k2 == int(b[10]-'0')
}

// mod11Check is 11 − (Σ wᵢdᵢ mod 11), 0 for 11, -1 (no valid digit) for 10.
func mod11Check(d []byte, w []int) int {
	s := 0
	for k, c := range d {
		s += w[k] * int(c-'0')
	}
	switch c := 11 - s%11; c {
	case 11:
		return 0
	case 10:
		return -1
	default:
		return c
	}
}

// ---- Danish CPR-nummer (keyword) ----

func cprDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.dk-cpr",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Danish CPR number DDMMYY-SSSS (or 10 digits): a real birth date; no check " +
				"digit (CPRs issued since 2007 need not pass mod 11), so only within 48 bytes after (or 24 " +
				"before) CPR, CPR-nr or CPR-nummer.",
			// Not "personnummer": the Swedish number of that name (YYMMDD-NNNC) is a valid CPR date
			// one time in three, and only the Swedish one has a check digit to tell them apart.
			Keywords: []string{"cpr", "national id", "danish id"},
			Examples: detectors.Examples{
				Match: []string{
					"CPR-nummer: 010180-1234",
					"mit CPR nr. er 2406921113",
					"my CPR number is 311299-4012",
				},
				NoMatch: []string{
					"CPR-nummer: 320180-1234", // no 32nd day
					"CPR-nummer: 011380-1234", // no 13th month
					"ordre 010180-1234",       // no context word
					"CPR 010180-12345",
					"CPR 0101801234-5",
				},
			},
		},
		before: 24, after: 48, confidence: 0.85, wordStart: true,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, "-", 10)
			var k int
			switch {
			case g.n >= 1 && g.len(0) == 10:
				k = 1
			case g.n >= 2 && g.len(0) == 6 && g.len(1) == 4:
				k = 2
			default:
				return 0, 0, false
			}
			var buf [10]byte
			d := g.compact(text, k, buf[:0])
			e := g.end(k)
			if g.more || !endOK(text, e) || afterGroup(text, i) || !CPRValid(string(d)) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

// CPRValid reports whether d (10 digits) is a Danish CPR number: a real birth date DDMMYY.
func CPRValid(d string) bool {
	if len(d) != 10 || !allDigits(d) {
		return false
	}
	b := []byte(d)
	return dayOK(atoi2(b[0:2]), atoi2(b[2:4])) && !mostlyOneDigit(b, 0)
}

// ---- Swiss AHV / AVS number ----

var ahvContext = newContext("ahv", "avs", "sozialversicherung", "social security", "national id", "versichertennummer",
	"assicurazione", "numéro avs", "no avs", "n° avs", "sécurité sociale")

func ahvDetector() detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.ch-ahv",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Swiss social security number (AHV-Nummer / numéro AVS): 756 and ten digits " +
				"with an EAN-13 check digit. Printed 756.1234.5678.97: confidence 0.95, 1 next to " +
				"\"AHV\"/\"AVS\"; compact (7561234567897) or space-separated only next to such a word.",
			Examples: detectors.Examples{
				Match: []string{
					"AHV-Nummer: 756.9217.0769.85",
					"756.9203.3850.60",
					"numéro AVS 7569217076985",
					"AHV 75692170769 85",
				},
				NoMatch: []string{
					"AHV-Nummer: 756.9217.0769.86", // check digit
					"EAN 7569217076985",            // compact, no context
					"AHV 757.9217.0769.85",         // not 756
					"v756.9217.0769.85",
					"756.9217.0769.85.1",
				},
			},
		},
		at: ahvAt,
		terms: []detectors.RunTerm{term(
			func(p byte, n int) bool { return (n == 3 || n == 11 || n == 13) && mayStart(p) },
			func(c byte, n int) bool { return n == 13 || (n == 3 || n == 11) && (c == '.' || c == ' ') })},
	}
}

func ahvAt(text string, i, j int, emit func(detectors.Match)) int {
	if j-i < 3 || text[i:i+3] != "756" || !startOK(text, i) {
		return j
	}
	var buf [13]byte
	var e int
	dotted := false
	switch j - i {
	case 13:
		e = j
		copy(buf[:], text[i:j])
	case 3, 11:
		g := readGroups(text, i, ". ", 13)
		switch {
		case g.n >= 4 && g.sameSep(4) && g.len(0) == 3 && g.len(1) == 4 && g.len(2) == 4 && g.len(3) == 2:
			e, dotted = g.end(4), g.sep[0] == '.'
			g.compact(text, 4, buf[:0])
		case g.n >= 2 && g.sep[0] == ' ' && g.len(0) == 11 && g.len(1) == 2:
			e = g.end(2)
			g.compact(text, 2, buf[:0])
		default:
			return j
		}
		if g.more {
			return j
		}
	default:
		return j
	}
	if !endOK(text, e) || !AHVValid(string(buf[:])) {
		return j
	}
	conf := 0.95
	if ahvContext.around(text, i, e, 48, 8) {
		conf = 1
	} else if !dotted {
		return j
	}
	emit(detectors.Match{Start: i, End: e, Confidence: conf})
	return e
}

// AHVValid reports whether d (13 digits) is a Swiss AHV number: 756 and a valid EAN-13 check
// digit.
func AHVValid(d string) bool {
	if len(d) != 13 || d[:3] != "756" || !allDigits(d) || mostlyOneDigit([]byte(d[3:]), 0) {
		return false
	}
	s := 0
	for k := 0; k < 12; k++ {
		w := 1
		if k%2 == 1 {
			w = 3
		}
		s += w * int(d[k]-'0')
	}
	return (10-s%10)%10 == int(d[12]-'0')
}

// ---- Irish PPS number (keyword) ----

func ppsDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.ie-pps",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Irish Personal Public Service number: 7 digits, a mod-23 check letter and an " +
				"optional second letter (counted in the check since 2013; W, T and X of old numbers " +
				"are not); only within 64 bytes after (or 32 before) PPS, PPSN or \"personal public " +
				"service\".",
			Keywords: []string{"pps", "ppsn", "personal public service", "national id", "uimhir phearsanta"},
			Examples: detectors.Examples{
				Match: []string{
					"PPS number 6433435F",
					"my PPSN is 6433435OA.",
					"PPS: 6433435FW",
					"pps no. 6433435ih",
				},
				NoMatch: []string{
					"PPS number 6433435G",  // check letter
					"PPS number 6433435OB", // second letter counted
					"apps 6433435F",        // not the word PPS
					"order 6433435F",       // no context word
					"PPS 6433435FWX",
				},
			},
		},
		before: 32, after: 64, confidence: 0.9, wordStart: true,
		at: func(text string, i, j int) (int, int, bool) {
			if j-i != 7 || j >= len(text) || !isAlpha(text[j]) || !startOK(text, i) {
				return 0, 0, false
			}
			e := j + 1
			if e < len(text) && isAlpha(text[e]) {
				e++
			}
			if !endOK(text, e) || !PPSValid(upperASCII(text[i:e])) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

const ppsAlphabet = "WABCDEFGHIJKLMNOPQRSTUV"

// PPSValid reports whether s (7 digits and one or two upper-case letters) is a valid PPS number.
func PPSValid(s string) bool {
	if len(s) != 8 && len(s) != 9 || !allDigits(s[:7]) || mostlyOneDigit([]byte(s[:7]), 0) {
		return false
	}
	sum := 0
	for k := 0; k < 7; k++ {
		sum += (8 - k) * int(s[k]-'0')
	}
	check := func(extra int) bool { return ppsAlphabet[(sum+9*extra)%23] == s[7] }
	if len(s) == 8 {
		return check(0)
	}
	x := strings.IndexByte(ppsAlphabet, s[8])
	if x < 0 {
		return false
	}
	// Since 2013 the second letter counts; the W (and T, X) of older numbers did not.
	return check(x) || containsByte("WTX", s[8]) && check(0)
}

// ---- Portuguese cartão de cidadão (keyword) ----

func ptCCDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.pt-cc",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Portuguese citizen card number (cartão de cidadão): the 8-digit civil number " +
				"and its check digit, two version characters and a final check digit over all (" +
				"05454679 6 ZY 7 or 054546796ZY7); only within 64 bytes after (or 32 before) \"cartão " +
				"de cidadão\", \"citizen card\" or \"documento de identificação\".",
			Keywords: []string{"cartão de cidadão", "cartao de cidadao", "cartão do cidadão", "cartao do cidadao", "citizen card",
				"documento de identificação", "documento de identificacao", "número de identificação civil", "national id"},
			Examples: detectors.Examples{
				Match: []string{
					"Cartão de Cidadão: 054546796ZY7",
					"cartão de cidadão n.º 04521224 4 ZZ 7",
				},
				NoMatch: []string{
					"Cartão de Cidadão: 054546796ZY8", // check digit
					"encomenda 054546796ZY7",          // no context word
					"Cartão de Cidadão: 054546796ZY7X",
				},
			},
		},
		before: 32, after: 64, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if j-i != 8 && j-i != 9 || !startOK(text, i) {
				return 0, 0, false
			}
			var buf [12]byte
			n := copy(buf[:], text[i:j])
			p := j
			// sep skips one space or dash before position k of the number.
			sep := func() {
				if p+1 < len(text) && (text[p] == ' ' || text[p] == '-') && isAlnum(text[p+1]) {
					p++
				}
			}
			for n < 12 {
				if n == 8 || n == 9 || n == 11 {
					sep()
				}
				if p >= len(text) {
					return 0, 0, false
				}
				c := text[p]
				if n == 8 || n == 11 {
					if !isDigit(c) {
						return 0, 0, false
					}
				} else if !isUpper(c) && !isDigit(c) {
					return 0, 0, false
				}
				buf[n] = c
				n++
				p++
			}
			if !endOK(text, p) || !PTCCValid(string(buf[:])) {
				return 0, 0, false
			}
			return i, p, true
		},
	}
}

// PTCCValid reports whether s (12 characters: 9 digits, 2 letters or digits, a digit) is a
// valid Portuguese citizen card number.
func PTCCValid(s string) bool {
	if len(s) != 12 || !allDigits(s[:9]) || !isDigit(s[11]) {
		return false
	}
	sum := 0
	for k := 0; k < 12; k++ {
		c := s[11-k]
		v := 0
		switch {
		case isDigit(c):
			v = int(c - '0')
		case isUpper(c):
			v = int(c-'A') + 10
		default:
			return false
		}
		if k%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0 && !mostlyOneDigit([]byte(s[:8]), 0)
}

// ---- Austrian social insurance number (keyword) ----

func svnrDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.at-svnr",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Austrian social insurance number (Sozialversicherungsnummer): a 3-digit serial, " +
				"a weighted mod-11 check digit and the birth date DDMMYY (1237 010180); only within 64 " +
				"bytes after (or 32 before) Sozialversicherungsnummer, SV-Nummer, SVNR or \"social " +
				"security\".",
			Keywords: []string{"sozialversicherungsnummer", "sozialversicherungs-nr", "sozialversicherungsnr", "sv-nummer", "sv-nr",
				"svnr", "sv nummer", "versicherungsnummer", "social security", "national id"},
			Examples: detectors.Examples{
				Match: []string{
					"Sozialversicherungsnummer: 1237 010180",
					"SV-Nr. 1237010180",
				},
				NoMatch: []string{
					"Sozialversicherungsnummer: 1238 010180", // check digit
					"Sozialversicherungsnummer: 1237 320180", // no 32nd day
					"Rechnung 1237 010180",                   // no context word
				},
			},
		},
		before: 32, after: 64, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, " ", 10)
			var k int
			switch {
			case g.n >= 1 && g.len(0) == 10:
				k = 1
			case g.n >= 2 && g.len(0) == 4 && g.len(1) == 6:
				k = 2
			default:
				return 0, 0, false
			}
			var buf [10]byte
			d := g.compact(text, k, buf[:0])
			e := g.end(k)
			if g.more || !endOK(text, e) || !SVNRValid(string(d)) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

// SVNRValid reports whether d (10 digits) is a valid Austrian social insurance number.
func SVNRValid(d string) bool {
	if len(d) != 10 || !allDigits(d) || d[0] == '0' {
		return false
	}
	b := []byte(d)
	if !dayOK(atoi2(b[4:6]), atoi2(b[6:8])) || mostlyOneDigit(b, 0) {
		return false
	}
	w := [10]int{3, 7, 9, 0, 5, 8, 4, 2, 1, 6}
	s := 0
	for k, c := range b {
		s += w[k] * int(c-'0')
	}
	return s%11 != 10 && s%11 == int(b[3]-'0')
}

// ---- Brazilian CPF (keyword) ----

func cpfDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.br-cpf",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Brazilian CPF (Cadastro de Pessoas Físicas): 000.000.000-00 or 11 digits, two " +
				"mod-11 check digits; only within 64 bytes after (or 32 before) CPF or \"cadastro de " +
				"pessoas\". One-digit fillers (111.111.111-11) are not reported.",
			Keywords: []string{"cpf", "cadastro de pessoas", "national id", "brazilian tax id"},
			Examples: detectors.Examples{
				Match: []string{
					"Meu CPF é 390.533.447-05",
					"CPF: 39053344705",
					"número de CPF 390 533 447 05",
				},
				NoMatch: []string{
					"CPF: 390.533.447-06",    // check digits
					"CPF: 111.111.111-11",    // filler
					"pedido 390.533.447-05",  // no context word
					"CPF 390.533.447-05.123", // longer
				},
			},
		},
		before: 32, after: 64, confidence: 0.9, wordStart: true,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, ".- ", 11)
			var k int
			switch {
			case g.n >= 1 && g.len(0) == 11:
				k = 1
			case g.n >= 4 && g.len(0) == 3 && g.len(1) == 3 && g.len(2) == 3 && g.len(3) == 2 && g.sep[0] == g.sep[1]:
				k = 4
			case g.n >= 2 && g.len(0) == 9 && g.len(1) == 2:
				k = 2
			default:
				return 0, 0, false
			}
			var buf [11]byte
			d := g.compact(text, k, buf[:0])
			e := g.end(k)
			if g.more || !endOK(text, e) || !CPFValid(string(d)) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

// CPFValid reports whether d (11 digits) is a valid Brazilian CPF.
func CPFValid(d string) bool {
	if len(d) != 11 || !allDigits(d) || mostlyOneDigit([]byte(d), 0) {
		return false
	}
	for n := 9; n <= 10; n++ {
		s := 0
		for k := 0; k < n; k++ {
			s += (n + 1 - k) * int(d[k]-'0')
		}
		c := s * 10 % 11 % 10
		if c != int(d[n]-'0') {
			return false
		}
	}
	return true
}

// ---- Mexican CURP ----

// curpStates are the two-letter state codes of a CURP (NE: born abroad).
const curpStates = "AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR SP SL SR TC TS TL VZ YN ZS NE"

func curpDetector() detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.mx-curp",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Mexican CURP (Clave Única de Registro de Población): 18 upper-case characters, " +
				"four letters of the name, the birth date YYMMDD, sex H/M, a state code, three " +
				"consonants, a century character and a check digit; the date, the state and the check " +
				"digit must be valid.",
			Examples: detectors.Examples{
				Match: []string{
					"Mi CURP es BOXW310820HNERXN09",
					"CURP: MASI050805MVZRLRA8",
					"TEAM470622HVZZPR07",
				},
				NoMatch: []string{
					"CURP: BOXW310820HNERXN08", // check digit
					"CURP: BOXW311320HNERXN09", // no 13th month
					"CURP: BOXW310820HXXRXN09", // no state XX
					"XBOXW310820HNERXN09",      // inside a longer token
					"boxw310820hnerxn09",       // lower case
				},
			},
		},
		at: curpAt,
		terms: []detectors.RunTerm{term(
			func(p byte, n int) bool { return n == 6 && isUpper(p) },
			func(c byte, n int) bool { return n == 6 && (c == 'H' || c == 'M' || c == 'X') })},
	}
}

func curpAt(text string, i, j int, emit func(detectors.Match)) int {
	s, e := i-4, i+14
	if j-i != 6 || s < 0 || e > len(text) || !startOK(text, s) || !endOK(text, e) {
		return j
	}
	v := text[s:e]
	if !CURPValid(v) {
		return j
	}
	emit(detectors.Match{Start: s, End: e, Confidence: 1})
	return e
}

// CURPValid reports whether s is a valid 18-character CURP.
func CURPValid(s string) bool {
	if len(s) != 18 || !allDigits(s[4:10]) || !isDigit(s[17]) {
		return false
	}
	for _, k := range []int{0, 1, 2, 3, 11, 12, 13, 14, 15} {
		if !isUpper(s[k]) {
			return false
		}
	}
	if s[10] != 'H' && s[10] != 'M' && s[10] != 'X' || !isUpper(s[16]) && !isDigit(s[16]) {
		return false
	}
	if k := strings.Index(curpStates, s[11:13]); k < 0 || k%3 != 0 {
		return false
	}
	b := []byte(s)
	if !dayOK(atoi2(b[8:10]), atoi2(b[6:8])) {
		return false
	}
	sum := 0
	for k := 0; k < 17; k++ {
		c := s[k]
		v := int(c - '0')
		if isUpper(c) {
			v = int(c-'A') + 10
			if c > 'N' {
				v++ // Ñ sorts after N
			}
		}
		sum += v * (18 - k)
	}
	return (10-sum%10)%10 == int(s[17]-'0')
}

// ---- Indian Aadhaar (keyword) ----

func aadhaarDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.in-aadhaar",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Indian Aadhaar number: 12 digits (2345 6789 0124), first not 0 or 1, Verhoeff " +
				"check digit; only within 64 bytes after (or 32 before) Aadhaar, आधार or UIDAI, never " +
				"alone.",
			Keywords: []string{"aadhaar", "aadhar", "adhaar", "आधार", "uidai", "national id"},
			Examples: detectors.Examples{
				Match: []string{
					"Aadhaar: 234123412346",
					"my aadhar number is 2341 2341 2346",
					"आधार संख्या 2341-2341-2346",
				},
				NoMatch: []string{
					"Aadhaar: 234123412347", // check digit
					"Aadhaar: 123412341234", // first digit 1
					"order 234123412346",    // no context word
					"Aadhaar 2341 2341 2346 7",
				},
			},
		},
		before: 32, after: 64, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if !startOK(text, i) {
				return 0, 0, false
			}
			g := readGroups(text, i, " -", 12)
			var k int
			switch {
			case g.n >= 1 && g.len(0) == 12:
				k = 1
			case g.n >= 3 && g.sameSep(3) && g.len(0) == 4 && g.len(1) == 4 && g.len(2) == 4:
				k = 3
			default:
				return 0, 0, false
			}
			var buf [12]byte
			d := g.compact(text, k, buf[:0])
			e := g.end(k)
			if g.more || !endOK(text, e) || !AadhaarValid(string(d)) {
				return 0, 0, false
			}
			return i, e, true
		},
	}
}

var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 8, 7, 6, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
)

// verhoeff reports whether the digits pass the Verhoeff check.
func verhoeff(d string) bool {
	c := byte(0)
	for k := 0; k < len(d); k++ {
		c = verhoeffD[c][verhoeffP[k%8][d[len(d)-1-k]-'0']]
	}
	return c == 0
}

// AadhaarValid reports whether d (12 digits) is a valid Aadhaar number.
func AadhaarValid(d string) bool {
	if len(d) != 12 || !allDigits(d) || d[0] < '2' || mostlyOneDigit([]byte(d), 0) || d == reverse(d) {
		return false
	}
	return verhoeff(d)
}

func reverse(s string) string {
	b := []byte(s)
	for x, y := 0, len(b)-1; x < y; x, y = x+1, y-1 {
		b[x], b[y] = b[y], b[x]
	}
	return string(b)
}

// ---- Romanian CNP (keyword) ----

func cnpDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.ro-cnp",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Romanian personal numeric code (CNP, cod numeric personal): 13 digits, sex and " +
				"century 1–9, birth date YYMMDD, county 01–52, serial and a check digit (weights " +
				"279146358279, mod 11); only within 64 bytes after (or 32 before) CNP or \"cod numeric " +
				"personal\".",
			Keywords: []string{"cnp", "cod numeric personal", "codul numeric personal", "codului numeric personal", "national id"},
			Examples: detectors.Examples{
				Match: []string{
					"CNP: 1630615123457",
					"codul numeric personal 2850101400019",
				},
				NoMatch: []string{
					"CNP: 1630615123458", // check digit
					"CNP: 1631315123457", // no 13th month
					"comanda 1630615123457",
				},
			},
		},
		before: 32, after: 64, confidence: 0.9, wordStart: true,
		at: func(text string, i, j int) (int, int, bool) {
			if j-i != 13 || !startOK(text, i) || !endOK(text, j) || !CNPValid(text[i:j]) {
				return 0, 0, false
			}
			return i, j, true
		},
	}
}

// CNPValid reports whether d (13 digits) is a valid Romanian CNP.
func CNPValid(d string) bool {
	if len(d) != 13 || !allDigits(d) || d[0] == '0' {
		return false
	}
	b := []byte(d)
	county := atoi2(b[7:9])
	if !dayOK(atoi2(b[5:7]), atoi2(b[3:5])) || county < 1 || county > 52 && county != 70 || mostlyOneDigit(b, 0) {
		return false
	}
	const w = "279146358279"
	s := 0
	for k := 0; k < 12; k++ {
		s += int(w[k]-'0') * int(b[k]-'0')
	}
	c := s % 11
	if c == 10 {
		c = 1
	}
	return c == int(b[12]-'0')
}

// ---- Estonian isikukood (keyword) ----

func isikukoodDetector() detectors.Detector {
	return &nearWord{
		meta: detectors.Meta{
			ID:       "pii.ee-isikukood",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Estonian personal identification code (isikukood): 11 digits, sex and century " +
				"1–6, birth date YYMMDD, serial and a two-stage mod-11 check digit; only within 64 bytes " +
				"after (or 32 before) isikukood or \"personal identification code\".",
			Keywords: []string{"isikukood", "isikukoodi", "personal identification code", "personal code", "national id"},
			Examples: detectors.Examples{
				Match: []string{
					"Isikukood: 36805280109",
					"minu isikukood on 49203040212",
				},
				NoMatch: []string{
					"Isikukood: 36805280108", // check digit
					"Isikukood: 36813280109", // no 13th month
					"tellimus 36805280109",
				},
			},
		},
		before: 32, after: 64, confidence: 0.9,
		at: func(text string, i, j int) (int, int, bool) {
			if j-i != 11 || !startOK(text, i) || !endOK(text, j) || !IsikukoodValid(text[i:j]) {
				return 0, 0, false
			}
			return i, j, true
		},
	}
}

// IsikukoodValid reports whether d (11 digits) is a valid Estonian isikukood.
func IsikukoodValid(d string) bool {
	if len(d) != 11 || !allDigits(d) || d[0] < '1' || d[0] > '6' {
		return false
	}
	b := []byte(d)
	if !dayOK(atoi2(b[5:7]), atoi2(b[3:5])) || mostlyOneDigit(b, 0) {
		return false
	}
	sum := func(first int) int {
		s := 0
		for k := 0; k < 10; k++ {
			s += ((first+k-1)%9 + 1) * int(b[k]-'0')
		}
		return s % 11
	}
	c := sum(1)
	if c == 10 {
		if c = sum(3); c == 10 {
			c = 0
		}
	}
	return c == int(b[10]-'0')
}

// ---- helpers ----

func allDigits(s string) bool {
	for k := 0; k < len(s); k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return len(s) > 0
}

// dayOK reports whether day and month make a date of some year (29 February included).
func dayOK(day, month int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	return day <= int("\x1f\x1d\x1f\x1e\x1f\x1e\x1f\x1f\x1e\x1f\x1e\x1f"[month-1])
}

func upperASCII(s string) string {
	for k := 0; k < len(s); k++ {
		if c := s[k]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for x := k; x < len(b); x++ {
				if b[x] >= 'a' && b[x] <= 'z' {
					b[x] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
