package inspect_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/rules"
)

// chat4KiB is a 4 KiB OpenAI chat request as the Python SDK sends it: its headers included.
func chat4KiB() (*flow.Flow, []byte) {
	var content strings.Builder
	for content.Len() < 4<<10 {
		content.WriteString("Summarise the quarterly report: revenue grew 4% while costs fell. ")
	}
	body := []byte(fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":%q}],"stream":false,"temperature":0.2}`, content.String()))
	h := http.Header{
		"Authorization":               {"Bearer sk-proj-" + strings.Repeat("A1b2C3d4", 20)},
		"Content-Type":                {"application/json"},
		"Accept":                      {"application/json"},
		"Accept-Encoding":             {"gzip, deflate"},
		"User-Agent":                  {"OpenAI/Python 1.99.9"},
		"X-Stainless-Lang":            {"python"},
		"X-Stainless-Package-Version": {"1.99.9"},
		"X-Stainless-Os":              {"Linux"},
		"X-Stainless-Arch":            {"x64"},
		"X-Stainless-Runtime":         {"CPython"},
		"X-Stainless-Runtime-Version": {"3.12.3"},
		"X-Stainless-Async":           {"false"},
		"X-Stainless-Retry-Count":     {"0"},
		"X-Stainless-Read-Timeout":    {"600"},
		"Openai-Organization":         {"org-abc123"},
		"Openai-Project":              {"proj_abc123"},
	}
	return &flow.Flow{Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/chat/completions", RequestHeader: h, RequestBody: body}, body
}

func benchPipeline(b *testing.B) *inspect.Pipeline {
	cat, err := catalog.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := builtin.Engine(nil)
	if err != nil {
		b.Fatal(err)
	}
	return inspect.New(inspect.Options{Catalog: cat, Detectors: eng, Hasher: detectors.NewHasher([]byte("bench key for finding hashes 012")), Rules: rules.Default()})
}

// BenchmarkInspect4KiB is the whole pipeline over a 4 KiB chat request with its SDK headers:
// decode, extraction (body, structural members, headers, path, names), the 99 detectors, the
// default policies.
func BenchmarkInspect4KiB(b *testing.B) {
	p := benchPipeline(b)
	f0, body := chat4KiB()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		f := *f0
		if v := p.Inspect(context.Background(), &f); v.Action != flow.Allow {
			b.Fatalf("verdict %+v", v)
		}
	}
}

// BenchmarkAddedCoverage is what scanning the places issue 11 added costs on that request: the
// detectors over the header, URL path, structural-member and #keys segments alone (the body's
// content segments are what was scanned before).
func BenchmarkAddedCoverage(b *testing.B) {
	eng, err := builtin.Engine(nil)
	if err != nil {
		b.Fatal(err)
	}
	h := detectors.NewHasher([]byte("bench key for finding hashes 012"))
	f, body := chat4KiB()
	res := extract.Extract(&extract.Request{Vendor: "openai", Method: "POST", Path: "/v1/chat/completions", Header: f.RequestHeader,
		ContentType: "application/json", Body: body}, extract.Limits{})
	var added []flow.Segment
	for _, s := range res.Segments {
		if !strings.HasSuffix(s.Path, ".content") {
			added = append(added, s)
		}
	}
	if len(added) == len(res.Segments) || len(added) == 0 {
		b.Fatalf("%d of %d segments added", len(added), len(res.Segments))
	}
	b.ReportAllocs()
	for b.Loop() {
		eng.Find(added, h)
	}
	b.ReportMetric(float64(len(added)), "segments")
}

// BenchmarkInspect4KiBParts splits BenchmarkInspect4KiB: extraction with and without the
// request's headers, and the detectors over all its segments or only the body's content.
func BenchmarkInspect4KiBParts(b *testing.B) {
	eng, err := builtin.Engine(nil)
	if err != nil {
		b.Fatal(err)
	}
	h := detectors.NewHasher([]byte("bench key for finding hashes 012"))
	f, body := chat4KiB()
	req := func(hdr http.Header) *extract.Request {
		return &extract.Request{Vendor: "openai", Method: "POST", Path: "/v1/chat/completions", Header: hdr, ContentType: "application/json", Body: body}
	}
	b.Run("extract/with-headers", func(b *testing.B) {
		for b.Loop() {
			extract.Extract(req(f.RequestHeader), extract.Limits{})
		}
	})
	b.Run("extract/body-only", func(b *testing.B) {
		for b.Loop() {
			extract.Extract(req(nil), extract.Limits{})
		}
	})
	all := extract.Extract(req(f.RequestHeader), extract.Limits{}).Segments
	var content []flow.Segment
	for _, s := range all {
		if strings.HasSuffix(s.Path, ".content") {
			content = append(content, s)
		}
	}
	b.Run("detect/all-segments", func(b *testing.B) {
		for b.Loop() {
			eng.Find(all, h)
		}
	})
	b.Run("detect/content-only", func(b *testing.B) {
		for b.Loop() {
			eng.Find(content, h)
		}
	})
}

// BenchmarkStreamScan is the scan of a body past the inspection window: 64 MiB of prompt text
// given to a Stream in 1 MiB writes, as the proxy does, every detector over every chunk.
func BenchmarkStreamScan(b *testing.B) {
	p := benchPipeline(b)
	const size = 64 << 20
	sentence := "The quarterly report shows revenue up 4% on the prior period; please summarise the risks. "
	chunk := []byte(strings.Repeat(sentence, (1<<20)/len(sentence)+1))[:1<<20]
	b.SetBytes(size)
	for b.Loop() {
		f := &flow.Flow{Host: "api.openai.com", Method: "POST", URL: "https://api.openai.com/v1/files",
			RequestHeader: http.Header{"Content-Type": {"application/json"}}, RequestBody: chunk}
		p.Inspect(context.Background(), f)
		s := p.NewStream(context.Background(), f)
		for range size / len(chunk) {
			s.Write(chunk)
		}
		if v := s.Close(); v.Action != flow.Allow {
			b.Fatalf("verdict %+v", v)
		}
	}
}
