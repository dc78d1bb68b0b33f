package flow

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// MaskedValue replaces a detected value wherever a flow's URL is shown without --reveal.
const MaskedValue = "[masked]"

// MaskURL returns rawURL with every value a finding points at in its path or query replaced by
// MaskedValue, so that log lines, listings and exports can show where a request went without the
// secret it carried there. Findings locate their values by segment path: url:path (a span of the
// raw path), url:path[i] (the i-th path segment), url:path/<decoding>@N (the segment holding byte
// N) and query:<name>... (that parameter's value). A URL without such findings is returned as
// is.
func MaskURL(rawURL string, findings []Finding) string {
	var pathSpans [][2]int
	var segments []int // path segment indexes to mask whole
	var offsets []int  // raw path offsets whose segment is masked whole
	whole, allQuery := false, false
	params := map[string]bool{}
	for _, x := range findings {
		switch {
		case strings.HasPrefix(x.Path, "url:path"):
			rest := x.Path[len("url:path"):]
			switch {
			case rest == "":
				pathSpans = append(pathSpans, [2]int{x.Start, x.End})
			case strings.HasPrefix(rest, "["):
				end := strings.IndexByte(rest, ']')
				if i, err := strconv.Atoi(rest[1:max(end, 1)]); end > 0 && err == nil {
					segments = append(segments, i)
				} else {
					whole = true
				}
			default:
				step, _, _ := strings.Cut(rest[1:], "/")
				if _, at, ok := strings.Cut(step, "@"); ok {
					if n, err := strconv.Atoi(at); err == nil {
						offsets = append(offsets, n)
						continue
					}
				}
				whole = true // a decoding of the whole path
			}
		case strings.HasPrefix(x.Path, "query:"):
			name := x.Path[len("query:"):]
			if i := strings.IndexAny(name, "/["); i >= 0 {
				name = name[:i]
			}
			params[name] = true
		case strings.HasPrefix(x.Path, "#keys"):
			// A value found among member and parameter names cannot be located in the query
			// string by its path; it may be any name there.
			allQuery = true
		}
	}
	if len(pathSpans) == 0 && len(segments) == 0 && len(offsets) == 0 && !whole && len(params) == 0 && !allQuery {
		return rawURL
	}
	prefix, path, query, frag := splitURL(rawURL)
	path = maskPath(path, pathSpans, segments, offsets, whole)
	switch {
	case allQuery && query != "":
		query = MaskedValue
	case len(params) > 0 && query != "":
		query = maskQuery(query, params)
	}
	out := prefix + path
	if query != "" {
		out += "?" + query
	}
	return out + frag
}

// splitURL cuts an absolute or origin-form URL into scheme://authority, path, query (without
// '?') and fragment (with '#').
func splitURL(raw string) (prefix, path, query, frag string) {
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		j := strings.IndexAny(rest[i+3:], "/?#")
		if j < 0 {
			return raw, "", "", ""
		}
		prefix, rest = rest[:i+3+j], rest[i+3+j:]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, frag = rest[:i], rest[i:]
	}
	path, query, _ = strings.Cut(rest, "?")
	return prefix, path, query, frag
}

func maskPath(path string, spans [][2]int, segments, offsets []int, whole bool) string {
	if whole {
		if path == "" {
			return path
		}
		return "/" + MaskedValue
	}
	// Segment i of the path is what lies between its i-th and i+1-th '/', as extraction numbers
	// them (strings.Split: segment 0 is the empty text before the leading '/').
	bounds := [][2]int{}
	start := 0
	for i := 0; i <= len(path); i++ {
		if i == len(path) || path[i] == '/' {
			bounds = append(bounds, [2]int{start, i})
			start = i + 1
		}
	}
	for _, i := range segments {
		if i >= 0 && i < len(bounds) {
			spans = append(spans, bounds[i])
		}
	}
	for _, n := range offsets {
		for _, b := range bounds {
			if n >= b[0] && n <= b[1] {
				spans = append(spans, b)
				break
			}
		}
	}
	// Clamp, sort and merge, then rewrite from the end so earlier offsets stay valid.
	var clean [][2]int
	for _, s := range spans {
		s[0], s[1] = max(0, min(s[0], len(path))), max(0, min(s[1], len(path)))
		if s[0] < s[1] {
			clean = append(clean, s)
		}
	}
	sort.Slice(clean, func(a, b int) bool { return clean[a][0] < clean[b][0] })
	var merged [][2]int
	for _, s := range clean {
		if k := len(merged) - 1; k >= 0 && s[0] <= merged[k][1] {
			merged[k][1] = max(merged[k][1], s[1])
			continue
		}
		merged = append(merged, s)
	}
	for k := len(merged) - 1; k >= 0; k-- {
		s := merged[k]
		path = path[:s[0]] + MaskedValue + path[s[1]:]
	}
	return path
}

func maskQuery(query string, params map[string]bool) string {
	pairs := strings.Split(query, "&")
	for i, p := range pairs {
		name, _, ok := strings.Cut(p, "=")
		if !ok {
			if n, err := url.QueryUnescape(name); err == nil && params[n] || params[name] {
				// A bare parameter: its name is the value (?AKIA…).
				pairs[i] = MaskedValue
			}
			continue
		}
		n, err := url.QueryUnescape(name)
		if err != nil {
			n = name
		}
		if params[n] {
			pairs[i] = name + "=" + MaskedValue
		}
	}
	return strings.Join(pairs, "&")
}
