package pii

import (
	"strings"

	"github.com/customs-dev/customs/detectors"
)

func emailDetector() detectors.Detector {
	return &email{meta: detectors.Meta{
		ID:       "pii.email",
		Class:    detectors.PII,
		Severity: detectors.Low,
		Description: "E-mail address, found from each \"@\": a local part of letters, digits and . _ % + - " +
			"(at most 64), a domain of at least two labels with an alphabetic TLD (2–24 letters, not a " +
			"file extension such as .png or .js). Not reported: URL user-info (https://user:pass@host, " +
			"ssh://git@host), scp-style remotes (git@github.com:org/repo), package versions " +
			"(lodash@4.17.21, pkg@v1.2.3), retina file names (icon@2x.png), documentation domains " +
			"(example.com/.org/.net, *.example, *.test, *.invalid, *.localhost) and placeholders " +
			"(your-email@…, noreply@…). Confidence 1; 0.7 for role accounts (info@, support@, …), 0.6 " +
			"for GCP service accounts (…@….iam.gserviceaccount.com).",
		// No keyword: a one-byte keyword would make the automaton record every '@' (10 MB of them
		// took seconds); Find walks them itself with IndexByte.
		Examples: detectors.Examples{
			Match: []string{
				"contact jane.doe@acme-corp.com for access",
				"From: Ramón <r.garcia+billing@globex.co.uk>",
				"mailto:ops-team@initech.io",
				"Email:pat@hooli.dev",
			},
			NoMatch: []string{
				"contact jane.doe@example.com",
				"git clone git@github.com:acme/api.git",
				"https://admin:s3cr3t@db.acme-corp.com/x",
				"ssh://git@gitlab.acme-corp.com/team/repo.git",
				"npm i lodash@4.17.21 and @types/node@20.11.5",
				"uses: actions/checkout@v4",
				"icon@2x.png",
				"@decorator.name on a method",
				"noreply@github.com",
				"your-email@company.com",
				"user@localhost",
			},
		},
	}}
}

type email struct{ meta detectors.Meta }

var _ detectors.Detector = (*email)(nil)

func (d *email) Meta() detectors.Meta { return d.meta }

func isLocalByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isLabelByte(c byte) bool { return isAlnum(c) || c == '-' }

func (d *email) Find(text string, _ []int, emit func(detectors.Match)) {
	for h := strings.IndexByte(text, '@'); h >= 0; {
		next := h + 1
		s, e, conf := emailAt(text, h)
		if conf > 0 {
			emit(detectors.Match{Start: s, End: e, Confidence: conf})
			next = e
		}
		i := strings.IndexByte(text[next:], '@')
		if i < 0 {
			break
		}
		h = next + i
	}
}

// emailAt reads the address around the '@' at h; conf 0 means none.
func emailAt(text string, h int) (s, e int, conf float64) {
	n := len(text)
	// Fast reject: a local-part byte before the '@' and a domain label's first byte after it.
	if h == 0 || h+1 >= n || !isLocalByte(text[h-1]) || !isAlnum(text[h+1]) {
		return 0, 0, 0
	}
	// Local part, leftwards.
	s = h
	for s > 0 && h-s <= 64 && isLocalByte(text[s-1]) {
		s--
	}
	if h-s > 64 {
		return 0, 0, 0
	}
	if s > 0 && text[s-1] == '\\' && s+1 < h && (text[s] == 'n' || text[s] == 't' || text[s] == 'r') {
		s++ // "\nbob@…" in raw JSON: the n belongs to the escape
	}
	for s < h && (text[s] == '.' || text[s] == '-' || text[s] == '+') {
		s++
	}
	if s == h || text[h-1] == '.' {
		return 0, 0, 0
	}
	local := text[s:h]
	for k := 1; k < len(local); k++ {
		if local[k] == '.' && local[k-1] == '.' {
			return 0, 0, 0
		}
	}
	if s > 0 {
		switch p := text[s-1]; {
		case p == '/' || p == '@' || p == '\\':
			return 0, 0, 0 // URL user-info (ssh://git@host), a path, a second '@'
		case p >= 0x80 && !isQuoteOrSpace(text, s-1):
			return 0, 0, 0 // the local part began with a non-ASCII letter we cannot see
		}
		if userinfo(text, s) && !hasSuffixFold(text[:s], "mailto:") {
			return 0, 0, 0 // scheme://user:p4ss!word@host
		}
	}
	// Domain, rightwards.
	p := h + 1
	labels, tld := 0, 0
	for p < n && p-h <= 254 {
		ls := p
		for p < n && isLabelByte(text[p]) && p-ls <= 63 {
			p++
		}
		if p == ls || text[ls] == '-' || text[p-1] == '-' || p-ls > 63 {
			return 0, 0, 0
		}
		labels++
		tld = ls
		if p+1 < n && text[p] == '.' && isLabelByte(text[p+1]) {
			p++
			continue
		}
		break
	}
	e = p
	if labels < 2 || e-h > 254 {
		return 0, 0, 0
	}
	if e < n {
		c := text[e]
		if c == '_' || c == '@' || c >= 0x80 && !isQuoteOrSpace(text, e) {
			return 0, 0, 0
		}
		// git@github.com:org/repo (scp-style remote)
		if c == ':' && e+1 < n && (isAlnum(text[e+1]) || text[e+1] == '/' || text[e+1] == '~' || text[e+1] == '.') {
			return 0, 0, 0
		}
	}
	t := text[tld:e]
	if len(t) < 2 || len(t) > 24 {
		return 0, 0, 0
	}
	if !hasPrefixFold(t, "xn--") {
		for k := 0; k < len(t); k++ {
			if !isAlpha(t[k]) {
				return 0, 0, 0
			}
		}
	}
	if len(t) == 2 && !ccTLD[[2]byte{t[0] | 0x20, t[1] | 0x20}] {
		return 0, 0, 0 // two letters that are no country's domain (packed data: O;O@P.OA)
	}
	if notTLD(t) || docDomain(text[h+1:e]) || placeholderLocal(local) || listDomain(text[h+1:e]) || attribution(text, s) {
		return 0, 0, 0
	}
	conf = 1
	switch {
	case machineDomain(text[h+1 : e]):
		conf = 0.6
	case roleAccount(local):
		conf = 0.7
	}
	return s, e, conf
}

