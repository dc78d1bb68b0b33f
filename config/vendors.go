package config

import (
	"errors"
	"fmt"

	"github.com/customs-dev/customs/catalog"
)

// Vendor adds a vendor to the catalog, or extends the built-in vendor with the same ID: its
// hosts are added and the fields given replace the built-in ones. A new vendor needs name,
// category, country and at least one host.
type Vendor struct {
	ID                string   `yaml:"id"`
	Name              string   `yaml:"name"`
	Category          string   `yaml:"category"` // as in `customs catalog list`: ai-provider, analytics, ...
	Country           string   `yaml:"country"`  // ISO 3166-1 alpha-2 code of the head office
	JurisdictionNotes string   `yaml:"jurisdiction_notes"`
	Hosts             []string `yaml:"hosts"` // "api.example.com", or "*.example.com" for any host below it
}

// CatalogExtensions returns the file's vendors in the form catalog.Extend takes.
func (c Config) CatalogExtensions() []catalog.Vendor {
	ext := make([]catalog.Vendor, len(c.Vendors))
	for i, v := range c.Vendors {
		ext[i] = catalog.Vendor{ID: v.ID, Name: v.Name, Category: v.Category, Country: v.Country, JurisdictionNotes: v.JurisdictionNotes}
		for _, h := range v.Hosts {
			ext[i].Hosts = append(ext[i].Hosts, catalog.Host{Pattern: h})
		}
	}
	return ext
}

// validateVendors applies the vendors to the built-in catalog, as serve will, and places each
// problem the catalog reports at the value it concerns.
func (c *Config) validateVendors(v *validator) {
	if len(c.Vendors) == 0 {
		return
	}
	base, err := catalog.Builtin()
	if err != nil {
		v.errorf("vendors", "%v", err)
		return
	}
	_, err = catalog.Extend(base, c.CatalogExtensions())
	var es catalog.ExtensionErrors
	switch {
	case errors.As(err, &es):
		for _, e := range es {
			msg := e.Msg
			if e.First >= 0 {
				msg += fmt.Sprintf(" (first defined in vendors[%d])", e.First)
			}
			v.errorf(fmt.Sprintf("vendors[%d].%s", e.Index, e.Field), "%s", msg)
		}
	case err != nil:
		v.errorf("vendors", "%v", err)
	}
}
