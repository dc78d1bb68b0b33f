package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/oklog/ulid/v2"
)

// rawReader reads a store's files as they are, without opening it with badger (whose open cuts
// damage away, tables and flows with it): every table on disk, named by the MANIFEST or not,
// every write-ahead log past any garbage in it, and the values they point to in the value log.
// It is what store repair copies from, and what store verify counts on a damaged store. It
// never writes.
type rawReader struct {
	dir      string
	kr       *badger.KeyRegistry
	tr       *tableReader
	files    storeFiles
	manifest *badger.Manifest
	vlogs    map[uint32]*rawVlog
	problems []Problem
	// failed are keys whose value could not be read, with why: a caller that finds the key
	// elsewhere (another version, in another file) did not lose it.
	failed map[string]string
	// outboxDeleted holds the latest version at which each outbox key was deleted (Sent).
	// Other deletions are skipped, as flows are never rewritten; an outbox key's deletion
	// is what tells a flow the fleet received from one still waiting.
	outboxDeleted map[id]uint64
}

// rawEntry is one key as a file holds it.
type rawEntry struct {
	key     []byte // without badger's version suffix
	version uint64
	value   []byte // resolved from the value log when the file held a pointer
}

type rawVlog struct {
	f    *os.File
	size int64
	dk   *pb.DataKey
	iv   []byte // base IV: 12 bytes
	err  error
}

func newRawReader(dir string, key []byte, fc *fileCheck) (*rawReader, error) {
	kr, err := openRegistry(dir, key)
	if err != nil {
		return nil, err
	}
	return &rawReader{dir: dir, kr: kr, tr: newTableReader(kr), files: fc.files, manifest: fc.manifest,
		vlogs: map[uint32]*rawVlog{}, failed: map[string]string{}, outboxDeleted: map[id]uint64{}}, nil
}

func (rr *rawReader) close() {
	rr.tr.close()
	for _, v := range rr.vlogs {
		if v.f != nil {
			v.f.Close()
		}
	}
}

func (rr *rawReader) problem(file string, off int64, format string, a ...any) {
	rr.problems = append(rr.problems, Problem{File: file, Offset: off, What: fmt.Sprintf(format, a...)})
}

// eachIndexed calls fn for every key the tables (oldest first) and write-ahead logs hold that
// can be read; eachUnindexed then reads the value log for the keys want accepts: a value whose
// pointer was in an unreadable table is still there, with its key. A key may come more than
// once (a compaction's leftovers, a memtable and the table it was flushed to): flows are never
// rewritten, so every copy holds the same value. Deletions and badger's own keys are skipped.
func (rr *rawReader) eachIndexed(fn func(rawEntry) error) error {
	for _, id := range rr.files.tables {
		if err := rr.table(id, fn); err != nil {
			return err
		}
	}
	for _, id := range rr.files.mems {
		if err := rr.wal(id, fn); err != nil {
			return err
		}
	}
	return nil
}

func (rr *rawReader) eachUnindexed(fn func(rawEntry) error, want func(key []byte) bool) error {
	for _, id := range rr.files.vlogs {
		if err := rr.vlogValues(uint32(id), fn, want); err != nil {
			return err
		}
	}
	return nil
}

// vlogValues reads the entries of one value-log file for the keys want accepts.
func (rr *rawReader) vlogValues(fid uint32, fn func(rawEntry) error, want func([]byte) bool) error {
	v := rr.vlog(fid)
	if v.err != nil {
		return nil // reported by checkFiles
	}
	data := make([]byte, v.size)
	if _, err := v.f.ReadAt(data, 0); err != nil {
		return nil
	}
	for off := logHeaderSize; off < len(data); {
		_, k, val, n, ok := decodeLogEntry(data[off:], v.dk, v.iv, uint32(off), len(data))
		if !ok {
			off = resync(data, off+1, v.dk, v.iv, vlogEntryMax)
			continue
		}
		off += n
		key := y.ParseKey(k)
		if bytes.HasPrefix(key, badgerPrefix) || !want(key) {
			continue
		}
		if err := fn(rawEntry{key: bytes.Clone(key), version: y.ParseTs(k), value: bytes.Clone(val)}); err != nil {
			return err
		}
	}
	return nil
}

