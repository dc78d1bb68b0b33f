// Package alert reports the flows a policy acted on: one zerolog line of type "alert" per flow
// whose verdict is alert, redact or block, and, when configured, the same record POSTed as JSON
// to a webhook (a SIEM, a chat bridge, an incident tool).
//
// The webhook never slows the proxy: Record only enqueues, into a bounded queue that one worker
// drains, retrying each delivery with exponential backoff. When the queue is full the record is
// dropped, counted and logged — the alert line in the log is still written, so nothing is lost
// silently. Close delivers what is queued, within the caller's deadline.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
)

// Options configure a Sink.
type Options struct {
	Logger zerolog.Logger
	// Webhook is the URL records are POSTed to; empty sends none (log lines only).
	Webhook string
	// Header is added to every webhook request (Authorization, for instance).
	Header http.Header
	// Client sends the webhook requests; nil uses one with Timeout per attempt.
	Client      *http.Client
	QueueSize   int           // records waiting for delivery; default 1024
	Timeout     time.Duration // per attempt; default 5s
	MaxAttempts int           // per record; default 5
	Backoff     time.Duration // delay before the first retry, doubled each time up to 30s; default 500ms
}

// Record is what an alert says, in the log line and the webhook body. It holds masked previews
// and keyed hashes of the findings, never their values.
type Record struct {
	Type     string    `json:"type"` // always "alert"
	Time     time.Time `json:"time"`
	FlowID   string    `json:"flow_id"`
	Action   string    `json:"action"`
	Policy   string    `json:"policy,omitempty"`
	Policies []string  `json:"policies,omitempty"` // every policy that matched, in order
	Reason   string    `json:"reason,omitempty"`
	Vendor   string    `json:"vendor,omitempty"`
	Category string    `json:"category,omitempty"`
	Country  string    `json:"country,omitempty"`
	Host     string    `json:"host"`
	API      string    `json:"api,omitempty"`
	// Model and ServedModel are the flow's: the model requested, the one the answer named.
	Model       string    `json:"model,omitempty"`
	ServedModel string    `json:"served_model,omitempty"`
	Client      string    `json:"client"`
	User        string    `json:"user,omitempty"`
	Findings    []Finding `json:"findings"`
}

// Finding is one finding of an alert.
type Finding struct {
	Detector string `json:"detector"`
	Class    string `json:"class"`
	Severity string `json:"severity,omitempty"`
	Path     string `json:"path"`
	Preview  string `json:"preview"`
	Hash     string `json:"hash"`
	// What a crown-jewel finding matched (flow.Finding): names and numbers, never text.
	Label        string   `json:"label,omitempty"`
	Ref          string   `json:"ref,omitempty"`
	Share        float64  `json:"share,omitempty"`
	SegmentShare float64  `json:"segment_share,omitempty"`
	Rows         int      `json:"rows,omitempty"`
	Columns      []string `json:"columns,omitempty"`
}

// Sink is a flow.Recorder that writes alerts.
type Sink struct {
	opts  Options
	queue chan []byte
	done  chan struct{}
	once  sync.Once
	// closing makes Record stop enqueueing; mu keeps a send from racing the close of queue.
	mu      sync.RWMutex
	closing bool

	delivered, failed, dropped atomic.Uint64
}

var _ flow.Recorder = (*Sink)(nil)

// New starts a sink; with a webhook, its delivery worker runs until Close.
func New(opts Options) *Sink {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 500 * time.Millisecond
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: opts.Timeout}
	}
	s := &Sink{opts: opts, done: make(chan struct{})}
	if opts.Webhook != "" {
		s.queue = make(chan []byte, opts.QueueSize)
		go s.deliver()
	} else {
		close(s.done)
	}
	return s
}

// Alerting reports whether f gets an alert: a policy acted on it.
func Alerting(f *flow.Flow) bool {
	switch f.Verdict.Action {
	case flow.Alert, flow.Redact, flow.Block:
		return true
	}
	return false
}

// NewRecord builds the alert record of f.
func NewRecord(f *flow.Flow) Record {
	r := Record{
		Type: "alert", Time: f.End, FlowID: f.ID, Action: string(f.Verdict.Action), Policy: f.Verdict.Policy,
		Policies: f.Verdict.Matched, Reason: f.Verdict.Message, Vendor: f.Vendor.ID, Category: f.Vendor.Category,
		Country: f.Vendor.Country, Host: f.Host, API: f.API, Model: f.Model, ServedModel: f.ServedModel,
		Client: f.Client.Addr, User: f.Client.User,
		Findings: make([]Finding, 0, len(f.Findings)),
	}
	if r.Time.IsZero() {
		r.Time = f.Start
	}
	for _, x := range f.Findings {
		r.Findings = append(r.Findings, Finding{Detector: x.Detector, Class: x.Class, Severity: x.Severity,
			Path: x.Path, Preview: x.Preview, Hash: x.Hash, Label: x.Label, Ref: x.Ref, Share: x.Share, SegmentShare: x.SegmentShare,
			Rows: x.Rows, Columns: x.Columns})
	}
	return r
}

