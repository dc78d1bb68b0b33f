package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
)

// outboxRecords is OutboxEncoded's flows decoded, as a reader of the fleet gets them.
func outboxRecords(ctx context.Context, s *Store, n int) ([]Record, error) {
	fs, err := s.OutboxEncoded(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(fs))
	for _, f := range fs {
		r, err := UnmarshalRecord(f.Encoded)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func outboxOptions(t testing.TB, dir string) Options {
	o := testOptions(t, dir)
	o.Outbox = true
	return o
}

// recordOn records perDay chat flows on each of the days before base given (0: base's day),
// waits until they are committed and returns their IDs in the outbox's order.
func recordOn(t *testing.T, s *Store, daysBefore []int, perDay int) []string {
	t.Helper()
	var want []string
	for _, d := range daysBefore {
		for i := range perDay {
			f := chatFlow(base.Add(-time.Duration(d)*24*time.Hour-time.Hour+time.Duration(i)*time.Second), len(want))
			s.Record(f)
			want = append(want, f.ID)
		}
	}
	sync_(t, s)
	slices.Sort(want) // a ULID's text sorts as its bytes: by day, then by ID
	return want
}

// outboxKeys lists the flow IDs of the outbox keys, read key by key.
func outboxKeys(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if x, ok := outboxKeyID(it.Item().Key()); ok {
				out = append(out, ulid.ULID(x).String())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func notified(s *Store) bool {
	select {
	case <-s.OutboxNotify():
		return true
	default:
		return false
	}
}

func checkOutbox(t *testing.T, s *Store, n int, want []string) []Record {
	t.Helper()
	got, err := outboxRecords(context.Background(), s, n)
	if err != nil {
		t.Fatalf("Outbox(%d): %v", n, err)
	}
	if g := ids(got); !slices.Equal(g, want) {
		t.Fatalf("Outbox(%d) = %d flows %v\nwant %d %v", n, len(g), g, len(want), want)
	}
	return got
}

func checkWaiting(t *testing.T, s *Store, want int64) {
	t.Helper()
	if st := s.Stats(); st.Outbox != want {
		t.Fatalf("Stats.Outbox = %d, want %d", st.Outbox, want)
	}
}

// TestOutbox: with Outbox on every committed flow is in the outbox, whole, in key order, until
// Sent; the count survives reopening; with Outbox off no outbox key is written.
func TestOutbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, outboxOptions(t, dir))
	if notified(s) {
		t.Fatal("a new store notified")
	}
	want := recordOn(t, s, []int{2, 1, 0}, 5)
	if !notified(s) {
		t.Fatal("no notification after a commit that added outbox keys")
	}
	checkWaiting(t, s, int64(len(want)))

	all := checkOutbox(t, s, 100, want)
	for _, r := range all {
		g, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r, g) {
			t.Fatalf("Outbox's %s differs from Get's:\n%+v\n%+v", r.ID, r, g)
		}
		if len(r.RequestBody) == 0 || len(r.RequestHeader) == 0 {
			t.Fatalf("flow %s without its request", r.ID)
		}
	}
	checkOutbox(t, s, 4, want[:4])
	// The encoded flows are the same flows, and decode to what Get returns.
	enc, err := s.OutboxEncoded(ctx, 100)
	if err != nil || len(enc) != len(all) {
		t.Fatalf("OutboxEncoded: %d flows, %v; want %d", len(enc), err, len(all))
	}
	for i, f := range enc {
		r, err := UnmarshalRecord(f.Encoded)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r, all[i]) || f.Record.ID != r.ID || f.Record.Vendor != r.Vendor || f.Record.Verdict.Action != r.Verdict.Action {
			t.Fatalf("OutboxEncoded's %s decodes to\n%+v\nwant\n%+v", f.Record.ID, r, all[i])
		}
		if f.Record.RequestBody != nil || f.Record.RequestHeader != nil {
			t.Fatalf("OutboxEncoded's record %s carries headers or bodies", f.Record.ID)
		}
	}

	unknown := flow.NewID(base)
	for range 2 { // a second call finds nothing to remove
		if err := s.Sent(append([]string{"not-an-id", want[0], unknown, ""}, want[:4]...)); err != nil {
			t.Fatalf("Sent: %v", err)
		}
		checkWaiting(t, s, int64(len(want)-4))
	}
	if err := s.Sent(nil); err != nil {
		t.Fatal(err)
	}
	checkOutbox(t, s, 100, want[4:])
	if st := s.Stats(); st.OutboxLost != 0 {
		t.Errorf("OutboxLost = %d", st.OutboxLost)
	}
	closeStore(t, s)

	// Reopened, the count is restored and the publisher woken at once.
	s = openStore(t, outboxOptions(t, dir))
	checkWaiting(t, s, int64(len(want)-4))
	if !notified(s) {
		t.Error("reopened with flows waiting: no notification")
	}
	checkOutbox(t, s, 100, want[4:])
	closeStore(t, s)

	// With Outbox off, what waits stays (and is counted); new flows get no key.
	s = openStore(t, testOptions(t, dir))
	checkWaiting(t, s, int64(len(want)-4))
	more := recordOn(t, s, []int{0}, 3)
	if notified(s) {
		t.Error("notified with Outbox off")
	}
	checkWaiting(t, s, int64(len(want)-4))
	if got := outboxKeys(t, s); !slices.Equal(got, want[4:]) {
		t.Errorf("outbox keys %v, want %v (none of %v)", got, want[4:], more)
	}
	checkOutbox(t, s, 100, want[4:])
}

