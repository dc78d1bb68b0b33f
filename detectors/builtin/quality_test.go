package builtin_test

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/detectors/internal/corpusgen"
)

// The quality bar of issue 4: recall and precision of at least 0.98 for every secret detector
// and every checksummed personal-data detector, and no finding at all on a decoy.
const qualityBar = 0.98

// barred reports whether a detector is held to the bar: all secrets, and the personal data
// whose format carries a checksum or a validated structure.
func barred(id string) bool {
	if strings.HasPrefix(id, "secret.") {
		return true
	}
	switch id {
	case "pii.card", "pii.iban", "pii.ssn", "pii.nino":
		return true
	}
	for _, n := range []string{"nir", "steuer", "dni", "nie", "codice", "fiscal", "bsn"} {
		if strings.HasPrefix(id, "pii.") && strings.Contains(id, n) {
			return true
		}
	}
	return false
}

// labelClass is the class a label's detector ID belongs to (infra.* is personal data).
func labelClass(id string) detectors.Class {
	ns, _, _ := strings.Cut(id, ".")
	if ns == "infra" {
		return detectors.PII
	}
	return detectors.Class(ns)
}

type finding struct {
	id         string
	class      detectors.Class
	start, end int
}

func overlaps(a0, a1, b0, b1 int) bool { return a0 < b1 && b0 < a1 }

type row struct {
	id                            string
	positives, found, foundByAny  int
	encoded, encodedFound         int
	findings, falsePos, decoyHits int
}

