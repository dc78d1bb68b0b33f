package fingerprint

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
	"time"
)

// Builder indexes files into an Index. It holds only prints while it works, never texts.
// It is not safe for concurrent use.
type Builder struct {
	o        Options
	check    [8]byte
	keys     [nClasses]sipKey
	fps      [nClasses]*Fingerprinter
	labels   []LabelInfo
	forced   []Class // the class each label was added with ("" = guessed per file)
	labelIdx map[string]int
	files    []fileInfo
	names    nameList
	// entries in chunks: growing one slice to millions of entries copied it over and over
	// (a tenth of the build time on $GOROOT/src)
	chunks   [][]entry
	nEntries int
	prints   []Print
	hashes   []uint64
	buf      []byte // AddTree's file buffer
	built    bool
}

// NewBuilder returns a Builder that fingerprints with key, the installation key. It panics if
// the key is shorter than MinKeyLen: that is a programming error.
func NewBuilder(key []byte, o Options) *Builder {
	if len(key) < MinKeyLen {
		panic(errShortKey)
	}
	b := &Builder{o: o, check: keyCheck(key), labelIdx: map[string]int{}}
	for c := range nClasses {
		b.keys[c] = classKey(key, classes[c])
		b.fps[c] = newFingerprinter(o.params(classes[c]), b.keys[c])
	}
	return b
}

var errBuilt = errors.New("fingerprint: Builder used after Build")

const entryChunk = 1 << 16

// AddFile indexes one text under label; name is the path recorded (relative to the tree root).
// class "" guesses from the name: source extensions are code, anything else a document.
func (b *Builder) AddFile(label string, class Class, name, text string) error {
	if b.built {
		return errBuilt
	}
	if label == "" {
		return errors.New("fingerprint: empty label")
	}
	if class != "" && !validClass(class) {
		return fmt.Errorf("fingerprint: class %q: want %q, %q or empty", class, Code, Document)
	}
	li := b.label(label, class)
	c := class
	if c == "" {
		c = GuessClass(name)
	}
	cid := classID(c)
	b.prints = b.fps[cid].Append(b.prints[:0], text)
	b.hashes = b.hashes[:0]
	for _, p := range b.prints {
		b.hashes = append(b.hashes, p.Hash)
	}
	slices.Sort(b.hashes)
	b.hashes = slices.Compact(b.hashes)
	if len(b.files) >= 1<<31 {
		return errors.New("fingerprint: too many files")
	}
	if len(b.names.data)+len(name) > math.MaxUint32-32 {
		return errors.New("fingerprint: file names exceed 4 GiB")
	}
	fid := uint32(len(b.files))
	for _, h := range b.hashes {
		if n := len(b.chunks); n == 0 || len(b.chunks[n-1]) == cap(b.chunks[n-1]) {
			b.chunks = append(b.chunks, make([]entry, 0, entryChunk))
		}
		c := &b.chunks[len(b.chunks)-1]
		*c = append(*c, entry{h, fid})
	}
	b.nEntries += len(b.hashes)
	b.names.add(name)
	b.files = append(b.files, fileInfo{label: uint32(li), class: cid, prints: uint32(len(b.hashes))})
	l := &b.labels[li]
	l.Files++
	if c == Code {
		l.CodeFiles++
	} else {
		l.DocumentFiles++
	}
	l.Bytes += int64(len(text))
	l.Prints += int64(len(b.hashes))
	return nil
}

func (b *Builder) label(name string, class Class) int {
	if i, ok := b.labelIdx[name]; ok {
		if b.forced[i] != class {
			b.forced[i] = ""
		}
		return i
	}
	b.labelIdx[name] = len(b.labels)
	b.labels = append(b.labels, LabelInfo{Label: name})
	b.forced = append(b.forced, class)
	return len(b.labels) - 1
}

