package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/config"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/rules"
)

func cmdRules(args []string, stdout, stderr io.Writer) error {
	return subcommands("rules", rulesHelp, args, stdout, map[string]func([]string) error{
		"lint":    func(args []string) error { return rulesCmd("lint", rulesLintHelp, args, stdout, stderr) },
		"test":    func(args []string) error { return rulesCmd("test", rulesTestHelp, args, stdout, stderr) },
		"default": func(args []string) error { return rulesCmd("default", rulesDefaultHelp, args, stdout, stderr) },
		// The fleet's rule book (fleetcmd.go).
		"publish":  func(args []string) error { return rulesPublish(args, stdout, stderr) },
		"status":   func(args []string) error { return rulesStatus(args, stdout, stderr) },
		"rollback": func(args []string) error { return rulesRollback(args, stdout, stderr) },
	})
}

func rulesCmd(sub string, h help, args []string, stdout, stderr io.Writer) error {
	c := newCommand("rules "+sub, h, stdout)
	if sub == "default" {
		if err := c.noArgs(args); err != nil {
			return err
		}
		_, err := stdout.Write(rules.DefaultSource())
		return err
	}
	configPath := c.fs.String("config", "", "config file (for codenames, vendors and its rules)")
	verbose := new(bool)
	if sub == "test" {
		verbose = c.fs.Bool("v", false, "list every test and example, not only failures")
	}
	paths, err := c.parse(args)
	if err != nil {
		return err
	}
	cfg := config.Default()
	if *configPath != "" {
		if cfg, err = config.Load(*configPath); err != nil {
			return usageError{err}
		}
	}
	if len(paths) == 0 {
		paths = cfg.Rules
	}
	if sub == "lint" {
		pol, err := loadPolicy(cfg, paths)
		if err != nil {
			printRuleErrors(stderr, err)
			return ruleErrors{err}
		}
		fmt.Fprintf(stdout, "ok: %s: %s, %s, %s, %s\n", describeFiles(pol.set, paths),
			plural(len(pol.set.Policies), "policy", "policies"), plural(len(pol.set.Detectors), "detector", ""),
			plural(len(pol.set.Vendors), "vendor", ""), plural(len(pol.set.Tests), "test", ""))
		return nil
	}
	pol, hasher, err := loadPolicyAndKey(cfg, paths, stderr)
	if err != nil {
		return err
	}
	if failed := runRuleTests(stdout, pol, hasher, *verbose); failed > 0 {
		return errFindings
	}
	return nil
}

// ruleErrors are rule-file errors already printed with their carets: exit 2, nothing more to say.
type ruleErrors struct{ err error }

func (e ruleErrors) Error() string { return e.err.Error() }

func describeFiles(set *rules.Set, paths []string) string {
	if len(paths) == 0 {
		return "embedded " + rules.DefaultFile
	}
	if len(set.Files) == 1 {
		return set.Files[0]
	}
	return fmt.Sprintf("%d files", len(set.Files))
}

// printRuleErrors prints each error with its source line and a caret under the column.
func printRuleErrors(w io.Writer, err error) {
	var es rules.Errors
	if !errors.As(err, &es) {
		fmt.Fprintln(w, err)
		return
	}
	sources := map[string][]byte{}
	for _, e := range es {
		src, ok := sources[e.File]
		if !ok {
			src, _ = os.ReadFile(e.File)
			sources[e.File] = src
		}
		fmt.Fprintln(w, e.Caret(src))
	}
	if len(es) == 1 {
		fmt.Fprintln(w, "1 error")
		return
	}
	fmt.Fprintf(w, "%d errors\n", len(es))
}

// testResult is one line of the test report.
type testResult struct {
	kind, name, where string
	fail              []string
}

// runRuleTests runs every detector example of the rule files' detectors and every test, prints
// the report, and returns how many failed.
func runRuleTests(w io.Writer, pol *policy, hasher *detectors.Hasher, verbose bool) int {
	var results []testResult
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range pol.custom {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		results = append(results, exampleResults(id, pol.custom[id])...)
	}
	pipeline := inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: hasher, Rules: pol.set})
	for _, t := range pol.set.Tests {
		results = append(results, runRuleTest(pipeline, t))
	}

	failed := 0
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := false
	for _, r := range results {
		status := "pass"
		if len(r.fail) > 0 {
			status = "FAIL"
			failed++
		}
		if status == "pass" && !verbose {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "RESULT\tKIND\tNAME\tWHERE")
			header = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", status, r.kind, r.name, r.where)
		for _, d := range r.fail {
			fmt.Fprintf(tw, "\t\t  %s\t\n", d)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed (%s, %s)\n", len(results)-failed, failed,
		plural(len(pol.set.Tests), "test", ""), plural(len(results)-len(pol.set.Tests), "detector example", ""))
	return failed
}

