package secrets

import (
	"encoding/base64"
	"regexp"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Providers beyond the core set: the prefixed formats gitleaks and trufflehog know that a
// prompt or a pasted config file may carry (AI vendors, observability, databases as a service,
// secret stores, infrastructure, CI and package registries, payments and messaging), and the
// few prefix-less ones that are worth reporting near their vendor's name. Each format is the
// vendor's: exact prefix, body alphabet and length; placeholders, masks and low-entropy
// bodies are rejected by the shared token gates.

// providerPrefixes are the token prefixes of this file's detectors (lower case). The generic
// assignment detectors should leave such values to them, as they do for ownedPrefixes;
// TestOwnedPrefixes accepts a prefix listed here.
var providerPrefixes = []string{
	"pplx-", "sk-or-v1-", "fw_", "sk_", "pcsk_", "phx_", "nrak-", "nrii-", "eyjrijoi", "glc_", "glsa_",
	"pscale_tkn_", "pscale_pw_", "pscale_oauth_", "sbp_", "sb_secret_", "napi_", "hvs.", "hvb.", "ops_eyj",
	"age-secret-key-1", "pul-", "fo1_", "fm1a_", "fm1r_", "fm2_", "nfp_", "rnd_", "tk-us-", "api-", "sha256~",
	"akcp", "cmvmd", "squ_", "sqp_", "sqa_", "bkua_", "rubygems_", "oy2", "clojars_", "shippo_live_",
	"shippo_test_", "duffel_live_", "duffel_test_", "ezak", "eztk", "eaab", "eaac", "eaag", "eaam", "rdme_",
	"pnu_", "ico-", "sm_pat_", "sm_aat_", "sm_sat_", "p8e-", "4b1d", "ltai", "fio-u-", "absk",
	"bedrock-api-key-", "tfp_", "cfk_", "cfut_", "cfat_", "gloas-", "glft-", "glimt-", "glagent-", "glsoat-",
	"glffct-", "dt0c0", "dt0s0", "dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit.", "pat.", "sat.",
	"dapi", "tskey-", "ccipat_", "sgp_", "pmak-", "xkeysib-", "xsmtpsib-", "flwseck", "sk.eyj", "tk.eyj",
	"dnkey-", "s-s4t2", "a3-", "_gitlab_session=",
}

var (
	providerPrefix = detectors.NewWordSet(providerPrefixes...)
	digits         = cs("0-9")
)

// providerOwned reports whether v begins with one of providerPrefixes (any case) or has the
// shape of one of the infix tokens (Terraform, Telegram, Mailchimp, MaxMind).
func providerOwned(v string) bool {
	if providerPrefix.Prefix(v) {
		return true
	}
	if strings.Contains(v, ".atlasv1.") || strings.HasSuffix(v, "_mmk") {
		return true
	}
	if i := strings.Index(v, ":AA"); i >= 8 && i <= 10 && allIn(v[:i], digits) {
		return true
	}
	i := strings.LastIndex(v, "-us")
	return i == 32 && allIn(v[:32], hexLower) && len(v) > 35 && allIn(v[35:], digits)
}

// providerDeferral makes the generic detectors leave a value with a providerPrefixes prefix to
// its detector, even when that detector rejects it, as they do for ownedPrefixes. It is a
// deferral with no vendor word (every text holds ""), any body and every plausible length.
func providerDeferral() deferral {
	var any charset
	for i := range any {
		any[i] = true
	}
	lengths := make([]int, 0, 400)
	for n := 8; n < 408; n++ {
		lengths = append(lengths, n)
	}
	return deferral{&ctxTok{body: &any, lengths: lengths, need: providerOwned}, []string{""}}
}

// ptok is a prefixed token with generated examples: a match in an assignment, and decoys cut
// short, masked with x's and glued to a word.
func ptok(name string, sev detectors.Severity, desc string, prefixes []string, body *charset, alpha string, lo, hi, n int) *token {
	p := prefixes[0]
	v := p + rnd(name, alpha, n)
	env := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	t := tok(name, sev, desc, prefixes, body, lo, hi, ex(
		m(env+"="+v, `"token": "`+p+rnd(name+"2", alpha, n)+`"`, "use "+prefixes[len(prefixes)-1]+rnd(name+"3", alpha, n)+", then retry"),
		p+rnd(name+"4", alpha, lo/2), p+strings.Repeat("x", n), "x"+v))
	t.entropy = 3.5
	if body == hexLower || body == hexAny {
		t.entropy = 3.0
	}
	return t
}

func providers() []detectors.Detector {
	var ds []detectors.Detector
	add := func(d ...detectors.Detector) { ds = append(ds, d...) }
	lowNum := aLow + aNum

	// ---- AI and LLM vendors ------------------------------------------------------------------
	add(ptok("perplexity-api-key", critical, "Perplexity API key (pplx- + 48)", m("pplx-"), alnum, a62, 40, 64, 48))
	add(ptok("openrouter-api-key", critical, "OpenRouter API key (sk-or-v1- + 64 hex)", m("sk-or-v1-"), hexLower, aHex, 64, 64, 64))
	t := ptok("elevenlabs-api-key", high, "ElevenLabs API key (sk_ + 48 hex)", m("sk_"), hexLower, aHex, 48, 48, 48)
	t.validate = func(v string) bool { return hexKey(v[3:]) }
	t.conf = 0.9
	add(t)
	t = ptok("fireworks-api-key", high, "Fireworks AI API key (fw_ + 24)", m("fw_"), alnum, a62, 24, 24, 24)
	t.validate = func(v string) bool { return strictAlnum(v[3:]) }
	t.conf = 0.85
	add(t)
	t = ptok("pinecone-api-key", critical, "Pinecone API key (pcsk_ + key ID + _ + secret)", m("pcsk_"), alnumU, a62, 50, 110, 70)
	// The examples need the '_' between key ID and secret.
	t.m.Examples.Match = m("PINECONE_API_KEY=pcsk_"+rnd("pc", a62, 5)+"_"+rnd("pc2", a62, 63), `Pinecone(api_key="pcsk_`+rnd("pc3", a62, 6)+"_"+rnd("pc4", a62, 63)+`")`)
	t.validate = func(v string) bool {
		i := strings.IndexByte(v[5:], '_')
		return i >= 4 && i <= 12 && strings.Count(v[5:], "_") == 1
	}
	add(t)
	add(&nearTok{m: meta("deepseek-api-key", high, "DeepSeek API key: sk- + 32 lower-case alphanumerics near the word DeepSeek",
		m("deepseek"), ex(
			m("DEEPSEEK_API_KEY=sk-"+rnd("ds", aHex, 32), `client = OpenAI(base_url="https://api.deepseek.com", api_key="sk-`+rnd("ds2", aHex, 32)+`")`),
			"DEEPSEEK_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "deepseek-chat model", "sk-"+rnd("ds3", aHex, 32)+" without a vendor")),
		prefix: "sk-", body: cs("a-z0-9"), length: 32, maxDist: 120, conf: 0.85, need: hexKey})
	add(&ctxTok{m: meta("together-api-key", high, "Together AI API key: 64 hex near TOGETHER_API_KEY or the word together",
		m("together_api_key", "together_key", "togetherai", "together.ai"), ex(
			m("TOGETHER_API_KEY="+rnd("tg", aHex, 64), `together.ai key: "`+rnd("tg2", aHex, 64)+`"`),
			"TOGETHER_API_KEY="+rnd("tg3", aHex, 40), "together.ai hosts models")),
		body: hexLower, lengths: []int{64}, maxDist: 80, need: hexKey, entropy: 3.0, conf: 0.8})
	add(&ctxTok{m: meta("assemblyai-api-key", high, "AssemblyAI API key: 32 lower-case alphanumerics near the word AssemblyAI",
		m("assemblyai", "assembly_ai"), ex(
			m("ASSEMBLYAI_API_KEY="+rnd("aai", aHex, 32), `assemblyai.settings.api_key = "`+rnd("aai2", aHex, 32)+`"`),
			"ASSEMBLYAI_API_KEY=<key>", "assemblyai transcript "+rnd("aai3", aNum, 32))),
		body: cs("a-z0-9"), lengths: []int{32}, maxDist: 80, need: hexKey, entropy: 3.0, conf: 0.8})
	add(&ctxTok{m: meta("deepgram-api-key", high, "Deepgram API key: 40 lower-case alphanumerics near the word Deepgram",
		m("deepgram"), ex(
			m("DEEPGRAM_API_KEY="+rnd("dg", aHex, 40), `deepgram = DeepgramClient("`+rnd("dg2", aHex, 40)+`")`),
			"DEEPGRAM_API_KEY="+rnd("dg3", aHex, 32), "deepgram nova-2 model")),
		body: cs("a-z0-9"), lengths: []int{40}, maxDist: 80, need: hexKey, entropy: 3.0, conf: 0.8})

	// ---- Observability and analytics -----------------------------------------------------------
	add(ptok("posthog-personal-api-key", high, "PostHog personal API key (phx_ + 43); project keys (phc_) are public", m("phx_"), alnumU, a62, 43, 43, 43))
	add(ptok("newrelic-user-api-key", critical, "New Relic user API key (NRAK- + 27)", m("NRAK-"), alnum, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27, 27, 27))
	add(ptok("newrelic-insert-key", high, "New Relic insert key (NRII- + 32)", m("NRII-"), b64url, aURL, 32, 32, 32))
	add(&anyOf{meta("grafana-token", critical, "Grafana API key (eyJrIjoi…), Grafana Cloud token (glc_) and service-account token (glsa_ + 32 + _ + 8 hex)",
		m("eyjrijoi", "glc_", "glsa_"), ex(
			m("GRAFANA_API_KEY=eyJrIjoi"+rnd("gf", a62, 80)+"=", "GRAFANA_CLOUD_TOKEN=glc_"+rnd("gf2", aStd, 120)+"==",
				"Authorization: Bearer glsa_"+rnd("gf3", a62, 32)+"_"+rnd("gf4", aHex, 8)),
			"glsa_"+rnd("gf5", a62, 32)+"_zzzzzzzz", "glc_"+rnd("gf6", aStd, 10), "eyJrIjoi"+rnd("gf7", a62, 20))),
		[]finder{
			&token{prefixes: m("eyJrIjoi"), body: b64stdEq, min: 70, max: 400, entropy: 4.0},
			&token{prefixes: m("glc_"), body: b64stdEq, min: 32, max: 400, entropy: 4.0},
			&token{prefixes: m("glsa_"), body: alnumU, min: 41, max: 41, entropy: 3.5, validate: func(v string) bool {
				b := v[5:]
				return b[32] == '_' && allIn(b[:32], alnum) && allIn(b[33:], hexAny)
			}},
		}})
	add(&rx{m: meta("dynatrace-api-token", critical, "Dynatrace API token (dt0c01.<24>.<64>, and the dt0s platform forms)", m("dt0c0", "dt0s0"), ex(
		m("DT_API_TOKEN=dt0c01."+rnd("dt", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 24)+"."+rnd("dt2", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 64)),
		"dt0c01.ABC.DEF", "dt0c01."+strings.Repeat("X", 24)+"."+strings.Repeat("X", 64))),
		expr: `dt0[cs]0[0-9]\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}`, window: 100, entropy: 3.5})
	add(&ctxTok{m: meta("honeycomb-api-key", high, "Honeycomb API key: 22 alphanumerics or 32 hex near the word Honeycomb",
		m("honeycomb"), ex(
			m("HONEYCOMB_API_KEY="+rnd("hc", a62, 22), "honeycomb write key: "+rnd("hc2", aHex, 32)),
			"HONEYCOMB_DATASET=ledger-api", "honeycomb trace "+rnd("hc3", aNum, 22))),
		body: alnum, lengths: []int{22, 32}, maxDist: 80, entropy: 3.3, conf: 0.75, need: func(v string) bool {
			if len(v) == 32 {
				return hexKey(v)
			}
			return strictAlnum(v)
		}})

	// ---- Databases as a service ------------------------------------------------------------
	add(ptok("planetscale-token", critical, "PlanetScale service token (pscale_tkn_), password (pscale_pw_) or OAuth token (pscale_oauth_)",
		m("pscale_tkn_", "pscale_pw_", "pscale_oauth_"), cs("A-Za-z0-9_=.-"), aURL, 32, 64, 43))
	add(ptok("supabase-token", critical, "Supabase management access token (sbp_ + 40 hex) and secret API key (sb_secret_)",
		m("sbp_"), hexLower, aHex, 40, 40, 40))
	add(ptok("supabase-secret-key", critical, "Supabase secret API key (sb_secret_); publishable keys (sb_publishable_) are public",
		m("sb_secret_"), b64url, aURL, 28, 64, 31))
	add(ptok("neon-api-key", critical, "Neon API key (napi_ + 64)", m("napi_"), alnum, lowNum, 64, 64, 64))

	// ---- Secret stores ---------------------------------------------------------------------
	add(ptok("vault-token", critical, "HashiCorp Vault service token (hvs.) or batch token (hvb.)", m("hvs.", "hvb."), b64url, aURL, 90, 300, 95))
	add(ptok("onepassword-service-account-token", critical, "1Password service-account token (ops_eyJ…, base64 JSON)", m("ops_eyJ"), b64stdEq, aStd, 250, 5000, 300))
	add(&rx{m: meta("onepassword-secret-key", critical, "1Password account Secret Key (A3-XXXXXX-…)", m("a3-"), ex(
		m("secret key: A3-"+rnd("op", "ABCDEFGHJKLMNPQRSTVWXYZ23456789", 6)+"-"+rnd("op2", "ABCDEFGHJKLMNPQRSTVWXYZ23456789", 11)+"-"+
			rnd("op3", "ABCDEFGHJKLMNPQRSTVWXYZ23456789", 5)+"-"+rnd("op4", "ABCDEFGHJKLMNPQRSTVWXYZ23456789", 5)+"-"+rnd("op5", "ABCDEFGHJKLMNPQRSTVWXYZ23456789", 5)),
		"A3-XXXXXX-XXXXXXXXXXX-XXXXX-XXXXX-XXXXX", "uuid 4f1a-a3-9b")),
		expr: `A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}`, window: 50, entropy: 3.0})
	add(&rx{m: meta("doppler-token", critical, "Doppler token (dp.pt. personal, dp.st. service, dp.ct. CLI, dp.sa., dp.scim., dp.audit.)",
		m("dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."), ex(
			m("DOPPLER_TOKEN=dp.pt."+rnd("dp", a62, 43), "dp.st.prd."+rnd("dp2", a62, 43)),
			"dp.pt."+rnd("dp3", a62, 20), "dp.pt.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
		expr: `dp\.(?:pt|ct|sa|scim|audit|st(?:\.[a-z0-9_-]{2,35})?)\.[A-Za-z0-9]{40,44}`, window: 100, entropy: 3.5})
	age := "AGE-SECRET-KEY-1" + rnd("age", "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
	t = tok("age-secret-key", critical, "age encryption secret key (AGE-SECRET-KEY-1 + 58 bech32)", m("AGE-SECRET-KEY-1"), cs("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), 58, 58, ex(
		m("# created: 2024-05-01\n"+age, "SOPS_AGE_KEY="+age), "AGE-SECRET-KEY-1"+rnd("age2", "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 30), "AGE-SECRET-KEY-1..."))
	t.entropy = 3.5
	add(t)

	// ---- Infrastructure ----------------------------------------------------------------------
	add(&infix{m: meta("terraform-cloud-token", critical, "Terraform Cloud / Enterprise API token (<14>.atlasv1.<60–70>)", m(".atlasv1."), ex(
		m("TFE_TOKEN="+rnd("tf", a62, 14)+".atlasv1."+rnd("tf2", aURL, 67), `token = "`+rnd("tf3", a62, 14)+".atlasv1."+rnd("tf4", a62, 67)+`"`),
		"x.atlasv1.y", rnd("tf5", a62, 14)+".atlasv1."+rnd("tf6", aURL, 30))),
		kw: ".atlasv1.", pre: alnum, preLen: 14, post: regexp.MustCompile(`^[A-Za-z0-9_=-]{60,70}`), tail: b64url, entropy: 4.0})
	// pul- + 40 hex as issued; lower-case alphanumerics are accepted too (trufflehog's samples).
	t = ptok("pulumi-access-token", critical, "Pulumi access token (pul- + 40 hex or lower-case alphanumerics)", m("pul-"), cs("a-z0-9"), aHex, 40, 40, 40)
	t.entropy = 3.0
	t.validate = func(v string) bool { return keyLike(v[4:]) }
	add(t)
	add(&anyOf{meta("flyio-token", critical, "Fly.io access token (fo1_ + 43) and macaroon tokens (fm1a_, fm1r_, fm2_)",
		m("fo1_", "fm1a_", "fm1r_", "fm2_"), ex(
			m("FLY_API_TOKEN=fo1_"+rnd("fly", aURL, 43), "FLY_API_TOKEN=FlyV1 fm2_"+rnd("fly2", aStd, 180)+"=="),
			"fo1_"+rnd("fly3", aURL, 20), "fm2_"+rnd("fly4", aStd, 40))),
		[]finder{
			&token{prefixes: m("fo1_"), body: b64url, min: 43, max: 43, entropy: 4.0},
			&token{prefixes: m("fm1a_", "fm1r_", "fm2_"), body: b64stdEq, min: 100, max: 8000, entropy: 4.0},
		}})
	add(ptok("netlify-token", critical, "Netlify personal access token (nfp_ + 36)", m("nfp_"), alnum, a62, 36, 40, 36))
	add(ptok("render-api-key", critical, "Render API key (rnd_ + 32)", m("rnd_"), alnum, a62, 32, 32, 32))
	add(&ctxTok{m: meta("vercel-token", high, "Vercel access token: 24 alphanumerics near the word Vercel",
		m("vercel"), ex(
			m("VERCEL_TOKEN="+rnd("vc", a62, 24), `vercel --token "`+rnd("vc2", a62, 24)+`"`),
			"VERCEL_ORG_ID=team_"+rnd("vc3", aLow, 24), "vercel deploy --prod")),
		body: alnum, lengths: []int{24}, maxDist: 60, need: strictAlnum, entropy: 3.8, conf: 0.75})
	add(&ctxTok{m: meta("railway-token", high, "Railway API or project token: a UUID near the word Railway",
		m("railway_token", "railway_api_token", "railway-token"), ex(
			m("RAILWAY_TOKEN="+uuidOf("rw"), "RAILWAY_API_TOKEN: "+uuidOf("rw2")),
			"RAILWAY_TOKEN=${{ secrets.RAILWAY_TOKEN }}", "railway_token = 00000000-0000-0000-0000-000000000000")),
		body: cs("0-9a-fA-F-"), lengths: []int{36}, maxDist: 60, need: isUUID, conf: 0.75})
	add(ptok("scalingo-api-token", high, "Scalingo API token (tk-us- + 48)", m("tk-us-"), b64url, aURL, 48, 48, 48))
	add(ptok("openshift-user-token", critical, "OpenShift user token (sha256~ + 43)", m("sha256~"), b64url, aURL, 43, 43, 43))
	add(&rx{m: meta("harness-api-key", critical, "Harness personal or service-account token (pat.|sat.<22>.<24>.<20>)", m("pat.", "sat."), ex(
		m("HARNESS_API_KEY=pat."+rnd("hn", aURL, 22)+"."+rnd("hn2", a62, 24)+"."+rnd("hn3", a62, 20)),
		"pat.x.y.z", "sat."+rnd("hn4", aURL, 22)+"."+rnd("hn5", a62, 10))),
		expr: `(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}`, window: 80, entropy: 3.5})
	add(&rx{m: meta("databricks-token", critical, "Databricks personal access token (dapi + 32 hex, optional -N)", m("dapi"), ex(
		m("DATABRICKS_TOKEN=dapi"+rnd("db", aHex, 32), "token: dapi"+rnd("db2", aHex, 32)+"-2"),
		"dapi"+rnd("db3", aHex, 20), "dapi"+strings.Repeat("0", 32))),
		expr: `dapi[a-f0-9]{32}(?:-[0-9])?`, window: 40, entropy: 3.0})
	add(&rx{m: meta("tailscale-key", critical, "Tailscale auth, API or OAuth client key (tskey-<kind>-<id>-<secret>)", m("tskey-"), ex(
		m("TS_AUTHKEY=tskey-auth-"+rnd("ts", a62, 12)+"CNTRL-"+rnd("ts2", a62, 33), "tskey-api-"+rnd("ts3", a62, 17)+"-"+rnd("ts4", a62, 33)),
		"tskey-auth-xxxxx", "tskey-abcdef")),
		expr: `tskey-[a-z]{3,10}-[0-9A-Za-z]{6,24}-[0-9A-Za-z]{20,64}`, window: 110, entropy: 3.5})

	// ---- CI, code quality and package registries --------------------------------------------
	// A GitLab web session: whoever holds the cookie is signed in as its user. GitLab writes 32
	// hex characters; other lower-case letters are accepted, the name says enough.
	add(ptok("gitlab-session-cookie", high, "GitLab session cookie (_gitlab_session= + 32 lower-case letters and digits)",
		m("_gitlab_session="), cs("0-9a-z"), aHex, 32, 32, 32))
	add(&anyOf{meta("jfrog-artifactory-token", critical, "JFrog Artifactory API key (AKCp + 69) or reference token (cmVmd + 59)",
		m("akcp", "cmvmd", "artifactory", "jfrog"), ex(
			m("ARTIFACTORY_API_KEY=AKCp"+rnd("af", a62, 69), "JFROG_ACCESS_TOKEN=cmVmd"+rnd("af2", a62, 59),
				`"artifactory", "`+rnd("af5", aLow+aNum, 64)+`"`, "jfrog_api_key: "+rnd("af6", aLow+aNum, 73)),
			"AKCp"+rnd("af3", a62, 30), "cmVmd"+rnd("af4", a62, 20), "artifactory sha256: "+rnd("af7", aHex, 64))),
		[]finder{
			&token{prefixes: m("AKCp"), body: alnum, min: 69, max: 69, entropy: 4.0},
			&token{prefixes: m("cmVmd"), body: alnum, min: 59, max: 59, entropy: 4.0, validate: func(v string) bool { return strictAlnum(v) }},
			// Identity tokens (64) and API keys (73) written without their prefix, after the
			// word Artifactory or JFrog; 64 hex is a digest, not a token.
			&ctxTok{body: alnum, lengths: []int{64, 73}, maxDist: 40, entropy: 4.0, conf: 0.7,
				need:        func(v string) bool { return keyLike(v) && !allIn(v, hexAny) },
				digestWords: []string{"sha", "checksum", "digest", "hash", "md5"},
				name:        func(n string) bool { return containsFold(n, "artifactory") || containsFold(n, "jfrog") }},
		}})
	add(ptok("sonarqube-token", high, "SonarQube/SonarCloud token (squ_ user, sqp_ project, sqa_ global analysis + 40 hex)", m("squ_", "sqp_", "sqa_"), hexLower, aHex, 40, 40, 40))
	add(ptok("buildkite-token", critical, "Buildkite API access token (bkua_ + 40 hex)", m("bkua_"), hexLower, aHex, 40, 40, 40))
	add(&rx{m: meta("circleci-token", critical, "CircleCI personal API token (CCIPAT_<22>_<40 hex>)", m("ccipat_"), ex(
		m("CIRCLE_TOKEN=CCIPAT_"+rnd("cc", a62, 22)+"_"+rnd("cc2", aHex, 40)), "CCIPAT_"+rnd("cc3", a62, 22)+"_"+rnd("cc4", aHex, 20))),
		expr: `CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}`, window: 80, entropy: 3.5})
	t = ptok("rubygems-api-key", critical, "RubyGems API key (rubygems_ + 48 hex or lower-case alphanumerics)", m("rubygems_"), cs("a-z0-9"), aHex, 48, 48, 48)
	t.entropy = 3.0
	t.validate = func(v string) bool { return keyLike(v[9:]) }
	add(t)
	add(ptok("nuget-api-key", critical, "NuGet.org API key (oy2 + 43 lower-case alphanumerics)", m("oy2"), cs("a-z0-9"), lowNum, 43, 43, 43))
	add(ptok("clojars-token", high, "Clojars deploy token (CLOJARS_ + 60)", m("CLOJARS_"), alnum, lowNum, 60, 60, 60))
	// Tokens from before the sgp_ prefix are 40 hex: taken after the word Sourcegraph (or
	// SRC_ACCESS_TOKEN), unless named a digest or commit.
	add(&anyOf{meta("sourcegraph-token", critical, "Sourcegraph access token (sgp_<16 hex|local>_<40 hex>, legacy sgp_<40 hex>, older 40 hex after Sourcegraph)", m("sgp_", "sourcegraph", "src_access_token"), ex(
		m("SRC_ACCESS_TOKEN=sgp_"+rnd("sg", aHex, 16)+"_"+rnd("sg2", aHex, 40), "sgp_local_"+rnd("sg3", aHex, 40), "sourcegraph: "+rnd("sg5", aHex, 40), "SRC_ACCESS_TOKEN="+rnd("sg6", aHex, 40)),
		"sgp_"+rnd("sg4", aHex, 20), "sgp_local_"+strings.Repeat("0", 40), "sourcegraph commit "+rnd("sg7", aHex, 40), "github.com/sourcegraph/sourcegraph@"+rnd("sg8", aHex, 40),
		"Sourcegraph 5.3 release: "+rnd("sg9", aHex, 40))),
		[]finder{
			&rx{expr: `sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}`, window: 80, entropy: 3.0},
			&ctxTok{body: hexAny, lengths: []int{40}, maxDist: 40, need: keyLike, entropy: 3.0, conf: 0.7, notAfter: "/@#",
				digestWords: []string{"sha", "checksum", "digest", "hash", "commit", "md5", "rev", "release", "version", "tag", "build"},
				name: func(n string) bool {
					return strings.EqualFold(strings.TrimRight(n, ":"), "sourcegraph") || containsFold(n, "src_access_token") || containsFold(n, "sourcegraph") && (containsFold(n, "token") || containsFold(n, "key"))
				}},
		}})
	add(ptok("readme-api-key", high, "ReadMe API key (rdme_ + 70)", m("rdme_"), cs("a-z0-9"), lowNum, 70, 70, 70))
	add(ptok("prefect-api-key", critical, "Prefect Cloud API key (pnu_ + 36)", m("pnu_"), alnum, a62, 36, 36, 36))
	add(ptok("infracost-api-key", high, "Infracost API key (ico- + 32)", m("ico-"), alnum, a62, 32, 32, 32))
	add(ptok("settlemint-token", high, "SettleMint personal, application or service access token (sm_pat_, sm_aat_, sm_sat_ + 16)", m("sm_pat_", "sm_aat_", "sm_sat_"), alnum, a62, 16, 16, 16))
	add(ptok("adobe-client-secret", high, "Adobe client secret (p8e- + 32)", m("p8e-"), alnum, a62, 32, 32, 32))
	t = ptok("clickhouse-cloud-secret", high, "ClickHouse Cloud API secret key (4b1d + 38)", m("4b1d"), alnum, a62, 38, 38, 38)
	t.validate = func(v string) bool { return strictAlnum(v[4:]) }
	add(t)
	// Some AccessKey IDs are lower-case hex after LTAI, whose entropy sits below the base62
	// gate: letters and digits both present is the test there.
	t = ptok("alibaba-access-key-id", high, "Alibaba Cloud AccessKey ID (LTAI + 12–20)", m("LTAI"), alnum, a62, 12, 24, 20)
	t.entropy = 3.0
	t.validate = func(v string) bool { return keyLike(v[4:]) }
	t.m.Examples.Match = append(t.m.Examples.Match, `alibabaKey := "LTAI`+rnd("ltai-hex", aHex, 20)+`"`)
	add(t)
	add(ptok("frameio-api-token", high, "Frame.io developer token (fio-u- + 64)", m("fio-u-"), cs("A-Za-z0-9_=-"), aURL, 64, 64, 64))
	// Older Typeform tokens carry 40 to 44 characters after tfp_, current ones 59.
	t = ptok("typeform-api-token", high, "Typeform personal access token (tfp_ + 40 to 64)", m("tfp_"), cs("A-Za-z0-9_=-"), aURL, 40, 64, 59)
	t.validate = func(v string) bool { return keyLike(v[4:]) }
	t.m.Examples.Match = append(t.m.Examples.Match, "typeform_token = 'tfp_"+rnd("tf-old", aHex, 40)+"'")
	add(t)
	// Amazon Bedrock's API keys: secret.aws-bedrock-api-key (cloud.go) reads their structure.

	// ---- Payments, commerce and messaging --------------------------------------------------
	add(&rx{m: meta("postman-api-key", high, "Postman API key (PMAK-<24 hex>-<34 hex>)", m("pmak-"), ex(
		m("POSTMAN_API_KEY=PMAK-"+rnd("pm", aHex, 24)+"-"+rnd("pm2", aHex, 34)), "PMAK-"+rnd("pm3", aHex, 24)+"-"+rnd("pm4", aHex, 10))),
		expr: `PMAK-(?:[a-fA-F0-9]{24}-[a-fA-F0-9]{34}|[A-Za-z0-9]{59})`, window: 70, entropy: 3.0})
	add(&rx{m: meta("brevo-api-key", high, "Brevo (Sendinblue) API key (xkeysib-) or SMTP key (xsmtpsib-): 64 hex, -, 16", m("xkeysib-", "xsmtpsib-"), ex(
		m("BREVO_API_KEY=xkeysib-"+rnd("br", aHex, 64)+"-"+rnd("br2", a62, 16)), "xkeysib-"+rnd("br3", aHex, 64))),
		// Brevo publishes only the prefix: 81 random key characters in another layout count too.
		expr: `x(?:keysib|smtpsib)-(?:[a-f0-9]{64}-[A-Za-z0-9]{16}|[A-Za-z0-9_-]{72,100})`, window: 120, entropy: 3.0})
	add(ptok("shippo-api-token", high, "Shippo API token (shippo_live_, shippo_test_ + 40 hex)", m("shippo_live_", "shippo_test_"), hexAny, aHex, 40, 40, 40))
	add(ptok("duffel-api-token", high, "Duffel API token (duffel_live_, duffel_test_ + 43)", m("duffel_live_", "duffel_test_"), cs("A-Za-z0-9_=-"), aURL, 43, 43, 43))
	add(ptok("easypost-api-key", high, "EasyPost API key (EZAK production, EZTK test + 54)", m("EZAK", "EZTK"), alnum, a62, 54, 54, 54))
	// The key body is hex-like in Flutterwave's dashboard, but keys with any lower-case
	// alphanumerics are in use; FLWSECK- … -X is specific enough to take them.
	add(&rx{m: meta("flutterwave-secret-key", critical, "Flutterwave secret key (FLWSECK-…-X, FLWSECK_TEST-…-X) or encryption key", m("flwseck"), ex(
		m("FLW_SECRET_KEY=FLWSECK-"+rnd("fw", "abcdef0123456789", 32)+"-X", "FLWSECK_TEST"+rnd("fw2", "abcdef0123456789", 12),
			`"flutterwave_secret": "FLWSECK-`+rnd("fw4", aLow+aNum, 32)+`-X"`),
		"FLWSECK-xxxx-X", "FLWPUBK-"+rnd("fw3", "abcdef0123456789", 32)+"-X")),
		expr: `FLWSECK(?:_TEST)?-(?:[a-hA-H0-9]{32}|[a-z0-9]{32})-X|FLWSECK_TEST-?[a-hA-H0-9]{12}`, window: 60, entropy: 3.0})
	// An app access token is <app ID>|<app secret or client token>: taken near the word
	// Facebook, since a digit run and a '|' are everywhere else.
	fbApp := regexp.MustCompile(`^[0-9]{15,16}\|[A-Za-z0-9_-]{27,40}$`)
	fbLens := make([]int, 0, 28)
	for n := 15 + 1 + 27; n <= 16+1+40; n++ {
		fbLens = append(fbLens, n)
	}
	t = ptok("facebook-access-token", high, "", m("EAAB", "EAAC", "EAAG", "EAAM"), alnum, a62, 100, 400, 180)
	t.entropy = 4.0
	add(&anyOf{meta("facebook-access-token", high, "Facebook / Meta Graph API access token (EAAB, EAAC, EAAG, EAAM + 100 or more) or app access token (<app ID>|<secret> near the word Facebook)",
		m("eaab", "eaac", "eaag", "eaam", "facebook"), ex(
			append(t.m.Examples.Match, "facebook "+rnd("fba", aNum, 16)+"|"+rnd("fba2", aURL, 27), `{"facebook_token": "`+rnd("fba3", aNum, 15)+"|"+rnd("fba4", aHex, 32)+`"}`),
			append(t.m.Examples.NoMatch, "facebook "+rnd("fba5", aNum, 16)+"|"+strings.Repeat("x", 27), "facebook page "+rnd("fba6", aNum, 16))...)),
		[]finder{t, &ctxTok{body: cs("0-9A-Za-z_|-"), lengths: fbLens, maxDist: 40, need: func(v string) bool {
			return fbApp.MatchString(v) && keyLike(v[strings.IndexByte(v, '|')+1:])
		}, entropy: 3.5, conf: 0.8, name: func(n string) bool { return containsFold(n, "facebook") }}}})
	// Bot tokens seen so far continue with AA after the bot ID, which is the keyword; Telegram
	// publishes only <bot id>:<35 characters>, so next to the word Telegram any secret that
	// starts with A is taken.
	tgShape := regexp.MustCompile(`^[0-9]{5,16}:A[A-Za-z0-9_-]{34}$`)
	tgLens := make([]int, 0, 12)
	for n := 5; n <= 16; n++ {
		tgLens = append(tgLens, n+36)
	}
	add(&anyOf{meta("telegram-bot-token", high, "Telegram Bot API token (<bot id>:AA + 33, or :A + 34 near the word Telegram)", m(":aa", "telegram"), ex(
		m("TELEGRAM_BOT_TOKEN="+rnd("tgb", aNum, 10)+":AA"+rnd("tgb2", aURL, 33), "bot"+rnd("tgb3", aNum, 9)+":AA"+rnd("tgb4", aURL, 33)+"/getMe",
			"telegram bot: "+rnd("tgb8", aNum, 8)+":A"+rnd("tgb9", aURL, 34)),
		rnd("tgb5", aNum, 10)+":AA"+rnd("tgb6", aURL, 10), "12:AA"+rnd("tgb7", aURL, 33), "telegram: "+rnd("tgb10", aNum, 8)+":B"+rnd("tgb11", aURL, 34))),
		[]finder{
			&infix{kw: ":AA", pre: cs("0-9"), preMin: 8, preLen: 10, post: regexp.MustCompile(`^[A-Za-z0-9_-]{33}`), tail: b64url, entropy: 4.0, botOK: true},
			&ctxTok{body: cs("0-9A-Za-z_:-"), lengths: tgLens, maxDist: 40, need: tgShape.MatchString, entropy: 4.0, conf: 0.8,
				name: func(n string) bool { return containsFold(n, "telegram") }},
		}})
	add(&infix{m: meta("maxmind-license-key", high, "MaxMind license key (<6>_<29>_mmk)", m("_mmk"), ex(
		m("MAXMIND_LICENSE_KEY="+rnd("mm", a62, 6)+"_"+rnd("mm2", a62, 29)+"_mmk"), "abc_def_mmk", rnd("mm3", a62, 6)+"_"+rnd("mm4", a62, 10)+"_mmk")),
		kw: "_mmk", pre: alnumU, preLen: 36, post: regexp.MustCompile(`^`), tail: alnumU, entropy: 3.5, preCheck: func(v string) bool {
			return v[6] == '_' && allIn(v[:6], alnum) && allIn(v[7:], alnum)
		}})
	add(&rx{m: meta("mapbox-secret-token", high, "Mapbox secret (sk.eyJ…) or temporary (tk.eyJ…) access token; public pk. tokens are not reported", m("sk.eyj", "tk.eyj"), ex(
		m("MAPBOX_SECRET_TOKEN=sk.eyJ1IjoiYWNtZSIsImEiOiJ"+rnd("mb", a62, 20)+"."+rnd("mb2", aURL, 22)),
		"pk.eyJ1IjoiYWNtZSIsImEiOiJ"+rnd("mb3", a62, 20)+"."+rnd("mb4", aURL, 22), "sk.eyJ1Ijoi.x")),
		expr: `[st]k\.eyJ[A-Za-z0-9_-]{20,200}\.[A-Za-z0-9_-]{20,30}`, window: 260, entropy: 3.5})
	add(&rx{m: meta("defined-networking-token", high, "Defined Networking (Nebula) API token (dnkey-<26>-<52>)", m("dnkey-"), ex(
		m("DN_API_KEY=dnkey-"+rnd("dn", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 26)+"-"+rnd("dn2", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 52)), "dnkey-abc-def")),
		expr: `dnkey-[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52}`, window: 90, entropy: 3.5})
	add(&rx{m: meta("intra42-client-secret", high, "42 Intra API client secret (s-s4t2ud-, s-s4t2af- + 64 hex)", m("s-s4t2ud-", "s-s4t2af-"), ex(
		m("FT_SECRET=s-s4t2ud-"+rnd("ft", aHex, 64)), "s-s4t2ud-"+rnd("ft2", aHex, 30))),
		expr: `s-s4t2(?:ud|af)-[a-fA-F0-9]{64}`, window: 80, entropy: 3.0})

	// ---- Context-anchored formats --------------------------------------------------------------
	// Their distinctive part (Mailchimp's -us<dc>, Octopus' API-, Airtable's pat…) is a short,
	// common string in prose and code: as a keyword it would run the detector at most hits. The
	// vendor's name is the anchor instead, as gitleaks and trufflehog anchor them.
	add(&ctxTok{m: meta("mailchimp-api-key", high, "Mailchimp API key: 32 hex, -us and the data centre number, near the word Mailchimp",
		m("mailchimp", "mc_api_key"), ex(
			m("MAILCHIMP_API_KEY="+rnd("mc", aHex, 32)+"-us21", `mailchimp.setConfig({ apiKey: "`+rnd("mc2", aHex, 32)+`-us6" })`),
			"MAILCHIMP_API_KEY="+rnd("mc3", aHex, 32), "MAILCHIMP_SERVER_PREFIX=us21", "mailchimp key "+strings.Repeat("0", 32)+"-us1")),
		body: cs("0-9a-fus-"), lengths: []int{35, 36, 37}, maxDist: 80, entropy: 3.0, conf: 0.85, need: func(v string) bool {
			return hexKey(v[:32]) && v[32:35] == "-us" && allIn(v[35:], digits) && len(v) > 35
		}})
	// API- then 26 upper-case letters and digits is Octopus' alone: taken without the word
	// too, at a lower confidence.
	octoNeed := func(v string) bool {
		l, u, d, _ := classes(v[4:])
		return strings.HasPrefix(v, "API-") && !l && u && d
	}
	add(&anyOf{meta("octopus-deploy-api-key", high, "Octopus Deploy API key: API- and 26 upper-case alphanumerics (surer near the word Octopus)",
		m("octopus", "api-"), ex(
			m("OCTOPUS_API_KEY=API-"+rnd("oc", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 26), `octopus_api_token = "API-`+rnd("oc2", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 26)+`"`,
				`set apikey="API-`+rnd("oc4", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 26)+`"`),
			"OCTOPUS_API_KEY=API-XXXXXXXXXXXXXXXXXXXXXXXXXX", "octopus docs: https://example.notion.site/API-"+rnd("oc3", aHexU, 32),
			"X-API-KEY: "+rnd("oc5", aHexU, 26), "API-GATEWAYINTEGRATIONTESTSUITE", "see https://tickets.example.com/API-01HZX3K5V7Q8R9S0T1U2V3W4X5")),
		[]finder{
			&ctxTok{body: cs("A-Z0-9-"), lengths: []int{30}, maxDist: 80, entropy: 3.0, conf: 0.85, notAfter: "/", need: octoNeed,
				name: func(n string) bool { return containsFold(n, "octopus") }},
			&token{prefixes: m("API-"), body: cs("A-Z0-9"), min: 26, max: 26, entropy: 3.5, conf: 0.6, validate: octoNeed, notAfter: "/-#?=&"},
		}})
	add(&ctxTok{m: meta("airtable-personal-access-token", critical, "Airtable personal access token (pat + 14, '.', 64 hex) near the word Airtable",
		m("airtable"), ex(
			m("AIRTABLE_TOKEN=pat"+rnd("at", a62, 14)+"."+rnd("at2", aHex, 64), `airtable token = 'pat`+rnd("at3", a62, 14)+"."+rnd("at4", aHex, 64)+`'`),
			"AIRTABLE_TOKEN=pat"+rnd("at5", a62, 14)+"."+strings.Repeat("0", 64), "airtable pattern."+rnd("at6", aHex, 64))),
		body: cs("A-Za-z0-9."), lengths: []int{82}, maxDist: 80, entropy: 3.5, conf: 0.9, need: func(v string) bool {
			return strings.HasPrefix(v, "pat") && v[17] == '.' && allIn(v[3:17], alnum) && hexKey(v[18:])
		}})
	// Twitter (X) API credentials have no prefix but fixed lengths: consumer key 25, consumer
	// secret 50, access-token secret 45, access token <user id>-<alphanumerics>; the app bearer
	// token starts with a run of A's (its zero-padded header) and is reported anywhere.
	bearerLens := make([]int, 0, 51)
	for n := 80; n <= 130; n++ {
		bearerLens = append(bearerLens, n)
	}
	add(&anyOf{meta("twitter-api-credential", high, "Twitter (X) API key, secret, access token and app bearer token (AAAA…) near the word Twitter",
		m("twitter"), ex(
			m("TWITTER_CONSUMER_KEY="+rnd("tw", a62, 25), `twitter_api_secret: "`+rnd("tw2", a62, 50)+`"`,
				"TWITTER_ACCESS_TOKEN="+rnd("tw3", aNum, 18)+"-"+rnd("tw4", a62, 40), "TWITTER_BEARER_TOKEN="+strings.Repeat("A", 22)+rnd("tw5", a62, 90)),
			"twitter handle @acme_support", "TWITTER_ACCESS_TOKEN=<token>", strings.Repeat("A", 60), "twitter status "+rnd("tw6", aNum, 19),
			"Authorization: Bearer "+strings.Repeat("A", 22)+rnd("tw7", a62, 90))),
		[]finder{
			&ctxTok{body: alnum, lengths: []int{25, 45, 50}, maxDist: 60, need: keyLike, entropy: 3.5, conf: 0.75, notAfter: "/+"},
			&ctxTok{body: cs("A-Za-z0-9-"), lengths: []int{30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62},
				maxDist: 60, entropy: 3.5, conf: 0.75, need: func(v string) bool {
					i := strings.IndexByte(v, '-')
					return i >= 5 && i <= 20 && allIn(v[:i], digits) && len(v)-i-1 >= 20 && allIn(v[i+1:], alnum) && keyLike(v[i+1:])
				}},
			// A run of A's also opens base64 of binary data (certificates, executables): the
			// bearer token is reported only near the word too.
			&ctxTok{body: cs("A-Za-z0-9%"), lengths: bearerLens, maxDist: 60, entropy: 3.0, conf: 0.8, notAfter: "/+", pad: 'A', need: func(v string) bool {
				b := strings.TrimLeft(v, "A")
				return len(v)-len(b) >= 21 && len(b) >= 60 && mixedAlnum(strings.ReplaceAll(b, "%", ""))
			}},
		}})
	add(&ctxTok{m: meta("fastly-api-token", high, "Fastly API token: 32 base64url characters near the word Fastly",
		m("fastly"), ex(
			m("FASTLY_API_TOKEN="+rnd("fy", aURL, 32), `const fastlyKey string = "`+rnd("fy2", a62, 32)+`"`),
			"FASTLY_API_TOKEN=$FASTLY_KEY", `const fastlyKeyHeader = "Fastly-Key"`, "fastly service "+rnd("fy3", aLow, 32))),
		body: b64url, lengths: []int{32}, maxDist: 60, need: keyLike, entropy: 3.8, conf: 0.75})
	// A Sumo Logic access ID is "su" and 12 alphanumerics, its key 64; both are credentials
	// (the ID names the key the way an AWS access key ID does). "sumo" also ends words in
	// other languages (consumo, resumo): the shapes keep those out.
	add(&ctxTok{m: meta("sumologic-access-key", high, "Sumo Logic access ID (su + 12) or access key (64 alphanumerics) near the word Sumo",
		m("sumo"), ex(
			m("SUMO_ACCESS_ID = \"su"+rnd("sumo", a62, 12)+"\"", "sumoKey1 = '"+rnd("sumo2", a62, 64)+"'", "export SUMOLOGIC_ACCESSKEY="+rnd("sumo3", a62, 64)),
			"SUMO_ACCESS_ID = \"su"+rnd("sumo4", aLow, 12)+"\"", "o consumo de "+rnd("sumo5", aNum, 14), "sumo wrestling "+rnd("sumo6", aLow, 64),
			"sumOfExposures = "+rnd("sumo7", a62, 64)+";", "sumObj = su"+rnd("sumo8", a62, 12))),
		// sumo, Sumo or SUMO as a word of its own or in SumoLogic — not sumOfExposures, sumObj.
		name: func(n string) bool {
			if len(n) < 4 || n[:4] != "sumo" && n[:4] != "Sumo" && n[:4] != "SUMO" {
				return false
			}
			return len(n) == 4 || !(n[4] >= 'a' && n[4] <= 'z') || strings.HasPrefix(strings.ToLower(n[4:]), "logic")
		},
		body: alnum, lengths: []int{14, 64}, maxDist: 40, entropy: 3.0, conf: 0.75, need: func(v string) bool {
			if len(v) == 14 {
				return v[:2] == "su" && mixedAlnum(v[2:])
			}
			return mixedAlnum(v) && detectors.Entropy(v) >= 4.5
		}})
	add(&ctxTok{m: meta("asana-client-secret", high, "Asana client secret: 32 alphanumerics near the word Asana",
		m("asana"), ex(
			m("ASANA_CLIENT_SECRET="+rnd("as", aLow+aNum, 32), `asana: { secret: "`+rnd("as2", a62, 32)+`" }`),
			"ASANA_CLIENT_SECRET=<secret>", "asana task "+rnd("as3", aNum, 16), "asana project "+rnd("as4", aLow, 32))),
		body: alnum, lengths: []int{32}, maxDist: 60, need: keyLike, entropy: 3.8, conf: 0.75})
	add(&ctxTok{m: meta("messagebird-api-key", high, "MessageBird (Bird) API access key: 25 alphanumerics near the word MessageBird",
		m("messagebird", "message_bird", "message-bird"), ex(
			m("MESSAGEBIRD_API_KEY="+rnd("mb", aLow+aNum, 25), `messagebird.initClient("`+rnd("mb2", a62, 25)+`")`),
			"MESSAGEBIRD_API_KEY=<access key>", "messagebird originator "+rnd("mb3", aNum, 25))),
		body: alnum, lengths: []int{25}, maxDist: 60, need: keyLike, entropy: 3.5, conf: 0.75})
	// A bot token is three base64url segments: the bot's user ID, a timestamp, an HMAC.
	add(&ctxTok{m: meta("discord-bot-token", critical, "Discord bot token (<24–26>.<6>.<27–38>, base64url) near the word Discord",
		m("discord"), ex(
			m("DISCORD_BOT_TOKEN="+rnd("dbt", a62, 24)+"."+rnd("dbt2", aURL, 6)+"."+rnd("dbt3", aURL, 27), `discord_secret: "`+rnd("dbt4", a62, 26)+"."+rnd("dbt5", aURL, 6)+"."+rnd("dbt6", aURL, 38)+`"`),
			"DISCORD_BOT_TOKEN=<bot token>", "discord.py 2.3.2", "discord "+rnd("dbt7", a62, 24)+"."+rnd("dbt8", aURL, 6))),
		body: cs("A-Za-z0-9_.-"), lengths: []int{59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72}, maxDist: 60, entropy: 4.0, conf: 0.85,
		need: func(v string) bool {
			i := strings.IndexByte(v, '.')
			j := strings.LastIndexByte(v, '.')
			return i >= 24 && i <= 26 && j == i+7 && len(v)-j-1 >= 27 && len(v)-j-1 <= 38 && allIn(v[:i], alnum) && mixedAlnum(v[:i])
		}})
	dockerAuthEx := func(seed string) string {
		return base64.StdEncoding.EncodeToString([]byte("ci-" + rnd(seed, aLow, 6) + ":" + rnd(seed+"p", a62, 20)))
	}
	add(&dockerAuth{meta("docker-config-auth", high, "Docker client config credential: base64 user:password under \"auths\" (config.json, .dockerconfigjson, DOCKER_AUTH_CONFIG)",
		m("auths"), ex(
			m(`{"auths": {"registry.example.com": {"auth": "`+dockerAuthEx("da")+`"}}}`,
				`DOCKER_AUTH_CONFIG={\"auths\":{\"ghcr.io\":{\"auth\":\"`+dockerAuthEx("da2")+`\"}}}`),
			`{"auths": {"registry.example.com": {"auth": "`+base64.StdEncoding.EncodeToString([]byte("user:<password>"))+`"}}}`,
			`{"auths": {"registry.example.com": {"auth": "`+base64.StdEncoding.EncodeToString([]byte(rnd("da3", a62, 24)))+`"}}}`,
			`{"auths": {"registry.example.com": {}}, "credsStore": "desktop"}`))})
	add(&rx{m: meta("discord-webhook-url", high, "Discord webhook URL (discord.com/api/webhooks/<id>/<68-character token>)",
		m("discord.com/api/webhooks/", "discordapp.com/api/webhooks/"), ex(
			m("DISCORD_WEBHOOK=https://discord.com/api/webhooks/"+rnd("dw", aNum, 18)+"/"+rnd("dw2", aURL, 68),
				`hook: "https://discordapp.com/api/webhooks/`+rnd("dw3", aNum, 19)+"/"+rnd("dw4", aURL, 68)+`"`),
			"https://discord.com/api/webhooks/"+rnd("dw5", aNum, 18)+"/"+strings.Repeat("x", 68), "https://discord.com/api/webhooks/{id}/{token}")),
		expr: `discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,80}`, window: 140, tail: b64url, entropy: 3.5})
	return ds
}

func uuidOf(seed string) string {
	h := rnd(seed, aHex, 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + h[16:20] + "-" + h[20:]
}

// ---------------------------------------------------------------------------------------
// nearTok: a token with a generic prefix (DeepSeek's sk-) reported only within maxDist bytes
// after its vendor's name.

type nearTok struct {
	m       detectors.Meta
	prefix  string
	body    *charset
	length  int
	maxDist int
	conf    float64
	need    func(body string) bool
}

var _ detectors.Detector = (*nearTok)(nil)

func (n *nearTok) Meta() detectors.Meta { return n.m }

func (n *nearTok) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h < 0 || h >= len(text) {
			continue
		}
		lim := min(len(text), h+n.maxDist)
		for i := h; i < lim; {
			k := strings.Index(text[i:lim], n.prefix)
			if k < 0 {
				break
			}
			s := i + k
			b := s + len(n.prefix)
			j := b
			for j < len(text) && j-b <= n.length && n.body[text[j]] {
				j++
			}
			if leftOK(text, s) && j-b == n.length && rightOK(text, j, n.body) && !placeholder(text[b:j]) && (n.need == nil || n.need(text[b:j])) {
				emit(detectors.Match{Start: s, End: j, Confidence: confOr1(n.conf)})
				last = j
				break
			}
			i = b
		}
	}
}

// ---------------------------------------------------------------------------------------
// infix: a token whose distinctive part is inside or at its end (Terraform's .atlasv1.,
// Telegram's :AA, Mailchimp's -us<dc>, MaxMind's _mmk): the keyword is the anchor, a run of
// pre bytes before it and the post expression after it complete the token.

type infix struct {
	m        detectors.Meta
	kw       string // exact case at the hit
	pre      *charset
	preMin   int // 0 = preLen
	preLen   int // most pre bytes (exactly this many when preMin is 0)
	post     *regexp.Regexp
	tail     *charset // bytes that may not follow the token
	entropy  float64
	preCheck func(pre string) bool
	botOK    bool // a "bot" right before the pre run is part of a URL path (api.telegram.org/bot<token>)
}

var _ detectors.Detector = (*infix)(nil)

func (x *infix) Meta() detectors.Meta { return x.m }

func (x *infix) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	lo := x.preMin
	if lo == 0 {
		lo = x.preLen
	}
	for _, h := range hits {
		if h < last || h < 0 || h >= len(text) || !strings.HasPrefix(text[h:], x.kw) {
			continue
		}
		s := h
		for s > 0 && h-s <= x.preLen && x.pre[text[s-1]] {
			s--
		}
		if n := h - s; n < lo || n > x.preLen {
			continue
		}
		if !leftOK(text, s) && !(x.botOK && s >= 3 && text[s-3:s] == "bot") {
			continue
		}
		a := h + len(x.kw)
		loc := x.post.FindStringIndex(text[a:min(len(text), a+128)])
		if loc == nil {
			continue
		}
		e := a + loc[1]
		if e < len(text) && (x.tail[text[e]] || isWord(text[e])) {
			continue
		}
		v := text[s:e]
		if placeholder(text[s:h]) || x.entropy > 0 && detectors.Entropy(v) < x.entropy || x.preCheck != nil && !x.preCheck(text[s:h]) {
			continue
		}
		emit(detectors.Match{Start: s, End: e, Confidence: 0.9})
		last = e
	}
}
