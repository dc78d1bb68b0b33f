package rules

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/customs-dev/customs/flow"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"
)

// Policy is one rule: when its condition holds for a flow, its action applies.
type Policy struct {
	ID          string
	Description string
	When        string // the CEL condition
	Action      flow.Action
	Message     string // for the refused client and the alert; a default names the policy
	Severity    string // low, medium, high, critical, or "" when not given
	// Continue lets evaluation go on after this policy matches, so that later ones may add
	// alerts or escalate the action.
	Continue bool

	Pos     Pos
	WhenPos Pos

	// detectorRefs are the detector IDs the condition names as literals, checked against
	// the known detectors once every file is loaded.
	detectorRefs []nameRef

	// guarded runs under the cost limit; fast, when the condition's worst case within the
	// input envelope is under the limit, runs without tracking (see cost.go).
	guarded, fast cel.Program
	// readsServed: the condition reads api.served_model, known only once the answer is read.
	readsServed bool
}

// Input is what policies see of one flow. The caller (inspect) fills it from the flow and the
// catalog; rules reads nothing else.
type Input struct {
	Vendor VendorInfo
	API    string // the recognised API, e.g. openai.chat; "" when none was
	// Model, ServedModel and Params are flow.Flow's, seen as api.model, api.served_model and
	// api.params.
	Model, ServedModel string
	Params             map[string]string
	Request            RequestInfo
	Client             ClientInfo
	Findings           []flow.Finding
	Flow               FlowInfo
}

// VendorInfo is the catalog's entry for the flow's host.
type VendorInfo struct {
	ID, Name, Category, Country string
	Subprocessors               []string // vendor IDs
	Verified                    bool
	Known                       bool // false when the host is not in the catalog
}

// RequestInfo is the request line and headers.
type RequestInfo struct {
	Method, Host, Path string // Path without the query string
	// Headers are shown to policies with lower-case names and repeated values joined by ", ".
	Headers http.Header
}

// ClientInfo is who sent the flow.
type ClientInfo struct {
	Addr string // ip or ip:port
	User string // proxy user, when proxy authentication is on
}

// FlowInfo is how the flow was seen.
type FlowInfo struct {
	Source   flow.Source
	Mode     flow.Mode
	Oversize bool // also set when Marks holds oversize
	Marks    []flow.Mark
	// Incomplete lists why the request could not be inspected completely (empty when it was).
	Incomplete []string
	SNI        string // the ClientHello's server name
	Target     string // the CONNECT target, host:port
	// Server, ALPN, JA4 and TLSVersion are what a packet capture saw of the connection.
	Server     string
	ALPN       string
	JA4        string
	TLSVersion string
}

// NewInput fills an Input with what a flow carries itself. The vendor's subprocessors and
// verified flag live in the catalog: the caller adds them.
func NewInput(f *flow.Flow) *Input {
	in := &Input{
		Vendor: VendorInfo{ID: f.Vendor.ID, Name: f.Vendor.Name, Category: f.Vendor.Category,
			Country: f.Vendor.Country, Known: f.Vendor.ID != ""},
		API:   f.API,
		Model: f.Model, ServedModel: f.ServedModel, Params: f.Params,
		Request:  RequestInfo{Method: f.Method, Host: f.Host, Headers: f.RequestHeader},
		Client:   ClientInfo{Addr: f.Client.Addr, User: f.Client.User},
		Findings: f.Findings,
		Flow: FlowInfo{Source: f.Source, Mode: f.Mode, Oversize: f.HasMark(flow.MarkOversize), Marks: f.Marks,
			Incomplete: f.Incomplete, SNI: f.SNI, Target: f.Target, Server: f.Server, ALPN: f.ALPN,
			JA4: f.JA4, TLSVersion: f.TLSVersion},
	}
	if u, err := url.Parse(f.URL); err == nil {
		in.Request.Path = u.Path
	} else {
		in.Request.Path, _, _ = strings.Cut(f.URL, "?")
	}
	return in
}

