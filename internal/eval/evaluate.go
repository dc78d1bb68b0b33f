package eval

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// Outcome is what each tool did with one fixture, per wrapping.
type Outcome struct {
	Fixture  *Fixture
	Invalid  string  // why a tp is left out of recall: the format check it fails, or a by-design reason ("" if it counts)
	Customs  [2]bool // found (tp) or alarmed (fp), per Wrapping
	Gitleaks [2]bool
}

// Row is one line of a table: a provider or a PII type.
type Row struct {
	Name    string `json:"name"`
	TP      int    `json:"tp"`                // valid-format true positives
	Invalid int    `json:"invalid,omitempty"` // invalid-format true positives, out of recall
	FP      int    `json:"fp"`                // false-positive fixtures
	// Found and Alarms count, per wrapping (text, json), the tps found and the fps alarmed.
	CustomsFound   [2]int `json:"customs_found"`
	CustomsAlarms  [2]int `json:"customs_fp"`
	GitleaksFound  [2]int `json:"gitleaks_found"`
	GitleaksAlarms [2]int `json:"gitleaks_fp"`
}

// CustomsRecall is the share of valid tps customs found in wrapping w (-1 without tps).
func (r *Row) CustomsRecall(w Wrapping) float64 { return ratio(r.CustomsFound[w], r.TP) }

// GitleaksRecall is gitleaks' share in wrapping w (-1 without tps).
func (r *Row) GitleaksRecall(w Wrapping) float64 { return ratio(r.GitleaksFound[w], r.TP) }

func ratio(a, b int) float64 {
	if b == 0 {
		return -1
	}
	return float64(a) / float64(b)
}

func (r *Row) add(o *Outcome, gitleaks bool) {
	switch {
	case o.Fixture.Kind == FP:
		r.FP++
	case o.Invalid != "":
		r.Invalid++
		return
	default:
		r.TP++
	}
	for _, w := range Wrappings {
		c, g := b2i(o.Customs[w]), b2i(o.Gitleaks[w] && gitleaks)
		if o.Fixture.Kind == FP {
			r.CustomsAlarms[w] += c
			r.GitleaksAlarms[w] += g
		} else {
			r.CustomsFound[w] += c
			r.GitleaksFound[w] += g
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Evaluate runs customs, and gitleaks when bin is not "", on every fixture in both wrappings.
func Evaluate(fixtures []Fixture, c *Customs, gitleaksBin string) ([]Outcome, error) {
	out := make([]Outcome, len(fixtures))
	// The engine is safe for concurrent use: fixtures are shared among the cores.
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(fixtures); i = int(next.Add(1) - 1) {
				f := &fixtures[i]
				o := &out[i]
				o.Fixture, o.Invalid = f, Excluded(f)
				for _, w := range Wrappings {
					hits := c.Scan(w, f.Text)
					if f.Kind == TP {
						o.Customs[w] = Found(f, hits)
					} else {
						o.Customs[w] = Alarm(f, hits)
					}
				}
			}
		})
	}
	wg.Wait()
	docs := map[string][]byte{}
	for i := range fixtures {
		if f := &fixtures[i]; gitleaksBin != "" && !f.PII() {
			for _, w := range Wrappings {
				docs[docName(i, w)] = Wrap(w, f.Text)
			}
		}
	}
	if gitleaksBin == "" {
		return out, nil
	}
	found, err := RunGitleaks(gitleaksBin, docs)
	if err != nil {
		return nil, err
	}
	for i := range out {
		f := out[i].Fixture
		if f.PII() {
			continue
		}
		for _, w := range Wrappings {
			gs := found[docName(i, w)]
			if f.Kind == TP {
				out[i].Gitleaks[w] = GitleaksFound(f, string(docs[docName(i, w)]), gs)
			} else {
				out[i].Gitleaks[w] = len(gs) > 0
			}
		}
	}
	return out, nil
}

// docName names fixture i's document in a wrapping; the extension keeps gitleaks from skipping
// it as binary or by path.
func docName(i int, w Wrapping) string { return fmt.Sprintf("f%05d-%s.txt", i, w) }

// Tables groups outcomes into rows: secret fixtures by provider, PII fixtures by the detector
// they expect, each sorted by name, plus the two totals.
func Tables(os []Outcome, gitleaks bool) (secrets, pii []Row, secretTotal, piiTotal Row) {
	bySecret, byPII := map[string]*Row{}, map[string]*Row{}
	secretTotal.Name, piiTotal.Name = "overall", "overall"
	for i := range os {
		o := &os[i]
		m, key, total := bySecret, o.Fixture.Provider, &secretTotal
		if o.Fixture.PII() {
			m, key, total = byPII, o.Fixture.Detector, &piiTotal
		}
		r := m[key]
		if r == nil {
			r = &Row{Name: key}
			m[key] = r
		}
		r.add(o, gitleaks)
		total.add(o, gitleaks)
	}
	return sorted(bySecret), sorted(byPII), secretTotal, piiTotal
}

func sorted(m map[string]*Row) []Row {
	out := make([]Row, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
