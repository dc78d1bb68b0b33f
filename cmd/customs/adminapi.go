package main

import (
	"bufio"
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/store"
)

// The admin listener serves /healthz and /readyz to anyone (probes; they say nothing),
// /metrics, and the flow API. Two rules guard it on every address, loopback included: a
// request must name the listener in its Host (a DNS-rebinding page names its own domain), and
// the flow API — and /metrics on an address other machines can reach — needs the bearer token
// of DIR/admin.token, which serve creates and the CLI reads. Any local process could otherwise
// read every stored body; with the token, reading is for those who can read DIR.

// adminToken returns the admin token (created when missing) for a serve whose admin listener
// is on.
func adminToken(cfg config.Config) (string, error) {
	if cfg.Admin == "" || cfg.Admin == "off" {
		return "", nil
	}
	token, err := loadOrCreateToken(cfg.Data)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return token, nil
}

// adminHandler wraps the admin listener's handler in its Host check and the token /metrics
// needs off loopback. configured is the --admin address as given, bound the address it
// listens on.
func adminHandler(h http.Handler, configured string, bound net.Addr, token string) http.Handler {
	names := map[string]bool{"localhost": true}
	if host, _, err := net.SplitHostPort(configured); err == nil && host != "" {
		names[strings.ToLower(strings.TrimSuffix(host, "."))] = true
	}
	var listenIP netip.Addr
	if ap, err := netip.ParseAddrPort(bound.String()); err == nil {
		listenIP = ap.Addr().Unmap()
	}
	onLoopback := loopback(bound.String())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/proxy.pac":
			// (The PAC file is fetched by browsers and operating systems by whatever name
			// they were given, and holds the public catalog only.)
			h.ServeHTTP(w, r)
			return
		}
		if !hostAllowed(r, names, listenIP) {
			http.Error(w, fmt.Sprintf("customs: the admin API answers requests for this listener only (Host %q)", r.Host), http.StatusMisdirectedRequest)
			return
		}
		if r.URL.Path == "/metrics" && !onLoopback && !authorized(r, token) {
			unauthorized(w)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether r's Host names this listener: localhost, the configured host
// name, a loopback address, the listening address, or the local address the connection came in
// on (for a listener on every address). Any port: a forwarded port still names the same
// listener, and a rebinding page cannot send an IP literal of ours as its Host.
func hostAllowed(r *http.Request, names map[string]bool, listenIP netip.Addr) bool {
	host := r.Host
	if host == "" {
		return false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "."))
	if names[host] {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if ip.IsLoopback() || (listenIP.IsValid() && !listenIP.IsUnspecified() && ip == listenIP) {
		return true
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(la.String()); err == nil && ap.Addr().Unmap().WithZone("") == ip {
			return true
		}
	}
	return false
}

func authorized(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	// No token is no access: the API never falls open.
	return ok && token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="customs"`)
	http.Error(w, "customs: a bearer token is required (DIR/admin.token)", http.StatusUnauthorized)
}

// flowsAPIOptions wire the flow API.
type flowsAPIOptions struct {
	Store *store.Store
	// Token is required of every request (DIR/admin.token).
	Token string
	// Pipeline masks what the API returns (serve's own, so that the values masked are those
	// its detectors find now).
	Pipeline *inspect.Pipeline
	// Data is DIR, whose audit.log records every reveal.
	Data   string
	Logger zerolog.Logger
}

// flowsAPI serves the store: GET /api/flows (JSON lines, then a status line) and
// GET /api/flows/{id}. Records carry their metadata; headers and bodies when asked (bodies=1,
// body=1), masked as the CLI masks them; reveal=1 returns them in clear, after recording the
// reveal in DIR/audit.log — a reveal that cannot be recorded is refused.
func flowsAPI(o flowsAPIOptions) http.Handler {
	m := &masker{p: o.Pipeline}
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !authorized(r, o.Token) {
				unauthorized(w)
				return
			}
			h(w, r)
		}
	}
	// options reads what a request asks for, and records a reveal before anything is read.
	options := func(w http.ResponseWriter, r *http.Request, bodiesKey, what string) (readOptions, bool) {
		q := r.URL.Query()
		var ro readOptions
		switch {
		case q.Get("reveal") == "1":
			ro.bodies = clearBodies
			purpose := q.Get("purpose")
			if len(purpose) > 300 {
				purpose = purpose[:300]
			}
			fields := map[string]string{"flows": what, "via": "admin API", "remote": r.RemoteAddr}
			if purpose != "" {
				fields["flows"] = what + ": " + purpose
			}
			if u := r.Header.Get("X-Customs-User"); u != "" {
				fields["claimed_user"] = u
			}
			if err := writeAudit(o.Data, nil, fields); err != nil {
				o.Logger.Error().Err(err).Str("remote", r.RemoteAddr).Msg("reveal refused: it cannot be recorded")
				http.Error(w, "customs: "+err.Error(), http.StatusInternalServerError)
				return ro, false
			}
			o.Logger.Warn().Str("type", "audit").Str("flows", fields["flows"]).Str("remote", r.RemoteAddr).Msg("stored values revealed in clear through the admin API")
		case q.Get(bodiesKey) == "1":
			ro.bodies = maskedBodies
		}
		ro.texts = q.Get("texts") == "1" && ro.bodies != noBodies
		return ro, true
	}
	mux.HandleFunc("GET /api/flows", auth(func(w http.ResponseWriter, r *http.Request) {
		f, err := filterFromQuery(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ro, ok := options(w, r, "bodies", "flows matching "+cmp.Or(filterToQuery(f).Encode(), "(no filter)"))
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		more, err := eachLimited(f, func(f store.Filter, g func(*store.Record) error) error {
			return o.Store.Each(r.Context(), f, ro.bodies != noBodies, g)
		}, func(rec *store.Record) error { return enc.Encode(toWire(makeView(m, rec, ro))) })
		// The status is sent; the last line says how the list ended, under its own key.
		status := &streamStatus{End: true, More: more}
		if err != nil {
			status = &streamStatus{Error: err.Error()}
		}
		_ = enc.Encode(streamEnd{status})
		_ = bw.Flush()
	}))
	mux.Handle("GET /api/report/", auth(reportAPI(o.Store).ServeHTTP)) // report.go
	mux.HandleFunc("GET /api/flows/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		rec, err := o.Store.Get(r.Context(), id)
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, store.ErrNotFound) {
				status, err = http.StatusNotFound, notFound(id)
			}
			http.Error(w, err.Error(), status)
			return
		}
		ro, ok := options(w, r, "body", rec.ID)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(toWire(makeView(m, &rec, ro)))
	}))
	return mux
}
