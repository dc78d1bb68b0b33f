package store

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// gcDiscardRatio: a value-log file is rewritten when at least this share of it is garbage.
const gcDiscardRatio = 0.5

// RunRetention enforces retention and the size budget, then collects value-log garbage:
//
//  1. days whose every flow is older than Retention are dropped whole, by key prefix;
//  2. if Dir takes more than MaxBytes on disk, the oldest days are dropped until the days kept
//     are estimated to fit in 98% of it (the newest day is never dropped);
//  3. value-log files that are at least half garbage are rewritten without it, and files that
//     are all garbage deleted (the active file never is).
//
// It returns the number of days dropped. The GC timer (GCInterval) calls it; writes wait while
// a drop runs (Record keeps queueing, and drops once the queue is full).
func (s *Store) RunRetention(now time.Time) (daysDropped int, err error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.closing.Load() {
		return 0, ErrClosed
	}
	s.maintMu.Lock()
	defer s.maintMu.Unlock()
	err = s.guard("running retention", func() error {
		var err error
		daysDropped, err = s.runRetention(now)
		return err
	})
	return daysDropped, err
}

func (s *Store) runRetention(now time.Time) (daysDropped int, err error) {
	days, err := s.days()
	if err != nil {
		return 0, err
	}
	var drop []uint32
	if s.opts.Retention > 0 {
		// A day is expired when its last instant is older than the retention period.
		keepFrom := dayOf(now.Add(-s.opts.Retention))
		for len(days) > 0 && days[0] < keepFrom {
			drop = append(drop, days[0])
			days = days[1:]
		}
	}
	if err := s.dropDays(drop); err != nil {
		return 0, err
	}
	if len(drop) > 0 {
		s.log.Info().Int("days", len(drop)).Str("oldest_kept", keptFrom(days)).Msg("store: retention dropped expired days")
		s.gcValueLog()
	}
	n, err := s.enforceBudget(days)
	if err != nil {
		return len(drop) + n, err
	}
	s.gcValueLog()
	s.refreshDisk()
	return len(drop) + n, nil
}

func keptFrom(days []uint32) string {
	if len(days) == 0 {
		return ""
	}
	return dayStart(days[0]).Format(time.DateOnly)
}

func (s *Store) enforceBudget(days []uint32) (int, error) {
	if s.opts.MaxBytes <= 0 {
		return 0, nil
	}
	before := diskUsage(s.opts.Dir)
	if before <= s.opts.MaxBytes {
		return 0, nil
	}
	// Garbage first: what GC frees needs no day dropped.
	s.gcValueLog()
	if before = diskUsage(s.opts.Dir); before <= s.opts.MaxBytes {
		return 0, nil
	}
	first, dropped := before, 0
	// Estimates of a day's size miss what value-log GC cannot reclaim at once (files less than
	// half garbage stay), so the disk is measured again after each round and the next oldest
	// day goes while it is still over — never the current day.
	for before > s.opts.MaxBytes {
		need := before - s.opts.MaxBytes + s.opts.MaxBytes/50 // 2% slack
		var drop []uint32
		for _, d := range days[dropped:max(len(days)-1, dropped)] {
			if need <= 0 {
				break
			}
			size, err := s.daySize(d)
			if err != nil {
				return dropped, err
			}
			drop = append(drop, d)
			need -= size
		}
		if len(drop) == 0 {
			if dropped == 0 {
				s.log.Warn().Int64("disk_bytes", before).Int64("max_bytes", s.opts.MaxBytes).
					Msg("store: over the size budget with only the current day left; nothing dropped")
			}
			break
		}
		if err := s.dropDays(drop); err != nil {
			return dropped, err
		}
		s.gcValueLog()
		dropped += len(drop)
		before = diskUsage(s.opts.Dir)
	}
	if dropped > 0 {
		s.log.Warn().Int("days", dropped).Str("oldest_kept", keptFrom(days[dropped:])).
			Int64("disk_bytes_before", first).Int64("disk_bytes_after", before).
			Int64("max_bytes", s.opts.MaxBytes).Msg("store: size budget dropped the oldest days")
	}
	return dropped, nil
}

// dropDays deletes every key of the given days.
//
// badger's DropPrefix removes a table that lies wholly under a dropped prefix without reading
// it, so the value-log space its keys pointed to is never counted as garbage and value-log GC
// never picks those files: dropping whole days by their 4-byte prefix frees the LSM tree but
// almost none of the value log (measured: 3% instead of 30% of a 1M-flow store). So the
// families whose values live in the value log (meta and body) are dropped by narrow time
// prefixes instead — day | family | the first 3, 4 or 5 bytes of the ULID's timestamp (4.7 h,
// 65 s, 256 ms), each holding at most dropChunk keys — which no table fits under: every
// table holding them is read, and its value pointers counted. The index families are dropped
// by their day | family prefix: their posting lists longer than 16 IDs do reach the value log
// (about 5% of a flow's bytes there), uncounted, which only makes GC see a dropped day's
// value-log files as slightly less garbage than they are. The outbox family goes first, counted
// (dropOutbox). A final drop of the bare day prefix removes anything else (nothing, today).
func (s *Store) dropDays(days []uint32) error {
	if len(days) == 0 {
		return nil
	}
	if err := s.dropOutbox(days); err != nil {
		return err
	}
	var index, rest [][]byte
	for _, d := range days {
		for _, fam := range indexFamilies {
			index = append(index, famPrefix(d, fam))
		}
		rest = append(rest, dayPrefix(d))
	}
	if err := s.dropPrefixes(index); err != nil {
		return fmt.Errorf("store: drop %d days: %w", len(days), err)
	}
	for _, d := range days {
		for _, fam := range []byte{famMeta, famBody} {
			prefixes, err := s.valuePrefixes(d, fam)
			if err != nil {
				return err
			}
			for len(prefixes) > 0 {
				n := min(len(prefixes), maxDropPrefixes)
				if err := s.dropPrefixes(prefixes[:n]); err != nil {
					return fmt.Errorf("store: drop day %s: %w", dayStart(d).Format(time.DateOnly), err)
				}
				prefixes = prefixes[n:]
			}
		}
	}
	if err := s.dropPrefixes(rest); err != nil {
		return fmt.Errorf("store: drop %d days: %w", len(days), err)
	}
	s.daysDropped.Add(uint64(len(days)))
	return nil
}

