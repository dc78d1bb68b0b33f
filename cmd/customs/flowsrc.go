package main

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/secretfile"
	"github.com/customs-dev/customs/store"
)

// flowSource is where the flows commands read flows: the store itself, or — while customs serve
// holds the store open — the running customs' admin API, which answers from the same store.
type flowSource interface {
	Query(ctx context.Context, f store.Filter) ([]store.Record, error)
	Get(ctx context.Context, id string) (store.Record, error)
	Each(ctx context.Context, f store.Filter, withBodies bool, fn func(*store.Record) error) error
}

// openStore opens DIR/store with its key (created on first use by serve only).
func openStore(cfg config.Config, logger zerolog.Logger, create bool) (*store.Store, error) {
	keyPath := cfg.Store.KeyFile
	if keyPath == "" {
		keyPath = filepath.Join(cfg.Data, "store.key")
	}
	dir := filepath.Join(cfg.Data, "store")
	if !create {
		if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no flow store in %s (customs serve creates it; --data names another)", cfg.Data)
		}
	}
	key, created, err := store.LoadOrCreateKey(keyPath)
	if err != nil {
		return nil, err
	}
	if created {
		logger.Info().Str("key", keyPath).Msg("created the flow store's encryption key; keep a copy: without it the store cannot be read")
	}
	return store.Open(store.Options{Dir: dir, Key: key, Retention: cfg.Store.Retention.D(), MaxBytes: int64(cfg.Store.MaxSize),
		BodyLimit: int(cfg.Store.BodyLimit), QueueSize: cfg.Store.Queue, Logger: logger})
}

// openFlowSource opens the store, or the running customs' API when serve holds the store.
func openFlowSource(cfg config.Config, stderr io.Writer) (flowSource, func(), error) {
	logger := zerolog.New(stderr).Level(zerolog.WarnLevel)
	s, err := openStore(cfg, logger, false)
	if err == nil {
		return s, func() { _ = s.Close(context.Background()) }, nil
	}
	if !errors.Is(err, store.ErrLocked) {
		return nil, nil, err
	}
	if cfg.Admin == "" || cfg.Admin == "off" {
		return nil, nil, fmt.Errorf("%w; customs serve holds it and its admin API is off", err)
	}
	token, _ := os.ReadFile(filepath.Join(cfg.Data, adminTokenFile))
	return &apiSource{base: "http://" + cfg.Admin, token: strings.TrimSpace(string(token)), client: &http.Client{Timeout: 10 * time.Minute}}, func() {}, nil
}

const adminTokenFile = "admin.token"

// loadOrCreateToken returns the admin API's bearer token from DIR/admin.token (0600).
func loadOrCreateToken(dir string) (string, error) {
	t, _, err := secretfile.LoadOrCreate(filepath.Join(dir, adminTokenFile), "admin token", 32)
	return t, err
}

// --- the admin API: GET /api/flows, GET /api/flows/{id} -------------------------------------

// flowsAPI serves the store. Records are JSON; bodies only when asked (?bodies=1, ?body=1).
// Without a loopback listener it requires the bearer token of DIR/admin.token.
func flowsAPI(st *store.Store, token string, logger zerolog.Logger) http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if token != "" {
				got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
					w.Header().Set("WWW-Authenticate", `Bearer realm="customs"`)
					http.Error(w, "customs: a bearer token is required (DIR/admin.token)", http.StatusUnauthorized)
					return
				}
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /api/flows", auth(func(w http.ResponseWriter, r *http.Request) {
		f, err := filterFromQuery(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		bodies := r.URL.Query().Get("bodies") == "1"
		if bodies {
			logger.Warn().Str("type", "audit").Str("remote", r.RemoteAddr).Msg("flow bodies read through the admin API")
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		err = st.Each(r.Context(), f, bodies, func(rec *store.Record) error { return enc.Encode(toWire(rec)) })
		if err != nil {
			// The status is sent; say it in the stream so the client does not take a cut list for all.
			_ = enc.Encode(map[string]string{"error": err.Error()})
		}
		_ = bw.Flush()
	}))
	mux.HandleFunc("GET /api/flows/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		rec, err := st.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, store.ErrNotFound) {
				status = http.StatusNotFound
			}
			http.Error(w, err.Error(), status)
			return
		}
		if r.URL.Query().Get("body") == "1" {
			logger.Warn().Str("type", "audit").Str("flow_id", rec.ID).Str("remote", r.RemoteAddr).Msg("flow body read through the admin API")
		} else {
			rec.RequestBody, rec.ResponseBody, rec.RequestHeader, rec.ResponseHeader, rec.HasBodies = nil, nil, nil, nil, false
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(toWire(&rec))
	}))
	return mux
}

