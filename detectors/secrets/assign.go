package secrets

import (
	"bytes"
	"math"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Generic credentials assigned in code and configuration: password = "…", "secret": "…",
// TOKEN=…, api_key: …, <password>…</password>, WITH PASSWORD '…'. A small hand-written parser
// runs at each keyword hit: it takes the identifier around the hit, decides whether the name
// is a credential's, skips the operator, reads one quoted or bare value and gates it — length,
// entropy, placeholders, variable references, common words, and values that another detector
// owns by prefix.

// ownedPrefixes are value prefixes (lower case) that a specific detector recognises; the
// generic detectors leave such values to it, even when it rejects them (a GitHub token with
// a bad checksum is a decoy, not a generic secret). TestOwnedPrefixes keeps this list in step
// with the token detectors.
var ownedPrefixes = []string{
	"akia", "asia", "abia", "acca", "aiza", "gocspx-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
	"glpat-", "gldt-", "glrt-", "glptt-", "gr1348941", "atbb", "atctt3", "atatt3", "sk-", "hf_", "api_org_",
	"gsk_", "xai-", "r8_", "sk_live_", "rk_live_", "sk_test_", "rk_test_", "pk_live_", "pk_test_", "xox",
	"xapp-", "sg.", "key-", "npm_", "pypi-", "dckr_pat_", "dckr_oat_", "shpat_", "shpca_", "shppa_", "shpss_",
	"sq0atp-", "sq0csp-", "eaaa", "access_token$", "hrku-", "dop_v1_", "doo_v1_", "dor_v1_", "v1.0-",
	"lin_api_", "lin_oauth_", "secret_", "ntn_", "sntrys_", "sntryu_", "eyj", "-----begin", "fwogzxivyxdz",
	"iqojb3jpz2lu", "aqodyxdz", "glcbt-", "accountkey=", "sharedaccesskey=", "defaultendpointsprotocol=",
	"csk-", "nvapi-", "lsv2_", "pk-helicone-",
}

// ownedShape: values another detector recognises by shape rather than prefix — Twilio SIDs
// (SK/AC + 32 hex) and Azure AD client secrets.
func ownedShape(v string) bool {
	if len(v) == 34 && (v[:2] == "SK" || v[:2] == "AC") && allIn(v[2:], hexAny) {
		return true
	}
	return azureADShape(v)
}

func hasOwnedPrefix(v string) bool {
	if len(v) >= 3 && (v[:3] == "eyJ" || v[:3] == "eyj") && strings.IndexByte(v, '.') < 0 {
		return false // base64 of JSON, not a JWT: no detector of its own
	}
	return ownedPrefix.Prefix(v) || strings.Contains(v, "://")
}

// ownedNames: identifiers a specific context detector handles (AWS, Mistral, Datadog, …).
var ownedNames = []string{
	"aws", "mistral", "cohere", "co_api_key", "datadog", "dd_api", "dd_app", "dd-api", "dd-app", "twilio",
	"heroku", "cloudflare", "cf_api", "mailgun", "jira", "confluence", "atlassian", "secretaccesskey",
	"secret_access_key", "secret-access-key", "sharedaccesskey", "accountkey", "x-auth-key",
}

var csrfWord, xsrfWord = []byte("csrf"), []byte("xsrf")

// credential words: the name must contain one, ending there or at a sub-word boundary.
var credWords = []struct {
	word     string
	password bool // a password (lower entropy accepted) rather than a key or token
	whole    bool // must be a whole sub-word (short, ambiguous words)
}{
	{"password", true, false}, {"passwd", true, false}, {"passphrase", true, false}, {"pwd", true, true},
	{"secret", false, false}, {"token", false, false}, {"apikey", false, false}, {"api_key", false, false},
	{"api-key", false, false}, {"auth", false, true}, {"credential", false, false}, {"accesskey", false, false},
	{"access_key", false, false}, {"privatekey", false, false}, {"private_key", false, false}, {"private-key", false, false},
	{"creds", false, true},
}

// credWordBytes: credWords' words as byte slices, for searching a lower-cased buffer.
var credWordBytes = func() [][]byte {
	b := make([][]byte, len(credWords))
	for i, w := range credWords {
		b[i] = []byte(w.word)
	}
	return b
}()

// credWordMask: the bytes of each credWords word (see byteMask), so that credName searches a
// name only for the words whose bytes it holds.
var credWordMask = func() []uint64 {
	m := make([]uint64, len(credWords))
	for i, w := range credWords {
		for j := 0; j < len(w.word); j++ {
			m[i] |= byteMask(w.word[j])
		}
	}
	return m
}()

// byteMask is a bit for a lower-cased byte of a name (letters, digits, '_', '-' and the
// rest folded into fewer bits: a mask test may pass wrongly, never fail wrongly).
func byteMask(c byte) uint64 { return 1 << (c & 63) }

// nameTail: words that may directly follow a credential word inside a name (SECRETKEY,
// tokenValue) without a separator.
var nameTail = []string{"key", "keys", "token", "value", "val", "str", "string", "text", "b64", "base64", "enc", "plain", "raw", "secret", "pass", "s"}

// nonSecretSuffix: the last sub-word of names that hold something about a credential, not the
// credential (token_url, password_file, secret_name, max_tokens, api_key_id).
var nonSecretSuffix = map[string]bool{
	"id": true, "ids": true, "url": true, "uri": true, "urls": true, "endpoint": true, "file": true, "path": true,
	"dir": true, "name": true, "names": true, "type": true, "types": true, "length": true, "len": true, "count": true,
	"header": true, "field": true, "env": true, "var": true, "prompt": true, "label": true, "policy": true,
	"expiry": true, "expires": true, "expiration": true, "expiresat": true, "ttl": true, "limit": true, "timeout": true, "size": true,
	"min": true, "max": true, "format": true, "regex": true, "pattern": true, "hint": true, "help": true,
	"description": true, "desc": true, "enabled": true, "required": true, "provider": true, "manager": true,
	"service": true, "location": true, "ref": true, "arn": true, "version": true, "tokens": true, "mode": true,
	"method": true, "scope": true, "scopes": true, "usage": true, "algorithm": true, "alg": true, "kind": true,
	"encoding": true, "hash": true, "hashed": true, "digest": true, "salt": true, "rotation": true,
	"strength": true, "validator": true, "placeholder": true, "input": true, "form": true, "reset": true,
	"changed": true, "updated": true, "created": true, "at": true, "policy_id": true, "store": true,
	"storage": true, "error": true, "errors": true, "message": true, "msg": true, "type_id": true,
	"class": true, "index": true, "key_id": true, "keyid": true, "source": true, "mount": true,
	"sha1": true, "sha256": true, "sha512": true, "md5": true, "bcrypt": true, "argon2": true, "scrypt": true,
	"pbkdf2": true, "crypt": true, "checksum": true, "fingerprint": true,
}

// commonValues are values of credential fields that are not secrets.
var commonValues = map[string]bool{
	"true": true, "false": true, "null": true, "none": true, "nil": true, "undefined": true, "required": true,
	"optional": true, "string": true, "boolean": true, "integer": true, "hidden": true, "masked": true,
	"redacted": true, "secret": true, "password": true, "token": true, "changeme": true, "default": true,
	"example": true, "testing": true, "administrator": true, "username": true, "letmein": true,
	"welcome": true, "qwerty": true, "12345678": true, "123456789": true, "1234567890": true,
	"localhost": true, "environment": true, "notasecret": true, "not-a-secret": true, "password1": true,
	"secretkey": true, "sensitive": true, "str | none": true, "optional[str]": true,
}

// varMarkers: a value containing one is a reference, a template or code, not a literal.
var varMarkers = []string{
	"${", "{{", "}}", "%(", "$(", "os.environ", "os.getenv", "getenv", "process.env", "env(", "env[",
	"environ[", "system.getenv", "secrets.", "vars.", "config.", "settings.", "context.", "request.",
	"args.", "params.", "self.", "this.", "props.", "input(", "()", "lookup(", "vault:", "!vault",
	"keyring", "placeholder",
}

var (
	varMarkerSet = detectors.NewWordSet(varMarkers...)
	labelWords   = detectors.NewWordSet("password", "passwd", "token", "api_key", "apikey")
	secretWord   = detectors.NewWordSet("secret")
	ownedPrefix  = detectors.NewWordSet(ownedPrefixes...)
	// ownedPrefixLen: the longest owned prefix, all that ownedPrefix.Prefix reads of a value.
	ownedPrefixLen = func() int {
		n := 0
		for _, p := range ownedPrefixes {
			n = max(n, len(p))
		}
		return n
	}()
)

// isCommonValue looks v up in commonValues case-insensitively without allocating.
func isCommonValue(v string) bool {
	var buf [32]byte
	if len(v) > len(buf) {
		return false // every common value is shorter
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return commonValues[string(buf[:len(v)])]
}

// assignment is the generic detector; passwords == true takes the password words, false the
// key/token/secret words.
type assignment struct {
	m         detectors.Meta
	passwords bool
	defers    []deferral
	// vectors: report only the hex values of published test-vector tables (see inTestVector),
	// which the other assignment detectors leave out.
	vectors bool
	// keys: names that end in "key" without a credential word (keys.go).
	keys bool
}

// deferral: a context detector and the vendor words it is anchored on.
type deferral struct {
	c        *ctxTok
	keywords []string
}

// deferred reports whether the value at text[vs:ve] has the shape of a context detector whose
// vendor word appears shortly before it (Mistral(api_key="…"), X-Auth-Key: …).
func (a *assignment) deferred(text string, vs, ve int) bool {
	v := text[vs:ve]
	for _, d := range a.defers {
		c := d.c
		if !containsInt(c.lengths, len(v)) || !allIn(v, c.body) || c.need != nil && !c.need(v) {
			continue
		}
		before := strings.ToLower(text[max(0, vs-c.maxDist-maxIdent):vs])
		for _, k := range d.keywords {
			if strings.Contains(before, k) {
				return true
			}
		}
	}
	return false
}

// ownerShape reports whether v has the shape of the value of a context detector anchored on
// a word in the lower-cased name lname. A name that a specific detector owns (DD_API_KEY,
// cloudflare_token) leaves to it the values it could report — standard base64 (alphanumeric,
// hex and AWS keys, and their encodings) and its context detectors' shapes — but not others:
// dd_api_secret: "<32 random base62 and ->" is no Datadog key, yet a secret.
func (a *assignment) ownerShape(lname, v string) bool {
	for _, d := range a.defers {
		c := d.c
		if !containsInt(c.lengths, len(v)) || !allIn(v, c.body) || c.need != nil && !c.need(v) {
			continue
		}
		for _, k := range d.keywords {
			if strings.Contains(lname, k) {
				return true
			}
		}
	}
	return false
}

// ownedValue: the name belongs to a specific detector (ownedName) and v is a value it could
// report (see ownerShape).
func (a *assignment) ownedValue(name, v string) bool {
	if !ownedNameFold(name) {
		return false
	}
	return allIn(v, b64stdEq) || a.ownerShape(lowerName(name), v)
}

// azureADShape: an Azure AD client secret (xxx8Q~…), which its own detector reports.
func azureADShape(v string) bool {
	return len(v) >= 37 && len(v) <= 41 && v[3] >= '0' && v[3] <= '9' && v[4] == 'Q' && v[5] == '~'
}

var _ detectors.Detector = (*assignment)(nil)

func (a *assignment) Meta() detectors.Meta { return a.m }

func isIdentByte(c byte) bool { return isWord(c) || c == '-' || c == '.' }

const (
	maxIdent = 64
	maxValue = 256
)

func (a *assignment) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h >= len(text) || a.keys && !keyHit(text, h) {
			continue
		}
		s := h
		for s > 0 && h-s < maxIdent && isIdentByte(text[s-1]) {
			s--
		}
		e := h
		for e < len(text) && e-h < maxIdent && isIdentByte(text[e]) {
			e++
		}
		last = e // one decision per identifier
		flag := s < e && text[s] == '-'
		for s < e && (text[s] == '-' || text[s] == '.') {
			s++
		}
		for e > s && text[e-1] == '.' {
			e--
		}
		if e-s < 3 {
			continue
		}
		// The value first: most keyword hits (prose, code that reads a token) assign nothing.
		vs, ve, ok := assignedValue(text, s, e, a.passwords, flag)
		if !ok || ve-vs < 8 {
			continue
		}
		v := text[vs:ve]
		if a.keys {
			// The key's own gates first (no allocation): most names that end in "key" and most
			// of their values are no credential's, and names with a credential word (api_key,
			// secret_key) are secret-assignment's.
			bare, kok := keyName(text, s, e)
			if !kok {
				continue
			}
			if _, ok := credName(text[s:e]); ok {
				continue
			}
			if !keyValueOK(text, vs, ve) || bare && !credHeading(text, s) && !bareKeyValueOK(v) {
				continue
			}
		}
		if a.vectors && !inTestVector(text, vs, ve) {
			continue
		}
		if vs > 0 && !isQuote(text[vs-1]) && bareCode(text, vs, ve) {
			continue
		}
		if !a.passwords && wordsValue(v) || passwordWord(v) || badgeToken(text, s) {
			continue
		}
		// The value's own gates, then the name's (cheaper first for the common non-secret case).
		numeric := !a.keys && !a.vectors && numericToken(v) && !measureName(text[s:e])
		if !numeric && (!genericValueOK(v, a.passwords) || ownedShape(v)) {
			continue
		}
		if a.keys {
			// Vendors' names are their detectors' (the key's own gates and the credential
			// words ran before the value's gates).
			if a.ownedValue(text[s:e], v) || a.deferred(text, vs, ve) || inTestVector(text, vs, ve) {
				continue
			}
			emit(detectors.Match{Start: vs, End: ve, Confidence: 0.5})
			last = ve
			continue
		}
		pw, ok := credName(text[s:e])
		if a.vectors {
			if !(ok || strings.Contains(lowerName(text[s:e]), "priv")) {
				continue
			}
			emit(detectors.Match{Start: vs, End: ve, Confidence: 0.3})
			last = ve
			continue
		}
		if !ok || pw != a.passwords || a.ownedValue(text[s:e], v) || a.deferred(text, vs, ve) || inTestVector(text, vs, ve) {
			continue
		}
		conf := 0.6
		if pw {
			conf = 0.7
		}
		if numeric {
			conf = 0.3 // some vendors' secrets and client IDs are digits, and so are many numbers
		}
		emit(detectors.Match{Start: vs, End: ve, Confidence: conf})
		last = ve
	}
}

