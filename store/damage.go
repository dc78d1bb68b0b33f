package store

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/dgraph-io/ristretto/v2/z"
)

// ErrDamaged: the store's files are damaged. Open returns a *DamageError, which matches it, and
// writes nothing to such a store.
var ErrDamaged = errors.New("store: damaged")

// Problem is one piece of damage found in a store's files.
type Problem struct {
	File   string // the file's name in Dir: MANIFEST, 000012.sst, 00004.mem, 000003.vlog
	Offset int64  // where in File the damage starts; -1 when it concerns the whole file
	What   string
}

func (p Problem) String() string {
	if p.Offset < 0 {
		return p.File + ": " + p.What
	}
	return fmt.Sprintf("%s at byte %d: %s", p.File, p.Offset, p.What)
}

// DamageError is Open's error for a damaged store. Open found it before badger touched the
// files: badger would cut a damaged MANIFEST short and delete the tables it no longer names,
// truncate a write-ahead log at the first bad entry (and with it every flow after it), or skip
// an unreadable table, all silently; so the store is not opened and nothing is written to it.
type DamageError struct {
	Dir      string
	Problems []Problem
}

func (e *DamageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store: %s is damaged, so it was not opened and nothing was written to it: ", e.Dir)
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	b.WriteString(" (customs store verify reports everything; customs store repair copies what is readable into a new store and keeps this one aside)")
	return b.String()
}

// Is makes errors.Is(err, ErrDamaged) hold.
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

// badger's file layout (v4): the MANIFEST, tables NNNNNN.sst, write-ahead logs NNNNN.mem (one per
// memtable) and value-log files NNNNNN.vlog. Both log kinds start with a 20-byte header (data
// key ID and IV), then entries: a header (meta, user meta, then key length, value length and
// expiry as uvarints), the key and value (encrypted with the data key when the store is), and
// a big-endian CRC-32C of all that as written.
const (
	logHeaderSize   = 20
	entryHeaderMax  = 22
	maxEntryKey     = 1 << 16
	bitDelete       = 1 << 0
	bitValuePointer = 1 << 1
	bitFinTxn       = 1 << 7
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// logScan is what scanLog read in one write-ahead or value-log file.
type logScan struct {
	size    int64 // the file's size
	end     int64 // end of the last whole entry (its checksum matches) from the start
	entries int   // whole entries up to end
	// junk is the offset of the next whole entry past end, -1 if there is none. After a crash
	// (kill -9) a log ends with whole entries, then at most one entry cut short (a copy into
	// the mapped file interrupted, whose bytes need not have been stored in order) and zeros:
	// the cut entry is what badger truncates at its next open, and it was never acknowledged.
	// Whole entries past something unreadable were written after it: badger would truncate
	// them too, and lose flows that were acknowledged.
	junk int64
}

// scanLog walks the entries of a .mem or .vlog file by their framing and checksums only: it
// needs no key, as the checksums cover the encrypted bytes. limit bounds an entry's key and
// value when looking for whole entries past an unreadable one.
func scanLog(path string, limit int) (logScan, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return logScan{}, err
	}
	defer unmap()
	sc := logScan{size: int64(len(data)), end: int64(min(logHeaderSize, len(data))), junk: -1}
	off := int(sc.end)
	for off < len(data) {
		_, _, _, n, ok := decodeLogEntry(data[off:], nil, nil, 0, len(data))
		if !ok {
			break
		}
		off += n
		sc.entries++
	}
	sc.end = int64(off)
	if next := resync(data, off+1, nil, nil, limit); next < len(data) {
		sc.junk = int64(next)
	}
	return sc, nil
}

// storeFiles lists the badger files of dir by kind, each sorted by ID.
type storeFiles struct {
	tables, mems, vlogs []uint64
	manifest            bool
}

func listFiles(dir string) (storeFiles, error) {
	var fs storeFiles
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fs, err
	}
	for _, e := range ents {
		name := e.Name()
		if name == badger.ManifestFilename {
			fs.manifest = true
			continue
		}
		base, ext, ok := strings.Cut(name, ".")
		id, err := strconv.ParseUint(base, 10, 64)
		if !ok || err != nil {
			continue
		}
		switch ext {
		case "sst":
			fs.tables = append(fs.tables, id)
		case "mem":
			fs.mems = append(fs.mems, id)
		case "vlog":
			fs.vlogs = append(fs.vlogs, id)
		}
	}
	slices.Sort(fs.tables)
	slices.Sort(fs.mems)
	slices.Sort(fs.vlogs)
	return fs, nil
}

func tableName(id uint64) string { return fmt.Sprintf("%06d.sst", id) }
func memName(id uint64) string   { return fmt.Sprintf("%05d.mem", id) }
func vlogName(id uint64) string  { return fmt.Sprintf("%06d.vlog", id) }

