package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/detectors/jewels"
	"github.com/customs-dev/customs/rules"
)

// policy is what is in force from the rule files: their policies, the catalog with their vendors,
// and the detector engine with their detectors. It is built as one, so that a reload swaps all
// three or none.
type policy struct {
	set     *rules.Set
	catalog *catalog.Catalog
	engine  *detectors.Engine
	// custom are the rule files' detectors by engine ID, with the spec each came from.
	custom map[string]customDetector
}

type customDetector struct {
	det  detectors.Detector
	spec rules.DetectorSpec
}

// loadPolicy loads the rule files at paths (none: the embedded default pack) on top of cfg's
// catalog and codenames. Every problem is reported at once, at its place in a rule file.
func loadPolicy(cfg config.Config, paths []string) (*policy, error) {
	all, err := builtin.DetectorsWith(builtin.Options{Codenames: cfg.Codenames, ReportTestValues: cfg.Detection.ReportTestValues})
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	builtinIDs := map[string]bool{}
	ids := make([]string, 0, len(all))
	for _, d := range all {
		builtinIDs[d.Meta().ID] = true
		ids = append(ids, d.Meta().ID)
	}
	ids = append(ids, jewels.IDs...) // the crown-jewel findings: customs jewels, the echo
	set := rules.Default()
	if len(paths) > 0 {
		// The built-in IDs, so that a condition naming a detector none has is an error
		// (has_detector("pii.emial") would be false for every flow).
		if set, err = rules.LoadWith(rules.Options{Detectors: ids}, paths...); err != nil {
			return nil, err
		}
	}
	p := &policy{set: set, custom: map[string]customDetector{}}
	var errs rules.Errors

	cat, err := loadCatalog(cfg)
	if err != nil {
		return nil, fmt.Errorf("vendor catalog: %w", err)
	}
	if len(set.Vendors) > 0 {
		ext := make([]catalog.Vendor, len(set.Vendors))
		for i, v := range set.Vendors {
			ext[i] = catalog.Vendor{ID: v.ID, Name: v.Name, Category: v.Category, Country: v.Country, JurisdictionNotes: v.JurisdictionNotes}
			for _, h := range v.Hosts {
				ext[i].Hosts = append(ext[i].Hosts, catalog.Host{Pattern: h})
			}
		}
		extended, err := catalog.Extend(cat, ext)
		var ees catalog.ExtensionErrors
		switch {
		case errors.As(err, &ees):
			for _, e := range ees {
				msg := e.Msg
				if e.First >= 0 {
					msg += " (first defined at " + set.Vendors[e.First].Pos.String() + ")"
				}
				errs = append(errs, errorAt(set.Vendors[e.Index].At(e.Field), "vendor "+set.Vendors[e.Index].ID+": "+e.Field+": "+msg))
			}
		case err != nil:
			return nil, fmt.Errorf("vendors in the rule files: %w", err)
		default:
			cat = extended
		}
	}
	p.catalog = cat

	for _, spec := range set.Detectors {
		d := patternFrom(spec)
		id := d.M.ID
		if builtinIDs[id] {
			errs = append(errs, errorAt(spec.Pos, fmt.Sprintf("detector %s: a built-in detector has this ID", id)))
			continue
		}
		p.custom[id] = customDetector{det: d, spec: spec}
		all = append(all, d)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if p.engine, err = detectors.New(all); err != nil {
		// The rule loader checked IDs, classes and patterns; what is left is the engine's to say.
		return nil, fmt.Errorf("detectors: %w", err)
	}
	return p, nil
}

func patternFrom(spec rules.DetectorSpec) *detectors.Pattern {
	sev := detectors.Severity(spec.Severity)
	if sev == "" {
		sev = detectors.Medium
	}
	ex := detectors.Examples{}
	for _, e := range spec.Examples.Match {
		ex.Match = append(ex.Match, e.Text)
	}
	for _, e := range spec.Examples.NoMatch {
		ex.NoMatch = append(ex.NoMatch, e.Text)
	}
	return &detectors.Pattern{
		M: detectors.Meta{ID: spec.FullID(), Class: detectors.Class(spec.Class), Severity: sev,
			Description: spec.Description, Keywords: spec.Keywords, Examples: ex},
		Regexp: spec.Pattern, Group: spec.Group, Window: spec.Window, Back: spec.Back, Boundary: spec.Boundary,
		MinEntropy: spec.MinEntropy, Placeholders: spec.Placeholders, Confidence: spec.Confidence,
	}
}

func errorAt(p rules.Pos, msg string) *rules.Error {
	return &rules.Error{File: p.File, Line: p.Line, Col: p.Col, Msg: msg}
}

// loadPolicyAndKey is what every offline inspecting command (scan, rules test, replay) starts
// with: the rules at paths (the command line's; when it names none, the config's, else the
// embedded pack), printed with carets and returned as ruleErrors when they do not load, and the
// installation's finding key (never created here, so that a dry run leaves no trace).
func loadPolicyAndKey(cfg config.Config, paths []string, stderr io.Writer) (*policy, *detectors.Hasher, error) {
	if len(paths) == 0 {
		paths = cfg.Rules
	}
	pol, err := loadPolicy(cfg, paths)
	if err != nil {
		printRuleErrors(stderr, err)
		return nil, nil, ruleErrors{err}
	}
	hasher, err := loadHasher(cfg, false)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return pol, hasher, nil
}
