package catalog

import (
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/customs-dev/customs/internal/suggest"
)

// ExtensionError is one problem with an operator's vendor, placed by the vendor's index in the
// slice given to Extend and the field at fault, so that a caller holding the source file can
// point at the line.
type ExtensionError struct {
	Index int    // index of the vendor in Extend's ext
	Field string // "id", "name", "category", "subcategory", "country", "hosts" or "hosts[N]"
	Msg   string
	// First is, for a repeated id, the index of the vendor that gave it first; otherwise -1.
	First int
}

func (e *ExtensionError) Error() string {
	msg := fmt.Sprintf("catalog: vendor extension %d: %s: %s", e.Index, e.Field, e.Msg)
	if e.First >= 0 {
		msg += fmt.Sprintf(" (first given by extension %d)", e.First)
	}
	return msg
}

// ExtensionErrors is every problem Extend found, in the order of ext and of each vendor's fields.
type ExtensionErrors []*ExtensionError

func (es ExtensionErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es ExtensionErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// Extend returns base with the operator's vendors ext applied; base is not changed. A vendor
// whose ID base knows is extended: its hosts are added and the scalar fields given (Name,
// Category, Subcategory, Country, JurisdictionNotes, Auth) replace base's. Any other vendor is
// new and needs Name, Category, Country and at least one host.
//
// A host with an empty Match is read from its Pattern: a host name for an exact host, or
// "*.example.com" for one or more labels before example.com. Such hosts are marked unverified,
// with evidence "operator". A host may belong to one vendor only: an operator host that another
// vendor (built-in or operator) already claims, or whose pattern overlaps another vendor's, is
// an error, since Lookup could then answer either. Repeating a vendor's own host is harmless and
// ignored.
//
// Problems are returned together as ExtensionErrors.
func Extend(base *Catalog, ext []Vendor) (*Catalog, error) {
	x := extender{base: base, firstIndex: make(map[string]int), exact: make(map[string]string)}
	merged := make([]Vendor, 0, len(base.vendors)+len(ext))
	at := make(map[string]int, len(base.vendors)) // index in merged
	for _, v := range base.vendors {
		at[v.ID] = len(merged)
		merged = append(merged, *v)
	}
	for i := range ext {
		v, ok := x.check(i, &ext[i])
		if !ok {
			continue
		}
		if j, known := at[v.ID]; known {
			merged[j] = override(merged[j], v)
		} else {
			at[v.ID] = len(merged)
			merged = append(merged, v)
		}
	}
	if len(x.errs) > 0 {
		return nil, x.errs
	}
	c, err := New(merged, base.relationships...)
	if err != nil {
		// The checks above should leave nothing for New to find; if they missed a case, the
		// operator still gets the reason, without a position.
		return nil, fmt.Errorf("catalog: extend: %w", err)
	}
	return c, nil
}

// override applies an extension to a copy of a built-in vendor.
func override(v, ext Vendor) Vendor {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&v.Name, ext.Name}, {&v.Category, ext.Category}, {&v.Subcategory, ext.Subcategory},
		{&v.JurisdictionNotes, ext.JurisdictionNotes}, {&v.Auth, ext.Auth},
	} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	if ext.Country != "" && ext.Country != v.Country {
		// The reference's verified flag and note were about the old value.
		v.Country, v.HeadquartersVerified, v.HeadquartersNote = ext.Country, false, "set by the operator"
	}
	v.Hosts = slices.Concat(v.Hosts, ext.Hosts)
	return v
}

// extender checks operator vendors one at a time against base and the operator vendors before.
type extender struct {
	base       *Catalog
	errs       ExtensionErrors
	firstIndex map[string]int    // operator vendor ID -> index of its entry
	exact      map[string]string // operator exact host -> vendor ID
	patterns   []claim           // operator pattern hosts
}

// claim is an operator pattern host and its vendor.
type claim struct {
	id string
	g  gate
}

func (x *extender) fail(i int, field, format string, args ...any) {
	x.errs = append(x.errs, &ExtensionError{Index: i, Field: field, Msg: fmt.Sprintf(format, args...), First: -1})
}

