package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/admin"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/fleet"
	"github.com/customs-dev/customs/store"
)

// fleetRunner is serve's part in the fleet: the publisher of the store's outbox and, with
// fleet.watch_rules, the follower of the rule book.
type fleetRunner struct {
	conn   *fleet.Conn
	pub    *fleet.Publisher
	follow bool
	book   uint64 // the rule book version in force at start, 0 for the config's rules
	rl     *reloader
	data   string
	logger zerolog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// rulesPoll is how often a site looks for a new rule book version.
var rulesPoll = 2 * time.Second

func newFleetRunner(cfg config.Config, st *store.Store, rl *reloader, metrics *admin.Metrics, logger zerolog.Logger, book uint64) (*fleetRunner, error) {
	o, err := fleetOptions(cfg, "")
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	o.Name = "customs serve " + o.Site
	log := logger.With().Str("type", "fleet").Logger()
	o.OnDisconnect = func(err error) {
		log.Warn().AnErr("cause", err).Msg("fleet disconnected; flows wait in the local store")
	}
	o.OnReconnect = func(server string) { log.Info().Str("server", server).Msg("fleet reconnected") }
	conn, err := fleet.Dial(o, true)
	if err != nil {
		return nil, err
	}
	pub, err := conn.NewPublisher(st, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	fr := &fleetRunner{conn: conn, pub: pub, follow: cfg.Fleet.WatchRules, book: book, rl: rl, data: cfg.Data, logger: log}
	for _, c := range []struct {
		name, help string
		pick       func(fleet.PublisherStats) uint64
	}{
		{"customs_fleet_published_total", "Flows the fleet's stream acknowledged.", func(s fleet.PublisherStats) uint64 { return s.Published }},
		{"customs_fleet_duplicates_total", "Acknowledged flows the stream already had (published again after a lost acknowledgement).", func(s fleet.PublisherStats) uint64 { return s.Duplicates }},
		{"customs_fleet_publish_failures_total", "Publish rounds that failed (no server, timeout, refused); the flows stay in the outbox.", func(s fleet.PublisherStats) uint64 { return s.Failures }},
		{"customs_fleet_bodies_cut_total", "Flows published with their bodies cut to the servers' max_payload.", func(s fleet.PublisherStats) uint64 { return s.Cut }},
	} {
		metrics.CounterFunc(c.name, c.help, func() float64 { return float64(c.pick(pub.Stats())) })
	}
	metrics.GaugeFunc("customs_fleet_backlog_flows", "Flows in the store not yet acknowledged by the fleet.", func() float64 { return float64(st.Stats().Outbox) })
	metrics.CounterFunc("customs_fleet_lost_total", "Flows dropped from the store (retention, size budget) before the fleet acknowledged them.",
		func() float64 { return float64(st.Stats().OutboxLost) })
	metrics.GaugeFunc("customs_fleet_lag_seconds", "Age of the oldest flow waiting for the fleet; 0 when none waits.", func() float64 {
		if o := pub.Stats().Oldest; !o.IsZero() {
			return time.Since(o).Seconds()
		}
		return 0
	})
	metrics.GaugeFunc("customs_fleet_connected", "1 while connected to a fleet server.", func() float64 {
		if conn.Connected() {
			return 1
		}
		return 0
	})
	return fr, nil
}

func (f *fleetRunner) start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(1)
	go func() { defer f.wg.Done(); f.pub.Run(ctx) }()
	if f.follow {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.conn.FollowRules(ctx, rulesPoll, f.apply, f.book)
		}()
	}
}

// apply loads version v of the rule book in place of the rules in force.
func (f *fleetRunner) apply(v uint64, b fleet.RuleBook) []string {
	dir, err := writeRuleBook(f.data, v, b)
	if err != nil {
		f.logger.Error().Err(err).Uint64("version", v).Msg("fleet rule book not written; the rules in force stay")
		return []string{err.Error()}
	}
	errs := f.rl.fleetBook(dir, v)
	if errs != nil {
		_ = os.RemoveAll(dir)
		return errs
	}
	f.logger.Info().Uint64("version", v).Str("by", b.By).Str("dir", dir).Msg("fleet rule book in force")
	// Only the version in force stays on disk: SIGHUP and the console read it.
	if old, err := filepath.Glob(filepath.Join(filepath.Dir(dir), "v*")); err == nil {
		for _, o := range old {
			if o != dir {
				_ = os.RemoveAll(o)
			}
		}
	}
	return nil
}

// stop ends the publisher and the follower, then sends what the store holds for up to the
// deadline of ctx; the rest waits in the store for the next start.
func (f *fleetRunner) stop(ctx context.Context) {
	f.cancel()
	f.wg.Wait()
	if f.conn.Connected() {
		if err := f.pub.Drain(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			f.logger.Warn().Err(err).Msg("fleet: the last flows wait in the store for the next start")
		}
	}
	f.conn.Close()
}

// lastRuleBook is the newest version of the fleet's rule book this site ran (DIR/fleet-rules/vN),
// or 0 and "" when it ran none.
func lastRuleBook(data string) (uint64, string) {
	dirs, _ := filepath.Glob(filepath.Join(data, "fleet-rules", "v*"))
	var best uint64
	bestDir := ""
	for _, d := range dirs {
		v, err := strconv.ParseUint(strings.TrimPrefix(filepath.Base(d), "v"), 10, 64)
		if err == nil && v > best {
			best, bestDir = v, d
		}
	}
	return best, bestDir
}
