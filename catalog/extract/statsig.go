package extract

import (
	"net/http"
	"strings"
)

// statsigBody reads a Statsig client SDK body. @statsig/js-client gzips event batches and says
// so in the query (gz=1), and "encodes" initialize bodies, which carry the user object, as
// base64 written backwards (se=1) so that ad blockers do not recognise them. Encoding happens
// before compression, so decoding undoes gzip first. Paths: body/gunzip/events[0].user.email,
// body/base64/user.email (the reversal is not a step of its own: it is part of Statsig's
// base64).
func statsigBody(r *Request, e *emitter) {
	body, prefix, depth := r.Body, "", 0
	if queryParam(r.RawQuery, "gz") == "1" || isGzip(body) {
		data, err := gunzip(body, e.budget())
		if err != nil {
			e.note("body: gz=1: %v", err)
			if len(data) == 0 {
				e.byContentType("", r.ContentType, body, 0)
				return
			}
		}
		e.recDecoded(data, body, gzipCodec{}, err)
		body, prefix, depth = data, "body/"+stepGunzip, 1
	}
	if queryParam(r.RawQuery, "se") == "1" {
		s := strings.TrimSpace(view(body))
		if s != "" && s[0] != '{' {
			data, err := decodeBase64Value(reverseASCII(s))
			switch {
			case err != nil:
				e.note("%s: se=1 but not reversed base64: %v", orBody(prefix), err)
			case !looksLikeText(data):
				e.note("%s: se=1 decodes to binary data", orBody(prefix))
				e.media(orBody(prefix), http.DetectContentType(data), len(data))
				return
			default:
				e.recDecoded(data, bytesView(s), base64Codec{reversed: true}, nil)
				e.structured(joinPrefix(orBody(prefix), stepBase64), data, depth+1)
				return
			}
		}
	}
	if prefix != "" {
		e.structured(prefix, body, depth)
		return
	}
	e.byContentType("", r.ContentType, body, 0)
}

// reverseASCII reverses a string byte by byte, which is right for base64 (the SDK reverses the
// base64 text, not the JSON).
func reverseASCII(s string) []byte {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}
