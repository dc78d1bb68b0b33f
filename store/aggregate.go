package store

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"

	"github.com/customs-dev/customs/flow"
)

// The aggregate scan is for reports that count every flow of a window (the supply-chain map,
// exposure to a vendor): it reads the metadata family only, decodes only the fields a report
// counts, interns the strings that repeat from flow to flow (vendors, hosts, clients,
// detectors, previews) instead of allocating them per flow, and walks several days at once.
// Measured on the million-flow store of BenchmarkLarge, Each without bodies allocates about
// forty objects per flow (URL, segments, notes, verdict message) that a report throws away.

// Summary is what an aggregate scan hands out for one flow: its metadata, without URL,
// headers, bodies, segments, notes or verdict message. A Summary and its Findings are reused
// from one call of the scan's function to the next: copy what you keep. Its strings are
// ordinary Go strings, safe to keep (map keys, say).
type Summary struct {
	ID    [16]byte // the flow's binary ULID; FlowID formats it
	Start time.Time
	Mode  flow.Mode
	// ClientIP is the client's address without its port, as the client index keeps it (IPv6
	// without brackets or zone, IPv4-mapped addresses unmapped): the port of a client's
	// connection says nothing about who the client is.
	ClientIP string
	User     string // proxy user
	Host     string
	API      string
	Vendor   flow.Vendor

	RequestBytes  int64
	ResponseBytes int64
	Status        int
	Action        flow.Action // "" for a tunnel recorded without a verdict
	Policy        string
	// Model is the model the request asked for, ServedModel the one the answer named (records
	// of format version 3 on; "" before, or when none was named).
	Model       string
	ServedModel string

	// Findings carry every field of flow.Finding; previews are masked and hashes keyed, as
	// stored.
	Findings []flow.Finding
}

// Summary is r's summary, as Scan hands it out: for records read from elsewhere than a store
// (the fleet's stream) that an aggregate counts the same way.
func (r *Record) Summary() Summary {
	u, _ := ulid.ParseStrict(r.ID) // a record's ID is a ULID; a zero ID is what Scan has for none
	return Summary{ID: u, Start: r.Start, Mode: r.Mode, ClientIP: clientIP(r.Client.Addr), User: r.Client.User, Host: r.Host,
		API: r.API, Vendor: r.Vendor, RequestBytes: r.RequestBytes, ResponseBytes: r.ResponseBytes, Status: r.Status,
		Action: r.Verdict.Action, Policy: r.Verdict.Policy, Model: r.Model, ServedModel: r.ServedModel,
		Findings: r.Findings}
}

// FlowID is the summary's flow ID as a string (the ULID's text form).
func (s *Summary) FlowID() string { return ulid.ULID(s.ID).String() }

// ScanOptions tune an aggregate scan.
type ScanOptions struct {
	// Workers is how many days are read at once (default: GOMAXPROCS, at most 4). fn is then
	// called from that many goroutines at once: see Scan.
	Workers int
}

// Scan calls fn for the summary of every flow f selects (f.Limit and f.Oldest are ignored:
// a report wants every flow, in no particular order). Days are read by opts.Workers
// goroutines at once, each day by one of them, in time order within the day; fn receives the
// worker's number (0 ≤ worker < Workers) so that a caller can keep one accumulator per worker
// and merge them at the end without locking. An error from fn (or ctx) stops every worker and
// is returned. Like Each, Scan holds off Close until it returns.
func (s *Store) Scan(ctx context.Context, f Filter, opts ScanOptions, fn func(worker int, sm *Summary) error) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.closing.Load() {
		return ErrClosed
	}
	return s.guard("scanning flows", func() error { return s.scan(ctx, f, opts, fn) })
}

// ScanWorkers is the number of workers Scan runs with opts (what fn's worker numbers range
// below).
func ScanWorkers(opts ScanOptions) int {
	if opts.Workers > 0 {
		return opts.Workers
	}
	return min(runtime.GOMAXPROCS(0), 4)
}

