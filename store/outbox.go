package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
)

// The outbox is how flows reach the fleet at least once: with Options.Outbox, every flow is
// committed with an empty key day | 'o' | flowID in the same badger transaction as its
// metadata (see txnLimit.split), the publisher reads the oldest with OutboxEncoded, publishes them
// and removes what the stream acknowledged with Sent. A crash between publishing and Sent
// publishes those flows again; the stream tells duplicates by flow ID.

// OutboxFlow is a flow of the outbox as the fleet sends it.
type OutboxFlow struct {
	// Record holds the metadata only (no headers, no bodies): what a subject is made of.
	Record Record
	// Encoded is MarshalRecord's encoding of the whole flow, made of the stored values as they
	// are: bodies are not decompressed and compressed again.
	Encoded []byte
}

// OutboxEncoded returns up to n flows still in the outbox, oldest day first and by flow ID
// within a day, each encoded for UnmarshalRecord straight from the stored bytes (from memory
// for the flows committed last). Flows past Retention are left for RunRetention, which drops
// them and counts them in Stats.OutboxLost. An outbox key whose flow is gone is removed and
// counted as lost; one whose flow is unreadable (damage: counted in Stats.ReadErrors and
// logged) is skipped and kept, for a repaired store to send.
func (s *Store) OutboxEncoded(ctx context.Context, n int) ([]OutboxFlow, error) {
	var out []OutboxFlow
	err := s.walkOutboxFlows(ctx, n, func(x id, flowID string) error {
		f := OutboxFlow{Record: Record{ID: flowID}}
		if meta, body, ok := s.recent.get(x); ok {
			hasBody, err := decodeMeta(meta, &f.Record)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrUnreadable, err)
			}
			f.Encoded = frameRecord(flowID, meta, body, hasBody)
		} else if err := s.getEncoded(ctx, x, &f); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// getEncoded reads flow x's metadata into f.Record and frames the stored values as
// MarshalRecord does.
func (s *Store) getEncoded(ctx context.Context, x id, f *OutboxFlow) error {
	var meta, body []byte
	hasBody := false
	err := s.viewFlow(ctx, x, func(v []byte) (bool, error) {
		meta = clone(v)
		var err error
		hasBody, err = decodeMeta(meta, &f.Record)
		return hasBody, err
	}, func(v []byte) error {
		body = clone(v)
		return nil
	})
	if err != nil {
		return err
	}
	f.Encoded = frameRecord(f.Record.ID, meta, body, hasBody)
	return nil
}

// walkOutboxFlows calls read for up to n flows still in the outbox, oldest day first and by
// flow ID within a day (see OutboxEncoded); read's badger.ErrKeyNotFound is a lost flow, its
// ErrUnreadable one skipped and kept.
func (s *Store) walkOutboxFlows(ctx context.Context, n int, read func(x id, flowID string) error) (retErr error) {
	if n <= 0 {
		return nil
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.closing.Load() {
		return ErrClosed
	}
	s.outboxMu.Lock()
	defer s.outboxMu.Unlock()
	// From the floor (below it every outbox key is deleted), or from a flow committed below it
	// since; the low mark is taken now, so that a flow committed during this walk is marked for
	// the next.
	s.cursorMu.Lock()
	from := s.outboxFloor
	if from != nil && s.outboxLow != nil && bytes.Compare(s.outboxLow, from) < 0 {
		from = s.outboxLow
	}
	s.outboxLow = nil
	s.cursorMu.Unlock()
	if s.opts.Retention > 0 {
		if cut := recordKey(famOutbox, idAt(msOf(s.opts.Now().Add(-s.opts.Retention)))); bytes.Compare(cut, from) > 0 {
			from = cut
		}
	}
	floor, first := from, true
	defer func() {
		s.cursorMu.Lock()
		if retErr == nil {
			s.outboxFloor = floor
		} else if s.outboxLow == nil || bytes.Compare(floor, s.outboxLow) < 0 {
			s.outboxLow = floor // as if committed again: the next walk starts no later
		}
		s.cursorMu.Unlock()
	}()
	var (
		got  int
		lost []id
	)
	// Keys first, a batch at a time, then their flows: an iterator is not held open across
	// reads of whole bodies, and skipped flows are made up for by the next batch.
	for got < n {
		var xs []id
		err := s.guard("reading the outbox", func() error {
			return s.db.View(func(txn *badger.Txn) error {
				walkOutbox(txn, from, func(x id) bool {
					xs = append(xs, x)
					return len(xs) < n-got
				})
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("store: outbox: %w", err)
		}
		if len(xs) == 0 {
			break
		}
		if first {
			// The first key found is the new floor: what Sent removed below it is not
			// stepped over again.
			floor, first = recordKey(famOutbox, xs[0]), false
		}
		from = append(recordKey(famOutbox, xs[len(xs)-1]), 0)
		for _, x := range xs {
			if err := ctx.Err(); err != nil {
				return err
			}
			flowID := ulid.ULID(x).String()
			err := s.guard("reading outbox flow "+flowID, func() error { return read(x, flowID) })
			switch {
			case err == nil:
				got++
			case errors.Is(err, badger.ErrKeyNotFound):
				lost = append(lost, x)
			case errors.Is(err, ErrUnreadable):
				// Counted and logged by guard, and kept: a repaired store may read it again.
			default:
				return fmt.Errorf("store: outbox: read flow %s: %w", flowID, err)
			}
		}
	}
	if len(lost) > 0 {
		if err := s.removeOutbox(lost); err != nil {
			return fmt.Errorf("store: outbox: remove %d entries without a flow: %w", len(lost), err)
		}
		s.outboxN.Add(-int64(len(lost)))
		s.outboxLost.Add(uint64(len(lost)))
		s.log.Warn().Int("flows", len(lost)).Str("first", ulid.ULID(lost[0]).String()).
			Msg("store: outbox entries without their flow removed; those flows never reach the fleet")
	}
	return nil
}

// Sent removes the outbox keys of the flows ids names, in one write batch. IDs that are not in
// the outbox (already sent, dropped, never there, not flow IDs) are ignored, so a repeated
// call does nothing.
func (s *Store) Sent(ids []string) error {
	xs := make([]id, 0, len(ids))
	for _, v := range ids {
		if u, err := ulid.ParseStrict(v); err == nil {
			xs = append(xs, id(u))
		}
	}
	if len(xs) == 0 {
		return nil
	}
	slices.SortFunc(xs, func(a, b id) int { return bytes.Compare(a[:], b[:]) })
	xs = slices.Compact(xs)
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.closing.Load() {
		return ErrClosed
	}
	s.outboxMu.Lock()
	defer s.outboxMu.Unlock()
	// Only the keys there are deleted, and counted out of Stats.Outbox: a deletion of a key
	// that is not there would count a flow twice.
	var have []id
	err := s.guard("reading the outbox", func() error {
		return s.db.View(func(txn *badger.Txn) error {
			for _, x := range xs {
				if s.recent.has(x) {
					// Committed with its outbox key and not yet sent (dropping a day
					// empties the memory first): no need to look.
					have = append(have, x)
					continue
				}
				_, err := txn.Get(recordKey(famOutbox, x))
				switch {
				case err == nil:
					have = append(have, x)
				case !errors.Is(err, badger.ErrKeyNotFound):
					return fmt.Errorf("%w: %v", ErrUnreadable, err)
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store: sent: %w", err)
	}
	if len(have) == 0 {
		return nil
	}
	if err := s.removeOutbox(have); err != nil {
		return fmt.Errorf("store: sent: remove %d outbox entries: %w", len(have), err)
	}
	s.outboxN.Add(-int64(len(have)))
	return nil
}

// OutboxNotify returns a channel (capacity 1) that gets a value after every commit that added
// outbox keys, and once on Open when keys were waiting; the writer never blocks on it. With
// Options.Outbox off it never fires.
func (s *Store) OutboxNotify() <-chan struct{} { return s.outboxCh }

// outboxAdded counts n outbox keys just committed, the lowest of flow low, and wakes the
// publisher.
func (s *Store) outboxAdded(n int64, low id) {
	if n == 0 {
		return
	}
	k := recordKey(famOutbox, low)
	s.cursorMu.Lock()
	if s.outboxLow == nil || bytes.Compare(k, s.outboxLow) < 0 {
		s.outboxLow = k
	}
	s.cursorMu.Unlock()
	s.outboxN.Add(n)
	select {
	case s.outboxCh <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// removeOutbox deletes the outbox keys of xs (the caller holds outboxMu).
func (s *Store) removeOutbox(xs []id) error {
	s.recent.forget(xs)
	// DropPrefix refuses writes while it runs.
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	wb := s.db.NewWriteBatch()
	for _, x := range xs {
		if err := wb.Delete(recordKey(famOutbox, x)); err != nil {
			wb.Cancel()
			return err
		}
	}
	return wb.Flush()
}

// dropOutbox drops the outbox keys of days, before anything else of them: an outbox key then
// never outlives its flow, and Outbox never takes a flow of a day being dropped for one whose
// flow is gone. What it drops was never sent: it is counted in Stats.OutboxLost and logged,
// day by day. Retention does not wait for the fleet.
func (s *Store) dropOutbox(days []uint32) error {
	s.outboxMu.Lock()
	defer s.outboxMu.Unlock()
	// Counted and dropped under writeMu: no commit adds a key to a day between the two.
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Sent takes a flow in memory for one with its outbox key: forget them all rather than
	// find which are of these days (retention runs once a day).
	s.recent.clear()
	counts := make([]int64, len(days))
	var prefixes [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		for i, d := range days {
			p := famPrefix(d, famOutbox)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p}) // keys only
			for it.Rewind(); it.Valid(); it.Next() {
				counts[i]++
			}
			it.Close()
			if counts[i] > 0 {
				prefixes = append(prefixes, p)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: count the outbox of %d days: %w", len(days), err)
	}
	for len(prefixes) > 0 {
		k := min(len(prefixes), maxDropPrefixes)
		if err := s.db.DropPrefix(prefixes[:k]...); err != nil {
			return fmt.Errorf("store: drop the outbox of %d days: %w", len(days), err)
		}
		prefixes = prefixes[k:]
	}
	for i, d := range days {
		if n := counts[i]; n > 0 {
			day := dayStart(d).Format(time.DateOnly)
			s.outboxN.Add(-n)
			s.outboxLost.Add(uint64(n))
			s.log.Warn().Int64("flows", n).Str("day", day).
				Msgf("store: %d flows of day %s were dropped before the fleet received them", n, day)
		}
	}
	return nil
}

// countOutbox counts the outbox keys of db, keys only.
func countOutbox(db *badger.DB) (n int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: badger panicked: %v", ErrUnreadable, r)
		}
	}()
	err = db.View(func(txn *badger.Txn) error {
		walkOutbox(txn, nil, func(id) bool { n++; return true })
		return nil
	})
	return n, err
}

// walkOutbox calls fn with the flow ID of every outbox key from key from on, in key order,
// until fn returns false. Each day's outbox is a key range of its own: the walk seeks from
// one to the next, reading no value and no key of another family.
func walkOutbox(txn *badger.Txn, from []byte, fn func(id) bool) {
	it := txn.NewIterator(badger.IteratorOptions{})
	defer it.Close()
	for it.Seek(from); it.Valid(); {
		k := it.Item().Key()
		d, ok := keyDay(k)
		switch {
		case !ok:
			return // the store's own keys: past every day
		case len(k) <= dayLen || k[dayLen] < famOutbox:
			it.Seek(famPrefix(d, famOutbox))
		case k[dayLen] > famOutbox:
			if d == ^uint32(0) {
				return
			}
			it.Seek(dayPrefix(d + 1))
		default:
			if x, ok := outboxKeyID(k); ok && !fn(x) {
				return
			}
			it.Next()
		}
	}
}

// recordVersion is the version of MarshalRecord's encoding; the metadata and bodies inside
// carry their own.
const recordVersion = 1

// MarshalRecord encodes a whole record — ID, metadata, headers and bodies — on its own, for
// another process to read with UnmarshalRecord: a version byte, the ID, then the metadata
// and (when the record has headers or bodies, or says it loaded them) the bodies value,
// each as the store writes it (see codec.go: bodies of 2 KiB or more compressed), with a
// length. A record as Get returns it reads back equal; the proxy's own
// Proxy-Authorization header is never encoded.
func MarshalRecord(r *Record) []byte {
	withBody := r.HasBodies || len(r.RequestHeader) > 0 || len(r.RequestBody) > 0 ||
		len(r.ResponseHeader) > 0 || len(r.ResponseBody) > 0
	meta := appendMeta(make([]byte, 0, 512), r, withBody)
	var body []byte
	if withBody {
		body = appendBody(nil, r)
	}
	return frameRecord(r.ID, meta, body, withBody)
}

// frameRecord is MarshalRecord's encoding of a flow's stored metadata and bodies values.
func frameRecord(flowID string, meta, body []byte, withBody bool) []byte {
	e := encoder{b: make([]byte, 0, 1+3*binary.MaxVarintLen64+len(flowID)+len(meta)+len(body))}
	e.b = append(e.b, recordVersion)
	e.str(flowID)
	e.bytes(meta)
	if withBody {
		e.bytes(body)
	}
	return e.b
}

// UnmarshalRecord decodes what MarshalRecord encoded. Damaged, cut or foreign input is an
// error (errors.Is errCorrupt inside the store), never a panic; the record shares no memory
// with b.
func UnmarshalRecord(b []byte) (Record, error) { return unmarshalRecord(b, true) }

// UnmarshalRecordMeta is UnmarshalRecord without the headers and bodies, which it does not
// decode (nor decompress): for a reader that lists or counts flows.
func UnmarshalRecordMeta(b []byte) (Record, error) { return unmarshalRecord(b, false) }

func unmarshalRecord(b []byte, bodies bool) (Record, error) {
	if len(b) == 0 {
		return Record{}, fmt.Errorf("store: unmarshal record: %w: empty", errCorrupt)
	}
	d := decoder{b: b}
	d.versionIn(recordVersion, recordVersion)
	var r Record
	r.ID = d.str()
	meta := d.raw()
	if d.err != nil {
		return Record{}, fmt.Errorf("store: unmarshal record: %w", d.err)
	}
	hasBody, err := decodeMeta(meta, &r)
	if err != nil {
		return Record{}, fmt.Errorf("store: unmarshal record %.40q: metadata: %w", r.ID, err)
	}
	if hasBody {
		body := d.raw()
		if d.err != nil {
			return Record{}, fmt.Errorf("store: unmarshal record %.40q: bodies: %w", r.ID, d.err)
		}
		if bodies {
			if err := decodeBody(body, &r); err != nil {
				return Record{}, fmt.Errorf("store: unmarshal record %.40q: bodies: %w", r.ID, err)
			}
		}
	}
	if err := d.done(); err != nil {
		return Record{}, fmt.Errorf("store: unmarshal record %.40q: %w", r.ID, err)
	}
	return r, nil
}

// recentFlows keeps the encoded values of the flows the writer committed last, up to a number
// of bytes, oldest forgotten first: a publisher that keeps up takes each flow from here, and
// only a backlog (after an outage, or at start) is read back from badger.
type recentFlows struct {
	mu    sync.Mutex
	max   int64
	bytes int64
	m     map[id]recentFlow
	fifo  []id // in commit order; an ID behind the front may have left m already (Sent)
	hits  atomic.Uint64
}

type recentFlow struct{ meta, body []byte }

func (r *recentFlows) add(x id, meta, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.max <= 0 {
		return
	}
	if r.m == nil {
		r.m = map[id]recentFlow{}
	}
	r.m[x] = recentFlow{meta, body}
	r.fifo = append(r.fifo, x)
	r.bytes += int64(len(meta) + len(body))
	for r.bytes > r.max && len(r.fifo) > 0 {
		r.drop(r.fifo[0])
		r.fifo = r.fifo[1:]
	}
	r.trim()
}

// trim pops the IDs of flows already sent off the front of fifo: a publisher that keeps up
// sends every flow before the byte bound would evict it, and fifo must not grow with them.
// (Appending copies only what is left once the array is full.)
func (r *recentFlows) trim() {
	for len(r.fifo) > 0 {
		if _, ok := r.m[r.fifo[0]]; ok {
			return
		}
		r.fifo = r.fifo[1:]
	}
}

// get returns flow x's values when they are still in memory.
func (r *recentFlows) get(x id) (meta, body []byte, ok bool) {
	r.mu.Lock()
	f, ok := r.m[x]
	r.mu.Unlock()
	if ok {
		r.hits.Add(1)
	}
	return f.meta, f.body, ok
}

// has reports whether flow x is in memory (without counting a hit).
func (r *recentFlows) has(x id) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.m[x]
	return ok
}

// clear forgets every flow.
func (r *recentFlows) clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m, r.fifo, r.bytes = nil, nil, 0
}

// forget drops the flows xs (sent: never asked for again).
func (r *recentFlows) forget(xs []id) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range xs {
		r.drop(x)
	}
	r.trim()
}

func (r *recentFlows) drop(x id) {
	if f, ok := r.m[x]; ok {
		r.bytes -= int64(len(f.meta) + len(f.body))
		delete(r.m, x)
	}
}