// Decision is the outcome of a Set's policies for one flow.
type Decision struct {
	Action   flow.Action
	Policy   string // the policy that decided; "" when none matched (allow)
	Message  string
	Severity string
	// Matched lists every policy whose condition held, in order, including those that did
	// not decide (continue: true, or overtaken by a stronger action).
	Matched []MatchedPolicy
	// Errors are conditions that failed at run time (cost limit, a missing map key), as
	// "policy ID: error". See Set.Evaluate for what a failure means.
	Errors []string
}

// MatchedPolicy is a policy whose condition held.
type MatchedPolicy struct {
	ID     string
	Action flow.Action
	// FailedClosed is set for a block policy counted as matched because its condition failed.
	FailedClosed bool
}

// Verdict is the decision in the form flows record.
func (d Decision) Verdict() flow.Verdict {
	return flow.Verdict{Action: d.Action, Policy: d.Policy, Message: d.Message}
}

// ReadsServedModel reports whether a policy reads api.served_model, which is "" until the
// vendor's answer is read: the pipeline then runs the policies again once it is (see
// inspect.Pipeline.InspectResponse), where the strongest action left is an alert.
func (s *Set) ReadsServedModel() bool {
	if s == nil {
		return false
	}
	for _, p := range s.Policies {
		if p.readsServed {
			return true
		}
	}
	return false
}

// Evaluate runs the policies over one flow, in order. The first policy whose condition holds
// decides, unless it says continue: true; then evaluation goes on, and the strongest action of
// the policies that matched (allow < alert < redact < block), up to and including the first
// matching policy without continue, wins, decided by the first policy with that action. When no
// policy matches, the flow is allowed.
//
// A condition that fails at run time (it ran over the cost limit, read a header that is not
// there, was interrupted) is recorded in Decision.Errors and counts as not matched — except for
// a block policy, which counts as matched: a security control must not fail open because its
// condition could not be decided. The message then says so.
func (s *Set) Evaluate(in *Input) Decision {
	return s.evaluate(context.Background(), in)
}

// EvaluateContext is Evaluate under ctx: a condition still running when ctx is done is
// interrupted (checked every few iterations of its comprehensions), and fails as above.
func (s *Set) EvaluateContext(ctx context.Context, in *Input) Decision {
	return s.evaluate(ctx, in)
}

func (s *Set) evaluate(ctx context.Context, in *Input) Decision {
	dec := Decision{Action: flow.Allow}
	if s == nil || len(s.Policies) == 0 {
		return dec
	}
	if in == nil {
		in = &Input{}
	}
	groups := aggregate(in.Findings)
	act, sc := newActivation(in, groups)
	defer sc.release()
	inside := fits(in, groups)
	var decider *Policy
	failed := false
	for _, p := range s.Policies {
		matched, failedClosed := false, false
		var (
			out ref.Val
			err error
		)
		prg := p.guarded
		if inside && p.fast != nil {
			prg = p.fast
		}
		switch {
		case prg == nil:
			err = errors.New("policy was not compiled (build policies with Load or Parse)")
		case ctx.Done() != nil:
			// Only a context that can end is worth ContextEval, which costs a context and a
			// cancel function per condition: a large part of a cheap condition's run time.
			out, _, err = prg.ContextEval(ctx, act)
		default:
			out, _, err = prg.Eval(act)
		}
		if err == nil {
			if b, ok := out.(types.Bool); ok {
				matched = bool(b)
			} else {
				err = fmt.Errorf("condition gave %v, not true or false", out.Type())
			}
		}
		if err != nil {
			dec.Errors = append(dec.Errors, "policy "+p.ID+": "+scrub(err.Error()))
			if p.Action == flow.Block {
				matched, failedClosed = true, true
			}
		}
		if !matched {
			continue
		}
		dec.Matched = append(dec.Matched, MatchedPolicy{ID: p.ID, Action: p.Action, FailedClosed: failedClosed})
		if decider == nil || p.Action.Rank() > decider.Action.Rank() {
			decider, failed = p, failedClosed
		}
		if !p.Continue {
			break
		}
	}
	if decider == nil {
		return dec
	}
	dec.Action, dec.Policy, dec.Severity = decider.Action, decider.ID, decider.Severity
	switch {
	case failed:
		dec.Message = fmt.Sprintf("blocked by customs policy %s: its condition could not be evaluated, and customs fails closed", decider.ID)
	case decider.Message != "":
		dec.Message = decider.Message
	default:
		dec.Message = defaultMessage(decider, in.Findings)
	}
	return dec
}

