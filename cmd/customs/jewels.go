package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/edm"
	"github.com/customs-dev/customs/detectors/fingerprint"
	"github.com/customs-dev/customs/detectors/jewels"
	"github.com/customs-dev/customs/inspect"
)

// cmdJewels runs customs jewels: index the company's own code, documents and tables.
func cmdJewels(args []string, stdout, stderr io.Writer) error {
	return subcommands("jewels", jewelsHelp, args, stdout, map[string]func([]string) error{
		"add":       func(args []string) error { return jewelsAdd(args, stdout) },
		"add-table": func(args []string) error { return jewelsAddTable(args, stdout) },
		"list":      func(args []string) error { return jewelsList(args, stdout, false) },
		"stats":     func(args []string) error { return jewelsList(args, stdout, true) },
		"remove":    func(args []string) error { return jewelsRemove(args, stdout) },
	})
}

// jewelsFlags registers --config and --data and returns the configuration they name.
func jewelsFlags(c *command) func() (config.Config, error) {
	ff := flowFlags{}
	c.fs.StringVar(&ff.configPath, "config", "", "config file (its data directory)")
	c.fs.StringVar(&ff.data, "data", "", "data directory (default ./customs-data)")
	return func() (config.Config, error) {
		cfg, err := ff.config()
		if err != nil {
			return cfg, usageError{err}
		}
		return cfg, nil
	}
}

// findingKey is the installation key of DIR/finding.key, created when create is set (jewels
// add, serve) — the indexes are keyed with it, so that they hold nothing a reader without the
// key could test guesses against.
func findingKey(cfg config.Config, create bool) ([]byte, error) {
	path := filepath.Join(cfg.Data, detectors.KeyFile)
	if !create && !exists(path) {
		return nil, fmt.Errorf("no finding key %s: the indexes in %s were made with a key this data directory does not have", path, jewelsDir(cfg))
	}
	if create {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return nil, err
		}
	}
	return detectors.LoadOrCreateKey(path)
}

func jewelsDir(cfg config.Config) string { return filepath.Join(cfg.Data, jewels.Dir) }

// loadJewels loads DIR/jewels with the finding key; nil when there are none.
func loadJewels(cfg config.Config) (*jewels.Set, error) {
	files, err := jewels.Files(jewelsDir(cfg))
	if err != nil || len(files) == 0 {
		return nil, err
	}
	key, err := findingKey(cfg, false)
	if err != nil {
		return nil, err
	}
	return jewels.Load(jewelsDir(cfg), key)
}

// newEcho is the echo memory the config asks for (nil when off).
func newEcho(cfg config.Config, key []byte) (*jewels.Echo, error) {
	if !cfg.Jewels.Echo || key == nil {
		return nil, nil
	}
	return jewels.NewEcho(key, jewels.EchoOptions{Window: cfg.Jewels.EchoWindow.D(), Budget: int64(cfg.Jewels.EchoBudget)})
}

// writeIndex writes an index to DIR/jewels/LABEL.EXT through a temporary file and a rename, so
// that serve never loads half a file; mode 0600.
func writeIndex(dir, label, ext string, w io.WriterTo) (int64, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(dir, "."+label+"-*.tmp")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := w.WriteTo(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, label+ext))
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", filepath.Join(dir, label+ext), err)
	}
	return n, nil
}

// labelTaken refuses a label the other kind of index already has: "remove LABEL" must name one
// thing.
func labelTaken(dir, label, otherExt string) error {
	if exists(filepath.Join(dir, label+otherExt)) {
		return usageError{fmt.Errorf("label %q is already taken by a %s index; choose another or \"customs jewels remove %s\" first",
			label, map[string]string{jewels.FingerprintExt: "code or document", jewels.TableExt: "table"}[otherExt], label)}
	}
	return nil
}

