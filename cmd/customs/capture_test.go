package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/golden"
)

// captures are the suite's own capture files (written by the capture package's tests).
var captures = func() string { p, _ := filepath.Abs("../../testdata/captures"); return p }()

var (
	flowIDs = regexp.MustCompile(`"flow_id":"[0-9A-Z]{26}"`)
	// Without a finding key in the data directory the hashes are keyed with a one-off key.
	findingHashes = regexp.MustCompile(`"hash":"[^"]*"`)
)

// TestCaptureCommand runs the real binary over the suite's captures: the flows as JSON lines
// (flow IDs aside, which are new each run) and the summary are pinned per capture.
func TestCaptureCommand(t *testing.T) {
	for _, name := range []string{"tls-vendors.pcap", "http-mixpanel.pcap.gz", "quic-v1.pcap", "dns-no-sni.pcap", "ech-doh.pcap",
		"garbage-443.pcap", "truncated.pcap", "tls-split-hello.pcapng"} {
		t.Run(name, func(t *testing.T) {
			data := t.TempDir()
			out, errOut, code := runCustoms(t, data, "capture", filepath.Join(captures, name), "--json", "--data", data, "--no-bypass")
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			out = flowIDs.ReplaceAllString(out, `"flow_id":"ID"`)
			out = findingHashes.ReplaceAllString(out, `"hash":"H"`)
			golden.Check(t, filepath.Join("testdata", "capture", strings.SplitN(name, ".", 2)[0]+".jsonl"), []byte(out))
			// The secret in the Mixpanel event is masked in what is printed.
			if strings.Contains(out, "AKIAZ7VQ3KXJ5N2WPLMR") {
				t.Fatal("a detected secret in clear in capture's output")
			}
		})
	}
}

// TestCaptureTable: the default output, with its summary, for several files at once; a bad
// file among them is reported and the others still read.
func TestCaptureTable(t *testing.T) {
	data := t.TempDir()
	bad := filepath.Join(data, "notes.txt")
	if err := os.WriteFile(bad, []byte("this is not a capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCustoms(t, data, "capture", filepath.Join(captures, "http-mixpanel.pcap.gz"), bad,
		filepath.Join(captures, "tls-vendors.pcap"), "--data", data)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"api.mixpanel.com", "block (block-crown-jewels-to-telemetry)", "secret.aws-access-key-id",
		"api.openai.com", "t13d1312h2_", "TCP connections", "6 flows: 1 blocked", "vendors: anthropic 1, google-gemini 1, mixpanel 2, openai 1",
		"bypass not judged"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, bad) || !strings.Contains(errOut, "not a pcap or pcapng capture") {
		t.Errorf("the bad file is not named on stderr: %q", errOut)
	}
	// Only bad files: an error.
	if _, errOut, code := runCustoms(t, data, "capture", bad, "--data", data); code != 1 || !strings.Contains(errOut, "no capture could be read") {
		t.Errorf("only a bad file: exit %d, %q", code, errOut)
	}
	for _, args := range [][]string{{"capture"}, {"capture", "x.pcap", "--interface", "lo"}, {"capture", "x.pcap", "--filter", "port 80"}} {
		if _, errOut, code := runCustoms(t, data, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage): %s", args, code, errOut)
		}
	}
}

