package secrets

import (
	"encoding/base64"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Credentials in the forms people paste: command lines (curl -u user:pass, mysql -pSECRET,
// sshpass -p, redis-cli -a, docker login -p, wget --http-password=, htpasswd -b), HTTP
// Authorization schemes other than Bearer and Basic (Token, Api-Token, SSWS, a bare value),
// Azure storage account keys under their own names, and published crypto test vectors, which
// are reported apart at low severity so that a pasted test table is not a critical alarm.
//
// Command lines are read as a shell reads them, only far enough: words split at blanks,
// '…' and "…" (and JSON's \"…\") group, a backslash, backtick or caret before a line break
// continues the command, and an unquoted line break, |, ;, & or # ends it. Only the flags
// of the command at the keyword are looked at, so "-p" means a password to mysql and
// nothing to grep.

const maxCommand = 2048 // bytes of one command line read after its name

func forms() []detectors.Detector {
	cliPw := rnd("cli-pw", a62, 12) + "!7"
	cliPw2 := rnd("cli-pw2", a62, 14)
	tokV := rnd("authz-tok", aHex, 40)
	azKey := base64.StdEncoding.EncodeToString(rndBytes("az-assign", 64))
	vecPriv := rnd("vec-priv", aHex, 64)
	vecPub := "04" + rnd("vec-pub", aHex, 128)
	return []detectors.Detector{
		&cliCred{meta("cli-password", high,
			"Password or token given to a command on its command line: curl -u/--user user:pass, wget --password=, mysql -pSECRET, sshpass -p, redis-cli -a, docker login -p, mongosh -p, sqlcmd -P, ldapsearch -w, htpasswd -b (the password is reported)",
			m("curl", "wget", "mysql", "mariadb", "sshpass", "redis-cli", "docker", "podman", "nerdctl", "mongo", "sqlcmd", "ldap", "htpasswd"), ex(
				m("curl -u deploy:"+cliPw+" https://ci.acme.internal/api",
					"curl -s --user 'api:"+cliPw2+"' \\\n    https://api.acme.internal/v2/messages",
					"mysql -h db.internal -u root -p"+cliPw+" ledger",
					"sshpass -p '"+cliPw+"' ssh deploy@10.0.4.7",
					"redis-cli -h cache.internal -a "+cliPw2+" ping",
					"echo ok && docker login -u ci -p "+cliPw2+" registry.acme.internal",
					`{"cmd": "curl -X POST --user \"svc:`+cliPw+`\" https://api.acme.internal"}`,
					"wget --http-user=ci --http-password=k8#Wq2z https://repo.acme.internal/x.tgz",
					"htpasswd -bc /etc/nginx/.htpasswd admin "+cliPw2),
				"curl -u 'test:test' https://localhost:9200", `curl -sL --user "$1:$2" "$3"`,
				"curl -u <user:password> https://test.com/endpoint", "curl --user neo4j:[PASSWORD] http://[IP]:7474/",
				`curl -u "myusername" http://localhost:15130/`, `curl -u "${username}":"${password}"`,
				"curl --user username:password https://api.acme.internal", "mysql -u root -p ledger",
				"mysql -u root -p", `grep -p `+cliPw+` file`, "docker run -p 8080:80 nginx", "curl -u user:pass http://x",
				"curl https://acme.internal\nmysql -h db -u app ledger -P 3306")),
		},
		&authzToken{meta("authorization-token", high,
			"Credential in an HTTP Authorization value with a scheme other than Bearer or Basic (Token, Api-Token, SSWS, Key, …) or none at all",
			m("authorization"), ex(
				m(`curl -H "Authorization: Token `+tokV+`" https://api.acme.internal`,
					"Authorization: Api-Token "+tokV, "authorization: SSWS 00"+rnd("ssws", a62, 40),
					"curl --header 'Authorization:  "+rnd("authz-uuid", aHex, 8)+"-5008-46e5-be67-"+rnd("authz-uuid2", aHex, 12)+"'",
					`$h = @{ "Authorization" = "Token `+tokV+`" }`),
				`-H "Authorization: Token **********"`, "Authorization: Token $API_TOKEN", `req.Header.Set("Authorization", "Token "+tok)`,
				"Authorization: Bearer "+tokV, "Authorization: Digest username=\"x\", realm=\"y\"", "authorization header missing",
				"Authorization: Token <your-token>", "Authorization: required")),
		},
		&azureKeyAssign{meta("azure-storage-key-assignment", critical,
			"Azure storage account key (88 base64 characters, 64 bytes) under a name that says so outside a connection string: account_key =, accountKey:, AZURE_STORAGE_KEY=, -StorageAccountKey, --account-key",
			m("accountkey", "account_key", "account-key", "storagekey", "storage_key", "storage-key", "storageaccesskey", "storage_access_key"), ex(
				m(`account_key = "`+azKey+`"`, "AZURE_STORAGE_KEY="+azKey, `New-AzStorageContext -StorageAccountName ledger -StorageAccountKey "`+azKey+`"`,
					"az storage blob list --account-name ledger --account-key "+azKey+" -c x", `{ "accountKey": "`+azKey+`" }`,
					"AZURE_STORAGE_ACCOUNT_KEY: "+azKey),
				"AZURE_STORAGE_KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
				"account_key = "+base64.StdEncoding.EncodeToString(rndBytes("az-assign2", 48)),
				"AccountKey="+azKey, "account_key = $AZURE_STORAGE_KEY", "account_key = "+strings.Repeat("A", 86)+"==")),
		},
		&assignment{m: meta("test-vector-key", detectors.Low,
			"Private key or shared secret in hex inside a published test-vector table (next to its public key, ciphertext or nonce, or under NIST/RFC/CAVS/Wycheproof): key material, but public",
			m("secret", "private_key", "privatekey", "priv"), ex(
				m("// NIST vectors\n{\n\tPrivateKey: \""+vecPriv+"\",\n\tPublicKey: \""+vecPub+"\",\n}",
					`{"shared_secret": "`+vecPriv+`", "enc": "`+vecPub+`"}`),
				`private_key = "`+vecPriv+`"`, "SECRET_KEY_BASE="+rnd("vec-skb", aHex, 64))), vectors: true},
	}
}

// ---- command lines ---------------------------------------------------------------------

// flag kinds: what the value of a command's flag is.
const (
	fUserPass = iota + 1 // user:password (the password; the user when the password is empty: an API key as the user)
	fPassword            // the password, attached (-pX, --password=X) or as the next word
	fAttached            // the password only when attached (-pX); "-p X" is something else
	fSepWeak             // the next word, at lower confidence (mysql -p X means database X, but people write it meaning a password)
	fToken               // a bearer token
)

type cliFlag struct {
	name string
	kind int
}

type cliCmd struct {
	flags []cliFlag
	login bool // docker/podman/nerdctl: only the "login" subcommand
	// userShort: combined short flags ending in this letter take user:pass (curl -su user:pass).
	userShort byte
	htpasswd  bool
}

var (
	mysqlFlags  = []cliFlag{{"-p", fSepWeak}, {"-p", fAttached}, {"--password", fPassword}}
	mongoFlags  = []cliFlag{{"-p", fPassword}, {"--password", fPassword}}
	loginFlags  = []cliFlag{{"-p", fPassword}, {"--password", fPassword}}
	ldapFlags   = []cliFlag{{"-w", fPassword}}
	cliCommands = map[string]*cliCmd{
		"curl": {flags: []cliFlag{{"-u", fUserPass}, {"--user", fUserPass}, {"-U", fUserPass}, {"--proxy-user", fUserPass}, {"--oauth2-bearer", fToken}}, userShort: 'u'},
		"wget": {flags: []cliFlag{{"--password", fPassword}, {"--http-password", fPassword}, {"--http-passwd", fPassword},
			{"--ftp-password", fPassword}, {"--ftp-passwd", fPassword}, {"--proxy-password", fPassword}}},
		"mysql": {flags: mysqlFlags}, "mysqldump": {flags: mysqlFlags}, "mysqladmin": {flags: mysqlFlags}, "mysqlsh": {flags: mysqlFlags},
		"mysqlimport": {flags: mysqlFlags}, "mysqlcheck": {flags: mysqlFlags}, "mariadb": {flags: mysqlFlags},
		"mariadb-dump": {flags: mysqlFlags}, "mariadb-admin": {flags: mysqlFlags},
		"sshpass":   {flags: []cliFlag{{"-p", fPassword}}},
		"redis-cli": {flags: []cliFlag{{"-a", fPassword}, {"--pass", fPassword}}},
		"docker":    {flags: loginFlags, login: true}, "podman": {flags: loginFlags, login: true}, "nerdctl": {flags: loginFlags, login: true},
		"mongosh": {flags: mongoFlags}, "mongo": {flags: mongoFlags}, "mongodump": {flags: mongoFlags}, "mongorestore": {flags: mongoFlags},
		"mongoexport": {flags: mongoFlags}, "mongoimport": {flags: mongoFlags},
		"sqlcmd":     {flags: []cliFlag{{"-P", fPassword}}},
		"ldapsearch": {flags: ldapFlags}, "ldapadd": {flags: ldapFlags}, "ldapmodify": {flags: ldapFlags}, "ldapdelete": {flags: ldapFlags},
		"ldapwhoami": {flags: ldapFlags}, "ldappasswd": {flags: ldapFlags},
		"htpasswd": {htpasswd: true},
	}
)

// cliCred finds passwords on command lines; its keywords are command names.
type cliCred struct{ m detectors.Meta }

var _ detectors.Detector = (*cliCred)(nil)

func (c *cliCred) Meta() detectors.Meta { return c.m }

var cmdNameByte = cs("A-Za-z0-9_.-")

func (c *cliCred) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h >= len(text) {
			continue
		}
		// The command name: at a word start (a path before it is fine: /usr/bin/curl).
		if h > 0 && (wordBefore(text, h) || text[h-1] == '-' || text[h-1] == '.') {
			continue
		}
		e := h
		for e < len(text) && e-h < 24 && cmdNameByte[text[e]] {
			e++
		}
		if e < len(text) && text[e] != ' ' && text[e] != '\t' {
			continue // curl/x, curl's, mysql://…: not a command with arguments
		}
		var buf [24]byte
		n := copy(buf[:], text[h:e])
		for i := 0; i < n; i++ {
			if buf[i] >= 'A' && buf[i] <= 'Z' {
				buf[i] += 'a' - 'A'
			}
		}
		name := buf[:n]
		if n > 4 && string(name[n-4:]) == ".exe" {
			name = name[:n-4]
		}
		cmd := cliCommands[string(name)]
		if cmd == nil {
			continue
		}
		last = c.command(text, e, cmd, emit)
	}
}

