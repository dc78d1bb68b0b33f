package secrets

import (
	"math"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// secret.key-assignment: a value assigned to a name that ends in "key" without one of the
// credential words of secret.secret-assignment — atera_key: …, apiMaticKey := "…",
// apilayerkey: …, "API Key: …", aylien key: …, Key=…, and the key: line of a credentials
// block. Code is full of keys that are no secrets (map keys, sort and cache keys, primary and
// foreign keys, hotkeys, i18n keys, public keys), so:
//
//   - the name must end in "key" (key1, key2 too): key_id, keyName, keyCode, keyboard, keys are
//     about keys, not keys; monkey, hockey, turkey are no keys at all;
//   - the sub-word before "key" must not say what kind of non-secret key it is (sortKey,
//     primary_key, publicKey, cache-key, …): keyDeny;
//   - a bare key (key, Key, "the key") is held to a stricter value gate than a named one:
//     a random token of 16 or more characters with letters and digits, not hex (a hash or a
//     fingerprint), not a UUID, not a path, a host or a dotted name — unless a credentials
//     heading comes just before it;
//   - names with a credential word (api_key, secretKey, private_key) are secret-assignment's,
//     and vendor names (aws_key, dd_app_key) their own detectors'.
//
// Find rejects a hit on the name's shape and the operator after it before anything else, with
// no allocation: the keyword is in most texts.

// keyDeny: sub-words before "key" that make a key something other than a credential.
var keyDeny = map[string]bool{
	"primary": true, "foreign": true, "public": true, "pub": true, "publishable": true, "sort": true, "sorting": true,
	"cache": true, "cached": true, "hot": true, "short": true, "shortcut": true, "map": true, "partition": true,
	"row": true, "range": true, "shard": true, "idempotency": true, "dedup": true, "dedupe": true, "unique": true,
	"composite": true, "index": true, "lookup": true, "group": true, "order": true, "label": true, "i18n": true,
	"translation": true, "locale": true, "lang": true, "message": true, "msg": true, "list": true, "item": true,
	"node": true, "child": true, "parent": true, "dict": true, "query": true, "param": true, "column": true,
	"field": true, "prop": true, "event": true, "state": true, "object": true, "file": true, "bucket": true,
	"path": true, "route": true, "routing": true, "element": true, "component": true, "cursor": true,
	"page": true, "next": true, "prev": true, "start": true, "end": true, "last": true, "first": true, "host": true,
	"site": true, "gpg": true, "pgp": true, "natural": true, "surrogate": true, "candidate": true, "join": true,
	"ref": true, "hash": true, "tag": true, "attribute": true, "attr": true, "property": true, "record": true,
	"table": true, "type": true, "name": true, "id": true, "lock": true, "entry": true, "verification": true,
	"verify": true, "verifying": true, "modifier": true, "shift": true, "ctrl": true, "alt": true, "meta": true,
	"arrow": true, "enter": true, "escape": true, "tab": true, "musical": true, "music": true, "react": true,
	"storage": true, "setting": true, "settings": true, "option": true, "config": true,
	"env": true, "var": true, "json": true, "yaml": true, "text": true, "title": true, "dom": true, "vnode": true,
	"track": true, "tracking": true, "schema": true, "rsa": true, "ecdsa": true, "ed25519": true, "x25519": true,
	"ssh": true, "peer": true, "remote": true, "trusted": true, "recipient": true, "server": true,
	"root": true, "ca": true, "blob": true, "account": true, "verifier": true, "cert": true, "issuer": true, "subject": true, "jwk": true, "jwks": true,
}

// keyGlued: words ending in "key" that are not "<something> key" names (monkey, turkey) or
// are non-secret keys written as one word (hotkey, sitekey).
var keyGlued = []string{
	"monkey", "donkey", "turkey", "hockey", "jockey", "whiskey", "lackey", "malarkey", "flunkey", "husky",
	"hotkey", "turnkey", "latchkey", "passkey", "sitekey", "pubkey", "publickey", "sortkey", "primarykey",
	"foreignkey", "cachekey", "mapkey", "hashkey", "rowkey", "routingkey", "partitionkey", "keykey",
}

// keyStop: words before a bare "key" that do not name a kind of credential (articles, types,
// declarations).
var keyStop = map[string]bool{
	"the": true, "a": true, "an": true, "your": true, "my": true, "our": true, "their": true, "its": true,
	"this": true, "that": true, "each": true, "every": true, "any": true, "some": true, "no": true, "for": true,
	"in": true, "of": true, "with": true, "by": true, "same": true, "new": true, "old": true, "string": true,
	"str": true, "const": true, "var": true, "let": true, "final": true, "static": true, "val": true, "def": true,
	"int": true, "byte": true, "bytes": true, "char": true, "auto": true, "readonly": true, "export": true,
	"local": true, "set": true, "get": true, "to": true, "as": true, "is": true, "if": true, "and": true,
	"or": true, "not": true, "from": true, "on": true, "at": true, "use": true, "using": true, "data": true,
	"object": true, "unique": true, "own": true, "which": true, "what": true, "where": true, "when": true,
	"return": true, "yield": true, "case": true, "else": true, "then": true, "do": true, "while": true,
}

// keyHit is the fast test at a hit of "key": the name ends there (optionally with digits) and
// an assignment operator or a quote and one follows. No allocation.
func keyHit(text string, h int) bool {
	e := h + 3
	if e > len(text) {
		return false
	}
	for e < len(text) && e-h < 6 && text[e] >= '0' && text[e] <= '9' {
		e++
	}
	if e < len(text) {
		c := text[e]
		if isWord(c) || c == '-' || c == '.' && e+1 < len(text) && isWord(text[e+1]) {
			return false // keyboard, keys, key_id, keyCode, key-name, key.pem
		}
	}
	// A word before "key": glued letters are one word (monkey, apilayerkey); camel-case humps
	// and separators start a sub-word.
	if h > 0 {
		p := text[h-1]
		if p >= 'a' && p <= 'z' && text[h] == 'k' || p >= 'A' && p <= 'Z' && text[h] == 'K' {
			if glued(text, h) {
				return false
			}
		}
	}
	// The operator.
	i := e
	for k := 0; k < 2 && i < len(text) && (text[i] == '"' || text[i] == '\'' || text[i] == '`' || text[i] == '\\'); k++ {
		i++
	}
	if i < len(text) && text[i] == '>' && h > 0 && text[h-1] == '<' {
		return true // <key>…</key>
	}
	i = skipBlank(text, i)
	if i >= len(text) {
		return false
	}
	switch text[i] {
	case '=':
		return i+1 >= len(text) || text[i+1] != '=' && text[i+1] != '~'
	case ':':
		if i+1 < len(text) && text[i+1] == ':' {
			return strings.HasPrefix(text[i:], "::=")
		}
		return true
	case '?', '|', '+':
		return i+1 < len(text) && text[i+1] == '='
	}
	return false
}

// glued reports whether the letters before "key" at h and "key" form a word that is no
// credential's name (monkey, hotkey, sitekey).
func glued(text string, h int) bool {
	s := h
	for s > 0 && h-s < 16 && isLetterByte(text[s-1]) {
		s--
	}
	w := text[s : h+3]
	for _, g := range keyGlued {
		if len(w) >= len(g) && strings.EqualFold(w[len(w)-len(g):], g) {
			return true
		}
	}
	return false
}

// keyName judges the identifier text[s:e] that ends in "key" (and digits). bare: no word
// qualifies the key (key, Key, the key); ok: the name may hold a credential.
func keyName(text string, s, e int) (bare, ok bool) {
	name := text[s:e]
	for len(name) > 0 && name[len(name)-1] >= '0' && name[len(name)-1] <= '9' {
		name = name[:len(name)-1]
	}
	if len(name) < 3 || !strings.EqualFold(name[len(name)-3:], "key") {
		return false, false
	}
	if strings.EqualFold(name, "sec-websocket-key") {
		return false, false // a WebSocket handshake's random nonce, sent in the clear by design
	}
	prefix := name[:len(name)-3]
	if prefix == "" || strings.HasSuffix(prefix, ".") {
		// key, Key, cfg.key: the word before it on the line, if any, qualifies it.
		switch keyQualifier(text, s) {
		case qualNone:
			return true, true
		case qualDenied:
			return false, false
		}
		return false, true
	}
	// The sub-word right before "key".
	j := len(prefix)
	switch c := prefix[j-1]; {
	case c == '_' || c == '-':
		j--
		prefix = prefix[:j]
		k := j
		for k > 0 && isLetterByte(prefix[k-1]) || k > 0 && prefix[k-1] >= '0' && prefix[k-1] <= '9' {
			if k < j && prefix[k-1] >= 'a' && prefix[k-1] <= 'z' && prefix[k] >= 'A' && prefix[k] <= 'Z' {
				break
			}
			k--
		}
		return false, k < j && !keyDenied(prefix[k:])
	case c >= 'a' && c <= 'z' && name[len(name)-3] == 'K':
		k := j
		for k > 0 && (prefix[k-1] >= 'a' && prefix[k-1] <= 'z' || prefix[k-1] >= '0' && prefix[k-1] <= '9') {
			k--
		}
		if k > 0 && prefix[k-1] >= 'A' && prefix[k-1] <= 'Z' {
			k--
		}
		return false, !keyDenied(prefix[k:])
	default:
		// Glued (apilayerkey, APIMETRICSKEY): the deny words as suffixes of the one word.
		var buf [maxIdent]byte
		if len(prefix) > len(buf) {
			return false, false
		}
		for i := 0; i < len(prefix); i++ {
			buf[i] = prefix[i] | 0x20
		}
		lp := buf[:len(prefix)]
		for _, d := range []string{"primary", "foreign", "public", "pub", "sort", "cache", "hot", "site", "map", "hash", "row", "routing", "partition", "index", "group", "lookup"} {
			if len(lp) >= len(d) && string(lp[len(lp)-len(d):]) == d {
				return false, false
			}
		}
		return false, len(prefix) >= 3 // not skey, vkey, pkey
	}
}

// keyDenied looks a sub-word up in keyDeny case-insensitively without allocating.
func keyDenied(w string) bool {
	var buf [24]byte
	if len(w) > len(buf) {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return keyDeny[string(buf[:len(w)])]
}

// Kinds of word before a bare key.
const (
	qualNone   = iota // none, or a stop word (the key, String key)
	qualDenied        // a word of keyDeny (sort key, public key)
	qualWord          // a word that names the key (API Key, aylien key)
)

// keyQualifier classifies the word (letters, digits, '_' and '-', up to 24) that precedes the
// name at s with only blanks or a quote between, on the same line.
func keyQualifier(text string, s int) int {
	j := s
	if j > 0 && (text[j-1] == '"' || text[j-1] == '\'') {
		j--
	}
	k := j
	for k > 0 && j-k < 3 && (text[k-1] == ' ' || text[k-1] == '\t') {
		k--
	}
	if k == j {
		return qualNone
	}
	e := k
	for k > 0 && e-k < 24 && (alnum[text[k-1]] || text[k-1] == '_' || text[k-1] == '-') {
		k--
	}
	if k == e || k > 0 && (alnum[text[k-1]] || text[k-1] == '_') {
		return qualNone
	}
	w := text[k:e]
	var buf [24]byte
	for i := 0; i < len(w); i++ {
		buf[i] = w[i]
		if w[i] >= 'A' && w[i] <= 'Z' {
			buf[i] += 'a' - 'A'
		}
	}
	switch {
	case keyStop[string(buf[:len(w)])]:
		return qualNone
	case keyDeny[string(buf[:len(w)])]:
		return qualDenied
	}
	return qualWord
}

// credHeading: a credentials heading ("credentials:", "# acme creds", "credentials {") in the
// few lines before s, which makes a bare key: in the block a named one.
func credHeading(text string, s int) bool {
	b := text[max(0, s-160):s]
	nl := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			nl++
			if nl > 3 {
				b = b[i:]
				break
			}
		}
	}
	for _, w := range []string{"credential", "creds", "Credential", "CREDENTIAL", "Creds", "CREDS"} {
		if strings.Contains(b, w) {
			return true
		}
	}
	return false
}

