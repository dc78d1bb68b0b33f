package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/customs-dev/customs/internal/eval"
)

// The PII fixtures put public example values into our own sentences (pii/templates.txt):
// libphonenumber-js's example mobile number of every country (international, and national
// where people write them so), the example IBAN of every country of the iban package (as
// printed, compact and lower-case), the valid values in the tests of stdnum (national
// identifiers and German passport numbers), and Luhn-valid card numbers of ours with the
// prefixes and lengths of the brands' published test numbers and those the lists lack (JCB 15,
// Maestro 12-19).

type template struct {
	kind, lang string
	context    bool
	text       string
	line       int
}

func readTemplates(path string) ([]template, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []template
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.SplitN(line, "\t", 4)
		if len(p) != 4 {
			return nil, fmt.Errorf("%s:%d: want 4 tab-separated fields", path, n)
		}
		out = append(out, template{kind: p[0], lang: p[1], context: p[2] == "yes", text: p[3], line: n})
	}
	return out, sc.Err()
}

// pick returns the templates of a kind in language lang (and those for any language).
func pick(ts []template, kind, lang string) []template {
	var out []template
	for _, t := range ts {
		if t.kind == kind && (t.lang == "*" || t.lang == lang || lang == "*") {
			out = append(out, t)
		}
	}
	return out
}

type piiBuilder struct {
	ts  []template
	out map[string][]eval.Fixture // by output file
}

// add puts value v into every template of kind for lang (and English ones too).
func (b *piiBuilder) add(file, source, provider, detector, rule, origin, kind, lang, v string) {
	seen := map[string]bool{}
	for _, l := range []string{lang, "en"} {
		for _, t := range pick(b.ts, kind, l) {
			text := strings.ReplaceAll(t.text, "{v}", v)
			if seen[text] {
				continue
			}
			seen[text] = true
			ctx := "bare"
			if t.context {
				ctx = "context"
			}
			b.out[file] = append(b.out[file], eval.Fixture{
				Source: source, Provider: provider, Rule: fmt.Sprintf("%s/%s/%s", rule, t.lang, ctx), Kind: eval.TP,
				Text: text, Want: []string{v}, Detector: detector, Origin: origin,
			})
		}
	}
}

func extractPII(templates, pkgs, outDir string) error {
	ts, err := readTemplates(templates)
	if err != nil {
		return err
	}
	b := &piiBuilder{ts: ts, out: map[string][]eval.Fixture{}}
	if err := b.phones(filepath.Join(pkgs, "libphonenumber-js")); err != nil {
		return err
	}
	if err := b.ibans(filepath.Join(pkgs, "iban", "iban.js")); err != nil {
		return err
	}
	if err := b.stdnum(filepath.Join(pkgs, "stdnum", "src")); err != nil {
		return err
	}
	b.cards()
	b.passports()
	for _, t := range ts {
		if t.kind == "fp" {
			b.out["negatives"] = append(b.out["negatives"], eval.Fixture{
				Source: "customs", Provider: "negative", Rule: "negative", Kind: eval.FP, Text: t.text,
				Detector: "pii", Origin: fmt.Sprintf("pii/templates.txt:%d", t.line),
			})
		}
	}
	// The published test values are negatives: customs must stay silent on them by default.
	for i := range b.out["published"] {
		f := &b.out["published"][i]
		f.Kind, f.Want, f.Rule = eval.FP, nil, "published/"+f.Rule
	}
	for name, fs := range b.out {
		if err := eval.WriteFile(filepath.Join(outDir, name+".jsonl"), fs); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "pii/%s.jsonl: %d fixtures\n", name, len(fs))
	}
	return nil
}

// nationalPhone are the countries whose numbers the fixtures also write in national form, with
// the language people there write in.
var nationalPhone = map[string]string{
	"DE": "de", "AT": "de", "CH": "de", "FR": "fr", "BE": "fr", "GB": "en", "IE": "en", "AU": "en", "NZ": "en",
	"NL": "nl", "SE": "sv", "FI": "fi", "ES": "es", "IT": "it", "PL": "pl", "PT": "pt", "US": "en", "CA": "en",
}