// command reads the arguments of one command that start at i and reports its passwords; it
// returns where the command ended.
func (c *cliCred) command(text string, i int, cmd *cliCmd, emit func(detectors.Match)) int {
	limit := min(len(text), i+maxCommand)
	var pending *cliFlag // a flag whose value is the next word
	var positional [3][2]int
	npos, hflags := 0, ""
	first := true
	for {
		ws, we, next, ok := shellWord(text, i, limit)
		if !ok {
			if cmd.htpasswd {
				htpasswdValue(text, hflags, positional[:npos], emit)
			}
			return next
		}
		i = next
		w := text[ws:we]
		if first && cmd.login {
			if w != "login" {
				return i
			}
			first = false
			continue
		}
		first = false
		if pending != nil {
			f := pending
			pending = nil
			if len(w) > 1 && w[0] == '-' {
				if f.kind == fSepWeak {
					continue // mysql -p -h db: -p prompts
				}
			} else {
				c.value(text, ws, we, f.kind, strings.HasPrefix(f.name, "--"), emit)
				continue
			}
		}
		if cmd.htpasswd {
			switch {
			case len(w) > 1 && w[0] == '-':
				hflags += w[1:]
			case npos < len(positional):
				positional[npos] = [2]int{ws, we}
				npos++
			}
			continue
		}
		if len(w) < 2 || w[0] != '-' {
			continue
		}
		for k := range cmd.flags {
			f := &cmd.flags[k]
			switch {
			case w == f.name:
				if f.kind != fAttached {
					pending = f
				}
			case f.kind != fSepWeak && f.kind != fAttached && strings.HasPrefix(w, f.name+"=") && strings.HasPrefix(f.name, "--"):
				c.value(text, ws+len(f.name)+1, we, f.kind, true, emit)
			case (f.kind == fAttached || (f.kind == fPassword || f.kind == fUserPass) && len(f.name) == 2) && len(w) > 2 && w[:2] == f.name && w[1] != '-':
				c.value(text, ws+2, we, f.kind, false, emit) // -pSECRET
			case cmd.userShort != 0 && f.kind == fUserPass && len(f.name) == 2 && f.name[1] == cmd.userShort && shortCombo(w, cmd.userShort):
				pending = f // curl -su user:pass
			default:
				continue
			}
			break
		}
	}
}

