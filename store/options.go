package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/internal/secretfile"
)

// Options configure a Store. The zero value of every field but Dir means its default.
type Options struct {
	// Dir is the badger directory (the CLI uses DATA/store).
	Dir string
	// Key is the AES key the store is encrypted with: 16, 24 or 32 bytes (LoadOrCreateKey makes
	// 32). nil means no encryption, for tests and benchmarks only: the CLI always passes one.
	Key []byte

	// Retention is how long flows are kept: 30 days by default; negative keeps them forever.
	// Queries never return flows older than Retention; whole expired days are dropped from disk
	// by RunRetention.
	Retention time.Duration
	// MaxBytes is the size budget of Dir on disk; over it, the oldest days are dropped first.
	// 0 means no budget.
	MaxBytes int64
	// BodyLimit is the number of bytes kept of the request body and of the response body of
	// each flow: 256 KiB by default.
	BodyLimit int

	// QueueSize is the number of flows Record may hold before the writer commits them: 8192
	// by default. Flows beyond it are dropped and counted.
	QueueSize int
	// QueueBytes bounds the memory of the queue (encoded flows): 64 MiB by default.
	QueueBytes int64
	// BatchSize is the most flows committed in one write batch: 1024 by default. Batches form
	// on their own: the writer commits whatever queued while it committed the last one.
	BatchSize int
	// GCInterval is how often retention, the size budget and value-log GC run: 10 minutes by
	// default; negative disables the timer (RunRetention still works).
	GCInterval time.Duration
	// SyncWrites makes badger fsync every write before it is acknowledged: without it,
	// acknowledged flows survive a crash of the process (kill -9) but not of the machine.
	// RecordDurable syncs its batches either way.
	SyncWrites bool
	// DurableTimeout bounds how long RecordDurable waits for its flow to be written: 10 s by
	// default.
	DurableTimeout time.Duration
	// Outbox: every recorded flow also gets an outbox key, written in the same badger batch as
	// the flow, until Sent removes it: the fleet publishes what Outbox returns. Keys written
	// while it was on stay (and are counted) when it is turned off.
	Outbox bool
	// OutboxMemory is how many bytes of the flows last committed the store keeps in memory,
	// encoded, for OutboxEncoded to hand over without reading them back (decrypting them
	// again): 16 MiB by default with Outbox, a few seconds of flows; negative keeps none.
	OutboxMemory int64
	// MinFreeBytes is the free disk space the store keeps: Open refuses to start with less, and
	// the writer stops writing (dropping and counting flows) before a batch would take the disk
	// below it, and starts again when space is back. badger dies of SIGBUS when its
	// memory-mapped files cannot grow, so this reserve is what keeps a full disk from taking
	// the process down; it must cover what badger writes on its own after the last check
	// (flushes, a compaction, a value-log GC rewrite). 0 means the default (defaultMinFree, or
	// more when the sizing options need it); negative disables the reserve, for tests only.
	MinFreeBytes int64

	// Memory and file sizing (defaults suit a small machine; see the package documentation).
	MemTableSize     int64 // 8 MiB
	BlockCacheSize   int64 // 32 MiB
	IndexCacheSize   int64 // 16 MiB
	ValueLogFileSize int64 // 128 MiB; the unit value-log GC reclaims

	// Logger receives the store's own lines and badger's warnings and errors.
	Logger zerolog.Logger
	// Now is the clock (time.Now by default), for tests of retention.
	Now func() time.Time

	// tableSize overrides the 2 MiB LSM table size, for tests that need many tables.
	tableSize int64
	// skipChecks: Open does not read the files first (Verify has just read them).
	skipChecks bool
	// tune changes badger's options last, for benchmarks that compare them.
	tune func(*badger.Options)
}

const (
	defaultRetention    = 30 * 24 * time.Hour
	defaultBodyLimit    = 256 << 10
	defaultQueueSize    = 8192
	defaultQueueBytes   = 64 << 20
	defaultBatchSize    = 1024
	defaultGCInterval   = 10 * time.Minute
	defaultMinFree      = 256 << 20
	defaultMemTable     = 8 << 20
	defaultBlockCache   = 32 << 20
	defaultIndexCache   = 16 << 20
	defaultValueLogFile = 128 << 20

	// The LSM tree's shape (see badgerOptions); the free-space reserve is derived from it.
	numMemtables            = 3
	numLevelZeroTables      = 4
	numLevelZeroTablesStall = 12
	baseTableSize           = 2 << 20
	baseLevelSize           = 32 << 20
	// valueThreshold: values of this size or more go to the value log, the rest stay in the LSM
	// tree. Bodies always go, and so does the metadata of a flow with findings (~500 bytes):
	// the LSM tree then holds little but keys, which keeps compaction (and its table builders'
	// memory) small. See the package documentation for the measurements.
	valueThreshold = 256
)

