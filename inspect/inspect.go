// Package inspect is the one inspection pipeline every source of traffic shares: the proxy, packet
// captures and replays build a flow.Flow and call Inspect. The stages run in order:
//
//	classify (catalog: host -> vendor) -> decode (Content-Encoding) -> extract (segments)
//	-> detect (findings) -> decide (policies -> Verdict) -> stages
//
// The catalog, detectors and policies can be swapped while flows are inspected (a rule reload):
// each inspection reads one consistent set of them. With no policies the verdict is allow.
// Nothing here knows about sockets or storage.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/jewels"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect/decode"
	"github.com/customs-dev/customs/rules"
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

	modelPath string // where extraction read the flow's model (see maskModel)
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
	// Rules decide the verdict from the findings; nil allows every flow.
	Rules *rules.Set
	// Incomplete is what happens to a request to a catalog vendor that could not be inspected
	// completely when the policies would let it through: block (the default, ""), alert or
	// allow. Requests to other hosts get an alert at most.
	Incomplete flow.Action
	// Jewels are the installation's indexed files and tables (customs jewels); nil finds none.
	// Echo remembers what AI vendors were sent and finds it again in telemetry; nil: off.
	Jewels *jewels.Set
	Echo   *jewels.Echo
	// DecodeBudget bounds the decoded bytes (and decoder state) held at once by every body this
	// pipeline decodes, with a share per client (the flow's client address); a body that cannot
	// get budget in time is incomplete ("decode-budget"). nil: no budget (offline tools).
	DecodeBudget *decode.Budget
}

// Pipeline runs the inspection stages over flows.
type Pipeline struct {
	incomplete  flow.Action
	decodeLimit int64
	budget      *decode.Budget
	stages      []Stage
	limits      extract.Limits
	echo        *jewels.Echo
	cur         atomic.Pointer[snapshot]
}

// snapshot is what a reload replaces as one.
type snapshot struct {
	catalog   *catalog.Catalog
	detectors *detectors.Engine
	hasher    *detectors.Hasher
	rules     *rules.Set
	jewels    *jewels.Set
	subs      sync.Map // *catalog.Vendor -> []string, see subprocessorsOf
}

// New builds a pipeline.
func New(opts Options) *Pipeline {
	p := &Pipeline{decodeLimit: opts.DecodeLimit, stages: opts.Stages, limits: opts.Limits, incomplete: opts.Incomplete, budget: opts.DecodeBudget,
		echo: opts.Echo}
	if p.incomplete == "" {
		p.incomplete = flow.Block
	}
	if p.decodeLimit <= 0 {
		p.decodeLimit = 32 << 20
	}
	p.Swap(opts.Catalog, opts.Detectors, opts.Hasher, opts.Rules)
	p.SwapJewels(opts.Jewels)
	return p
}

// SwapJewels replaces the indexed jewels (customs jewels add, remove): flows inspected from now
// on scan with js.
func (p *Pipeline) SwapJewels(js *jewels.Set) {
	for {
		old := p.cur.Load()
		sn := &snapshot{catalog: old.catalog, detectors: old.detectors, hasher: old.hasher, rules: old.rules, jewels: js}
		if p.cur.CompareAndSwap(old, sn) {
			return
		}
	}
}

// Echo is the pipeline's echo memory (nil when off).
func (p *Pipeline) Echo() *jewels.Echo { return p.echo }

// find runs the detectors and the jewels over segs.
func (sn *snapshot) find(segs []flow.Segment) []flow.Finding {
	var out []flow.Finding
	if sn.detectors != nil {
		out = sn.detectors.Find(segs, sn.hasher)
	}
	if !sn.jewels.Empty() {
		out = append(out, sn.jewels.Find(segs, sn.hasher)...)
	}
	return out
}

// Swap replaces the catalog, detectors and rules at once: flows inspected from now on use the
// new ones, flows already being inspected finish with the old.
func (p *Pipeline) Swap(cat *catalog.Catalog, det *detectors.Engine, hasher *detectors.Hasher, rs *rules.Set) {
	if det != nil && hasher == nil {
		det = nil // no key, no findings: hashes must never be unkeyed
	}
	var js *jewels.Set
	if old := p.cur.Load(); old != nil {
		js = old.jewels // a rules reload keeps the jewels
	}
	p.cur.Store(&snapshot{catalog: cat, detectors: det, hasher: hasher, rules: rs, jewels: js})
}

// Rules returns the policies in force.
func (p *Pipeline) Rules() *rules.Set { return p.cur.Load().rules }

// Catalog returns the catalog in force (it changes on reload).
func (p *Pipeline) Catalog() *catalog.Catalog { return p.cur.Load().catalog }

