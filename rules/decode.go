package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/customs-dev/customs/internal/suggest"
	"gopkg.in/yaml.v3"
)

// decoder reads one rule file through yaml.v3 nodes rather than yaml.v3's own decoding, so that
// every value keeps its position, unknown keys are caught, and reading goes on past the first
// problem.
type decoder struct {
	file string
	src  []byte
	errs Errors
	// hinted holds, per mapping, the keys a "did you mean" pointed to: the value was most
	// likely meant for them, so they are not also reported missing.
	hinted map[*yaml.Node]map[string]bool
	// merged counts the key-value pairs brought in by << so far: aliases let a small file
	// merge exponentially many.
	merged int
	// unknown holds the keys reported unknown, so that one merged into several mappings is
	// reported once, where it is written.
	unknown map[*yaml.Node]bool
	// nulls holds, per mapping, the keys written with a null value (left out of fields), so
	// that a section written with nothing after it can be told from one not written at all.
	nulls   map[*yaml.Node]map[string]*yaml.Node
	stopped bool
}

const (
	// maxErrors is how many problems of one file are reported: past it, the rest are noise
	// (and aliases let a small file produce any number of them).
	maxErrors = 200
	// maxMerged bounds the pairs merged with << in one file.
	maxMerged = 10_000
)

// full reports whether the file has produced maxErrors problems; reading stops there, and
// says so once.
func (d *decoder) full() bool {
	if len(d.errs) < maxErrors {
		return false
	}
	if !d.stopped {
		d.stopped = true
		d.errs = append(d.errs, &Error{File: d.file, Msg: fmt.Sprintf("too many problems; stopped after %d", maxErrors), last: true})
	}
	return true
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorAt(p Pos, format string, args ...any) {
	if d.full() {
		return
	}
	e := &Error{File: p.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
	e.line, e.hasLine = sourceLine(d.src, p.Line)
	d.errs = append(d.errs, e)
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errorAt(d.pos(n), format, args...)
}

var yamlLine = regexp.MustCompile(`(?s)^yaml: (?:line (\d+): )?(.*)$`)

// emptyFileMsg is the problem with a rule file that holds nothing. An editor that saves by
// truncating and rewriting leaves such a file for a moment: read as "no policies", it would let
// every flow through until the next save.
const emptyFileMsg = `empty rule file: no detectors, policies, vendors or tests (write "policies: []" to mean no policies)`

// emptyFile reports that the file holds nothing, at its start.
func (d *decoder) emptyFile() {
	d.errorAt(Pos{d.file, 1, 1}, "%s", emptyFileMsg)
}

// blank reports whether src holds only white space and comments (after a byte order mark), which
// YAML reads as no document, or as a syntax error where a tab indents nothing.
func blank(src []byte) bool {
	src = bytes.TrimPrefix(src, []byte("\uFEFF"))
	for line := range bytes.Lines(src) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// parseYAML returns the root node of the single document in src, or nil when it has none.
// A file with nothing in it (white space, comments, a null document) is reported as empty: it
// is never read as "no policies".
func (d *decoder) parseYAML() *yaml.Node {
	if blank(d.src) {
		d.emptyFile()
		return nil
	}
	syntaxError := func(err error) {
		e := &Error{File: d.file, Msg: err.Error()}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
			e.Line, e.Col = syntaxPos(d.src, e.Line, e.Msg)
			e.line, e.hasLine = sourceLine(d.src, e.Line)
		}
		d.errs = append(d.errs, e)
	}
	dec := yaml.NewDecoder(bytes.NewReader(d.src))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		d.emptyFile()
		return nil
	} else if err != nil {
		syntaxError(err)
		return nil
	}
	// A second document would otherwise be dropped silently, with every rule in it.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorAt(Pos{d.file, extra.Line, extra.Column}, "only one YAML document is allowed in a rule file")
		return nil
	} else if !errors.Is(err, io.EOF) {
		syntaxError(err)
		return nil
	}
	if len(doc.Content) == 0 || isNull(resolve(doc.Content[0])) {
		d.emptyFile()
		return nil
	}
	return resolve(doc.Content[0])
}

