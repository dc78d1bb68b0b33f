package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/har"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/store"
)

// view is a stored flow as a command shows it: masked (every detected value replaced wherever
// it sits) unless revealed.
type view struct {
	store.Record
	// masked says that the URL, headers, bodies, error and notes are already the masked view:
	// masking them again would shift the URL path spans findings point at.
	masked bool
	// texts are what customs reads in the request, path by path (flows show --body): masked
	// like the record unless revealed.
	texts []flow.Segment
}

// masker shows stored flows to a responder. It re-inspects each request with the current
// detectors (a value is masked if it is found today or was found when the flow was recorded)
// and replaces every value wherever it can come from: the body (decoded, each value replaced
// in place by its detector and masked preview), the URL path and query, the headers, the
// decoded texts, and the error and notes. It compiles the rules and detectors once for all the
// flows of a command; serve's admin API uses serve's own pipeline.
type masker struct{ p *inspect.Pipeline }

func newMasker(cfg config.Config) (*masker, error) {
	pol, err := loadPolicy(cfg, cfg.Rules)
	if err != nil {
		return nil, err
	}
	hasher, err := loadHasher(cfg, false)
	if err != nil {
		return nil, err
	}
	js, err := loadJewels(cfg)
	if err != nil {
		return nil, err
	}
	return &masker{p: inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: hasher, Jewels: js})}, nil
}

// inspected re-inspects r's request: its findings today, with the texts they are in.
func (m *masker) inspected(r *store.Record) *flow.Flow {
	f := r.Flow()
	f.Findings, f.Notes, f.Segments, f.Marks = nil, nil, nil, nil
	m.p.Inspect(context.Background(), f)
	return f
}

// revealed is r with its request body decoded (Content-Encoding undone) and the texts customs
// reads in clear: what --reveal shows.
func (m *masker) revealed(r *store.Record, texts bool) *view {
	v := &view{Record: *r}
	f := r.Flow()
	f.Findings = nil // nothing to replace: Masked returns the decoded body as it is
	if body, err := m.p.Masked(f); err == nil && r.ContentEncoding != "" {
		v.RequestBody, v.ContentEncoding = body, ""
		v.RequestHeader = r.RequestHeader.Clone()
		v.RequestHeader.Del("Content-Encoding")
	}
	if texts {
		v.texts = m.inspected(r).Segments
	}
	return v
}

// mask returns the masked view of r (see masker).
func (m *masker) mask(r *store.Record, texts bool) *view {
	f := m.inspected(r)
	var findings []flow.Finding
	for _, x := range slices.Concat(r.Findings, f.Findings) {
		if !strings.HasPrefix(x.Path, "response:") {
			findings = append(findings, x)
		}
	}
	vals := findingValues(f.Segments, findings)
	out := *r
	out.URL = maskURLText(r.URL, findings, vals)
	out.RequestHeader = maskHeaders(r.RequestHeader, findings, vals)
	out.ResponseHeader = maskHeaders(r.ResponseHeader, nil, vals)
	out.Error = vals.replace(scrubURL(r.Error, r.URL, out.URL))
	// The model was masked when recorded if a finding lay in it; a value today's detectors
	// find there is masked here.
	out.Model, out.ServedModel = vals.replace(r.Model), vals.replace(r.ServedModel)
	if f.Model == flow.MaskedValue {
		out.Model = flow.MaskedValue
	}
	out.Notes = nil
	for _, n := range r.Notes {
		out.Notes = append(out.Notes, vals.replace(scrubURL(n, r.URL, out.URL)))
	}
	if len(r.RequestBody) > 0 {
		out.RequestBody, out.ContentEncoding = m.maskBody(f, vals), ""
		if out.RequestHeader != nil {
			out.RequestHeader.Del("Content-Encoding") // the body shown is decoded
		}
	}
	if len(r.ResponseBody) > 0 {
		rf := &flow.Flow{API: f.API}
		m.p.InspectResponse(rf, r.ResponseHeader, r.ResponseBody)
		switch {
		case len(rf.Findings) > 0:
			out.ResponseBody = []byte(fmt.Sprintf("[withheld: %s found in the response; --reveal prints it]", summarize(rf.Findings)))
		case vals.leak(string(r.ResponseBody)):
			out.ResponseBody = []byte("[withheld: the response repeats a value detected in the request; --reveal prints it]")
		}
	}
	v := &view{Record: out, masked: true}
	if texts {
		v.texts = maskTexts(f.Segments, findings, vals)
	}
	return v
}

