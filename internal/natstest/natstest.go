// Package natstest runs real NATS JetStream servers in-process on loopback so
// that tests of code built on JetStream exercise the actual engine (raft,
// replication, deduplication, recovery from disk) rather than a fake, and can
// kill and restart nodes to check behaviour under failure.
package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// Every clustered test deployment shares the name; clusters of different
	// tests never meet because routes are explicit and ports distinct.
	clusterName = "customs-test"

	host = "127.0.0.1"

	// Without caps the server sizes its limits from the machine (75 % of RAM,
	// all free disk), which is meaningless when many tests run clusters side
	// by side, and a runaway test should hit a limit rather than fill a disk.
	maxMemory = 64 << 20
	maxStore  = 256 << 20

	startAttempts = 3
	// Generous because a loaded CI machine can be slow to bind listeners; a
	// bind failure is only detected when this expires.
	readyTimeout    = 10 * time.Second
	shutdownTimeout = 30 * time.Second
	portTimeout     = 10 * time.Second
	startWait       = 30 * time.Second
	restartAllWait  = 60 * time.Second
	pollInterval    = 25 * time.Millisecond
)

// logLevel comes from NATSTEST_LOG ("1" for server logs on stderr, "debug"
// for raft detail): a cluster test that fails on timing is otherwise opaque,
// and the server logs are the only account of elections and catchups.
var logLevel = os.Getenv("NATSTEST_LOG")

// Cluster is a set of embedded NATS servers with JetStream enabled. Node
// identities (name, ports, store directory) are fixed at Start, so a stopped
// node comes back as the same raft peer with its data, as after a crash.
type Cluster struct {
	t         testing.TB
	clustered bool
	urls      []string

	mu    sync.Mutex
	nodes []*node
}

type node struct {
	name        string
	clientPort  int
	clusterPort int
	storeDir    string
	srv         *server.Server // nil while stopped
}

// Start runs n servers (n=1 is a single JetStream server, not clustered; n>=2 a
// JetStream cluster named "customs-test") on 127.0.0.1 with free ports and a
// JetStream store dir per node under t.TempDir(). It waits (at most 30 s)
// until JetStream has a meta leader that sees all n peers and answers API
// requests, so a test may create replicated streams right away. t.Cleanup
// shuts everything down.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: need at least one server, got %d", n)
	}
	var c *Cluster
	var err error
	// Free ports are found by binding and releasing them, so another process
	// may grab one before the server binds it; a fresh set usually succeeds.
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if c, err = tryStart(t, n); err == nil {
			break
		}
		t.Logf("natstest: start attempt %d/%d failed: %v", attempt, startAttempts, err)
	}
	if err != nil {
		t.Fatalf("natstest: could not start %d server(s): %v", n, err)
	}
	if err := c.waitReady(startWait); err != nil {
		t.Fatalf("natstest: %v", err)
	}
	return c
}

func tryStart(t testing.TB, n int) (*Cluster, error) {
	perNode := 1
	if n > 1 {
		perNode = 2
	}
	ports, err := freePorts(n * perNode)
	if err != nil {
		return nil, err
	}
	c := &Cluster{t: t, clustered: n > 1, nodes: make([]*node, n), urls: make([]string, n)}
	for i := range c.nodes {
		nd := &node{name: "n" + strconv.Itoa(i), clientPort: ports[i*perNode], storeDir: t.TempDir()}
		if c.clustered {
			nd.clusterPort = ports[i*perNode+1]
		}
		c.nodes[i] = nd
		c.urls[i] = "nats://" + net.JoinHostPort(host, strconv.Itoa(nd.clientPort))
	}
	// Registered after the TempDir calls so that it runs before their removal
	// (cleanups run last-in first-out) and servers never write into a
	// directory being deleted.
	t.Cleanup(c.cleanup)
	for i := range c.nodes {
		if err := c.startNode(i); err != nil {
			c.shutdownAll()
			return nil, err
		}
	}
	return c, nil
}

// freePorts holds all listeners open at once so the ports are distinct.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("allocating port: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// options builds fresh Options on every start because NewServer fills in and
// keeps the struct it is given, so reusing one across restarts would carry
// state from the previous incarnation.
func (c *Cluster) options(i int) *server.Options {
	nd := c.nodes[i]
	o := &server.Options{
		ServerName:         nd.name,
		Host:               host,
		Port:               nd.clientPort,
		JetStream:          true,
		StoreDir:           nd.storeDir,
		JetStreamMaxMemory: maxMemory,
		JetStreamMaxStore:  maxStore,
		NoLog:              logLevel == "",
		Logtime:            true,
		Debug:              logLevel == "debug",
		NoSigs:             true,
	}
	if c.clustered {
		o.Cluster = server.ClusterOpts{Name: clusterName, Host: host, Port: nd.clusterPort}
		for j, other := range c.nodes {
			if j == i {
				continue
			}
			o.Routes = append(o.Routes, &url.URL{
				Scheme: "nats-route",
				Host:   net.JoinHostPort(host, strconv.Itoa(other.clusterPort)),
			})
		}
	}
	return o
}

