package tlshello

import "fmt"

// reader walks the body of one handshake message. A read past the end records the first failure
// in *err and returns zero values, so the parsers check once per structure instead of after every
// field; the error names the field and its offset in the message, and only a failure allocates.
type reader struct {
	b   []byte
	off int  // offset of b[0] in the handshake message
	who part // the prefix of errors
	err *error
}

// part names what a reader walks, for errors. It is a number and not a string so that no pointer
// inside a reader reaches fmt: escape analysis would then move every caller's error variable
// to the heap, one allocation per parse.
type part uint8

const (
	partClientHello part = iota
	partServerHello
	partCertificate
)

func (p part) String() string {
	return [...]string{"client hello", "server hello", "certificate"}[p]
}

func newReader(who part, msg []byte, err *error) reader {
	// The 4-byte handshake header is the caller's; offsets still count it so that they point into
	// the message as a hex dump of it shows.
	return reader{b: msg[4:], off: 4, who: who, err: err}
}

func (r *reader) failed() bool { return *r.err != nil }

// short records that field needs n bytes where fewer are left, and stops the reader.
func (r *reader) short(field string, n int) {
	if *r.err == nil {
		*r.err = fmt.Errorf("%s: %s at offset %d: needs %d bytes, %d left: %w", r.who, field, r.off, n, len(r.b), ErrMalformed)
	}
	r.b = nil
}

// invalid records a content error at the reader's current offset.
func (r *reader) invalid(field, format string, args ...any) {
	if *r.err == nil {
		*r.err = fmt.Errorf("%s: %s at offset %d: %s: %w", r.who, field, r.off, fmt.Sprintf(format, args...), ErrMalformed)
	}
	r.b = nil
}

func (r *reader) take(field string, n int) []byte {
	if n > len(r.b) {
		r.short(field, n)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	r.off += n
	return v
}

func (r *reader) u8(field string) int {
	v := r.take(field, 1)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (r *reader) u16(field string) int {
	v := r.take(field, 2)
	if v == nil {
		return 0
	}
	return int(v[0])<<8 | int(v[1])
}

// vec reads a vector with a lenBytes-byte length prefix and returns a reader over its contents.
func (r *reader) vec(field string, lenBytes int) reader {
	n := 0
	for range lenBytes {
		n = n<<8 | r.u8(field)
	}
	start := r.off
	return reader{b: r.take(field, n), off: start, who: r.who, err: r.err}
}

// end records trailing bytes after a structure that should have filled its container: lengths
// that disagree are how a crafted hello makes two parsers see two different messages.
func (r *reader) end(field string) {
	if len(r.b) != 0 {
		r.invalid(field, "%d bytes after its end", len(r.b))
	}
}

// u16list reads a vector of 16-bit values (cipher suites, groups, signature schemes, versions)
// and checks it holds whole values.
func (r *reader) u16list(field string, lenBytes int) reader {
	l := r.vec(field, lenBytes)
	if len(l.b)%2 != 0 {
		l.invalid(field, "odd length %d", len(l.b))
	}
	return l
}

// u16s appends the big-endian 16-bit values of b to dst.
func u16s(dst []uint16, b []byte) []uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return dst
}
