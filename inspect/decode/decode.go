// Package decode undoes HTTP content codings and character sets on a request body so that
// inspection sees the text a client meant to send, read as the vendor will read it. The proxy
// forwards the original bytes; the decoded copy is only inspected, so decoding is bounded by a
// limit that a compression bomb cannot push past.
//
// Codings joins repeated Content-Encoding lines; Body decodes a body held in memory and
// NewReader one that streams; Text turns a UTF-16, UTF-32 or Latin-1 body into UTF-8. Whatever
// cannot be decoded whole is an error that errors.Is sorts (ErrUnsupported, ErrTooManyCodings,
// ErrCorrupt, ErrTooLarge, ErrCharset) and Reason names, returned beside as much as did decode,
// so that the caller can treat "inspected only in part" as a decision.
package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// maxCodings bounds how many stacked codings one body may declare. Each stage may expand to the
// limit, so an unbounded list would turn one request into an unbounded amount of work.
const maxCodings = 4

// zstdMaxWindow is the largest zstd window accepted: RFC 9659 limits the window of the zstd
// content coding to 8 MB, and the window is what a hostile stream can make the decoder allocate.
const zstdMaxWindow = 8 << 20

// Body decodes raw per the Content-Encoding header value contentEncoding: a comma-separated list
// of codings in the order they were applied, so decoding runs from the last to the first. Names
// are case-insensitive; "identity" and empty entries are no-ops; "x-gzip" is gzip. A request may
// carry the header on several lines; join them with Codings first.
//
// The decoded body is never longer than limit, and decoding allocates on the order of limit bytes
// however far the body would expand: the output buffer stops at limit+1 bytes, zstd windows are
// capped at 8 MiB, and brotli's window is shrunk to what the limit needs. Every way Body can fall
// short of the whole body is told by errors.Is (and named by Reason):
//   - ErrUnsupported: an unknown coding; raw is returned unchanged.
//   - ErrTooManyCodings (also ErrUnsupported): more than 4 stacked codings; raw is returned.
//   - ErrCorrupt: a truncated or corrupt stream, wrapping the decoder's error and naming the
//     coding; what decoded before the fault is returned.
//   - ErrTooLarge: the body (or an inner stage of a stack) would be longer than limit; the first
//     limit bytes are returned.
//
// In a stack, a stage that fails passes what it did decode on to the next, so the result is as
// much of the text as there is, and the error is the fault nearest the wire: the one that caused
// the others.
func Body(contentEncoding string, raw []byte, limit int64) ([]byte, error) {
	if limit < 0 {
		return nil, fmt.Errorf("decode: negative limit %d", limit)
	}
	codings, err := parse(contentEncoding)
	if err != nil {
		return raw, err
	}
	if len(codings) == 0 {
		if int64(len(raw)) > limit {
			return raw[:limit], fmt.Errorf("decode identity: %w", ErrTooLarge)
		}
		return raw, nil
	}
	if len(raw) == 0 {
		// A bodiless request (a GET, say) that still carries the header has nothing to inspect,
		// and calling it corrupt would only mark harmless flows with a decode error.
		return raw, nil
	}

	data := raw
	var first error
	for i := len(codings) - 1; i >= 0; i-- {
		out, err := decodeOne(codings[i], data, limit)
		data = out
		if err != nil && first == nil {
			// Decoding goes on: the next stage can still turn this prefix into inspectable
			// text. A later stage that fails because this one cut its input short reports
			// nothing new, so the first fault is the one worth reporting.
			first = err
		}
	}
	return data, first
}

// Codings joins the values of every Content-Encoding header line of a message into one list, the
// way RFC 9110 5.3 says recipients must read repeated lines (http.Header.Values gives them).
// Reading only the first line would let a client send "gzip" twice and have the inspected copy
// decoded once while the vendor decodes twice.
//
// The result is canonical: lower-case names joined by ", ", empty elements and "identity"
// dropped, "x-gzip" read as "gzip". Unknown names are kept, so that Body reports them; the error
// is the one Body would return for the list (ErrUnsupported or ErrTooManyCodings), so the caller
// can decide before it holds the body.
func Codings(values []string) (string, error) {
	var names []string
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			switch name {
			case "", "identity":
				continue
			case "x-gzip":
				name = "gzip"
			}
			names = append(names, name)
		}
	}
	joined := strings.Join(names, ", ")
	_, err := parse(joined)
	return joined, err
}