// shortCombo: w is a cluster of short flags (-sku) that ends in letter.
func shortCombo(w string, letter byte) bool {
	if len(w) < 3 || w[0] != '-' || w[1] == '-' || w[len(w)-1] != letter {
		return false
	}
	return allIn(w[1:], letters)
}

// value reports the password in the flag value text[vs:ve] (a raw shell word).
// long: the flag is a --password-style long option, whose values the generic password
// detector already reads.
func (c *cliCred) value(text string, vs, ve, kind int, long bool, emit func(detectors.Match)) {
	if kind == fUserPass {
		// 'user:pass' quoted whole, or user:'pass' quoted in parts.
		if qs, qe := unquote(text, vs, ve); qe-qs == ve-vs-2 && !strings.ContainsAny(text[qs:qe], "\"'") ||
			qe-qs == ve-vs-4 && !strings.Contains(text[qs:qe], `\"`) {
			vs, ve = qs, qe
		}
		colon := unquotedColon(text, vs, ve)
		if colon < 0 {
			return
		}
		us, ue := unquote(text, vs, colon)
		ps, pe := unquote(text, colon+1, ve)
		ps, pe = unbrace(text, ps, pe)
		user := text[us:ue]
		if pe == ps { // an API key as the user name, with no password (curl -u sk_…:)
			if len(user) >= 10 && genericValueOK(user, true) && !camelIdent(user) && !strings.ContainsAny(user, "$%{}<>[]@") {
				emit(detectors.Match{Start: us, End: ue, Confidence: 0.7})
			}
			return
		}
		if cliPasswordOK(user, text[ps:pe]) {
			emit(detectors.Match{Start: ps, End: pe, Confidence: 0.85})
		}
		return
	}
	ps, pe := unquote(text, vs, ve)
	v := text[ps:pe]
	switch kind {
	case fSepWeak:
		if genericValueOK(v, true) && !camelIdent(v) {
			emit(detectors.Match{Start: ps, End: pe, Confidence: 0.5})
		}
	case fToken:
		if tokenLike(v) {
			emit(detectors.Match{Start: ps, End: pe, Confidence: 0.8})
		}
	default:
		if long && genericValueOK(v, true) {
			return // --password=…: secret.password-assignment reports it
		}
		if cliPasswordOK("", v) {
			emit(detectors.Match{Start: ps, End: pe, Confidence: 0.85})
		}
	}
}

