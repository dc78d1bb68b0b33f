package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/golden"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/proxy/ca"
)

// binary is the real customs binary, built once for these tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "customs-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "customs")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build customs: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runCustoms(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestCAInitAndExport(t *testing.T) {
	data := t.TempDir()
	out, errOut, code := runCustoms(t, data, "ca", "init", "--data", data)
	if code != 0 || !strings.Contains(out, "ca.pem") {
		t.Fatalf("ca init: exit %d\n%s%s", code, out, errOut)
	}
	st, err := os.Stat(filepath.Join(data, "ca-key.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, err %v", st.Mode(), err)
	}
	pemOut, _, code := runCustoms(t, data, "ca", "export", "--data", data)
	want, _ := os.ReadFile(filepath.Join(data, "ca.pem"))
	if code != 0 || pemOut != string(want) {
		t.Fatalf("ca export: exit %d, output differs from ca.pem", code)
	}
	if _, errOut, code := runCustoms(t, data, "ca", "init", "--data", data); code != 2 || !strings.Contains(errOut, "exist") {
		t.Fatalf("second ca init: exit %d %s", code, errOut)
	}
	if _, _, code := runCustoms(t, data, "ca", "frobnicate"); code != 2 {
		t.Fatalf("unknown ca subcommand: exit %d, want 2", code)
	}
}

func TestServeRefusesReadableCAKey(t *testing.T) {
	data := t.TempDir()
	if _, _, code := runCustoms(t, data, "ca", "init", "--data", data); code != 0 {
		t.Fatal("ca init failed")
	}
	key := filepath.Join(data, "ca-key.pem")
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		if err := os.Chmod(key, mode); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := runCustoms(t, data, "serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "off")
		if code != 2 || !strings.Contains(errOut, "chmod 600") || !strings.Contains(errOut, key) {
			t.Errorf("mode %o: exit %d, stderr %q", mode, code, errOut)
		}
	}
}