// Known reports whether the catalog knows host (lower-case, without port). The proxy uses it to
// decide which CONNECT targets to open.
func (p *Pipeline) Known(host string) bool {
	c := p.cur.Load().catalog
	if c == nil {
		return false
	}
	_, ok := c.Lookup(host)
	return ok
}

// Classify copies the catalog's vendor for f.Host onto the flow. It is all the inspection a
// tunnelled (metadata-only) flow gets.
func (p *Pipeline) Classify(f *flow.Flow) { p.cur.Load().classify(f) }

func (sn *snapshot) classify(f *flow.Flow) *catalog.Vendor {
	if sn.catalog == nil {
		return nil
	}
	v, ok := sn.catalog.Lookup(f.Host)
	if !ok {
		return nil
	}
	f.Vendor = flow.Vendor{ID: v.ID, Name: v.Name, Category: v.Category, Country: v.Country}
	return v
}

// Inspect classifies, decodes, detects, decides and runs every stage over f, stores the verdict
// on f and returns it. A stage error never stops the flow: it is noted on the flow and the
// remaining stages still run, because one malformed body must not switch inspection off.
func (p *Pipeline) Inspect(ctx context.Context, f *flow.Flow) flow.Verdict {
	sn := p.cur.Load()
	vendor := sn.classify(f)
	// The decoded body is leased until the inspection that reads it is over.
	lease := p.budget.Lease(ctx, budgetClient(f))
	defer lease.Release()
	req := &Request{Flow: f, Body: p.decode(f, lease), Verdict: flow.Verdict{Action: flow.Allow}}
	f.DecodedBytes = int64(len(req.Body))
	p.extract(f, req)
	f.Findings = dropOwnCredentials(vendor, sn.find(req.Segments))
	p.echoRequest(f, vendor, req.Segments, sn.hasher)
	maskModel(f, req.modelPath)
	if sn.rules != nil {
		req.Verdict = sn.decide(ctx, f, vendor)
	}
	req.Verdict = p.applyIncomplete(f, vendor != nil, req.Verdict)
	for _, s := range p.stages {
		if err := s.Run(ctx, req); err != nil && f.Error == "" {
			f.Error = "inspect: " + err.Error()
		}
	}
	f.Verdict = req.Verdict
	return req.Verdict
}

// subprocessorsOf is subprocessors, computed once per vendor of the snapshot's catalog (the
// list is read-only and the same for every flow to v; building it was a tenth of a request's
// inspection).
func (sn *snapshot) subprocessorsOf(v *catalog.Vendor) []string {
	if l, ok := sn.subs.Load(v); ok {
		return l.([]string)
	}
	l := subprocessors(sn.catalog, v)
	sn.subs.Store(v, l)
	return l
}

// subprocessors names whom v passes data to: the catalog vendors its relationships point to (by
// ID: "mixpanel"), then the entries of its published subprocessor list (by name, as listed).
func subprocessors(cat *catalog.Catalog, v *catalog.Vendor) []string {
	var out []string
	for _, e := range cat.Edges(v.ID) {
		if e.From == v.ID && !slices.Contains(out, e.To) {
			out = append(out, e.To)
		}
	}
	if v.Subprocessors != nil {
		for _, e := range v.Subprocessors.Entries {
			if !slices.Contains(out, e.Name) {
				out = append(out, e.Name)
			}
		}
	}
	return out
}

// Decide runs the policies in force over an inspected flow (a replay with other rules, a rule
// test) and returns their verdict without storing it.
func (p *Pipeline) Decide(ctx context.Context, f *flow.Flow) flow.Verdict {
	sn := p.cur.Load()
	if sn.rules == nil {
		return flow.Verdict{Action: flow.Allow}
	}
	var v *catalog.Vendor
	if sn.catalog != nil {
		v, _ = sn.catalog.Lookup(f.Host)
	}
	return p.applyIncomplete(f, v != nil, sn.decide(ctx, f, v))
}

// decide runs the snapshot's policies over f, bound for v (nil outside the catalog).
func (sn *snapshot) decide(ctx context.Context, f *flow.Flow, v *catalog.Vendor) flow.Verdict {
	in := rules.NewInput(f)
	if v != nil {
		in.Vendor.Known = true
		in.Vendor.Verified = v.HeadquartersVerified
		in.Vendor.Subprocessors = sn.subprocessorsOf(v)
	}
	d := sn.rules.EvaluateContext(ctx, in)
	verdict := d.Verdict()
	for _, m := range d.Matched {
		verdict.Matched = append(verdict.Matched, m.ID)
	}
	for _, e := range d.Errors {
		f.Notes = append(f.Notes, "policy: "+e)
	}
	return verdict
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
	f.Model, f.Params, req.modelPath = res.Model, res.Params, res.ModelPath
	req.Segments = res.Segments
	f.Segments = res.Segments
	f.Notes = append(f.Notes, res.Notes...)
	for _, l := range res.Limited {
		f.MarkIncompleteReason("extraction-limit:" + l)
	}
}

