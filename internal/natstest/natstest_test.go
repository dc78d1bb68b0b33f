package natstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const stream = "T"

func connect(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	// Bounded reconnects keep a client usable while one node is down without
	// letting a broken cluster hang the test.
	nc, err := nats.Connect(url, nats.Name("natstest-test"),
		nats.Timeout(2*time.Second), nats.ReconnectWait(100*time.Millisecond), nats.MaxReconnects(100))
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream.New: %v", err)
	}
	return nc, js
}

func createStream(t *testing.T, js jetstream.JetStream, replicas int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       stream,
		Subjects:   []string{"t.>"},
		Replicas:   replicas,
		Storage:    jetstream.FileStorage,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		t.Fatalf("create stream R%d: %v", replicas, err)
	}
}

// publish sends messages with ids m-<from> to m-<to-1> and requires each to be
// stored as new. One retry per message is allowed because a publish that was
// in flight while leadership moved can time out; the Msg-Id makes the retry
// safe, which is exactly what callers rely on.
func publish(t *testing.T, js jetstream.JetStream, from, to int) (retries int) {
	t.Helper()
	for i := from; i < to; i++ {
		id := fmt.Sprintf("m-%d", i)
		var ack *jetstream.PubAck
		var err error
		retried := false
		for attempt := range 2 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ack, err = js.Publish(ctx, fmt.Sprintf("t.%d", i), []byte(id), jetstream.WithMsgID(id))
			cancel()
			if err == nil {
				break
			}
			if attempt == 0 {
				retries++
				retried = true
				t.Logf("publish %s: %v (retrying)", id, err)
			}
		}
		if err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
		// After a retry a duplicate only means the first attempt had landed.
		if ack.Duplicate && !retried {
			t.Fatalf("publish %s: unexpectedly reported as duplicate", id)
		}
	}
	return retries
}

// waitMsgs polls because after a restart the stream needs its own leader
// election, which the cluster-level readiness wait does not cover.
func waitMsgs(t *testing.T, js jetstream.JetStream, want uint64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := js.Stream(ctx, stream)
		if err == nil {
			var info *jetstream.StreamInfo
			info, err = s.Info(ctx)
			if err == nil {
				if info.State.Msgs == want {
					cancel()
					return
				}
				err = fmt.Errorf("stream has %d messages", info.State.Msgs)
			}
		}
		cancel()
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("stream %s: want %d messages within %v: %v", stream, want, d, last)
}

// waitStreamCurrent asks each embedded server directly, because the stream
// info a client gets comes from the leader, whose view of a follower is raft
// progress: a follower can count as current there while its stream catchup
// (fetching the messages it missed while down) is still stalled.
func (c *Cluster) waitStreamCurrent(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var behind []string
		for _, nd := range c.nodes {
			if nd.srv == nil || !nd.srv.JetStreamIsStreamCurrent("$G", stream) {
				behind = append(behind, nd.name)
			}
		}
		if len(behind) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s not current on %v within %v", stream, behind, d)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func requireDuplicate(t *testing.T, js jetstream.JetStream, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := js.Publish(ctx, "t.dup", []byte("again"), jetstream.WithMsgID(id))
	if err != nil {
		t.Fatalf("republish %s: %v", id, err)
	}
	if !ack.Duplicate {
		t.Fatalf("republish %s: not reported as duplicate (seq %d)", id, ack.Sequence)
	}
}

func TestClusterSurvivesNodeLossAndFullRestart(t *testing.T) {
	t0 := time.Now()
	lap := func(what string) {
		t.Logf("%-28s %v", what, time.Since(t0).Round(time.Millisecond))
	}
	c := Start(t, 3)
	lap("Start(3)")
	urls := c.URLs()
	if len(urls) != 3 {
		t.Fatalf("URLs() = %v, want 3", urls)
	}

	nc, js := connect(t, c.URL())
	createStream(t, js, 3)
	publish(t, js, 0, 100)
	lap("100 published")

	c.Stop(1)
	lap("Stop(1)")
	if r := publish(t, js, 100, 200); r > 0 {
		t.Logf("%d publishes needed a retry with node 1 down", r)
	}
	lap("100 more published (2 of 3)")

	c.Restart(1)
	lap("Restart(1)")
	nc.Close()

	c.StopAll()
	lap("StopAll")
	c.RestartAll()
	lap("RestartAll")
	c.WaitJetStream(t, 30*time.Second)
	lap("WaitJetStream")

	if got := c.URLs(); !slices.Equal(got, urls) {
		t.Fatalf("URLs changed across restarts: %v, then %v", urls, got)
	}
	_, js = connect(t, c.URL())
	waitMsgs(t, js, 200, 30*time.Second)
	lap("stream has 200")
	requireDuplicate(t, js, "m-0")
	requireDuplicate(t, js, "m-150")
	waitMsgs(t, js, 200, 5*time.Second)
	lap("duplicates detected")
	c.waitStreamCurrent(t, 15*time.Second)
	lap("stream current on all nodes")
}

func TestSingleNode(t *testing.T) {
	t0 := time.Now()
	c := Start(t, 1)
	t.Logf("Start(1) %v", time.Since(t0).Round(time.Millisecond))
	if c.URL() != c.URLs()[0] {
		t.Fatalf("URL() = %q, URLs() = %v", c.URL(), c.URLs())
	}
	nc, js := connect(t, c.URL())
	createStream(t, js, 1)
	publish(t, js, 0, 10)
	nc.Close()

	c.Stop(0)
	c.Restart(0)
	c.WaitJetStream(t, 10*time.Second)
	c.StopAll()
	c.RestartAll()
	t.Logf("after Stop/Restart and StopAll/RestartAll %v", time.Since(t0).Round(time.Millisecond))

	_, js = connect(t, c.URL())
	waitMsgs(t, js, 10, 10*time.Second)
	requireDuplicate(t, js, "m-3")
}

func TestStoppedNodeRefusesConnections(t *testing.T) {
	c := Start(t, 1)
	c.Stop(0)
	c.Stop(0) // a second Stop must be harmless
	_, err := nats.Connect(c.URL(), nats.Timeout(time.Second), nats.NoReconnect())
	if !errors.Is(err, nats.ErrNoServers) {
		t.Fatalf("connect to stopped node: err = %v, want ErrNoServers", err)
	}
}

// Processes killed with SIGKILL, one and then all: what was acknowledged is there after the
// cluster restarts.
func TestProcsKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nats-server and runs three processes: make test-long")
	}
	p := StartProcs(t, 3)
	nc, err := nats.Connect(p.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// A context per call: killing every node and electing leaders again takes its time.
	call := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	if _, err := js.CreateStream(call(), jetstream.StreamConfig{Name: "K", Subjects: []string{"k.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			for attempt := 0; ; attempt++ {
				_, err := js.Publish(call(), "k.x", []byte("m"), jetstream.WithMsgID(fmt.Sprintf("m-%d", i)))
				if err == nil {
					break
				}
				if attempt == 50 {
					t.Fatalf("publish %d: %v", i, err)
				}
				time.Sleep(100 * time.Millisecond) // a leader election after a kill
			}
		}
	}
	publish(0, 50)
	p.Kill(1)
	publish(50, 100)
	p.Restart(1)
	p.KillAll()
	p.RestartAll()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := js.Stream(call(), "K")
		if err == nil && s.CachedInfo().State.Msgs == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after killing every node: stream %v, %v; want 100 messages", s, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
