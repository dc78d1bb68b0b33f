package jewels

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/fingerprint"
	"github.com/customs-dev/customs/flow"
)

// EchoOptions bound the echo memory.
type EchoOptions struct {
	// Window is how long a prompt or answer is remembered (default 24h).
	Window time.Duration
	// Budget is the memory the remembered prints may take, in bytes (default 256 MiB). Past it
	// the oldest hour is forgotten first, and Find says the window was shortened.
	Budget int64
	// MinText is the shortest segment remembered or checked (default 48 bytes): a greeting or
	// a header value repeats everywhere and proves nothing.
	MinText int
	// MinPrints is the fewest prints a telemetry segment must share with one AI text, and
	// MinShare the share of that text's prints or of the segment's it must be (defaults 3, 0.2).
	MinPrints int
	MinShare  float64
}

func (o *EchoOptions) defaults() {
	if o.Window <= 0 {
		o.Window = 24 * time.Hour
	}
	if o.Budget <= 0 {
		o.Budget = 256 << 20
	}
	if o.MinText <= 0 {
		o.MinText = 48
	}
	if o.MinPrints <= 0 {
		o.MinPrints = 3
	}
	if o.MinShare <= 0 {
		o.MinShare = 0.2
	}
}

// Echo remembers, for a window, the keyed prints of the texts sent to AI vendors (and, apart,
// of their answers), and finds them again in the requests an app sends to analytics,
// error-tracking, session-replay and observability vendors: the path by which prompt content
// reaches a subprocessor. It holds hashes and flow IDs, never text.
type Echo struct {
	fp *fingerprint.Fingerprinter
	o  EchoOptions

	mu      sync.RWMutex
	buckets []*echoBucket // oldest first, one per bucketSpan
	used    int64
	// cut is the start of the oldest bucket the budget forced out before its window ended
	// (zero while the window is whole).
	cut time.Time
}

const bucketSpan = time.Hour

// echoK words make a k-gram and echoW k-grams a winnowing window: about one print per four
// words (measured: 16 prints for a 60-word prompt, 6 of them in its first half repeated after
// other text), so that two sentences of a prompt repeated in an event hold three or more.
const echoK, echoW = 6, 4

type echoBucket struct {
	start   time.Time
	prints  map[uint64]uint32 // print -> index in entries (the latest text that had it)
	entries []echoEntry
	bytes   int64
}

type echoEntry struct {
	flowID string
	answer bool
	path   string
	prints int32
}

// Approximate memory of a print in a bucket's map and of an entry, for the budget.
const (
	printBytes = 40
	entryBytes = 96
)

// NewEcho returns an empty echo memory keyed with key (the finding key).
func NewEcho(key []byte, o EchoOptions) (*Echo, error) {
	o.defaults()
	// Denser prints than a document index's: telemetry carries fragments (a truncated
	// property, a breadcrumb), and a fragment of a few sentences must still hold a few prints.
	fp, err := fingerprint.NewFingerprinter(key, fingerprint.Document, fingerprint.Options{K: echoK, W: echoW})
	if err != nil {
		return nil, fmt.Errorf("echo: %w", err)
	}
	return &Echo{fp: fp, o: o}, nil
}

// EchoStats are what the memory holds now.
type EchoStats struct {
	Texts, Prints int
	Bytes, Budget int64
	Window        time.Duration
	Oldest        time.Time
	// Shortened is set when the budget forgot texts younger than the window.
	Shortened bool
}

// Stats reports the memory's contents.
func (e *Echo) Stats() EchoStats {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := EchoStats{Bytes: e.used, Budget: e.o.Budget, Window: e.o.Window, Shortened: !e.cut.IsZero()}
	for _, b := range e.buckets {
		st.Texts += len(b.entries)
		st.Prints += len(b.prints)
	}
	if len(e.buckets) > 0 {
		st.Oldest = e.buckets[0].start
	}
	return st
}

// Remember records the texts of segs (a request to an AI vendor, or with answer its answer)
// as flow flowID's, at time at.
func (e *Echo) Remember(flowID string, answer bool, segs []flow.Segment, at time.Time) {
	if e == nil {
		return
	}
	type text struct {
		path   string
		prints []fingerprint.Print
	}
	var texts []text
	for i := range segs {
		if len(segs[i].Text) < e.o.MinText || segs[i].Container { // its leaves are remembered
			continue
		}
		if ps := e.fp.Append(nil, segs[i].Text); len(ps) >= e.o.MinPrints {
			texts = append(texts, text{segs[i].Path, ps})
		}
	}
	if len(texts) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.bucketFor(at)
	before := b.bytes
	for _, t := range texts {
		idx := uint32(len(b.entries))
		b.entries = append(b.entries, echoEntry{flowID: flowID, answer: answer, path: t.path, prints: int32(len(t.prints))})
		b.bytes += entryBytes + int64(len(flowID)+len(t.path))
		for _, p := range t.prints {
			if _, ok := b.prints[p.Hash]; !ok {
				b.bytes += printBytes
			}
			b.prints[p.Hash] = idx
		}
	}
	e.used += b.bytes - before
	// Over budget: forget the oldest hours (never the current one), and remember that the
	// window is shorter than asked.
	for e.used > e.o.Budget && len(e.buckets) > 1 {
		e.used -= e.buckets[0].bytes
		e.cut = e.buckets[0].start
		e.buckets = e.buckets[1:]
	}
}