// applyIncomplete makes "could not inspect completely" a decision: when the flow carries
// incompleteness reasons and the policies' verdict is weaker than the configured action (for a
// catalog vendor; alert at most for other hosts), that action decides, with the reasons in its
// message. A redaction is not possible on a body not read whole, so it becomes a block.
func (p *Pipeline) applyIncomplete(f *flow.Flow, known bool, v flow.Verdict) flow.Verdict {
	if len(f.Incomplete) == 0 {
		return v
	}
	act := p.incomplete
	if !known && act == flow.Block {
		act = flow.Alert
	}
	if v.Action == flow.Redact {
		return flow.Verdict{Action: flow.Block, Policy: v.Policy, Matched: v.Matched,
			Message: v.Message + " customs could not read the whole request (" + strings.Join(f.Incomplete, ", ") + "), so the values cannot be removed safely."}
	}
	if act.Rank() <= v.Action.Rank() {
		return v
	}
	msg := "customs could not inspect this request completely (" + strings.Join(f.Incomplete, ", ") + ")"
	switch act {
	case flow.Block:
		msg += ", and requests it cannot inspect are not sent to this vendor (inspection.incomplete: block)."
	default:
		msg += "."
	}
	return flow.Verdict{Action: act, Policy: "incomplete", Message: msg, Matched: append(v.Matched, "incomplete")}
}

// InspectResponse extracts the texts of a response body (the vendor's answer, assembled from its
// stream) onto the flow, under response: paths. It runs after the response has reached the
// client, so it can only inform the record, never hold the answer back.
func (p *Pipeline) InspectResponse(f *flow.Flow, header http.Header, body []byte) {
	if len(body) == 0 {
		return
	}
	if ce := header.Get("Content-Encoding"); ce != "" {
		lease := p.budget.Lease(context.Background(), budgetClient(f))
		defer lease.Release()
		decoded, err := decode.BodyWithin(ce, body, p.decodeLimit, lease)
		if err != nil && !errors.Is(err, decode.ErrTooLarge) {
			// A response cut at the capture limit is a truncated stream: use what decoded.
			f.Notes = append(f.Notes, "response: "+err.Error())
		}
		body = decoded
	}
	res := extract.ExtractResponse(f.API, header.Get("Content-Type"), body, p.limits)
	f.Segments = append(f.Segments, res.Segments...)
	f.ServedModel = res.ServedModel
	sn := p.cur.Load()
	found := 0
	if fs := sn.find(res.Segments); len(fs) > 0 {
		found = len(fs)
		f.Findings = append(f.Findings, fs...)
	}
	if catalog.IsAI(f.Vendor.Category) {
		p.echo.Remember(f.ID, true, res.Segments, f.Start)
	}
	f.Notes = append(f.Notes, res.Notes...)
	// The policies run again when the answer holds findings, or when it named the model
	// that served the request and a policy reads api.served_model (which was "" when the
	// request was decided).
	if found > 0 || f.ServedModel != "" && sn.rules.ReadsServedModel() {
		p.DecideAnswer(context.Background(), f)
	}
}

// maskModel replaces a requested model that a finding lies in (a key pasted into "model", a
// URL path that carries a secret) by flow.MaskedValue: the model is logged and listed, the
// values detectors find never are.
func maskModel(f *flow.Flow, modelPath string) {
	if f.Model == "" {
		return
	}
	for _, x := range f.Findings {
		if extract.ModelIn(modelPath, x.Path) {
			f.Model = flow.MaskedValue
			return
		}
	}
}

// DecideAnswer runs the policies again once the vendor's answer has been read (an HTTP
// response, or a WebSocket session's messages from the vendor), so that what the answer
// carries is judged too. The answer has already reached the client, so the strongest action
// left is an alert: a policy that would block or redact is recorded as an alert, with its
// message and the note that it matched the answer.
func (p *Pipeline) DecideAnswer(ctx context.Context, f *flow.Flow) {
	sn := p.cur.Load()
	if sn.rules == nil {
		return
	}
	v := sn.decide(ctx, f, sn.vendorOf(f))
	if v.Action.Rank() <= f.Verdict.Action.Rank() {
		return
	}
	if f.Verdict.Action.Rank() >= flow.Alert.Rank() {
		// Already an alert, a redaction or a block: the record keeps that decision and says
		// the answer matched more.
		f.Notes = append(f.Notes, "answer: policy "+v.Policy+" ("+string(v.Action)+") matched what the vendor sent back")
		return
	}
	msg := v.Message
	if v.Action != flow.Alert {
		msg += " (matched in the vendor's answer, which had already reached the client: recorded as an alert, not a " + string(v.Action) + ")"
	}
	f.Verdict = flow.Verdict{Action: flow.Alert, Policy: v.Policy, Message: msg, Matched: v.Matched}
}

