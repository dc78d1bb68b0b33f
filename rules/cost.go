package rules

import (
	"strings"

	"github.com/google/cel-go/checker"
)

// Cost tracking makes a condition several times slower to run: cel-go then watches every step.
// Most conditions cannot run long on the flows customs sees, and for those the tracking buys
// nothing. So each condition is estimated at load time against an envelope of input sizes
// (how many findings, how long a header); a condition whose worst case within the envelope
// stays under the cost limit gets a second, untracked program, used for every flow that fits
// the envelope. Anything else — a condition that could be costly, or a flow outside the
// envelope (a flood of findings, a huge header) — runs under the limit as before.

// sizes bounds each input the conditions can reach, by its path as cel-go's estimator names it
// ("findings.@items.path" is the path of any finding). Inputs not listed have no bound, so a
// condition that depends on their size keeps cost tracking.
var sizes = map[string]uint64{
	"api":                         maxShort,
	"api.model":                   maxShort,
	"api.served_model":            maxShort,
	"api.params":                  maxItems,
	"api.params.@keys":            maxShort,
	"api.params.@values":          maxShort,
	"vendor.id":                   maxShort,
	"vendor.name":                 maxShort,
	"vendor.category":             maxShort,
	"vendor.country":              maxShort,
	"vendor.subprocessors":        maxItems,
	"vendor.subprocessors.@items": maxShort,
	"request.method":              maxShort,
	"request.host":                maxShort,
	"request.path":                maxLong,
	"request.headers":             maxItems,
	"request.headers.@keys":       maxShort,
	"request.headers.@values":     maxLong,
	"client.addr":                 maxShort,
	"client.user":                 maxShort,
	"findings":                    maxFindings,
	"findings.@items.detector":    maxShort,
	"findings.@items.class":       maxShort,
	"findings.@items.severity":    maxShort,
	"findings.@items.path":        maxLong,
	"flow.source":                 maxShort,
	"flow.mode":                   maxShort,
	"flow.marks":                  maxItems,
	"flow.marks.@items":           maxShort,
}

const (
	maxShort    = 256     // IDs, names, hosts, addresses
	maxLong     = 8 << 10 // paths and header values
	maxItems    = 64      // headers, subprocessors, marks
	maxFindings = 256     // groups of findings (detector and path)
)

// envelope is the cost estimator for the sizes above.
type envelope struct{}

func (envelope) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	path := n.Path()
	if len(path) == 0 {
		return nil
	}
	if max, ok := sizes[strings.Join(path, ".")]; ok {
		return &checker.SizeEstimate{Min: 0, Max: max}
	}
	return nil
}

func (envelope) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	switch overloadID {
	case "findings_has_class_string", "findings_has_detector_string":
		return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: maxFindings}}
	}
	return nil
}

// fits reports whether a flow's input is within the envelope, so that the untracked programs
// may run on it.
func fits(in *Input, groups []Finding) bool {
	short := func(ss ...string) bool {
		for _, s := range ss {
			if len(s) > maxShort {
				return false
			}
		}
		return true
	}
	v, r := in.Vendor, in.Request
	if len(in.Params) > maxItems {
		return false
	}
	for k, pv := range in.Params {
		if !short(k, pv) {
			return false
		}
	}
	if !short(in.API, in.Model, in.ServedModel, v.ID, v.Name, v.Category, v.Country, r.Method, r.Host, in.Client.Addr, in.Client.User,
		string(in.Flow.Source), string(in.Flow.Mode)) || len(r.Path) > maxLong {
		return false
	}
	if len(v.Subprocessors) > maxItems || len(in.Flow.Marks) > maxItems || len(r.Headers) > maxItems || len(groups) > maxFindings {
		return false
	}
	if !short(v.Subprocessors...) {
		return false
	}
	for _, m := range in.Flow.Marks {
		if len(m) > maxShort {
			return false
		}
	}
	for k, vs := range r.Headers {
		n := 0
		for _, s := range vs {
			n += len(s) + 2
		}
		if len(k) > maxShort || n > maxLong {
			return false
		}
	}
	for _, g := range groups {
		if !short(g.Detector, g.Class, g.Severity) || len(g.Path) > maxLong {
			return false
		}
	}
	return true
}
