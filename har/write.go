package har

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/customs-dev/customs/flow"
)

// WriteOptions control an export.
type WriteOptions struct {
	// Version is log.creator.version (customs' version); "dev" when empty.
	Version string
	// RevealHeaders writes credentials as recorded: request and response headers named like
	// credentials (Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, Api-Key,
	// X-Goog-Api-Key, and any name containing token, secret, key, password, auth, session or
	// credential) and URL query parameters named that way (Gemini's ?key=). Without it they are
	// written as "[redacted by customs]", so that an evidence export is not a credential dump.
	// Bodies are written as inspected either way: they are the evidence.
	RevealHeaders bool
}

// Write writes entries as one HAR 1.2 file.
func Write(w io.Writer, entries []Entry, opts WriteOptions) error {
	hw := NewWriter(w, opts)
	for _, e := range entries {
		if err := hw.Add(e); err != nil {
			return err
		}
	}
	return hw.Close()
}

// Writer writes a HAR 1.2 file one entry at a time, so that an export of many flows is never held
// whole.
type Writer struct {
	w      io.Writer
	opts   WriteOptions
	n      int
	err    error
	closed bool
	buf    bytes.Buffer
}

// NewWriter returns a Writer to w. Call Close to finish the file; it does not close w.
func NewWriter(w io.Writer, opts WriteOptions) *Writer {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	return &Writer{w: w, opts: opts}
}

// Add writes one entry.
func (w *Writer) Add(e Entry) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("har: Add after Close")
	}
	if e.Flow == nil {
		return errors.New("har: entry without a flow")
	}
	w.buf.Reset()
	if w.n == 0 {
		w.header()
		w.buf.WriteString("\n      ")
	} else {
		w.buf.WriteString(",\n      ")
	}
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("      ", "  ")
	if err := enc.Encode(w.entry(e)); err != nil {
		w.err = fmt.Errorf("har: flow %s: %w", e.Flow.ID, err)
		return w.err
	}
	w.buf.Truncate(w.buf.Len() - 1) // the encoder's newline
	w.n++
	return w.flush()
}

// Close writes the end of the file.
func (w *Writer) Close() error {
	if w.err != nil || w.closed {
		return w.err
	}
	w.closed = true
	w.buf.Reset()
	if w.n == 0 {
		w.header()
		w.buf.WriteString("]")
	} else {
		w.buf.WriteString("\n    ]")
	}
	w.buf.WriteString("\n  }\n}\n")
	return w.flush()
}

func (w *Writer) header() {
	version, _ := json.Marshal(w.opts.Version)
	fmt.Fprintf(&w.buf, "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": {\n      \"name\": \"customs\",\n      \"version\": %s\n    },\n    \"entries\": [", version)
}

func (w *Writer) flush() error {
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		w.err = fmt.Errorf("har: writing: %w", err)
	}
	return w.err
}

// The HAR 1.2 shapes Write produces, fields in the specification's order.
type outEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         outRequest  `json:"request"`
	Response        outResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         outTimings  `json:"timings"`
	Customs         *Customs    `json:"_customs"`
}

type outRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []harNV      `json:"cookies"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	PostData    *outPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int64        `json:"bodySize"`
}

type outPostData struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	// Encoding "base64" is not in HAR 1.2's postData but is what HAR tools that keep binary
	// request bodies use (the same field as content.encoding).
	Encoding string `json:"encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

type outResponse struct {
	Status      int        `json:"status"`
	StatusText  string     `json:"statusText"`
	HTTPVersion string     `json:"httpVersion"`
	Cookies     []harNV    `json:"cookies"`
	Headers     []harNV    `json:"headers"`
	Content     outContent `json:"content"`
	RedirectURL string     `json:"redirectURL"`
	HeadersSize int        `json:"headersSize"`
	BodySize    int64      `json:"bodySize"`
	// Error is why the exchange failed, under the custom field Chrome uses for it.
	Error string `json:"_error,omitempty"`
}

type outContent struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

type outTimings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
}

func (w *Writer) entry(e Entry) outEntry {
	f := e.Flow
	ms := math.Round(float64(f.Duration())/float64(time.Microsecond)) / 1000
	if ms < 0 {
		ms = 0
	}
	version := cmpOr(e.HTTPVersion, "HTTP/1.1")
	rawURL := f.URL
	if !w.opts.RevealHeaders {
		rawURL = flow.MaskURL(rawURL, f.Findings) // a secret in the path or a query value
	}
	if rawURL == "" && f.Host != "" {
		rawURL = "https://" + f.Host // a tunnel: only the host is known
	}
	rawURL, query := w.query(rawURL)
	header := f.RequestHeader
	if u, err := url.Parse(rawURL); f.Host != "" && header.Get("Host") == "" && (err != nil || normalizeHost(u.Host) != f.Host) {
		// The proxy's request headers have no Host; keep the host the flow went to when the URL
		// does not say it.
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		header.Set("Host", f.Host)
	}
	out := outEntry{
		StartedDateTime: f.Start.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Time:            ms,
		Request: outRequest{
			Method:      f.Method,
			URL:         rawURL,
			HTTPVersion: version,
			Cookies:     []harNV{},
			Headers:     w.headers(header),
			QueryString: query,
			HeadersSize: -1,
			BodySize:    max(f.RequestBytes, int64(len(f.RequestBody))),
		},
		Response: outResponse{
			Status:      f.Status,
			StatusText:  http.StatusText(f.Status),
			HTTPVersion: version,
			Cookies:     []harNV{},
			Headers:     w.headers(f.ResponseHeader),
			Content:     content(e),
			RedirectURL: f.ResponseHeader.Get("Location"),
			HeadersSize: -1,
			BodySize:    f.ResponseBytes,
			Error:       f.Error,
		},
		Timings: outTimings{Blocked: -1, DNS: -1, Connect: -1, Wait: ms, SSL: -1},
		Customs: customs(f),
	}
	if f.Status == 0 {
		out.Response.HTTPVersion = ""
	}
	if len(f.RequestBody) > 0 {
		pd := &outPostData{MimeType: f.RequestHeader.Get("Content-Type")}
		pd.Text, pd.Encoding = text(f.RequestBody, f.ContentEncoding != "")
		if n := len(f.RequestBody); f.RequestBytes > int64(n) {
			pd.Comment = fmt.Sprintf("customs kept the first %d of %d bytes", n, f.RequestBytes)
		}
		out.Request.PostData = pd
	}
	return out
}

