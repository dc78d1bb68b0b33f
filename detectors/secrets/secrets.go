// Package secrets holds customs' built-in secret detectors: cloud and SaaS credentials in their
// vendors' current formats, private keys, JWTs, passwords in URIs and generic credential
// assignments. Every detector is anchored on specific keywords (the engine calls it only at
// their hits), ends a token at the first byte that cannot belong to it (prompts are prose:
// "ghp_….", "(ghp_…)" are found), and validates offline wherever the format allows —
// checksums (GitHub, npm, Atlassian, Bitbucket), structure (PyPI macaroons, JWTs, PEM and
// OpenSSH keys, Sentry tokens, Azure signatures) and entropy and placeholder gates elsewhere.
//
// Decisions a policy author should know:
//   - Stripe test keys (sk_test_, rk_test_) and publishable keys (pk_…) are not reported: they
//     cannot reach live data. Live secret (sk_live_) and restricted (rk_live_) keys are.
//   - For database/broker URIs and basic auth in URLs only the password is reported (the span
//     of "pass" in postgres://user:pass@host); documentation passwords (password, postgres,
//     guest, changeme, …) and passwords equal to the user name are not.
//   - Private keys, JWTs and Slack webhooks are reported whole. A PEM block whose body parses is
//     reported at confidence 1; one that does not (cut short, lines left out, mangled) but still
//     begins as a key of its type and carries a line or more of random base64 is a leaked key
//     too, at confidence 0.7. Elided, masked or made-up bodies are documentation.
//   - A GCP service-account key file is reported once, as secret.gcp-service-account-key (its
//     private key span), not also as secret.private-key.
//   - Keys without a prefix of their own (Mistral, Cohere, Datadog, Cloudflare, Heroku UUIDs,
//     Twilio auth tokens, AWS secret keys) are reported only near their vendor's name or
//     next to their partner credential, at a confidence below 1 — also when the value is
//     base64 under that name, as in a Kubernetes Secret's data (the span is the encoding).
//   - Runs of x's are masks (sk-proj-xxxxxxxx…, a masked tail, xxxx-xxxx-…) only when they look
//     like one: four x's inside an otherwise random body are part of a live key.
//   - The generic detectors (secret.password-assignment, secret.secret-assignment) leave
//     values that a specific detector owns by prefix to that detector, even when it rejects
//     them (a bad-checksum GitHub token is a decoy, not a generic secret).
package secrets

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

const (
	critical = detectors.Critical
	high     = detectors.High
	medium   = detectors.Medium
)

func ex(match []string, noMatch ...string) detectors.Examples {
	return detectors.Examples{Match: match, NoMatch: noMatch}
}

func m(xs ...string) []string { return xs }

func set(xs ...string) map[string]bool {
	s := make(map[string]bool, len(xs))
	for _, x := range xs {
		s[strings.ToLower(x)] = true
	}
	return s
}

// Detectors returns the built-in secret detectors, most specific first. Each call builds new
// values; they hold no mutable state and are safe for concurrent use.
func Detectors() ([]detectors.Detector, error) {
	ds := list()
	seen := map[string]bool{}
	for _, d := range ds {
		mt := d.Meta()
		if mt.ID == "" || seen[mt.ID] {
			return nil, fmt.Errorf("secrets: empty or duplicate detector ID %q", mt.ID)
		}
		seen[mt.ID] = true
		if len(mt.Keywords) == 0 {
			return nil, fmt.Errorf("secrets: detector %s has no keywords", mt.ID)
		}
		if r, ok := d.(*rx); ok {
			if err := r.compile(); err != nil {
				return nil, fmt.Errorf("secrets: detector %s: %w", mt.ID, err)
			}
		}
		if a, ok := d.(*anyOf); ok {
			for _, p := range a.parts {
				if r, ok := p.(*rx); ok {
					if err := r.compile(); err != nil {
						return nil, fmt.Errorf("secrets: detector %s: %w", mt.ID, err)
					}
				}
			}
		}
	}
	return ds, nil
}

// prefixKeywords are the lower-case forms of a token detector's prefixes.
func prefixKeywords(ps ...string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.ToLower(p)
	}
	return out
}

// tok builds a token detector whose keywords are its prefixes.
func tok(name string, sev detectors.Severity, desc string, prefixes []string, body *charset, lo, hi int, e detectors.Examples) *token {
	return &token{m: meta(name, sev, desc, prefixKeywords(prefixes...), e), prefixes: prefixes, body: body, min: lo, max: hi}
}

