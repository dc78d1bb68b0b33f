package corpusgen

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Detector IDs the labels name. They follow the built-in detectors' IDs; a finding of another
// detector of the same class on a labelled span is not a false positive (see the quality test).
const (
	idAWSKeyID        = "secret.aws-access-key-id"
	idAWSSecret       = "secret.aws-secret-access-key"
	idAWSSession      = "secret.aws-session-token"
	idGitHubClassic   = "secret.github-pat"
	idGitHubFine      = "secret.github-fine-grained-pat"
	idGitHubOAuth     = "secret.github-oauth-token"
	idGitHubU2S       = "secret.github-user-to-server-token"
	idGitHubS2S       = "secret.github-server-to-server-token"
	idGitHubRefresh   = "secret.github-refresh-token"
	idGitLab          = "secret.gitlab-pat"
	idGitLabRunner    = "secret.gitlab-ci-token"
	idOpenAIProject   = "secret.openai-project-key"
	idOpenAISvcAcct   = "secret.openai-service-account-key"
	idOpenAIAdmin     = "secret.openai-admin-key"
	idOpenAILegacy    = "secret.openai-legacy-key"
	idAnthropic       = "secret.anthropic-api-key"
	idAnthropicAdmin  = "secret.anthropic-admin-key"
	idGoogleAPI       = "secret.google-api-key"
	idGoogleOAuth     = "secret.google-oauth-client-secret"
	idGCPSA           = "secret.gcp-service-account-key"
	idSlackBot        = "secret.slack-bot-token"
	idSlackUser       = "secret.slack-user-token"
	idSlackApp        = "secret.slack-app-token"
	idSlackWebhook    = "secret.slack-webhook-url"
	idStripe          = "secret.stripe-secret-key"
	idStripeRK        = "secret.stripe-restricted-key"
	idSendGrid        = "secret.sendgrid-api-key"
	idNPM             = "secret.npm-token"
	idPyPI            = "secret.pypi-token"
	idHF              = "secret.huggingface-token"
	idGroq            = "secret.groq-api-key"
	idXAI             = "secret.xai-api-key"
	idMistral         = "secret.mistral-api-key"
	idCohere          = "secret.cohere-api-key"
	idReplicate       = "secret.replicate-api-token"
	idDocker          = "secret.dockerhub-token"
	idShopify         = "secret.shopify-token"
	idShopifyShared   = "secret.shopify-shared-secret"
	idDOPAT           = "secret.digitalocean-pat"
	idDOOAuth         = "secret.digitalocean-oauth-token"
	idLinear          = "secret.linear-api-key"
	idSlackConfig     = "secret.slack-config-token"
	idGitLabOther     = "secret.gitlab-token"
	idVault           = "secret.vault-token"
	idDoppler         = "secret.doppler-token"
	idPostHog         = "secret.posthog-personal-api-key"
	idNewRelic        = "secret.newrelic-user-api-key"
	idSupabase        = "secret.supabase-token"
	idPulumi          = "secret.pulumi-access-token"
	idGrafana         = "secret.grafana-token"
	idPlanetScale     = "secret.planetscale-token"
	idNotion          = "secret.notion-token"
	idSentryDSN       = "secret.sentry-dsn"
	idSentryToken     = "secret.sentry-auth-token"
	idMailgun         = "secret.mailgun-api-key"
	idTwilio          = "secret.twilio-api-key"
	idTwilioAuth      = "secret.twilio-auth-token"
	idDatadogAPI      = "secret.datadog-api-key"
	idDatadogApp      = "secret.datadog-app-key"
	idCloudflareToken = "secret.cloudflare-api-token"
	idCloudflareCA    = "secret.cloudflare-origin-ca-key"
	idAzureConn       = "secret.azure-storage-account-key"
	idAzureSAS        = "secret.azure-sas-token"
	idAzureAD         = "secret.azure-ad-client-secret"
	idSquare          = "secret.square-access-token"
	idSquareOAuth     = "secret.square-oauth-secret"
	idBraintree       = "secret.braintree-access-token"
	idPrivateKey      = "secret.private-key"
	idPGPKey          = "secret.pgp-private-key"
	idJWT             = "secret.jwt"
	idPostgresURI     = "secret.postgres-uri"
	idMySQLURI        = "secret.mysql-uri"
	idMongoURI        = "secret.mongodb-uri"
	idRedisURI        = "secret.redis-uri"
	idAMQPURI         = "secret.amqp-uri"
	idURLBasicAuth    = "secret.url-basic-auth"
	idAuthHeader      = "secret.authorization-header"
	idPasswordAssign  = "secret.password-assignment"
	idSecretAssign    = "secret.secret-assignment"

	idEmail         = "pii.email"
	idPhone         = "pii.phone"
	idCard          = "pii.card"
	idIBAN          = "pii.iban"
	idSSN           = "pii.ssn"
	idNINO          = "pii.nino"
	idNIR           = "pii.fr-nir"
	idSteuerID      = "pii.de-steuer-id"
	idDNI           = "pii.es-dni"
	idCodiceFiscale = "pii.it-codice-fiscale"
	idBSN           = "pii.nl-bsn"
	idPESEL         = "pii.pl-pesel"
	idBENational    = "pii.be-national-number"
	idPersonnummer  = "pii.se-personnummer"
	idPassport      = "pii.passport"
	idPrivateIP     = "infra.private-ip"
	idInternalHost  = "infra.internal-hostname"

	idMarker             = "marker.classification"
	idMarkerLegal        = "marker.legal-privilege"
	idMarkerTradeSecret  = "marker.trade-secret"
	idMarkerDistribution = "marker.distribution"
	idMarkerNDA          = "marker.nda"
	idCode               = "code.source"
)

// item is one planted value: a positive (id set) or a decoy (decoy set), with the names a
// document uses to introduce it.
type item struct {
	id, decoy string
	name      string // variable, key or column name: AWS_SECRET_ACCESS_KEY
	what      string // how prose names it: "AWS secret key"
	value     string
	extra     []span // further labels inside value, relative to it
	multiline bool
	next      *item // emitted right after this one, in the same style (a key and its secret)
	noAssign  bool  // only in prose, tables and logs (national IDs are not config values)
	needsKey  bool  // shapeless values (passwords, AWS secret keys): always written as name=value
	// prose: a needsKey value that prose may also introduce by what it is, before it ("the AWS
	// secret key is …"), instead of name=value.
	prose bool
	// dataOK: a needsKey value whose detector also reads it base64-encoded after its name, so a
	// Kubernetes Secret may hold it under data: (otherwise it goes to stringData).
	dataOK bool
	pii    bool
}

// bearerOK: the value may be shown as a bearer credential. Look-alikes other than placeholders
// may not: an opaque ID sent as "Authorization: Bearer …" is a credential after all.
func (it item) bearerOK() bool {
	return it.decoy == "" || it.decoy == "placeholder" || it.decoy == "aws-documentation-key"
}