// checkLevel says how much of the store checkFiles reads.
type checkLevel int

const (
	// checkOpen is what Open reads before badger may write: the MANIFEST, every table (every
	// block, checksums verified), every write-ahead log and the last value-log file (the ones
	// badger replays and truncates at open).
	checkOpen checkLevel = iota
	// checkAll also reads every value-log file (store verify).
	checkAll
)

// fileCheck is what checkFiles found.
type fileCheck struct {
	problems []Problem
	// notes are findings that are not damage: tables a crash left behind mid-compaction
	// (badger deletes them at open), the torn tail of a log cut by a crash.
	notes    []string
	manifest *badger.Manifest
	files    storeFiles
	tables   int    // tables read
	keys     uint64 // keys in them
	entries  int    // log entries read
}

// checkFiles reads a store's files without opening it. It never writes.
func checkFiles(dir string, key []byte, level checkLevel, logger badgerLogger) (*fileCheck, error) {
	fc := &fileCheck{}
	files, err := listFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	fc.files = files
	problem := func(file string, off int64, format string, a ...any) {
		fc.problems = append(fc.problems, Problem{File: file, Offset: off, What: fmt.Sprintf(format, a...)})
	}
	if !files.manifest {
		if len(files.tables) > 0 {
			problem(badger.ManifestFilename, -1, "missing while %d tables are present: badger would start an empty store and delete them", len(files.tables))
		}
	} else {
		m, err := readManifest(dir, logger)
		if err != nil {
			problem(badger.ManifestFilename, -1, "unreadable: %v", err)
		} else {
			fc.manifest = &m.Manifest
			if m.end < m.size {
				problem(badger.ManifestFilename, m.end, "%d bytes past the last whole change set are unreadable (the file has %d): badger would cut it there and delete the tables it no longer names",
					m.size-m.end, m.size)
			}
		}
	}
	onDisk := make(map[uint64]bool, len(files.tables))
	for _, id := range files.tables {
		onDisk[id] = true
	}
	var orphans []uint64
	manifestDamaged := len(fc.problems) > 0
	if fc.manifest != nil {
		// A MANIFEST cut short names tables that later change sets deleted: only an intact
		// one can miss a table.
		for _, id := range slices.Sorted(mapKeys(fc.manifest.Tables)) {
			if !onDisk[id] && !manifestDamaged {
				problem(tableName(id), -1, "named by the MANIFEST (level %d) but missing", fc.manifest.Tables[id].Level)
			}
		}
		for _, id := range files.tables {
			if _, ok := fc.manifest.Tables[id]; !ok {
				orphans = append(orphans, id)
			}
		}
	}
	if len(orphans) > 0 && manifestDamaged {
		problem(tableName(orphans[0]), -1, "this table and %d more are not named by the damaged MANIFEST: badger would delete them (and reuse their numbers)", len(orphans)-1)
	}

	// Every table the MANIFEST names, every block read and its checksum verified: a damaged
	// block would otherwise end badger's iterators early, silently — and a compaction reading
	// it would write the table again without the keys past it.
	if fc.manifest != nil {
		kr, err := openRegistry(dir, key)
		if err != nil {
			return nil, err
		}
		tr := newTableReader(kr)
		defer tr.close()
		ids := slices.Sorted(mapKeys(fc.manifest.Tables))
		type result struct {
			keys uint64
			err  error
		}
		results := make([]result, len(ids))
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for i, id := range ids {
			if !onDisk[id] {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				tm := fc.manifest.Tables[id]
				n, err := tr.verify(filepath.Join(dir, tableName(id)), tm.KeyID, tm.Compression, level == checkAll)
				results[i] = result{n, err}
			}()
		}
		wg.Wait()
		for i, id := range ids {
			if !onDisk[id] {
				continue
			}
			fc.tables++
			fc.keys += results[i].keys
			if err := results[i].err; err != nil {
				problem(tableName(id), -1, "unreadable table (level %d): %v", fc.manifest.Tables[id].Level, err)
			}
		}
	}

	// Tables the intact-looking MANIFEST does not name: a crash's leftovers, or the trace of a
	// MANIFEST cut at a change set's boundary (see orphans.go).
	if len(orphans) > 0 && !manifestDamaged {
		kr, err := openRegistry(dir, key)
		if err != nil {
			return nil, err
		}
		tr := newTableReader(kr)
		found, err := uniqueKeys(dir, fc.manifest, tr, orphans)
		tr.close()
		if err != nil {
			return nil, err
		}
		var lost []uint64
		for _, id := range orphans {
			switch o := found[id]; {
			case o.unreadable != nil:
				problem(tableName(id), -1, "not named by the MANIFEST, and unreadable (%v): badger would delete it", o.unreadable)
				lost = append(lost, id)
			case o.unique > 0:
				problem(tableName(id), -1, "not named by the MANIFEST, and %d of its %d keys are in no other table or log (the first: %s): the MANIFEST lost its last changes, and badger would delete this table",
					o.unique, o.keys, describeKey(o.first))
				lost = append(lost, id)
			}
		}
		if len(lost) == 0 {
			fc.notes = append(fc.notes, fmt.Sprintf("%d tables not named by the MANIFEST (%s…), whose every key is in another table or a write-ahead log: left by a compaction or flush a crash interrupted; badger deletes them at open",
				len(orphans), tableName(orphans[0])))
		}
	}

	// The logs badger replays (and truncates) at open: every write-ahead log and the last
	// value-log file. Older value-log files are only read for values; store verify reads them.
	type log struct {
		name, what string
		limit      int
	}
	var logs []log
	for _, id := range files.mems {
		logs = append(logs, log{memName(id), "write-ahead log", walEntryMax})
	}
	for i, id := range files.vlogs {
		if level == checkAll || i == len(files.vlogs)-1 {
			logs = append(logs, log{vlogName(id), "value log", vlogEntryMax})
		}
	}
	for _, l := range logs {
		sc, err := scanLog(filepath.Join(dir, l.name), l.limit)
		if err != nil {
			problem(l.name, -1, "unreadable %s: %v", l.what, err)
			continue
		}
		fc.entries += sc.entries
		if sc.junk >= 0 {
			problem(l.name, sc.end, "%s unreadable here, and whole entries follow from byte %d: badger would truncate the file at byte %d and lose every entry after it",
				l.what, sc.junk, sc.end)
		}
	}
	return fc, nil
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

type manifestRead struct {
	badger.Manifest
	end, size int64
}

// readManifest replays the MANIFEST read-only: end is where its last whole change set ends.
func readManifest(dir string, logger badgerLogger) (m manifestRead, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("badger panicked reading it: %v", r)
		}
	}()
	f, err := os.Open(filepath.Join(dir, badger.ManifestFilename))
	if err != nil {
		return m, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return m, err
	}
	m.size = st.Size()
	m.Manifest, m.end, err = badger.ReplayManifestFile(f, 0, badger.DefaultOptions("").WithLogger(logger))
	return m, err
}

