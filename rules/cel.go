package rules

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/customs-dev/customs/flow"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"gopkg.in/yaml.v3"
)

const (
	// costLimit bounds one condition's evaluation: generous for any sensible policy over
	// thousands of findings, and a hard stop for one that is not (a comprehension nested in a
	// comprehension over a flood of findings).
	costLimit = 100_000
	// interruptEvery is how many comprehension iterations pass between checks of the context
	// given to EvaluateContext.
	interruptEvery = 100
	// maxExprLen bounds a condition's size in characters; the parser refuses longer ones.
	maxExprLen = 16 << 10
)

// objType is one of the object types policies see (vendor, request, ...): a fixed list of
// typed fields, read from the Go value behind each object.
type objType struct {
	name   string
	typ    *types.Type
	fields []string
	ftypes map[string]*types.FieldType
	// value makes field i of the Go value src as a CEL value.
	value func(src any, i int) ref.Val
}

func newObjType(name string, value func(src any, i int) ref.Val, fields ...any) *objType {
	t := &objType{name: name, typ: types.NewObjectType(name), ftypes: map[string]*types.FieldType{}, value: value}
	for i := 0; i+1 < len(fields); i += 2 {
		n, ft := fields[i].(string), fields[i+1].(*types.Type)
		idx := len(t.fields)
		t.fields = append(t.fields, n)
		t.ftypes[n] = &types.FieldType{
			Type:  ft,
			IsSet: func(any) bool { return true },
			// The interpreter calls GetFrom with the object's Value(), which is the object
			// itself: field access is a slice index, with no reflection.
			GetFrom: func(o any) (any, error) {
				obj, ok := o.(*object)
				if !ok || obj.t != t {
					return nil, fmt.Errorf("no field %q on %T", n, o)
				}
				return obj.get(idx), nil
			},
		}
	}
	return t
}

// The object types of the context. The order of the fields is the order of the indexes the
// value functions (in eval.go) switch on.
var (
	vendorType = newObjType("customs.Vendor", vendorField,
		"id", types.StringType, "name", types.StringType, "category", types.StringType,
		"country", types.StringType, "subprocessors", types.NewListType(types.StringType),
		"verified", types.BoolType, "known", types.BoolType)
	requestType = newObjType("customs.Request", requestField,
		"method", types.StringType, "host", types.StringType, "path", types.StringType,
		"headers", types.NewMapType(types.StringType, types.StringType))
	clientType  = newObjType("customs.Client", clientField, "addr", types.StringType, "user", types.StringType)
	findingType = newObjType("customs.Finding", findingField,
		"detector", types.StringType, "class", types.StringType, "severity", types.StringType,
		"path", types.StringType, "count", types.IntType, "confidence", types.DoubleType,
		"label", types.StringType, "ref", types.StringType, "share", types.DoubleType,
		"segment_share", types.DoubleType, "rows", types.IntType, "columns", types.NewListType(types.StringType))
	flowType = newObjType("customs.Flow", flowField,
		"source", types.StringType, "mode", types.StringType, "oversize", types.BoolType,
		"marks", types.NewListType(types.StringType), "incomplete", types.BoolType,
		"incomplete_reasons", types.NewListType(types.StringType), "sni", types.StringType,
		"target", types.StringType, "server", types.StringType, "alpn", types.StringType,
		"ja4", types.StringType, "tls_version", types.StringType)

	objTypes = map[string]*objType{}
)

func init() {
	for _, t := range []*objType{vendorType, requestType, clientType, findingType, flowType} {
		objTypes[t.name] = t
	}
}

// object is a value of an objType. Its fields become CEL values when a condition first reads
// them, and stay for the other conditions of the same evaluation: most fields are never read,
// and boxing them all would cost more than the conditions that read a few.
type object struct {
	t   *objType
	src any
	v   []ref.Val
}

func (o *object) get(i int) ref.Val {
	if v := o.v[i]; v != nil {
		return v
	}
	v := o.t.value(o.src, i)
	o.v[i] = v
	return v
}

func (o *object) ConvertToNative(typeDesc reflect.Type) (any, error) {
	return nil, fmt.Errorf("%s cannot be converted to %v", o.t.name, typeDesc)
}

