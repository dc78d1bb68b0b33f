package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// consoleConfig names a client for the map and adds a vendor whose name would run as markup
// if any page or the map's SVG let it.
const consoleConfig = `clients:
  127.0.0.2: data-team
vendors:
  - id: internal-llm
    name: 'Internal LLM <script>window.__xss=3</script>'
    category: ai-provider
    country: US
    hosts: [llm.internal.example]
`

const (
	awsKey    = "AKIAZ7VQ3KXJ5N2WPLMR"
	xssPrompt = `Please summarise <script>window.__xss=1</script> and <img src=x onerror="window.__xss=2"> for me`
)

// browser is a headless Chromium tab and the messages its pages wrote.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // root in CI
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("force-prefers-reduced-motion", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelRun := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelRun)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	b := &browser{ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// problems are the exceptions and the security messages (a Content-Security-Policy violation)
// the pages wrote.
func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.messages {
		if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy") {
			out = append(out, m.String())
		}
	}
	return out
}

func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval runs JavaScript in the page and decodes its value into T.
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// wait polls a JavaScript condition until it holds, across page loads. The bound is for
// liveness only: CI runs this next to the race-enabled tests of other packages on two cores.
func (b *browser) wait(t *testing.T, js string) {
	t.Helper()
	if b.waitUpTo(js, 60*time.Second) {
		return
	}
	b.fail(t, js, nil)
}

// waitUpTo polls js for at most d and reports whether it came to hold.
func (b *browser) waitUpTo(js string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// signIn types token into the login form and submits it with a real click until js holds. A
// form re-rendered between the keys and the click (the page refreshes its session state) loses
// the keys; the next attempt types them again.
func (b *browser) signIn(t *testing.T, token, js string) {
	t.Helper()
	var last error
	for range 3 {
		b.wait(t, `document.querySelector("#login-form")`)
		eval[bool](t, b, `(document.querySelector("#token").value = "", true)`)
		// The form may be drawn again between finding it and typing into it (a route change
		// still rendering on a loaded machine): the node is then gone, and the try is repeated.
		if last = chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS("#login-submit"))); last != nil {
			continue
		}
		if b.waitUpTo(js, 20*time.Second) {
			return
		}
	}
	b.fail(t, js, last)
}

func (b *browser) fail(t *testing.T, js string, last error) {
	t.Helper()
	body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
	t.Fatalf("timed out waiting for %s (last error %v); the page says:\n%s", js, last, body)
}

// route goes to a console route ("#/map?since=1h") without reloading the page.
func (b *browser) route(t *testing.T, hash string) {
	t.Helper()
	eval[bool](t, b, fmt.Sprintf(`(location.hash = %q, true)`, hash))
}

// showFlow opens a flow's page and waits until it is that flow's.
func (b *browser) showFlow(t *testing.T, id string) {
	t.Helper()
	b.route(t, "#/flow/"+id)
	b.wait(t, `document.querySelector("#flow .flowhead code") && document.querySelector("#flow .flowhead code").textContent === `+jsString(id)+
		` && document.querySelector("#request-body")`)
}

func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	// Let the fonts and the last layout settle.
	b.wait(t, `document.fonts.status === "loaded"`)
	time.Sleep(150 * time.Millisecond)
	shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	checkScreenshot(t, name, shot)
}

