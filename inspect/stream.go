package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect/decode"
)

// A body larger than the inspection window is not waved through with only its start read: it
// is scanned as it streams. Extraction (the API shapes, paths, JSON walking) reads the window;
// past it, the decoded body is cut into chunks that overlap by StreamOverlap bytes, each chunk is
// read as text (JSON string escapes undone, base64, URL-encoded and nested JSON runs decoded, as
// in any text segment) and scanned by the detectors, and the policies decide again after every
// chunk. The proxy forwards the body as it goes but holds its last part back until Close, so a
// block aborts the upstream request before the vendor has all of it.

// Streaming parameters.
const (
	// StreamChunk is how many decoded bytes are scanned at a time.
	StreamChunk = 1 << 20
	// StreamOverlap is scanned twice, at the end of one chunk and the start of the next, so a
	// value cut by a chunk boundary is seen whole. It is many times longer than any value a
	// built-in detector reports (PEM private keys, the longest, stay under 16 KiB).
	StreamOverlap = 64 << 10
	// streamMargin: a value that ends this close to the end of a chunk that is not the last may be
	// cut there; it is left to the next chunk, which starts StreamOverlap bytes earlier.
	streamMargin = 16 << 10
	// StreamDecodeLimit bounds the decoded size of a streamed body (a compression bomb would
	// otherwise cost unbounded scanning); past it the body is incomplete.
	StreamDecodeLimit = 16 << 30
)

// Stream scans the rest of a request body past its inspection window.
type Stream struct {
	ctx    context.Context
	p      *Pipeline
	sn     *snapshot
	vendor *catalog.Vendor
	f      *flow.Flow
	json   bool

	// skip is how many decoded bytes the window already covered (less the overlap).
	skip int64

	mu       sync.Mutex
	buf      []byte // decoded bytes not yet scanned past, starting at offset bufAt
	bufAt    int64
	total    int64 // decoded bytes seen
	frontier int64 // findings ending at or before this were reported already
	seen     map[string]bool
	verdict  flow.Verdict

	pw   *io.PipeWriter // encoded bodies: the decoder reads the wire bytes from here
	done chan struct{}
}

// NewStream starts scanning f's body past its window; f must have been inspected (Inspect) with
// that window as its RequestBody. Write gives it the whole body as sent, window included.
func (p *Pipeline) NewStream(ctx context.Context, f *flow.Flow) *Stream {
	sn := p.cur.Load()
	s := &Stream{ctx: ctx, p: p, sn: sn, f: f, seen: map[string]bool{}, verdict: f.Verdict}
	if sn.catalog != nil {
		s.vendor, _ = sn.catalog.Lookup(f.Host)
	}
	if f.RequestHeader != nil {
		mt, _, _ := mime.ParseMediaType(f.RequestHeader.Get("Content-Type"))
		s.json = mt == "application/json" || strings.HasSuffix(mt, "+json") || strings.Contains(mt, "ndjson") || strings.Contains(mt, "jsonl")
	}
	if f.ContentEncoding == "" && f.RequestHeader != nil {
		// A UTF-16/32 body is read as UTF-8 in the window; its streamed rest would be scanned as
		// raw code units, which hides the text: say so instead.
		head := f.RequestBody[:min(len(f.RequestBody), 4096)]
		if _, cs, _ := decode.Text(f.RequestHeader.Get("Content-Type"), head, int64(len(head))*2); strings.HasPrefix(cs, "utf-16") || strings.HasPrefix(cs, "utf-32") {
			f.MarkIncompleteReason("oversize-charset")
			f.Notes = append(f.Notes, "streamed body: "+cs+" past the inspection window is not read")
			s.decideLocked()
		}
	}
	s.skip = max(0, f.DecodedBytes-StreamOverlap)
	s.frontier = f.DecodedBytes
	f.Mark(flow.MarkOversize)
	if f.ContentEncoding != "" {
		pr, pw := io.Pipe()
		// The decoders' windows are leased from the decode budget for as long as they run.
		lease := p.budget.Lease(ctx, budgetClient(f))
		dec, err := decode.NewReaderWithin(f.ContentEncoding, pr, StreamDecodeLimit, lease)
		if err != nil {
			// A coding refused (the window's inspection already saw it, and decided on it), or
			// no decode budget for the stream's decoders: the rest cannot be read.
			lease.Release()
			s.incomplete(err)
			_ = pr.Close()
			s.done = make(chan struct{})
			close(s.done) // nothing more is scanned: the bytes cannot be read
			return s
		}
		s.pw, s.done = pw, make(chan struct{})
		go func() {
			defer close(s.done)
			defer lease.Release()
			defer dec.Close()
			buf := make([]byte, 256<<10)
			for {
				n, err := dec.Read(buf)
				if n > 0 {
					s.decoded(buf[:n], false)
				}
				if err != nil {
					if !errors.Is(err, io.EOF) {
						s.incomplete(err)
					}
					// Drain, so the writer never blocks on a decoder that gave up.
					_, _ = io.Copy(io.Discard, pr)
					return
				}
			}
		}()
	}
	return s
}

// Write takes the next bytes of the body as sent (content-coded), scans what they decode to, and
// returns the verdict so far. After a Block verdict nothing more may be sent upstream.
func (s *Stream) Write(p []byte) flow.Verdict {
	if s.pw != nil {
		_, _ = s.pw.Write(p) // the decoder drains on error, so this never blocks for ever
	} else if s.done == nil {
		s.decoded(p, false)
	}
	return s.Verdict()
}