// bareKeyValueOK is the stricter value gate of a bare key: a random token of letters and
// digits (base64 allowed), 16 or more characters, no hex digest, UUID, path, host or name.
func bareKeyValueOK(v string) bool {
	if len(v) < 16 || isUUID(v) || allIn(v, hexAny) {
		return false
	}
	lower, upper, digit, _ := classes(v)
	if !digit || !lower && !upper {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !alnum[c] && c != '+' && c != '/' && c != '=' && c != '-' && c != '_' {
			return false // dotted names, hosts, URLs, key:value pairs
		}
	}
	if strings.IndexByte(v, '/') >= 0 && (len(v) < 24 || strings.ContainsAny(v, "-_")) {
		return false // a path
	}
	n := float64(len(v))
	return detectors.Entropy(v) >= min(3.5, math.Log2(n)-0.6)
}

// keyValueOK is the key detector's gate on top of genericValueOK: a key is a token — letters
// and digits with at most -_+/. and trailing '=' padding — with a digit in it. It is no name
// (encryptionKey1024, hexPKCS8TestECKey, Trailer-Value), holds no "key" and no "localhost",
// and is not the left operand of a concatenation ('__reactFiber$' + randomKey).
func keyValueOK(text string, vs, ve int) bool {
	v := text[vs:ve]
	pad := len(v)
	for pad > 0 && v[pad-1] == '=' {
		pad--
	}
	digit := false
	for i := 0; i < pad; i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case alnum[c], c == '-', c == '_', c == '+', c == '/', c == '.':
		default:
			return false
		}
	}
	if strings.Count(v, ".") > 2 || uuidShaped(v) && !isUUID(v) || qualifiedIdent(v) {
		return false // a dotted name or host; a UUID with letters past f is a made-up one
	}
	if !digit || containsFold(v, "key") || containsFold(v, "localhost") || camelIdent(strings.TrimRight(v, "0123456789")) {
		return false
	}
	if ve < len(text) && isQuote(text[ve]) {
		if j := skipBlank(text, ve+1); j < len(text) && text[j] == '+' {
			return false
		}
	}
	return true
}

// uuidShaped: 8-4-4-4-12 letters and digits.
func uuidShaped(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if v[i] != '-' {
				return false
			}
		} else if !alnum[v[i]] {
			return false
		}
	}
	return true
}
