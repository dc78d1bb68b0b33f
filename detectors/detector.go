// Package detectors finds crown-jewel data (secrets, personal data, confidential markers, source
// code) in the text segments extraction pulled out of a flow.
//
// Speed comes from doing as little as possible per byte: one case-insensitive keyword automaton
// pass finds candidates for every keyword-anchored detector at once, and each detector then runs
// only in a small window at each hit of its own keywords. Detectors without a literal prefix
// (cards, phone numbers, IBANs, e-mail) are hand-written single-pass scanners. Validators
// (checksums, Luhn, mod-97, structure) and placeholder lists cut false alarms offline.
package detectors

// Class groups detectors by what they find.
type Class string

const (
	Secret Class = "secret"
	PII    Class = "pii"
	Marker Class = "marker"
	Code   Class = "code"
	// Document is for fingerprints of confidential documents and exact-data matches that policy
	// authors define in rule files; no built-in detector has it yet.
	Document Class = "document"
)

// Severity ranks how bad a finding is.
type Severity string

const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Meta describes a detector.
type Meta struct {
	ID          string   // namespaced, lower-case: secret.aws-access-key-id
	Class       Class    // secret, pii, marker, code
	Severity    Severity // low, medium, high, critical
	Description string
	// Keywords are literal, case-insensitive strings whose presence is necessary for a match
	// (usually the token's own prefix, such as "akia" or "ghp_"). The engine calls Find only
	// at their hits. A detector with no keywords is called once per text: it must then be a
	// fast single-pass scanner.
	Keywords []string
	// Examples are checked by go test: every Match must be found (whole, as one finding) and no
	// NoMatch may produce a finding of this detector.
	Examples Examples
}

// Examples are strings a detector must and must not match.
type Examples struct {
	Match   []string
	NoMatch []string
}

// Match is one value a detector found in a text.
type Match struct {
	Start, End int // byte span of the sensitive value in the text
	// Confidence in 0..1: 1 for checksummed or validated formats; lower for shapes that need
	// context (a passport number near the word "passport" scores higher than without it).
	Confidence float64
}

// Detector finds one kind of sensitive data. Implementations are built at load time, hold no
// per-call state, and must be safe for concurrent use. Find must run in time linear in the text
// it examines and never panic.
type Detector interface {
	Meta() Meta
	// Find reports matches in text. hits are the start offsets in text of this detector's
	// keywords, in increasing order (nil for a detector without keywords). emit may be called
	// in any order; overlapping reports of one value are merged by the engine.
	Find(text string, hits []int, emit func(Match))
}

// RunScanner is implemented by keyword-less detectors that examine maximal runs of ASCII digits
// (cards, IBANs, national IDs, phone numbers). The engine then walks the digit runs of a text
// once for all of them instead of each detector passing over the whole text on its own.
//
// FindRun examines the run text[start:end] and returns where the detector wants its next run to
// start (at least end); Find(text, nil, emit) must equal calling FindRun on each digit run in
// order, skipping runs that start before the position the previous call returned.
type RunScanner interface {
	FindRun(text string, start, end int, emit func(Match)) int
}

// MaxRunBucket caps the run length a RunTerm is asked about: n == MaxRunBucket stands for every
// run of that many digits or more.
const MaxRunBucket = 32

// RunTerm is one condition under which a RunScanner may find something at a digit run: Prev
// holds for the byte before the run (0 at the start of the text) and Next for the byte after it
// (0 at the end of the text), given the run's length n (capped at MaxRunBucket); Prev2 holds for
// the byte before Prev's and Next2 for the byte after Next's (0 outside the text), whatever the
// length. A nil function always holds.
type RunTerm struct {
	Prev, Next   func(b byte, n int) bool
	Prev2, Next2 func(b byte) bool
}

// RunFilter may be implemented by a RunScanner to say where FindRun can be skipped: for a run
// where no term holds, FindRun must certainly report nothing and return the run's end. The
// engine tabulates the terms once and skips those calls; most digit runs in real text (inside
// hashes, IDs, dates, prose numbers) are then seen by one scanner or none.
type RunFilter interface {
	RunTerms() []RunTerm
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
