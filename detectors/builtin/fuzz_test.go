package builtin_test

import (
	"encoding/base64"
	"github.com/customs-dev/customs/internal/lineartime"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/detectors/internal/corpusgen"
)

var (
	engineOnce sync.Once
	engine     *detectors.Engine
	engineErr  error
)

func sharedEngine(t testing.TB) *detectors.Engine {
	engineOnce.Do(func() { engine, engineErr = builtin.Engine([]string{"NIGHTJAR", "KESTREL"}) })
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

// scanChecked scans text and checks every match is a sane span of it.
func scanChecked(t testing.TB, e *detectors.Engine, text string) int {
	n := 0
	e.Scan(text, func(d detectors.Detector, m detectors.Match) {
		n++
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			t.Fatalf("%s: span [%d,%d) in a text of %d bytes", d.Meta().ID, m.Start, m.End, len(text))
		}
		if m.Confidence < 0 || m.Confidence > 1 {
			t.Fatalf("%s: confidence %v", d.Meta().ID, m.Confidence)
		}
	})
	return n
}

// FuzzEngine: any bytes through every built-in detector, without a panic or a bogus span.
// Seeded with corpus documents and the pathological inputs below.
func FuzzEngine(f *testing.F) {
	g := corpusgen.New(99)
	for range 40 {
		d, _ := g.Next()
		f.Add(d.Text)
	}
	for _, p := range pathological {
		f.Add(strings.Repeat(p.unit, max(1, 2048/len(p.unit))))
	}
	f.Add("\xff\xfe\xfd")
	f.Add("ghp_\x00\x80")
	f.Add(base64.StdEncoding.EncodeToString([]byte("AKIA" + strings.Repeat("Q", 16))))
	e := sharedEngine(f)
	f.Fuzz(func(t *testing.T, s string) {
		scanChecked(t, e, s)
	})
}

// pathological inputs, each repeated to the test size: one character, digits, keyword storms,
// near-matches that stop one byte short, unterminated blocks, nested encodings.
var pathological = []struct{ name, unit string }{
	{"one-char", "a"},
	{"one-char-upper", "A"},
	{"spaces", " "},
	{"newlines", "\n"},
	{"AKIA", "AKIA"},
	{"AKIA-almost", "AKIAQQQQQQQQQQQQQQQ "},
	{"ghp-almost", "ghp_" + strings.Repeat("a", 35) + " "},
	{"ghp-glued", "ghp_"},
	{"sk-", "sk-"},
	{"sk-ant", "sk-ant-api03-"},
	{"sk_live_", "sk_live_"},
	{"xoxb", "xoxb-1-"},
	{"AIza", "AIza"},
	{"eyJ", "eyJ"},
	{"jwt-almost", "eyJhbGciOiJIUzI1NiJ9."},
	{"pem-begin", "-----BEGIN RSA PRIVATE KEY-----\n"},
	{"pem-open", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n"},
	{"dashes", "-----"},
	{"uri", "postgres://u:p@"},
	{"scheme", "://"},
	{"userinfo", "https://a:"},
	{"at", "a@"},
	{"at-dots", "a.b@c."},
	{"password", "password="},
	{"password-spaced", "password = "},
	{"secret-colon", "secret: "},
	{"iban-prefix", "DE89 "},
	{"iban-long", "DE89 3704 0044 0532 0130 00"},
	{"ssn-ish", "123-45-"},
	{"card-groups", "4111 1111 1111 111 "},
	{"digit-space", "1 "},
	{"digit-dash", "1-"},
	{"plus", "+1 "},
	{"ipv4", "10.0."},
	{"base64-valid", "QUFB"},
	{"base64-nested", base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte("QUFBQUFB"))))},
	{"url-escape", "%41"},
	{"url-nested", url.QueryEscape(url.QueryEscape("%41%41"))},
	{"json-escape", `\u0041`},
	{"json-quote", `\"`},
	{"invalid-utf8", "\xff\xfe"},
	{"keywords-mixed", "AKIA ghp_ sk- xoxb- AIza eyJ -----BEGIN npm_ SG. glpat- @ :// password= "},
}

// digits returns n pseudo-random decimal digits.
func digitRun(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// Every detector must run in time linear in the text: 10 MB of any of the inputs above (and
// of random digits) finishes in under 2 s on one core of the 2-core reference machine. A 1 MB
// run first (under a tenth of the limit) rules out quadratic behaviour before the 10 MB run.
// Times are wall-clock, so each run gets a second chance when the machine is busy.
func TestEngineLinearTime(t *testing.T) {
	e := sharedEngine(t)
	// The larger input is lineartime.Growth times this: 10 MiB, 2 MiB with -short or -race.
	small := (10 << 20) / lineartime.Growth
	if raceEnabled || testing.Short() {
		small = (2 << 20) / lineartime.Growth
	}
	cases := append([]struct{ name, unit string }{{"digits", ""}}, pathological...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			build := func(n int) string {
				if c.unit == "" {
					return digitRun(n)
				}
				return strings.Repeat(c.unit, n/len(c.unit)+1)[:n]
			}
			lineartime.Check(t, c.name, small, func(n int) func() {
				text := build(n)
				return func() { scanChecked(t, e, text) }
			})
		})
	}
}
