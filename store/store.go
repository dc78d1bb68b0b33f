package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
)

var (
	// ErrWrongKey: the store is encrypted with another key than the one given.
	ErrWrongKey = errors.New("store: wrong encryption key")
	// ErrEncrypted: the store is encrypted and no key was given.
	ErrEncrypted = errors.New("store: the store is encrypted and no key was given")
	// ErrNotEncrypted: the store was created without encryption and a key was given.
	ErrNotEncrypted = errors.New("store: the store is not encrypted but a key was given")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("store: closed")
	// ErrLocked: another process (a running customs serve) has the store open.
	ErrLocked = errors.New("store: in use by another process")
	// ErrNotFound: no flow with that ID is stored (or it is past retention).
	ErrNotFound = errors.New("store: flow not found")
)

// Store is the flow store. Record is safe for concurrent use and never blocks; queries may run
// concurrently with writes.
type Store struct {
	opts Options
	db   *badger.DB
	log  zerolog.Logger

	queue       chan *entry
	flushCh     chan chan error
	stop        chan struct{} // closed by Close: the writer drains the queue and exits
	done        chan struct{} // closed by the writer when it exits
	stopMaint   chan struct{}
	maintDone   chan struct{}
	queuedBytes atomic.Int64
	inflight    atomic.Int64 // Record calls between their closing check and their send
	closing     atomic.Bool
	abandon     atomic.Bool // Close ran out of time: drop what is still queued
	closeOnce   sync.Once
	closeErr    error

	// writeMu serialises commits with DropPrefix, which refuses writes while it runs.
	writeMu sync.Mutex
	// maintMu serialises RunRetention runs.
	maintMu sync.Mutex
	// outboxMu serialises what reads or removes outbox keys (Outbox, Sent, dropping a day), so
	// that each key is counted out of Stats.Outbox once.
	outboxMu sync.Mutex
	// dbMu: readers (queries, retention) hold it shared; Close takes it before closing badger.
	dbMu sync.RWMutex

	// flushErr is the first write error since the last Flush (writer goroutine only).
	flushErr error
	// put commits a batch (s.write; tests replace it to make writes fail).
	put func([]*entry) error
	// freeSpace reports the bytes free on dir's disk (freeBytes; tests replace it).
	freeSpace atomic.Pointer[func(dir string) (int64, bool)]
	// txnLimit is what one badger transaction holds (see write).
	txnLimit txnLimit
	// outboxCh gets a value after each commit that added outbox keys (OutboxNotify).
	outboxCh chan struct{}
	outboxN  atomic.Int64 // outbox keys: flows waiting for the fleet
	// cursorMu guards outboxFloor, the first outbox key the last Outbox found (every one below
	// it was deleted: the next walk does not step over Sent's deletions again), and outboxLow,
	// the lowest outbox key committed since the last Outbox started: flows end out of the
	// order of their IDs, so a flow can be committed below the floor.
	cursorMu    sync.Mutex
	outboxFloor []byte
	outboxLow   []byte
	// recent keeps the flows last committed, encoded, for OutboxEncoded (Options.OutboxMemory).
	recent     recentFlows
	outboxLost atomic.Uint64
	// diskLow: the disk is below the reserve; Record drops until the writer sees space again.
	diskLow atomic.Bool
	free    atomic.Int64 // free bytes at the writer's last look

	written, dropped, writeErrors, batches, daysDropped, readErrors atomic.Uint64
	disk, diskAt                                                    atomic.Int64 // Dir's size on disk, and when it was walked
	dropLog, errLog, readLog                                        logLimiter
}