func (o *object) ConvertToType(typeVal ref.Type) ref.Val {
	switch typeVal {
	case types.TypeType:
		return o.t.typ
	case o.t.typ:
		return o
	}
	return types.NewErr("type conversion error from '%s' to '%s'", o.t.name, typeVal)
}

func (o *object) Equal(other ref.Val) ref.Val {
	p, ok := other.(*object)
	if !ok || p.t != o.t {
		return types.False
	}
	for i := range o.v {
		if o.get(i).Equal(p.get(i)) != types.True {
			return types.False
		}
	}
	return types.True
}

func (o *object) Type() ref.Type { return o.t.typ }
func (o *object) Value() any     { return o }

// provider adds the context's object types to CEL's own, for the type checker and for field
// access at run time.
type provider struct {
	types.Provider
}

func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if t, ok := objTypes[name]; ok {
		return types.NewTypeTypeWithParam(t.typ), true
	}
	return p.Provider.FindStructType(name)
}

func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if t, ok := objTypes[name]; ok {
		return t.fields, true
	}
	return p.Provider.FindStructFieldNames(name)
}

func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if t, ok := objTypes[name]; ok {
		ft, ok := t.ftypes[field]
		return ft, ok
	}
	return p.Provider.FindStructFieldType(name, field)
}

func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := objTypes[name]; ok {
		return types.NewErr("%s values cannot be built in a condition", name)
	}
	return p.Provider.NewValue(name, fields)
}

// variables are the names a condition may use; they appear in "did you mean" hints.
var variables = []string{"vendor", "api", "request", "client", "findings", "flow"}

// apiFields are the names under api. api itself stays the API's name, a string, as rule
// files have always compared it (api == "openai.chat", api.startsWith("openai.")); its fields
// are declared as variables of their own, qualified names that CEL's checker resolves before
// it would select a field of the string.
var apiFields = []string{"model", "served_model", "params"}

// functions are the helpers customs adds to CEL, for hints.
var functions = []string{"in_cidr", "host_matches", "has_class", "has_detector"}

var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	findingsList := cel.ListType(findingType.typ)
	return cel.NewEnv(
		cel.Variable("vendor", vendorType.typ),
		cel.Variable("api", cel.StringType),
		cel.Variable("api.model", cel.StringType),
		cel.Variable("api.served_model", cel.StringType),
		cel.Variable("api.params", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("request", requestType.typ),
		cel.Variable("client", clientType.typ),
		cel.Variable("findings", findingsList),
		cel.Variable("flow", flowType.typ),
		cel.Function("in_cidr", cel.Overload("in_cidr_string_string",
			[]*cel.Type{cel.StringType, cel.StringType}, cel.BoolType, cel.BinaryBinding(inCIDR))),
		cel.Function("host_matches", cel.Overload("host_matches_string_string",
			[]*cel.Type{cel.StringType, cel.StringType}, cel.BoolType, cel.BinaryBinding(hostMatches))),
		cel.Function("has_class", cel.MemberOverload("findings_has_class_string",
			[]*cel.Type{findingsList, cel.StringType}, cel.BoolType, cel.BinaryBinding(findingsHave(func(f *Finding, w string) bool { return f.Class == w })))),
		cel.Function("has_detector", cel.MemberOverload("findings_has_detector_string",
			[]*cel.Type{findingsList, cel.StringType}, cel.BoolType, cel.BinaryBinding(findingsHave(DetectorIs)))),
		// has_class("secret") reads as findings.has_class("secret"): the common question
		// without the comprehension.
		cel.Macros(findingsMacro("has_class"), findingsMacro("has_detector")),
		ext.Strings(),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(maxExprLen),
		// Last: options before it (optional types) register types with CEL's own registry,
		// which a wrapping provider does not offer.
		func(e *cel.Env) (*cel.Env, error) {
			return cel.CustomTypeProvider(&provider{e.CELTypeProvider()})(e)
		},
	)
})

func findingsMacro(name string) cel.Macro {
	return cel.GlobalMacro(name, 1, func(eh cel.MacroExprFactory, _ ast.Expr, args []ast.Expr) (ast.Expr, *common.Error) {
		return eh.NewMemberCall(name, eh.NewIdent("findings"), args...), nil
	})
}

