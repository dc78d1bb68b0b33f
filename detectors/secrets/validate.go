package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"strings"
)

// Offline validators: checksums and structure that real keys have and look-alikes do not.

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base62CRC encodes the IEEE CRC32 of s as six base62 digits, most significant first, padded
// with '0' — the checksum GitHub (and npm) put at the end of their tokens.
func base62CRC(s string) [6]byte {
	c := crc32IEEE(s)
	var out [6]byte
	for i := 5; i >= 0; i-- {
		out[i] = base62Digits[c%62]
		c /= 62
	}
	return out
}

// GitHubChecksumOK reports whether a GitHub-format token (ghp_, gho_, ghu_, ghs_, ghr_, and
// npm's npm_) carries a valid checksum: after the last '_', the final six characters are the
// base62 (0-9A-Za-z, zero-padded) CRC32 (IEEE) of the characters before them. See GitHub's
// "Behind GitHub's new authentication token formats" (2021) and npm's announcement of the same
// format.
func GitHubChecksumOK(tok string) bool {
	body := tok[strings.LastIndexByte(tok, '_')+1:]
	if len(body) < 7 {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !alnum[body[i]] {
			return false
		}
	}
	sum := base62CRC(body[:len(body)-6])
	return string(sum[:]) == body[len(body)-6:]
}

// AtlassianChecksumOK reports whether an Atlassian-format token (ATATT3… API tokens, ATCTT3…
// access tokens, ATBB… Bitbucket app passwords) ends in the upper-case hex CRC32 (IEEE) of
// everything before those eight characters.
func AtlassianChecksumOK(tok string) bool {
	if len(tok) < 12 {
		return false
	}
	tail := tok[len(tok)-8:]
	for i := 0; i < 8; i++ {
		if c := tail[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return crcHex(tok[:len(tok)-8]) == tail
}

// crcHex is the IEEE CRC32 of s as eight upper-case hex digits.
func crcHex(s string) string {
	const hx = "0123456789ABCDEF"
	c := crc32IEEE(s)
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = hx[c&15]
		c >>= 4
	}
	return string(b[:])
}

// crc32IEEE is crc32.ChecksumIEEE of s, a table loop over the string: converting s to bytes
// for hash/crc32 allocated on every call, and the strings it checks are short.
func crc32IEEE(s string) uint32 {
	tab := crc32.IEEETable
	c := ^uint32(0)
	for i := 0; i < len(s); i++ {
		c = tab[byte(c)^s[i]] ^ c>>8
	}
	return ^c
}

// decodeB64 decodes standard or URL-safe base64, with or without padding.
func decodeB64(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		if strings.ContainsAny(s, "+/") {
			return nil, false
		}
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	return b, err == nil
}

// b64Val maps a base64 character of either alphabet to its value; 0xff marks other bytes.
var b64Val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['+'], t['/'], t['-'], t['_'] = 62, 63, 62, 63
	return t
}()

// decodeB64To is decodeB64 decoding into dst's spare capacity: with a stack array it does not
// allocate. It falls back to decodeB64 when dst is too small.
func decodeB64To(dst []byte, s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	if len(s)/4*3+3 > cap(dst)-len(dst) {
		return decodeB64(s)
	}
	// One alphabet only; the decoder of encoding/base64 skips line breaks and rejects anything
	// else that is not of its alphabet (padding included: it is trimmed above or invalid).
	url, std := strings.ContainsAny(s, "-_"), strings.ContainsAny(s, "+/")
	if url && std {
		return nil, false
	}
	var q [4]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' || c == '\r' {
			continue
		}
		v := b64Val[c]
		if v == 0xff {
			return nil, false
		}
		q[n] = v
		n++
		if n == 4 {
			dst = append(dst, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
			n = 0
		}
	}
	switch n {
	case 1:
		return nil, false
	case 2:
		dst = append(dst, q[0]<<2|q[1]>>4)
	case 3:
		dst = append(dst, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2)
	}
	return dst, true
}