// openRegistry reads KEYREGISTRY (the data keys, wrapped by the store key) without writing it.
func openRegistry(dir string, key []byte) (*badger.KeyRegistry, error) {
	kr, err := badger.OpenKeyRegistry(badger.KeyRegistryOptions{Dir: dir, ReadOnly: true, EncryptionKey: key})
	if err != nil {
		if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			if len(key) == 0 {
				return nil, fmt.Errorf("%w: %s", ErrEncrypted, dir)
			}
			return nil, fmt.Errorf("%w: %s was created with a different key (is store.key the file it was created with?)", ErrWrongKey, dir)
		}
		return nil, fmt.Errorf("store: %s: key registry: %w", dir, err)
	}
	return kr, nil
}

// tableReader opens badger tables read-only, outside badger.
type tableReader struct {
	kr     *badger.KeyRegistry
	icache *ristretto.Cache[uint64, *fb.TableIndex] // encrypted tables keep their decrypted index here
}

func newTableReader(kr *badger.KeyRegistry) *tableReader {
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *fb.TableIndex]{NumCounters: 1 << 14, MaxCost: 64 << 20, BufferItems: 64})
	if err != nil {
		panic(err) // a fixed, valid configuration
	}
	return &tableReader{kr: kr, icache: c}
}

func (tr *tableReader) close() { tr.icache.Close() }

// open maps the table at path read-only. The table's reference count must never reach zero:
// badger deletes a table's file then. Callers close it with closeTable.
func (tr *tableReader) open(path string, keyID uint64, c options.CompressionType) (t *table.Table, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("its index or footer is unreadable (badger panicked opening it: %s)", lastLine(fmt.Sprint(r)))
		}
	}()
	dk, err := tr.kr.DataKey(keyID)
	if err != nil {
		return nil, err
	}
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	t, err = table.OpenTable(mf, table.Options{ReadOnly: true, ChkMode: options.OnBlockRead, BlockSize: 4 << 10,
		BloomFalsePositive: 0.01, Compression: c, DataKey: dk, IndexCache: tr.icache})
	if err != nil {
		// OpenTable closes the file itself only on the errors it meets before reading the index.
		_ = mf.Close(-1)
		return nil, err
	}
	if dk != nil {
		// An encrypted table's index is decrypted on every lookup that misses the index cache,
		// and the cache applies a set asynchronously: put it there once, and wait for it
		// (without this, checking a 1M-flow store's blocks spent most of its time decrypting
		// indexes again).
		t.KeySplits(1, nil)
		tr.icache.Wait()
	}
	return t, nil
}

