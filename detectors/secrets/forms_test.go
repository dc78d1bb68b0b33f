package secrets

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// secretEngine compiles the secret detectors as detectors/builtin does.
func secretEngine(t testing.TB) *detectors.Engine {
	t.Helper()
	ds, err := Detectors()
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPastedForms: credentials as people paste them — shell with its quotes and line
// continuations, the same command JSON-escaped inside a chat request body, Windows PowerShell
// — each found once, with its exact span and by the detector that owns the form. want == ""
// means no secret finding at all; id == "" accepts any secret detector.
func TestPastedForms(t *testing.T) {
	pw := rnd("paste-pw", a62, 11) + "~2"   // a generated password with a symbol
	pwS := "k8#" + rnd("paste-pws", a62, 4) // short: only the command line says it is a password
	key := rnd("paste-key", a62, 28)
	hex40 := rnd("paste-hex", aHex, 40)
	uuid := rnd("paste-u1", aHex, 8) + "-" + rnd("paste-u2", aHex, 4) + "-4" + rnd("paste-u3", aHex, 3) + "-a" + rnd("paste-u4", aHex, 3) + "-" + rnd("paste-u5", aHex, 12)
	az := base64.StdEncoding.EncodeToString(rndBytes("paste-az", 64))
	basic := base64.StdEncoding.EncodeToString([]byte("svc-ledger:" + pw))
	json := func(s string) string { // as a chat client sends it
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
		return `{"messages":[{"role":"user","content":"why does this fail?\n` + r.Replace(s) + `"}]}`
	}
	type tc struct{ name, text, id, want string }
	tests := []tc{
		// curl -u / --user: the password, whatever the quoting.
		{"curl -u bare", "curl --cacert ca.crt -u elastic:" + pw + " https://localhost:9200", "secret.cli-password", pw},
		{"curl -u attached", "curl -uadmin:" + pwS + " https://ci.acme.internal", "secret.cli-password", pwS},
		{"curl -su combined", "curl -su admin:" + pwS + " https://ci.acme.internal", "secret.cli-password", pwS},
		{"curl --user single quotes", "curl -sw '%{http_code}' -X POST --user 'johns:" + pw + "' $API/$COMMIT --data", "secret.cli-password", pw},
		{"curl --user double quotes", `curl -s -v --user "j.smith:` + pw + `" "https://api.acme.internal/user/me"`, "secret.cli-password", pw},
		{"curl --user mixed quotes", "curl --user kevin:'" + pw + "' -iX PATCH -H 'Content-Type: application/json'", "secret.cli-password", pw},
		{"curl --user braces", `curl -X POST --user "{` + uuid + `}":"{` + key[:14] + `}" --data x`, "secret.cli-password", key[:14]},
		{"curl --user e-mail", "curl --user roger23@mail.acme.internal:" + pwS + " https://files.acme.internal/link", "secret.cli-password", pwS},
		{"curl empty user", `curl -u ":` + pw + `" https://localhost:9200`, "secret.cli-password", pw},
		{"curl key as user", `curl https://api.acme.internal/v1/charges -u "` + key + `:"`, "secret.cli-password", key},
		{"curl continued", "sh-5.0$ curl -k -X POST https://infinispan:11222/rest \\\n  -H 'Content-type: text/plain' \\\n  -d 'world' \\\n  -u developer:" + pw, "secret.cli-password", pw},
		{"curl in json", json("curl -X POST --user \"svc:" + pw + "\" https://api.acme.internal"), "secret.cli-password", pw},
		{"curl continued in json", json("curl https://api.acme.internal/oauth2/token \\\n  --user c28wlsosanujy2z:" + pwS + " --data grant_type=x"), "secret.cli-password", pwS},
		{"curl.exe in PowerShell", "PS C:\\> curl.exe -u admin:" + pw + " https://ci.acme.internal", "secret.cli-password", pw},
		{"PowerShell continuation", "curl.exe `\n  --user admin:" + pwS + " `\n  https://ci.acme.internal", "secret.cli-password", pwS},
		// Other commands.
		{"mysql -p attached", "mysql -h db.internal -u root -p" + pw + " ledger", "secret.cli-password", pw},
		{"mysql -p separate", "mysql -u root -p '" + pw + "' -h db", "secret.cli-password", pw},
		{"mysqldump", "mysqldump -uroot -p" + pwS + " ledger > dump.sql", "secret.cli-password", pwS},
		{"mysql --password=", "mysql --password=" + pw + " -h db", "secret.password-assignment", pw},
		{"PGPASSWORD", "PGPASSWORD=" + pw + " psql -h db.internal -U app ledger", "secret.password-assignment", pw},
		{"psql URI", `psql "postgresql://app:` + pw + `@db.acme.internal:5432/ledger?sslmode=require"`, "secret.postgres-uri", pw},
		{"mongosh URI", `mongosh "mongodb+srv://app:` + pw + `@cluster0.acme.net/ledger"`, "secret.mongodb-uri", pw},
		{"mongosh -p", "mongosh --host db -u admin -p " + pwS + " --authenticationDatabase admin", "secret.cli-password", pwS},
		{"sshpass", "sshpass -p '" + pwS + "' ssh -o StrictHostKeyChecking=no deploy@10.0.4.7", "secret.cli-password", pwS},
		{"redis-cli -a", "redis-cli -h cache.internal -p 6379 -a " + pw + " ping", "secret.cli-password", pw},
		{"docker login -p", "docker login -u ci -p " + pwS + " registry.acme.internal", "secret.cli-password", pwS},
		{"wget --http-password", "wget --http-user=ci --http-password=" + pwS + " https://repo.acme.internal/x.tgz", "secret.cli-password", pwS},
		{"ldapsearch -w", "ldapsearch -x -H ldap://dc1 -D cn=admin,dc=acme -w " + pwS + " -b dc=acme", "secret.cli-password", pwS},
		{"sqlcmd -P", "sqlcmd -S db.acme.internal -U sa -P " + pwS + " -Q \"SELECT 1\"", "secret.cli-password", pwS},
		{"htpasswd -b", "htpasswd -bc /etc/nginx/.htpasswd admin " + pwS, "secret.cli-password", pwS},
		// Headers.
		{"Authorization: Token", `curl -H "Authorization: Token ` + hex40 + `" --request PUT https://api.acme.internal`, "secret.authorization-token", hex40},
		{"Authorization: Api-Token", `curl -H "Authorization: Api-Token ` + hex40 + `" https://api.acme.internal`, "secret.authorization-token", hex40},
		{"Authorization bare UUID", "curl --header  'Authorization:  " + uuid + "'", "secret.authorization-token", uuid},
		{"Authorization in json", json(`curl -H "Authorization: Token ` + hex40 + `" https://api.acme.internal`), "secret.authorization-token", hex40},
		{"PowerShell headers", `Invoke-RestMethod -Uri $u -Headers @{ "Authorization" = "Token ` + hex40 + `" }`, "secret.authorization-token", hex40},
		{"Authorization: Basic", `curl -H 'Authorization: Basic ` + basic + `' https://api.acme.internal`, "secret.authorization-header", basic},
		{"X-Api-Key", `curl -H "X-Api-Key: ` + key + `" https://api.acme.internal`, "secret.secret-assignment", key},
		{"X-Auth-Token", `curl -H 'X-Auth-Token: ` + key + `' https://api.acme.internal`, "secret.secret-assignment", key},
		{"Private-Token", `curl --header "Private-Token: ` + key + `" https://git.acme.internal/api/v4/projects`, "secret.secret-assignment", key},
		{"apikey UUID", `curl -X GET -H "apikey: ` + uuid + `" -H "Accept: application/json"`, "secret.secret-assignment", uuid},
		{"Token header", `curl -XPOST http://localhost:8080/api/tasks -H "Token: ` + hex40[:16] + `" -d "content=x"`, "secret.secret-assignment", hex40[:16]},
		// Azure storage keys by name.
		{"az --account-key", "az storage blob upload --account-name ledger --account-key " + az + " -c x -f y", "secret.azure-storage-key-assignment", az},
		{"New-AzStorageContext", `$ctx = New-AzStorageContext -StorageAccountName "ledger" -StorageAccountKey "` + az + `"`, "secret.azure-storage-key-assignment", az},
		{"AZURE_STORAGE_KEY", "export AZURE_STORAGE_KEY=" + az, "secret.azure-storage-key-assignment", az},
		{"accountKey JSON", `{"accountName": "ledger", "accountKey": "` + az + `"}`, "secret.azure-storage-key-assignment", az},
		{"account key next line", "public static final String DEFAULT_ACCOUNT_KEY\n        = \"" + az + "\";", "secret.azure-storage-key-assignment", az},
		{"connection string", "DefaultEndpointsProtocol=https;AccountName=ledger;AccountKey=" + az + ";EndpointSuffix=core.windows.net", "secret.azure-storage-account-key", az},
		// Not credentials.
		{"curl variables", `curl -sL --user "$GITHUB_USERNAME:$GITHUB_PASSWORD" "$GITHUB_URL"`, "", ""},
		{"curl templates", `curl --silent --user "{{ $.Values.username }}:{{ $.Values.password }}"`, "", ""},
		{"curl command substitution", `curl -X POST --user "$(cat ./login.txt):$(cat ./password.txt)"`, "", ""},
		{"curl placeholder words", "curl -u username:token https://api.acme.internal", "", ""},
		{"curl masked", `curl --user "xxx:yyy" https://api.acme.internal`, "", ""},
		{"curl placeholder", "curl -u <user:password> https://test.com/endpoint", "", ""},
		{"mysql prompts", "mysql -u root -p ledger", "", ""},
		{"docker run -p", "docker run -p 5432:5432 -e POSTGRES_DB=app postgres", "", ""},
		{"sshpass env", `sshpass -p "$SSHPASS" ssh deploy@host`, "", ""},
		{"redis-cli env", `redis-cli -a "$REDIS_PASSWORD" ping`, "", ""},
		{"Authorization variable", `curl -H "Authorization: Token $API_TOKEN" https://api.acme.internal`, "", ""},
		{"Authorization masked", `curl -H "Authorization: Token **********" https://api.acme.internal`, "", ""},
		{"az variable", "az storage blob list --account-key $AZURE_STORAGE_KEY", "", ""},
		{"Azurite", "AZURE_STORAGE_KEY=" + azuriteKey, "", ""},
	}
	e := secretEngine(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			found := false
			e.Scan(tc.text, func(d detectors.Detector, m detectors.Match) {
				v := tc.text[m.Start:m.End]
				got = append(got, d.Meta().ID+" "+v)
				if v == tc.want && (tc.id == "" || d.Meta().ID == tc.id) {
					found = true
				}
			})
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("want no finding, got %q", got)
			case tc.want != "" && !found:
				t.Errorf("want %s %q, got %q", tc.id, tc.want, got)
			case tc.want != "" && len(got) > 1:
				t.Errorf("want one finding, got %q", got)
			}
		})
	}
}