// check validates ext[i] and returns it with its hosts parsed and deduplicated; ok is false when
// its ID is unusable.
func (x *extender) check(i int, in *Vendor) (Vendor, bool) {
	v := *in
	v.Hosts = nil
	switch first, dup := x.firstIndex[v.ID]; {
	case v.ID == "":
		x.fail(i, "id", "is required")
		return v, false
	case !validID(v.ID):
		x.fail(i, "id", "%q must be lower-case letters, digits, '-' and '.'", v.ID)
		return v, false
	case dup:
		x.errs = append(x.errs, &ExtensionError{Index: i, Field: "id", Msg: fmt.Sprintf("duplicate vendor %q", v.ID), First: first})
		return v, false
	}
	x.firstIndex[v.ID] = i
	existing, known := x.base.byID[v.ID]

	if !known {
		missing := v.Name == "" && v.Category == "" && v.Country == ""
		if s := x.base.Suggest(v.ID); missing && s != "" {
			// Most likely meant to extend s: one error on the ID says more than three on
			// fields the operator never meant to give.
			x.fail(i, "id", "unknown vendor %q (did you mean %q?); a new vendor needs name, category and country", v.ID, s)
		} else {
			for _, f := range []struct{ name, val string }{{"name", v.Name}, {"category", v.Category}, {"country", v.Country}} {
				if f.val == "" {
					x.fail(i, f.name, "is required for a new vendor (%q is not in the catalog)", v.ID)
				}
			}
		}
		if len(in.Hosts) == 0 {
			x.fail(i, "hosts", "a new vendor needs at least one host")
		}
	}
	if v.Category != "" {
		if _, ok := categories[v.Category]; !ok {
			msg := fmt.Sprintf("unknown category %q", v.Category)
			if s := closest(v.Category, Categories()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			x.fail(i, "category", "%s; want one of %s", msg, strings.Join(Categories(), ", "))
		}
	}
	if v.Subcategory != "" && !validID(v.Subcategory) {
		x.fail(i, "subcategory", "%q must be lower-case letters, digits, '-' and '.'", v.Subcategory)
	}
	if v.Country != "" {
		if err := checkCountry(v.Country); err != nil {
			x.fail(i, "country", "%v", err)
		}
	}

	var own []Host // the vendor's hosts so far, to drop repeats
	if known {
		own = slices.Clone(existing.Hosts)
	}
	for k, h := range in.Hosts {
		field := fmt.Sprintf("hosts[%d]", k)
		h, g, err := parseHost(h)
		if err != nil {
			x.fail(i, field, "%v", err)
			continue
		}
		if slices.ContainsFunc(own, func(o Host) bool { return o.Pattern == h.Pattern || (o.Regex != "" && o.Regex == h.Regex) }) {
			continue
		}
		if owner, witness := x.claimedBy(v.ID, h, g); owner != "" {
			if witness == h.Pattern {
				x.fail(i, field, "host %q already belongs to vendor %q", h.Pattern, owner)
			} else {
				x.fail(i, field, "host pattern %q overlaps vendor %q (both match %q)", h.Pattern, owner, witness)
			}
			continue
		}
		own = append(own, h)
		v.Hosts = append(v.Hosts, h)
		if g.re == nil {
			x.exact[h.Pattern] = v.ID
		} else {
			x.patterns = append(x.patterns, claim{id: v.ID, g: g})
		}
	}
	return v, true
}

// parseHost completes an operator host: one with no Match is read from its Pattern. The gate is
// zero for an exact host.
func parseHost(h Host) (Host, gate, error) {
	if h.Match == "" {
		var err error
		if h, err = hostFromPattern(h.Pattern); err != nil {
			return h, gate{}, err
		}
	}
	switch h.Match {
	case MatchExact:
		if err := checkHostName(h.Pattern); err != nil {
			return h, gate{}, fmt.Errorf("invalid host %q: %v", h.Pattern, err)
		}
		return h, gate{}, nil
	case MatchWildcard, MatchTemplate:
		g, err := compile(h.Regex)
		if err != nil {
			return h, gate{}, fmt.Errorf("host %q: %v", h.Pattern, err)
		}
		return h, g, nil
	}
	return h, gate{}, fmt.Errorf("host %q: match %q is not exact, wildcard or template", h.Pattern, h.Match)
}

// hostFromPattern reads "api.example.com" or "*.example.com" as the operator writes them in a
// config file. Case and one trailing dot are dropped, as Lookup drops them from the hosts it is
// asked about.
func hostFromPattern(p string) (Host, error) {
	host := strings.TrimSuffix(lowerASCII(p), ".")
	h := Host{Pattern: host, Match: MatchExact, Role: "added by the operator", Evidence: EvidenceOperator}
	suffix, wild := strings.CutPrefix(host, "*.")
	switch {
	case host == "":
		return h, fmt.Errorf("empty host")
	case strings.ContainsAny(host, ":/"):
		return h, fmt.Errorf("invalid host %q: want a host name without scheme, port or path", p)
	case strings.Contains(suffix, "*"):
		return h, fmt.Errorf("invalid host %q: a wildcard is only allowed as a whole first label, as in \"*.example.com\"", p)
	case wild && !strings.Contains(suffix, "."):
		// "*.com" would claim a whole top-level domain, and could not be filed by its last two
		// labels, which would cost every lookup a regex.
		return h, fmt.Errorf("invalid host %q: a wildcard needs at least two labels after \"*.\", as in \"*.example.com\"", p)
	}
	if err := checkHostName(suffix); err != nil {
		return h, fmt.Errorf("invalid host %q: %v", p, err)
	}
	if wild {
		h.Match = MatchWildcard
		h.Regex = `^([a-z0-9-]+\.)+` + regexp.QuoteMeta(suffix) + `$`
	}
	return h, nil
}

// claimedBy returns the vendor other than id that already claims host h (with gate g when h is
// a pattern), and a host both would match.
func (x *extender) claimedBy(id string, h Host, g gate) (owner, witness string) {
	if g.re == nil {
		if v, ok := x.base.Lookup(h.Pattern); ok && v.ID != id {
			return v.ID, h.Pattern
		}
		if o, ok := x.exact[h.Pattern]; ok && o != id {
			return o, h.Pattern
		}
		for _, c := range x.patterns {
			if c.id != id && c.g.re.MatchString(h.Pattern) {
				return c.id, h.Pattern
			}
		}
		return "", ""
	}
	for _, v := range x.base.vendors {
		if v.ID == id {
			continue
		}
		for _, bh := range v.Hosts {
			if bh.Match == MatchExact && g.re.MatchString(bh.Pattern) {
				return v.ID, bh.Pattern
			}
		}
	}
	for _, p := range x.base.patterns {
		if p.vendor.ID == id {
			continue
		}
		if w, ok := overlap(g, p, samples(g.re), samples(p.re)); ok {
			return p.vendor.ID, w
		}
	}
	for _, host := range slices.Sorted(maps.Keys(x.exact)) {
		if o := x.exact[host]; o != id && g.re.MatchString(host) {
			return o, host
		}
	}
	for _, c := range x.patterns {
		if c.id == id {
			continue
		}
		if w, ok := overlap(g, c.g, samples(g.re), samples(c.g.re)); ok {
			return c.id, w
		}
	}
	return "", ""
}

// overlap reports a host that both pattern hosts match, if it finds one among the samples of
// each (from samples). An overlap it reports is real; one it misses needs a host that the
// enumeration of samples does not produce.
func overlap(a, b gate, sa, sb []string) (string, bool) {
	if a.re.String() == b.re.String() {
		if len(sa) > 0 {
			return sa[0], true
		}
		return "", true
	}
	for _, s := range sa {
		if b.re.MatchString(s) {
			return s, true
		}
	}
	for _, s := range sb {
		if a.re.MatchString(s) {
			return s, true
		}
	}
	return "", false
}

// maxSamples bounds the sample hosts of one regex: alternations and optional parts multiply.
const maxSamples = 64

// samples returns strings that re matches: every alternative, and each optional or repeated part
// both absent and present once. Classes contribute one character, a letter where they allow one.
func samples(re *regexp.Regexp) []string {
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range sampleSet(parsed.Simplify()) {
		if re.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}

func sampleSet(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}
	case syntax.OpCharClass:
		return []string{string(classSample(re.Rune))}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return []string{"a"}
	case syntax.OpCapture:
		return sampleSet(re.Sub[0])
	case syntax.OpQuest, syntax.OpStar:
		return append([]string{""}, sampleSet(re.Sub[0])...)
	case syntax.OpPlus:
		return sampleSet(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			out = append(out, sampleSet(sub)...)
		}
		return capSamples(out)
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			var next []string
			for _, tail := range sampleSet(sub) {
				for _, head := range out {
					next = append(next, head+tail)
				}
			}
			out = capSamples(next)
		}
		return out
	}
	// Anchors, word boundaries and empty matches add no characters.
	return []string{""}
}

