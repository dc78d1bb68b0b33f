// Package catalog maps request hosts to the vendors behind them: AI providers and platforms, AI
// tools, SaaS with AI features, LLM-observability services, and the analytics and telemetry
// services in their supply chain. The built-in catalog is vendors.json, embedded in the binary:
// the project's vendor reference (vendors.yaml) in the same shape, and the vendors issue 13 added,
// researched and marked the same way (verified only where the vendor's own material was read).
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Host is one host pattern a vendor serves.
type Host struct {
	Pattern  string `json:"pattern"` // the host itself for exact hosts, else a readable pattern
	Match    string `json:"match"`   // exact, wildcard or template
	Regex    string `json:"regex,omitempty"`
	Role     string `json:"role,omitempty"` // what the vendor uses the host for
	Verified bool   `json:"verified"`
	Evidence string `json:"evidence,omitempty"`
}

// Vendor is one company, the hosts it receives traffic on, where prompts travel in its API and
// whom it passes data to. Vendors returned by a Catalog are shared: callers must not modify them.
type Vendor struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Category    string `json:"category"`
	Subcategory string `json:"subcategory,omitempty"` // model-developer, inference-host, router
	// Country is the ISO 3166-1 alpha-2 code of the operating company's head office.
	Country              string `json:"headquarters"`
	HeadquartersVerified bool   `json:"headquarters_verified"`
	HeadquartersNote     string `json:"headquarters_note,omitempty"` // where the headquarters claim comes from
	JurisdictionNotes    string `json:"jurisdiction_notes,omitempty"`
	Auth                 string `json:"auth,omitempty"` // how clients authenticate, e.g. "header: x-api-key: <key>"
	// AuthVerified is set only where the reference says whether Auth was checked.
	AuthVerified          *bool          `json:"auth_verified,omitempty"`
	AppAttributionHeaders []string       `json:"app_attribution_headers,omitempty"` // optional headers naming the calling app
	Transport             string         `json:"transport,omitempty"`               // wire-level notes (HTTP/2, protobuf bodies)
	Hosts                 []Host         `json:"hosts"`
	IPRanges              *IPRanges      `json:"ip_ranges,omitempty"`
	Endpoints             []Endpoint     `json:"endpoints,omitempty"`
	Subprocessors         *Subprocessors `json:"subprocessors,omitempty"` // nil: not looked up
	Sources               []Source       `json:"sources,omitempty"`
}

// IPRanges are the address ranges a vendor publishes for its API.
type IPRanges struct {
	Inbound           []string `json:"inbound,omitempty"`             // where clients connect to
	OutboundToolCalls []string `json:"outbound_tool_calls,omitempty"` // where the vendor's tool calls come from
	Verified          bool     `json:"verified"`
	Source            string   `json:"source,omitempty"`
}

// Endpoint is one API or ingestion endpoint and where the text worth inspecting sits in its
// requests. Field paths are dotted JSON paths: "[]" is every element of an array, "(type=x)"
// restricts to elements whose type is x, and a "query:", "form:", "multipart:" or "header:"
// prefix names a query parameter, form field, multipart part or header.
type Endpoint struct {
	Method string `json:"method"` // an HTTP method; a WebSocket is its GET upgrade
	// Path may hold {placeholders}, a query, or a description in parentheses where the vendor
	// documents none.
	Path         string   `json:"path"`
	Host         string   `json:"host,omitempty"` // set when only one of the vendor's hosts serves it
	ContentType  string   `json:"content_type,omitempty"`
	PromptFields []string `json:"prompt_fields,omitempty"` // prompt text
	// CompletionFields hold the model's answer where a request carries it: the traces and logs
	// that LLM-observability services ingest send the completion along with the prompt.
	CompletionFields []string `json:"completion_fields,omitempty"`
	FileFields       []string `json:"file_fields,omitempty"`     // uploaded files, images, audio
	IdentityFields   []string `json:"identity_fields,omitempty"` // who the event is about (analytics)
	Encoding         string   `json:"encoding,omitempty"`        // how an ingestion body is encoded
	Notes            string   `json:"notes,omitempty"`
	Verified         bool     `json:"verified"`
	Evidence         string   `json:"evidence,omitempty"`
}

