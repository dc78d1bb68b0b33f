package main

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/admin"
	"github.com/customs-dev/customs/alert"
	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/console"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/flowlog"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/inspect/decode"
	"github.com/customs-dev/customs/proxy"
	"github.com/customs-dev/customs/proxy/ca"
	"github.com/customs-dev/customs/store"
)

// serveFlags are the command-line settings; each overrides the config file only when given.
type serveFlags struct {
	configPath  string
	fs          *flag.FlagSet
	listen      string
	admin       string
	transparent string
	data        string
	intercept   string
	upstreamCA  stringList
	resolve     stringList
	logLevel    string
	logFile     string
	rules       stringList
}

func cmdServe(args []string, stdout, stderr io.Writer) error {
	cmd := newCommand("serve", serveHelp, stdout)
	sf := &serveFlags{fs: cmd.fs}
	fs := sf.fs
	fs.StringVar(&sf.configPath, "config", "", "config file (YAML); flags override it")
	fs.StringVar(&sf.listen, "listen", "", "proxy address (default 127.0.0.1:8080)")
	fs.StringVar(&sf.transparent, "transparent", "", "also accept connections a firewall redirects to this `ADDR` (REDIRECT or TPROXY; see the README)")
	fs.StringVar(&sf.admin, "admin", "", `admin address for /healthz, /readyz, /metrics (default 127.0.0.1:8081; "off" disables)`)
	fs.StringVar(&sf.data, "data", "", "data directory (default ./customs-data)")
	fs.StringVar(&sf.intercept, "intercept", "", "which hosts to open: catalog, all or none (default catalog)")
	fs.Var(&sf.upstreamCA, "upstream-ca", "PEM file of extra CAs to trust upstream (repeatable; for tests and labs)")
	fs.Var(&sf.resolve, "resolve", "HOST=ADDR: send HOST (or *.suffix, or *) to ADDR (repeatable; for tests and labs)")
	fs.StringVar(&sf.logLevel, "log-level", "", "debug, info, warn or error (default info)")
	fs.StringVar(&sf.logFile, "log-file", "", "write logs to FILE instead of stderr")
	fs.Var(&sf.rules, "rules", "rule file or directory (repeatable; default: the embedded policy pack)")
	if err := cmd.noArgs(args); err != nil {
		return err
	}
	cfg, err := sf.config()
	if err != nil {
		return usageError{err}
	}

	logger, closeLog, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return usageError{err}
	}
	defer closeLog()

	srv, err := build(cfg, logger)
	if err != nil {
		return usageError{err}
	}
	return srv.run(logger)
}

// config loads the file (if any), applies the flags that were given, and validates the result.
func (sf *serveFlags) config() (config.Config, error) {
	cfg := config.Default()
	if sf.configPath != "" {
		var err error
		if cfg, err = config.Load(sf.configPath); err != nil {
			return cfg, err
		}
	}
	sf.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = sf.listen
		case "admin":
			cfg.Admin = sf.admin
		case "transparent":
			cfg.Transparent = sf.transparent
		case "data":
			cfg.Data = sf.data
		case "intercept":
			cfg.Intercept = sf.intercept
		case "upstream-ca":
			cfg.UpstreamCA = append(cfg.UpstreamCA, sf.upstreamCA...)
		case "resolve":
			if cfg.Resolve == nil {
				cfg.Resolve = map[string]string{}
			}
			for _, r := range sf.resolve {
				host, addr, _ := strings.Cut(r, "=")
				cfg.Resolve[host] = addr
			}
		case "log-level":
			cfg.Log.Level = sf.logLevel
		case "log-file":
			cfg.Log.File = sf.logFile
		case "rules":
			cfg.Rules = append(cfg.Rules, sf.rules...)
		}
	})
	for _, r := range sf.resolve {
		if !strings.Contains(r, "=") {
			return cfg, fmt.Errorf("--resolve %q: want HOST=ADDR", r)
		}
	}
	return cfg, cfg.Validate()
}

