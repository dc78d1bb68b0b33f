package pii

import "github.com/customs-dev/customs/detectors"

// ---- Finnish personal identity code (henkilötunnus, HETU) ----

const hetuChecks = "0123456789ABCDEFHJKLMNPRSTUVWXY"

var hetuContext = newContext("hetu", "henkilötunnus", "henkilotunnus", "henkilötunnukseni", "sotu", "personal identity code",
	"identity code", "personbeteckning", "finnish id", "social security")

// hetuExamples are the codes of documentation and tutorials.
var hetuExamples = map[string]bool{"131052-308T": true, "010101-123N": true, "311280-888Y": true}

func hetuDetector(o Options) detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.fi-hetu",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Finnish personal identity code (henkilötunnus, HETU): DDMMYY, a century sign " +
				"(+ 1800s; - or Y X W V U 1900s; A B C D E F 2000s), an individual number 002–999 and the " +
				"check character of DDMMYYNNN mod 31. Confidence 1 next to \"HETU\"/\"henkilötunnus\"/" +
				"\"personal identity code\"; 0.85 with a letter century sign; with - or + only next to " +
				"such a word (a date and a serial would pass the check one time in 31). The textbook " +
				"131052-308T is not reported.",
			Examples: detectors.Examples{
				Match: []string{
					"henkilötunnus: 150385-231F",
					"HETU 010203A917L",
					"my personal identity code is 280466-915U",
					"hetu=071190Y153J",
				},
				NoMatch: []string{
					"henkilötunnus: 150385-231G", // check character
					"HETU 131052-308T",           // the textbook example
					"order 150385-231F",          // - needs context
					"HETU 320185-231F",           // no 32nd day
					"HETU 150385G231F",           // no century sign G
					"HETU 150385-231F1",
				},
			},
		},
		at: o.hetuAt,
		terms: []detectors.RunTerm{term(
			func(p byte, n int) bool { return n == 6 && mayStart(p) },
			func(c byte, n int) bool { return n == 6 && hetuSign(c) })},
	}
}

func hetuSign(c byte) bool {
	return c == '+' || c == '-' || c >= 'A' && c <= 'F' || c >= 'U' && c <= 'Y'
}

func (o Options) hetuAt(text string, i, j int, emit func(detectors.Match)) int {
	e := j + 5
	if j-i != 6 || e > len(text) || !hetuSign(text[j]) || !startOK(text, i) || !endOK(text, e) {
		return j
	}
	v := text[i:e]
	if !HETUValid(v) || o.known(hetuExamples[v]) {
		return j
	}
	conf := 0.85
	switch {
	case hetuContext.around(text, i, e, 48, 8):
		conf = 1
	case text[j] == '-' || text[j] == '+':
		return j
	}
	emit(detectors.Match{Start: i, End: e, Confidence: conf})
	return e
}

// HETUValid reports whether s (11 characters, DDMMYYSNNNC) is a valid Finnish personal identity
// code: a real day and month, a century sign, an individual number 002–999 and its check
// character.
func HETUValid(s string) bool {
	if len(s) != 11 || !hetuSign(s[6]) {
		return false
	}
	var d [9]byte
	for k, p := range [9]int{0, 1, 2, 3, 4, 5, 7, 8, 9} {
		if !isDigit(s[p]) {
			return false
		}
		d[k] = s[p]
	}
	day, month, n := atoi2(d[0:2]), atoi2(d[2:4]), atoi(d[6:9])
	if day < 1 || day > 31 || month < 1 || month > 12 || n < 2 {
		return false
	}
	return hetuChecks[atoi(d[:])%31] == s[10]
}
