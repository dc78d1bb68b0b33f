package eval

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/customs-dev/customs/internal/golden"
)

func TestOverlaps(t *testing.T) {
	for _, tc := range []struct {
		doc        string
		start, end int
		want       string
		ok         bool
	}{
		{"key=abc123", 4, 10, "abc123", true},
		{"key=abc123", 0, 3, "abc123", false},          // the key name only
		{"key=abc123", 3, 5, "abc123", true},           // a finding reaching into the value
		{"abc123 x abc123", 9, 15, "abc123", true},     // the second occurrence
		{"abc123 x abc123", 6, 9, "abc123", false},     // between the two
		{"abc", 0, 3, "", false},                       // nothing wanted
		{"xx-abc-xx", 0, 2, "abc", false},              // adjacent, not overlapping
		{"xx-abc-xx", 2, 4, "abc", true},               // one byte in
		{"aaaa", 3, 4, "aa", true},                     // overlapping occurrences of the value
		{`{"content":"tok\nen"}`, 12, 19, "tok", true}, // a span in a JSON document
	} {
		if got := Overlaps(tc.doc, tc.start, tc.end, tc.want); got != tc.ok {
			t.Errorf("Overlaps(%q, %d, %d, %q) = %v, want %v", tc.doc, tc.start, tc.end, tc.want, got, tc.ok)
		}
	}
}

func TestFoundAndAlarm(t *testing.T) {
	secret := Hit{Detector: "secret.x", Class: "secret", Segment: "token: abcdefgh", Start: 7, End: 15}
	pii := Hit{Detector: "pii.phone", Class: "pii", Segment: "tel 0301234567", Start: 4, End: 14}
	for _, tc := range []struct {
		name  string
		f     Fixture
		hits  []Hit
		found bool
		alarm bool
	}{
		{"secret wanted and found", Fixture{Kind: TP, Want: []string{"abcdefgh"}}, []Hit{secret}, true, true},
		{"secret found elsewhere", Fixture{Kind: TP, Want: []string{"token"}}, []Hit{secret}, false, true},
		{"secret, want unknown", Fixture{Kind: TP}, []Hit{secret}, true, true},
		{"a PII finding is not a secret", Fixture{Kind: TP}, []Hit{pii}, false, false},
		{"PII of the expected detector", Fixture{Kind: TP, Detector: "pii.phone", Want: []string{"0301234567"}}, []Hit{pii}, true, true},
		{"PII of another detector", Fixture{Kind: TP, Detector: "pii.iban", Want: []string{"0301234567"}}, []Hit{pii}, false, true},
		{"a secret is no PII alarm", Fixture{Kind: FP, Detector: "pii"}, []Hit{secret}, false, false},
	} {
		if got := Found(&tc.f, tc.hits); got != tc.found {
			t.Errorf("%s: Found = %v, want %v", tc.name, got, tc.found)
		}
		if got := Alarm(&tc.f, tc.hits); got != tc.alarm {
			t.Errorf("%s: Alarm = %v, want %v", tc.name, got, tc.alarm)
		}
	}
}

func TestMask(t *testing.T) {
	var out bytes.Buffer
	for _, s := range []string{
		"short words stay: abc def123456",
		`api_key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX"`,
		"https://hooks.example.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
		"line one\nline two\tAKIAIOSFODNN7EXAMPLE",
		"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----",
	} {
		fmt.Fprintf(&out, "%s\n", Mask(s, 100))
	}
	golden.Check(t, "testdata/mask.golden", out.Bytes())
}

func TestGitleaksReport(t *testing.T) {
	b, err := os.ReadFile("testdata/gitleaks-report.json")
	if err != nil {
		t.Fatal(err)
	}
	found, err := ParseGitleaksReport(b)
	if err != nil {
		t.Fatal(err)
	}
	fixtures := []Fixture{
		{Kind: TP, Text: "slack: xoxb-1234567890-abcdefghij", Want: []string{"xoxb-1234567890-abcdefghij"}},
		{Kind: TP, Text: "key = \"abc\"\nsecret = \"s3cr3tvalue0123\"", Want: []string{"s3cr3tvalue0123"}},
		{Kind: TP, Text: "password: hunter2hunter2", Want: []string{"hunter2hunter2"}},
		{Kind: TP, Text: "nothing here"},
	}
	var out bytes.Buffer
	for i := range fixtures {
		for _, w := range Wrappings {
			name := docName(i, w)
			fmt.Fprintf(&out, "%s findings=%d found=%v\n", name, len(found[name]),
				GitleaksFound(&fixtures[i], string(Wrap(w, fixtures[i].Text)), found[name]))
		}
	}
	golden.Check(t, "testdata/gitleaks-report.golden", out.Bytes())
	if _, err := ParseGitleaksReport([]byte("not json")); err == nil {
		t.Error("a report that is not JSON parsed")
	}
}

