package detectors

import (
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"slices"
	"sync"
)

// Engine runs a set of detectors over texts: one automaton pass for every keyword of every
// detector, then each detector only where its keywords occur.
type Engine struct {
	detectors []Detector
	meta      []Meta
	auto      *automaton
	owners    [][]int // keyword index -> detectors that declared it
	always    []int   // detectors without keywords, called once per text
	runners   []int   // keyword-less RunScanners, fed the digit runs of one shared pass
	scanners  []RunScanner
	// The run table says which scanners may want a digit run, from the bytes around it and its
	// length: a run is given to the scanners of the terms set in both prevMask[prevRow[prev]+n]
	// and nextMask[nextRow[next]+n]. Each call saved is an interface dispatch and a reject.
	prevRow, nextRow   [256]uint16 // a byte's row: its class times MaxRunBucket+1
	prevMask, nextMask []uint64    // the rows of the classes, one after the other
	// The terms that hold for the byte two before a run and two after it; looked up only for
	// a run that some term still wants.
	prev2Mask, next2Mask [256]uint64
	termScanner          []int // term bit -> index in scanners
	scratch              sync.Pool
	memo                 *memo // what short texts yielded (see memo.go)
}

// compiler is implemented by detectors that prepare themselves at load time (Pattern).
type compiler interface{ Compile() error }

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$`)

// New validates and compiles detectors into an engine. IDs must be namespaced, lower-case and
// unique; every problem is reported, not only the first.
func New(ds []Detector) (*Engine, error) {
	e := &Engine{detectors: ds}
	var errs []error
	seen := map[string]bool{}
	kwIndex := map[string]int{}
	var keywords []string
	for i, d := range ds {
		if c, ok := d.(compiler); ok {
			if err := c.Compile(); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		m := d.Meta()
		e.meta = append(e.meta, m)
		switch {
		case !idPattern.MatchString(m.ID):
			errs = append(errs, fmt.Errorf("detector %q: ID must be namespaced and lower-case (secret.aws-access-key-id)", m.ID))
		case seen[m.ID]:
			errs = append(errs, fmt.Errorf("detector %q: duplicate ID", m.ID))
		}
		seen[m.ID] = true
		switch m.Class {
		case Secret, PII, Marker, Code, Document:
		default:
			errs = append(errs, fmt.Errorf("detector %s: unknown class %q", m.ID, m.Class))
		}
		if len(m.Keywords) == 0 {
			if rs, ok := d.(RunScanner); ok {
				e.runners = append(e.runners, i)
				e.scanners = append(e.scanners, rs)
			} else {
				e.always = append(e.always, i)
			}
			continue
		}
		for _, kw := range m.Keywords {
			if kw == "" {
				errs = append(errs, fmt.Errorf("detector %s: empty keyword", m.ID))
				continue
			}
			k := lowerASCII(kw)
			j, ok := kwIndex[k]
			if !ok {
				j = len(keywords)
				kwIndex[k] = j
				keywords = append(keywords, k)
				e.owners = append(e.owners, nil)
			}
			if !slices.Contains(e.owners[j], i) {
				e.owners[j] = append(e.owners[j], i)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	e.memo = newMemo()
	e.auto = buildAutomaton(keywords)
	e.buildRunTable()
	e.scratch.New = func() any { return newScanState(e) }
	return e, nil
}

// buildRunTable tabulates the scanners' run terms over every (byte, run length), then folds the
// bytes with equal rows into classes so that the tables stay a few hundred bytes. The terms on
// the bytes two away from a run do not depend on its length: one mask per byte.
func (e *Engine) buildRunTable() {
	var terms []RunTerm
	e.termScanner = nil
	for k, rs := range e.scanners {
		ts := []RunTerm{{}} // no filter: every run
		if f, ok := rs.(RunFilter); ok {
			ts = f.RunTerms()
		}
		for _, t := range ts {
			terms = append(terms, t)
			e.termScanner = append(e.termScanner, k)
		}
	}
	if len(terms) > 64 {
		// More terms than mask bits: one always-true term per scanner.
		terms = make([]RunTerm, len(e.scanners))
		e.termScanner = e.termScanner[:0]
		for k := range e.scanners {
			e.termScanner = append(e.termScanner, k)
		}
		if len(terms) > 64 {
			terms, e.termScanner = terms[:64], e.termScanner[:64] // runOne runs the rest with the last
		}
	}
	e.prevMask = tabulate(&e.prevRow, terms, func(t RunTerm) func(byte, int) bool { return t.Prev })
	e.nextMask = tabulate(&e.nextRow, terms, func(t RunTerm) func(byte, int) bool { return t.Next })
	for b := range 256 {
		e.prev2Mask[b], e.next2Mask[b] = 0, 0
		for k, t := range terms {
			if t.Prev2 == nil || t.Prev2(byte(b)) {
				e.prev2Mask[b] |= 1 << k
			}
			if t.Next2 == nil || t.Next2(byte(b)) {
				e.next2Mask[b] |= 1 << k
			}
		}
	}
}

// tabulate returns the rows of the classes of bytes and sets each byte's row offset. One flat
// slice indexed by offset+n costs the scan a single bounds check per side.
func tabulate(rowOf *[256]uint16, terms []RunTerm, side func(RunTerm) func(byte, int) bool) []uint64 {
	var rows []uint64
	seen := map[[MaxRunBucket + 1]uint64]uint16{}
	for b := 0; b < 256; b++ {
		var row [MaxRunBucket + 1]uint64
		for k, t := range terms {
			f := side(t)
			for n := 1; n <= MaxRunBucket; n++ {
				if f == nil || f(byte(b), n) {
					row[n] |= 1 << k
				}
			}
		}
		off, ok := seen[row]
		if !ok {
			off = uint16(len(rows))
			seen[row] = off
			rows = append(rows, row[:]...)
		}
		rowOf[b] = off
	}
	return rows
}

// Detectors returns the engine's detectors in order.
func (e *Engine) Detectors() []Detector { return e.detectors }

type scanState struct {
	hits    [][]int // per detector: keyword hit offsets
	touched []int   // detectors with hits in this text
	next    []int   // per runner: where it wants its next digit run to start

	// The callbacks handed to detectors are built once per state and read the current call
	// from these fields: a closure per detector per text was most of the engine's allocation.
	text               string
	emit               func(Detector, Match)
	det                Detector
	lastStart, lastEnd int
	findFn             func(Match) // checks the span, drops a repeat of the same span
	runFn              func(Match) // checks the span (runners interleave, so no repeat check)
	hitFn              func(kw, start int)
}

func newScanState(e *Engine) *scanState {
	st := &scanState{hits: make([][]int, len(e.detectors)), next: make([]int, len(e.runners))}
	st.findFn = func(m Match) {
		if m.Start < 0 || m.End > len(st.text) || m.Start >= m.End {
			return // a detector bug must not produce a bogus span downstream
		}
		if m.Start == st.lastStart && m.End == st.lastEnd {
			return
		}
		st.lastStart, st.lastEnd = m.Start, m.End
		st.emit(st.det, m)
	}
	st.runFn = func(m Match) {
		if m.Start >= 0 && m.End <= len(st.text) && m.Start < m.End {
			st.emit(st.det, m)
		}
	}
	st.hitFn = func(kw, start int) {
		for _, i := range e.owners[kw] {
			if len(st.hits[i]) == 0 {
				st.touched = append(st.touched, i)
			}
			st.hits[i] = append(st.hits[i], start)
		}
	}
	return st
}

// Scan reports every match in text, detector by detector in the engine's order. A detector
// reports each value once even when several of its keywords hit it.
func (e *Engine) Scan(text string, emit func(d Detector, m Match)) {
	st := e.scratch.Get().(*scanState)
	st.text, st.emit = text, emit
	defer func() {
		st.text, st.emit, st.det = "", nil, nil // do not keep the caller's text alive in the pool
		e.scratch.Put(st)
	}()
	for _, i := range st.touched {
		st.hits[i] = st.hits[i][:0]
	}
	st.touched = st.touched[:0]

	e.auto.scan(text, st.hitFn) // built once per state: a closure per text was an allocation per segment
	slices.Sort(st.touched)
	ai := 0
	for _, i := range st.touched {
		for ai < len(e.always) && e.always[ai] < i {
			e.runDetector(st, e.always[ai], nil)
			ai++
		}
		hits := st.hits[i]
		if !slices.IsSorted(hits) {
			slices.Sort(hits)
		}
		hits = slices.Compact(hits)
		e.runDetector(st, i, hits)
	}
	for ; ai < len(e.always); ai++ {
		e.runDetector(st, e.always[ai], nil)
	}
	if len(e.runners) > 0 {
		e.scanRuns(st)
	}
}

// runDetector calls one detector, dropping repeated reports of the same span.
func (e *Engine) runDetector(st *scanState, i int, hits []int) {
	st.det = e.detectors[i]
	st.lastStart, st.lastEnd = -1, -1
	st.det.Find(st.text, hits, st.findFn)
}

// scanRuns walks the digit runs of the text once and offers each to every RunScanner that is
// ready for it.
func (e *Engine) scanRuns(st *scanState) {
	text, next := st.text, st.next
	clear(next)
	prevMask, nextMask := e.prevMask, e.nextMask
	for i := NextDigit(text, 0); i < len(text); i = NextDigit(text, i) {
		j := i + 1
		for j < len(text) && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		var prev, after byte
		if i > 0 {
			prev = text[i-1]
		}
		if j < len(text) {
			after = text[j]
		}
		n := min(j-i, MaxRunBucket)
		m := prevMask[int(e.prevRow[prev])+n] & nextMask[int(e.nextRow[after])+n]
		if m != 0 {
			var prev2, after2 byte
			if i > 1 {
				prev2 = text[i-2]
			}
			if j+1 < len(text) {
				after2 = text[j+1]
			}
			m &= e.prev2Mask[prev2] & e.next2Mask[after2]
		}
		for m != 0 {
			t := bits.TrailingZeros64(m)
			m &= m - 1
			k := e.termScanner[t]
			if t == 63 && len(e.scanners) > 64 {
				for ; k < len(e.scanners); k++ {
					e.runOne(st, k, i, j)
				}
				break
			}
			e.runOne(st, k, i, j)
		}
		i = j
	}
}

func (e *Engine) runOne(st *scanState, k, i, j int) {
	if st.next[k] <= i {
		st.det = e.detectors[e.runners[k]]
		st.next[k] = e.scanners[k].FindRun(st.text, i, j, st.runFn)
	}
}

// Prefilter runs only the keyword automaton over text and returns how many keyword hits it saw;
// it exists to measure the automaton on its own.
func (e *Engine) Prefilter(text string) int {
	n := 0
	e.auto.scan(text, func(int, int) { n++ })
	return n
}
