package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
)

// Report is what Verify or Repair found.
type Report struct {
	Dir string
	// Problems are damaged files and the places in them; Notes are findings that are not
	// damage (a crash's leftovers).
	Problems []Problem
	Notes    []string

	Tables     int    // tables read (every block, checksums verified)
	TableKeys  uint64 // keys in them
	LogEntries int    // write-ahead and value-log entries read

	Days         int // days holding flows
	Flows        int // flows whose metadata reads back
	Bodies       int // flows whose headers and bodies read back
	IndexEntries int
	Outbox       int // flows waiting for the fleet (outbox keys)
	// Unreadable counts keys found whose value does not read back; Lost lists them (the first
	// maxListed), as "family flow ID: why".
	Unreadable int
	Lost       []string
	// MissingBodies: flows whose metadata says they have bodies that are not there.
	// Dangling: flows whose metadata is lost while their bodies or index entries remain (the
	// flow is gone from queries; what remains still tells its vendor, client, ...).
	MissingBodies, Dangling int

	// Repair only: where the damaged store was kept, and how many keys were copied.
	KeptAt string
	Copied int
}

const maxListed = 50

// Damaged says whether anything was found that loses or risks flows.
func (r *Report) Damaged() bool {
	return len(r.Problems) > 0 || r.Unreadable > 0 || r.MissingBodies > 0 || r.Dangling > 0
}

func (r *Report) lost(format string, a ...any) {
	r.Unreadable++
	if len(r.Lost) < maxListed {
		r.Lost = append(r.Lost, fmt.Sprintf(format, a...))
	}
}

// Verify reads the whole store in opts.Dir — the MANIFEST, every table block, every entry of
// every log, then every flow and its body — and reports what it found. It needs the store to
// itself (ErrLocked while customs serve holds it). A store whose files are sound is opened as
// serve opens it and read key by key; a damaged one is never opened by badger (which would
// cut the damage away) but read file by file, as Repair would copy it.
func Verify(opts Options) (*Report, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := checkEncryption(opts.Dir, opts.Key); err != nil {
		return nil, err
	}
	unlock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	log := badgerLogger{opts.Logger.With().Str("component", "store").Logger()}
	fc, err := checkFiles(opts.Dir, opts.Key, checkAll, log)
	if err != nil {
		unlock()
		return nil, err
	}
	r := &Report{Dir: opts.Dir, Problems: fc.problems, Notes: fc.notes, Tables: fc.tables, TableKeys: fc.keys, LogEntries: fc.entries}
	if len(fc.problems) > 0 {
		defer unlock()
		err := countRaw(opts.Dir, opts.Key, fc, r, opts.Now(), opts.Retention)
		return r, err
	}
	unlock()
	o := opts
	o.GCInterval, o.skipChecks = -1, true
	s, err := Open(o)
	if err != nil {
		return r, err
	}
	err = s.audit(r)
	if cerr := s.Close(context.Background()); err == nil {
		err = cerr
	}
	return r, err
}

