package edm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"time"
)

// A table file is
//
//	magic (8) | version u32 | header length u32 | header | header CRC u32 | body | body CRC u32
//
// little-endian; the CRCs are CRC-32C. The header holds the key check value, so a wrong key is
// reported before the body is read. The body is each partition's directory and entries, then
// the word filter, raw.
// The magic's high byte and CR LF catch files mangled by text-mode transfers, as PNG's does.
const (
	magic        = "\x89EDM\r\n\x1a\n"
	version      = 1
	maxHeaderLen = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors ReadTable wraps, so callers can tell a foreign or damaged file from a wrong key.
var (
	ErrNotTable = errors.New("edm: not a table file (bad magic)")
	ErrVersion  = errors.New("edm: unsupported table file version")
	ErrChecksum = errors.New("edm: table file checksum mismatch (damaged or truncated)")
	ErrCorrupt  = errors.New("edm: table file is inconsistent")
)

type countWriter struct {
	w   io.Writer
	n   int64
	crc hash.Hash32
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.crc.Write(p[:n])
	return n, err
}

func (t *Table) header() []byte {
	h := append([]byte(nil), t.kcv[:]...)
	str := func(s string) {
		h = binary.AppendUvarint(h, uint64(len(s)))
		h = append(h, s...)
	}
	str(t.label)
	h = binary.AppendUvarint(h, uint64(len(t.cols)))
	for _, c := range t.cols {
		str(c.Name)
		str(string(c.Type))
	}
	h = binary.AppendUvarint(h, uint64(t.rows))
	h = binary.AppendVarint(h, t.built.UnixNano())
	h = binary.AppendVarint(h, int64(t.minCols))
	h = binary.AppendVarint(h, int64(t.minRows))
	h = binary.AppendVarint(h, int64(t.maxRows))
	h = append(h, t.bbits)
	for _, p := range t.parts {
		h = binary.AppendUvarint(h, uint64(len(p.ent)))
	}
	h = binary.AppendUvarint(h, uint64(len(t.filter)))
	for _, v := range []uint16{t.kinds, t.nameLens, t.textLens, t.phoneLens} {
		h = binary.LittleEndian.AppendUint16(h, v)
	}
	var fl byte
	if t.idAlpha {
		fl |= 1
	}
	if t.ibanLoose {
		fl |= 2
	}
	return append(h, fl, t.idMin, t.numMin)
}

// WriteTo writes the table in its versioned binary format. The file holds hashes, row numbers,
// column names and the key check value, never a cell value or the key.
func (t *Table) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := &countWriter{w: bw, crc: crc32.New(castagnoli)}
	hdr := t.header()
	pre := append([]byte(magic), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(pre[8:], version)
	binary.LittleEndian.PutUint32(pre[12:], uint32(len(hdr)))
	cw.Write(pre)
	cw.Write(hdr)
	cw.Write(binary.LittleEndian.AppendUint32(nil, cw.crc.Sum32()))
	cw.crc.Reset()
	buf := make([]byte, 0, 1<<16)
	flush := func() {
		cw.Write(buf)
		buf = buf[:0]
	}
	u64s := func(a []uint64) {
		for _, v := range a {
			if buf = binary.LittleEndian.AppendUint64(buf, v); len(buf) == cap(buf) {
				flush()
			}
		}
	}
	for _, p := range t.parts {
		for _, v := range p.dir {
			if buf = binary.LittleEndian.AppendUint32(buf, v); len(buf) == cap(buf) {
				flush()
			}
		}
		u64s(p.ent)
	}
	u64s(t.filter)
	flush()
	cw.Write(binary.LittleEndian.AppendUint32(nil, cw.crc.Sum32()))
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("edm: writing table %q: %w", t.label, err)
	}
	return cw.n, nil
}

// hdrReader decodes the header, remembering the first error.
type hdrReader struct {
	b   []byte
	err error
}

func (r *hdrReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: header: bad %s", ErrCorrupt, what)
	}
}

