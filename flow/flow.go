// Package flow holds the types every source of traffic (the proxy, packet captures, stored flows)
// builds, and every consumer (inspection, enforcement, storage, logs, metrics) reads. It imports
// nothing from the project so that any package may depend on it.
package flow

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Source says where a flow was observed.
type Source string

const (
	SourceProxy   Source = "proxy"
	SourceCapture Source = "capture"
	SourceReplay  Source = "replay"
)

// Mode says how much of a flow customs could see.
type Mode string

const (
	// Intercepted flows were opened (TLS terminated) and their bodies inspected.
	Intercepted Mode = "intercepted"
	// Tunnelled flows were passed through untouched; only metadata is known.
	Tunnelled Mode = "tunnelled"
	// Plain flows were plain-HTTP proxy requests, inspected like intercepted ones.
	Plain Mode = "plain"
	// TLS flows were seen passively (a packet capture): the handshake's names and fingerprint
	// and the bytes each way are known, the content is not.
	TLS Mode = "tls"
	// QUIC flows were seen passively over UDP (HTTP/3): the Initial's ClientHello is read.
	QUIC Mode = "quic"
)

// Action is what a verdict does to a flow.
type Action string

const (
	Allow  Action = "allow"
	Alert  Action = "alert"
	Redact Action = "redact"
	Block  Action = "block"
)

// Rank orders actions from weakest to strongest (allow 0, alert 1, redact 2, block 3), so that
// where several decisions meet the strongest wins.
func (a Action) Rank() int {
	switch a {
	case Alert:
		return 1
	case Redact:
		return 2
	case Block:
		return 3
	}
	return 0
}

// Mark is a fact about a flow worth filtering on that is not a finding, such as a body too large to
// inspect whole.
type Mark string

const (
	// MarkOversize: the request body exceeded the inspection window: extraction read the first
	// window bytes, and the detectors scanned the rest as it streamed upstream.
	MarkOversize Mark = "oversize"
	// MarkDecodeTruncated: the decoded body exceeded the decode cap (a possible compression bomb);
	// inspection saw only the first cap bytes of it.
	MarkDecodeTruncated Mark = "decode-truncated"
	// MarkDecodeError: the Content-Encoding could not be decoded (unknown or corrupt); the raw bytes
	// were inspected instead.
	MarkDecodeError Mark = "decode-error"
	// MarkClientAbort: the client went away before the exchange completed.
	MarkClientAbort Mark = "client-abort"
	// MarkWebSocket: the request upgraded to a WebSocket; bytes count the whole session.
	MarkWebSocket Mark = "websocket"
	// MarkIncomplete: customs could not inspect the request completely; Flow.Incomplete says
	// why, and inspection.incomplete decided what happened to it.
	MarkIncomplete Mark = "incomplete"

	// Marks of the connection a flow came through: what the client asked for against what its
	// TLS said.

	// MarkIPTarget: the client named an IP address, not a host name, as its destination.
	MarkIPTarget Mark = "ip-target"
	// MarkNoSNI: the client's TLS ClientHello named no server, so only the CONNECT target says
	// where it goes.
	MarkNoSNI Mark = "no-sni"
	// MarkSNIMismatch: the ClientHello's server name differs from the CONNECT target.
	MarkSNIMismatch Mark = "sni-mismatch"
	// MarkECH: the ClientHello used Encrypted Client Hello: its server name is only the outer,
	// public name.
	MarkECH Mark = "ech"
	// MarkNotTLS: the tunnel did not start with a TLS ClientHello (nor plain HTTP).
	MarkNotTLS Mark = "not-tls"
	// MarkBypass: a capture saw this client reach a vendor while customs' proxy saw nothing of
	// that client in the same window: traffic that went around the checkpoint.
	MarkBypass Mark = "bypass"
	// MarkDoH: the connection went to a well-known DNS-over-HTTPS resolver, which hides the
	// names the client looks up.
	MarkDoH Mark = "doh"
	// MarkPartial: a capture did not hold the whole connection (it began before the capture,
	// segments were missing, or the capture ended first).
	MarkPartial Mark = "partial"
)

// Client identifies who sent a flow.
type Client struct {
	Addr string // ip:port as seen by the proxy
	User string // proxy user name when proxy authentication is on
	// Run and Command tag the flows of one process started by customs run: its run ID and the
	// command's name. The client asserts them (in its proxy user name): a label, not an
	// identity.
	Run     string
	Command string
}

