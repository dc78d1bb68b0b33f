// Package content holds customs' detectors for what a document is rather than what values it
// carries: classification markers (CONFIDENTIAL, ATTORNEY-CLIENT PRIVILEGED, TLP:RED, …), the
// operator's project codenames, and pasted source code.
//
// Markers are keyword detectors: the engine's automaton finds the phrases and Find only decides,
// from the bytes around a hit, whether the phrase is used as a label (upper case, alone on its
// line, in brackets or after "Classification:") or in running prose, and scores it accordingly.
// Source code is one keyword-less line scanner (code.source); the language of a reported block is
// computed on demand by GuessLanguage.
package content

import (
	"fmt"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Detectors returns the marker detectors, a codename detector for the operator's codenames
// (none when the list is empty) and the source-code detector.
func Detectors(codenames []string) ([]detectors.Detector, error) {
	ds := markerDetectors()
	cn, err := codenameDetector(codenames)
	if err != nil {
		return nil, err
	}
	if cn != nil {
		ds = append(ds, cn)
	}
	ds = append(ds, sourceDetector())
	return ds, nil
}

// codenameDetector builds marker.codename: whole-word, case-insensitive matches of the operator's
// project names.
func codenameDetector(names []string) (detectors.Detector, error) {
	var ps []phrase
	seen := map[string]bool{}
	var errs []string
	for _, raw := range names {
		name := strings.TrimSpace(raw)
		switch {
		case name == "":
			errs = append(errs, "empty codename")
			continue
		case len(name) < 3:
			errs = append(errs, fmt.Sprintf("codename %q is too short (at least 3 characters)", name))
			continue
		case strings.ContainsAny(name, "\n\r\t"):
			errs = append(errs, fmt.Sprintf("codename %q contains a line break or tab", name))
			continue
		}
		k := lower(name)
		if seen[k] {
			continue
		}
		seen[k] = true
		ps = append(ps, phrase{text: k, exact: name, prose: 0.8, upper: 1, label: 1})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("codenames: %s", strings.Join(errs, "; "))
	}
	if len(ps) == 0 {
		return nil, nil
	}
	first := ps[0].exact
	return newMarker(detectors.Meta{
		ID:       "marker.codename",
		Class:    detectors.Marker,
		Severity: detectors.High,
		Description: "One of the operator's confidential project codenames, as a whole word in any " +
			"case: confidence 1 written as configured or in upper case, 0.8 otherwise.",
		Examples: detectors.Examples{
			Match:   []string{"status of " + first + " for the board", "[" + strings.ToUpper(first) + "] launch plan"},
			NoMatch: []string{"nothing to see here", "x" + lower(first) + "y", first[:len(first)-1] + "_"},
		},
	}, ps), nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