// Build returns the index: prints found in more than Options.MaxFileShare of the files (and in
// at least Options.BoilerplateMinFiles) are dropped as boilerplate. Licence texts, comments and
// import blocks were already left out by normalisation. The Builder cannot be used afterwards.
func (b *Builder) Build() *Index {
	b.built = true
	es := sortEntries(b.chunks, b.nEntries)
	b.chunks, b.prints, b.hashes, b.buf = nil, nil, nil, nil

	share, minFiles := b.o.MaxFileShare, b.o.BoilerplateMinFiles
	if share <= 0 {
		share = DefaultMaxFileShare
	}
	if minFiles <= 0 {
		minFiles = DefaultBoilerplateMinFiles
	}
	limit := share * float64(len(b.files))
	kept := es[:0]
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && es[j].h == es[i].h {
			j++
		}
		if n := j - i; n >= minFiles && float64(n) > limit {
			for _, e := range es[i:j] {
				b.labels[b.files[e.f].label].Boilerplate++
			}
		} else {
			kept = append(kept, es[i:j]...)
		}
		i = j
	}

	// copies, not the builder's slices with their append slack
	ix := &Index{check: b.check, labels: slices.Clone(b.labels), files: slices.Clone(b.files), names: b.names}
	ix.names.data, ix.names.blocks, ix.names.prev = slices.Clone(b.names.data), slices.Clone(b.names.blocks), ""
	b.names, b.files = nameList{}, nil
	ix.tab = newTable(len(kept), len(ix.files))
	for i := range kept {
		kept[i].h = ix.tab.trunc(kept[i].h)
	}
	// truncation keeps the order of hashes, but where two became equal their files may now be
	// out of order, or the same
	insertionSort(kept)
	kept = slices.Compact(kept)
	for i := range ix.files {
		ix.files[i].prints = 0
	}
	for i := range ix.labels {
		ix.labels[i].Prints = 0
	}
	for _, e := range kept {
		f := &ix.files[e.f]
		f.prints++
		ix.labels[f.label].Prints++
	}
	ix.tab.fill(kept)

	now := time.Now
	if b.o.Now != nil {
		now = b.o.Now
	}
	built := now().UTC().Truncate(time.Second)
	for i := range ix.labels {
		l := &ix.labels[i]
		l.Built = built
		switch {
		case b.forced[i] != "":
			l.Class = b.forced[i]
		case l.DocumentFiles == 0:
			l.Class = Code
		case l.CodeFiles == 0:
			l.Class = Document
		default:
			l.Class = Mixed
		}
	}
	for c := range nClasses {
		ix.params[c] = b.fps[c].p
	}
	for _, f := range ix.files {
		ix.has[f.class] = true // a class with no files costs nothing at Scan
	}
	ix.init(b.keys)
	return ix
}

// sortEntries returns the entries of chunks sorted by (hash, file). Hashes are uniform: one
// counting pass on their top bits scatters the entries into buckets of a few each, which an
// insertion sort finishes. A comparison sort took a sixth of the build.
func sortEntries(chunks [][]entry, n int) []entry {
	shift := uint(64)
	for b := 1; b <= 22 && n>>b >= 4; b++ {
		shift = uint(64 - b)
	}
	bucket := func(h uint64) uint64 {
		if shift == 64 {
			return 0
		}
		return h >> shift
	}
	starts := make([]int, (1<<(64-shift))+1)
	for _, c := range chunks {
		for _, e := range c {
			starts[bucket(e.h)+1]++
		}
	}
	for i := 1; i < len(starts); i++ {
		starts[i] += starts[i-1]
	}
	es := make([]entry, n)
	next := starts[:len(starts)-1]
	for _, c := range chunks {
		for _, e := range c {
			b := bucket(e.h)
			es[next[b]] = e
			next[b]++
		}
	}
	// next[b] is now the end of bucket b, the start of b+1: each bucket is sorted alone
	lo := 0
	for _, hi := range next {
		if hi-lo > 64 { // a print in many files: boilerplate, about to be dropped
			slices.SortFunc(es[lo:hi], func(x, y entry) int { return cmp.Or(cmp.Compare(x.h, y.h), cmp.Compare(x.f, y.f)) })
		} else {
			insertionSort(es[lo:hi])
		}
		lo = hi
	}
	return es
}

func insertionSort(es []entry) {
	for i := 1; i < len(es); i++ {
		e := es[i]
		j := i
		for j > 0 && (es[j-1].h > e.h || es[j-1].h == e.h && es[j-1].f > e.f) {
			es[j] = es[j-1]
			j--
		}
		es[j] = e
	}
}

// sourceExt are the extensions GuessClass calls code.
var sourceExt = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`go c h cc cpp cxx hpp hh hxx m mm java kt kts scala groovy gradle
		js jsx mjs cjs ts tsx mts cts vue svelte py pyi pyx rb php cs fs fsx vb swift rs dart lua pl pm
		r jl sh bash zsh fish ps1 psm1 bat cmd sql s asm erl hrl ex exs hs ml mli clj cljs elm proto
		tf hcl cmake zig nim v sol graphql gql`) {
		sourceExt["."+e] = true
	}
}

// GuessClass returns Code for source files (by extension, and Makefile, Dockerfile and the like)
// and Document for anything else.
func GuessClass(name string) Class {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	switch base {
	case "Makefile", "makefile", "GNUmakefile", "Dockerfile", "Containerfile", "Jenkinsfile",
		"Rakefile", "Gemfile", "BUILD", "BUILD.bazel", "WORKSPACE", "CMakeLists.txt":
		return Code
	}
	if strings.HasPrefix(base, "Dockerfile.") {
		return Code
	}
	if sourceExt[strings.ToLower(path.Ext(base))] {
		return Code
	}
	return Document
}