// Subprocessors is what a vendor's published sub-processor list says.
type Subprocessors struct {
	Source      string         `json:"source,omitempty"` // URL of the list
	VersionSeen string         `json:"version_seen,omitempty"`
	Entries     []Subprocessor `json:"entries,omitempty"`
	// Status says why there are no entries (not found, not looked up).
	Status              string `json:"status,omitempty"`
	Notes               string `json:"notes,omitempty"` // what the list covers
	UnverifiedAdditions string `json:"unverified_additions,omitempty"`
	// Verified is set only where the reference qualifies the whole list, such as one taken from
	// secondary summaries.
	Verified *bool `json:"verified,omitempty"`
}

// Subprocessor is one entry of a sub-processor list.
type Subprocessor struct {
	Name      string   `json:"name"`
	Purpose   string   `json:"purpose,omitempty"`
	Countries []string `json:"countries,omitempty"` // ISO 3166-1 alpha-2 codes of the processing locations
	Location  string   `json:"location,omitempty"`  // where the list gives no countries, what it says instead
}

// Source is a reference a fact comes from: a URL, with a note where the reference pins a commit
// or says what the page shows. In JSON it is the URL alone when there is no note.
type Source struct {
	URL  string `json:"url"`
	Note string `json:"note,omitempty"`
}

// MarshalJSON writes a source without a note as its URL string.
func (s Source) MarshalJSON() ([]byte, error) {
	if s.Note == "" {
		return json.Marshal(s.URL)
	}
	type plain Source // without the methods, or this would recurse
	return json.Marshal(plain(s))
}

// UnmarshalJSON reads a URL string or a {"url", "note"} object.
func (s *Source) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		*s = Source{}
		return json.Unmarshal(data, &s.URL)
	}
	type plain Source
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	*s = Source(p)
	return nil
}

// Relationship is a supply-chain link as the reference records it: each of From uses or depends
// on each of To. IDs are catalog vendor IDs, except those listed in External, which name
// companies outside the catalog (such as a parent company).
type Relationship struct {
	From       []string `json:"from"`
	To         []string `json:"to"`
	Kind       string   `json:"kind"`
	External   []string `json:"external,omitempty"`
	Detail     string   `json:"detail,omitempty"`
	Verified   bool     `json:"verified"`
	Evidence   string   `json:"evidence,omitempty"`
	Sources    []Source `json:"sources,omitempty"`
	SourceNote string   `json:"source_note,omitempty"` // where a fact has no URL to cite
}

// Edge is one from -> to pair of a Relationship.
type Edge struct {
	From         string   `json:"from"`
	To           string   `json:"to"`
	Kind         string   `json:"kind"`
	FromExternal bool     `json:"from_external,omitempty"` // From is not a catalog vendor
	ToExternal   bool     `json:"to_external,omitempty"`   // To is not a catalog vendor
	Detail       string   `json:"detail,omitempty"`
	Verified     bool     `json:"verified"`
	Evidence     string   `json:"evidence,omitempty"`
	Sources      []Source `json:"sources,omitempty"`
	SourceNote   string   `json:"source_note,omitempty"`
}

// Match kinds of a Host.
const (
	MatchExact    = "exact"
	MatchWildcard = "wildcard"
	MatchTemplate = "template"
)

// EvidenceOperator marks hosts that the operator's configuration added: they were not checked
// against anything the vendor published.
const EvidenceOperator = "operator"

var categories = map[string]bool{
	"ai-provider": true, // first-party model API, inference host, or model router
	"ai-platform": true, // cloud AI platform (Azure OpenAI, Bedrock, Vertex, Model Studio)
	"ai-tool":     true, // end-user AI tools (coding assistants, AI writing and meeting tools)
	// SaaS whose AI features run inside the service (Notion AI, Slack AI, Zoom AI Companion): no
	// host of their own, so the catalog opens all of the SaaS's traffic, most of which is not
	// AI; not an AI category, so the AI policies do not apply to all of it by default.
	"saas-ai":            false,
	"analytics":          false,
	"error-tracking":     false,
	"observability":      false,
	"feature-flags":      false,
	"session-replay":     false,
	"customer-messaging": false,
}

// Categories returns the known vendor categories, sorted.
func Categories() []string {
	return slices.Sorted(maps.Keys(categories))
}

// IsAI reports whether category is one of the AI categories (ai-provider, ai-platform, ai-tool).
func IsAI(category string) bool {
	return categories[category]
}

