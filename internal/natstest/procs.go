package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Procs is a JetStream cluster of nats-server processes, built from the module this repository
// requires: unlike Cluster's in-process servers, a node can be killed (SIGKILL) mid-write, as a
// machine or a process dies, with no leadership handed over.
type Procs struct {
	t     testing.TB
	bin   string
	nodes []*proc
	urls  []string
}

type proc struct {
	name, conf string
	port       int
	cmd        *exec.Cmd // nil while killed
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// serverBinary builds nats-server once per test process, into a directory that outlives the
// test (the build takes seconds, the module cache makes it the same each time).
func serverBinary() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "natstest-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "nats-server")
		if out, err := exec.Command("go", "build", "-o", builtBin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build nats-server: %v\n%s", err, out)
		}
	})
	return builtBin, buildErr
}

// StartProcs runs an n-node JetStream cluster (n ≥ 3) of nats-server processes on 127.0.0.1
// and waits (at most 60 s) until JetStream answers. t.Cleanup kills them.
func StartProcs(t testing.TB, n int) *Procs {
	t.Helper()
	if n < 3 {
		t.Fatalf("natstest: StartProcs wants a cluster of 3 or more, got %d", n)
	}
	bin, err := serverBinary()
	if err != nil {
		t.Fatal(err)
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	p := &Procs{t: t, bin: bin}
	dir := t.TempDir()
	var routes []string
	for i := range n {
		routes = append(routes, "nats-route://"+net.JoinHostPort(host, strconv.Itoa(ports[2*i+1])))
	}
	for i := range n {
		name := "p" + strconv.Itoa(i)
		conf := filepath.Join(dir, name+".conf")
		text := fmt.Sprintf(`server_name: %s
listen: "%s"
jetstream { store_dir: "%s", max_memory_store: %d, max_file_store: %d }
cluster { name: %s, listen: "%s", routes: [%s] }
`, name, net.JoinHostPort(host, strconv.Itoa(ports[2*i])), filepath.Join(dir, name), maxMemory, maxStore, clusterName,
			net.JoinHostPort(host, strconv.Itoa(ports[2*i+1])), strings.Join(routes, ", "))
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		p.nodes = append(p.nodes, &proc{name: name, conf: conf, port: ports[2*i]})
		p.urls = append(p.urls, "nats://"+net.JoinHostPort(host, strconv.Itoa(ports[2*i])))
	}
	t.Cleanup(func() {
		for i := range p.nodes {
			p.Kill(i)
		}
	})
	for i := range p.nodes {
		p.start(i)
	}
	p.WaitJetStream(restartAllWait)
	return p
}

func (p *Procs) start(i int) {
	p.t.Helper()
	nd := p.nodes[i]
	cmd := exec.Command(p.bin, "-c", nd.conf)
	if logLevel != "" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("natstest: start %s: %v", nd.name, err)
	}
	nd.cmd = cmd
	addr := net.JoinHostPort(host, strconv.Itoa(nd.port))
	deadline := time.Now().Add(readyTimeout)
	for {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("natstest: %s does not listen on %s", nd.name, addr)
		}
		time.Sleep(pollInterval)
	}
}

// URLs are the nodes' client URLs; URL joins them as nats.Connect takes them.
func (p *Procs) URLs() []string { return append([]string(nil), p.urls...) }
func (p *Procs) URL() string    { return strings.Join(p.urls, ",") }

// Kill sends node i SIGKILL and waits for it to die. Killing a dead node does nothing.
func (p *Procs) Kill(i int) {
	nd := p.nodes[i]
	if nd.cmd == nil {
		return
	}
	_ = nd.cmd.Process.Signal(syscall.SIGKILL)
	_ = nd.cmd.Wait()
	nd.cmd = nil
}

// KillAll kills every node at once, as a power loss would.
func (p *Procs) KillAll() {
	for _, nd := range p.nodes {
		if nd.cmd != nil {
			_ = nd.cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	for i := range p.nodes {
		p.Kill(i)
	}
}

// Restart starts killed node i again with its store; it does not wait for it to catch up.
func (p *Procs) Restart(i int) {
	p.t.Helper()
	if p.nodes[i].cmd != nil {
		p.t.Fatalf("natstest: Restart(%d): %s is running", i, p.nodes[i].name)
	}
	p.start(i)
}

// RestartAll starts every killed node, then waits (at most 60 s) until JetStream answers.
func (p *Procs) RestartAll() {
	p.t.Helper()
	for i, nd := range p.nodes {
		if nd.cmd == nil {
			p.start(i)
		}
	}
	p.WaitJetStream(restartAllWait)
}

// WaitJetStream waits until a client gets an answer to $JS.API.INFO, failing the test after d.
func (p *Procs) WaitJetStream(d time.Duration) {
	p.t.Helper()
	c := &Cluster{urls: p.urls}
	if err := c.waitJetStream(time.Now().Add(d)); err != nil {
		p.t.Fatalf("natstest: %v", err)
	}
}
