package pii

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

var proseWords = strings.Fields(`the a to of and in is it you that for on with this be are as can we
have your not from at or by an will if but they do what about would there so all me my our out up
please help review summarise write draft explain update customer order invoice account report meeting
team project release deploy service request response error issue thanks could should need want
function data model prompt table file email phone address number payment support contract budget plan
quarter revenue forecast hiring vendor security policy access user users system database server cloud`)

// promptText builds n bytes of prompt-shaped prose (chat messages, notes, lists, numbers of every
// everyday kind: dates, times, amounts, versions, counts, order numbers) with a few planted values
// every ~16 KiB when hits is set.
func promptText(n int, hits bool) string {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.Grow(n + 256)
	planted := []string{
		"jane.doe@acme-corp.com", "4539 1488 0343 6467", "DE75 5121 0800 1245 1261 99", "+44 7911 123456",
		"SSN 536-90-4399", "10.20.4.17", "db-01.prod.internal", "NI number JG 10 37 29 A", "DNI 98272814R",
		"BSN: 603328222", "n° sécu 2 95 10 99 126 111 93", "RCCMNL83S18D969H", "Passport number: 518203746",
		"CONFIDENTIAL", "(415) 867-2309",
	}
	next := 16 << 10
	pi := 0
	for b.Len() < n {
		words := 6 + r.IntN(18)
		for w := 0; w < words; w++ {
			if w > 0 {
				b.WriteByte(' ')
			}
			switch x := r.IntN(100); {
			case x < 2:
				fmt.Fprintf(&b, "%d-%02d-%02d", 2019+r.IntN(7), 1+r.IntN(12), 1+r.IntN(28))
			case x < 3:
				fmt.Fprintf(&b, "%d:%02d", r.IntN(24), r.IntN(60))
			case x < 4:
				fmt.Fprintf(&b, "$%d,%03d.%02d", 1+r.IntN(99), r.IntN(1000), r.IntN(100))
			case x < 5:
				fmt.Fprintf(&b, "v%d.%d.%d", r.IntN(4), r.IntN(30), r.IntN(20))
			case x < 7:
				fmt.Fprintf(&b, "%d", r.IntN(1000))
			case x < 8:
				fmt.Fprintf(&b, "#%d", 1000000+r.IntN(9000000))
			default:
				w := proseWords[r.IntN(len(proseWords))]
				if w == proseWords[0] && r.IntN(4) == 0 {
					w = "The"
				}
				b.WriteString(w)
			}
		}
		switch r.IntN(8) {
		case 0:
			b.WriteString("?\n")
		case 1:
			b.WriteString(".\n\n")
		case 2:
			b.WriteString(":\n- ")
		default:
			b.WriteString(". ")
		}
		if hits && b.Len() >= next {
			b.WriteString(" see ")
			b.WriteString(planted[pi%len(planted)])
			b.WriteString(" for details. ")
			pi++
			next += 16 << 10
		}
	}
	return b.String()
}

func benchDetector(b *testing.B, d detectors.Detector, text string) {
	e, err := detectors.New([]detectors.Detector{d})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		e.Scan(text, func(detectors.Detector, detectors.Match) {})
	}
}

// BenchmarkScanner: each detector alone through the engine on 1 MiB of prompt-shaped prose.
func BenchmarkScanner(b *testing.B) {
	text := promptText(1<<20, true)
	ds, _ := Detectors()
	for _, d := range ds {
		b.Run(d.Meta().ID, func(b *testing.B) { benchDetector(b, d, text) })
	}
}

// BenchmarkAll: every detector of this package in one engine.
func BenchmarkAll(b *testing.B) {
	text := promptText(1<<20, true)
	ds, _ := Detectors()
	e, err := detectors.New(ds)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		e.Scan(text, func(detectors.Detector, detectors.Match) {})
	}
}

// BenchmarkNextDigit: the skip every keyword-less scanner is built on.
func BenchmarkNextDigit(b *testing.B) {
	text := promptText(1<<20, false)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		for i := nextDigit(text, 0); i < len(text); i = nextDigit(text, runEnd(text, i)) {
		}
	}
}

// BenchmarkSharedRuns: the keyword-less scanners driven by one shared walk over the digit runs
// (FindRun), as an engine could do, against each doing its own pass (BenchmarkKeywordless).
func BenchmarkSharedRuns(b *testing.B) {
	text := promptText(1<<20, true)
	ds, _ := Detectors()
	var rs []*runScanner
	for _, d := range ds {
		if r, ok := d.(*runScanner); ok {
			rs = append(rs, r)
		}
	}
	next := make([]int, len(rs))
	emit := func(detectors.Match) {}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		clear(next)
		for i := nextDigit(text, 0); i < len(text); {
			j := runEnd(text, i)
			for k, r := range rs {
				if next[k] <= i {
					next[k] = r.FindRun(text, i, j, emit)
				}
			}
			i = nextDigit(text, j)
		}
	}
}

func BenchmarkKeywordless(b *testing.B) {
	text := promptText(1<<20, true)
	ds, _ := Detectors()
	emit := func(detectors.Match) {}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		for _, d := range ds {
			if len(d.Meta().Keywords) == 0 {
				d.Find(text, nil, emit)
			}
		}
	}
}

// BenchmarkFind: each detector's own cost, Find alone, with the keyword hits computed beforehand
// (the engine's automaton pass is measured by the engine's benchmarks).
func BenchmarkFind(b *testing.B) {
	text := promptText(1<<20, true)
	ds, _ := Detectors()
	emit := func(detectors.Match) {}
	for _, d := range ds {
		hits := keywordHits(text, d.Meta().Keywords)
		b.Run(d.Meta().ID, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				d.Find(text, hits, emit)
			}
		})
	}
}