// htpasswdValue: htpasswd -b [-c…] FILE USER PASSWORD, or -nb USER PASSWORD.
func htpasswdValue(text, flags string, pos [][2]int, emit func(detectors.Match)) {
	if !strings.Contains(flags, "b") {
		return
	}
	k := 2
	if strings.Contains(flags, "n") {
		k = 1
	}
	if len(pos) <= k {
		return
	}
	us, ue := unquote(text, pos[k-1][0], pos[k-1][1])
	ps, pe := unquote(text, pos[k][0], pos[k][1])
	if pe > ps && cliPasswordOK(text[us:ue], text[ps:pe]) {
		emit(detectors.Match{Start: ps, End: pe, Confidence: 0.85})
	}
}

// cliPasswordOK gates a password given on a command line: the command is context enough for
// short passwords, but not for variables, placeholders and the passwords of documentation.
func cliPasswordOK(user, v string) bool {
	if len(v) < 4 || len(v) > maxValue || v[0] == '-' || strings.ContainsAny(v, " \t\"'`\\") {
		return false
	}
	if strings.Contains(v, "$(") || strings.Contains(v, "${") || strings.Contains(v, "{{") || v[0] == '$' || v[0] == '%' {
		return false
	}
	if strings.Count(v, v[:1]) == len(v) || !uriPasswordOK(user, v) {
		return false
	}
	return detectors.Entropy(v) >= 1.5
}

