package config

import (
	"encoding"
	"fmt"
	similar "github.com/customs-dev/customs/internal/suggest"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a configuration, at a position in its file when
// there is one.
type Error struct {
	File         string
	Line, Column int // 1-based; 0 when unknown (yaml.v3 gives no column for syntax errors)
	Msg          string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, "%d:", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	return b.String() + e.Msg
}

// Errors is every problem found in a configuration, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

type position struct{ line, col int }

// decoder walks yaml.v3 nodes against Go types itself instead of letting
// yaml.v3 decode, so that every problem carries the position of the key or
// value at fault, decoding goes on past the first one, and validation can
// later point at the value it rejects.
type decoder struct {
	file   string
	errs   Errors
	pos    map[string]position // where each key path's value (or "path#key", a map key) is
	failed map[string]bool     // key paths whose values did not decode

	// alias, while decoding through one, is where that alias was used:
	// a problem found there is reported at the use, not at the anchor,
	// which may be fine where it first appears.
	alias *yaml.Node
}

func (d *decoder) at(n *yaml.Node) position {
	if d.alias != nil {
		n = d.alias
	}
	return position{n.Line, n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	p := d.at(n)
	d.errs = append(d.errs, &Error{File: d.file, Line: p.line, Column: p.col, Msg: fmt.Sprintf(format, args...)})
}

// fail records a value that did not decode, so that validation does not
// pile a second, misleading error onto the default left in its place.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.failed[path] = true
	d.errorf(n, "%s: %s", path, fmt.Sprintf(format, args...))
}

var (
	textType = reflect.TypeFor[encoding.TextUnmarshaler]()
	// textKinds names the scalar types decoded from text, for "expected X".
	textKinds = map[reflect.Type]string{
		reflect.TypeFor[Size]():     `a size such as "8MiB"`,
		reflect.TypeFor[Duration](): `a duration such as "30s"`,
	}
)

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.pos[path] = d.at(n)
	if n.Kind == yaml.AliasNode && d.alias == nil {
		d.alias = n
		defer func() { d.alias = nil }()
	}
	n = resolve(n)
	if isNull(n) {
		return // an empty value keeps the default, as if the key were absent
	}
	if v.CanAddr() && v.Addr().Type().Implements(textType) {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "expected %s, got %s", textKinds[v.Type()], describe(n))
		} else if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(n, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		// Any scalar is taken as written, so `admin: off` or `listen: 8080`
		// reach validation as text rather than failing as a bool or an int.
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.fail(n, path, "expected an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected a mapping, got %s", describe(n))
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		d.eachKey(n, path, func(key string, kn, vn *yaml.Node) {
			p := fmt.Sprintf("%s[%s]", path, key)
			d.pos[p+"#key"] = d.at(kn)
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(vn, elem, p)
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
		})
		v.Set(m)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "expected a mapping, got %s", describe(n))
			return
		}
		names, index := yamlFields(v.Type())
		d.eachKey(n, path, func(key string, kn, vn *yaml.Node) {
			i, ok := index[key]
			if !ok {
				d.unknownKey(kn, path, key, names)
				return
			}
			d.decode(vn, v.Field(i), join(path, key))
		})
	default:
		panic("config: no YAML decoding for " + v.Type().String())
	}
}

// eachKey calls f for each entry of mapping n, rejecting keys that are not
// strings and keys given twice (yaml.v3 keeps both in a node tree).
func (d *decoder) eachKey(n *yaml.Node, path string, f func(key string, kn, vn *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		k := resolve(kn)
		if k.Kind != yaml.ScalarNode {
			d.errorf(kn, "%s: expected a key, got %s", orTop(path), describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(kn, "duplicate key %q (first set on line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = kn.Line
		f(k.Value, kn, vn)
	}
}

func (d *decoder) unknownKey(kn *yaml.Node, path, key string, known []string) {
	msg := fmt.Sprintf("unknown key %q", key)
	if path != "" {
		msg += " in " + path
	}
	if s := suggest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
		// The value was most likely meant for s: do not also report s as
		// missing, or the password rules as unmet.
		d.failed[join(path, s)] = true
	}
	d.errorf(kn, "%s", msg)
}

// yamlFields maps the yaml tags of struct type t to field indexes; names
// keeps declaration order so that suggestions are deterministic.
func yamlFields(t reflect.Type) (names []string, index map[string]int) {
	index = map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

// resolve follows aliases to the node they name. The bound is defensive:
// yaml.v3 does not let an alias name another alias.
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

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
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

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// suggest returns the candidate closest to s within edit distance 2, for a
// "did you mean" hint on a mistyped key or value.
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := similar.Distance(strings.ToLower(s), c); d < bestDist && d < len(c) {
			best, bestDist = c, d
		}
	}
	return best
}
