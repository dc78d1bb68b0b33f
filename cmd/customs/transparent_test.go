package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/proxy/ca"
)

// TestTransparent: a client in a network namespace of its own, with no proxy setting at all,
// speaks to a vendor's address; the host's firewall (iptables REDIRECT on the veth it comes in
// on) sends TCP 443 and 80 to customs' transparent listener. curl, Node's fetch and the openai
// Node SDK (trusting the customs CA by NODE_EXTRA_CA_CERTS only) are inspected, blocked and
// tunnelled as through the explicit proxy.
func TestTransparent(t *testing.T) {
	requireNetns(t)
	requireTools(t, "iptables")
	hostIP, peerIP, vendorIP := "10.213.9.1", "10.213.9.2", "203.0.113.10"
	ns, host := vethNamespace(t, "ctp", hostIP, peerIP)
	nsHosts(t, ns, fmt.Sprintf("%s api.openai.com api.anthropic.com example.org\n", vendorIP))

	probe, err := net.Listen("tcp", hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	for _, dport := range []string{"443", "80"} {
		firewallRule(t, "iptables", "nat", "PREROUTING", "-i", host, "-p", "tcp", "--dport", dport, "-j", "REDIRECT", "--to-ports", fmt.Sprint(port))
	}

	data := t.TempDir()
	upAddr, upCA, received := fakeVendorRecording(t)
	// Cleartext goes to a vendor address of its own, served by a plain server.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"data":[]}`) }))
	t.Cleanup(plain.Close)
	plainIP := "203.0.113.11"
	// The namespace's clients must be allowed: by default only loopback may use customs.
	cfgPath := filepath.Join(data, "customs.yaml")
	if err := os.WriteFile(cfgPath, []byte("allow_clients: [127.0.0.1, \"::1\", "+peerIP+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startCustoms(t, "--config", cfgPath, "--data", data, "--transparent", fmt.Sprintf("%s:%d", hostIP, port), "--resolve", plainIP+"="+plain.Listener.Addr().String(), "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	caFile := filepath.Join(data, ca.CertFile)
	inNS := nsRunner(ns, caFile)

	// Inspected: a vendor's name, over TLS and in cleartext.
	if out, err := inNS("curl", "-sS", "--cacert", caFile, "-o", "/dev/null", "-w", "%{http_code}", "https://api.openai.com/v1/models"); err != nil || out != "200" {
		t.Fatalf("curl over TLS: %v %s\n%v", err, out, s.logLines())
	}
	if out, err := inNS("curl", "-sS", "--resolve", "api.openai.com:80:"+plainIP, "-o", "/dev/null", "-w", "%{http_code}", "http://api.openai.com/v1/models"); err != nil || out != "200" {
		t.Fatalf("curl in cleartext: %v %s\n%v", err, out, s.logLines())
	}
	// Blocked: a credential to an AI vendor never reaches it.
	const secret = "AKIAZ7VQ3KXJ5N2WPLMR"
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"deploy with ` + secret + `"}]}`
	if out, err := inNS("curl", "-sS", "--cacert", caFile, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json",
		"-d", body, "https://api.openai.com/v1/chat/completions"); err != nil || out != "403" {
		t.Fatalf("a secret through the transparent listener: %v %s", err, out)
	}
	for _, r := range received() {
		if strings.Contains(string(r.body), secret) {
			t.Fatal("the secret reached the vendor")
		}
	}
	// Node with nothing but NODE_EXTRA_CA_CERTS: fetch and the openai SDK.
	if node, err := exec.LookPath("node"); err == nil {
		if out, err := inNS(node, "-e", "fetch('https://api.anthropic.com/v1/models').then(r => console.log(r.status))"); err != nil || strings.TrimSpace(out) != "200" {
			t.Fatalf("node fetch: %v %s", err, out)
		}
		if sdk := openaiSDK(t); sdk != "" {
			script := `const OpenAI = require(` + "`" + sdk + "`" + `);
new OpenAI({apiKey: 'sk-test'}).chat.completions.create({model: 'gpt-4o', messages: [{role: 'user', content: 'hello'}]})
  .then(() => console.log('sdk ok'), e => { console.error(e); process.exit(1) })`
			if out, err := inNS(node, "-e", script); err != nil || !strings.Contains(out, "sdk ok") {
				t.Fatalf("openai SDK: %v %s", err, out)
			}
		}
	}
	// Tunnelled: a name outside the catalog passes byte for byte to where the client was going.
	if out, err := inNS("curl", "-sS", "-k", "-o", "/dev/null", "-w", "%{http_code}", "https://example.org/"); err != nil || out != "200" {
		t.Fatalf("curl to a name outside the catalog: %v %s", err, out)
	}

	var list string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		list, _, _ = runCustoms(t, data, "flows", "--client", peerIP, "--json", "--data", data, "--admin", s.admin)
		if strings.Count(list, "\n") >= 6 && strings.Contains(list, `"host":"example.org"`) {
			break
		}
	}
	for _, want := range []string{`"mode":"intercepted","client":"` + peerIP, `"action":"block"`, `"host":"api.anthropic.com"`,
		`"mode":"tunnelled","client":"` + peerIP, `"host":"example.org"`, `"target":"` + plainIP + `:80"`} {
		if !strings.Contains(list, want) {
			t.Errorf("flows lack %s:\n%s", want, list)
		}
	}
}

