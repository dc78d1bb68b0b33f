package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// errClosed is returned by a Read after Close: the decoders have gone back to their pools.
var errClosed = errors.New("decode: read after Close")

// NewReader decodes a body that is too large to hold, as a stream: the same codings, the same
// limits and the same results as Body, with memory bounded independently of the body's size.
//
// contentEncoding is read as Body reads it; an unknown coding or too long a stack is refused here
// (ErrUnsupported, ErrTooManyCodings), before anything is read from r. Decoding starts at the
// first Read. The reader yields at most maxDecoded bytes; if the body is longer it then returns
// an error wrapping ErrTooLarge, so a compression bomb costs no more than maxDecoded bytes of
// output per stage of decoding work. A corrupt or truncated stream ends with an error wrapping
// ErrCorrupt after what decoded before the fault. A read error from r ends the stream with that
// error wrapped. Reason names each of these. With no coding (or only "identity") the reader is r
// with the limit applied.
//
// Each stage keeps a bounded window and buffer: 32 KiB plus buffers for gzip and deflate, at
// most 8 MiB for zstd (RFC 9659's cap, enforced), and for brotli at most 16 MiB, the largest
// window RFC 7932 allows (shrunk, as Body does, when maxDecoded needs less). A stack holds one of
// each of its at most 4 stages.
//
// Close returns the decoders to their pools; it does not close r. The reader is not safe for
// concurrent use.
func NewReader(contentEncoding string, r io.Reader, maxDecoded int64) (io.ReadCloser, error) {
	return NewReaderWithin(contentEncoding, r, maxDecoded, nil)
}

// NewReaderWithin is NewReader with its decoders' state leased from a Budget through l (nil: no
// budget) before anything is read, and given back by Close. The output is not leased: it goes
// out as it is read, a buffer at a time. When the budget has no room within the lease's wait,
// it returns an error wrapping ErrBudget. Only the decoders' state is leased here: with the
// limit of a stream, brotli's window is not clamped (up to 16 MiB, twice that while it grows).
func NewReaderWithin(contentEncoding string, r io.Reader, maxDecoded int64, l *Lease) (io.ReadCloser, error) {
	if maxDecoded < 0 {
		return nil, fmt.Errorf("decode: negative limit %d", maxDecoded)
	}
	codings, err := parse(contentEncoding)
	if err != nil {
		return nil, err
	}
	var cost int64
	for _, c := range codings {
		cost += windowCost(c, nil, maxDecoded)
	}
	if err := l.Grow(cost); err != nil {
		return nil, fmt.Errorf("decode %s: %w", strings.Join(codings, ", "), err)
	}
	// One slot for the wire and one per stage; the identity reader's limiter counts as a stage.
	s := &stream{faults: make([]error, max(len(codings), 1)+1), lease: l, leased: cost}
	s.src = &source{r: r, s: s}
	if len(codings) == 0 {
		s.out = &limiter{r: s.src, left: maxDecoded, s: s, idx: 0, coding: "identity", last: true}
		return s, nil
	}
	var in io.Reader = s.src
	for i := len(codings) - 1; i >= 0; i-- {
		idx := len(s.stages)
		st := &stage{s: s, idx: idx, coding: codings[i], src: in, limit: maxDecoded}
		l := &limiter{r: st, left: maxDecoded, s: s, idx: idx, coding: st.coding, last: i == 0}
		s.stages = append(s.stages, st)
		s.limits = append(s.limits, l)
		in = l
	}
	s.out = in
	return s, nil
}

// stream is the reader NewReader returns. Its stages are chained readers, each pulling from the
// one nearer the wire. To give the answer Body gives, a stage whose input fails or overflows sees
// a plain end of input, as Body's next stage sees a shorter buffer, and the fault is recorded
// here; the error the caller gets is the recorded fault nearest the wire.
type stream struct {
	src    *source
	stages []*stage   // index 0 undoes the coding applied last, nearest the wire
	limits []*limiter // limits[i] bounds what stages[i] yields
	out    io.Reader
	faults []error // faults[0] is the wire's, faults[i+1] that of stage i
	err    error   // sticky: what Read returned last, once it was not nil
	lease  *Lease  // the decoders' state is leased from it until Close
	leased int64
}

