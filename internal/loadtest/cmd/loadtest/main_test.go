package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRunThreeProcesses runs the load test as make loadtest does, briefly: the upstream, a bare
// goproxy and customs serve as processes of their own, every request answered 200 through each.
func TestRunThreeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries and runs three processes")
	}
	dir := t.TempDir()
	bin := map[string]string{"customs": filepath.Join(dir, "customs"), "loadtest": filepath.Join(dir, "loadtest")}
	for name, pkg := range map[string]string{"customs": "../../../../cmd/customs", "loadtest": "."} {
		if out, err := exec.Command("go", "build", "-o", bin[name], pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	out, err := exec.Command(bin["loadtest"], "run", "-customs", bin["customs"], "-rounds", "2", "-window", "300ms",
		"-concurrency", "4", "-setups", "goproxy,customs,customs-nostore", "-json").Output()
	if err != nil {
		t.Fatalf("loadtest run: %v\n%s", err, out)
	}
	var rows []struct {
		Setup     string  `json:"setup"`
		ReqPerSec float64 `json:"req_per_sec"`
		CPU       float64 `json:"proxy_cpu_us_per_request"`
		Errors    int     `json:"errors"`
		Ratio     float64 `json:"ratio_throughput"`
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %s", len(rows), out)
	}
	for _, r := range rows {
		if r.ReqPerSec <= 0 || r.CPU <= 0 || r.Errors != 0 {
			t.Errorf("%s: %+v", r.Setup, r)
		}
		if r.Setup != "goproxy" && r.Ratio <= 0 {
			t.Errorf("%s: no ratio to goproxy: %+v", r.Setup, r)
		}
	}
}