// exampleResults checks a rule-file detector's examples with that detector alone: each match
// example must be found whole, no no-match example may produce a finding.
func exampleResults(id string, cd customDetector) []testResult {
	var out []testResult
	e, err := detectors.New([]detectors.Detector{cd.det})
	if err != nil {
		return []testResult{{kind: "detector", name: id, where: cd.spec.Pos.String(), fail: []string{err.Error()}}}
	}
	for _, ex := range cd.spec.Examples.Match {
		r := testResult{kind: "match", name: id + ": " + quoteShort(ex.Text, 40), where: ex.Pos.String()}
		n := 0
		e.Scan(ex.Text, func(detectors.Detector, detectors.Match) { n++ })
		if n == 0 {
			r.fail = append(r.fail, "expected a match, found none")
		}
		out = append(out, r)
	}
	for _, ex := range cd.spec.Examples.NoMatch {
		r := testResult{kind: "no_match", name: id + ": " + quoteShort(ex.Text, 40), where: ex.Pos.String()}
		var got []string
		e.Scan(ex.Text, func(_ detectors.Detector, m detectors.Match) { got = append(got, fmt.Sprintf("%d-%d", m.Start, m.End)) })
		if len(got) > 0 {
			r.fail = append(r.fail, "expected no match, found one at "+strings.Join(got, ", "))
		}
		out = append(out, r)
	}
	return out
}

// quoteShort quotes s on one line, cut to n runes (the last three "...") when longer; a cut never
// splits a character.
func quoteShort(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		k := 0
		for i := range s {
			if k == n-3 {
				s = s[:i] + "..."
				break
			}
			k++
		}
	}
	return strconv.Quote(s)
}

// runRuleTest inspects the test's request with the loaded rules and compares the outcome.
func runRuleTest(p *inspect.Pipeline, t rules.TestSpec) testResult {
	r := testResult{kind: "test", name: t.Name, where: t.Pos.String()}
	f, err := testFlow(t)
	if err != nil {
		r.fail = append(r.fail, err.Error())
		return r
	}
	v := p.Inspect(context.Background(), f)
	want := t.Expect
	if want.Action != "" && v.Action != want.Action {
		r.fail = append(r.fail, fmt.Sprintf("action: want %s, got %s%s", want.Action, v.Action, decidedBy(v)))
	}
	if want.Policy != "" && v.Policy != want.Policy {
		r.fail = append(r.fail, fmt.Sprintf("policy: want %s, got %s", want.Policy, cmp.Or(v.Policy, "none")))
	}
	found := map[string]bool{}
	for _, x := range f.Findings {
		found[x.Detector] = true
	}
	for _, d := range want.Detectors {
		if !hasDetector(found, d) {
			r.fail = append(r.fail, fmt.Sprintf("detectors: want a finding of %s; found %s", d, foundList(found)))
		}
	}
	for _, d := range want.NoDetectors {
		if hasDetector(found, d) {
			r.fail = append(r.fail, fmt.Sprintf("no_detectors: %s found something", d))
		}
	}
	return r
}

func decidedBy(v flow.Verdict) string {
	if v.Policy == "" {
		return " (no policy matched)"
	}
	return " (policy " + v.Policy + ")"
}

// hasDetector matches an expected detector by full ID or by the ID without its namespace
// (aws-access-key-id for secret.aws-access-key-id), as rule files may write either.
func hasDetector(found map[string]bool, want string) bool {
	if found[want] {
		return true
	}
	for id := range found {
		if _, short, ok := strings.Cut(id, "."); ok && short == want {
			return true
		}
	}
	return false
}

func foundList(found map[string]bool) string {
	if len(found) == 0 {
		return "nothing"
	}
	ids := make([]string, 0, len(found))
	for id := range found {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return strings.Join(ids, ", ")
}

// testFlow builds the flow a rule test describes: a raw HTTP request file, or an inline body
// with its host, method, path and headers.
func testFlow(t rules.TestSpec) (*flow.Flow, error) {
	var f *flow.Flow
	if t.Request != "" {
		raw, err := os.ReadFile(t.Request)
		if err != nil {
			return nil, err
		}
		if f, err = scanFlow(raw); err != nil {
			return nil, fmt.Errorf("%s: %w", t.Request, err)
		}
		if f.Host == "" {
			return nil, fmt.Errorf("%s: not a raw HTTP request with a Host", t.Request)
		}
	} else {
		f = &flow.Flow{RequestHeader: http.Header{}, RequestBody: []byte(t.Body), Method: "POST"}
		f.Host = catalog.Normalize(t.Host)
		f.URL = "https://" + f.Host + cmp.Or(t.Path, "/")
		if t.ContentType != "" {
			f.RequestHeader.Set("Content-Type", t.ContentType)
		} else if b := strings.TrimSpace(t.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
			f.RequestHeader.Set("Content-Type", "application/json")
		} else {
			f.RequestHeader.Set("Content-Type", "text/plain")
		}
	}
	if t.Host != "" && t.Request != "" {
		f.Host = catalog.Normalize(t.Host)
	}
	if t.Method != "" {
		f.Method = t.Method
	}
	if t.Path != "" && t.Request != "" {
		f.URL = "https://" + f.Host + t.Path
	}
	for k, v := range t.Headers {
		f.RequestHeader.Set(k, v)
	}
	f.Source, f.Mode = flow.SourceReplay, flow.Intercepted
	f.Client = flow.Client{Addr: cmp.Or(t.Client, "127.0.0.1:50000"), User: t.User}
	f.ContentEncoding = f.RequestHeader.Get("Content-Encoding")
	return f, nil
}
