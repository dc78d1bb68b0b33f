package extract

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
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
// file name.
func (e *emitter) multipart(prefix string, body []byte, boundary string, depth int) {
	if boundary == "" {
		e.note("%s: multipart body without a boundary", orBody(prefix))
		e.text(orBody(prefix), view(body), depth)
		return
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	at := 0 // where the next part's search starts, for Redact
	for i := 0; !e.full; i++ {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			e.note("%s: multipart: %v", orBody(prefix), err)
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
		if name == "" {
			name = "part" + strconv.Itoa(i)
		}
		p := joinPrefix(prefix, "multipart:"+name)
		ctype := part.Header.Get("Content-Type")
		filename := part.FileName()
		if filename == "" {
			if ctype == "" || strings.HasPrefix(ctype, "text/plain") {
				e.text(p, view(data), depth)
			} else {
				e.byContentType(p, ctype, data, depth)
			}
			continue
		}
		e.text(p+"/filename", filename, e.lim.MaxNested)
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
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}
