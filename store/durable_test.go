package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestRecordDurableGroupCommit: durable flows from many goroutines, mixed with Record, are all
// committed when their calls return, share batches (group commit: fewer syncs than flows), and
// RecordDurable after Close fails with ErrClosed. Run it under -race.
func TestRecordDurableGroupCommit(t *testing.T) {
	o := testOptions(t, t.TempDir())
	s := openStore(t, o)
	const callers, each = 16, 40
	var wg sync.WaitGroup
	ids := make([][]string, callers)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				f := chatFlow(base.Add(-time.Duration(c*each+i)*time.Second), i)
				if err := s.RecordDurable(f); err != nil {
					t.Error(err)
					return
				}
				ids[c] = append(ids[c], f.ID)
				s.Record(chatFlow(base.Add(-time.Duration(c*each+i)*time.Second-time.Millisecond), i)) // async, alongside
			}
		}()
	}
	wg.Wait()
	// Every durable flow is readable now, without a Flush.
	for _, list := range ids {
		for _, id := range list {
			if _, err := s.Get(context.Background(), id); err != nil {
				t.Fatalf("flow %s after RecordDurable returned: %v", id, err)
			}
		}
	}
	if st := s.Stats(); st.Batches >= callers*each {
		t.Errorf("%d batches for %d durable flows: no group commit", st.Batches, callers*each)
	}
	closeStore(t, s)
	if err := s.RecordDurable(chatFlow(base, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("RecordDurable after Close = %v", err)
	}
}

// TestRecordDurableWriteError: a batch that fails to commit fails its durable flows with the
// write's error.
func TestRecordDurableWriteError(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	boom := errors.New("write vlog: input/output error")
	s.writeMu.Lock()
	s.put = func([]*entry) error { return boom }
	s.writeMu.Unlock()
	if err := s.RecordDurable(chatFlow(base, 1)); !errors.Is(err, boom) {
		t.Errorf("RecordDurable = %v, want the write error", err)
	}
	if st := s.Stats(); st.WriteErrors != 1 {
		t.Errorf("write errors %d", st.WriteErrors)
	}
}
