package extract_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog/extract"
)

// chatRequest builds an OpenAI-style chat request of about n bytes: prose turns, as prompts are.
func chatRequest(n int) []byte {
	prose := "Please review the quarterly numbers below and summarise the risks for the board, with owners and dates. "
	var b strings.Builder
	b.WriteString(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a careful analyst."}`)
	for i := 0; b.Len() < n-300; i++ {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		var turn strings.Builder
		for turn.Len() < 700 {
			turn.WriteString(prose)
		}
		fmt.Fprintf(&b, `,{"role":%q,"content":%q}`, role, turn.String())
	}
	b.WriteString(`],"temperature":0.2,"stream":true}`)
	return []byte(b.String())
}

// BenchmarkExtractGenericJSON16K measures the generic walk (no API table) over a 16 KiB prompt,
// the floor every recognised API builds on.
func BenchmarkExtractGenericJSON16K(b *testing.B) {
	body := chatRequest(16 << 10)
	r := &extract.Request{Method: "POST", Path: "/unknown", ContentType: "application/json", Body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res := extract.Extract(r, extract.Limits{})
		if len(res.Segments) == 0 {
			b.Fatal("no segments")
		}
	}
}

// BenchmarkExtractOpenAIChat16KHeaders is BenchmarkExtractOpenAIChat16K with the headers the
// OpenAI Python SDK sends, to measure what the header segments cost.
func BenchmarkExtractOpenAIChat16KHeaders(b *testing.B) {
	body := openAIChat16K()
	h := http.Header{
		"Accept": {"application/json"}, "Accept-Encoding": {"gzip, deflate"}, "Authorization": {"Bearer sk-proj-Xq3EXAMPLEk9TzEXAMPLEa1B2c3D4"},
		"Connection": {"keep-alive"}, "Content-Length": {"16634"}, "Content-Type": {"application/json"}, "User-Agent": {"OpenAI/Python 1.59.7"},
		"X-Stainless-Arch": {"x64"}, "X-Stainless-Async": {"false"}, "X-Stainless-Lang": {"python"}, "X-Stainless-Os": {"Linux"},
		"X-Stainless-Package-Version": {"1.59.7"}, "X-Stainless-Read-Timeout": {"600"}, "X-Stainless-Retry-Count": {"0"},
		"X-Stainless-Runtime": {"CPython"}, "X-Stainless-Runtime-Version": {"3.12.7"},
	}
	r := &extract.Request{Vendor: "openai", Method: "POST", Path: "/v1/chat/completions", Header: h, ContentType: "application/json", Body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		extract.Extract(r, extract.Limits{})
	}
}