// The web console in a real browser against a real customs serve: the pages render what the
// store holds, new flows appear without a reload, the map's nodes and edges are the flows',
// a map node filters the list, flow content stays text, reveals are audited, the login cookie
// is HttpOnly and SameSite=Strict, and nothing needs a script or style the CSP refuses.
func TestConsoleInBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			// .ci/run installs it: in CI a missing browser is a failure, not a skip.
			t.Fatalf("the browser tests need %s (Debian package chromium): %v", chromium, err)
		}
		t.Skipf("the browser tests need %s (Debian package chromium): %v", chromium, err)
	}
	start := time.Now()
	s := startServe(t, consoleConfig)
	c1, c2 := s.client(t, ""), s.client(t, "127.0.0.2")
	chat := func(model, content string) string {
		b, _ := json.Marshal(map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": content}}})
		return string(b)
	}
	if st := send(t, c1, "https://api.openai.com/v1/chat/completions", "application/json", chat("gpt-4o", "deploy with "+awsKey)); st != 403 {
		t.Fatalf("a key to OpenAI: status %d, want 403 (blocked)", st)
	}
	if st := send(t, c1, "https://api.openai.com/v1/chat/completions", "application/json", chat("gpt-4o-mini", xssPrompt)); st != 200 {
		t.Fatalf("the markup prompt: status %d", st)
	}
	if st := send(t, c2, "https://api.anthropic.com/v1/messages", "application/json",
		`{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"Summarise the quarterly plan"}]}`); st != 200 {
		t.Fatalf("anthropic: status %d", st)
	}
	if st := send(t, c2, "https://api.mixpanel.com/track", "application/json", `[{"event":"signup","properties":{"token":"t0k","distinct_id":"u-17"}}]`); st != 200 {
		t.Fatalf("mixpanel: status %d", st)
	}
	s.waitFlows(t, 4)
	base := "http://" + s.admin + "/ui/"

	t.Run("access rules over HTTP", func(t *testing.T) { testAccess(t, s) })

	b := newBrowser(t)
	names := vendorNames(t, s)

	t.Run("catalog and rules open on loopback without the token", func(t *testing.T) {
		b.do(t, chromedp.Navigate(base+"#/catalog"))
		b.wait(t, `document.querySelectorAll("#catalog tbody tr").length > 30`)
		b.screenshot(t, "catalog")
		b.route(t, "#/catalog/internal-llm")
		b.wait(t, `document.querySelector("main h1") && document.querySelector("main h1").textContent.includes("Internal LLM")`)
		if got := eval[string](t, b, `document.querySelector("main h1").textContent`); got != "Internal LLM <script>window.__xss=3</script>" {
			t.Errorf("vendor name shown as %q, want the text as configured", got)
		}
		b.route(t, "#/catalog/openai")
		b.wait(t, `document.querySelector("main h1") && document.querySelector("main h1").textContent === `+jsString(names["openai"]))
		b.screenshot(t, "vendor")
		b.route(t, "#/rules")
		b.wait(t, `document.body.innerText.includes("block-secrets-to-ai")`)
		b.screenshot(t, "rules")
	})

	t.Run("sign in", func(t *testing.T) {
		b.route(t, "#/flows")
		b.wait(t, `document.querySelector("#login-form")`)
		b.screenshot(t, "login")
		b.signIn(t, "not-the-token", `document.querySelector("#login-failed")`)
		b.signIn(t, s.token, `document.querySelectorAll("#flow-rows tr").length === 4`)
		cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
		if err != nil {
			t.Fatal(err)
		}
		var session *network.Cookie
		for _, c := range cookies.Cookies {
			if c.Name == "customs_console" {
				session = c
			}
		}
		if session == nil {
			t.Fatalf("no session cookie after signing in: %+v", cookies.Cookies)
		}
		if !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Path != "/ui/" || session.Secure {
			t.Errorf("session cookie: HttpOnly %v, SameSite %q, Path %q, Secure %v; want HttpOnly, Strict, /ui/, not Secure over plain HTTP",
				session.HTTPOnly, session.SameSite, session.Path, session.Secure)
		}
		if strings.Contains(session.Value, s.token) {
			t.Error("the session cookie holds the admin token")
		}
		if got := eval[string](t, b, `document.cookie`); strings.Contains(got, "customs_console") {
			t.Errorf("page script can read the session cookie: %q", got)
		}
	})

	t.Run("live flow list", func(t *testing.T) {
		b.wait(t, `document.querySelectorAll("#flow-rows tr").length === 4`)
		b.screenshot(t, "flows")
		// A marker on the page's window survives only if the page is not reloaded.
		eval[bool](t, b, `(window.__stillHere = 42, true)`)
		if st := send(t, c1, "https://api.mistral.ai/v1/chat/completions", "application/json", chat("mistral-large-latest", "hello from the live test")); st != 200 {
			t.Fatalf("mistral: status %d", st)
		}
		b.wait(t, `document.querySelector('#flow-rows tr[data-vendor="mistral"]')`)
		if !eval[bool](t, b, `window.__stillHere === 42 && document.querySelectorAll("#flow-rows tr").length === 5`) {
			t.Error("the new flow appeared by reloading the page, or the list lost rows")
		}
		if eval[string](t, b, `document.querySelector("#flow-rows tr").dataset.vendor`) != "mistral" {
			t.Error("the newest flow is not first")
		}
	})

	t.Run("flow content stays text", func(t *testing.T) {
		id := flowID(t, s, "gpt-4o-mini")
		b.showFlow(t, id)
		body := eval[string](t, b, `document.querySelector("#request-body").textContent`)
		for _, want := range []string{`<script>window.__xss=1</script>`, `<img src=x onerror=\"window.__xss=2\">`} {
			if !strings.Contains(body, want) {
				t.Errorf("request body shown as %q, want it to hold %q as text", body, want)
			}
		}
		if !eval[bool](t, b, `window.__xss === undefined && document.querySelectorAll('img[src="x"], #flow script').length === 0`) {
			t.Error("flow content ran as markup")
		}
		eval[bool](t, b, `(document.querySelector("#request-body").scrollIntoView({block: "center"}), true)`)
		b.screenshot(t, "flow-body")
	})

	t.Run("reveal is audited", func(t *testing.T) {
		id := flowID(t, s, "gpt-4o")
		b.showFlow(t, id)
		if body := eval[string](t, b, `document.querySelector("#request-body").textContent`); strings.Contains(body, awsKey) || !strings.Contains(body, "AKIA************PLMR") {
			t.Errorf("masked body %q", body)
		}
		if got := eval[string](t, b, `document.querySelector("#flow").innerText`); !strings.Contains(got, "block-secrets-to-ai") || !strings.Contains(got, "secret.aws-access-key-id") {
			t.Errorf("the flow page lacks its policy or finding: %q", got)
		}
		b.screenshot(t, "flow")
		b.do(t, chromedp.SendKeys(chromedp.CSS("#purpose"), "incident 42"), chromedp.Click(chromedp.CSS("#reveal")))
		b.wait(t, `document.querySelector("#revealed")`)
		if body := eval[string](t, b, `document.querySelector("#request-body").textContent`); !strings.Contains(body, awsKey) {
			t.Errorf("revealed body %q lacks the key", body)
		}
		audit, err := os.ReadFile(filepath.Join(s.data, "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(audit, []byte(`"via":"web console"`)) || !bytes.Contains(audit, []byte(id+": incident 42")) || bytes.Contains(audit, []byte(awsKey)) {
			t.Errorf("audit.log: %s", audit)
		}
	})

	t.Run("map", func(t *testing.T) {
		b.route(t, "#/map?since=1h")
		b.wait(t, `document.querySelectorAll("#map svg g.node").length > 0`)
		nodes := func(column string) []string {
			return eval[[]string](t, b, `[...document.querySelectorAll("#map svg g.node.`+column+` > title")].map(n => n.textContent.split(/[:(]/)[0].trim())`)
		}
		vendors, clients, subs := nodes("vendor"), nodes("client"), nodes("subprocessor")
		for _, v := range []string{"openai", "anthropic", "mixpanel", "mistral"} {
			if !slices.Contains(vendors, names[v]) {
				t.Errorf("vendor node %q missing: %q", names[v], vendors)
			}
		}
		if !slices.Contains(clients, "127.0.0.1") || !slices.Contains(clients, "data-team") {
			t.Errorf("client nodes %q, want 127.0.0.1 and data-team (127.0.0.2)", clients)
		}
		if len(subs) == 0 {
			t.Error("no subprocessor nodes")
		}
		edges := eval[[]string](t, b, `[...document.querySelectorAll("#map svg g.edges > path > title")].map(n => n.textContent)`)
		for _, want := range []string{
			"127.0.0.1 → " + names["openai"] + ": 2 requests",
			"127.0.0.1 → " + names["mistral"] + ": 1 request",
			"data-team (127.0.0.2) → " + names["anthropic"] + ": 1 request",
			"data-team (127.0.0.2) → " + names["mixpanel"] + ": 1 request",
			names["openai"] + " → ",
		} {
			if !slices.ContainsFunc(edges, func(e string) bool { return strings.HasPrefix(e, want) }) {
				t.Errorf("no edge %q among %q", want, edges)
			}
		}
		if n := len(edges); n < 4+len(subs) {
			t.Errorf("%d edges for %d subprocessors", n, len(subs))
		}
		b.screenshot(t, "map")
	})

	t.Run("a map node filters the flow list", func(t *testing.T) {
		// A real click on the Anthropic node.
		box := eval[[]float64](t, b, `(() => {
			const g = [...document.querySelectorAll("#map svg g.node.vendor")].find(g => g.querySelector("title").textContent.startsWith(`+jsString(names["anthropic"]+" (")+`));
			g.scrollIntoView({block: "center"});
			const r = g.querySelector("rect").getBoundingClientRect();
			return [r.x + r.width / 2, r.y + r.height / 2];
		})()`)
		b.do(t, chromedp.MouseClickXY(box[0], box[1]))
		b.wait(t, `location.hash.startsWith("#/flows?") && document.querySelectorAll("#flow-rows tr").length > 0`)
		if got := eval[[]string](t, b, `[...document.querySelectorAll("#flow-rows tr")].map(r => r.dataset.vendor)`); len(got) != 1 || got[0] != "anthropic" {
			t.Errorf("after a click on the Anthropic node the list shows vendors %q", got)
		}
		if v := eval[string](t, b, `document.querySelector("#f-vendor").value`); v != "anthropic" {
			t.Errorf("vendor filter %q", v)
		}
	})

	t.Run("labels stay text on the map", func(t *testing.T) {
		if st := send(t, c1, "https://llm.internal.example/v1/chat/completions", "application/json", chat("llama-3", "hello")); st != 200 {
			t.Fatalf("internal LLM: status %d", st)
		}
		s.waitFlows(t, 6)
		var m struct {
			SVG string `json:"svg"`
		}
		if st := s.getJSON(t, "/ui/api/map?since=1h", s.token, &m); st != 200 {
			t.Fatalf("map: %d", st)
		}
		if strings.Contains(m.SVG, "<script") || !strings.Contains(m.SVG, "&lt;script&gt;window.__xss=3") {
			t.Errorf("the SVG renderer does not escape labels: %s", m.SVG)
		}
		b.route(t, "#/map?since=30m")
		b.wait(t, `[...document.querySelectorAll("#map svg g.node.vendor > title")].some(n => n.textContent.startsWith("Internal LLM <script>"))`)
		if !eval[bool](t, b, `window.__xss === undefined && document.querySelectorAll("#map script").length === 0`) {
			t.Error("a label ran as markup")
		}
	})

	t.Run("exposure", func(t *testing.T) {
		b.route(t, "#/exposure?vendor=openai&since=1h")
		b.wait(t, `document.querySelector("#exposure-summary")`)
		// Directly from 127.0.0.1; Mistral's flow through its supply chain (Mistral → … → OpenAI
		// is in the catalog when the test runs, or not).
		if got := eval[string](t, b, `document.querySelector("#exposure-summary").textContent`); !strings.Contains(got, "may have reached openai: 2 directly") {
			t.Errorf("exposure summary %q", got)
		}
		b.screenshot(t, "exposure")
	})

	t.Run("the HTML report", func(t *testing.T) {
		// customs report, as an operator runs it while serve holds the store: serve counts the
		// flows through its admin API and the command draws them into one file.
		page := filepath.Join(t.TempDir(), "supply-chain.html")
		out, err := exec.Command(customsBinary(t), "report", "--since", "1h", "--format", "html", "--out", page,
			"--config", filepath.Join(s.data, "customs.yaml"), "--data", s.data, "--admin", s.admin).CombinedOutput()
		if err != nil {
			t.Fatalf("customs report: %v\n%s", err, out)
		}
		b.do(t, chromedp.Navigate("file://"+page))
		b.wait(t, `document.querySelectorAll("svg.customs-map g.node").length > 0`)
		nodes := func(column string) []string {
			return eval[[]string](t, b, `[...document.querySelectorAll("svg.customs-map g.node.`+column+` > title")].map(n => n.textContent.split(/[:(]/)[0].trim())`)
		}
		vendors, clients := nodes("vendor"), nodes("client")
		for _, v := range []string{"openai", "anthropic", "mixpanel", "mistral"} {
			if !slices.Contains(vendors, names[v]) {
				t.Errorf("report: vendor node %q missing: %q", names[v], vendors)
			}
		}
		if !slices.Contains(clients, "127.0.0.1") || !slices.Contains(clients, "data-team") {
			t.Errorf("report: client nodes %q, want 127.0.0.1 and data-team", clients)
		}
		if len(nodes("subprocessor")) == 0 {
			t.Error("report: no subprocessor nodes")
		}
		edges := eval[[]string](t, b, `[...document.querySelectorAll("svg.customs-map g.edges > path > title")].map(n => n.textContent)`)
		for _, want := range []string{"127.0.0.1 → " + names["openai"] + ": 2 requests", "data-team (127.0.0.2) → " + names["mixpanel"] + ": 1 request"} {
			if !slices.ContainsFunc(edges, func(e string) bool { return strings.HasPrefix(e, want) }) {
				t.Errorf("report: no edge %q among %q", want, edges)
			}
		}
		text := eval[string](t, b, `document.body.innerText`)
		for _, want := range []string{"Concentration", "HHI", "AKIA************PLMR"} {
			if !strings.Contains(text, want) {
				t.Errorf("report page lacks %q", want)
			}
		}
		if strings.Contains(text, awsKey) {
			t.Error("the report shows the key in clear")
		}
		// Self-contained: the page loaded nothing beyond itself, and nothing on it ran.
		if n := eval[int](t, b, `performance.getEntriesByType("resource").length`); n != 0 {
			t.Errorf("the report fetched %d resources", n)
		}
		if !eval[bool](t, b, `window.__xss === undefined && document.scripts.length === 0`) {
			t.Error("the report ran a script")
		}
		b.screenshot(t, "report")
	})

	if p := b.problems(); len(p) > 0 {
		t.Errorf("the pages raised exceptions or security errors:\n%s", strings.Join(p, "\n"))
	}
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}

// testAccess checks the access rules over plain HTTP: what needs the token answers 401
// without it, every request naming another host 421, the login cookie's attributes, and that
// a POST with a session needs the page's origin and CSRF token.
func testAccess(t *testing.T, s *served) {
	id := flowID(t, s, "gpt-4o")
	do := func(method, path, token, host string, header http.Header, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+s.admin+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if host != "" {
			req.Host = host
		}
		for k, v := range header {
			req.Header[k] = v
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp
	}
	bodyOf := func(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

	for _, tt := range []struct {
		method, path, token, host string
		want                      int
	}{
		{"GET", "/ui/api/flows", "", "", 401},
		{"GET", "/ui/api/flows", "wrong", "", 401},
		{"GET", "/ui/api/flows/" + id, "", "", 401},
		{"POST", "/ui/api/flows/" + id + "/reveal", "", "", 401},
		{"GET", "/ui/api/map", "", "", 401},
		{"GET", "/ui/api/exposure?vendor=openai", "", "", 401},
		{"GET", "/ui/api/catalog", "", "", 200}, // loopback: open
		{"GET", "/ui/api/rules", "", "", 200},
		{"GET", "/ui/", "", "", 200},
		{"GET", "/ui/api/flows/" + id, s.token, "", 200},
		{"GET", "/ui/", "", "rebind.example", 421},
		{"GET", "/ui/api/flows", s.token, "rebind.example:8081", 421},
		{"GET", "/ui/api/flows/" + id, s.token, "evil.test", 421},
		{"POST", "/ui/login", "", "evil.test", 421},
	} {
		r := do(tt.method, tt.path, tt.token, tt.host, nil, "")
		if r.StatusCode != tt.want {
			t.Errorf("%s %s (token %q, Host %q): %d, want %d: %s", tt.method, tt.path, tt.token, tt.host, r.StatusCode, tt.want, bodyOf(r))
		}
		if r.StatusCode != 421 {
			if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
				t.Errorf("%s: Content-Security-Policy %q", tt.path, csp)
			}
			if r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no nosniff", tt.path)
			}
		}
	}
	// The masked flow holds no value; the bearer token never reveals by GET.
	if r := do("GET", "/ui/api/flows/"+id+"?reveal=1", s.token, "", nil, ""); strings.Contains(bodyOf(r), awsKey) {
		t.Error("GET revealed a value")
	}

	// Login: a wrong token sets no cookie; the right one an HttpOnly, SameSite=Strict cookie.
	origin := http.Header{"Origin": {"http://" + s.admin}}
	if r := do("POST", "/ui/login", "", "", origin, "token=nope"); r.StatusCode != http.StatusSeeOther || len(r.Cookies()) != 0 {
		t.Errorf("wrong token: %d, cookies %v", r.StatusCode, r.Cookies())
	}
	if r := do("POST", "/ui/login", "", "", http.Header{"Origin": {"http://evil.test"}}, "token="+url.QueryEscape(s.token)); r.StatusCode != 403 || len(r.Cookies()) != 0 {
		t.Errorf("cross-origin login: %d, cookies %v", r.StatusCode, r.Cookies())
	}
	r := do("POST", "/ui/login", "", "", origin, "token="+url.QueryEscape(s.token)+"&next=/flows")
	cookies := r.Cookies()
	if r.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("login: %d, cookies %v", r.StatusCode, cookies)
	}
	ck := cookies[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/ui/" || r.Header.Get("Location") != "/ui/#/flows" {
		t.Errorf("login cookie %q (HttpOnly %v, SameSite %v, Secure %v), Location %q", r.Header.Get("Set-Cookie"), ck.HttpOnly, ck.SameSite, ck.Secure, r.Header.Get("Location"))
	}
	withCookie := func(h http.Header) http.Header {
		h = h.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("Cookie", ck.Name+"="+ck.Value)
		return h
	}
	var sess struct{ CSRF string }
	if r := do("GET", "/ui/api/session", "", "", withCookie(nil), ""); json.Unmarshal([]byte(bodyOf(r)), &sess) != nil || sess.CSRF == "" {
		t.Fatal("no CSRF token for the session")
	}
	csrf := http.Header{"X-Customs-Csrf": {sess.CSRF}}
	for _, tt := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no CSRF token", withCookie(origin), 403},
		{"wrong CSRF token", withCookie(http.Header{"Origin": origin["Origin"], "X-Customs-Csrf": {"x"}}), 403},
		{"other origin", withCookie(http.Header{"Origin": {"http://evil.test"}, "X-Customs-Csrf": csrf["X-Customs-Csrf"]}), 403},
		{"cross-site fetch", withCookie(http.Header{"Sec-Fetch-Site": {"cross-site"}, "X-Customs-Csrf": csrf["X-Customs-Csrf"]}), 403},
		{"same origin with the token", withCookie(http.Header{"Origin": origin["Origin"], "X-Customs-Csrf": csrf["X-Customs-Csrf"]}), 200},
	} {
		before, _ := os.ReadFile(filepath.Join(s.data, "audit.log"))
		r := do("POST", "/ui/api/flows/"+id+"/reveal", "", "", tt.header, "purpose=access+test")
		after, _ := os.ReadFile(filepath.Join(s.data, "audit.log"))
		if r.StatusCode != tt.want {
			t.Errorf("reveal, %s: %d, want %d", tt.name, r.StatusCode, tt.want)
		}
		if audited := len(after) > len(before); audited != (tt.want == 200) {
			t.Errorf("reveal, %s: audited %v", tt.name, audited)
		}
	}
	// Logout ends the session on the server, not only in the browser.
	if r := do("POST", "/ui/logout", "", "", withCookie(http.Header{"Origin": origin["Origin"], "X-Customs-Csrf": csrf["X-Customs-Csrf"]}), ""); r.StatusCode != 204 {
		t.Errorf("logout: %d", r.StatusCode)
	}
	if r := do("GET", "/ui/api/flows", "", "", withCookie(nil), ""); r.StatusCode != 401 {
		t.Errorf("after logout: %d", r.StatusCode)
	}
}

// flowID is the ID of the stored flow that asked for model.
func flowID(t *testing.T, s *served, model string) string {
	t.Helper()
	var got struct {
		Flows []struct {
			ID    string `json:"flow_id"`
			Model string `json:"model"`
		} `json:"flows"`
	}
	if st := s.getJSON(t, "/ui/api/flows?since=1h&limit=1000", s.token, &got); st != 200 {
		t.Fatalf("list: %d", st)
	}
	for _, f := range got.Flows {
		if f.Model == model {
			return f.ID
		}
	}
	t.Fatalf("no flow for model %s in %+v", model, got.Flows)
	return ""
}

// vendorNames are the catalog's names by vendor ID.
func vendorNames(t *testing.T, s *served) map[string]string {
	t.Helper()
	var cat struct {
		Vendors []struct{ ID, Name string }
	}
	if st := s.getJSON(t, "/ui/api/catalog", "", &cat); st != 200 {
		t.Fatalf("catalog: %d", st)
	}
	out := map[string]string{}
	for _, v := range cat.Vendors {
		out[v.ID] = v.Name
	}
	return out
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
