package secrets

import (
	"encoding/base64"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// jwt finds signed JSON Web Tokens: eyJ… header, payload and signature segments, the header a
// JSON object with "alg" (see JWTOK). The whole token is reported.
type jwt struct {
	m            detectors.Meta
	placeholders map[string]bool // documentation tokens (jwt.io's), by payload segment
}

var _ detectors.Detector = (*jwt)(nil)

func (j *jwt) Meta() detectors.Meta { return j.m }

const maxJWT = 16 << 10

func (j *jwt) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h < last || !strings.HasPrefix(text[h:], "eyJ") || h > 0 && (wordBefore(text, h) || text[h-1] == '-' || text[h-1] == '.') {
			continue
		}
		// Three runs of base64url separated by single dots.
		e, dots := h, 0
		var seg [3]int // segment starts
		for e < len(text) && e-h < maxJWT {
			c := text[e]
			if c == '.' {
				if dots == 2 || e+1 >= len(text) || !b64url[text[e+1]] {
					break
				}
				dots++
				seg[dots] = e + 1
			} else if !b64url[c] {
				break
			}
			e++
		}
		last = e                                                    // hits inside this run are the same candidate
		if e+1 < len(text) && text[e] == '.' && b64url[text[e+1]] { // a fourth segment: JWE or other
			continue
		}
		if dots != 2 || seg[1]-h < 12 || seg[2]-seg[1] < 3 || e-seg[2] < 16 || e < len(text) && (isWord(text[e]) || text[e] == '=') {
			continue
		}
		tok := text[h:e]
		if j.placeholders[text[seg[1]:seg[2]-1]] || !JWTOK(tok) {
			continue
		}
		emit(detectors.Match{Start: h, End: e, Confidence: 0.9})
	}
}

// openaiLegacy finds user API keys of the form sk-…T3BlbkFJ… that the project, service-account
// and admin detectors do not own (the classic 51-character key and sk-None-…). Its keyword is
// the base64 of "OpenAI" that every such key carries; the key start is found backwards.
type openaiLegacy struct{ m detectors.Meta }

var _ detectors.Detector = (*openaiLegacy)(nil)

func (o *openaiLegacy) Meta() detectors.Meta { return o.m }

func (o *openaiLegacy) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h < last || !strings.HasPrefix(text[h:], "T3BlbkFJ") {
			continue
		}
		s := h
		for s > 0 && h-s < 200 && b64url[text[s-1]] {
			s--
		}
		// The run may have swallowed a preceding word joined by '-' or '_'; the key starts at the
		// last "sk-" in it.
		k := strings.LastIndex(text[s:h], "sk-")
		if k < 0 {
			continue
		}
		s += k
		if !leftOK(text, s) {
			continue
		}
		rest := text[s+3 : h]
		if strings.HasPrefix(rest, "proj-") || strings.HasPrefix(rest, "svcacct-") || strings.HasPrefix(rest, "admin-") || strings.HasPrefix(rest, "ant-") {
			continue
		}
		e := h + 8
		for e < len(text) && e-h < 200 && b64url[text[e]] {
			e++
		}
		if !rightOK(text, e, b64url) || h-s-3 < 20 || e-h-8 < 20 {
			continue
		}
		v := text[s:e]
		if placeholder(v[3:]) || detectors.Entropy(v) < 4 {
			continue
		}
		emit(detectors.Match{Start: s, End: e, Confidence: 1})
		last = e
	}
}

// authHeader finds credentials in HTTP Authorization values: "Basic <base64 of user:pass>" and
// "Bearer <token>" — tokens other detectors recognise by their prefix are left to them.
type authHeader struct{ m detectors.Meta }

var _ detectors.Detector = (*authHeader)(nil)

func (a *authHeader) Meta() detectors.Meta { return a.m }

var bearerByte = cs("A-Za-z0-9._~+/=-")

func (a *authHeader) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h < last || wordBefore(text, h) {
			continue
		}
		i := h
		if hasFoldPrefix(text[i:], "authorization") {
			i = identEnd(text, i)
			// "Authorization": "Bearer …", Authorization: Basic …, authorization=Bearer%20…
			for k := 0; k < 6 && i < len(text) && strings.IndexByte(" \t\"':=", text[i]) >= 0; k++ {
				i++
			}
		}
		var basic bool
		switch {
		case hasFoldPrefix(text[i:], "bearer "):
			i += 7
		case hasFoldPrefix(text[i:], "basic "):
			i += 6
			basic = true
		default:
			continue
		}
		for i < len(text) && text[i] == ' ' {
			i++
		}
		j := i
		for j < len(text) && j-i < 4096 && bearerByte[text[j]] {
			j++
		}
		for j > i && text[j-1] == '.' { // a sentence's full stop
			j--
		}
		if j-i < 8 || j < len(text) && isWord(text[j]) {
			continue
		}
		v := text[i:j]
		if basic && !basicOK(v) || !basic && !bearerOK(v) {
			continue
		}
		emit(detectors.Match{Start: i, End: j, Confidence: 0.8})
		last = j
	}
}

