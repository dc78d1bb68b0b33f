package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/customs-dev/customs/flow"
)

// The two values stored per flow are encoded by hand: a version byte, then fields in a fixed
// order, strings and byte slices as a uvarint length and the bytes, integers as varints. For a
// chat flow it takes 2.1 KB where encoding/json takes 3.5 KB (no field names, no base64 of the
// body), and it decodes without reflection.
//
// meta (family m, read by Query):
//
//	version=1 | flags | start | end | source mode client.addr client.user host method url api
//	vendor.id vendor.name vendor.category vendor.country content-encoding | request-bytes
//	decoded-bytes status response-bytes | segments: n × (path media size) | findings: n ×
//	(detector class severity path start end preview hash confidence:8 bytes LE float64) |
//	verdict: action policy message n × matched | notes: n × s | marks: n × s | error error-kind
//	| (version 2 on) sni target incomplete: n × s messages | (version 3 on) model
//	served-model params: n × (key value), keys in sorted order | (version 4 on) finding
//	extras: n × (finding-index label ref share:8 segment-share:8 rows columns: m × s spans:
//	m × (start end)), only for the findings that have them (jewels, records, echoes) |
//	(version 5 on) server alpn ja4 tls-version run command
//
// body (family b, read by Get and Each with bodies):
//
//	version=2 | request header | request body | response header | response body
//
// where a header is n × (name, m × value), names in sorted order, and a body is a codec byte
// and the bytes (length-prefixed): codec 0, the body as it is; 1, a zstd frame of it (with
// its size); 2, an S2 block. Version 1 (store formats 1 and 2) had the bodies as they are,
// without codec bytes. See bodycodec.go.
const (
	// metaVersion 2 added sni, target, incomplete and messages at the end; version 3 the
	// model, the served model and the retention parameters after them; version 4 what
	// crown-jewel findings matched (label, file or flow, shares, rows, columns, spans); version
	// 5 what a capture saw of the connection (server address, ALPN, JA4, TLS version) and the
	// customs run tag (run ID, command). Older
	// records still decode (without what they did not have).
	metaVersion   = 5
	bodyVersion   = 2
	bodyVersionV1 = 1
)

const (
	flagRequestTruncated = 1 << iota
	flagResponseTruncated
	flagHasBody // a body value (headers or bodies) was stored
)

// errCorrupt is returned for stored bytes that do not decode.
var errCorrupt = errors.New("store: corrupt record")

// droppedHeaders are never stored: the proxy's own credential, which is not part of what the
// client sent to the vendor.
var droppedHeaders = []string{"Proxy-Authorization"}

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.varint(0)
		return
	}
	e.varint(t.UnixNano())
}

func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) header(h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		if !slices.Contains(droppedHeaders, http.CanonicalHeaderKey(k)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.strs(h[k])
	}
}

// appendMeta appends the metadata encoding of r to dst.
func appendMeta(dst []byte, r *Record, hasBody bool) []byte {
	e := encoder{b: dst}
	e.b = append(e.b, metaVersion)
	var flags uint64
	if r.RequestTruncated {
		flags |= flagRequestTruncated
	}
	if r.ResponseTruncated {
		flags |= flagResponseTruncated
	}
	if hasBody {
		flags |= flagHasBody
	}
	e.uvarint(flags)
	e.time(r.Start)
	e.time(r.End)
	for _, s := range [...]string{string(r.Source), string(r.Mode), r.Client.Addr, r.Client.User, r.Host,
		r.Method, r.URL, r.API, r.Vendor.ID, r.Vendor.Name, r.Vendor.Category, r.Vendor.Country,
		r.ContentEncoding} {
		e.str(s)
	}
	e.varint(r.RequestBytes)
	e.varint(r.DecodedBytes)
	e.varint(int64(r.Status))
	e.varint(r.ResponseBytes)
	e.uvarint(uint64(len(r.Segments)))
	for _, s := range r.Segments {
		e.str(s.Path)
		e.str(s.Media)
		e.varint(int64(s.Size))
	}
	e.uvarint(uint64(len(r.Findings)))
	for _, f := range r.Findings {
		e.str(f.Detector)
		e.str(f.Class)
		e.str(f.Severity)
		e.str(f.Path)
		e.varint(int64(f.Start))
		e.varint(int64(f.End))
		e.str(f.Preview)
		e.str(f.Hash)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f.Confidence))
	}
	e.str(string(r.Verdict.Action))
	e.str(r.Verdict.Policy)
	e.str(r.Verdict.Message)
	e.strs(r.Verdict.Matched)
	e.strs(r.Notes)
	e.uvarint(uint64(len(r.Marks)))
	for _, m := range r.Marks {
		e.str(string(m))
	}
	e.str(r.Error)
	e.str(r.ErrorKind)
	e.str(r.SNI)
	e.str(r.Target)
	e.strs(r.Incomplete)
	e.varint(int64(r.Messages))
	e.str(r.Model)
	e.str(r.ServedModel)
	e.params(r.Params)
	e.findingExtras(r.Findings)
	for _, s := range [...]string{r.Server, r.ALPN, r.JA4, r.TLSVersion, r.Client.Run, r.Client.Command} {
		e.str(s)
	}
	return e.b
}