// nsHosts gives the namespace ns its own /etc/hosts (ip netns exec mounts /etc/netns/NS/hosts
// over it), with localhost and lines.
func nsHosts(t *testing.T, ns, lines string) {
	t.Helper()
	etc := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte("127.0.0.1 localhost\n"+lines), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nsRunner runs commands in ns with no proxy variable and, for Node, the customs CA; each is
// killed after a minute.
func nsRunner(ns, caFile string) func(args ...string) (string, error) {
	return func(args ...string) (string, error) {
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
		cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+caFile, "HTTPS_PROXY=", "HTTP_PROXY=", "https_proxy=", "http_proxy=")
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		return string(out), err
	}
}

// firewallRule appends a rule with tool (iptables, ip6tables) to table's chain and deletes it
// when the test ends.
func firewallRule(t *testing.T, tool, table, chain string, rule ...string) {
	t.Helper()
	add := append([]string{"-t", table, "-A", chain}, rule...)
	if out, err := exec.Command(tool, add...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", tool, add, err, out)
	}
	del := append([]string{"-t", table, "-D", chain}, rule...)
	t.Cleanup(func() { _ = exec.Command(tool, del...).Run() })
}

// TestTransparentTPROXYAndIPv6: the other ways a gateway hands customs a connection. TPROXY (the
// mangle table and a local route for its mark) keeps the connection's destination, which is then
// the socket's own address; REDIRECT over IPv6 leaves it in SO_ORIGINAL_DST at SOL_IPV6. One
// dual-stack transparent listener takes both. A client with no proxy setting is inspected over
// each, a secret is blocked, and the flow records the address the client was going to.
func TestTransparentTPROXYAndIPv6(t *testing.T) {
	requireNetns(t)
	requireTools(t, "iptables", "ip6tables")
	hostIP, peerIP, host6, peer6 := "10.213.10.1", "10.213.10.2", "fd00:213:a::1", "fd00:213:a::2"
	vendorIP, vendor6 := "203.0.113.20", "2001:db8::20"
	ns, host := vethNamespace(t, "ctq", hostIP, peerIP)
	peer := strings.TrimSuffix(host, "a") + "b"
	ipCmd(t, "addr", "add", host6+"/64", "dev", host, "nodad")
	ipCmd(t, "-n", ns, "addr", "add", peer6+"/64", "dev", peer, "nodad")
	ipCmd(t, "-n", ns, "-6", "route", "add", "default", "via", host6)
	nsHosts(t, ns, vendorIP+" api.openai.com\n"+vendor6+" api.anthropic.com\n")

	probe, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(probe.Addr().(*net.TCPAddr).Port)
	probe.Close()
	// TPROXY for IPv4: marked, then routed to the host itself, where the transparent socket
	// takes the connection for an address that is not the host's.
	const mark, table = "0x2130/0xffff", "2130"
	firewallRule(t, "iptables", "mangle", "PREROUTING", "-i", host, "-p", "tcp", "--dport", "443", "-j", "TPROXY", "--on-port", port, "--tproxy-mark", mark)
	ipCmd(t, "rule", "add", "fwmark", mark, "lookup", table)
	t.Cleanup(func() { _ = exec.Command("ip", "rule", "del", "fwmark", mark, "lookup", table).Run() })
	ipCmd(t, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", table)
	t.Cleanup(func() {
		_ = exec.Command("ip", "route", "del", "local", "0.0.0.0/0", "dev", "lo", "table", table).Run()
	})
	// REDIRECT for IPv6.
	firewallRule(t, "ip6tables", "nat", "PREROUTING", "-i", host, "-p", "tcp", "--dport", "443", "-j", "REDIRECT", "--to-ports", port)

	data := t.TempDir()
	upAddr, upCA, received := fakeVendorRecording(t)
	cfgPath := filepath.Join(data, "customs.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("allow_clients: [127.0.0.1, \"::1\", %s, \"%s\"]\n", peerIP, peer6)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startCustoms(t, "--config", cfgPath, "--data", data, "--transparent", "[::]:"+port, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	caFile := filepath.Join(data, ca.CertFile)
	inNS := nsRunner(ns, caFile)

	const secret = "AKIAZ7VQ3KXJ5N2WPLMR"
	for _, c := range []struct{ name, url, body, want string }{
		{"TPROXY", "https://api.openai.com/v1/models", "", "200"},
		{"TPROXY, a secret", "https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"use ` + secret + `"}]}`, "403"},
		{"IPv6", "https://api.anthropic.com/v1/models", "", "200"},
		{"IPv6, a secret", "https://api.anthropic.com/v1/messages", `{"model":"claude-sonnet-4","max_tokens":9,"messages":[{"role":"user","content":"use ` + secret + `"}]}`, "403"},
	} {
		args := []string{"curl", "-sS", "--cacert", caFile, "-o", "/dev/null", "-w", "%{http_code}"}
		if c.body != "" {
			args = append(args, "-H", "Content-Type: application/json", "-d", c.body)
		}
		if out, err := inNS(append(args, c.url)...); err != nil || out != c.want {
			t.Fatalf("%s: %v %s, want %s\n%v", c.name, err, out, c.want, s.logLines())
		}
	}
	for _, r := range received() {
		if strings.Contains(string(r.body), secret) {
			t.Fatal("the secret reached the vendor")
		}
	}
	for client, target := range map[string]string{peerIP: vendorIP + ":443", peer6: "[" + vendor6 + "]:443"} {
		var list string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			list, _, _ = runCustoms(t, data, "flows", "--client", client, "--json", "--data", data, "--admin", s.admin)
			if strings.Count(list, "\n") >= 2 {
				break
			}
		}
		if strings.Count(list, `"mode":"intercepted"`) != 2 || strings.Count(list, `"target":"`+target+`"`) != 2 || !strings.Contains(list, `"action":"block"`) {
			t.Errorf("flows from %s (want 2, intercepted, target %s, one blocked):\n%s", client, target, list)
		}
	}
}

// requireTools skips a test without the firewall tools it drives, except in CI, which installs
// them (.ci/run: the iptables package).
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed (.ci/run installs it)", tool)
			}
			t.Skip("no " + tool)
		}
	}
}