// maskBody is f's request body decoded, each value found in it replaced in place (re-encoded
// where it sat: in a JSON string, a form value, base64) by its detector and masked preview.
// What cannot be rewritten in place (a value among member names, one the rewrite could not
// reach) is replaced as text; a body that still holds a value after that is withheld.
func (m *masker) maskBody(f *flow.Flow, vals values) []byte {
	inBody := *f
	inBody.Findings = nil
	for _, x := range f.Findings {
		if bodyPath(x.Path) {
			inBody.Findings = append(inBody.Findings, x)
		}
	}
	body, err := m.p.Masked(&inBody)
	if err != nil {
		return []byte(fmt.Sprintf("[withheld: the request body cannot be masked safely (%v); --reveal prints it]", err))
	}
	body = []byte(vals.replace(string(body)))
	if vals.leak(string(body)) {
		return []byte("[withheld: a detected value could not be masked in the request body; --reveal prints it]")
	}
	return body
}

// bodyPath reports whether a finding's path is in the request body (not the URL, a header or
// the names).
func bodyPath(p string) bool {
	for _, prefix := range []string{"header:", "url:", "query:", "#keys", "response:"} {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return true
}

// values are the detected values of a flow, each with the label that replaces it.
type values []struct{ value, label string }

// findingValues reads each finding's value out of the text it was found in.
func findingValues(segs []flow.Segment, findings []flow.Finding) values {
	var out values
	seen := map[string]bool{}
	for _, x := range findings {
		for _, s := range segs {
			if s.Path != x.Path || s.Media != "" || x.Start < 0 || x.End > len(s.Text) || x.Start >= x.End {
				continue
			}
			v := s.Text[x.Start:x.End]
			// Shorter values would mask common words; the finding's own span still masks them.
			if len(v) < 4 || seen[v] {
				continue
			}
			seen[v] = true
			out = append(out, struct{ value, label string }{v, label(x)})
		}
	}
	// Longest first, so that a value inside another is not replaced first and the longer one
	// missed.
	slices.SortStableFunc(out, func(a, b struct{ value, label string }) int { return cmp.Compare(len(b.value), len(a.value)) })
	return out
}

func label(x flow.Finding) string { return "[" + x.Detector + " " + x.Preview + "]" }

// replace replaces every value in s, as is or percent-encoded, by its label (percent-encoded
// text by the encoded label, so that a URL stays a URL).
func (vs values) replace(s string) string {
	for _, v := range vs {
		if s == "" {
			return s
		}
		s = strings.ReplaceAll(s, v.value, v.label)
		for _, enc := range []func(string) string{url.QueryEscape, url.PathEscape} {
			if e := enc(v.value); e != v.value {
				s = strings.ReplaceAll(s, e, enc(v.label))
			}
		}
	}
	return s
}

// leak reports whether s holds a value in any form the detectors decode: as is,
// percent-encoded or in base64.
func (vs values) leak(s string) bool {
	for _, v := range vs {
		for _, form := range encodedForms(v.value) {
			if strings.Contains(s, form) {
				return true
			}
		}
	}
	return false
}

// encodedForms are the forms of v a masked output must not hold: v itself, percent-encoded, and
// for values long enough to tell, the part of its base64 (standard and URL alphabets) that does
// not depend on what surrounds it, at each of the three alignments.
func encodedForms(v string) []string {
	forms := []string{v}
	for _, e := range []string{url.QueryEscape(v), url.PathEscape(v)} {
		if e != v && !slices.Contains(forms, e) {
			forms = append(forms, e)
		}
	}
	if len(v) < 8 {
		return forms
	}
	for pad := 0; pad < 3; pad++ {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			b := enc.EncodeToString(append(make([]byte, pad), v...))
			// Character k carries bits 6k..6k+5: those of v alone run from bit 8*pad to bit
			// 8*(pad+len(v)).
			from, to := (8*pad+5)/6, 8*(pad+len(v))/6
			if to-from >= 8 && !slices.Contains(forms, b[from:to]) {
				forms = append(forms, b[from:to])
			}
		}
	}
	return forms
}