// decode undoes the request's content codings and character set, as the vendor will before it
// reads the body. What cannot be undone whole makes the flow incomplete, with the reason.
func (p *Pipeline) decode(f *flow.Flow, lease *decode.Lease) []byte {
	return p.decodeBody(f, f, lease)
}

// decodeBody is decode that records marks and notes on rec, which may be a scratch flow when the
// body is decoded again after inspection (redaction, masking).
func (p *Pipeline) decodeBody(f, rec *flow.Flow, lease *decode.Lease) []byte {
	return p.decodeCharset(f, rec, p.decodeCodings(f, rec, lease))
}

// decodeCodings undoes the content codings.
func (p *Pipeline) decodeCodings(f, rec *flow.Flow, lease *decode.Lease) []byte {
	body := f.RequestBody
	if len(body) == 0 {
		return body
	}
	if f.ContentEncoding != "" {
		out, err := decode.BodyWithin(f.ContentEncoding, body, p.decodeLimit, lease)
		switch {
		case err == nil:
			body = out
		case errors.Is(err, decode.ErrBudget):
			// Not this body's fault alone: the proxy is decoding as much as it will hold at
			// once (or this client is). What did decode is inspected; the rest is not.
			rec.MarkIncompleteReason(decode.Reason(err))
			rec.Notes = append(rec.Notes, "content-encoding: "+err.Error()+"; only what decoded before was inspected")
			if len(out) > 0 {
				body = out
			}
		case errors.Is(err, decode.ErrTooLarge):
			rec.Mark(flow.MarkDecodeTruncated)
			rec.MarkIncompleteReason(decode.Reason(err))
			rec.Notes = append(rec.Notes, fmt.Sprintf("content-encoding: decoded body over %d bytes; only that much was inspected", p.decodeLimit))
			body = out
		case errors.Is(err, decode.ErrUnsupported):
			rec.Mark(flow.MarkDecodeError)
			rec.MarkIncompleteReason(decode.Reason(err))
			rec.Notes = append(rec.Notes, "content-encoding: "+err.Error()+"; the raw body was inspected")
		default:
			// An oversize body was cut at the inspection window, so its coded stream is
			// truncated there: the cut is not an error (the rest is scanned as it streams).
			if !f.HasMark(flow.MarkOversize) || len(out) == 0 {
				rec.Mark(flow.MarkDecodeError)
				rec.MarkIncompleteReason(decode.Reason(err))
				rec.Notes = append(rec.Notes, "content-encoding: "+err.Error())
			}
			if len(out) > 0 {
				body = out
			}
		}
	}
	return body
}

// decodeCharset reads a UTF-16, UTF-32 or Latin-1 body as UTF-8.
func (p *Pipeline) decodeCharset(f, rec *flow.Flow, body []byte) []byte {
	ct := ""
	if f.RequestHeader != nil {
		ct = f.RequestHeader.Get("Content-Type")
	}
	text, charset, err := decode.Text(ct, body, p.decodeLimit)
	switch {
	case err == nil:
	case errors.Is(err, decode.ErrCorrupt) && f.HasMark(flow.MarkOversize):
		// Cut at the window inside a character: the rest streams.
	default:
		rec.MarkIncompleteReason(decode.Reason(err))
		rec.Notes = append(rec.Notes, "charset: "+err.Error())
	}
	if charset != "" {
		rec.Notes = append(rec.Notes, "charset: "+charset+" read as UTF-8")
	}
	if len(text) > 0 || len(body) == 0 {
		body = text
	}
	return body
}

// budgetClient is who a flow's decoding is charged to in the decode budget: its client's address
// without the port (one host's connections share one share).
func budgetClient(f *flow.Flow) string {
	if host, _, err := net.SplitHostPort(f.Client.Addr); err == nil {
		return host
	}
	return f.Client.Addr
}

// echoRequest remembers what a request to an AI vendor carries, and looks for what AI vendors
// were sent or answered in a request to a telemetry vendor.
func (p *Pipeline) echoRequest(f *flow.Flow, v *catalog.Vendor, segs []flow.Segment, h *detectors.Hasher) {
	if p.echo == nil || v == nil {
		return
	}
	switch {
	case catalog.IsAI(v.Category):
		p.echo.Remember(f.ID, false, segs, f.Start)
	case telemetry[v.Category]:
		fs, note := p.echo.Find(segs, h, f.Start)
		f.Findings = append(f.Findings, fs...)
		if note != "" && len(fs) == 0 {
			f.Notes = append(f.Notes, note)
		}
	}
}

// telemetry are the categories of vendors whose events an app fills with what it has in hand.
var telemetry = map[string]bool{"analytics": true, "error-tracking": true, "session-replay": true, "observability": true}