// field is one key of a mapping and its value.
type field struct {
	key, val *yaml.Node
}

// fields reads mapping n, whose keys must be among known. Unknown and repeated keys are
// reported (with a hint when a known key is close), and keys whose value is null are left out,
// as if absent. It returns nil when n is not a mapping.
func (d *decoder) fields(n *yaml.Node, path string, known ...string) map[string]field {
	r := resolve(n)
	if r.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping, got %s", orTop(path), describe(r))
		return nil
	}
	out := make(map[string]field, len(r.Content)/2)
	seen := map[string]int{}
	var merged []*yaml.Node
	for i := 0; i+1 < len(r.Content); i += 2 {
		kn, vn := r.Content[i], r.Content[i+1]
		k := resolve(kn)
		if isMerge(k) {
			merged = append(merged, d.mergePairs(vn, path, 0)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(kn, "%s: expected a key, got %s", orTop(path), describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(kn, "%s: key %q given twice (first on line %d)", orTop(path), k.Value, line)
			continue
		}
		seen[k.Value] = kn.Line
		d.field(r, out, kn, vn, k.Value, path, known)
	}
	// Keys merged in with << never override the mapping's own; among merged mappings, the
	// first to give a key wins, as YAML's merge key specifies.
	for i := 0; i+1 < len(merged); i += 2 {
		k := resolve(merged[i])
		if _, dup := seen[k.Value]; dup || k.Kind != yaml.ScalarNode {
			continue
		}
		seen[k.Value] = merged[i].Line
		d.field(r, out, merged[i], merged[i+1], k.Value, path, known)
	}
	return out
}

// field records one key of mapping r in out, or reports it as unknown.
func (d *decoder) field(r *yaml.Node, out map[string]field, kn, vn *yaml.Node, key, path string, known []string) {
	if !contains(known, key) {
		if d.unknown[kn] {
			return
		}
		if d.unknown == nil {
			d.unknown = map[*yaml.Node]bool{}
		}
		d.unknown[kn] = true
		msg := fmt.Sprintf("unknown key %q", key)
		if path != "" {
			msg += " in " + path
		}
		if s := closest(key, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
			if d.hinted == nil {
				d.hinted = map[*yaml.Node]map[string]bool{}
			}
			if d.hinted[r] == nil {
				d.hinted[r] = map[string]bool{}
			}
			d.hinted[r][s] = true
		} else {
			msg += "; want one of " + strings.Join(known, ", ")
		}
		d.errorf(kn, "%s", msg)
		return
	}
	if isNull(resolve(vn)) {
		if d.nulls == nil {
			d.nulls = map[*yaml.Node]map[string]*yaml.Node{}
		}
		if d.nulls[r] == nil {
			d.nulls[r] = map[string]*yaml.Node{}
		}
		d.nulls[r][key] = kn
		return
	}
	out[key] = field{kn, vn}
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// mergePairs returns the key and value nodes a << merge key brings in: those of one mapping,
// or of each mapping of a list in turn, with their own merges after their own keys.
func (d *decoder) mergePairs(n *yaml.Node, path string, depth int) []*yaml.Node {
	if depth > 8 {
		d.errorf(n, "%s: << merges nested too deep", orTop(path))
		return nil
	}
	r := resolve(n)
	switch r.Kind {
	case yaml.MappingNode:
		return d.flatten(r, path, depth)
	case yaml.SequenceNode:
		var pairs []*yaml.Node
		for _, item := range r.Content {
			if m := resolve(item); m.Kind == yaml.MappingNode {
				pairs = append(pairs, d.flatten(m, path, depth)...)
			} else {
				d.errorf(item, "%s: << merges mappings, got %s", orTop(path), describe(m))
			}
		}
		return pairs
	}
	d.errorf(n, "%s: << merges a mapping or a list of mappings, got %s", orTop(path), describe(r))
	return nil
}

func (d *decoder) flatten(m *yaml.Node, path string, depth int) []*yaml.Node {
	if d.merged += len(m.Content) / 2; d.merged > maxMerged {
		if d.merged-len(m.Content)/2 <= maxMerged {
			d.errorf(m, "%s: << merges more than %d keys in this file", orTop(path), maxMerged)
		}
		return nil
	}
	var own, inherited []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if isMerge(resolve(m.Content[i])) {
			inherited = append(inherited, d.mergePairs(m.Content[i+1], path, depth+1)...)
			continue
		}
		own = append(own, m.Content[i], m.Content[i+1])
	}
	return append(own, inherited...)
}

// require reports the keys missing from fs, at the mapping n.
func (d *decoder) require(n *yaml.Node, path string, fs map[string]field, keys ...string) {
	var missing []string
	for _, k := range keys {
		if _, ok := fs[k]; !ok && !d.hinted[resolve(n)][k] {
			missing = append(missing, strconv.Quote(k))
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		d.errorf(n, "%s: missing required key %s", path, missing[0])
	default:
		d.errorf(n, "%s: missing required keys %s", path, strings.Join(missing, ", "))
	}
}

// list returns the items of a sequence, or reports that n is not one.
func (d *decoder) list(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	r := resolve(n)
	if r.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: expected a list, got %s", path, describe(r))
		return nil, false
	}
	return r.Content, true
}

// str reads any scalar as written: `id: 123` is the ID "123", not a type error.
func (d *decoder) str(f field, path string) (string, bool) {
	r := resolve(f.val)
	if r.Kind != yaml.ScalarNode {
		d.errorf(f.val, "%s: expected a string, got %s", path, describe(r))
		return "", false
	}
	return r.Value, true
}

func (d *decoder) strList(f field, path string) ([]string, []Pos, bool) {
	items, ok := d.list(f.val, path)
	if !ok {
		return nil, nil, false
	}
	out, pos := make([]string, 0, len(items)), make([]Pos, 0, len(items))
	for i, item := range items {
		s, ok := d.str(field{f.key, item}, fmt.Sprintf("%s[%d]", path, i))
		if !ok {
			continue
		}
		out, pos = append(out, s), append(pos, d.pos(item))
	}
	return out, pos, len(out) == len(items)
}

func (d *decoder) boolean(f field, path string) (bool, bool) {
	r := resolve(f.val)
	var b bool
	if r.Kind != yaml.ScalarNode || r.ShortTag() != "!!bool" || r.Decode(&b) != nil {
		d.errorf(f.val, "%s: expected true or false, got %s", path, describe(r))
		return false, false
	}
	return b, true
}

func (d *decoder) integer(f field, path string) (int, bool) {
	r := resolve(f.val)
	var i int
	if r.Kind != yaml.ScalarNode || r.ShortTag() != "!!int" || r.Decode(&i) != nil {
		d.errorf(f.val, "%s: expected an integer, got %s", path, describe(r))
		return 0, false
	}
	return i, true
}

func (d *decoder) number(f field, path string) (float64, bool) {
	r := resolve(f.val)
	var x float64
	if r.Kind != yaml.ScalarNode || (r.ShortTag() != "!!int" && r.ShortTag() != "!!float") || r.Decode(&x) != nil {
		d.errorf(f.val, "%s: expected a number, got %s", path, describe(r))
		return 0, false
	}
	return x, true
}

// oneOf reads a string that must be one of allowed.
func (d *decoder) oneOf(f field, path string, allowed ...string) (string, bool) {
	s, ok := d.str(f, path)
	if !ok {
		return "", false
	}
	if !contains(allowed, s) {
		msg := fmt.Sprintf("%s: unknown value %q", path, s)
		if c := closest(s, allowed); c != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", c)
		}
		d.errorf(f.val, "%s; want one of %s", msg, strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for range 8 {
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			break
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		switch n.ShortTag() {
		case "!!int":
			return "the integer " + v
		case "!!float":
			return "the number " + v
		case "!!bool":
			return "the boolean " + v
		case "!!null":
			return "null"
		}
		return fmt.Sprintf("the string %q", v)
	}
	return "nothing"
}

func orTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// closest returns the candidate nearest to s within edit distance 2, for a "did you mean" hint.
func closest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := suggest.Distance(strings.ToLower(s), c); d < bestDist && d < len(c) {
			best, bestDist = c, d
		}
	}
	return best
}