// evidences are the kinds of evidence behind a verified flag: the first three verify a fact,
// the rest do not.
var evidences = map[string]bool{
	"vendor-doc": true, "vendor-spec": true, "vendor-sdk": true,
	"third-party-doc": true, "public-code": true, "secondary-report": true, "compiler-knowledge": true,
	EvidenceOperator: true,
}

// edgeKinds are the kinds of supply-chain relationship. A new kind is added here on purpose, so
// that a typo in vendors.json does not create a category of its own in reports.
var edgeKinds = map[string]bool{
	"subprocessor":                     true, // named on the vendor's sub-processor list
	"acquisition":                      true, // from bought (or announced buying) to
	"parent-company":                   true, // to owns from
	"router-upstream":                  true, // from routes requests on to to
	"model-hosting":                    true, // from serves to's models
	"inference-provider":               true, // from sends prompts to to for inference
	"client-telemetry":                 true, // from's clients send telemetry to to
	"web-analytics-on-vendor-frontend": true, // to's analytics ran on from's web frontend
}

// httpMethods are the methods an Endpoint may name (RFC 9110 and PATCH).
var httpMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true,
}

// Catalog answers which vendor a host belongs to and what is known about that vendor. It is
// immutable and safe for concurrent use.
type Catalog struct {
	vendors []*Vendor          // sorted by ID
	byID    map[string]*Vendor // every vendor
	exact   map[string]*Vendor // exact hosts
	// Pattern hosts, filed under the last two labels that every host they match ends with, so
	// that a host outside the catalog runs no regex at all.
	gated map[string][]gate
	// Pattern hosts whose regex does not pin the last two labels; every lookup that misses the
	// maps scans these. The built-in catalog has none (a test keeps it so).
	ungated []gate
	// patterns is every pattern host once, in catalog order, for Extend's conflict checks.
	patterns []gate

	relationships []Relationship
	edges         map[string][]Edge // by vendor ID, both directions
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

// schemaVersion is the layout of vendors.json. 1 had hosts only; 2 adds the facts behind them
// (roles, endpoints, subprocessors, sources) and the relationships between vendors.
const schemaVersion = 2

// file is the layout of vendors.json.
type file struct {
	SchemaVersion int            `json:"schema_version"`
	CompiledOn    string         `json:"compiled_on"` // when the reference it was built from was compiled
	Vendors       []Vendor       `json:"vendors"`
	Relationships []Relationship `json:"relationships"`
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
	if f.SchemaVersion != schemaVersion {
		return nil, fmt.Errorf("vendors.json: schema_version %d, want %d", f.SchemaVersion, schemaVersion)
	}
	return New(f.Vendors, f.Relationships...)
}

// New builds a catalog from vendors and the relationships between them, which it copies. It
// reports every problem it finds at once: an ID that is empty, not lower case or repeated; an
// empty name; an unknown category; a headquarters or subprocessor country that is not an
// assigned ISO 3166-1 alpha-2 code; an exact host that is not a plain lower-case host name; a
// pattern host whose regex is missing, does not compile or is not anchored with ^ and $; a host
// claimed by two vendors; an endpoint whose method is not an HTTP method or whose host is not
// the vendor's; unknown evidence; and a relationship of an unknown kind or naming an ID that is
// neither a vendor nor listed as external.
func New(vendors []Vendor, relationships ...Relationship) (*Catalog, error) {
	c := &Catalog{
		byID:  make(map[string]*Vendor, len(vendors)),
		exact: make(map[string]*Vendor),
		gated: make(map[string][]gate),
		edges: make(map[string][]Edge),
	}
	var errs []error
	fail := func(v *Vendor, h *Host, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if h != nil {
			msg = fmt.Sprintf("host %q: %s", h.Pattern, msg)
		}
		errs = append(errs, fmt.Errorf("catalog: vendor %q: %s", v.ID, msg))
	}

	var gates []gate
	for i := range vendors {
		vp, err := deepCopy(&vendors[i])
		if err != nil {
			return nil, fmt.Errorf("catalog: vendor %q: %w", vendors[i].ID, err)
		}
		switch {
		case vp.ID == "":
			fail(vp, nil, "empty id")
		case !validID(vp.ID):
			fail(vp, nil, "id must be lower-case letters, digits, '-' and '.'")
		case c.byID[vp.ID] != nil:
			fail(vp, nil, "duplicate id")
		default:
			c.byID[vp.ID] = vp
		}
		checkFacts(vp, func(format string, args ...any) { fail(vp, nil, format, args...) })
		for j := range vp.Hosts {
			h := &vp.Hosts[j]
			if h.Evidence != "" && !evidences[h.Evidence] {
				fail(vp, h, "unknown evidence %q", h.Evidence)
			}
			switch h.Match {
			case MatchExact:
				if h.Regex != "" {
					fail(vp, h, "exact host has a regex")
				}
				if err := checkHostName(h.Pattern); err != nil {
					fail(vp, h, "exact host must be a lower-case host name without port or trailing dot: %v", err)
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
	// checked against every other vendor's regex, and regexes against each other by source text
	// and by sample hosts; two regexes that overlap only outside their samples are not detected.
	seen := make(map[string]*Vendor)
	sampled := make([][]string, len(gates))
	for i, g := range gates {
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
		sampled[i] = samples(g.re)
		for j, o := range gates[:i] {
			if o.vendor == g.vendor || o.re.String() == src {
				continue
			}
			if w, ok := overlap(g, o, sampled[i], sampled[j]); ok {
				fail(g.vendor, nil, "regex %q overlaps regex %q of vendor %q (both match %q)", src, o.re, o.vendor.ID, w)
			}
		}
	}
	errs = append(errs, c.link(relationships)...)
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}

	slices.SortFunc(c.vendors, func(a, b *Vendor) int { return strings.Compare(a.ID, b.ID) })
	c.patterns = gates
	for _, g := range gates {
		c.file(g)
	}
	// An endpoint pinned to a host the vendor does not own would send extraction to the wrong
	// vendor's traffic; checked once Lookup works.
	for _, v := range c.vendors {
		for _, e := range v.Endpoints {
			if e.Host == "" {
				continue
			}
			if owner, ok := c.Lookup(e.Host); !ok || owner != v {
				fail(v, nil, "endpoint %s %s: host %q is not one of the vendor's hosts", e.Method, e.Path, e.Host)
			}
		}
	}
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	return c, nil
}

// joinSorted joins errs sorted, so that the report does not depend on map order.
func joinSorted(errs []error) error {
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// deepCopy copies v through its JSON form: New must not share slices with its caller, and a
// field added to Vendor later is copied without anyone remembering to.
func deepCopy(v *Vendor) (*Vendor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	var out Vendor
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	return &out, nil
}

// checkFacts validates what a vendor says beyond its ID and hosts.
func checkFacts(v *Vendor, fail func(format string, args ...any)) {
	if v.Name == "" {
		fail("empty name")
	}
	if _, ok := categories[v.Category]; !ok {
		fail("unknown category %q", v.Category)
	}
	if v.Subcategory != "" && !validID(v.Subcategory) {
		fail("subcategory %q must be lower-case letters, digits, '-' and '.'", v.Subcategory)
	}
	if err := checkCountry(v.Country); err != nil {
		fail("headquarters: %v", err)
	}
	if r := v.IPRanges; r != nil {
		for _, p := range slices.Concat(r.Inbound, r.OutboundToolCalls) {
			if _, err := netip.ParsePrefix(p); err != nil {
				fail("ip_ranges: %v", err)
			}
		}
	}
	for _, e := range v.Endpoints {
		if !httpMethods[e.Method] {
			fail("endpoint %s %s: method %q is not an HTTP method", e.Method, e.Path, e.Method)
		}
		if e.Path == "" {
			fail("endpoint %s: empty path", e.Method)
		}
		if e.Evidence != "" && !evidences[e.Evidence] {
			fail("endpoint %s %s: unknown evidence %q", e.Method, e.Path, e.Evidence)
		}
	}
	if s := v.Subprocessors; s != nil {
		if len(s.Entries) == 0 && s.Status == "" {
			fail("subprocessors: no entries and no status saying why")
		}
		if s.Source != "" {
			if err := checkURL(s.Source); err != nil {
				fail("subprocessors: source: %v", err)
			}
		}
		for _, e := range s.Entries {
			if e.Name == "" {
				fail("subprocessors: entry without a name")
			}
			for _, cc := range e.Countries {
				if err := checkCountry(cc); err != nil {
					fail("subprocessor %q: %v", e.Name, err)
				}
			}
		}
	}
	for _, s := range v.Sources {
		if err := checkURL(s.URL); err != nil {
			fail("source: %v", err)
		}
	}
}

// link validates the relationships and indexes their edges by vendor.
func (c *Catalog) link(relationships []Relationship) []error {
	var errs []error
	for i, r := range relationships {
		label := fmt.Sprintf("relationship %d (%s -> %s %s)", i, strings.Join(r.From, ","), strings.Join(r.To, ","), r.Kind)
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("catalog: %s: %s", label, fmt.Sprintf(format, args...)))
		}
		if len(r.From) == 0 || len(r.To) == 0 {
			fail("needs at least one from and one to")
		}
		if !edgeKinds[r.Kind] {
			fail("unknown kind %q", r.Kind)
		}
		if r.Evidence != "" && !evidences[r.Evidence] {
			fail("unknown evidence %q", r.Evidence)
		}
		for _, s := range r.Sources {
			if err := checkURL(s.URL); err != nil {
				fail("source: %v", err)
			}
		}
		external := make(map[string]bool, len(r.External))
		for _, id := range r.External {
			switch {
			case c.byID[id] != nil:
				// Listing a vendor as external would hide a typo in a real reference.
				fail("%q is listed as external but is a catalog vendor", id)
			case !slices.Contains(r.From, id) && !slices.Contains(r.To, id):
				fail("%q is listed as external but is neither a from nor a to", id)
			}
			external[id] = true
		}
		for _, id := range slices.Concat(r.From, r.To) {
			if c.byID[id] == nil && !external[id] {
				fail("unknown vendor %q (list it under external if it is an outside company)", id)
			}
		}
		for _, from := range r.From {
			for _, to := range r.To {
				if from == to {
					fail("%q relates to itself", from)
					continue
				}
				e := Edge{
					From: from, To: to, Kind: r.Kind, FromExternal: external[from], ToExternal: external[to],
					Detail: r.Detail, Verified: r.Verified, Evidence: r.Evidence,
					Sources: slices.Clone(r.Sources), SourceNote: r.SourceNote,
				}
				c.edges[from] = append(c.edges[from], e)
				c.edges[to] = append(c.edges[to], e)
			}
		}
		r.From, r.To, r.External = slices.Clone(r.From), slices.Clone(r.To), slices.Clone(r.External)
		r.Sources = slices.Clone(r.Sources)
		c.relationships = append(c.relationships, r)
	}
	return errs
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

// Vendor returns the vendor with the given ID.
func (c *Catalog) Vendor(id string) (*Vendor, bool) {
	v, ok := c.byID[id]
	return v, ok
}

// Edges returns the supply-chain edges that id is the from or the to of, one pair each, in the
// order of the relationships they come from. id may name an external company.
func (c *Catalog) Edges(id string) []Edge {
	return slices.Clone(c.edges[id])
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

// checkCountry accepts the ISO 3166-1 alpha-2 codes in use, and explains the near misses.
func checkCountry(cc string) error {
	switch {
	case countries[cc]:
		return nil
	case cc == "":
		return errors.New("missing country code")
	case strings.ToUpper(cc) == "UK":
		return fmt.Errorf(`%q is not an ISO 3166-1 code; the United Kingdom is "GB"`, cc)
	case countries[strings.ToUpper(cc)]:
		return fmt.Errorf("country code %q must be upper case (%q)", cc, strings.ToUpper(cc))
	}
	return fmt.Errorf("%q is not an ISO 3166-1 alpha-2 country code", cc)
}

// checkHostName accepts a lower-case DNS name (or IPv4 address) as an exact catalog host: labels
// of letters, digits and inner hyphens, no port, no trailing dot. Lookup lowers the case of the
// host it is asked about, so an upper-case catalog host could never match.
func checkHostName(h string) error {
	if h == "" {
		return errors.New("empty host")
	}
	if len(h) > 253 {
		return errors.New("longer than 253 characters")
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" {
			return errors.New("empty label")
		}
		if len(label) > 63 {
			return fmt.Errorf("label %q is longer than 63 characters", label)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with '-'", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("character %q is not a lower-case letter, digit, '-' or '.'", c)
			}
		}
	}
	return nil
}

// checkURL accepts an absolute http or https URL, as every source is a page to open.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}