// filterFromQuery reads a store.Filter from API query parameters (the flags' names).
func filterFromQuery(q url.Values) (store.Filter, error) {
	f := store.Filter{Vendor: q.Get("vendor"), Category: q.Get("category"), Client: q.Get("client"), User: q.Get("user"),
		Detector: q.Get("detector"), Action: q.Get("action"), API: q.Get("api"), Host: q.Get("host"), Oldest: q.Get("oldest") == "1"}
	if err := checkAction(f.Action); err != nil {
		return f, fmt.Errorf("action: %w", err)
	}
	for _, k := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(k.name); v != "" {
			t, err := parseWhen(v, time.Now())
			if err != nil {
				return f, fmt.Errorf("%s: %w", k.name, err)
			}
			*k.t = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, fmt.Errorf("limit: want a number, got %q", v)
		}
		f.Limit = n
	}
	return f, nil
}

// parseWhen reads a time: RFC 3339 (2026-11-20T10:00:00Z), a date (2026-11-20), or an age
// before now (24h, 30d).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a time (2026-11-20T10:00:00Z), a date (2026-11-20) or an age (24h, 30d); got %q", s)
	}
	return now.Add(-d), nil
}

func filterToQuery(f store.Filter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"vendor": f.Vendor, "category": f.Category, "client": f.Client, "user": f.User,
		"detector": f.Detector, "action": f.Action, "api": f.API, "host": f.Host} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Oldest {
		q.Set("oldest", "1")
	}
	return q
}

// apiSource reads flows from a running customs' admin API.
type apiSource struct {
	base, token string
	client      *http.Client
	// metaOnly: Get asks for the metadata alone, so that serve's audit log does not record a
	// body read that did not happen (flows show without --body).
	metaOnly bool
}

func (a *apiSource) get(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	u := a.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the store is held by customs serve, and its admin API at %s did not answer: %w", a.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("admin API %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return resp, nil
}

func (a *apiSource) Each(ctx context.Context, f store.Filter, withBodies bool, fn func(*store.Record) error) error {
	q := filterToQuery(f)
	if withBodies {
		q.Set("bodies", "1")
	}
	resp, err := a.get(ctx, "/api/flows", q)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var w wireRecord
		if err := dec.Decode(&w); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("admin API: %w", err)
		}
		if w.Error != "" {
			return fmt.Errorf("admin API: %s", w.Error)
		}
		rec, err := w.record()
		if err != nil {
			return fmt.Errorf("admin API: %w", err)
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
}

func (a *apiSource) Query(ctx context.Context, f store.Filter) ([]store.Record, error) {
	var out []store.Record
	err := a.Each(ctx, f, false, func(r *store.Record) error { out = append(out, *r); return nil })
	return out, err
}

func (a *apiSource) Get(ctx context.Context, id string) (store.Record, error) {
	q := url.Values{"body": {"1"}}
	if a.metaOnly {
		q = nil
	}
	resp, err := a.get(ctx, "/api/flows/"+url.PathEscape(id), q)
	if err != nil {
		return store.Record{}, err
	}
	defer resp.Body.Close()
	var w wireRecord
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
		return store.Record{}, fmt.Errorf("admin API: %w", err)
	}
	rec, err := w.record()
	if err != nil {
		return rec, fmt.Errorf("admin API: %w", err)
	}
	return rec, nil
}

// wireRecord is a store.Record as the API and --json write it.
type wireRecord struct {
	ID                string          `json:"flow_id"`
	Start             time.Time       `json:"start"`
	End               time.Time       `json:"end"`
	Source            string          `json:"source"`
	Mode              string          `json:"mode"`
	Client            string          `json:"client"`
	User              string          `json:"user,omitempty"`
	Host              string          `json:"host"`
	Method            string          `json:"method"`
	Path              string          `json:"path,omitempty"`
	URL               string          `json:"url,omitempty"` // with bodies only: the query can carry keys
	API               string          `json:"api,omitempty"`
	Vendor            wireVendor      `json:"vendor"`
	Status            int             `json:"status"`
	RequestBytes      int64           `json:"bytes_out"`
	ResponseBytes     int64           `json:"bytes_in"`
	ContentEncoding   string          `json:"content_encoding,omitempty"`
	Findings          []wireFinding   `json:"findings"`
	Action            string          `json:"action"`
	Policy            string          `json:"policy,omitempty"`
	Reason            string          `json:"reason,omitempty"`
	Matched           []string        `json:"policies,omitempty"`
	Notes             []string        `json:"notes,omitempty"`
	Marks             []flow.Mark     `json:"marks,omitempty"`
	Incomplete        []string        `json:"incomplete,omitempty"`
	SNI               string          `json:"sni,omitempty"`
	Target            string          `json:"target,omitempty"`
	Messages          int             `json:"messages,omitempty"`
	Segments          []store.Segment `json:"segments,omitempty"`
	Error             string          `json:"error,omitempty"`
	ErrorKind         string          `json:"error_kind,omitempty"`
	RequestHeader     http.Header     `json:"request_headers,omitempty"`
	RequestBody       string          `json:"request_body,omitempty"`        // bodies as text when they are UTF-8,
	RequestBody64     string          `json:"request_body_base64,omitempty"` // else in base64 (as HAR does)
	RequestTruncated  bool            `json:"request_truncated,omitempty"`
	ResponseHeader    http.Header     `json:"response_headers,omitempty"`
	ResponseBody      string          `json:"response_body,omitempty"`
	ResponseBody64    string          `json:"response_body_base64,omitempty"`
	ResponseTruncated bool            `json:"response_truncated,omitempty"`
	HasBodies         bool            `json:"has_bodies,omitempty"`
}

