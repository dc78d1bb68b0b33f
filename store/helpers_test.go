package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
)

// base is "now" in the tests: flows are spread over the days before it.
var base = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return base }

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// syncBuffer is a log sink safe for the store's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testOptions are small-machine options for a store in a temp dir, with the clock at base and
// no maintenance timer.
func testOptions(t testing.TB, dir string) Options {
	return Options{
		Dir:              dir,
		Now:              fixedNow,
		GCInterval:       -1,
		MemTableSize:     4 << 20,
		ValueLogFileSize: 4 << 20,
		BlockCacheSize:   8 << 20,
		IndexCacheSize:   4 << 20,
		Logger:           zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	}
}

func openStore(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func closeStore(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func sync_(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// chatBody is a realistic ~1.5 KiB OpenAI chat request.
func chatBody(i int, extra string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"model":"gpt-4o","temperature":0.2,"stream":true,"messages":[`)
	fmt.Fprintf(&b, `{"role":"system","content":"You are a careful assistant for the platform team. Answer briefly, cite the runbook section, and never guess at credentials or hostnames you were not given."},`)
	fmt.Fprintf(&b, `{"role":"user","content":"Request %d: our deploy of billing-api failed with the following log. Can you tell me what is wrong with the configuration and how to fix it? %s"},`, i, extra)
	fmt.Fprintf(&b, `{"role":"user","content":"2026-03-10T11:58:01Z ERROR failed to connect: dial tcp 10.20.%d.7:5432: connect: connection refused\n2026-03-10T11:58:02Z WARN retrying in 5s (attempt 3/5)\nDATABASE_URL=postgres://billing:hunter2-%d@db.internal.example:5432/billing\nAWS_ACCESS_KEY_ID=AKIAZ7Q2EXAMPLEKEY%02d contact ops-oncall@example.com for access"},`, i%250, i, i%100)
	fmt.Fprintf(&b, `{"role":"assistant","content":"The connection was refused by the database host: check that the security group allows the deploy subnet and that the password in DATABASE_URL matches the rotated secret."},`)
	fmt.Fprintf(&b, `{"role":"user","content":"For context, the service was migrated last week from the old cluster to the new one, the secret was rotated by the platform team on Friday, and the deploy pipeline reads credentials from the vault path billing/prod/db. Nothing else changed in the manifests as far as I can tell from the diff."},`)
	fmt.Fprintf(&b, `{"role":"user","content":"Thanks. Also please rewrite this paragraph for the incident report so that it is clear for people outside the team and mentions the timeline, the impact on invoices, and the follow-up actions we agreed on in the review meeting this morning."}`)
	b.WriteString(`]}`)
	return []byte(b.String())
}

var chatHeader = http.Header{
	"Content-Type":  {"application/json"},
	"Authorization": {"Bearer sk-proj-EXAMPLE0000000000000000000000000000000000"},
	"User-Agent":    {"OpenAI/Python 1.51.0"},
	"Accept":        {"text/event-stream"},
}

// chatFlow is a realistic intercepted chat flow at t: ~1.5 KiB body, three findings and the
// vendor, category, client, action and API index keys.
func chatFlow(t time.Time, i int) *flow.Flow {
	return &flow.Flow{
		ID:     flow.NewID(t),
		Start:  t,
		End:    t.Add(850 * time.Millisecond),
		Source: flow.SourceProxy,
		Mode:   flow.Intercepted,
		Client: flow.Client{Addr: fmt.Sprintf("10.1.%d.%d:%d", i%7, i%200, 40000+i%20000)},
		Host:   "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions",
		API:           "openai.chat",
		RequestHeader: chatHeader,
		RequestBody:   chatBody(i, ""),
		RequestBytes:  1500,
		Status:        200,
		ResponseHeader: http.Header{"Content-Type": {"text/event-stream"},
			"X-Request-Id": {"req_0123456789abcdef"}},
		ResponseBytes: 2400,
		Vendor:        flow.Vendor{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"},
		Segments: []flow.Segment{
			{Path: "messages[0].content"}, {Path: "messages[1].content"}, {Path: "messages[2].content"},
			{Path: "messages[3].content"}, {Path: "messages[4].content"},
		},
		Findings: []flow.Finding{
			{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[2].content",
				Start: 120, End: 140, Preview: "AKIA************EY01", Hash: "3f1a9c0de2b4", Confidence: 1},
			{Detector: "secret.database-url", Class: "secret", Severity: "high", Path: "messages[2].content",
				Start: 60, End: 110, Preview: "post************ling", Hash: "77aa01bc99de", Confidence: 0.9},
			{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[2].content",
				Start: 150, End: 172, Preview: "ops-************.com", Hash: "0011aabbccdd", Confidence: 0.8},
		},
		Verdict: flow.Verdict{Action: flow.Alert, Policy: "alert-secrets", Message: "Credentials sent to an AI vendor.",
			Matched: []string{"alert-secrets"}},
	}
}

func ids(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
