package extract

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

func queryUnescape(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// multipart reads each part: fields as text at multipart:NAME, files by their content (text-like
// files are scanned, JSONL batch files line by line) or, for binary files, as media plus their
// file name. Part headers beyond the name and file name are emitted at
// multipart:NAME/header:HEADER, and text before the first part or after the last at
// multipart#preamble and multipart#epilogue: a multipart reader skips them, the vendor receives
// them. A body that is not multipart after all is scanned as text.
func (e *emitter) multipart(prefix string, body []byte, boundary string, depth int) {
	if boundary == "" {
		e.note("%s: multipart body without a boundary", orBody(prefix))
		e.text(orBody(prefix), view(body), depth)
		return
	}
	e.multipartFrame(prefix, body, boundary, true, depth)
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	at := 0 // where the next part's search starts, for Redact
	for i := 0; !e.full; i++ {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			if i == 0 {
				e.note("%s: multipart body without parts", orBody(prefix))
				e.text(orBody(prefix), view(body), depth)
			}
			break
		}
		if err != nil {
			// What follows cannot be framed: the whole body is scanned as it stands.
			e.note("%s: multipart: %v", orBody(prefix), err)
			e.text(orBody(prefix), view(body), depth)
			return
		}
		// The body is already in memory, so reading a part costs at most its size.
		data, err := io.ReadAll(part)
		if err != nil {
			e.note("%s: multipart part %d: %v", orBody(prefix), i, err)
		}
		if e.rec != nil {
			at = e.rec.multipartPart(body, at, boundary, data, part.Header, err)
		}
		name := part.FormName()
		e.keys.add(name)
		if name == "" {
			name = "part" + strconv.Itoa(i)
		}
		p := joinPrefix(prefix, "multipart:"+name)
		ctype := part.Header.Get("Content-Type")
		filename := part.FileName()
		if filename == "" {
			e.partHeaders(p, part.Header, filename, depth)
			if ctype == "" || strings.HasPrefix(ctype, "text/plain") {
				e.text(p, view(data), depth)
			} else {
				e.byContentType(p, ctype, data, depth)
			}
			continue
		}
		e.text(p+"/filename", filename, depth)
		e.partHeaders(p, part.Header, filename, depth)
		if ctype == "" || ctype == "application/octet-stream" {
			if t := mime.TypeByExtension(extOf(filename)); t != "" {
				ctype = t
			}
		}
		if strings.HasSuffix(filename, ".jsonl") || strings.HasSuffix(filename, ".ndjson") {
			ctype = "application/jsonl"
		}
		e.byContentType(p, ctype, data, depth)
	}
	e.multipartFrame(prefix, body, boundary, false, depth)
}

// multipartFrame emits the text before the first boundary (preamble) or after the closing one
// (epilogue), if any.
func (e *emitter) multipartFrame(prefix string, body []byte, boundary string, preamble bool, depth int) {
	delim := "--" + boundary
	var rest []byte
	if preamble {
		k := bytes.Index(body, []byte(delim))
		if k < 0 {
			return // no part at all: the body is scanned whole
		}
		rest = body[:k]
	} else {
		k := bytes.LastIndex(body, []byte(delim+"--"))
		if k < 0 {
			return
		}
		rest = body[k+len(delim)+2:]
	}
	if t := bytes.TrimSpace(rest); len(t) > 0 {
		name := "multipart#epilogue"
		if preamble {
			name = "multipart#preamble"
		}
		e.text(joinPrefix(prefix, name), view(t), depth)
	}
}

// partHeaders emits the headers of a multipart part at p/header:NAME, except a
// Content-Disposition that holds nothing but the part's name and the file name already
// emitted (FileName drops any directories, so a filename with a path is emitted whole here).
func (e *emitter) partHeaders(p string, h textproto.MIMEHeader, filename string, depth int) {
	if len(h) == 1 && h["Content-Disposition"] != nil && dispositionCovered(h["Content-Disposition"], filename) {
		return // a text field: the common case, with nothing to sort
	}
	var buf [8]string
	names := buf[:0]
	for k := range h {
		if k != "Content-Disposition" || !dispositionCovered(h[k], filename) {
			names = append(names, k)
		}
	}
	slices.SortFunc(names, compareFold)
	for _, k := range names {
		for _, v := range h[k] {
			e.text(p+"/"+headerPath(k), v, depth)
		}
	}
}

// dispositionCovered reports whether a Content-Disposition holds only a name and the given file
// name, both of which extraction emits.
func dispositionCovered(vs []string, filename string) bool {
	if len(vs) != 1 {
		return false
	}
	_, params, err := mime.ParseMediaType(vs[0])
	if err != nil {
		return false
	}
	for k, v := range params {
		if k != "name" && (k != "filename" || v != filename) {
			return false
		}
	}
	return true
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}
