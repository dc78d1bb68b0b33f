package secrets

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Passwords in URIs: database and broker connection strings (postgres://user:pass@host) and
// basic auth in any other URL (https://user:pass@host). The password span is what is
// reported — the user name and host are not secret, and a masked preview of the password
// is all a responder needs next to the flow's own record.

// dbSchemes maps each URI scheme family to the detector that owns it. The family is the
// scheme up to a '+' (postgresql+psycopg2, mongodb+srv) with a trailing "ql"/"s" folded in.
var dbSchemes = map[string]string{
	"postgres": "postgres", "postgresql": "postgres", "pgsql": "postgres",
	"mysql": "mysql", "mariadb": "mysql", "mysqlx": "mysql",
	"mongodb": "mongodb",
	"redis":   "redis", "rediss": "redis",
	"amqp": "amqp", "amqps": "amqp",
}

// schemeFamily returns the owning family of a scheme ("" for an ordinary URL scheme).
func schemeFamily(scheme string) string {
	s := strings.ToLower(scheme)
	if i := strings.IndexByte(s, '+'); i > 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 { // jdbc:postgresql
		s = s[i+1:]
	}
	return dbSchemes[s]
}

var schemeByte = cs("A-Za-z0-9+.-")

// userinfo parses the authority that starts at i (just after "://"). It returns the password
// span and the user, or ok == false when there is no non-empty password.
func userinfo(text string, i int) (user string, ps, pe int, ok bool) {
	end := i
	at := -1
	for end < len(text) && end-i < 512 {
		c := text[end]
		if c == '/' || c == '?' || c == '#' || c <= ' ' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' || c == '\\' || c == ')' {
			break
		}
		if c == '@' {
			at = end
		}
		end++
	}
	if at < 0 || at+1 >= end {
		return "", 0, 0, false
	}
	if h := text[at+1]; !(alnum[h] || h == '[') {
		return "", 0, 0, false
	}
	colon := strings.IndexByte(text[i:at], ':')
	if colon < 0 {
		return "", 0, 0, false
	}
	ps, pe = i+colon+1, at
	if pe <= ps {
		return "", 0, 0, false
	}
	return text[i : i+colon], ps, pe, true
}

// weakURIPasswords are the passwords of documentation and local-development examples.
var weakURIPasswords = map[string]bool{
	"password": true, "pass": true, "passwd": true, "pwd": true, "secret": true, "changeme": true,
	"root": true, "admin": true, "postgres": true, "mysql": true, "redis": true, "guest": true,
	"test": true, "user": true, "username": true, "example": true, "mypassword": true, "yourpassword": true,
	"pw": true, "p": true, "foobar": true, "foo": true, "bar": true, "default": true, "mongo": true,
	"mongodb": true, "rabbitmq": true, "rabbit": true, "dbpass": true, "dbpassword": true, "db_password": true,
	"mypass": true, "yourpass": true, "pass123": true, "password123": true, "admin123": true, "123456": true, "12345678": true, "qwerty": true,
	"token": true, "x-oauth-basic": true, "api_key": true, "apikey": true, "p@ssword": true, "p@ssw0rd": true,
	"passw0rd": true, "opensesame": true, "open sesame": true, "hunter2": true, "tiger": true, "s3cr3t": true,
}

// docHosts are the hosts of documentation and tests (RFC 2606 and RFC 6761 names and their
// like): a URL there holds an example's credentials.
var docHosts = []string{"example.com", "example.org", "example.net", "localhost", "host", "hostname", "myhost",
	"yourhost", "server", "foo.com", "bar.com", "foo.bar", "foo.example", "domain.com", "yourdomain.com", "mydomain.com"}

// docHostSuffixes: reserved top-level domains.
var docHostSuffixes = []string{".example", ".test", ".invalid", ".localhost", ".example.com", ".example.org", ".example.net"}

// docExample reports whether the URL password at text[ps:pe] is an example's: the host after
// it is a documentation host and the password is not a random one (a real password pasted
// with the host replaced is still reported), or the password spells a word like "password"
// (My%20Pass, pa%2Fssword, s00pers3cret).
func docExample(text string, ps, pe int) bool {
	pass := text[ps:pe]
	if passwordWord(pass) {
		return true
	}
	h := pe + 1
	e := h
	for e < len(text) && e-h < 253 && (alnum[text[e]] || text[e] == '.' || text[e] == '-') {
		e++
	}
	host := strings.TrimSuffix(text[h:e], ".")
	doc := false
	for _, d := range docHosts {
		if strings.EqualFold(host, d) {
			doc = true
		}
	}
	for _, d := range docHostSuffixes {
		if len(host) > len(d) && strings.EqualFold(host[len(host)-len(d):], d) {
			doc = true
		}
	}
	return doc && !randomPassword(pass)
}

