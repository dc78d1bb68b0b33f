package store

import (
	"maps"
	"net/http"
	"time"

	"github.com/customs-dev/customs/flow"
)

// Record is everything the store keeps about one flow. Query fills the metadata only (no
// headers, no bodies); Get and Each(withBodies) fill everything.
type Record struct {
	ID     string // the flow's ULID
	Start  time.Time
	End    time.Time
	Source flow.Source
	Mode   flow.Mode
	Client flow.Client

	Host   string
	Method string
	URL    string // as recorded; may carry a query string, so it lives only in the encrypted value
	API    string

	Vendor flow.Vendor

	// RequestHeader and RequestBody are filled by Get and Each(withBodies) only.
	RequestHeader http.Header
	RequestBody   []byte // at most Options.BodyLimit bytes
	// RequestTruncated: RequestBody is not the whole request body, because the store kept only
	// its first BodyLimit bytes or because the flow's inspection window was already cut
	// (flow.MarkOversize).
	RequestTruncated bool
	RequestBytes     int64 // bytes of request body sent upstream
	ContentEncoding  string
	DecodedBytes     int64

	Status int
	// ResponseHeader and ResponseBody are filled by Get and Each(withBodies) only.
	ResponseHeader    http.Header
	ResponseBody      []byte // at most Options.BodyLimit bytes
	ResponseTruncated bool   // the store kept only the first BodyLimit bytes of the body it was given
	ResponseBytes     int64

	// Segments are where inspection found text: paths, media types and sizes, never the text.
	Segments []Segment
	Findings []flow.Finding
	Verdict  flow.Verdict
	Notes    []string
	Marks    []flow.Mark
	// SNI, Target, Incomplete and Messages are flow.Flow's (records written before version 2
	// of the format have none).
	SNI        string
	Target     string
	Incomplete []string
	Messages   int
	// Server, ALPN, JA4 and TLSVersion are flow.Flow's: what a capture saw of the connection
	// (records written before version 5 of the format have none).
	Server     string
	ALPN       string
	JA4        string
	TLSVersion string
	// Model, ServedModel and Params are flow.Flow's: the model the request asked for, the one
	// the answer named, the retention parameters (records written before version 3 of the
	// format have none). ModelUse gathers what a report of models needs.
	Model       string
	ServedModel string
	Params      map[string]string
	Error       string
	// ErrorKind classifies Error: client, dial, tls, timeout, upstream.
	ErrorKind string

	// HasBodies says whether the headers and bodies were loaded (Get, Each with bodies).
	HasBodies bool
}

// Segment is what the store keeps of a flow.Segment: where the text came from, not the text.
type Segment struct {
	Path  string
	Media string // MIME type of a media part; empty for text
	Size  int    // bytes of a media part
}

// Duration is how long the exchange took.
func (r *Record) Duration() time.Duration {
	if r.End.IsZero() {
		return 0
	}
	return r.End.Sub(r.Start)
}

// ModelUse is the record's flow.ModelUse: who called which vendor for which model, and which
// model answered. Reports list models per client and vendor from it, and find where the
// version behind an alias changed by feeding it, oldest first, to a flow.ServedModels.
func (r *Record) ModelUse() flow.ModelUse {
	return flow.ModelUse{FlowID: r.ID, Time: r.Start, Client: r.Client.Addr, User: r.Client.User, Vendor: r.Vendor.ID,
		API: r.API, Model: r.Model, ServedModel: r.ServedModel}
}

// Flow rebuilds a flow.Flow from the record, for replay: the request as stored (headers and the
// capped body), with the findings and verdict of the time. Segment texts are not stored, so
// Segments carry paths only; inspection extracts them again from the body.
func (r *Record) Flow() *flow.Flow {
	f := &flow.Flow{
		ID:              r.ID,
		Start:           r.Start,
		End:             r.End,
		Source:          r.Source,
		Mode:            r.Mode,
		Client:          r.Client,
		Host:            r.Host,
		Method:          r.Method,
		URL:             r.URL,
		API:             r.API,
		RequestHeader:   r.RequestHeader.Clone(),
		RequestBody:     append([]byte(nil), r.RequestBody...),
		RequestBytes:    r.RequestBytes,
		ContentEncoding: r.ContentEncoding,
		DecodedBytes:    r.DecodedBytes,
		Status:          r.Status,
		ResponseHeader:  r.ResponseHeader.Clone(),
		ResponseBody:    append([]byte(nil), r.ResponseBody...),
		ResponseBytes:   r.ResponseBytes,
		Vendor:          r.Vendor,
		Notes:           append([]string(nil), r.Notes...),
		Marks:           append([]flow.Mark(nil), r.Marks...),
		SNI:             r.SNI,
		Server:          r.Server,
		ALPN:            r.ALPN,
		JA4:             r.JA4,
		TLSVersion:      r.TLSVersion,
		Target:          r.Target,
		Incomplete:      append([]string(nil), r.Incomplete...),
		Messages:        r.Messages,
		Model:           r.Model,
		ServedModel:     r.ServedModel,
		Params:          maps.Clone(r.Params),
		Findings:        append([]flow.Finding(nil), r.Findings...),
		Verdict:         r.Verdict,
		Error:           r.Error,
		ErrorKind:       r.ErrorKind,
	}
	f.Verdict.Matched = append([]string(nil), r.Verdict.Matched...)
	for _, s := range r.Segments {
		f.Segments = append(f.Segments, flow.Segment{Path: s.Path, Media: s.Media, Size: s.Size})
	}
	return f
}
