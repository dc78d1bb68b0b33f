package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var runLine = regexp.MustCompile(`customs run ([0-9a-f]{16}): (\S+) through`)

// TestRunCommand: customs run starts curl and Python's urllib with nothing but what it sets,
// and both reach a vendor through customs, trusting its CA; their flows carry the run's tag,
// and customs run exits with the command's code.
func TestRunCommand(t *testing.T) {
	data := t.TempDir()
	upAddr, upCA := fakeVendor(t)
	s := startCustoms(t, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	py, _ := exec.LookPath("python3")
	cmds := [][]string{{"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "https://api.openai.com/v1/models"}}
	if py != "" {
		cmds = append(cmds, []string{py, "-c", "import urllib.request; print(urllib.request.urlopen('https://api.anthropic.com/v1/models').status)"})
	}
	if node, err := exec.LookPath("node"); err == nil {
		// Node 20's fetch and https module ignore every proxy variable: the preload routes them.
		cmds = append(cmds,
			[]string{node, "-e", "fetch('https://api.mistral.ai/v1/models').then(r => console.log(r.status))"},
			[]string{node, "-e", "require('https').get('https://api.cohere.com/v1/models', r => { r.resume(); console.log(r.statusCode) })"})
		if sdk := openaiSDK(t); sdk != "" {
			cmds = append(cmds, []string{node, "-e", `const OpenAI = require(` + "`" + sdk + "`" + `);
new OpenAI({apiKey: 'sk-test'}).chat.completions.create({model: 'gpt-4o', messages: [{role: 'user', content: 'hello'}]})
  .then(() => console.log(200), e => { console.error(e); process.exit(1) })`})
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("node is needed (.ci/run installs nodejs)")
	}
	runs := map[string]string{}
	for _, c := range cmds {
		out, errOut, code := runCustoms(t, data, append([]string{"run", "--proxy", "http://" + s.proxy, "--data", data, "--"}, c...)...)
		m := runLine.FindStringSubmatch(errOut)
		if code != 0 || !strings.Contains(out, "200") || m == nil {
			t.Fatalf("customs run %v: exit %d\n%s%s", c, code, out, errOut)
		}
		runs[m[1]] = m[2]
	}
	for id, command := range runs {
		var list string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			list, _, _ = runCustoms(t, data, "flows", "--run", id, "--json", "--data", data, "--admin", s.admin)
			if strings.Contains(list, `"run":"`+id+`"`) {
				break
			}
		}
		if !strings.Contains(list, `"run":"`+id+`"`) || !strings.Contains(list, `"command":"`+command+`"`) || strings.Count(list, "\n") != 1 {
			t.Errorf("flows --run %s (%s):\n%s", id, command, list)
		}
	}
	if _, errOut, code := runCustoms(t, data, "run", "--proxy", "http://"+s.proxy, "--data", data, "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit code %d, want the command's 7: %s", code, errOut)
	}
	if _, _, code := runCustoms(t, data, "run", "--data", data, "curl"); code != 2 {
		t.Errorf("no --: exit %d, want 2", code)
	}
}

// openaiSDK installs the official openai Node package once per test binary (npm, from the
// registry) and returns the path to require; "" without npm outside CI.
func openaiSDK(t *testing.T) string {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("npm is needed to install the openai SDK (.ci/run installs npm)")
		}
		t.Log("no npm: the openai SDK case is left out")
		return ""
	}
	dir := filepath.Join(os.TempDir(), "customs-test-openai-sdk")
	mod := filepath.Join(dir, "node_modules", "openai")
	if _, err := os.Stat(filepath.Join(mod, "package.json")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", dir, "openai@7")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install openai: %v\n%s", err, out)
		}
	}
	return mod
}

