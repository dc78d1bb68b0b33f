package secrets

import (
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// promptCorpus builds prompt-shaped text: prose about code and tokens, code with
// configuration, logs, URLs — with few secrets, as real traffic has.
func promptCorpus(size int) string {
	r := mrand.New(mrand.NewPCG(7, 8))
	paras := []string{
		"Can you help me refactor this function? It reads the config, opens a connection to the database and retries on failure. I asked about the token limit earlier; the model said max_tokens should be 4096. The author of the library recommends passing the secret through an environment variable instead of hard-coding it.",
		"Here is the error I get when I run the tests:\n```\nTraceback (most recent call last):\n  File \"app.py\", line 42, in <module>\n    client = Client(api_key=os.environ[\"API_KEY\"], timeout=30)\nKeyError: 'API_KEY'\n```\nWhat am I doing wrong? The docs at https://docs.example.com/auth/tokens say the key must be set.",
		"```go\nfunc (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\ttoken := r.Header.Get(\"Authorization\")\n\tif token == \"\" {\n\t\thttp.Error(w, \"missing token\", http.StatusUnauthorized)\n\t\treturn\n\t}\n\tuser, err := s.auth.Verify(r.Context(), token)\n\tif err != nil {\n\t\tlog.Printf(\"auth failed for %s: %v\", r.RemoteAddr, err)\n\t}\n}\n```",
		"settings:\n  database:\n    host: db.internal\n    port: 5432\n    user: app\n    password: ${DB_PASSWORD}\n  cache:\n    url: redis://cache.internal:6379/0\n  secret_key_file: /run/secrets/app_key\n",
		"2024-05-12T10:22:31Z INFO request id=7f3c2a1e-9b8d-4c6f-a2e1-5d4c3b2a1f0e path=/v1/chat/completions status=200 duration=812ms tokens_in=1532 tokens_out=244 user=alice@example.com",
		"Summarize the following meeting notes. Attendees discussed the Q3 roadmap, the migration from the legacy authentication service, and whether passwordless login should ship before the holidays. Action items: rotate credentials for the staging cluster, document the token refresh flow, and review the access policy for contractors.",
		"const config = {\n  apiBaseUrl: 'https://api.example.com',\n  authToken: process.env.AUTH_TOKEN,\n  retries: 3,\n  secretName: 'prod/api',\n};\nexport default config;\n",
		"SELECT u.id, u.email, s.token_hash FROM users u JOIN sessions s ON s.user_id = u.id WHERE s.expires_at > now() AND u.password_changed_at < now() - interval '90 days';",
	}
	secrets := []string{
		"GITHUB_TOKEN=" + ghTok("ghp_", "bench", 30),
		"aws_access_key_id = AKIA" + rnd("bench-aws", aB32, 16) + "\naws_secret_access_key = " + rnd("bench-awss", aStd, 40),
		`password = "` + rnd("bench-pw", a62, 14) + `"`,
		"postgres://app:" + rnd("bench-db", a62, 16) + "@db.internal:5432/ledger",
		"Authorization: Bearer " + jwtTok(`{"sub":"1","exp":1900000000}`, "bench"),
	}
	var b strings.Builder
	for b.Len() < size {
		if r.IntN(40) == 0 {
			b.WriteString(secrets[r.IntN(len(secrets))])
		} else {
			b.WriteString(paras[r.IntN(len(paras))])
		}
		b.WriteString("\n\n")
	}
	return b.String()[:size]
}

// BenchmarkFind measures all secret detectors' Find over prompt-shaped text, with keyword hits
// computed beforehand (the engine's automaton finds them in its single pass).
func BenchmarkFind(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		text := promptCorpus(size)
		ds := all(b)
		hits := make([][]int, len(ds))
		for i, d := range ds {
			hits[i] = hitsFor(text, d.Meta().Keywords)
		}
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			n := 0
			for b.Loop() {
				for i, d := range ds {
					if len(hits[i]) > 0 {
						d.Find(text, hits[i], func(detectors.Match) { n++ })
					}
				}
			}
		})
	}
}

// BenchmarkDetector shows which detectors cost most on the same text.
func BenchmarkDetector(b *testing.B) {
	text := promptCorpus(1 << 20)
	for _, d := range all(b) {
		hits := hitsFor(text, d.Meta().Keywords)
		if len(hits) == 0 {
			continue
		}
		b.Run(d.Meta().ID, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				d.Find(text, hits, func(detectors.Match) {})
			}
		})
	}
}