func TestInvalidFormat(t *testing.T) {
	for _, tc := range []struct {
		f    Fixture
		want string
	}{
		{Fixture{Kind: TP, Text: "token ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "github-crc32"},
		{Fixture{Kind: TP, Text: "no checkable format: xoxb-4819203756-qz7Hk2Lp9Wd3"}, ""},
		{Fixture{Kind: FP, Text: "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, ""}, // fps are not judged
		{Fixture{Kind: TP, Detector: "pii.card", Want: []string{"4111 1111 1111 1112"}}, "luhn"},
		{Fixture{Kind: TP, Detector: "pii.iban", Want: []string{"de89 3704 0044 0532 0130 00"}}, ""},
		{Fixture{Kind: TP, Detector: "pii.iban", Want: []string{"DE88370400440532013000"}}, "iban-mod97"},
		{Fixture{Kind: TP, Text: "jwt: ZXlKaGJHY2lPaUpJVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5LmV5SnpkV0lpT2lJeE1qTTBOVFkzT0Rrd0lpd2libUZ0WlNJNklrRmtZU0o5LlNmbEt4d1JKU01lS0tGMlFUNGZ3cE1lSmYzNlBPazZ5SlZfYWRRc3N3NWM="}, ""},
		{Fixture{Kind: TP, Text: "jwt: ZXlKdWIzUm9hVzVuSWpvaWFHVnlaU0o5LmV5SnpkV0lpT2lJeEluMC5hYmM="}, "jwt-base64"}, // a JWT without "alg", encoded again
		{Fixture{Kind: TP, Want: []string{"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t"}}, "bedrock-presigned"},     // the prefix alone
		// By design: placeholders and Stripe test keys are no live secrets.
		{Fixture{Kind: TP, Want: []string{"12345678-ABCD-ABCD-ABCD-1234567890AB"}}, "placeholder"},
		{Fixture{Kind: TP, Want: []string{"AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"}}, "placeholder"},
		{Fixture{Kind: TP, Want: []string{"AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"}}, ""}, // Twitter bearer padding
		{Fixture{Kind: TP, Want: []string{"sk_test_4eC39HqLyjWDarjtT1zdp7dc"}}, "stripe-test-key"},
		{Fixture{Kind: TP, Want: []string{"sk_live_4eC39HqLyjWDarjtT1zdp7dc"}}, ""},
		// Letters in alphabetical order are typed filler; random values keep counting.
		{Fixture{Kind: TP, Want: []string{"sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde"}}, "placeholder"},
		{Fixture{Kind: TP, Want: []string{"LTAI123ABCdef456ghijkLMN"}}, "placeholder"}, // abcdefghijklmn
		{Fixture{Kind: TP, Want: []string{"a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"}}, "placeholder"},
		{Fixture{Kind: TP, Want: []string{"WJKY40uvSwMFLZDe1f8rESQedUStPKR0CsTy4Qwb"}}, ""},
		{Fixture{Kind: TP, Want: []string{"xabcdefghiq7Lm2RtV"}}, ""}, // nine letters in order only
		// A fixture that names no value is judged on the words of its text.
		{Fixture{Kind: TP, Text: `const SNYK_TOKEN = "12345678-ABCD-ABCD-ABCD-1234567890AB"`}, "placeholder"},
		{Fixture{Kind: TP, Text: `"access_token": "xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c"`}, "placeholder"},
		{Fixture{Kind: TP, Text: "stripe: sk_test_51OuEMLAlTWGaDypq4P5cuDHbuKeG4tAGPYHJpEXQ7zE8mKK3jk"}, "stripe-test-key"},
		{Fixture{Kind: FP, Text: `const SNYK_TOKEN = "12345678-ABCD-ABCD-ABCD-1234567890AB"`}, ""}, // fps are not judged
		// Stripe's published modes: live and test. sk_prod_ is no Stripe key; the check judges
		// only fixtures that claim Stripe.
		{Fixture{Kind: TP, Provider: "stripe", Want: []string{"sk_prod_4u125eha22nuvkioor7jgqjinlzs4nqcaedyj84bmw5uhw3p8k"}}, "stripe-mode"},
		{Fixture{Kind: TP, Provider: "stripe", Text: "STRIPE=rk_prod_51OuEMLAlTWGaDypquDn9aZigaJOsa9NR1w1BxZXs9Jl"}, "stripe-mode"},
		{Fixture{Kind: TP, Provider: "stripe", Want: []string{"sk_live_8DwkNhFdnXsiVpzz63FfkCzJ"}}, ""},
		{Fixture{Kind: TP, Provider: "stripe", Text: "key rk_live_8DwkNhFdnXsiVpzz63FfkCzJ"}, ""},
		{Fixture{Kind: TP, Provider: "other", Want: []string{"sk_prod_8DwkNhFdnXsiVpzz63FfkCzJ"}}, ""},
		// SendGrid's published structure: SG. + key ID + . + secret, base64url (lengths near 22 and 43).
		{Fixture{Kind: TP, Provider: "sendgrid", Text: "SENDGRID_API_KEY=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."}, ""},
		{Fixture{Kind: TP, Provider: "sendgrid", Want: []string{"SG.3detddf-4d1o2hso2c_2kr0jyz=22_06f2_snpiqstg_zttmfs5xw9hdexb819gmcw"}}, "sendgrid-structure"},
		{Fixture{Kind: TP, Provider: "sendgrid", Want: []string{"SG.ZV-VYwtHzJJW4wF8yPQk3.ZXg9c9DZuOgUcW1f2inP6SqfEsYG82zAe0wG7brZZ5OvruV-I"}}, ""}, // 21 + 49: the structure holds
		// Eight digits counting up, hex words and FAKE or EXAMPLE written in are typed filler.
		{Fixture{Kind: TP, Text: `"bot_token4": "xoxb-123456789012-Xw937qtWSXJss1lFaKe"`}, "placeholder"},
		{Fixture{Kind: TP, Text: "ARG token=sq0atp-812erere3wewew45678901"}, "placeholder"}, // 45678901
		{Fixture{Kind: TP, Text: "ARG token=sq0atp-812erere3wewew45678x01"}, ""},
		{Fixture{Kind: TP, Text: "export BUNDLE_ENTERPRISE__CONTRIBSYS__COM=cafebabe:deadbeef;"}, "placeholder"},
		{Fixture{Kind: TP, Text: "export BUNDLE_ENTERPRISE__CONTRIBSYS__COM=cafebabe:4f0a91c2;"}, ""},
		{Fixture{Kind: TP, Want: []string{"cmVmdGtuOjAxOjE3ODA1NTFAKEM6S2J2MGswemNzZzhaRnFlVUFAKEk3amlLcGZg"}}, "placeholder"},
		{Fixture{Kind: TP, Want: []string{"AKIAIOSFODNN7EXAMPLE"}}, "placeholder"},
		{Fixture{Kind: TP, Want: []string{"cmVmdGtuOjAxOjE3ODA1NTFake6S2J2MGswemNzZzhaRnFlVUFhk3amlLcGZg"}}, ""}, // only the capitals
		// HTTP Basic: base64 of user:password (RFC 7617) with a password.
		{Fixture{Kind: TP, Text: "curl -H 'Authorization: Basic YnJvd3Nlcjo=' \\"}, "basic-credentials"},                                                               // browser:
		{Fixture{Kind: TP, Text: `--header "Authorization: Basic djJlNEpYa0NJUHZ5a2FWT0VRXzRqZmZUdDkwYTp2emNBZGFzZWpmlWZiUDc2VUJjNDNNVDExclVh"`}, "basic-credentials"}, // not UTF-8
		{Fixture{Kind: TP, Text: "-H 'Authorization: Basic " + "YXBpOmtleS1hN2MzNDJ3MzNhNWQxLTU2M2U3MjlwLTZhYjI3YzYzNzM0Ng==" + "'"}, ""},
		// Grafana's service-account tokens: glsa_ + 32 + _ + 8 hex.
		{Fixture{Kind: TP, Provider: "grafana", Want: []string{"glsa_HU0WvVk_sl4PunHK8JtC7U6fywRm3FJuEFJwct3qi"}}, "grafana-glsa"},
		{Fixture{Kind: TP, Provider: "grafana", Want: []string{"glsa_HU0WvVkasl4PunHK8JtC7U6fywRm3FJu_0a1b2c3d"}}, ""},
	} {
		if got := Excluded(&tc.f); got != tc.want {
			t.Errorf("Excluded(%q %v) = %q, want %q", tc.f.Text, tc.f.Want, got, tc.want)
		}
	}
}
