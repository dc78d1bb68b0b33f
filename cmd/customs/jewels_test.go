package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/golden"
)

// noisy are the parts of the jewels commands' output that change from run to run.
var noisy = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(` in [0-9.]+(µs|ms|s)\b`), " in T"},
	{regexp.MustCompile(`20\d\d-\d\d-\d\d \d\d:\d\d`), "DATE"},
	{regexp.MustCompile(`/tmp/\S*?/jewels\b`), "DATA/jewels"},
}

func denoise(s string) string {
	for _, n := range noisy {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// jewelsCmd runs customs jewels and checks its exit code.
func jewelsCmd(t *testing.T, data string, want int, args ...string) string {
	t.Helper()
	out, errOut, code := runCustoms(t, data, append(append([]string{"jewels"}, args...), "--data", data)...)
	if code != want {
		t.Fatalf("customs jewels %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out + errOut
}

// The crown jewels through the real binary: customs jewels indexes a source tree (its
// .gitignore honoured), a document and a customer table, and the index files hold no text;
// serve then blocks a renamed and reformatted copy of an indexed function and two fields of a
// customer row on their way to OpenAI, lets unrelated code through, reports a prompt that
// reappears in a Mixpanel event and a Sentry breadcrumb as an echo of the AI flow, and stops
// matching a table once it is removed.
func TestJewelsEndToEnd(t *testing.T) {
	data := t.TempDir()
	// The fixture's .gitignore is committed as dot-gitignore (git would ignore what it names):
	// the test indexes a copy under the real name.
	repo := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join("testdata", "jewels", "repo"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(repo, "dot-gitignore"), filepath.Join(repo, ".gitignore")); err != nil {
		t.Fatal(err)
	}
	csv, _ := filepath.Abs(filepath.Join("testdata", "jewels", "customers.csv"))

	// A fixed installation key: the prints kept, and so the counts and sizes below, depend on it.
	if err := os.WriteFile(filepath.Join(data, "finding.key"), []byte(strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.WriteString("$ customs jewels add repo/billing --label billing --class code\n")
	out.WriteString(jewelsCmd(t, data, 0, "add", filepath.Join(repo, "billing"), "--label", "billing", "--class", "code"))
	out.WriteString("$ customs jewels add repo --label strategy --class document --ignore billing\n")
	out.WriteString(jewelsCmd(t, data, 0, "add", repo, "--label", "strategy", "--class", "document", "--ignore", "billing"))
	out.WriteString("$ customs jewels add-table customers.csv --label customers --columns name,email,account_id:id,iban\n")
	out.WriteString(jewelsCmd(t, data, 0, "add-table", csv, "--label", "customers", "--columns", "name,email,account_id:id,iban"))
	out.WriteString("$ customs jewels list\n")
	out.WriteString(jewelsCmd(t, data, 0, "list"))
	out.WriteString("$ customs jewels stats\n")
	out.WriteString(jewelsCmd(t, data, 0, "stats"))
	out.WriteString("$ customs jewels add-table customers.csv --label billing --columns name,email\n")
	out.WriteString(jewelsCmd(t, data, 2, "add-table", csv, "--label", "billing", "--columns", "name,email"))
	out.WriteString("$ customs jewels add repo --label Bad/Label\n")
	out.WriteString(jewelsCmd(t, data, 2, "add", repo, "--label", "Bad/Label"))
	out.WriteString("$ customs jewels remove custmers\n")
	out.WriteString(jewelsCmd(t, data, 2, "remove", "custmers"))
	golden.Check(t, filepath.Join("testdata", "jewels", "commands.golden"), []byte(denoise(out.String())))

	// The indexes hold keyed hashes and names, never the text or the values.
	entries, _ := os.ReadDir(filepath.Join(data, "jewels"))
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(data, "jewels", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := e.Info(); st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), st.Mode().Perm())
		}
		for _, clear := range []string{"ComputeRefund", "unused", "usage-based pricing", "Gonzalez", "maria.gonzalez0", "AC-00412900", "DE50526018159083016613", "Borealis"} {
			if bytes.Contains(b, []byte(clear)) || bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(clear))) {
				t.Errorf("%s holds %q in clear", e.Name(), clear)
			}
		}
	}

	// customs scan reads the same indexes, with the data directory's key.
	prompt := filepath.Join(t.TempDir(), "prompt.txt")
	if err := os.WriteFile(prompt, []byte(renamedRefund), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := runCustoms(t, data, "scan", prompt, "--json", "--data", data); !strings.Contains(got, `"detector":"jewel.code"`) || !strings.Contains(got, `"label":"billing"`) {
		t.Errorf("customs scan of a renamed copy: %s", got)
	}

	upAddr, upCA, received := fakeVendorRecording(t)
	config := filepath.Join(t.TempDir(), "customs.yaml")
	if err := os.WriteFile(config, []byte("jewels:\n  reload: 100ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startCustoms(t, "--config", config, "--data", data, "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	s.waitLine(t, map[string]any{"message": "jewels loaded", "trigger": "start"})
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
	post := func(u, body string) int {
		t.Helper()
		resp, err := c.Post(u, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	chat := func(content string) string {
		b, _ := json.Marshal(map[string]any{"model": "gpt-4o", "messages": []map[string]string{{"role": "user", "content": content}}})
		return string(b)
	}
	// One flow line per request, in order: the n-th flow line.
	flowLine := func(t *testing.T, n int) map[string]any {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var flows []map[string]any
			for _, l := range s.logLines() {
				if l["message"] == "flow" {
					flows = append(flows, l)
				}
			}
			if len(flows) >= n {
				return flows[n-1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no flow line %d: %v", n, flows)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	finding := func(line map[string]any, detector string) map[string]any {
		fs, _ := line["findings"].([]any)
		for _, f := range fs {
			if m := f.(map[string]any); m["detector"] == detector {
				return m
			}
		}
		return nil
	}

	steps := []struct {
		name, url, body string
		status          int
		action, policy  string
		detector        string
		check           func(t *testing.T, f map[string]any)
	}{
		{"a renamed, reformatted copy of an indexed function", "https://api.openai.com/v1/chat/completions", chat(renamedRefund),
			403, "block", "block-crown-jewels-to-ai", "jewel.code", func(t *testing.T, f map[string]any) {
				if f["label"] != "billing" || f["ref"] != "refund.go" && f["ref"] != "billing/refund.go" || f["class"] != "code" {
					t.Errorf("jewel finding %v", f)
				}
				if sh, _ := f["share"].(float64); sh < 0.15 {
					t.Errorf("share %v", f["share"])
				}
			}},
		{"two fields of a customer row in prose", "https://api.openai.com/v1/chat/completions",
			chat("Please draft an apology to Maria Gonzalez about the double charge on account AC-00412900 last week."),
			403, "block", "block-crown-jewels-to-ai", "record.match", func(t *testing.T, f map[string]any) {
				cols := f["columns"].([]any)
				if f["label"] != "customers" || f["class"] != "record" || f["rows"] != float64(1) || len(cols) != 2 {
					t.Errorf("record finding %v", f)
				}
			}},
		{"unrelated code", "https://api.openai.com/v1/chat/completions",
			chat("func Sum(xs []int) int {\n\tt := 0\n\tfor _, x := range xs {\n\t\tt += x\n\t}\n\treturn t\n}"),
			200, "", "", "", nil},
		{"a prompt to OpenAI", "https://api.openai.com/v1/chat/completions",
			chat("Summarise for the board why the warehouse robotics pilot in Rotterdam overran its budget by a fifth and what the revised maintenance contract changes for the second phase of the rollout."),
			200, "allow", "", "", nil},
		{"the prompt echoed in a Mixpanel event", "https://api.mixpanel.com/track",
			`[{"event":"Assistant Prompt","properties":{"token":"t0k","distinct_id":"u-1","prompt":"Summarise for the board why the warehouse robotics pilot in Rotterdam overran its budget by a fifth and what the revised maintenance contract changes for the second phase of the rollout."}}]`,
			200, "alert", "alert-prompt-echo-to-telemetry", "echo.prompt", nil},
		{"the prompt echoed in a Sentry breadcrumb", "https://o1.ingest.sentry.io/api/1/store/",
			`{"message":"assistant timeout","breadcrumbs":{"values":[{"category":"ui.input","message":"Summarise for the board why the warehouse robotics pilot in Rotterdam overran its budget by a fifth"}]}}`,
			200, "alert", "alert-prompt-echo-to-telemetry", "echo.prompt", nil},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := post(st.url, st.body); got != st.status {
				t.Fatalf("status %d, want %d", got, st.status)
			}
			line := flowLine(t, i+1)
			if policy, _ := line["policy"].(string); st.action != "" && (line["action"] != st.action || policy != st.policy) {
				t.Fatalf("flow line %v: want %s by %s", line, st.action, st.policy)
			}
			if st.detector == "" {
				for _, d := range []string{"jewel.code", "jewel.document", "record.match", "echo.prompt"} {
					if finding(line, d) != nil {
						t.Errorf("unexpected %s: %v", d, line["findings"])
					}
				}
				return
			}
			f := finding(line, st.detector)
			if f == nil {
				t.Fatalf("no %s finding: %v", st.detector, line["findings"])
			}
			if strings.HasPrefix(st.detector, "echo.") {
				if want := flowLine(t, 4)["flow_id"]; f["ref"] != want {
					t.Errorf("echo of %v, want the prompt's flow %v", f["ref"], want)
				}
			}
			if st.check != nil {
				st.check(t, f)
			}
		})
	}
	for _, r := range received() {
		if strings.Contains(string(r.body), "AC-00412900") || strings.Contains(string(r.body), "pol.EnterpriseFloor") {
			t.Errorf("a blocked request reached the vendor: %s", r.body)
		}
	}

	// Replay computes the echo over the stored window, oldest first: the Mixpanel event is found
	// to echo the prompt stored before it, with the echo memory replay builds as it goes.
	rout, errOut, code := runCustoms(t, data, "replay", "--since", "1h", "--json", "--config", config, "--data", data, "--admin", s.admin)
	replayed := false
	for _, l := range strings.Split(strings.TrimSpace(rout), "\n") {
		var d struct {
			Vendor   string
			Findings []struct{ Detector, Ref string }
			Gone     []struct{ Detector string } `json:"gone_findings"`
		}
		if json.Unmarshal([]byte(l), &d) != nil || d.Vendor != "mixpanel" {
			continue
		}
		replayed = len(d.Findings) == 1 && d.Findings[0].Detector == "echo.prompt" && d.Findings[0].Ref == flowLine(t, 4)["flow_id"] && len(d.Gone) == 0
	}
	if code > 1 || !replayed {
		t.Errorf("replay did not find the Mixpanel event's echo again: exit %d\n%s%s", code, rout, errOut)
	}

	// Removing the table: serve reloads, and the row no longer matches.
	jewelsCmd(t, data, 0, "remove", "customers")
	s.waitLine(t, map[string]any{"message": "jewels loaded", "trigger": "index files changed"})
	if got := post("https://api.openai.com/v1/chat/completions", chat("Please draft an apology to Maria Gonzalez about the double charge on account AC-00412900 last week.")); got != http.StatusOK {
		t.Errorf("after removing the table: status %d", got)
	}
}

// renamedRefund is ComputeRefund of testdata/jewels/repo with every name changed and the
// formatting undone, as someone would paste it.
const renamedRefund = `why does this return the wrong amount?

func (pol RefundRules) Refund(bill Bill, used, period int64, at time.Time) (int64, error) {
    if at.Sub(bill.IssuedAt) > time.Duration(pol.WindowDays)*24*time.Hour + pol.GraceAfterDunning { return 0, ErrClosed }
    amt := bill.TotalMinor - bill.CreditsAppliedMinor
    if amt <= 0 { return 0, nil }
    if pol.ProrateByUsage && period > 0 {
        idle := period - used
        if idle < 0 { idle = 0 }
        amt = amt * idle / period
    }
    if bill.Tier == "enterprise" {
        minAmt := int64(float64(bill.TotalMinor) * pol.EnterpriseFloor)
        if amt < minAmt { amt = minAmt }
    }
    return amt, nil
}`
