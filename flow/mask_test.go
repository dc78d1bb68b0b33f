package flow_test

import (
	"testing"

	"github.com/customs-dev/customs/flow"
)

func TestMaskURL(t *testing.T) {
	f := func(path string, start, end int) flow.Finding {
		return flow.Finding{Detector: "secret.x", Path: path, Start: start, End: end}
	}
	cases := []struct {
		name     string
		url      string
		findings []flow.Finding
		want     string
	}{
		{"no findings", "https://api.openai.com/v1/files/abc?x=1", nil, "https://api.openai.com/v1/files/abc?x=1"},
		{"body findings only", "https://api.openai.com/v1/chat", []flow.Finding{f("messages[0].content", 0, 4)}, "https://api.openai.com/v1/chat"},
		{"span of the raw path", "https://api.openai.com/v1/files/ghp_abcdef/content", []flow.Finding{f("url:path", 10, 20)},
			"https://api.openai.com/v1/files/[masked]/content"},
		{"origin-form", "/v1/files/ghp_abcdef", []flow.Finding{f("url:path", 10, 20)}, "/v1/files/[masked]"},
		{"path segment index", "https://h/v1/input/0123456789abcdef0123456789abcdef?x=1", []flow.Finding{f("url:path[3]", 0, 32)},
			"https://h/v1/input/[masked]?x=1"},
		{"decoded run at an offset", "https://h/a/sk%2Dproj%2Dabc/b", []flow.Finding{f("url:path/urlenc@3", 0, 11)}, "https://h/a/[masked]/b"},
		{"decoding of the whole path", "https://h/a%2Fb", []flow.Finding{f("url:path/urlenc/json/k", 0, 3)}, "https://h/[masked]"},
		{"two spans merged", "https://h/aaaa/bbbb", []flow.Finding{f("url:path", 1, 5), f("url:path", 3, 10)}, "https://h/[masked]"},
		{"span past the end is clamped", "https://h/abc", []flow.Finding{f("url:path", 2, 99)}, "https://h/a[masked]"},
		{"query value", "https://h/p?key=AIzaXYZ&alt=sse#frag", []flow.Finding{f("query:key", 0, 7)}, "https://h/p?key=[masked]&alt=sse#frag"},
		{"query value decoded", "https://h/p?data=eyJ9&x=1", []flow.Finding{f("query:data/base64/properties.email", 0, 7)}, "https://h/p?data=[masked]&x=1"},
		{"escaped query name", "https://h/p?api%5Fkey=abc", []flow.Finding{f("query:api_key", 0, 3)}, "https://h/p?api%5Fkey=[masked]"},
		{"secret as a query name", "https://h/p?AKIAQ3EGRZ7WYH2LXK5N=1&b=2", []flow.Finding{f("#keys", 0, 20)}, "https://h/p?[masked]"},
		{"host only", "https://h", []flow.Finding{f("url:path", 0, 3)}, "https://h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := flow.MaskURL(c.url, c.findings); got != c.want {
				t.Fatalf("MaskURL(%q) = %q, want %q", c.url, got, c.want)
			}
		})
	}
}

func FuzzMaskURL(f *testing.F) {
	f.Add("https://h/a/b?c=d#e", "url:path", 2, 5)
	f.Add("/x/y", "url:path[2]", 0, 1)
	f.Add("https://h/a?b", "query:b", 0, 1)
	f.Fuzz(func(t *testing.T, raw, path string, start, end int) {
		// Never panics, whatever the spans say.
		_ = flow.MaskURL(raw, []flow.Finding{{Path: path, Start: start, End: end}})
	})
}
