package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
)

// Tables on disk that the MANIFEST does not name are of two kinds, and badger deletes both at
// open. A compaction or a memtable flush that a crash interrupted writes its tables before the
// MANIFEST names them: every key such a table holds is still in the tables it was compacted
// from (which the MANIFEST still names) or in the write-ahead log it was flushed from (deleted
// only after the MANIFEST names the table) — deleting it loses nothing. A MANIFEST that lost
// its last change sets — cut at a change set's boundary, it even reads back whole — leaves
// tables holding keys found nowhere else: deleting those loses flows. uniqueKeys tells them
// apart.

// openUnnamed opens a table the MANIFEST does not name, whose data key and compression are
// therefore unknown: each data key of the registry is tried, with the compression customs
// uses and without, until one reads every block and key.
func (tr *tableReader) openUnnamed(path string) (*table.Table, error) {
	var lastErr error
	for k := uint64(0); ; k++ {
		if _, err := tr.kr.DataKey(k); err != nil {
			break // past the registry's last key (0 is no key: a plain store)
		}
		for _, c := range []options.CompressionType{options.Snappy, options.None} {
			t, err := tr.open(path, k, c)
			if err != nil {
				lastErr = err
				continue
			}
			var bad int
			n := walkTable(t, func([]byte, y.ValueStruct) {}, func(tableBlock) { bad++ })
			if bad == 0 && n == uint64(t.KeyCount()) {
				return t, nil
			}
			closeTable(t)
			lastErr = fmt.Errorf("no data key reads it whole")
		}
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("no data key to read it with")
	}
	return nil, lastErr
}

// uniqueKeys returns, for each orphan table, how many of its keys (key and version) are in
// no table the MANIFEST names and no write-ahead log, and the first of them.
func uniqueKeys(dir string, m *badger.Manifest, tr *tableReader, orphans []uint64) (map[uint64]orphanKeys, error) {
	// Where a key may be: the write-ahead logs' keys, and the named tables by level.
	wal, err := walKeys(dir, tr.kr)
	if err != nil {
		return nil, err
	}
	type named struct {
		t  *table.Table
		it *table.Iterator
	}
	levels := map[int][]named{}
	defer func() {
		for _, ts := range levels {
			for _, n := range ts {
				n.it.Close()
				closeTable(n.t)
			}
		}
	}()
	for id, tm := range m.Tables {
		t, err := tr.open(filepath.Join(dir, tableName(id)), tm.KeyID, tm.Compression)
		if err != nil {
			continue // reported as unreadable by checkFiles
		}
		levels[int(tm.Level)] = append(levels[int(tm.Level)], named{t, t.NewIterator(table.NOCACHE)})
	}
	for l, ts := range levels {
		slices.SortFunc(ts, func(a, b named) int { return y.CompareKeys(a.t.Smallest(), b.t.Smallest()) })
		levels[l] = ts
	}
	has := func(key []byte) (found bool) {
		if wal[string(key)] {
			return true
		}
		defer func() {
			if r := recover(); r != nil {
				found = false // a damaged named table: reported as such by checkFiles
			}
		}()
		for l, ts := range levels {
			cands := ts
			if l > 0 { // tables of a level below 0 do not overlap: at most one holds the key
				i, _ := slices.BinarySearchFunc(ts, key, func(n named, k []byte) int { return y.CompareKeys(n.t.Smallest(), k) })
				if i < len(ts) && y.CompareKeys(ts[i].t.Smallest(), key) == 0 {
					cands = ts[i : i+1]
				} else if i > 0 {
					cands = ts[i-1 : i]
				} else {
					continue
				}
			}
			for _, n := range cands {
				if y.CompareKeys(key, n.t.Smallest()) < 0 || y.CompareKeys(key, n.t.Biggest()) > 0 {
					continue
				}
				n.it.Seek(key)
				if n.it.Valid() && bytes.Equal(n.it.Key(), key) {
					return true
				}
			}
		}
		return false
	}
	out := map[uint64]orphanKeys{}
	for _, id := range orphans {
		t, err := tr.openUnnamed(filepath.Join(dir, tableName(id)))
		if err != nil {
			out[id] = orphanKeys{unreadable: err}
			continue
		}
		var ok orphanKeys
		walkTable(t, func(k []byte, _ y.ValueStruct) {
			ok.keys++
			if bytes.HasPrefix(k, badgerPrefix) || has(k) {
				return
			}
			if ok.unique == 0 {
				ok.first = bytes.Clone(y.ParseKey(k))
			}
			ok.unique++
		}, func(tableBlock) {})
		closeTable(t)
		out[id] = ok
	}
	return out, nil
}

type orphanKeys struct {
	keys, unique uint64
	first        []byte
	unreadable   error
}

// walKeys is every key (with its version) the write-ahead logs hold whole.
func walKeys(dir string, kr *badger.KeyRegistry) (map[string]bool, error) {
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for _, id := range files.mems {
		data, err := os.ReadFile(filepath.Join(dir, memName(id)))
		if err != nil || len(data) <= logHeaderSize {
			continue
		}
		dk, err := kr.DataKey(binary.BigEndian.Uint64(data[:8]))
		if err != nil {
			continue
		}
		iv := data[8:logHeaderSize]
		for off := logHeaderSize; off < len(data); {
			_, k, _, n, ok := decodeLogEntry(data[off:], dk, iv, uint32(off), walEntryMax)
			if !ok {
				off = resync(data, off+1, dk, iv, walEntryMax)
				continue
			}
			keys[string(k)] = true
			off += n
		}
	}
	return keys, nil
}
