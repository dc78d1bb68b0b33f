// Command loadtest measures customs the way a user would size it: three processes on loopback —
// this load generator, the proxy under test and a TLS upstream answering as a vendor — and the
// same load through a bare goproxy MITM process (same CA, no pipeline) as the baseline, in
// interleaved rounds so that the noise of a shared machine falls on every setup alike.
//
//	go run ./internal/loadtest/cmd/loadtest run -customs bin/customs [-rounds 6] [-window 2s]
//
// customs runs as `customs serve` with its defaults (the default pack, the flow log to a file,
// every flow recorded in the encrypted store); -setups adds "customs-nostore" (store.enabled:
// false), and -customs-env KEY=VALUE sets a variable for customs only (GOGC=200, to compare).
// For each setup the table gives requests per second, p50 and p99 latency and the CPU the
// proxy process alone spent per request (from /proc/PID/stat), each the median over rounds,
// and the per-round ratios to goproxy. The upstream and goproxy modes are this same
// program, started as subprocesses.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/customs-dev/customs/internal/loadtest"
	"github.com/customs-dev/customs/proxy/ca"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadtest run|upstream|goproxy [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "upstream":
		err = upstreamCmd(os.Args[2:])
	case "goproxy":
		err = goproxyCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (run, upstream, goproxy)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// upstreamCmd serves any host name over TLS with a CA of its own, created in -dir, and prints
// its address on the first line of stdout.
func upstreamCmd(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	dir := fs.String("dir", "", "directory for the upstream's CA (ca.pem)")
	_ = fs.Parse(args)
	upCA, err := ca.Create(*dir)
	if err != nil {
		return err
	}
	leaves := ca.NewLeaves(upCA, ca.LeafOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{
		Handler:   http.HandlerFunc(loadtest.Vendor),
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return leaves.Get(h.ServerName) }},
		// HTTP/1.1, as the README's figures: an empty TLSNextProto turns HTTP/2 off.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	return srv.ServeTLS(ln, "", "")
}

// goproxyCmd is the baseline: goproxy's own MITM with the CA in -ca (ca.pem, ca-key.pem), an
// ECDSA leaf cache and a pooled transport that verifies the upstream against -upstream-ca and
// dials -upstream for every host. It prints its address on the first line of stdout.
func goproxyCmd(args []string) error {
	fs := flag.NewFlagSet("goproxy", flag.ExitOnError)
	caDir := fs.String("ca", "", "directory of the MITM CA (ca.pem, ca-key.pem)")
	upstream := fs.String("upstream", "", "address every host is dialled at")
	upCA := fs.String("upstream-ca", "", "PEM file of the upstream's CA")
	_ = fs.Parse(args)
	mitmCA, err := ca.Load(*caDir)
	if err != nil {
		return err
	}
	roots, err := certPool(*upCA)
	if err != nil {
		return err
	}
	leaves := ca.NewLeaves(mitmCA, ca.LeafOptions{})
	gp := loadtest.BareGoproxy(leaves.Get, &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		MaxIdleConnsPerHost: 256,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, *upstream)
		},
	}, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return (&http.Server{Handler: gp}).Serve(ln)
}

func certPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", file)
	}
	return pool, nil
}

// customsEnv is -customs-env: variables for the customs processes only.
var customsEnv envList

type envList []string

func (e *envList) String() string     { return strings.Join(*e, ",") }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