// mapValue rewrites the value with f, a per-character rewriting (escaping, indenting) that may
// be applied piece by piece, keeping the labels inside the value on their bytes.
func (it item) mapValue(f func(string) string) item {
	cuts := []int{0, len(it.value)}
	for _, s := range it.extra {
		cuts = append(cuts, s.start, s.end)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	at := map[int]int{}
	var b strings.Builder
	for i, c := range cuts {
		at[c] = b.Len()
		if i+1 < len(cuts) {
			b.WriteString(f(it.value[c:cuts[i+1]]))
		}
	}
	out := it
	out.value = b.String()
	out.extra = nil
	for _, s := range it.extra {
		out.extra = append(out.extra, span{start: at[s.start], end: at[s.end], id: s.id, decoy: s.decoy})
	}
	return out
}

type span struct {
	start, end int
	id, decoy  string
}

// itemKind generates items of one label.
type itemKind struct {
	label  string // detector ID or decoy name
	decoy  bool
	pii    bool
	gen    func(g *Generator) item
	weight int // relative frequency; 0 means 1
}

func pos(id, name, what, v string) item { return item{id: id, name: name, what: what, value: v} }
func dec(kind, name, what, v string) item {
	return item{decoy: kind, name: name, what: what, value: v}
}

var secretKinds = []itemKind{
	{label: idAWSKeyID, gen: func(g *Generator) item {
		p := "AKIA"
		if g.chance(0.15) {
			p = "ASIA"
		}
		return pos(idAWSKeyID, "AWS_ACCESS_KEY_ID", "AWS access key", p+g.str(base32, 16))
	}},
	{label: idAWSSecret, gen: func(g *Generator) item {
		id := pos(idAWSKeyID, "aws_access_key_id", "AWS access key id", "AKIA"+g.str(base32, 16))
		s := pos(idAWSSecret, "aws_secret_access_key", "AWS secret access key", g.str(b64chars, 40))
		s.needsKey = true
		if g.chance(0.5) {
			id.name, s.name = "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"
		}
		id.next = &s
		return id
	}},
	{label: idAWSSession, gen: func(g *Generator) item {
		id := pos(idAWSKeyID, "AWS_ACCESS_KEY_ID", "AWS access key id", "ASIA"+g.str(base32, 16))
		s := pos(idAWSSecret, "AWS_SECRET_ACCESS_KEY", "AWS secret access key", g.str(b64chars, 40))
		s.needsKey = true
		// Session tokens are base64 of a binary blob that starts with the same bytes.
		st := pos(idAWSSession, "AWS_SESSION_TOKEN", "AWS session token", g.stsToken())
		s.next = &st
		id.next = &s
		return id
	}},
	{label: idGitHubClassic, weight: 2, gen: func(g *Generator) item {
		return pos(idGitHubClassic, "GITHUB_TOKEN", "GitHub personal access token", g.checksummedToken("ghp_", 36))
	}},
	{label: idGitHubFine, gen: func(g *Generator) item {
		v := "github_pat_11" + g.str(upper+digits, 8) + "0" + g.str(base62, 11) + "_" + g.str(base62, 59)
		return pos(idGitHubFine, "GH_TOKEN", "fine-grained GitHub token", v)
	}},
	{label: idGitHubOAuth, gen: func(g *Generator) item {
		return pos(idGitHubOAuth, "GITHUB_OAUTH_TOKEN", "GitHub OAuth token", g.checksummedToken("gho_", 36))
	}},
	{label: idGitHubU2S, gen: func(g *Generator) item {
		return pos(idGitHubU2S, "GITHUB_USER_TOKEN", "GitHub App user token", g.checksummedToken("ghu_", 36))
	}},
	{label: idGitHubS2S, gen: func(g *Generator) item {
		return pos(idGitHubS2S, "GITHUB_APP_TOKEN", "GitHub App installation token", g.checksummedToken("ghs_", 36))
	}},
	{label: idGitHubRefresh, gen: func(g *Generator) item {
		return pos(idGitHubRefresh, "GITHUB_REFRESH_TOKEN", "GitHub refresh token", g.checksummedToken("ghr_", 76))
	}},
	{label: idGitLab, gen: func(g *Generator) item {
		return pos(idGitLab, "GITLAB_TOKEN", "GitLab token", "glpat-"+g.str(alnum+"-_", 20))
	}},
	{label: idOpenAIProject, weight: 2, gen: func(g *Generator) item {
		return pos(idOpenAIProject, "OPENAI_API_KEY", "OpenAI API key", "sk-proj-"+g.str(b64url, 74)+"T3BlbkFJ"+g.str(b64url, 74))
	}},
	{label: idOpenAISvcAcct, gen: func(g *Generator) item {
		return pos(idOpenAISvcAcct, "OPENAI_API_KEY", "OpenAI service account key", "sk-svcacct-"+g.str(b64url, 74)+"T3BlbkFJ"+g.str(b64url, 74))
	}},
	{label: idOpenAIAdmin, gen: func(g *Generator) item {
		return pos(idOpenAIAdmin, "OPENAI_ADMIN_KEY", "OpenAI admin key", "sk-admin-"+g.str(b64url, 74)+"T3BlbkFJ"+g.str(b64url, 74))
	}},
	{label: idOpenAILegacy, gen: func(g *Generator) item {
		return pos(idOpenAILegacy, "OPENAI_API_KEY", "OpenAI API key", "sk-"+g.str(alnum, 20)+"T3BlbkFJ"+g.str(alnum, 20))
	}},
	{label: idAnthropic, weight: 2, gen: func(g *Generator) item {
		return pos(idAnthropic, "ANTHROPIC_API_KEY", "Anthropic API key", "sk-ant-api03-"+g.str(b64url, 93)+"AA")
	}},
	{label: idAnthropicAdmin, gen: func(g *Generator) item {
		return pos(idAnthropicAdmin, "ANTHROPIC_ADMIN_KEY", "Anthropic admin key", "sk-ant-admin01-"+g.str(b64url, 93)+"AA")
	}},
	{label: idGoogleAPI, gen: func(g *Generator) item {
		return pos(idGoogleAPI, g.pick("GOOGLE_API_KEY", "GEMINI_API_KEY", "MAPS_API_KEY"), "Google API key", "AIza"+g.str(b64url, 35))
	}},
	{label: idGCPSA, gen: func(g *Generator) item {
		proj := g.pick("acme-prod", "globex-analytics", "initech-ml", "hooli-data") + "-" + g.digitsN(6)
		pk := pemToJSON(pemBlock("PRIVATE KEY", mustPKCS8(rsaKey(uint64(g.r.IntN(g.rsaPool))))))
		sa := g.pick("deployer", "etl-runner", "vertex-client", "ci") + "@" + proj + ".iam.gserviceaccount.com"
		head := "{\n  \"type\": \"service_account\",\n  \"project_id\": \"" + proj + "\",\n  \"private_key_id\": \"" + hexs(g.bytes(20)) + "\",\n  \"private_key\": \""
		tail := "\",\n  \"client_email\": \"" + sa + "\",\n  \"client_id\": \"1" + g.digitsN(20) + "\",\n  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n  \"token_uri\": \"https://oauth2.googleapis.com/token\"\n}"
		it := pos(idGCPSA, "GOOGLE_APPLICATION_CREDENTIALS_JSON", "service account key file", head+pk+tail)
		// The client_email is an e-mail address too (of a service, not a person). The private
		// key is not labelled on its own: the service-account label covers it.
		at := len(head) + len(pk) + len("\",\n  \"client_email\": \"")
		it.extra = []span{{start: at, end: at + len(sa), id: idEmail}}
		it.multiline = true
		return it
	}},
	{label: idSlackBot, gen: func(g *Generator) item {
		return pos(idSlackBot, "SLACK_BOT_TOKEN", "Slack bot token", "xoxb-"+g.digitsN(g.between(10, 13))+"-"+g.digitsN(g.between(10, 13))+"-"+g.str(alnum, 24))
	}},
	{label: idSlackUser, gen: func(g *Generator) item {
		return pos(idSlackUser, "SLACK_USER_TOKEN", "Slack user token", "xoxp-"+g.digitsN(g.between(10, 13))+"-"+g.digitsN(g.between(10, 13))+"-"+g.digitsN(g.between(10, 13))+"-"+g.str(hexLower, 32))
	}},
	{label: idSlackApp, gen: func(g *Generator) item {
		return pos(idSlackApp, "SLACK_APP_TOKEN", "Slack app-level token", "xapp-1-A"+g.str(upper+digits, 10)+"-"+g.digitsN(13)+"-"+g.str(hexLower, 64))
	}},
	{label: idSlackWebhook, gen: func(g *Generator) item {
		return pos(idSlackWebhook, "SLACK_WEBHOOK_URL", "Slack webhook", "https://hooks.slack.com/services/T"+g.str(upper+digits, g.between(8, 10))+"/B"+g.str(upper+digits, g.between(8, 10))+"/"+g.str(alnum, 24))
	}},
	{label: idStripe, gen: func(g *Generator) item {
		return pos(idStripe, "STRIPE_SECRET_KEY", "Stripe secret key", "sk_live_"+g.pick("51", "4e")+g.str(alnum, g.pick2(22, 97)))
	}},
	{label: idStripeRK, gen: func(g *Generator) item {
		return pos(idStripeRK, "STRIPE_RESTRICTED_KEY", "Stripe restricted key", "rk_live_"+g.pick("51", "4e")+g.str(alnum, g.pick2(22, 97)))
	}},
	{label: idSendGrid, gen: func(g *Generator) item {
		return pos(idSendGrid, "SENDGRID_API_KEY", "SendGrid API key", "SG."+g.str(b64url, 22)+"."+g.str(b64url, 43))
	}},
	{label: idNPM, gen: func(g *Generator) item {
		it := pos(idNPM, "NPM_TOKEN", "npm token", g.checksummedToken("npm_", 36))
		if g.chance(0.3) {
			it.name = "//registry.npmjs.org/:_authToken"
		}
		return it
	}},
	{label: idPyPI, gen: func(g *Generator) item { return pos(idPyPI, "PYPI_TOKEN", "PyPI API token", g.pypiToken()) }},
	{label: idHF, gen: func(g *Generator) item {
		return pos(idHF, "HF_TOKEN", "Hugging Face token", "hf_"+g.str(letters, 34))
	}},
	{label: idGroq, gen: func(g *Generator) item {
		return pos(idGroq, "GROQ_API_KEY", "Groq API key", "gsk_"+g.str(alnum, 52))
	}},
	{label: idXAI, gen: func(g *Generator) item {
		return pos(idXAI, "XAI_API_KEY", "xAI API key", "xai-"+g.str(alnum, 80))
	}},
	{label: idReplicate, gen: func(g *Generator) item {
		return pos(idReplicate, "REPLICATE_API_TOKEN", "Replicate token", "r8_"+g.str(alnum, 37))
	}},
	{label: idDocker, gen: func(g *Generator) item {
		return pos(idDocker, "DOCKERHUB_TOKEN", "Docker Hub access token", "dckr_pat_"+g.str(alnum+"-_", 27))
	}},
	{label: idShopify, gen: func(g *Generator) item {
		return pos(idShopify, "SHOPIFY_ACCESS_TOKEN", "Shopify admin token", g.pick("shpat_", "shpca_", "shppa_")+g.str(hexLower, 32))
	}},
	{label: idShopifyShared, gen: func(g *Generator) item {
		return pos(idShopifyShared, "SHOPIFY_API_SECRET", "Shopify app secret", "shpss_"+g.str(hexLower, 32))
	}},
	{label: idDOPAT, gen: func(g *Generator) item {
		return pos(idDOPAT, "DIGITALOCEAN_TOKEN", "DigitalOcean token", "dop_v1_"+g.str(hexLower, 64))
	}},
	{label: idDOOAuth, gen: func(g *Generator) item {
		return pos(idDOOAuth, "DO_OAUTH_TOKEN", "DigitalOcean OAuth token", g.pick("doo_v1_", "dor_v1_")+g.str(hexLower, 64))
	}},
	{label: idNotion, gen: func(g *Generator) item {
		return pos(idNotion, "NOTION_TOKEN", "Notion integration token", "secret_"+g.str(alnum, 43))
	}},
	{label: idGitLabRunner, gen: func(g *Generator) item {
		return pos(idGitLabRunner, "RUNNER_TOKEN", "GitLab runner token", "glrt-"+g.str(alnum+"-_", 20))
	}},
	{label: idGoogleOAuth, gen: func(g *Generator) item {
		return pos(idGoogleOAuth, "GOOGLE_CLIENT_SECRET", "OAuth client secret", "GOCSPX-"+g.str(b64url, 28))
	}},
	{label: idAzureAD, gen: func(g *Generator) item {
		const c = alnum + "_~.-"
		return pos(idAzureAD, "AZURE_CLIENT_SECRET", "Entra ID client secret", g.str(alnum, 3)+g.str(digits, 1)+"Q~"+g.str(c, 34))
	}},
	{label: idSquareOAuth, gen: func(g *Generator) item {
		return pos(idSquareOAuth, "SQUARE_APPLICATION_SECRET", "Square application secret", "sq0csp-"+g.str(b64url, 43))
	}},
	{label: idCloudflareCA, gen: func(g *Generator) item {
		return pos(idCloudflareCA, "CF_ORIGIN_CA_KEY", "Cloudflare Origin CA key", "v1.0-"+g.str(hexLower, 24)+"-"+g.str(hexLower, 146))
	}},
	{label: idTwilioAuth, gen: func(g *Generator) item {
		it := pos(idTwilioAuth, "TWILIO_AUTH_TOKEN", "Twilio auth token", g.str(hexLower, 32))
		it.needsKey = true
		return it
	}},
	{label: idDatadogAPI, gen: func(g *Generator) item {
		it := pos(idDatadogAPI, g.pick("DD_API_KEY", "DATADOG_API_KEY"), "Datadog API key", g.str(hexLower, 32))
		it.needsKey = true
		return it
	}},
	{label: idDatadogApp, gen: func(g *Generator) item {
		it := pos(idDatadogApp, g.pick("DD_APP_KEY", "DATADOG_APP_KEY"), "Datadog application key", g.str(hexLower, 40))
		it.needsKey = true
		return it
	}},
	{label: idMistral, gen: func(g *Generator) item {
		it := pos(idMistral, "MISTRAL_API_KEY", "Mistral API key", g.str(alnum, 32))
		it.needsKey = true
		return it
	}},
	{label: idCohere, gen: func(g *Generator) item {
		it := pos(idCohere, g.pick("COHERE_API_KEY", "CO_API_KEY"), "Cohere API key", g.str(alnum, 40))
		it.needsKey = true
		return it
	}},
	{label: idCloudflareToken, gen: func(g *Generator) item {
		it := pos(idCloudflareToken, g.pick("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"), "Cloudflare API token", g.str(b64url, 40))
		it.needsKey = true
		return it
	}},
	{label: idAuthHeader, gen: func(g *Generator) item {
		v := "Basic " + b64([]byte(g.pick("deploy", "svc-reports", "admin", g.userName())+":"+g.password()))
		it := pos(idAuthHeader, "Authorization", "Authorization header", v)
		it.needsKey = true
		return it
	}},
	{label: idLinear, gen: func(g *Generator) item {
		return pos(idLinear, "LINEAR_API_KEY", "Linear API key", "lin_api_"+g.str(alnum, 40))
	}},
	{label: idSentryDSN, gen: func(g *Generator) item {
		// The legacy DSN form carries the project's secret key after the public one.
		return pos(idSentryDSN, "SENTRY_DSN", "Sentry DSN", "https://"+g.str(hexLower, 32)+":"+g.str(hexLower, 32)+"@"+g.pick("sentry.io", "o"+g.digitsN(6)+".ingest.sentry.io", "sentry."+g.companyDomain())+"/"+g.digitsN(g.between(5, 7)))
	}},
	{label: idSentryToken, gen: func(g *Generator) item {
		return pos(idSentryToken, "SENTRY_AUTH_TOKEN", "Sentry auth token", "sntryu_"+g.str(hexLower, 64))
	}},
	{label: idMailgun, gen: func(g *Generator) item {
		return pos(idMailgun, "MAILGUN_API_KEY", "Mailgun API key", "key-"+g.str(hexLower, 32))
	}},
	{label: idTwilio, gen: func(g *Generator) item {
		return pos(idTwilio, "TWILIO_API_KEY", "Twilio API key SID", "SK"+g.str(hexLower, 32))
	}},
	{label: idAzureConn, gen: func(g *Generator) item {
		acct := g.pick("acmeprod", "globexdata", "initechlogs", "hoolibackup") + g.digitsN(3)
		return pos(idAzureConn, "AZURE_STORAGE_CONNECTION_STRING", "Azure storage connection string",
			"DefaultEndpointsProtocol=https;AccountName="+acct+";AccountKey="+b64(g.bytes(64))+";EndpointSuffix=core.windows.net")
	}},
	{label: idAzureSAS, gen: func(g *Generator) item {
		acct := g.pick("acmeprod", "globexdata", "initechlogs") + g.digitsN(3)
		sig := url.QueryEscape(b64(g.bytes(32)))
		return pos(idAzureSAS, "AZURE_SAS_URL", "SAS URL", "https://"+acct+".blob.core.windows.net/"+g.pick("exports", "backups", "uploads")+"?sp=r&st=2025-0"+itoa(g.between(1, 9))+"-01T00:00:00Z&se=2026-01-01T00:00:00Z&spr=https&sv=2022-11-02&sr=c&sig="+sig)
	}},
	{label: idSquare, gen: func(g *Generator) item {
		return pos(idSquare, "SQUARE_ACCESS_TOKEN", "Square access token", "sq0atp-"+g.str(b64url, 22))
	}},
	{label: idBraintree, gen: func(g *Generator) item {
		return pos(idBraintree, "BRAINTREE_ACCESS_TOKEN", "Braintree access token", "access_token$production$"+g.str(digits+lower, 16)+"$"+g.str(hexLower, 32))
	}},
	{label: idPGPKey, gen: func(g *Generator) item {
		it := pos(idPGPKey, "PGP_PRIVATE_KEY", "signing key", g.pgpKey())
		it.value = strings.TrimSuffix(it.value, "\n")
		it.multiline = true
		return it
	}},
	{label: idPrivateKey, weight: 2, gen: func(g *Generator) item {
		it := pos(idPrivateKey, "PRIVATE_KEY", "private key", g.privateKeyPEM())
		it.value = strings.TrimSuffix(it.value, "\n")
		it.multiline = true
		return it
	}},
	{label: idJWT, gen: func(g *Generator) item {
		return pos(idJWT, g.pick("ACCESS_TOKEN", "ID_TOKEN", "AUTH_TOKEN"), "bearer token", g.jwt())
	}},
	{label: idPostgresURI, gen: func(g *Generator) item {
		return pos(idPostgresURI, g.pick("DATABASE_URL", "DB_URL", "PG_DSN"), "connection string", g.dbURI(0))
	}},
	{label: idMySQLURI, gen: func(g *Generator) item {
		return pos(idMySQLURI, g.pick("DATABASE_URL", "MYSQL_URL"), "connection string", g.dbURI(2))
	}},
	{label: idMongoURI, gen: func(g *Generator) item {
		return pos(idMongoURI, g.pick("MONGO_URI", "MONGODB_URL"), "connection string", g.dbURI(3))
	}},
	{label: idRedisURI, gen: func(g *Generator) item {
		return pos(idRedisURI, g.pick("REDIS_URL", "CACHE_URL"), "connection string", g.dbURI(4))
	}},
	{label: idAMQPURI, gen: func(g *Generator) item {
		return pos(idAMQPURI, g.pick("BROKER_URL", "AMQP_URL", "CELERY_BROKER_URL"), "broker URL", g.dbURI(5))
	}},
	{label: idURLBasicAuth, gen: func(g *Generator) item {
		user := g.pick("deploy", "ci-bot", "admin", "svc_reporting", g.userName())
		pw := g.password()
		host := g.pick("git.", "registry.", "nexus.", "artifactory.", "jenkins.", "grafana.") + g.companyDomain()
		pre := "https://" + user + ":"
		it := pos(idURLBasicAuth, g.pick("REGISTRY_URL", "GIT_REMOTE", "ARTIFACT_URL"), "URL", pre+pw+"@"+host+g.pick("/", "/api/v1/", "/org/repo.git", ""))
		// The user-info is not an e-mail address.
		it.extra = []span{{start: len(pre), end: len(pre) + len(pw) + 1 + len(host), decoy: "url-userinfo-not-email"}}
		return it
	}},
	{label: idPasswordAssign, weight: 2, gen: func(g *Generator) item {
		it := pos(idPasswordAssign, g.pick("DB_PASSWORD", "password", "SMTP_PASSWORD", "admin_password", "POSTGRES_PASSWORD", "ldap_bind_password"), "password", g.password())
		it.needsKey = true
		return it
	}},
	{label: idSecretAssign, weight: 2, gen: func(g *Generator) item {
		it := pos(idSecretAssign, g.pick("client_secret", "API_SECRET", "webhook_secret", "SESSION_SECRET", "api_key", "auth_token"), "secret", g.password())
		it.needsKey = true
		return it
	}},
}

var piiKinds = []itemKind{
	{label: idEmail, pii: true, weight: 2, gen: func(g *Generator) item { return pos(idEmail, "email", "e-mail", g.email()) }},
	{label: idPhone, pii: true, gen: func(g *Generator) item { return pos(idPhone, "phone", "phone number", g.phone()) }},
	{label: idCard, pii: true, weight: 2, gen: func(g *Generator) item {
		d, brand := g.cardDigits(true)
		return pos(idCard, "card_number", brand+" card", g.formatCard(d))
	}},
	{label: idIBAN, pii: true, weight: 2, gen: func(g *Generator) item {
		return pos(idIBAN, "iban", "IBAN", g.formatIBAN(g.ibanRaw(true)))
	}},
	{label: idSSN, pii: true, gen: func(g *Generator) item {
		it := pos(idSSN, "ssn", g.pick("SSN", "social security number", "SSN#", "Social Security No."), g.ssn(true))
		it.noAssign = true
		return it
	}},
	{label: idNINO, pii: true, gen: func(g *Generator) item {
		it := pos(idNINO, "ni_number", g.pick("NI number", "National Insurance number", "NINO"), g.nino(true))
		it.noAssign = true
		return it
	}},
	{label: idNIR, pii: true, gen: func(g *Generator) item {
		it := pos(idNIR, "nir", g.pick("numéro de sécurité sociale", "NIR", "n° sécu"), g.nir(true))
		it.noAssign = true
		return it
	}},
	{label: idSteuerID, pii: true, gen: func(g *Generator) item {
		it := pos(idSteuerID, "steuer_id", g.pick("Steuer-ID", "Steueridentifikationsnummer", "Steuer-IdNr.", "tax ID (IdNr)"), g.steuerID(true))
		it.noAssign = true
		return it
	}},
	{label: idDNI, pii: true, gen: func(g *Generator) item {
		it := pos(idDNI, "dni", g.pick("DNI", "NIE", "DNI/NIE"), g.dni(true))
		it.noAssign = true
		return it
	}},
	{label: idCodiceFiscale, pii: true, gen: func(g *Generator) item {
		it := pos(idCodiceFiscale, "codice_fiscale", g.pick("codice fiscale", "C.F.", "codice fiscale (CF)"), g.codiceFiscale(true))
		it.noAssign = true
		return it
	}},
	{label: idBSN, pii: true, gen: func(g *Generator) item {
		it := pos(idBSN, "bsn", g.pick("BSN", "burgerservicenummer", "BSN-nummer"), g.bsn(true))
		it.noAssign = true
		return it
	}},
	{label: idPESEL, pii: true, gen: func(g *Generator) item {
		it := pos(idPESEL, "pesel", g.pick("PESEL", "nr PESEL", "numer PESEL"), g.pesel(true))
		it.noAssign = true
		return it
	}},
	{label: idBENational, pii: true, gen: func(g *Generator) item {
		it := pos(idBENational, "rijksregisternummer", g.pick("rijksregisternummer", "numéro national", "INSZ"), g.beNationalNumber(true))
		it.noAssign = true
		return it
	}},
	{label: idPersonnummer, pii: true, gen: func(g *Generator) item {
		it := pos(idPersonnummer, "personnummer", g.pick("personnummer", "Personnummer", "personnr"), g.personnummer(true))
		it.noAssign = true
		return it
	}},
	{label: idPassport, pii: true, gen: func(g *Generator) item {
		var v string
		switch g.r.IntN(4) {
		case 0: // US: nine digits, or a letter and eight digits (Next Generation Passport)
			v = g.pick(g.str("123456789", 1)+g.digitsN(8), g.str("ACEFGHJKLMNPRSTUVWXYZ", 1)+g.digitsN(8))
		case 1: // UK: nine digits
			v = g.str("123456789", 1) + g.digitsN(8)
		case 2: // DE: C and eight characters of the Pass alphabet
			v = "C" + g.str("CFGHJKLMNPRTVWXYZ0123456789", 8)
		default: // FR: two digits, two letters, five digits
			v = g.digitsN(2) + g.str(upper, 2) + g.digitsN(5)
		}
		it := pos(idPassport, "passport_no", g.pick("passport number", "passport no.", "Passport"), v)
		it.noAssign = true
		return it
	}},
	{label: idPrivateIP, pii: true, gen: func(g *Generator) item {
		var ip string
		switch g.r.IntN(3) {
		case 0:
			ip = fmt.Sprintf("10.%d.%d.%d", g.between(0, 255), g.between(0, 255), g.between(1, 254))
		case 1:
			ip = fmt.Sprintf("172.%d.%d.%d", g.between(16, 31), g.between(0, 255), g.between(1, 254))
		default:
			ip = fmt.Sprintf("192.168.%d.%d", g.between(0, 255), g.between(1, 254))
		}
		return pos(idPrivateIP, g.pick("DB_HOST", "REDIS_HOST", "upstream", "host"), "internal IP", ip)
	}},
	{label: idInternalHost, pii: true, gen: func(g *Generator) item {
		h := g.pick("db-0", "redis-0", "api-", "build-", "ldap-", "vault-") + itoa(g.between(1, 9)) + "." +
			g.pick("prod.internal", "corp.acme.local", "svc.cluster.local", "eu-west-1.compute.internal", "intranet.globex.lan", "corp")
		return pos(idInternalHost, g.pick("DB_HOST", "VAULT_ADDR", "upstream", "host"), "internal host", h)
	}},
}

var secretDecoys = []itemKind{
	{label: "github-bad-checksum", decoy: true, weight: 3, gen: func(g *Generator) item {
		return dec("github-bad-checksum", "GITHUB_TOKEN", "GitHub token", g.badChecksumToken(g.pick("ghp_", "gho_", "ghs_", "ghu_"), 36))
	}},
	{label: "npm-bad-checksum", decoy: true, gen: func(g *Generator) item {
		return dec("npm-bad-checksum", "NPM_TOKEN", "npm token", g.badChecksumToken("npm_", 36))
	}},
	{label: "aws-documentation-key", decoy: true, gen: func(g *Generator) item {
		id := dec("aws-documentation-key", "AWS_ACCESS_KEY_ID", "AWS access key", "AKIAIOSFODNN7EXAMPLE")
		if g.chance(0.6) {
			s := dec("aws-documentation-key", "AWS_SECRET_ACCESS_KEY", "AWS secret key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
			s.needsKey = true
			id.next = &s
		}
		return id
	}},
	{label: "placeholder", decoy: true, weight: 4, gen: func(g *Generator) item {
		name, what, v := g.placeholder()
		return dec("placeholder", name, what, v)
	}},
	{label: "uuid", decoy: true, weight: 2, gen: func(g *Generator) item {
		b := g.bytes(16)
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hexs(b)
		v := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		return dec("uuid", g.pick("request_id", "trace_id", "tenant_id", "client_id", "idempotency_key"), "request id", v)
	}},
	{label: "hex-hash", decoy: true, weight: 2, gen: func(g *Generator) item {
		n := g.pick2(32, 40, 64)
		name := map[int]string{32: "md5", 40: "sha1", 64: "sha256"}[n]
		return dec("hex-hash", name, name+" checksum", hexs(g.bytes(n/2)))
	}},
	{label: "git-sha", decoy: true, gen: func(g *Generator) item {
		return dec("git-sha", "commit", "commit", hexs(g.bytes(20)))
	}},
	{label: "stripe-publishable-or-object-id", decoy: true, weight: 2, gen: func(g *Generator) item {
		switch g.r.IntN(3) {
		case 0:
			return dec("stripe-publishable-key", "STRIPE_PUBLISHABLE_KEY", "publishable key", "pk_live_51"+g.str(alnum, 97))
		default:
			p := g.pick("cus_", "ch_", "pi_", "sub_", "in_", "prod_", "price_", "evt_", "txn_")
			return dec("stripe-object-id", "stripe_id", "Stripe object", p+g.str(alnum, g.pick2(14, 24)))
		}
	}},
	{label: "base64-random", decoy: true, gen: func(g *Generator) item {
		return dec("base64-random", "payload", "attachment", b64(g.bytes(g.between(24, 300))))
	}},
	{label: "db-uri-without-password", decoy: true, gen: func(g *Generator) item {
		v := g.pick("postgres://localhost:5432/"+g.pick("app", "orders"),
			"postgres://postgres:${POSTGRES_PASSWORD}@db:5432/app",
			"mysql://root:<password>@localhost:3306/shop",
			"mongodb://localhost:27017/test",
			"redis://localhost:6379/0",
			"postgresql://user:password@localhost/mydb",
			"amqp://guest:guest@localhost:5672/")
		return dec("db-uri-placeholder", "DATABASE_URL", "connection string", v)
	}},
	{label: "sentry-public-dsn", decoy: true, gen: func(g *Generator) item {
		return dec("sentry-public-dsn", "SENTRY_DSN", "Sentry DSN", "https://"+g.str(hexLower, 32)+"@o"+g.digitsN(6)+".ingest."+g.pick("", "us.", "de.")+"sentry.io/"+g.digitsN(g.between(7, 16)))
	}},
	{label: "url-userinfo-example", decoy: true, gen: func(g *Generator) item {
		return dec("url-userinfo-example", "URL", "URL", "https://"+g.pick("user:pass", "username:password", "user:password", "admin:admin")+"@example.com"+g.pick("/", "/path", ""))
	}},
	{label: "low-entropy-password", decoy: true, gen: func(g *Generator) item {
		it := dec("placeholder-password", g.pick("password", "DB_PASSWORD", "passwd"), "password", g.pick("changeme", "password", "secret", "admin", "hunter2", "********", "<password>", "${DB_PASSWORD}", "{{ .Values.password }}", "REPLACE_ME"))
		it.needsKey = true
		return it
	}},
}

var piiDecoys = []itemKind{
	{label: "card-luhn-invalid", decoy: true, pii: true, weight: 3, gen: func(g *Generator) item {
		d, brand := g.cardDigits(false)
		return dec("card-luhn-invalid", "card_number", brand+" card", g.formatCard(d))
	}},
	{label: "iban-bad-checksum", decoy: true, pii: true, weight: 2, gen: func(g *Generator) item {
		return dec("iban-bad-checksum", "iban", "IBAN", g.formatIBAN(g.ibanRaw(false)))
	}},
	{label: "ssn-invalid", decoy: true, pii: true, weight: 2, gen: func(g *Generator) item {
		it := dec("ssn-invalid", "ssn", g.pick("SSN", "social security number"), g.ssn(false))
		it.noAssign = true
		return it
	}},
	{label: "nino-invalid", decoy: true, pii: true, gen: func(g *Generator) item {
		it := dec("nino-invalid-prefix", "ni_number", "NI number", g.nino(false))
		it.noAssign = true
		return it
	}},
	{label: "national-id-bad-check", decoy: true, pii: true, weight: 3, gen: func(g *Generator) item {
		var it item
		switch g.r.IntN(8) {
		case 5:
			it = dec("pesel-bad-check", "pesel", "PESEL", g.pesel(false))
		case 6:
			it = dec("be-national-number-bad-check", "rijksregisternummer", "rijksregisternummer", g.beNationalNumber(false))
		case 7:
			it = dec("personnummer-bad-luhn", "personnummer", "personnummer", g.personnummer(false))
		case 0:
			it = dec("nir-bad-key", "nir", "NIR", g.nir(false))
		case 1:
			it = dec("steuer-id-bad-check", "steuer_id", "Steuer-ID", g.steuerID(false))
		case 2:
			it = dec("dni-bad-letter", "dni", "DNI", g.dni(false))
		case 3:
			it = dec("codice-fiscale-bad-check", "codice_fiscale", "codice fiscale", g.codiceFiscale(false))
		default:
			it = dec("bsn-bad-check", "bsn", "BSN", g.bsn(false))
		}
		it.noAssign = true
		return it
	}},
	{label: "email-example-domain", decoy: true, pii: true, gen: func(g *Generator) item {
		return dec("email-example-domain", "email", "e-mail", strings.ToLower(g.firstName())+g.pick(".", "_", "")+strings.ToLower(g.lastNameASCII())+"@"+g.pick("example.com", "example.org", "example.net", "mail.example.com"))
	}},
	{label: "date", decoy: true, pii: true, gen: func(g *Generator) item {
		y, m, d := g.between(2019, 2026), g.between(1, 12), g.between(1, 28)
		v := g.pick(fmt.Sprintf("%04d-%02d-%02d", y, m, d), fmt.Sprintf("%02d/%02d/%04d", d, m, y), fmt.Sprintf("%02d.%02d.%04d", d, m, y),
			fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, g.between(0, 23), g.between(0, 59), g.between(0, 59)))
		return dec("date", "created_at", "date", v)
	}},
	{label: "version", decoy: true, pii: true, gen: func(g *Generator) item {
		v := g.pick(fmt.Sprintf("v%d.%d.%d", g.between(0, 3), g.between(0, 30), g.between(0, 20)),
			fmt.Sprintf("%d.%d.%d-rc.%d", g.between(1, 20), g.between(0, 30), g.between(0, 9), g.between(1, 5)),
			fmt.Sprintf("go1.%d.%d", g.between(20, 26), g.between(0, 9)),
			fmt.Sprintf("%d.%d.%d.%d", g.between(1, 9), g.between(0, 9), g.between(1000, 30000), g.between(1000, 9999)))
		return dec("version", "version", "version", v)
	}},
	{label: "order-number", decoy: true, pii: true, gen: func(g *Generator) item {
		v := g.pick("ORD-"+g.digitsN(4)+"-"+g.digitsN(6), "#"+g.digitsN(7), "INV-"+g.digitsN(8), "PO"+g.digitsN(10), g.str(upper, 3)+"-"+g.digitsN(5))
		return dec("order-number", "order_id", "order", v)
	}},
}

func mustPKCS8(k any) []byte {
	der, err := marshalPKCS8(k)
	if err != nil {
		panic(err)
	}
	return der
}

// pick2 picks one of the ints.
func (g *Generator) pick2(xs ...int) int { return xs[g.r.IntN(len(xs))] }

// password: what people and password managers put in config: random, mixed classes, 12-28
// characters (no quote or whitespace characters, which would end it in most syntaxes).
func (g *Generator) password() string {
	switch g.r.IntN(3) {
	case 0:
		return g.str(alnum, g.between(16, 28))
	case 1:
		// Generated with symbols; no character that URIs would need escaped.
		return g.str(alnum, g.between(6, 10)) + g.pick("!", "*", "~", "-", "_", ".") + g.str(alnum, g.between(6, 14)) + g.pick("!", "*", "~", "-", "_", ".") + g.str(digits, 2)
	default:
		return hexs(g.bytes(g.between(10, 16)))
	}
}

// dbURI: scheme 0-1 PostgreSQL, 2 MySQL, 3 MongoDB, 4 Redis, 5 AMQP.
func (g *Generator) dbURI(scheme int) string {
	user := g.pick("app", "postgres", "admin", "svc_orders", "analytics_ro", "root", g.userName())
	pw := g.password()
	host := g.pick("db", "pg-main", "mysql-01", "orders-db", "cluster0") + "." + g.companyDomain()
	if scheme == 0 && g.chance(0.5) {
		scheme = 1
	}
	switch scheme {
	case 0:
		return "postgres://" + user + ":" + pw + "@" + host + ":5432/" + g.pick("app", "orders", "billing") + g.pick("", "?sslmode=require")
	case 1:
		return "postgresql://" + user + ":" + pw + "@" + host + "/" + g.pick("app", "crm")
	case 2:
		return "mysql://" + user + ":" + pw + "@" + host + ":3306/" + g.pick("shop", "wp")
	case 3:
		return "mongodb+srv://" + user + ":" + pw + "@cluster0." + g.str(lower+digits, 5) + ".mongodb.net/" + g.pick("prod", "events") + "?retryWrites=true&w=majority"
	case 4:
		return g.pick("redis://default:", "rediss://:") + pw + "@" + host + ":" + g.pick("6379", "6380") + "/0"
	default:
		return g.pick("amqp://", "amqps://") + user + ":" + pw + "@" + host + ":5672/" + g.pick("", "vhost")
	}
}

// pypiToken builds a PyPI API token: "pypi-" and the base64url of a version-2 macaroon whose
// location is pypi.org (so every token starts pypi-AgEIcHlwaS5vcmc).
func (g *Generator) pypiToken() string {
	var m []byte
	field := func(typ byte, b []byte) {
		m = append(m, typ, byte(len(b)))
		m = append(m, b...)
	}
	m = append(m, 2)
	field(1, []byte("pypi.org"))
	id := []byte(`{"nonce":"` + hexs(g.bytes(16)) + `","version":1}`)
	m = append(m, 2, byte(len(id)))
	m = append(m, id...)
	m = append(m, 0)
	cav := []byte(`{"permissions":"user","version":1}`)
	if g.chance(0.5) {
		cav = []byte(`{"permissions":{"projects":["` + g.pick("acme-sdk", "globex-client", "initech-utils") + `"]},"version":1}`)
	}
	field(2, cav)
	m = append(m, 0, 0)
	field(6, g.bytes(32))
	return "pypi-" + b64u(m)
}

// placeholder: the templates people paste instead of a key.
func (g *Generator) placeholder() (name, what, v string) {
	switch g.r.IntN(14) {
	case 0:
		return "OPENAI_API_KEY", "OpenAI key", "sk-...xxxx"
	case 1:
		return "OPENAI_API_KEY", "OpenAI key", "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	case 2:
		return "API_KEY", "API key", "your-api-key-here"
	case 3:
		return "Authorization", "token", "Bearer <token>"
	case 4:
		return "API_KEY", "API key", "${API_KEY}"
	case 5:
		return "ANTHROPIC_API_KEY", "Anthropic key", "sk-ant-api03-" + strings.Repeat("x", 93) + "AA"
	case 6:
		return "GITHUB_TOKEN", "GitHub token", "ghp_" + strings.Repeat("x", 36)
	case 7:
		return "STRIPE_SECRET_KEY", "Stripe key", "sk_live_" + strings.Repeat("*", 24)
	case 8:
		return "SLACK_BOT_TOKEN", "Slack token", "xoxb-your-bot-token"
	case 9:
		return "api_key", "API key", "YOUR_API_KEY"
	case 10:
		return "token", "token", "{{ secrets.GITHUB_TOKEN }}"
	case 11:
		return "AWS_SECRET_ACCESS_KEY", "AWS secret", "<your-secret-access-key>"
	case 12:
		return "password", "password", "REDACTED"
	default:
		return "GOOGLE_API_KEY", "Google key", "AIza" + strings.Repeat("X", 35)
	}
}

// Issue 14's kinds: leaks the detectors missed on data the first tests did not write. They are
// planted in documents of their own (see Generator.Next), drawn from a source of their own, so
// that the documents of the main stream stay as they were.
var missKinds = []itemKind{
	{label: "aws-secret-named", gen: func(g *Generator) item {
		v := g.str(b64chars, 40)
		if g.chance(0.25) {
			// The JSON that aws sts assume-role and get-session-token print: the secret under
			// SecretAccessKey, between the key ID and the session token.
			id, tok := "ASIA"+g.str(base32, 16), g.stsToken()
			head := `{"Credentials": {"AccessKeyId": "`
			mid := `", "SecretAccessKey": "` + v + `", "SessionToken": "`
			js := head + id + mid + tok + `", "Expiration": "2025-` + fmt.Sprintf("%02d-%02dT%02d:00:00Z", g.between(1, 12), g.between(1, 28), g.between(0, 23)) + `"}}`
			it := pos(idAWSSecret, "AWS_STS_CREDENTIALS", "aws sts output", js)
			at := len(head) + len(id) + len(mid)
			it.extra = []span{{start: len(head), end: len(head) + len(id), id: idAWSKeyID}, {start: at, end: at + len(tok), id: idAWSSession}}
			return it
		}
		name := g.pick("awsSecretKey", "aws_secret_key", "AWS_SECRET", "secretAccessKey", "SecretAccessKey", "awsSecretAccessKey",
			"AWSSecretKey", "aws_secret", "AWS_SECRET_KEY", "aws-secret-access-key", "app.aws.secret-key")
		it := pos(idAWSSecret, name, g.pick("AWS secret key", "AWS secret access key", "aws secret", "AWS account's secret key"), v)
		it.needsKey, it.prose, it.dataOK = true, true, true
		return it
	}},
	{label: "named-value", gen: func(g *Generator) item {
		// Keys without a prefix of their own, known by their name: in a Kubernetes Secret's
		// data they are base64 under it.
		id := g.pick(idTwilioAuth, idDatadogAPI, idDatadogApp, idMistral, idCohere, idCloudflareToken, idPasswordAssign, idSecretAssign)
		for _, k := range secretKinds {
			if k.label == id {
				it := k.gen(g)
				it.dataOK = true
				return it
			}
		}
		panic(id)
	}},
	{label: "private-key-damaged", gen: func(g *Generator) item {
		it := pos(idPrivateKey, "PRIVATE_KEY", "private key", g.damagedKeyPEM())
		it.multiline = true
		return it
	}},
	{label: "token-x-run", gen: func(g *Generator) item {
		// A run of x's that a random body happens to hold (one key in a few thousand): not a mask.
		run := g.pick("xxxx", "XXXX", "xXxX", "xXx", "XxX")
		in := func(s string) string {
			i := g.between(4, len(s)-4-len(run))
			return s[:i] + run + s[i+len(run):]
		}
		switch g.r.IntN(6) {
		case 0:
			r := in(g.str(base62, 30))
			return pos(idGitHubClassic, "GITHUB_TOKEN", "GitHub personal access token", "ghp_"+r+Base62CRC32(r))
		case 1:
			return pos(idOpenAIProject, "OPENAI_API_KEY", "OpenAI API key", "sk-proj-"+in(g.str(b64url, 74))+"T3BlbkFJ"+g.str(b64url, 74))
		case 2:
			return pos(idAnthropic, "ANTHROPIC_API_KEY", "Anthropic API key", "sk-ant-api03-"+in(g.str(b64url, 93))+"AA")
		case 3:
			return pos(idSlackBot, "SLACK_BOT_TOKEN", "Slack bot token", "xoxb-"+g.digitsN(12)+"-"+g.digitsN(13)+"-"+in(g.str(alnum, 24)))
		case 4:
			it := pos(idAWSSecret, "aws_secret_access_key", "AWS secret access key", in(g.str(b64chars, 40)))
			it.needsKey = true
			return it
		default:
			it := pos(idSecretAssign, g.pick("api_key", "client_secret", "WEBHOOK_SECRET"), "secret", in(g.str(alnum, 32)))
			it.needsKey = true
			return it
		}
	}},
}

var missDecoys = []itemKind{
	{label: "private-key-placeholder", decoy: true, gen: func(g *Generator) item {
		// Documentation: a key's frame around an elided, masked or described body.
		heads := map[string]string{"RSA PRIVATE KEY": "MIIEpAIBAAKCAQEA", "PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
			"EC PRIVATE KEY": "MHcCAQEEI", "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"}
		label := g.pick("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY")
		var body string
		switch g.r.IntN(4) {
		case 0:
			body = heads[label] + g.pick("...", "…", "\n...")
		case 1:
			body = g.pick("<your private key>", "...", "(paste the key you downloaded here)", "YOUR_PRIVATE_KEY_HERE")
		case 2:
			body = heads[label] + strings.Repeat("x", 64-len(heads[label])%64) + "\n" + strings.Repeat("x", 64) + "\n" + strings.Repeat("x", g.between(10, 60))
		default:
			body = heads[label] + "\n...\n" + strings.Repeat("X", g.between(4, 40)) + "=="
		}
		it := dec("private-key-placeholder", "PRIVATE_KEY", "private key", "-----BEGIN "+label+"-----\n"+body+"\n-----END "+label+"-----")
		it.multiline = true
		return it
	}},
	{label: "masked-secret", decoy: true, gen: func(g *Generator) item {
		// A key with its tail masked by x's, as dashboards and redacting tools show them.
		mask := strings.Repeat(g.pick("x", "X"), g.between(4, 7))
		switch g.r.IntN(3) {
		case 0:
			it := dec("masked-secret", "AWS_SECRET_ACCESS_KEY", "AWS secret key", g.str(b64chars, 40-len(mask))+mask)
			it.needsKey, it.prose = true, true
			return it
		case 1:
			return dec("masked-secret", "OPENAI_API_KEY", "OpenAI key", "sk-proj-"+g.str(b64url, 74)+"T3BlbkFJ"+g.str(b64url, 74-len(mask))+mask)
		default:
			it := dec("masked-secret", "api_key", "API key", g.str(alnum, 32-len(mask))+mask)
			it.needsKey = true
			return it
		}
	}},
	{label: "aws-documentation-key-prose", decoy: true, gen: func(g *Generator) item {
		s := dec("aws-documentation-key", "AWS_SECRET_ACCESS_KEY", "AWS secret key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
		s.needsKey, s.prose = true, true
		if g.chance(0.5) {
			s.name = g.pick("awsSecretKey", "secretAccessKey", "AWS_SECRET", "aws_secret_key")
		}
		return s
	}},
}

// issue15Kinds are the formats added for issue 15, each with its vendor's prefix, alphabet and
// length. They come in documents of their own (see issue15Every), so the main stream's text
// stays what it was.
var issue15Kinds = []itemKind{
	{label: idSlackConfig, gen: func(g *Generator) item {
		if g.chance(0.3) {
			return pos(idSlackConfig, "SLACK_CONFIG_REFRESH_TOKEN", "Slack configuration refresh token", "xoxe-1-"+g.str(alnum, 146))
		}
		return pos(idSlackConfig, "SLACK_CONFIG_TOKEN", "Slack app configuration token", "xoxe.xox"+g.pick("p", "b")+"-1-"+g.str(alnum, g.between(163, 166)))
	}},
	{label: idGitLabOther, gen: func(g *Generator) item {
		p := g.pick("gloas-", "glft-", "glimt-", "glagent-", "glsoat-", "glffct-")
		if p == "gloas-" {
			return pos(idGitLabOther, "GITLAB_OAUTH_SECRET", "GitLab OAuth application secret", p+g.str(hexLower, 64))
		}
		return pos(idGitLabOther, "GITLAB_FEED_TOKEN", "GitLab token", p+g.str(alnum+"-_", g.between(20, 50)))
	}},
	{label: idVault, gen: func(g *Generator) item {
		return pos(idVault, "VAULT_TOKEN", "Vault token", g.pick("hvs.", "hvb.")+"CAESI"+g.str(alnum+"-_", g.between(90, 110)))
	}},
	{label: idDoppler, gen: func(g *Generator) item {
		return pos(idDoppler, "DOPPLER_TOKEN", "Doppler token", g.pick("dp.pt.", "dp.st.prd.", "dp.ct.", "dp.sa.")+g.str(alnum, 43))
	}},
	{label: idPostHog, gen: func(g *Generator) item {
		return pos(idPostHog, "POSTHOG_PERSONAL_API_KEY", "PostHog personal API key", "phx_"+g.str(alnum, 43))
	}},
	{label: idNewRelic, gen: func(g *Generator) item {
		return pos(idNewRelic, "NEW_RELIC_API_KEY", "New Relic user API key", "NRAK-"+g.str(upper+digits, 27))
	}},
	{label: idSupabase, gen: func(g *Generator) item {
		return pos(idSupabase, "SUPABASE_ACCESS_TOKEN", "Supabase access token", "sbp_"+g.str(hexLower, 40))
	}},
	{label: idPulumi, gen: func(g *Generator) item {
		return pos(idPulumi, "PULUMI_ACCESS_TOKEN", "Pulumi access token", "pul-"+g.str(hexLower, 40))
	}},
	{label: idGrafana, gen: func(g *Generator) item {
		if g.chance(0.5) {
			return pos(idGrafana, "GRAFANA_SERVICE_ACCOUNT_TOKEN", "Grafana service account token", "glsa_"+g.str(alnum, 32)+"_"+g.str(hexLower, 8))
		}
		return pos(idGrafana, "GRAFANA_CLOUD_TOKEN", "Grafana Cloud token", "glc_"+g.str(alnum, g.between(100, 140))+"==")
	}},
	{label: idPlanetScale, gen: func(g *Generator) item {
		return pos(idPlanetScale, "PLANETSCALE_SERVICE_TOKEN", "PlanetScale token", g.pick("pscale_tkn_", "pscale_pw_", "pscale_oauth_")+g.str(alnum, 43))
	}},
}
