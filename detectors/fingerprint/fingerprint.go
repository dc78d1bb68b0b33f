package fingerprint

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Class is how a text is normalised and what a match is reported as.
type Class string

const (
	Code     Class = "code"
	Document Class = "document"
	// Mixed is only a LabelInfo class: the label holds files of both classes.
	Mixed Class = "mixed"
)

// Defaults, chosen on $GOROOT/src (TestGorootQuality, BenchmarkBuildGoroot) for the
// partial-paste case within the memory budget of 5% of the source size:
//
// Code: k = 20 tokens (a token is a keyword, an identifier placeholder, a literal or one
// punctuation byte; 20 are about 2.5 lines), w = 24. Winnowing guarantees a shared print for any
// shared run of k+w-1 = 43 tokens (5-6 lines) and selects about 2/(w+1) of the k-grams, one
// print per ~12 tokens: a pasted 15-line function (~110 tokens) shares about 6 prints with its
// file, and 96% of such pastes reach the 3 a match needs. Twenty renamed tokens are many enough
// that common idioms (`if err != nil { return nil, err }` is 12) are not a k-gram on their own;
// with w = 40 only 6 in 10 pastes were found, and w = 24 still keeps the index under 5% of the
// source.
//
// Document: k = 8 words, w = 24: a shared run of 31 words (two sentences) guarantees a print,
// one print per ~12 words; 99% of pasted paragraphs of 40-120 words reach the 2 prints a
// document match needs, and unrelated prose never shared two.
const (
	DefaultCodeK = 20
	DefaultCodeW = 24
	DefaultDocK  = 8
	DefaultDocW  = 24
	// A code k-gram is only selectable if at least this share of its tokens are punctuation,
	// numbers or strings: prose read as code is identifiers and keywords, and would otherwise
	// match any prose of the same shape. Go, Python and JavaScript code all pass (measured).
	minStructShare = 0.35

	// A print in more than 0.2% of the files, and in at least 4, is an idiom or a shared
	// snippet: on $GOROOT/src the k-grams this drops were test-table loops and error checks.
	DefaultMaxFileShare        = 0.002
	DefaultBoilerplateMinFiles = 4
	DefaultMaxFileSize         = 8 << 20
)

// Options tune normalisation and winnowing. The zero value gives the defaults above.
type Options struct {
	// K is the k-gram length in tokens (code) or words (documents), W the winnowing window in
	// k-grams. Zero means the class's default; values above 256 (K) and 1024 (W) are capped.
	// When set they apply to both classes.
	K, W int
	// KeepStrings keeps string literals in code (hashed by content). By default every string is
	// one placeholder, so that copies that changed messages or keys still match.
	KeepStrings bool
	// MaxFileShare and BoilerplateMinFiles: at Build, a print found in more than MaxFileShare of
	// the indexed files and in at least BoilerplateMinFiles files is boilerplate and dropped.
	// Zero means DefaultMaxFileShare (0.2%) and DefaultBoilerplateMinFiles (4).
	MaxFileShare        float64
	BoilerplateMinFiles int
	// Ignore lists gitignore-style patterns, relative to each tree root AddTree walks, of paths
	// not to index. They apply after the tree's own .gitignore files.
	Ignore []string
	// MaxFileSize: AddTree skips larger files ("too large"). Zero means DefaultMaxFileSize (8 MiB).
	MaxFileSize int64
	// Now is the clock for LabelInfo.Built (nil: time.Now); tests set it.
	Now func() time.Time
}

// params are the resolved normalisation parameters of one class. They are stored in index files:
// scanning must cut texts exactly as indexing did.
type params struct {
	class       Class
	k, w        int
	keepStrings bool
}

