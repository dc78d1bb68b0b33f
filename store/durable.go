package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/customs-dev/customs/flow"
)

// ErrDurableTimeout: RecordDurable gave up waiting; the flow may still be written.
var ErrDurableTimeout = errors.New("store: timed out waiting for the flow to be written")

// defaultDurableTimeout bounds RecordDurable: a disk that takes longer to commit and sync a
// batch is failing, and the proxy must not hold its clients forever.
const defaultDurableTimeout = 10 * time.Second

// RecordDurable records f and returns only once it is committed and synced to disk: a flow
// acknowledged by RecordDurable survives kill -9 and a machine crash. It is the
// flow.DurableRecorder the proxy calls when store.durability is sync, before it releases the
// last bytes of the response.
//
// Writes are group commits: the one writer commits whatever queued while it wrote the last
// batch, syncs once, and wakes every RecordDurable waiting on that batch — so many concurrent
// flows share one fsync. Where Record drops a flow when the queue is full, RecordDurable waits
// for room; it fails (and counts the flow as dropped) with ErrClosed, ErrDiskFull below the
// free-space reserve, ErrDurableTimeout after DurableTimeout, or the write's own error.
func (s *Store) RecordDurable(f *flow.Flow) error {
	if f == nil {
		return nil
	}
	e, err := s.enqueueDurable(f)
	if err != nil {
		return err
	}
	t := time.NewTimer(s.opts.DurableTimeout)
	defer t.Stop()
	select {
	case err := <-e.done:
		return err
	case <-t.C:
		return fmt.Errorf("%w after %v", ErrDurableTimeout, s.opts.DurableTimeout)
	}
}

var _ flow.DurableRecorder = (*Store)(nil)

// enqueueDurable queues f, waiting (at most DurableTimeout) for room.
func (s *Store) enqueueDurable(f *flow.Flow) (*entry, error) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if s.closing.Load() {
		s.drop("store closed")
		return nil, ErrClosed
	}
	if s.diskLow.Load() {
		s.drop("")
		return nil, ErrDiskFull
	}
	e := s.newEntry(f)
	e.done = make(chan error, 1)
	s.queuedBytes.Add(e.size)
	select {
	case s.queue <- e:
		return e, nil
	default:
	}
	t := time.NewTimer(s.opts.DurableTimeout)
	defer t.Stop()
	select {
	case s.queue <- e:
		return e, nil
	case <-t.C:
		s.queuedBytes.Add(-e.size)
		s.drop("queue full")
		return nil, fmt.Errorf("%w: the queue stayed full for %v", ErrDurableTimeout, s.opts.DurableTimeout)
	}
}

// sync flushes badger's write-ahead log and value log to disk.
func (s *Store) sync() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: sync panicked: %v", r)
		}
	}()
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("store: sync: %w", err)
	}
	return nil
}
