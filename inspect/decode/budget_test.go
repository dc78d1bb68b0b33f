package decode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

// TestBudgetShares: what one client may hold, what all may hold, and that a lease given back
// lets a waiting one through.
func TestBudgetShares(t *testing.T) {
	const MiB = 1 << 20
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, b *Budget)
	}{
		{"a client over its share fails without waiting for itself", func(t *testing.T, b *Budget) {
			a := b.Lease(context.Background(), "a")
			if err := a.Grow(3 * MiB); err != nil {
				t.Fatal(err)
			}
			if err := a.Grow(2 * MiB); !errors.Is(err, ErrBudget) {
				t.Fatalf("grow past the share: %v, want ErrBudget", err)
			}
			a.Release()
		}},
		{"another client is served while one holds its share", func(t *testing.T, b *Budget) {
			a := b.Lease(context.Background(), "a")
			if err := a.Grow(4 * MiB); err != nil {
				t.Fatal(err)
			}
			a2 := b.Lease(context.Background(), "a")
			if err := a2.Grow(MiB); !errors.Is(err, ErrBudget) {
				t.Fatalf("the same client again: %v, want ErrBudget after the wait", err)
			}
			other := b.Lease(context.Background(), "b")
			if err := other.Grow(4 * MiB); err != nil {
				t.Fatalf("another client: %v", err)
			}
			if total, byA := b.Used("a"); total != 8*MiB || byA != 4*MiB {
				t.Fatalf("used %d, by a %d", total, byA)
			}
			a.Release()
			a2.Release()
			other.Release()
		}},
		{"the total bounds every client together", func(t *testing.T, b *Budget) {
			var ls []*Lease
			for _, c := range []string{"a", "b", "c"} {
				l := b.Lease(context.Background(), c)
				if err := l.Grow(3 * MiB); err != nil {
					t.Fatal(err)
				}
				ls = append(ls, l)
			}
			d := b.Lease(context.Background(), "d")
			if err := d.Grow(2 * MiB); !errors.Is(err, ErrBudget) {
				t.Fatalf("over the total: %v, want ErrBudget", err)
			}
			for _, l := range ls {
				l.Release()
			}
		}},
		{"a lease given back lets the same client through", func(t *testing.T, b *Budget) {
			a := b.Lease(context.Background(), "a")
			if err := a.Grow(4 * MiB); err != nil {
				t.Fatal(err)
			}
			got := make(chan error, 1)
			go func() {
				w := b.Lease(context.Background(), "a")
				err := w.Grow(2 * MiB)
				w.Release()
				got <- err
			}()
			a.Shrink(2 * MiB)
			if err := <-got; err != nil {
				t.Fatalf("waiting lease: %v", err)
			}
			a.Release()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBudget(10*MiB, 4*MiB, 100*time.Millisecond)
			if tc.name == "a lease given back lets the same client through" {
				b = NewBudget(10*MiB, 4*MiB, time.Minute) // the give-back, not the wait, ends it
			}
			tc.run(t, b)
			if total, _ := b.Used(""); total != 0 {
				t.Fatalf("%d bytes still leased after every lease was released", total)
			}
		})
	}
	var nilBudget *Budget
	l := nilBudget.Lease(context.Background(), "x")
	if err := l.Grow(1 << 40); err != nil {
		t.Fatalf("a nil budget refused: %v", err)
	}
	l.Release()
}

// TestBodyWithinBudget: a bomb decoded under a budget stops where the budget does, says why,
// and leaves nothing leased once released; an ordinary body decodes as it would without one.
func TestBodyWithinBudget(t *testing.T) {
	zeros := bytes.Repeat([]byte{0}, 8<<20)
	var br bytes.Buffer
	w := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: 4, LGWin: 24})
	_, _ = w.Write(zeros)
	_ = w.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"messages":[{"role":"user","content":"hello"}]}`))
	_ = zw.Close()

	for _, tc := range []struct {
		name     string
		coding   string
		raw      []byte
		share    int64
		wantErr  error
		wantSize int
	}{
		{"a brotli bomb past a 4 MiB share", "br", br.Bytes(), 4 << 20, ErrBudget, -1},
		{"a brotli bomb within a 64 MiB share", "br", br.Bytes(), 64 << 20, nil, len(zeros)},
		{"a small gzip prompt", "gzip", gz.Bytes(), 1 << 20, nil, 48},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBudget(1<<30, tc.share, 10*time.Millisecond)
			l := b.Lease(context.Background(), "client")
			out, err := BodyWithin(tc.coding, tc.raw, 32<<20, l)
			if !errors.Is(err, tc.wantErr) && (err != nil || tc.wantErr != nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && Reason(err) != "decode-budget" {
				t.Fatalf("reason %q", Reason(err))
			}
			if tc.wantSize >= 0 && len(out) != tc.wantSize {
				t.Fatalf("decoded %d bytes, want %d", len(out), tc.wantSize)
			}
			if l.Held() > tc.share {
				t.Fatalf("the lease holds %d, over the share %d", l.Held(), tc.share)
			}
			l.Release()
			if total, _ := b.Used(""); total != 0 {
				t.Fatalf("%d bytes leased after release", total)
			}
		})
	}
}

// TestNewReaderWithinBudget: a stream's decoders are leased for as long as it is open.
func TestNewReaderWithinBudget(t *testing.T) {
	b := NewBudget(64<<20, 64<<20, 0)
	l := b.Lease(context.Background(), "c")
	r, err := NewReaderWithin("br", bytes.NewReader(nil), 1<<30, l)
	if err != nil {
		t.Fatal(err)
	}
	if total, _ := b.Used(""); total == 0 {
		t.Fatal("an open brotli stream leases nothing")
	}
	// A second stream of the same client does not fit beside the first.
	l2 := b.Lease(context.Background(), "c")
	if _, err := NewReaderWithin("br, br, br", bytes.NewReader(nil), 1<<30, l2); !errors.Is(err, ErrBudget) {
		t.Fatalf("three brotli stages beside one: %v, want ErrBudget", err)
	}
	_, _ = io.Copy(io.Discard, r)
	_ = r.Close()
	l.Release()
	l2.Release()
	if total, _ := b.Used(""); total != 0 {
		t.Fatalf("%d bytes leased after Close", total)
	}
}
