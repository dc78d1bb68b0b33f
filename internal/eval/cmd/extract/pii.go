package main

import (
	"bufio"
	"encoding/json"
	"fmt"
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
	for _, t := range ts {
		if t.kind == "fp" {
			b.out["negatives"] = append(b.out["negatives"], eval.Fixture{
				Source: "customs", Provider: "negative", Rule: "negative", Kind: eval.FP, Text: t.text,
				Detector: "pii", Origin: fmt.Sprintf("pii/templates.txt:%d", t.line),
			})
		}
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
	countries := make([]string, 0, len(examples))
	for c := range examples {
		countries = append(countries, c)
	}
	sort.Strings(countries)
	for i, c := range countries {
		nsn := examples[c]
		m := meta.Countries[c]
		if len(m) == 0 {
			continue
		}
		var cc, prefix string
		_ = json.Unmarshal(m[0], &cc)
		if len(m) > 5 {
			_ = json.Unmarshal(m[5], &prefix)
		}
		origin := "libphonenumber-js/examples.mobile.json:" + c
		// International: spaced and compact, alternating so the file stays small.
		intl := "+" + cc + " " + group(nsn)
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
			national = "(" + nsn[:3] + ") " + nsn[3:6] + "-" + nsn[6:]
		} else if prefix != "" && len(prefix) == 1 {
			national = prefix + nsn
		}
		for _, form := range []string{national, group(national)} {
			b.add("phone", "libphonenumber-js", "phone", "pii.phone", "phone/"+c+"/national", origin, "phone-national", lang, form)
		}
	}
	return nil
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
	for i, m := range ms {
		c, iban := string(src[m[2]:m[3]]), string(src[m[4]:m[5]])
		origin := fmt.Sprintf("iban/iban.js:%d", 1+strings.Count(string(src[:m[0]]), "\n"))
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
		lang := map[string]string{"DE": "de", "AT": "de", "FR": "fr", "ES": "es"}[c]
		if lang == "" {
			lang = "en"
		}
		for _, v := range forms {
			b.add("iban", "iban", "iban", "pii.iban", "iban/"+c, origin, "iban", lang, v)
		}
	}
	return nil
}

// stdnumTypes maps stdnum modules to the detector ID a finding should carry, and the language.
var stdnumTypes = []struct{ module, detector, lang string }{
	{"se/personnummer", "pii.se-personnummer", "sv"},
	{"fi/hetu", "pii.fi-hetu", "fi"},
	{"fr/nir", "pii.fr-nir", "fr"},
	{"es/dni", "pii.es-dni", "es"},
	{"es/nie", "pii.es-nie", "es"},
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
			rule := provider + "/" + t.module
			b.add(file, "stdnum", provider, t.detector, rule, origin, kind, t.lang, v)
			if kind != "passport" {
				b.add(file, "stdnum", provider, t.detector, rule, origin, "id", t.lang, v)
			}
		}
	}
	return nil
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
		forms := []string{c.number}
		if len(c.number) == 16 {
			forms = append(forms, c.number[:4]+" "+c.number[4:8]+" "+c.number[8:12]+" "+c.number[12:])
		} else if i%2 == 0 && len(c.number) > 12 {
			forms = append(forms, c.number[:4]+"-"+c.number[4:])
		}
		for _, v := range forms {
			b.add("card", "cards", "card", "pii.card", "card/"+c.brand, c.origin, "card", "en", v)
		}
	}
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
