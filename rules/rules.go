package rules

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/customs-dev/customs/flow"
	"gopkg.in/yaml.v3"
)

// Set is what one load produced: the rule files read, in order, and everything they define,
// merged in that order. A Set is immutable once loaded and safe for concurrent use.
type Set struct {
	Files     []string
	Detectors []DetectorSpec
	Policies  []*Policy
	Vendors   []VendorSpec
	Tests     []TestSpec
	// ExplicitlyEmpty is true when the files define no policy and one of them says so with
	// "policies: []". Files that define none without saying so do not load: an empty or
	// truncated file must never mean "allow every flow".
	ExplicitlyEmpty bool
}

// DetectorSpec is a custom detector as written. The caller builds the engine detector: it
// compiles `^(?:Pattern)` and runs it at each hit of a keyword (Back bytes before the hit when
// Back > 0), within Window bytes.
type DetectorSpec struct {
	ID          string
	Class       string // secret, pii, marker, code, document
	Severity    string // low, medium, high, critical; medium when not given
	Description string
	// Keywords are case-insensitive literals, one of which every match contains: the prefilter.
	Keywords     []string
	Pattern      string // RE2 syntax; known to compile
	Group        int    // submatch that is the sensitive value; 0 for the whole match
	Window       int    // bytes examined from a keyword hit; 0 for the engine's default (512)
	Back         int    // bytes before a keyword hit where a match may start, 0..64
	Boundary     bool   // the match must not touch a letter, digit or underscore on either side
	MinEntropy   float64
	Placeholders []string // values never reported (documentation and template values)
	Confidence   float64  // 0 when not given: the engine's default
	Examples     Examples

	Pos        Pos // the start of the spec in its file
	PatternPos Pos
}

// FullID is the ID the detector's findings carry: its ID under its class
// (marker.acme-codename).
func (d DetectorSpec) FullID() string { return d.Class + "." + d.ID }

// Examples are strings a custom detector must and must not match, checked by `customs rules
// test` (and by go test for the embedded pack).
type Examples struct {
	Match, NoMatch       []Example
	MatchPos, NoMatchPos Pos // where each list is written
}

// Example is one example string and where it is written.
type Example struct {
	Text string
	Pos  Pos
}

// VendorSpec adds a vendor to the catalog or extends a built-in one, as the `vendors:` of the
// configuration file does; the caller applies it and reports what the catalog rejects at At.
type VendorSpec struct {
	ID                string
	Name              string
	Category          string
	Country           string
	JurisdictionNotes string
	Hosts             []string

	Pos    Pos
	fields map[string]Pos
}

// At returns where field ("category", "hosts[1]", ...) is written, or the start of the spec
// when that field is not.
func (v VendorSpec) At(field string) Pos {
	if p, ok := v.fields[field]; ok {
		return p
	}
	return v.Pos
}

// TestSpec is one rule test: a request, and what customs must decide for it.
type TestSpec struct {
	Name string
	// Request is the path of a raw HTTP request file, resolved against the rule file's
	// directory, or "" when the test gives an inline Body.
	Request string
	Body    string
	// Host, Method and Path are "" for a Request test unless given: the request file's own
	// values apply. For an inline Body they default to (required), POST and "/".
	Host, Method, Path string
	ContentType        string
	Headers            map[string]string
	Client             string // client address, 127.0.0.1:50000 when not given
	User               string
	Expect             Expect

	Pos        Pos
	RequestPos Pos
	ExpectPos  Pos
}

// Expect is what a rule test checks; fields left empty are not checked.
type Expect struct {
	Action      flow.Action
	Policy      string
	Detectors   []string // each must have a finding
	NoDetectors []string // none may have a finding
}

var (
	classes    = []string{"secret", "pii", "marker", "code", "document", "record"}
	severities = []string{"low", "medium", "high", "critical"}
	actions    = []string{string(flow.Allow), string(flow.Alert), string(flow.Redact), string(flow.Block)}
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
)

const defaultClient = "127.0.0.1:50000"

// Options tune a load.
type Options struct {
	// Detectors are the IDs of the detectors the rules run with besides the files' own: the
	// built-in ones (rules does not import the detectors). When given, a detector a condition
	// or a test names (has_detector("pii.emial"), f.detector == "...", expect.detectors) that is
	// neither one of them nor a detector of the files is an error at the name, with the
	// closest known ID. Nil skips the check.
	Detectors []string
}