func newLogger(c config.Log, stderr io.Writer) (zerolog.Logger, func(), error) {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil || c.Level == "" {
		level = zerolog.InfoLevel
	}
	var out io.Writer = stderr
	closeFn := func() {}
	if c.File != "" {
		f, err := os.OpenFile(c.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return zerolog.Nop(), nil, fmt.Errorf("open log file: %w", err)
		}
		out, closeFn = f, func() { _ = f.Close() }
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(out).Level(level).With().Timestamp().Logger(), closeFn, nil
}

// server is a fully wired customs serve process.
type server struct {
	cfg      config.Config
	proxy    *proxy.Server
	metrics  *admin.Metrics
	leaves   *ca.Leaves
	caPath   string
	alerts   *alert.Sink
	reloader *reloader
	jewels   *jewelWatcher
	store    *store.Store // nil when store.enabled is false
	fleet    *fleetRunner // nil without fleet: servers
	api      http.Handler
	token    string          // the admin token: the flow API needs it, and /metrics off loopback
	console  console.Options // the web console on the admin listener (/ui/)
	scope    proxy.Scope
	pipeline *inspect.Pipeline
}

// build turns a validated configuration into a ready proxy: CA, catalog, pipeline, scope, trust
// and recorders. Every error here is the operator's to fix.
func build(cfg config.Config, logger zerolog.Logger) (*server, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	authority, created, err := ca.LoadOrCreate(cfg.Data)
	if err != nil {
		return nil, err
	}
	caPath := filepath.Join(cfg.Data, ca.CertFile)
	if created {
		logger.Info().Str("ca", caPath).Msg("created interception CA; clients must trust this file")
	}
	leaves := ca.NewLeaves(authority, ca.LeafOptions{Size: cfg.LeafCacheSize})

	// A site that follows the fleet's rule book starts with the last version it ran, not its
	// own files: the fleet may be out of reach at start.
	bookVersion, bookDir := uint64(0), ""
	if cfg.Fleet.Enabled() && cfg.Fleet.WatchRules {
		bookVersion, bookDir = lastRuleBook(cfg.Data)
		if bookDir != "" {
			cfg.Rules = []string{bookDir}
		}
	}
	pol, err := loadPolicy(cfg, cfg.Rules)
	if err != nil {
		return nil, err
	}
	key, err := findingKey(cfg, true)
	if err != nil {
		return nil, err
	}
	hasher := detectors.NewHasher(key)
	echo, err := newEcho(cfg, key)
	if err != nil {
		return nil, err
	}
	// One decode budget for every body the proxy decodes: a flood of compression bombs waits for
	// its own client's share instead of taking the process's memory and CPU.
	budget := decode.NewBudget(int64(cfg.Limits.DecodeBudget), int64(cfg.Limits.DecodeBudgetPerClient), cfg.Limits.DecodeWait.D())
	pipeline := inspect.New(inspect.Options{Catalog: pol.catalog, DecodeLimit: int64(cfg.Body.DecodeLimit), DecodeBudget: budget,
		Detectors: pol.engine, Hasher: hasher, Rules: pol.set, Incomplete: flow.Action(cfg.Inspection.Incomplete),
		Echo: echo})
	jw := &jewelWatcher{cfg: cfg, pipeline: pipeline, logger: logger}
	if err := jw.load(); err != nil {
		return nil, err
	}
	rulesFrom := "the embedded default pack"
	if len(cfg.Rules) > 0 {
		rulesFrom = strings.Join(pol.set.Files, ", ")
	}
	if bookDir != "" {
		rulesFrom = fmt.Sprintf("the fleet's rule book version %d (%s)", bookVersion, bookDir)
	}
	logger.Info().Str("type", "rules").Str("from", rulesFrom).Int("policies", len(pol.set.Policies)).
		Int("detectors", len(pol.custom)).Msg("rules loaded")
	rl := &reloader{cfg: cfg, paths: cfg.Rules, hasher: hasher, pipeline: pipeline, logger: logger, last: ruleFilesKey(cfg.Rules)}
	rl.inForce(pol, time.Now())
	header := http.Header{}
	for k, v := range cfg.Alerts.Headers {
		header.Set(k, v)
	}
	alerts := alert.New(alert.Options{Logger: logger, Webhook: cfg.Alerts.Webhook, Header: header, QueueSize: cfg.Alerts.Queue})

	scope, err := buildScope(cfg, pipeline.Known)
	if err != nil {
		return nil, err
	}
	roots, err := upstreamRoots(cfg.UpstreamCA)
	if err != nil {
		return nil, err
	}
	var rules []string
	for host, addr := range cfg.Resolve {
		rules = append(rules, host+"="+addr)
	}
	// Exact names before wildcards, so "*" does not swallow a more specific rule.
	sortResolveRules(rules)
	resolver, err := proxy.ParseResolve(rules)
	if err != nil {
		return nil, err
	}
	clients, err := parseClients(cfg.AllowClients)
	if err != nil {
		return nil, err
	}

	metrics := admin.NewMetrics()
	metrics.GaugeFunc("customs_decode_budget_bytes", "Decoded bytes and decoder state held now under limits.decode_budget.",
		func() float64 { used, _ := budget.Used(""); return float64(used) })
	metrics.GaugeFunc("customs_leaf_certificates_minted", "Leaf certificates minted since start.",
		func() float64 { return float64(leaves.Minted()) })
	metrics.CounterFunc("customs_rules_reloads_total", "Rule reloads that took effect.", func() float64 { return float64(rl.ok.Load()) })
	metrics.CounterFunc("customs_rules_reload_failures_total", "Rule reloads rejected (the rules in force stayed).",
		func() float64 { return float64(rl.failed.Load()) })
	for _, c := range []struct {
		name, help string
		pick       func(d, f, x uint64) uint64
	}{
		{"customs_alert_webhook_delivered_total", "Alerts delivered to the webhook.", func(d, _, _ uint64) uint64 { return d }},
		{"customs_alert_webhook_failed_total", "Alerts the webhook refused or never answered, after retries.", func(_, f, _ uint64) uint64 { return f }},
		{"customs_alert_webhook_dropped_total", "Alerts dropped because the webhook queue was full.", func(_, _, x uint64) uint64 { return x }},
	} {
		metrics.CounterFunc(c.name, c.help, func() float64 { return float64(c.pick(alerts.Stats())) })
	}
	opts := proxy.Options{
		Leaves:                leaves,
		Pipeline:              pipeline,
		Recorder:              flow.Recorders{flowlog.New(logger), alerts, metrics},
		Logger:                logger,
		Scope:                 scope,
		Resolve:               resolver,
		RootCAs:               roots,
		AllowClients:          clients,
		Realm:                 cfg.ProxyAuth.Realm,
		HTTP2:                 cfg.HTTP2,
		SocketMark:            cfg.TransparentMark,
		RunOf:                 isolatedRunOf(cfg.Data),
		InspectLimit:          int64(cfg.Body.InspectLimit),
		BlockOversize:         cfg.Body.Oversize == "block",
		DialTimeout:           cfg.Timeouts.Dial.D(),
		TLSHandshakeTimeout:   cfg.Timeouts.TLSHandshake.D(),
		ResponseHeaderTimeout: cfg.Timeouts.ResponseHeader.D(),
		IdleConnTimeout:       cfg.Timeouts.Idle.D(),
		// Issue 12: where clients may go, and how much of customs they may hold.
		AllowDestinations:      cfg.AllowDestinations,
		AllowPorts:             cfg.AllowPorts,
		ClientHandshakeTimeout: cfg.Timeouts.ClientHandshake.D(),
		ClientHeaderTimeout:    cfg.Timeouts.ClientHeader.D(),
		ClientIdleTimeout:      cfg.Timeouts.ClientIdle.D(),
		MaxHeaderBytes:         int(cfg.Limits.MaxHeaderBytes),
		MaxConns:               cfg.Limits.MaxConnections,
		MaxConnsPerClient:      cfg.Limits.MaxConnectionsPerClient,
	}
	if users := cfg.ProxyAuth.Users; len(users) > 0 {
		opts.Authenticate = func(name, password string) bool {
			ok := false
			for _, u := range users {
				// Check every user so timing does not reveal which names exist.
				if u.Name == name && u.Matches(password) {
					ok = true
				}
			}
			return ok
		}
	}
	// The token exists on every admin address, loopback included: any local process could
	// otherwise read the stored bodies.
	token, err := adminToken(cfg)
	if err != nil {
		return nil, err
	}
	var st *store.Store
	var api http.Handler
	var unavailable error
	if cfg.Store.Enabled {
		if st, unavailable, err = openServeStore(cfg, logger); err != nil {
			return nil, fmt.Errorf("flow store: %w", err)
		}
		storeMetrics(metrics, st)
		if unavailable != nil {
			api = unavailableAPI(unavailable)
		}
	}
	if st != nil {
		opts.Recorder = storeRecorder(cfg, opts.Recorder.(flow.Recorders), st)
		api = flowsAPI(flowsAPIOptions{Store: st, Token: token, Pipeline: pipeline, Data: cfg.Data, Logger: logger})
		for _, c := range []struct {
			name, help string
			pick       func(store.Stats) uint64
		}{
			{"customs_store_flows_written_total", "Flows committed to the store.", func(s store.Stats) uint64 { return s.Written }},
			{"customs_store_flows_dropped_total", "Flows not recorded: the store's queue was full, or its disk below store.min_free.", func(s store.Stats) uint64 { return s.Dropped }},
			{"customs_store_write_errors_total", "Flows lost to write errors (disk full, I/O).", func(s store.Stats) uint64 { return s.WriteErrors }},
			{"customs_store_days_dropped_total", "Whole days of flows dropped by retention or the size budget.", func(s store.Stats) uint64 { return s.DaysDropped }},
		} {
			metrics.CounterFunc(c.name, c.help, func() float64 { return float64(c.pick(st.Stats())) })
		}
		metrics.GaugeFunc("customs_store_disk_bytes", "Bytes the store takes on disk.", func() float64 { return float64(st.Stats().DiskBytes) })
		metrics.GaugeFunc("customs_store_queued_flows", "Flows waiting for the store's writer.", func() float64 { return float64(st.Stats().Queued) })
	}
	var fr *fleetRunner
	if cfg.Fleet.Enabled() {
		switch {
		case !cfg.Store.Enabled:
			return nil, errors.New("fleet: the fleet is fed from the flow store, which store.enabled: false turns off")
		case st == nil:
			logger.Error().Str("type", "fleet").Msg("the flow store is unavailable, so no flow goes to the fleet either")
		default:
			if fr, err = newFleetRunner(cfg, st, rl, metrics, logger, bookVersion); err != nil {
				st.Close(context.Background())
				return nil, err
			}
		}
	}
	p, err := proxy.New(opts)
	if err != nil {
		if fr != nil {
			fr.conn.Close()
		}
		if st != nil {
			st.Close(context.Background())
		}
		return nil, err
	}
	metrics.GaugeFunc("customs_client_connections", "Client connections open now (tunnels and intercepted sessions included).",
		func() float64 { return float64(p.ClientConns()) })
	if echo != nil {
		metrics.GaugeFunc("customs_echo_bytes", "Memory the telemetry echo's remembered prints take (jewels.echo_budget bounds it).",
			func() float64 { return float64(echo.Stats().Bytes) })
		metrics.GaugeFunc("customs_echo_window_seconds", "How far back the telemetry echo remembers now: jewels.echo_window, or less once the budget forgot the oldest hours.",
			func() float64 {
				if st := echo.Stats(); !st.Oldest.IsZero() {
					return min(time.Since(st.Oldest), st.Window).Seconds()
				}
				return 0
			})
	}
	return &server{cfg: cfg, proxy: p, metrics: metrics, leaves: leaves, caPath: caPath, alerts: alerts, reloader: rl, jewels: jw, store: st, fleet: fr, api: api, token: token,
		scope: scope, pipeline: pipeline,
		console: consoleOptions(cfg, st, unavailable, pipeline, rl, token, logger)}, nil
}

// buildScope is the config's interception scope; known says whether the catalog knows a host
// (nil where only the lists matter, as in the PAC file).
func buildScope(cfg config.Config, known func(string) bool) (proxy.Scope, error) {
	intercept, err := proxy.NewHostSet(cfg.InterceptHosts)
	if err != nil {
		return proxy.Scope{}, fmt.Errorf("intercept_hosts: %w", err)
	}
	never, err := proxy.NewHostSet(cfg.NeverIntercept)
	if err != nil {
		return proxy.Scope{}, fmt.Errorf("never_intercept: %w", err)
	}
	return proxy.Scope{
		Mode:      proxy.InterceptMode(cfg.Intercept),
		Intercept: intercept,
		Never:     never,
		InCatalog: known,
	}, nil
}

// upstreamRoots is the system trust store plus the operator's extra CAs. Verification is never
// switched off; a lab that impersonates vendors adds its CA here instead.
func upstreamRoots(files []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, path := range files {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("upstream CA: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("upstream CA %s: no PEM certificates found", path)
		}
	}
	return pool, nil
}

// sortResolveRules orders exact names first, then wildcards from the longest (most specific)
// suffix, then "*", so that the first matching rule is the most specific one.
func sortResolveRules(rules []string) {
	rank := func(r string) int {
		switch {
		case strings.HasPrefix(r, "*="):
			return 2
		case strings.HasPrefix(r, "*."):
			return 1
		}
		return 0
	}
	slices.SortFunc(rules, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
}

func parseClients(specs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range specs {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("allow_clients: %q is neither a CIDR nor an IP address", s)
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// run listens, serves until SIGTERM or SIGINT, then drains.
func (s *server) run(logger zerolog.Logger) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return usageError{fmt.Errorf("listen %s: %w", s.cfg.Listen, err)}
	}
	var ready atomic.Bool
	var adminSrv *http.Server
	adminAddr := ""
	if s.cfg.Admin != "" && s.cfg.Admin != "off" {
		aln, err := net.Listen("tcp", s.cfg.Admin)
		if err != nil {
			ln.Close()
			return usageError{fmt.Errorf("admin listen %s: %w", s.cfg.Admin, err)}
		}
		adminAddr = aln.Addr().String()
		// Not through the proxy: the admin API holds every flow's bodies.
		s.proxy.AddOwnListener(aln.Addr())
		extra := map[string]http.Handler{}
		if s.api != nil {
			extra["/api/"] = s.api
		}
		extra["/proxy.pac"] = s.pacHandler(ln.Addr())
		co := s.console
		co.Loopback = loopback(adminAddr)
		extra["/ui/"] = console.New(co)
		adminSrv = &http.Server{Handler: adminHandler(admin.HandlerWith(s.metrics, &ready, extra), s.cfg.Admin, aln.Addr(), s.token),
			ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = adminSrv.Serve(aln) }()
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	errc := make(chan error, 2)
	go func() { errc <- s.proxy.Serve(ln) }()
	transparentAddr := ""
	if s.cfg.Transparent != "" {
		tln, tproxy, err := proxy.ListenTransparent(context.Background(), s.cfg.Transparent)
		if err == nil && !tproxy {
			logger.Info().Str("transparent", s.cfg.Transparent).
				Msg("the transparent listener takes REDIRECTed connections; TPROXY needs CAP_NET_ADMIN, which customs does not have")
		}
		if err != nil {
			ln.Close()
			return usageError{fmt.Errorf("transparent listen %s: %w", s.cfg.Transparent, err)}
		}
		defer tln.Close()
		transparentAddr = tln.Addr().String()
		s.proxy.AddOwnListener(tln.Addr())
		go func() { errc <- s.proxy.ServeTransparent(tln) }()
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go s.reloader.watch(watchCtx)
	go s.jewels.watch(watchCtx)
	if s.fleet != nil {
		s.fleet.start()
	}
	ready.Store(true)
	ev := logger.Info().Str("listen", ln.Addr().String()).Str("admin", adminAddr).Str("ca", s.caPath).
		Str("intercept", s.cfg.Intercept)
	if transparentAddr != "" {
		ev = ev.Str("transparent", transparentAddr)
	}
	if adminAddr != "" {
		// Where a newcomer finds the web console, and what signs them in (the path, never the token).
		ev = ev.Str("console", "http://"+adminAddr+"/ui/").Str("token_file", filepath.Join(s.cfg.Data, adminTokenFile))
	}
	ev.Msg("customs listening")

	select {
	case err := <-errc:
		return fmt.Errorf("proxy stopped: %w", err)
	case got := <-sig:
		ready.Store(false)
		logger.Info().Str("signal", got.String()).Str("drain", s.cfg.Timeouts.Drain.D().String()).Msg("shutting down: draining requests in flight")
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeouts.Drain.D())
	defer cancel()
	go func() {
		// A second signal means "now": stop waiting for the drain.
		select {
		case <-sig:
			logger.Warn().Msg("second signal: closing connections without waiting")
			cancel()
		case <-ctx.Done():
		}
	}()
	err = s.proxy.Shutdown(ctx)
	stopWatch()
	if aerr := s.alerts.Close(ctx); aerr != nil {
		logger.Warn().Err(aerr).Msg("alert webhook queue not flushed")
	}
	if adminSrv != nil {
		_ = adminSrv.Shutdown(ctx)
	}
	if s.fleet != nil {
		// What the store holds goes to the fleet now, for a few seconds at most: the rest
		// waits in the store's outbox for the next start.
		if ferr := s.store.Flush(context.Background()); ferr != nil {
			logger.Warn().Err(ferr).Msg("flow store: flush before the fleet's last round")
		}
		fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.fleet.stop(fctx)
		fcancel()
	}
	if s.store != nil {
		// Every flow recorded above is queued; Close writes them before the process ends.
		if serr := s.store.Close(context.Background()); serr != nil {
			logger.Error().Err(serr).Msg("flow store: closing")
		}
	}

	if errors.Is(err, context.DeadlineExceeded) {
		logger.Warn().Msg("drain timed out; closed the remaining connections")
	} else if err != nil {
		logger.Warn().Err(err).Msg("shutdown")
	}
	logger.Info().Msg("customs stopped")
	return nil
}

// pacHandler serves /proxy.pac: the catalog in force (reloads included) and the scope, routed to
// the proxy's listener. A listener on every address is named by the host the client fetched
// the PAC file from, with the proxy's port.
func (s *server) pacHandler(proxyAddr net.Addr) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		addr := dialable(proxyAddr.String(), host)
		var vendors []*catalog.Vendor
		if c := s.pipeline.Catalog(); c != nil {
			vendors = c.Vendors()
		}
		w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(proxy.PAC(s.scope, vendors, addr))
	})
}