func capSamples(s []string) []string {
	if len(s) > maxSamples {
		return s[:maxSamples]
	}
	return s
}

// classSample picks a character of a class given as rune ranges: a lower-case letter, else a
// digit, else the first character. Host names are mostly letters, so a letter is likeliest to
// lead to a host the other regex accepts too.
func classSample(ranges []rune) rune {
	if len(ranges) == 0 {
		return 'a'
	}
	for _, want := range [][2]rune{{'a', 'z'}, {'0', '9'}} {
		for i := 0; i+1 < len(ranges); i += 2 {
			if lo, hi := ranges[i], ranges[i+1]; lo <= want[1] && hi >= want[0] {
				return max(lo, want[0])
			}
		}
	}
	return ranges[0]
}

// Suggest returns the catalog vendor ID that id most likely meant, or "" when none is close: the
// ID in lower case, one within two edits, else the only vendor whose ID or name contains it.
func (c *Catalog) Suggest(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if _, ok := c.byID[id]; ok {
		return id
	}
	// Two letters are within two edits of too much to mean anything.
	if len(id) < 3 {
		return ""
	}
	ids := make([]string, len(c.vendors))
	for i, v := range c.vendors {
		ids[i] = v.ID
	}
	if s := closest(id, ids); s != "" {
		return s
	}
	for _, in := range []func(*Vendor) string{
		func(v *Vendor) string { return v.ID },
		func(v *Vendor) string { return strings.ToLower(v.Name) },
	} {
		var found []string
		for _, v := range c.vendors {
			if strings.Contains(in(v), id) {
				found = append(found, v.ID)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
	}
	return ""
}

// closest returns the candidate other than s itself within edit distance 2 of s (and closer than
// its own length), preferring the nearest and then the first.
func closest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := suggest.Distance(s, c); d < bestDist && d < len(c) && d > 0 {
			best, bestDist = c, d
		}
	}
	return best
}