// DetectorIs reports whether f is a finding of detector id, given in full (secret.aws-access-key-id)
// or without its namespace (aws-access-key-id), as rule files may name it either way.
func DetectorIs(f *Finding, id string) bool {
	if f.Detector == id {
		return true
	}
	_, short, ok := strings.Cut(f.Detector, ".")
	return ok && short == id
}

// findingsHave reports whether any finding in a list satisfies match for the value want.
func findingsHave(match func(f *Finding, want string) bool) func(list, want ref.Val) ref.Val {
	return func(list, want ref.Val) ref.Val {
		w, ok := want.(types.String)
		if !ok {
			return types.MaybeNoSuchOverloadErr(want)
		}
		has := func(v ref.Val) bool {
			o, ok := v.(*object)
			if !ok {
				return false
			}
			f, ok := o.src.(*Finding)
			return ok && match(f, string(w))
		}
		if fl, ok := list.(findingList); ok {
			for _, v := range fl.vals {
				if has(v) {
					return types.True
				}
			}
			return types.False
		}
		l, ok := list.(traits.Lister)
		if !ok {
			return types.MaybeNoSuchOverloadErr(list)
		}
		for it := l.Iterator(); it.HasNext() == types.True; {
			if has(it.Next()) {
				return types.True
			}
		}
		return types.False
	}
}

// inCIDR reports whether addr (an IP, or ip:port, IPv4 or IPv6) is in cidr (a prefix, or a
// single IP). An address that does not parse is in no range; a range that does not parse is an
// error (literal ones are refused at load time).
func inCIDR(addr, cidr ref.Val) ref.Val {
	a, ok1 := addr.(types.String)
	c, ok2 := cidr.(types.String)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(addr)
	}
	prefix, err := parsePrefix(string(c))
	if err != nil {
		return types.NewErr("in_cidr: %v", err)
	}
	ip, ok := parseAddr(string(a))
	return types.Bool(ok && prefix.Contains(ip))
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range or an IP address", s)
		}
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8 or fd00::/8", s)
	}
	if p.Addr().Is4In6() {
		// ::ffff:10.0.0.0/104 means 10.0.0.0/8: addresses are compared unmapped.
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q mixes IPv4-mapped and IPv6 addresses", s)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}

// hostMatches reports whether host matches pattern: the same name, or, for "*.example.com",
// any name below example.com (not example.com itself). Case and a trailing dot are ignored.
func hostMatches(host, pattern ref.Val) ref.Val {
	h, ok1 := host.(types.String)
	p, ok2 := pattern.(types.String)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(host)
	}
	return types.Bool(matchHost(string(h), string(p)))
}

func matchHost(host, pattern string) bool {
	if strings.IndexByte(host, ':') >= 0 {
		// Only then: SplitHostPort allocates its error for a host without a port.
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
	}
	host = strings.TrimSuffix(host, ".")
	pattern = strings.TrimSuffix(pattern, ".")
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return len(host) > len(suffix) && strings.HasPrefix(suffix, ".") &&
			strings.EqualFold(host[len(host)-len(suffix):], suffix)
	}
	return strings.EqualFold(host, pattern)
}

var hostPattern = regexp.MustCompile(`^(?:\*\.)?(?:[a-zA-Z0-9_](?:[a-zA-Z0-9_-]*[a-zA-Z0-9_])?\.)*[a-zA-Z0-9_](?:[a-zA-Z0-9_-]*[a-zA-Z0-9_])?\.?$`)

func checkHostPattern(p string) error {
	if !hostPattern.MatchString(p) {
		return fmt.Errorf("%q is not a host name or a *.domain pattern", p)
	}
	return nil
}

