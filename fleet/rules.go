package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The rule book lives in a key-value bucket whose only key, "book", holds the current version:
// its revision is the version number (1, 2, 3…), and the bucket keeps the last 64 for rollback.
// What each site runs is in a second bucket (<bucket>_sites, key "site.<site>"), so that the
// sites' reports do not take version numbers. The book is sealed with the fleet key like the flows: only a holder of the key can
// publish rules the sites take (the bucket's write permission alone is not enough), and the
// rules' markers and code names stay unread on the servers.
const (
	bookKey     = "book"
	statusPfx   = "site."
	rulesAAD    = "customs rule book"
	statusAAD   = "customs rule book status"
	bookHistory = 64
)

// RuleFile is one file of a rule book.
type RuleFile struct {
	Name string `json:"name"` // a base name ending .yaml or .yml
	Text string `json:"text"`
}

// RuleBook is one version of the fleet's rules: rule files (policies, detectors, vendor catalog
// additions), as `customs rules publish` read them.
type RuleBook struct {
	Files     []RuleFile `json:"files"`
	Published time.Time  `json:"published"`
	By        string     `json:"by,omitempty"`   // who published (OS user@host)
	Note      string     `json:"note,omitempty"` // "rollback to version 3"
}

// RuleStatus is what one site says of the rule book.
type RuleStatus struct {
	Site string `json:"site"`
	// InForce is the version of the book the site runs, 0 for its local rule files.
	InForce uint64 `json:"in_force"`
	// Seen is the newest version the site has seen; when it is not InForce, Errors says why
	// it was rejected.
	Seen   uint64    `json:"seen"`
	Errors []string  `json:"errors,omitempty"`
	At     time.Time `json:"at"`
}

// CheckName refuses a rule file name that is not a plain YAML file name: the sites write the
// files under their data directory.
func CheckName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.HasPrefix(name, ".") ||
		!(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
		return fmt.Errorf("rule file name %q: want a plain name ending .yaml or .yml", name)
	}
	return nil
}

func (c *Conn) replicas() int {
	if c.opts.Replicas > 0 {
		return c.opts.Replicas
	}
	if c.clusterSize() >= 3 {
		return 3
	}
	return 1
}

// rulesKV opens the rule book's bucket, creating it when create is set.
func (c *Conn) rulesKV(ctx context.Context, create bool) (jetstream.KeyValue, error) {
	return c.kv(ctx, c.opts.RulesBucket, create, bookHistory, "customs: the fleet's rule book, sealed with the fleet key")
}

// sitesKV opens the bucket of the sites' reports, creating it when create is set.
func (c *Conn) sitesKV(ctx context.Context, create bool) (jetstream.KeyValue, error) {
	return c.kv(ctx, c.opts.RulesBucket+"_sites", create, 1, "customs: the rule book version each site runs")
}