// Stats are the store's counters, for metrics.
type Stats struct {
	Written     uint64 // flows committed
	Dropped     uint64 // flows not recorded: queue full (count or bytes) or store closed
	WriteErrors uint64 // flows lost because their batch failed to commit
	Batches     uint64 // write batches committed
	Queued      int    // flows waiting in the queue
	QueuedBytes int64  // their encoded size
	DaysDropped uint64 // days dropped by retention and the size budget
	DiskBytes   int64  // bytes Dir occupies on disk (LSM tree, value log, WAL)
	ReadErrors  uint64 // reads that met unreadable data (ErrUnreadable): damage found at run time
	// DiskLow: the disk has less free space than the reserve (MinFreeBytes): flows are dropped
	// until it has more. FreeBytes is the free space the writer last saw.
	DiskLow   bool
	FreeBytes int64
	// Outbox is the flows waiting for the fleet (Options.Outbox): counted on Open, then kept
	// up as flows are committed and sent. OutboxLost counts outbox entries dropped before they
	// were sent: with their day (retention, the size budget), or because their flow was gone.
	Outbox     int64
	OutboxLost uint64
	// OutboxFromMemory counts the outbox flows OutboxEncoded handed over from memory rather
	// than reading them back.
	OutboxFromMemory uint64
}

// entry is one encoded flow waiting to be committed: keys[i] gets vals[i], and the flow's ID
// joins the posting list of each index prefix (written by the batch: see postingSet).
type entry struct {
	keys, vals [][]byte
	x          id
	index      [][]byte
	size       int64
	outbox     bool // keys holds an outbox key
	// meta and body are the flow's stored values (body nil without one), kept for the
	// outbox's memory once committed.
	meta, body []byte
	// done, for a flow recorded with RecordDurable, receives the outcome once the flow's batch
	// is committed and synced (buffered: the writer never waits on it).
	done chan error
}

// Open opens (or creates) the store in opts.Dir. An encrypted store opened with another key
// fails with ErrWrongKey; a plain store opened with a key fails with ErrNotEncrypted and an
// encrypted one opened without a key with ErrEncrypted. A directory that cannot be created or
// written is an error here, not at the first write, and so is a disk with less than
// MinFreeBytes free (ErrDiskFull).
//
// Before badger touches the files, Open reads the MANIFEST, every table (every block, its
// checksum verified) and the logs badger replays at open; a damaged store is not opened and
// Open returns a *DamageError (ErrDamaged) naming each problem: badger would otherwise cut the
// damage away silently, and the flows with it.
func Open(opts Options) (*Store, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := prepareDir(opts.Dir, opts.MinFreeBytes); err != nil {
		return nil, err
	}
	if floor := opts.reserveFloor(); opts.MinFreeBytes > 0 && opts.MinFreeBytes < floor {
		opts.Logger.Warn().Str("component", "store").Str("min_free", mib(opts.MinFreeBytes)).Str("needed", mib(floor)).
			Msg("store: the free-space reserve is smaller than what the store can write between two checks; a full disk may crash the process")
	}
	if err := checkEncryption(opts.Dir, opts.Key); err != nil {
		return nil, err
	}
	if !opts.skipChecks {
		if err := checkBeforeOpen(opts); err != nil {
			return nil, err
		}
	}
	db, err := openBadger(opts.badgerOptions())
	if err != nil {
		if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			if len(opts.Key) == 0 {
				return nil, fmt.Errorf("%w: %s", ErrEncrypted, opts.Dir)
			}
			return nil, fmt.Errorf("%w: %s was created with a different key (is store.key the file it was created with?)", ErrWrongKey, opts.Dir)
		}
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("%w: %s: %v", ErrLocked, opts.Dir, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", opts.Dir, err)
	}
	if err := safeCheckSchema(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", opts.Dir, err)
	}
	waiting, err := countOutbox(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: counting the outbox: %w", opts.Dir, err)
	}
	s := &Store{
		opts:      opts,
		db:        db,
		log:       opts.Logger.With().Str("component", "store").Logger(),
		queue:     make(chan *entry, opts.QueueSize),
		flushCh:   make(chan chan error),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		stopMaint: make(chan struct{}),
		maintDone: make(chan struct{}),
		outboxCh:  make(chan struct{}, 1),
		recent:    recentFlows{max: max(opts.OutboxMemory, 0)},
		txnLimit:  txnLimit{size: db.MaxBatchSize(), count: db.MaxBatchCount(), threshold: db.Opts().ValueThreshold},
	}
	s.put = s.write
	s.outboxN.Store(waiting)
	if waiting > 0 && opts.Outbox {
		// What a previous run left is waiting already: the fleet need not wait for a commit.
		s.outboxCh <- struct{}{}
	}
	fb := freeBytes
	s.freeSpace.Store(&fb)
	if free, ok := freeBytes(opts.Dir); ok {
		s.free.Store(free)
	}
	go s.writer()
	go s.maintain()
	return s, nil
}

