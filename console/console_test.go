package console_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/console"
	"github.com/customs-dev/customs/store"
)

const token = "0123456789abcdef0123456789abcdef"

// fakeFlows is a console.Flows over a fixed list: it checks what the console asks, not the
// masking (cmd/customs tests that, with serve's own implementation).
type fakeFlows struct {
	mu      sync.Mutex
	flows   []map[string]any
	reveals []console.Reveal
	// auditErr is what recording a reveal fails with (nil: it succeeds).
	auditErr error
}

func (f *fakeFlows) Filter(q url.Values) (store.Filter, error) {
	out := store.Filter{Vendor: q.Get("vendor")}
	if out.Vendor == "opnai" {
		return out, errors.New(`vendor: unknown vendor "opnai" (did you mean "openai"?)`)
	}
	if v := q.Get("since"); v != "" {
		d, err := time.ParseDuration(strings.Replace(v, "d", "h", 1))
		if err != nil {
			return out, fmt.Errorf("since: %w", err)
		}
		out.Since = time.Now().Add(-d)
	}
	if v := q.Get("limit"); v != "" {
		out.Limit, _ = strconv.Atoi(v)
	}
	return out, nil
}

func (f *fakeFlows) List(_ context.Context, flt store.Filter, fn func(any) error) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.flows {
		if flt.Limit > 0 && i == flt.Limit {
			return true, nil
		}
		if err := fn(map[string]any{"flow_id": x["flow_id"], "host": x["host"]}); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (f *fakeFlows) Get(_ context.Context, id string, reveal *console.Reveal) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range f.flows {
		if x["flow_id"] != id {
			continue
		}
		if reveal == nil {
			return map[string]any{"flow_id": id, "request_body": "[masked]", "masked": true}, nil
		}
		if f.auditErr != nil {
			return nil, f.auditErr
		}
		f.reveals = append(f.reveals, *reveal)
		return x, nil
	}
	return nil, fmt.Errorf("no flow %q: %w", id, store.ErrNotFound)
}

func (f *fakeFlows) add(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.flows = append(f.flows, map[string]any{"flow_id": fmt.Sprintf("F%03d", len(f.flows)), "host": "api.openai.com",
			"request_body": "the secret value"})
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	srv   *httptest.Server
	flows *fakeFlows
	clock *clock
}

