package har

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/golden"
)

// render lists what Read made of a file, for the golden files.
func render(entries []Entry, notes []string) []byte {
	var b strings.Builder
	b.WriteString("notes:\n")
	for _, n := range notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	fmt.Fprintf(&b, "flows: %d\n", len(entries))
	for i, e := range entries {
		f := e.Flow
		path := f.URL
		if u, err := url.Parse(f.URL); err == nil {
			path = u.RequestURI()
		}
		fmt.Fprintf(&b, "[%d] %s %s %s\n", i, f.Method, f.Host, path)
		fmt.Fprintf(&b, "    start %s  duration %s  mode %s  client %s  http %q\n",
			f.Start.UTC().Format(time.RFC3339Nano), f.Duration(), f.Mode, f.Client.Addr, e.HTTPVersion)
		fmt.Fprintf(&b, "    request  headers %d  body %s  bytes %d  encoding %q\n",
			count(f.RequestHeader), digest(f.RequestBody), f.RequestBytes, f.ContentEncoding)
		fmt.Fprintf(&b, "    response status %d  headers %d  body %s  bytes %d  encoding %q\n",
			f.Status, count(f.ResponseHeader), digest(e.ResponseBody), f.ResponseBytes, e.ResponseEncoding)
		for _, n := range f.Notes {
			fmt.Fprintf(&b, "    note: %s\n", n)
		}
		for _, m := range f.Marks {
			fmt.Fprintf(&b, "    mark: %s\n", m)
		}
		if f.Error != "" {
			fmt.Fprintf(&b, "    error: %s\n", f.Error)
		}
	}
	return []byte(b.String())
}

func count(h map[string][]string) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}

func digest(b []byte) string {
	if len(b) == 0 {
		return "0"
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%d sha256:%s", len(b), hex.EncodeToString(sum[:6]))
}

func fixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.har")
	if err != nil || len(files) < 3 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	return files
}

func TestReadFixtures(t *testing.T) {
	for _, file := range fixtures(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".har")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			entries, notes, err := Read(bytes.NewReader(data), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				f := e.Flow
				if f.Source != flow.SourceReplay || f.ID == "" || f.Host == "" || f.RequestHeader == nil {
					t.Errorf("flow %+v lacks what inspection needs", f)
				}
				for name := range f.RequestHeader {
					if strings.HasPrefix(name, ":") {
						t.Errorf("%s: pseudo-header %s kept", f.URL, name)
					}
				}
			}
			golden.Check(t, filepath.Join("testdata", "golden", name+".txt"), render(entries, notes))
		})
	}
}