func closeTable(t *table.Table) { _ = t.MmapFile.Close(-1) }

// verify reads every block of the table — decrypted, decompressed, its checksum verified —
// by seeking to each block's first key, as the table's index has it: one step per block, not
// per key (every key, at 1M flows, took 6 s; every block 1). With keys, it also walks every
// key and counts them against the index (store verify).
func (tr *tableReader) verify(path string, keyID uint64, c options.CompressionType, keys bool) (n uint64, err error) {
	t, err := tr.open(path, keyID, c)
	if err != nil {
		return 0, err
	}
	defer closeTable(t)
	var bad []tableBlock
	if keys {
		n = walkTable(t, func([]byte, y.ValueStruct) {}, func(b tableBlock) { bad = append(bad, b) })
	} else {
		bad = checkBlocks(t)
		n = uint64(t.KeyCount())
	}
	switch {
	case len(bad) > 0:
		return n, fmt.Errorf("%d of its blocks unreadable (the first: block %d, keys from %s)", len(bad), bad[0].index, describeKey(bad[0].firstKey))
	case n != uint64(t.KeyCount()):
		return n, fmt.Errorf("%d keys read, its index says %d", n, t.KeyCount())
	}
	return n, nil
}

// checkBlocks reads every block of t by seeking to its first key, and returns those that do
// not read back.
func checkBlocks(t *table.Table) (bad []tableBlock) {
	splits := t.KeySplits(1<<30, nil)
	it := t.NewIterator(table.NOCACHE)
	defer it.Close() // back to one reference: the file stays
	for i, first := range splits {
		ok := func() (ok bool) {
			defer func() {
				if r := recover(); r != nil {
					ok = false
				}
			}()
			it.Seek([]byte(first))
			return it.Valid() && bytes.Equal(it.Key(), []byte(first))
		}()
		if !ok {
			bad = append(bad, tableBlock{index: i, firstKey: y.ParseKey([]byte(first))})
		}
	}
	return bad
}

// tableBlock names a block of a table that could not be read.
type tableBlock struct {
	index    int
	firstKey []byte // its first key (without version), as the table's index has it
}

// walkTable calls fn for every key of t it can read, block by block: a block that cannot be
// read (checksum, decryption, decompression, a panic inside badger) is passed to bad and the
// walk goes on at the next one. It returns the number of keys read. fn's slices are valid
// during the call only.
func walkTable(t *table.Table, fn func(key []byte, vs y.ValueStruct), bad func(tableBlock)) uint64 {
	// The first key of every block, from the table's index: where the walk resumes.
	var splits [][]byte
	for _, k := range t.KeySplits(1<<30, nil) {
		splits = append(splits, []byte(k))
	}
	it := t.NewIterator(table.NOCACHE)
	defer it.Close() // back to one reference: the file stays
	blockOf := func(key []byte) int {
		i, found := slices.BinarySearchFunc(splits, key, y.CompareKeys)
		if found {
			return i
		}
		return i - 1
	}
	// safe runs one iterator step and reads the key it lands on; a panic is a bad block.
	var key []byte
	var vs y.ValueStruct
	safe := func(move func()) (ok bool) {
		defer func() {
			if r := recover(); r != nil {
				ok = false
			}
		}()
		move()
		if !it.Valid() {
			return false
		}
		key, vs = it.Key(), it.Value()
		return true
	}
	var n uint64
	ok := safe(it.Rewind)
	for block := 0; ; {
		last := -1
		for ok {
			last = blockOf(key)
			fn(key, vs)
			n++
			ok = safe(it.Next)
		}
		if last >= len(splits)-1 {
			return n // the walk went through the last block
		}
		// It stopped early: the block after the last key read (or the one sought) is bad.
		if last >= 0 {
			block = last + 1
		}
		bad(tableBlock{index: block, firstKey: y.ParseKey(splits[block])})
		if block++; block >= len(splits) {
			return n
		}
		ok = safe(func() { it.Seek(splits[block]) })
	}
}

// lastLine is the last line of a panic's message: badger's own recovery in table.OpenTable
// prints the table's vitals first, and the cause last.
func lastLine(s string) string {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "== Recovered =="))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// checkBeforeOpen runs checkFiles under the directory's lock, before badger opens the store.
func checkBeforeOpen(opts Options) error {
	unlock, err := lockDir(opts.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	log := opts.Logger.With().Str("component", "store").Logger()
	fc, err := checkFiles(opts.Dir, opts.Key, checkOpen, badgerLogger{log})
	if err != nil {
		return err
	}
	if len(fc.problems) > 0 {
		return &DamageError{Dir: opts.Dir, Problems: fc.problems}
	}
	for _, n := range fc.notes {
		log.Info().Str("dir", opts.Dir).Msg("store: " + n)
	}
	return nil
}
