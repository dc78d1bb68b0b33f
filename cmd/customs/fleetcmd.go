package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/fleet"
	"github.com/customs-dev/customs/rules"
	"github.com/customs-dev/customs/store"
)

// fleetOptions maps the config's fleet: section to the fleet package's options, the key loaded.
// from, when given, replaces the servers (a reader's --from nats://…).
func fleetOptions(cfg config.Config, from string) (fleet.Options, error) {
	f := cfg.Fleet
	servers := f.Servers
	if from != "" {
		servers = strings.Split(from, ",")
		for _, srv := range servers {
			u, err := url.Parse(srv)
			switch {
			case err != nil || u.Host == "":
				return fleet.Options{}, usageError{fmt.Errorf("--from %q: want nats://HOST:PORT (or tls://, ws://, wss://), comma-separated", srv)}
			case u.User != nil:
				// A password on the command line is in every process listing.
				return fleet.Options{}, usageError{fmt.Errorf("--from %s: no credentials in the URL; use fleet.creds, fleet.nkey or fleet.user with fleet.password_file in the config", u.Redacted())}
			}
			switch u.Scheme {
			case "nats", "tls", "ws", "wss":
			default:
				return fleet.Options{}, usageError{fmt.Errorf("--from %q: want nats://, tls://, ws:// or wss://", srv)}
			}
		}
	}
	if len(servers) == 0 {
		return fleet.Options{}, errors.New("no fleet: the config has no fleet: servers, and no --from nats://HOST:PORT was given")
	}
	if f.KeyFile == "" {
		return fleet.Options{}, errors.New("the fleet key: set fleet.key_file in the config (every site and reader holds the same file)")
	}
	key, err := fleet.LoadKey(f.KeyFile)
	if err != nil {
		return fleet.Options{}, err
	}
	return fleet.Options{
		Servers: servers, Site: f.Site, Key: key,
		Creds: f.Creds, NKey: f.NKey, User: f.User, PasswordFile: f.PasswordFile,
		CA: f.TLS.CA, Cert: f.TLS.Cert, CertKey: f.TLS.Key, ServerName: f.TLS.ServerName,
		Stream: f.Stream, Replicas: f.Replicas, MaxAge: f.MaxAge.D(), MaxBytes: int64(f.MaxBytes),
		DuplicateWindow: f.DuplicateWindow.D(), RulesBucket: f.RulesBucket, Batch: f.Batch,
	}, nil
}

// dialFleet connects a command (not serve) to the fleet: it fails when no server answers.
func dialFleet(cfg config.Config, from, role string) (*fleet.Conn, error) {
	o, err := fleetOptions(cfg, from)
	if err != nil {
		var ue usageError
		if !errors.As(err, &ue) {
			err = usageError{err} // the config or the flags say too little
		}
		return nil, err
	}
	o.Name = "customs " + role
	return fleet.Dial(o, false)
}

// fleetSource reads the fleet's record: the flows of every site (or one), from the stream.
type fleetSource struct {
	masking
	conn *fleet.Conn
	site string
}

func (s *fleetSource) report(st fleet.ReadStats) {
	if st.Unreadable > 0 {
		fmt.Fprintf(s.stderr, "customs: %d of %d fleet messages did not open and were left out; the first: %v\n", st.Unreadable, st.Messages, st.FirstError())
	}
}

// records hands fn the records f selects, metadata only, as a report or a digest reads them.
func (s *fleetSource) records(ctx context.Context, f store.Filter, fn func(*store.Record) error) error {
	st, err := s.conn.Each(ctx, f, s.site, false, fn)
	s.report(st)
	return err
}

func (s *fleetSource) Each(ctx context.Context, f store.Filter, o readOptions, fn func(*view) error) (bool, error) {
	if err := s.prepare(o); err != nil {
		return false, err
	}
	return eachLimited(f, func(f store.Filter, g func(*store.Record) error) error {
		st, err := s.conn.Each(ctx, f, s.site, o.bodies != noBodies, g)
		s.report(st)
		return err
	}, func(r *store.Record) error { return fn(s.view(r, o)) })
}

