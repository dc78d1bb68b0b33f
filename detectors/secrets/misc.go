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
	if len(v) < 16 || hasOwnedPrefix(v) || ownedShape(v) || placeholder(v) {
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
