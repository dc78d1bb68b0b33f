package extract

import (
	"errors"
	"strings"
)

// posthogBody reads a PostHog capture body. posthog-js names its compression in the query
// (compression=gzip-js|lz64|base64; older versions put it in the form body instead):
//   - gzip-js: the body is gzip bytes (declared text/plain) → body/gunzip/...
//   - lz64: a form whose data field is LZString.compressToBase64 output → form:data/lz64/...
//   - base64: a form whose data field is base64 JSON → form:data/base64/...
//
// and without compression a form data field holds JSON. Server SDKs post JSON ({api_key,
// batch:[...]} or one event); gzip from them comes with Content-Encoding, already decoded.
func posthogBody(r *Request, e *emitter) {
	body := r.Body
	compression := queryParam(r.RawQuery, "compression")
	if isGzip(body) || compression == "gzip-js" && !isForm(r.ContentType, body) {
		data, err := gunzip(body, e.budget())
		if err != nil {
			e.note("body: compression=%s: %v", orDefault(compression, "gzip"), err)
			if data == nil {
				e.byContentType("", r.ContentType, body, 0)
				return
			}
		}
		e.recDecoded(data, body, gzipCodec{}, err)
		e.structured("body/"+stepGunzip, data, 1)
		return
	}
	if isForm(r.ContentType, body) {
		raw := view(body)
		if c := queryParam(raw, "compression"); c != "" {
			compression = c
		}
		e.formFields("form:", raw, func(path, key, val string) bool {
			if key != "data" {
				return false
			}
			e.posthogData(path, val, compression)
			return true
		})
		return
	}
	e.jsonOrNDJSON("", r.ContentType, body, 0)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// posthogData reads the raw (percent-encoded) data field of a posthog-js form. Its decoded
// events stand for it; when it cannot be decoded, a note says why and the field is scanned as
// it is.
func (e *emitter) posthogData(path, raw, compression string) {
	t, done := e.formDataValue(path, raw)
	if done {
		return
	}
	text := view(t)
	if compression == "lz64" {
		// Form decoding made any unescaped '+' a space; the LZString alphabet has no space.
		out, err := decodeLZ64(strings.ReplaceAll(text, " ", "+"), min(e.budget(), lz64MaxUnits))
		if err != nil {
			e.note("%s: %v", path, err)
			if errors.Is(err, errLZ64Limit) {
				e.limited.set(limBytes)
			}
		}
		if out != "" {
			data := []byte(out)
			e.recDecoded(data, t, unsupportedCodec("PostHog lz64 compression cannot be re-encoded"), nil)
			e.structured(path+"/"+stepLZ64, data, 1)
		} else {
			e.text(path, text, 0)
		}
		return
	}
	// compression=base64, or none named by a client that base64-encodes anyway.
	data, err := decodeBase64Value(t)
	if err != nil {
		if compression == "base64" {
			e.note("%s: not base64 JSON: %v", path, err)
		}
		e.text(path, text, 0)
		return
	}
	if compression != "base64" && !looksLikeText(data) {
		e.text(path, text, 0) // not base64 after all, only text in its alphabet
		return
	}
	e.recDecoded(data, t, base64Codec{}, nil)
	e.decodedData(path, data)
}