func (o Options) params(c Class) params {
	p := params{class: c, k: o.K, w: o.W, keepStrings: o.KeepStrings && c == Code}
	if p.k <= 0 {
		p.k = DefaultDocK
		if c == Code {
			p.k = DefaultCodeK
		}
	}
	if p.w <= 0 {
		p.w = DefaultDocW
		if c == Code {
			p.w = DefaultCodeW
		}
	}
	p.k, p.w = min(p.k, maxK), min(p.w, maxW)
	return p
}

func (p params) minStruct() int {
	if p.class != Code {
		return 0
	}
	return int(float64(p.k)*minStructShare + 0.5)
}

func validClass(c Class) bool { return c == Code || c == Document }

// Print is one selected fingerprint of a text: a keyed hash and the byte span of the original
// text it covers (from the first byte of its first token to the last byte of its last).
type Print struct {
	Hash       uint64
	Start, End int
}

// Fingerprinter computes the prints of texts of one class. It is safe for concurrent use and
// keeps its scratch buffers between calls: hot paths (telemetry echo) should hold one rather than
// call Fingerprints, which derives the subkey (an HMAC) on every call.
type Fingerprinter struct {
	p    params
	key  sipKey
	pool sync.Pool
}

// NewFingerprinter returns a Fingerprinter for class under key (the installation key, at least
// MinKeyLen bytes).
func NewFingerprinter(key []byte, class Class, o Options) (*Fingerprinter, error) {
	if len(key) < MinKeyLen {
		return nil, errShortKey
	}
	if !validClass(class) {
		return nil, fmt.Errorf("fingerprint: class %q: want %q or %q", class, Code, Document)
	}
	return newFingerprinter(o.params(class), classKey(key, class)), nil
}

func newFingerprinter(p params, key sipKey) *Fingerprinter {
	f := &Fingerprinter{p: p, key: key}
	f.pool.New = func() any { return newWinnower(p.k, p.w, p.minStruct(), key) }
	return f
}

// Append appends the prints of text to dst, in text order.
func (f *Fingerprinter) Append(dst []Print, text string) []Print {
	wn := f.pool.Get().(*winnower)
	wn.reset(dst)
	if f.p.class == Code {
		wn.code(text, f.p.keepStrings)
	} else {
		wn.document(text)
	}
	dst = wn.finish()
	wn.out = nil
	f.pool.Put(wn)
	return dst
}

// Fingerprints normalises text for class and returns its winnowed keyed prints in text order.
// Only Options.K, W and KeepStrings matter here. It panics if key is shorter than MinKeyLen or
// class is not Code or Document: both are programming errors (the installation key is 32 bytes).
// The Fingerprinter for a (key, class, options) is kept, so a call costs the prints alone.
func Fingerprints(key []byte, class Class, text string, o Options) []Print {
	return cachedFingerprinter(key, class, o).Append(make([]Print, 0, len(text)/64+4), text)
}

// fingerprinters caches Fingerprints' Fingerprinters (fpCacheKey -> *Fingerprinter): lock-free
// reads for concurrent callers. A process uses one installation key and a few option sets; the
// cache stops growing at maxCachedFingerprinters all the same.
var (
	fingerprinters sync.Map
	cachedFPs      atomic.Int32
)

const maxCachedFingerprinters = 64

type fpCacheKey struct {
	key string
	p   params
}

func cachedFingerprinter(key []byte, class Class, o Options) *Fingerprinter {
	if len(key) < MinKeyLen {
		panic(errShortKey)
	}
	if !validClass(class) {
		panic(fmt.Sprintf("fingerprint: class %q: want %q or %q", class, Code, Document))
	}
	ck := fpCacheKey{string(key), o.params(class)}
	if f, ok := fingerprinters.Load(ck); ok {
		return f.(*Fingerprinter)
	}
	f := newFingerprinter(ck.p, classKey(key, class))
	if cachedFPs.Load() < maxCachedFingerprinters {
		if got, loaded := fingerprinters.LoadOrStore(ck, f); loaded {
			return got.(*Fingerprinter)
		}
		cachedFPs.Add(1)
	}
	return f
}