// PyPITokenOK reports whether a PyPI API token (pypi-…) is a well-formed macaroon: the part
// after "pypi-" is URL-safe base64 of a version-2 binary macaroon whose location is pypi.org
// or test.pypi.org, whose sections are well formed, and which ends with a 32-byte signature.
func PyPITokenOK(tok string) bool {
	rest, ok := strings.CutPrefix(tok, "pypi-")
	if !ok {
		return false
	}
	b, ok := decodeB64(rest)
	if !ok || len(b) < 2 || b[0] != 2 {
		return false
	}
	p := b[1:]
	// field reads one (type, length, data) field; type 0 is an end-of-section marker.
	field := func() (typ uint64, data []byte, ok bool) {
		typ, n := uvarint(p)
		if n <= 0 {
			return 0, nil, false
		}
		p = p[n:]
		if typ == 0 {
			return 0, nil, true
		}
		l, n := uvarint(p)
		if n <= 0 || uint64(len(p)-n) < l {
			return 0, nil, false
		}
		data = p[n : n+int(l)]
		p = p[n+int(l):]
		return typ, data, true
	}
	// Header: optional location (1), identifier (2), end.
	typ, data, ok := field()
	if !ok || typ != 1 || string(data) != "pypi.org" && string(data) != "test.pypi.org" {
		return false
	}
	if typ, _, ok = field(); !ok || typ != 2 {
		return false
	}
	if typ, _, ok = field(); !ok || typ != 0 {
		return false
	}
	// Caveats, each a section ending in 0; an empty section ends the list.
	for sections := 0; ; sections++ {
		if sections > 64 {
			return false
		}
		n := 0
		for {
			typ, _, ok = field()
			if !ok {
				return false
			}
			if typ == 0 {
				break
			}
			if typ != 1 && typ != 2 && typ != 4 {
				return false
			}
			n++
		}
		if n == 0 {
			break
		}
	}
	typ, data, ok = field()
	return ok && typ == 6 && len(data) == 32 && len(p) == 0
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i := 0; i < len(b) && i < 9; i++ {
		x |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return x, i + 1
		}
	}
	return 0, -1
}

// JWTOK reports whether s is a signed JSON Web Token: three base64url segments, a header that
// decodes to a JSON object with a string "alg" other than "none", a payload that decodes to a
// JSON object, and a non-empty signature.
func JWTOK(s string) bool {
	h, rest, ok := strings.Cut(s, ".")
	if !ok {
		return false
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || sig == "" || strings.Contains(sig, ".") {
		return false
	}
	hb, ok := decodeB64(h)
	if !ok {
		return false
	}
	var hdr map[string]any
	if json.Unmarshal(hb, &hdr) != nil {
		return false
	}
	alg, _ := hdr["alg"].(string)
	if alg == "" || strings.EqualFold(alg, "none") {
		return false
	}
	pb, ok := decodeB64(p)
	if !ok || !json.Valid(pb) || len(bytes.TrimSpace(pb)) == 0 || bytes.TrimSpace(pb)[0] != '{' {
		return false
	}
	_, ok = decodeB64(sig)
	return ok
}

// SentryOrgTokenOK reports whether a Sentry organization auth token (sntrys_…) has its
// documented layout: base64 of a JSON object carrying "iat", an '_', and a 43-character
// base64 secret.
func SentryOrgTokenOK(tok string) bool {
	rest, ok := strings.CutPrefix(tok, "sntrys_")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '_')
	if i < 0 || len(rest)-i-1 != 43 {
		return false
	}
	b, ok := decodeB64(rest[:i])
	if !ok {
		return false
	}
	var v map[string]any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	_, ok = v["iat"]
	return ok
}

// base64Len reports whether s is standard base64 (padding optional) of exactly n bytes.
func base64Len(s string, n int) bool {
	b, ok := decodeB64(s)
	return ok && len(b) == n
}

// isUUID: 8-4-4-4-12 hex.
func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if v[i] != '-' {
				return false
			}
		default:
			if !hexAny[v[i]] {
				return false
			}
		}
	}
	return true
}