// bucketFor returns the bucket of time at, starting one and dropping those past the window.
func (e *Echo) bucketFor(at time.Time) *echoBucket {
	start := at.Truncate(bucketSpan)
	for len(e.buckets) > 0 && e.buckets[0].start.Add(bucketSpan).Before(at.Add(-e.o.Window)) {
		e.used -= e.buckets[0].bytes
		e.buckets = e.buckets[1:]
		if len(e.buckets) > 0 && !e.cut.IsZero() && !e.buckets[0].start.After(e.cut) {
			e.cut = time.Time{}
		}
	}
	if len(e.buckets) == 0 {
		e.cut = time.Time{}
	}
	if n := len(e.buckets); n > 0 && !e.buckets[n-1].start.Before(start) {
		// A flow stored late (a long stream) joins the newest bucket.
		return e.buckets[n-1]
	}
	b := &echoBucket{start: start, prints: map[uint64]uint32{}}
	e.buckets = append(e.buckets, b)
	return b
}

// Find returns an echo finding for each remembered AI text that a segment of segs repeats:
// echo.prompt or echo.answer, class document, Ref the AI flow, Share the share of that text's
// prints found and SegmentShare the share of the segment's. notes says when the budget has
// shortened the window.
func (e *Echo) Find(segs []flow.Segment, h *detectors.Hasher, at time.Time) (out []flow.Finding, note string) {
	if e == nil || h == nil {
		return nil, ""
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(e.buckets) == 0 {
		return nil, ""
	}
	if !e.cut.IsZero() {
		note = fmt.Sprintf("echo: prompts and answers are remembered from %s only, not the whole %s window: the %d MiB memory budget (echo.budget) is full",
			e.buckets[0].start.UTC().Format(time.RFC3339), e.o.Window, e.o.Budget>>20)
	}
	type hit struct {
		b, entry int
	}
	for i := range segs {
		seg := &segs[i]
		if len(seg.Text) < e.o.MinText || seg.Container {
			continue
		}
		prints := e.fp.Append(nil, seg.Text)
		if len(prints) < e.o.MinPrints {
			continue
		}
		counts := map[hit]int{}
		spans := map[hit][][2]int{}
		for _, p := range prints {
			// The newest text that had the print: the latest prompt an event repeats. Hours past
			// the window are not searched, even before a new text ages them out.
			for bi := len(e.buckets) - 1; bi >= 0 && !e.buckets[bi].start.Add(bucketSpan).Before(at.Add(-e.o.Window)); bi-- {
				if idx, ok := e.buckets[bi].prints[p.Hash]; ok {
					k := hit{bi, int(idx)}
					counts[k]++
					spans[k] = append(spans[k], [2]int{p.Start, p.End})
					break
				}
			}
		}
		keys := make([]hit, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b hit) int { return counts[b] - counts[a] })
		for _, k := range keys {
			n := counts[k]
			ent := e.buckets[k.b].entries[k.entry]
			share, segShare := float64(n)/float64(ent.prints), float64(n)/float64(len(prints))
			if n < e.o.MinPrints || max(share, segShare) < e.o.MinShare {
				continue
			}
			id := EchoPrompt
			if ent.answer {
				id = EchoAnswer
			}
			f := finding(seg, h, id, string(detectors.Document), "high", mergeSpans(spans[k]), func(f *flow.Finding) {
				f.Ref, f.Label = ent.flowID, ent.path
				f.Share, f.SegmentShare = min(1, share), min(1, segShare)
				f.Confidence = min(1, max(share, segShare))
			})
			out = append(out, f)
		}
	}
	return out, note
}

// mergeSpans sorts spans and joins those that overlap or touch.
func mergeSpans(spans [][2]int) [][2]int {
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	out := spans[:0]
	for _, sp := range spans {
		if n := len(out); n > 0 && sp[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], sp[1])
			continue
		}
		out = append(out, sp)
	}
	return out
}