var indexFamilies = []byte{famVendor, famCategory, famClient, famUser, famDetector, famAction, famAPI, famHost}

// dropChunk is the most keys one value-family drop prefix may cover: well under the ~40k keys
// a 2 MiB table holds (measured), so no table fits under one prefix. (A variable for tests.)
var dropChunk = 16 << 10

const (
	// maxDropPrefixes bounds one DropPrefix call: badger checks every key it reads against
	// every prefix.
	maxDropPrefixes = 512
)

// valuePrefixes cuts day d's keys of family fam into prefixes of at most dropChunk keys each,
// coarse where flows are sparse and fine where they are dense: day | fam | ts[:3], split into
// ts[:4] and then ts[:5] when too full (ts: the ULID's 6-byte timestamp).
func (s *Store) valuePrefixes(d uint32, fam byte) ([][]byte, error) {
	base := len(famPrefix(d, fam))
	var out [][]byte
	// counts[k] counts keys under the current prefix of timestamp length 3+k; subs[k] holds
	// the finer prefixes of the current coarser one, should it be too full.
	var cur [3][]byte
	var counts [3]int
	var subs [2][][]byte
	// close ends the current prefix of level k (and, first, its finer ones).
	var closeLevel func(k int, into *[][]byte)
	closeLevel = func(k int, into *[][]byte) {
		if cur[k] == nil {
			return
		}
		if k < 2 {
			var finer [][]byte
			closeLevel(k+1, &finer)
			subs[k] = append(subs[k], finer...)
		}
		if counts[k] <= dropChunk || k == 2 {
			*into = append(*into, cur[k])
		} else {
			*into = append(*into, subs[k]...)
		}
		cur[k], counts[k] = nil, 0
		if k < 2 {
			subs[k] = subs[k][:0:0]
		}
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: famPrefix(d, fam)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			key := it.Item().Key()
			if len(key) < base+5 {
				continue
			}
			for k := range 3 {
				p := key[:base+3+k]
				if cur[k] != nil && bytes.Equal(cur[k], p) {
					counts[k]++
					continue
				}
				// A new prefix at level k: close the old one there (into its parent's list
				// of finer prefixes, or into out at level 0).
				if k == 0 {
					closeLevel(0, &out)
				} else {
					closeLevel(k, &subs[k-1])
				}
				cur[k], counts[k] = bytes.Clone(p), 1
			}
		}
		return nil
	})
	closeLevel(0, &out)
	return out, err
}

// dropPrefixes runs one DropPrefix, between two write batches.
func (s *Store) dropPrefixes(prefixes [][]byte) error {
	if len(prefixes) == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.db.DropPrefix(prefixes...)
}

// gcValueLog rewrites value-log files until none is worth it; it returns how many it rewrote.
func (s *Store) gcValueLog() int {
	n := 0
	for ; n < 10000; n++ {
		select {
		case <-s.stopMaint:
			return n
		default:
		}
		if !s.maintenanceRoom() {
			s.log.Warn().Msg("store: value-log GC skipped: the disk is below the free-space reserve")
			break
		}
		if err := s.db.RunValueLogGC(gcDiscardRatio); err != nil {
			break // badger.ErrNoRewrite: nothing left worth rewriting; ErrRejected: one already runs
		}
	}
	if n > 0 {
		s.log.Debug().Int("files", n).Msg("store: value-log GC rewrote files")
	}
	return n
}

// days lists the days holding flows, oldest first.
func (s *Store) days() ([]uint32, error) { return daysOf(s.db) }

// daysOf lists the days of db holding flows, oldest first, seeking from one day to the next
// (no value is read).
func daysOf(db *badger.DB) ([]uint32, error) {
	var days []uint32
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			d, ok := keyDay(it.Item().Key())
			if !ok {
				break
			}
			days = append(days, d)
			if d == ^uint32(0) {
				break
			}
			it.Seek(dayPrefix(d + 1))
		}
		return nil
	})
	return days, err
}

// daySize estimates the bytes a day holds (keys and values, before compression).
func (s *Store) daySize(d uint32) (int64, error) {
	var n int64
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: dayPrefix(d)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n += it.Item().EstimatedSize()
		}
		return nil
	})
	return n, err
}

// maintain runs RunRetention on the GC timer: first a minute after Open (or GCInterval if
// shorter), then every GCInterval.
func (s *Store) maintain() {
	defer close(s.maintDone)
	if s.opts.GCInterval < 0 {
		<-s.stopMaint
		return
	}
	t := time.NewTimer(min(time.Minute, s.opts.GCInterval))
	defer t.Stop()
	for {
		select {
		case <-s.stopMaint:
			return
		case <-t.C:
		}
		if s.closing.Load() {
			return
		}
		if n, err := s.RunRetention(s.opts.Now()); err != nil {
			s.log.Error().Err(err).Msg("store: retention failed")
		} else if n > 0 {
			s.log.Info().Int("days_dropped", n).Msg("store: retention ran")
		}
		t.Reset(s.opts.GCInterval)
	}
}
