package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/customs-dev/customs/flow"
)

// FuzzRead feeds Read arbitrary input: it must never panic, must keep within its caps, and what it
// reads must export to a HAR that reads back as the same number of flows.
func FuzzRead(f *testing.F) {
	// Each fixture entry becomes a seed of its own, in its exporter's log: whole fixtures are
	// tens of KiB, and the fuzzer minimizes every new interesting input for up to
	// -fuzzminimizetime, which on inputs that size stalls the run.
	for _, file := range fixtures(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var doc struct {
			Log struct {
				Version json.RawMessage   `json:"version"`
				Creator json.RawMessage   `json:"creator"`
				Entries []json.RawMessage `json:"entries"`
			} `json:"log"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			f.Fatal(err)
		}
		for _, e := range doc.Log.Entries {
			f.Add([]byte(`{"log": {"version": ` + string(doc.Log.Version) + `, "creator": ` + string(doc.Log.Creator) + `, "entries": [` + string(e) + "]}}"))
		}
	}
	f.Add([]byte(harJSON(entryJSON(`{"method": "POST", "url": "https://a.example/", "headers": [{"name": "Content-Encoding", "value": "gzip"}], "postData": {"text": "\u001f\u008b\u0008\udc8b", "params": [{"name": "a", "value": "b"}]}}`))))
	f.Add([]byte(harJSON(entryJSON(`{"method": "CONNECT", "url": "api.openai.com:443", "bodySize": 12}`))))
	f.Add([]byte(harJSON(entryJSON(`{"method": "GET", "url": "/x", "headers": [{"name": ":authority", "value": "[::1]:8443"}]}`))))
	f.Add([]byte(harJSON(entryJSON(`{"method": "POST", "url": "https://a.example/", "postData": {"mimeType": "multipart/form-data; boundary=XyZ", "params": [{"name": "file", "fileName": "a\"b.txt", "value": "hi"}]}}`))))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxBody, maxEntries = 64, 40
		entries, _, err := Read(bytes.NewReader(data), ReadOptions{MaxBody: maxBody, MaxEntries: maxEntries})
		var se *SyntaxError
		if errors.As(err, &se) && (se.Offset < 0 || se.Offset > int64(len(data))) {
			t.Fatalf("syntax error offset %d outside the %d-byte input", se.Offset, len(data))
		}
		if len(entries) > maxEntries {
			t.Fatalf("%d entries over MaxEntries", len(entries))
		}
		for _, e := range entries {
			fl := e.Flow
			if fl == nil || fl.Source != flow.SourceReplay || fl.ID == "" || fl.Host == "" || fl.RequestHeader == nil {
				t.Fatalf("flow %+v", fl)
			}
			if len(fl.RequestBody) > maxBody || len(e.ResponseBody) > maxBody {
				t.Fatalf("bodies %d/%d over MaxBody", len(fl.RequestBody), len(e.ResponseBody))
			}
		}
		var out bytes.Buffer
		if err := Write(&out, entries, WriteOptions{RevealHeaders: true}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if errs := validate(out.Bytes()); len(errs) > 0 {
			t.Fatalf("export of what was read is not valid HAR 1.2: %q", errs)
		}
		again, notes, err := Read(&out, ReadOptions{MaxBody: maxBody, MaxEntries: maxEntries})
		if err != nil || len(again) != len(entries) {
			t.Fatalf("re-read %d of %d entries, notes %q, err %v\n%s", len(again), len(entries), notes, err, out.Bytes())
		}
	})
}

// FuzzUnquote checks unquote against encoding/json on every string literal both accept: they agree
// wherever encoding/json kept the input (it writes U+FFFD where unquote keeps bytes).
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"plain"`, `"\u00e9\ud83d\ude00"`, `"\udc8b\n"`, "\"\xff\"", `"\ud800"`, `"\\\/\b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		raw := bytes.Trim(in, " \t\r\n") // JSON whitespace, which json.RawMessage never has
		got, total, ok := unquote(raw, 1<<20)
		if ok && total != len(got) {
			t.Fatalf("total %d for %d bytes", total, len(got))
		}
		if cut, n, ok2 := unquote(raw, 5); ok2 != ok || ok && (n != total || !bytes.HasPrefix(got, cut) || len(cut) > 5) {
			t.Fatalf("capped unquote %q %d %v disagrees with %q %d %v", cut, n, ok2, got, total, ok)
		}
		var want string
		if json.Unmarshal(in, &want) != nil || len(raw) == 0 || raw[0] != '"' {
			return
		}
		if !ok {
			t.Fatalf("unquote rejected %q, which encoding/json reads as %q", raw, want)
		}
		if !strings.Contains(want, "\uFFFD") && string(got) != want {
			t.Fatalf("unquote(%q) = %q, encoding/json %q", raw, got, want)
		}
	})
}
