package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/store"
)

// Headers of a flow's message. Nats-Msg-Id (the flow ID) is JetStream's de-duplication key;
// the others let a reader name the site and the key without opening the message.
const (
	hdrSite = "Customs-Site"
	hdrKey  = "Customs-Key"
)

// Outbox is the local store's side of publishing (store.Store): the flows not yet acknowledged
// by the fleet, oldest first, each encoded as stored.
type Outbox interface {
	OutboxEncoded(ctx context.Context, n int) ([]store.OutboxFlow, error)
	Sent(ids []string) error
	OutboxNotify() <-chan struct{}
}

// PublisherStats are the publisher's counters, for metrics.
type PublisherStats struct {
	Published  uint64 // flows the stream acknowledged
	Duplicates uint64 // of those, flows the stream had already (a repeat after a lost ack)
	Failures   uint64 // publish rounds that failed (no connection, timeout, refused)
	Cut        uint64 // flows whose bodies were cut to fit the servers' max_payload
	// Oldest is the time of the oldest flow waiting for the fleet, zero when none waits: the
	// publisher's lag.
	Oldest    time.Time
	Connected bool
}

// Publisher sends the store's outbox to the fleet's stream: at least once (a flow leaves the
// outbox only when the stream acknowledged it) and de-duplicated by flow ID within the
// stream's duplicate window. It never blocks the proxy: the store is the buffer.
type Publisher struct {
	c   *Conn
	box Outbox
	log zerolog.Logger

	published, duplicates, failures, cut atomic.Uint64
	oldest                               atomic.Int64 // unix ns, 0 none
	streamOK                             bool
	// subjects caches Subject by vendor and action: a few dozen, asked for every flow.
	subjects map[[2]string]string
}

// NewPublisher publishes box's flows over c as site c's options name.
func (c *Conn) NewPublisher(box Outbox, log zerolog.Logger) (*Publisher, error) {
	if c.opts.Site == "" || c.opts.Key == nil {
		return nil, errors.New("fleet: publishing needs a site and the fleet key")
	}
	return &Publisher{c: c, box: box, log: log}, nil
}

// Stats returns the counters.
func (p *Publisher) Stats() PublisherStats {
	s := PublisherStats{Published: p.published.Load(), Duplicates: p.duplicates.Load(), Failures: p.failures.Load(),
		Cut: p.cut.Load(), Connected: p.c.Connected()}
	if ns := p.oldest.Load(); ns != 0 {
		s.Oldest = time.Unix(0, ns)
	}
	return s
}

// Run publishes until ctx ends: at once after the store commits flows, and every second
// otherwise (a connection back, a round to retry).
func (p *Publisher) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	backoff := time.Duration(0)
	var lastErr time.Time
	for {
		n, err := p.round(ctx)
		switch {
		case err != nil:
			p.failures.Add(1)
			if time.Since(lastErr) > 10*time.Second {
				p.log.Warn().Err(err).Str("type", "fleet").Msg("fleet publish failed; the flows stay in the local store and are sent when the fleet answers")
				lastErr = time.Now()
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		case n == p.c.opts.Batch:
			backoff = 0
			continue // a backlog: drain it
		default:
			backoff = 0
		}
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-p.box.OutboxNotify():
			// Let a few commits gather: a round has fixed costs (a read transaction, a
			// write batch for Sent, a wait for acknowledgements) that a handful of flows
			// would each pay a share of.
			select {
			case <-ctx.Done():
				return
			case <-time.After(linger):
			}
		case <-tick.C:
		}
	}
}

// linger is how long the publisher lets flows gather after a commit woke it: the fleet's record
// is that much behind the local store, for rounds that cost a fraction per flow.
const linger = 50 * time.Millisecond

