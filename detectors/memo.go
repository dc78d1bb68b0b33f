package detectors

import (
	"hash/maphash"
	"sync"
)

// The short texts of a request — header values, the URL path, member names, model and role —
// are the same request after request (an SDK sends the same User-Agent, the same key, the same
// "gpt-4o" every time), and since headers, paths and names are all scanned they are most of a
// request's segments. So the engine remembers what it found in short texts: a text seen before
// costs a map lookup instead of a scan. Detectors are pure functions of their text, so the
// answer is the same; the memo keeps no text (its key is two keyed 64-bit hashes) and the masked
// previews and keyed hashes it holds are what a finding shows anyway.

const (
	// memoMaxText is the longest text remembered: longer ones are prompt content, rarely
	// repeated, and costly to hash for nothing.
	memoMaxText = 512
	// memoEntries bounds each of the memo's two generations.
	memoEntries = 8192
)

type memoKey struct{ a, b uint64 }

type memoHit struct {
	meta       Meta
	start, end int
	confidence float64
	preview    string
	hash       string
}

// memo is a two-generation map: when the young generation is full it becomes the old one and
// the previous old one is dropped, so texts still in use survive and memory stays bounded.
type memo struct {
	seedA, seedB maphash.Seed
	mu           sync.Mutex
	young, old   map[memoKey][]memoHit
	hasher       *Hasher // the hashes held are this hasher's; another one starts afresh
}

func newMemo() *memo {
	return &memo{seedA: maphash.MakeSeed(), seedB: maphash.MakeSeed(), young: map[memoKey][]memoHit{}}
}

func (m *memo) key(text string) memoKey {
	return memoKey{maphash.String(m.seedA, text), maphash.String(m.seedB, text)}
}

func (m *memo) get(h *Hasher, k memoKey) ([]memoHit, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hasher != h {
		return nil, false
	}
	if v, ok := m.young[k]; ok {
		return v, true
	}
	if v, ok := m.old[k]; ok {
		m.young[k] = v
		return v, true
	}
	return nil, false
}

func (m *memo) put(h *Hasher, k memoKey, v []memoHit) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hasher != h {
		m.hasher, m.young, m.old = h, map[memoKey][]memoHit{}, nil
	}
	if len(m.young) >= memoEntries {
		m.old, m.young = m.young, make(map[memoKey][]memoHit, memoEntries/4)
	}
	m.young[k] = v
}