func (b *piiBuilder) phones(dir string) error {
	var examples map[string]string
	if err := readJSON(filepath.Join(dir, "examples.mobile.json"), &examples); err != nil {
		return err
	}
	var meta struct {
		Countries map[string][]json.RawMessage `json:"countries"`
	}
	if err := readJSON(filepath.Join(dir, "metadata.min.json"), &meta); err != nil {
		return err
	}
	mobile, err := mobilePatterns(filepath.Join(dir, "metadata.max.json"))
	if err != nil {
		return err
	}
	countries := make([]string, 0, len(examples))
	for c := range examples {
		countries = append(countries, c)
	}
	sort.Strings(countries)
	// The package's example numbers are placeholders of each plan (DE 151 23456789, FR 6 12 34 56
	// 78, AU 412 345 678): runs no subscriber has, which customs drops by design. They are kept as
	// the source of each country's mobile prefix and length: the fixture keeps the example's
	// first digits and draws the rest from a fixed seed until the number matches the country's
	// mobile pattern (metadata.max.json) with no run a placeholder filter would take.
	rng := rand.New(rand.NewPCG(15, 44))
	for i, c := range countries {
		m := meta.Countries[c]
		var code string
		if len(m) > 0 {
			_ = json.Unmarshal(m[0], &code)
		}
		nsn := freshPhone(examples[c], mobile[c], code == "1", rng)
		if len(m) == 0 {
			continue
		}
		var cc, prefix string
		_ = json.Unmarshal(m[0], &cc)
		if len(m) > 5 {
			_ = json.Unmarshal(m[5], &prefix)
		}
		origin := "ours (prefix, length and mobile pattern of libphonenumber-js/examples.mobile.json:" + c + ")"
		// International: spaced as libphonenumber formats it, and compact, alternating so the
		// file stays small.
		natFmt, intlFmt := formatPhone(m, nsn, prefix)
		if cc == "1" { // the NANP countries' formats are the US entry's
			intlFmt = nsn[:3] + " " + nsn[3:6] + " " + nsn[6:]
		}
		intl := "+" + cc + " " + intlFmt
		if i%2 == 1 {
			intl = "+" + cc + nsn
		}
		b.add("phone", "libphonenumber-js", "phone", "pii.phone", "phone/"+c+"/intl", origin, "phone", "en", intl)
		lang, ok := nationalPhone[c]
		if !ok {
			continue
		}
		national := nsn
		if cc == "1" {
			natFmt = "(" + nsn[:3] + ") " + nsn[3:6] + "-" + nsn[6:]
		} else if prefix != "" && len(prefix) == 1 {
			national = prefix + nsn
		}
		for _, form := range []string{national, natFmt} {
			b.add("phone", "libphonenumber-js", "phone", "pii.phone", "phone/"+c+"/national", origin, "phone-national", lang, form)
		}
	}
	return nil
}

// formatPhone writes the national significant number nsn as the country's people do, by the
// first of libphonenumber's formats (a country's fifth field: pattern, format, leading digits,
// national prefix rule, …, international format) that fits: nationally with the trunk prefix
// (0151 23456789, 06 12 34 56 78, 312 345 6789) and internationally without it. A number no
// format fits is grouped by group.
func formatPhone(m []json.RawMessage, nsn, prefix string) (national, intl string) {
	var formats [][]json.RawMessage
	if len(m) > 4 {
		_ = json.Unmarshal(m[4], &formats)
	}
	dollar := regexp.MustCompile(`\$(\d)`)
	for _, f := range formats {
		var pat, format, rule, intlFormat string
		var leading []string
		if len(f) < 2 || json.Unmarshal(f[0], &pat) != nil || json.Unmarshal(f[1], &format) != nil {
			continue
		}
		if len(f) > 2 {
			_ = json.Unmarshal(f[2], &leading)
		}
		if len(f) > 3 {
			_ = json.Unmarshal(f[3], &rule)
		}
		if len(f) > 5 {
			_ = json.Unmarshal(f[5], &intlFormat)
		}
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil || !re.MatchString(nsn) {
			continue
		}
		if len(leading) > 0 {
			ld, err := regexp.Compile("^(?:" + leading[len(leading)-1] + ")")
			if err != nil || !ld.MatchString(nsn) {
				continue
			}
		}
		if intlFormat == "" || intlFormat == "NA" {
			intlFormat = format
		}
		natFormat := format
		if rule != "" {
			natFormat = strings.Replace(format, "$1", rule, 1)
		} else if prefix != "" && len(prefix) == 1 {
			natFormat = prefix + format
		}
		expand := func(tmpl string) string {
			return strings.TrimSpace(re.ReplaceAllString(nsn, dollar.ReplaceAllString(tmpl, "$${$1}")))
		}
		return expand(natFormat), expand(intlFormat)
	}
	national = nsn
	if prefix != "" && len(prefix) == 1 {
		national = prefix + nsn
	}
	return group(national), group(nsn)
}

