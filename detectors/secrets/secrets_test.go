package secrets

import (
	"encoding/base64"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// hitsFor returns every case-insensitive occurrence of each keyword in text, in order — what
// the engine's keyword automaton hands to Find.
func hitsFor(text string, keywords []string) []int {
	b := []byte(text) // ASCII lower-casing keeps offsets (strings.ToLower would not on invalid UTF-8)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	lt := string(b)
	var hits []int
	for _, k := range keywords {
		for off := 0; ; {
			i := strings.Index(lt[off:], k)
			if i < 0 {
				break
			}
			hits = append(hits, off+i)
			off += i + 1
		}
	}
	sort.Ints(hits)
	out := hits[:0]
	for i, h := range hits {
		if i == 0 || h != hits[i-1] {
			out = append(out, h)
		}
	}
	return out
}

// find runs d over text as the engine would and merges overlapping reports.
func find(d detectors.Detector, text string) []detectors.Match {
	var ms []detectors.Match
	d.Find(text, hitsFor(text, d.Meta().Keywords), func(m detectors.Match) {
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			panic("bad span")
		}
		ms = append(ms, m)
	})
	sort.Slice(ms, func(i, j int) bool { return ms[i].Start < ms[j].Start })
	var out []detectors.Match
	for _, m := range ms {
		if n := len(out); n > 0 && m.Start < out[n-1].End {
			out[n-1].End = max(out[n-1].End, m.End)
			continue
		}
		out = append(out, m)
	}
	return out
}

var (
	allOnce sync.Once
	allDs   []detectors.Detector
	allErr  error
)

// all returns the detectors, built once for the test binary (they are immutable).
func all(t testing.TB) []detectors.Detector {
	t.Helper()
	allOnce.Do(func() { allDs, allErr = Detectors() })
	if allErr != nil {
		t.Fatal(allErr)
	}
	return allDs
}

func byID(t testing.TB, id string) detectors.Detector {
	t.Helper()
	for _, d := range all(t) {
		if d.Meta().ID == id {
			return d
		}
	}
	t.Fatalf("no detector %s", id)
	return nil
}

var idRE = regexp.MustCompile(`^secret\.[a-z0-9]+(-[a-z0-9]+)*$`)

func TestDetectorMeta(t *testing.T) {
	ds := all(t)
	if len(ds) < 45 {
		t.Errorf("%d detectors, want at least 45", len(ds))
	}
	seen := map[string]bool{}
	for _, d := range ds {
		m := d.Meta()
		if !idRE.MatchString(m.ID) {
			t.Errorf("ID %q is not secret.<lower-case-hyphenated>", m.ID)
		}
		if seen[m.ID] {
			t.Errorf("duplicate ID %s", m.ID)
		}
		seen[m.ID] = true
		if m.Class != detectors.Secret {
			t.Errorf("%s: class %q", m.ID, m.Class)
		}
		switch m.Severity {
		case detectors.Low, detectors.Medium, detectors.High, detectors.Critical:
		default:
			t.Errorf("%s: severity %q", m.ID, m.Severity)
		}
		if m.Description == "" {
			t.Errorf("%s: no description", m.ID)
		}
		if len(m.Examples.Match) == 0 || len(m.Examples.NoMatch) == 0 {
			t.Errorf("%s: needs match and no-match examples", m.ID)
		}
		if len(m.Keywords) == 0 {
			t.Errorf("%s: no keywords", m.ID)
		}
		for _, k := range m.Keywords {
			if len(k) < 3 || strings.ToLower(k) != k {
				t.Errorf("%s: keyword %q must be lower case and at least 3 bytes", m.ID, k)
			}
		}
	}
}

func TestExamples(t *testing.T) {
	for _, d := range all(t) {
		m := d.Meta()
		t.Run(m.ID, func(t *testing.T) {
			for _, ex := range m.Examples.Match {
				if got := find(d, ex); len(got) != 1 {
					t.Errorf("match example: %d findings, want 1\n%s", len(got), ex)
				}
			}
			for _, ex := range m.Examples.NoMatch {
				if got := find(d, ex); len(got) != 0 {
					t.Errorf("no-match example found %q\n%s", ex[got[0].Start:got[0].End], ex)
				}
			}
		})
	}
}

