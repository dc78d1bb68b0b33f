package inspect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect/decode"
)

// ErrCannotRedact means a body could not be rewritten without risking that a finding's value
// still goes upstream. The proxy then blocks the request instead.
var ErrCannotRedact = errors.New("cannot redact safely")

// Redacted is a request body (and query) with every request finding replaced by a placeholder.
type Redacted struct {
	Body     []byte // in the request's own Content-Encoding
	RawQuery string
	Values   int // findings replaced
}

// Redact rewrites f's request so that each finding's span reads [REDACTED:<detector>#<n>], where
// n numbers the distinct values of that detector in the flow (the same key twice gets the same
// number, so that the model still sees that two mentions are one value). Everything else stays
// byte for byte: extract.Redact re-encodes each edited value the way it was found, and the body
// is re-compressed in its Content-Encoding. f must have been inspected by this pipeline.
func (p *Pipeline) Redact(f *flow.Flow) (Redacted, error) {
	return p.rewrite(f, func(x flow.Finding, n int) string { return fmt.Sprintf("[REDACTED:%s#%d]", x.Detector, n) }, true)
}

// Masked returns f's request body decoded (Content-Encoding undone), with each finding's value
// replaced by its detector and masked preview ([secret.aws-access-key-id AKIA************PLMR]):
// what a responder may read of a stored body without seeing the values. f must have been
// inspected by this pipeline.
func (p *Pipeline) Masked(f *flow.Flow) ([]byte, error) {
	red, err := p.rewrite(f, func(x flow.Finding, _ int) string { return "[" + x.Detector + " " + x.Preview + "]" }, false)
	return red.Body, err
}

func (p *Pipeline) rewrite(f *flow.Flow, label func(flow.Finding, int) string, encode bool) (Redacted, error) {
	// Going upstream, a body is only as safe as the part customs saw; for display, the part that
	// was kept is all there is.
	if encode {
		switch {
		case f.HasMark(flow.MarkOversize):
			return Redacted{}, fmt.Errorf("%w: the body is larger than the inspection window, and its unseen rest may hold more", ErrCannotRedact)
		case f.HasMark(flow.MarkDecodeTruncated), f.HasMark(flow.MarkDecodeError):
			return Redacted{}, fmt.Errorf("%w: the body's content coding could not be decoded whole", ErrCannotRedact)
		case f.HasMark(flow.MarkIncomplete):
			return Redacted{}, fmt.Errorf("%w: the request could not be inspected completely (%s)", ErrCannotRedact, strings.Join(f.Incomplete, ", "))
		}
		for _, n := range f.Notes {
			if strings.HasPrefix(n, "extraction limit reached") {
				return Redacted{}, fmt.Errorf("%w: the body holds more text than extraction reads, and the rest was never scanned", ErrCannotRedact)
			}
		}
	}
	edits := redactionEdits(f.Findings, label)
	// Decoding again is leased like the first time; scratch hears whether it came out whole.
	lease := p.budget.Lease(context.Background(), budgetClient(f))
	defer lease.Release()
	scratch := &flow.Flow{}
	if encode && len(edits) > 0 && f.RequestHeader != nil {
		// The redacted body would go out as UTF-8 under a Content-Type that says otherwise.
		if _, cs, _ := decode.Text(f.RequestHeader.Get("Content-Type"), p.decodeCodings(f, scratch, lease), p.decodeLimit); cs != "" {
			return Redacted{}, fmt.Errorf("%w: the body is %s, and is only read, never rewritten, in that character set", ErrCannotRedact, cs)
		}
	}
	er := &extract.Request{Vendor: f.Vendor.ID, Method: f.Method, Body: p.decodeBody(f, scratch, lease)}
	if encode && len(scratch.Incomplete) > 0 {
		// Decoded in part this time (the decode budget was short): rewriting that part would
		// send a truncated body.
		return Redacted{}, fmt.Errorf("%w: the body could not be decoded again whole (%s)", ErrCannotRedact, strings.Join(scratch.Incomplete, ", "))
	}
	if u, err := url.Parse(f.URL); err == nil {
		er.Path, er.RawQuery = u.Path, u.RawQuery
	}
	if f.RequestHeader != nil {
		er.Header = f.RequestHeader
		er.ContentType = f.RequestHeader.Get("Content-Type")
	}
	if len(edits) == 0 {
		if !encode {
			return Redacted{Body: er.Body, RawQuery: er.RawQuery}, nil
		}
		return Redacted{Body: f.RequestBody, RawQuery: er.RawQuery}, nil
	}
	body, query, err := extract.Redact(er, p.limits, edits)
	if err != nil {
		return Redacted{}, fmt.Errorf("%w: %v", ErrCannotRedact, err)
	}
	if encode && f.ContentEncoding != "" {
		if body, err = decode.Encode(f.ContentEncoding, body, f.RequestBody); err != nil {
			return Redacted{}, fmt.Errorf("%w: re-encoding the body: %v", ErrCannotRedact, err)
		}
	}
	return Redacted{Body: body, RawQuery: query, Values: len(edits)}, nil
}

// redactionEdits turns the request's findings into non-overlapping edits, one per span; spans
// that overlap in a segment are merged and take the label of the first finding.
func redactionEdits(fs []flow.Finding, label func(flow.Finding, int) string) []extract.Edit {
	type span struct {
		path       string
		start, end int
		label      string
	}
	numbers := map[string]int{} // detector -> values numbered so far
	byValue := map[string]int{} // detector + hash -> number
	var spans []span
	for _, x := range fs {
		if strings.HasPrefix(x.Path, "response:") {
			continue // the vendor's answer is recorded, never rewritten
		}
		key := x.Detector + "\x00" + x.Hash
		n, ok := byValue[key]
		if !ok {
			numbers[x.Detector]++
			n = numbers[x.Detector]
			byValue[key] = n
		}
		spans = append(spans, span{x.Path, x.Start, x.End, label(x, n)})
	}
	slices.SortStableFunc(spans, func(a, b span) int {
		return cmp.Or(strings.Compare(a.path, b.path), cmp.Compare(a.start, b.start))
	})
	var edits []extract.Edit
	for _, s := range spans {
		if k := len(edits) - 1; k >= 0 && edits[k].Path == s.path && s.start < edits[k].End {
			edits[k].End = max(edits[k].End, s.end)
			continue
		}
		edits = append(edits, extract.Edit{Path: s.path, Start: s.start, End: s.end, Replacement: s.label})
	}
	return edits
}
