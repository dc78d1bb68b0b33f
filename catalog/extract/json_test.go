package extract

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// stdLeaves lists the string leaves of a document as encoding/json sees them: the reference the
// hand-written walker is checked against.
func stdLeaves(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			stdLeaves(e, out)
		}
	case map[string]any:
		for _, e := range x {
			stdLeaves(e, out)
		}
	}
}

func walkLeaves(data []byte) ([]string, []string, error) {
	var vals, paths []string
	_, err := walkJSON(data, 10000, func(p []byte, _ string, v string) {
		vals = append(vals, v)
		paths = append(paths, string(p))
	})
	return vals, paths, err
}

func TestWalkJSONPaths(t *testing.T) {
	tests := []struct {
		in    string
		paths []string
		err   string
	}{
		{`{"a":{"b":["x","y"]},"c":"z"}`, []string{"a.b[0]", "a.b[1]", "c"}, ""},
		{`[[["deep"]]]`, []string{"[0][0][0]"}, ""},
		{`{"":"empty key","a b":"space","ü":"non-ascii"}`, []string{`[""]`, `["a b"]`, `["ü"]`}, ""},
		{` {"a" : "x" , "b":[ ] , "c":{ } , "d":"y" } `, []string{"a", "d"}, ""},
		{`{"a":"x",}`, []string{"a"}, "expected a member name"},
		{`{"a" "x"}`, nil, "expected ':'"},
		{`[1 2]`, nil, "after a value"},
		{`{"a":tru}`, nil, "invalid literal"},
		{`"\x"`, nil, "invalid escape"},
		{`"\u12"`, nil, "invalid \\u escape"},
		{`[`, nil, "unexpected end"},
		{``, nil, "unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, paths, err := walkLeaves([]byte(tt.in))
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
			if !slices.Equal(paths, tt.paths) {
				t.Errorf("paths %q, want %q", paths, tt.paths)
			}
		})
	}
}

// FuzzWalkJSON checks the walker against encoding/json: on every valid document it must succeed
// and see exactly the same string values; on any input it must not panic or run past the end.
func FuzzWalkJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `[1,"x",{"y":["\u00e9\ud83d\ude00"]}]`, `"\n\t\\\/"`, `{"a":[]}`, `[[[[]]]]`, `{"a":"\ud800"}`, `-1e5`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		end, _ := walkJSON(data, 10000, func([]byte, string, string) {})
		if end < 0 || end > len(data) {
			t.Fatalf("offset %d outside 0..%d", end, len(data))
		}
		if !json.Valid(data) {
			return
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		var want []string
		stdLeaves(v, &want)
		// encoding/json turns each invalid UTF-8 byte into U+FFFD; the walker hands bytes on as
		// they are, for detectors that match bytes. Compare what both agree is text.
		norm := func(s string) string { return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\uFFFD", "") }
		for i := range want {
			want[i] = norm(want[i])
		}
		var got []string
		if _, err := walkJSON(data, 10000, func(_ []byte, _ string, s string) { got = append(got, norm(s)) }); err != nil {
			t.Fatalf("valid JSON rejected: %v", err)
		}
		// Drop number leaves (the walker reports long numbers; the reference has none) by
		// keeping only values the reference has, then compare as multisets.
		sort.Strings(want)
		var strs []string
		for _, g := range got {
			if i := sort.SearchStrings(want, g); i < len(want) && want[i] == g {
				strs = append(strs, g)
			}
		}
		sort.Strings(strs)
		if !slices.Equal(strs, want) {
			t.Fatalf("walker strings %q, encoding/json %q", strs, want)
		}
	})
}