// The fixtures hold what each one is for; pin the facts the golden files only show as digests.
func TestReadFixtureBodies(t *testing.T) {
	read := func(name string) []Entry {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		entries, _, err := Read(bytes.NewReader(data), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return entries
	}
	find := func(entries []Entry, method, host string) Entry {
		t.Helper()
		for _, e := range entries {
			if e.Flow.Method == method && e.Flow.Host == host {
				return e
			}
		}
		t.Fatalf("no %s %s", method, host)
		return Entry{}
	}

	chrome := read("chrome.har")
	openai := find(chrome, "POST", "api.openai.com")
	if !bytes.Contains(openai.Flow.RequestBody, []byte("AKIAZ7VQ3KXJ5N2WPLMR")) || !bytes.Contains(openai.Flow.RequestBody, []byte("jordan.ellis@acme-corp.com")) {
		t.Errorf("openai body lost its key or e-mail: %s", openai.Flow.RequestBody)
	}
	if openai.Flow.Client.Addr != "har:WebInspector" || openai.Flow.RequestHeader.Get("Host") != "" {
		t.Errorf("client %q, Host header %q", openai.Flow.Client.Addr, openai.Flow.RequestHeader.Get("Host"))
	}
	mp := find(chrome, "POST", "api-js.mixpanel.com")
	form, err := url.ParseQuery(string(mp.Flow.RequestBody))
	if err != nil {
		t.Fatal(err)
	}
	event, err := base64.StdEncoding.DecodeString(form.Get("data"))
	if err != nil || !bytes.Contains(event, []byte("AKIAZ7VQ3KXJ5N2WPLMR")) {
		t.Errorf("mixpanel data= does not decode to the event: %v %s", err, event)
	}
	tele := find(chrome, "POST", "telemetry.acme-corp.com")
	if tele.Flow.ContentEncoding != "" || !tele.Flow.HasMark(flow.MarkDecodeError) {
		t.Errorf("lossy gzip text: encoding %q marks %v", tele.Flow.ContentEncoding, tele.Flow.Marks)
	}
	png := find(chrome, "GET", "chat.acme-corp.com")
	if !bytes.HasPrefix(png.ResponseBody, []byte("\x89PNG\r\n")) {
		t.Errorf("favicon content not decoded from base64: %q", png.ResponseBody)
	}

	mitm := read("mitmproxy.har")
	sentry := find(mitm, "POST", "o4508012345678912.ingest.de.sentry.io")
	if sentry.Flow.ContentEncoding != "" || !bytes.Contains(sentry.Flow.RequestBody, []byte("AKIAZ7VQ3KXJ5N2WPLMR")) {
		t.Errorf("mitmproxy's decoded gzip body: encoding %q", sentry.Flow.ContentEncoding)
	}
	speech := find(mitm, "POST", "api.openai.com")
	for _, e := range mitm {
		if strings.HasSuffix(e.Flow.URL, "/audio/speech") {
			speech = e
		}
	}
	if !bytes.HasPrefix(speech.ResponseBody, []byte("ID3")) {
		t.Errorf("speech content not decoded from base64: %q", speech.ResponseBody)
	}

	firefox := read("firefox.har")
	claude := find(firefox, "POST", "api.anthropic.com")
	if !bytes.Contains(claude.Flow.RequestBody, []byte("priya.raman@northwind-logistics.com")) {
		t.Errorf("anthropic body: %s", claude.Flow.RequestBody)
	}
	if got := claude.Flow.Start.Format(time.RFC3339Nano); got != "2025-05-14T11:31:07.951+02:00" {
		t.Errorf("start %s", got)
	}
}

func TestReadNotHAR(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // in the error
		syntax   bool
	}{
		{"empty", "", "the input is empty", false},
		{"whitespace", " \n\t ", "the input is empty", false},
		{"array", `[{"log": {}}]`, "the top level is an array", false},
		{"string", `"log"`, "the top level is a string", false},
		{"no log", `{"version": "1.2", "entries": []}`, `no "log" object at the top level (keys: "version", "entries")`, false},
		{"log not object", `{"log": []}`, `"log" is an array, not an object`, false},
		{"no entries", `{"log": {"version": "1.2", "creator": {"name": "x"}}}`, `log has no "entries" array (keys: "version", "creator")`, false},
		{"entries object", `{"log": {"entries": {}}}`, "log.entries is an object, not an array", false},
		{"entries null", `{"log": {"entries": null}}`, "log.entries is null, not an array", false},
		{"not json", "GET / HTTP/1.1\r\n", "at 1:1 (byte 0): invalid character 'G'", true},
		{"bad literal", "{\n  \"log\": {\n    \"entries\": [tru]\n  }\n}", "at 3:20 (byte 32): invalid character ']' in literal true", true},
		{"missing comma", "{\"log\": {\"entries\": [\n  {\"request\": null}\n  {}]}}", "at 3:3 (byte 44): expected comma after array element", true},
		{"bad escape in key", "{\"log\": {\"entr\\ies\": []}}", "at 1:16 (byte 15): invalid character 'i' in string escape code", true},
		{"missing colon", "{\"log\" {}}", "at 1:8 (byte 7): invalid character '{' after object key", true},
		{"cut short", "{\"log\": {\"entries\": [\n{\"request\": {\"method\": \"GET\"", "unexpected end of input: the file is cut short", true},
		{"gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00", "the input is gzip-compressed", true},
		{"zhar", "\x78\xda\x01\x02", "as mitmproxy writes .zhar files", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, _, err := Read(strings.NewReader(tt.in), ReadOptions{})
			if err == nil {
				t.Fatalf("no error; %d entries", len(entries))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			var se *SyntaxError
			if errors.As(err, &se) != tt.syntax {
				t.Errorf("error %T, syntax error wanted: %v", err, tt.syntax)
			}
			if !tt.syntax && !errors.Is(err, ErrNotHAR) {
				t.Errorf("error %q does not wrap ErrNotHAR", err)
			}
		})
	}
}

