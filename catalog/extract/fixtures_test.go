package extract_test

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/catalog/extract"
	"github.com/customs-dev/customs/inspect/decode"
	"github.com/customs-dev/customs/internal/golden"
)

// fixtureRoot holds one raw HTTP request per vendor API, as an SDK sends it
// (testdata/requests/<vendor>/<api>.http), with the expected extraction next to it (<api>.golden).
const fixtureRoot = "../../testdata/requests"

// loadFixture parses a .http file: a request line, headers, a blank line, then the body as it
// stands (a single trailing newline, which editors add, is dropped). Content-Length is ignored so
// fixtures stay editable by hand. A Content-Encoding body is decoded as the pipeline would.
func loadFixture(t testing.TB, file string) (*extract.Request, *catalog.Vendor) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		head, body, ok = bytes.Cut(raw, []byte("\n\n"))
	}
	if !ok {
		t.Fatalf("%s: no blank line after the headers", file)
	}
	body = bytes.TrimSuffix(body, []byte("\n"))
	// A full slice expression: appending to head must not write over the body that follows it.
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(append(head[:len(head):len(head)], "\r\n\r\n"...))))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if ce := req.Header.Get("Content-Encoding"); ce != "" {
		if body, err = decode.Body(ce, body, 64<<20); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	v, _ := cat.Lookup(req.Host)
	r := &extract.Request{
		Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
		Header: req.Header, ContentType: req.Header.Get("Content-Type"), Body: body,
	}
	if v != nil {
		r.Vendor = v.ID
	}
	return r, v
}

// render is the golden form of a result: the API, then one line per segment and note.
func render(res extract.Result) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "api: %s\n", res.API)
	if res.Model != "" {
		fmt.Fprintf(&b, "model: %q (%s)\n", res.Model, res.ModelPath)
	}
	if len(res.Params) > 0 {
		keys := slices.Sorted(maps.Keys(res.Params))
		for i, k := range keys {
			keys[i] = k + "=" + res.Params[k]
		}
		fmt.Fprintf(&b, "params: %s\n", strings.Join(keys, " "))
	}
	if res.ServedModel != "" {
		fmt.Fprintf(&b, "served model: %q\n", res.ServedModel)
	}
	for _, s := range res.Segments {
		if s.Media != "" {
			fmt.Fprintf(&b, "media %s: %s, %d bytes\n", s.Path, s.Media, s.Size)
			continue
		}
		kind := "text"
		if s.Container {
			kind = "document" // a JSON document inside a text; its leaves follow
		}
		fmt.Fprintf(&b, "%s %s: %q\n", kind, s.Path, s.Text)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if len(res.Limited) > 0 {
		fmt.Fprintf(&b, "limited: %s\n", strings.Join(res.Limited, " "))
	}
	return b.Bytes()
}

func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "*", "*.http"))
	if len(files) == 0 {
		t.Fatalf("no fixtures under %s", fixtureRoot)
	}
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(file, fixtureRoot+"/"), ".http")
		t.Run(name, func(t *testing.T) {
			r, v := loadFixture(t, file)
			vendorDir := filepath.Base(filepath.Dir(file))
			if v == nil || v.ID != vendorDir {
				t.Fatalf("host of %s is vendor %v, want %s (the fixture's directory)", file, v, vendorDir)
			}
			res := extract.Extract(r, extract.Limits{})
			golden.Check(t, strings.TrimSuffix(file, ".http")+".golden", render(res))
		})
	}
}

// fixturesLimited are the fixtures built to hit a limit, and the limits they hit. Every other
// fixture is a request an SDK sends every day, and its extraction must be complete: the caller
// refuses a request whose extraction a limit cut.
var fixturesLimited = map[string][]string{
	"openai/chat-deep": {extract.LimitJSONDepth}, // a 100k-deep nesting bomb
}

func TestFixturesNotLimited(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "*", "*.http"))
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(file, fixtureRoot+"/"), ".http")
		r, _ := loadFixture(t, file)
		if res := extract.Extract(r, extract.Limits{}); !slices.Equal(res.Limited, fixturesLimited[name]) {
			t.Errorf("%s: limited %q, want %q (notes %q)", name, res.Limited, fixturesLimited[name], res.Notes)
		}
	}
}
