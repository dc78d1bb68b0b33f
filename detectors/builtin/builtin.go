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

// Detectors returns every built-in detector; codenames are the operator's confidential project
// names for the codename marker.
func Detectors(codenames []string) ([]detectors.Detector, error) {
	var all []detectors.Detector
	for _, part := range []struct {
		name string
		load func() ([]detectors.Detector, error)
	}{
		{"secrets", secrets.Detectors},
		{"pii", pii.Detectors},
		{"content", func() ([]detectors.Detector, error) { return content.Detectors(codenames) }},
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