// TestRunIsolate: customs run --isolate puts a program that ignores every proxy variable (curl
// told --noproxy '*') in a namespace whose TCP 443 reaches customs' transparent listener: it is
// inspected, and everything is undone afterwards.
func TestRunIsolate(t *testing.T) {
	requireNetns(t)
	requireTools(t, "iptables")
	data := t.TempDir()
	probe, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	cfgPath := filepath.Join(data, "customs.yaml")
	cfg := fmt.Sprintf("transparent: 0.0.0.0:%d\nallow_clients: [127.0.0.1, \"::1\", 10.213.128.0/17]\n", port)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	upAddr, upCA := fakeVendor(t)
	s := startCustoms(t, "--config", cfgPath, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	out, errOut, code := runCustoms(t, data, "run", "--isolate", "--config", cfgPath, "--data", data, "--",
		"curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", "api.openai.com:443:203.0.113.10",
		"https://api.openai.com/v1/models")
	m := regexp.MustCompile(`customs run ([0-9a-f]{16}): curl isolated, from (10\.213\.\d+\.\d+)`).FindStringSubmatch(errOut)
	if code != 0 || out != "200" || m == nil {
		t.Fatalf("run --isolate: exit %d %q\n%s", code, out, errOut)
	}
	// The namespace's connections carry no proxy user name: serve knows the run by the
	// namespace's address.
	var list string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		list, _, _ = runCustoms(t, data, "flows", "--run", m[1], "--json", "--data", data, "--admin", s.admin)
		if strings.Contains(list, `"host":"api.openai.com"`) {
			break
		}
	}
	if !strings.Contains(list, `"mode":"intercepted"`) || !strings.Contains(list, `"host":"api.openai.com"`) ||
		!strings.Contains(list, `"client":"`+m[2]) || !strings.Contains(list, `"command":"curl"`) {
		t.Fatalf("no intercepted flow of run %s from %s:\n%s", m[1], m[2], list)
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "isolated")); len(entries) != 0 {
		t.Errorf("the run's tag was left behind: %v", entries)
	}
	// Undone: no namespace, no rule left.
	if out, _ := exec.Command("ip", "netns", "list").CombinedOutput(); strings.Contains(string(out), "custrun") {
		t.Errorf("namespace left behind: %s", out)
	}
	if out, _ := exec.Command("iptables", "-t", "nat", "-S").CombinedOutput(); strings.Contains(string(out), "crun") {
		t.Errorf("firewall rules left behind:\n%s", out)
	}
}

// TestRunJava: a JVM program under customs run, with nothing but JAVA_TOOL_OPTIONS: both of
// Java's HTTP clients (HttpURLConnection, and java.net.http with the default proxy selector, as
// OkHttp-based SDKs use it) reach the vendor through customs and trust it through the PKCS#12
// trust store customs run writes. The JVM sends no proxy credentials unless a proxy asks, so
// customs run hands it a relay that adds them: its flows carry the run's tag.
func TestRunJava(t *testing.T) {
	java, errJava := exec.LookPath("java")
	_, errJavac := exec.LookPath("javac") // the source launcher (java Main.java) needs the compiler
	if errJava != nil || errJavac != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("a JDK is needed (.ci/run installs default-jdk-headless)")
		}
		t.Skip("no JDK")
	}
	data := t.TempDir()
	upAddr, upCA := fakeVendor(t)
	s := startCustoms(t, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	src := filepath.Join(t.TempDir(), "Main.java")
	if err := os.WriteFile(src, []byte(`import java.net.*;
import java.net.http.*;

public class Main {
    public static void main(String[] args) throws Exception {
        HttpURLConnection c = (HttpURLConnection) new URI(args[0]).toURL().openConnection();
        System.out.println(c.getResponseCode());
        HttpClient h = HttpClient.newBuilder().proxy(ProxySelector.getDefault()).build();
        HttpResponse<String> r = h.send(HttpRequest.newBuilder(new URI(args[1])).build(), HttpResponse.BodyHandlers.ofString());
        System.out.println(r.statusCode());
    }
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCustoms(t, data, "run", "--proxy", "http://"+s.proxy, "--data", data, "--",
		java, src, "https://api.deepseek.com/v1/models", "https://api.deepseek.com/v1/models?via=httpclient")
	if code != 0 || out != "200\n200\n" {
		t.Fatalf("customs run java: exit %d %q\n%s", code, out, errOut)
	}
	m := runLine.FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no run line: %s", errOut)
	}
	var list string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		list, _, _ = runCustoms(t, data, "flows", "--run", m[1], "--json", "--data", data, "--admin", s.admin)
		if strings.Count(list, `"mode":"intercepted"`) == 2 {
			break
		}
	}
	if strings.Count(list, `"mode":"intercepted"`) != 2 || strings.Count(list, `"status":200`) != 2 ||
		strings.Count(list, `"host":"api.deepseek.com"`) != 2 || strings.Count(list, `"command":"java"`) != 2 {
		t.Fatalf("flows of the JVM's run %s:\n%s", m[1], list)
	}
}
