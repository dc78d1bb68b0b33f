// Package jewels finds a company's own crown jewels in the texts customs inspects: its indexed
// source code and documents (detectors/fingerprint) and the rows of its customer tables
// (detectors/edm), loaded from the data directory, and prompt text that reappears in telemetry
// (Echo). Every finding names what it matched — a label, a file, shares, rows and columns —
// never the text: the indexes hold keyed hashes only.
package jewels

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/edm"
	"github.com/customs-dev/customs/detectors/fingerprint"
	"github.com/customs-dev/customs/flow"
)

// Dir is the index directory inside the data directory: one file per label.
const Dir = "jewels"

// File name extensions of the two kinds of index.
const (
	FingerprintExt = ".fp"
	TableExt       = ".edm"
)

// Detector IDs of the findings this package makes. Policies name them like any detector's.
const (
	JewelCode     = "jewel.code"
	JewelDocument = "jewel.document"
	Record        = "record.match"
	EchoPrompt    = "echo.prompt"
	EchoAnswer    = "echo.answer"
)

// IDs are the detector IDs above, for rule files' name checks.
var IDs = []string{JewelCode, JewelDocument, Record, EchoPrompt, EchoAnswer}

// ClassRecord is the class of exact-data-match findings: rows of a customer table.
const ClassRecord = "record"

// Set is the indexes of a data directory, loaded at once. A nil *Set finds nothing.
type Set struct {
	prints *fingerprint.Set
	tables *edm.Set
	files  []File
	stats  []LabelStats
}

// LabelStats is what one index holds.
type LabelStats struct {
	Label, Kind, Class string
	// Items are the files (fingerprints) or rows (tables) indexed; SourceBytes their size.
	Items, SourceBytes int64
	// Prints are the fingerprints or table values kept.
	Prints                 int64
	DiskBytes, MemoryBytes int64
	Built                  time.Time
}

// Stats are what a set holds.
type Stats struct {
	Labels      []LabelStats
	MemoryBytes int64
}

// Stats reports what each index of the set holds and the memory they take.
func (s *Set) Stats() Stats {
	var st Stats
	if s == nil {
		return st
	}
	st.Labels = slices.Clone(s.stats)
	for _, l := range st.Labels {
		st.MemoryBytes += l.MemoryBytes
	}
	return st
}

// File is one index file of the directory.
type File struct {
	Label string
	Kind  string // "fingerprint" or "table"
	Path  string
	Size  int64
	Mod   time.Time
}

// ValidLabel reports whether label may name an index: it becomes a file name.
func ValidLabel(label string) error {
	if label == "" {
		return errors.New("a label is required (--label NAME)")
	}
	if len(label) > 64 {
		return fmt.Errorf("label %q: at most 64 characters", label)
	}
	for i, r := range label {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || (r == '.' && i > 0)
		if !ok {
			return fmt.Errorf("label %q: use lower-case letters, digits, '-', '_' and '.' (it names a file)", label)
		}
	}
	return nil
}

// Files lists the index files in dir (the jewels directory), by label. A missing directory
// has none.
func Files(dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jewels %s: %w", dir, err)
	}
	var out []File
	for _, e := range entries {
		name := e.Name()
		var kind string
		switch filepath.Ext(name) {
		case FingerprintExt:
			kind = "fingerprint"
		case TableExt:
			kind = "table"
		default:
			continue // temporary files of a write in progress, and anything else
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("jewels %s: %w", dir, err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		out = append(out, File{Label: strings.TrimSuffix(name, filepath.Ext(name)), Kind: kind, Path: filepath.Join(dir, name), Size: info.Size(), Mod: info.ModTime()})
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Label+a.Kind, b.Label+b.Kind) })
	return out, nil
}

// Load reads every index in dir with key (the installation's finding key). One file that
// cannot be read fails the load: serving with part of the jewels would be a silent gap.
func Load(dir string, key []byte) (*Set, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	s := &Set{files: files}
	var prints []*fingerprint.Index
	var tables []*edm.Table
	for _, f := range files {
		r, err := os.Open(f.Path)
		if err != nil {
			return nil, fmt.Errorf("jewels: %w", err)
		}
		switch f.Kind {
		case "fingerprint":
			ix, err := fingerprint.ReadIndex(r, key)
			r.Close()
			if err != nil {
				return nil, fmt.Errorf("jewels %s: %w", f.Path, err)
			}
			prints = append(prints, ix)
			ls := LabelStats{Label: f.Label, Kind: f.Kind, DiskBytes: f.Size, MemoryBytes: ix.MemSize()}
			for _, l := range ix.Labels() {
				ls.Class, ls.Items, ls.SourceBytes, ls.Prints, ls.Built = string(l.Class), ls.Items+l.Files, ls.SourceBytes+l.Bytes, ls.Prints+l.Prints, l.Built
			}
			s.stats = append(s.stats, ls)
		case "table":
			t, err := edm.ReadTable(r, key)
			r.Close()
			if err != nil {
				return nil, fmt.Errorf("jewels %s: %w", f.Path, err)
			}
			tables = append(tables, t)
			in := t.Info()
			s.stats = append(s.stats, LabelStats{Label: f.Label, Kind: f.Kind, Class: ClassRecord, Items: in.Rows, Prints: in.Values,
				DiskBytes: f.Size, MemoryBytes: in.Bytes, Built: in.Built})
		}
	}
	if len(prints) > 0 {
		s.prints = fingerprint.NewSet(prints...)
	}
	if len(tables) > 0 {
		s.tables = edm.NewSet(tables...)
	}
	return s, nil
}

