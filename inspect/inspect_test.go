package inspect_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
)

func gz(p []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write(p)
	_ = w.Close()
	return b.Bytes()
}

type stageFunc func(context.Context, *inspect.Request) error

func (f stageFunc) Run(ctx context.Context, r *inspect.Request) error { return f(ctx, r) }

func TestInspect(t *testing.T) {
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	prompt := []byte(`{"messages":[{"role":"user","content":"hello"}]}`)
	// Text that does not compress to nothing, so half the stream still decodes to a prefix.
	text := make([]byte, 64<<10)
	x := uint32(1)
	for i := range text {
		x = x*1664525 + 1013904223
		text[i] = 'a' + byte(x>>24)%26
	}
	full := gz(text)
	tests := []struct {
		name        string
		host        string
		encoding    string
		body        []byte
		marks       []flow.Mark
		wantVendor  string
		wantDecoded int
	}{
		{"plain json to openai", "api.openai.com", "", prompt, nil, "openai", len(prompt)},
		{"gzip decoded", "api.openai.com", "gzip", gz(prompt), nil, "openai", len(prompt)},
		{"bomb truncated at limit", "api.mixpanel.com", "gzip", gz(make([]byte, 10<<20)), []flow.Mark{flow.MarkDecodeTruncated}, "mixpanel", 1 << 20},
		{"unknown coding inspects raw", "example.org", "snappy", prompt, []flow.Mark{flow.MarkDecodeError}, "", len(prompt)},
		{"corrupt gzip inspects raw", "api.openai.com", "gzip", prompt, []flow.Mark{flow.MarkDecodeError}, "openai", len(prompt)},
		{"oversize cut gzip is not an error", "api.openai.com", "gzip", full[:len(full)/2], []flow.Mark{flow.MarkOversize}, "openai", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []byte
			p := inspect.New(inspect.Options{Catalog: cat, DecodeLimit: 1 << 20, Stages: []inspect.Stage{
				stageFunc(func(_ context.Context, r *inspect.Request) error { seen = r.Body; return nil }),
			}})
			f := &flow.Flow{Host: tt.host, ContentEncoding: tt.encoding, RequestBody: tt.body}
			if slices.Contains(tt.marks, flow.MarkOversize) {
				f.Mark(flow.MarkOversize)
			}
			v := p.Inspect(context.Background(), f)
			if v.Action != flow.Allow || !reflect.DeepEqual(f.Verdict, v) {
				t.Errorf("verdict %+v, flow verdict %+v", v, f.Verdict)
			}
			if f.Vendor.ID != tt.wantVendor {
				t.Errorf("vendor %q, want %q", f.Vendor.ID, tt.wantVendor)
			}
			if !slices.Equal(f.Marks, tt.marks) {
				t.Errorf("marks %v, want %v", f.Marks, tt.marks)
			}
			decodeNote := slices.ContainsFunc(f.Notes, func(n string) bool { return strings.HasPrefix(n, "content-encoding: ") })
			if wantNote := slices.Contains(tt.marks, flow.MarkDecodeError) || slices.Contains(tt.marks, flow.MarkDecodeTruncated); decodeNote != wantNote {
				t.Errorf("notes %q: content-encoding note %v, want %v", f.Notes, decodeNote, wantNote)
			}
			if tt.wantDecoded >= 0 && (int(f.DecodedBytes) != tt.wantDecoded || len(seen) != tt.wantDecoded) {
				t.Errorf("decoded %d (stage saw %d), want %d", f.DecodedBytes, len(seen), tt.wantDecoded)
			}
			if tt.wantDecoded < 0 && (len(seen) == 0 || !bytes.HasPrefix(text, seen)) {
				t.Errorf("cut stream: stage saw %d bytes, want the decoded prefix", len(seen))
			}
		})
	}
}

// A failing stage is noted on the flow, and later stages still run.
func TestStageErrorDoesNotStopInspection(t *testing.T) {
	ran := false
	p := inspect.New(inspect.Options{Stages: []inspect.Stage{
		stageFunc(func(context.Context, *inspect.Request) error { return errors.New("bad json at offset 3") }),
		stageFunc(func(_ context.Context, r *inspect.Request) error {
			ran = true
			r.Verdict = flow.Verdict{Action: flow.Block, Policy: "test"}
			return nil
		}),
	}})
	f := &flow.Flow{Host: "api.openai.com", RequestBody: []byte("{")}
	v := p.Inspect(context.Background(), f)
	if !ran || v.Action != flow.Block || f.Error != "inspect: bad json at offset 3" {
		t.Errorf("ran %v verdict %+v error %q", ran, v, f.Error)
	}
	if p.Known("api.openai.com") {
		t.Error("a pipeline without a catalog knows no host")
	}
}
