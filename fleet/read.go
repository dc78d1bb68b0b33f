package fleet

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"github.com/customs-dev/customs/store"
)

// ClockSkew is how far behind the flow's own time a site's publish may be stamped: a read of a
// window starts this much before it, so that a site whose clock runs ahead of the servers'
// loses nothing. (A flow is published after it ends, so its stream time is otherwise never
// before its start.)
const ClockSkew = 5 * time.Minute

// ErrNotFound: what was asked for (a flow, a rule book version) is not in the fleet.
var ErrNotFound = errors.New("not in the fleet")

// ReadStats say what a read went through, for the command's summary.
type ReadStats struct {
	Messages   int // messages read from the stream
	Duplicates int // flows seen twice (re-published after a lost acknowledgement, past the window)
	Unreadable int // messages that did not open (another fleet key, damage)
	firstErr   error
}

// FirstError is why the first unreadable message did not open.
func (s ReadStats) FirstError() error { return s.firstErr }

// filterSubject maps what it can of f, and site, to a subject filter: the rest is checked
// after opening.
func filterSubject(f store.Filter, site string) string {
	tok := func(s string) string {
		if s == "" {
			return "*"
		}
		return token(s, "_")
	}
	return SubjectPrefix + "." + tok(site) + "." + tok(f.Vendor) + "." + tok(f.Action)
}