// mobilePatterns reads each country's mobile number pattern from libphonenumber's metadata
// (the second of a country's number types), anchored.
func mobilePatterns(path string) (map[string]*regexp.Regexp, error) {
	var meta struct {
		Countries map[string][]json.RawMessage `json:"countries"`
	}
	if err := readJSON(path, &meta); err != nil {
		return nil, err
	}
	out := map[string]*regexp.Regexp{}
	for c, m := range meta.Countries {
		var types [][]json.RawMessage
		if len(m) <= 11 || json.Unmarshal(m[11], &types) != nil || len(types) < 2 || len(types[1]) == 0 {
			continue
		}
		var pat string
		if json.Unmarshal(types[1][0], &pat) != nil || pat == "" {
			continue
		}
		if re, err := regexp.Compile("^(?:" + pat + ")$"); err == nil {
			out[c] = re
		}
	}
	return out, nil
}

// freshPhone returns a number of example's length that keeps its first digits (three, else
// two, else one) and matches the mobile pattern, the rest drawn from rng; the example itself
// when none is found.
// A NANP number's exchange (its fourth digit on) never starts with 0 or 1, which the
// patterns allow.
func freshPhone(example string, mobile *regexp.Regexp, nanp bool, rng *rand.Rand) string {
	for keep := min(3, len(example)-4); keep >= 1; keep-- {
		for range 2000 {
			v := []byte(example[:keep])
			for len(v) < len(example) {
				v = append(v, '0'+byte(rng.IntN(10)))
			}
			if (mobile == nil || mobile.MatchString(string(v))) && !placeholderRun(v) && (!nanp || v[3] >= '2') {
				return string(v)
			}
		}
	}
	return example
}

// placeholderRun reports a run of 6 ascending or descending digits, or of 6 equal ones, in the
// subscriber part: what a placeholder filter takes and a drawn number rarely has.
func placeholderRun(v []byte) bool {
	up, down, same := 1, 1, 1
	for i := 1; i < len(v); i++ {
		up, down, same = next(up, v[i] == v[i-1]+1), next(down, v[i]+1 == v[i-1]), next(same, v[i] == v[i-1])
		if up >= 6 || down >= 6 || same >= 6 {
			return true
		}
	}
	return false
}

func next(n int, cont bool) int {
	if cont {
		return n + 1
	}
	return 1
}

// group writes digits as people do: the first group of 3 or 4, then groups of 3 to 4.
func group(s string) string {
	if strings.ContainsAny(s, " ()-") || len(s) < 7 {
		return s
	}
	first := 3
	if len(s)%2 == 0 {
		first = 4
	}
	out := s[:first]
	for rest := s[first:]; len(rest) > 0; {
		n := min(len(rest), 4)
		if len(rest) == 5 || len(rest) == 6 {
			n = 3
		}
		out += " " + rest[:n]
		rest = rest[n:]
	}
	return out
}

var ibanSpec = regexp.MustCompile(`Specification\(\s*"([A-Z]{2})",\s*\d+,\s*"[^"]*",\s*"([A-Z0-9]+)"\)`)

