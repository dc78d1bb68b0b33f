package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
)

// maxScanInput bounds what scan reads: it is a tool for trying detectors by hand.
const maxScanInput = 64 << 20

// loadHasher returns the finding hasher keyed by DIR/finding.key. With create, a missing key is
// created (serve); otherwise a one-off key is used, so that scan and rules test never write into
// a data directory.
func loadHasher(cfg config.Config, create bool) (*detectors.Hasher, error) {
	path := filepath.Join(cfg.Data, detectors.KeyFile)
	if !create {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			key := make([]byte, 32)
			_, _ = rand.Read(key)
			return detectors.NewHasher(key), nil
		}
	}
	key, err := detectors.LoadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	return detectors.NewHasher(key), nil
}

var requestLine = regexp.MustCompile(`^[A-Z]+ \S+ HTTP/\d(\.\d)?\r?\n`)

func cmdScan(args []string, stdout, stderr io.Writer) error {
	c := newCommand("scan", scanHelp, stdout)
	fs := c.fs
	asJSON := fs.Bool("json", false, "print findings as JSON lines")
	fail := fs.Bool("fail", false, "exit 1 when anything is found")
	configPath := fs.String("config", "", "config file (for codenames, vendors and rules)")
	host := fs.String("host", "", "vendor host the text is bound for (api.openai.com), so that policies see that vendor; a raw HTTP request names its own")
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "rule file or directory (repeatable): its detectors and vendors apply, and its policies give the verdict (default: the config's rules, else the embedded pack)")
	data := fs.String("data", "", "data directory whose finding.key keys the hashes (default ./customs-data)")
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(positional) > 1 {
		return usageError{fmt.Errorf("scan takes one FILE (or - for standard input); %s", c.hint())}
	}
	input := ""
	if len(positional) == 1 {
		input = positional[0]
	}
	cfg := config.Default()
	if *configPath != "" {
		if cfg, err = config.Load(*configPath); err != nil {
			return usageError{err}
		}
	}
	if *data != "" {
		cfg.Data = *data
	}
	raw, name, err := readScanInput(input)
	if err != nil {
		return usageError{err}
	}
	pol, hasher, err := loadPolicyAndKey(cfg, rulePaths, stderr)
	if err != nil {
		return err
	}
	f, err := scanFlow(raw)
	if err != nil {
		return usageError{fmt.Errorf("%s: %w", name, err)}
	}
	if *host != "" {
		f.Host = catalog.Normalize(*host)
		if !strings.Contains(f.URL, "://") {
			f.URL = "https://" + f.Host + f.URL
		}
	}
	js, err := loadJewels(cfg)
	if err != nil {
		return err
	}
	inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: hasher, Rules: pol.set, Jewels: js}).Inspect(context.Background(), f)

	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, x := range f.Findings {
			if err := enc.Encode(findingJSON(x)); err != nil {
				return err
			}
		}
		v := f.Verdict
		if err := enc.Encode(map[string]any{"verdict": map[string]any{
			"action": v.Action, "policy": v.Policy, "message": v.Message, "matched": v.Matched}}); err != nil {
			return err
		}
	} else {
		printFindings(stdout, name, f)
	}
	if *fail && len(f.Findings) > 0 {
		return errFindings
	}
	return nil
}

// errFindings is the exit-1 result of --fail: not an error to print.
var errFindings = errors.New("findings")

func readScanInput(input string) ([]byte, string, error) {
	var r io.Reader
	name := input
	switch input {
	case "", "-":
		r, name = os.Stdin, "stdin"
	default:
		f, err := os.Open(input)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxScanInput+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxScanInput {
		return nil, "", fmt.Errorf("%s: larger than %d bytes", name, maxScanInput)
	}
	return b, name, nil
}

// scanFlow turns the input into a flow the pipeline can inspect: a raw HTTP request keeps its
// host, path, headers and body (so the vendor's API shape applies); anything else is a body of
// JSON or text.
func scanFlow(raw []byte) (*flow.Flow, error) {
	f := &flow.Flow{Source: flow.SourceReplay, RequestHeader: http.Header{}}
	if requestLine.Match(raw) {
		head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
		if !ok {
			head, body, ok = bytes.Cut(raw, []byte("\n\n"))
		}
		if !ok {
			head, body = raw, nil
		}
		req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader("\r\n\r\n"))))
		if err != nil {
			return nil, fmt.Errorf("not a valid HTTP request: %w", err)
		}
		// The host as the proxy sees it: lower-case, without port or trailing dot.
		f.Method, f.Host, f.RequestHeader = req.Method, catalog.Normalize(req.Host), req.Header
		f.URL = "https://" + req.Host + req.URL.RequestURI()
		f.ContentEncoding = req.Header.Get("Content-Encoding")
		f.RequestBody = bytes.TrimSuffix(body, []byte("\n"))
		return f, nil
	}
	f.Method, f.URL = "POST", "/"
	ctype := "text/plain"
	if t := bytes.TrimSpace(raw); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		ctype = "application/json"
	}
	f.RequestHeader.Set("Content-Type", ctype)
	f.RequestBody = raw
	return f, nil
}

func findingJSON(x flow.Finding) map[string]any {
	m := map[string]any{
		"detector": x.Detector, "class": x.Class, "severity": x.Severity, "path": x.Path,
		"start": x.Start, "end": x.End, "preview": x.Preview, "hash": x.Hash, "confidence": x.Confidence,
	}
	// What a crown-jewel finding matched: names and numbers.
	for k, v := range map[string]any{"label": x.Label, "ref": x.Ref, "share": x.Share, "segment_share": x.SegmentShare, "rows": x.Rows} {
		if v != "" && v != 0.0 && v != 0 {
			m[k] = v
		}
	}
	if len(x.Columns) > 0 {
		m["columns"] = x.Columns
	}
	return m
}

func printFindings(w io.Writer, name string, f *flow.Flow) {
	api := f.API
	if api == "" {
		api = "none recognised"
	}
	fmt.Fprintf(w, "%s: api %s, %s, %s\n", name, api, plural(len(f.Segments), "segment", ""), plural(len(f.Findings), "finding", ""))
	vendor := f.Vendor.ID
	if vendor == "" {
		vendor = "none (host " + cmp.Or(f.Host, "not given") + ")"
	}
	fmt.Fprintf(w, "vendor: %s\n", vendor)
	fmt.Fprintf(w, "verdict: %s", f.Verdict.Action)
	if f.Verdict.Policy != "" {
		fmt.Fprintf(w, " (policy %s)", f.Verdict.Policy)
	}
	if f.Verdict.Message != "" {
		fmt.Fprintf(w, ": %s", f.Verdict.Message)
	}
	fmt.Fprintln(w)
	for _, n := range f.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(f.Findings) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DETECTOR\tCLASS\tSEVERITY\tPATH\tSPAN\tPREVIEW\tCONFIDENCE")
	for _, x := range f.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d-%d\t%s\t%.2f\n", x.Detector, x.Class, x.Severity, x.Path, x.Start, x.End, x.Preview, x.Confidence)
	}
	_ = tw.Flush()
}
