package extract

import (
	"bytes"
	"net/http"
)

// mixpanelBody reads a Mixpanel ingestion body. The browser SDK posts a form whose `data` field
// is base64 JSON (an event or an array of them), or plain JSON with api_payload_format "json";
// server SDKs post JSON or NDJSON; /import bodies may be gzip without a Content-Encoding header.
// The query string (GET /track?data=...) was read before the body, by the generic form reader,
// whose base64 decoding gives query:data/base64/... the same way.
func mixpanelBody(r *Request, e *emitter) {
	body := r.Body
	if isGzip(body) {
		data, err := gunzip(body, e.budget())
		if err != nil {
			e.note("body: %v", err)
			if len(data) == 0 {
				e.byContentType("", r.ContentType, body, 0)
				return
			}
		}
		e.recDecoded(data, body, gzipCodec{}, err)
		e.structured("body/"+stepGunzip, data, 1)
		return
	}
	if isForm(r.ContentType, body) {
		e.formFields("form:", view(body), func(path, key, val string) bool {
			if key != "data" {
				return false
			}
			e.mixpanelData(path, val)
			return true
		})
		return
	}
	e.jsonOrNDJSON("", r.ContentType, body, 0)
}

// mixpanelData reads the raw (percent-encoded) value of a `data` field: JSON as it stands, else
// base64 of JSON (or of gzip). The decoded events stand for the base64 string, which is not
// scanned itself: it holds nothing the events do not, and its entropy would only mislead
// detectors.
func (e *emitter) mixpanelData(path, raw string) {
	t, done := e.formDataValue(path, raw)
	if done {
		return
	}
	data, err := decodeBase64Value(t)
	if err != nil {
		e.note("%s: not base64 JSON: %v", path, err)
		e.text(path, view(t), 0)
		return
	}
	e.recDecoded(data, t, base64Codec{}, nil)
	e.decodedData(path, data)
}

// decodedData reads what a base64 data field held: JSON events (walked without a text check:
// the walker rejects binary on its own), gzip of them, text, or binary.
func (e *emitter) decodedData(path string, data []byte) {
	p := path + "/" + stepBase64
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		e.structured(p, t, 1)
		return
	}
	if isGzip(data) {
		out, err := gunzip(data, e.budget())
		if err != nil {
			e.note("%s: %v", p, err)
		}
		e.recDecoded(out, data, gzipCodec{}, err)
		e.structured(p+"/"+stepGunzip, out, 2)
		return
	}
	if !looksLikeText(data) {
		e.note("%s: base64 of binary data, not of JSON", path)
		e.media(path, http.DetectContentType(data), len(data))
		return
	}
	e.structured(p, data, 1)
}

// formDataValue decodes the percent-encoding of an analytics form's data field and walks it when
// it is plain JSON (here rather than by the emitter's nested-JSON check, so that the API's skip
// list applies inside it). It returns the decoded bytes and whether nothing is left to do.
func (e *emitter) formDataValue(path, raw string) ([]byte, bool) {
	b, err := unescapeForm(raw)
	if err != nil {
		e.note("%s: %v", path, err)
		b = []byte(raw)
	}
	if e.rec != nil {
		e.rec.formValue(view(b), raw, err != nil)
	}
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil, true
	}
	if t[0] == '{' || t[0] == '[' {
		e.json(path+"/json", t, 1)
		return nil, true
	}
	return t, false
}
