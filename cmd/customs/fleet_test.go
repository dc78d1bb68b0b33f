package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/customs-dev/customs/fleet"
	"github.com/customs-dev/customs/internal/natstest"
)

const fleetRules = `detectors:
  - id: acme-codename
    class: marker
    severity: high
    keywords: [NIGHTJAR]
    pattern: 'NIGHTJAR-\d{3}'
    boundary: true
policies:
  - id: block-codenames-to-ai
    when: has_detector("acme-codename") && vendor.category.startsWith("ai-")
    action: block
`

// fleetSite is one customs serve of the fleet.
type fleetSite struct {
	name string
	s    *servedCustoms
	c    *http.Client
}

func (fs *fleetSite) post(t *testing.T, prompt string) int {
	t.Helper()
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":` + fmt.Sprintf("%q", prompt) + `}]}`
	resp, err := fs.c.Post("https://api.openai.com/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// fleetIDs lists the flow IDs of the fleet's record as customs flows --fleet prints them.
func fleetIDs(t *testing.T, dir, readerCfg, from string, extra ...string) (ids []string, stderr string) {
	t.Helper()
	out, errOut, code := runCustoms(t, dir, append([]string{"flows", "--config", readerCfg, "--from", from, "--since", "1h", "--limit", "0", "--json"}, extra...)...)
	if code != 0 {
		return nil, errOut
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var w struct {
			ID string `json:"flow_id"`
		}
		if err := json.Unmarshal([]byte(line), &w); err != nil {
			t.Fatalf("flows --fleet line %q: %v", line, err)
		}
		ids = append(ids, w.ID)
	}
	return ids, errOut
}

// The fleet end to end, through the real binary: a three-node JetStream cluster of nats-server
// processes, two customs serve sites under load; one node killed (SIGKILL) mid-load, then the
// whole cluster for a while: every
// flow of both sites is in customs flows --fleet exactly once once it is back. A rule book
// published with customs rules publish reaches both sites; a broken one reaches neither; a
// rollback does.
func TestFleetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster and two proxies under load: make test-long")
	}
	// nats-server processes, so that a node dies by SIGKILL mid-write, handing nothing over.
	cl := natstest.StartProcs(t, 3)
	from := cl.URL()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "fleet.key")
	if out, errOut, code := runCustoms(t, dir, "fleet", "keygen", keyPath); code != 0 || !strings.Contains(out, "created fleet key") {
		t.Fatalf("fleet keygen: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := runCustoms(t, dir, "fleet", "keygen", keyPath); code == 0 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("a second keygen over the key: exit %d %s", code, errOut)
	}
	readerCfg := filepath.Join(dir, "reader.yaml")
	writeFile(t, readerCfg, "fleet:\n  key_file: fleet.key\n")

	upAddr, upCA, _ := fakeVendorRecording(t)
	var sites []*fleetSite
	start := func(name string) *fleetSite {
		cfgPath := filepath.Join(dir, name+".yaml")
		servers := `["` + strings.Join(cl.URLs(), `", "`) + `"]`
		writeFile(t, cfgPath, fmt.Sprintf("fleet:\n  servers: %s\n  site: %s\n  key_file: fleet.key\n  batch: 32\n", servers, name))
		data := filepath.Join(dir, name)
		s := startCustoms(t, "--config", cfgPath, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
		return &fleetSite{name: name, s: s, c: proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))}
	}
	for _, name := range []string{"paris", "berlin"} {
		sites = append(sites, start(name))
	}

	// Load on both sites; a node dies halfway through.
	const perPhase = 60
	load := func(n int, prompt string) {
		var wg sync.WaitGroup
		for _, s := range sites {
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < n; i += 4 {
						if code := s.post(t, fmt.Sprintf("%s %d at %s", prompt, i, s.name)); code != http.StatusOK {
							t.Errorf("%s: status %d", s.name, code)
						}
					}
				}()
			}
		}
		wg.Wait()
	}
	load(perPhase/2, "summarise the meeting notes")
	cl.Kill(1)
	load(perPhase/2, "summarise the quarterly plan")
	cl.Restart(1)

	// The whole cluster killed: the proxies keep proxying, the flows wait in their stores.
	cl.KillAll()
	load(20, "translate the release notes")
	for _, s := range sites {
		metrics := adminGet(t, s.s, "/metrics")
		if !strings.Contains(metrics, "customs_fleet_connected 0") || strings.Contains(metrics, "customs_fleet_backlog_flows 0\n") {
			t.Errorf("%s during the outage: metrics say\n%s", s.name, grepLines(metrics, "customs_fleet_"))
		}
	}
	cl.RestartAll()
	want := 2 * (perPhase + 20)
	var ids []string
	deadline := time.Now().Add(90 * time.Second)
	for {
		var errOut string
		ids, errOut = fleetIDs(t, dir, readerCfg, from)
		if len(ids) >= want || time.Now().After(deadline) {
			if len(ids) < want {
				t.Fatalf("the fleet's record has %d flows 90 s after the cluster came back; want %d\n%s", len(ids), want, errOut)
			}
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("flow %s listed twice", id)
		}
		seen[id] = true
	}
	if len(ids) != want {
		t.Fatalf("the fleet's record lists %d flows; want exactly %d", len(ids), want)
	}
	for _, s := range sites {
		got, _ := fleetIDs(t, dir, readerCfg, from, "--site", s.name)
		if len(got) != want/2 {
			t.Errorf("--site %s lists %d flows; want %d", s.name, len(got), want/2)
		}
		metrics := adminGet(t, s.s, "/metrics")
		if !strings.Contains(metrics, "customs_fleet_backlog_flows 0\n") || !strings.Contains(metrics, "customs_fleet_lost_total 0\n") {
			t.Errorf("%s after catching up: %s", s.name, grepLines(metrics, "customs_fleet_"))
		}
	}
	out, errOut, code := runCustoms(t, dir, "flows", "show", ids[0], "--fleet", "--from", from, "--config", readerCfg, "--json")
	if code != 0 || !strings.Contains(out, ids[0]) {
		t.Fatalf("flows show --fleet: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCustoms(t, dir, "report", "--fleet", "--from", from, "--config", readerCfg, "--since", "1h", "--format", "json")
	var agg struct {
		Totals struct {
			Requests int64 `json:"requests"`
		} `json:"totals"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &agg) != nil || agg.Totals.Requests != int64(want) {
		t.Fatalf("report --fleet: exit %d, %d requests; want %d\n%.500s%s", code, agg.Totals.Requests, want, out, errOut)
	}

	// The stream customs made: three replicas on a three-node cluster, flows counted by site.
	out, errOut, code = runCustoms(t, dir, "fleet", "status", "--from", from, "--config", readerCfg, "--json")
	var state struct {
		Replicas int               `json:"replicas"`
		Flows    uint64            `json:"flows"`
		Sites    map[string]uint64 `json:"sites"`
		MaxAge   int64             `json:"max_age_ns"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &state) != nil || state.Replicas != 3 || state.Flows != uint64(want) ||
		state.Sites["paris"] != uint64(want/2) || state.Sites["berlin"] != uint64(want/2) || time.Duration(state.MaxAge) != 90*24*time.Hour {
		t.Fatalf("fleet status: exit %d, %+v\n%s%s", code, state, out, errOut)
	}
	// replay and exposure read the fleet too.
	out, errOut, code = runCustoms(t, dir, "replay", "--fleet", "--from", from, "--config", readerCfg, "--since", "1h", "--json")
	if code != 0 || strings.Count(out, "\n") < want {
		t.Fatalf("replay --fleet: exit %d, %d lines; want %d\n%s", code, strings.Count(out, "\n"), want, errOut)
	}
	out, errOut, code = runCustoms(t, dir, "exposure", "openai", "--fleet", "--from", from, "--config", readerCfg, "--since", "1h", "--json")
	var exposure struct {
		Totals struct {
			Direct int64 `json:"direct"`
		} `json:"totals"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &exposure) != nil || exposure.Totals.Direct != int64(want) {
		t.Fatalf("exposure --fleet: exit %d, %d direct flows; want %d\n%.800s%s", code, exposure.Totals.Direct, want, out, errOut)
	}

	// One rule book for both sites.
	rulesDir := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rulesDir, "team.yaml"), fleetRules)
	if out, errOut, code := runCustoms(t, dir, "rules", "publish", rulesDir, "--config", readerCfg, "--from", from); code != 0 || !strings.Contains(out, "version 1") {
		t.Fatalf("rules publish: exit %d\n%s%s", code, out, errOut)
	}
	for _, s := range sites {
		s.s.waitLineWithin(t, map[string]any{"message": "fleet rule book in force", "version": 1}, 20*time.Second)
		if code := s.post(t, "status of NIGHTJAR-204"); code != http.StatusForbidden {
			t.Errorf("%s under rule book 1: a codename got status %d; want 403", s.name, code)
		}
	}
	statusOf := func() string {
		t.Helper()
		out, errOut, code := runCustoms(t, dir, "rules", "status", "--fleet", "--config", readerCfg, "--from", from)
		if code != 0 {
			t.Fatalf("rules status: exit %d %s", code, errOut)
		}
		return out
	}
	// sitesAt counts the sites whose status line says in force, seen.
	sitesAt := func(st, inForce, seen string) int {
		n := 0
		for _, l := range strings.Split(st, "\n") {
			if f := strings.Fields(l); len(f) >= 3 && (f[0] == "paris" || f[0] == "berlin") && f[1] == inForce && f[2] == seen {
				n++
			}
		}
		return n
	}
	deadline = time.Now().Add(10 * time.Second)
	st := statusOf()
	for ; sitesAt(st, "v1", "v1") != 2 && time.Now().Before(deadline); st = statusOf() {
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(st, "rule book version 1") || sitesAt(st, "v1", "v1") != 2 {
		t.Fatalf("rules status --fleet after version 1:\n%s", st)
	}

	// A broken rule book: the command refuses it, so it reaches no site.
	broken := filepath.Join(dir, "broken.yaml")
	writeFile(t, broken, "policies:\n  - id: x\n    when: vendor.category == 3 &&\n    action: block\n")
	if _, errOut, code := runCustoms(t, dir, "rules", "publish", broken, "--config", readerCfg, "--from", from); code != 2 || !strings.Contains(errOut, "not published") {
		t.Fatalf("rules publish of a broken file: exit %d %s", code, errOut)
	}
	// Published around the command's validation (an older customs, or a hand-made message): every
	// site refuses it, keeps rule book 1 and says why.
	key, err := fleet.LoadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := fleet.Dial(fleet.Options{Servers: cl.URLs(), Key: key}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	v2, err := conn.PublishRules(context.Background(), fleet.RuleBook{Files: []fleet.RuleFile{{Name: "broken.yaml", Text: "policies:\n  - id: x\n    when: vendor.category == 3 &&\n    action: block\n"}}})
	if err != nil || v2 != 2 {
		t.Fatalf("publish around the validation: v%d, %v", v2, err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if st = statusOf(); sitesAt(st, "v1", "v2") == 2 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if sitesAt(st, "v1", "v2") != 2 || !strings.Contains(st, "2 of 2 sites do not run version 2") || strings.Count(st, "Syntax error") != 2 {
		t.Fatalf("rules status after a broken version 2:\n%s", st)
	}
	for _, s := range sites {
		if code := s.post(t, "status of NIGHTJAR-205"); code != http.StatusForbidden {
			t.Errorf("%s after the broken version: a codename got %d; want 403 (rule book 1 still in force)", s.name, code)
		}
	}

	// Rollback to version 1: version 3 is version 1 again, and both sites run it.
	if out, errOut, code := runCustoms(t, dir, "rules", "rollback", "1", "--config", readerCfg, "--from", from); code != 0 || !strings.Contains(out, "as version 3") {
		t.Fatalf("rules rollback: exit %d\n%s%s", code, out, errOut)
	}
	for _, s := range sites {
		s.s.waitLineWithin(t, map[string]any{"message": "fleet rule book in force", "version": 3}, 20*time.Second)
	}

	// A site restarted while the whole cluster is away starts with the rule book it last ran,
	// not its own (default) rules.
	cl.KillAll()
	paris := sites[0]
	if err := paris.s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-paris.s.exited:
		if err != nil {
			t.Fatalf("paris on SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("paris did not stop")
	}
	paris = start("paris")
	paris.s.waitLine(t, map[string]any{"message": "rules loaded", "from": "the fleet's rule book version 3 (" + filepath.Join(dir, "paris", "fleet-rules", "v3") + ")"})
	if code := paris.post(t, "status of NIGHTJAR-206"); code != http.StatusForbidden {
		t.Errorf("paris restarted without the fleet: a codename got %d; want 403 from rule book 3", code)
	}
	// Run with GOFLAGS=-race, the binary reports data races on stderr.
	for _, s := range append(sites, paris) {
		for _, l := range s.s.logLines() {
			if u, ok := l["unparsed"].(string); ok && strings.Contains(u, "DATA RACE") {
				t.Errorf("%s: %s", s.name, u)
			}
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