// bareCode: an unquoted value that is code, not a literal: a call or index (f(x), m[k]), a
// value ending a statement or an argument list (token = tok2;), a camelCase identifier
// (ClientAuth = VerifyClientCertIfGiven) or a qualified name. Configuration files write
// literals bare; code quotes them. (A trailing ',' proves nothing: prose has them too.)
//
// Minified and ordinary JavaScript adds expressions: a comparison or a chained assignment
// (t===E.NULL, a.b=c.d=void 0, x = y$z === void 0 ? …), nullish coalescing and logic
// (f.converter??Ge, a||b), and the fields of a format description (groupname:password:GID).
func bareCode(text string, vs, ve int) bool {
	v := text[vs:ve]
	if strings.ContainsAny(v, "([") {
		return true
	}
	if ve < len(text) && strings.IndexByte(";)}", text[ve]) >= 0 {
		return true
	}
	if v[0] == '=' || strings.Contains(v, "??") || strings.Contains(v, "||") || strings.Contains(v, "&&") || equalsOperator(v) || strings.Contains(v, "!=") {
		return true
	}
	if i := strings.IndexByte(v, '='); i > 0 && strings.TrimRight(v[i:], "=") != "" {
		if head := v[:i]; strings.ContainsAny(head, ".$") || camelIdent(head) {
			return true // a = b = c: the value is an assignment itself
		}
	}
	if operatorFollows(text, ve) || colonFields(v) {
		return true
	}
	return camelIdent(v) || qualifiedIdent(v)
}