func TestOutboxOffWritesNoKeys(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	recordOn(t, s, []int{1, 0}, 10)
	if keys := outboxKeys(t, s); len(keys) != 0 {
		t.Errorf("outbox keys written with Outbox off: %v", keys)
	}
	if notified(s) {
		t.Error("notified with Outbox off")
	}
	checkWaiting(t, s, 0)
	checkOutbox(t, s, 10, nil)
}

// TestOutboxConcurrent: a publisher draining the outbox while flows are recorded receives
// every flow, and the count ends at zero.
func TestOutboxConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, outboxOptions(t, t.TempDir()))
	const n = 2000
	recorded := make(chan []string)
	go func() {
		var ids []string
		for i := range n {
			f := chatFlow(base.Add(-time.Hour+time.Duration(i)*time.Millisecond), i)
			s.Record(f)
			ids = append(ids, f.ID)
		}
		recorded <- ids
	}()
	got := map[string]int{}
	var want []string
	for {
		if want == nil {
			select {
			case want = <-recorded:
				sync_(t, s)
			case <-s.OutboxNotify():
			}
		}
		rs, err := outboxRecords(ctx, s, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			got[r.ID]++
		}
		if err := s.Sent(ids(rs)); err != nil {
			t.Fatal(err)
		}
		if want != nil && len(rs) == 0 {
			break
		}
	}
	for _, id := range want {
		if got[id] != 1 {
			t.Fatalf("flow %s received %d times", id, got[id])
		}
	}
	st := s.Stats()
	if st.Written != n || st.Outbox != 0 || st.OutboxLost != 0 || len(got) != n {
		t.Errorf("written %d, outbox %d, lost %d, received %d; want %d, 0, 0, %d", st.Written, st.Outbox, st.OutboxLost, len(got), n, n)
	}
	if keys := outboxKeys(t, s); len(keys) != 0 {
		t.Errorf("%d outbox keys left", len(keys))
	}
}

