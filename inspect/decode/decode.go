// Package decode undoes HTTP content codings and character sets on a request body so that
// inspection sees the text a client meant to send, read as the vendor will read it. The proxy
// forwards the original bytes; the decoded copy is only inspected, so decoding is bounded by a
// limit that a compression bomb cannot push past.
//
// Codings joins repeated Content-Encoding lines; Body decodes a body held in memory and
// NewReader one that streams; Text turns a UTF-16, UTF-32 or Latin-1 body into UTF-8. Whatever
// cannot be decoded whole is an error that errors.Is sorts (ErrUnsupported, ErrTooManyCodings,
// ErrCorrupt, ErrTooLarge, ErrCharset, ErrBudget) and Reason names, returned beside as much as
// did decode, so that the caller can treat "inspected only in part" as a decision. BodyWithin and
// NewReaderWithin hold what they decode within a process-wide Budget (see budget.go).
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
	return BodyWithin(contentEncoding, raw, limit, nil)
}

// BodyWithin is Body with what decoding holds leased from a Budget through l (nil: no budget):
// each stage's decoder state while the stage runs, and each stage's output, as it grows, until
// the next stage has read it (the last stage's output stays leased until l is released). When
// the budget has no room within the lease's wait, decoding stops with an error wrapping
// ErrBudget and returns what decoded so far: a bomb waits for its own client's share instead of
// taking everyone's memory.
func BodyWithin(contentEncoding string, raw []byte, limit int64, l *Lease) ([]byte, error) {
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
	var charged int64 // the lease's charge for data, when data is a stage's output
	for i := len(codings) - 1; i >= 0; i-- {
		out, cost, err := decodeOne(codings[i], data, limit, l)
		// This stage has read its input: an earlier stage's output is no longer held.
		l.Shrink(charged)
		data, charged = out, cost
		if err != nil && first == nil {
			// Decoding goes on: the next stage can still turn this prefix into inspectable
			// text. A later stage that fails because this one cut its input short reports
			// nothing new, so the first fault is the one worth reporting.
			first = err
		}
		if errors.Is(err, ErrBudget) {
			break // no more to spend on this body
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

// decodeOne undoes one coding, and returns what the lease holds for its output. Decoders are
// pooled because building one costs more than decoding a typical prompt (zstd allocates its
// tables, flate its 32 KiB window).
func decodeOne(coding string, raw []byte, limit int64, l *Lease) ([]byte, int64, error) {
	room := min(limit+1, max(64<<10, int64(len(raw))*expansion))
	if coding != "br" || l == nil || room > limit {
		return decodeStage(coding, raw, limit, l, room, true)
	}
	// brotli decodes ahead into its window, up to 16 MiB, whatever output is asked of it: a bomb
	// stopped at its room would still have cost a window's worth of decoding. So it is decoded
	// first with the window its room needs; only a body that outgrows the room is decoded again,
	// with the window the limit needs, when the budget has that now.
	first, held, err := decodeStage(coding, raw, room-1, l, room, true)
	if !errors.Is(err, ErrTooLarge) {
		return first, held, err
	}
	state := windowCost(coding, raw, limit)
	if err := l.TryGrow(state + room); err != nil {
		return first, held, stageError(coding, err)
	}
	l.Shrink(state + room) // decodeStage leases them again, now that they are known to fit
	l.Shrink(held)
	return decodeStage(coding, raw, limit, l, room, false)
}

// decodeStage undoes one coding with room leased up front for its output (waiting for it when
// wait is set), and returns what the lease holds for the output.
func decodeStage(coding string, raw []byte, limit int64, l *Lease, room int64, wait bool) ([]byte, int64, error) {
	// The decoder's state is leased before it is built: a bomb's window is allocated before the
	// first output byte, and 64 of them at once were most of the memory a flood took. So is room
	// for what the body may fairly decode to; only this first lease may wait for budget.
	state := windowCost(coding, raw, limit)
	grow := l.TryGrow
	if wait {
		grow = l.Grow
	}
	if err := grow(state + room); err != nil {
		return nil, 0, stageError(coding, err)
	}
	defer l.Shrink(state)
	var (
		out []byte
		err error
	)
	a := &allocator{lease: l, room: room}
	defer a.trim()
	src := bytes.NewReader(raw)
	switch coding {
	case "gzip":
		out, err = decodeGzip(src, len(raw), limit, a)
	case "deflate":
		out, err = decodeDeflate(src, raw, limit, a)
	case "br":
		out, err = decodeBrotli(raw, limit, a)
	case "zstd":
		out, err = decodeZstd(src, len(raw), limit, a)
	default:
		// parse admits only the codings above; reaching here is a bug, not hostile input.
		return raw, 0, fmt.Errorf("decode: %w %q", ErrUnsupported, coding)
	}
	return out, a.held, stageError(coding, err)
}

// stageError classifies what a decoder of one coding returned: nil, over the limit, out of
// budget, or a fault in the stream.
func stageError(coding string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTooLarge):
		return fmt.Errorf("decode %s: %w", coding, ErrTooLarge)
	case errors.Is(err, ErrBudget):
		return fmt.Errorf("decode %s: %w", coding, err)
	}
	return &codingError{coding: coding, err: err}
}

// expansion is how much larger than its coded size a body may decode within the budget leased
// up front: text compresses 4 to 20 times, a bomb thousands.
const expansion = 64

// allocator leases a stage's output buffer as it grows: within room, leased up front, for
// nothing more; past it, only what the budget has at once.
type allocator struct {
	lease *Lease
	room  int64 // leased before decoding
	held  int64 // the output buffer's capacity
}

func (a *allocator) grow(n int64) error {
	if a == nil {
		return nil
	}
	if over := a.held + n - max(a.room, a.held); over > 0 {
		if err := a.lease.TryGrow(over); err != nil {
			return err
		}
	}
	a.held += n
	return nil
}

// trim gives back the room the output did not use; the lease then holds the output's size.
func (a *allocator) trim() {
	if a.room > a.held {
		a.lease.Shrink(a.room - a.held)
		a.room = a.held
	}
}

var gzipPool sync.Pool // *gzip.Reader

func decodeGzip(src io.Reader, rawLen int, limit int64, a *allocator) ([]byte, error) {
	zr, _ := gzipPool.Get().(*gzip.Reader)
	if zr == nil {
		zr = new(gzip.Reader)
	}
	defer gzipPool.Put(zr)
	if err := zr.Reset(src); err != nil {
		return nil, err
	}
	// Concatenated gzip members are one valid body (RFC 1952 2.2); Reset turns multistream on.
	return readAll(zr, rawLen, limit, a)
}

var (
	zlibPool  sync.Pool // io.ReadCloser that is a zlib.Resetter
	flatePool sync.Pool // io.ReadCloser that is a flate.Resetter
)

// decodeDeflate reads the zlib format that RFC 9110 calls "deflate", and raw DEFLATE when the
// zlib header is absent, because some clients (and old IIS) send raw DEFLATE under that name.
func decodeDeflate(src io.Reader, raw []byte, limit int64, a *allocator) ([]byte, error) {
	if !zlibHeader(raw) {
		fr, _ := flatePool.Get().(io.ReadCloser)
		if fr == nil {
			fr = flate.NewReader(src)
		} else if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
			return nil, err
		}
		defer flatePool.Put(fr)
		return readAll(fr, len(raw), limit, a)
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
	return readAll(zr, len(raw), limit, a)
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

func decodeBrotli(raw []byte, limit int64, a *allocator) ([]byte, error) {
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
	return readAll(br, len(raw), limit, a)
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

func decodeZstd(src io.Reader, rawLen int, limit int64, a *allocator) ([]byte, error) {
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
	return readAll(zd, rawLen, limit, a)
}

// readAll reads r to its end, keeping at most limit bytes. Unlike io.ReadAll it never grows the
// buffer past limit+1 bytes, which is what bounds memory under a compression bomb; each growth
// is leased through a first (nil: no budget), and a growth the budget refuses ends the read with
// that error and what was read.
func readAll(r io.Reader, rawLen int, limit int64, a *allocator) ([]byte, error) {
	// limit+1 is how a read past the limit is told apart from a body of exactly limit bytes.
	if limit == math.MaxInt64 {
		limit--
	}
	lr := io.LimitReader(r, limit+1)
	// Text compresses about 4:1; guessing so saves most regrowth for ordinary bodies, and the
	// guess is clamped so a bomb gets the limit at once instead of a series of doublings.
	size := min(max(int64(rawLen)*4, 4<<10), limit+1)
	if err := a.grow(size); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			grown := min(int64(cap(buf))*2, limit+1)
			if err := a.grow(grown - int64(cap(buf))); err != nil {
				return buf, err
			}
			buf = regrow(buf, grown)
		}
		n, err := lr.Read(buf[len(buf):min(cap(buf), len(buf)+readChunk)])
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

// Copies of many MiB are one memmove, which the scheduler cannot preempt (and which takes the
// page faults of fresh memory): growing a bomb's output by append held up garbage collections'
// stop-the-world, and so every other request in the process, for 100-300 ms (measured with
// 64 brotli bombs). So the output grows by a copy in pieces, and a decoder is never handed more
// than readChunk bytes to fill at once.
const readChunk = 256 << 10

// regrow returns buf with capacity n, copied a piece at a time.
func regrow(buf []byte, n int64) []byte {
	out := make([]byte, len(buf), n) // large allocations are zeroed in preemptible pieces
	for i := 0; i < len(buf); i += readChunk {
		copy(out[i:min(len(buf), i+readChunk)], buf[i:])
	}
	return out
}