// equalsOperator: v holds "==" as code does (t===E.NULL, a==b), not as the padding of a
// base64 run of 16 or more characters inside a longer value (…j0fSI==sp8H…).
func equalsOperator(v string) bool {
	for i := strings.Index(v, "=="); i >= 0; {
		j := i
		for j > 0 && (b64std[v[j-1]] || v[j-1] == '-' || v[j-1] == '_') {
			j--
		}
		if i-j < 16 {
			return true
		}
		k := strings.Index(v[i+2:], "==")
		if k < 0 {
			return false
		}
		i += 2 + k
	}
	return false
}

// operatorFollows: a comparison or logical operator comes after the value (x === void 0,
// a && b), so the value was an operand.
func operatorFollows(text string, i int) bool {
	j := skipBlank(text, i)
	if j == i || j >= len(text) {
		return false
	}
	rest := text[j:min(len(text), j+4)]
	for _, op := range []string{"==", "!=", "&&", "||", "??"} { // not "-" or "?": prose has them
		if strings.HasPrefix(rest, op) {
			return true
		}
	}
	return false
}

// colonFields: names joined by ':' with no digit (GID:user_list, host:port): the fields of a
// format, not a value.
func colonFields(v string) bool {
	if strings.IndexByte(v, ':') < 0 {
		return false
	}
	for f := range strings.SplitSeq(v, ":") {
		if f == "" || !allIn(f, identLetters) {
			return false
		}
	}
	return true
}

