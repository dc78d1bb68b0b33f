package eval

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Result is one run of the scorer, as results.json commits it.
type Result struct {
	Date            string `json:"date"`
	GoVersion       string `json:"go_version"`
	GitleaksVersion string `json:"gitleaks_version"` // "" when gitleaks was not run
	Fixtures        int    `json:"fixtures"`

	Secrets     []Row `json:"secrets"` // by provider
	SecretTotal Row   `json:"secret_total"`
	Sources     []Row `json:"sources"` // secret fixtures by source (gitleaks, trufflehog)
	// Excluded counts the tps left out of recall by reason: a format check (github-crc32,
	// jwt, iban-mod97, …) or a by-design rule (placeholder, stripe-test-key).
	Excluded map[string]int `json:"excluded"`
	// Neutral and Home split the provider rows by source: trufflehog's tables are neutral
	// ground for both tools, gitleaks' own rule samples are gitleaks' home ground (it passes
	// them by construction).
	Neutral  []Row `json:"neutral"`
	Home     []Row `json:"home"`
	PII      []Row `json:"pii"` // by expected detector
	PIITotal Row   `json:"pii_total"`

	Code *CodeResult `json:"code,omitempty"`
}

// Summarise fills the tables of r from outcomes.
func (r *Result) Summarise(os []Outcome) {
	gitleaks := r.GitleaksVersion != ""
	r.Fixtures = len(os)
	r.Secrets, r.PII, r.SecretTotal, r.PIITotal = Tables(os, gitleaks)
	r.Excluded = map[string]int{}
	for i := range os {
		if os[i].Invalid != "" {
			r.Excluded[os[i].Invalid]++
		}
	}
	bySource := map[string]*Row{}
	byProvider := map[string]map[string]*Row{SourceGitleaks: {}, SourceTrufflehog: {}}
	for i := range os {
		o := &os[i]
		if o.Fixture.PII() {
			continue
		}
		rowOf(bySource, o.Fixture.Source).add(o, gitleaks)
		if m := byProvider[o.Fixture.Source]; m != nil {
			rowOf(m, o.Fixture.Provider).add(o, gitleaks)
		}
	}
	r.Sources = sorted(bySource)
	r.Home, r.Neutral = sorted(byProvider[SourceGitleaks]), sorted(byProvider[SourceTrufflehog])
}

func rowOf(m map[string]*Row, name string) *Row {
	r := m[name]
	if r == nil {
		r = &Row{Name: name}
		m[name] = r
	}
	return r
}

// BothCover lists the providers gitleaks has a rule of its own for (those its rule samples
// name), the ones the goal "customs ≥ gitleaks on every provider both cover" is about; a
// trufflehog-only vendor that gitleaks finds through generic-api-key is not among them.
func (r *Result) BothCover() map[string]bool {
	m := map[string]bool{}
	for _, row := range r.Home {
		if row.TP > 0 {
			m[row.Name] = true
		}
	}
	return m
}

// Below lists the providers both cover whose rows (Neutral or Home) show customs below
// gitleaks in some wrapping.
func (r *Result) Below(rows []Row) []string {
	both := r.BothCover()
	var below []string
	for _, row := range rows {
		if !both[row.Name] || row.TP == 0 {
			continue
		}
		for _, w := range Wrappings {
			if row.CustomsFound[w] < row.GitleaksFound[w] {
				below = append(below, row.Name)
				break
			}
		}
	}
	return below
}

// Provider returns the row of a secret provider.
func (r *Result) Provider(name string) (Row, bool) {
	for _, row := range r.Secrets {
		if row.Name == name {
			return row, true
		}
	}
	return Row{}, false
}