func (b *piiBuilder) ibans(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ms := ibanSpec.FindAllSubmatchIndex(src, -1)
	if len(ms) == 0 {
		return fmt.Errorf("%s: no IBAN specifications", path)
	}
	// The package's examples are the SWIFT registry's published ones (AT61 1904 3002 3457
	// 3201, …), which customs ignores by design as documentation values: scoring them would
	// count a deliberate silence as a miss. They are kept as the source of each country's
	// structure only: the fixture is a fresh value with the same character class at every
	// position (digits for digits, letters for letters), drawn from a fixed seed, its check
	// digits recomputed with mod-97.
	rng := rand.New(rand.NewPCG(15, 97))
	for i, m := range ms {
		c, example := string(src[m[2]:m[3]]), string(src[m[4]:m[5]])
		origin := fmt.Sprintf("ours (structure of iban/iban.js:%d, fresh digits and letters, mod-97 recomputed)", 1+strings.Count(string(src[:m[0]]), "\n"))
		iban := freshIBAN(example, rng)
		var printed strings.Builder
		for j := 0; j < len(iban); j += 4 {
			if j > 0 {
				printed.WriteByte(' ')
			}
			printed.WriteString(iban[j:min(j+4, len(iban))])
		}
		forms := []string{printed.String(), iban}
		if i%3 == 0 {
			forms = append(forms, strings.ToLower(iban))
		}
		if i%3 == 1 {
			forms = append(forms, strings.ToLower(printed.String()))
		}
		lang := ibanLang[c]
		if lang == "" {
			lang = "en"
		}
		for _, v := range forms {
			b.add("iban", "iban", "iban", "pii.iban", "iban/"+c, origin, "iban", lang, v)
		}
	}
	return nil
}

// ibanLang is the language the account holders of a country write in, for the templates.
var ibanLang = map[string]string{
	"DE": "de", "AT": "de", "CH": "de", "LI": "de", "FR": "fr", "BE": "fr", "LU": "fr", "MC": "fr",
	"ES": "es", "IT": "it", "SM": "it", "NL": "nl", "SE": "sv", "FI": "fi", "PL": "pl", "PT": "pt",
}