func jewelsAdd(args []string, stdout io.Writer) error {
	c := newCommand("jewels add", jewelsAddHelp, stdout)
	conf := jewelsFlags(c)
	label := c.fs.String("label", "", "name of this set of files (lower-case letters, digits, '-', '_', '.')")
	class := c.fs.String("class", "", "code or document (default: by each file's extension)")
	keepStrings := c.fs.Bool("keep-strings", false, "code: keep string literals (default: they are replaced, so that renamed messages still match)")
	var ignore stringList
	c.fs.Var(&ignore, "ignore", "a gitignore-style pattern of paths to leave out (repeatable), besides each tree's .gitignore")
	paths, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageError{fmt.Errorf("want one or more files or directories to index; %s", c.hint())}
	}
	if err := jewels.ValidLabel(*label); err != nil {
		return usageError{err}
	}
	var cl fingerprint.Class
	switch *class {
	case "":
	case "code", "document":
		cl = fingerprint.Class(*class)
	default:
		return usageError{fmt.Errorf("--class: want code or document, got %q", *class)}
	}
	cfg, err := conf()
	if err != nil {
		return err
	}
	dir := jewelsDir(cfg)
	if err := labelTaken(dir, *label, jewels.TableExt); err != nil {
		return err
	}
	key, err := findingKey(cfg, true)
	if err != nil {
		return err
	}
	start := time.Now()
	b := fingerprint.NewBuilder(key, fingerprint.Options{KeepStrings: *keepStrings, Ignore: ignore})
	var total fingerprint.Stats
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return usageError{err}
		}
		// A file is indexed under its own name, a tree's files under their paths in it.
		st, err := b.AddTree(*label, cl, p)
		if err != nil {
			return fmt.Errorf("index %s: %w", p, err)
		}
		total.Files += st.Files
		total.Bytes += st.Bytes
		for r, n := range st.Skipped {
			if total.Skipped == nil {
				total.Skipped = map[string]int64{}
			}
			total.Skipped[r] += n
		}
		total.Skips = append(total.Skips, st.Skips...)
	}
	if total.Files == 0 {
		return usageError{fmt.Errorf("nothing to index in %s (skipped: %s)", strings.Join(paths, ", "), skippedText(total.Skipped))}
	}
	ix := b.Build()
	replaced := exists(filepath.Join(dir, *label+jewels.FingerprintExt))
	n, err := writeIndex(dir, *label, jewels.FingerprintExt, ix)
	if err != nil {
		return err
	}
	verb := "indexed"
	if replaced {
		verb = "re-indexed (replacing the previous index of this label)"
	}
	var prints int64
	for _, l := range ix.Labels() {
		prints += l.Prints
	}
	fmt.Fprintf(stdout, "%s %q: %s, %s of text, %s kept, in %s\n", verb, *label, plural(int(total.Files), "file", ""),
		sizeText(total.Bytes), plural(int(prints), "fingerprint", ""), time.Since(start).Round(time.Millisecond))
	if len(total.Skipped) > 0 {
		fmt.Fprintf(stdout, "skipped: %s\n", skippedText(total.Skipped))
		for _, sk := range total.Skips[:min(len(total.Skips), 10)] {
			fmt.Fprintf(stdout, "  %s: %s\n", sk.Name, sk.Reason)
		}
	}
	fmt.Fprintf(stdout, "index: %s (%s; keyed hashes and file names only, no text)\n", filepath.Join(dir, *label+jewels.FingerprintExt), sizeText(n))
	fmt.Fprintf(stdout, "a running customs serve picks it up within %s\n", cfg.Jewels.Reload)
	return nil
}

func skippedText(m map[string]int64) string {
	if len(m) == 0 {
		return "nothing"
	}
	var parts []string
	for _, r := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%d %s", m[r], r))
	}
	return strings.Join(parts, ", ")
}

