package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/flow"
)

// codecCases are the records the round-trip test and the fuzz seeds start from.
func codecCases() map[string]Record {
	chat := chatFlow(base, 7)
	full := Record{
		ID: chat.ID, Start: base, End: base.Add(time.Second), Source: flow.SourceReplay, Mode: flow.Intercepted,
		Client: flow.Client{Addr: "[::1]:5555", User: "alice", Run: "9f2c41d07ab3e655", Command: "python3"}, Host: "api.openai.com", Method: "POST",
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
		Model: "gpt-4o", ServedModel: "gpt-4o-2024-11-20",
		Server: "[2606:4700::6810:7c0]:443", ALPN: "h2", JA4: "t13d1516h2_8daaf6152771_02713d6af862", TLSVersion: "TLS 1.3",
		Params: map[string]string{flow.ParamStore: flow.ParamTrue, flow.ParamMetadata: flow.ParamPresent, "": "", "ü": strings.Repeat("x", 300)},
	}
	full.Findings = append(full.Findings, flow.Finding{Detector: "x", Start: -1, End: math.MaxInt, Confidence: -0.5},
		flow.Finding{Detector: "jewel.code", Class: "code", Label: "billing", Ref: "svc/refund.go", Share: 0.4, SegmentShare: 0.9,
			Start: 3, End: 90, Spans: [][2]int{{3, 40}, {52, 90}}},
		flow.Finding{Detector: "record.customers", Class: "pii", Label: "customers", Rows: 2, Columns: []string{"email", "iban"}})
	return map[string]Record{
		"full":   full,
		"empty":  {HasBodies: true},
		"tunnel": {Start: base, Mode: flow.Tunnelled, Host: "example.org", Method: "CONNECT", Status: 502, Error: "dial", ErrorKind: "dial", HasBodies: true},
		"utf8":   {Host: "例え.jp", Notes: []string{"ünïcødé", ""}, RequestBody: []byte{0, 0xff, 0xfe}, HasBodies: true},
		"capture": {Start: base, End: base.Add(3 * time.Second), Source: flow.SourceCapture, Mode: flow.TLS,
			Client: flow.Client{Addr: "10.0.0.7:51544"}, Host: "api.anthropic.com", SNI: "api.anthropic.com",
			Server: "160.79.104.10:443", ALPN: "http/1.1", JA4: "t13d5911h1_a33745022dd6_dd92111ca0c6", TLSVersion: "TLS 1.2",
			RequestBytes: 5120, ResponseBytes: 90210, Marks: []flow.Mark{flow.MarkBypass}, HasBodies: true},
		"models": {Start: base, Mode: flow.Intercepted, Host: "generativelanguage.googleapis.com", API: "gemini.files",
			Model: "[masked]", Params: map[string]string{flow.ParamPersist: flow.PersistFile}, HasBodies: true},
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
		{"newer version", []byte{metaVersion + 1, 0}},
		{"huge count", append(appendMeta(nil, &Record{}, false)[:30], 0xff, 0xff, 0xff, 0xff, 0x0f)},
		{"varint overflow", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tc := range bad {
		if _, err := decodeMeta(tc.b, &Record{}); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestCodecReadsOlderVersions: records written before a version added its fields still read,
// without them: version 1 (before sni, target, incomplete and messages), version 2 (before
// the model, the served model and the parameters), version 3 (before the finding extras),
// version 4 (before the capture's server, ALPN, JA4 and TLS version).
func TestCodecReadsOlderVersions(t *testing.T) {
	want := codecCases()["tunnel"]
	meta := appendMeta(nil, &want, false)
	// Version 5 appended six empty strings, version 4 one empty count (the finding extras),
	// version 3 three empty fields (one-byte lengths and count), version 2 four (three one-byte
	// lengths and a zero varint).
	for _, c := range []struct {
		version byte
		cut     int
	}{{4, 6}, {3, 6 + 1}, {2, 6 + 1 + 3}, {1, 6 + 1 + 3 + 4}} {
		old := append([]byte{c.version}, meta[1:len(meta)-c.cut]...)
		var got Record
		if _, err := decodeMeta(old, &got); err != nil {
			t.Fatalf("version %d: %v", c.version, err)
		}
		w := want
		w.HasBodies = false
		if !reflect.DeepEqual(got, w) {
			t.Errorf("version %d:\n got %+v\nwant %+v", c.version, got, w)
		}
		// A cut of an old record is an error too.
		for i := range old {
			if _, err := decodeMeta(old[:i], &Record{}); !errors.Is(err, errCorrupt) {
				t.Fatalf("version %d cut at %d/%d: %v", c.version, i, len(old), err)
			}
		}
	}
	// A version 2 record with what version 3 added is not a version 2 record, nor a version 3
	// one with version 4's, nor a version 4 one with version 5's.
	for _, v := range []byte{2, 3, 4} {
		if _, err := decodeMeta(append([]byte{v}, meta[1:]...), &Record{}); !errors.Is(err, errCorrupt) {
			t.Errorf("version %d with the next version's fields: %v", v, err)
		}
	}
}

// TestBodyCodecs: bodies round-trip with every codec the reader knows (what a store of any
// format holds: version-1 values uncompressed, version-2 values raw, zstd or S2); a body that
// does not compress is stored as it is; damaged compressed bytes are errCorrupt.
func TestBodyCodecs(t *testing.T) {
	defer func(c byte) { bodyCodec = c }(bodyCodec)
	mix := mixFlow(5, base) // a JSON answer
	stream := mixFlow(0, base)
	for i := 0; stream.ResponseHeader.Get("Content-Type") != "text/event-stream"; i++ {
		stream = mixFlow(i, base)
	}
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(splitmix(uint64(i)))
	}
	cases := map[string]Record{
		"json":   {RequestHeader: chatHeader, RequestBody: mix.RequestBody, ResponseHeader: mix.ResponseHeader, ResponseBody: mix.ResponseBody, HasBodies: true},
		"stream": {RequestBody: stream.RequestBody, ResponseBody: stream.ResponseBody, HasBodies: true},
		"small":  {RequestBody: []byte(`{"n":1}`), ResponseBody: bytes.Repeat([]byte("a"), compressMin-1), HasBodies: true},
		"random": {RequestBody: random, HasBodies: true},
		"none":   {HasBodies: true},
	}
	for _, codec := range []byte{codecRaw, codecZstd, codecS2} {
		bodyCodec = codec
		for name, want := range cases {
			t.Run(fmt.Sprintf("codec=%d/%s", codec, name), func(t *testing.T) {
				body := appendBody(nil, &want)
				var got Record
				if err := decodeBody(body, &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round trip: got %d and %d body bytes, want %d and %d", len(got.RequestBody), len(got.ResponseBody),
						len(want.RequestBody), len(want.ResponseBody))
				}
				var old Record
				if err := decodeBody(appendBodyV1(nil, &want), &old); err != nil || !reflect.DeepEqual(old, want) {
					t.Fatalf("version 1: %v", err)
				}
				raw := len(appendBodyV1(nil, &want))
				switch {
				case name == "json" || name == "stream":
					if codec != codecRaw && len(body)*2 > raw {
						t.Errorf("%d bytes compressed to %d", raw, len(body))
					}
				case len(body) != raw+2: // the codec bytes: stored as it is
					t.Errorf("%d bytes stored as %d", raw, len(body))
				}
				for i := range body {
					if err := decodeBody(body[:i], &Record{}); !errors.Is(err, errCorrupt) {
						t.Fatalf("body cut at %d/%d: %v", i, len(body), err)
					}
				}
				// Flipped bits inside a compressed body: an error or other bytes, never a panic.
				for i := 8; i < len(body); i += 97 {
					bad := bytes.Clone(body)
					bad[i] ^= 0x5a
					_ = decodeBody(bad, &Record{})
				}
			})
		}
	}
}

// TestCodecParamsOrder: parameters encode in key order, so equal records are equal bytes.
func TestCodecParamsOrder(t *testing.T) {
	r := Record{Params: map[string]string{}}
	for _, k := range flow.ParamKeys {
		r.Params[k] = k
	}
	first := appendMeta(nil, &r, false)
	for range 20 {
		if !bytes.Equal(appendMeta(nil, &r, false), first) {
			t.Fatal("the encoding depends on map order")
		}
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
