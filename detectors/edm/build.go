package edm

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/customs-dev/customs/internal/suggest"
)

// MinKeyLen is the shortest installation key accepted.
const MinKeyLen = 16

// deriveKeys turns the installation key into the SipHash key and a key check value. Both come
// from HMAC-SHA256 under distinct labels, so the check value stored in a table file says nothing
// about the hashing key, and the installation key is never used raw.
func deriveKeys(key []byte) (sipKey, [8]byte, error) {
	if len(key) < MinKeyLen {
		return sipKey{}, [8]byte{}, fmt.Errorf("edm: installation key is %d bytes, need at least %d", len(key), MinKeyLen)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("customs edm siphash-2-4 v1"))
	s := m.Sum(nil)
	m = hmac.New(sha256.New, key)
	m.Write([]byte("customs edm key check v1"))
	var kcv [8]byte
	copy(kcv[:], m.Sum(nil))
	return sipKey{K0: binary.LittleEndian.Uint64(s), K1: binary.LittleEndian.Uint64(s[8:])}, kcv, nil
}

// maxWarnings bounds Stats.Warnings: a bad column in ten million rows needs naming once, not ten
// million times.
const maxWarnings = 10

// builder holds one build's state.
type builder struct {
	o     Options
	t     *Table
	idx   []int // CSV field of each column
	st    staging
	bl    bloom
	stats Stats
	line  int // CSV line of the current row, for warnings

	// scratch reused across cells
	ws      []word
	buf     []byte
	nameWs  []uint64 // word hashes of the row's name cells, for the combined entry
	nameCnt int      // name cells of the row with words
	hs      []uint64
	scratch []byte
	minLen  []int // per column
}

// BuildTable reads a CSV table (a header row, then RFC 4180 records; a UTF-8 byte order mark is
// skipped) and indexes the cells of o.Columns under key. It streams: only hashes are kept, never
// a row. Errors name o.Source and the line.
func BuildTable(r io.Reader, key []byte, o Options) (*Table, Stats, error) {
	o.defaults()
	sk, kcv, err := deriveKeys(key)
	if err != nil {
		return nil, Stats{}, err
	}
	if len(o.Columns) == 0 {
		return nil, Stats{}, fmt.Errorf("%s: no columns to index", o.Source)
	}
	if len(o.Columns) > MaxColumns {
		return nil, Stats{}, fmt.Errorf("%s: %d columns, at most %d", o.Source, len(o.Columns), MaxColumns)
	}
	for _, c := range o.Columns {
		if !validType(c.Type) {
			return nil, Stats{}, fmt.Errorf("%s: column %q: unknown type %q (types: %s)", o.Source, c.Name, c.Type, typeList())
		}
	}
	t := &Table{
		label: o.Label, cols: slices.Clone(o.Columns), built: o.Built.UTC(), minCols: o.MinColumns,
		minRows: o.MinRows, maxRows: o.MaxRowsPerValue, sk: sk, kcv: kcv,
	}
	t.setFields()
	t.idMin, t.numMin = uint8(min(o.minLen(ID), 64)), uint8(min(o.minLen(Number), 64))
	for _, c := range t.cols {
		t.kinds |= kindBit(kindOf[c.Type])
	}
	b := &builder{o: o, t: t}
	for _, c := range t.cols {
		b.minLen = append(b.minLen, o.minLen(c.Type))
	}

	br := bufio.NewReaderSize(r, 1<<16)
	if p, _ := br.Peek(3); string(p) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, Stats{}, fmt.Errorf("%s: empty, expected a header row naming the columns", o.Source)
	}
	if err != nil {
		return nil, Stats{}, b.csvErr(err)
	}
	if b.idx, err = b.mapHeader(header); err != nil {
		return nil, Stats{}, err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, Stats{}, b.csvErr(err)
		}
		if b.stats.Rows >= MaxRows {
			line, _ := cr.FieldPos(0)
			return nil, Stats{}, fmt.Errorf("%s:%d: more than %d rows; split the table", o.Source, line, MaxRows)
		}
		b.line, _ = cr.FieldPos(0)
		b.row(rec)
	}
	var common int64
	t.bbits, t.parts, common = b.st.finish(o.MaxRowsPerValue)
	t.filter = b.bl.fold()
	t.fmask = uint64(len(t.filter) - 1)
	t.rows = b.stats.Rows
	s := b.stats
	s.DroppedCommon = common
	s.Dropped = s.DroppedCommon + s.DroppedShort + s.DroppedInvalid
	s.Bytes = t.bytes()
	return t, s, nil
}