// setup is one proxy process under load.
type setup struct {
	name string
	addr string
	cmd  *exec.Cmd
	// per round
	rps, p50, p99, cpuPerReq []float64
	errors                   int
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	customsBin := fs.String("customs", "bin/customs", "the customs binary")
	rounds := fs.Int("rounds", 6, "interleaved rounds")
	window := fs.Duration("window", 2*time.Second, "load time per setup and round")
	concurrency := fs.Int("concurrency", 16, "requests in flight")
	bodySize := fs.Int("body", 4096, "request body bytes (an OpenAI chat completion)")
	sse := fs.Int("sse", 0, "answer as an event stream of N events of about 1 KiB (0: a JSON answer)")
	setups := fs.String("setups", "goproxy,customs", "setups, in round order: goproxy, customs (serve's defaults, store on), customs-nostore, customs-fleet (store on, every flow published to -nats)")
	natsURL := fs.String("nats", "", "customs-fleet: the NATS server (JetStream on) the fleet publishes to")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	fs.Var(&customsEnv, "customs-env", "KEY=VALUE added to customs' environment (repeatable), e.g. GOGC=200")
	_ = fs.Parse(args)
	if *rounds < 1 || *rounds > 100 || *window <= 0 || *window > time.Minute || *concurrency < 1 || *concurrency > 1024 {
		return errors.New("rounds 1-100, window up to 1m, concurrency 1-1024")
	}
	bin, err := filepath.Abs(*customsBin)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "customs-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}()
	start := func(name string, args ...string) (*exec.Cmd, string, error) {
		cmd := exec.Command(name, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, "", err
		}
		if err := cmd.Start(); err != nil {
			return nil, "", err
		}
		procs = append(procs, cmd)
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			return nil, "", fmt.Errorf("%s %s: no address: %w", name, args[0], err)
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
		return cmd, strings.TrimSpace(line), nil
	}
	_, upAddr, err := start(self, "upstream", "-dir", filepath.Join(tmp, "up"))
	if err != nil {
		return err
	}
	upCAFile := filepath.Join(tmp, "up", "ca.pem")
	data := filepath.Join(tmp, "customs")
	if out, err := exec.Command(bin, "ca", "init", "--data", data).CombinedOutput(); err != nil {
		return fmt.Errorf("customs ca init: %v\n%s", err, out)
	}
	var ss []*setup
	for _, name := range strings.Split(*setups, ",") {
		s := &setup{name: name}
		switch name {
		case "goproxy":
			s.cmd, s.addr, err = start(self, "goproxy", "-ca", data, "-upstream", upAddr, "-upstream-ca", upCAFile)
		case "customs", "customs-nostore", "customs-fleet":
			s.cmd, s.addr, err = startCustoms(bin, tmp, data, name, upAddr, upCAFile, *natsURL)
			if s.cmd != nil {
				procs = append(procs, s.cmd)
			}
		default:
			err = fmt.Errorf("unknown setup %q", name)
		}
		if err != nil {
			return err
		}
		ss = append(ss, s)
	}

	roots, err := certPool(filepath.Join(data, "ca.pem"))
	if err != nil {
		return err
	}
	target := "https://api.openai.com/v1/chat/completions"
	if *sse > 0 {
		target += "?sse=" + strconv.Itoa(*sse)
	}
	body := chatBody(*bodySize)
	clients := map[string]*http.Client{}
	for _, s := range ss {
		clients[s.name] = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			Proxy:               http.ProxyURL(&url.URL{Scheme: "http", Host: s.addr}),
			TLSClientConfig:     &tls.Config{RootCAs: roots},
			MaxIdleConnsPerHost: *concurrency * 2,
		}}
		loadtest.Load(clients[s.name], target, body, 500*time.Millisecond, *concurrency, nil) // warm pools and leaf caches
	}
	for range *rounds {
		for _, s := range ss {
			cpu0, err := procCPU(s.cmd.Process.Pid)
			if err != nil {
				return err
			}
			r := loadtest.Load(clients[s.name], target, body, *window, *concurrency, nil)
			cpu1, err := procCPU(s.cmd.Process.Pid)
			if err != nil {
				return err
			}
			s.errors += r.Errors
			if r.N == 0 {
				return fmt.Errorf("%s: no request succeeded (%d errors, first: %v)", s.name, r.Errors, r.FirstErr)
			}
			s.rps = append(s.rps, float64(r.N)/r.Elapsed.Seconds())
			s.p50 = append(s.p50, ms(r.Percentile(0.50)))
			s.p99 = append(s.p99, ms(r.Percentile(0.99)))
			s.cpuPerReq = append(s.cpuPerReq, float64((cpu1-cpu0).Microseconds())/float64(r.N))
		}
	}
	return report(os.Stdout, ss, *jsonOut, *rounds, *window, *concurrency, *bodySize, *sse)
}

// startCustoms runs customs serve with its defaults, the flow log to a file, every host
// resolved to the upstream; "customs-nostore" turns the store off with a config file, and
// "customs-fleet" publishes every flow to the fleet at natsURL.
func startCustoms(bin, tmp, data, name, upAddr, upCAFile, natsURL string) (*exec.Cmd, string, error) {
	logFile := filepath.Join(tmp, name+".log")
	args := []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "off", "--log-file", logFile,
		"--resolve", "api.openai.com=" + upAddr, "--upstream-ca", upCAFile}
	if name != "customs" {
		var cfgText string
		switch name {
		case "customs-nostore":
			cfgText = "store:\n  enabled: false\n"
		case "customs-fleet":
			if natsURL == "" {
				return nil, "", errors.New("customs-fleet needs -nats nats://HOST:PORT (a server with JetStream on)")
			}
			key := filepath.Join(tmp, "fleet.key")
			if out, err := exec.Command(bin, "fleet", "keygen", key).CombinedOutput(); err != nil {
				return nil, "", fmt.Errorf("customs fleet keygen: %v\n%s", err, out)
			}
			cfgText = fmt.Sprintf("fleet:\n  servers: [%q]\n  site: loadtest\n  key_file: %q\n", natsURL, key)
		}
		cfg := filepath.Join(tmp, name+".yaml")
		if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
			return nil, "", err
		}
		// A data directory of its own: the store's lock belongs to the first customs.
		nd := filepath.Join(tmp, name)
		if err := os.MkdirAll(nd, 0o700); err != nil {
			return nil, "", err
		}
		for _, f := range []string{"ca.pem", "ca-key.pem"} {
			b, err := os.ReadFile(filepath.Join(data, f))
			if err != nil {
				return nil, "", err
			}
			if err := os.WriteFile(filepath.Join(nd, f), b, 0o600); err != nil {
				return nil, "", err
			}
		}
		args[2] = nd
		args = append(args, "--config", cfg)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), customsEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if addr := listeningAddr(logFile); addr != "" {
			return cmd, addr, nil
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, "", fmt.Errorf("%s did not start: %s", name, stderr.String())
}