// compileWhen compiles a policy's condition, and reports every problem at its place in the
// file: a condition that does not parse, does not type-check as bool, or gives a helper a
// literal it can never accept.
func (d *decoder) compileWhen(p *Policy, n *yaml.Node, path string) {
	env, err := celEnv()
	if err != nil {
		// The environment is fixed at build time; a test keeps it valid.
		panic(fmt.Sprintf("rules: CEL environment: %v", err))
	}
	if strings.TrimSpace(p.When) == "" {
		d.errorf(n, "%s: must not be empty", path)
		return
	}
	m := d.exprMap(n)
	checked, iss := env.Compile(p.When)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			msg := celMessage(e.Message)
			if e.Message == noFieldOnString {
				msg = apiFieldMessage(p.When, e.Location.Line(), e.Location.Column(), msg)
			}
			d.errorAt(m.at(e.Location.Line(), e.Location.Column()), "%s: %s", path, msg)
		}
		return
	}
	if !checked.OutputType().IsExactType(types.BoolType) {
		d.errorAt(m.at(1, 0), "%s: the condition must be true or false, but it is of type %s", path, checked.OutputType())
		return
	}
	bad := false
	native := checked.NativeRep()
	at := func(e ast.Expr) Pos {
		r, _ := native.SourceInfo().GetOffsetRange(e.ID())
		return m.offset(int(r.Start))
	}
	// literal is the string constant e, if it is one.
	literal := func(e ast.Expr) (string, bool) {
		if e.Kind() != ast.LiteralKind {
			return "", false
		}
		s, ok := e.AsLiteral().(types.String)
		return string(s), ok
	}
	// name records a detector ID or a class a condition compares findings with: a class is
	// checked here, a detector once every rule file is in (see Options.Detectors). A typo there
	// would make the condition silently false for every flow.
	name := func(kind string, e ast.Expr) {
		s, ok := literal(e)
		if !ok {
			return
		}
		if kind == "class" {
			if !contains(classes, s) {
				msg := fmt.Sprintf("%s: unknown class %q", path, s)
				if c := closest(s, classes); c != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", c)
				} else {
					msg += "; the classes are " + strings.Join(classes, ", ")
				}
				d.errorAt(at(e), "%s", msg)
				bad = true
			}
			return
		}
		p.detectorRefs = append(p.detectorRefs, nameRef{name: s, path: path, pos: at(e)})
	}
	// field is "class" or "detector" when e reads that field of a finding (f.class).
	field := func(e ast.Expr) string {
		if e.Kind() != ast.SelectKind {
			return ""
		}
		switch f := e.AsSelect().FieldName(); f {
		case "class", "detector":
			return f
		}
		return ""
	}
	// param records a key a condition reads from api.params as a literal: a key outside the
	// vocabulary is "" for every flow, which a typo should not silently mean.
	param := func(key string, pos Pos) {
		if slices.Contains(flow.ParamKeys, key) {
			return
		}
		msg := fmt.Sprintf("%s: unknown parameter %q in api.params", path, key)
		if c := closest(key, flow.ParamKeys); c != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", c)
		} else {
			msg += "; the parameters are " + strings.Join(flow.ParamKeys, ", ")
		}
		d.errorAt(pos, "%s", msg)
		bad = true
	}
	// always reports a presence test of api.params, true for every flow since the map holds
	// every parameter.
	always := func(key string, pos Pos) {
		d.errorAt(pos, "%s: this is true for every flow: api.params holds every parameter, \"\" where the request did not set it; write api.params[%q] != \"\"", path, key)
		bad = true
	}
	isParams := func(e ast.Expr) bool { return e.Kind() == ast.IdentKind && e.AsIdent() == "api.params" }
	ast.PostOrderVisit(native.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		switch e.Kind() {
		case ast.IdentKind:
			if e.AsIdent() == "api.served_model" {
				p.readsServed = true
			}
			return
		case ast.SelectKind:
			// api.params.store: the field name is the key.
			if sel := e.AsSelect(); isParams(sel.Operand()) {
				param(sel.FieldName(), at(e))
				if sel.IsTestOnly() && slices.Contains(flow.ParamKeys, sel.FieldName()) {
					always(sel.FieldName(), at(e))
				}
			}
			return
		case ast.CallKind:
		default:
			return
		}
		call := e.AsCall()
		args := call.Args()
		var check func(string) error
		switch call.FunctionName() {
		case operators.Index, operators.OptIndex, operators.OptSelect:
			if s, ok := literal(args[1]); len(args) == 2 && isParams(args[0]) && ok {
				param(s, at(args[1]))
			}
			return
		case "has_class", "has_detector":
			if len(args) == 1 {
				name(strings.TrimPrefix(call.FunctionName(), "has_"), args[0])
			}
			return
		case operators.Equals, operators.NotEquals:
			if len(args) == 2 {
				if f := field(args[0]); f != "" {
					name(f, args[1])
				} else if f := field(args[1]); f != "" {
					name(f, args[0])
				}
			}
			return
		case operators.In:
			if len(args) == 2 && isParams(args[1]) {
				if s, ok := literal(args[0]); ok {
					param(s, at(args[0]))
					if slices.Contains(flow.ParamKeys, s) {
						always(s, at(args[0]))
					}
				}
				return
			}
			if f := field(args[0]); len(args) == 2 && f != "" && args[1].Kind() == ast.ListKind {
				for _, el := range args[1].AsList().Elements() {
					name(f, el)
				}
			}
			return
		case "in_cidr":
			check = func(s string) error { _, err := parsePrefix(s); return err }
		case "host_matches":
			check = checkHostPattern
		default:
			return
		}
		if len(args) != 2 {
			return
		}
		s, ok := literal(args[1])
		if !ok {
			return
		}
		if err := check(s); err != nil {
			d.errorAt(at(args[1]), "%s: %s: %v", path, call.FunctionName(), err)
			bad = true
		}
	}))
	if bad {
		return
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize), cel.InterruptCheckFrequency(interruptEvery)}
	guarded, err := env.Program(checked, append(opts, cel.CostLimit(costLimit))...)
	if err != nil {
		d.errorf(n, "%s: %v", path, err)
		return
	}
	p.guarded = guarded
	if est, err := env.EstimateCost(checked, envelope{}); err == nil && est.Max <= costLimit {
		if fast, err := env.Program(checked, opts...); err == nil {
			p.fast = fast
		}
	}
}