// fault records err against stage idx (-1 for the wire) unless that stage already has one.
func (s *stream) fault(idx int, err error) {
	if s.faults[idx+1] == nil {
		s.faults[idx+1] = err
	}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.out.Read(p)
	if err != nil {
		s.err = s.finish(err)
		err = s.err
	}
	return n, err
}

// finish works out the error that ends the stream.
func (s *stream) finish(err error) error {
	// A stage between the wire and the last one may hold output the last one never asked for:
	// Body decodes every stage to its end and would see a fault or an overflow there, so read it
	// out (at most the limit per stage) and let the limiters and stages record what they find.
	for i := len(s.limits) - 2; i >= 0; i-- {
		_, _ = io.Copy(io.Discard, s.limits[i])
	}
	if len(s.stages) > 0 && s.src.eof && s.src.n == 0 {
		// Bodiless, as Body sees it: nothing to decode is not a corrupt stream.
		return io.EOF
	}
	for _, f := range s.faults {
		if f != nil {
			return f
		}
	}
	return err
}

func (s *stream) Close() error {
	for _, st := range s.stages {
		st.release()
	}
	s.lease.Shrink(s.leased)
	s.leased = 0
	s.err = errClosed
	return nil
}

// source reads the body from the wire, counting it and recording its read errors.
type source struct {
	r   io.Reader
	s   *stream
	n   int64
	eof bool
}

func (w *source) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.n += int64(n)
	switch {
	case err == io.EOF:
		w.eof = true
	case err != nil:
		w.s.fault(-1, fmt.Errorf("decode: read body: %w", err))
		// The first stage sees its input end here; the recorded error is what the caller gets.
		err = io.EOF
	}
	return n, err
}

// limiter passes on at most left bytes of what a stage yields. When the stage has more, it
// records ErrTooLarge against the stage and ends: with ErrTooLarge for the last stage, and as a
// plain end of input for an inner one, whose next stage then decodes the prefix it got (as in
// Body). It likewise turns a fault of an inner stage into a plain end of input.
type limiter struct {
	r      io.Reader
	left   int64
	s      *stream
	idx    int
	coding string
	last   bool
	end    error // sticky once the limit is reached
}