// isQuoteOrSpace: a multi-byte character at text[i] (one of its bytes) that is punctuation or
// space, not a letter: typographic quotes, guillemets, NBSP.
func isQuoteOrSpace(text string, i int) bool {
	// Find the character's first byte.
	for i > 0 && text[i]&0xC0 == 0x80 {
		i--
	}
	rest := text[i:]
	for _, q := range []string{"“", "”", "‘", "’", "«", "»", "\u00a0", "\u202f", "\u2009", "—", "–", "…", "、", "，", "：", "（", "）", "<", ">"} {
		if len(rest) >= len(q) && rest[:len(q)] == q {
			return true
		}
	}
	return false
}

// userinfo reports whether the text before s (the start of an e-mail's local part) is the
// user-info of a URL: going back over the token, the first '/', '?' or '#' is the one of "://"
// (scheme://user:pass@host, where a password may hold any of !*~.:_-); a path or query in
// between means the '@' is in it (https://x.io/contact?email=bob@acme.io is an e-mail).
func userinfo(text string, s int) bool {
	for k := s - 1; k >= 2 && s-k < 512; k-- {
		switch text[k] {
		case ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>':
			return false
		case '/', '?', '#':
			return text[k] == '/' && text[k-1] == '/' && text[k-2] == ':'
		}
	}
	return false
}

// ccTLD: the two-letter top-level domains delegated in the root zone (ISO 3166-1 codes, with
// .ac, .eu, .su and .uk); every two-letter TLD is one of these.
var ccTLD = func() map[[2]byte]bool {
	m := map[[2]byte]bool{}
	for _, c := range strings.Fields(`ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo
		br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es
		et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im
		in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg
		mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl
		pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv sx sy sz tc td
		tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw`) {
		m[[2]byte{c[0], c[1]}] = true
	}
	return m
}()

// notTLD: file extensions that follow an '@' in code (icon@2x.png, pkg@1.0.0/index.js) but are
// not top-level domains.
func notTLD(t string) bool {
	switch lowerShort(t) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tiff", "avif",
		"js", "mjs", "cjs", "ts", "tsx", "jsx", "json", "yaml", "yml", "toml", "lock", "txt", "log",
		"css", "scss", "less", "html", "htm", "xml", "java", "kt", "rb", "php", "cpp", "hpp", "h", "c", "py",
		"go", "rs", "swift", "vue", "map", "min", "wasm", "zip", "gz", "tgz", "tar", "pdf", "csv", "md",
		"mp3", "mp4", "mov", "wav", "ttf", "woff", "woff2", "otf", "sh", "bat", "exe", "dll", "so":
		return true
	}
	return false
}

// lowerShort lower-cases a candidate TLD; longer strings are no TLD of the list and give "".
func lowerShort(s string) string { return lowerUpTo(s, 8) }

// docDomain: domains reserved for documentation and testing (RFC 2606, RFC 6761) and the
// placeholder domains of templates.
func docDomain(d string) bool {
	for _, suf := range []string{".test", ".example", ".invalid", ".localhost"} {
		if hasSuffixFold(d, suf) {
			return true
		}
	}
	for _, base := range []string{"example.com", "example.org", "example.net", "example.edu",
		"domain.com", "yourdomain.com", "mydomain.com", "yourcompany.com", "company.com", "email.com", "test.com",
		"foo.com", "bar.com", "baz.com", "foo.org", "bar.org", "foo.net", "foo.bar", "bar.baz", "somewhere.com",
		"host.com", "site.com", "website.com", "mysite.com", "world.com", "abc.com", "xyz.com", "def.ghi"} {
		if len(d) == len(base) && hasPrefixFold(d, base) ||
			len(d) > len(base) && d[len(d)-len(base)-1] == '.' && hasSuffixFold(d, base) {
			return true
		}
	}
	// example.co.uk, example.de
	return hasPrefixFold(d, "example.")
}