// TestOutboxDroppedDays: a day dropped by retention or the size budget takes its unsent
// flows' outbox keys along, counted in OutboxLost and logged; sent flows are not counted.
func TestOutboxDroppedDays(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new []int // days before base
		maxBytes int64
	}{
		{name: "retention", old: []int{40, 35}, new: []int{2, 0}},
		// A budget of one byte drops every day but the newest.
		{name: "size budget", old: []int{3, 2}, new: []int{0}, maxBytes: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			o := outboxOptions(t, t.TempDir())
			o.MaxBytes = tc.maxBytes
			o.Logger = zerolog.New(&logs).Level(zerolog.WarnLevel)
			s := openStore(t, o)
			old := recordOn(t, s, tc.old, 4)
			kept := recordOn(t, s, tc.new, 3)
			if err := s.Sent(old[:1]); err != nil {
				t.Fatal(err)
			}
			if tc.maxBytes == 0 {
				// Flows past retention are left for retention to count.
				checkOutbox(t, s, 100, kept)
			}
			n, err := s.RunRetention(base)
			if err != nil || n != len(tc.old) {
				t.Fatalf("RunRetention: %d days, %v; want %d", n, err, len(tc.old))
			}
			st := s.Stats()
			if st.OutboxLost != uint64(len(old)-1) || st.Outbox != int64(len(kept)) {
				t.Errorf("OutboxLost %d, Outbox %d; want %d, %d", st.OutboxLost, st.Outbox, len(old)-1, len(kept))
			}
			checkOutbox(t, s, 100, kept)
			for i, d := range tc.old {
				n := 4
				if i == 0 {
					n = 3 // old[0], sent, is the oldest day's first flow
				}
				line := fmt.Sprintf("%d flows of day %s were dropped before the fleet received them", n,
					base.Add(-time.Duration(d)*24*time.Hour).Format(time.DateOnly))
				if !strings.Contains(logs.String(), line) {
					t.Errorf("no log line %q in\n%s", line, logs.String())
				}
			}
		})
	}
}