// vlogEntryMax bounds a value-log entry when resynchronising past garbage: two bodies at the
// largest body limit customs is run with, and more.
const vlogEntryMax = 64 << 20

var badgerPrefix = []byte("!badger!")

// table reads one table. A table the MANIFEST does not name (it was cut short) is opened with
// each data key of the registry in turn until one reads it whole (tableReader.openUnnamed).
func (rr *rawReader) table(id uint64, fn func(rawEntry) error) error {
	path := filepath.Join(rr.dir, tableName(id))
	var t *table.Table
	var err error
	if tm, ok := manifestTable(rr.manifest, id); ok {
		t, err = rr.tr.open(path, tm.KeyID, tm.Compression)
		if err != nil {
			return nil // reported by checkFiles
		}
	} else if t, err = rr.tr.openUnnamed(path); err != nil {
		rr.problem(tableName(id), -1, "unreadable table: %v", err)
		return nil
	}
	defer closeTable(t)
	return rr.readTable(t, id, fn)
}

func (rr *rawReader) readTable(t *table.Table, id uint64, fn func(rawEntry) error) error {
	var ferr error
	walkTable(t, func(k []byte, vs y.ValueStruct) {
		if ferr != nil {
			return
		}
		key := y.ParseKey(k)
		if vs.Meta&bitDelete != 0 {
			rr.deleted(key, y.ParseTs(k))
			return
		}
		if bytes.HasPrefix(key, badgerPrefix) {
			return
		}
		e := rawEntry{key: bytes.Clone(key), version: y.ParseTs(k)}
		if vs.Meta&bitValuePointer != 0 {
			v, err := rr.value(vs.Value)
			if err != nil {
				rr.failed[string(e.key)] = fmt.Sprintf("value (in %s) unreadable: %v", tableName(id), err)
				return
			}
			e.value = v
		} else {
			e.value = bytes.Clone(vs.Value)
		}
		ferr = fn(e)
	}, func(b tableBlock) {
		rr.problem(tableName(id), -1, "block %d (keys from %s) unreadable", b.index, describeKey(b.firstKey))
	})
	return ferr
}

