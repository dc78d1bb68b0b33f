package content

import (
	"github.com/customs-dev/customs/detectors"
)

// phrase is one marker phrase and its confidence by how it is written:
//   - label: upper case and label-like (alone on its line, at a line start, at a line end, in
//     brackets or bold, after "Classification:" / "Subject:"), or mixed case framed the same way
//     (× 0.9);
//   - upper: upper case in the middle of a sentence ("this is CONFIDENTIAL, do not share");
//   - prose: any other case in running text ("keep this confidential"); 0 means not reported.
type phrase struct {
	text  string // lower-case keyword
	exact string // codenames: the spelling the operator gave (scores as upper)
	prose float64
	upper float64
	label float64
	// tail is an optional suffix that extends the match (TLP:AMBER+STRICT).
	tail string
}

type marker struct {
	meta    detectors.Meta
	phrases []phrase
}

var _ detectors.Detector = (*marker)(nil)

func newMarker(m detectors.Meta, ps []phrase) *marker {
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.text] {
			seen[p.text] = true
			m.Keywords = append(m.Keywords, p.text)
		}
	}
	return &marker{meta: m, phrases: ps}
}

func (d *marker) Meta() detectors.Meta { return d.meta }

func (d *marker) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h < 0 || h >= len(text) {
			continue
		}
		// The longest phrase at h.
		var best *phrase
		for k := range d.phrases {
			p := &d.phrases[k]
			if (best == nil || len(p.text) > len(best.text)) && hasPrefixFold(text[h:], p.text) {
				best = p
			}
		}
		if best == nil {
			continue
		}
		e := h + len(best.text)
		if best.tail != "" && hasPrefixFold(text[e:], best.tail) {
			e += len(best.tail)
		}
		if len(best.text) > 2 && best.text[len(best.text)-2:] == "//" {
			// SECRET//NOFORN, TOP SECRET//SCI//ORCON: the caveats belong to the label.
			for e < len(text) && e-h < 64 && (text[e] >= 'A' && text[e] <= 'Z' || text[e] >= '0' && text[e] <= '9' ||
				text[e] == '/' || text[e] == '-') {
				e++
			}
		}
		if isWord(best.text[0]) && h > 0 && isWordByte(text[h-1]) && !escapeBefore(text, h) ||
			isWord(best.text[len(best.text)-1]) && e < len(text) && isWordByte(text[e]) {
			continue
		}
		conf := markerConfidence(text, h, e, best)
		if conf <= 0 {
			continue
		}
		emit(detectors.Match{Start: h, End: e, Confidence: conf})
		last = e
	}
}

// escapeBefore: text[h-2:h] is a JSON/C escape such as \n or \t (raw JSON request bodies),
// which separates words like the character it stands for.
func escapeBefore(text string, h int) bool {
	return h >= 2 && text[h-2] == '\\' && (text[h-1] == 'n' || text[h-1] == 't' || text[h-1] == 'r')
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isWord(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// isWordByte: ASCII word characters continue a word; so do the bytes of a multi-byte letter
// (confidentialité), but not of typographic punctuation, which we treat as a boundary.
func isWordByte(c byte) bool { return isWord(c) }

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

func markerConfidence(text string, s, e int, p *phrase) float64 {
	v := text[s:e]
	upper := hasUpper(v) && !hasLower(v) || p.exact != "" && v == p.exact
	if !hasUpper(v) && keyLike(text, e) {
		return 0 // confidential: true, "internal only"= … : a field name, not a marking
	}
	lineStart := atLineStart(text, s)
	strictEnd, looseEnd := atLineEnd(text, e)
	framed := framedAt(text, s, e)
	header := afterHeader(text, s)
	switch {
	case upper && (lineStart || looseEnd || framed || header):
		return p.label
	case !upper && (framed || header || lineStart && strictEnd):
		return p.label * 0.9
	case upper && p.upper > 0:
		return p.upper
	}
	return p.prose
}

// keyLike: the phrase is followed by ':' or '=' and a value on the same line, or by a closing
// quote and ':' (a JSON key).
func keyLike(text string, e int) bool {
	k := e
	if k < len(text) && (text[k] == '"' || text[k] == '\'') {
		k++
	}
	for k < len(text) && text[k] == ' ' {
		k++
	}
	if k >= len(text) || text[k] != ':' && text[k] != '=' {
		return false
	}
	k++
	for k < len(text) && text[k] == ' ' {
		k++
	}
	return k < len(text) && text[k] != '\n' && text[k] != '\r'
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func hasLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			return true
		}
	}
	return false
}

