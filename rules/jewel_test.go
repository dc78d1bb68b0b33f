package rules

import (
	"testing"

	"github.com/customs-dev/customs/flow"
)

// The fields of crown-jewel findings, as policies read them; one group per label and file.
func TestJewelFindingFields(t *testing.T) {
	in := vendorInput("openai", "ai-provider",
		flow.Finding{Detector: "jewel.code", Class: "code", Path: "p", Label: "billing", Ref: "svc/refund.go", Share: 0.3, SegmentShare: 0.6},
		flow.Finding{Detector: "jewel.code", Class: "code", Path: "p", Label: "billing", Ref: "svc/ledger.go", Share: 0.05, SegmentShare: 0.1},
		flow.Finding{Detector: "record.match", Class: "record", Path: "q", Label: "customers", Rows: 2, Columns: []string{"name", "iban"}},
		flow.Finding{Detector: "record.match", Class: "record", Path: "q", Label: "customers", Rows: 1, Columns: []string{"email", "name"}},
		flow.Finding{Detector: "echo.prompt", Class: "document", Path: "r", Label: "messages[0].content", Ref: "01KFLOW"})
	for _, c := range []struct {
		when string
		want bool
	}{
		{`findings.exists(f, f.detector == "jewel.code" && f.share >= 0.15)`, true},
		{`findings.exists(f, f.detector == "jewel.code" && f.ref == "svc/ledger.go" && f.share >= 0.15)`, false},
		{`findings.filter(f, f.detector == "jewel.code").size() == 2`, true},
		{`findings.exists(f, f.label == "billing" && f.segment_share > 0.5)`, true},
		{`findings.exists(f, f.class == "record" && f.rows == 2 && "iban" in f.columns && "email" in f.columns && f.count == 2)`, true},
		{`findings.exists(f, f.detector == "echo.prompt" && f.ref == "01KFLOW" && f.label == "messages[0].content")`, true},
		{`findings.exists(f, f.detector == "secret.aws-access-key-id" && (f.label != "" || f.rows > 0 || size(f.columns) > 0))`, false},
	} {
		t.Run(c.when, func(t *testing.T) {
			d := policies(t, "p block : "+c.when).Evaluate(in)
			if len(d.Errors) > 0 {
				t.Fatalf("errors: %v", d.Errors)
			}
			if got := d.Action == flow.Block; got != c.want {
				t.Fatalf("%s = %v, want %v", c.when, got, c.want)
			}
		})
	}
}