func (l *limiter) Read(p []byte) (int, error) {
	if l.end != nil {
		return 0, l.end
	}
	if l.left == 0 {
		return 0, l.overflow()
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err != nil && err != io.EOF && !l.last {
		// The stage recorded its fault; the next stage gets the prefix and an end.
		err = io.EOF
	}
	return n, err
}

// overflow finds out whether the stage has anything past the limit.
func (l *limiter) overflow() error {
	// Body reads one byte past the limit to tell a body of exactly limit bytes from a longer
	// one; so does this. Any error here is the stage's, already recorded (or EOF).
	var probe [1]byte
	n, err := io.ReadAtLeast(l.r, probe[:], 1)
	if n == 0 {
		if err != io.EOF && !l.last {
			err = io.EOF
		}
		return err
	}
	// The byte past the limit may come with the stage's own error (a decoder returns what it
	// has and the fault together), which the stage has recorded; as in Body, the overflow is
	// what is reported.
	tooLarge := fmt.Errorf("decode %s: %w", l.coding, ErrTooLarge)
	l.s.faults[l.idx+1] = tooLarge
	l.end = io.EOF
	if l.last {
		l.end = tooLarge
	}
	return l.end
}

// stage undoes one coding of the stream. Its decoder is made at the first Read, because the gzip
// and zlib readers read their header when made, and NewReader reads nothing.
type stage struct {
	s      *stream
	idx    int
	coding string
	src    io.Reader
	limit  int64
	dec    io.Reader
	put    func() // returns dec to its pool
	end    error  // sticky: io.EOF, the recorded fault, or errClosed
}

func (st *stage) Read(p []byte) (int, error) {
	if st.end != nil {
		return 0, st.end
	}
	if st.dec == nil {
		if err := st.open(); err != nil {
			return 0, st.fail(err)
		}
	}
	n, err := st.dec.Read(p)
	switch {
	case err == io.EOF:
		st.end = io.EOF
	case err != nil:
		err = st.fail(err)
	}
	return n, err
}

func (st *stage) fail(err error) error {
	st.end = stageError(st.coding, err)
	st.s.fault(st.idx, st.end)
	return st.end
}

func (st *stage) release() {
	if st.put != nil {
		st.put()
		st.put = nil
	}
	st.dec = nil
	st.end = errClosed
}

// open makes the decoder, from the pools Body uses.
func (st *stage) open() error {
	switch st.coding {
	case "gzip":
		zr, _ := gzipPool.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		st.put = func() { gzipPool.Put(zr) }
		if err := zr.Reset(st.src); err != nil {
			return err
		}
		st.dec = zr
	case "deflate":
		// Body tells zlib from raw DEFLATE by the first two bytes; so does this.
		head, src, err := peek(st.src, 2)
		if err != nil {
			return err
		}
		if !zlibHeader(head) {
			fr, _ := flatePool.Get().(io.ReadCloser)
			if fr == nil {
				fr = flate.NewReader(src)
			} else if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
				return err
			}
			st.put = func() { flatePool.Put(fr) }
			st.dec = fr
			return nil
		}
		zr, _ := zlibPool.Get().(io.ReadCloser)
		if zr == nil {
			if zr, err = zlib.NewReader(src); err != nil {
				return err
			}
		} else if err := zr.(zlib.Resetter).Reset(src, nil); err != nil {
			zlibPool.Put(zr)
			return err
		}
		st.put = func() { zlibPool.Put(zr) }
		st.dec = zr
	case "br":
		head, src, err := peek(st.src, 2)
		if err != nil {
			return err
		}
		if first, ok := clampBrotliWindow(head, st.limit); ok {
			head[0] = first // src replays head, so the decoder reads the clamped byte
		}
		br, _ := brotliPool.Get().(*brotli.Reader)
		if br == nil {
			br = brotli.NewReader(src)
		} else if err := br.Reset(src); err != nil {
			return err
		}
		st.put = func() { brotliPool.Put(br) }
		st.dec = br
	case "zstd":
		zd, err := zstdDecoder()
		if err != nil {
			return err
		}
		if err := zd.Reset(st.src); err != nil {
			zd.Close()
			return err
		}
		st.put = func() {
			_ = zd.Reset(nil)
			zstdPool.Put(zd)
		}
		st.dec = zd
	default:
		// parse admits only the codings above; reaching here is a bug, not hostile input.
		return fmt.Errorf("decode: %w %q", ErrUnsupported, st.coding)
	}
	return nil
}

// peek reads up to n bytes from r and returns them and a reader that yields them again, then the
// rest of r. Fewer than n bytes is not an error: the decoder will say what is wrong with so short
// a stream.
func peek(r io.Reader, n int) ([]byte, io.Reader, error) {
	head := make([]byte, n)
	k, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, nil, err
	}
	head = head[:k]
	return head, io.MultiReader(bytes.NewReader(head), r), nil
}

// zstdDecoder takes a decoder from the pool or makes one with the limits Body uses.
func zstdDecoder() (*zstd.Decoder, error) {
	if zd, _ := zstdPool.Get().(*zstd.Decoder); zd != nil {
		return zd, nil
	}
	return zstd.NewReader(nil,
		// One goroutine per request is enough and keeps decoding synchronous, with no
		// goroutine left running when the caller stops reading at the limit.
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(zstdMaxWindow),
		zstd.WithDecoderMaxMemory(zstdMaxWindow),
	)
}
