package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
)

func TestEncryptionKeys(t *testing.T) {
	key, other := randomKey(t), randomKey(t)
	encDir, plainDir := t.TempDir(), t.TempDir()

	o := testOptions(t, encDir)
	o.Key = key
	s := openStore(t, o)
	f := chatFlow(base.Add(-time.Hour), 1)
	s.Record(f)
	closeStore(t, s)

	p := openStore(t, testOptions(t, plainDir))
	p.Record(chatFlow(base.Add(-time.Hour), 2))
	closeStore(t, p)

	tests := []struct {
		name string
		dir  string
		key  []byte
		want error // nil: opens
	}{
		{"encrypted, wrong key", encDir, other, ErrWrongKey},
		{"encrypted, 16-byte wrong key", encDir, other[:16], ErrWrongKey},
		{"encrypted, no key", encDir, nil, ErrEncrypted},
		{"plain, with a key", plainDir, key, ErrNotEncrypted},
		{"encrypted, right key", encDir, key, nil},
		{"plain, no key", plainDir, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t, tc.dir)
			o.Key = tc.key
			s, err := Open(o)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open = %v, want %v", err, tc.want)
				}
				if s != nil {
					t.Fatal("a store came back with the error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close(context.Background())
			got, err := s.Query(context.Background(), Filter{})
			if err != nil || len(got) != 1 {
				t.Fatalf("Query after reopening: %v, %d flows", err, len(got))
			}
		})
	}
	// The failed opens left the store as it was: the right key still reads the flow.
	o = testOptions(t, encDir)
	o.Key = key
	s = openStore(t, o)
	if r, err := s.Get(context.Background(), f.ID); err != nil || string(r.RequestBody) != string(f.RequestBody) {
		t.Fatalf("Get after failed opens: %v", err)
	}

	o.Key = []byte("short")
	if _, err := Open(o); err == nil || !strings.Contains(err.Error(), "want 16, 24 or 32") {
		t.Errorf("a 5-byte key: %v", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "store.key")
	key, created, err := LoadOrCreateKey(path)
	if err != nil || !created || len(key) != 32 {
		t.Fatalf("create: %v created=%v len=%d", err, created, len(key))
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode().Perm(), err)
	}
	again, created, err := LoadOrCreateKey(path)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("reload: %v created=%v same=%v", err, created, bytes.Equal(again, key))
	}

	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		want    string
	}{
		{"group readable", strings.Repeat("ab", 32), 0o644, "mode 0644"},
		{"other readable", strings.Repeat("ab", 32), 0o604, "mode 0604"},
		{"not hex", "zz" + strings.Repeat("ab", 31), 0o600, "not hex"},
		{"wrong length", strings.Repeat("ab", 20), 0o600, "20 bytes"},
		{"16 bytes is fine", strings.Repeat("ab", 16), 0o600, ""},
		{"operator's key with newline", strings.Repeat("cd", 32) + "\n", 0o400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "store.key")
			if err := os.WriteFile(p, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, tc.mode)
			_, created, err := LoadOrCreateKey(p)
			if created {
				t.Error("created a key over an existing file")
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOpenUnwritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// root writes through mode bits: make the directory immutable instead.
		if out, err := exec.Command("chattr", "+i", readOnly).CombinedOutput(); err != nil {
			// No chattr: /proc/self is a directory nobody, root included, can create files in.
			t.Logf("chattr +i: %v %s: using /proc/self as the unwritable directory", err, out)
			readOnly = "/proc/self"
		} else {
			t.Cleanup(func() { exec.Command("chattr", "-i", readOnly).Run() })
		}
	}
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"parent is a file", filepath.Join(file, "store"), "cannot create directory"},
		{"read-only directory", readOnly, "is not writable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(testOptions(t, tc.dir))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.dir) {
				t.Fatalf("Open = %v, want an error with %q naming %s", err, tc.want, tc.dir)
			}
		})
	}
}

func TestOpenDiskFull(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.MinFreeBytes = 1 << 62 // more than any disk has
	_, err := Open(o)
	if err == nil || !strings.Contains(err.Error(), "free on the disk") {
		t.Fatalf("Open = %v, want a clear no-space error", err)
	}
}

func TestOpenLocked(t *testing.T) {
	o := testOptions(t, t.TempDir())
	openStore(t, o)
	if _, err := Open(o); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), o.Dir) || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("second Open of one directory = %v", err)
	}
}