func (s *Store) scan(ctx context.Context, f Filter, opts ScanOptions, fn func(int, *Summary) error) error {
	f.Limit, f.Oldest = 0, true
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
	workers := min(ScanWorkers(opts), int(hiDay-loDay)+1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	days := make(chan uint32)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A panic in badger's reads must reach guard, on the caller's goroutine.
			defer func() {
				if r := recover(); r != nil {
					fail(fmt.Errorf("%w: badger panicked scanning flows: %v (run customs store verify)", ErrUnreadable, r))
				}
			}()
			sc := &scanner{worker: w, in: newInterner()}
			for d := range days {
				if err := s.scanDaySummaries(ctx, d, &p, sc, fn); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
feed:
	for d := loDay; d <= hiDay; d++ {
		select {
		case days <- d:
		case <-ctx.Done():
			break feed
		}
	}
	close(days)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// scanner is one worker's state: its summary, reused, and its interned strings.
type scanner struct {
	worker int
	sm     Summary
	in     *interner
	rec    Record // what plan.match reads, rebuilt per flow
	// last is each field's value in the previous flow: consecutive flows share most of
	// them (the vendor, the API, the action, the detectors), and comparing bytes costs less
	// than looking the interner up.
	last [fieldCount]string
}

// Fields of a summary whose last value is kept; a finding's fields follow per finding, for
// the first maxLastFindings findings.
const (
	fMode = iota
	fUser
	fHost
	fAPI
	fVendorID
	fVendorName
	fVendorCategory
	fVendorCountry
	fAction
	fPolicy
	fModel
	fServed
	fFindings
	findingFields   = 6
	maxLastFindings = 4
	fieldCount      = fFindings + findingFields*maxLastFindings
)

// str is field i's string: the previous flow's when the bytes are the same, else interned.
func (sc *scanner) str(i int, b []byte) string {
	if string(b) == sc.last[i] { // compared without allocating
		return sc.last[i]
	}
	s := sc.in.str(b)
	sc.last[i] = s
	return s
}

// findingStr is str for field k of finding j.
func (sc *scanner) findingStr(j, k int, b []byte) string {
	if j >= maxLastFindings {
		return sc.in.str(b)
	}
	return sc.str(fFindings+j*findingFields+k, b)
}

func (s *Store) scanDaySummaries(ctx context.Context, d uint32, p *plan, sc *scanner, fn func(int, *Summary) error) error {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()

	lo, hi, ok := p.dayRange(d)
	if !ok {
		return nil
	}
	var cs []idCursor
	defer func() {
		for _, c := range cs {
			c.close()
		}
	}()
	newCursor := func(prefix []byte, prefetch bool) *cursor {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: prefetch, PrefetchSize: 64})
		c := &cursor{it: it, prefix: prefix}
		cs = append(cs, c)
		return c
	}
	// Values are read one at a time, on this goroutine: badger's prefetch starts a goroutine
	// per value, which measured 1.7 times slower over a million flows than reading in turn
	// (the workers already read days in parallel).
	meta := newCursor(famPrefix(d, famMeta), false)
	join := []idCursor{meta}
	if len(p.index) > 0 {
		join = join[:0]
		for _, iv := range p.index {
			c := newPostingCursor(txn, indexPrefix(d, iv.fam, iv.val), false)
			cs = append(cs, c)
			join = append(join, c)
		}
	}
	n := 0
	return leapfrog(join, lo, hi, false, func(x id) error {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		got, ok := meta.seek(x)
		if !ok || got != x {
			return nil
		}
		var keep bool
		if err := meta.it.Item().Value(func(v []byte) error {
			var err error
			keep, err = sc.decode(v, p)
			return err
		}); err != nil {
			return fmt.Errorf("%w: flow %s: %v", ErrUnreadable, ulid.ULID(x).String(), err)
		}
		if !keep {
			return nil
		}
		sc.sm.ID = x
		return fn(sc.worker, &sc.sm)
	})
}

// skipStrs passes over a list of strings.
func (d *decoder) skipStrs() {
	for range d.count(1) {
		d.raw()
	}
}

// decode fills sc.sm from a stored meta value and reports whether the flow matches p. It reads
// the fields in decodeMeta's order and skips those a summary has no use for without
// allocating them.
func (sc *scanner) decode(b []byte, p *plan) (bool, error) {
	d := decoder{b: b}
	in := sc.in
	sm := &sc.sm
	v := d.versionIn(1, metaVersion)
	d.uvarint() // flags
	sm.Start = d.time()
	d.varint() // end
	d.raw()    // source
	sm.Mode = flow.Mode(sc.str(fMode, d.raw()))
	addr := d.raw()
	sm.ClientIP = in.clientIP(addr)
	sm.User = sc.str(fUser, d.raw())
	sm.Host = sc.str(fHost, d.raw())
	d.raw() // method
	d.raw() // url
	sm.API = sc.str(fAPI, d.raw())
	sm.Vendor.ID = sc.str(fVendorID, d.raw())
	sm.Vendor.Name = sc.str(fVendorName, d.raw())
	sm.Vendor.Category = sc.str(fVendorCategory, d.raw())
	sm.Vendor.Country = sc.str(fVendorCountry, d.raw())
	d.raw() // content encoding
	sm.RequestBytes = d.varint()
	d.varint() // decoded bytes
	sm.Status = d.int()
	sm.ResponseBytes = d.varint()
	for range d.count(3) { // segments
		d.raw()
		d.raw()
		d.varint()
	}
	sm.Findings = sm.Findings[:0]
	for j := range d.count(16) {
		var f flow.Finding
		f.Detector = sc.findingStr(j, 0, d.raw())
		f.Class = sc.findingStr(j, 1, d.raw())
		f.Severity = sc.findingStr(j, 2, d.raw())
		f.Path = sc.findingStr(j, 3, d.raw())
		f.Start = d.int()
		f.End = d.int()
		f.Preview = sc.findingStr(j, 4, d.raw())
		f.Hash = sc.findingStr(j, 5, d.raw())
		f.Confidence = d.float()
		sm.Findings = append(sm.Findings, f)
	}
	sm.Action = flow.Action(sc.str(fAction, d.raw()))
	sm.Policy = sc.str(fPolicy, d.raw())
	d.raw()      // message
	d.skipStrs() // matched
	d.skipStrs() // notes
	d.skipStrs() // marks
	d.raw()      // error
	d.raw()      // error kind
	sm.Model, sm.ServedModel = "", ""
	if v >= 2 {
		d.raw()      // sni
		d.raw()      // target
		d.skipStrs() // incomplete
		d.varint()   // messages
	}
	if v >= 3 {
		sm.Model = sc.str(fModel, d.raw())
		sm.ServedModel = sc.str(fServed, d.raw())
		for range d.count(2) { // params
			d.raw()
			d.raw()
		}
	}
	if v >= 4 {
		// What jewel, record and echo findings matched, without the columns and spans, which
		// no summary needs.
		for range d.count(20) {
			i := d.uvarint()
			label, ref := d.raw(), d.raw()
			share, segShare := d.float(), d.float()
			rows := d.int()
			d.skipStrs()
			for range d.count(2) {
				d.varint()
				d.varint()
			}
			if i >= uint64(len(sm.Findings)) {
				d.fail()
				break
			}
			f := &sm.Findings[i]
			f.Label, f.Ref = in.str(label), in.str(ref)
			f.Share, f.SegmentShare, f.Rows = share, segShare, rows
		}
	}
	run := ""
	if v >= 5 {
		for i := range 6 { // server, alpn, ja4, tls version, run, command: filters read the run
			if b := d.raw(); i == 4 && len(b) > 0 {
				run = in.str(b)
			}
		}
	}
	if err := d.done(); err != nil {
		return false, err
	}
	r := &sc.rec
	r.Vendor, r.Client.User, r.Verdict.Action, r.API, r.Host = sm.Vendor, sm.User, sm.Action, sm.API, sm.Host
	r.Client.Run = run
	// Only read during match: the bytes are badger's, valid during this call.
	r.Client.Addr = unsafe.String(unsafe.SliceData(addr), len(addr))
	r.Findings = sm.Findings
	ok := p.match(r)
	r.Client.Addr, r.Findings = "", nil
	return ok, nil
}

// interner returns one string per distinct value, so that a million flows to the same vendor
// from the same client allocate its name once. It holds at most internMax strings; past that
// (a long tail of distinct previews, say) values are allocated as Each would.
type interner struct {
	m   map[string]string
	ips map[string]string // client address without port -> normalised IP
	// lastHost and lastIP are the previous flow's client, which the next flow often shares.
	lastHost, lastIP string
}

const internMax = 1 << 17

func newInterner() *interner {
	return &interner{m: make(map[string]string, 1024), ips: make(map[string]string, 1024)}
}

func (in *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(in.m) < internMax {
		in.m[s] = s
	}
	return s
}

// clientIP is clientIP(addr) for stored address bytes: the port is cut without allocating,
// and the IP normalised once per distinct address.
func (in *interner) clientIP(addr []byte) string {
	host := addr
	if i := bytes.LastIndexByte(addr, ':'); i >= 0 {
		switch {
		case len(addr) > 0 && addr[0] == '[':
			if j := bytes.IndexByte(addr, ']'); j > 0 {
				host = addr[:j+1]
			}
		case bytes.IndexByte(addr, ':') == i: // one colon: host:port
			host = addr[:i]
		}
	}
	if string(host) == in.lastHost {
		return in.lastIP
	}
	s, ok := in.ips[string(host)]
	if !ok {
		s = clientIP(string(addr))
		if len(in.ips) < internMax {
			in.ips[string(host)] = s
		}
	}
	in.lastHost, in.lastIP = string(host), s
	return s
}