// machineDomain: addresses of machine identities rather than people (GCP service accounts).
func machineDomain(d string) bool {
	return hasSuffixFold(d, ".gserviceaccount.com")
}

// listDomain: mailing-list hosts; a list's address is a public forum, not a person.
func listDomain(d string) bool {
	return hasSuffixFold(d, "googlegroups.com") && (len(d) == 16 || d[len(d)-17] == '.') ||
		hasPrefixFold(d, "lists.") || hasPrefixFold(d, "groups.")
}

func placeholderLocal(l string) bool {
	if detectors.IsPlaceholder(l) {
		return true
	}
	switch lowerLocal(l) {
	case "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply", "mailer-daemon",
		"username", "user.name", "firstname.lastname", "first.last", "name", "email", "your.email",
		"youremail", "you", "someone", "somebody", "foo", "bar", "baz", "test", "me", "user", "user1", "user2", "user3",
		"a", "b", "c", "x", "y", "abc", "xyz", "unknown", "nobody", "anonymous", "test.mail", "testuser", "test.user",
		"john.doe", "johndoe", "jdoe", "jsmith", "john.smith", "gopher":
		return true
	}
	return false
}

func roleAccount(l string) bool {
	switch lowerLocal(l) {
	case "info", "support", "sales", "admin", "contact", "hello", "team", "security", "abuse", "help",
		"webmaster", "postmaster", "billing", "office", "hr", "jobs", "careers", "press", "marketing":
		return true
	}
	return false
}

// lowerLocal lower-cases a local part for the placeholder and role lists, which hold nothing
// longer than 24 bytes.
func lowerLocal(s string) string { return lowerUpTo(s, 24) }

// lowerUpTo lower-cases ASCII in s, or returns "" when s is longer than max: the callers only
// compare against short word lists, and a bounded stack buffer keeps this allocation-light.
func lowerUpTo(s string, max int) string {
	if len(s) > max || len(s) > 24 {
		return ""
	}
	var b [24]byte
	for k := 0; k < len(s); k++ {
		c := s[k]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b[k] = c
	}
	return string(b[:len(s)])
}

// attributionWords mark a line that credits people (licence headers, author lists, commit
// trailers): the addresses there are published attribution, not personal data leaking.
var attributionWords = newContext("copyright", "©", "(c)", "author", "written by", "contributed by", "maintainer",
	"maintained by", "signed-off-by", "co-authored-by", "reviewed-by", "acked-by", "reported-by", "tested-by",
	"suggested-by", "contributors", "credits", "thanks to", "original code", "developed by", "described by",
	"implemented by", "ported by", "version by",
	// The first line of a git format-patch mail: the From: below it is the commit's author.
	"mon sep 17 00:00:00 2001")

// attribution reports whether the address starting at s is on an attribution line, in a
// source comment block that has one ("// Copyright 1984 by S. L. Moshier … //   moshier@…"),
// or in a list headed by one: a package manifest's "contributors": [ "Name <mail>", … ] or
// "maintainers": [ { "name": …, "email": … } ], a licence file's "Contributors:" followed by
// "- Name <mail> (url)" lines. The same list without such a heading (a customer list) is
// personal data.
func attribution(text string, s int) bool {
	ls := s
	for ls > 0 && s-ls < 512 && text[ls-1] != '\n' {
		ls--
	}
	if attributionWords.near(text, ls, s) || ls > 0 && hasPrefixFold(text[ls:], "from:") && attributionWords.near(text, ls-80, ls) {
		return true
	}
	comment := commentLine(text, ls)
	if !comment && !listLine(text, ls) {
		return false
	}
	// Walk up the comment block or the list: at most 40 lines and 3 KiB.
	for lines := 0; lines < 40 && ls > 0 && s-ls < 3<<10; lines++ {
		le := ls - 1
		ls = le
		for ls > 0 && le-ls < 512 && text[ls-1] != '\n' {
			ls--
		}
		if comment && !commentLine(text, ls) {
			return false
		}
		if attributionWords.near(text, ls, le) {
			return true
		}
		if !comment && !listLine(text, ls) {
			return false // the heading of a list, or the text before it, names no attribution
		}
	}
	return false
}

// listLine: the line at ls is, after indentation, an item or a member of a list or a JSON
// structure (starts with - * + " ' { } [ or ]).
func listLine(text string, ls int) bool {
	p := ls
	for p < len(text) && p-ls < 64 && (text[p] == ' ' || text[p] == '\t') {
		p++
	}
	return p < len(text) && containsByte("-*+\"'{}[]", text[p])
}

// commentLine: the line at ls starts, after indentation, with a comment marker of a common
// language (// # * /* ; -- %).
func commentLine(text string, ls int) bool {
	p := ls
	for p < len(text) && p-ls < 64 && (text[p] == ' ' || text[p] == '\t') {
		p++
	}
	if p >= len(text) {
		return false
	}
	switch text[p] {
	case '#', '*', ';', '%':
		return true
	case '/':
		return p+1 < len(text) && (text[p+1] == '/' || text[p+1] == '*')
	case '-':
		return p+1 < len(text) && text[p+1] == '-'
	}
	return false
}
