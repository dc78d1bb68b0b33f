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
	utf16 := append([]byte{0xff, 0xfe}, []byte("{\x00}\x00")...)
	tests := []struct {
		name        string
		host        string
		encoding    string
		body        []byte
		marks       []flow.Mark
		wantVendor  string
		wantDecoded int
		incomplete  flow.Action // inspection.incomplete; "" is the default, block
		wantAction  flow.Action
		wantReason  string // the incompleteness reason on the flow
	}{
		{"plain json to openai", "api.openai.com", "", prompt, nil, "openai", len(prompt), "", flow.Allow, ""},
		{"gzip decoded", "api.openai.com", "gzip", gz(prompt), nil, "openai", len(prompt), "", flow.Allow, ""},
		{"two codings", "api.openai.com", "gzip, gzip", gz(gz(prompt)), nil, "openai", len(prompt), "", flow.Allow, ""},
		{"utf-16 with a BOM is read as text", "api.openai.com", "", utf16, nil, "openai", 2, "", flow.Allow, ""},
		{"bomb truncated at limit", "api.mixpanel.com", "gzip", gz(make([]byte, 10<<20)), []flow.Mark{flow.MarkDecodeTruncated, flow.MarkIncomplete}, "mixpanel", 1 << 20, "", flow.Block, "decode-limit"},
		{"bomb, incomplete: alert", "api.mixpanel.com", "gzip", gz(make([]byte, 10<<20)), []flow.Mark{flow.MarkDecodeTruncated, flow.MarkIncomplete}, "mixpanel", 1 << 20, flow.Alert, flow.Alert, "decode-limit"},
		{"bomb, incomplete: allow", "api.mixpanel.com", "gzip", gz(make([]byte, 10<<20)), []flow.Mark{flow.MarkDecodeTruncated, flow.MarkIncomplete}, "mixpanel", 1 << 20, flow.Allow, flow.Allow, "decode-limit"},
		// Outside the catalog an incomplete request raises an alert, not a block.
		{"unknown coding inspects raw", "example.org", "snappy", prompt, []flow.Mark{flow.MarkDecodeError, flow.MarkIncomplete}, "", len(prompt), "", flow.Alert, "unsupported-coding"},
		{"corrupt gzip inspects raw", "api.openai.com", "gzip", prompt, []flow.Mark{flow.MarkDecodeError, flow.MarkIncomplete}, "openai", len(prompt), "", flow.Block, "corrupt-coding"},
		{"too many codings", "api.openai.com", "gzip,gzip,gzip,gzip,gzip", prompt, []flow.Mark{flow.MarkDecodeError, flow.MarkIncomplete}, "openai", len(prompt), "", flow.Block, "too-many-codings"},
		{"oversize cut gzip is not an error", "api.openai.com", "gzip", full[:len(full)/2], []flow.Mark{flow.MarkOversize}, "openai", -1, "", flow.Allow, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []byte
			p := inspect.New(inspect.Options{Catalog: cat, DecodeLimit: 1 << 20, Incomplete: tt.incomplete, Stages: []inspect.Stage{
				stageFunc(func(_ context.Context, r *inspect.Request) error { seen = r.Body; return nil }),
			}})
			f := &flow.Flow{Host: tt.host, ContentEncoding: tt.encoding, RequestBody: tt.body}
			if slices.Contains(tt.marks, flow.MarkOversize) {
				f.Mark(flow.MarkOversize)
			}
			v := p.Inspect(context.Background(), f)
			if v.Action != tt.wantAction || !reflect.DeepEqual(f.Verdict, v) {
				t.Errorf("verdict %+v, flow verdict %+v, want %s", v, f.Verdict, tt.wantAction)
			}
			if tt.wantReason != "" && (!slices.Equal(f.Incomplete, []string{tt.wantReason}) || v.Action != flow.Allow && !strings.Contains(v.Message, tt.wantReason)) {
				t.Errorf("incomplete %v, message %q; want the reason %s", f.Incomplete, v.Message, tt.wantReason)
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
			if tt.wantDecoded >= 0 && (len(seen) != tt.wantDecoded) {
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