// newFixture serves a console on loopback or not, over a real (empty) store for the map.
func newFixture(t *testing.T, loopback bool) *fixture {
	t.Helper()
	st, err := store.Open(store.Options{Dir: filepath.Join(t.TempDir(), "store"), Logger: zerolog.Nop(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	f := &fixture{flows: &fakeFlows{}, clock: &clock{t: time.Now()}}
	f.flows.add(3)
	c := console.New(console.Options{Token: token, Loopback: loopback, Flows: f.flows, Store: st, Now: f.clock.now, Logger: zerolog.Nop()})
	f.srv = httptest.NewServer(c)
	t.Cleanup(f.srv.Close)
	return f
}

type req struct {
	method, path string
	header       http.Header
	body         string
}

func (f *fixture) do(t *testing.T, r req) (*http.Response, string) {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr, _ := http.NewRequest(r.method, f.srv.URL+r.path, strings.NewReader(r.body))
	for k, v := range r.header {
		hr.Header[k] = v
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// login signs in and returns the cookie header and the session's CSRF token.
func (f *fixture) login(t *testing.T) (http.Header, string) {
	t.Helper()
	resp, _ := f.do(t, req{method: "POST", path: "/ui/login", header: http.Header{"Origin": {f.srv.URL}}, body: "token=" + token})
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d %v", resp.StatusCode, resp.Cookies())
	}
	ck := resp.Cookies()[0]
	h := http.Header{"Cookie": {ck.Name + "=" + ck.Value}}
	_, body := f.do(t, req{path: "/ui/api/session", header: h})
	m := regexp.MustCompile(`"csrf":"([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("session: %s", body)
	}
	return h, m[1]
}

// Who may read what, on a loopback listener and on another address: the catalog and the rules
// open on loopback only; whatever reads the flow store needs the token on every address; the
// page itself opens to anyone (the admin listener checked Host first).
func TestAccessRules(t *testing.T) {
	routes := []struct {
		path     string
		onlyLoop bool // open without the token on loopback
		open     bool // open without the token everywhere
	}{
		{path: "/ui/", open: true},
		{path: "/ui/assets/app.js", open: true},
		{path: "/ui/api/session", open: true},
		{path: "/ui/api/catalog", onlyLoop: true},
		{path: "/ui/api/catalog/openai", onlyLoop: true},
		{path: "/ui/api/rules", onlyLoop: true},
		{path: "/ui/api/flows"},
		{path: "/ui/api/flows/F000"},
		{path: "/ui/api/map"},
		{path: "/ui/api/exposure?vendor=openai"},
	}
	for _, loopback := range []bool{true, false} {
		f := newFixture(t, loopback)
		for _, rt := range routes {
			for _, cred := range []string{"none", "wrong", "token"} {
				t.Run(fmt.Sprintf("loopback=%v %s %s", loopback, rt.path, cred), func(t *testing.T) {
					var h http.Header
					switch cred {
					case "wrong":
						h = bearer("nope")
					case "token":
						h = bearer(token)
					}
					resp, body := f.do(t, req{path: rt.path, header: h})
					want := http.StatusUnauthorized
					if cred == "token" || rt.open || (rt.onlyLoop && loopback) {
						want = http.StatusOK
					}
					if rt.path == "/ui/api/rules" && want == http.StatusOK {
						want = http.StatusServiceUnavailable // this fixture has no rules
					}
					if resp.StatusCode != want {
						t.Errorf("%d, want %d: %s", resp.StatusCode, want, body)
					}
					if resp.StatusCode == 401 && strings.Contains(body, "F00") {
						t.Errorf("a refusal holds data: %s", body)
					}
					rh := resp.Header
					if rh.Get("Content-Security-Policy") == "" || rh.Get("X-Content-Type-Options") != "nosniff" || rh.Get("X-Frame-Options") != "DENY" {
						t.Errorf("security headers missing: %v", rh)
					}
				})
			}
		}
	}
}

// A reveal is a POST with the token; with a session cookie it must also come from the page
// (Origin, else Sec-Fetch-Site) with the session's CSRF token. A GET never reveals.
func TestRevealNeedsTokenOriginAndCSRF(t *testing.T) {
	f := newFixture(t, true)
	cookie, csrf := f.login(t)
	with := func(extra map[string]string) http.Header {
		h := cookie.Clone()
		for k, v := range extra {
			h.Set(k, v)
		}
		return h
	}
	for _, tt := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no credentials", http.Header{"Origin": {f.srv.URL}}, 401},
		{"cookie, no CSRF token", with(map[string]string{"Origin": f.srv.URL}), 403},
		{"cookie, wrong CSRF token", with(map[string]string{"Origin": f.srv.URL, "X-Customs-CSRF": csrf + "x"}), 403},
		{"cookie, CSRF token, other origin", with(map[string]string{"Origin": "http://evil.test", "X-Customs-CSRF": csrf}), 403},
		{"cookie, CSRF token, opaque origin", with(map[string]string{"Origin": "null", "X-Customs-CSRF": csrf}), 403},
		{"cookie, CSRF token, cross-site fetch", with(map[string]string{"Sec-Fetch-Site": "cross-site", "X-Customs-CSRF": csrf}), 403},
		{"cookie, CSRF token, opaque origin, same-origin fetch", with(map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin", "X-Customs-CSRF": csrf}), 200},
		{"cookie, CSRF token, same origin", with(map[string]string{"Origin": f.srv.URL, "X-Customs-CSRF": csrf}), 200},
		{"bearer token (a script)", bearer(token), 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.flows.reveals)
			resp, body := f.do(t, req{method: "POST", path: "/ui/api/flows/F001/reveal", header: tt.header, body: "purpose=ticket+7"})
			if resp.StatusCode != tt.want {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			revealed := len(f.flows.reveals) > before
			if revealed != (tt.want == 200) || strings.Contains(body, "the secret value") != (tt.want == 200) {
				t.Errorf("revealed %v: %s", revealed, body)
			}
			if revealed && f.flows.reveals[len(f.flows.reveals)-1].Purpose != "ticket 7" {
				t.Errorf("purpose %q", f.flows.reveals[len(f.flows.reveals)-1].Purpose)
			}
		})
	}
	if resp, body := f.do(t, req{path: "/ui/api/flows/F001?reveal=1", header: bearer(token)}); resp.StatusCode != 200 || strings.Contains(body, "the secret value") {
		t.Errorf("GET with reveal=1: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, req{method: "GET", path: "/ui/api/flows/F001/reveal", header: bearer(token)}); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET of the reveal route: %d", resp.StatusCode)
	}
}

// A reveal that cannot be recorded is refused, and nothing of the flow is sent.
func TestRevealRefusedWhenAuditFails(t *testing.T) {
	f := newFixture(t, true)
	f.flows.auditErr = errors.New("a reveal is recorded in DIR/audit.log, which cannot be written, so none is made")
	resp, body := f.do(t, req{method: "POST", path: "/ui/api/flows/F001/reveal", header: bearer(token)})
	if resp.StatusCode != 500 || strings.Contains(body, "the secret value") || !strings.Contains(body, "cannot be written") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, req{method: "POST", path: "/ui/api/flows/NOPE/reveal", header: bearer(token)}); resp.StatusCode != 404 {
		t.Errorf("unknown flow: %d %s", resp.StatusCode, body)
	}
}

// The login sets an HttpOnly, SameSite=Strict cookie scoped to /ui/ (Secure over TLS), keeps
// the page's route, refuses a wrong token and another origin, expires after 12 hours, and
// logout ends it on the server.
func TestLoginSession(t *testing.T) {
	f := newFixture(t, false)
	origin := http.Header{"Origin": {f.srv.URL}}
	resp, _ := f.do(t, req{method: "POST", path: "/ui/login", header: origin, body: "token=wrong&next=/map"})
	if resp.StatusCode != 303 || len(resp.Cookies()) != 0 || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/?login=failed#/login") {
		t.Errorf("wrong token: %d %v %q", resp.StatusCode, resp.Cookies(), resp.Header.Get("Location"))
	}
	for _, o := range []string{"http://evil.test", "null"} {
		if resp, _ := f.do(t, req{method: "POST", path: "/ui/login", header: http.Header{"Origin": {o}}, body: "token=" + token}); resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
			t.Errorf("login from origin %s: %d %v", o, resp.StatusCode, resp.Cookies())
		}
	}
	for next, want := range map[string]string{
		"/map?since=7d":          "/ui/#/map?since=7d",
		"//evil.test/":           "/ui/#/flows",
		"https://evil.test":      "/ui/#/flows",
		`/flows"><script>`:       "/ui/#/flows",
		"":                       "/ui/#/flows",
		"/flow/01K5\u2028x":      "/ui/#/flows",
		"/exposure?vendor=stat1": "/ui/#/exposure?vendor=stat1",
	} {
		resp, _ := f.do(t, req{method: "POST", path: "/ui/login", header: origin, body: url.Values{"token": {token}, "next": {next}}.Encode()})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next %q: Location %q, want %q", next, got, want)
		}
		ck := resp.Cookies()[0]
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/ui/" || ck.Secure || ck.MaxAge != 12*3600 {
			t.Errorf("cookie %+v", ck)
		}
		if strings.Contains(ck.Value, token) {
			t.Error("the cookie holds the token")
		}
	}
	cookie, _ := f.login(t)
	if resp, _ := f.do(t, req{path: "/ui/api/flows", header: cookie}); resp.StatusCode != 200 {
		t.Errorf("signed in: %d", resp.StatusCode)
	}
	f.clock.advance(12*time.Hour - time.Second)
	if resp, _ := f.do(t, req{path: "/ui/api/flows", header: cookie}); resp.StatusCode != 200 {
		t.Errorf("before expiry: %d", resp.StatusCode)
	}
	f.clock.advance(time.Second)
	if resp, _ := f.do(t, req{path: "/ui/api/flows", header: cookie}); resp.StatusCode != 401 {
		t.Errorf("after 12 hours: %d", resp.StatusCode)
	}
	cookie, csrf := f.login(t)
	h := cookie.Clone()
	h.Set("Origin", f.srv.URL)
	if resp, _ := f.do(t, req{method: "POST", path: "/ui/logout", header: h}); resp.StatusCode != 403 {
		t.Errorf("logout without the CSRF token: %d", resp.StatusCode)
	}
	h.Set("X-Customs-CSRF", csrf)
	resp, _ = f.do(t, req{method: "POST", path: "/ui/logout", header: h})
	if resp.StatusCode != 204 || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: %d %v", resp.StatusCode, resp.Cookies())
	}
	if resp, _ := f.do(t, req{path: "/ui/api/flows", header: cookie}); resp.StatusCode != 401 {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

// The secure flag follows TLS.
func TestSecureCookieOverTLS(t *testing.T) {
	st, err := store.Open(store.Options{Dir: filepath.Join(t.TempDir(), "store"), Logger: zerolog.Nop(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	srv := httptest.NewTLSServer(console.New(console.Options{Token: token, Flows: &fakeFlows{}, Store: st, Logger: zerolog.Nop()}))
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r, _ := http.NewRequest("POST", srv.URL+"/ui/login", strings.NewReader("token="+token))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", srv.URL)
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cs := resp.Cookies(); len(cs) != 1 || !cs[0].Secure || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie over TLS: %v", resp.Header["Set-Cookie"])
	}
}

// The list: the limit is 50 unless given, 1 to 1000; an unchanged list is a 304 (the page
// polls); a filter error is a 400 with the message; no store is a 503 that says why.
func TestListFlows(t *testing.T) {
	f := newFixture(t, true)
	f.flows.add(60)
	resp, body := f.do(t, req{path: "/ui/api/flows", header: bearer(token)})
	if resp.StatusCode != 200 || strings.Count(body, `"flow_id"`) != 50 || !strings.Contains(body, `"more":true`) {
		t.Errorf("default list: %d, %d flows: %.200s", resp.StatusCode, strings.Count(body, `"flow_id"`), body)
	}
	etag := resp.Header.Get("ETag")
	h := bearer(token)
	h.Set("If-None-Match", etag)
	if resp, _ := f.do(t, req{path: "/ui/api/flows", header: h}); resp.StatusCode != 304 {
		t.Errorf("unchanged list: %d", resp.StatusCode)
	}
	f.flows.mu.Lock()
	f.flows.flows = append([]map[string]any{{"flow_id": "F999", "host": "api.mistral.ai"}}, f.flows.flows...)
	f.flows.mu.Unlock()
	if resp, body := f.do(t, req{path: "/ui/api/flows", header: h}); resp.StatusCode != 200 || !strings.Contains(body, "F999") {
		t.Errorf("a new flow: %d", resp.StatusCode)
	}
	for q, want := range map[string]int{"limit=0": 400, "limit=1001": 400, "limit=1000": 200, "vendor=opnai": 400} {
		resp, body := f.do(t, req{path: "/ui/api/flows?" + q, header: bearer(token)})
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d: %s", q, resp.StatusCode, want, body)
		}
		if q == "vendor=opnai" && !strings.Contains(body, `did you mean \"openai\"`) {
			t.Errorf("filter error: %s", body)
		}
	}

	none := httptest.NewServer(console.New(console.Options{Token: token, StoreError: "the flow store is off (store.enabled: false)"}))
	defer none.Close()
	r, _ := http.NewRequest("GET", none.URL+"/ui/api/flows", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || !strings.Contains(string(b), "store.enabled: false") {
		t.Errorf("no store: %d %s", res.StatusCode, b)
	}
}

// The map of an empty window is still a drawing; a window that ends before it starts is an
// error.
func TestMapWindow(t *testing.T) {
	f := newFixture(t, true)
	resp, body := f.do(t, req{path: "/ui/api/map?since=24h", header: bearer(token)})
	if resp.StatusCode != 200 || !strings.Contains(body, `\u003csvg`) || !strings.Contains(body, "No flows in the window") {
		t.Errorf("empty map: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, req{path: "/ui/api/map?since=-24h", header: bearer(token)}); resp.StatusCode != 400 {
		t.Errorf("window in the future: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, req{path: "/ui/api/exposure?vendor=nosuchvendor", header: bearer(token)}); resp.StatusCode != 400 || !strings.Contains(body, "unknown vendor") {
		t.Errorf("unknown exposure target: %d %s", resp.StatusCode, body)
	}
}

// The pages write flow content as text: no HTML sink in the script, no inline script, style
// or event handler in the page (the CSP would refuse them), nothing loaded from elsewhere.
func TestAssetsHaveNoHTMLSinks(t *testing.T) {
	files, err := fs.Glob(os.DirFS("assets"), "*")
	if err != nil || len(files) == 0 {
		t.Fatalf("assets: %v", err)
	}
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\(['"]|javascript:|\.srcdoc|createContextualFragment`)
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`)
	inline := regexp.MustCompile(`(?i)<script>|<script(\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=`)
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join("assets", name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if m := sinks.FindString(s); m != "" && strings.HasSuffix(name, ".js") {
			t.Errorf("%s uses %s", name, m)
		}
		if m := external.FindString(s); m != "" {
			t.Errorf("%s loads from elsewhere: %s", name, m)
		}
		if strings.HasSuffix(name, ".html") {
			if m := inline.FindString(s); m != "" {
				t.Errorf("%s has inline script or style: %s", name, m)
			}
		}
	}
	f := newFixture(t, true)
	for path, ct := range map[string]string{"/ui/assets/app.js": "text/javascript", "/ui/assets/app.css": "text/css", "/ui/": "text/html", "/ui/assets/icon.svg": "image/svg+xml"} {
		resp, _ := f.do(t, req{path: path})
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/ui/assets/", "/ui/assets/nope.js", "/ui/nope"} {
		if resp, _ := f.do(t, req{path: path}); resp.StatusCode != 404 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}