// noFieldOnString is the checker's message for a field of a string: api.modle, say.
const noFieldOnString = "type 'string' does not support field selection"

var (
	apiBefore  = regexp.MustCompile(`(^|[^\w.])api\s*$`)
	fieldAfter = regexp.MustCompile(`^\s*(\w*)`)
)

// apiFieldMessage rewords noFieldOnString when the string is api, whose fields are declared
// one by one: the checker then names neither api nor the field.
func apiFieldMessage(expr string, line, col int, msg string) string {
	lines := strings.Split(expr, "\n")
	if line < 1 || line > len(lines) {
		return msg
	}
	l := []rune(lines[line-1])
	if col < 0 || col >= len(l) || l[col] != '.' {
		return msg
	}
	before, after := string(l[:col]), string(l[col+1:])
	if !apiBefore.MatchString(before) {
		return msg
	}
	field := fieldAfter.FindStringSubmatch(after)[1]
	msg = fmt.Sprintf("api has no field %q: api is the API's name, a string (api == \"openai.chat\"), with the fields api.%s", field, strings.Join(apiFields, ", api."))
	if c := closest(field, apiFields); c != "" {
		msg += fmt.Sprintf(" (did you mean api.%s?)", c)
	}
	return msg
}

var (
	undeclared = regexp.MustCompile(`^undeclared reference to '([^']*)' \(in container ''\)$`)
	undefField = regexp.MustCompile(`^undefined field '([^']*)'$`)
)

// celMessage rewords CEL's messages where a hint helps: a misspelt variable, function or field.
func celMessage(msg string) string {
	if m := undeclared.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("undeclared reference to %q", m[1])
		if s := closest(m[1], append(append([]string{}, variables...), functions...)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += "; the variables are " + strings.Join(variables, ", ")
		}
		return msg
	}
	if m := undefField.FindStringSubmatch(msg); m != nil {
		var all []string
		for _, t := range []*objType{vendorType, requestType, clientType, findingType, flowType} {
			all = append(all, t.fields...)
		}
		msg = fmt.Sprintf("undefined field %q", m[1])
		if s := closest(m[1], all); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	return msg
}