// Vendor is the catalog's answer for a flow's host, copied onto the flow so that consumers need not
// consult the catalog again.
type Vendor struct {
	ID       string
	Name     string
	Category string
	Country  string
}

// Segment is one piece of text pulled out of a body, with the path it came from. Media (images,
// audio, binary files) are segments without text: their type and size are recorded, their
// content is not scanned.
type Segment struct {
	Path  string // e.g. messages[2].content, query:data/base64/[0].properties.prompt, multipart:file
	Text  string
	Media string // MIME type of a non-text part (image/png, audio/wav); empty for text
	Size  int    // bytes of the decoded media; 0 for text
	// Container marks a JSON document found inside a text (a configuration pasted into a
	// prompt, tool-call arguments) whose leaves follow as segments of their own. The detectors
	// read it for what needs a member name beside its value ({"api_key": "…"}); the matchers
	// that must count each text once (crown-jewel shares, the echo) skip it.
	Container bool
}

// Finding is one piece of sensitive data a detector found. It never holds the value itself.
type Finding struct {
	Detector string // namespaced ID, e.g. secret.aws-access-key-id
	Class    string // secret, pii, code, document, marker
	Severity string
	Path     string // segment path
	Start    int    // byte span within the segment text
	End      int
	Preview  string // masked, e.g. AKIA************MPLE
	Hash     string // keyed hash of the value, for correlation across flows
	// Confidence in 0..1: 1 for validated formats (checksums, Luhn); lower where a shape needed
	// context words to count.
	Confidence float64

	// What a crown-jewel finding matched, never the text: jewel.* (indexed files), record.*
	// (exact data match of a table's rows) and echo.* (telemetry repeating an AI flow's text).
	// Label is the jewel's or table's label; Ref the indexed file (jewel) or the flow whose
	// text was echoed (echo); Share the share of that file (or of that flow's text) found and
	// SegmentShare the share of this segment that matched; Rows and Columns how many rows of the
	// table and which of its columns matched. Spans are every matched span of the segment when
	// there are several (Start and End then run from the first to the last).
	Label        string
	Ref          string
	Share        float64
	SegmentShare float64
	Rows         int
	Columns      []string
	Spans        [][2]int
}

// Verdict is the decision the pipeline reached for a flow.
type Verdict struct {
	Action  Action
	Policy  string // ID of the policy that decided; empty for the default
	Message string // why, in words fit for the client that is refused
	// Matched lists every policy that matched, in order (with continue: true, more than the one
	// that decided).
	Matched []string
}

