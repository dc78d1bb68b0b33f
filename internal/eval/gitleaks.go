package eval

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GitleaksFinding is the part of a gitleaks JSON report entry the scorer reads.
type GitleaksFinding struct {
	RuleID    string `json:"RuleID"`
	Secret    string `json:"Secret"`
	File      string `json:"File"`
	StartLine int    `json:"StartLine"`
}

// GitleaksVersion asks the binary its version ("" if it does not answer).
func GitleaksVersion(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(out))
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		return v
	}
	// A binary built by go install prints "version is set by build process"; its build
	// information still names the module version.
	if info, err := buildinfo.ReadFile(bin); err == nil && info.Main.Version != "" {
		return info.Main.Version
	}
	return v
}

// RunGitleaks writes each document as its own file in a temporary directory, runs
// `gitleaks dir` once over it and returns the findings by document name.
func RunGitleaks(bin string, docs map[string][]byte) (map[string][]GitleaksFinding, error) {
	dir, err := os.MkdirTemp("", "customs-eval-docs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		return nil, err
	}
	for name, b := range docs {
		if err := os.WriteFile(filepath.Join(in, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	report := filepath.Join(dir, "report.json")
	cmd := exec.Command(bin, "dir", in, "--no-banner", "--exit-code", "0", "--log-level", "error",
		"--report-format", "json", "--report-path", report)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gitleaks: %v: %s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		return nil, err
	}
	return ParseGitleaksReport(b)
}

// ParseGitleaksReport reads a gitleaks JSON report and groups its findings by base file name.
func ParseGitleaksReport(b []byte) (map[string][]GitleaksFinding, error) {
	var fs []GitleaksFinding
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, fmt.Errorf("gitleaks report: %w", err)
	}
	out := map[string][]GitleaksFinding{}
	for _, f := range fs {
		name := filepath.Base(filepath.FromSlash(f.File))
		out[name] = append(out[name], f)
	}
	return out, nil
}

// GitleaksFound reports whether gitleaks findings on doc (fixture f sent in a wrapping) find
// f's value, by the rule customs is held to: a finding whose secret overlaps a wanted value when
// the fixture says which (in a chat body, as JSON escapes it), any finding otherwise.
func GitleaksFound(f *Fixture, doc string, fs []GitleaksFinding) bool {
	if len(fs) == 0 {
		return false
	}
	if len(f.Want) == 0 {
		return true
	}
	for _, g := range fs {
		if g.Secret == "" {
			continue
		}
		for _, w := range f.Want {
			if strings.Contains(g.Secret, w) || strings.Contains(w, g.Secret) {
				return true
			}
			for _, form := range []string{w, jsonEscape(w)} {
				for off := 0; off < len(doc); {
					i := strings.Index(doc[off:], g.Secret)
					if i < 0 {
						break
					}
					i += off
					if Overlaps(doc, i, i+len(g.Secret), form) {
						return true
					}
					off = i + 1
				}
			}
		}
	}
	return false
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
