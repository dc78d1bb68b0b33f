package pii

import "github.com/customs-dev/customs/detectors"

func passportDetector() detectors.Detector {
	return &passport{meta: detectors.Meta{
		ID:       "pii.passport",
		Class:    detectors.PII,
		Severity: detectors.High,
		Description: "Passport number, only right after a word naming it (passport, passeport, " +
			"Reisepass, pasaporte, passaporto, paspoort, and \"number\"/\"no.\"/\"n°\" fillers), in a " +
			"national shape: 9 digits (US, UK), a letter and 8 digits (US), 2 digits 2 letters 5 " +
			"digits (FR), 3 letters 6 digits (ES), 2 letters 7 digits (IT), the German 9-character " +
			"alphabet, the Dutch 2 letters 6 alphanumerics 1 digit. No check digit outside the MRZ: " +
			"confidence 0.75 for a national shape, 0.6 for a generic one (7–9 upper-case alphanumerics " +
			"with at least 5 digits).",
		Keywords: []string{"passport", "passeport", "reisepass", "pasaporte", "passaporto", "paspoort", "passnummer",
			"pass-nr", "pass nr", "passnr", "paszport", "passin numero", "pass no"},
		Examples: detectors.Examples{
			Match: []string{
				"Passport number: 518203746",
				"passeport n° 18AV47210",
				"Reisepass-Nr. C01X00T47",
				"pasaporte: XDB482019",
				"passport no. A48201936, expires 2031",
				"Mi pasaporte es XDB482019",
				"número de pasaporte: PAA482019",
				"Pass-Nr. C01X00T47",
				"numéro de passeport : 18AV47210",
				"paspoortnummer NX4R8T2K5",
				"numer paszportu: AB4829173",
			},
			NoMatch: []string{
				"passport photo requirements",
				"renew your passport before 2025-06-01",
				"passport number: 111111111",
				"invoice 518203746",
				"passport office at 12 Main St",
				"Mi pasaporte es X2482300W", // a valid NIE: pii.es-dni reports it, once
			},
		},
	}}
}

type passport struct{ meta detectors.Meta }

var _ detectors.Detector = (*passport)(nil)

func (d *passport) Meta() detectors.Meta { return d.meta }

func (d *passport) Find(text string, hits []int, emit func(detectors.Match)) {
	n := len(text)
	last := 0
	for _, h := range hits {
		if h < last || h < 0 || h >= n {
			continue
		}
		if col, sep, _, le, ok := headerColumn(text, h); ok {
			last = columnValues(text, le, col, sep, func(fs, fe int) {
				for fs < fe && !isAlnum(text[fs]) {
					fs++
				}
				for fe > fs && !isAlnum(text[fe-1]) {
					fe--
				}
				if conf := passportShape(text[fs:fe]); conf > 0 {
					emit(detectors.Match{Start: fs, End: fe, Confidence: conf})
				}
			})
			continue
		}
		// Skip the rest of the keyword's word (passports, Reisepass-Nr, passport_no).
		p := h
		for p < n && (isAlpha(text[p]) || text[p] == '_') {
			p++
		}
		if s, e, conf := passportAfter(text, p); conf > 0 {
			emit(detectors.Match{Start: s, End: e, Confidence: conf})
			last = e
			continue
		}
		if s, e, conf := passportBefore(text, h); conf > 0 && s >= last {
			emit(detectors.Match{Start: s, End: e, Confidence: conf * 0.9})
			last = h
		}
	}
}

// passportAfter looks at the first tokens (letters and digits) within 48 bytes after p, on the
// same line: "number: X", "no. → X", "is \"X\"", "field=passport_no value=X".
func passportAfter(text string, p int) (int, int, float64) {
	n := len(text)
	limit := min(n, p+48)
	for tokens := 0; p < limit && tokens < 6; tokens++ {
		for p < limit && !isAlnum(text[p]) && text[p] != '\n' {
			p++
		}
		if p >= limit || text[p] == '\n' {
			break
		}
		s := p
		for p < n && isAlnum(text[p]) && p-s <= 24 {
			p++
		}
		if conf := passportShape(text[s:p]); conf > 0 && startOK(text, s) && endOK(text, p) {
			return s, p, conf
		}
	}
	return 0, 0, 0
}

