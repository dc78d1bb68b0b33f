package main

import (
	"cmp"
	"context"
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
	"github.com/customs-dev/customs/har"
	"github.com/customs-dev/customs/internal/secretfile"
	"github.com/customs-dev/customs/store"
)

// flowSource is where the flows commands read flows: the store itself, or — while customs serve
// holds the store open — the running customs' admin API, which answers from the same store and
// masks as the store source does.
type flowSource interface {
	// Each calls fn for each flow f matches (newest first unless f.Oldest) and reports whether
	// more flows match past f.Limit.
	Each(ctx context.Context, f store.Filter, o readOptions, fn func(*view) error) (more bool, err error)
	// Get returns one flow; an unknown ID is an error that names it and wraps store.ErrNotFound.
	Get(ctx context.Context, id string, o readOptions) (*view, error)
}

// bodies says what of a flow's headers and bodies a read returns.
type bodies int

const (
	// noBodies: the metadata (findings, verdict, path without query); no headers, no bodies.
	noBodies bodies = iota
	// maskedBodies: headers and bodies too, every detected value masked (see masker).
	maskedBodies
	// clearBodies: everything as stored. Read by a person it is a reveal, recorded in
	// DIR/audit.log before anything is read; a reveal that cannot be recorded does not happen.
	clearBodies
)

type readOptions struct {
	bodies bodies
	// texts: Get also returns the texts customs reads in the request (flows show --body).
	texts bool
	// reveal describes, for the audit log, what a person reads in clear ("flow 01K…",
	// "export to F (filter …)"); "" for a read no person sees (replay re-inspects the values
	// and prints only masked findings). serve records every clear read of its API either way.
	reveal string
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
		BodyLimit: int(cfg.Store.BodyLimit), QueueSize: cfg.Store.Queue, MinFreeBytes: int64(cfg.Store.MinFree), Logger: logger,
		Outbox: cfg.Fleet.Enabled()})
}