// wordsValue: a key or token value that is an identifier made of words, with no digit
// (withCredentials, "?NonExpressionParenEnd", workloadIdentity): a name, a label or code. Random
// tokens are not made of words; passphrases may be, so passwords are not held to it.
func wordsValue(v string) bool {
	i := 0
	for i < len(v) && i < 2 && !alnum[v[i]] {
		i++
	}
	w := v[i:]
	if strings.ContainsAny(w, ".:") { // js.fetch:credentials: a qualified name
		for sg := range strings.FieldsFuncSeq(w, func(r rune) bool { return r == '.' || r == ':' }) {
			if len(sg) < 2 || !allIn(sg, identLetters) {
				return false
			}
		}
		return true
	}
	if len(w) < 8 || !allIn(w, letters) {
		return false
	}
	// Camel-case humps: a capital and its lower case, or a run of capitals (JSX in
	// InterpolationInJSX). Words are humps of four or more letters with a vowel; random
	// mixed-case tokens break into humps of one or two letters.
	humps, covered := 0, 0
	for j := 0; j < len(w); {
		k := j + 1
		if w[j] >= 'A' && w[j] <= 'Z' && k < len(w) && w[k] >= 'A' && w[k] <= 'Z' {
			for k < len(w) && w[k] >= 'A' && w[k] <= 'Z' && !(k+1 < len(w) && w[k+1] >= 'a' && w[k+1] <= 'z') {
				k++
			}
		} else {
			for k < len(w) && w[k] >= 'a' && w[k] <= 'z' {
				k++
			}
		}
		humps++
		if k-j >= 4 && strings.ContainsAny(w[j:k], "aeiouyAEIOUY") {
			covered += k - j
		}
		j = k
	}
	return humps >= 2 && covered*10 >= len(w)*6
}

// badgeToken: the name is a query parameter of a status-badge image URL (codecov's
// badge.svg?token=…): a token made to be published in a README.
func badgeToken(text string, s int) bool {
	if s == 0 || text[s-1] != '?' && text[s-1] != '&' {
		return false
	}
	u := text[max(0, s-200):s]
	if k := strings.LastIndexAny(u, " \t\n\"'(<"); k >= 0 {
		u = u[k+1:]
	}
	return strings.Contains(u, "badge") || strings.HasSuffix(strings.TrimRight(u, "?&"), ".svg")
}

var (
	identLetters = cs("A-Za-z_")
	digitSet     = cs("0-9")
)

