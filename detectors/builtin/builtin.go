// Package builtin lists customs' built-in detectors, in order: secrets first (a secret inside
// personal data is still a secret), then personal data, then markers and source code.
// Registration is explicit, here, with no init() side effects.
package builtin

import (
	"fmt"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/content"
	"github.com/customs-dev/customs/detectors/pii"
	"github.com/customs-dev/customs/detectors/secrets"
)

// Options configure the built-in detectors.
type Options struct {
	Codenames []string // the operator's confidential project names, for the codename marker
	// ReportTestValues reports the published test and documentation values of personal data
	// (test cards, example IBANs, advertising SSNs) that are dropped by default.
	ReportTestValues bool
}

// Detectors returns every built-in detector with the default options; codenames are the
// operator's confidential project names for the codename marker.
func Detectors(codenames []string) ([]detectors.Detector, error) {
	return DetectorsWith(Options{Codenames: codenames})
}

// DetectorsWith returns every built-in detector built with o.
func DetectorsWith(o Options) ([]detectors.Detector, error) {
	var all []detectors.Detector
	for _, part := range []struct {
		name string
		load func() ([]detectors.Detector, error)
	}{
		{"secrets", secrets.Detectors},
		{"pii", func() ([]detectors.Detector, error) {
			return pii.DetectorsWith(pii.Options{ReportTestValues: o.ReportTestValues})
		}},
		{"content", func() ([]detectors.Detector, error) { return content.Detectors(o.Codenames) }},
	} {
		ds, err := part.load()
		if err != nil {
			return nil, fmt.Errorf("built-in %s detectors: %w", part.name, err)
		}
		all = append(all, ds...)
	}
	return all, nil
}

// Engine compiles the built-in detectors into an engine.
func Engine(codenames []string) (*detectors.Engine, error) {
	ds, err := Detectors(codenames)
	if err != nil {
		return nil, err
	}
	return detectors.New(ds)
}
