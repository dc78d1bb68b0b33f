package quic

import (
	"fmt"
	"math/bits"
)

// DefaultCryptoLimit bounds a CryptoStream whose limit is not set. A
// ClientHello with post-quantum key shares is a few KiB; 64 KiB leaves room
// for large ones without letting a peer make the observer hold much.
const DefaultCryptoLimit = 64 << 10

// CryptoStream reassembles the CRYPTO stream of one direction of one
// connection's Initial packets. Frames may come in any order, split across
// packets and datagrams, duplicated or overlapping — Chrome deliberately
// scrambles its ClientHello into out-of-order CRYPTO frames to keep
// middleboxes from assuming one packet holds it.
//
// The stream never holds more than its limit of data, plus one bit per byte
// to know which bytes have arrived. The zero value is ready to use with
// DefaultCryptoLimit. A CryptoStream is not safe for concurrent use.
type CryptoStream struct {
	limit  int
	buf    []byte   // stream bytes from offset 0; bytes not yet received are 0
	have   []uint64 // bit i set once byte i has arrived
	contig int      // bytes from offset 0 with no gap
}

// NewCryptoStream returns a stream that accepts data up to offset limit; a
// limit of 0 or less means DefaultCryptoLimit.
func NewCryptoStream(limit int) *CryptoStream {
	return &CryptoStream{limit: limit}
}

func (c *CryptoStream) limitOrDefault() int {
	if c.limit <= 0 {
		return DefaultCryptoLimit
	}
	return c.limit
}

// Add places data at offset. Data reaching past the limit is refused whole
// with ErrTooLarge. Bytes already received are kept, never overwritten: a
// server keeps the first copy too (RFC 9000 §2.2), and if the new copy
// differs Add stores the rest and returns ErrInconsistent, which a caller may
// treat as an evasion attempt.
func (c *CryptoStream) Add(offset uint64, data []byte) error {
	limit := uint64(c.limitOrDefault())
	if offset > limit || uint64(len(data)) > limit-offset {
		return fmt.Errorf("quic crypto stream: %d bytes at offset %d, limit %d: %w", len(data), offset, limit, ErrTooLarge)
	}
	if len(data) == 0 {
		return nil
	}
	start, end := int(offset), int(offset)+len(data)
	c.grow(end)
	conflict := false
	for i, b := range data {
		pos := start + i
		word, bit := pos/64, uint64(1)<<(pos%64)
		if c.have[word]&bit != 0 {
			conflict = conflict || c.buf[pos] != b
			continue
		}
		c.buf[pos] = b
		c.have[word] |= bit
	}
	c.advance()
	if conflict {
		return fmt.Errorf("quic crypto stream: %d bytes at offset %d: %w", len(data), offset, ErrInconsistent)
	}
	return nil
}

// grow makes buf and have cover end bytes, doubling capacity so a stream
// built from many small frames is not copied once per frame, but never past
// the limit.
func (c *CryptoStream) grow(end int) {
	if end <= len(c.buf) {
		return
	}
	if end > cap(c.buf) {
		n := max(end, 2*cap(c.buf), 1024)
		n = min(n, c.limitOrDefault())
		nb := make([]byte, len(c.buf), n)
		copy(nb, c.buf)
		c.buf = nb
	}
	c.buf = c.buf[:end]
	if words := (end + 63) / 64; words > len(c.have) {
		if words > cap(c.have) {
			nh := make([]uint64, len(c.have), (cap(c.buf)+63)/64)
			copy(nh, c.have)
			c.have = nh
		}
		c.have = c.have[:words]
	}
}

// advance moves contig over the bytes that have arrived, a word of the
// bitmap at a time.
func (c *CryptoStream) advance() {
	for c.contig < len(c.buf) {
		shift := c.contig % 64
		// Shifting brings in zeros at the top, which ^ turns into ones, so
		// run never counts past the end of the word.
		run := bits.TrailingZeros64(^(c.have[c.contig/64] >> shift))
		c.contig = min(c.contig+run, len(c.buf))
		if run < 64-shift {
			return // a gap inside this word
		}
	}
}

// Contiguous returns the stream's bytes from offset 0 up to the first gap.
// The slice is the stream's own memory: it must not be modified, and it stays
// valid (its bytes never change) after later calls to Add.
func (c *CryptoStream) Contiguous() []byte {
	return c.buf[:c.contig:c.contig]
}