func (c *Cluster) startNode(i int) error {
	s, err := server.NewServer(c.options(i))
	if err != nil {
		return fmt.Errorf("node %s: %w", c.nodes[i].name, err)
	}
	if logLevel != "" {
		s.ConfigureLogger()
	}
	s.Start()
	// Listen errors are not returned by Start; they only show as the
	// listeners never becoming ready.
	if !s.ReadyForConnections(readyTimeout) {
		shutdown([]*server.Server{s}, shutdownTimeout)
		return fmt.Errorf("node %s not ready for connections on %s within %v (port taken?)",
			c.nodes[i].name, c.urls[i], readyTimeout)
	}
	c.mu.Lock()
	c.nodes[i].srv = s
	c.mu.Unlock()
	return nil
}

// URLs returns the client URL of every node, in node order. They stay valid
// across Stop and Restart.
func (c *Cluster) URLs() []string {
	return append([]string(nil), c.urls...)
}

// URL returns all client URLs comma-joined, the form nats.Connect accepts, so
// a client can fail over between nodes.
func (c *Cluster) URL() string {
	return strings.Join(c.urls, ",")
}

// Stop shuts node i down without lame-duck mode and returns once its ports
// are closed. Stopping a stopped node does nothing. The server still hands
// off the raft leaderships it holds as it goes, so this is gentler than
// SIGKILL; an in-process server cannot be stopped any harder.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	c.checkIndex(i)
	c.mu.Lock()
	s := c.nodes[i].srv
	c.nodes[i].srv = nil
	c.mu.Unlock()
	if s == nil {
		return
	}
	if err := shutdown([]*server.Server{s}, shutdownTimeout); err != nil {
		c.t.Fatalf("natstest: stopping %s: %v", c.nodes[i].name, err)
	}
	if err := c.waitPortsClosed(i, portTimeout); err != nil {
		c.t.Fatalf("natstest: stopping %s: %v", c.nodes[i].name, err)
	}
}

// Restart starts the stopped node i again with the same name, ports and store
// dir, and returns once it accepts connections. It does not wait for the node
// to rejoin the cluster or catch up; RestartAll and WaitJetStream do.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.checkIndex(i)
	c.mu.Lock()
	running := c.nodes[i].srv != nil
	c.mu.Unlock()
	if running {
		c.t.Fatalf("natstest: Restart(%d): %s is still running", i, c.nodes[i].name)
	}
	if err := c.startNode(i); err != nil {
		c.t.Fatalf("natstest: restarting: %v", err)
	}
}

// StopAll shuts every running node down at once, closer to a power loss than
// stopping them one after another, during which leadership would keep moving
// to the survivors.
func (c *Cluster) StopAll() {
	c.t.Helper()
	c.mu.Lock()
	var srvs []*server.Server
	var stopped []int
	for i, nd := range c.nodes {
		if nd.srv != nil {
			srvs = append(srvs, nd.srv)
			stopped = append(stopped, i)
			nd.srv = nil
		}
	}
	c.mu.Unlock()
	if err := shutdown(srvs, shutdownTimeout); err != nil {
		c.t.Fatalf("natstest: StopAll: %v", err)
	}
	for _, i := range stopped {
		if err := c.waitPortsClosed(i, portTimeout); err != nil {
			c.t.Fatalf("natstest: StopAll: %v", err)
		}
	}
}

// RestartAll restarts every stopped node, then waits (at most 60 s) until
// JetStream has a meta leader seeing all peers and answers API requests.
func (c *Cluster) RestartAll() {
	c.t.Helper()
	for i := range c.nodes {
		c.mu.Lock()
		running := c.nodes[i].srv != nil
		c.mu.Unlock()
		if !running {
			if err := c.startNode(i); err != nil {
				c.t.Fatalf("natstest: RestartAll: %v", err)
			}
		}
	}
	if err := c.waitReady(restartAllWait); err != nil {
		c.t.Fatalf("natstest: RestartAll: %v", err)
	}
}

// WaitJetStream waits until a client connection gets an OK answer to a
// JetStream account info request ($JS.API.INFO), failing t after d. Servers
// may be running with JetStream still electing leaders or recovering, so this
// is the readiness a client actually observes.
func (c *Cluster) WaitJetStream(t testing.TB, d time.Duration) {
	t.Helper()
	if err := c.waitJetStream(time.Now().Add(d)); err != nil {
		t.Fatalf("natstest: %v", err)
	}
}