func (b *builder) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Errorf("%s:%d: row has a different number of fields than the header", b.o.Source, pe.StartLine)
		}
		return fmt.Errorf("%s:%d:%d: %w", b.o.Source, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: reading: %w", b.o.Source, err)
}

func (b *builder) mapHeader(header []string) ([]int, error) {
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
	}
	idx := make([]int, len(b.t.cols))
	for ci, c := range b.t.cols {
		idx[ci] = -1
		for i, h := range names {
			if strings.EqualFold(h, strings.TrimSpace(c.Name)) {
				if idx[ci] >= 0 {
					return nil, fmt.Errorf("%s:1: column %q appears twice in the header (fields %d and %d)", b.o.Source, c.Name, idx[ci]+1, i+1)
				}
				idx[ci] = i
			}
		}
		if idx[ci] < 0 {
			msg := fmt.Sprintf("%s:1: column %q is not in the header", b.o.Source, c.Name)
			for _, h := range names {
				if suggest.Distance(strings.ToLower(h), strings.ToLower(c.Name)) <= 2 {
					msg += fmt.Sprintf(" (did you mean %q?)", h)
					break
				}
			}
			return nil, fmt.Errorf("%s; it has: %s", msg, strings.Join(names, ", "))
		}
	}
	return idx, nil
}

func (b *builder) warn(col, why string) {
	if len(b.stats.Warnings) < maxWarnings {
		b.stats.Warnings = append(b.stats.Warnings, fmt.Sprintf("%s:%d: column %q: %s", b.o.Source, b.line, col, why))
	}
}

func (b *builder) row(rec []string) {
	b.st.perRow = append(b.st.perRow, 0)
	b.stats.Rows++
	b.nameWs, b.nameCnt = b.nameWs[:0], 0
	for ci, c := range b.t.cols {
		cell := strings.TrimSpace(rec[b.idx[ci]])
		if cell == "" {
			continue
		}
		b.stats.Cells++
		b.cell(ci, c, cell)
	}
	if b.nameCnt > 1 {
		// First and last name in separate columns: also index them together, so "Maria
		// Gonzalez" matches the row even when "Maria" alone is too common to be kept.
		b.nameEntries(namesCol, b.nameWs)
	}
}

