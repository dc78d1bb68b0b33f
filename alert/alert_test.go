package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/golden"
)

func sample(action flow.Action) *flow.Flow {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return &flow.Flow{
		ID: "01JALERTFLOW00000000000000", Start: t0, End: t0.Add(40 * time.Millisecond),
		Client: flow.Client{Addr: "127.0.0.1:50000", User: "ci-bot"}, Host: "api.openai.com", API: "openai.chat",
		Vendor: flow.Vendor{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"},
		Findings: []flow.Finding{{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "critical",
			Path: "messages[0].content", Preview: "AKIA************7XYZ", Hash: "8f3a"}},
		Verdict: flow.Verdict{Action: action, Policy: "block-secrets-to-ai", Message: "Credentials may not be sent to AI vendors.",
			Matched: []string{"alert-all", "block-secrets-to-ai"}},
	}
}

func TestAlertLines(t *testing.T) {
	tests := []struct {
		name   string
		action flow.Action
		lines  int
	}{
		{"block", flow.Block, 1},
		{"redact", flow.Redact, 1},
		{"alert", flow.Alert, 1},
		{"allow", flow.Allow, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := New(Options{Logger: zerolog.New(&buf)})
			s.Record(sample(tt.action))
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(buf.String(), "\n"); n != tt.lines {
				t.Fatalf("%d lines, want %d:\n%s", n, tt.lines, buf.String())
			}
			if tt.lines > 0 {
				golden.Check(t, filepath.Join("testdata", "line-"+tt.name+".json"), buf.Bytes())
			}
		})
	}
}

// webhook is a TLS server on loopback that answers with the statuses in plan, then 200.
type webhook struct {
	*httptest.Server
	mu       sync.Mutex
	plan     []int
	bodies   [][]byte
	attempts atomic.Int32
	hold     chan struct{} // when set, every request waits for it
}

func newWebhook(t *testing.T, plan ...int) *webhook {
	w := &webhook{plan: plan}
	w.Server = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.hold != nil {
			<-w.hold
		}
		w.attempts.Add(1)
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer t0ken" || r.Header.Get("Content-Type") != "application/json" {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if len(w.plan) > 0 {
			status := w.plan[0]
			w.plan = w.plan[1:]
			rw.WriteHeader(status)
			return
		}
		w.bodies = append(w.bodies, b)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) options(buf *bytes.Buffer) Options {
	return Options{Logger: zerolog.New(buf), Webhook: w.URL, Client: w.Client(), Backoff: time.Millisecond,
		Header: http.Header{"Authorization": {"Bearer t0ken"}}}
}

func TestWebhookDelivery(t *testing.T) {
	tests := []struct {
		name              string
		plan              []int
		delivered, failed uint64
		attempts          int32
		wantBody          bool
	}{
		{"first try", nil, 1, 0, 1, true},
		{"retried after 500 and 503", []int{500, 503}, 1, 0, 3, true},
		{"429 is retried", []int{429}, 1, 0, 2, true},
		{"400 is not retried", []int{400}, 0, 1, 1, false},
		{"gives up after five attempts", []int{500, 500, 500, 500, 500}, 0, 1, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWebhook(t, tt.plan...)
			var buf bytes.Buffer
			s := New(w.options(&buf))
			s.Record(sample(flow.Block))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			d, f, _ := s.Stats()
			if d != tt.delivered || f != tt.failed || w.attempts.Load() != tt.attempts {
				t.Fatalf("delivered %d failed %d attempts %d; want %d %d %d", d, f, w.attempts.Load(), tt.delivered, tt.failed, tt.attempts)
			}
			if !tt.wantBody {
				if !strings.Contains(buf.String(), `"type":"alert-failed"`) {
					t.Fatalf("no alert-failed line:\n%s", buf.String())
				}
				return
			}
			var r Record
			if err := json.Unmarshal(w.bodies[0], &r); err != nil {
				t.Fatal(err)
			}
			if r.Type != "alert" || r.FlowID != "01JALERTFLOW00000000000000" || r.Action != "block" ||
				len(r.Findings) != 1 || r.Findings[0].Preview != "AKIA************7XYZ" {
				t.Fatalf("webhook record: %+v", r)
			}
		})
	}
}

// A webhook that hangs must not hold the proxy: Record returns at once, the records the queue
// cannot hold are dropped and counted, and each drop is logged.
func TestWebhookQueueFullDropsWithoutBlocking(t *testing.T) {
	w := newWebhook(t)
	w.hold = make(chan struct{})
	var buf syncBuffer
	opts := w.options(&buf.Buffer)
	opts.Logger = zerolog.New(&buf)
	opts.QueueSize = 2
	s := New(opts)
	const n = 20
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for range n {
			s.Record(sample(flow.Alert))
		}
	}()
	// The webhook is held until the end of the test: a Record that waited for it would never
	// return, so returning at all is the proof (the timeout only ends a deadlocked test).
	select {
	case <-recorded:
	case <-time.After(30 * time.Second):
		t.Fatal("Record blocked behind a hung webhook")
	}
	_, _, dropped := s.Stats()
	// One record may be in the worker's hands, two in the queue.
	if dropped < n-3 {
		t.Fatalf("dropped %d of %d, want at least %d", dropped, n, n-3)
	}
	if got := strings.Count(buf.String(), `"type":"alert-dropped"`); uint64(got) != dropped {
		t.Fatalf("%d drop lines for %d drops", got, dropped)
	}
	close(w.hold)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _, _ := s.Stats(); d+dropped != n {
		t.Fatalf("delivered %d + dropped %d != %d: a queued alert was lost at close", d, dropped, n)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}
