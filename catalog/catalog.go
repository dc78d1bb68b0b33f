// Package catalog maps request hosts to the vendors behind them: AI providers and platforms, AI
// tools, and the analytics and telemetry services in their supply chain. The built-in catalog is
// vendors.json, generated from the project's vendor reference and embedded in the binary.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Host is one host pattern a vendor serves.
type Host struct {
	Pattern string `json:"pattern"` // the host itself for exact hosts, else a readable pattern
	Match   string `json:"match"`   // exact, wildcard or template
	Regex   string `json:"regex,omitempty"`
}

// Vendor is one company and the hosts it receives traffic on. Vendors returned by a Catalog are
// shared: callers must not modify them.
type Vendor struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Country  string `json:"headquarters"` // ISO 3166-1 alpha-2 code of the head office
	Hosts    []Host `json:"hosts"`
}

// Match kinds of a Host.
const (
	MatchExact    = "exact"
	MatchWildcard = "wildcard"
	MatchTemplate = "template"
)

var categories = map[string]bool{
	"ai-provider":        true,
	"ai-platform":        true,
	"ai-tool":            true,
	"analytics":          false,
	"error-tracking":     false,
	"observability":      false,
	"feature-flags":      false,
	"session-replay":     false,
	"customer-messaging": false,
}

// IsAI reports whether category is one of the AI categories (ai-provider, ai-platform, ai-tool).
func IsAI(category string) bool {
	return categories[category]
}

// Catalog answers which vendor a host belongs to. It is immutable and safe for concurrent use.
type Catalog struct {
	vendors []*Vendor          // sorted by ID
	exact   map[string]*Vendor // exact hosts
	// Pattern hosts, filed under the last two labels that every host they match ends with, so
	// that a host outside the catalog runs no regex at all.
	gated map[string][]gate
	// Pattern hosts whose regex does not pin the last two labels; every lookup that misses the
	// maps scans these. The built-in catalog has none (a test keeps it so).
	ungated []gate
}

// gate is one pattern host with the literal suffixes a host must end with to be worth matching.
type gate struct {
	suffixes []string
	re       *regexp.Regexp
	vendor   *Vendor
}

func (g *gate) match(host string) bool {
	for _, s := range g.suffixes {
		if strings.HasSuffix(host, s) {
			return g.re.MatchString(host)
		}
	}
	return false
}

//go:embed vendors.json
var builtinJSON []byte

// file is the layout of vendors.json.
type file struct {
	SchemaVersion int      `json:"schema_version"`
	CompiledOn    string   `json:"compiled_on"`
	Vendors       []Vendor `json:"vendors"`
}

var builtin = sync.OnceValues(func() (*Catalog, error) {
	c, err := parse(builtinJSON)
	if err != nil {
		return nil, fmt.Errorf("built-in catalog: %w", err)
	}
	return c, nil
})

// Builtin returns the catalog embedded in the binary, parsed and compiled on first use. An error
// means vendors.json is broken, which the package tests catch before a release.
func Builtin() (*Catalog, error) {
	return builtin()
}

func parse(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	// A misspelt key would otherwise drop a field silently, such as the regex of a wildcard host.
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode vendors.json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode vendors.json: data after the top-level object")
	}
	if f.SchemaVersion != 1 {
		return nil, fmt.Errorf("vendors.json: schema_version %d, want 1", f.SchemaVersion)
	}
	return New(f.Vendors)
}

