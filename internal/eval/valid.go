package eval

import (
	"encoding/base64"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/customs-dev/customs/detectors/pii"
	"github.com/customs-dev/customs/detectors/secrets"
)

// formatChecks are the formats that carry their own checksum or structure, with customs'
// validators of them: a value that fails its check cannot be a real token, and customs stays
// silent on it by design.
var formatChecks = []struct {
	name     string
	provider string // the check applies to this provider's fixtures only ("" for all)
	re       *regexp.Regexp
	valid    func(string) bool
}{
	{"github-crc32", "", regexp.MustCompile(`\b(?:gh[pousr]|npm)_[A-Za-z0-9]{30,}`), secrets.GitHubChecksumOK},
	{"atlassian-crc32", "", regexp.MustCompile(`\bAT(?:ATT|CTT|BB)[A-Za-z0-9_=+/-]{20,}`), secrets.AtlassianChecksumOK},
	{"pypi-macaroon", "", regexp.MustCompile(`\bpypi-[A-Za-z0-9_-]{50,}`), secrets.PyPITokenOK},
	{"jwt", "", jwtRe, secrets.JWTOK},
	{"sentry-org", "", regexp.MustCompile(`\bsntrys_[A-Za-z0-9+/=_]{20,}`), secrets.SentryOrgTokenOK},
	{"pem", "", regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`), secrets.PrivateKeyBlockOK},
	// An Amazon Bedrock short-term key is the base64 of a presigned URL; the prefix alone
	// ("bedrock.amazonaws.com") holds no credential.
	{"bedrock-presigned", "", regexp.MustCompile(`\bbedrock-api-key-[A-Za-z0-9+/]+={0,2}`), secrets.BedrockKeyOK},
	// A JWT encoded once more in base64 ("eyJ" becomes "ZXlK"): the token inside must be one.
	{"jwt-base64", "", regexp.MustCompile(`\bZXlK[A-Za-z0-9+/]{20,}={0,2}`), base64JWTOK},
	// The formats below are the vendors' published ones, written out here rather than taken
	// from customs' detectors; they judge only the fixtures that claim the vendor.
	//
	// Stripe's secret and restricted keys name their mode after the type: sk_live_, sk_test_,
	// rk_live_, rk_test_ (https://docs.stripe.com/keys, "Key types"; Stripe's security team
	// gave GitLab (sk|rk)_live_[0-9a-z]{10,128} for live keys, gitlab-org/gitlab#458019). A
	// sk_prod_ or rk_prod_ key is none of them.
	{"stripe-mode", "stripe", regexp.MustCompile(`\b[sr]k_[a-z]+_[A-Za-z0-9]{10,}`), stripeModeOK},
	// A SendGrid API key is SG. + a 22-character key ID + . + a 43-character secret, both
	// base64url (SendGrid's former "What is my API key?" classroom page, archived at
	// https://web.archive.org/web/20200202153737/https://d2w67tjf43xwdp.cloudfront.net/Classroom/Basics/API/what_is_my_api_key.html
	// and cited for this structure by Yelp's detect-secrets), 69 characters in all, as Twilio's
	// docs still state (https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys).
	// Only the structure is held to — two dot-separated base64url parts — not the lengths:
	// keys a few characters off 22 and 43 are seen in the wild, and the issue asks that they
	// be caught.
	// Grafana's service-account tokens are glsa_ + 32 alphanumerics + _ + the CRC32 of the
	// prefix and secret in 8 hex (grafana/grafana, pkg/components/satokengen).
	{"grafana-glsa", "grafana", regexp.MustCompile(`\bglsa_[A-Za-z0-9_]{20,}`), glsaRe.MatchString},
	{"sendgrid-structure", "sendgrid", regexp.MustCompile(`\bSG\.[A-Za-z0-9_=+/-]+(?:\.[A-Za-z0-9_=+/-]+)*`), sendgridRe.MatchString},
	// HTTP Basic credentials are the base64 of user-id ":" password in UTF-8 (RFC 7617, 2
	// and 2.1); one that does not decode to that text, or whose password is empty, holds no
	// secret.
	{"basic-credentials", "", regexp.MustCompile(`\bBasic [A-Za-z0-9+/]{4,}={0,2}`), basicCredentialsOK},
}

func basicCredentialsOK(s string) bool {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "Basic "))
	if err != nil || !utf8.Valid(b) {
		return false
	}
	_, pass, ok := strings.Cut(string(b), ":")
	if !ok || pass == "" {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

var (
	stripeMode = regexp.MustCompile(`^[sr]k_(?:live|test)_`)
	glsaRe     = regexp.MustCompile(`^glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}$`)
	sendgridRe = regexp.MustCompile(`^SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{32,64}$`)
)

func stripeModeOK(s string) bool { return stripeMode.MatchString(s) }

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
// own gates, no live secret: a placeholder (see placeholderValue), or a Stripe test-mode key,
// which cannot reach live data and which customs does not report (README). "" otherwise. A
// fixture that names its values is judged on them; one that does not (a secret fixture) on
// each word of its text, a run of eight or more characters that tokens are made of.
func byDesign(f *Fixture) string {
	if f.Kind != TP {
		return ""
	}
	values := f.Want
	if len(values) == 0 && !f.PII() {
		values = textWord.FindAllString(f.Text, -1)
	}
	for _, w := range values {
		switch {
		case stripeTest.MatchString(w):
			return "stripe-test-key"
		case placeholderValue(w):
			return "placeholder"
		}
	}
	return ""
}

var (
	stripeTest = regexp.MustCompile(`^(?:sk|rk)_test_`)
	textWord   = regexp.MustCompile(`[A-Za-z0-9_+/=.:-]{8,}`)
)

// placeholderValue reports filler typed by a person rather than drawn at random: a run of
// ten or more of one character past the start, a counting sequence beside ABCD (as
// 12345678-ABCD-ABCD-ABCD-1234567890AB) or of eight digits (xoxb-123456789012-…), hex words
// (cafebabe:deadbeef), the capitals FAKE or EXAMPLE written into it (cmVmdGtu…FAKE…, AWS'
// AKIAIOSFODNN7EXAMPLE), or ten or more letters in alphabetical order, case and the
// characters between them ignored (abcDEF123ghiJKL…, klmnopqrstuvwx). A random base62 value
// holds such a run with odds below one in 10^12 per position (FAKE: one in 15 million).
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
	return strings.Contains(u, "12345678") && strings.Contains(u, "ABCD") || digitCount(w) >= 8 || alphabetRun(w) >= 10 || hexspeak(w) ||
		strings.Contains(w, "FAKE") || strings.Contains(w, "EXAMPLE")
}

// digitCount is the length of the longest run of digits counting up by one, 9 followed by 0
// (45678901).
func digitCount(s string) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < '0' || c > '9':
			run = 0
		case run > 0 && (c == s[i-1]+1 || c == '0' && s[i-1] == '9'):
			run++
		default:
			run = 1
		}
		longest = max(longest, run)
	}
	return longest
}

// hexspeakWords are the hex words programmers type as filler (0xDEADBEEF, Java's CAFEBABE).
var hexspeakWords = []string{"deadbeef", "cafebabe", "feedface", "baadf00d", "decafbad", "deadc0de", "cafed00d", "8badf00d", "facefeed", "defec8ed", "badc0ffee"}

// hexspeak: w, or what follows its last '=' (NAME=value), is made of hexspeak words and
// separators only (cafebabe:deadbeef).
func hexspeak(w string) bool {
	w = w[strings.LastIndexByte(w, '=')+1:]
	rest := strings.ToLower(w)
	for _, h := range hexspeakWords {
		rest = strings.ReplaceAll(rest, h, "")
	}
	return len(rest) < len(w) && strings.Trim(rest, ":-_./ ") == ""
}

// alphabetRun is the length of the longest run of letters in alphabetical order in s, case
// and the other characters between them ignored.
func alphabetRun(s string) int {
	longest, run, prev := 0, 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // lower case, for letters
		if c < 'a' || c > 'z' || s[i] > 'z' {
			continue
		}
		if prev != 0 && c == prev+1 {
			run++
		} else {
			run = 1
		}
		prev = c
		longest = max(longest, run)
	}
	return longest
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
			if c.provider != "" && c.provider != f.Provider {
				continue
			}
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