func openBadger(o badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("badger panicked: %v", r)
		}
	}()
	return badger.Open(o)
}

// prepareDir creates dir (0700) and checks that it is writable and that the disk has room.
func prepareDir(dir string, minFree int64) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store: cannot create directory %s: %w", dir, err)
	}
	probe := filepath.Join(dir, ".write-probe-"+ulid.Make().String())
	f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write([]byte("customs"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		os.Remove(probe)
	}
	if err != nil {
		return fmt.Errorf("store: directory %s is not writable: %w", dir, err)
	}
	if minFree > 0 {
		if free, ok := freeBytes(dir); ok && free < minFree {
			return fmt.Errorf("%w: only %s free on the disk of %s, and the store keeps %s free (store.min_free): free some space or move the data directory",
				ErrDiskFull, mib(free), dir, mib(minFree))
		}
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// checkEncryption tells a plain store from an encrypted one before badger opens it, to say which
// mistake was made: badger reports both as a key mismatch. KEYREGISTRY starts with a 16-byte IV
// and a sanity text, in clear in a plain store and encrypted in an encrypted one.
func checkEncryption(dir string, key []byte) error {
	f, err := os.Open(filepath.Join(dir, badger.KeyRegistryFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil // a new store
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	head := make([]byte, 16+len(sanityText))
	if _, err := io.ReadFull(f, head); err != nil {
		return nil // let badger judge a short registry
	}
	plain := bytes.Equal(head[16:], sanityText)
	switch {
	case plain && len(key) > 0:
		return fmt.Errorf("%w: %s was created without encryption; open it without a key", ErrNotEncrypted, dir)
	case !plain && len(key) == 0:
		return fmt.Errorf("%w: %s", ErrEncrypted, dir)
	}
	return nil
}

var sanityText = []byte("Hello Badger") // badger's key registry sanity text

func safeCheckSchema(db *badger.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: badger panicked reading the schema version: %v", ErrUnreadable, r)
		}
	}()
	return checkSchema(db)
}

func checkSchema(db *badger.DB) error {
	var have []byte
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(schemaKey)
		if err != nil {
			return err
		}
		have, err = item.ValueCopy(nil)
		return err
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return db.Update(func(txn *badger.Txn) error { return txn.Set(schemaKey, []byte(schemaVersion)) })
	case err != nil:
		return err
	case string(have) == schemaVersionV1:
		if err := migratePostings(db); err != nil {
			return fmt.Errorf("migrating the index from store format %s to %s: %w", schemaVersionV1, schemaVersion, err)
		}
		return db.Update(func(txn *badger.Txn) error { return txn.Set(schemaKey, []byte(schemaVersion)) })
	case string(have) == schemaVersionV2:
		// Format 3 reads format 2's values as they are (uncompressed bodies: body value
		// version 1) and writes new flows' bodies compressed.
		return db.Update(func(txn *badger.Txn) error { return txn.Set(schemaKey, []byte(schemaVersion)) })
	case string(have) != schemaVersion:
		return fmt.Errorf("store format %q, this customs reads %q", have, schemaVersion)
	}
	return nil
}

// migratePostings rewrites a version-1 index (one empty key per flow and value) as posting
// lists: each run of a value's keys within one span becomes one posting of at most postingMax
// IDs, written under the key of its largest ID (which it replaces) before the others are
// deleted. Readers take an empty value for a one-flow posting, so a migration a crash cut
// short reads as before, and the next Open finishes it (postings already written are kept).
func migratePostings(db *badger.DB) error {
	days, err := daysOf(db)
	if err != nil {
		return err
	}
	for _, d := range days {
		for _, fam := range indexFamilies {
			if err := migrateFamily(db, d, fam); err != nil {
				return fmt.Errorf("day %s, %s: %w", dayStart(d).Format(time.DateOnly), familyName(fam), err)
			}
		}
	}
	return nil
}

func migrateFamily(db *badger.DB, d uint32, fam byte) error {
	wb := db.NewWriteBatch()
	var (
		prefix []byte // the run's index prefix
		sp     uint64
		run    []id
	)
	flush := func() error {
		if len(run) <= 1 {
			run = run[:0] // a one-flow posting is its key alone already
			return nil
		}
		last := run[len(run)-1]
		// The posting first: should the batch be cut short, the keys it replaces are not
		// yet deleted.
		if err := wb.Set(append(bytes.Clone(prefix), last[:]...), appendPosting(nil, run)); err != nil {
			return err
		}
		for _, x := range run[:len(run)-1] {
			if err := wb.Delete(append(bytes.Clone(prefix), x[:]...)); err != nil {
				return err
			}
		}
		run = run[:0]
		return nil
	}
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: famPrefix(d, fam)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < dayLen+2+idLen || len(k) != dayLen+2+int(k[dayLen+1])+idLen {
				continue // not an index key: left for Verify to report
			}
			if item.ValueSize() > 0 {
				continue // already a posting
			}
			x, _ := keyID(k)
			p := k[:len(k)-idLen]
			if len(run) > 0 && (!bytes.Equal(p, prefix) || span(x) != sp || len(run) == postingMax) {
				if err := flush(); err != nil {
					return err
				}
			}
			if len(run) == 0 {
				prefix, sp = append(prefix[:0], p...), span(x)
			}
			run = append(run, x)
		}
		return flush()
	})
	if err != nil {
		wb.Cancel()
		return err
	}
	return wb.Flush()
}

