package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/store"
)

// storeWithFlows makes DIR/store (key DIR/store.key) holding n flows, as serve would.
func storeWithFlows(t *testing.T, data string, n int) {
	t.Helper()
	key, _, err := store.LoadOrCreateKey(filepath.Join(data, "store.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Options{Dir: filepath.Join(data, "store"), Key: key, Logger: zerolog.Nop(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range n {
		at := now.Add(-time.Duration(i) * time.Second)
		st.Record(&flow.Flow{ID: flow.NewID(at), Start: at, End: at, Source: flow.SourceProxy, Mode: flow.Intercepted,
			Client: flow.Client{Addr: "127.0.0.1:5000"}, Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions",
			RequestBody: []byte(fmt.Sprintf(`{"messages":[{"role":"user","content":"flow %d"}]}`, i)), Status: 200,
			Vendor: flow.Vendor{ID: "openai", Category: "ai-provider"}, Verdict: flow.Verdict{Action: flow.Allow}})
	}
	if err := st.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A damaged store, end to end with the real binary: verify says what and where (exit 1); serve
// keeps proxying without recording, ready, with customs_store_up 0 and a loud log line — or,
// with store.required, refuses to start (exit 2); repair copies every flow into a new store,
// keeps the damaged one aside, and the result verifies clean.
func TestStoreDamageEndToEnd(t *testing.T) {
	data := t.TempDir()
	storeWithFlows(t, data, 300)
	out, errOut, code := runCustoms(t, data, "store", "verify", "--data", data)
	if code != 0 || !strings.Contains(out, ": sound") || !strings.Contains(out, "flows: 300 readable (300 with headers and bodies)") {
		t.Fatalf("verify of a sound store: exit %d\n%s%s", code, out, errOut)
	}

	// A MANIFEST cut short: the field report had serve start on it, show 1 of 876 flows and
	// write over a table.
	manifest := filepath.Join(data, "store", "MANIFEST")
	st, err := os.Stat(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(manifest, st.Size()-5); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCustoms(t, data, "store", "verify", "--data", data)
	if code != 1 || !strings.Contains(out, "DAMAGED") || !strings.Contains(out, "MANIFEST at byte") || !strings.Contains(out, "customs store repair") {
		t.Fatalf("verify of a damaged store: exit %d\n%s%s", code, out, errOut)
	}

	upAddr, upCA := fakeVendor(t)
	s := startCustoms(t, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	line := s.waitLine(t, map[string]any{"level": "error", "recording": false})
	if !strings.Contains(fmt.Sprint(line["error"]), "MANIFEST") {
		t.Errorf("the log line does not say what is damaged: %v", line)
	}
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
	resp, err := c.Get("https://api.openai.com/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("proxying with a damaged store: status %d", resp.StatusCode)
	}
	for path, want := range map[string]string{"/readyz": "ready", "/metrics": "customs_store_up 0"} {
		r, err := http.Get("http://" + s.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, lacks %q", path, r.StatusCode, want)
		}
	}
	s.cmd.Process.Kill()
	<-s.exited

	cfgFile := filepath.Join(t.TempDir(), "customs.yaml")
	if err := os.WriteFile(cfgFile, []byte("store:\n  required: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCustoms(t, data, "serve", "--config", cfgFile, "--data", data, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errOut, "is damaged") {
		t.Errorf("serve with store.required and a damaged store: exit %d\n%s", code, errOut)
	}

	out, errOut, code = runCustoms(t, data, "store", "repair", "--data", data)
	if code != 0 || !strings.Contains(out, "the repaired store: 300 flows") || !strings.Contains(out, "kept, untouched, at") {
		t.Fatalf("repair: exit %d\n%s%s", code, out, errOut)
	}
	aside, _ := filepath.Glob(filepath.Join(data, "store.damaged-*"))
	if len(aside) != 1 {
		t.Fatalf("the damaged store was not kept aside: %v", aside)
	}
	if b, err := os.ReadFile(filepath.Join(aside[0], "MANIFEST")); err != nil || int64(len(b)) != st.Size()-5 {
		t.Errorf("the damaged store was changed: MANIFEST %d bytes, %v", len(b), err)
	}
	out, errOut, code = runCustoms(t, data, "store", "verify", "--data", data)
	if code != 0 || !strings.Contains(out, "flows: 300 readable") {
		t.Errorf("verify after repair: exit %d\n%s%s", code, out, errOut)
	}
}

func TestStoreCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"store"}, {"store", "fix"}, {"store", "verify", "extra"}} {
		if _, errOut, code := runCustoms(t, t.TempDir(), args...); code != 2 {
			t.Errorf("customs %v: exit %d, want 2\n%s", args, code, errOut)
		}
	}
	if _, errOut, code := runCustoms(t, t.TempDir(), "store", "verify", "--data", t.TempDir()); code != 1 || !strings.Contains(errOut, "no flow store") {
		t.Errorf("verify without a store: exit %d\n%s", code, errOut)
	}
}

// With store.durability: sync the proxy is given a flow.DurableRecorder whose RecordDurable
// returns once the flow is on disk (and still reaches the other recorders); async gives it none.
func TestStoreRecorderDurability(t *testing.T) {
	st, err := store.Open(store.Options{Dir: t.TempDir(), Logger: zerolog.Nop(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	var seen int
	others := flow.Recorders{recorderFunc(func(*flow.Flow) { seen++ })}
	cfg := config.Default()
	if _, ok := storeRecorder(cfg, others, st).(flow.DurableRecorder); ok {
		t.Error("async: the proxy was given a durable recorder")
	}
	cfg.Store.Durability = "sync"
	d, ok := storeRecorder(cfg, others, st).(flow.DurableRecorder)
	if !ok {
		t.Fatal("sync: no durable recorder")
	}
	f := &flow.Flow{ID: flow.NewID(time.Now()), Start: time.Now(), Host: "api.openai.com"}
	if err := d.RecordDurable(f); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(context.Background(), f.ID); err != nil || seen != 1 {
		t.Errorf("after RecordDurable: Get = %v, other recorders saw %d flows", err, seen)
	}
}

type recorderFunc func(*flow.Flow)

func (r recorderFunc) Record(f *flow.Flow) { r(f) }

// TestKill9AfterAnswersLosesNone: with store.durability: sync, every exchange whose answer a
// client received whole is on disk, whenever customs is killed (kill -9) under load.
func TestKill9AfterAnswersLosesNone(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a loaded customs; run without -short")
	}
	upAddr, upCA, _ := fakeVendorRecording(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "customs.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  durability: sync\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	s := startCustoms(t, "--config", cfg, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/v1/models/w%d-r%d", w, i)
				resp, err := c.Get("https://api.openai.com" + path)
				if err != nil {
					return
				}
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, path) // the client has the whole answer
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	close(stop)
	wg.Wait()
	<-s.exited
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 20 {
		t.Fatalf("only %d answers before the kill: the test did not load customs", len(acked))
	}
	out, errOut, code := runCustoms(t, dir, "flows", "--data", data, "--since", "1h", "--limit", "0", "--json")
	if code != 0 {
		t.Fatalf("flows after the kill: exit %d: %s", code, errOut)
	}
	lost := 0
	for _, p := range acked {
		if !strings.Contains(out, `"path":"`+p+`"`) {
			lost++
		}
	}
	t.Logf("%d answered exchanges before kill -9, %d lost", len(acked), lost)
	if lost > 0 {
		t.Fatalf("%d of %d exchanges whose answer the client had are not in the store", lost, len(acked))
	}
}
