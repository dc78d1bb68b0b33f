package fingerprint

import (
	"cmp"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// LabelInfo describes one label of an index.
type LabelInfo struct {
	Label string
	// Class is Code or Document when every file of the label has that class, else Mixed.
	Class                           Class
	Files, CodeFiles, DocumentFiles int64
	// Prints kept, and prints dropped at Build as boilerplate (found in many files).
	Prints, Boilerplate int64
	Bytes               int64 // source bytes indexed
	Built               time.Time
}

// Match is one indexed file a text overlaps.
type Match struct {
	Label string
	Class Class
	File  string
	// Prints is the number of distinct prints of the file found in the text.
	Prints int
	// FileShare is the share of the file's prints found in the text; SegmentShare the share of
	// the text's prints (of this class) that belong to the file.
	FileShare, SegmentShare float64
	// Spans are the byte spans of the text covered by the matched prints, merged, in order.
	Spans [][2]int
}

// ScanOptions are the thresholds for reporting a Match. Policies filter further by share.
type ScanOptions struct {
	// MinPrints is the fewest distinct prints of one file a text must hold; 0 means 3 for code
	// and 2 for documents. A print is 20 code tokens or 8 words, so a shared line never fires.
	// Unrelated code shares two prints with some file of a large tree now and then (test loops,
	// error checks), never three that were not a real copy (TestGorootQuality); unrelated prose
	// never shared two.
	MinPrints int
	// MinShare: FileShare or SegmentShare must reach it (default 0.01), so that a huge text that
	// shares a few k-grams with a huge file is not reported.
	MinShare float64
	// MaxMatches caps the matches returned, the best first (default 50).
	MaxMatches int
}

const (
	DefaultMinPrintsCode     = 3
	DefaultMinPrintsDocument = 2
	DefaultMinShare          = 0.01
	DefaultMaxMatches        = 50
)

func (so ScanOptions) withDefaults() ScanOptions {
	if so.MinShare <= 0 {
		so.MinShare = DefaultMinShare
	}
	if so.MaxMatches <= 0 {
		so.MaxMatches = DefaultMaxMatches
	}
	return so
}

func (so ScanOptions) minPrints(class uint8) int {
	switch {
	case so.MinPrints > 0:
		return so.MinPrints
	case class == classCode:
		return DefaultMinPrintsCode
	default:
		return DefaultMinPrintsDocument
	}
}

// Class IDs in files and index files.
const (
	classCode uint8 = iota
	classDocument
	nClasses
)

var classes = [nClasses]Class{Code, Document}

func classID(c Class) uint8 {
	if c == Code {
		return classCode
	}
	return classDocument
}

// fileInfo is one indexed file; its name is in Index.names.
type fileInfo struct {
	label  uint32
	prints uint32 // distinct prints kept
	class  uint8
}

// Index is the prints of indexed files. It is immutable after Build or ReadIndex and safe for
// concurrent Scan. It holds no text: only keyed, truncated hashes, file names, labels and counts.
type Index struct {
	check  [8]byte
	params [nClasses]params // normalisation of each class; has: the class has files
	has    [nClasses]bool
	fps    [nClasses]*Fingerprinter
	labels []LabelInfo
	files  []fileInfo
	names  nameList
	tab    table
	self   *Set
}

func (ix *Index) init(key [nClasses]sipKey) {
	for c := range nClasses {
		if ix.has[c] {
			ix.fps[c] = newFingerprinter(ix.params[c], key[c])
		}
	}
	ix.self = NewSet(ix)
}

// Labels describes the labels in the index.
func (ix *Index) Labels() []LabelInfo { return slices.Clone(ix.labels) }

// Scan returns the indexed files text overlaps, with the default ScanOptions.
func (ix *Index) Scan(text string) []Match { return ix.self.ScanWith(text, ScanOptions{}) }

// ScanWith is Scan with explicit thresholds.
func (ix *Index) ScanWith(text string, so ScanOptions) []Match { return ix.self.ScanWith(text, so) }

// MemSize is the index's size in memory, in bytes: the table plus file and label records.
func (ix *Index) MemSize() int64 {
	n := ix.tab.memSize() + ix.names.memSize() + int64(len(ix.files))*int64(unsafe.Sizeof(fileInfo{}))
	for _, l := range ix.labels {
		n += int64(len(l.Label)) + int64(unsafe.Sizeof(l))
	}
	return n
}

// Set is several indexes scanned as one: a text is normalised once per distinct set of
// normalisation parameters, then looked up in every index.
type Set struct {
	ixs     []*Index
	groups  []group
	scratch sync.Pool
}

// group is the indexes that share one class's normalisation parameters and key.
type group struct {
	fp      *Fingerprinter
	class   uint8
	members []int // indexes into Set.ixs
}

// NewSet returns a Set of the indexes.
func NewSet(ixs ...*Index) *Set {
	s := &Set{ixs: slices.Clone(ixs)}
	for i, ix := range ixs {
		for c := range nClasses {
			if !ix.has[c] {
				continue
			}
			fp := ix.fps[c]
			g := slices.IndexFunc(s.groups, func(g group) bool {
				return g.class == c && g.fp.p == fp.p && g.fp.key == fp.key
			})
			if g < 0 {
				s.groups = append(s.groups, group{fp: fp, class: c})
				g = len(s.groups) - 1
			}
			s.groups[g].members = append(s.groups[g].members, i)
		}
	}
	s.scratch.New = func() any { return new(scanScratch) }
	return s
}

// Labels describes the labels of every index in the set.
func (s *Set) Labels() []LabelInfo {
	var ls []LabelInfo
	for _, ix := range s.ixs {
		ls = append(ls, ix.labels...)
	}
	return ls
}

// Scan returns the indexed files text overlaps, the best first, with the default ScanOptions.
func (s *Set) Scan(text string) []Match { return s.ScanWith(text, ScanOptions{}) }

type hit struct {
	ix, file uint32
	print    uint32 // index into the text's prints
	h        uint64
}

type scanScratch struct {
	prints []Print
	bounds [][2]uint32
	hits   []hit
}

// ScanWith is Scan with explicit thresholds.
func (s *Set) ScanWith(text string, so ScanOptions) []Match {
	so = so.withDefaults()
	sc := s.scratch.Get().(*scanScratch)
	defer s.scratch.Put(sc)
	var ms []Match
	for _, g := range s.groups {
		sc.prints = g.fp.Append(sc.prints[:0], text)
		if len(sc.prints) == 0 {
			continue
		}
		sc.hits = sc.hits[:0]
		for _, m := range g.members {
			sc.hits = s.ixs[m].tab.lookupAll(sc.prints, uint32(m), g.class, s.ixs[m].files, sc)
		}
		ms = s.collect(ms, sc, g, so)
	}
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(cmp.Compare(b.SegmentShare, a.SegmentShare), cmp.Compare(b.FileShare, a.FileShare),
			cmp.Compare(a.Label, b.Label), cmp.Compare(a.File, b.File))
	})
	if len(ms) > so.MaxMatches {
		ms = ms[:so.MaxMatches]
	}
	return ms
}