func TestCloseFlushesQueue(t *testing.T) {
	o := testOptions(t, t.TempDir())
	s := openStore(t, o)
	var want []string
	for i := range 3000 {
		f := chatFlow(base.Add(-time.Duration(i)*time.Second), i)
		s.Record(f)
		want = append(want, f.ID)
	}
	closeStore(t, s)
	if st := s.Stats(); st.Written != 3000 || st.Dropped != 0 {
		t.Fatalf("after Close: %+v", st)
	}
	s.Record(chatFlow(base, 1)) // after Close: dropped, counted, no panic
	if s.Stats().Dropped != 1 {
		t.Error("Record after Close was not counted as dropped")
	}
	if err := s.Sync(); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close = %v", err)
	}
	if _, err := s.Query(context.Background(), Filter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Query after Close = %v", err)
	}

	s = openStore(t, o)
	got, err := s.Query(context.Background(), Filter{})
	if err != nil || len(got) != len(want) {
		t.Fatalf("after reopening: %v, %d flows, want %d", err, len(got), len(want))
	}
}

// TestQueueFullDropsWithoutBlocking stalls the writer and records far more than the queue
// holds: Record must return at once every time, count the drops and log them.
func TestQueueFullDropsWithoutBlocking(t *testing.T) {
	var logs syncBuffer
	o := testOptions(t, t.TempDir())
	o.QueueSize = 16
	o.Logger = zerolog.New(&logs)
	s := openStore(t, o)

	s.writeMu.Lock() // the writer stalls in its next commit
	const n = 2000
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for i := range n {
			s.Record(chatFlow(base.Add(-time.Duration(i)*time.Millisecond), i))
		}
	}()
	// The writer stays stalled until every Record has returned: one that waited for it would
	// never return, so returning at all is the proof (the timeout only ends a deadlocked test).
	select {
	case <-recorded:
	case <-time.After(30 * time.Second):
		t.Fatal("Record blocked behind a stalled writer")
	}
	st := s.Stats()
	s.writeMu.Unlock()
	sync_(t, s)

	// At most the queue and the one batch the writer holds got through.
	if st.Dropped < n-2*16-1 {
		t.Errorf("dropped %d of %d with a 16-flow queue", st.Dropped, n)
	}
	final := s.Stats()
	if final.Written+final.Dropped != n || final.Queued != 0 || final.QueuedBytes != 0 {
		t.Errorf("written %d + dropped %d != %d, queued %d (%d bytes)", final.Written, final.Dropped, n, final.Queued, final.QueuedBytes)
	}
	closeStore(t, s)
	if !strings.Contains(logs.String(), `"message":"store: flows dropped, not recorded"`) ||
		!strings.Contains(logs.String(), `"reason":"queue full"`) {
		t.Errorf("no drop line in the log:\n%s", logs.String())
	}
}

func TestQueueBytesBound(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.QueueBytes = 64 << 10 // about 20 chat flows
	s := openStore(t, o)
	s.writeMu.Lock()
	for i := range 500 {
		s.Record(chatFlow(base.Add(-time.Duration(i)*time.Millisecond), i))
	}
	st := s.Stats()
	s.writeMu.Unlock()
	sync_(t, s)
	if st.QueuedBytes > o.QueueBytes || st.Dropped < 400 {
		t.Errorf("queued %d bytes (bound %d), dropped %d", st.QueuedBytes, o.QueueBytes, st.Dropped)
	}
}

// TestWriteErrorsCounted: when writes fail at run time (a full disk), every lost flow is
// counted and logged, Record keeps returning at once, and writing resumes when the disk does.
func TestWriteErrorsCounted(t *testing.T) {
	var logs syncBuffer
	o := testOptions(t, t.TempDir())
	o.Logger = zerolog.New(&logs)
	s := openStore(t, o)
	s.Record(chatFlow(base.Add(-time.Hour), 0))
	sync_(t, s)
	// Badger turns a failed value-log or WAL write into the error of the batch; the writer must
	// take it as it comes. (Closing badger under the store is no substitute: writes to a closed
	// badger hang.)
	s.writeMu.Lock()
	s.put = func([]*entry) error { return fmt.Errorf("write vlog: %w", syscall.ENOSPC) }
	s.writeMu.Unlock()
	for i := range 100 {
		s.Record(chatFlow(base.Add(-time.Duration(i)*time.Second), i)) // never waits for the failing writer
	}
	if err := s.Sync(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Sync = %v, want the write error", err)
	}
	st := s.Stats()
	if st.Written != 1 || st.WriteErrors != 100 || st.QueuedBytes != 0 {
		t.Errorf("written %d, write errors %d, queued bytes %d; want 1, 100, 0", st.Written, st.WriteErrors, st.QueuedBytes)
	}
	s.writeMu.Lock()
	s.put = s.write
	s.writeMu.Unlock()
	s.Record(chatFlow(base.Add(-time.Minute), 7))
	sync_(t, s)
	if got := s.Stats().Written; got != 2 {
		t.Errorf("written %d after the disk recovered, want 2", got)
	}
	closeStore(t, s)
	out := logs.String()
	if !strings.Contains(out, "store: write failed; flows lost") || !strings.Contains(out, `"level":"error"`) ||
		!strings.Contains(out, "no space left on device") {
		t.Errorf("no error line:\n%s", out)
	}
}

