package eval

import (
	"regexp"
	"strings"

	"github.com/customs-dev/customs/detectors/pii"
	"github.com/customs-dev/customs/detectors/secrets"
)

// formatChecks are the formats that carry their own checksum or structure, with customs'
// validators of them: a value that fails its check cannot be a real token, and customs stays
// silent on it by design.
var formatChecks = []struct {
	name  string
	re    *regexp.Regexp
	valid func(string) bool
}{
	{"github-crc32", regexp.MustCompile(`\b(?:gh[pousr]|npm)_[A-Za-z0-9]{30,}`), secrets.GitHubChecksumOK},
	{"atlassian-crc32", regexp.MustCompile(`\bAT(?:ATT|CTT|BB)[A-Za-z0-9_=+/-]{20,}`), secrets.AtlassianChecksumOK},
	{"pypi-macaroon", regexp.MustCompile(`\bpypi-[A-Za-z0-9_-]{50,}`), secrets.PyPITokenOK},
	{"jwt", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`), secrets.JWTOK},
	{"sentry-org", regexp.MustCompile(`\bsntrys_[A-Za-z0-9+/=_]{20,}`), secrets.SentryOrgTokenOK},
	{"pem", regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`), secrets.PrivateKeyBlockOK},
}

// InvalidFormat names the format check a tp fixture's value fails ("" when it passes or its
// format has none): every checkable value in it (the wanted ones, else the whole text) fails.
func InvalidFormat(f *Fixture) string {
	if f.Kind != TP {
		return ""
	}
	if f.PII() {
		return invalidPII(f)
	}
	texts := f.Want
	if len(texts) == 0 {
		texts = []string{f.Text}
	}
	failed, passed := "", false
	for _, t := range texts {
		for _, c := range formatChecks {
			for _, m := range c.re.FindAllString(t, -1) {
				if c.valid(m) {
					passed = true
				} else if failed == "" {
					failed = c.name
				}
			}
		}
	}
	if passed {
		return ""
	}
	return failed
}

func invalidPII(f *Fixture) string {
	for _, w := range f.Want {
		switch f.Detector {
		case "pii.iban":
			if !pii.IBANValid(strings.ToUpper(strings.ReplaceAll(w, " ", ""))) {
				return "iban-mod97"
			}
		case "pii.card":
			if !luhn(w) {
				return "luhn"
			}
		}
	}
	return ""
}

func luhn(s string) bool {
	sum, n, double := 0, 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
		double = !double
	}
	return n >= 12 && sum%10 == 0
}
