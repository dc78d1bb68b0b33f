package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/customs-dev/customs/flow"
)

// dense records flows a few milliseconds apart in small batches whose start times run out of
// order (a long flow ends, and is written, after shorter ones that started later), so that
// postings of several batches share spans and overlap in ID range.
func dense(t *testing.T, s *Store, n int) []*flow.Flow {
	t.Helper()
	rng := rand.New(rand.NewPCG(18, 18))
	vendors := []flow.Vendor{
		{ID: "openai", Category: "ai-provider"}, {ID: "anthropic", Category: "ai-provider"},
		{ID: "mixpanel", Category: "analytics"},
	}
	start := base.Add(-30 * time.Hour)
	var out []*flow.Flow
	used := map[int64]bool{}
	for i := range n {
		// Mostly increasing, with one flow in eight started up to two seconds earlier.
		at := start.Add(time.Duration(i)*7*time.Millisecond + time.Duration(rng.IntN(5))*time.Millisecond)
		if i%8 == 0 {
			at = at.Add(-time.Duration(rng.IntN(2000)) * time.Millisecond)
		}
		// One flow a millisecond: the reference orders by time, the store by ID.
		for used[at.UnixMilli()] {
			at = at.Add(time.Millisecond)
		}
		used[at.UnixMilli()] = true
		f := chatFlow(at, i)
		f.RequestBody = nil
		f.Vendor = vendors[rng.IntN(len(vendors))]
		f.Client = flow.Client{Addr: fmt.Sprintf("10.0.0.%d:4000", rng.IntN(4)), User: []string{"alice", "bob", ""}[rng.IntN(3)]}
		if rng.IntN(3) == 0 {
			f.Findings = f.Findings[:1]
		}
		s.Record(f)
		out = append(out, f)
		if i%50 == 49 {
			sync_(t, s) // batches of about 50
		}
	}
	sync_(t, s)
	return out
}

func TestPostingQueries(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	flows := dense(t, s, 3000)
	checkQueries(t, s, flows)
	// Far fewer index keys than flows and values: the point of posting lists. How many flows
	// a posting groups depends on the write batches, which form from what queued during the
	// previous commit — timing: a loaded machine (CI, make test-long beside other packages)
	// measured 2.9 entries a key where a quiet one gives over 3. Half is the bound.
	keys := countIndex(t, s)
	if keys.entries < 3000*6 || keys.keys*2 > keys.entries {
		t.Errorf("%d index keys for %d index entries", keys.keys, keys.entries)
	}
}

