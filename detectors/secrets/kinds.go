package secrets

import (
	"math"
	"regexp"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// The reusable detector shapes of this package. Each is data plus a hand-written Find that
// runs only at keyword hits, looks at a bounded number of bytes there and allocates nothing
// unless it reports.

// charset is a byte class.
type charset [256]bool

// cs builds a class from a spec of single bytes and ranges ("A-Za-z0-9_-"); a '-' that is
// not between two bytes (first or last) is literal.
func cs(spec string) *charset {
	var c charset
	for i := 0; i < len(spec); i++ {
		if i+2 < len(spec) && spec[i+1] == '-' {
			for b := int(spec[i]); b <= int(spec[i+2]); b++ {
				c[b] = true
			}
			i += 2
			continue
		}
		c[spec[i]] = true
	}
	return &c
}

var (
	alnum    = cs("A-Za-z0-9")
	alnumU   = cs("A-Za-z0-9_")
	b64url   = cs("A-Za-z0-9_-")
	b64std   = cs("A-Za-z0-9+/")
	b64stdEq = cs("A-Za-z0-9+/=")
	hexLower = cs("0-9a-f")
	hexAny   = cs("0-9a-fA-F")
	base32U  = cs("A-Z2-7")
	letters  = cs("A-Za-z")
)

// isWord: bytes that glue onto a token on either side, so that a match next to one is a
// fragment of something longer.
func isWord(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// escBefore: the two bytes before i are an escape (\n, \t, \r) of JSON or shell text — a line
// break or a tab, not the end of a word.
func escBefore(text string, i int) bool {
	if i < 2 || text[i-2] != '\\' {
		return false
	}
	c := text[i-1]
	return c == 'n' || c == 't' || c == 'r'
}

// wordBefore: a word byte is glued before i (not the end of an escape).
func wordBefore(text string, i int) bool {
	return i > 0 && isWord(text[i-1]) && !escBefore(text, i)
}

// leftOK: a token may start at i (nothing token-like glued before it). '-' counts as glue too:
// "key-ghp_…" or "x-sk_live_…" are not how keys are written.
func leftOK(text string, i int) bool {
	return i == 0 || !wordBefore(text, i) && text[i-1] != '-'
}

// rightOK: a token may end at j.
func rightOK(text string, j int, body *charset) bool {
	return j >= len(text) || !isWord(text[j]) && !body[text[j]]
}

func meta(name string, sev detectors.Severity, desc string, kw []string, ex detectors.Examples) detectors.Meta {
	return detectors.Meta{
		ID:          "secret." + name,
		Class:       detectors.Secret,
		Severity:    sev,
		Description: desc,
		Keywords:    kw,
		Examples:    ex,
	}
}

// finder is the Find half of a detector; anyOf combines several under one Meta.
type finder interface {
	Find(text string, hits []int, emit func(detectors.Match))
}

// ---------------------------------------------------------------------------------------
// token: a literal, case-sensitive prefix followed by a run of one byte class whose length is
// fixed or bounded. Most vendor keys are this shape.

type token struct {
	m        detectors.Meta
	prefixes []string // exact case; the keywords are their lower-case forms unless m.Keywords says otherwise
	body     *charset
	min, max int   // body length bounds (the run is maximal: a longer run is not a key)
	lengths  []int // if set, the body length must be one of these
	// validate sees the whole token (prefix included); nil accepts.
	validate func(tok string) bool
	entropy  float64 // least Shannon entropy of the body, bits per byte; 0 = off
	conf     float64 // 0 = 1
	bodyOnly bool    // report only the body (the prefix is a field name such as AccountKey=)
	// placeholders are whole tokens (any case) never reported.
	placeholders map[string]bool
	// notInBlob: the prefix is a common run of base64 (EAAA), so a match that is a piece of a
	// standard-base64 blob — followed by '+' or '/', or opening a line of a wrapped blob — is
	// not a token.
	notInBlob bool
	// notAfter: bytes that may not stand right before the prefix ('/' of a URL path).
	notAfter string
}

var _ detectors.Detector = (*token)(nil)

func (t *token) Meta() detectors.Meta { return t.m }

func (t *token) prefixAt(text string, h int) string {
	for _, p := range t.prefixes {
		if strings.HasPrefix(text[h:], p) {
			return p
		}
	}
	return ""
}

func (t *token) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h >= len(text) {
			continue
		}
		p := t.prefixAt(text, h)
		if p == "" || !leftOK(text, h) || t.notAfter != "" && h > 0 && strings.IndexByte(t.notAfter, text[h-1]) >= 0 {
			continue
		}
		b := h + len(p)
		j, lim := b, min(len(text), b+t.max+1)
		for j < lim && t.body[text[j]] {
			j++
		}
		n := j - b
		if n < t.min || n > t.max || !rightOK(text, j, t.body) {
			continue
		}
		if t.lengths != nil && !containsInt(t.lengths, n) {
			continue
		}
		tok := text[h:j]
		if len(t.placeholders) > 0 && t.placeholders[strings.ToLower(tok)] || placeholder(text[b:j]) {
			continue
		}
		if t.entropy > 0 && detectors.Entropy(text[b:j]) < t.entropy {
			continue
		}
		if t.validate != nil && !t.validate(tok) {
			continue
		}
		if t.notInBlob && inB64Blob(text, h, j) {
			continue
		}
		s := h
		if t.bodyOnly {
			s = b
		}
		emit(detectors.Match{Start: s, End: j, Confidence: confOr1(t.conf)})
		last = j
	}
}