// markup that may surround a label on its line: # CONFIDENTIAL, **CONFIDENTIAL**, > [!] …
const markup = " \t#*_>|[](){}<-=~`\"'/:.!"

// atLineStart: only markup between the start of the line and s.
func atLineStart(text string, s int) bool {
	for k := s - 1; k >= 0 && s-k <= 24; k-- {
		c := text[k]
		if c == '\n' || c == '\r' || escapeBefore(text, k+1) && text[k] != 't' {
			return true
		}
		if !containsByte(markup, c) {
			return false
		}
		if k == 0 {
			return true
		}
	}
	return s == 0
}

// atLineEnd reports whether only markup follows e on its line (strict), or markup that
// introduces a subtitle: "CONFIDENTIAL - Q3 board pack", "CONFIDENTIAL: do not forward",
// "SECRET//NOFORN" (loose).
func atLineEnd(text string, e int) (strict, loose bool) {
	sub := false
	for k := e; k < len(text) && k-e <= 24; k++ {
		c := text[k]
		if c == '\n' || c == '\r' || c == '\\' && k+1 < len(text) && (text[k+1] == 'n' || text[k+1] == 'r') {
			return !sub, true
		}
		if !containsByte(markup, c) {
			return false, sub
		}
		if c == ':' || c == '|' || c == '/' || c == '-' && k > e && text[k-1] == ' ' {
			sub = true
		}
	}
	if e+24 < len(text) {
		return false, sub
	}
	return !sub, true
}

// framedAt: brackets, parentheses, bold or quotes on both sides: [CONFIDENTIAL], **Internal Only**.
func framedAt(text string, s, e int) bool {
	l, r := s-1, e
	for l >= 0 && text[l] == ' ' {
		l--
	}
	for r < len(text) && text[r] == ' ' {
		r++
	}
	if l < 0 || r >= len(text) {
		return false
	}
	switch text[l] {
	case '[':
		return text[r] == ']'
	case '(':
		return text[r] == ')'
	case '{':
		return text[r] == '}'
	case '<':
		return text[r] == '>'
	case '*', '_':
		return text[r] == text[l]
	}
	return false
}

var headerWords = []string{"classification", "classified", "sensitivity", "label", "marking", "security",
	"status", "handling", "distribution", "subject", "access", "level", "caveat", "clearance", "document type",
	"confidentiality", "protective marking", "vertraulichkeit", "classification level", "data classification"}