// Configuration errors exit 2 with file:line:col messages; golden files hold the stderr.
func TestServeConfigErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/config/*.yaml")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			_, errOut, code := runCustoms(t, "testdata/config", "serve", "--config", filepath.Base(file), "--data", t.TempDir())
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte(errOut))
		})
	}
}

// --log-file sends the JSON log to a file (0600) instead of stderr.
func TestServeLogFile(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "customs.log")
	cmd := exec.Command(binary, "serve", "--data", dir, "--listen", "127.0.0.1:0", "--admin", "off", "--log-file", logFile, "--log-level", "debug")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(logFile)
		if bytes.Contains(b, []byte(`"message":"customs listening"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line in %s: %q (stderr %q)", logFile, b, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
	if st, _ := os.Stat(logFile); st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v", st.Mode().Perm())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr not empty with --log-file: %q", stderr.String())
	}
}

// A second SIGTERM stops waiting for a drain that would otherwise run its full course.
func TestSecondSignalSkipsDrain(t *testing.T) {
	upAddr, upCA := fakeVendor(t)
	data := t.TempDir()
	s := startCustoms(t, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
	go func() {
		if r, err := c.Get("https://api.openai.com/v1/models?sleep=20s"); err == nil {
			r.Body.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	s.waitLine(t, map[string]any{"message": "shutting down: draining requests in flight"})
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("customs still draining after a second SIGTERM")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"serve", "--no-such-flag"}, {"serve", "--resolve", "no-equals"}, {"serve", "--intercept", "some"}} {
		if _, errOut, code := runCustoms(t, t.TempDir(), args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// servedCustoms is a running customs serve process.
type servedCustoms struct {
	cmd    *exec.Cmd
	proxy  string
	admin  string
	mu     sync.Mutex
	lines  []map[string]any
	exited chan error
}

func (s *servedCustoms) logLines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.lines...)
}

// waitLine waits for a log line whose fields include want.
func (s *servedCustoms) waitLine(t *testing.T, want map[string]any) map[string]any {
	t.Helper()
	return s.waitLineWithin(t, want, 10*time.Second)
}

// waitLineWithin is waitLine with its own bound.
func (s *servedCustoms) waitLineWithin(t *testing.T, want map[string]any, d time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, l := range s.logLines() {
			ok := true
			for k, v := range want {
				if fmt.Sprint(l[k]) != fmt.Sprint(v) {
					ok = false
				}
			}
			if ok {
				return l
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %v; have %v", want, s.logLines())
	return nil
}

func startCustoms(t *testing.T, args ...string) *servedCustoms {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &servedCustoms{cmd: cmd, exited: make(chan error, 1)}
	listening := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"unparsed": sc.Text()}
			}
			s.mu.Lock()
			s.lines = append(s.lines, m)
			s.mu.Unlock()
			if m["message"] == "customs listening" {
				listening <- m
			}
		}
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case m := <-listening:
		s.proxy, s.admin = m["listen"].(string), m["admin"].(string)
	case <-time.After(15 * time.Second):
		t.Fatalf("customs did not start: %v", s.logLines())
	}
	return s
}

// fakeVendor serves any host name over TLS with certificates from its own CA, written to a file
// for --upstream-ca.
func fakeVendor(t *testing.T) (addr, caFile string) {
	addr, caFile, _ = fakeVendorRecording(t)
	return addr, caFile
}

// fakeVendorRecording is fakeVendor that also returns what it received: each request's path,
// Content-Encoding and body as sent (still encoded).
func fakeVendorRecording(t *testing.T) (addr, caFile string, received func() []receivedRequest) {
	dir := t.TempDir()
	upCA, err := ca.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []receivedRequest
	leaves := ca.NewLeaves(upCA, ca.LeafOptions{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, receivedRequest{host: r.Host, uri: r.URL.RequestURI(), encoding: r.Header.Get("Content-Encoding"),
			length: r.ContentLength, body: b})
		mu.Unlock()
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if m := r.URL.Query().Get("served_model"); m != "" {
			// The answer names the model that served it, as vendors' answers do.
			_, _ = io.WriteString(w, `{"object":"chat.completion","model":`+strconv.Quote(m)+`,"choices":[]}`)
			return
		}
		_, _ = io.WriteString(w, `{"object":"chat.completion","choices":[]}`)
	}))
	srv.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return leaves.Get(h.ServerName) }}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), filepath.Join(dir, ca.CertFile), func() []receivedRequest {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

type receivedRequest struct {
	host, uri, encoding string
	length              int64
	body                []byte
}

func proxyClient(t *testing.T, proxyAddr, caFile string) *http.Client {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: proxyAddr}),
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
}

// The real binary: first start creates the CA, a request through it is logged with every field
// the README documents, the embedded policy pack blocks a credential bound for OpenAI (in
// OpenAI's error shape, with nothing sent upstream), the admin endpoints answer, and SIGTERM
// drains a request in flight and exits 0.
func TestServeEndToEnd(t *testing.T) {
	upAddr, upCA, received := fakeVendorRecording(t)
	data := t.TempDir()
	s := startCustoms(t, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	s.waitLine(t, map[string]any{"message": "created interception CA; clients must trust this file"})
	s.waitLine(t, map[string]any{"message": "rules loaded", "from": "the embedded default pack"})
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))

	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"deploy with AKIAZ7VQ3KXJ5N2WPLMR"}]}`
	resp, err := c.Post("https://api.openai.com/v1/chat/completions?key=sk-should-not-be-logged", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var oai struct {
		Error struct{ Message, Type, Code string }
	}
	if err := json.Unmarshal(answer, &oai); err != nil || resp.StatusCode != http.StatusForbidden ||
		oai.Error.Type != "customs_policy_violation" || oai.Error.Code != "block-secrets-to-ai" ||
		!strings.Contains(oai.Error.Message, "secret.aws-access-key-id") || strings.Contains(string(answer), "AKIAZ7VQ3KXJ5N2WPLMR") {
		t.Fatalf("blocked answer: %d %s", resp.StatusCode, answer)
	}
	if got := received(); len(got) != 0 {
		t.Fatalf("a blocked request reached the vendor: %+v", got)
	}
	line := s.waitLine(t, map[string]any{"message": "flow", "host": "api.openai.com"})
	for _, k := range []string{"time", "level", "type", "flow_id", "client", "host", "method", "path", "status", "bytes_out", "bytes_in",
		"duration_ms", "vendor", "category", "mode", "action", "policy", "reason", "findings"} {
		if _, ok := line[k]; !ok {
			t.Errorf("flow log line lacks %q: %v", k, line)
		}
	}
	if line["vendor"] != "openai" || line["mode"] != "intercepted" || line["path"] != "/v1/chat/completions" || line["bytes_out"] != float64(0) ||
		line["api"] != "openai.chat" || line["action"] != "block" || line["status"] != float64(403) {
		t.Errorf("flow line %v", line)
	}
	// The detectors ran: the key is a masked finding at its path, and nowhere in clear.
	fs, _ := line["findings"].([]any)
	var aws map[string]any
	for _, x := range fs {
		if m, ok := x.(map[string]any); ok && m["detector"] == "secret.aws-access-key-id" {
			aws = m
		}
	}
	if aws == nil || aws["path"] != "messages[0].content" || aws["preview"] != "AKIA************PLMR" || !strings.HasPrefix(fmt.Sprint(aws["hash"]), "hmac-sha256:") {
		t.Errorf("finding %v in %v", aws, fs)
	}
	s.waitLine(t, map[string]any{"message": "alert", "type": "alert", "action": "block", "policy": "block-secrets-to-ai", "flow_id": line["flow_id"]})
	if st, err := os.Stat(filepath.Join(data, "finding.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("finding.key: %v %v", st, err)
	}
	for _, l := range s.logLines() {
		if b, _ := json.Marshal(l); strings.Contains(string(b), "sk-should-not-be-logged") || strings.Contains(string(b), "AKIAZ7VQ3KXJ5N2WPLMR") {
			t.Errorf("query string secret logged: %s", b)
		}
	}

	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": `customs_flows_total{action="block",category="ai-provider",mode="intercepted",vendor="openai"} 1`,
	} {
		r, err := http.Get("http://" + s.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: status %d, body lacks %q", path, r.StatusCode, want)
		}
	}

	// SIGTERM while a slow request is in flight: it completes, then customs exits 0.
	done := make(chan error, 1)
	go func() {
		r, err := c.Get("https://api.openai.com/v1/models?sleep=700ms")
		if err == nil {
			_, err = io.ReadAll(r.Body)
			r.Body.Close()
			if err == nil && r.StatusCode != 200 {
				err = fmt.Errorf("status %d", r.StatusCode)
			}
		}
		done <- err
	}()
	time.Sleep(250 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("request in flight during SIGTERM: %v", err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			t.Errorf("customs exited with %v, want 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("customs did not exit after SIGTERM")
	}
	s.waitLine(t, map[string]any{"message": "customs stopped"})
}

// The example configuration in the repository root is valid as shipped.
func TestExampleConfigLoads(t *testing.T) {
	cfg, err := config.Load("../../customs.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	def := config.Default()
	if cfg.Listen != def.Listen || cfg.Body.InspectLimit != def.Body.InspectLimit || cfg.Intercept != def.Intercept {
		t.Errorf("example config drifted from the defaults it documents: %+v", cfg)
	}
}

// proxy_auth users from the config file are enforced by the real binary and named on flow lines.
func TestServeProxyAuthFromConfig(t *testing.T) {
	upAddr, upCA := fakeVendor(t)
	data := t.TempDir()
	cfgFile := filepath.Join(data, "customs.yaml")
	// sha256("s3cret")
	cfg := "proxy_auth:\n  users:\n    - name: alice\n      password_sha256: 1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startCustoms(t, "--config", cfgFile, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	for _, tt := range []struct {
		user *url.Userinfo
		want int
	}{{nil, 407}, {url.UserPassword("alice", "wrong"), 407}, {url.UserPassword("alice", "s3cret"), 200}} {
		c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
		c.Transport.(*http.Transport).Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: s.proxy, User: tt.user})
		status := 0
		resp, err := c.Get("https://api.openai.com/v1/models")
		switch {
		case err == nil:
			status = resp.StatusCode
			resp.Body.Close()
		case strings.Contains(err.Error(), "Proxy Authentication Required"):
			status = 407
		default:
			t.Fatal(err)
		}
		if status != tt.want {
			t.Errorf("user %v: status %d, want %d", tt.user, status, tt.want)
		}
	}
	s.waitLine(t, map[string]any{"message": "flow", "user": "alice", "status": 200})
	s.waitLine(t, map[string]any{"message": "flow", "policy": "proxy_auth", "status": 407})
}

// customs scan prints masked findings for text, a JSON body or a raw HTTP request (golden), never
// the values, and --fail exits 1 when anything is found.
func TestScan(t *testing.T) {
	files, _ := filepath.Glob("testdata/scan/*")
	var inputs []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden") && !strings.HasSuffix(f, ".yaml") {
			inputs = append(inputs, f)
		}
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/scan inputs")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			out, errOut, code := runCustoms(t, "testdata/scan", "scan", filepath.Base(in), "--config", "codenames.yaml")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden.Check(t, strings.TrimSuffix(in, filepath.Ext(in))+".golden", []byte(out))
			for _, secret := range []string{"AKIAZ7VQ3KXJ5N2WPLMR", "Tr0ub4dor-prod-77", "xoxb-4829301742-5839201847362-Qz7KpR2mXw9LbN4vTc8YhJ3d"} {
				if strings.Contains(out, secret) {
					t.Errorf("scan printed a detected value in clear: %s", secret)
				}
			}
		})
	}
	// JSON lines and --fail.
	out, _, code := runCustoms(t, "testdata/scan", "scan", "prose.txt", "--json", "--fail", "--config", "codenames.yaml")
	if code != 1 {
		t.Errorf("--fail with findings: exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		var m map[string]any
		if i == len(lines)-1 {
			// The last line is the verdict of the policies in force (the embedded pack).
			if err := json.Unmarshal([]byte(l), &m); err != nil || m["verdict"] == nil {
				t.Errorf("bad JSON verdict line %q: %v", l, err)
			}
			continue
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["detector"] == nil || !strings.HasPrefix(fmt.Sprint(m["hash"]), "hmac-sha256:") {
			t.Errorf("bad JSON finding line %q: %v", l, err)
		}
	}
	if _, _, code := runCustoms(t, "testdata/scan", "scan", "clean.txt", "--fail"); code != 0 {
		t.Errorf("--fail without findings: exit %d, want 0", code)
	}
	if _, errOut, code := runCustoms(t, "testdata/scan", "scan", "missing.txt"); code != 2 || errOut == "" {
		t.Errorf("missing file: exit %d", code)
	}
}

// The published test values (4111 1111 1111 1111, the documentation IBAN) are dropped unless the
// config's detection.report_test_values asks for them.
func TestScanTestValues(t *testing.T) {
	for _, cfg := range []string{"default", "report"} {
		t.Run(cfg, func(t *testing.T) {
			out, errOut, code := runCustoms(t, "testdata/testvalues", "scan", "input.txt", "--config", cfg+".yaml")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden.Check(t, filepath.Join("testdata/testvalues", cfg+".golden"), []byte(out))
		})
	}
}
