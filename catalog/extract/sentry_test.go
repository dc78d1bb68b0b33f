package extract

import (
	"fmt"
	"strings"
	"testing"
)

func TestSentryEnvelopeFraming(t *testing.T) {
	type item struct{ typ, payload, problem string }
	tests := []struct {
		name    string
		body    string
		items   []item
		rest    string
		problem string
	}{
		{name: "spec example with lengths",
			body: "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42\"}\n" +
				"{\"type\":\"attachment\",\"length\":10,\"content_type\":\"text/plain\",\"filename\":\"hello.txt\"}\n" +
				"\xef\xbb\xbfHello\r\n\n" +
				"{\"type\":\"event\",\"length\":41,\"content_type\":\"application/json\",\"filename\":\"application.log\"}\n" +
				"{\"message\":\"hello world\",\"level\":\"error\"}\n",
			items: []item{{typ: "attachment", payload: "\xef\xbb\xbfHello\r\n"}, {typ: "event", payload: `{"message":"hello world","level":"error"}`}}},
		{name: "last newline omitted",
			body:  "{}\n{\"type\":\"event\",\"length\":2}\n{}",
			items: []item{{typ: "event", payload: "{}"}}},
		{name: "empty attachments",
			body:  "{\"event_id\":\"x\"}\n{\"type\":\"attachment\",\"length\":0}\n\n{\"type\":\"attachment\",\"length\":0}\n",
			items: []item{{typ: "attachment"}, {typ: "attachment"}}},
		{name: "implicit length up to the newline",
			body:  "{}\n{\"type\":\"session\"}\n{\"started\":\"2020-02-07T14:16:00Z\"}\n{\"type\":\"attachment\"}\nhelloworld",
			items: []item{{typ: "session", payload: `{"started":"2020-02-07T14:16:00Z"}`}, {typ: "attachment", payload: "helloworld"}}},
		{name: "payload with newlines needs its length",
			body:  "{}\n{\"type\":\"attachment\",\"length\":11}\nline1\nline2\n{\"type\":\"event\"}\n{\"message\":\"m\"}\n",
			items: []item{{typ: "attachment", payload: "line1\nline2"}, {typ: "event", payload: `{"message":"m"}`}}},
		{name: "truncated: length past the end",
			body:  "{}\n{\"type\":\"event\",\"length\":500}\n{\"message\":\"cut here",
			items: []item{{typ: "event", payload: `{"message":"cut here`, problem: "length 500 exceeds the 20 bytes left"}}},
		{name: "length too short runs on to the newline",
			body:  "{}\n{\"type\":\"event\",\"length\":5}\n{\"message\":\"postgres://u:pw@db/x\"}\n{\"type\":\"session\"}\n{}\n",
			items: []item{{typ: "event", payload: `{"message":"postgres://u:pw@db/x"}`, problem: "not followed by a newline"}, {typ: "session", payload: "{}"}}},
		{name: "length too long swallows the next item",
			body:  "{}\n{\"type\":\"event\",\"length\":12}\n{\"a\":\"b\"}\n{\"type\":\"session\"}\n{}\n",
			items: []item{{typ: "event", payload: `{"a":"b"}` + "\n" + `{"type":"session"}`, problem: "not followed by a newline"}, {typ: "", payload: ""}}},
		{name: "negative length read to the newline",
			body:  "{}\n{\"type\":\"event\",\"length\":-3}\n{\"a\":\"b\"}\n",
			items: []item{{typ: "event", payload: `{"a":"b"}`, problem: "invalid length -3"}}},
		{name: "string length",
			body:  "{}\n{\"type\":\"event\",\"length\":\"9\"}\n{\"a\":\"b\"}\n",
			items: []item{{typ: "event", payload: `{"a":"b"}`, problem: "invalid length"}}},
		{name: "huge length",
			body:  "{}\n{\"type\":\"event\",\"length\":99999999999999999999999}\n{}\n",
			items: []item{{typ: "event", payload: "{}", problem: "invalid length"}}},
		{name: "item header not JSON",
			body:    "{}\n{\"type\":\"event\",\"length\":2}\n{}\nnot a header\nmore text",
			items:   []item{{typ: "event", payload: "{}"}},
			rest:    "not a header\nmore text",
			problem: "item 1: header is not a JSON object"},
		{name: "header only", body: "{\"event_id\":\"x\"}"},
		{name: "empty body", body: ""},
		{name: "blank lines between items",
			body:  "{}\n\n{\"type\":\"event\",\"length\":2}\n{}\n\n\n{\"type\":\"session\"}\n{}",
			items: []item{{typ: "event", payload: "{}"}, {typ: "session", payload: "{}"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := parseSentryEnvelope([]byte(tc.body))
			var got []item
			for _, it := range env.items {
				got = append(got, item{it.header.Type, string(it.payload), it.problem})
			}
			if len(got) != len(tc.items) {
				t.Fatalf("items = %q, want %q", got, tc.items)
			}
			for i := range got {
				w, g := tc.items[i], got[i]
				if g.typ != w.typ || g.payload != w.payload ||
					(w.problem == "") != (g.problem == "") || !strings.Contains(g.problem, w.problem) {
					t.Errorf("item %d = %q, want %q", i, g, w)
				}
			}
			if string(env.rest) != tc.rest || !strings.Contains(env.problem, tc.problem) || (tc.problem == "") != (env.problem == "") {
				t.Errorf("rest = %q (%q), want %q (%q)", env.rest, env.problem, tc.rest, tc.problem)
			}
		})
	}
}

// The whole envelope is scanned, and each part says where it was.
func TestSentryExtraction(t *testing.T) {
	event := `{"message":"boom","exception":{"values":[{"type":"OperationalError","value":"could not connect to postgres://app:hunter2@db.internal:5432/prod"}]},` +
		`"breadcrumbs":{"values":[{"category":"query","message":"SELECT * FROM users WHERE email='ann@example.com'"}]},"user":{"email":"ann@example.com"},"event_id":"0123456789abcdef0123456789abcdef"}`
	body := "{\"event_id\":\"0123456789abcdef0123456789abcdef\",\"dsn\":\"https://abc123@o1.ingest.sentry.io/2\"}\n" +
		fmt.Sprintf("{\"type\":\"event\",\"length\":%d}\n%s\n", len(event), event) +
		"{\"type\":\"attachment\",\"length\":9,\"filename\":\"notes.txt\",\"content_type\":\"text/plain\"}\nsecret=42\n" +
		"{\"type\":\"attachment\",\"length\":8,\"filename\":\"core.dmp\",\"content_type\":\"application/x-dmp\"}\nMDMP\x93\xa7\x00\x00\n" +
		"{\"type\":\"client_report\"}\n{\"discarded_events\":[{\"reason\":\"queue_overflow\",\"category\":\"error\",\"quantity\":1}]}\n"
	res := Extract(&Request{Vendor: "sentry", Method: "POST", Path: "/api/2/envelope/", ContentType: "text/plain;charset=UTF-8", Body: []byte(body)}, Limits{})
	if res.API != "sentry.envelope" {
		t.Fatalf("API = %q", res.API)
	}
	got := map[string]string{}
	for _, s := range res.Segments {
		if s.Media != "" {
			got[s.Path] = fmt.Sprintf("media %s %d", s.Media, s.Size)
		} else {
			got[s.Path] = s.Text
		}
	}
	want := map[string]string{
		"url:path":                                             "/api/2/envelope/",
		"envelope.event_id":                                    "0123456789abcdef0123456789abcdef",
		"envelope.dsn":                                         "https://abc123@o1.ingest.sentry.io/2",
		"items[0](event)#header.type":                          "event",
		"items[0](event).event_id":                             "0123456789abcdef0123456789abcdef",
		"items[0](event).message":                              "boom",
		"items[0](event).exception.values[0].type":             "OperationalError",
		"items[0](event).exception.values[0].value":            "could not connect to postgres://app:hunter2@db.internal:5432/prod",
		"items[0](event).breadcrumbs.values[0].category":       "query",
		"items[0](event).breadcrumbs.values[0].message":        "SELECT * FROM users WHERE email='ann@example.com'",
		"items[0](event).user.email":                           "ann@example.com",
		"items[1](attachment).filename":                        "notes.txt",
		"items[1](attachment)":                                 "secret=42",
		"items[1](attachment)#header.type":                     "attachment",
		"items[1](attachment)#header.content_type":             "text/plain",
		"items[2](attachment).filename":                        "core.dmp",
		"items[2](attachment)":                                 "media application/x-dmp 8",
		"items[2](attachment)#header.type":                     "attachment",
		"items[2](attachment)#header.content_type":             "application/x-dmp",
		"items[3](client_report)#header.type":                  "client_report",
		"items[3](client_report).discarded_events[0].reason":   "queue_overflow",
		"items[3](client_report).discarded_events[0].category": "error",
		"#keys": "event_id\ndsn\ntype\nlength\nmessage\nexception\nvalues\nvalue\nbreadcrumbs\ncategory\nuser\nemail\n" +
			"filename\ncontent_type\ndiscarded_events\nreason\nquantity",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s = %q, want %q", p, got[p], w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected segment %s = %q", p, got[p])
		}
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes = %q", res.Notes)
	}
}

func FuzzSentryEnvelope(f *testing.F) {
	f.Add([]byte("{}\n{\"type\":\"event\",\"length\":2}\n{}"))
	f.Add([]byte("{}\n{\"type\":\"event\",\"length\":500}\n{\"message\":\"cut"))
	f.Add([]byte("{}\n{\"type\":\"attachment\"}\nhelloworld\n{\"type\":\"replay_recording\",\"length\":3}\n{}\nx"))
	f.Add([]byte("{\"dsn\":\"x\"}\n{\"type\":\"event\",\"length\":5}\n{\"message\":\"m\"}\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		env := parseSentryEnvelope(body)
		total := len(env.header) + len(env.rest)
		for _, it := range env.items {
			total += len(it.payload)
		}
		if total > len(body) {
			t.Fatalf("framed %d bytes out of a %d-byte body", total, len(body))
		}
		lim := Limits{MaxSegments: 200, MaxBytes: 1 << 14}
		res := Extract(&Request{Vendor: "sentry", Method: "POST", Path: "/api/1/envelope/", Body: body}, lim)
		checkBounded(t, res, lim)
	})
}
