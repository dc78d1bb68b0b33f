package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"

	"github.com/customs-dev/customs/flow"
)

// fillDays writes perDay flows of ~4 KiB (chat request and a response) on each of the days
// before base's day, oldest first, and returns their IDs per day.
func fillDays(t *testing.T, s *Store, days, perDay int) [][]string {
	t.Helper()
	resp := []byte(strings.Repeat(`data: {"choices":[{"delta":{"content":"token"}}]}`+"\n\n", 45))
	out := make([][]string, days)
	today := base.Truncate(24 * time.Hour)
	for k := range days {
		day := today.Add(-time.Duration(days-1-k) * 24 * time.Hour)
		for j := range perDay {
			f := chatFlow(day.Add(10*time.Minute+time.Duration(j)*(23*time.Hour)/time.Duration(perDay)), k*perDay+j)
			f.ResponseBody = resp
			s.Record(f)
			out[k] = append(out[k], f.ID)
		}
	}
	sync_(t, s)
	return out
}

// smallFiles scales badger's files down so that a test of a few thousand flows per day has
// what a large store has: many value-log files (GC frees whole files, never the active one)
// and many LSM tables wholly inside one day (which a plain DropPrefix of the day would drop
// without counting their values as garbage).
func smallFiles(o Options) Options {
	o.ValueLogFileSize = 1 << 20
	o.MemTableSize = 1 << 20
	o.tableSize = 32 << 10
	return o
}

// storedDays lists the days that still have keys, as dates.
func storedDays(t *testing.T, s *Store) []string {
	t.Helper()
	days, err := s.days()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range days {
		out = append(out, dayStart(d).Format(time.DateOnly))
	}
	return out
}

func TestRetentionDropsExpiredDaysAndShrinksDisk(t *testing.T) {
	o := smallFiles(testOptions(t, t.TempDir()))
	o.Retention = 2*24*time.Hour + time.Hour // base-49h: keeps days from 2026-03-08, its first hour expired
	s := openStore(t, o)
	perDay := 1500
	if testing.Short() {
		perDay = 1000
	}
	byDay := fillDays(t, s, 6, perDay) // 2026-03-05 … 2026-03-10
	if got := storedDays(t, s); len(got) != 6 {
		t.Fatalf("days stored: %v", got)
	}

	// Past retention is invisible before anything is dropped.
	cut := base.Add(-o.Retention)
	var visible int
	for _, day := range byDay {
		for _, id := range day {
			if u := mustULIDTime(id); !u.Before(cut) {
				visible++
			}
		}
	}
	got, err := s.Query(context.Background(), Filter{})
	if err != nil || len(got) != visible {
		t.Fatalf("Query before retention: %v, %d flows, want %d", err, len(got), visible)
	}
	if _, err := s.Get(context.Background(), byDay[0][0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of an expired flow = %v", err)
	}

	before := diskUsage(o.Dir)
	dropped, err := s.RunRetention(base)
	if err != nil {
		t.Fatal(err)
	}
	after := diskUsage(o.Dir)
	t.Logf("retention: dropped %d of 6 days; disk %d -> %d bytes (%.0f%%)", dropped, before, after, 100*float64(after)/float64(before))
	if dropped != 3 {
		t.Errorf("dropped %d days, want 3 (03-05, 03-06, 03-07)", dropped)
	}
	if want := []string{"2026-03-08", "2026-03-09", "2026-03-10"}; !slices.Equal(storedDays(t, s), want) {
		t.Errorf("days kept %v, want %v", storedDays(t, s), want)
	}
	// Half the flows are gone: the directory must shrink by a good part of that.
	if after > before*70/100 {
		t.Errorf("disk %d -> %d bytes: retention freed too little", before, after)
	}
	if st := s.Stats(); st.DaysDropped != 3 || st.DiskBytes != after {
		t.Errorf("stats %+v", st)
	}
	// No key of a dropped day remains, the kept days are whole.
	keys := 0
	s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: dayPrefix(dayOf(base.Add(-72 * time.Hour)))})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys++
		}
		return nil
	})
	if keys != 0 {
		t.Errorf("%d keys left of a dropped day", keys)
	}
	for _, id := range byDay[4] {
		if r, err := s.Get(context.Background(), id); err != nil || len(r.ResponseBody) == 0 {
			t.Fatalf("Get %s of a kept day: %v", id, err)
		}
	}
	// A second run has nothing to do.
	if n, err := s.RunRetention(base); n != 0 || err != nil {
		t.Errorf("second run: %d, %v", n, err)
	}
}

func mustULIDTime(id string) time.Time {
	return time.UnixMilli(int64(ulid.MustParse(id).Time())).UTC()
}

