package rules

import (
	"testing"

	"github.com/customs-dev/customs/flow"
)

// TestFlowConnectionContext: what customs saw of a request's connection and of its inspection is
// there for policies to judge (flow.incomplete, its reasons, the SNI and the CONNECT target).
func TestFlowConnectionContext(t *testing.T) {
	f := &flow.Flow{Host: "api.openai.com", SNI: "api.openai.com", Target: "104.18.7.192:443",
		Marks: []flow.Mark{flow.MarkIPTarget, flow.MarkSNIMismatch}}
	f.MarkIncompleteReason("decode-limit")
	cases := []struct {
		when string
		want bool
	}{
		{`flow.incomplete`, true},
		{`"decode-limit" in flow.incomplete_reasons`, true},
		{`"incomplete" in flow.marks && "ip-target" in flow.marks`, true},
		{`flow.sni == "api.openai.com" && flow.target.startsWith("104.18.")`, true},
		{`flow.sni != request.host`, false},
		{`size(flow.incomplete_reasons) == 2`, false},
	}
	for _, c := range cases {
		t.Run(c.when, func(t *testing.T) {
			s := policies(t, "p block : "+c.when)
			d := s.Evaluate(NewInput(f))
			if got := d.Action == flow.Block; got != c.want {
				t.Fatalf("%s = %v, want %v (errors %v)", c.when, got, c.want, d.Errors)
			}
		})
	}
	if d := policies(t, "p block : flow.incomplete").Evaluate(NewInput(&flow.Flow{})); d.Action == flow.Block {
		t.Fatal("a complete flow reads as incomplete")
	}
}
