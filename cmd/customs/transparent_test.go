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
	if _, err := exec.LookPath("iptables"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("iptables is needed (.ci/run installs it)")
		}
		t.Skip("no iptables")
	}
	hostIP, peerIP, vendorIP := "10.213.9.1", "10.213.9.2", "203.0.113.10"
	ns, host := vethNamespace(t, "ctp", hostIP, peerIP)
	// Names inside the namespace: ip netns exec mounts /etc/netns/NS/hosts over /etc/hosts.
	etc := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	hosts := fmt.Sprintf("127.0.0.1 localhost\n%s api.openai.com api.anthropic.com example.org\n", vendorIP)
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}

	probe, err := net.Listen("tcp", hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	for _, dport := range []string{"443", "80"} {
		rule := []string{"-t", "nat", "PREROUTING", "-i", host, "-p", "tcp", "--dport", dport, "-j", "REDIRECT", "--to-ports", fmt.Sprint(port)}
		add := append([]string{rule[0], rule[1], "-A"}, rule[2:]...)
		if out, err := exec.Command("iptables", add...).CombinedOutput(); err != nil {
			t.Fatalf("iptables %v: %v: %s", add, err, out)
		}
		del := append([]string{rule[0], rule[1], "-D"}, rule[2:]...)
		t.Cleanup(func() { _ = exec.Command("iptables", del...).Run() })
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
	inNS := func(args ...string) (string, error) {
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