// TestRealCodeForms: lines of real source code (the Go distribution, npm packages) that the
// generic detectors once reported. Expressions, names, documentation credentials and badge
// tokens are not secrets; published test vectors are reported apart, at low severity.
func TestRealCodeForms(t *testing.T) {
	vecPriv, vecPub := rnd("rc-priv", aHex, 64), "04"+rnd("rc-pub", aHex, 128)
	tests := []struct{ name, text, id string }{
		{"comparison", "withCredentials = _resolveConfig$withCr === void 0 ? 'same-origin' : _resolveConfig$withCr;", ""},
		{"strict equality", "if(token===E.NULL)return;", ""},
		{"nullish coalescing", "const token = f.converter??Ge;", ""},
		{"camel-case name", `credential: workloadIdentity,`, ""},
		{"label string", `nextLastSignificantToken = "?InterpolationInJSX";`, ""},
		{"chained assignment", ";ae.MismatchedTokenException=ae.isRecognitionException=void 0;var ys=k()", ""},
		{"minified comparison", `'o.credentials=e.credentials==="use-credentials"?"include":e.crossOrigin'`, ""},
		{"name in prose", "// Note about `withCredentials`: `withCredentials` controls whether cross-site", ""},
		{"badge token", "[![coverage][cover]][cover-url]\n[cover]: https://codecov.io/gh/acme/ledger/graph/badge.svg?token=mDP3kQ7xZt", ""},
		{"format description", "// Format of /etc/group is\n// \tgroupname:password:GID:user_list", ""},
		{"escaped example password", `url := "http://My%20User:My%20Pass@dummy.faketld/"`, ""},
		{"escaped slash", `in: "http://user:pa%2Fssword@dummy.faketld/",`, ""},
		{"documentation host", "(e.g. `https://user:p%40ss@host`)", ""},
		{"example.com", "see https://abc:xyz123@example.com/path", ""},
		{"leet password", "auth: {\n  username: 'janedoe',\n  password: 's00pers3cret'\n},", ""},
		{"test vector", "// NIST vectors\n{\n\tPrivateKey: \"" + vecPriv + "\",\n\tPublicKey: \"" + vecPub + "\",\n}", "secret.test-vector-key"},
		{"hpke vector", `{"skRm": "` + vecPriv + `", "pkRm": "` + vecPub + `", "shared_secret": "` + rnd("rc-ss", aHex, 64) + `"}`, "secret.test-vector-key"},
		{"RFC vector", "// From RFC 8410, Section 7.\nvar privateKeyHex = `" + vecPriv + "`", "secret.test-vector-key"},
	}
	e := secretEngine(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.Scan(tc.text, func(d detectors.Detector, m detectors.Match) {
				if d.Meta().ID != tc.id || tc.id == "" {
					t.Errorf("%s reports %q", d.Meta().ID, tc.text[m.Start:m.End])
				}
			})
		})
	}
}