// TestQuality measures the built-in detectors on the committed labelled corpus
// (testdata/corpus, see its README).
//
// Matching rules:
//   - A positive label is found when a finding of its detector overlaps its span. Recall
//     counts only that detector; "found by class" also counts any detector of the same class
//     (a generic password detector on an AWS secret still catches the secret).
//   - A finding is a true positive when it overlaps a positive label of its own class; extra
//     findings of other detectors of that class on the same bytes are not false positives.
//     Every other finding is a false positive of its detector.
//   - "recall, plain text" leaves out values that appear only base64- or URL-encoded (the
//     engine must decode those); "encoded found" counts them.
//   - A decoy must produce no finding: a finding overlapping a decoy fails the test unless it
//     is a true positive for a positive label that overlaps the same bytes (the password of
//     https://user:pass@host is a secret even though pass@host is not an e-mail address).
//     Source-code findings span whole blocks, not values: one covering a decoy is only a code
//     false positive.
func TestQuality(t *testing.T) {
	dir := "../../testdata/corpus"
	if d := os.Getenv("CUSTOMS_CORPUS"); d != "" {
		dir = d // a held-out corpus: go run ./detectors/internal/corpusgen/cmd -seed 7 -out DIR
	}
	c, err := corpusgen.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := builtin.Engine(nil)
	if err != nil {
		t.Fatal(err)
	}
	byDoc := make([][]corpusgen.Label, len(c.Docs))
	for _, l := range c.Labels {
		byDoc[l.Doc] = append(byDoc[l.Doc], l)
	}
	rows := map[string]*row{}
	get := func(id string) *row {
		r := rows[id]
		if r == nil {
			r = &row{id: id}
			rows[id] = r
		}
		return r
	}
	var misses, fps, decoyHits []string
	missWhere := map[string]map[string]int{} // detector -> document kind (and encoding) -> misses
	for _, d := range c.Docs {
		var fs []finding
		e.Scan(d.Text, func(det detectors.Detector, m detectors.Match) {
			meta := det.Meta()
			fs = append(fs, finding{meta.ID, meta.Class, m.Start, m.End})
		})
		fs = append(fs, encodedFindings(e, d.Text)...)
		labels := byDoc[d.Doc]
		for _, l := range labels {
			if l.Detector == "" {
				continue
			}
			r := get(l.Detector)
			r.positives++
			if l.Encoding != "" {
				r.encoded++
			}
			exact, byClass := false, false
			for _, f := range fs {
				if !overlaps(f.start, f.end, l.Start, l.End) {
					continue
				}
				if f.id == l.Detector {
					exact = true
				}
				if f.class == labelClass(l.Detector) {
					byClass = true
				}
			}
			if exact {
				r.found++
				if l.Encoding != "" {
					r.encodedFound++
				}
			} else if barred(l.Detector) {
				if missWhere[l.Detector] == nil {
					missWhere[l.Detector] = map[string]int{}
				}
				missWhere[l.Detector][d.Kind+encNote(l)]++
				misses = append(misses, fmt.Sprintf("miss %s doc %d (%s%s) %s", l.Detector, d.Doc, d.Kind, encNote(l), snippet(d.Text, l.Start, l.End)))
			}
			if byClass {
				r.foundByAny++
			}
		}
		for _, f := range fs {
			r := get(f.id)
			r.findings++
			tp := false
			for _, l := range labels {
				if l.Detector != "" && labelClass(l.Detector) == f.class && overlaps(f.start, f.end, l.Start, l.End) {
					tp = true
					break
				}
			}
			if !tp {
				r.falsePos++
				if barred(f.id) {
					fps = append(fps, fmt.Sprintf("false positive %s doc %d (%s) %s", f.id, d.Doc, d.Kind, snippet(d.Text, f.start, f.end)))
				}
			}
			for _, l := range labels {
				if l.Decoy != "" && !tp && f.class != detectors.Code && overlaps(f.start, f.end, l.Start, l.End) {
					r.decoyHits++
					decoyHits = append(decoyHits, fmt.Sprintf("decoy %s hit by %s doc %d (%s) %s", l.Decoy, f.id, d.Doc, d.Kind, snippet(d.Text, f.start, f.end)))
				}
			}
		}
	}

	table := qualityTable(strings.TrimPrefix(dir, "../../"), rows, len(c.Docs), len(c.Labels))
	t.Log("\n" + table)
	fmt.Print(table)

	show := func(what string, xs []string) {
		if len(xs) == 0 {
			return
		}
		t.Logf("%d %s, the first %d:", len(xs), what, min(len(xs), 60))
		for _, x := range xs[:min(len(xs), 60)] {
			t.Log("  " + x)
		}
	}
	var where []string
	for _, r := range sortedRows(rows) {
		if m := missWhere[r.id]; len(m) > 0 {
			var ks []string
			for k, n := range m {
				ks = append(ks, fmt.Sprintf("%s %d", k, n))
			}
			slices.Sort(ks)
			where = append(where, fmt.Sprintf("%s: %d missed: %s", r.id, r.positives-r.found, strings.Join(ks, "; ")))
		}
	}
	show("barred detectors with misses, by document kind", where)
	show("misses of barred detectors", misses)
	show("false positives of barred detectors", fps)
	show("findings on decoys", decoyHits)

	for _, r := range sortedRows(rows) {
		if !barred(r.id) {
			continue
		}
		if r.positives > 0 && recall(r) < qualityBar {
			t.Errorf("%s: recall %.3f (%d of %d) is below %.2f", r.id, recall(r), r.found, r.positives, qualityBar)
		}
		if r.findings > 0 && precision(r) < qualityBar {
			t.Errorf("%s: precision %.3f (%d false of %d findings) is below %.2f", r.id, precision(r), r.falsePos, r.findings, qualityBar)
		}
	}
	if len(decoyHits) > 0 {
		t.Errorf("%d findings on decoys (no finding may overlap a decoy)", len(decoyHits))
	}
}

func recall(r *row) float64 {
	if r.positives == 0 {
		return 1
	}
	return float64(r.found) / float64(r.positives)
}

func precision(r *row) float64 {
	if r.findings == 0 {
		return 1
	}
	return float64(r.findings-r.falsePos) / float64(r.findings)
}

