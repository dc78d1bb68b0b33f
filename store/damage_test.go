package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// damageOptions make a store of many small tables and memtables, so that a few thousand flows
// spread over several tables, MANIFEST change sets and write-ahead logs.
func damageOptions(t testing.TB, dir string, key []byte) Options {
	o := testOptions(t, dir)
	o.Key = key
	o.MemTableSize = 1 << 20
	o.ValueLogFileSize = 1 << 20
	o.tableSize = 64 << 10
	o.MinFreeBytes = -1
	return o
}

// writeFlows records n flows a minute apart going back from base (each call's flows a little
// later than the previous call's), commits them and returns their IDs.
func writeFlows(t testing.TB, s *Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		f := chatFlow(base.Add(-time.Duration(i)*time.Minute), i)
		ids[i] = f.ID
		for len(s.queue) >= cap(s.queue)-64 {
			time.Sleep(time.Millisecond)
		}
		s.Record(f)
	}
	sync_(t, s)
	return ids
}

// snapshot hashes every file of dir, to show that a refused Open wrote nothing.
func snapshot(t testing.TB, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Name() == "LOCK" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[d.Name()] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// copyDir copies a store's files as they are at this instant: a store copied while open looks
// like one whose process was killed (its write-ahead logs not yet flushed into tables).
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func filesOf(t testing.TB, dir, ext string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// scribble overwrites n bytes of path at off with random bytes (never all zero).
func scribble(t testing.TB, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(off), uint64(n)))
	for i := range b {
		b[i] = byte(r.IntN(255) + 1)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// storeWithDamage is one kind of damage: make builds a store in dir and damages it; it
// returns the flows written and how many of them the damage may cost at most.
type storeWithDamage struct {
	name string
	// file names the damaged file in Open's error.
	file string
	make func(t *testing.T, dir string, key []byte) (ids []string, mayLose int)
}

var damages = []storeWithDamage{
	{
		// A MANIFEST cut short: badger would replay what is left, delete the tables it no
		// longer names and reuse their numbers — the store showed 1 of 876 flows.
		name: "truncated MANIFEST", file: "MANIFEST",
		make: func(t *testing.T, dir string, key []byte) ([]string, int) {
			var ids []string
			for range 5 { // each session's close flushes a table: a MANIFEST of many change sets
				s := openStore(t, damageOptions(t, dir, key))
				ids = append(ids, writeFlows(t, s, 400)...)
				closeStore(t, s)
			}
			m := filepath.Join(dir, "MANIFEST")
			st, err := os.Stat(m)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(filesOf(t, dir, ".sst")); n < 4 {
				t.Fatalf("only %d tables: the test needs a MANIFEST of many change sets", n)
			}
			if err := os.Truncate(m, st.Size()*2/3); err != nil {
				t.Fatal(err)
			}
			return ids, 0 // the tables are all there: nothing is lost
		},
	},
	{
		// The same, cut exactly where a change set ends: the MANIFEST reads back whole, and
		// only the tables it no longer names, holding keys found nowhere else, tell.
		name: "MANIFEST cut at a change set's boundary", file: ".sst",
		make: func(t *testing.T, dir string, key []byte) ([]string, int) {
			var ids []string
			for range 5 {
				s := openStore(t, damageOptions(t, dir, key))
				ids = append(ids, writeFlows(t, s, 400)...)
				closeStore(t, s)
			}
			m := filepath.Join(dir, "MANIFEST")
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			// 8 bytes of magic, then change sets: length, checksum (4 bytes each), protobuf.
			var ends []int
			for off := 8; off+8 <= len(b); {
				off += 8 + int(binary.BigEndian.Uint32(b[off:]))
				ends = append(ends, off)
			}
			if len(ends) < 2 || ends[len(ends)-1] != len(b) {
				t.Fatalf("MANIFEST of %d bytes, change sets ending at %v", len(b), ends)
			}
			if err := os.Truncate(m, int64(ends[len(ends)-2])); err != nil { // the last change set goes
				t.Fatal(err)
			}
			return ids, 0
		},
	},
	{
		// Garbage in the middle of a write-ahead log left by a killed process: badger would
		// truncate the log at the garbage and drop every flow after it, without a word.
		name: "garbage in a write-ahead log", file: ".mem",
		make: func(t *testing.T, dir string, key []byte) ([]string, int) {
			live := t.TempDir()
			o := damageOptions(t, live, key)
			o.MemTableSize = 16 << 20 // the flows stay in the write-ahead log
			s := openStore(t, o)
			ids := writeFlows(t, s, 1500)
			copyDir(t, live, dir) // as a kill -9 would leave it
			mems := filesOf(t, dir, ".mem")
			if len(mems) == 0 {
				t.Fatal("no write-ahead log")
			}
			sc, err := scanLog(mems[len(mems)-1], walEntryMax)
			if err != nil || sc.entries < 1000 {
				t.Fatalf("write-ahead log: %d entries, %v", sc.entries, err)
			}
			scribble(t, mems[len(mems)-1], sc.end/3, 200)
			return ids, 4 // the entries under 200 bytes of garbage
		},
	},
	{
		// Random bytes in a table: reading it panicked inside badger.
		name: "random bytes in a table", file: ".sst",
		make: func(t *testing.T, dir string, key []byte) ([]string, int) {
			s := openStore(t, damageOptions(t, dir, key))
			ids := writeFlows(t, s, 3000)
			closeStore(t, s)
			ssts := filesOf(t, dir, ".sst")
			st, err := os.Stat(ssts[0])
			if err != nil {
				t.Fatal(err)
			}
			scribble(t, ssts[0], st.Size()/3, 64)
			return ids, 1000 // the keys of one or two blocks; their flows lose metadata, bodies or an index entry
		},
	},
	{
		// Random bytes over a table's index and footer: opening it panicked inside badger.
		name: "random bytes in a table's index", file: ".sst",
		make: func(t *testing.T, dir string, key []byte) ([]string, int) {
			s := openStore(t, damageOptions(t, dir, key))
			ids := writeFlows(t, s, 3000)
			closeStore(t, s)
			ssts := filesOf(t, dir, ".sst")
			st, err := os.Stat(ssts[0])
			if err != nil {
				t.Fatal(err)
			}
			scribble(t, ssts[0], st.Size()-300, 300)
			return ids, 3000 // the whole table
		},
	},
}

// TestDamagedStoreRefused damages a store in each of the ways met in the field and checks that
// Open refuses it, names the damaged file, writes nothing, never panics; that Verify reports
// it; and that Repair copies every flow the damage did not destroy into a new store that opens.
//
// With -short only the plain store is damaged (the encrypted one takes the same paths, with
// keys): the whole matrix runs for about 20 s (two minutes under -race).
func TestDamagedStoreRefused(t *testing.T) {
	encs := []bool{false, true}
	if testing.Short() {
		encs = encs[:1]
	}
	for _, enc := range encs {
		for _, dm := range damages {
			t.Run(fmt.Sprintf("%s/encrypted=%v", dm.name, enc), func(t *testing.T) {
				var key []byte
				if enc {
					key = randomKey(t)
				}
				dir := filepath.Join(t.TempDir(), "store")
				ids, mayLose := dm.make(t, dir, key)
				before := snapshot(t, dir)

				_, err := Open(damageOptions(t, dir, key))
				var de *DamageError
				if !errors.Is(err, ErrDamaged) || !errors.As(err, &de) {
					t.Fatalf("Open = %v, want a DamageError", err)
				}
				if !strings.Contains(err.Error(), dm.file) || !strings.Contains(err.Error(), "customs store repair") {
					t.Errorf("the error does not name the %s file and what to do: %v", dm.file, err)
				}
				t.Logf("Open: %v", err)
				if after := snapshot(t, dir); !mapsEqual(before, after) {
					t.Errorf("Open wrote to the damaged store: files before %d, after %d", len(before), len(after))
				}

				rep, err := Verify(damageOptions(t, dir, key))
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !rep.Damaged() || len(rep.Problems) == 0 {
					t.Errorf("Verify found no damage: %+v", rep)
				}
				t.Logf("Verify: %d flows, %d bodies, %d unreadable, %d dangling, problems %v", rep.Flows, rep.Bodies, rep.Unreadable, rep.Dangling, rep.Problems)
				if after := snapshot(t, dir); !mapsEqual(before, after) {
					t.Error("Verify wrote to the damaged store")
				}

				out := filepath.Join(t.TempDir(), "repaired")
				rep, err = Repair(damageOptions(t, dir, key), out)
				if err != nil {
					t.Fatalf("Repair: %v", err)
				}
				if after := snapshot(t, dir); !mapsEqual(before, after) {
					t.Error("Repair wrote to the damaged store")
				}
				if len(rep.Problems) == 0 {
					t.Error("Repair reported no problem")
				}
				s := openStore(t, damageOptions(t, out, key))
				got := 0
				for _, id := range ids {
					if r, err := s.Get(context.Background(), id); err == nil && len(r.RequestBody) > 0 {
						got++
					}
				}
				t.Logf("Repair: copied %d keys; %d of %d flows whole (at most %d may be lost); reported %d unreadable, %d missing bodies, %d dangling",
					rep.Copied, got, len(ids), mayLose, rep.Unreadable, rep.MissingBodies, rep.Dangling)
				if got < len(ids)-mayLose {
					t.Errorf("repaired store holds %d of %d flows whole; the damage may cost %d at most", got, len(ids), mayLose)
				}
				if got < len(ids) && rep.Unreadable+rep.MissingBodies+rep.Dangling == 0 && len(rep.Problems) == 0 {
					t.Error("flows were lost and the report says nothing")
				}
				// The repaired store is sound and takes writes.
				s.Record(chatFlow(base, 99999))
				sync_(t, s)
				closeStore(t, s)
				if rep, err := Verify(damageOptions(t, out, key)); err != nil || len(rep.Problems) > 0 {
					t.Errorf("Verify of the repaired store: %v %v", err, rep.Problems)
				}
			})
		}
	}
}

func mapsEqual[K, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCrashLeftoversAreNotDamage: what a kill -9 leaves (a write-ahead log ending in a torn
// entry and zeros) opens, with every acknowledged flow.
func TestCrashLeftoversAreNotDamage(t *testing.T) {
	live, dir := t.TempDir(), filepath.Join(t.TempDir(), "store")
	o := damageOptions(t, live, nil)
	o.MemTableSize = 16 << 20
	s := openStore(t, o)
	ids := writeFlows(t, s, 500)
	copyDir(t, live, dir)
	mems := filesOf(t, dir, ".mem")
	sc, err := scanLog(mems[len(mems)-1], walEntryMax)
	if err != nil {
		t.Fatal(err)
	}
	// A torn last entry: the first bytes of an entry (here, of the log's first), then zeros.
	b, err := os.ReadFile(mems[len(mems)-1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mems[len(mems)-1], append(append(b[:sc.end:sc.end], b[logHeaderSize:logHeaderSize+30]...), b[sc.end+30:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	// Flushes and a compaction the crash interrupted: tables the MANIFEST does not name, whose
	// keys are all in the write-ahead log they were flushed from (the live store's tables,
	// flushed at its close), or in another table (a copy of one under an unknown number).
	s.Close(context.Background())
	ssts := filesOf(t, live, ".sst")
	if len(ssts) == 0 {
		t.Fatal("no table")
	}
	b, err = os.ReadFile(ssts[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range filesOf(t, live, ".sst") {
		if _, err := os.Stat(filepath.Join(dir, filepath.Base(f))); err != nil {
			copyFile(t, f, filepath.Join(dir, filepath.Base(f)))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "000999.sst"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	o2 := damageOptions(t, dir, nil)
	o2.Logger = zerolog.New(&logs)
	s2 := openStore(t, o2)
	for _, id := range ids {
		if _, err := s2.Get(context.Background(), id); err != nil {
			t.Fatalf("flow %s after the crash: %v", id, err)
		}
	}
	if !strings.Contains(logs.String(), "left by a compaction or flush a crash interrupted") {
		t.Errorf("the leftover table was not noted:\n%s", logs.String())
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedValueLogAtRunTime: a value-log file damaged while the store is open (or one
// Open does not read: not the last) makes the flows in it unreadable — an error, counted,
// never garbage or a panic — and Verify finds it.
func TestDamagedValueLogAtRunTime(t *testing.T) {
	dir := t.TempDir()
	o := damageOptions(t, dir, nil)
	s := openStore(t, o)
	ids := writeFlows(t, s, 3000)
	closeStore(t, s)
	vlogs := filesOf(t, dir, ".vlog")
	if len(vlogs) < 3 {
		t.Fatalf("%d value-log files", len(vlogs))
	}
	st, err := os.Stat(vlogs[0])
	if err != nil {
		t.Fatal(err)
	}
	scribble(t, vlogs[0], st.Size()/2, 4096)

	s = openStore(t, o)
	var bad int
	for _, id := range ids {
		_, err := s.Get(context.Background(), id)
		if err != nil {
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("Get %s: %v, want ErrUnreadable", id, err)
			}
			bad++
		}
	}
	err = s.Each(context.Background(), Filter{}, true, func(*Record) error { return nil })
	if bad == 0 || !errors.Is(err, ErrUnreadable) || s.Stats().ReadErrors == 0 {
		t.Errorf("%d flows unreadable, Each = %v, read errors %d", bad, err, s.Stats().ReadErrors)
	}
	closeStore(t, s)
	rep, err := Verify(o)
	if err != nil || !rep.Damaged() || !strings.Contains(fmt.Sprint(rep.Problems), filepath.Base(vlogs[0])) {
		t.Errorf("Verify = %v; problems %v", err, rep.Problems)
	}
}

func TestGuardRecoversPanics(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	err := s.guard("testing", func() error { panic("index out of range") })
	if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "index out of range") || s.Stats().ReadErrors != 1 {
		t.Fatalf("guard = %v, read errors %d", err, s.Stats().ReadErrors)
	}
}

// TestVerifyHealthyStore: a sound store verifies clean, with its counts.
func TestVerifyHealthyStore(t *testing.T) {
	dir := t.TempDir()
	o := damageOptions(t, dir, randomKey(t))
	s := openStore(t, o)
	writeFlows(t, s, 2000)
	closeStore(t, s)
	rep, err := Verify(o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged() || rep.Flows != 2000 || rep.Bodies != 2000 || rep.IndexEntries < 2000*7 || rep.Tables == 0 {
		t.Errorf("Verify of a sound store: %+v", rep)
	}
	s = openStore(t, o)
	if _, err := Verify(o); !errors.Is(err, ErrLocked) {
		t.Errorf("Verify of a store in use = %v, want ErrLocked", err)
	}
	_ = s
}
