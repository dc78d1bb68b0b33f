package console

import (
	"net/http"
	"time"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/rules"
)

// Rules is what serve's rule reloader knows: the rules in force and how the last reload went.
type Rules interface {
	InForce() RulesInForce
}

// RulesInForce are the rules the proxy applies now.
type RulesInForce struct {
	// Set is the rule set in force (the embedded default pack when no files are given).
	Set *rules.Set
	// From says where the rules come from: "the embedded default pack", or the files.
	From string
	// Loaded is when the rules in force were loaded (at start or by the last good reload).
	Loaded time.Time
	// Watch is how often the files are checked for changes (0: on SIGHUP only).
	Watch time.Duration
	// Detectors are every detector in force, built-in and the files' own.
	Detectors []Detector
	// Reloads and Failures count reloads that took effect and reloads rejected since start;
	// Last is the last attempt, nil when there was none.
	Reloads, Failures uint64
	Last              *Reload
}

// Detector is one detector in force. Keywords and patterns are not shown: a rule file's
// keywords are often the very code names it protects.
type Detector struct {
	ID       string `json:"id"`
	Class    string `json:"class"`
	Severity string `json:"severity"`
	Custom   bool   `json:"custom,omitempty"`
}

// Reload is one attempt to reload the rule files.
type Reload struct {
	At      time.Time `json:"at"`
	Trigger string    `json:"trigger"` // SIGHUP, rule files changed
	OK      bool      `json:"ok"`
	// Errors are the reasons a rejected reload gave, each "file:line:col: message".
	Errors []string `json:"errors,omitempty"`
}

type policyView struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	When        string `json:"when"`
	Action      string `json:"action"`
	Message     string `json:"message,omitempty"`
	Severity    string `json:"severity,omitempty"`
	Continue    bool   `json:"continue,omitempty"`
	At          string `json:"at,omitempty"` // file:line:col
}

// rules answers GET /ui/api/rules.
func (c *Console) rules(w http.ResponseWriter, _ *http.Request) {
	if c.o.Rules == nil {
		writeError(w, http.StatusServiceUnavailable, "no rules to show")
		return
	}
	in := c.o.Rules.InForce()
	out := struct {
		From      string       `json:"from"`
		Files     []string     `json:"files"`
		Loaded    time.Time    `json:"loaded"`
		Watch     string       `json:"watch,omitempty"`
		Policies  []policyView `json:"policies"`
		Detectors []Detector   `json:"detectors"`
		Vendors   []string     `json:"vendors,omitempty"`
		Tests     int          `json:"tests"`
		Reloads   uint64       `json:"reloads"`
		Failures  uint64       `json:"failures"`
		Last      *Reload      `json:"last_reload,omitempty"`
	}{From: in.From, Loaded: in.Loaded, Detectors: in.Detectors, Reloads: in.Reloads, Failures: in.Failures, Last: in.Last,
		Files: []string{}, Policies: []policyView{}}
	if in.Watch > 0 {
		out.Watch = in.Watch.String()
	}
	if s := in.Set; s != nil {
		out.Files = append(out.Files, s.Files...)
		out.Tests = len(s.Tests)
		for _, p := range s.Policies {
			pv := policyView{ID: p.ID, Description: p.Description, When: p.When, Action: string(p.Action), Message: p.Message,
				Severity: p.Severity, Continue: p.Continue}
			if p.Pos.File != "" {
				pv.At = p.Pos.String()
			}
			out.Policies = append(out.Policies, pv)
		}
		for _, v := range s.Vendors {
			out.Vendors = append(out.Vendors, v.ID)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type vendorRow struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Category      string `json:"category"`
	Subcategory   string `json:"subcategory,omitempty"`
	Headquarters  string `json:"headquarters,omitempty"`
	HQVerified    bool   `json:"headquarters_verified"`
	Hosts         int    `json:"hosts"`
	Endpoints     int    `json:"endpoints"`
	Subprocessors int    `json:"subprocessors"`
	Edges         int    `json:"edges"`
	Sources       int    `json:"sources"`
	Operator      bool   `json:"operator,omitempty"` // added or extended by the configuration
}

// catalogList answers GET /ui/api/catalog: every vendor, one row each, and the categories.
func (c *Console) catalogList(w http.ResponseWriter, _ *http.Request) {
	cat := c.catalog()
	rows := []vendorRow{}
	for _, v := range cat.Vendors() {
		row := vendorRow{ID: v.ID, Name: v.Name, Category: v.Category, Subcategory: v.Subcategory, Headquarters: v.Country,
			HQVerified: v.HeadquartersVerified, Hosts: len(v.Hosts), Endpoints: len(v.Endpoints), Edges: len(cat.Edges(v.ID)),
			Sources: len(v.Sources)}
		if v.Subprocessors != nil {
			row.Subprocessors = len(v.Subprocessors.Entries)
		}
		for _, h := range v.Hosts {
			if h.Evidence == catalog.EvidenceOperator {
				row.Operator = true
			}
		}
		rows = append(rows, row)
	}
	writeJSON(w, http.StatusOK, struct {
		Categories []string    `json:"categories"`
		Vendors    []vendorRow `json:"vendors"`
	}{catalog.Categories(), rows})
}

// catalogVendor answers GET /ui/api/catalog/{id}: the vendor as `customs catalog show --json`
// has it, with its supply-chain edges.
func (c *Console) catalogVendor(w http.ResponseWriter, r *http.Request) {
	cat := c.catalog()
	v, ok := cat.Vendor(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "no vendor "+r.PathValue("id")+" in the catalog")
		return
	}
	edges := cat.Edges(v.ID)
	if edges == nil {
		edges = []catalog.Edge{}
	}
	writeJSON(w, http.StatusOK, struct {
		*catalog.Vendor
		Edges []catalog.Edge `json:"edges"`
	}{v, edges})
}
