// Command eval scores customs' built-in detectors on the external fixtures of
// testdata/external, next to gitleaks when it is installed, and counts the false positives
// they raise on real source code (the Go tree). `make eval` runs it and commits the result.
//
//	go run ./internal/eval/cmd/eval [--misses] [--provider NAME] [--gitleaks PATH] [--json FILE]
//	                                [--code DIR] [--no-goroot] [--fp-detail]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/customs-dev/customs/internal/eval"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("fixtures", "testdata/external", "directory of the fixture files (*.jsonl)")
	gitleaks := flag.String("gitleaks", "", "gitleaks binary (default: gitleaks on PATH, else bin/gitleaks)")
	noGitleaks := flag.Bool("no-gitleaks", false, "score customs alone")
	misses := flag.Bool("misses", false, "list customs' misses and false positives, masked")
	provider := flag.String("provider", "", "restrict to one provider or PII detector ID")
	jsonOut := flag.String("json", "", "write the whole result as JSON to this file")
	var code stringList
	flag.Var(&code, "code", "another directory of real code to count false positives in (repeatable)")
	noGoroot := flag.Bool("no-goroot", false, "do not scan $(go env GOROOT)/src")
	fpDetail := flag.Bool("fp-detail", false, "list the detectors and examples of the code scan's findings")
	reviewPath := flag.String("review", "testdata/external/goroot-reviewed.tsv", "findings in code judged real published key material")
	flag.Parse()

	fixtures, err := eval.ReadDir(*dir)
	if err != nil {
		return err
	}
	if *provider != "" {
		var keep []eval.Fixture
		for _, f := range fixtures {
			if f.Provider == *provider || f.Detector == *provider {
				keep = append(keep, f)
			}
		}
		fixtures = keep
	}
	c, err := eval.NewCustoms()
	if err != nil {
		return err
	}
	bin := ""
	if !*noGitleaks {
		bin = findGitleaks(*gitleaks)
	}
	res := &eval.Result{Date: time.Now().UTC().Format("2006-01-02"), GoVersion: runtime.Version()}
	if bin != "" {
		res.GitleaksVersion = eval.GitleaksVersion(bin)
		if res.GitleaksVersion == "" {
			res.GitleaksVersion = "unknown"
		}
	}
	outcomes, err := eval.Evaluate(fixtures, c, bin)
	if err != nil {
		return err
	}
	res.Summarise(outcomes)
	roots := append([]string(nil), code...)
	if !*noGoroot {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return fmt.Errorf("go env GOROOT: %w", err)
		}
		roots = append([]string{filepath.Join(strings.TrimSpace(string(out)), "src")}, roots...)
	}
	if len(roots) > 0 {
		review, err := eval.ReadReview(*reviewPath)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if res.Code, err = eval.ScanCode(c.Engine(), roots, review); err != nil {
			return err
		}
		res.Code.Roots = displayRoots(res.Code.Roots)
	}
	res.Print(os.Stdout)
	if *fpDetail && res.Code != nil {
		res.Code.PrintDetail(os.Stdout)
	}
	if *misses {
		eval.PrintMisses(os.Stdout, outcomes)
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func findGitleaks(flagged string) string {
	if flagged != "" {
		return flagged
	}
	if p, err := exec.LookPath("gitleaks"); err == nil {
		return p
	}
	for _, p := range []string{"bin/gitleaks"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// displayRoots names GOROOT as such, so that results.json does not depend on the machine.
func displayRoots(roots []string) []string {
	out, _ := exec.Command("go", "env", "GOROOT").Output()
	goroot := strings.TrimSpace(string(out))
	var names []string
	for _, r := range roots {
		if rel, err := filepath.Rel(goroot, r); err == nil && goroot != "" && !strings.HasPrefix(rel, "..") {
			r = filepath.ToSlash(filepath.Join("$GOROOT", rel))
		}
		names = append(names, r)
	}
	return names
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