// qualifiedIdent: a dotted path of identifiers (asn1.ObjectIdentifier, cfg.Auth.Key).
func qualifiedIdent(v string) bool {
	if strings.IndexByte(v, '.') < 0 {
		return false
	}
	for rest := v; ; {
		sg, tail, more := strings.Cut(rest, ".")
		if sg == "" || !(isLetterByte(sg[0]) || sg[0] == '_') || !allIn(sg, alnumU) {
			return false
		}
		// Each segment a name: a camelCase identifier, or letters with at most trailing digits
		// (asn1, v2, Auth) — not a random run like tN2zbMy5.
		t := strings.TrimRight(sg, "0123456789")
		if !camelIdent(sg) && !allIn(t, identLetters) {
			return false
		}
		if !more {
			return true
		}
		rest = tail
	}
}

// camelIdent: v is an identifier made of words (testRSAPrivateKey, allNumericOrString,
// DEFAULT_TIMEOUT): at least two word-like runs of three or more letters, each with a vowel,
// covering most of its letters, and at most one one- or two-letter fragment. Random keys
// split into many short fragments (LVxVly7NEx → L, Vx, Vly, N, Ex).
func camelIdent(v string) bool {
	if v == "" || !(isLetterByte(v[0]) || v[0] == '_') {
		return false
	}
	words, covered, letters, short, inner := 0, 0, 0, 0, 0
	for i := 0; i < len(v); {
		c := v[i]
		if !isLetterByte(c) {
			if !(c >= '0' && c <= '9' || c == '_') {
				return false
			}
			if c != '_' && i > 0 && isLetterByte(v[i-1]) {
				j := i
				for j < len(v) && v[j] >= '0' && v[j] <= '9' {
					j++
				}
				if j < len(v) && isLetterByte(v[j]) {
					inner++ // digits between letters: sha256sum has one, a random run many
				}
			}
			i++
			continue
		}
		// One word: an optional capital, then lower case; or a run of capitals (an acronym or
		// an ALL_CAPS word) that stops before a capital that starts a lower-case word.
		j := i + 1
		if c >= 'A' && c <= 'Z' && j < len(v) && v[j] >= 'A' && v[j] <= 'Z' {
			for j < len(v) && v[j] >= 'A' && v[j] <= 'Z' && !(j+1 < len(v) && v[j+1] >= 'a' && v[j+1] <= 'z') {
				j++
			}
		} else {
			for j < len(v) && v[j] >= 'a' && v[j] <= 'z' {
				j++
			}
		}
		w := v[i:j]
		letters += len(w)
		if len(w) >= 3 && strings.ContainsAny(w, "aeiouyAEIOUY") && consonantRun(w) < 5 {
			words++
			covered += len(w)
		} else if len(w) <= 2 {
			short++ // "If", "Or" happen in names; random strings have many such fragments
		}
		i = j
	}
	// Digits inside: sha256sum has one group, utf8mb4General and utf8mb4_bin two but words
	// joined by case or '_'; a random lower-case run has several and no joints.
	if inner > 1 && (inner > 3 || !strings.ContainsAny(v, "_ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
		return false
	}
	return words >= 2 && short <= 1 && covered*10 >= letters*7
}

// consonantRun is the longest run of consonants in the letters w: words in names rarely have
// five in a row (strengths has five), random letters often do (afnbwnz).
func consonantRun(w string) int {
	run, longest := 0, 0
	for i := 0; i < len(w); i++ {
		switch w[i] | 0x20 {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			run = 0
		default:
			run++
			longest = max(longest, run)
		}
	}
	return longest
}

// credName decides whether an identifier names a credential, and whether a password. It
// lower-cases into a buffer and allocates nothing; lowerName gives the lower-cased name when a
// caller needs it.
func credName(name string) (password bool, ok bool) {
	if len(name) < 3 || len(name) > maxIdent {
		return false, false
	}
	// config.password names a password; token.ADD or tokenizer.vocab do not: the credential
	// word must be in the last dotted segment.
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return credName(name[i+1:])
	}
	var buf [maxIdent]byte
	ls := buf[:len(name)]
	allCaps := true
	var mask uint64
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		} else if c >= 'a' && c <= 'z' {
			allCaps = false
		}
		ls[i] = c
		mask |= byteMask(c)
	}
	// An anti-forgery token (csrf_token, X-XSRF-TOKEN) is sent to every browser in the page:
	// no credential.
	if bytes.Contains(ls, csrfWord) || bytes.Contains(ls, xsrfWord) {
		return false, false
	}
	found := false
	for k, w := range credWords {
		if credWordMask[k]&^mask != 0 {
			continue // some byte of the word is not in the name
		}
		for off := 0; ; {
			i := bytes.Index(ls[off:], credWordBytes[k])
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			end := i + len(w.word)
			// Boundary before (whole-word credential words only).
			if w.whole && i > 0 && !subwordBoundary(name, i) {
				continue
			}
			// Boundary after: the end, a separator, a camel-case hump, or a known tail word.
			if end < len(ls) && !subwordBoundary(name, end) || end < len(ls) && allCaps && isLetterByte(name[end]) {
				if !hasTailWord(ls[end:]) {
					continue
				}
			}
			found = true
			password = password || w.password
			break
		}
	}
	if !found {
		return false, false
	}
	return password, !nonSecretName(name)
}

