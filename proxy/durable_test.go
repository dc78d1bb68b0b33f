package proxy_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/proxy"
)

// gateRecorder is a durable recorder whose commit waits for the test's word.
type gateRecorder struct {
	called chan *flow.Flow
	answer chan error
}

func (g *gateRecorder) Record(*flow.Flow) {}

func (g *gateRecorder) RecordDurable(f *flow.Flow) error {
	g.called <- f
	return <-g.answer
}

// TestDurableRecordBeforeTheAnswerEnds: with store.durability: sync, a client never holds a whole
// answer whose flow is not on disk: the end of the answer (its last byte, or the end of a
// chunked stream) waits for the commit, and is withheld when the commit fails.
func TestDurableRecordBeforeTheAnswerEnds(t *testing.T) {
	g := &gateRecorder{called: make(chan *flow.Flow, 1), answer: make(chan error, 1)}
	w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) { o.Recorder = g }})
	c := w.client(false)
	cases := []struct {
		name, path, body string
		commit           error
	}{
		{"known length", "/echo", "the vendor's answer", nil},
		{"chunked stream", "/ndjson", "", nil},
		{"the commit fails", "/echo", "the vendor's answer", errors.New("disk full")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path == "/ndjson" {
				close(w.release) // let /ndjson send its end at once
			}
			type result struct {
				body string
				err  error
			}
			got := make(chan result, 1)
			go func() {
				resp, err := c.Post("https://api.openai.com"+tc.path, "text/plain", strings.NewReader(tc.body))
				if err != nil {
					got <- result{err: err}
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				got <- result{string(b), err}
			}()
			select {
			case <-g.called:
			case <-time.After(10 * time.Second):
				t.Fatal("the flow was not recorded")
			}
			select {
			case r := <-got:
				t.Fatalf("the client had the whole answer (%q, %v) before the flow was committed", r.body, r.err)
			case <-time.After(300 * time.Millisecond):
				// Still waiting for the end of the answer, as it must.
			}
			g.answer <- tc.commit
			r := <-got
			switch {
			case tc.commit == nil && (r.err != nil || tc.body != "" && r.body != tc.body):
				t.Fatalf("after the commit: %q, %v", r.body, r.err)
			case tc.commit != nil && (r.err == nil || r.body == tc.body):
				t.Fatalf("a failed commit still gave the whole answer: %q, %v", r.body, r.err)
			}
		})
	}
}
