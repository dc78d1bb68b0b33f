package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/console"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/store"
)

// consoleOptions wire the web console (/ui/ on the admin listener) to what serve runs: its
// store (nil when it records no flows; why in storeErr), its pipeline, which masks as the flow
// API masks, and its rule reloader, which knows the rules and the catalog in force. The
// listener's address (loopback or not) is set when it listens.
func consoleOptions(cfg config.Config, st *store.Store, storeErr error, pipeline *inspect.Pipeline, rl *reloader, token string,
	logger zerolog.Logger) console.Options {
	o := console.Options{Token: token, Catalog: rl.catalog, Rules: rl, Namer: cfg.Clients.Namer(), Logger: logger}
	switch {
	case st != nil:
		o.Store = st
		o.Flows = &consoleFlows{st: st, m: &masker{p: pipeline}, rl: rl, data: cfg.Data, logger: logger}
	case storeErr != nil:
		o.StoreError = storeErr.Error()
	case !cfg.Store.Enabled:
		o.StoreError = "the flow store is off (store.enabled: false)"
	}
	return o
}

// consoleFlows is console.Flows over serve's store: the flow API's records, masked by serve's
// pipeline, and reveals recorded in DIR/audit.log as the flow API records them.
type consoleFlows struct {
	st     *store.Store
	m      *masker
	rl     *reloader
	data   string
	logger zerolog.Logger
}

var _ console.Flows = (*consoleFlows)(nil)

// Filter reads the flow API's parameters and checks names as customs flows checks its flags:
// against the catalog, detectors and APIs in force.
func (c *consoleFlows) Filter(q url.Values) (store.Filter, error) {
	f, err := filterFromQuery(q)
	if err != nil {
		return f, err
	}
	if err := checkCategory(f.Category); err != nil {
		return f, fmt.Errorf("category: %w", err)
	}
	if err := checkAPI(f.API); err != nil {
		return f, fmt.Errorf("api: %w", err)
	}
	if pol := c.rl.cur.Load(); pol != nil {
		if f.Vendor != "" {
			if _, ok := pol.catalog.Vendor(f.Vendor); !ok {
				return f, fmt.Errorf("vendor: %w", unknownVendor(pol.catalog, f.Vendor))
			}
		}
		if f.Detector != "" {
			if f.Detector, err = checkDetector(pol, f.Detector); err != nil {
				return f, fmt.Errorf("detector: %w", err)
			}
		}
	}
	return f, nil
}

func (c *consoleFlows) List(ctx context.Context, f store.Filter, fn func(any) error) (bool, error) {
	return eachLimited(f, func(f store.Filter, g func(*store.Record) error) error {
		return c.st.Each(ctx, f, false, g)
	}, func(r *store.Record) error { return fn(toWire(makeView(c.m, r, readOptions{}))) })
}

func (c *consoleFlows) Get(ctx context.Context, id string, reveal *console.Reveal) (any, error) {
	rec, err := c.st.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(id)
	} else if err != nil {
		return nil, err
	}
	ro := readOptions{bodies: maskedBodies, texts: true}
	if reveal != nil {
		// The reveal is recorded before a value leaves serve, or it does not happen.
		what := rec.ID
		if reveal.Purpose != "" {
			what += ": " + reveal.Purpose
		}
		if err := writeAudit(c.data, nil, map[string]string{"flows": what, "via": "web console", "remote": reveal.Remote}); err != nil {
			c.logger.Error().Err(err).Str("remote", reveal.Remote).Msg("reveal refused: it cannot be recorded")
			return nil, err
		}
		c.logger.Warn().Str("type", "audit").Str("flows", what).Str("remote", reveal.Remote).Msg("stored values revealed in clear through the web console")
		ro.bodies = clearBodies
	}
	return toWire(makeView(c.m, &rec, ro)), nil
}
