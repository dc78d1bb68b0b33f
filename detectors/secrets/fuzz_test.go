package secrets

import (
	"github.com/customs-dev/customs/internal/lineartime"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

func checkSpans(t *testing.T, d detectors.Detector, text string) {
	t.Helper()
	d.Find(text, hitsFor(text, d.Meta().Keywords), func(m detectors.Match) {
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End || m.Confidence <= 0 || m.Confidence > 1 {
			t.Fatalf("%s: bad match %+v in %q", d.Meta().ID, m, text)
		}
	})
}

func seedExamples(f *testing.F, ids ...string) {
	for _, id := range ids {
		ex := byID(f, id).Meta().Examples
		for _, s := range append(append([]string{}, ex.Match...), ex.NoMatch...) {
			f.Add(s)
		}
	}
}

func FuzzGitHubChecksum(f *testing.F) {
	seedExamples(f, "secret.github-pat", "secret.github-refresh-token", "secret.npm-token")
	f.Add("ghp_" + "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ" + "0mLq17")
	ds := []detectors.Detector{byID(f, "secret.github-pat"), byID(f, "secret.github-refresh-token"), byID(f, "secret.npm-token")}
	f.Fuzz(func(t *testing.T, s string) {
		ok := GitHubChecksumOK(s)
		// Agree with the independent implementation on every well-formed candidate.
		if body := s[strings.LastIndexByte(s, '_')+1:]; len(body) > 6 && allIn(body, alnum) {
			want := refBase62(refCRC32(body[:len(body)-6]), 6) == body[len(body)-6:]
			if ok != want {
				t.Fatalf("GitHubChecksumOK(%q) = %v, reference says %v", s, ok, want)
			}
		} else if ok {
			t.Fatalf("GitHubChecksumOK(%q) accepted a malformed token", s)
		}
		for _, d := range ds {
			checkSpans(t, d, s)
		}
	})
}

func FuzzJWT(f *testing.F) {
	seedExamples(f, "secret.jwt", "secret.authorization-header")
	d, h := byID(f, "secret.jwt"), byID(f, "secret.authorization-header")
	f.Fuzz(func(t *testing.T, s string) {
		JWTOK(s)
		checkSpans(t, d, s)
		checkSpans(t, h, s)
	})
}

func FuzzPEM(f *testing.F) {
	seedExamples(f, "secret.private-key", "secret.pgp-private-key", "secret.gcp-service-account-key")
	ds := []detectors.Detector{byID(f, "secret.private-key"), byID(f, "secret.pgp-private-key"), byID(f, "secret.gcp-service-account-key")}
	f.Fuzz(func(t *testing.T, s string) {
		PrivateKeyBlockOK(s)
		PyPITokenOK(s)
		SentryOrgTokenOK(s)
		for _, d := range ds {
			checkSpans(t, d, s)
		}
	})
}

func FuzzAssignment(f *testing.F) {
	ids := []string{"secret.password-assignment", "secret.secret-assignment", "secret.postgres-uri", "secret.url-basic-auth", "secret.aws-secret-access-key",
		"secret.mistral-api-key", "secret.datadog-api-key"}
	fuzzSpans(f, ids, nil)
}

// Every detector runs in time linear in its input, including inputs built to make it work
// hardest: 1 MiB of one byte, of one of its keywords, of a keyword and an operator, of near
// misses.
func TestLinearTime(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	// 1 MiB; the race detector slows everything ~10×, so it gets a quarter of that and the
	// same budget.
	size := 1 << 20
	if raceEnabled {
		size = 256 << 10
	}
	fill := func(unit string) string { return strings.Repeat(unit, size/len(unit)+1)[:size] }
	var inputs []string
	for _, c := range "aA0=-_.:/\"' \n~Q{$\\" {
		inputs = append(inputs, fill(string(c)))
	}
	ghp := ghTok("ghp_", "lin", 30)
	inputs = append(inputs,
		fill("-----BEGIN PRIVATE KEY-----\n"), fill("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"),
		fill(`"private_key": "-----BEGIN PRIVATE KEY-----\n`+`"service_account"`),
		fill("eyJ"), fill("eyJhbGciOiJIUzI1NiJ9."), fill("password="), fill(`"password": "`), fill("password password "),
		fill("://"), fill("postgres://a:"), fill("https://u:p@"), fill("@"), fill(ghp[:20]), fill(ghp+ghp),
		fill("AKIA"), fill("AKIAAAAAAAAAAAAAAAAA "), fill("aws_secret_access_key="), fill("sk-"), fill("T3BlbkFJ"),
		fill("sig="), fill("8Q~"), fill("mistral "), fill("twilio"), fill("SKa"), fill("Authorization: Bearer "), fill("xoxb-1"),
		fill("FwoGZXIvYXdz"), fill("service_account"), fill("token=a"), fill("<password>"), fill("secret_"),
	)
	lower := make([]string, len(inputs))
	for i, in := range inputs {
		lower[i] = strings.ToLower(in[:min(len(in), 4096)])
	}
	// Each input is also timed at 1/lineartime.Growth of its size: the worst ratio of the two
	// times, not an absolute time, says whether a detector is linear.
	for _, d := range all(t) {
		worst, worstIn := 0.0, ""
		kws := d.Meta().Keywords
		run := func(in string) {
			_, _, r := lineartime.Ratio(len(in)/lineartime.Growth, 3, func(n int) func() {
				text := in[:n]
				hits := hitsFor(text, kws)
				return func() { d.Find(text, hits, func(detectors.Match) {}) }
			})
			if r > worst {
				worst, worstIn = r, in[:min(40, len(in))]
			}
		}
		for i, in := range inputs {
			for _, k := range kws { // only inputs holding one of its keywords exercise a detector
				if strings.Contains(lower[i], k) {
					run(in)
					break
				}
			}
		}
		for _, kw := range kws {
			run(fill(kw))
			run(fill(strings.ToUpper(kw) + "="))
			run(fill(kw + " "))
		}
		if worst > lineartime.Slack*lineartime.Growth {
			t.Errorf("%s: %.0f times as long on %d times the input of %q (linear ≈ %d)", d.Meta().ID, worst, lineartime.Growth, worstIn, lineartime.Growth)
		}
		t.Logf("%-40s worst ratio %.1f (%q)", d.Meta().ID, worst, worstIn)
	}
}

// FuzzManifestsAndWebhooks covers the detectors issue 15 added or widened: the Kubernetes
// Secret reader (indentation, block scalars, documents) and the context and URL detectors.
func FuzzManifestsAndWebhooks(f *testing.F) {
	ids := []string{"secret.kubernetes-secret", "secret.teams-webhook-url", "secret.slack-webhook-url", "secret.telegram-bot-token",
		"secret.facebook-access-token", "secret.sourcegraph-token", "secret.octopus-deploy-api-key", "secret.jfrog-artifactory-token"}
	f.Add("kind: Secret\ndata:\n  a: |\n\n  b: >-\n    \n---\nkind: Secret\nstringData:\n\tc: x")
	f.Add(`{"kind":"Secret","data":{"a":"eHl6eHl6eHl6","b":3,"c":"\"},"stringData":{"d":"`)
	fuzzSpans(f, ids, nil)
}

// fuzzSpans seeds f with the examples of the detectors ids and checks every span they report
// on each input, then runs more (nil: nothing more) on it.
func fuzzSpans(f *testing.F, ids []string, more func(t *testing.T, s string)) {
	seedExamples(f, ids...)
	var ds []detectors.Detector
	for _, id := range ids {
		ds = append(ds, byID(f, id))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range ds {
			checkSpans(t, d, s)
		}
		if more != nil {
			more(t, s)
		}
	})
}
