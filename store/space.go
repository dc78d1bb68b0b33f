package store

import (
	"errors"
	"fmt"
)

// ErrDiskFull: the disk holding the store has less free space than the store's reserve
// (Options.MinFreeBytes); the flow was not recorded.
var ErrDiskFull = errors.New("store: disk nearly full; flow not recorded")

// The free-space reserve.
//
// badger writes its value log, its write-ahead log and its tables through memory-mapped files
// that it extends sparsely: a write into such a file on a full disk is not an error badger can
// return but a SIGBUS that kills the process (measured on tmpfs and ext4). So the store never
// lets the disk fill: before each batch the writer checks that the disk keeps MinFreeBytes free
// once the batch is written, and drops the batch (counted in Stats.Dropped, logged) when it
// would not. While the disk is below the reserve, Record drops at once and value-log GC does not
// run; the writer looks at the disk again every second and records again when space is back
// (with a margin of an eighth of the reserve, so that it does not flap at the boundary).
//
// The reserve is what badger may still write after the last check passed, and it must cover:
// the memtables waiting to be flushed into tables (the flushed write-ahead log is deleted only
// after its table is written), a compaction (new tables are written before the old ones go),
// and a value-log GC rewrite (up to half a value-log file is copied before the old file is
// deleted). defaultMinFree (Options) is sized for the default options, and reserveFloor is what
// the sizing options in use require; see the package documentation for the measurements.

// reserveFloor is the least reserve that covers what badger can write between two checks with
// these options: every memtable flushed, a compaction of L0 into the base level, and half a
// value-log file copied by GC.
func (o *Options) reserveFloor() int64 {
	return int64(numMemtables)*o.MemTableSize + // memtables flushed to L0 tables
		int64(numLevelZeroTables)*o.MemTableSize + baseLevelSize + // L0 → L1 compaction output
		o.ValueLogFileSize/2 // value-log GC rewrite
}

// diskRoom says whether need more bytes can be written while keeping the reserve free, and
// moves the store in and out of the low-disk state. The writer calls it before each batch and,
// while the disk is low, every second.
func (s *Store) diskRoom(need int64) bool {
	if s.opts.MinFreeBytes <= 0 {
		return true
	}
	free, ok := (*s.freeSpace.Load())(s.opts.Dir)
	if !ok {
		return true // no statfs on this platform: nothing to go by
	}
	s.free.Store(free)
	reserve := s.opts.MinFreeBytes
	if s.diskLow.Load() {
		reserve += s.opts.MinFreeBytes / 8 // resume with a margin, not at the boundary
	}
	if free >= reserve+need {
		if s.diskLow.CompareAndSwap(true, false) {
			s.log.Warn().Str("dir", s.opts.Dir).Str("free", mib(free)).Str("reserve", mib(s.opts.MinFreeBytes)).
				Uint64("dropped_total", s.dropped.Load()).
				Msg("store: disk space is back; recording flows again")
		}
		return true
	}
	s.dropLog.note(fmt.Sprintf("disk nearly full: %s free, reserve %s", mib(free), mib(s.opts.MinFreeBytes)))
	if !s.diskLow.Swap(true) {
		s.log.Error().Str("dir", s.opts.Dir).Str("free", mib(free)).Str("reserve", mib(s.opts.MinFreeBytes)).
			Msg("store: disk nearly full; flows are dropped (counted) until space is freed: the proxy keeps serving")
	}
	return false
}

// maintenanceRoom says whether value-log GC may run: it copies up to half a value-log file
// before deleting the old one, out of the reserve, so it does not start below it, nor while
// recording is paused for lack of space.
func (s *Store) maintenanceRoom() bool {
	if s.opts.MinFreeBytes <= 0 {
		return true
	}
	if s.diskLow.Load() {
		return false
	}
	free, ok := (*s.freeSpace.Load())(s.opts.Dir)
	return !ok || free >= s.opts.MinFreeBytes
}