// checkQueries compares Query, both directions, with windows inside spans and limits, against
// the reference.
func checkQueries(t *testing.T, s *Store, flows []*flow.Flow) {
	t.Helper()
	sorted := slices.Clone(flows)
	slices.SortFunc(sorted, func(a, b *flow.Flow) int { return a.Start.Compare(b.Start) })
	at := func(q float64) time.Time { return sorted[int(q*float64(len(sorted)-1))].Start }
	var filters []Filter
	for _, f := range []Filter{
		{}, {Vendor: "openai"}, {Vendor: "mixpanel", User: "bob"}, {Category: "ai-provider", Client: "10.0.0.2"},
		{Detector: "pii.email"}, {Detector: "secret.aws-access-key-id", Vendor: "anthropic"}, {User: "alice", Action: "alert"},
		{Vendor: "nope"},
	} {
		for _, w := range [][2]time.Time{{}, {at(0.2), at(0.6)}, {at(0.5), at(0.5).Add(3 * time.Millisecond)}, {at(0.9), {}}, {{}, at(0.1)}} {
			for _, lim := range []int{0, 7} {
				for _, oldest := range []bool{false, true} {
					g := f
					g.Since, g.Until, g.Limit, g.Oldest = w[0], w[1], lim, oldest
					filters = append(filters, g)
				}
			}
		}
	}
	for _, f := range filters {
		want := reference(flows, f)
		got, err := s.Query(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), want) {
			t.Errorf("Query(%+v)\n got %d flows\nwant %d", f, len(got), len(want))
		}
		// Scan walks the same flows (in time order per day, one worker here).
		var scanned []string
		err = s.Scan(context.Background(), f, ScanOptions{Workers: 1}, func(_ int, sm *Summary) error {
			scanned = append(scanned, sm.FlowID())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		g := f
		g.Limit, g.Oldest = 0, true
		if want := reference(flows, g); !slices.Equal(scanned, want) {
			t.Errorf("Scan(%+v): %d flows, want %d", f, len(scanned), len(want))
		}
	}
}

type indexCount struct{ keys, entries, empty int }

func countIndex(t *testing.T, s *Store) indexCount {
	t.Helper()
	var c indexCount
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if k[0] == sysPrefix || !isIndexFamily(k[dayLen]) {
				continue
			}
			c.keys++
			if it.Item().ValueSize() == 0 {
				c.empty++
			}
			err := it.Item().Value(func(v []byte) error {
				xs, err := appendPostingIDs(nil, k, v)
				c.entries += len(xs)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeOld records flows as store format 1 or 2 did: metadata keys as today, bodies
// uncompressed (body value version 1), the index as one empty key per flow and value (format
// 1) or as posting lists (2), and that schema version.
func writeOld(t *testing.T, s *Store, flows []*flow.Flow, format string) {
	t.Helper()
	wb := s.db.NewWriteBatch()
	var ps postingSet
	for _, f := range flows {
		e := s.newEntry(f)
		for i, k := range e.keys {
			v := e.vals[i]
			if k[dayLen] == famBody {
				var r Record
				if err := decodeBody(v, &r); err != nil {
					t.Fatal(err)
				}
				v = appendBodyV1(nil, &r)
			}
			if err := wb.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range e.index {
			if format == schemaVersionV1 {
				if err := wb.Set(append(bytes.Clone(p), e.x[:]...), nil); err != nil {
					t.Fatal(err)
				}
			} else {
				ps.add(p, e.x)
			}
		}
	}
	if err := ps.each(wb.Set); err != nil {
		t.Fatal(err)
	}
	if err := wb.Set(schemaKey, []byte(format)); err != nil {
		t.Fatal(err)
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
}

// withBodies are flows with bodies worth compressing (the realistic mix: JSON, streams) and
// small ones, for the tests that read bodies back.
func withBodies() []*flow.Flow {
	var out []*flow.Flow
	for i := range 40 {
		f := mixFlow(i, base.Add(-time.Duration(i)*37*time.Minute))
		f.Client = flow.Client{Addr: "10.0.0.9:1234", User: "carol"}
		if i%4 == 0 {
			f.RequestBody, f.ResponseBody = []byte(`{"n":1}`), nil
		}
		out = append(out, f)
	}
	return out
}

// checkBodies reads every flow back with Get and compares its headers and bodies.
func checkBodies(t *testing.T, s *Store, flows []*flow.Flow) {
	t.Helper()
	for _, f := range flows {
		r, err := s.Get(context.Background(), f.ID)
		if err != nil {
			t.Fatalf("Get %s: %v", f.ID, err)
		}
		if !bytes.Equal(r.RequestBody, f.RequestBody) || !bytes.Equal(r.ResponseBody, f.ResponseBody) ||
			len(r.RequestHeader) != len(f.RequestHeader) || len(r.ResponseHeader) != len(f.ResponseHeader) {
			t.Fatalf("Get %s: bodies of %d and %d bytes, want %d and %d", f.ID, len(r.RequestBody), len(r.ResponseBody),
				len(f.RequestBody), len(f.ResponseBody))
		}
	}
}

func schemaOf(t *testing.T, s *Store) string {
	t.Helper()
	var have []byte
	if err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(schemaKey)
		if err == nil {
			have, err = item.ValueCopy(nil)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return string(have)
}

// TestMigrate: a store written by format 1 or 2 (uncompressed bodies; an index of one key per
// flow and value, or posting lists) opens as format 3, reads every flow and body back, and
// takes new flows (compressed) beside the old ones.
func TestMigrate(t *testing.T) {
	for _, format := range []string{schemaVersionV1, schemaVersionV2} {
		for _, enc := range []bool{false, true} {
			t.Run(fmt.Sprintf("format=%s/encrypted=%v", format, enc), func(t *testing.T) {
				o := testOptions(t, t.TempDir())
				if enc {
					o.Key = randomKey(t)
				}
				s := openStore(t, o)
				// The flows of dense and spread, by the old layout.
				ref := openStore(t, testOptions(t, t.TempDir()))
				flows := append(dense(t, ref, 2000), spread(t, ref)...)
				bodies := withBodies()
				flows = append(flows, bodies...)
				writeOld(t, s, flows, format)
				before := countIndex(t, s)
				if format == schemaVersionV1 && (before.empty != before.keys || before.entries != before.keys) {
					t.Fatalf("the version-1 store holds postings: %+v", before)
				}
				// Today's code reads an old store as it is (a migration cut short).
				checkQueries(t, s, flows)
				checkBodies(t, s, bodies)
				closeStore(t, s)

				s = openStore(t, o)
				after := countIndex(t, s)
				if after.entries != before.entries || (format == schemaVersionV1 && after.keys*3 > before.keys*2) {
					t.Errorf("migrated index: %+v, before %+v", after, before)
				}
				if have := schemaOf(t, s); have != schemaVersion {
					t.Fatalf("schema after migration: %q", have)
				}
				checkQueries(t, s, flows)
				checkBodies(t, s, bodies)
				// New flows, compressed, beside the old ones.
				more := withBodies()
				for i, f := range more {
					f.ID = flow.NewID(f.Start.Add(time.Duration(i+1) * time.Millisecond))
					s.Record(f)
				}
				sync_(t, s)
				checkBodies(t, s, append(bodies, more...))
				closeStore(t, s)

				rep, err := Verify(o)
				if err != nil || rep.Damaged() || rep.Flows != len(flows)+len(more) {
					t.Fatalf("Verify after migration: %v, damaged %v, %d flows (want %d), lost %v",
						err, rep != nil && rep.Damaged(), rep.Flows, len(flows)+len(more), rep.Lost)
				}
			})
		}
	}
}

// A migration cut short (some runs rewritten, the version still 1) reads as before and is
// finished by the next Open.
func TestMigrateV1Interrupted(t *testing.T) {
	o := testOptions(t, t.TempDir())
	s := openStore(t, o)
	ref := openStore(t, testOptions(t, t.TempDir()))
	flows := dense(t, ref, 1500)
	writeOld(t, s, flows, schemaVersionV1)
	days, err := s.days()
	if err != nil || len(days) == 0 {
		t.Fatal(days, err)
	}
	if err := migrateFamily(s.db, days[0], famVendor); err != nil {
		t.Fatal(err)
	}
	if err := migrateFamily(s.db, days[len(days)-1], famClient); err != nil {
		t.Fatal(err)
	}
	mid := countIndex(t, s)
	if mid.empty == mid.keys || mid.keys*2 < mid.entries {
		t.Fatalf("not half migrated: %+v", mid)
	}
	checkQueries(t, s, flows)
	closeStore(t, s)
	s = openStore(t, o)
	if c := countIndex(t, s); c.keys*2 > mid.keys || c.entries != mid.entries {
		t.Errorf("after the second Open: %+v, before %+v", c, mid)
	}
	checkQueries(t, s, flows)
}