// Close ends the body: the rest is scanned, and the final verdict returned.
func (s *Stream) Close() flow.Verdict {
	if s.pw != nil {
		_ = s.pw.Close()
		<-s.done
	}
	s.decoded(nil, true)
	v := s.Verdict()
	s.mu.Lock()
	s.f.Verdict = v
	s.mu.Unlock()
	return v
}

// Abort ends a scan whose body will not be read to its end (the upstream gave up on it).
func (s *Stream) Abort() {
	if s.pw != nil {
		_ = s.pw.CloseWithError(errors.New("body abandoned"))
	}
}

// Verdict is the decision on the body as far as it has been scanned.
func (s *Stream) Verdict() flow.Verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verdict
}

func (s *Stream) incomplete(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reason := decode.Reason(err)
	s.f.MarkIncompleteReason(reason)
	s.f.Notes = append(s.f.Notes, "streamed body: "+err.Error())
	s.decideLocked()
}

// decoded appends decoded bytes and scans every whole chunk; final scans what is left.
func (s *Stream) decoded(p []byte, final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.total
	s.total += int64(len(p))
	if s.total <= s.skip {
		return // still inside the window, which extraction read
	}
	if start < s.skip {
		p = p[s.skip-start:]
		start = s.skip
	}
	if len(s.buf) == 0 {
		s.bufAt = start
	}
	s.buf = append(s.buf, p...)
	for len(s.buf) >= StreamChunk+StreamOverlap {
		s.scanLocked(s.buf[:StreamChunk+StreamOverlap], false)
		// Keep the overlap: the next chunk starts StreamOverlap bytes before this one ended.
		n := copy(s.buf, s.buf[StreamChunk:])
		s.buf = s.buf[:n]
		s.bufAt += StreamChunk
	}
	if final && len(s.buf) > 0 {
		s.scanLocked(s.buf, true)
		s.buf = nil
	}
}

// scanLocked reads one chunk as text and runs the detectors over it.
func (s *Stream) scanLocked(chunk []byte, final bool) {
	if s.sn.detectors == nil {
		return
	}
	text := chunk
	// A chunk may start or end inside a UTF-8 sequence; extraction would read the cut bytes as
	// binary. Trim to whole characters (at most 3 bytes each side, inside the overlap).
	for i := 0; i < 3 && len(text) > 0 && !utf8.RuneStart(text[0]); i++ {
		text = text[1:]
	}
	if s.json {
		text = unescapeJSONText(text)
	}
	res := extract.Extract(&extract.Request{Method: "POST", ContentType: "text/plain; charset=utf-8", Body: text}, s.p.limits)
	prefix := fmt.Sprintf("stream@%d", s.bufAt)
	for i := range res.Segments {
		res.Segments[i].Path = prefix + strings.TrimPrefix(res.Segments[i].Path, "body")
	}
	end := s.bufAt + int64(len(chunk))
	for _, x := range s.sn.find(res.Segments) {
		if x.Path == prefix {
			absEnd := s.bufAt + int64(x.End)
			if absEnd <= s.frontier || (!final && absEnd > end-streamMargin) {
				continue // seen in the previous chunk, or may be cut here: the next one sees it
			}
		}
		key := x.Detector + "\x00" + x.Hash
		if s.seen[key] {
			continue
		}
		s.seen[key] = true
		if ownCredential(s.vendor, x) {
			continue
		}
		s.f.Findings = append(s.f.Findings, x)
	}
	if final {
		s.frontier = end
	} else {
		s.frontier = end - streamMargin
	}
	s.decideLocked()
}

// decideLocked runs the policies over the flow's findings so far. A redaction cannot be applied
// to bytes already sent, so it becomes a block.
func (s *Stream) decideLocked() {
	v := flow.Verdict{Action: flow.Allow}
	if s.sn.rules != nil {
		v = s.sn.decide(s.ctx, s.f, s.vendor)
	}
	v = s.p.applyIncomplete(s.f, s.vendor != nil, v)
	if v.Action == flow.Redact {
		v = flow.Verdict{Action: flow.Block, Policy: v.Policy, Matched: v.Matched,
			Message: v.Message + " (the body was too large to hold, so the values could not be removed from it)"}
	}
	if v.Action.Rank() >= s.verdict.Action.Rank() {
		s.verdict = v
	}
}

// unescapeJSONText undoes JSON string escapes (\n, \", \\, \/, \uXXXX with surrogate pairs)
// anywhere in b, as a vendor's JSON parser would inside strings, so that a value written with
// escapes is scanned as the text it stands for. It copies only when b holds a backslash.
func unescapeJSONText(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] != '\\' {
		i++
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i]...)
	for ; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b', 'f':
			out = append(out, ' ')
		case 'u':
			r, n := hexRune(b[i+1:])
			if n == 0 {
				out = append(out, '\\', 'u')
				continue
			}
			i += n
			if r >= 0xD800 && r < 0xDC00 && i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				if lo, m := hexRune(b[i+3:]); m > 0 && lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 2 + m
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, b[i]) // \" \\ \/ and anything else: the character itself
		}
	}
	return out
}

func hexRune(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, 0
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 4
}