// maskURLText masks a URL: the spans and segments of its path and the query values findings
// point at (flow.MaskURL), query parameters named like credentials (har.MaskURL), and any value
// left in it in clear or percent-encoded; a value still there in another form takes the whole
// query and path with it.
func maskURLText(raw string, findings []flow.Finding, vals values) string {
	if raw == "" {
		return raw
	}
	u := har.MaskURL(flow.MaskURL(raw, findings))
	for _, v := range vals {
		for _, form := range encodedForms(v.value) {
			u = strings.ReplaceAll(u, form, flow.MaskedValue)
		}
	}
	if vals.leak(u) {
		// Not expected after the replacements above; if it happens, nothing past the host.
		if i := strings.Index(u, "://"); i >= 0 {
			if j := strings.IndexAny(u[i+3:], "/?#"); j >= 0 {
				return u[:i+3+j] + "/" + flow.MaskedValue
			}
		}
		return "/" + flow.MaskedValue
	}
	return u
}

// scrubURL replaces the raw URL, or its query, where a text (an error from the upstream
// client, a note) quotes it.
func scrubURL(s, raw, masked string) string {
	if s == "" || raw == "" || raw == masked {
		return s
	}
	s = strings.ReplaceAll(s, raw, masked)
	if _, q, ok := strings.Cut(raw, "?"); ok && len(q) >= 4 {
		s = strings.ReplaceAll(s, q, flow.MaskedValue)
	}
	return s
}

// maskHeaders returns h with the values of headers a finding points at (header:x-debug,
// header:x-debug/base64/...) masked, credential headers redacted as exports redact them,
// and any value left replaced; a header name that holds a value is itself masked.
func maskHeaders(h http.Header, findings []flow.Finding, vals values) http.Header {
	if h == nil {
		return nil
	}
	found := map[string]bool{}
	for _, x := range findings {
		if name, ok := strings.CutPrefix(x.Path, "header:"); ok {
			name, _, _ = strings.Cut(name, "/")
			found[strings.ToLower(name)] = true
		}
	}
	out := har.MaskHeaders(h)
	for name, vs := range out {
		masked := make([]string, len(vs))
		for i, v := range vs {
			if found[strings.ToLower(name)] {
				v = flow.MaskedValue
			}
			masked[i] = vals.replace(v)
			if vals.leak(masked[i]) {
				masked[i] = flow.MaskedValue
			}
		}
		if n := vals.replace(name); n != name || vals.leak(strings.ToLower(name)) || vals.leak(name) {
			delete(out, name)
			name = flow.MaskedValue
			masked = append(out[name], masked...)
		}
		out[name] = masked
	}
	return out
}

// maskTexts masks the texts customs read: each finding's span in its own text; a text that a
// finding's text was decoded from (query:data, whose base64 holds query:data/base64/email) in
// whole; and any value left.
func maskTexts(segs []flow.Segment, findings []flow.Finding, vals values) []flow.Segment {
	out := make([]flow.Segment, len(segs))
	for i, s := range segs {
		out[i] = s
		if s.Media != "" {
			continue
		}
		var spans []span
		decoded := false
		for _, x := range findings {
			switch {
			case x.Path == s.Path:
				if x.Start >= 0 && x.End <= len(s.Text) && x.Start < x.End {
					spans = append(spans, span{x.Start, x.End, label(x)})
				}
			case len(x.Path) > len(s.Path) && strings.HasPrefix(x.Path, s.Path) && strings.ContainsRune("/[@", rune(x.Path[len(s.Path)])):
				decoded = true
			}
		}
		if decoded {
			out[i].Text = "[masked: a detected value is decoded from this text]"
			continue
		}
		text := maskSpans(s.Text, spans)
		text = vals.replace(text)
		if vals.leak(text) {
			text = flow.MaskedValue
		}
		out[i].Text = text
	}
	return out
}

// span is a finding's place in a text and what replaces it.
type span struct {
	start, end int
	label      string
}

// maskSpans replaces the spans of text by their labels; overlapping spans are merged and take
// the label of the first.
func maskSpans(text string, spans []span) string {
	if len(spans) == 0 {
		return text
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	var merged []span
	for _, s := range spans {
		if k := len(merged) - 1; k >= 0 && s.start <= merged[k].end {
			merged[k].end = max(merged[k].end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	var b bytes.Buffer
	last := 0
	for _, s := range merged {
		b.WriteString(text[last:s.start])
		b.WriteString(s.label)
		last = s.end
	}
	b.WriteString(text[last:])
	return b.String()
}
