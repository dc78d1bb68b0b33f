package secrets

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// Kinds of leak that prompts carry and the first tests did not write (issue 14): damaged
// private keys, AWS secret keys under other names or encoded, and random tokens that happen to
// hold a run of x's.

// findAll runs d over text and returns its matches unmerged.
func findAll(d detectors.Detector, text string) []detectors.Match {
	var ms []detectors.Match
	d.Find(text, hitsFor(text, d.Meta().Keywords), func(m detectors.Match) { ms = append(ms, m) })
	return ms
}

func TestDamagedPrivateKeys(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ek)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	p8ed, _ := x509.MarshalPKCS8PrivateKey(edk)
	p8rsa, _ := x509.MarshalPKCS8PrivateKey(rk)
	pkcs1 := pemString("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk))
	p8 := pemString("PRIVATE KEY", p8rsa)
	ec := pemString("EC PRIVATE KEY", sec1)
	ssh := pemWrap("OPENSSH PRIVATE KEY", opensshEd25519("damaged"), "\n")
	enc := pemString("ENCRYPTED PRIVATE KEY", encryptedPKCS8("damaged"))
	legacy := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n" +
		base64.StdEncoding.EncodeToString(rndBytes("legacy", 1200)) + "\n-----END RSA PRIVATE KEY-----"
	lines := func(b string) []string { return strings.Split(b, "\n") }
	jsonEsc := func(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

	type tc struct {
		name, text, want string  // want: the reported span
		conf             float64 // 1 or damagedKeyConf
	}
	var tests []tc
	// Every truncation of a PKCS#1 key that keeps a line or more of it is a leak, with its END
	// line or without.
	for n := 1; n < len(lines(pkcs1))-2; n++ { // the last body line left out, or more
		head := strings.Join(lines(pkcs1)[:n+1], "\n")
		tests = append(tests,
			tc{fmt.Sprintf("pkcs1 cut after line %d", n), "see:\n" + head + "\n\nthanks", head, damagedKeyConf},
			tc{fmt.Sprintf("pkcs1 cut after line %d, END kept", n), head + "\n-----END RSA PRIVATE KEY-----", head + "\n-----END RSA PRIVATE KEY-----", damagedKeyConf})
	}
	cut := func(b string, n int) string { return strings.Join(lines(b)[:n+1], "\n") }
	p8cut := cut(p8, 6)
	// Base64 lines may begin with "//", which renderings also use as a comment marker: a key
	// whose second line does (bytes 48 and 49 of its DER all ones) must still parse.
	slashDER := encryptedPKCS8("slashes")
	slashDER[48], slashDER[49] = 0xff, slashDER[49]|0xf0
	slashes := pemWrap("ENCRYPTED PRIVATE KEY", slashDER, "\n")
	if !strings.HasPrefix(lines(slashes)[2], "//") {
		t.Fatal("the second line does not begin with //")
	}
	tests = append(tests,
		tc{"a line beginning with //", `{"k": "` + jsonEsc(slashes) + `"}`, jsonEsc(slashes), 1},
		tc{"ec cut", cut(ec, 2), cut(ec, 2), damagedKeyConf},
		tc{"ed25519 pkcs8 cut mid-line", pemString("PRIVATE KEY", p8ed)[:len("-----BEGIN PRIVATE KEY-----\n")+60], pemString("PRIVATE KEY", p8ed)[:len("-----BEGIN PRIVATE KEY-----\n")+60], 0},
		tc{"openssh cut", cut(ssh, 3), cut(ssh, 3), damagedKeyConf},
		tc{"encrypted pkcs8 cut", cut(enc, 3), cut(enc, 3), damagedKeyConf},
		tc{"legacy encrypted cut", legacy[:300], legacy[:300], damagedKeyConf},
		tc{"lines left out", strings.Join(append(lines(p8)[:4:4], lines(p8)[8:]...), "\n"), strings.Join(append(lines(p8)[:4:4], lines(p8)[8:]...), "\n"), damagedKeyConf},
		tc{"elided with ...", cut(p8, 3) + "\n...\n" + strings.Join(lines(p8)[len(lines(p8))-3:], "\n"), cut(p8, 3) + "\n...\n" + strings.Join(lines(p8)[len(lines(p8))-3:], "\n"), damagedKeyConf},
		tc{"elided with …", cut(p8, 2) + "…\n" + lines(p8)[len(lines(p8))-1], cut(p8, 2) + "…\n" + lines(p8)[len(lines(p8))-1], damagedKeyConf},
		tc{"elided with [...]", cut(p8, 2) + "\n[...]\n" + strings.Join(lines(p8)[len(lines(p8))-2:], "\n"), cut(p8, 2) + "\n[...]\n" + strings.Join(lines(p8)[len(lines(p8))-2:], "\n"), damagedKeyConf},
		tc{"json string, cut", `{"role":"user","content":"fix this: ` + jsonEsc(p8cut) + `"}`, jsonEsc(p8cut), damagedKeyConf},
		tc{"json in json, cut", `{\"key\": \"` + strings.ReplaceAll(p8cut, "\n", `\\n`) + `\"}`, strings.ReplaceAll(p8cut, "\n", `\\n`), damagedKeyConf},
		tc{"crlf, cut", strings.ReplaceAll(p8cut, "\n", "\r\n") + "\r\n\r\nok?", strings.ReplaceAll(p8cut, "\n", "\r\n"), damagedKeyConf},
		tc{"a bit flipped", flipped(pkcs1), flipped(pkcs1), damagedKeyConf},
		tc{"END of another label", cut(ec, 2) + "\n-----END PRIVATE KEY-----", cut(ec, 2), damagedKeyConf},
		// Complete keys in renderings that hide their lines: they parse.
		tc{"folded onto one line", "key: " + strings.ReplaceAll(pkcs1, "\n", " ") + " thanks", strings.ReplaceAll(pkcs1, "\n", " "), 1},
		tc{"escaped slashes", `{"k":"` + strings.ReplaceAll(jsonEsc(p8), "/", `\/`) + `"}`, strings.ReplaceAll(jsonEsc(p8), "/", `\/`), 1},
		tc{"unicode-escaped plus", `{"k":"` + strings.ReplaceAll(jsonEsc(p8), "+", `\u002B`) + `"}`, strings.ReplaceAll(jsonEsc(p8), "+", `\u002B`), 1},
		tc{"yaml block", "tls:\n  key: |\n    " + strings.ReplaceAll(ec, "\n", "\n    ") + "\n  cert: x\n", strings.ReplaceAll(ec, "\n", "\n    "), 1},
		tc{"e-mail quote", "> " + strings.ReplaceAll(ec, "\n", "\n> "), strings.ReplaceAll(ec, "\n", "\n> "), 1},
		tc{"comment", "# " + strings.ReplaceAll(ec, "\n", "\n# "), strings.ReplaceAll(ec, "\n", "\n# "), 1},
		tc{"go comment", "// " + strings.ReplaceAll(ec, "\n", "\n// "), strings.ReplaceAll(ec, "\n", "\n// "), 1},
		tc{"sql comment", "-- " + strings.ReplaceAll(ec, "\n", "\n-- "), strings.ReplaceAll(ec, "\n", "\n-- "), 1},
		tc{"java concatenation", `String k = "` + strings.ReplaceAll(ec, "\n", `\n" +`+"\n    \"") + `";`, strings.ReplaceAll(ec, "\n", `\n" +`+"\n    \""), 1},
		tc{"python implicit concatenation", "KEY = (\"" + strings.ReplaceAll(ec, "\n", "\\n\"\n       \"") + "\")", strings.ReplaceAll(ec, "\n", "\\n\"\n       \""), 1},
		tc{"no END line", pkcs1[:strings.LastIndexByte(pkcs1, '\n')] + "\n\nand then?", pkcs1[:strings.LastIndexByte(pkcs1, '\n')], 1},
	)
	d := byID(t, "secret.private-key")
	for _, tc := range tests {
		got := findAll(d, tc.text)
		if tc.conf == 0 {
			continue // listed for the record: 60 characters of an Ed25519 key are below the bar
		}
		if len(got) != 1 || tc.text[got[0].Start:got[0].End] != tc.want || got[0].Confidence != tc.conf {
			t.Errorf("%s: got %v, want the block at confidence %v\n%.200q", tc.name, got, tc.conf, tc.text)
		}
	}

	// A truncated key followed by a complete one: both are found (the first block's END line
	// is the second's, which once hid the second key).
	text := cut(p8, 5) + "\n\nsorry, the whole thing:\n\n" + pkcs1
	if got := findAll(d, text); len(got) != 2 || got[0].Confidence != damagedKeyConf || got[1].Confidence != 1 || text[got[1].Start:got[1].End] != pkcs1 {
		t.Errorf("cut key then whole key: %v", got)
	}
}

// Documentation and code that mention keys: no finding.
func TestNotPrivateKeys(t *testing.T) {
	d := byID(t, "secret.private-key")
	ssh := pemWrap("OPENSSH PRIVATE KEY", opensshEd25519("notkey"), "\n")
	pub := pemWrap("PUBLIC KEY", toyPKCS8RSA("notkey"), "\n")
	for _, text := range []string{
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n...\n-----END RSA PRIVATE KEY-----",
		"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC...\n-----END PRIVATE KEY-----",
		"-----BEGIN EC PRIVATE KEY-----\n<your key here>\n-----END EC PRIVATE KEY-----",
		"-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n", 4) + "-----END RSA PRIVATE KEY-----",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + strings.Repeat("x", 48) + "\n" + strings.Repeat("x", 64) + "\n-----END RSA PRIVATE KEY-----",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + strings.Repeat("A", 112) + "\n-----END RSA PRIVATE KEY-----",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/==\n-----END RSA PRIVATE KEY-----",
		strings.Join(strings.Split(ssh, "\n")[:2], "\n") + "\n-----END OPENSSH PRIVATE KEY-----",
		"-----BEGIN PRIVATE KEY-----\n" + rnd("nk1", aStd, 64) + "\n" + rnd("nk2", aStd, 64) + "\n" + rnd("nk3", aStd, 30) + "\n-----END PRIVATE KEY-----",
		"-----BEGIN OPENSSH PRIVATE KEY-----\n" + rnd("nk4", aStd, 70) + "\n" + rnd("nk5", aStd, 70) + "\n-----END OPENSSH PRIVATE KEY-----",
		"-----BEGIN RSA PRIVATE KEY-----\npaste the key you downloaded here and keep the lines as they are\n-----END RSA PRIVATE KEY-----",
		"Keys start with -----BEGIN RSA PRIVATE KEY----- and end with -----END RSA PRIVATE KEY-----.",
		`if strings.HasPrefix(s, "-----BEGIN RSA PRIVATE KEY-----") || strings.Contains(s, "-----BEGIN OPENSSH PRIVATE KEY-----") {`,
		`pem := "-----BEGIN PRIVATE KEY-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END PRIVATE KEY-----\n"`,
		strings.Join(strings.Split(pub, "\n")[:4], "\n"),
		strings.Replace(strings.Join(strings.Split(pub, "\n")[:4], "\n"), "PUBLIC", "CERTIFICATE REQUEST", 1),
	} {
		if got := findAll(d, text); len(got) != 0 {
			t.Errorf("found %q in\n%s", text[got[0].Start:got[0].End], text)
		}
	}
}

