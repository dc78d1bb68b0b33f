// Package eval measures customs' detectors on data written by others: the test tables of public
// secret scanners (gitleaks, trufflehog) and public example values of personal data, each put in
// a prompt the way people send them, next to gitleaks when it is installed; and the false alarms
// the detectors raise on real source code (the Go tree). testdata/external holds the fixtures and
// the committed baseline; cmd/extract regenerates the fixtures, cmd/eval prints the tables.
//
// Fixtures are judged, not trusted: a true positive whose value fails its own format's checksum
// (a GitHub token with a wrong CRC32) is counted apart, because customs stays silent on it by
// design, and it is left out of recall for every tool alike.
package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The secret fixtures' sources.
const (
	SourceGitleaks   = "gitleaks"
	SourceTrufflehog = "trufflehog"
)

// Fixture is one sample: a text a public project says holds a secret (kind tp) or holds none
// (kind fp), or a personal-data value of ours put into a sentence.
type Fixture struct {
	Source   string   `json:"source"`             // gitleaks, trufflehog, libphonenumber-js, ...
	Provider string   `json:"provider"`           // normalised vendor (slack, aws) or PII type (phone)
	Rule     string   `json:"rule"`               // the source's rule ID or test name
	Kind     string   `json:"kind"`               // tp or fp
	Text     string   `json:"text"`               // the whole sample
	Want     []string `json:"want,omitempty"`     // the sensitive values, when the source says which
	Detector string   `json:"detector,omitempty"` // PII: the customs detector ID expected
	Origin   string   `json:"origin"`             // file:line in the source
}

// Kinds of fixture.
const (
	TP = "tp"
	FP = "fp"
)

// PII reports whether the fixture is about personal data (it names a detector to expect).
func (f *Fixture) PII() bool { return f.Detector != "" }

// ReadFile reads one JSON-lines fixture file.
func ReadFile(path string) ([]Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Fixture
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var f Fixture
		if err := json.Unmarshal(line, &f); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, f)
	}
	return out, sc.Err()
}

// ReadDir reads every *.jsonl file under dir, in name order.
func ReadDir(dir string) ([]Fixture, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".jsonl") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var all []Fixture
	for _, f := range files {
		fs, err := ReadFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
	}
	return all, nil
}

// WriteFile writes fixtures as JSON lines, HTML characters unescaped so the file reads as text.
func WriteFile(path string, fs []Fixture) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range fs {
		if err := enc.Encode(&fs[i]); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