// parse splits a Content-Encoding value into canonical coding names, dropping no-ops.
func parse(contentEncoding string) ([]string, error) {
	var codings []string
	for name := range strings.SplitSeq(contentEncoding, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "", "identity":
			continue
		case "x-gzip":
			name = "gzip"
		case "gzip", "deflate", "br", "zstd":
		default:
			return nil, fmt.Errorf("decode: %w %q", ErrUnsupported, clip(name))
		}
		codings = append(codings, name)
	}
	if len(codings) > maxCodings {
		return nil, fmt.Errorf("decode: %w: %d, at most %d", ErrTooManyCodings, len(codings), maxCodings)
	}
	return codings, nil
}

// clip shortens a name taken from a request before it goes into an error: the error ends up in
// notes and logs, and the client chose the name.
func clip(name string) string {
	const most = 40
	if len(name) <= most {
		return name
	}
	return name[:most] + "..."
}

// decodeOne undoes one coding. Decoders are pooled because building one costs more than decoding
// a typical prompt (zstd allocates its tables, flate its 32 KiB window).
func decodeOne(coding string, raw []byte, limit int64) ([]byte, error) {
	var (
		out []byte
		err error
	)
	src := bytes.NewReader(raw)
	switch coding {
	case "gzip":
		out, err = decodeGzip(src, len(raw), limit)
	case "deflate":
		out, err = decodeDeflate(src, raw, limit)
	case "br":
		out, err = decodeBrotli(raw, limit)
	case "zstd":
		out, err = decodeZstd(src, len(raw), limit)
	default:
		// parse admits only the codings above; reaching here is a bug, not hostile input.
		return raw, fmt.Errorf("decode: %w %q", ErrUnsupported, coding)
	}
	return out, stageError(coding, err)
}

// stageError classifies what a decoder of one coding returned: nil, over the limit, or a fault
// in the stream.
func stageError(coding string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTooLarge):
		return fmt.Errorf("decode %s: %w", coding, ErrTooLarge)
	}
	return &codingError{coding: coding, err: err}
}

var gzipPool sync.Pool // *gzip.Reader

func decodeGzip(src io.Reader, rawLen int, limit int64) ([]byte, error) {
	zr, _ := gzipPool.Get().(*gzip.Reader)
	if zr == nil {
		zr = new(gzip.Reader)
	}
	defer gzipPool.Put(zr)
	if err := zr.Reset(src); err != nil {
		return nil, err
	}
	// Concatenated gzip members are one valid body (RFC 1952 2.2); Reset turns multistream on.
	return readAll(zr, rawLen, limit)
}

var (
	zlibPool  sync.Pool // io.ReadCloser that is a zlib.Resetter
	flatePool sync.Pool // io.ReadCloser that is a flate.Resetter
)

// decodeDeflate reads the zlib format that RFC 9110 calls "deflate", and raw DEFLATE when the
// zlib header is absent, because some clients (and old IIS) send raw DEFLATE under that name.
func decodeDeflate(src io.Reader, raw []byte, limit int64) ([]byte, error) {
	if !zlibHeader(raw) {
		fr, _ := flatePool.Get().(io.ReadCloser)
		if fr == nil {
			fr = flate.NewReader(src)
		} else if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
			return nil, err
		}
		defer flatePool.Put(fr)
		return readAll(fr, len(raw), limit)
	}
	zr, _ := zlibPool.Get().(io.ReadCloser)
	if zr == nil {
		var err error
		if zr, err = zlib.NewReader(src); err != nil {
			return nil, err
		}
	} else if err := zr.(zlib.Resetter).Reset(src, nil); err != nil {
		zlibPool.Put(zr)
		return nil, err
	}
	defer zlibPool.Put(zr)
	return readAll(zr, len(raw), limit)
}