// lowerName is the lower-cased identifier the name checks (ownedName, ownerShape, vectorFields)
// take: empty for a name credName does not look at.
func lowerName(name string) string {
	if len(name) < 3 || len(name) > maxIdent {
		return ""
	}
	return strings.ToLower(name)
}

// ownedNameFold is ownedName(lowerName(name)) without allocating.
func ownedNameFold(name string) bool {
	if len(name) < 3 || len(name) > maxIdent {
		return false
	}
	for _, w := range ownedNames {
		if containsFold(name, w) {
			return true
		}
	}
	return false
}

func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// subwordBoundary: a new sub-word starts at i in name (after a separator or digit run, or at
// a lower→upper camel-case hump).
func subwordBoundary(name string, i int) bool {
	if i <= 0 || i >= len(name) {
		return true
	}
	p, c := name[i-1], name[i]
	if p == '_' || p == '-' || p == '.' || c == '_' || c == '-' || c == '.' {
		return true
	}
	if c >= '0' && c <= '9' {
		return true
	}
	return p >= 'a' && p <= 'z' && c >= 'A' && c <= 'Z'
}

func hasTailWord(rest []byte) bool {
	for _, t := range nameTail {
		if len(rest) >= len(t) && string(rest[:len(t)]) == t && (len(rest) == len(t) || rest[len(t)] == '_' || rest[len(t)] == '-' || rest[len(t)] == '.') {
			return true
		}
	}
	return false
}

// assignedValue skips from the end of a name over an operator to the value and returns its
// span. Understood: = : := => == ?= += (quoted or bare values), <name>value</name>, a call
// with a string literal (setPassword("…")), "--password value" and SQL's PASSWORD '…'.
func assignedValue(text string, s, e int, password, flag bool) (int, int, bool) {
	i := e
	// The closing quote of a quoted key ("password": …, 'token' => …, \"secret\": …).
	for k := 0; k < 2 && i < len(text) && (text[i] == '"' || text[i] == '\'' || text[i] == '`' || text[i] == '\\'); k++ {
		i++
	}
	// XML element.
	if s > 0 && text[s-1] == '<' && i < len(text) && text[i] == '>' {
		// <token>…</token>, the value alone on its own line or not.
		j := i + 1
		for j < len(text) && j-i <= maxValue && text[j] != '<' {
			j++
		}
		if j < len(text) && text[j] == '<' {
			vs, ve := i+1, j
			for vs < ve && (text[vs] == ' ' || text[vs] == '\t' || text[vs] == '\n' || text[vs] == '\r') {
				vs++
			}
			for ve > vs && (text[ve-1] == ' ' || text[ve-1] == '\t' || text[ve-1] == '\n' || text[ve-1] == '\r') {
				ve--
			}
			if strings.IndexByte(text[vs:ve], '\n') >= 0 {
				return 0, 0, false // prose or markup, not one value
			}
			return vs, ve, ve > vs
		}
		return 0, 0, false
	}
	sp := skipBlank(text, i)
	// A quoted name followed by its value as the next argument or column:
	// os.Setenv("DB_PASSWORD", "…"), ('alice', 'password', '…').
	if i > e && s > 0 && isQuote(text[s-1]) && sp < len(text) && text[sp] == ',' && inCallOrTuple(text, s-1) {
		if j := skipBlank(text, sp+1); j < len(text) && isQuote(text[j]) {
			return quoted(text, j)
		}
		return 0, 0, false
	}
	// A Kubernetes env entry: "- name: DB_PASSWORD" and on the next line "value: …".
	if (sp >= len(text) || text[sp] == '\n' || text[sp] == '\r') && yamlNameBefore(text, s) {
		j := sp
		for j < len(text) && j-sp < 48 && (text[j] == '\n' || text[j] == '\r' || text[j] == ' ' || text[j] == '\t') {
			j++
		}
		if !strings.HasPrefix(text[j:], "value:") {
			return 0, 0, false
		}
		sp, i = j+len("value"), j+len("value")
	}
	// A declared type between the name and the operator: var apiToken string = "…",
	// val token: String = "…".
	if t := typeWordAt(text, sp); t > sp {
		sp = skipBlank(text, t)
		if operator(text, sp) != "=" && operator(text, sp) != ":=" {
			return 0, 0, false
		}
	}
	op := operator(text, sp)
	switch {
	case op == "(":
		// A setter called with a string literal: setPassword("…"), withToken('…').
		if !hasCallVerb(text[s:e]) {
			return 0, 0, false
		}
		i = sp + 1
		if i >= len(text) || !isQuote(text[i]) {
			return 0, 0, false
		}
		return quoted(text, i)
	case op != "":
		i = skipBlank(text, sp+len(op))
	case flag && sp > i:
		i = sp // --password value
	case password && sp > i && sp < len(text) && (text[sp] == '\'' || text[sp] == '"'):
		i = sp // PASSWORD 'value' (SQL)
	default:
		return 0, 0, false
	}
	if i >= len(text) {
		return 0, 0, false
	}
	// String-literal prefixes (Python r"…", b'…').
	if i+1 < len(text) && strings.IndexByte("rbuRBU", text[i]) >= 0 && isQuote(text[i+1]) {
		i++
	}
	if isQuote(text[i]) {
		return quoted(text, i)
	}
	if text[i] == '\\' && i+1 < len(text) && text[i+1] == '"' { // an escaped quote inside JSON text
		vs, ve, ok := quoted(text, i+1)
		if ok && ve > vs && text[ve-1] == '\\' {
			ve--
		}
		return vs, ve, ok
	}
	j := i
	for j < len(text) && j-i <= maxValue {
		c := text[j]
		if c <= ' ' || c == ',' || c == ';' || c == ')' || c == '{' || c == '}' || c == ']' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' || c == '&' || c == '\\' {
			break
		}
		j++
	}
	if j-i > maxValue {
		return 0, 0, false
	}
	for j > i && text[j-1] == '.' { // a sentence's full stop
		j--
	}
	return i, j, j > i
}

