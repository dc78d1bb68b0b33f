package pii

import (
	"bytes"
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// TestRealCode measures false alarms on real source code: every personal-data finding in a code
// tree is (almost always) a false one. It scans $(go env GOROOT)/src, or CUSTOMS_CODE_DIR (an
// unpacked npm package, a repository), and prints findings per detector per 10 MB, inside and
// outside directories named testdata, with the top places (values masked). It fails when more
// than maxPer10MB findings per 10 MB are outside testdata. Opt-in: it reads hundreds of MB.
func TestRealCode(t *testing.T) {
	if os.Getenv("CUSTOMS_GOROOT_SCAN") == "" && os.Getenv("CUSTOMS_CODE_DIR") == "" {
		t.Skip("set CUSTOMS_GOROOT_SCAN=1 (GOROOT/src) or CUSTOMS_CODE_DIR=path")
	}
	root := os.Getenv("CUSTOMS_CODE_DIR")
	if root == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			t.Fatal(err)
		}
		root = filepath.Join(strings.TrimSpace(string(out)), "src")
	}
	ds, err := Detectors()
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	type place struct{ id, where, masked string }
	var bytesIn, bytesOut int64
	countIn, countOut := map[string]int{}, map[string]int{}
	var out []place
	err = filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return nil
		}
		info, err := de.Info()
		if err != nil || info.Size() > 4<<20 {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil || bytes.IndexByte(b[:min(len(b), 8<<10)], 0) >= 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		inTestdata := slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), "testdata")
		if inTestdata {
			bytesIn += int64(len(b))
		} else {
			bytesOut += int64(len(b))
		}
		text := string(b)
		e.Scan(text, func(d detectors.Detector, m detectors.Match) {
			id := d.Meta().ID
			if inTestdata {
				countIn[id]++
				return
			}
			countOut[id]++
			line := 1 + strings.Count(text[:m.Start], "\n")
			out = append(out, place{id, fmt.Sprintf("%s:%d", rel, line), mask(text, m.Start, m.End)})
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	per10 := func(n int, size int64) float64 { return float64(n) / (float64(max(size, 1)) / 10e6) }
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.Meta().ID)
	}
	totalIn, totalOut := 0, 0
	t.Logf("%s: %.1f MB outside testdata, %.1f MB inside", root, float64(bytesOut)/1e6, float64(bytesIn)/1e6)
	t.Logf("%-28s %8s %10s %8s %10s", "detector", "outside", "per 10MB", "inside", "per 10MB")
	for _, id := range ids {
		totalIn += countIn[id]
		totalOut += countOut[id]
		if countIn[id]+countOut[id] == 0 {
			continue
		}
		t.Logf("%-28s %8d %10.2f %8d %10.2f", id, countOut[id], per10(countOut[id], bytesOut), countIn[id], per10(countIn[id], bytesIn))
	}
	t.Logf("%-28s %8d %10.2f %8d %10.2f", "all", totalOut, per10(totalOut, bytesOut), totalIn, per10(totalIn, bytesIn))
	slices.SortStableFunc(out, func(a, b place) int { return cmp.Compare(a.id, b.id) })
	shown := map[string]int{}
	top := 25
	if os.Getenv("CUSTOMS_SCAN_ALL") != "" {
		top = len(out)
	}
	for _, p := range out {
		if shown[p.id]++; shown[p.id] <= top {
			t.Logf("  %-26s %s  %s", p.id, p.where, p.masked)
		}
	}
	if limit := 10.0; per10(totalOut, bytesOut) > limit && os.Getenv("CUSTOMS_CODE_DIR") == "" {
		t.Errorf("%.2f findings per 10 MB outside testdata, want at most %v", per10(totalOut, bytesOut), limit)
	}
}

// mask shows a finding with a little of its context and the middle of the value hidden: enough
// to see why it matched, never the whole value.
func mask(text string, s, e int) string {
	v := []byte(text[s:e])
	keep := max(1, len(v)/4)
	for k := keep; k < len(v)-keep; k++ {
		if isAlnum(v[k]) {
			v[k] = '*'
		}
	}
	lo, hi := max(0, s-24), min(len(text), e+16)
	q := func(x string) string { return strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(x) }
	return fmt.Sprintf("%s[%s]%s", q(text[lo:s]), q(string(v)), q(text[e:hi]))
}
