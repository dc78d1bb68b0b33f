// Package console is the web console on the admin listener (/ui/): the live flow list and each
// flow (masked, revealed only with the token and an audit line), the supply-chain map, exposure
// to a vendor, the rules in force and the vendor catalog. The pages are hand-written HTML, CSS
// and JavaScript embedded in the binary (assets/); nothing is fetched from elsewhere at run
// time, and no build step is needed.
//
// Who may read what (the admin listener's rules, see cmd/customs/adminapi.go):
//
//   - The admin listener checks Host on every request before the console sees it (a
//     DNS-rebinding page names its own domain: 421). The console must be mounted behind that
//     check.
//   - The page itself (HTML, CSS, JS), the login form and /ui/api/session open to anyone who
//     passes it: they hold no data.
//   - The catalog and the rules in force read nothing from the flow store: on a loopback
//     listener they open without the token, as /metrics does; on any other address they need it.
//   - Everything read from the flow store — the flow list (metadata too, as the flow API),
//     each flow with its masked bodies, the map, exposure — needs the token on every address,
//     loopback included: the console is no way around the flow API's rule.
//   - A reveal (values in clear) is a POST that needs the token, is appended to DIR/audit.log
//     before anything is read, and is refused when it cannot be.
//
// "The token" is the admin token (DIR/admin.token), sent as "Authorization: Bearer" or entered
// once in the login form, which sets an HttpOnly, SameSite=Strict session cookie (Secure over
// TLS) scoped to /ui/. Sessions live in memory for 12 hours, or until logout or restart. Every
// state-changing request is a POST; with a session cookie it must come from the console's own
// origin (Origin, else Sec-Fetch-Site) and, but for the login itself, carry the session's CSRF
// token in X-Customs-CSRF. Every answer carries a strict Content-Security-Policy (scripts and
// styles from /ui/assets only, nothing inline, no framing) and X-Content-Type-Options: nosniff;
// the pages write flow content with textContent only.
package console

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/store"
)

//go:embed assets
var assets embed.FS

// Options wire the console.
type Options struct {
	// Token is the admin token (DIR/admin.token). Empty: nothing that needs it is served (the
	// console never falls open).
	Token string
	// Loopback says the admin listener listens on loopback only: the catalog and the rules
	// then open without the token.
	Loopback bool
	// Flows reads the store, masked; Store is the same store, for the map and exposure
	// (report's scans). Both nil when serve records no flows; StoreError then says why.
	Flows      Flows
	Store      *store.Store
	StoreError string
	// Catalog returns the catalog in force (it changes with a reload of the rule files).
	Catalog func() *catalog.Catalog
	// Rules is what the rules page shows; nil: no rules page.
	Rules Rules
	// Namer names clients on the map and in exposures (the config's clients:); nil names none.
	Namer func(ip, user string) string
	// Now is the clock (tests); nil is time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Console serves /ui/.
type Console struct {
	o        Options
	mux      *http.ServeMux
	sessions *sessions
}

// New returns the console's handler, to be mounted at /ui/ behind the admin listener's Host check.
func New(o Options) *Console {
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Console{o: o, mux: http.NewServeMux(), sessions: newSessions(o.Now)}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded directory exists: a build without it does not compile
	}
	files := http.StripPrefix("/ui/assets/", http.FileServerFS(static))
	m := c.mux
	m.HandleFunc("GET /ui/{$}", c.index)
	m.HandleFunc("GET /ui/assets/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, "/index.html") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	m.HandleFunc("POST /ui/login", c.login)
	m.HandleFunc("POST /ui/logout", c.need(needToken, c.logout))
	m.HandleFunc("GET /ui/api/session", c.session)
	m.HandleFunc("GET /ui/api/flows", c.need(needToken, c.store(c.listFlows)))
	m.HandleFunc("GET /ui/api/flows/{id}", c.need(needToken, c.store(c.getFlow)))
	m.HandleFunc("POST /ui/api/flows/{id}/reveal", c.need(needToken, c.store(c.revealFlow)))
	m.HandleFunc("GET /ui/api/map", c.need(needToken, c.store(c.supplyMap)))
	m.HandleFunc("GET /ui/api/exposure", c.need(needToken, c.store(c.exposure)))
	m.HandleFunc("GET /ui/api/rules", c.need(openOnLoopback, c.rules))
	m.HandleFunc("GET /ui/api/catalog", c.need(openOnLoopback, c.catalogList))
	m.HandleFunc("GET /ui/api/catalog/{id}", c.need(openOnLoopback, c.catalogVendor))
	return c
}

// csp allows the console's own scripts, styles, images and requests, nothing inline (no
// 'unsafe-inline', no hashes: the pages have no inline script or style), no plugins, no
// framing, and forms that post only to the console.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'none'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// ServeHTTP sets the security headers every answer carries and routes the request.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // the Origin of our own POSTs, nothing to other sites
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, "/ui/api/") {
		h.Set("Cache-Control", "no-store")
	}
	c.mux.ServeHTTP(w, r)
}