// Record queues f to be written and returns at once: it is the flow.Recorder the proxy calls on
// its request path. The flow is encoded here (bodies cut to BodyLimit) and not referenced
// afterwards. When the queue is full, or the store is closed, the flow is dropped, counted in
// Stats.Dropped and logged (at most one line a second, with the count). The response body kept
// on the flow (f.ResponseBody) is stored capped at BodyLimit like the request body.
func (s *Store) Record(f *flow.Flow) {
	if f == nil {
		return
	}
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if s.closing.Load() {
		s.drop("store closed")
		return
	}
	if s.diskLow.Load() {
		s.drop("") // the reason (free space, reserve) was noted by the writer
		return
	}
	if len(s.queue) >= cap(s.queue) {
		s.drop("queue full")
		return
	}
	e := s.newEntry(f)
	if s.queuedBytes.Add(e.size) > s.opts.QueueBytes {
		s.queuedBytes.Add(-e.size)
		s.drop("queue bytes full")
		return
	}
	select {
	case s.queue <- e:
	default:
		s.queuedBytes.Add(-e.size)
		s.drop("queue full")
	}
}

var _ flow.Recorder = (*Store)(nil)

func (s *Store) drop(reason string) {
	s.dropped.Add(1)
	if reason != "" {
		s.dropLog.note(reason)
	}
	s.logDrops(false)
}

// logDrops writes one line for the drops not yet logged, at most once a second unless forced.
func (s *Store) logDrops(force bool) {
	if n, total, reason, ok := s.dropLog.take(&s.dropped, force); ok {
		s.log.Warn().Uint64("dropped", n).Uint64("dropped_total", total).Str("reason", reason).
			Msg("store: flows dropped, not recorded")
	}
}