// inB64Blob reports whether text[s:e] is a piece of a standard-base64 blob: a '+' or '/'
// stands right before or after it, or it opens a line after a long line of nothing but base64
// (a wrapped blob's 64- or 76-column lines).
func inB64Blob(text string, s, e int) bool {
	if e < len(text) && (text[e] == '+' || text[e] == '/') || s > 0 && (text[s-1] == '+' || text[s-1] == '/') {
		return true
	}
	if s == 0 || text[s-1] != '\n' {
		return false
	}
	i := s - 1
	if i > 0 && text[i-1] == '\r' {
		i--
	}
	n := 0
	for i > 0 && b64stdEq[text[i-1]] {
		i--
		n++
	}
	return n >= 60 && (i == 0 || text[i-1] == '\n')
}

func containsInt(xs []int, n int) bool {
	for _, x := range xs {
		if x == n {
			return true
		}
	}
	return false
}

func confOr1(c float64) float64 {
	if c == 0 {
		return 1
	}
	return c
}

// ---------------------------------------------------------------------------------------
// rx: a regular expression anchored at the keyword hit, for formats with inner structure
// (Slack, SendGrid, …). The engine's Pattern type does the same; this one checks token
// boundaries the way this package needs ('=' or '/' before a key is an assignment or a path,
// not glue) and lets a validator see the whole match.

type rx struct {
	m      detectors.Meta
	expr   string
	re     *regexp.Regexp
	group  int      // submatch reported; 0 = the whole match
	window int      // bytes from the hit the match may span
	tail   *charset // bytes that may not follow the match (default: word bytes)
	// dotWord: a '.' followed by a word byte after the match continues it (a routable GitLab
	// token's ".01abcdefg"); a '.' followed by anything else ends a sentence.
	dotWord  bool
	validate func(match string) bool
	entropy  float64
	conf     float64
	// lastSegment: the placeholder and entropy gates judge the match's last '/' segment,
	// the secret of a URL whose IDs may be spelled out (…/services/TEXAMPLE/BASE/<secret>).
	lastSegment bool
}

var _ detectors.Detector = (*rx)(nil)

func (r *rx) Meta() detectors.Meta { return r.m }

func (r *rx) compile() error {
	if r.re != nil {
		return nil
	}
	re, err := regexp.Compile(`^(?:` + r.expr + `)`)
	if err != nil {
		return err
	}
	r.re = re
	if r.window == 0 {
		r.window = 512
	}
	return nil
}

func (r *rx) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h >= len(text) || !leftOK(text, h) {
			continue
		}
		loc := r.re.FindStringSubmatchIndex(text[h:min(len(text), h+r.window)])
		if loc == nil {
			continue
		}
		me := h + loc[1]
		if me < len(text) && (isWord(text[me]) || r.tail != nil && r.tail[text[me]]) {
			continue
		}
		if r.dotWord && me+1 < len(text) && text[me] == '.' && isWord(text[me+1]) {
			continue
		}
		vs, ve := h+loc[2*r.group], h+loc[2*r.group+1]
		if vs < h {
			continue
		}
		v := text[vs:ve]
		if r.lastSegment {
			v = v[strings.LastIndexByte(v, '/')+1:]
		}
		if placeholder(v) || r.entropy > 0 && detectors.Entropy(v) < r.entropy {
			continue
		}
		if r.validate != nil && !r.validate(text[h:me]) {
			continue
		}
		emit(detectors.Match{Start: vs, End: ve, Confidence: confOr1(r.conf)})
		last = me
	}
}