// A file cut short in the middle keeps the entries before the cut.
func TestReadTruncatedKeepsEarlierEntries(t *testing.T) {
	data, err := os.ReadFile("testdata/mitmproxy.har")
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.Index(data, []byte(`"https://api.openai.com/v1/audio/speech"`))
	entries, _, err := Read(bytes.NewReader(data[:cut]), ReadOptions{})
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line == 0 {
		t.Fatalf("error %v, want a syntax error with a line", err)
	}
	if len(entries) != 3 {
		t.Errorf("%d entries before the cut, want 3", len(entries))
	}
}

func entryJSON(request string, extra ...string) string {
	fields := append([]string{`"startedDateTime": "2025-05-14T09:14:03.118Z"`, `"time": 12.5`}, extra...)
	if !strings.Contains(strings.Join(extra, ""), `"response"`) {
		fields = append(fields, `"response": {"status": 200}`)
	}
	if request != "" {
		fields = append(fields, `"request": `+request)
	}
	return "{" + strings.Join(fields, ", ") + "}"
}

func harJSON(entries ...string) string {
	return `{"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": [` + "\n" + strings.Join(entries, ",\n") + "\n]}}"
}

func TestReadSkipsMalformedEntries(t *testing.T) {
	good := entryJSON(`{"method": "GET", "url": "https://api.openai.com/v1/models", "headers": []}`)
	tests := []struct {
		name, entry, note string
	}{
		{"no request", entryJSON(""), "log.entries[1] (line 3): no request; skipped"},
		{"request not object", entryJSON(`"GET /"`), "log.entries[1] (line 3): request is a string, not an object; skipped"},
		{"entry not object", `42`, "log.entries[1] (line 3): is a number, not an object; skipped"},
		{"entry null", `null`, "no request; skipped"},
		{"no method", entryJSON(`{"url": "https://a.example/"}`), "request has no method; skipped"},
		{"method with space", entryJSON(`{"method": "GET /x", "url": "https://a.example/"}`), `request method "GET /x" is not an HTTP method; skipped`},
		{"no url", entryJSON(`{"method": "GET"}`), "request has no url; skipped"},
		{"bad url", entryJSON(`{"method": "GET", "url": "https://a b/"}`), "request url is not a URL; skipped"},
		{"data url", entryJSON(`{"method": "GET", "url": "data:image/png;base64,iVBOR"}`), `url scheme "data" is not HTTP; skipped`},
		{"extension", entryJSON(`{"method": "GET", "url": "chrome-extension://abc/x.js"}`), `url scheme "chrome-extension" is not HTTP; skipped`},
		{"relative without host", entryJSON(`{"method": "GET", "url": "/v1/models"}`), "neither absolute nor a path with a Host header; skipped"},
		{"no host", entryJSON(`{"method": "GET", "url": "https:///x"}`), "request has no host; skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, notes, err := Read(strings.NewReader(harJSON(good, tt.entry, good)), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 2 {
				t.Errorf("%d entries, want the 2 good ones", len(entries))
			}
			if len(notes) != 1 || !strings.Contains(notes[0], tt.note) {
				t.Errorf("notes %q, want one containing %q", notes, tt.note)
			}
		})
	}
}