// findingExtras writes what jewel, record and echo findings matched, for those that have it:
// most flows have none and pay one byte.
func (e *encoder) findingExtras(fs []flow.Finding) {
	n := 0
	for i := range fs {
		if hasExtras(&fs[i]) {
			n++
		}
	}
	e.uvarint(uint64(n))
	for i := range fs {
		f := &fs[i]
		if !hasExtras(f) {
			continue
		}
		e.uvarint(uint64(i))
		e.str(f.Label)
		e.str(f.Ref)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f.Share))
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f.SegmentShare))
		e.varint(int64(f.Rows))
		e.strs(f.Columns)
		e.uvarint(uint64(len(f.Spans)))
		for _, sp := range f.Spans {
			e.varint(int64(sp[0]))
			e.varint(int64(sp[1]))
		}
	}
}

func hasExtras(f *flow.Finding) bool {
	return f.Label != "" || f.Ref != "" || f.Share != 0 || f.SegmentShare != 0 || f.Rows != 0 || len(f.Columns) > 0 || len(f.Spans) > 0
}

// params writes a string map in sorted key order, so that a record encodes to the same bytes
// however the map iterates.
func (e *encoder) params(m map[string]string) {
	keys := slices.Sorted(maps.Keys(m))
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(m[k])
	}
}

// appendBody appends the body encoding (headers and bodies, each body compressed when that
// pays) of r to dst; a nil dst is allocated at the value's size.
func appendBody(dst []byte, r *Record) []byte {
	req, resp := compressBody(r.RequestBody), compressBody(r.ResponseBody)
	defer req.free()
	defer resp.free()
	if dst == nil {
		dst = make([]byte, 0, headerSize(r.RequestHeader)+headerSize(r.ResponseHeader)+req.size()+resp.size()+1)
	}
	e := encoder{b: dst}
	e.b = append(e.b, bodyVersion)
	e.header(r.RequestHeader)
	e.body(req)
	e.header(r.ResponseHeader)
	e.body(resp)
	return e.b
}