// Load reads rule files and directories (their *.yaml and *.yml files, sorted by name, not
// recursively) and merges them in order. Every problem in every file is returned at once, as
// Errors. A file with nothing in it is an error, and so are files that together define no
// policy, unless one of them says "policies: []" (see Set.ExplicitlyEmpty). Without paths it
// returns an empty Set: the caller decides whether that means Default.
func Load(paths ...string) (*Set, error) {
	return LoadWith(Options{}, paths...)
}

// LoadWith is Load with options.
func LoadWith(opts Options, paths ...string) (*Set, error) {
	l := newLoader()
	l.opts = opts
	seen := map[string]bool{}
	for _, p := range paths {
		files, err := Expand(p)
		l.meet(p)
		if err != nil {
			l.errs = append(l.errs, &Error{File: p, Msg: err.Error()})
			l.unsure = true
			continue
		}
		for _, f := range files {
			// The same file named twice (itself and through its directory) is read once,
			// rather than every ID in it reported as a duplicate of itself.
			key := filepath.Clean(f)
			if abs, err := filepath.Abs(f); err == nil {
				key = abs
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			l.meet(f)
			src, err := os.ReadFile(f)
			if err != nil {
				l.errs = append(l.errs, &Error{File: f, Msg: fmt.Sprintf("cannot read rule file: %v", unwrapPath(err))})
				l.unsure = true
				continue
			}
			l.add(f, src)
		}
	}
	return l.finish()
}

// Parse reads one rule file from memory, as Load reads it: it must define a policy or say
// "policies: []". name appears in errors, and relative request paths of tests are resolved
// against its directory.
func Parse(name string, src []byte) (*Set, error) {
	return ParseWith(Options{}, name, src)
}

// ParseWith is Parse with options.
func ParseWith(opts Options, name string, src []byte) (*Set, error) {
	l := newLoader()
	l.opts = opts
	l.add(name, src)
	return l.finish()
}

// Expand lists the rule files a path stands for, as Load reads them: a file, or a directory's
// *.yaml and *.yml files sorted by name (none is an error). Errors do not repeat the path.
func Expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read rule path: %w", unwrapPath(err))
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read rule directory: %w", unwrapPath(err))
	}
	var files []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if (ext == ".yaml" || ext == ".yml") && !e.IsDir() {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		// An empty directory is more likely a wrong path than a wish for no policies at all.
		return nil, fmt.Errorf("no *.yaml or *.yml rule files in directory")
	}
	return files, nil
}

// unwrapPath drops the path from an *fs.PathError: the error is already positioned at it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loader merges rule files, remembering where each ID was first defined.
type loader struct {
	opts     Options
	set      *Set
	errs     Errors
	detector map[string]Pos
	policy   map[string]Pos
	vendor   map[string]Pos
	test     map[string]Pos
	// expects are the policies tests name, checked once every file is in; detectorRefs the
	// detectors tests name, likewise.
	expects      []expectRef
	detectorRefs []nameRef
	// declared are the IDs of the files' detectors, loaded or not (one with a bad pattern
	// is still the detector a policy means): full when the class is known, else short.
	declared []string
	srcs     map[string][]byte
	order    map[string]int // of files (and unreadable paths) as met, for sorting errors

	// listed counts the policies the files list, loaded or not; explicit is whether one says
	// "policies: []"; start is where the first file's top-level mapping starts. unsure is whether
	// a file could not be read far enough to tell what policies it holds: its own error says
	// why, and "no policies" would only add noise.
	listed   int
	explicit bool
	start    *Pos
	unsure   bool
}

type expectRef struct {
	policy, path string
	pos          Pos
}

// nameRef is a name written in a rule file (a detector ID), where it is written and the path of
// the key that holds it, for messages.
type nameRef struct {
	name, path string
	pos        Pos
}

func newLoader() *loader {
	return &loader{
		set:      &Set{},
		detector: map[string]Pos{}, policy: map[string]Pos{}, vendor: map[string]Pos{}, test: map[string]Pos{},
		srcs: map[string][]byte{}, order: map[string]int{},
	}
}