// ---------------------------------------------------------------------------------------
// ctxTok: a key with no prefix of its own (Mistral, Cohere, Datadog, …), reported when it
// follows a vendor word ("MISTRAL_API_KEY=…", "datadog api key: …") within maxDist bytes.

type ctxTok struct {
	m       detectors.Meta
	body    *charset
	lengths []int
	maxDist int
	need    func(v string) bool // shape checks (character classes, UUID layout); nil accepts
	entropy float64
	conf    float64
	// name, if set, must accept the identifier at the keyword hit (GITHUB_CLIENT_SECRET, not
	// GITHUB_SHA or github.com): for vendor words that also name things that are no secret.
	name func(ident string) bool
	// notAfter: bytes that may not stand right before the value ('/' of a URL path, '@' of a
	// pinned revision).
	notAfter string
	// pad: a byte whose leading run is the format's padding (a Twitter bearer token's A's),
	// left out of the placeholder check, which takes a run for a mask.
	pad byte
	// digestWords: words that, between the name and the value, say the value is a digest of
	// something else ("GitHub token gho_… - sha1 checksum: <40 hex>"), not the vendor's key.
	digestWords []string
}

var _ detectors.Detector = (*ctxTok)(nil)

func (c *ctxTok) Meta() detectors.Meta { return c.m }

func (c *ctxTok) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h < last {
			continue
		}
		s := identEnd(text, h)
		if c.name != nil && !c.name(text[h:s]) {
			continue
		}
		lim := min(len(text), s+c.maxDist)
		onlySep := true // nothing but separators since the name: the value may be on the next line
		for i := s; i < lim; {
			if text[i] == '\n' {
				if !onlySep {
					break // the value belongs on the name's line
				}
				onlySep = false
			} else if onlySep && strings.IndexByte(" \t\r:=\"'{>", text[i]) < 0 { // '>': <sumoToken>⏎ value
				onlySep = false
			}
			// A run of base64 that starts at i may be the value encoded under its name (a
			// Kubernetes Secret's data): the engine decodes it, but without the name.
			b64Start := b64std[text[i]] && (i == 0 || !b64stdEq[text[i-1]] && !wordBefore(text, i)) && !escBefore(text, i+1)
			if !c.body[text[i]] || i > 0 && (wordBefore(text, i) || c.body[text[i-1]] && !escBefore(text, i) || c.notAfter != "" && strings.IndexByte(c.notAfter, text[i-1]) >= 0) || escBefore(text, i+1) {
				if b64Start {
					if e := c.encodedAt(text, i, emit); e > 0 {
						last = e
						break
					}
				}
				i++
				continue
			}
			j, jl := i, min(len(text), i+maxInt(c.lengths)+1)
			for j < jl && c.body[text[j]] {
				j++
			}
			v := text[i:j]
			if containsInt(c.lengths, j-i) && rightOK(text, j, c.body) && c.valueOK(v) && !c.digestBetween(text[s:i]) {
				emit(detectors.Match{Start: i, End: j, Confidence: confOr1(c.conf)})
				last = j
				break
			}
			if b64Start && j < len(text) && b64stdEq[text[j]] {
				if e := c.encodedAt(text, i, emit); e > 0 {
					last = e
					break
				}
			}
			for j < len(text) && j-i < 4096 && c.body[text[j]] { // skip the rest of this run
				j++
			}
			i = j
		}
	}
}

// digestBetween reports whether the text between a name and a candidate value holds one of
// the detector's digest words.
func (c *ctxTok) digestBetween(between string) bool {
	for _, w := range c.digestWords {
		if containsFold(between, w) {
			return true
		}
	}
	return false
}

// encodedAt emits a value of this detector base64-encoded in the run at i and returns the
// run's end, or returns 0.
func (c *ctxTok) encodedAt(text string, i int, emit func(detectors.Match)) int {
	v, e, ok := encodedValue(text, i, c.lengths)
	if !ok || !c.valueOK(v) {
		return 0
	}
	emit(detectors.Match{Start: i, End: e, Confidence: confOr1(c.conf) - 0.05})
	return e
}