func jewelsAddTable(args []string, stdout io.Writer) error {
	c := newCommand("jewels add-table", jewelsAddTableHelp, stdout)
	conf := jewelsFlags(c)
	label := c.fs.String("label", "", "name of this table (lower-case letters, digits, '-', '_', '.')")
	columns := c.fs.String("columns", "", "the columns to index, with an optional type: name,email,account_id:id,iban")
	minColumns := c.fs.Int("min-columns", 2, "a row matches when this many of its distinct columns are in one text")
	minRows := c.fs.Int("min-rows", 5, "or when this many rows have a value in one text, a bulk paste (-1: off)")
	maxRows := c.fs.Int("max-rows-per-value", 3, "a value found in more rows than this is common and never matches")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usageError{fmt.Errorf("want one CSV file; %s", c.hint())}
	}
	if err := jewels.ValidLabel(*label); err != nil {
		return usageError{err}
	}
	if *columns == "" {
		return usageError{errors.New("--columns is required: the columns to index (name,email,account_id,iban)")}
	}
	cols, err := edm.ParseColumns(*columns)
	if err != nil {
		return usageError{fmt.Errorf("--columns: %w", err)}
	}
	cfg, err := conf()
	if err != nil {
		return err
	}
	dir := jewelsDir(cfg)
	if err := labelTaken(dir, *label, jewels.FingerprintExt); err != nil {
		return err
	}
	key, err := findingKey(cfg, true)
	if err != nil {
		return err
	}
	path := positional[0]
	f, err := os.Open(path)
	if err != nil {
		return usageError{err}
	}
	defer f.Close()
	start := time.Now()
	if *minColumns < 1 || *maxRows < 1 || *minRows == 0 {
		return usageError{errors.New("--min-columns and --max-rows-per-value must be 1 or more, --min-rows 1 or more (or -1: off)")}
	}
	t, st, err := edm.BuildTable(f, key, edm.Options{Label: *label, Columns: cols, MinColumns: *minColumns, MinRows: *minRows, MaxRowsPerValue: *maxRows,
		Source: path})
	if err != nil {
		return usageError{err} // it names the file and the line already (Options.Source)
	}
	replaced := exists(filepath.Join(dir, *label+jewels.TableExt))
	n, err := writeIndex(dir, *label, jewels.TableExt, t)
	if err != nil {
		return err
	}
	verb := "indexed"
	if replaced {
		verb = "re-indexed (replacing the previous index of this label)"
	}
	info := t.Info()
	fmt.Fprintf(stdout, "%s table %q: %s, %s kept of %s (dropped: %d common, %d too short, %d not of the column's type, %d empty), columns %s, in %s\n", verb, *label,
		plural(int(st.Rows), "row", ""), plural(int(info.Values), "value", ""), plural(int(st.Cells), "cell", ""), st.DroppedCommon, st.DroppedShort,
		st.DroppedInvalid, st.Dropped-st.DroppedCommon-st.DroppedShort-st.DroppedInvalid, columnText(info.Columns), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "a row matches with %d of its columns in one text; %d rows with a value each are a bulk paste; a value in more than %d rows never matches\n",
		info.MinColumns, info.MinRows, info.MaxRowsPerValue)
	for _, w := range st.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "index: %s (%s; keyed hashes and row numbers only, no values)\n", filepath.Join(dir, *label+jewels.TableExt), sizeText(n))
	fmt.Fprintf(stdout, "a running customs serve picks it up within %s\n", cfg.Jewels.Reload)
	return nil
}

func columnText(cols []edm.Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + ":" + string(c.Type)
	}
	return strings.Join(parts, ",")
}

