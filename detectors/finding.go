package detectors

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/secretfile"
)

// KeyFile is the per-installation key for finding hashes, in the data directory.
const KeyFile = "finding.key"

// Hasher turns a detected value into a keyed hash, so responders can see that two flows carried
// the same secret without the secret being stored anywhere.
type Hasher struct{ key []byte }

// NewHasher returns a hasher keyed with key.
func NewHasher(key []byte) *Hasher { return &Hasher{key: append([]byte(nil), key...)} }

// Hash is HMAC-SHA256(key, value), hex, prefixed with its algorithm.
func (h *Hasher) Hash(value string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(value))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// LoadOrCreateKey reads the finding key at path, creating a random one (mode 0600) when the file
// does not exist. A key readable by others is refused: with it, anyone could test guesses
// against the stored hashes.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, _, err := secretfile.LoadOrCreateHex(path, "finding key", 32)
	if err != nil {
		return nil, err
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("finding key %s: want at least 16 bytes of hex", path)
	}
	return key, nil
}

// Mask shows just enough of a value to recognise it (AKIA************MPLE): the first and last
// four characters of values of 16 or more, the first two of shorter ones, never more than a
// quarter of the value each side.
func Mask(v string) string {
	n := utf8.RuneCountInString(v)
	keep := 4
	switch {
	case n < 8:
		keep = 0
	case n < 16:
		keep = 2
	}
	keep = min(keep, n/4)
	// A long value (a pasted code block, a private key) keeps its ends and says how long it was:
	// a star per character would put kilobytes of stars on a log line.
	stars := n - keep
	if keep == 4 {
		stars -= keep
	}
	long := stars > maxPreviewStars
	var b strings.Builder
	i := 0
	for _, r := range v {
		switch {
		case i < keep || (keep == 4 && i >= n-keep):
			if r < ' ' || r == 0x7f {
				r = ' ' // a line break or tab would break the table and the line it is printed on
			}
			b.WriteRune(r)
		case long && i == keep:
			fmt.Fprintf(&b, "%s(%d chars)%s", strings.Repeat("*", 4), n, strings.Repeat("*", 4))
		case long:
		default:
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// maxPreviewStars is the longest run of stars a preview shows; secrets are shorter, so their
// previews still show their length.
const maxPreviewStars = 64

// Find runs the engine over segments and returns findings: detector, class, severity, where
// (segment path and byte span), a masked preview and a keyed hash. The value itself is not kept.
//
// A decoded document and its own leaves are both segments (query:data/base64 and
// query:data/base64/properties.prompt); a value found in the document is not reported again
// from a leaf below it.
func (e *Engine) Find(segs []flow.Segment, h *Hasher) []flow.Finding {
	var out []flow.Finding
	type seenKey struct{ detector, hash string }
	var seen map[seenKey][]int // value -> indexes in out of its findings
	add := func(s *flow.Segment, meta Meta, start, end int, conf float64, preview, hash string) {
		k := seenKey{meta.ID, hash}
		f := flow.Finding{
			Detector: meta.ID, Class: string(meta.Class), Severity: string(meta.Severity),
			Path: s.Path, Start: start, End: end, Preview: preview, Hash: hash, Confidence: conf,
		}
		for _, i := range seen[k] {
			if strings.HasPrefix(s.Path, out[i].Path+"/") {
				out[i] = f // the leaf names the value more precisely than its document
				return
			}
		}
		if seen == nil {
			seen = map[seenKey][]int{}
		}
		seen[k] = append(seen[k], len(out))
		out = append(out, f)
	}
	// One callback for every segment, reading the current one: a closure per segment was an
	// allocation per segment, and requests carry dozens of short ones (headers, names).
	var (
		s    *flow.Segment
		hits []memoHit // what the current short segment yields, for the memo
		memo bool
	)
	emit := func(d Detector, m Match) {
		meta := d.Meta()
		v := s.Text[m.Start:m.End]
		preview, hash := Mask(v), h.Hash(v)
		if memo {
			hits = append(hits, memoHit{meta: meta, start: m.Start, end: m.End, confidence: m.Confidence, preview: preview, hash: hash})
		}
		add(s, meta, m.Start, m.End, m.Confidence, preview, hash)
	}
	for i := range segs {
		s = &segs[i]
		if s.Text == "" {
			continue
		}
		memo = len(s.Text) <= memoMaxText
		if !memo {
			e.Scan(s.Text, emit)
			continue
		}
		k := e.memo.key(s.Text)
		if cached, ok := e.memo.get(h, k); ok {
			for _, c := range cached {
				add(s, c.meta, c.start, c.end, c.confidence, c.preview, c.hash)
			}
			continue
		}
		hits = nil
		e.Scan(s.Text, emit)
		e.memo.put(h, k, hits)
	}
	return out
}