// Files are the index files the set was loaded from.
func (s *Set) Files() []File {
	if s == nil {
		return nil
	}
	return s.files
}

// Empty reports whether the set has nothing to find.
func (s *Set) Empty() bool { return s == nil || s.prints == nil && s.tables == nil }

// Find scans segments for indexed files and table rows, and returns their findings: the
// label, the file or the columns, the shares and rows, and the spans; the preview is the
// masked first span and the hash the keyed hash of the matched text, as for any finding.
func (s *Set) Find(segs []flow.Segment, h *detectors.Hasher) []flow.Finding {
	if s.Empty() || h == nil {
		return nil
	}
	var out []flow.Finding
	// A file cut into pieces across segments (one message each) is still the file: Share is
	// the share of it the whole request carries, the prints of every segment together.
	type file struct {
		found, total float64
		at           []int // indexes in out
	}
	files := map[[2]string]*file{}
	for i := range segs {
		seg := &segs[i]
		if seg.Text == "" || seg.Container { // its leaves are segments too: counted there
			continue
		}
		if s.prints != nil {
			for _, m := range s.prints.Scan(seg.Text) {
				id, sev := JewelDocument, "high"
				if m.Class == fingerprint.Code {
					id = JewelCode
				}
				k := [2]string{m.Label, m.File}
				if files[k] == nil {
					files[k] = &file{}
				}
				if fl := files[k]; m.FileShare > 0 {
					fl.found += float64(m.Prints)
					fl.total = float64(m.Prints) / m.FileShare
					fl.at = append(fl.at, len(out))
				}
				out = append(out, finding(seg, h, id, string(m.Class), sev, m.Spans, func(f *flow.Finding) {
					f.Label, f.Ref, f.Share, f.SegmentShare = m.Label, m.File, m.FileShare, m.SegmentShare
					f.Confidence = min(1, m.FileShare+m.SegmentShare)
				}))
			}
		}
		if s.tables != nil {
			for _, m := range s.tables.Scan(seg.Text) {
				out = append(out, finding(seg, h, Record, ClassRecord, "critical", m.Spans, func(f *flow.Finding) {
					f.Label, f.Rows, f.Columns, f.Confidence = m.Label, m.Rows, slices.Clone(m.Columns), m.Confidence
				}))
			}
		}
	}
	for _, fl := range files {
		if len(fl.at) < 2 {
			continue
		}
		share := min(1, fl.found/fl.total)
		for _, i := range fl.at {
			out[i].Share = max(out[i].Share, share)
		}
	}
	return out
}

// finding makes the finding for spans of seg: its span runs from the first to the last, its
// preview masks the first, and its hash keys every matched byte (two flows carrying the same
// excerpt share it).
func finding(seg *flow.Segment, h *detectors.Hasher, id, class, severity string, spans [][2]int, fill func(*flow.Finding)) flow.Finding {
	f := flow.Finding{Detector: id, Class: class, Severity: severity, Path: seg.Path}
	spans = validSpans(spans, len(seg.Text))
	if len(spans) > 0 {
		f.Start, f.End = spans[0][0], spans[len(spans)-1][1]
		var b strings.Builder
		for _, sp := range spans {
			b.WriteString(seg.Text[sp[0]:sp[1]])
			b.WriteByte(0)
		}
		f.Preview = detectors.Mask(seg.Text[spans[0][0]:spans[0][1]])
		f.Hash = h.Hash(b.String())
		if len(spans) > 1 {
			f.Spans = slices.Clone(spans)
		}
	}
	fill(&f)
	return f
}

// validSpans keeps the spans that lie in a text of n bytes, in order: a finding's span is cut
// from the segment, and a bad one must not panic the proxy.
func validSpans(spans [][2]int, n int) [][2]int {
	out := spans[:0:0]
	last := 0
	for _, sp := range spans {
		if sp[0] < last || sp[0] >= sp[1] || sp[1] > n {
			continue
		}
		out = append(out, sp)
		last = sp[1]
	}
	return out
}
