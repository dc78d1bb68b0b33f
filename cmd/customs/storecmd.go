package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/admin"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/store"
)

// cmdStore runs `customs store verify` and `customs store repair`.
func cmdStore(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		printHelp(stdout, storeHelp, nil)
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageError{errors.New("want a subcommand: verify or repair (customs store -h)")}
	}
	sub, args := args[0], args[1:]
	var h help
	switch sub {
	case "verify":
		h = storeVerifyHelp
	case "repair":
		h = storeRepairHelp
	default:
		return usageError{fmt.Errorf("unknown subcommand %q: want verify or repair", sub)}
	}
	c := newCommand("store "+sub, h, stdout)
	configPath := c.fs.String("config", "", "config file (data directory, store key)")
	data := c.fs.String("data", "", "data directory (default ./customs-data)")
	var out *string
	if sub == "repair" {
		out = c.fs.String("out", "", "write the repaired store here and leave DIR/store as it is (default: repair in place, keeping the damaged store aside as DIR/store.damaged-TIME)")
	}
	if err := c.noArgs(args); err != nil {
		return err
	}
	cfg := config.Default()
	if *configPath != "" {
		var err error
		if cfg, err = config.Load(*configPath); err != nil {
			return usageError{err}
		}
	}
	if *data != "" {
		cfg.Data = *data
	}
	opts, err := storeOptions(cfg, zerolog.New(stderr).Level(zerolog.ErrorLevel))
	if err != nil {
		return err
	}
	if sub == "verify" {
		rep, err := store.Verify(opts)
		if err != nil {
			return storeInUse(err)
		}
		printReport(stdout, rep, "verify")
		if rep.Damaged() {
			fmt.Fprintf(stdout, "\nThe store is damaged: customs serve will not open it. customs store repair copies what is readable into a new store.\n")
			return errFindings
		}
		return nil
	}
	return repairStore(opts, *out, stdout)
}

var storeHelp = help{
	usage: `customs store verify | repair [flags]`,
	about: `Check the flow store, and copy what is readable out of a damaged one. Both need the store to
themselves: stop customs serve first.`,
	commands: `verify   read every flow and file, exit 1 if damaged
repair   copy what is readable to a new store`,
	examples: `customs store verify --data /var/lib/customs
customs store repair --data /var/lib/customs`,
}

var storeVerifyHelp = help{
	usage: `customs store verify [--data DIR] [--config FILE]`,
	about: `Read the whole flow store — every table block, every log entry, every flow and its bodies —
and report counts and anything unreadable, by file and place. Exit 1 when the store is damaged.
Needs the store to itself: stop customs serve first.`,
	examples: `customs store verify --data /var/lib/customs`,
}

var storeRepairHelp = help{
	usage: `customs store repair [--data DIR] [--config FILE] [--out DIR]`,
	about: `Copy everything readable into a new store (same key) and report what was lost. Without --out
the new store replaces DIR/store and the damaged one is kept, untouched, as
DIR/store.damaged-TIME; with --out, DIR/store is left as it is.`,
	examples: `customs store repair --data /var/lib/customs
customs store repair --data /var/lib/customs --out /var/lib/customs/store.new   # leave the damaged store in place`,
}

// storeOptions are the options serve opens the store with, for the store commands: the key
// must exist (only serve creates it).
func storeOptions(cfg config.Config, logger zerolog.Logger) (store.Options, error) {
	keyPath := cfg.Store.KeyFile
	if keyPath == "" {
		keyPath = filepath.Join(cfg.Data, "store.key")
	}
	dir := filepath.Join(cfg.Data, "store")
	if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
		return store.Options{}, fmt.Errorf("no flow store in %s (customs serve creates it; --data names another)", cfg.Data)
	}
	if _, err := os.Stat(dir); err != nil {
		return store.Options{}, fmt.Errorf("no flow store in %s: %w", cfg.Data, err)
	}
	key, _, err := store.LoadOrCreateKey(keyPath)
	if err != nil {
		return store.Options{}, err
	}
	return store.Options{Dir: dir, Key: key, Retention: cfg.Store.Retention.D(), BodyLimit: int(cfg.Store.BodyLimit),
		MinFreeBytes: int64(cfg.Store.MinFree), Logger: logger}, nil
}

func storeInUse(err error) error {
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: stop customs serve first (it checks the store at every start)", err)
	}
	return err
}

// repairStore copies what is readable into a new store: into out when given (DIR/store stays
// as it is), else next to DIR/store, which is then moved aside and replaced by the copy.
func repairStore(opts store.Options, out string, stdout io.Writer) error {
	inPlace := out == ""
	stamp := time.Now().UTC().Format("20060102T150405Z")
	if inPlace {
		out = opts.Dir + ".repair-" + stamp
	}
	rep, err := store.Repair(opts, out)
	if err != nil {
		if inPlace {
			os.RemoveAll(out) // a partial copy of our own making
		}
		return storeInUse(err)
	}
	printReport(stdout, rep, "repair")
	if inPlace {
		aside := opts.Dir + ".damaged-" + stamp
		if err := os.Rename(opts.Dir, aside); err != nil {
			return fmt.Errorf("repaired store written to %s, but the damaged one could not be moved aside: %w", out, err)
		}
		if err := os.Rename(out, opts.Dir); err != nil {
			return fmt.Errorf("the damaged store is at %s and the repaired one at %s, but it could not be moved into place: %w", aside, out, err)
		}
		fmt.Fprintf(stdout, "\nThe repaired store is now %s; the damaged one is kept, untouched, at %s.\n", opts.Dir, aside)
		fmt.Fprintf(stdout, "A customs serve that started on the damaged store records nothing until it is restarted.\n")
	} else {
		fmt.Fprintf(stdout, "\nThe repaired store is %s; %s was not changed. To use it, stop customs serve and move it into place.\n", out, opts.Dir)
	}
	return nil
}

