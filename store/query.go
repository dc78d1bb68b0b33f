package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
)

// Filter selects flows. Empty fields match everything; set fields must all match.
type Filter struct {
	// Since (inclusive) and Until (exclusive) bound the flows' time (their ID's time, to the
	// millisecond). Zero means unbounded; flows past retention are never returned.
	Since, Until time.Time

	Vendor   string // catalog vendor ID
	Category string // vendor category
	// Client is an IP (any port) or an ip:port (that address exactly).
	Client   string
	User     string // proxy user
	Run      string // customs run ID
	Detector string // the flow has a finding of this detector
	Action   string // verdict action
	API      string // recognised API, e.g. openai.chat
	Host     string

	// Limit is the most flows returned; 0 means all.
	Limit int
	// Oldest returns the oldest flows first; the default is newest first.
	Oldest bool
}

// plan is a Filter resolved to key ranges.
type plan struct {
	f          Filter
	lo, hi     id // inclusive bounds of the IDs wanted
	index      []indexVal
	clientIP   string
	clientPort string // set when Client had a port: match that address only
	empty      bool
}

type indexVal struct {
	fam byte
	val string
}

func (s *Store) plan(f Filter) plan {
	p := plan{f: f}
	since := f.Since
	if s.opts.Retention > 0 {
		if cut := s.opts.Now().Add(-s.opts.Retention); cut.After(since) {
			since = cut
		}
	}
	if !since.IsZero() {
		p.lo = idAt(msOf(since))
	}
	for i := range p.hi {
		p.hi[i] = 0xFF
	}
	if !f.Until.IsZero() {
		var ok bool
		if p.hi, ok = dec(idAt(msOf(f.Until))); !ok {
			p.empty = true
		}
	}
	if bytes.Compare(p.lo[:], p.hi[:]) > 0 {
		p.empty = true
	}
	p.setClient(f.Client)
	// Every filter field has an index: the flows wanted are the intersection of the index
	// ranges, walked together (a leapfrog join on the flow IDs that end every index key).
	for _, iv := range []indexVal{
		{famClient, p.clientIP}, {famUser, f.User}, {famDetector, f.Detector}, {famHost, f.Host},
		{famAPI, f.API}, {famVendor, f.Vendor}, {famAction, f.Action}, {famCategory, f.Category},
	} {
		if iv.val != "" {
			p.index = append(p.index, iv)
		}
	}
	return p
}

// Matches reports whether r is one of the flows f selects, its time window included (Limit,
// Oldest and retention aside): for readers of records kept elsewhere, such as the fleet's
// stream, that must select exactly as Query does.
func (f Filter) Matches(r *Record) bool {
	if ms := msOf(r.Start); (!f.Since.IsZero() && ms < msOf(f.Since)) || (!f.Until.IsZero() && ms >= msOf(f.Until)) {
		return false
	}
	p := plan{f: f}
	p.setClient(f.Client)
	return p.match(r)
}

// setClient reads a Client filter: an IP, or an ip:port that narrows it to one address.
func (p *plan) setClient(c string) {
	if c == "" {
		return
	}
	if host, port, err := net.SplitHostPort(c); err == nil {
		p.clientIP, p.clientPort = clientIP(host), port
	} else {
		p.clientIP = clientIP(c)
	}
}

// match checks r's metadata against the filter: index values are cut at 255 bytes, and an
// address with a port is narrower than its IP.
func (p *plan) match(r *Record) bool {
	f := &p.f
	switch {
	case f.Vendor != "" && r.Vendor.ID != f.Vendor,
		f.Category != "" && r.Vendor.Category != f.Category,
		f.User != "" && r.Client.User != f.User,
		f.Run != "" && r.Client.Run != f.Run,
		f.Action != "" && string(r.Verdict.Action) != f.Action,
		f.API != "" && r.API != f.API,
		f.Host != "" && r.Host != f.Host:
		return false
	}
	if p.clientIP != "" {
		if clientIP(r.Client.Addr) != p.clientIP {
			return false
		}
		if p.clientPort != "" {
			if _, port, err := net.SplitHostPort(r.Client.Addr); err != nil || port != p.clientPort {
				return false
			}
		}
	}
	if f.Detector != "" {
		for _, fd := range r.Findings {
			if fd.Detector == f.Detector {
				return true
			}
		}
		return false
	}
	return true
}

// Query returns the metadata of the flows f selects (no headers or bodies), newest first unless
// f.Oldest.
func (s *Store) Query(ctx context.Context, f Filter) ([]Record, error) {
	var out []Record
	err := s.Each(ctx, f, false, func(r *Record) error {
		out = append(out, *r)
		return nil
	})
	return out, err
}