// TestOutboxLostFlow: an outbox key whose flow is gone is damage to Verify, and Outbox removes
// it and counts it lost.
func TestOutboxLostFlow(t *testing.T) {
	dir := t.TempDir()
	o := outboxOptions(t, dir)
	s := openStore(t, o)
	want := recordOn(t, s, []int{0}, 3)
	ghost := ulid.MustParse(flow.NewID(base.Add(-2 * time.Hour))) // before the others
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(recordKey(famOutbox, id(ghost)), nil) }); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)

	rep, err := Verify(o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outbox != 4 || rep.Dangling != 1 || !rep.Damaged() {
		t.Errorf("Verify: outbox %d, dangling %d, damaged %v; want 4, 1, true (%v)", rep.Outbox, rep.Dangling, rep.Damaged(), rep.Lost)
	}

	s = openStore(t, o)
	checkWaiting(t, s, 4)
	checkOutbox(t, s, 2, want[:2])
	if st := s.Stats(); st.OutboxLost != 1 || st.Outbox != 3 {
		t.Errorf("OutboxLost %d, Outbox %d; want 1, 3", st.OutboxLost, st.Outbox)
	}
	if got := outboxKeys(t, s); !slices.Equal(got, want) {
		t.Errorf("outbox keys %v, want %v", got, want)
	}
	closeStore(t, s)

	rep, err = Verify(o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged() || rep.Outbox != 3 || rep.Flows != 3 {
		t.Errorf("Verify: damaged %v, outbox %d, flows %d; want false, 3, 3 (%v %v)", rep.Damaged(), rep.Outbox, rep.Flows, rep.Problems, rep.Lost)
	}
}

// TestOutboxRepair: Repair carries the outbox over, and what Sent removed stays removed.
func TestOutboxRepair(t *testing.T) {
	o := outboxOptions(t, t.TempDir())
	s := openStore(t, o)
	want := recordOn(t, s, []int{1, 0}, 5)
	if err := s.Sent(want[:4]); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)

	out := t.TempDir()
	rep, err := Repair(o, out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged() || rep.Outbox != len(want)-4 {
		t.Errorf("Repair: damaged %v, outbox %d; want false, %d (%v %v)", rep.Damaged(), rep.Outbox, len(want)-4, rep.Problems, rep.Lost)
	}
	o.Dir = out
	s = openStore(t, o)
	checkWaiting(t, s, int64(len(want)-4))
	checkOutbox(t, s, 100, want[4:])
}

// TestWriteSplitsAtFlows: a batch larger than one badger transaction is cut between flows,
// each run filling a transaction as far as badger takes it, so that no flow's keys straddle
// two transactions; written, every flow has its outbox key.
func TestWriteSplitsAtFlows(t *testing.T) {
	for _, tc := range []struct {
		name string
		flow func(t time.Time, i int) *flow.Flow
	}{
		// Metadata and bodies in the value log: the transaction's count of keys binds.
		{"chat flows", chatFlow},
		// Metadata under the value threshold, no bodies: its size binds.
		{"small flows", func(t time.Time, i int) *flow.Flow {
			return &flow.Flow{ID: flow.NewID(t), Start: t, Host: "example.org", Method: "GET",
				URL: "https://example.org/" + strings.Repeat("x", 120) + fmt.Sprint(i)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := outboxOptions(t, t.TempDir())
			o.MemTableSize = 1 << 20 // the smallest: 157 KB and about 1,600 keys a transaction
			s := openStore(t, o)
			var batch []*entry
			for i := range 3000 {
				batch = append(batch, s.newEntry(tc.flow(base.Add(time.Duration(i)*time.Millisecond), i)))
			}
			groups := s.txnLimit.split(batch)
			if len(groups) < 2 {
				t.Fatalf("3,000 flows in %d transactions", len(groups))
			}
			// setAll sets every key of es in txn, and reports whether badger took them all.
			setAll := func(txn *badger.Txn, es []*entry) bool {
				for _, e := range es {
					for i, k := range e.keys {
						if err := txn.Set(k, e.vals[i]); errors.Is(err, badger.ErrTxnTooBig) {
							return false
						} else if err != nil {
							t.Fatal(err)
						}
					}
				}
				return true
			}
			var joined []*entry
			for i, g := range groups {
				joined = append(joined, g...)
				txn := s.db.NewTransaction(true)
				if !setAll(txn, g) {
					t.Errorf("run %d of %d flows does not fit one transaction", i, len(g))
				}
				if i < len(groups)-1 && setAll(txn, groups[i+1][:1]) {
					t.Errorf("run %d of %d flows was cut before the transaction was full", i, len(g))
				}
				txn.Discard()
			}
			if !slices.Equal(joined, batch) {
				t.Fatal("the runs are not the batch in order")
			}

			if err := s.write(batch); err != nil {
				t.Fatal(err)
			}
			checkWaiting(t, s, int64(len(batch)))
			if !notified(s) {
				t.Error("no notification")
			}
			if got := outboxKeys(t, s); len(got) != len(batch) {
				t.Errorf("%d outbox keys for %d flows", len(got), len(batch))
			}
		})
	}
}

// TestKill9Outbox: a process recording with Outbox on is killed with SIGKILL mid-batch;
// reopened, every acknowledged flow has its outbox key, and every flow stored has one and
// only the flows stored have one.
func TestKill9Outbox(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashOutboxEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() // on a failure before the kill below
	want := 2000
	if testing.Short() {
		want = 500
	}
	var acked []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			t.Fatalf("helper: %s", sc.Text())
		}
		acked = append(acked, id)
		if len(acked) == want {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if len(acked) < want {
		t.Fatalf("helper acknowledged only %d flows: %v", len(acked), err)
	}

	o := outboxOptions(t, dir)
	o.Now = time.Now
	s := openStore(t, o)
	keys := outboxKeys(t, s)
	var flows []string
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if x, ok := keyID(k); ok && k[0] != sysPrefix && k[dayLen] == famMeta {
				flows = append(flows, ulid.ULID(x).String())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(flows)
	t.Logf("killed after %d acknowledged flows; %d stored, %d outbox keys", len(acked), len(flows), len(keys))
	if !slices.Equal(keys, flows) {
		t.Errorf("%d flows stored, %d outbox keys: they differ", len(flows), len(keys))
	}
	missing := 0
	for _, a := range acked {
		if _, ok := slices.BinarySearch(keys, a); !ok {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged flows without an outbox key", missing, len(acked))
	}
	checkWaiting(t, s, int64(len(keys)))
}

func TestMarshalRecord(t *testing.T) {
	cases := codecCases()
	meta := cases["full"]
	meta.RequestHeader, meta.RequestBody, meta.ResponseHeader, meta.ResponseBody = nil, nil, nil, nil
	meta.HasBodies = false
	cases["metadata only"] = meta
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			b := MarshalRecord(&want)
			got, err := UnmarshalRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
			// Metadata only: the same record without what the bodies value holds.
			onlyMeta, err := UnmarshalRecordMeta(b)
			wantMeta := got
			wantMeta.RequestHeader, wantMeta.RequestBody, wantMeta.ResponseHeader, wantMeta.ResponseBody = nil, nil, nil, nil
			wantMeta.HasBodies = false // the truncation flags are metadata
			if err != nil || !reflect.DeepEqual(onlyMeta, wantMeta) {
				t.Fatalf("metadata only: %v\n got %+v\nwant %+v", err, onlyMeta, wantMeta)
			}
			for i := range b {
				if _, err := UnmarshalRecord(b[:i]); !errors.Is(err, errCorrupt) {
					t.Fatalf("cut at %d/%d: %v", i, len(b), err)
				}
			}
			if _, err := UnmarshalRecord(append(bytes.Clone(b), 0)); !errors.Is(err, errCorrupt) {
				t.Errorf("trailing byte: %v", err)
			}
			newer := bytes.Clone(b)
			newer[0]++
			if _, err := UnmarshalRecord(newer); !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "version") {
				t.Errorf("newer version: %v", err)
			}
		})
	}

	// What the outbox hands out reads back as it was, and shares no memory with the message.
	s := openStore(t, outboxOptions(t, t.TempDir()))
	recordOn(t, s, []int{0}, 2)
	rs, err := outboxRecords(context.Background(), s, 10)
	if err != nil || len(rs) != 2 {
		t.Fatalf("Outbox: %d, %v", len(rs), err)
	}
	for _, r := range rs {
		b := MarshalRecord(&r)
		got, err := UnmarshalRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		clear(b)
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip of %s:\n got %+v\nwant %+v", r.ID, got, r)
		}
	}
}