func (s *Store) logWriteErrors(force bool) {
	if n, total, reason, ok := s.errLog.take(&s.writeErrors, force); ok {
		s.log.Error().Uint64("flows", n).Uint64("write_errors_total", total).Str("error", reason).
			Msg("store: write failed; flows lost")
	}
}

// logLimiter lets one line a second through and counts what it held back.
type logLimiter struct {
	mu     sync.Mutex
	last   time.Time
	logged uint64
	reason string
}

func (l *logLimiter) note(reason string) {
	l.mu.Lock()
	l.reason = reason
	l.mu.Unlock()
}

func (l *logLimiter) take(counter *atomic.Uint64, force bool) (n, total uint64, reason string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !force && now.Sub(l.last) < time.Second {
		return 0, 0, "", false
	}
	total = counter.Load()
	if total == l.logged {
		return 0, 0, "", false
	}
	n, l.logged, l.last = total-l.logged, total, now
	return n, total, l.reason, true
}

// RecordOf is the metadata the store keeps of f, as Query returns it: no headers, no bodies,
// segment paths without their text.
func RecordOf(f *flow.Flow) Record {
	r := Record{
		ID: f.ID, Start: f.Start, End: f.End, Source: f.Source, Mode: f.Mode, Client: f.Client,
		Host: f.Host, Method: f.Method, URL: f.URL, API: f.API, Vendor: f.Vendor,
		RequestBytes: f.RequestBytes, ContentEncoding: f.ContentEncoding,
		DecodedBytes: f.DecodedBytes, Status: f.Status,
		ResponseBytes: f.ResponseBytes, Findings: f.Findings, Verdict: f.Verdict, Notes: f.Notes,
		Marks: f.Marks, Error: f.Error, ErrorKind: f.ErrorKind,
		SNI: f.SNI, Target: f.Target, Incomplete: f.Incomplete, Messages: f.Messages,
		Server: f.Server, ALPN: f.ALPN, JA4: f.JA4, TLSVersion: f.TLSVersion,
		Model: f.Model, ServedModel: f.ServedModel, Params: f.Params,
	}
	if len(f.Segments) > 0 {
		r.Segments = make([]Segment, len(f.Segments))
		for i, sg := range f.Segments {
			r.Segments[i] = Segment{Path: sg.Path, Media: sg.Media, Size: sg.Size}
		}
	}
	return r
}

// newEntry encodes f: meta, body (headers and capped bodies) and index keys.
func (s *Store) newEntry(f *flow.Flow) *entry {
	x, err := ulid.ParseStrict(f.ID)
	if err != nil {
		t := f.Start
		if t.IsZero() {
			t = s.opts.Now()
		}
		x = ulid.MustParse(flow.NewID(t))
		s.log.Debug().Str("flow_id", f.ID).Str("stored_as", x.String()).Msg("store: flow ID is not a ULID; stored under a new one")
	}
	limit := s.opts.BodyLimit
	req, resp := f.RequestBody, f.ResponseBody
	r := RecordOf(f)
	r.ID = x.String()
	r.RequestHeader, r.ResponseHeader = f.RequestHeader, f.ResponseHeader
	r.RequestTruncated = len(req) > limit || f.HasMark(flow.MarkOversize)
	r.ResponseTruncated = len(resp) > limit
	r.RequestBody = req[:min(len(req), limit)]
	r.ResponseBody = resp[:min(len(resp), limit)]
	hasBody := len(r.RequestHeader) > 0 || len(r.RequestBody) > 0 || len(r.ResponseHeader) > 0 || len(r.ResponseBody) > 0

	id := id(x)
	e := &entry{keys: make([][]byte, 0, 2), vals: make([][]byte, 0, 2), x: id, index: make([][]byte, 0, 10)}
	add := func(k, v []byte) {
		e.keys = append(e.keys, k)
		e.vals = append(e.vals, v)
		e.size += int64(len(k) + len(v) + 48)
	}
	e.meta = appendMeta(make([]byte, 0, 512), &r, hasBody)
	add(recordKey(famMeta, id), e.meta)
	if hasBody {
		e.body = appendBody(nil, &r)
		add(recordKey(famBody, id), e.body)
	}
	if s.opts.Outbox {
		add(recordKey(famOutbox, id), nil)
		e.outbox = true
	}
	r.eachIndexPrefix(id, func(p []byte) {
		e.index = append(e.index, p)
		e.size += int64(len(p) + 2*idLen) // its share of a posting's key and value
	})
	return e
}