func (c *Console) index(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// access is what a route needs.
type access int

const (
	// openOnLoopback: open on a loopback listener, the token elsewhere (what /metrics needs).
	openOnLoopback access = iota
	// needToken: the token on every address (what the flow API needs).
	needToken
)

// caller is who a request comes from.
type caller struct {
	// bearer: the request carries the token itself (a script); session: a login cookie.
	bearer  bool
	session *session
}

func (k caller) authenticated() bool { return k.bearer || k.session != nil }

// caller reads a request's credentials: the bearer token, else a live session cookie.
func (c *Console) caller(r *http.Request) caller {
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		// No token is no access: the console never falls open.
		return caller{bearer: c.o.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.o.Token)) == 1}
	}
	if ck, err := r.Cookie(cookieName); err == nil && c.o.Token != "" {
		if s := c.sessions.get(ck.Value); s != nil {
			return caller{session: s}
		}
	}
	return caller{}
}

// need guards h: the request must be allowed by a; a POST made with a session cookie must
// also come from the console's origin and carry the session's CSRF token.
func (c *Console) need(a access, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		k := c.caller(r)
		if !k.authenticated() && !(a == openOnLoopback && c.o.Loopback) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="customs"`)
			writeError(w, http.StatusUnauthorized, "the admin token is required (DIR/admin.token): sign in at /ui/#/login")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !k.bearer {
			if !sameOrigin(r) {
				writeError(w, http.StatusForbidden, "cross-origin request refused")
				return
			}
			if k.session == nil || subtle.ConstantTimeCompare([]byte(r.Header.Get(csrfHeader)), []byte(k.session.csrf)) != 1 {
				writeError(w, http.StatusForbidden, "missing or wrong "+csrfHeader+" header (reload the page)")
				return
			}
		}
		h(w, r)
	}
}

// store guards a handler that reads the flow store: 503 when serve records no flows.
func (c *Console) store(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.o.Flows == nil || c.o.Store == nil {
			msg := c.o.StoreError
			if msg == "" {
				msg = "customs serve records no flows"
			}
			writeError(w, http.StatusServiceUnavailable, "no flow store: "+msg)
			return
		}
		h(w, r)
	}
}

// sameOrigin reports whether a browser says the request comes from the page it is sent to:
// Origin, when sent, names this scheme and Host; else (no Origin, or an opaque "null" one)
// Sec-Fetch-Site says same-origin (or none: typed by the user). A request with neither comes
// from no browser, which a forged cross-site request always does; an opaque origin with no
// Sec-Fetch-Site (a sandboxed frame in an old browser) is refused.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o != "" && o != "null" {
		scheme := "http://"
		if r.TLS != nil {
			scheme = "https://"
		}
		return strings.EqualFold(o, scheme+r.Host)
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin" || s == "none"
	}
	return o == ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError answers {"error": msg}: the pages show msg as text.
func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