func TestScanPEMBodyStopsAtProse(t *testing.T) {
	p8 := pemWrap("PRIVATE KEY", toyPKCS8RSA("prose"), "\n")
	head := strings.Join(strings.Split(p8, "\n")[:4], "\n")
	for _, tail := range []string{"\nCan you tell me why it fails?", "\nThanks!", "\n\nthanks", "\",\n  \"client_email\": \"ci@x.iam.gserviceaccount.com\""} {
		text := head + tail
		got := findAll(byID(t, "secret.private-key"), text)
		if len(got) != 1 || text[got[0].Start:got[0].End] != head {
			t.Errorf("%q: got %v, want the key's lines only", tail, got)
		}
	}
}

func TestGCPServiceAccountDamagedKey(t *testing.T) {
	key := pemWrap("PRIVATE KEY", toyPKCS8RSA("gcp-damaged"), "\n")
	cut := strings.ReplaceAll(strings.Join(strings.Split(key, "\n")[:5], "\n"), "\n", `\n`)
	text := gcpJSON(cut, "service_account")
	got := findAll(byID(t, "secret.gcp-service-account-key"), text)
	if len(got) != 1 || text[got[0].Start:got[0].End] != cut || got[0].Confidence != damagedKeyConf {
		t.Errorf("gcp: %v", got)
	}
	if got := findAll(byID(t, "secret.private-key"), text); len(got) != 0 {
		t.Errorf("private-key also reports the service account's key: %v", got)
	}
	// Outside a service-account file the same key is secret.private-key's.
	text = `{"private_key": "` + cut + `"}`
	if got := findAll(byID(t, "secret.private-key"), text); len(got) != 1 {
		t.Errorf("private-key: %v", got)
	}
}

