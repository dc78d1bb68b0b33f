package store

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Bodies are compressed, each on its own, before badger encrypts them (encrypted bytes do
// not compress): a body of compressMin bytes or more is stored compressed when that saves at
// least an eighth of it, and as it is otherwise. Which codec is chosen by measurement (see
// the package documentation); the reader reads every codec of the format.
const (
	codecRaw  byte = 0
	codecZstd byte = 1
	codecS2   byte = 2

	// maxDecoded bounds what a stored body may decompress to (BodyLimit is far below it): a
	// damaged or forged value never makes the decoder allocate more.
	maxDecoded = 64 << 20
)

// bodyCodec is what appendBody writes (the benchmarks compare the codecs by switching it), and
// compressMin the shortest body it compresses.
var (
	bodyCodec   = codecS2
	compressMin = 2048
)

var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithEncoderCRC(false),
			zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true))
		if err != nil {
			panic(err) // only for invalid options
		}
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderMaxMemory(maxDecoded), zstd.WithDecoderLowmem(true))
		if err != nil {
			panic(err)
		}
		return d
	})
	// scratch holds compressed bodies until they are copied into the value.
	scratch = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}
)

// headerSize bounds the bytes e.header writes for h.
func headerSize(h map[string][]string) int {
	n := binary.MaxVarintLen32
	for k, vs := range h {
		n += 2*binary.MaxVarintLen32 + len(k)
		for _, v := range vs {
			n += binary.MaxVarintLen32 + len(v)
		}
	}
	return n
}

// packed is a body as it will be stored: its codec and bytes (compressed into a scratch
// buffer, or the body itself).
type packed struct {
	codec   byte
	b       []byte
	scratch *[]byte
}

// compressBody compresses p with bodyCodec when it is long enough and that saves an eighth.
func compressBody(p []byte) packed {
	if len(p) < compressMin || bodyCodec == codecRaw {
		return packed{codec: codecRaw, b: p}
	}
	bp := scratch.Get().(*[]byte)
	var c []byte
	switch bodyCodec {
	case codecZstd:
		c = zstdEncoder().EncodeAll(p, (*bp)[:0])
	case codecS2:
		if n := s2.MaxEncodedLen(len(p)); n > cap(*bp) {
			*bp = make([]byte, 0, n)
		}
		c = s2.Encode((*bp)[:cap(*bp)], p)
	}
	*bp = c[:0]
	if len(c) > len(p)-len(p)/8 {
		scratch.Put(bp)
		return packed{codec: codecRaw, b: p}
	}
	return packed{codec: bodyCodec, b: c, scratch: bp}
}

func (p packed) size() int { return 1 + binary.MaxVarintLen32 + len(p.b) }

func (p packed) free() {
	if p.scratch != nil && cap(*p.scratch) <= 1<<20 {
		scratch.Put(p.scratch)
	}
}

// body writes a body: its codec byte and its bytes.
func (e *encoder) body(p packed) {
	e.b = append(e.b, p.codec)
	e.bytes(p.b)
}

// compressed reads a body compressed wrote; the result is never badger's memory.
func (d *decoder) compressed() []byte {
	if len(d.b) == 0 {
		d.fail()
		return nil
	}
	codec := d.b[0]
	d.b = d.b[1:]
	p := d.raw()
	if d.err != nil {
		return nil
	}
	switch codec {
	case codecRaw:
		return clone(p)
	case codecZstd:
		var h zstd.Header
		if err := h.Decode(p); err != nil || !h.HasFCS || h.FrameContentSize > maxDecoded {
			d.failf("zstd body without a valid size")
			return nil
		}
		out, err := zstdDecoder().DecodeAll(p, make([]byte, 0, h.FrameContentSize))
		if err != nil || uint64(len(out)) != h.FrameContentSize {
			d.failf("zstd body does not decode")
			return nil
		}
		return nilIfEmpty(out)
	case codecS2:
		n, err := s2.DecodedLen(p)
		if err != nil || n > maxDecoded {
			d.failf("s2 body without a valid size")
			return nil
		}
		out, err := s2.Decode(make([]byte, n), p)
		if err != nil {
			d.failf("s2 body does not decode")
			return nil
		}
		return nilIfEmpty(out)
	}
	d.failf(fmt.Sprintf("body codec %d", codec))
	return nil
}

func (d *decoder) failf(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errCorrupt, what)
	}
	d.b = nil
}

func nilIfEmpty(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return p
}