func (r *hdrReader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *hdrReader) varint(what string) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *hdrReader) bytes(n int, what string) []byte {
	if n < 0 || n > len(r.b) {
		r.fail(what)
		r.b = nil
		return make([]byte, max(n, 0))
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *hdrReader) str(what string) string {
	n := r.uvarint(what + " length")
	if n > uint64(len(r.b)) {
		r.fail(what)
		return ""
	}
	return string(r.bytes(int(n), what))
}

// ReadTable reads a table written by WriteTo and checks that it was built with key. Errors wrap
// ErrNotTable, ErrVersion, ErrChecksum, ErrCorrupt or ErrWrongKey.
func ReadTable(r io.Reader, key []byte) (*Table, error) {
	sk, kcv, err := deriveKeys(key)
	if err != nil {
		return nil, err
	}
	crc := crc32.New(castagnoli)
	br := bufio.NewReaderSize(r, 1<<16)
	tr := io.TeeReader(br, crc)
	pre := make([]byte, 16)
	if _, err := io.ReadFull(tr, pre); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: file is %s", ErrNotTable, "shorter than a table header")
		}
		return nil, fmt.Errorf("edm: reading table: %w", err)
	}
	if string(pre[:8]) != magic {
		return nil, ErrNotTable
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != version {
		return nil, fmt.Errorf("%w: file is version %d, this build reads version %d", ErrVersion, v, version)
	}
	hl := binary.LittleEndian.Uint32(pre[12:])
	if hl > maxHeaderLen {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrCorrupt, hl)
	}
	hdr := make([]byte, hl)
	if _, err := io.ReadFull(tr, hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrChecksum, err)
	}
	want := crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil || binary.LittleEndian.Uint32(sum[:]) != want {
		return nil, fmt.Errorf("%w: header", ErrChecksum)
	}
	t, nEnt, nFilter, err := parseHeader(hdr)
	if err != nil {
		return nil, err
	}
	if t.kcv != kcv {
		return nil, ErrWrongKey
	}
	t.sk = sk

	crc.Reset()
	for p := range t.parts {
		if t.parts[p].dir, err = readUint32s(tr, 1<<(t.bbits-partBits)+1); err != nil {
			break
		}
		if t.parts[p].ent, err = readUint64s(tr, nEnt[p]); err != nil {
			break
		}
	}
	if err == nil {
		t.filter, err = readUint64s(tr, nFilter)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrChecksum, err)
	}
	want = crc.Sum32()
	if _, err := io.ReadFull(br, sum[:]); err != nil || binary.LittleEndian.Uint32(sum[:]) != want {
		return nil, fmt.Errorf("%w: body", ErrChecksum)
	}
	t.fmask = uint64(len(t.filter) - 1)
	if err := t.validate(); err != nil {
		return nil, err
	}
	return t, nil
}

