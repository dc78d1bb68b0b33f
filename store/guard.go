package store

import (
	"errors"
	"fmt"
)

// ErrUnreadable: stored data could not be read back (a checksum mismatch, a record that does
// not decode, a panic inside badger): the store is damaged there. Such errors are counted in
// Stats.ReadErrors and logged.
var ErrUnreadable = errors.New("store: unreadable data")

// guard runs fn, a read of the store, and turns a panic inside badger into an ErrUnreadable
// error: badger panics on some damaged tables and values, and a damaged store must never take
// the proxy down. Unreadable data is counted and logged (one line a second at most).
func (s *Store) guard(what string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: badger panicked %s: %v (run customs store verify)", ErrUnreadable, what, r)
		}
		if errors.Is(err, ErrUnreadable) {
			s.readErrors.Add(1)
			s.readLog.note(err.Error())
			if n, total, reason, ok := s.readLog.take(&s.readErrors, false); ok {
				s.log.Error().Uint64("errors", n).Uint64("read_errors_total", total).Str("error", reason).
					Msg("store: unreadable data; the store may be damaged (customs store verify)")
			}
		}
	}()
	return fn()
}
