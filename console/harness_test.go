package console_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customs-dev/customs/proxy/ca"
)

var update = flag.Bool("update", false, "rewrite the reviewed screenshots in testdata/screenshots")

// chromium is the browser the browser tests drive (Debian package "chromium").
const chromium = "/usr/bin/chromium"

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// customsBinary builds the real customs once for the tests that run it.
func customsBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "customs-console-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "customs")
		if out, err := exec.Command("go", "build", "-o", binary, "github.com/customs-dev/customs/cmd/customs").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build customs: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// served is a running customs serve.
type served struct {
	cmd         *exec.Cmd
	proxy       string
	admin       string
	data        string
	token       string
	mu          sync.Mutex
	lines       []map[string]any
	exited      chan error
	vendorCA    string
	vendorAddr  string
	ProxyCAFile string
}

// startServe runs customs serve with its own data directory and a fake vendor behind every
// host name, and waits until it listens.
func startServe(t *testing.T, config string) *served {
	t.Helper()
	bin := customsBinary(t)
	data := t.TempDir()
	addr, vendorCA := fakeVendor(t)
	args := []string{"serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--data", data,
		"--resolve", "*=" + addr, "--upstream-ca", vendorCA}
	if config != "" {
		file := filepath.Join(data, "customs.yaml")
		if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", file)
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, data: data, exited: make(chan error, 1), vendorCA: vendorCA, vendorAddr: addr,
		ProxyCAFile: filepath.Join(data, ca.CertFile)}
	listening := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
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
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})
	select {
	case m := <-listening:
		s.proxy, s.admin = m["listen"].(string), m["admin"].(string)
	case err := <-s.exited:
		t.Fatalf("customs serve exited: %v: %v", err, s.logLines())
	case <-time.After(20 * time.Second):
		t.Fatalf("customs did not start: %v", s.logLines())
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	s.token = strings.TrimSpace(string(tok))
	return s
}

func (s *served) logLines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.lines...)
}

// waitFlows waits until the store holds n flows (serve writes them in batches).
func (s *served) waitFlows(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var got struct {
			Flows []map[string]any `json:"flows"`
		}
		status := s.getJSON(t, "/ui/api/flows?since=1h&limit=1000", s.token, &got)
		if status == 200 && len(got.Flows) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store holds %d flows, want %d (status %d)", len(got.Flows), n, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getJSON GETs an admin path with the token (when not empty) and decodes its JSON.
func (s *served) getJSON(t *testing.T, path, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.admin+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// client sends requests through the proxy from the local address from (127.0.0.x: another
// client of the map).
func (s *served) client(t *testing.T, from string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(s.ProxyCAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	d := &net.Dialer{Timeout: 10 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: s.proxy}),
		DialContext:     d.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
}

// send POSTs body to url through c and returns the status.
func send(t *testing.T, c *http.Client, u, contentType, body string) int {
	t.Helper()
	resp, err := c.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// fakeVendor answers every host over TLS with certificates of its own CA (for --upstream-ca),
// like a chat API.
func fakeVendor(t *testing.T) (addr, caFile string) {
	t.Helper()
	dir := t.TempDir()
	upCA, err := ca.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	leaves := ca.NewLeaves(upCA, ca.LeafOptions{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-11-20","choices":[{"message":{"role":"assistant","content":"ok"}}]}`)
	}))
	srv.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return leaves.Get(h.ServerName) }}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), filepath.Join(dir, ca.CertFile)
}

// ---- screenshots ----------------------------------------------------------------------------

// checkScreenshot compares a screenshot with the reviewed one in testdata/screenshots, loosely:
// the same size, and the mean difference of a coarse grid of average colours under a
// threshold, so that times, IDs and font hinting do not count but a page that lost its layout,
// a table or the map does. -update rewrites the file.
func checkScreenshot(t *testing.T, name string, shot []byte) {
	t.Helper()
	path := filepath.Join("testdata", "screenshots", name+".png")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	a, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	b, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Errorf("screenshot %s: size %v, the reviewed one is %v", name, b.Bounds().Size(), a.Bounds().Size())
		return
	}
	if d := gridDifference(a, b, 32, 24); d > screenshotThreshold {
		got := filepath.Join(t.TempDir(), name+".png")
		_ = os.WriteFile(got, shot, 0o644)
		t.Errorf("screenshot %s differs from the reviewed one by %.3f (threshold %.3f); this run's is %s (-update to accept it)", name, d, screenshotThreshold, got)
	} else {
		t.Logf("screenshot %s: difference %.5f", name, d)
	}
}

// screenshotThreshold is the largest mean grid difference (0: same, 1: black against white)
// accepted. Two runs of the same page differ by less than 0.0005 (times, IDs); two different
// pages of the console by 0.0076 (a flow's top and its body) to 0.086; the flow list without
// its rows against the login form by 0.012.
const screenshotThreshold = 0.006

// gridDifference averages each image over a cols × rows grid and returns the mean absolute
// difference of the cells' colours, from 0 to 1.
func gridDifference(a, b image.Image, cols, rows int) float64 {
	ga, gb := grid(a, cols, rows), grid(b, cols, rows)
	sum := 0.0
	for i := range ga {
		d := ga[i] - gb[i]
		if d < 0 {
			d = -d
		}
		sum += d
	}
	return sum / float64(len(ga))
}

func grid(img image.Image, cols, rows int) []float64 {
	r := img.Bounds()
	out := make([]float64, cols*rows*3)
	counts := make([]float64, cols*rows)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		cy := (y - r.Min.Y) * rows / r.Dy()
		for x := r.Min.X; x < r.Max.X; x++ {
			cx := (x - r.Min.X) * cols / r.Dx()
			R, G, B, _ := img.At(x, y).RGBA()
			k := cy*cols + cx
			out[3*k] += float64(R) / 0xffff
			out[3*k+1] += float64(G) / 0xffff
			out[3*k+2] += float64(B) / 0xffff
			counts[k]++
		}
	}
	for k, n := range counts {
		for c := range 3 {
			out[3*k+c] /= n
		}
	}
	return out
}