func printReport(w io.Writer, r *store.Report, what string) {
	state := "sound"
	if r.Damaged() {
		state = "DAMAGED"
	}
	if what == "repair" {
		fmt.Fprintf(w, "repaired %s (%s): %d keys copied\n", r.Dir, state, r.Copied)
		fmt.Fprintf(w, "  the repaired store: %d flows (%d with headers and bodies) over %d days, %d index entries\n", r.Flows, r.Bodies, r.Days, r.IndexEntries)
	} else {
		fmt.Fprintf(w, "store %s: %s\n", r.Dir, state)
		fmt.Fprintf(w, "  files: %d tables (%d keys, every block's checksum verified), %d log entries\n", r.Tables, r.TableKeys, r.LogEntries)
		fmt.Fprintf(w, "  flows: %d readable (%d with headers and bodies) over %d days, %d index entries\n", r.Flows, r.Bodies, r.Days, r.IndexEntries)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "  damaged (%d):\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(w, "    %s\n", p)
		}
	}
	if r.Unreadable+r.MissingBodies+r.Dangling > 0 {
		fmt.Fprintf(w, "  lost: %d unreadable keys, %d flows without their bodies, %d flows without their metadata\n", r.Unreadable, r.MissingBodies, r.Dangling)
		for _, l := range r.Lost {
			fmt.Fprintf(w, "    %s\n", l)
		}
		if n := r.Unreadable + r.MissingBodies + r.Dangling; n > len(r.Lost) {
			fmt.Fprintf(w, "    (and %d more)\n", n-len(r.Lost))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// --- serve's store wiring -----------------------------------------------------------------

// openServeStore opens the flow store for serve. A store that cannot be opened because it is
// damaged, or because its disk has no room, stops serve only when store.required is set;
// otherwise serve proxies without recording, and says so at error level, in
// customs_store_up and in the flow API's answers.
func openServeStore(cfg config.Config, logger zerolog.Logger) (st *store.Store, unavailable error, err error) {
	st, err = openStore(cfg, logger, true)
	if err == nil {
		return st, nil, nil
	}
	if cfg.Store.Required || !(errors.Is(err, store.ErrDamaged) || errors.Is(err, store.ErrDiskFull)) {
		return nil, nil, err
	}
	logger.Error().Err(err).Bool("recording", false).
		Msg("flow store unavailable: customs keeps proxying but records NO flows (set store.required: true to refuse to start instead)")
	return nil, err, nil
}

// storeMetrics registers the store's counters and gauges. st is nil when serve runs without
// its store.
func storeMetrics(metrics *admin.Metrics, st *store.Store) {
	metrics.GaugeFunc("customs_store_up", "1 while flows are recorded; 0 when serve runs without its store (damaged, or no room at start).",
		func() float64 {
			if st == nil {
				return 0
			}
			return 1
		})
	if st == nil {
		return
	}
	metrics.GaugeFunc("customs_store_disk_low", "1 while the store's disk is below store.min_free: flows are dropped, not written.",
		func() float64 {
			if st.Stats().DiskLow {
				return 1
			}
			return 0
		})
	metrics.GaugeFunc("customs_store_free_bytes", "Free bytes on the store's disk, as the writer last saw them.", func() float64 { return float64(st.Stats().FreeBytes) })
	metrics.CounterFunc("customs_store_read_errors_total", "Reads that met unreadable data: the store is damaged there (customs store verify).",
		func() float64 { return float64(st.Stats().ReadErrors) })
}

// unavailableAPI answers the flow API when serve runs without its store. It names no path or
// detail (it answers without the admin token): the log line has them.
func unavailableAPI(reason error) http.Handler {
	msg := "customs: the flow store is unavailable and no flows are recorded (see customs' log)"
	if errors.Is(reason, store.ErrDamaged) {
		msg = "customs: the flow store is damaged and no flows are recorded: run customs store verify (see customs' log)"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, msg, http.StatusServiceUnavailable)
	})
}

// storeRecorder adds the store to the proxy's recorders: as a durable recorder with
// store.durability: sync, as one more recorder otherwise.
func storeRecorder(cfg config.Config, rs flow.Recorders, st *store.Store) flow.Recorder {
	if cfg.Store.Durability == "sync" {
		return durableRecorders{Recorders: rs, store: st}
	}
	return append(rs, st)
}

// durableRecorders records a flow on every recorder, and durably on the store: with
// store.durability: sync it is the proxy's recorder, and the proxy calls RecordDurable before
// it releases the last bytes of a response.
type durableRecorders struct {
	flow.Recorders // the others: log line, alerts, metrics
	store          *store.Store
}

func (d durableRecorders) Record(f *flow.Flow) {
	d.Recorders.Record(f)
	d.store.Record(f)
}

func (d durableRecorders) RecordDurable(f *flow.Flow) error {
	d.Recorders.Record(f)
	return d.store.RecordDurable(f)
}

var _ flow.DurableRecorder = durableRecorders{}
