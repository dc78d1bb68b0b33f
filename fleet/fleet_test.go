package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/natstest"
	"github.com/customs-dev/customs/store"
)

// openStore is a real store with its outbox, in a temp dir.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Dir: t.TempDir(), Key: bytes.Repeat([]byte{3}, 32), Outbox: true, GCInterval: -1,
		Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

var vendors = []flow.Vendor{{ID: "openai", Name: "OpenAI", Category: "ai-provider", Country: "US"},
	{ID: "mixpanel", Name: "Mixpanel", Category: "analytics", Country: "US"}}

// testFlow is flow i: vendors and actions alternate, every third has a finding, every flow a
// body that names it.
func testFlow(i int, at time.Time) *flow.Flow {
	v := vendors[i%2]
	f := &flow.Flow{ID: flow.NewID(at), Start: at, End: at.Add(300 * time.Millisecond), Source: flow.SourceProxy, Mode: flow.Intercepted,
		Client: flow.Client{Addr: fmt.Sprintf("10.0.0.%d:4%04d", 1+i%5, i)}, Host: "api." + v.ID + ".com", Method: "POST",
		URL: "https://api." + v.ID + ".com/v1/x", API: "openai.chat", Vendor: v, Status: 200,
		RequestHeader: http.Header{"Content-Type": {"application/json"}},
		RequestBody:   []byte(fmt.Sprintf(`{"messages":[{"role":"user","content":"flow %d %s"}]}`, i, strings.Repeat("x", i%7*300))),
		Verdict:       flow.Verdict{Action: flow.Allow}}
	f.RequestBytes = int64(len(f.RequestBody))
	if i%3 == 0 {
		f.Findings = []flow.Finding{{Detector: "secret.aws-access-key-id", Class: "secret", Severity: "high", Path: "messages[0].content",
			Preview: "AKIA************PLMR", Hash: "hmac-sha256:00", Confidence: 1}}
		f.Verdict = flow.Verdict{Action: flow.Block, Policy: "block-secrets"}
	}
	return f
}