func TestReadLenientFields(t *testing.T) {
	in := harJSON(entryJSON(`{"method": "POST", "url": "https://api.openai.com/v1/chat/completions", "httpVersion": "HTTP/1.1",
		"headers": {"Content-Type": "application/json"}, "bodySize": "17", "postData": {"mimeType": "application/json", "text": "{\"model\":\"gpt\"}"}}`,
		`"response": {"status": "200", "headers": [{"name": "Content-Type", "value": "application/json"}], "content": {"size": null, "text": null}, "bodySize": 3.0}`))
	entries, notes, err := Read(strings.NewReader(in), ReadOptions{})
	if err != nil || len(entries) != 1 || len(notes) != 0 {
		t.Fatalf("%d entries, notes %q, err %v", len(entries), notes, err)
	}
	f := entries[0].Flow
	if f.Status != 200 || f.RequestBytes != 17 || f.ResponseBytes != 3 || string(f.RequestBody) != `{"model":"gpt"}` {
		t.Errorf("status %d bytes %d/%d body %q", f.Status, f.RequestBytes, f.ResponseBytes, f.RequestBody)
	}
	if f.RequestHeader.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type not taken from postData.mimeType: %v", f.RequestHeader)
	}
	if !hasNote(f, "request.headers is an object") {
		t.Errorf("notes %q lack the type error", f.Notes)
	}
}

func TestReadHost(t *testing.T) {
	tests := []struct {
		name, request string
		host, url     string
		note          string
		mode          flow.Mode
	}{
		{"url", `{"method": "GET", "url": "https://API.OpenAI.com.:443/v1/models"}`, "api.openai.com", "https://API.OpenAI.com.:443/v1/models", "", flow.Intercepted},
		{"authority", `{"method": "GET", "url": "https://api.openai.com/v1/models", "headers": [{"name": ":authority", "value": "api.openai.com"}, {"name": ":method", "value": "GET"}]}`, "api.openai.com", "https://api.openai.com/v1/models", "", flow.Intercepted},
		{"host header wins", `{"method": "POST", "url": "https://allowed.example/v1", "headers": [{"name": "Host", "value": "api.openai.com"}]}`, "api.openai.com", "https://allowed.example/v1", `url host "allowed.example" differs from the Host header "api.openai.com"`, flow.Intercepted},
		{"relative", `{"method": "GET", "url": "/v1/models", "headers": [{"name": ":authority", "value": "api.openai.com:443"}, {"name": ":scheme", "value": "https"}]}`, "api.openai.com", "https://api.openai.com:443/v1/models", "url had no scheme and host", flow.Intercepted},
		{"ipv6", `{"method": "GET", "url": "http://[2001:db8::1]:8080/x"}`, "2001:db8::1", "http://[2001:db8::1]:8080/x", "", flow.Intercepted},
		{"connect authority", `{"method": "CONNECT", "url": "api.openai.com:443"}`, "api.openai.com", "", "", flow.Tunnelled},
		{"connect url", `{"method": "CONNECT", "url": "http://api.openai.com:443"}`, "api.openai.com", "", "", flow.Tunnelled},
		{"websocket", `{"method": "GET", "url": "wss://realtime.example/v1"}`, "realtime.example", "wss://realtime.example/v1", "WebSocket messages are not imported", flow.Intercepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, notes, err := Read(strings.NewReader(harJSON(entryJSON(tt.request))), ReadOptions{})
			if err != nil || len(entries) != 1 {
				t.Fatalf("%d entries, notes %q, err %v", len(entries), notes, err)
			}
			f := entries[0].Flow
			if f.Host != tt.host || f.URL != tt.url || f.Mode != tt.mode {
				t.Errorf("host %q url %q mode %s, want %q %q %s", f.Host, f.URL, f.Mode, tt.host, tt.url, tt.mode)
			}
			if tt.note != "" && !hasNote(f, tt.note) {
				t.Errorf("notes %q, want %q", f.Notes, tt.note)
			}
			for name := range f.RequestHeader {
				if strings.HasPrefix(name, ":") {
					t.Errorf("pseudo-header %s kept", name)
				}
			}
		})
	}
}

