package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	cookieName = "customs_console"
	cookiePath = "/ui/"
	csrfHeader = "X-Customs-CSRF"
	// sessionTTL is how long a login lasts.
	sessionTTL = 12 * time.Hour
	// maxSessions bounds the sessions kept in memory; past it the oldest goes.
	maxSessions = 1000
)

// session is one login: the cookie's value is known only to the browser (the server keeps its
// hash), and csrf is what the console's own pages send back on every POST.
type session struct {
	csrf    string
	created time.Time
	expires time.Time
}

// sessions are the console's logins, in memory: a restart signs everyone out.
type sessions struct {
	mu  sync.Mutex
	m   map[[32]byte]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[[32]byte]*session{}, now: now}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session and returns the cookie value.
func (ss *sessions) create() (string, *session) {
	value := randomToken()
	now := ss.now()
	s := &session{csrf: randomToken(), created: now, expires: now.Add(sessionTTL)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, x := range ss.m {
		if !now.Before(x.expires) {
			delete(ss.m, k)
		}
	}
	if len(ss.m) >= maxSessions {
		var oldest [32]byte
		var at time.Time
		for k, x := range ss.m {
			if at.IsZero() || x.created.Before(at) {
				oldest, at = k, x.created
			}
		}
		delete(ss.m, oldest)
	}
	ss.m[sha256.Sum256([]byte(value))] = s
	return value, s
}

// get returns the live session of a cookie value, nil for none.
func (ss *sessions) get(value string) *session {
	if value == "" {
		return nil
	}
	k := sha256.Sum256([]byte(value))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[k]
	if s == nil {
		return nil
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, k)
		return nil
	}
	return s
}

func (ss *sessions) remove(value string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, sha256.Sum256([]byte(value)))
}

func (c *Console) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: cookieName, Value: value, Path: cookiePath, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}
}

// login checks the token posted by the login form and starts a session: the browser then
// holds an HttpOnly, SameSite=Strict cookie, and the token is not kept by the page. It answers
// with a redirect back to the page that asked (next, a route of the console), or to the login
// form again.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "the login form is too large or malformed")
		return
	}
	next := safeRoute(r.PostForm.Get("next"))
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if c.o.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(c.o.Token)) != 1 {
		c.o.Logger.Warn().Str("type", "console").Str("remote", r.RemoteAddr).Msg("web console: sign-in refused (wrong token)")
		http.Redirect(w, r, "/ui/?login=failed#/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	if old, err := r.Cookie(cookieName); err == nil {
		c.sessions.remove(old.Value)
	}
	value, _ := c.sessions.create()
	http.SetCookie(w, c.cookie(r, value, int(sessionTTL/time.Second)))
	c.o.Logger.Info().Str("type", "console").Str("remote", r.RemoteAddr).Msg("web console: signed in")
	http.Redirect(w, r, "/ui/#"+next, http.StatusSeeOther)
}

// logout ends the session and clears the cookie.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); err == nil {
		c.sessions.remove(ck.Value)
	}
	http.SetCookie(w, c.cookie(r, "", -1))
	w.WriteHeader(http.StatusNoContent)
}

// session tells the page whether it is signed in, the CSRF token its POSTs carry, and what
// opens without the token here.
func (c *Console) session(w http.ResponseWriter, r *http.Request) {
	k := c.caller(r)
	out := struct {
		Authenticated bool   `json:"authenticated"`
		CSRF          string `json:"csrf,omitempty"`
		Expires       string `json:"expires,omitempty"`
		Loopback      bool   `json:"loopback"`
		Store         bool   `json:"store"`
		StoreError    string `json:"store_error,omitempty"`
	}{Authenticated: k.authenticated(), Loopback: c.o.Loopback, Store: c.o.Flows != nil && c.o.Store != nil, StoreError: c.o.StoreError}
	if k.session != nil {
		out.CSRF, out.Expires = k.session.csrf, k.session.expires.UTC().Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}

// safeRoute keeps a "next" route that is one of the console's own ("/flows?vendor=openai"):
// what follows the redirect's "#" can then never leave the page.
func safeRoute(s string) string {
	if len(s) < 2 || len(s) > 1000 || s[0] != '/' || s[1] == '/' {
		return "/flows"
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"'<>\`+"`", r) {
			return "/flows"
		}
	}
	return s
}