func sortedRows(rows map[string]*row) []*row {
	var rs []*row
	for _, r := range rows {
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b *row) int { return cmp.Compare(a.id, b.id) })
	return rs
}

// qualityTable renders the per-detector table as Markdown, ready for an issue note.
func qualityTable(dir string, rows map[string]*row, docs, labels int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Detector quality on %s (%d documents, %d labels; bar %.2f on rows marked *):\n\n", dir, docs, labels, qualityBar)
	b.WriteString("| detector | positives | found | recall | recall, plain text | found by class | encoded found | findings | false pos. | on decoys | precision |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var tp, tf, tpos, tfound int
	for _, r := range sortedRows(rows) {
		mark := ""
		if barred(r.id) {
			mark = " *"
		}
		rec, plain, enc := "–", "–", "–"
		if r.positives > 0 {
			rec = fmt.Sprintf("%.3f", recall(r))
		}
		if n := r.positives - r.encoded; n > 0 {
			plain = fmt.Sprintf("%.3f", float64(r.found-r.encodedFound)/float64(n))
		}
		if r.encoded > 0 {
			enc = fmt.Sprintf("%d/%d", r.encodedFound, r.encoded)
		}
		prec := "–"
		if r.findings > 0 {
			prec = fmt.Sprintf("%.3f", precision(r))
		}
		fmt.Fprintf(&b, "| %s%s | %d | %d | %s | %s | %d | %s | %d | %d | %d | %s |\n", r.id, mark, r.positives, r.found, rec, plain, r.foundByAny, enc, r.findings, r.falsePos, r.decoyHits, prec)
		tpos += r.positives
		tfound += r.found
		tf += r.findings
		tp += r.findings - r.falsePos
	}
	if tpos > 0 && tf > 0 {
		fmt.Fprintf(&b, "| **all** | %d | %d | %.3f | | | | %d | %d | | %.3f |\n", tpos, tfound, float64(tfound)/float64(tpos), tf, tf-tp, float64(tp)/float64(tf))
	}
	return b.String()
}

func encNote(l corpusgen.Label) string {
	if l.Encoding == "" {
		return ""
	}
	return ", " + l.Encoding
}

// snippet quotes a span with a little context, cut short: enough to see why a detector missed
// or fired. The corpus is synthetic, so nothing real is printed.
func snippet(text string, start, end int) string {
	a, z := max(0, start-30), min(len(text), end+20)
	if end-start > 120 {
		return fmt.Sprintf("%q…%q", text[a:start+80], text[end-20:z])
	}
	return fmt.Sprintf("%q", text[a:z])
}

// encodedFindings runs the detectors where customs runs them on encoded text: over the nested
// segments extraction decodes (base64 runs, MIME-wrapped ones included). A finding in a decoded
// run is placed on the run's span in the document, which is what an encoded label marks.
func encodedFindings(e *detectors.Engine, doc string) []finding {
	// A media type extraction does not sniff as JSON, so the document is one text whose nested
	// segments name their offsets in it (body/base64@N).
	res := extract.Extract(&extract.Request{Method: "POST", Path: "/", ContentType: "text/x-corpus", Body: []byte(doc)}, extract.Limits{})
	var out []finding
	for _, sg := range res.Segments {
		rest, ok := strings.CutPrefix(sg.Path, "body/base64")
		if !ok || sg.Text == "" {
			continue
		}
		start := 0
		if after, ok := strings.CutPrefix(rest, "@"); ok {
			n, _, _ := strings.Cut(after, "/")
			start, _ = strconv.Atoi(n)
		}
		end := start
		for end < len(doc) && (isB64(doc[end]) || doc[end] == '\n' || doc[end] == '\r') {
			end++
		}
		e.Scan(sg.Text, func(det detectors.Detector, _ detectors.Match) {
			meta := det.Meta()
			out = append(out, finding{meta.ID, meta.Class, start, end})
		})
	}
	return out
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_' || c == '='
}