// round publishes one batch of the outbox and removes what the stream acknowledged.
func (p *Publisher) round(ctx context.Context) (int, error) {
	if !p.c.Connected() {
		return 0, errors.New("not connected to any fleet server")
	}
	if !p.streamOK {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.c.EnsureStream(sctx)
		cancel()
		if errors.Is(err, ErrStreamLimits) {
			p.log.Warn().Err(err).Str("type", "fleet").Msg("publishing to the fleet's stream as it is")
		} else if err != nil {
			return 0, err
		}
		p.streamOK = true
	}
	recs, err := p.box.OutboxEncoded(ctx, p.c.opts.Batch)
	if err != nil {
		return 0, fmt.Errorf("read the outbox: %w", err)
	}
	if len(recs) == 0 {
		p.oldest.Store(0)
		return 0, nil
	}
	p.oldest.Store(recs[0].Record.Start.UnixNano())
	futures := make([]jetstream.PubAckFuture, 0, len(recs))
	ids := make([]string, 0, len(recs))
	var pubErr error
	for i := range recs {
		m := p.message(&recs[i])
		f, err := p.c.js.PublishMsgAsync(m, jetstream.WithExpectStream(p.c.opts.Stream))
		if err != nil {
			pubErr = err
			break
		}
		futures = append(futures, f)
		ids = append(ids, recs[i].Record.ID)
	}
	acked := make([]string, 0, len(futures))
	timeout := time.NewTimer(15 * time.Second)
	defer timeout.Stop()
wait:
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			acked = append(acked, ids[i])
			p.published.Add(1)
			if ack.Duplicate {
				p.duplicates.Add(1)
			}
		case err := <-f.Err():
			if pubErr == nil {
				pubErr = err
			}
		case <-timeout.C:
			if pubErr == nil {
				pubErr = errors.New("no acknowledgement from the stream within 15 s")
			}
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	if len(acked) > 0 {
		if err := p.box.Sent(acked); err != nil {
			return len(acked), fmt.Errorf("mark sent: %w", err)
		}
	}
	if pubErr != nil {
		if errors.Is(pubErr, jetstream.ErrNoStreamResponse) || errors.Is(pubErr, nats.ErrNoResponders) {
			p.streamOK = false // deleted, or not yet elected: look again next round
		}
		return len(acked), pubErr
	}
	if len(acked) == len(recs) && len(recs) < p.c.opts.Batch {
		p.oldest.Store(0)
	}
	return len(acked), nil
}

// message seals f for the stream. A record larger than the servers take (max_payload, 1 MiB
// by default) goes with its bodies cut, said so on the record, rather than never.
func (p *Publisher) message(f *store.OutboxFlow) *nats.Msg {
	site, r := p.c.opts.Site, &f.Record
	plain := f.Encoded
	if limit := int(p.c.nc.MaxPayload()) - 4096; limit > 0 && len(plain)+64 > limit {
		p.cut.Add(1)
		whole, err := store.UnmarshalRecord(plain)
		if err == nil {
			cutBodies(&whole, limit)
			plain = store.MarshalRecord(&whole)
		}
		if err != nil || len(plain)+64 > limit {
			// Never a record the servers refuse: it would hold the outbox up for good.
			meta := *r
			meta.Notes = append(meta.Notes, fmt.Sprintf("fleet: headers and bodies left out: the record does not fit the fleet servers' max_payload (%d bytes)", limit))
			plain = store.MarshalRecord(&meta)
		}
	}
	k := [2]string{r.Vendor.ID, string(r.Verdict.Action)}
	subj, ok := p.subjects[k]
	if !ok {
		if p.subjects == nil {
			p.subjects = map[[2]string]string{}
		}
		subj = Subject(site, k[0], k[1])
		p.subjects[k] = subj
	}
	m := nats.NewMsg(subj)
	m.Header.Set(jetstream.MsgIDHeader, r.ID)
	m.Header.Set(hdrSite, site)
	m.Header.Set(hdrKey, p.c.opts.Key.ID)
	m.Data = p.c.opts.Key.seal(plain, r.ID, site)
	return m
}

// cutBodies shortens r's bodies so that its encoding fits in about limit bytes.
func cutBodies(r *store.Record, limit int) {
	budget := max(limit-len(store.MarshalRecord(&store.Record{ID: r.ID, Findings: r.Findings, Segments: r.Segments,
		RequestHeader: r.RequestHeader, ResponseHeader: r.ResponseHeader, Notes: r.Notes}))-1024, 0)
	req := min(len(r.RequestBody), budget/2)
	resp := min(len(r.ResponseBody), budget-req)
	if resp < len(r.ResponseBody) {
		r.ResponseBody, r.ResponseTruncated = r.ResponseBody[:resp], true
	}
	if req < len(r.RequestBody) {
		req = min(len(r.RequestBody), budget-resp)
		r.RequestBody, r.RequestTruncated = r.RequestBody[:req], true
	}
	r.Notes = append(r.Notes, fmt.Sprintf("fleet: bodies cut to fit the fleet servers' max_payload (%d bytes)", limit))
}

// Drain publishes what the outbox holds until it is empty, a round fails or ctx ends: serve's
// last act before it closes the store. What it leaves is sent at the next start.
func (p *Publisher) Drain(ctx context.Context) error {
	for ctx.Err() == nil {
		n, err := p.round(ctx)
		if err != nil {
			return err
		}
		if n < p.c.opts.Batch {
			return nil
		}
	}
	return ctx.Err()
}