func TestSizeBudgetDropsOldestDays(t *testing.T) {
	o := smallFiles(testOptions(t, t.TempDir()))
	o.Retention = -1 // keep forever: only the budget drops
	s := openStore(t, o)
	perDay := 1500
	if testing.Short() {
		perDay = 1000
	}
	fillDays(t, s, 6, perDay)
	before := diskUsage(o.Dir)
	s.opts.MaxBytes = before * 55 / 100
	dropped, err := s.RunRetention(base)
	if err != nil {
		t.Fatal(err)
	}
	after := diskUsage(o.Dir)
	days := storedDays(t, s)
	t.Logf("budget %d: dropped %d days, disk %d -> %d bytes, kept %v", s.opts.MaxBytes, dropped, before, after, days)
	if dropped < 2 || dropped > 4 {
		t.Errorf("dropped %d days to fit 55%% of the disk", dropped)
	}
	all := []string{"2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"}
	if !slices.Equal(days, all[dropped:]) {
		t.Errorf("kept %v: the oldest days must go first", days)
	}
	if after > s.opts.MaxBytes {
		t.Errorf("disk %d bytes after enforcing a budget of %d", after, s.opts.MaxBytes)
	}
	// The newest day alone over budget: nothing more is dropped.
	s.opts.MaxBytes = 1
	if n, err := s.RunRetention(base); err != nil || len(storedDays(t, s)) != 1 {
		t.Errorf("tiny budget: dropped %d (%v), kept %v", n, err, storedDays(t, s))
	}
}

func TestRetentionTimer(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.Retention = 24 * time.Hour
	o.GCInterval = 20 * time.Millisecond
	s := openStore(t, o)
	for k := range 4 {
		at := base.Add(-time.Duration(k) * 24 * time.Hour)
		s.Record(&flow.Flow{ID: flow.NewID(at), Start: at, Host: "example.org", Mode: flow.Tunnelled,
			RequestHeader: http.Header{"X": {fmt.Sprint(k)}}})
	}
	sync_(t, s)
	deadline := time.Now().Add(10 * time.Second)
	for len(storedDays(t, s)) > 2 || s.Stats().DaysDropped < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the GC timer did not drop expired days: %v", storedDays(t, s))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.Stats().DaysDropped; n != 2 {
		t.Errorf("days dropped %d", n)
	}
}

func TestValuePrefixes(t *testing.T) {
	defer func(n int) { dropChunk = n }(dropChunk)
	dropChunk = 40
	s := openStore(t, testOptions(t, t.TempDir()))
	day := base.Truncate(24 * time.Hour).Add(-24 * time.Hour)
	i := 0
	add := func(at time.Time) {
		s.Record(chatFlow(at, i))
		i++
	}
	for j := range 10 { // sparse: one coarse prefix
		add(day.Add(22*time.Hour + time.Duration(j)*time.Minute))
	}
	for j := range 200 { // 200 flows over 10 hours: 65-second prefixes
		add(day.Add(time.Duration(j) * 3 * time.Minute))
	}
	for j := range 300 { // a burst of 300 in half a second: 256-ms prefixes
		add(day.Add(15*time.Hour + time.Duration(j)*time.Millisecond*5/3))
	}
	sync_(t, s)
	d := dayOf(day)
	prefixes, err := s.valuePrefixes(d, famMeta)
	if err != nil {
		t.Fatal(err)
	}
	lengths := map[int]int{}
	covered := 0
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: famPrefix(d, famMeta)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n := 0
			for _, p := range prefixes {
				if bytes.HasPrefix(it.Item().Key(), p) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("key %x under %d prefixes", it.Item().Key(), n)
			}
			covered++
		}
		return nil
	})
	if err != nil || covered != i {
		t.Fatalf("covered %d of %d keys: %v", covered, i, err)
	}
	for k, p := range prefixes {
		if k > 0 && bytes.Compare(prefixes[k-1], p) >= 0 {
			t.Errorf("prefixes out of order at %d", k)
		}
		ts := len(p) - len(famPrefix(d, famMeta))
		lengths[ts]++
		if ts < 5 {
			n := 0
			s.db.View(func(txn *badger.Txn) error {
				it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
				defer it.Close()
				for it.Rewind(); it.Valid(); it.Next() {
					n++
				}
				return nil
			})
			if n > dropChunk {
				t.Errorf("prefix %x covers %d keys, more than %d", p, n, dropChunk)
			}
		}
	}
	t.Logf("%d prefixes by timestamp bytes: %v", len(prefixes), lengths)
	if lengths[3] == 0 || lengths[4] == 0 || lengths[5] == 0 {
		t.Errorf("want coarse, medium and fine prefixes: %v", lengths)
	}
}