func (b *builder) cell(ci int, c Column, cell string) {
	sk, min := b.t.sk, b.minLen[ci]
	switch c.Type {
	case Name:
		b.ws, b.buf = appendWords(b.ws[:0], b.buf[:0], cell)
		ws := nameWords(b.ws, b.buf)
		if len(ws) == 0 {
			b.invalid(c.Name, "no letters")
			return
		}
		letters := 0
		b.hs = b.hs[:0]
		for _, w := range ws {
			letters += w.n
			wh := sk.SumTagged(byte(kWord), b.buf[w.off:w.off+w.n])
			b.hs = append(b.hs, wh)
			b.bl.add(wh)
		}
		// A short part ("Li") still joins the row's combined name, which is long enough.
		b.nameWs = append(b.nameWs, b.hs...)
		b.nameCnt++
		if letters < min {
			b.stats.DroppedShort++
			return
		}
		b.nameEntries(ci, b.hs)
	case Text:
		b.ws, b.buf = appendWords(b.ws[:0], b.buf[:0], cell)
		if len(b.ws) == 0 {
			b.invalid(c.Name, "no letters or digits")
			return
		}
		if len(b.ws) > MaxTextWords {
			b.invalid(c.Name, fmt.Sprintf("more than %d words", MaxTextWords))
			return
		}
		n := 0
		b.hs = b.hs[:0]
		for _, w := range b.ws {
			n += w.n
			b.hs = append(b.hs, sk.SumTagged(byte(kWord), b.buf[w.off:w.off+w.n]))
		}
		if n < min {
			b.stats.DroppedShort++
			return
		}
		for _, wh := range b.hs {
			b.bl.add(wh)
		}
		b.t.textLens |= 1 << len(b.hs)
		b.st.add(composite(sk, kText, b.hs), ci)
	case Email:
		v, ok := normEmail(cell)
		if !ok {
			b.invalid(c.Name, "not an e-mail address")
			return
		}
		b.keep(ci, kEmail, v, len(v) >= min)
	case Phone:
		v, digits, ok := normPhone(cell)
		if !ok {
			b.invalid(c.Name, "not a phone number")
			return
		}
		if digits >= min && len(v) < phoneTail {
			b.t.phoneLens |= 1 << len(v)
		}
		b.keep(ci, kPhone, v, digits >= min)
	case IBAN:
		v, ok := normIBAN(cell, b.o.StrictIBAN)
		if !ok {
			b.invalid(c.Name, "not an IBAN")
			return
		}
		if !b.t.ibanLoose && !ibanValid([]byte(v)) {
			b.t.ibanLoose = true
		}
		b.keep(ci, kIBAN, v, len(v) >= min)
	case ID:
		v, ok := normID(cell)
		if !ok {
			b.invalid(c.Name, fmt.Sprintf("no letters or digits, more than %d parts, or parts of one character", maxIDParts))
			return
		}
		if len(v) >= min && !b.t.idAlpha && !strings.ContainsFunc(v, func(r rune) bool { return r >= '0' && r <= '9' }) {
			b.t.idAlpha = true
		}
		b.keep(ci, kID, v, len(v) >= min)
	case Number:
		v, digits, ok := normNumber(cell)
		if !ok {
			b.invalid(c.Name, "not a number")
			return
		}
		b.keep(ci, kNumber, v, digits >= min)
	case Date:
		ds, ok := normDate(cell)
		if !ok {
			b.invalid(c.Name, "not a date in a known format")
			return
		}
		for _, d := range ds {
			b.st.add(sk.SumTagged(byte(kDate), d[:]), ci)
		}
	}
}

func (b *builder) keep(ci int, k kind, v string, long bool) {
	if !long {
		b.stats.DroppedShort++
		return
	}
	b.scratch = append(b.scratch[:0], v...)
	b.st.add(b.t.sk.SumTagged(byte(k), b.scratch), ci)
}

func (b *builder) invalid(col, why string) {
	b.stats.DroppedInvalid++
	b.warn(col, why)
}

// nameEntries indexes a name by its words in any order (up to three words), and a name of three
// or more words also by its first and last word: "Maria Elena Gonzalez" is often written "Maria
// Gonzalez".
func (b *builder) nameEntries(col int, hs []uint64) {
	sk := b.t.sk
	if len(hs) <= 3 {
		b.st.add(composite(sk, kName, sorted(hs)), col)
		b.t.nameLens |= 1 << len(hs)
	}
	if len(hs) >= 3 {
		pair := []uint64{hs[0], hs[len(hs)-1]}
		b.st.add(composite(sk, kName, sorted(pair)), col)
		b.t.nameLens |= 1 << 2
	}
}

func sorted(hs []uint64) []uint64 {
	if len(hs) > 1 {
		hs = slices.Clone(hs)
		slices.Sort(hs)
	}
	return hs
}

// composite hashes a sequence of word hashes: the key of a name (words sorted) or a text cell
// (words in order). Hashing word hashes rather than words lets a scan hash each word of a text
// once however many sequences it takes part in.
func composite(sk sipKey, k kind, hs []uint64) uint64 {
	var buf [MaxTextWords * 8]byte
	for i, h := range hs {
		binary.LittleEndian.PutUint64(buf[i*8:], h)
	}
	return sk.SumTagged(byte(k), buf[:len(hs)*8])
}