// Each calls fn for every flow f selects, in order, streaming: for replay and export. With
// withBodies the records carry headers and bodies. fn may keep the record; an error from fn
// stops the walk and is returned. Each reads one day at a time, each day in its own read
// transaction. Close waits for a running Each to return: fn must not call Close.
func (s *Store) Each(ctx context.Context, f Filter, withBodies bool, fn func(*Record) error) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.closing.Load() {
		return ErrClosed
	}
	return s.guard("reading flows", func() error { return s.each(ctx, f, withBodies, fn) })
}

func (s *Store) each(ctx context.Context, f Filter, withBodies bool, fn func(*Record) error) error {
	p := s.plan(f)
	if p.empty {
		return nil
	}
	first, last, ok, err := s.dayRange()
	if err != nil || !ok {
		return err
	}
	loDay, hiDay := max(first, dayOfID(p.lo)), min(last, dayOfID(p.hi))
	if loDay > hiDay {
		return nil
	}
	n := 0
	for i := uint32(0); i <= hiDay-loDay; i++ {
		d := hiDay - i
		if f.Oldest {
			d = loDay + i
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := s.scanDay(ctx, d, &p, withBodies, &n, fn)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// dayRange is day d's part of the plan's window, first and last ID; ok is false when they
// do not meet.
func (p *plan) dayRange(d uint32) (lo, hi id, ok bool) {
	lo, hi = idAt(uint64(d)*dayMillis), idAt(uint64(d+1)*dayMillis)
	hi, _ = dec(hi)
	if bytes.Compare(p.lo[:], lo[:]) > 0 {
		lo = p.lo
	}
	if bytes.Compare(p.hi[:], hi[:]) < 0 {
		hi = p.hi
	}
	return lo, hi, bytes.Compare(lo[:], hi[:]) <= 0
}

// errStop ends a scan early without an error.
var errStop = errors.New("stop")

// scanDay walks one day: it reports whether the caller should go on to the next day.
func (s *Store) scanDay(ctx context.Context, d uint32, p *plan, withBodies bool, n *int, fn func(*Record) error) (bool, error) {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()

	lo, hi, ok := p.dayRange(d)
	if !ok {
		return true, nil
	}
	reverse := !p.f.Oldest

	newCursor := func(prefix []byte, prefetch bool) *cursor {
		it := txn.NewIterator(badger.IteratorOptions{
			Prefix: prefix, Reverse: reverse, PrefetchValues: prefetch, PrefetchSize: 32,
		})
		return &cursor{it: it, prefix: prefix, reverse: reverse}
	}
	var cs []idCursor
	defer func() {
		for _, c := range cs {
			c.close()
		}
	}()
	meta := newCursor(famPrefix(d, famMeta), false)
	cs = append(cs, meta)
	var body *cursor
	if withBodies {
		// Sequential when no index narrows the walk: let badger read values ahead.
		body = newCursor(famPrefix(d, famBody), len(p.index) == 0)
		cs = append(cs, body)
	}
	join := []idCursor{meta}
	if len(p.index) > 0 {
		join = join[:0]
		for _, iv := range p.index {
			c := newPostingCursor(txn, indexPrefix(d, iv.fam, iv.val), reverse)
			cs = append(cs, c)
			join = append(join, c)
		}
	}

	start, bound := lo, hi
	if reverse {
		start, bound = hi, lo
	}
	err := leapfrog(join, start, bound, reverse, func(x id) error {
		if *n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		got, ok := meta.seek(x)
		if !ok || got != x {
			return nil // an index key without its flow: cannot happen but for a torn write
		}
		r := &Record{ID: ulid.ULID(x).String()}
		var hasBody bool
		if err := meta.it.Item().Value(func(v []byte) error {
			var err error
			hasBody, err = decodeMeta(v, r)
			return err
		}); err != nil {
			return fmt.Errorf("%w: flow %s: %v", ErrUnreadable, r.ID, err)
		}
		if !p.match(r) {
			return nil
		}
		if withBodies {
			if hasBody {
				if got, ok := body.seek(x); ok && got == x {
					if err := body.it.Item().Value(func(v []byte) error { return decodeBody(v, r) }); err != nil {
						return fmt.Errorf("%w: flow %s body: %v", ErrUnreadable, r.ID, err)
					}
				}
			} else {
				r.HasBodies = true
			}
		}
		if err := fn(r); err != nil {
			return err
		}
		*n++
		if p.f.Limit > 0 && *n >= p.f.Limit {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return false, nil
	}
	return err == nil, err
}

// idCursor walks flow IDs in one direction, for the leapfrog join: the keys of the metadata
// family (cursor) or an index value's posting lists (postingCursor).
type idCursor interface {
	// seek moves to the first ID at or past t in the walk's direction; targets never go back.
	seek(t id) (id, bool)
	// err is why seek last returned false, if not the end.
	err() error
	close()
}

// cursor walks the flow IDs that end the keys under one prefix, in one direction.
type cursor struct {
	it      *badger.Iterator
	prefix  []byte
	reverse bool
	started bool
	key     []byte
}

func (c *cursor) cur() (x id, ok bool) {
	if !c.it.ValidForPrefix(c.prefix) {
		return x, false
	}
	return keyID(c.it.Item().Key())
}

// reached says whether x is at or past the target t in the cursor's direction.
func (c *cursor) reached(x, t id) bool {
	cmp := bytes.Compare(x[:], t[:])
	return cmp == 0 || (cmp > 0) != c.reverse
}

// seek moves to the first ID at or past t (in the walk's direction). Targets never go back, so
// a cursor already at or past t stays, and one just short of it steps instead of seeking.
func (c *cursor) seek(t id) (id, bool) {
	if c.started {
		x, ok := c.cur()
		for step := 0; ok; step++ {
			if c.reached(x, t) {
				return x, true
			}
			if step == 2 {
				break
			}
			c.it.Next()
			x, ok = c.cur()
		}
		if !ok {
			return x, false
		}
	}
	c.started = true
	c.key = append(append(c.key[:0], c.prefix...), t[:]...)
	c.it.Seek(c.key)
	return c.cur()
}

func (c *cursor) err() error { return nil }
func (c *cursor) close()     { c.it.Close() }

// postingCursor walks the flow IDs of one index value's posting lists in one day. Postings of
// different batches overlap in ID range, but never across spans (see postingShift): it loads
// one span at a time — every posting of it that may hold an ID at or past the target —, merges
// them, and walks the result. Memory is one span's IDs.
type postingCursor struct {
	it      *badger.Iterator
	prefix  []byte
	reverse bool
	started bool
	loaded  bool
	ids     []id // the loaded span's IDs, ascending, without duplicates
	pos     int  // the current ID's index in ids
	key     []byte
	fail    error
}

func newPostingCursor(txn *badger.Txn, prefix []byte, reverse bool) *postingCursor {
	// Values are read one span at a time, as the walk reaches it: prefetching would read
	// spans a leapfrog jumps over.
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: reverse})
	return &postingCursor{it: it, prefix: prefix, reverse: reverse}
}

func (c *postingCursor) err() error { return c.fail }
func (c *postingCursor) close()     { c.it.Close() }

func (c *postingCursor) seek(t id) (id, bool) {
	for {
		if c.loaded {
			if x, ok := c.within(t); ok {
				return x, true
			}
		}
		if !c.load(t) {
			return id{}, false
		}
	}
}

// within finds the first ID at or past t in the loaded span, from the current position on.
func (c *postingCursor) within(t id) (id, bool) {
	cmp := func(x id) int { return bytes.Compare(x[:], t[:]) }
	if !c.reverse {
		i, _ := slices.BinarySearchFunc(c.ids[c.pos:], t, func(x, t id) int { return cmp(x) })
		if c.pos += i; c.pos < len(c.ids) {
			return c.ids[c.pos], true
		}
		return id{}, false
	}
	// Walking down: the last ID at or below t.
	i, found := slices.BinarySearchFunc(c.ids[:c.pos+1], t, func(x, t id) int { return cmp(x) })
	if found {
		i++
	}
	if c.pos = i - 1; c.pos >= 0 {
		return c.ids[c.pos], true
	}
	return id{}, false
}

// load reads the next span in the walk's direction that may hold IDs at or past t: a span's
// postings are contiguous (their keys end with their largest ID, which is in the span).
func (c *postingCursor) load(t id) bool {
	ts := span(t)
	if c.started && !c.it.ValidForPrefix(c.prefix) {
		c.loaded = false // past the last posting; targets never go back
		return false
	}
	if !c.started || c.before(span(c.curID()), ts) {
		c.started = true
		seekTo := t // forward: a posting whose largest ID is below t holds nothing wanted
		if c.reverse {
			// Walking down, every posting of t's span may hold IDs at or below t.
			_, seekTo = spanBounds(ts)
		}
		c.key = append(append(c.key[:0], c.prefix...), seekTo[:]...)
		c.it.Seek(c.key)
	}
	if !c.it.ValidForPrefix(c.prefix) {
		c.loaded = false
		return false
	}
	sp := span(c.curID())
	c.ids = c.ids[:0]
	postings := 0
	for ; c.it.ValidForPrefix(c.prefix) && span(c.curID()) == sp; c.it.Next() {
		item := c.it.Item()
		if err := item.Value(func(v []byte) error {
			var err error
			c.ids, err = appendPostingIDs(c.ids, item.Key(), v)
			return err
		}); err != nil {
			c.fail = fmt.Errorf("%w: %s: %v", ErrUnreadable, describeKey(item.KeyCopy(nil)), err)
			c.loaded = false
			return false
		}
		postings++
	}
	if postings > 1 {
		slices.SortFunc(c.ids, func(a, b id) int { return bytes.Compare(a[:], b[:]) })
		c.ids = slices.Compact(c.ids)
	}
	c.loaded = true
	c.pos = 0
	if c.reverse {
		c.pos = len(c.ids) - 1
	}
	return true
}

func (c *postingCursor) curID() id {
	x, _ := keyID(c.it.Item().Key())
	return x
}

// before says whether span a comes before span b in the walk's direction.
func (c *postingCursor) before(a, b uint64) bool {
	if c.reverse {
		return a > b
	}
	return a < b
}

// leapfrog calls emit for every ID present in all cursors, from start towards bound
// (inclusive), in the cursors' direction.
func leapfrog(cs []idCursor, start, bound id, reverse bool, emit func(id) error) error {
	t := start
	for {
		agreed := true
		for _, c := range cs {
			x, ok := c.seek(t)
			if !ok {
				return c.err()
			}
			if cmp := bytes.Compare(x[:], bound[:]); (cmp > 0 && !reverse) || (cmp < 0 && reverse) {
				return nil
			}
			if x != t {
				t, agreed = x, false
			}
		}
		if !agreed {
			continue
		}
		if err := emit(t); err != nil {
			return err
		}
		var ok bool
		if reverse {
			t, ok = dec(t)
		} else {
			t, ok = inc(t)
		}
		if !ok {
			return nil
		}
	}
}

// dayRange is the first and last day holding flows.
func (s *Store) dayRange() (first, last uint32, ok bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		it.Rewind()
		if it.Valid() {
			first, ok = keyDay(it.Item().Key())
		}
		it.Close()
		if !ok {
			return nil
		}
		rit := txn.NewIterator(badger.IteratorOptions{Reverse: true})
		defer rit.Close()
		rit.Seek([]byte{sysPrefix})
		if rit.Valid() {
			last, ok = keyDay(rit.Item().Key())
		}
		return nil
	})
	return first, last, ok, err
}

// Get returns everything stored about flow id, headers and bodies included.
func (s *Store) Get(ctx context.Context, flowID string) (Record, error) {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.closing.Load() {
		return Record{}, ErrClosed
	}
	u, err := ulid.ParseStrict(flowID)
	if err != nil {
		return Record{}, fmt.Errorf("%w: %q is not a flow ID", ErrNotFound, flowID)
	}
	x := id(u)
	if s.opts.Retention > 0 && ulid.ULID(x).Time() < msOf(s.opts.Now().Add(-s.opts.Retention)) {
		return Record{}, fmt.Errorf("%w: %s is past retention", ErrNotFound, flowID)
	}
	r := Record{ID: u.String()}
	err = s.guard("reading flow "+flowID, func() error { return s.get(ctx, x, &r) })
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Record{}, fmt.Errorf("%w: %s", ErrNotFound, flowID)
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: get %s: %w", flowID, err)
	}
	return r, nil
}