func TestReadTimes(t *testing.T) {
	tests := []struct {
		started string
		want    string
		note    string
	}{
		{"2025-05-14T09:14:03.118Z", "2025-05-14T09:14:03.118Z", ""},
		{"2025-05-14T11:14:03.118+02:00", "2025-05-14T09:14:03.118Z", ""},
		{"2025-05-14T09:42:16.482913+00:00", "2025-05-14T09:42:16.482913Z", ""},
		{"2025-05-14T11:42:16.4829137+02:00", "2025-05-14T09:42:16.4829137Z", ""},
		{"2025-05-14T09:14:03.118", "2025-05-14T09:14:03.118Z", "no time zone; read as UTC"},
		{"2025-05-14 09:14:03.118", "2025-05-14T09:14:03.118Z", "no time zone; read as UTC"},
		{"yesterday", "0001-01-01T00:00:00Z", `startedDateTime "yesterday" is not a date`},
	}
	for _, tt := range tests {
		t.Run(tt.started, func(t *testing.T) {
			in := harJSON(`{"startedDateTime": "` + tt.started + `", "time": 1500.25, "request": {"method": "GET", "url": "https://a.example/"}}`)
			entries, _, err := Read(strings.NewReader(in), ReadOptions{})
			if err != nil || len(entries) != 1 {
				t.Fatalf("%d entries, err %v", len(entries), err)
			}
			f := entries[0].Flow
			if got := f.Start.UTC().Format(time.RFC3339Nano); got != tt.want {
				t.Errorf("start %s, want %s", got, tt.want)
			}
			if tt.note != "" && !hasNote(f, tt.note) {
				t.Errorf("notes %q, want %q", f.Notes, tt.note)
			}
			if !f.Start.IsZero() && f.Duration() != 1500250*time.Microsecond {
				t.Errorf("duration %s", f.Duration())
			}
		})
	}
	// IDs sort by start time, whatever the order in the file.
	in := harJSON(entryJSON(`{"method": "GET", "url": "https://a.example/"}`),
		`{"startedDateTime": "2025-05-14T09:14:02Z", "request": {"method": "GET", "url": "https://a.example/"}}`)
	entries, _, err := Read(strings.NewReader(in), ReadOptions{})
	if err != nil || len(entries) != 2 {
		t.Fatal(err)
	}
	if entries[0].Flow.ID <= entries[1].Flow.ID {
		t.Errorf("IDs %s, %s do not sort by start time", entries[0].Flow.ID, entries[1].Flow.ID)
	}
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

func jsonString(b []byte) string {
	s, _ := json.Marshal(string(b))
	return string(s)
}

// What each exporter records for a compressed request body, and what Read makes of it.
func TestReadContentEncoding(t *testing.T) {
	const body = `{"messages":[{"role":"user","content":"key AKIAZ7VQ3KXJ5N2WPLMR"}]}`
	gz := gzipped(body)
	latin1 := make([]rune, len(gz))
	for i, c := range gz {
		latin1[i] = rune(c)
	}
	var surrogate strings.Builder // Python json.dumps of bytes decoded with surrogateescape
	surrogate.WriteByte('"')
	for _, c := range gz {
		switch {
		case c >= 0x80:
			fmt.Fprintf(&surrogate, `\udc%02x`, c)
		case c < 0x20 || c == '"' || c == '\\':
			fmt.Fprintf(&surrogate, `\u%04x`, c)
		default:
			surrogate.WriteByte(c)
		}
	}
	surrogate.WriteByte('"')
	zstd := append([]byte{0x28, 0xb5, 0x2f, 0xfd}, "\x00\x58compressed"...)

	tests := []struct {
		name, ce, postData string
		body               []byte
		encoding           string
		note               string
		mark               flow.Mark
	}{
		{"plain", "", `{"mimeType": "application/json", "text": ` + jsonString([]byte(body)) + `}`, []byte(body), "", "", ""},
		{"mitmproxy decoded", "gzip", `{"mimeType": "application/json", "text": ` + jsonString([]byte(body)) + `, "params": []}`, []byte(body), "",
			`postData holds the body already decoded from Content-Encoding "gzip"`, ""},
		{"wire bytes base64", "gzip", `{"mimeType": "application/json", "text": "` + base64.StdEncoding.EncodeToString(gz) + `", "encoding": "base64"}`, gz, "gzip", "", ""},
		{"wire bytes base64 wrapped", "gzip", `{"mimeType": "application/json", "text": "` + wrap(base64.StdEncoding.EncodeToString(gz), 16) + `", "encoding": "BASE64"}`, gz, "gzip", "", ""},
		{"browser lossy", "gzip", `{"mimeType": "application/json", "text": ` + jsonString([]byte(strings.ToValidUTF8(string(gz), "\uFFFD"))) + `}`,
			[]byte(strings.ToValidUTF8(string(gz), "\uFFFD")), "", "lossy text copy of the gzip-encoded body", flow.MarkDecodeError},
		{"latin-1", "gzip", `{"mimeType": "application/octet-stream", "text": ` + jsonString([]byte(string(latin1))) + `}`, gz, "gzip", "as Latin-1 text; its bytes were recovered", ""},
		{"surrogateescape", "gzip", `{"mimeType": "application/json", "text": ` + surrogate.String() + `}`, gz, "gzip", "", ""},
		{"stacked codings", "deflate, gzip", `{"mimeType": "application/json", "text": "` + base64.StdEncoding.EncodeToString(gz) + `", "encoding": "base64"}`, gz, "deflate, gzip", "", ""},
		{"br decoded", "br", `{"mimeType": "application/json", "text": ` + jsonString([]byte(body)) + `}`, []byte(body), "", "already decoded", ""},
		{"br binary", "br", `{"mimeType": "application/json", "text": "` + base64.StdEncoding.EncodeToString([]byte{0x1b, 0x44, 0x00, 0xf8, 0x25}) + `", "encoding": "base64"}`, []byte{0x1b, 0x44, 0x00, 0xf8, 0x25}, "br", "", ""},
		{"zstd", "zstd", `{"text": "` + base64.StdEncoding.EncodeToString(zstd) + `", "encoding": "base64"}`, zstd, "zstd", "", ""},
		{"params", "gzip", `{"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "data", "value": "a b&c"}, {"name": "x", "value": "1"}]}`,
			[]byte("data=a+b%26c&x=1"), "", "rebuilt from postData.params", ""},
		{"identity", "identity", `{"text": "hello"}`, []byte("hello"), "identity", "", ""},
		{"bad base64", "", `{"text": "not base64!", "encoding": "base64"}`, []byte("not base64!"), "", "declared base64 but is not", ""},
		{"unknown encoding", "", `{"text": "hello", "encoding": "quoted-printable"}`, []byte("hello"), "", `unknown text encoding "quoted-printable"`, ""},
		{"text not a string", "", `{"text": 42}`, nil, "", "text is a number, not a string", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := `[{"name": "Content-Type", "value": "application/json"}]`
			if tt.ce != "" {
				headers = `[{"name": "Content-Type", "value": "application/json"}, {"name": "Content-Encoding", "value": "` + tt.ce + `"}]`
			}
			in := harJSON(entryJSON(`{"method": "POST", "url": "https://api.openai.com/v1/chat/completions", "headers": ` + headers + `, "postData": ` + tt.postData + `}`))
			entries, notes, err := Read(strings.NewReader(in), ReadOptions{})
			if err != nil || len(entries) != 1 {
				t.Fatalf("%d entries, notes %q, err %v", len(entries), notes, err)
			}
			f := entries[0].Flow
			if !bytes.Equal(f.RequestBody, tt.body) {
				t.Errorf("body %q, want %q", f.RequestBody, tt.body)
			}
			if f.ContentEncoding != tt.encoding {
				t.Errorf("ContentEncoding %q, want %q", f.ContentEncoding, tt.encoding)
			}
			if tt.note != "" && !hasNote(f, tt.note) {
				t.Errorf("notes %q, want %q", f.Notes, tt.note)
			}
			if tt.note == "" && len(f.Notes) > 0 {
				t.Errorf("unexpected notes %q", f.Notes)
			}
			if tt.mark != "" && !f.HasMark(tt.mark) || tt.mark == "" && len(f.Marks) > 0 {
				t.Errorf("marks %v, want %q", f.Marks, tt.mark)
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + `\n`)
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestReadResponseEncoding(t *testing.T) {
	gz := gzipped(`{"ok":true}`)
	tests := []struct {
		name, content string
		body          []byte
		encoding      string
	}{
		{"decoded", `{"size": 11, "mimeType": "application/json", "text": "{\"ok\":true}"}`, []byte(`{"ok":true}`), ""},
		{"still gzip", `{"size": 31, "mimeType": "application/json", "text": "` + base64.StdEncoding.EncodeToString(gz) + `", "encoding": "base64"}`, gz, "gzip"},
		{"empty", `{"size": 0, "mimeType": "x-unknown"}`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := harJSON(entryJSON(`{"method": "GET", "url": "https://a.example/"}`,
				`"response": {"status": 200, "headers": [{"name": "Content-Encoding", "value": "gzip"}], "content": `+tt.content+`, "bodySize": 31}`))
			entries, _, err := Read(strings.NewReader(in), ReadOptions{})
			if err != nil || len(entries) != 1 {
				t.Fatal(err)
			}
			e := entries[0]
			if !bytes.Equal(e.ResponseBody, tt.body) || e.ResponseEncoding != tt.encoding || e.Flow.ResponseBytes != 31 {
				t.Errorf("body %q encoding %q bytes %d", e.ResponseBody, e.ResponseEncoding, e.Flow.ResponseBytes)
			}
		})
	}
}

func TestReadLimits(t *testing.T) {
	big := strings.Repeat("A", 100)
	in := harJSON(
		entryJSON(`{"method": "POST", "url": "https://a.example/", "postData": {"text": "`+big+`"}}`,
			`"response": {"status": 200, "content": {"text": "`+base64.StdEncoding.EncodeToString([]byte(big))+`", "encoding": "base64"}}`),
		entryJSON(`{"method": "GET", "url": "https://b.example/"}`),
		entryJSON(`{"method": "GET", "url": "https://c.example/"}`),
	)
	entries, notes, err := Read(strings.NewReader(in), ReadOptions{MaxBody: 10, MaxEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || len(notes) != 1 || !strings.Contains(notes[0], "only the first 2 entries were read") {
		t.Fatalf("%d entries, notes %q", len(entries), notes)
	}
	f := entries[0].Flow
	if len(f.RequestBody) != 10 || f.RequestBytes != 100 || !f.HasMark(flow.MarkOversize) || !hasNote(f, "request body of 100 bytes cut to the first 10") {
		t.Errorf("body %d bytes %d marks %v notes %q", len(f.RequestBody), f.RequestBytes, f.Marks, f.Notes)
	}
	if len(entries[0].ResponseBody) != 10 || !hasNote(f, "response content of 100 bytes cut to the first 10") {
		t.Errorf("response body %d, notes %q", len(entries[0].ResponseBody), f.Notes)
	}
}

func TestReadCreatorAfterEntries(t *testing.T) {
	in := `{"log": {"entries": [` + entryJSON(`{"method": "GET", "url": "https://a.example/"}`) + `], "creator": {"name": "Charles Proxy", "version": "5.0"}}}`
	entries, _, err := Read(strings.NewReader(in), ReadOptions{})
	if err != nil || len(entries) != 1 {
		t.Fatal(err)
	}
	if got := entries[0].Flow.Client.Addr; got != "har:Charles-Proxy" {
		t.Errorf("client %q", got)
	}
	entries, _, _ = Read(strings.NewReader(`{"log": {"entries": [`+entryJSON(`{"method": "GET", "url": "https://a.example/"}`)+`]}}`), ReadOptions{})
	if got := entries[0].Flow.Client.Addr; got != "har" {
		t.Errorf("client %q without a creator", got)
	}
}

func TestReadBOM(t *testing.T) {
	in := "\xef\xbb\xbf" + harJSON(entryJSON(`{"method": "GET", "url": "https://a.example/"}`))
	entries, _, err := Read(strings.NewReader(in), ReadOptions{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("%d entries, err %v", len(entries), err)
	}
}

// One entry larger than the line-counting window still reads, and an error after it is still
// located by byte offset.
func TestReadLargeEntry(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	in := harJSON(entryJSON(`{"method": "POST", "url": "https://a.example/", "postData": {"text": "` + big + `"}}`))
	entries, _, err := Read(strings.NewReader(in), ReadOptions{})
	if err != nil || len(entries) != 1 || len(entries[0].Flow.RequestBody) != len(big) {
		t.Fatalf("%d entries, err %v", len(entries), err)
	}
	_, _, err = Read(io.MultiReader(strings.NewReader(in[:len(in)-3]), strings.NewReader("x]}}")), ReadOptions{})
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != int64(len(in)-3) {
		t.Errorf("error %v", err)
	}
}

func hasNote(f *flow.Flow, sub string) bool {
	for _, n := range f.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

func TestUnquoteMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{``, `plain`, `esc \" \\ \/ \b \f \n \r \t`, `\u00e9\u4e2d\ud83d\ude00`, "raw ü 中", `\u0000\u001f`} {
		raw := []byte(`"` + s + `"`)
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		got, total, ok := unquote(raw, 1<<20)
		if !ok || string(got) != want || total != len(want) {
			t.Errorf("unquote(%s) = %q %d %v, want %q", raw, got, total, ok, want)
		}
		if cut, total, _ := unquote(raw, 3); len(cut) > 3 || total != len(want) || !strings.HasPrefix(want, string(cut)) {
			t.Errorf("unquote(%s, 3) = %q %d", raw, cut, total)
		}
	}
	// Where encoding/json loses bytes, unquote keeps them.
	for raw, want := range map[string]string{
		`"\udc8b\udcff"`:  "\x8b\xff",
		`"\ud800x"`:       "\uFFFDx",
		`"\udc00"`:        "\uFFFD",
		"\"\xff\xfe\"":    "\xff\xfe",
		`"\ud83d\udc8b"`:  "\U0001F48B",
		`"a\ud83d\ud83d"`: "a\uFFFD\uFFFD",
	} {
		got, _, ok := unquote([]byte(raw), 100)
		if !ok || string(got) != want {
			t.Errorf("unquote(%s) = %q, want %q", raw, got, want)
		}
	}
	for _, bad := range []string{``, `"`, `abc`, `"\"`, `"\x"`, `"\u12"`, `"\u12G4"`} {
		if _, _, ok := unquote([]byte(bad), 100); ok {
			t.Errorf("unquote(%s) accepted", bad)
		}
	}
}

// Line numbers stay right deep into a file, past the window the reader keeps.
func TestReadLinesPastTheWindow(t *testing.T) {
	var b strings.Builder
	b.WriteString("{\"log\": {\"entries\": [\n")
	const n = 30000 // about 4 MiB
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		if i == n-2 {
			b.WriteString(`{"startedDateTime": "2025-05-14T09:14:03Z", "response": {"status": 200}}`)
			continue
		}
		fmt.Fprintf(&b, `{"startedDateTime": "2025-05-14T09:14:03Z", "request": {"method": "GET", "url": "https://a.example/%08d"}, "response": {"status": 200}}`, i)
	}
	b.WriteString("\n]}}\n")
	entries, notes, err := Read(strings.NewReader(b.String()), ReadOptions{})
	if err != nil || len(entries) != n-1 {
		t.Fatalf("%d entries, err %v", len(entries), err)
	}
	want := fmt.Sprintf("log.entries[%d] (line %d): no request; skipped", n-2, n)
	if len(notes) != 1 || notes[0] != want {
		t.Errorf("notes %q, want %q", notes, want)
	}
}

func BenchmarkRead(b *testing.B) {
	data, err := os.ReadFile("testdata/chrome.har")
	if err != nil {
		b.Fatal(err)
	}
	var doc struct {
		Log struct {
			Entries []json.RawMessage `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		b.Fatal(err)
	}
	var in bytes.Buffer
	in.WriteString(`{"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"}, "entries": [`)
	for i := 0; i < 2000; i++ {
		if i > 0 {
			in.WriteByte(',')
		}
		in.Write(doc.Log.Entries[i%len(doc.Log.Entries)])
	}
	in.WriteString("]}}")
	b.SetBytes(int64(in.Len()))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(in.Bytes()), ReadOptions{})
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
