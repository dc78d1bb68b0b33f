// Package flowlog writes one structured log line per finished flow: the line a SIEM ingests. It
// never writes bodies, headers, query strings or detected values: a finding appears only as its
// masked preview and keyed hash.
package flowlog

import (
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
)

// Logger is a flow.Recorder that logs each flow.
type Logger struct {
	log zerolog.Logger
}

var _ flow.Recorder = (*Logger)(nil)

// New returns a flow logger writing to l.
func New(l zerolog.Logger) *Logger { return &Logger{log: l} }

// Record logs f at info level, or warn when it failed, was blocked or raised an alert.
func (l *Logger) Record(f *flow.Flow) {
	ev := l.log.Info()
	if f.Error != "" || f.Verdict.Action == flow.Block || f.Verdict.Action == flow.Alert || f.Verdict.Action == flow.Redact {
		ev = l.log.Warn()
	}
	if !ev.Enabled() {
		return
	}
	ev.Str("type", "flow").Str("flow_id", f.ID).
		Str("source", string(f.Source)).
		Str("mode", string(f.Mode)).
		Str("client", f.Client.Addr)
	if f.Client.User != "" {
		ev.Str("user", f.Client.User)
	}
	ev.Str("host", f.Host).Str("method", f.Method)
	if f.SNI != "" && f.SNI != f.Host {
		ev.Str("sni", f.SNI)
	}
	if f.Target != "" && hostOf(f.Target) != f.Host {
		ev.Str("target", f.Target)
	}
	if p := Path(flow.MaskURL(f.URL, f.Findings)); p != "" {
		ev.Str("path", p)
	}
	ev.Int("status", f.Status).
		Int64("bytes_out", f.RequestBytes).
		Int64("bytes_in", f.ResponseBytes).
		Float64("duration_ms", float64(f.Duration().Microseconds())/1000)
	if f.Vendor.ID != "" {
		ev.Str("vendor", f.Vendor.ID).Str("category", f.Vendor.Category)
	}
	if f.API != "" {
		ev.Str("api", f.API)
	}
	if f.Model != "" {
		ev.Str("model", f.Model)
	}
	if f.ServedModel != "" {
		ev.Str("served_model", f.ServedModel)
	}
	if len(f.Params) > 0 {
		ev.Dict("params", params(f.Params))
	}
	ev.Str("action", string(f.Verdict.Action))
	if f.Verdict.Policy != "" {
		ev.Str("policy", f.Verdict.Policy)
	}
	if f.Verdict.Message != "" {
		ev.Str("reason", f.Verdict.Message)
	}
	if len(f.Verdict.Matched) > 1 {
		ev.Strs("policies", f.Verdict.Matched)
	}
	ev.Array("findings", findings(f.Findings))
	if len(f.Segments) > 0 {
		ev.Int("segments", len(f.Segments))
	}
	if len(f.Notes) > 0 {
		notes := zerolog.Arr()
		for _, n := range f.Notes {
			notes.Str(n)
		}
		ev.Array("notes", notes)
	}
	if len(f.Marks) > 0 {
		marks := zerolog.Arr()
		for _, m := range f.Marks {
			marks.Str(string(m))
		}
		ev.Array("marks", marks)
	}
	if len(f.Incomplete) > 0 {
		ev.Strs("incomplete", f.Incomplete)
	}
	if f.Messages > 0 {
		ev.Int("messages", f.Messages)
	}
	if f.Error != "" {
		ev.Str("error", f.Error).Str("error_kind", f.ErrorKind)
	}
	ev.Msg("flow")
}

// hostOf is the host of a host:port target, brackets of an IPv6 literal dropped.
func hostOf(target string) string {
	if i := strings.LastIndexByte(target, ':'); i > 0 {
		target = target[:i]
	}
	return strings.Trim(target, "[]")
}

// params is the retention parameters in key order, so that lines are stable: their values are
// tokens (true, present, file), never what the client sent.
func params(m map[string]string) *zerolog.Event {
	d := zerolog.Dict()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		d.Str(k, m[k])
	}
	return d
}

func findings(fs []flow.Finding) *zerolog.Array {
	arr := zerolog.Arr()
	for _, x := range fs {
		arr.Dict(JewelFields(zerolog.Dict().
			Str("detector", x.Detector).
			Str("class", x.Class).
			Str("severity", x.Severity).
			Str("path", x.Path).
			Str("preview", x.Preview).
			Str("hash", x.Hash), &x))
	}
	return arr
}

// JewelFields adds what a crown-jewel finding matched (label, file or flow, shares, rows and
// columns — names and numbers, never text) to d, for the findings that have it.
func JewelFields(d *zerolog.Event, x *flow.Finding) *zerolog.Event {
	if x.Label != "" {
		d.Str("label", x.Label)
	}
	if x.Ref != "" {
		d.Str("ref", x.Ref)
	}
	if x.Share != 0 || x.SegmentShare != 0 {
		d.Float64("share", round3(x.Share)).Float64("segment_share", round3(x.SegmentShare))
	}
	if x.Rows != 0 {
		d.Int("rows", x.Rows)
	}
	if len(x.Columns) > 0 {
		d.Strs("columns", x.Columns)
	}
	return d
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Path returns the path of a request URL without its query string, which can carry API keys
// (Gemini's ?key=) or whole analytics events (Mixpanel's ?data=). It slices rather than parses:
// it runs for every flow.
func Path(rawURL string) string {
	if rawURL == "" {
		return ""
	}
	rest := rawURL
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return "/"
		}
		rest = rest[j:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return "/"
	}
	return rest
}