func parseHeader(hdr []byte) (t *Table, nEnt [nParts]uint64, nFilter uint64, err error) {
	r := &hdrReader{b: hdr}
	t = &Table{}
	copy(t.kcv[:], r.bytes(8, "key check value"))
	t.label = r.str("label")
	nc := r.uvarint("column count")
	if nc == 0 || nc > MaxColumns {
		r.fail("column count")
		nc = 0
	}
	for range nc {
		c := Column{Name: r.str("column name"), Type: ColumnType(r.str("column type"))}
		if r.err == nil && !validType(c.Type) {
			r.fail("column type")
		}
		t.cols = append(t.cols, c)
	}
	rows := r.uvarint("row count")
	if rows > MaxRows {
		r.fail("row count")
	}
	t.rows = int64(rows)
	t.built = time.Unix(0, r.varint("build time")).UTC()
	t.minCols = int(r.varint("minimum columns"))
	t.minRows = int(r.varint("minimum rows"))
	t.maxRows = int(r.varint("maximum rows per value"))
	t.bbits = r.bytes(1, "bucket bits")[0]
	if t.bbits < minBucket || t.bbits > maxBucket {
		r.fail("bucket bits")
	}
	for p := range nEnt {
		if nEnt[p] = r.uvarint("entry count"); nEnt[p] > 1<<32-1 {
			r.fail("entry count")
		}
	}
	nFilter = r.uvarint("filter size")
	if nFilter == 0 || nFilter&(nFilter-1) != 0 || nFilter > bloomMaxBits/64 {
		r.fail("filter size")
	}
	b := r.bytes(11, "flags")
	t.kinds = binary.LittleEndian.Uint16(b)
	t.nameLens = binary.LittleEndian.Uint16(b[2:])
	t.textLens = binary.LittleEndian.Uint16(b[4:])
	t.phoneLens = binary.LittleEndian.Uint16(b[6:])
	t.idAlpha, t.ibanLoose, t.idMin, t.numMin = b[8]&1 != 0, b[8]&2 != 0, b[9], b[10]
	if b[8]&^3 != 0 {
		r.fail("flags")
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("length")
	}
	if r.err != nil {
		return nil, nEnt, 0, r.err
	}
	if t.minCols < 1 || t.maxRows < 1 {
		return nil, nEnt, 0, fmt.Errorf("%w: header: bad rule settings", ErrCorrupt)
	}
	t.setFields()
	return t, nEnt, nFilter, nil
}

// readUint32s and readUint64s grow their result as data arrives, so a damaged count cannot make
// ReadTable allocate more than the file holds.
func readUint32s(r io.Reader, n uint64) ([]uint32, error) {
	out := make([]uint32, 0, min(n, 1<<16))
	buf := make([]byte, min(n*4, 1<<16))
	for uint64(len(out)) < n {
		k := min(n-uint64(len(out)), uint64(len(buf)/4))
		if _, err := io.ReadFull(r, buf[:k*4]); err != nil {
			return nil, err
		}
		for i := uint64(0); i < k; i++ {
			out = append(out, binary.LittleEndian.Uint32(buf[i*4:]))
		}
	}
	return out, nil
}

func readUint64s(r io.Reader, n uint64) ([]uint64, error) {
	out := make([]uint64, 0, min(n, 1<<16))
	buf := make([]byte, min(n*8, 1<<16))
	for uint64(len(out)) < n {
		k := min(n-uint64(len(out)), uint64(len(buf)/8))
		if _, err := io.ReadFull(r, buf[:k*8]); err != nil {
			return nil, err
		}
		for i := uint64(0); i < k; i++ {
			out = append(out, binary.LittleEndian.Uint64(buf[i*8:]))
		}
	}
	return out, nil
}

// validate checks what Scan relies on, so that no file (even one with a valid checksum) can make
// it index out of range.
func (t *Table) validate() error {
	hasName := false
	for _, c := range t.cols {
		hasName = hasName || c.Type == Name
	}
	for p, pt := range t.parts {
		if pt.dir[0] != 0 || pt.dir[len(pt.dir)-1] != uint32(len(pt.ent)) {
			return fmt.Errorf("%w: partition %d: directory does not cover the entries", ErrCorrupt, p)
		}
		for b := 0; b+1 < len(pt.dir); b++ {
			lo, hi := pt.dir[b], pt.dir[b+1]
			if lo > hi {
				return fmt.Errorf("%w: partition %d: directory is not ordered at bucket %d", ErrCorrupt, p, b)
			}
			for i := lo; i < hi; i++ {
				e := pt.ent[i]
				col, row := uint32(e)&colMask, uint32(e)>>colBits
				if int(col) >= len(t.cols) && !(col == namesCol && hasName) || int64(row) >= t.rows {
					return fmt.Errorf("%w: partition %d: entry %d names row %d column %d outside the table", ErrCorrupt, p, i, row, col)
				}
				if i > lo && pt.ent[i-1] > e {
					return fmt.Errorf("%w: partition %d: bucket %d is not sorted", ErrCorrupt, p, b)
				}
			}
		}
	}
	return nil
}