// eachIndexPrefix calls fn with the index prefix (day | family | len | value) of every index
// value of the flow r describes, whose ID is x: the posting lists x belongs to. (Repair
// rebuilds the indexes of a repaired store from the flows' metadata with it.)
func (r *Record) eachIndexPrefix(x id, fn func([]byte)) {
	day := dayOfID(x)
	index := func(fam byte, v string) {
		if v != "" {
			fn(indexPrefix(day, fam, v))
		}
	}
	index(famVendor, r.Vendor.ID)
	index(famCategory, r.Vendor.Category)
	index(famClient, clientIP(r.Client.Addr))
	index(famUser, r.Client.User)
	index(famAction, string(r.Verdict.Action))
	index(famAPI, r.API)
	index(famHost, r.Host)
	// One index entry per detector, however many findings it made.
	if len(r.Findings) <= 16 {
		for i, fd := range r.Findings {
			if !slices.ContainsFunc(r.Findings[:i], func(p flow.Finding) bool { return p.Detector == fd.Detector }) {
				index(famDetector, fd.Detector)
			}
		}
	} else {
		seen := make(map[string]bool)
		for _, fd := range r.Findings {
			if !seen[fd.Detector] {
				seen[fd.Detector] = true
				index(famDetector, fd.Detector)
			}
		}
	}
}

// writer is the one goroutine that commits: it drains the queue in write batches.
func (s *Store) writer() {
	defer close(s.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	batch := make([]*entry, 0, s.opts.BatchSize)
	for {
		select {
		case e := <-s.queue:
			batch = append(batch[:0], e)
		gather:
			for len(batch) < s.opts.BatchSize {
				select {
				case e := <-s.queue:
					batch = append(batch, e)
				default:
					break gather
				}
			}
			s.commit(batch)
		case done := <-s.flushCh:
			// Everything queued before Flush was called is in the queue now.
			s.drain(len(s.queue), batch)
			done <- s.flushErr
			s.flushErr = nil
		case <-s.stop:
			// Close waited for every Record in flight: what is queued is final.
			s.drain(len(s.queue), batch)
			s.logDrops(true)
			s.logWriteErrors(true)
			return
		case <-tick.C:
			if s.diskLow.Load() {
				s.diskRoom(0) // is there room again?
			}
			s.logDrops(false)
			s.logWriteErrors(false)
		}
	}
}

// drain commits the next n queued flows.
func (s *Store) drain(n int, batch []*entry) {
	for n > 0 {
		batch = batch[:0]
		for ; n > 0 && len(batch) < s.opts.BatchSize; n-- {
			batch = append(batch, <-s.queue)
		}
		s.commit(batch)
	}
}

// commit writes one batch and counts it as written, or as lost to a write error.
func (s *Store) commit(batch []*entry) {
	var size int64
	waiters := false
	for _, e := range batch {
		size += e.size
		waiters = waiters || e.done != nil
	}
	defer s.queuedBytes.Add(-size)
	n := uint64(len(batch))
	if s.abandon.Load() {
		s.dropped.Add(n)
		s.dropLog.note("store closed before the queue was written")
		notify(batch, ErrClosed)
		return
	}
	// Keep the reserve free once this batch is written: badger's value log and WAL take about
	// the batch's encoded size.
	if !s.diskRoom(size) {
		s.dropped.Add(n)
		s.logDrops(false)
		notify(batch, ErrDiskFull)
		return
	}
	s.writeMu.Lock()
	err := s.put(batch)
	if err == nil && waiters && !s.opts.SyncWrites {
		// Group commit: one fsync of the write-ahead and value logs for every durable flow of
		// the batch. (With SyncWrites badger has synced them already.)
		err = s.sync()
	}
	s.writeMu.Unlock()
	notify(batch, err)
	if err != nil {
		if s.flushErr == nil {
			s.flushErr = err
		}
		s.writeErrors.Add(n)
		s.errLog.note(err.Error())
		s.logWriteErrors(false)
		return
	}
	s.written.Add(n)
	s.batches.Add(1)
}

// notify tells the batch's durable flows how their write went.
func notify(batch []*entry, err error) {
	for _, e := range batch {
		if e.done != nil {
			e.done <- err
		}
	}
}

func (s *Store) write(batch []*entry) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: write panicked: %v", r)
		}
	}()
	var ps postingSet
	groups := s.txnLimit.split(batch)
	for gi, g := range groups {
		wb := s.db.NewWriteBatch()
		var outbox int64
		var low id
		for _, e := range g {
			for i, k := range e.keys {
				if err := wb.Set(k, e.vals[i]); err != nil {
					wb.Cancel()
					return err
				}
			}
			for _, p := range e.index {
				ps.add(p, e.x)
			}
			if e.outbox {
				if outbox == 0 || bytes.Compare(e.x[:], low[:]) < 0 {
					low = e.x
				}
				outbox++
			}
		}
		// One key per index value and span for the whole batch, with its last flows:
		// measured (BenchmarkLayoutAlternatives) at a third of the CPU of a key per flow and
		// value.
		if gi == len(groups)-1 {
			if err := ps.each(wb.Set); err != nil {
				wb.Cancel()
				return err
			}
		}
		if err := wb.Flush(); err != nil {
			return err
		}
		if outbox > 0 {
			for _, e := range g {
				if e.outbox {
					s.recent.add(e.x, e.meta, e.body)
				}
			}
		}
		s.outboxAdded(outbox, low)
	}
	return nil
}