// wal reads one write-ahead log entry by entry, resynchronising past garbage: after an
// unreadable entry, the next offset where a whole entry reads back (its checksum matches)
// starts the rest. Unlike badger's replay, it keeps the entries of a transaction whose closing
// entry never came (a write batch's transaction spans hundreds of flows, and garbage in its
// middle would otherwise cost them all): each entry's checksum vouches for it, and what a
// flow misses is reported by the audit of the repaired store.
func (rr *rawReader) wal(id uint64, fn func(rawEntry) error) error {
	name := memName(id)
	data, err := os.ReadFile(filepath.Join(rr.dir, name))
	if err != nil {
		rr.problem(name, -1, "unreadable: %v", err)
		return nil
	}
	if len(data) <= logHeaderSize {
		return nil
	}
	dk, err := rr.kr.DataKey(binary.BigEndian.Uint64(data[:8]))
	if err != nil {
		rr.problem(name, 0, "unknown data key: %v", err)
		return nil
	}
	iv := data[8:logHeaderSize]
	for off := logHeaderSize; off < len(data); {
		meta, k, v, n, ok := decodeLogEntry(data[off:], dk, iv, uint32(off), walEntryMax)
		if !ok {
			next := resync(data, off+1, dk, iv, walEntryMax)
			if next >= len(data) {
				break // the log's end: a torn last entry and zeros (checkFiles reports anything else)
			}
			rr.problem(name, int64(off), "%d bytes unreadable; whole entries follow, read on from byte %d", next-off, next)
			off = next
			continue
		}
		off += n
		key := y.ParseKey(k)
		if meta&bitDelete != 0 {
			rr.deleted(key, y.ParseTs(k))
		}
		if meta&(bitFinTxn|bitDelete) != 0 || bytes.HasPrefix(key, badgerPrefix) {
			continue // a transaction's closing mark, a deletion, badger's own keys
		}
		e := rawEntry{key: bytes.Clone(key), version: y.ParseTs(k)}
		if meta&bitValuePointer != 0 {
			val, err := rr.value(v)
			if err != nil {
				rr.failed[string(e.key)] = fmt.Sprintf("value (in %s) unreadable: %v", name, err)
				continue
			}
			e.value = val
		} else {
			e.value = bytes.Clone(v)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// deleted notes the deletion of key at version, when it is an outbox key.
func (rr *rawReader) deleted(key []byte, version uint64) {
	if x, ok := outboxKeyID(key); ok {
		rr.outboxDeleted[x] = max(rr.outboxDeleted[x], version)
	}
}

// sentAfter says whether outbox key x, read at version, was deleted later.
func (rr *rawReader) sentAfter(x id, version uint64) bool { return rr.outboxDeleted[x] > version }

// walEntryMax bounds a write-ahead log entry of this store: a key (at most 285 bytes with
// badger's version) and a value under the value threshold or a pointer.
const walEntryMax = 4 << 10

// resync finds the next offset at or after from where a whole entry of at most limit bytes
// reads back, or len(data).
func resync(data []byte, from int, dk *pb.DataKey, iv []byte, limit int) int {
	for off := from; off < len(data)-entryHeaderMax; off++ {
		// Runs of zeros (the logs' sparse tails) hold no entry start: an entry's third byte,
		// its key length, is never zero. Skip them a word at a time; an entry may start two
		// bytes before the first non-zero byte.
		if off+8 <= len(data) && binary.LittleEndian.Uint64(data[off:]) == 0 {
			end := off + 8
			for end+8 <= len(data) && binary.LittleEndian.Uint64(data[end:]) == 0 {
				end += 8
			}
			off = max(off, end-2) - 1 // the loop adds one
			continue
		}
		// Where an entry can start: badger's meta bits (deletion, value pointer, transaction),
		// no user meta (customs sets none), a key length that is not zero.
		if data[off]&^(bitDelete|bitValuePointer|bitTxn|bitFinTxn) != 0 || data[off+1] != 0 || data[off+2] == 0 {
			continue
		}
		if _, _, _, _, ok := decodeLogEntry(data[off:], dk, iv, uint32(off), limit); ok {
			return off
		}
	}
	return len(data)
}

const bitTxn = 1 << 6

// decodeLogEntry reads the entry at the start of buf (written at offset off of its file), its
// checksum verified and its key and value decrypted. limit bounds the key and value's length.
func decodeLogEntry(buf []byte, dk *pb.DataKey, iv []byte, off uint32, limit int) (meta byte, key, value []byte, n int, ok bool) {
	if len(buf) < 5 {
		return 0, nil, nil, 0, false
	}
	meta = buf[0]
	i := 2
	klen, m := binary.Uvarint(buf[i:])
	if m <= 0 || klen == 0 || klen > maxEntryKey {
		return 0, nil, nil, 0, false
	}
	i += m
	vlen, m := binary.Uvarint(buf[i:])
	if m <= 0 || vlen > uint64(limit) {
		return 0, nil, nil, 0, false
	}
	i += m
	if _, m = binary.Uvarint(buf[i:]); m <= 0 {
		return 0, nil, nil, 0, false
	}
	i += m
	kvLen := int(klen + vlen)
	if kvLen > limit || len(buf)-i < kvLen+crc32.Size {
		return 0, nil, nil, 0, false
	}
	if binary.BigEndian.Uint32(buf[i+kvLen:]) != crc32.Checksum(buf[:i+kvLen], crcTable) {
		return 0, nil, nil, 0, false
	}
	kv := buf[i : i+kvLen]
	if dk != nil {
		var err error
		if kv, err = y.XORBlockAllocate(kv, dk.Data, entryIV(iv, off)); err != nil {
			return 0, nil, nil, 0, false
		}
	}
	return meta, kv[:klen], kv[klen:], i + kvLen + crc32.Size, true
}

func entryIV(base []byte, off uint32) []byte {
	iv := make([]byte, 16)
	copy(iv, base[:12])
	binary.BigEndian.PutUint32(iv[12:], off)
	return iv
}

// value reads the value a pointer (file ID, length, offset: badger copies the struct's memory,
// little-endian on every platform customs builds for) names in the value log.
func (rr *rawReader) value(ptr []byte) ([]byte, error) {
	if len(ptr) < 12 {
		return nil, fmt.Errorf("value pointer of %d bytes", len(ptr))
	}
	fid := binary.LittleEndian.Uint32(ptr[0:])
	n := binary.LittleEndian.Uint32(ptr[4:])
	off := binary.LittleEndian.Uint32(ptr[8:])
	v := rr.vlog(fid)
	if v.err != nil {
		return nil, v.err
	}
	if int64(off)+int64(n) > v.size || n < 5+crc32.Size {
		return nil, fmt.Errorf("%s: bytes %d–%d past its end (%d bytes)", vlogName(uint64(fid)), off, int64(off)+int64(n), v.size)
	}
	buf := make([]byte, n)
	if _, err := v.f.ReadAt(buf, int64(off)); err != nil {
		return nil, fmt.Errorf("%s: %w", vlogName(uint64(fid)), err)
	}
	_, _, val, _, ok := decodeLogEntry(buf, v.dk, v.iv, off, int(n))
	if !ok {
		return nil, fmt.Errorf("%s at byte %d: checksum mismatch", vlogName(uint64(fid)), off)
	}
	return bytes.Clone(val), nil
}

func (rr *rawReader) vlog(fid uint32) *rawVlog {
	if v, ok := rr.vlogs[fid]; ok {
		return v
	}
	v := &rawVlog{}
	rr.vlogs[fid] = v
	name := vlogName(uint64(fid))
	f, err := os.Open(filepath.Join(rr.dir, name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			v.err = fmt.Errorf("%s is missing", name)
		} else {
			v.err = err
		}
		return v
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		v.err = err
		return v
	}
	head := make([]byte, logHeaderSize)
	if _, err := f.ReadAt(head, 0); err != nil {
		f.Close()
		v.err = fmt.Errorf("%s: header: %w", name, err)
		return v
	}
	if v.dk, err = rr.kr.DataKey(binary.BigEndian.Uint64(head[:8])); err != nil {
		f.Close()
		v.err = fmt.Errorf("%s: %w", name, err)
		return v
	}
	v.f, v.size, v.iv = f, st.Size(), head[8:]
	return v
}

// manifestTable is the MANIFEST's entry for a table; m may be nil (no readable MANIFEST).
func manifestTable(m *badger.Manifest, id uint64) (badger.TableManifest, bool) {
	if m == nil {
		return badger.TableManifest{}, false
	}
	tm, ok := m.Tables[id]
	return tm, ok
}

// describeKey names a store key for a report: its day, family and flow ID where it has them.
func describeKey(k []byte) string {
	if len(k) == 0 {
		return "the start"
	}
	if k[0] == sysPrefix {
		return fmt.Sprintf("system key %q", k[1:])
	}
	d, ok := keyDay(k)
	if !ok || len(k) < dayLen+1 {
		return fmt.Sprintf("%x", k)
	}
	s := dayStart(d).Format("2006-01-02") + " " + familyName(k[dayLen])
	if x, ok := keyID(k); ok && len(k) >= dayLen+1+idLen {
		s += " " + ulid.ULID(x).String()
	}
	return s
}

func familyName(f byte) string {
	switch f {
	case famMeta:
		return "metadata"
	case famBody:
		return "bodies"
	case famVendor:
		return "vendor index"
	case famCategory:
		return "category index"
	case famClient:
		return "client index"
	case famUser:
		return "user index"
	case famDetector:
		return "detector index"
	case famAction:
		return "action index"
	case famAPI:
		return "API index"
	case famHost:
		return "host index"
	case famOutbox:
		return "outbox"
	}
	return fmt.Sprintf("family %q", f)
}