func (l *loader) finish() (*Set, error) {
	var ids []string
	for _, p := range l.set.Policies {
		ids = append(ids, p.ID)
	}
	for _, ref := range l.expects {
		if _, ok := l.policy[ref.policy]; ok {
			continue
		}
		msg := fmt.Sprintf("%s: no policy %q is loaded", ref.path, ref.policy)
		if c := closest(ref.policy, ids); c != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", c)
		}
		l.errorAt(ref.pos, "%s", msg)
	}
	if l.opts.Detectors != nil {
		l.checkDetectors()
	}
	if l.start != nil && l.listed == 0 && !l.explicit && !l.unsure {
		l.errorAt(*l.start, "%s", noPolicies(l.set.Files))
		l.errs[len(l.errs)-1].last = true
	}
	if len(l.errs) > 0 {
		// File order, then position: problems found in later checks (duplicates, tests naming
		// policies) are shown where they are, not after everything else.
		sort.SliceStable(l.errs, func(i, j int) bool {
			a, b := l.errs[i], l.errs[j]
			if a.File != b.File {
				return l.order[a.File] < l.order[b.File]
			}
			if a.last != b.last {
				return b.last
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		return nil, l.errs
	}
	l.set.ExplicitlyEmpty = len(l.set.Policies) == 0 && l.explicit
	return l.set, nil
}

// checkDetectors reports every detector ID a condition or a test names that no detector has,
// neither a known one (Options.Detectors) nor one of the files'. A name matches as DetectorIs
// matches findings: the full ID (secret.aws-access-key-id) or the ID without its namespace.
func (l *loader) checkDetectors() {
	known := map[string]bool{}
	var full []string
	add := func(id string) {
		if known[id] {
			return
		}
		known[id] = true
		full = append(full, id)
	}
	for _, id := range l.opts.Detectors {
		add(id)
	}
	for _, d := range l.declared {
		add(d)
	}
	short := map[string]bool{}
	for _, id := range full {
		if _, s, ok := strings.Cut(id, "."); ok {
			short[s] = true
		} else {
			short[id] = true // a file's detector whose class did not load
		}
	}
	shortIDs := slices.Sorted(maps.Keys(short))
	for _, r := range l.detectorRefs {
		if known[r.name] || short[r.name] {
			continue
		}
		msg := fmt.Sprintf("%s: unknown detector %q", r.path, r.name)
		// Suggest in the form the name was written: with its namespace or without.
		candidates := full
		if !strings.Contains(r.name, ".") {
			candidates = shortIDs
		}
		if c := closest(r.name, candidates); c != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", c)
		} else {
			msg += "; neither a built-in detector nor one of the rule files' has this ID"
		}
		l.errorAt(r.pos, "%s", msg)
	}
}

// noPolicies is the problem with files that together define no policy without saying so.
func noPolicies(files []string) string {
	if len(files) == 1 {
		return fmt.Sprintf(`no policies: %s defines none, so every flow would be allowed (write "policies: []" to mean no policies)`, files[0])
	}
	return fmt.Sprintf(`no policies: none of the %d rule files (%s) defines one, so every flow would be allowed (write "policies: []" in one of them to mean no policies)`,
		len(files), strings.Join(files, ", "))
}

func (l *loader) meet(file string) {
	if _, ok := l.order[file]; !ok {
		l.order[file] = len(l.order)
	}
}

func (l *loader) errorAt(p Pos, format string, args ...any) {
	e := &Error{File: p.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
	e.line, e.hasLine = sourceLine(l.srcs[p.File], p.Line)
	l.errs = append(l.errs, e)
}

// unique records id in seen, or reports it as a duplicate naming both places.
func (l *loader) unique(d *decoder, seen map[string]Pos, what, id string, at Pos) bool {
	if first, dup := seen[id]; dup {
		d.errorAt(at, "duplicate %s %q (first defined at %s)", what, id, first)
		return false
	}
	seen[id] = at
	return true
}

// add reads one file into the set. The file's problems are reported and its valid parts kept,
// so that later files' duplicates are still caught against them.
func (l *loader) add(name string, src []byte) {
	l.set.Files = append(l.set.Files, name)
	l.srcs[name] = src
	l.meet(name)
	d := &decoder{file: name, src: src}
	root := d.parseYAML()
	if root == nil {
		l.unsure = true
	} else {
		if l.start == nil {
			l.start = &Pos{name, root.Line, root.Column}
		}
		nerr := len(d.errs)
		fs := d.fields(root, "", "detectors", "policies", "vendors", "tests")
		nullPolicies, hasNullPolicies := d.nulls[resolve(root)]["policies"]
		switch {
		case fs == nil || d.hinted[resolve(root)]["policies"]:
			// Not a mapping, or "did you mean policies" already said what is wrong.
			l.unsure = true
		case hasNullPolicies:
			// "policies:" with nothing after it is what a file cut short after its first line
			// looks like; "none" must be written as such.
			d.errorf(nullPolicies, `policies: expected a list, got null (write "policies: []" to mean no policies)`)
			l.unsure = true
		case len(fs) == 0 && len(d.errs) == nerr:
			d.emptyFile()
			l.unsure = true
		}
		if f, ok := fs["detectors"]; ok {
			l.detectors(d, f)
		}
		if f, ok := fs["policies"]; ok {
			if n, ok := l.policies(d, f); !ok {
				l.unsure = true
			} else if n == 0 {
				l.explicit = true
			}
		}
		if f, ok := fs["vendors"]; ok {
			l.vendors(d, f)
		}
		if f, ok := fs["tests"]; ok {
			l.tests(d, f, filepath.Dir(name))
		}
	}
	l.errs = append(l.errs, d.errs...)
}

// strField is a string key and where its value goes, in the order errors are reported.
type strField struct {
	key string
	dst *string
}

// id reads a required, lower-case ID.
func (d *decoder) id(fs map[string]field, path string) (string, bool) {
	f, ok := fs["id"]
	if !ok {
		return "", false
	}
	id, ok := d.str(f, path+".id")
	if !ok {
		return "", false
	}
	if !idPattern.MatchString(id) {
		d.errorf(f.val, "%s.id: %q is not a valid ID: want lower-case letters, digits, '.', '-' or '_', starting with a letter or digit", path, id)
		return "", false
	}
	return id, true
}

func (l *loader) detectors(d *decoder, section field) {
	items, ok := d.list(section.val, "detectors")
	if !ok {
		return
	}
	for i, item := range items {
		if d.full() {
			return
		}
		path := fmt.Sprintf("detectors[%d]", i)
		fs := d.fields(item, path, "id", "class", "severity", "description", "keywords", "pattern", "group",
			"window", "back", "boundary", "min_entropy", "placeholders", "confidence", "examples")
		if fs == nil {
			continue
		}
		nerr := len(d.errs)
		d.require(item, path, fs, "id", "class", "keywords", "pattern")
		spec := DetectorSpec{Pos: d.pos(item), Severity: "medium"}
		spec.ID, _ = d.id(fs, path)
		if f, ok := fs["class"]; ok {
			spec.Class, _ = d.oneOf(f, path+".class", classes...)
		}
		if strings.Contains(spec.ID, ".") {
			// The class is the namespace: "acme.codename" would read as a detector of a
			// class "acme", and has_detector could not tell it from a built-in's short name.
			fixed := strings.ReplaceAll(spec.ID, ".", "-")
			d.errorf(fs["id"].val, "%s.id: %q: a detector ID has no dot, its class is its namespace (write %q: its findings are %s.%s)",
				path, spec.ID, fixed, cmp.Or(spec.Class, "<class>"), fixed)
			spec.ID = ""
		}
		if f, ok := fs["severity"]; ok {
			spec.Severity, _ = d.oneOf(f, path+".severity", severities...)
		}
		if f, ok := fs["description"]; ok {
			spec.Description, _ = d.str(f, path+".description")
		}
		if f, ok := fs["keywords"]; ok {
			kw, pos, _ := d.strList(f, path+".keywords")
			for j, k := range kw {
				if k == "" {
					d.errorAt(pos[j], "%s.keywords[%d]: a keyword must not be empty", path, j)
				}
			}
			if r := resolve(f.val); r.Kind == yaml.SequenceNode && len(r.Content) == 0 {
				d.errorf(f.val, "%s.keywords: give at least one keyword: the engine runs the pattern only at their hits", path)
			}
			spec.Keywords = kw
		}
		if f, ok := fs["placeholders"]; ok {
			spec.Placeholders, _, _ = d.strList(f, path+".placeholders")
		}
		subexp := -1
		if f, ok := fs["pattern"]; ok {
			spec.PatternPos = d.pos(f.val)
			if p, ok := d.str(f, path+".pattern"); ok {
				spec.Pattern = p
				subexp = d.checkPattern(f, path+".pattern", p)
			}
		}
		if f, ok := fs["group"]; ok {
			if g, ok := d.integer(f, path+".group"); ok {
				switch {
				case g < 0:
					d.errorf(f.val, "%s.group: must be 0 or more; got %d", path, g)
				case subexp >= 0 && g > subexp:
					d.errorf(f.val, "%s.group: the pattern has %d group(s); got %d", path, subexp, g)
				}
				spec.Group = g
			}
		}
		if f, ok := fs["window"]; ok {
			if w, ok := d.integer(f, path+".window"); ok {
				if w <= 0 {
					d.errorf(f.val, "%s.window: must be greater than 0; got %d", path, w)
				}
				spec.Window = w
			}
		}
		if f, ok := fs["back"]; ok {
			if b, ok := d.integer(f, path+".back"); ok {
				if b < 0 || b > 64 {
					d.errorf(f.val, "%s.back: must be between 0 and 64; got %d", path, b)
				}
				spec.Back = b
			}
		}
		if f, ok := fs["boundary"]; ok {
			spec.Boundary, _ = d.boolean(f, path+".boundary")
		}
		if f, ok := fs["min_entropy"]; ok {
			if e, ok := d.number(f, path+".min_entropy"); ok {
				if e < 0 || e > 8 {
					d.errorf(f.val, "%s.min_entropy: must be between 0 and 8 bits per byte; got %g", path, e)
				}
				spec.MinEntropy = e
			}
		}
		if f, ok := fs["confidence"]; ok {
			if c, ok := d.number(f, path+".confidence"); ok {
				if c <= 0 || c > 1 {
					d.errorf(f.val, "%s.confidence: must be greater than 0 and at most 1; got %g", path, c)
				}
				spec.Confidence = c
			}
		}
		if f, ok := fs["examples"]; ok {
			spec.Examples = d.examples(f, path+".examples")
		}
		switch {
		case spec.ID != "" && spec.Class != "":
			l.declared = append(l.declared, spec.FullID())
		case spec.ID != "":
			l.declared = append(l.declared, spec.ID)
		}
		if spec.ID != "" && l.unique(d, l.detector, "detector", spec.ID, spec.Pos) && len(d.errs) == nerr {
			l.set.Detectors = append(l.set.Detectors, spec)
		}
	}
}

// checkPattern compiles a detector pattern the way the engine will, and returns its number of
// groups, or -1 when it does not compile.
func (d *decoder) checkPattern(f field, path, p string) int {
	if p == "" {
		d.errorf(f.val, "%s: must not be empty", path)
		return -1
	}
	re, err := regexp.Compile(`^(?:` + p + `)`)
	if err != nil {
		// Compile the pattern alone for the message, so that it does not show the wrapper.
		if _, err2 := regexp.Compile(p); err2 != nil {
			err = err2
		}
		d.errorf(f.val, "%s: %v", path, err)
		return -1
	}
	if re.MatchString("") {
		d.errorf(f.val, "%s: matches the empty string, so it would report empty findings at every keyword", path)
	}
	return re.NumSubexp()
}

func (d *decoder) examples(f field, path string) Examples {
	ex := Examples{}
	fs := d.fields(f.val, path, "match", "no_match")
	read := func(key string) ([]Example, Pos) {
		kf, ok := fs[key]
		if !ok {
			return nil, Pos{}
		}
		texts, pos, _ := d.strList(kf, path+"."+key)
		out := make([]Example, len(texts))
		for i := range texts {
			out[i] = Example{Text: texts[i], Pos: pos[i]}
		}
		return out, d.pos(kf.val)
	}
	ex.Match, ex.MatchPos = read("match")
	ex.NoMatch, ex.NoMatchPos = read("no_match")
	return ex
}

// policies reads the policies section and returns how many policies it lists, and false when it
// is not a list.
func (l *loader) policies(d *decoder, section field) (int, bool) {
	items, ok := d.list(section.val, "policies")
	if !ok {
		return 0, false
	}
	l.listed += len(items)
	for i, item := range items {
		if d.full() {
			break
		}
		path := fmt.Sprintf("policies[%d]", i)
		fs := d.fields(item, path, "id", "description", "when", "action", "message", "severity", "continue")
		if fs == nil {
			continue
		}
		nerr := len(d.errs)
		d.require(item, path, fs, "id", "when", "action")
		p := &Policy{Pos: d.pos(item)}
		p.ID, _ = d.id(fs, path)
		if f, ok := fs["description"]; ok {
			p.Description, _ = d.str(f, path+".description")
		}
		if f, ok := fs["action"]; ok {
			a, _ := d.oneOf(f, path+".action", actions...)
			p.Action = flow.Action(a)
		}
		if f, ok := fs["message"]; ok {
			p.Message, _ = d.str(f, path+".message")
		}
		if f, ok := fs["severity"]; ok {
			p.Severity, _ = d.oneOf(f, path+".severity", severities...)
		}
		if f, ok := fs["continue"]; ok {
			p.Continue, _ = d.boolean(f, path+".continue")
		}
		if f, ok := fs["when"]; ok {
			p.WhenPos = d.pos(f.val)
			if w, ok := d.str(f, path+".when"); ok {
				p.When = w
				d.compileWhen(p, resolve(f.val), path+".when")
				// Checked once every file is in, whether or not the policy loads: its other
				// problems are no reason to keep quiet about this one.
				l.detectorRefs = append(l.detectorRefs, p.detectorRefs...)
			}
		}
		if p.ID != "" && l.unique(d, l.policy, "policy", p.ID, p.Pos) && len(d.errs) == nerr {
			l.set.Policies = append(l.set.Policies, p)
		}
	}
	return len(items), true
}

func (l *loader) vendors(d *decoder, section field) {
	items, ok := d.list(section.val, "vendors")
	if !ok {
		return
	}
	for i, item := range items {
		if d.full() {
			return
		}
		path := fmt.Sprintf("vendors[%d]", i)
		fs := d.fields(item, path, "id", "name", "category", "country", "jurisdiction_notes", "hosts")
		if fs == nil {
			continue
		}
		nerr := len(d.errs)
		d.require(item, path, fs, "id")
		v := VendorSpec{Pos: d.pos(item), fields: map[string]Pos{}}
		v.ID, _ = d.id(fs, path)
		for _, s := range []strField{{"name", &v.Name}, {"category", &v.Category}, {"country", &v.Country}, {"jurisdiction_notes", &v.JurisdictionNotes}} {
			if f, ok := fs[s.key]; ok {
				*s.dst, _ = d.str(f, path+"."+s.key)
				v.fields[s.key] = d.pos(f.val)
			}
		}
		if f, ok := fs["hosts"]; ok {
			hosts, pos, _ := d.strList(f, path+".hosts")
			v.fields["hosts"] = d.pos(f.val)
			for j, h := range hosts {
				if h == "" {
					d.errorAt(pos[j], "%s.hosts[%d]: a host must not be empty", path, j)
				}
				v.fields[fmt.Sprintf("hosts[%d]", j)] = pos[j]
			}
			v.Hosts = hosts
		}
		if v.ID != "" && l.unique(d, l.vendor, "vendor", v.ID, v.Pos) && len(d.errs) == nerr {
			l.set.Vendors = append(l.set.Vendors, v)
		}
	}
}

func (l *loader) tests(d *decoder, section field, dir string) {
	items, ok := d.list(section.val, "tests")
	if !ok {
		return
	}
	for i, item := range items {
		if d.full() {
			return
		}
		path := fmt.Sprintf("tests[%d]", i)
		fs := d.fields(item, path, "name", "request", "body", "host", "method", "path", "content_type",
			"headers", "client", "user", "expect")
		if fs == nil {
			continue
		}
		nerr := len(d.errs)
		d.require(item, path, fs, "name", "expect")
		t := TestSpec{Pos: d.pos(item), Client: defaultClient}
		for _, s := range []strField{{"name", &t.Name}, {"body", &t.Body}, {"host", &t.Host}, {"method", &t.Method},
			{"path", &t.Path}, {"content_type", &t.ContentType}, {"client", &t.Client}, {"user", &t.User}} {
			if f, ok := fs[s.key]; ok {
				*s.dst, _ = d.str(f, path+"."+s.key)
			}
		}
		if f, ok := fs["name"]; ok && t.Name == "" && resolve(f.val).Kind == yaml.ScalarNode {
			d.errorf(f.val, "%s.name: must not be empty", path)
		}
		req, hasReq := fs["request"]
		_, hasBody := fs["body"]
		switch {
		case hasReq && hasBody:
			d.errorf(req.key, "%s: give either request or body, not both", path)
		case !hasReq && !hasBody:
			d.errorf(item, "%s: give a request file or an inline body", path)
		case hasReq:
			t.RequestPos = d.pos(req.val)
			if r, ok := d.str(req, path+".request"); ok {
				t.Request = d.requestFile(req, path+".request", dir, r)
			}
		default:
			if _, ok := fs["host"]; !ok {
				d.errorf(item, "%s: missing required key \"host\" (a test with an inline body names the host it is sent to)", path)
			}
			if t.Method == "" {
				t.Method = "POST"
			}
			if t.Path == "" {
				t.Path = "/"
			}
		}
		if f, ok := fs["headers"]; ok {
			t.Headers = d.headers(f, path+".headers")
		}
		if f, ok := fs["expect"]; ok {
			t.ExpectPos = d.pos(f.val)
			t.Expect = l.expect(d, f, path+".expect")
		}
		if t.Name != "" && l.unique(d, l.test, "test", t.Name, t.Pos) && len(d.errs) == nerr {
			l.set.Tests = append(l.set.Tests, t)
		}
	}
}

// requestFile resolves a test's request path and checks that it is a file now, so that a typo
// is reported with the rule file's other problems rather than when the test runs.
func (d *decoder) requestFile(f field, path, dir, name string) string {
	if name == "" {
		d.errorf(f.val, "%s: must not be empty", path)
		return ""
	}
	full := name
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, name)
	}
	info, err := os.Stat(full)
	switch {
	case err != nil:
		d.errorf(f.val, "%s: cannot read request file %s: %v", path, full, unwrapPath(err))
	case !info.Mode().IsRegular():
		d.errorf(f.val, "%s: %s is not a regular file", path, full)
	}
	return full
}