// FuzzUnmarshalRecord: arbitrary bytes never panic UnmarshalRecord, and whatever it accepts
// encodes again to a fixed point.
func FuzzUnmarshalRecord(f *testing.F) {
	for _, r := range codecCases() {
		f.Add(MarshalRecord(&r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := UnmarshalRecordMeta(b); err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("metadata only: error without errCorrupt: %v", err)
		}
		r, err := UnmarshalRecord(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error without errCorrupt: %v", err)
			}
			return
		}
		again := MarshalRecord(&r)
		r2, err := UnmarshalRecord(again)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !bytes.Equal(MarshalRecord(&r2), again) {
			t.Fatal("record encoding is not a fixed point")
		}
	})
}

// Outbox starts from the first flow the last one found (not stepping again over what Sent
// removed below it), yet returns a flow committed below that point.
func TestOutboxFloor(t *testing.T) {
	s := openStore(t, outboxOptions(t, t.TempDir()))
	ctx := context.Background()
	start := base.Add(-time.Hour)
	rec := func(at time.Time) string {
		t.Helper()
		f := chatFlow(at, 1)
		s.Record(f)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return f.ID
	}
	var ids []string
	for i := range 6 {
		ids = append(ids, rec(start.Add(time.Duration(10+i)*time.Second)))
	}
	got := func(n int) []string {
		t.Helper()
		rs, err := outboxRecords(ctx, s, n)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	check := func(name string, g, want []string) {
		t.Helper()
		if !slices.Equal(g, want) {
			t.Fatalf("%s: Outbox = %v; want %v", name, g, want)
		}
	}
	check("first two", got(2), ids[:2])
	check("not sent: the same two", got(2), ids[:2])
	if err := s.Sent(ids[:3]); err != nil {
		t.Fatal(err)
	}
	check("three sent", got(2), ids[3:5])
	early := rec(start)
	check("a flow that started before every other", got(10), append([]string{early}, ids[3:]...))
	if err := s.Sent(append([]string{early}, ids[3:]...)); err != nil {
		t.Fatal(err)
	}
	check("all sent", got(10), nil)
	late := rec(start.Add(time.Minute))
	check("one more", got(10), []string{late})
}

// A large body goes out as it is stored, compressed, and decodes to what Get returns.
func TestOutboxEncodedCompressed(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, outboxOptions(t, t.TempDir()))
	f := chatFlow(base.Add(-time.Hour), 1)
	f.RequestBody = []byte(strings.Repeat(`{"role":"user","content":"the meeting notes, again"},`, 400)) // 20 KB
	s.Record(f)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	enc, err := s.OutboxEncoded(ctx, 10)
	if err != nil || len(enc) != 1 {
		t.Fatalf("OutboxEncoded: %d, %v", len(enc), err)
	}
	if len(enc[0].Encoded) >= len(f.RequestBody)/4 {
		t.Fatalf("encoded flow of %d bytes for a %d-byte body that compresses: not the stored bytes", len(enc[0].Encoded), len(f.RequestBody))
	}
	r, err := UnmarshalRecord(enc[0].Encoded)
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Get(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, g) {
		t.Fatalf("decoded\n%+v\nGet\n%+v", r, g)
	}
}

