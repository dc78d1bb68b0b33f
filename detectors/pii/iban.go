package pii

import (
	"strings"

	"github.com/customs-dev/customs/detectors"
)

func ibanDetector(o Options) detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.iban",
			Class:    detectors.PII,
			Severity: detectors.Medium,
			Description: "International Bank Account Number: a country code, two check digits and the " +
				"country's BBAN, electronic (DE89370400440532013000) or printed in groups of four. The " +
				"length and the BBAN's structure (digits, letters, alphanumerics) are checked against the " +
				"SWIFT IBAN registry for 89 countries, and the mod-97 check must give 1. Upper case, or all " +
				"lower case as people type it (de89 3704 …, confidence 0.9), never mixed. " +
				"The example IBANs published by banks and the ECBS (DE89 3704 0044 0532 0130 00, " +
				"GB82 WEST 1234 5698 7654 32, …) are not reported.",
			Examples: detectors.Examples{
				Match: []string{
					"please wire it to DE75 5121 0800 1245 1261 99 today",
					"IBAN: FR5612739000701234567890185",
					"iban=NL39RABO0300065264,bic=RABONL2U",
					"Kontonummer (IBAN) AT08 1910 0001 3014 0081",
					"GB08BARC20037841234567 is the account",
					"my iban is de75 5121 0800 1245 1261 99",
					"gb08barc20037841234567",
				},
				NoMatch: []string{
					"please wire it to DE75 5121 0800 1245 1261 98 today", // bad checksum
					"IBAN: DE89 3704 0044 0532 0130 00",                   // published example
					"FR5612739000701234567890186",                         // bad checksum
					"DE7551210800124512619",                               // too short
					"XX75512108001245126199",                              // no such country
					"HTTP2 stream 4 was reset",
					"De75 5121 0800 1245 1261 99",                 // mixed case
					"ADE7551210800124512619900",                   // glued to letters
					"sha DE75512108001245126199ab3f7 in the blob", // inside a token
					"order ORD-2024-000123, uuid 550e8400-e29b-41d4-a716-446655440000",
				},
			},
		},
		at: o.ibanAt,
		// The check digits of DE89…: after the two letters of the country.
		terms: []detectors.RunTerm{{Prev: func(p byte, n int) bool { return n >= 2 && isAlpha(p) }, Prev2: isAlpha}},
	}
}

// ibanSpecs holds each country's BBAN as a string of character classes (n digit, a upper-case
// letter, c alphanumeric), from the SWIFT IBAN registry (as python-stdnum's iban.dat).
var ibanSpecs [26 * 26]string

