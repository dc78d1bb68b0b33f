package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/console"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/rules"
)

// reloader reloads the rule files on SIGHUP and when they change. A reload that fails keeps the
// rules in force: it is logged with every error, and the proxy never runs without a policy. A
// reload that would leave no policy where some are in force is one that fails, unless the rule
// files say "policies: []": an editor's non-atomic save must not open the gate.
type reloader struct {
	cfg      config.Config
	paths    []string
	hasher   *detectors.Hasher
	pipeline *inspect.Pipeline
	logger   zerolog.Logger
	last     string // fingerprint of the rule files at the last load attempt

	ok, failed atomic.Uint64
	// reloadMu serialises reloads: SIGHUP, the rule files' watch and the fleet's rule book.
	reloadMu sync.Mutex

	// What the web console shows (console.Rules): the policy in force, when it was loaded, and
	// the last reload attempt.
	cur      atomic.Pointer[policy]
	mu       sync.Mutex
	loadedAt time.Time
	attempt  *console.Reload
}

// inForce records p as the policy in force (at start, and after each reload that took).
func (r *reloader) inForce(p *policy, at time.Time) {
	r.cur.Store(p)
	r.mu.Lock()
	r.loadedAt = at
	r.mu.Unlock()
}

// InForce is console.Rules: the rules in force and how the last reload went.
func (r *reloader) InForce() console.RulesInForce {
	p := r.cur.Load()
	r.mu.Lock()
	out := console.RulesInForce{Loaded: r.loadedAt, Reloads: r.ok.Load(), Failures: r.failed.Load()}
	if r.attempt != nil {
		a := *r.attempt
		out.Last = &a
	}
	paths := r.paths
	r.mu.Unlock()
	if len(paths) > 0 {
		out.Watch = r.cfg.RulesReload.D()
	}
	out.From = "the embedded default pack"
	if p == nil {
		return out
	}
	out.Set = p.set
	if len(paths) > 0 {
		out.From = strings.Join(p.set.Files, ", ")
	}
	for _, d := range p.engine.Detectors() {
		m := d.Meta()
		_, custom := p.custom[m.ID]
		out.Detectors = append(out.Detectors, console.Detector{ID: m.ID, Class: string(m.Class), Severity: string(m.Severity), Custom: custom})
	}
	return out
}

// catalog is the catalog in force (the config's vendors and the rule files' included).
func (r *reloader) catalog() *catalog.Catalog {
	if p := r.cur.Load(); p != nil {
		return p.catalog
	}
	return nil
}

// watch runs until ctx ends.
func (r *reloader) watch(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if d := r.cfg.RulesReload.D(); d > 0 && len(r.paths) > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload("SIGHUP")
		case <-tick:
			r.reloadMu.Lock()
			changed := ruleFilesKey(r.paths) != r.last
			r.reloadMu.Unlock()
			if changed {
				r.reload("rule files changed")
			}
		}
	}
}

// reload loads the rule files and swaps them in if they load cleanly.
func (r *reloader) reload(why string) bool {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	return r.reloadLocked(why) == nil
}

// fleetBook loads version v of the fleet's rule book, written to dir, in place of the rule files
// in force. When it does not load, the rules and the files in force stay, and its errors are
// returned for the site's status.
func (r *reloader) fleetBook(dir string, v uint64) []string {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	old := r.paths
	r.setPaths([]string{dir})
	errs := r.reloadLocked(fmt.Sprintf("fleet rule book version %d", v))
	if errs != nil {
		r.setPaths(old)
		r.last = ruleFilesKey(old)
	}
	return errs
}

func (r *reloader) setPaths(p []string) {
	r.mu.Lock()
	r.paths = p
	r.mu.Unlock()
}

// reloadLocked is reload under reloadMu; it returns the errors of a reload that failed.
func (r *reloader) reloadLocked(why string) []string {
	r.last = ruleFilesKey(r.paths)
	p, err := loadPolicy(r.cfg, r.paths)
	if err == nil {
		err = dropsEveryPolicy(r.pipeline.Rules(), p.set)
	}
	now := time.Now()
	if err != nil {
		r.failed.Add(1)
		ev := r.logger.Error().Str("type", "rules").Str("trigger", why)
		var lines []string
		if es, ok := err.(rules.Errors); ok {
			lines = make([]string, len(es))
			for i, e := range es {
				lines[i] = e.Error()
			}
			ev = ev.Strs("errors", lines)
		} else {
			lines = []string{err.Error()}
			ev = ev.Err(err)
		}
		ev.Msg("rules reload rejected; the rules in force stay")
		r.mu.Lock()
		r.attempt = &console.Reload{At: now, Trigger: why, Errors: lines}
		r.mu.Unlock()
		return lines
	}
	r.pipeline.Swap(p.catalog, p.engine, r.hasher, p.set)
	r.ok.Add(1)
	r.inForce(p, now)
	r.mu.Lock()
	r.attempt = &console.Reload{At: now, Trigger: why, OK: true}
	r.mu.Unlock()
	ev := r.logger.Info()
	if len(p.set.Policies) == 0 {
		ev = r.logger.Warn().Str("note", `no policies, as the rule files say ("policies: []"): every flow is allowed`)
	}
	ev.Str("type", "rules").Str("trigger", why).Strs("files", p.set.Files).
		Int("policies", len(p.set.Policies)).Int("detectors", len(p.custom)).Int("vendors", len(p.set.Vendors)).
		Msg("rules reloaded")
	return nil
}

// dropsEveryPolicy refuses a new set with no policy in place of one with some, unless the new
// files say "policies: []". rules.Load already refuses files that define no policy without
// saying so; this keeps the reload fail-closed on its own, whatever reaches it.
func dropsEveryPolicy(old, next *rules.Set) error {
	if old == nil || len(old.Policies) == 0 || len(next.Policies) > 0 || next.ExplicitlyEmpty {
		return nil
	}
	return fmt.Errorf(`the rule files (%s) define no policies where %d are in force; write "policies: []" in one of them to mean no policies`,
		strings.Join(next.Files, ", "), len(old.Policies))
}

// ruleFilesKey names the rule files with their sizes and modification times; directories stand
// for their *.yaml and *.yml files, as rules.Load reads them.
func ruleFilesKey(paths []string) string {
	var parts []string
	add := func(path string) {
		st, err := os.Stat(path)
		if err != nil {
			parts = append(parts, path+":missing")
			return
		}
		parts = append(parts, fmt.Sprintf("%s:%d:%d", path, st.Size(), st.ModTime().UnixNano()))
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			add(p)
			continue
		}
		entries, _ := os.ReadDir(p)
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				add(filepath.Join(p, e.Name()))
			}
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "\n")
}