// The flows last committed are handed over from memory, byte for byte what a read from badger
// gives, within the memory's bound; Sent and a reopen forget them.
func TestOutboxMemory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, outboxOptions(t, dir))
	want := recordOn(t, s, []int{1, 0}, 4)
	encoded := func(s *Store) ([]string, [][]byte) {
		t.Helper()
		fs, err := s.OutboxEncoded(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		var bs [][]byte
		for _, f := range fs {
			ids = append(ids, f.Record.ID)
			bs = append(bs, f.Encoded)
		}
		return ids, bs
	}
	ids, fromMemory := encoded(s)
	if !slices.Equal(ids, want) || s.Stats().OutboxFromMemory != uint64(len(want)) {
		t.Fatalf("from memory: %v (%d hits); want %v, every one from memory", ids, s.Stats().OutboxFromMemory, want)
	}
	closeStore(t, s)
	s = openStore(t, outboxOptions(t, dir))
	ids, fromDisk := encoded(s)
	if !slices.Equal(ids, want) || s.Stats().OutboxFromMemory != 0 {
		t.Fatalf("after a reopen: %v (%d hits); want %v read back", ids, s.Stats().OutboxFromMemory, want)
	}
	for i := range fromDisk {
		if !bytes.Equal(fromMemory[i], fromDisk[i]) {
			t.Fatalf("flow %s: memory and badger give different bytes", ids[i])
		}
	}
	closeStore(t, s)

	// A bound of one flow's bytes keeps the last flow only; Sent counts a flow once whether it
	// was in memory or not.
	o := outboxOptions(t, t.TempDir())
	o.OutboxMemory = 3000
	s = openStore(t, o)
	want = recordOn(t, s, []int{0}, 6)
	if ids, _ := encoded(s); !slices.Equal(ids, want) || s.Stats().OutboxFromMemory != 1 {
		t.Fatalf("bounded memory: %v, %d hits; want %v, 1 hit", ids, s.Stats().OutboxFromMemory, want)
	}
	for range 2 {
		if err := s.Sent(want[4:]); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Stats().Outbox; got != 4 {
		t.Fatalf("Outbox after sending 2 of 6 twice = %d; want 4", got)
	}
	if ids, _ := encoded(s); !slices.Equal(ids, want[:4]) {
		t.Fatalf("after Sent: %v; want %v", ids, want[:4])
	}
}

// A publisher that keeps up sends every flow long before the memory's bound would evict it:
// what the memory keeps of the flows sent must not grow with them.
func TestOutboxMemoryForgetsSent(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, outboxOptions(t, t.TempDir()))
	for round := range 20 {
		want := recordOn(t, s, []int{0}, 10)
		fs, err := s.OutboxEncoded(ctx, 100)
		if err != nil || len(fs) != len(want) {
			t.Fatalf("round %d: %d flows, %v; want %d", round, len(fs), err, len(want))
		}
		if err := s.Sent(want); err != nil {
			t.Fatal(err)
		}
	}
	s.recent.mu.Lock()
	n, kept := len(s.recent.fifo), len(s.recent.m)
	s.recent.mu.Unlock()
	if n != 0 || kept != 0 {
		t.Fatalf("after 200 flows sent: %d IDs in the memory's order, %d flows kept; want none", n, kept)
	}
}