// txnLimit is what one badger transaction may hold (DB.MaxBatchSize and MaxBatchCount), in
// badger's estimate of its entries (Txn.checkSize), which depends on the value threshold.
type txnLimit struct{ size, count, threshold int64 }

// split cuts a batch into runs of flows that each fit one badger transaction. A WriteBatch
// commits a transaction whenever the next key would overflow it, between any two keys, and a
// crash keeps whole transactions only: cut by flow instead, a flow's keys (metadata, bodies,
// outbox key) survive a crash together or not at all. A batch of the default size fits one
// transaction (1,024 chat flows fill a quarter of its entries), so this costs nothing until
// BatchSize grows fourfold.
func (l txnLimit) split(batch []*entry) [][]*entry {
	var out [][]*entry
	start := 0
	size, count := txnBase()
	for i, e := range batch {
		es, ec := l.cost(e)
		if i > start && (size+es >= l.size || count+ec >= l.count) {
			out = append(out, batch[start:i])
			start = i
			size, count = txnBase()
		}
		size, count = size+es, count+ec
	}
	return append(out, batch[start:])
}

// txnBase is what badger counts in a new transaction: its closing entry.
func txnBase() (size, count int64) { return int64(len("!badger!txn")) + 10, 1 }

// cost is what e's keys add to a transaction in badger's estimate: each key, its value or a
// value pointer (12 bytes), two meta bytes, ten bytes of version.
func (l txnLimit) cost(e *entry) (size, count int64) {
	for i, k := range e.keys {
		v := int64(len(e.vals[i]))
		if v >= l.threshold {
			v = 12
		}
		size += int64(len(k)) + v + 2 + 10
	}
	return size, int64(len(e.keys))
}

// postingSet gathers flow IDs into posting lists: one per index prefix and span, cut at
// postingMax IDs.
type postingSet struct {
	groups map[string][]id // index prefix | span (8 bytes) -> IDs
	n      int             // IDs held
}

