package store

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/customs-dev/customs/flow"
)

// codecCases are the records the round-trip test and the fuzz seeds start from.
func codecCases() map[string]Record {
	chat := chatFlow(base, 7)
	full := Record{
		ID: chat.ID, Start: base, End: base.Add(time.Second), Source: flow.SourceReplay, Mode: flow.Intercepted,
		Client: flow.Client{Addr: "[::1]:5555", User: "alice"}, Host: "api.openai.com", Method: "POST",
		URL: "https://api.openai.com/v1/chat/completions?x=1", API: "openai.chat", Vendor: chat.Vendor,
		RequestHeader: chatHeader, RequestBody: chat.RequestBody, RequestTruncated: true, RequestBytes: 1 << 40,
		ContentEncoding: "gzip", DecodedBytes: 99, Status: 200,
		ResponseHeader: http.Header{"Content-Type": {"text/event-stream"}, "Set-Cookie": {"a=1", "b=2"}},
		ResponseBody:   []byte("data: {}\n\n"), ResponseTruncated: true, ResponseBytes: 10,
		Segments: []Segment{{Path: "messages[0].content"}, {Path: "multipart:file", Media: "image/png", Size: 1 << 20}},
		Findings: chat.Findings, Verdict: flow.Verdict{Action: flow.Block, Policy: "p", Message: "no", Matched: []string{"p", "q"}},
		Notes: []string{"messages[3]: malformed JSON"}, Marks: []flow.Mark{flow.MarkOversize, flow.MarkDecodeError},
		Error: "upstream reset", ErrorKind: "upstream", HasBodies: true,
		SNI: "api.openai.com", Target: "104.18.7.192:443", Incomplete: []string{"decode-limit", "extraction-limit:segments"}, Messages: 42,
	}
	full.Findings = append(full.Findings, flow.Finding{Detector: "x", Start: -1, End: math.MaxInt, Confidence: -0.5})
	return map[string]Record{
		"full":   full,
		"empty":  {HasBodies: true},
		"tunnel": {Start: base, Mode: flow.Tunnelled, Host: "example.org", Method: "CONNECT", Status: 502, Error: "dial", ErrorKind: "dial", HasBodies: true},
		"utf8":   {Host: "例え.jp", Notes: []string{"ünïcødé", ""}, RequestBody: []byte{0, 0xff, 0xfe}, HasBodies: true},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for name, want := range codecCases() {
		t.Run(name, func(t *testing.T) {
			meta := appendMeta(nil, &want, true)
			body := appendBody(nil, &want)
			got := Record{ID: want.ID}
			hasBody, err := decodeMeta(meta, &got)
			if err != nil || !hasBody {
				t.Fatalf("decodeMeta: %v hasBody=%v", err, hasBody)
			}
			if err := decodeBody(body, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
			// Every cut of a valid encoding is an error, never a panic or a success.
			for i := range meta {
				if _, err := decodeMeta(meta[:i], &Record{}); !errors.Is(err, errCorrupt) {
					t.Fatalf("meta cut at %d/%d: %v", i, len(meta), err)
				}
			}
			for i := range body {
				if err := decodeBody(body[:i], &Record{}); !errors.Is(err, errCorrupt) {
					t.Fatalf("body cut at %d/%d: %v", i, len(body), err)
				}
			}
			if _, err := decodeMeta(append(meta, 0), &Record{}); err == nil {
				t.Error("trailing byte accepted")
			}
		})
	}
	bad := []struct {
		name string
		b    []byte
	}{
		{"newer version", []byte{3, 0}},
		{"huge count", append(appendMeta(nil, &Record{}, false)[:30], 0xff, 0xff, 0xff, 0xff, 0x0f)},
		{"varint overflow", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tc := range bad {
		if _, err := decodeMeta(tc.b, &Record{}); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestCodecReadsVersion1: records written before sni, target, incomplete and messages were kept
// still read, without them.
func TestCodecReadsVersion1(t *testing.T) {
	want := codecCases()["tunnel"]
	meta := appendMeta(nil, &want, false)
	// Version 2 appended four empty fields (three one-byte lengths and a zero varint).
	v1 := append([]byte{1}, meta[1:len(meta)-4]...)
	var got Record
	if _, err := decodeMeta(v1, &got); err != nil {
		t.Fatal(err)
	}
	want.HasBodies = false
	if !reflect.DeepEqual(got, want) {
		t.Errorf("version 1:\n got %+v\nwant %+v", got, want)
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the decoders of the two stored values: they must
// never panic, and whatever they accept must re-encode to a fixed point.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range codecCases() {
		f.Add(appendMeta(nil, &r, true), appendBody(nil, &r))
	}
	f.Fuzz(func(t *testing.T, meta, body []byte) {
		var r Record
		hasBody, err := decodeMeta(meta, &r)
		if err == nil {
			again := appendMeta(nil, &r, hasBody)
			var r2 Record
			if _, err := decodeMeta(again, &r2); err != nil {
				t.Fatalf("re-encoded meta does not decode: %v", err)
			}
			if !bytes.Equal(appendMeta(nil, &r2, hasBody), again) {
				t.Fatal("meta encoding is not a fixed point")
			}
		}
		var b Record
		if err := decodeBody(body, &b); err == nil {
			again := appendBody(nil, &b)
			var b2 Record
			if err := decodeBody(again, &b2); err != nil {
				t.Fatalf("re-encoded body does not decode: %v", err)
			}
			if !bytes.Equal(appendBody(nil, &b2), again) {
				t.Fatal("body encoding is not a fixed point")
			}
		}
	})
}