const marker = "MARKER-c0ffee-7d1e"

// TestNoSecretsOutsideValues writes a flow whose bodies, headers and URL query carry a marker:
// no key may contain it, and an encrypted store's files on disk must not either. The same flow
// in a plain store shows the file scan finds the marker when it is there.
func TestNoSecretsOutsideValues(t *testing.T) {
	write := func(t *testing.T, key []byte) string {
		dir := t.TempDir()
		o := testOptions(t, dir)
		o.Key = key
		s := openStore(t, o)
		for i := range 50 {
			f := chatFlow(base.Add(-time.Duration(i)*time.Minute), i)
			f.RequestBody = chatBody(i, marker)
			f.RequestHeader = http.Header{"Authorization": {"Bearer " + marker}, "X-Note": {marker}}
			f.URL += "?key=" + marker
			f.Segments = append(f.Segments, flow.Segment{Path: "messages[1].content", Text: marker})
			f.ResponseBody = []byte(`{"echo":"` + marker + `"}`)
			s.Record(f)
		}
		sync_(t, s)
		var keys int
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{AllVersions: true})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				keys++
				if bytes.Contains(it.Item().Key(), []byte(marker)) {
					t.Errorf("key %q holds body content", it.Item().Key())
				}
			}
			return nil
		})
		if err != nil || keys < 50*9 {
			t.Fatalf("iterated %d keys: %v", keys, err)
		}
		r, err := s.Get(context.Background(), flow.NewID(base)) // unknown: fine
		_ = r
		if !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		closeStore(t, s)
		return dir
	}
	found := func(dir string) []string {
		var hits []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(marker)) {
					hits = append(hits, filepath.Base(p))
				}
			}
			return nil
		})
		return hits
	}
	t.Run("encrypted", func(t *testing.T) {
		if hits := found(write(t, randomKey(t))); len(hits) > 0 {
			t.Errorf("marker in clear in %v", hits)
		}
	})
	t.Run("plain control", func(t *testing.T) {
		if hits := found(write(t, nil)); len(hits) == 0 {
			t.Error("the scan found no marker in a plain store: it cannot detect a leak")
		}
	})
}

func TestSchemaVersion(t *testing.T) {
	o := testOptions(t, t.TempDir())
	s := openStore(t, o)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(schemaKey, []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	if _, err := Open(o); err == nil || !strings.Contains(err.Error(), `store format "99"`) {
		t.Fatalf("Open of a newer format = %v", err)
	}
}

// TestConcurrentUse records from many goroutines while queries and retention run, then closes:
// every flow is either written or counted as dropped (run it under -race).
func TestConcurrentUse(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.QueueSize = 256
	s := openStore(t, o)
	const writers, each = 8, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				s.Record(chatFlow(base.Add(-time.Duration(w*each+i)*time.Second), i))
			}
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Query(context.Background(), Filter{Vendor: "openai", Limit: 50}); err != nil {
				t.Error(err)
				return
			}
			if _, err := s.RunRetention(base); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	closeStore(t, s)
	st := s.Stats()
	if st.Written+st.Dropped != writers*each || st.WriteErrors != 0 {
		t.Errorf("written %d + dropped %d != %d (write errors %d)", st.Written, st.Dropped, writers*each, st.WriteErrors)
	}
	s = openStore(t, o)
	got, err := s.Query(context.Background(), Filter{})
	if err != nil || uint64(len(got)) != st.Written {
		t.Errorf("reopened: %d flows (%v), written %d", len(got), err, st.Written)
	}
}
