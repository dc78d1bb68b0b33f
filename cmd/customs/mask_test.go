package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// planted are values a real customs serve records in six places a finding can come from; no
// masked output may hold one, in clear or in any encoding the detectors undo.
var planted = map[string]string{
	"e-mail in a Mixpanel base64 data= query parameter": "mia.chen@northwind-example.com",
	"key in ?key=":          "AKIAV3PZ7QX2N4KWLMRS",
	"key in header X-Debug": "AKIAQ4KX7VZ2N3WPLMRT",
	"key in the path":       "AKIAJ2WQ6XZ3N5KPLMRV",
	"key in the body":       "AKIAZ7VQ3KXJ5N2WPLMR",
	"e-mail in a form body": "leo.park@acme-corp.com",
}

// leaks lists the planted values out holds, in any of their forms.
func leaks(out string) []string {
	var found []string
	for where, v := range planted {
		for _, form := range encodedForms(v) {
			if strings.Contains(out, form) {
				found = append(found, fmt.Sprintf("%s (%q as %q)", where, v, form))
				break
			}
		}
	}
	return found
}

// Issue 12: the masked views (flows, flows --json, flows show with and without --body and
// --json, --export jsonl and har, the admin API) showed what sat in the URL, a header or a
// decoded query in clear, and a re-scan of the "masked" HAR found the values again. Every
// output is checked while serve runs (through its admin API) and after it stopped (from the
// store), and --reveal shows the values and is audited.
func TestMaskedOutputsLeakNothing(t *testing.T) {
	upAddr, upCA, _ := fakeVendorRecording(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// api.deepseek.com goes nowhere: its flow has an error field, among the others.
	s := startCustoms(t, "--data", data, "--resolve", "api.deepseek.com=127.0.0.1:1", "--resolve", "*="+upAddr, "--upstream-ca", upCA)
	c := proxyClient(t, s.proxy, filepath.Join(data, "ca.pem"))
	event, _ := json.Marshal(map[string]any{"event": "signup", "properties": map[string]any{"token": "abc", "email": planted["e-mail in a Mixpanel base64 data= query parameter"]}})
	send := func(method, rawURL, ctype, body string, header map[string]string) {
		t.Helper()
		req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	send("GET", "https://api-js.mixpanel.com/track?ip=1&data="+base64.StdEncoding.EncodeToString(event), "", "", nil)
	send("POST", "https://api.openai.com/v1/chat/"+planted["key in the path"]+"/completions?key="+planted["key in ?key="], "application/json",
		`{"model":"gpt-4o","messages":[{"role":"user","content":"deploy `+planted["key in the body"]+`"}]}`,
		map[string]string{"X-Debug": planted["key in header X-Debug"]})
	send("POST", "https://api.segment.io/v1/submit", "application/x-www-form-urlencoded",
		"name=x&contact="+strings.ReplaceAll(planted["e-mail in a form body"], "@", "%40"), nil)
	send("POST", "https://api.deepseek.com/chat/completions", "application/json", `{"model":"deepseek-chat","messages":[]}`, nil)
	s.waitLine(t, map[string]any{"message": "flow", "host": "api.deepseek.com"})

	var ids []string
	deadline := time.Now().Add(10 * time.Second)
	for len(ids) != 4 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // the store writes in batches, off the request path
		out, _, _ := runCustoms(t, ".", "flows", "--data", data, "--admin", s.admin, "--json")
		ids = nil
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var m struct {
				ID    string `json:"flow_id"`
				Error string `json:"error"`
			}
			if json.Unmarshal([]byte(l), &m) == nil && m.ID != "" {
				ids = append(ids, m.ID)
			}
		}
	}
	if len(ids) != 4 {
		t.Fatalf("%d flows listed while serve runs, want 4 (one with an error field among them)", len(ids))
	}

	adminFlag := []string{"--admin", s.admin}
	masked := func(t *testing.T, api bool) {
		outputs := map[string]string{}
		run := func(name string, args ...string) string {
			t.Helper()
			if args[0] != "scan" {
				args = append(args, adminFlag...)
			}
			out, errOut, code := runCustoms(t, ".", append(args, "--data", data)...)
			if code != 0 {
				t.Fatalf("%s: exit %d\n%s%s", name, code, out, errOut)
			}
			outputs[name] = out + errOut
			return out
		}
		run("flows", "flows")
		run("flows --json", "flows", "--json")
		for _, id := range ids {
			run("flows show "+id, "flows", "show", id)
			run("flows show --body "+id, "flows", "show", id, "--body")
			run("flows show --json "+id, "flows", "show", id, "--json")
			run("flows show --body --json "+id, "flows", "show", "--body", id, "--json")
		}
		for _, format := range []string{"jsonl", "har"} {
			path := filepath.Join(dir, fmt.Sprintf("masked-%v.%s", api, format))
			run("--export "+format, "flows", "--export", format, "--out", path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			outputs["file of --export "+format] = string(b)
			if format == "har" {
				var doc struct {
					Log struct{ Entries []json.RawMessage }
				}
				if err := json.Unmarshal(b, &doc); err != nil || len(doc.Log.Entries) != 4 {
					t.Fatalf("masked HAR: %d entries, %v", len(doc.Log.Entries), err)
				}
				// Re-scanning the masked evidence finds none of the values again.
				scan := run("scan of the masked HAR", "scan", path, "--json")
				for _, h := range plantedHashes(t, data, adminFlag) {
					if strings.Contains(scan, h) {
						t.Errorf("customs scan found a planted value again in the masked HAR (hash %s)", h)
					}
				}
			}
		}
		if api {
			token, err := os.ReadFile(filepath.Join(data, adminTokenFile))
			if err != nil {
				t.Fatal(err)
			}
			paths := []string{"/api/flows?bodies=1"}
			for _, id := range ids {
				paths = append(paths, "/api/flows/"+id+"?body=1&texts=1", "/api/flows/"+id)
			}
			for _, p := range paths {
				req, _ := http.NewRequest("GET", "http://"+s.admin+p, nil)
				req.Header.Set("Authorization", "Bearer "+string(bytes.TrimSpace(token)))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d %s", p, resp.StatusCode, b)
				}
				outputs["admin API "+p] = string(b)
			}
		}
		for name, out := range outputs {
			if l := leaks(out); len(l) > 0 {
				t.Errorf("%s shows %s:\n%s", name, strings.Join(l, ", "), out)
			}
		}
		// What masking leaves is still evidence: where each value was, and by whom.
		for _, want := range []string{"[secret.aws-access-key-id AKIA************PLMR]", "query:data/base64/properties.email", "header:x-debug"} {
			if !strings.Contains(strings.Join(mapValues(outputs), "\n"), want) {
				t.Errorf("no masked output shows %q", want)
			}
		}
	}

	revealed := func(t *testing.T, viaAPI bool) {
		auditPath := filepath.Join(data, "audit.log")
		before, _ := os.ReadFile(auditPath)
		var all strings.Builder
		for _, id := range ids {
			out, errOut, code := runCustoms(t, ".", append([]string{"flows", "show", id, "--body", "--reveal", "--data", data}, adminFlag...)...)
			if code != 0 {
				t.Fatalf("show --reveal: exit %d\n%s%s", code, out, errOut)
			}
			all.WriteString(out)
		}
		path := filepath.Join(dir, fmt.Sprintf("revealed-%v.har", viaAPI))
		if _, errOut, code := runCustoms(t, ".", append([]string{"flows", "--export", "har", "--out", path, "--reveal", "--data", data}, adminFlag...)...); code != 0 {
			t.Fatalf("export --reveal: exit %d: %s", code, errOut)
		}
		b, _ := os.ReadFile(path)
		for _, out := range []string{all.String(), string(b)} {
			if l := leaks(out); len(l) != len(planted) {
				t.Errorf("revealed output shows %d of the %d values: %v", len(l), len(planted), l)
			}
		}
		after, _ := os.ReadFile(auditPath)
		added := string(after[len(before):])
		if n := strings.Count(added, `"type":"audit"`); n != len(ids)+1 {
			t.Errorf("%d reveals, %d audit lines:\n%s", len(ids)+1, n, added)
		}
		if viaAPI != strings.Contains(added, `"via":"admin API"`) || len(leaks(added)) > 0 {
			t.Errorf("audit lines (through the API: %v):\n%s", viaAPI, added)
		}
	}

	t.Run("while serve runs", func(t *testing.T) {
		masked(t, true)
		revealed(t, true)
	})
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.waitLine(t, map[string]any{"message": "shutting down: draining requests in flight", "drain": "30s"}) // with its unit
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("customs did not exit")
	}
	t.Run("from the store", func(t *testing.T) {
		masked(t, false)
		revealed(t, false)
	})
}

// plantedHashes are the keyed hashes serve recorded for the planted values' findings.
func plantedHashes(t *testing.T, data string, admin []string) []string {
	t.Helper()
	out, _, _ := runCustoms(t, ".", append([]string{"flows", "--json", "--data", data}, admin...)...)
	var hashes []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct{ Findings []struct{ Hash string } }
		_ = json.Unmarshal([]byte(l), &m)
		for _, f := range m.Findings {
			hashes = append(hashes, f.Hash)
		}
	}
	if len(hashes) < len(planted) {
		t.Fatalf("%d findings recorded, want at least one per planted value", len(hashes))
	}
	return hashes
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