// typeWordAt returns the end of a type name written at i (string, String, str, with an
// optional ':' before it), or i when there is none. Only string types: a secret is a string.
func typeWordAt(text string, i int) int {
	j := i
	if j < len(text) && text[j] == ':' {
		j = skipBlank(text, j+1)
	}
	for _, t := range []string{"string", "String", "str", "&str", "&'static str"} {
		if strings.HasPrefix(text[j:], t) && (j+len(t) >= len(text) || !isWord(text[j+len(t)])) {
			if e := skipBlank(text, j+len(t)); e < len(text) && text[e] == '=' {
				return j + len(t)
			}
		}
	}
	return i
}

// hasCallVerb: a setter's name (setPassword, with_token, useApiKey, …).
func hasCallVerb(name string) bool {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	for _, v := range []string{"set", "with", "use", "put", "add"} {
		if hasFoldPrefix(name, v) && len(name) > len(v) && (name[len(v)] == '_' || name[len(v)] >= 'A' && name[len(v)] <= 'Z') {
			return true
		}
	}
	return false
}

// operator returns the assignment operator at i, if any: := => == ??= ?= += ||= = : or the
// '(' of a call.
func operator(text string, i int) string {
	if i >= len(text) {
		return ""
	}
	next := byte(0)
	if i+1 < len(text) {
		next = text[i+1]
	}
	switch text[i] {
	case ':':
		if next == '=' {
			return ":="
		}
		if strings.HasPrefix(text[i:], "::=") {
			return "::=" // BNF-style, and :::= (gitleaks writes both)
		}
		if strings.HasPrefix(text[i:], ":::=") {
			return ":::="
		}
		return ":"
	case '.':
		if next == '=' {
			return ".=" // PHP's concatenating assignment
		}
	case '=':
		if next == '>' || next == '=' {
			return text[i : i+2]
		}
		return "="
	case '?':
		if strings.HasPrefix(text[i:], "??=") {
			return "??="
		}
		if next == '=' {
			return "?="
		}
	case '+':
		if next == '=' {
			return "+="
		}
	case '|':
		if strings.HasPrefix(text[i:], "||=") {
			return "||="
		}
	case '(':
		return "("
	}
	return ""
}

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

// inCallOrTuple: the nearest bracket opened before i on its line is '(' (a call or an SQL row),
// not '[' or '{' (a list of names).
func inCallOrTuple(text string, i int) bool {
	for j := i - 1; j >= 0 && i-j < 160; j-- {
		switch text[j] {
		case '(':
			return true
		case '[', '{', '\n', ')', ']', '}':
			return false
		}
	}
	return false
}

// yamlNameBefore: the identifier at s is the value of a YAML "name:" key on its line.
func yamlNameBefore(text string, s int) bool {
	b := strings.TrimRight(text[max(0, s-16):s], " \t\"'")
	return strings.HasSuffix(b, "name:")
}

func skipBlank(text string, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	return i
}

// quoted reads the string literal that opens at i.
func quoted(text string, i int) (int, int, bool) {
	q := text[i]
	j := i + 1
	for j < len(text) && j-i <= maxValue+1 && text[j] != q && text[j] != '\n' {
		j++
	}
	if j >= len(text) || text[j] != q {
		return 0, 0, false
	}
	return i + 1, j, j > i+1
}