// freshIBAN returns an IBAN of example's country and structure: every digit and letter of its
// BBAN redrawn from rng, and the check digits that make the whole give 1 mod 97.
func freshIBAN(example string, rng *rand.Rand) string {
	v := []byte(example)
	for i := 4; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			v[i] = '0' + byte(rng.IntN(10))
		case c >= 'A' && c <= 'Z':
			v[i] = 'A' + byte(rng.IntN(26))
		}
	}
	v[2], v[3] = '0', '0'
	r := 0
	for _, c := range append(append([]byte(nil), v[4:]...), v[:4]...) {
		if c >= '0' && c <= '9' {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	check := 98 - r
	v[2], v[3] = '0'+byte(check/10), '0'+byte(check%10)
	return string(v)
}

// stdnumTypes maps stdnum modules to the detector ID a finding should carry, and the language.
var stdnumTypes = []struct{ module, detector, lang string }{
	{"se/personnummer", "pii.se-personnummer", "sv"},
	{"fi/hetu", "pii.fi-hetu", "fi"},
	{"fr/nir", "pii.fr-nir", "fr"},
	{"es/dni", "pii.es-dni", "es"},
	{"es/nie", "pii.es-dni", "es"}, // customs reports NIEs as pii.es-dni: the same mod-23 letter
	{"it/codicefiscale", "pii.it-codice-fiscale", "it"},
	{"nl/bsn", "pii.nl-bsn", "nl"},
	{"de/idnr", "pii.de-steuer-id", "de"},
	{"pl/pesel", "pii.pl-pesel", "pl"},
	{"be/nn", "pii.be-national-number", "fr"},
	{"us/ssn", "pii.ssn", "en"},
	{"gb/nino", "pii.nino", "en"},
	{"dk/cpr", "pii.dk-cpr", "da"},
	{"no/fodselsnummer", "pii.no-fodselsnummer", "no"},
	{"ee/ik", "pii.ee-isikukood", "et"},
	{"ch/ssn", "pii.ch-ahv", "de"},
	{"ro/cnp", "pii.ro-cnp", "ro"},
	{"br/cpf", "pii.br-cpf", "pt"},
	{"in/aadhaar", "pii.in-aadhaar", "en"},
	{"ie/pps", "pii.ie-pps", "en"},
	{"pt/cc", "pii.pt-cc", "pt"},
	{"mx/curp", "pii.mx-curp", "es"},
	{"at/vnr", "pii.at-svnr", "de"},
	{"de/passport", "pii.passport", "de"},
}

var (
	specBlock  = regexp.MustCompile(`(?m)^\s*(?:it|test)(?:\.each)?\(`)
	quoted     = regexp.MustCompile(`'([^'\n]+)'`)
	validCall  = regexp.MustCompile(`validate\('([^'\n]+)'\)`)
	validShown = regexp.MustCompile(`(?m)^\s*expect\(result\.isValid(?:\)\.toEqual\(true\)|\)\.toBeTruthy\(\)| && result\.compact\))`)
)

// specValues returns the values a stdnum spec file asserts valid, with their lines.
func specValues(src string) (vals []string, lines []int) {
	idx := specBlock.FindAllStringIndex(src, -1)
	seen := map[string]bool{}
	for i, m := range idx {
		end := len(src)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		block := src[m[0]:end]
		if !validShown.MatchString(block) {
			continue
		}
		var cands []string
		if strings.Contains(block[:min(len(block), 12)], ".each") {
			arr := block[:strings.Index(block, "])")+1]
			for _, q := range quoted.FindAllStringSubmatch(arr, -1) {
				cands = append(cands, q[1])
			}
		} else if c := validCall.FindStringSubmatch(block); c != nil {
			cands = []string{c[1]}
		}
		for _, v := range cands {
			if !seen[v] && len(v) >= 6 {
				seen[v] = true
				vals = append(vals, v)
				lines = append(lines, 1+strings.Count(src[:m[0]], "\n"))
			}
		}
	}
	return vals, lines
}

func (b *piiBuilder) stdnum(dir string) error {
	for _, t := range stdnumTypes {
		path := filepath.Join(dir, t.module+".spec.ts")
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		vals, lines := specValues(string(src))
		kind, file, provider := t.detector, "nationalid", "national-id"
		if t.detector == "pii.passport" {
			kind, file, provider = "passport", "passport", "passport"
		}
		for i, v := range vals {
			origin := fmt.Sprintf("stdnum/src/%s.spec.ts:%d", t.module, lines[i])
			if publishedIDs[strings.Map(keepAlnum, strings.ToUpper(v))] {
				file = "published"
			} else if kind != "passport" {
				file = "nationalid"
			}
			rule := provider + "/" + t.module
			b.add(file, "stdnum", provider, t.detector, rule, origin, kind, t.lang, v)
			if kind != "passport" {
				b.add(file, "stdnum", provider, t.detector, rule, origin, "id", t.lang, v)
			}
		}
	}
	return nil
}

// publishedIDs are values of stdnum's tests that are the national test numbers published for
// software testing, which customs ignores by design (detectors/pii's package doc: the BSN test
// numbers, the textbook HETU): scored as misses they would count a deliberate silence. They go
// to pii/published.jsonl as negatives, rules prefixed published/, which the scorer counts as
// false positives should customs report one with its default options.
var publishedIDs = map[string]bool{"111222333": true, "123456782": true, "131052308T": true}

func keepAlnum(r rune) rune {
	if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
		return r
	}
	return -1
}

// testCards are the brands' published test card numbers (the numbers payment processors
// document for test mode), by brand: their prefixes and lengths.
var testCards = []struct{ brand, number string }{
	{"visa", "4111111111111111"}, {"visa", "4012888888881881"}, {"visa", "4222222222222"},
	{"mastercard", "5555555555554444"}, {"mastercard", "5105105105105100"}, {"mastercard", "2223003122003222"},
	{"amex", "378282246310005"}, {"amex", "371449635398431"},
	{"discover", "6011111111111117"}, {"discover", "6011000990139424"},
	{"diners", "30569309025904"}, {"diners", "38520000023237"},
	{"jcb", "3530111333300000"}, {"jcb", "3566002020360505"},
	{"unionpay", "6200000000000005"},
	{"maestro", "6759649826438453"}, {"maestro", "6799990100000000019"},
}

