package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/customs-dev/customs/flow"
)

// spread writes flows over five days before base (crossing UTC midnights), with every index
// value varied on a different cycle so that combinations select different subsets.
func spread(t *testing.T, s *Store) []*flow.Flow {
	t.Helper()
	type vendor struct {
		v          flow.Vendor
		host, api  string
		mode       flow.Mode
		intercepts bool
	}
	vendors := []vendor{
		{flow.Vendor{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"}, "api.openai.com", "openai.chat", flow.Intercepted, true},
		{flow.Vendor{ID: "anthropic", Name: "Anthropic", Category: "ai-provider", Country: "US"}, "api.anthropic.com", "anthropic.messages", flow.Intercepted, true},
		{flow.Vendor{ID: "mixpanel", Name: "Mixpanel", Category: "analytics", Country: "US"}, "api-js.mixpanel.com", "mixpanel.track", flow.Intercepted, true},
		{flow.Vendor{}, "example.org", "", flow.Tunnelled, false},
	}
	clients := []string{"10.0.0.1:%d", "10.0.0.2:%d", "[::1]:%d"}
	users := []string{"alice", "bob", "", "alice", ""}
	var out []*flow.Flow
	i := 0
	for day := range 5 {
		for j := range 24 {
			at := base.Add(-time.Duration(day)*24*time.Hour - time.Duration(j+1)*50*time.Minute)
			v := vendors[i%len(vendors)]
			f := &flow.Flow{
				ID: flow.NewID(at), Start: at, End: at.Add(time.Second), Source: flow.SourceProxy, Mode: v.mode,
				Client: flow.Client{Addr: fmt.Sprintf(clients[i%3], 5000+i), User: users[i%5]},
				Host:   v.host, Method: "POST", URL: "https://" + v.host + "/v1/x", API: v.api, Vendor: v.v,
				Status: 200, RequestBytes: int64(100 + i),
			}
			if v.intercepts {
				f.RequestHeader = http.Header{"Content-Type": {"application/json"}}
				f.RequestBody = []byte(fmt.Sprintf(`{"n":%d}`, i))
			}
			action := flow.Allow
			if i%2 == 0 && v.intercepts {
				f.Findings = append(f.Findings, flow.Finding{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[0].content", Start: 1, End: 21, Preview: "AKIA************MPLE", Hash: "h1"})
				action = flow.Block
			}
			if i%3 == 0 && v.intercepts {
				// two findings of one detector: one index key
				f.Findings = append(f.Findings,
					flow.Finding{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[1].content", Start: 3, End: 9, Preview: "a***@x.io", Hash: "h2"},
					flow.Finding{Detector: "pii.email", Class: "pii", Severity: "low", Path: "messages[1].content", Start: 20, End: 29, Preview: "b***@x.io", Hash: "h3"})
				if action == flow.Allow {
					action = flow.Alert
				}
			}
			f.Verdict = flow.Verdict{Action: action, Policy: "p-" + string(action)}
			s.Record(f)
			out = append(out, f)
			i++
		}
	}
	sync_(t, s)
	return out
}

// reference is the filter written the slow, obvious way.
func reference(flows []*flow.Flow, f Filter) []string {
	var out []*flow.Flow
	for _, fl := range flows {
		ms := fl.Start.UnixMilli()
		if !f.Since.IsZero() && ms < f.Since.UnixMilli() || !f.Until.IsZero() && ms >= f.Until.UnixMilli() {
			continue
		}
		if f.Vendor != "" && fl.Vendor.ID != f.Vendor || f.Category != "" && fl.Vendor.Category != f.Category ||
			f.User != "" && fl.Client.User != f.User || f.Action != "" && string(fl.Verdict.Action) != f.Action ||
			f.API != "" && fl.API != f.API || f.Host != "" && fl.Host != f.Host {
			continue
		}
		if f.Client != "" {
			host, _, _ := net.SplitHostPort(fl.Client.Addr)
			want := strings.Trim(f.Client, "[]")
			if strings.Contains(f.Client, "]:") || strings.Count(f.Client, ":") == 1 {
				if fl.Client.Addr != f.Client {
					continue
				}
			} else if host != want {
				continue
			}
		}
		if f.Detector != "" && !slices.ContainsFunc(fl.Findings, func(x flow.Finding) bool { return x.Detector == f.Detector }) {
			continue
		}
		out = append(out, fl)
	}
	slices.SortFunc(out, func(a, b *flow.Flow) int { return a.Start.Compare(b.Start) })
	if !f.Oldest {
		slices.Reverse(out)
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	ids := make([]string, len(out))
	for i, fl := range out {
		ids[i] = fl.ID
	}
	return ids
}

func TestQueryFilters(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	flows := spread(t, s)
	day := func(n int) time.Time { return base.Truncate(24 * time.Hour).Add(-time.Duration(n) * 24 * time.Hour) }
	at := func(i int) time.Time { return flows[i].Start }
	tests := []struct {
		name string
		f    Filter
		want int // expected count, -1 when only the reference decides (it must still be non-empty)
	}{
		{"all", Filter{}, 120},
		{"vendor", Filter{Vendor: "openai"}, 30},
		{"vendor unknown", Filter{Vendor: "nope"}, 0},
		{"category", Filter{Category: "analytics"}, 30},
		{"category ai", Filter{Category: "ai-provider"}, 60},
		{"client ip", Filter{Client: "10.0.0.1"}, 40},
		{"client ipv6", Filter{Client: "::1"}, 40},
		{"client ipv6 brackets", Filter{Client: "[::1]"}, 40},
		{"client with port", Filter{Client: "10.0.0.2:5007"}, 1},
		{"client ipv6 with port", Filter{Client: "[::1]:5008"}, 1},
		{"client port of another ip", Filter{Client: "10.0.0.1:5007"}, 0},
		{"user", Filter{User: "alice"}, 48},
		{"detector", Filter{Detector: "pii.email"}, -1},
		{"detector aws", Filter{Detector: "secret.aws-access-key-id"}, -1},
		{"action block", Filter{Action: "block"}, -1},
		{"action alert", Filter{Action: "alert"}, -1},
		{"api", Filter{API: "anthropic.messages"}, 30},
		{"host", Filter{Host: "example.org"}, 30},
		{"vendor+detector", Filter{Vendor: "openai", Detector: "secret.aws-access-key-id"}, -1},
		{"vendor+client+user", Filter{Vendor: "anthropic", Client: "10.0.0.2", User: "alice"}, -1},
		{"category+action", Filter{Category: "ai-provider", Action: "alert"}, -1},
		{"detector+detector-ish", Filter{Detector: "pii.email", Action: "block", Vendor: "mixpanel"}, -1},
		{"disjoint", Filter{Vendor: "openai", API: "mixpanel.track"}, 0},
		{"since", Filter{Since: day(1)}, -1},
		{"until", Filter{Until: day(2)}, -1},
		{"one day", Filter{Since: day(2), Until: day(1)}, -1},
		{"since inclusive", Filter{Since: at(30)}, -1},
		{"until exclusive", Filter{Until: at(30)}, -1},
		{"exact flow", Filter{Since: at(30), Until: at(30).Add(time.Millisecond)}, 1},
		{"empty window", Filter{Since: at(30), Until: at(30)}, 0},
		{"window + vendor", Filter{Since: day(3), Until: day(1), Vendor: "mixpanel"}, -1},
		{"window + client + detector", Filter{Since: at(100), Until: at(10), Client: "10.0.0.1", Detector: "pii.email"}, -1},
		{"newest with limit", Filter{Limit: 7}, 7},
		{"oldest with limit", Filter{Limit: 7, Oldest: true}, 7},
		{"oldest all", Filter{Oldest: true}, 120},
		{"vendor oldest limit", Filter{Vendor: "openai", Oldest: true, Limit: 5}, 5},
		{"user newest limit across days", Filter{User: "bob", Limit: 30}, 24},
		{"detector limit window", Filter{Detector: "secret.aws-access-key-id", Since: day(4), Limit: 3}, 3},
		{"future", Filter{Since: base.Add(time.Hour)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := reference(flows, tc.f)
			if tc.want >= 0 && len(want) != tc.want {
				t.Fatalf("reference finds %d flows, the test expects %d: fix the test", len(want), tc.want)
			}
			if tc.want < 0 && len(want) == 0 {
				t.Fatalf("reference finds nothing: the case tests nothing")
			}
			got, err := s.Query(context.Background(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("Query(%+v)\n got %d %v\nwant %d %v", tc.f, len(got), ids(got), len(want), want)
			}
			for _, r := range got {
				if r.HasBodies || r.RequestBody != nil || r.RequestHeader != nil {
					t.Fatalf("Query returned bodies or headers for %s", r.ID)
				}
			}
			// Each with bodies walks the same flows.
			var each []string
			if err := s.Each(context.Background(), tc.f, true, func(r *Record) error {
				if !r.HasBodies {
					t.Errorf("Each(withBodies) record %s without bodies", r.ID)
				}
				each = append(each, r.ID)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(each, want) {
				t.Errorf("Each: got %v, want %v", each, want)
			}
		})
	}
}

func TestQueryMetadata(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	f := chatFlow(base.Add(-time.Hour), 3)
	f.Client.User = "carol"
	f.Notes = []string{"messages[9]: malformed JSON"}
	f.Marks = []flow.Mark{flow.MarkClientAbort}
	f.Error, f.ErrorKind = "client went away", "client"
	f.Model, f.ServedModel = "gpt-4o", "gpt-4o-2024-11-20"
	f.Params = map[string]string{flow.ParamStore: flow.ParamTrue}
	f.Segments = append(f.Segments, flow.Segment{Path: "messages[5].content[1].image_url", Media: "image/png", Size: 2048, Text: "not stored"})
	s.Record(f)
	sync_(t, s)
	got, err := s.Query(context.Background(), Filter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("Query: %v, %d records", err, len(got))
	}
	r := got[0]
	want := Record{
		ID: f.ID, Start: f.Start, End: f.End, Source: f.Source, Mode: f.Mode, Client: f.Client, Host: f.Host,
		Method: f.Method, URL: f.URL, API: f.API, Vendor: f.Vendor, RequestBytes: f.RequestBytes,
		Status: f.Status, ResponseBytes: f.ResponseBytes, Findings: f.Findings, Verdict: f.Verdict,
		Notes: f.Notes, Marks: f.Marks, Error: f.Error, ErrorKind: f.ErrorKind,
		Model: f.Model, ServedModel: f.ServedModel, Params: f.Params,
	}
	for _, sg := range f.Segments {
		want.Segments = append(want.Segments, Segment{Path: sg.Path, Media: sg.Media, Size: sg.Size})
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("metadata:\n got %+v\nwant %+v", r, want)
	}
	if r.Duration() != 850*time.Millisecond {
		t.Errorf("Duration = %v", r.Duration())
	}
	if u := r.ModelUse(); u != f.ModelUse() || u.Model != "gpt-4o" || u.Vendor != "openai" {
		t.Errorf("ModelUse = %+v, flow's %+v", u, f.ModelUse())
	}
	if back := r.Flow(); back.Model != f.Model || back.ServedModel != f.ServedModel || !maps.Equal(back.Params, f.Params) {
		t.Errorf("Flow() lost the models: %+v", back)
	}
}

func TestGetBodies(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.BodyLimit = 1000
	s := openStore(t, opts)

	long := chatFlow(base.Add(-2*time.Hour), 1) // ~1.5 KiB body: cut at 1000
	long.RequestHeader = http.Header{"Content-Type": {"application/json"}, "Proxy-Authorization": {"Basic c2VjcmV0"}}
	respBody := []byte(strings.Repeat("data: {\"delta\":\"ok\"}\n\n", 60)) // ~1.4 KiB: cut too
	long.ResponseBody = respBody
	s.Record(long)

	short := chatFlow(base.Add(-time.Hour), 2)
	short.RequestBody = []byte(`{"model":"gpt-4o","messages":[]}`)
	short.Status = 429
	short.ResponseBody = []byte(`{"error":"rate limited"}`)
	s.Record(short)

	oversize := chatFlow(base.Add(-30*time.Minute), 3)
	oversize.RequestBody = []byte(`{"cut":`)
	oversize.Marks = []flow.Mark{flow.MarkOversize}
	s.Record(oversize)

	tunnel := &flow.Flow{ID: flow.NewID(base.Add(-10 * time.Minute)), Start: base.Add(-10 * time.Minute), Mode: flow.Tunnelled,
		Source: flow.SourceProxy, Host: "example.org", Method: "CONNECT", Status: 200, RequestBytes: 5000, ResponseBytes: 90000}
	s.Record(tunnel)
	sync_(t, s)

	tests := []struct {
		name          string
		id            string
		reqBody       []byte
		reqTruncated  bool
		status        int
		respHeader    http.Header
		respBody      []byte
		respTruncated bool
		reqHeader     http.Header
	}{
		{"capped", long.ID, long.RequestBody[:1000], true, 200, long.ResponseHeader, respBody[:1000], true,
			http.Header{"Content-Type": {"application/json"}}},
		{"whole", short.ID, short.RequestBody, false, 429, short.ResponseHeader, []byte(`{"error":"rate limited"}`), false, chatHeader},
		{"inspection window already cut", oversize.ID, []byte(`{"cut":`), true, 200, oversize.ResponseHeader, nil, false, chatHeader},
		{"tunnel: no bodies", tunnel.ID, nil, false, 200, nil, nil, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.Get(context.Background(), tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if !r.HasBodies || r.ID != tc.id {
				t.Fatalf("HasBodies %v, ID %s", r.HasBodies, r.ID)
			}
			if string(r.RequestBody) != string(tc.reqBody) || r.RequestTruncated != tc.reqTruncated {
				t.Errorf("request body %d bytes truncated=%v, want %d bytes truncated=%v", len(r.RequestBody), r.RequestTruncated, len(tc.reqBody), tc.reqTruncated)
			}
			if r.Status != tc.status || !reflect.DeepEqual(r.ResponseHeader, tc.respHeader) {
				t.Errorf("response status %d header %v, want %d %v", r.Status, r.ResponseHeader, tc.status, tc.respHeader)
			}
			if string(r.ResponseBody) != string(tc.respBody) || r.ResponseTruncated != tc.respTruncated {
				t.Errorf("response body %q truncated=%v, want %q truncated=%v", r.ResponseBody, r.ResponseTruncated, tc.respBody, tc.respTruncated)
			}
			if !reflect.DeepEqual(r.RequestHeader, tc.reqHeader) {
				t.Errorf("request header %v, want %v (Proxy-Authorization is never stored)", r.RequestHeader, tc.reqHeader)
			}
		})
	}

	// Flow() rebuilds what replay needs.
	r, _ := s.Get(context.Background(), short.ID)
	f := r.Flow()
	if f.ID != short.ID || string(f.RequestBody) != string(short.RequestBody) || f.Vendor != short.Vendor ||
		len(f.Findings) != 3 || f.Segments[2].Path != "messages[2].content" || f.RequestHeader.Get("User-Agent") == "" {
		t.Errorf("Flow(): %+v", f)
	}

	for _, bad := range []string{"nope", flow.NewID(base.Add(-3 * time.Hour))} {
		if _, err := s.Get(context.Background(), bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", bad, err)
		}
	}
}

func TestNonULIDStoredUnderNewID(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	f := chatFlow(base.Add(-time.Hour), 1)
	f.ID = "har-entry-17"
	s.Record(f)
	sync_(t, s)
	got, err := s.Query(context.Background(), Filter{Vendor: "openai"})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %d", err, len(got))
	}
	if got[0].Start != f.Start.UTC() || got[0].ID == f.ID {
		t.Errorf("got %+v", got[0])
	}
}

func TestQueryContextCancel(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	spread(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Query(ctx, Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Query on a cancelled context: %v", err)
	}
	stop := errors.New("enough")
	n := 0
	err := s.Each(context.Background(), Filter{}, false, func(*Record) error {
		if n++; n == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 5 {
		t.Errorf("Each stopped with %v after %d", err, n)
	}
}

func TestClientIP(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1:5000":        "10.0.0.1",
		"10.0.0.1":             "10.0.0.1",
		"[::1]:80":             "::1",
		"::1":                  "::1",
		"[::ffff:10.0.0.1]:80": "10.0.0.1",
		"[fe80::1%eth0]:22":    "fe80::1",
		"Host.Local:9":         "host.local",
		"":                     "",
	} {
		if got := clientIP(in); got != want {
			t.Errorf("clientIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestManyFindingsOneIndexKeyPerDetector(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	f := chatFlow(base.Add(-time.Hour), 1)
	f.Findings = nil
	for i := range 40 {
		f.Findings = append(f.Findings, flow.Finding{Detector: []string{"pii.email", "pii.phone", "secret.jwt"}[i%3], Start: i, End: i + 1})
	}
	s.Record(f)
	sync_(t, s)
	for _, det := range []string{"pii.email", "pii.phone", "secret.jwt"} {
		got, err := s.Query(context.Background(), Filter{Detector: det})
		if err != nil || len(got) != 1 || len(got[0].Findings) != 40 {
			t.Fatalf("Detector %s: %v, %d flows", det, err, len(got))
		}
	}
	keys := 0
	s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: famPrefix(dayOf(f.Start), famDetector)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys++
		}
		return nil
	})
	if keys != 3 {
		t.Errorf("%d detector index keys for 3 detectors", keys)
	}
}
