package report

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/store"
)

// The fixture is a small company's week, fixed to the byte so that every format has a golden
// file: five teams and apps on seven addresses, AI vendors in three jurisdictions, analytics
// and error tracking, an internal LLM gateway outside the catalog, and the Mixpanel-behind-
// OpenAI path of the November 2025 incident. The catalog is the fixture's own (a few vendors
// with the built-in catalog's shapes), so that the golden files do not change whenever
// vendors.json grows.

// now is the fixture's "now": the window is the 7 days before it.
var now = time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)

func fixtureCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	host := func(h string) []catalog.Host {
		return []catalog.Host{{Pattern: h, Match: catalog.MatchExact, Verified: true}}
	}
	f := false
	vendors := []catalog.Vendor{
		{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US", HeadquartersVerified: true,
			JurisdictionNotes: "US company; EU data residency available for API projects.", Hosts: host("api.openai.com"),
			Subprocessors: &catalog.Subprocessors{Source: "https://openai.com/policies/sub-processor-list/", VersionSeen: "2025-04-30",
				Entries: []catalog.Subprocessor{
					{Name: "Microsoft Corporation", Purpose: "cloud infrastructure", Countries: []string{"US", "SE"}},
					{Name: "Snowflake, Inc.", Purpose: "data warehousing", Countries: []string{"US"}},
					{Name: "Intercom, Inc.", Purpose: "customer support", Countries: []string{"US"}},
				}}},
		{ID: "anthropic", Name: "Anthropic", Category: "ai-provider", Country: "US", HeadquartersVerified: true, Hosts: host("api.anthropic.com"),
			Subprocessors: &catalog.Subprocessors{Status: "Not found (gap)."}},
		{ID: "mistral", Name: "Mistral AI", Category: "ai-provider", Country: "FR", HeadquartersVerified: true, Hosts: host("api.mistral.ai")},
		{ID: "deepseek", Name: "DeepSeek", Category: "ai-provider", Country: "CN", HeadquartersVerified: false,
			JurisdictionNotes: "PRC company; data stored in the PRC.", Hosts: host("api.deepseek.com")},
		{ID: "cursor", Name: "Cursor", Category: "ai-tool", Country: "US", Hosts: host("api2.cursor.sh"),
			Subprocessors: &catalog.Subprocessors{Source: "https://cursor.com/security", Verified: &f,
				Entries: []catalog.Subprocessor{{Name: "OpenAI", Purpose: "model provider"}, {Name: "Fireworks", Purpose: "inference"}}}},
		{ID: "mixpanel", Name: "Mixpanel", Category: "analytics", Country: "US", HeadquartersVerified: true, Hosts: host("api-js.mixpanel.com")},
		{ID: "segment", Name: "Segment", Category: "analytics", Country: "US", HeadquartersVerified: true, Hosts: host("api.segment.io")},
		{ID: "sentry", Name: "Sentry", Category: "error-tracking", Country: "US", HeadquartersVerified: true, Hosts: host("o1.ingest.sentry.io")},
		{ID: "statsig", Name: "Statsig", Category: "feature-flags", Country: "US", Hosts: host("api.statsig.com")},
		{ID: "intercom", Name: "Intercom", Category: "customer-messaging", Country: "US", Hosts: host("api-iam.intercom.io")},
	}
	rels := []catalog.Relationship{
		{From: []string{"openai"}, To: []string{"mixpanel"}, Kind: "web-analytics-on-vendor-frontend",
			Sources: []catalog.Source{{URL: "https://openai.com/index/mixpanel-incident/"}}},
		{From: []string{"openai"}, To: []string{"intercom"}, Kind: "subprocessor", Verified: true,
			Sources: []catalog.Source{{URL: "https://openai.com/policies/sub-processor-list/"}}},
		{From: []string{"openai"}, To: []string{"statsig"}, Kind: "acquisition", Verified: true,
			Sources: []catalog.Source{{URL: "https://openai.com/index/vijaye-raji-to-become-cto-of-applications-with-acquisition-of-statsig/"}}},
		{From: []string{"cursor"}, To: []string{"openai", "anthropic"}, Kind: "inference-provider"},
		// A cycle, which paths must not loop around: each sends the other its events.
		{From: []string{"segment"}, To: []string{"mixpanel"}, Kind: "client-telemetry"},
		{From: []string{"mixpanel"}, To: []string{"segment"}, Kind: "client-telemetry"},
		{From: []string{"segment"}, To: []string{"twilio"}, Kind: "parent-company", External: []string{"twilio"}, Verified: true},
	}
	c, err := catalog.New(vendors, rels...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixtureNames is the fixture's clients: map.
func fixtureNames(ip, user string) string {
	switch {
	case user == "alice":
		return "research"
	case ip == "10.3.0.7":
		return "billing-api"
	}
	if a, err := netip.ParseAddr(ip); err == nil && netip.MustParsePrefix("10.1.0.0/16").Contains(a) {
		return "data-team"
	}
	return ""
}

type fixtureFlow struct {
	at       time.Time
	client   string // ip:port
	user     string
	host     string
	vendor   flow.Vendor
	api      string
	out, in  int64
	findings []flow.Finding
	action   flow.Action
	model    string
	served   string
	mode     flow.Mode
}

var (
	vOpenAI    = flow.Vendor{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"}
	vAnthropic = flow.Vendor{ID: "anthropic", Name: "Anthropic", Category: "ai-provider", Country: "US"}
	vMistral   = flow.Vendor{ID: "mistral", Name: "Mistral AI", Category: "ai-provider", Country: "FR"}
	vDeepSeek  = flow.Vendor{ID: "deepseek", Name: "DeepSeek", Category: "ai-provider", Country: "CN"}
	vMixpanel  = flow.Vendor{ID: "mixpanel", Name: "Mixpanel", Category: "analytics", Country: "US"}
	vSentry    = flow.Vendor{ID: "sentry", Name: "Sentry", Category: "error-tracking", Country: "US"}
	vCursor    = flow.Vendor{ID: "cursor", Name: "Cursor", Category: "ai-tool", Country: "US"}

	awsKey = flow.Finding{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[0].content",
		Start: 10, End: 30, Preview: "AKIA************PLMR", Hash: "hmac-sha256:4f1c2a9be07d33aa51c0e2f4d6b8a0c1", Confidence: 1}
	dbURL = flow.Finding{Detector: "secret.database-url", Class: "secret", Severity: "critical", Path: "messages[1].content",
		Start: 5, End: 60, Preview: "post************ling", Hash: "hmac-sha256:9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d", Confidence: 0.9}
	email = flow.Finding{Detector: "pii.email", Class: "pii", Severity: "low", Path: "form:data/base64/properties.$email",
		Start: 0, End: 22, Preview: "jane************.com", Hash: "hmac-sha256:0011aabbccddeeff0011aabbccddeeff", Confidence: 0.8}
	codename = flow.Finding{Detector: "marker.codename", Class: "marker", Severity: "medium", Path: "messages[0].content",
		Start: 7, End: 19, Preview: "NIGH********-204", Hash: "hmac-sha256:77aa01bc99de77aa01bc99de77aa01bc", Confidence: 1}
)

// fixtureFlows is the week, and the month before it.
func fixtureFlows() []fixtureFlow {
	day := func(d int, h int) time.Time { return now.Add(time.Duration(-d*24+h) * time.Hour) } // d days before now, at hour h
	var fs []fixtureFlow
	add := func(f fixtureFlow) {
		if f.mode == "" {
			f.mode = flow.Intercepted
		}
		if f.action == "" {
			f.action = flow.Allow
		}
		fs = append(fs, f)
	}
	// The look-back: data-team on OpenAI and Anthropic, research and billing on OpenAI,
	// 10.4.0.9 on Mixpanel.
	for i := range 4 {
		add(fixtureFlow{at: day(20+i, 9), client: "10.1.0.10:40001", host: "api.openai.com", vendor: vOpenAI, api: "openai.chat", out: 1800, in: 900,
			model: "gpt-4o", served: "gpt-4o-2024-08-06"})
		add(fixtureFlow{at: day(20+i, 10), client: "10.3.0.7:5000", host: "api.openai.com", vendor: vOpenAI, api: "openai.chat", out: 700, in: 300})
	}
	add(fixtureFlow{at: day(25, 11), client: "10.1.0.10:40002", host: "api.anthropic.com", vendor: vAnthropic, api: "anthropic.messages", out: 1200, in: 800})
	add(fixtureFlow{at: day(18, 12), client: "10.2.0.5:51000", user: "alice", host: "api.openai.com", vendor: vOpenAI, api: "openai.chat", out: 900, in: 500})
	add(fixtureFlow{at: day(15, 13), client: "10.4.0.9:6000", host: "api-js.mixpanel.com", vendor: vMixpanel, api: "mixpanel.track", out: 400, in: 20})

	// The window: seven days.
	for d := 7; d >= 1; d-- {
		// data-team's main app: OpenAI every day, more towards the end; the served model of
		// gpt-4o changes on day 4 before now.
		for i := range 8 - d/2 {
			served := "gpt-4o-2024-08-06"
			if d <= 4 {
				served = "gpt-4o-2024-11-20"
			}
			f := fixtureFlow{at: day(d, 9+i), client: "10.1.0.10:40001", host: "api.openai.com", vendor: vOpenAI, api: "openai.chat",
				out: 2000 + int64(100*i), in: 1500, model: "gpt-4o", served: served}
			if i == 0 && d%2 == 1 {
				f.findings, f.action = []flow.Finding{awsKey}, flow.Block
			}
			if i == 1 && d == 5 {
				f.findings, f.action = []flow.Finding{dbURL, codename}, flow.Block
			}
			add(f)
		}
		// Its front end reports to Mixpanel, an address with each page view.
		add(fixtureFlow{at: day(d, 14), client: "10.1.0.10:40003", host: "api-js.mixpanel.com", vendor: vMixpanel, api: "mixpanel.track",
			out: 600, in: 25, findings: []flow.Finding{email}, action: flow.Block})
		// billing-api: OpenAI only, and Sentry.
		for i := range 3 {
			add(fixtureFlow{at: day(d, 10+i), client: "10.3.0.7:5000", host: "api.openai.com", vendor: vOpenAI, api: "openai.chat", out: 800, in: 400,
				model: "gpt-4o-mini", served: "gpt-4o-mini-2024-07-18"})
		}
		add(fixtureFlow{at: day(d, 16), client: "10.3.0.7:5001", host: "o1.ingest.sentry.io", vendor: vSentry, api: "sentry.envelope", out: 3000, in: 50})
	}
	// data-team's second host starts on DeepSeek three days before now: a new vendor.
	for d := 3; d >= 1; d-- {
		add(fixtureFlow{at: day(d, 15), client: "10.1.0.11:42000", host: "api.deepseek.com", vendor: vDeepSeek, api: "openai.chat", out: 2500, in: 1200,
			model: "deepseek-chat", served: "deepseek-chat"})
	}
	// research (alice) moves from OpenAI to Anthropic (Anthropic is not new: data-team used it).
	add(fixtureFlow{at: day(6, 11), client: "10.2.0.5:51000", user: "alice", host: "api.openai.com", vendor: vOpenAI, api: "openai.chat", out: 1100, in: 700})
	for d := 5; d >= 1; d-- {
		add(fixtureFlow{at: day(d, 11), client: "10.2.0.5:51001", user: "alice", host: "api.anthropic.com", vendor: vAnthropic, api: "anthropic.messages",
			out: 1600, in: 900, model: "claude-sonnet-4-5", served: "claude-sonnet-4-5-20250929"})
	}
	add(fixtureFlow{at: day(2, 12), client: "10.2.0.5:51001", user: "alice", host: "api.anthropic.com", vendor: vAnthropic, api: "anthropic.messages",
		out: 1700, in: 950, findings: []flow.Finding{codename}, action: flow.Alert, model: "claude-sonnet-4-5", served: "claude-sonnet-4-5-20250929"})
	// An unnamed host: Mixpanel again, and Mistral from day 2 (a new vendor).
	add(fixtureFlow{at: day(6, 13), client: "10.4.0.9:6000", host: "api-js.mixpanel.com", vendor: vMixpanel, api: "mixpanel.track", out: 450, in: 20})
	add(fixtureFlow{at: day(2, 13), client: "10.4.0.9:6001", host: "api.mistral.ai", vendor: vMistral, api: "openai.chat", out: 900, in: 600})
	// A developer's editor through Cursor, and a tunnel to Cursor (no body inspected).
	add(fixtureFlow{at: day(4, 15), client: "10.5.0.2:7000", host: "api2.cursor.sh", vendor: vCursor, out: 5000, in: 9000, mode: flow.Tunnelled})
	// The internal LLM gateway, outside the catalog, with a key in a prompt.
	add(fixtureFlow{at: day(3, 16), client: "192.168.5.5:8000", host: "llm.internal.example", out: 1300, in: 800,
		findings: []flow.Finding{awsKey}, action: flow.Alert})
	add(fixtureFlow{at: day(2, 16), client: "192.168.5.5:8000", host: "llm.internal.example", out: 1250, in: 780})
	return fs
}

// fixtureStore writes the fixture's flows into a new store, with fixed flow IDs.
func fixtureStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(store.Options{Dir: t.TempDir(), Now: func() time.Time { return now }, Retention: 365 * 24 * time.Hour,
		GCInterval: -1, MemTableSize: 4 << 20, ValueLogFileSize: 4 << 20, BlockCacheSize: 8 << 20, IndexCacheSize: 4 << 20,
		Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	for i, ff := range fixtureFlows() {
		var entropy [10]byte
		copy(entropy[:], fmt.Sprintf("fixture%03d", i))
		id := ulid.ULID{}
		_ = id.SetTime(ulid.Timestamp(ff.at))
		_ = id.SetEntropy(entropy[:])
		method := "POST"
		if ff.mode == flow.Tunnelled {
			method = "CONNECT"
		}
		f := &flow.Flow{ID: id.String(), Start: ff.at, End: ff.at.Add(800 * time.Millisecond), Source: flow.SourceProxy, Mode: ff.mode,
			Client: flow.Client{Addr: ff.client, User: ff.user}, Host: ff.host, Method: method, URL: "https://" + ff.host + "/v1/x", API: ff.api,
			RequestBytes: ff.out, ResponseBytes: ff.in, Status: 200, Vendor: ff.vendor, Findings: ff.findings,
			Verdict: flow.Verdict{Action: ff.action}, Model: ff.model, ServedModel: ff.served}
		if ff.action == flow.Block {
			f.Status = 403
		}
		s.Record(f)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	return s
}

// fixtureQuery is the default report: the 7 days before now, 30 days of look-back.
func fixtureQuery() Query {
	return Query{Filter: store.Filter{Since: now.Add(-7 * 24 * time.Hour), Until: now}, Lookback: 30 * 24 * time.Hour}
}