// genericValueOK is the gate a generic value must pass to be reported. Cheap structural
// checks come first: most values that reach it are code (os.environ["X"], r.Header.Get(…)).
func genericValueOK(v string, password bool) bool {
	n := len(v)
	if n < 8 || n > maxValue {
		return false
	}
	switch v[0] {
	case '$', '%', '@', '{', '[', '(', '<', '#', '!', '&', '*', '/', '.', '~':
		return false // variables, objects, paths, comments, YAML tags and anchors, masks
	}
	if strings.ContainsAny(v, " \t") || strings.Contains(v, "\\u") || strings.Contains(v, "\\x") {
		return false // prose; escape sequences (emoji, bytes) in source code
	}
	lower, upper, digit, other := classes(v)
	if !lower && !upper { // numbers, dates, phone numbers
		return false
	}
	if hasFoldPrefix(v, "0x") || hasFoldPrefix(v, "-0x") || hasFoldPrefix(v, "urn:") || isSlug(v) {
		return false // a numeric literal; words-with-dashes (foo-bar-main, my_app_name)
	}
	if isIdentPath(v) { // a variable, attribute or constant: DB_PASSWORD, settings.secret_key
		return false
	}
	if !digit && !other && !(n >= 12 && lower && upper) { // letters only: a word unless long and mixed-case
		return false
	}
	kinds := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			kinds++
		}
	}
	// Entropy thresholds scale down for short values: n random characters cannot have more than
	// log2(n) bits each.
	e, ln := detectors.Entropy(v), math.Log2(float64(n))
	switch {
	case kinds < 2:
		return false
	case !digit && !other && e < min(3.5, ln-0.6):
		return false
	case password && e < min(2.5, ln-0.8):
		return false
	case !password && (n < 10 || e < min(3.0, ln-0.7) && !(n >= 16 && e >= 2.7 && allIn(v, hexAny))):
		return false // (a random 16-digit hex token has about 3.2 bits a character, often less)
	}
	if isCommonValue(v) || labelWords.In(v) || !password && secretWord.In(v) {
		return false // a label that names the thing instead of being it
	}
	if varMarkerSet.In(v) {
		return false
	}
	return !hasOwnedPrefix(v) && !placeholder(v) && !encodesOwned(v)
}

// numericToken: v is a run of 16 to 64 random-looking digits (Discord's and Asana's client
// IDs and secrets, numeric API keys), which genericValueOK refuses as a number. Only a
// credential's name makes it one (see Find); round numbers, repeats and counting runs are not.
func numericToken(v string) bool {
	if len(v) < 16 || len(v) > 64 || !allIn(v, digitSet) || placeholder(v) {
		return false
	}
	return detectors.Entropy(v) >= 2.5 && !epochLike(v) // 16 random digits: 2.86 on average, below 2.5 one time in twenty
}

// epochLike: a 16- or 19-digit number that reads as a Unix time in microseconds or
// nanoseconds between 2001 and 2036 (1716242622987654321): a timestamp, not a secret.
func epochLike(v string) bool {
	if len(v) != 16 && len(v) != 19 || v[0] != '1' && v[0] != '2' {
		return false
	}
	return v[:10] >= "1000000000" && v[:10] < "2100000000"
}

// measureUnits: last sub-words of names whose number is a time, a size, a count or a serial
// number (token_created_ns, bucket_capacity_bytes, secret_version_number), not a secret.
var measureUnits = set("ns", "us", "ms", "nanos", "micros", "millis", "sec", "secs", "seconds", "ts", "time",
	"timestamp", "epoch", "date", "bytes", "number", "num", "no", "seq", "sequence", "capacity", "offset", "serial", "counter")

// measureName: the last sub-word of name (at _ - . or a case change) is in measureUnits.
func measureName(name string) bool {
	return measureUnits[strings.ToLower(lastSubword(name))]
}

// encodesOwned: v is base64 of a value another detector owns (a Kubernetes Secret's data of a
// GitHub token): the engine decodes it and that detector reports it.
func encodesOwned(v string) bool {
	if len(v) < 16 || !allIn(strings.TrimRight(v, "="), b64url) && !allIn(strings.TrimRight(v, "="), b64std) {
		return false
	}
	var buf [maxValue*3/4 + 3]byte
	b, ok := decodeB64To(buf[:0], v)
	if !ok {
		return false
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false
	}
	// hasOwnedPrefix(s) || ownedShape(s) for s = string(b), converting no more than the
	// prefix set looks at (up to 32 bytes convert on the stack) and the whole value only at
	// the lengths ownedShape accepts.
	if bytes.Contains(b, []byte("://")) || ownedPrefix.Prefix(string(b[:min(len(b), ownedPrefixLen)])) {
		return true
	}
	if n := len(b); n == 34 || n >= 37 && n <= 41 {
		return ownedShape(string(b))
	}
	return false
}

// isSlug: lower-case words joined by '-' or '_' (foo-bar-main, my_app_name).
func isSlug(v string) bool {
	seps := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'a' && c <= 'z':
		case (c == '-' || c == '_') && i > 0 && i < len(v)-1 && v[i-1] != '-' && v[i-1] != '_':
			seps++
		default:
			return false
		}
	}
	return seps > 0
}

// isIdentPath: an identifier or dotted path with no digits (a variable, not a value), or an
// ALL_CAPS constant name.
func isIdentPath(v string) bool {
	digits, lowers := false, false
	start := true
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.':
			if start {
				return false
			}
			start = true
			continue
		case c >= '0' && c <= '9':
			if start {
				return false
			}
			digits = true
		case c >= 'a' && c <= 'z':
			lowers = true
		case c >= 'A' && c <= 'Z', c == '_':
		default:
			return false
		}
		start = false
	}
	if !lowers && strings.Contains(v, "_") { // ENV_VAR_NAME
		return true
	}
	return !digits && (strings.Contains(v, ".") || strings.Contains(v, "_"))
}