func (c *Conn) kv(ctx context.Context, bucket string, create bool, history uint8, about string) (jetstream.KeyValue, error) {
	if !create {
		kv, err := c.js.KeyValue(ctx, bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, fmt.Errorf("fleet: no rule book yet (bucket %s): customs rules publish creates it (%w)", bucket, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("fleet: bucket %s: %w", bucket, err)
		}
		return kv, nil
	}
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: about, History: history, Storage: jetstream.FileStorage, Replicas: c.replicas(),
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// PublishRules stores b as the rule book's next version and returns its number. The caller has
// validated b as a local reload would: a site still validates it, and keeps its rules when it
// does not load.
func (c *Conn) PublishRules(ctx context.Context, b RuleBook) (uint64, error) {
	if c.opts.Key == nil {
		return 0, errors.New("fleet: publishing rules needs the fleet key")
	}
	if len(b.Files) == 0 {
		return 0, errors.New("fleet: a rule book with no files")
	}
	for _, f := range b.Files {
		if err := CheckName(f.Name); err != nil {
			return 0, err
		}
	}
	plain, err := json.Marshal(b)
	if err != nil {
		return 0, err
	}
	kv, err := c.rulesKV(ctx, true)
	if err != nil {
		return 0, err
	}
	if _, err := c.sitesKV(ctx, true); err != nil {
		return 0, err
	}
	// Each version is sealed for its own number, so that a copy of an older version put back
	// by someone who can write to the bucket but holds no key does not open as a newer one.
	// The number is the next revision: Update fails if another publish took it first, and
	// the book is sealed again for the one after.
	for range 5 {
		last := uint64(0)
		if e, err := kv.Get(ctx, bookKey); err == nil {
			last = e.Revision()
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return 0, fmt.Errorf("fleet: read the rule book: %w", err)
		}
		sealed := c.opts.Key.seal(plain, rulesAAD, strconv.FormatUint(last+1, 10))
		if limit := c.nc.MaxPayload(); int64(len(sealed)) > limit-1024 {
			return 0, fmt.Errorf("fleet: the rule book is %d bytes sealed; the servers take %d a message", len(sealed), limit)
		}
		v, err := kv.Update(ctx, bookKey, sealed, last)
		if err == nil && v == last+1 {
			return v, nil
		}
		if err == nil {
			// Revisions skipped a number (a purge): seal again for the number it got.
			continue
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !strings.Contains(err.Error(), "wrong last sequence") {
			return 0, fmt.Errorf("fleet: publish the rule book: %w", err)
		}
	}
	return 0, errors.New("fleet: publish the rule book: other publishes kept taking its version number; try again")
}

// Rules returns version v of the rule book (0: the current one) and its number.
func (c *Conn) Rules(ctx context.Context, v uint64) (RuleBook, uint64, error) {
	kv, err := c.rulesKV(ctx, false)
	if err != nil {
		return RuleBook{}, 0, err
	}
	var e jetstream.KeyValueEntry
	if v == 0 {
		e, err = kv.Get(ctx, bookKey)
	} else {
		e, err = kv.GetRevision(ctx, bookKey, v)
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		if v == 0 {
			return RuleBook{}, 0, fmt.Errorf("fleet: no rule book published yet (%w)", ErrNotFound)
		}
		return RuleBook{}, 0, fmt.Errorf("fleet: no version %d of the rule book (%w; the bucket keeps the last %d)", v, ErrNotFound, bookHistory)
	}
	if err != nil {
		return RuleBook{}, 0, fmt.Errorf("fleet: read the rule book: %w", err)
	}
	if e.Operation() != jetstream.KeyValuePut {
		return RuleBook{}, 0, fmt.Errorf("fleet: version %d of the rule book was deleted (%w)", e.Revision(), ErrNotFound)
	}
	b, err := c.openBook(e.Value(), e.Revision())
	if err != nil {
		return RuleBook{}, e.Revision(), fmt.Errorf("fleet: version %d of the rule book: %w", e.Revision(), err)
	}
	return b, e.Revision(), nil
}

func (c *Conn) openBook(sealed []byte, v uint64) (RuleBook, error) {
	if c.opts.Key == nil {
		return RuleBook{}, errors.New("reading the rule book needs the fleet key")
	}
	plain, err := c.opts.Key.open(sealed, rulesAAD, strconv.FormatUint(v, 10))
	if err != nil {
		return RuleBook{}, err
	}
	var b RuleBook
	if err := json.Unmarshal(plain, &b); err != nil {
		return RuleBook{}, fmt.Errorf("damaged: %w", err)
	}
	for _, f := range b.Files {
		if err := CheckName(f.Name); err != nil {
			return RuleBook{}, err
		}
	}
	return b, nil
}

// Rollback publishes version v again as the newest version, and returns that version's number.
func (c *Conn) Rollback(ctx context.Context, v uint64, by string) (uint64, error) {
	b, _, err := c.Rules(ctx, v)
	if err != nil {
		return 0, err
	}
	b.Note = fmt.Sprintf("rollback to version %d", v)
	b.Published, b.By = time.Now().UTC(), by
	return c.PublishRules(ctx, b)
}

// FollowRules calls apply with each new version of the rule book until ctx ends, polling every
// interval (a poll survives server restarts that a watch would have to be rebuilt after).
// apply returns the errors of a version that did not load; the site's status is written after
// each attempt. A version that does not open (another key, damage) is reported the same way.
// inForce is the version the site runs at start (0: its own rule files).
func (c *Conn) FollowRules(ctx context.Context, interval time.Duration, apply func(uint64, RuleBook) []string, inForce uint64) {
	seen := inForce // the version in force at start is not loaded again
	status := RuleStatus{Site: c.opts.Site, InForce: inForce, Seen: inForce}
	unsaid := true // the status is not yet written (the servers were away)
	put := func() {
		status.At = time.Now().UTC()
		unsaid = c.putStatus(ctx, status) != nil
	}
	for {
		b, v, err := c.Rules(ctx, 0)
		if unsaid && v == seen {
			put()
		}
		switch {
		case v != 0 && v != seen && err != nil:
			seen = v
			status.Seen, status.Errors = v, []string{err.Error()}
			put()
		case err == nil && v != seen:
			seen = v
			status.Seen = v
			if errs := apply(v, b); len(errs) > 0 {
				status.Errors = errs
			} else {
				status.InForce, status.Errors = v, nil
			}
			put()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (c *Conn) putStatus(ctx context.Context, s RuleStatus) error {
	if c.opts.Site == "" || c.opts.Key == nil {
		return nil
	}
	kv, err := c.sitesKV(ctx, false)
	if err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	// Sealed too: what a site says it runs is what a responder trusts, so someone who can
	// write to the bucket without the key cannot say it for the site.
	_, err = kv.Put(ctx, statusPfx+c.opts.Site, c.opts.Key.seal(b, statusAAD, c.opts.Site))
	return err
}

// RuleStatuses returns what every site last said of the rule book, by site name.
func (c *Conn) RuleStatuses(ctx context.Context) ([]RuleStatus, error) {
	if c.opts.Key == nil {
		return nil, errors.New("fleet: reading the sites' status needs the fleet key")
	}
	kv, err := c.sitesKV(ctx, false)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeysFiltered(ctx, statusPfx+"*")
	if err != nil {
		return nil, fmt.Errorf("fleet: list the sites: %w", err)
	}
	var out []RuleStatus
	for k := range lister.Keys() {
		e, err := kv.Get(ctx, k)
		if err != nil {
			continue // deleted between list and get
		}
		site := strings.TrimPrefix(k, statusPfx)
		var s RuleStatus
		plain, err := c.opts.Key.open(e.Value(), statusAAD, site)
		if err == nil {
			err = json.Unmarshal(plain, &s)
		}
		if err != nil || s.Site != site {
			s = RuleStatus{Site: site, Errors: []string{fmt.Sprintf("unreadable status (%v): not written by a site holding this fleet key", err)}}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b RuleStatus) int { return strings.Compare(a.Site, b.Site) })
	return out, nil
}
