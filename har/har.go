// Package har reads and writes HTTP Archive files (HAR 1.2,
// http://www.softwareishard.com/blog/har-12-spec/).
//
// Read turns a HAR exported by a browser or a debugging proxy into flows that the inspection
// pipeline inspects like proxied ones (customs replay --har). Write exports flows as evidence,
// with customs' own findings and verdict under the "_customs" custom field and credentials in
// headers and query strings masked.
//
// # What exporters record for bodies
//
// HAR has no field for the bytes that went over the wire; each exporter stores what it had, and
// Read has to tell which it got before inspection decodes a Content-Encoding:
//
//   - Chrome and Edge DevTools: postData.text is the body the page handed to fetch/XHR, turned into
//     a UTF-8 string by the browser (bodySize is that string's UTF-8 length). Browsers never
//     compress request bodies themselves, so a Content-Encoding request header means the page
//     compressed the body (CompressionStream, pako): the text is then a lossy rendering of binary
//     data, every invalid byte replaced by U+FFFD, and the original cannot be recovered. HTTP/2
//     requests carry the pseudo-headers :method, :authority, :scheme and :path in request.headers
//     and no Host header. Response content.text is decoded; binary content is base64 with
//     content.encoding "base64"; content.size is the decoded size, bodySize the bytes on the wire
//     (-1 when unknown).
//   - Firefox: postData.text is the upload stream read as text in the page's charset, never
//     decompressed, so binary bodies lose bytes the same way; bodySize counts UTF-16 code units
//     of that text. Request headers include Host, also on HTTP/2. Responses as in Chrome.
//   - mitmproxy (save.har, examples/contrib/har_dump.py): postData.text is
//     request.get_text(strict=False), i.e. decoded from the Content-Encoding (the header is kept)
//     and then from the charset; when decoding fails the raw bytes are kept, as Latin-1 text or,
//     for JSON, UTF-8 with Python's surrogateescape (lone \udc80-\udcff escapes). content.text is
//     decoded too, base64 when mostly binary; content.size and bodySize are the encoded size.
//   - Charles and Fiddler keep the raw bytes of each exchange and store bodies as text or base64;
//     whether their HAR text is decompressed could not be established from public sources, which
//     is why the rule below looks at the bytes rather than at the creator's name.
//   - customs (Write): the request body exactly as inspected, i.e. the wire bytes, base64 with
//     postData.encoding "base64" when they are not UTF-8 (a compressed body always is), and the
//     Content-Encoding header unchanged.
//
// Read therefore keeps Flow.ContentEncoding only when the body still looks encoded: gzip and zstd
// by their magic numbers, deflate by its zlib header or by not being text, br and unknown codings
// by not being text. A body that reads as text was recorded decoded: ContentEncoding is cleared
// so inspection does not try to decode it again, and the flow carries a note. Text that holds
// replacement characters or control bytes under a Content-Encoding is the lossy browser case:
// ContentEncoding is cleared, the flow is marked flow.MarkDecodeError and noted, and what survived
// is inspected. Bytes that were kept losslessly after all — Latin-1 text whose code points are the
// encoded bytes, or surrogateescape — are recovered and decoded by inspection as usual. The same
// rule sets Entry.ResponseEncoding for response content.
package har

import (
	"github.com/customs-dev/customs/flow"
)

// Defaults for ReadOptions.
const (
	DefaultMaxBody    = 8 << 20
	DefaultMaxEntries = 1_000_000
)

// mask replaces credentials in exported headers and query strings.
const mask = "[redacted by customs]"

// Entry is one exchange of a HAR file: the flow, and the response content that flow.Flow has no
// field for.
type Entry struct {
	Flow *flow.Flow
	// ResponseBody is the response content as the HAR holds it, at most ReadOptions.MaxBody
	// bytes. Exporters record it decoded; ResponseEncoding says when it is not.
	ResponseBody []byte
	// ResponseEncoding is the content coding still applied to ResponseBody: empty when the
	// content is decoded (as every browser and mitmproxy record it), else the response's
	// Content-Encoding. Pass it, not the recorded header, to whatever decodes the body.
	ResponseEncoding string
	// HTTPVersion is request.httpVersion as recorded ("HTTP/1.1", "http/2.0", "h3").
	HTTPVersion string
	// Customs is customs' own record from a HAR that customs exported ("_customs"), nil
	// otherwise. Read never copies it onto Flow: a re-import is inspected afresh, and a HAR file
	// must not be able to plant findings or verdicts. Compare against it to see what was flagged
	// at the time.
	Customs *Customs
}

// Customs is the "_customs" custom field of an exported entry: what customs decided about the
// flow. It never holds a detected value: findings carry a masked preview and a keyed hash.
type Customs struct {
	FlowID   string    `json:"flow_id"`
	Source   string    `json:"source,omitempty"`
	Mode     string    `json:"mode,omitempty"`
	Client   string    `json:"client,omitempty"`
	User     string    `json:"user,omitempty"`
	Vendor   string    `json:"vendor"`
	Category string    `json:"category"`
	API      string    `json:"api"`
	Action   string    `json:"action"`
	Policy   string    `json:"policy"`
	Message  string    `json:"message,omitempty"`
	Findings []Finding `json:"findings"`
	Marks    []string  `json:"marks,omitempty"`
	Notes    []string  `json:"notes,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Finding is a flow.Finding as exported: where and what kind, never the value.
type Finding struct {
	Detector string `json:"detector"`
	Class    string `json:"class"`
	Severity string `json:"severity"`
	Path     string `json:"path"`
	Preview  string `json:"preview"`
	Hash     string `json:"hash"`
}