// Record writes the alert line for f and queues the webhook delivery, if f is alerting.
func (s *Sink) Record(f *flow.Flow) {
	if !Alerting(f) {
		return
	}
	r := NewRecord(f)
	s.logLine(r)
	if s.queue == nil {
		return
	}
	body, err := json.Marshal(r)
	if err != nil {
		s.opts.Logger.Error().Err(err).Str("flow_id", r.FlowID).Msg("alert: encoding the webhook record")
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closing {
		s.drop(r.FlowID, "shutting down")
		return
	}
	select {
	case s.queue <- body:
	default:
		s.drop(r.FlowID, "webhook queue full")
	}
}

func (s *Sink) drop(flowID, why string) {
	s.dropped.Add(1)
	s.opts.Logger.Warn().Str("type", "alert-dropped").Str("flow_id", flowID).Str("reason", why).
		Msg("alert not delivered to the webhook")
}

func (s *Sink) logLine(r Record) {
	ev := s.opts.Logger.Warn()
	if !ev.Enabled() {
		return
	}
	ev.Str("type", "alert").Str("flow_id", r.FlowID).Str("action", r.Action)
	if r.Policy != "" {
		ev.Str("policy", r.Policy)
	}
	if len(r.Policies) > 0 {
		ev.Strs("policies", r.Policies)
	}
	if r.Reason != "" {
		ev.Str("reason", r.Reason)
	}
	if r.Vendor != "" {
		ev.Str("vendor", r.Vendor).Str("category", r.Category)
	}
	ev.Str("host", r.Host)
	if r.API != "" {
		ev.Str("api", r.API)
	}
	if r.Model != "" {
		ev.Str("model", r.Model)
	}
	if r.ServedModel != "" {
		ev.Str("served_model", r.ServedModel)
	}
	ev.Str("client", r.Client)
	if r.User != "" {
		ev.Str("user", r.User)
	}
	arr := zerolog.Arr()
	for _, x := range r.Findings {
		d := zerolog.Dict().Str("detector", x.Detector).Str("class", x.Class).Str("severity", x.Severity).
			Str("path", x.Path).Str("preview", x.Preview).Str("hash", x.Hash)
		// The same names as the flow line's (flowlog.JewelFields).
		if x.Label != "" {
			d.Str("label", x.Label)
		}
		if x.Ref != "" {
			d.Str("ref", x.Ref)
		}
		if x.Share != 0 || x.SegmentShare != 0 {
			d.Float64("share", x.Share).Float64("segment_share", x.SegmentShare)
		}
		if x.Rows != 0 {
			d.Int("rows", x.Rows).Strs("columns", x.Columns)
		}
		arr.Dict(d)
	}
	ev.Array("findings", arr).Msg("alert")
}

func (s *Sink) deliver() {
	defer close(s.done)
	for body := range s.queue {
		s.send(body)
	}
}

// send delivers one record, retrying with backoff. A 4xx other than 408 and 429 will not succeed
// on retry and is given up at once.
func (s *Sink) send(body []byte) {
	delay := s.opts.Backoff
	var last string
	for attempt := 1; attempt <= s.opts.MaxAttempts; attempt++ {
		status, err := s.post(body)
		switch {
		case err == nil && status < 300:
			s.delivered.Add(1)
			return
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("status %d", status)
			if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
				attempt = s.opts.MaxAttempts
			}
		}
		if attempt < s.opts.MaxAttempts {
			time.Sleep(delay)
			delay = min(delay*2, 30*time.Second)
		}
	}
	s.failed.Add(1)
	s.opts.Logger.Error().Str("type", "alert-failed").Str("webhook_error", last).
		Msg("alert webhook delivery failed after retries")
}

func (s *Sink) post(body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.Webhook, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, vs := range s.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "customs-alert/1")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Close stops accepting alerts and waits until the queued ones are delivered or ctx ends.
func (s *Sink) Close(ctx context.Context) error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closing = true
		if s.queue != nil {
			close(s.queue)
		}
		s.mu.Unlock()
	})
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("alert: %d queued webhook deliveries abandoned: %w", len(s.queue), ctx.Err())
	}
}

// Stats are the webhook's counters: delivered, failed after retries, and dropped (queue full).
func (s *Sink) Stats() (delivered, failed, dropped uint64) {
	return s.delivered.Load(), s.failed.Load(), s.dropped.Load()
}
