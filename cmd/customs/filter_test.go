package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/store"
)

// The API's query parameters and the CLI's flags describe the same filter: what flows sends to
// a running serve must come back as the same store.Filter, and bad values are refused with the
// parameter's name.
func TestFilterQuery(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		query   string
		want    store.Filter
		wantErr string
	}{
		{name: "empty", query: ""},
		{name: "every field", query: "vendor=openai&category=analytics&client=10.0.0.7&user=jane&detector=pii.email&action=block&api=openai.chat&host=api.openai.com&limit=5&oldest=1",
			want: store.Filter{Vendor: "openai", Category: "analytics", Client: "10.0.0.7", User: "jane", Detector: "pii.email",
				Action: "block", API: "openai.chat", Host: "api.openai.com", Limit: 5, Oldest: true}},
		{name: "rfc3339 window", query: "since=2026-11-19T10:00:00Z&until=2026-11-20T10:00:00.5Z",
			want: store.Filter{Since: time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 20, 10, 0, 0, 5e8, time.UTC)}},
		{name: "bad action", query: "action=blok", wantErr: `action: unknown action "blok" (did you mean "block"?); want allow, alert, redact or block`},
		{name: "bad since", query: "since=yesterday", wantErr: `since: want a time`},
		{name: "negative age", query: "until=-3d", wantErr: `until: want a time`},
		{name: "bad limit", query: "limit=-1", wantErr: `limit: want a number, got "-1"`},
		{name: "limit not a number", query: "limit=ten", wantErr: `limit: want a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := filterFromQuery(q)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !filtersEqual(got, tt.want) {
				t.Fatalf("filter %+v, want %+v", got, tt.want)
			}
			// And back: the query flows sends for this filter reads as the same filter.
			again, err := filterFromQuery(filterToQuery(got))
			if err != nil || !filtersEqual(again, got) {
				t.Fatalf("round trip: %+v (%v), want %+v", again, err, got)
			}
		})
	}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"24h", now.Add(-24 * time.Hour)},
		{"30d", now.Add(-30 * 24 * time.Hour)},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local)},
		{"2026-11-01T08:30:00+01:00", time.Date(2026, 11, 1, 7, 30, 0, 0, time.UTC)},
	} {
		if got, err := parseWhen(tc.in, now); err != nil || !got.Equal(tc.want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func filtersEqual(a, b store.Filter) bool {
	return a.Since.Equal(b.Since) && a.Until.Equal(b.Until) && a.Vendor == b.Vendor && a.Category == b.Category &&
		a.Client == b.Client && a.User == b.User && a.Detector == b.Detector && a.Action == b.Action &&
		a.API == b.API && a.Host == b.Host && a.Limit == b.Limit && a.Oldest == b.Oldest
}

// FuzzFilterQuery: any query string either is refused or yields a filter that survives the
// trip through the query flows sends to a running serve.
func FuzzFilterQuery(f *testing.F) {
	for _, s := range []string{"", "since=24h&vendor=openai", "since=2026-11-19T10:00:00Z&until=2026-11-20", "limit=7&oldest=1&action=alert",
		"since=99999999999999d", "until=2026-13-45", "client=%zz", "since=1e9h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, err := filterFromQuery(q)
		if err != nil {
			return
		}
		again, err := filterFromQuery(filterToQuery(got))
		if err != nil || !filtersEqual(again, got) {
			t.Fatalf("%q: round trip %+v (%v), want %+v", raw, again, err, got)
		}
	})
}

// Bodies travel as text when they are UTF-8 (readable evidence) and in base64 otherwise, and
// come back byte for byte.
func TestWireBodies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   []byte
		asText bool
	}{
		{"empty", nil, true},
		{"json", []byte(`{"messages":[{"content":"héllo"}]}`), true},
		{"gzip", []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe}, false},
		{"cut inside a rune", []byte("caf\xc3"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := store.Record{ID: "01KAAAAAAAAAAAAAAAAAAAAAAA", HasBodies: true, RequestBody: tc.body, ResponseBody: tc.body}
			raw, err := json.Marshal(toWire(&view{Record: rec}))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(raw), `"request_body_base64"`); got == tc.asText && len(tc.body) > 0 {
				t.Fatalf("base64 used: %v, want %v: %s", got, !tc.asText, raw)
			}
			var w wireRecord
			if err := json.Unmarshal(raw, &w); err != nil {
				t.Fatal(err)
			}
			back, err := w.view()
			if err != nil || !bytes.Equal(back.RequestBody, tc.body) || !bytes.Equal(back.ResponseBody, tc.body) {
				t.Fatalf("round trip: %q %q (%v), want %q", back.RequestBody, back.ResponseBody, err, tc.body)
			}
		})
	}
	var w wireRecord
	if err := json.Unmarshal([]byte(`{"flow_id":"x","request_body_base64":"%%%"}`), &w); err != nil {
		t.Fatal(err)
	}
	if _, err := w.view(); err == nil || !strings.Contains(err.Error(), "request_body_base64") {
		t.Fatalf("bad base64: %v", err)
	}
}