func (ps *postingSet) add(prefix []byte, x id) {
	if ps.groups == nil {
		ps.groups = make(map[string][]id, 64)
	}
	var k [maxValue + dayLen + 2 + 8]byte
	g := binary.BigEndian.AppendUint64(append(k[:0], prefix...), span(x))
	ps.groups[string(g)] = append(ps.groups[string(g)], x)
	ps.n++
}

// each hands every posting list to set, as key and value, and empties the set.
func (ps *postingSet) each(set func(k, v []byte) error) error {
	for g, ids := range ps.groups {
		slices.SortFunc(ids, func(a, b id) int { return bytes.Compare(a[:], b[:]) })
		ids = slices.Compact(ids)
		prefix := g[:len(g)-8]
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), postingMax)]
			ids = ids[len(chunk):]
			last := chunk[len(chunk)-1]
			k := append(append(make([]byte, 0, len(prefix)+idLen), prefix...), last[:]...)
			var v []byte // a posting of one flow is its key alone, as in format 1: sparse values cost no more
			if len(chunk) > 1 {
				v = appendPosting(make([]byte, 0, 1+len(chunk)*idLen), chunk)
			}
			if err := set(k, v); err != nil {
				return fmt.Errorf("store: write posting list: %w", err)
			}
		}
	}
	ps.groups, ps.n = nil, 0
	return nil
}

// Flush waits until every flow recorded before the call is committed. It returns the first
// write error since the previous Flush, if a batch failed (those flows are lost and counted in
// Stats.WriteErrors).
func (s *Store) Flush(ctx context.Context) error {
	if s.closing.Load() {
		return ErrClosed
	}
	done := make(chan error, 1)
	select {
	case s.flushCh <- done:
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sync is Flush without a deadline.
func (s *Store) Sync() error { return s.Flush(context.Background()) }

// Close stops accepting flows, commits everything queued, stops the maintenance timer and closes
// the database. When ctx ends first, what is still queued is dropped (and counted) and the
// database is closed all the same.
func (s *Store) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.close(ctx) })
	return s.closeErr
}

func (s *Store) close(ctx context.Context) error {
	s.closing.Store(true)
	for s.inflight.Load() > 0 { // Record never blocks: this is brief
		runtime.Gosched()
	}
	close(s.stop)
	var err error
	select {
	case <-s.done:
	case <-ctx.Done():
		s.abandon.Store(true)
		<-s.done
		err = fmt.Errorf("store: close: %w; %d flows still queued were dropped", ctx.Err(), s.dropped.Load())
	}
	close(s.stopMaint)
	<-s.maintDone
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if cerr := s.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("store: close: %w", cerr)
	}
	return err
}

// Stats returns the counters.
func (s *Store) Stats() Stats {
	return Stats{
		Written:          s.written.Load(),
		Dropped:          s.dropped.Load(),
		WriteErrors:      s.writeErrors.Load(),
		Batches:          s.batches.Load(),
		Queued:           len(s.queue),
		QueuedBytes:      s.queuedBytes.Load(),
		DaysDropped:      s.daysDropped.Load(),
		DiskBytes:        s.diskBytes(),
		ReadErrors:       s.readErrors.Load(),
		DiskLow:          s.diskLow.Load(),
		FreeBytes:        s.free.Load(),
		Outbox:           s.outboxN.Load(),
		OutboxLost:       s.outboxLost.Load(),
		OutboxFromMemory: s.recent.hits.Load(),
	}
}

// diskBytes is Dir's size on disk, walked at most once a second: Stats is read by every metrics
// scrape (once per store metric) and by callers polling the queue.
func (s *Store) diskBytes() int64 {
	if at := s.diskAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < time.Second {
		return s.disk.Load()
	}
	return s.refreshDisk()
}

func (s *Store) refreshDisk() int64 {
	n := diskUsage(s.opts.Dir)
	s.disk.Store(n)
	s.diskAt.Store(time.Now().UnixNano())
	return n
}