func content(e Entry) outContent {
	f := e.Flow
	c := outContent{Size: f.ResponseBytes, MimeType: f.ResponseHeader.Get("Content-Type")}
	if len(e.ResponseBody) > 0 {
		c.Text, c.Encoding = text(e.ResponseBody, e.ResponseEncoding != "")
		if e.ResponseEncoding == "" {
			c.Size = int64(len(e.ResponseBody))
		} else {
			c.Comment = "content is " + e.ResponseEncoding + "-encoded as received"
		}
	}
	return c
}

// text renders a body for a HAR text field: as is when it is UTF-8 text, else base64.
func text(b []byte, encoded bool) (string, string) {
	if !encoded && utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

func customs(f *flow.Flow) *Customs {
	c := &Customs{
		FlowID:   f.ID,
		Source:   string(f.Source),
		Mode:     string(f.Mode),
		Client:   f.Client.Addr,
		User:     f.Client.User,
		Vendor:   f.Vendor.ID,
		Category: f.Vendor.Category,
		API:      f.API,
		Action:   string(f.Verdict.Action),
		Policy:   f.Verdict.Policy,
		Message:  f.Verdict.Message,
		Findings: []Finding{},
		Notes:    f.Notes,
		Error:    f.Error,
	}
	for _, fd := range f.Findings {
		c.Findings = append(c.Findings, Finding{Detector: fd.Detector, Class: fd.Class, Severity: fd.Severity, Path: fd.Path, Preview: fd.Preview, Hash: fd.Hash})
	}
	for _, m := range f.Marks {
		c.Marks = append(c.Marks, string(m))
	}
	return c
}

// headers lists h by name, values in order, masking credentials.
func (w *Writer) headers(h http.Header) []harNV {
	out := []harNV{}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		secret := !w.opts.RevealHeaders && sensitive(name)
		for _, v := range h[name] {
			if secret {
				v = mask
			}
			out = append(out, harNV{Name: name, Value: v})
		}
	}
	return out
}

// MaskHeaders returns a copy of h in which the values of headers named like credentials (see
// WriteOptions.RevealHeaders) are "[redacted by customs]": the rule evidence exports share.
func MaskHeaders(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, vs := range h {
		if sensitive(name) {
			masked := make([]string, len(vs))
			for i := range masked {
				masked[i] = mask
			}
			vs = masked
		}
		out[name] = vs
	}
	return out
}

// MaskURL returns rawURL with the values of query parameters named like credentials masked
// (Gemini's ?key=), by the same rule.
func MaskURL(rawURL string) string {
	u, _ := maskQuery(rawURL, true)
	return u
}

// query lists the query parameters of rawURL in order and masks credentials in them, returning
// the URL as written.
func (w *Writer) query(rawURL string) (string, []harNV) {
	return maskQuery(rawURL, !w.opts.RevealHeaders)
}

func maskQuery(rawURL string, masking bool) (string, []harNV) {
	out := []harNV{}
	q := strings.IndexByte(rawURL, '?')
	if q < 0 {
		return rawURL, out
	}
	end := len(rawURL)
	if h := strings.IndexByte(rawURL[q:], '#'); h >= 0 {
		end = q + h
	}
	pairs := strings.Split(rawURL[q+1:end], "&")
	changed := false
	for i, pair := range pairs {
		if pair == "" {
			continue
		}
		rawName, rawValue, hasValue := strings.Cut(pair, "=")
		name, value := unescape(rawName), unescape(rawValue)
		if hasValue && masking && sensitive(name) {
			value = mask
			pairs[i] = rawName + "=" + url.QueryEscape(mask)
			changed = true
		}
		out = append(out, harNV{Name: name, Value: value})
	}
	if changed {
		rawURL = rawURL[:q+1] + strings.Join(pairs, "&") + rawURL[end:]
	}
	return rawURL, out
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// sensitive reports whether a header or query parameter name is one credentials travel in.
func sensitive(name string) bool {
	n := strings.ToLower(name)
	if strings.Contains(n, "ratelimit") {
		return false // x-ratelimit-remaining-tokens: counts, not credentials
	}
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-goog-api-key":
		return true
	}
	for _, part := range []string{"token", "secret", "key", "password", "passwd", "auth", "session", "credential", "cookie"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}