// listeningAddr reads the proxy address from customs' "customs listening" log line.
func listeningAddr(logFile string) string {
	f, err := os.Open(logFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m struct{ Message, Listen string }
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Message == "customs listening" {
			return m.Listen
		}
	}
	return ""
}

// chatBody is an OpenAI chat completion request of about n bytes of ordinary prose.
func chatBody(n int) []byte {
	prose := strings.Repeat("Summarise the quarterly planning notes for the team and list the open questions. ", n/80+1)
	prefix, suffix := `{"model":"gpt-4o","messages":[{"role":"user","content":"`, `"}]}`
	return []byte(prefix + prose[:max(0, n-len(prefix)-len(suffix))] + suffix)
}

// procCPU is the user and system CPU time a process has used, from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("process CPU (Linux /proc only): %w", err)
	}
	// The command name may hold spaces: fields count from the last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func minmax(xs []float64) (float64, float64) { return slices.Min(xs), slices.Max(xs) }

// report prints the medians per setup and the per-round ratios to goproxy.
func report(w io.Writer, ss []*setup, asJSON bool, rounds int, window time.Duration, concurrency, bodySize, sse int) error {
	var base *setup
	for _, s := range ss {
		if s.name == "goproxy" {
			base = s
		}
	}
	type row struct {
		Setup              string  `json:"setup"`
		ReqPerSec          float64 `json:"req_per_sec"`
		P50ms              float64 `json:"p50_ms"`
		P99ms              float64 `json:"p99_ms"`
		CPUPerRequestUs    float64 `json:"proxy_cpu_us_per_request"`
		Errors             int     `json:"errors"`
		RatioThroughput    float64 `json:"ratio_throughput,omitempty"`
		RatioThroughputMin float64 `json:"ratio_throughput_min,omitempty"`
		RatioThroughputMax float64 `json:"ratio_throughput_max,omitempty"`
		RatioCPU           float64 `json:"ratio_cpu,omitempty"`
	}
	var rows []row
	for _, s := range ss {
		r := row{Setup: s.name, ReqPerSec: median(s.rps), P50ms: median(s.p50), P99ms: median(s.p99), CPUPerRequestUs: median(s.cpuPerReq), Errors: s.errors}
		if base != nil && s != base {
			var tr, cr []float64
			for i := range s.rps {
				tr = append(tr, s.rps[i]/base.rps[i])
				cr = append(cr, base.cpuPerReq[i]/s.cpuPerReq[i])
			}
			r.RatioThroughput, r.RatioCPU = median(tr), median(cr)
			r.RatioThroughputMin, r.RatioThroughputMax = minmax(tr)
		}
		rows = append(rows, r)
	}
	if asJSON {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(rows)
	}
	fmt.Fprintf(w, "%d rounds of %v per setup, %d requests in flight, %d-byte chat POSTs", rounds, window, concurrency, bodySize)
	if sse > 0 {
		fmt.Fprintf(w, ", %d-event streamed answers", sse)
	}
	fmt.Fprintf(w, "; three processes (load generator, proxy, upstream) on loopback\n\n")
	fmt.Fprintf(w, "| setup | req/s | p50 | p99 | proxy CPU per request | errors | vs goproxy: throughput (rounds) | by CPU |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		ratio := "–"
		cpu := "–"
		if r.RatioThroughput > 0 {
			ratio = fmt.Sprintf("%.2f× (%.2f–%.2f)", r.RatioThroughput, r.RatioThroughputMin, r.RatioThroughputMax)
			cpu = fmt.Sprintf("%.2f×", r.RatioCPU)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.2f ms | %.2f ms | %.0f µs | %d | %s | %s |\n", r.Setup, r.ReqPerSec, r.P50ms, r.P99ms, r.CPUPerRequestUs, r.Errors, ratio, cpu)
	}
	return nil
}
