package proxy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/proxy"
)

// TestPAC evaluates the generated proxy auto-config in a JavaScript engine (Node, as browsers
// and operating systems run it) and asks it where each host goes.
func TestPAC(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is needed to run the PAC file (.ci/run installs nodejs)")
		}
		t.Skip("no node to run the PAC file")
	}
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	intercept, _ := proxy.NewHostSet([]string{"llm.internal.example", "*.gateway.example"})
	never, _ := proxy.NewHostSet([]string{"pinned.openai.com", "*.pinned.example"})
	scope := proxy.Scope{Mode: proxy.InterceptCatalog, Intercept: intercept, Never: never, InCatalog: func(h string) bool { _, ok := cat.Lookup(h); return ok }}
	cases := map[string]string{
		"api.openai.com":                          "PROXY 10.1.2.3:8080",
		"API.Anthropic.com.":                      "PROXY 10.1.2.3:8080", // case and trailing dot
		"myres.openai.azure.com":                  "PROXY 10.1.2.3:8080", // wildcard
		"bedrock-runtime.eu-west-1.amazonaws.com": "PROXY 10.1.2.3:8080", // template
		"us-central1-aiplatform.googleapis.com":   "PROXY 10.1.2.3:8080", // template
		"api.mixpanel.com":                        "PROXY 10.1.2.3:8080", // analytics behind the vendors
		"llm.internal.example":                    "PROXY 10.1.2.3:8080", // intercept_hosts
		"a.b.gateway.example":                     "PROXY 10.1.2.3:8080",
		"pinned.openai.com":                       "DIRECT", // never_intercept
		"x.pinned.example":                        "DIRECT",
		"example.org":                             "DIRECT",
		"openai.com.evil.example":                 "DIRECT",
		"openai.azure.com":                        "DIRECT", // a wildcard needs a label before it
		"bedrock-runtime.amazonaws.com":           "DIRECT",
	}
	for _, c := range []struct {
		mode proxy.InterceptMode
		want func(host, catalogWant string) string
	}{
		{proxy.InterceptCatalog, func(_, w string) string { return w }},
		{proxy.InterceptAll, func(h, w string) string {
			if w == "DIRECT" && !strings.Contains(h, "pinned") {
				return "PROXY 10.1.2.3:8080"
			}
			return w
		}},
	} {
		scope.Mode = c.mode
		pac := proxy.PAC(scope, cat.Vendors(), "10.1.2.3:8080")
		dir := t.TempDir()
		script := string(pac) + "\nvar hosts = JSON.parse(process.argv[2]); var out = {};\n" +
			"for (var h of hosts) out[h] = FindProxyForURL('https://' + h + '/', h);\nconsole.log(JSON.stringify(out));\n"
		path := filepath.Join(dir, "proxy.pac.js")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		var hosts []string
		for h := range cases {
			hosts = append(hosts, `"`+h+`"`)
		}
		out, err := exec.Command(node, path, "["+strings.Join(hosts, ",")+"]").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: node: %v\n%s", c.mode, err, out)
		}
		for h, w := range cases {
			want := c.want(h, w)
			if !strings.Contains(string(out), `"`+h+`":"`+want+`"`) {
				t.Errorf("%s: %s: want %s in %s", c.mode, h, want, out)
			}
		}
	}
}
