package eval

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
)

// Wrapping is how a fixture is sent: as a plain-text prompt or inside a chat request body.
type Wrapping int

const (
	Text Wrapping = iota
	JSON
)

// Wrappings lists both, in table order.
var Wrappings = []Wrapping{Text, JSON}

func (w Wrapping) String() string {
	if w == JSON {
		return "json"
	}
	return "text"
}

// textPrefix opens every plain-text prompt: what a person types before pasting.
const textPrefix = "Here is what I have:\n"

// Wrap returns the bytes a fixture's text is sent as.
func Wrap(w Wrapping, text string) []byte {
	if w == Text {
		return []byte(textPrefix + text)
	}
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	b, _ := json.Marshal(struct {
		Model    string    `json:"model"`
		Messages []message `json:"messages"`
	}{"gpt-4o", []message{{"user", text}}})
	return b
}

// Hit is one customs finding with the text it was found in.
type Hit struct {
	Detector, Class string
	Segment         string // the text of the segment the finding is in
	Start, End      int    // the finding's span in Segment
}

// Value is the text the finding covers.
func (h Hit) Value() string { return h.Segment[h.Start:h.End] }

// Customs runs the built-in detectors the way the proxy does.
type Customs struct {
	eng    *detectors.Engine
	hasher *detectors.Hasher
}

// NewCustoms builds the engine of every built-in detector.
func NewCustoms() (*Customs, error) {
	eng, err := builtin.Engine(nil)
	if err != nil {
		return nil, err
	}
	return &Customs{eng: eng, hasher: detectors.NewHasher([]byte("customs-eval"))}, nil
}

// Engine is the detector engine, for scans of code.
func (c *Customs) Engine() *detectors.Engine { return c.eng }

// Scan returns the findings on text sent in wrapping w. A plain-text prompt is one segment; a
// chat body goes through the extraction the proxy runs on an OpenAI chat request (headers,
// path and JSON member names included, as the vendor receives them).
func (c *Customs) Scan(w Wrapping, text string) []Hit {
	var segs []flow.Segment
	if w == Text {
		segs = []flow.Segment{{Path: "body", Text: textPrefix + text}}
	} else {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		res := extract.Extract(&extract.Request{
			Vendor: "openai", Method: "POST", Path: "/v1/chat/completions",
			Header: h, ContentType: "application/json", Body: Wrap(JSON, text),
		}, extract.Limits{})
		segs = res.Segments
	}
	fs := c.eng.Find(segs, c.hasher)
	hits := make([]Hit, 0, len(fs))
	for _, f := range fs {
		hit := Hit{Detector: f.Detector, Class: f.Class, Start: f.Start, End: f.End}
		for i := range segs {
			if segs[i].Path == f.Path && f.End <= len(segs[i].Text) {
				hit.Segment = segs[i].Text
				break
			}
		}
		if hit.Segment == "" {
			hit.Start, hit.End = 0, 0
		}
		hits = append(hits, hit)
	}
	return hits
}

// Found reports whether hits find fixture f's sensitive value: a secret-class finding (for a
// PII fixture, a finding of the detector it names) that overlaps a wanted value when the
// fixture says which, anywhere otherwise.
func Found(f *Fixture, hits []Hit) bool {
	for _, h := range hits {
		if f.PII() {
			if h.Detector != f.Detector {
				continue
			}
		} else if h.Class != string(detectors.Secret) {
			continue
		}
		if len(f.Want) == 0 {
			return true
		}
		for _, w := range f.Want {
			if Overlaps(h.Segment, h.Start, h.End, w) {
				return true
			}
		}
	}
	return false
}

// Alarm reports whether hits raise a false positive on fp fixture f: any secret-class finding,
// or for a PII fixture any PII-class finding.
func Alarm(f *Fixture, hits []Hit) bool {
	class := string(detectors.Secret)
	if f.PII() {
		class = string(detectors.PII)
	}
	for _, h := range hits {
		if h.Class == class {
			return true
		}
	}
	return false
}

// Overlaps reports whether the span [start, end) of doc overlaps an occurrence of want in doc.
func Overlaps(doc string, start, end int, want string) bool {
	if want == "" {
		return false
	}
	for off := 0; off < len(doc); {
		i := strings.Index(doc[off:], want)
		if i < 0 {
			return false
		}
		i += off
		if start < i+len(want) && i < end {
			return true
		}
		off = i + 1
	}
	return false
}
