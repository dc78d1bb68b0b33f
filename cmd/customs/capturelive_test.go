package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/customs-dev/customs/proxy/ca"
)

// requireNetns skips (or, in CI, fails) when network namespaces cannot be created here: the
// live capture needs root, ip(8) and a kernel that allows namespaces.
func requireNetns(t *testing.T) {
	t.Helper()
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "not root"
	default:
		if _, err := exec.LookPath("ip"); err != nil {
			why = "no ip(8) (iproute2)"
		} else if _, err := exec.LookPath("curl"); err != nil {
			why = "no curl"
		}
	}
	if why == "" {
		name := fmt.Sprintf("custprobe%d", os.Getpid())
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			why = "ip netns add: " + strings.TrimSpace(string(out))
		} else {
			_ = exec.Command("ip", "netns", "del", name).Run()
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("live capture test cannot run in CI: %s", why)
	}
	t.Skipf("live capture test skipped: %s", why)
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestCaptureLive runs `customs capture --interface` on one end of a veth pair whose other end
// sits in a network namespace the test creates; curl in that namespace speaks TLS to a vendor
// name served by the test, with no proxy setting at all. The capture reports the connection as
// it closes: its client, server name, vendor and JA4, marked bypass (the proxy never saw the
// client) and counted in /metrics; it stops cleanly on SIGINT.
func TestCaptureLive(t *testing.T) {
	requireNetns(t)
	hostIP, peerIP := "10.213.7.1", "10.213.7.2"
	ns, host := vethNamespace(t, "ccap", hostIP, peerIP)

	// A TLS server for the vendor's name on the host's end.
	data := t.TempDir()
	authority, _, err := ca.LoadOrCreate(data)
	if err != nil {
		t.Fatal(err)
	}
	leaves := ca.NewLeaves(authority, ca.LeafOptions{})
	ln, err := net.Listen("tcp", hostIP+":443")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }),
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return leaves.Get(h.ServerName) }}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })

	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := probe.Addr().String()
	probe.Close()
	// --store: the capture's own store is the proxy's record here, which never saw the client.
	cmd := exec.Command(binary, "capture", "--interface", host, "--filter", "tcp port 443", "--json", "--data", data, "--store",
		"--metrics", metricsAddr)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// Wait until the capture is reading.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "capturing on") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	curl := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "curl", "-sS", "--noproxy", "*", "--http1.1",
		"--cacert", filepath.Join(data, ca.CertFile), "--resolve", "api.openai.com:443:"+hostIP, "https://api.openai.com/v1/models")
	if out, err := curl.CombinedOutput(); err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("curl in the namespace: %v: %s", err, out)
	}
	// The flow is reported when the connection closes.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stdout.String(), "api.openai.com") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("flow seen before interrupt: %v", strings.Contains(stdout.String(), "api.openai.com"))
	defer func() { t.Logf("capture output:\n%s", stdout.String()) }()
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`customs_bypass_flows_total{category="ai-provider",vendor="openai"} 1`,
		`customs_flows_total{action="allow",category="ai-provider",mode="tls",vendor="openai"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics of the live capture lacks %s:\n%s", want, grepLines(string(metrics), "customs_"))
		}
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("capture: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("capture did not stop on SIGINT\n%s", stderr.String())
	}

	var found bool
	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var w struct {
			Client string               `json:"client"`
			Host   string               `json:"host"`
			Vendor wireVendor           `json:"vendor"`
			JA4    string               `json:"ja4"`
			Marks  []string             `json:"marks"`
			Sum    *struct{ Flows int } `json:"summary"`
		}
		if err := json.Unmarshal(sc.Bytes(), &w); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		if w.Host == "api.openai.com" && strings.HasPrefix(w.Client, peerIP+":") && w.Vendor.ID == "openai" && strings.HasPrefix(w.JA4, "t13d") &&
			strings.Contains(fmt.Sprint(w.Marks), "bypass") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no flow from %s to api.openai.com in the live capture:\n%s\n%s", peerIP, stdout.String(), stderr.String())
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// lockedBuffer is a bytes.Buffer a running command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCaptureLiveNeedsPrivilege: without root or CAP_NET_RAW a live capture says what it needs
// and exits 1, having captured nothing.
func TestCaptureLiveNeedsPrivilege(t *testing.T) {
	requireNetns(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv (util-linux) to drop root")
	}
	// A data directory the unprivileged user can reach (t.TempDir's parents are root's).
	data, err := os.MkdirTemp("", "customs-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	if err := os.Chmod(data, 0o777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
		binary, "capture", "--interface", "lo", "--no-bypass", "--data", data)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "CAP_NET_RAW") ||
		strings.Contains(string(out), "capturing on") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

// vethNamespace creates a network namespace joined to this one by a veth pair: the host end
// (returned, with the namespace's name) holds hostIP, the namespace's end peerIP (/30), and
// the namespace routes everything through the host. Both go when the test ends.
func vethNamespace(t *testing.T, prefix, hostIP, peerIP string) (ns, host string) {
	t.Helper()
	id := os.Getpid() % 10000
	ns = fmt.Sprintf("%s%d", prefix, id)
	host, peer := fmt.Sprintf("%s%da", prefix, id), fmt.Sprintf("%s%db", prefix, id)
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", ns).Run()
		_ = exec.Command("ip", "link", "del", host).Run()
	})
	ipCmd(t, "link", "add", host, "type", "veth", "peer", "name", peer)
	ipCmd(t, "link", "set", peer, "netns", ns)
	ipCmd(t, "addr", "add", hostIP+"/30", "dev", host)
	ipCmd(t, "link", "set", host, "up")
	ipCmd(t, "-n", ns, "addr", "add", peerIP+"/30", "dev", peer)
	ipCmd(t, "-n", ns, "link", "set", peer, "up")
	ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	ipCmd(t, "-n", ns, "route", "add", "default", "via", hostIP)
	return ns, host
}
