package fleet

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/store"
)

var (
	benchFlows = flag.Int("fleet.flows", 20000, "flows BenchmarkFleet publishes and reads (the README's figures: 1000000)")
	benchNATS  = flag.String("fleet.nats", "", "BenchmarkFleet: publish to this server (JetStream on) instead of one it starts, and leave the flows there")
	benchKey   = flag.String("fleet.keyfile", "", "BenchmarkFleet: the fleet key file to seal with (created when missing), for customs report --fleet to read the flows after")
	benchBody  = flag.Int("fleet.body", 1500, "BenchmarkFleet: bytes of each flow's prompt (the store compresses bodies from 2 KiB)")
)

// natsServer builds nats-server from the module this repository requires and runs it as a
// process of its own, so that the benchmark's CPU is customs' alone.
func natsServer(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "nats-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		b.Fatalf("build nats-server: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", filepath.Join(dir, "js"))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return url
		}
		if time.Now().After(deadline) {
			b.Fatalf("nats-server did not listen on %d", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// chatFlow is a ~2 KiB chat flow like BenchmarkIngest's: a 1.5 KiB prompt, headers, an answer.
func chatFlow(i int, at time.Time) *flow.Flow {
	f := testFlow(i, at)
	line := fmt.Sprintf("line %d of the meeting notes; ", i)
	f.RequestBody = []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat(line, *benchBody/len(line)+1)[:*benchBody] + `"}]}`)
	f.RequestBytes = int64(len(f.RequestBody))
	f.RequestHeader = http.Header{"Content-Type": {"application/json"}, "User-Agent": {"OpenAI/Python 1.51.0"}, "Authorization": {"Bearer sk-…"}}
	f.ResponseHeader = http.Header{"Content-Type": {"application/json"}}
	f.ResponseBody = []byte(`{"object":"chat.completion","choices":[{"message":{"content":"` + strings.Repeat("ok ", 100) + `"}}]}`)
	f.ResponseBytes = int64(len(f.ResponseBody))
	return f
}

// BenchmarkFleet publishes -fleet.flows chat flows from a store's outbox to a nats-server
// process (one server, file storage), then reads them all back as report --fleet does: the
// publisher's flows/s and CPU per flow (this process only), and the read's.
func BenchmarkFleet(b *testing.B) {
	url := *benchNATS
	if url == "" {
		url = natsServer(b)
	}
	n := *benchFlows
	ctx := context.Background()
	key := testKey(b, 9)
	if *benchKey != "" {
		var err error
		if key, err = LoadKey(*benchKey); err != nil {
			if key, err = Keygen(*benchKey); err != nil {
				b.Fatal(err)
			}
		}
	}
	st, err := store.Open(store.Options{Dir: b.TempDir(), Key: bytes.Repeat([]byte{3}, 32), Outbox: true, GCInterval: -1,
		QueueSize: 1 << 16, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	base := time.Now().Add(-2 * time.Hour)
	for i := range n {
		f := chatFlow(i, base.Add(time.Duration(i)*time.Millisecond))
		for {
			before := st.Stats().Dropped
			st.Record(f)
			if st.Stats().Dropped == before {
				break
			}
			_ = st.Flush(ctx) // the queue was full: let the writer catch up
		}
	}
	if err := st.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if got := st.Stats().Outbox; got != int64(n) {
		b.Fatalf("outbox %d; want %d", got, n)
	}
	conn, err := Dial(Options{Servers: []string{url}, Site: "bench", Key: key, MaxAge: 24 * time.Hour}, false)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	pub, err := conn.NewPublisher(st, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		cpu0, t0 := cpuTime(), time.Now()
		if err := pub.Drain(ctx); err != nil {
			b.Fatal(err)
		}
		pubCPU, pubWall := cpuTime()-cpu0, time.Since(t0)
		if got := pub.Stats().Published; got != uint64(n) {
			b.Fatalf("published %d; want %d", got, n)
		}
		cpu0, t0 = cpuTime(), time.Now()
		read := 0
		rs, err := conn.Each(ctx, store.Filter{Since: base}, "", false, func(*store.Record) error { read++; return nil })
		if err != nil || read != n {
			b.Fatalf("read %d of %d, %+v: %v", read, n, rs, err)
		}
		readCPU, readWall := cpuTime()-cpu0, time.Since(t0)
		b.ReportMetric(float64(n)/pubWall.Seconds(), "published-flows/s")
		b.ReportMetric(float64(pubCPU.Microseconds())/float64(n), "publish-µs-cpu/flow")
		b.ReportMetric(float64(n)/readWall.Seconds(), "read-flows/s")
		b.ReportMetric(float64(readCPU.Microseconds())/float64(n), "read-µs-cpu/flow")
		b.ReportMetric(readWall.Seconds(), "read-s")
	}
}