func pct(x float64) string {
	if x < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// Print writes the tables.
func (r *Result) Print(w io.Writer) {
	gitleaks := r.GitleaksVersion != ""
	fmt.Fprintf(w, "customs external evaluation, %s, %s", r.Date, r.GoVersion)
	if gitleaks {
		fmt.Fprintf(w, ", gitleaks %s\n", r.GitleaksVersion)
	} else {
		fmt.Fprintf(w, "\ngitleaks: not installed\n")
	}
	invalid := r.SecretTotal.Invalid + r.PIITotal.Invalid
	reasons := make([]string, 0, len(r.Excluded))
	for _, k := range slices.Sorted(maps.Keys(r.Excluded)) {
		reasons = append(reasons, fmt.Sprintf("%s %d", k, r.Excluded[k]))
	}
	fmt.Fprintf(w, "%d fixtures; tps left out of recall for both tools (no live secret: customs stays silent by design): %d (%s)\n\n",
		r.Fixtures, invalid, strings.Join(reasons, ", "))
	if len(r.Secrets) > 0 {
		fmt.Fprintln(w, "Secrets by provider (recall on valid-format tps; fp = fixtures alarmed, text/json)")
		r.table(w, "provider", append(append([]Row{}, r.Secrets...), r.Sources...), r.SecretTotal, gitleaks)
		if gitleaks {
			both := r.BothCover()
			for _, part := range []struct {
				what string
				rows []Row
			}{
				{"trufflehog's tables (neutral)", r.Neutral},
				{"gitleaks' own rule samples (its home ground)", r.Home},
			} {
				n := 0
				for _, row := range part.rows {
					if both[row.Name] && row.TP > 0 {
						n++
					}
				}
				below := r.Below(part.rows)
				fmt.Fprintf(w, "providers both cover (%d with a gitleaks rule), on %s: %d with fixtures, customs below gitleaks on %d: %s\n",
					len(both), part.what, n, len(below), strings.Join(below, " "))
			}
		}
		fmt.Fprintln(w)
	}
	if len(r.PII) > 0 {
		fmt.Fprintln(w, "Personal data by expected detector")
		r.table(w, "detector", r.PII, r.PIITotal, false)
		fmt.Fprintln(w)
	}
	if r.Code != nil {
		r.Code.Print(w)
	}
}

func (r *Result) table(w io.Writer, what string, rows []Row, total Row, gitleaks bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := what + "\ttp\tinvalid\tfp\tcustoms text\tcustoms json\tcustoms fp"
	if gitleaks {
		head += "\tgitleaks text\tgitleaks json\tgitleaks fp"
	}
	fmt.Fprintln(tw, head+"\t")
	line := func(row Row) {
		s := fmt.Sprintf("%s\t%d\t%d\t%d\t%s\t%s\t%d/%d", row.Name, row.TP, row.Invalid, row.FP,
			pct(row.CustomsRecall(Text)), pct(row.CustomsRecall(JSON)), row.CustomsAlarms[Text], row.CustomsAlarms[JSON])
		if gitleaks {
			s += fmt.Sprintf("\t%s\t%s\t%d/%d", pct(row.GitleaksRecall(Text)), pct(row.GitleaksRecall(JSON)),
				row.GitleaksAlarms[Text], row.GitleaksAlarms[JSON])
		}
		fmt.Fprintln(tw, s+"\t")
	}
	for _, row := range rows {
		line(row)
	}
	line(total)
	tw.Flush()
}

// PrintMisses lists customs' misses (valid tps not found in some wrapping) and alarms on fp
// fixtures, masked, grouped by provider; "gitleaks:" names the wrappings in which gitleaks
// found (tp) or alarmed on (fp) the same fixture, when it ran.
func PrintMisses(w io.Writer, os []Outcome) {
	list := func(title string, keep func(o *Outcome) bool) {
		var sel []*Outcome
		for i := range os {
			if keep(&os[i]) {
				sel = append(sel, &os[i])
			}
		}
		sort.SliceStable(sel, func(i, j int) bool { return key(sel[i]) < key(sel[j]) })
		fmt.Fprintf(w, "%s: %d\n", title, len(sel))
		for _, o := range sel {
			f := o.Fixture
			gl := ""
			if g := wrappings(o.Gitleaks, false); g != "" {
				gl = " gitleaks:" + g
			}
			fmt.Fprintf(w, "  %-14s %-40s %-5s %s%s\n      %s\n", key(o), f.Rule, wrappings(o.Customs, f.Kind == TP), f.Origin, gl, Mask(f.Text, 240))
		}
	}
	list("customs misses", func(o *Outcome) bool {
		return o.Fixture.Kind == TP && o.Invalid == "" && !(o.Customs[Text] && o.Customs[JSON])
	})
	list("customs false positives", func(o *Outcome) bool {
		return o.Fixture.Kind == FP && (o.Customs[Text] || o.Customs[JSON])
	})
}

func key(o *Outcome) string {
	if o.Fixture.PII() {
		return o.Fixture.Detector
	}
	return o.Fixture.Provider
}

// wrappings names the wrappings in which a tp was missed (miss) or an fp alarmed.
func wrappings(b [2]bool, miss bool) string {
	var out []string
	for _, w := range Wrappings {
		if b[w] != miss {
			out = append(out, w.String())
		}
	}
	return strings.Join(out, "+")
}