// tokenLike: a random-looking token (an API key given as a user name or bearer value).
func tokenLike(v string) bool {
	return len(v) >= 16 && !strings.ContainsAny(v, "$%{}<>[] \t") && genericValueOK(v, false) && !camelIdent(v)
}

// unquotedColon returns the first ':' of text[i:j] outside quotes, or -1.
func unquotedColon(text string, i, j int) int {
	var q byte
	for k := i; k < j; k++ {
		c := text[k]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == ':':
			return k
		}
	}
	return -1
}

// unquote strips one pair of enclosing quotes ('…', "…", or JSON's \"…\") from text[i:j].
func unquote(text string, i, j int) (int, int) {
	if j-i >= 4 && text[i] == '\\' && text[i+1] == '"' && text[j-2] == '\\' && text[j-1] == '"' {
		return i + 2, j - 2
	}
	if j-i >= 2 && (text[i] == '"' || text[i] == '\'') && text[j-1] == text[i] {
		return i + 1, j - 1
	}
	return i, j
}

// unbrace strips {…} around a value that is not a template ({ZqL5…}, not {{x}} or {user}).
func unbrace(text string, i, j int) (int, int) {
	if j-i >= 10 && text[i] == '{' && text[j-1] == '}' && allIn(text[i+1:j-1], alnum) {
		return i + 1, j - 1
	}
	return i, j
}

