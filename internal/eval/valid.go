package eval

import (
	"encoding/base64"
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
	{"jwt", jwtRe, secrets.JWTOK},
	{"sentry-org", regexp.MustCompile(`\bsntrys_[A-Za-z0-9+/=_]{20,}`), secrets.SentryOrgTokenOK},
	{"pem", regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`), secrets.PrivateKeyBlockOK},
	// An Amazon Bedrock short-term key is the base64 of a presigned URL; the prefix alone
	// ("bedrock.amazonaws.com") holds no credential.
	{"bedrock-presigned", regexp.MustCompile(`\bbedrock-api-key-[A-Za-z0-9+/]+={0,2}`), secrets.BedrockKeyOK},
	// A JWT encoded once more in base64 ("eyJ" becomes "ZXlK"): the token inside must be one.
	{"jwt-base64", regexp.MustCompile(`\bZXlK[A-Za-z0-9+/]{20,}={0,2}`), base64JWTOK},
}

var jwtRe = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

func base64JWTOK(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return false
	}
	m := jwtRe.FindString(string(b))
	return m != "" && secrets.JWTOK(m)
}

// byDesign names why a tp fixture's value is, by a rule stated here rather than customs'
// own gates, no live secret: a placeholder (a run of one character, or a counting sequence
// beside ABCD, as 12345678-ABCD-ABCD-ABCD-1234567890AB), or a Stripe test-mode key, which
// cannot reach live data and which customs does not report (README). "" otherwise. Only
// fixtures that name their value are judged.
func byDesign(f *Fixture) string {
	if len(f.Want) == 0 {
		return ""
	}
	for _, w := range f.Want {
		switch {
		case stripeTest.MatchString(w):
			return "stripe-test-key"
		case placeholderValue(w):
			return "placeholder"
		}
	}
	return ""
}

var stripeTest = regexp.MustCompile(`^(?:sk|rk)_test_`)

func placeholderValue(w string) bool {
	// A run at the very start is a format's padding (Twitter bearer tokens open with twenty
	// A's), not a filler.
	run, longest := 1, 1
	for i := 1; i < len(w); i++ {
		switch {
		case w[i] != w[i-1]:
			run = 1
		case run+1 == i+1: // the run still starts at 0
			run++
		default:
			run++
			longest = max(longest, run)
		}
	}
	if longest >= 10 {
		return true
	}
	u := strings.ToUpper(w)
	return strings.Contains(u, "12345678") && strings.Contains(u, "ABCD")
}

// Excluded names why a tp fixture is left out of recall, for both tools: a format check its
// value fails, or a by-design reason. "" when it counts.
func Excluded(f *Fixture) string {
	if r := InvalidFormat(f); r != "" {
		return r
	}
	return byDesign(f)
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
