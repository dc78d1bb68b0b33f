// Package store keeps every flow on record in an embedded badger database: metadata, findings,
// verdicts, headers and capped bodies, encrypted at rest, indexed for the responder's queries
// and dropped by whole days when retention or the size budget says so.
//
// # API
//
//	key, created, err := store.LoadOrCreateKey(filepath.Join(data, "store.key")) // 0600, hex
//	s, err := store.Open(store.Options{Dir: filepath.Join(data, "store"), Key: key, Logger: log})
//	s.Record(f)                          // flow.Recorder: never blocks; drops (counted) when full
//	rs, err := s.Query(ctx, store.Filter{Vendor: "openai", Since: t, Limit: 100}) // metadata only
//	r, err := s.Get(ctx, id)             // everything: headers and bodies too
//	err = s.Each(ctx, filter, true, fn)  // streaming, for replay and export
//	n, err := s.RunRetention(time.Now()) // also run by the GC timer
//	st := s.Stats()                      // counters for metrics
//	err = s.Close(ctx)                   // commits what is queued, then closes
//
// Open fails with ErrWrongKey (an encrypted store, another key), ErrEncrypted (no key given),
// ErrNotEncrypted (a plain store, a key given), ErrLocked (a running customs has it open), or a
// clear error naming the directory when it cannot be created or written or the disk is full.
// A lost or replaced store.key therefore never starts a second, empty store silently.
//
// # What is stored
//
// Per flow, two values: the metadata (times, source, mode, client and proxy user, host, method,
// URL, API, vendor with name, category and country, byte counts, content encoding, status, the
// segments' paths, media types and sizes but never their text, every field of every finding —
// masked preview and keyed hash, never the value —, the verdict with every matched policy,
// notes, marks, error and error kind) and, when there are any, the headers and bodies (request
// and response headers; request and response bodies cut at BodyLimit, with a truncated flag).
// The proxy's own Proxy-Authorization header is never stored. Both are encoded by hand (see
// codec.go): a version byte, then the fields in order, lengths as uvarints.
//
// # Key layout
//
// Every flow key leads with the day, so that a day is one contiguous key range:
//
//	day(4) | 'm' | flowID(16)              → metadata
//	day(4) | 'b' | flowID(16)              → headers and bodies
//	day(4) | family(1) | len(1) | value | flowID(16)  → empty: one index entry
//	0xFF | name                            → the store's own keys (schema version)
//
// day is the number of days since 1970-01-01 UTC of the flow ID's time, big-endian uint32;
// flowID is the binary ULID (flow.NewID), so keys sort by time within every family of a day.
// The index families are 'v' vendor ID, 'c' vendor category, 'i' client IP (without port,
// IPv4-mapped addresses unmapped), 'u' proxy user, 'd' detector (once per detector per flow),
// 'a' verdict action, 'p' API, 'h' host; empty values are not indexed and values are cut at
// 255 bytes. Index values are catalog IDs, categories, client IPs, user names, detector IDs,
// actions, API names and host names: never body content or header values (a test iterates
// every key looking for a marker planted in bodies, headers and URL).
//
// A flow whose ID is not a ULID (a HAR import, say) is stored under a fresh ULID of its start
// time, and the fact logged.
//
// # Queries
//
// A Filter's fields are each an index: the flows wanted are the intersection of their index
// ranges, found by walking one iterator per field together (a leapfrog join on the flow IDs
// that end every index key: each iterator seeks to the largest ID seen so far). Without index
// fields the walk is over the metadata family itself. Days are walked newest first (or oldest
// first with Filter.Oldest), within a day the iterators run in the same direction, from the
// window's end (Until, exclusive) towards its start (Since, inclusive), both to the
// millisecond of the IDs' time, each day in its own read transaction. A match's metadata is
// then read and checked against the whole filter (an ip:port client narrows an IP index hit;
// a value cut at 255 bytes is compared whole). Query never reads the body family; Each with
// bodies reads it with a second iterator. Flows older than Retention are never returned,
// even before RunRetention drops them.
//
// # Writes
//
// Record encodes the flow on the caller's goroutine (bodies cut to BodyLimit, so the queue
// holds no more than it will store and the flow is not referenced afterwards) and hands it to
// a bounded queue (QueueSize flows, QueueBytes bytes). One writer goroutine drains the queue
// in WriteBatches: batches form on their own from what queued during the previous commit, up to
// BatchSize. When the queue is full or the store closed, Record drops the flow, counts it
// (Stats.Dropped) and logs it (one line a second at most, with the count since the last line).
// A batch that fails to commit (full disk, I/O error) is counted in Stats.WriteErrors, logged
// at error level and returned by the next Flush; Record keeps accepting meanwhile. Flush waits
// until everything recorded before it is committed; Close flushes, then closes.
//
// An acknowledged flow (Flush returned) survives kill -9: badger's write-ahead data is in the
// page cache (tested with a helper process killed with SIGKILL mid-batch, reopened, and every
// acknowledged flow read back). Surviving a machine crash needs SyncWrites.
//
// # Encryption
//
// With a key, badger encrypts everything it writes — tables (blocks and indexes), value log,
// write-ahead log — with data keys it rotates every ten days and keeps in KEYREGISTRY,
// encrypted with the store key. A test checks that a marker written in bodies, headers and the
// URL appears in no file of an encrypted store (and does in a plain one).
//
// # Retention and the size budget
//
// RunRetention (run by the GC timer every GCInterval, first a minute after Open) drops every day
// older than Retention, then, if Dir takes more than MaxBytes on disk, the oldest days until
// the rest fits (never the newest), then runs value-log GC. Per-entry TTL would free no disk:
// expired entries are only discarded when a compaction happens to rewrite their table.
//
// A day is dropped with DropPrefix, which rewrites the tables holding it while writes wait (the
// writer commits between calls; Record keeps queueing). One badger behaviour shapes how:
// DropPrefix removes a table lying wholly under a dropped prefix without reading it, so the
// value-log space its keys pointed to is never counted as garbage, and value-log GC, which
// only rewrites files it has counted garbage in, never frees it — dropping days of a 1M-flow
// store by their 4-byte prefix freed 3% of the disk for 30% of the flows. The index families
// (no values in the value log) are dropped by day | family; the metadata and body families by
// time prefixes narrow enough that no table fits under one (day | family | the first 3, 4 or 5
// bytes of the ULID's timestamp, at most 16k keys each), so every table holding them is read
// and its value pointers counted. Value-log GC then rewrites each file at least half garbage
// (files wholly garbage are simply deleted; the file being written never is).
//
// # Settings for a small machine
//
// Measured on the 2-core, 24 GiB machine this was written on (shared with other builds: a few
// tens of percent of noise), 1,000,000 encrypted flows of ~2 KiB (a 1.5 KiB chat body,
// headers, three findings, ten keys per flow), default options:
//
//	ingest                         14,300–17,600 flows/s encrypted, 20,000 plain (one producer)
//	anonymous memory (RssAnon)     peak 430–457 MiB while ingesting (311 MiB with
//	                               GOMEMLIMIT=320MiB, same throughput), 250–275 MiB after
//	disk                           2,808 bytes per flow
//	vendor + time window, 100 hits 0.9–1.0 ms; newest 100: 0.5 ms; vendor newest 100: 1.7 ms;
//	                               user + detector oldest 100: 1.1 ms; client IP: 1.0 ms
//	Each with bodies               165–218 MB/s of bodies (105,000–140,000 flows/s)
//	retention                      3 of 10 days dropped: 633 MiB freed (24% of the disk),
//	                               1.6 s per day including value-log GC
//
// (go test -run '^$' -bench Large -benchtime 20x ./store -store.flows=1000000; BenchmarkIngest
// with -benchtime 1000000x.) The options, and why:
//
//   - ValueThreshold 256 bytes: bodies and most metadata go to the value log and the LSM tree
//     holds little more than keys. With 1 KiB (metadata in the tree) the tree was twice the
//     size and compaction's table builders took the peak to 695 MiB.
//   - Tables of 2 MiB at every level (TableSizeMultiplier 1): a compaction runs up to 13 table
//     builders at once, each holding about three times its table, so table size bounds the
//     compaction's memory.
//   - MemTableSize 8 MiB, three memtables, L0 compaction at 4 tables and stall at 12, two
//     compactors: enough to absorb ingest bursts on two cores.
//   - Block cache 32 MiB and index cache 16 MiB (encryption needs both: opening an encrypted
//     store without a block cache panics).
//   - NumVersionsToKeep 1, no conflict detection (one writer, write batches only), metrics off,
//     Snappy for tables, value-log files of 128 MiB (the unit GC reclaims).
//   - badger's logger is a zerolog adapter at warning level (component=badger): its info lines
//     (one per compaction and flush) are not wanted.
//
// VmRSS is far larger than RssAnon (about 3 GiB at 1M flows): it counts the value log's
// mmapped pages, page cache the kernel reclaims under pressure. cmd should set GOMEMLIMIT
// (measured above: a 320 MiB limit cut the peak by a third at no cost in throughput).
package store
