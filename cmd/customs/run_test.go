package main

import (
	"os/exec"
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
