package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPACServedAndPrinted: serve's admin listener serves /proxy.pac (to any Host: browsers
// fetch it by whatever name they were given) routed to its proxy listener; customs pac prints
// the same routing with the address it is told.
func TestPACServedAndPrinted(t *testing.T) {
	data := t.TempDir()
	s := startCustoms(t, "--data", data)
	req, _ := http.NewRequest("GET", "http://"+s.admin+"/proxy.pac", nil)
	req.Host = "wpad.corp.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ns-proxy-autoconfig" ||
		!strings.Contains(string(body), `"PROXY `+s.proxy+`"`) || !strings.Contains(string(body), `"api.openai.com": 1`) ||
		!strings.Contains(string(body), "function FindProxyForURL") {
		t.Fatalf("/proxy.pac: %d %s\n%.600s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	out, errOut, code := runCustoms(t, data, "pac", "--proxy", "customs.corp.example:8080")
	if code != 0 || !strings.Contains(out, `"PROXY customs.corp.example:8080"`) || !strings.Contains(out, `"api.anthropic.com": 1`) {
		t.Fatalf("customs pac: exit %d\n%.400s%s", code, out, errOut)
	}
	if _, errOut, code := runCustoms(t, data, "pac", "--proxy", "nope"); code != 2 || !strings.Contains(errOut, "HOST:PORT") {
		t.Errorf("pac --proxy nope: exit %d %q", code, errOut)
	}
}