func hasFoldPrefix(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// basicOK: base64 of "user:password", printable, with a password that is not a placeholder.
func basicOK(v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok || user == "" || strings.EqualFold(user, "aladdin") { // RFC 7617's example
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] < 0x20 || b[i] > 0x7e {
			return false
		}
	}
	return uriPasswordOK(user, pass)
}

// bearerOK: a random-looking token, not a variable, a placeholder or another detector's key.
func bearerOK(v string) bool {
	if len(v) < 16 || hasOwnedPrefix(v) || providerOwned(v) || ownedShape(v) || placeholder(v) {
		return false
	}
	l, u, d, _ := classes(v)
	n := 0
	for _, b := range []bool{l, u, d} {
		if b {
			n++
		}
	}
	return n >= 2 && d && detectors.Entropy(v) >= 3.5
}

// jwtB64 finds a JSON Web Token that was base64-encoded once more — a Kubernetes Secret's
// data, a config value, an HTTP header that carries a token wrapped for transport. Its keyword
// is ZXlK, the encoding of the token's own "eyJ"; the run is decoded (only at such hits) and
// must hold a token that passes JWTOK, alone or followed by a line break. The encoded run is
// reported.
type jwtB64 struct{ m detectors.Meta }

var _ detectors.Detector = (*jwtB64)(nil)

func (j *jwtB64) Meta() detectors.Meta { return j.m }

func (j *jwtB64) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h < 0 || h >= len(text) || !strings.HasPrefix(text[h:], "ZXlK") {
			continue
		}
		if h > 0 && (b64stdEq[text[h-1]] || text[h-1] == '-' || text[h-1] == '_') && !escBefore(text, h) {
			continue
		}
		e := h
		for e < len(text) && e-h < maxJWT*4/3+4 && (b64std[text[e]] || text[e] == '-' || text[e] == '_') {
			e++
		}
		for e < len(text) && e-h < maxJWT*4/3+8 && text[e] == '=' {
			e++
		}
		last = e
		if e < len(text) && isWord(text[e]) || e-h < 64 {
			continue
		}
		b, ok := decodeB64(text[h:e])
		if !ok {
			continue
		}
		tok := strings.TrimRight(string(b), "\r\n")
		if !JWTOK(tok) {
			continue
		}
		emit(detectors.Match{Start: h, End: e, Confidence: 0.85})
	}
}

// dockerAuth finds the "auth" entries of a Docker client config (~/.docker/config.json, a
// Kubernetes .dockerconfigjson, a DOCKER_AUTH_CONFIG variable): base64 of user:password under a
// registry inside "auths". The keyword is "auths"; the entries that follow it (quotes escaped
// once or more when the JSON sits in a string) are read, and a value is reported only if it
// decodes to printable user:password with both parts present and the password no placeholder.
type dockerAuth struct{ m detectors.Meta }

var _ detectors.Detector = (*dockerAuth)(nil)

func (d *dockerAuth) Meta() detectors.Meta { return d.m }

// dockerAuthSpan bounds how far after "auths" entries are looked for: a config with a few
// registries.
const dockerAuthSpan = 4096

func (d *dockerAuth) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h < 0 || h >= len(text) {
			continue
		}
		end := min(len(text), h+dockerAuthSpan)
		for i := h + len("auths"); i < end; {
			k := strings.Index(text[i:end], "auth")
			if k < 0 {
				break
			}
			a := i + k
			i = a + len("auth")
			if text[a-1] != '"' { // a key "auth", not "authority" or "oauth"
				continue
			}
			s, e := dockerAuthValue(text, i, end)
			if e == 0 {
				continue
			}
			i = e
			if DockerAuthOK(text[s:e]) {
				emit(detectors.Match{Start: s, End: e, Confidence: 0.9})
				last = e
			}
		}
	}
}

// dockerAuthValue reads `": "<base64>"` (quotes possibly backslash-escaped) at i and returns
// the base64 run, or e = 0.
func dockerAuthValue(text string, i, end int) (s, e int) {
	quotes := func(j int) int {
		for j < end && (text[j] == '\\' || text[j] == '"') {
			j++
		}
		return j
	}
	spaces := func(j int) int {
		for j < end && (text[j] == ' ' || text[j] == '\t') {
			j++
		}
		return j
	}
	j := quotes(i)
	if j == i {
		return 0, 0
	}
	j = spaces(j)
	if j >= end || text[j] != ':' {
		return 0, 0
	}
	q := spaces(j + 1)
	s = quotes(q)
	if s == q {
		return 0, 0
	}
	e = s
	for e < len(text) && b64stdEq[text[e]] {
		e++
	}
	if e-s < 8 || e >= len(text) || text[e] != '"' && text[e] != '\\' {
		return 0, 0
	}
	return s, e
}

// DockerAuthOK reports whether v, a Docker config "auth" value, is base64 of printable
// user:password (a password may span lines: GCR's _json_key:<service-account JSON>) with both parts present and the password no placeholder.
func DockerAuthOK(v string) bool {
	b, ok := decodeB64(v)
	if !ok {
		return false
	}
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' { // _json_key:{…} spans lines
			return false
		}
	}
	user, pass, ok := strings.Cut(string(b), ":")
	return ok && user != "" && len(pass) >= 4 && !placeholder(pass)
}