// appendBodyV1 is appendBody as store formats 1 and 2 wrote it (no compression), for the
// tests of reading and migrating such a store.
func appendBodyV1(dst []byte, r *Record) []byte {
	e := encoder{b: dst}
	e.b = append(e.b, bodyVersionV1)
	e.header(r.RequestHeader)
	e.bytes(r.RequestBody)
	e.header(r.ResponseHeader)
	e.bytes(r.ResponseBody)
	return e.b
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a varint that must fit an int.
func (d *decoder) int() int {
	v := d.varint()
	if v < math.MinInt || v > math.MaxInt {
		d.fail()
		return 0
	}
	return int(v)
}

// count reads an element count; each element takes at least min bytes, so a count larger than
// what is left is corrupt (and never allocates).
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string { return string(d.raw()) }

func (d *decoder) time() time.Time {
	n := d.varint()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (d *decoder) strs() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

func (d *decoder) params() map[string]string {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

func (d *decoder) header() http.Header {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	h := make(http.Header, n)
	for range n {
		k := d.str()
		h[k] = d.strs()
	}
	return h
}

// versionIn reads a version byte that must be in [lo, hi], and returns it.
func (d *decoder) versionIn(lo, hi byte) byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	v := d.b[0]
	if v < lo || v > hi {
		d.err = fmt.Errorf("%w: format version %d, want %d to %d (written by a newer customs?)", errCorrupt, v, lo, hi)
		d.b = nil
		return 0
	}
	d.b = d.b[1:]
	return v
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return d.err
}

// decodeMeta fills r's metadata from b, the value stored under the meta key. It reports
// whether a body value was stored. It never panics and never allocates more than b's size
// suggests, whatever b holds.
func decodeMeta(b []byte, r *Record) (hasBody bool, err error) {
	d := decoder{b: b}
	v := d.versionIn(1, metaVersion)
	flags := d.uvarint()
	r.RequestTruncated = flags&flagRequestTruncated != 0
	r.ResponseTruncated = flags&flagResponseTruncated != 0
	hasBody = flags&flagHasBody != 0
	r.Start = d.time()
	r.End = d.time()
	r.Source = flow.Source(d.str())
	r.Mode = flow.Mode(d.str())
	r.Client.Addr = d.str()
	r.Client.User = d.str()
	r.Host = d.str()
	r.Method = d.str()
	r.URL = d.str()
	r.API = d.str()
	r.Vendor.ID = d.str()
	r.Vendor.Name = d.str()
	r.Vendor.Category = d.str()
	r.Vendor.Country = d.str()
	r.ContentEncoding = d.str()
	r.RequestBytes = d.varint()
	r.DecodedBytes = d.varint()
	r.Status = d.int()
	r.ResponseBytes = d.varint()
	if n := d.count(3); n > 0 {
		r.Segments = make([]Segment, n)
		for i := range r.Segments {
			s := &r.Segments[i]
			s.Path = d.str()
			s.Media = d.str()
			s.Size = d.int()
		}
	}
	if n := d.count(16); n > 0 { // 8 one-byte fields at least, and the confidence
		r.Findings = make([]flow.Finding, n)
		for i := range r.Findings {
			f := &r.Findings[i]
			f.Detector = d.str()
			f.Class = d.str()
			f.Severity = d.str()
			f.Path = d.str()
			f.Start = d.int()
			f.End = d.int()
			f.Preview = d.str()
			f.Hash = d.str()
			f.Confidence = d.float()
		}
	}
	r.Verdict.Action = flow.Action(d.str())
	r.Verdict.Policy = d.str()
	r.Verdict.Message = d.str()
	r.Verdict.Matched = d.strs()
	r.Notes = d.strs()
	if n := d.count(1); n > 0 {
		r.Marks = make([]flow.Mark, n)
		for i := range r.Marks {
			r.Marks[i] = flow.Mark(d.str())
		}
	}
	r.Error = d.str()
	r.ErrorKind = d.str()
	if v >= 2 {
		r.SNI = d.str()
		r.Target = d.str()
		r.Incomplete = d.strs()
		r.Messages = d.int()
	}
	if v >= 3 {
		r.Model = d.str()
		r.ServedModel = d.str()
		r.Params = d.params()
	}
	if v >= 4 {
		d.findingExtras(r.Findings)
	}
	if v >= 5 {
		r.Server = d.str()
		r.ALPN = d.str()
		r.JA4 = d.str()
		r.TLSVersion = d.str()
		r.Client.Run = d.str()
		r.Client.Command = d.str()
	}
	return hasBody, d.done()
}

// findingExtras reads what findingExtras wrote into fs; an index out of range is corruption.
func (d *decoder) findingExtras(fs []flow.Finding) {
	for range d.count(20) { // index, two strings, 16 bytes of shares, rows, two counts
		i := d.uvarint()
		if i >= uint64(len(fs)) {
			d.fail()
			return
		}
		f := &fs[i]
		f.Label = d.str()
		f.Ref = d.str()
		f.Share = d.float()
		f.SegmentShare = d.float()
		f.Rows = d.int()
		f.Columns = d.strs()
		if n := d.count(2); n > 0 {
			f.Spans = make([][2]int, n)
			for j := range f.Spans {
				f.Spans[j] = [2]int{d.int(), d.int()}
			}
		}
	}
}

// float reads 8 bytes of a little-endian float64.
func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

// decodeBody fills r's headers and bodies from b, the value stored under the body key. The
// bodies are copied: b may be badger's memory, valid only during the read.
func decodeBody(b []byte, r *Record) error {
	d := decoder{b: b}
	if d.versionIn(bodyVersionV1, bodyVersion) == bodyVersionV1 {
		r.RequestHeader = d.header()
		r.RequestBody = clone(d.raw())
		r.ResponseHeader = d.header()
		r.ResponseBody = clone(d.raw())
	} else {
		r.RequestHeader = d.header()
		r.RequestBody = d.compressed()
		r.ResponseHeader = d.header()
		r.ResponseBody = d.compressed()
	}
	if err := d.done(); err != nil {
		return err
	}
	r.HasBodies = true
	return nil
}

func clone(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}