// openFlowSource opens the store, or the running customs' API when serve holds the store.
func openFlowSource(cfg config.Config, stderr io.Writer) (flowSource, func(), error) {
	logger := zerolog.New(stderr).Level(zerolog.WarnLevel)
	s, err := openStore(cfg, logger, false)
	if err == nil {
		return &storeSource{masking: masking{cfg: cfg, stderr: stderr}, st: s}, func() { _ = s.Close(context.Background()) }, nil
	}
	if !errors.Is(err, store.ErrLocked) {
		return nil, nil, err
	}
	if cfg.Admin == "" || cfg.Admin == "off" {
		return nil, nil, fmt.Errorf("%w; customs serve holds it and its admin API is off", err)
	}
	tokenPath := filepath.Join(cfg.Data, adminTokenFile)
	token, err := os.ReadFile(tokenPath)
	if err != nil {
		return nil, nil, fmt.Errorf("the store is held by customs serve, whose admin API needs the token in %s: %w", tokenPath, unwrapPath(err))
	}
	return &apiSource{base: "http://" + cfg.Admin, token: strings.TrimSpace(string(token)), stderr: stderr,
		client: &http.Client{Timeout: 10 * time.Minute}}, func() {}, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

const adminTokenFile = "admin.token"

// loadOrCreateToken returns the admin API's bearer token from DIR/admin.token (0600).
func loadOrCreateToken(dir string) (string, error) {
	t, _, err := secretfile.LoadOrCreate(filepath.Join(dir, adminTokenFile), "admin token", 32)
	return t, err
}

// notFound is the error for a flow ID the store does not hold.
func notFound(id string) error {
	return fmt.Errorf("no flow %q in the store (customs flows lists the flows and their IDs): %w", id, store.ErrNotFound)
}

// errStop ends an Each early without an error.
var errStop = errors.New("stop")

// eachLimited runs each with the filter's limit raised by one, hands the first f.Limit records
// to fn and reports whether there was one more: "more flows match" costs one record, not a
// count of every match.
func eachLimited(f store.Filter, each func(store.Filter, func(*store.Record) error) error, fn func(*store.Record) error) (more bool, err error) {
	limit := f.Limit
	if limit > 0 {
		f.Limit = limit + 1
	}
	n := 0
	err = each(f, func(r *store.Record) error {
		if limit > 0 && n == limit {
			more = true
			return errStop
		}
		n++
		return fn(r)
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return more, err
}

// storeSource reads the store directly and masks with a masker of its own.
type storeSource struct {
	masking
	st *store.Store
}

// masking is what a source that reads records itself (the store, the fleet's record) needs to
// hand them over: the masker, and the audit log for reveals.
type masking struct {
	cfg    config.Config
	stderr io.Writer
	m      *masker
}

func (s *masking) masker() (*masker, error) {
	if s.m == nil {
		m, err := newMasker(s.cfg)
		if err != nil {
			return nil, err
		}
		s.m = m
	}
	return s.m, nil
}

// prepare records a reveal and builds the masker a read needs, before anything is read.
func (s *masking) prepare(o readOptions) error {
	if o.bodies == clearBodies && o.reveal != "" {
		if err := auditReveal(s.cfg.Data, s.stderr, o.reveal); err != nil {
			return err
		}
	}
	if o.bodies == maskedBodies || o.texts {
		if _, err := s.masker(); err != nil {
			return err
		}
	}
	return nil
}

func (s *masking) view(r *store.Record, o readOptions) *view { return makeView(s.m, r, o) }

// makeView turns a stored record into what a read with o returns.
func makeView(m *masker, r *store.Record, o readOptions) *view {
	switch o.bodies {
	case maskedBodies:
		return m.mask(r, o.texts)
	case clearBodies:
		v := &view{Record: *r}
		if o.texts {
			v.texts = m.inspected(r).Segments
		}
		return v
	}
	v := &view{Record: *r}
	v.RequestBody, v.ResponseBody, v.RequestHeader, v.ResponseHeader, v.HasBodies = nil, nil, nil, nil, false
	return v
}

func (s *storeSource) Each(ctx context.Context, f store.Filter, o readOptions, fn func(*view) error) (bool, error) {
	if err := s.prepare(o); err != nil {
		return false, err
	}
	return eachLimited(f, func(f store.Filter, g func(*store.Record) error) error {
		return s.st.Each(ctx, f, o.bodies != noBodies, g)
	}, func(r *store.Record) error { return fn(s.view(r, o)) })
}

func (s *storeSource) Get(ctx context.Context, id string, o readOptions) (*view, error) {
	r, err := s.st.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(id)
	} else if err != nil {
		return nil, err
	}
	if err := s.prepare(o); err != nil {
		return nil, err
	}
	return s.view(&r, o), nil
}

// auditReveal records that someone read stored values in clear: in DIR/audit.log (0600, append
// only) and on stderr. A reveal that cannot be recorded does not happen.
func auditReveal(dataDir string, stderr io.Writer, what string) error {
	user := os.Getenv("USER")
	if user == "" {
		user = strconv.Itoa(os.Getuid())
	}
	return writeAudit(dataDir, stderr, map[string]string{"flows": what, "os_user": user})
}

// writeAudit appends one audit line to DIR/audit.log and echoes it to echo (when not nil). The
// line says who read what, never the values.
func writeAudit(dataDir string, echo io.Writer, fields map[string]string) error {
	path := filepath.Join(dataDir, "audit.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("a reveal is recorded in %s, which cannot be written, so none is made: %w", path, unwrapPath(err))
	}
	defer f.Close()
	ws := []io.Writer{f}
	if echo != nil {
		ws = append(ws, echo)
	}
	for _, w := range ws {
		l := zerolog.New(w).With().Timestamp().Logger()
		ev := l.Warn().Str("type", "audit")
		for _, k := range []string{"flows", "os_user", "via", "remote", "claimed_user"} {
			if v, ok := fields[k]; ok {
				ev = ev.Str(k, v)
			}
		}
		ev.Msg("stored values revealed in clear")
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("a reveal is recorded in %s, which cannot be written, so none is made: %w", path, err)
	}
	return nil
}

// apiSource reads flows from a running customs' admin API, which masks them itself: values
// never leave serve in clear unless a reveal asks, and serve records that reveal.
type apiSource struct {
	base, token string
	client      *http.Client
	stderr      io.Writer
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
	req.Header.Set("Authorization", "Bearer "+a.token)
	// For serve's audit log: who this client says it runs as (serve cannot check it).
	if user := os.Getenv("USER"); user != "" {
		req.Header.Set("X-Customs-User", user)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the store is held by customs serve, and its admin API at %s did not answer (give --admin ADDR, or --config with its admin address, if serve listens elsewhere): %w", a.base, err)
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

// query adds o's parameters to q.
func (o readOptions) query(q url.Values, single bool) url.Values {
	if q == nil {
		q = url.Values{}
	}
	key := "bodies"
	if single {
		key = "body"
	}
	switch o.bodies {
	case maskedBodies:
		q.Set(key, "1")
	case clearBodies:
		q.Set(key, "1")
		q.Set("reveal", "1")
		q.Set("purpose", cmp.Or(o.reveal, "replay: re-inspected, values not shown"))
	}
	if o.texts {
		q.Set("texts", "1")
	}
	return q
}

// streamLine is one line of GET /api/flows: a flow, or — last — the stream's own status, under
// a key no flow has, so that a flow's "error" is never read as the stream's.
type streamLine struct {
	wireRecord
	Stream *streamStatus `json:"stream,omitempty"`
}

// streamEnd is the status line as written.
type streamEnd struct {
	Stream *streamStatus `json:"stream"`
}

type streamStatus struct {
	End   bool   `json:"end,omitempty"`
	More  bool   `json:"more,omitempty"`
	Error string `json:"error,omitempty"`
}

func (a *apiSource) Each(ctx context.Context, f store.Filter, o readOptions, fn func(*view) error) (bool, error) {
	resp, err := a.get(ctx, "/api/flows", o.query(filterToQuery(f), false))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if o.bodies == clearBodies {
		fmt.Fprintln(a.stderr, "customs serve recorded this reveal in its audit.log")
	}
	dec := json.NewDecoder(resp.Body)
	n := 0
	for {
		var l streamLine
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			// Every answer ends with its status line: without it the list was cut short.
			return false, fmt.Errorf("admin API: the answer ended after %s without its end line: the list is incomplete", plural(n, "flow", ""))
		} else if err != nil {
			return false, fmt.Errorf("admin API (after %d flows): %w", n, err)
		}
		if l.Stream != nil {
			if l.Stream.Error != "" {
				return false, fmt.Errorf("admin API (after %d flows): %s", n, l.Stream.Error)
			}
			return l.Stream.More, nil
		}
		v, err := l.wireRecord.view()
		if err != nil {
			return false, fmt.Errorf("admin API: %w", err)
		}
		n++
		if err := fn(v); err != nil {
			return false, err
		}
	}
}

func (a *apiSource) Get(ctx context.Context, id string, o readOptions) (*view, error) {
	resp, err := a.get(ctx, "/api/flows/"+url.PathEscape(id), o.query(nil, true))
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(id)
	} else if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if o.bodies == clearBodies {
		fmt.Fprintln(a.stderr, "customs serve recorded this reveal in its audit.log")
	}
	var w wireRecord
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	v, err := w.view()
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	return v, nil
}

// filterFromQuery reads a store.Filter from API query parameters (the flags' names).
func filterFromQuery(q url.Values) (store.Filter, error) {
	f := store.Filter{Vendor: q.Get("vendor"), Category: q.Get("category"), Client: q.Get("client"), User: q.Get("user"), Run: q.Get("run"),
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
	for k, v := range map[string]string{"vendor": f.Vendor, "category": f.Category, "client": f.Client, "user": f.User, "run": f.Run,
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

// wireRecord is a flow as the API and --json write it.
type wireRecord struct {
	ID     string    `json:"flow_id"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Source string    `json:"source"`
	Mode   string    `json:"mode"`
	Client string    `json:"client"`
	User   string    `json:"user,omitempty"`
	// Run and Command: the customs run that tagged the flow.
	Run     string `json:"run,omitempty"`
	Command string `json:"command,omitempty"`
	Host    string `json:"host"`
	Method  string `json:"method"`
	Path    string `json:"path,omitempty"` // never the query, which can carry keys
	URL     string `json:"url,omitempty"`  // with headers and bodies only
	API     string `json:"api,omitempty"`
	// Model, ServedModel and Params: the model requested, the one the answer named, the
	// retention parameters (store, persist, ...) as tokens.
	Model           string            `json:"model,omitempty"`
	ServedModel     string            `json:"served_model,omitempty"`
	Params          map[string]string `json:"params,omitempty"`
	Vendor          wireVendor        `json:"vendor"`
	Status          int               `json:"status"`
	RequestBytes    int64             `json:"bytes_out"`
	ResponseBytes   int64             `json:"bytes_in"`
	ContentEncoding string            `json:"content_encoding,omitempty"`
	Findings        []wireFinding     `json:"findings"`
	Action          string            `json:"action"`
	Policy          string            `json:"policy,omitempty"`
	Reason          string            `json:"reason,omitempty"`
	Matched         []string          `json:"policies,omitempty"`
	Notes           []string          `json:"notes,omitempty"`
	Marks           []flow.Mark       `json:"marks,omitempty"`
	Incomplete      []string          `json:"incomplete,omitempty"`
	SNI             string            `json:"sni,omitempty"`
	Target          string            `json:"target,omitempty"`
	Server          string            `json:"server,omitempty"`
	ALPN            string            `json:"alpn,omitempty"`
	JA4             string            `json:"ja4,omitempty"`
	TLSVersion      string            `json:"tls_version,omitempty"`
	Messages        int               `json:"messages,omitempty"`
	Segments        []wireSegment     `json:"segments,omitempty"`
	Error           string            `json:"error,omitempty"`
	ErrorKind       string            `json:"error_kind,omitempty"`
	// Masked: every detected value in the URL, headers, bodies, texts, error and notes is
	// replaced; false only for a reveal.
	Masked            bool        `json:"masked,omitempty"`
	RequestHeader     http.Header `json:"request_headers,omitempty"`
	RequestBody       string      `json:"request_body,omitempty"`        // bodies as text when they are UTF-8,
	RequestBody64     string      `json:"request_body_base64,omitempty"` // else in base64 (as HAR does)
	RequestTruncated  bool        `json:"request_truncated,omitempty"`
	ResponseHeader    http.Header `json:"response_headers,omitempty"`
	ResponseBody      string      `json:"response_body,omitempty"`
	ResponseBody64    string      `json:"response_body_base64,omitempty"`
	ResponseTruncated bool        `json:"response_truncated,omitempty"`
	HasBodies         bool        `json:"has_bodies,omitempty"`
	// Texts are what customs reads in the request (flows show --body), masked like the rest.
	Texts []wireSegment `json:"texts,omitempty"`
}

type wireVendor struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Category string `json:"category,omitempty"`
	Country  string `json:"country,omitempty"`
}

// wireSegment is where inspection found text (store.Segment, whose fields have no JSON names),
// and in texts the text itself.
type wireSegment struct {
	Path  string `json:"path"`
	Text  string `json:"text,omitempty"`
	Media string `json:"media,omitempty"`
	Size  int    `json:"size,omitempty"`
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
	// What a crown-jewel finding matched (flow.Finding): names and numbers, never text.
	Label        string   `json:"label,omitempty"`
	Ref          string   `json:"ref,omitempty"`
	Share        float64  `json:"share,omitempty"`
	SegmentShare float64  `json:"segment_share,omitempty"`
	Rows         int      `json:"rows,omitempty"`
	Columns      []string `json:"columns,omitempty"`
	Spans        [][2]int `json:"spans,omitempty"`
}

// actionOf is the verdict a flow is shown with. A tunnel the proxy let through is recorded
// without one; it was allowed.
func actionOf(v flow.Verdict) flow.Action {
	if v.Action == "" {
		return flow.Allow
	}
	return v.Action
}

// shownPath is the path of v's URL as a listing shows it: without the query, and with what a
// finding points at in it masked (unless v is masked already).
func shownPath(v *view) string {
	if v.masked {
		return pathOf(v.URL)
	}
	return pathOf(flow.MaskURL(v.URL, v.Findings))
}

func toWire(v *view) wireRecord {
	r := &v.Record
	w := wireRecord{ID: r.ID, Start: r.Start, End: r.End, Source: string(r.Source), Mode: string(r.Mode), Client: r.Client.Addr,
		User: r.Client.User, Run: r.Client.Run, Command: r.Client.Command, Host: r.Host, Method: r.Method, Path: shownPath(v), API: r.API, Vendor: wireVendor(r.Vendor), Status: r.Status,
		RequestBytes: r.RequestBytes, ResponseBytes: r.ResponseBytes, ContentEncoding: r.ContentEncoding,
		Findings: wireFindings(r.Findings), Action: string(actionOf(r.Verdict)), Policy: r.Verdict.Policy,
		Reason: r.Verdict.Message, Matched: r.Verdict.Matched, Notes: r.Notes, Marks: r.Marks,
		Error: r.Error, ErrorKind: r.ErrorKind, Incomplete: r.Incomplete, SNI: r.SNI, Target: r.Target, Messages: r.Messages,
		Server: r.Server, ALPN: r.ALPN, JA4: r.JA4, TLSVersion: r.TLSVersion,
		Model: r.Model, ServedModel: r.ServedModel, Params: r.Params, Masked: v.masked}
	if !v.masked {
		// Metadata without its bodies: no masker ran, but an upstream error can quote the URL.
		masked := har.MaskURL(flow.MaskURL(r.URL, r.Findings))
		w.Error = scrubURL(r.Error, r.URL, masked)
	}
	for _, s := range r.Segments {
		w.Segments = append(w.Segments, wireSegment{Path: s.Path, Media: s.Media, Size: s.Size})
	}
	for _, s := range v.texts {
		w.Texts = append(w.Texts, wireSegment{Path: s.Path, Text: s.Text, Media: s.Media, Size: s.Size})
	}
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

func (w wireRecord) view() (*view, error) {
	r := store.Record{ID: w.ID, Start: w.Start, End: w.End, Source: flow.Source(w.Source), Mode: flow.Mode(w.Mode),
		Client: flow.Client{Addr: w.Client, User: w.User, Run: w.Run, Command: w.Command}, Host: w.Host, Method: w.Method, URL: w.URL, API: w.API, Vendor: flow.Vendor(w.Vendor),
		Status: w.Status, RequestBytes: w.RequestBytes, ResponseBytes: w.ResponseBytes, ContentEncoding: w.ContentEncoding,
		Verdict: flow.Verdict{Action: flow.Action(w.Action), Policy: w.Policy, Message: w.Reason, Matched: w.Matched},
		Notes:   w.Notes, Marks: w.Marks, Error: w.Error, ErrorKind: w.ErrorKind,
		Incomplete: w.Incomplete, SNI: w.SNI, Target: w.Target, Messages: w.Messages,
		Server: w.Server, ALPN: w.ALPN, JA4: w.JA4, TLSVersion: w.TLSVersion,
		Model: w.Model, ServedModel: w.ServedModel, Params: w.Params,
		RequestHeader: w.RequestHeader, RequestTruncated: w.RequestTruncated,
		ResponseHeader: w.ResponseHeader, ResponseTruncated: w.ResponseTruncated, HasBodies: w.HasBodies}
	var err error
	if r.RequestBody, err = bodyFromWire(w.RequestBody, w.RequestBody64); err != nil {
		return nil, fmt.Errorf("flow %s: request_body_base64: %w", w.ID, err)
	}
	if r.ResponseBody, err = bodyFromWire(w.ResponseBody, w.ResponseBody64); err != nil {
		return nil, fmt.Errorf("flow %s: response_body_base64: %w", w.ID, err)
	}
	masked := w.Masked
	if r.URL == "" && w.Path != "" {
		// The listing's path is masked already, whatever the record says.
		r.URL, masked = "https://"+w.Host+w.Path, true
	}
	for _, s := range w.Segments {
		r.Segments = append(r.Segments, store.Segment{Path: s.Path, Media: s.Media, Size: s.Size})
	}
	for _, x := range w.Findings {
		r.Findings = append(r.Findings, flow.Finding{Detector: x.Detector, Class: x.Class, Severity: x.Severity, Path: x.Path,
			Start: x.Start, End: x.End, Preview: x.Preview, Hash: x.Hash, Confidence: x.Confidence,
			Label: x.Label, Ref: x.Ref, Share: x.Share, SegmentShare: x.SegmentShare, Rows: x.Rows, Columns: x.Columns, Spans: x.Spans})
	}
	v := &view{Record: r, masked: masked}
	for _, s := range w.Texts {
		v.texts = append(v.texts, flow.Segment{Path: s.Path, Text: s.Text, Media: s.Media, Size: s.Size})
	}
	return v, nil
}

func wireFindings(fs []flow.Finding) []wireFinding {
	out := make([]wireFinding, 0, len(fs))
	for _, x := range fs {
		out = append(out, wireFinding{x.Detector, x.Class, x.Severity, x.Path, x.Start, x.End, x.Preview, x.Hash, x.Confidence,
			x.Label, x.Ref, x.Share, x.SegmentShare, x.Rows, x.Columns, x.Spans})
	}
	return out
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