// collect turns the hits of one group into matches.
func (s *Set) collect(ms []Match, sc *scanScratch, g group, so ScanOptions) []Match {
	hits := sc.hits
	// by file, then hash (to count distinct prints), then position; compared field by field
	// because cmp.Or would evaluate every comparison every time
	slices.SortFunc(hits, func(a, b hit) int {
		if a.ix != b.ix {
			return cmp.Compare(a.ix, b.ix)
		}
		if a.file != b.file {
			return cmp.Compare(a.file, b.file)
		}
		if a.h != b.h {
			return cmp.Compare(a.h, b.h)
		}
		return cmp.Compare(a.print, b.print)
	})
	for len(hits) > 0 {
		n := 1
		for n < len(hits) && hits[n].ix == hits[0].ix && hits[n].file == hits[0].file {
			n++
		}
		fh := hits[:n]
		hits = hits[n:]
		distinct := 1
		for i := 1; i < len(fh); i++ {
			if fh[i].h != fh[i-1].h {
				distinct++
			}
		}
		ix := s.ixs[fh[0].ix]
		f := ix.files[fh[0].file]
		fileShare := min(1, float64(distinct)/float64(max(f.prints, 1)))
		segShare := float64(len(fh)) / float64(len(sc.prints))
		if distinct < so.minPrints(g.class) || fileShare < so.MinShare && segShare < so.MinShare {
			continue
		}
		ms = append(ms, Match{
			Label:        ix.labels[f.label].Label,
			Class:        classes[g.class],
			File:         ix.names.get(int(fh[0].file)),
			Prints:       distinct,
			FileShare:    fileShare,
			SegmentShare: segShare,
			Spans:        spans(fh, sc.prints),
		})
	}
	return ms
}

// spans merges the byte spans of the hit prints.
func spans(fh []hit, prints []Print) [][2]int {
	slices.SortFunc(fh, func(a, b hit) int { return cmp.Compare(a.print, b.print) })
	var out [][2]int
	for _, h := range fh {
		p := prints[h.print]
		if n := len(out); n > 0 && p.Start <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], p.End)
			continue
		}
		out = append(out, [2]int{p.Start, p.End})
	}
	return out
}
