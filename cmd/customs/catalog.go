package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/config"
)

// loadCatalog returns the built-in catalog with the configuration's vendors applied. config.Load
// has already checked them, with positions; an error here means cfg was built another way.
func loadCatalog(cfg config.Config) (*catalog.Catalog, error) {
	base, err := catalog.Builtin()
	if err != nil {
		return nil, err
	}
	if len(cfg.Vendors) == 0 {
		return base, nil
	}
	c, err := catalog.Extend(base, cfg.CatalogExtensions())
	if err != nil {
		return nil, fmt.Errorf("vendors in the configuration: %w", err)
	}
	return c, nil
}

// cmdCatalog prints the vendor catalog, so that policy authors can see what a vendor ID means.
func cmdCatalog(args []string, stdout, stderr io.Writer) error {
	return subcommands("catalog", catalogHelp, args, stdout, map[string]func([]string) error{
		"list": func(args []string) error { return catalogCmd("list", catalogListHelp, args, stdout) },
		"show": func(args []string) error { return catalogCmd("show", catalogShowHelp, args, stdout) },
	})
}

func catalogCmd(sub string, h help, args []string, stdout io.Writer) error {
	c := newCommand("catalog "+sub, h, stdout)
	asJSON := c.fs.Bool("json", false, "print JSON ("+map[string]string{"list": "one vendor per line", "show": "the vendor and its edges"}[sub]+")")
	configPath := c.fs.String("config", "", "config file whose vendors: are merged into the built-in catalog")
	category := ""
	if sub == "list" {
		c.fs.StringVar(&category, "category", "", "only vendors of this category ("+strings.Join(catalog.Categories(), ", ")+")")
	}
	positional, err := c.parse(args)
	if err != nil {
		return err
	}

	cfg := config.Default()
	if *configPath != "" {
		if cfg, err = config.Load(*configPath); err != nil {
			return usageError{err}
		}
	}
	cat, err := loadCatalog(cfg)
	if err != nil {
		return usageError{err}
	}

	switch sub {
	case "list":
		if len(positional) > 0 {
			return usageError{fmt.Errorf("unexpected argument %q; %s", positional[0], c.hint())}
		}
		if err := checkCategory(category); err != nil {
			return usageError{fmt.Errorf("--category: %w", err)}
		}
		return listVendors(stdout, cat, category, *asJSON)
	default:
		if len(positional) != 1 {
			return usageError{errors.New("want one vendor ID: customs catalog show ID")}
		}
		id := positional[0]
		v, ok := cat.Vendor(id)
		if !ok {
			return usageError{unknownVendor(cat, id)}
		}
		if *asJSON {
			return showVendorJSON(stdout, v, vendorEdges(cat, id))
		}
		return showVendor(stdout, v, vendorEdges(cat, id))
	}
}

