package fingerprint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// Index file format, little-endian, version 1:
//
//	magic    "CSTMFPX\n"
//	version  uint32
//	keycheck [8]byte   HMAC-SHA256(key, "customs/fingerprint/v1/key-check")[:8]
//	length   uint64    of the body
//	body     uvarint-encoded: classes (params), labels, files, names (front-coded, see names.go),
//	         table (bit widths, entry count, per-bucket counts, packed words)
//	crc32c   uint32    of everything before it
//
// The key itself is never written. The version changes whenever normalisation or hashing does:
// prints of an older normaliser would silently stop matching, so such a file is refused.

const (
	formatVersion = 1
	headerLen     = 8 + 4 + 8 + 8
)

var magic = [8]byte{'C', 'S', 'T', 'M', 'F', 'P', 'X', '\n'}

// Errors of ReadIndex, for errors.Is.
var (
	ErrBadMagic = errors.New("fingerprint: not a customs fingerprint index (bad magic)")
	ErrVersion  = errors.New("fingerprint: unsupported index version")
	ErrChecksum = errors.New("fingerprint: index checksum mismatch (file corrupt or truncated)")
	ErrWrongKey = errors.New("fingerprint: index was built with a different installation key")
	ErrCorrupt  = errors.New("fingerprint: index corrupt")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index in the versioned binary format. It holds no text and not the key.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	var body bytes.Buffer
	ix.encodeBody(&body)
	var hdr [headerLen]byte
	copy(hdr[:8], magic[:])
	binary.LittleEndian.PutUint32(hdr[8:], formatVersion)
	copy(hdr[12:20], ix.check[:])
	binary.LittleEndian.PutUint64(hdr[20:], uint64(body.Len()))
	crc := crc32.Update(crc32.Checksum(hdr[:], castagnoli), castagnoli, body.Bytes())
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], crc)

	bw := bufio.NewWriter(w)
	var n int64
	for _, p := range [][]byte{hdr[:], body.Bytes(), tail[:]} {
		m, err := bw.Write(p)
		n += int64(m)
		if err != nil {
			return n, fmt.Errorf("fingerprint: write index: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("fingerprint: write index: %w", err)
	}
	return n, nil
}

func (ix *Index) encodeBody(b *bytes.Buffer) {
	uv := func(v uint64) { b.Write(binary.AppendUvarint(nil, v)) }
	str := func(s string) { uv(uint64(len(s))); b.WriteString(s) }
	var has byte
	for c := range nClasses {
		if ix.has[c] {
			has |= 1 << c
		}
	}
	b.WriteByte(has)
	for c := range nClasses {
		p := ix.params[c]
		uv(uint64(p.k))
		uv(uint64(p.w))
		if p.keepStrings {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
	}
	uv(uint64(len(ix.labels)))
	for _, l := range ix.labels {
		str(l.Label)
		str(string(l.Class))
		for _, v := range []int64{l.Files, l.CodeFiles, l.DocumentFiles, l.Prints, l.Boilerplate, l.Bytes, l.Built.Unix()} {
			b.Write(binary.AppendVarint(nil, v))
		}
	}
	uv(uint64(len(ix.files)))
	for _, f := range ix.files {
		uv(uint64(f.label))
		b.WriteByte(f.class)
		uv(uint64(f.prints))
	}
	uv(uint64(len(ix.names.data)))
	b.Write(ix.names.data)
	t := &ix.tab
	uv(uint64(t.bBits))
	uv(uint64(t.rBits))
	uv(uint64(t.fBits))
	uv(uint64(t.n))
	if t.n > 0 {
		for i := 1; i < len(t.buckets); i++ {
			uv(uint64(t.buckets[i] - t.buckets[i-1]))
		}
		uv(uint64(len(t.words)))
		var w8 [8]byte
		for _, w := range t.words {
			binary.LittleEndian.PutUint64(w8[:], w)
			b.Write(w8[:])
		}
	}
}

// ReadIndex reads an index written by WriteTo, checking it was built with key.
func ReadIndex(r io.Reader, key []byte) (*Index, error) {
	if len(key) < MinKeyLen {
		return nil, errShortKey
	}
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: file shorter than the header", ErrBadMagic)
		}
		return nil, fmt.Errorf("fingerprint: read index: %w", err)
	}
	if !bytes.Equal(hdr[:8], magic[:]) {
		return nil, ErrBadMagic
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != formatVersion {
		return nil, fmt.Errorf("%w %d (this customs reads version %d): rebuild it with customs jewels add", ErrVersion, v, formatVersion)
	}
	n := binary.LittleEndian.Uint64(hdr[20:])
	// read at most what the header announces, without trusting it for an allocation
	body, err := io.ReadAll(io.LimitReader(r, int64(min(n, math.MaxInt64-4))+4))
	if err != nil {
		return nil, fmt.Errorf("fingerprint: read index: %w", err)
	}
	if uint64(len(body)) != n+4 {
		return nil, fmt.Errorf("%w: length %d, header says %d", ErrChecksum, len(body), n+4)
	}
	crc := crc32.Update(crc32.Checksum(hdr[:], castagnoli), castagnoli, body[:n])
	if binary.LittleEndian.Uint32(body[n:]) != crc {
		return nil, ErrChecksum
	}
	var check [8]byte
	copy(check[:], hdr[12:20])
	if check != keyCheck(key) {
		return nil, ErrWrongKey
	}
	ix := &Index{check: check}
	if err := ix.decodeBody(body[:n]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var keys [nClasses]sipKey
	for c := range nClasses {
		keys[c] = classKey(key, classes[c])
	}
	ix.init(keys)
	return ix, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = errors.New(what)
	}
	d.b = nil
}

func (d *decoder) uv(what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) v(what string) int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items each taking at least minBytes, refusing counts the remaining
// bytes cannot hold: a corrupt count must not become a huge allocation.
func (d *decoder) count(what string, minBytes int) int {
	v := d.uv(what)
	if d.err == nil && v > uint64(len(d.b)/minBytes) {
		d.fail(what + " out of range")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int, what string) []byte {
	if n > len(d.b) {
		d.fail(what)
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) str(what string) string {
	return string(d.bytes(d.count(what, 1), what))
}

func (d *decoder) byte1(what string) byte {
	b := d.bytes(1, what)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func (ix *Index) decodeBody(body []byte) error {
	d := &decoder{b: body}
	has := d.byte1("classes")
	for c := range nClasses {
		ix.has[c] = has&(1<<c) != 0
		k, w := d.uv("k"), d.uv("w")
		keep := d.byte1("keep strings")
		if d.err == nil && (k < 1 || k > maxK || w < 1 || w > maxW || keep > 1) {
			d.fail("normalisation parameters out of range")
		}
		ix.params[c] = params{class: classes[c], k: int(k), w: int(w), keepStrings: keep == 1}
	}
	nl := d.count("labels", 9)
	ix.labels = make([]LabelInfo, 0, nl)
	for range nl {
		l := LabelInfo{Label: d.str("label"), Class: Class(d.str("label class"))}
		vs := make([]int64, 7)
		for i := range vs {
			vs[i] = d.v("label counts")
		}
		l.Files, l.CodeFiles, l.DocumentFiles, l.Prints, l.Boilerplate, l.Bytes = vs[0], vs[1], vs[2], vs[3], vs[4], vs[5]
		l.Built = time.Unix(vs[6], 0).UTC()
		ix.labels = append(ix.labels, l)
	}
	nf := d.count("files", 3)
	ix.files = make([]fileInfo, 0, nf)
	for range nf {
		f := fileInfo{label: uint32(d.uv("file label")), class: d.byte1("file class"), prints: uint32(d.uv("file prints"))}
		if d.err == nil && (int(f.label) >= len(ix.labels) || f.class >= nClasses) {
			d.fail("file label or class out of range")
		}
		ix.files = append(ix.files, f)
	}
	names := bytes.Clone(d.bytes(d.count("names", 1), "names"))
	if d.err == nil {
		var err error
		if ix.names, err = parseNames(names, nf); err != nil {
			d.fail(err.Error())
		}
	}
	t := &ix.tab
	t.bBits, t.rBits, t.fBits = uint(d.uv("bucket bits")), uint(d.uv("residue bits")), uint(d.uv("file bits"))
	if d.err == nil && (t.bBits > 40 || t.rBits < 1 || t.rBits > 32 || t.fBits < 1 || t.fBits > 31 ||
		t.bBits+t.rBits > 64 || len(ix.files) > 1<<t.fBits) {
		d.fail("table parameters out of range")
	}
	n := d.uv("entries")
	if d.err == nil && n > 0 {
		if n > uint64(len(d.b))*8 || uint64(1)<<t.bBits > uint64(len(d.b)) {
			d.fail("table size out of range")
		}
	}
	if d.err == nil && n > 0 {
		t.n = int(n)
		t.buckets = make([]uint32, (1<<t.bBits)+1)
		var sum uint64
		for i := 1; i < len(t.buckets) && d.err == nil; i++ {
			sum += d.uv("bucket size")
			if sum > n {
				d.fail("bucket sizes out of range")
			}
			t.buckets[i] = uint32(sum)
		}
		if d.err == nil && sum != n {
			d.fail("bucket sizes do not add up")
		}
		nw := d.count("words", 8)
		if d.err == nil && uint64(nw) != (n*uint64(t.rBits+t.fBits)+63)/64+1 {
			d.fail("word count does not match")
		}
		if d.err == nil {
			t.words = make([]uint64, nw)
			for i := range t.words {
				t.words[i] = binary.LittleEndian.Uint64(d.bytes(8, "words"))
			}
		}
		if d.err == nil {
			d.err = ix.validate()
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

// validate checks what Scan relies on: file IDs in range, entries sorted within buckets.
func (ix *Index) validate() error {
	t := &ix.tab
	fmask := uint64(1)<<t.fBits - 1
	for b := 0; b+1 < len(t.buckets); b++ {
		var prev uint64
		for i := t.buckets[b]; i < t.buckets[b+1]; i++ {
			v := t.get(i)
			if v&fmask >= uint64(len(ix.files)) {
				return errors.New("file ID out of range")
			}
			if i > t.buckets[b] && v < prev {
				return errors.New("entries out of order")
			}
			prev = v
		}
	}
	return nil
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