func list() []detectors.Detector {
	var ds []detectors.Detector
	add := func(d ...detectors.Detector) { ds = append(ds, d...) }

	// ---- Cloud providers -----------------------------------------------------------------
	awsID := "AKIA" + rnd("aws-id", aB32, 16)
	awsSecretV := rnd("aws-secret", aStd, 40)
	t := tok("aws-access-key-id", high, "AWS access key ID (AKIA long-term, ASIA temporary, ABIA/ACCA): prefix and 16 base32 characters",
		m("AKIA", "ASIA", "ABIA", "ACCA"), base32U, 16, 16, ex(
			m("aws_access_key_id = "+awsID, "the key ("+"ASIA"+rnd("aws-id2", aB32, 16)+") expired", "export AWS_ACCESS_KEY_ID="+awsID+"."),
			"aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIA"+rnd("aws-id3", aB32, 15), "AKIA"+rnd("aws-id4", aB32, 17),
			"xAKIA"+rnd("aws-id5", aB32, 16), "key = AKIAXXXXXXXXXXXXXXXX", "akia"+strings.ToLower(rnd("aws-id6", aB32, 16)),
			"TODAYINASIAASACKOFRICEFELLOVER"))
	t.entropy = 2.5
	t.conf = 0.95
	// AWS documents the IDs as 20 upper-case letters and digits; every ID seen is base32 after
	// the prefix, so others (0, 1, 8 or 9 in them) are reported at a lower confidence.
	loose := &token{prefixes: m("AKIA", "ASIA", "ABIA", "ACCA"), body: cs("A-Z0-9"), min: 16, max: 16, entropy: 3.0, conf: 0.6,
		validate: func(v string) bool { return !allIn(v[4:], base32U) && keyLike(v[4:]) }}
	t.m.Examples.Match = append(t.m.Examples.Match, "id: ABIAS9L8MS5IPHTZPPUQ")
	add(&anyOf{t.m, []finder{t, loose}})

	add(&awsSecret{meta("aws-secret-access-key", critical,
		"AWS secret access key: 40 base64 characters after a name that says so in any spelling (aws_secret_access_key, SecretAccessKey, awsSecretKey, \"the AWS secret key is\"), also base64-encoded under it, or near an access key ID",
		m("aws", "secret_access_key", "secretaccesskey", "secret-access-key", "secret access key", "akia", "asia"), ex(
			m("aws_secret_access_key = "+awsSecretV,
				"[default]\naws_access_key_id = "+awsID+"\naws_secret_access_key="+awsSecretV+"\n",
				`{"AccessKeyId": "`+"ASIA"+rnd("aws-id7", aB32, 16)+`", "SecretAccessKey": "`+rnd("aws-secret2", aStd, 40)+`"}`,
				"key id "+awsID+" with secret "+rnd("aws-secret3", aStd, 40)+" works",
				`const awsSecretKey = "`+rnd("aws-secret6", aStd, 40)+`";`, "AWS_SECRET="+rnd("aws-secret7", aStd, 40),
				"cloud.aws.credentials.secret-key: "+rnd("aws-secret8", aStd, 40), `{"Credentials": {"SecretAccessKey": "`+rnd("aws-secret9", aStd, 40)+`"}}`,
				"the aws secret key is "+rnd("aws-secret10", aStd, 40)+", can you check it?",
				"AWS Secret Access Key [None]: "+rnd("aws-secret11", aStd, 40),
				"data:\n  aws_secret_access_key: "+base64.StdEncoding.EncodeToString([]byte(rnd("aws-secret12", aStd, 40)))+"\n",
				"aws_secret_access_key: "+base64.StdEncoding.EncodeToString([]byte(rnd("aws-secret13", aStd, 40)+"\n")),
				"aws_secret_access_key = "+rnd("aws-secret14", aStd, 14)+"xXxX"+rnd("aws-secret15", aStd, 22)),
			"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"the aws secret key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"aws_secret_access_key: "+base64.StdEncoding.EncodeToString([]byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")),
			"aws_secret_access_key = "+rnd("aws-secret4", aStd, 39),
			"aws_secret_access_key = "+rnd("aws-secret16", aStd, 36)+"xxxx",
			"commit "+rnd("sha", aHex, 40)+" fixed the AWS_SECRET_ACCESS_KEY handling",
			"aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}",
			"a random base64 string "+rnd("aws-secret5", aStd, 40)+" with no AWS context",
			"client_secret = "+rnd("aws-secret17", aStd, 40), "the secret is "+rnd("aws-secret18", aStd, 40),
			"aws_secret_name = "+rnd("aws-secret19", aStd, 40), "laws secret "+rnd("aws-secret20", aStd, 40),
			`resource "aws_secretsmanager_secret" "db" { name = "`+rnd("aws-secret21", aStd, 40)+`" }`,
			"AWS secrets: "+rnd("aws-secret22", aStd, 40)))})

	sts := "FwoGZXIvYXdzE" + rnd("sts", aStd, 300)
	add(&awsSession{meta("aws-session-token", high, "AWS STS session token (FwoGZXIvYXdz…/IQoJb3JpZ2lu… or after aws_session_token)",
		m("fwogzxivyxdz", "iqojb3jpz2lu", "aqodyxdz", "aws_session_token", "aws_security_token", "x-amz-security-token", "sessiontoken"), ex(
			m("aws_session_token = "+sts, `"SessionToken": "IQoJb3JpZ2luX2VjE`+rnd("sts2", aStd, 400)+`"`,
				"AWS_SESSION_TOKEN="+rnd("sts3", aStd, 180)),
			"aws_session_token = FwoGZXIvYXdzE"+rnd("sts4", aStd, 40),
			`"SessionToken": "`+rnd("sts5", aStd, 200)+`"`,
			"aws_session_token = AQoEXAMPLEH4aoAH0gNCAPyJxz4BlCFFxWNE1OPTgk5TthT"+strings.Repeat("+a8/EXAMPLEaBbCcDd", 8)))})

	// Amazon Bedrock API keys: the base64 after the prefix must hold a credential.
	b64 := base64.StdEncoding.EncodeToString
	absk := "ABSK" + b64([]byte("BedrockAPIKey-"+rnd("absk-u", aLow+aNum, 4)+"-at-"+rnd("absk-acct", aNum, 12)+":"+rnd("absk-pw", aStd, 44)))
	abskUser := "ABSK" + b64([]byte("ci-runner-at-"+rnd("absk-acct2", aNum, 12)+":"+rnd("absk-pw2", aStd, 44)))
	brShort := "bedrock-api-key-" + b64([]byte("bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256"+
		"&X-Amz-Credential=ASIA"+rnd("br-akid", aB32, 16)+"%2F20260701%2Fus-east-1%2Fbedrock%2Faws4_request&X-Amz-Date=20260701T120000Z"+
		"&X-Amz-Expires=43200&X-Amz-Security-Token="+rnd("br-sts", aStd, 120)+"&X-Amz-Signature="+rnd("br-sig", aHex, 64)+"&Version=1"))
	add(&bedrockKey{meta("aws-bedrock-api-key", critical, "Amazon Bedrock API key: long-term (ABSK and the base64 of an IAM "+
		"service-specific credential, <user>-at-<account>:<password>) and short-term (bedrock-api-key- and the base64 of a "+
		"presigned CallWithBearerToken URL); the decoded structure is checked (confidence 1), a console key's prefix with base64 of a key's length after it is reported at 0.8, a bare prefix is not a key",
		m("absk", "bedrock-api-key-"), ex(
			m("AWS_BEARER_TOKEN_BEDROCK="+absk, `"apiKey": "`+abskUser+`"`, "export AWS_BEARER_TOKEN_BEDROCK="+brShort,
				"bedrock_api_token = \""+"ABSKQmVkcm9ja0FQSUtleS1"+rnd("absk-rnd", aStd, 109)+"=\""), // console prefix, shape only
			"ABSKQmVkcm9ja0FQSUtleS1"+rnd("absk-rnd", aStd, 61), // too short for a key
			"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t",      // the prefix alone ("bedrock.amazonaws.com")
			"ABSK"+b64([]byte("BedrockAPIKey-ab12-at-"+rnd("absk-acct3", aNum, 12)+":xxxxxxxxxxxxxxxxxxxxxxxx")),
			"DABSK"+absk[4:]))})

	// A GCP service-account key file; its private key as the JSON file holds it.
	gcpKey := pemWrap("PRIVATE KEY", toyPKCS8RSA("gcp"), `\n`)
	gcpKeyNL := pemWrap("PRIVATE KEY", toyPKCS8RSA("gcp"), "\n")
	add(&gcpServiceAccount{meta("gcp-service-account-key", critical,
		`GCP service-account key file: "type": "service_account" JSON whose "private_key" is a PKCS#8 key (the key is reported; at lower confidence when its body does not parse)`,
		m("service_account"), ex(
			m(gcpJSON(gcpKey, "service_account"), gcpJSON(strings.ReplaceAll(pemCut(gcpKeyNL, 4, false), "\n", `\n`), "service_account")),
			gcpJSON(gcpKey, "authorized_user"),
			gcpJSON(`-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC...\n-----END PRIVATE KEY-----`, "service_account"),
			`{"type": "service_account", "project_id": "ledger-prod-4821", "client_email": "exporter@ledger-prod-4821.iam.gserviceaccount.com"}`))})

	gkey := "AIza" + rnd("gapi", aURL, 35)
	t = tok("google-api-key", high, "Google API key (AIza + 35): Maps, Firebase, Gemini (Generative Language API) and other Google APIs",
		m("AIza"), b64url, 35, 35, ex(
			m("GOOGLE_API_KEY="+gkey, "const firebaseConfig = { apiKey: \""+"AIza"+rnd("gapi2", aURL, 35)+"\" };", "use "+gkey+", then call Gemini"),
			"AIza"+rnd("gapi3", aURL, 34), "AIza"+rnd("gapi4", aURL, 36), `apiKey: "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`,
			"AIZA"+strings.ToUpper(rnd("gapi5", aURL, 35)), "AIzaSyabcdefghijklmnopqrstuvwxyz1234567", "x"+gkey))
	t.entropy = 3.5
	t.placeholders = set("AIzaSyabcdefghijklmnopqrstuvwxyz1234567", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe")
	add(t)

	add(tok("google-oauth-client-secret", high, "Google OAuth client secret (GOCSPX- + 28)", m("GOCSPX-"), b64url, 28, 28, ex(
		m(`"client_secret": "GOCSPX-`+rnd("gocspx", aURL, 28)+`"`),
		"GOCSPX-"+rnd("gocspx2", aURL, 20), "GOCSPX-xxxxxxxxxxxxxxxxxxxxxxxxxxxx")))

	azKey := rnd("azkey", aStd, 86) + "=="
	t = tok("azure-storage-account-key", critical, "Azure storage account key in a connection string (AccountKey=, 64 bytes of base64)",
		m("AccountKey="), b64stdEq, 88, 88, ex(
			m("DefaultEndpointsProtocol=https;AccountName=ledgerprod;AccountKey="+azKey+";EndpointSuffix=core.windows.net"),
			"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
			"AccountKey="+rnd("azkey2", aStd, 60)+"==", "AccountKey=<your-account-key>"))
	t.bodyOnly = true
	t.validate = func(v string) bool { return base64Len(v[len("AccountKey="):], 64) }
	t.placeholders = set("AccountKey=" + "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==") // Azurite's published key
	t.entropy = 4.5
	add(t)

	sbKey := rnd("sbkey", aStd, 43) + "="
	t = tok("azure-shared-access-key", critical, "Azure Service Bus / Event Hubs / IoT Hub shared access key (SharedAccessKey=, 32 bytes of base64)",
		m("SharedAccessKey="), b64stdEq, 44, 44, ex(
			m("Endpoint=sb://ledger.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey="+sbKey),
			"SharedAccessKey="+rnd("sbkey2", aStd, 30)+"=", "SharedAccessKey={key}"))
	t.bodyOnly = true
	t.validate = func(v string) bool { return base64Len(v[len("SharedAccessKey="):], 32) }
	t.entropy = 4.0
	add(t)

	sig := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(rnd("sas", aStd, 43) + "=")
	add(&azureSAS{meta("azure-sas-token", high, "Azure shared access signature: the sig= of a SAS URL or token (32-byte HMAC, with sv= and se=/sp=)",
		m("sig="), ex(
			m("https://ledger.blob.core.windows.net/exports/q3.csv?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&spr=https&sig="+sig),
			"https://ledger.blob.core.windows.net/exports/q3.csv?sv=2022-11-02&sp=r&sig=<signature>",
			"?sv=2022-11-02&se=2026-01-01&sig="+rnd("sas2", aStd, 20),
			"the email sig="+sig+" has no SAS fields"))})

	adSecret := rnd("ad", aLet, 3) + "8Q~" + rnd("ad2", a62+"_~.-", 31) + "a"
	add(&azureADSecret{meta("azure-ad-client-secret", high, "Azure AD (Entra ID) client secret: 3 characters, a digit, Q~, 31–34 characters",
		m("0q~", "1q~", "2q~", "3q~", "4q~", "5q~", "6q~", "7q~", "8q~", "9q~"), ex(
			m("AZURE_CLIENT_SECRET="+adSecret, "client secret: "+adSecret+".", `"clientSecret": "`+adSecret+`"`),
			"client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
			"AZURE_CLIENT_SECRET="+rnd("ad3", aLet, 3)+"8Q~"+rnd("ad4", a62, 20)))})

	// ---- Source hosting ------------------------------------------------------------------
	ghp := ghTok("ghp_", "ghp", 30)
	for _, g := range []struct{ name, prefix, desc string }{
		{"github-pat", "ghp_", "GitHub classic personal access token (ghp_, CRC32-checked)"},
		{"github-oauth-token", "gho_", "GitHub OAuth access token (gho_, CRC32-checked)"},
		{"github-user-to-server-token", "ghu_", "GitHub App user-to-server token (ghu_, CRC32-checked)"},
		{"github-server-to-server-token", "ghs_", "GitHub App installation (server-to-server) token (ghs_, CRC32-checked)"},
	} {
		v := ghTok(g.prefix, g.prefix, 30)
		t := tok(g.name, critical, g.desc, m(g.prefix), alnum, 36, 36, ex(
			m("GITHUB_TOKEN="+v, "my token is "+v+", please rotate it", "(see "+v+")", "git clone https://x-access-token:"+v+"@github.com/acme/ledger.git",
				"GITHUB_TOKEN="+ghTokRun(g.prefix, g.prefix+"run", 30, "xXxX")), // x's inside a random body are no mask
			ghBad(g.prefix, g.prefix, 30), ghTok(g.prefix, g.prefix+"long", 31), ghTok(g.prefix, g.prefix, 30)+"x",
			g.prefix+"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "x"+v, g.prefix+"16C7e42F292c6912E7710c838347Ae178B4a"))
		t.validate = GitHubChecksumOK
		add(t)
	}
	ghr := ghTok("ghr_", "ghr", 30)
	t = tok("github-refresh-token", critical, "GitHub App refresh token (ghr_, 36 or 76 characters, CRC32-checked)",
		m("ghr_"), alnum, 36, 76, ex(
			m("refresh_token="+ghr+"&grant_type=refresh_token", `{"refresh_token": "`+ghTok("ghr_", "ghr-long", 70)+`"}`),
			ghBad("ghr_", "ghr", 30), ghBad("ghr_", "ghr-long", 70), "ghr_"+rnd("ghr3", a62, 50)))
	t.lengths = []int{36, 76}
	t.validate = GitHubChecksumOK
	add(t)

	fg := "github_pat_" + rnd("fg1", a62, 22) + "_" + rnd("fg2", a62, 59)
	// GitHub publishes no structure for these beyond the prefix (tokens are 22 + _ + 59 today,
	// and GitHub reserves lengths up to 255), and github_pat_ names nothing else: any 82 or
	// more token characters after it are reported.
	t = tok("github-fine-grained-pat", critical, "GitHub fine-grained personal access token (github_pat_ + 22 + _ + 59 today; up to 251)",
		m("github_pat_"), alnumU, 82, 251, ex(
			m("GH_TOKEN="+fg, "token: "+fg+".", "github_pat_"+rnd("fg5", a62, 82)),
			"github_pat_"+rnd("fg3", a62, 22)+"_"+rnd("fg4", a62, 40), "github_pat_"+rnd("fg6", a62, 60),
			"github_pat_11AAAAAAA0xxxxxxxxxxxx_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))
	t.validate = func(v string) bool {
		b := v[len("github_pat_"):]
		return b[0] != '_' && b[len(b)-1] != '_' && !strings.Contains(b, "__")
	}
	t.entropy = 4.0
	add(t)

	// An OAuth app's client secret is 40 hex with no prefix; it is reported only after a name
	// that says GitHub and secret (GITHUB_CLIENT_SECRET, github.clientSecret) or the bare word
	// github — never after GITHUB_SHA, a github.com path or a pinned @revision. Client IDs
	// (Iv1.…, Ov23li…) are public.
	add(&ctxTok{m: meta("github-oauth-client-secret", high, "GitHub OAuth or GitHub App client secret: 40 hex after GITHUB_CLIENT_SECRET, github_secret or the word github",
		m("github", "gh_client_secret", "gh_oauth_secret"), ex(
			m("GITHUB_CLIENT_SECRET="+rnd("ghcs", aHex, 40), `github: { clientID: "Iv1.`+rnd("ghcs2", aHex, 16)+`", clientSecret: "`+rnd("ghcs3", aHex, 40)+`" }`,
				"github = '"+rnd("ghcs4", a62, 20)+"', '"+rnd("ghcs5", aHex, 40)+"'", "GH_CLIENT_SECRET: "+rnd("ghcs6", aHex, 40)),
			"GITHUB_SHA="+rnd("ghcs7", aHex, 40), "https://github.com/acme/ledger/commit/"+rnd("ghcs8", aHex, 40),
			"github_client_id = Iv1."+rnd("ghcs9", aHex, 16), "GITHUB_CLIENT_SECRET=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			"github.com/acme/ledger@"+rnd("ghcs10", aHex, 40),
			"(GitHub OAuth token gho_"+rnd("ghcs11", a62, 36)+") - sha1 checksum: "+rnd("ghcs12", aHex, 40))),
		body: hexLower, lengths: []int{40}, maxDist: 80, need: hexKey, entropy: 3.0, conf: 0.75, notAfter: "/@#",
		// A 40-hex value is also a SHA-1: one named as a checksum or commit after the word
		// "GitHub" is that, not a client secret.
		digestWords: []string{"sha", "checksum", "digest", "hash", "commit", "md5"},
		// Folded comparisons, not ToLower: "github" is common in code and this runs at every hit.
		name: func(n string) bool {
			if containsFold(n, "secret") {
				return !containsFold(n, "sha") && !containsFold(n, "commit")
			}
			return strings.EqualFold(n, "github") || strings.EqualFold(n, "github:") || strings.EqualFold(n, "github_oauth") || strings.EqualFold(n, "github-oauth")
		}})

	glpat := "glpat-" + rnd("glpat", aURL, 20)
	add(&rx{m: meta("gitlab-pat", critical, "GitLab personal, project or group access token (glpat-, legacy 20 characters or routable)",
		m("glpat-"), ex(
			m("GITLAB_TOKEN="+glpat, "PRIVATE-TOKEN: glpat-"+rnd("glpat2", aURL, 40)+"."+rnd("glpat3", "0123456789abcdefghijklmnopqrstuvwxyz", 9)),
			"glpat-"+rnd("glpat4", aURL, 12), "glpat-XXXXXXXXXXX-XXXXXXXX", "glpat-xxxxxxxxxxxxxxxxxxxx")),
		expr:    `glpat-(?:[0-9A-Za-z_-]{27,300}\.[0-9a-z]{9}|[0-9A-Za-z_-]{20,64})`, // GitLab states only the prefix for legacy tokens
		window:  340,
		tail:    cs("-"),
		dotWord: true,
		entropy: 3.0,
	})

	// GitLab's other tokens: each prefix with its legacy fixed length, or routable (a base64
	// payload, '.', two characters of version and a seven-character CRC, as glpat- has).
	add(&anyOf{meta("gitlab-ci-token", high, "GitLab runner, deploy, pipeline-trigger and CI job tokens (glrt-, GR1348941, gldt-, glptt-, glcbt-)",
		m("glrt-", "gr1348941", "gldt-", "glptt-", "glcbt-"), ex(
			m("--token glrt-"+rnd("glrt", aURL, 20), "registration-token: GR1348941"+rnd("gr", aURL, 20),
				"deploy token gldt-"+rnd("gldt", aURL, 20), "curl -F token=glptt-"+rnd("glptt", aHex, 40)+" https://gitlab.example.com",
				"token: glrt-t1_"+rnd("glrt3", aURL, 27)+".01"+rnd("glrt4", aLow+aNum, 7), "CI_JOB_TOKEN=glcbt-64_"+rnd("glcbt", aURL, 20)),
			"glrt-"+rnd("glrt2", aURL, 10), "GR1348941XXXXXXXXXXXXXXXXXXXX", "glptt-"+rnd("glptt2", aHex, 30))),
		[]finder{
			&rx{expr: `(?:glrt|gldt)-(?:[0-9A-Za-z_-]{27,300}\.[0-9a-z]{9}|[0-9A-Za-z_-]{20,64})`, window: 340, tail: cs("-"), dotWord: true, entropy: 3.0},
			&token{prefixes: m("GR1348941"), body: b64url, min: 20, max: 20, entropy: 3.0},
			&token{prefixes: m("glptt-"), body: hexLower, min: 40, max: 40, entropy: 3.0},
			&rx{expr: `glcbt-(?:[0-9A-Za-z_-]{27,300}\.[0-9a-z]{9}|[0-9A-Za-z_-]{20,64})`, window: 340, tail: cs("-"), dotWord: true, entropy: 3.0},
		}})
	add(&rx{m: meta("gitlab-token", high, "GitLab OAuth application secret (gloas-), feed (glft-), incoming-mail (glimt-), Kubernetes agent (glagent-), SCIM (glsoat-) and feature-flag client (glffct-) tokens",
		m("gloas-", "glft-", "glimt-", "glagent-", "glsoat-", "glffct-"), ex(
			m("GITLAB_OAUTH_SECRET=gloas-"+rnd("gloas", aURL, 64), "feed_token=glft-"+rnd("glft", aURL, 20), "glimt-"+rnd("glimt", aURL, 25),
				"agent token: glagent-"+rnd("glagent", aURL, 50), "scim glsoat-"+rnd("glsoat", aURL, 20), "unleash token glffct-"+rnd("glffct", aURL, 20),
				"glft-"+rnd("glft2", aURL, 27)+".01"+rnd("glft3", aLow+aNum, 7)),
			"gloas-"+rnd("gloas2", aURL, 12), "glft-xxxxxxxxxxxxxxxxxxxx", "glagent-config.yaml")),
		expr:   `(?:gloas|glft|glimt|glagent|glsoat|glffct)-(?:[0-9A-Za-z_-]{27,300}\.[0-9a-z]{9}|[0-9A-Za-z_-]{20,64})`,
		window: 340, tail: cs("-"), dotWord: true, entropy: 3.0})

	bb := atlTok("ATBB" + rnd("atbb", a62, 24))
	atc := atlTok("ATCTT3xFfGN0" + rnd("atctt", aURL, 170) + "=")
	add(&anyOf{meta("bitbucket-token", critical, "Bitbucket app password (ATBB…, CRC32-checked) and access token (ATCTT3…, CRC32-checked)",
		m("atbb", "atctt3"), ex(
			m("BITBUCKET_APP_PASSWORD = \""+bb+"\"", "git push https://ci:"+atc+"@bitbucket.org/acme/ledger.git"),
			"ATBB"+rnd("atbb", a62, 24)+"00000000", "ATBB"+rnd("atbb2", a62, 20), "ATBBxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
		[]finder{
			&token{prefixes: m("ATBB"), body: alnum, min: 32, max: 32, validate: AtlassianChecksumOK},
			&token{prefixes: m("ATCTT3"), body: cs("A-Za-z0-9_=-"), min: 120, max: 300, validate: AtlassianChecksumOK},
		}})

	// ---- AI providers ----------------------------------------------------------------------
	oaiMarker := "T3Blbk" + "FJ"
	oai := func(prefix, seed string) string {
		return prefix + rnd(seed, aURL, 74) + oaiMarker + rnd(seed+"2", aURL, 74)
	}
	for _, o := range []struct{ name, prefix, desc string }{
		{"openai-project-key", "sk-proj-", "OpenAI project API key (sk-proj-…T3BlbkFJ…)"},
		{"openai-service-account-key", "sk-svcacct-", "OpenAI service-account API key (sk-svcacct-…T3BlbkFJ…)"},
		{"openai-admin-key", "sk-admin-", "OpenAI admin API key (sk-admin-…T3BlbkFJ…)"},
	} {
		v := oai(o.prefix, o.name)
		t := tok(o.name, critical, o.desc, m(o.prefix), b64url, 40, 300, ex(
			m("OPENAI_API_KEY="+v, "client = OpenAI(api_key=\""+v+"\")", "here: "+o.prefix+rnd(o.name+"s", aURL, 58)+oaiMarker+rnd(o.name+"t", aURL, 58)+".",
				"OPENAI_API_KEY="+o.prefix+withRun(rnd(o.name+"x", aURL, 74), "XXXX")+oaiMarker+rnd(o.name+"x2", aURL, 74)),
			o.prefix+"...xxxx", o.prefix+rnd(o.name+"n", aURL, 150), o.prefix+"abc123"+oaiMarker+"def", "OPENAI_API_KEY="+o.prefix+"${KEY}",
			"OPENAI_API_KEY="+o.prefix+rnd(o.name+"m", aURL, 74)+oaiMarker+rnd(o.name+"m2", aURL, 70)+"xxxx")) // masked tail
		t.validate = func(v string) bool {
			i := strings.Index(v, oaiMarker)
			return i >= len(o.prefix)+20 && len(v)-i-len(oaiMarker) >= 20
		}
		t.entropy = 4.0
		add(t)
	}
	add(&openaiLegacy{meta("openai-legacy-key", critical, "OpenAI user API key (sk-…T3BlbkFJ…, the classic 51-character and sk-None- forms)",
		m("t3blbkfj"), ex(
			m("openai.api_key = \"sk-"+rnd("oail", a62, 20)+oaiMarker+rnd("oail2", a62, 20)+"\"", "sk-None-"+rnd("oail3", aURL, 40)+oaiMarker+rnd("oail4", aURL, 40)),
			"sk-"+rnd("oail5", a62, 48), "sk-proj-"+rnd("oail6", aURL, 20)+oaiMarker+rnd("oail7", aURL, 20), oaiMarker+" is base64 for OpenAI"))})

	ant := func(prefix, seed string) string { return prefix + rnd(seed, aURL, 93) + "AA" }
	t = tok("anthropic-api-key", critical, "Anthropic API key (sk-ant-api03- + 93 + AA)", m("sk-ant-api03-"), b64url, 95, 95, ex(
		m("ANTHROPIC_API_KEY="+ant("sk-ant-api03-", "ant"), `"x-api-key": "`+ant("sk-ant-api03-", "ant2")+`"`),
		"sk-ant-api03-"+rnd("ant3", aURL, 93)+"BB", "sk-ant-api03-"+rnd("ant4", aURL, 60)+"AA", "sk-ant-api03-...", ant("sk-ant-admin01-", "ant5")))
	t.validate = func(v string) bool { return strings.HasSuffix(v, "AA") }
	t.entropy = 4.0
	add(t)
	t = tok("anthropic-admin-key", critical, "Anthropic Admin API key (sk-ant-admin01- + 93 + AA)", m("sk-ant-admin01-"), b64url, 95, 95, ex(
		m("ANTHROPIC_ADMIN_KEY="+ant("sk-ant-admin01-", "antadm")),
		"sk-ant-admin01-"+rnd("antadm2", aURL, 93)+"BB", ant("sk-ant-api03-", "antadm3")))
	t.validate = func(v string) bool { return strings.HasSuffix(v, "AA") }
	t.entropy = 4.0
	add(t)
	t = tok("anthropic-oauth-token", critical, "Anthropic OAuth access or refresh token (sk-ant-oat01-, sk-ant-ort01-)",
		m("sk-ant-oat01-", "sk-ant-ort01-"), b64url, 40, 300, ex(
			m("CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-"+rnd("oat", aURL, 95)+"AA", "refresh: sk-ant-ort01-"+rnd("ort", aURL, 95)+"AA"),
			`anthropic_token = "sk-ant-oat01-tooShort"`))
	t.entropy = 4.0
	add(t)

	t = tok("huggingface-token", high, "Hugging Face access token (hf_ + 34) or legacy organization token (api_org_ + 34)",
		m("hf_", "api_org_"), alnum, 34, 34, ex(
			m("huggingface-cli login --token hf_"+rnd("hf", aLet, 34), `HF_TOKEN="hf_`+rnd("hf2", aLet, 34)+`"`, "use_auth_token='api_org_"+rnd("hf3", aLet, 34)+"')"),
			"hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "- (id)hf_requiredCharacteristicTypesForDisplayMetadata;", "hf_"+rnd("hf4", aLet, 20),
			"_kHMSymptomhf_generatedByHomeAppForDebuggingPurposesKey"))
	t.entropy = 3.5
	add(t)

	t = tok("groq-api-key", high, "Groq API key (gsk_ + 52)", m("gsk_"), alnum, 48, 52, ex(
		m("GROQ_API_KEY=gsk_"+rnd("groq", a62, 52)),
		"GSK_API_KEY=gsk_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "gsk_"+rnd("groq2", a62, 30)))
	t.lengths = []int{48, 52}
	t.entropy = 4.0
	add(t)

	t = tok("xai-api-key", high, "xAI (Grok) API key (xai- + 80)", m("xai-"), alnumU, 80, 80, ex(
		m("XAI_API_KEY=xai-"+rnd("xai", a62, 80)),
		"xai-"+rnd("xai2", a62, 40), "xai-org-config"))
	t.entropy = 4.0
	add(t)

	add(&ctxTok{m: meta("mistral-api-key", high, "Mistral AI API key: 32 alphanumerics after the word Mistral",
		m("mistral"), ex(
			m("MISTRAL_API_KEY="+rnd("mistral", a62, 32), `client = Mistral(api_key="`+rnd("mistral2", a62, 32)+`")`,
				"data:\n  mistral_api_key: "+base64.StdEncoding.EncodeToString([]byte(rnd("mistral5", a62, 32)))+"\n"),
			"MISTRAL_API_KEY="+rnd("mistral3", a62, 31), "mistral-large-latest is the model", "MISTRAL_API_KEY=${MISTRAL_API_KEY}",
			"mistral checksum "+rnd("mistral4", aHex, 32), "mistral_api_key: "+base64.StdEncoding.EncodeToString([]byte(rnd("mistral6", aHex, 32))),
			"mistral_api_key: "+base64.StdEncoding.EncodeToString([]byte("mistral-large-latest")))),
		body: alnum, lengths: []int{32}, maxDist: 80, need: mixedAlnum, entropy: 3.8, conf: 0.8})

	add(&ctxTok{m: meta("cohere-api-key", high, "Cohere API key: 40 alphanumerics after the word Cohere or CO_API_KEY",
		m("cohere", "co_api_key"), ex(
			m("export CO_API_KEY="+rnd("cohere", a62, 40), `co = cohere.ClientV2("`+rnd("cohere2", a62, 40)+`")`),
			"CO_API_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "cohere embed-english-v3.0 model", "cohere commit "+rnd("cohere3", aHex, 40))),
		body: alnum, lengths: []int{40}, maxDist: 80, need: mixedAlnum, entropy: 4.0, conf: 0.8})

	t = tok("replicate-api-token", high, "Replicate API token (r8_ + 37)", m("r8_"), b64url, 37, 37, ex(
		m("REPLICATE_API_TOKEN=r8_"+rnd("r8", a62, 37)),
		"r8_"+rnd("r8b", a62, 20), "r8_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))
	t.entropy = 4.0
	add(t)

	t = tok("cerebras-api-key", high, "Cerebras Inference API key (csk- + 48 lower-case alphanumerics)", m("csk-"), cs("a-z0-9"), 40, 64, ex(
		m("CEREBRAS_API_KEY=csk-"+rnd("csk", aLow+aNum, 48), `client = Cerebras(api_key="csk-`+rnd("csk2", aLow+aNum, 48)+`")`),
		"CEREBRAS_API_KEY=csk-...", "csk-"+rnd("csk3", aLow+aNum, 20), "csk-"+strings.Repeat("x", 48), "task-"+rnd("csk4", aLow+aNum, 48)))
	t.entropy = 3.5
	add(t)

	t = tok("nvidia-api-key", high, "NVIDIA API key for NIM / build.nvidia.com (nvapi- + 64)", m("nvapi-"), b64url, 40, 100, ex(
		m("NVIDIA_API_KEY=nvapi-"+rnd("nvapi", aURL, 64), `"Authorization": "Bearer nvapi-`+rnd("nvapi2", aURL, 64)+`"`),
		"NVIDIA_API_KEY=nvapi-xxxxxxxxxxxxxxxxxxxxxxxx", "nvapi-"+rnd("nvapi3", aURL, 20), "NVIDIA_API_KEY=nvapi-your-key-here"))
	t.entropy = 4.0
	add(t)

	// ---- LLM observability: a key to these services reads every prompt they were sent --------
	ls := func(kind, seed string) string {
		return "lsv2_" + kind + "_" + rnd(seed, aHex, 32) + "_" + rnd(seed+"2", aHex, 10)
	}
	t = tok("langsmith-api-key", critical, "LangSmith API key: personal access token (lsv2_pt_) or service key (lsv2_sk_), 32 hex, _, 10 hex",
		m("lsv2_pt_", "lsv2_sk_"), cs("0-9a-f_"), 43, 43, ex(
			m("LANGSMITH_API_KEY="+ls("pt", "ls"), `os.environ["LANGCHAIN_API_KEY"] = "`+ls("sk", "ls2")+`"`, "X-Api-Key: "+ls("pt", "ls3")),
			"LANGSMITH_API_KEY=lsv2_pt_...", "lsv2_pt_your_langsmith_api_key_here", "lsv2_pt_"+rnd("ls4", aHex, 32),
			"lsv2_pt_"+rnd("ls5", aHex, 43), "langsmith_api_key=lsv2_pt_test"))
	t.validate = func(v string) bool {
		b := v[len("lsv2_pt_"):]
		return b[32] == '_' && allIn(b[:32], hexLower) && allIn(b[33:], hexLower)
	}
	t.entropy = 3.0
	add(t)

	lf := func(seed string) string {
		h := rnd(seed, aHex, 32)
		return "sk-lf-" + h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + h[16:20] + "-" + h[20:]
	}
	t = tok("langfuse-secret-key", critical, "Langfuse secret key (sk-lf- + UUID); the public key (pk-lf-) alone is not reported: it is published in browser code",
		m("sk-lf-"), cs("0-9a-f-"), 36, 36, ex(
			m("LANGFUSE_SECRET_KEY="+lf("lf"), `Langfuse(public_key="pk-lf-`+lf("lf2")[6:]+`", secret_key="`+lf("lf3")+`")`),
			"LANGFUSE_SECRET_KEY=sk-lf-...", "LANGFUSE_SECRET_KEY=sk-lf-xxx", "LANGFUSE_PUBLIC_KEY=pk-lf-"+lf("lf4")[6:],
			"sk-lf-"+rnd("lf5", aHex, 36), "sk-lf-00000000-0000-0000-0000-000000000000"))
	t.validate = func(v string) bool { return isUUID(v[len("sk-lf-"):]) }
	t.entropy = 3.0
	add(t)

	hc := func(seed string) string {
		g := rnd(seed, "abcdefghijklmnopqrstuvwxyz234567", 28)
		return g[:7] + "-" + g[7:14] + "-" + g[14:21] + "-" + g[21:]
	}
	t = tok("helicone-api-key", critical, "Helicone API key: write (sk-helicone-) or read (pk-helicone-) key, groups of lower-case base32 separated by '-'",
		m("sk-helicone-", "pk-helicone-"), cs("a-z0-9-"), 24, 90, ex(
			m("HELICONE_API_KEY=sk-helicone-"+hc("hc"), "Helicone-Auth: Bearer sk-helicone-"+hc("hc2"), "read key pk-helicone-"+hc("hc3")+"."),
			"HELICONE_API_KEY=sk-helicone-...", "sk-helicone-"+hc("hc4")[:12], "sk-helicone-xxxxxxx-xxxxxxx-xxxxxxx-xxxxxxx",
			"sk-helicone-aizk36y-5yue2my-qmy5tza-n7x3aqa"))
	t.validate = func(v string) bool {
		groups := strings.Split(v[len("sk-helicone-"):], "-")
		n := 0
		for _, g := range groups {
			if g == "" {
				return false
			}
			n += len(g)
		}
		return len(groups) >= 4 && n >= 24
	}
	t.entropy = 3.0
	// Helicone's own repository uses this key in its tests (TEST_ORG_API_KEY).
	t.placeholders = set("sk-helicone-aizk36y-5yue2my-qmy5tza-n7x3aqa")
	add(t)

	// ---- Providers beyond the core set (providers.go) ----------------------------------------
	add(providers()...)

	// ---- Payments --------------------------------------------------------------------------
	for _, s := range []struct{ name, prefix, desc string }{
		{"stripe-secret-key", "sk_live_", "Stripe live secret key (sk_live_); test and publishable keys are not reported"},
		{"stripe-restricted-key", "rk_live_", "Stripe live restricted key (rk_live_)"},
	} {
		v := s.prefix + "51" + rnd(s.name, a62, 97)
		t := tok(s.name, critical, s.desc, m(s.prefix), alnum, 24, 247, ex(
			m("STRIPE_KEY="+v, "stripe.api_key = '"+s.prefix+rnd(s.name+"2", a62, 24)+"'"),
			strings.Replace(s.prefix, "live", "test", 1)+rnd(s.name+"3", a62, 24), "pk_live_"+rnd(s.name+"4", a62, 24),
			s.prefix+"...", "cus_"+rnd(s.name+"5", a62, 14), "ch_"+rnd(s.name+"6", a62, 24)))
		t.entropy = 3.5
		add(t)
	}

	// Square's EAAA tokens are 60 characters after the prefix in current accounts; sandbox and
	// older ones run shorter, and some carry '=' from their base64.
	add(&anyOf{meta("square-access-token", critical, "Square access token (EAAA… production and sandbox, sq0atp- legacy)",
		m("eaaa", "sq0atp-"), ex(
			m("SQUARE_ACCESS_TOKEN=EAAA"+rnd("sq", aURL, 60), "sq0atp-"+rnd("sq2", aURL, 22), "square token = 'EAAA"+rnd("sq5", aURL, 30)+"="+rnd("sq6", aURL, 29)+"'",
				"SQUARE_TOKEN=sq0atp-"+rnd("sq7", aURL, 40)),
			"EAAA"+rnd("sq3", aURL, 20), "sq0atp-"+rnd("sq4", aURL, 10), "EAAA"+rnd("sq8", aURL, 70),
			// pieces of a binary's base64, not tokens
			"EAAA"+rnd("sq9", a62, 30)+"+"+rnd("sq10", aStd, 41), rnd("sq11", aStd, 76)+"\nEAAA"+rnd("sq12", a62, 30)+"+"+rnd("sq13", aStd, 41),
			rnd("sq14", aStd, 76)+"\nEAAA"+rnd("sq15", a62, 40), rnd("sq16", a62, 20)+"+EAAA"+rnd("sq17", a62, 40))),
		[]finder{
			&token{prefixes: m("EAAA"), body: cs("A-Za-z0-9_=-"), min: 22, max: 64, entropy: 4.0, validate: func(v string) bool { return strictAlnum(v[4:]) }, notInBlob: true},
			&token{prefixes: m("sq0atp-"), body: b64url, min: 22, max: 60, entropy: 3.5},
		}})
	t = tok("square-oauth-secret", critical, "Square OAuth application secret (sq0csp- + 43)", m("sq0csp-"), b64url, 43, 43, ex(
		m("SQUARE_APP_SECRET=sq0csp-"+rnd("sqcsp", aURL, 43)), "sq0csp-"+rnd("sqcsp2", aURL, 20)))
	t.entropy = 4.0
	add(t)

	add(&rx{m: meta("braintree-access-token", critical, "PayPal Braintree production access token (access_token$production$…$…)",
		m("access_token$production$"), ex(
			m("BT_TOKEN=access_token$production$"+rnd("bt", aNum+aLow, 16)+"$"+rnd("bt2", aHex, 32)),
			"access_token$sandbox$"+rnd("bt3", aNum+aLow, 16)+"$"+rnd("bt4", aHex, 32), "access_token$production$"+rnd("bt5", aNum+aLow, 16))),
		expr: `access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}`, window: 90, entropy: 3.5})

	add(&anyOf{meta("shopify-token", critical, "Shopify access tokens (shpat_, shpca_, shppa_ + 32 hex)",
		m("shpat_", "shpca_", "shppa_"), ex(
			m("X-Shopify-Access-Token: shpat_"+rnd("shop", aHex, 32), "shppa_"+rnd("shop2", aHex, 32)),
			"shpat_"+rnd("shop3", aHex, 20), "shpat_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
		[]finder{&token{prefixes: m("shpat_", "shpca_", "shppa_"), body: hexAny, min: 32, max: 32, entropy: 3.0}}})
	add(&anyOf{meta("shopify-shared-secret", high, "Shopify app shared secret (shpss_ + 32 hex)",
		m("shpss_"), ex(m("SHOPIFY_API_SECRET=shpss_"+rnd("shpss", aHex, 32)), "shpss_"+rnd("shpss2", aHex, 31))),
		[]finder{&token{prefixes: m("shpss_"), body: hexAny, min: 32, max: 32, entropy: 3.0}}})

	// ---- Messaging and SaaS ----------------------------------------------------------------
	add(&rx{m: meta("slack-bot-token", critical, "Slack bot token (xoxb-)", m("xoxb-"), ex(
		m("SLACK_BOT_TOKEN=xoxb-"+rnd("slb", aNum, 12)+"-"+rnd("slb2", aNum, 13)+"-"+rnd("slb3", a62, 24),
			`"bot_token": "xoxb-`+rnd("slb4", aNum, 12)+"-"+rnd("slb5", a62, 24)+`"`),
		"xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx", "xoxb-12345-abcd234", "xoxb-xoxb-my-bot-token", "xoxb-Slack_BOT_TOKEN")),
		expr: `xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-[A-Za-z0-9]{24,34}|[A-Za-z0-9]{18,26})`, window: 100, tail: cs("-"), entropy: 3.0})
	// xoxe- with three numeric fields is a user token Slack hands out in file URLs (?t=xoxe-…).
	add(&rx{m: meta("slack-user-token", critical, "Slack user token (xoxp-, and xoxe- in the same layout)", m("xoxp-", "xoxe-"), ex(
		m(`"user_token": "xoxp-`+rnd("slu", aNum, 11)+"-"+rnd("slu2", aNum, 12)+"-"+rnd("slu3", aNum, 12)+"-"+rnd("slu4", aHex, 32)+`"`,
			"files-pri/T04-F04/image.png?t=xoxe-"+rnd("slu5", aNum, 13)+"-"+rnd("slu6", aNum, 13)+"-"+rnd("slu7", aNum, 13)+"-"+rnd("slu8", aHex, 32)),
		`"token1": "xoxp-1234567890"`, "xoxp-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
		"xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d")),
		expr: `xox[pe]-[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-[A-Za-z0-9]{28,34}`, window: 110, tail: cs("-"), entropy: 3.0})
	add(&rx{m: meta("slack-app-token", high, "Slack app-level token (xapp-)", m("xapp-"), ex(
		m("SLACK_APP_TOKEN=xapp-1-A"+rnd("sla", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10)+"-"+rnd("sla2", aNum, 13)+"-"+rnd("sla3", aHex, 64)),
		"xapp-1-xxx", "xapp-1-A0000-1-abc")),
		expr: `xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-z0-9]{64}`, window: 110, entropy: 3.0})
	// Configuration tokens (xoxe.xoxp-1-…, xoxe.xoxb-1-…) and their refresh tokens (xoxe-1-…)
	// manage a workspace's apps; their bodies are base64 of the token's fields.
	add(&rx{m: meta("slack-config-token", critical, "Slack app configuration access token (xoxe.xoxp-, xoxe.xoxb-) or its refresh token (xoxe-1-)",
		m("xoxe.xoxp-", "xoxe.xoxb-", "xoxe-"), ex(
			m("SLACK_CONFIG_TOKEN=xoxe.xoxp-1-"+rnd("slc", a62, 163), `"access_token": "xoxe.xoxb-1-`+rnd("slc2", a62, 165)+`"`,
				`"refresh_token": "xoxe-1-`+rnd("slc3", a62, 146)+`"`),
			"xoxe.xoxp-1-SlackAppConfigurationAccessTokenHere", "xoxe.xoxp-1-initial", "xoxe-1-xxx", "xoxe-1-"+rnd("slc4", a62, 60))),
		expr: `xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{140,180}|xoxe-[0-9]-[A-Za-z0-9]{120,180}`, window: 200, entropy: 4.0})
	// Legacy tokens: workspace access and refresh (xoxa-, xoxa-2-, xoxr-) and the old session
	// and user forms (xoxs-, xoxo-) with hex tails.
	add(&rx{m: meta("slack-legacy-token", high, "Slack legacy workspace access or refresh token (xoxa-, xoxa-2-, xoxr-) and legacy session token (xoxs-, xoxo-)",
		m("xoxa-", "xoxr-", "xoxs-", "xoxo-"), ex(
			m(`"access_token": "xoxa-2-`+rnd("sll", aNum, 9)+"-"+rnd("sll2", aNum, 11)+"-"+rnd("sll3", aNum, 13)+"-"+rnd("sll4", aHex, 18)+`"`,
				`"refresh_token": "xoxr-`+rnd("sll5", a62, 12)+`"`, "xoxa-"+rnd("sll6", aNum, 11)+"-"+rnd("sll7", aNum, 11)+"c",
				`"access_token1": "xoxs-`+rnd("sll8", aNum, 10)+"-"+rnd("sll9", aNum, 10)+"-"+rnd("sll10", aNum, 10)+"-"+rnd("sll11", aHex, 10)+`"`),
			"https://github.com/xoxa-nyc/xoxa-nyc.github.io/blob/master/README.md", "xoxr-xxxxxxxxxxxx", "xoxs-1-2-3-a", "xoxo-gossip-girl")),
		expr:   `xox[os]-[0-9]{6,14}-[0-9]{6,14}-[0-9]{6,14}-[a-fA-F0-9]{10,64}|xox[ar]-(?:[0-9]-)?(?:[0-9]{6,14}-){0,3}[0-9A-Za-z]{8,48}`,
		window: 160, tail: cs("-"), entropy: 3.0})
	add(&rx{m: meta("slack-webhook-url", medium, "Slack incoming webhook or workflow trigger URL", m("hooks.slack.com/"), ex(
		m("SLACK_WEBHOOK=https://hooks.slack.com/services/T"+rnd("slw", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10)+"/B"+rnd("slw2", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10)+"/"+rnd("slw3", a62, 24),
			"HTTPS://HOOKS.SLACK.COM/services/"+rnd("slw4", aLow+aNum, 44)),
		"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "https://hooks.slack.com/services/")),
		// Any long path under services/, workflows/ or triggers/: the host names nothing else,
		// and whoever holds the URL can post. (Slack's IDs are T…/B…/24 today; pasted URLs
		// come with other layouts, older and newer.)
		expr: `(?i:hooks\.slack\.com/(?:services|workflows|triggers))/[A-Za-z0-9_-]{6,}(?:/[A-Za-z0-9_-]+)*`,
		validate: func(v string) bool { // 36 or more characters of IDs and secret after the kind
			_, path, _ := strings.Cut(v[len("hooks.slack.com/"):], "/")
			return len(path)-strings.Count(path, "/") >= 36
		},
		window: 150, entropy: 3.0, lastSegment: true})

	// Microsoft Teams incoming webhooks (Office 365 connectors): …webhook.office.com/webhookb2/
	// or the older outlook.office.com/webhook/, then <group>@<tenant>/IncomingWebhook/<id>/<owner>.
	// The URL is the credential: whoever holds it posts into the channel.
	teamsHook := func(seed string) string {
		return "webhook.office.com/webhookb2/" + uuidOf(seed) + "@" + uuidOf(seed+"t") + "/IncomingWebhook/" + rnd(seed+"i", aHex, 32) + "/" + uuidOf(seed+"o")
	}
	add(&rx{m: meta("teams-webhook-url", medium, "Microsoft Teams incoming webhook URL (webhook.office.com/webhookb2/…/IncomingWebhook/…)",
		m("webhook.office.com/webhook", "outlook.office.com/webhook/"), ex(
			m("TEAMS_WEBHOOK=https://acme.outlook."+teamsHook("tw"), "https://ACME."+strings.ToUpper(teamsHook("tw6")[:len("webhook.office.com")])+teamsHook("tw6")[len("webhook.office.com"):], `"url": "https://outlook.office.com/webhook/`+uuidOf("tw2")+"@"+uuidOf("tw3")+"/IncomingWebhook/"+rnd("tw4", aHex, 32)+"/"+uuidOf("tw5")+`"`),
			"https://acme.webhook.office.com/webhookb2/", "https://acme.webhook.office.com/webhookb2/00000000-0000-0000-0000-000000000000@00000000-0000-0000-0000-000000000000/IncomingWebhook/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/00000000-0000-0000-0000-000000000000")),
		expr:   `(?i:webhook\.office\.com/webhookb2|outlook\.office\.com/webhook)/[A-Za-z0-9-]{8,}@[A-Za-z0-9-]{8,}/(?i:IncomingWebhook)/([A-Za-z0-9]{32})/[A-Za-z0-9-]{36}(?:/V2[A-Za-z0-9_-]{20,})?`, // V2: the newer URLs' signature
		window: 300, entropy: 3.0})

	skKeywords := make([]string, 0, 16)
	for _, c := range "0123456789abcdef" {
		skKeywords = append(skKeywords, "sk"+string(c))
	}
	add(&token{m: meta("twilio-api-key", medium, "Twilio API key SID (SK + 32 hex); its secret is reported by the generic detectors",
		skKeywords, ex(
			m("TWILIO_API_KEY=SK"+rnd("twsk", aHex, 32), "key SK"+rnd("twsk2", aHex, 32)+"."),
			"SK"+rnd("twsk3", aHex, 31), "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "TASK"+rnd("twsk4", aHex, 32), "she asked about the sketch")),
		prefixes: m("SK"), body: hexLower, min: 32, max: 32, entropy: 3.0, conf: 0.8})
	add(&ctxTok{m: meta("twilio-auth-token", high, "Twilio auth token: 32 hex after the word Twilio (TWILIO_AUTH_TOKEN=…)",
		m("twilio"), ex(
			m("TWILIO_AUTH_TOKEN="+rnd("twat", aHex, 32), "twilio: account AC"+rnd("twac", aHex, 32)+" token "+rnd("twat2", aHex, 32)),
			"TWILIO_ACCOUNT_SID=AC"+rnd("twac2", aHex, 32), "TWILIO_AUTH_TOKEN=your_auth_token", "twilio sms api")),
		body: hexLower, lengths: []int{32}, maxDist: 120, need: hexKey, entropy: 3.0, conf: 0.75})

	// SG.<22>.<43> today; keys a few characters off either part exist in older accounts and
	// other scanners' fixtures.
	add(&rx{m: meta("sendgrid-api-key", high, "SendGrid API key (SG.<22>.<43>, and variants of 16–32 and 39–50 characters)", m("sg."), ex(
		m("SENDGRID_API_KEY=SG."+rnd("sg", aURL, 22)+"."+rnd("sg2", aURL, 43), "sendgrid token = 'SG."+rnd("sg5", aURL, 21)+"."+rnd("sg6", aURL, 46)+"'"),
		"SG."+rnd("sg3", aURL, 22)+"."+rnd("sg4", aURL, 20), "msg.content = sg.send(mail)", "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
		expr: `SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{39,50}`, window: 80, tail: cs("-"), entropy: 4.0})

	add(&anyOf{meta("mailgun-api-key", high, "Mailgun API key (key- + 32 hex, or the newer 32-8-8 hex key after the word Mailgun)",
		m("key-", "mailgun"), ex(
			m("MAILGUN_API_KEY=key-"+rnd("mg", aHex, 32), "mailgun private key: "+rnd("mg2", aHex, 32)+"-"+rnd("mg3", aHex, 8)+"-"+rnd("mg4", aHex, 8)),
			"key-value store", "key-"+rnd("mg5", aHex, 20), "api-key-"+rnd("mg6", aHex, 32))),
		[]finder{
			&token{prefixes: m("key-"), body: hexLower, min: 32, max: 32, entropy: 3.0},
			&ctxTok{body: cs("0-9a-f-"), lengths: []int{50}, maxDist: 80, conf: 0.8, need: func(v string) bool {
				return v[32] == '-' && v[41] == '-' && allIn(v[:32], hexLower) && hexKey(v[:32])
			}},
		}})

	add(&ctxTok{m: meta("datadog-api-key", high, "Datadog API key: 32 hex after Datadog / DD_API_KEY / DD-API-KEY",
		m("datadog", "dd_api_key", "dd-api-key", "ddapikey"), ex(
			m("DD_API_KEY="+rnd("dd", aHex, 32), `"DD-API-KEY": "`+rnd("dd2", aHex, 32)+`"`,
				"  dd_api_key: "+base64.StdEncoding.EncodeToString([]byte(rnd("dd4", aHex, 32)+"\n"))),
			"DD_API_KEY=<DATADOG_API_KEY>", "datadog trace id "+rnd("dd3", aNum, 19),
			"dd_api_key: "+base64.StdEncoding.EncodeToString([]byte(rnd("dd5", aHex, 31))))),
		body: hexLower, lengths: []int{32}, maxDist: 80, need: hexKey, entropy: 3.0, conf: 0.8})
	// Application keys are 40 hex; access tokens of the same length are lower-case alphanumeric.
	add(&ctxTok{m: meta("datadog-app-key", high, "Datadog application key or access token: 40 hex or lower-case alphanumerics after Datadog / DD_APP_KEY / DD-APPLICATION-KEY",
		m("datadog", "dd_app_key", "dd_application_key", "dd-application-key", "ddappkey"), ex(
			m("DD_APP_KEY="+rnd("ddapp", aHex, 40), "DD-APPLICATION-KEY: "+rnd("ddapp2", aHex, 40), `datadogToken = "`+rnd("ddapp4", aLow+aNum, 40)+`"`),
			"DD_APP_KEY="+rnd("ddapp3", aHex, 32), "datadog dashboards", "datadog build "+rnd("ddapp5", aNum, 40))),
		body: cs("a-z0-9"), lengths: []int{40}, maxDist: 80, need: keyLike, entropy: 3.0, conf: 0.8})

	add(&urlAuth{meta("sentry-dsn", medium, "Sentry DSN with its (legacy) secret key: https://<public>:<secret>@host/project — the secret is reported",
		m("://"), ex(
			m("SENTRY_DSN=https://"+rnd("sdsn", aHex, 32)+":"+rnd("sdsn2", aHex, 32)+"@o123456.ingest.sentry.io/4504"),
			"SENTRY_DSN=https://"+rnd("sdsn3", aHex, 32)+"@o123456.ingest.sentry.io/4504")), true})
	sntrys := "sntrys_" + base64.StdEncoding.EncodeToString([]byte(`{"iat":1716239022.5,"url":"https://sentry.io","region_url":"https://us.sentry.io","org":"acme"}`)) + "_" + rnd("sntrys", aStd, 43)
	add(&anyOf{meta("sentry-auth-token", high, "Sentry auth tokens: organization (sntrys_, structure-checked) and user (sntryu_ + 64 hex)",
		m("sntrys_", "sntryu_"), ex(
			m("SENTRY_AUTH_TOKEN="+sntrys, "sntryu_"+rnd("sntryu", aHex, 64)),
			"sntrys_eyJpYXQiOjE3OTE1MTc2NzJ9_abcdef", "sntryu_"+rnd("sntryu2", aHex, 40))),
		[]finder{
			&rx{expr: `sntrys_eyJ[A-Za-z0-9+/]{20,600}={0,2}_[A-Za-z0-9+/]{43}`, window: 700, tail: cs("+/="), validate: SentryOrgTokenOK},
			&token{prefixes: m("sntryu_"), body: hexLower, min: 64, max: 64, entropy: 3.0},
		}})

	// ---- Package registries ----------------------------------------------------------------
	npm := ghTok("npm_", "npm", 30)
	t = tok("npm-token", critical, "npm access token (npm_ + 36, CRC32-checked like GitHub's)", m("npm_"), alnum, 36, 36, ex(
		m("//registry.npmjs.org/:_authToken="+npm, "NPM_TOKEN="+npm+"."),
		ghBad("npm_", "npm", 30), "npm_"+rnd("npm2", a62, 20), "npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "npm_config_registry"))
	t.validate = GitHubChecksumOK
	add(t)

	pypi := pypiTok("pypi", 32)
	t = tok("pypi-token", critical, "PyPI API token (pypi-AgEIcHlwaS5vcmc…, a macaroon that must parse)",
		m("pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"), b64url, 50, 1000, ex(
			m("password = "+pypi, "TWINE_PASSWORD="+pypi),
			"TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmcCJ...", pypiTok("pypi2", 31), "pypi-AgEIcHlwaS5vcmc"+rnd("pypi3", aURL, 120)))
	t.validate = PyPITokenOK
	add(t)

	t = tok("dockerhub-token", high, "Docker Hub personal or organization access token (dckr_pat_, dckr_oat_)",
		m("dckr_pat_", "dckr_oat_"), b64url, 27, 32, ex(
			m("docker login -u acme -p dckr_pat_"+rnd("dckr", aURL, 27)),
			"dckr_pat_"+rnd("dckr2", aURL, 12), "dckr_pat_xxxxxxxxxxxxxxxxxxxxxxxxxxx"))
	t.entropy = 3.5
	add(t)

	// ---- Infrastructure --------------------------------------------------------------------
	heroku := rnd("heroku", aHex, 32)
	herokuUUID := heroku[:8] + "-" + heroku[8:12] + "-" + heroku[12:16] + "-" + heroku[16:20] + "-" + heroku[20:]
	add(&anyOf{meta("heroku-api-key", high, "Heroku API key (HRKU-AA…, or a UUID after the word Heroku)",
		m("hrku-aa", "heroku"), ex(
			m("HEROKU_API_KEY=HRKU-AA"+rnd("hrku", aURL, 58), "HEROKU_API_KEY="+herokuUUID),
			"request id "+herokuUUID+" on render.com", "HEROKU_API_KEY=<heroku-api-key>", "HRKU-AA"+rnd("hrku2", aURL, 20))),
		[]finder{
			&token{prefixes: m("HRKU-AA"), body: b64url, min: 58, max: 58, entropy: 4.0},
			&ctxTok{body: cs("0-9a-fA-F-"), lengths: []int{36}, maxDist: 60, need: isUUID, conf: 0.75},
		}})

	t = tok("digitalocean-pat", critical, "DigitalOcean personal access token (dop_v1_ + 64 hex)", m("dop_v1_"), hexLower, 64, 64, ex(
		m("DIGITALOCEAN_TOKEN=dop_v1_"+rnd("do", aHex, 64)), "dop_v1_"+rnd("do2", aHex, 40), "dop_v1_"+strings.Repeat("0", 64)))
	t.entropy = 3.0
	add(t)
	t = tok("digitalocean-oauth-token", high, "DigitalOcean OAuth access or refresh token (doo_v1_, dor_v1_ + 64 hex)",
		m("doo_v1_", "dor_v1_"), hexLower, 64, 64, ex(
			m("token=doo_v1_"+rnd("doo", aHex, 64), "refresh dor_v1_"+rnd("dor", aHex, 64)), "doo_v1_"+rnd("doo2", aHex, 63)))
	t.entropy = 3.0
	add(t)

	add(&ctxTok{m: meta("cloudflare-api-token", high, "Cloudflare API token: 40 characters after Cloudflare / CF_API_TOKEN",
		m("cloudflare", "cf_api_token", "cf_api_key", "cf_token"), ex(
			m("CLOUDFLARE_API_TOKEN="+rnd("cf", aURL, 40), `cloudflare: "`+rnd("cf2", a62, 40)+`"`),
			"CLOUDFLARE_API_TOKEN="+rnd("cf3", aURL, 39), "cloudflare zone "+rnd("cf4", aHex, 32))),
		body: b64url, lengths: []int{40}, maxDist: 80, need: keyLike, entropy: 4.0, conf: 0.8})
	add(&ctxTok{m: meta("cloudflare-global-api-key", critical, "Cloudflare global API key: 37 hex after Cloudflare / X-Auth-Key",
		m("cloudflare", "x-auth-key", "cf_api_key", "cf_global"), ex(
			m("CLOUDFLARE_GLOBAL_API_KEY: "+rnd("cfg", aHex, 37), "-H 'X-Auth-Key: "+rnd("cfg2", aHex, 37)+"'"),
			"cloudflare zone id "+rnd("cfg3", aHex, 32))),
		body: hexLower, lengths: []int{37}, maxDist: 80, need: hexKey, entropy: 3.0, conf: 0.8})
	add(&rx{m: meta("cloudflare-origin-ca-key", high, "Cloudflare Origin CA key (v1.0-<24 hex>-<146 hex>)", m("v1.0-"), ex(
		m("CLOUDFLARE_ORIGIN_CA_KEY=v1.0-"+rnd("cfo", aHex, 24)+"-"+rnd("cfo2", aHex, 146)),
		"version v1.0-beta", "v1.0-"+rnd("cfo3", aHex, 24)+"-"+rnd("cfo4", aHex, 40))),
		expr: `v1\.0-[0-9a-f]{24}-[0-9a-f]{146}`, window: 180, entropy: 3.0})

	// Cloudflare's scannable formats (2025 on): cfk_ global API keys, cfut_ user and cfat_ account
	// API tokens, 40 characters and a checksum whose algorithm is not published.
	t = tok("cloudflare-scannable-token", critical, "Cloudflare global API key (cfk_), user API token (cfut_) or account API token (cfat_): prefix, 40 characters and a checksum",
		m("cfk_", "cfut_", "cfat_"), alnum, 44, 56, ex(
			m("CLOUDFLARE_API_TOKEN=cfut_"+rnd("cfut", a62, 48), "X-Auth-Key: cfk_"+rnd("cfk", a62, 46), `account_token = "cfat_`+rnd("cfat", a62, 48)+`"`),
			"cfut_"+rnd("cfut2", a62, 30), "cfut_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "cfk_"+rnd("cfk2", a62, 70)))
	t.entropy = 4.0
	t.validate = func(v string) bool { return mixedAlnum(v[strings.IndexByte(v, '_')+1:]) }
	add(t)

	atatt := atlTok("ATATT3xFfGF0" + rnd("atatt", aURL, 171) + "=")
	add(&anyOf{meta("atlassian-api-token", high, "Atlassian API token (ATATT3…, CRC32-checked; or a 24-character token after Jira/Confluence/Atlassian)",
		m("atatt3", "jira", "confluence", "atlassian"), ex(
			m("JIRA_API_TOKEN="+atatt, "confluence api token: "+rnd("atl", a62, 24)),
			"ATATT3xFfGF0"+rnd("atatt2", aURL, 171)+"=00000000", "getPagesInConfluenceSpace,searchConfluenceUsingCql", "JIRA-4821 is fixed")),
		[]finder{
			&token{prefixes: m("ATATT3"), body: cs("A-Za-z0-9_=-"), min: 150, max: 300, validate: AtlassianChecksumOK},
			&ctxTok{body: alnum, lengths: []int{24}, maxDist: 60, need: keyLike, entropy: 3.5, conf: 0.7}, // 3.8 refused one random lower-case token in ten
		}})

	add(&anyOf{meta("linear-api-key", high, "Linear API key (lin_api_ + 40) and OAuth token (lin_oauth_ + 64 hex)",
		m("lin_api_", "lin_oauth_"), ex(
			m("LINEAR_API_KEY=lin_api_"+rnd("lin", a62, 40), "lin_oauth_"+rnd("lin2", aHex, 64)),
			"lin_api_"+rnd("lin3", a62, 20), "lin_api_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
		[]finder{
			&token{prefixes: m("lin_api_"), body: alnum, min: 40, max: 40, entropy: 4.0},
			&token{prefixes: m("lin_oauth_"), body: hexLower, min: 64, max: 64, entropy: 3.0},
		}})

	add(&anyOf{meta("notion-token", high, "Notion integration token (ntn_ + 46, or legacy secret_ + 43)",
		m("ntn_", "secret_"), ex(
			m("NOTION_TOKEN=ntn_"+rnd("ntn", aNum, 11)+rnd("ntn2", a62, 35), `notion = Client(auth="secret_`+rnd("notion", a62, 43)+`")`),
			"secret_key = "+rnd("notion2", a62, 20), "secret_"+rnd("notion3", a62, 30), "ntn_"+rnd("ntn3", a62, 20))),
		[]finder{
			&token{prefixes: m("ntn_"), body: alnum, min: 46, max: 46, entropy: 4.0, validate: func(v string) bool { return allIn(v[4:15], cs("0-9")) }},
			&token{prefixes: m("secret_"), body: alnum, min: 43, max: 43, entropy: 4.0, validate: func(v string) bool { return mixedAlnum(v[7:]) }},
		}})

	// ---- Keys and tokens with structure ----------------------------------------------------
	rsaPEM := pemWrap("RSA PRIVATE KEY", toyRSA("rsa"), "\n")
	p8PEM := pemWrap("PRIVATE KEY", toyPKCS8RSA("p8cut"), "\n")
	sshPEM := pemWrap("OPENSSH PRIVATE KEY", opensshEd25519("sshcut"), "\n")
	add(&pemKey{m: meta("private-key", critical,
		"Private key in PEM: RSA (PKCS#1, n = p·q checked), EC (SEC 1), PKCS#8, DSA, OpenSSH, encrypted PKCS#8 and legacy encrypted PEM; the block is reported, at lower confidence when its body does not parse (truncated, partly pasted, mangled)",
		m("-----begin"), ex(
			m(rsaPEM, "key:\n"+pemWrap("PRIVATE KEY", ed25519PKCS8("ed"), "\n")+"\nthanks",
				pemWrap("EC PRIVATE KEY", ecSEC1("ec"), "\n"), pemWrap("OPENSSH PRIVATE KEY", opensshEd25519("ssh"), "\n"),
				pemWrap("ENCRYPTED PRIVATE KEY", encryptedPKCS8("enc"), "\n"),
				`"key": "`+pemWrap("PRIVATE KEY", toyPKCS8RSA("p8"), `\n`)+`"`,
				// Damaged: cut short with or without its END line, lines left out, in a JSON
				// string, folded onto one line, concatenated in code, quoted in an e-mail.
				pemCut(p8PEM, 3, true), "why does this fail:\n"+pemCut(p8PEM, 4, false),
				pemElided(p8PEM, 2, 1, "..."), pemElided(rsaPEM, 1, 2, "[…]"),
				`{"private_key": "`+strings.ReplaceAll(pemCut(p8PEM, 3, false), "\n", `\n`)+`"}`,
				strings.ReplaceAll(p8PEM, "\n", " "),
				"const key = \""+strings.ReplaceAll(rsaPEM, "\n", `\n" +`+"\n    \"")+"\";",
				"> "+strings.ReplaceAll(pemCut(rsaPEM, 3, false), "\n", "\n> "),
				pemCut(sshPEM, 3, true)),
			"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----",
			"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC...\n-----END PRIVATE KEY-----",
			"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA"+strings.Repeat("x", 48)+"\n"+strings.Repeat("x", 64)+"\n-----END RSA PRIVATE KEY-----",
			pemCut(sshPEM, 1, true), // the first line of every OpenSSH key: structure, no key
			"-----BEGIN RSA PRIVATE KEY-----\npaste the key here, then save the file\n-----END RSA PRIVATE KEY-----",
			`if strings.HasPrefix(s, "-----BEGIN RSA PRIVATE KEY-----") {`,
			"-----BEGIN PRIVATE KEY-----\n"+rnd("pem-junk", aStd, 64)+"\n"+rnd("pem-junk2", aStd, 64)+"\n-----END PRIVATE KEY-----",
			pemWrap("PUBLIC KEY", ed25519PKCS8("pub"), "\n"), pemCut(pemWrap("PUBLIC KEY", toyPKCS8RSA("pubcut"), "\n"), 3, false),
			"-----BEGIN RSA PRIVATE KEY-----\n"+strings.Repeat("A", 64)+"\n", gcpJSON(gcpKey, "service_account"),
			gcpJSON(strings.ReplaceAll(pemCut(gcpKeyNL, 4, false), "\n", `\n`), "service_account")))})
	add(&pemKey{m: meta("pgp-private-key", critical, "OpenPGP private key block (armor CRC-24 and secret-key packet checked)",
		m("-----begin"), ex(m(pgpBlock("pgp", true)), pgpBlock("pgp", false),
			"-----BEGIN PGP PRIVATE KEY BLOCK-----\n...\n-----END PGP PRIVATE KEY BLOCK-----")), pgp: true})

	jwtV := jwtTok(`{"sub":"u-4821","scope":"admin","iat":1716239022,"exp":1716242622}`, "jwt")
	add(&jwt{m: meta("jwt", medium, "Signed JSON Web Token (header with alg, JSON payload, signature); the whole token is reported",
		m("eyj"), ex(
			m("Authorization: Bearer "+jwtV, "token="+jwtV+".", `{"id_token": "`+jwtTok(`{"iss":"https://accounts.google.com","sub":"1098"}`, "jwt2")+`"}`),
			b64u(`{"alg":"HS256","typ":"JWT"}`)+"."+b64u(`{"sub":"x"}`),
			b64u(`{"alg":"none"}`)+"."+b64u(`{"sub":"x"}`)+".",
			b64u(`{"typ":"JWT"}`)+"."+b64u(`{"sub":"x"}`)+"."+rnd("jwt3", aURL, 43),
			"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
			"eyJ"+rnd("jwt4", aURL, 40)+"."+rnd("jwt5", aURL, 40)+"."+rnd("jwt6", aURL, 40))),
		placeholders: map[string]bool{"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ": true}})

	k8sPw := base64.StdEncoding.EncodeToString([]byte(rnd("k8s", a62, 20)))
	add(&k8sSecret{meta("kubernetes-secret", high, "Values of a Kubernetes Secret manifest in YAML or JSON: each data: (base64) and stringData: entry, block scalars included (usernames, hosts, certificates and values under 6 bytes aside)",
		m("kind: secret", "kind: \"secret", "kind: 'secret", "kind:\tsecret", "kind\": \"secret", "kind\":\"secret"), ex(
			m("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  username: YWRtaW4=\n  extra: "+k8sPw+"\n",
				"apiVersion: v1\ndata:\n  .dockerconfigjson: |\n    "+base64.StdEncoding.EncodeToString([]byte(`{"auths":{"registry.acme.io":{"auth":"`+rnd("k8s2", a62, 24)+`"}}}`))+"\nkind: Secret\n",
				"kind: \"Secret\"\nstringData:\n  connection: "+rnd("k8s3", a62, 32)+"\n"),
			"kind: Secret\ndata:\n  username: YWRtaW4=\n  ca.crt: "+k8sPw+"\n", "kind: ConfigMap\ndata:\n  password: "+k8sPw+"\n",
			"kind: SecretStore\ndata:\n  password: "+k8sPw+"\n", "kind: Secret\ndata: {}\n")),
	})

	jwtWrapped := base64.StdEncoding.EncodeToString([]byte(jwtTok(`{"sub":"svc-ledger","aud":"api","exp":1716242622}`, "jwtb64")))
	add(&jwtB64{meta("jwt-base64", medium, "Signed JSON Web Token encoded in base64 once more (a Kubernetes Secret's data, a wrapped header value); the encoded run is reported",
		m("zxlk"), ex(
			m("data:\n  token: "+jwtWrapped+"\n", `{"auth": "`+base64.StdEncoding.EncodeToString([]byte(jwtTok(`{"sub":"u-7","scope":"read"}`, "jwtb64b")+"\n"))+`"}`),
			base64.StdEncoding.EncodeToString([]byte(b64u(`{"alg":"none"}`)+"."+b64u(`{"sub":"x"}`)+".")),
			base64.StdEncoding.EncodeToString([]byte("eyJ"+rnd("jwtb64c", aURL, 40)+"."+rnd("jwtb64d", aURL, 40)+"."+rnd("jwtb64e", aURL, 40))),
			"ZXlK"+rnd("jwtb64f", aStd, 30), "x"+jwtWrapped))})

	// ---- Passwords in URIs -----------------------------------------------------------------
	pw := rnd("dbpw", a62, 12) + "!x"
	for _, d := range []struct{ name, family, desc string }{
		{"postgres-uri", "postgres", "Password in a PostgreSQL connection URI (postgres://, postgresql://, jdbc:postgresql://)"},
		{"mysql-uri", "mysql", "Password in a MySQL/MariaDB connection URI (mysql://, mariadb://)"},
		{"mongodb-uri", "mongodb", "Password in a MongoDB connection URI (mongodb://, mongodb+srv://)"},
		{"redis-uri", "redis", "Password in a Redis connection URI (redis://, rediss://)"},
		{"amqp-uri", "amqp", "Password in an AMQP broker URI (amqp://, amqps://)"},
	} {
		kw := map[string][]string{"postgres": {"postgres", "pgsql"}, "mysql": {"mysql", "mariadb"}}[d.family]
		if kw == nil {
			kw = []string{d.family}
		}
		scheme := map[string]string{"postgres": "postgresql", "mysql": "mysql", "mongodb": "mongodb+srv", "redis": "rediss", "amqp": "amqps"}[d.family]
		add(&dbURI{meta(d.name, critical, d.desc, kw, ex(
			m("DATABASE_URL="+scheme+"://app:"+pw+"@db.internal:5432/ledger", "connect with "+d.family+"://svc-ledger:"+rnd(d.name, a62, 16)+"@10.0.4.7/0."),
			d.family+"://user:password@localhost/db", d.family+"://"+d.family+":"+d.family+"@localhost", d.family+"://app:${DB_PASSWORD}@db:5432/x",
			d.family+"://db.internal:5432/ledger", d.family+"://app@db.internal/ledger")), d.family})
	}
	add(&urlAuth{meta("url-basic-auth", high, "Password in the user-info of a URL (https://user:pass@host, ftp://, ssh://, …); database schemes have their own detectors",
		m("://"), ex(
			m("git clone https://deploy:"+rnd("ub", a62, 14)+"@git.acme.internal/ledger.git", "proxy: http://svc:"+rnd("ub2", a62, 10)+"7@proxy.acme.internal:3128"),
			"https://user:pass@example.com", "https://admin:<password>@host", "https://example.com/path?x=1", "mailto:user@example.com",
			"http://user@host.internal/", "https://x-access-token:"+ghp+"@github.com/acme/x.git")), false})

	// ---- Headers and generic assignments (last: they defer to everything above) ------------
	add(&authHeader{meta("authorization-header", high, "Credential in an HTTP Authorization value: Basic user:password or a Bearer token (tokens with a known prefix are left to their detectors)",
		m("authorization", "bearer ", "basic "), ex(
			m("curl -H 'Authorization: Bearer "+rnd("bearer", a62, 40)+"' https://api.acme.internal",
				"Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("svc-ledger:"+rnd("basic", a62, 14)))),
			"Authorization: Bearer $TOKEN", "Authorization: Bearer "+jwtV, "the bearer of this letter", "Authorization: Basic dXNlcjpwYXNzd29yZA==",
			"basic idea", "Authorization: Bearer <token>"))})

	// The generic detectors defer to the context detectors above: a value with a context
	// detector's shape, near that detector's vendor word, is that detector's to report.
	add(forms()...) // command lines, Authorization schemes, Azure keys by name, test vectors (forms.go)
	var defers []deferral
	for _, d := range ds {
		switch d := d.(type) {
		case *ctxTok:
			defers = append(defers, deferral{d, d.m.Keywords})
		case *anyOf:
			for _, p := range d.parts {
				if c, ok := p.(*ctxTok); ok {
					defers = append(defers, deferral{c, d.m.Keywords})
				}
			}
		}
	}
	defers = append(defers, providerDeferral()) // values with a providers.go prefix
	// A Docker config's "auth": "<base64 user:password>" belongs to docker-config-auth.
	dockerLens := make([]int, 0, 400)
	for n := 8; n < 408; n++ {
		dockerLens = append(dockerLens, n)
	}
	defers = append(defers, deferral{&ctxTok{body: b64stdEq, lengths: dockerLens, maxDist: 600, need: DockerAuthOK}, []string{"auths"}})
	pwV := rnd("pw", a62, 10) + "#7"
	add(&assignment{meta("password-assignment", high, "Password assigned in code or configuration (password = \"…\", PASSWORD=…, <password>…</password>, WITH PASSWORD '…'), entropy- and placeholder-gated",
		m("password", "passwd", "passphrase", "pwd"), ex(
			m(`db_password = "`+pwV+`"`, "PGPASSWORD="+pwV, `{"password": "`+pwV+`"}`, "<password>"+pwV+"</password>",
				"ALTER USER ledger WITH PASSWORD '"+pwV+"';", "mysql --password "+pwV+" -h db", "smtp:\n  password: "+pwV+"\n"),
			`password = os.getenv("DB_PASSWORD")`, `password = "${DB_PASSWORD}"`, "password: changeme", "password = \"\"",
			"PASSWORD=<your-password>", "password_hash = \""+rnd("pwh", aHex, 64)+"\"", "the password is stored in vault",
			"Password: must be at least 8 characters", "password = get_password()", `"password": "********"`,
			"password = settings.DB_PASSWORD", "reset_password_url = https://acme.example/reset", "passwordless login", "cd $(pwd)",
			"password = "+ghBad("ghp_", "x", 30))), true, defers, false, false})
	secV := rnd("sec", a62, 24)
	add(&assignment{meta("secret-assignment", high, "Secret, token or API key assigned in code or configuration (api_key = \"…\", \"secret\": \"…\", TOKEN=…), entropy- and placeholder-gated",
		m("secret", "token", "api_key", "apikey", "api-key", "auth", "credential", "creds", "access_key", "accesskey", "private_key", "privatekey", "private-key"), ex(
			m(`api_key = "`+secV+`"`, `"client_secret": "`+secV+`"`, "AUTH_TOKEN="+secV, "x-api-key: "+secV, "const apiKey = '"+secV+"';",
				"SECRET_KEY_BASE="+rnd("skb", aHex, 64), `api_key = "`+withRun(rnd("secx", a62, 32), "XXXX")+`"`),
			"max_tokens = 4096", `api_key = "YOUR_API_KEY"`, "token = request.headers.get('X-Token')", `"secret": "`+"xxxxxxxxxxxxxxxx"+`"`,
			"tokenizer = AutoTokenizer.from_pretrained('bert-base-uncased')", "author = 'Jane Doe'", "token_url = https://auth.acme.example/token",
			"api_key = process.env.OPENAI_API_KEY", `SECRET_KEY = "SECRET_KEY"`, "the secret to good bread is time", "api_key_id = "+secV,
			"api_key = "+"sk-proj-"+"abc", `"token": "`+jwtV+`"`, "aws_secret_access_key = "+awsSecretV,
			`api_key = "`+rnd("secm", a62, 8)+strings.Repeat("x", 24)+`"`, `api_key = "`+rnd("secm2", a62, 20)+`xxxx"`,
			`api_key = "xxxx-xxxx-`+rnd("secm3", a62, 4)+`-xxxx"`)), false, defers, false, false})
	keyV, keyB := rnd("key", aLow+aNum, 32), rnd("keyb", a62, 24)+"7q"
	add(&assignment{meta("key-assignment", high, "Key assigned to a name that ends in \"key\" (atera_key: …, apiMaticKey := \"…\", API Key: …, Key=…, the key of a credentials block); sort, cache, primary, public, map and i18n keys are not, and a bare key needs a random value",
		m("key"), ex(
			m("atera_key: "+keyV, `apiMaticKey := "`+keyB+`"`, "apilayerkey: "+keyV, "API Key: "+keyB, "Key="+keyB,
				"artsy_key: "+keyB+" - artsy_id: "+rnd("keyid", a62, 20), "aylien key: "+keyV,
				"axonaut credentials{\n\tkey: "+keyV+"\n}", "<key>"+keyB+"</key>"),
			"key := m[k]", "for key in d:", "keyboard = "+keyB, "monkey = '"+keyB+"'", "key: value", "primary_key = True",
			"foreign_key = "+keyB, "key_id = "+keyB, "keyId: "+keyB, "key_name = "+keyB, "public_key = "+keyB,
			"publicKey: '"+keyB+"'", `{"key": "user_id"}`, `key: "settings.title"`, "cacheKey = "+keyB, "sortKey: "+keyB,
			"hotkey = "+keyB, "primaryKey: true", "keyCode = 13", "key = "+rnd("keyhex", aHex, 40),
			"key: "+uuidOf("keyu"), "key = crypto.randomBytes(32)", "api_key = "+keyV, "aws_key = "+keyB,
			"const key = `${prefix}:${id}`", "key: ${{ runner.os }}-node-${{ hashFiles('**/package-lock.json') }}")), false, defers, false, true})
	return ds
}
