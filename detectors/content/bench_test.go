package content

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
quarter revenue forecast hiring vendor security policy access user users system database server cloud
confidential internal restricted secret privileged distribution`)

const goSnippet = "func (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\tuser, err := s.db.Lookup(r.Context(), r.URL.Query().Get(\"id\"))\n\tif err != nil {\n\t\thttp.Error(w, err.Error(), 500)\n\t\treturn\n\t}\n\tjson.NewEncoder(w).Encode(user)\n}\n"

// promptText builds n bytes of prompt-shaped prose: sentences, short lines, lists, numbers, and
// (with hits) a marker and a code block every ~32 KiB.
func promptText(n int, hits bool) string {
	r := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.Grow(n + 1024)
	next := 32 << 10
	for b.Len() < n {
		words := 4 + r.IntN(22)
		for w := 0; w < words; w++ {
			if w > 0 {
				b.WriteByte(' ')
			}
			if r.IntN(20) == 0 {
				fmt.Fprintf(&b, "%d", r.IntN(2030))
				continue
			}
			b.WriteString(proseWords[r.IntN(len(proseWords))])
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
			b.WriteString("\n\nCONFIDENTIAL\n\nhere is the handler:\n\n")
			b.WriteString(goSnippet)
			b.WriteString("\nwhat is wrong with it? ")
			next += 32 << 10
		}
	}
	return b.String()
}

func BenchmarkDetectors(b *testing.B) {
	text := promptText(1<<20, true)
	ds, err := Detectors([]string{"NIGHTJAR", "Kestrel"})
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range ds {
		b.Run(d.Meta().ID, func(b *testing.B) {
			e, err := detectors.New([]detectors.Detector{d})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				e.Scan(text, func(detectors.Detector, detectors.Match) {})
			}
		})
	}
	b.Run("all", func(b *testing.B) {
		e, err := detectors.New(ds)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			e.Scan(text, func(detectors.Detector, detectors.Match) {})
		}
	})
}

// BenchmarkScanCode: the code scanner alone (no engine), on prose and on code.
func BenchmarkScanCode(b *testing.B) {
	for _, c := range []struct {
		name, text string
	}{
		{"prose", promptText(1<<20, true)},
		{"code", strings.Repeat(goSnippet, (1<<20)/len(goSnippet))},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				scanCode(c.text, func(int, int, float64) {})
			}
		})
	}
}

// BenchmarkFind: each detector's own cost, Find alone, with the keyword hits computed beforehand.
func BenchmarkFind(b *testing.B) {
	text := promptText(1<<20, true)
	ds, err := Detectors([]string{"NIGHTJAR", "Kestrel"})
	if err != nil {
		b.Fatal(err)
	}
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
