package pii

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestPhrasings runs every detector over testdata/phrasings.txt, one line at a time, and
// compares what they report with testdata/phrasings.golden (go test -run TestPhrasings -update
// rewrites it; review the diff).
func TestPhrasings(t *testing.T) {
	in, err := os.ReadFile("testdata/phrasings.txt")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Detectors()
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(in)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "# ") {
			continue
		}
		fmt.Fprintf(&b, "%s\n", line)
		n := 0
		e.Scan(line, func(d detectors.Detector, m detectors.Match) {
			fmt.Fprintf(&b, "\t%s %q %.2f\n", d.Meta().ID, line[m.Start:m.End], m.Confidence)
			n++
		})
		if n == 0 {
			b.WriteString("\tnone\n")
		}
	}
	got := b.String()
	const golden = "testdata/phrasings.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("findings differ from %s (run with -update and review the diff):\n%s", golden, got)
	}
}
