package decode

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// A compression bomb is cheap to send and dear to open: 1.7 KB of brotli can make a decoder
// allocate its window and the decode limit of output, and the scan that follows reads every
// byte of it. Each body's own limit bounds one request, not a flood of them: 64 concurrent bombs
// measured 2.8 GiB and a minute of CPU, and slowed every other client's requests to seconds.
//
// A Budget bounds what all the bodies decoded under it hold at once: the decoded bytes plus
// the decoders' windows. A decode leases what it needs from the budget (a Lease) and gives it
// back when the decoded body is no longer needed (after its inspection): before it starts, its
// decoder's window and room for an output of up to 64 times the body's coded size (what text
// compresses to, with a wide margin), waiting for that if it must; past that room only what
// the budget has at once, without waiting, so a lease never waits while it holds budget. The
// decoded bytes in flight are also the work in flight — every decoded byte is scanned — so the
// memory cap is a cap on concurrent decoding and scanning too. Two bounds:
//
//   - total: what every lease together may hold;
//   - per client: what the leases of one client may hold, so a client that floods the proxy
//     with bombs waits for its own bombs, while other clients still get theirs decoded.
//
// A lease that cannot get what it needs within the wait (counted over the whole lease, not per
// step) fails with ErrBudget: the body was not decoded whole, which the caller treats like any
// other incomplete decoding ("decode-budget"). Waiting never burns CPU, so a bomb that waits
// costs its sender time and nobody else anything.

// Budget is the process-wide allowance of decoded bytes in flight. A nil *Budget allows
// everything (offline tools such as replay and scan, where waiting is better than refusing).
type Budget struct {
	total     int64
	perClient int64
	wait      time.Duration

	mu      sync.Mutex
	used    int64
	clients map[string]int64
	// waiters are the leases waiting for budget, in arrival order. Budget given back is handed
	// to the first that fit, each woken alone: waking every waiter to try again made a flood of
	// 64 waiting bombs a storm of runnable goroutines that delayed everyone's requests.
	waiters []*waiter
}

type waiter struct {
	client string
	n      int64
	ready  chan struct{} // closed once the budget is the waiter's
}

// NewBudget returns a Budget of total bytes, at most perClient of them held by one client's
// leases, where a lease waits at most wait in all for what it asks. perClient <= 0 or above
// total means total; wait <= 0 means a lease never waits.
func NewBudget(total, perClient int64, wait time.Duration) *Budget {
	if perClient <= 0 || perClient > total {
		perClient = total
	}
	return &Budget{total: total, perClient: perClient, wait: wait, clients: map[string]int64{}}
}