// countRaw counts what a damaged store still holds, reading its files directly as Repair
// would copy them.
func countRaw(dir string, key []byte, fc *fileCheck, r *Report, now time.Time, retention time.Duration) error {
	rr, err := newRawReader(dir, key, fc)
	if err != nil {
		return err
	}
	defer rr.close()
	flows, bodies := map[id]bool{}, map[id]bool{}
	pieces := map[id]bool{} // flows an index entry, a body or an outbox key names
	days := map[uint32]bool{}
	outbox := map[id]uint64{} // outbox keys, at their latest version
	count := func(e rawEntry) error {
		d, ok := keyDay(e.key)
		x, okID := keyID(e.key)
		if !ok || !okID {
			return nil
		}
		switch e.key[dayLen] {
		case famMeta:
			if flows[x] {
				return nil
			}
			var rec Record
			if _, err := decodeMeta(e.value, &rec); err != nil {
				r.lost("%s: %v", describeKey(e.key), err)
				return nil
			}
			flows[x], days[d] = true, true
		case famBody:
			if bodies[x] {
				return nil
			}
			var rec Record
			if err := decodeBody(e.value, &rec); err != nil {
				r.lost("%s: %v", describeKey(e.key), err)
				return nil
			}
			bodies[x], pieces[x] = true, true
		case famOutbox:
			// Counted once the deletions of every file are known.
			if x, ok := outboxKeyID(e.key); ok {
				outbox[x] = max(outbox[x], e.version)
			}
		default:
			if !isIndexFamily(e.key[dayLen]) {
				pieces[x] = true
				return nil
			}
			xs, err := appendPostingIDs(nil, e.key, e.value)
			if err != nil {
				r.lost("%s: %v", describeKey(e.key), err)
				return nil
			}
			for _, x := range xs {
				pieces[x] = true
			}
		}
		return nil
	}
	err = rr.eachIndexed(count)
	if err == nil {
		want := salvageFilter(days, now, retention, func(k []byte) bool {
			x, _ := keyID(k)
			return (k[dayLen] == famMeta && flows[x]) || (k[dayLen] == famBody && bodies[x])
		})
		err = rr.eachUnindexed(count, want)
	}
	r.Problems = append(r.Problems, rr.problems...)
	for _, k := range slices.Sorted(mapKeys(rr.failed)) {
		x, ok := keyID([]byte(k))
		if ok && len(k) > dayLen && ((k[dayLen] == famMeta && flows[x]) || (k[dayLen] == famBody && bodies[x])) {
			continue // read from another copy
		}
		r.lost("%s: %s", describeKey([]byte(k)), rr.failed[k])
	}
	r.Flows, r.Bodies, r.Days = len(flows), len(bodies), len(days)
	for x, v := range outbox {
		if !rr.sentAfter(x, v) {
			r.Outbox++
			pieces[x] = true
		}
	}
	for x := range pieces {
		if !flows[x] {
			r.Dangling++
		}
	}
	return err
}

// dropSent deletes the outbox keys copied from rr that a later deletion there had removed.
func (s *Store) dropSent(rr *rawReader, outbox map[id]uint64) error {
	wb := s.db.NewWriteBatch()
	for x, v := range outbox {
		if rr.sentAfter(x, v) {
			if err := wb.Delete(recordKey(famOutbox, x)); err != nil {
				wb.Cancel()
				return fmt.Errorf("remove outbox entries already sent: %w", err)
			}
		}
	}
	return wb.Flush()
}

// salvageFilter says which keys the value-log pass of a salvage takes: flow keys not read
// already (have), of days no older than the oldest day the tables and logs hold — older days
// were dropped by retention or the size budget, and their values wait in the value log for
// GC — and not past retention.
func salvageFilter(days map[uint32]bool, now time.Time, retention time.Duration, have func([]byte) bool) func([]byte) bool {
	oldest := uint32(0)
	if len(days) > 0 {
		oldest = slices.Min(slices.Collect(mapKeys(days)))
	}
	if retention > 0 {
		oldest = max(oldest, dayOf(now.Add(-retention)))
	}
	return func(k []byte) bool {
		d, ok := keyDay(k)
		if !ok || d < oldest || len(k) != dayLen+1+idLen || (k[dayLen] != famMeta && k[dayLen] != famBody) {
			return false
		}
		return !have(k)
	}
}

// audit reads every key of an open store: every flow's metadata and body, every index entry,
// each checked against the flow it points to.
func (s *Store) audit(r *Report) error {
	days, err := s.days()
	if err != nil {
		return err
	}
	r.Days = len(days)
	for _, d := range days {
		if err := s.guard("verifying", func() error { return s.auditDay(d, r) }); err != nil {
			if !errors.Is(err, ErrUnreadable) {
				return err
			}
			r.lost("%s: %v", dayStart(d).Format("2006-01-02"), err)
		}
	}
	return nil
}

