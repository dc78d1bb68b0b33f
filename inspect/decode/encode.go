package decode

import (
	"bytes"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Encode applies the codings of contentEncoding to body, in the order listed: the inverse of Body.
// A redacted request is re-encoded this way so that it goes upstream in the coding its
// Content-Encoding header still declares. raw is the body as the client sent it: "deflate" is
// written in the framing the client used (zlib, or raw DEFLATE without the zlib header), so the
// upstream sees the same kind of stream it would have.
func Encode(contentEncoding string, body, raw []byte) ([]byte, error) {
	codings, err := parse(contentEncoding)
	if err != nil {
		return nil, err
	}
	data := body
	for _, c := range codings {
		var buf bytes.Buffer
		var w io.WriteCloser
		switch c {
		case "gzip":
			w = gzip.NewWriter(&buf)
		case "deflate":
			if len(codings) == 1 && !zlibHeader(raw) {
				w, err = flate.NewWriter(&buf, flate.DefaultCompression)
			} else {
				w = zlib.NewWriter(&buf)
			}
		case "br":
			w = brotli.NewWriter(&buf)
		case "zstd":
			w, err = zstd.NewWriter(&buf, zstd.WithWindowSize(1<<20))
		}
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
		if _, err := w.Write(data); err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
		data = buf.Bytes()
	}
	return data, nil
}