func init() {
	const registry = `AD 4!n4!n12!c|AE 3!n16!n|AL 8!n16!c|AT 5!n11!n|AZ 4!a20!c|BA 3!n3!n8!n2!n|BE 3!n7!n2!n|
BG 4!a4!n2!n8!c|BH 4!a14!c|BI 5!n5!n11!n2!n|BR 8!n5!n10!n1!a1!c|BY 4!c4!n16!c|CH 5!n12!c|CR 4!n14!n|
CY 3!n5!n16!c|CZ 4!n6!n10!n|DE 8!n10!n|DJ 5!n5!n11!n2!n|DK 4!n9!n1!n|DO 4!c20!n|EE 2!n14!n|EG 4!n4!n17!n|
ES 4!n4!n1!n1!n10!n|FI 3!n11!n|FK 2!a12!n|FO 4!n9!n1!n|FR 5!n5!n11!c2!n|GB 4!a6!n8!n|GE 2!a16!n|GI 4!a15!c|
GL 4!n9!n1!n|GR 3!n4!n16!c|GT 4!c20!c|HN 4!a20!n|HR 7!n10!n|HU 3!n4!n1!n15!n1!n|IE 4!a6!n8!n|IL 3!n3!n13!n|
IQ 4!a3!n12!n|IS 4!n2!n6!n10!n|IT 1!a5!n5!n12!c|JO 4!a4!n18!c|KW 4!a22!c|KZ 3!n13!c|LB 4!n20!c|LC 4!a24!c|
LI 5!n12!c|LT 5!n11!n|LU 3!n13!c|LV 4!a13!c|LY 3!n3!n15!n|MC 5!n5!n11!c2!n|MD 2!c18!c|ME 3!n13!n2!n|
MK 3!n10!c2!n|MN 4!n12!n|MR 5!n5!n11!n2!n|MT 4!a5!n18!c|MU 4!a2!n2!n12!n3!n3!a|NI 4!a20!n|NL 4!a10!n|
NO 4!n6!n1!n|OM 3!n16!c|PK 4!a16!c|PL 8!n16!n|PS 4!a21!c|PT 4!n4!n11!n2!n|QA 4!a21!c|RO 4!a16!c|
RS 3!n13!n2!n|RU 9!n5!n15!c|SA 2!n18!c|SC 4!a2!n2!n16!n3!a|SD 2!n12!n|SE 3!n16!n1!n|SI 5!n8!n2!n|
SK 4!n6!n10!n|SM 1!a5!n5!n12!c|SO 4!n3!n12!n|ST 8!n11!n2!n|SV 4!a20!n|TL 3!n14!n2!n|TN 2!n3!n13!n2!n|
TR 5!n1!n16!c|UA 6!n19!c|VA 3!n15!n|VG 4!a16!n|XK 4!n10!n2!n|YE 4!a4!n18!c`
	for _, entry := range strings.Split(strings.ReplaceAll(registry, "\n", ""), "|") {
		cc, spec, _ := strings.Cut(entry, " ")
		var b strings.Builder
		for spec != "" {
			n := 0
			for spec[0] >= '0' && spec[0] <= '9' {
				n = n*10 + int(spec[0]-'0')
				spec = spec[1:]
			}
			// spec is now "!x…"
			b.WriteString(strings.Repeat(spec[1:2], n))
			spec = spec[2:]
		}
		ibanSpecs[int(cc[0]-'A')*26+int(cc[1]-'A')] = b.String()
	}
}

// ibanExamples are IBANs published as examples (Wikipedia, ECBS, banks' documentation).
var ibanExamples = map[string]bool{
	"DE89370400440532013000": true, "GB82WEST12345698765432": true, "GB29NWBK60161331926819": true,
	"FR1420041010050500013M02606": true, "NL91ABNA0417164300": true, "BE68539007547034": true,
	"CH9300762011623852957": true, "ES9121000418450200051332": true, "IT60X0542811101000000123456": true,
	"AT611904300234573201": true, "PL61109010140000071219812874": true, "SE4550000000058398257466": true,
	"DK5000400440116243": true, "FI2112345600000785": true, "NO9386011117947": true,
	"PT50000201231234567890154": true, "IE29AIBK93115212345678": true, "LU280019400644750000": true,
	"SA0380000000608010167519": true, "CH5604835012345678009": true, "BE71096123456769": true,
	"GR1601101250000000012300695": true, "HU42117730161111101800000000": true, "CZ6508000000192000145399": true,
	"SK3112000000198742637541": true, "RO49AAAA1B31007593840000": true, "LT121000011101001000": true,
	"LV80BANK0000435195001": true, "EE382200221020145685": true, "SI56263300012039086": true,
	"HR1210010051863000160": true, "BG80BNBG96611020345678": true, "CY17002001280000001200527600": true,
	"MT84MALT011000012345MTLCAST001S": true, "IS140159260076545510730339": true, "LI21088100002324013AA": true,
	"MC5811222000010123456789030": true, "SM86U0322509800000000270100": true, "TR330006100519786457841326": true,
	"DE02120300000000202051": true, "DE02500105170137075030": true, "DE02100500000054540402": true,
	"GB33BUKB20201555555555": true, "FR7630006000011234567890189": true, "NL02ABNA0123456789": true,
	"ES7921000813610123456789": true, "AT483200000012345864": true, "IE64IRCE92050112345678": true,
}