func TestAWSSecretNames(t *testing.T) {
	d := byID(t, "secret.aws-secret-access-key")
	v := rnd("names", aStd, 40)
	enc := base64.StdEncoding.EncodeToString([]byte(v))
	encNL := base64.StdEncoding.EncodeToString([]byte(v + "\n"))
	for _, text := range []string{
		"aws_secret_access_key = " + v, "AWS_SECRET_ACCESS_KEY=" + v, "export AWS_SECRET_ACCESS_KEY='" + v + "'",
		`awsSecretKey: "` + v + `"`, `const awsSecretAccessKey = "` + v + `";`, "AWSSecretKey=" + v, "AwsSecret = " + v,
		"aws_secret_key = " + v, "aws-secret-key: " + v, "AWS_SECRET=" + v, "MY_APP_AWS_SECRET=" + v, "awssecretkey=" + v,
		"cloud.aws.credentials.secret-key=" + v, "aws.secretKey = " + v, "secretAccessKey: " + v, "secret_access_key=" + v,
		`{"Credentials": {"AccessKeyId": "ASIA` + rnd("names-id", aB32, 16) + `", "SecretAccessKey": "` + v + `", "SessionToken": "FwoG…", "Expiration": "2025-06-01T12:00:00Z"}}`,
		`{"SecretAccessKey":"` + v + `"}`, `{\"SecretAccessKey\": \"` + v + `\"}`,
		"the aws secret key is " + v, "The AWS secret: " + v + ".", "my AWS account's secret access key is " + v,
		"AWS Secret Access Key [None]: " + v, "aws secret = " + v, "Secret access key\n" + v,
		"- name: AWS_SECRET_ACCESS_KEY\n  value: " + v,
		"data:\n  aws_secret_access_key: " + enc + "\n", "  AWS_SECRET_ACCESS_KEY: " + encNL + "\n",
		"aws_secret_access_key: " + strings.TrimRight(enc, "="),
		"aws_secret_access_key = " + withRun(v, "XXXX"), "aws_secret_access_key = " + withRun(v, "xXx"),
	} {
		if got := findAll(d, text); len(got) != 1 {
			t.Errorf("not found once (%v): %s", got, text)
		}
	}
	for _, text := range []string{
		"client_secret = " + v, "SECRET_KEY = " + v, "the secret is " + v, "secret: " + v,
		"aws_secret_name = " + v, "AWS_SECRET_ARN=" + v, "awsSecretId: " + v, "AWS_SECRET_ACCESS_KEY_FILE=" + v,
		"laws secret " + v, "draws secret: " + v, "AWS secrets manager holds " + v,
		`resource "aws_secretsmanager_secret" "x" { name = "` + v + `" }`,
		"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"the AWS secret key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"aws_secret_access_key: " + base64.StdEncoding.EncodeToString([]byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")),
		"aws_secret_access_key: " + base64.StdEncoding.EncodeToString([]byte(rnd("names2", aStd, 41))),
		"aws_secret_access_key: " + base64.StdEncoding.EncodeToString([]byte(strings.ToLower(rnd("names3", aHex, 40)))),
		"aws_secret_access_key = " + v[:36] + "xxxx", "aws_secret_access_key = " + v[:24] + "xxxxxxxxxxxxxxxx",
		"aws secret\n\nLater: " + v,
		// A placeholder under the name, another vendor's key on the next line: not AWS's.
		"export AWS_SECRET_ACCESS_KEY='<your-secret-access-key>'\nCO_API_KEY=" + v,
		"  aws_secret_access_key = \"<your-secret-access-key>\"\n  cohere_api_key = \"" + v + "\"",
	} {
		if got := findAll(d, text); len(got) != 0 {
			t.Errorf("found %q in %s", text[got[0].Start:got[0].End], text)
		}
	}
	// The generic detectors leave every AWS-named value to this one.
	for _, id := range []string{"secret.secret-assignment", "secret.password-assignment"} {
		for _, text := range []string{`awsSecretKey: "` + v + `"`, "AWS_SECRET=" + v, "aws.secretKey = " + v} {
			if got := findAll(byID(t, id), text); len(got) != 0 {
				t.Errorf("%s reports %s", id, text)
			}
		}
	}
}

// Name-anchored detectors read a value base64-encoded under its name, as a Kubernetes Secret's
// data holds it (the engine decodes the run, but without the name).
func TestEncodedUnderName(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct{ id, text string }{
		{"secret.mistral-api-key", "  mistral_api_key: " + b64(rnd("enc-mi", a62, 32)) + "\n"},
		{"secret.cohere-api-key", "  co_api_key: " + b64(rnd("enc-co", a62, 40)+"\n") + "\n"},
		{"secret.datadog-api-key", "  DD_API_KEY: " + strings.TrimRight(b64(rnd("enc-dd", aHex, 32)), "=") + "\n"},
		{"secret.datadog-app-key", "  dd_app_key: " + b64(rnd("enc-dda", aHex, 40)) + "\n"},
		{"secret.twilio-auth-token", "  twilio_auth_token: " + b64(rnd("enc-tw", aHex, 32)+"\r\n") + "\n"},
		{"secret.cloudflare-api-token", "  cloudflare_api_token: " + b64(rnd("enc-cf", aURL, 40)) + "\n"},
		{"secret.aws-secret-access-key", "  aws_secret_access_key: " + b64(rnd("enc-aws", aStd, 40)) + "\n"},
	}
	for _, tc := range tests {
		v := tc.text[strings.IndexByte(tc.text, ':')+2 : len(tc.text)-1]
		got := findAll(byID(t, tc.id), tc.text)
		if len(got) != 1 || tc.text[got[0].Start:got[0].End] != v || got[0].Confidence >= 1 {
			t.Errorf("%s: got %v in %q", tc.id, got, tc.text)
		}
	}
	for _, tc := range []struct{ id, text string }{
		{"secret.mistral-api-key", "mistral_api_key: " + b64(rnd("enc-mi2", a62, 31))},        // a length it does not have
		{"secret.mistral-api-key", "mistral_api_key: " + b64(rnd("enc-mi3", aHex, 32))},       // hex, not its shape
		{"secret.datadog-api-key", "dd_api_key: " + b64(rnd("enc-dd2", aHex, 16)+"\x00\x01")}, // not text
		{"secret.mistral-api-key", "mistral said " + b64("please rotate every key we have")},
	} {
		if got := findAll(byID(t, tc.id), tc.text); len(got) != 0 {
			t.Errorf("%s: found %q", tc.id, tc.text[got[0].Start:got[0].End])
		}
	}
}

func TestPlaceholderXRuns(t *testing.T) {
	r := rnd("xrun", a62, 40)
	tests := []struct {
		v    string
		want bool
	}{
		// x's inside an otherwise random body: a live key.
		{withRun(r, "xxxx"), false}, {withRun(r, "XXXX"), false}, {withRun(r, "xXxX"), false}, {withRun(r, "xXx"), false},
		{withRun(r, "xxxxxxx"), false}, {withRun(r[:20], "XxXx"), false},
		// Masks and templates.
		{strings.Repeat("x", 40), true}, {"sk-proj-xxxxxxxxxxxxxxxxxxxxxxxx", true}, {r[:30] + "xxxxxxxxxx", true},
		{withRun(r, "xxxxxxxx"), true}, {withRun(r, "XXXXXXXXXX"), true}, {r[:20] + "xxxx", true}, {"xxxx" + r[:20], true},
		{"xxxx-xxxx-" + r[:4] + "-xxxx", true}, {r[:8] + "XXXX" + r[8:10] + "xxx" + r[10:12], true},
		// Other placeholder words still win, with or without x's.
		{withRun(r, "xxxx") + "EXAMPLE", true}, {"your-api-key-xxxx-" + r[:20], true}, {"abcdefg" + r[:20], true},
	}
	for _, tc := range tests {
		if got := placeholder(tc.v); got != tc.want {
			t.Errorf("placeholder(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
	// Through the detectors: a checksummed GitHub token and an OpenAI key with a run of x's.
	gh := ghTokRun("ghp_", "xrun", 30, "XXXX")
	oai := "sk-proj-" + withRun(rnd("xrun-oai", aURL, 74), "xxxx") + "T3Blbk" + "FJ" + rnd("xrun-oai2", aURL, 74)
	for id, text := range map[string]string{"secret.github-pat": "token: " + gh, "secret.openai-project-key": "OPENAI_API_KEY=" + oai} {
		if got := findAll(byID(t, id), text); len(got) != 1 {
			t.Errorf("%s: %v in %s", id, got, text)
		}
	}
}

// flipped changes one character of the key's fourth line, always: the case of its first letter
// (upper-casing a run of it changed nothing when the run held no lower-case letter, and the key
// is new each run).
func flipped(key string) string {
	ls := strings.Split(key, "\n")
	b := []byte(ls[3])
	for i, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b[i] = c ^ 0x20
			break
		}
	}
	ls[3] = string(b)
	return strings.Join(ls, "\n")
}