// exprMap maps places in a condition (CEL's line and column, or a character offset) to the
// file, through the YAML scalar that holds the condition: plain or quoted, on one line or
// several, or a | or > block.
type exprMap struct {
	pos        []Pos // of each character of the value, then of its end
	lineStarts []int // character offset of each line of the value
	fallback   Pos
}

func (m exprMap) offset(off int) Pos {
	if off >= 0 && off < len(m.pos) {
		return m.pos[off]
	}
	return m.fallback
}

// at takes CEL's 1-based line and 0-based column.
func (m exprMap) at(line, col int) Pos {
	if line < 1 || line > len(m.lineStarts) {
		return m.fallback
	}
	return m.offset(m.lineStarts[line-1] + col)
}

type srcRune struct {
	r   rune
	pos Pos
}

func (d *decoder) exprMap(n *yaml.Node) exprMap {
	value := []rune(n.Value)
	m := exprMap{pos: make([]Pos, len(value)+1), lineStarts: []int{0}, fallback: d.pos(n)}
	for i, r := range value {
		if r == '\n' {
			m.lineStarts = append(m.lineStarts, i+1)
		}
	}
	lines := strings.Split(string(d.src), "\n")
	var stream []srcRune
	add := func(line int, text string, col int) {
		for _, r := range strings.TrimSuffix(text, "\r") {
			stream = append(stream, srcRune{r, Pos{d.file, line, col}})
			col++
		}
		stream = append(stream, srcRune{'\n', Pos{d.file, line, col}})
	}
	if n.Line < 1 || n.Line > len(lines) {
		return m.filled(0)
	}
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The content starts on the line after the indicator, at the indentation of its first
		// non-blank line; what lies left of that is indentation, not value.
		indent := -1
		for i := n.Line; i < len(lines); i++ {
			l := strings.TrimRight(lines[i], "\r")
			if strings.TrimSpace(l) == "" {
				add(i+1, "", 1)
				continue
			}
			ws := len(l) - len(strings.TrimLeft(l, " "))
			if indent < 0 {
				indent = ws
			}
			if ws < indent {
				break
			}
			add(i+1, l[indent:], indent+1)
		}
	default:
		first := []rune(strings.TrimRight(lines[n.Line-1], "\r"))
		col := n.Column
		if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
			col++ // past the opening quote
		}
		if col-1 > len(first) {
			return m.filled(0)
		}
		add(n.Line, string(first[col-1:]), col)
		for i := n.Line; i < len(lines) && len(stream) < 4*len(value)+1024; i++ {
			add(i+1, lines[i], 1)
		}
	}
	// Walk the value and the source together: a source character equal to the value's maps to
	// it; a line break maps to the space that folding made of it; a double-quoted escape maps
	// to the one character it stands for; anything else in the source (indentation, a doubled
	// single quote, a line break folding dropped) is skipped.
	vi, si := 0, 0
	double := n.Style&yaml.DoubleQuotedStyle != 0
	for vi < len(value) && si < len(stream) {
		s := stream[si]
		if double && s.r == '\\' && si+1 < len(stream) {
			next := stream[si+1].r
			if next == '\n' {
				si += 2
				continue
			}
			width := 2
			switch next {
			case 'x':
				width = 4
			case 'u':
				width = 6
			case 'U':
				width = 10
			}
			m.pos[vi] = s.pos
			vi, si = vi+1, si+width
			continue
		}
		if s.r == value[vi] || (s.r == '\n' && value[vi] == ' ') {
			m.pos[vi] = s.pos
			vi++
		}
		si++
	}
	if vi == len(value) && vi > 0 {
		// The end of the condition, where CEL reports what is missing, is just past its last
		// character.
		end := m.pos[vi-1]
		end.Col++
		m.pos[vi] = end
		vi++
	}
	return m.filled(vi)
}

// filled gives the characters the walk could not place the position of the last one it did
// (or of the scalar), so that no error goes without a line.
func (m exprMap) filled(from int) exprMap {
	last := m.fallback
	if from > 0 {
		last = m.pos[from-1]
	}
	for i := from; i < len(m.pos); i++ {
		m.pos[i] = last
	}
	return m
}