// Other detectors must stay quiet on a detector's examples where the value is its, not
// theirs: one finding per secret keeps per-detector precision honest.
func TestNoCrossTalk(t *testing.T) {
	ds := all(t)
	// Pairs where a second report is intended: the same value seen two ways.
	allowed := map[[2]string]bool{
		{"secret.jwt", "secret.authorization-header"}:                false,
		{"secret.aws-access-key-id", "secret.aws-secret-access-key"}: true, // the pair example holds both
		{"secret.aws-secret-access-key", "secret.aws-access-key-id"}: true,
	}
	for _, d := range ds {
		for _, ex := range d.Meta().Examples.Match {
			own := find(d, ex)
			for _, o := range ds {
				if o == d || allowed[[2]string{d.Meta().ID, o.Meta().ID}] {
					continue
				}
				for _, f := range find(o, ex) {
					for _, g := range own {
						if f.Start < g.End && g.Start < f.End {
							t.Errorf("%s also reports %s's value %q", o.Meta().ID, d.Meta().ID, ex[f.Start:f.End])
						}
					}
				}
			}
		}
	}
}

// Exact spans, and tokens ended by the punctuation of prose.
func TestSpans(t *testing.T) {
	ghp := ghTok("ghp_", "span", 30)
	npm := ghTok("npm_", "span", 30)
	aws := "AKIA" + rnd("span-aws", aB32, 16)
	sk := "sk_live_" + rnd("span-sk", a62, 30)
	jwtV := jwtTok(`{"sub":"1"}`, "span")
	pw := "Zq8!" + rnd("span-pw", a62, 10)
	tests := []struct{ id, text, want string }{
		{"secret.github-pat", "token " + ghp + ", thanks", ghp},
		{"secret.github-pat", "token " + ghp + ".", ghp},
		{"secret.github-pat", "(" + ghp + ")", ghp},
		{"secret.github-pat", "is it " + ghp + "?", ghp},
		{"secret.github-pat", `"` + ghp + `"`, ghp},
		{"secret.github-pat", "GITHUB_TOKEN=" + ghp, ghp},
		{"secret.github-pat", "https://github.com/x/" + ghp, ghp},
		{"secret.github-pat", "`" + ghp + "`", ghp},
		{"secret.github-pat", "<td>" + ghp + "</td>", ghp},
		{"secret.github-pat", `{\"token\":\"` + ghp + `\"}`, ghp},
		{"secret.github-pat", `{"content": "my token:\n` + ghp + `\nthanks"}`, ghp},
		{"secret.github-pat", `{"content": "my token:\\n` + ghp + `\\n"}`, ghp},
		{"secret.aws-access-key-id", `"id:\t` + aws + `"`, aws},
		{"secret.mistral-api-key", `MISTRAL_API_KEY:\n` + "Zq8" + rnd("span-mistral", a62, 29), "Zq8" + rnd("span-mistral", a62, 29)},
		{"secret.npm-token", "//registry.npmjs.org/:_authToken=" + npm + "\n", npm},
		{"secret.aws-access-key-id", "id: " + aws + ";", aws},
		{"secret.stripe-secret-key", "key=" + sk + "&x=1", sk},
		{"secret.jwt", "Bearer " + jwtV + ".", jwtV},
		{"secret.password-assignment", `password = "` + pw + `"`, pw},
		{"secret.password-assignment", "PASSWORD=" + pw + " # prod", pw},
		{"secret.password-assignment", `\"password\": \"` + pw + `\"`, pw},
		{"secret.password-assignment", `setPassword("` + pw + `")`, pw},
		{"secret.postgres-uri", "postgres://app:" + pw + "@db:5432/x", pw},
		{"secret.url-basic-auth", "https://bot:" + pw + "@git.internal/x.git", pw},
	}
	for _, tc := range tests {
		got := find(byID(t, tc.id), tc.text)
		if len(got) != 1 || tc.text[got[0].Start:got[0].End] != tc.want {
			var vals []string
			for _, g := range got {
				vals = append(vals, tc.text[g.Start:g.End])
			}
			t.Errorf("%s in %q: got %q, want %q", tc.id, tc.text, vals, tc.want)
		}
	}
}

// A glued prefix or suffix means a longer token, not this one.
func TestGluedTokens(t *testing.T) {
	ghp := ghTok("ghp_", "glued", 30)
	for _, text := range []string{"x" + ghp, ghp + "x", ghp + "_", "_" + ghp, "key-" + ghp, ghp + "0"} {
		if got := find(byID(t, "secret.github-pat"), text); len(got) != 0 {
			t.Errorf("found a token in %q", text)
		}
	}
}

func TestOwnedPrefixes(t *testing.T) {
	// providerPrefixes (providers.go) are owned too once assign.go's ownedPrefixes takes them
	// in; until then a prefix listed there is accepted.
	check := func(id string, p string) {
		if !hasOwnedPrefix(p+"x") && !providerOwned(p+"x") {
			t.Errorf("%s: prefix %q is not in ownedPrefixes", id, p)
		}
	}
	for _, d := range all(t) {
		id := d.Meta().ID
		switch d := d.(type) {
		case *token:
			for _, p := range d.prefixes {
				if p != "SK" {
					check(id, p)
				}
			}
		case *anyOf:
			for _, f := range d.parts {
				if tk, ok := f.(*token); ok {
					for _, p := range tk.prefixes {
						check(id, p)
					}
				}
			}
		}
	}
}