// afterHeader: the line so far is a field name such as "Classification:" or "Subject:".
func afterHeader(text string, s int) bool {
	k := s - 1
	if k >= 0 && (text[k] == '"' || text[k] == '\'') {
		k-- // data_classification = "confidential"
	}
	for k >= 0 && (text[k] == ' ' || text[k] == '\t') {
		k--
	}
	if k < 0 || text[k] != ':' && text[k] != '=' {
		return false
	}
	k--
	for k >= 0 && text[k] == ' ' {
		k--
	}
	end := k + 1
	for _, w := range headerWords {
		if end >= len(w) && hasPrefixFold(text[end-len(w):end], w) && (end == len(w) || !isAlnum(text[end-len(w)-1])) {
			return true
		}
	}
	return false
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

func markerDetectors() []detectors.Detector {
	return []detectors.Detector{
		newMarker(detectors.Meta{
			ID:       "marker.classification",
			Class:    detectors.Marker,
			Severity: detectors.Medium,
			Description: "Document classification label: CONFIDENTIAL (STRICTLY / HIGHLY / COMPANY " +
				"CONFIDENTIAL, PROPRIETARY AND CONFIDENTIAL), INTERNAL ONLY / INTERNAL USE ONLY, " +
				"RESTRICTED, TOP SECRET, SECRET//…, NOFORN, OFFICIAL-SENSITIVE, COMMERCIAL IN CONFIDENCE, " +
				"TLP:RED and TLP:AMBER(+STRICT). Confidence 1 written as a label (upper case alone on a " +
				"line, at its start or end, in brackets or bold, after \"Classification:\"), 0.9 for the " +
				"same in mixed case, 0.7–1 in upper case mid-sentence; in lower-case prose only the " +
				"phrases that rarely occur otherwise are reported, at 0.3–0.7 (\"keep this confidential\" " +
				"0.3); RESTRICTED, CLASSIFIED and NOFORN only as labels.",
			Examples: detectors.Examples{
				Match: []string{
					"CONFIDENTIAL\nQ3 board pack",
					"[Internal Use Only] rollout plan for EMEA",
					"Classification: Restricted",
					"This memo is STRICTLY CONFIDENTIAL and must not leave the team.",
					"TLP:AMBER+STRICT - share with your organisation only",
					"SECRET//NOFORN",
					"**Proprietary and Confidential**",
					"please keep this confidential between us",
				},
				NoMatch: []string{
					"confidentiality agreements in general",
					"restricted access to the lab on weekends",
					"TLP:CLEAR advisory",
					"the secret sauce",
					"isConfidential := false",
					"internal_only_flag = true",
					"the Restricted Stock Unit plan",
				},
			},
		}, []phrase{
			{text: "confidential", prose: 0.3, upper: 0.7, label: 1},
			{text: "strictly confidential", prose: 0.6, upper: 0.9, label: 1},
			{text: "highly confidential", prose: 0.5, upper: 0.9, label: 1},
			{text: "company confidential", prose: 0.6, upper: 0.9, label: 1},
			{text: "business confidential", prose: 0.6, upper: 0.9, label: 1},
			{text: "proprietary and confidential", prose: 0.7, upper: 1, label: 1},
			{text: "proprietary & confidential", prose: 0.7, upper: 1, label: 1},
			{text: "proprietary/confidential", prose: 0.7, upper: 1, label: 1},
			{text: "confidential and proprietary", prose: 0.7, upper: 1, label: 1},
			{text: "confidential & proprietary", prose: 0.7, upper: 1, label: 1},
			{text: "confidential information", prose: 0.3, upper: 0.8, label: 1},
			{text: "internal only", prose: 0.4, upper: 0.8, label: 1},
			{text: "internal-only", prose: 0.3, upper: 0.8, label: 1},
			{text: "internal use only", prose: 0.6, upper: 0.9, label: 1},
			{text: "for internal use only", prose: 0.7, upper: 1, label: 1},
			{text: "internal distribution only", prose: 0.6, upper: 0.9, label: 1},
			{text: "for internal distribution only", prose: 0.7, upper: 1, label: 1},
			{text: "restricted", label: 0.8},
			{text: "classified", label: 0.8},
			{text: "top secret", prose: 0.2, upper: 0.9, label: 1},
			{text: "secret//", upper: 1, label: 1},
			{text: "confidential//", upper: 1, label: 1},
			{text: "//noforn", upper: 1, label: 1},
			{text: "noforn", upper: 1, label: 1},
			{text: "official-sensitive", prose: 0.5, upper: 1, label: 1},
			{text: "official sensitive", prose: 0.4, upper: 1, label: 1},
			{text: "commercial in confidence", prose: 0.6, upper: 1, label: 1},
			{text: "controlled unclassified information", prose: 0.7, upper: 1, label: 1},
			{text: "tlp:red", prose: 0.9, upper: 1, label: 1},
			{text: "tlp: red", prose: 0.9, upper: 1, label: 1},
			{text: "tlp:amber", prose: 0.9, upper: 1, label: 1, tail: "+strict"},
			{text: "tlp: amber", prose: 0.9, upper: 1, label: 1, tail: "+strict"},
		}),
		newMarker(detectors.Meta{
			ID:       "marker.legal-privilege",
			Class:    detectors.Marker,
			Severity: detectors.High,
			Description: "Legal privilege marking: ATTORNEY-CLIENT PRIVILEGED (and privilege), " +
				"PRIVILEGED & CONFIDENTIAL, ATTORNEY WORK PRODUCT, LEGALLY PRIVILEGED, and PRIVILEGED " +
				"alone as a label. Confidence 1 as a label or in upper case; 0.5–0.8 in prose " +
				"(\"protected by attorney-client privilege\" 0.5).",
			Examples: detectors.Examples{
				Match: []string{
					"ATTORNEY-CLIENT PRIVILEGED\nRe: the Henderson matter",
					"Privileged & Confidential - prepared at the request of counsel",
					"This email is attorney work product.",
				},
				NoMatch: []string{
					"privileged: true",
					"run the container in privileged mode",
					"underprivileged communities",
				},
			},
		}, []phrase{
			{text: "attorney-client privileged", prose: 0.8, upper: 1, label: 1},
			{text: "attorney client privileged", prose: 0.8, upper: 1, label: 1},
			{text: "attorney/client privileged", prose: 0.8, upper: 1, label: 1},
			{text: "attorney-client privilege", prose: 0.5, upper: 1, label: 1},
			{text: "attorney client privilege", prose: 0.5, upper: 1, label: 1},
			{text: "attorney/client privilege", prose: 0.5, upper: 1, label: 1},
			{text: "privileged & confidential", prose: 0.8, upper: 1, label: 1},
			{text: "privileged and confidential", prose: 0.8, upper: 1, label: 1},
			{text: "privileged/confidential", prose: 0.8, upper: 1, label: 1},
			{text: "attorney work product", prose: 0.6, upper: 1, label: 1},
			{text: "attorney work-product", prose: 0.6, upper: 1, label: 1},
			{text: "legally privileged", prose: 0.6, upper: 1, label: 1},
			{text: "privileged", label: 0.8},
		}),
		newMarker(detectors.Meta{
			ID:       "marker.trade-secret",
			Class:    detectors.Marker,
			Severity: detectors.High,
			Description: "TRADE SECRET marking. Confidence 1 as a label, 0.9 in upper case; in prose " +
				"(\"what is a trade secret?\") 0.3, and 0.7 for \"contains trade secrets\".",
			Examples: detectors.Examples{
				Match:   []string{"TRADE SECRET - do not copy", "This document contains trade secrets of Acme Corp."},
				NoMatch: []string{"trade secretary", "the trades secretly agreed"},
			},
		}, []phrase{
			{text: "trade secret", prose: 0.3, upper: 0.9, label: 1},
			{text: "trade secrets", prose: 0.2, upper: 0.8, label: 0.9},
			{text: "contains trade secrets", prose: 0.7, upper: 1, label: 1},
			{text: "contain trade secrets", prose: 0.7, upper: 1, label: 1},
			{text: "trade secret information", prose: 0.5, upper: 1, label: 1},
		}),
		newMarker(detectors.Meta{
			ID:       "marker.nda",
			Class:    detectors.Marker,
			Severity: detectors.Medium,
			Description: "Material shared under a non-disclosure agreement: \"under NDA\", \"subject to " +
				"(an|the) NDA\", \"covered by (an|the|our) NDA\", \"NDA only\", \"NDA-protected\". A bare " +
				"\"NDA\" (\"draft an NDA for me\") is not a marker. Confidence 0.6 in prose, 0.9–1 in " +
				"upper case or as a label.",
			Examples: detectors.Examples{
				Match:   []string{"The roadmap below is under NDA.", "[NDA ONLY] pricing sheet", "shared with Globex, covered by our NDA"},
				NoMatch: []string{"please draft an NDA for the vendor", "the NDA template", "underNDAx"},
			},
		}, []phrase{
			{text: "under nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "under an nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "under the nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "under our nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "under mutual nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "under a mutual nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "subject to nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "subject to an nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "subject to the nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "covered by nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "covered by an nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "covered by the nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "covered by our nda", prose: 0.6, upper: 0.9, label: 1},
			{text: "nda only", prose: 0.5, upper: 0.9, label: 1},
			{text: "nda-protected", prose: 0.6, upper: 0.9, label: 1},
			{text: "nda protected", prose: 0.6, upper: 0.9, label: 1},
			{text: "confidential under nda", prose: 0.7, upper: 1, label: 1},
		}),
		newMarker(detectors.Meta{
			ID:       "marker.distribution",
			Class:    detectors.Marker,
			Severity: detectors.Medium,
			Description: "Distribution restriction: DO NOT DISTRIBUTE, NOT FOR DISTRIBUTION, NOT FOR " +
				"EXTERNAL DISTRIBUTION, NOT FOR PUBLIC RELEASE, DO NOT FORWARD, DO NOT SHARE, EMBARGOED " +
				"UNTIL …. Confidence 1 as a label, 0.8–1 in upper case, 0.3–0.7 in prose (\"do not share " +
				"your password\" 0.3).",
			Examples: detectors.Examples{
				Match:   []string{"DRAFT - DO NOT DISTRIBUTE", "Not for external distribution.\nQ4 forecast", "EMBARGOED UNTIL 09:00 CET"},
				NoMatch: []string{"how do I distribute the load?", "shares not for sale", "we do not forwarding"},
			},
		}, []phrase{
			{text: "do not distribute", prose: 0.6, upper: 1, label: 1},
			{text: "do not redistribute", prose: 0.4, upper: 1, label: 1},
			{text: "not for distribution", prose: 0.6, upper: 1, label: 1},
			{text: "not for external distribution", prose: 0.7, upper: 1, label: 1},
			{text: "not for public distribution", prose: 0.7, upper: 1, label: 1},
			{text: "not for public release", prose: 0.6, upper: 1, label: 1},
			{text: "not for release", prose: 0.4, upper: 1, label: 1},
			{text: "do not forward", prose: 0.4, upper: 0.9, label: 1},
			{text: "do not share", prose: 0.3, upper: 0.8, label: 0.9},
			{text: "do not copy", prose: 0.3, upper: 0.8, label: 0.9},
			{text: "embargoed until", prose: 0.5, upper: 0.9, label: 1},
			{text: "under embargo", prose: 0.5, upper: 0.9, label: 1},
		}),
	}
}