type wireVendor struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Category string `json:"category,omitempty"`
	Country  string `json:"country,omitempty"`
}

type wireFinding struct {
	Detector   string  `json:"detector"`
	Class      string  `json:"class"`
	Severity   string  `json:"severity"`
	Path       string  `json:"path"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Preview    string  `json:"preview"`
	Hash       string  `json:"hash"`
	Confidence float64 `json:"confidence"`
}

func toWire(r *store.Record) wireRecord {
	w := wireRecord{ID: r.ID, Start: r.Start, End: r.End, Source: string(r.Source), Mode: string(r.Mode), Client: r.Client.Addr,
		User: r.Client.User, Host: r.Host, Method: r.Method, Path: pathOf(flow.MaskURL(r.URL, r.Findings)), API: r.API, Vendor: wireVendor(r.Vendor), Status: r.Status,
		RequestBytes: r.RequestBytes, ResponseBytes: r.ResponseBytes, ContentEncoding: r.ContentEncoding,
		Findings: wireFindings(r.Findings), Action: string(r.Verdict.Action), Policy: r.Verdict.Policy,
		Reason: r.Verdict.Message, Matched: r.Verdict.Matched, Notes: r.Notes, Marks: r.Marks, Segments: r.Segments,
		Error: r.Error, ErrorKind: r.ErrorKind, Incomplete: r.Incomplete, SNI: r.SNI, Target: r.Target, Messages: r.Messages}
	if r.HasBodies {
		w.URL, w.RequestHeader, w.RequestTruncated = r.URL, r.RequestHeader, r.RequestTruncated
		w.ResponseHeader, w.ResponseTruncated, w.HasBodies = r.ResponseHeader, r.ResponseTruncated, true
		w.RequestBody, w.RequestBody64 = bodyToWire(r.RequestBody)
		w.ResponseBody, w.ResponseBody64 = bodyToWire(r.ResponseBody)
	}
	return w
}

func bodyToWire(b []byte) (text, b64 string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return "", base64.StdEncoding.EncodeToString(b)
}

func bodyFromWire(text, b64 string) ([]byte, error) {
	if b64 != "" {
		return base64.StdEncoding.DecodeString(b64)
	}
	if text == "" {
		return nil, nil
	}
	return []byte(text), nil
}

func (w wireRecord) record() (store.Record, error) {
	r := store.Record{ID: w.ID, Start: w.Start, End: w.End, Source: flow.Source(w.Source), Mode: flow.Mode(w.Mode),
		Client: flow.Client{Addr: w.Client, User: w.User}, Host: w.Host, Method: w.Method, URL: w.URL, API: w.API, Vendor: flow.Vendor(w.Vendor),
		Status: w.Status, RequestBytes: w.RequestBytes, ResponseBytes: w.ResponseBytes, ContentEncoding: w.ContentEncoding,
		Verdict: flow.Verdict{Action: flow.Action(w.Action), Policy: w.Policy, Message: w.Reason, Matched: w.Matched},
		Notes:   w.Notes, Marks: w.Marks, Segments: w.Segments, Error: w.Error, ErrorKind: w.ErrorKind,
		Incomplete: w.Incomplete, SNI: w.SNI, Target: w.Target, Messages: w.Messages,
		RequestHeader: w.RequestHeader, RequestTruncated: w.RequestTruncated,
		ResponseHeader: w.ResponseHeader, ResponseTruncated: w.ResponseTruncated, HasBodies: w.HasBodies}
	var err error
	if r.RequestBody, err = bodyFromWire(w.RequestBody, w.RequestBody64); err != nil {
		return r, fmt.Errorf("flow %s: request_body_base64: %w", w.ID, err)
	}
	if r.ResponseBody, err = bodyFromWire(w.ResponseBody, w.ResponseBody64); err != nil {
		return r, fmt.Errorf("flow %s: response_body_base64: %w", w.ID, err)
	}
	if r.URL == "" && w.Path != "" {
		r.URL = "https://" + w.Host + w.Path
	}
	for _, x := range w.Findings {
		r.Findings = append(r.Findings, flow.Finding{Detector: x.Detector, Class: x.Class, Severity: x.Severity, Path: x.Path,
			Start: x.Start, End: x.End, Preview: x.Preview, Hash: x.Hash, Confidence: x.Confidence})
	}
	return r, nil
}

// pathOf is the URL's path without the query (which can carry keys).
func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		p, _, _ := strings.Cut(raw, "?")
		return p
	}
	return u.Path
}

// loopback reports whether addr (host:port) listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