// New builds a catalog from vendors, which it copies. It reports every problem it finds at once:
// an ID that is empty, not lower case or repeated; an unknown category; a headquarters that is
// not a two-letter upper-case country code; an exact host that is not a plain lower-case host
// name; a pattern host whose regex is missing, does not compile or is not anchored with ^ and $;
// and a host claimed by two vendors.
func New(vendors []Vendor) (*Catalog, error) {
	c := &Catalog{
		exact: make(map[string]*Vendor),
		gated: make(map[string][]gate),
	}
	var errs []error
	fail := func(v *Vendor, h *Host, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if h != nil {
			msg = fmt.Sprintf("host %q: %s", h.Pattern, msg)
		}
		errs = append(errs, fmt.Errorf("catalog: vendor %q: %s", v.ID, msg))
	}

	ids := make(map[string]bool, len(vendors))
	var gates []gate
	for i := range vendors {
		v := vendors[i]
		v.Hosts = slices.Clone(v.Hosts)
		vp := &v
		switch {
		case v.ID == "":
			fail(vp, nil, "empty id")
		case !validID(v.ID):
			fail(vp, nil, "id must be lower-case letters, digits, '-' and '.'")
		case ids[v.ID]:
			fail(vp, nil, "duplicate id")
		}
		ids[v.ID] = true
		if v.Name == "" {
			fail(vp, nil, "empty name")
		}
		if _, ok := categories[v.Category]; !ok {
			fail(vp, nil, "unknown category %q", v.Category)
		}
		if !validCountry(v.Country) {
			fail(vp, nil, "headquarters %q is not a two-letter upper-case country code", v.Country)
		}
		for j := range v.Hosts {
			h := &v.Hosts[j]
			switch h.Match {
			case MatchExact:
				if h.Regex != "" {
					fail(vp, h, "exact host has a regex")
				}
				if !validHost(h.Pattern) {
					fail(vp, h, "exact host must be a lower-case host name without port or trailing dot")
					continue
				}
				if other, ok := c.exact[h.Pattern]; ok {
					fail(vp, h, "also claimed by vendor %q", other.ID)
					continue
				}
				c.exact[h.Pattern] = vp
			case MatchWildcard, MatchTemplate:
				g, err := compile(h.Regex)
				if err != nil {
					fail(vp, h, "%v", err)
					continue
				}
				g.vendor = vp
				gates = append(gates, g)
			default:
				fail(vp, h, "match %q is not exact, wildcard or template", h.Match)
			}
		}
		c.vendors = append(c.vendors, vp)
	}

	// A host claimed by two vendors would be attributed by map or slice order. Exact hosts are
	// checked against every other vendor's regex, and regexes against each other by source text;
	// two different regexes that overlap are not detected.
	seen := make(map[string]*Vendor)
	for _, g := range gates {
		src := g.re.String()
		if other, ok := seen[src]; ok && other != g.vendor {
			fail(g.vendor, nil, "regex %q also claimed by vendor %q", src, other.ID)
		}
		seen[src] = g.vendor
		for host, v := range c.exact {
			if v != g.vendor && g.re.MatchString(host) {
				fail(g.vendor, nil, "regex %q also matches host %q of vendor %q", src, host, v.ID)
			}
		}
	}
	if len(errs) > 0 {
		// Sorted so that the report does not depend on map order.
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(errs...)
	}

	slices.SortFunc(c.vendors, func(a, b *Vendor) int { return strings.Compare(a.ID, b.ID) })
	for _, g := range gates {
		c.file(g)
	}
	return c, nil
}

// file indexes g under the last two labels its suffixes pin down, or among the ungated gates when
// one of them does not pin any.
func (c *Catalog) file(g gate) {
	keys := make(map[string][]string)
	for _, s := range g.suffixes {
		key, ok := keyOf(s)
		if !ok {
			c.ungated = append(c.ungated, g)
			return
		}
		keys[key] = append(keys[key], strings.TrimPrefix(s, "^"))
	}
	// Sorted so that the order gates are tried in does not depend on map order.
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		c.gated[key] = append(c.gated[key], gate{suffixes: minimal(keys[key]), re: g.re, vendor: g.vendor})
	}
}

// keyOf returns the last two labels of every host that ends with suffix, if suffix fixes them: a
// suffix with two dots contains them whole; one anchored at the start ("^...") is the host itself.
func keyOf(suffix string) (string, bool) {
	if host, ok := strings.CutPrefix(suffix, "^"); ok {
		return lastTwoLabels(host), true
	}
	if strings.Count(suffix, ".") < 2 {
		return "", false
	}
	return lastTwoLabels(suffix), true
}

func lastTwoLabels(host string) string {
	i := strings.LastIndexByte(host, '.')
	if i < 0 {
		return host
	}
	return host[strings.LastIndexByte(host[:i], '.')+1:]
}

// Lookup returns the vendor that host belongs to. host may carry a port, upper case or a trailing
// dot, as Host headers and SNI values do.
func (c *Catalog) Lookup(host string) (*Vendor, bool) {
	host = Normalize(host)
	if host == "" {
		return nil, false
	}
	if v, ok := c.exact[host]; ok {
		return v, true
	}
	gates := c.gated[lastTwoLabels(host)]
	for i := range gates {
		if gates[i].match(host) {
			return gates[i].vendor, true
		}
	}
	for i := range c.ungated {
		if c.ungated[i].match(host) {
			return c.ungated[i].vendor, true
		}
	}
	return nil, false
}

// Vendors returns every vendor, sorted by ID.
func (c *Catalog) Vendors() []*Vendor {
	return slices.Clone(c.vendors)
}

// Normalize returns host as the catalog stores hosts: without a port, brackets or one trailing
// dot, in lower case. Only ASCII is lowered: Unicode case folding maps some non-ASCII letters to
// ASCII ones (the Kelvin sign to k), which would let a host that no DNS name matches pass for a
// catalogued one.
func Normalize(host string) string {
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			host = host[1:end]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		// One colon is a port; more are a bare IPv6 address.
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	for i := 0; i < len(host); i++ {
		if 'A' <= host[i] && host[i] <= 'Z' {
			return lowerASCII(host)
		}
	}
	return host
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func validID(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return id != ""
}

func validCountry(cc string) bool {
	return len(cc) == 2 && 'A' <= cc[0] && cc[0] <= 'Z' && 'A' <= cc[1] && cc[1] <= 'Z'
}

func validHost(h string) bool {
	if h == "" || h[0] == '.' || h[len(h)-1] == '.' || strings.Contains(h, "..") {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
