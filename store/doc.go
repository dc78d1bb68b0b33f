// Package store keeps every flow on record in an embedded badger database: metadata, findings,
// verdicts, headers and capped bodies, encrypted at rest, indexed for the responder's queries
// and dropped by whole days when retention or the size budget says so.
//
// # API
//
//	key, created, err := store.LoadOrCreateKey(filepath.Join(data, "store.key")) // 0600, hex
//	s, err := store.Open(store.Options{Dir: filepath.Join(data, "store"), Key: key, Logger: log})
//	s.Record(f)                          // flow.Recorder: never blocks; drops (counted) when full
//	err = s.RecordDurable(f)             // flow.DurableRecorder: returns once f is committed and fsynced
//	rs, err := s.Query(ctx, store.Filter{Vendor: "openai", Since: t, Limit: 100}) // metadata only
//	r, err := s.Get(ctx, id)             // everything: headers and bodies too
//	err = s.Each(ctx, filter, true, fn)  // streaming, for replay and export
//	n, err := s.RunRetention(time.Now()) // also run by the GC timer
//	st := s.Stats()                      // counters for metrics
//	fs, err := s.OutboxEncoded(ctx, 100) // Options.Outbox: the oldest flows the fleet has not received
//	err = s.Sent(ids)                    // ... and, once the fleet has them, out of the outbox
//	b := store.MarshalRecord(&r)         // a whole record as one message; store.UnmarshalRecord(b)
//	err = s.Close(ctx)                   // commits what is queued, then closes
//	rep, err := store.Verify(opts)       // reads every file and flow; rep.Damaged()
//	rep, err := store.Repair(opts, out)  // copies what is readable into a new store in out
//
// Open fails with ErrWrongKey (an encrypted store, another key), ErrEncrypted (no key given),
// ErrNotEncrypted (a plain store, a key given), ErrLocked (a running customs has it open),
// ErrDiskFull (less than MinFreeBytes free), a *DamageError (ErrDamaged: see Damage) or a
// clear error naming the directory when it cannot be created or written. A lost or replaced
// store.key therefore never starts a second, empty store silently, and a damaged store is
// never opened for writing.
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
// codec.go): a version byte, then the fields in order, lengths as uvarints. Each body of 2 KiB
// or more is compressed on its own (S2, see bodycodec.go) before badger encrypts it, and kept
// compressed when that saves an eighth of it.
//
// # Key layout
//
// Every flow key leads with the day, so that a day is one contiguous key range:
//
//	day(4) | 'm' | flowID(16)              → metadata
//	day(4) | 'b' | flowID(16)              → headers and bodies
//	day(4) | family(1) | len(1) | value | maxID(16)  → a posting list: version(1) | flowID(16)...
//	day(4) | 'o' | flowID(16)              → empty: the flow is in the outbox (see Outbox)
//	0xFF | name                            → the store's own keys (schema version "3")
//
// day is the number of days since 1970-01-01 UTC of the flow ID's time, big-endian uint32;
// flowID is the binary ULID (flow.NewID), so keys sort by time within every family of a day.
//
// The index is kept as posting lists: the writer groups a write batch's flows by index value
// and posting span (256 ms of the IDs' time) and writes one key per group, holding the
// group's flow IDs ascending, under the largest of them (maxID: unique, since a flow is in one
// batch only). Postings of different batches overlap in ID range — IDs are start times, and
// flows are written when they end — but never across spans, so a query loads one span's
// postings at a time, merges them and walks the result (query.go, postingCursor): memory is
// one span's IDs per index field. The span trades writes against reads: flows of one batch
// that started more than 256 ms apart go to different keys, and a seek reads every ID of its
// span (at 60,000 flows/s, up to 15,000 for a value every flow has). Store format 1 had one
// empty key per flow and index value; Open rewrites such a store's index as posting lists
// (each run of a value's keys within a span becomes postings of at most 15 IDs, written
// before the keys it replaces are deleted) and then writes version 3. Readers take an empty
// index value for a one-flow posting, so a migration cut short by a crash reads as before and
// the next Open finishes it. Format 3 differs from 2 in the body value only (version 2 of it:
// a codec byte per body); bodies of formats 1 and 2 (value version 1, uncompressed) are read
// as they are, so Open turns a format-2 store into 3 by its schema key alone, and the old
// bodies stay uncompressed until retention drops their days. The version keeps a customs of
// format 2 from opening a store whose new bodies it would take for damage.
//
// What writing costs is in Cost (issue 18), below. Flows far apart in time (the Large
// benchmarks put one every 864 ms) get one-flow postings, as many keys as format 1.
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
// ranges, found by walking one cursor per field together (a leapfrog join on the flow IDs of
// the fields' posting lists: each cursor seeks to the largest ID seen so far). Without index
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
// Record encodes the flow on the caller's goroutine (bodies cut to BodyLimit and compressed —
// S2 takes about 20 µs for the mix's 13 KB —, so the queue holds no more than it will store
// and the flow is not referenced afterwards) and hands it to
// a bounded queue (QueueSize flows, QueueBytes bytes). One writer goroutine drains the queue
// in WriteBatches: batches form on their own from what queued during the previous commit, up to
// BatchSize. When the queue is full, the disk below the free-space reserve (see Free space) or
// the store closed, Record drops the flow, counts it (Stats.Dropped) and logs it (one line a
// second at most, with the count since the last line and why).
// A batch that fails to commit (full disk, I/O error) is counted in Stats.WriteErrors, logged
// at error level and returned by the next Flush; Record keeps accepting meanwhile. Flush waits
// until everything recorded before it is committed; Close flushes, then closes.
//
// An acknowledged flow (Flush returned) survives kill -9: badger's write-ahead data is in the
// page cache (tested with a helper process killed with SIGKILL mid-batch, reopened, and every
// acknowledged flow read back). But Record returns before that: a flow whose response the
// proxy has already completed can still be in the queue, and kill -9 loses the queue and the
// batch being committed — at 5,000 flows/s about 4 flows (under a millisecond) on average,
// up to 500 (100 ms) while badger stalls on a flush, and the whole queue (8,192 flows) when
// the writer falls behind. A machine crash loses, besides, whatever the kernel had not yet
// written back (up to vm.dirty_expire_centisecs, 30 s by default): the default never fsyncs.
//
// # Outbox
//
// With Options.Outbox, every flow also gets an outbox key, for the fleet to publish each flow
// at least once: the publisher reads the oldest with Outbox (whole records, oldest day first
// and by flow ID within a day), publishes them, and removes what the stream acknowledged with
// Sent; a crash in between publishes them again (the stream drops duplicates by flow ID).
// OutboxNotify wakes the publisher after each commit that added keys. The key is written in
// the same badger transaction as the flow's metadata: a WriteBatch commits a new transaction
// wherever the current one fills up, between any two keys, and a crash keeps whole
// transactions only, so the writer cuts its batches into transactions itself, between flows
// (txnLimit.split; 1,024 chat flows fill a quarter of one). A crash thus never leaves a stored
// flow without its outbox key or a key without its flow (tested with the kill -9 helper:
// after the kill, outbox keys and stored flows are the same set). Stats.Outbox counts the
// keys (once on Open, keys only, then as flows are committed and sent). Retention and the size
// budget drop a day's outbox keys before the rest of it, counting those still there in
// Stats.OutboxLost and logging how many of which day the fleet never received; they never wait
// for the fleet. Outbox skips flows past Retention (left to retention to count), removes a key
// whose flow is gone (counted lost: it should not happen), and keeps one whose flow is
// unreadable. Verify counts the keys (Report.Outbox) and takes one without its flow for lost
// metadata; Repair carries them over, and removes again those Sent had removed.
//
// Outbox walks from a floor, the first key the last walk found, rather than from the oldest
// key: the keys Sent removes stay in badger as deletions until compaction, and a walk from the
// start stepped over all of them again each round — quadratic, a million-flow backlog never
// drained. A flow committed below the floor (flows end out of the order of their start times,
// which are their IDs) lowers it for the next walk.
//
// OutboxEncoded is what the fleet's publisher reads: each flow framed as MarshalRecord frames
// it, from the stored values as they are (bodies stay compressed). The flows the writer
// committed last stay in memory (Options.OutboxMemory, 16 MiB by default: a few seconds of
// traffic), so a publisher that keeps up takes them without reading them back from badger
// (BenchmarkFleet: 24–33 µs a flow against 37–46); Sent takes a flow still in memory for one
// with its outbox key without looking (dropping a day empties the memory first).
//
// MarshalRecord is the message the fleet sends: a version byte, the flow ID, and the metadata
// and bodies values as stored (with their own versions), each with its length.
//
// # Durable recording
//
// RecordDurable (store.durability: sync) returns only once the flow's batch is committed and
// fsynced — group commit: the one writer commits whatever queued while it wrote the last
// batch, calls db.Sync once, and wakes every flow of the batch. It waits for room in the
// queue rather than drop, up to DurableTimeout, and fails with ErrDiskFull below the
// free-space reserve, ErrClosed, ErrDurableTimeout or the write's error. Tested like Flush
// above, with eight goroutines acknowledging each flow when RecordDurable returns, killed at
// a random point: every acknowledged flow is there. Measured (BenchmarkDurability, 64
// concurrent callers, encrypted): see README.md, Performance. (badger's SyncWrites, which
// fsyncs every write request instead, measured the same.)
//
// # Free space
//
// badger writes its value log, write-ahead logs and tables through memory-mapped files it
// extends sparsely; on a full disk a write into one is a SIGBUS that kills the process
// (reproduced on tmpfs and ext4 with the helper of TestDiskFullCrashWithoutReserve). So the
// writer keeps MinFreeBytes free: before each batch it checks (statfs) that the disk keeps the
// reserve once the batch is written, and otherwise drops the batch, counted in Stats.Dropped
// and logged; Record then drops at once until the writer, looking every second, finds the
// reserve and an eighth of it free again. Value-log GC does not run below the reserve. The
// reserve must cover what badger writes on its own after the last check — memtables flushed
// to tables, a compaction (new tables before the old go), half a value-log file copied by GC —
// which reserveFloor bounds from the sizing options: 152 MiB for the defaults; the default
// reserve is 256 MiB. Measured on tmpfs (400 MiB and 1.5 GiB, default options, reserve 16
// MiB): the disk never went more than 1.3 MiB below the reserve after writing stopped.
//
// # Damage
//
// badger's own open repairs by cutting: it replays a MANIFEST up to its first bad change set,
// truncates the file there and deletes every table the shortened MANIFEST does not name
// (measured: 1 of 876 flows left, and a new table written over a deleted one's number); it
// truncates a write-ahead log at its first bad entry, losing every entry after it, and flushes
// the rest; it skips a table whose checksum does not match; and a table or value that does
// not decode can panic it. So Open first reads, under the directory's lock and without
// writing (checkFiles): the MANIFEST (every change set whole), every table it names (every
// block, checksums verified: a bad block would otherwise end iterators early, silently, and a
// compaction reading it would write the table again without the keys past it), and the logs
// badger replays — every write-ahead log and the last value-log file — by their framing and
// checksums (no key needed: they cover the encrypted bytes). A log may end with one entry
// cut short by a crash, which was never acknowledged; whole entries after an unreadable one
// are damage. A damaged store is refused with a *DamageError naming each file and byte.
// Tables the MANIFEST does not name are either a crash's leftovers — a compaction or flush
// interrupted before the MANIFEST named its tables, every key of which is still in a named
// table or a write-ahead log: not damage, badger deletes them — or the trace of a MANIFEST cut
// exactly at a change set's boundary (it then reads back whole): tables holding keys found
// nowhere else. Open tells them apart key by key (orphans.go).
//
// At run time badger verifies every table block's checksum when it reads it from disk, and
// every value's when it reads it from the value log (ChecksumVerificationMode OnBlockRead,
// VerifyValueChecksum): damage found then is an ErrUnreadable error, counted in
// Stats.ReadErrors and logged, never garbage. Every read of badger from the store's own
// goroutines (Each, Get, retention, Open's schema check) recovers a panic into such an error.
//
// Verify reads a whole store: the files as Open does plus every value-log file, then — when
// they are sound — every key through badger, each flow's metadata and bodies decoded and each
// index entry checked against its flow. Repair never opens the damaged store with badger: it
// reads every table on disk (named by the MANIFEST or not: for a table it does not name, each
// data key of the registry is tried), every write-ahead log (past garbage, by finding the next
// whole entry; it keeps the entries of a transaction cut short, each vouched for by its
// checksum), and the values they point to; then the value log itself, for flow values whose
// pointer was lost with a table (of days no older than the oldest day the tables hold, so
// that days retention dropped do not come back). It writes all of it into a new store, builds
// every flow's index entries again from its metadata, and audits the result. Both need the
// store to themselves (ErrLocked while serve holds it). Tested, plain and encrypted, on a
// MANIFEST cut short, garbage in a write-ahead log, random bytes in a table block and over a
// table's index, and a MANIFEST cut at a change set's boundary: Open refuses each and writes
// nothing, Verify reports it, Repair recovers every flow (their values were all still in the
// value log).
//
// Not covered: damage that happens while the store is open reaches badger's compactions and
// value-log GC, which read past a bad block or entry without an error they can see and write
// the rest: the keys past it are then gone (found, if still there, by Verify and Repair).
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
// hold nothing in the value log — a posting has at most 15 IDs, 241 bytes, under the
// 256-byte value threshold — and are dropped by day | family; the metadata and body families by
// time prefixes narrow enough that no table fits under one (day | family | the first 3, 4 or 5
// bytes of the ULID's timestamp, at most 16k keys each), so every table holding them is read
// and its value pointers counted. Value-log GC then rewrites each file at least half garbage
// (files wholly garbage are simply deleted; the file being written never is).
//
// # Cost (issue 18)
//
// BenchmarkIngestMix records the realistic mix of issue 18: 70% of flows allowed without
// findings, the rest with one to three; request bodies of 0.5–16 KiB (log-uniform), answers of
// 0.5–16 KiB of JSON or, one in five, an 8–64 KiB stream (SSE): 13.3 KB of headers and bodies
// a flow, drawn from pools of text that compresses about as chat traffic does.
// BenchmarkIngest records ~2 KiB chat flows. CPU is the whole process's (user and system,
// badger's flushes and compactions included) per flow; the machine has 2 shared, noisy cores,
// so format 2 (before) and format 3 ran back to back, three rounds, -benchtime 100000x:
//
//	                      format 2                         format 3
//	mix, encrypted        78–91 µs, 9,900–11,800 flows/s   70–84 µs, 9,100–13,700 flows/s
//	                      13,939 B/flow on disk            6,053 B/flow
//	mix, plain            57–64 µs                         58–76 µs
//	chat, encrypted       49–63 µs, 2,760 B/flow           52–60 µs, 2,762 B/flow
//	chat, plain           35–40 µs                         36–48 µs
//
// That is: the disk of the mix is cut by 57%, its CPU is the same within the noise (compressing
// costs what writing the bytes it saves cost), and the chat flows, whose 1.5 KiB bodies are
// under the 2 KiB threshold, are unchanged. The 25 µs and 60,000 flows/s of the issue are
// three times away. Where the CPU of the mix goes (pprof, encrypted, format 3): S2 about a
// quarter; badger's value-log write a fifth — for each entry, encrypted, badger allocates a
// copy of key and value, a second one in cipher.StreamWriter and a new AES key schedule, 17 KB
// allocated a flow for 4.5 KB of values, then copies it into the mapped file, page faults
// included —; memtable puts and their write-ahead entries (encrypted the same way) a
// seventh; allocation and zeroing a sixth; flushes and compactions a tenth. Format 2 spent
// 38% in the value-log write of uncompressed bodies. At a million flows (TestMillionFlows,
// below) ingest costs 134 µs a flow: compactions grow with the tree.
//
// Measured and not taken:
//
//   - zstd (klauspost, SpeedFastest) instead of S2: 3.8 times smaller bodies against 2.7
//     (BenchmarkBodyCodecs: 53 against 22 µs of CPU to compress a flow's bodies, 14 against 8
//     to decompress; zstd's default level 68 µs for 3.96; S2's better mode 67 µs for 3.04); in
//     the store 131–135 µs a flow against 87–92, for 4,490 against 5,900 B/flow. The reader
//     keeps zstd (codec 1) for a store that would rather spend CPU than disk.
//   - Compressing every body from 256 bytes, from 2 KiB (taken), from 8 KiB, or none: 77–87,
//     71–77, 71–82 and 75–95 µs a flow; 5,889, 6,053, 7,225 and 13,941 B/flow.
//   - Tables without badger's Snappy (the values are compressed already, the tree holds keys
//     and pointers): 82–96 µs against 81–92, 5,964 against 5,895 B/flow: no gain; kept.
//   - 32 MiB memtables: 74–77 µs against 81–92 at 50,000 flows — which never fill one — for
//     four times their memory (3 × 32 MiB): not taken.
//   - Badger with its encrypted entry path mended (a local patch, not used: one AES cipher per
//     data key instead of one per entry, key and value XORed in place in its write buffer
//     instead of two copies): chat 44–46 µs a flow against 52–57, mix 65–73 against 75–82
//     (two rounds, same session): an eighth to a sixth of the CPU, for a change upstream.
//   - Earlier (BenchmarkLayoutAlternatives, badger alone, a 700-byte metadata value and a
//     2 KiB body): ten keys per flow 62.6 µs, metadata and body keys with posting lists 21.4
//     (format 2), one key per flow with postings 16.7, that with zstd bodies 22.5, one value
//     per batch 12.5. Merging metadata and bodies, or whole batches, into one value would cost
//     every query and Scan the bodies' bytes (badger decrypts a value whole) and retention
//     its narrow drop prefixes.
//
// Left toward the targets: one key per flow (metadata and compressed bodies: a fifth less in
// badger alone, at the cost above); badger's encrypted entry path (upstream); fewer index keys
// per flow — the client-IP posting is one key per flow at a 256 ms span with 3,000 clients,
// the user posting nearly so; and for disk, 2.8 KB a flow of this mix needs zstd (4.5 KB, at
// half again the CPU) and more (a dictionary, or larger blocks than one body).
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
//	Open's checks (see Damage)     0.71 s: every block of 161 tables, the logs (issue 12; the
//	                               same walk key by key took 6 s)
//
// (go test -run '^$' -bench Large -benchtime 20x ./store -store.flows=1000000; BenchmarkIngest
// with -benchtime 1000000x; store format 1.) With format 3 and the realistic mix (see Cost),
// TestMillionFlows — the long suite's, in a process of its own — measured, encrypted:
//
//	ingest                         10,070 flows/s, 134 µs of CPU a flow (one producer)
//	anonymous memory (RssAnon)     peak 477 MiB (the test fails over 512), 439 MiB after ingest
//	disk                           6,097 bytes per flow (13.3 KB of headers and bodies)
//	vendor + time window, 100 hits 0.96 ms (median of 30); newest 100: 0.42 ms; vendor newest
//	                               100: 1.8 ms; user + detector oldest 100: 4.6 ms; client IP
//	                               newest 100: 1.4 ms; vendor + window, 250 hits: 2.4 ms
//	retention                      3 of 10 days dropped (2.5 days of flows): 25% of the disk
//	                               freed (5,815 → 4,361 MiB)
//
// The options, and why:
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
//     Snappy for tables (without it: no less CPU, see Cost), value-log files of 128 MiB (the
//     unit GC reclaims).
//   - badger's logger is a zerolog adapter at warning level (component=badger): its info lines
//     (one per compaction and flush) are not wanted. (WithLoggingLevel installs badger's own
//     stderr logger, so it must come before WithLogger: until issue 12 it came after, and
//     badger's warnings and errors went to stderr in badger's format.)
//   - Table blocks and values are checksummed on every read from disk (see Damage).
//
// VmRSS is far larger than RssAnon (about 3 GiB at 1M flows): it counts the value log's
// mmapped pages, page cache the kernel reclaims under pressure. cmd should set GOMEMLIMIT
// (measured above: a 320 MiB limit cut the peak by a third at no cost in throughput).
package store