func ibanSpec(a, b byte) string {
	if !isUpper(a) || !isUpper(b) {
		return ""
	}
	return ibanSpecs[int(a-'A')*26+int(b-'A')]
}

func (o Options) ibanAt(text string, i, j int, emit func(detectors.Match)) int {
	// The check digits follow the country code: "DE89…", the run starts two bytes in.
	if i < 2 || j-i < 2 || !isAlpha(text[i-1]) || !isAlpha(text[i-2]) {
		return j
	}
	s := i - 2
	spec := ibanSpec(text[s]&^0x20, text[s+1]&^0x20)
	if spec == "" || !startOK(text, s) {
		return j
	}
	var buf [34]byte
	end, v, lower, ok := readIBAN(text, s, 4+len(spec), &buf)
	if !ok || !ibanValid(v) || o.known(ibanExamples[string(v)]) {
		return j
	}
	conf := 1.0
	if lower {
		conf = 0.9
	}
	emit(detectors.Match{Start: s, End: end, Confidence: conf})
	return end
}

// readIBAN reads an IBAN of length l at text[s:], electronic or printed in groups of four
// joined by single spaces, and returns its end and compact, upper-case form. Its letters are
// all upper case or, with lower set, all lower case (de89 3704 …, as people type in chat).
// The compact form is written to buf, which v slices.
func readIBAN(text string, s, l int, buf *[34]byte) (end int, v []byte, lower, ok bool) {
	if l > len(buf) {
		return 0, nil, false, false
	}
	p, k := s, 0
	spaced, upper := false, false
	for k < l {
		if p >= len(text) {
			return 0, nil, false, false
		}
		if k > 0 && k%4 == 0 {
			switch {
			case k == 4 && text[p] == ' ':
				spaced = true
				p++
			case spaced && text[p] == ' ':
				p++
			case spaced:
				return 0, nil, false, false
			}
			if p >= len(text) {
				return 0, nil, false, false
			}
		}
		c := text[p]
		switch {
		case isUpper(c):
			upper = true
		case isAlpha(c):
			lower = true
			c -= 'a' - 'A'
		case !isDigit(c):
			return 0, nil, false, false
		}
		if upper && lower {
			return 0, nil, false, false
		}
		buf[k] = c
		k++
		p++
	}
	if p < len(text) && (isWordByte(text[p]) || !spaced && (text[p] == '-' || text[p] == '/') && p+1 < len(text) && isAlnum(text[p+1])) {
		return 0, nil, false, false
	}
	return p, buf[:l], lower, true
}

// IBANValid reports whether s is a compact, upper-case IBAN with a known country, that
// country's length and BBAN structure, and a mod-97 remainder of 1 (ISO 13616).
func IBANValid(s string) bool { return ibanValid(s) }

func ibanValid[S string | []byte](s S) bool {
	if len(s) < 5 {
		return false
	}
	spec := ibanSpec(s[0], s[1])
	if spec == "" || len(s) != 4+len(spec) || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	for x := 0; x < len(spec); x++ {
		c := s[4+x]
		switch spec[x] {
		case 'n':
			if !isDigit(c) {
				return false
			}
		case 'a':
			if !isUpper(c) {
				return false
			}
		default:
			if !isDigit(c) && !isUpper(c) {
				return false
			}
		}
	}
	return ibanMod97(s) == 1
}

// ibanMod97 computes the IBAN remainder: the first four characters moved to the end, letters
// as 10..35, the whole read as one number mod 97.
func ibanMod97[S string | []byte](s S) int {
	r := 0
	add := func(c byte) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	for i := 4; i < len(s); i++ {
		add(s[i])
	}
	for i := 0; i < 4; i++ {
		add(s[i])
	}
	return r
}