func TestCredName(t *testing.T) {
	tests := []struct {
		name   string
		pw, ok bool
	}{
		{"password", true, true}, {"DB_PASSWORD", true, true}, {"PGPASSWORD", true, true}, {"dbPassword", true, true},
		{"passwd", true, true}, {"pwd", true, true}, {"api_key", false, true}, {"apiKey", false, true}, {"x-api-key", false, true},
		{"SECRET_KEY", false, true}, {"SECRETKEY", false, true}, {"client_secret", false, true}, {"clientSecret", false, true},
		{"AUTH_TOKEN", false, true}, {"authToken", false, true}, {"oauth_token", false, true}, {"token", false, true},
		{"credentials", false, true}, {"auth", false, true},
		{"tokenizer", false, false}, {"max_tokens", false, false}, {"author", false, false}, {"SECRETARY", false, false},
		{"passwordless", false, false}, {"token_url", false, false}, {"password_file", false, false}, {"api_key_id", false, false},
		{"apiKeyId", false, false}, {"secret_name", false, false}, {"password_hash", false, false}, {"cwd", false, false},
		{"authorization", false, false}, {"tokens", false, false},
	}
	for _, tc := range tests {
		pw, ok := credName(tc.name)
		if ok != tc.ok || ok && pw != tc.pw {
			t.Errorf("credName(%q) = %v, %v; want %v, %v", tc.name, pw, ok, tc.pw, tc.ok)
		}
	}
}

// secret.key-assignment: names that end in "key" without a credential word; the key shapes of
// code are not credentials.
func TestKeyAssignment(t *testing.T) {
	v, b := rnd("tk-v", aLow+aNum, 32), rnd("tk-b", a62, 24)+"7q"
	tests := []struct{ text, want string }{
		{"atera_key: " + v, v}, {"audd_key: " + v, v}, {"apilayerkey: " + v, v}, {`apiMaticKey := "` + b + `"`, b},
		{"API Key: " + b, b}, {"Key=" + b, b}, {"artsy_key: " + b + " - artsy_id: hvQ2fMvUPNczDCdmzi0i", b},
		{"aylien key: " + v, v}, {"axonaut credentials{\n\tkey: " + v + "\n}", v}, {"bing_subscription_key1=" + b, b},
		{`{"license_key": "` + b + `"}`, b}, {"<key>" + b + "</key>", b}, {"ENCRYPTION_KEY=" + b, b},
		{"the key: " + b, b}, {"String key = \"" + b + "\";", b}, // a bare key with a random value
		// Not keys, or not secrets.
		{"key := m[k]", ""}, {"for key in d:\n    print(key)", ""}, {"keyboard = " + b, ""}, {"monkey = '" + b + "'", ""},
		{"key: value", ""}, {"primary_key = True", ""}, {"foreign_key = " + b, ""}, {"key_id = " + b, ""},
		{"keyId: " + b, ""}, {"key_name = " + b, ""}, {"public_key = " + b, ""}, {"publicKey: '" + b + "'", ""},
		{`{"key": "user_id"}`, ""}, {`key: "settings.title"`, ""}, {"cacheKey = " + b, ""}, {"sortKey: " + b, ""},
		{"hotkey = " + b, ""}, {"primaryKey: true", ""}, {"keyCode = 13", ""}, {"key = " + rnd("tk-hex", aHex, 40), ""},
		{"key: " + uuidOf("tk-u"), ""}, {"key = crypto.randomBytes(32)", ""}, {"const key = `${prefix}:${id}`", ""},
		{"key: ${{ runner.os }}-node-${{ hashFiles('**/package-lock.json') }}", ""},
		{"var internalPropsKey = '__reactProps$' + randomKey;", ""}, {`"encryptionKey": "encryptionKey1024",`, ""},
		{"{hexKey: hexPKCS8TestECKey, errorContains: \"x\"},", ""}, {`"Trailer-Key: Trailer-Value\r\n"`, ""},
		{"//\tvkey := \"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\"", ""},
		{"the key: " + rnd("tk-hex2", aHex, 32), ""}, {"String key = \"" + uuidOf("tk-u2") + "\";", ""}, {"key = " + b[:12], ""},
		{"api_key = " + v, ""}, // secret-assignment's
		{"aws_key = " + b, ""}, {"sitekey: " + b, ""}, {"i18nKey: 'nav.home.title1'", ""},
		{"GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n", ""},
	}
	d := byID(t, "secret.key-assignment")
	checkOneFinding(t, d, tests)
	// No allocation on text it reports nothing in.
	text := "for key in d:\n  m[key] = keyboard.key\nprimary_key = True\nconst cacheKey = `${a}:${b}`\nkey: value\n"
	hits := hitsFor(text, d.Meta().Keywords)
	reported := false
	emit := func(detectors.Match) { reported = true }
	if n := testing.AllocsPerRun(50, func() { d.Find(text, hits, emit) }); n > 0 || reported {
		t.Errorf("%.0f allocations on text without a finding (reported: %v)", n, reported)
	}
}