// passportBefore looks at up to five tokens within 48 bytes before the keyword at h, on the
// same line: "is U43042241 the right passport number?".
func passportBefore(text string, h int) (int, int, float64) {
	p := h
	lo := max(0, h-48)
	for tokens := 0; p > lo && tokens < 5; tokens++ {
		for p > lo && !isAlnum(text[p-1]) && text[p-1] != '\n' {
			p--
		}
		if p <= lo || text[p-1] == '\n' {
			break
		}
		e := p
		for p > 0 && isAlnum(text[p-1]) && e-p <= 24 {
			p--
		}
		if conf := passportShape(text[p:e]); conf > 0 && startOK(text, p) && endOK(text, e) {
			return p, e, conf
		}
	}
	return 0, 0, 0
}

// passportShape returns the confidence that tok is a passport number, 0 if it is not one.
func passportShape(tok string) float64 {
	l := len(tok)
	if (l == 10 || l == 11 && tok[10] == 'D') && germanPassport(tok[:10]) && containsByte("CFGHJK", tok[0]) &&
		icaoCheck(tok[:9]) == int(tok[9]-'0') {
		// German, as printed in the MRZ: the 9 characters and their check digit (C01X00T478),
		// and the nationality D after it (CZ6311T472D).
		return 0.75
	}
	if l < 6 || l > 9 {
		return 0
	}
	if l == 9 && DNIValid(tok) && tok[:8] != "12345678" {
		return 0 // a Spanish DNI or NIE with its check letter: pii.es-dni's, not a second finding
	}
	digits, letters := 0, 0
	for k := 0; k < l; k++ {
		switch c := tok[k]; {
		case isDigit(c):
			digits++
		case isUpper(c):
			letters++
		default:
			return 0
		}
	}
	if l == 9 && containsByte("CFGHJK", tok[0]) && germanPassport(tok) {
		// German: 9 characters of digits and CFGHJKLMNPRTVWXYZ (no vowels, so never a word).
		return 0.75
	}
	if digits == 0 || digits >= 5 && mostlyOneDigit(digitsOf(tok), 1) || sequential(digitsOf(tok), 6) {
		return 0
	}
	shape := func(pat string) bool { // pat: 'a' letter, 'n' digit, 'x' either
		if len(pat) != l {
			return false
		}
		for k := 0; k < l; k++ {
			c := tok[k]
			switch pat[k] {
			case 'a':
				if !isUpper(c) {
					return false
				}
			case 'n':
				if !isDigit(c) {
					return false
				}
			}
		}
		return true
	}
	switch {
	case shape("nnnnnnnnn"), shape("annnnnnnn"), shape("nnaannnnn"), shape("aaannnnnn"),
		shape("aannnnnnn"), shape("aannnnnn"):
		return 0.75
	case shape("aaxxxxxxn") && digits >= 2 && !containsByte(tok, 'O'):
		return 0.75 // Dutch: two letters, six letters or digits, a digit; never O
	case digits >= 5 && l >= 7:
		return 0.6
	}
	return 0
}

// germanPassport: the German passport's alphabet (digits and CFGHJKLMNPRTVWXYZ).
func germanPassport(tok string) bool {
	for k := 0; k < len(tok); k++ {
		if c := tok[k]; !isDigit(c) && !containsByte("CFGHJKLMNPRTVWXYZ", c) {
			return false
		}
	}
	return true
}

func digitsOf(s string) []byte {
	var buf [24]byte
	b := buf[:0]
	for k := 0; k < len(s); k++ {
		if isDigit(s[k]) {
			b = append(b, s[k])
		}
	}
	return b
}

// icaoCheck is the ICAO 9303 check digit of an MRZ field (weights 7 3 1; A = 10 … Z = 35),
// -1 for a character that is not a digit or an upper-case letter.
func icaoCheck(f string) int {
	s := 0
	for k := 0; k < len(f); k++ {
		c := f[k]
		v := 0
		switch {
		case isDigit(c):
			v = int(c - '0')
		case isUpper(c):
			v = int(c-'A') + 10
		default:
			return -1
		}
		s += v * int("731"[k%3]-'0')
	}
	return s % 10
}