// shellWord reads the next word of a command from i: its raw span (quotes kept), where to go
// on, and ok == false at the end of the command (next is then where it ended).
func shellWord(text string, i, limit int) (ws, we, next int, ok bool) {
	// Blanks and line continuations: \⏎, `⏎ (PowerShell), ^⏎ (cmd), and JSON's \\\n.
	for i < limit {
		c := text[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case (c == '\\' || c == '`' || c == '^') && i+1 < limit && (text[i+1] == '\n' || text[i+1] == '\r'):
			i += 2
			for i < limit && (text[i] == '\n' || text[i] == '\r') {
				i++
			}
			continue
		case c == '\\' && strings.HasPrefix(text[i:limit], `\\\n`):
			i += 4
			continue
		case c == '\\' && strings.HasPrefix(text[i:limit], `\\\r\n`):
			i += 6
			continue
		}
		break
	}
	if i >= limit {
		return 0, 0, i, false
	}
	switch text[i] {
	case '\n', '\r', '|', ';', '&', '#', ')', '`', '>', '<':
		return 0, 0, i, false
	case '\\':
		if i+1 < limit && (text[i+1] == 'n' || text[i+1] == 'r') {
			return 0, 0, i, false // a line break in JSON text
		}
	}
	ws = i
	for i < limit {
		c := text[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '|' || c == ';' || c == '&' || c == ')' {
			break
		}
		switch {
		case c == '\\' && i+1 < limit && text[i+1] == '"':
			// JSON's \"…\": to the next \".
			k := strings.Index(text[i+2:limit], `\"`)
			if k < 0 {
				return 0, 0, limit, false
			}
			i += 2 + k + 2
			continue
		case c == '\\' && i+1 < limit && (text[i+1] == 'n' || text[i+1] == 'r' || text[i+1] == 't'):
			return ws, i, i, i > ws // an escaped line break or tab ends the word
		case c == '"' || c == '\'':
			k := strings.IndexByte(text[i+1:limit], c)
			if k < 0 {
				return 0, 0, limit, false
			}
			i += 1 + k + 1
			continue
		}
		i++
	}
	return ws, i, i, i > ws
}

// ---- Authorization schemes -------------------------------------------------------------

// authzToken finds the credential of an Authorization value whose scheme is not Bearer or
// Basic (secret.authorization-header reports those): Token, Api-Token, SSWS, Key, or none.
type authzToken struct{ m detectors.Meta }

var _ detectors.Detector = (*authzToken)(nil)

func (a *authzToken) Meta() detectors.Meta { return a.m }

// authSchemes that carry a bare credential after them (lower case).
var authSchemes = []string{"token", "api-token", "apitoken", "api-key", "apikey", "key", "ssws", "genie-key", "geniekey", "klaviyo-api-key", "deepl-auth-key", "splunk", "sso-key", "access-token", "pat", "dsn", "client"}

func (a *authzToken) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h >= len(text) || wordBefore(text, h) {
			continue
		}
		i := h + len("authorization")
		if i < len(text) && (isWord(text[i]) || text[i] == '-') {
			continue // authorization_code, Authorization-Header
		}
		// "Authorization": "Token …", Authorization: Token …, ("Authorization", "Token …"),
		// \"Authorization\": \"Token …\", @{ "Authorization" = "Token …" }
		sep, colon := 0, false
		for sep < 8 && i < len(text) && strings.IndexByte(" \t\"':=,\\", text[i]) >= 0 {
			colon = colon || text[i] == ':' || text[i] == '=' || text[i] == ','
			i++
			sep++
		}
		if !colon || i >= len(text) {
			continue
		}
		// An optional scheme word, then the credential.
		j := i
		for j < len(text) && j-i < 20 && (isLetterByte(text[j]) || text[j] == '-') {
			j++
		}
		if j < len(text) && j > i && text[j] == ' ' {
			scheme := text[i:j]
			if strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "basic") || !foldIn(scheme, authSchemes) {
				continue
			}
			i = skipBlank(text, j)
		}
		e := i
		for e < len(text) && e-i < 512 && bearerByte[text[e]] {
			e++
		}
		for e > i && text[e-1] == '.' {
			e--
		}
		if e-i < 10 || e < len(text) && (isWord(text[e]) || text[e] == '$' || text[e] == '{' || text[e] == '<' || text[e] == '*') {
			continue
		}
		v := text[i:e]
		if !authzValueOK(v) {
			continue
		}
		emit(detectors.Match{Start: i, End: e, Confidence: 0.8})
		last = e
	}
}

func foldIn(s string, list []string) bool {
	for _, w := range list {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// authzValueOK: random-looking, with digits (hex tokens and UUIDs count), not a variable, a
// placeholder, a word or a token another detector owns.
func authzValueOK(v string) bool {
	if hasOwnedPrefix(v) || ownedShape(v) || placeholder(v) || camelIdent(v) || isIdentPath(v) {
		return false
	}
	l, u, d, _ := classes(v)
	if !d || !l && !u {
		return false
	}
	return detectors.Entropy(v) >= 3.0
}

// ---- Azure storage account keys under their names --------------------------------------

type azureKeyAssign struct{ m detectors.Meta }

var _ detectors.Detector = (*azureKeyAssign)(nil)

func (a *azureKeyAssign) Meta() detectors.Meta { return a.m }

// azuriteKey is the Azure storage emulator's published account key.
const azuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

func (a *azureKeyAssign) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h >= len(text) {
			continue
		}
		if strings.HasPrefix(text[h:], "AccountKey=") && h+11 < len(text) && b64std[text[h+11]] {
			continue // a connection string's: secret.azure-storage-account-key reports it
		}
		// To the end of the name, then over quotes, brackets, blanks (line breaks too: a
		// value on the next line) and one operator to the value.
		i := h
		for i < len(text) && i-h < 48 && (isWord(text[i]) || text[i] == '-') {
			i++
		}
		for k := 0; k < 48 && i < len(text) && strings.IndexByte(" \t\r\n\"'`:=,{}()[]>|\\", text[i]) >= 0; k++ {
			if text[i] == '\\' && i+1 < len(text) && text[i+1] != '"' && text[i+1] != 'n' {
				break
			}
			if text[i] == '\\' && i+1 < len(text) && text[i+1] == 'n' {
				i++
			}
			i++
		}
		e := i
		for e < len(text) && e-i <= 88 && b64stdEq[text[e]] {
			e++
		}
		if e-i != 88 || e < len(text) && isWord(text[e]) {
			continue
		}
		v := text[i:e]
		if v == azuriteKey || !strings.HasSuffix(v, "==") || !base64Len(v, 64) || placeholder(v) || detectors.Entropy(v) < 4.5 {
			continue
		}
		emit(detectors.Match{Start: i, End: e, Confidence: 0.9})
		last = e
	}
}