var quoted = regexp.MustCompile(`'[^']*'|"[^"]*"`)

// scrub keeps request data out of an evaluation error, which is logged: CEL quotes the values
// it complains about ("invalid RFC 3339 timestamp %q"), and a condition may have been reading an
// Authorization header. The words around them still say what went wrong.
func scrub(msg string) string {
	msg = quoted.ReplaceAllStringFunc(msg, func(q string) string {
		if len(q) <= 12 && !strings.ContainsAny(q, "0123456789") {
			return q // a type name such as 'string' or an operator such as '_==_'
		}
		return q[:1] + "…" + q[:1]
	})
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "…"
	}
	return msg
}

// defaultMessage names the policy and the classes of what was found, never a value (findings
// carry none).
func defaultMessage(p *Policy, fs []flow.Finding) string {
	verb := map[flow.Action]string{flow.Allow: "allowed", flow.Alert: "flagged", flow.Redact: "redacted", flow.Block: "blocked"}[p.Action]
	msg := verb + " by customs policy " + p.ID
	if cs := sortedClasses(fs); cs != "" {
		msg += ": found " + cs
	}
	return msg
}

// activation holds the context's variables for one evaluation, built once and shared by every
// policy.
type activation struct {
	vendor, api, request, client, findings, flow ref.Val
	in                                           *Input
	// params is api.params, built when a condition first reads it.
	params ref.Val
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "vendor":
		return a.vendor, true
	case "api":
		return a.api, true
	case "api.model":
		return types.String(a.in.Model), true
	case "api.served_model":
		return types.String(a.in.ServedModel), true
	case "api.params":
		if a.params == nil {
			a.params = paramsMap(a.in.Params)
		}
		return a.params, true
	case "request":
		return a.request, true
	case "client":
		return a.client, true
	case "findings":
		return a.findings, true
	case "flow":
		return a.flow, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// scratch is the memory of one evaluation, reused through a pool: the objects, their field
// caches and the findings list live only until Evaluate returns (a Decision holds no CEL
// value), and allocating them anew for every flow is a good part of the cost of a small set.
type scratch struct {
	act  activation
	objs []object
	vals []ref.Val
	list []ref.Val
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func newActivation(in *Input, groups []Finding) (*activation, *scratch) {
	sc := scratchPool.Get().(*scratch)
	nobj := 4 + len(groups)
	n := len(vendorType.fields) + len(requestType.fields) + len(clientType.fields) + len(flowType.fields) +
		len(groups)*len(findingType.fields)
	sc.objs = grow(sc.objs, nobj)
	sc.vals = grow(sc.vals, n)
	sc.list = grow(sc.list, len(groups))
	next := 0
	obj := func(i int, t *objType, src any) *object {
		o := &sc.objs[i]
		o.t, o.src, o.v = t, src, sc.vals[next:next+len(t.fields):next+len(t.fields)]
		next += len(t.fields)
		return o
	}
	a := &sc.act
	*a = activation{
		in:      in,
		api:     types.String(in.API),
		vendor:  obj(0, vendorType, &in.Vendor),
		request: obj(1, requestType, &in.Request),
		client:  obj(2, clientType, &in.Client),
		flow:    obj(3, flowType, &in.Flow),
	}
	for i := range groups {
		sc.list[i] = obj(4+i, findingType, &groups[i])
	}
	a.findings = findingList{types.NewRefValList(types.DefaultTypeAdapter, sc.list), sc.list}
	return a, sc
}

// release returns an evaluation's memory to the pool, cleared so that it keeps nothing of the
// flow alive.
func (sc *scratch) release() {
	clear(sc.objs)
	clear(sc.vals)
	clear(sc.list)
	sc.act = activation{}
	scratchPool.Put(sc)
}

// grow returns s with length n and every element zero, reusing its memory when it is enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// findingList is the findings as CEL sees them. It keeps the elements at hand for has_class,
// and iterates them directly: comprehensions over findings are most of the work of a typical
// policy set.
type findingList struct {
	traits.Lister
	vals []ref.Val
}

func (l findingList) Iterator() traits.Iterator {
	return &findingIter{vals: l.vals}
}

type findingIter struct {
	vals []ref.Val
	i    int
}

func (it *findingIter) HasNext() ref.Val { return types.Bool(it.i < len(it.vals)) }

func (it *findingIter) Next() ref.Val {
	if it.i >= len(it.vals) {
		return types.NewErr("no more findings")
	}
	it.i++
	return it.vals[it.i-1]
}

func (it *findingIter) ConvertToNative(typeDesc reflect.Type) (any, error) {
	return nil, fmt.Errorf("an iterator cannot be converted to %v", typeDesc)
}

func (it *findingIter) ConvertToType(ref.Type) ref.Val {
	return types.NewErr("an iterator cannot be converted")
}

func (it *findingIter) Equal(other ref.Val) ref.Val { return types.Bool(it == other) }
func (it *findingIter) Type() ref.Type              { return types.IteratorType }
func (it *findingIter) Value() any                  { return nil }

func vendorField(src any, i int) ref.Val {
	v := src.(*VendorInfo)
	switch i {
	case 0:
		return types.String(v.ID)
	case 1:
		return types.String(v.Name)
	case 2:
		return types.String(v.Category)
	case 3:
		return types.String(v.Country)
	case 4:
		return stringList(v.Subprocessors)
	case 5:
		return types.Bool(v.Verified)
	}
	return types.Bool(v.Known)
}

func requestField(src any, i int) ref.Val {
	r := src.(*RequestInfo)
	switch i {
	case 0:
		return types.String(r.Method)
	case 1:
		return types.String(r.Host)
	case 2:
		return types.String(r.Path)
	}
	return headerMap(r.Headers)
}

func clientField(src any, i int) ref.Val {
	c := src.(*ClientInfo)
	if i == 0 {
		return types.String(c.Addr)
	}
	return types.String(c.User)
}

func flowField(src any, i int) ref.Val {
	f := src.(*FlowInfo)
	switch i {
	case 0:
		return types.String(f.Source)
	case 1:
		return types.String(f.Mode)
	case 2:
		oversize := f.Oversize
		for _, m := range f.Marks {
			oversize = oversize || m == flow.MarkOversize
		}
		return types.Bool(oversize)
	case 4:
		return types.Bool(len(f.Incomplete) > 0)
	case 5:
		return stringList(f.Incomplete)
	case 6:
		return types.String(f.SNI)
	case 7:
		return types.String(f.Target)
	case 8:
		return types.String(f.Server)
	case 9:
		return types.String(f.ALPN)
	case 10:
		return types.String(f.JA4)
	case 11:
		return types.String(f.TLSVersion)
	}
	marks := make([]string, len(f.Marks))
	for i, m := range f.Marks {
		marks[i] = string(m)
	}
	return stringList(marks)
}

func findingField(src any, i int) ref.Val {
	f := src.(*Finding)
	switch i {
	case 0:
		return types.String(f.Detector)
	case 1:
		return types.String(f.Class)
	case 2:
		return types.String(f.Severity)
	case 3:
		return types.String(f.Path)
	case 4:
		return types.Int(f.Count)
	case 5:
		return types.Double(f.Confidence)
	case 6:
		return types.String(f.Label)
	case 7:
		return types.String(f.Ref)
	case 8:
		return types.Double(f.Share)
	case 9:
		return types.Double(f.SegmentShare)
	case 10:
		return types.Int(f.Rows)
	}
	return stringList(f.Columns)
}

func stringList(s []string) ref.Val {
	if s == nil {
		s = []string{}
	}
	return types.NewStringList(types.DefaultTypeAdapter, s)
}

// paramsMap is api.params: every key of flow.ParamKeys, "" where the request did not set it,
// so that api.params.store == "true" is false for a request without store rather than an
// error (which a block policy would take for a match).
func paramsMap(p map[string]string) ref.Val {
	m := make(map[string]string, len(flow.ParamKeys)+len(p))
	for _, k := range flow.ParamKeys {
		m[k] = ""
	}
	maps.Copy(m, p)
	return types.NewStringStringMap(types.DefaultTypeAdapter, m)
}

func headerMap(h http.Header) ref.Val {
	// Header names arrive canonical ("Content-Type"); lower-casing each would allocate once per
	// header, so they are lowered into one buffer and cut from one string.
	size := 0
	for k := range h {
		size += len(k)
	}
	buf := make([]byte, 0, size)
	ends := make([]int, 0, len(h))
	vals := make([][]string, 0, len(h))
	for k, v := range h {
		for i := 0; i < len(k); i++ {
			c := k[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
		}
		ends, vals = append(ends, len(buf)), append(vals, v)
	}
	names := string(buf)
	m := make(map[string]string, len(h))
	start := 0
	for i, end := range ends {
		k, v := names[start:end], vals[i]
		start = end
		if old, ok := m[k]; ok {
			// Two spellings of one name (only in a Header built by hand) are one header.
			v = append([]string{old}, v...)
		}
		m[k] = strings.Join(v, ", ")
	}
	return types.NewStringStringMap(types.DefaultTypeAdapter, m)
}

// Finding is what policies see of the findings of one detector at one path: how many there
// were, their highest severity and confidence.
type Finding struct {
	Detector, Class, Severity, Path string
	Count                           int
	Confidence                      float64
	// What a jewel, record or echo finding matched (flow.Finding): one group per label and
	// file (or echoed flow), with the largest shares and row count of the group.
	Label, Ref          string
	Share, SegmentShare float64
	Rows                int
	Columns             []string
}

// Aggregate groups findings by detector and path, in the order each group first appears: the
// list policies see as `findings`.
func Aggregate(fs []flow.Finding) []Finding {
	return aggregate(fs)
}

func aggregate(fs []flow.Finding) []Finding {
	if len(fs) == 0 {
		return nil
	}
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		i := 0
		// Linear: flows carry a handful of findings; a map would cost more than it saves.
		for ; i < len(out); i++ {
			if out[i].Detector == f.Detector && out[i].Path == f.Path && out[i].Label == f.Label && out[i].Ref == f.Ref {
				break
			}
		}
		if i == len(out) {
			if len(out) >= 64 {
				// Past a few dozen groups, fall back to a map rather than go quadratic on a
				// flood of findings.
				return aggregateMap(fs)
			}
			out = append(out, Finding{Detector: f.Detector, Class: f.Class, Severity: f.Severity, Path: f.Path, Label: f.Label, Ref: f.Ref})
		}
		out[i].add(&f)
	}
	return out
}

// add counts f into its group.
func (g *Finding) add(f *flow.Finding) {
	g.Count++
	g.Confidence = max(g.Confidence, f.Confidence)
	if severityRank(f.Severity) > severityRank(g.Severity) {
		g.Severity = f.Severity
	}
	g.Share, g.SegmentShare, g.Rows = max(g.Share, f.Share), max(g.SegmentShare, f.SegmentShare), max(g.Rows, f.Rows)
	for _, c := range f.Columns {
		if !slices.Contains(g.Columns, c) {
			g.Columns = append(g.Columns, c)
		}
	}
}

func aggregateMap(fs []flow.Finding) []Finding {
	type key struct{ detector, path, label, ref string }
	index := map[key]int{}
	var out []Finding
	for _, f := range fs {
		k := key{f.Detector, f.Path, f.Label, f.Ref}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Finding{Detector: f.Detector, Class: f.Class, Severity: f.Severity, Path: f.Path, Label: f.Label, Ref: f.Ref})
		}
		out[i].add(&f)
	}
	return out
}

func severityRank(s string) int {
	for i, x := range severities {
		if x == s {
			return i + 1
		}
	}
	return 0
}