func (b *piiBuilder) cards() {
	type card struct{ brand, number, origin string }
	var all []card
	// customs ignores the published test numbers themselves on purpose (they fill
	// documentation and test suites): the fixtures keep each brand's prefix and length and
	// vary the account digits, Luhn-valid (ours).
	for i, c := range testCards {
		body := c.number[:6] + rotate("8374920156473829105", i)
		all = append(all, card{c.brand, luhnComplete(body, len(c.number)), "ours (Luhn-valid, prefix and length of a published test number)"})
	}
	// Lengths the published lists lack: JCB's 15-digit ranges and Maestro from 12 to 19 digits.
	for i, p := range []string{"1800", "2131"} {
		all = append(all, card{"jcb15", luhnComplete(p+rotate("5829301746253", i), 15), "ours (Luhn-valid)"})
	}
	for n := 12; n <= 19; n++ {
		all = append(all, card{"maestro" + strconv.Itoa(n), luhnComplete("6304"+rotate("918273645546372819", n), n), "ours (Luhn-valid)"})
	}
	for i, c := range all {
		// Printed as the card is embossed: 15 digits 4-6-5 (Amex, JCB 15), 14 digits 4-6-4
		// (Diners), others in fours; spaced, or dashed as web forms echo them.
		forms := []string{c.number}
		if len(c.number) == 16 || i%2 == 0 && len(c.number) > 12 {
			sep := " "
			if len(c.number) != 16 && i%4 == 0 {
				sep = "-"
			}
			forms = append(forms, cardGroups(c.number, sep))
		}
		for _, v := range forms {
			b.add("card", "cards", "card", "pii.card", "card/"+c.brand, c.origin, "card", "en", v)
		}
	}
}

// passportShapes are the national passport number shapes people are issued (stdnum has
// German ones only): n a digit, a an upper-case letter, x either (never O, as the Dutch
// alphabet). The numbers are ours, drawn from a fixed seed: no registry publishes real ones.
var passportShapes = []struct{ country, lang, shape string }{
	{"us", "en", "nnnnnnnnn"}, {"us", "en", "annnnnnnn"}, {"gb", "en", "nnnnnnnnn"},
	{"fr", "fr", "nnaannnnn"}, {"es", "es", "aaannnnnn"}, {"it", "it", "aannnnnnn"},
	{"nl", "nl", "aaxxxxxxn"}, {"pl", "pl", "aannnnnnn"},
}

func (b *piiBuilder) passports() {
	rng := rand.New(rand.NewPCG(15, 9))
	const letters, alnum = "ABCDEFGHIJKLMNPQRSTUVWXYZ", "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
	for _, p := range passportShapes {
		for range 2 {
			v := []byte(p.shape)
			for i, c := range v {
				switch c {
				case 'n':
					v[i] = '0' + byte(rng.IntN(10))
				case 'a':
					v[i] = letters[rng.IntN(len(letters))]
				default:
					v[i] = alnum[rng.IntN(len(alnum))]
				}
			}
			b.add("passport", "customs", "passport", "pii.passport", "passport/"+p.country, "ours (the country's passport number shape)", "passport", p.lang, string(v))
		}
	}
}

func cardGroups(n, sep string) string {
	var cuts []int
	switch len(n) {
	case 15:
		cuts = []int{4, 10}
	case 14:
		cuts = []int{4, 10}
	default:
		for c := 4; c < len(n); c += 4 {
			cuts = append(cuts, c)
		}
	}
	out, prev := "", 0
	for _, c := range cuts {
		out += n[prev:c] + sep
		prev = c
	}
	return out + n[prev:]
}

// rotate returns s rotated left by n, a cheap way to vary digits deterministically.
func rotate(s string, n int) string {
	n %= len(s)
	return s[n:] + s[:n]
}

// luhnComplete cuts digits to n-1 and appends the Luhn check digit.
func luhnComplete(digits string, n int) string {
	d := digits[:n-1]
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i] - '0')
		if (len(d)-1-i)%2 == 0 {
			if x *= 2; x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return d + strconv.Itoa((10-sum%10)%10)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