func (s *Store) get(ctx context.Context, x id, r *Record) error {
	return s.viewFlow(ctx, x, func(v []byte) (bool, error) {
		hasBody, err := decodeMeta(v, r)
		if err == nil && !hasBody {
			r.HasBodies = true
		}
		return hasBody, err
	}, func(v []byte) error { return decodeBody(v, r) })
}

// viewFlow reads flow x's stored values in one read transaction: meta gets the metadata value
// and says whether a headers-and-bodies value follows, which body then gets. The values are
// valid during the calls only. A missing flow is badger.ErrKeyNotFound; anything else that
// cannot be read or decoded is ErrUnreadable.
func (s *Store) viewFlow(ctx context.Context, x id, meta func([]byte) (bool, error), body func([]byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		item, err := txn.Get(recordKey(famMeta, x))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnreadable, err)
		}
		var hasBody bool
		if err := item.Value(func(v []byte) error {
			hasBody, err = meta(v)
			return err
		}); err != nil {
			return fmt.Errorf("%w: %v", ErrUnreadable, err)
		}
		if !hasBody {
			return nil
		}
		item, err = txn.Get(recordKey(famBody, x))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%w: the body is missing", ErrUnreadable)
		}
		if err != nil {
			return fmt.Errorf("%w: body: %v", ErrUnreadable, err)
		}
		if err := item.Value(body); err != nil {
			return fmt.Errorf("%w: body: %v", ErrUnreadable, err)
		}
		return nil
	})
}