func (c *Cluster) waitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	if err := c.waitMetaLeader(deadline); err != nil {
		return err
	}
	return c.waitJetStream(deadline)
}

// waitMetaLeader also requires the leader to see every running peer and all
// followers to be current, because until then the meta leader rejects
// replicated streams for lack of peers and followers may answer stale.
func (c *Cluster) waitMetaLeader(deadline time.Time) error {
	last := "no server running"
	for {
		ok, why := c.metaReady()
		if ok {
			return nil
		}
		last = why
		if time.Now().After(deadline) {
			return fmt.Errorf("no JetStream meta leader before deadline: %s", last)
		}
		time.Sleep(pollInterval)
	}
}

func (c *Cluster) metaReady() (bool, string) {
	c.mu.Lock()
	var srvs []*server.Server
	for _, nd := range c.nodes {
		if nd.srv != nil {
			srvs = append(srvs, nd.srv)
		}
	}
	c.mu.Unlock()
	if len(srvs) == 0 {
		return false, "no server running"
	}
	if !c.clustered {
		if !srvs[0].JetStreamEnabled() {
			return false, "JetStream not enabled yet"
		}
		return true, ""
	}
	var leader *server.Server
	for _, s := range srvs {
		if s.JetStreamIsLeader() {
			leader = s
		}
		if !s.JetStreamIsCurrent() {
			return false, s.Name() + " not current with the meta group"
		}
	}
	if leader == nil {
		return false, "no meta leader elected"
	}
	if peers := leader.JetStreamClusterPeers(); len(peers) != len(srvs) {
		return false, fmt.Sprintf("meta leader %s sees peers %v, want %d", leader.Name(), peers, len(srvs))
	}
	return true, ""
}

func (c *Cluster) waitJetStream(deadline time.Time) error {
	var last error
	for {
		if last = c.jetStreamInfo(deadline); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("JetStream not answering $JS.API.INFO before deadline: %w", last)
		}
		time.Sleep(pollInterval)
	}
}

// jetStreamInfo makes one attempt, capped at a few seconds so that a request
// sent to a node that later loses leadership is retried elsewhere.
func (c *Cluster) jetStreamInfo(deadline time.Time) error {
	d := min(time.Until(deadline), 2*time.Second)
	if d <= 0 {
		return context.DeadlineExceeded
	}
	nc, err := nats.Connect(c.URL(), nats.Name("natstest-probe"), nats.Timeout(d), nats.NoReconnect())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

func (c *Cluster) checkIndex(i int) {
	c.t.Helper()
	if i < 0 || i >= len(c.nodes) {
		c.t.Fatalf("natstest: node %d out of range [0,%d)", i, len(c.nodes))
	}
}

func (c *Cluster) waitPortsClosed(i int, d time.Duration) error {
	nd := c.nodes[i]
	ports := []int{nd.clientPort}
	if c.clustered {
		ports = append(ports, nd.clusterPort)
	}
	deadline := time.Now().Add(d)
	for _, p := range ports {
		addr := net.JoinHostPort(host, strconv.Itoa(p))
		for {
			conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err != nil {
				break
			}
			conn.Close()
			if time.Now().After(deadline) {
				return fmt.Errorf("%s still accepting on %s after %v", nd.name, addr, d)
			}
			time.Sleep(pollInterval)
		}
	}
	return nil
}

// shutdown stops servers concurrently. Shutdown itself is synchronous, but
// WaitForShutdown is still awaited because Shutdown returns at once when a
// shutdown is already under way elsewhere.
func shutdown(srvs []*server.Server, d time.Duration) error {
	if len(srvs) == 0 {
		return nil
	}
	var wg sync.WaitGroup
	for _, s := range srvs {
		wg.Go(func() {
			s.Shutdown()
			s.WaitForShutdown()
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(d):
		return errors.New("servers did not shut down within " + d.String())
	}
}

func (c *Cluster) shutdownAll() error {
	c.mu.Lock()
	var srvs []*server.Server
	for _, nd := range c.nodes {
		if nd.srv != nil {
			srvs = append(srvs, nd.srv)
			nd.srv = nil
		}
	}
	c.mu.Unlock()
	return shutdown(srvs, shutdownTimeout)
}

// cleanup reports rather than aborts so that the remaining cleanups, such as
// removing store dirs, still run.
func (c *Cluster) cleanup() {
	if err := c.shutdownAll(); err != nil {
		c.t.Errorf("natstest: cleanup: %v", err)
	}
}