func (o *Options) setDefaults() {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Outbox {
		def(&o.OutboxMemory, 16<<20)
	}
	if o.Retention == 0 {
		o.Retention = defaultRetention
	}
	if o.BodyLimit == 0 {
		o.BodyLimit = defaultBodyLimit
	}
	if o.QueueSize <= 0 {
		o.QueueSize = defaultQueueSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = defaultBatchSize
	}
	if o.GCInterval == 0 {
		o.GCInterval = defaultGCInterval
	}
	if o.DurableTimeout <= 0 {
		o.DurableTimeout = defaultDurableTimeout
	}
	def(&o.QueueBytes, defaultQueueBytes)
	def(&o.MemTableSize, defaultMemTable)
	def(&o.BlockCacheSize, defaultBlockCache)
	def(&o.IndexCacheSize, defaultIndexCache)
	def(&o.ValueLogFileSize, defaultValueLogFile)
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = max(defaultMinFree, o.reserveFloor())
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate() error {
	switch len(o.Key) {
	case 0, 16, 24, 32:
	default:
		return fmt.Errorf("store: encryption key has %d bytes; want 16, 24 or 32", len(o.Key))
	}
	if o.Key != nil && len(o.Key) == 0 {
		return errors.New("store: empty encryption key")
	}
	if o.Dir == "" {
		return errors.New("store: no directory")
	}
	if o.BodyLimit < 0 {
		return fmt.Errorf("store: negative body limit %d", o.BodyLimit)
	}
	if o.ValueLogFileSize < 1<<20 || o.ValueLogFileSize >= 2<<30 {
		return fmt.Errorf("store: value log file size %d out of range [1 MiB, 2 GiB)", o.ValueLogFileSize)
	}
	if o.MemTableSize < 1<<20 {
		return fmt.Errorf("store: memtable size %d below 1 MiB", o.MemTableSize)
	}
	return nil
}

// badgerOptions are the settings for a small machine. Measured at 1M flows of ~2 KiB (see the
// package documentation for the numbers).
func (o *Options) badgerOptions() badger.Options {
	b := badger.DefaultOptions(o.Dir).
		// WithLoggingLevel installs badger's own stderr logger: it must come before WithLogger.
		WithLoggingLevel(badger.WARNING).
		WithLogger(badgerLogger{o.Logger.With().Str("component", "badger").Logger()}).
		WithMetricsEnabled(false).
		WithDetectConflicts(false). // one writer, write batches only
		WithNumVersionsToKeep(1).
		WithSyncWrites(o.SyncWrites).
		// Damage read at run time is an error, not garbage or a panic: every table block's
		// checksum is verified when it is read from disk (cached blocks are not read again),
		// and every value's when it is read from the value log.
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true).
		WithValueThreshold(valueThreshold).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(numMemtables).
		WithNumLevelZeroTables(numLevelZeroTables).
		WithNumLevelZeroTablesStall(numLevelZeroTablesStall).
		WithBaseTableSize(baseTableSize).
		WithBaseLevelSize(baseLevelSize).
		WithNumCompactors(2).
		WithBlockCacheSize(o.BlockCacheSize).
		WithIndexCacheSize(o.IndexCacheSize).
		WithValueLogFileSize(o.ValueLogFileSize).
		WithCompression(options.Snappy).
		WithNumGoroutines(2)
	// Every table 2 MiB, at every level: a compaction runs up to 13 table builders at once,
	// each holding about three times a table, so table size bounds its memory.
	b.TableSizeMultiplier = 1
	if o.tableSize > 0 {
		b.BaseTableSize = o.tableSize
	}
	if o.tune != nil {
		o.tune(&b)
	}
	if len(o.Key) > 0 {
		b = b.WithEncryptionKey(o.Key).
			// Data keys rotate (each wrapped by Key, kept in KEYREGISTRY) every 10 days by default.
			WithEncryptionKeyRotationDuration(10 * 24 * time.Hour)
	}
	return b
}

// badgerLogger passes badger's warnings and errors to zerolog. Badger's info and debug lines
// (one per compaction and flush) are not wanted: the level is set to WARNING.
type badgerLogger struct{ l zerolog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error().Msg(strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn().Msg(strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}

// LoadOrCreateKey reads the store key at path (hex, as written here), creating a random 32-byte
// key with mode 0600 when the file does not exist; created says it did. A key file readable by
// group or others is refused, and so is one that does not hold a 16-, 24- or 32-byte key.
//
// A created key opens only a new store: opening an existing store with it fails with
// ErrWrongKey, so a lost key file never silently starts a second, empty store.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	key, created, err = secretfile.LoadOrCreateHex(path, "store key", 32)
	if err != nil {
		if errors.Is(err, secretfile.ErrNotHex) {
			return nil, false, fmt.Errorf("%w: want 32, 48 or 64 hex digits", err)
		}
		return nil, false, err
	}
	switch len(key) {
	case 16, 24, 32:
		return key, created, nil
	}
	return nil, false, fmt.Errorf("store key %s: %d bytes; want 16, 24 or 32 (32, 48 or 64 hex digits)", path, len(key))
}
