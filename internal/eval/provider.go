package eval

import (
	"sort"
	"strings"
)

// compound are rule-ID prefixes of gitleaks that name one vendor in several words, and the
// vendor they name; every other rule ID names its vendor in its first word (slack-bot-token).
var compound = map[string]string{
	"new-relic":          "newrelic",
	"defined-networking": "definednetworking",
	"microsoft-teams":    "microsoftteams",
	"octopus-deploy":     "octopusdeploy",
	"cisco-meraki":       "meraki",
	"clickhouse-cloud":   "clickhouse",
	"private-key":        "privatekey",
	"hashicorp-tf":       "terraform",
	"generic-api":        "generic",
	"curl-auth":          "curl",
	"aws-amazon-bedrock": "aws",
	"jwt-base64":         "jwt",
}

// trufflehogAlias maps trufflehog detector directories whose name does not start with the
// vendor's gitleaks name.
var trufflehogAlias = map[string]string{
	"gcpapplicationdefaultcredentials": "gcp",
	"googleoauth2":                     "gcp",
	"azure_entra":                      "azure",
	"azurecontainerregistry":           "azure",
	"azuresearchadminkey":              "azure",
	"azuresearchquerykey":              "azure",
	"azure_batch":                      "azure",
	"azureapimanagement":               "azure",
	"azuredevopspersonalaccesstoken":   "azure",
	"azurefunctionkey":                 "azure",
	"azureappconfigconnectionstring":   "azure",
	"azurestorage":                     "azure",
	"azurecosmosdbkeyidentifiable":     "azure",
	"azuredirectmanagementkey":         "azure",
	"terraformcloudpersonaltoken":      "terraform",
	"hashicorpvaultauth":               "vault",
	"microsoftteamswebhook":            "microsoftteams",
	"onepassword":                      "1password",
	"sumologickey":                     "sumologic",
	"pypi":                             "pypi",
	"npmtoken":                         "npm",
	"npmtokenv2":                       "npm",
	"jdbc":                             "jdbc",
	"uri":                              "uri",
}

// knownProviders are the vendors gitleaks names (filled by ProviderOf for gitleaks rules as
// the extractor reads them first); trufflehog directories map onto the longest one that
// prefixes them (slackwebhook: slack).
var knownProviders = map[string]bool{}

// ProviderOf normalises a source's rule name to a lower-case vendor name.
func ProviderOf(source, rule string) string {
	rule = strings.ToLower(rule)
	switch source {
	case "gitleaks":
		for pre, p := range compound {
			if rule == pre || strings.HasPrefix(rule, pre+"-") {
				knownProviders[p] = true
				return p
			}
		}
		p, _, _ := strings.Cut(rule, "-")
		knownProviders[p] = true
		return p
	case "trufflehog":
		if p, ok := trufflehogAlias[rule]; ok {
			return p
		}
		if knownProviders[rule] {
			return rule
		}
		var names []string
		for p := range knownProviders {
			names = append(names, p)
		}
		sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
		for _, p := range names {
			// Short names prefix unrelated words (age, lob): only the well-known ones.
			if strings.HasPrefix(rule, p) && (len(p) >= 5 || p == "aws" || p == "gcp" || p == "npm") {
				return p
			}
		}
		return strings.ReplaceAll(rule, "_", "")
	}
	return rule
}