// Used reports the bytes leased now, in total and by client (for tests and metrics).
func (b *Budget) Used(client string) (total, byClient int64) {
	if b == nil {
		return 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.clients[client]
}

// Lease starts leasing from the budget for one body of client (an address, a user: whatever
// should share one share). ctx ends the waits early. Release it when the decoded body is no
// longer held. A nil Budget returns a nil *Lease, whose methods allow everything.
func (b *Budget) Lease(ctx context.Context, client string) *Lease {
	if b == nil {
		return nil
	}
	return &Lease{b: b, ctx: ctx, client: client, waitLeft: b.wait}
}

// Lease is what one body holds of a Budget. It is not safe for concurrent use.
type Lease struct {
	b        *Budget
	ctx      context.Context
	client   string
	held     int64
	waitLeft time.Duration
}

// Grow leases n more bytes, waiting (within what is left of the lease's wait) for other
// leases to give budget back. It fails with an error wrapping ErrBudget.
func (l *Lease) Grow(n int64) error { return l.grow(n, true) }

// TryGrow leases n more bytes if the budget has them now and no other lease of the client is
// waiting. A lease that already holds budget grows this way: were it to wait while holding, two
// leases of one client could each hold half of the share and wait for the other's half until
// both ran out of time.
func (l *Lease) TryGrow(n int64) error { return l.grow(n, false) }

func (l *Lease) grow(n int64, wait bool) error {
	if l == nil || n <= 0 {
		return nil
	}
	b := l.b
	if l.held+n > b.perClient {
		// More than a client may ever hold: waiting cannot help.
		return fmt.Errorf("%w: %d bytes wanted, a client may hold %d", ErrBudget, l.held+n, b.perClient)
	}
	b.mu.Lock()
	// Those already waiting of the same client go first: a stream of small leases must not
	// starve a large one, and a body that outgrows its room while its client's next bodies wait
	// stops there (under a flood of bombs, each then stops at its room instead of decoding on).
	if b.fitsLocked(l.client, n) && !b.queuedLocked(l.client) {
		b.takeLocked(l.client, n)
		b.mu.Unlock()
		l.held += n
		return nil
	}
	if !wait || l.waitLeft <= 0 {
		b.mu.Unlock()
		return fmt.Errorf("%w: no room for %d more bytes", ErrBudget, n)
	}
	w := &waiter{client: l.client, n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()

	start := time.Now()
	timer := time.NewTimer(l.waitLeft)
	defer timer.Stop()
	var cause error
	select {
	case <-w.ready:
	case <-timer.C:
	case <-l.ctx.Done():
		cause = l.ctx.Err()
	}
	l.waitLeft -= time.Since(start)
	b.mu.Lock()
	select {
	case <-w.ready:
		// Granted, possibly just as the wait ran out: it is ours either way.
		b.mu.Unlock()
		l.held += n
		return nil
	default:
	}
	for i, x := range b.waiters {
		if x == w {
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			break
		}
	}
	// A large waiter leaving may let smaller ones behind it through.
	b.grantLocked()
	b.mu.Unlock()
	if cause != nil {
		return fmt.Errorf("%w: %v", ErrBudget, cause)
	}
	return fmt.Errorf("%w: no room for %d more bytes within the wait", ErrBudget, n)
}

func (b *Budget) fitsLocked(client string, n int64) bool {
	return b.used+n <= b.total && b.clients[client]+n <= b.perClient
}

func (b *Budget) queuedLocked(client string) bool {
	for _, w := range b.waiters {
		if w.client == client {
			return true
		}
	}
	return false
}

func (b *Budget) takeLocked(client string, n int64) {
	b.used += n
	b.clients[client] += n
}

// grantLocked hands budget to the waiters that now fit, in order; a client whose first waiter
// does not fit gets nothing past it.
func (b *Budget) grantLocked() {
	var blocked map[string]bool
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		if !blocked[w.client] && b.fitsLocked(w.client, w.n) {
			b.takeLocked(w.client, w.n)
			close(w.ready)
			continue
		}
		if blocked == nil {
			blocked = map[string]bool{}
		}
		blocked[w.client] = true
		kept = append(kept, w)
	}
	clear(b.waiters[len(kept):])
	b.waiters = kept
}

// Shrink gives n of the leased bytes back before the lease ends (a decoder's window, once the
// decoder is done).
func (l *Lease) Shrink(n int64) {
	if l == nil || n <= 0 {
		return
	}
	n = min(n, l.held)
	l.held -= n
	l.b.give(l.client, n)
}

// Release gives back everything the lease holds. It may be called more than once.
func (l *Lease) Release() {
	if l == nil {
		return
	}
	l.Shrink(l.held)
}

// Held is what the lease holds now.
func (l *Lease) Held() int64 {
	if l == nil {
		return 0
	}
	return l.held
}

func (b *Budget) give(client string, n int64) {
	b.mu.Lock()
	b.used -= n
	if b.clients[client] -= n; b.clients[client] <= 0 {
		delete(b.clients, client)
	}
	if len(b.waiters) > 0 {
		b.grantLocked()
	}
	b.mu.Unlock()
}

// Decoder state that is not output: what a stage of each coding keeps besides its output buffer.
const (
	flateCost = 64 << 10 // a 32 KiB window and the decoder's tables
	zstdCost  = zstdMaxWindow + 256<<10
	// brotliSlack is the decoder's tables besides its ring buffer.
	brotliSlack = 256 << 10
)

// windowCost is what decoding one stage of coding holds besides its output, for a stream that
// starts with head (nil when unknown: the worst case for limit is charged). brotli's ring buffer
// counts half again: it is reallocated, and copied, as it grows to the window.
func windowCost(coding string, head []byte, limit int64) int64 {
	switch coding {
	case "br":
		return brotliWindow(head, limit)*3/2 + brotliSlack
	case "zstd":
		// A later frame may declare a larger window than the first; charge the cap.
		return zstdCost
	default:
		return flateCost
	}
}

// brotliWindow is the ring buffer a brotli stream starting with head makes the decoder allocate,
// after clampBrotliWindow; with no head, the largest window decoding limit bytes can need.
func brotliWindow(head []byte, limit int64) int64 {
	wbits := 24
	if len(head) >= 2 {
		switch {
		case head[0]&1 == 0:
			wbits = 16
		case head[0]>>1&7 != 0:
			wbits = 17 + int(head[0]>>1&7)
		default:
			wbits = 17 // the small windows (10..15) and 17 itself
		}
	}
	if wbits >= 18 {
		// The same clamp decoding applies, on the first byte that declares this window.
		if first, ok := clampBrotliWindow([]byte{0x01 | byte(wbits-17)<<1, 0}, limit); ok {
			wbits = 17 + int(first>>1&7)
		}
	}
	return 1 << wbits
}