// ---- crypto test vectors ---------------------------------------------------------------

// hexValue: v is an even number of hex digits, 64 or more (a 256-bit scalar or longer) — how
// key material is written in test-vector tables. Shorter hex values are the API keys and
// session secrets of configuration files.
func hexValue(v string) bool {
	return len(v) >= 64 && len(v)%2 == 0 && allIn(v, hexAny)
}

// vectorFields name the public parts of a test vector (lower case, as substrings of a name).
var vectorFields = detectors.NewWordSet("pub", "pk", "enc", "cipher", "nonce", "iv", "plain", "msg", "message", "aad",
	"tag", "expect", "want", "output", "ikm", "info", "seed", "point", "sig", "digest", "mac", "result", "peer", "qx", "qy")

// vectorWords mark a published test-vector table near a value.
var vectorWords = detectors.NewWordSet("test vector", "testvector", "test_vector", "nist", "cavs", "rfc ", "rfc-", "rfc8", "rfc7",
	"rfc5", "rfc6", "rfc9", "wycheproof", "known answer", "kat ", "acvp")

// inTestVector reports whether the hex value text[vs:ve] sits in a test-vector table: under
// words that say so, or next to another long hex value named as a vector's public part (its
// public key, ciphertext, nonce, …) — a configuration file's secrets sit next to other
// secrets, DSNs and commit hashes.
func inTestVector(text string, vs, ve int) bool {
	if !hexValue(text[vs:ve]) {
		return false
	}
	lo, hi := max(0, vs-600), min(len(text), ve+600)
	if vectorWords.In(text[lo:vs]) {
		return true
	}
	for i := lo; i < hi; {
		if i == vs {
			i = ve
			continue
		}
		if !hexAny[text[i]] || i > lo && alnum[text[i-1]] {
			i++
			continue
		}
		// A long value (a post-quantum public key runs to thousands of digits) may cross the
		// window's edges: it is read whole, to its name.
		start := i
		for start > 0 && i-start < 16<<10 && hexAny[text[start-1]] {
			start--
		}
		j := i
		for j < len(text) && j-i < 16<<10 && hexAny[text[j]] {
			j++
		}
		if j-start >= 32 && (start == 0 || !alnum[text[start-1]]) && (j >= len(text) || !alnum[text[j]]) && vectorField(text, start) {
			return true
		}
		i = j + 1
	}
	return false
}

// vectorField: the hex value at i is assigned to the name of a public part of a test
// vector (PublicKey: "…", "pkRm": "…", "enc": "…"), not to a credential's.
func vectorField(text string, i int) bool {
	k := i
	for n := 0; n < 6 && k > 0 && strings.IndexByte(" \t\"'`:=", text[k-1]) >= 0; n++ {
		k--
	}
	s := k
	for s > 0 && k-s < maxIdent && isIdentByte(text[s-1]) {
		s--
	}
	if s == k {
		return false
	}
	n := text[s:k]
	if _, ok := credName(n); ok {
		return false
	}
	return vectorFields.In(lowerName(n))
}