func (s *Store) auditDay(d uint32, r *Report) error {
	return s.db.View(func(txn *badger.Txn) error {
		// The day's flows first: index entries and bodies are checked against them.
		flows := map[id]bool{}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: famPrefix(d, famMeta)})
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			x, _ := keyID(item.Key())
			var rec Record
			var hasBody bool
			err := item.Value(func(v []byte) error {
				var err error
				hasBody, err = decodeMeta(v, &rec)
				return err
			})
			if err != nil {
				r.lost("%s: %v", describeKey(item.KeyCopy(nil)), err)
				continue
			}
			flows[x] = hasBody
			r.Flows++
		}
		it.Close()
		bodies := map[id]bool{}
		orphans := map[id]string{} // flows without metadata, and what remains of them
		it = txn.NewIterator(badger.IteratorOptions{Prefix: dayPrefix(d)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			x, ok := keyID(k)
			if !ok || len(k) <= dayLen {
				continue
			}
			switch k[dayLen] {
			case famMeta:
			case famBody:
				var rec Record
				if err := item.Value(func(v []byte) error { return decodeBody(v, &rec) }); err != nil {
					r.lost("%s: %v", describeKey(item.KeyCopy(nil)), err)
					continue
				}
				bodies[x] = true
				r.Bodies++
				if _, ok := flows[x]; !ok {
					orphans[x] = "its bodies"
				}
			case famOutbox:
				// Written with the metadata and dropped before it: without it, the metadata
				// was lost.
				r.Outbox++
				if _, ok := flows[x]; !ok && orphans[x] == "" {
					orphans[x] = "its outbox entry"
				}
			default:
				var xs []id
				err := item.Value(func(v []byte) error {
					var err error
					xs, err = appendPostingIDs(nil, k, v)
					return err
				})
				if err != nil {
					r.lost("%s: %v", describeKey(item.KeyCopy(nil)), err)
					continue
				}
				for _, x := range xs {
					r.IndexEntries++
					if dayOfID(x) != d {
						r.lost("%s: flow %s of another day", describeKey(item.KeyCopy(nil)), ulid.ULID(x))
					}
					if _, ok := flows[x]; !ok && orphans[x] == "" {
						orphans[x] = "index entries"
					}
				}
			}
		}
		for _, x := range slices.SortedFunc(mapKeys(orphans), func(a, b id) int { return bytes.Compare(a[:], b[:]) }) {
			r.Dangling++
			if r.Dangling <= maxListed {
				r.Lost = append(r.Lost, fmt.Sprintf("flow %s: metadata lost (%s remain)", ulid.ULID(x), orphans[x]))
			}
		}
		for x, hasBody := range flows {
			if hasBody && !bodies[x] {
				r.MissingBodies++
				if r.MissingBodies <= maxListed {
					r.Lost = append(r.Lost, fmt.Sprintf("flow %s: its bodies are missing", ulid.ULID(x)))
				}
			}
		}
		return nil
	})
}

// Repair copies everything readable in the store in opts.Dir into a new store in out (which
// must not exist, or be empty), encrypted with the same key, and reports what it copied and
// what could not be read. The damaged store is only read: badger never opens it. Like Verify,
// it needs the store to itself.
func Repair(opts Options, out string) (*Report, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("store: repair: %s is not empty", out)
	}
	if err := checkEncryption(opts.Dir, opts.Key); err != nil {
		return nil, err
	}
	unlock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	log := badgerLogger{opts.Logger.With().Str("component", "store").Logger()}
	fc, err := checkFiles(opts.Dir, opts.Key, checkAll, log)
	if err != nil {
		return nil, err
	}
	r := &Report{Dir: opts.Dir, Problems: fc.problems, Notes: fc.notes, Tables: fc.tables, TableKeys: fc.keys, LogEntries: fc.entries}
	rr, err := newRawReader(opts.Dir, opts.Key, fc)
	if err != nil {
		return nil, err
	}
	defer rr.close()

	o := opts
	o.Dir, o.GCInterval = out, -1
	dst, err := Open(o)
	if err != nil {
		return r, fmt.Errorf("store: repair: %w", err)
	}
	closeDst := func() error { return dst.Close(context.Background()) }
	if err := dst.copyFrom(rr, r, opts.Now(), opts.Retention); err != nil {
		closeDst()
		return r, fmt.Errorf("store: repair: %w", err)
	}
	// What the new store holds, and what is missing from it.
	if err := dst.audit(r); err != nil {
		closeDst()
		return r, err
	}
	return r, closeDst()
}

