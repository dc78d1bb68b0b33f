package jewels

import (
	"os"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/fingerprint"
	"github.com/customs-dev/customs/flow"
)

// A file cut into pieces, one per message, is still the file: each piece's finding carries the
// share of the file the whole request holds, so a policy on share cannot be dodged by splitting.
func TestSplitFileShare(t *testing.T) {
	src, err := os.ReadFile("../../cmd/customs/testdata/jewels/repo/billing/refund.go")
	if err != nil {
		t.Fatal(err)
	}
	b := fingerprint.NewBuilder(testKey, fingerprint.Options{})
	if err := b.AddFile("billing", fingerprint.Code, "refund.go", string(src)); err != nil {
		t.Fatal(err)
	}
	set := &Set{prints: fingerprint.NewSet(b.Build())}
	h := detectors.NewHasher(testKey)

	lines := strings.Split(string(src), "\n")
	var segs []flow.Segment
	for i := 0; i < len(lines); i += len(lines)/4 + 1 {
		segs = append(segs, flow.Segment{Path: "messages[" + string(rune('0'+len(segs))) + "].content",
			Text: "part of it:\n" + strings.Join(lines[i:min(i+len(lines)/4+1, len(lines))], "\n")})
	}
	whole := set.Find([]flow.Segment{{Path: "all", Text: string(src)}}, h)
	pieces := set.Find(segs, h)
	if len(whole) != 1 || len(pieces) < 2 {
		t.Fatalf("whole %d findings, pieces %d", len(whole), len(pieces))
	}
	alone := 0.0
	for _, s := range segs {
		for _, f := range set.Find([]flow.Segment{s}, h) {
			alone = max(alone, f.Share)
		}
	}
	for _, f := range pieces {
		if f.Share <= alone || f.Share > whole[0].Share+1e-9 {
			t.Errorf("%s: share %.3f; the largest piece alone %.3f, the whole file %.3f", f.Path, f.Share, alone, whole[0].Share)
		}
	}
}

// A JSON document inside a text is a segment (a container) and so are its leaves: the file in
// a leaf is found once, at the leaf, whatever the document around it repeats.
func TestContainerCountedOnce(t *testing.T) {
	src, err := os.ReadFile("../../cmd/customs/testdata/jewels/repo/billing/refund.go")
	if err != nil {
		t.Fatal(err)
	}
	b := fingerprint.NewBuilder(testKey, fingerprint.Options{})
	if err := b.AddFile("billing", fingerprint.Code, "refund.go", string(src)); err != nil {
		t.Fatal(err)
	}
	set := &Set{prints: fingerprint.NewSet(b.Build())}
	h := detectors.NewHasher(testKey)
	leaf := flow.Segment{Path: "arguments/json/code", Text: string(src)}
	for _, tc := range []struct {
		name string
		segs []flow.Segment
		want int
	}{
		{"leaf alone", []flow.Segment{leaf}, 1},
		{"document and leaf", []flow.Segment{{Path: "arguments", Text: string(src), Container: true}, leaf}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := set.Find(tc.segs, h)
			if len(got) != tc.want || got[0].Path != leaf.Path {
				t.Fatalf("%d findings %+v, want %d at %s", len(got), got, tc.want, leaf.Path)
			}
		})
	}
}