// randomPassword: long and varied enough to be generated rather than made up for an example.
func randomPassword(v string) bool {
	l, u, d, o := classes(v)
	n := 0
	for _, b := range []bool{l, u, d, o} {
		if b {
			n++
		}
	}
	return len(v) >= 12 && n >= 3 && detectors.Entropy(v) >= 3.2
}

// passwordWord: with escapes decoded, digits read as the letters they stand for (0→o, 3→e,
// …) and other characters dropped, the password is letters only and holds "pass", "secret"
// or "word": documentation spelling "password" (s00pers3cret, pa%3Fsword, My%20Pass).
func passwordWord(v string) bool {
	var buf [40]byte
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' && i+2 < len(v) && unhex(v[i+1]) >= 0 && unhex(v[i+2]) >= 0 {
			i += 2
			continue // an escaped separator
		}
		switch c {
		case '0':
			c = 'o'
		case '1':
			c = 'i'
		case '3':
			c = 'e'
		case '4', '@':
			c = 'a'
		case '5', '$':
			c = 's'
		case '7':
			c = 't'
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c >= '0' && c <= '9' {
			return false // a digit that is no letter: not a spelled word
		}
		if c < 'a' || c > 'z' {
			continue
		}
		if n == len(buf) {
			return false
		}
		buf[n] = c
		n++
	}
	w := buf[:n]
	return n >= 4 && (bytes.Contains(w, []byte("pass")) || bytes.Contains(w, []byte("secret")) || bytes.Contains(w, []byte("word")))
}

// uriPasswordOK gates a password found in a URI.
func uriPasswordOK(user, pass string) bool {
	if len(pass) < 3 || strings.EqualFold(pass, user) {
		return false
	}
	plain := pass
	if p, err := url.PathUnescape(pass); err == nil {
		plain = p
	}
	lp := strings.ToLower(plain)
	if weakURIPasswords[lp] || weakURIPasswords[strings.TrimRight(lp, "0123456789!.")] {
		return false // password, password123, pass1, admin!
	}
	switch pass[0] {
	case '$', '{', '%', '<', '*', ':', '[':
		return false
	}
	if placeholder(pass) || strings.Count(pass, "*") >= 3 {
		return false
	}
	// An owned token as the password (x-access-token:ghp_…) is its own detector's — but key-
	// is a word as much as Mailgun's prefix: a key-… password that is not key- + 32 hex is
	// nobody's, and a password.
	if strings.HasPrefix(pass, "key-") && !(len(pass) == 36 && allIn(pass[4:], hexLower)) {
		return !ownedShape(pass)
	}
	return !hasOwnedPrefix(pass) && !ownedShape(pass)
}

// dbURI finds the password of a connection URI of one scheme family. Its keywords are the
// scheme names; the hit is the start of the scheme.
type dbURI struct {
	m      detectors.Meta
	family string
}

var _ detectors.Detector = (*dbURI)(nil)

func (d *dbURI) Meta() detectors.Meta { return d.m }

func (d *dbURI) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h < last || h > 0 && (wordBefore(text, h) || text[h-1] == '-' || text[h-1] == '+' || text[h-1] == '.') {
			continue
		}
		j := h
		for j < len(text) && j-h < 40 && schemeByte[text[j]] {
			j++
		}
		if !strings.HasPrefix(text[j:], "://") || schemeFamily(text[h:j]) != d.family {
			continue
		}
		user, ps, pe, ok := userinfo(text, j+3)
		if !ok || !uriPasswordOK(user, text[ps:pe]) || docExample(text, ps, pe) {
			continue
		}
		emit(detectors.Match{Start: ps, End: pe, Confidence: 0.95})
		last = pe
	}
}

// urlAuth finds basic-auth passwords in URLs of any scheme the database detectors do not own,
// and (sentry == true) the secret half of a legacy Sentry DSN. Its keyword is "://".
type urlAuth struct {
	m      detectors.Meta
	sentry bool
}

var _ detectors.Detector = (*urlAuth)(nil)

func (u *urlAuth) Meta() detectors.Meta { return u.m }

func (u *urlAuth) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h < last || !strings.HasPrefix(text[h:], "://") {
			continue
		}
		s := h
		for s > 0 && h-s < 40 && schemeByte[text[s-1]] {
			s--
		}
		for s < h && !letters[text[s]] { // a scheme starts with a letter
			s++
		}
		if s == h || schemeFamily(text[s:h]) != "" {
			continue
		}
		user, ps, pe, ok := userinfo(text, h+3)
		if !ok {
			continue
		}
		pass := text[ps:pe]
		dsn := len(user) == 32 && len(pass) == 32 && allIn(user, hexLower) && allIn(pass, hexLower)
		if dsn != u.sentry || !dsn && (!uriPasswordOK(user, pass) || docExample(text, ps, pe)) {
			continue
		}
		emit(detectors.Match{Start: ps, End: pe, Confidence: 0.9})
		last = pe
	}
}