// copyFrom writes everything rr reads into s: the keys the tables and logs hold, then the
// values only the value log still has, then every flow's index entries again, derived from
// its metadata (an index entry lost with a table would otherwise hide its flow from queries).
//
// Outbox keys are carried over, so that the flows the fleet had not received still reach it;
// those Sent had removed are removed again (rr notes the deletions). A key whose deletion was
// lost with a file comes back, and its flow is published twice, which at-least-once allows.
func (s *Store) copyFrom(rr *rawReader, r *Report, now time.Time, retention time.Duration) error {
	days := map[uint32]bool{}
	outbox := map[id]uint64{} // outbox keys copied, at their latest version
	put := func(batch func(set func(k, v []byte) error) error) error {
		wb := s.db.NewWriteBatch()
		if err := batch(wb.Set); err != nil {
			wb.Cancel()
			return err
		}
		return wb.Flush()
	}
	copyEntry := func(set func(k, v []byte) error) func(rawEntry) error {
		return func(e rawEntry) error {
			if bytes.Equal(e.key, schemaKey) {
				return nil // the new store has its own
			}
			if d, ok := keyDay(e.key); ok {
				days[d] = true
			}
			if x, ok := outboxKeyID(e.key); ok {
				outbox[x] = max(outbox[x], e.version)
			}
			r.Copied++
			return set(e.key, e.value)
		}
	}
	if err := put(func(set func(k, v []byte) error) error { return rr.eachIndexed(copyEntry(set)) }); err != nil {
		return err
	}
	have := func(k []byte) bool {
		err := s.db.View(func(txn *badger.Txn) error { _, err := txn.Get(k); return err })
		return err == nil
	}
	if err := put(func(set func(k, v []byte) error) error {
		return rr.eachUnindexed(copyEntry(set), salvageFilter(days, now, retention, have))
	}); err != nil {
		return err
	}
	if err := s.dropSent(rr, outbox); err != nil {
		return err
	}
	r.Problems = append(r.Problems, rr.problems...)
	for _, k := range slices.Sorted(mapKeys(rr.failed)) {
		if !have([]byte(k)) {
			r.lost("%s: %s", describeKey([]byte(k)), rr.failed[k])
		}
	}
	// The indexes, from the metadata, as posting lists of at most postingMax IDs, written
	// every rebuildEntries index entries to bound memory. A rebuilt posting may replace a copied one
	// with the same largest ID: the flows of the copied one that have metadata are in the
	// rebuilt lists, and the others are found by no query anyway.
	const rebuildEntries = 1 << 16
	return put(func(set func(k, v []byte) error) error {
		var ps postingSet
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				k := item.Key()
				x, ok := keyID(k)
				if !ok || k[0] == sysPrefix || k[dayLen] != famMeta || len(k) != dayLen+1+idLen {
					continue
				}
				var rec Record
				if err := item.Value(func(v []byte) error { _, err := decodeMeta(v, &rec); return err }); err != nil {
					continue // counted by the audit
				}
				rec.eachIndexPrefix(x, func(p []byte) { ps.add(p, x) })
				if ps.n >= rebuildEntries {
					if err := ps.each(set); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return ps.each(set)
	})
}
