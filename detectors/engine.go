package detectors

import (
	"fmt"
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
	scratch   sync.Pool
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
		case Secret, PII, Marker, Code:
		default:
			errs = append(errs, fmt.Errorf("detector %s: unknown class %q", m.ID, m.Class))
		}
		if len(m.Keywords) == 0 {
			if _, ok := d.(RunScanner); ok {
				e.runners = append(e.runners, i)
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
		return nil, joinErrors(errs)
	}
	e.auto = buildAutomaton(keywords)
	e.scratch.New = func() any { return &scanState{hits: make([][]int, len(ds)), next: make([]int, len(e.runners))} }
	return e, nil
}

// Detectors returns the engine's detectors in order.
func (e *Engine) Detectors() []Detector { return e.detectors }

type scanState struct {
	hits    [][]int // per detector: keyword hit offsets
	touched []int   // detectors with hits in this text
	next    []int   // per runner: where it wants its next digit run to start
}

// Scan reports every match in text, detector by detector in the engine's order. A detector
// reports each value once even when several of its keywords hit it.
func (e *Engine) Scan(text string, emit func(d Detector, m Match)) {
	st := e.scratch.Get().(*scanState)
	defer e.scratch.Put(st)
	for _, i := range st.touched {
		st.hits[i] = st.hits[i][:0]
	}
	st.touched = st.touched[:0]

	e.auto.scan(text, func(kw, start int) {
		for _, i := range e.owners[kw] {
			if len(st.hits[i]) == 0 {
				st.touched = append(st.touched, i)
			}
			st.hits[i] = append(st.hits[i], start)
		}
	})
	slices.Sort(st.touched)
	ai := 0
	for _, i := range st.touched {
		for ai < len(e.always) && e.always[ai] < i {
			e.runDetector(e.always[ai], text, nil, emit)
			ai++
		}
		hits := st.hits[i]
		if !slices.IsSorted(hits) {
			slices.Sort(hits)
		}
		hits = slices.Compact(hits)
		e.runDetector(i, text, hits, emit)
	}
	for ; ai < len(e.always); ai++ {
		e.runDetector(e.always[ai], text, nil, emit)
	}
	if len(e.runners) > 0 {
		e.scanRuns(text, st.next, emit)
	}
}

// scanRuns walks the digit runs of text once and offers each to every RunScanner that is ready
// for it.
func (e *Engine) scanRuns(text string, next []int, emit func(Detector, Match)) {
	clear(next)
	emits := make([]func(Match), len(e.runners))
	for k, i := range e.runners {
		d := e.detectors[i]
		emits[k] = func(m Match) {
			if m.Start >= 0 && m.End <= len(text) && m.Start < m.End {
				emit(d, m)
			}
		}
	}
	for i := 0; i < len(text); {
		if c := text[i]; c < '0' || c > '9' {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		for k, di := range e.runners {
			if next[k] <= i {
				next[k] = e.detectors[di].(RunScanner).FindRun(text, i, j, emits[k])
			}
		}
		i = j
	}
}

// runDetector calls one detector, dropping repeated reports of the same span.
func (e *Engine) runDetector(i int, text string, hits []int, emit func(Detector, Match)) {
	d := e.detectors[i]
	lastStart, lastEnd := -1, -1
	d.Find(text, hits, func(m Match) {
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			return // a detector bug must not produce a bogus span downstream
		}
		if m.Start == lastStart && m.End == lastEnd {
			return
		}
		lastStart, lastEnd = m.Start, m.End
		emit(d, m)
	})
}

// Prefilter runs only the keyword automaton over text and returns how many keyword hits it saw;
// it exists to measure the automaton on its own.
func (e *Engine) Prefilter(text string) int {
	n := 0
	e.auto.scan(text, func(int, int) { n++ })
	return n
}

type joinedErrors []error

func (j joinedErrors) Error() string {
	s := ""
	for i, err := range j {
		if i > 0 {
			s += "\n"
		}
		s += err.Error()
	}
	return s
}

func (j joinedErrors) Unwrap() []error { return j }

func joinErrors(errs []error) error { return joinedErrors(errs) }