// zlibHeader reports whether raw starts with a zlib header (RFC 1950 2.2): method 8 (deflate), a
// window of at most 32 KiB, and a check value that makes the first two bytes a multiple of 31.
// Raw DEFLATE cannot pass for it: its first byte would have to be a stored block with non-zero
// padding bits, which no encoder writes.
func zlibHeader(raw []byte) bool {
	if len(raw) < 2 {
		return false
	}
	cmf, flg := raw[0], raw[1]
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

var brotliPool sync.Pool // *brotli.Reader

func decodeBrotli(raw []byte, limit int64) ([]byte, error) {
	src := io.Reader(bytes.NewReader(raw))
	if first, ok := clampBrotliWindow(raw, limit); ok {
		src = io.MultiReader(bytes.NewReader([]byte{first}), bytes.NewReader(raw[1:]))
	}
	br, _ := brotliPool.Get().(*brotli.Reader)
	if br == nil {
		br = brotli.NewReader(src)
	} else if err := br.Reset(src); err != nil {
		return nil, err
	}
	defer brotliPool.Put(br)
	return readAll(br, len(raw), limit)
}

// clampBrotliWindow returns a replacement first byte for a brotli stream that declares a window
// larger than decoding limit bytes needs, and whether one is needed.
//
// The brotli decoder allocates a ring buffer the size of the declared window (up to 16 MiB, and
// about twice that while it grows), whatever the limit, so a bomb would cost 32 MiB where the limit
// is 1 MiB. A smaller window decodes the same bytes as long as the output is shorter than the
// window less 16: RFC 7932 bounds back-references by the lesser of that and the output so far,
// and reads a longer distance as a static-dictionary word, so until then both windows read every
// distance alike. The limit stops reading before that point. Past that point a
// stream that really used the larger window may decode wrongly or fail; it was over the limit
// anyway.
func clampBrotliWindow(raw []byte, limit int64) (byte, bool) {
	// WBITS 18..24 are coded in the low four bits of the first byte: a 1, then WBITS-17 in three
	// bits (RFC 7932 9.1). Smaller windows use other codes and need no clamping.
	if len(raw) < 2 || raw[0]&1 == 0 || raw[0]>>1&7 == 0 {
		return 0, false
	}
	wbits := 17 + int(raw[0]>>1&7)
	want := 18
	for want < wbits && int64(1)<<want-16 <= limit {
		want++
	}
	if want >= wbits {
		return 0, false
	}
	return raw[0]&^0x0f | 1 | byte(want-17)<<1, true
}

var zstdPool sync.Pool // *zstd.Decoder

func decodeZstd(src io.Reader, rawLen int, limit int64) ([]byte, error) {
	zd, err := zstdDecoder()
	if err != nil {
		return nil, err
	}
	if err := zd.Reset(src); err != nil {
		zd.Close()
		return nil, err
	}
	defer func() {
		// Drop the reference to this body so the pool does not keep it alive.
		_ = zd.Reset(nil)
		zstdPool.Put(zd)
	}()
	return readAll(zd, rawLen, limit)
}

// readAll reads r to its end, keeping at most limit bytes. Unlike io.ReadAll it never grows the
// buffer past limit+1 bytes, which is what bounds memory under a compression bomb.
func readAll(r io.Reader, rawLen int, limit int64) ([]byte, error) {
	// limit+1 is how a read past the limit is told apart from a body of exactly limit bytes.
	if limit == math.MaxInt64 {
		limit--
	}
	lr := io.LimitReader(r, limit+1)
	// Text compresses about 4:1; guessing so saves most regrowth for ordinary bodies, and the
	// guess is clamped so a bomb gets the limit at once instead of a series of doublings.
	size := min(max(int64(rawLen)*4, 4<<10), limit+1)
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			grown := min(int64(cap(buf))*2, limit+1)
			buf = append(buf, make([]byte, grown-int64(len(buf)))...)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf[:limit], ErrTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