// Each calls fn for the flows of the fleet's record that f selects (site "" for every site),
// newest first unless f.Oldest, at most f.Limit of them (0: all). With a limit it keeps the
// best f.Limit in memory; without one it hands flows over in the order the stream received
// them, so that a report over millions of flows holds none of them. withBodies false drops
// headers and bodies before fn sees them. Each flow is handed over once, however many times
// the stream holds it.
func (c *Conn) Each(ctx context.Context, f store.Filter, site string, withBodies bool, fn func(*store.Record) error) (ReadStats, error) {
	var st ReadStats
	if c.opts.Key == nil {
		return st, errors.New("fleet: reading the record needs the fleet key")
	}
	var best *recHeap
	if f.Limit > 0 {
		best = &recHeap{oldest: f.Oldest}
	}
	seen := map[string]struct{}{}
	err := c.scan(ctx, scanOptions{subject: filterSubject(f, site), since: f.Since, bodies: withBodies}, &st, func(r *store.Record, from string) (bool, error) {
		// The subject filter selects the site already; a server that ignored it (or a message
		// on a subject of another site) must not add flows.
		if (site != "" && from != site) || !f.Matches(r) {
			return true, nil
		}
		if _, dup := seen[r.ID]; dup {
			st.Duplicates++
			return true, nil
		}
		seen[r.ID] = struct{}{}
		if best == nil {
			return true, fn(r)
		}
		heap.Push(best, r)
		if best.Len() > f.Limit {
			heap.Pop(best)
		}
		return true, nil
	})
	if err != nil || best == nil {
		return st, err
	}
	out := best.recs
	slices.SortFunc(out, func(a, b *store.Record) int {
		if f.Oldest {
			return cmp.Compare(a.ID, b.ID)
		}
		return cmp.Compare(b.ID, a.ID)
	})
	for _, r := range out {
		if err := fn(r); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Get returns the flow id from the fleet's record, headers and bodies included.
func (c *Conn) Get(ctx context.Context, id string) (store.Record, error) {
	var st ReadStats
	t, err := idTime(id)
	if err != nil {
		return store.Record{}, err
	}
	var found *store.Record
	err = c.scan(ctx, scanOptions{subject: SubjectPrefix + ".>", since: t, bodies: true, only: id}, &st, func(r *store.Record, _ string) (bool, error) {
		if r.ID == id {
			found = r
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return store.Record{}, err
	}
	if found == nil {
		return store.Record{}, fmt.Errorf("flow %q: %w's record", id, ErrNotFound)
	}
	return *found, nil
}

// scanOptions say what a scan reads.
type scanOptions struct {
	subject string
	since   time.Time
	bodies  bool   // decode headers and bodies too
	only    string // a flow ID: other messages are passed over unopened
}

// scan reads the stream's messages on o.subject from o.since (less ClockSkew) to its last
// message at the start of the scan, opening each; fn returns false to stop.
func (c *Conn) scan(ctx context.Context, o scanOptions, st *ReadStats, fn func(r *store.Record, site string) (bool, error)) error {
	stream, err := c.js.Stream(ctx, c.opts.Stream)
	if err != nil {
		return c.streamErr(err)
	}
	info := stream.CachedInfo()
	if info.State.Msgs == 0 {
		return nil
	}
	last := info.State.LastSeq
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{o.subject}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !o.since.IsZero() {
		start := o.since.Add(-ClockSkew)
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	}
	cons, err := c.js.OrderedConsumer(ctx, c.opts.Stream, cfg)
	if err != nil {
		return fmt.Errorf("fleet: read stream %s: %w", c.opts.Stream, err)
	}
	if ci := cons.CachedInfo(); ci != nil && ci.NumPending == 0 {
		return nil
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return fmt.Errorf("fleet: read stream %s: %w", c.opts.Stream, err)
	}
	defer it.Stop()
	for {
		// A stream that stops answering mid-read (every server gone) is an error, not a
		// short answer.
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := it.Next(jetstream.NextMaxWait(readIdle))
		if err != nil {
			return fmt.Errorf("fleet: read stream %s (%d messages read): %w", c.opts.Stream, st.Messages, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("fleet: read stream %s: %w", c.opts.Stream, err)
		}
		st.Messages++
		if o.only == "" || m.Headers().Get(jetstream.MsgIDHeader) == o.only {
			// The header's ID is only a hint here: opening checks it against the seal.
			r, err := c.openMsg(m, o.bodies)
			if err != nil {
				st.Unreadable++
				if st.firstErr == nil {
					st.firstErr = err
				}
			} else if more, err := fn(&r, m.Headers().Get(hdrSite)); err != nil || !more {
				return err
			}
		}
		if md.Sequence.Stream >= last || md.NumPending == 0 {
			return nil
		}
	}
}

// readIdle is how long a read waits for the stream's next message before it gives up.
const readIdle = 20 * time.Second

// openMsg opens one flow's message.
func (c *Conn) openMsg(m jetstream.Msg, bodies bool) (store.Record, error) {
	h := m.Headers()
	id, site := h.Get(jetstream.MsgIDHeader), h.Get(hdrSite)
	if k := h.Get(hdrKey); k != "" && k != c.opts.Key.ID {
		return store.Record{}, fmt.Errorf("flow %s of site %s: sealed with fleet key %s, not this one (%s)", id, site, k, c.opts.Key.ID)
	}
	plain, err := c.opts.Key.open(m.Data(), id, site)
	if err != nil {
		return store.Record{}, fmt.Errorf("flow %s of site %s: %w", id, site, err)
	}
	unmarshal := store.UnmarshalRecordMeta
	if bodies {
		unmarshal = store.UnmarshalRecord
	}
	r, err := unmarshal(plain)
	if err != nil {
		return store.Record{}, fmt.Errorf("flow %s of site %s: %w", id, site, err)
	}
	if r.ID != id {
		return store.Record{}, fmt.Errorf("flow %s of site %s: the record inside is flow %s", id, site, r.ID)
	}
	return r, nil
}

// idTime is the time of a flow ID (a ULID).
func idTime(id string) (time.Time, error) {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return time.Time{}, fmt.Errorf("flow ID %q: %w", id, err)
	}
	return ulid.Time(u.Time()), nil
}

// recHeap keeps the f.Limit best records: its root is the worst of them.
type recHeap struct {
	recs   []*store.Record
	oldest bool
}

func (h *recHeap) Len() int { return len(h.recs) }
func (h *recHeap) Less(i, j int) bool {
	if h.oldest {
		return h.recs[i].ID > h.recs[j].ID
	}
	return h.recs[i].ID < h.recs[j].ID
}
func (h *recHeap) Swap(i, j int) { h.recs[i], h.recs[j] = h.recs[j], h.recs[i] }
func (h *recHeap) Push(x any)    { h.recs = append(h.recs, x.(*store.Record)) }
func (h *recHeap) Pop() any {
	r := h.recs[len(h.recs)-1]
	h.recs = h.recs[:len(h.recs)-1]
	return r
}