// TestSecretAssignmentForms: forms that others' fixtures showed missed (issue 15) — bare
// random lower-case values that looked like identifiers, numeric client secrets, base64 JSON
// that is no JWT, a base64 run with its padding inside a longer value — and their look-alikes
// in code.
func TestSecretAssignmentForms(t *testing.T) {
	lower := "g5afnbwnz94eji5vtbyjp3uie17qkjkf" // random lower case and digits: words by accident
	tests := []struct{ text, want string }{
		{"flickrToken = " + lower, lower}, {"<flickrToken>\n    " + lower + "\n</flickrToken>", lower},
		{"fastly_token: vd9iwn83jugee=qz4-oejm61cgc5w6y-", "vd9iwn83jugee=qz4-oejm61cgc5w6y-"},
		{"discordToken = 37710435799209642854008448233211", "37710435799209642854008448233211"},
		{`"asana_token": "6886127929644984"`, "6886127929644984"},
		{"'access_token': 'eyJ0eXAioiJKV1slS3oASx=='", "eyJ0eXAioiJKV1slS3oASx=="},
		{"private-key: 83PKFeMQGr_5h7v-ppzi-j0fSI==sp8H4eVfuDl7H_x3cnkwZ1DOAR4vVZ4ela", "83PKFeMQGr_5h7v-ppzi-j0fSI==sp8H4eVfuDl7H_x3cnkwZ1DOAR4vVZ4ela"},
		// Code and numbers.
		{"token = sha256sum", ""}, {"token = base64url", ""}, {"secret = utf8mb4General", ""},
		{"max_tokens = 4096", ""}, {"token_count = 1700000000000000000", ""}, {"secret = 1000000000000000", ""},
		{"token = 1234567890123456", ""}, {"tokenId = 37710435799209642854008448233211", ""},
		{"if (token==null || x) {", ""}, {"secret = a.b==c.d", ""},
		// Review: timestamps in µs and ns, sizes and serial numbers under credential names.
		{"token_created_ns = 1716242622987654321", ""}, {"AUTH_TIMESTAMP_NANOS=1716242622413098275", ""},
		{"token_bucket_capacity_bytes: 1099511627776000", ""}, {"tokenExpirationEpochMillis: 1716242622123000", ""},
		{"secret_version_number: 20240517093011123", ""}, {"auth_seed = 4829103756192837", "4829103756192837"},
	}
	checkOneFinding(t, byID(t, "secret.secret-assignment"), tests)
}

// checkOneFinding: d reports exactly want in each text, or nothing where want is "".
func checkOneFinding(t *testing.T, d detectors.Detector, tests []struct{ text, want string }) {
	t.Helper()
	for _, tc := range tests {
		got := find(d, tc.text)
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%q: reports %q", tc.text, tc.text[got[0].Start:got[0].End])
		case tc.want != "" && (len(got) != 1 || tc.text[got[0].Start:got[0].End] != tc.want):
			t.Errorf("%q: got %v, want %q", tc.text, got, tc.want)
		}
	}
}

// TestBasicKeyPasswords: a Basic credential's key-… password is Mailgun's only in Mailgun's
// format (key- + 32 hex); otherwise the header reports it.
func TestBasicKeyPasswords(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		userpass string
		want     bool
	}{
		{"api:key-a7c342w33a5d1-563e729p-6ab27c637346", true},
		{"api:key-" + rnd("bkp", aHex, 32), false}, // the Mailgun detector's
		{"x-access-token:ghp_" + rnd("bkp2", a62, 36), false},
		{"svc:" + rnd("bkp3", a62, 20), true},
	}
	d := byID(t, "secret.authorization-header")
	for _, tc := range tests {
		text := "curl -H 'Authorization: Basic " + b64(tc.userpass) + "' https://api.example.com"
		if got := len(find(d, text)) > 0; got != tc.want {
			t.Errorf("%q: reported %v, want %v", tc.userpass, got, tc.want)
		}
	}
}