// valueOK applies the detector's checks to a candidate value of one of its lengths, made of
// its body bytes.
func (c *ctxTok) valueOK(v string) bool {
	p := v
	if c.pad != 0 {
		p = strings.TrimLeft(v, string(c.pad))
	}
	return containsInt(c.lengths, len(v)) && allIn(v, c.body) && !placeholder(p) && !hasOwnedPrefix(v) &&
		(c.entropy == 0 || detectors.Entropy(v) >= c.entropy) && (c.need == nil || c.need(v))
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// identEnd returns the end of the identifier-like word that starts at or contains i
// (MISTRAL_API_KEY, x-datadog-api-key), bounded to 64 bytes.
func identEnd(text string, i int) int {
	j := i
	for j < len(text) && j-i < 64 && (isWord(text[j]) || text[j] == '-' || text[j] == '.') {
		j++
	}
	return j
}

// placeholder extends detectors.IsPlaceholder with runs of consecutive characters
// (0123456789abcdef…, ABCDEFG, 1234567): random keys practically never have seven in a row;
// documentation keys and test values do. It also undoes one over-reach of IsPlaceholder: its
// "xxxx" word marks any value holding four x's in a row, in either case, but random bodies hold
// "xXxX", "XXXX" or "xxxx" now and then (about one 150-character OpenAI key in 7,000, one
// 40-character key in 20,000), and such a key is live. x's are a mask only when they look like
// one (see xMask).
func placeholder(v string) bool {
	if detectors.IsPlaceholder(v) && !xRunInRandomBody(v) {
		return true
	}
	return consecutiveRun(v, 7)
}

// consecutiveRun reports whether v holds n ascending alphanumerics in a row (abcdefg, 3456789,
// 89abcde).
func consecutiveRun(v string, n int) bool {
	run := 1
	for i := 1; i < len(v); i++ {
		if c, p := v[i]|0x20, v[i-1]|0x20; (alnum[v[i]] && alnum[v[i-1]]) && (c == p+1 || v[i] == '0' && v[i-1] == '9' || v[i] == 'a' && v[i-1] == '9') {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// xRunInRandomBody reports whether IsPlaceholder flagged v only for a run of four or more x's
// (either case) that is not a mask: v with those runs taken out is no placeholder. It runs only
// on values IsPlaceholder flagged, which are rare, so the copy it makes costs nothing in bulk.
func xRunInRandomBody(v string) bool {
	if xMask(v) {
		return false
	}
	var b []byte
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j]|0x20 == 'x' {
			j++
		}
		if j-i >= 4 {
			if b == nil {
				b = append(make([]byte, 0, len(v)), v[:i]...)
			}
		} else if b != nil {
			b = append(b, v[i:max(j, i+1)]...)
		}
		i = max(j, i+1)
	}
	return b != nil && !detectors.IsPlaceholder(string(b))
}

// xMask: the x's of v are a mask rather than part of a random body — a run of eight or more
// (sk-proj-xxxxxxxx…), runs of three or more that cover a quarter of v (xxxx-xxxx-xxxx), or a
// run of four or more that starts or ends it (sk-abc123xxxx: the visible head of a masked key).
func xMask(v string) bool {
	total := 0
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j]|0x20 == 'x' {
			j++
		}
		n := j - i
		switch {
		case n >= 8, n >= 4 && (i == 0 || j == len(v)):
			return true
		case n >= 3:
			total += n
		}
		i = max(j, i+1)
	}
	return total*4 >= len(v)
}

// classes reports which character classes v contains.
func classes(v string) (lower, upper, digit, other bool) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
		}
	}
	return
}

// mixedAlnum: a random-looking base62 key — upper and lower case, and a digit unless the
// letters alone are as varied as random ones (not hex, not a constant, not a camelCase name).
func mixedAlnum(v string) bool {
	l, u, d, _ := classes(v)
	return l && u && (d || detectors.Entropy(v) >= math.Log2(float64(len(v)))-0.9)
}

// strictAlnum: upper, lower and digit all present.
func strictAlnum(v string) bool {
	l, u, d, _ := classes(v)
	return l && u && d
}

// keyLike: an alphanumeric key in one case or both, with letters and digits (a vendor's
// lower-case keys): not a word, not a camelCase name, not a number.
func keyLike(v string) bool {
	l, u, d, _ := classes(v)
	return d && (l || u)
}

// hexKey: lower-case hex with both letters and digits (not a run of digits, not a word).
func hexKey(v string) bool {
	l, u, d, _ := classes(v)
	return l && d && !u
}

// ---------------------------------------------------------------------------------------
// anyOf: one detector (one ID) that recognises several shapes, e.g. Heroku's HRKU- keys and
// its older UUID keys next to the word "heroku". Each part ignores hits that are not its own.

type anyOf struct {
	m     detectors.Meta
	parts []finder
}

var _ detectors.Detector = (*anyOf)(nil)

func (a *anyOf) Meta() detectors.Meta { return a.m }

func (a *anyOf) Find(text string, hits []int, emit func(detectors.Match)) {
	for _, p := range a.parts {
		p.Find(text, hits, emit)
	}
}