// checkCategory refuses a category the catalog does not have, naming the closest.
func checkCategory(c string) error {
	if c == "" || slices.Contains(catalog.Categories(), c) {
		return nil
	}
	msg := fmt.Sprintf("unknown category %q", c)
	if s := closestName(c, catalog.Categories()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fmt.Errorf("%s; want one of %s", msg, strings.Join(catalog.Categories(), ", "))
}

func unknownVendor(cat *catalog.Catalog, id string) error {
	msg := fmt.Sprintf("unknown vendor %q", id)
	if edges := cat.Edges(id); len(edges) > 0 {
		// An outside company such as a parent: not a vendor, but the catalog knows of it.
		var others []string
		for _, e := range edges {
			others = append(others, e.From+" -> "+e.To)
		}
		return fmt.Errorf("%s: an outside company, named in %s", msg, strings.Join(others, ", "))
	}
	if s := cat.Suggest(id); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return errors.New(msg + `; "customs catalog list" shows every vendor`)
}

// vendorEdges puts the edges from id first, then those to it, each in catalog order.
func vendorEdges(cat *catalog.Catalog, id string) []catalog.Edge {
	edges := cat.Edges(id)
	slices.SortStableFunc(edges, func(a, b catalog.Edge) int {
		return boolRank(a.From != id) - boolRank(b.From != id)
	})
	return edges
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func listVendors(w io.Writer, cat *catalog.Catalog, category string, asJSON bool) error {
	var vendors []*catalog.Vendor
	for _, v := range cat.Vendors() {
		if category == "" || v.Category == category {
			vendors = append(vendors, v)
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false) // auth strings such as "Bearer <key>" stay readable
		for _, v := range vendors {
			if err := enc.Encode(v); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCATEGORY\tCOUNTRY\tNAME\tHOSTS")
	for _, v := range vendors {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", v.ID, v.Category, v.Country, v.Name, len(v.Hosts))
	}
	return tw.Flush()
}

func showVendorJSON(w io.Writer, v *catalog.Vendor, edges []catalog.Edge) error {
	out := struct {
		*catalog.Vendor
		Edges []catalog.Edge `json:"edges"`
	}{v, edges}
	if out.Edges == nil {
		out.Edges = []catalog.Edge{} // an empty list, not null, for jq
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// textWidth is where show wraps prose; tables are left as wide as they are.
const textWidth = 100

func showVendor(w io.Writer, v *catalog.Vendor, edges []catalog.Edge) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", v.ID, v.Name)
	field := func(label, value string) {
		if value != "" {
			b.WriteString(wrap(fmt.Sprintf("  %-14s", label), value))
		}
	}
	category := v.Category
	if v.Subcategory != "" {
		category += " (" + v.Subcategory + ")"
	}
	field("category", category)
	hq := verified(v.HeadquartersVerified)
	if v.HeadquartersNote != "" {
		hq += "; " + v.HeadquartersNote
	}
	field("headquarters", v.Country+" ("+hq+")")
	field("jurisdiction", v.JurisdictionNotes)
	auth := v.Auth
	if v.AuthVerified != nil && auth != "" {
		auth += " (" + verified(*v.AuthVerified) + ")"
	}
	field("auth", auth)
	field("transport", v.Transport)

	fmt.Fprintf(&b, "\nhosts (%d)\n", len(v.Hosts))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, h := range v.Hosts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", h.Pattern, h.Match, verified(h.Verified), h.Evidence, h.Role)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(v.Endpoints) > 0 {
		fmt.Fprintf(&b, "\nendpoints (%d)\n", len(v.Endpoints))
		for _, e := range v.Endpoints {
			line := "  " + e.Method + " " + e.Path
			if e.Host != "" {
				line += " on " + e.Host
			}
			if e.ContentType != "" {
				line += "  " + e.ContentType
			}
			fmt.Fprintf(&b, "%s  (%s)\n", line, verified(e.Verified))
			for _, f := range []struct{ label, value string }{
				{"prompt", strings.Join(e.PromptFields, ", ")},
				{"files", strings.Join(e.FileFields, ", ")},
				{"identity", strings.Join(e.IdentityFields, ", ")},
				{"encoding", e.Encoding},
				{"notes", e.Notes},
			} {
				if f.value != "" {
					b.WriteString(wrap(fmt.Sprintf("      %-10s", f.label), f.value))
				}
			}
		}
	}

	b.WriteString("\nsubprocessors")
	switch s := v.Subprocessors; {
	case s == nil:
		b.WriteString(": not recorded\n")
	case len(s.Entries) == 0:
		b.WriteString(": none recorded\n")
		b.WriteString(wrap("  ", s.Status))
	default:
		fmt.Fprintf(&b, " (%d", len(s.Entries))
		if s.VersionSeen != "" {
			fmt.Fprintf(&b, ", list seen %s", s.VersionSeen)
		}
		if s.Verified != nil {
			fmt.Fprintf(&b, ", %s", verified(*s.Verified))
		}
		b.WriteString(")\n")
		if s.Source != "" {
			b.WriteString(wrap("  source  ", s.Source))
		}
		if s.Notes != "" {
			b.WriteString(wrap("  note    ", s.Notes))
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, e := range s.Entries {
			where := strings.Join(e.Countries, " ")
			if e.Location != "" {
				where = e.Location
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.Name, e.Purpose, where)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if s.UnverifiedAdditions != "" {
			b.WriteString(wrap("  unverified  ", s.UnverifiedAdditions))
		}
	}

	if len(edges) == 0 {
		b.WriteString("\nsupply chain: none recorded\n")
	} else {
		fmt.Fprintf(&b, "\nsupply chain (%d)\n", len(edges))
	}
	for _, g := range groupEdges(v.ID, edges) {
		fmt.Fprintf(&b, "  %s -> %s  %s  (%s, %s)\n", strings.Join(g.from, ", "), strings.Join(g.to, ", "), g.Kind, verified(g.Verified), g.Evidence)
		if g.Detail != "" {
			b.WriteString(wrap("      ", g.Detail))
		}
	}

	if len(v.Sources) > 0 {
		b.WriteString("\nsources\n")
		for _, s := range v.Sources {
			if s.Note != "" {
				fmt.Fprintf(&b, "  %s  [%s]\n", s.URL, s.Note)
			} else {
				fmt.Fprintf(&b, "  %s\n", s.URL)
			}
		}
	}
	// tabwriter pads the last column too; trailing blanks would only trouble diffs.
	var out strings.Builder
	for line := range strings.Lines(b.String()) {
		out.WriteString(strings.TrimRight(line, " \n") + "\n")
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// edgeGroup is edges of one relationship that share the shown vendor's end, printed as one
// line ("openai -> statsig, sentry, datadog") so that their common detail is printed once.
type edgeGroup struct {
	catalog.Edge
	from, to []string
}

func groupEdges(id string, edges []catalog.Edge) []edgeGroup {
	var groups []edgeGroup
	for _, e := range edges {
		from, to := e.From, e.To
		if e.FromExternal {
			from += " (outside company)"
		}
		if e.ToExternal {
			to += " (outside company)"
		}
		if n := len(groups); n > 0 {
			g := &groups[n-1]
			same := g.Kind == e.Kind && g.Detail == e.Detail && g.Verified == e.Verified && g.Evidence == e.Evidence
			switch {
			case same && e.From == id && g.From == id:
				g.to = append(g.to, to)
				continue
			case same && e.To == id && g.To == id && g.From != id:
				g.from = append(g.from, from)
				continue
			}
		}
		groups = append(groups, edgeGroup{Edge: e, from: []string{from}, to: []string{to}})
	}
	return groups
}

func verified(ok bool) string {
	if ok {
		return "verified"
	}
	return "unverified"
}

// wrap writes text after prefix, wrapped at textWidth with continuation lines indented to the
// prefix's width. A word longer than the line (a URL) is kept whole.
func wrap(prefix, text string) string {
	indent := strings.Repeat(" ", len(prefix))
	var b strings.Builder
	line := prefix
	empty := true
	for word := range strings.FieldsSeq(text) {
		if !empty && len(line)+1+len(word) > textWidth {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}