// TestCaptureStoreAndBypass: --store keeps the capture's flows, which flows then lists and
// shows; a vendor flow whose client the proxy saw in the window is not a bypass, the others
// are.
func TestCaptureStoreAndBypass(t *testing.T) {
	data := t.TempDir()
	// The captures were written on 2026-12-01: keep flows long enough for the store to hold them.
	cfgPath := filepath.Join(data, "customs.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("data: %s\nstore:\n  retention: 3650d\n", data)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy saw 10.0.0.7 a minute before the capture, never fd00::7.
	st, err := openStore(cfg, zerolog.Nop(), true)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 8, 59, 0, 0, time.UTC)
	st.Record(&flow.Flow{ID: flow.NewID(at), Start: at, End: at.Add(time.Second), Source: flow.SourceProxy, Mode: flow.Intercepted,
		Client: flow.Client{Addr: "10.0.0.7:40001"}, Host: "api.openai.com", Method: "POST", Vendor: flow.Vendor{ID: "openai"},
		Verdict: flow.Verdict{Action: flow.Allow}})
	if err := st.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A policy author's rule: AI traffic around the checkpoint is alerted on.
	rulesPath := filepath.Join(data, "shadow-ai.yaml")
	if err := os.WriteFile(rulesPath, []byte("policies:\n  - id: alert-shadow-ai\n    when: '\"bypass\" in flow.marks && flow.source == \"capture\"'\n    action: alert\n    message: AI traffic that went around the proxy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCustoms(t, data, "capture", filepath.Join(captures, "tls-vendors.pcap"), "--config", cfgPath, "--store", "--json",
		"--rules", rulesPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var bypass, judged int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var w struct {
			Client string      `json:"client"`
			Vendor wireVendor  `json:"vendor"`
			Marks  []flow.Mark `json:"marks"`
			Action string      `json:"action"`
			Policy string      `json:"policy"`
		}
		if err := json.Unmarshal([]byte(line), &w); err != nil || w.Client == "" {
			continue
		}
		isBypass := strings.Contains(fmt.Sprint(w.Marks), "bypass")
		if alerted := w.Action == "alert" && w.Policy == "alert-shadow-ai"; alerted != isBypass {
			t.Errorf("bypass %v but action %s (%s): %s", isBypass, w.Action, w.Policy, line)
		}
		switch {
		case w.Vendor.ID == "":
			if isBypass {
				t.Errorf("a flow to no vendor marked bypass: %s", line)
			}
		case strings.HasPrefix(w.Client, "10.0.0.7:"):
			judged++
			if isBypass {
				t.Errorf("the proxy saw 10.0.0.7, yet: %s", line)
			}
		default:
			judged++
			bypass++
			if !isBypass {
				t.Errorf("the proxy never saw %s, yet no bypass: %s", w.Client, line)
			}
		}
	}
	if judged != 3 || bypass != 1 {
		t.Fatalf("%d vendor flows, %d bypass; want 3 and 1:\n%s", judged, bypass, out)
	}

	// The store holds them: flows lists the capture's, flows show prints what it saw.
	list, errOut, code := runCustoms(t, data, "flows", "--config", cfgPath, "--since", "2026-11-30", "--json", "--vendor", "google-gemini")
	if code != 0 || !strings.Contains(list, `"source":"capture"`) || !strings.Contains(list, `"ja4":"t13d`) || !strings.Contains(list, "bypass") {
		t.Fatalf("flows after capture --store: exit %d\n%s%s", code, list, errOut)
	}
	var first struct {
		ID string `json:"flow_id"`
	}
	_ = json.Unmarshal([]byte(strings.SplitN(list, "\n", 2)[0]), &first)
	show, errOut, code := runCustoms(t, data, "flows", "show", first.ID, "--config", cfgPath)
	for _, want := range []string{"capture, tls", "server", "[2a00:1450:4001:82b::200a]:443", "ja4", "TLS 1.3 h2", "mark      bypass"} {
		if code != 0 || !strings.Contains(show, want) {
			t.Errorf("flows show lacks %q (exit %d):\n%s%s", want, code, show, errOut)
		}
	}
}

// TestProxySeen: the bypass check against a real store, per client and window.
func TestProxySeen(t *testing.T) {
	data := t.TempDir()
	cfg := config.Default()
	cfg.Data = data
	st, err := openStore(cfg, zerolog.Nop(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	now := time.Now().Truncate(time.Second)
	st.Record(&flow.Flow{ID: flow.NewID(now), Start: now, End: now, Source: flow.SourceProxy, Client: flow.Client{Addr: "192.168.4.20:5000"},
		Host: "api.openai.com", Verdict: flow.Verdict{Action: flow.Allow}})
	st.Record(&flow.Flow{ID: flow.NewID(now), Start: now, End: now, Source: flow.SourceCapture, Client: flow.Client{Addr: "192.168.4.21:5000"},
		Host: "api.openai.com", Verdict: flow.Verdict{Action: flow.Allow}})
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	seen := proxySeen(&storeSource{masking: masking{cfg: cfg}, st: st}, 10*time.Minute)
	ctx := context.Background()
	for _, c := range []struct {
		ip   string
		at   time.Time
		want bool
	}{
		{"192.168.4.20", now.Add(5 * time.Minute), true}, // inside the window
		{"192.168.4.20", now.Add(-3 * time.Hour), false}, // long before
		{"192.168.4.21", now, false},                     // seen by a capture only: not by the proxy
		{"192.168.4.22", now, false},                     // never seen
	} {
		if got, err := seen(ctx, netip.MustParseAddr(c.ip), c.at, c.at.Add(time.Second)); err != nil || got != c.want {
			t.Errorf("%s at %v: seen %v, want %v", c.ip, c.at.Sub(now), got, c.want)
		}
	}
}