func dial(t *testing.T, c *natstest.Cluster, site string, key *Key) *Conn {
	t.Helper()
	conn, err := Dial(Options{Servers: c.URLs(), Site: site, Key: key, Name: "test " + site, Batch: 16}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

func ids(t *testing.T, each func(func(*store.Record) error) error) []string {
	t.Helper()
	var out []string
	if err := each(func(r *store.Record) error { out = append(out, r.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Flows recorded at two sites reach the stream sealed, and a reader with the key selects from it
// exactly what each store's own query selects.
func TestPublishAndRead(t *testing.T) {
	cl := natstest.Start(t, 1)
	key := testKey(t, 9)
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	sites := map[string]*store.Store{"paris": openStore(t), "berlin": openStore(t)}
	n := 0
	for _, site := range []string{"paris", "berlin"} {
		st := sites[site]
		for i := range 40 {
			st.Record(testFlow(n, base.Add(time.Duration(n)*time.Second)))
			n++
			_ = i
		}
		if err := st.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := st.Stats().Outbox; got != 40 {
			t.Fatalf("%s outbox = %d; want 40", site, got)
		}
		pub, err := dial(t, cl, site, key).NewPublisher(st, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if got, ps := st.Stats().Outbox, pub.Stats(); got != 0 || ps.Published != 40 || ps.Duplicates != 0 {
			t.Fatalf("%s after drain: outbox %d, stats %+v; want 0 and 40 published", site, got, ps)
		}
	}
	reader := dial(t, cl, "", key)

	// What a query selects in each store, merged, is what the fleet read selects.
	for _, tc := range []struct {
		name string
		f    store.Filter
		site string
	}{
		{name: "everything, newest first", f: store.Filter{}},
		{name: "vendor", f: store.Filter{Vendor: "mixpanel"}},
		{name: "vendor and action", f: store.Filter{Vendor: "openai", Action: "block"}},
		{name: "detector (after opening)", f: store.Filter{Detector: "secret.aws-access-key-id"}},
		{name: "client IP", f: store.Filter{Client: "10.0.0.3"}},
		{name: "window", f: store.Filter{Since: base.Add(20 * time.Second), Until: base.Add(61 * time.Second)}},
		{name: "limit newest", f: store.Filter{Limit: 7}},
		{name: "limit oldest", f: store.Filter{Limit: 5, Oldest: true}},
		{name: "one site", f: store.Filter{Action: "allow"}, site: "berlin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for name, st := range sites {
				if tc.site != "" && name != tc.site {
					continue
				}
				want = append(want, ids(t, func(fn func(*store.Record) error) error { return st.Each(ctx, tc.f, false, fn) })...)
			}
			slices.Sort(want)
			if !tc.f.Oldest {
				slices.Reverse(want)
			}
			if tc.f.Limit > 0 {
				want = want[:tc.f.Limit]
			}
			got := ids(t, func(fn func(*store.Record) error) error {
				st, err := reader.Each(ctx, tc.f, tc.site, false, fn)
				if st.Unreadable != 0 || st.Duplicates != 0 {
					t.Errorf("read stats %+v", st)
				}
				return err
			})
			if tc.f.Limit == 0 {
				slices.Sort(got)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Fatalf("fleet read = %v\nstores = %v", got, want)
			}
		})
	}

	// Get returns the whole record, bodies included, as the store has it.
	want, err := sites["berlin"].Query(ctx, store.Filter{Limit: 1})
	if err != nil || len(want) != 1 {
		t.Fatal(err)
	}
	local, err := sites["berlin"].Get(ctx, want[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reader.Get(ctx, want[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.RequestBody, local.RequestBody) || got.Host != local.Host || len(got.Findings) != len(local.Findings) {
		t.Fatalf("Get = %+v\nwant %+v", got, local)
	}
	if _, err := reader.Get(ctx, flow.NewID(base)); err == nil {
		t.Fatal("Get of an unknown flow found one")
	}

	// The servers never see a body in clear.
	raw, err := nats.Connect(cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	msg, err := raw.Request("$JS.API.STREAM.MSG.GET."+DefaultStream, []byte(`{"seq":1}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(msg.Data, []byte("flow 0")) || bytes.Contains(msg.Data, []byte("messages")) {
		t.Fatalf("the stream holds a body in clear: %.200s", msg.Data)
	}

	// A reader with another key opens nothing, and says so.
	stranger := dial(t, cl, "", testKey(t, 10))
	st, err := stranger.Each(ctx, store.Filter{}, "", false, func(*store.Record) error {
		t.Fatal("a reader with another key opened a flow")
		return nil
	})
	if err != nil || st.Unreadable != 80 || !strings.Contains(fmt.Sprint(st.FirstError()), "fleet key") {
		t.Fatalf("stranger read: %+v, %v, first error %v", st, err, st.FirstError())
	}
}

// A flow published twice — again within the duplicate window (a lost acknowledgement), or
// after it — is read once.
func TestDuplicates(t *testing.T) {
	cl := natstest.Start(t, 1)
	key := testKey(t, 9)
	ctx := context.Background()
	st := openStore(t)
	conn, err := Dial(Options{Servers: cl.URLs(), Site: "paris", Key: key, DuplicateWindow: time.Second}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 5 {
		st.Record(testFlow(i, time.Now().Add(-time.Minute)))
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := st.OutboxEncoded(ctx, 10)
	if err != nil || len(recs) != 5 {
		t.Fatalf("outbox: %d, %v", len(recs), err)
	}
	pub, err := conn.NewPublisher(st, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// Again, as after a lost acknowledgement: the stream says duplicate and keeps one.
	ack, err := conn.js.PublishMsg(ctx, pub.message(&recs[0]))
	if err != nil || !ack.Duplicate {
		t.Fatalf("republish: %+v, %v; want a duplicate", ack, err)
	}
	// Past the window (an outage longer than it): the stream keeps both; the reader hands one.
	time.Sleep(1200 * time.Millisecond)
	ack, err = conn.js.PublishMsg(ctx, pub.message(&recs[1]))
	if err != nil || ack.Duplicate {
		t.Fatalf("republish past the window: %+v, %v", ack, err)
	}
	got := map[string]int{}
	rs, err := conn.Each(ctx, store.Filter{}, "", false, func(r *store.Record) error { got[r.ID]++; return nil })
	if err != nil || len(got) != 5 || rs.Duplicates != 1 || rs.Messages != 6 || rs.Unreadable != 0 {
		t.Fatalf("read %v, stats %+v, %v; want 5 flows once each from 6 messages", got, rs, err)
	}
	// A message moved to another flow ID does not open.
	m := pub.message(&recs[2])
	m.Header.Set("Nats-Msg-Id", recs[3].Record.ID)
	if _, err := conn.js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	rs, err = conn.Each(ctx, store.Filter{}, "", false, func(*store.Record) error { return nil })
	if err != nil || rs.Unreadable != 1 {
		t.Fatalf("a message under another flow's ID: stats %+v, %v; want it unreadable", rs, err)
	}
}

// A record larger than the servers' max_payload goes with its bodies cut, and says so.
func TestCutToMaxPayload(t *testing.T) {
	cl := natstest.Start(t, 1)
	key := testKey(t, 9)
	ctx := context.Background()
	st, err := store.Open(store.Options{Dir: t.TempDir(), Key: bytes.Repeat([]byte{3}, 32), Outbox: true, GCInterval: -1,
		BodyLimit: 4 << 20, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	f := testFlow(1, time.Now().Add(-time.Minute))
	// 2 MiB that do not compress (the record's bodies are compressed): over the 1 MiB default.
	f.RequestBody = make([]byte, 2<<20)
	_, _ = rand.Read(f.RequestBody)
	f.RequestBytes = int64(len(f.RequestBody))
	st.Record(f)
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, cl, "paris", key)
	pub, _ := conn.NewPublisher(st, zerolog.Nop())
	if err := pub.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := conn.Get(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.RequestTruncated || len(got.RequestBody) >= len(f.RequestBody) || len(got.RequestBody) < 1<<19 ||
		!slices.ContainsFunc(got.Notes, func(n string) bool { return strings.Contains(n, "max_payload") }) || pub.Stats().Cut != 1 {
		t.Fatalf("cut record: truncated %v, %d body bytes, notes %q, stats %+v", got.RequestTruncated, len(got.RequestBody), got.Notes, pub.Stats())
	}
}

// While no server answers, flows wait in the outbox; they go when one is back.
func TestOutageCatchUp(t *testing.T) {
	cl := natstest.Start(t, 1)
	key := testKey(t, 9)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openStore(t)
	conn, err := Dial(Options{Servers: cl.URLs(), Site: "paris", Key: key, Batch: 8}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pub, _ := conn.NewPublisher(st, zerolog.Nop())
	go pub.Run(ctx)
	cl.StopAll()
	for i := range 30 {
		st.Record(testFlow(i, time.Now().Add(-time.Minute)))
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a round or two against no server
	if got := st.Stats().Outbox; got != 30 {
		t.Fatalf("outbox during the outage = %d; want 30", got)
	}
	cl.RestartAll()
	deadline := time.Now().Add(30 * time.Second)
	for st.Stats().Outbox > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := st.Stats().Outbox; got != 0 {
		t.Fatalf("outbox 30 s after the servers came back = %d; stats %+v", got, pub.Stats())
	}
	reader := dial(t, cl, "", key)
	n := 0
	if _, err := reader.Each(ctx, store.Filter{}, "", false, func(*store.Record) error { n++; return nil }); err != nil || n != 30 {
		t.Fatalf("read %d flows, %v; want 30", n, err)
	}
}

// The rule book: versions, rollback, and a site's follower that takes a good version, refuses a
// bad one and says so in its status.
func TestRuleBook(t *testing.T) {
	cl := natstest.Start(t, 1)
	key := testKey(t, 9)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := dial(t, cl, "", key)
	if _, _, err := admin.Rules(ctx, 0); err == nil {
		t.Fatal("a rule book before any was published")
	}
	good := RuleBook{Files: []RuleFile{{Name: "a.yaml", Text: "policies: []\n"}}, By: "test"}
	v1, err := admin.PublishRules(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PublishRules(ctx, RuleBook{Files: []RuleFile{{Name: "../evil.yaml", Text: "x"}}}); err == nil {
		t.Fatal("a rule book with a path in a file name was published")
	}
	site := dial(t, cl, "paris", key)
	applied := make(chan uint64, 10)
	go site.FollowRules(ctx, 20*time.Millisecond, func(v uint64, b RuleBook) []string {
		if strings.Contains(b.Files[0].Text, "broken") {
			return []string{"a.yaml:1:1: broken"}
		}
		applied <- v
		return nil
	}, 0)
	waitFor := func(want uint64) {
		t.Helper()
		select {
		case v := <-applied:
			if v != want {
				t.Fatalf("applied version %d; want %d", v, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("version %d never applied", want)
		}
	}
	waitFor(v1)
	v2, err := admin.PublishRules(ctx, RuleBook{Files: []RuleFile{{Name: "a.yaml", Text: "broken"}}})
	if err != nil {
		t.Fatal(err)
	}
	status := func() RuleStatus {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			sts, err := admin.RuleStatuses(ctx)
			if err == nil && len(sts) == 1 && sts[0].Seen == v2 {
				return sts[0]
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("no status for version 2")
		return RuleStatus{}
	}
	if s := status(); s.Site != "paris" || s.InForce != v1 || len(s.Errors) != 1 {
		t.Fatalf("status after a broken version: %+v; want v%d in force and the error", s, v1)
	}
	v3, err := admin.Rollback(ctx, v1, "test")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(v3)
	b, v, err := admin.Rules(ctx, 0)
	if err != nil || v != v3 || b.Note != fmt.Sprintf("rollback to version %d", v1) || b.Files[0].Text != good.Files[0].Text {
		t.Fatalf("after rollback: %+v v%d %v", b, v, err)
	}
	// An older version put back by someone who can write to the bucket but holds no key (a
	// replay of its sealed bytes) does not open as the newer version it lands as.
	kv, err := admin.rulesKV(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	old, err := kv.GetRevision(ctx, bookKey, v2)
	if err != nil {
		t.Fatal(err)
	}
	v4, err := kv.Put(ctx, bookKey, old.Value())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := admin.Rules(ctx, v4); err == nil || !errors.Is(err, ErrWrongKey) {
		t.Fatalf("a replayed version 2 read as version %d: %v; want it refused", v4, err)
	}
	// A status written without the key is shown as such, not believed.
	sites, err := admin.sitesKV(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sites.Put(ctx, statusPfx+"forged", []byte(`{"site":"forged","in_force":3}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		sts, err := admin.RuleStatuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var forged, paris RuleStatus
		for _, s := range sts {
			switch s.Site {
			case "forged":
				forged = s
			case "paris":
				paris = s
			}
		}
		if forged.InForce != 0 || len(forged.Errors) != 1 || !strings.Contains(forged.Errors[0], "not written by a site") {
			t.Fatalf("forged status read as %+v", forged)
		}
		if paris.Seen == v4 {
			if paris.InForce != v3 || len(paris.Errors) != 1 {
				t.Fatalf("paris after the replayed version: %+v; want v%d in force and the error", paris, v3)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("paris never reported on version %d: %+v", v4, paris)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A book sealed with another key is refused by the site, not applied.
	other := dial(t, cl, "", testKey(t, 10))
	if _, err := other.PublishRules(ctx, good); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-applied:
		t.Fatalf("a rule book sealed with another key was applied (v%d)", v)
	case <-time.After(300 * time.Millisecond):
	}
}

// The stream's limits follow the config; an existing stream's replicas change only when the
// config names them.
func TestEnsureStream(t *testing.T) {
	cl := natstest.Start(t, 1)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		opts    Options
		wantAge time.Duration
		wantDup time.Duration
		wantMax int64
	}{
		{name: "created with the defaults", opts: Options{}, wantAge: DefaultMaxAge, wantDup: DefaultDupWindow, wantMax: -1},
		{name: "limits brought to the config", opts: Options{MaxAge: time.Hour, MaxBytes: 100 << 20, DuplicateWindow: time.Minute},
			wantAge: time.Hour, wantDup: time.Minute, wantMax: 100 << 20},
		{name: "a window longer than the age is cut to it", opts: Options{MaxAge: 30 * time.Second, DuplicateWindow: time.Hour},
			wantAge: 30 * time.Second, wantDup: 30 * time.Second, wantMax: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Servers = cl.URLs()
			conn, err := Dial(o, false)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.EnsureStream(ctx); err != nil {
				t.Fatal(err)
			}
			st, err := conn.State(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.MaxAge != tc.wantAge || st.DuplicateWindow != tc.wantDup || st.MaxBytes != tc.wantMax || st.Replicas != 1 {
				t.Fatalf("stream %+v; want max age %s, window %s, max bytes %d, 1 replica", st, tc.wantAge, tc.wantDup, tc.wantMax)
			}
		})
	}
}