func (s *fleetSource) Get(ctx context.Context, id string, o readOptions) (*view, error) {
	r, err := s.conn.Get(ctx, id)
	if errors.Is(err, fleet.ErrNotFound) {
		return nil, fmt.Errorf("no flow %q in the fleet's record: %w", id, store.ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := s.prepare(o); err != nil {
		return nil, err
	}
	return s.view(&r, o), nil
}

// fleetRead is what the reading commands' --fleet, --from and --site say.
type fleetRead struct {
	on   bool
	from string
	site string
}

func (fr *fleetRead) register(fs *flag.FlagSet) {
	fs.BoolVar(&fr.on, "fleet", false, "read the fleet's record (every site, over NATS JetStream) instead of the local store")
	fs.StringVar(&fr.from, "from", "", "with the fleet: these NATS servers (nats://HOST:PORT,…) instead of the config's; implies --fleet")
	fs.StringVar(&fr.site, "site", "", "with --fleet: the flows of this site only")
}

func (fr fleetRead) enabled() bool { return fr.on || fr.from != "" }

// source opens where a reading command reads: the fleet's record, or the local store (or the
// running serve's API).
func (fr fleetRead) source(cfg config.Config, stderr io.Writer) (flowSource, func(), error) {
	if !fr.enabled() {
		if fr.site != "" {
			return nil, nil, usageError{errors.New("--site selects a site of the fleet's record: give --fleet too")}
		}
		return openFlowSource(cfg, stderr)
	}
	if fr.site != "" && !fleet.ValidSite(fr.site) {
		return nil, nil, usageError{fmt.Errorf("--site %q: a site is 1–64 letters, digits, '-' or '_'", fr.site)}
	}
	conn, err := dialFleet(cfg, fr.from, "reader")
	if err != nil {
		return nil, nil, err
	}
	return &fleetSource{masking: masking{cfg: cfg, stderr: stderr}, conn: conn, site: fr.site}, conn.Close, nil
}

func cmdFleet(args []string, stdout, stderr io.Writer) error {
	return subcommands("fleet", fleetHelp, args, stdout, map[string]func([]string) error{
		"keygen": func(args []string) error {
			c := newCommand("fleet keygen", fleetKeygenHelp, stdout)
			paths, err := c.parse(args)
			if err != nil {
				return err
			}
			if len(paths) != 1 {
				return usageError{fmt.Errorf("fleet keygen takes one FILE; %s", c.hint())}
			}
			k, err := fleet.Keygen(paths[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created fleet key %s (id %s): copy it, mode 0600, to every site and reader, and name it in fleet.key_file\n", paths[0], k.ID)
			return nil
		},
		"status": func(args []string) error { return fleetStatus(args, stdout) },
	})
}

// fleetStatus is `customs fleet status`: the stream's state, its flows by site.
func fleetStatus(args []string, stdout io.Writer) error {
	c := newCommand("fleet status", fleetStatusHelp, stdout)
	configPath := c.fs.String("config", "", "config file (its fleet: section)")
	from := c.fs.String("from", "", "NATS servers (nats://HOST:PORT,…) instead of the config's")
	asJSON := c.fs.Bool("json", false, "the state as JSON")
	if err := c.noArgs(args); err != nil {
		return err
	}
	_, conn, err := rulesConn(*configPath, *from, "fleet status")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := conn.State(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	limit := "none"
	if st.MaxBytes > 0 {
		limit = fmt.Sprintf("%.1f GiB", float64(st.MaxBytes)/(1<<30))
	}
	fmt.Fprintf(stdout, "stream %s: %d flows, %.1f MiB, replicas %d, max age %s, max bytes %s, duplicate window %s\n",
		st.Name, st.Messages, float64(st.Bytes)/(1<<20), st.Replicas, st.MaxAge, limit, st.DuplicateWindow)
	if st.Messages > 0 {
		fmt.Fprintf(stdout, "received from %s to %s\n", st.First.UTC().Format(time.RFC3339), st.Last.UTC().Format(time.RFC3339))
	}
	if len(st.Cluster) > 0 {
		fmt.Fprintf(stdout, "held by %s\n", strings.Join(st.Cluster, ", "))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tFLOWS")
	for _, site := range slices.Sorted(maps.Keys(st.Sites)) {
		fmt.Fprintf(tw, "%s\t%d\n", site, st.Sites[site])
	}
	return tw.Flush()
}

// whoAmI names the publisher of a rule book: OS user and host.
func whoAmI() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// readRuleBook reads PATHs (rule files, or directories of *.yaml and *.yml) into a rule book.
func readRuleBook(paths []string) (fleet.RuleBook, error) {
	var b fleet.RuleBook
	seen := map[string]string{}
	add := func(path string) error {
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name := filepath.Base(path)
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("%s and %s have the same name; the sites keep the rule book's files side by side", prev, path)
		}
		seen[name] = path
		b.Files = append(b.Files, fleet.RuleFile{Name: name, Text: string(text)})
		return nil
	}
	for _, p := range paths {
		files, err := rules.Expand(p)
		if err != nil {
			return b, fmt.Errorf("%s: %w", p, err)
		}
		for _, f := range files {
			if err := add(f); err != nil {
				return b, err
			}
		}
	}
	for _, f := range b.Files {
		if err := fleet.CheckName(f.Name); err != nil {
			return b, err
		}
	}
	return b, nil
}

// writeRuleBook writes version v of the rule book under DIR/fleet-rules/v<v> (0700, files
// 0600: rules name markers and code names) and returns the directory, for a reload to read.
func writeRuleBook(dataDir string, v uint64, b fleet.RuleBook) (string, error) {
	dir := filepath.Join(dataDir, "fleet-rules", "v"+strconv.FormatUint(v, 10))
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return "", err
	}
	for _, f := range b.Files {
		if err := fleet.CheckName(f.Name); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(tmp, f.Name), []byte(f.Text), 0o600); err != nil {
			return "", err
		}
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// rulesPublish is `customs rules publish PATH...`: validated here as a reload validates, then
// sent to the fleet's rule book.
func rulesPublish(args []string, stdout, stderr io.Writer) error {
	c := newCommand("rules publish", rulesPublishHelp, stdout)
	configPath := c.fs.String("config", "", "config file (its fleet: section; codenames and vendors for validation)")
	from := c.fs.String("from", "", "NATS servers (nats://HOST:PORT,…) instead of the config's")
	paths, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageError{fmt.Errorf("rules publish takes the rule files or directories to publish; %s", c.hint())}
	}
	cfg, err := loadConfigFile(*configPath)
	if err != nil {
		return usageError{err}
	}
	book, err := readRuleBook(paths)
	if err != nil {
		return usageError{err}
	}
	pol, err := checkRuleBook(cfg, book, stderr)
	if err != nil {
		return err
	}
	conn, err := dialFleet(cfg, *from, "rules publish")
	if err != nil {
		return err
	}
	defer conn.Close()
	book.Published, book.By = time.Now().UTC(), whoAmI()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := conn.PublishRules(ctx, book)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published rule book version %d: %d files, %s, %s; every site with fleet.watch_rules takes it within seconds (customs rules status --fleet)\n",
		v, len(book.Files), plural(len(pol.set.Policies), "policy", "policies"), plural(len(pol.set.Detectors), "detector", ""))
	return nil
}

// checkRuleBook validates a rule book as a site's reload will: the same files, written the same
// way, loaded with the config's codenames and vendors. Its errors are printed with their carets.
func checkRuleBook(cfg config.Config, book fleet.RuleBook, stderr io.Writer) (*policy, error) {
	dir, err := os.MkdirTemp("", "customs-rulebook-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bookDir, err := writeRuleBook(dir, 0, book)
	if err != nil {
		return nil, err
	}
	pol, err := loadPolicy(cfg, []string{bookDir})
	if err != nil {
		printRuleErrors(stderr, err)
		fmt.Fprintln(stderr, "customs: the rule book was not published: it does not load")
		return nil, ruleErrors{err}
	}
	return pol, nil
}

// rulesConn loads the config at path and connects to its fleet (or from's servers).
func rulesConn(path, from, role string) (config.Config, *fleet.Conn, error) {
	cfg, err := loadConfigFile(path)
	if err != nil {
		return cfg, nil, usageError{err}
	}
	conn, err := dialFleet(cfg, from, role)
	return cfg, conn, err
}

// rulesStatus is `customs rules status --fleet`: which version each site runs.
func rulesStatus(args []string, stdout, stderr io.Writer) error {
	c := newCommand("rules status", rulesStatusHelp, stdout)
	configPath := c.fs.String("config", "", "config file (its fleet: section)")
	from := c.fs.String("from", "", "NATS servers (nats://HOST:PORT,…) instead of the config's")
	onFleet := c.fs.Bool("fleet", false, "the fleet's rule book and what each site runs")
	if err := c.noArgs(args); err != nil {
		return err
	}
	if !*onFleet && *from == "" {
		return usageError{errors.New(`rules status reports on the fleet's rule book: give --fleet (a single customs' rules are in "customs rules lint" and its console)`)}
	}
	_, conn, err := rulesConn(*configPath, *from, "rules status")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	book, v, err := conn.Rules(ctx, 0)
	switch {
	case errors.Is(err, fleet.ErrNotFound):
		fmt.Fprintln(stdout, "no rule book published yet: every site runs its own rule files")
		return nil
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "rule book version %d, published %s by %s: %s\n", v, book.Published.Format(time.RFC3339), book.By, fileNames(book))
	if book.Note != "" {
		fmt.Fprintf(stdout, "  (%s)\n", book.Note)
	}
	sts, err := conn.RuleStatuses(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tIN FORCE\tSEEN\tAT\tERRORS")
	behind := 0
	for _, s := range sts {
		inForce := "local files"
		if s.InForce > 0 {
			inForce = "v" + strconv.FormatUint(s.InForce, 10)
		}
		if s.InForce != v {
			behind++
		}
		fmt.Fprintf(tw, "%s\t%s\tv%d\t%s\t%s\n", s.Site, inForce, s.Seen, s.At.Format(time.RFC3339), strings.Join(s.Errors, "; "))
	}
	tw.Flush()
	if len(sts) == 0 {
		fmt.Fprintln(stdout, "no site has reported yet")
	} else if behind > 0 {
		fmt.Fprintf(stdout, "%d of %d sites do not run version %d\n", behind, len(sts), v)
	}
	return nil
}

func fileNames(b fleet.RuleBook) string {
	names := make([]string, len(b.Files))
	for i, f := range b.Files {
		names[i] = f.Name
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// rulesRollback is `customs rules rollback VERSION`: that version again, as the newest.
func rulesRollback(args []string, stdout, stderr io.Writer) error {
	c := newCommand("rules rollback", rulesRollbackHelp, stdout)
	configPath := c.fs.String("config", "", "config file (its fleet: section)")
	from := c.fs.String("from", "", "NATS servers (nats://HOST:PORT,…) instead of the config's")
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{fmt.Errorf("rules rollback takes one VERSION; %s", c.hint())}
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(rest[0], "v"), 10, 64)
	if err != nil || v == 0 {
		return usageError{fmt.Errorf("rules rollback %q: want a version number (customs rules status --fleet shows them)", rest[0])}
	}
	cfg, conn, err := rulesConn(*configPath, *from, "rules rollback")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The old version is validated again: this customs may know less than the one that
	// published it, and a site would refuse it anyway.
	book, _, err := conn.Rules(ctx, v)
	if err != nil {
		return err
	}
	if _, err := checkRuleBook(cfg, book, stderr); err != nil {
		return err
	}
	nv, err := conn.Rollback(ctx, v, whoAmI())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rule book version %d is version %d again (as version %d)\n", v, v, nv)
	return nil
}

// loadConfigFile is the config at path, or the defaults when path is "".
func loadConfigFile(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}
