package inspect_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/inspect/decode"
)

// TestDecodeBudget (issue 12): a body that cannot get decode budget is incomplete
// ("decode-budget"), which blocks it for a catalog vendor like any other decoding it could not
// finish; another client's body is decoded meanwhile, and nothing stays leased.
func TestDecodeBudget(t *testing.T) {
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	budget := decode.NewBudget(64<<20, 2<<20, 10*time.Millisecond)
	p := inspect.New(inspect.Options{Catalog: cat, DecodeBudget: budget})
	prompt := []byte(`{"messages":[{"role":"user","content":"hello"}]}`)
	bomb := gz(bytes.Repeat([]byte("a"), 8<<20)) // 8 MiB decoded, past a 2 MiB share

	for _, tc := range []struct {
		name       string
		client     string
		body       []byte
		wantAction flow.Action
		wantReason string
	}{
		{"a body past the client's share", "10.0.0.1:5000", bomb, flow.Block, "decode-budget"},
		{"another client's ordinary body", "10.0.0.2:5000", gz(prompt), flow.Allow, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &flow.Flow{Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions",
				Client: flow.Client{Addr: tc.client}, ContentEncoding: "gzip", RequestBody: tc.body}
			v := p.Inspect(context.Background(), f)
			if v.Action != tc.wantAction {
				t.Fatalf("verdict %+v, want %s", v, tc.wantAction)
			}
			if tc.wantReason != "" && !slices.Contains(f.Incomplete, tc.wantReason) {
				t.Fatalf("incomplete %v, want %s", f.Incomplete, tc.wantReason)
			}
			if total, _ := budget.Used(""); total != 0 {
				t.Fatalf("%d bytes still leased after the inspection", total)
			}
		})
	}
}