func (d *decoder) headers(f field, path string) map[string]string {
	r := resolve(f.val)
	if r.Kind != yaml.MappingNode {
		d.errorf(f.val, "%s: expected a mapping of header names to values, got %s", path, describe(r))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(r.Content); i += 2 {
		kn, vn := resolve(r.Content[i]), r.Content[i+1]
		if kn.Kind != yaml.ScalarNode || kn.Value == "" {
			d.errorf(r.Content[i], "%s: expected a header name, got %s", path, describe(kn))
			continue
		}
		if v, ok := d.str(field{kn, vn}, path+"."+kn.Value); ok {
			out[kn.Value] = v
		}
	}
	return out
}

func (l *loader) expect(d *decoder, f field, path string) Expect {
	var e Expect
	fs := d.fields(f.val, path, "action", "policy", "detectors", "no_detectors")
	if fs == nil {
		return e
	}
	if len(fs) == 0 {
		d.errorf(f.val, "%s: give at least one of action, policy, detectors or no_detectors", path)
	}
	if af, ok := fs["action"]; ok {
		a, _ := d.oneOf(af, path+".action", actions...)
		e.Action = flow.Action(a)
	}
	if pf, ok := fs["policy"]; ok {
		if p, ok := d.str(pf, path+".policy"); ok {
			e.Policy = p
			l.expects = append(l.expects, expectRef{p, path + ".policy", d.pos(pf.val)})
		}
	}
	for _, s := range []struct {
		key string
		dst *[]string
	}{{"detectors", &e.Detectors}, {"no_detectors", &e.NoDetectors}} {
		df, ok := fs[s.key]
		if !ok {
			continue
		}
		ids, pos, _ := d.strList(df, path+"."+s.key)
		for j, id := range ids {
			if !idPattern.MatchString(id) {
				d.errorAt(pos[j], "%s.%s[%d]: %q is not a detector ID", path, s.key, j, id)
				continue
			}
			l.detectorRefs = append(l.detectorRefs, nameRef{name: id, path: fmt.Sprintf("%s.%s[%d]", path, s.key, j), pos: pos[j]})
		}
		*s.dst = ids
	}
	return e
}

// sortedClasses lists the distinct classes of findings, sorted, for messages.
func sortedClasses(fs []flow.Finding) string {
	var cs []string
	for _, f := range fs {
		if f.Class != "" && !contains(cs, f.Class) {
			cs = append(cs, f.Class)
		}
	}
	sort.Strings(cs)
	return strings.Join(cs, ", ")
}