// Flow is one request/response exchange (or, for tunnelled traffic, one connection).
type Flow struct {
	ID     string
	Start  time.Time
	End    time.Time
	Source Source
	Mode   Mode
	Client Client

	Host string // lower-case, without port: the name the client's TLS authenticates (SNI), else the request's host
	// Target is the CONNECT target ("host:port") the client asked the proxy for, when a CONNECT
	// carried the flow; it may be an IP address or differ from Host (see the connection marks).
	Target string
	// SNI is the server name of the client's TLS ClientHello, "" without one or for plain HTTP.
	SNI string
	// Server is the address ("ip:port") the client's packets went to, when a capture saw them.
	Server string
	// ALPN is the application protocol: the one the server selected when seen, else the
	// client's first offer ("h2", "http/1.1", "h3").
	ALPN string
	// JA4 is FoxIO's JA4 fingerprint of the client's ClientHello: which TLS stack sent it (a
	// Python SDK, a browser, curl).
	JA4 string
	// TLSVersion is the negotiated TLS version ("TLS 1.3"), when the server's answer was seen.
	TLSVersion string
	Method     string
	URL        string
	API        string // which vendor API shape was recognised, e.g. openai.chat; empty if none
	// Model is the model the request asked for: the body's "model", or where the API names it
	// in the URL the model there (Gemini and Vertex models/{model}, Bedrock /model/{modelId},
	// an Azure deployment's name, the Realtime API's ?model=). "" when the request named none.
	// At most MaxModelLen bytes (ModelName); MaskedValue when a finding lies where it was read
	// (a secret pasted into "model" is not logged).
	Model string
	// ServedModel is the model the vendor's answer says served the request (the answer's or
	// stream's "model", Gemini's modelVersion), set when the answer is read: "" before, and
	// when the answer names none.
	ServedModel string
	// Params are the request's retention parameters (ParamKeys: store, background, metadata,
	// persist, ...), each a token (ParamTrue, ParamPresent, PersistFile, ...), never the value
	// the client sent. nil when the request set none.
	Params map[string]string

	RequestHeader   http.Header
	RequestBody     []byte // the inspected window of the raw body, at most the inspection cap
	RequestBytes    int64  // bytes of request body sent upstream (for tunnels: client to server)
	ContentEncoding string
	DecodedBytes    int64 // size of the body after Content-Encoding decoding, as inspected

	Status         int
	ResponseHeader http.Header
	ResponseBytes  int64 // bytes of response body sent to the client (for tunnels: server to client)
	// ResponseBody is the first part of the response body as the vendor sent it (still
	// content-encoded), up to the proxy's response capture limit, kept for the record. It is body
	// content: never log it.
	ResponseBody []byte

	Vendor Vendor
	// Segments are the texts inspection pulled out of the request (and response) bodies. They
	// hold body content: never log them.
	Segments []Segment
	// Notes say what inspection could not read (malformed JSON, bad base64, limits reached), so
	// a responder knows where coverage stopped.
	Notes []string
	// Incomplete lists why customs could not inspect the request completely (decode-limit,
	// unsupported-coding, extraction-limit:segments, websocket-message-too-big, ...): stable
	// tokens for filters and metrics. Empty when everything the client sent was inspected.
	Incomplete []string
	// Messages counts the WebSocket messages the client sent through an inspected session.
	Messages int
	Marks    []Mark
	Findings []Finding
	Verdict  Verdict
	Error    string // why the exchange failed, if it did (upstream unreachable, untrusted, reset)
	// ErrorKind classifies Error for metrics and filters: client, dial, tls, timeout, upstream.
	ErrorKind string
}

// Duration is how long the exchange took, from the first byte seen to the last.
func (f *Flow) Duration() time.Duration {
	if f.End.IsZero() {
		return 0
	}
	return f.End.Sub(f.Start)
}

// Mark records a mark once.
func (f *Flow) Mark(m Mark) {
	for _, have := range f.Marks {
		if have == m {
			return
		}
	}
	f.Marks = append(f.Marks, m)
}

// MarkIncompleteReason records that the flow could not be inspected completely, and why (a
// stable token), once per reason.
func (f *Flow) MarkIncompleteReason(reason string) {
	f.Mark(MarkIncomplete)
	for _, have := range f.Incomplete {
		if have == reason {
			return
		}
	}
	f.Incomplete = append(f.Incomplete, reason)
}

// HasMark reports whether the flow carries m.
func (f *Flow) HasMark(m Mark) bool {
	for _, have := range f.Marks {
		if have == m {
			return true
		}
	}
	return false
}

// Recorder receives every finished flow. Implementations must be safe for concurrent use and must
// not block the caller for long: the proxy calls Record on its request path.
type Recorder interface {
	Record(*Flow)
}

// DurableRecorder is a recorder that can record a flow durably: RecordDurable returns only
// once the flow is on stable storage (committed and synced), or with the error that kept it
// from getting there. With store.durability: sync, the proxy is given one and calls
// RecordDurable instead of Record, and releases the last bytes of a response only after it
// returns: a client then never holds an answer for a flow that a crash could lose.
// Implementations must be safe for concurrent use; RecordDurable blocks for a commit and an
// fsync (milliseconds), and is bounded by the implementation's own timeout.
type DurableRecorder interface {
	RecordDurable(*Flow) error
}

// Recorders fans a flow out to several recorders in order.
type Recorders []Recorder

func (rs Recorders) Record(f *Flow) {
	for _, r := range rs {
		r.Record(f)
	}
}

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns a time-sortable, unique flow ID (a ULID) for t.
func NewID(t time.Time) string {
	idMu.Lock()
	defer idMu.Unlock()
	id, err := ulid.New(ulid.Timestamp(t), idEntropy)
	if err != nil {
		// The monotonic source overflowed within one millisecond; a fresh random ID is still
		// unique and sorts by time, only not within that millisecond.
		id = ulid.Make()
	}
	return id.String()
}