// The form detectors allocate nothing on text they report nothing in.
func TestFormsNoAllocs(t *testing.T) {
	text := "curl -s -X POST -H 'Content-Type: application/json' -H \"Authorization: Bearer $TOKEN\" --data @body.json https://api.acme.internal\n" +
		"mysql -u root -p ledger\naccount_key = os.environ['AZURE_STORAGE_KEY']\nprivate_key: \"" + rnd("na-hex", aHex, 64) + "\"\n" +
		"withCredentials = a$b === void 0; token: workloadIdentity\n"
	for _, id := range []string{"secret.cli-password", "secret.authorization-token", "secret.azure-storage-key-assignment", "secret.test-vector-key"} {
		d := byID(t, id)
		hits := hitsFor(text, d.Meta().Keywords)
		n := testing.AllocsPerRun(50, func() {
			d.Find(text, hits, func(detectors.Match) { t.Fatalf("%s reported something", id) })
		})
		if n > 1 { // credName's lower-cased name is the assignment detectors' one allocation
			t.Errorf("%s: %.0f allocations on text without a finding", id, n)
		}
	}
}

func FuzzForms(f *testing.F) {
	ids := []string{"secret.cli-password", "secret.authorization-token", "secret.azure-storage-key-assignment", "secret.test-vector-key"}
	fuzzSpans(f, ids, func(t *testing.T, s string) {
		for i := 0; i < len(s); i++ { // the word reader from every offset: ends, and moves on
			ws, we, next, ok := shellWord(s, i, len(s))
			if next < i || next > len(s) || ok && (ws < i || we < ws || we > next) {
				t.Fatalf("shellWord(%q, %d) = %d, %d, %d, %v", s, i, ws, we, next, ok)
			}
		}
	})
}
