// Package inspect is the one inspection pipeline every source of traffic shares: the proxy, packet
// captures and replays build a flow.Flow and call Inspect. The stages run in order:
//
//	classify (catalog: host -> vendor) -> decode (Content-Encoding) -> extract (segments)
//	-> detect (findings) -> stages: decide (policies -> Verdict)
//
// Policies plug in through the Stage interface; with none configured the verdict is allow. Nothing here knows about sockets or storage.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect/decode"
)

// Stage is one step after decoding. It reads the request (decoded body in req.Body, segments
// extracted by earlier stages) and adds to it. Stages are built at configuration time and must be
// safe for concurrent use; Run is called once per inspected flow.
type Stage interface {
	Run(ctx context.Context, req *Request) error
}

// Request is what the stages of one inspection share.
type Request struct {
	Flow     *flow.Flow
	Body     []byte // decoded request body (at most the decode limit)
	Segments []flow.Segment
	Verdict  flow.Verdict
}

// Options configure a Pipeline.
type Options struct {
	Catalog     *catalog.Catalog
	DecodeLimit int64 // cap on the decoded body size; 0 means 32 MiB
	Stages      []Stage
	Limits      extract.Limits // bounds on extraction; zero values take extract's defaults
	// Detectors scan the segments; nil runs none. Hasher keys the findings' hashes and is
	// required with Detectors.
	Detectors *detectors.Engine
	Hasher    *detectors.Hasher
}

// Pipeline runs the inspection stages over flows.
type Pipeline struct {
	catalog     *catalog.Catalog
	decodeLimit int64
	stages      []Stage
	limits      extract.Limits
	detectors   *detectors.Engine
	hasher      *detectors.Hasher
}

// New builds a pipeline.
func New(opts Options) *Pipeline {
	p := &Pipeline{catalog: opts.Catalog, decodeLimit: opts.DecodeLimit, stages: opts.Stages, limits: opts.Limits,
		detectors: opts.Detectors, hasher: opts.Hasher}
	if p.detectors != nil && p.hasher == nil {
		p.detectors = nil // no key, no findings: hashes must never be unkeyed
	}
	if p.decodeLimit <= 0 {
		p.decodeLimit = 32 << 20
	}
	return p
}

// Known reports whether the catalog knows host (lower-case, without port). The proxy uses it to
// decide which CONNECT targets to open.
func (p *Pipeline) Known(host string) bool {
	if p.catalog == nil {
		return false
	}
	_, ok := p.catalog.Lookup(host)
	return ok
}

// Classify copies the catalog's vendor for f.Host onto the flow. It is all the inspection a
// tunnelled (metadata-only) flow gets.
func (p *Pipeline) Classify(f *flow.Flow) {
	if p.catalog == nil {
		return
	}
	if v, ok := p.catalog.Lookup(f.Host); ok {
		f.Vendor = flow.Vendor{ID: v.ID, Name: v.Name, Category: v.Category, Country: v.Country}
	}
}

// Inspect classifies, decodes and runs every stage over f, stores the verdict on f and returns it.
// A stage error never stops the flow: it is noted on the flow and the remaining stages still run,
// because one malformed body must not switch inspection off.
func (p *Pipeline) Inspect(ctx context.Context, f *flow.Flow) flow.Verdict {
	p.Classify(f)
	req := &Request{Flow: f, Body: p.decode(f), Verdict: flow.Verdict{Action: flow.Allow}}
	f.DecodedBytes = int64(len(req.Body))
	p.extract(f, req)
	if p.detectors != nil {
		f.Findings = p.detectors.Find(req.Segments, p.hasher)
	}
	for _, s := range p.stages {
		if err := s.Run(ctx, req); err != nil && f.Error == "" {
			f.Error = "inspect: " + err.Error()
		}
	}
	f.Verdict = req.Verdict
	return req.Verdict
}

// extract pulls the texts out of the decoded body (and the query string) with their paths, and
// names the vendor API the request matches.
func (p *Pipeline) extract(f *flow.Flow, req *Request) {
	er := &extract.Request{Vendor: f.Vendor.ID, Method: f.Method, Body: req.Body}
	if u, err := url.Parse(f.URL); err == nil {
		er.Path, er.RawQuery = u.Path, u.RawQuery
	}
	if f.RequestHeader != nil {
		er.Header = f.RequestHeader
		er.ContentType = f.RequestHeader.Get("Content-Type")
	}
	res := extract.Extract(er, p.limits)
	f.API = res.API
	req.Segments = res.Segments
	f.Segments = res.Segments
	f.Notes = append(f.Notes, res.Notes...)
}

// InspectResponse extracts the texts of a response body (the vendor's answer, assembled from its
// stream) onto the flow, under response: paths. It runs after the response has reached the
// client, so it can only inform the record, never hold the answer back.
func (p *Pipeline) InspectResponse(f *flow.Flow, header http.Header, body []byte) {
	if len(body) == 0 {
		return
	}
	if ce := header.Get("Content-Encoding"); ce != "" {
		decoded, err := decode.Body(ce, body, p.decodeLimit)
		if err != nil && !errors.Is(err, decode.ErrTooLarge) {
			// A response cut at the capture limit is a truncated stream: use what decoded.
			f.Notes = append(f.Notes, "response: "+err.Error())
		}
		body = decoded
	}
	res := extract.ExtractResponse(f.API, header.Get("Content-Type"), body, p.limits)
	f.Segments = append(f.Segments, res.Segments...)
	if p.detectors != nil {
		f.Findings = append(f.Findings, p.detectors.Find(res.Segments, p.hasher)...)
	}
	f.Notes = append(f.Notes, res.Notes...)
}

func (p *Pipeline) decode(f *flow.Flow) []byte {
	if f.ContentEncoding == "" || len(f.RequestBody) == 0 {
		return f.RequestBody
	}
	// An oversize body was cut at the inspection cap, so its compressed stream is truncated: decode
	// what there is and do not call the cut an error.
	out, err := decode.Body(f.ContentEncoding, f.RequestBody, p.decodeLimit)
	switch {
	case err == nil:
		return out
	case errors.Is(err, decode.ErrTooLarge):
		f.Mark(flow.MarkDecodeTruncated)
		f.Notes = append(f.Notes, fmt.Sprintf("content-encoding: decoded body over %d bytes; only that much was inspected", p.decodeLimit))
		return out
	case errors.Is(err, decode.ErrUnsupported):
		f.Mark(flow.MarkDecodeError)
		f.Notes = append(f.Notes, "content-encoding: "+err.Error()+"; the raw body was inspected")
		return f.RequestBody
	default:
		if f.HasMark(flow.MarkOversize) && len(out) > 0 {
			return out
		}
		f.Mark(flow.MarkDecodeError)
		f.Notes = append(f.Notes, "content-encoding: "+err.Error())
		if len(out) > 0 {
			return out
		}
		return f.RequestBody
	}
}