// jewelsList prints the indexes; with detail (stats), what each holds, read with the key.
func jewelsList(args []string, stdout io.Writer, detail bool) error {
	name, h := "jewels list", jewelsListHelp
	if detail {
		name, h = "jewels stats", jewelsStatsHelp
	}
	c := newCommand(name, h, stdout)
	conf := jewelsFlags(c)
	if err := c.noArgs(args); err != nil {
		return err
	}
	cfg, err := conf()
	if err != nil {
		return err
	}
	files, err := jewels.Files(jewelsDir(cfg))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintf(stdout, "no jewels indexed in %s (customs jewels add PATH --label NAME)\n", jewelsDir(cfg))
		return nil
	}
	if !detail {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LABEL\tKIND\tSIZE\tWRITTEN")
		for _, f := range files {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Label, f.Kind, sizeText(f.Size), f.Mod.UTC().Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	}
	key, err := findingKey(cfg, false)
	if err != nil {
		return err
	}
	set, err := jewels.Load(jewelsDir(cfg), key)
	if err != nil {
		return err
	}
	st := set.Stats()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LABEL\tKIND\tCLASS\tFILES/ROWS\tSOURCE\tPRINTS/VALUES\tON DISK\tIN MEMORY\tBUILT")
	for _, l := range st.Labels {
		source := sizeText(l.SourceBytes)
		if l.Kind == "table" {
			source = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", l.Label, l.Kind, l.Class, l.Items, source, l.Prints,
			sizeText(l.DiskBytes), sizeText(l.MemoryBytes), l.Built.UTC().Format("2006-01-02 15:04"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s, %s in memory when serve loads them\n", plural(len(st.Labels), "index", "indexes"), sizeText(st.MemoryBytes))
	return nil
}

func jewelsRemove(args []string, stdout io.Writer) error {
	c := newCommand("jewels remove", jewelsRemoveHelp, stdout)
	conf := jewelsFlags(c)
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usageError{fmt.Errorf("want one label; %s", c.hint())}
	}
	cfg, err := conf()
	if err != nil {
		return err
	}
	label := positional[0]
	files, err := jewels.Files(jewelsDir(cfg))
	if err != nil {
		return err
	}
	var labels []string
	removed := 0
	for _, f := range files {
		labels = append(labels, f.Label)
		if f.Label == label {
			if err := os.Remove(f.Path); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "removed %s index %q (%s)\n", f.Kind, label, f.Path)
			removed++
		}
	}
	if removed == 0 {
		msg := fmt.Sprintf("no index labelled %q in %s", label, jewelsDir(cfg))
		if s := closestName(label, labels); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError{errors.New(msg)}
	}
	fmt.Fprintf(stdout, "a running customs serve drops it within %s\n", cfg.Jewels.Reload)
	return nil
}

// jewelWatcher reloads DIR/jewels into the pipeline when its files change.
type jewelWatcher struct {
	cfg      config.Config
	pipeline *inspect.Pipeline
	logger   zerolog.Logger
	last     string
	set      *jewels.Set
}

// filesKey names the index files with their sizes and times.
func filesKey(files []jewels.File) string {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "%s:%d:%d\n", f.Path, f.Size, f.Mod.UnixNano())
	}
	return b.String()
}

// load loads the jewels at start; an index that cannot be read stops serve (fail closed: the
// operator asked for it to be protected).
func (w *jewelWatcher) load() error {
	files, err := jewels.Files(jewelsDir(w.cfg))
	if err != nil {
		return err
	}
	w.last = filesKey(files)
	set, err := loadJewels(w.cfg)
	if err != nil {
		return fmt.Errorf("%w (customs jewels list; remove or re-add the index)", err)
	}
	w.set = set
	w.pipeline.SwapJewels(set)
	w.logLoaded("start")
	return nil
}

func (w *jewelWatcher) logLoaded(why string) {
	var labels []string
	for _, f := range w.set.Files() {
		labels = append(labels, f.Label+" ("+f.Kind+")")
	}
	if len(labels) == 0 && why == "start" {
		return
	}
	w.logger.Info().Str("type", "jewels").Str("trigger", why).Strs("indexes", labels).Msg("jewels loaded")
}

func (w *jewelWatcher) watch(ctx context.Context) {
	t := time.NewTicker(w.cfg.Jewels.Reload.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.check()
		}
	}
}

// check reloads when the index files changed. A file that cannot be read keeps the jewels in
// force, and says so.
func (w *jewelWatcher) check() {
	files, err := jewels.Files(jewelsDir(w.cfg))
	if err == nil && filesKey(files) == w.last {
		return
	}
	var set *jewels.Set
	if err == nil {
		w.last = filesKey(files)
		set, err = loadJewels(w.cfg)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return // a file removed between the listing and the read: the next tick sees it
		}
		w.logger.Error().Str("type", "jewels").Err(err).Msg("jewels reload rejected; the jewels in force stay")
		return
	}
	w.set = set
	w.pipeline.SwapJewels(set)
	w.logLoaded("index files changed")
}

// sizeText is a byte count for people: 843 B, 12.4 KiB, 3.1 MiB.
func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
